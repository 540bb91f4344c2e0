/*
 * client.h - a Majordomo client of the handoff broker, used by connectors and CLI commands.
 *
 * Requests are batches of envelopes sent to a service. The client keeps up to `window`
 * requests in flight (backpressure: ho_client_send blocks while the window is full), resends
 * a request whose reply has not come within the timeout (at-least-once; event ids make the
 * effects idempotent), and hands each reply to a callback.
 *
 * Ownership: ho_client_new returns a client freed with ho_client_destroy (&c). Messages passed
 * to send/request are borrowed (encoded before the call returns); reply messages passed to the
 * callback are borrowed for the duration of the call.
 */
#ifndef HO_CLIENT_H
#define HO_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/msg.h"

typedef struct ho_client ho_client_t;

typedef struct {
    int window;        /* requests in flight at most (default 16) */
    int timeout_ms;    /* resend a request unanswered this long (default 10000) */
    int retries;       /* resends before giving up with an error (0 = default 5, <0 = none) */
    int max_frame_bytes; /* ZMQ_MAXMSGSIZE: larger frames from the broker drop the connection
                          * (broker.max_frame_bytes; 0 = HO_MSG_MAX_BODY) */
    const char *curve_server_key; /* broker public key (z85) to enable CURVE, or NULL */
    const char *curve_cert_path;  /* this client's certificate file, with CURVE */
    /* Alternative to curve_server_key: the broker's public certificate file (czmq zcert),
     * as broker.curve.server_public names it. */
    const char *curve_server_cert;
} ho_client_opts_t;

/* Fill the CURVE fields of opts from the gateway config when broker.curve.enabled (client_cert
 * and server_public); leaves them alone otherwise. The strings are borrowed from gw. Also sets
 * max_frame_bytes from broker.max_frame_bytes when it is 0 (every CLI client calls this). */
struct ho_gateway;
void ho_client_opts_curve(ho_client_opts_t *opts, const struct ho_gateway *gw);

/* Called once per reply. tag is what ho_client_send returned for that request. A request that
 * failed for good (no reply after `retries` resends) is reported once with msgs == NULL and
 * n == 0; a reply without body frames has msgs != NULL and n == 0. A 503 "error" reply
 * (broker queue full, E5) is never delivered: the client backs off and resends it. */
typedef void(ho_client_reply_fn)(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n);

ho_client_t *ho_client_new(const char *endpoint, const ho_client_opts_t *opts, ho_err_t *err);
void ho_client_destroy(ho_client_t **self_p);

/* Send one request (a batch of n envelopes) to service. Blocks while `window` requests are
 * outstanding, delivering replies to on_reply meanwhile. Returns a tag > 0, or 0 on error. */
uint64_t ho_client_send(ho_client_t *self, const char *service, ho_msg_t *const *msgs, size_t n,
                        ho_client_reply_fn *on_reply, void *arg, ho_err_t *err);
/* Wait until every outstanding request is answered (or failed). HO_OK or an error. */
int ho_client_flush(ho_client_t *self, ho_err_t *err);
/* Requests in flight right now. */
size_t ho_client_pending(const ho_client_t *self);

/* Send and wait for the reply. The reply is returned as an array the caller frees with
 * ho_msg_batch_free(&reply, n_reply). */
int ho_client_request(ho_client_t *self, const char *service, ho_msg_t *const *msgs, size_t n,
                      ho_msg_t ***reply_p, size_t *n_reply_p, ho_err_t *err);

/* The broker's status (MMI service "mmi.status", see proto/): services, workers, queue
 * depths, counters. Caller owns the returned object. */
int ho_client_status(ho_client_t *self, json_t **status_p, ho_err_t *err);

/* Read an mmi.status payload: true when some service has requests queued or in flight.
 * *progress_p (optional) = the broker's replies + routed counters, which stand still once
 * nothing moves: a caller that sees "not busy" with the same progress twice knows the
 * pipeline is idle (nothing in transit between two workers either). */
bool ho_client_status_busy(const json_t *status, json_int_t *progress_p);

/* Read an mmi.status payload: the requests queued for services that have workers (what
 * waiting drains; import's --max-backlog and the webhook's shedding count them), the
 * longest of those queues as "NAME=N" in worst ("none" when nothing is queued). orphan
 * (optional, may be NULL) gets the name of the longest queue of a service without workers
 * and *orphan_queued_p its length (0 and "" when there is none): waiting never drains it. */
long ho_client_status_backlog(const json_t *status, char *worst, size_t cap, char *orphan,
                              size_t ocap, long *orphan_queued_p);

#endif
