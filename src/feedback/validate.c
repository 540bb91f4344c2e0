/* validate.c - the feedback validator (feedback.h): feedback.raw -> lead.outcome, checked
 * against the reason taxonomy (reasons.h). A library: the feedback worker
 * (src/workers/feedback/feedback_worker.c) and the CLI call it.
 *
 * Feedback arrives by CSV (`handoff import feedback.csv`), by HTTP (`handoff webhook`,
 * POST /feedback) and by any ZeroMQ client sending feedback.raw to service `feedback`; all
 * three meet here. A row that breaks a rule is quarantined with a reason naming the row and
 * the field; the rest of the batch goes on. The store applies the outcome to the lifecycle. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"
#include "handoff/feedback.h"
#include "handoff/normalize.h"
#include "handoff/util.h"

static const char *s_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A field as trimmed text (malloc'd), "" when absent/blank; numbers are written out. */
static char *s_field(const json_t *fields, const char *key)
{
    const json_t *v = json_object_get(fields, key);
    char buf[64];
    const char *s = NULL;
    if (json_is_string(v)) {
        s = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
        s = buf;
    }
    if (!s) {
        return strdup("");
    }
    char *t = ho_norm_text(s);
    return t ? t : strdup(s);
}

/* "Closed Won", "closed-won", "SAL" -> the catalog's word. */
static unsigned s_outcome(const char *in, char *word, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 1 < cap; p++) {
        word[n++] = (*p == ' ' || *p == '-') ? '_' : (char)tolower(*p);
    }
    word[n] = '\0';
    static const struct {
        const char *alias, *name;
    } aliases[] = {{"sal", "accepted"},
                   {"accept", "accepted"},
                   {"reject", "rejected"},
                   {"opp", "opportunity"},
                   {"closed_won", "won"},
                   {"closed_lost", "lost"},
                   {NULL, NULL}};
    for (size_t i = 0; aliases[i].alias; i++) {
        if (strcmp(word, aliases[i].alias) == 0) {
            snprintf(word, cap, "%s", aliases[i].name);
        }
    }
    return ho_outcome_parse(word);
}

/* "36000", "$36,000.50", "36 000" -> 36000. 0 and *out, -1 when not a number >= 0. */
static int s_amount(const char *in, double *out)
{
    char buf[64];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '$' || *p == ',' || *p == ' ' || *p == '_') {
            continue;
        }
        if (n + 1 >= sizeof buf) {
            return -1;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
    if (n == 0) {
        return -1;
    }
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v) || v < 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* "feedback NWF-00012 (feedback.csv:13): " */
static void s_where(const json_t *p, const char *fid, char *out, size_t cap)
{
    const json_t *ref = json_object_get(p, "source_ref");
    const char *file = s_str(ref, "file");
    char at[300] = "";
    if (file) {
        snprintf(at, sizeof at, " (%.200s:%lld)", file,
                 (long long)json_integer_value(json_object_get(ref, "line")));
    } else if (s_str(ref, "webhook")) {
        snprintf(at, sizeof at, " (%.100s %.100s)", s_str(ref, "webhook"),
                 s_str(ref, "id") ? s_str(ref, "id") : "");
    }
    snprintf(out, cap, "feedback %.80s%s: ", fid[0] ? fid : "(no feedback_id)", at);
}

static int s_refuse(ho_feedback_refusal_t *why, const char *where, int rc, const char *code,
                    const char *field, const char *fmt, const char *a, const char *b)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    why->code = code;
    snprintf(why->field, sizeof why->field, "%s", field);
    ho_fmt(why->reason, sizeof why->reason, "%s%s", where, msg);
    return rc;
}

/* The reason as given, trimmed and lower-cased into code (a blank one on lost/rejected:
 * the taxonomy's blank_reason, else unspecified); sales' word is kept either way: a code
 * outside the taxonomy, or not listed for this outcome, is flagged, never refused. *r_p: the
 * taxonomy's entry, or NULL. Returns how many flags it put in flags. */
static size_t s_reason(const ho_reasons_t *reasons, unsigned outcome, const char *raw, char *code,
                       size_t cap, const ho_reason_t **r_p, const char **flags)
{
    size_t n = 0;
    snprintf(code, cap, "%.63s", raw);
    for (char *c = code; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    if (ho_outcome_needs_reason(outcome) && !code[0]) {
        const char *blank = ho_reasons_blank(reasons);
        snprintf(code, cap, "%s", blank && blank[0] ? blank : "unspecified");
    }
    *r_p = NULL;
    if (code[0]) {
        *r_p = ho_reasons_find(reasons, code);
        if (!*r_p) {
            flags[n++] = "reason_outside_taxonomy";
        } else if (!((*r_p)->outcomes & outcome)) {
            flags[n++] = "reason_not_for_outcome";
        }
    }
    return n;
}

/* A validated feedback row. */
typedef struct {
    const char *fid, *email, *rep, *word, *code, *notes;
    const ho_reason_t *r;
    unsigned outcome;
    int64_t at;
    bool has_amount;
    double amount;
} s_row_t;

/* The lead.outcome of a validated row, or NULL (out of memory). */
static ho_msg_t *s_outcome_msg(const ho_msg_t *in, const s_row_t *row, const char *const *flags,
                               size_t n_flags)
{
    ho_msg_t *o = ho_msg_new("lead.outcome");
    if (!o) {
        return NULL;
    }
    const json_t *p = ho_msg_payload(in);
    const ho_reason_t *r = row->r;
    /* One feedback row, one event: whichever way it arrived (CSV, HTTP, ZeroMQ). */
    char id[HO_MSG_MAX_ID];
    if (row->fid[0]) {
        ho_msg_make_id(id, sizeof id, "outcome", row->fid, strlen(row->fid));
    } else {
        ho_msg_make_id(id, sizeof id, "outcome", ho_msg_id(in), strlen(ho_msg_id(in)));
    }
    ho_msg_set_id(o, id);
    ho_msg_set_ts(o, ho_msg_ts(in));
    json_t *op = ho_msg_payload(o);
    json_object_set_new(op, "feedback_id", row->fid[0] ? json_string(row->fid) : json_null());
    json_object_set_new(op, "email", json_string(row->email));
    json_object_set_new(op, "rep_id", row->rep[0] ? json_string(row->rep) : json_null());
    json_object_set_new(op, "outcome", json_string(row->word));
    json_object_set_new(op, "reason", row->code[0] ? json_string(row->code) : json_null());
    json_object_set_new(op, "reason_owner", r ? json_string(r->owner) : json_null());
    json_object_set_new(op, "disposition",
                        r && row->outcome == HO_OUTCOME_REJECTED && r->disposition
                            ? json_string(r->disposition)
                            : json_null());
    json_object_set_new(op, "occurred_at", json_integer(row->at));
    json_object_set_new(op, "notes", row->notes[0] ? json_string(row->notes) : json_null());
    json_object_set_new(op, "amount", row->has_amount ? json_real(row->amount) : json_null());
    static const char *const copied[] = {"source_ref", "source", "import_id"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        if (json_object_get(p, copied[i])) {
            json_object_set(op, copied[i], json_object_get(p, copied[i]));
        }
    }
    json_t *fl = json_array();
    for (size_t i = 0; i < n_flags; i++) {
        json_array_append_new(fl, json_string(flags[i]));
    }
    json_object_set_new(op, "flags", fl);
    return o;
}

int ho_feedback_validate(const ho_reasons_t *reasons, const ho_msg_t *in, ho_msg_t **out_p,
                         ho_feedback_refusal_t *why)
{
    return ho_feedback_validate_dates(reasons, NULL, in, out_p, why);
}

int ho_feedback_validate_dates(const ho_reasons_t *reasons, ho_profile_dates_t *dates,
                               const ho_msg_t *in, ho_msg_t **out_p, ho_feedback_refusal_t *why)
{
    *out_p = NULL;
    memset(why, 0, sizeof *why);
    const json_t *p = ho_msg_payload(in);
    const json_t *fields = json_object_get(p, "fields");
    char where[400];
    if (!json_is_object(fields)) {
        s_where(p, "", where, sizeof where);
        return s_refuse(why, where, HO_ERR_MISSING, "bad_record", "fields",
                        "payload.fields is missing or not a map%s%s", NULL, NULL);
    }
    char *fid = s_field(fields, "feedback_id"), *email_raw = s_field(fields, "email");
    char *outcome_raw = s_field(fields, "outcome"), *reason_raw = s_field(fields, "reason");
    char *at_raw = s_field(fields, "occurred_at"), *notes = s_field(fields, "notes");
    char *amount_raw = s_field(fields, "amount"), *rep = s_field(fields, "rep_id");
    char *email = NULL;
    int rc = HO_OK;
    s_where(p, fid, where, sizeof where);
    char word[64], code[64];
    unsigned outcome = s_outcome(outcome_raw, word, sizeof word);
    const ho_reason_t *r = NULL;
    int64_t at = 0;
    double amount = 0;
    bool has_amount = amount_raw[0] != '\0';
    if (!email_raw[0]) {
        rc = s_refuse(why, where, HO_ERR_MISSING, "missing_email", "fields.email",
                      "no email address%s%s", NULL, NULL);
        goto done;
    }
    email = ho_norm_email(email_raw);
    if (!email || !ho_norm_email_valid(email)) {
        rc = s_refuse(why, where, HO_ERR_FIELD, "bad_email", "fields.email",
                      "\"%.120s\" is not an email address%s", email_raw, NULL);
        goto done;
    }
    if (!outcome_raw[0]) {
        rc = s_refuse(why, where, HO_ERR_MISSING, "unknown_outcome", "fields.outcome",
                      "no outcome (expected accepted, rejected, sql, opportunity, won or lost)%s%s",
                      NULL, NULL);
        goto done;
    }
    if (!outcome) {
        rc = s_refuse(why, where, HO_ERR_FIELD, "unknown_outcome", "fields.outcome",
                      "unknown outcome \"%.60s\" (expected accepted, rejected, sql, opportunity, "
                      "won or lost)%s",
                      outcome_raw, NULL);
        goto done;
    }
    const char *flags[3] = {NULL, NULL, NULL};
    size_t n_flags = s_reason(reasons, outcome, reason_raw, code, sizeof code, &r, flags);
    if (!at_raw[0]) {
        rc = s_refuse(why, where, HO_ERR_MISSING, "missing_date", "fields.occurred_at",
                      "no occurred_at (when the status changed)%s%s", NULL, NULL);
        goto done;
    }
    char tried[300];
    if (ho_profile_dates_parse(dates, p, at_raw, &at, tried, sizeof tried) != 0) {
        rc = s_refuse(why, where, HO_ERR_FIELD, "bad_date", "fields.occurred_at",
                      tried[0] ? "occurred_at \"%.60s\" is not a date: not in %s nor a built-in "
                                 "form; add its format there and replay"
                               : "occurred_at \"%.60s\" is not a date%s",
                      at_raw, tried);
        goto done;
    }
    if (has_amount && s_amount(amount_raw, &amount) != 0) {
        /* the outcome is still a fact: recorded without the amount, flagged */
        has_amount = false;
        flags[n_flags++] = "bad_amount";
    }

    s_row_t row = {fid, email, rep, word, code, notes, r, outcome, at, has_amount, amount};
    ho_msg_t *o = s_outcome_msg(in, &row, flags, n_flags);
    if (!o) {
        rc = s_refuse(why, where, HO_ERR_NOMEM, "bad_record", "", "out of memory%s%s", NULL, NULL);
        goto done;
    }
    *out_p = o;
done:
    free(fid);
    free(email_raw);
    free(outcome_raw);
    free(reason_raw);
    free(at_raw);
    free(notes);
    free(amount_raw);
    free(rep);
    free(email);
    return rc;
}
