/*
 * outbox.h - what the outbox worker has delivered, is still retrying, or gave up on.
 *
 * The `outbox` worker (src/workers/outbox/) delivers handoff.ready, rep.reminder and
 * report.ready through its connectors: a JSON file per packet under
 * <data_dir>/<dir>/<rep>/<lead>-<event>.json (written to a temp file and renamed), an HTTP
 * POST to the CRM webhook, and a ZeroMQ PUB socket (topic "handoff.rep.<rep_id>.", queued
 * leads "handoff.queue.<queue>.": ids closed by '.' and percent-encoded outside
 * [A-Za-z0-9_-], so a SUB prefix filter matches exactly one rep or queue). Webhook
 * deliveries live in <data_dir>/outbox.db: a failed POST is retried with exponential backoff
 * from the worker's tick, survives restarts, and after max_attempts stays there as `failed`,
 * visible and never dropped, until an operator requeues it (`handoff outbox retry`).
 * Delivered rows are forgotten after workers.outbox.retention (default 30d).
 *
 * These functions read or change outbox.db from another process (`handoff status`,
 * `handoff dlq`); the worker itself need not run.
 */
#ifndef HO_OUTBOX_H
#define HO_OUTBOX_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <time.h>

#include "handoff/msg.h"

/* Summary of <data_dir>/outbox.db as a new object the caller owns:
 *   { "db": path, "exists": bool, "pending": n, "delivered": n, "failed": n,
 *     "oldest_pending_at": ms | null,
 *     "problems": [ { "event_id", "type", "connector", "target", "rep_id", "lead_id",
 *                     "status", "attempts", "last_status", "last_error", "next_at",
 *                     "created_at" } ... ] }
 * problems lists failed deliveries and pending ones that already failed at least once (at
 * most 50, oldest first). A missing outbox.db is not an error (exists: false, zeros). */
int ho_outbox_status(const char *data_dir, json_t **out, ho_err_t *err);

/* Deliveries as an array of objects (the `problems` fields plus delivered_at), oldest
 * first, at most limit (<= 0: all). which: "problems" (failed, and pending ones that failed
 * at least once; NULL means this), "failed", "pending", "delivered" or "all". event_id
 * non-NULL: that event's deliveries whatever their status, each with "attempts_log":
 * [{n, at, http_status, error, backoff_ms}]. A missing outbox.db is an empty array. */
int ho_outbox_list(const char *data_dir, const char *which, const char *event_id, int limit,
                   json_t **out, ho_err_t *err);

/* Put deliveries back in the retry queue, due now. event_id NULL = every failed one;
 * otherwise that event's failed (attempts reset) or pending (tried now instead of after its
 * backoff) deliveries. *n_p (may be NULL) = how many were requeued. The worker picks them
 * up at its next tick (about a second). */
int ho_outbox_requeue(const char *data_dir, const char *event_id, int *n_p, ho_err_t *err);

/* handoff forget: empty the body of every delivery of the person (lead_id > 0, or a body
 * naming the email), then VACUUM outbox.db and truncate its WAL (no copy left in free pages
 * or the WAL). Works beside a running outbox worker; a missing outbox.db is not an error.
 * *n_p = deliveries emptied. The packet files are the caller's (they sit in the configured
 * folder). */
int ho_outbox_forget(const char *data_dir, long long lead_id, const char *email, int *n_p,
                     ho_err_t *err);

/* A packet file: <dir>/<rep>/<name>.json, the rep folder's name and the file's mtime. */
typedef struct {
    char path[PATH_MAX];
    char rep[256];
    time_t mtime;
} ho_outbox_packet_t;

/* The packet files under dir (the worker's workers.outbox.dir): every <dir>/<rep>/<name>.json
 * (temp files, which do not end in .json, are not). Returns how many. With out, *out (caller
 * frees) holds them newest first, a file that cannot be stat'ed left out; without (NULL),
 * they are only counted. reps (may be NULL): the rep folders holding any (not _reports, the
 * report.ready folder). `handoff outbox list|--files` and `handoff metrics` both read this. */
size_t ho_outbox_packets(const char *dir, ho_outbox_packet_t **out, size_t *reps);

#endif
