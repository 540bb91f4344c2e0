/* workers_int.h - what the worker adapters of src/workers/ share (private to the area). */
#ifndef HO_WORKERS_INT_H
#define HO_WORKERS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/error.h"

/* ---- retention (retention.c): the outbox's and the router's hourly prune ---- */
#define HO_WORKER_PRUNE_EVERY_MS 3600000LL

typedef struct {
    int64_t keep_ms;   /* retention, 0 = forever */
    int64_t pruned_at; /* the last prune, 0 = none yet */
} ho_worker_retention_t;

/* A worker's `retention` setting value (a duration like example, or "0": keep everything)
 * into r (keep_ms 0 = forever, no prune yet); HO_ERR_CONFIG naming key
 * (workers.NAME.retention) when it is neither. */
int ho_worker_retention(const char *value, const char *key, const char *example,
                        ho_worker_retention_t *r, ho_err_t *err);
/* Whether a prune is due at now_ms: never when r keeps everything, else on the first tick and
 * then once an hour; a due one is recorded in r. */
bool ho_worker_prune_due(ho_worker_retention_t *r, int64_t now_ms);

#endif
