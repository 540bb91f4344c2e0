/* delivery.c - the outbox's persistent retry queue (<data_dir>/outbox.db) and its status.
 *
 * One row per (event, connector, target); every attempt is logged with its HTTP status and
 * the backoff chosen, so an operator can see what happened without the worker's logs. */
#include "outbox/outbox_int.h"
#include "handoff/sqlutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char s_schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA busy_timeout = 5000;"
    "CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO outbox_meta VALUES ('schema_version', '1');"
    "CREATE TABLE IF NOT EXISTS deliveries ("
    " id INTEGER PRIMARY KEY,"
    " event_id TEXT NOT NULL, type TEXT NOT NULL,"
    " connector TEXT NOT NULL, target TEXT NOT NULL,"
    " rep_id TEXT, lead_id INTEGER,"
    " body TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending'," /* pending | delivered | failed */
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL,"
    " last_status INTEGER, last_error TEXT,"
    " created_at INTEGER NOT NULL, delivered_at INTEGER,"
    " UNIQUE (event_id, connector, target));"
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at);"
    "CREATE TABLE IF NOT EXISTS attempts ("
    " id INTEGER PRIMARY KEY,"
    " delivery_id INTEGER NOT NULL, n INTEGER NOT NULL," /* n: attempt number since (re)queued */
    " at INTEGER NOT NULL, http_status INTEGER, error TEXT,"
    " backoff_ms INTEGER);" /* wait before the next attempt; NULL when none follows */
    "CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);"
    "CREATE INDEX IF NOT EXISTS deliveries_delivered ON deliveries (delivered_at)"
    " WHERE status = 'delivered';"
    /* packets already written to files / published: redelivery does not repeat them */
    "CREATE TABLE IF NOT EXISTS sent (event_id TEXT PRIMARY KEY, path TEXT, at INTEGER NOT NULL)"
    " WITHOUT ROWID;";

enum { Q_ENQ, Q_DUE, Q_OK, Q_RETRY, Q_FAIL, Q_ATTEMPT, Q_SENT_GET, Q_SENT_PUT, Q_N };

static const char *const s_sql[Q_N] = {
    "INSERT OR IGNORE INTO deliveries (event_id, type, connector, target, rep_id, lead_id,"
    " body, next_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    "SELECT id, event_id, type, target, body, attempts FROM deliveries"
    " WHERE status = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
    "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_status = ?2,"
    " last_error = NULL, delivered_at = ?3 WHERE id = ?1",
    "UPDATE deliveries SET attempts = attempts + 1, last_status = ?2, last_error = ?3,"
    " next_at = ?4 WHERE id = ?1",
    "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_status = ?2,"
    " last_error = ?3 WHERE id = ?1",
    "INSERT INTO attempts (delivery_id, n, at, http_status, error, backoff_ms)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "SELECT 1 FROM sent WHERE event_id = ?1",
    "INSERT OR IGNORE INTO sent (event_id, path, at) VALUES (?1, ?2, ?3)",
};

struct ho_outbox_db {
    sqlite3 *db;
    sqlite3_stmt *q[Q_N];
    char path[4096];
};

void ho_outbox_db_close(ho_outbox_db_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_outbox_db_t *self = *self_p;
    for (int i = 0; i < Q_N; i++) {
        sqlite3_finalize(self->q[i]);
    }
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}

ho_outbox_db_t *ho_outbox_db_open(const char *data_dir, ho_err_t *err)
{
    ho_outbox_db_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    snprintf(self->path, sizeof self->path, "%s/outbox.db", data_dir);
    if (sqlite3_open_v2(self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s", self->path,
                   self->db ? sqlite3_errmsg(self->db) : "out of memory");
        goto fail;
    }
    char *msg = NULL;
    if (sqlite3_exec(self->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < Q_N; i++) {
        if (sqlite3_prepare_v2(self->db, s_sql[i], -1, &self->q[i], NULL) != SQLITE_OK) {
            ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, sqlite3_errmsg(self->db));
            goto fail;
        }
    }
    return self;
fail:
    ho_outbox_db_close(&self);
    return NULL;
}

static sqlite3_stmt *s_q(ho_outbox_db_t *self, int i)
{
    sqlite3_reset(self->q[i]);
    sqlite3_clear_bindings(self->q[i]);
    return self->q[i];
}

static int s_done(ho_outbox_db_t *self, sqlite3_stmt *q, ho_err_t *err)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, sqlite3_errmsg(self->db));
    }
    return HO_OK;
}

static void s_text_or_null(sqlite3_stmt *q, int i, const char *v)
{
    if (v) {
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(q, i);
    }
}

int ho_outbox_db_enqueue(ho_outbox_db_t *self, const char *event_id, const char *type,
                         const char *connector, const char *target, const char *rep_id,
                         long long lead_id, const char *body, int64_t now, ho_err_t *err)
{
    sqlite3_stmt *q = s_q(self, Q_ENQ);
    sqlite3_bind_text(q, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, connector, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, target, -1, SQLITE_STATIC);
    s_text_or_null(q, 5, rep_id);
    if (lead_id >= 0) {
        sqlite3_bind_int64(q, 6, lead_id);
    }
    sqlite3_bind_text(q, 7, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, now);
    return s_done(self, q, err);
}

int ho_outbox_db_due(ho_outbox_db_t *self, int64_t now, int limit, ho_outbox_item_t **items_p,
                     size_t *n_p)
{
    sqlite3_stmt *q = s_q(self, Q_DUE);
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int(q, 2, limit);
    ho_outbox_item_t *items = calloc((size_t)limit + 1, sizeof *items);
    size_t n = 0;
    if (!items) {
        return HO_ERR_NOMEM;
    }
    while (n < (size_t)limit && sqlite3_step(q) == SQLITE_ROW) {
        ho_outbox_item_t *it = &items[n++];
        it->id = sqlite3_column_int64(q, 0);
        it->event_id = strdup((const char *)sqlite3_column_text(q, 1));
        it->type = strdup((const char *)sqlite3_column_text(q, 2));
        it->target = strdup((const char *)sqlite3_column_text(q, 3));
        it->body = strdup((const char *)sqlite3_column_text(q, 4));
        it->attempts = sqlite3_column_int(q, 5);
        if (!it->event_id || !it->type || !it->target || !it->body) {
            sqlite3_reset(q);
            ho_outbox_items_free(items, n);
            return HO_ERR_NOMEM;
        }
    }
    sqlite3_reset(q);
    *items_p = items;
    *n_p = n;
    return HO_OK;
}

void ho_outbox_items_free(ho_outbox_item_t *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].event_id);
        free(items[i].type);
        free(items[i].target);
        free(items[i].body);
    }
    free(items);
}

int ho_outbox_db_result(ho_outbox_db_t *self, const ho_outbox_item_t *it, int64_t now,
                        int http_status, const char *error, int64_t backoff_ms, bool give_up,
                        ho_err_t *err)
{
    int rc = HO_OK;
    sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_stmt *q;
    if (!error) {
        q = s_q(self, Q_OK);
        sqlite3_bind_int64(q, 1, it->id);
        sqlite3_bind_int(q, 2, http_status);
        sqlite3_bind_int64(q, 3, now);
    } else if (give_up) {
        q = s_q(self, Q_FAIL);
        sqlite3_bind_int64(q, 1, it->id);
        sqlite3_bind_int(q, 2, http_status);
        sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
    } else {
        q = s_q(self, Q_RETRY);
        sqlite3_bind_int64(q, 1, it->id);
        sqlite3_bind_int(q, 2, http_status);
        sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, now + backoff_ms);
    }
    rc = s_done(self, q, err);
    q = s_q(self, Q_ATTEMPT);
    sqlite3_bind_int64(q, 1, it->id);
    sqlite3_bind_int(q, 2, it->attempts + 1);
    sqlite3_bind_int64(q, 3, now);
    if (http_status) {
        sqlite3_bind_int(q, 4, http_status);
    }
    s_text_or_null(q, 5, error);
    if (error && !give_up) {
        sqlite3_bind_int64(q, 6, backoff_ms);
    }
    if (rc == HO_OK) {
        rc = s_done(self, q, err);
    }
    sqlite3_exec(self->db, rc == HO_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

bool ho_outbox_db_sent(ho_outbox_db_t *self, const char *event_id)
{
    sqlite3_stmt *q = s_q(self, Q_SENT_GET);
    sqlite3_bind_text(q, 1, event_id, -1, SQLITE_STATIC);
    bool seen = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_reset(q);
    return seen;
}

static int s_exec(ho_outbox_db_t *self, const char *sql, ho_err_t *err)
{
    if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, sqlite3_errmsg(self->db));
    }
    return HO_OK;
}

int ho_outbox_db_begin(ho_outbox_db_t *self, ho_err_t *err)
{
    return s_exec(self, "BEGIN IMMEDIATE", err);
}

int ho_outbox_db_commit(ho_outbox_db_t *self, ho_err_t *err)
{
    return s_exec(self, "COMMIT", err);
}

void ho_outbox_db_rollback(ho_outbox_db_t *self)
{
    if (!sqlite3_get_autocommit(self->db)) {
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

int ho_outbox_db_mark_sent(ho_outbox_db_t *self, const char *event_id, const char *path,
                           int64_t now, ho_err_t *err)
{
    sqlite3_stmt *q = s_q(self, Q_SENT_PUT);
    sqlite3_bind_text(q, 1, event_id, -1, SQLITE_STATIC);
    s_text_or_null(q, 2, path);
    sqlite3_bind_int64(q, 3, now);
    return s_done(self, q, err);
}

int ho_outbox_db_prune(ho_outbox_db_t *self, int64_t before, int *n_p, ho_err_t *err)
{
    /* failed and pending deliveries are never dropped; their attempts stay with them */
    static const char sql[] =
        "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries"
        " WHERE status = 'delivered' AND delivered_at < ?1);"
        "DELETE FROM deliveries WHERE status = 'delivered' AND delivered_at < ?1;"
        "DELETE FROM sent WHERE at < ?1;";
    int n = 0, rc = HO_OK;
    sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    const char *tail = sql;
    while (rc == HO_OK && tail && *tail) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(self->db, tail, -1, &q, &tail) != SQLITE_OK) {
            rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, sqlite3_errmsg(self->db));
            break;
        }
        if (!q) {
            break;
        }
        sqlite3_bind_int64(q, 1, before);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", self->path, sqlite3_errmsg(self->db));
        } else if (strstr(sqlite3_sql(q), "FROM deliveries WHERE")) {
            n = sqlite3_changes(self->db);
        }
        sqlite3_finalize(q);
    }
    sqlite3_exec(self->db, rc == HO_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (n_p) {
        *n_p = n;
    }
    return rc;
}

/* ---- read by other processes ---- */

static sqlite3 *s_open_existing(const char *data_dir, int flags, char *path, size_t cap,
                                bool *exists, ho_err_t *err)
{
    snprintf(path, cap, "%s/outbox.db", data_dir ? data_dir : ".");
    struct stat st;
    *exists = stat(path, &st) == 0;
    if (!*exists) {
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s", path,
                   db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static json_t *s_col(sqlite3_stmt *q, int i)
{
    switch (sqlite3_column_type(q, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(q, i));
    case SQLITE_NULL:
        return json_null();
    default: {
        json_t *s = json_string((const char *)sqlite3_column_text(q, i));
        return s ? s : json_string("(not UTF-8)");
    }
    }
}

int ho_outbox_status(const char *data_dir, json_t **out, ho_err_t *err)
{
    char path[4096];
    bool exists;
    *out = NULL;
    sqlite3 *db = s_open_existing(data_dir, SQLITE_OPEN_READONLY, path, sizeof path, &exists, err);
    json_t *o = json_pack("{s:s,s:b,s:i,s:i,s:i,s:n,s:[]}", "db", path, "exists", exists, "pending",
                          0, "delivered", 0, "failed", 0, "oldest_pending_at", "problems");
    if (!o) {
        sqlite3_close(db);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (!exists) {
        *out = o;
        return HO_OK;
    }
    if (!db) {
        json_decref(o);
        return err ? err->code : HO_ERR_IO;
    }
    sqlite3_stmt *q = NULL;
    int rc = HO_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT status, count(*), min(created_at) FROM deliveries"
                           " GROUP BY status",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(db));
    }
    while (rc == HO_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(q, 0);
        if (status && (!strcmp(status, "pending") || !strcmp(status, "delivered") ||
                       !strcmp(status, "failed"))) {
            json_object_set_new(o, status, json_integer(sqlite3_column_int64(q, 1)));
        }
        if (status && !strcmp(status, "pending")) {
            json_object_set_new(o, "oldest_pending_at", json_integer(sqlite3_column_int64(q, 2)));
        }
    }
    sqlite3_finalize(q);
    q = NULL;
    static const char *const cols[] = {"event_id",    "type",       "connector", "target",
                                       "rep_id",      "lead_id",    "status",    "attempts",
                                       "last_status", "last_error", "next_at",   "created_at"};
    if (rc == HO_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT event_id, type, connector, target, rep_id, lead_id, status,"
                           " attempts, last_status, last_error, next_at, created_at"
                           " FROM deliveries WHERE status = 'failed'"
                           " OR (status = 'pending' AND attempts > 0)"
                           " ORDER BY created_at, id LIMIT 50",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(db));
    }
    json_t *problems = json_object_get(o, "problems");
    while (rc == HO_OK && sqlite3_step(q) == SQLITE_ROW) {
        json_t *p = json_object();
        for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++) {
            json_object_set_new(p, cols[i], s_col(q, i));
        }
        json_array_append_new(problems, p);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (rc != HO_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return HO_OK;
}

int ho_outbox_requeue(const char *data_dir, const char *event_id, int *n_p, ho_err_t *err)
{
    char path[4096];
    bool exists;
    if (n_p) {
        *n_p = 0;
    }
    sqlite3 *db = s_open_existing(data_dir, SQLITE_OPEN_READWRITE, path, sizeof path, &exists, err);
    if (!exists) {
        return HO_OK;
    }
    if (!db) {
        return err ? err->code : HO_ERR_IO;
    }
    sqlite3_stmt *q = NULL;
    int rc = HO_OK;
    if (sqlite3_prepare_v2(db,
                           "UPDATE deliveries SET attempts = CASE status WHEN 'failed'"
                           " THEN 0 ELSE attempts END, status = 'pending', next_at = 0"
                           " WHERE (status = 'failed' OR (?1 IS NOT NULL AND"
                           " status = 'pending')) AND (?1 IS NULL OR event_id = ?1)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(db));
    } else {
        s_text_or_null(q, 1, event_id);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(db));
        } else if (n_p) {
            *n_p = sqlite3_changes(db);
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

int ho_outbox_list(const char *data_dir, const char *which, const char *event_id, int limit,
                   json_t **out, ho_err_t *err)
{
    static const char *const cols[] = {
        "event_id", "type",        "connector",  "target",  "rep_id",     "lead_id",     "status",
        "attempts", "last_status", "last_error", "next_at", "created_at", "delivered_at"};
    char path[4096];
    bool exists;
    *out = NULL;
    if (!which) {
        which = "problems";
    }
    if (strcmp(which, "problems") && strcmp(which, "failed") && strcmp(which, "pending") &&
        strcmp(which, "delivered") && strcmp(which, "all")) {
        return ho_err_set(err, HO_ERR_FIELD, "which",
                          "expected problems, failed, pending, delivered or all, got \"%.20s\"",
                          which);
    }
    sqlite3 *db = s_open_existing(data_dir, SQLITE_OPEN_READONLY, path, sizeof path, &exists, err);
    json_t *rows = json_array();
    if (!exists) {
        *out = rows;
        return HO_OK;
    }
    if (!db) {
        json_decref(rows);
        return err ? err->code : HO_ERR_IO;
    }
    sqlite3_stmt *q = NULL, *qa = NULL;
    int rc = HO_OK;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, event_id, type, connector, target, rep_id, lead_id, status,"
                           " attempts, last_status, last_error, next_at, created_at, delivered_at"
                           " FROM deliveries WHERE (?1 IS NULL OR event_id = ?1) AND"
                           " (?2 = 'all' OR status = ?2 OR (?2 = 'problems' AND"
                           " (status = 'failed' OR (status = 'pending' AND attempts > 0))))"
                           " ORDER BY created_at, id LIMIT ?3",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT n, at, http_status, error, backoff_ms FROM attempts"
                           " WHERE delivery_id = ?1 ORDER BY id",
                           -1, &qa, NULL) != SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(db));
    } else {
        s_text_or_null(q, 1, event_id);
        sqlite3_bind_text(q, 2, event_id ? "all" : which, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, limit > 0 ? limit : -1);
    }
    while (rc == HO_OK && sqlite3_step(q) == SQLITE_ROW) {
        json_t *r = json_object();
        for (int i = 0; i < (int)(sizeof cols / sizeof cols[0]); i++) {
            json_object_set_new(r, cols[i], s_col(q, i + 1));
        }
        if (event_id) { /* one delivery: its attempts too */
            static const char *const acols[] = {"n", "at", "http_status", "error", "backoff_ms"};
            json_t *atts = json_array();
            sqlite3_reset(qa);
            sqlite3_bind_int64(qa, 1, sqlite3_column_int64(q, 0));
            while (sqlite3_step(qa) == SQLITE_ROW) {
                json_t *a = json_object();
                for (int i = 0; i < 5; i++) {
                    json_object_set_new(a, acols[i], s_col(qa, i));
                }
                json_array_append_new(atts, a);
            }
            json_object_set_new(r, "attempts_log", atts);
        }
        json_array_append_new(rows, r);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(qa);
    sqlite3_close(db);
    if (rc != HO_OK) {
        json_decref(rows);
        return rc;
    }
    *out = rows;
    return HO_OK;
}

/* handoff forget (outbox.h): see ho_route_state_forget for why secure_delete + VACUUM +
 * a truncated WAL. The delivery rows stay (counts, status) with an empty body. */
int ho_outbox_forget(const char *data_dir, long long lead_id, const char *email, int *n_p,
                     ho_err_t *err)
{
    *n_p = 0;
    char path[4096];
    bool exists;
    sqlite3 *db = s_open_existing(data_dir, SQLITE_OPEN_READWRITE, path, sizeof path, &exists, err);
    if (!db) {
        return exists ? HO_ERR_IO : HO_OK;
    }
    int rc = ho_sqlite_forget(db, path,
        "UPDATE deliveries SET body = '{}', last_error = NULL"
        " WHERE (?2 > 0 AND lead_id = ?2)"
        " OR instr(lower(body), lower(?1)) > 0",
        email, lead_id, n_p, err);
    sqlite3_close(db);
    return rc;
}
