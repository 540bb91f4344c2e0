/* forms_internal.h - what forms.c (the payload mappers) uses of LinkedIn's form definitions
 * (forms_linkedin.c). Not public. */
#ifndef HO_FORMS_INTERNAL_H
#define HO_FORMS_INTERNAL_H

#include <jansson.h>

#include "handoff/forms.h"

/* An id as a number: a JSON integer, or a string of digits; -1 for anything else. */
long long ho_forms_num(const json_t *v);
/* The form for "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:ID,VERSION)": the exact
 * version, else the same form id (another version of its questions is better than none);
 * NULL when forms is NULL or holds neither. *id_p and *ver_p: what the urn says (-1: not
 * there). */
const json_t *ho_li_form_find(const ho_linkedin_forms_t *forms, const char *urn, long long *id_p,
                              long long *ver_p);
/* Localized text: a string, or {"localized": {"en_US": ...}} (first locale when no en_US). */
const char *ho_li_localized(const json_t *v);
/* The field a LinkedIn predefinedField (FIRST_NAME, WORK_EMAIL, ...) fills, or NULL. */
const char *ho_li_predefined(const char *pre);

#endif
