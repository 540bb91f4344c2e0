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
    int rc = args ? ho_store_query(self, HO_Q_SNAPSHOT_ACTIVITIES, args, &rows, err)
                  : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    json_decref(args);
    return rc == HO_OK ? rows : NULL;
}

json_t *ho_store_lead_snapshot(ho_store_t *self, const ho_lead_t *lead)
{
    return json_pack("{sIsosososo}", "lead_id", (json_int_t)lead->id, "email", s_str(lead->email),
                     "stage", s_str(lead->stage), "owner", s_str(lead->owner_rep_id), "fields",
                     ho_store_lead_fields(self, lead));
}

json_t *ho_store_score_snapshot(ho_store_t *self, const ho_lead_t *lead, int64_t until_ms,
                                ho_err_t *err)
{
    json_t *acts = ho_store_snapshot_activities(self, lead->id, HO_STORE_SNAPSHOT_ACTIVITIES,
                                                until_ms, err);
    json_t *snap = acts ? ho_store_lead_snapshot(self, lead) : NULL;
    if (!snap) {
        json_decref(acts);
        return acts ? (ho_err_set(err, HO_ERR_NOMEM, "", "out of memory"), NULL) : NULL;
    }
    json_object_set_new(snap, "activities", acts);
    return snap;
}
