/* store_outcomes.c - lead.outcome: sales feedback on a lead, and outcomes waiting for their
 * lead (pending_outcomes). */
#include <math.h>
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
static int s_late_answer_breach(sw_ctx_t *self, ho_lead_t *lead, const json_t *a,
                                const char *answer, int64_t at, ho_err_t *err)
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

/* The SLA clock and ownership, as the outcome says at its arrival: the owner's acceptance
 * stops the clock (a flagged one does not count), a rejection gives the lead back to
 * marketing, won/lost close what is open. */
static int s_assignment_effects(sw_ctx_t *self, ho_lead_t *lead, const char *outcome,
                                const char *rep, bool not_owner, int64_t at, ho_err_t *err)
{
    int rc = HO_OK;
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

/* payload.flags (the feedback worker's: a list of codes) as comma-separated text */
static void s_worker_flags(const json_t *p, char *out, size_t cap)
{
    size_t used = 0, i;
    json_t *f;
    out[0] = '\0';
    json_array_foreach(json_object_get(p, "flags"), i, f)
    {
        if (json_is_string(f) && used < cap) {
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                                     json_string_value(f));
        }
    }
}

/* Check what cannot be a fact about this lead; HO_OK when the outcome can be recorded. */
static int s_outcome_check(const ho_lead_t *lead, const json_t *p, int64_t *at_p, ho_err_t *err)
{
    const char *outcome = sw_str(p, "outcome");
    if (!ho_lifecycle_outcome_event(outcome, NULL)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.outcome", "unknown outcome \"%s\"",
                          outcome ? outcome : "(none)");
    }
    int64_t at = sw_int(p, "occurred_at", HO_NULL_INT);
    if (at == HO_NULL_INT) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.occurred_at", "outcome has no occurred_at");
    }
    if (at < lead->created_at) {
        return ho_err_set(err, HO_ERR_STATE, "payload.occurred_at",
                          "%s dated %lld, before lead %lld was created (%lld): it cannot be a "
                          "fact about that lead",
                          outcome, (long long)at, (long long)lead->id, (long long)lead->created_at);
    }
    *at_p = at;
    return HO_OK;
}

/* Record an outcome of a known lead and derive its stages again (lifecycle.h): sales' word is
 * never refused for stage order. 1 = recorded now, 0 = recorded before, else an error
 * (HO_ERR_STATE on payload.occurred_at: before_lead_created). *flagged_p: recorded with a
 * flag. */
static int s_apply_outcome(sw_ctx_t *self, ho_lead_t *lead, const char *event_id, const json_t *p,
                           bool *flagged_p, ho_err_t *err)
{
    int64_t at = 0;
    int rc = s_outcome_check(lead, p, &at, err);
    if (rc != HO_OK) {
        return rc;
    }
    rc = ho_store_claim_event(self->store, event_id, "lead.outcome", at, err);
    if (rc <= 0) {
        return rc;
    }
    const char *outcome = sw_str(p, "outcome"), *reason = sw_str(p, "reason");
    bool needs = strcmp(outcome, "rejected") == 0 || strcmp(outcome, "lost") == 0;
    const char *rep = sw_str(p, "rep_id");
    bool not_owner = rep && rep[0] && lead->owner_rep_id && strcmp(rep, lead->owner_rep_id) != 0;
    char wflags[256];
    s_worker_flags(p, wflags, sizeof wflags);
    const json_t *amount = json_object_get(p, "amount");
    ho_outcome_row_t row = {
        .lead_id = lead->id,
        .event_id = event_id,
        .feedback_id = sw_str(p, "feedback_id"),
        .rep_id = rep,
        .outcome = outcome,
        .reason = needs && (!reason || !reason[0]) ? "unspecified" : reason,
        .reason_owner = sw_str(p, "reason_owner"),
        .disposition = sw_str(p, "disposition"),
        .notes = sw_str(p, "notes"),
        .import_id = sw_str(p, "import_id"),
        .flags = wflags,
        .occurred_at = at,
        .amount = json_is_number(amount) ? json_number_value(amount) : NAN,
        .not_owner = not_owner,
    };
    rc = ho_store_outcome_add(self->store, &row, NULL, err);
    char *flags = NULL;
    if (rc == HO_OK) {
        rc = ho_store_derive_stages(self->store, lead, event_id, &flags, err);
    }
    *flagged_p = flags && flags[0];
    free(flags);
    /* a non-owner's outcome is one fact: its outcomes row (not_owner 1, rep_id) and the
     * sales history derived from it; no second stage_history row (actor = the rep, repeating
     * the stage: counted as a second SAL by anyone reading history rows into SAL) */
    if (rc == HO_OK) {
        rc = s_assignment_effects(self, lead, outcome, rep, not_owner, at, err);
    }
    return rc == HO_OK ? 1 : rc;
}

/* import_results of a feedback record applied for the first time (from: the result it was
 * counted under while it waited, moved to recorded) */
static int s_count_recorded(sw_ctx_t *self, const json_t *p, const char *from, bool flagged,
                            ho_err_t *err)
{
    const char *imp = sw_str(p, "import_id");
    int rc = ho_store_import_count(self->store, imp, "recorded", 1, err);
    if (rc == HO_OK && from) {
        rc = ho_store_import_count(self->store, imp, from, -1, err);
    }
    if (rc == HO_OK && flagged) {
        rc = ho_store_import_count(self->store, imp, "flagged", 1, err);
    }
    return rc;
}

/* A waiting outcome dated before its lead was created: quarantined before_lead_created. */
static int s_pending_refused(sw_ctx_t *self, const json_t *row, const json_t *body,
                             const ho_err_t *why, ho_err_t *err)
{
    const json_t *p = json_object_get(body, "payload");
    const char *eid = sw_str(row, "event_id");
    char key[512], qid[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "%s|store|before_lead_created|%s", eid, why->field);
    ho_msg_make_id(qid, sizeof qid, "q", key, len > 0 ? (size_t)len : 0);
    int rc = sw_quarantine_row(self, qid, "store", "before_lead_created", why->field, why->message,
                               json_object_get(p, "source_ref"), sw_str(p, "source"), eid,
                               "lead.outcome", p, sw_int(body, "ts", 0), err);
    if (rc == HO_OK) {
        rc = ho_store_import_count(self->store, sw_str(p, "import_id"), "before_lead_created", 1,
                                   err);
    }
    if (rc == HO_OK) {
        rc = ho_store_import_count(self->store, sw_str(p, "import_id"),
                                   sw_str(row, "status") ? sw_str(row, "status") : "pending", -1,
                                   err);
    }
    if (rc == HO_OK) {
        rc = ho_store_pending_delete(self->store, eid, err);
    }
    return rc;
}

int sw_apply_pending(sw_ctx_t *self, const char *email, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    if (!self->pending_maybe) {
        return HO_OK; /* none kept since the worker started on an empty table */
    }
    json_t *rows = NULL;
    json_t *args = json_pack("{ss}", "email", email);
    int rc = ho_store_query(self->store, HO_Q_PENDING, args, &rows, err);
    json_decref(args);
    size_t i;
    json_t *r;
    ho_lead_t lead;
    ho_lead_init(&lead);
    json_array_foreach(rows, i, r)
    {
        json_t *body = json_loads(sw_str(r, "body") ? sw_str(r, "body") : "", 0, NULL);
        const json_t *p = json_object_get(body, "payload");
        const char *eid = sw_str(r, "event_id");
        rc = rc == HO_OK ? ho_store_lead_get(self->store, email, 0, &lead, err) : rc;
        ho_err_t why = {0};
        bool flagged = false;
        int arc = rc == HO_OK ? s_apply_outcome(self, &lead, eid, p, &flagged, &why) : rc;
        if (rc != HO_OK) {
            /* keep rc */
        } else if (arc == 1) {
            rc = s_count_recorded(self, p, sw_str(r, "status") ? sw_str(r, "status") : "pending",
                                  flagged, err);
            rc = rc == HO_OK ? ho_store_pending_delete(self->store, eid, err) : rc;
        } else if (arc == 0) {
            rc = ho_store_pending_delete(self->store, eid, err);
        } else if (arc == HO_ERR_STATE) {
            rc = s_pending_refused(self, r, body, &why, err);
        } else {
            /* a waiting row the store itself took (s_on_outcome checked it): an engine error */
            *err = why;
            rc = arc;
        }
        json_decref(body);
    }
    ho_lead_clear(&lead);
    json_decref(rows);
    return rc;
}

/* Sales spoke about someone no lead source has sent yet: the outcome waits (pending) until
 * the lead arrives, and counts as unknown_lead after store.yaml feedback_grace (tick). */
static int s_outcome_wait(sw_ctx_t *self, const ho_msg_t *in, const char *email, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    int64_t at = 0;
    ho_lead_t none;
    ho_lead_init(&none);
    none.created_at = INT64_MIN;
    int rc = s_outcome_check(&none, p, &at, err);
    if (rc != HO_OK) {
        return rc;
    }
    json_t *body = json_pack("{sssssIsO}", "id", ho_msg_id(in), "type", ho_msg_type(in), "ts",
                             (json_int_t)ho_msg_ts(in), "payload", p);
    /* received_at is the message's time (never the wall clock: the same input gives the
     * same rows) */
    json_t *row =
        json_pack("{sssssosIssso}", "event_id", ho_msg_id(in), "email", email, "body", body,
                  "received_at", (json_int_t)ho_msg_ts(in), "status", "pending", "import_id",
                  json_object_get(p, "import_id") ? json_incref(json_object_get(p, "import_id"))
                                                  : json_null());
    int64_t id = 0;
    self->pending_maybe = true; /* also when rolled back: one query too many, never too few */
    rc = ho_store_add(self->store, HO_T_PENDING_OUTCOMES, row, &id, err);
    json_decref(row);
    if (rc == HO_OK && id != 0) {
        rc = ho_store_import_count(self->store, sw_str(p, "import_id"), "pending", 1, err);
    }
    return rc;
}

int sw_on_outcome(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    const json_t *p = ho_msg_payload(in);
    char *email = sw_payload_email(self, p, err);
    if (!email) {
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self->store, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        rc = s_outcome_wait(self, in, email, err);
    } else if (rc == HO_OK) {
        bool flagged = false;
        rc = s_apply_outcome(self, &lead, ho_msg_id(in), p, &flagged, err);
        rc = rc == 1 ? s_count_recorded(self, p, NULL, flagged, err) : rc;
    }
    ho_lead_clear(&lead);
    free(email);
    return rc;
}
