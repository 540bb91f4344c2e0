/*
 * forms.h - lead-form payloads in their real shapes -> lead.raw envelopes.
 *
 * One JSON document (as a webhook delivers it, or one line of a JSON Lines capture) is
 * recognised by its shape and mapped onto the canonical lead fields of proto/messages.md:
 *
 *   shape              recognised by                          source        submission id
 *   facebook           `field_data` (Graph API Lead object)   facebook      id
 *   facebook_change    {object: "page", entry[].changes[]     facebook      value.leadgen_id
 *                      field "leadgen"} (a notification)
 *   linkedin           `formResponse` (leadFormResponses)     linkedin      id
 *   hubspot            `fields[]` + `context`/`submittedAt`   hubspot_form  hutk-submittedAt
 *   typeform           event_type "form_response"             typeform      form_response.token
 *   plain              a flat object with email/first_name..  form          id/submission_id
 *
 * Each submission becomes one lead.raw envelope: payload {source, source_ref {webhook, id},
 * fields (canonical names, raw text), extra (everything else, verbatim), import_id
 * (webhook-<source>-<UTC day of receipt>; `handoff import` sets the file's own)}, event id
 * ho_msg_make_id("lead-<source>", <submission id>), so a webhook redelivery and a later
 * import of the same submission are the same event downstream.
 *
 * A submission a marketer does not count as a lead is returned with a skip code (not an
 * error, not accepted; CONTRACT-12): `test_lead` (LinkedIn testLead: true, Facebook is_test or
 * the App Dashboard's sample lead id 444444444444, Typeform hidden test/is_test, any top-level
 * test/is_test/testLead true), `notification_only` (a Facebook leadgen notification that
 * carries only the leadgen_id: handoff does not call the Graph API). A re-delivery of the
 * same submission is recognised by its event id (ho_form_seen_*): `duplicate_delivery`.
 *
 * A submission that cannot become a lead at all is still returned (nothing is lost), with a
 * quarantine code and a reason: a LinkedIn response whose
 * form is not in the definitions file (`unknown_form`), a record whose parts have the wrong
 * JSON types (`bad_record`). A missing email is NOT flagged here: ingest quarantines it
 * (`missing_email`) like for any other source; the webhook server checks it itself to answer
 * 422 at once.
 *
 * LinkedIn answers carry only question ids; they are mapped through the form definitions
 * (the `leadForms` response of the Lead Sync API, e.g. linkedin_lead_forms.json):
 * predefinedField -> canonical field, multiple-choice option ids -> option text.
 *
 * Ownership: ho_linkedin_forms_* objects are freed with ho_linkedin_forms_destroy (&f);
 * results are released with ho_form_result_clear (messages the caller took are NULL there).
 */
#ifndef HO_FORMS_H
#define HO_FORMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "handoff/msg.h"

typedef enum {
    HO_FORM_UNKNOWN = 0,
    HO_FORM_FACEBOOK,        /* the Lead object (field_data) */
    HO_FORM_FACEBOOK_CHANGE, /* a page leadgen change notification */
    HO_FORM_LINKEDIN,
    HO_FORM_HUBSPOT,
    HO_FORM_TYPEFORM,
    HO_FORM_PLAIN,
} ho_form_shape_t;

/* "facebook", "facebook_change", "linkedin", "hubspot", "typeform", "plain", "unknown". */
const char *ho_form_shape_name(ho_form_shape_t shape);
/* The `source` stamped on lead.raw: facebook, linkedin, hubspot_form, typeform, form. */
const char *ho_form_shape_source(ho_form_shape_t shape);
/* Recognise a document (never fails: HO_FORM_UNKNOWN when nothing fits). */
ho_form_shape_t ho_form_detect(const json_t *doc);

/* ---- LinkedIn lead form definitions ---- */
typedef struct ho_linkedin_forms ho_linkedin_forms_t;

/* Load a leadForms JSON file ({"elements": [form, ...]}). NULL with err naming file:line. */
ho_linkedin_forms_t *ho_linkedin_forms_load(const char *path, ho_err_t *err);
/* From a parsed document (copied); origin names it in errors. */
ho_linkedin_forms_t *ho_linkedin_forms_from_json(const json_t *doc, const char *origin,
                                                 ho_err_t *err);
void ho_linkedin_forms_destroy(ho_linkedin_forms_t **self_p);
size_t ho_linkedin_forms_count(const ho_linkedin_forms_t *self);

/* ---- mapping ---- */
typedef struct {
    /* LinkedIn form definitions; NULL = none (LinkedIn responses are quarantined). */
    const ho_linkedin_forms_t *linkedin;
    /* HO_FORM_UNKNOWN: any shape. Otherwise the document must be of this shape (an endpoint
     * per source); HO_FORM_FACEBOOK accepts both Facebook shapes. */
    ho_form_shape_t expect;
} ho_form_opts_t;

typedef struct {
    ho_msg_t *msg;     /* lead.raw (owned by the result until the caller takes it) */
    const char *qcode; /* NULL: a lead; else why it cannot be one (static string) */
    char field[96];    /* offending field when qcode is set */
    char reason[320];  /* a sentence naming the submission, when qcode or skip is set */
    /* NULL, or why this submission is deliberately not a lead: "test_lead",
     * "notification_only" (static string; reason says which submission) */
    const char *skip;
} ho_form_item_t;

typedef struct {
    ho_form_shape_t shape;
    ho_form_item_t *items; /* one per submission (a notification may carry several) */
    size_t n;
} ho_form_result_t;

/* Map one document. HO_OK with res->n >= 1 when the shape was recognised (items may still
 * carry a quarantine code), or HO_ERR_FIELD when the document is of no known shape (or not
 * the expected one) or holds no submission, with err naming the field. res is always safe to
 * clear. */
int ho_form_map(const json_t *doc, const ho_form_opts_t *opts, ho_form_result_t *res,
                ho_err_t *err);
void ho_form_result_clear(ho_form_result_t *res);

/* ---- re-deliveries: the submissions (event ids) seen so far, e.g. in one import ---- */
typedef struct ho_form_seen ho_form_seen_t;

ho_form_seen_t *ho_form_seen_new(void); /* NULL: out of memory */
void ho_form_seen_destroy(ho_form_seen_t **self_p);
/* Remember id; true when it was already there (a re-delivery). */
bool ho_form_seen_add(ho_form_seen_t *self, const char *id);

/* A `skip` envelope for lead.raw `lead` (never sent: counted by `handoff import`): payload
 * {code, field, reason, event_id, event_type, source_ref}. */
ho_msg_t *ho_form_skip(const ho_msg_t *lead, const char *code, const char *reason);

/* A `quarantine` envelope (proto/messages.md) for lead.raw `lead` refused at `stage`
 * ("import", "webhook"): id derived from the lead's id and the code, raw = the lead.raw
 * payload, so the refused submission is kept. */
ho_msg_t *ho_form_quarantine(const ho_msg_t *lead, const char *stage, const char *code,
                             const char *field, const char *reason);

#endif
