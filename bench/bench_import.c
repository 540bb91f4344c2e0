/* bench_import.c - import throughput and memory on a ~1 GB CSV.
 *
 * 1. writes a HubSpot contacts export of about --mb megabytes with the seeded demo generator
 *    (streamed: the generator holds no world in memory);
 * 2. parse only: the csv connector + hubspot profile over the whole file (records/s, MB/s);
 * 3. parse + normalize: every record through the ingest worker's handler in batches of 500
 *    (ho_worker_call, no broker);
 * 4. the real command, `handoff import --dry-run FILE` as a child process, its peak RSS from
 *    wait4 (the figure that shows memory is bounded by the record, not the file).
 *
 * usage: bench_import [--mb 1024] [--dir /tmp] [--bin build/handoff] [--keep]
 */
#include <fcntl.h>
#include <getopt.h>
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mb", required_argument, NULL, 'm'},
        {"dir", required_argument, NULL, 'd'},
        {"bin", required_argument, NULL, 'b'},
        {"keep", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    long mb = 1024;
    const char *dir = "/tmp", *bin = NULL;
    bool keep = false;
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
        default:
            fprintf(stderr, "usage: bench_import [--mb N] [--dir D] [--bin handoff] [--keep]\n");
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

    long records, accepted;
    t0 = ho_now_ms();
    if (s_pass(path, false, &records, &accepted) != 0) {
        return 1;
    }
    double s = (double)(ho_now_ms() - t0) / 1000.0;
    printf(
        "parse        records=%ld seconds=%.1f records_per_s=%.0f mb_per_s=%.1f peak_rss_mb=%.1f\n",
        records, s, (double)records / s, size / s, (double)s_rss_kb() / 1024.0);
    fflush(stdout);

    t0 = ho_now_ms();
    if (s_pass(path, true, &records, &accepted) != 0) {
        return 1;
    }
    s = (double)(ho_now_ms() - t0) / 1000.0;
    printf("parse+ingest records=%ld accepted=%ld seconds=%.1f records_per_s=%.0f mb_per_s=%.1f "
           "peak_rss_mb=%.1f\n",
           records, accepted, s, (double)records / s, size / s, (double)s_rss_kb() / 1024.0);
    fflush(stdout);

    if (bin) {
        char *args[] = {(char *)bin, "import", "--dry-run", "--source", "hubspot", path, NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        t0 = ho_now_ms();
        if (posix_spawn(&pid, bin, &fa, NULL, args, environ) == 0) {
            int status;
            struct rusage ru;
            wait4(pid, &status, 0, &ru);
            s = (double)(ho_now_ms() - t0) / 1000.0;
            printf("handoff import --dry-run exit=%d seconds=%.1f records_per_s=%.0f "
                   "peak_rss_mb=%.1f (file %.0f MB)\n",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, s, (double)records / s,
                   (double)ru.ru_maxrss / 1024.0, size);
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    if (!keep) {
        unlink(path);
        snprintf(path, sizeof path, "%s/manifest.json", out);
        unlink(path);
        rmdir(out);
    }
    return 0;
}
