/* bench_store.c - lead upserts per second through the store API (ho_store_upsert_lead), in
 * batched transactions as the store worker applies them, on a real SQLite file (WAL).
 *
 *     bench_store [N=200000] [BATCH=1000] [DIR=/tmp]
 *
 * Phase "insert": N new people. Phase "merge": N/2 records of people already stored, from
 * a second source (the dedup/merge path: read, merge fields by the precedence rule, write).
 * Payload building is outside the timed section; everything the store does is inside it.
 * Prints upserts/s per phase and the peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "handoff/store.h"

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
                      long long at, const char *prefix, double *cpu_rate)
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
            if (ho_store_upsert_lead(s, ids[k], buf[k], &res, &err) != HO_OK) {
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

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    long batch = argc > 2 ? atol(argv[2]) : 1000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    if (n <= 0 || batch <= 0) {
        fprintf(stderr, "usage: bench_store [N] [BATCH] [DIR]\n");
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
    double ins_cpu = 0, mrg_cpu = 0;
    double ins = s_phase(s, 0, n, 1, batch, "hubspot", 1790000000000LL, "hs", &ins_cpu);
    double mrg = s_phase(s, 0, n, 2, batch, "salesforce", 1791000000000LL, "sf", &mrg_cpu);
    ho_store_destroy(&s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load[1] = {0};
    getloadavg(load, 1);
    printf("bench_store leads=%ld batch=%ld insert_upserts_per_s=%.0f merge_upserts_per_s=%.0f "
           "insert_per_cpu_s=%.0f merge_per_cpu_s=%.0f peak_rss_mb=%.1f loadavg=%.2f\n",
           n, batch, ins, mrg, ins_cpu, mrg_cpu, (double)ru.ru_maxrss / 1024.0, load[0]);
    char wal[600];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    return 0;
}
