/* demo_cmd.c - `handoff demo-data`: the project's own seeded demo world in the real export
 * formats, and `handoff demo-data feedback`: simulated sales outcomes for the leads the store
 * assigned (the demo's stand-in for the reps). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "connectors/demo/demo.h"
#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/normalize.h"

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoff demo-data --out DIR [--seed N] [--now TIME] [--leads N] [--only LIST]\n"
        "       handoff demo-data --people N [--activities M] [--feedback K] [--seed N]\n"
        "                         [--now TIME] [--activity-files P] --out DIR\n"
        "       handoff demo-data feedback (--data-dir DIR | --db PATH | -c CONFIG) --out FILE\n"
        "                         [--seed N] [--now TIME]\n"
        "\n"
        "Write a seeded, invented lead world in the real export formats:\n"
        "  hubspot_contacts.csv   HubSpot contacts export (labels, UTF-8 BOM, CRLF)\n"
        "  salesforce_leads.csv   Salesforce Lead export (API names, all quoted, LF)\n"
        "  marketo_leads.csv      Marketo bulk lead extract (REST field names)\n"
        "  form_webhooks.jsonl    Facebook / LinkedIn / HubSpot forms / Typeform payloads\n"
        "  linkedin_lead_forms.json  LinkedIn form definitions (question ids)\n"
        "  activities.csv         engagement events (Marketo bulk extract layout)\n"
        "  feedback.csv           sales outcomes\n"
        "  manifest.json          exact counts: records, accepted, quarantined by reason\n"
        "The same seed and --now give byte-identical files. Some rows are dirty on purpose\n"
        "(missing email, bad dates, wrong column counts); manifest.json says how many.\n"
        "\n"
        "  --out DIR        output folder (created)\n"
        "  --seed N         PRNG seed (default 1)\n"
        "  --now TIME       end of the 12-week window (default 2026-11-23T00:00:00Z)\n"
        "  --leads N        people in the world (default 600)\n"
        "  --only LIST      comma list of: hubspot,salesforce,marketo,webhooks,activities,\n"
        "                   feedback (default all)\n"
        "  --config-dir DIR where reps.csv is read (default: the built-in copy)\n"
        "  -c, --config F   gateway config: reps.csv of its config folder (a folder:\n"
        "                   as --config-dir)\n"
        "\n"
        "--people N: the realistic corpus instead (issue 12), streaming, any size:\n"
        "  hubspot_contacts.csv, salesforce_leads.csv, marketo_leads.csv,\n"
        "  form_webhooks.jsonl (+ linkedin_lead_forms.json), activities_01..P.csv,\n"
        "  feedback.csv, sales_reps/reps.csv; real dirt planted (BOM, CRLF, Windows-1252\n"
        "  bytes, mojibake, bad and missing emails, short and long rows, bad JSON, bad\n"
        "  dates, unknown types, re-deliveries, test leads, unknown people) and no\n"
        "  manifest: tests/workload/verify.py counts what a correct import must report.\n"
        "  --activities M  activity rows (default 10 x people), heavy-tailed over people\n"
        "  --feedback K    feedback rows, about (default people / 10)\n"
        "  --activity-files P  activity extracts (default 3)\n"
        "\n"
        "feedback: read <data-dir>/handoff.db (--data-dir, else data_dir of -c CONFIG;\n"
        "or --db PATH) read-only and write plausible outcomes\n"
        "(accepted -> sql -> opportunity -> won/lost, rejections with reasons) from each\n"
        "lead's assigned rep, stamped after assigned_at and not after --now.\n"
        "\n"
        "Prints: demo-data out=DIR seed=N leads=N   |   demo-data feedback out=FILE rows=N\n"
        "        demo-data out=DIR seed=N people=N activities=M feedback=K\n");
}

static int s_parse_now(const char *s, int64_t *out)
{
    if (ho_norm_date(s, NULL, out) != 0) {
        fprintf(stderr, "handoff demo-data: --now: not a date: '%s'\n", s);
        return -1;
    }
    return 0;
}

static int s_feedback(int argc, char **argv)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"db", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"now", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "demo-data feedback"};
    const char *out = NULL, *db = NULL;
    uint64_t seed = 1;
    int64_t now = HO_DEMO_NOW_DEFAULT;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "hc:o:", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'b':
            db = optarg;
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            if (s_parse_now(optarg, &now) != 0) {
                return 2;
            }
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if ((!env.data_dir && !db && !env.config) || !out || optind != argc) {
        s_usage(stderr);
        return 2;
    }
    char path[4096];
    if (!db) {
        /* the database the store worker writes in that data folder (--data-dir, else the
         * data_dir of -c CONFIG) */
        if (ho_cli_env_open(&env) != 0) {
            return 1;
        }
        ho_cli_env_store_db(&env, NULL, path, sizeof path);
        ho_cli_env_close(&env);
        db = path;
    }
    ho_err_t err = {0};
    long rows = 0;
    if (ho_demo_feedback(db, seed, now, out, &rows, &err) != HO_OK) {
        fprintf(stderr, "handoff demo-data feedback: %s\n", err.message);
        return 1;
    }
    printf("demo-data feedback out=%s rows=%ld\n", out, rows);
    return 0;
}

/* The arguments of the demo world and of the corpus (--people). */
typedef struct {
    ho_cli_env_t env;
    ho_demo_opts_t o;
    long people, activities, feedback, parts;
} s_args_t;

/* --people, --activities, --feedback, --activity-files: a count (people at least 1). */
static int s_count(s_args_t *a, int c, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < 0 || (c == 'P' && v == 0)) {
        fprintf(stderr, "handoff demo-data: --%s: expected a number\n",
                c == 'P'   ? "people"
                : c == 'A' ? "activities"
                : c == 'F' ? "feedback"
                           : "activity-files");
        return 2;
    }
    *(c == 'P' ? &a->people : c == 'A' ? &a->activities : c == 'F' ? &a->feedback : &a->parts) = v;
    return 0;
}

/* One option of the world / corpus: 0 to go on, else the exit code. */
static int s_option(s_args_t *a, int c, const char *arg)
{
    char *end;
    switch (c) {
    case 'o':
        a->o.out_dir = arg;
        return 0;
    case 's':
        a->o.seed = strtoull(arg, &end, 10);
        if (*end) {
            fprintf(stderr, "handoff demo-data: --seed: not a number: '%s'\n", arg);
            return 2;
        }
        return 0;
    case 'n':
        return s_parse_now(arg, &a->o.now_ms) != 0 ? 2 : 0;
    case 'l':
        a->o.leads = strtol(arg, &end, 10);
        if (*end || a->o.leads <= 0) {
            fprintf(stderr, "handoff demo-data: --leads: expected a positive number\n");
            return 2;
        }
        return 0;
    case 'P':
    case 'A':
    case 'F':
    case 'X':
        return s_count(a, c, arg);
    case 'y':
        a->o.only = arg;
        return 0;
    case 'C':
        a->o.config_dir = arg;
        return 0;
    default:
        s_usage(stderr);
        return 2;
    }
}

/* Parse argv into a: -1 to go on, else the exit code. */
static int s_parse(int argc, char **argv, s_args_t *a)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'},
        {"now", required_argument, NULL, 'n'},
        {"leads", required_argument, NULL, 'l'},
        {"only", required_argument, NULL, 'y'},
        {"config-dir", required_argument, NULL, 'C'},
        {"people", required_argument, NULL, 'P'},
        {"activities", required_argument, NULL, 'A'},
        {"feedback", required_argument, NULL, 'F'},
        {"activity-files", required_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "ho:c:", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&a->env, c, optarg)) {
            continue;
        }
        if (c == 'h') {
            s_usage(stdout);
            return 0;
        }
        int rc = s_option(a, c, optarg);
        if (rc != 0) {
            return rc;
        }
    }
    if (!a->o.out_dir || optind != argc) {
        s_usage(stderr);
        return 2;
    }
    if (!a->people && (a->activities >= 0 || a->feedback >= 0 || a->parts)) {
        fprintf(stderr, "handoff demo-data: --activities, --feedback and --activity-files go "
                        "with --people\n");
        return 2;
    }
    return -1;
}

/* --people N: the streaming corpus. */
static int s_corpus(const s_args_t *a)
{
    ho_err_t err = {0};
    ho_demo_corpus_opts_t co = {.seed = a->o.seed,
                                .now_ms = a->o.now_ms,
                                .people = a->people,
                                .activities = a->activities >= 0 ? a->activities : 10 * a->people,
                                .feedback = a->feedback >= 0 ? a->feedback : a->people / 10,
                                .activity_files = (int)a->parts,
                                .out_dir = a->o.out_dir};
    if (ho_demo_corpus(&co, &err) != HO_OK) {
        fprintf(stderr, "handoff demo-data: %s\n", err.message);
        return 1;
    }
    printf("demo-data out=%s seed=%llu people=%ld activities=%ld feedback=%ld\n", a->o.out_dir,
           (unsigned long long)a->o.seed, co.people, co.activities, co.feedback);
    return 0;
}

/* The demo world; reps.csv from --config-dir, -c DIR, or the folder of -c CONFIG. */
static int s_world(s_args_t *a)
{
    struct stat st;
    if (a->env.config && !a->o.config_dir) {
        if (stat(a->env.config, &st) == 0 && S_ISDIR(st.st_mode)) {
            a->o.config_dir = a->env.config; /* -c DIR: the config folder itself */
        } else if (ho_cli_env_open(&a->env) != 0) {
            return 1;
        } else {
            a->o.config_dir = ho_gateway_config_dir(a->env.gw);
        }
    }
    ho_err_t err = {0};
    int rc = ho_demo_generate(&a->o, &err);
    ho_cli_env_close(&a->env);
    if (rc != HO_OK) {
        fprintf(stderr, "handoff demo-data: %s\n", err.message);
        return 1;
    }
    printf("demo-data out=%s seed=%llu leads=%ld\n", a->o.out_dir, (unsigned long long)a->o.seed,
           a->o.leads);
    return 0;
}

int ho_cmd_demo(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "feedback") == 0) {
        return s_feedback(argc - 1, argv + 1);
    }
    s_args_t a = {.env = {.cmd = "demo-data"},
                  .o = {.seed = 1, .now_ms = HO_DEMO_NOW_DEFAULT, .leads = 600},
                  .activities = -1,
                  .feedback = -1};
    int rc = s_parse(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    return a.people > 0 ? s_corpus(&a) : s_world(&a);
}
