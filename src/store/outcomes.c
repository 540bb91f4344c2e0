/* outcomes.c - sales outcomes as facts (issue 12): the outcomes row, the stages derived
 * from a lead's whole outcome history, and the import bookkeeping (imports, import_results,
 * pending and unmatched rows). Written on the public store interface (store.h) only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/lifecycle.h"
#include "handoff/store.h"

static json_t *s_jstr(const char *s)
{
    json_t *v = s && s[0] ? json_string(s) : NULL;
    return v ? v : json_null();
}

static const char *s_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *s_or(const char *s)
{
    return s ? s : "";
}

static int64_t s_int(const json_t *o, const char *k, int64_t def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static int s_exec(ho_store_t *self, ho_query_t q, json_t *args, ho_err_t *err)
{
    json_t *rows = NULL;
    int rc = ho_store_query(self, q, args, &rows, err);
    json_decref(rows);
    json_decref(args);
    return rc;
}

int ho_store_outcome_add(ho_store_t *self, const ho_outcome_row_t *r, int64_t *id_p, ho_err_t *err)
{
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(r->lead_id));
    json_object_set_new(row, "event_id", json_string(r->event_id));
    json_object_set_new(row, "feedback_id", s_jstr(r->feedback_id));
    json_object_set_new(row, "rep_id", s_jstr(r->rep_id));
    json_object_set_new(row, "outcome", json_string(r->outcome));
    json_object_set_new(row, "reason", s_jstr(r->reason));
    json_object_set_new(row, "reason_owner", s_jstr(r->reason_owner));
    json_object_set_new(row, "disposition", s_jstr(r->disposition));
    json_object_set_new(row, "notes", s_jstr(r->notes));
    json_object_set_new(row, "import_id", s_jstr(r->import_id));
    json_object_set_new(row, "flags", s_jstr(r->flags));
    json_object_set_new(row, "occurred_at", json_integer(r->occurred_at));
    json_object_set_new(row, "amount", isnan(r->amount) ? json_null() : json_real(r->amount));
    json_object_set_new(row, "not_owner", json_integer(r->not_owner));
    json_object_set_new(row, "implied", json_integer(0));
    int64_t id = 0;
    int rc = ho_store_add(self, HO_T_OUTCOMES, row, &id, err);
    json_decref(row);
    if (id_p) {
        *id_p = id;
    }
    return rc;
}

/* The lead's moves not made by sales (lifecycle.h ho_stage_move_t), oldest first; the
 * strings are borrowed from history. */
static ho_stage_move_t *s_moves(const json_t *history, size_t *n_p)
{
    ho_stage_move_t *moves = calloc(json_array_size(history) + 1, sizeof *moves);
    size_t n = 0, i;
    json_t *h;
    json_array_foreach(history, i, h)
    {
        const char *actor = s_or(s_str(h, "actor")), *kind = s_str(h, "kind");
        if (!moves || (kind && strcmp(kind, "transition") != 0) || strcmp(actor, "sales") == 0 ||
            !s_str(h, "to_stage")) {
            continue;
        }
        moves[n].from = s_str(h, "from_stage");
        moves[n].to = s_str(h, "to_stage");
        moves[n].at = s_int(h, "at", 0);
        moves[n].crm = strcmp(actor, "crm_import") == 0;
        n++;
    }
    *n_p = n;
    return moves;
}

/* The lead's score as of at (scores: newest first), for the history rows of sales moves:
 * what the score was then, whatever order the rows arrived in. */
static const json_t *s_score_at(const json_t *scores, int64_t at)
{
    size_t i;
    json_t *sc;
    json_array_foreach(scores, i, sc)
    {
        if (s_int(sc, "at", INT64_MAX) <= at) {
            return sc;
        }
    }
    return NULL;
}

/* The worker's flags of a row (reason_*) plus the derived ones, as stored text. */
static void s_flags_text(const char *stored, unsigned derived, char *out, size_t cap)
{
    char own[256] = "", tmp[256];
    snprintf(tmp, sizeof tmp, "%s", stored ? stored : "");
    size_t used = 0;
    for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "sales_accepted_without_mql") == 0 || strcmp(tok, "out_of_order") == 0 ||
            !tok[0]) {
            continue;
        }
        used += (size_t)snprintf(own + used, sizeof own - used, "%s%s", used ? "," : "", tok);
        if (used >= sizeof own) {
            break;
        }
    }
    char d[64];
    ho_outcome_flags_text(derived, d, sizeof d);
    snprintf(out, cap, "%s%s%s", d, d[0] && own[0] ? "," : "", own);
}

static int s_history_row(ho_store_t *self, const ho_lead_t *lead, const json_t *scores,
                         const char *from, const char *to, int64_t at, const char *reason,
                         const char *event_id, bool implied, ho_err_t *err)
{
    const json_t *sc = s_score_at(scores, at);
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead->id));
    json_object_set_new(row, "from_stage", s_jstr(from));
    json_object_set_new(row, "to_stage", json_string(to));
    json_object_set_new(row, "at", json_integer(at));
    json_object_set_new(row, "actor", json_string("sales"));
    json_object_set_new(row, "reason", s_jstr(reason));
    json_object_set_new(row, "event_id", s_jstr(event_id));
    static const char *const nums[] = {"score", "fit", "interest"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(sc, nums[i]);
        json_object_set_new(row, nums[i], v ? json_incref((json_t *)v) : json_null());
    }
    json_object_set_new(row, "implied", json_integer(implied));
    json_object_set_new(row, "kind", json_string("transition"));
    int rc = row ? ho_store_add(self, HO_T_STAGE_HISTORY, row, NULL, err)
                 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    json_decref(row);
    return rc;
}

/* The rows of one derived step: its implied stages (outcome and history rows), its own
 * history row when it moved the lead, and the recorded row's stage_reached and flags. */
static int s_write_step(ho_store_t *self, const ho_lead_t *lead, const json_t *scores,
                        const ho_outcome_step_t *s, const json_t *rec, ho_err_t *err)
{
    static const char *const implied_stage[] = {"SAL", "SQL", "OPPORTUNITY"};
    const char *eid = s_str(rec, "event_id");
    const char *from = s->stage_before;
    int rc = HO_OK;
    for (int k = 0; rc == HO_OK && k < s->n_implied; k++) {
        const char *o = s->implied[k];
        const char *to = strcmp(o, "accepted") == 0 ? implied_stage[0]
                         : strcmp(o, "sql") == 0    ? implied_stage[1]
                                                    : implied_stage[2];
        char id[300], why[160];
        snprintf(id, sizeof id, "%s/implied/%s", eid, o);
        snprintf(why, sizeof why, "%s: implied by %s", o, s->outcome);
        json_t *row =
            json_pack("{sIsssososssssIsisi}", "lead_id", (json_int_t)lead->id, "event_id", id,
                      "feedback_id", s_jstr(s_str(rec, "feedback_id")), "rep_id",
                      s_jstr(s_str(rec, "rep_id")), "outcome", o, "stage_reached", from,
                      "occurred_at", (json_int_t)s->occurred_at, "implied", 1, "not_owner", 0);
        rc = ho_store_add(self, HO_T_OUTCOMES, row, NULL, err);
        json_decref(row);
        if (rc == HO_OK) {
            rc = s_history_row(self, lead, scores, from, to, s->occurred_at, why, id, true, err);
        }
        from = to;
    }
    if (rc == HO_OK && s->moved) {
        char why[200];
        const char *reason = s_str(rec, "reason");
        snprintf(why, sizeof why, "%s%s%.150s", s->outcome, reason ? ": " : "",
                 reason ? reason : "");
        rc = s_history_row(self, lead, scores, from, s->stage_after, s->occurred_at, why, eid,
                           false, err);
    }
    if (rc == HO_OK) {
        char flags[320];
        s_flags_text(s_str(rec, "flags"), s->flags, flags, sizeof flags);
        /* the stage it had reached: after the stages this outcome implies */
        json_t *set = json_pack("{ssso}", "stage_reached", from, "flags", s_jstr(flags));
        rc = ho_store_update(self, HO_T_OUTCOMES, s_int(rec, "id", 0), set, err);
        json_decref(set);
    }
    return rc;
}

/* Steps of rows (skipping skip_event_id), in a new array of n (caller frees). */
static ho_outcome_step_t *s_steps(const json_t *rows, const char *skip_event_id, size_t *n_p)
{
    size_t n = json_array_size(rows), k = 0;
    ho_outcome_step_t *steps = calloc(n + 1, sizeof *steps);
    for (size_t i = 0; steps && i < n; i++) {
        const json_t *r = json_array_get(rows, i);
        if (skip_event_id && s_str(r, "event_id") &&
            strcmp(s_str(r, "event_id"), skip_event_id) == 0) {
            continue;
        }
        steps[k].outcome = s_str(r, "outcome");
        steps[k].disposition = s_str(r, "disposition");
        steps[k].occurred_at = s_int(r, "occurred_at", 0);
        steps[k].tiebreak =
            s_str(r, "feedback_id") ? s_str(r, "feedback_id") : s_str(r, "event_id");
        steps[k].ref = i;
        k++;
    }
    *n_p = k;
    return steps;
}

int ho_store_derive_stages(ho_store_t *self, ho_lead_t *lead, const char *new_event_id,
                           char **flags_p, ho_err_t *err)
{
    json_t *rows = NULL, *hist = NULL, *scores = NULL;
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit", -1);
    int rc = ho_store_query(self, HO_Q_OUTCOMES_RECORDED, args, &rows, err);
    if (rc == HO_OK) {
        rc = ho_store_query(self, HO_Q_HISTORY, args, &hist, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self, HO_Q_SCORES, args, &scores, err);
    }
    json_decref(args);
    size_t n_all = 0, n_old = 0, n_moves = 0;
    ho_stage_move_t *moves = rc == HO_OK ? s_moves(hist, &n_moves) : NULL;
    ho_outcome_step_t *all = rc == HO_OK ? s_steps(rows, NULL, &n_all) : NULL;
    ho_outcome_step_t *old = rc == HO_OK ? s_steps(rows, new_event_id, &n_old) : NULL;
    if (rc == HO_OK && (!moves || !all || !old)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    int64_t mql = lead->first_mql_at == HO_NULL_INT ? INT64_MIN : lead->first_mql_at;
    const char *now = NULL, *before = NULL;
    if (rc == HO_OK) {
        before = new_event_id ? ho_lifecycle_derive(old, n_old, moves, n_moves, mql) : NULL;
        now = ho_lifecycle_derive(all, n_all, moves, n_moves, mql);
        rc = s_exec(self, HO_X_IMPLIED_CLEAR, json_pack("{sI}", "lead_id", (json_int_t)lead->id),
                    err);
    }
    if (rc == HO_OK) {
        rc = s_exec(self, HO_X_SALES_HISTORY_CLEAR,
                    json_pack("{sI}", "lead_id", (json_int_t)lead->id), err);
    }
    for (size_t i = 0; rc == HO_OK && i < n_all; i++) {
        const json_t *rec = json_array_get(rows, all[i].ref);
        rc = s_write_step(self, lead, scores, &all[i], rec, err);
        if (rc == HO_OK && flags_p && new_event_id && s_str(rec, "event_id") &&
            strcmp(s_str(rec, "event_id"), new_event_id) == 0) {
            char flags[320];
            s_flags_text(s_str(rec, "flags"), all[i].flags, flags, sizeof flags);
            *flags_p = flags[0] ? strdup(flags) : NULL;
        }
    }
    /* the lead's stage moves only when sales' history says something new: a marketing move
     * made since (a requalification after a rejection) stands until then */
    bool differs = new_event_id && now && (!before || strcmp(now, before) != 0);
    if (rc == HO_OK && differs && (!lead->stage || strcmp(lead->stage, now) != 0)) {
        ho_lead_set(&lead->stage, now);
        rc = ho_store_lead_put(self, lead, err);
    }
    free(moves);
    free(all);
    free(old);
    json_decref(rows);
    json_decref(hist); /* after the last use of the moves' borrowed strings */
    json_decref(scores);
    return rc;
}

int ho_store_import_count(ho_store_t *self, const char *import_id, const char *result, int delta,
                          ho_err_t *err)
{
    if (!import_id || !import_id[0] || delta == 0) {
        return HO_OK;
    }
    return s_exec(self, HO_X_IMPORT_COUNT,
                  json_pack("{sssssi}", "import_id", import_id, "result", result, "delta", delta),
                  err);
}

int ho_store_import_put(ho_store_t *self, const json_t *p, ho_err_t *err)
{
    const char *id = s_str(p, "import_id");
    if (!id || !id[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.import_id",
                          "import.summary has no import_id");
    }
    char *skipped = json_dumps(json_object_get(p, "skipped") ?: json_object(),
                               JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *quar = json_dumps(json_object_get(p, "quarantined") ?: json_object(),
                            JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_t *args = json_object();
    json_object_set_new(args, "import_id", json_string(id));
    static const char *const text[] = {"source", "kind", "file"};
    for (size_t i = 0; i < 3; i++) {
        json_object_set_new(args, text[i], s_jstr(s_str(p, text[i])));
    }
    static const char *const num[] = {"read", "accepted", "finished_at"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_object_get(p, num[i]);
        json_object_set_new(args, num[i],
                            json_is_integer(v) ? json_incref((json_t *)v) : json_null());
    }
    json_object_set_new(args, "skipped_json", s_jstr(skipped));
    json_object_set_new(args, "quarantined_json", s_jstr(quar));
    free(skipped);
    free(quar);
    return s_exec(self, HO_X_IMPORT_PUT, args, err);
}

int ho_store_import_stats(ho_store_t *self, const char *import_id, json_t **stats_p, ho_err_t *err)
{
    static const char *const results[] = {
        "new",      "merged",  "matched",      "unmatched",
        "recorded", "pending", "unknown_lead", "before_lead_created",
        "flagged"};
    json_t *rows = NULL, *q = NULL;
    json_t *args = json_pack("{ss}", "import_id", import_id ? import_id : "");
    int rc = ho_store_query(self, HO_Q_IMPORT_RESULTS, args, &rows, err);
    if (rc == HO_OK) {
        rc = ho_store_query(self, HO_Q_IMPORT_QUARANTINED, args, &q, err);
    }
    json_decref(args);
    if (rc != HO_OK) {
        json_decref(rows);
        return rc;
    }
    json_t *out = json_pack("{ss}", "import_id", import_id ? import_id : "");
    int64_t applied = 0;
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        int64_t n = 0;
        size_t k;
        json_t *r;
        json_array_foreach(rows, k, r)
        {
            if (s_str(r, "result") && strcmp(s_str(r, "result"), results[i]) == 0) {
                n = s_int(r, "n", 0);
            }
        }
        json_object_set_new(out, results[i], json_integer(n));
        /* applied: every record the store took (a flag is on top of recorded; a record
         * quarantined before_lead_created is in quarantined) */
        if (strcmp(results[i], "flagged") != 0 && strcmp(results[i], "before_lead_created") != 0) {
            applied += n;
        }
    }
    json_object_set_new(out, "applied", json_integer(applied));
    json_object_set_new(out, "quarantined", json_integer(s_int(json_array_get(q, 0), "n", 0)));
    json_object_set_new(out, "failed", json_integer(s_int(json_array_get(q, 0), "failed", 0)));
    json_decref(rows);
    json_decref(q);
    *stats_p = out;
    return HO_OK;
}

int ho_store_pending_mark(ho_store_t *self, const char *event_id, const char *status, int64_t at,
                          ho_err_t *err)
{
    return s_exec(
        self, HO_X_PENDING_STATUS,
        json_pack("{sssssI}", "event_id", event_id, "status", status, "at", (json_int_t)at), err);
}

int ho_store_unmatched_delete(ho_store_t *self, const char *event_id, ho_err_t *err)
{
    return s_exec(self, HO_X_UNMATCHED_DELETE, json_pack("{ss}", "event_id", event_id), err);
}

int ho_store_counter_take(ho_store_t *self, const char *name, int64_t n, int64_t *first_p,
                          ho_err_t *err)
{
    json_t *rows = NULL, *args = json_pack("{ss}", "name", name);
    int rc = ho_store_query(self, HO_Q_COUNTER, args, &rows, err);
    json_decref(args);
    int64_t cur = s_int(json_array_get(rows, 0), "value", 0);
    json_decref(rows);
    if (rc != HO_OK) {
        return rc;
    }
    *first_p = cur + 1;
    return s_exec(self, HO_X_COUNTER_SET,
                  json_pack("{sssI}", "name", name, "value", (json_int_t)(cur + n)), err);
}
