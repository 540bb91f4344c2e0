/* bench_import.c - import throughput and memory on a ~1 GB CSV.
 *
 * 1. writes a HubSpot contacts export of about --mb megabytes with the seeded demo generator
 *    (streamed: the generator holds no world in memory);
 * 2. parse only: the csv connector + hubspot profile over the whole file (records/s, MB/s);
 * 3. parse + normalize: every record through the ingest worker's handler in batches of 500
 *    (ho_worker_call, no broker);
 * 4. the real command, `handoff import --dry-run FILE` as a child process, its peak RSS from
 *    wait4 (the figure that shows memory is bounded by the record, not the file), and its
 *    summary line;
 * 5. with --real: the real pipeline, a `handoff broker`, an `ingest` and a `store` worker
 *    (ipc, SQLite in the bench folder) and `handoff import FILE` as children: records/s and
 *    the peak RSS of the import command, the broker and each worker.
 *
 * usage: bench_import [--mb 1024] [--dir /tmp] [--bin build/handoff] [--real] [--no-passes]
 *                     [--keep]
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connectors/demo/demo.h"
#include "handoff/connector.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_ingest;
extern char **environ;

static long s_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double s_size_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1048576.0 : 0.0;
}

static int s_pass(const char *path, bool normalize, long *records, long *accepted)
{
    ho_err_t err = {0};
    ho_profile_t *p = ho_profile_load(NULL, "hubspot", &err);
    if (!p) {
        fprintf(stderr, "profile: %s\n", err.message);
        return -1;
    }
    const ho_connector_def_t *conn = ho_connector_find("csv");
    ho_connector_args_t args = {path, p, NULL};
    void *ctx = NULL;
    if (conn->cb_open(&args, &ctx, &err) != HO_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        ho_profile_destroy(&p);
        return -1;
    }
    ho_msg_t *batch[500];
    size_t nb = 0;
    ho_msg_t *m;
    *records = *accepted = 0;
    for (;;) {
        int rc = conn->cb_next(ctx, &m, &err);
        if (rc <= 0) {
            break;
        }
        (*records)++;
        if (!normalize || strcmp(ho_msg_type(m), "quarantine") == 0) {
            ho_msg_destroy(&m);
            continue;
        }
        batch[nb++] = m;
        if (nb == 500 || rc == 0) {
            ho_out_t *out = ho_out_new("bench");
            ho_worker_call(&ho_worker_ingest, NULL, batch, nb, out);
            for (size_t i = 0; i < ho_out_count(out); i++) {
                *accepted += strcmp(ho_msg_type(ho_out_at(out, i)), "lead.normalized") == 0;
            }
            ho_out_destroy(&out);
            for (size_t i = 0; i < nb; i++) {
                ho_msg_destroy(&batch[i]);
            }
            nb = 0;
        }
    }
    if (nb) {
        ho_out_t *out = ho_out_new("bench");
        ho_worker_call(&ho_worker_ingest, NULL, batch, nb, out);
        for (size_t i = 0; i < ho_out_count(out); i++) {
            *accepted += strcmp(ho_msg_type(ho_out_at(out, i)), "lead.normalized") == 0;
        }
        ho_out_destroy(&out);
        for (size_t i = 0; i < nb; i++) {
            ho_msg_destroy(&batch[i]);
        }
    }
    conn->cb_close(&ctx);
    ho_profile_destroy(&p);
    return 0;
}

/* Run argv as a child with stdout to out_path (stderr to err_path, or /dev/null); wait for
 * it. Returns the exit status (-1 if it did not run); *secs and *rss_mb of the child. */
static int s_run_child(char *const argv[], const char *out_path, const char *err_path, double *secs,
                       double *rss_mb)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int64_t t0 = ho_now_ms();
    int rc = -1;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0) {
        int status;
        struct rusage ru;
        wait4(pid, &status, 0, &ru);
        *secs = (double)(ho_now_ms() - t0) / 1000.0;
        *rss_mb = (double)ru.ru_maxrss / 1024.0;
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* The first line of path that starts with prefix, without its newline ("" if none). */
static void s_grep(const char *path, const char *prefix, char *line, size_t cap)
{
    line[0] = '\0';
    FILE *f = fopen(path, "r");
    while (f && fgets(line, (int)cap, f)) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            fclose(f);
            return;
        }
    }
    line[0] = '\0';
    if (f) {
        fclose(f);
    }
}

/* A long-running child (broker, worker): started with its output in log, ready when log
 * holds `ready`. */
typedef struct {
    pid_t pid;
    const char *name;
} s_child_t;

static int s_start(s_child_t *c, char *const argv[], const char *log, const char *ready)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        c->pid = 0;
        return -1;
    }
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(log, "r");
        char buf[512];
        while (f && fgets(buf, sizeof buf, f)) {
            if (strstr(buf, ready)) {
                fclose(f);
                return 0;
            }
        }
        if (f) {
            fclose(f);
        }
        if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
            c->pid = 0;
            return -1;
        }
        usleep(100000);
    }
    return -1;
}

/* SIGTERM, wait; peak RSS in MB (0 if it was not running). */
static double s_stop(s_child_t *c)
{
    if (c->pid <= 0) {
        return 0;
    }
    struct rusage ru;
    kill(c->pid, SIGTERM);
    double mb = wait4(c->pid, NULL, 0, &ru) == c->pid ? (double)ru.ru_maxrss / 1024.0 : 0;
    c->pid = 0;
    return mb;
}

/* broker + ingest + store, then `handoff import FILE` through them. */
static int s_real(const char *bin, const char *out, const char *path, long records, double size)
{
    char cfg[4200], ep[4200], data[4200], log[4200], sum[4200];
    snprintf(cfg, sizeof cfg, "%s/handoff.yaml", out);
    snprintf(ep, sizeof ep, "ipc://%s/broker.ipc", out);
    snprintf(data, sizeof data, "%s/data", out);
    FILE *f = fopen(cfg, "w");
    if (!f) {
        perror(cfg);
        return -1;
    }
    /* lead.scored / score.request have no route here: the store's requests to score are
     * dropped by the broker (counted as unroutable), the import is what is measured */
    fprintf(f,
            "broker:\n  endpoint: %s\ndata_dir: %s\nroutes:\n  lead.raw: ingest\n"
            "  activity.raw: ingest\n  lead.normalized: store\n  activity.normalized: store\n"
            "  quarantine: store\n",
            ep, data);
    fclose(f);
    setenv("HO_LOG_LEVEL", "error", 1);
    s_child_t broker = {0, "broker"}, ingest = {0, "ingest"}, store = {0, "store"};
    char *bargv[] = {(char *)bin, "broker", "-c", cfg, "--bind", ep, "--data-dir", data, NULL};
    char *iargv[] = {(char *)bin, "worker", "ingest", "-c", cfg, "--connect", ep, NULL};
    char *sargv[] = {(char *)bin, "worker", "store",      "-c", cfg,
                     "--connect", ep,       "--data-dir", data, NULL};
    int rc = -1;
    snprintf(log, sizeof log, "%s/broker.log", out);
    if (s_start(&broker, bargv, log, "broker ready") != 0) {
        fprintf(stderr, "bench_import: broker did not start (%s)\n", log);
        goto done;
    }
    snprintf(log, sizeof log, "%s/ingest.log", out);
    if (s_start(&ingest, iargv, log, "worker ready") != 0) {
        fprintf(stderr, "bench_import: ingest did not start (%s)\n", log);
        goto done;
    }
    snprintf(log, sizeof log, "%s/store.log", out);
    if (s_start(&store, sargv, log, "worker ready") != 0) {
        fprintf(stderr, "bench_import: store did not start (%s)\n", log);
        goto done;
    }
    char *args[] = {(char *)bin, "import", "-c", cfg, "--source", "hubspot", (char *)path, NULL};
    snprintf(sum, sizeof sum, "%s/import.out", out);
    snprintf(log, sizeof log, "%s/import.log", out);
    double s = 0, rss = 0;
    int st = s_run_child(args, sum, log, &s, &rss);
    char line[512];
    s_grep(sum, "import file=", line, sizeof line);
    if (!records && strstr(line, "read=")) {
        sscanf(strstr(line, "read="), "read=%ld", &records);
    }
    printf("handoff import (broker + ingest + store) exit=%d seconds=%.1f records_per_s=%.0f "
           "peak_rss_mb=%.1f (file %.0f MB)\n  %s\n",
           st, s, (double)records / s, rss, size, line);
    rc = st == 0 ? 0 : -1;
done:;
    double st_mb = s_stop(&store), in_mb = s_stop(&ingest), br_mb = s_stop(&broker);
    printf("  peak_rss_mb broker=%.1f ingest=%.1f store=%.1f\n", br_mb, in_mb, st_mb);
    unsetenv("HO_LOG_LEVEL");
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mb", required_argument, NULL, 'm'},
        {"dir", required_argument, NULL, 'd'},
        {"bin", required_argument, NULL, 'b'},
        {"keep", no_argument, NULL, 'k'},
        {"real", no_argument, NULL, 'r'},
        {"no-passes", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    long mb = 1024;
    const char *dir = "/tmp", *bin = NULL;
    bool keep = false, real = false, passes = true;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm':
            mb = atol(optarg);
            break;
        case 'd':
            dir = optarg;
            break;
        case 'b':
            bin = optarg;
            break;
        case 'k':
            keep = true;
            break;
        case 'r':
            real = true;
            break;
        case 'n':
            passes = false;
            break;
        default:
            fprintf(stderr, "usage: bench_import [--mb N] [--dir D] [--bin handoff] [--real] "
                            "[--no-passes] [--keep]\n");
            return 2;
        }
    }
    char out[4096], path[4200];
    snprintf(out, sizeof out, "%s/bench-import-%d", dir, (int)getpid());
    snprintf(path, sizeof path, "%s/hubspot_contacts.csv", out);

    /* size the world from a small sample: bytes per record of this generator */
    ho_err_t err = {0};
    ho_demo_opts_t o = {.seed = 1,
                        .now_ms = HO_DEMO_NOW_DEFAULT,
                        .leads = 20000,
                        .out_dir = out,
                        .only = "hubspot"};
    if (ho_demo_generate(&o, &err) != HO_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        return 1;
    }
    double per_lead = s_size_mb(path) / 20000.0;
    o.leads = (long)((double)mb / per_lead);
    int64_t t0 = ho_now_ms();
    if (ho_demo_generate(&o, &err) != HO_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        return 1;
    }
    double gen_s = (double)(ho_now_ms() - t0) / 1000.0;
    double size = s_size_mb(path);
    printf("file=%s size_mb=%.0f people=%ld generate_s=%.1f gen_rss_mb=%.1f\n", path, size, o.leads,
           gen_s, (double)s_rss_kb() / 1024.0);
    fflush(stdout);

    long records = 0, accepted;
    if (passes) {
        t0 = ho_now_ms();
        if (s_pass(path, false, &records, &accepted) != 0) {
            return 1;
        }
        double s = (double)(ho_now_ms() - t0) / 1000.0;
        printf("parse        records=%ld seconds=%.1f records_per_s=%.0f mb_per_s=%.1f "
               "peak_rss_mb=%.1f\n",
               records, s, (double)records / s, size / s, (double)s_rss_kb() / 1024.0);
        fflush(stdout);

        t0 = ho_now_ms();
        if (s_pass(path, true, &records, &accepted) != 0) {
            return 1;
        }
        s = (double)(ho_now_ms() - t0) / 1000.0;
        printf("parse+ingest records=%ld accepted=%ld seconds=%.1f records_per_s=%.0f "
               "mb_per_s=%.1f peak_rss_mb=%.1f\n",
               records, accepted, s, (double)records / s, size / s, (double)s_rss_kb() / 1024.0);
        fflush(stdout);
    }

    char sum[4200], line[512];
    snprintf(sum, sizeof sum, "%s/import.out", out);
    if (bin) {
        /* a config of its own, so the dry run does not depend on the source tree's */
        char dcfg[4200];
        snprintf(dcfg, sizeof dcfg, "%s/dry-run.yaml", out);
        FILE *cf = fopen(dcfg, "w");
        if (cf) {
            fprintf(cf, "broker:\n  endpoint: ipc://%s/unused.ipc\n", out);
            fclose(cf);
        }
        char *args[] = {(char *)bin, "import",  "-c", dcfg, "--dry-run",
                        "--source",  "hubspot", path, NULL};
        double s = 0, rss = 0;
        int st = s_run_child(args, sum, NULL, &s, &rss);
        s_grep(sum, "import file=", line, sizeof line);
        if (!records) {
            sscanf(strstr(line, "read=") ? strstr(line, "read=") : "", "read=%ld", &records);
        }
        printf("handoff import --dry-run exit=%d seconds=%.1f records_per_s=%.0f "
               "peak_rss_mb=%.1f (file %.0f MB)\n  %s\n",
               st, s, (double)records / s, rss, size, line);
        fflush(stdout);
        unlink(sum);
        if (real && s_real(bin, out, path, records, size) != 0) {
            fprintf(stderr, "bench_import: the real import failed (logs in %s)\n", out);
            keep = true;
        }
    }
    if (!keep) {
        static const char *const files[] = {"handoff.yaml", "broker.log", "ingest.log",
                                            "store.log",    "import.out", "import.log",
                                            "dry-run.yaml"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", out, files[i]);
            unlink(path);
        }
        snprintf(path, sizeof path, "rm -rf '%s/data'", out);
        if (system(path) != 0) {
            fprintf(stderr, "bench_import: could not remove %s/data\n", out);
        }
        snprintf(path, sizeof path, "%s/hubspot_contacts.csv", out);
        unlink(path);
        snprintf(path, sizeof path, "%s/manifest.json", out);
        unlink(path);
        rmdir(out);
    }
    return 0;
}
