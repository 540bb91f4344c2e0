/* workers_int.h - what the worker adapters of src/workers/ share (private to the area). */
#ifndef HO_WORKERS_INT_H
#define HO_WORKERS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/error.h"

/* ---- retention (retention.c): the outbox's and the router's hourly prune ---- */
#define HO_WORKER_PRUNE_EVERY_MS 3600000LL

/* A worker's `retention` setting value (a duration like example, or "0": keep everything)
 * into *keep_ms (0 = forever); HO_ERR_CONFIG naming key (workers.NAME.retention) when it is
 * neither. */
int ho_worker_retention(const char *value, const char *key, const char *example,
                        int64_t *keep_ms, ho_err_t *err);
/* Whether a prune is due at now_ms: never with keep_ms 0, else the first tick and then once an
 * hour; a due one is recorded in *pruned_at. */
bool ho_worker_prune_due(int64_t keep_ms, int64_t *pruned_at, int64_t now_ms);

#endif
