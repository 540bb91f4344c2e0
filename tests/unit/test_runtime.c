/* test_runtime.c - the worker runtime (src/runtime/worker_runtime.c) and the client library
 * (src/runtime/client.c) against a real `handoff broker` process ($HO_BIN), over real
 * ZeroMQ sockets. Workers run in threads of this process; clients in the main thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handoff/client.h"
#include "handoff/gateway.h"
#include "handoff/runtime.h"

#define S_DEADLINE_MS 10000

static char s_dir[256];

/* ---------------------------------------------------------------- broker process */

typedef struct {
    pid_t pid;
    char endpoint[256];
} s_broker_t;

/* Each test writes its config once and gets a data dir of its own: the broker journal lives
 * there (on by default), and a request a stopped broker left in it must not be replayed into
 * the next test (a tick of test_tick_output_is_routed reached test_no_tick's sink that way
 * on a loaded machine). A broker restarted inside one test keeps its journal. */
static int s_config_n;

static void s_write_config(const char *name, int max_queue, const char *routes)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "broker:\n  endpoint: tcp://127.0.0.1:5570\n  heartbeat_ms: 100\n  liveness: 3\n"
            "  max_queue: %d\n  max_attempts: 5\ndata_dir: %s/data-%d\nroutes:\n%s",
            max_queue, s_dir, ++s_config_n, routes ? routes : "  test.none: nowhere\n");
    fclose(f);
}

static void s_broker_start(s_broker_t *b, const char *config, const char *bind)
{
    const char *bin = getenv("HO_BIN");
    assert_non_null(bin);
    char cfg[512], log[512];
    snprintf(cfg, sizeof cfg, "%s/%s", s_dir, config);
    snprintf(log, sizeof log, "%s/broker.log", s_dir);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    b->pid = fork();
    assert_true(b->pid >= 0);
    if (b->pid == 0) {
        dup2(fds[1], 1);
        FILE *e = fopen(log, "a");
        if (e) {
            dup2(fileno(e), 2);
        }
        close(fds[0]);
        execl(bin, "handoff", "broker", "-c", cfg, "--bind", bind, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096] = "";
    size_t len = 0;
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    while (!strstr(buf, "broker ready") && zclock_mono() < end && len < sizeof buf - 1) {
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            ssize_t r = read(fds[0], buf + len, sizeof buf - 1 - len);
            if (r <= 0) {
                break;
            }
            len += (size_t)r;
            buf[len] = '\0';
        }
    }
    close(fds[0]);
    assert_non_null(strstr(buf, "broker ready"));
    char *ep = strstr(buf, "bound endpoint=");
    assert_non_null(ep);
    ep += strlen("bound endpoint=");
    size_t n = strcspn(ep, "\n");
    snprintf(b->endpoint, sizeof b->endpoint, "%.*s", (int)n, ep);
}

static void s_broker_stop(s_broker_t *b)
{
    if (b->pid <= 0) {
        return;
    }
    kill(b->pid, SIGTERM);
    int status = 0;
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    while (waitpid(b->pid, &status, WNOHANG) == 0) {
        if (zclock_mono() > end) {
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
            break;
        }
        zclock_sleep(10);
    }
    b->pid = 0;
}

/* ---------------------------------------------------------------- worker threads */

typedef struct {
    const ho_worker_def_t *def;
    ho_runtime_opts_t opts;
    volatile sig_atomic_t stop;
    pthread_t thread;
    int rc;
} s_worker_t;

static void *s_worker_main(void *arg)
{
    s_worker_t *w = arg;
    w->rc = ho_worker_run(w->def, &w->opts);
    return NULL;
}

static bool s_next_no_tick; /* opts.no_tick of the next s_worker_start */

static s_worker_t *s_worker_start(const ho_worker_def_t *def, const char *endpoint,
                                  const char *service)
{
    s_worker_t *w = calloc(1, sizeof *w);
    w->def = def;
    w->opts.endpoint = endpoint;
    w->opts.service = service;
    w->opts.heartbeat_ms = 100;
    w->opts.liveness = 3;
    w->opts.credit = 8;
    w->opts.retry_backoff_ms = 5;
    w->opts.stop = &w->stop;
    w->opts.no_tick = s_next_no_tick;
    assert_int_equal(pthread_create(&w->thread, NULL, s_worker_main, w), 0);
    return w;
}

static int s_worker_stop(s_worker_t **w_p)
{
    s_worker_t *w = *w_p;
    w->stop = 1;
    pthread_join(w->thread, NULL);
    int rc = w->rc;
    free(w);
    *w_p = NULL;
    return rc;
}

/* ---------------------------------------------------------------- test workers */

static int s_echo(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        ho_msg_t *copy = ho_msg_dup(in[i]);
        ho_out_emit(out, &copy);
    }
    return HO_WORKER_OK;
}

static int s_flaky_calls;
static int s_flaky(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    if (++s_flaky_calls <= 2) {
        ho_msg_t *partial = ho_msg_new("partial.output");
        ho_out_emit(out, &partial); /* must not leak into the reply of a failed attempt */
        return HO_WORKER_RETRY;
    }
    return s_echo(ctx, in, n, out);
}

static int s_broken(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    return HO_WORKER_ERROR;
}

static int s_ticks;
static int s_tick(void *ctx, int64_t now, ho_out_t *out)
{
    ho_msg_t *m = ho_msg_new("test.tick");
    json_object_set_new(ho_msg_payload(m), "n", json_integer(++s_ticks));
    ho_out_emit(out, &m);
    return HO_WORKER_OK;
}

static pthread_mutex_t s_sink_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_sink_ticks;
static char s_sink_origin[256];
static int s_sink(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    pthread_mutex_lock(&s_sink_lock);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(in[i]), "test.tick") == 0) {
            s_sink_ticks++;
            snprintf(s_sink_origin, sizeof s_sink_origin, "%s", ho_msg_origin(in[i]));
        }
    }
    pthread_mutex_unlock(&s_sink_lock);
    return HO_WORKER_OK;
}

static int s_slow_calls;
static int s_slow(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    if (++s_slow_calls == 1) {
        zclock_sleep(700); /* longer than the client's timeout: the client resends */
    }
    for (size_t i = 0; i < n; i++) {
        ho_msg_t *m = ho_msg_dup(in[i]);
        json_object_set_new(ho_msg_payload(m), "call", json_integer(s_slow_calls));
        ho_out_emit(out, &m);
    }
    return HO_WORKER_OK;
}

static const ho_worker_def_t s_def_echo = {.name = "echo", .cb_handle = s_echo};
static const ho_worker_def_t s_def_slow = {.name = "slow", .cb_handle = s_slow};
static const ho_worker_def_t s_def_flaky = {.name = "flaky", .cb_handle = s_flaky};
static const ho_worker_def_t s_def_broken = {.name = "broken", .cb_handle = s_broken};
static const ho_worker_def_t s_def_ticker = {
    .name = "ticker", .cb_handle = s_echo, .cb_tick = s_tick, .tick_ms = 20};
static const ho_worker_def_t s_def_sink = {.name = "sink", .cb_handle = s_sink};

/* ---------------------------------------------------------------- helpers */

static ho_msg_t *s_lead(int i)
{
    ho_msg_t *m = ho_msg_new("lead.raw");
    json_t *p = ho_msg_payload(m);
    json_object_set_new(p, "i", json_integer(i));
    json_object_set_new(p, "email", json_string("jürgen.müller@example.de"));
    json_object_set_new(p, "fields", json_pack("{s:s, s:f}", "company", "Acme GmbH", "score", 0.5));
    return m;
}

static void s_assert_same(const ho_msg_t *a, const ho_msg_t *b)
{
    assert_string_equal(ho_msg_type(a), ho_msg_type(b));
    assert_string_equal(ho_msg_id(a), ho_msg_id(b));
    assert_true(ho_msg_ts(a) == ho_msg_ts(b));
    assert_true(json_equal(ho_msg_payload(a), ho_msg_payload(b)));
}

static ho_client_t *s_client(const char *endpoint, int window, int timeout_ms, int retries)
{
    ho_client_opts_t opts = {.window = window, .timeout_ms = timeout_ms, .retries = retries};
    ho_err_t err = {0};
    ho_client_t *c = ho_client_new(endpoint, &opts, &err);
    assert_non_null(c);
    return c;
}

/* Status of one service, polled until pred holds or the deadline passes. */
static json_t *s_service(json_t *st, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0) {
            return s;
        }
    }
    return NULL;
}

static int s_wait_workers(const char *endpoint, const char *service, int want)
{
    ho_client_t *c = s_client(endpoint, 1, 1000, 3);
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    int got = -1;
    while (zclock_mono() < end) {
        json_t *st = NULL;
        ho_err_t err = {0};
        if (ho_client_status(c, &st, &err) == HO_OK) {
            json_t *s = s_service(st, service);
            got = s ? (int)json_integer_value(json_object_get(s, "workers")) : 0;
            json_decref(st);
            if (got == want) {
                break;
            }
        }
        zclock_sleep(20);
    }
    ho_client_destroy(&c);
    return got;
}

/* ---------------------------------------------------------------- tests */

static void test_echo_roundtrip(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_worker_t *w = s_worker_start(&s_def_echo, b.endpoint, NULL);
    ho_client_t *c = s_client(b.endpoint, 4, 5000, 2);

    ho_msg_t *in[3] = {s_lead(1), s_lead(2), s_lead(3)};
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_client_request(c, "echo", in, 3, &reply, &n, &err), HO_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++) {
        s_assert_same(reply[i], in[i]);
    }
    ho_msg_batch_free(&reply, n);

    /* the broker lists the worker under its service, with the credit from READY */
    json_t *st = NULL;
    assert_int_equal(ho_client_status(c, &st, &err), HO_OK);
    json_t *svc = s_service(st, "echo");
    assert_non_null(svc);
    assert_int_equal(json_integer_value(json_object_get(svc, "workers")), 1);
    json_t *wk = json_array_get(json_object_get(st, "workers"), 0);
    assert_int_equal(json_integer_value(json_object_get(wk, "credit")), 8);
    json_decref(st);

    for (size_t i = 0; i < 3; i++) {
        ho_msg_destroy(&in[i]);
    }
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&w), 0);
    /* DISCONNECT on exit: the broker forgets the worker without waiting for the heartbeat */
    assert_int_equal(s_wait_workers(b.endpoint, "echo", 0), 0);
    s_broker_stop(&b);
}

typedef struct {
    int replies;
    int mismatched;
    int failed;
    uint64_t tags[400];
} s_window_t;

static void s_window_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    s_window_t *w = arg;
    if (!msgs) {
        w->failed++;
        return;
    }
    w->replies++;
    /* the reply must belong to the request this tag was given for */
    int i = n == 1 ? (int)json_integer_value(json_object_get(ho_msg_payload(msgs[0]), "i")) : -1;
    if (i < 0 || i >= 400 || w->tags[i] != tag) {
        w->mismatched++;
    }
}

static void test_window_matches_replies(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_worker_t *w1 = s_worker_start(&s_def_echo, b.endpoint, NULL);
    s_worker_t *w2 = s_worker_start(&s_def_echo, b.endpoint, NULL);
    ho_client_t *c = s_client(b.endpoint, 8, 5000, 2);
    s_window_t win = {0};
    ho_err_t err = {0};
    for (int i = 0; i < 400; i++) {
        ho_msg_t *m = s_lead(i);
        win.tags[i] = ho_client_send(c, "echo", &m, 1, s_window_reply, &win, &err);
        assert_true(win.tags[i] > 0);
        assert_true(ho_client_pending(c) <= 8); /* backpressure: never more than the window */
        ho_msg_destroy(&m);
    }
    assert_int_equal(ho_client_flush(c, &err), HO_OK);
    assert_int_equal(win.replies, 400);
    assert_int_equal(win.mismatched, 0);
    assert_int_equal(win.failed, 0);
    assert_int_equal(ho_client_pending(c), 0);
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&w1), 0);
    assert_int_equal(s_worker_stop(&w2), 0);
    s_broker_stop(&b);
}

/* Raw client: a body of hand-made frames, to send what ho_msg_encode never produces. */
static zmsg_t *s_raw_request(const char *endpoint, const char *service, zmsg_t *body)
{
    zsock_t *s = zsock_new_dealer(endpoint);
    assert_non_null(s);
    zmsg_pushstr(body, service);
    zmsg_pushstr(body, "MDPC01");
    zmsg_pushmem(body, "", 0);
    assert_int_equal(zmsg_send(&body, s), 0);
    zsock_set_rcvtimeo(s, S_DEADLINE_MS);
    zmsg_t *reply = zmsg_recv(s);
    zsock_destroy(&s);
    assert_non_null(reply);
    zframe_t *f = zmsg_pop(reply); /* "" */
    zframe_destroy(&f);
    f = zmsg_pop(reply); /* MDPC01 */
    zframe_destroy(&f);
    f = zmsg_pop(reply); /* service */
    zframe_destroy(&f);
    return reply;
}

static ho_msg_t **s_decode_all(zmsg_t *reply, size_t *n_p)
{
    ho_msg_t **all = calloc(64, sizeof *all);
    size_t n = 0;
    for (zframe_t *f = zmsg_first(reply); f; f = zmsg_next(reply)) {
        ho_msg_t **msgs = NULL;
        size_t k = 0;
        ho_err_t err = {0};
        assert_int_equal(
            ho_msg_decode_frame(zframe_data(f), zframe_size(f), &msgs, &k, NULL, NULL, &err),
            HO_OK);
        for (size_t i = 0; i < k && n < 64; i++) {
            all[n++] = msgs[i];
        }
        free(msgs);
    }
    *n_p = n;
    return all;
}

static const ho_msg_t *s_find(ho_msg_t **all, size_t n, const char *type, const char *key,
                              const char *value)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(all[i]), type) != 0) {
            continue;
        }
        const char *v = json_string_value(json_object_get(ho_msg_payload(all[i]), key));
        if (!key || (v && strstr(v, value))) {
            return all[i];
        }
    }
    return NULL;
}

static void test_bad_frames_quarantined_good_ones_pass(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_worker_t *w = s_worker_start(&s_def_echo, b.endpoint, NULL);

    ho_msg_t *good = s_lead(7);
    ho_msg_t *good2 = s_lead(8);
    char *buf = NULL;
    size_t len = 0;
    zmsg_t *body = zmsg_new();
    /* frame 0: a good single envelope */
    assert_int_equal(ho_msg_encode(good, &buf, &len), HO_OK);
    zmsg_addmem(body, buf, len);
    free(buf);
    /* frame 1: not msgpack at all */
    zmsg_addstr(body, "\xc1garbage");
    /* frame 2: a batch [good2, envelope whose payload.email is invalid UTF-8] */
    ho_msg_t *pair[2] = {good2, s_lead(9)};
    json_object_set_new(ho_msg_payload(pair[1]), "email", json_string("XXXX"));
    assert_int_equal(ho_msg_encode_batch(pair, 2, &buf, &len), HO_OK);
    char *x = memmem(buf, len, "XXXX", 4);
    assert_non_null(x);
    x[1] = (char)0xff; /* break the UTF-8 of payload.email in the second element */
    zmsg_addmem(body, buf, len);
    free(buf);
    zmsg_t *reply = s_raw_request(b.endpoint, "echo", body);

    size_t n = 0;
    ho_msg_t **all = s_decode_all(reply, &n);
    /* good ones came back echoed */
    int echoed = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(all[i]), "lead.raw") == 0) {
            assert_true(strcmp(ho_msg_id(all[i]), ho_msg_id(good)) == 0 ||
                        strcmp(ho_msg_id(all[i]), ho_msg_id(good2)) == 0);
            echoed++;
        }
    }
    assert_int_equal(echoed, 2);
    /* the garbage frame is quarantined with its index and raw bytes */
    const ho_msg_t *q1 = s_find(all, n, "quarantine", "field", "frame[1]");
    assert_non_null(q1);
    assert_string_equal(json_string_value(json_object_get(ho_msg_payload(q1), "code")),
                        "bad_frame");
    json_t *raw = json_object_get(ho_msg_payload(q1), "raw");
    assert_string_equal(json_string_value(json_object_get(raw, "base64")), "wWdhcmJhZ2U=");
    /* the bad batch element names frame, element and field */
    const ho_msg_t *q2 = s_find(all, n, "quarantine", "field", "frame[2][1].payload.email");
    assert_non_null(q2);
    assert_non_null(
        strstr(json_string_value(json_object_get(ho_msg_payload(q2), "reason")), "invalid UTF-8"));
    assert_string_equal(json_string_value(json_object_get(ho_msg_payload(q2), "stage")), "echo");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(ho_msg_payload(q2), "raw"), "element")),
        1);
    /* frames are grouped by type: one lead.raw batch frame, one quarantine batch frame */
    assert_int_equal(zmsg_size(reply), 2);

    ho_msg_batch_free(&all, n);
    zmsg_destroy(&reply);
    ho_msg_destroy(&good);
    ho_msg_destroy(&good2);
    ho_msg_destroy(&pair[1]);
    assert_int_equal(s_worker_stop(&w), 0);
    s_broker_stop(&b);
}

/* A frame whose every batch element is bad decodes to zero envelopes (msgs may be NULL):
 * the runtime must quarantine each element and answer, not hand memcpy a NULL source (the
 * UBSan build aborted the worker here, issue 14 item 8). The empty batch also yields none. */
static void test_batch_of_only_bad_envelopes(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_worker_t *w = s_worker_start(&s_def_echo, b.endpoint, NULL);
    for (int round = 0; round < 2; round++) {
        zmsg_t *body = zmsg_new();
        zmsg_addmem(body, "\x92\x01\xa1x", 4); /* [1, "x"]: two elements, neither an envelope */
        zmsg_addmem(body, "\x90", 1);          /* [] */
        zmsg_t *reply = s_raw_request(b.endpoint, "echo", body);
        assert_non_null(reply);
        size_t n = 0;
        ho_msg_t **all = s_decode_all(reply, &n);
        assert_int_equal(n, 2);
        assert_non_null(s_find(all, n, "quarantine", "field", "frame[0][0]"));
        assert_non_null(s_find(all, n, "quarantine", "field", "frame[0][1]"));
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(json_string_value(json_object_get(ho_msg_payload(all[i]), "code")),
                                "bad_envelope");
        }
        ho_msg_batch_free(&all, n);
        zmsg_destroy(&reply);
    }
    assert_int_equal(s_worker_stop(&w), 0);
    s_broker_stop(&b);
}

/* ZMQ_MAXMSGSIZE on the worker's DEALER (issue 14 item 2, E12): a peer posing as the broker
 * sends a REQUEST with a frame over 16 MiB. The worker's socket must drop that connection
 * before allocating the frame (its next message comes from a new connection, i.e. a new
 * ROUTER identity), not decode it and answer. */
static void test_worker_refuses_a_frame_over_the_limit(void **state)
{
    zsock_t *fake = zsock_new_router("tcp://127.0.0.1:*");
    assert_non_null(fake);
    char endpoint[256];
    char *last = zsock_last_endpoint(fake);
    snprintf(endpoint, sizeof endpoint, "%s", last);
    free(last);
    zsock_set_rcvtimeo(fake, S_DEADLINE_MS);
    /* slow heartbeats: decoding (and answering) 16 MiB must not be cut short by the worker's
     * own reconnect after broker silence, or both outcomes would look alike */
    s_worker_t *w = calloc(1, sizeof *w);
    w->def = &s_def_echo;
    w->opts.endpoint = endpoint;
    w->opts.heartbeat_ms = 2000;
    w->opts.liveness = 3;
    w->opts.stop = &w->stop;
    assert_int_equal(pthread_create(&w->thread, NULL, s_worker_main, w), 0);
    zmsg_t *ready = zmsg_recv(fake);
    assert_non_null(ready);
    zframe_t *id = zmsg_pop(ready);
    zmsg_destroy(&ready);

    size_t big = HO_MSG_MAX_BODY + 1024;
    zmsg_t *req = zmsg_new();
    zmsg_append(req, &(zframe_t *){zframe_dup(id)});
    zmsg_addmem(req, "", 0);
    zmsg_addstr(req, "MDPW01");
    zmsg_addmem(req, "\x02", 1);
    zmsg_addmem(req, "12345678", 8);
    zmsg_addmem(req, "", 0);
    zframe_t *body = zframe_new(NULL, big);
    memset(zframe_data(body), 0xc1, big);
    zmsg_append(req, &body);
    assert_int_equal(zmsg_send(&req, fake), 0);

    /* the first message that is not a heartbeat of the old connection */
    int from_new = 0, replied = 0;
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    while (!from_new && !replied && zclock_mono() < end) {
        zmsg_t *m = zmsg_recv(fake);
        if (!m) {
            break;
        }
        zframe_t *who = zmsg_first(m);
        zmsg_next(m); /* "" */
        zmsg_next(m); /* MDPW01 */
        zframe_t *cmd = zmsg_next(m);
        int same = zframe_eq(who, id);
        int is_reply = cmd && zframe_size(cmd) == 1 && zframe_data(cmd)[0] == 0x03;
        replied = same && is_reply;
        from_new = !same;
        zmsg_destroy(&m);
    }
    assert_false(replied);
    assert_true(from_new);
    zframe_destroy(&id);
    assert_int_equal(s_worker_stop(&w), 0);
    zsock_destroy(&fake);
}

/* Actor for the test below: answers the first request on the fake ROUTER with a frame just
 * over 16 MiB and reports whether the requester's identity had the HDP prefix. */
typedef struct {
    zsock_t *fake;
    size_t size; /* of the reply's body frame */
} s_big_t;

static void s_big_responder(zsock_t *pipe, void *arg)
{
    s_big_t *big = arg;
    zsock_t *fake = big->fake;
    zsock_signal(pipe, 0);
    zsock_set_rcvtimeo(fake, S_DEADLINE_MS);
    zmsg_t *req = zmsg_recv(fake);
    int hdp = 0;
    if (req) {
        zframe_t *id = zmsg_pop(req);
        hdp = zframe_size(id) > 4 && memcmp(zframe_data(id), "HDP1", 4) == 0;
        zmsg_t *rep = zmsg_new();
        zmsg_append(rep, &id);
        zmsg_addmem(rep, "", 0);
        zmsg_addstr(rep, "MDPC01");
        zmsg_addstr(rep, "x");
        zframe_t *body = zframe_new(NULL, big->size);
        memset(zframe_data(body), 0x90, big->size);
        zmsg_append(rep, &body);
        zmsg_send(&rep, fake);
        zmsg_destroy(&req);
    }
    zstr_sendf(pipe, "hdp=%d", hdp);
    /* wait for $TERM */
    char *cmd = zstr_recv(pipe);
    zstr_free(&cmd);
}

/* One request to a fake broker that answers with a body of `size` bytes; the client's rc. */
static int s_request_big_reply(const ho_client_opts_t *opts, size_t size, char **seen)
{
    s_big_t big = {.fake = zsock_new_router("tcp://127.0.0.1:*"), .size = size};
    assert_non_null(big.fake);
    char *endpoint = zsock_last_endpoint(big.fake);
    zactor_t *responder = zactor_new(s_big_responder, &big);
    ho_err_t err = {0};
    ho_client_t *c = ho_client_new(endpoint, opts, &err);
    assert_non_null(c);
    free(endpoint);
    ho_msg_t *m = s_lead(1);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    int rc = ho_client_request(c, "x", &m, 1, &reply, &n, &err);
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&m);
    ho_client_destroy(&c);
    *seen = zstr_recv(responder); /* "hdp=1" when the request came from an HDP1 identity */
    assert_non_null(*seen);
    zactor_destroy(&responder);
    zsock_destroy(&big.fake);
    return rc;
}

/* The client library's side of E12: it marks itself as an HDP client (identity "HDP1...",
 * so the broker answers it 503 instead of holding it back) and its DEALER refuses a frame
 * over max_frame_bytes: a fake broker's 17 MiB reply cuts the connection instead of being
 * taken as the answer, so the request ends as "no answer" (no resends configured). */
static void test_client_is_hdp_and_refuses_a_frame_over_the_limit(void **state)
{
    ho_client_opts_t opts = {.window = 1, .timeout_ms = 1500, .retries = -1};
    char *seen = NULL;
    int rc = s_request_big_reply(&opts, HO_MSG_MAX_BODY + 1024, &seen);
    assert_string_equal(seen, "hdp=1");
    zstr_free(&seen);
    assert_int_equal(rc, HO_ERR_IO);
}

/* Every CLI client fills its options with ho_client_opts_curve: broker.max_frame_bytes of the
 * config (here 64 KiB) becomes the DEALER's ZMQ_MAXMSGSIZE, so a 256 KiB reply is cut off
 * ("no answer"); the same reply is taken by a client left at the default limit (16 MiB). */
static void test_client_takes_max_frame_bytes_from_the_config(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/frame.yaml", s_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "broker:\n  endpoint: tcp://127.0.0.1:5570\n  max_frame_bytes: 65536\n");
    fclose(f);
    ho_err_t err = {0};
    ho_gateway_t *gw = ho_gateway_load(path, &err);
    assert_non_null(gw);
    ho_client_opts_t opts = {.window = 1, .timeout_ms = 1500, .retries = -1};
    ho_client_opts_curve(&opts, gw);
    assert_int_equal(opts.max_frame_bytes, 65536);
    char *seen = NULL;
    assert_int_equal(s_request_big_reply(&opts, 256 * 1024, &seen), HO_ERR_IO);
    zstr_free(&seen);
    ho_client_opts_t plain = {.window = 1, .timeout_ms = 1500, .retries = -1};
    int rc = s_request_big_reply(&plain, 256 * 1024, &seen);
    zstr_free(&seen);
    assert_int_equal(rc, HO_OK);
    /* a value the caller set is kept */
    ho_client_opts_t own = {.max_frame_bytes = 5000};
    ho_client_opts_curve(&own, gw);
    assert_int_equal(own.max_frame_bytes, 5000);
    ho_gateway_destroy(&gw);
}

static void test_retry_then_error(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_worker_t *wf = s_worker_start(&s_def_flaky, b.endpoint, NULL);
    s_worker_t *wb = s_worker_start(&s_def_broken, b.endpoint, NULL);
    ho_client_t *c = s_client(b.endpoint, 2, 5000, 2);
    ho_err_t err = {0};

    /* RETRY twice, then OK: the reply is the handler's last output only */
    s_flaky_calls = 0;
    ho_msg_t *in = s_lead(1);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    assert_int_equal(ho_client_request(c, "flaky", &in, 1, &reply, &n, &err), HO_OK);
    assert_int_equal(s_flaky_calls, 3);
    assert_int_equal(n, 1);
    s_assert_same(reply[0], in);
    ho_msg_batch_free(&reply, n);

    /* ERROR: an "error" 500 envelope naming the event, and the input quarantined */
    ho_msg_t *two[2] = {s_lead(2), s_lead(3)};
    assert_int_equal(ho_client_request(c, "broken", two, 2, &reply, &n, &err), HO_OK);
    int errors = 0, quarantined = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = ho_msg_payload(reply[i]);
        if (strcmp(ho_msg_type(reply[i]), "error") == 0) {
            assert_int_equal(json_integer_value(json_object_get(p, "code")), 500);
            assert_string_equal(json_string_value(json_object_get(p, "event_id")),
                                ho_msg_id(two[errors]));
            errors++;
        } else if (strcmp(ho_msg_type(reply[i]), "quarantine") == 0) {
            assert_string_equal(json_string_value(json_object_get(p, "code")), "worker_error");
            assert_true(json_equal(json_object_get(p, "raw"), ho_msg_payload(two[quarantined])));
            quarantined++;
        }
    }
    assert_int_equal(errors, 2);
    assert_int_equal(quarantined, 2);
    ho_msg_batch_free(&reply, n);

    /* RETRY past the runtime's 3 quick retries (a transient fault that lasts, e.g. a full
     * disk): the runtime neither quarantines nor answers; it keeps the request and calls
     * again with backoff until the handler passes. Five RETRYs, then OK: one reply, the
     * echo, no error and no retries_exhausted quarantine. */
    s_flaky_calls = -3;
    assert_int_equal(ho_client_request(c, "flaky", &in, 1, &reply, &n, &err), HO_OK);
    assert_int_equal(s_flaky_calls, 3);
    assert_int_equal(n, 1);
    s_assert_same(reply[0], in);
    ho_msg_batch_free(&reply, n);

    ho_msg_destroy(&in);
    ho_msg_destroy(&two[0]);
    ho_msg_destroy(&two[1]);
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&wf), 0);
    assert_int_equal(s_worker_stop(&wb), 0);
    s_broker_stop(&b);
}

static void test_tick_output_is_routed(void **state)
{
    s_write_config("handoff.yaml", 1000, "  test.tick: sink\n");
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_sink_ticks = 0;
    s_worker_t *sink = s_worker_start(&s_def_sink, b.endpoint, NULL);
    s_worker_t *ticker = s_worker_start(&s_def_ticker, b.endpoint, NULL);
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    int got = 0;
    while (zclock_mono() < end && got < 3) {
        pthread_mutex_lock(&s_sink_lock);
        got = s_sink_ticks;
        pthread_mutex_unlock(&s_sink_lock);
        zclock_sleep(10);
    }
    assert_true(got >= 3);
    pthread_mutex_lock(&s_sink_lock);
    /* origin stamped by the runtime: name@host:pid */
    assert_non_null(strstr(s_sink_origin, "ticker@"));
    pthread_mutex_unlock(&s_sink_lock);
    assert_int_equal(s_worker_stop(&ticker), 0);
    assert_int_equal(s_worker_stop(&sink), 0);
    s_broker_stop(&b);
}

/* no_tick: the worker's own clock is off (a supervisor ticks it): in the time the ticker
 * above sends three, it sends none; the same worker without no_tick does tick. */
static void test_no_tick_stops_the_own_clock(void **state)
{
    (void)state;
    s_write_config("handoff.yaml", 1000, "  test.tick: sink\n");
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_sink_ticks = 0;
    s_worker_t *sink = s_worker_start(&s_def_sink, b.endpoint, NULL);
    s_next_no_tick = true;
    s_worker_t *quiet = s_worker_start(&s_def_ticker, b.endpoint, NULL);
    s_next_no_tick = false;
    zclock_sleep(20 * 10); /* ten tick periods */
    pthread_mutex_lock(&s_sink_lock);
    int got = s_sink_ticks;
    pthread_mutex_unlock(&s_sink_lock);
    assert_int_equal(got, 0);
    assert_int_equal(s_worker_stop(&quiet), 0);
    s_worker_t *ticker = s_worker_start(&s_def_ticker, b.endpoint, NULL);
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    while (zclock_mono() < end && got < 1) {
        pthread_mutex_lock(&s_sink_lock);
        got = s_sink_ticks;
        pthread_mutex_unlock(&s_sink_lock);
        zclock_sleep(10);
    }
    assert_true(got >= 1);
    assert_int_equal(s_worker_stop(&ticker), 0);
    assert_int_equal(s_worker_stop(&sink), 0);
    s_broker_stop(&b);
}

typedef struct {
    int done;
    int ok;
} s_count_t;

static void s_count_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    s_count_t *c = arg;
    c->done++;
    c->ok += msgs && n == 1 && strcmp(ho_msg_type(msgs[0]), "lead.raw") == 0;
}

static void test_backpressure_503_is_resent(void **state)
{
    /* max_queue 1 and no worker yet: the second and third requests are refused with 503
     * until a worker appears; the client backs off and resends, so all three get answers. */
    s_write_config("handoff.yaml", 1, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    ho_client_t *c = s_client(b.endpoint, 4, 8000, 1);
    s_count_t count = {0};
    ho_err_t err = {0};
    for (int i = 0; i < 3; i++) {
        ho_msg_t *m = s_lead(i);
        assert_true(ho_client_send(c, "echo", &m, 1, s_count_reply, &count, &err) > 0);
        ho_msg_destroy(&m);
    }
    /* wait until the broker has refused at least once */
    ho_client_t *probe = s_client(b.endpoint, 1, 1000, 3);
    int64_t end = zclock_mono() + S_DEADLINE_MS;
    long long refused = 0;
    while (zclock_mono() < end && refused == 0) {
        json_t *st = NULL;
        if (ho_client_status(probe, &st, &err) == HO_OK) {
            refused =
                json_integer_value(json_object_get(json_object_get(st, "counters"), "refused"));
            json_decref(st);
        }
        zclock_sleep(20);
    }
    assert_true(refused > 0);
    ho_client_destroy(&probe);
    assert_int_equal(count.done, 0); /* a 503 is never handed to the caller */
    s_worker_t *w = s_worker_start(&s_def_echo, b.endpoint, NULL);
    assert_int_equal(ho_client_flush(c, &err), HO_OK);
    assert_int_equal(count.done, 3);
    assert_int_equal(count.ok, 3);
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&w), 0);
    s_broker_stop(&b);
}

static void test_worker_reregisters_after_broker_restart(void **state)
{
    /* ipc in the test folder: a freed tcp port could be taken by a parallel test */
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/restart.ipc", s_dir);
    s_broker_start(&b, "handoff.yaml", endpoint);
    s_worker_t *w = s_worker_start(&s_def_echo, endpoint, NULL);
    assert_int_equal(s_wait_workers(endpoint, "echo", 1), 1);
    s_broker_stop(&b);
    /* a new broker on the same endpoint knows nothing of the worker: the worker hears no
     * heartbeat (or gets DISCONNECT), reconnects with a new socket and sends READY again */
    s_broker_start(&b, "handoff.yaml", endpoint);
    assert_int_equal(s_wait_workers(endpoint, "echo", 1), 1);
    ho_client_t *c = s_client(endpoint, 1, 5000, 2);
    ho_msg_t *in = s_lead(1);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_client_request(c, "echo", &in, 1, &reply, &n, &err), HO_OK);
    assert_int_equal(n, 1);
    s_assert_same(reply[0], in);
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&in);
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&w), 0);
    s_broker_stop(&b);
}

typedef struct {
    int replies;
    int last_call;
} s_slow_t;

static void s_slow_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    s_slow_t *r = arg;
    r->replies++;
    if (msgs && n == 1) {
        r->last_call = (int)json_integer_value(json_object_get(ho_msg_payload(msgs[0]), "call"));
    }
}

static void test_client_resends_after_timeout(void **state)
{
    s_write_config("handoff.yaml", 1000, NULL);
    s_broker_t b = {0};
    s_broker_start(&b, "handoff.yaml", "tcp://127.0.0.1:*");
    s_slow_calls = 0;
    s_worker_t *w = s_worker_start(&s_def_slow, b.endpoint, NULL);
    assert_int_equal(s_wait_workers(b.endpoint, "slow", 1), 1);
    ho_client_t *c = s_client(b.endpoint, 2, 300, 3);
    s_slow_t r = {0};
    ho_err_t err = {0};
    ho_msg_t *in = s_lead(1);
    assert_true(ho_client_send(c, "slow", &in, 1, s_slow_reply, &r, &err) > 0);
    assert_int_equal(ho_client_flush(c, &err), HO_OK);
    /* answered exactly once, by a later delivery (how many resends happened while the
     * first call slept depends on timing): the first attempt's late reply went to the
     * socket the client had already replaced */
    assert_int_equal(r.replies, 1);
    assert_true(r.last_call >= 2);
    assert_true(s_slow_calls >= 2);
    /* the next request on the same client gets its own answer, not a leftover */
    ho_msg_t **reply = NULL;
    size_t n = 0;
    assert_int_equal(ho_client_request(c, "slow", &in, 1, &reply, &n, &err), HO_OK);
    assert_int_equal(n, 1);
    assert_true(json_integer_value(json_object_get(ho_msg_payload(reply[0]), "call")) >
                r.last_call);
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&in);
    ho_client_destroy(&c);
    assert_int_equal(s_worker_stop(&w), 0);
    s_broker_stop(&b);
}

static void test_client_gives_up_without_broker(void **state)
{
    /* nothing listens there: every attempt times out, then the request fails with a
     * message naming endpoint and service */
    ho_client_t *c = s_client("tcp://127.0.0.1:1", 2, 100, 1);
    ho_msg_t *in = s_lead(1);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_client_request(c, "echo", &in, 1, &reply, &n, &err), HO_ERR_IO);
    assert_null(reply);
    assert_non_null(strstr(err.message, "tcp://127.0.0.1:1"));
    assert_non_null(strstr(err.message, "echo"));
    json_t *st = NULL;
    assert_int_equal(ho_client_status(c, &st, &err), HO_ERR_IO);
    assert_null(st);
    ho_msg_destroy(&in);
    ho_client_destroy(&c);
}

static void test_client_bad_curve_config(void **state)
{
    ho_client_opts_t opts = {.curve_server_key = "short", .curve_cert_path = "/nonexistent"};
    ho_err_t err = {0};
    assert_null(ho_client_new("tcp://127.0.0.1:1", &opts, &err));
    assert_string_equal(err.field, "broker.curve.client_cert");
    assert_null(ho_client_new(NULL, NULL, &err));
    assert_int_equal(err.code, HO_ERR_CONFIG);
}

static void test_worker_init_failure(void **state)
{
    ho_runtime_opts_t opts = {.endpoint = NULL};
    assert_int_equal(ho_worker_run(&s_def_echo, &opts), 1);
}

int main(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/ho-test-runtime-XXXXXX");
    if (!mkdtemp(s_dir)) {
        return 1;
    }
    setenv("HO_LOG_LEVEL", "error", 0);
    /* czmq initialises itself on first socket; doing that from several threads at once trips
     * an assertion in zsys_init, so do it here, before any worker thread starts */
    zsys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_roundtrip),
        cmocka_unit_test(test_window_matches_replies),
        cmocka_unit_test(test_bad_frames_quarantined_good_ones_pass),
        cmocka_unit_test(test_batch_of_only_bad_envelopes),
        cmocka_unit_test(test_worker_refuses_a_frame_over_the_limit),
        cmocka_unit_test(test_client_is_hdp_and_refuses_a_frame_over_the_limit),
        cmocka_unit_test(test_retry_then_error),
        cmocka_unit_test(test_tick_output_is_routed),
        cmocka_unit_test(test_no_tick_stops_the_own_clock),
        cmocka_unit_test(test_backpressure_503_is_resent),
        cmocka_unit_test(test_worker_reregisters_after_broker_restart),
        cmocka_unit_test(test_client_resends_after_timeout),
        cmocka_unit_test(test_client_gives_up_without_broker),
        cmocka_unit_test(test_client_bad_curve_config),
        cmocka_unit_test(test_worker_init_failure),
        cmocka_unit_test(test_client_takes_max_frame_bytes_from_the_config),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", s_dir);
    }
    return rc;
}
