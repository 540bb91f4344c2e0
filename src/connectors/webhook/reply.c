/* reply.c - the webhook server's HTTP answers (webhook_internal.h): a body with its type, a
 * JSON document, an error naming the field; queued at once, or kept for the connection's
 * thread when made by a sender thread. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_internal.h"

enum MHD_Result ho_wh_send_h(ho_wh_answer_t *a, unsigned status, const char *type, const char *body,
                             const char *hname, const char *hval)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (hname && hval) {
        MHD_add_response_header(r, hname, hval);
    }
    if (!a->c) { /* kept for the connection's thread */
        ho_wh_answer_clear(a);
        a->status = status;
        a->response = r;
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_queue_response(a->c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result ho_wh_queue(struct MHD_Connection *c, ho_wh_answer_t *a)
{
    if (!a->response) {
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(c, a->status, a->response);
    ho_wh_answer_clear(a);
    return ret;
}

void ho_wh_answer_clear(ho_wh_answer_t *a)
{
    if (a->response) {
        MHD_destroy_response(a->response);
        a->response = NULL;
    }
}

enum MHD_Result ho_wh_send(ho_wh_answer_t *a, unsigned status, const char *type, const char *body,
                           const char *allow)
{
    return ho_wh_send_h(a, status, type, body, "Allow", allow);
}

/* A JSON answer (body stolen). */
enum MHD_Result ho_wh_json(ho_wh_answer_t *a, unsigned status, json_t *body, const char *allow)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    enum MHD_Result ret = ho_wh_send(a, status, "application/json", text ? text : "{}", allow);
    free(text);
    return ret;
}

enum MHD_Result ho_wh_error(ho_wh_answer_t *a, unsigned status, const char *field, const char *fmt,
                            ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body = json_object();
    json_t *m = json_string(msg);
    json_object_set_new(body, "error", m ? m : json_string("(message not valid UTF-8)"));
    json_t *f = json_string(field ? field : "");
    json_object_set_new(body, "field", f ? f : json_string(""));
    return ho_wh_json(a, status, body, NULL);
}

const char *ho_wh_header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}
