/* metrics.c - Prometheus text from the broker's status and the data dir (metrics.h). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "handoff/metrics.h"
#include "handoff/outbox.h"
#include "handoff/reader.h"

/* A label value with \, " and newline escaped as the exposition format wants. */
static void s_label(FILE *f, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*p, f);
        }
    }
}

static void s_head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long s_int(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

typedef struct {
    const char *key, *name, *type, *help;
} s_field_t;

static const s_field_t s_broker_counters[] = {
    {"requests", "handoff_broker_requests_total", "counter", "client requests received"},
    {"replies", "handoff_broker_replies_total", "counter", "worker replies received"},
    {"routed", "handoff_broker_routed_total", "counter", "reply frames routed on by type"},
    {"dead_letters", "handoff_broker_dead_letters_total", "counter",
     "requests given up after max_attempts"},
    {"requeued", "handoff_broker_requeues_total", "counter",
     "requests requeued after their worker died"},
    {"refused", "handoff_broker_refused_total", "counter", "requests refused (queue full)"},
    {"protocol_errors", "handoff_broker_protocol_errors_total", "counter",
     "malformed messages dropped"},
    {"stale_replies", "handoff_broker_stale_replies_total", "counter",
     "replies for requests already answered"},
};

static const s_field_t s_service_fields[] = {
    {"workers", "handoff_service_workers", "gauge", "live workers registered for the service"},
    {"queued", "handoff_service_queue_depth", "gauge", "requests waiting for a worker"},
    {"in_flight", "handoff_service_in_flight", "gauge", "requests handed to a worker, unanswered"},
    {"requests", "handoff_service_requests_total", "counter", "requests sent to the service"},
    {"replies", "handoff_service_replies_total", "counter", "replies from the service"},
    {"routed_in", "handoff_service_routed_in_total", "counter",
     "frames routed to the service by type"},
    {"dead_letters", "handoff_service_dead_letters_total", "counter",
     "requests of the service given up"},
};

static void s_broker(FILE *f, const json_t *st)
{
    s_head(f, "handoff_up", "gauge", "1 when the broker answered mmi.status");
    fprintf(f, "handoff_up %d\n", st ? 1 : 0);
    if (!st) {
        return;
    }
    s_head(f, "handoff_broker_uptime_seconds", "gauge", "seconds since the broker started");
    fprintf(f, "handoff_broker_uptime_seconds %.3f\n", (double)s_int(st, "uptime_ms") / 1000.0);
    const json_t *c = json_object_get(st, "counters");
    for (size_t i = 0; i < sizeof s_broker_counters / sizeof s_broker_counters[0]; i++) {
        const s_field_t *d = &s_broker_counters[i];
        s_head(f, d->name, d->type, d->help);
        fprintf(f, "%s %lld\n", d->name, s_int(c, d->key));
    }
    s_head(f, "handoff_journal_pending", "gauge", "journal writes not yet committed");
    fprintf(f, "handoff_journal_pending %lld\n", s_int(st, "journal_pending"));
    s_head(f, "handoff_journal_commits_total", "counter", "journal group commits");
    fprintf(f, "handoff_journal_commits_total %lld\n", s_int(st, "journal_commits"));
    s_head(f, "handoff_journal_failures_total", "counter", "journal writes that failed");
    fprintf(f, "handoff_journal_failures_total %lld\n", s_int(st, "journal_failures"));
}

static void s_services(FILE *f, const json_t *st)
{
    const json_t *services = json_object_get(st, "services");
    for (size_t k = 0; k < sizeof s_service_fields / sizeof s_service_fields[0]; k++) {
        const s_field_t *d = &s_service_fields[k];
        s_head(f, d->name, d->type, d->help);
        size_t i;
        json_t *s;
        json_array_foreach(services, i, s)
        {
            fprintf(f, "%s{service=\"", d->name);
            s_label(f, json_string_value(json_object_get(s, "name")));
            fprintf(f, "\"} %lld\n", s_int(s, d->key));
        }
    }
}

static void s_worker_line(FILE *f, const char *name, const json_t *w, const char *value)
{
    fprintf(f, "%s{service=\"", name);
    s_label(f, json_string_value(json_object_get(w, "service")));
    fprintf(f, "\",worker=\"");
    s_label(f, json_string_value(json_object_get(w, "id")));
    fprintf(f, "\"} %s\n", value);
}

static void s_workers(FILE *f, const json_t *st)
{
    static const s_field_t fields[] = {
        {"credit", "handoff_worker_credit", "gauge", "requests the worker will still take"},
        {"in_flight", "handoff_worker_in_flight", "gauge", "requests the worker holds"},
        {"handled", "handoff_worker_handled_total", "counter", "requests the worker answered"},
        {"last_seen_ms", "handoff_worker_heartbeat_age_seconds", "gauge",
         "seconds since the broker last heard from the worker"},
    };
    const json_t *workers = json_object_get(st, "workers");
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        s_head(f, fields[k].name, fields[k].type, fields[k].help);
        size_t i;
        json_t *w;
        json_array_foreach(workers, i, w)
        {
            char v[48];
            if (strcmp(fields[k].key, "last_seen_ms") == 0) {
                snprintf(v, sizeof v, "%.3f", (double)s_int(w, fields[k].key) / 1000.0);
            } else {
                snprintf(v, sizeof v, "%lld", s_int(w, fields[k].key));
            }
            s_worker_line(f, fields[k].name, w, v);
        }
    }
}

/* Quarantine rows by reason code, open and replayed (read-only; the store owns the file). */
static void s_quarantine(FILE *f, ho_reader_t *r)
{
    sqlite3_stmt *q = NULL;
    s_head(f, "handoff_quarantine_records", "gauge",
           "quarantined records by reason code; state=open (not replayed) or replayed");
    if (!r || ho_reader_stmt(r, HO_RQ_METRICS_QUARANTINE, &q, NULL) != HO_OK) {
        return; /* no database yet (or no quarantine table): no series */
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        fprintf(f, "handoff_quarantine_records{reason=\"");
        s_label(f, (const char *)sqlite3_column_text(q, 0));
        fprintf(f, "\",state=\"%s\"} %lld\n", sqlite3_column_int(q, 1) ? "replayed" : "open",
                (long long)sqlite3_column_int64(q, 2));
    }
    sqlite3_reset(q);
}

/* Imports by profile from the store's imports table (one row per import.summary): the count,
 * records read and accepted (rate() of them is the import rate), and the newest finish. */
static void s_imports(FILE *f, ho_reader_t *r)
{
    sqlite3_stmt *q = NULL;
    if (!r || ho_reader_stmt(r, HO_RQ_METRICS_IMPORTS, &q, NULL) != HO_OK) {
        return; /* no database yet: no series */
    }
    FILE *rows[4] = {NULL, NULL, NULL, NULL}; /* one family at a time in the output */
    char *bufs[4] = {NULL, NULL, NULL, NULL};
    size_t lens[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        rows[k] = open_memstream(&bufs[k], &lens[k]);
    }
    static const char *names[4] = {"handoff_imports_total", "handoff_import_records_read_total",
                                   "handoff_import_records_accepted_total",
                                   "handoff_import_last_finished_timestamp_seconds"};
    while (rows[0] && rows[1] && rows[2] && rows[3] && sqlite3_step(q) == SQLITE_ROW) {
        for (int k = 0; k < 4; k++) {
            fprintf(rows[k], "%s{source=\"", names[k]);
            s_label(rows[k], (const char *)sqlite3_column_text(q, 0));
            if (k == 3) {
                fprintf(rows[k], "\"} %.3f\n", (double)sqlite3_column_int64(q, 4) / 1000.0);
            } else {
                fprintf(rows[k], "\"} %lld\n", (long long)sqlite3_column_int64(q, k + 1));
            }
        }
    }
    static const char *helps[4] = {"imports finished, by profile",
                                   "records read by imports, by profile",
                                   "records accepted by imports, by profile",
                                   "when the newest import of the profile finished"};
    for (int k = 0; k < 4; k++) {
        if (rows[k]) {
            fclose(rows[k]);
        }
        s_head(f, names[k], k == 3 ? "gauge" : "counter", helps[k]);
        fputs(bufs[k] ? bufs[k] : "", f);
        free(bufs[k]);
    }
    sqlite3_reset(q);
}

/* Per-worker handler metrics from <data_dir>/stats/ (one JSON file each), which each worker runtime rewrites
 * at most once per heartbeat and every 30 s (runtime/stats.c); a file not rewritten for
 * S_STATS_STALE_MS is a worker that died without cleaning up, and is left out. */
#define S_STATS_STALE_MS 120000
static json_t *s_stats_load(const char *data_dir, int64_t now_ms)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/stats", data_dir);
    json_t *all = json_array();
    DIR *d = opendir(dir);
    struct dirent *e;
    while (all && d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char p[PATH_MAX + 256];
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) {
            continue;
        }
        json_t *o = json_load_file(p, 0, NULL);
        if (o && now_ms - s_int(o, "updated_ms") <= S_STATS_STALE_MS) {
            json_array_append(all, o);
        }
        json_decref(o);
    }
    if (d) {
        closedir(d);
    }
    return all;
}

static void s_stats_labels(FILE *f, const char *name, const json_t *w)
{
    fprintf(f, "%s{service=\"", name);
    s_label(f, json_string_value(json_object_get(w, "service")));
    fprintf(f, "\",origin=\"");
    s_label(f, json_string_value(json_object_get(w, "origin")));
    fputc('"', f);
}

static void s_worker_stats(FILE *f, const char *data_dir, int64_t now_ms)
{
    json_t *all = s_stats_load(data_dir, now_ms);
    size_t i;
    json_t *w;
    s_head(f, "handoff_worker_handler_handled_total", "counter",
           "handler calls that succeeded, per worker process (origin = name@host:pid)");
    json_array_foreach(all, i, w)
    {
        s_stats_labels(f, "handoff_worker_handler_handled_total", w);
        fprintf(f, "} %lld\n", s_int(w, "handled"));
    }
    s_head(f, "handoff_worker_handler_errors_total", "counter",
           "handler calls that failed or asked to be retried, per worker process");
    json_array_foreach(all, i, w)
    {
        s_stats_labels(f, "handoff_worker_handler_errors_total", w);
        fprintf(f, "} %lld\n", s_int(w, "errors"));
    }
    s_head(f, "handoff_worker_handler_seconds", "histogram",
           "handler call latency, per worker process");
    json_array_foreach(all, i, w)
    {
        const json_t *le = json_object_get(w, "le"), *counts = json_object_get(w, "counts");
        long long cum = 0;
        for (size_t k = 0; k < json_array_size(le) && k < json_array_size(counts); k++) {
            cum += (long long)json_integer_value(json_array_get(counts, k));
            s_stats_labels(f, "handoff_worker_handler_seconds_bucket", w);
            fprintf(f, ",le=\"%g\"} %lld\n", json_number_value(json_array_get(le, k)), cum);
        }
        long long total = s_int(w, "handled") + s_int(w, "errors");
        s_stats_labels(f, "handoff_worker_handler_seconds_bucket", w);
        fprintf(f, ",le=\"+Inf\"} %lld\n", total);
        s_stats_labels(f, "handoff_worker_handler_seconds_sum", w);
        fprintf(f, "} %.6f\n", json_number_value(json_object_get(w, "sum_seconds")));
        s_stats_labels(f, "handoff_worker_handler_seconds_count", w);
        fprintf(f, "} %lld\n", total);
    }
    json_decref(all);
}

static void s_outbox(FILE *f, const char *data_dir, int64_t now_ms)
{
    json_t *ob = NULL;
    ho_err_t err = {0};
    if (ho_outbox_status(data_dir, &ob, &err) != HO_OK || !ob) {
        return;
    }
    s_head(f, "handoff_outbox_deliveries", "gauge", "CRM webhook deliveries by status");
    static const char *statuses[] = {"pending", "delivered", "failed"};
    for (size_t i = 0; i < 3; i++) {
        fprintf(f, "handoff_outbox_deliveries{status=\"%s\"} %lld\n", statuses[i],
                s_int(ob, statuses[i]));
    }
    const json_t *oldest = json_object_get(ob, "oldest_pending_at");
    s_head(f, "handoff_outbox_oldest_pending_age_seconds", "gauge",
           "age of the oldest pending delivery (0 when none)");
    double age =
        json_is_integer(oldest) ? (double)(now_ms - json_integer_value(oldest)) / 1000.0 : 0.0;
    fprintf(f, "handoff_outbox_oldest_pending_age_seconds %.3f\n", age < 0 ? 0.0 : age);
    json_decref(ob);
}

static void s_file_size(FILE *f, const char *file, const char *path)
{
    struct stat st;
    fprintf(f, "handoff_file_bytes{file=\"");
    s_label(f, file);
    fprintf(f, "\"} %lld\n", stat(path, &st) == 0 ? (long long)st.st_size : 0LL);
}

static void s_data_dir(FILE *f, const ho_metrics_opts_t *o, int64_t now_ms)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/handoff.db", o->data_dir);
    ho_reader_t *r = ho_reader_open(p, 1000, NULL);
    s_quarantine(f, r);
    s_imports(f, r);
    ho_reader_destroy(&r);
    s_worker_stats(f, o->data_dir, now_ms);
    s_outbox(f, o->data_dir, now_ms);
    snprintf(p, sizeof p, "%s/outbox", o->data_dir);
    s_head(f, "handoff_outbox_packet_files", "gauge",
           "handoff packets written as JSON files (one folder per rep)");
    fprintf(f, "handoff_outbox_packet_files %zu\n",
            ho_outbox_packets(o->outbox_dir ? o->outbox_dir : p, NULL, NULL));
    s_head(f, "handoff_file_bytes", "gauge", "size of the data dir's files (-wal included)");
    /* every SQLite file is in WAL mode: between checkpoints most of its growth is in -wal */
    static const char *files[] = {"handoff.db", "handoff.db-wal", "router.db",
                                  "router.db-wal", "outbox.db", "outbox.db-wal"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", o->data_dir, files[i]);
        s_file_size(f, files[i], p);
    }
    if (o->journal) {
        snprintf(p, sizeof p, "%s", o->journal);
    } else {
        snprintf(p, sizeof p, "%s/broker.journal", o->data_dir);
    }
    s_file_size(f, "broker.journal", p);
    char wal[PATH_MAX + 8];
    snprintf(wal, sizeof wal, "%s-wal", p);
    s_file_size(f, "broker.journal-wal", wal);
}

char *ho_metrics_render(const json_t *status, const ho_metrics_opts_t *opts, ho_err_t *err)
{
    ho_metrics_opts_t none = {0};
    const ho_metrics_opts_t *o = opts ? opts : &none;
    int64_t now_ms = o->now_ms ? o->now_ms : ho_now_ms();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    s_broker(f, status);
    if (status) {
        s_services(f, status);
        s_workers(f, status);
    }
    if (o->data_dir) {
        s_data_dir(f, o, now_ms);
    }
    if (fclose(f) != 0) {
        free(text);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    return text;
}

bool ho_metrics_ready(const json_t *status, const char *const *required, size_t n, char *why,
                      size_t cap)
{
    if (!status) {
        snprintf(why, cap, "broker unreachable");
        return false;
    }
    const json_t *services = json_object_get(status, "services");
    size_t used = (size_t)snprintf(why, cap, "no worker for:");
    bool ready = true;
    size_t count = n ? n : json_array_size(services);
    for (size_t k = 0; k < count; k++) {
        const char *want =
            n ? required[k]
              : json_string_value(json_object_get(json_array_get(services, k), "name"));
        long long workers = 0;
        size_t i;
        json_t *s;
        json_array_foreach(services, i, s)
        {
            const char *name = json_string_value(json_object_get(s, "name"));
            if (name && want && strcmp(name, want) == 0) {
                workers = s_int(s, "workers");
            }
        }
        if (workers == 0) {
            ready = false;
            if (used < cap) {
                used += (size_t)snprintf(why + used, cap - used, " %s", want ? want : "?");
            }
        }
    }
    if (ready) {
        snprintf(why, cap, "ready");
    }
    return ready;
}
