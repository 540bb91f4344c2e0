/* test_store_truth.c - the store worker driven in-process on a real SQLite file, for "sales'
 * word is the record" (issue 12) and "the same effects again" (issue 14 item 1):
 * - the same outcomes in every arrival order give the same rows (outcomes, sales history,
 *   stage), with implied stages and flags;
 * - pending feedback becomes unknown_lead after feedback_grace (tick) and is still recorded
 *   when its lead arrives; feedback dated before its lead is quarantined before_lead_created;
 *   import_results counts each record once;
 * - a CRM stage enters the lead at that stage (crm_import), forward only; a CRM owner keeps
 *   the lead (no route.request), unless store.yaml reroute_owned;
 * - import.summary is upserted by import_id, import.stats answers with the counts;
 * - a redelivered lead.normalized, activity.normalized, lead.scored, lead.assigned produces
 *   the same downstream messages with the same ids as its first delivery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handoff/worker.h"
#include "store_worker_calls.h"
#include "store_worker_fixture.h"

#define H 3600000LL
#define DAY (24 * H)

static int s_setup(void **state)
{
    return s_store_setup(state, "/tmp/ho-truth-XXXXXX");
}

static ho_msg_t *s_lead(const char *id, const char *email, long long at, json_t *fields,
                        const char *import_id)
{
    if (!fields) {
        fields = json_object();
    }
    json_object_set_new(fields, "email", json_string(email));
    return s_msg("lead.normalized", id, at,
                 json_pack("{sssssosIss}", "source", "hubspot", "email", email, "fields", fields,
                           "observed_at", (json_int_t)at, "import_id", import_id));
}

static ho_msg_t *s_outcome(const char *id, const char *email, const char *outcome, long long at,
                           const char *import_id)
{
    return s_msg("lead.outcome", id, at,
                 json_pack("{sssssssssIss}", "feedback_id", id, "email", email, "rep_id", "r1",
                           "outcome", outcome, "occurred_at", (json_int_t)at, "import_id",
                           import_id));
}

static ho_msg_t *s_scored(const char *id, long long lead_id, long long as_of, bool mql)
{
    return s_msg("lead.scored", id, as_of,
                 json_pack("{sIsIsssisisisssssbs[]}", "lead_id", (json_int_t)lead_id, "as_of",
                           (json_int_t)as_of, "model_version", "m1", "fit", 60, "interest", 40,
                           "score", 100, "grade", mql ? "A1" : "C3", "quadrant", "q", "mql", mql,
                           "explanation"));
}

/* "id1,id2" of the output messages of type, in order */
static char *s_out_ids(s_t *t, const char *type)
{
    char *buf = calloc(1, 4096);
    size_t used = 0;
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        ho_msg_t *m = ho_out_at(t->out, i);
        if (strcmp(ho_msg_type(m), type) == 0) {
            used +=
                (size_t)snprintf(buf + used, 4096 - used, "%s%s", used ? "," : "", ho_msg_id(m));
        }
    }
    return buf;
}

/* ---- every arrival order gives the same rows ---- */

static const char *const s_rows_sql =
    "SELECT (SELECT stage FROM leads) || ' | ' || (SELECT group_concat(x, ' ') FROM (SELECT "
    "outcome || ':' || implied || ':' || stage_reached || ':' || IFNULL(flags, '-') || '@' || "
    "(occurred_at / 3600000) AS x FROM outcomes ORDER BY occurred_at, implied DESC, outcome, "
    "event_id)) || ' | ' || (SELECT group_concat(y, ' ') FROM (SELECT from_stage || '>' || "
    "to_stage || ':' || actor || ':' || implied || '@' || (at / 3600000) AS y FROM stage_history "
    "WHERE kind = 'transition' ORDER BY at, implied DESC, to_stage))";

static void test_every_arrival_order(void **state)
{
    (void)state;
    /* a lead at ML (marketing never qualified it): sales accepts, it goes to sql and won,
     * and a late duplicate-ish acceptance after won */
    static const char *const ids[] = {"F1", "F2", "F3", "F4"};
    static const char *const outcomes[] = {"accepted", "sql", "won", "accepted"};
    static const long long at[] = {2 * H, 3 * H, 5 * H, 6 * H};
    int order[] = {0, 1, 2, 3};
    char *first = NULL;
    int runs = 0;
    for (int p = 0; p < 24; p++) {
        /* the p-th permutation (factorial number system) */
        int pool[] = {0, 1, 2, 3}, left = 4, k = p;
        for (int i = 0; i < 4; i++) {
            int f = 1;
            for (int j = 2; j < left; j++) {
                f *= j;
            }
            int pick = k / f;
            k %= f;
            order[i] = pool[pick];
            for (int j = pick; j < left - 1; j++) {
                pool[j] = pool[j + 1];
            }
            left--;
        }
        void *st = NULL;
        assert_int_equal(s_setup(&st), 0);
        s_t *t = st;
        s_call(t, 1, s_lead("l-1", "ana@acme.com", 1 * H, NULL, "imp-l"));
        for (int i = 0; i < 4; i++) {
            /* one message per batch: arrival order is the permutation */
            s_call(t, 1,
                   s_outcome(ids[order[i]], "ana@acme.com", outcomes[order[i]], at[order[i]],
                             "imp-f"));
        }
        char *rows = s_q(t, s_rows_sql);
        if (!first) {
            first = rows;
        } else {
            assert_string_equal(rows, first);
            free(rows);
        }
        s_expect(t,
                 "SELECT result || '=' || n FROM import_results WHERE import_id = 'imp-f' "
                 "AND n <> 0 ORDER BY result",
                 "flagged=4");
        s_expect(t,
                 "SELECT n FROM import_results WHERE import_id = 'imp-f' AND result = "
                 "'recorded'",
                 "4");
        s_teardown(&st);
        runs++;
    }
    assert_int_equal(runs, 24);
    assert_string_equal(first, "WON | accepted:0:ML:sales_accepted_without_mql@2 "
                               "sql:0:SAL:sales_accepted_without_mql@3 opportunity:1:SQL:-@5 "
                               "won:0:OPPORTUNITY:sales_accepted_without_mql@5 "
                               "accepted:0:WON:sales_accepted_without_mql,out_of_order@6 | "
                               "ML>SAL:sales:0@2 SAL>SQL:sales:0@3 SQL>OPPORTUNITY:sales:1@5 "
                               "OPPORTUNITY>WON:sales:0@5");
    free(first);
}

/* ---- pending -> unknown_lead, before_lead_created ---- */

static void test_pending_then_unknown_lead(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_outcome("P1", "nobody@acme.com", "accepted", 1 * H, "imp-p"));
    s_expect(t, "SELECT status || ' ' || received_at FROM pending_outcomes", "pending 3600000");
    s_expect(t, "SELECT n FROM import_results WHERE result = 'pending'", "1");
    /* the grace (7 days by default) counts from its arrival: not yet */
    s_call(t, 1,
           s_msg("tick", NULL, 1 * H + 7 * DAY - 1,
                 json_pack("{sI}", "now", (json_int_t)(1 * H + 7 * DAY - 1))));
    s_expect(t, "SELECT status FROM pending_outcomes", "pending");
    s_call(t, 1,
           s_msg("tick", NULL, 1 * H + 7 * DAY,
                 json_pack("{sI}", "now", (json_int_t)(1 * H + 7 * DAY))));
    s_expect(t, "SELECT status || ' ' || unknown_at FROM pending_outcomes",
             "unknown_lead 608400000");
    s_expect(t, "SELECT group_concat(result || '=' || n, ',') FROM import_results",
             "pending=0,unknown_lead=1");
    /* a later tick changes nothing */
    s_call(t, 1, s_msg("tick", NULL, 9 * DAY, json_pack("{sI}", "now", (json_int_t)(9 * DAY))));
    s_expect(t, "SELECT n FROM import_results WHERE result = 'unknown_lead'", "1");
    /* the person arrives after all: the outcome is recorded, counted once */
    s_call(t, 1, s_lead("l-1", "nobody@acme.com", 0, NULL, "imp-l"));
    s_expect(t, "SELECT COUNT(*) FROM pending_outcomes", "0");
    s_expect(t, "SELECT outcome || ' ' || flags FROM outcomes",
             "accepted sales_accepted_without_mql");
    s_expect(t,
             "SELECT group_concat(result || '=' || n, ',') FROM (SELECT * FROM import_results "
             "WHERE import_id = 'imp-p' ORDER BY result)",
             "flagged=1,pending=0,recorded=1,unknown_lead=0");
}

static void test_before_lead_created(void **state)
{
    s_t *t = *state;
    s_call(t, 1, s_lead("l-1", "kim@acme.com", 10 * H, NULL, "imp-l"));
    s_call(t, 2, s_outcome("B1", "kim@acme.com", "won", 5 * H, "imp-b"),
           s_outcome("B2", "kim@acme.com", "accepted", 11 * H, "imp-b"));
    s_expect(t, "SELECT code || ' ' || input_event_id || ' ' || import_id FROM quarantine",
             "before_lead_created B1 imp-b");
    s_expect(t, "SELECT group_concat(event_id) FROM outcomes", "B2");
    s_expect(t, "SELECT stage FROM leads", "SAL");
    /* redelivered: not counted twice */
    s_call(t, 1, s_outcome("B1", "kim@acme.com", "won", 5 * H, "imp-b"));
    s_expect(t,
             "SELECT group_concat(result || '=' || n, ',') FROM (SELECT * FROM import_results "
             "WHERE import_id = 'imp-b' ORDER BY result)",
             "before_lead_created=1,flagged=1,recorded=1");
    /* waiting feedback dated before the lead that then arrives: quarantined too */
    s_call(t, 1, s_outcome("B3", "late@acme.com", "lost", 2 * H, "imp-b"));
    s_call(t, 1, s_lead("l-2", "late@acme.com", 3 * H, NULL, "imp-l"));
    s_expect(t, "SELECT COUNT(*) FROM pending_outcomes", "0");
    s_expect(t, "SELECT COUNT(*) FROM quarantine WHERE code = 'before_lead_created'", "2");
    s_expect(t, "SELECT n FROM import_results WHERE import_id = 'imp-b' AND result = 'pending'",
             "0");
    /* created_at is the earliest of the lead's records */
    s_call(t, 1, s_lead("l-3", "late@acme.com", 1 * H, NULL, "imp-l2"));
    s_expect(t, "SELECT created_at FROM leads WHERE email = 'late@acme.com'", "3600000");
}

/* ---- CRM stage and owner ---- */

static void test_crm_stage_and_owner(void **state)
{
    s_t *t = *state;
    s_call(t, 1,
           s_lead("l-1", "sql@acme.com", 1 * H,
                  json_pack("{ssss}", "crm_stage", "SQL", "owner", "Pat Owner"), "imp-crm"));
    s_expect(t, "SELECT stage || ' ' || owner_rep_id || ' ' || crm_stage FROM leads",
             "SQL Pat Owner SQL");
    s_expect(t,
             "SELECT from_stage || '>' || to_stage || ' ' || actor FROM stage_history WHERE "
             "kind = 'transition'",
             "ML>SQL crm_import");
    /* a later export that says less does not move it back; one that says more moves on */
    s_call(t, 1,
           s_lead("l-2", "sql@acme.com", 2 * H, json_pack("{ss}", "crm_stage", "SAL"), "imp-crm2"));
    s_expect(t, "SELECT stage FROM leads", "SQL");
    s_call(t, 1,
           s_lead("l-3", "sql@acme.com", 3 * H, json_pack("{ss}", "crm_stage", "WON"), "imp-crm3"));
    s_expect(t, "SELECT stage || ' ' || crm_stage FROM leads", "WON WON");
    /* an owned ML lead keeps its owner: the model's MQL starts no routing (no speed-to-lead) */
    s_call(t, 1,
           s_lead("l-4", "owned@acme.com", 1 * H,
                  json_pack("{ssss}", "crm_stage", "ML", "owner", "005A0000001"), "imp-crm"));
    long long owned = s_lead_id(t, "owned@acme.com");
    s_call(t, 1, s_scored("s-1", owned, 2 * H, true));
    s_expect(t, "SELECT stage || ' ' || owner_rep_id FROM leads WHERE email = 'owned@acme.com'",
             "MQL 005A0000001");
    assert_int_equal(s_count_out(t, "route.request"), 0);
    /* an unowned one is routed */
    s_call(t, 1, s_lead("l-5", "free@acme.com", 1 * H, NULL, "imp-crm"));
    s_call(t, 1, s_scored("s-2", s_lead_id(t, "free@acme.com"), 2 * H, true));
    assert_int_equal(s_count_out(t, "route.request"), 1);
    s_expect(t,
             "SELECT group_concat(result || '=' || n, ',') FROM (SELECT * FROM import_results "
             "WHERE import_id = 'imp-crm' ORDER BY result)",
             "new=3");
}

/* handoff forget of someone the store only knows from activities: the unmatched rows stay
 * (they are counted) but no longer name the person */
static void test_forget_unmatched(void **state)
{
    s_t *t = *state;
    s_call(t, 1,
           s_msg("activity.normalized", "a-1", 2 * H,
                 json_pack("{sssssssIss}", "source", "web", "email", "ghost@acme.com", "type",
                           "page_view", "occurred_at", (json_int_t)(2 * H), "url",
                           "https://x.example/?e=ghost@acme.com")));
    s_call(t, 1, s_msg("lead.forget", "f-1", 3 * H, json_pack("{ss}", "email", "Ghost@acme.com")));
    s_expect(t, "SELECT COUNT(*) || ' ' || email || ' ' || body FROM unmatched_activities",
             "1 erased@invalid {}");
    s_expect(t, "SELECT COUNT(*) FROM unmatched_activities WHERE body LIKE '%ghost%'", "0");
}

/* store.yaml reroute_owned: true: an owner from the CRM does not keep the lead from routing */
static void test_reroute_owned(void **state)
{
    (void)state;
    s_t t = {0};
    assert_int_equal(s_tmp_dir_new(t.dir, sizeof t.dir, t.db, sizeof t.db, "/tmp/ho-rr-XXXXXX"), 0);
    char path[160];
    snprintf(path, sizeof path, "%s/store.yaml", t.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("reroute_owned: true\n", f);
    fclose(f);
    ho_worker_env_t env = {
        .name = "store", .data_dir = t.dir, .config_dir = t.dir, .origin = "store@test"};
    ho_err_t err = {0};
    assert_int_equal(ho_worker_store.cb_init(&env, &t.ctx, &err), HO_OK);
    t.out = ho_out_new("store@test");
    s_call(
        &t, 1,
        s_lead("l-1", "owned@acme.com", 1 * H, json_pack("{ss}", "owner", "Pat Owner"), "imp-rr"));
    s_expect(&t, "SELECT IFNULL(owner_rep_id, '-') FROM leads", "-");
    s_call(&t, 1, s_scored("s-1", s_lead_id(&t, "owned@acme.com"), 2 * H, true));
    assert_int_equal(s_count_out(&t, "route.request"), 1);
    ho_worker_store.cb_exit(&t.ctx);
    ho_out_destroy(&t.out);
    assert_int_equal(s_tmp_dir_remove(t.dir), 0);
}

/* ---- import.summary, import.stats ---- */

static void test_import_summary_and_stats(void **state)
{
    s_t *t = *state;
    json_t *sum =
        json_pack("{sssssssssisis{si}s{si}sI}", "import_id", "imp-1", "source", "hubspot", "kind",
                  "lead", "file", "contacts.csv", "read", 5, "accepted", 3, "skipped", "test_lead",
                  1, "quarantined", "bad_email", 1, "finished_at", (json_int_t)(5 * H));
    s_call(t, 1, s_msg("import.summary", "sum-1", 5 * H, sum));
    /* a re-import of the same file replaces the row */
    sum =
        json_pack("{sssssssssisis{si}s{si}sI}", "import_id", "imp-1", "source", "hubspot", "kind",
                  "lead", "file", "contacts.csv", "read", 5, "accepted", 3, "skipped", "test_lead",
                  1, "quarantined", "bad_email", 1, "finished_at", (json_int_t)(6 * H));
    s_call(t, 1, s_msg("import.summary", "sum-2", 6 * H, sum));
    s_expect(t,
             "SELECT COUNT(*) || ' ' || source || ' ' || kind || ' ' || file || ' ' || read || ' "
             "' || accepted || ' ' || skipped_json || ' ' || quarantined_json || ' ' || "
             "finished_at FROM imports",
             "1 hubspot lead contacts.csv 5 3 {\"test_lead\":1} {\"bad_email\":1} 21600000");
    s_call(t, 3, s_lead("l-1", "a@acme.com", 1 * H, NULL, "imp-1"),
           s_lead("l-2", "A@acme.com", 2 * H, NULL, "imp-1"),
           s_lead("l-3", "b@acme.com", 1 * H, NULL, "imp-1"));
    s_call(t, 1, s_msg("import.stats", "st-1", 7 * H, json_pack("{ss}", "import_id", "imp-1")));
    assert_int_equal(s_count_out(t, "import.stats"), 1);
    json_t *st = s_first_out(t, "import.stats");
    assert_string_equal(json_string_value(json_object_get(st, "import_id")), "imp-1");
    assert_int_equal(json_integer_value(json_object_get(st, "applied")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "new")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "merged")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "quarantined")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 0);
    /* a record a worker could not apply is quarantined and counted as failed */
    s_call(t, 1,
           s_msg("quarantine", "q-1", 7 * H,
                 json_pack("{sssssssss{ssss}}", "stage", "store", "code", "retries_exhausted",
                           "field", "", "reason", "disk full", "raw", "email", "c@acme.com",
                           "import_id", "imp-1")));
    s_call(t, 1, s_msg("import.stats", "st-2", 8 * H, json_pack("{ss}", "import_id", "imp-1")));
    st = s_first_out(t, "import.stats");
    assert_int_equal(json_integer_value(json_object_get(st, "quarantined")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 1);
    /* the same records again (a redelivery) are not counted again */
    s_call(t, 1, s_lead("l-2", "A@acme.com", 2 * H, NULL, "imp-1"));
    s_expect(t, "SELECT group_concat(result || '=' || n, ',') FROM import_results",
             "merged=1,new=2");
}

/* ---- issue 14 item 1: the same effects again ---- */

static void test_redelivery_same_downstream(void **state)
{
    s_t *t = *state;
    ho_msg_t *l1 = s_lead("l-1", "jo@acme.com", 1 * H, NULL, "imp-r");
    ho_msg_t *l1b = s_lead("l-1", "jo@acme.com", 1 * H, NULL, "imp-r");
    s_call(t, 1, l1);
    char *first = s_out_ids(t, "score.request");
    assert_string_not_equal(first, "");
    s_call(t, 1, l1b); /* the batch's reply was lost: the same batch again */
    char *again = s_out_ids(t, "score.request");
    assert_string_equal(again, first);
    free(first);
    free(again);

    s_call(t, 1,
           s_msg("activity.normalized", "a-1", 2 * H,
                 json_pack("{sssssssI}", "source", "web", "email", "jo@acme.com", "type",
                           "page_view", "occurred_at", (json_int_t)(2 * H))));
    first = s_out_ids(t, "score.request");
    assert_string_not_equal(first, "");
    s_call(t, 1,
           s_msg("activity.normalized", "a-1", 2 * H,
                 json_pack("{sssssssI}", "source", "web", "email", "jo@acme.com", "type",
                           "page_view", "occurred_at", (json_int_t)(2 * H))));
    again = s_out_ids(t, "score.request");
    assert_string_equal(again, first);
    free(first);
    free(again);

    long long jo = s_lead_id(t, "jo@acme.com");
    s_call(t, 1, s_scored("s-1", jo, 2 * H, true));
    first = s_out_ids(t, "route.request");
    assert_string_not_equal(first, "");
    s_call(t, 1, s_scored("s-1", jo, 2 * H, true));
    again = s_out_ids(t, "route.request");
    assert_string_equal(again, first);
    free(first);
    free(again);

    ho_msg_t *as = s_msg("lead.assigned", "as-1", 3 * H,
                         json_pack("{sIsssssIsI}", "lead_id", (json_int_t)jo, "rep_id", "r1",
                                   "rep_name", "Rita", "assigned_at", (json_int_t)(3 * H),
                                   "sla_due", (json_int_t)(5 * H)));
    s_call(t, 1, as);
    first = s_out_ids(t, "handoff.ready");
    assert_string_not_equal(first, "");
    char *dump = s_q(t, "SELECT COUNT(*) || ' ' || group_concat(status) FROM assignments");
    s_call(t, 1,
           s_msg("lead.assigned", "as-1", 3 * H,
                 json_pack("{sIsssssIsI}", "lead_id", (json_int_t)jo, "rep_id", "r1", "rep_name",
                           "Rita", "assigned_at", (json_int_t)(3 * H), "sla_due",
                           (json_int_t)(5 * H))));
    again = s_out_ids(t, "handoff.ready");
    assert_string_equal(again, first);
    /* and nothing was written twice */
    s_expect(t, "SELECT COUNT(*) || ' ' || group_concat(status) FROM assignments", dump);
    /* a redelivered score of a lead that is now assigned routes nothing */
    s_call(t, 1, s_scored("s-1", jo, 2 * H, true));
    assert_int_equal(s_count_out(t, "route.request"), 0);
    free(dump);
    free(first);
    free(again);
}

#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_arrival_order),
        T(test_pending_then_unknown_lead),
        T(test_before_lead_created),
        T(test_crm_stage_and_owner),
        cmocka_unit_test(test_reroute_owned),
        T(test_import_summary_and_stats),
        T(test_forget_unmatched),
        T(test_redelivery_same_downstream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
