/* test_report_agg.c - the report's GROUP BY in C (src/report/agg.c) against SQLite's own
 * GROUP BY over the same rows: sums, count(DISTINCT), the median of ho_report_median, for
 * rows read from a statement's columns and for rows computed in C (ho_ragg_key_* +
 * ho_ragg_add_vals). Values are negative and positive, repeated, and more than the radix sort's
 * threshold per group. */
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

#include "report/report_int.h"

enum { NROWS = 5000, NGROUPS = 7 };

static const int s_kinds[3] = {HO_RAGG_SUM, HO_RAGG_DISTINCT, HO_RAGG_MEDIAN};

static void s_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg);
    }
}

/* t(g, v, x): group g (a text key, NULL for some rows), a value to sum, a value to count
 * once and to take the median of (NULL for some rows). Deterministic. */
static sqlite3 *s_db(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    s_exec(db, "CREATE TABLE t (g TEXT, v INTEGER, x INTEGER);"
               "CREATE TABLE out (g TEXT, s INTEGER, d INTEGER, m REAL)");
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?)", -1, &ins, NULL),
                     SQLITE_OK);
    uint64_t r = 42;
    for (int i = 0; i < NROWS; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int g = (int)((r >> 33) % NGROUPS);
        char key[16];
        snprintf(key, sizeof key, "g%d", g);
        if (g == 0) {
            sqlite3_bind_null(ins, 1);
        } else {
            sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_int64(ins, 2, (int64_t)((r >> 20) % 1000) - 300);
        if ((r >> 40) % 10 == 0) {
            sqlite3_bind_null(ins, 3);
        } else { /* repeats, both signs, some far from 0 */
            int64_t x = (int64_t)((r >> 44) % 900) - 450;
            sqlite3_bind_int64(ins, 3, g == 3 ? x * 1000000000000LL : x);
        }
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    return db;
}

static bool s_step(void *arg, sqlite3_stmt *ins)
{
    (void)arg;
    int s = sqlite3_step(ins);
    sqlite3_reset(ins);
    return s == SQLITE_DONE;
}

/* The groups of agg in table out. */
static void s_write(sqlite3 *db, const ho_ragg_t *agg)
{
    s_exec(db, "DELETE FROM out");
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO out VALUES (?, ?, ?, ?)", -1, &ins, NULL),
                     SQLITE_OK);
    assert_true(ho_ragg_write(agg, ins, s_step, NULL));
    sqlite3_finalize(ins);
}

/* The median of group g's x as ho_report_median computes it, from SQL's rows. */
static bool s_median(sqlite3 *db, const unsigned char *g, double *m)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT x FROM t WHERE g IS ? AND x IS NOT NULL", -1, &st, NULL),
        SQLITE_OK);
    if (g) {
        sqlite3_bind_text(st, 1, (const char *)g, -1, SQLITE_TRANSIENT);
    }
    int64_t *v = malloc(NROWS * sizeof *v);
    assert_non_null(v);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        v[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    bool has = ho_report_median(v, n, m);
    free(v);
    return has;
}

/* out holds exactly what SQLite's GROUP BY says of t. */
static void s_check(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT t.g, sum(t.v), count(DISTINCT t.x), o.s, o.d, o.m, o.g IS NULL"
                           " FROM t LEFT JOIN out o ON o.g IS t.g GROUP BY t.g",
                           -1, &st, NULL),
        SQLITE_OK);
    int groups = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        groups++;
        assert_int_equal(sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 1));
        assert_int_equal(sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 2));
        double m;
        if (s_median(db, sqlite3_column_text(st, 0), &m)) {
            assert_true(sqlite3_column_double(st, 5) == m);
        } else {
            assert_int_equal(sqlite3_column_type(st, 5), SQLITE_NULL);
        }
    }
    sqlite3_finalize(st);
    assert_int_equal(groups, NGROUPS);
    assert_true(sqlite3_prepare_v2(db, "SELECT count(*) FROM out", -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), NGROUPS); /* one row per group, no more */
    sqlite3_finalize(st);
}

static void test_rows_from_a_statement_group_as_sql_does(void **state)
{
    (void)state;
    sqlite3 *db = s_db();
    /* the key, then the sums: v, x counted once, x for the median */
    ho_ragg_t *agg = ho_ragg_new(1, 3, NULL, s_kinds);
    assert_non_null(agg);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT g, v, x, x FROM t", -1, &st, NULL), SQLITE_OK);
    ho_rval_t vals[4];
    while (sqlite3_step(st) == SQLITE_ROW) {
        ho_rval_read(st, 4, vals);
        assert_true(ho_ragg_add(agg, vals));
    }
    sqlite3_finalize(st);
    assert_int_equal(ho_ragg_groups(agg), NGROUPS);
    s_write(db, agg);
    s_check(db);
    ho_ragg_destroy(&agg);
    ho_ragg_destroy(&agg); /* safe twice */
    sqlite3_close(db);
}

static void test_rows_computed_in_c_group_as_sql_does(void **state)
{
    (void)state;
    sqlite3 *db = s_db();
    ho_ragg_t *agg = ho_ragg_new(1, 3, NULL, s_kinds);
    assert_non_null(agg);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT g, v, x FROM t", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            ho_ragg_key_null(agg);
        } else {
            ho_ragg_key_text(agg, (const char *)sqlite3_column_text(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0));
        }
        ho_rval_t x = sqlite3_column_type(st, 2) == SQLITE_NULL
                          ? (ho_rval_t){.type = SQLITE_NULL}
                          : (ho_rval_t){.type = SQLITE_INTEGER, .i = sqlite3_column_int64(st, 2)};
        ho_rval_t v[3] = {{.type = SQLITE_INTEGER, .i = sqlite3_column_int64(st, 1)}, x, x};
        assert_true(ho_ragg_add_vals(agg, v));
    }
    sqlite3_finalize(st);
    s_write(db, agg);
    s_check(db);
    ho_ragg_destroy(&agg);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_from_a_statement_group_as_sql_does),
        cmocka_unit_test(test_rows_computed_in_c_group_as_sql_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
