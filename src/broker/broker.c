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
 */
#include "handoff/broker.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/idmap.h"
#include "broker/journal.h"
#include "broker/reqpool.h"
#include "handoff/log.h"
#include "handoff/util.h"

#define S_MAX_FRAMES 512     /* frames in one message, identity included */
#define S_BATCH 2048         /* messages handled per poll wake-up */
#define S_MAX_SERVICES 4096  /* distinct service names the broker will keep */
#define S_SERVICE_MAX 64     /* longest service name (E8) */
#define S_MAX_CREDIT 1000    /* largest READY credit (E4) */
#define S_HWM 100000         /* ROUTER high-water marks; max_queue is the real bound */
#define S_LOG_EVERY_MS 1000  /* at most one protocol-error line per second */
#define S_JOURNAL_MAX_MS 20  /* longest a journal batch stays open when no client waits */
#define S_JOURNAL_IDLE_MS 1000 /* quiet time after the last commit before the journal shrinks */
/* A client whose ROUTER identity starts with this speaks HDP (the handoff client library):
 * it understands the broker's own "error" replies (503, 413). Anyone else is a plain MDP/0.1
 * client and gets backpressure instead (E12). */
#define S_AWARE_PREFIX HO_BROKER_CLIENT_PREFIX

enum {
    S_READY = 0x01,
    S_REQUEST = 0x02,
    S_REPLY = 0x03,
    S_HEARTBEAT = 0x04,
    S_DISCONNECT = 0x05,
};

static const char S_MDPC[] = "MDPC01";
static const char S_MDPW[] = "MDPW01";

typedef struct s_worker s_worker_t;

/* A plain MDP client with requests parked on one service (E12). */
typedef struct s_pclient s_pclient_t;
struct s_pclient {
    ho_req_list_t reqs;   /* its parked requests, in arrival order */
    s_pclient_t *next;    /* in the service's ring of clients with parked requests */
    size_t idlen;
    unsigned char id[HO_IDMAP_MAX_KEY];
};

typedef struct {
    char name[S_SERVICE_MAX + 1];
    size_t len;
    ho_req_list_t queue;
    s_worker_t *ready_head, *ready_tail; /* workers with credit left, round robin */
    size_t n_workers;
    size_t in_flight;
    /* plain MDP clients' requests waiting for room in queue (E12): per client, taken in turn
     * so one client's burst does not hold up the others */
    size_t parked;
    ho_idmap_t *pclients; /* identity -> s_pclient_t */
    s_pclient_t *ring_head, *ring_tail;
    uint64_t requests, replies, routed_in, dead_letters;
} s_service_t;

struct s_worker {
    unsigned char id[HO_IDMAP_MAX_KEY];
    size_t idlen;
    char label[2 * 12 + 1]; /* hex of the identity, for logs and mmi.status */
    s_service_t *service;
    int credit;
    int in_flight;
    ho_req_list_t inflight;
    bool ready;
    s_worker_t *rprev, *rnext; /* in service->ready_* */
    s_worker_t *prev, *next;   /* in broker->wfirst/wlast */
    int64_t last_seen, expiry;
    uint64_t handled;
};

/* One rate limiter of log lines: at most one line per S_LOG_EVERY_MS. */
typedef struct {
    int64_t last;
    uint64_t suppressed;
} s_limit_t;

struct ho_broker {
    const ho_gateway_t *gw;
    zsock_t *router;
    void *sock;
    zactor_t *auth;
    zcert_t *cert;
    zhashx_t *services; /* name -> s_service_t (owned) */
    zhashx_t *routes;   /* type -> s_service_t (borrowed from services) */
    ho_idmap_t *workers;
    s_worker_t *wfirst, *wlast;
    ho_reqpool_t *pool;
    ho_journal_t *journal; /* NULL: routed requests live in memory only */
    ho_req_list_t acks;    /* client replies held until the journal batch is on disk */
    uint64_t recovered;    /* requests loaded from the journal at start */
    int64_t batch_opened;  /* when the open journal batch was first seen; 0: none */
    int64_t last_commit;   /* when the journal was last written (or a rewrite failed) */
    bool maintained;       /* ho_journal_idle ran since the last write */
    bool resync;           /* a batch was rolled back: rewrite the journal from memory */
    int hb_ms, liveness, max_queue, max_attempts, request_timeout_ms;
    int64_t max_queue_bytes; /* E12: bytes of requests held at most */
    int64_t held_bytes;      /* bytes of every request held now (queued, parked, in flight) */
    int64_t now, started, next_hb;
    char **endpoints;
    size_t n_endpoints;
    atomic_int stop;
    ho_broker_counters_t c;
    s_limit_t proto_log;  /* protocol errors */
    /* refusals, drops and backpressure, each its own kind: a flood of one must neither flood
     * the log nor hide the first line of another */
    s_limit_t refuse_log, drop_log, park_log;
    zmq_msg_t in[S_MAX_FRAMES];
    zmq_msg_t scratch;
};

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

static void s_hex(const void *data, size_t len, char *out, size_t cap)
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

static bool s_is(zmq_msg_t *m, const char *lit, size_t len)
{
    return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), lit, len) == 0;
}

/* Protocol errors and similar peer faults: counted always, logged at most once a second so a
 * flood of garbage cannot flood the log too. */
static void s_limited_log(ho_broker_t *self, s_limit_t *lim, const zmq_msg_t *peer,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void s_limited_log(ho_broker_t *self, s_limit_t *lim, const zmq_msg_t *peer,
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
        s_hex(zmq_msg_data((zmq_msg_t *)peer), zmq_msg_size((zmq_msg_t *)peer), hex, sizeof hex);
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

#define s_limited_warn(self, peer, ...)                                                        \
    s_limited_log((self), &(self)->proto_log, (peer), __VA_ARGS__)
#define s_refusal_warn(self, peer, ...)                                                        \
    s_limited_log((self), &(self)->refuse_log, (peer), __VA_ARGS__)
#define s_drop_warn(self, peer, ...) s_limited_log((self), &(self)->drop_log, (peer), __VA_ARGS__)
#define s_park_warn(self, peer, ...) s_limited_log((self), &(self)->park_log, (peer), __VA_ARGS__)

/* What a request counts against broker.max_queue_bytes: its frames and its bookkeeping. */
static size_t s_req_bytes(ho_req_t *req)
{
    size_t n = sizeof *req + req->nframes * sizeof(zmq_msg_t);
    for (size_t i = 0; i < req->nframes; i++) {
        n += zmq_msg_size(&req->frames[i]);
    }
    return n;
}

static void s_req_hold(ho_broker_t *self, ho_req_t *req)
{
    req->bytes = s_req_bytes(req);
    self->held_bytes += (int64_t)req->bytes;
}

/* Every request the broker is done with goes back through here (byte accounting, E12). */
static void s_req_free(ho_broker_t *self, ho_req_t *req)
{
    self->held_bytes -= (int64_t)req->bytes;
    ho_reqpool_free(self->pool, req);
}

#define s_proto_error(self, peer, ...)                                                         \
    do {                                                                                       \
        (self)->c.protocol_errors++;                                                           \
        s_limited_warn((self), (peer), "protocol error: " __VA_ARGS__);                        \
    } while (0)

static inline int s_send(ho_broker_t *self, const void *data, size_t len, bool more)
{
    return zmq_send(self->sock, data, len, more ? ZMQ_SNDMORE : 0);
}

static void s_send_command(ho_broker_t *self, const void *id, size_t idlen, unsigned char cmd)
{
    s_send(self, id, idlen, true);
    s_send(self, "", 0, true);
    s_send(self, S_MDPW, 6, true);
    s_send(self, &cmd, 1, false);
}

/* Send a reply to a client: consumes client (an identity) and the body frames. */
static void s_send_client(ho_broker_t *self, zmq_msg_t *client, const char *service, size_t slen,
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

static void s_send_client_bytes(ho_broker_t *self, zmq_msg_t *client, const char *service,
                                size_t slen, const void *body, size_t blen)
{
    zmq_msg_t frame;
    if (zmq_msg_init_size(&frame, blen) != 0) {
        return;
    }
    memcpy(zmq_msg_data(&frame), body, blen);
    s_send_client(self, client, service, slen, &frame, 1);
    zmq_msg_close(&frame);
}

/* Encode an envelope made by the broker itself (error, status, dead.letter). Steals payload. */
static int s_envelope(const char *type, json_t *payload, char **buf, size_t *len)
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
    json_t *payload = json_pack("{s:i, s:s, s:s}", "code", code, "message", message, "service",
                                name);
    return s_envelope("error", payload, buf, len);
}

/* Answer a client with one "error" envelope (E5, E6). Consumes client. */
static void s_send_error(ho_broker_t *self, zmq_msg_t *client, const char *service, size_t slen,
                         int code, const char *message)
{
    char *buf = NULL;
    size_t len = 0;
    if (s_error_envelope(service, slen, code, message, &buf, &len) == HO_OK) {
        s_send_client_bytes(self, client, service, slen, buf, len);
    }
    free(buf);
}

/* ------------------------------------------------------------------------------------ */
/* services and workers */

static void s_service_free(void **item)
{
    s_service_t *svc = *item;
    while (svc->ring_head) {
        s_pclient_t *pc = svc->ring_head;
        svc->ring_head = pc->next;
        free(pc); /* its requests belong to the pool */
    }
    ho_idmap_destroy(&svc->pclients);
    free(svc);
    *item = NULL;
}

static void s_ring_push(s_service_t *svc, s_pclient_t *pc)
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
static int s_park(s_service_t *svc, ho_req_t *req)
{
    const void *id = zmq_msg_data(&req->client);
    size_t len = zmq_msg_size(&req->client);
    if (!svc->pclients && !(svc->pclients = ho_idmap_new())) {
        return -1;
    }
    s_pclient_t *pc = ho_idmap_get(svc->pclients, id, len);
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
static ho_req_t *s_unpark(s_service_t *svc)
{
    s_pclient_t *pc = svc->ring_head;
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

static s_service_t *s_service_require(ho_broker_t *self, const void *name, size_t len)
{
    char key[S_SERVICE_MAX + 1];
    if (len > S_SERVICE_MAX) {
        return NULL;
    }
    memcpy(key, name, len);
    key[len] = '\0';
    s_service_t *svc = zhashx_lookup(self->services, key);
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

static void s_ready_push(s_service_t *svc, s_worker_t *w)
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

static void s_ready_remove(s_service_t *svc, s_worker_t *w)
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

static void s_deliver(ho_broker_t *self, s_worker_t *w, ho_req_t *req)
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
static void s_dispatch(ho_broker_t *self, s_service_t *svc)
{
    for (;;) {
        while (svc->queue.head && svc->ready_head) {
            s_worker_t *w = svc->ready_head;
            s_deliver(self, w, ho_req_list_pop_front(&svc->queue));
            s_ready_remove(svc, w);
            if (w->in_flight < w->credit) {
                s_ready_push(svc, w);
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
 * until the batch is committed (s_flush, E11); a reply that caused nothing (journaled 0)
 * goes at once. Consumes client and moves the frames. */
static void s_ack(ho_broker_t *self, zmq_msg_t *client, s_service_t *svc, zmq_msg_t *frames,
                  size_t n, bool journaled)
{
    if (!self->journal || !journaled) {
        s_send_client(self, client, svc->name, svc->len, frames, n);
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
    s_req_hold(self, ack);
    ho_req_list_push_back(&self->acks, ack);
}

/* s_ack for an "error" envelope made by the broker (E6). */
static void s_ack_error(ho_broker_t *self, zmq_msg_t *client, s_service_t *svc, int code,
                        const char *message)
{
    char *buf = NULL;
    size_t len = 0;
    zmq_msg_t frame;
    if (s_error_envelope(svc->name, svc->len, code, message, &buf, &len) == HO_OK &&
        zmq_msg_init_size(&frame, len) == 0) {
        memcpy(zmq_msg_data(&frame), buf, len);
        s_ack(self, client, svc, &frame, 1, true);
        zmq_msg_close(&frame);
    }
    free(buf);
}

/* Make the journal batch durable, then send the replies that waited for it. When the commit
 * fails nothing of the batch is durable: the replies are dropped so the clients resend (their
 * effects are idempotent), and internal requests whose removal was rolled back stay in the
 * file to be delivered again after a restart.
 *
 * A batch without a client waiting (only internal requests answered and routed) acknowledges
 * nothing, so it may stay open for up to S_JOURNAL_MAX_MS and share its fsync with what
 * follows: a crash before its commit rolls it back to the parents, which are delivered again.
 * force: commit whatever is open (the broker stops). */
static void s_flush(ho_broker_t *self, bool force)
{
    if (!self->journal) {
        return;
    }
    bool durable = true;
    if (ho_journal_dirty(self->journal)) {
        if (!self->batch_opened) {
            self->batch_opened = self->now ? self->now : 1;
        }
        if (!force && self->acks.count == 0 && self->now - self->batch_opened < S_JOURNAL_MAX_MS) {
            return;
        }
        self->batch_opened = 0;
        ho_err_t err = {0};
        self->last_commit = self->now;
        self->maintained = false;
        if (ho_journal_commit(self->journal, &err) != HO_OK) {
            durable = false;
            self->resync = true;
            ho_error("%s; %zu client replies withheld (the clients resend)", err.message,
                     self->acks.count);
        }
    }
    ho_req_t *ack;
    while ((ack = ho_req_list_pop_front(&self->acks))) {
        if (durable) {
            s_service_t *svc = ack->service;
            s_send_client(self, &ack->client, svc->name, svc->len, ack->frames, ack->nframes);
        }
        s_req_free(self, ack);
    }
}

/* Put one internal request back into the journal under its id (s_resync). */
static void s_journal_put(ho_broker_t *self, ho_req_t *req)
{
    if (req->has_client || !req->jid || req->nframes > S_MAX_FRAMES) {
        return;
    }
    const void *data[S_MAX_FRAMES];
    size_t lens[S_MAX_FRAMES];
    for (size_t i = 0; i < req->nframes; i++) {
        data[i] = zmq_msg_data(&req->frames[i]);
        lens[i] = zmq_msg_size(&req->frames[i]);
    }
    s_service_t *svc = req->service;
    ho_journal_put(self->journal, req->jid, svc->name, req->attempts, data, lens, req->nframes);
}

/* After a rolled-back batch the file and memory disagree: rows whose removal was undone
 * (answered requests that would be delivered again only after a restart, "pending forever"
 * until then) and routed requests that exist only in memory. Memory is the truth: the file
 * is rewritten from the internal requests queued and in flight, in one batch. */
static void s_resync(ho_broker_t *self)
{
    ho_journal_clear(self->journal);
    for (s_service_t *svc = zhashx_first(self->services); svc; svc = zhashx_next(self->services)) {
        for (ho_req_t *r = svc->queue.head; r; r = r->next) {
            s_journal_put(self, r);
        }
    }
    for (s_worker_t *w = self->wfirst; w; w = w->next) {
        for (ho_req_t *r = w->inflight.head; r; r = r->next) {
            s_journal_put(self, r);
        }
    }
    ho_err_t err = {0};
    if (ho_journal_commit(self->journal, &err) != HO_OK) {
        ho_error("%s; the journal is rewritten again in %d ms", err.message, S_JOURNAL_IDLE_MS);
        return;
    }
    self->resync = false;
    ho_journal_stats_t js;
    ho_journal_stats(self->journal, &js);
    ho_info("journal resynced from memory after a rolled-back batch pending=%llu",
            (unsigned long long)js.pending);
}

/* When nothing has been written for S_JOURNAL_IDLE_MS: rewrite it if a batch was rolled
 * back, then shrink the file and its WAL (issue 14 item 9: an empty journal stayed at the
 * size of its largest backlog). Once per quiet period. */
static void s_journal_idle(ho_broker_t *self)
{
    if (!self->journal || self->maintained || ho_journal_dirty(self->journal) ||
        self->acks.count || self->now - self->last_commit < S_JOURNAL_IDLE_MS) {
        return;
    }
    if (self->resync) {
        s_resync(self);
        if (self->resync) {
            self->last_commit = self->now; /* try again after another quiet period */
            return;
        }
    }
    ho_err_t err = {0};
    if (ho_journal_idle(self->journal, &err) != HO_OK) {
        ho_warn("%s (the journal stays larger than it needs to be; nothing is lost)",
                err.message);
    }
    self->maintained = true;
}

static void s_enqueue_internal(ho_broker_t *self, s_service_t *target, zmq_msg_t *frame,
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
    s_req_hold(self, req); /* counted, never refused: it is a worker's output (E12) */
    if (self->journal) {
        /* a failure marks the batch; s_flush then withholds its acknowledgements */
        const void *data = zmq_msg_data(&req->frames[0]);
        size_t len = zmq_msg_size(&req->frames[0]);
        ho_journal_add(self->journal, target->name, 0, &data, &len, 1, &req->jid);
    }
    target->routed_in++;
    self->c.routed++;
    ho_req_list_push_back(&target->queue, req);
    s_dispatch(self, target);
}

/* E2/E3: every body frame whose type is in the routing table becomes a new internal request
 * to the routed service. Returns the number of frames routed. */
static size_t s_route_frames(ho_broker_t *self, zmq_msg_t *frames, size_t n, bool move)
{
    size_t routed = 0;
    char type[HO_MSG_MAX_TYPE];
    for (size_t i = 0; i < n; i++) {
        if (ho_msg_peek_type(zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]), type,
                             sizeof type) != HO_OK) {
            continue;
        }
        s_service_t *target = zhashx_lookup(self->routes, type);
        if (target) {
            s_enqueue_internal(self, target, &frames[i], move);
            routed++;
        }
    }
    return routed;
}

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
        bool batch = len > 0 && ((data[0] >= 0x90 && data[0] <= 0x9f) || data[0] == 0xdc ||
                                 data[0] == 0xdd);
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
static void s_dead_letter(ho_broker_t *self, ho_req_t *req, const char *reason)
{
    s_service_t *svc = req->service;
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
    s_service_t *target = zhashx_lookup(self->routes, "dead.letter");
    int rc = s_envelope("dead.letter", payload, &buf, &len);
    if (rc == HO_OK && target && !loop) {
        zmq_msg_t frame;
        if (zmq_msg_init_size(&frame, len) == 0) {
            memcpy(zmq_msg_data(&frame), buf, len);
            s_enqueue_internal(self, target, &frame, true);
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
        snprintf(message, sizeof message, "gave up after %u deliveries: %s", req->attempts,
                 reason);
        s_ack_error(self, &req->client, svc, 500, message);
    }
    s_req_free(self, req);
}

/* ------------------------------------------------------------------------------------ */

static void s_worker_delete(ho_broker_t *self, s_worker_t *w, bool send_disconnect,
                            const char *reason)
{
    if (send_disconnect) {
        s_send_command(self, w->id, w->idlen, S_DISCONNECT);
    }
    s_service_t *svc = w->service;
    size_t requeued = w->inflight.count;
    /* from the tail, so the requeued requests keep their order at the front of the queue */
    while (w->inflight.tail) {
        ho_req_t *req = w->inflight.tail;
        ho_req_list_remove(&w->inflight, req);
        svc->in_flight--;
        req->worker = NULL;
        req->token = 0; /* a late reply for this delivery is now stale */
        if ((int)req->attempts >= self->max_attempts) {
            s_dead_letter(self, req, reason);
        } else {
            ho_req_list_push_front(&svc->queue, req);
            self->c.requeued++;
            if (req->jid) {
                ho_journal_set_attempts(self->journal, req->jid, req->attempts);
            }
        }
    }
    s_ready_remove(svc, w);
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
    ho_info("worker gone service=%s id=%s reason=\"%s\" requeued=%zu", svc->name, w->label,
            reason, requeued);
    free(w);
    s_dispatch(self, svc);
}

static void s_worker_ready(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *id = &f[0];
    if (n < 5 || n > 6) {
        s_proto_error(self, id, "READY needs a service frame and at most a credit frame");
        s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        return;
    }
    const char *name = zmq_msg_data(&f[4]);
    size_t len = zmq_msg_size(&f[4]);
    if (!ho_broker_valid_service(name, len) || (len >= 4 && memcmp(name, "mmi.", 4) == 0)) {
        s_proto_error(self, id, "READY with an invalid or reserved service name");
        s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
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
            s_proto_error(self, id, "READY credit must be ASCII decimal 1..%d", S_MAX_CREDIT);
            s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
            return;
        }
        credit = (int)v;
    }
    s_service_t *svc = s_service_require(self, name, len);
    s_worker_t *w = svc ? calloc(1, sizeof *w) : NULL;
    if (!w || ho_idmap_put(self->workers, zmq_msg_data(id), zmq_msg_size(id), w) != 0) {
        free(w);
        ho_error("cannot register a worker (too many services or out of memory)");
        s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        return;
    }
    w->idlen = zmq_msg_size(id);
    memcpy(w->id, zmq_msg_data(id), w->idlen);
    s_hex(w->id, w->idlen, w->label, sizeof w->label);
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
    s_ready_push(svc, w);
    ho_info("worker ready service=%s id=%s credit=%d", svc->name, w->label, credit);
    s_dispatch(self, svc);
}

static void s_worker_reply(ho_broker_t *self, s_worker_t *w, zmq_msg_t *f, size_t n)
{
    if (n < 6 || zmq_msg_size(&f[5]) != 0 ||
        (zmq_msg_size(&f[4]) != 0 && zmq_msg_size(&f[4]) != 8)) {
        s_proto_error(self, &f[0], "REPLY needs [token (0 or 8 bytes)][empty][body...]");
        s_worker_delete(self, w, true, "protocol error");
        return;
    }
    zmq_msg_t *body = &f[6];
    size_t nbody = n - 6;
    if (zmq_msg_size(&f[4]) == 0) {
        /* E3: unsolicited output, routed by type only */
        if (s_route_frames(self, body, nbody, true) < nbody) {
            s_limited_warn(self, &f[0], "unsolicited REPLY frame(s) with no route dropped "
                                        "service=%s", w->service->name);
        }
        return;
    }
    ho_req_t *req = ho_reqpool_find(self->pool, ho_token_get(zmq_msg_data(&f[4])));
    if (!req || req->worker != w) {
        /* a late duplicate: the request was requeued (and maybe answered) already */
        self->c.stale_replies++;
        return;
    }
    s_service_t *svc = w->service;
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
        size_t routed = s_route_frames(self, body, nbody, false);
        s_ack(self, &req->client, svc, body, nbody, routed > 0);
    } else {
        s_route_frames(self, body, nbody, true);
    }
    s_req_free(self, req);
    if (!w->ready && w->in_flight < w->credit) {
        s_ready_push(svc, w);
    }
    s_dispatch(self, svc);
}

static void s_worker_msg(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *id = &f[0];
    s_worker_t *w = ho_idmap_get(self->workers, zmq_msg_data(id), zmq_msg_size(id));
    unsigned char cmd = n >= 4 && zmq_msg_size(&f[3]) == 1 ? *(unsigned char *)zmq_msg_data(&f[3])
                                                            : 0;
    if (cmd < S_READY || cmd > S_DISCONNECT || cmd == S_REQUEST) {
        s_proto_error(self, id, "bad or missing worker command");
        if (w) {
            s_worker_delete(self, w, true, "protocol error");
        } else {
            s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        }
        return;
    }
    if (cmd == S_READY) {
        if (w) {
            s_proto_error(self, id, "READY from a worker that is already registered");
            s_worker_delete(self, w, true, "protocol error: second READY");
        } else {
            s_worker_ready(self, f, n);
        }
        return;
    }
    if (!w) {
        /* e.g. a worker we expired, or one left over from before a broker restart: tell it
         * to reconnect and register again */
        if (cmd != S_DISCONNECT) {
            s_send_command(self, zmq_msg_data(id), zmq_msg_size(id), S_DISCONNECT);
        }
        return;
    }
    w->last_seen = self->now;
    w->expiry = self->now + (int64_t)self->hb_ms * self->liveness;
    if (cmd == S_REPLY) {
        s_worker_reply(self, w, f, n);
    } else if (cmd == S_DISCONNECT) {
        s_worker_delete(self, w, false, "worker disconnected");
    } else if (n != 4) {
        s_proto_error(self, id, "HEARTBEAT with extra frames");
        s_worker_delete(self, w, true, "protocol error");
    }
}

/* ------------------------------------------------------------------------------------ */
/* MMI (E7) */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static json_t *s_status(ho_broker_t *self)
{
    json_t *services = json_array();
    zlistx_t *names = zhashx_keys(self->services);
    if (names) {
        zlistx_set_comparator(names, s_cmp_str);
        zlistx_sort(names);
        for (const char *name = zlistx_first(names); name; name = zlistx_next(names)) {
            s_service_t *s = zhashx_lookup(self->services, name);
            json_array_append_new(
                services,
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", s->name,
                          "workers", (json_int_t)s->n_workers, "queued",
                          (json_int_t)s->queue.count,
                          "in_flight", (json_int_t)s->in_flight, "requests",
                          (json_int_t)s->requests, "replies", (json_int_t)s->replies,
                          "routed_in", (json_int_t)s->routed_in, "dead_letters",
                          (json_int_t)s->dead_letters, "parked", (json_int_t)s->parked));
        }
        zlistx_destroy(&names);
    }
    json_t *workers = json_array();
    for (s_worker_t *w = self->wfirst; w; w = w->next) {
        json_array_append_new(workers,
                              json_pack("{s:s, s:s, s:i, s:i, s:I, s:I}", "id", w->label,
                                        "service", w->service->name, "credit", w->credit,
                                        "in_flight", w->in_flight, "handled",
                                        (json_int_t)w->handled, "last_seen_ms",
                                        (json_int_t)(self->now - w->last_seen)));
    }
    json_t *routes = json_object();
    for (size_t i = 0; i < ho_gateway_route_count(self->gw); i++) {
        const char *service = NULL;
        const char *type = ho_gateway_route_at(self->gw, i, &service);
        json_object_set_new(routes, type, json_string(service));
    }
    json_t *endpoints = json_array();
    for (size_t i = 0; i < self->n_endpoints; i++) {
        json_array_append_new(endpoints, json_string(self->endpoints[i]));
    }
    const ho_broker_counters_t *c = &self->c;
    json_t *counters = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "requests",
        (json_int_t)c->requests,
        "replies", (json_int_t)c->replies, "routed", (json_int_t)c->routed, "dead_letters",
        (json_int_t)c->dead_letters, "protocol_errors", (json_int_t)c->protocol_errors,
        "refused", (json_int_t)c->refused, "requeued", (json_int_t)c->requeued,
        "stale_replies", (json_int_t)c->stale_replies, "parked", (json_int_t)c->parked,
        "dropped", (json_int_t)c->dropped, "timeouts", (json_int_t)c->timeouts);
    json_t *st = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:i}", "uptime_ms",
                           (json_int_t)(self->now - self->started), "endpoint",
                           self->n_endpoints ? self->endpoints[0] : "", "endpoints", endpoints,
                           "services", services, "workers", workers, "routes", routes, "counters",
                           counters, "heartbeat_ms", self->hb_ms, "liveness", self->liveness);
    if (st) {
        json_object_set_new(st, "held_bytes", json_integer((json_int_t)self->held_bytes));
        json_object_set_new(st, "max_queue_bytes",
                            json_integer((json_int_t)self->max_queue_bytes));
    }
    /* E11: scalars, so `handoff status` prints them on its broker line */
    if (st && self->journal) {
        ho_journal_stats_t js;
        ho_journal_stats(self->journal, &js);
        json_object_set_new(st, "journal", json_string(ho_journal_path(self->journal)));
        json_object_set_new(st, "journal_pending", json_integer((json_int_t)js.pending));
        json_object_set_new(st, "journal_bytes", json_integer((json_int_t)js.bytes));
        json_object_set_new(st, "journal_commits", json_integer((json_int_t)js.commits));
        json_object_set_new(st, "journal_failures", json_integer((json_int_t)js.failures));
        json_object_set_new(st, "journal_shrinks", json_integer((json_int_t)js.shrinks));
        /* a rolled-back batch not yet rewritten from memory (s_resync) */
        json_object_set_new(st, "journal_resync", json_boolean(self->resync));
        json_object_set_new(st, "journal_recovered", json_integer((json_int_t)self->recovered));
        /* a batch of internal work not yet committed (at most S_JOURNAL_MAX_MS old) */
        json_object_set_new(st, "journal_open", json_boolean(ho_journal_dirty(self->journal)));
    } else if (st) {
        json_object_set_new(st, "journal", json_string("off"));
    }
    return st;
}

static void s_mmi(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *svcf = &f[3];
    const char *name = zmq_msg_data(svcf);
    size_t len = zmq_msg_size(svcf);
    if (s_is(svcf, "mmi.service", 11)) {
        char key[S_SERVICE_MAX + 1] = "";
        size_t klen = zmq_msg_size(&f[4]);
        s_service_t *s = NULL;
        if (ho_broker_valid_service(zmq_msg_data(&f[4]), klen)) {
            memcpy(key, zmq_msg_data(&f[4]), klen);
            key[klen] = '\0';
            s = zhashx_lookup(self->services, key);
        }
        const char *code = s && s->n_workers > 0 ? "200" : "404";
        s_send_client_bytes(self, &f[0], name, len, code, 3);
    } else if (s_is(svcf, "mmi.status", 10)) {
        char *buf = NULL;
        size_t blen = 0;
        if (s_envelope("status", s_status(self), &buf, &blen) == HO_OK) {
            s_send_client_bytes(self, &f[0], name, len, buf, blen);
        }
        free(buf);
    } else {
        s_send_client_bytes(self, &f[0], name, len, "501", 3);
    }
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
        s_refusal_warn(self, &f[0], "refused service=%.*s code=%d: %s", (int)len, name, code,
                       message);
        s_send_error(self, &f[0], name, len, code, message);
    } else {
        self->c.dropped++;
        s_drop_warn(self, &f[0],
                       "dropped a plain MDP client's request service=%.*s (no error reply: it "
                       "would look like the worker's; the client times out and resends): %s",
                       (int)len, name, message);
    }
}

/* E5/E12: admit, park or refuse a client request of `bytes`. */
static void s_client_admit(ho_broker_t *self, zmq_msg_t *f, size_t n, s_service_t *svc,
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
                 "request of %zu bytes is larger than broker.max_queue_bytes=%lld; split it",
                 bytes, (long long)self->max_queue_bytes);
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
    s_req_hold(self, req);
    svc->requests++;
    self->c.requests++;
    /* a plain MDP client: its request is not taken into the queue until the queue has room;
     * behind its own earlier parked requests, so its order holds (when the queue has room
     * nothing is parked: s_dispatch refills it first) */
    if ((count_full || svc->parked) && s_park(svc, req) == 0) {
        self->c.parked++;
        s_park_warn(self, &req->client,
                       "backpressure service=%s queued=%zu parked=%zu: a plain MDP client's "
                       "request waits until the queue has room",
                       svc->name, svc->queue.count, svc->parked);
        return;
    }
    ho_req_list_push_back(&svc->queue, req);
    s_dispatch(self, svc);
}

static void s_client_msg(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    if (n < 5) {
        s_proto_error(self, &f[0], "client request needs a service frame and a body");
        return;
    }
    const char *name = zmq_msg_data(&f[3]);
    size_t len = zmq_msg_size(&f[3]);
    if (!ho_broker_valid_service(name, len)) {
        s_proto_error(self, &f[0], "client request for an invalid service name");
        s_send_error(self, &f[0], name, len > S_SERVICE_MAX ? S_SERVICE_MAX : len, 400,
                     "invalid service name (1-64 bytes of a-z 0-9 . _ -)");
        return;
    }
    if (len >= 4 && memcmp(name, "mmi.", 4) == 0) {
        s_mmi(self, f, n);
        return;
    }
    size_t bytes = sizeof(ho_req_t) + (n - 4) * sizeof(zmq_msg_t);
    for (size_t i = 4; i < n; i++) {
        bytes += zmq_msg_size(&f[i]);
    }
    s_client_admit(self, f, n, s_service_require(self, name, len), bytes);
}

static void s_handle(ho_broker_t *self, size_t n)
{
    zmq_msg_t *f = self->in;
    if (n < 3 || zmq_msg_size(&f[1]) != 0) {
        s_proto_error(self, &f[0], "message without an empty delimiter and a protocol header");
        return;
    }
    if (s_is(&f[2], S_MDPW, 6)) {
        s_worker_msg(self, f, n);
    } else if (s_is(&f[2], S_MDPC, 6)) {
        s_client_msg(self, f, n);
    } else {
        s_proto_error(self, &f[0], "unknown protocol header (want MDPC01 or MDPW01)");
    }
}

/* A message over S_MAX_FRAMES from a registered worker (say an echo of a 508-frame request,
 * plus its header) is a broken REPLY: the worker is disconnected and what it held requeued,
 * then dead-lettered after max_attempts (section 4.3). Dropping only the reply left the
 * request in flight forever and the worker's credit used up. */
static void s_overflow(ho_broker_t *self)
{
    zmq_msg_t *f = self->in;
    if (zmq_msg_size(&f[1]) != 0 || !s_is(&f[2], S_MDPW, 6)) {
        return;
    }
    s_worker_t *w = ho_idmap_get(self->workers, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
    if (w) {
        s_worker_delete(self, w, true, "protocol error: message longer than 512 frames");
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
        s_proto_error(self, &self->in[0], "message longer than %d frames", S_MAX_FRAMES);
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
    s_worker_t *w = self->wfirst;
    while (w) {
        s_worker_t *next = w->next;
        if (self->now >= w->expiry) {
            s_worker_delete(self, w, true, "heartbeat expired");
        } else if (w->inflight.head &&
                   self->now - w->inflight.head->delivered_at >= self->request_timeout_ms) {
            /* alive but not answering: the reply may have been lost or refused; another
             * worker (or this one, registered again) gets the request */
            self->c.timeouts++;
            s_worker_delete(self, w, true, "request timed out (broker.request_timeout_ms)");
        } else {
            s_send_command(self, w->id, w->idlen, S_HEARTBEAT);
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

/* One journaled request back into its service queue, in journal order (E11). */
static int s_journal_row(void *arg, const ho_journal_row_t *row)
{
    ho_broker_t *self = arg;
    size_t len = strlen(row->service);
    if (!ho_broker_valid_service(row->service, len) || strncmp(row->service, "mmi.", 4) == 0) {
        return HO_ERR_FIELD;
    }
    s_service_t *svc = s_service_require(self, row->service, len);
    ho_req_t *req = svc ? ho_reqpool_alloc(self->pool, row->nframes) : NULL;
    if (!req) {
        return HO_ERR_NOMEM;
    }
    for (size_t i = 0; i < row->nframes; i++) {
        if (zmq_msg_init_size(&req->frames[i], row->lens[i]) != 0) {
            ho_reqpool_free(self->pool, req);
            return HO_ERR_NOMEM;
        }
        if (row->lens[i]) {
            memcpy(zmq_msg_data(&req->frames[i]), row->frames[i], row->lens[i]);
        }
    }
    req->service = svc;
    req->attempts = row->attempts;
    req->jid = row->id;
    s_req_hold(self, req);
    ho_req_list_push_back(&svc->queue, req);
    self->recovered++;
    return HO_OK;
}

/* Open broker.journal under the data dir (unless it is off) and queue what it holds. */
static int s_journal_open(ho_broker_t *self, ho_err_t *err)
{
    const char *rel = ho_gateway_journal(self->gw);
    if (!rel || !rel[0]) {
        return HO_OK;
    }
    char path[4096];
    const char *dir = ho_gateway_data_dir(self->gw);
    int n = rel[0] == '/' || !dir || !dir[0] ? snprintf(path, sizeof path, "%s", rel)
                                             : snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.journal", "broker.journal: path too long");
    }
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = '\0';
        int rc = zsys_dir_create("%s", path);
        int mode = zsys_file_mode(path);
        if (rc != 0 || mode == -1 || !S_ISDIR((mode_t)mode)) {
            ho_err_set(err, HO_ERR_IO, "broker.journal",
                       "broker journal: cannot create the folder '%s'", path);
            return HO_ERR_IO;
        }
        *slash = '/';
    }
    self->journal = ho_journal_open(path, err);
    if (!self->journal) {
        return err ? err->code : HO_ERR_IO;
    }
    ho_err_t lerr = {0};
    int rc = ho_journal_load(self->journal, s_journal_row, self, &lerr);
    if (rc != HO_OK) {
        if (lerr.message[0]) {
            if (err) {
                *err = lerr;
            }
        } else {
            ho_err_set(err, rc, "broker.journal",
                       "broker journal %s: a pending request names an invalid service, or out "
                       "of memory while loading",
                       path);
        }
        return rc;
    }
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
        s_service_t *svc = s_service_require(self, service, len);
        if (!svc) {
            ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            goto err;
        }
        zhashx_update(self->routes, type, svc);
    }
    if (ho_gateway_curve_enabled(gateway) && s_setup_curve(self, err) != HO_OK) {
        goto err;
    }
    if (s_journal_open(self, err) != HO_OK) {
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
    s_worker_t *w = self->wfirst;
    while (w) {
        s_worker_t *next = w->next;
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
                    s_flush(self, true);
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
        s_flush(self, false);
        self->now = zclock_mono();
        if (self->now >= self->next_hb) {
            s_heartbeat(self);
            s_flush(self, false); /* requeues and dead letters of expired workers */
            self->next_hb = self->now + self->hb_ms;
        }
        s_journal_idle(self);
    }
    s_flush(self, true);
    return HO_OK;
}
