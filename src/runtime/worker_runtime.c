/* worker_runtime.c - the Majordomo worker side of a built-in worker; see
 * include/handoff/runtime.h and proto/handoff-protocol.md sections 3-5. */
#include "handoff/runtime.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/log.h"
#include "runtime/runtime_int.h"
#include "handoff/util.h"

#define S_MDPW "MDPW01"
#define S_READY 0x01
#define S_REQUEST 0x02
#define S_REPLY 0x03
#define S_HEARTBEAT 0x04
#define S_DISCONNECT 0x05
#define S_RETRY_MAX_MS 2000 /* backoff cap while a transient fault (disk full) lasts */
#define S_DRAIN 256         /* messages handled per wake-up before timers are looked at again */

typedef struct {
    const ho_worker_def_t *def;
    const ho_runtime_opts_t *opts;
    const char *service;
    const char *origin;
    void *ctx;
    zsock_t *sock;
    zcert_t *cert;
    char server_key[41];
    int hb_ms, liveness, credit, retries, backoff_ms;
    int64_t heard_at, sent_at, next_tick;
    uint64_t requests, inputs, quarantined, failed, reconnects, retried;
    ho_runtime_stats_t stats; /* handler calls and latencies, for metrics (stats.c) */
} s_rt_t;

/* ---------------------------------------------------------------- helpers */

static int s_stopped(const s_rt_t *rt)
{
    return zsys_interrupted || (rt->opts->stop && *rt->opts->stop);
}

/* At most this many envelopes per frame: the broker makes each frame a request of its own,
 * and the worker that gets it decodes a frame whole before its first heartbeat chance, so a
 * reply of thousands of envelopes leaves as several requests of bounded decode time. */
#define S_FRAME_MAX 500
/* Envelopes per handler call (s_handle_chunked): a reply frame's worth. */
#define S_CHUNK S_FRAME_MAX

/* Encode msgs as batch frames appended to zmsg, halving a group whose frame would exceed
 * what a decoder accepts or S_FRAME_MAX envelopes. */
static int s_add_batch(zmsg_t *zmsg, ho_msg_t *const *msgs, size_t n)
{
    if (n > S_FRAME_MAX) {
        int rc = s_add_batch(zmsg, msgs, S_FRAME_MAX);
        return rc == HO_OK ? s_add_batch(zmsg, msgs + S_FRAME_MAX, n - S_FRAME_MAX) : rc;
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = ho_msg_encode_batch(msgs, n, &buf, &len);
    if (rc != HO_OK) {
        return rc;
    }
    if (len > HO_MSG_MAX_BODY && n > 1) {
        free(buf);
        rc = s_add_batch(zmsg, msgs, n / 2);
        return rc == HO_OK ? s_add_batch(zmsg, msgs + n / 2, n - n / 2) : rc;
    }
    zmsg_addmem(zmsg, buf, len);
    free(buf);
    return HO_OK;
}

int ho_runtime_add_grouped(zmsg_t *zmsg, ho_msg_t **msgs, size_t n)
{
    /* One batch frame per type, in order of first appearance: the broker routes per frame. */
    ho_msg_t **group = malloc((n ? n : 1) * sizeof *group);
    char *done = calloc(n ? n : 1, 1);
    if (!group || !done) {
        free(group);
        free(done);
        return HO_ERR_NOMEM;
    }
    int rc = HO_OK;
    for (size_t i = 0; i < n && rc == HO_OK; i++) {
        if (done[i]) {
            continue;
        }
        size_t k = 0;
        for (size_t j = i; j < n; j++) {
            if (!done[j] && strcmp(ho_msg_type(msgs[j]), ho_msg_type(msgs[i])) == 0) {
                group[k++] = msgs[j];
                done[j] = 1;
            }
        }
        rc = s_add_batch(zmsg, group, k);
    }
    free(group);
    free(done);
    return rc;
}

static void s_send(s_rt_t *rt, zmsg_t **zmsg_p)
{
    if (zmsg_send(zmsg_p, rt->sock) != 0) {
        ho_warn("cannot send to the broker: %s", zmq_strerror(errno));
        zmsg_destroy(zmsg_p);
    }
    rt->sent_at = ho_now_ms();
}

static zmsg_t *s_header(int command)
{
    zmsg_t *zmsg = zmsg_new();
    unsigned char cmd = (unsigned char)command;
    zmsg_addmem(zmsg, "", 0);
    zmsg_addstr(zmsg, S_MDPW);
    zmsg_addmem(zmsg, &cmd, 1);
    return zmsg;
}

static void s_send_command(s_rt_t *rt, int command)
{
    zmsg_t *zmsg = s_header(command);
    s_send(rt, &zmsg);
}

static int s_connect(s_rt_t *rt)
{
    zsock_destroy(&rt->sock);
    rt->sock = zsock_new(ZMQ_DEALER);
    if (!rt->sock) {
        ho_error("cannot create a socket: %s", zmq_strerror(errno));
        return -1;
    }
    zsock_set_linger(rt->sock, 0);
    zsock_set_rcvtimeo(rt->sock, 0);
    zsock_set_maxmsgsize(rt->sock, rt->opts->max_frame_bytes > 0 ? rt->opts->max_frame_bytes
                                                                  : (int)HO_MSG_MAX_BODY);
    if (rt->cert) {
        zcert_apply(rt->cert, rt->sock);
        zsock_set_curve_serverkey(rt->sock, rt->server_key);
    }
    if (zsock_connect(rt->sock, "%s", rt->opts->endpoint) != 0) {
        ho_error("cannot connect to %s: %s", rt->opts->endpoint, zmq_strerror(errno));
        zsock_destroy(&rt->sock); /* a DEALER without a peer would block the DISCONNECT */
        return -1;
    }
    /* A send never blocks longer than the broker's liveness window: past that the broker
     * has declared us dead anyway and we reconnect. */
    zsock_set_sndtimeo(rt->sock, rt->hb_ms * rt->liveness);
    zmsg_t *zmsg = s_header(S_READY);
    zmsg_addstr(zmsg, rt->service);
    zmsg_addstrf(zmsg, "%d", rt->credit);
    s_send(rt, &zmsg);
    rt->heard_at = ho_now_ms();
    return 0;
}

/* ---------------------------------------------------------------- requests */

typedef struct {
    s_rt_t *rt;
    ho_out_t *out;
    const uint8_t *frame;
    size_t len;
    size_t index;
} s_bad_t;

/* A frame or batch element that cannot be decoded becomes a quarantine envelope carrying its
 * raw bytes in base64, so the record is never lost. */
static void s_quarantine_raw(s_rt_t *rt, ho_out_t *out, const uint8_t *data, size_t len,
                             size_t frame, long element, const ho_err_t *err)
{
    ho_msg_t *in = ho_msg_new("invalid");
    if (!in) {
        return;
    }
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "raw", data, len);
    ho_msg_set_id(in, id);
    json_t *p = ho_msg_payload(in);
    json_object_set_new(p, "frame", json_integer((json_int_t)frame));
    if (element >= 0) {
        json_object_set_new(p, "element", json_integer(element));
    }
    json_object_set_new(p, "bytes", json_integer((json_int_t)len));
    char *b64 = ho_base64(data, len);
    json_object_set_new(p, "base64", json_string(b64 ? b64 : ""));
    free(b64);

    char field[160], reason[400];
    if (element >= 0) {
        snprintf(field, sizeof field, "frame[%zu][%ld]%s%s", frame, element,
                 err->field[0] ? "." : "", err->field);
        snprintf(reason, sizeof reason, "body frame %zu, batch element %ld: %s", frame, element,
                 err->message);
    } else {
        snprintf(field, sizeof field, "frame[%zu]%s%s", frame, err->field[0] ? "." : "",
                 err->field);
        snprintf(reason, sizeof reason, "body frame %zu: %s", frame, err->message);
    }
    const char *code = element >= 0 ? "bad_envelope" : "bad_frame";
    if (err->code == HO_ERR_VERSION) {
        code = "unknown_version";
    }
    ho_out_quarantine(out, in, rt->def->name, code, field, reason);
    rt->quarantined++;
    ho_warn("quarantined %s (%zu bytes)", reason, len);
    ho_msg_destroy(&in);
}

static void s_on_bad_element(size_t index, const ho_err_t *err, void *arg)
{
    s_bad_t *bad = arg;
    size_t off = 0, len = bad->len;
    int whole = ho_msg_frame_element(bad->frame, bad->len, index, &off, &len) != HO_OK;
    if (whole) {
        off = 0;
        len = bad->len;
    }
    s_quarantine_raw(bad->rt, bad->out, bad->frame + off, len, bad->index, (long)index, err);
}

static int s_grow(ho_msg_t ***all, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return 0;
    }
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need) {
        cap2 *= 2;
    }
    ho_msg_t **grown = realloc(*all, cap2 * sizeof *grown);
    if (!grown) {
        return -1;
    }
    *all = grown;
    *cap = cap2;
    return 0;
}

static void s_heartbeat_if_due(s_rt_t *rt)
{
    if (ho_now_ms() - rt->sent_at >= rt->hb_ms / 2) {
        s_send_command(rt, S_HEARTBEAT);
    }
}

/* Sleep ms, heartbeating the broker whenever one is due, so a worker that waits for its
 * environment (a full disk) is not taken for dead; returns early on a stop signal. */
static void s_wait_alive(s_rt_t *rt, int ms)
{
    int64_t until = ho_now_ms() + ms;
    while (!s_stopped(rt)) {
        int64_t left = until - ho_now_ms();
        if (left <= 0) {
            break;
        }
        int slice = rt->hb_ms / 2 > 0 ? rt->hb_ms / 2 : 1;
        zclock_sleep((int)(left < slice ? left : slice));
        s_heartbeat_if_due(rt);
    }
}

/* Run the handler. HO_WORKER_RETRY is a fault of the environment (disk full, I/O error,
 * database busy, out of memory), not of the records: the runtime never quarantines or
 * answers such a request. It runs the handler again with a backoff doubling up to
 * S_RETRY_MAX_MS, heartbeating meanwhile, until it passes; on a stop signal it gives up
 * WITHOUT replying (returns -1), so the broker keeps the request and delivers it again
 * (to this worker restarted, or another one). Only HO_WORKER_ERROR (permanent) answers
 * with error + quarantine envelopes ("worker_error"). Returns 0 when `out` holds the
 * answer. */
static int s_handle(s_rt_t *rt, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    ho_out_t *got = ho_out_new(rt->origin);
    int rc = HO_WORKER_ERROR;
    int attempt = 0;
    int64_t warned_at = 0;
    for (;;) {
        int64_t t0 = ho_runtime_stats_clock();
        rc = rt->def->cb_handle(rt->ctx, in, n, got);
        ho_runtime_stats_call(&rt->stats, rc == HO_WORKER_OK, ho_runtime_stats_clock() - t0);
        if (rc == HO_WORKER_OK) {
            break;
        }
        ho_out_clear(got);
        if (rc != HO_WORKER_RETRY || s_stopped(rt)) {
            break;
        }
        int shift = attempt < 16 ? attempt : 16;
        int64_t wait = (int64_t)rt->backoff_ms << shift;
        if (wait > S_RETRY_MAX_MS) {
            wait = S_RETRY_MAX_MS;
        }
        attempt++;
        if (attempt <= rt->retries) {
            ho_info("handler asked to retry: attempt %d in %lld ms", attempt + 1, (long long)wait);
        } else if (ho_now_ms() - warned_at >= 10000) {
            /* rate-limited: a full disk can last */
            warned_at = ho_now_ms();
            ho_warn("worker %s cannot apply a request of %zu envelope(s) (transient fault, "
                    "e.g. disk full; see above); keeping it and retrying every %lld ms "
                    "(attempt %d)",
                    rt->def->name, n, (long long)wait, attempt + 1);
        }
        rt->retried++;
        s_wait_alive(rt, (int)wait);
    }
    if (rc == HO_WORKER_OK) {
        size_t k = 0;
        ho_msg_t **msgs = ho_out_take(got, &k);
        for (size_t i = 0; i < k; i++) {
            ho_out_emit(out, &msgs[i]);
        }
        free(msgs);
    } else if (rc == HO_WORKER_RETRY) {
        ho_warn("worker %s stopping with a request of %zu envelope(s) not applied: not "
                "answering it, the broker delivers it again",
                rt->def->name, n);
        ho_out_destroy(&got);
        return -1;
    } else {
        char message[200];
        snprintf(message, sizeof message,
                 "worker %s failed (permanent error) on a request of %zu envelope(s)",
                 rt->def->name, n);
        ho_warn("%s; replying error 500 and quarantining the input", message);
        rt->failed++;
        for (size_t i = 0; i < n; i++) {
            ho_msg_t *e = ho_msg_new("error");
            if (e) {
                json_t *p = ho_msg_payload(e);
                json_object_set_new(p, "code", json_integer(500));
                json_object_set_new(p, "message", json_string(message));
                json_object_set_new(p, "event_id", json_string(ho_msg_id(in[i])));
                json_object_set_new(p, "service", json_string(rt->service));
                ho_out_emit(out, &e);
            }
            ho_out_quarantine(out, in[i], rt->def->name, "worker_error", "", message);
            rt->quarantined++;
        }
    }
    ho_out_destroy(&got);
    return 0;
}

/* No handler call holds the worker past its heartbeat: a request of more than S_CHUNK
 * envelopes is handed to the handler in calls of S_CHUNK, with a heartbeat to the broker
 * between calls whenever one is due. The broker otherwise disconnects a busy live worker
 * (it hears nothing for liveness x heartbeat) and re-queues its request, which is then done
 * twice. The size is fixed, not learnt from timings, so what a handler sees per call (the
 * store scores a lead once per call, as of its newest event) does not depend on the
 * machine's speed: runs stay reproducible. Each call is one handler transaction; the outputs
 * of all calls go back in the one reply. */

static int s_handle_chunked(s_rt_t *rt, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    for (size_t off = 0; off < n;) {
        size_t k = S_CHUNK < n - off ? S_CHUNK : n - off;
        if (s_handle(rt, in + off, k, out) != 0) {
            return -1; /* not applied: no reply (the chunks before are redone idempotently) */
        }
        off += k;
        s_heartbeat_if_due(rt);
    }
    return 0;
}

static void s_reply(s_rt_t *rt, const void *token, size_t token_len, ho_out_t *out)
{
    size_t n = 0;
    ho_msg_t **msgs = ho_out_take(out, &n);
    zmsg_t *zmsg = s_header(S_REPLY);
    zmsg_addmem(zmsg, token, token_len);
    zmsg_addmem(zmsg, "", 0);
    if (ho_runtime_add_grouped(zmsg, msgs, n) != HO_OK) {
        ho_error("cannot encode the reply of %zu envelope(s)", n);
    }
    ho_msg_batch_free(&msgs, n);
    s_send(rt, &zmsg);
}

static void s_on_request(s_rt_t *rt, zmsg_t *zmsg)
{
    zframe_t *token = zmsg_pop(zmsg);
    zframe_t *empty = zmsg_pop(zmsg);
    if (!token || !empty || zframe_size(empty) != 0) {
        ho_warn("protocol error: REQUEST without token and empty delimiter frame");
        zframe_destroy(&token);
        zframe_destroy(&empty);
        return;
    }
    rt->requests++;
    ho_out_t *out = ho_out_new(rt->origin);
    ho_msg_t **all = NULL;
    size_t n = 0, cap = 0;
    size_t index = 0;
    for (zframe_t *f = zmsg_first(zmsg); f; f = zmsg_next(zmsg), index++) {
        ho_msg_t **msgs = NULL;
        size_t k = 0;
        ho_err_t err = {0};
        s_bad_t bad = {rt, out, zframe_data(f), zframe_size(f), index};
        if (ho_msg_decode_frame_opt(zframe_data(f), zframe_size(f),
                                    rt->def->packed_payload ? HO_MSG_RAW_PAYLOAD : 0, &msgs, &k,
                                    s_on_bad_element, &bad, &err) != HO_OK) {
            s_quarantine_raw(rt, out, zframe_data(f), zframe_size(f), index, -1, &err);
            continue;
        }
        if (k == 0) {
            /* every element was bad (or an empty batch): nothing to hand over, and msgs may
             * be NULL, which memcpy must not be given even for 0 bytes */
            free(msgs);
            continue;
        }
        if (s_grow(&all, &cap, n + k) != 0) {
            ho_msg_batch_free(&msgs, k);
            continue;
        }
        memcpy(all + n, msgs, k * sizeof *msgs);
        n += k;
        free(msgs);
        s_heartbeat_if_due(rt); /* decoding a big frame takes time too */
    }
    rt->inputs += n;
    if (n == 0 || s_handle_chunked(rt, all, n, out) == 0) {
        s_reply(rt, zframe_data(token), zframe_size(token), out);
    }
    ho_msg_batch_free(&all, n);
    ho_out_destroy(&out);
    zframe_destroy(&token);
    zframe_destroy(&empty);
}

static void s_tick(s_rt_t *rt, int64_t now)
{
    ho_out_t *out = ho_out_new(rt->origin);
    int rc = rt->def->cb_tick(rt->ctx, now, out);
    if (rc != HO_WORKER_OK) {
        ho_warn("tick failed (rc=%d); its output is dropped, the next tick runs as usual", rc);
        ho_out_clear(out);
    }
    if (ho_out_count(out) > 0) {
        s_reply(rt, "", 0, out); /* empty token: unsolicited, routed by type (E3) */
    }
    ho_out_destroy(&out);
}

/* Returns 1 when the socket was replaced (the rest of the drained batch belongs to the old
 * one). */
static int s_dispatch(s_rt_t *rt, zmsg_t *zmsg)
{
    zframe_t *empty = zmsg_pop(zmsg);
    zframe_t *header = zmsg_pop(zmsg);
    zframe_t *command = zmsg_pop(zmsg);
    int replaced = 0;
    if (!empty || zframe_size(empty) != 0 || !header || !zframe_streq(header, S_MDPW) || !command ||
        zframe_size(command) != 1) {
        ho_warn("protocol error: message from the broker without an MDPW01 header (ignored)");
    } else {
        switch (zframe_data(command)[0]) {
        case S_REQUEST:
            s_on_request(rt, zmsg);
            break;
        case S_HEARTBEAT:
            break;
        case S_DISCONNECT:
            ho_warn("broker sent DISCONNECT; registering again with a new socket");
            rt->reconnects++;
            s_connect(rt);
            replaced = 1;
            break;
        default:
            ho_warn("protocol error: unknown command 0x%02x from the broker (ignored)",
                    zframe_data(command)[0]);
        }
    }
    zframe_destroy(&empty);
    zframe_destroy(&header);
    zframe_destroy(&command);
    return replaced;
}

static int s_load_curve(s_rt_t *rt)
{
    const char *mine = rt->opts->curve_client_cert;
    const char *theirs = rt->opts->curve_server_public;
    if (!mine || !theirs) {
        return 0;
    }
    rt->cert = zcert_load(mine);
    if (!rt->cert) {
        ho_error("broker.curve.client_cert: cannot load certificate '%s' (make one with "
                 "`handoff keygen NAME --dir DIR`)",
                 mine);
        return -1;
    }
    zcert_t *server = zcert_load(theirs);
    if (!server) {
        ho_error("broker.curve.server_public: cannot load certificate '%s'", theirs);
        return -1;
    }
    snprintf(rt->server_key, sizeof rt->server_key, "%s", zcert_public_txt(server));
    zcert_destroy(&server);
    return 0;
}

/* ---------------------------------------------------------------- main loop */

/* How long to wait for the broker: until the next heartbeat is due, the broker would be
 * declared silent or the next tick is due, and never over 500 ms. */
static int64_t s_poll_wait(const s_rt_t *rt, int tick_ms, int64_t now)
{
    int64_t wait = rt->sent_at + rt->hb_ms - now;
    int64_t expire = rt->heard_at + (int64_t)rt->hb_ms * rt->liveness - now;
    if (expire < wait) {
        wait = expire;
    }
    if (tick_ms && rt->next_tick - now < wait) {
        wait = rt->next_tick - now;
    }
    if (wait < 0) {
        wait = 0;
    }
    if (wait > 500) {
        wait = 500; /* look at the stop flag at least twice a second */
    }
    return wait;
}

/* What a worker does after each poll, whatever arrived: reconnect to a silent broker, run
 * the tick when due, send the heartbeat when due and flush the stats. Returns 1 when the
 * reconnection fails. */
static int s_housekeeping(s_rt_t *rt, int tick_ms)
{
    int64_t now = ho_now_ms();
    if (now - rt->heard_at > (int64_t)rt->hb_ms * rt->liveness) {
        ho_warn("broker silent for %lld ms; reconnecting to %s", (long long)(now - rt->heard_at),
                rt->opts->endpoint);
        rt->reconnects++;
        if (s_connect(rt) != 0) {
            return 1;
        }
    }
    if (tick_ms && now >= rt->next_tick && !s_stopped(rt)) {
        s_tick(rt, now);
        rt->next_tick = ho_now_ms() + tick_ms;
    }
    if (ho_now_ms() - rt->sent_at >= rt->hb_ms) {
        s_send_command(rt, S_HEARTBEAT);
    }
    ho_runtime_stats_flush(&rt->stats, rt->hb_ms, false);
    return 0;
}

int ho_worker_run(const ho_worker_def_t *def, const ho_runtime_opts_t *opts)
{
    static char component[96];
    snprintf(component, sizeof component, "worker.%s", def && def->name ? def->name : "?");
    ho_log_set_component(component);
    if (!def || !def->cb_handle || !opts || !opts->endpoint) {
        ho_error("worker runtime: a descriptor with cb_handle and an endpoint are required");
        return 1;
    }
    s_rt_t rt = {.def = def, .opts = opts};
    rt.service = opts->service ? opts->service : def->name;
    rt.hb_ms = opts->heartbeat_ms > 0 ? opts->heartbeat_ms : 2500;
    rt.liveness = opts->liveness > 0 ? opts->liveness : 3;
    rt.credit = opts->credit > 0 ? opts->credit : HO_RUNTIME_CREDIT;
    if (rt.credit > 1000) {
        rt.credit = 1000;
    }
    rt.retries = opts->retries < 0 ? 0 : opts->retries > 0 ? opts->retries : 3;
    rt.backoff_ms = opts->retry_backoff_ms > 0 ? opts->retry_backoff_ms : 50;

    char origin[256];
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(origin, sizeof origin, "%s@%s:%d", def->name, host, (int)getpid());
    ho_worker_env_t local = {.name = def->name, .origin = origin};
    const ho_worker_env_t *env = opts->env ? opts->env : &local;
    rt.origin = env->origin ? env->origin : origin;

    if (s_load_curve(&rt) != 0) {
        zcert_destroy(&rt.cert);
        return 1;
    }
    ho_err_t err = {0};
    if (def->cb_init && def->cb_init(env, &rt.ctx, &err) != HO_OK) {
        ho_error("cannot start: %s", err.message[0] ? err.message : "initialisation failed");
        zcert_destroy(&rt.cert);
        return 1;
    }
    ho_runtime_stats_open(&rt.stats, env->data_dir, rt.service, rt.origin);
    int rc = 0;
    if (s_connect(&rt) != 0) {
        rc = 1;
    } else {
        ho_info("ready service=%s endpoint=%s credit=%d heartbeat_ms=%d curve=%s", rt.service,
                opts->endpoint, rt.credit, rt.hb_ms, rt.cert ? "on" : "off");
        if (opts->on_ready) {
            opts->on_ready(opts->ready_arg);
        }
    }
    int tick_ms = def->cb_tick && def->tick_ms > 0 && !opts->no_tick ? def->tick_ms : 0;
    rt.next_tick = ho_now_ms() + tick_ms;
    while (rc == 0 && !s_stopped(&rt)) {
        int64_t now = ho_now_ms();
        int64_t wait = s_poll_wait(&rt, tick_ms, now);
        zmq_pollitem_t item = {zsock_resolve(rt.sock), 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, (long)wait);
        if (ready < 0 && errno != EINTR) {
            ho_error("poll failed: %s", zmq_strerror(errno));
            rc = 1;
            break;
        }
        if (ready > 0 && (item.revents & ZMQ_POLLIN)) {
            for (int k = 0; k < S_DRAIN && !s_stopped(&rt); k++) {
                zmsg_t *zmsg = zmsg_recv(rt.sock);
                if (!zmsg) {
                    break;
                }
                rt.heard_at = ho_now_ms();
                int replaced = s_dispatch(&rt, zmsg);
                zmsg_destroy(&zmsg);
                if (replaced) {
                    break;
                }
            }
        }
        if (s_housekeeping(&rt, tick_ms) != 0) {
            rc = 1;
            break;
        }
    }
    if (rt.sock) {
        /* Tell the broker at once, so it requeues what we held instead of waiting for the
         * heartbeat to expire. */
        zsock_set_sndtimeo(rt.sock, 0);
        s_send_command(&rt, S_DISCONNECT);
        zsock_set_linger(rt.sock, 1000);
        zsock_destroy(&rt.sock);
    }
    ho_info("stopped requests=%llu inputs=%llu quarantined=%llu failed=%llu retried=%llu "
            "reconnects=%llu",
            (unsigned long long)rt.requests, (unsigned long long)rt.inputs,
            (unsigned long long)rt.quarantined, (unsigned long long)rt.failed,
            (unsigned long long)rt.retried, (unsigned long long)rt.reconnects);
    if (def->cb_exit) {
        def->cb_exit(&rt.ctx);
    }
    ho_runtime_stats_close(&rt.stats); /* a stopped worker has no series */
    zcert_destroy(&rt.cert);
    return rc;
}
