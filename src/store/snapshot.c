/* snapshot.c - the scoring snapshot of a lead (store.h: ho_store_score_snapshot), shared by
 * the store worker's score.request and `handoff score --explain / --dry-run`. */
#include <string.h>

#include "common/msg_internal.h"
#include "handoff/store.h"
#include "store/store_int.h"

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

/* A string of the lead as json_string takes it: NULL packs nil, bytes that are not UTF-8 are
 * refused (the tree builder fails on them too). */
static int s_pack_str(msgpack_packer *pk, const char *key, const char *s, const ho_lead_t *lead,
                      ho_err_t *err)
{
    size_t n = s ? strlen(s) : 0;
    if (s && !ho_msg_utf8_valid(s, n)) {
        return ho_err_set(err, HO_ERR_FIELD, key, "lead %lld: %s is not valid UTF-8",
                          (long long)lead->id, key);
    }
    int e = msgpack_pack_str_with_body(pk, key, strlen(key));
    e |= s ? msgpack_pack_str_with_body(pk, s, n) : msgpack_pack_nil(pk);
    return e ? ho_err_set(err, HO_ERR_NOMEM, "", "out of memory") : HO_OK;
}

int ho_store_score_snapshot_pack(ho_store_t *self, const ho_lead_t *lead, int64_t until_ms,
                                 msgpack_packer *pk, ho_err_t *err)
{
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit",
                             HO_STORE_SNAPSHOT_ACTIVITIES);
    if (args && until_ms > 0) {
        json_object_set_new(args, "until", json_integer(until_ms));
    }
    int rc = args ? HO_OK : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    if (rc == HO_OK && (msgpack_pack_map(pk, 6) != 0 ||
                        msgpack_pack_str_with_body(pk, "lead_id", 7) != 0 ||
                        msgpack_pack_int64(pk, lead->id) != 0)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc == HO_OK) {
        rc = s_pack_str(pk, "email", lead->email, lead, err);
    }
    if (rc == HO_OK) {
        rc = s_pack_str(pk, "stage", lead->stage, lead, err);
    }
    if (rc == HO_OK) {
        rc = s_pack_str(pk, "owner", lead->owner_rep_id, lead, err);
    }
    if (rc == HO_OK && (msgpack_pack_str_with_body(pk, "fields", 6) != 0 ||
                        ho_store_lead_fields_pack(self, lead, pk) != HO_OK ||
                        msgpack_pack_str_with_body(pk, "activities", 10) != 0)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc == HO_OK) {
        rc = self->be->query_pack(self->db, HO_Q_SNAPSHOT_ACTIVITIES, args, pk, err);
    }
    json_decref(args);
    return rc;
}
