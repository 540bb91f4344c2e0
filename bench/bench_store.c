/* bench_store.c - lead upserts per second through the store API (ho_store_upsert_lead), in
 * batched transactions as the store worker applies them, on a real SQLite file (WAL).
 *
 *     bench_store [N=200000] [BATCH=1000] [DIR=/tmp] [PHASES=insert,merge,savepoint,worker,plain]
 *
 * PHASES may also name "activities" (after the worker phase: 5 activities per lead for up to
 * 20000 leads, bytes per activity). With "worker" alone the worker phase stores N leads (N/2
 * otherwise) and prints the rate of each tenth of the run and the database bytes per lead;
 * BENCH_STORE_KEEP=1 keeps its database. Instructions per lead of the worker path:
 *     valgrind --tool=callgrind --toggle-collect=s_handle build/bench_store 10000 500 /tmp worker
 *
 * PHASES picks what runs (merge needs insert: it merges into the people insert stored), so a
 * callgrind run can count one phase alone:
 *     valgrind --tool=callgrind --toggle-collect=ho_store_begin --toggle-collect=ho_store_commit
 *         --toggle-collect=ho_store_upsert_lead build/bench_store 10000 1000 /tmp insert
 * gives the instructions of N insert upserts (with their batch's BEGIN/COMMIT); "insert,merge"
 * minus "insert" those of the N/2 merges.
 *
 * Phase "insert": N new people. Phase "merge": N/2 records of people already stored, from
 * a second source (the dedup/merge path: read, merge fields by the precedence rule, write).
 * Phase "insert_savepoint": N/2 more new people with a SAVEPOINT/RELEASE around every upsert,
 * as the store worker applies a batch (one bad message is undone alone).
 * Payload building is outside the timed section; everything the store does is inside it.
 * Then the yardstick of the same run on the same machine: plain batched SQLite inserts of one
 * short row (3 columns, no index but the rowid; same batch size, WAL, synchronous=NORMAL).
 * Prints upserts/s per phase (per wall and per CPU second), the plain rows/s, the peak RSS
 * and the load average (the machine is shared: compare per-CPU figures and ratios). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "handoff/store.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_store;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *s_payload(long i, const char *source, long long at)
{
    char email[64], first[32], company[32], rec[32];
    snprintf(email, sizeof email, "person%ld@company%ld.example", i, i % 5000);
    snprintf(first, sizeof first, "First%ld", i);
    snprintf(company, sizeof company, "Company %ld", i % 5000);
    snprintf(rec, sizeof rec, "%s-%ld", source, i);
    return json_pack(
        "{sssss{sssi}s{sssssssssssssssisssssssssb}sI}", "source", source, "email", email,
        "source_ref", "file", "bench.csv", "line", (int)(i + 2), "fields", "email", email,
        "first_name", first, "last_name", "Bench", "title", i % 3 ? "Manager" : "VP Sales",
        "company", company, "domain", strchr(email, '@') + 1, "country", "US", "employees",
        (int)(i % 900 + 10), "industry", "Software", "original_source", "Paid Search", "campaign",
        "bench-q4", "source_record_id", rec, "personal_email", 0, "observed_at", (json_int_t)at);
}

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns upserts per wall-clock second; *cpu_rate = per CPU second of this process (the
 * figure that does not move when other jobs share the machine). */
static double s_phase(ho_store_t *s, long from, long to, long step, long batch, const char *source,
                      long long at, const char *prefix, bool savepoints, double *cpu_rate)
{
    double total = 0, cpu = 0;
    json_t **buf = calloc((size_t)batch, sizeof *buf);
    char(*ids)[48] = calloc((size_t)batch, sizeof *ids);
    long done = 0;
    for (long i = from; i < to; i += step * batch) {
        long n = 0;
        for (long k = i; k < to && n < batch; k += step) {
            buf[n] = s_payload(k, source, at + k);
            snprintf(ids[n], sizeof ids[n], "%s-%ld", prefix, k);
            n++;
        }
        ho_err_t err = {0};
        ho_upsert_t res;
        double t0 = s_now(), c0 = s_cpu();
        if (ho_store_begin(s, &err) != HO_OK) {
            fprintf(stderr, "begin: %s\n", err.message);
            exit(1);
        }
        for (long k = 0; k < n; k++) {
            /* the store worker's shape: a savepoint around every message of the batch */
            if ((savepoints && ho_store_save(s, &err) != HO_OK) ||
                ho_store_upsert_lead(s, ids[k], buf[k], &res, &err) != HO_OK ||
                (savepoints && ho_store_release(s, &err) != HO_OK)) {
                fprintf(stderr, "upsert: %s\n", err.message);
                exit(1);
            }
        }
        if (ho_store_commit(s, &err) != HO_OK) {
            fprintf(stderr, "commit: %s\n", err.message);
            exit(1);
        }
        total += s_now() - t0;
        cpu += s_cpu() - c0;
        for (long k = 0; k < n; k++) {
            json_decref(buf[k]);
        }
        done += n;
    }
    free(buf);
    free(ids);
    *cpu_rate = (double)done / cpu;
    return (double)done / total;
}

/* The scorer's answer to one score.request, shaped as the score worker sends it (compact
 * explanation: rule ids and numbers). One lead in twenty is an MQL (qualify + route.request). */
static ho_msg_t *s_scored(const ho_msg_t *req, long i)
{
    const json_t *rp = ho_msg_payload(req);
    const json_t *lead = json_object_get(rp, "lead");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "scored", ho_msg_id(req), strlen(ho_msg_id(req)));
    ho_msg_t *m = ho_msg_new("lead.scored");
    ho_msg_set_id(m, id);
    ho_msg_set_ts(m, ho_msg_ts(req));
    bool mql = i % 20 == 0;
    json_t *ex = json_pack("[{sssi}{sssi}{sssi}{sssisisisI}]", "rule", "fit.title.vp", "points", 20,
                           "rule", "fit.employees.mid", "points", 15, "rule", "fit.country.us",
                           "points", 10, "rule", "interest.web", "points", mql ? 60 : 12, "n", 1,
                           "raw", mql ? 60 : 12, "last", (json_int_t)ho_msg_ts(req));
    json_t *p = json_object();
    json_object_set(p, "lead_id", json_object_get(lead, "lead_id"));
    json_object_set(p, "email", json_object_get(lead, "email"));
    json_object_set(p, "as_of", json_object_get(rp, "as_of"));
    json_object_set(p, "seq", json_object_get(rp, "seq"));
    json_object_set_new(p, "model_version", json_string("bench-1"));
    json_object_set_new(p, "fit", json_integer(45));
    json_object_set_new(p, "interest", json_integer(mql ? 60 : 12));
    json_object_set_new(p, "score", json_integer(mql ? 105 : 57));
    json_object_set_new(p, "grade", json_string(mql ? "A1" : "B3"));
    json_object_set_new(p, "quadrant", json_string(mql ? "mql_now" : "nurture"));
    json_object_set_new(p, "mql", json_boolean(mql));
    json_object_set_new(p, "explanation", ex);
    if (!ex || !json_is_integer(json_object_get(p, "lead_id"))) {
        fprintf(stderr, "bench_store: cannot build lead.scored\n");
        exit(1);
    }
    ho_msg_set_payload(m, p);
    return m;
}

static double s_cpu(void);

typedef struct {
    double wall, cpu;
} s_split_t;

/* One ho_worker_call, timed into *t. */
static void s_call(void *ctx, ho_msg_t **msgs, size_t k, ho_out_t *out, s_split_t *t)
{
    ho_out_clear(out);
    double t0 = s_now(), c0 = s_cpu();
    int rc = ho_worker_call(&ho_worker_store, ctx, msgs, k, out);
    t->wall += s_now() - t0;
    t->cpu += s_cpu() - c0;
    if (rc != HO_WORKER_OK) {
        fprintf(stderr, "worker: rc %d for %zu messages\n", rc, k);
        exit(1);
    }
}

/* Bytes of the worker's database file after a checkpoint (WAL copied back and truncated). */
static long long s_db_bytes(const char *dir)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) == SQLITE_OK) {
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* NACT activity.normalized (a page view, a realistic URL with UTM query) spread over the
 * leads the worker phase stored, in batches of BATCH, each batch's score.requests answered; the
 * database bytes they add per activity. */
static void s_worker_activities(void *ctx, const char *dir, long nact, long leads, long batch)
{
    ho_out_t *out = ho_out_new("store@bench");
    ho_msg_t **msgs = calloc((size_t)batch, sizeof *msgs);
    s_split_t t = {0}, sc = {0};
    long long before = s_db_bytes(dir);
    for (long i = 0; i < nact; i += batch) {
        long k = 0;
        for (; k < batch && i + k < nact; k++) {
            long a = i + k, who = 1000000 + (a * 7919) % leads;
            char id[HO_MSG_MAX_ID], email[64], url[160], path[64], aid[32];
            snprintf(aid, sizeof aid, "a-%ld", a); /* ids as ingest makes them */
            ho_msg_make_id(id, sizeof id, "act-hubspot", aid, strlen(aid));
            snprintf(email, sizeof email, "person%ld@company%ld.example", who, who % 5000);
            snprintf(path, sizeof path, "/blog/post-%ld", a % 400);
            snprintf(url, sizeof url,
                     "https://www.example.com%s?utm_source=newsletter&utm_medium=email"
                     "&utm_campaign=bench-q4",
                     path);
            msgs[k] = ho_msg_new("activity.normalized");
            ho_msg_set_id(msgs[k], id);
            ho_msg_set_ts(msgs[k], 1794000000000LL + a);
            ho_msg_set_payload(msgs[k],
                               json_pack("{sssssssssIsssssssss{}}", "source", "activities", "email",
                                         email, "activity_id", aid, "type", "page_view",
                                         "occurred_at", (json_int_t)(1794000000000LL + a), "url",
                                         url, "path", path, "campaign", "bench-q4", "source_system",
                                         "hubspot", "attributes"));
        }
        s_call(ctx, msgs, (size_t)k, out, &t);
        for (long j = 0; j < k; j++) {
            ho_msg_destroy(&msgs[j]);
        }
        size_t nreq = 0;
        ho_msg_t **reqs = ho_out_take(out, &nreq);
        for (size_t j = 0; j < nreq; j++) {
            msgs[j] = s_scored(reqs[j], 1);
            ho_msg_destroy(&reqs[j]);
        }
        free(reqs);
        s_call(ctx, msgs, nreq, out, &sc);
        for (size_t j = 0; j < nreq; j++) {
            ho_msg_destroy(&msgs[j]);
        }
    }
    long long after = s_db_bytes(dir);
    printf("bench_store worker activities=%ld activity.normalized_per_s=%.0f per_cpu_s=%.0f "
           "with_rescore_per_cpu_s=%.0f db_bytes_per_activity=%.0f\n",
           nact, (double)nact / t.wall, (double)nact / t.cpu, (double)nact / (t.cpu + sc.cpu),
           (double)(after - before) / (double)nact);
    free(msgs);
    ho_out_destroy(&out);
}

/* The store worker's own handler (ho_worker_call, no broker): N new people as lead.normalized
 * envelopes in batches of BATCH, each batch one call (one transaction, a savepoint per message
 * only when one is refused, the score.request per lead built at the end); then the batch's
 * lead.scored answers as one call, as the scorer sends them. Leads (normalized + scored) per
 * wall second; *cpu_rate per CPU. Prints the rate of each tenth of the run (a cost per lead that
 * grows with the tables shows as a falling rate) and the database bytes per lead at the end. */
static double s_worker(const char *dir, long n, long batch, long nact, double *cpu_rate)
{
    ho_worker_env_t env = {.name = "store", .data_dir = dir, .origin = "store@bench"};
    ho_err_t err = {0};
    void *ctx = NULL;
    if (ho_worker_store.cb_init(&env, &ctx, &err) != HO_OK) {
        fprintf(stderr, "worker: %s\n", err.message);
        exit(1);
    }
    ho_out_t *out = ho_out_new("store@bench");
    ho_msg_t **msgs = calloc((size_t)batch, sizeof *msgs);
    s_split_t norm = {0}, scored = {0}, tenth = {0};
    long tenth_n = n / 10 > 0 ? n / 10 : n, tenth_done = 0, tenth_no = 0;
    for (long i = 0; i < n; i += batch) {
        long k = 0;
        for (; k < batch && i + k < n; k++) {
            char id[HO_MSG_MAX_ID], rec[32];
            snprintf(rec, sizeof rec, "w-%ld", i + k);
            ho_msg_make_id(id, sizeof id, "lead-salesforce", rec, strlen(rec));
            msgs[k] = ho_msg_new("lead.normalized");
            ho_msg_set_id(msgs[k], id);
            ho_msg_set_ts(msgs[k], 1793000000000LL + i + k);
            ho_msg_set_payload(msgs[k],
                               s_payload(1000000 + i + k, "salesforce", 1793000000000LL + i + k));
        }
        s_split_t before = {norm.wall + scored.wall, norm.cpu + scored.cpu};
        s_call(ctx, msgs, (size_t)k, out, &norm);
        for (long j = 0; j < k; j++) {
            ho_msg_destroy(&msgs[j]);
        }
        size_t nreq = 0;
        ho_msg_t **reqs = ho_out_take(out, &nreq);
        if (nreq != (size_t)k) {
            fprintf(stderr, "worker: %zu score.request for %ld leads\n", nreq, k);
            exit(1);
        }
        for (size_t j = 0; j < nreq; j++) {
            msgs[j] = s_scored(reqs[j], i + (long)j);
            ho_msg_destroy(&reqs[j]);
        }
        free(reqs);
        s_call(ctx, msgs, nreq, out, &scored);
        for (size_t j = 0; j < nreq; j++) {
            ho_msg_destroy(&msgs[j]);
        }
        tenth.wall += norm.wall + scored.wall - before.wall;
        tenth.cpu += norm.cpu + scored.cpu - before.cpu;
        tenth_done += k;
        if (tenth_done >= tenth_n || i + k >= n) {
            printf("bench_store worker tenth=%ld leads=%ld leads_per_s=%.0f leads_per_cpu_s=%.0f\n",
                   ++tenth_no, tenth_done, (double)tenth_done / tenth.wall,
                   (double)tenth_done / tenth.cpu);
            fflush(stdout);
            tenth = (s_split_t){0};
            tenth_done = 0;
        }
    }
    free(msgs);
    ho_out_destroy(&out);
    long long bytes = s_db_bytes(dir);
    printf("bench_store worker db_bytes=%lld db_bytes_per_lead=%.0f\n", bytes,
           (double)bytes / (double)n);
    if (nact > 0) {
        s_worker_activities(ctx, dir, nact, n, batch);
    }
    ho_worker_store.cb_exit(&ctx);
    char path[600];
    printf("bench_store worker lead.normalized_per_s=%.0f per_cpu_s=%.0f lead.scored_per_s=%.0f "
           "per_cpu_s=%.0f\n",
           (double)n / norm.wall, (double)n / norm.cpu, (double)n / scored.wall,
           (double)n / scored.cpu);
    const char *sides[] = {"", "-wal", "-shm"};
    for (int j = 0; j < 3 && !getenv("BENCH_STORE_KEEP"); j++) {
        snprintf(path, sizeof path, "%s/handoff.db%s", dir, sides[j]);
        unlink(path);
    }
    *cpu_rate = (double)n / (norm.cpu + scored.cpu);
    return (double)n / (norm.wall + scored.wall);
}

/* Plain batched inserts: rows per wall second, *cpu_rate per CPU second. */
static double s_plain(const char *dir, long n, long batch, double *cpu_rate)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bench_store-plain-%d.db", dir, (int)getpid());
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t (a, b, c) VALUES (?, ?, ?)", -1, &st, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "plain: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    double t0 = s_now(), c0 = s_cpu();
    char a[64];
    for (long i = 0; i < n; i += batch) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (long k = i; k < n && k < i + batch; k++) {
            snprintf(a, sizeof a, "person%ld@company%ld.example", k, k % 5000);
            sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, k);
            sqlite3_bind_text(st, 3, "Bench", -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "plain: %s\n", sqlite3_errmsg(db));
                exit(1);
            }
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double wall = s_now() - t0, cpu = s_cpu() - c0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    unlink(path);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    *cpu_rate = (double)n / cpu;
    return (double)n / wall;
}

/* Whether the comma-separated list names the phase. */
static bool s_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) {
            return true;
        }
        p += len + (end ? 1 : 0);
    }
    return false;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    long batch = argc > 2 ? atol(argv[2]) : 1000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    const char *phases = argc > 4 ? argv[4] : "insert,merge,savepoint,worker,plain";
    if (n <= 0 || batch <= 0) {
        fprintf(stderr, "usage: bench_store [N] [BATCH] [DIR] [PHASES]\n");
        return 2;
    }
    bool run_ins = s_has(phases, "insert"), run_mrg = s_has(phases, "merge");
    bool run_sp = s_has(phases, "savepoint"), run_wk = s_has(phases, "worker");
    bool run_plain = s_has(phases, "plain");
    if (run_mrg && !run_ins) {
        fprintf(stderr, "bench_store: the merge phase needs the insert phase\n");
        return 2;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/bench_store-%d.db", dir, (int)getpid());
    ho_err_t err = {0};
    json_t *prec = json_pack("{s[ss]}", "title", "salesforce", "hubspot");
    ho_store_opts_t opts = {.precedence = prec};
    ho_store_t *s = ho_store_open_opts(path, &opts, &err);
    json_decref(prec);
    if (!s) {
        fprintf(stderr, "open: %s\n", err.message);
        return 1;
    }
    double ins = 0, ins_cpu = 0, mrg = 0, mrg_cpu = 0;
    if (run_ins) {
        ins = s_phase(s, 0, n, 1, batch, "hubspot", 1790000000000LL, "hs", false, &ins_cpu);
    }
    if (run_mrg) {
        mrg = s_phase(s, 0, n, 2, batch, "salesforce", 1791000000000LL, "sf", false, &mrg_cpu);
    }
    /* new people again, a savepoint per upsert as the store worker applies a batch */
    double sp = 0, sp_cpu = 0;
    if (run_sp) {
        sp = s_phase(s, n, n + n / 2, 1, batch, "hubspot", 1792000000000LL, "hs2", true, &sp_cpu);
    }
    ho_store_destroy(&s);
    double wk = 0, wk_cpu = 0;
    if (run_wk) {
        char wdir[512];
        snprintf(wdir, sizeof wdir, "%s/bench_store-worker-%d", dir, (int)getpid());
        if (mkdir(wdir, 0700) != 0) {
            perror(wdir);
            return 1;
        }
        wk = s_worker(wdir, run_ins || run_sp ? n / 2 : n, 500,
                      s_has(phases, "activities") ? (n < 20000 ? n : 20000) * 5 : 0, &wk_cpu);
        if (getenv("BENCH_STORE_KEEP")) {
            printf("bench_store worker database kept: %s/handoff.db\n", wdir);
        } else {
            rmdir(wdir);
        }
    }
    double plain = 0, plain_cpu = 0;
    if (run_plain) {
        plain = s_plain(dir, n, batch, &plain_cpu);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load[1] = {0};
    getloadavg(load, 1);
    printf("bench_store leads=%ld batch=%ld insert_upserts_per_s=%.0f merge_upserts_per_s=%.0f "
           "insert_per_cpu_s=%.0f merge_per_cpu_s=%.0f insert_savepoint_upserts_per_s=%.0f "
           "insert_savepoint_per_cpu_s=%.0f worker_upserts_per_s=%.0f worker_per_cpu_s=%.0f "
           "plain_sqlite_rows_per_s=%.0f "
           "plain_rows_per_cpu_s=%.0f peak_rss_mb=%.1f loadavg=%.2f\n",
           n, batch, ins, mrg, ins_cpu, mrg_cpu, sp, sp_cpu, wk, wk_cpu, plain, plain_cpu,
           (double)ru.ru_maxrss / 1024.0, load[0]);
    if (run_ins) {
        printf("bench_store target insert_upserts_per_s>=100000: %s\n",
               ins >= 100000 ? "met" : "NOT met");
    }
    char wal[600];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    return 0;
}
