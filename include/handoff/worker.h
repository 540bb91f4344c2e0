/*
 * worker.h - what a built-in worker is written against.
 *
 * A worker is a descriptor (Fluent Bit style): a name (the service it registers for), a
 * config map (its settings under workers.<name>, printed by `handoff worker NAME --help`),
 * and three callbacks. The runtime (src/runtime/worker_runtime.c) connects to
 * the broker, speaks the Majordomo worker dialogue, decodes each REQUEST body into
 * envelopes, calls cb_handle with the whole batch, and sends everything the handler put in
 * `out` back as the REPLY, one batch frame per output type. The broker then routes each
 * frame to the next service by its type (the routing table in deploy/handoff.yaml).
 *
 *     static int s_handle (void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out) {
 *         for (size_t i = 0; i < n; i++) {
 *             ho_msg_t *reply = ho_msg_new ("lead.scored");
 *             ...
 *             ho_out_emit (out, &reply);
 *         }
 *         return HO_WORKER_OK;
 *     }
 *     const ho_worker_def_t ho_worker_score = {
 *         .name = "score", .description = "fit x interest scoring",
 *         .cb_init = s_init, .cb_handle = s_handle, .cb_exit = s_exit };
 *
 * Handlers never log deep inside; they return a code (ho_worker_rc_t, below), and put bad
 * records into quarantine with ho_out_quarantine so nothing is lost.
 */
#ifndef HO_WORKER_H
#define HO_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

/* What cb_handle returns. The broker never sees these codes: the worker runtime
 * (src/runtime/worker_runtime.c) acts on them. A permanent failure is answered (error +
 * quarantine); a transient one (RETRY) is not answered until it passes, so the broker keeps
 * the request (handoff-protocol.md E6).
 *
 * On anything but HO_WORKER_OK, whatever the handler put in `out` is dropped (ho_out_clear):
 * a request's output is all or nothing. Then:
 *   HO_WORKER_RETRY  a fault of the environment, not of the records (disk full: SQLITE_FULL,
 *                    ENOSPC, SQLITE_IOERR; the database busy; out of memory). The runtime
 *                    never quarantines or answers such a request: it calls cb_handle again
 *                    with the same batch, in the same process, waiting retry_backoff_ms
 *                    (default 50) doubling up to 2 s between attempts and heartbeating
 *                    meanwhile, for as long as it takes (a warning every 10 s after the first
 *                    ho_runtime_opts_t.retries attempts). If a stop signal arrives first, it
 *                    exits WITHOUT replying: the broker keeps the request (journal) and
 *                    delivers it again. A request that is never answered this way is taken
 *                    back by the broker after broker.request_timeout_ms and dead-lettered
 *                    after max_attempts deliveries (kept, `handoff dlq`).
 *   HO_WORKER_ERROR  (and any other non-zero code) no retry. The REPLY carries, for every
 *                    input envelope, one `error` envelope {code: 500, message, event_id,
 *                    service} and one `quarantine` envelope (code "worker_error") holding the
 *                    input payload, which the broker routes to the store like any quarantine
 *                    (`handoff dlq`): nothing is lost (handoff-protocol.md 8.2, 8.3).
 * So return RETRY for what will pass once the machine is well again (SQLITE_BUSY, SQLITE_FULL,
 * I/O errors, out of memory), ERROR for what will fail again with the same input, and handle
 * bad *records* with ho_out_quarantine and HO_WORKER_OK so the good records of the batch
 * still go on.
 * cb_tick uses the same codes, but a failed tick is neither retried nor quarantined: its
 * output is dropped with a warning and the next tick runs as usual. ho_worker_call (tests)
 * calls cb_handle once and clears `out` on failure; it never retries. */
typedef enum {
    HO_WORKER_OK = 0,     /* handled; reply with what is in out */
    HO_WORKER_ERROR = -1, /* permanent failure of the whole batch: error + quarantine per input */
    HO_WORKER_RETRY = -2, /* transient: re-run with backoff until it passes; never quarantined */
} ho_worker_rc_t;

/* ---- output collector ---- */
typedef struct ho_out ho_out_t;

/* origin is stamped on emitted messages that have none (e.g. "score@host:1234"). */
ho_out_t *ho_out_new(const char *origin);
void ho_out_destroy(ho_out_t **self_p);
/* Takes ownership of *msg_p and nulls it. */
int ho_out_emit(ho_out_t *self, ho_msg_t **msg_p);
/* Emit a "quarantine" message for a bad input record (see proto/: quarantine payload):
 * stage = which worker refused it, field = the offending field ("" if none), reason = a
 * sentence for the operator, code = short machine reason ("missing_email", ...). The raw
 * input payload is carried along so the record is never lost. */
int ho_out_quarantine(ho_out_t *self, const ho_msg_t *in, const char *stage, const char *code,
                      const char *field, const char *reason);
size_t ho_out_count(const ho_out_t *self);
/* Borrowed. */
ho_msg_t *ho_out_at(const ho_out_t *self, size_t index);
/* Drop everything collected (used when a handler fails and its partial output must not go). */
void ho_out_clear(ho_out_t *self);
/* Hand over all messages: returns a malloc'd array the caller frees with ho_msg_batch_free. */
ho_msg_t **ho_out_take(ho_out_t *self, size_t *n_p);

/* ---- descriptor ---- */
typedef struct {
    const char *name;          /* instance name, e.g. "score" */
    const char *data_dir;      /* where state files live (the store's SQLite, router state) */
    const char *config_dir;    /* where the deploy YAML files are read from */
    const ho_conf_t *conf;     /* the gateway config (handoff.yaml), may be NULL */
    const ho_node_t *settings; /* workers.<name> in handoff.yaml, may be NULL */
    const char *origin;        /* "name@host:pid" */
} ho_worker_env_t;

typedef struct {
    const char *name;        /* the service it registers for */
    const char *description; /* one line for `handoff worker --list` */
    /* Create the worker's context. Return HO_OK, or an error with err filled. */
    int (*cb_init)(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err);
    /* Handle a batch of decoded envelopes (n >= 1). Returns ho_worker_rc_t. May be called
     * again with the same batch (HO_WORKER_RETRY, or a redelivery after a worker died), so
     * effects must be idempotent by event id. */
    int (*cb_handle)(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out);
    /* Optional: called about every tick_ms with the wall clock; may emit messages, which are
     * sent to the broker as an unsolicited REPLY (empty token, E3) routed by type (timers,
     * SLA checks). On failure its output is dropped, not retried. */
    int (*cb_tick)(void *ctx, int64_t now_ms, ho_out_t *out);
    int tick_ms;
    /* Free the context and null *ctx_p. */
    void (*cb_exit)(void **ctx_p);
    /* The settings it reads from workers.<name> in handoff.yaml (key, type, default,
     * description), applied with ho_config_map_apply; `handoff worker NAME --help` prints
     * it. NULL: no settings. (Appended last so the SDK's layout of the fields above stays.) */
    const ho_config_map_t *config_map;
    /* Not part of the pipeline (echo): listed, but `handoff run` does not start it. */
    bool diagnostic;
    /* The runtime decodes requests with HO_MSG_RAW_PAYLOAD (msg.h): payloads stay packed
     * for a handler that reads them with ho_msg_payload_packed (the scorer's hot path);
     * ho_msg_payload still works on them. */
    bool packed_payload;
} ho_worker_def_t;

/* The built-in worker table (src/runtime/registry.c): the one list of workers, which
 * `handoff worker --list`, `handoff run` (--only/--without) and the docs follow. NULL if
 * unknown. */
const ho_worker_def_t *ho_worker_find(const char *name);
/* i-th built-in worker, or NULL past the end. */
const ho_worker_def_t *ho_worker_at(size_t i);

/* Drive def in-process without a broker (unit tests, `handoff score --explain`). */
int ho_worker_call(const ho_worker_def_t *def, void *ctx, ho_msg_t *const *in, size_t n,
                   ho_out_t *out);

#endif
