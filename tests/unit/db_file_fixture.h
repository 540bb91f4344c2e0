/* db_file_fixture.h - a fresh temp dir for a unit test that works on a real database file, its
 * removal, and one-value queries on the file. Include after <cmocka.h>. Static inline: a test
 * takes what it needs. Not a test itself (CMake builds tests/unit/test_*.c). */
#ifndef HO_DB_FILE_FIXTURE_H
#define HO_DB_FILE_FIXTURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The newest schema version as the text a query of schema_version prints. */
#define HO_FIX_STR_(x) #x
#define HO_FIX_STR(x) HO_FIX_STR_(x)
#define HO_FIX_SCHEMA_V HO_FIX_STR(HO_STORE_SCHEMA_VERSION)

/* A new directory made from tmpl ("/tmp/ho-NAME-XXXXXX") in dir, and db = dir/handoff.db.
 * 0, or -1 when mkdtemp fails. */
static inline int s_tmp_dir_new(char *dir, size_t dir_cap, char *db, size_t db_cap,
                                const char *tmpl)
{
    snprintf(dir, dir_cap, "%s", tmpl);
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, db_cap, "%s/handoff.db", dir);
    return 0;
}

/* rm -rf dir: 0, or -1 when that failed. */
static inline int s_tmp_dir_remove(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A test's temp dir and its handoff.db, made by s_tmp_setup (a cmocka setup: *state) and
 * removed by s_tmp_teardown. */
typedef struct {
    char dir[64];
    char path[128];
} s_tmp_t;

static inline int s_tmp_setup(void **state, const char *tmpl)
{
    s_tmp_t *t = calloc(1, sizeof *t);
    if (!t || s_tmp_dir_new(t->dir, sizeof t->dir, t->path, sizeof t->path, tmpl) != 0) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static inline int s_tmp_teardown(void **state)
{
    s_tmp_t *t = *state;
    int rc = s_tmp_dir_remove(t->dir);
    free(t);
    return rc;
}

/* The first column of the first row of sql on the database file db (opened read-only), as
 * malloc'd text ("(null)" for none); a query that does not prepare fails the test. */
static inline char *s_db_text(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    }
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        out = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out ? out : strdup("(null)");
}

/* s_db_text(db, sql) is want. */
static inline void s_db_expect(const char *db, const char *sql, const char *want)
{
    char *got = s_db_text(db, sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s\n  got  %s\n  want %s", sql, got, want);
    }
    free(got);
}

#endif
