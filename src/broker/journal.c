/* journal.c - the broker journal in SQLite; see src/broker/journal.h */
#include "broker/journal.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define S_APP_ID 0x484f4a31 /* "HOJ1": marks the file as a broker journal */
#define S_VERSION 1
#define S_MAX_FRAMES 512

#define S_DRAIN_TRUNCATE_MS 250

static const char S_SCHEMA[] =
    "CREATE TABLE pending ("
    " id INTEGER PRIMARY KEY,"    /* assigned by the broker, increasing: the queue order */
    " service TEXT NOT NULL,"     /* the service the request waits for */
    " attempts INTEGER NOT NULL," /* deliveries so far (kept on requeue) */
    " nframes INTEGER NOT NULL,"  /* body frames in body */
    " body BLOB NOT NULL,"        /* per frame: 4-byte big-endian length, the bytes */
    " created INTEGER NOT NULL"   /* ms since the epoch, for operators */
    ");"
    "PRAGMA application_id = 1213155889;" /* S_APP_ID, 0x484f4a31 */
    "PRAGMA user_version = 1;";

struct ho_journal {
    char *path;
    sqlite3 *db;
    sqlite3_stmt *ins, *del, *upd;
    bool in_txn;
    bool failed;   /* a write of the open batch failed: commit rolls back */
    char why[200]; /* the first failure of the open batch */
    uint64_t next_id;
    int64_t drained_at; /* last WAL truncation because the queue drained (ms) */
    ho_journal_stats_t st;
    unsigned char *buf;
    size_t cap;
};

static int s_fail(const ho_journal_t *self, ho_err_t *err, const char *what)
{
    return ho_err_set(err, HO_ERR_IO, "broker.journal", "broker journal %s: %s: %s", self->path,
                      what, self->db ? sqlite3_errmsg(self->db) : "out of memory");
}

static int s_exec(ho_journal_t *self, const char *sql)
{
    return sqlite3_exec(self->db, sql, NULL, NULL, NULL);
}

static int64_t s_int(ho_journal_t *self, const char *sql, int col, int *rc)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    *rc = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL);
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_step(st);
        if (*rc == SQLITE_ROW) {
            v = sqlite3_column_int64(st, col);
            *rc = SQLITE_OK;
        } else if (*rc == SQLITE_DONE) {
            *rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return v;
}

/* Recount from the file (at open and after a rolled back batch). */
static int s_recount(ho_journal_t *self)
{
    int rc;
    self->st.pending = (uint64_t)s_int(self, "SELECT count(*) FROM pending", 0, &rc);
    if (rc == SQLITE_OK) {
        self->st.bytes =
            (uint64_t)s_int(self, "SELECT coalesce(sum(length(body)), 0) FROM pending", 0, &rc);
    }
    return rc;
}

static int s_schema(ho_journal_t *self, ho_err_t *err)
{
    int rc;
    int64_t app = s_int(self, "PRAGMA application_id", 0, &rc);
    if (rc != SQLITE_OK) {
        return s_fail(self, err,
                      "not a usable journal (move it away to start empty; its "
                      "pending requests would be lost)");
    }
    int64_t tables = s_int(self, "SELECT count(*) FROM sqlite_master", 0, &rc);
    if (rc != SQLITE_OK) {
        return s_fail(self, err, "cannot read the schema");
    }
    if (app == 0 && tables == 0) {
        char *msg = NULL;
        if (sqlite3_exec(self->db, S_SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
            ho_err_set(err, HO_ERR_IO, "broker.journal", "broker journal %s: cannot create: %s",
                       self->path, msg ? msg : "?");
            sqlite3_free(msg);
            return HO_ERR_IO;
        }
        return HO_OK;
    }
    if (app != S_APP_ID) {
        return ho_err_set(err, HO_ERR_IO, "broker.journal",
                          "broker journal %s: this SQLite file is not a broker journal "
                          "(application_id %lld); give broker.journal another file",
                          self->path, (long long)app);
    }
    int64_t version = s_int(self, "PRAGMA user_version", 0, &rc);
    if (rc != SQLITE_OK || version != S_VERSION) {
        return ho_err_set(err, HO_ERR_IO, "broker.journal",
                          "broker journal %s: version %lld, this broker reads version %d",
                          self->path, (long long)version, S_VERSION);
    }
    return HO_OK;
}

ho_journal_t *ho_journal_open(const char *path, ho_err_t *err)
{
    ho_journal_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path ? path : ""))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "broker.journal", "out of memory");
        return NULL;
    }
    int rc =
        sqlite3_open_v2(self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        s_fail(self, err, "cannot open");
        goto fail;
    }
    sqlite3_extended_result_codes(self->db, 0);
    /* exclusive: one broker per journal, and no -shm file; FULL: the WAL is fsynced on every
     * commit, which is the whole point */
    if (s_exec(self, "PRAGMA locking_mode = EXCLUSIVE") != SQLITE_OK) {
        s_fail(self, err, "cannot open");
        goto fail;
    }
    /* free pages go back to the file system on ho_journal_idle (takes effect for a new file;
     * an older file is converted below) */
    s_exec(self, "PRAGMA auto_vacuum = INCREMENTAL");
    rc = s_exec(self, "PRAGMA journal_mode = WAL");
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        s_fail(self, err, "in use by another broker");
        goto fail;
    }
    if (rc != SQLITE_OK) {
        s_fail(self, err,
               "not a usable journal (move it away to start empty; its pending "
               "requests would be lost)");
        goto fail;
    }
    /* secure_delete: a removed request's bytes (a person's email, name, phone) are zeroed
     * in the file, not left in free pages for `handoff forget` to miss (issue 14 item 10);
     * the WAL, which holds them too, is truncated when the queue drains (commit, idle) */
    if (s_exec(self, "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864; "
                     "PRAGMA secure_delete = ON") != SQLITE_OK) {
        s_fail(self, err, "cannot configure");
        goto fail;
    }
    /* take the write lock now and keep it (locking_mode EXCLUSIVE) */
    rc = s_exec(self, "BEGIN EXCLUSIVE");
    if (rc != SQLITE_OK) {
        s_fail(self, err, rc == SQLITE_BUSY ? "in use by another broker" : "cannot lock");
        goto fail;
    }
    if (s_schema(self, err) != HO_OK) {
        s_exec(self, "ROLLBACK");
        goto fail;
    }
    if (s_exec(self, "COMMIT") != SQLITE_OK) {
        s_fail(self, err, "cannot write");
        goto fail;
    }
    /* a journal made before auto_vacuum was set (issue 14 item 9: 17-33 MB when empty) is
     * rewritten once so that it can shrink from now on */
    if (s_int(self, "PRAGMA auto_vacuum", 0, &rc) != 2 && rc == SQLITE_OK &&
        (s_exec(self, "PRAGMA auto_vacuum = INCREMENTAL") != SQLITE_OK ||
         s_exec(self, "VACUUM") != SQLITE_OK)) {
        s_fail(self, err, "cannot convert to auto_vacuum (disk full?)");
        goto fail;
    }
    if (sqlite3_prepare_v2(self->db,
                           "INSERT INTO pending (id, service, attempts, nframes, body, created) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &self->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->db, "DELETE FROM pending WHERE id = ?1 RETURNING length(body)", -1,
                           &self->del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(self->db, "UPDATE pending SET attempts = ?2 WHERE id = ?1", -1,
                           &self->upd, NULL) != SQLITE_OK) {
        s_fail(self, err,
               "not a usable journal (move it away to start empty; its pending "
               "requests would be lost)");
        goto fail;
    }
    self->next_id = (uint64_t)s_int(self, "SELECT coalesce(max(id), 0) + 1 FROM pending", 0, &rc);
    if (rc != SQLITE_OK || s_recount(self) != SQLITE_OK) {
        s_fail(self, err, "cannot read");
        goto fail;
    }
    return self;
fail:
    ho_journal_destroy(&self);
    return NULL;
}

void ho_journal_destroy(ho_journal_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_journal_t *self = *self_p;
    sqlite3_finalize(self->ins);
    sqlite3_finalize(self->del);
    sqlite3_finalize(self->upd);
    if (self->db && !sqlite3_get_autocommit(self->db)) {
        s_exec(self, "ROLLBACK");
    }
    sqlite3_close(self->db);
    free(self->buf);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int ho_journal_load(ho_journal_t *self, int (*fn)(void *arg, const ho_journal_row_t *row),
                    void *arg, ho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT id, service, attempts, nframes, body FROM pending ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        return s_fail(self, err, "cannot read");
    }
    const void *frames[S_MAX_FRAMES];
    size_t lens[S_MAX_FRAMES];
    int rc = HO_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ho_journal_row_t row = {0};
        row.id = (uint64_t)sqlite3_column_int64(st, 0);
        row.service = (const char *)sqlite3_column_text(st, 1);
        int64_t attempts = sqlite3_column_int64(st, 2);
        int64_t n = sqlite3_column_int64(st, 3);
        const unsigned char *p = sqlite3_column_blob(st, 4);
        size_t left = (size_t)sqlite3_column_bytes(st, 4);
        bool ok = row.service && row.service[0] && attempts >= 0 && attempts <= UINT32_MAX &&
                  n >= 1 && n <= S_MAX_FRAMES;
        for (int64_t i = 0; ok && i < n; i++) {
            ok = left >= 4;
            if (ok) {
                size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
                p += 4;
                left -= 4;
                ok = len <= left;
                frames[i] = p;
                lens[i] = len;
                p += len;
                left -= ok ? len : 0;
            }
        }
        if (!ok || left != 0) {
            rc = ho_err_set(err, HO_ERR_IO, "broker.journal",
                            "broker journal %s: row id=%llu cannot be read back (service, "
                            "attempts or frame lengths are wrong); the file is damaged",
                            self->path, (unsigned long long)row.id);
            break;
        }
        row.attempts = (uint32_t)attempts;
        row.nframes = (size_t)n;
        row.frames = frames;
        row.lens = lens;
        rc = fn(arg, &row);
        if (rc != HO_OK) {
            break;
        }
    }
    if (rc == HO_OK && step != SQLITE_DONE) {
        rc = s_fail(self, err, "cannot read");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Remember the first failure of the open batch; sql: append SQLite's own message. */
static void s_failed_as(ho_journal_t *self, const char *what, bool sql)
{
    if (!self->failed) {
        snprintf(self->why, sizeof self->why, "%s: %s", what,
                 sql ? sqlite3_errmsg(self->db) : "refused");
        self->failed = true;
    }
}

static void s_failed(ho_journal_t *self, const char *what)
{
    s_failed_as(self, what, true);
}

static int s_begin(ho_journal_t *self)
{
    if (self->in_txn) {
        return self->failed ? HO_ERR_IO : HO_OK;
    }
    self->in_txn = true;
    if (s_exec(self, "BEGIN") != SQLITE_OK) {
        s_failed(self, "begin");
        return HO_ERR_IO;
    }
    return HO_OK;
}

static int64_t s_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int s_insert(ho_journal_t *self, uint64_t id, const char *service, uint32_t attempts,
                    const void *const *frames, const size_t *lens, size_t nframes)
{
    if (s_begin(self) != HO_OK) {
        return HO_ERR_IO;
    }
    size_t total = 0;
    for (size_t i = 0; i < nframes; i++) {
        if (lens[i] > UINT32_MAX) {
            s_failed_as(self, "frame over 4 GiB", false);
            return HO_ERR_IO;
        }
        total += 4 + lens[i];
    }
    if (nframes == 0 || nframes > S_MAX_FRAMES) {
        s_failed_as(self, "a request needs 1..512 body frames", false);
        return HO_ERR_IO;
    }
    if (total > self->cap) {
        unsigned char *grown = realloc(self->buf, total);
        if (!grown) {
            s_failed_as(self, "out of memory", false);
            return HO_ERR_NOMEM;
        }
        self->buf = grown;
        self->cap = total;
    }
    unsigned char *p = self->buf;
    for (size_t i = 0; i < nframes; i++) {
        uint32_t len = (uint32_t)lens[i];
        p[0] = (unsigned char)(len >> 24);
        p[1] = (unsigned char)(len >> 16);
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        if (len) {
            memcpy(p + 4, frames[i], len);
        }
        p += 4 + len;
    }
    sqlite3_stmt *st = self->ins;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_text(st, 2, service, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, attempts);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)nframes);
    sqlite3_bind_blob(st, 5, self->buf, (int)total, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, s_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        s_failed(self, "insert");
        return HO_ERR_IO;
    }
    self->st.pending++;
    self->st.bytes += total;
    return HO_OK;
}

int ho_journal_add(ho_journal_t *self, const char *service, uint32_t attempts,
                   const void *const *frames, const size_t *lens, size_t nframes, uint64_t *id_out)
{
    uint64_t id = self->next_id++;
    *id_out = id;
    return s_insert(self, id, service, attempts, frames, lens, nframes);
}

int ho_journal_put(ho_journal_t *self, uint64_t id, const char *service, uint32_t attempts,
                   const void *const *frames, const size_t *lens, size_t nframes)
{
    if (id >= self->next_id) {
        self->next_id = id + 1;
    }
    return s_insert(self, id, service, attempts, frames, lens, nframes);
}

int ho_journal_clear(ho_journal_t *self)
{
    if (s_begin(self) != HO_OK) {
        return HO_ERR_IO;
    }
    if (s_exec(self, "DELETE FROM pending") != SQLITE_OK) {
        s_failed(self, "clear");
        return HO_ERR_IO;
    }
    self->st.pending = 0;
    self->st.bytes = 0;
    return HO_OK;
}

int ho_journal_idle(ho_journal_t *self, ho_err_t *err)
{
    if (self->in_txn) {
        return HO_OK;
    }
    /* free pages back to the file system, then the WAL folded into the file and cut to
     * zero: an empty journal is a few pages again, not the high-water mark of the backlog */
    if (s_exec(self, "PRAGMA incremental_vacuum") != SQLITE_OK) {
        return s_fail(self, err, "cannot shrink (incremental_vacuum)");
    }
    if (s_exec(self, "PRAGMA wal_checkpoint(TRUNCATE)") != SQLITE_OK) {
        return s_fail(self, err, "cannot shrink (wal_checkpoint)");
    }
    self->st.shrinks++;
    return HO_OK;
}

int ho_journal_remove(ho_journal_t *self, uint64_t id)
{
    if (s_begin(self) != HO_OK) {
        return HO_ERR_IO;
    }
    sqlite3_stmt *st = self->del;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        self->st.pending--;
        self->st.bytes -= (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        s_failed(self, "delete");
        return HO_ERR_IO;
    }
    return HO_OK;
}

int ho_journal_set_attempts(ho_journal_t *self, uint64_t id, uint32_t attempts)
{
    if (s_begin(self) != HO_OK) {
        return HO_ERR_IO;
    }
    sqlite3_stmt *st = self->upd;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, attempts);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        s_failed(self, "update");
        return HO_ERR_IO;
    }
    return HO_OK;
}

int ho_journal_dirty(const ho_journal_t *self)
{
    return self->in_txn;
}

int ho_journal_commit(ho_journal_t *self, ho_err_t *err)
{
    if (!self->in_txn) {
        return HO_OK;
    }
    self->in_txn = false;
    if (!self->failed && s_exec(self, "COMMIT") == SQLITE_OK) {
        self->st.commits++;
        /* the queue drained: fold the WAL into the (secure_delete) file and cut it to zero,
         * so removed requests do not linger in it; at most every S_DRAIN_TRUNCATE_MS under
         * a load that drains often (the idle shrink catches the rest) */
        int64_t now = s_now_ms();
        if (self->st.pending == 0 && now - self->drained_at >= S_DRAIN_TRUNCATE_MS) {
            self->drained_at = now;
            if (s_exec(self, "PRAGMA wal_checkpoint(TRUNCATE)") == SQLITE_OK) {
                self->st.shrinks++;
            }
        }
        return HO_OK;
    }
    s_failed(self, "commit");
    if (!sqlite3_get_autocommit(self->db)) {
        s_exec(self, "ROLLBACK");
    }
    self->failed = false;
    self->st.failures++;
    s_recount(self);
    return ho_err_set(err, HO_ERR_IO, "broker.journal",
                      "broker journal %s: batch rolled back, nothing of it is durable: %s",
                      self->path, self->why);
}

void ho_journal_stats(const ho_journal_t *self, ho_journal_stats_t *out)
{
    *out = self->st;
}

const char *ho_journal_path(const ho_journal_t *self)
{
    return self->path;
}
