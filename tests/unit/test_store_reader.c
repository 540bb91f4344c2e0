/* test_store_reader.c - the read model (reader.h) against a real file the store made: every
 * named read query prepares against the current schema (a renamed column fails here, not in
 * a report on Monday), the formats with every part they take, and the open refuses what is
 * not a store of this build. Both ways the report builds its temp tables are run: over the
 * roll-up lead_facts (the _FACTS setups, a store of this build) and from the raw history (the
 * _RAW ones, the same file with lead_facts dropped, as an older store has none). The plans of
 * the per-lead lookups: test_store_plans.c. */
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
#include <unistd.h>

#include "db_file_fixture.h"
#include "handoff/reader.h"
#include "handoff/store.h"

/* Each test's fixture: a new dir with a database the store made (every migration applied),
 * and a reader open on it. */
typedef struct {
    char dir[64], db[128];
    ho_reader_t *r;
} s_fix_t;

static int s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(
        s_tmp_dir_new(f->dir, sizeof f->dir, f->db, sizeof f->db, "/tmp/ho-reader-XXXXXX"), 0);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(f->db, &err);
    assert_non_null(st);
    ho_store_destroy(&st);
    f->r = ho_reader_open(f->db, 0, &err);
    assert_non_null(f->r);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    ho_reader_destroy(&f->r);
    ho_reader_destroy(&f->r); /* safe twice */
    int rc = s_tmp_dir_remove(f->dir);
    free(f);
    return rc;
}

static bool s_used[HO_RQ__COUNT];

/* The text of a part, marked as used by some format below. */
static const char *s_part(ho_rq_t q)
{
    assert_int_equal(ho_reader_query_flags(q) & HO_RQF_PART, HO_RQF_PART);
    s_used[q] = true;
    return ho_reader_sql(q);
}

/* The Data quality kind table as quality.c composes it: two result columns, the never-MQL
 * column in each of its forms. */
static int s_quality_kind(ho_reader_t *r, ho_rq_t result, ho_rq_t no_mql)
{
    char sql[4096];
    size_t len = (size_t)snprintf(sql, sizeof sql, "%s", s_part(HO_RQ_REPORT_QUALITY_KIND_HEAD));
    for (int i = 0; i < 2; i++) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s", s_part(result));
    }
    snprintf(sql + len, sizeof sql - len, "%s", s_part(no_mql));
    sqlite3_stmt *st;
    return ho_reader_stmt_fmt(r, HO_RQ_REPORT_QUALITY_KIND, &st, NULL, sql);
}

/* Every format filled the ways its reader fills it; each must prepare. */
static void s_formats(ho_reader_t *r, ho_rq_t q, bool facts)
{
    sqlite3_stmt *st;
    ho_err_t err = {0};
    switch (q) {
    case HO_RQ_REPORT_REASONS_KEYS:
    case HO_RQ_REPORT_REASONS_CELLS:
        assert_int_equal(
            ho_reader_stmt_fmt(r, q, &st, &err, s_part(HO_RQ_REPORT_REASONS_KEY_CHANNEL)), HO_OK);
        assert_int_equal(ho_reader_stmt_fmt(r, q, &st, &err, s_part(HO_RQ_REPORT_REASONS_KEY_REP)),
                         HO_OK);
        break;
    case HO_RQ_REPORT_DRILLDOWN_ROWS:
        assert_int_equal(ho_reader_stmt_fmt(r, q, &st, &err, s_part(HO_RQ_REPORT_DRILLDOWN_FLAGS)),
                         HO_OK);
        assert_int_equal(
            ho_reader_stmt_fmt(r, q, &st, &err, s_part(HO_RQ_REPORT_DRILLDOWN_NO_FLAGS)), HO_OK);
        break;
    case HO_RQ_REPORT_SETUP_REACH_FACTS:
    case HO_RQ_REPORT_SETUP_SCORE_ASOF_FACTS:
    case HO_RQ_REPORT_SETUP_LEAD_ASOF_FACTS: /* %1$lld: as_of; the view is made, so the
                                              * queries after it read it */
        if (ho_reader_stmt_fmt(r, q, &st, &err, (long long)1700000000000) != HO_OK) {
            fail_msg("%s: %s", ho_reader_query_name(q), err.message);
        }
        assert_int_equal(ho_reader_exec(r, st, &err), HO_OK);
        break;
    case HO_RQ_REPORT_CALIBRATION_GRID:
        assert_int_equal(ho_reader_stmt_fmt(r, q, &st, &err, 80, 4, 20, 40, 4, 10), HO_OK);
        break;
    case HO_RQ_REPORT_SCAN_OUTCOMES:
        /* outcomes.flags, implied, import_id: present or not; the lead's channel from
         * lead_facts (a file that has it) or leads */
        for (int v = 0; v < (facts ? 16 : 8); v++) {
            ho_rq_t flags = v & 1 ? HO_RQ_REPORT_SCAN_OUTCOMES_FLAGS : HO_RQ_REPORT_SCAN_NULL;
            ho_rq_t implied = v & 2 ? HO_RQ_REPORT_SCAN_OUTCOMES_IMPLIED : HO_RQ_REPORT_SCAN_ZERO;
            ho_rq_t import = v & 4 ? HO_RQ_REPORT_SCAN_OUTCOMES_IMPORT_ID : HO_RQ_REPORT_SCAN_NULL;
            ho_rq_t channel = v & 8 ? HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_FACTS
                                    : HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_LEADS;
            if (ho_reader_stmt_fmt(r, q, &st, &err, s_part(flags), s_part(implied),
                                   s_part(import), s_part(channel)) != HO_OK) {
                fail_msg("outcomes scan variant %d: %s", v, err.message);
            }
            assert_true(sqlite3_stmt_readonly(st));
        }
        break;
    case HO_RQ_REPORT_QUALITY_KIND:
        for (int v = 0; v < 2; v++) {
            ho_rq_t res =
                v ? HO_RQ_REPORT_QUALITY_KIND_NO_RESULT : HO_RQ_REPORT_QUALITY_KIND_RESULT;
            assert_int_equal(s_quality_kind(r, res, HO_RQ_REPORT_QUALITY_KIND_NO_MQL), HO_OK);
            assert_int_equal(s_quality_kind(r, res, HO_RQ_REPORT_QUALITY_KIND_NO_MQL_NULL), HO_OK);
        }
        break;
    case HO_RQ_REPORT_QUALITY_WEEK_OUTCOMES:
        for (int v = 0; v < 4; v++) { /* outcomes.import_id (the source and its join), flags:
                                       * present or not */
            ho_rq_t src = v & 1 ? HO_RQ_REPORT_QUALITY_WEEK_SOURCE
                                : HO_RQ_REPORT_QUALITY_WEEK_SOURCE_UNRECORDED;
            ho_rq_t join =
                v & 1 ? HO_RQ_REPORT_QUALITY_WEEK_JOIN_IMPORTS : HO_RQ_REPORT_QUALITY_WEEK_NO_JOIN;
            ho_rq_t no_mql =
                v & 2 ? HO_RQ_REPORT_QUALITY_WEEK_NO_MQL : HO_RQ_REPORT_QUALITY_WEEK_NO_MQL_NULL;
            if (ho_reader_stmt_fmt(r, q, &st, &err, s_part(src), s_part(no_mql), s_part(join)) !=
                HO_OK) {
                fail_msg("week outcomes variant %d: %s", v, err.message);
            }
        }
        break;
    default:
        fail_msg("format %s: no sample here; add one", ho_reader_query_name(q));
    }
}

/* One named query on r: a statement prepares (a setup that creates runs, so the queries
 * after it find its table), a format prepares filled, a part is checked by its formats, an
 * alternative setup prepares on a reader of its own (it would make what the one before made).
 * facts: the store has lead_facts, so the report builds with the _FACTS setups, not the raw
 * ones (and the other way round). */
static void s_check(ho_reader_t *r, const char *db, ho_rq_t q, bool facts)
{
    unsigned flags = ho_reader_query_flags(q);
    sqlite3_stmt *st;
    ho_err_t err = {0};
    if ((flags & HO_RQF_PART) || (flags & (facts ? HO_RQF_RAW : HO_RQF_FACTS))) {
        return;
    }
    if (flags & HO_RQF_FORMAT) {
        s_formats(r, q, facts);
        return;
    }
    if (flags & HO_RQF_ALT) {
        ho_reader_t *alone = ho_reader_open(db, 0, &err);
        assert_non_null(alone);
        if (ho_reader_stmt(alone, q, &st, &err) != HO_OK) {
            fail_msg("%s: %s", ho_reader_query_name(q), err.message);
        }
        assert_int_equal(ho_reader_exec(alone, st, &err), HO_OK);
        ho_reader_destroy(&alone);
        return;
    }
    if (ho_reader_stmt(r, q, &st, &err) != HO_OK) {
        fail_msg("%s: %s", ho_reader_query_name(q), err.message);
    }
    if (flags & HO_RQF_SETUP) {
        if (strncmp(ho_reader_sql(q), "CREATE", 6) == 0) {
            assert_int_equal(ho_reader_exec(r, st, &err), HO_OK);
        }
    } else {
        /* a read query never writes: the reader refuses one that would */
        assert_true(sqlite3_stmt_readonly(st));
    }
}

/* Every named query on r, in order, the way a store with (facts) or without lead_facts is
 * read. */
static void s_check_all(ho_reader_t *r, const char *db, bool facts)
{
    ho_err_t err = {0};
    assert_int_equal(ho_reader_has(r, "lead_facts", NULL), facts);
    memset(s_used, 0, sizeof s_used);
    assert_int_equal(ho_reader_begin(r, &err), HO_OK);
    for (int q = 0; q < HO_RQ__COUNT; q++) {
        assert_non_null(ho_reader_sql((ho_rq_t)q));
        assert_non_null(ho_reader_query_name((ho_rq_t)q));
        s_check(r, db, (ho_rq_t)q, facts);
    }
    for (int q = 0; q < HO_RQ__COUNT; q++) {
        unsigned fl = ho_reader_query_flags((ho_rq_t)q);
        /* a part over lead_facts has no use on a file without it */
        if ((fl & HO_RQF_PART) && !s_used[q] && (facts || !(fl & HO_RQF_FACTS))) {
            fail_msg("part %s: no format here uses it", ho_reader_query_name((ho_rq_t)q));
        }
    }
    assert_int_equal(ho_reader_end(r, &err), HO_OK);
    assert_null(ho_reader_sql(HO_RQ__COUNT));
}

static void test_every_named_query_prepares(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(ho_reader_schema_version(f->r), HO_STORE_SCHEMA_VERSION);
    s_check_all(f->r, f->db, true);
}

/* A store without the roll-up (an older file not migrated yet; here this build's with
 * lead_facts and its triggers dropped): the raw setups, and everything after them. */
static void test_every_named_query_prepares_raw(void **state)
{
    s_fix_t *f = *state;
    ho_reader_destroy(&f->r);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                        " AND tbl_name != 'lead_facts' AND sql LIKE '%lead_facts%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    char drop[4096] = "DROP TABLE lead_facts;";
    size_t len = strlen(drop);
    int triggers = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        len += (size_t)snprintf(drop + len, sizeof drop - len, "DROP TRIGGER \"%s\";",
                                (const char *)sqlite3_column_text(st, 0));
        triggers++;
    }
    sqlite3_finalize(st);
    assert_true(triggers > 0 && len < sizeof drop);
    assert_int_equal(sqlite3_exec(h, drop, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ho_err_t err = {0};
    f->r = ho_reader_open(f->db, 0, &err);
    assert_non_null(f->r);
    s_check_all(f->r, f->db, false);
}

/* Names are unique: each says which reader and statement it is. */
static void test_names_unique(void **state)
{
    (void)state;
    for (int a = 0; a < HO_RQ__COUNT; a++) {
        for (int b = a + 1; b < HO_RQ__COUNT; b++) {
            assert_string_not_equal(ho_reader_query_name((ho_rq_t)a),
                                    ho_reader_query_name((ho_rq_t)b));
        }
    }
}

/* The kinds of named query are kept apart: a format or a part is no statement. */
static void test_kinds_refused(void **state)
{
    ho_reader_t *r = ((s_fix_t *)*state)->r;
    ho_err_t err = {0};
    sqlite3_stmt *st = (sqlite3_stmt *)r;
    assert_int_equal(ho_reader_stmt(r, HO_RQ_REPORT_REASONS_KEYS, &st, &err), HO_ERR_STATE);
    assert_null(st);
    assert_int_equal(ho_reader_stmt(r, HO_RQ_REPORT_DRILLDOWN_FLAGS, &st, &err), HO_ERR_STATE);
    assert_int_equal(ho_reader_stmt_fmt(r, HO_RQ_METRICS_IMPORTS, &st, &err), HO_ERR_STATE);
    assert_int_equal(ho_reader_stmt(r, HO_RQ__COUNT, &st, &err), HO_ERR_STATE);
}

/* Step the periods insert of row id directly (not through ho_reader_exec). */
static int s_step_row(sqlite3_stmt *st, int id)
{
    sqlite3_bind_int(st, 1, id);
    sqlite3_bind_int(st, 2, 1000 + id);
    sqlite3_bind_int(st, 3, 2000 + id);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    return s;
}

/* A setup run lifts query_only once for many setup statements, and its end puts it back:
 * outside a run only ho_reader_exec may write (a temp table). */
static void test_setup_run(void **state)
{
    ho_reader_t *r = ((s_fix_t *)*state)->r;
    ho_err_t err = {0};
    sqlite3_stmt *st;
    assert_int_equal(ho_reader_begin(r, &err), HO_OK);
    assert_int_equal(ho_reader_stmt(r, HO_RQ_REPORT_SETUP_PERIODS, &st, &err), HO_OK);
    assert_int_equal(ho_reader_exec(r, st, &err), HO_OK);
    assert_int_equal(ho_reader_stmt(r, HO_RQ_REPORT_SETUP_PERIODS_ROW, &st, &err), HO_OK);
    assert_int_equal(s_step_row(st, 1), SQLITE_READONLY);

    assert_int_equal(ho_reader_setup_begin(r, &err), HO_OK);
    assert_int_equal(ho_reader_setup_begin(r, &err), HO_ERR_STATE);
    assert_int_equal(s_step_row(st, 2), SQLITE_DONE);
    assert_int_equal(s_step_row(st, 3), SQLITE_DONE);
    sqlite3_bind_int(st, 1, 4);
    assert_int_equal(ho_reader_exec(r, st, &err), HO_OK);
    assert_int_equal(ho_reader_setup_end(r, &err), HO_OK);
    assert_int_equal(ho_reader_setup_end(r, &err), HO_OK); /* no run: nothing to end */

    assert_int_equal(s_step_row(st, 5), SQLITE_READONLY);
    sqlite3_bind_int(st, 1, 6);
    assert_int_equal(ho_reader_exec(r, st, &err), HO_OK); /* exec still lifts it for itself */
    assert_int_equal(s_step_row(st, 7), SQLITE_READONLY);
    sqlite3_stmt *count;
    assert_int_equal(sqlite3_prepare_v2(sqlite3_db_handle(st),
                                        "SELECT group_concat(idx) FROM temp.periods", -1, &count,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(count), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(count, 0), "2,3,4,6");
    sqlite3_finalize(count);
    assert_int_equal(ho_reader_end(r, &err), HO_OK);
}

static void test_has_column(void **state)
{
    ho_reader_t *r = ((s_fix_t *)*state)->r;
    assert_true(ho_reader_has(r, "leads", NULL));
    assert_true(ho_reader_has(r, "leads", "email"));
    assert_true(ho_reader_has(r, "outcomes", "implied"));
    assert_false(ho_reader_has(r, "leads", "no_such_column"));
    assert_false(ho_reader_has(r, "no_such_table", NULL));
}

/* Run sql on the file at path (created if need be), then: the reader refuses to open it, with
 * HO_ERR_VERSION and a message naming the file and saying why. */
static void s_refused_after(const char *path, const char *sql, const char *why)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ho_err_t err = {0};
    assert_null(ho_reader_open(path, 0, &err));
    assert_int_equal(err.code, HO_ERR_VERSION);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, why));
}

/* What is not a store of this build is refused at the open, the file named. */
static void test_open_refuses(void **state)
{
    s_fix_t *f = *state;
    const char *dir = f->dir, *db = f->db;
    ho_err_t err = {0};
    char path[200];

    snprintf(path, sizeof path, "%s/none.db", dir);
    assert_null(ho_reader_open(path, 0, &err));
    assert_int_equal(err.code, HO_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, path));
    assert_int_not_equal(access(path, F_OK), 0); /* read-only: never creates one */

    /* a file of another program */
    snprintf(path, sizeof path, "%s/foreign.db", dir);
    s_refused_after(path, "CREATE TABLE t(x)", "schema_version");
    /* a newer store than this build knows: its columns may mean something else */
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO schema_version (version) VALUES (%d)",
             HO_STORE_SCHEMA_VERSION + 1);
    s_refused_after(db, sql, "newer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_named_query_prepares, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_every_named_query_prepares_raw, s_setup, s_teardown),
        cmocka_unit_test(test_names_unique),
        cmocka_unit_test_setup_teardown(test_kinds_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_setup_run, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_has_column, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
