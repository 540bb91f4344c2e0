/* store_worker_fixture.h - the fixture of the unit tests that drive the store worker
 * in-process (ho_worker_call): a temp dir with its handoff.db, the worker's context and an
 * output list; an envelope builder; one-value queries on the database file. Include after
 * <cmocka.h>. Static inline: a test takes what it needs. Not a test itself (CMake builds
 * tests/unit/test_*.c). */
#ifndef HO_STORE_WORKER_FIXTURE_H
#define HO_STORE_WORKER_FIXTURE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/worker.h"
#include "tmp_dir_fixture.h"

extern const ho_worker_def_t ho_worker_store;

typedef struct {
    char dir[64];
    char db[128]; /* dir/handoff.db */
    void *ctx;    /* the store worker's */
    ho_out_t *out;
} s_t;

/* cmocka setup: the store worker on a fresh temp dir made from tmpl ("/tmp/ho-NAME-XXXXXX"). */
static inline int s_store_setup(void **state, const char *tmpl)
{
    s_t *t = calloc(1, sizeof *t);
    if (!t || s_tmp_dir_new(t->dir, sizeof t->dir, t->db, sizeof t->db, tmpl) != 0) {
        free(t);
        return -1;
    }
    ho_worker_env_t env = {.name = "store", .data_dir = t->dir, .origin = "store@test"};
    ho_err_t err = {0};
    if (ho_worker_store.cb_init(&env, &t->ctx, &err) != HO_OK) {
        fprintf(stderr, "init: %s\n", err.message);
        s_tmp_dir_remove(t->dir);
        free(t);
        return -1;
    }
    t->out = ho_out_new("store@test");
    *state = t;
    return 0;
}

/* cmocka teardown of s_store_setup: the worker closed, the temp dir removed. */
static inline int s_teardown(void **state)
{
    s_t *t = *state;
    ho_worker_store.cb_exit(&t->ctx);
    ho_out_destroy(&t->out);
    int rc = s_tmp_dir_remove(t->dir);
    free(t);
    return rc;
}

/* An envelope (id NULL: none) that takes payload; a NULL payload fails the test (a json_pack
 * format that does not match its arguments). */
static inline ho_msg_t *s_msg(const char *type, const char *id, long long ts, json_t *payload)
{
    assert_non_null(payload);
    ho_msg_t *m = ho_msg_new(type);
    if (id) {
        ho_msg_set_id(m, id);
    }
    ho_msg_set_ts(m, ts);
    ho_msg_set_payload(m, payload);
    return m;
}

/* The first column of the first row of sql on the database file, as malloc'd text ("(null)"
 * for none). */
static inline char *s_q(s_t *t, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(t->db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
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

static inline void s_expect(s_t *t, const char *sql, const char *want)
{
    char *got = s_q(t, sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s\n  got  %s\n  want %s", sql, got, want);
    }
    free(got);
}

#endif
