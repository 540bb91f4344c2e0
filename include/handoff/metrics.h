/*
 * metrics.h - Prometheus text exposition (format 0.0.4) of a running handoff, and its
 * readiness, from two sources only: the broker's mmi.status answer and the data dir.
 *
 *   broker    handoff_up, uptime, request/reply/route/dead-letter/requeue counters, journal
 *   services  workers, queued, in flight, requests, replies, routed in, dead letters
 *   workers   credit, in flight, handled, heartbeat age (seconds since the broker last heard)
 *   data dir  quarantine records by reason (open and replayed), imports and records by
 *             profile, per worker process handler handled/errors/latency histogram (the
 *             stats/ files the worker runtime writes), outbox deliveries by status
 *             and the oldest pending one's age, packet files, database and journal file sizes
 *
 * Ownership: ho_metrics_render returns malloc'd text the caller frees.
 */
#ifndef HO_METRICS_H
#define HO_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "handoff/client.h"
#include "handoff/msg.h"

typedef struct {
    const char *data_dir;   /* handoff.db, outbox.db, broker.journal; NULL = none */
    const char *outbox_dir; /* the packet folder (workers.outbox.dir); NULL = data_dir/outbox */
    const char *journal;    /* the broker journal file; NULL = data_dir/broker.journal */
    int64_t now_ms;         /* for ages; 0 = now */
} ho_metrics_opts_t;

/* status = the broker's mmi.status object, or NULL when the broker did not answer
 * (handoff_up 0; the data-dir metrics are still there). NULL only when out of memory. */
char *ho_metrics_render(const json_t *status, const ho_metrics_opts_t *opts, ho_err_t *err);

/* Ready = the broker answered and each of `required` (n names) has a live worker; with
 * n == 0, each service the broker lists. false with `why` ("broker unreachable",
 * "no worker for: score route") otherwise. */
bool ho_metrics_ready(const json_t *status, const char *const *required, size_t n, char *why,
                      size_t cap);

/* The broker's mmi.status within timeout_ms, or NULL when it did not answer. copts (CURVE)
 * may be NULL. One client per call: safe from any thread. */
json_t *ho_metrics_status(const char *endpoint, const ho_client_opts_t *copts,
                          int timeout_ms);

/* A feed: a background thread that renders ho_metrics_render(ho_metrics_status(...)) every
 * refresh_ms into a snapshot, so a server's request threads never wait on the broker (a
 * stalled broker delays the next snapshot, never a scrape). opts' strings are copied. */
typedef struct ho_metrics_feed ho_metrics_feed_t;
ho_metrics_feed_t *ho_metrics_feed_new(const char *endpoint, const ho_client_opts_t *copts,
                                       const ho_metrics_opts_t *opts, int refresh_ms,
                                       int timeout_ms, ho_err_t *err);
/* A malloc'd copy of the last snapshot plus handoff_metrics_snapshot_age_seconds; NULL before
 * the first snapshot is taken (or out of memory). */
char *ho_metrics_feed_text(ho_metrics_feed_t *self);
/* Stops the thread (waits for a status request in progress, at most timeout_ms). */
void ho_metrics_feed_destroy(ho_metrics_feed_t **self_p);

#endif
