/* bench_routing.c - routing decisions per second with the shipped deploy/routing.yaml and a
 * real router.db (WAL) in a temp dir, and outbox file deliveries per second.
 *
 *     build/bench_routing [--leads 20000]
 *
 * Prints key=value lines. Each routing decision is one SQLite transaction (counts, rotation,
 * the decision by event id), as in the route worker. */
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
    char deploy[4096], db[4200];
    snprintf(deploy, sizeof deploy, "%s/deploy", HO_SOURCE_DIR);
    snprintf(db, sizeof db, "%s/router.db", dir);
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
    }
    double secs = s_now() - start;
    printf("routing_leads=%ld assigned=%ld queued=%ld seconds=%.3f decisions_per_s=%.0f "
           "us_per_decision=%.1f\n",
           leads, assigned, queued, secs, leads / secs, secs * 1e6 / leads);
    ho_route_state_destroy(&st);
    ho_routing_destroy(&r);

    /* outbox: file connector only */
    const char *yaml = "workers:\n  outbox:\n    dir: outbox\n";
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
    long packets = leads / 4;
    start = s_now();
    for (long i = 0; i < packets; i++) {
        ho_msg_t *m = ho_msg_new("handoff.ready");
        ho_msg_set_payload(m, json_pack("{s:I,s:{s:s},s:s}", "lead_id", (json_int_t)i, "rep",
                                        "rep_id", s_places[i % 10][0], "email", "x@y.test"));
        ho_out_t *out = ho_out_new("bench");
        ho_worker_call(&ho_worker_outbox, ctx, &m, 1, out);
        ho_out_destroy(&out);
        ho_msg_destroy(&m);
    }
    secs = s_now() - start;
    printf("outbox_file_packets=%ld seconds=%.3f packets_per_s=%.0f (fsync + rename each)\n",
           packets, secs, packets / secs);
    ho_worker_outbox.cb_exit(&ctx);
    ho_conf_destroy(&conf);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_routing: could not remove %s\n", dir);
    }
    return 0;
}
