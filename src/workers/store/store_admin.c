/* store_admin.c - rows the store writes for operators: quarantine and dead letters, lead.forget
 * and dlq.replay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"

#include "workers/store/store_worker_int.h"

/* ---- quarantine rows written by the store itself ---- */
int sw_quarantine_row(sw_ctx_t *self, const char *qid, const char *stage, const char *code,
                      const char *field, const char *reason, const json_t *ref, const char *source,
                      const char *in_id, const char *in_type, const json_t *raw, int64_t at,
                      ho_err_t *err)
{
    json_t *row = json_object();
    json_object_set_new(row, "event_id", json_string(qid));
    json_object_set_new(row, "stage", sw_jstr(stage));
    json_object_set_new(row, "code", sw_jstr(code));
    json_object_set_new(row, "field", sw_jstr(field));
    json_object_set_new(row, "reason", sw_jstr(reason));
    json_object_set_new(row, "source", sw_jstr(source));
    json_t *file = json_object_get(ref, "file");
    json_object_set(row, "file", file ? file : json_object_get(ref, "webhook"));
    json_object_set(row, "line", json_object_get(ref, "line"));
    json_object_set_new(row, "input_event_id", sw_jstr(in_id));
    json_object_set_new(row, "input_type", sw_jstr(in_type));
    json_object_set(row, "raw_json", raw ? (json_t *)raw : json_null());
    json_object_set_new(row, "at", json_integer(at));
    const json_t *imp = json_object_get(raw, "import_id");
    json_object_set(row, "import_id", json_is_string(imp) ? (json_t *)imp : json_null());
    int64_t id = 0;
    int rc = ho_store_add(self->store, HO_T_QUARANTINE, row, &id, err);
    json_decref(row);
    if (rc != HO_OK || id != 0) {
        return rc;
    }
    /* The same refusal again (its id derives from the input's). A redelivery changes
     * nothing; but after a `dlq replay` (replayed_at set) a refusal newer than the replay
     * means the replayed record failed again: back into the list of open rows, with the new
     * reason, instead of looking done. */
    json_t *rows = NULL, *args = json_pack("{ss}", "event_id", qid);
    rc = ho_store_query(self->store, HO_Q_QUARANTINE_BY_EVENT, args, &rows, err);
    json_decref(args);
    json_t *old = json_array_get(rows, 0);
    const json_t *replayed = json_object_get(old, "replayed_at");
    if (rc == HO_OK && json_is_integer(replayed) && at >= json_integer_value(replayed)) {
        json_t *set =
            json_pack("{sosssssssI}", "replayed_at", json_null(), "code", code ? code : "", "field",
                      field ? field : "", "reason", reason ? reason : "", "at", (json_int_t)at);
        rc = ho_store_update(self->store, HO_T_QUARANTINE, sw_int(old, "id", 0), set, err);
        json_decref(set);
    }
    json_decref(rows);
    return rc;
}

int sw_quarantine_msg(sw_ctx_t *self, const ho_msg_t *in, const char *code, const ho_err_t *why,
                      ho_err_t *err)
{
    char key[512], qid[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "%s|store|%s|%s", ho_msg_id(in), code, why->field);
    ho_msg_make_id(qid, sizeof qid, "q", key, len > 0 ? (size_t)len : 0);
    const json_t *p = ho_msg_payload(in);
    /* a refusal counts once in its import's results (docs/store-schema.md, import_results) */
    json_t *rows = NULL, *args = json_pack("{ss}", "event_id", qid);
    int rc = ho_store_query(self->store, HO_Q_QUARANTINE_BY_EVENT, args, &rows, err);
    json_decref(args);
    bool seen = json_array_size(rows) > 0;
    json_decref(rows);
    /* at: the message's time, never the wall clock (the same input gives the same rows) */
    if (rc == HO_OK) {
        rc = sw_quarantine_row(self, qid, "store", code, why->field, why->message,
                               json_object_get(p, "source_ref"), sw_str(p, "source"), ho_msg_id(in),
                               ho_msg_type(in), p, ho_msg_ts(in), err);
    }
    if (rc == HO_OK && !seen && strcmp(code, "before_lead_created") == 0) {
        rc = ho_store_import_count(self->store, sw_str(p, "import_id"), code, 1, err);
    }
    return rc;
}

/* ---- quarantine, dead letters ---- */
int sw_on_quarantine(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    const json_t *raw = json_object_get(p, "raw");
    const char *source = sw_str(raw, "source");
    return sw_quarantine_row(self, ho_msg_id(in), sw_str(p, "stage"), sw_str(p, "code"),
                             sw_str(p, "field"), sw_str(p, "reason"),
                             json_object_get(p, "source_ref"), source, sw_str(p, "event_id"),
                             sw_str(p, "event_type"), raw, ho_msg_ts(in), err);
}

int sw_on_dead_letter(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    const json_t *first = json_array_get(json_object_get(p, "frames"), 0);
    if (json_is_array(first)) {
        first = json_array_get(first, 0);
    }
    char why[300];
    snprintf(why, sizeof why, "dead letter from service %s after %lld attempts: %s",
             sw_str(p, "service") ? sw_str(p, "service") : "?", (long long)sw_int(p, "attempts", 0),
             sw_str(p, "reason") ? sw_str(p, "reason") : "");
    return sw_quarantine_row(self, ho_msg_id(in), "broker", "dead_letter", "", why, NULL,
                             sw_str(p, "service"), sw_str(first, "id"), "dead.letter", p,
                             ho_msg_ts(in), err);
}

/* ---- lead.forget, dlq.replay ---- */
int sw_on_forget(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    char *email = sw_payload_email(self, p, err);
    if (!email) {
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    int64_t id = rc == HO_OK ? lead.id : 0;
    int64_t now = ho_msg_ts(in);
    if (rc == HO_OK || rc == HO_ERR_NOT_FOUND) {
        rc = ho_store_erase(self->store, id, email, now, err);
    }
    if (rc == HO_OK && id) {
        ho_lead_clear(&lead);
        rc = ho_store_lead_get(self->store, NULL, id, &lead, err);
        if (rc == HO_OK) {
            rc = ho_store_note(self->store, &lead, "forgotten", now, "store",
                               "personal data erased on request", NULL, err);
        }
    }
    if (rc == HO_OK) {
        ho_msg_t *m = sw_new_msg("lead.forgotten", "fg", ho_msg_id(in));
        json_t *o = ho_msg_payload(m);
        json_object_set_new(o, "found", json_boolean(id != 0));
        json_object_set_new(o, "lead_id", id ? json_integer(id) : json_null());
        json_object_set_new(o, "erased_at", json_integer(now));
        rc = ho_out_emit(out, &m);
    }
    ho_lead_clear(&lead);
    free(email);
    return rc;
}

/* `dlq replay --set`: the operator's edit of a quarantined record (dlq.replay `set`: field ->
 * text, or null to drop it). Only a raw record (a connector's fields as text, under
 * payload.fields) can be edited: it is validated again from scratch when replayed. A record
 * the store refused is normalized (typed fields, derived keys) and a dead letter is whatever
 * request it was: those are replayed as they are. The names are the text fields a profile may
 * map (connector.h: ho_profile_text_field_known). */

/* Apply `set` to raw.fields (every name checked first: nothing changes on an error) and
 * append {at, set, was} to raw.replay_edits, so the row keeps what the operator changed and
 * every value it replaced. */
static int s_replay_edit(const json_t *row, json_t *raw, const json_t *set, int64_t at,
                         ho_err_t *err)
{
    long long id = (long long)sw_int(row, "id", 0);
    const char *type = sw_str(row, "input_type") ? sw_str(row, "input_type") : "";
    const char *kind = strcmp(type, "lead.raw") == 0       ? "lead"
                       : strcmp(type, "activity.raw") == 0 ? "activity"
                       : strcmp(type, "feedback.raw") == 0 ? "feedback"
                                                           : NULL;
    if (!kind) {
        return ho_err_set(err, HO_ERR_FIELD, "set",
                          "quarantine row %lld holds a %s refused by %s: only a raw record "
                          "(lead.raw, activity.raw, feedback.raw) can be edited; replay it "
                          "without --set",
                          id, type[0] ? type : "record of no type",
                          sw_str(row, "stage") ? sw_str(row, "stage") : "?");
    }
    json_t *fields = json_object_get(raw, "fields");
    if (!json_is_object(fields)) {
        return ho_err_set(err, HO_ERR_FIELD, "set",
                          "quarantine row %lld has no fields to edit (the importer could not "
                          "read the record: fix the file and import it again)",
                          id);
    }
    json_t *now = json_object(), *was = json_object();
    const char *key;
    json_t *v;
    int rc = HO_OK;
    json_object_foreach((json_t *)set, key, v)
    {
        /* "fields.email" (as the feedback worker names it in `dlq list`) is "email" */
        const char *name = strncmp(key, "fields.", 7) == 0 ? key + 7 : key;
        if (!ho_profile_text_field_known(kind, name)) {
            const char *near = ho_profile_text_field_near(kind, name);
            rc = ho_err_set(err, HO_ERR_FIELD, key,
                            "quarantine row %lld: \"%s\" is not a field of a %s record%s%s%s", id,
                            key, kind, near ? " (did you mean " : "", near ? near : "",
                            near ? "?)" : "");
            break;
        }
        if (!json_is_string(v) && !json_is_null(v)) {
            rc = ho_err_set(err, HO_ERR_FIELD, key,
                            "quarantine row %lld: the new value of %s must be text or null", id,
                            key);
            break;
        }
        if (json_object_get(now, name)) {
            rc = ho_err_set(err, HO_ERR_FIELD, key, "quarantine row %lld: %s is set twice", id,
                            name);
            break;
        }
        json_t *old = json_object_get(fields, name);
        json_object_set_new(was, name, old ? json_incref(old) : json_null());
        json_object_set_new(now, name, json_incref(v));
    }
    if (rc == HO_OK) {
        json_object_foreach(now, key, v)
        {
            if (json_is_null(v)) {
                json_object_del(fields, key);
            } else {
                json_object_set(fields, key, v);
            }
        }
        json_t *log = json_object_get(raw, "replay_edits");
        if (!json_is_array(log)) {
            log = json_array();
            json_object_set_new(raw, "replay_edits", log);
        }
        json_array_append_new(log,
                              json_pack("{sIsOsO}", "at", (json_int_t)at, "set", now, "was", was));
    }
    json_decref(now);
    json_decref(was);
    return rc;
}

/* Re-emit the row's payload; with `set`, edited first (*edited_p: the payload as sent, for
 * the row's raw_json). */
static int s_replay_one(sw_ctx_t *self, const json_t *row, const json_t *set, int64_t at,
                        json_t **edited_p, ho_out_t *out, ho_err_t *err)
{
    json_t *raw = sw_str(row, "raw_json") ? json_loads(sw_str(row, "raw_json"), 0, NULL) : NULL;
    if (!json_is_object(raw)) {
        json_decref(raw);
        return ho_err_set(err, HO_ERR_NOT_FOUND, "raw_json",
                          "quarantine row %lld has no payload to replay (erased?)",
                          (long long)sw_int(row, "id", 0));
    }
    const char *type = sw_str(row, "input_type");
    int rc = HO_OK;
    if (set && (rc = s_replay_edit(row, raw, set, at, err)) != HO_OK) {
        json_decref(raw);
        return rc;
    }
    if (set) {
        *edited_p = json_deep_copy(raw);
    }
    if (type && strcmp(type, "dead.letter") == 0) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(raw, "frames"), i, f)
        {
            json_t *items = json_is_array(f) ? json_incref(f) : json_pack("[O]", f);
            size_t k;
            json_t *e;
            json_array_foreach(items, k, e)
            {
                if (!sw_str(e, "type") || !json_is_object(json_object_get(e, "payload"))) {
                    continue;
                }
                ho_msg_t *m = ho_msg_new(sw_str(e, "type"));
                if (sw_str(e, "id")) {
                    ho_msg_set_id(m, sw_str(e, "id"));
                }
                ho_msg_set_payload(m, json_deep_copy(json_object_get(e, "payload")));
                rc = rc == HO_OK ? ho_out_emit(out, &m) : rc;
                ho_msg_destroy(&m);
            }
            json_decref(items);
        }
    } else if (type && type[0]) {
        ho_msg_t *m = ho_msg_new(type);
        if (sw_str(row, "input_event_id")) {
            ho_msg_set_id(m, sw_str(row, "input_event_id"));
        }
        ho_msg_set_payload(m, json_incref(raw));
        rc = ho_out_emit(out, &m);
    } else {
        rc = ho_err_set(err, HO_ERR_FIELD, "input_type", "quarantine row %lld has no type",
                        (long long)sw_int(row, "id", 0));
    }
    json_decref(raw);
    return rc;
}

int sw_on_replay(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *ids = json_object_get(ho_msg_payload(in), "ids");
    if (!json_is_array(ids)) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.ids", "dlq.replay needs ids (a list)");
    }
    const json_t *set = json_object_get(ho_msg_payload(in), "set");
    if (set && !json_is_object(set) && !json_is_null(set)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.set",
                          "dlq.replay set must be a map of field -> text or null");
    }
    set = json_object_size(set) ? set : NULL;
    json_t *done = json_array(), *failed = json_array();
    size_t i;
    json_t *v;
    int rc = HO_OK;
    json_array_foreach(ids, i, v)
    {
        int64_t id = json_is_integer(v)
                         ? json_integer_value(v)
                         : (json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0);
        json_t *rows = NULL;
        json_t *args = json_pack("{sI}", "id", (json_int_t)id);
        rc = ho_store_query(self->store, HO_Q_QUARANTINE_GET, args, &rows, err);
        json_decref(args);
        if (rc != HO_OK) {
            json_decref(rows);
            break;
        }
        json_t *row = json_array_get(rows, 0);
        ho_err_t why = {0};
        json_t *edited = NULL;
        int r = row ? s_replay_one(self, row, set, ho_msg_ts(in), &edited, out, &why)
                    : ho_err_set(&why, HO_ERR_NOT_FOUND, "ids", "no quarantine row %lld",
                                 (long long)id);
        if (r == HO_OK) {
            json_t *cols = json_pack("{sI}", "replayed_at", (json_int_t)ho_msg_ts(in));
            if (edited) {
                json_object_set_new(cols, "raw_json", edited);
            }
            rc = ho_store_update(self->store, HO_T_QUARANTINE, id, cols, err);
            json_decref(cols);
            json_array_append_new(done, json_integer(id));
        } else {
            json_decref(edited);
            json_array_append_new(failed,
                                  json_pack("{sIss}", "id", (json_int_t)id, "error", why.message));
        }
        json_decref(rows);
        if (rc != HO_OK) {
            break;
        }
    }
    if (rc == HO_OK) {
        ho_msg_t *m = sw_new_msg("dlq.replayed", "dr", ho_msg_id(in));
        json_object_set_new(ho_msg_payload(m), "replayed", done);
        json_object_set_new(ho_msg_payload(m), "failed", failed);
        return ho_out_emit(out, &m);
    }
    json_decref(done);
    json_decref(failed);
    return rc;
}
