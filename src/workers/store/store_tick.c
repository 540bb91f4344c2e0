/* store_tick.c - the tick: SLA steps due (remind, reassign) and the periodic re-score. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/store/store_worker_int.h"

/* ---- tick: SLA and periodic re-score ---- */
static int s_breach(sw_ctx_t *self, const json_t *a, ho_lead_t *lead, const char *step, int64_t now,
                    ho_out_t *out, ho_err_t *err)
{
    int64_t aid = sw_int(a, "id", 0);
    const char *rep = sw_str(a, "rep_id");
    json_t *row =
        json_pack("{sIsIsssssI}", "assignment_id", (json_int_t)aid, "lead_id", (json_int_t)lead->id,
                  "rep_id", rep ? rep : "", "step", step, "at", (json_int_t)now);
    int64_t bid = 0;
    int rc = ho_store_add(self->store, HO_T_SLA_BREACHES, row, &bid, err);
    json_decref(row);
    if (rc != HO_OK || bid == 0) {
        return rc; /* each step once */
    }
    bool reassign = strcmp(step, "reassign") == 0;
    json_t *set = reassign ? json_pack("{ss}", "status", "reassigned")
                           : json_pack("{sI}", "reminded_at", (json_int_t)now);
    rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, aid, set, err);
    json_decref(set);
    if (rc != HO_OK) {
        return rc;
    }
    char why[200];
    snprintf(why, sizeof why, "%s not accepted by %s within the SLA (due %lld)%s", lead->stage,
             rep ? rep : "?", (long long)sw_int(a, "sla_due", 0),
             reassign ? ": reassigning" : ": reminder sent");
    rc = ho_store_note(self->store, lead, reassign ? "sla_reassign" : "sla_remind", now, "store",
                       why, NULL, err);
    if (rc != HO_OK) {
        return rc;
    }
    char key[128];
    snprintf(key, sizeof key, "%lld|%s", (long long)aid, step);
    ho_msg_t *m = sw_new_msg("sla.breach", "sla", key);
    ho_msg_set_ts(m, now);
    json_t *o = ho_msg_payload(m);
    json_object_set_new(o, "lead_id", json_integer(lead->id));
    json_object_set_new(o, "email", sw_jstr(lead->email));
    json_object_set_new(o, "rep_id", sw_jstr(rep));
    json_object_set(o, "assigned_at", json_object_get(a, "assigned_at"));
    json_object_set(o, "sla_due", json_object_get(a, "sla_due"));
    json_object_set_new(o, "now", json_integer(now));
    json_object_set_new(o, "step", json_string(step));
    json_t *exclude = json_array();
    if (rep) {
        json_array_append_new(exclude, json_string(rep));
    }
    rc = sw_route_fields(self, lead, o, now, exclude, "sla_breach", err);
    if (rc != HO_OK) {
        ho_msg_destroy(&m);
        return rc;
    }
    return ho_out_emit(out, &m);
}

/* Feedback still waiting for its lead feedback_grace after it arrived counts as
 * unknown_lead from now on (the row stays, and is still applied if the lead arrives). */
static int s_pending_grace(sw_ctx_t *self, int64_t now, ho_err_t *err)
{
    int64_t grace = sw_int(self->conf, "feedback_grace_ms", 7LL * 86400000);
    json_t *due = NULL, *args = json_pack("{sI}", "before", (json_int_t)(now - grace));
    int rc = ho_store_query(self->store, HO_Q_PENDING_DUE, args, &due, err);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(due, i, r)
    {
        const char *eid = sw_str(r, "event_id"), *imp = sw_str(r, "import_id");
        rc = rc == HO_OK ? ho_store_pending_mark(self->store, eid, "unknown_lead", now, err) : rc;
        rc = rc == HO_OK ? ho_store_import_count(self->store, imp, "pending", -1, err) : rc;
        rc = rc == HO_OK ? ho_store_import_count(self->store, imp, "unknown_lead", 1, err) : rc;
    }
    json_decref(due);
    return rc;
}

int sw_on_tick(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    int64_t now = sw_int(ho_msg_payload(in), "now", ho_msg_ts(in));
    json_t *due = NULL;
    json_t *args = json_pack("{sI}", "now", (json_int_t)now);
    int rc = ho_store_query(self->store, HO_Q_SLA_DUE, args, &due, err);
    json_decref(args);
    size_t i;
    json_t *a;
    ho_lead_t lead;
    ho_lead_init(&lead);
    json_array_foreach(due, i, a)
    {
        if (rc != HO_OK) {
            break;
        }
        rc = ho_store_lead_get(self->store, NULL, sw_int(a, "lead_id", 0), &lead, err);
        if (rc != HO_OK) {
            break;
        }
        if (!sw_int(a, "reminded", 0)) {
            rc = s_breach(self, a, &lead, "remind", now, out, err);
        }
        if (rc == HO_OK && sw_int(a, "reassign_due", INT64_MAX) <= now) {
            rc = s_breach(self, a, &lead, "reassign", now, out, err);
        }
    }
    ho_lead_clear(&lead);
    json_decref(due);
    if (rc == HO_OK) {
        rc = s_pending_grace(self, now, err);
    }
    if (rc != HO_OK) {
        return rc;
    }
    int64_t every = sw_int(self->conf, "rescore_interval_ms", 3600000);
    if (!self->rescored_once || now < self->last_rescore || now - self->last_rescore >= every) {
        json_t *ids = NULL;
        args = json_pack("{sIsI}", "since",
                         (json_int_t)(now - sw_int(self->conf, "rescore_window_ms", 0)), "limit",
                         (json_int_t)sw_int(self->conf, "rescore_limit", 1000));
        rc = ho_store_query(self->store, HO_Q_RESCORE, args, &ids, err);
        json_decref(args);
        json_array_foreach(ids, i, a)
        {
            sw_want_score(self, sw_int(a, "id", 0), "rescore", now, ho_msg_id(in), false);
        }
        json_decref(ids);
        self->rescored_once = true;
        self->last_rescore = now;
    }
    return rc;
}
