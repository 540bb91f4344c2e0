/* score_cmd.c - `handoff score --explain EMAIL` and `handoff score --dry-run --model NEW.yaml`.
 *
 * Both read the store's database read-only (docs/store-schema.md: leads.fields_json and
 * activities, the same snapshot the store sends in score.request) and score in-process with
 * the same model code as the score worker, so what they print is what the worker would say. */
#include <ctype.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handoff/cli.h"
#include "handoff/defaults.h"
#include "handoff/gateway.h"
#include "handoff/reader.h"
#include "handoff/report.h"
#include "handoff/scoring.h"
#include "handoff/store.h"
#include "handoff/time.h"

#define S_AS_OF_STORED (-1)  /* --as-of stored: each lead at its own last scoring time */

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff score --explain EMAIL [--model FILE] [--as-of DATE] [--json]\n"
            "       handoff score --dry-run --model NEW.yaml [--as-of DATE] [--limit N]\n"
            "       handoff score --check [--model FILE]\n"
            "       handoff score --suggest OUT.yaml [--week W] [--timezone ZONE] [--current F]\n"
            "       common: [-c CONFIG] [--data-dir DIR] [--db PATH]\n"
            "\n"
            "--explain: score one stored lead now (or at --as-of) and print every rule that\n"
            "fired with its points (decayed activities show raw points, age and factor), then\n"
            "the totals, grade, quadrant and MQL verdict.\n"
            "--dry-run: score every stored lead with the current model and with NEW.yaml and\n"
            "print how many MQLs each makes, the quadrant counts, and the leads that change\n"
            "(became_mql / no_longer_mql). Nothing is written: run it before switching models.\n"
            "--check: load the model (the current one, or --model FILE), print a summary line\n"
            "and exit 0, or print the error (file:line: key: why) and exit 1. No database.\n"
            "--suggest: measure each scoring rule's SQL lift over the 12 weeks ending with W\n"
            "(the workbook's Learnings sheet) and write OUT.yaml: the current model with the\n"
            "points of every rule the outcomes contradict (or do not support, for a penalty)\n"
            "set to 0 and the version marked; prints the change as a unified diff. Try it with\n"
            "--dry-run --model OUT.yaml before switching.\n"
            "\n"
            "  --model FILE     model file (--explain: instead of the current one; --dry-run:\n"
            "                   the candidate)\n"
            "  --current FILE   --dry-run: compare against this file instead of the current\n"
            "                   model (workers.score.model of the gateway config)\n"
            "  --as-of DATE     score as of 2026-11-20, 2026-11-20T09:00Z or epoch ms, or\n"
            "                   'stored': each lead as of its last scoring (leads.scored_at;\n"
            "                   now if never scored) (default: now)\n"
            "  --limit N        --dry-run: list at most N changed leads per direction\n"
            "                   (default 100, 0 = all)\n"
            "  --json           --explain: print the lead.scored payload as JSON\n"
            "  --week W         --suggest: the last week measured (default: the last complete\n"
            "                   week); --timezone ZONE its zone (default UTC)\n"
            "  --data-dir DIR   data folder (default: data_dir of the gateway config)\n"
            "  -c, --config F   gateway config (handoff.yaml)\n"
            "  --db PATH        the database file (default <data-dir>/handoff.db)\n"
            "\n"
            "Reads the database read-only; safe while the store runs.\n");
}

typedef struct {
    ho_reader_t *db;   /* the rows this command lists (read-only) */
    ho_store_t *store; /* the store library over the same file: the snapshot builder */
} s_db_t;

static void s_db_close(s_db_t *d)
{
    ho_store_destroy(&d->store);
    ho_reader_destroy(&d->db);
    memset(d, 0, sizeof *d);
}

/* The store's database (--db, else the data folder's handoff.db), read-only. */
static int s_db_open(s_db_t *d, const ho_cli_env_t *env, const char *db)
{
    char path[4096];
    ho_cli_env_store_db(env, db, path, sizeof path);
    memset(d, 0, sizeof *d);
    ho_err_t err = {0};
    d->db = ho_reader_open(path, 5000, &err);
    if (!d->db) {
        fprintf(stderr, "handoff score: %s\n", err.message);
        s_db_close(d);
        return -1;
    }
    ho_store_opts_t opts = {.readonly = true};
    d->store = ho_store_open_opts(path, &opts, &err);
    if (!d->store) {
        fprintf(stderr, "handoff score: %s: not a handoff store: %s\n", path, err.message);
        s_db_close(d);
        return -1;
    }
    return 0;
}

/* The score.request snapshot of the lead of a row (column 0: its id), as the store builds
 * it (ho_store_score_snapshot), with the activities up to as_of. NULL on failure (said). */
static json_t *s_snapshot(s_db_t *d, sqlite3_stmt *row, int64_t as_of)
{
    ho_lead_t lead;
    ho_lead_init(&lead);
    ho_err_t err = {0};
    json_t *snap = NULL;
    if (ho_store_lead_get(d->store, NULL, sqlite3_column_int64(row, 0), &lead, &err) == HO_OK) {
        snap = ho_store_score_snapshot(d->store, &lead, as_of, &err);
    }
    if (!snap) {
        fprintf(stderr, "handoff score: lead %lld: %s\n", (long long)sqlite3_column_int64(row, 0),
                err.message);
    }
    ho_lead_clear(&lead);
    return snap;
}

static ho_score_model_t *s_current_model(ho_gateway_t *gw, const char *override, ho_err_t *err)
{
    if (override) {
        return ho_score_model_load_file(override, err);
    }
    const char *name = "scoring.yaml";
    const ho_node_t *set = ho_gateway_worker_settings(gw, "score");
    const char *m = ho_node_str(ho_node_get(set, "model"));
    if (m && m[0]) {
        name = m;
    }
    return ho_score_model_load(ho_gateway_config_dir(gw), name, err);
}

static void s_print_explain(const json_t *lead, const ho_score_result_t *r,
                            const ho_score_model_t *m, sqlite3_stmt *row)
{
    char t1[32];
    printf("lead email=%s lead_id=%lld stage=%s model=%s as_of=%s\n",
           json_string_value(json_object_get(lead, "email")),
           (long long)json_integer_value(json_object_get(lead, "lead_id")),
           json_string_value(json_object_get(lead, "stage"))
               ? json_string_value(json_object_get(lead, "stage"))
               : "-",
           ho_score_model_version(m), ho_time_format(r->as_of, t1, sizeof t1));
    printf("model file=%s window_days=%lld\n", ho_score_model_name(m),
           (long long)(ho_score_model_window_ms(m) / HO_DAY_MS));
    printf("activities total=%zu counted=%zu out_of_window=%zu future=%zu capped=%zu\n",
           r->activities, r->counted, r->out_of_window, r->future, r->capped);
    printf("%-28s %-9s %7s  %s\n", "RULE", "KIND", "POINTS", "DETAIL");
    for (size_t i = 0; i < r->n_hits; i++) {
        const ho_score_hit_t *h = &r->hits[i];
        printf("%-28s %-9s %+7lld  %s\n", h->rule, h->kind, h->points, h->detail);
    }
    printf("total fit=%d interest=%d score=%d grade=%s quadrant=%s mql=%s%s\n", r->fit, r->interest,
           r->score, r->grade, r->quadrant, r->mql ? "yes" : "no",
           r->disqualified ? " disqualified=yes" : "");
    if (sqlite3_column_type(row, 5) != SQLITE_NULL) {
        printf("stored fit=%lld interest=%lld score=%lld grade=%s quadrant=%s model=%s "
               "scored_at=%s\n",
               (long long)sqlite3_column_int64(row, 5), (long long)sqlite3_column_int64(row, 6),
               (long long)sqlite3_column_int64(row, 7),
               sqlite3_column_text(row, 8) ? (const char *)sqlite3_column_text(row, 8) : "-",
               sqlite3_column_text(row, 9) ? (const char *)sqlite3_column_text(row, 9) : "-",
               sqlite3_column_text(row, 10) ? (const char *)sqlite3_column_text(row, 10) : "-",
               ho_time_format(sqlite3_column_int64(row, 11), t1, sizeof t1));
    } else {
        printf("stored none (not scored yet)\n");
    }
}

static int s_explain(s_db_t *d, const ho_score_model_t *m, const char *email_in, int64_t as_of,
                     bool as_json)
{
    char email[512];
    size_t k = 0;
    while (isspace((unsigned char)*email_in)) {
        email_in++;
    }
    for (; *email_in && k + 1 < sizeof email; email_in++) {
        email[k++] = (char)tolower((unsigned char)*email_in);
    }
    while (k && isspace((unsigned char)email[k - 1])) {
        k--;
    }
    email[k] = '\0';
    sqlite3_stmt *st = NULL;
    if (ho_reader_stmt(d->db, HO_RQ_SCORE_EXPLAIN_LEAD, &st, NULL) != HO_OK) {
        fprintf(stderr, "handoff score: %s\n", ho_reader_errmsg(d->db));
        return 1;
    }
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "handoff score: no lead with email %s\n", email);
        sqlite3_reset(st);
        return 1;
    }
    if (as_of == S_AS_OF_STORED) {
        as_of =
            sqlite3_column_type(st, 11) == SQLITE_NULL ? ho_now_ms() : sqlite3_column_int64(st, 11);
    }
    json_t *lead = s_snapshot(d, st, as_of);
    if (!lead) {
        sqlite3_reset(st);
        return 1;
    }
    ho_score_result_t r;
    ho_err_t err = {0};
    int rc = 0;
    if (ho_score_lead(m, lead, as_of, &r, &err) != HO_OK) {
        fprintf(stderr, "handoff score: lead %s: %s\n", email, err.message);
        rc = 1;
    } else if (as_json) {
        json_t *p = json_pack("{sOsO}", "lead_id", json_object_get(lead, "lead_id"), "email",
                              json_object_get(lead, "email"));
        ho_score_result_to_payload(&r, p);
        char *text = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(p);
    } else {
        s_print_explain(lead, &r, m, st);
    }
    ho_score_result_clear(&r);
    json_decref(lead);
    sqlite3_reset(st);
    return rc;
}

typedef struct {
    size_t mql;
    size_t quadrant[4];
    size_t failed;
} s_tally_t;

static int s_quadrant_index(const char *q)
{
    static const char *const names[] = {"mql_now", "group_offering", "nurture", "never"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(names[i], q) == 0) {
            return i;
        }
    }
    return 3;
}

static void s_print_tally(const char *which, const ho_score_model_t *m, const s_tally_t *t)
{
    printf("model which=%s version=%s file=%s mql=%zu mql_now=%zu group_offering=%zu "
           "nurture=%zu never=%zu failed=%zu\n",
           which, ho_score_model_version(m), ho_score_model_name(m), t->mql, t->quadrant[0],
           t->quadrant[1], t->quadrant[2], t->quadrant[3], t->failed);
}

static int s_dry_run(s_db_t *d, const ho_score_model_t *cur, const ho_score_model_t *cand,
                     int64_t as_of, long limit)
{
    sqlite3_stmt *st = NULL;
    if (ho_reader_stmt(d->db, HO_RQ_SCORE_DRY_RUN_LEADS, &st, NULL) != HO_OK) {
        fprintf(stderr, "handoff score: %s\n", ho_reader_errmsg(d->db));
        return 1;
    }
    s_tally_t tc = {0}, tn = {0};
    size_t leads = 0, became = 0, dropped = 0, changed_grade = 0;
    json_t *became_l = json_array(), *dropped_l = json_array();
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t at = as_of;
        if (at == S_AS_OF_STORED) {
            at = sqlite3_column_type(st, 5) == SQLITE_NULL ? ho_now_ms()
                                                           : sqlite3_column_int64(st, 5);
        }
        json_t *lead = s_snapshot(d, st, at);
        if (!lead) {
            leads++;
            tc.failed++;
            tn.failed++;
            continue;
        }
        ho_score_result_t a, b;
        ho_err_t ea = {0}, eb = {0};
        int ra = ho_score_lead(cur, lead, at, &a, &ea);
        int rb = ho_score_lead(cand, lead, at, &b, &eb);
        leads++;
        if (ra == HO_OK) {
            tc.mql += a.mql;
            tc.quadrant[s_quadrant_index(a.quadrant)]++;
        } else {
            tc.failed++;
        }
        if (rb == HO_OK) {
            tn.mql += b.mql;
            tn.quadrant[s_quadrant_index(b.quadrant)]++;
        } else {
            tn.failed++;
        }
        if (ra == HO_OK && rb == HO_OK) {
            changed_grade += strcmp(a.grade, b.grade) != 0;
            if (a.mql != b.mql) {
                char line[768];
                snprintf(line, sizeof line,
                         "lead_id=%lld email=%s current=%s/%d/%d/%s new=%s/%d/%d/%s",
                         (long long)sqlite3_column_int64(st, 0),
                         json_string_value(json_object_get(lead, "email")), a.grade, a.fit,
                         a.interest, a.quadrant, b.grade, b.fit, b.interest, b.quadrant);
                if (b.mql) {
                    became++;
                    if (limit == 0 || (long)json_array_size(became_l) < limit) {
                        json_array_append_new(became_l, json_string(line));
                    }
                } else {
                    dropped++;
                    if (limit == 0 || (long)json_array_size(dropped_l) < limit) {
                        json_array_append_new(dropped_l, json_string(line));
                    }
                }
            }
        }
        ho_score_result_clear(&a);
        ho_score_result_clear(&b);
        json_decref(lead);
    }
    int rc = 0;
    if (src != SQLITE_DONE) {
        fprintf(stderr, "handoff score: reading leads: %s\n", ho_reader_errmsg(d->db));
        rc = 1;
    }
    char t1[32];
    printf("dry-run leads=%zu as_of=%s\n", leads,
           as_of == S_AS_OF_STORED ? "stored" : ho_time_format(as_of, t1, sizeof t1));
    s_print_tally("current", cur, &tc);
    s_print_tally("new", cand, &tn);
    printf("change mql_delta=%+ld became_mql=%zu no_longer_mql=%zu grade_changed=%zu\n",
           (long)tn.mql - (long)tc.mql, became, dropped, changed_grade);
    size_t i;
    json_t *v;
    json_array_foreach(became_l, i, v)
    {
        printf("became_mql %s\n", json_string_value(v));
    }
    if (json_array_size(became_l) < became) {
        printf("became_mql more=%zu (raise --limit)\n", became - json_array_size(became_l));
    }
    json_array_foreach(dropped_l, i, v)
    {
        printf("no_longer_mql %s\n", json_string_value(v));
    }
    if (json_array_size(dropped_l) < dropped) {
        printf("no_longer_mql more=%zu (raise --limit)\n", dropped - json_array_size(dropped_l));
    }
    printf("switch: point workers.score.model at %s (or put it in place of %s), then restart "
           "the score workers (leads are re-scored on their next event or periodic re-score)\n",
           ho_score_model_name(cand), ho_score_model_name(cur));
    json_decref(became_l);
    json_decref(dropped_l);
    sqlite3_reset(st);
    return rc;
}

/* ---- --suggest: the Learnings sheet's verdicts as a scoring.yaml change ---- */

typedef struct {
    char name[128];
    double lift, lo, hi, n;
    char verdict[96];
} s_against_t;

typedef struct {
    s_against_t *v;
    size_t n, cap, rules;
} s_suggest_t;

static void s_collect(void *arg, const ho_report_rule_t *r)
{
    s_suggest_t *sg = arg;
    sg->rules++;
    if (!r->against) {
        return;
    }
    if (sg->n == sg->cap) {
        size_t cap = sg->cap ? sg->cap * 2 : 16;
        s_against_t *nv = realloc(sg->v, cap * sizeof *nv);
        if (!nv) {
            return;
        }
        sg->v = nv;
        sg->cap = cap;
    }
    s_against_t *a = &sg->v[sg->n++];
    snprintf(a->name, sizeof a->name, "%s", r->rule);
    snprintf(a->verdict, sizeof a->verdict, "%s", r->verdict);
    a->lift = r->sql_lift;
    a->lo = r->lo;
    a->hi = r->hi;
    a->n = r->n;
}

/* The model's YAML text: --current F, else <config>/<workers.score.model>, else built in. */
static char *s_model_text(ho_gateway_t *gw, const char *override, char *name, size_t cap)
{
    const char *m = ho_node_str(ho_node_get(ho_gateway_worker_settings(gw, "score"), "model"));
    char path[4096];
    if (override) {
        snprintf(path, sizeof path, "%s", override);
    } else if (m && m[0] == '/') {
        snprintf(path, sizeof path, "%s", m);
    } else {
        snprintf(path, sizeof path, "%.2000s/%.2000s",
                 ho_gateway_config_dir(gw) ? ho_gateway_config_dir(gw) : ".",
                 m && m[0] ? m : "scoring.yaml");
    }
    snprintf(name, cap, "%s", path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        size_t len = 0;
        const char *d = override ? NULL : ho_default_file("scoring.yaml", &len);
        snprintf(name, cap, "(built-in)/scoring.yaml");
        return d ? strndup(d, len) : NULL;
    }
    char *buf = NULL;
    size_t len = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *nb = realloc(buf, len + got + 1);
        if (!nb) {
            free(buf);
            fclose(f);
            return NULL;
        }
        buf = nb;
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
    }
    return buf;
}

static const s_against_t *s_find(const s_suggest_t *sg, const char *name, size_t len)
{
    for (size_t i = 0; i < sg->n; i++) {
        if (strlen(sg->v[i].name) == len && !strncmp(sg->v[i].name, name, len)) {
            return &sg->v[i];
        }
    }
    return NULL;
}

/* Line by line: "- name: X" opens rule X; its "points: N" becomes 0 when X is against; the
 * top-level version gets a suffix. Every changed line is printed as a zero-context hunk. */
static int s_rewrite(const char *text, const s_suggest_t *sg, const char *week, FILE *out,
                     const char *from, const char *to, int *changed)
{
    char rule[128] = "";
    int lineno = 0;
    *changed = 0;
    printf("--- %s\n+++ %s\n", from, to);
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        lineno++;
        char line[1024], repl[1400] = "";
        snprintf(line, sizeof line, "%.*s", (int)(len < 1023 ? len : 1023), p);
        const char *t = line + strspn(line, " ");
        int indent = (int)(t - line);
        if (!strncmp(t, "- name:", 7)) {
            const char *n = t + 7 + strspn(t + 7, " ");
            snprintf(rule, sizeof rule, "%.*s", (int)strcspn(n, " #\r"), n);
        } else if (!strncmp(t, "points:", 7) && rule[0]) {
            const s_against_t *a = s_find(sg, rule, strlen(rule));
            long pts = strtol(t + 7, NULL, 10);
            if (a && pts != 0) {
                snprintf(repl, sizeof repl,
                         "%*spoints: 0  # was %ld: %s (SQL lift %.2f, 95%% %.2f-%.2f, %.0f leads, "
                         "12 weeks to %s)",
                         indent, "", pts, a->verdict, a->lift, a->lo, a->hi, a->n, week);
            }
        } else if (indent == 0 && !strncmp(t, "version:", 8)) {
            const char *v = t + 8 + strspn(t + 8, " \"");
            snprintf(repl, sizeof repl, "version: \"%.*s-suggested-%s\"", (int)strcspn(v, "\"\r"),
                     v, week);
        }
        if (repl[0]) {
            printf("@@ -%d +%d @@\n-%s\n+%s\n", lineno, lineno, line, repl);
            fprintf(out, "%s\n", repl);
            ++*changed;
        } else {
            fprintf(out, "%.*s%s", (int)len, p, e ? "\n" : "");
        }
        p = e ? e + 1 : p + len;
    }
    return ferror(out) ? -1 : 0;
}

static int s_suggest(ho_gateway_t *gw, const char *db, const char *current, const char *out_path,
                     ho_week_t week, const char *tz)
{
    s_suggest_t sg = {0};
    ho_report_opts_t opts = {.db_path = db, .timezone = tz, .week = week};
    ho_err_t err;
    ho_report_error_t rrc = ho_report_rules(&opts, s_collect, &sg, &err);
    if (rrc != HO_REPORT_OK) {
        fprintf(stderr, "handoff score: --suggest: %s: %s\n", ho_report_strerror(rrc), err.message);
        free(sg.v);
        return 1;
    }
    char name[4200], wk[16];
    ho_week_format(week, wk, sizeof wk);
    char *text = s_model_text(gw, current, name, sizeof name);
    if (!text) {
        fprintf(stderr, "handoff score: --suggest: %s: cannot read the model\n", name);
        free(sg.v);
        return 1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%.4100s.tmp", out_path);
    FILE *f = fopen(tmp, "w");
    int changed = 0, rc = 1;
    if (!f) {
        fprintf(stderr, "handoff score: --suggest: %s: cannot write\n", out_path);
    } else if (s_rewrite(text, &sg, wk, f, name, out_path, &changed) != 0 || fclose(f) != 0 ||
               rename(tmp, out_path) != 0) {
        fprintf(stderr, "handoff score: --suggest: %s: cannot write\n", out_path);
        unlink(tmp);
    } else {
        for (size_t i = 0; i < sg.n; i++) {
            printf("# suggest rule=%s verdict=\"%s\" sql_lift=%.2f low=%.2f high=%.2f leads=%.0f\n",
                   sg.v[i].name, sg.v[i].verdict, sg.v[i].lift, sg.v[i].lo, sg.v[i].hi, sg.v[i].n);
        }
        printf("# suggest week=%s rules=%zu against=%zu changed_lines=%d out=%s\n"
               "# try it: handoff score --dry-run --model %s\n",
               wk, sg.rules, sg.n, changed, out_path, out_path);
        rc = 0;
    }
    free(text);
    free(sg.v);
    return rc;
}

/* --suggest: the week (--week, else the last complete one in tz) and the database. */
static int s_suggest_cmd(ho_gateway_t *gw, const char *db, const char *data_dir,
                         const char *current, const char *out, const char *week_arg, const char *tz)
{
    ho_week_t week;
    ho_err_t err;
    char path[4096];
    snprintf(path, sizeof path, "%.4000s/handoff.db",
             data_dir ? data_dir : ho_gateway_data_dir(gw));
    if (!ho_tz_valid(tz)) {
        fprintf(stderr, "handoff score: --timezone: unknown IANA time zone \"%s\"\n", tz);
        return 2;
    }
    if (week_arg ? ho_week_parse(week_arg, &week) != HO_REPORT_OK
                 : ho_week_last_complete(ho_now_ms(), tz, &week, &err) != HO_REPORT_OK) {
        fprintf(stderr, "handoff score: --week: \"%s\" is not an ISO week like 2026-W47\n",
                week_arg ? week_arg : "");
        return 2;
    }
    return s_suggest(gw, db ? db : path, current, out, week, tz);
}

/* --as-of (c 'a') or --limit ('l'): 0, or -1 after saying what is wrong. */
static int s_number_opt(int c, const char *arg, int64_t *as_of, long *limit)
{
    if (c == 'a') {
        if (strcmp(arg, "stored") == 0) {
            *as_of = S_AS_OF_STORED;
        } else if (ho_time_parse(arg, as_of) != HO_OK) {
            fprintf(stderr,
                    "handoff score: --as-of %s: expected 2026-11-20, 2026-11-20T09:00Z, "
                    "epoch ms or stored\n",
                    arg);
            return -1;
        }
        return 0;
    }
    char *end;
    *limit = strtol(arg, &end, 10);
    if (*end || end == arg || *limit < 0) {
        fprintf(stderr, "handoff score: --limit %s: expected a number >= 0\n", arg);
        return -1;
    }
    return 0;
}

int ho_cmd_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"explain", required_argument, NULL, 'e'}, {"dry-run", no_argument, NULL, 'n'},
        {"model", required_argument, NULL, 'm'},   {"current", required_argument, NULL, 'C'},
        {"as-of", required_argument, NULL, 'a'},   {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},          HO_CLI_ENV_OPTIONS,
        {"db", required_argument, NULL, 'b'},
        {"check", no_argument, NULL, 'k'},         {"suggest", required_argument, NULL, 'S'},
        {"week", required_argument, NULL, 'W'},    {"timezone", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "score"};
    const char *explain = NULL, *model = NULL, *current = NULL, *db = NULL, *suggest = NULL,
               *week_arg = NULL, *tz = "UTC";
    bool dry_run = false, as_json = false, check = false;
    int64_t as_of = ho_now_ms();
    long limit = 100;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'e':
            explain = optarg;
            break;
        case 'n':
            dry_run = true;
            break;
        case 'k':
            check = true;
            break;
        case 'S':
            suggest = optarg;
            break;
        case 'W':
            week_arg = optarg;
            break;
        case 'T':
            tz = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'C':
            current = optarg;
            break;
        case 'a':
        case 'l':
            if (s_number_opt(c, optarg, &as_of, &limit) != 0) {
                return 2;
            }
            break;
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
            s_usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!!explain + dry_run + check + !!suggest) != 1) {
        fprintf(stderr,
                "handoff score: give one of --explain EMAIL, --dry-run, --check or --suggest\n");
        s_usage(stderr);
        return 2;
    }
    if (dry_run && !model) {
        fprintf(stderr, "handoff score: --dry-run needs --model NEW.yaml (the candidate)\n");
        return 2;
    }
    ho_err_t err = {0};
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    int rc = 1;
    ho_score_model_t *cur = NULL, *cand = NULL;
    s_db_t d = {0};
    if (suggest) {
        rc = s_suggest_cmd(gw, db, NULL, current, suggest, week_arg, tz);
        goto done;
    }
    cur = s_current_model(gw, explain || check ? model : current, &err);
    if (!cur) {
        fprintf(stderr, "handoff score: %s\n", err.message);
        goto done;
    }
    if (check) {
        char line[512];
        printf("model ok version=%s file=%s %s\n", ho_score_model_version(cur),
               ho_score_model_name(cur), ho_score_model_describe(cur, line, sizeof line));
        rc = 0;
        goto done;
    }
    if (dry_run && !(cand = ho_score_model_load_file(model, &err))) {
        fprintf(stderr, "handoff score: %s\n", err.message);
        goto done;
    }
    if (s_db_open(&d, &env, db) != 0) {
        goto done;
    }
    rc = explain ? s_explain(&d, cur, explain, as_of, as_json)
                 : s_dry_run(&d, cur, cand, as_of, limit);
done:
    s_db_close(&d);
    ho_score_model_destroy(&cur);
    ho_score_model_destroy(&cand);
    ho_cli_env_close(&env);
    return rc;
}
