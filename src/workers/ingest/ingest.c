/* ingest.c - the `ingest` worker: lead.raw -> lead.normalized, activity.raw ->
 * activity.normalized (proto/messages.md), with the normalizations of normalize.h.
 *
 * A record that cannot be normalized (no email, an address that is not one, a date that is
 * not a date, an activity type nobody defined) is quarantined with its file and line and
 * the rest of the batch goes on. Fields nobody defined are kept. Ids are carried over from
 * the raw record, so a redelivered or re-imported record is the same event downstream.
 *
 * Dates are read with the formats the record carries (date_formats: its profile's when it was
 * imported), then the built-in forms. A date none of them reads is tried once more with the
 * date_formats its profile (payload.profile, else payload.source) lists *now* in the config
 * folder, re-read whenever the file changes: an operator who adds the missing format to the
 * profile and runs `handoff dlq replay` gets the quarantined record in, without restarting
 * anything. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"
#include "handoff/normalize.h"
#include "handoff/worker.h"

#define STAGE "ingest"
typedef struct {
    ho_profile_dates_t *dates; /* the profiles' current date formats; NULL: the record's only */
} s_ctx_t;

static const char *s_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* "file:line: " (or "webhook id: ") for reasons, from source_ref. */
static void s_where(const json_t *payload, char *out, size_t cap)
{
    const json_t *ref = json_object_get(payload, "source_ref");
    const char *file = s_str(ref, "file");
    const json_t *line = json_object_get(ref, "line");
    if (file) {
        snprintf(out, cap, "%s:%lld: ", file, (long long)json_integer_value(line));
    } else if (s_str(ref, "webhook")) {
        snprintf(out, cap, "%s %s: ", s_str(ref, "webhook"),
                 s_str(ref, "id") ? s_str(ref, "id") : "");
    } else {
        out[0] = '\0';
    }
}

/* The import a record came from (CONTRACT-12): carried unchanged to what ingest emits. */
static void s_import_id(const ho_msg_t *in, ho_msg_t *msg)
{
    json_t *id = json_object_get(ho_msg_payload(in), "import_id");
    if (msg && json_is_string(id)) {
        json_object_set(ho_msg_payload(msg), "import_id", id);
    }
}

static int s_quarantine(ho_out_t *out, const ho_msg_t *in, const char *code, const char *field,
                        const char *why)
{
    int rc = ho_out_quarantine(out, in, STAGE, code, field, why);
    if (rc == HO_OK && ho_out_count(out) > 0) {
        s_import_id(in, ho_out_at(out, ho_out_count(out) - 1));
    }
    return rc;
}

static int s_refuse(ho_out_t *out, const ho_msg_t *in, const char *code, const char *field,
                    const char *fmt, const char *arg)
{
    char where[512], why[1300];
    s_where(ho_msg_payload(in), where, sizeof where);
    char msg[700];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    snprintf(why, sizeof why, "%s%s", where, msg);
    return s_quarantine(out, in, code, field, why);
}

/* The normalized email of a payload's fields, or NULL after quarantining the record. */
static char *s_email(const ho_msg_t *in, const json_t *fields, ho_out_t *out)
{
    const json_t *v = json_object_get(fields, "email");
    const char *raw = json_string_value(v);
    char *email = raw ? ho_norm_email(raw) : NULL;
    if (!email || !email[0]) {
        free(email);
        if (!raw || strspn(raw, " \t\r\n") == strlen(raw)) {
            s_refuse(out, in, "missing_email", "email", "no email address%s", "");
        } else {
            s_refuse(out, in, "bad_email", "email", "email \"%s\" is not valid text", raw);
        }
        return NULL;
    }
    if (!ho_norm_email_valid(email)) {
        s_refuse(out, in, "bad_email", "email", "\"%s\" is not an email address", raw);
        free(email);
        return NULL;
    }
    return email;
}

/* A raw record's fields (*fields_p) and their normalized email, or NULL after quarantining the
 * record (*rc: what the handler returns). */
static char *s_record_email(const ho_msg_t *in, ho_out_t *out, const json_t **fields_p, int *rc)
{
    const json_t *fields = json_object_get(ho_msg_payload(in), "fields");
    *fields_p = fields;
    if (!json_is_object(fields)) {
        *rc = s_refuse(out, in, "bad_record", "fields", "payload.fields is missing or not a map%s",
                       "");
        return NULL;
    }
    *rc = HO_OK;
    return s_email(in, fields, out);
}

/* Parse a date field: the record's formats and the built-in forms, then its profile's current
 * formats. 0 and *ms, or -1 after quarantining the record with a reason that says which
 * formats were tried and where to add one. */
static int s_date(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out, const char *field,
                  const char *raw, const char *const *fmts, int64_t *ms)
{
    const json_t *p = ho_msg_payload(in);
    if (ho_norm_date(raw, fmts, ms) == 0) {
        return 0;
    }
    char tried[300];
    if (ho_profile_dates_parse(ctx ? ctx->dates : NULL, p, raw, ms, tried, sizeof tried) == 0) {
        return 0;
    }
    char where[512], why[1300];
    s_where(p, where, sizeof where);
    if (tried[0]) {
        snprintf(why, sizeof why,
                 "%s%s \"%.200s\" is not a date: not in %s nor a built-in form (ISO 8601, "
                 "YYYY-MM-DD[ HH:MM[:SS]], MM/DD/YYYY, epoch); add its format to that profile's "
                 "date_formats and replay",
                 where, field, raw, tried);
    } else {
        snprintf(why, sizeof why, "%s%s \"%.200s\" is not a date", where, field, raw);
    }
    s_quarantine(out, in, "bad_date", field, why);
    return -1;
}

static void s_set_text(json_t *obj, const char *key, const char *val)
{
    /* ASCII (most fields): trim in place and copy once; else the full Unicode path */
    const unsigned char *p = (const unsigned char *)val;
    size_t n = 0;
    bool ascii = true;
    for (; p[n]; n++) {
        ascii = ascii && p[n] < 0x80;
    }
    if (ascii) {
        const char *b = val;
        while (n > 0 && (*b == ' ' || (*b >= '\t' && *b <= '\r'))) {
            b++;
            n--;
        }
        while (n > 0 && (b[n - 1] == ' ' || (b[n - 1] >= '\t' && b[n - 1] <= '\r'))) {
            n--;
        }
        if (n > 0) {
            json_object_set_new_nocheck(obj, key, json_stringn_nocheck(b, n));
        }
        return;
    }
    char *t = ho_norm_text(val);
    if (t && t[0]) {
        json_object_set_new_nocheck(obj, key, json_string_nocheck(t));
    }
    free(t);
}

static const char *const s_text_fields[] = {
    "first_name",       "last_name",       "title",       "company",       "city",     "phone",
    "message",          "lifecycle_stage", "lead_status", "source_detail", "campaign", "owner",
    "source_record_id", "website",         "postal_code", "address",       NULL};

static bool s_in(const char *const *list, const char *key)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Every field but email, created_at and state into nf, normalized; returns the country code
 * (NULL when none was recognised) for the state, decided after. */
static const char *s_lead_fields(json_t *nf, const json_t *fields, const char *const *fmts)
{
    const char *country_code = NULL;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)fields, key, val)
    {
        const char *s = json_string_value(val);
        if (!strcmp(key, "email") || !strcmp(key, "created_at")) {
            continue;
        }
        if (!s) {
            json_object_set(nf, key, val); /* a structured value a connector chose to keep */
            continue;
        }
        if (s_in(s_text_fields, key)) {
            s_set_text(nf, key, s);
        } else if (!strcmp(key, "full_name")) {
            s_set_text(nf, key, s);
        } else if (!strcmp(key, "industry")) {
            s_set_text(nf, key, s);
            const char *g = ho_norm_industry_group(s);
            if (g) {
                json_object_set_new(nf, "industry_group", json_string(g));
            }
        } else if (!strcmp(key, "employees")) {
            long long e;
            s_set_text(nf, "employees_label", s);
            if (ho_norm_employees(s, &e) == 0) {
                json_object_set_new(nf, "employees", json_integer(e));
            }
        } else if (!strcmp(key, "revenue")) {
            double r;
            if (ho_norm_revenue(s, &r) == 0) {
                json_object_set_new(nf, "revenue", json_real(r));
            } else {
                s_set_text(nf, "revenue_label", s);
            }
        } else if (!strcmp(key, "country")) {
            country_code = ho_norm_country(s);
            if (country_code) {
                json_object_set_new(nf, "country", json_string(country_code));
            } else {
                s_set_text(nf, "country_label", s);
            }
        } else if (!strcmp(key, "state")) {
            /* decided after the loop, once the country is known */
        } else if (!strcmp(key, "original_source")) {
            s_set_text(nf, key, s);
        } else if (!strcmp(key, "updated_at")) {
            int64_t ms;
            if (ho_norm_date(s, fmts, &ms) == 0) {
                json_object_set_new(nf, key, json_integer(ms));
            }
        } else {
            s_set_text(nf, key, s); /* fields nobody defined are kept */
        }
    }
    return country_code;
}

static int s_lead(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *fields;
    int rc;
    char *email = s_record_email(in, out, &fields, &rc);
    if (!email) {
        return rc;
    }
    const char *fmts[16];
    ho_profile_payload_formats(p, fmts, 16);
    const char *source = s_str(p, "source");
    json_t *nf = json_object();
    json_object_set_new(nf, "email", json_string(email));
    const char *at = strrchr(email, '@');
    json_object_set_new(nf, "domain", json_string(at + 1));
    json_object_set_new(nf, "personal_email", json_boolean(ho_norm_personal_domain(at + 1)));

    int64_t created = 0;
    bool have_created = false;
    const char *created_raw = s_str(fields, "created_at");
    if (created_raw && strspn(created_raw, " \t") != strlen(created_raw)) {
        if (s_date(ctx, in, out, "created_at", created_raw, fmts, &created) != 0) {
            json_decref(nf);
            free(email);
            return HO_OK;
        }
        have_created = true;
        json_object_set_new(nf, "created_at", json_integer(created));
    }

    const char *country_code = s_lead_fields(nf, fields, fmts);
    const char *state = s_str(fields, "state");
    if (state) {
        const char *usps = ho_norm_us_state(state);
        bool us =
            country_code ? strcmp(country_code, "US") == 0 : usps != NULL && strlen(state) > 2;
        if (us && usps) {
            json_object_set_new(nf, "state", json_string(usps));
            if (!country_code) {
                json_object_set_new(nf, "country", json_string("US"));
            }
        } else {
            s_set_text(nf, "state", state);
        }
    }
    /* a form that asked for the full name only */
    const char *full = s_str(nf, "full_name");
    if (full && !json_object_get(nf, "first_name") && !json_object_get(nf, "last_name")) {
        const char *sp = strrchr(full, ' ');
        if (sp) {
            char *first = strndup(full, (size_t)(sp - full));
            json_object_set_new(nf, "first_name", json_string(first));
            json_object_set_new(nf, "last_name", json_string(sp + 1));
            free(first);
        } else {
            json_object_set_new(nf, "first_name", json_string(full));
        }
    }
    json_object_set_new(nf, "source_channel",
                        json_string(ho_norm_source_channel(s_str(nf, "original_source"), source)));

    ho_msg_t *msg = ho_msg_new("lead.normalized");
    ho_msg_set_id(msg, ho_msg_id(in));
    ho_msg_set_ts(msg, ho_msg_ts(in));
    json_t *np = ho_msg_payload(msg);
    json_object_set_new(np, "source", json_string(source ? source : "unknown"));
    json_t *ref = json_object_get(p, "source_ref");
    if (ref) {
        json_object_set(np, "source_ref", ref);
    }
    json_object_set_new(np, "email", json_string(email));
    json_object_set_new(np, "fields", nf);
    json_object_set_new(np, "observed_at", json_integer(have_created ? created : ho_msg_ts(in)));
    json_t *extra = json_object_get(p, "extra");
    if (json_is_object(extra) && json_object_size(extra)) {
        json_object_set(np, "extra", extra);
    }
    free(email);
    s_import_id(in, msg);
    return ho_out_emit(out, &msg);
}

static int s_activity(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *fields;
    int rc;
    char *email = s_record_email(in, out, &fields, &rc);
    if (!email) {
        return rc;
    }
    const char *type_raw = s_str(fields, "activity_type");
    const char *type = ho_norm_activity_type(type_raw);
    if (!type) {
        free(email);
        if (!type_raw || !type_raw[0]) {
            return s_refuse(out, in, "unknown_activity_type", "activity_type", "no activity_type%s",
                            "");
        }
        return s_refuse(out, in, "unknown_activity_type", "activity_type",
                        "activity_type \"%s\" is not one of email_open, email_click, page_view, "
                        "webinar_attended, content_download, demo_request, free_trial_signup, "
                        "unsubscribe, form_submit",
                        type_raw);
    }
    const char *fmts[16];
    ho_profile_payload_formats(p, fmts, 16);
    const char *date_raw = s_str(fields, "activity_date");
    int64_t when;
    if (!date_raw || strspn(date_raw, " \t") == strlen(date_raw)) {
        free(email);
        return s_refuse(out, in, "missing_date", "activity_date", "no activity_date%s", "");
    }
    if (s_date(ctx, in, out, "activity_date", date_raw, fmts, &when) != 0) {
        free(email);
        return HO_OK;
    }
    ho_msg_t *msg = ho_msg_new("activity.normalized");
    ho_msg_set_id(msg, ho_msg_id(in));
    ho_msg_set_ts(msg, ho_msg_ts(in));
    json_t *np = ho_msg_payload(msg);
    const char *source = s_str(p, "source");
    json_object_set_new(np, "source", json_string(source ? source : "unknown"));
    json_t *ref = json_object_get(p, "source_ref");
    if (ref) {
        json_object_set(np, "source_ref", ref);
    }
    json_object_set_new(np, "email", json_string(email));
    const char *aid = s_str(fields, "activity_id");
    json_object_set_new(np, "activity_id", json_string(aid && aid[0] ? aid : ho_msg_id(in)));
    json_object_set_new(np, "type", json_string(type));
    json_object_set_new(np, "occurred_at", json_integer(when));
    const char *url = s_str(fields, "url");
    char *path = ho_norm_url_path(url);
    json_object_set_new(np, "url", json_string(url ? url : ""));
    json_object_set_new(np, "path", json_string(path ? path : ""));
    free(path);
    const char *camp = s_str(fields, "campaign");
    const char *asset = s_str(fields, "asset");
    const char *sys = s_str(fields, "source_system");
    json_object_set_new(np, "campaign", json_string(camp ? camp : ""));
    json_object_set_new(np, "asset", json_string(asset ? asset : ""));
    json_object_set_new(np, "source_system", json_string(sys ? sys : (source ? source : "")));
    const json_t *attrs = json_object_get(fields, "attributes");
    json_t *a = NULL;
    if (json_is_object(attrs)) {
        a = json_deep_copy(attrs);
    } else if (json_is_string(attrs)) {
        a = json_loads(json_string_value(attrs), 0, NULL);
        if (!json_is_object(a)) {
            json_decref(a);
            /* not JSON: kept as text, the event itself is good */
            a = json_pack("{s:s}", "raw", json_string_value(attrs));
        }
    }
    json_object_set_new(np, "attributes", a ? a : json_object());
    free(email);
    s_import_id(in, msg);
    return ho_out_emit(out, &msg);
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->dates = ho_profile_dates_new(env ? env->config_dir : NULL))) {
        free(ctx);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    *ctx_p = ctx;
    return HO_OK;
}

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const char *type = ho_msg_type(in[i]);
        int rc;
        if (strcmp(type, "lead.raw") == 0) {
            rc = s_lead(ctx, in[i], out);
        } else if (strcmp(type, "activity.raw") == 0) {
            rc = s_activity(ctx, in[i], out);
        } else {
            rc = s_refuse(out, in[i], "unknown_type", "type",
                          "ingest takes lead.raw and activity.raw, not \"%s\"", type);
        }
        if (rc == HO_ERR_NOMEM) {
            return HO_WORKER_RETRY;
        }
    }
    return HO_WORKER_OK;
}

static void s_exit(void **ctx_p)
{
    s_ctx_t *ctx = *ctx_p;
    if (ctx) {
        ho_profile_dates_destroy(&ctx->dates);
        free(ctx);
    }
    *ctx_p = NULL;
}

const ho_worker_def_t ho_worker_ingest = {
    .name = "ingest",
    .description = "normalize raw leads and activities (email, country, dates, ...)",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_exit = s_exit,
};
