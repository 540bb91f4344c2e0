/* test_report_agg_keys.c - the report's GROUP BY in C (src/report/agg.c) gives what SQLite's
 * GROUP BY gives over the same rows: sums of integers and of reals, count(DISTINCT), min,
 * max, text / integer / NULL keys, several groupings of one scan with their own columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/report_int.h"

static sqlite3 *s_db;

static void s_sql(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s_db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg);
    }
}

static int64_t s_count(const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s_db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* t: rows with repeated text and integer keys (some NULL), integer values (some NULL), whole
 * reals (some NULL: the store's amounts are whole numbers) and lead ids that repeat. */
static int s_setup(void **state)
{
    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &s_db), SQLITE_OK);
    s_sql("CREATE TABLE t (ch TEXT, wk INTEGER, v INTEGER, amt REAL, lead INTEGER)");
    sqlite3_stmt *ins;
    assert_int_equal(
        sqlite3_prepare_v2(s_db, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", -1, &ins, NULL),
        SQLITE_OK);
    static const char *const chans[] = {"web", "Web", "email", "", "paid \xe2\x80\x94 social"};
    unsigned x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        unsigned r = x >> 8;
        if (r % 11 == 0) {
            sqlite3_bind_null(ins, 1);
        } else {
            sqlite3_bind_text(ins, 1, chans[r % 5], -1, SQLITE_STATIC);
        }
        if (r % 13 == 0) {
            sqlite3_bind_null(ins, 2);
        } else {
            sqlite3_bind_int(ins, 2, (int)(r % 12));
        }
        if (r % 7 == 0) {
            sqlite3_bind_null(ins, 3);
        } else {
            sqlite3_bind_int64(ins, 3, (int64_t)(r % 1000) - 300);
        }
        if (r % 3 == 0) {
            sqlite3_bind_null(ins, 4);
        } else {
            sqlite3_bind_double(ins, 4, (double)(r % 50000));
        }
        if (r % 17 == 0) {
            sqlite3_bind_null(ins, 5);
        } else {
            sqlite3_bind_int64(ins, 5, (int64_t)(r % 3000) + 1700000000000LL);
        }
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    sqlite3_close(s_db);
    return 0;
}

static bool s_step(void *arg, sqlite3_stmt *ins)
{
    (void)arg;
    return sqlite3_step(ins) == SQLITE_DONE;
}

/* Group the scan's rows with a, write them with insert. */
static void s_group(ho_ragg_t *a, const char *scan, const char *insert)
{
    sqlite3_stmt *st, *ins;
    assert_int_equal(sqlite3_prepare_v2(s_db, scan, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(s_db, insert, -1, &ins, NULL), SQLITE_OK);
    ho_rval_t vals[16];
    while (sqlite3_step(st) == SQLITE_ROW) {
        ho_rval_read(st, sqlite3_column_count(st), vals);
        assert_true(ho_ragg_add(a, vals));
    }
    assert_true(ho_ragg_write(a, ins, s_step, NULL));
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
}

/* Rows of a that b lacks and of b that a lacks: none. */
static void s_same(const char *a, const char *b)
{
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s EXCEPT %s)", a, b);
    assert_int_equal(s_count(sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s EXCEPT %s)", b, a);
    assert_int_equal(s_count(sql), 0);
}

static void test_sums_distinct_min_max_match_sqlite(void **state)
{
    (void)state;
    s_sql("CREATE TABLE g (ch TEXT, wk INTEGER, n INTEGER, v INTEGER, amt REAL, leads INTEGER,"
          " first INTEGER, last INTEGER)");
    static const int kinds[] = {HO_RAGG_SUM,      HO_RAGG_SUM, HO_RAGG_SUM,
                                HO_RAGG_DISTINCT, HO_RAGG_MIN, HO_RAGG_MAX};
    ho_ragg_t *a = ho_ragg_new(2, 6, NULL, kinds);
    assert_non_null(a);
    s_group(a, "SELECT ch, wk, 1, v, amt, lead, lead, lead FROM t",
            "INSERT INTO g VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    assert_int_equal(ho_ragg_groups(a), s_count("SELECT count(*) FROM (SELECT 1 FROM t GROUP BY"
                                                " ch, wk)"));
    ho_ragg_destroy(&a);
    assert_null(a);
    s_same("SELECT ch, wk, n, v, amt, leads, first, last FROM g",
           "SELECT ch, wk, count(*), coalesce(sum(v), 0), total(amt), count(DISTINCT lead),"
           " min(lead), max(lead) FROM t GROUP BY ch, wk");
    /* the types: an integer sum stays an integer, a sum of reals is a real */
    assert_int_equal(s_count("SELECT count(*) FROM g WHERE typeof(v) <> 'integer'"), 0);
    assert_int_equal(s_count("SELECT count(*) FROM g WHERE typeof(amt) <> 'real'"), 0);
    s_sql("DROP TABLE g");
}

static void test_groupings_of_one_scan_pick_their_columns(void **state)
{
    (void)state;
    s_sql("CREATE TABLE by_ch (ch TEXT, n INTEGER, amt REAL)");
    s_sql("CREATE TABLE by_wk (wk INTEGER, leads INTEGER)");
    static const int ch_cols[] = {0, 2, 4};
    static const int wk_cols[] = {1, 3};
    static const int wk_kinds[] = {HO_RAGG_DISTINCT};
    ho_ragg_t *by_ch = ho_ragg_new(1, 2, ch_cols, NULL);
    ho_ragg_t *by_wk = ho_ragg_new(1, 1, wk_cols, wk_kinds);
    assert_non_null(by_ch);
    assert_non_null(by_wk);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s_db, "SELECT ch, wk, 1, lead, amt FROM t", -1, &st, NULL),
                     SQLITE_OK);
    ho_rval_t vals[8];
    while (sqlite3_step(st) == SQLITE_ROW) {
        ho_rval_read(st, 5, vals);
        assert_true(ho_ragg_add(by_ch, vals));
        assert_true(ho_ragg_add(by_wk, vals));
    }
    sqlite3_finalize(st);
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(s_db, "INSERT INTO by_ch VALUES (?, ?, ?)", -1, &ins, NULL),
                     SQLITE_OK);
    assert_true(ho_ragg_write(by_ch, ins, s_step, NULL));
    sqlite3_finalize(ins);
    assert_int_equal(sqlite3_prepare_v2(s_db, "INSERT INTO by_wk VALUES (?, ?)", -1, &ins, NULL),
                     SQLITE_OK);
    assert_true(ho_ragg_write(by_wk, ins, s_step, NULL));
    sqlite3_finalize(ins);
    ho_ragg_destroy(&by_ch);
    ho_ragg_destroy(&by_wk);
    s_same("SELECT ch, n, amt FROM by_ch", "SELECT ch, count(*), total(amt) FROM t GROUP BY ch");
    s_same("SELECT wk, leads FROM by_wk", "SELECT wk, count(DISTINCT lead) FROM t GROUP BY wk");
    /* '' and NULL are different keys, as in SQL */
    assert_int_equal(s_count("SELECT count(*) FROM by_ch WHERE ch IS NULL"), 1);
    assert_int_equal(s_count("SELECT count(*) FROM by_ch WHERE ch = ''"), 1);
}

static void test_min_max_of_a_group_without_values_is_null(void **state)
{
    (void)state;
    s_sql("CREATE TABLE m (k INTEGER, lo INTEGER, hi INTEGER, s INTEGER)");
    static const int kinds[] = {HO_RAGG_MIN, HO_RAGG_MAX, HO_RAGG_SUM};
    ho_ragg_t *a = ho_ragg_new(1, 3, NULL, kinds);
    assert_non_null(a);
    s_group(a, "SELECT 1, NULL, NULL, NULL UNION ALL SELECT 2, -5, -5, 3",
            "INSERT INTO m VALUES (?, ?, ?, ?)");
    ho_ragg_destroy(&a);
    assert_int_equal(s_count("SELECT count(*) FROM m WHERE k = 1 AND lo IS NULL AND hi IS NULL"
                             " AND s = 0"),
                     1);
    assert_int_equal(s_count("SELECT count(*) FROM m WHERE k = 2 AND lo = -5 AND hi = -5"
                             " AND s = 3"),
                     1);
}

/* A text read as text only (a key-only column) groups as the full reading does; a column
 * that one grouping sums is not key-only, so a text there still sums as its number. */
static void test_key_only_texts_group_the_same_and_summed_texts_still_add(void **state)
{
    (void)state;
    static const int by_ch_cols[] = {0, 1};
    static const int by_wk_cols[] = {2, 0}; /* wk: key; ch: summed (a text's number) */
    const ho_rgroup_t groups[] = {{1, 1, by_ch_cols, NULL, 0}, {1, 1, by_wk_cols, NULL, 0}};
    assert_int_equal(ho_rgroup_key_only(groups, 1), 1u << 0);
    /* ch is summed by the second: not key-only; wk is only its key */
    assert_int_equal(ho_rgroup_key_only(groups, 2), 1u << 2);
    ho_ragg_t *full = ho_ragg_new(1, 1, by_ch_cols, NULL);
    ho_ragg_t *keys = ho_ragg_new(1, 1, by_ch_cols, NULL);
    ho_ragg_t *sum = ho_ragg_new(1, 1, by_wk_cols, NULL);
    assert_non_null(full);
    assert_non_null(keys);
    assert_non_null(sum);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(s_db,
                                        "SELECT ch, 1, wk FROM t UNION ALL"
                                        " SELECT '12.5', 1, -1 UNION ALL SELECT '7', 1, -1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ho_rval_t vals[3];
    while (sqlite3_step(st) == SQLITE_ROW) {
        ho_rval_read(st, 3, vals);
        assert_true(ho_ragg_add(full, vals));
        assert_true(ho_ragg_add(sum, vals));
        ho_rval_read_keys(st, 3, vals, ho_rgroup_key_only(groups, 1));
        assert_true(vals[0].type != SQLITE_TEXT || (vals[0].i == 0 && vals[0].d == 0));
        assert_true(ho_ragg_add(keys, vals));
    }
    sqlite3_finalize(st);
    s_sql("CREATE TABLE kf (ch TEXT, n INTEGER)");
    s_sql("CREATE TABLE kk (ch TEXT, n INTEGER)");
    s_sql("CREATE TABLE ks (wk INTEGER, s REAL)");
    sqlite3_stmt *ins;
    const char *const inserts[] = {"INSERT INTO kf VALUES (?, ?)", "INSERT INTO kk VALUES (?, ?)",
                                   "INSERT INTO ks VALUES (?, ?)"};
    ho_ragg_t *aggs[] = {full, keys, sum};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sqlite3_prepare_v2(s_db, inserts[i], -1, &ins, NULL), SQLITE_OK);
        assert_true(ho_ragg_write(aggs[i], ins, s_step, NULL));
        sqlite3_finalize(ins);
        ho_ragg_destroy(&aggs[i]);
    }
    s_same("SELECT ch, n FROM kf", "SELECT ch, n FROM kk");
    assert_int_equal(s_count("SELECT count(*) FROM kk"),
                     s_count("SELECT count(*) FROM (SELECT 1 FROM t GROUP BY ch)") + 2);
    /* SQLite's own sum of the texts '12.5' and '7' */
    assert_int_equal(s_count("SELECT count(*) FROM ks WHERE wk = -1 AND s = 19.5"), 1);
    assert_int_equal(s_count("SELECT sum(ch) = 19.5 FROM (SELECT '12.5' AS ch UNION ALL"
                             " SELECT '7')"),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_distinct_min_max_match_sqlite),
        cmocka_unit_test(test_groupings_of_one_scan_pick_their_columns),
        cmocka_unit_test(test_min_max_of_a_group_without_values_is_null),
        cmocka_unit_test(test_key_only_texts_group_the_same_and_summed_texts_still_add),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
