/*
 * worker.h - what a built-in worker is written against.
 *
 * A worker is a descriptor (Fluent Bit style): a name (the service it registers for), a
 * config map, and three callbacks. The runtime (src/runtime/worker_runtime.c) connects to
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
 * Handlers never log deep inside; they return a code, and put bad records into quarantine
 * with ho_out_quarantine so nothing is lost.
 */
#ifndef HO_WORKER_H
#define HO_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/conf.h"
#include "handoff/msg.h"

typedef enum {
    HO_WORKER_OK = 0,     /* handled; reply with what is in out */
    HO_WORKER_ERROR = -1, /* permanent failure of the whole request: dead-letter it */
    HO_WORKER_RETRY = -2, /* transient failure: the broker redelivers later */
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
    const char *name;        /* instance name, e.g. "score" */
    const char *data_dir;    /* where state files live (the store's SQLite, router state) */
    const char *config_dir;  /* where the deploy YAML files are read from */
    const ho_conf_t *conf;   /* the gateway config (handoff.yaml), may be NULL */
    const ho_node_t *settings; /* workers.<name> in handoff.yaml, may be NULL */
    const char *origin;      /* "name@host:pid" */
} ho_worker_env_t;

typedef struct {
    const char *name;        /* the service it registers for */
    const char *description; /* one line for `handoff worker --list` */
    /* Create the worker's context. Return HO_OK, or an error with err filled. */
    int (*cb_init)(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err);
    /* Handle a batch of decoded envelopes (n >= 1). */
    int (*cb_handle)(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out);
    /* Optional: called about every tick_ms with the wall clock; may emit messages, which are
     * sent to the broker as an unsolicited request routed by type (timers, SLA checks). */
    int (*cb_tick)(void *ctx, int64_t now_ms, ho_out_t *out);
    int tick_ms;
    /* Free the context and null *ctx_p. */
    void (*cb_exit)(void **ctx_p);
} ho_worker_def_t;

/* The built-in worker table (src/runtime/registry.c). NULL if unknown. */
const ho_worker_def_t *ho_worker_find(const char *name);
/* i-th built-in worker, or NULL past the end. */
const ho_worker_def_t *ho_worker_at(size_t i);

/* Drive def in-process without a broker (unit tests, `handoff score --explain`). */
int ho_worker_call(const ho_worker_def_t *def, void *ctx, ho_msg_t *const *in, size_t n,
                   ho_out_t *out);

#endif
