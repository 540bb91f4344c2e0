/* test_lifecycle.c - the lifecycle state machine: every legal and every illegal transition,
 * display names from deploy/lifecycle.yaml, and that the store refuses an illegal move
 * without writing anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "handoff/lifecycle.h"
#include "handoff/store.h"

/* The expected table, written out independently of src/store/lifecycle.c. */
static const char *const s_legal[] = {
    "qualify ML MQL",
    "qualify RECYCLED MQL",
    "decay MQL RECYCLED",
    "accept MQL SAL",
    "reject_recycle MQL RECYCLED",
    "reject_recycle SAL RECYCLED",
    "reject_disqualify MQL DISQUALIFIED",
    "reject_disqualify SAL DISQUALIFIED",
    "convert_sql SAL SQL",
    "open_opportunity SQL OPPORTUNITY",
    "win SQL WON",
    "win OPPORTUNITY WON",
    "lose SAL LOST",
    "lose SQL LOST",
    "lose OPPORTUNITY LOST",
    "recycle LOST RECYCLED",
    "disqualify ML DISQUALIFIED",
    "disqualify MQL DISQUALIFIED",
    "disqualify SAL DISQUALIFIED",
    "disqualify RECYCLED DISQUALIFIED",
    "reopen DISQUALIFIED RECYCLED",
};
static const char *const s_events[] = {
    "qualify",          "decay", "accept", "reject_recycle", "reject_disqualify", "convert_sql",
    "open_opportunity", "win",   "lose",   "recycle",        "disqualify",        "reopen"};
static const char *const s_stages[] = {"ML",  "MQL",  "SAL",      "SQL",         "OPPORTUNITY",
                                       "WON", "LOST", "RECYCLED", "DISQUALIFIED"};

static const char *s_expected(const char *event, const char *from)
{
    static char to[32];
    for (size_t i = 0; i < sizeof s_legal / sizeof s_legal[0]; i++) {
        char e[32], f[32];
        sscanf(s_legal[i], "%31s %31s %31s", e, f, to);
        if (strcmp(e, event) == 0 && strcmp(f, from) == 0) {
            return to;
        }
    }
    return NULL;
}

static void test_every_event_and_stage(void **state)
{
    (void)state;
    int legal = 0, illegal = 0;
    for (size_t e = 0; e < sizeof s_events / sizeof s_events[0]; e++) {
        for (size_t s = 0; s < sizeof s_stages / sizeof s_stages[0]; s++) {
            const char *want = s_expected(s_events[e], s_stages[s]);
            const char *to = NULL;
            ho_err_t err = {0};
            int rc = ho_lifecycle_next(s_stages[s], s_events[e], &to, &err);
            if (want) {
                assert_int_equal(rc, HO_OK);
                assert_string_equal(to, want);
                legal++;
            } else {
                assert_int_equal(rc, HO_ERR_STATE);
                assert_non_null(strstr(err.message, "illegal transition"));
                assert_non_null(strstr(err.message, s_events[e]));
                assert_non_null(strstr(err.message, s_stages[s]));
                illegal++;
            }
        }
    }
    assert_int_equal(legal, (int)(sizeof s_legal / sizeof s_legal[0]));
    assert_int_equal(legal + illegal, 12 * 9);
    size_t n;
    ho_lifecycle_table(&n);
    assert_int_equal((int)n, legal);
}

static void test_terminal_and_unknown(void **state)
{
    (void)state;
    const char *to = NULL;
    ho_err_t err = {0};
    /* WON has no way out; DISQUALIFIED only by an explicit reopen */
    for (size_t e = 0; e < sizeof s_events / sizeof s_events[0]; e++) {
        assert_int_equal(ho_lifecycle_next("WON", s_events[e], &to, &err), HO_ERR_STATE);
        int rc = ho_lifecycle_next("DISQUALIFIED", s_events[e], &to, &err);
        assert_int_equal(rc, strcmp(s_events[e], "reopen") == 0 ? HO_OK : HO_ERR_STATE);
    }
    assert_int_equal(ho_lifecycle_next("ML", "teleport", &to, &err), HO_ERR_STATE);
    assert_non_null(strstr(err.message, "unknown lifecycle event"));
    assert_int_equal(ho_lifecycle_next("NOPE", "qualify", &to, &err), HO_ERR_STATE);
    assert_non_null(strstr(err.message, "unknown lifecycle stage"));
}

static void test_outcome_events(void **state)
{
    (void)state;
    assert_string_equal(ho_lifecycle_outcome_event("accepted", NULL), "accept");
    assert_string_equal(ho_lifecycle_outcome_event("rejected", "recycle"), "reject_recycle");
    assert_string_equal(ho_lifecycle_outcome_event("rejected", "disqualify"), "reject_disqualify");
    assert_string_equal(ho_lifecycle_outcome_event("sql", NULL), "convert_sql");
    assert_string_equal(ho_lifecycle_outcome_event("opportunity", NULL), "open_opportunity");
    assert_string_equal(ho_lifecycle_outcome_event("won", NULL), "win");
    assert_string_equal(ho_lifecycle_outcome_event("lost", NULL), "lose");
    assert_null(ho_lifecycle_outcome_event("maybe", NULL));
}

static void test_display_names(void **state)
{
    (void)state;
    ho_err_t err = {0};
    ho_lifecycle_t *lc = ho_lifecycle_load(NULL, &err);
    assert_non_null(lc);
    assert_string_equal(ho_lifecycle_display(lc, "RECYCLED"), "Nurture");
    assert_string_equal(ho_lifecycle_display(lc, "whatever"), "whatever");
    ho_lifecycle_destroy(&lc);
    ho_lifecycle_destroy(&lc);

    char dir[] = "/tmp/ho-lc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/lifecycle.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("stages:\n  MQL: Hot lead\n  ZZZ: Nope\n", f);
    fclose(f);
    lc = ho_lifecycle_load(dir, &err);
    assert_null(lc);
    assert_non_null(strstr(err.message, "lifecycle.yaml:3"));
    assert_non_null(strstr(err.message, "ZZZ"));
    f = fopen(path, "w");
    fputs("stages:\n  MQL: Hot lead\n", f);
    fclose(f);
    lc = ho_lifecycle_load(dir, &err);
    assert_non_null(lc);
    assert_string_equal(ho_lifecycle_display(lc, "MQL"), "Hot lead");
    assert_string_equal(ho_lifecycle_display(lc, "SAL"), "SAL");
    ho_lifecycle_destroy(&lc);
    unlink(path);
    rmdir(dir);
}

static int s_count(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static void test_store_transition_writes_history(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-lc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(path, &err);
    assert_non_null(s);
    json_t *p = json_pack("{sss{ss}sI}", "email", "a@acme.com", "source", "hubspot", "fields",
                          "first_name", "Ann", "observed_at", (json_int_t)1000);
    ho_upsert_t res;
    assert_int_equal(ho_store_upsert_lead(s, "ev-1", p, &res, &err), HO_OK);
    json_decref(p);
    ho_lead_t lead;
    ho_lead_init(&lead);
    assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &lead, &err), HO_OK);
    lead.score = 80;
    lead.fit = 50;
    lead.interest = 30;
    assert_int_equal(
        ho_store_transition(s, &lead, "qualify", 2000, "score", "score 80", "ev-2", &err), HO_OK);
    assert_string_equal(lead.stage, "MQL");
    /* illegal: refused, nothing written, stage unchanged */
    assert_int_equal(ho_store_transition(s, &lead, "win", 3000, "rep-1", "won", "ev-3", &err),
                     HO_ERR_STATE);
    assert_string_equal(lead.stage, "MQL");
    ho_lead_clear(&lead);
    ho_store_destroy(&s);
    assert_int_equal(s_count(path, "SELECT COUNT(*) FROM stage_history"), 1);
    assert_int_equal(s_count(path, "SELECT COUNT(*) FROM stage_history WHERE from_stage='ML' AND "
                                   "to_stage='MQL' AND at=2000 AND actor='score' AND score=80 "
                                   "AND fit=50 AND interest=30 AND reason='score 80'"),
                     1);
    assert_int_equal(s_count(path, "SELECT COUNT(*) FROM leads WHERE stage='MQL' AND mql_at=2000 "
                                   "AND first_mql_at=2000"),
                     1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Every event from every stage through the store itself: a legal one moves the stored stage
 * and appends exactly one history row with what it moved from and to; an illegal one is
 * refused with HO_ERR_STATE and leaves the stored lead and the history untouched. */
static void test_store_every_transition(void **state)
{
    (void)state;
    char dir[] = "/tmp/ho-lc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(path, &err);
    assert_non_null(s);
    json_t *p = json_pack("{sss{}sI}", "email", "a@acme.com", "source", "hubspot", "fields",
                          "observed_at", (json_int_t)1000);
    ho_upsert_t res;
    assert_int_equal(ho_store_upsert_lead(s, "ev-1", p, &res, &err), HO_OK);
    json_decref(p);
    int rows = 0, legal = 0, illegal = 0;
    for (size_t e = 0; e < sizeof s_events / sizeof s_events[0]; e++) {
        for (size_t st = 0; st < sizeof s_stages / sizeof s_stages[0]; st++) {
            ho_lead_t lead;
            ho_lead_init(&lead);
            assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &lead, &err), HO_OK);
            ho_lead_set(&lead.stage, s_stages[st]);
            assert_int_equal(ho_store_lead_put(s, &lead, &err), HO_OK);
            const char *want = s_expected(s_events[e], s_stages[st]);
            char id[64];
            snprintf(id, sizeof id, "ev-%s-%s", s_events[e], s_stages[st]);
            int rc =
                ho_store_transition(s, &lead, s_events[e], 2000 + rows, "rep-1", "test", id, &err);
            ho_lead_clear(&lead);
            assert_int_equal(ho_store_lead_get(s, "a@acme.com", 0, &lead, &err), HO_OK);
            if (want) {
                assert_int_equal(rc, HO_OK);
                assert_string_equal(lead.stage, want);
                rows++;
                legal++;
            } else {
                assert_int_equal(rc, HO_ERR_STATE);
                assert_non_null(strstr(err.message, s_events[e]));
                assert_string_equal(lead.stage, s_stages[st]);
                illegal++;
            }
            ho_lead_clear(&lead);
            char sql[256];
            snprintf(sql, sizeof sql,
                     "SELECT COUNT(*) FROM stage_history WHERE event_id = '%s' AND from_stage = "
                     "'%s' AND to_stage = '%s' AND actor = 'rep-1' AND kind = 'transition'",
                     id, s_stages[st], want ? want : "-");
            ho_store_destroy(&s);
            assert_int_equal(s_count(path, sql), want ? 1 : 0);
            assert_int_equal(s_count(path, "SELECT COUNT(*) FROM stage_history"), rows);
            s = ho_store_open(path, &err);
            assert_non_null(s);
        }
    }
    ho_store_destroy(&s);
    assert_int_equal(legal, (int)(sizeof s_legal / sizeof s_legal[0]));
    assert_int_equal(illegal, 12 * 9 - legal);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_event_and_stage),
        cmocka_unit_test(test_terminal_and_unknown),
        cmocka_unit_test(test_outcome_events),
        cmocka_unit_test(test_display_names),
        cmocka_unit_test(test_store_transition_writes_history),
        cmocka_unit_test(test_store_every_transition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
