/* bench_store.c - lead upserts per second through the store API (ho_store_upsert_lead), in
 * batched transactions as the store worker applies them, on a real SQLite file (WAL).
 *
 *     bench_store [N=200000] [BATCH=1000] [DIR=/tmp] [PHASES=insert,merge,savepoint,worker,plain]
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

/* The store worker's own handler (ho_worker_call, no broker): N new people as lead.normalized
 * envelopes in batches of BATCH, each batch one call (one transaction, a savepoint per message,
 * the score.request per lead built at the end). Upserts per wall second; *cpu_rate per CPU. */
static double s_worker(const char *dir, long n, long batch, double *cpu_rate)
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
    double total = 0, cpu = 0;
    for (long i = 0; i < n; i += batch) {
        long k = 0;
        for (; k < batch && i + k < n; k++) {
            char id[48];
            snprintf(id, sizeof id, "w-%ld", i + k);
            msgs[k] = ho_msg_new("lead.normalized");
            ho_msg_set_id(msgs[k], id);
            ho_msg_set_ts(msgs[k], 1793000000000LL + i + k);
            ho_msg_set_payload(msgs[k],
                               s_payload(1000000 + i + k, "salesforce", 1793000000000LL + i + k));
        }
        ho_out_clear(out);
        double t0 = s_now(), c0 = s_cpu();
        int rc = ho_worker_call(&ho_worker_store, ctx, msgs, (size_t)k, out);
        total += s_now() - t0;
        cpu += s_cpu() - c0;
        if (rc != HO_WORKER_OK || ho_out_count(out) != (size_t)k) {
            fprintf(stderr, "worker: rc %d, %zu replies for %ld\n", rc, ho_out_count(out), k);
            exit(1);
        }
        for (long j = 0; j < k; j++) {
            ho_msg_destroy(&msgs[j]);
        }
    }
    free(msgs);
    ho_out_destroy(&out);
    ho_worker_store.cb_exit(&ctx);
    char path[600];
    const char *sides[] = {"", "-wal", "-shm"};
    for (int j = 0; j < 3; j++) {
        snprintf(path, sizeof path, "%s/handoff.db%s", dir, sides[j]);
        unlink(path);
    }
    *cpu_rate = (double)n / cpu;
    return (double)n / total;
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
        wk = s_worker(wdir, n / 2, 500, &wk_cpu);
        rmdir(wdir);
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
