/*
 * broker.c - the handoff broker: Majordomo MDP/0.1 plus handoff's extensions E1-E9.
 * Protocol: proto/handoff-protocol.md sections 1-5; public API: include/handoff/broker.h.
 *
 * Shape: one ROUTER socket, one thread, a loop that drains up to S_BATCH messages per poll
 * wake-up. The hot path (client request -> worker -> reply -> client) works on zmq_msg_t
 * directly: frames are received into a fixed array, moved (not copied) into a pooled request,
 * handed to the worker as reference-counted copies (kept for a requeue), and moved on to the
 * client. Payloads are never decoded; only each reply frame's "type" is peeked for routing.
 *
 * State machine of a request:
 *     queued --(worker with credit)--> in flight --(REPLY with its token)--> done
 *        ^                                |
 *        +------(worker died: front of the queue)---+-- attempts >= max_attempts --> dead letter
 *
 * This file: the loop, services and their queues, the client side and the life cycle. The
 * worker side is broker_worker.c, the journal broker_journal.c, dead letters
 * broker_deadletter.c, mmi.* broker_status.c; what they share is broker_internal.h.
 */
#include "handoff/broker.h"

#include "broker/broker_internal.h"

/* ------------------------------------------------------------------------------------ */
/* small helpers */

int ho_broker_valid_service(const void *name, size_t len)
{
    const unsigned char *s = name;
    if (!s || len == 0 || len > S_SERVICE_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-')) {
            return 0;
        }
    }
    return 1;
}

void ho_broker_hex(const void *data, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t n = 0;
    for (size_t i = 0; i < len && n + 2 < cap; i++) {
        out[n++] = hex[p[i] >> 4];
        out[n++] = hex[p[i] & 15];
    }
    out[n] = '\0';
}

bool ho_broker_is(zmq_msg_t *m, const char *lit, size_t len)
{
    return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), lit, len) == 0;
}

/* Protocol errors and similar peer faults: counted always, logged at most once a second so a
 * flood of garbage cannot flood the log too. */
void ho_broker_limited_log(ho_broker_t *self, ho_broker_limit_t *lim, const zmq_msg_t *peer,
                           const char *fmt, ...)
{
    if (lim->last && self->now - lim->last < S_LOG_EVERY_MS) {
        lim->suppressed++;
        return;
    }
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char hex[33] = "?";
    if (peer) {
        ho_broker_hex(zmq_msg_data((zmq_msg_t *)peer), zmq_msg_size((zmq_msg_t *)peer), hex,
                      sizeof hex);
    }
    if (lim->suppressed) {
        ho_warn("%s peer=%s (%llu similar lines suppressed)", what, hex,
                (unsigned long long)lim->suppressed);
    } else {
        ho_warn("%s peer=%s", what, hex);
    }
    lim->last = self->now ? self->now : 1;
    lim->suppressed = 0;
}

/* What a request counts against broker.max_queue_bytes: its frames and its bookkeeping. */
static size_t s_req_bytes(ho_req_t *req)
{
    size_t n = sizeof *req + req->nframes * sizeof(zmq_msg_t);
    for (size_t i = 0; i < req->nframes; i++) {
        n += zmq_msg_size(&req->frames[i]);
    }
    return n;
}

void ho_broker_req_hold(ho_broker_t *self, ho_req_t *req)
{
    req->bytes = s_req_bytes(req);
    self->held_bytes += (int64_t)req->bytes;
}

/* Every request the broker is done with goes back through here (byte accounting, E12). */
void ho_broker_req_free(ho_broker_t *self, ho_req_t *req)
{
    self->held_bytes -= (int64_t)req->bytes;
    ho_reqpool_free(self->pool, req);
}

static inline int s_send(ho_broker_t *self, const void *data, size_t len, bool more)
{
    return zmq_send(self->sock, data, len, more ? ZMQ_SNDMORE : 0);
}

void ho_broker_send_command(ho_broker_t *self, const void *id, size_t idlen, unsigned char cmd)
{
    s_send(self, id, idlen, true);
    s_send(self, "", 0, true);
    s_send(self, S_MDPW, 6, true);
    s_send(self, &cmd, 1, false);
}

/* Send a reply to a client: consumes client (an identity) and the body frames. */
void ho_broker_send_client(ho_broker_t *self, zmq_msg_t *client, const char *service, size_t slen,
                           zmq_msg_t *frames, size_t n)
{
    zmq_msg_send(client, self->sock, ZMQ_SNDMORE);
    s_send(self, "", 0, true);
    s_send(self, S_MDPC, 6, true);
    s_send(self, service, slen, n > 0);
    for (size_t i = 0; i < n; i++) {
        zmq_msg_send(&frames[i], self->sock, i + 1 < n ? ZMQ_SNDMORE : 0);
    }
}

void ho_broker_send_client_bytes(ho_broker_t *self, zmq_msg_t *client, const char *service,
                                 size_t slen, const void *body, size_t blen)
{
    zmq_msg_t frame;
    if (zmq_msg_init_size(&frame, blen) != 0) {
        return;
    }
    memcpy(zmq_msg_data(&frame), body, blen);
    ho_broker_send_client(self, client, service, slen, &frame, 1);
    zmq_msg_close(&frame);
}

/* Encode an envelope made by the broker itself (error, status, dead.letter). Steals payload. */
int ho_broker_envelope(const char *type, json_t *payload, char **buf, size_t *len)
{
    ho_msg_t *msg = ho_msg_new(type);
    if (!msg || !payload) {
        ho_msg_destroy(&msg);
        json_decref(payload);
        return HO_ERR_NOMEM;
    }
    ho_msg_set_origin(msg, "broker");
    ho_msg_set_payload(msg, payload);
    int rc = ho_msg_encode(msg, buf, len);
    ho_msg_destroy(&msg);
    return rc;
}

static int s_error_envelope(const char *service, size_t slen, int code, const char *message,
                            char **buf, size_t *len)
{
    char name[S_SERVICE_MAX + 1];
    size_t n = slen < S_SERVICE_MAX ? slen : S_SERVICE_MAX;
    memcpy(name, service, n);
    name[n] = '\0';
    json_t *payload =
        json_pack("{s:i, s:s, s:s}", "code", code, "message", message, "service", name);
    return ho_broker_envelope("error", payload, buf, len);
}

/* Answer a client with one "error" envelope (E5, E6). Consumes client. */
static void s_send_error(ho_broker_t *self, zmq_msg_t *client, const char *service, size_t slen,
                         int code, const char *message)
{
    char *buf = NULL;
    size_t len = 0;
    if (s_error_envelope(service, slen, code, message, &buf, &len) == HO_OK) {
        ho_broker_send_client_bytes(self, client, service, slen, buf, len);
    }
    free(buf);
}

/* ------------------------------------------------------------------------------------ */
/* services and workers */

static void s_service_free(void **item)
{
    ho_broker_service_t *svc = *item;
    while (svc->ring_head) {
        ho_broker_pclient_t *pc = svc->ring_head;
        svc->ring_head = pc->next;
        free(pc); /* its requests belong to the pool */
    }
    ho_idmap_destroy(&svc->pclients);
    free(svc);
    *item = NULL;
}

static void s_ring_push(ho_broker_service_t *svc, ho_broker_pclient_t *pc)
{
    pc->next = NULL;
    if (svc->ring_tail) {
        svc->ring_tail->next = pc;
    } else {
        svc->ring_head = pc;
    }
    svc->ring_tail = pc;
}

/* Park a plain client's request behind that client's earlier ones. -1: out of memory. */
static int s_park(ho_broker_service_t *svc, ho_req_t *req)
{
    const void *id = zmq_msg_data(&req->client);
    size_t len = zmq_msg_size(&req->client);
    if (!svc->pclients && !(svc->pclients = ho_idmap_new())) {
        return -1;
    }
    ho_broker_pclient_t *pc = ho_idmap_get(svc->pclients, id, len);
    if (!pc) {
        pc = len >= 1 && len <= HO_IDMAP_MAX_KEY ? calloc(1, sizeof *pc) : NULL;
        if (!pc || ho_idmap_put(svc->pclients, id, len, pc) != 0) {
            free(pc);
            return -1;
        }
        memcpy(pc->id, id, len);
        pc->idlen = len;
        s_ring_push(svc, pc);
    }
    ho_req_list_push_back(&pc->reqs, req);
    svc->parked++;
    return 0;
}

/* The next parked request, taking the clients in turn; NULL when none is parked. */
static ho_req_t *s_unpark(ho_broker_service_t *svc)
{
    ho_broker_pclient_t *pc = svc->ring_head;
    if (!pc) {
        return NULL;
    }
    ho_req_t *req = ho_req_list_pop_front(&pc->reqs);
    svc->ring_head = pc->next;
    if (!svc->ring_head) {
        svc->ring_tail = NULL;
    }
    if (pc->reqs.count) {
        s_ring_push(svc, pc);
    } else {
        ho_idmap_remove(svc->pclients, pc->id, pc->idlen);
        free(pc);
    }
    svc->parked--;
    return req;
}

ho_broker_service_t *ho_broker_service_require(ho_broker_t *self, const void *name, size_t len)
{
    char key[S_SERVICE_MAX + 1];
    if (len > S_SERVICE_MAX) {
        return NULL;
    }
    memcpy(key, name, len);
    key[len] = '\0';
    ho_broker_service_t *svc = zhashx_lookup(self->services, key);
    if (svc) {
        return svc;
    }
    if (zhashx_size(self->services) >= S_MAX_SERVICES) {
        return NULL;
    }
    svc = calloc(1, sizeof *svc);
    if (!svc) {
        return NULL;
    }
    memcpy(svc->name, key, len + 1);
    svc->len = len;
    zhashx_insert(self->services, key, svc);
    return svc;
}

void ho_broker_ready_push(ho_broker_service_t *svc, ho_broker_worker_t *w)
{
    w->ready = true;
    w->rnext = NULL;
    w->rprev = svc->ready_tail;
    if (svc->ready_tail) {
        svc->ready_tail->rnext = w;
    } else {
        svc->ready_head = w;
    }
    svc->ready_tail = w;
}

void ho_broker_ready_remove(ho_broker_service_t *svc, ho_broker_worker_t *w)
{
    if (!w->ready) {
        return;
    }
    if (w->rprev) {
        w->rprev->rnext = w->rnext;
    } else {
        svc->ready_head = w->rnext;
    }
    if (w->rnext) {
        w->rnext->rprev = w->rprev;
    } else {
        svc->ready_tail = w->rprev;
    }
    w->rprev = w->rnext = NULL;
    w->ready = false;
}

static void s_deliver(ho_broker_t *self, ho_broker_worker_t *w, ho_req_t *req)
{
    uint8_t token[8];
    ho_token_put(token, ho_reqpool_retoken(self->pool, req));
    req->attempts++;
    req->delivered_at = self->now;
    req->worker = w;
    ho_req_list_push_back(&w->inflight, req);
    w->in_flight++;
    w->service->in_flight++;
    unsigned char cmd = S_REQUEST;
    s_send(self, w->id, w->idlen, true);
    s_send(self, "", 0, true);
    s_send(self, S_MDPW, 6, true);
    s_send(self, &cmd, 1, true);
    s_send(self, token, sizeof token, true);
    s_send(self, "", 0, req->nframes > 0);
    for (size_t i = 0; i < req->nframes; i++) {
        /* keep our frame for a redelivery; for large frames this is a refcount, not a copy */
        zmq_msg_t copy;
        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, &req->frames[i]);
        if (zmq_msg_send(&copy, self->sock, i + 1 < req->nframes ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close(&copy);
        }
    }
}

/* Hand queued requests to workers with credit, round robin; refill the queue from the
 * parked requests of plain MDP clients as room appears (E12). */
void ho_broker_dispatch(ho_broker_t *self, ho_broker_service_t *svc)
{
    for (;;) {
        while (svc->queue.head && svc->ready_head) {
            ho_broker_worker_t *w = svc->ready_head;
            s_deliver(self, w, ho_req_list_pop_front(&svc->queue));
            ho_broker_ready_remove(svc, w);
            if (w->in_flight < w->credit) {
                ho_broker_ready_push(svc, w);
            }
        }
        if (!svc->parked || (int)svc->queue.count >= self->max_queue) {
            return;
        }
        while (svc->parked && (int)svc->queue.count < self->max_queue) {
            ho_req_list_push_back(&svc->queue, s_unpark(svc));
        }
        if (!svc->ready_head) {
            return;
        }
    }
}

/* Answer a client with a worker's reply. With a journal, the answer acknowledges everything
 * the reply caused (journaled: routed requests, a dead letter), so it waits in self->acks
 * until the batch is committed (ho_broker_flush, E11); a reply that caused nothing (journaled 0)
 * goes at once. Consumes client and moves the frames. */
void ho_broker_ack(ho_broker_t *self, zmq_msg_t *client, ho_broker_service_t *svc,
                   zmq_msg_t *frames, size_t n, bool journaled)
{
    if (!self->journal || !journaled) {
        ho_broker_send_client(self, client, svc->name, svc->len, frames, n);
        return;
    }
    ho_req_t *ack = ho_reqpool_alloc(self->pool, n);
    if (!ack) {
        ho_error("out of memory: reply for service=%s not sent (the client resends)", svc->name);
        return;
    }
    zmq_msg_init(&ack->client);
    zmq_msg_move(&ack->client, client);
    ack->has_client = true;
    for (size_t i = 0; i < n; i++) {
        zmq_msg_move(&ack->frames[i], &frames[i]);
    }
    ack->service = svc;
    ho_broker_req_hold(self, ack);
    ho_req_list_push_back(&self->acks, ack);
}

/* ho_broker_ack for an "error" envelope made by the broker (E6). */
void ho_broker_ack_error(ho_broker_t *self, zmq_msg_t *client, ho_broker_service_t *svc, int code,
                         const char *message)
{
    char *buf = NULL;
    size_t len = 0;
    zmq_msg_t frame;
    if (s_error_envelope(svc->name, svc->len, code, message, &buf, &len) == HO_OK &&
        zmq_msg_init_size(&frame, len) == 0) {
        memcpy(zmq_msg_data(&frame), buf, len);
        ho_broker_ack(self, client, svc, &frame, 1, true);
        zmq_msg_close(&frame);
    }
    free(buf);
}
void ho_broker_enqueue_internal(ho_broker_t *self, ho_broker_service_t *target, zmq_msg_t *frame,
                                bool move)
{
    ho_req_t *req = ho_reqpool_alloc(self->pool, 1);
    if (!req) {
        ho_error("out of memory: routed frame for service=%s lost", target->name);
        return;
    }
    if (move) {
        zmq_msg_move(&req->frames[0], frame);
    } else {
        zmq_msg_copy(&req->frames[0], frame);
    }
    req->service = target;
    ho_broker_req_hold(self, req); /* counted, never refused: it is a worker's output (E12) */
    if (self->journal) {
        /* a failure marks the batch; ho_broker_flush then withholds its acknowledgements */
        const void *data = zmq_msg_data(&req->frames[0]);
        size_t len = zmq_msg_size(&req->frames[0]);
        ho_journal_add(self->journal, target->name, 0, &data, &len, 1, &req->jid);
    }
    target->routed_in++;
    self->c.routed++;
    ho_req_list_push_back(&target->queue, req);
    ho_broker_dispatch(self, target);
}

/* E2/E3: every body frame whose type is in the routing table becomes a new internal request
 * to the routed service. Returns the number of frames routed. */
size_t ho_broker_route_frames(ho_broker_t *self, zmq_msg_t *frames, size_t n, bool move)
{
    size_t routed = 0;
    char type[HO_MSG_MAX_TYPE];
    for (size_t i = 0; i < n; i++) {
        if (ho_msg_peek_type(zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]), type,
                             sizeof type) != HO_OK) {
            continue;
        }
        ho_broker_service_t *target = zhashx_lookup(self->routes, type);
        if (target) {
            ho_broker_enqueue_internal(self, target, &frames[i], move);
            routed++;
        }
    }
    return routed;
}

/* ------------------------------------------------------------------------------------ */

static bool s_aware(zmq_msg_t *id)
{
    return zmq_msg_size(id) > 4 && memcmp(zmq_msg_data(id), S_AWARE_PREFIX, 4) == 0;
}

/* A request the broker will not take: an HDP client is answered with `error` (E5, E12); a
 * plain MDP client gets no broker-made reply that could pass for a worker's — the request is
 * dropped and, like any lost request in MDP/0.1, the client's timeout resends it. Logged
 * (rate-limited) and counted either way. Consumes nothing but f[0]. */
static void s_refuse(ho_broker_t *self, zmq_msg_t *f, int code, const char *message)
{
    const char *name = zmq_msg_data(&f[3]);
    size_t len = zmq_msg_size(&f[3]);
    if (s_aware(&f[0])) {
        self->c.refused++;
        ho_broker_refusal_warn(self, &f[0], "refused service=%.*s code=%d: %s", (int)len, name,
                               code, message);
        s_send_error(self, &f[0], name, len, code, message);
    } else {
        self->c.dropped++;
        ho_broker_drop_warn(self, &f[0],
                            "dropped a plain MDP client's request service=%.*s (no error reply: it "
                            "would look like the worker's; the client times out and resends): %s",
                            (int)len, name, message);
    }
}

/* E5/E12: admit, park or refuse a client request of `bytes`. */
static void s_client_admit(ho_broker_t *self, zmq_msg_t *f, size_t n, ho_broker_service_t *svc,
                           size_t bytes)
{
    char message[200];
    bool aware = s_aware(&f[0]);
    if (!svc) {
        snprintf(message, sizeof message, "too many services (%d); retry later", S_MAX_SERVICES);
        s_refuse(self, f, 503, message);
        return;
    }
    if ((int64_t)bytes > self->max_queue_bytes) {
        snprintf(message, sizeof message,
                 "request of %zu bytes is larger than broker.max_queue_bytes=%lld; split it", bytes,
                 (long long)self->max_queue_bytes);
        s_refuse(self, f, 413, message);
        return;
    }
    bool bytes_full = self->held_bytes + (int64_t)bytes > self->max_queue_bytes;
    bool count_full = (int)svc->queue.count >= self->max_queue;
    if (bytes_full || (aware && count_full)) {
        if (bytes_full) {
            snprintf(message, sizeof message,
                     "broker holds %lld bytes of requests, %zu more would pass "
                     "broker.max_queue_bytes=%lld; retry later",
                     (long long)self->held_bytes, bytes, (long long)self->max_queue_bytes);
        } else {
            snprintf(message, sizeof message,
                     "queue of service '%s' is full (max_queue=%d); retry later", svc->name,
                     self->max_queue);
        }
        s_refuse(self, f, 503, message);
        return;
    }
    ho_req_t *req = ho_reqpool_alloc(self->pool, n - 4);
    if (!req) {
        s_refuse(self, f, 503, "broker out of memory; retry later");
        return;
    }
    zmq_msg_init(&req->client);
    zmq_msg_move(&req->client, &f[0]);
    req->has_client = true;
    for (size_t i = 4; i < n; i++) {
        zmq_msg_move(&req->frames[i - 4], &f[i]);
    }
    req->service = svc;
    ho_broker_req_hold(self, req);
    svc->requests++;
    self->c.requests++;
    /* a plain MDP client: its request is not taken into the queue until the queue has room;
     * behind its own earlier parked requests, so its order holds (when the queue has room
     * nothing is parked: ho_broker_dispatch refills it first) */
    if ((count_full || svc->parked) && s_park(svc, req) == 0) {
        self->c.parked++;
        ho_broker_park_warn(self, &req->client,
                            "backpressure service=%s queued=%zu parked=%zu: a plain MDP client's "
                            "request waits until the queue has room",
                            svc->name, svc->queue.count, svc->parked);
        return;
    }
    ho_req_list_push_back(&svc->queue, req);
    ho_broker_dispatch(self, svc);
}

static void s_client_msg(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    if (n < 5) {
        ho_broker_proto_error(self, &f[0], "client request needs a service frame and a body");
        return;
    }
    const char *name = zmq_msg_data(&f[3]);
    size_t len = zmq_msg_size(&f[3]);
    if (!ho_broker_valid_service(name, len)) {
        ho_broker_proto_error(self, &f[0], "client request for an invalid service name");
        s_send_error(self, &f[0], name, len > S_SERVICE_MAX ? S_SERVICE_MAX : len, 400,
                     "invalid service name (1-64 bytes of a-z 0-9 . _ -)");
        return;
    }
    if (len >= 4 && memcmp(name, "mmi.", 4) == 0) {
        ho_broker_mmi(self, f, n);
        return;
    }
    size_t bytes = sizeof(ho_req_t) + (n - 4) * sizeof(zmq_msg_t);
    for (size_t i = 4; i < n; i++) {
        bytes += zmq_msg_size(&f[i]);
    }
    s_client_admit(self, f, n, ho_broker_service_require(self, name, len), bytes);
}

static void s_handle(ho_broker_t *self, size_t n)
{
    zmq_msg_t *f = self->in;
    if (n < 3 || zmq_msg_size(&f[1]) != 0) {
        ho_broker_proto_error(self, &f[0],
                              "message without an empty delimiter and a protocol header");
        return;
    }
    if (ho_broker_is(&f[2], S_MDPW, 6)) {
        ho_broker_worker_msg(self, f, n);
    } else if (ho_broker_is(&f[2], S_MDPC, 6)) {
        s_client_msg(self, f, n);
    } else {
        ho_broker_proto_error(self, &f[0], "unknown protocol header (want MDPC01 or MDPW01)");
    }
}

/* A message over S_MAX_FRAMES from a registered worker (say an echo of a 508-frame request,
 * plus its header) is a broken REPLY: the worker is disconnected and what it held requeued,
 * then dead-lettered after max_attempts (section 4.3). Dropping only the reply left the
 * request in flight forever and the worker's credit used up. */
static void s_overflow(ho_broker_t *self)
{
    zmq_msg_t *f = self->in;
    if (zmq_msg_size(&f[1]) != 0 || !ho_broker_is(&f[2], S_MDPW, 6)) {
        return;
    }
    ho_broker_worker_t *w = ho_idmap_get(self->workers, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    if (w) {
        ho_broker_worker_delete(self, w, true, "protocol error: message longer than 512 frames");
    }
}

/* Receive and handle one message: 1 handled, 0 nothing waiting, -1 socket failure. */
static int s_recv(ho_broker_t *self)
{
    size_t n = 0;
    bool overflow = false;
    for (;;) {
        zmq_msg_t *m = n < S_MAX_FRAMES ? &self->in[n] : &self->scratch;
        if (zmq_msg_recv(m, self->sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            if (errno == EINTR && n > 0) {
                continue;
            }
            if (n == 0 && (errno == EAGAIN || errno == EINTR)) {
                return 0;
            }
            return -1;
        }
        bool more = zmq_msg_more(m);
        if (n < S_MAX_FRAMES) {
            n++;
        } else {
            overflow = true;
        }
        if (!more) {
            break;
        }
    }
    if (overflow) {
        ho_broker_proto_error(self, &self->in[0], "message longer than %d frames", S_MAX_FRAMES);
        s_overflow(self);
    } else {
        s_handle(self, n);
    }
    /* release what was not moved on (a refused request, a dropped reply) now rather than
     * when the slot is next reused: a big refused message must not stay resident (E12) */
    for (size_t i = 0; i < n; i++) {
        if (zmq_msg_size(&self->in[i]) > 0) {
            zmq_msg_close(&self->in[i]);
            zmq_msg_init(&self->in[i]);
        }
    }
    zmq_msg_close(&self->scratch);
    zmq_msg_init(&self->scratch);
    return 1;
}

static void s_heartbeat(ho_broker_t *self)
{
    ho_broker_worker_t *w = self->wfirst;
    while (w) {
        ho_broker_worker_t *next = w->next;
        if (self->now >= w->expiry) {
            ho_broker_worker_delete(self, w, true, "heartbeat expired");
        } else if (w->inflight.head &&
                   self->now - w->inflight.head->delivered_at >= self->request_timeout_ms) {
            /* alive but not answering: the reply may have been lost or refused; another
             * worker (or this one, registered again) gets the request */
            self->c.timeouts++;
            ho_broker_worker_delete(self, w, true, "request timed out (broker.request_timeout_ms)");
        } else {
            ho_broker_send_command(self, w->id, w->idlen, S_HEARTBEAT);
        }
        w = next;
    }
}

/* ------------------------------------------------------------------------------------ */
/* life cycle */

static int s_setup_curve(ho_broker_t *self, ho_err_t *err)
{
    const char *path = ho_gateway_curve_server_cert(self->gw);
    const char *allowed = ho_gateway_curve_allowed_keys(self->gw);
    self->cert = zcert_load(path);
    if (!self->cert) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.curve.server_cert",
                          "broker.curve.server_cert: cannot load certificate '%s' (make one "
                          "with `handoff keygen broker`)",
                          path);
    }
    const char *secret = zcert_secret_txt(self->cert);
    if (!secret || strspn(secret, "0") == strlen(secret)) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.curve.server_cert",
                          "broker.curve.server_cert: '%s' holds no secret key (give the "
                          "*_secret file)",
                          path);
    }
    int mode = zsys_file_mode(allowed);
    if (mode == -1 || !S_ISDIR((mode_t)mode)) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.curve.allowed_keys",
                          "broker.curve.allowed_keys: '%s' is not a folder", allowed);
    }
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth) {
        return ho_err_set(err, HO_ERR_IO, "", "cannot start the zauth authenticator");
    }
    zstr_sendx(self->auth, "CURVE", allowed, NULL);
    zsock_wait(self->auth);
    zsock_set_zap_domain(self->router, "global");
    zsock_set_curve_server(self->router, 1);
    zcert_apply(self->cert, self->router);
    return HO_OK;
}

ho_broker_t *ho_broker_new(const ho_gateway_t *gateway, ho_err_t *err)
{
    ho_broker_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->gw = gateway;
    self->hb_ms = ho_gateway_heartbeat_ms(gateway);
    self->liveness = ho_gateway_liveness(gateway);
    self->max_queue = ho_gateway_max_queue(gateway);
    self->max_attempts = ho_gateway_max_attempts(gateway);
    self->max_queue_bytes = ho_gateway_max_queue_bytes(gateway);
    self->request_timeout_ms = ho_gateway_request_timeout_ms(gateway);
    for (size_t i = 0; i < S_MAX_FRAMES; i++) {
        zmq_msg_init(&self->in[i]);
    }
    zmq_msg_init(&self->scratch);
    self->services = zhashx_new();
    self->routes = zhashx_new();
    self->workers = ho_idmap_new();
    self->pool = ho_reqpool_new();
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->services || !self->routes || !self->workers || !self->pool || !self->router) {
        ho_err_set(err, HO_ERR_NOMEM, "", "cannot create the broker (out of memory or sockets)");
        goto err;
    }
    zhashx_set_destructor(self->services, s_service_free);
    self->sock = zsock_resolve(self->router);
    zsock_set_sndhwm(self->router, S_HWM);
    zsock_set_rcvhwm(self->router, S_HWM);
    zsock_set_linger(self->router, 0);
    /* E12: libzmq refuses a bigger frame before allocating it (a 5.4 EB length from a
     * garbage peer aborted the ASan build inside the allocator) */
    zsock_set_maxmsgsize(self->router, ho_gateway_max_frame_bytes(gateway));
    for (size_t i = 0; i < ho_gateway_route_count(gateway); i++) {
        const char *service = NULL;
        const char *type = ho_gateway_route_at(gateway, i, &service);
        size_t len = strlen(service);
        if (!ho_broker_valid_service(service, len) || strncmp(service, "mmi.", 4) == 0) {
            ho_err_set(err, HO_ERR_CONFIG, "routes",
                       "%s: routes.%s: '%s' is not a valid service name (1-64 of a-z 0-9 . _ -, "
                       "not mmi.*)",
                       ho_gateway_path(gateway), type, service);
            goto err;
        }
        ho_broker_service_t *svc = ho_broker_service_require(self, service, len);
        if (!svc) {
            ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            goto err;
        }
        zhashx_update(self->routes, type, svc);
    }
    if (ho_gateway_curve_enabled(gateway) && s_setup_curve(self, err) != HO_OK) {
        goto err;
    }
    if (ho_broker_journal_open(self, err) != HO_OK) {
        goto err;
    }
    self->started = self->now = zclock_mono();
    return self;
err:
    ho_broker_destroy(&self);
    return NULL;
}

void ho_broker_destroy(ho_broker_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_broker_t *self = *self_p;
    ho_broker_worker_t *w = self->wfirst;
    while (w) {
        ho_broker_worker_t *next = w->next;
        free(w);
        w = next;
    }
    zsock_destroy(&self->router);
    ho_journal_destroy(&self->journal);
    zactor_destroy(&self->auth);
    zcert_destroy(&self->cert);
    ho_reqpool_destroy(&self->pool);
    ho_idmap_destroy(&self->workers);
    zhashx_destroy(&self->routes);
    zhashx_destroy(&self->services);
    for (size_t i = 0; i < S_MAX_FRAMES; i++) {
        zmq_msg_close(&self->in[i]);
    }
    zmq_msg_close(&self->scratch);
    for (size_t i = 0; i < self->n_endpoints; i++) {
        free(self->endpoints[i]);
    }
    free(self->endpoints);
    free(self);
    *self_p = NULL;
}

int ho_broker_bind(ho_broker_t *self, const char *endpoint, ho_err_t *err)
{
    if (zsock_bind(self->router, "%s", endpoint) < 0) {
        return ho_err_set(err, HO_ERR_IO, "", "cannot bind %s: %s", endpoint,
                          zmq_strerror(zmq_errno()));
    }
    char *resolved = zsock_last_endpoint(self->router);
    char **grown = realloc(self->endpoints, (self->n_endpoints + 1) * sizeof *grown);
    if (!grown) {
        free(resolved);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->endpoints = grown;
    self->endpoints[self->n_endpoints++] = resolved ? resolved : strdup(endpoint);
    return HO_OK;
}

const char *ho_broker_endpoint(const ho_broker_t *self, size_t i)
{
    return i < self->n_endpoints ? self->endpoints[i] : NULL;
}

void ho_broker_stop(ho_broker_t *self)
{
    atomic_store(&self->stop, 1);
}

void ho_broker_counters(const ho_broker_t *self, ho_broker_counters_t *out)
{
    *out = self->c;
}

const char *ho_broker_journal(const ho_broker_t *self, uint64_t *pending, uint64_t *recovered)
{
    ho_journal_stats_t js = {0};
    if (self->journal) {
        ho_journal_stats(self->journal, &js);
    }
    if (pending) {
        *pending = js.pending;
    }
    if (recovered) {
        *recovered = self->recovered;
    }
    return self->journal ? ho_journal_path(self->journal) : NULL;
}

int ho_broker_run(ho_broker_t *self)
{
    self->now = zclock_mono();
    self->next_hb = self->now + self->hb_ms;
    self->last_commit = self->now; /* a recovered journal is shrunk after the first quiet second */
    while (!atomic_load(&self->stop) && !zsys_interrupted) {
        int64_t wait = self->next_hb - self->now;
        if (self->batch_opened && self->batch_opened + S_JOURNAL_MAX_MS - self->now < wait) {
            wait = self->batch_opened + S_JOURNAL_MAX_MS - self->now;
        }
        if (self->journal && !self->maintained &&
            self->last_commit + S_JOURNAL_IDLE_MS - self->now < wait) {
            wait = self->last_commit + S_JOURNAL_IDLE_MS - self->now;
        }
        /* bounded so ho_broker_stop is noticed quickly */
        wait = wait < 0 ? 0 : (wait > 100 ? 100 : wait);
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, (long)wait);
        if (rc < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            ho_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return HO_ERR_IO;
        }
        self->now = zclock_mono();
        if (rc > 0) {
            for (int i = 0; i < S_BATCH; i++) {
                int r = s_recv(self);
                if (r == 0) {
                    break;
                }
                if (r < 0) {
                    int e = zmq_errno();
                    ho_broker_flush(self, true);
                    if (e == ETERM) {
                        return HO_OK;
                    }
                    ho_error("receive failed: %s", zmq_strerror(e));
                    return HO_ERR_IO;
                }
            }
            self->now = zclock_mono();
        }
        /* group commit: one transaction + fsync for everything this pass did, then the
         * acknowledgements (E11); a batch no client waits for may wait a little longer */
        ho_broker_flush(self, false);
        self->now = zclock_mono();
        if (self->now >= self->next_hb) {
            s_heartbeat(self);
            ho_broker_flush(self, false); /* requeues and dead letters of expired workers */
            self->next_hb = self->now + self->hb_ms;
        }
        ho_broker_journal_idle(self);
    }
    ho_broker_flush(self, true);
    return HO_OK;
}
