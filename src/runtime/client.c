/* client.c - Majordomo client of the broker; see include/handoff/client.h and
 * proto/handoff-protocol.md section 2.
 *
 * MDP replies carry no request id, so each in-flight request gets a DEALER socket of its own
 * (a window of sockets): the reply that arrives on a socket answers the request it holds. A
 * request that times out is resent on a NEW socket, so a late reply to the first attempt goes
 * to an identity the broker can no longer reach and cannot be mistaken for a later answer.
 *
 * Liveness: a request may legitimately wait long for a slow worker, but the broker itself
 * answers mmi.status at once. While requests wait and nothing has come from the broker for
 * S_PROBE_MS, the client sends mmi.status probes on a socket of their own; when nothing at
 * all has come for HO_CLIENT_LIVENESS_MS, the broker is taken for dead: every pending request
 * fails, and each later send first checks with one probe and fails at once if unanswered.
 * So a caller waiting on a dead broker returns within about HO_CLIENT_LIVENESS_MS. */
#include "handoff/client.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/broker.h"
#include "handoff/gateway.h"
#include "runtime/runtime_int.h"

#define S_MDPC "MDPC01"
#define S_BACKOFF_MIN 50
#define S_BACKOFF_MAX 2000
#define S_PROBE_MS 2000
#ifndef HO_CLIENT_LIVENESS_MS
#define HO_CLIENT_LIVENESS_MS 15000
#endif

typedef struct {
    zsock_t *sock;
    int busy;
    uint64_t tag;
    zmsg_t *request; /* what to (re)send: "", MDPC01, service, body... */
    char service[80];
    int64_t deadline;  /* resend when no reply by then */
    int64_t resend_at; /* >0: refused with 503, resend at that time */
    int attempts;
    int backoff;
    ho_client_reply_fn *cb;
    void *arg;
} s_slot_t;

struct ho_client {
    char *endpoint;
    int window, timeout_ms, retries, max_frame;
    zcert_t *cert;
    char server_key[41];
    s_slot_t *slots;
    uint64_t next_tag;
    size_t pending;
    size_t failed; /* requests given up since the last flush */
    char last_error[256];
    /* liveness (see the file comment) */
    int64_t last_rx;     /* when anything last came from the broker */
    int64_t quiet_since; /* when the current wait began (pending went from 0 to 1) */
    zsock_t *probe;
    int64_t probe_at; /* next probe, while quiet */
    int dead;         /* the broker answered nothing for HO_CLIENT_LIVENESS_MS */
};

void ho_client_opts_curve(ho_client_opts_t *opts, const struct ho_gateway *gw)
{
    if (opts && gw && opts->max_frame_bytes <= 0) {
        opts->max_frame_bytes = ho_gateway_max_frame_bytes(gw); /* E12 */
    }
    if (opts && gw && ho_gateway_curve_enabled(gw)) {
        opts->curve_cert_path = ho_gateway_curve_client_cert(gw);
        opts->curve_server_cert = ho_gateway_curve_server_public(gw);
    }
}

ho_client_t *ho_client_new(const char *endpoint, const ho_client_opts_t *opts, ho_err_t *err)
{
    if (!endpoint || !*endpoint) {
        ho_err_set(err, HO_ERR_CONFIG, "endpoint", "endpoint: no broker endpoint given");
        return NULL;
    }
    ho_client_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->window = opts && opts->window > 0 ? opts->window : 16;
    self->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
    self->retries = opts && opts->retries > 0 ? opts->retries : opts && opts->retries < 0 ? 0 : 5;
    self->max_frame = opts && opts->max_frame_bytes > 0 ? opts->max_frame_bytes
                                                        : (int)HO_MSG_MAX_BODY;
    self->endpoint = strdup(endpoint);
    self->slots = calloc((size_t)self->window, sizeof *self->slots);
    self->next_tag = 1;
    if (!self->endpoint || !self->slots) {
        ho_client_destroy(&self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    const char *key = opts ? opts->curve_server_key : NULL;
    const char *server_cert = opts ? opts->curve_server_cert : NULL;
    const char *mine = opts ? opts->curve_cert_path : NULL;
    if (key || server_cert) {
        if (!mine) {
            ho_client_destroy(&self);
            ho_err_set(err, HO_ERR_CONFIG, "broker.curve.client_cert",
                       "broker.curve.client_cert: CURVE needs this client's secret certificate");
            return NULL;
        }
        self->cert = zcert_load(mine);
        if (!self->cert) {
            ho_client_destroy(&self);
            ho_err_set(err, HO_ERR_CONFIG, "broker.curve.client_cert",
                       "broker.curve.client_cert: cannot load certificate '%s' (make one with "
                       "`handoff keygen NAME --dir DIR`)",
                       mine);
            return NULL;
        }
        if (server_cert && !key) {
            zcert_t *server = zcert_load(server_cert);
            if (!server) {
                ho_client_destroy(&self);
                ho_err_set(err, HO_ERR_CONFIG, "broker.curve.server_public",
                           "broker.curve.server_public: cannot load certificate '%s'", server_cert);
                return NULL;
            }
            snprintf(self->server_key, sizeof self->server_key, "%s", zcert_public_txt(server));
            zcert_destroy(&server);
        } else {
            if (strlen(key) != 40) {
                ho_client_destroy(&self);
                ho_err_set(err, HO_ERR_CONFIG, "curve_server_key",
                           "curve_server_key: expected a 40-character Z85 public key");
                return NULL;
            }
            snprintf(self->server_key, sizeof self->server_key, "%s", key);
        }
    }
    return self;
}

static void s_slot_reset(s_slot_t *slot)
{
    zmsg_destroy(&slot->request);
    slot->busy = 0;
    slot->cb = NULL;
    slot->arg = NULL;
    slot->resend_at = 0;
}

void ho_client_destroy(ho_client_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_client_t *self = *self_p;
    for (int i = 0; self->slots && i < self->window; i++) {
        s_slot_reset(&self->slots[i]);
        zsock_destroy(&self->slots[i].sock);
    }
    free(self->slots);
    zsock_destroy(&self->probe);
    zcert_destroy(&self->cert);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

size_t ho_client_pending(const ho_client_t *self)
{
    return self->pending;
}

static zsock_t *s_connect(ho_client_t *self)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock) {
        return NULL;
    }
    zsock_set_linger(sock, 0);
    zsock_set_rcvtimeo(sock, 0);
    zsock_set_maxmsgsize(sock, self->max_frame);
    /* E12: an identity with the HDP prefix tells the broker this client reads its "error"
     * replies (503 is resent after a back-off), so it is refused rather than held back */
    unsigned char id[16];
    zuuid_t *uuid = zuuid_new();
    memcpy(id, HO_BROKER_CLIENT_PREFIX, 4);
    if (uuid) {
        memcpy(id + 4, zuuid_data(uuid), sizeof id - 4);
        zuuid_destroy(&uuid);
    } else {
        memset(id + 4, 'x', sizeof id - 4);
    }
    zmq_setsockopt(zsock_resolve(sock), ZMQ_ROUTING_ID, id, sizeof id);
    if (self->cert) {
        zcert_apply(self->cert, sock);
        zsock_set_curve_serverkey(sock, self->server_key);
    }
    if (zsock_connect(sock, "%s", self->endpoint) != 0) {
        zsock_destroy(&sock);
    }
    return sock;
}

static int s_open(ho_client_t *self, s_slot_t *slot)
{
    zsock_destroy(&slot->sock);
    slot->sock = s_connect(self);
    return slot->sock ? 0 : -1;
}

/* One mmi.status probe. The socket is kept while the broker is not taken for dead: an answer
 * slower than S_PROBE_MS (a loaded broker) still counts, and ZeroMQ reconnects it to a
 * restarted broker by itself. */
static void s_probe_send(ho_client_t *self)
{
    if (!self->probe) {
        self->probe = s_connect(self);
    }
    if (self->probe) {
        zstr_sendx(self->probe, "", S_MDPC, "mmi.status", "", NULL);
    }
}

/* Drain the probe socket: any answer means the broker is alive. */
static void s_probe_drain(ho_client_t *self)
{
    zmsg_t *zmsg;
    while (self->probe && (zmsg = zmsg_recv_nowait(self->probe)) != NULL) {
        zmsg_destroy(&zmsg);
        self->last_rx = ho_now_ms();
        self->dead = 0;
    }
}

/* After the broker was taken for dead: one probe, answered within S_PROBE_MS or not. */
static int s_alive(ho_client_t *self)
{
    zsock_destroy(&self->probe); /* what the old one still queues is for a dead broker */
    s_probe_send(self);
    int64_t end = ho_now_ms() + S_PROBE_MS;
    while (self->dead && self->probe && !zsys_interrupted && ho_now_ms() < end) {
        zmq_pollitem_t item = {zsock_resolve(self->probe), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) > 0) {
            s_probe_drain(self);
        }
    }
    return !self->dead;
}

static int s_transmit(ho_client_t *self, s_slot_t *slot)
{
    if (!slot->sock && s_open(self, slot) != 0) {
        return -1;
    }
    zmsg_t *copy = zmsg_dup(slot->request);
    if (!copy || zmsg_send(&copy, slot->sock) != 0) {
        zmsg_destroy(&copy);
        return -1;
    }
    slot->deadline = ho_now_ms() + self->timeout_ms;
    slot->resend_at = 0;
    return 0;
}

static void s_fail(ho_client_t *self, s_slot_t *slot, const char *why)
{
    snprintf(self->last_error, sizeof self->last_error,
             "no answer from the broker at %s for service %s: %s", self->endpoint, slot->service,
             why);
    self->failed++;
    self->pending--;
    ho_client_reply_fn *cb = slot->cb;
    void *arg = slot->arg;
    uint64_t tag = slot->tag;
    zsock_destroy(&slot->sock); /* a late reply must not reach the next request */
    s_slot_reset(slot);
    if (cb) {
        cb(arg, tag, NULL, 0);
    }
}

/* The broker's "queue full" answer (E5): one frame, one envelope of type error, code 503. */
static int s_is_refusal(zmsg_t *zmsg)
{
    if (zmsg_size(zmsg) != 1) {
        return 0;
    }
    zframe_t *f = zmsg_first(zmsg);
    char type[HO_MSG_MAX_TYPE];
    if (ho_msg_peek_type(zframe_data(f), zframe_size(f), type, sizeof type) != HO_OK ||
        strcmp(type, "error") != 0) {
        return 0;
    }
    ho_msg_t *msg = NULL;
    int refused = 0;
    if (ho_msg_decode(zframe_data(f), zframe_size(f), &msg, NULL) == HO_OK) {
        json_t *code = json_object_get(ho_msg_payload(msg), "code");
        refused = json_is_integer(code) && json_integer_value(code) == 503;
    }
    ho_msg_destroy(&msg);
    return refused;
}

static void s_on_reply(ho_client_t *self, s_slot_t *slot, zmsg_t *zmsg)
{
    zframe_t *empty = zmsg_pop(zmsg);
    zframe_t *header = zmsg_pop(zmsg);
    zframe_t *service = zmsg_pop(zmsg);
    int ok = empty && zframe_size(empty) == 0 && header && zframe_streq(header, S_MDPC) && service;
    zframe_destroy(&empty);
    zframe_destroy(&header);
    zframe_destroy(&service);
    if (!ok || !slot->busy) {
        return; /* not an MDP reply: ignore, the timeout resends */
    }
    if (s_is_refusal(zmsg)) {
        slot->backoff = slot->backoff ? slot->backoff * 2 : S_BACKOFF_MIN;
        if (slot->backoff > S_BACKOFF_MAX) {
            slot->backoff = S_BACKOFF_MAX;
        }
        slot->resend_at = ho_now_ms() + slot->backoff;
        return;
    }
    ho_msg_t **all = calloc(1, sizeof *all);
    size_t n = 0, cap = 1;
    for (zframe_t *f = zmsg_first(zmsg); f && all; f = zmsg_next(zmsg)) {
        ho_msg_t **msgs = NULL;
        size_t k = 0;
        if (ho_msg_decode_frame(zframe_data(f), zframe_size(f), &msgs, &k, NULL, NULL, NULL) !=
            HO_OK) {
            continue; /* not an envelope (e.g. an MMI "200"): nothing to hand over */
        }
        if (n + k > cap) {
            while (cap < n + k) {
                cap *= 2;
            }
            ho_msg_t **grown = realloc(all, cap * sizeof *grown);
            if (!grown) {
                ho_msg_batch_free(&msgs, k);
                continue;
            }
            all = grown;
        }
        memcpy(all + n, msgs, k * sizeof *msgs);
        n += k;
        free(msgs);
    }
    ho_client_reply_fn *cb = slot->cb;
    void *arg = slot->arg;
    uint64_t tag = slot->tag;
    self->pending--;
    s_slot_reset(slot);
    if (cb && all) {
        cb(arg, tag, all, n);
    } else if (cb) {
        cb(arg, tag, NULL, 0);
    }
    ho_msg_batch_free(&all, n);
}

/* Probe a quiet broker; fail everything pending when it has been silent too long (file
 * comment). Returns 1 when it failed the pending requests. */
static int s_liveness(ho_client_t *self, int64_t now)
{
    if (self->pending == 0) {
        return 0;
    }
    int64_t heard = self->last_rx > self->quiet_since ? self->last_rx : self->quiet_since;
    if (now - heard >= HO_CLIENT_LIVENESS_MS) {
        char why[128];
        snprintf(why, sizeof why, "the broker answered nothing, not even mmi.status, for %d ms",
                 HO_CLIENT_LIVENESS_MS);
        self->dead = 1;
        zsock_destroy(&self->probe);
        for (int i = 0; i < self->window; i++) {
            if (self->slots[i].busy) {
                s_fail(self, &self->slots[i], why);
            }
        }
        return 1;
    }
    if (now - heard >= S_PROBE_MS && now >= self->probe_at) {
        s_probe_send(self);
        self->probe_at = now + S_PROBE_MS;
    }
    return 0;
}

/* Wait up to max_ms for replies and handle timeouts and 503 backoffs. */
static void s_pump(ho_client_t *self, int max_ms)
{
    zmq_pollitem_t items[self->window + 1];
    int map[self->window + 1];
    int n = 0;
    int64_t now = ho_now_ms();
    int64_t wait = max_ms;
    for (int i = 0; i < self->window; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy) {
            continue;
        }
        int64_t due = slot->resend_at ? slot->resend_at : slot->deadline;
        if (due - now < wait) {
            wait = due - now;
        }
        if (slot->sock) {
            items[n] = (zmq_pollitem_t){zsock_resolve(slot->sock), 0, ZMQ_POLLIN, 0};
            map[n++] = i;
        }
    }
    if (wait < 0) {
        wait = 0;
    }
    if (self->probe) {
        items[n] = (zmq_pollitem_t){zsock_resolve(self->probe), 0, ZMQ_POLLIN, 0};
        map[n++] = -1;
    }
    int rc = n ? zmq_poll(items, n, (long)wait) : (zclock_sleep((int)wait), 0);
    for (int k = 0; rc > 0 && k < n; k++) {
        if (map[k] < 0) {
            s_probe_drain(self);
            continue;
        }
        if (!(items[k].revents & ZMQ_POLLIN)) {
            continue;
        }
        s_slot_t *slot = &self->slots[map[k]];
        zmsg_t *zmsg = zmsg_recv(slot->sock);
        if (zmsg) {
            self->last_rx = ho_now_ms();
            s_on_reply(self, slot, zmsg);
            zmsg_destroy(&zmsg);
        }
    }
    now = ho_now_ms();
    if (!zsys_interrupted && s_liveness(self, now)) {
        return;
    }
    for (int i = 0; i < self->window; i++) {
        s_slot_t *slot = &self->slots[i];
        if (!slot->busy) {
            continue;
        }
        if (zsys_interrupted) {
            s_fail(self, slot, "interrupted");
        } else if (slot->resend_at && now >= slot->resend_at) {
            if (s_transmit(self, slot) != 0) {
                s_fail(self, slot, "cannot send");
            }
        } else if (!slot->resend_at && now >= slot->deadline) {
            if (slot->attempts > self->retries) {
                char why[96];
                snprintf(why, sizeof why, "no reply within %d ms, %d attempt(s)", self->timeout_ms,
                         slot->attempts);
                s_fail(self, slot, why);
                continue;
            }
            slot->attempts++;
            zsock_destroy(&slot->sock); /* new identity: the old attempt's reply is lost */
            if (s_transmit(self, slot) != 0) {
                s_fail(self, slot, "cannot send");
            }
        }
    }
}

static uint64_t s_submit(ho_client_t *self, const char *service, zmsg_t **body_p,
                         ho_client_reply_fn *on_reply, void *arg, ho_err_t *err)
{
    s_slot_t *slot = NULL;
    while (!slot) {
        for (int i = 0; i < self->window && !slot; i++) {
            if (!self->slots[i].busy) {
                slot = &self->slots[i];
            }
        }
        if (!slot) {
            if (zsys_interrupted) {
                zmsg_destroy(body_p);
                ho_err_set(err, HO_ERR_IO, "", "interrupted");
                return 0;
            }
            s_pump(self, 100);
        }
    }
    if (self->dead && !s_alive(self)) { /* fail at once, not after another wait */
        zmsg_destroy(body_p);
        ho_err_set(err, HO_ERR_IO, "", "%s", self->last_error);
        return 0;
    }
    zmsg_t *request = *body_p;
    *body_p = NULL;
    zmsg_pushstr(request, service);
    zmsg_pushstr(request, S_MDPC);
    zmsg_pushmem(request, "", 0);
    slot->request = request;
    slot->busy = 1;
    slot->tag = self->next_tag++;
    slot->attempts = 1;
    slot->backoff = 0;
    slot->cb = on_reply;
    slot->arg = arg;
    snprintf(slot->service, sizeof slot->service, "%s", service);
    if (self->pending++ == 0) {
        self->quiet_since = ho_now_ms();
    }
    if (s_transmit(self, slot) != 0) {
        self->pending--;
        s_slot_reset(slot);
        ho_err_set(err, HO_ERR_IO, "", "cannot send to the broker at %s: %s", self->endpoint,
                   zmq_strerror(errno));
        return 0;
    }
    return slot->tag;
}

uint64_t ho_client_send(ho_client_t *self, const char *service, ho_msg_t *const *msgs, size_t n,
                        ho_client_reply_fn *on_reply, void *arg, ho_err_t *err)
{
    if (!service || !*service || strlen(service) > 64) {
        ho_err_set(err, HO_ERR_FIELD, "service", "service: must be 1-64 characters");
        return 0;
    }
    zmsg_t *body = zmsg_new();
    if (!body) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return 0;
    }
    /* One batch frame per type (split only if it would exceed the frame limit); the worker
     * decodes every body frame of a request. */
    int rc = n ? ho_runtime_add_grouped(body, (ho_msg_t **)msgs, n) : HO_OK;
    if (rc != HO_OK) {
        zmsg_destroy(&body);
        ho_err_set(err, rc, "", "cannot encode the request: %s", ho_strerror(rc));
        return 0;
    }
    if (n == 0) {
        zmsg_addmem(body, "", 0);
    }
    return s_submit(self, service, &body, on_reply, arg, err);
}

int ho_client_flush(ho_client_t *self, ho_err_t *err)
{
    while (self->pending > 0) {
        s_pump(self, 100);
    }
    if (self->failed > 0) {
        size_t failed = self->failed;
        self->failed = 0;
        return ho_err_set(err, HO_ERR_IO, "", "%zu request(s) failed; last: %s", failed,
                          self->last_error);
    }
    return HO_OK;
}

typedef struct {
    int done;
    ho_msg_t **msgs;
    size_t n;
} s_sync_t;

static void s_sync_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    s_sync_t *sync = arg;
    sync->done = msgs ? 1 : -1;
    if (!msgs) {
        return;
    }
    sync->msgs = calloc(n ? n : 1, sizeof *sync->msgs);
    for (size_t i = 0; sync->msgs && i < n; i++) {
        sync->msgs[sync->n] = ho_msg_dup(msgs[i]);
        if (sync->msgs[sync->n]) {
            sync->n++;
        }
    }
}

static int s_wait(ho_client_t *self, uint64_t tag, s_sync_t *sync, ho_err_t *err)
{
    if (!tag) {
        return err ? err->code : HO_ERR_IO;
    }
    while (!sync->done) {
        s_pump(self, 100);
    }
    if (sync->done < 0) {
        if (self->failed > 0) {
            self->failed--;
        }
        return ho_err_set(err, HO_ERR_IO, "", "%s", self->last_error);
    }
    return HO_OK;
}

int ho_client_request(ho_client_t *self, const char *service, ho_msg_t *const *msgs, size_t n,
                      ho_msg_t ***reply_p, size_t *n_reply_p, ho_err_t *err)
{
    *reply_p = NULL;
    *n_reply_p = 0;
    s_sync_t sync = {0};
    uint64_t tag = ho_client_send(self, service, msgs, n, s_sync_reply, &sync, err);
    int rc = s_wait(self, tag, &sync, err);
    if (rc == HO_OK) {
        if (!sync.msgs) {
            return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
        *reply_p = sync.msgs;
        *n_reply_p = sync.n;
    }
    return rc;
}

int ho_client_status(ho_client_t *self, json_t **status_p, ho_err_t *err)
{
    *status_p = NULL;
    zmsg_t *body = zmsg_new();
    zmsg_addmem(body, "", 0);
    s_sync_t sync = {0};
    uint64_t tag = s_submit(self, "mmi.status", &body, s_sync_reply, &sync, err);
    int rc = s_wait(self, tag, &sync, err);
    if (rc != HO_OK) {
        return rc;
    }
    for (size_t i = 0; i < sync.n && !*status_p; i++) {
        if (strcmp(ho_msg_type(sync.msgs[i]), "status") == 0) {
            *status_p = json_incref(ho_msg_payload(sync.msgs[i]));
        }
    }
    ho_msg_batch_free(&sync.msgs, sync.n);
    if (!*status_p) {
        return ho_err_set(err, HO_ERR_FIELD, "",
                          "mmi.status: the broker's reply holds no "
                          "status envelope");
    }
    return HO_OK;
}

bool ho_client_status_busy(const json_t *status, json_int_t *progress_p)
{
    bool busy = false;
    size_t i;
    json_t *svc;
    json_array_foreach(json_object_get(status, "services"), i, svc)
    {
        busy = busy || json_integer_value(json_object_get(svc, "queued")) > 0 ||
               json_integer_value(json_object_get(svc, "in_flight")) > 0;
    }
    if (progress_p) {
        const json_t *ctr = json_object_get(status, "counters");
        *progress_p = json_integer_value(json_object_get(ctr, "replies")) +
                      json_integer_value(json_object_get(ctr, "routed"));
    }
    return busy;
}

long ho_client_status_backlog(const json_t *status, char *worst, size_t cap, char *orphan,
                              size_t ocap, long *orphan_queued_p)
{
    long total = 0, most = 0, orphan_most = 0;
    snprintf(worst, cap, "none");
    if (orphan) {
        snprintf(orphan, ocap, "%s", "");
    }
    size_t i;
    json_t *svc;
    json_array_foreach(json_object_get(status, "services"), i, svc)
    {
        const char *name = json_string_value(json_object_get(svc, "name"));
        long queued = (long)json_integer_value(json_object_get(svc, "queued"));
        if (json_integer_value(json_object_get(svc, "workers")) <= 0) {
            if (orphan && queued > orphan_most) {
                orphan_most = queued;
                snprintf(orphan, ocap, "%.60s", name ? name : "?");
            }
            continue;
        }
        total += queued;
        if (queued > most) {
            most = queued;
            snprintf(worst, cap, "%.60s=%ld", name ? name : "?", queued);
        }
    }
    if (orphan_queued_p) {
        *orphan_queued_p = orphan_most;
    }
    return total;
}
