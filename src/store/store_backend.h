/*
 * store_backend.h - what a storage engine implements (Redis ae style: store.c is the
 * interface and the engine-independent logic, store_<engine>.c fills this table).
 *
 * Every function returns HO_OK or an ho_rc_t error with err filled (err may be NULL).
 * Row and query shapes are named in include/handoff/store.h (ho_table_t, ho_query_t) and
 * the columns are those of docs/store-schema.md.
 */
#ifndef HO_STORE_BACKEND_H
#define HO_STORE_BACKEND_H

#include "handoff/store.h"

typedef enum {
    HO_TX_BEGIN,
    HO_TX_COMMIT,
    HO_TX_ROLLBACK,
    HO_TX_SAVE,
    HO_TX_RELEASE,
    HO_TX_UNDO
} ho_tx_t;

/* One lead_sources row (docs/store-schema.md); NULL json_t values are SQL NULL. */
typedef struct {
    int64_t lead_id;
    const char *event_id, *source;
    const json_t *source_record_id, *original_source, *campaign, *file, *line;
    int64_t observed_at;
} ho_source_row_t;

typedef struct {
    const char *name;
    int (*open)(const char *path, const ho_store_opts_t *opts, void **db_p, ho_err_t *err);
    void (*close)(void **db_p);
    int (*version)(void *db);
    int (*tx)(void *db, ho_tx_t op, ho_err_t *err);
    /* 1 new, 0 already applied. */
    int (*event_claim)(void *db, const char *event_id, const char *type, int64_t at, ho_err_t *err);
    /* 1 claimed before, 0 not: a lookup that writes nothing. */
    int (*event_seen)(void *db, const char *event_id, ho_err_t *err);
    /* 1 a scores row has this event id, 0 none: a lookup. */
    int (*score_seen)(void *db, const char *event_id, ho_err_t *err);
    int (*lead_get)(void *db, const char *email, int64_t id, ho_lead_t *lead, ho_err_t *err);
    int (*lead_put)(void *db, ho_lead_t *lead, ho_err_t *err);
    int (*row_add)(void *db, ho_table_t t, const json_t *row, int64_t *id_p, ho_err_t *err);
    /* The lead_sources row of an upsert, bound column by column (building a JSON row for
     * row_add was ~10% of an insert upsert); the json_t values bind as row_add binds them. */
    int (*source_add)(void *db, const ho_source_row_t *row, ho_err_t *err);
    /* A scores row, bound column by column: 1 inserted, 0 a row with its event id is there
     * (ho_store_add_score). */
    int (*score_add)(void *db, const ho_score_row_t *row, ho_err_t *err);
    /* An activities row, bound column by column: 1 inserted, 0 already there
     * (ho_store_add_activity). */
    int (*activity_add)(void *db, const ho_activity_row_t *row, ho_err_t *err);
    int (*row_update)(void *db, ho_table_t t, int64_t id, const json_t *set, ho_err_t *err);
    int (*query)(void *db, ho_query_t q, const json_t *args, json_t **rows_p, ho_err_t *err);
    int (*pending_delete)(void *db, const char *event_id, ho_err_t *err);
    int (*erase)(void *db, int64_t lead_id, const char *email, int64_t at, ho_err_t *err);
    /* Durability of commits: level >= 0 sets it (1 = a commit survives a process crash, 2 =
     * also an operating system crash or power loss: SQLite's PRAGMA synchronous NORMAL/FULL);
     * < 0 only reads. The level in force, or -1 with err. */
    int (*synchronous)(void *db, int level, ho_err_t *err);
    /* Checkpoints the engine ran in the background so far (copying its log into the
     * database file beside the writer), or -1 when it runs none (readers, engines without
     * a log). NULL = -1. */
    long (*background_checkpoints)(void *db);
    /* query, its rows packed into pk as one msgpack array of maps (column name -> value,
     * the same values query gives as JSON; the columns' names distinct). */
    int (*query_pack)(void *db, ho_query_t q, const json_t *args, msgpack_packer *pk,
                      ho_err_t *err);
    /* The connection's page cache: set it when mb > 0, then read it back. MB in force, or -1
     * with err. */
    int (*cache_mb)(void *db, int mb, ho_err_t *err);
} ho_store_backend_t;

extern const ho_store_backend_t ho_store_backend_sqlite;

#endif
