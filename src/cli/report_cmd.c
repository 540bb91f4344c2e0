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
            "                      [--quiet]\n"
            "       handoff report --definitions-md\n"
            "\n"
            "Write the weekly conversion workbook (.xlsx): Summary, Funnel, Sources, Lost\n"
            "reasons, Lost and rejected, Reps, Calibration, Learnings, Handoffs, Data\n"
            "quality, Definitions. Reads <data-dir>/handoff.db read-only.\n"
            "Definitions of every number: reports/README.md.\n"
            "\n"
            "  --week W         ISO week (default: the last complete week in ZONE)\n"
            "  -o, --output F   output file (default <data-dir>/reports/handoff-<week>.xlsx)\n"
            "  --data-dir DIR   data folder (default: data_dir of the gateway config)\n"
            "  --timezone ZONE  IANA zone of the week boundaries (default: workers.report.\n"
            "                   timezone of the gateway config, else UTC)\n"
            "  -c, --config F   gateway config (handoff.yaml); reasons.yaml is read next to it\n"
            "  --db PATH        the database file (default <data-dir>/handoff.db)\n"
            "  --now T          the clock (ISO 8601 or epoch ms): picks the default week and\n"
            "                   dates the document (default: the end of the report week)\n"
            "  -q, --quiet      no progress on stderr\n"
            "  --definitions-md print the Definitions sheet as the Markdown table of\n"
            "                   reports/README.md (its one source) and exit\n"
            "\n"
            "Prints: report week=2026-W47 path=... sheets=11 leads=N\n");
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

int ho_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"week", required_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"data-dir", required_argument, NULL, 'd'},
        {"timezone", required_argument, NULL, 't'},
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'b'},
        {"now", required_argument, NULL, 'n'},
        {"definitions-md", no_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *week_arg = NULL, *output = NULL, *data_dir = NULL, *tz = NULL, *config = NULL,
               *db = NULL, *now_arg = NULL;
    bool quiet = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            week_arg = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 't':
            tz = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'b':
            db = optarg;
            break;
        case 'n':
            now_arg = optarg;
            break;
        case 'm':
            return ho_report_definitions_markdown(stdout) == 0 ? 0 : 1;
        case 'q':
            quiet = true;
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
    ho_err_t err;
    ho_gateway_t *gw = ho_gateway_load(config, &err);
    if (!gw) {
        fprintf(stderr, "handoff report: %s\n", err.message);
        return 1;
    }
    int rc = 1;
    char db_path[4096], out_path[4096];
    if (!data_dir) {
        data_dir = ho_gateway_data_dir(gw);
    }
    const ho_node_t *rset = ho_gateway_worker_settings(gw, "report");
    const ho_node_t *cur = rset ? ho_node_get(rset, "currency") : NULL;
    if (!tz) {
        const ho_node_t *settings = rset;
        const ho_node_t *z = settings ? ho_node_get(settings, "timezone") : NULL;
        tz = z && ho_node_str(z) && *ho_node_str(z) ? ho_node_str(z) : "UTC";
    }
    if (!ho_tz_valid(tz)) {
        fprintf(stderr, "handoff report: --timezone: unknown IANA time zone \"%s\"\n", tz);
        rc = 2;
        goto done;
    }
    ho_report_opts_t opts = {.timezone = tz,
                             .config_dir = ho_gateway_config_dir(gw),
                             .currency = cur && ho_node_str(cur) ? ho_node_str(cur) : "USD"};
    if (now_arg && (ho_time_parse(now_arg, &opts.now_ms) != 0 || opts.now_ms <= 0)) {
        fprintf(stderr,
                "handoff report: --now: \"%s\" is not a time (2026-11-23T09:00:00Z or epoch ms)\n",
                now_arg);
        rc = 2;
        goto done;
    }
    if (week_arg) {
        if (ho_week_parse(week_arg, &opts.week) != HO_REPORT_OK) {
            fprintf(stderr,
                    "handoff report: --week: \"%s\" is not an ISO week like 2026-W47 (or the "
                    "year has no such week)\n",
                    week_arg);
            rc = 2;
            goto done;
        }
        s_warn_unfinished(opts.week, tz, opts.now_ms);
    } else if (ho_week_last_complete(opts.now_ms > 0 ? opts.now_ms : ho_now_ms(), tz, &opts.week,
                                     &err) != HO_REPORT_OK) {
        fprintf(stderr, "handoff report: %s\n", err.message);
        goto done;
    }
    char week[16];
    ho_week_format(opts.week, week, sizeof week);
    if (db) {
        snprintf(db_path, sizeof db_path, "%s", db);
    } else {
        snprintf(db_path, sizeof db_path, "%s/handoff.db", data_dir);
    }
    if (output) {
        snprintf(out_path, sizeof out_path, "%s", output);
    } else {
        char dir[3072];
        if (snprintf(dir, sizeof dir, "%s/reports", data_dir) >= (int)sizeof dir) {
            fprintf(stderr, "handoff report: --data-dir: path too long\n");
            goto done;
        }
        if (ho_mkdirs(dir) != 0) {
            fprintf(stderr, "handoff report: %s: cannot create: %s\n", dir, strerror(errno));
            goto done;
        }
        if (snprintf(out_path, sizeof out_path, "%s/handoff-%s.xlsx", dir, week) >=
            (int)sizeof out_path) {
            fprintf(stderr, "handoff report: --data-dir: path too long\n");
            goto done;
        }
    }
    opts.db_path = db_path;
    opts.output = out_path;
    if (!quiet) {
        opts.progress = s_progress;
    }
    ho_report_result_t res;
    ho_report_error_t rrc = ho_report_write(&opts, &res, &err);
    if (rrc != HO_REPORT_OK) {
        fprintf(stderr, "handoff report: %s: %s\n", ho_report_strerror(rrc), err.message);
        goto done;
    }
    printf("report week=%s path=%s sheets=%d leads=%lld\n", week, out_path, res.sheets,
           (long long)res.leads);
    rc = 0;
done:
    ho_gateway_destroy(&gw);
    return rc;
}
