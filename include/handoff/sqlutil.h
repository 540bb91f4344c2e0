/*
 * sqlutil.h - SQLite steps that several databases of handoff share (the router's and
 * the outbox's).
 */
#ifndef HO_SQLUTIL_H
#define HO_SQLUTIL_H

#include <sqlite3.h>

#include "handoff/error.h"

/* `handoff forget` on one database: run sql (an UPDATE or DELETE whose ?1 is the e-mail and
 * ?2 the lead id) with secure_delete on, so what it removes is zeroed; then VACUUM (the file
 * is rewritten without the free pages older versions left) and a truncating WAL checkpoint.
 * *n_p = rows changed. HO_OK, or HO_ERR_IO with err naming path. db stays open. */
int ho_sqlite_forget(sqlite3 *db, const char *path, const char *sql, const char *email,
                     long long lead_id, int *n_p, ho_err_t *err);

#endif
