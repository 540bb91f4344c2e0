/* bench_routing.c - routing decisions per second with the shipped deploy/routing.yaml and a
 * real router.db (WAL) in a temp dir, and outbox file deliveries per second.
 *
 *     build/bench_routing [--leads 20000]
 *
 * Prints key=value lines: routing with one SQLite transaction per decision (counts, rotation,
 * the decision by event id) and with one per batch of 100 (what the route worker does for a
 * request of 100 envelopes); outbox packet files one fsync each and in group commits of 100. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handoff/log.h"
#include "handoff/routing.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_outbox;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const s_places[][2] = {{"US", "NY"}, {"US", "TX"}, {"US", "CA"}, {"GB", ""},
                                          {"DE", ""},   {"FR", ""},   {"SG", ""},   {"US", "MA"},
                                          {"IE", ""},   {"BR", ""}};

/* Route `leads` leads in batches of `batch` (1 = one transaction per decision, as before
 * the route worker decided a request's envelopes in one transaction). */
static int s_route(const char *deploy, const char *dir, long leads, long batch)
{
    char db[4200];
    snprintf(db, sizeof db, "%s/router-%ld.db", dir, batch);
    ho_err_t err = {0};
    ho_routing_t *r = ho_routing_load(deploy, "routing.yaml", &err);
    ho_route_state_t *st = r ? ho_route_state_open(db, &err) : NULL;
    if (!r || !st) {
        fprintf(stderr, "bench_routing: %s\n", err.message);
        return 1;
    }
    int64_t t0 = 1795165200000LL;
    long assigned = 0, queued = 0;
    double start = s_now();
    for (long i = 0; i < leads; i++) {
        if (batch > 1 && i % batch == 0 && ho_route_state_batch_begin(st, &err) != HO_OK) {
            fprintf(stderr, "bench_routing: %s\n", err.message);
            return 1;
        }
        const char *const *pl = s_places[i % 10];
        json_t *req = json_pack("{s:{s:I,s:{s:s,s:s,s:I},s:{s:s,s:s}},s:I,s:n,s:[]}", "lead",
                                "lead_id", (json_int_t)i, "fields", "country", pl[0], "state",
                                pl[1], "employees", (json_int_t)((i * 37) % 5000 + 1), "score",
                                "grade", (i % 7) ? "B2" : "A1", "quadrant", "mql_now", "as_of",
                                (json_int_t)(t0 + i * 8640000LL), "account_owner", "exclude");
        char id[32];
        snprintf(id, sizeof id, "bench-%ld", i);
        json_t *out = NULL;
        if (ho_routing_decide(r, st, id, req, &out, NULL, &err) != HO_OK) {
            fprintf(stderr, "bench_routing: %s\n", err.message);
            return 1;
        }
        if (json_is_string(json_object_get(out, "rep_id"))) {
            assigned++;
        } else {
            queued++;
        }
        json_decref(out);
        json_decref(req);
        if (batch > 1 && (i % batch == batch - 1 || i == leads - 1) &&
            ho_route_state_batch_commit(st, &err) != HO_OK) {
            fprintf(stderr, "bench_routing: %s\n", err.message);
            return 1;
        }
    }
    double secs = s_now() - start;
    printf("routing_leads=%ld batch=%ld assigned=%ld queued=%ld seconds=%.3f decisions_per_s=%.0f "
           "us_per_decision=%.1f\n",
           leads, batch, assigned, queued, secs, leads / secs, secs * 1e6 / leads);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);
    return 0;
}

/* `packets` handoff.ready through the outbox worker's handler, `batch` per request (one
 * group commit per request when batch > 1). */
static int s_outbox(const char *dir, long packets, long batch)
{
    char yaml[200];
    snprintf(yaml, sizeof yaml, "workers:\n  outbox:\n    dir: outbox-%ld\n", batch);
    ho_err_t err = {0};
    ho_conf_t *conf = ho_conf_parse(yaml, strlen(yaml), "bench.yaml", &err);
    ho_worker_env_t env = {.name = "outbox",
                           .data_dir = dir,
                           .config_dir = dir,
                           .conf = conf,
                           .settings =
                               ho_node_get(ho_node_get(ho_conf_root(conf), "workers"), "outbox")};
    void *ctx = NULL;
    if (ho_worker_outbox.cb_init(&env, &ctx, &err) != HO_OK) {
        fprintf(stderr, "bench_routing: %s\n", err.message);
        return 1;
    }
    double start = s_now();
    ho_msg_t **msgs = calloc((size_t)batch, sizeof *msgs);
    for (long i = 0; msgs && i < packets; i += batch) {
        long n = packets - i < batch ? packets - i : batch;
        for (long k = 0; k < n; k++) {
            msgs[k] = ho_msg_new("handoff.ready");
            ho_msg_set_payload(msgs[k],
                               json_pack("{s:I,s:{s:s},s:s}", "lead_id", (json_int_t)(i + k), "rep",
                                         "rep_id", s_places[(i + k) % 10][0], "email", "x@y.test"));
        }
        ho_out_t *out = ho_out_new("bench");
        if (ho_worker_call(&ho_worker_outbox, ctx, msgs, (size_t)n, out) != HO_WORKER_OK) {
            fprintf(stderr, "bench_routing: the outbox handler failed\n");
        }
        ho_out_destroy(&out);
        for (long k = 0; k < n; k++) {
            ho_msg_destroy(&msgs[k]);
        }
    }
    free(msgs);
    double secs = s_now() - start;
    printf("outbox_file_packets=%ld batch=%ld seconds=%.3f packets_per_s=%.0f (%s)\n", packets,
           batch, secs, packets / secs,
           batch > 1 ? "group commit: 2 syncfs + renames per batch" : "fsync + rename each");
    ho_worker_outbox.cb_exit(&ctx);
    ho_conf_destroy(&conf);
    return 0;
}

int main(int argc, char **argv)
{
    long leads = 20000;
    ho_log_set_level(HO_LOG_WARN);
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--leads")) {
            leads = atol(argv[++i]);
        }
    }
    char dir[] = "/tmp/ho-bench-routing-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char deploy[4096];
    snprintf(deploy, sizeof deploy, "%s/deploy", HO_SOURCE_DIR);
    int rc = s_route(deploy, dir, leads, 1) || s_route(deploy, dir, leads, 100) ||
             s_outbox(dir, leads / 4, 1) || s_outbox(dir, leads / 4, 100);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_routing: could not remove %s\n", dir);
    }
    return rc;
}
