/* outbox_cmd.c - `handoff outbox`: the webhook deliveries of the outbox worker
 * (<data_dir>/outbox.db): list them, show one with every attempt, and retry failed ones.
 * Works whether or not the worker runs; a requeued delivery is tried at its next tick. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/outbox.h"
#include "handoff/time.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff outbox list [--failed|--pending|--delivered|--all|--files] [--limit N] "
            "[--json]\n"
            "       handoff outbox show EVENT_ID [--json]\n"
            "       handoff outbox retry EVENT_ID... | --failed\n"
            "\n"
            "Handoff packets POSTed to the CRM webhook are kept in <data-dir>/outbox.db until\n"
            "delivered. A delivery that keeps failing stays `failed` there, never dropped.\n"
            "`list` shows the problems by default (failed, and pending after a failed attempt),\n"
            "`show` one event's deliveries with every attempt, `retry` puts failed deliveries\n"
            "back in the queue (attempts reset) or tries a pending one now; the outbox worker\n"
            "sends them at its next tick.\n"
            "`list` also counts the handoff packets written as JSON files under\n"
            "<data-dir>/<workers.outbox.dir> (one folder per rep); `list --files` names each\n"
            "(newest first, up to --limit).\n"
            "\n"
            "  --files         list the packet files, not the CRM deliveries\n"
            "  --data-dir DIR  data folder (default: data_dir of the gateway config)\n"
            "  -c, --config F  gateway config (handoff.yaml)\n");
}

static void s_time(const json_t *v, char *buf, size_t cap)
{
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    ho_time_format(json_integer_value(v), buf, cap);
}

static const char *s_s(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : "-";
}

static long long s_i(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* An integer member as text, "-" when null or absent. */
static const char *s_n(const json_t *o, const char *k, char *buf, size_t cap)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        return "-";
    }
    snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    return buf;
}

/* 'outbox packets dir=D count=N reps=R newest=T', then with `each` one line per packet. */
static void s_list_packets(const char *dir, bool each, long long limit)
{
    ho_outbox_packet_t *p = NULL;
    size_t reps = 0;
    size_t n = ho_outbox_packets(dir, &p, &reps);
    char newest[32] = "-";
    if (n) {
        ho_time_format((int64_t)p[0].mtime * 1000, newest, sizeof newest);
    }
    printf("outbox packets dir=%s count=%zu reps=%zu newest=%s\n", dir, n, reps, newest);
    for (size_t i = 0; each && i < n && (long long)i < limit; i++) {
        char at[32];
        ho_time_format((int64_t)p[i].mtime * 1000, at, sizeof at);
        printf("packet folder=%s written=%s file=%s\n", p[i].rep, at, p[i].path);
    }
    free(p);
}

static void s_line(const json_t *r)
{
    char last[24];
    char created[32], next[32], done[32];
    s_time(json_object_get(r, "created_at"), created, sizeof created);
    s_time(json_object_get(r, "next_at"), next, sizeof next);
    s_time(json_object_get(r, "delivered_at"), done, sizeof done);
    bool pending = strcmp(s_s(r, "status"), "pending") == 0;
    printf("event=%s status=%s type=%s rep=%s lead=%lld attempts=%lld last_status=%s "
           "created=%s next=%s delivered=%s target=%s error=\"%s\"\n",
           s_s(r, "event_id"), s_s(r, "status"), s_s(r, "type"), s_s(r, "rep_id"),
           s_i(r, "lead_id"), s_i(r, "attempts"), s_n(r, "last_status", last, sizeof last), created,
           pending ? next : "-", done, s_s(r, "target"), s_s(r, "last_error"));
}

/* outbox retry EVENT... | --failed: requeue them. The exit code. */
static int s_retry(const char *dir, char **ids, int n_ids, bool all_failed)
{
    int rc = 0;
    ho_err_t err = {0};
    for (int i = all_failed ? -1 : 0; i < (all_failed ? 0 : n_ids) && rc == 0; i++) {
        const char *id = i < 0 ? NULL : ids[i];
        int n = 0;
        if (ho_outbox_requeue(dir, id, &n, &err) != HO_OK) {
            fprintf(stderr, "handoff outbox retry: %s\n", err.message);
            rc = 1;
        } else if (id && n == 0) {
            fprintf(stderr,
                    "handoff outbox retry: %s: no failed or pending delivery with this "
                    "event id in %s/outbox.db\n",
                    id, dir);
            rc = 1;
        } else {
            printf("requeued %d%s%s\n", n, id ? " event=" : " failed", id ? id : "");
        }
    }
    return rc;
}

/* The delivery rows of list / show, one line each with its attempts. */
static void s_print_rows(const json_t *rows, bool list, const char *which)
{
    size_t i, k;
    json_t *r, *a;
    if (list) {
        printf("outbox deliveries=%zu shown=%s\n", json_array_size(rows),
               which ? which : "problems");
    }
    json_array_foreach(rows, i, r)
    {
        s_line(r);
        json_array_foreach(json_object_get(r, "attempts_log"), k, a)
        {
            char at[32], st[24], bo[24];
            s_time(json_object_get(a, "at"), at, sizeof at);
            printf("  attempt=%lld at=%s http_status=%s backoff_ms=%s error=\"%s\"\n",
                   s_i(a, "n"), at, s_n(a, "http_status", st, sizeof st),
                   s_n(a, "backoff_ms", bo, sizeof bo), s_s(a, "error"));
        }
    }
}

/* list / show: 0, or 1 after saying why. */
static int s_list_show(const ho_cli_env_t *env, const char *which, const char *event, bool list,
                       bool as_json, long long limit)
{
    const char *dir = ho_gateway_data_dir(env->gw);
    json_t *rows = NULL;
    ho_err_t err = {0};
    if (ho_outbox_list(dir, which, event, event ? 0 : (int)limit, &rows, &err) != HO_OK) {
        fprintf(stderr, "handoff outbox: %s\n", err.message);
        return 1;
    }
    int rc = 0;
    if (event && json_array_size(rows) == 0) {
        fprintf(stderr, "handoff outbox show: no delivery of event %s in %s/outbox.db\n", event,
                dir);
        rc = 1;
    } else if (as_json) {
        char *text = json_dumps(rows, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
    } else {
        s_print_rows(rows, list, which);
    }
    if (list && !as_json) {
        char pdir[PATH_MAX];
        ho_cli_env_worker_path(env, "outbox", "dir", "outbox", pdir, sizeof pdir);
        s_list_packets(pdir, false, limit);
    }
    json_decref(rows);
    return rc;
}

int ho_cmd_outbox(int argc, char **argv)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"failed", no_argument, NULL, 'f'},
        {"pending", no_argument, NULL, 'p'},
        {"delivered", no_argument, NULL, 'D'},
        {"all", no_argument, NULL, 'a'},
        {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},
        {"files", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "outbox"};
    const char *which = NULL;
    bool as_json = false, files = false;
    long long limit = 100;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'f':
            which = "failed";
            break;
        case 'p':
            which = "pending";
            break;
        case 'D':
            which = "delivered";
            break;
        case 'a':
            which = "all";
            break;
        case 'l': {
            char *end = NULL;
            limit = strtoll(optarg, &end, 10);
            if (!end || *end || limit <= 0) {
                fprintf(stderr, "handoff outbox: --limit: expected a number > 0, got \"%s\"\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'j':
            as_json = true;
            break;
        case 'F':
            files = true;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("outbox", argc, argv, longopts);
            s_usage(stderr);
            return 2;
        }
    }
    const char *sub = optind < argc ? argv[optind++] : "";
    bool list = !strcmp(sub, "list"), show = !strcmp(sub, "show"), retry = !strcmp(sub, "retry");
    int n_args = argc - optind;
    bool retry_failed = retry && which && !strcmp(which, "failed");
    if ((!list && !show && !retry) || (list && n_args) || (show && (n_args != 1 || which)) ||
        (retry && (retry_failed ? n_args != 0 : (n_args == 0 || which))) || (files && !list) ||
        (files && (which || as_json))) {
        static const char *subs[] = {"list", "show", "retry"};
        const char *near = ho_cli_nearest(sub, subs, 3);
        if (near && strcmp(near, sub) != 0) {
            fprintf(stderr, "handoff outbox: unknown '%s', did you mean %s?\n", sub, near);
        }
        fprintf(stderr, "handoff outbox: bad usage\n");
        s_usage(stderr);
        return 2;
    }
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    int rc = 0;
    if (files) {
        char pdir[PATH_MAX];
        ho_cli_env_worker_path(&env, "outbox", "dir", "outbox", pdir, sizeof pdir);
        s_list_packets(pdir, true, limit);
    } else if (retry) {
        rc = s_retry(ho_gateway_data_dir(env.gw), argv + optind, n_args, retry_failed);
    } else {
        rc = s_list_show(&env, which, show ? argv[optind] : NULL, list, as_json, limit);
    }
    ho_cli_env_close(&env);
    return rc;
}
