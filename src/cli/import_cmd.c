/* import_cmd.c - `handoff import FILE...`: read exports through a connector and a mapping
 * profile and send the records to the pipeline in batches, with a window of requests in
 * flight (backpressure from the broker).
 *
 * Leads and activities go to service "ingest", feedback rows to "feedback", records the
 * connector could not read to "store" as `quarantine` envelopes. The broker forwards each
 * worker's complete reply to us as well as routing it on, so the summary counts what the
 * pipeline actually did: accepted = normalized records in the replies, quarantined = the
 * connector's refusals plus the workers' `quarantine` envelopes, by reason. */
#include <czmq.h> /* zsys_interrupted: the broker client stops waiting when it is set */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/dupcount.h"
#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/connector.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/normalize.h"
#include "handoff/worker.h"

#pragma weak ho_client_new
#pragma weak ho_client_destroy
#pragma weak ho_client_send
#pragma weak ho_client_flush
#pragma weak ho_client_status
#pragma weak ho_client_opts_curve

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff import FILE... [--source PROFILE | --profile-file PATH]\n"
            "                      [-c CONFIG] [--connect ENDPOINT] [--batch N] [--window N]\n"
            "                      [--max-backlog N]\n"
            "                      [--dry-run] [--progress-mb N] [--list]\n"
            "\n"
            "Read CSV / JSON Lines exports and send their records into the pipeline: leads and\n"
            "activities to `ingest`, feedback rows to `feedback`, unreadable records to the\n"
            "quarantine (with file, line, field and reason). Without --source the profile is\n"
            "chosen by the file's header row (deploy/profiles/*.yaml; the config folder's\n"
            "profiles/ first).\n"
            "\n"
            "  --source NAME        mapping profile (hubspot, salesforce, marketo, mautic,\n"
            "                       activities, feedback, webhooks, csv, or your own)\n"
            "  --profile-file PATH  a profile YAML file outside the config folder\n"
            "  -c, --config F       gateway config (handoff.yaml): endpoint, config folder\n"
            "  --connect EP         broker endpoint (default: broker.endpoint of the config)\n"
            "  --batch N            records per request (default 500)\n"
            "  --window N           requests in flight (default 8)\n"
            "  --timeout MS         resend a request unanswered this long (default 30000)\n"
            "  --max-backlog N      pause while the broker holds more than N queued requests\n"
            "                       for the workers downstream, e.g. a slower store (default\n"
            "                       16; 0 = never pause)\n"
            "  --dry-run            no broker: parse and normalize in-process, same summary\n"
            "  --progress-mb N      progress on stderr every N MB read (default 64)\n"
            "  --list               list the profiles and connectors, then exit\n"
            "  --format csv|jsonl   what FILE \"-\" (stdin) holds (default csv; needs --source)\n"
            "\n"
            "Prints per file, then one line per quarantine reason:\n"
            "  import file=F profile=P read=N accepted=N duplicates=N quarantined=N\n"
            "  quarantine file=F reason=CODE count=N\n"
            "duplicates = leads whose normalized email was already seen earlier in this command\n"
            "(counted in sorted runs in $TMPDIR, 8 bytes per lead: memory stays the same for\n"
            "any file size; \"unknown\" when no temporary file can be written).\n"
            "Exit 0 when every record was read and answered (quarantined rows are kept),\n"
            "1 on an I/O error or when the broker cannot be reached, 2 on usage errors.\n"
            "A broker that stops answering (not even mmi.status) for 15 s ends the import with\n"
            "exit 1, also while it waits for the backlog. SIGINT / SIGTERM stop it at once:\n"
            "nothing more is sent, and it prints what was sent and exits 130 / 143:\n"
            "  import interrupted signal=TERM file=F read=N sent=N accepted=N unanswered=N\n");
}

/* ---- signals: SIGINT/SIGTERM stop the import at once (the client watches zsys_interrupted) */
static volatile sig_atomic_t s_signal;

static void s_on_signal(int sig)
{
    s_signal = sig;
    zsys_interrupted = 1;
}

static void s_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- counters ---- */
typedef struct {
    char code[48];
    long count;
} s_reason_t;

typedef struct {
    const char *file;
    char profile[64];
    long read, accepted, duplicates, quarantined, failed, sent;
    bool dups_unknown; /* the duplicate counter failed (no temporary space) */
    s_reason_t reasons[32];
    size_t n_reasons;
} s_stats_t;

typedef struct {
    s_stats_t *stats;
    ho_dupcount_t *seen; /* normalized emails of this command, counted on disk (dupcount.h) */
} s_ctx_t;

static void s_reason(s_stats_t *st, const char *code)
{
    st->quarantined++;
    for (size_t i = 0; i < st->n_reasons; i++) {
        if (strcmp(st->reasons[i].code, code) == 0) {
            st->reasons[i].count++;
            return;
        }
    }
    if (st->n_reasons < sizeof st->reasons / sizeof st->reasons[0]) {
        snprintf(st->reasons[st->n_reasons].code, sizeof st->reasons[0].code, "%s", code);
        st->reasons[st->n_reasons++].count = 1;
    }
}

/* Count one worker reply: what the pipeline made of our records. */
static void s_count_reply(s_ctx_t *c, ho_msg_t *const *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *type = ho_msg_type(msgs[i]);
        const json_t *p = ho_msg_payload(msgs[i]);
        if (!strcmp(type, "lead.normalized")) {
            c->stats->accepted++;
            const char *email = json_string_value(json_object_get(p, "email"));
            ho_err_t err;
            if (email && c->seen && ho_dupcount_add(c->seen, email, &err) != HO_OK) {
                ho_warn("%s", err.message); /* once: the counter stops, the import goes on */
                c->stats->dups_unknown = true;
                ho_dupcount_destroy(&c->seen);
            }
        } else if (!strcmp(type, "activity.normalized") || !strcmp(type, "lead.outcome")) {
            c->stats->accepted++;
        } else if (!strcmp(type, "quarantine")) {
            const char *code = json_string_value(json_object_get(p, "code"));
            s_reason(c->stats, code ? code : "unknown");
        } else if (!strcmp(type, "error")) {
            const char *m = json_string_value(json_object_get(p, "message"));
            ho_warn("worker refused a batch: %s", m ? m : "(no message)");
        }
    }
}

typedef struct {
    s_ctx_t *ctx;
    long records; /* in this request */
} s_req_t;

static void s_on_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    (void)tag;
    s_req_t *req = arg;
    if (!msgs) {
        req->ctx->stats->failed += req->records;
    } else {
        s_count_reply(req->ctx, msgs, n);
    }
    free(req);
}

/* ---- sending: one batch buffer per service ---- */
typedef struct {
    const char *service;
    ho_msg_t **msgs;
    size_t n;
} s_batch_t;

typedef struct {
    ho_client_t *client; /* NULL in --dry-run */
    bool dry_run;
    /* in-process workers for --dry-run: [0] ingest, [1] feedback (NULL when not built in) */
    const ho_worker_def_t *dry[2];
    void *dry_ctx[2];
    size_t batch;
    s_ctx_t *ctx;
    int io_error;
    char error[300];
    /* downstream backpressure: the window bounds our requests to ingest, but the broker
     * forwards ingest's replies to the store as requests of its own, which it never refuses;
     * a store slower than ingest would queue the whole file in the broker's memory */
    long max_backlog;
    int64_t waited_ms;
    bool warned_orphans;
} s_sender_t;

/* Requests queued in the broker for services that have workers (-1 if the status could not
 * be read). A queue without workers is not drained by waiting: named once, not counted. */
static long s_backlog(s_sender_t *s, char *worst, size_t cap)
{
    json_t *st = NULL;
    ho_err_t err = {0};
    if (ho_client_status(s->client, &st, &err) != HO_OK) {
        ho_debug("backlog: %s", err.message);
        return -1;
    }
    long total = 0, most = -1;
    size_t i;
    json_t *svc;
    json_array_foreach(json_object_get(st, "services"), i, svc)
    {
        const char *name = json_string_value(json_object_get(svc, "name"));
        long queued = (long)json_integer_value(json_object_get(svc, "queued"));
        long workers = (long)json_integer_value(json_object_get(svc, "workers"));
        if (workers <= 0) {
            if (queued > s->max_backlog && !s->warned_orphans) {
                ho_warn("service %s has %ld queued requests and no workers", name ? name : "?",
                        queued);
                s->warned_orphans = true;
            }
            continue;
        }
        total += queued;
        if (queued > most) {
            most = queued;
            snprintf(worst, cap, "%s=%ld", name ? name : "?", queued);
        }
    }
    json_decref(st);
    return total;
}

/* After each data batch (one mmi.status round trip to the broker, answered by the broker
 * itself): above max_backlog, wait until the queues are down to half. The status requests
 * keep our own replies flowing meanwhile. So the broker holds at most about max_backlog +
 * window requests of this import, whatever the file size. */
static void s_throttle(s_sender_t *s)
{
    if (!s->client || s->max_backlog <= 0 || s->io_error) {
        return;
    }
    int64_t now = ho_now_ms();
    char worst[96] = "";
    long backlog = s_backlog(s, worst, sizeof worst);
    if (backlog <= s->max_backlog) {
        return;
    }
    ho_info("pipeline backlog: %ld requests queued (most: %s); waiting until %ld or fewer", backlog,
            worst, s->max_backlog / 2);
    while (backlog > s->max_backlog / 2) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        backlog = s_backlog(s, worst, sizeof worst);
        if (backlog < 0 || s_signal) {
            break; /* the broker went away (the next send says so) or we were stopped */
        }
    }
    s->waited_ms += ho_now_ms() - now;
}

static void s_flush_batch(s_sender_t *s, s_batch_t *b)
{
    if (b->n == 0) {
        return;
    }
    bool counted = strcmp(b->service, "store") == 0; /* quarantines: counted when read */
    if (s->client) {
        s_req_t *req = calloc(1, sizeof *req);
        req->ctx = s->ctx;
        req->records = counted ? 0 : (long)b->n;
        ho_err_t err = {0};
        uint64_t tag = ho_client_send(s->client, b->service, b->msgs, b->n, s_on_reply, req, &err);
        if (tag == 0) {
            free(req);
            s->ctx->stats->failed += counted ? 0 : (long)b->n;
            if (!s->io_error) {
                snprintf(s->error, sizeof s->error, "send to %s: %s", b->service, err.message);
            }
            s->io_error = 1;
        }
        if (!counted) {
            s->ctx->stats->sent += (long)b->n;
            s_throttle(s);
        }
    } else if (!counted && s->dry[strcmp(b->service, "feedback") == 0]) {
        int w = strcmp(b->service, "feedback") == 0;
        ho_out_t *out = ho_out_new("import@dry-run");
        int rc = ho_worker_call(s->dry[w], s->dry_ctx[w], b->msgs, b->n, out);
        if (rc == HO_WORKER_OK) {
            size_t n = ho_out_count(out);
            ho_msg_t **res = malloc((n ? n : 1) * sizeof *res);
            for (size_t i = 0; res && i < n; i++) {
                res[i] = ho_out_at(out, i);
            }
            if (res) {
                s_count_reply(s->ctx, res, n);
            }
            free(res);
        } else {
            s->ctx->stats->failed += (long)b->n;
        }
        ho_out_destroy(&out);
    } else if (!counted) {
        s->ctx->stats->accepted += (long)b->n; /* dry run without a worker for the kind */
    }
    for (size_t i = 0; i < b->n; i++) {
        ho_msg_destroy(&b->msgs[i]);
    }
    b->n = 0;
}

/* A batch that will not be sent (SIGINT/SIGTERM). */
static void s_drop(s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ho_msg_destroy(&b->msgs[i]);
    }
    b->n = 0;
}

static void s_add(s_sender_t *s, s_batch_t *b, ho_msg_t *msg)
{
    b->msgs[b->n++] = msg;
    if (b->n >= s->batch) {
        s_flush_batch(s, b);
    }
}

/* ---- one file ---- */
static const char *s_dups(const s_stats_t *st, char *buf, size_t cap)
{
    if (st->dups_unknown) {
        return "unknown";
    }
    snprintf(buf, cap, "%ld", st->duplicates);
    return buf;
}

static void s_print(const s_stats_t *st)
{
    char dups[32];
    printf("import file=%s profile=%s read=%ld accepted=%ld duplicates=%s quarantined=%ld%s",
           st->file, st->profile, st->read, st->accepted, s_dups(st, dups, sizeof dups),
           st->quarantined, st->failed ? "" : "\n");
    if (st->failed) {
        printf(" failed=%ld\n", st->failed);
    }
    for (size_t i = 0; i < st->n_reasons; i++) {
        printf("quarantine file=%s reason=%s count=%ld\n", st->file, st->reasons[i].code,
               st->reasons[i].count);
    }
}

/* The summary of an import stopped by SIGINT/SIGTERM; its exit status (130 / 143). */
static int s_print_interrupted(const s_stats_t *st)
{
    printf("import interrupted signal=%s file=%s read=%ld sent=%ld accepted=%ld "
           "unanswered=%ld\n",
           s_signal == SIGINT ? "INT" : "TERM", st->file, st->read, st->sent, st->accepted,
           st->failed);
    fflush(stdout);
    return 128 + s_signal;
}

static long s_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef struct {
    const char *config_dir;
    const char *stdin_format; /* "csv" or "jsonl" for FILE "-" */
    const char *source;
    const char *profile_file;
    long progress_mb;
} s_opts_t;

static int s_import_file(s_sender_t *s, const s_opts_t *o, const char *path, s_stats_t *st)
{
    ho_err_t err = {0};
    ho_profile_t *profile = NULL;
    char format[16] = "csv";
    char **cols = NULL;
    size_t ncols = 0;
    bool from_stdin = strcmp(path, "-") == 0;
    if (from_stdin) {
        /* a pipe cannot be peeked at: the profile says what it is */
        if (!o->source && !o->profile_file) {
            fprintf(stderr, "handoff import: reading stdin (-) needs --source or --profile-file\n");
            return 1;
        }
        snprintf(format, sizeof format, "%s", o->stdin_format ? o->stdin_format : "csv");
    } else if (ho_connector_sniff(path, format, sizeof format, &cols, &ncols, &err) != HO_OK) {
        fprintf(stderr, "handoff import: %s\n", err.message);
        return 1;
    }
    if (o->profile_file) {
        profile = ho_profile_load_file(o->profile_file, &err);
    } else if (o->source) {
        profile = ho_profile_load(o->config_dir, o->source, &err);
    } else {
        profile = ho_profile_detect(o->config_dir, format, (const char *const *)cols, ncols, &err);
    }
    ho_connector_cols_free(&cols, ncols);
    if (!profile) {
        fprintf(stderr, "handoff import: %s: %s\n", path, err.message);
        return 1;
    }
    snprintf(st->profile, sizeof st->profile, "%s", ho_profile_name(profile));
    const char *cname = ho_profile_connector(profile);
    if (!cname) {
        cname = format;
    }
    const ho_connector_def_t *conn = ho_connector_find(cname);
    if (!conn) {
        fprintf(stderr, "handoff import: %s: profile %s needs connector '%s', not in this build\n",
                path, ho_profile_name(profile), cname);
        ho_profile_destroy(&profile);
        return 1;
    }
    ho_connector_args_t args = {path, profile, o->config_dir};
    void *cctx = NULL;
    if (conn->cb_open(&args, &cctx, &err) != HO_OK) {
        fprintf(stderr, "handoff import: %s\n", err.message);
        ho_profile_destroy(&profile);
        return 1;
    }
    ho_kind_t kind = ho_profile_kind(profile);
    const char *service = kind == HO_KIND_FEEDBACK ? "feedback" : "ingest";
    ho_msg_t *data_buf[s->batch], *q_buf[s->batch];
    s_batch_t data = {service, data_buf, 0};
    s_batch_t quar = {"store", q_buf, 0};
    ho_info("file=%s profile=%s connector=%s kind=%s -> %s", path, ho_profile_name(profile),
            conn->name, ho_profile_kind_name(kind), service);
    uint64_t step = (uint64_t)(o->progress_mb > 0 ? o->progress_mb : 64) << 20;
    uint64_t next_report = step;
    int64_t t0 = ho_now_ms();
    int rc = 0;
    for (;;) {
        ho_msg_t *msg = NULL;
        int r = conn->cb_next(cctx, &msg, &err);
        if (r == 0) {
            break;
        }
        if (r < 0) {
            fprintf(stderr, "handoff import: %s: %s\n", path, err.message);
            rc = 1;
            break;
        }
        st->read++;
        if (strcmp(ho_msg_type(msg), "quarantine") == 0) {
            const char *code = json_string_value(json_object_get(ho_msg_payload(msg), "code"));
            s_reason(st, code ? code : "unknown");
            s_add(s, &quar, msg);
        } else {
            s_add(s, &data, msg);
        }
        if (s->io_error || s_signal) {
            rc = 1;
            break;
        }
        uint64_t off = conn->cb_offset ? conn->cb_offset(cctx) : 0;
        if (off >= next_report) {
            double secs = (double)(ho_now_ms() - t0) / 1000.0;
            ho_info("file=%s read_mb=%.0f records=%ld rate=%.0f/s mb_per_s=%.1f rss_mb=%.1f", path,
                    (double)off / 1048576.0, st->read, secs > 0 ? (double)st->read / secs : 0.0,
                    secs > 0 ? (double)off / 1048576.0 / secs : 0.0,
                    (double)s_peak_rss_kb() / 1024.0);
            next_report += step;
        }
    }
    if (s_signal) { /* stopped: send nothing more; what is in flight is reported unanswered */
        s_drop(&data);
        s_drop(&quar);
    }
    s_flush_batch(s, &data);
    s_flush_batch(s, &quar);
    if (s_signal && s->client) {
        ho_client_flush(s->client, NULL); /* fails what is in flight at once */
    } else if (s->client && ho_client_flush(s->client, &err) != HO_OK) {
        if (!s->io_error) {
            snprintf(s->error, sizeof s->error, "%s", err.message);
        }
        s->io_error = 1;
    }
    double secs = (double)(ho_now_ms() - t0) / 1000.0;
    ho_info("file=%s done records=%ld seconds=%.2f rate=%.0f/s peak_rss_mb=%.1f "
            "waited_for_backlog_s=%.1f",
            path, st->read, secs, secs > 0 ? (double)st->read / secs : 0.0,
            (double)s_peak_rss_kb() / 1024.0, (double)s->waited_ms / 1000.0);
    conn->cb_close(&cctx);
    ho_profile_destroy(&profile);
    if (s->io_error || st->failed) {
        rc = 1;
    }
    return rc;
}

static void s_list(const char *config_dir)
{
    char **names = ho_profile_names(config_dir);
    for (size_t i = 0; names && names[i]; i++) {
        ho_err_t err;
        ho_profile_t *p = ho_profile_load(config_dir, names[i], &err);
        if (p) {
            printf("profile name=%s kind=%s connector=%s description=\"%s\"\n", names[i],
                   ho_profile_kind_name(ho_profile_kind(p)),
                   ho_profile_connector(p) ? ho_profile_connector(p) : "auto",
                   ho_profile_description(p));
            ho_profile_destroy(&p);
        } else {
            printf("profile name=%s error=\"%s\"\n", names[i], err.message);
        }
    }
    ho_profile_names_free(&names);
    const ho_connector_def_t *c;
    for (size_t i = 0; (c = ho_connector_at(i)) != NULL; i++) {
        printf("connector name=%s description=\"%s\"\n", c->name, c->description);
    }
}

int ho_cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},  {"profile-file", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},  {"connect", required_argument, NULL, 'e'},
        {"batch", required_argument, NULL, 'b'},   {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'}, {"max-backlog", required_argument, NULL, 'B'},
        {"dry-run", no_argument, NULL, 'n'},       {"progress-mb", required_argument, NULL, 'm'},
        {"list", no_argument, NULL, 'l'},          {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0};
    o.progress_mb = 64;
    const char *config = NULL, *endpoint = NULL;
    long batch = 500, window = 8, timeout = 30000, max_backlog = 16;
    bool dry = false, list = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.source = optarg;
            break;
        case 'p':
            o.profile_file = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'b':
            batch = atol(optarg);
            break;
        case 'w':
            window = atol(optarg);
            break;
        case 'B':
            max_backlog = atol(optarg);
            break;
        case 't':
            timeout = atol(optarg);
            break;
        case 'n':
            dry = true;
            break;
        case 'm':
            o.progress_mb = atol(optarg);
            break;
        case 'l':
            list = true;
            break;
        case 'f':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "jsonl") != 0) {
                fprintf(stderr, "handoff import: --format csv|jsonl\n");
                return 2;
            }
            o.stdin_format = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (batch < 1 || batch > 10000 || window < 1 || window > 1024 || timeout < 100 ||
        max_backlog < 0) {
        fprintf(stderr, "handoff import: --batch 1..10000, --window 1..1024, --timeout >= 100, "
                        "--max-backlog >= 0\n");
        return 2;
    }
    if ((optind >= argc && !list) || (o.source && o.profile_file)) {
        s_usage(stderr);
        return 2;
    }
    ho_err_t err = {0};
    ho_gateway_t *gw = ho_gateway_load(config, &err);
    if (!gw) {
        fprintf(stderr, "handoff import: %s\n", err.message);
        return 1;
    }
    o.config_dir = ho_gateway_config_dir(gw);
    if (list) {
        s_list(o.config_dir);
        ho_gateway_destroy(&gw);
        return 0;
    }
    s_sender_t s = {0};
    s.batch = (size_t)batch;
    s.max_backlog = max_backlog;
    if (dry) {
        static const char *const names[2] = {"ingest", "feedback"};
        s.dry_run = true;
        for (int w = 0; w < 2; w++) {
            ho_worker_env_t env = {.name = names[w],
                                   .config_dir = o.config_dir,
                                   .conf = ho_gateway_conf(gw),
                                   .settings = ho_gateway_worker_settings(gw, names[w]),
                                   .origin = "import@dry-run"};
            s.dry[w] = ho_worker_find(names[w]);
            if (s.dry[w] && s.dry[w]->cb_init &&
                s.dry[w]->cb_init(&env, &s.dry_ctx[w], &err) != HO_OK) {
                fprintf(stderr, "handoff import: %s: %s\n", names[w], err.message);
                s.dry[w] = NULL;
            }
        }
    } else {
        if (!ho_client_new) {
            fprintf(stderr, "handoff import: this build has no broker client library\n");
            ho_gateway_destroy(&gw);
            return 1;
        }
        const char *ep = endpoint ? endpoint : ho_gateway_endpoint(gw);
        ho_client_opts_t copts = {.window = (int)window, .timeout_ms = (int)timeout, .retries = 3};
        if (ho_client_opts_curve) {
            ho_client_opts_curve(&copts, gw);
        }
        /* Fail fast when nobody answers rather than after the resends of the first batch. */
        ho_client_opts_t popts = copts;
        popts.window = 1;
        popts.timeout_ms = 3000;
        popts.retries = 1;
        ho_client_t *probe = ho_client_new(ep, &popts, &err);
        json_t *status = NULL;
        if (!probe || ho_client_status(probe, &status, &err) != HO_OK) {
            fprintf(stderr, "handoff import: broker unreachable at %s: %s\n", ep, err.message);
            if (probe) {
                ho_client_destroy(&probe);
            }
            ho_gateway_destroy(&gw);
            return 1;
        }
        json_decref(status);
        ho_client_destroy(&probe);
        s_catch_signals(); /* after czmq's own handler (installed with the first socket) */
        s.client = ho_client_new(ep, &copts, &err);
        if (!s.client) {
            fprintf(stderr, "handoff import: %s: %s\n", ep, err.message);
            ho_gateway_destroy(&gw);
            return 1;
        }
    }
    ho_dupcount_t *seen = ho_dupcount_new(0, NULL);
    int nfiles = argc - optind;
    s_stats_t *stats = calloc((size_t)nfiles, sizeof *stats);
    int rc = 0;
    for (int i = 0; i < nfiles && stats; i++) {
        stats[i].file = argv[optind + i];
        s_ctx_t ctx = {&stats[i], seen};
        s.ctx = &ctx;
        int frc = s_import_file(&s, &o, argv[optind + i], &stats[i]);
        seen = ctx.seen; /* NULL once the counter failed */
        if (!seen) {
            stats[i].dups_unknown = true;
        } else if (ho_dupcount_close_group(seen, &stats[i].duplicates, &err) != HO_OK) {
            ho_warn("%s", err.message);
            stats[i].dups_unknown = true;
            ho_dupcount_destroy(&seen);
        }
        if (stats[i].profile[0]) {
            s_print(&stats[i]);
        }
        if (s_signal) {
            rc = s_print_interrupted(&stats[i]);
            break;
        }
        fflush(stdout);
        if (frc != 0) {
            rc = 1;
            if (s.io_error) {
                fprintf(stderr, "handoff import: %s\n", s.error[0] ? s.error : "I/O error");
                break;
            }
        }
    }
    if (nfiles > 1 && stats) {
        s_stats_t total = {.file = "(all)"};
        snprintf(total.profile, sizeof total.profile, "-");
        for (int i = 0; i < nfiles; i++) {
            total.read += stats[i].read;
            total.accepted += stats[i].accepted;
            total.duplicates += stats[i].duplicates;
            total.dups_unknown = total.dups_unknown || stats[i].dups_unknown;
            total.failed += stats[i].failed;
            for (size_t k = 0; k < stats[i].n_reasons; k++) {
                for (long m = 0; m < stats[i].reasons[k].count; m++) {
                    s_reason(&total, stats[i].reasons[k].code);
                }
            }
        }
        char dups[32];
        printf("import total files=%d read=%ld accepted=%ld duplicates=%s quarantined=%ld\n",
               nfiles, total.read, total.accepted, s_dups(&total, dups, sizeof dups),
               total.quarantined);
        for (size_t k = 0; k < total.n_reasons; k++) {
            printf("quarantine total reason=%s count=%ld\n", total.reasons[k].code,
                   total.reasons[k].count);
        }
    }
    free(stats);
    ho_dupcount_destroy(&seen);
    if (s.client) {
        ho_client_destroy(&s.client);
    }
    for (int w = 0; w < 2; w++) {
        if (s.dry[w] && s.dry[w]->cb_exit) {
            s.dry[w]->cb_exit(&s.dry_ctx[w]);
        }
    }
    ho_gateway_destroy(&gw);
    return rc;
}
