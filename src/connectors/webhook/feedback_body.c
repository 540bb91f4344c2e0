/* feedback_body.c - POST /feedback: one outcome object of the body as a feedback.raw
 * message (webhook_internal.h); the feedback worker validates it like a CSV row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/time.h"
#include "webhook_internal.h"

/* One outcome object of POST /feedback -> feedback.raw. */
ho_msg_t *ho_wh_feedback_raw(const json_t *obj, size_t index)
{
    static const struct {
        const char *key, *field;
    } names[] = {{"feedback_id", "feedback_id"}, {"email", "email"},
                 {"lead_email", "email"},        {"rep_id", "rep_id"},
                 {"outcome", "outcome"},         {"reason", "reason"},
                 {"occurred_at", "occurred_at"}, {"notes", "notes"},
                 {"amount", "amount"},           {NULL, NULL}};
    json_t *fields = json_object(), *extra = json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        const char *f = NULL;
        for (size_t i = 0; names[i].key && !f; i++) {
            f = strcmp(key, names[i].key) == 0 ? names[i].field : NULL;
        }
        if (!f) {
            json_object_set(extra, key, val);
            continue;
        }
        json_t *text = NULL;
        if (json_is_string(val)) {
            text = json_incref(val);
        } else if (!json_is_null(val)) {
            char *t = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            text = t ? json_string(t) : NULL;
            free(t);
        }
        if (text && !json_object_get(fields, f)) {
            json_object_set_new(fields, f, text);
        } else {
            json_decref(text);
        }
    }
    /* live traffic: event time is now when the sender did not say */
    if (!json_object_get(fields, "occurred_at")) {
        char iso[40];
        time_t now = (time_t)(ho_now_ms() / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(fields, "occurred_at", json_string(iso));
    }
    char sid[HO_MSG_MAX_ID], id[HO_MSG_MAX_ID];
    const char *fid = json_string_value(json_object_get(fields, "feedback_id"));
    if (fid && fid[0]) {
        snprintf(sid, sizeof sid, "%s", fid);
    } else {
        char *t = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        ho_msg_make_id(sid, sizeof sid, "doc", t ? t : "", t ? strlen(t) : 0);
        free(t);
    }
    ho_msg_make_id(id, sizeof id, "fb-http", sid, strlen(sid));
    ho_msg_t *m = ho_msg_new("feedback.raw");
    if (!m) {
        json_decref(fields);
        json_decref(extra);
        return NULL;
    }
    ho_msg_set_id(m, id);
    json_t *p = ho_msg_payload(m);
    json_object_set_new(p, "source", json_string("http"));
    json_t *ref =
        json_pack("{s:s, s:s, s:I}", "webhook", "feedback", "id", sid, "index", (json_int_t)index);
    json_object_set_new(p, "source_ref", ref ? ref : json_object());
    json_object_set_new(p, "fields", fields);
    if (json_object_size(extra)) {
        json_object_set_new(p, "extra", extra);
    } else {
        json_decref(extra);
    }
    return m;
}
