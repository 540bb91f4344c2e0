/* webhook_internal.h - the webhook server's parts (private to src/connectors/webhook):
 * writing HTTP answers (reply.c) and turning a POST /feedback object into feedback.raw
 * (feedback_body.c), used by server.c. */
#ifndef HO_WEBHOOK_INTERNAL_H
#define HO_WEBHOOK_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "handoff/msg.h"

/* Queue an answer: status, Content-Type type, body (copied), and one more header when
 * hname and hval are given. */
enum MHD_Result ho_wh_send_h(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body, const char *hname, const char *hval);
/* The same with an Allow header when allow is not NULL (405 answers). */
enum MHD_Result ho_wh_send(struct MHD_Connection *c, unsigned status, const char *type,
                           const char *body, const char *allow);
/* A JSON answer (body stolen; NULL answers {}). */
enum MHD_Result ho_wh_json(struct MHD_Connection *c, unsigned status, json_t *body,
                           const char *allow);
/* {"error": message, "field": field} with that status. */
enum MHD_Result ho_wh_error(struct MHD_Connection *c, unsigned status, const char *field,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A request header's value, or NULL. */
const char *ho_wh_header(struct MHD_Connection *c, const char *name);

/* One outcome object of POST /feedback (the index-th of the body) as a feedback.raw message:
 * the known keys as text fields, the rest in extra, occurred_at now when absent, and an id
 * from feedback_id (else the object's content), so a retried post is the same event. NULL
 * when out of memory. */
ho_msg_t *ho_wh_feedback_raw(const json_t *obj, size_t index);

#endif
