/* webhook_internal.h - the webhook server's parts (private to src/connectors/webhook):
 * making and queueing HTTP answers (reply.c), the sender threads that wait on the broker
 * (senders.c) and turning a POST /feedback object into feedback.raw
 * (feedback_body.c), used by server.c. */
#ifndef HO_WEBHOOK_INTERNAL_H
#define HO_WEBHOOK_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "handoff/client.h"
#include "handoff/error.h"
#include "handoff/msg.h"

/* Where an answer goes. MHD_queue_response belongs to the connection's own thread, inside
 * the access handler: with c set the answer is queued at once; with c NULL (a sender thread
 * making the answer of a suspended connection, server.c) it is kept in status/response until
 * the handler, called again after MHD_resume_connection, queues it with ho_wh_queue. */
typedef struct {
    struct MHD_Connection *c;
    unsigned status;
    struct MHD_Response *response; /* kept (c NULL); NULL: none made (out of memory) */
} ho_wh_answer_t;

/* Answer: status, Content-Type type, body (copied), and one more header when hname and hval
 * are given. */
enum MHD_Result ho_wh_send_h(ho_wh_answer_t *a, unsigned status, const char *type, const char *body,
                             const char *hname, const char *hval);
/* The same with an Allow header when allow is not NULL (405 answers). */
enum MHD_Result ho_wh_send(ho_wh_answer_t *a, unsigned status, const char *type, const char *body,
                           const char *allow);
/* A JSON answer (body stolen; NULL answers {}). */
enum MHD_Result ho_wh_json(ho_wh_answer_t *a, unsigned status, json_t *body, const char *allow);
/* {"error": message, "field": field} with that status. */
enum MHD_Result ho_wh_error(ho_wh_answer_t *a, unsigned status, const char *field, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));
/* Queue a kept answer on c (its thread, in the handler); MHD_NO when none was made. */
enum MHD_Result ho_wh_queue(struct MHD_Connection *c, ho_wh_answer_t *a);
/* Free a kept answer never queued (the connection closed first). */
void ho_wh_answer_clear(ho_wh_answer_t *a);
/* A request header's value, or NULL. */
const char *ho_wh_header(struct MHD_Connection *c, const char *name);

/* ---- senders.c: n threads that take queued items oldest first and may wait on the broker ---- */
typedef struct ho_wh_senders ho_wh_senders_t;
/* What a sender does with an item it took (in that sender's thread). */
typedef void ho_wh_send_fn(void *arg, void *item);
/* Start n senders calling fn(arg, item); NULL and err set when they cannot start. */
ho_wh_senders_t *ho_wh_senders_new(int n, const char *endpoint, const ho_client_opts_t *copts,
                                   ho_wh_send_fn *fn, void *arg, ho_err_t *err);
/* Queue an item: 0, or -1 when stopping or out of memory (not queued). */
int ho_wh_senders_push(ho_wh_senders_t *self, void *item);
/* The calling sender's broker client, made on first use (NULL and err set on failure). */
ho_client_t *ho_wh_sender_client(ho_wh_senders_t *self, ho_err_t *err);
/* Drop the calling sender's client: whatever its socket still waits for is stale. */
void ho_wh_sender_client_drop(ho_wh_senders_t *self);
/* Stop taking items (push answers -1 from now on), let the senders finish every queued one,
 * and join them. */
void ho_wh_senders_stop(ho_wh_senders_t *self);
/* Stop (when not yet), then free the senders and their clients. */
void ho_wh_senders_destroy(ho_wh_senders_t **self_p);

/* One outcome object of POST /feedback (the index-th of the body) as a feedback.raw message:
 * the known keys as text fields, the rest in extra, occurred_at now when absent, and an id
 * from feedback_id (else the object's content), so a retried post is the same event. NULL
 * when out of memory. */
ho_msg_t *ho_wh_feedback_raw(const json_t *obj, size_t index);

#endif
