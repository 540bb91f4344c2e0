/* store_outcomes.c - lead.outcome: sales feedback on a lead, and outcomes waiting for their
 * lead (pending_outcomes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/store/store_worker_int.h"

/* ---- lead.outcome ---- */
/* An acceptance after the deadline of an assignment no tick has seen pass (a replayed
 * history has no clock between the two): the breach the tick would have recorded, stamped
 * at the deadline. Step remind, so a tick that did see it pass has the row already
 * (UNIQUE(assignment_id, step): recorded once whichever comes first). No sla.breach goes
 * out: the rep has the lead, there is nobody to remind and nothing to reassign. */
/* The assigned rep's first answer (an acceptance or a rejection) came after the SLA
 * deadline and no tick saw the deadline pass (replayed history, a store that was down): the
 * breach is recorded as of the deadline, once per assignment (UNIQUE(assignment_id, step)),
 * with a note on the lead saying how late. */
static int s_late_answer_breach(sw_ctx_t *self, ho_lead_t *lead, const json_t *a, const char *answer,
                                int64_t at, ho_err_t *err)
{
    int64_t due = sw_int(a, "sla_due", HO_NULL_INT);
    const char *rep = sw_str(a, "rep_id");
    if (!rep || due == HO_NULL_INT || at <= due) {
        return HO_OK;
    }
    json_t *row =
        json_pack("{sIsIsssssI}", "assignment_id", (json_int_t)sw_int(a, "id", 0), "lead_id",
                  (json_int_t)lead->id, "rep_id", rep, "step", "remind", "at", (json_int_t)due);
    int64_t bid = 0;
    int rc = ho_store_add(self->store, HO_T_SLA_BREACHES, row, &bid, err);
    json_decref(row);
    if (rc != HO_OK || bid == 0) {
        return rc;
    }
    char why[200];
    snprintf(why, sizeof why, "%s by %.60s %.1f h after the SLA deadline (due %lld)", answer, rep,
             (double)(at - due) / 3600000.0, (long long)due);
    return ho_store_note(self->store, lead,
                         strcmp(answer, "accepted") == 0 ? "sla_late_accept" : "sla_late_reject",
                         at, "store", why, NULL, err);
}

/* Close the lead's open assignments (those of rep only, when rep is set) with status.
 * answer/answered_at: the rep's acceptance or rejection, which stops the SLA clock (an
 * acceptance also sets accepted_at); NULL for closings that are no answer (won, lost). */
static int s_close_assignments(sw_ctx_t *self, ho_lead_t *lead, const char *status, const char *rep,
                               const char *answer, int64_t answered_at, ho_err_t *err)
{
    int64_t lead_id = lead->id;
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead_id);
    int rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    size_t i;
    json_t *a;
    json_array_foreach(open, i, a)
    {
        if (rc != HO_OK) {
            break;
        }
        if (rep && (!sw_str(a, "rep_id") || strcmp(sw_str(a, "rep_id"), rep) != 0)) {
            continue;
        }
        json_t *set = json_pack("{ss}", "status", status);
        if (answer && strcmp(answer, "accepted") == 0) {
            json_object_set_new(set, "accepted_at", json_integer(answered_at));
        }
        if (answer) {
            rc = s_late_answer_breach(self, lead, a, answer, answered_at, err);
        }
        if (rc == HO_OK) {
            rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, sw_int(a, "id", 0), set, err);
        }
        json_decref(set);
    }
    json_decref(open);
    return rc;
}

/* Apply an outcome to a known lead. HO_ERR_STATE when the lifecycle refuses it. */
static int s_apply_outcome(sw_ctx_t *self, ho_lead_t *lead, const char *event_id, const json_t *p,
                           ho_err_t *err)
{
    const char *outcome = sw_str(p, "outcome");
    const char *event = ho_lifecycle_outcome_event(outcome, sw_str(p, "disposition"));
    if (!event) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.outcome", "unknown outcome \"%s\"",
                          outcome ? outcome : "(none)");
    }
    const char *reason = sw_str(p, "reason");
    if ((strcmp(outcome, "rejected") == 0 || strcmp(outcome, "lost") == 0) &&
        (!reason || !reason[0])) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.reason", "outcome %s needs a reason code",
                          outcome);
    }
    int64_t at = sw_int(p, "occurred_at", HO_NULL_INT);
    if (at == HO_NULL_INT) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.occurred_at", "outcome has no occurred_at");
    }
    int rc = ho_store_claim_event(self->store, event_id, "lead.outcome", at, err);
    if (rc <= 0) {
        return rc;
    }
    const char *rep = sw_str(p, "rep_id");
    bool not_owner = rep && rep[0] && lead->owner_rep_id && strcmp(rep, lead->owner_rep_id) != 0;
    char *reached = lead->stage ? strdup(lead->stage) : NULL;
    char why[200];
    snprintf(why, sizeof why, "%s%s%s", outcome, reason ? ": " : "", reason ? reason : "");
    rc = ho_store_transition(self->store, lead, event, at, rep && rep[0] ? rep : "feedback", why,
                             event_id, err);
    if (rc != HO_OK) {
        free(reached);
        return rc;
    }
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead->id));
    json_object_set_new(row, "event_id", json_string(event_id));
    static const char *const cols[] = {"feedback_id",  "rep_id", "outcome", "reason",
                                       "reason_owner", "notes",  "amount"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        json_object_set(row, cols[k], json_object_get(p, cols[k]));
    }
    json_object_set_new(row, "stage_reached", sw_jstr(reached));
    json_object_set_new(row, "occurred_at", json_integer(at));
    json_object_set_new(row, "not_owner", json_integer(not_owner));
    rc = ho_store_add(self->store, HO_T_OUTCOMES, row, NULL, err);
    json_decref(row);
    free(reached);
    if (rc == HO_OK && not_owner) {
        char note[200];
        snprintf(note, sizeof note, "%s recorded by %s, who does not own the lead (owner %s)",
                 outcome, rep, lead->owner_rep_id);
        rc = ho_store_note(self->store, lead, "outcome_not_owner", at, rep, note, event_id, err);
    }
    if (rc != HO_OK) {
        return rc;
    }
    /* The SLA clock stops only for the owner's acceptance (a flagged one does not count). */
    if (strcmp(outcome, "accepted") == 0 && !not_owner) {
        rc = s_close_assignments(self, lead, "accepted", lead->owner_rep_id ? NULL : rep,
                                 "accepted", at, err);
        if (rc == HO_OK && !lead->owner_rep_id && rep && rep[0]) {
            /* accepted before (or without) a routing decision: the accepting rep owns it */
            ho_lead_set(&lead->owner_rep_id, rep);
            rc = ho_store_lead_put(self->store, lead, err);
        }
    } else if (strcmp(outcome, "rejected") == 0 && !not_owner) {
        /* the owner's rejection answers the lead too: late, it is a breach */
        rc = s_close_assignments(self, lead, "closed", NULL, "rejected", at, err);
    } else if (strcmp(outcome, "rejected") == 0 || strcmp(outcome, "won") == 0 ||
               strcmp(outcome, "lost") == 0) {
        rc = s_close_assignments(self, lead, "closed", NULL, NULL, HO_NULL_INT, err);
    }
    if (rc == HO_OK && strcmp(outcome, "rejected") == 0 && !not_owner) {
        /* back to marketing: a later MQL is routed afresh */
        ho_lead_set(&lead->owner_rep_id, NULL);
        rc = ho_store_lead_put(self->store, lead, err);
    }
    return rc;
}

int sw_apply_pending(sw_ctx_t *self, const char *email, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    json_t *rows = NULL;
    json_t *args = json_pack("{ss}", "email", email);
    int rc = ho_store_query(self->store, HO_Q_PENDING, args, &rows, err);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (rc != HO_OK) {
            break;
        }
        json_t *body = json_loads(sw_str(r, "body") ? sw_str(r, "body") : "", 0, NULL);
        const char *eid = sw_str(r, "event_id");
        ho_lead_t lead;
        ho_lead_init(&lead);
        rc = ho_store_lead_get(self->store, email, 0, &lead, err);
        if (rc == HO_OK && (rc = ho_store_save(self->store, err)) == HO_OK) {
            ho_err_t why = {0};
            int arc = s_apply_outcome(self, &lead, eid, json_object_get(body, "payload"), &why);
            if (arc == HO_OK) {
                rc = ho_store_release(self->store, err);
                if (rc == HO_OK) {
                    rc = ho_store_pending_delete(self->store, eid, err);
                }
            } else {
                /* not applicable yet (e.g. accepted before the lead is an MQL): it waits */
                ho_store_undo(self->store);
                if (!sw_data_error(arc)) {
                    *err = why;
                    rc = arc;
                }
            }
        }
        ho_lead_clear(&lead);
        json_decref(body);
    }
    json_decref(rows);
    return rc;
}

int sw_on_outcome(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    char *email = ho_store_normalize_email(self->store, sw_str(p, "email"), err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        /* Sales spoke about someone marketing has not sent yet: keep it until the lead
         * arrives (applied from sw_apply_pending), never lose it. */
        json_t *body = json_pack("{sssssIsO}", "id", ho_msg_id(in), "type", ho_msg_type(in), "ts",
                                 (json_int_t)ho_msg_ts(in), "payload", p);
        json_t *row = json_pack("{sssssosI}", "event_id", ho_msg_id(in), "email", email, "body",
                                body, "received_at", (json_int_t)ho_now_ms());
        rc = ho_store_add(self->store, HO_T_PENDING_OUTCOMES, row, NULL, err);
        json_decref(row);
    } else if (rc == HO_OK) {
        rc = s_apply_outcome(self, &lead, ho_msg_id(in), p, err);
    }
    ho_lead_clear(&lead);
    free(email);
    return rc;
}

