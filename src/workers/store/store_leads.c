/* store_leads.c - lead.normalized and activity.normalized, the lead snapshot the scorer and
 * router read, and the one score.request per lead per batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/store/store_worker_int.h"

/* ---- snapshots ---- */
json_t *sw_activities(sw_ctx_t *self, int64_t lead_id, int limit, ho_err_t *err)
{
    return ho_store_snapshot_activities(self->store, lead_id, limit, 0, err);
}

json_t *sw_score_obj(const ho_lead_t *lead)
{
    return json_pack("{sososososo}", "fit", sw_jint(lead->fit), "interest", sw_jint(lead->interest),
                     "grade", sw_jstr(lead->grade), "quadrant", sw_jstr(lead->quadrant),
                     "model_version", sw_jstr(lead->model_version));
}

ho_msg_t *sw_new_msg(const char *type, const char *id_prefix, const char *key)
{
    ho_msg_t *m = ho_msg_new(type);
    if (m && key) {
        char id[HO_MSG_MAX_ID];
        ho_msg_make_id(id, sizeof id, id_prefix, key, strlen(key));
        ho_msg_set_id(m, id);
    }
    return m;
}
/* One score.request per lead per batch: remember the newest trigger (the first of equal
 * times: the batch's order), and whether any trigger is applied for the first time. */
void sw_want_score(sw_ctx_t *self, int64_t lead_id, const char *reason, int64_t as_of,
                   const char *trigger, bool again)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)lead_id);
    json_t *cur = json_object_get(self->to_score, key);
    if (!json_object_get(self->to_score_undo, key)) {
        json_object_set_new(self->to_score_undo, key, cur ? json_deep_copy(cur) : json_null());
    }
    if (!cur) {
        json_object_set_new(self->to_score, key,
                            json_pack("{sssIsssb}", "reason", reason, "as_of", (json_int_t)as_of,
                                      "trigger", trigger ? trigger : "", "fresh", !again));
        return;
    }
    if (as_of > sw_int(cur, "as_of", 0)) {
        json_object_set_new(cur, "as_of", json_integer(as_of));
        json_object_set_new(cur, "trigger", json_string(trigger ? trigger : ""));
    }
    if (!again) {
        json_object_set_new(cur, "fresh", json_true());
    }
    /* "new" beats "update" beats "activity": the scorer learns the lead is new */
    const char *r = sw_str(cur, "reason");
    if (strcmp(reason, "new") == 0 ||
        (strcmp(reason, "update") == 0 && strcmp(r, "activity") == 0)) {
        json_object_set_new(cur, "reason", json_string(reason));
    }
}

int sw_flush_scores(sw_ctx_t *self, ho_out_t *out, ho_err_t *err)
{
    ho_lead_t lead;
    ho_lead_init(&lead);
    /* the batch's seqs in one take (a counter row write per request was a tenth of a new
     * lead's handler) */
    int64_t seq = 0;
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(self->to_score, key, v)
    {
        n += json_is_true(json_object_get(v, "fresh")); /* a redelivery takes no new seq */
    }
    int rc = n ? ho_store_counter_take(self->store, "score_seq", (int64_t)n, &seq, err) : HO_OK;
    json_object_foreach(rc == HO_OK ? self->to_score : NULL, key, v)
    {
        int64_t id = strtoll(key, NULL, 10);
        rc = ho_store_lead_get(self->store, NULL, id, &lead, err);
        if (rc == HO_ERR_NOT_FOUND) {
            rc = HO_OK;
            continue;
        }
        if (rc != HO_OK) {
            break;
        }
        if (lead.erased) {
            continue;
        }
        /* Event time, but never older than the lead's last scoring: a late activity that
         * happened before it would be scored "as of" the past and its lead.scored dropped as
         * an older score (sw_on_scored), so the lead's score would never move. Scoring as of
         * the last scoring counts the late activity (it is not after as_of) and decays to
         * the same point in time the lead's score already stands at. */
        int64_t trigger = sw_int(v, "as_of", 0), as_of = trigger;
        if (lead.scored_at != HO_NULL_INT && lead.scored_at > as_of) {
            as_of = lead.scored_at;
        }
        /* The id names the lead and the event that asked (the batch's newest trigger), never
         * the lead's state: a redelivered record asks again with the id its first delivery
         * gave the request, whatever happened to the lead since, so the scorer's lead.scored
         * (its id derives from this one) is the same event again and changes nothing (issue
         * 12 item 7). Two late records of one lead are two triggers: two ids. */
        char k[600];
        snprintf(k, sizeof k, "%lld|%s|%lld", (long long)id, sw_str(v, "trigger"),
                 (long long)trigger);
        ho_msg_t *m = sw_new_msg("score.request", "sr", k);
        if (!m) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            break;
        }
        ho_msg_set_ts(m, as_of);
        /* Two requests of one lead can be as of the same time (as_of clamped above) and be
         * answered in either order by two scorers: seq says which snapshot is newer (the
         * scorer echoes it in lead.scored, sw_on_scored compares it after as_of). A counter
         * kept in the database, not the clock (leads.score_seq stores it, and the same inputs
         * must give the same rows), strictly increasing across restarts. */
        bool fresh = json_is_true(json_object_get(v, "fresh"));
        int64_t own = lead.score_seq != HO_NULL_INT ? lead.score_seq : 0;
        /* packed straight from the rows (ho_store_score_snapshot_pack): a snapshot of
         * hundreds of activities as a jansson tree, encoded and freed, was most of an active
         * person's re-score */
        const json_t *reason = json_object_get(v, "reason");
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        int e = msgpack_pack_map(&pk, reason ? 4 : 3);
        e |= msgpack_pack_str_with_body(&pk, "as_of", 5) | msgpack_pack_int64(&pk, as_of);
        e |= msgpack_pack_str_with_body(&pk, "seq", 3) |
             msgpack_pack_int64(&pk, fresh ? seq++ : own);
        if (reason) {
            e |= msgpack_pack_str_with_body(&pk, "reason", 6) |
                 (ho_msg_pack_json(&pk, reason) != HO_OK);
        }
        e |= msgpack_pack_str_with_body(&pk, "lead", 4);
        rc = e ? ho_err_set(err, HO_ERR_NOMEM, "", "out of memory")
               : ho_store_score_snapshot_pack(self->store, &lead, 0, &pk, err);
        if (rc == HO_OK && ho_msg_set_payload_packed(m, &sb.data, sb.size) != HO_OK) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
        free(sb.data); /* NULL once the message took it */
        if (rc != HO_OK) {
            ho_msg_destroy(&m);
            break;
        }
        if ((rc = ho_out_emit(out, &m)) != HO_OK) {
            break;
        }
    }
    ho_lead_clear(&lead);
    json_object_clear(self->to_score);
    return rc;
}
/* ---- lead.normalized / activity.normalized ---- */

/* The record's email as the store keys it (malloc'd), NULL with err. */
static char *s_record_email(sw_ctx_t *self, const json_t *p, ho_err_t *err)
{
    const char *raw = sw_str(p, "email");
    if (!raw) {
        raw = sw_str(json_object_get(p, "fields"), "email");
    }
    return ho_store_normalize_email(self->store, raw, err);
}

/* Funnel rank of a stage a CRM export may give; -1 for one it does not move a lead to
 * (ML, MQL: marketing's model decides those). */
static int s_crm_rank(const char *stage)
{
    static const char *const names[] = {"DISQUALIFIED", "SAL", "SQL", "OPPORTUNITY", "WON", "LOST"};
    static const int ranks[] = {0, 1, 2, 3, 4, 4};
    for (size_t i = 0; stage && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(stage, names[i]) == 0) {
            return ranks[i];
        }
    }
    return -1;
}

static int s_stage_rank(const char *stage)
{
    int r = s_crm_rank(stage);
    return r < 0 || (stage && strcmp(stage, "DISQUALIFIED") == 0) ? 0 : r;
}

/* What the CRM says about the person (lead.normalized fields crm_stage, owner): a lead it
 * calls SAL or later enters at that stage (actor crm_import), forward only; a lead marketing
 * has not passed on may be DISQUALIFIED by it; an owner is kept (no routing, no SLA) unless
 * store.yaml reroute_owned. */
static int s_crm_facts(sw_ctx_t *self, int64_t lead_id, const ho_msg_t *in, ho_err_t *err)
{
    const json_t *f = json_object_get(ho_msg_payload(in), "fields");
    const char *crm = sw_str(f, "crm_stage"), *owner = sw_str(f, "owner");
    bool reroute = json_is_true(json_object_get(self->conf, "reroute_owned"));
    int rank = s_crm_rank(crm);
    if (rank < 0 && (!owner || !owner[0] || reroute)) {
        return HO_OK;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, NULL, lead_id, &lead, err);
    int64_t at = sw_int(ho_msg_payload(in), "observed_at", ho_msg_ts(in));
    if (rc == HO_OK && owner && owner[0] && !reroute && !lead.owner_rep_id) {
        ho_lead_set(&lead.owner_rep_id, owner);
        rc = ho_store_lead_put(self->store, &lead, err);
        char why[200];
        snprintf(why, sizeof why, "owner %.120s from the CRM export", owner);
        rc = rc == HO_OK ? ho_store_note(self->store, &lead, "crm_owner", at, "crm_import", why,
                                         ho_msg_id(in), err)
                         : rc;
    }
    bool pre_sales = s_stage_rank(lead.stage) == 0;
    bool forward = rank > 0 && rank > s_stage_rank(lead.stage) &&
                   (!lead.crm_stage || rank > s_stage_rank(lead.crm_stage));
    bool disq = rank == 0 && pre_sales && strcmp(lead.stage, "DISQUALIFIED") != 0 &&
                (!lead.crm_stage || s_stage_rank(lead.crm_stage) == 0);
    if (rc == HO_OK && (forward || disq)) {
        ho_lead_set(&lead.crm_stage, crm);
        char why[120];
        snprintf(why, sizeof why, "the CRM export says %s", crm);
        rc = ho_store_set_stage(self->store, &lead, crm, at, "crm_import", why, ho_msg_id(in), err);
    } else if (rc == HO_OK && rank > 0 &&
               (!lead.crm_stage || rank > s_stage_rank(lead.crm_stage))) {
        ho_lead_set(&lead.crm_stage, crm); /* sales already took it further */
        rc = ho_store_lead_put(self->store, &lead, err);
    }
    ho_lead_clear(&lead);
    return rc;
}

/* The activity row of a known lead and its touch times. 1 = attached, 0 = the lead already
 * holds it (the same event id at the same time: applied before), < 0 = error. */
static int s_attach(sw_ctx_t *self, ho_lead_t *lead, const char *event_id, const json_t *p,
                    int64_t at, ho_err_t *err)
{
    ho_activity_row_t row = {
        .lead_id = lead->id,
        .event_id = event_id,
        .type = sw_str(p, "type"),
        .occurred_at = at,
        .url = json_object_get(p, "url"),
        .path = json_object_get(p, "path"),
        .campaign = json_object_get(p, "campaign"),
        .asset = json_object_get(p, "asset"),
        .source_system = json_object_get(p, "source_system"),
    };
    int added = ho_store_add_activity(self->store, &row, err);
    if (added != 1) {
        return added;
    }
    if (lead->first_touch_at == HO_NULL_INT || at < lead->first_touch_at) {
        lead->first_touch_at = at;
    }
    if (lead->last_touch_at == HO_NULL_INT || at > lead->last_touch_at) {
        lead->last_touch_at = at;
    }
    int rc = ho_store_lead_put(self->store, lead, err);
    return rc == HO_OK ? 1 : rc;
}

/* Activities that came before their person did (unmatched_activities): attached now and
 * scored. Their import_results stay as counted when first applied (`unmatched` for that
 * import, forever: CONTRACT-12 section 2 counts a record when it is first applied). */
static int s_attach_unmatched(sw_ctx_t *self, int64_t lead_id, const char *email, ho_err_t *err)
{
    if (!self->unmatched_maybe) {
        return HO_OK; /* none kept since the worker started on an empty table */
    }
    json_t *rows = NULL, *args = json_pack("{ss}", "email", email);
    int rc = ho_store_query(self->store, HO_Q_UNMATCHED, args, &rows, err);
    json_decref(args);
    ho_lead_t lead;
    ho_lead_init(&lead);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *body = json_loads(sw_str(r, "body") ? sw_str(r, "body") : "", 0, NULL);
        const json_t *p = json_object_get(body, "payload");
        const char *eid = sw_str(r, "event_id");
        rc = rc == HO_OK ? ho_store_lead_get(self->store, NULL, lead_id, &lead, err) : rc;
        if (rc == HO_OK) {
            int attached = s_attach(self, &lead, eid, p, sw_int(p, "occurred_at", 0), err);
            rc = attached < 0 ? attached : HO_OK;
        }
        rc = rc == HO_OK ? ho_store_unmatched_delete(self->store, eid, err) : rc;
        json_decref(body);
    }
    ho_lead_clear(&lead);
    json_decref(rows);
    return rc;
}

/* A lead record applied before (a redelivered batch whose reply was lost): the same
 * score.request again (the id names the lead, its state and the trigger, so it is the one
 * the first delivery emitted while nothing changed since), never silence (issue 14). */
static int s_lead_again(sw_ctx_t *self, const ho_msg_t *in, ho_err_t *err)
{
    char *email = s_record_email(self, ho_msg_payload(in), err);
    if (!email) {
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    free(email);
    json_t *first = NULL;
    if (rc == HO_OK && !lead.erased) {
        json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead.id);
        rc = ho_store_query(self->store, HO_Q_FIRST_SOURCE, args, &first, err);
        json_decref(args);
        const char *by = sw_str(json_array_get(first, 0), "event_id");
        bool created = by && strcmp(by, ho_msg_id(in)) == 0;
        int64_t at = sw_int(ho_msg_payload(in), "observed_at", ho_msg_ts(in));
        if (rc == HO_OK) {
            sw_want_score(self, lead.id, created ? "new" : "update", at, ho_msg_id(in), true);
        }
    } else if (rc == HO_ERR_NOT_FOUND) {
        rc = HO_OK; /* erased since */
    }
    json_decref(first);
    ho_lead_clear(&lead);
    return rc;
}

int sw_on_lead(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    ho_upsert_t res;
    const json_t *p = ho_msg_payload(in);
    int rc = ho_store_upsert_lead(self->store, ho_msg_id(in), p, &res, err);
    if (rc == HO_OK && res.duplicate) {
        return s_lead_again(self, in, err);
    }
    if (rc != HO_OK) {
        return rc;
    }
    rc = ho_store_import_count(self->store, sw_str(p, "import_id"), res.created ? "new" : "merged",
                               1, err);
    if (rc == HO_OK) {
        rc = s_crm_facts(self, res.lead_id, in, err);
    }
    if (rc == HO_OK) {
        /* also when the record changed nothing: a redelivery of it asks again (s_lead_again)
         * with this request's id, which must then be one the first delivery sent */
        int64_t at = sw_int(p, "observed_at", ho_msg_ts(in));
        sw_want_score(self, res.lead_id, res.created ? "new" : "update", at, ho_msg_id(in), false);
    }
    if (rc == HO_OK && res.created) {
        /* the new lead's email is the record's, normalized as the upsert keyed it (reading
         * the row back by id for it was ~13% of the handler) */
        char *email = s_record_email(self, p, err);
        if (!email) {
            return err->code;
        }
        rc = s_attach_unmatched(self, res.lead_id, email, err);
        if (rc == HO_OK) {
            rc = sw_apply_pending(self, email, out, err);
        }
        free(email);
    }
    return rc;
}

/* Engagement from someone no lead source has sent: kept (unmatched_activities), counted,
 * attached when the person arrives. Activities never create a lead (issue 12). */
static int s_activity_unmatched(sw_ctx_t *self, const ho_msg_t *in, const char *email, int64_t at,
                                ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    /* the body keeps what the activities row will take (s_attach) and no more: an attached
     * activity keeps no attributes, source reference or raw email either (~390 instead of
     * ~630 bytes per row; docs/store-schema.md, version 7) */
    static const char *const keep[] = {"type", "url", "path", "campaign", "asset", "source_system"};
    json_t *kept = json_object();
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(p, keep[i]);
        if (v) {
            json_object_set(kept, keep[i], v);
        }
    }
    json_object_set_new(kept, "occurred_at", json_integer(at));
    json_t *body = json_pack("{so}", "payload", kept);
    json_t *row =
        json_pack("{sssssosIso}", "event_id", ho_msg_id(in), "email", email, "body", body,
                  "occurred_at", (json_int_t)at, "import_id", sw_jstr(sw_str(p, "import_id")));
    int rc = ho_store_add(self->store, HO_T_UNMATCHED_ACTIVITIES, row, NULL, err);
    json_decref(row);
    self->unmatched_maybe = true; /* also when rolled back: one query too many, never too few */
    if (rc == HO_OK) {
        rc = ho_store_import_count(self->store, sw_str(p, "import_id"), "unmatched", 1, err);
    }
    return rc;
}

int sw_on_activity(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    const char *type = sw_str(p, "type");
    if (!type || !type[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.type", "activity has no type");
    }
    char *email = sw_payload_email(self, p, err);
    if (!email) {
        return err->code;
    }
    int64_t at = sw_int(p, "occurred_at", ho_msg_ts(in));
    ho_lead_t lead;
    ho_lead_init(&lead);
    /* The idempotency key of a known person's activity is its row (schema version 10:
     * UNIQUE lead, time, event id), not an events row: one B-tree insert less per activity.
     * An unknown person's activity claims its event id as every other message does. A lead
     * is never re-keyed, and an activity kept unmatched is attached (same id, same time) in
     * the transaction that makes its lead, so a redelivery always finds what was applied. */
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        int claimed =
            ho_store_claim_event(self->store, ho_msg_id(in), "activity.normalized", at, err);
        /* 0: kept unmatched the first time: nothing goes downstream */
        if (claimed == 1) {
            rc = s_activity_unmatched(self, in, email, at, err);
        } else {
            rc = claimed == 0 ? HO_OK : claimed;
        }
    } else if (rc == HO_OK) {
        int attached = s_attach(self, &lead, ho_msg_id(in), p, at, err);
        if (attached == 1) {
            rc = ho_store_import_count(self->store, sw_str(p, "import_id"), "matched", 1, err);
            if (rc == HO_OK) {
                sw_want_score(self, lead.id, "activity", at, ho_msg_id(in), false);
            }
        } else if (attached == 0 && !lead.erased) {
            /* applied before (a redelivery): the same score.request again, never silence */
            sw_want_score(self, lead.id, "activity", at, ho_msg_id(in), true);
        } else if (attached < 0) {
            rc = attached;
        }
    }
    free(email);
    ho_lead_clear(&lead);
    return rc;
}
