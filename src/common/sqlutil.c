/* sqlutil.c - SQLite steps shared by the router and the outbox; see
 * include/handoff/sqlutil.h. */
#include "handoff/sqlutil.h"
#include <stddef.h>

int ho_sqlite_forget(sqlite3 *db, const char *path, const char *sql, const char *email,
                     long long lead_id, int *n_p, ho_err_t *err)
{
    *n_p = 0;
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, lead_id);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        *n_p = sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: forget: %s", path, sqlite3_errmsg(db));
    }
    return HO_OK;
}
