/* lead_cmd.c - `handoff lead EMAIL`: one lead on one screen (who, where, what, when, why),
 * read straight from the store's database, read-only. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/lifecycle.h"
#include "handoff/scoring.h"
#include "handoff/store.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff lead EMAIL [--json] [--data-dir DIR] [-c CONFIG] [--db PATH]\n"
            "\n"
            "Show one lead: profile, sources, activities, score history with the reasons,\n"
            "stage history, owner, assignments and SLA, outcomes (and those still waiting for the\n"
            "lead). Reads <data-dir>/handoff.db\n"
            "read-only (safe while the store runs).\n"
            "\n"
            "  --json          the whole view as one JSON document\n"
            "  --data-dir DIR  data folder (default: data_dir of the gateway config)\n"
            "  -c, --config F  gateway config (handoff.yaml)\n"
            "  --db PATH       the database file (default <data-dir>/handoff.db)\n");
}

static const char *s_time(json_t *v, char *buf, size_t cap)
{
    if (!json_is_integer(v)) {
        return "-";
    }
    time_t t = (time_t)(json_integer_value(v) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%MZ", &tm);
    return buf;
}

/* A reason sentence with every "(due <epoch ms>)" the store wrote shown as an ISO time
 * (stored reasons keep the number; this is display only). */
static const char *s_reason_text(const char *text, char *buf, size_t cap)
{
    const char *at = strstr(text, "(due ");
    size_t len = 0;
    while (at && isdigit((unsigned char)at[5 + len])) {
        len++;
    }
    if (!at || len < 12 || len > 15 || at[5 + len] != ')') {
        return text;
    }
    char t[32];
    time_t secs = (time_t)(strtoll(at + 5, NULL, 10) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%MZ", &tm);
    snprintf(buf, cap, "%.*s(due %s%s", (int)(at - text), text, t, at + 5 + len);
    return buf;
}

static const char *s_s(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_value(v)[0] ? json_string_value(v) : "-";
}

static long long s_i(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Outcomes the store keeps until the lead arrives or reaches the stage they need. */
static void s_print_waiting(const json_t *rows)
{
    char t1[32];
    size_t i;
    json_t *r;
    if (json_array_size(rows) == 0) {
        return;
    }
    printf("\nwaiting outcomes (applied when the lead reaches their stage)\n");
    json_array_foreach(rows, i, r)
    {
        json_t *body = json_loads(s_s(r, "body"), 0, NULL);
        const json_t *p = json_object_get(body, "payload");
        printf("  %s  %-11s by %s reason=%s feedback_id=%s event=%s\n",
               s_time(json_object_get(p, "occurred_at"), t1, sizeof t1), s_s(p, "outcome"),
               s_s(p, "rep_id"), s_s(p, "reason"), s_s(p, "feedback_id"), s_s(r, "event_id"));
        json_decref(body);
    }
}

/* view.waiting = the pending outcomes of this (normalized) email; best effort */
static json_t *s_waiting(ho_store_t *s, const char *email)
{
    ho_err_t err = {0};
    char *key = ho_store_normalize_email(s, email, &err);
    json_t *rows = NULL;
    json_t *args = key ? json_pack("{ss}", "email", key) : NULL;
    if (!args || ho_store_query(s, HO_Q_PENDING, args, &rows, &err) != HO_OK) {
        json_decref(rows);
        rows = json_array();
    }
    json_decref(args);
    free(key);
    return rows;
}

/* The card: who, where, when, why, the sources and the latest activities. */
static void s_print_card(const json_t *view, const ho_lifecycle_t *lc)
{
    char t1[32], t2[32];
    const json_t *l = json_object_get(view, "lead");
    size_t i;
    json_t *r;
    printf("lead %s id=%lld stage=%s (%s) owner=%s%s\n", s_s(l, "email"), s_i(l, "lead_id"),
           s_s(l, "stage"), ho_lifecycle_display(lc, s_s(l, "stage")), s_s(l, "owner_rep_id"),
           json_is_true(json_object_get(l, "erased")) ? " ERASED" : "");
    printf("who      %s %s, %s, %s (%s)%s phone=%s\n", s_s(l, "first_name"), s_s(l, "last_name"),
           s_s(l, "title"), s_s(l, "company"), s_s(l, "domain"),
           json_is_true(json_object_get(l, "personal_email")) ? " personal-email" : "",
           s_s(l, "phone"));
    char emp[32] = "-", rev[32] = "-";
    if (json_is_integer(json_object_get(l, "employees"))) {
        snprintf(emp, sizeof emp, "%lld", s_i(l, "employees"));
    }
    if (json_is_number(json_object_get(l, "revenue"))) {
        snprintf(rev, sizeof rev, "%.0f", json_number_value(json_object_get(l, "revenue")));
    }
    printf("company  industry=%s group=%s employees=%s revenue=%s\n", s_s(l, "industry"),
           s_s(l, "industry_group"), emp, rev);
    printf("where    country=%s state=%s city=%s tz=%s\n", s_s(l, "country"), s_s(l, "state"),
           s_s(l, "city"), s_s(l, "timezone"));
    const json_t *st = json_array_get(json_object_get(view, "activity_stats"), 0);
    printf("when     created=%s first_touch=%s last_touch=%s activities=%lld mql=%s\n",
           s_time(json_object_get(l, "created_at"), t1, sizeof t1),
           s_time(json_object_get(l, "first_touch_at"), t2, sizeof t2),
           s_time(json_object_get(l, "last_touch_at"), (char[32]){0}, 32), s_i(st, "n"),
           s_time(json_object_get(l, "mql_at"), (char[32]){0}, 32));
    printf("source   original=%s channel=%s campaign=%s\n", s_s(l, "original_source"),
           s_s(l, "source_channel"), s_s(l, "original_campaign"));
    const json_t *latest = json_array_get(json_object_get(view, "scores"), 0);
    if (latest) {
        printf("why      score=%lld fit=%lld interest=%lld grade=%s quadrant=%s mql=%lld model=%s "
               "at=%s\n",
               s_i(latest, "score"), s_i(latest, "fit"), s_i(latest, "interest"),
               s_s(latest, "grade"), s_s(latest, "quadrant"), s_i(latest, "mql"),
               s_s(latest, "model_version"), s_time(json_object_get(latest, "at"), t1, sizeof t1));
        /* stored compact (rule ids and numbers): rendered here, for people */
        json_array_foreach(json_object_get(latest, "explanation"), i, r)
        {
            char line[400];
            printf("         %s\n",
                   ho_score_explain_entry(r, json_integer_value(json_object_get(latest, "at")),
                                          line, sizeof line));
        }
    } else {
        printf("why      not scored yet\n");
    }

    printf("\nsources (%zu)\n", json_array_size(json_object_get(view, "sources")));
    json_array_foreach(json_object_get(view, "sources"), i, r)
    {
        printf("  %s  %-12s record=%s original=%s campaign=%s at=%s:%lld\n",
               s_time(json_object_get(r, "observed_at"), t1, sizeof t1), s_s(r, "source"),
               s_s(r, "source_record_id"), s_s(r, "original_source"), s_s(r, "campaign"),
               s_s(r, "file"), s_i(r, "line"));
    }
    printf("\nactivities (newest %zu of %lld)\n",
           json_array_size(json_object_get(view, "activities")), s_i(st, "n"));
    json_array_foreach(json_object_get(view, "activities"), i, r)
    {
        if (i >= 15) {
            break;
        }
        printf("  %s  %-18s %s%s%s\n", s_time(json_object_get(r, "occurred_at"), t1, sizeof t1),
               s_s(r, "type"), s_s(r, "path"), strcmp(s_s(r, "campaign"), "-") ? " campaign=" : "",
               strcmp(s_s(r, "campaign"), "-") ? s_s(r, "campaign") : "");
    }
    if (json_array_size(json_object_get(view, "top_pages"))) {
        printf("  top pages:");
        json_array_foreach(json_object_get(view, "top_pages"), i, r)
        {
            printf(" %s (%lld)", s_s(r, "path"), s_i(r, "views"));
        }
        printf("\n");
    }
}

/* What happened to the lead: stages, assignments, outcomes, what waits, scores. */
static void s_print_story(const json_t *view)
{
    char t1[32], t2[32];
    size_t i;
    json_t *r;
    printf("\nstage history\n");
    json_array_foreach(json_object_get(view, "history"), i, r)
    {
        const char *kind = s_s(r, "kind");
        if (strcmp(kind, "transition") == 0) {
            printf("  %s  %s -> %s  by %s score=%s: %s\n",
                   s_time(json_object_get(r, "at"), t1, sizeof t1), s_s(r, "from_stage"),
                   s_s(r, "to_stage"), s_s(r, "actor"),
                   json_is_integer(json_object_get(r, "score"))
                       ? (snprintf(t2, sizeof t2, "%lld", s_i(r, "score")), t2)
                       : "-",
                   s_s(r, "reason"));
        } else {
            char why[1024];
            printf("  %s  [%s] by %s: %s\n", s_time(json_object_get(r, "at"), t1, sizeof t1), kind,
                   s_s(r, "actor"), s_reason_text(s_s(r, "reason"), why, sizeof why));
        }
    }
    printf("\nassignments\n");
    json_array_foreach(json_object_get(view, "assignments"), i, r)
    {
        printf("  %s  rep=%s (%s) queue=%s rule=%s status=%s sla_due=%s accepted=%s "
               "breaches=%s\n",
               s_time(json_object_get(r, "assigned_at"), t1, sizeof t1), s_s(r, "rep_id"),
               s_s(r, "rep_name"), s_s(r, "queue"), s_s(r, "rule"), s_s(r, "status"),
               s_time(json_object_get(r, "sla_due"), t2, sizeof t2),
               s_time(json_object_get(r, "accepted_at"), (char[32]){0}, 32), s_s(r, "breaches"));
    }
    printf("\noutcomes\n");
    json_array_foreach(json_object_get(view, "outcomes"), i, r)
    {
        char amount[48] = "";
        if (json_is_number(json_object_get(r, "amount"))) {
            snprintf(amount, sizeof amount, " amount=%.2f",
                     json_number_value(json_object_get(r, "amount")));
        }
        printf("  %s  %-11s by %s reason=%s (%s) stage_reached=%s%s%s notes=%s\n",
               s_time(json_object_get(r, "occurred_at"), t1, sizeof t1), s_s(r, "outcome"),
               s_s(r, "rep_id"), s_s(r, "reason"), s_s(r, "reason_owner"), s_s(r, "stage_reached"),
               s_i(r, "not_owner") ? " NOT-OWNER" : "", amount, s_s(r, "notes"));
    }
    s_print_waiting(json_object_get(view, "waiting"));
    printf("\nscore history\n");
    json_array_foreach(json_object_get(view, "scores"), i, r)
    {
        printf("  %s  score=%lld fit=%lld interest=%lld grade=%s mql=%lld model=%s rules=%zu\n",
               s_time(json_object_get(r, "at"), t1, sizeof t1), s_i(r, "score"), s_i(r, "fit"),
               s_i(r, "interest"), s_s(r, "grade"), s_i(r, "mql"), s_s(r, "model_version"),
               json_array_size(json_object_get(r, "explanation")));
    }
}

static void s_print(const json_t *view, const ho_lifecycle_t *lc)
{
    s_print_card(view, lc);
    s_print_story(view);
}

int ho_cmd_lead(int argc, char **argv)
{
    static const struct option longopts[] = {
        HO_CLI_ENV_OPTIONS,
        {"json", no_argument, NULL, 'j'},
        {"db", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "lead"};
    const char *db = NULL;
    bool as_json = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 'b':
            db = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("lead", argc, argv, longopts);
            s_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "handoff lead: expected exactly one EMAIL\n");
        s_usage(stderr);
        return 2;
    }
    const char *email = argv[optind];
    ho_err_t err = {0};
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    char path[4096];
    ho_cli_env_store_db(&env, db, path, sizeof path);
    ho_store_opts_t opts = {.readonly = true};
    ho_store_t *s = ho_store_open_opts(path, &opts, &err);
    int rc = 1;
    json_t *view = NULL;
    ho_lifecycle_t *lc = NULL;
    if (!s) {
        fprintf(stderr, "handoff lead: %s\n", err.message);
        goto done;
    }
    int vrc = ho_store_lead_view(s, email, &view, &err);
    if (vrc == HO_ERR_NOT_FOUND) {
        fprintf(stderr, "handoff lead: %s\n", err.message);
        /* sales may have spoken first: say what waits for this lead */
        json_t *waiting = s_waiting(s, email);
        if (as_json && json_array_size(waiting)) {
            json_t *doc = json_pack("{sO}", "waiting", waiting);
            char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text ? text : "{}");
            free(text);
            json_decref(doc);
        } else {
            s_print_waiting(waiting);
        }
        json_decref(waiting);
        goto done;
    }
    if (vrc != HO_OK) {
        fprintf(stderr, "handoff lead: %s\n", err.message);
        rc = vrc == HO_ERR_FIELD || vrc == HO_ERR_MISSING ? 2 : 1;
        goto done;
    }
    json_object_set_new(view, "waiting", s_waiting(s, email));
    if (as_json) {
        char *text = json_dumps(view, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        lc = ho_lifecycle_load(ho_gateway_config_dir(gw), &err);
        if (!lc) {
            fprintf(stderr, "handoff lead: %s (showing canonical stage names)\n", err.message);
        }
        s_print(view, lc);
    }
    rc = 0;
done:
    json_decref(view);
    ho_lifecycle_destroy(&lc);
    ho_store_destroy(&s);
    ho_cli_env_close(&env);
    return rc;
}
