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
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/dupcount.h"
#include "cli/import_hints.h"
#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/connector.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/normalize.h"
#include "handoff/scoring.h"
#include "handoff/time.h"
#include "handoff/worker.h"

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoff import FILE... [--source PROFILE | --profile-file PATH]\n"
        "                      [-c CONFIG] [--connect ENDPOINT] [--data-dir DIR]\n"
        "                      [--batch N] [--window N]\n"
        "                      [--max-backlog N] [--settle S | --no-wait] [--now TIME]\n"
        "                      [--serial]\n"
        "                      [--dry-run] [--progress-mb N] [--list]\n"
        "\n"
        "Read CSV / JSON Lines exports and send their records into the pipeline: leads and\n"
        "activities to `ingest`, feedback rows to `feedback`, unreadable records to the\n"
        "quarantine (with file, line, field and reason). Without --source the profile is\n"
        "chosen by the file's header row (deploy/profiles/*.yaml; the config folder's\n"
        "profiles/ first). Every record carries import_id = imp-<hash of the file's\n"
        "content>: the same file imported again, from any path, is the same import.\n"
        "\n"
        "  --source NAME        mapping profile (hubspot, salesforce, marketo, mautic,\n"
        "                       activities, feedback, webhooks, csv, or your own)\n"
        "  --profile-file PATH  a profile YAML file outside the config folder\n"
        "  -c, --config F       gateway config (handoff.yaml): endpoint, config folder\n"
        "  --connect EP         broker endpoint (default: broker.endpoint of the config)\n"
        "  --data-dir DIR       data folder the in-process workers of --dry-run are given\n"
        "                       (default: data_dir of the config)\n"
        "  --batch N            records per request (default 500)\n"
        "  --window N           requests in flight (default 8)\n"
        "  --timeout MS         resend a request unanswered this long (default 30000)\n"
        "  --max-backlog N      pause while the broker holds more than N queued requests\n"
        "                       for the workers downstream, e.g. a slower store (default\n"
        "                       16; 0 = never pause)\n"
        "  --settle S           after the last record, wait up to S seconds (default 30)\n"
        "                       for the store to answer import.stats; when it never does,\n"
        "                       what it had not applied is not_stored\n"
        "  --no-wait            done once the broker has taken every record: no\n"
        "                       import.summary, new/merged not known (\"-\")\n"
        "  --serial             one batch at a time, the next only once the whole pipeline\n"
        "                       is idle (nothing queued or in flight anywhere): the same\n"
        "                       file gives the same rows in the same order (the demo)\n"
        "  --now TIME           the import's clock: every message's time and the\n"
        "                       import.summary's finished_at (deterministic runs)\n"
        "  --dry-run            no broker: parse and normalize in-process, same summary\n"
        "                       (new/merged as an empty store would count them)\n"
        "  --progress-mb N      progress on stderr every N MB read (default 64)\n"
        "  --list               list the profiles and connectors, then exit\n"
        "  --format csv|jsonl   what FILE \"-\" (stdin) holds (default csv; needs --source)\n"
        "\n"
        "Prints per file, then one line per skip and quarantine reason:\n"
        "  import file=F source=P kind=K read=N accepted=N skipped=N quarantined=N new=N\n"
        "         merged=N [not_stored=N] check=ok|MISMATCH\n"
        "  skip file=F reason=CODE count=N\n"
        "  quarantine file=F reason=CODE count=N\n"
        "read = accepted + skipped + quarantined (check=ok). skipped: records deliberately not\n"
        "imported (test_lead, duplicate_delivery, notification_only); new/merged: people the\n"
        "store created / merged into an existing one (\"-\" when it does not say).\n"
        "Exit 0 when every record was read and stored (quarantined rows are kept); 1 on an\n"
        "I/O error, an unreachable broker, check=MISMATCH, or records not stored (the store\n"
        "refused them or did not apply them within --settle); 2 on usage errors.\n"
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
    s_reason_t r[32];
    size_t n;
    long total;
} s_counts_t;

typedef struct {
    const char *file;
    char profile[64];
    const char *kind;
    char import_id[32];
    long read, accepted, failed, sent;
    s_counts_t skipped, quarantined;
    long duplicates;   /* leads whose email was seen before in this command (--dry-run) */
    bool dups_unknown; /* the duplicate counter failed (no temporary space) */
    /* from the store's import.stats: -1 = not known */
    long applied, new_people, merged, not_stored;
} s_stats_t;

typedef struct {
    s_stats_t *stats;
    ho_dupcount_t *seen; /* normalized emails of this command, counted on disk (dupcount.h) */
} s_ctx_t;

static void s_count_n(s_counts_t *c, const char *code, long k)
{
    const size_t cap = sizeof c->r / sizeof c->r[0];
    c->total += k;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->n; i++) {
            if (strcmp(c->r[i].code, code) == 0) {
                c->r[i].count += k;
                return;
            }
        }
        if (c->n < cap - 1 || (c->n < cap && strcmp(code, "other") == 0)) {
            snprintf(c->r[c->n].code, sizeof c->r[0].code, "%s", code);
            c->r[c->n++].count = k;
            return;
        }
        code = "other"; /* more reasons than slots: the rest counted under one name */
    }
}

static void s_count(s_counts_t *c, const char *code)
{
    s_count_n(c, code, 1);
}

static void s_reason(s_stats_t *st, const char *code)
{
    s_count(&st->quarantined, code);
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
    /* the store's import.stats: a client of its own with a short timeout (NULL: --dry-run) */
    ho_client_t *probe;
    bool no_stats;  /* the store answered import.stats with something else: not asked again */
    bool no_wait;   /* --no-wait: done once the broker has every record */
    bool serial;    /* --serial: one batch at a time, each through the whole pipeline */
    long settle_ms; /* give up waiting when the store applied nothing new for this long */
    int64_t now_ms; /* --now: finished_at of import.summary (0: the clock) */
} s_sender_t;

/* SIGINT / SIGTERM (CZMQ's handler sets zsys_interrupted; the client then fails what is in
 * flight at once): the import stops where it is, says so and exits 1. */
static bool s_stopped(s_sender_t *s)
{
    if (!s->client || !zsys_interrupted) {
        return false;
    }
    if (!s->io_error) {
        snprintf(s->error, sizeof s->error,
                 "interrupted by a signal: stopped at once (records sent before may be stored; "
                 "import the file again: the same records are the same events)");
    }
    s->io_error = 1;
    return true;
}

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
    while (backlog > s->max_backlog / 2 && !s_stopped(s)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        backlog = s_backlog(s, worst, sizeof worst);
        if (backlog < 0 || s_signal) {
            break; /* the broker went away (the next send says so) or we were stopped */
        }
    }
    s->waited_ms += ho_now_ms() - now;
}

/* --serial: after each data batch, wait until no service has anything queued or in flight
 * (our own request's reply included: the status requests pump it) and the broker's counters
 * stood still between two polls. Then what the batch set off downstream (scores, routing)
 * is done before the next batch starts, and concurrent workers cannot interleave two
 * batches' effects differently from one run to the next. */
static void s_wait_idle(s_sender_t *s)
{
    json_int_t last = -1;
    int quiet = 0;
    while (quiet < 2 && !s_stopped(s) && !s_signal) {
        json_t *st = NULL;
        ho_err_t err = {0};
        if (ho_client_status(s->client, &st, &err) != HO_OK) {
            return; /* the broker went away: the next send says so */
        }
        json_int_t seen = 0;
        bool busy = ho_client_status_busy(st, &seen);
        quiet = !busy && seen == last ? quiet + 1 : 0;
        last = seen;
        json_decref(st);
        if (quiet < 2) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
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
            if (!s->serial) {
                s_throttle(s);
            }
        }
        if (s->serial) {
            s_wait_idle(s); /* quarantine batches too: their rows' ids follow the file */
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

/* "imp-" + 16 hex of the file's content (FNV-1a 64): the same file from any path is the same
 * import. Stdin is first copied to an unlinked temporary file that then becomes fd 0, so the
 * connector reads it like a file. 0, or -1 with err. */
static int s_content_id(const char *path, char *out, size_t cap, ho_err_t *err)
{
    bool from_stdin = strcmp(path, "-") == 0;
    int fd = -1, spool = -1;
    if (from_stdin) {
        char tmpl[4096];
        const char *dir = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/handoff-import-XXXXXX", dir && dir[0] ? dir : "/tmp");
        spool = mkstemp(tmpl);
        if (spool < 0) {
            return ho_err_set(err, HO_ERR_IO, "", "stdin: cannot spool to %s: %s", tmpl,
                              strerror(errno));
        }
        unlink(tmpl);
        fd = STDIN_FILENO;
    } else if ((fd = open(path, O_RDONLY)) < 0) {
        return ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s", path, strerror(errno));
    }
    uint64_t h = 1469598103934665603ULL;
    static unsigned char buf[1 << 16];
    ssize_t got;
    int rc = 0;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            h = (h ^ buf[i]) * 1099511628211ULL;
        }
        if (spool >= 0 && write(spool, buf, (size_t)got) != got) {
            rc = ho_err_set(err, HO_ERR_IO, "", "stdin: spool: %s", strerror(errno));
            break;
        }
    }
    if (got < 0 && rc == 0) {
        rc = ho_err_set(err, HO_ERR_IO, "", "%s: read error: %s", path, strerror(errno));
    }
    if (spool >= 0) {
        if (rc == 0 && (lseek(spool, 0, SEEK_SET) != 0 || dup2(spool, STDIN_FILENO) < 0)) {
            rc = ho_err_set(err, HO_ERR_IO, "", "stdin: %s", strerror(errno));
        }
        close(spool);
        clearerr(stdin);
    } else {
        close(fd);
    }
    snprintf(out, cap, "imp-%016llx", (unsigned long long)h);
    return rc == 0 ? 0 : -1;
}

/* Every record carries its import; a quarantine the connector made gets ids from the import
 * and the line, not the path, so a re-import from elsewhere adds no second row. */
static void s_stamp(ho_msg_t *msg, const char *import_id)
{
    json_t *p = ho_msg_payload(msg);
    json_object_set_new(p, "import_id", json_string(import_id));
    const char *stage = json_string_value(json_object_get(p, "stage"));
    const char *event = json_string_value(json_object_get(p, "event_id"));
    if (strcmp(ho_msg_type(msg), "quarantine") != 0 || !stage || strcmp(stage, "import") != 0 ||
        !event || strncmp(event, "import-", 7) != 0) {
        return; /* the forms library's quarantines are keyed by the submission already */
    }
    long long line = json_integer_value(json_object_get(json_object_get(p, "source_ref"), "line"));
    const char *code = json_string_value(json_object_get(p, "code"));
    char key[256], id[HO_MSG_MAX_ID];
    int len = snprintf(key, sizeof key, "%s|%lld", import_id, line);
    ho_msg_make_id(id, sizeof id, "import", key, (size_t)len);
    json_object_set_new(p, "event_id", json_string(id));
    len = snprintf(key, sizeof key, "import|%s|%lld|%s", import_id, line, code ? code : "");
    ho_msg_make_id(id, sizeof id, "q", key, (size_t)len);
    ho_msg_set_id(msg, id);
}

static json_t *s_counts_json(const s_counts_t *c)
{
    json_t *o = json_object();
    for (size_t i = 0; i < c->n; i++) {
        json_object_set_new(o, c->r[i].code, json_integer(c->r[i].count));
    }
    return o;
}

/* Service "store" at the broker (mmi.status): 1 with workers, 0 known but without workers (it
 * stopped or died: what was routed to it waits, not stored), -1 not there at all (a pipeline
 * that routes elsewhere: nobody can say what was stored) or no answer. */
static int s_store_state(s_sender_t *s)
{
    json_t *st = NULL;
    ho_err_t err = {0};
    if (!s->probe || ho_client_status(s->probe, &st, &err) != HO_OK) {
        return -1;
    }
    int state = -1;
    size_t i;
    json_t *svc;
    json_array_foreach(json_object_get(st, "services"), i, svc)
    {
        const char *name = json_string_value(json_object_get(svc, "name"));
        if (name && strcmp(name, "store") == 0) {
            state = json_integer_value(json_object_get(svc, "workers")) > 0 ? 1 : 0;
        }
    }
    json_decref(st);
    return state;
}

/* import.summary to the store (CONTRACT-12): upserted there by import_id. */
static void s_send_summary(s_sender_t *s, const s_stats_t *st)
{
    if (!s->probe) {
        return;
    }
    const char *base = strrchr(st->file, '/') ? strrchr(st->file, '/') + 1 : st->file;
    ho_msg_t *m = ho_msg_new("import.summary");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "imp-summary", st->import_id, strlen(st->import_id));
    ho_msg_set_id(m, id);
    ho_msg_set_payload(
        m, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:I}", "import_id", st->import_id,
                     "source", st->profile, "kind", st->kind, "file", base, "read",
                     (json_int_t)st->read, "accepted", (json_int_t)st->accepted, "skipped",
                     s_counts_json(&st->skipped), "quarantined", s_counts_json(&st->quarantined),
                     "finished_at", (json_int_t)(s->now_ms ? s->now_ms : ho_now_ms())));
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    if (ho_client_request(s->probe, "store", &m, 1, &reply, &n, &err) != HO_OK) {
        ho_warn("import.summary of %s not delivered: %s", st->file, err.message);
    }
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&m);
}

/* One import.stats round trip: 1 with the reply's payload (caller decrefs), 0 when the store
 * does not know the request (an older store: unknown_type), -1 when nobody answered or the
 * store answered with a failure. */
static int s_ask_stats(s_sender_t *s, const char *import_id, json_t **out)
{
    ho_msg_t *m = ho_msg_new("import.stats");
    ho_msg_set_payload(m, json_pack("{s:s}", "import_id", import_id));
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    int rc = ho_client_request(s->probe, "store", &m, 1, &reply, &n, &err);
    ho_msg_destroy(&m);
    if (rc != HO_OK) {
        ho_debug("import.stats: %s", err.message);
        return -1;
    }
    int found = -1;
    for (size_t i = 0; i < n && found < 1; i++) {
        const json_t *p = ho_msg_payload(reply[i]);
        const char *code = json_string_value(json_object_get(p, "code"));
        if (strcmp(ho_msg_type(reply[i]), "import.stats") == 0 &&
            json_is_integer(json_object_get(p, "applied"))) {
            *out = json_deep_copy(p);
            found = 1;
        } else if (code && strcmp(code, "unknown_type") == 0) {
            found = 0;
        }
    }
    ho_msg_batch_free(&reply, n);
    return found;
}

static long s_int(const json_t *o, const char *key)
{
    return (long)json_integer_value(json_object_get(o, key));
}

/* One import.stats answer into st; returns what the store has done with the records
 * (applied, plus what it refused itself: its quarantined count holds ours too). */
static long s_take_stats(s_stats_t *st, const json_t *r)
{
    long down = s_int(r, "quarantined") - st->quarantined.total;
    st->applied = s_int(r, "applied");
    st->new_people = s_int(r, "new");
    st->merged = s_int(r, "merged");
    /* records the store gave up on (an I/O error, a corrupt page) are not stored */
    st->not_stored = s_int(r, "failed");
    return st->applied + (down > 0 ? down : 0);
}

/* Wait until the store has applied (or refused) every accepted record: new and merged come
 * from it. Its queue is first in, first out, so its first answer already covers what was
 * routed to it before; then it is asked again while the count grows. Accepted records it
 * never counts were the same events as records applied before (a repeated row, an earlier
 * import): said on stderr, not an error. Only a store that does not answer for --settle is:
 * what it never applied is not_stored. */
static void s_wait_stored(s_sender_t *s, s_stats_t *st)
{
    if (!s->probe || s->no_stats) {
        return;
    }
    long last = -1;
    int64_t since = ho_now_ms();
    const int64_t quiet_ms = s->settle_ms < 2000 ? s->settle_ms : 2000;
    for (;;) {
        if (s_stopped(s)) {
            st->not_stored = st->accepted - (st->applied > 0 ? st->applied : 0);
            return;
        }
        json_t *r = NULL;
        int got = s_ask_stats(s, st->import_id, &r);
        if (got == 0) {
            ho_warn("the store does not answer import.stats: new and merged are not known");
            s->no_stats = true;
            return;
        }
        long done = got > 0 ? s_take_stats(st, r) : last;
        json_decref(r);
        if (got > 0 && done >= st->accepted) {
            return;
        }
        if (got > 0 && done != last) {
            last = done;
            since = ho_now_ms();
        } else if (got > 0 && ho_now_ms() - since >= quiet_ms) {
            ho_info("file=%s: %ld accepted records were the same events as records the store "
                    "had applied before (a repeated row, an earlier import): not counted again",
                    st->file, st->accepted - done);
            return;
        } else if (got < 0 && ho_now_ms() - since >= s->settle_ms) {
            st->not_stored = st->accepted - (last > 0 ? last : 0);
            ho_warn("file=%s: the store did not answer for %ld ms: %ld accepted records not "
                    "stored",
                    st->file, s->settle_ms, st->not_stored);
            return;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void s_num(char *buf, size_t cap, long v)
{
    if (v < 0) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%ld", v);
    }
}

static bool s_balanced(const s_stats_t *st)
{
    return st->read == st->accepted + st->skipped.total + st->quarantined.total;
}

static void s_print(const s_stats_t *st)
{
    char nw[32], mg[32];
    s_num(nw, sizeof nw, st->new_people);
    s_num(mg, sizeof mg, st->merged);
    printf("import file=%s source=%s kind=%s read=%ld accepted=%ld skipped=%ld quarantined=%ld "
           "new=%s merged=%s",
           st->file, st->profile, st->kind, st->read, st->accepted, st->skipped.total,
           st->quarantined.total, nw, mg);
    if (st->failed || st->not_stored > 0) {
        printf(" not_stored=%ld", st->failed + (st->not_stored > 0 ? st->not_stored : 0));
    }
    printf(" check=%s\n", s_balanced(st) ? "ok" : "MISMATCH");
    for (size_t i = 0; i < st->skipped.n; i++) {
        printf("skip file=%s reason=%s count=%ld\n", st->file, st->skipped.r[i].code,
               st->skipped.r[i].count);
    }
    for (size_t i = 0; i < st->quarantined.n; i++) {
        printf("quarantine file=%s reason=%s count=%ld\n", st->file, st->quarantined.r[i].code,
               st->quarantined.r[i].count);
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

/* An error on stderr with the file's own bytes made harmless: a header or value quoted in a
 * message could hold terminal escapes. */
static void s_say(const char *msg, const char *prefix)
{
    fputs("handoff import: ", stderr);
    for (int part = 0; part < 2; part++) {
        const char *t = part == 0 ? prefix : msg;
        for (const unsigned char *c = (const unsigned char *)t; c && *c; c++) {
            fputc(*c < 0x20 || *c == 0x7F ? '?' : *c, stderr);
        }
        if (part == 0 && prefix) {
            fputs(": ", stderr);
        }
    }
    fputc('\n', stderr);
}

/* After an unknown --source: the nearest profile name, when one is a likely typo of it. */
static void s_profile_hint(const s_opts_t *o)
{
    if (!o->source || o->profile_file) {
        return;
    }
    char **names = ho_profile_names(o->config_dir);
    size_t n = 0;
    while (names && names[n]) {
        n++;
    }
    const char *near = ho_cli_nearest(o->source, (const char *const *)names, n);
    if (near && strcmp(near, o->source) != 0) {
        fprintf(stderr, "handoff import: did you mean --source %s?\n", near);
    }
    ho_profile_names_free(&names);
}

/* The profile for path: named, from a file, or by the file's header. NULL after printing why. */
static ho_profile_t *s_profile_for(const s_opts_t *o, const char *path, char *format, size_t cap)
{
    ho_err_t err = {0};
    char **cols = NULL;
    size_t ncols = 0;
    snprintf(format, cap, "csv");
    if (strcmp(path, "-") == 0) {
        /* a pipe cannot be peeked at: the profile says what it is */
        if (!o->source && !o->profile_file) {
            fprintf(stderr, "handoff import: reading stdin (-) needs --source or --profile-file\n");
            return NULL;
        }
        snprintf(format, cap, "%s", o->stdin_format ? o->stdin_format : "csv");
    } else {
        char hint[1200];
        if (ho_import_hint_file(path, hint, sizeof hint)) {
            s_say(hint, NULL);
            return NULL;
        }
        if (ho_connector_sniff(path, format, cap, &cols, &ncols, &err) != HO_OK) {
            s_say(err.message, NULL);
            return NULL;
        }
    }
    ho_profile_t *profile = NULL;
    if (o->profile_file) {
        profile = ho_profile_load_file(o->profile_file, &err);
    } else if (o->source) {
        profile = ho_profile_load(o->config_dir, o->source, &err);
    } else {
        profile = ho_profile_detect(o->config_dir, format, (const char *const *)cols, ncols, &err);
    }
    if (!profile) {
        s_say(err.message, path);
        s_profile_hint(o);
        char hint[600];
        if (strcmp(format, "csv") == 0 &&
            ho_import_hint_header((const char *const *)cols, ncols, hint, sizeof hint)) {
            s_say(hint, "hint");
        }
    }
    ho_connector_cols_free(&cols, ncols);
    return profile;
}

/* One record from the connector: counted, stamped, skipped or queued for sending. */
static void s_take(s_sender_t *s, s_stats_t *st, s_batch_t *data, s_batch_t *quar, ho_msg_t *msg)
{
    st->read++;
    const char *type = ho_msg_type(msg);
    const json_t *p = ho_msg_payload(msg);
    if (strcmp(type, "skip") == 0) {
        const char *code = json_string_value(json_object_get(p, "code"));
        s_count(&st->skipped, code ? code : "other");
        ho_debug("skip %s", json_string_value(json_object_get(p, "reason")));
        ho_msg_destroy(&msg);
        return;
    }
    s_stamp(msg, st->import_id);
    if (s->now_ms) {
        /* --now is the import's clock: the store's received_at (pending feedback's grace)
         * and quarantine times follow it, so a re-run gives the same rows (issue 12 item 7) */
        ho_msg_set_ts(msg, s->now_ms);
    }
    if (strcmp(type, "quarantine") == 0) {
        const char *code = json_string_value(json_object_get(p, "code"));
        s_reason(st, code ? code : "unknown");
        s_add(s, quar, msg);
    } else {
        s_add(s, data, msg);
    }
}

/* Progress on stderr: records and MB read, the rate, and with the file's size (a regular
 * file, size > 0) the percent done and the time left at the rate so far. */
static void s_progress(const char *path, const s_stats_t *st, uint64_t off, uint64_t size,
                       int64_t t0)
{
    double secs = (double)(ho_now_ms() - t0) / 1000.0;
    double mbps = secs > 0 ? (double)off / 1048576.0 / secs : 0.0;
    char pct[96] = "";
    if (size > 0 && off <= size) {
        double left = mbps > 0 ? (double)(size - off) / 1048576.0 / mbps : 0.0;
        snprintf(pct, sizeof pct, " percent=%.1f eta_s=%.0f", 100.0 * (double)off / (double)size,
                 left);
    }
    ho_info("file=%s read_mb=%.1f records=%ld rate=%.0f/s mb_per_s=%.1f%s rss_mb=%.1f", path,
            (double)off / 1048576.0, st->read, secs > 0 ? (double)st->read / secs : 0.0, mbps, pct,
            (double)s_peak_rss_kb() / 1024.0);
}

/* Read every record of an open connector and send it. 0, or 1 on an I/O error. */
static int s_pump(s_sender_t *s, const s_opts_t *o, const ho_connector_def_t *conn, void *cctx,
                  const char *path, s_stats_t *st, const char *service)
{
    ho_msg_t *data_buf[s->batch], *q_buf[s->batch];
    s_batch_t data = {service, data_buf, 0};
    s_batch_t quar = {"store", q_buf, 0};
    uint64_t step = (uint64_t)(o->progress_mb > 0 ? o->progress_mb : 64) << 20;
    uint64_t next_report = step;
    int64_t t0 = ho_now_ms(), last_report = t0;
    struct stat sb;
    uint64_t size = strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)
                        ? (uint64_t)sb.st_size
                        : 0;
    int rc = 0;
    ho_err_t err = {0};
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
        s_take(s, st, &data, &quar, msg);
        if (s->io_error || s_stopped(s) || s_signal) {
            rc = 1;
            break;
        }
        /* every progress_mb, and every 5 s on a slow pipeline; the clock read once per 1024 */
        uint64_t off = conn->cb_offset ? conn->cb_offset(cctx) : 0;
        bool due = off >= next_report;
        if (!due && (st->read & 1023) == 0 && ho_now_ms() - last_report >= 5000) {
            due = true;
        }
        if (due) {
            s_progress(path, st, off, size, t0);
            last_report = ho_now_ms();
            while (next_report <= off) {
                next_report += step;
            }
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
    return rc;
}

/* After the last record of a file: the summary to the store and its word on what it stored.
 * A store service without a worker (stopped, dead, never started) cannot take either: what
 * was sent waits in the broker, not stored (asking would only queue more behind it). */
static void s_after_file(s_sender_t *s, s_stats_t *st)
{
    if (s->io_error || s_signal || !s->probe || s->no_wait) {
        return;
    }
    int store = s_store_state(s);
    if (store < 0) {
        ho_warn("the broker knows no store service: import.summary not sent, what was stored is "
                "not known");
    } else if (store == 0) {
        st->not_stored = st->accepted;
        ho_warn("file=%s: the store service has no worker: %ld accepted records wait in the "
                "broker, not stored",
                st->file, st->accepted);
    } else {
        s_send_summary(s, st);
        s_wait_stored(s, st);
    }
}

static int s_import_file(s_sender_t *s, const s_opts_t *o, const char *path, s_stats_t *st)
{
    ho_err_t err = {0};
    char format[16];
    ho_profile_t *profile = s_profile_for(o, path, format, sizeof format);
    if (!profile) {
        return 1;
    }
    if (s_content_id(path, st->import_id, sizeof st->import_id, &err) != 0) {
        fprintf(stderr, "handoff import: %s\n", err.message);
        ho_profile_destroy(&profile);
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
    st->kind = ho_profile_kind_name(kind);
    const char *service = kind == HO_KIND_FEEDBACK ? "feedback" : "ingest";
    ho_info("file=%s profile=%s connector=%s kind=%s import_id=%s -> %s", path,
            ho_profile_name(profile), conn->name, st->kind, st->import_id, service);
    int rc = s_pump(s, o, conn, cctx, path, st, service);
    conn->cb_close(&cctx);
    ho_profile_destroy(&profile);
    s_after_file(s, st);
    if (s->io_error || st->failed || st->not_stored > 0 || !s_balanced(st)) {
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

typedef struct {
    s_opts_t o;
    ho_cli_env_t env;
    const char *now;
    long batch, window, timeout, max_backlog, settle_s;
    bool dry, list, no_wait, serial;
} s_args_t;

static int s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"source", required_argument, NULL, 's'},
        {"profile-file", required_argument, NULL, 'p'},
        {"batch", required_argument, NULL, 'b'},
        {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"max-backlog", required_argument, NULL, 'B'},
        {"dry-run", no_argument, NULL, 'n'},
        {"progress-mb", required_argument, NULL, 'm'},
        {"list", no_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'},
        {"now", required_argument, NULL, 'N'},
        {"settle", required_argument, NULL, 'S'},
        {"no-wait", no_argument, NULL, 'W'},
        {"serial", no_argument, NULL, 'Z'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hc:", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&a->env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 's':
            a->o.source = optarg;
            break;
        case 'p':
            a->o.profile_file = optarg;
            break;
        case 'b':
            a->batch = atol(optarg);
            break;
        case 'w':
            a->window = atol(optarg);
            break;
        case 'B':
            a->max_backlog = atol(optarg);
            break;
        case 't':
            a->timeout = atol(optarg);
            break;
        case 'n':
            a->dry = true;
            break;
        case 'm':
            a->o.progress_mb = atol(optarg);
            break;
        case 'l':
            a->list = true;
            break;
        case 'N':
            a->now = optarg;
            break;
        case 'Z':
            a->serial = true;
            a->window = 1;
            break;
        case 'W':
            a->no_wait = true;
            break;
        case 'S':
            a->settle_s = atol(optarg);
            break;
        case 'f':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "jsonl") != 0) {
                fprintf(stderr, "handoff import: --format csv|jsonl\n");
                return 2;
            }
            a->o.stdin_format = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (a->batch < 1 || a->batch > 10000 || a->window < 1 || a->window > 1024 || a->timeout < 100 ||
        a->max_backlog < 0 || a->settle_s < 1) {
        fprintf(stderr, "handoff import: --batch 1..10000, --window 1..1024, --timeout >= 100, "
                        "--max-backlog >= 0, --settle >= 1\n");
        return 2;
    }
    if ((optind >= argc && !a->list) || (a->o.source && a->o.profile_file)) {
        s_usage(stderr);
        return 2;
    }
    return -1;
}

/* The in-process workers of --dry-run: ingest and feedback. */
static void s_dry_init(s_sender_t *s, const s_opts_t *o, ho_gateway_t *gw)
{
    static const char *const names[2] = {"ingest", "feedback"};
    s->dry_run = true;
    for (int w = 0; w < 2; w++) {
        ho_err_t err = {0};
        ho_worker_env_t env = {.name = names[w],
                               .config_dir = o->config_dir,
                               .data_dir = ho_gateway_data_dir(gw),
                               .conf = ho_gateway_conf(gw),
                               .settings = ho_gateway_worker_settings(gw, names[w]),
                               .origin = "import@dry-run"};
        s->dry[w] = ho_worker_find(names[w]);
        if (s->dry[w] && s->dry[w]->cb_init &&
            s->dry[w]->cb_init(&env, &s->dry_ctx[w], &err) != HO_OK) {
            fprintf(stderr, "handoff import: %s: %s\n", names[w], err.message);
            s->dry[w] = NULL;
        }
    }
}

/* The broker clients: one for the records, one with a short timeout for import.stats. */
static int s_connect(s_sender_t *s, const s_args_t *a)
{
    ho_err_t err = {0};
    /* Fail fast when nobody answers rather than after the resends of the first batch. */
    s->probe = ho_cli_env_client(&a->env, 1, 3000, 1);
    if (!s->probe) {
        return 1;
    }
    json_t *status = NULL;
    if (ho_client_status(s->probe, &status, &err) != HO_OK) {
        fprintf(stderr, "handoff import: broker unreachable at %s: %s\n",
                ho_gateway_endpoint(a->env.gw), err.message);
        return 1;
    }
    json_decref(status);
    s_catch_signals(); /* after czmq's own handler (installed with the first socket) */
    s->client = ho_cli_env_client(&a->env, (int)a->window, (int)a->timeout, 3);
    return s->client ? 0 : 1;
}

/* --dry-run: new and merged as an empty store would see them (emails seen before in this
 * command are merged). */
static void s_dry_people(s_stats_t *st)
{
    if (strcmp(st->kind ? st->kind : "", "lead") != 0) {
        st->new_people = st->merged = 0;
    } else if (!st->dups_unknown) {
        st->merged = st->duplicates;
        st->new_people = st->accepted - st->duplicates;
    }
}

static void s_print_total(const s_stats_t *stats, int nfiles)
{
    s_stats_t t = {.file = "(all)", .new_people = 0, .merged = 0};
    for (int i = 0; i < nfiles; i++) {
        const s_stats_t *st = &stats[i];
        t.read += st->read;
        t.accepted += st->accepted;
        t.failed += st->failed;
        t.not_stored += st->not_stored > 0 ? st->not_stored : 0;
        t.new_people = t.new_people < 0 || st->new_people < 0 ? -1 : t.new_people + st->new_people;
        t.merged = t.merged < 0 || st->merged < 0 ? -1 : t.merged + st->merged;
        for (size_t k = 0; k < st->skipped.n; k++) {
            s_count_n(&t.skipped, st->skipped.r[k].code, st->skipped.r[k].count);
        }
        for (size_t k = 0; k < st->quarantined.n; k++) {
            s_count_n(&t.quarantined, st->quarantined.r[k].code, st->quarantined.r[k].count);
        }
    }
    char nw[32], mg[32];
    s_num(nw, sizeof nw, t.new_people);
    s_num(mg, sizeof mg, t.merged);
    printf("import total files=%d read=%ld accepted=%ld skipped=%ld quarantined=%ld new=%s "
           "merged=%s",
           nfiles, t.read, t.accepted, t.skipped.total, t.quarantined.total, nw, mg);
    if (t.failed || t.not_stored) {
        printf(" not_stored=%ld", t.failed + t.not_stored);
    }
    printf(" check=%s\n", s_balanced(&t) ? "ok" : "MISMATCH");
    for (size_t k = 0; k < t.skipped.n; k++) {
        printf("skip total reason=%s count=%ld\n", t.skipped.r[k].code, t.skipped.r[k].count);
    }
    for (size_t k = 0; k < t.quarantined.n; k++) {
        printf("quarantine total reason=%s count=%ld\n", t.quarantined.r[k].code,
               t.quarantined.r[k].count);
    }
}

static int s_run_files(s_sender_t *s, const s_opts_t *o, int nfiles, char **files)
{
    ho_err_t err = {0};
    ho_dupcount_t *seen = ho_dupcount_new(0, NULL);
    s_stats_t *stats = calloc((size_t)nfiles, sizeof *stats);
    int rc = stats ? 0 : 1;
    for (int i = 0; i < nfiles && stats; i++) {
        s_stats_t *st = &stats[i];
        st->file = files[i];
        st->applied = st->new_people = st->merged = -1;
        s_ctx_t ctx = {st, seen};
        s->ctx = &ctx;
        int frc = s_import_file(s, o, files[i], st);
        seen = ctx.seen; /* NULL once the counter failed */
        if (!seen) {
            st->dups_unknown = true;
        } else if (ho_dupcount_close_group(seen, &st->duplicates, &err) != HO_OK) {
            ho_warn("%s", err.message);
            st->dups_unknown = true;
            ho_dupcount_destroy(&seen);
        }
        if (s->dry_run) {
            s_dry_people(st);
        }
        if (st->profile[0]) {
            s_print(st);
        }
        if (s_signal) {
            rc = s_print_interrupted(&stats[i]);
            break;
        }
        fflush(stdout);
        if (frc != 0) {
            rc = 1;
            if (s->io_error) {
                fprintf(stderr, "handoff import: %s\n", s->error[0] ? s->error : "I/O error");
                break;
            }
        }
    }
    if (nfiles > 1 && stats) {
        s_print_total(stats, nfiles);
    }
    free(stats);
    ho_dupcount_destroy(&seen);
    return rc;
}

/* --source NAME names a loadable profile; else print why and the nearest name, -1. */
static int s_check_source(const s_opts_t *o)
{
    if (!o->source || o->profile_file) {
        return 0;
    }
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_load(o->config_dir, o->source, &err);
    if (p) {
        ho_profile_destroy(&p);
        return 0;
    }
    s_say(err.message, "--source");
    s_profile_hint(o);
    return -1;
}

int ho_cmd_import(int argc, char **argv)
{
    s_args_t a = {.o = {.progress_mb = 64},
                  .env = {.cmd = "import"},
                  .batch = 500,
                  .window = 8,
                  .timeout = 30000,
                  .max_backlog = 16,
                  .settle_s = 30};
    int prc = s_parse(argc, argv, &a);
    if (prc >= 0) {
        return prc;
    }
    s_sender_t s = {0};
    s.batch = (size_t)a.batch;
    s.max_backlog = a.max_backlog;
    s.settle_ms = a.settle_s * 1000;
    s.no_wait = a.no_wait;
    s.serial = a.serial;
    if (a.now && ho_time_parse(a.now, &s.now_ms) != 0) {
        fprintf(stderr, "handoff import: --now %s: expected YYYY-MM-DD[THH:MM[:SSZ]] or epoch ms\n",
                a.now);
        return 2;
    }
    if (ho_cli_env_open(&a.env) != 0) {
        return 1;
    }
    a.o.config_dir = ho_gateway_config_dir(a.env.gw);
    int rc = 0;
    if (!a.list && s_check_source(&a.o) != 0) {
        rc = 2; /* a misspelt --source fails before any broker is asked for anything */
    } else if (a.list) {
        s_list(a.o.config_dir);
    } else if (a.dry) {
        s_dry_init(&s, &a.o, a.env.gw);
        rc = s_run_files(&s, &a.o, argc - optind, argv + optind);
    } else if ((rc = s_connect(&s, &a)) == 0) {
        rc = s_run_files(&s, &a.o, argc - optind, argv + optind);
    }
    if (s.client) {
        ho_client_destroy(&s.client);
    }
    if (s.probe) {
        ho_client_destroy(&s.probe);
    }
    for (int w = 0; w < 2; w++) {
        if (s.dry[w] && s.dry[w]->cb_exit) {
            s.dry[w]->cb_exit(&s.dry_ctx[w]);
        }
    }
    ho_cli_env_close(&a.env);
    return rc;
}
