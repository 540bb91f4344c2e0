/* report_cmd.c - `handoff report`: write the weekly conversion workbook in-process, straight
 * from the store's database (read-only), without a broker. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/report.h"
#include "handoff/time.h"
#include "handoff/util.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff report [--week 2026-W47] [-o FILE] [--data-dir DIR]\n"
            "                      [--timezone ZONE] [-c CONFIG] [--db PATH] [--now T]\n"
            "                      [--html FILE] [--threads 1|2] [--quiet]\n"
            "       handoff report --definitions-md\n"
            "\n"
            "Write the weekly conversion workbook (.xlsx): Summary, Funnel, Sources, Lost\n"
            "reasons, Lost and rejected, Reps, Calibration, Learnings, Handoffs, Data\n"
            "quality, Definitions. Reads the store's database read-only. With --html, also\n"
            "the same report as one self-contained HTML page for readers without Excel.\n"
            "Definitions of every number: reports/README.md.\n"
            "\n"
            "  --week W         ISO week (default: the last complete week in ZONE)\n"
            "  -o, --output F   output file (default <data-dir>/<workers.report.dir, reports>/\n"
            "                   handoff-<week>.xlsx, where the report worker writes it)\n"
            "  --data-dir DIR   data folder (default: data_dir of the gateway config)\n"
            "  --timezone ZONE  IANA zone of the week boundaries (default: workers.report.\n"
            "                   timezone of the gateway config, else UTC)\n"
            "  -c, --config F   gateway config (handoff.yaml); reasons.yaml is read next to it\n"
            "  --db PATH        the database file (default workers.report.db of the config,\n"
            "                   else handoff.db, under <data-dir> unless absolute)\n"
            "  --now T          the clock (ISO 8601 or epoch ms): picks the default week and\n"
            "                   dates the document (default: the end of the report week)\n"
            "  --html FILE      also write the report as one HTML page: Summary KPIs, the\n"
            "                   MQL cohort trend, Sources by channel, lost and rejected\n"
            "                   reasons with owners and the reason x channel matrix, the\n"
            "                   fit x interest grid, this week's lost and rejected leads,\n"
            "                   Definitions; the same numbers as the workbook (one pass over\n"
            "                   the store), charts as inline SVG, no script, nothing fetched\n"
            "  --threads N      1: read the store through one connection; 2 (default):\n"
            "                   two threads on two connections that read one committed\n"
            "                   state (when the store file is writable by this user: the\n"
            "                   write lock is held for a moment to pair them; else one)\n"
            "  -q, --quiet      no progress on stderr\n"
            "  --definitions-md print the Definitions sheet as the Markdown table of\n"
            "                   reports/README.md (its one source) and exit\n"
            "\n"
            "Prints: report week=2026-W47 path=... sheets=11 leads=N threads=T [html=...]\n");
}

static void s_progress(void *arg, const char *sheet, int64_t rows, bool done)
{
    (void)arg;
    if (done) {
        ho_info("sheet=\"%s\" rows=%lld done", sheet, (long long)rows);
    } else {
        ho_info("sheet=\"%s\" rows=%lld", sheet, (long long)rows);
    }
}

/* A week that has not ended has nothing (future) or only part (this week) to count: say so,
 * and still write the workbook (the operator may want this week's numbers so far). */
static void s_warn_unfinished(ho_week_t week, const char *tz, int64_t now_ms)
{
    ho_week_t now_week;
    ho_err_t err = {0};
    if (ho_week_of_ms(now_ms > 0 ? now_ms : ho_now_ms(), tz, &now_week, &err) != HO_REPORT_OK) {
        return;
    }
    char w[16], n[16];
    ho_week_format(week, w, sizeof w);
    ho_week_format(now_week, n, sizeof n);
    int cmp = ho_week_cmp(week, now_week);
    if (cmp > 0) {
        fprintf(stderr,
                "handoff report: warning: %s is in the future (this is %s): the workbook will "
                "have no leads\n",
                w, n);
    } else if (cmp == 0) {
        fprintf(stderr,
                "handoff report: warning: %s has not ended yet: the workbook counts only what "
                "happened so far\n",
                w);
    }
}

typedef struct {
    ho_cli_env_t env;
    const char *week_arg, *output, *tz, *db, *now_arg, *html;
    int threads;
    bool quiet;
} s_args_t;

/* Parse argv into a: -1 to go on, else the exit code (help, usage error, --definitions-md). */
static int s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"week", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"timezone", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'b'},
        {"now", required_argument, NULL, 'n'},
        {"definitions-md", no_argument, NULL, 'm'},
        {"html", required_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 'T'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:c:qh", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&a->env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'w':
            a->week_arg = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 't':
            a->tz = optarg;
            break;
        case 'b':
            a->db = optarg;
            break;
        case 'n':
            a->now_arg = optarg;
            break;
        case 'H':
            a->html = optarg;
            break;
        case 'T':
            if (strcmp(optarg, "1") != 0 && strcmp(optarg, "2") != 0) {
                fprintf(stderr, "handoff report: --threads: \"%s\" is not 1 or 2\n", optarg);
                return 2;
            }
            a->threads = atoi(optarg);
            break;
        case 'm':
            return ho_report_definitions_markdown(stdout) == 0 ? 0 : 1;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("report", argc, argv, longopts);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "handoff report: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }
    return -1;
}

/* The zone, --now and the week into opts: -1 to go on, else the exit code. */
static int s_when(const s_args_t *a, const ho_node_t *rset, ho_report_opts_t *opts)
{
    const char *tz = a->tz;
    if (!tz) {
        const ho_node_t *z = rset ? ho_node_get(rset, "timezone") : NULL;
        tz = z && ho_node_str(z) && *ho_node_str(z) ? ho_node_str(z) : "UTC";
    }
    if (!ho_tz_valid(tz)) {
        fprintf(stderr, "handoff report: --timezone: unknown IANA time zone \"%s\"\n", tz);
        return 2;
    }
    opts->timezone = tz;
    if (a->now_arg && (ho_time_parse(a->now_arg, &opts->now_ms) != 0 || opts->now_ms <= 0)) {
        fprintf(stderr,
                "handoff report: --now: \"%s\" is not a time (2026-11-23T09:00:00Z or epoch ms)\n",
                a->now_arg);
        return 2;
    }
    ho_err_t err;
    if (a->week_arg) {
        if (ho_week_parse(a->week_arg, &opts->week) != HO_REPORT_OK) {
            fprintf(stderr,
                    "handoff report: --week: \"%s\" is not an ISO week like 2026-W47 (or the "
                    "year has no such week)\n",
                    a->week_arg);
            return 2;
        }
        s_warn_unfinished(opts->week, tz, opts->now_ms);
    } else if (ho_week_last_complete(opts->now_ms > 0 ? opts->now_ms : ho_now_ms(), tz,
                                     &opts->week, &err) != HO_REPORT_OK) {
        fprintf(stderr, "handoff report: %s\n", err.message);
        return 1;
    }
    return -1;
}

/* Where the workbook goes: -o, else workers.report.dir (under the data folder, created) as
 * the report worker writes it. 0, or 1 after saying why. */
static int s_output(const s_args_t *a, const char *week, char *out, size_t cap)
{
    if (a->output) {
        snprintf(out, cap, "%s", a->output);
        return 0;
    }
    char dir[3072];
    ho_cli_env_worker_path(&a->env, "report", "dir", "reports", dir, sizeof dir);
    if (ho_mkdirs(dir) != 0) {
        fprintf(stderr, "handoff report: %s: cannot create: %s\n", dir, strerror(errno));
        return 1;
    }
    if (snprintf(out, cap, "%s/handoff-%s.xlsx", dir, week) >= (int)cap) {
        fprintf(stderr, "handoff report: --data-dir: path too long\n");
        return 1;
    }
    return 0;
}

int ho_cmd_report(int argc, char **argv)
{
    s_args_t a = {.env = {.cmd = "report"}};
    int rc = s_parse(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    if (ho_cli_env_open(&a.env) != 0) {
        return 1;
    }
    rc = 1;
    const ho_node_t *rset = ho_gateway_worker_settings(a.env.gw, "report");
    const ho_node_t *cur = rset ? ho_node_get(rset, "currency") : NULL;
    ho_report_opts_t opts = {.config_dir = ho_gateway_config_dir(a.env.gw),
                             .currency = cur && ho_node_str(cur) ? ho_node_str(cur) : "USD"};
    char db_path[4096], out_path[4096], week[16];
    int when = s_when(&a, rset, &opts);
    if (when >= 0) {
        rc = when;
        goto done;
    }
    ho_week_format(opts.week, week, sizeof week);
    if (a.db) {
        snprintf(db_path, sizeof db_path, "%s", a.db);
    } else {
        ho_cli_env_worker_path(&a.env, "report", "db", "handoff.db", db_path, sizeof db_path);
    }
    if (s_output(&a, week, out_path, sizeof out_path) != 0) {
        goto done;
    }
    opts.db_path = db_path;
    opts.output = out_path;
    opts.html = a.html;
    opts.threads = a.threads;
    if (!a.quiet) {
        opts.progress = s_progress;
    }
    ho_report_result_t res;
    ho_err_t err;
    ho_report_error_t rrc = ho_report_write(&opts, &res, &err);
    if (rrc != HO_REPORT_OK) {
        fprintf(stderr, "handoff report: %s: %s\n", ho_report_strerror(rrc), err.message);
        goto done;
    }
    printf("report week=%s path=%s sheets=%d leads=%lld threads=%d", week, out_path, res.sheets,
           (long long)res.leads, res.threads);
    if (a.html) {
        printf(" html=%s", a.html);
    }
    printf("\n");
    rc = 0;
done:
    ho_cli_env_close(&a.env);
    return rc;
}
