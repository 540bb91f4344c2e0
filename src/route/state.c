/* state.c - the router's own state in <data_dir>/router.db: round-robin positions, leads
 * counted per rep per day (and how many of them were reassigned away: released), decisions by
 * event id, and which reps breached a lead's SLA.
 * The store's handoff.db is not touched: routing state belongs to the route worker. */
#include "route/route_internal.h"
#include "handoff/sqlutil.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum {
    Q_DECISION_GET,
    Q_DECISION_PUT,
    Q_COUNT,
    Q_ADD,
    Q_RR_GET,
    Q_RR_SET,
    Q_BR_GET,
    Q_BR_ADD,
    Q_LOAD,
    Q_RELEASE,
    Q_N
};

static const char *const s_sql[Q_N] = {
    "SELECT payload FROM decisions WHERE event_id = ?1",
    "INSERT OR IGNORE INTO decisions (event_id, payload, at, decided_at)"
    " VALUES (?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER) * 1000)",
    "SELECT coalesce(sum(n), 0) FROM counts WHERE rep_id = ?1 AND day BETWEEN ?2 AND ?3",
    "INSERT INTO counts (rep_id, day, n) VALUES (?1, ?2, 1) "
    "ON CONFLICT (rep_id, day) DO UPDATE SET n = n + 1",
    "SELECT current FROM rotation WHERE team = ?1 AND rep_id = ?2",
    "INSERT INTO rotation (team, rep_id, current) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (team, rep_id) DO UPDATE SET current = excluded.current",
    "SELECT rep_id FROM breaches WHERE lead_id = ?1 ORDER BY at, rep_id",
    "INSERT OR IGNORE INTO breaches (lead_id, rep_id, at) VALUES (?1, ?2, ?3)",
    "SELECT coalesce(sum(n - released), 0) FROM counts WHERE rep_id = ?1 AND day BETWEEN ?2 AND ?3",
    "UPDATE counts SET released = released + 1 WHERE rep_id = ?1 AND day = ?2 AND released < n",
};

static const char s_schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA busy_timeout = 5000;"
    "CREATE TABLE IF NOT EXISTS router_meta (key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO router_meta VALUES ('schema_version', '3');"
    "CREATE TABLE IF NOT EXISTS rotation (team TEXT NOT NULL, rep_id TEXT NOT NULL,"
    " current INTEGER NOT NULL, PRIMARY KEY (team, rep_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counts (rep_id TEXT NOT NULL, day INTEGER NOT NULL,"
    " n INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (rep_id, day)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS decisions (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL,"
    " at INTEGER NOT NULL, decided_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS breaches (lead_id INTEGER NOT NULL, rep_id TEXT NOT NULL,"
    " at INTEGER NOT NULL, PRIMARY KEY (lead_id, rep_id)) WITHOUT ROWID;";

struct ho_route_state {
    sqlite3 *db;
    sqlite3_stmt *q[Q_N];
    char *path;
    bool in_batch; /* a batch transaction is open: decisions are savepoints in it */
};

void ho_route_state_destroy(ho_route_state_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_route_state_t *self = *self_p;
    for (int i = 0; i < Q_N; i++) {
        sqlite3_finalize(self->q[i]);
    }
    sqlite3_close(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* An older router.db: when probe (a read of a newer column) does not prepare, run upgrade (one
 * transaction adding it). HO_OK, or an error naming path, rolled back. */
static int s_upgrade(sqlite3 *db, const char *path, const char *probe, const char *upgrade,
                     ho_err_t *err)
{
    sqlite3_stmt *q = NULL;
    char *msg = NULL;
    int rc = HO_OK;
    if (sqlite3_prepare_v2(db, probe, -1, &q, NULL) != SQLITE_OK &&
        sqlite3_exec(db, upgrade, NULL, NULL, &msg) != SQLITE_OK) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: cannot upgrade router state: %s", path,
                        msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_finalize(q);
    return rc;
}

ho_route_state_t *ho_route_state_open(const char *path, ho_err_t *err)
{
    ho_route_state_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot open router state: %s", path,
                   self->db ? sqlite3_errmsg(self->db) : "out of memory");
        goto fail;
    }
    char *msg = NULL;
    if (sqlite3_exec(self->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot set up router state: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    /* schema 1 had no decided_at: add it, stamped now, so old decisions live one more
     * retention period rather than being forgotten at the first prune */
    if (s_upgrade(self->db, path, "SELECT decided_at FROM decisions LIMIT 0",
                  "BEGIN IMMEDIATE;"
                  "ALTER TABLE decisions ADD COLUMN decided_at INTEGER NOT NULL DEFAULT 0;"
                  "UPDATE decisions SET decided_at = CAST(strftime('%s', 'now') AS INTEGER)"
                  " * 1000;"
                  "UPDATE router_meta SET value = '2' WHERE key = 'schema_version';"
                  "COMMIT;",
                  err) != HO_OK) {
        goto fail;
    }
    /* schema 2 had no released: nothing was released then */
    if (s_upgrade(self->db, path, "SELECT released FROM counts LIMIT 0",
                  "BEGIN IMMEDIATE;"
                  "ALTER TABLE counts ADD COLUMN released INTEGER NOT NULL DEFAULT 0;"
                  "UPDATE router_meta SET value = '3' WHERE key = 'schema_version';"
                  "COMMIT;",
                  err) != HO_OK) {
        goto fail;
    }
    if (sqlite3_exec(self->db,
                     "CREATE INDEX IF NOT EXISTS decisions_decided ON decisions (decided_at);"
                     "CREATE INDEX IF NOT EXISTS breaches_at ON breaches (at);",
                     NULL, NULL, &msg) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < Q_N; i++) {
        if (sqlite3_prepare_v2(self->db, s_sql[i], -1, &self->q[i], NULL) != SQLITE_OK) {
            ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, sqlite3_errmsg(self->db));
            goto fail;
        }
    }
    return self;
fail:
    ho_route_state_destroy(&self);
    return NULL;
}

static int s_exec(ho_route_state_t *st, const char *sql, ho_err_t *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", st->path, msg ? msg : "?");
        sqlite3_free(msg);
        return HO_ERR_IO;
    }
    return HO_OK;
}

/* One decision is a transaction of its own, or inside a batch (ho_route_state_batch_begin)
 * a savepoint: a decision that fails rolls back alone, and the batch commits once. */
int ho_rt_state_begin(ho_route_state_t *st, ho_err_t *err)
{
    return s_exec(st, st->in_batch ? "SAVEPOINT decision" : "BEGIN IMMEDIATE", err);
}

int ho_rt_state_commit(ho_route_state_t *st, ho_err_t *err)
{
    return s_exec(st, st->in_batch ? "RELEASE decision" : "COMMIT", err);
}

void ho_rt_state_rollback(ho_route_state_t *st)
{
    sqlite3_exec(st->db, st->in_batch ? "ROLLBACK TO decision; RELEASE decision" : "ROLLBACK", NULL,
                 NULL, NULL);
}

int ho_route_state_batch_begin(ho_route_state_t *st, ho_err_t *err)
{
    if (st->in_batch) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: a batch is already open", st->path);
    }
    int rc = s_exec(st, "BEGIN IMMEDIATE", err);
    st->in_batch = rc == HO_OK;
    return rc;
}

int ho_route_state_batch_commit(ho_route_state_t *st, ho_err_t *err)
{
    if (!st->in_batch) {
        return HO_OK;
    }
    st->in_batch = false;
    int rc = s_exec(st, "COMMIT", err);
    if (rc != HO_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

void ho_route_state_batch_rollback(ho_route_state_t *st)
{
    if (st && st->in_batch) {
        st->in_batch = false;
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

static sqlite3_stmt *s_q(ho_route_state_t *st, int i)
{
    sqlite3_reset(st->q[i]);
    sqlite3_clear_bindings(st->q[i]);
    return st->q[i];
}

static int s_step_done(ho_route_state_t *st, sqlite3_stmt *q, ho_err_t *err)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: %s", st->path, sqlite3_errmsg(st->db));
    }
    return HO_OK;
}

json_t *ho_rt_state_decision(ho_route_state_t *st, const char *event_id)
{
    sqlite3_stmt *q = s_q(st, Q_DECISION_GET);
    sqlite3_bind_text(q, 1, event_id, -1, SQLITE_STATIC);
    json_t *out = NULL;
    if (sqlite3_step(q) == SQLITE_ROW) {
        out = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
    }
    sqlite3_reset(q);
    return out;
}

int ho_rt_state_put_decision(ho_route_state_t *st, const char *event_id, const json_t *payload,
                             ho_err_t *err)
{
    char *text = json_dumps(payload, JSON_COMPACT);
    if (!text) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    sqlite3_stmt *q = s_q(st, Q_DECISION_PUT);
    sqlite3_bind_text(q, 1, event_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, text, -1, SQLITE_STATIC);
    json_t *at = json_object_get(payload, "assigned_at");
    sqlite3_bind_int64(q, 3, json_is_integer(at) ? json_integer_value(at) : 0);
    int rc = s_step_done(st, q, err);
    free(text);
    return rc;
}

/* Sum of the count query q (Q_COUNT: all counted, Q_LOAD: minus released) of rep_id over days
 * [from_day, to_day]. */
static int s_sum(ho_route_state_t *st, int q_id, const char *rep_id, int64_t from_day,
                 int64_t to_day)
{
    sqlite3_stmt *q = s_q(st, q_id);
    sqlite3_bind_text(q, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, from_day);
    sqlite3_bind_int64(q, 3, to_day);
    int n = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        n = sqlite3_column_int(q, 0);
    }
    sqlite3_reset(q);
    return n;
}

/* One more of rep_id's day (q_id Q_ADD: counted, Q_RELEASE: released). */
static int s_bump(ho_route_state_t *st, int q_id, const char *rep_id, int64_t day, ho_err_t *err)
{
    sqlite3_stmt *q = s_q(st, q_id);
    sqlite3_bind_text(q, 1, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, day);
    return s_step_done(st, q, err);
}

int ho_rt_state_count(ho_route_state_t *st, const char *rep_id, int64_t from_day, int64_t to_day)
{
    return s_sum(st, Q_COUNT, rep_id, from_day, to_day);
}

int ho_rt_state_add(ho_route_state_t *st, const char *rep_id, int64_t day, ho_err_t *err)
{
    return s_bump(st, Q_ADD, rep_id, day, err);
}

int ho_rt_state_load(ho_route_state_t *st, const char *rep_id, int64_t from_day, int64_t to_day)
{
    return s_sum(st, Q_LOAD, rep_id, from_day, to_day);
}

int ho_rt_state_release(ho_route_state_t *st, const char *rep_id, int64_t day, ho_err_t *err)
{
    return s_bump(st, Q_RELEASE, rep_id, day, err);
}

long long ho_rt_state_rr_get(ho_route_state_t *st, const char *team, const char *rep_id)
{
    sqlite3_stmt *q = s_q(st, Q_RR_GET);
    sqlite3_bind_text(q, 1, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, rep_id, -1, SQLITE_STATIC);
    long long v = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    return v;
}

int ho_rt_state_rr_set(ho_route_state_t *st, const char *team, const char *rep_id, long long cw,
                       ho_err_t *err)
{
    sqlite3_stmt *q = s_q(st, Q_RR_SET);
    sqlite3_bind_text(q, 1, team, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, cw);
    return s_step_done(st, q, err);
}

int ho_rt_state_breachers(ho_route_state_t *st, long long lead_id, ho_rt_strs_t *out)
{
    sqlite3_stmt *q = s_q(st, Q_BR_GET);
    sqlite3_bind_int64(q, 1, lead_id);
    int rc = HO_OK;
    while (rc == HO_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *rep = (const char *)sqlite3_column_text(q, 0);
        if (ho_rt_strs_has(out, rep)) {
            continue;
        }
        char **grown = realloc(out->v, (out->n + 1) * sizeof *grown);
        char *copy = grown ? strdup(rep) : NULL;
        if (grown) {
            out->v = grown;
        }
        if (!copy) {
            rc = HO_ERR_NOMEM;
            break;
        }
        out->v[out->n++] = copy;
    }
    sqlite3_reset(q);
    return rc;
}

int ho_rt_state_add_breacher(ho_route_state_t *st, long long lead_id, const char *rep_id,
                             int64_t at, bool *added_p, ho_err_t *err)
{
    sqlite3_stmt *q = s_q(st, Q_BR_ADD);
    sqlite3_bind_int64(q, 1, lead_id);
    sqlite3_bind_text(q, 2, rep_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, at);
    int rc = s_step_done(st, q, err);
    if (added_p) {
        *added_p = rc == HO_OK && sqlite3_changes(st->db) > 0;
    }
    return rc;
}

int ho_rt_state_prune(ho_route_state_t *st, int64_t decided_before, int64_t keep_days,
                      int64_t breached_before, ho_routing_pruned_t *out, ho_err_t *err)
{
    static const char *const sql[3] = {
        "DELETE FROM decisions WHERE decided_at < ?1",
        /* counts: relative to the newest day counted (event time), so replaying an old
         * quarter does not lose the counts it is building */
        "DELETE FROM counts WHERE day < (SELECT max(day) FROM counts) - ?1",
        "DELETE FROM breaches WHERE at < ?1",
    };
    int64_t arg[3] = {decided_before, keep_days, breached_before};
    int n[3] = {0, 0, 0};
    int rc = ho_rt_state_begin(st, err);
    for (int i = 0; i < 3 && rc == HO_OK; i++) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(st->db, sql[i], -1, &q, NULL) != SQLITE_OK) {
            rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", st->path, sqlite3_errmsg(st->db));
            break;
        }
        sqlite3_bind_int64(q, 1, arg[i]);
        if (sqlite3_step(q) != SQLITE_DONE) {
            rc = ho_err_set(err, HO_ERR_IO, "", "%s: %s", st->path, sqlite3_errmsg(st->db));
        }
        n[i] = sqlite3_changes(st->db);
        sqlite3_finalize(q);
    }
    if (rc == HO_OK) {
        rc = ho_rt_state_commit(st, err);
    }
    if (rc != HO_OK) {
        ho_rt_state_rollback(st);
        return rc;
    }
    if (out) {
        out->decisions = n[0];
        out->counts = n[1];
        out->breaches = n[2];
    }
    return HO_OK;
}

/* handoff forget: drop the decisions that name the person (a decision payload is the
 * lead.assigned it made, with the lead's contact). A redelivered request for an erased lead
 * is then decided again; counts, rotation and breaches hold no personal data and stay.
 * secure_delete zeroes what is deleted, VACUUM rewrites the file without the free pages
 * older versions left behind, and the WAL is checkpointed and truncated. */
int ho_route_state_forget(const char *path, long long lead_id, const char *email, int *n_p,
                          ho_err_t *err)
{
    *n_p = 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        int rc = ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s", path,
                            db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    int rc = ho_sqlite_forget(db, path,
        "DELETE FROM decisions WHERE instr(lower(payload), lower(?1)) > 0"
        " OR (?2 > 0 AND json_valid(payload)"
        " AND json_extract(payload, '$.lead_id') = ?2)",
        email, lead_id, n_p, err);
    sqlite3_close(db);
    return rc;
}
