/* test_broker_journal.c - the broker journal (src/broker/journal.c) on a real SQLite file:
 * insert/remove/attempts survive a reopen in order, an uncommitted batch does not, a failed
 * batch is rolled back as a whole, and a damaged, foreign, unreadable or locked file is a
 * clear error naming the file instead of a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "broker/journal.h"

typedef struct {
    char dir[64];
    char path[128];
} s_fx_t;

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/ho-journal-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/broker.journal", fx->dir);
    *state = fx;
    return 0;
}

static int s_teardown(void **state)
{
    s_fx_t *fx = *state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", fx->dir);
    }
    free(fx);
    return 0;
}

typedef struct {
    size_t n;
    uint64_t id[8];
    char service[8][16];
    uint32_t attempts[8];
    size_t nframes[8];
    char frames[8][4][32];
    size_t lens[8][4];
} s_rows_t;

static int s_collect(void *arg, const ho_journal_row_t *row)
{
    s_rows_t *r = arg;
    if (r->n == 8 || row->nframes > 4) {
        return HO_ERR_TOO_LARGE;
    }
    size_t i = r->n++;
    r->id[i] = row->id;
    snprintf(r->service[i], sizeof r->service[i], "%s", row->service);
    r->attempts[i] = row->attempts;
    r->nframes[i] = row->nframes;
    for (size_t f = 0; f < row->nframes; f++) {
        r->lens[i][f] = row->lens[f];
        memcpy(r->frames[i][f], row->frames[f], row->lens[f] < 32 ? row->lens[f] : 32);
    }
    return HO_OK;
}

static uint64_t s_add1(ho_journal_t *j, const char *service, const char *body)
{
    const void *frames[1] = {body};
    size_t lens[1] = {strlen(body)};
    uint64_t id = 0;
    assert_int_equal(ho_journal_add(j, service, 0, frames, lens, 1, &id), HO_OK);
    assert_true(id > 0);
    return id;
}

static void test_add_remove_reload(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    assert_string_equal(ho_journal_path(j), fx->path);
    assert_false(ho_journal_dirty(j));
    uint64_t a = s_add1(j, "store", "lead-a");
    uint64_t b = s_add1(j, "store", "lead-b");
    /* two frames, one of them empty */
    const void *frames[2] = {"x", ""};
    size_t lens[2] = {1, 0};
    uint64_t c = 0;
    assert_int_equal(ho_journal_add(j, "score", 2, frames, lens, 2, &c), HO_OK);
    assert_true(a < b && b < c);
    assert_true(ho_journal_dirty(j));
    assert_int_equal(ho_journal_remove(j, a), HO_OK);
    assert_int_equal(ho_journal_remove(j, 999999), HO_OK); /* unknown: nothing happens */
    assert_int_equal(ho_journal_set_attempts(j, b, 3), HO_OK);
    ho_journal_stats_t st;
    ho_journal_stats(j, &st);
    assert_int_equal(st.pending, 2);
    assert_int_equal(st.bytes, (4 + 6) + (4 + 1 + 4 + 0));
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    assert_false(ho_journal_dirty(j));
    assert_int_equal(ho_journal_commit(j, &err), HO_OK); /* nothing open: fine */
    ho_journal_stats(j, &st);
    assert_int_equal(st.commits, 1);
    ho_journal_destroy(&j);
    assert_null(j);

    j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    ho_journal_stats(j, &st);
    assert_int_equal(st.pending, 2); /* counted from the file */
    assert_int_equal(st.bytes, 19);
    s_rows_t rows = {0};
    assert_int_equal(ho_journal_load(j, s_collect, &rows, &err), HO_OK);
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.id[0], b); /* oldest first */
    assert_string_equal(rows.service[0], "store");
    assert_int_equal(rows.attempts[0], 3);
    assert_int_equal(rows.nframes[0], 1);
    assert_int_equal(rows.lens[0][0], 6);
    assert_memory_equal(rows.frames[0][0], "lead-b", 6);
    assert_int_equal(rows.id[1], c);
    assert_string_equal(rows.service[1], "score");
    assert_int_equal(rows.attempts[1], 2);
    assert_int_equal(rows.nframes[1], 2);
    assert_int_equal(rows.lens[1][0], 1);
    assert_int_equal(rows.lens[1][1], 0);
    /* ids keep growing after a reopen, never reused */
    uint64_t d = s_add1(j, "store", "lead-d");
    assert_true(d > c);
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    ho_journal_destroy(&j);
}

static void test_uncommitted_batch_is_not_durable(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    s_add1(j, "store", "kept");
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    s_add1(j, "store", "lost");
    ho_journal_destroy(&j); /* no commit: as if the broker died here */
    j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    s_rows_t rows = {0};
    assert_int_equal(ho_journal_load(j, s_collect, &rows, &err), HO_OK);
    assert_int_equal(rows.n, 1);
    assert_memory_equal(rows.frames[0][0], "kept", 4);
    ho_journal_destroy(&j);
}

static void test_failed_batch_rolls_back_whole(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    uint64_t keep = s_add1(j, "store", "keep");
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    /* one good write, then one the journal refuses (no frames): the whole batch goes */
    assert_int_equal(ho_journal_remove(j, keep), HO_OK);
    s_add1(j, "store", "part of a failed batch");
    uint64_t bad = 0;
    assert_int_not_equal(ho_journal_add(j, "store", 0, NULL, NULL, 0, &bad), HO_OK);
    assert_int_equal(ho_journal_commit(j, &err), HO_ERR_IO);
    assert_non_null(strstr(err.message, fx->path));
    assert_non_null(strstr(err.message, "rolled back"));
    ho_journal_stats_t st;
    ho_journal_stats(j, &st);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.failures, 1);
    /* the next batch works again */
    s_add1(j, "store", "next");
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    ho_journal_destroy(&j);
    j = ho_journal_open(fx->path, &err);
    s_rows_t rows = {0};
    assert_int_equal(ho_journal_load(j, s_collect, &rows, &err), HO_OK);
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.id[0], keep);
    assert_memory_equal(rows.frames[1][0], "next", 4);
    ho_journal_destroy(&j);
}

static void s_write_file(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

static void test_corrupt_foreign_unreadable_files(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    /* garbage: not SQLite at all */
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (char)(i * 7 + 3);
    }
    s_write_file(fx->path, junk, sizeof junk);
    assert_null(ho_journal_open(fx->path, &err));
    assert_int_equal(err.code, HO_ERR_IO);
    assert_non_null(strstr(err.message, fx->path));
    assert_non_null(strstr(err.message, "not a usable journal"));
    unlink(fx->path);

    /* another program's SQLite file is not taken over */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE leads (email TEXT)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    memset(&err, 0, sizeof err);
    assert_null(ho_journal_open(fx->path, &err));
    assert_non_null(strstr(err.message, fx->path));
    assert_non_null(strstr(err.message, "not a broker journal"));
    unlink(fx->path);

    /* a folder where the file should be */
    memset(&err, 0, sizeof err);
    assert_null(ho_journal_open(fx->dir, &err));
    assert_int_equal(err.code, HO_ERR_IO);
    assert_non_null(strstr(err.message, fx->dir));

    /* a journal whose header is fine but whose pages are overwritten */
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    char big[3000];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 20; i++) {
        s_add1(j, "store", big);
    }
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    ho_journal_destroy(&j);
    FILE *f = fopen(fx->path, "r+b");
    assert_non_null(f);
    fseek(f, 4096, SEEK_SET); /* page 2 onwards: the table's b-tree */
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    memset(&err, 0, sizeof err);
    j = ho_journal_open(fx->path, &err);
    int rc = HO_ERR_IO;
    if (j) {
        s_rows_t rows = {0};
        rc = ho_journal_load(j, s_collect, &rows, &err);
        ho_journal_destroy(&j);
    }
    assert_int_not_equal(rc, HO_OK);
    assert_non_null(strstr(err.message, fx->path));
}

static void test_damaged_row_names_file_and_row(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    s_add1(j, "store", "good");
    assert_int_equal(ho_journal_commit(j, &err), HO_OK);
    ho_journal_destroy(&j);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    /* frame length 0x10 but only 3 bytes follow */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO pending VALUES (77, 'store', 0, 1, "
                                  "x'00000010616263', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    s_rows_t rows = {0};
    assert_int_equal(ho_journal_load(j, s_collect, &rows, &err), HO_ERR_IO);
    assert_int_equal(rows.n, 1); /* the good row came first */
    assert_non_null(strstr(err.message, fx->path));
    assert_non_null(strstr(err.message, "id=77"));
    ho_journal_destroy(&j);
}

static void test_one_broker_per_journal(void **state)
{
    s_fx_t *fx = *state;
    ho_err_t err = {0};
    ho_journal_t *j = ho_journal_open(fx->path, &err);
    assert_non_null(j);
    ho_journal_t *other = ho_journal_open(fx->path, &err);
    assert_null(other);
    assert_non_null(strstr(err.message, fx->path));
    assert_non_null(strstr(err.message, "in use by another broker"));
    ho_journal_destroy(&j);
    j = ho_journal_open(fx->path, &err); /* free again once closed */
    assert_non_null(j);
    ho_journal_destroy(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_remove_reload, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_uncommitted_batch_is_not_durable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_rolls_back_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_foreign_unreadable_files, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_row_names_file_and_row, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_one_broker_per_journal, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
