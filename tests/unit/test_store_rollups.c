/* test_store_rollups.c - the report's per-lead roll-up (schema 8, lead_facts): a version-6
 * file migrates and its roll-up equals what its history says; then every kind of write the
 * store does to history (a new lead, a source change, a stage change in or out of order, a
 * note, the sales history re-derived (rows deleted), a score with a tie on its time, an
 * erasure) keeps it equal to history, checked against a recomputation written here from the
 * definitions (docs/store-schema.md, version 8), not the store's own backfill. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db_file_fixture.h"
#include "handoff/store.h"

static int s_setup(void **state)
{
    return s_tmp_setup(state, "/tmp/ho-rollup-XXXXXX");
}

static int s_teardown(void **state)
{
    return s_tmp_teardown(state);
}

static void s_sql(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg);
    }
    sqlite3_close(h);
}

/* The roll-up as history defines it, one text row per lead of leads / transitions / scores:
 * the latest transition into each "at least" set, the first MQL entry, the latest score by
 * (at, id) and its columns. */
#define S_FROM_HISTORY                                                                             \
    "SELECT i.id, l.created_at, l.source_channel, l.original_source, l.original_campaign,"         \
    " (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN"                                 \
    "  ('MQL','SAL','SQL','OPPORTUNITY','WON')),"                                                  \
    " (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN "                                \
    "('SAL','SQL','OPPORTUNITY','WON')),"                                                          \
    " (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('SQL','OPPORTUNITY','WON')),"   \
    " (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage IN ('OPPORTUNITY','WON')),"         \
    " (SELECT max(at) FROM t WHERE lead_id = i.id AND to_stage = 'WON'),"                          \
    " (SELECT min(at) FROM t WHERE lead_id = i.id AND to_stage = 'MQL'),"                          \
    " s.id, s.at, s.score, s.grade, s.quadrant, s.fit, s.interest"                                 \
    " FROM (SELECT id FROM leads UNION SELECT lead_id FROM t"                                      \
    "  WHERE to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON')"                                  \
    "  UNION SELECT lead_id FROM scores) i"                                                        \
    " LEFT JOIN leads l ON l.id = i.id"                                                            \
    " LEFT JOIN scores s ON s.id = (SELECT x.id FROM scores x WHERE x.lead_id = i.id"              \
    "  ORDER BY x.at DESC, x.id DESC LIMIT 1)"
#define S_KEPT                                                                                     \
    "SELECT id, created_at, source_channel, original_source, original_campaign, reach_mql,"        \
    " reach_sal, reach_sql, reach_opp, reach_won, first_mql, score_id, score_at, score, grade,"    \
    " quadrant, fit, interest FROM lead_facts"

/* The roll-up equals history (both ways), and has n rows. */
static void s_check(const char *db, int n)
{
    s_db_expect(db,
                "WITH t AS (SELECT * FROM stage_history WHERE kind = 'transition')"
                " SELECT (SELECT count(*) FROM (" S_KEPT " EXCEPT " S_FROM_HISTORY "))"
                " || ' ' || (SELECT count(*) FROM (" S_FROM_HISTORY " EXCEPT " S_KEPT "))",
                "0 0");
    char want[16];
    snprintf(want, sizeof want, "%d", n);
    s_db_expect(db, "SELECT count(*) FROM lead_facts", want);
}

/* History written as the store writes it (rows, in the order of arrival). */
static const char s_history[] =
    "INSERT INTO leads (id, email, created_at, updated_at, source_channel, original_source,"
    " original_campaign) VALUES"
    " (1, 'a@x.com', 100, 100, 'paid_search', 'google', 'q4'),"
    " (2, 'b@x.com', 110, 110, 'events', 'Trade Show', NULL),"
    " (3, 'c@x.com', 120, 120, NULL, NULL, NULL);"
    /* lead 1: MQL twice, SAL, an SQL that arrived before an older SAL (out of order) */
    "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor) VALUES"
    " (1, 'ML', 'MQL', 200, 'scorer'), (1, 'MQL', 'SAL', 300, 'sales'),"
    " (1, 'SAL', 'SQL', 500, 'sales'), (1, 'SQL', 'SAL', 250, 'sales'),"
    " (1, 'RECYCLED', 'MQL', 150, 'scorer'),"
    /* lead 2: WON implied, a note that repeats the stage (not a transition) */
    " (2, 'ML', 'WON', 400, 'sales');"
    "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor, kind) VALUES"
    " (2, 'WON', 'WON', 900, 'sales', 'note');"
    /* scores: lead 1 two at the same time (the higher id wins), one older after them */
    "INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest, score, grade,"
    " quadrant, mql) VALUES"
    " (1, 's1', 180, 'm', 10, 20, 30, 'B', 'nurture', 0),"
    " (1, 's2', 180, 'm', 40, 50, 90, 'A', 'mql_now', 1),"
    " (1, 's3', 170, 'm', 1, 2, 3, 'D', 'never', 0),"
    " (3, 's4', 130, 'm', 5, 5, 10, 'C', 'never', 0);";

/* Open the file with the store (which makes or migrates it to the newest schema) and close it. */
static void s_store_open_close(const char *path)
{
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(path, &err);
    if (!s) {
        fail_msg("open %s: %s", path, err.message);
    }
    assert_int_equal(ho_store_schema_version(s), HO_STORE_SCHEMA_VERSION);
    ho_store_destroy(&s);
}

/* Lead 1's sales history re-derived (HO_X_SALES_HISTORY_CLEAR) and written again, shorter:
 * the roll-up of the file's n leads still equals history, lead 1 now SAL at 320, no SQL. */
static void s_rederive_lead1(const char *path, int n)
{
    s_sql(path,
          "DELETE FROM stage_history WHERE lead_id = 1 AND actor = 'sales' AND kind = 'transition';"
          "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor) VALUES"
          " (1, 'MQL', 'SAL', 320, 'sales');");
    s_check(path, n);
    s_db_expect(path,
                "SELECT reach_sal || ' ' || ifnull(reach_sql, '-') FROM lead_facts WHERE id = 1",
                "320 -");
}

static void test_migrate_v6_and_keep(void **state)
{
    s_tmp_t *t = *state;
    /* A version-6 file: today's schema without the roll-up (version 7 is empty here). */
    s_store_open_close(t->path);
    s_sql(t->path, "DROP TRIGGER lead_facts_lead_new; DROP TRIGGER lead_facts_lead_set;"
                   "DROP TRIGGER lead_facts_stage_new; DROP TRIGGER lead_facts_stage_gone;"
                   "DROP TRIGGER lead_facts_stage_set; DROP TRIGGER lead_facts_score_new;"
                   "DROP TRIGGER lead_facts_score_gone; DROP TRIGGER lead_facts_score_set;"
                   "DROP TABLE lead_facts; UPDATE schema_version SET version = 6;");
    s_sql(t->path, s_history);
    s_db_expect(t->path,
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'lead_facts%'"
                " OR tbl_name = 'lead_facts'",
                "0");

    s_store_open_close(t->path);
    s_db_expect(t->path, "SELECT version FROM schema_version", HO_FIX_SCHEMA_V);
    s_check(t->path, 3);
    /* what the definitions say for lead 1, spelled out once */
    s_db_expect(t->path,
                "SELECT reach_mql || ' ' || reach_sal || ' ' || reach_sql || ' ' ||"
                " ifnull(reach_opp, '-') || ' ' || first_mql || ' ' || score || ' ' || grade"
                " FROM lead_facts WHERE id = 1",
                "500 500 500 - 150 90 A");
    s_db_expect(t->path, "SELECT reach_mql || ' ' || reach_won FROM lead_facts WHERE id = 2",
                "400 400");

    /* Kept by every write after the migration. */
    s_sql(t->path,
          /* a new lead, then its channel and source corrected (a merge) */
          "INSERT INTO leads (id, email, created_at, updated_at) VALUES (4, 'd@x.com', 140, 140);"
          "UPDATE leads SET source_channel = 'web', original_source = 'site' WHERE id = 4;"
          /* stage changes in and out of order, a note, a non-funnel stage */
          "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor) VALUES"
          " (4, 'ML', 'MQL', 600, 'scorer'), (4, 'MQL', 'OPPORTUNITY', 700, 'sales'),"
          " (4, 'OPPORTUNITY', 'SAL', 650, 'sales'), (4, 'ML', 'MQL', 550, 'scorer'),"
          " (3, 'ML', 'RECYCLED', 610, 'sales');"
          "INSERT INTO stage_history (lead_id, from_stage, to_stage, at, actor, kind) VALUES"
          " (4, 'SAL', 'SAL', 990, 'sales', 'note');"
          /* a score newer, one older, one tied on time */
          "INSERT INTO scores (lead_id, event_id, at, model_version, fit, interest, score, grade,"
          " quadrant, mql) VALUES (4, 's5', 560, 'm', 1, 1, 1, 'D', 'never', 0),"
          " (4, 's6', 620, 'm', 60, 70, 130, 'A', 'mql_now', 1),"
          " (4, 's7', 610, 'm', 2, 2, 2, 'D', 'never', 0),"
          " (4, 's8', 620, 'm', 3, 3, 3, 'D', 'never', 0);");
    s_check(t->path, 4);
    s_rederive_lead1(t->path, 4);
    /* erasure blanks explanations only; a score row deleted or moved is recomputed */
    s_sql(t->path, "UPDATE scores SET explanation_json = NULL WHERE lead_id = 4;"
                   "DELETE FROM scores WHERE event_id = 's8';"
                   "UPDATE scores SET at = 100 WHERE event_id = 's2';"
                   "UPDATE stage_history SET at = 50 WHERE lead_id = 4 AND at = 700;");
    s_check(t->path, 4);
}

/* Version 9: a version-8 file (the two-column stage_history_lead) with history migrates to the
 * covering index; the rows and the roll-up are as they were, and its triggers keep it after. */
static void test_migrate_v8_stage_index(void **state)
{
    s_tmp_t *t = *state;
    s_store_open_close(t->path);
    s_sql(t->path, "DROP INDEX stage_history_lead;"
                   "CREATE INDEX stage_history_lead ON stage_history(lead_id, at);"
                   "UPDATE schema_version SET version = 8;");
    s_sql(t->path, s_history);
    s_check(t->path, 3);
    s_db_expect(t->path, "SELECT group_concat(name) FROM pragma_index_info('stage_history_lead')",
                "lead_id,at");

    s_store_open_close(t->path);
    s_db_expect(t->path, "SELECT version FROM schema_version", HO_FIX_SCHEMA_V);
    s_db_expect(t->path, "SELECT group_concat(name) FROM pragma_index_info('stage_history_lead')",
                "lead_id,at,id,kind,to_stage");
    s_db_expect(t->path, "SELECT count(*) FROM stage_history", "7");
    s_check(t->path, 3);
    /* transitions deleted and one written after the migration: recomputed through the index */
    s_rederive_lead1(t->path, 3);
}

/* Through the store's own writes (its typed API): a lead upserted is in the roll-up at once. */
static void test_store_writes_kept(void **state)
{
    s_tmp_t *t = *state;
    ho_err_t err = {0};
    ho_store_t *s = ho_store_open(t->path, &err);
    assert_non_null(s);
    json_t *p = json_pack("{sssssIs{ss}}", "email", "ann@acme.com", "source", "hubspot",
                          "observed_at", (json_int_t)1000, "fields", "first_name", "Ann");
    ho_upsert_t res;
    assert_int_equal(ho_store_upsert_lead(s, "ev-1", p, &res, &err), HO_OK);
    json_decref(p);
    ho_store_destroy(&s);
    s_check(t->path, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_v6_and_keep, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_store_writes_kept, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v8_stage_index, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
