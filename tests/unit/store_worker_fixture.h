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

#include "db_file_fixture.h"
#include "handoff/worker.h"

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

/* One value of the store's database file (db_file_fixture.h: s_db_text, s_db_expect). */
static inline char *s_q(s_t *t, const char *sql)
{
    return s_db_text(t->db, sql);
}

static inline void s_expect(s_t *t, const char *sql, const char *want)
{
    s_db_expect(t->db, sql, want);
}

#endif
