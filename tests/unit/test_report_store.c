/* test_report_store.c - the report against databases made by the store's own migration code
 * (ho_store_open), and its error paths (missing database, foreign database, bad zone, bad
 * output folder).
 *
 * Also a fixture maker for the Python report tests: `test_report_store --make-db PATH`
 * creates an empty store database with the store's real schema and exits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/report.h"
#include "handoff/store.h"

static char s_dir[256];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/ho-report-unit-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", s_dir, name);
}

static bool s_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void s_make_store(const char *path)
{
    ho_err_t err;
    ho_store_t *s = ho_store_open(path, &err);
    assert_non_null(s);
    ho_store_destroy(&s);
}

static void test_empty_store_gives_every_sheet(void **state)
{
    (void)state;
    char db[300], out[300];
    s_path(db, sizeof db, "empty.db");
    s_path(out, sizeof out, "empty.xlsx");
    s_make_store(db);
    ho_report_opts_t opts = {.db_path = db, .output = out, .timezone = "Europe/Berlin"};
    assert_int_equal(ho_week_parse("2026-W47", &opts.week), HO_REPORT_OK);
    ho_report_result_t res;
    ho_err_t err;
    ho_report_error_t rc = ho_report_write(&opts, &res, &err);
    if (rc != HO_REPORT_OK) {
        fail_msg("%s: %s", ho_report_strerror(rc), err.message);
    }
    assert_int_equal(res.sheets, HO_REPORT_SHEETS);
    assert_string_equal(res.sheet_names[4], "Lost and rejected");
    assert_string_equal(res.sheet_names[7], "Learnings");
    assert_string_equal(res.sheet_names[9], "Data quality");
    assert_string_equal(res.sheet_names[10], "Definitions");
    assert_string_equal(res.sheet_names[0], "Summary");
    assert_string_equal(res.sheet_names[8], "Handoffs");
    assert_int_equal(res.leads, 0);
    assert_int_equal(res.mqls, 0);
    /* 2026-W47 in Berlin (CET, UTC+1): Mon 16 Nov 00:00 = 15 Nov 23:00 UTC. */
    assert_int_equal(res.week_start_ms, 1763247600000LL + 365LL * 86400000LL);
    assert_true(s_exists(out));
}

static void test_missing_database(void **state)
{
    (void)state;
    char db[300], out[300];
    s_path(db, sizeof db, "nope.db");
    s_path(out, sizeof out, "nope.xlsx");
    ho_report_opts_t opts = {.db_path = db, .output = out};
    ho_week_parse("2026-W47", &opts.week);
    ho_err_t err;
    assert_int_equal(ho_report_write(&opts, NULL, &err), HO_REPORT_ERR_DB_OPEN);
    assert_non_null(strstr(err.message, "nope.db"));
    assert_false(s_exists(out));
    assert_false(s_exists(db)); /* read-only: never creates the database */
}

static void test_foreign_database(void **state)
{
    (void)state;
    char db[300], out[300];
    s_path(db, sizeof db, "foreign.db");
    s_path(out, sizeof out, "foreign.xlsx");
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    ho_report_opts_t opts = {.db_path = db, .output = out};
    ho_week_parse("2026-W47", &opts.week);
    ho_err_t err;
    assert_int_equal(ho_report_write(&opts, NULL, &err), HO_REPORT_ERR_SCHEMA);
    assert_non_null(strstr(err.message, "schema_version"));
    assert_false(s_exists(out));
}

static void test_bad_timezone(void **state)
{
    (void)state;
    char db[300], out[300];
    s_path(db, sizeof db, "tz.db");
    s_path(out, sizeof out, "tz.xlsx");
    s_make_store(db);
    ho_report_opts_t opts = {.db_path = db, .output = out, .timezone = "Mars/Olympus_Mons"};
    ho_week_parse("2026-W47", &opts.week);
    ho_err_t err;
    assert_int_equal(ho_report_write(&opts, NULL, &err), HO_REPORT_ERR_TIMEZONE);
    assert_non_null(strstr(err.message, "Mars/Olympus_Mons"));
    assert_false(s_exists(out));
}

static void test_unwritable_output_leaves_nothing(void **state)
{
    (void)state;
    char db[300], out[300];
    s_path(db, sizeof db, "out.db");
    s_path(out, sizeof out, "no/such/folder/out.xlsx");
    s_make_store(db);
    ho_report_opts_t opts = {.db_path = db, .output = out};
    ho_week_parse("2026-W47", &opts.week);
    ho_err_t err;
    ho_report_error_t rc = ho_report_write(&opts, NULL, &err);
    /* refused before any query, with the path and the reason */
    assert_int_equal(rc, HO_REPORT_ERR_IO);
    assert_non_null(strstr(err.message, out));
    assert_non_null(strstr(err.message, "No such file or directory"));
    assert_false(s_exists(out));
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--make-db")) {
        ho_err_t err;
        ho_store_t *s = ho_store_open(argv[2], &err);
        if (!s) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        printf("schema_version=%d\n", ho_store_schema_version(s));
        ho_store_destroy(&s);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_store_gives_every_sheet),
        cmocka_unit_test(test_missing_database),
        cmocka_unit_test(test_foreign_database),
        cmocka_unit_test(test_bad_timezone),
        cmocka_unit_test(test_unwritable_output_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
