/* broker_worker.c - the worker side of the broker: READY, REPLY, HEARTBEAT, DISCONNECT, and a
 * worker's removal; see broker.c and broker_internal.h */
#include "broker/broker_internal.h"

/* ------------------------------------------------------------------------------------ */

void ho_broker_worker_delete(ho_broker_t *self, ho_broker_worker_t *w, bool send_disconnect,
                             const char *reason)
{
    if (send_disconnect) {
        ho_broker_send_command(self, w->id, w->idlen, S_DISCONNECT);
    }
    ho_broker_service_t *svc = w->service;
    size_t requeued = w->inflight.count;
    /* from the tail, so the requeued requests keep their order at the front of the queue */
    while (w->inflight.tail) {
        ho_req_t *req = w->inflight.tail;
        ho_req_list_remove(&w->inflight, req);
        svc->in_flight--;
        req->worker = NULL;
        req->token = 0; /* a late reply for this delivery is now stale */
        if ((int)req->attempts >= self->max_attempts) {
            ho_broker_dead_letter(self, req, reason);
        } else {
            ho_req_list_push_front(&svc->queue, req);
            self->c.requeued++;
            if (req->jid) {
                ho_journal_set_attempts(self->journal, req->jid, req->attempts);
            }
        }
    }
    ho_broker_ready_remove(svc, w);
    svc->n_workers--;
    ho_idmap_remove(self->workers, w->id, w->idlen);
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        self->wfirst = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    } else {
        self->wlast = w->prev;
    }
    ho_info("worker gone service=%s id=%s reason=\"%s\" requeued=%zu", svc->name, w->label, reason,
            requeued);
    free(w);
    ho_broker_dispatch(self, svc);
}

static void s_worker_ready(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *id = &f[0];
    if (n < 5 || n > 6) {
        ho_broker_proto_error(self, id, "READY needs a service frame and at most a credit frame");
        ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        return;
    }
    const char *name = zmq_msg_data(&f[4]);
    size_t len = zmq_msg_size(&f[4]);
    if (!ho_broker_valid_service(name, len) || (len >= 4 && memcmp(name, "mmi.", 4) == 0)) {
        ho_broker_proto_error(self, id, "READY with an invalid or reserved service name");
        ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        return;
    }
    int credit = 1;
    if (n == 6) {
        size_t clen = zmq_msg_size(&f[5]);
        const char *c = zmq_msg_data(&f[5]);
        long v = 0;
        bool ok = clen >= 1 && clen <= 4;
        for (size_t i = 0; ok && i < clen; i++) {
            ok = c[i] >= '0' && c[i] <= '9';
            v = v * 10 + (c[i] - '0');
        }
        if (!ok || v < 1 || v > S_MAX_CREDIT) {
            ho_broker_proto_error(self, id, "READY credit must be ASCII decimal 1..%d",
                                  S_MAX_CREDIT);
            ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
            return;
        }
        credit = (int)v;
    }
    ho_broker_service_t *svc = ho_broker_service_require(self, name, len);
    ho_broker_worker_t *w = svc ? calloc(1, sizeof *w) : NULL;
    if (!w || ho_idmap_put(self->workers, zmq_msg_data(id), zmq_msg_size(id), w) != 0) {
        free(w);
        ho_error("cannot register a worker (too many services or out of memory)");
        ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        return;
    }
    w->idlen = zmq_msg_size(id);
    memcpy(w->id, zmq_msg_data(id), w->idlen);
    ho_broker_hex(w->id, w->idlen, w->label, sizeof w->label);
    w->service = svc;
    w->credit = credit;
    w->last_seen = self->now;
    w->expiry = self->now + (int64_t)self->hb_ms * self->liveness;
    w->prev = self->wlast;
    if (self->wlast) {
        self->wlast->next = w;
    } else {
        self->wfirst = w;
    }
    self->wlast = w;
    svc->n_workers++;
    ho_broker_ready_push(svc, w);
    ho_info("worker ready service=%s id=%s credit=%d", svc->name, w->label, credit);
    ho_broker_dispatch(self, svc);
}

static void s_worker_reply(ho_broker_t *self, ho_broker_worker_t *w, zmq_msg_t *f, size_t n)
{
    if (n < 6 || zmq_msg_size(&f[5]) != 0 ||
        (zmq_msg_size(&f[4]) != 0 && zmq_msg_size(&f[4]) != 8)) {
        ho_broker_proto_error(self, &f[0], "REPLY needs [token (0 or 8 bytes)][empty][body...]");
        ho_broker_worker_delete(self, w, true, "protocol error");
        return;
    }
    zmq_msg_t *body = &f[6];
    size_t nbody = n - 6;
    if (zmq_msg_size(&f[4]) == 0) {
        /* E3: unsolicited output, routed by type only */
        if (ho_broker_route_frames(self, body, nbody, true) < nbody) {
            ho_broker_limited_warn(self, &f[0],
                                   "unsolicited REPLY frame(s) with no route dropped "
                                   "service=%s",
                                   w->service->name);
        }
        return;
    }
    ho_req_t *req = ho_reqpool_find(self->pool, ho_token_get(zmq_msg_data(&f[4])));
    if (!req || req->worker != w) {
        /* a late duplicate: the request was requeued (and maybe answered) already */
        self->c.stale_replies++;
        return;
    }
    ho_broker_service_t *svc = w->service;
    ho_req_list_remove(&w->inflight, req);
    w->in_flight--;
    w->handled++;
    svc->in_flight--;
    svc->replies++;
    self->c.replies++;
    if (req->jid) {
        ho_journal_remove(self->journal, req->jid); /* same batch as its routed children */
    }
    if (req->has_client) {
        size_t routed = ho_broker_route_frames(self, body, nbody, false);
        ho_broker_ack(self, &req->client, svc, body, nbody, routed > 0);
    } else {
        ho_broker_route_frames(self, body, nbody, true);
    }
    ho_broker_req_free(self, req);
    if (!w->ready && w->in_flight < w->credit) {
        ho_broker_ready_push(svc, w);
    }
    ho_broker_dispatch(self, svc);
}

void ho_broker_worker_msg(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *id = &f[0];
    ho_broker_worker_t *w = ho_idmap_get(self->workers, zmq_msg_data(id), zmq_msg_size(id));
    unsigned char cmd =
        n >= 4 && zmq_msg_size(&f[3]) == 1 ? *(unsigned char *)zmq_msg_data(&f[3]) : 0;
    if (cmd < S_READY || cmd > S_DISCONNECT || cmd == S_REQUEST) {
        ho_broker_proto_error(self, id, "bad or missing worker command");
        if (w) {
            ho_broker_worker_delete(self, w, true, "protocol error");
        } else {
            ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        }
        return;
    }
    if (cmd == S_READY) {
        if (w) {
            ho_broker_proto_error(self, id, "READY from a worker that is already registered");
            ho_broker_worker_delete(self, w, true, "protocol error: second READY");
        } else {
            s_worker_ready(self, f, n);
        }
        return;
    }
    if (!w) {
        /* e.g. a worker we expired, or one left over from before a broker restart: tell it
         * to reconnect and register again */
        if (cmd != S_DISCONNECT) {
            ho_broker_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        }
        return;
    }
    w->last_seen = self->now;
    w->expiry = self->now + (int64_t)self->hb_ms * self->liveness;
    if (cmd == S_REPLY) {
        s_worker_reply(self, w, f, n);
    } else if (cmd == S_DISCONNECT) {
        ho_broker_worker_delete(self, w, false, "worker disconnected");
    } else if (n != 4) {
        ho_broker_proto_error(self, id, "HEARTBEAT with extra frames");
        ho_broker_worker_delete(self, w, true, "protocol error");
    }
}
