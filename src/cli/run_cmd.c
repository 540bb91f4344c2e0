/* run_cmd.c - `handoff run`: the embedded default. Starts the broker and one of each built-in
 * worker (N scorers) as child processes of this supervisor, restarts a child that dies, sends
 * the store its clock tick, and stops them all on SIGINT/SIGTERM. With --demo it also writes
 * the seeded demo lead sources, sends them through the pipeline, simulates sales feedback and
 * asks the report worker for the weekly workbook.
 *
 * Every step is the real thing: children are `handoff broker` / `handoff worker NAME`, the demo
 * steps are `handoff demo-data` / `handoff import` processes, and the workbook comes from a
 * report.request sent through the broker to the report worker. This file decides what runs
 * and the demo's steps; starting, restarting and stopping the processes is run_supervise.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>

#include "cli/run_supervise.h"
#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/scoring.h"
#include "handoff/time.h"
#include "handoff/util.h"
#include "handoff/webhook.h"
#include "handoff/worker.h"

#define RUN_MAX_SCORERS 32

/* The pipeline's workers are the registry's (src/runtime/registry.c, the one list), in its
 * order, less the diagnostic ones (echo); filled by s_init_names. */
#define RUN_MAX_WORKERS 16
static const char *s_workers[RUN_MAX_WORKERS];
static size_t s_n_workers;
#define RUN_N_WORKERS s_n_workers

/* What this supervisor runs: --only / --without / --scorers / --webhook, resolved. */
typedef struct {
    bool broker;
    bool worker[RUN_MAX_WORKERS];
    bool webhook;
    long scorers; /* score worker processes when worker[score] */
} s_parts_t;

/* The names --only and --without take: broker, the workers, webhook (s_init_names). */
#define RUN_MAX_PARTS (RUN_MAX_WORKERS + 2)
static const char *s_part_names[RUN_MAX_PARTS];
static size_t s_n_parts;
#define RUN_N_PARTS s_n_parts

static void s_init_names(void)
{
    s_n_workers = 0;
    s_n_parts = 0;
    s_part_names[s_n_parts++] = "broker";
    const ho_worker_def_t *def;
    for (size_t i = 0; (def = ho_worker_at(i)) != NULL && s_n_workers < RUN_MAX_WORKERS; i++) {
        if (!def->diagnostic) {
            s_workers[s_n_workers++] = def->name;
            s_part_names[s_n_parts++] = def->name;
        }
    }
    s_part_names[s_n_parts++] = "webhook";
}

static int64_t s_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoff run [-c CONFIG] [--data-dir DIR] [--connect EP] [--scorers N]\n"
        "                   [--only LIST | --without LIST] [--webhook] [--tick SECONDS]\n"
        "                   [--ready-timeout S]\n"
        "                   [--demo [--seed N] [--now TIME] [--leads N]] [--once]\n"
        "\n"
        "The embedded default on one machine: the broker and one of each built-in worker\n"
        "(ingest store score route feedback report outbox) as supervised child processes.\n"
        "A child that dies is restarted (backoff 1 s doubling to 30 s). The store gets a\n"
        "clock tick (SLA deadlines, re-scores). Ctrl-C / SIGTERM stops every child cleanly.\n"
        "\n"
        "  -c, --config PATH  gateway config (default: $HANDOFF_CONFIG, ./deploy/handoff.yaml,\n"
        "                     built-in defaults)\n"
        "      --data-dir DIR state folder: handoff.db, router.db, outbox/, reports/\n"
        "                     (default: data_dir of the config)\n"
        "      --connect EP   broker endpoint, tcp://HOST:PORT or ipc:///path\n"
        "                     (default: broker.endpoint of the config; --endpoint EP\n"
        "                     is the same)\n"
        "      --scorers N    score worker processes (default 1; 0 = no scorer here)\n"
        "      --only LIST    run just these parts, comma-separated: broker ingest store\n"
        "                     score route feedback report outbox webhook\n"
        "                     (a host of a multi-machine layout: --only broker,store,report)\n"
        "      --without LIST everything but these parts (--without score)\n"
        "                     Without `broker` the workers join the broker at --connect\n"
        "                     that runs elsewhere; readiness then waits for this host's parts.\n"
        "      --webhook      also run `handoff webhook` (form webhooks, /feedback); prints\n"
        "                     'run webhook url=URL'\n"
        "      --tick S       seconds between clock ticks to the store (default 60; 0 = off)\n"
        "      --demo         write the seeded demo lead sources to DIR/demo, import them\n"
        "                     (HubSpot, Salesforce, Marketo, form webhooks, activities),\n"
        "                     simulate the reps' feedback, import it, then request the\n"
        "                     weekly workbook from the report worker\n"
        "      --seed N       demo seed (default 1)\n"
        "      --now TIME     end of the demo's 12-week window (default: this Monday 00:00 UTC)\n"
        "      --leads N      people in the demo world (default 600)\n"
        "      --once         stop after the demo's workbook (or at once without --demo)\n"
        "      --ready-timeout S  give up when the workers have not all registered\n"
        "                     by then (default 30 s)\n"
        "  -h, --help         this help\n"
        "\n"
        "stdout (greppable): 'run ready ...', 'run webhook url=URL', the demo steps' own lines "
        "('demo-data ...',\n"
        "'import ...'), 'run report week=W leads=N path=P', 'workbook: PATH', 'run stopped ...'.\n"
        "Children's logs go to stderr (HO_LOG_LEVEL, default warn for children).\n"
        "Exit 0 on a clean stop, 1 when a step failed, 2 on usage errors.\n");
}

/* ---- the broker's view --------------------------------------------------------------------- */

static ho_client_t *s_client(ho_run_t *run, int timeout_ms)
{
    return ho_cli_env_client(&run->env, 4, timeout_ms, -1);
}

/* One status poll. Returns NULL when the broker did not answer. */
static json_t *s_status(ho_run_t *run)
{
    ho_client_t *c = s_client(run, 1000);
    if (!c) {
        return NULL;
    }
    json_t *st = NULL;
    ho_err_t err = {0};
    if (ho_client_status(c, &st, &err) != HO_OK) {
        ho_debug("status: %s", err.message);
        st = NULL;
    }
    ho_client_destroy(&c);
    return st;
}

static int s_service_int(const json_t *st, const char *service, const char *key)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (name && strcmp(name, service) == 0) {
            return (int)json_integer_value(json_object_get(s, key));
        }
    }
    return 0;
}

/* Workers of service i the broker must list before this host is ready: this host's own, and
 * with `everywhere` (the demo needs the whole pipeline) at least one from some host. */
static int s_want_workers(const s_parts_t *parts, size_t i, bool everywhere)
{
    int own = !parts->worker[i] ? 0 : strcmp(s_workers[i], "score") == 0 ? (int)parts->scorers : 1;
    return everywhere && own == 0 ? 1 : own;
}

/* Wait until every worker has registered: broker answers and each service has its count. */
static int s_wait_ready(ho_run_t *run, const s_parts_t *parts, bool everywhere, int timeout_ms)
{
    int64_t deadline = ho_run_mono_ms() + timeout_ms;
    while (!ho_run_stopping() && ho_run_mono_ms() < deadline) {
        ho_run_supervise(run);
        json_t *st = s_status(run);
        if (st) {
            bool all = true;
            for (size_t i = 0; i < RUN_N_WORKERS; i++) {
                all = all && s_service_int(st, s_workers[i], "workers") >=
                                 s_want_workers(parts, i, everywhere);
            }
            json_decref(st);
            if (all) {
                return 0;
            }
        }
        ho_run_sleep_ms(100);
    }
    return -1;
}

/* Wait until the pipeline has drained: nothing queued or in flight anywhere, and the broker's
 * counters unchanged, over three polls in a row. */
static int s_wait_idle(ho_run_t *run, int timeout_ms)
{
    int64_t deadline = ho_run_mono_ms() + timeout_ms;
    int quiet = 0;
    json_int_t last = -1;
    while (!ho_run_stopping() && ho_run_mono_ms() < deadline) {
        ho_run_supervise(run);
        json_t *st = s_status(run);
        if (st) {
            json_int_t seen = 0;
            bool busy = ho_client_status_busy(st, &seen);
            quiet = (!busy && seen == last) ? quiet + 1 : 0;
            last = seen;
            json_decref(st);
            if (quiet >= 3) {
                return 0;
            }
        }
        ho_run_sleep_ms(100);
    }
    return -1;
}

/* One envelope {now} of `type` to `service`, waiting for the reply (caller frees it with
 * ho_msg_batch_free). Returns HO_OK or an error code with err filled. */
static int s_request(ho_run_t *run, int timeout_ms, const char *service, const char *type,
                     const char *id, int64_t now_ms, ho_msg_t ***reply_p, size_t *n_p,
                     ho_err_t *err)
{
    ho_client_t *c = s_client(run, timeout_ms);
    if (!c) {
        ho_fmt(err->message, sizeof err->message, "no client for %s", run->endpoint);
        return HO_ERR_IO;
    }
    ho_msg_t *m = ho_msg_new(type);
    ho_msg_set_id(m, id);
    ho_msg_set_origin(m, "run");
    ho_msg_set_ts(m, s_wall_ms());
    ho_msg_set_payload(m, json_pack("{sI}", "now", (json_int_t)now_ms));
    int rc = ho_client_request(c, service, &m, 1, reply_p, n_p, err);
    ho_msg_destroy(&m);
    ho_client_destroy(&c);
    return rc;
}

static int s_tick(ho_run_t *run, int64_t now_ms)
{
    char id[64];
    snprintf(id, sizeof id, "tick-%lld", (long long)now_ms);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    int rc = s_request(run, 5000, "store", "tick", id, now_ms, &reply, &n, &err);
    if (rc != HO_OK) {
        ho_warn("tick: %s", err.message);
    }
    ho_msg_batch_free(&reply, n);
    return rc == HO_OK ? 0 : -1;
}

/* report.request through the broker to the report worker; prints where the workbook is. */
static int s_report(ho_run_t *run, int64_t now_ms)
{
    char id[64];
    snprintf(id, sizeof id, "run-report-%lld", (long long)now_ms);
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    int rc = s_request(run, 300000, "report", "report.request", id, now_ms, &reply, &n, &err);
    int result = -1;
    if (rc != HO_OK) {
        ho_error("report.request: %s", err.message);
    }
    for (size_t i = 0; rc == HO_OK && i < n; i++) {
        json_t *p = ho_msg_payload(reply[i]);
        const char *type = ho_msg_type(reply[i]);
        if (type && strcmp(type, "report.ready") == 0) {
            const char *path = json_string_value(json_object_get(p, "path"));
            const char *week = json_string_value(json_object_get(p, "week"));
            printf("run report week=%s leads=%lld path=%s\n", week ? week : "?",
                   (long long)json_integer_value(json_object_get(p, "leads")), path ? path : "?");
            printf("workbook: %s\n", path ? path : "?");
            fflush(stdout);
            result = path ? 0 : -1;
        } else if (type && (strcmp(type, "error") == 0 || strcmp(type, "quarantine") == 0)) {
            char *text = json_dumps(p, JSON_COMPACT);
            ho_error("report worker refused the request: %s", text ? text : "?");
            free(text);
        }
    }
    if (rc == HO_OK && result != 0 && n == 0) {
        ho_error("report worker answered without a workbook");
    }
    ho_msg_batch_free(&reply, n);
    return result;
}

/* ---- the demo ----------------------------------------------------------------------------- */

static bool s_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    ho_fmt(path, sizeof path, "%s/%s", dir, name);
    return access(path, R_OK) == 0;
}

static int s_demo(ho_run_t *run, const char *seed, const char *now_text, int64_t now_ms,
                  const char *leads)
{
    char demo[PATH_MAX], feedback[PATH_MAX];
    ho_fmt(demo, sizeof demo, "%s/demo", run->data_dir);
    /* one simulation per demo day (the folder says which) */
    char fbdir[PATH_MAX];
    ho_fmt(fbdir, sizeof fbdir, "%s/demo/feedback-%.10s", run->data_dir, now_text);
    ho_fmt(feedback, sizeof feedback, "%s/feedback_simulated.csv", fbdir);
    char f[6][PATH_MAX];
    static const char *names[6] = {"hubspot_contacts.csv", "salesforce_leads.csv",
                                   "marketo_leads.csv",    "form_webhooks.jsonl",
                                   "activities.csv",       "linkedin_lead_forms.json"};
    for (int i = 0; i < 6; i++) {
        ho_fmt(f[i], sizeof f[i], "%s/%s", demo, names[i]);
    }
    const char *conf_args[3] = {NULL, NULL, NULL};
    if (run->env.config) {
        conf_args[0] = "-c";
        conf_args[1] = run->env.config;
    }
    char config_dir[PATH_MAX] = "";
    const char *cdir = ho_gateway_config_dir(run->env.gw);
    if (cdir && s_exists(cdir, "reps.csv")) {
        ho_fmt(config_dir, sizeof config_dir, "%s", cdir);
    }

    /* 1. the lead sources */
    {
        const char *a[] = {
            "demo-data", "--out",  demo,      "--seed", seed,
            "--now",     now_text, "--leads", leads,    config_dir[0] ? "--config-dir" : NULL,
            config_dir,  NULL};
        if (ho_run_step(run, a) != 0) {
            ho_error("demo-data failed");
            return -1;
        }
    }
    /* 2. leads from four sources, then their activities (activities name known people) */
    {
        /* --serial: each batch through the whole pipeline (scores, routing) before the next,
         * so the router's round robin sees the same order in every run (issue 12 item 7) */
        const char *a[] = {"import",     "--connect",  run->endpoint, "--serial", "--now",
                           now_text,     f[0],         f[1],          f[2],       f[3],
                           conf_args[0], conf_args[1], NULL};
        printf("run step=import-leads\n");
        if (ho_run_step(run, a) != 0) {
            ho_error("import of the demo leads failed");
            return -1;
        }
    }
    if (s_wait_idle(run, 600000) != 0) {
        return -1;
    }
    {
        /* small batches: the store scores a lead once per batch, as of its newest event in
         * it, so a 500-record batch (~2 weeks of demo activity) would stamp MQLs days late */
        const char *a[] = {"import", "--connect",  run->endpoint, "--batch",
                           "50",     "--serial",   "--now",       now_text,
                           f[4],     conf_args[0], conf_args[1],  NULL};
        printf("run step=import-activities\n");
        if (ho_run_step(run, a) != 0) {
            ho_error("import of the demo activities failed");
            return -1;
        }
    }
    if (s_wait_idle(run, 600000) != 0) {
        return -1;
    }
    /* 3. what the assigned reps answered, simulated from the database, sent back in. The
     * answers are simulated once per demo clock: a re-run with the same clock sends the same
     * file again (the same import, nothing new), where a new simulation would answer from the
     * stages the first answers left and add rows. */
    if (access(feedback, R_OK) == 0) {
        printf("run step=feedback reused=%s\n", feedback);
    } else if (mkdir(fbdir, 0755) != 0 && errno != EEXIST) {
        ho_error("%s: %s", fbdir, strerror(errno));
        return -1;
    } else {
        const char *a[] = {"demo-data", "feedback", "--data-dir", run->data_dir, "--out", feedback,
                           "--seed",    seed,       "--now",      now_text,      NULL};
        printf("run step=feedback\n");
        if (ho_run_step(run, a) != 0) {
            ho_error("demo feedback simulation failed");
            return -1;
        }
    }
    {
        const char *a[] = {"import",   "--connect",  run->endpoint, "--source",
                           "feedback", "--serial",   "--now",       now_text,
                           feedback,   conf_args[0], conf_args[1],  NULL};
        if (ho_run_step(run, a) != 0) {
            ho_error("import of the demo feedback failed");
            return -1;
        }
    }
    if (s_wait_idle(run, 600000) != 0) {
        return -1;
    }
    /* 4. the workbook, from the report worker */
    printf("run step=report\n");
    fflush(stdout);
    if (s_report(run, now_ms) != 0) {
        return -1;
    }
    /* the outbox delivers report.ready too: done before --once stops it, so a re-run finds
     * it delivered instead of delivering it for the first time */
    return s_wait_idle(run, 600000);
}

/* ---- the command -------------------------------------------------------------------------- */

static int s_positive(const char *text, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || !end || *end || v < 0 || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* One comma-separated --only/--without list into `on`; unknown names are usage errors. */
static int s_parse_parts(const char *opt, const char *list, bool on[RUN_MAX_PARTS])
{
    char *copy = strdup(list);
    if (!copy) {
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        size_t k = 0;
        while (k < RUN_N_PARTS && strcmp(t, s_part_names[k]) != 0) {
            k++;
        }
        if (k == RUN_N_PARTS) {
            const char *near = ho_cli_nearest(t, s_part_names, RUN_N_PARTS);
            fprintf(stderr,
                    "handoff run: %s: unknown part '%s'%s%s%s (parts: broker ingest "
                    "store score route feedback report outbox webhook)\n",
                    opt, t, near ? ", did you mean " : "", near ? near : "", near ? "?" : "");
            rc = -1;
            break;
        }
        on[k] = true;
    }
    free(copy);
    return rc;
}

typedef struct {
    ho_cli_env_t env;
    const char *seed, *now_arg, *leads;
    const char *only, *without;
    long scorers, tick_s, ready_s;
    bool scorers_given, webhook, demo, once;
} s_args_t;

/* Returns -1 to go on, else the exit code (0 after --help, 2 on a usage error). */
static int s_parse_args(int argc, char **argv, s_args_t *a)
{
    static const struct option opts[] = {HO_CLI_ENV_OPTIONS,
                                         /* --endpoint: run's older name of --connect */
                                         {"endpoint", required_argument, NULL, HO_CLI_OPT_CONNECT},
                                         {"scorers", required_argument, NULL, 'S'},
                                         {"webhook", no_argument, NULL, 'w'},
                                         {"tick", required_argument, NULL, 't'},
                                         {"demo", no_argument, NULL, 'D'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"now", required_argument, NULL, 'n'},
                                         {"leads", required_argument, NULL, 'l'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"ready-timeout", required_argument, NULL, 'R'},
                                         {"only", required_argument, NULL, 'O'},
                                         {"without", required_argument, NULL, 'W'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    long tmp = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (ho_cli_env_option(&a->env, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 'S':
            if (s_positive(optarg, RUN_MAX_SCORERS, &a->scorers) != 0) {
                fprintf(stderr, "handoff run: --scorers wants 0..%d, not '%s'\n", RUN_MAX_SCORERS,
                        optarg);
                return 2;
            }
            a->scorers_given = true;
            break;
        case 'w':
            a->webhook = true;
            break;
        case 't':
            if (s_positive(optarg, 86400, &a->tick_s) != 0) {
                fprintf(stderr, "handoff run: --tick wants seconds 0..86400, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'D':
            a->demo = true;
            break;
        case 's':
            if (s_positive(optarg, LONG_MAX, &tmp) != 0) {
                fprintf(stderr, "handoff run: --seed wants a number, not '%s'\n", optarg);
                return 2;
            }
            a->seed = optarg;
            break;
        case 'n':
            a->now_arg = optarg;
            break;
        case 'l':
            if (s_positive(optarg, 10000000, &tmp) != 0 || tmp < 1) {
                fprintf(stderr, "handoff run: --leads wants 1..10000000, not '%s'\n", optarg);
                return 2;
            }
            a->leads = optarg;
            break;
        case 'o':
            a->once = true;
            break;
        case 'R':
            if (s_positive(optarg, 3600, &a->ready_s) != 0 || a->ready_s < 1) {
                fprintf(stderr, "handoff run: --ready-timeout wants seconds 1..3600, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'O':
            a->only = optarg;
            break;
        case 'W':
            a->without = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("run", argc, argv, opts);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "handoff run: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }
    if (!a->demo && (a->now_arg || strcmp(a->seed, "1") != 0 || strcmp(a->leads, "600") != 0)) {
        fprintf(stderr, "handoff run: --seed, --now and --leads go with --demo\n");
        return 2;
    }
    return -1;
}

/* --only / --without / --scorers / --webhook into the parts this host runs. */
static int s_resolve_parts(const s_args_t *a, s_parts_t *parts)
{
    bool on[RUN_MAX_PARTS];
    if (a->only && a->without) {
        fprintf(stderr, "handoff run: --only and --without exclude each other\n");
        return 2;
    }
    for (size_t k = 0; k < RUN_N_PARTS; k++) {
        on[k] = a->only == NULL && strcmp(s_part_names[k], "webhook") != 0;
    }
    if (a->only && s_parse_parts("--only", a->only, on) != 0) {
        return 2;
    }
    if (a->without) {
        bool off[RUN_MAX_PARTS] = {false};
        if (s_parse_parts("--without", a->without, off) != 0) {
            return 2;
        }
        for (size_t k = 0; k < RUN_N_PARTS; k++) {
            on[k] = on[k] && !off[k];
        }
    }
    parts->broker = on[0];
    for (size_t i = 0; i < RUN_N_WORKERS; i++) {
        parts->worker[i] = on[i + 1];
    }
    parts->webhook = on[RUN_N_PARTS - 1] || a->webhook;
    parts->scorers = a->scorers;
    for (size_t i = 0; i < RUN_N_WORKERS; i++) {
        if (strcmp(s_workers[i], "score") == 0) {
            if (parts->worker[i] && a->scorers_given && a->scorers == 0) {
                parts->worker[i] = false; /* --scorers 0: everything but the scorer */
            } else if (!parts->worker[i]) {
                if (a->scorers_given && a->scorers > 0) {
                    fprintf(stderr, "handoff run: --scorers %ld, but score is not run here\n",
                            a->scorers);
                    return 2;
                }
                parts->scorers = 0;
            }
        }
    }
    bool any = parts->broker || parts->webhook;
    for (size_t i = 0; i < RUN_N_WORKERS; i++) {
        any = any || parts->worker[i];
    }
    if (!any) {
        fprintf(stderr, "handoff run: nothing left to run\n");
        return 2;
    }
    return -1;
}

/* The demo's clock: --now, else this Monday 00:00 UTC, so the demo's 12 weeks end with the
 * week the workbook reports on, and re-runs within a week are idempotent. */
static int s_demo_clock(const char *now_arg, int64_t *now_ms, char *now_text, size_t cap)
{
    if (now_arg) {
        if (ho_time_parse(now_arg, now_ms) != 0) {
            fprintf(stderr, "handoff run: --now '%s' is not a time (2026-11-23T00:00:00Z)\n",
                    now_arg);
            return -1;
        }
    } else {
        int64_t day = s_wall_ms() / 86400000; /* 1970-01-01 was a Thursday */
        *now_ms = (day - (day + 3) % 7) * 86400000;
    }
    ho_time_format(*now_ms, now_text, cap);
    return 0;
}

/* The broker (index 0 when run here), then the workers, then the webhook server. */
static void s_add_children(ho_run_t *run, const s_parts_t *parts)
{
    const char *config = run->env.config;
    run->has_broker = parts->broker;
    if (parts->broker) {
        const char *a[8] = {"broker", "--bind", run->endpoint, "--data-dir", run->data_dir};
        size_t k = 5;
        if (config) {
            a[k++] = "-c";
            a[k++] = config;
        }
        a[k] = NULL;
        ho_run_child_add(run, "broker", a);
    }
    for (size_t w = 0; w < RUN_N_WORKERS; w++) {
        if (!parts->worker[w]) {
            continue;
        }
        int copies = strcmp(s_workers[w], "score") == 0 ? (int)parts->scorers : 1;
        for (int i = 1; i <= copies; i++) {
            char label[32];
            if (copies > 1) {
                snprintf(label, sizeof label, "worker.%s.%d", s_workers[w], i);
            } else {
                snprintf(label, sizeof label, "worker.%s", s_workers[w]);
            }
            const char *a[12] = {"worker",      s_workers[w], "--connect",
                                 run->endpoint, "--data-dir", run->data_dir};
            size_t k = 6;
            if (strcmp(s_workers[w], "store") == 0) {
                a[k++] = "--no-tick"; /* one clock: run's own --tick (0 = none) */
            }
            if (config) {
                a[k++] = "-c";
                a[k++] = config;
            }
            a[k] = NULL;
            ho_run_child_add(run, label, a);
        }
    }
    if (parts->webhook) {
        const char *a[6] = {"webhook", "--connect", run->endpoint};
        size_t k = 3;
        if (config) {
            a[k++] = "-c";
            a[k++] = config;
        }
        a[k] = NULL;
        ho_run_child_add(run, "webhook", a);
    }
}

/* Start the broker (when it is ours) and wait for it to answer, then every other child.
 * Without a broker here, wait for the one at the endpoint just the same. */
static int s_start_children(ho_run_t *run)
{
    if (run->has_broker && ho_run_child_start(&run->children[0]) != 0) {
        return -1;
    }
    /* the broker binds before workers connect (ipc needs the socket file) */
    int64_t deadline = ho_run_mono_ms() + 10000;
    json_t *st = NULL;
    while (!ho_run_stopping() && ho_run_mono_ms() < deadline && !(st = s_status(run))) {
        ho_run_supervise(run);
        if (run->has_broker && run->children[0].pid == 0) {
            break;
        }
        ho_run_sleep_ms(50);
    }
    if (!st) {
        if (!ho_run_stopping()) {
            fprintf(stderr, "handoff run: the broker did not %s on %s\n",
                    run->has_broker ? "come up" : "answer", run->endpoint);
        }
        return -1;
    }
    json_decref(st);
    for (size_t i = run->has_broker ? 1 : 0; i < run->n_children; i++) {
        ho_run_child_start(&run->children[i]);
    }
    return 0;
}

static void s_report_missing(ho_run_t *run, const s_parts_t *parts, bool everywhere, long ready_s)
{
    char missing[256] = "";
    json_t *st = s_status(run);
    for (size_t i = 0; i < RUN_N_WORKERS; i++) {
        if (!st ||
            s_service_int(st, s_workers[i], "workers") < s_want_workers(parts, i, everywhere)) {
            size_t n = strlen(missing);
            snprintf(missing + n, sizeof missing - n, " %s", s_workers[i]);
        }
    }
    json_decref(st);
    fprintf(stderr,
            "handoff run: workers did not all register within %ld s; missing:%s "
            "(their errors are above)\n",
            ready_s, missing);
}

/* Where the webhook server listens, from webhook.yaml (what `handoff webhook` binds). */
static void s_print_webhook_url(ho_run_t *run)
{
    ho_webhook_settings_t set;
    memset(&set, 0, sizeof set);
    ho_err_t err = {0};
    if (ho_webhook_settings_load(ho_gateway_config_dir(run->env.gw), NULL, &set, &err) != HO_OK) {
        ho_warn("webhook settings: %s", err.message);
        return;
    }
    const char *scheme = set.tls_cert && *set.tls_cert ? "https" : "http";
    printf("run webhook url=%s://%s/\n", scheme, set.listen ? set.listen : "?");
    fflush(stdout);
    ho_webhook_settings_free(&set);
}

static void s_print_stopped(ho_run_t *run, int sig, int killed)
{
    printf("run stopped%s%s restarts=%d killed=%d\n", sig ? " signal=" : "",
           sig ? (sig == SIGINT ? "INT" : "TERM") : "", run->restarts, killed);
}

/* Own binary, endpoint and data dir (created) of the run: --connect / --data-dir as the
 * environment applied them to the config. */
static int s_locate(ho_run_t *run)
{
    ssize_t len = readlink("/proc/self/exe", run->exe, sizeof run->exe - 1);
    if (len <= 0) {
        fprintf(stderr, "handoff run: cannot find its own binary: %s\n", strerror(errno));
        return -1;
    }
    run->exe[len] = '\0';
    snprintf(run->endpoint, sizeof run->endpoint, "%s", ho_gateway_endpoint(run->env.gw));
    const char *dd = ho_gateway_data_dir(run->env.gw);
    if (!dd || ho_mkdirs(dd) != 0 || !realpath(dd, run->data_dir) ||
        strlen(run->data_dir) > PATH_MAX - 256) {
        fprintf(stderr, "handoff run: data dir '%s': %s\n", dd ? dd : "(none)", strerror(errno));
        return -1;
    }
    return 0;
}

/* Supervise until stopped (or at once with --once); the demo first when asked. */
static int s_serve(ho_run_t *run, const s_args_t *a, int64_t now_ms, const char *now_text)
{
    int result = 0;
    bool once = a->once;
    if (a->demo) {
        printf("run demo seed=%s now=%s leads=%s dir=%s/demo\n", a->seed, now_text, a->leads,
               run->data_dir);
        fflush(stdout);
        if (s_demo(run, a->seed, now_text, now_ms, a->leads) != 0 && !ho_run_stopping()) {
            result = 1;
            once = true;
        }
    }
    int64_t next_tick = ho_run_mono_ms() + a->tick_s * 1000;
    while (!once && !ho_run_stopping()) {
        ho_run_supervise(run);
        if (a->tick_s > 0 && ho_run_mono_ms() >= next_tick) {
            /* the demo's world stands at its clock: ticks there, never at the wall clock
             * (the same tick again changes nothing) */
            s_tick(run, a->demo ? now_ms : s_wall_ms());
            next_tick = ho_run_mono_ms() + a->tick_s * 1000;
        }
        ho_run_sleep_ms(100);
    }
    int sig = ho_run_stopping();
    int killed = ho_run_stop_all(run);
    s_print_stopped(run, sig, killed);
    return result != 0 ? 1 : killed ? 1 : 0;
}

int ho_cmd_run(int argc, char **argv)
{
    s_init_names();
    s_args_t a = {.env = {.cmd = "run"},
                  .seed = "1",
                  .leads = "600",
                  .scorers = 1,
                  .tick_s = 60,
                  .ready_s = 30};
    int usage = s_parse_args(argc, argv, &a);
    if (usage >= 0) {
        return usage;
    }
    s_parts_t parts;
    memset(&parts, 0, sizeof parts);
    usage = s_resolve_parts(&a, &parts);
    if (usage >= 0) {
        return usage;
    }
    int64_t now_ms = 0;
    char now_text[64];
    if (s_demo_clock(a.now_arg, &now_ms, now_text, sizeof now_text) != 0) {
        return 2;
    }
    ho_run_t *run = calloc(1, sizeof *run);
    if (!run) {
        return 1;
    }
    int rc = 1;
    run->env = a.env;
    if (ho_cli_env_open(&run->env) != 0) {
        free(run);
        return 1;
    }
    if (s_locate(run) != 0) {
        goto done;
    }
    s_add_children(run, &parts);
    ho_run_install_signals();
    if (s_start_children(run) != 0) {
        ho_run_stop_all(run);
        goto done;
    }
    /* the demo needs the whole pipeline, from this host or others */
    if (s_wait_ready(run, &parts, a.demo, (int)a.ready_s * 1000) != 0) {
        int sig = ho_run_stopping();
        if (!sig) {
            s_report_missing(run, &parts, a.demo, a.ready_s);
        }
        s_print_stopped(run, sig, ho_run_stop_all(run));
        rc = sig ? 0 : 1;
        goto done;
    }
    size_t n_workers = run->n_children - (run->has_broker ? 1 : 0) - (parts.webhook ? 1 : 0);
    printf("run ready endpoint=%s data_dir=%s workers=%zu scorers=%ld broker=%s config=%s\n",
           run->endpoint, run->data_dir, n_workers, parts.scorers,
           run->has_broker ? "here" : "remote", ho_gateway_path(run->env.gw));
    fflush(stdout);
    if (parts.webhook) {
        s_print_webhook_url(run);
    }
    rc = s_serve(run, &a, now_ms, now_text);
done:
    ho_run_children_free(run);
    ho_cli_env_close(&run->env);
    free(run);
    return rc;
}
