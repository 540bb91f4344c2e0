/*
 * bench_broker.c - throughput and latency of `handoff broker` itself.
 *
 * For each scenario a fresh broker runs as a child process (the real `handoff broker`
 * binary), echo workers are raw MDP workers in threads (READY with credit, they send every
 * body frame straight back, so the figures measure the broker rather than the codec), and
 * the main thread is a client that keeps W requests in flight. Each request carries one
 * body frame (an envelope, or a batch of 100 envelopes) plus a 16-byte stamp frame used for
 * round-trip latency.
 *
 *     bench_broker [--seconds S] [--ipc] [--route] [--bin PATH/handoff]
 *
 * Prints one row per scenario: requests/s, leads/s (envelopes/s), p50/p99 round trip and the
 * broker's peak RSS (VmHWM of the child).
 *
 * --route: the echo replies are routed one hop (bench.echo: sink) to sink workers (as many as
 * echo workers) that answer with no body, so every request makes one internal request; each
 * scenario runs with the broker journal off and on (proto E11: the client's reply waits for
 * the fsync of the batch that journaled its routed request). Extra column: e2e/s = routed
 * requests the sinks answered per second, from the first request until the sinks drained.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "handoff/msg.h"

#define S_MAX_WORKERS 8
#define S_CREDIT "250"
#define S_MAX_SAMPLES (8u * 1000u * 1000u)

typedef struct {
    const char *name;
    int workers;
    int window;
    int batch; /* envelopes per body frame */
    bool route;   /* replies routed one hop to sink workers */
    bool journal; /* broker.journal on */
} s_scenario_t;

typedef struct {
    const char *service;
    bool sink; /* answer with no body (nothing routed) and count */
} s_worker_arg_t;

static atomic_int s_stop_workers;
static atomic_ullong s_sunk; /* requests answered by sink workers */
static char s_dir[64];       /* config and data dir of the broker child */
static void *s_ctx;
static char s_endpoint[256];
static FILE *s_broker_out; /* kept open until the broker exits, so it never gets SIGPIPE */

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- echo worker thread: raw MDP/0.1 with the credit extension ---- */
static void *s_worker(void *varg)
{
    const s_worker_arg_t *arg = varg;
    void *s = zmq_socket(s_ctx, ZMQ_DEALER);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_connect(s, s_endpoint);
    zmq_send(s, "", 0, ZMQ_SNDMORE);
    zmq_send(s, "MDPW01", 6, ZMQ_SNDMORE);
    zmq_send(s, "\x01", 1, ZMQ_SNDMORE);
    zmq_send(s, arg->service, strlen(arg->service), ZMQ_SNDMORE);
    zmq_send(s, S_CREDIT, strlen(S_CREDIT), 0);
    zmq_msg_t f[16];
    for (int i = 0; i < 16; i++) {
        zmq_msg_init(&f[i]);
    }
    uint64_t last_hb = s_now_ns();
    while (!atomic_load(&s_stop_workers)) {
        zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0) {
            goto heartbeat;
        }
        for (int k = 0; k < 256; k++) {
            int n = 0;
            if (zmq_msg_recv(&f[0], s, ZMQ_DONTWAIT) < 0) {
                break;
            }
            n = 1;
            while (zmq_msg_more(&f[n - 1]) && n < 16) {
                zmq_msg_recv(&f[n], s, 0);
                n++;
            }
            /* [""][MDPW01][cmd][token][""][body...] */
            if (n >= 5 && arg->sink && zmq_msg_size(&f[2]) == 1 &&
                *(unsigned char *)zmq_msg_data(&f[2]) == 0x02) {
                zmq_send(s, "", 0, ZMQ_SNDMORE);
                zmq_send(s, "MDPW01", 6, ZMQ_SNDMORE);
                zmq_send(s, "\x03", 1, ZMQ_SNDMORE);
                zmq_msg_send(&f[3], s, ZMQ_SNDMORE);
                zmq_send(s, "", 0, 0);
                atomic_fetch_add(&s_sunk, 1);
            } else if (n >= 5 && zmq_msg_size(&f[2]) == 1 &&
                       *(unsigned char *)zmq_msg_data(&f[2]) == 0x02) {
                zmq_send(s, "", 0, ZMQ_SNDMORE);
                zmq_send(s, "MDPW01", 6, ZMQ_SNDMORE);
                zmq_send(s, "\x03", 1, ZMQ_SNDMORE);
                for (int i = 3; i < n; i++) {
                    zmq_msg_send(&f[i], s, i + 1 < n ? ZMQ_SNDMORE : 0);
                }
            }
        }
    heartbeat:
        if (s_now_ns() - last_hb > 1000000000ull) {
            zmq_send(s, "", 0, ZMQ_SNDMORE);
            zmq_send(s, "MDPW01", 6, ZMQ_SNDMORE);
            zmq_send(s, "\x04", 1, 0);
            last_hb = s_now_ns();
        }
    }
    zmq_send(s, "", 0, ZMQ_SNDMORE);
    zmq_send(s, "MDPW01", 6, ZMQ_SNDMORE);
    zmq_send(s, "\x05", 1, 0);
    for (int i = 0; i < 16; i++) {
        zmq_msg_close(&f[i]);
    }
    zmq_close(s);
    return NULL;
}

/* ---- the broker child ---- */
static pid_t s_start_broker(const char *bin, bool ipc, const s_scenario_t *sc)
{
    /* a config of its own: the routing table of the scenario, the journal on or off, and a
     * fresh data dir (so no journal of an earlier run is loaded) */
    char config[128], cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/data'", s_dir);
    if (system(cmd) != 0) {
        return -1;
    }
    snprintf(config, sizeof config, "%s/handoff.yaml", s_dir);
    FILE *cf = fopen(config, "w");
    if (!cf) {
        return -1;
    }
    fprintf(cf,
            "broker:\n  journal: %s\n  max_queue: 1000000\ndata_dir: %s/data\nroutes:\n"
            "  %s: sink\n",
            sc->journal ? "broker.journal" : "false", s_dir,
            sc->route ? "bench.echo" : "bench.unrouted");
    fclose(cf);
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    char bind[128];
    if (ipc) {
        snprintf(bind, sizeof bind, "ipc:///tmp/ho-bench-broker-%d.ipc", (int)getpid());
    } else {
        snprintf(bind, sizeof bind, "tcp://127.0.0.1:*");
    }
    pid_t pid = fork();
    if (pid == 0) {
        setenv("HO_LOG_LEVEL", "warn", 0);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(bin, bin, "broker", "-c", config, "--bind", bind, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[512];
    s_endpoint[0] = '\0';
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "bound endpoint=", 15) == 0) {
            size_t n = strcspn(line + 15, "\n");
            if (n >= sizeof s_endpoint) {
                n = sizeof s_endpoint - 1;
            }
            memcpy(s_endpoint, line + 15, n);
            s_endpoint[n] = '\0';
        }
        if (strncmp(line, "broker ready", 12) == 0) {
            break;
        }
    }
    s_broker_out = f;
    if (!s_endpoint[0]) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (f) {
            fclose(f);
        }
        return -1;
    }
    return pid;
}

static long s_vmhwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Encode one body frame: an envelope or a batch of `batch` envelopes of type bench.echo
 * (a type that is not in the routing table, so replies only go back to the client). */
static int s_body(int batch, char **buf, size_t *len)
{
    ho_msg_t *msgs[100];
    int n = batch < 1 ? 1 : (batch > 100 ? 100 : batch);
    for (int i = 0; i < n; i++) {
        msgs[i] = ho_msg_new("bench.echo");
        json_object_set_new(ho_msg_payload(msgs[i]), "email",
                            json_sprintf("lead%d@example.com", i));
        json_object_set_new(ho_msg_payload(msgs[i]), "company", json_string("Example GmbH"));
        json_object_set_new(ho_msg_payload(msgs[i]), "score", json_integer(42));
    }
    int rc = batch > 1 ? ho_msg_encode_batch(msgs, (size_t)n, buf, len)
                       : ho_msg_encode(msgs[0], buf, len);
    for (int i = 0; i < n; i++) {
        ho_msg_destroy(&msgs[i]);
    }
    return rc;
}

static void s_send_request(void *c, const char *body, size_t len, uint64_t seq)
{
    uint64_t stamp[2] = {seq, s_now_ns()};
    zmq_send(c, "", 0, ZMQ_SNDMORE);
    zmq_send(c, "MDPC01", 6, ZMQ_SNDMORE);
    zmq_send(c, "echo", 4, ZMQ_SNDMORE);
    zmq_send(c, body, len, ZMQ_SNDMORE);
    zmq_send(c, stamp, sizeof stamp, 0);
}

static int s_run(const s_scenario_t *sc, const char *bin, bool ipc, double seconds,
                 uint64_t *samples)
{
    pid_t broker = s_start_broker(bin, ipc, sc);
    if (broker < 0) {
        fprintf(stderr, "bench_broker: cannot start %s broker\n", bin);
        return -1;
    }
    atomic_store(&s_stop_workers, 0);
    atomic_store(&s_sunk, 0);
    static const s_worker_arg_t echo = {"echo", false}, sink = {"sink", true};
    pthread_t th[2 * S_MAX_WORKERS];
    int n_threads = 0;
    for (int i = 0; i < sc->workers; i++) {
        pthread_create(&th[n_threads++], NULL, s_worker, (void *)&echo);
        if (sc->route) {
            pthread_create(&th[n_threads++], NULL, s_worker, (void *)&sink);
        }
    }
    void *c = zmq_socket(s_ctx, ZMQ_DEALER);
    int zero = 0, hwm = 100000;
    zmq_setsockopt(c, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(c, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_connect(c, s_endpoint);
    usleep(200000); /* let the workers register */
    char *body = NULL;
    size_t body_len = 0;
    s_body(sc->batch, &body, &body_len);

    uint64_t sent = 0, done = 0, n_samples = 0;
    uint64_t start = s_now_ns();
    uint64_t warm_end = start + 300000000ull;
    uint64_t end = warm_end + (uint64_t)(seconds * 1e9);
    uint64_t measured = 0, t0 = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (;;) {
        uint64_t now = s_now_ns();
        bool sending = now < end;
        while (sending && sent - done < (uint64_t)sc->window) {
            s_send_request(c, body, body_len, sent++);
        }
        if (!sending && sent == done) {
            break;
        }
        zmq_pollitem_t item = {c, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, sending ? 100 : 2000) <= 0) {
            if (!sending) {
                fprintf(stderr, "bench_broker: %llu replies missing\n",
                        (unsigned long long)(sent - done));
                break;
            }
            continue;
        }
        while (zmq_msg_recv(&m, c, ZMQ_DONTWAIT) >= 0) {
            int part = 0;
            uint64_t stamp[2] = {0, 0};
            for (;;) {
                if (part == 4 && zmq_msg_size(&m) == sizeof stamp) {
                    memcpy(stamp, zmq_msg_data(&m), sizeof stamp);
                }
                if (!zmq_msg_more(&m)) {
                    break;
                }
                zmq_msg_recv(&m, c, 0);
                part++;
            }
            done++;
            uint64_t t = s_now_ns();
            if (t >= warm_end && t < end) {
                if (!t0) {
                    t0 = t;
                }
                measured++;
                if (n_samples < S_MAX_SAMPLES) {
                    samples[n_samples++] = t - stamp[1];
                }
            }
        }
    }
    double elapsed = (double)(end - (t0 ? t0 : warm_end)) / 1e9;
    zmq_msg_close(&m);
    double e2e = 0;
    if (sc->route) {
        /* every answered request made one routed request: wait for the sinks to drain */
        uint64_t deadline = s_now_ns() + 60000000000ull;
        while (atomic_load(&s_sunk) < done && s_now_ns() < deadline) {
            usleep(1000);
        }
        uint64_t sunk = atomic_load(&s_sunk);
        if (sunk < done) {
            fprintf(stderr, "bench_broker: %llu routed requests not drained\n",
                    (unsigned long long)(done - sunk));
        }
        e2e = (double)sunk / ((double)(s_now_ns() - start) / 1e9);
    }
    long rss = s_vmhwm_kb(broker);
    atomic_store(&s_stop_workers, 1);
    for (int i = 0; i < n_threads; i++) {
        pthread_join(th[i], NULL);
    }
    zmq_close(c);
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
    if (s_broker_out) {
        fclose(s_broker_out);
        s_broker_out = NULL;
    }
    free(body);

    qsort(samples, n_samples, sizeof *samples, s_cmp_u64);
    double rps = (double)measured / elapsed;
    double p50 = n_samples ? (double)samples[n_samples / 2] / 1000.0 : 0;
    double p99 = n_samples ? (double)samples[(n_samples * 99) / 100] / 1000.0 : 0;
    printf("%-34s %7d %6d %6d %12.0f %12.0f %10.1f %10.1f %9.1f", sc->name, sc->workers, sc->window,
           sc->batch, rps, rps * sc->batch, p50, p99, rss / 1024.0);
    if (sc->route) {
        printf(" %10.0f", e2e);
    }
    printf("\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    bool ipc = false, route = false;
    const char *only = NULL;
    char bin[PATH_MAX + 16] = "";
    if (getenv("HO_BIN")) {
        snprintf(bin, sizeof bin, "%s", getenv("HO_BIN"));
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--ipc")) {
            ipc = true;
        } else if (!strcmp(argv[i], "--route")) {
            route = true;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--bin") && i + 1 < argc) {
            snprintf(bin, sizeof bin, "%s", argv[++i]);
        } else {
            printf("usage: bench_broker [--seconds S] [--ipc] [--route] [--only TEXT] "
                   "[--bin PATH/handoff]\n"
                   "(--only: just the scenarios whose name contains TEXT)\n"
                   "(default binary: $HO_BIN, else 'handoff' next to this program)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (!bin[0]) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "bench_broker: give --bin\n");
            return 2;
        }
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(bin, sizeof bin, "%s/handoff", self);
    }
    signal(SIGPIPE, SIG_IGN);
    static const s_scenario_t plain[] = {
        {"1 worker, 1 in flight", 1, 1, 1, false, false},
        {"1 worker, 100 in flight", 1, 100, 1, false, false},
        {"4 workers, 1 in flight", 4, 1, 1, false, false},
        {"4 workers, 100 in flight", 4, 100, 1, false, false},
        {"4 workers, 1000 in flight", 4, 1000, 1, false, false},
        {"4 workers, 100, batch 100", 4, 100, 100, false, false},
    };
    static const s_scenario_t routed[] = {
        {"routed, 4 workers, 1, journal off", 4, 1, 1, true, false},
        {"routed, 4 workers, 1, journal on", 4, 1, 1, true, true},
        {"routed, 4 workers, 100, journal off", 4, 100, 1, true, false},
        {"routed, 4 workers, 100, journal on", 4, 100, 1, true, true},
        {"routed, 4 workers, 1000, journal off", 4, 1000, 1, true, false},
        {"routed, 4 workers, 1000, journal on", 4, 1000, 1, true, true},
        {"routed, 4w, 100, batch 100, j. off", 4, 100, 100, true, false},
        {"routed, 4w, 100, batch 100, j. on", 4, 100, 100, true, true},
    };
    const s_scenario_t *scenarios = route ? routed : plain;
    size_t n_scenarios = route ? sizeof routed / sizeof routed[0] : sizeof plain / sizeof plain[0];
    snprintf(s_dir, sizeof s_dir, "%s/ho-bench-broker-XXXXXX",
             getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 30 ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s_dir)) {
        fprintf(stderr, "bench_broker: cannot make a temporary folder\n");
        return 1;
    }
    uint64_t *samples = malloc(S_MAX_SAMPLES * sizeof *samples);
    s_ctx = zmq_ctx_new();
    if (!samples || !s_ctx) {
        return 1;
    }
    printf("bench_broker: %s, %.1f s per scenario, worker credit %s, broker %s\n",
           ipc ? "ipc" : "tcp", seconds, S_CREDIT, bin);
    printf("%-34s %7s %6s %6s %12s %12s %10s %10s %9s%s\n", "scenario", "workers", "window",
           "batch", "requests/s", "leads/s", "p50 us", "p99 us", "RSS MB",
           route ? "      e2e/s" : "");
    int rc = 0;
    for (size_t i = 0; i < n_scenarios; i++) {
        if (only && !strstr(scenarios[i].name, only)) {
            continue;
        }
        if (s_run(&scenarios[i], bin, ipc, seconds, samples) != 0) {
            rc = 1;
        }
    }
    zmq_ctx_term(s_ctx);
    free(samples);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_broker: cannot remove %s\n", s_dir);
    }
    return rc;
}
