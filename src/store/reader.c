/* reader.c - the read model (reader.h): the one read-only connection of a reader to the
 * store's file, its schema check, its read transaction and the cache of its named queries. */
#include "handoff/reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handoff/store.h"
#include "store/read_queries.h"

struct ho_reader {
    sqlite3 *db;
    char *path;
    int version;
    sqlite3_stmt *stmts[HO_RQ__COUNT];
    char *texts[HO_RQ__COUNT]; /* a format query's text as last filled */
    char failed[512];          /* why ho_reader_exec failed (its cleanup runs after) */
    bool writing;              /* between ho_reader_setup_begin and _end: query_only is off */
    /* HANDOFF_SQL_PROFILE=1: CPU time per named query, printed to stderr on destroy */
    bool profile;
    double started[HO_RQ__COUNT]; /* process CPU seconds at the statement's first step */
    double cpu[HO_RQ__COUNT];     /* its CPU seconds in all */
    unsigned runs[HO_RQ__COUNT];
    int missed[HO_RQ__COUNT];      /* the connection's page-cache misses at the first step */
    long long pages[HO_RQ__COUNT]; /* pages it read from the file (or the WAL), nested
                                    * statements' included */
};

static const ho_rq_def_t *s_def(ho_rq_t q)
{
    if ((unsigned)q >= HO_RQ__COUNT) {
        return NULL;
    }
    const ho_rq_def_t *d = ho_rq_def_cli(q);
    if (!d) {
        d = ho_rq_def_report(q);
    }
    return d ? d : ho_rq_def_report_scores(q);
}

const char *ho_reader_sql(ho_rq_t q)
{
    const ho_rq_def_t *d = s_def(q);
    return d ? d->sql : NULL;
}

const char *ho_reader_query_name(ho_rq_t q)
{
    const ho_rq_def_t *d = s_def(q);
    return d ? d->name : NULL;
}

unsigned ho_reader_query_flags(ho_rq_t q)
{
    const ho_rq_def_t *d = s_def(q);
    return d ? d->flags : 0;
}

static double s_clock(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The calling thread's CPU time: a reader is one thread's (reader.h), and the report reads
 * through two readers in two threads at once (src/report/side.c). */
static double s_cpu_now(void)
{
    return s_clock(CLOCK_THREAD_CPUTIME_ID);
}

static int s_query_of(const ho_reader_t *self, const void *stmt)
{
    for (int i = 0; i < HO_RQ__COUNT; i++) {
        if (self->stmts[i] == stmt) {
            return i;
        }
    }
    return -1;
}

/* sqlite3_trace_v2: a named statement's first step starts its clock, its end (reset,
 * finalize or done) adds the CPU time since. */
static int s_trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)x;
    ho_reader_t *self = ctx;
    int q = s_query_of(self, p);
    if (q < 0) {
        return 0;
    }
    int miss = 0, hi = 0;
    (void)sqlite3_db_status(self->db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi, 0);
    if (type == SQLITE_TRACE_STMT) {
        self->started[q] = s_cpu_now();
        self->missed[q] = miss;
    } else if (type == SQLITE_TRACE_PROFILE && self->started[q] > 0) {
        self->cpu[q] += s_cpu_now() - self->started[q];
        self->pages[q] += miss - self->missed[q];
        self->runs[q]++;
        self->started[q] = 0;
    }
    return 0;
}

static void s_profile_print(const ho_reader_t *self)
{
    double total = 0;
    for (int i = 0; i < HO_RQ__COUNT; i++) {
        total += self->cpu[i];
    }
    fprintf(stderr, "sql-profile total_cpu_s=%.3f process_cpu_s=%.3f\n", total,
            s_clock(CLOCK_PROCESS_CPUTIME_ID));
    for (int i = 0; i < HO_RQ__COUNT; i++) {
        if (self->runs[i]) {
            fprintf(stderr, "sql-profile query=%s runs=%u cpu_s=%.3f pages_read=%lld\n",
                    ho_reader_query_name(i), self->runs[i], self->cpu[i], self->pages[i]);
        }
    }
}

/* max(version) of schema_version; -1 with why filled when it cannot be read, 0 when empty. */
static int s_version(sqlite3 *db, char *why, size_t cap)
{
    sqlite3_stmt *s = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        version = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int(s, 0);
    }
    snprintf(why, cap, "%s", version == 0 ? "empty" : sqlite3_errmsg(db));
    sqlite3_finalize(s);
    return version;
}

/* SQLite's memory statistics (nothing in handoff reads them) take a global mutex around
 * every allocation; the report's two connections in two threads (src/report/side.c) then
 * contend on it for every cursor and record. Process-wide, and possible only before SQLite
 * initializes: the first reader (or store, store_sqlite.c) of a process turns it off; when
 * something else initialized SQLite first, sqlite3_config refuses and nothing changes. */
static void s_memstatus_off(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

ho_reader_t *ho_reader_open(const char *path, int busy_ms, ho_err_t *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, s_memstatus_off);
    struct stat st;
    if (stat(path, &st) != 0) {
        ho_err_set(err, HO_ERR_NOT_FOUND, "db",
                   "%s: no database (%s); has the store run with this data dir?", path,
                   strerror(errno));
        return NULL;
    }
    ho_reader_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    /* Read-only: the store worker is the only writer; WAL lets a reader read while it writes.
     * query_only on top: a reader's statements cannot write, setup ones aside (ho_reader_exec,
     * to temp only). */
    /* NOMUTEX: a reader is one thread's (reader.h), and in the default serialized mode every
     * sqlite3_column_* call takes a mutex: ~100 instructions a column of a scanned row */
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "db", "%s: cannot open read-only: %s", path,
                   self->db ? sqlite3_errmsg(self->db) : "out of memory");
        ho_reader_destroy(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, busy_ms > 0 ? busy_ms : 5000);
    if (sqlite3_exec(self->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "db", "%s: %s", path, sqlite3_errmsg(self->db));
        ho_reader_destroy(&self);
        return NULL;
    }
    const char *prof = getenv("HANDOFF_SQL_PROFILE");
    if (prof && *prof && strcmp(prof, "0") != 0) {
        self->profile = true;
        sqlite3_trace_v2(self->db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE, s_trace, self);
    }
    char why[200];
    self->version = s_version(self->db, why, sizeof why);
    if (self->version < 1) {
        ho_err_set(err, HO_ERR_VERSION, "schema_version",
                   "%s: not a handoff store database (schema_version: %s)", path, why);
        ho_reader_destroy(&self);
        return NULL;
    }
    if (self->version > HO_STORE_SCHEMA_VERSION) {
        ho_err_set(err, HO_ERR_VERSION, "schema_version",
                   "%s: schema version %d is newer than this build knows (%d)", path, self->version,
                   HO_STORE_SCHEMA_VERSION);
        ho_reader_destroy(&self);
        return NULL;
    }
    return self;
}

void ho_reader_destroy(ho_reader_t **self_p)
{
    ho_reader_t *self = self_p ? *self_p : NULL;
    if (!self) {
        return;
    }
    if (self->profile) {
        s_profile_print(self);
    }
    for (int i = 0; i < HO_RQ__COUNT; i++) {
        sqlite3_finalize(self->stmts[i]);
        free(self->texts[i]);
    }
    sqlite3_close_v2(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

const char *ho_reader_path(const ho_reader_t *self)
{
    return self->path;
}

int ho_reader_schema_version(const ho_reader_t *self)
{
    return self->version;
}

const char *ho_reader_errmsg(const ho_reader_t *self)
{
    return self->failed[0] ? self->failed : sqlite3_errmsg(self->db);
}

static int s_exec(ho_reader_t *self, const char *sql, ho_err_t *err)
{
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return ho_err_set(err, HO_ERR_IO, "db", "%s: %s: %s", self->path, sql,
                          sqlite3_errmsg(self->db));
    }
    return HO_OK;
}

int ho_reader_begin(ho_reader_t *self, ho_err_t *err)
{
    return s_exec(self, "BEGIN", err);
}

/* Start self's read transaction now: BEGIN is deferred, the snapshot is taken at the first
 * read of the database (page 1, by the schema cookie check). */
static int s_begin_now(ho_reader_t *self, ho_err_t *err)
{
    int rc = s_exec(self, "BEGIN", err);
    if (rc == HO_OK &&
        (rc = s_exec(self, "SELECT 1 FROM main.sqlite_schema LIMIT 1", err)) != HO_OK) {
        s_exec(self, "ROLLBACK", NULL);
    }
    return rc;
}

int ho_reader_begin_pair(ho_reader_t *self, ho_reader_t *other, int wait_ms, ho_err_t *err)
{
    /* No commit can land between the two snapshots while a connection of our own holds the
     * write lock; SQLite's snapshot API (sqlite3_snapshot_open) would say the same without
     * the lock, but Debian's library is built without it. The lock is held for two reads of
     * page 1, and never used to write. */
    sqlite3 *lock = NULL;
    int rc = HO_OK;
    if (sqlite3_open_v2(self->path, &lock, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "db", "%s: cannot open to pair readers: %s", self->path,
                        lock ? sqlite3_errmsg(lock) : "out of memory");
    } else {
        sqlite3_busy_timeout(lock, wait_ms > 0 ? wait_ms : 0);
        if (sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            rc = ho_err_set(err, HO_ERR_STATE, "db", "%s: no write lock to pair readers: %s",
                            self->path, sqlite3_errmsg(lock));
        }
    }
    if (rc == HO_OK && (rc = s_begin_now(self, err)) == HO_OK &&
        (rc = s_begin_now(other, err)) != HO_OK) {
        s_exec(self, "ROLLBACK", NULL);
    }
    if (lock) {
        sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(lock);
    }
    return rc;
}

int ho_reader_end(ho_reader_t *self, ho_err_t *err)
{
    for (int i = 0; i < HO_RQ__COUNT; i++) {
        if (self->stmts[i]) {
            sqlite3_reset(self->stmts[i]);
        }
    }
    return s_exec(self, "COMMIT", err);
}

bool ho_reader_has(ho_reader_t *self, const char *table, const char *column)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            self->db, "SELECT count(*) FROM pragma_table_info(?1) WHERE ?2 IS NULL OR name = ?2",
            -1, &st, NULL) != SQLITE_OK) {
        return false;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    if (column) {
        sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    }
    bool has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return has;
}

/* Prepare text as the statement of q (replacing any it had). */
static int s_prepare(ho_reader_t *self, ho_rq_t q, const ho_rq_def_t *d, const char *text,
                     ho_err_t *err)
{
    sqlite3_finalize(self->stmts[q]);
    self->stmts[q] = NULL;
    if (sqlite3_prepare_v2(self->db, text, -1, &self->stmts[q], NULL) != SQLITE_OK) {
        sqlite3_finalize(self->stmts[q]);
        self->stmts[q] = NULL;
        return ho_err_set(err, HO_ERR_IO, "db", "%s: %s: %s", self->path, d->name,
                          sqlite3_errmsg(self->db));
    }
    if (!sqlite3_stmt_readonly(self->stmts[q]) && !(d->flags & HO_RQF_SETUP)) {
        sqlite3_finalize(self->stmts[q]);
        self->stmts[q] = NULL;
        return ho_err_set(err, HO_ERR_STATE, "", "%s: a read query writes", d->name);
    }
    return HO_OK;
}

static void s_hand_out(ho_reader_t *self, ho_rq_t q, sqlite3_stmt **st_p)
{
    sqlite3_reset(self->stmts[q]);
    sqlite3_clear_bindings(self->stmts[q]);
    *st_p = self->stmts[q];
}

int ho_reader_stmt(ho_reader_t *self, ho_rq_t q, sqlite3_stmt **st_p, ho_err_t *err)
{
    *st_p = NULL;
    self->failed[0] = '\0';
    const ho_rq_def_t *d = s_def(q);
    if (!d || (d->flags & (HO_RQF_FORMAT | HO_RQF_PART))) {
        return ho_err_set(err, HO_ERR_STATE, "", "read query %d: not a statement", (int)q);
    }
    int rc = self->stmts[q] ? HO_OK : s_prepare(self, q, d, d->sql, err);
    if (rc == HO_OK) {
        s_hand_out(self, q, st_p);
    }
    return rc;
}

int ho_reader_stmt_fmt(ho_reader_t *self, ho_rq_t q, sqlite3_stmt **st_p, ho_err_t *err, ...)
{
    *st_p = NULL;
    self->failed[0] = '\0';
    const ho_rq_def_t *d = s_def(q);
    if (!d || !(d->flags & HO_RQF_FORMAT)) {
        return ho_err_set(err, HO_ERR_STATE, "", "read query %d: not a format", (int)q);
    }
    va_list ap;
    va_start(ap, err);
    char *text = NULL;
    int n = vasprintf(&text, d->sql, ap);
    va_end(ap);
    if (n < 0) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    int rc = HO_OK;
    if (self->stmts[q] && self->texts[q] && strcmp(self->texts[q], text) == 0) {
        free(text);
    } else {
        free(self->texts[q]);
        self->texts[q] = text;
        rc = s_prepare(self, q, d, text, err);
    }
    if (rc == HO_OK) {
        s_hand_out(self, q, st_p);
    }
    return rc;
}

int ho_reader_setup_begin(ho_reader_t *self, ho_err_t *err)
{
    if (self->writing) {
        return ho_err_set(err, HO_ERR_STATE, "", "%s: setup run already begun", self->path);
    }
    int rc = s_exec(self, "PRAGMA query_only = 0", err);
    self->writing = rc == HO_OK;
    return rc;
}

int ho_reader_setup_end(ho_reader_t *self, ho_err_t *err)
{
    if (!self->writing) {
        return HO_OK;
    }
    self->writing = false;
    return s_exec(self, "PRAGMA query_only = 1", err);
}

int ho_reader_exec(ho_reader_t *self, sqlite3_stmt *st, ho_err_t *err)
{
    /* a setup statement writes the reader's temp tables: query_only is lifted for it alone
     * (unless a setup run has lifted it for many) */
    self->failed[0] = '\0';
    bool writes = !self->writing && !sqlite3_stmt_readonly(st);
    if (writes && s_exec(self, "PRAGMA query_only = 0", err) != HO_OK) {
        return HO_ERR_IO;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    }
    int rc = HO_OK;
    if (s != SQLITE_DONE) {
        snprintf(self->failed, sizeof self->failed, "%s", sqlite3_errmsg(self->db));
        rc = ho_err_set(err, HO_ERR_IO, "db", "%s: %s", self->path, self->failed);
    }
    sqlite3_reset(st);
    if (writes && s_exec(self, "PRAGMA query_only = 1", rc == HO_OK ? err : NULL) != HO_OK &&
        rc == HO_OK) {
        rc = HO_ERR_IO;
    }
    return rc;
}
