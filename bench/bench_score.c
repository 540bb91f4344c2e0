/*
 * bench_score.c - how fast one scorer scores, and how scoring scales over scorer processes.
 *
 *     bench_score [--leads N] [--batches B] [--window W] [--model FILE] [--bin PATH/handoff]
 *
 * Part 1, in-process (one thread = one scorer): N seeded synthetic leads shaped like the demo
 * world (titles, industries, countries, sizes, free-mail, 0-40 activities over 120 days) are
 * scored with the shipped model (or --model): ho_score_lead alone, then the whole worker path
 * (decode a msgpack batch of score.request, ho_worker_call, encode the lead.scored batch).
 *
 * Part 2, through the real broker: a fresh `handoff broker` child and 1, then 2, `handoff
 * worker score` children; the client keeps W pre-encoded batches of 100 score.request in
 * flight (raw Majordomo client, so the client costs little) and times B batches. Prints
 * leads/s, the speed-up over one scorer, and the scorers' CPU time (rusage of the children):
 * leads per scorer CPU-second stays flat when the work is spread, so with a core per scorer
 * the throughput grows with the scorers. All processes share this machine's CPUs, so the
 * wall-clock scaling shown is bounded by the core count printed in the header.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "handoff/msg.h"
#include "handoff/scoring.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_score;

#define S_BATCH 100
#define S_AS_OF 1795165200000LL /* 2026-11-20T09:00:00Z */
#define S_MAX_SCORERS 2

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 16);
}

#define PICK(a) (a[s_rand() % (sizeof a / sizeof a[0])])

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *s_lead(long id, size_t *n_acts)
{
    static const char *const titles[] = {"Chief Data Officer",
                                         "VP Engineering",
                                         "Head of Data",
                                         "Director of Analytics",
                                         "Data Engineer",
                                         "IT Manager",
                                         "Product Manager",
                                         "Marketing Coordinator",
                                         "Student",
                                         "Intern",
                                         "Software Developer",
                                         "Consultant"};
    static const char *const groups[] = {"software", "finance",   "healthcare", "retail",
                                         "telecom",  "nonprofit", "education",  "other"};
    static const char *const countries[] = {"US", "GB", "DE", "FR", "IN", "AU", "BR", "NL"};
    static const char *const domains[] = {"acme.example", "gmail.com",      "initech.example",
                                          "yahoo.com",    "globex.example", "umbrella.example"};
    static const char *const types[] = {"email_open",        "email_open",       "email_click",
                                        "page_view",         "page_view",        "page_view",
                                        "webinar_attended",  "content_download", "demo_request",
                                        "free_trial_signup", "unsubscribe",      "form_submit"};
    static const char *const paths[] = {"/pricing", "/demo",   "/careers", "/product/cdc",
                                        "/blog/x",  "/docs/a", "/",        "/resources/a.pdf"};
    const char *domain = PICK(domains);
    json_t *f =
        json_pack("{s:s,s:s,s:s,s:i,s:f,s:s,s:b,s:s}", "title", PICK(titles), "industry_group",
                  PICK(groups), "country", PICK(countries), "employees", (int)(s_rand() % 20000),
                  "revenue", (double)(s_rand() % 1000) * 1e6, "domain", domain, "personal_email",
                  strstr(domain, ".example") == NULL, "company", "Acme");
    if (s_rand() % 4 == 0) {
        json_object_set_new(f, "message", json_string("we run kafka and airflow today"));
    }
    json_t *acts = json_array();
    size_t k = s_rand() % 41;
    for (size_t i = 0; i < k; i++) {
        int64_t at = S_AS_OF - (int64_t)(s_rand() % (120u * 24u)) * 3600000LL;
        json_array_append_new(acts, json_pack("{s:s,s:s,s:n,s:I,s:n}", "type", PICK(types), "path",
                                              PICK(paths), "url", "occurred_at", (json_int_t)at,
                                              "campaign"));
    }
    *n_acts += k;
    char email[64];
    snprintf(email, sizeof email, "lead%ld@%s", id, domain);
    return json_pack("{s:I,s:s,s:s,s:n,s:o,s:o}", "lead_id", (json_int_t)id, "email", email,
                     "stage", "ML", "owner", "fields", f, "activities", acts);
}

static ho_msg_t *s_request(json_t *lead, long id)
{
    ho_msg_t *m = ho_msg_new("score.request");
    char mid[64];
    snprintf(mid, sizeof mid, "sr-bench-%ld", id);
    ho_msg_set_id(m, mid);
    ho_msg_set_payload(m, json_pack("{s:I,s:s,s:O}", "as_of", (json_int_t)S_AS_OF, "reason",
                                    "rescore", "lead", lead));
    return m;
}

/* ---- children ---- */
typedef struct {
    pid_t pid;
    FILE *out; /* kept open until the child exits, so it never gets SIGPIPE */
} s_child_t;

static int s_spawn(s_child_t *c, const char *bin, char *const argv[], const char *ready,
                   char *endpoint, size_t cap)
{
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    c->pid = fork();
    if (c->pid == 0) {
        setenv("HO_LOG_LEVEL", "warn", 1);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(p[1]);
    c->out = fdopen(p[0], "r");
    char line[512];
    while (c->out && fgets(line, sizeof line, c->out)) {
        if (endpoint && strncmp(line, "bound endpoint=", 15) == 0) {
            snprintf(endpoint, cap, "%.200s", line + 15);
            endpoint[strcspn(endpoint, "\n")] = '\0';
        }
        if (strstr(line, ready)) {
            return 0;
        }
    }
    return -1;
}

/* Stop a child; returns the CPU seconds (user + system) it used. */
static double s_stop(s_child_t *c)
{
    double cpu = 0;
    if (c->pid > 0) {
        struct rusage ru;
        kill(c->pid, SIGTERM);
        if (wait4(c->pid, NULL, 0, &ru) == c->pid) {
            cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        }
        c->pid = 0;
    }
    if (c->out) {
        fclose(c->out);
        c->out = NULL;
    }
    return cpu;
}

/* One broker + `scorers` score workers; B batches with W in flight. leads/s or -1. */
static double s_through_broker(const char *bin, const char *cfg, int scorers, char **frames,
                               size_t *lens, size_t n_frames, int batches, int window,
                               double *scorer_cpu, double *broker_cpu)
{
    s_child_t broker = {0}, workers[S_MAX_SCORERS] = {{0}};
    char endpoint[256] = "";
    char *bargv[] = {(char *)bin, "broker", "-c", (char *)cfg, "--bind", "tcp://127.0.0.1:*", NULL};
    double rate = -1;
    void *ctx = NULL, *sock = NULL;
    if (s_spawn(&broker, bin, bargv, "broker ready", endpoint, sizeof endpoint) != 0 ||
        !endpoint[0]) {
        fprintf(stderr, "bench_score: broker did not start\n");
        goto done;
    }
    for (int i = 0; i < scorers; i++) {
        char *wargv[] = {(char *)bin, "worker",    "score",  "-c",
                         (char *)cfg, "--connect", endpoint, NULL};
        if (s_spawn(&workers[i], bin, wargv, "worker ready", NULL, 0) != 0) {
            fprintf(stderr, "bench_score: score worker did not start\n");
            goto done;
        }
    }
    ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, hwm = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_connect(sock, endpoint) != 0) {
        goto done;
    }
    /* warm-up: one batch round trip per scorer, so every worker has registered */
    int sent = 0, got = 0, in_flight = 0;
    double t0 = 0;
    int total = batches + scorers;
    while (got < total) {
        while (in_flight < window && sent < total) {
            size_t k = (size_t)sent % n_frames;
            zmq_send(sock, "", 0, ZMQ_SNDMORE);
            zmq_send(sock, "MDPC01", 6, ZMQ_SNDMORE);
            zmq_send(sock, "score", 5, ZMQ_SNDMORE);
            zmq_send(sock, frames[k], lens[k], 0);
            sent++;
            in_flight++;
            if (sent == scorers) {
                break; /* warm-up requests first, alone */
            }
        }
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 30000) <= 0) {
            fprintf(stderr, "bench_score: no reply in 30 s\n");
            goto done;
        }
        int more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            zmq_msg_recv(&part, sock, 0);
            more = zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
        got++;
        in_flight--;
        if (got == scorers) {
            t0 = s_now();
        }
    }
    rate = (double)batches * S_BATCH / (s_now() - t0);
done:
    if (sock) {
        zmq_close(sock);
    }
    if (ctx) {
        zmq_ctx_term(ctx);
    }
    *scorer_cpu = 0;
    for (int i = 0; i < scorers; i++) {
        *scorer_cpu += s_stop(&workers[i]);
    }
    *broker_cpu = s_stop(&broker);
    return rate;
}

int main(int argc, char **argv)
{
    long n_leads = 20000;
    int batches = 600, window = 16;
    bool broker_part = true;
    const char *model_path = NULL;
    char bin[PATH_MAX + 16] = "";
    if (getenv("HO_BIN")) {
        snprintf(bin, sizeof bin, "%s", getenv("HO_BIN"));
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--leads") && i + 1 < argc) {
            n_leads = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--batches") && i + 1 < argc) {
            batches = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--window") && i + 1 < argc) {
            window = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model_path = argv[++i];
        } else if (!strcmp(argv[i], "--in-process")) {
            broker_part = false;
        } else if (!strcmp(argv[i], "--bin") && i + 1 < argc) {
            snprintf(bin, sizeof bin, "%s", argv[++i]);
        } else {
            printf("usage: bench_score [--leads N] [--batches B] [--window W] [--model FILE]\n"
                   "                   [--bin PATH/handoff] [--in-process]\n"
                   "(default binary: $HO_BIN, else 'handoff' next to this program)\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (n_leads < S_BATCH || batches < 1 || window < 1) {
        fprintf(stderr, "bench_score: --leads >= %d, --batches and --window >= 1\n", S_BATCH);
        return 2;
    }
    if (!bin[0]) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "bench_score: give --bin\n");
            return 2;
        }
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(bin, sizeof bin, "%s/handoff", self);
    }
    signal(SIGPIPE, SIG_IGN);
    ho_err_t err = {0};
    ho_score_model_t *model = model_path ? ho_score_model_load_file(model_path, &err)
                                         : ho_score_model_load(NULL, "scoring.yaml", &err);
    if (!model) {
        fprintf(stderr, "bench_score: %s\n", err.message);
        return 1;
    }
    json_t **leads = calloc((size_t)n_leads, sizeof *leads);
    size_t n_acts = 0;
    for (long i = 0; i < n_leads; i++) {
        leads[i] = s_lead(i, &n_acts);
    }
    printf("bench_score: model %s (%s), %ld synthetic leads, %.1f activities/lead, %ld CPUs\n",
           ho_score_model_version(model), ho_score_model_name(model), n_leads,
           (double)n_acts / (double)n_leads, sysconf(_SC_NPROCESSORS_ONLN));

    /* ---- part 1: in-process ---- */
    printf("\nin-process, one thread (= one scorer)\n");
    printf("%-44s %12s %10s %14s\n", "path", "leads/s", "us/lead", "leads/CPU-s");
    long mql = 0;
    double t0 = s_now(), c0 = s_cpu();
    for (long i = 0; i < n_leads; i++) {
        ho_score_result_t r;
        if (ho_score_lead(model, leads[i], S_AS_OF, &r, &err) == HO_OK) {
            mql += r.mql;
        }
        ho_score_result_clear(&r);
    }
    double dt = s_now() - t0, dc = s_cpu() - c0;
    printf("%-44s %12.0f %10.2f %14.0f\n", "ho_score_lead (with detail texts)",
           (double)n_leads / dt, dt * 1e6 / (double)n_leads, (double)n_leads / dc);
    /* the scorer's own path: no texts (the compact explanation needs none) */
    t0 = s_now();
    c0 = s_cpu();
    for (long i = 0; i < n_leads; i++) {
        ho_score_result_t r;
        ho_score_lead_opt(model, leads[i], S_AS_OF, 0, &r, &err);
        ho_score_result_clear(&r);
    }
    dt = s_now() - t0;
    dc = s_cpu() - c0;
    printf("%-44s %12.0f %10.2f %14.0f\n", "ho_score_lead_opt (scorer: no texts)",
           (double)n_leads / dt, dt * 1e6 / (double)n_leads, (double)n_leads / dc);

    /* the worker path: decode a batch frame, handle, encode the reply frame */
    size_t n_frames = (size_t)(n_leads / S_BATCH);
    char **frames = calloc(n_frames, sizeof *frames);
    size_t *lens = calloc(n_frames, sizeof *lens);
    for (size_t b = 0; b < n_frames; b++) {
        ho_msg_t *batch[S_BATCH];
        for (int k = 0; k < S_BATCH; k++) {
            long id = (long)b * S_BATCH + k;
            batch[k] = s_request(leads[id], id);
        }
        ho_msg_encode_batch(batch, S_BATCH, &frames[b], &lens[b]);
        for (int k = 0; k < S_BATCH; k++) {
            ho_msg_destroy(&batch[k]);
        }
    }
    char cfg[] = "/tmp/ho-bench-score-XXXXXX";
    int fd = mkstemp(cfg);
    FILE *cf = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!cf) {
        fprintf(stderr, "bench_score: cannot write a temp config\n");
        return 1;
    }
    /* lead.scored has no route: replies go back to the bench client only */
    fprintf(cf, "routes:\n  score.request: score\n");
    if (model_path) {
        char abs[PATH_MAX];
        fprintf(cf, "workers:\n  score:\n    model: %s\n",
                realpath(model_path, abs) ? abs : model_path);
    }
    fclose(cf);
    ho_conf_t *conf = ho_conf_load(cfg, &err);
    ho_worker_env_t env = {
        .name = "score",
        .conf = conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(conf), "workers"), "score"),
        .origin = "score@bench",
    };
    void *wctx = NULL;
    if (!conf || ho_worker_score.cb_init(&env, &wctx, &err) != HO_OK) {
        fprintf(stderr, "bench_score: %s\n", err.message);
        return 1;
    }
    size_t out_bytes = 0;
    t0 = s_now();
    c0 = s_cpu();
    for (size_t b = 0; b < n_frames; b++) {
        ho_msg_t **in = NULL;
        size_t n = 0;
        ho_msg_decode_frame_opt(frames[b], lens[b],
                                ho_worker_score.packed_payload ? HO_MSG_RAW_PAYLOAD : 0, &in, &n,
                                NULL, NULL, &err);
        ho_out_t *out = ho_out_new("score@bench");
        ho_worker_call(&ho_worker_score, wctx, in, n, out);
        size_t no = 0;
        ho_msg_t **res = ho_out_take(out, &no);
        char *buf = NULL;
        size_t len = 0;
        ho_msg_encode_batch(res, no, &buf, &len);
        out_bytes += len;
        free(buf);
        ho_msg_batch_free(&res, no);
        ho_out_destroy(&out);
        ho_msg_batch_free(&in, n);
    }
    dt = s_now() - t0;
    dc = s_cpu() - c0;
    printf("%-44s %12.0f %10.2f %14.0f\n", "worker path (decode + score + encode, x100)",
           (double)(n_frames * S_BATCH) / dt, dt * 1e6 / (double)(n_frames * S_BATCH),
           (double)(n_frames * S_BATCH) / dc);
    printf("(MQLs among them: %ld; reply %.1f KB per lead with its explanation)\n", mql,
           (double)out_bytes / 1024.0 / (double)(n_frames * S_BATCH));
    ho_worker_score.cb_exit(&wctx);
    ho_conf_destroy(&conf);

    /* ---- part 2: through the broker ---- */
    printf("\nthrough handoff broker (tcp, batches of %d, %d in flight, %d batches timed)\n",
           S_BATCH, window, batches);
    printf("%-8s %12s %10s %14s %16s %16s\n", "scorers", "leads/s", "speed-up", "per scorer/s",
           "scorer CPU s", "leads/scorer-CPU-s");
    double one = 0;
    int rc = 0;
    for (int s = 1; broker_part && s <= S_MAX_SCORERS; s++) {
        double cpu = 0, bcpu = 0;
        double rate =
            s_through_broker(bin, cfg, s, frames, lens, n_frames, batches, window, &cpu, &bcpu);
        if (rate < 0) {
            rc = 1;
            continue;
        }
        if (s == 1) {
            one = rate;
        }
        printf("%-8d %12.0f %9.2fx %14.0f %16.2f %16.0f\n", s, rate, one > 0 ? rate / one : 0,
               rate / s, cpu, cpu > 0 ? (double)(batches + s) * S_BATCH / cpu : 0);
        printf("         (broker CPU %.2f s)\n", bcpu);
    }
    unlink(cfg);
    for (size_t b = 0; b < n_frames; b++) {
        free(frames[b]);
    }
    free(frames);
    free(lens);
    for (long i = 0; i < n_leads; i++) {
        json_decref(leads[i]);
    }
    free(leads);
    ho_score_model_destroy(&model);
    return rc;
}
