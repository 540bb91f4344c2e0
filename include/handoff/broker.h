/*
 * broker.h - the handoff broker: a Majordomo (MDP/0.1) broker with handoff's extensions
 * (pipeline routing by message type, credit, backpressure, dead letters, MMI status, CURVE).
 * The wire protocol is proto/handoff-protocol.md sections 1-5.
 *
 *     ho_broker_t *b = ho_broker_new (gateway, &err);
 *     ho_broker_bind (b, "tcp://127.0.0.1:5570", &err);
 *     ho_broker_bind (b, "ipc:///tmp/handoff.sock", &err);
 *     ho_broker_run (b);              // until SIGINT/SIGTERM or ho_broker_stop
 *     ho_broker_destroy (&b);
 *
 * One ROUTER socket serves every bound endpoint; the broker is single-threaded and runs in
 * the thread that calls ho_broker_run (it may be a thread other than the creator's, e.g. in
 * a benchmark, as long as only that thread uses the broker while it runs).
 *
 * With broker.journal on (the default), ho_broker_new opens <data_dir>/broker.journal and
 * queues every routed request it holds; a reply reaches its client only after what the reply
 * caused is committed to that file (proto/handoff-protocol.md E11).
 *
 * Ownership: ho_broker_new borrows the gateway, which must outlive the broker.
 */
#ifndef HO_BROKER_H
#define HO_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/gateway.h"
#include "handoff/msg.h"

typedef struct ho_broker ho_broker_t;

/* A client that understands the broker's own "error" replies (503 queue full, 413 too large)
 * marks itself by a ROUTER identity (ZMQ_ROUTING_ID) that starts with these 4 bytes; the
 * handoff client library does. Any other client is treated as a plain MDP/0.1 client: instead
 * of an error reply it gets backpressure (its requests wait, bounded in bytes). Proto E12. */
#define HO_BROKER_CLIENT_PREFIX "HDP1"

typedef struct {
    uint64_t requests;        /* client requests accepted */
    uint64_t replies;         /* worker replies matched to a request */
    uint64_t routed;          /* body frames routed to a next service (E2, E3) */
    uint64_t dead_letters;    /* requests given up after max_attempts (E6) */
    uint64_t protocol_errors; /* malformed messages from peers */
    uint64_t refused;         /* client requests answered 503 or 413 (E5, E12) */
    uint64_t parked;          /* plain MDP requests held back until their queue had room (E12) */
    uint64_t dropped;         /* plain MDP requests dropped: over max_queue_bytes (E12) */
    uint64_t timeouts;        /* deliveries given up after request_timeout_ms */
    uint64_t requeued;        /* deliveries put back after a worker died */
    uint64_t stale_replies;   /* late duplicate replies ignored */
} ho_broker_counters_t;

/* Creates the ROUTER socket (and, with curve enabled in the gateway, loads the server cert and
 * starts zauth). NULL on error with err filled. */
ho_broker_t *ho_broker_new(const ho_gateway_t *gateway, ho_err_t *err);
void ho_broker_destroy(ho_broker_t **self_p);

/* Bind one more endpoint (tcp://host:port, tcp://host:* for an ephemeral port, ipc://path).
 * HO_OK or HO_ERR_IO with err naming the endpoint. */
int ho_broker_bind(ho_broker_t *self, const char *endpoint, ho_err_t *err);
/* The i-th bound endpoint as resolved by ZeroMQ (the real port for tcp://...:*), or NULL. */
const char *ho_broker_endpoint(const ho_broker_t *self, size_t i);

/* Serve until zsys_interrupted is set (SIGINT/SIGTERM with czmq's default handler) or
 * ho_broker_stop is called. Returns HO_OK, or HO_ERR_IO when the socket fails. */
int ho_broker_run(ho_broker_t *self);
/* Ask a running broker to return from ho_broker_run soon. Safe from any thread. */
void ho_broker_stop(ho_broker_t *self);

void ho_broker_counters(const ho_broker_t *self, ho_broker_counters_t *out);

/* The journal file (broker.journal under the data dir, proto E11), or NULL when the journal
 * is off; pending = requests it holds now, recovered = requests loaded from it at start.
 * Either out pointer may be NULL. */
const char *ho_broker_journal(const ho_broker_t *self, uint64_t *pending, uint64_t *recovered);

/* Service names (E8): 1-64 bytes of [a-z0-9._-]. */
int ho_broker_valid_service(const void *name, size_t len);

#endif
