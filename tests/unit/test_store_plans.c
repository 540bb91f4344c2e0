/* test_store_plans.c - every named query of the store (store.h: ho_query_t) against the real
 * schema, by EXPLAIN QUERY PLAN: a query the pipeline runs per message must find its rows
 * through an index on a selective key, never scan a table that grows with the data (issue
 * 13: one missing index made the store read every scores row per MQL until it never drained).
 *
 * Two ways a plan is refused:
 *   - "SCAN t" of any table (a full scan, or a covering-index scan: both read every row);
 *   - "SEARCH t USING INDEX i (c=?)" where every constrained column is a low-cardinality one
 *     (status, type, stage, ...): the index narrows nothing that grows per lead. This is what
 *     HO_Q_OPEN_ASSIGNMENTS did: SQLite picked assignments_open (status, sla_due), all open
 *     assignments of all leads, over assignments_lead.
 * Queries that are not per message (the CLI's counts and lists, the tick's due-lists whose
 * index range is the due rows) are named below with why; a new query is checked by default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_file_fixture.h"
#include "handoff/reader.h"
#include "handoff/store.h"

/* Queries allowed to scan, and why. Everything else must search a selective index. */
static const struct {
    ho_query_t q;
    const char *why;
} s_not_per_message[] = {
    {HO_Q_COUNTS, "`handoff status` row counts: an operator command, not per message"},
    {HO_Q_LEAD_IDS, "`handoff score --rescore-all` / erase sweeps: every lead on purpose"},
    {HO_Q_QUARANTINE_LIST, "`handoff dlq list`: newest first by rowid with LIMIT"},
    {HO_Q_UNMATCHED_ANY, "LIMIT 1: stops at the first row"},
    {HO_Q_PENDING_ANY, "LIMIT 1: stops at the first row"},
};

static bool s_exempt(ho_query_t q)
{
    for (size_t i = 0; i < sizeof s_not_per_message / sizeof s_not_per_message[0]; i++) {
        if (s_not_per_message[i].q == q) {
            return true;
        }
    }
    return false;
}

/* Columns whose equality alone does not bound the rows by lead, email or event. */
static bool s_low_cardinality(const char *col)
{
    static const char *const cols[] = {"status", "type", "stage", "kind", "implied",
                                       "actor",  "erased", "step", "result", "code"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (strcmp(col, cols[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* One plan line: NULL when it is fine, else why not (static text). */
static const char *s_judge(const char *line)
{
    if (strncmp(line, "SCAN ", 5) == 0) {
        /* a scan of a subquery's result or of a constant row is not a table scan */
        if (strncmp(line, "SCAN CONSTANT ROW", 17) == 0 || strstr(line, "SUBQUERY")) {
            return NULL;
        }
        return "full scan";
    }
    if (strncmp(line, "SEARCH ", 7) != 0) {
        return NULL;
    }
    const char *open = strchr(line, '(');
    if (!open || strstr(line, "INTEGER PRIMARY KEY")) {
        return NULL; /* rowid lookup, or an automatic index over a bounded subquery */
    }
    /* "(a=? AND b>?)": every constrained column low-cardinality -> refused */
    char cols[256];
    snprintf(cols, sizeof cols, "%s", open + 1);
    bool any_selective = false;
    for (char *save = NULL, *tok = strtok_r(cols, " ()", &save); tok;
         tok = strtok_r(NULL, " ()", &save)) {
        if (strcmp(tok, "AND") == 0) {
            continue;
        }
        size_t n = strcspn(tok, "=<>");
        tok[n] = '\0';
        if (n && !s_low_cardinality(tok)) {
            any_selective = true;
        }
    }
    return any_selective ? NULL : "index on a low-cardinality column only";
}

/* The plan of sql on db: its lines in *lines (joined with " | "), and the first refusal. */
static const char *s_plan(sqlite3 *h, const char *sql, char *lines, size_t cap)
{
    char q[4096];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, q, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    }
    const char *bad = NULL;
    size_t used = 0;
    lines[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 3);
        used += (size_t)snprintf(lines + used, used < cap ? cap - used : 0, "%s%s",
                                 used ? " | " : "", line);
        const char *why = s_judge(line);
        bad = bad ? bad : why;
    }
    sqlite3_finalize(st);
    return bad;
}

/* A new database in a new dir made by the store (the real schema, every migration applied),
 * opened read-only: the handle, dir filled in for s_tmp_dir_remove. */
static sqlite3 *s_fresh_schema(char *dir, size_t dir_cap)
{
    char db[128];
    assert_int_equal(s_tmp_dir_new(dir, dir_cap, db, sizeof db, "/tmp/ho-plans-XXXXXX"), 0);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(db, &err);
    assert_non_null(st);
    ho_store_destroy(&st);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return h;
}

static void test_every_named_query_uses_an_index(void **state)
{
    (void)state;
    char dir[64];
    sqlite3 *h = s_fresh_schema(dir, sizeof dir);
    int checked = 0, refused = 0;
    for (int q = 0; q < HO_Q__COUNT; q++) {
        const char *sql = ho_store_query_sql((ho_query_t)q);
        assert_non_null(sql);
        char lines[2048];
        const char *bad = s_plan(h, sql, lines, sizeof lines);
        checked++;
        if (bad && !s_exempt((ho_query_t)q)) {
            print_error("query %d: %s\n  sql:  %s\n  plan: %s\n", q, bad, sql, lines);
            refused++;
        }
    }
    sqlite3_close(h);
    assert_int_equal(checked, HO_Q__COUNT);
    assert_int_equal(refused, 0);
    assert_null(ho_store_query_sql(HO_Q__COUNT));
    assert_int_equal(s_tmp_dir_remove(dir), 0);
}

/* The judge itself: the two refusals and what passes (so the test above can fail). */
static void test_judge(void **state)
{
    (void)state;
    assert_string_equal(s_judge("SCAN scores"), "full scan");
    assert_string_equal(s_judge("SCAN a USING COVERING INDEX assignments_lead"), "full scan");
    assert_string_equal(s_judge("SEARCH assignments USING INDEX assignments_open (status=?)"),
                        "index on a low-cardinality column only");
    /* a range on a time column bounds the rows to the due ones (the tick's lists) */
    assert_null(s_judge("SEARCH a USING INDEX assignments_open (status=? AND sla_due<?)"));
    assert_null(s_judge("SEARCH scores USING INDEX scores_lead (lead_id=?)"));
    assert_null(s_judge("SEARCH leads USING INTEGER PRIMARY KEY (rowid=?)"));
    assert_null(s_judge("SCAN CONSTANT ROW"));
    assert_null(s_judge("USE TEMP B-TREE FOR ORDER BY"));
}

/* The fix of HO_Q_OPEN_ASSIGNMENTS, named: it reads the lead's assignments by assignments_lead. */
static void test_open_assignments_by_lead(void **state)
{
    (void)state;
    char dir[64];
    sqlite3 *h = s_fresh_schema(dir, sizeof dir);
    char lines[2048];
    assert_null(s_plan(h, ho_store_query_sql(HO_Q_OPEN_ASSIGNMENTS), lines, sizeof lines));
    if (!strstr(lines, "assignments_lead (lead_id=?)")) {
        fail_msg("open assignments plan: %s", lines);
    }
    sqlite3_close(h);
    assert_int_equal(s_tmp_dir_remove(dir), 0);
}

/* The read model's lookups of one lead (reader.h) find it through an index, like the
 * store's own: `handoff score --explain` and `handoff forget`'s preview, by email. The
 * report's and the other commands' queries read the whole store on purpose. */
static void test_reader_per_lead_lookups(void **state)
{
    (void)state;
    static const ho_rq_t per_lead[] = {HO_RQ_FORGET_NEEDLES, HO_RQ_SCORE_EXPLAIN_LEAD};
    char dir[64];
    sqlite3 *h = s_fresh_schema(dir, sizeof dir);
    for (size_t i = 0; i < sizeof per_lead / sizeof per_lead[0]; i++) {
        char lines[2048];
        const char *bad = s_plan(h, ho_reader_sql(per_lead[i]), lines, sizeof lines);
        if (bad || !strstr(lines, "(email=?)")) {
            fail_msg("%s: %s\n  plan: %s", ho_reader_query_name(per_lead[i]),
                     bad ? bad : "not by email", lines);
        }
    }
    sqlite3_close(h);
    assert_int_equal(s_tmp_dir_remove(dir), 0);
}

/* Schema 9: stage_history_lead covers what is read of a lead's transitions. The report's stage
 * pass reads every transition in (lead_id, at, id) order from the index alone (no seek into
 * the table per row, no sort), and the roll-up's triggers read a lead's transitions by kind
 * and stage from it too. */
static void test_stage_reads_cover(void **state)
{
    (void)state;
    char dir[64];
    sqlite3 *h = s_fresh_schema(dir, sizeof dir);
    assert_int_equal(sqlite3_exec(h, ho_reader_sql(HO_RQ_REPORT_SETUP_TRANSITIONS), NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    char lines[2048];
    (void)s_plan(h, ho_reader_sql(HO_RQ_REPORT_STAGES_SCAN), lines, sizeof lines);
    if (!strstr(lines, "stage_history USING COVERING INDEX stage_history_lead") ||
        strstr(lines, "TEMP B-TREE")) {
        fail_msg("report.stages_scan plan: %s", lines);
    }
    /* what lead_facts_stage_gone / _stage_set recompute a lead's reach with */
    assert_null(s_plan(h,
                       "SELECT max(h.at) FROM stage_history h WHERE h.lead_id = ?"
                       " AND h.kind = 'transition' AND h.to_stage IN ('SQL','OPPORTUNITY','WON')",
                       lines, sizeof lines));
    if (!strstr(lines, "USING COVERING INDEX stage_history_lead (lead_id=?)")) {
        fail_msg("a lead's reach plan: %s", lines);
    }
    sqlite3_close(h);
    assert_int_equal(s_tmp_dir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_every_named_query_uses_an_index),
        cmocka_unit_test(test_open_assignments_by_lead),
        cmocka_unit_test(test_reader_per_lead_lookups),
        cmocka_unit_test(test_stage_reads_cover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
