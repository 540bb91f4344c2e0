/*
 * runtime.h - run a worker descriptor against the broker (the Majordomo worker dialogue).
 *
 * ho_worker_run connects a DEALER socket to the broker, sends READY with a credit (E4),
 * heartbeats both ways, reconnects with a new socket after the broker has been silent for
 * heartbeat_ms * liveness or sent DISCONNECT, decodes each REQUEST's body frames, calls
 * cb_handle with the batch and answers with one batch frame per output type. Bad frames and
 * bad envelopes become quarantine envelopes (naming the frame, element and field); the good
 * ones still go through. cb_tick output goes out as an unsolicited REPLY (empty token, E3).
 *
 * Returns 0 after a clean stop (SIGINT/SIGTERM or *opts->stop set; DISCONNECT is sent), or
 * 1 when the worker could not start (cb_init failed, bad options); the reason is logged.
 * See proto/handoff-protocol.md sections 3-5.
 *
 * Several workers may run in threads of one process (each call owns its socket); call
 * zsys_init() once in the main thread before starting them, because czmq's lazy global
 * initialisation is not safe when two threads create their first sockets at once.
 */
#ifndef HO_RUNTIME_H
#define HO_RUNTIME_H

#include <signal.h>
#include <stdbool.h>

#include "handoff/worker.h"

#define HO_RUNTIME_CREDIT 32 /* default credit announced in READY */

typedef struct {
    const char *endpoint;       /* broker endpoint (required) */
    const ho_worker_env_t *env; /* passed to cb_init; NULL = a minimal env from def->name */
    const char *service;        /* service to register for; NULL = def->name */
    int credit;                 /* 1..1000; 0 = HO_RUNTIME_CREDIT */
    int heartbeat_ms;           /* 0 = 2500 */
    int liveness;               /* 0 = 3 */
    int retries;                /* extra attempts after HO_WORKER_RETRY; <0 = none; 0 = 3 */
    int retry_backoff_ms;       /* first wait between attempts, doubling; 0 = 50 */
    int max_frame_bytes;        /* ZMQ_MAXMSGSIZE (broker.max_frame_bytes); 0 = HO_MSG_MAX_BODY */
    /* The worker's own clock (def->cb_tick every def->tick_ms) is not run: a supervisor sends
     * the clock instead (`handoff run` ticks the store at --tick, or never with --tick 0; the
     * store's own wall-clock tick came on top of it, at the wall clock even in a demo world). */
    bool no_tick;
    /* CURVE (E9): this worker's secret cert file and the broker's public cert file. Both set
     * enables CURVE. */
    const char *curve_client_cert;
    const char *curve_server_public;
    /* Optional: the loop stops when *stop becomes non-zero (tests run workers in threads).
     * SIGINT/SIGTERM stop it too. */
    const volatile sig_atomic_t *stop;
    /* Optional: called once cb_init succeeded and READY was sent (the CLI prints its
     * 'worker ready' line here). */
    void (*on_ready)(void *arg);
    void *ready_arg;
} ho_runtime_opts_t;

int ho_worker_run(const ho_worker_def_t *def, const ho_runtime_opts_t *opts);

#endif
