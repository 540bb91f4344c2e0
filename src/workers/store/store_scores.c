/* store_scores.c - lead.scored: the score row, marketing's automatic moves (qualify, decay) and
 * the route.request of an unowned MQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/scoring.h"
#include "workers/store/store_worker_int.h"

/* route.request fields (also carried by sla.breach so route can reassign alone) */
int sw_route_fields(sw_ctx_t *self, const ho_lead_t *lead, json_t *p, int64_t as_of,
                    json_t *exclude, const char *reason, ho_err_t *err)
{
    /* fields and scores, no activities: routing reads none, and the newest 500 of an active
     * person were most of every route.request and sla.breach (proto/messages.md) */
    json_t *snap = ho_store_lead_snapshot(self->store, lead);
    if (!snap) {
        json_decref(exclude);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    json_object_set_new(snap, "score", sw_score_obj(lead));
    json_t *owner = json_null();
    if (lead->domain && !lead->personal_email) {
        json_t *rows = NULL;
        json_t *args = json_pack("{sssI}", "domain", lead->domain, "lead_id", (json_int_t)lead->id);
        int rc = ho_store_query(self->store, HO_Q_DOMAIN_OWNER, args, &rows, err);
        json_decref(args);
        if (rc != HO_OK) {
            json_decref(snap);
            json_decref(exclude);
            return rc;
        }
        json_t *o = json_object_get(json_array_get(rows, 0), "owner_rep_id");
        if (json_is_string(o)) {
            owner = json_incref(o);
        }
        json_decref(rows);
    }
    json_object_set_new(p, "lead", snap);
    json_object_set_new(p, "as_of", json_integer(as_of));
    json_object_set_new(p, "account_owner", owner);
    json_object_set_new(p, "exclude", exclude ? exclude : json_array());
    json_object_set_new(p, "reason", json_string(reason));
    return HO_OK;
}

/* route.request.as_of for an unowned MQL: the time of its ML->MQL transition (messages.md,
 * "Time semantics"), which also keys the request id. A re-score that lands before the router's
 * lead.assigned (a replayed import outruns the router) thus repeats the same request: the
 * router answers a known id with the same decision and the store takes that lead.assigned once.
 * (It used to ask anew as of each re-score: one lead got an assignment per re-score, the last
 * one stamped at its newest activity.) Only a lead the router has already answered without an
 * owner (an open queued assignment) asks anew, as of this score. */
static int64_t s_route_as_of(sw_ctx_t *self, const ho_lead_t *lead, int64_t as_of, int *rc,
                             ho_err_t *err)
{
    if (lead->mql_at == HO_NULL_INT || lead->mql_at > as_of) {
        return as_of;
    }
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead->id);
    *rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    int64_t at = *rc == HO_OK && json_array_size(open) == 0 ? lead->mql_at : as_of;
    json_decref(open);
    return at;
}

int sw_emit_route(sw_ctx_t *self, const ho_lead_t *lead, int64_t as_of, const char *why,
                  ho_out_t *out, ho_err_t *err)
{
    char key[256];
    snprintf(key, sizeof key, "%s|%lld|%lld", why, (long long)lead->id, (long long)as_of);
    ho_msg_t *m = sw_new_msg("route.request", "rr", key);
    if (!m) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    ho_msg_set_ts(m, as_of);
    int rc = sw_route_fields(self, lead, ho_msg_payload(m), as_of, NULL, "mql", err);
    if (rc != HO_OK) {
        ho_msg_destroy(&m);
        return rc;
    }
    return ho_out_emit(out, &m);
}

/* ---- lead.scored ---- */
/* Sales sent the lead back (a rejection, not a decayed score) and nothing has happened since:
 * the score that made it an MQL is still the score it has, so re-qualifying it on the next
 * re-score would hand the rep the lead they just refused. It becomes an MQL again only on
 * engagement (an activity or a lead record) after the rejection. */
static int s_sales_recycled(sw_ctx_t *self, const ho_lead_t *lead, bool *hold, ho_err_t *err)
{
    *hold = false;
    json_t *rows = NULL;
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit", 1000);
    int rc = ho_store_query(self->store, HO_Q_HISTORY, args, &rows, err);
    json_decref(args);
    const json_t *last = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *kind = sw_str(r, "kind");
        if (!kind || strcmp(kind, "transition") == 0) {
            last = r;
        }
    }
    if (rc == HO_OK && last && sw_str(last, "to_stage") &&
        strcmp(sw_str(last, "to_stage"), "RECYCLED") == 0 && sw_str(last, "actor") &&
        strcmp(sw_str(last, "actor"), "score") != 0) {
        int64_t since = sw_int(last, "at", 0);
        *hold = lead->last_touch_at == HO_NULL_INT || lead->last_touch_at <= since;
    }
    json_decref(rows);
    return rc;
}

char *sw_payload_email(sw_ctx_t *self, const json_t *p, ho_err_t *err)
{
    char *email = ho_store_normalize_email(self->store, sw_str(p, "email"), err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
    }
    return email;
}

int sw_find_lead(sw_ctx_t *self, const json_t *p, ho_lead_t *lead, ho_err_t *err)
{
    int64_t id = sw_int(p, "lead_id", 0);
    int rc = HO_ERR_NOT_FOUND;
    if (id > 0) {
        rc = ho_store_lead_get(self->store, NULL, id, lead, err);
    }
    if (rc == HO_ERR_NOT_FOUND && sw_str(p, "email")) {
        char *email = ho_store_normalize_email(self->store, sw_str(p, "email"), err);
        if (!email) {
            return err->code;
        }
        rc = ho_store_lead_get(self->store, email, 0, lead, err);
        free(email);
    }
    if (rc == HO_ERR_NOT_FOUND) {
        ho_err_set(err, HO_ERR_NOT_FOUND, "payload.lead_id", "no lead with id %lld or email %s",
                   (long long)id, sw_str(p, "email") ? sw_str(p, "email") : "(none)");
    }
    return rc;
}

static int s_route_again(sw_ctx_t *self, const ho_lead_t *lead, const json_t *p, ho_out_t *out,
                         ho_err_t *err)
{
    int rc = HO_OK;
    if (json_is_true(json_object_get(p, "mql")) && lead->stage && strcmp(lead->stage, "MQL") == 0 &&
        !lead->owner_rep_id) {
        int64_t as_of = sw_int(p, "as_of", 0);
        int64_t route_as_of = s_route_as_of(self, lead, as_of, &rc, err);
        if (rc == HO_OK) {
            rc = sw_emit_route(self, lead, route_as_of, "mql", out, err);
        }
    }
    return rc;
}

/* The model says MQL as of a time before sales took the lead (the score arrived after the
 * outcome): marketing had qualified it by then. first_mql_at says so, and the outcomes'
 * sales_accepted_without_mql flags are derived again, so they do not depend on whether the
 * score or the feedback arrived first. The stage stays sales'. */
static int s_mql_in_sales(sw_ctx_t *self, ho_lead_t *lead, int64_t as_of, const char *event_id,
                          ho_err_t *err)
{
    static const char *const sales[] = {"SAL", "SQL", "OPPORTUNITY", "WON", "LOST"};
    bool in_sales = false;
    for (size_t i = 0; lead->stage && i < sizeof sales / sizeof sales[0]; i++) {
        in_sales = in_sales || strcmp(lead->stage, sales[i]) == 0;
    }
    if (!in_sales || (lead->first_mql_at != HO_NULL_INT && lead->first_mql_at <= as_of)) {
        return HO_OK;
    }
    lead->first_mql_at = as_of;
    int rc = ho_store_lead_put(self->store, lead, err);
    if (rc == HO_OK) {
        rc = ho_store_note(self->store, lead, "mql_in_sales", as_of, "score",
                           "the model qualifies the lead as of a time sales had not yet taken it",
                           event_id, err);
    }
    return rc == HO_OK ? ho_store_derive_stages(self->store, lead, NULL, NULL, err) : rc;
}

/* Applied before? A reply is recorded by its scores row when it writes one (the row's UNIQUE
 * event id: ho_store_add_score says 0 when it is there), by an events row only when it writes
 * none (a re-score that changes nothing): claiming every reply was a random insert into the
 * store's biggest B-tree (issue 13), a lookup is a read. The reply to the request whose score
 * the lead holds (the store's seq, one per request) is known without either. 1 applied
 * before, 0 not, < 0 error. */
static int s_seen(sw_ctx_t *self, const ho_lead_t *lead, const char *id, int64_t seq,
                  ho_err_t *err)
{
    if (seq != HO_NULL_INT && seq == lead->score_seq) {
        return 1;
    }
    return ho_store_event_seen(self->store, id, err);
}

/* Record a reply s_seen has not seen: its scores row, or (no change to record) its events
 * claim. 1 recorded, 0 its row was there after all (applied before), < 0 error. *older_p:
 * it answers an earlier request than the lead's score (kept in scores, moves nothing). */
static int s_record(sw_ctx_t *self, const ho_lead_t *lead, const ho_msg_t *in, int64_t seq,
                    int64_t as_of, bool *older_p, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    const char *model = sw_str(p, "model_version");
    int64_t fit = sw_int(p, "fit", 0), interest = sw_int(p, "interest", 0);
    bool mql = json_is_true(json_object_get(p, "mql"));
    /* An older score arriving late is kept in scores but does not move the lead. Older =
     * computed from an earlier snapshot: it answers a score.request with a smaller seq (the
     * store's counter, taken in the transaction that read the snapshot). Not as_of: a
     * re-score "as of now" from a snapshot read before an activity arrived has a later
     * as_of than the request for that activity (as of its event time) and must still lose
     * to it (a stale interest 0 demoted MQLs to RECYCLED). as_of decides only when one side
     * has no seq (a reply from before seqs existed). */
    bool older = false;
    if (lead->scored_at != HO_NULL_INT) {
        older = seq != HO_NULL_INT && lead->score_seq != HO_NULL_INT ? seq < lead->score_seq
                                                                     : as_of < lead->scored_at;
    }
    *older_p = older;
    /* Scores are a history of changes: a re-score that leaves the lead's score as it is
     * (same model, fit, interest, grade, quadrant, and no stage change to come from mql)
     * writes no row; the lead still moves to the newer as_of. */
    const char *stage = lead->stage ? lead->stage : "";
    bool moves = mql ? (!strcmp(stage, "ML") || !strcmp(stage, "RECYCLED"))
                     : (!strcmp(stage, "MQL") && !lead->owner_rep_id);
    bool same = !older && !moves && lead->scored_at != HO_NULL_INT && lead->fit == fit &&
                lead->interest == interest && lead->model_version &&
                !strcmp(lead->model_version, model) && lead->grade && sw_str(p, "grade") &&
                !strcmp(lead->grade, sw_str(p, "grade")) && lead->quadrant &&
                sw_str(p, "quadrant") && !strcmp(lead->quadrant, sw_str(p, "quadrant"));
    if (same) {
        /* no row to write: the claim records it, unless its row is there from the first
         * delivery (a redelivery finds the lead holding its own score) */
        int rc = ho_store_score_seen(self->store, ho_msg_id(in), err);
        if (rc == 0) {
            return ho_store_claim_event(self->store, ho_msg_id(in), "lead.scored", as_of, err);
        }
        return rc == 1 ? 0 : rc;
    }
    json_t *none = json_array();
    const json_t *ex = json_object_get(p, "explanation");
    ho_score_row_t row = {
        .lead_id = lead->id,
        .event_id = ho_msg_id(in),
        .at = as_of,
        .model_version = model,
        .fit = fit,
        .interest = interest,
        .score = sw_int(p, "score", fit + interest),
        .grade = json_object_get(p, "grade"),
        .quadrant = json_object_get(p, "quadrant"),
        .mql = mql,
        .explanation = ex ? ex : none,
    };
    int rc = ho_store_add_score(self->store, &row, err);
    json_decref(none);
    return rc;
}

int sw_on_scored(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = sw_find_lead(self, p, &lead, err);
    if (rc != HO_OK) {
        return rc;
    }
    int64_t as_of = sw_int(p, "as_of", ho_msg_ts(in));
    const char *model = sw_str(p, "model_version");
    if (!model || !json_is_integer(json_object_get(p, "fit")) ||
        !json_is_integer(json_object_get(p, "interest"))) {
        ho_lead_clear(&lead);
        return ho_err_set(err, HO_ERR_MISSING, "payload.model_version",
                          "lead.scored needs model_version, fit and interest");
    }
    const json_t *jseq = json_object_get(p, "seq");
    int64_t seq = json_is_integer(jseq) ? json_integer_value(jseq) : HO_NULL_INT;
    bool older = false;
    int seen = s_seen(self, &lead, ho_msg_id(in), seq, err); /* 1 applied before, < 0 error */
    if (seen == 0) {
        int recorded = s_record(self, &lead, in, seq, as_of, &older, err);
        seen = recorded < 0 ? recorded : !recorded; /* recorded 0: its row was there */
    }
    if (seen == 1) {
        /* applied before (a redelivery): the route.request of an unowned MQL again, with the
         * id the first delivery gave it, never silence (issue 14) */
        rc = s_route_again(self, &lead, p, out, err);
        ho_lead_clear(&lead);
        return rc;
    }
    if (seen < 0 || older) {
        ho_lead_clear(&lead);
        return seen < 0 ? seen : HO_OK;
    }
    int64_t fit = sw_int(p, "fit", 0), interest = sw_int(p, "interest", 0);
    int64_t score = sw_int(p, "score", fit + interest);
    bool mql = json_is_true(json_object_get(p, "mql"));
    lead.score_seq = seq;
    lead.fit = fit;
    lead.interest = interest;
    lead.score = score;
    ho_lead_set(&lead.grade, sw_str(p, "grade"));
    ho_lead_set(&lead.quadrant, sw_str(p, "quadrant"));
    ho_lead_set(&lead.model_version, model);
    lead.scored_at = as_of;
    rc = ho_store_lead_put(self->store, &lead, err);
    if (rc == HO_OK && mql) {
        rc = s_mql_in_sales(self, &lead, as_of, ho_msg_id(in), err);
    }
    bool hold = false;
    if (rc == HO_OK && mql && lead.stage && strcmp(lead.stage, "RECYCLED") == 0) {
        rc = s_sales_recycled(self, &lead, &hold, err);
    }
    if (rc == HO_OK && mql && !hold && lead.stage &&
        (strcmp(lead.stage, "ML") == 0 || strcmp(lead.stage, "RECYCLED") == 0)) {
        /* formatted only here: most re-scores move no stage (2k instructions each) */
        char why[160];
        snprintf(why, sizeof why, "score %lld (fit %lld, interest %lld, %s) by model %s",
                 (long long)score, (long long)fit, (long long)interest,
                 sw_str(p, "grade") ? sw_str(p, "grade") : "-", model);
        rc = ho_store_transition(self->store, &lead, "qualify", as_of, "score", why, ho_msg_id(in),
                                 err);
    } else if (rc == HO_OK && !mql && lead.stage && strcmp(lead.stage, "MQL") == 0 &&
               !lead.owner_rep_id) {
        rc = ho_store_transition(self->store, &lead, "decay", as_of, "score", "score_decayed",
                                 ho_msg_id(in), err);
    }
    if (rc == HO_OK && mql && strcmp(lead.stage, "MQL") == 0 && !lead.owner_rep_id) {
        int64_t route_as_of = s_route_as_of(self, &lead, as_of, &rc, err);
        if (rc == HO_OK) {
            rc = sw_emit_route(self, &lead, route_as_of, "mql", out, err);
        }
    }
    ho_lead_clear(&lead);
    return rc;
}
