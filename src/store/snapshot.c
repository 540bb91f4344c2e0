/* snapshot.c - the scoring snapshot of a lead (store.h: ho_store_score_snapshot), shared by
 * the store worker's score.request and `handoff score --explain / --dry-run`. */
#include "handoff/store.h"

static json_t *s_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *ho_store_snapshot_activities(ho_store_t *self, int64_t lead_id, int limit,
                                     int64_t until_ms, ho_err_t *err)
{
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead_id, "limit", limit);
    if (args && until_ms > 0) {
        json_object_set_new(args, "until", json_integer(until_ms));
    }
    json_t *rows = NULL;
    int rc = args ? ho_store_query(self, HO_Q_ACTIVITIES, args, &rows, err)
                  : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    json_decref(args);
    if (rc != HO_OK) {
        return NULL;
    }
    json_t *acts = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_array_append_new(
            acts, json_pack("{sOsOsOsOsOsO}", "type", json_object_get(r, "type"), "path",
                            json_object_get(r, "path"), "url", json_object_get(r, "url"),
                            "occurred_at", json_object_get(r, "occurred_at"), "campaign",
                            json_object_get(r, "campaign"), "asset", json_object_get(r, "asset")));
    }
    json_decref(rows);
    return acts;
}

json_t *ho_store_score_snapshot(ho_store_t *self, const ho_lead_t *lead, int64_t until_ms,
                                ho_err_t *err)
{
    json_t *acts = ho_store_snapshot_activities(self, lead->id, HO_STORE_SNAPSHOT_ACTIVITIES,
                                                until_ms, err);
    if (!acts) {
        return NULL;
    }
    return json_pack("{sIsososososo}", "lead_id", (json_int_t)lead->id, "email", s_str(lead->email),
                     "stage", s_str(lead->stage), "owner", s_str(lead->owner_rep_id), "fields",
                     ho_store_lead_fields(self, lead), "activities", acts);
}
