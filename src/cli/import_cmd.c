/* import_cmd.c - `handoff import FILE...`: read exports through a connector and a mapping
 * profile and send the records to the pipeline in batches, with a window of requests in
 * flight (backpressure from the broker).
 *
 * Leads and activities go to service "ingest", feedback rows to "feedback", records the
 * connector could not read to "store" as `quarantine` envelopes. The broker forwards each
 * worker's complete reply to us as well as routing it on, so the summary counts what the
 * pipeline actually did: accepted = normalized records in the replies, quarantined = the
 * connector's refusals plus the workers' `quarantine` envelopes, by reason.
 *
 * This file reads the files and prints; sending, backpressure and counting the replies are
 * in import_send.c. */
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
#include "cli/import_send.h"
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

static void s_num(char *buf, size_t cap, long v)
{
    if (v < 0) {
        snprintf(buf, cap, "-");
    } else {
        snprintf(buf, cap, "%ld", v);
    }
}

static bool s_balanced(const ho_import_stats_t *st)
{
    return st->read == st->accepted + st->skipped.total + st->quarantined.total;
}

static void s_print(const ho_import_stats_t *st)
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
static int s_print_interrupted(const ho_import_stats_t *st)
{
    printf("import interrupted signal=%s file=%s read=%ld sent=%ld accepted=%ld "
           "unanswered=%ld\n",
           ho_import_signal() == SIGINT ? "INT" : "TERM", st->file, st->read, st->sent, st->accepted,
           st->failed);
    fflush(stdout);
    return 128 + ho_import_signal();
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
static void s_take(ho_import_sender_t *s, ho_import_stats_t *st, ho_import_batch_t *data, ho_import_batch_t *quar, ho_msg_t *msg)
{
    st->read++;
    const char *type = ho_msg_type(msg);
    const json_t *p = ho_msg_payload(msg);
    if (strcmp(type, "skip") == 0) {
        const char *code = json_string_value(json_object_get(p, "code"));
        ho_import_count(&st->skipped, code ? code : "other");
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
        ho_import_reason(st, code ? code : "unknown");
        ho_import_add(s, quar, msg);
    } else {
        ho_import_add(s, data, msg);
    }
}

/* Progress on stderr: records and MB read, the rate, and with the file's size (a regular
 * file, size > 0) the percent done and the time left at the rate so far. */
static void s_progress(const char *path, const ho_import_stats_t *st, uint64_t off, uint64_t size,
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
static int s_pump(ho_import_sender_t *s, const s_opts_t *o, const ho_connector_def_t *conn, void *cctx,
                  const char *path, ho_import_stats_t *st, const char *service)
{
    ho_msg_t *data_buf[s->batch], *q_buf[s->batch];
    ho_import_batch_t data = {service, data_buf, 0};
    ho_import_batch_t quar = {"store", q_buf, 0};
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
        if (s->io_error || ho_import_stopped(s) || ho_import_signal()) {
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
    if (ho_import_signal()) { /* stopped: send nothing more; what is in flight is reported unanswered */
        ho_import_drop(&data);
        ho_import_drop(&quar);
    }
    ho_import_flush(s, &data);
    ho_import_flush(s, &quar);
    if (ho_import_signal() && s->client) {
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
static void s_after_file(ho_import_sender_t *s, ho_import_stats_t *st)
{
    if (s->io_error || ho_import_signal() || !s->probe || s->no_wait) {
        return;
    }
    int store = ho_import_store_state(s);
    if (store < 0) {
        ho_warn("the broker knows no store service: import.summary not sent, what was stored is "
                "not known");
    } else if (store == 0) {
        st->not_stored = st->accepted;
        ho_warn("file=%s: the store service has no worker: %ld accepted records wait in the "
                "broker, not stored",
                st->file, st->accepted);
    } else {
        ho_import_send_summary(s, st);
        ho_import_wait_stored(s, st);
    }
}

static int s_import_file(ho_import_sender_t *s, const s_opts_t *o, const char *path, ho_import_stats_t *st)
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
static void s_dry_init(ho_import_sender_t *s, const s_opts_t *o, ho_gateway_t *gw)
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
static int s_connect(ho_import_sender_t *s, const s_args_t *a)
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
    ho_import_catch_signals(); /* after czmq's own handler (installed with the first socket) */
    s->client = ho_cli_env_client(&a->env, (int)a->window, (int)a->timeout, 3);
    return s->client ? 0 : 1;
}

/* --dry-run: new and merged as an empty store would see them (emails seen before in this
 * command are merged). */
static void s_dry_people(ho_import_stats_t *st)
{
    if (strcmp(st->kind ? st->kind : "", "lead") != 0) {
        st->new_people = st->merged = 0;
    } else if (!st->dups_unknown) {
        st->merged = st->duplicates;
        st->new_people = st->accepted - st->duplicates;
    }
}

static void s_print_total(const ho_import_stats_t *stats, int nfiles)
{
    ho_import_stats_t t = {.file = "(all)", .new_people = 0, .merged = 0};
    for (int i = 0; i < nfiles; i++) {
        const ho_import_stats_t *st = &stats[i];
        t.read += st->read;
        t.accepted += st->accepted;
        t.failed += st->failed;
        t.not_stored += st->not_stored > 0 ? st->not_stored : 0;
        t.new_people = t.new_people < 0 || st->new_people < 0 ? -1 : t.new_people + st->new_people;
        t.merged = t.merged < 0 || st->merged < 0 ? -1 : t.merged + st->merged;
        for (size_t k = 0; k < st->skipped.n; k++) {
            ho_import_count_n(&t.skipped, st->skipped.r[k].code, st->skipped.r[k].count);
        }
        for (size_t k = 0; k < st->quarantined.n; k++) {
            ho_import_count_n(&t.quarantined, st->quarantined.r[k].code, st->quarantined.r[k].count);
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

static int s_run_files(ho_import_sender_t *s, const s_opts_t *o, int nfiles, char **files)
{
    ho_err_t err = {0};
    ho_dupcount_t *seen = ho_dupcount_new(0, NULL);
    ho_import_stats_t *stats = calloc((size_t)nfiles, sizeof *stats);
    int rc = stats ? 0 : 1;
    for (int i = 0; i < nfiles && stats; i++) {
        ho_import_stats_t *st = &stats[i];
        st->file = files[i];
        st->applied = st->new_people = st->merged = -1;
        ho_import_ctx_t ctx = {st, seen};
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
        if (ho_import_signal()) {
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
    ho_import_sender_t s = {0};
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
