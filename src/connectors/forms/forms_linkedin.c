/* forms_linkedin.c - LinkedIn's lead form definitions (the leadForms API response, a JSON
 * file): loaded and checked, and looked up by a lead's versioned form urn so its answers
 * (question ids) can be named; see forms.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/forms/forms_internal.h"

/* ---- LinkedIn definitions ---- */

struct ho_linkedin_forms {
    json_t *elements; /* array of form objects */
};

ho_linkedin_forms_t *ho_linkedin_forms_from_json(const json_t *doc, const char *origin,
                                                 ho_err_t *err)
{
    const json_t *el = json_object_get(doc, "elements");
    if (!json_is_array(el)) {
        ho_err_set(err, HO_ERR_FIELD, "elements",
                   "%s: elements: expected the leadForms response {\"elements\": [form, ...]}",
                   origin);
        return NULL;
    }
    size_t i;
    json_t *form;
    json_array_foreach(el, i, form)
    {
        if (!json_is_object(form) || !json_object_get(form, "id") ||
            !json_is_array(json_object_get(json_object_get(form, "content"), "questions"))) {
            ho_err_set(err, HO_ERR_FIELD, "elements",
                       "%s: elements[%zu]: a form needs id and content.questions[]", origin, i);
            return NULL;
        }
    }
    ho_linkedin_forms_t *self = calloc(1, sizeof *self);
    if (!self || !(self->elements = json_deep_copy(el))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    return self;
}

ho_linkedin_forms_t *ho_linkedin_forms_load(const char *path, ho_err_t *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        ho_err_set(err, HO_ERR_CONFIG, "", "%s:%d: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    ho_linkedin_forms_t *self = ho_linkedin_forms_from_json(doc, path, err);
    json_decref(doc);
    return self;
}

void ho_linkedin_forms_destroy(ho_linkedin_forms_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    json_decref((*self_p)->elements);
    free(*self_p);
    *self_p = NULL;
}

size_t ho_linkedin_forms_count(const ho_linkedin_forms_t *self)
{
    return self ? json_array_size(self->elements) : 0;
}

long long ho_forms_num(const json_t *v)
{
    if (json_is_integer(v)) {
        return (long long)json_integer_value(v);
    }
    if (json_is_string(v)) {
        char *end;
        long long n = strtoll(json_string_value(v), &end, 10);
        return *end == '\0' ? n : -1;
    }
    return -1;
}

/* The form for "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:ID,VERSION)": the exact
 * version, else the same form id (another version of its questions is better than none). */
const json_t *ho_li_form_find(const ho_linkedin_forms_t *forms, const char *urn, long long *id_p,
                              long long *ver_p)
{
    *id_p = *ver_p = -1;
    if (!urn) {
        return NULL;
    }
    const char *p = strstr(urn, "leadGenForm:");
    if (!p) {
        return NULL;
    }
    p += strlen("leadGenForm:");
    char *end;
    *id_p = strtoll(p, &end, 10);
    if (end == p) {
        *id_p = -1;
        return NULL;
    }
    if (*end == ',') {
        *ver_p = strtoll(end + 1, NULL, 10);
    }
    if (!forms) {
        return NULL;
    }
    const json_t *same_id = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(forms->elements, i, f)
    {
        if (ho_forms_num(json_object_get(f, "id")) != *id_p) {
            continue;
        }
        if (ho_forms_num(json_object_get(f, "versionId")) == *ver_p) {
            return f;
        }
        if (!same_id) {
            same_id = f;
        }
    }
    return same_id;
}

/* Localized text: a string, or {"localized": {"en_US": ...}} (first locale when no en_US). */
const char *ho_li_localized(const json_t *v)
{
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    const json_t *loc = json_object_get(v, "localized");
    const char *s = json_string_value(json_object_get(loc, "en_US"));
    if (s) {
        return s;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)loc, k, x)
    {
        if (json_is_string(x)) {
            return json_string_value(x);
        }
    }
    return NULL;
}

const char *ho_li_predefined(const char *pre)
{
    static const struct {
        const char *pre, *field;
    } table[] = {
        {"FIRST_NAME", "first_name"},
        {"LAST_NAME", "last_name"},
        {"EMAIL", "email"},
        {"WORK_EMAIL", "email"},
        {"COMPANY_NAME", "company"},
        {"JOB_TITLE", "title"},
        {"COUNTRY", "country"},
        {"COMPANY_SIZE", "employees"},
        {"PHONE_NUMBER", "phone"},
        {"WORK_PHONE", "phone"},
        {"CITY", "city"},
        {"STATE", "state"},
        {"POSTAL_CODE", "postal_code"},
        {"ZIP_CODE", "postal_code"},
        {"INDUSTRY", "industry"},
        {"COMPANY_WEBSITE", "website"},
        {NULL, NULL},
    };
    for (size_t i = 0; pre && table[i].pre; i++) {
        if (strcmp(pre, table[i].pre) == 0) {
            return table[i].field;
        }
    }
    return NULL;
}
