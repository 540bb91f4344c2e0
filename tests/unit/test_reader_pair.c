/* test_reader_pair.c - two readers paired by ho_reader_begin_pair read one and the same
 * committed state of a real store file while another connection commits (the report's two
 * threads rely on it: src/report/side.c), keep it after later commits, and are refused, with
 * neither transaction begun, while a writer holds the lock past the wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_file_fixture.h"
#include "handoff/reader.h"
#include "handoff/store.h"

typedef struct {
    char dir[64], db[128];
    ho_reader_t *a, *b;
    sqlite3 *w; /* a writer of its own, as the store worker is */
} s_fix_t;

static int s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(
        s_tmp_dir_new(f->dir, sizeof f->dir, f->db, sizeof f->db, "/tmp/ho-pair-XXXXXX"), 0);
    ho_err_t err = {0};
    ho_store_t *st = ho_store_open(f->db, &err);
    assert_non_null(st);
    ho_store_destroy(&st);
    assert_int_equal(sqlite3_open(f->db, &f->w), SQLITE_OK);
    sqlite3_busy_timeout(f->w, 5000);
    /* commits as fast as the store's, without an fsync each */
    assert_int_equal(sqlite3_exec(f->w, "PRAGMA synchronous = OFF", NULL, NULL, NULL), SQLITE_OK);
    f->a = ho_reader_open(f->db, 0, &err);
    f->b = ho_reader_open(f->db, 0, &err);
    assert_non_null(f->a);
    assert_non_null(f->b);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    ho_reader_destroy(&f->a);
    ho_reader_destroy(&f->b);
    sqlite3_close(f->w);
    int rc = s_tmp_dir_remove(f->dir);
    free(f);
    return rc;
}

/* One quarantine row committed by w (n: a distinct event id). */
static int s_commit_one(sqlite3 *w, long n)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO quarantine (event_id, code, at) VALUES ('pair-%ld', 'test', %ld)", n, n);
    return sqlite3_exec(w, sql, NULL, NULL, NULL);
}

/* The quarantine rows reader r sees (metrics.quarantine: by code, replayed or not). */
static long s_rows(ho_reader_t *r)
{
    sqlite3_stmt *st;
    assert_int_equal(ho_reader_stmt(r, HO_RQ_METRICS_QUARANTINE, &st, NULL), HO_OK);
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n += sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return n;
}

static void test_paired_readers_keep_the_state_they_began_with(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(s_commit_one(f->w, 1), SQLITE_OK);
    assert_int_equal(ho_reader_begin_pair(f->a, f->b, 1000, NULL), HO_OK);
    /* committed after the pair began: neither sees it, though neither had read a row yet */
    assert_int_equal(s_commit_one(f->w, 2), SQLITE_OK);
    assert_int_equal(s_rows(f->a), 1);
    assert_int_equal(s_rows(f->b), 1);
    assert_int_equal(ho_reader_end(f->a, NULL), HO_OK);
    assert_int_equal(ho_reader_end(f->b, NULL), HO_OK);
    assert_int_equal(s_rows(f->a), 2);
    assert_int_equal(s_rows(f->b), 2);
}

static void test_pairing_refused_while_a_writer_holds_the_lock(void **state)
{
    s_fix_t *f = *state;
    assert_int_equal(sqlite3_exec(f->w, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(s_commit_one(f->w, 1), SQLITE_OK); /* inside the open transaction */
    ho_err_t err = {0};
    assert_int_equal(ho_reader_begin_pair(f->a, f->b, 50, &err), HO_ERR_STATE);
    assert_non_null(strstr(err.message, "no write lock"));
    /* neither reader was left inside a transaction: each can begin its own */
    assert_int_equal(ho_reader_begin(f->a, NULL), HO_OK);
    assert_int_equal(ho_reader_begin(f->b, NULL), HO_OK);
    assert_int_equal(s_rows(f->a), 0);
    assert_int_equal(ho_reader_end(f->a, NULL), HO_OK);
    assert_int_equal(ho_reader_end(f->b, NULL), HO_OK);
    assert_int_equal(sqlite3_exec(f->w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(s_rows(f->a), 1);
}

typedef struct {
    sqlite3 *w;
    atomic_bool stop;
    long commits;
} s_stream_t;

static void *s_stream(void *arg)
{
    s_stream_t *s = arg;
    while (!atomic_load(&s->stop)) {
        if (s_commit_one(s->w, 1000 + s->commits) == SQLITE_OK) {
            s->commits++;
        }
        if (s->commits % 8 == 0) {
            usleep(50); /* let the pairing have the lock now and then */
        }
    }
    return NULL;
}

/* Commits land all the time; every pairing still gives both readers the same state. (Two
 * plain ho_reader_begin calls and a first read each do not: a commit between them shows.) */
static void test_paired_readers_agree_under_a_stream_of_commits(void **state)
{
    s_fix_t *f = *state;
    s_stream_t s = {.w = f->w};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, s_stream, &s), 0);
    int paired = 0;
    for (int i = 0; i < 100; i++) {
        if (ho_reader_begin_pair(f->a, f->b, 5000, NULL) != HO_OK) {
            continue;
        }
        paired++;
        long na = s_rows(f->a), nb = s_rows(f->b);
        assert_int_equal(ho_reader_end(f->a, NULL), HO_OK);
        assert_int_equal(ho_reader_end(f->b, NULL), HO_OK);
        assert_int_equal(na, nb);
    }
    atomic_store(&s.stop, true);
    pthread_join(t, NULL);
    assert_true(paired > 0);
    assert_true(s.commits > 0); /* the writer did write meanwhile */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paired_readers_keep_the_state_they_began_with, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_pairing_refused_while_a_writer_holds_the_lock, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_paired_readers_agree_under_a_stream_of_commits,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
