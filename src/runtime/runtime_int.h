/* runtime_int.h - helpers shared by the worker runtime and the client (not public). */
#ifndef HO_RUNTIME_INT_H
#define HO_RUNTIME_INT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "handoff/msg.h"

/* Append msgs to zmsg as batch frames, one per type (in order of first appearance), split
 * so that no frame exceeds HO_MSG_MAX_BODY. */
int ho_runtime_add_grouped(zmsg_t *zmsg, ho_msg_t **msgs, size_t n);

/* Per-worker handler metrics (stats.c): counted in memory on each handler call and written
 * as JSON to <data_dir>/stats/<origin>.json at most once per heartbeat (and every 30 s while
 * idle, so a reader can tell a live file from a crashed worker's); removed on a clean stop.
 * `handoff metrics` and the webhook's /metrics read the folder. Nothing goes on the wire. */
#define HO_RUNTIME_STATS_BUCKETS 10
typedef struct {
    char path[4096]; /* "" = no data dir: counted, never written */
    char service[128], origin[256];
    uint64_t handled, errors;
    uint64_t buckets[HO_RUNTIME_STATS_BUCKETS]; /* calls with latency <= bound k (not cumul.) */
    double sum_s;
    int64_t written_at;
    bool dirty;
} ho_runtime_stats_t;

void ho_runtime_stats_open(ho_runtime_stats_t *st, const char *data_dir, const char *service,
                           const char *origin);
/* A monotonic clock in microseconds. */
int64_t ho_runtime_stats_clock(void);
void ho_runtime_stats_call(ho_runtime_stats_t *st, bool ok, int64_t micros);
/* Write the file when due (dirty and min_ms passed, or 30 s passed) or when force. */
void ho_runtime_stats_flush(ho_runtime_stats_t *st, int min_ms, bool force);
void ho_runtime_stats_close(ho_runtime_stats_t *st);

#endif
