/* broker_deadletter.c - dead letters (E6): a request the broker gives up on becomes a
 * dead.letter message (its frames described) routed by the table, its client answered 500;
 * see broker.c and broker_internal.h */
#include "broker/broker_internal.h"

/* ------------------------------------------------------------------------------------ */
/* dead letters (E6) */

static void s_count_bad(size_t index, const ho_err_t *err, void *arg)
{
    (void)index;
    (void)err;
    (*(int *)arg)++;
}

static json_t *s_envelope_json(const ho_msg_t *m)
{
    json_t *o = json_deep_copy(ho_msg_extra(m));
    if (!o) {
        o = json_object();
    }
    json_object_set_new(o, "v", json_integer(ho_msg_version(m)));
    json_object_set_new(o, "type", json_string(ho_msg_type(m)));
    json_object_set_new(o, "id", json_string(ho_msg_id(m)));
    json_object_set_new(o, "ts", json_integer(ho_msg_ts(m)));
    json_object_set_new(o, "origin", json_string(ho_msg_origin(m)));
    json_object_set_new(o, "payload", json_deep_copy(ho_msg_payload(m)));
    return o;
}

/* One body frame as JSON: an envelope map, an array of them for a batch, or {"raw": base64}
 * when any part of it cannot be decoded (so nothing is lost either way). */
static json_t *s_frame_json(zmq_msg_t *frame)
{
    const unsigned char *data = zmq_msg_data(frame);
    size_t len = zmq_msg_size(frame);
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    int bad = 0;
    ho_err_t err;
    json_t *out = NULL;
    if (ho_msg_decode_frame(data, len, &msgs, &n, s_count_bad, &bad, &err) == HO_OK && !bad &&
        n > 0) {
        bool batch =
            len > 0 && ((data[0] >= 0x90 && data[0] <= 0x9f) || data[0] == 0xdc || data[0] == 0xdd);
        if (batch) {
            out = json_array();
            for (size_t i = 0; i < n; i++) {
                json_array_append_new(out, s_envelope_json(msgs[i]));
            }
        } else {
            out = s_envelope_json(msgs[0]);
        }
    }
    ho_msg_batch_free(&msgs, n);
    if (!out) {
        char *b64 = ho_base64(data, len);
        out = json_pack("{s:s}", "raw", b64 ? b64 : "");
        free(b64);
    }
    return out;
}

/* Give up on req: emit a dead.letter routed by the table, answer its client 500, free it. */
void ho_broker_dead_letter(ho_broker_t *self, ho_req_t *req, const char *reason)
{
    ho_broker_service_t *svc = req->service;
    svc->dead_letters++;
    self->c.dead_letters++;
    bool loop = false;
    json_t *frames = json_array();
    char type[HO_MSG_MAX_TYPE];
    for (size_t i = 0; i < req->nframes; i++) {
        json_array_append_new(frames, s_frame_json(&req->frames[i]));
        if (ho_msg_peek_type(zmq_msg_data(&req->frames[i]), zmq_msg_size(&req->frames[i]), type,
                             sizeof type) == HO_OK &&
            strcmp(type, "dead.letter") == 0) {
            loop = true;
        }
    }
    json_t *payload = json_pack("{s:s, s:i, s:s, s:o}", "service", svc->name, "attempts",
                                (int)req->attempts, "reason", reason, "frames", frames);
    char *buf = NULL;
    size_t len = 0;
    ho_broker_service_t *target = zhashx_lookup(self->routes, "dead.letter");
    int rc = ho_broker_envelope("dead.letter", payload, &buf, &len);
    if (rc == HO_OK && target && !loop) {
        zmq_msg_t frame;
        if (zmq_msg_init_size(&frame, len) == 0) {
            memcpy(zmq_msg_data(&frame), buf, len);
            ho_broker_enqueue_internal(self, target, &frame, true);
            zmq_msg_close(&frame);
        }
        ho_warn("dead letter service=%s attempts=%u reason=\"%s\" routed_to=%s", svc->name,
                req->attempts, reason, target->name);
    } else {
        /* nowhere to put it (no route, or the dead-letter service itself keeps failing):
         * the log is the last place the operator can find it */
        char *b64 = rc == HO_OK ? ho_base64(buf, len) : NULL;
        ho_error("dead letter NOT routed (%s) service=%s attempts=%u reason=\"%s\" "
                 "envelope_base64=%s",
                 loop ? "it is itself a dead letter" : "no 'dead.letter' route", svc->name,
                 req->attempts, reason, b64 ? b64 : "(encode failed)");
        free(b64);
    }
    free(buf);
    if (req->jid) {
        ho_journal_remove(self->journal, req->jid); /* the dead.letter took its place */
    }
    if (req->has_client) {
        char message[200];
        snprintf(message, sizeof message, "gave up after %u deliveries: %s", req->attempts, reason);
        ho_broker_ack_error(self, &req->client, svc, 500, message);
    }
    ho_broker_req_free(self, req);
}
