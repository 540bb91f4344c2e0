/* learnings.c - the Learnings sheet: closing the loop back to marketing. For each scoring
 * rule and each source/campaign, how leads that have it convert to SAL and SQL against all
 * other leads of the last 12 weeks (lift), with the sample size and a 95 % interval, and a
 * verdict that flags rules whose measured lift contradicts their points
 * (reports/README.md, "Learnings"). */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/expl.h"
#include "report/report_int.h"

#define S_MIN_N 30 /* fewer leads: too few to judge */
#define S_Z 1.959964

/* Relative risk (a/n1) / (c/n2) of a group (a of n1) against the rest (c of n2), and its
 * 95 % interval by the Katz log method. false when undefined (an empty side or no success
 * on one side). */
static bool s_rr(double a, double n1, double c, double n2, double *rr, double *lo, double *hi)
{
    if (n1 <= 0 || n2 <= 0 || a <= 0 || c <= 0) {
        return false;
    }
    *rr = (a / n1) / (c / n2);
    double se = sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2);
    *lo = exp(log(*rr) - S_Z * se);
    *hi = exp(log(*rr) + S_Z * se);
    return true;
}

/* Baseline: SAL and SQL shares of all leads created in the window (scored ones only when
 * scored is true: the population the rules apply to). */
static ho_report_error_t s_base(ho_rctx_t *ctx, bool scored, double b[3])
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(
        ctx, scored ? HO_RQ_REPORT_LEARNINGS_BASE_SCORED : HO_RQ_REPORT_LEARNINGS_BASE, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    b[0] = b[1] = b[2] = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        for (int k = 0; k < 3; k++) {
            b[k] = (double)sqlite3_column_int64(st, k);
        }
    }
    sqlite3_reset(st);
    return HO_REPORT_OK;
}

/* Leads n, SAL rate, SAL lift, SQL rate, SQL lift and its 95 % interval from column c, for
 * a group g = {n, sal, sql} of the population b: lift = the group's rate / the rate of the
 * leads outside it. The SQL interval goes to lo/hi (NAN when undefined); the same numbers to
 * out (the page's row). */
static void s_lift_cells(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t c,
                         const double g[3], const double b[3], double *lo, double *hi,
                         ho_rlift_t *out)
{
    memcpy(out->g, g, sizeof out->g);
    worksheet_write_number(ws, row, c, g[0], ctx->f_int);
    double rr, l, h;
    for (int k = 1; k <= 2; k++) {
        lxw_col_t col = (lxw_col_t)(c + (k == 1 ? 1 : 3));
        ho_rrate(ctx, ws, row, col, g[k], g[0], NULL);
        bool ok = s_rr(g[k], g[0], b[k] - g[k], b[0] - g[0], &rr, &l, &h);
        out->has_lift[k - 1] = ok;
        out->lift[k - 1] = ok ? rr : 0;
        if (ok) {
            worksheet_write_number(ws, row, col + 1, rr, ctx->f_lift);
        } else {
            worksheet_write_blank(ws, row, col + 1, ctx->f_lift);
        }
        if (k == 2) {
            *lo = ok ? l : NAN;
            *hi = ok ? h : NAN;
            out->has_ci = ok;
            out->lo = ok ? l : 0;
            out->hi = ok ? h : 0;
            if (ok) {
                worksheet_write_number(ws, row, c + 5, l, ctx->f_lift);
                worksheet_write_number(ws, row, c + 6, h, ctx->f_lift);
            } else {
                worksheet_write_blank(ws, row, c + 5, ctx->f_lift);
                worksheet_write_blank(ws, row, c + 6, ctx->f_lift);
            }
        }
    }
}

/* What the measured SQL lift says about a rule's points. */
static const char *s_verdict(double pts, double n, double lo, double hi)
{
    if (n < S_MIN_N) {
        return "too few leads to judge";
    }
    if (isnan(lo)) {
        return "no comparison: (almost) every lead has it, or none converted";
    }
    if (pts > 0 && hi < 1) {
        return "CONTRADICTED: adds points, converts worse than average";
    }
    if (pts < 0 && lo > 1) {
        return "CONTRADICTED: takes points, converts better than average";
    }
    if (pts < 0 && lo <= 1 && hi >= 1) {
        return "NOT SUPPORTED: takes points, converts like the average";
    }
    if (pts > 0 && lo <= 1 && hi >= 1) {
        return "not shown: adds points, converts like the average";
    }
    return "supported";
}

#define S_MAX_RULES 256 /* distinct rules kept; a new rule past these is not counted */
#define S_LEAD_RULES 64 /* distinct rules of one lead; a new rule past these is not counted */

typedef struct {
    char *rule, *kind;
    size_t rule_n, kind_n;
    double pts, n, sal, sql;
} s_rule_acc_t;

static int s_rule_cmp(const void *a, const void *b)
{
    return strcmp(((const s_rule_acc_t *)a)->rule, ((const s_rule_acc_t *)b)->rule);
}

/* The rule pass's sums (up to cap rules) and the lead being added. */
typedef struct {
    s_rule_acc_t *acc;
    size_t nacc, cap;
    bool sal, sql, nomem;
} s_rules_t;

static bool s_same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && !memcmp(a, b, an);
}

/* Whether kind (kn bytes; NULL: none) is byte-wise greater than the kind held so far. */
static bool s_kind_gt(const char *kind, size_t kn, const char *cur, size_t cn)
{
    return kind && (!cur || ho_expl_cmp(kind, kn, cur, cn) > 0);
}

/* Clamp lines (fit.ceiling, interest.floor) are not rules. */
static bool s_clamp(const ho_expl_item_t *it)
{
    size_t n = it->rule_n;
    return (n >= 8 && !memcmp(it->rule + n - 8, ".ceiling", 8)) ||
           (n >= 6 && !memcmp(it->rule + n - 6, ".floor", 6));
}

/* The accumulator of rule (n bytes), added when new (NULL when full or out of memory: a
 * copy of the name is made only then, not per lead). */
static s_rule_acc_t *s_acc_of(s_rules_t *a, const char *rule, size_t n)
{
    for (size_t j = 0; j < a->nacc; j++) {
        if (s_same(a->acc[j].rule, a->acc[j].rule_n, rule, n)) {
            return &a->acc[j];
        }
    }
    if (a->nacc == a->cap) {
        return NULL;
    }
    s_rule_acc_t *r = &a->acc[a->nacc];
    if (!(r->rule = strndup(rule, n))) {
        a->nomem = true;
        return NULL;
    }
    r->rule_n = n;
    r->kind = NULL;
    r->kind_n = 0;
    r->pts = r->n = r->sal = r->sql = 0;
    a->nacc++;
    return r;
}

/* Add one lead's rule elements (ho_expl_read) to the per-rule sums: each rule once per lead
 * (its points summed, its greatest kind), clamp lines left out. */
static void s_add_lead(void *arg, const ho_expl_item_t *items, size_t n)
{
    s_rules_t *a = arg;
    ho_expl_item_t seen[S_LEAD_RULES];
    double pts[S_LEAD_RULES];
    size_t nseen = 0;
    for (size_t i = 0; i < n; i++) {
        const ho_expl_item_t *it = &items[i];
        if (s_clamp(it)) {
            continue;
        }
        size_t k = 0;
        while (k < nseen && !s_same(seen[k].rule, seen[k].rule_n, it->rule, it->rule_n)) {
            k++;
        }
        if (k == nseen) {
            if (nseen == S_LEAD_RULES) {
                continue;
            }
            seen[nseen] = *it;
            pts[nseen++] = 0;
        } else if (s_kind_gt(it->kind, it->kind_n, seen[k].kind, seen[k].kind_n)) {
            seen[k].kind = it->kind;
            seen[k].kind_n = it->kind_n;
        }
        pts[k] += (double)it->points;
    }
    for (size_t k = 0; k < nseen; k++) {
        s_rule_acc_t *r = s_acc_of(a, seen[k].rule, seen[k].rule_n);
        if (!r) {
            continue;
        }
        if (s_kind_gt(seen[k].kind, seen[k].kind_n, r->kind, r->kind_n)) {
            char *kind = strndup(seen[k].kind, seen[k].kind_n);
            if (!kind) {
                a->nomem = true;
                continue;
            }
            free(r->kind);
            r->kind = kind;
            r->kind_n = seen[k].kind_n;
        }
        r->pts += pts[k];
        r->n += 1;
        r->sal += a->sal;
        r->sql += a->sql;
    }
}

/* The rule pass's result (report_int.h): the per-rule sums, in rule order once reported. */
struct ho_rrules {
    s_rules_t a;
};

static void s_rules_free(s_rules_t *a)
{
    for (size_t i = 0; i < a->nacc; i++) {
        free(a->acc[i].rule);
        free(a->acc[i].kind);
    }
    free(a->acc);
    a->acc = NULL;
    a->nacc = 0;
}

void ho_rrules_destroy(ho_rrules_t **self_p)
{
    ho_rrules_t *self = *self_p;
    if (!self) {
        return;
    }
    s_rules_free(&self->a);
    free(self);
    *self_p = NULL;
}

/* The rules of the scored leads with lo <= id < hi, in id order, added to a (its acc made,
 * cap set). ctx->err says what failed. */
static ho_report_error_t s_rules_scan(ho_rctx_t *ctx, int64_t lo, int64_t hi, s_rules_t *a)
{
    sqlite3_stmt *st;
    /* The rules of the score that made the lead an MQL (in force at its first MQL entry), not
     * of its latest one: a re-score after the handoff (an activity, a decay) is not what sales
     * was given. Leads never MQL (or without a score by then): their latest score. */
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_LEARNINGS_RULES, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lo"), lo);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":hi"), hi);
    int s = SQLITE_NOMEM;
    while (a->acc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        a->sal = sqlite3_column_int(st, 1);
        a->sql = sqlite3_column_int(st, 2);
        if (!ho_expl_read((const char *)sqlite3_column_text(st, 0), s_add_lead, a) || a->nomem) {
            s = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_reset(st);
    if (s == SQLITE_DONE) {
        return HO_REPORT_OK;
    }
    if (s == SQLITE_NOMEM) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "learnings: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    return ho_rsql_fail(ctx, "learnings rules");
}

ho_report_error_t ho_report_rules_scan(ho_rctx_t *ctx, ho_rrules_t **out)
{
    *out = NULL;
    ho_rrules_t *self = calloc(1, sizeof *self);
    if (self) {
        self->a.cap = S_MAX_RULES;
        self->a.acc = calloc(S_MAX_RULES, sizeof *self->a.acc);
    }
    ho_report_error_t rc =
        s_rules_scan(ctx, INT64_MIN, INT64_MAX, self ? &self->a : &(s_rules_t){0});
    if (rc == HO_REPORT_OK) {
        *out = self;
    } else {
        ho_rrules_destroy(&self);
    }
    return rc;
}

/* ---- the rule pass in chunks, for two threads (side.c) ----
 * The leads by id in S_CHUNKS ranges; each thread takes the next range not taken and sums it
 * on its own connection; the ranges' sums are then added in range order. Every sum is of
 * integers (points are JSON integers, the rest counts), so the result is exactly one pass's,
 * whichever thread summed which range; the rules a range may hold are many more than
 * S_MAX_RULES, so the merge keeps the first S_MAX_RULES in lead order, as one pass does. */
#define S_CHUNKS 16
#define S_CHUNK_RULES 4096

typedef struct {
    s_rules_t a;
    ho_report_error_t rc;
    ho_err_t err;
} s_chunk_t;

struct ho_rrules_job {
    int64_t lo, step;
    atomic_int next;
    atomic_bool failed;
    s_chunk_t chunk[S_CHUNKS];
};

ho_report_error_t ho_rrules_job_new(ho_rctx_t *ctx, ho_rrules_job_t **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_LEAD_ID_BOUNDS, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int s = sqlite3_step(st);
    int64_t lo = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t hi = s == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0; /* NULLs: 0, 0 */
    sqlite3_reset(st);
    if (s != SQLITE_ROW) {
        return ho_rsql_fail(ctx, "learnings rules: lead ids");
    }
    ho_rrules_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "learnings: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    job->lo = lo;
    job->step = (hi - lo) / S_CHUNKS + 1;
    atomic_init(&job->next, 0);
    atomic_init(&job->failed, false);
    *out = job;
    return HO_REPORT_OK;
}

void ho_rrules_job_work(ho_rctx_t *ctx, ho_rrules_job_t *job)
{
    int i;
    while (!atomic_load(&job->failed) && (i = atomic_fetch_add(&job->next, 1)) < S_CHUNKS) {
        s_chunk_t *c = &job->chunk[i];
        c->a.cap = S_CHUNK_RULES;
        c->a.acc = calloc(S_CHUNK_RULES, sizeof *c->a.acc);
        int64_t a = job->lo + job->step * i;
        /* the last range is open-ended: nothing past the greatest id is left out */
        c->rc = s_rules_scan(ctx, a, i == S_CHUNKS - 1 ? INT64_MAX : a + job->step, &c->a);
        if (c->rc != HO_REPORT_OK) {
            c->err = *ctx->err;
            atomic_store(&job->failed, true);
        }
    }
}

/* Add the sums of rule r (of a range) to dst's, the rule added when new and dst not full. */
static bool s_merge_rule(s_rules_t *dst, const s_rule_acc_t *r)
{
    s_rule_acc_t *d = s_acc_of(dst, r->rule, r->rule_n);
    if (!d) {
        return !dst->nomem;
    }
    if (s_kind_gt(r->kind, r->kind_n, d->kind, d->kind_n)) {
        char *kind = strndup(r->kind, r->kind_n);
        if (!kind) {
            return false;
        }
        free(d->kind);
        d->kind = kind;
        d->kind_n = r->kind_n;
    }
    d->pts += r->pts;
    d->n += r->n;
    d->sal += r->sal;
    d->sql += r->sql;
    return true;
}

ho_report_error_t ho_rrules_job_finish(ho_rctx_t *ctx, ho_rrules_job_t *job, ho_rrules_t **out)
{
    *out = NULL;
    for (int i = 0; i < S_CHUNKS; i++) {
        if (job->chunk[i].rc != HO_REPORT_OK) {
            *ctx->err = job->chunk[i].err;
            return job->chunk[i].rc;
        }
    }
    ho_rrules_t *self = calloc(1, sizeof *self);
    bool ok = self && (self->a.acc = calloc(S_MAX_RULES, sizeof *self->a.acc));
    if (self) {
        self->a.cap = S_MAX_RULES;
    }
    for (int i = 0; ok && i < S_CHUNKS; i++) {
        const s_rules_t *c = &job->chunk[i].a;
        ok = atomic_load(&job->next) > i && c->acc; /* every range summed */
        for (size_t k = 0; ok && k < c->nacc; k++) {
            ok = s_merge_rule(&self->a, &c->acc[k]);
        }
    }
    if (!ok) {
        ho_rrules_destroy(&self);
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "learnings: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    *out = self;
    return HO_REPORT_OK;
}

void ho_rrules_job_destroy(ho_rrules_job_t **job_p)
{
    ho_rrules_job_t *job = *job_p;
    if (!job) {
        return;
    }
    for (int i = 0; i < S_CHUNKS; i++) {
        s_rules_free(&job->chunk[i].a);
    }
    free(job);
    *job_p = NULL;
}

ho_report_error_t ho_report_rules_each(ho_rctx_t *ctx, ho_report_rule_fn *fn, void *arg,
                                       double base[3])
{
    ho_report_error_t rc = s_base(ctx, true, base);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    /* the pass made beside the others (ctx->rules, workbook.c), else made now */
    ho_rrules_t *own = NULL, *rules = ctx->rules;
    if (!rules) {
        if ((rc = ho_report_rules_scan(ctx, &own)) != HO_REPORT_OK) {
            return rc;
        }
        rules = own;
    }
    s_rule_acc_t *acc = rules->a.acc;
    size_t nacc = rules->a.nacc;
    qsort(acc, nacc, sizeof *acc, s_rule_cmp); /* rule order, byte-wise */
    for (size_t i = 0; i < nacc; i++) {
        ho_report_rule_t r = {.rule = acc[i].rule,
                              .kind = acc[i].kind ? acc[i].kind : "",
                              .points = acc[i].pts / acc[i].n,
                              .n = acc[i].n,
                              .sal = acc[i].sal,
                              .sql = acc[i].sql};
        r.has_lift = s_rr(r.sql, r.n, base[2] - r.sql, base[0] - r.n, &r.sql_lift, &r.lo, &r.hi);
        r.verdict = s_verdict(r.points, r.n, r.has_lift ? r.lo : NAN, r.has_lift ? r.hi : NAN);
        r.against =
            !strncmp(r.verdict, "CONTRADICTED", 12) || !strncmp(r.verdict, "NOT SUPPORTED", 13);
        fn(arg, &r);
    }
    ho_rrules_destroy(&own);
    return HO_REPORT_OK;
}

typedef struct {
    ho_rctx_t *ctx;
    lxw_worksheet *ws;
    lxw_row_t row;
    const double *base;
} s_rows_t;

static void s_rule_row(void *arg, const ho_report_rule_t *r)
{
    s_rows_t *a = arg;
    ho_rctx_t *ctx = a->ctx;
    worksheet_write_string(a->ws, a->row, 0, r->rule, ctx->f_text);
    worksheet_write_string(a->ws, a->row, 1, r->kind, ctx->f_text);
    worksheet_write_number(a->ws, a->row, 2, r->points, ctx->f_dhours);
    double g[3] = {r->n, r->sal, r->sql}, lo, hi;
    ho_rlift_t m = {.a = (char *)r->rule,
                    .b = (char *)r->kind,
                    .points = r->points,
                    .verdict = r->verdict,
                    .against = r->against};
    s_lift_cells(ctx, a->ws, a->row, 3, g, a->base, &lo, &hi, &m);
    worksheet_write_string(a->ws, a->row, 10, r->verdict, r->against ? ctx->f_bad : ctx->f_text);
    ho_rmodel_rule(&ctx->model, &m);
    a->row++;
}

static ho_report_error_t s_rules(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    double b[3];
    ho_report_error_t rc = s_base(ctx, true, b);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    char t[260];
    snprintf(t, sizeof t,
             "Scoring rules: leads whose score at MQL (never MQL: latest before the end of %s) "
             "has the rule, against the scored leads without it (%.0f scored leads: SAL "
             "%.1f%%, SQL %.1f%%)",
             ctx->weeks[HO_RW_THIS].label, b[0], b[0] > 0 ? 100 * b[1] / b[0] : 0,
             b[0] > 0 ? 100 * b[2] / b[0] : 0);
    worksheet_write_string(ws, *row, 0, t, ctx->f_bold);
    (*row)++;
    static const char *const cols[] = {"Rule",
                                       "Kind",
                                       "Average points",
                                       "Leads",
                                       "SAL rate",
                                       "SAL lift",
                                       "SQL rate",
                                       "SQL lift",
                                       "SQL lift, 95% low",
                                       "SQL lift, 95% high",
                                       "Verdict"};
    ho_rheader(ctx, ws, *row, cols, 11);
    (*row)++;
    memcpy(ctx->model.rules_base, b, sizeof b);
    s_rows_t a = {.ctx = ctx, .ws = ws, .row = *row, .base = b};
    rc = ho_report_rules_each(ctx, s_rule_row, &a, b);
    *row = a.row + 1;
    return rc;
}

static ho_report_error_t s_sources(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    double b[3];
    ho_report_error_t rc = s_base(ctx, false, b);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_stmt *st;
    rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_LEARNINGS_SOURCES, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    memcpy(ctx->model.src_base, b, sizeof b);
    char t[200];
    snprintf(t, sizeof t,
             "Sources and campaigns, against all other leads (%.0f leads: SAL %.1f%%, SQL "
             "%.1f%%): bring in more like the ones above 1, fewer like the ones below",
             b[0], b[0] > 0 ? 100 * b[1] / b[0] : 0, b[0] > 0 ? 100 * b[2] / b[0] : 0);
    worksheet_write_string(ws, *row, 0, t, ctx->f_bold);
    (*row)++;
    static const char *const cols[] = {"Channel",
                                       "Source",
                                       "Campaign",
                                       "Leads",
                                       "SAL rate",
                                       "SAL lift",
                                       "SQL rate",
                                       "SQL lift",
                                       "SQL lift, 95% low",
                                       "SQL lift, 95% high",
                                       "Reading"};
    ho_rheader(ctx, ws, *row, cols, 11);
    (*row)++;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        double g[3] = {(double)sqlite3_column_int64(st, 3), (double)sqlite3_column_int64(st, 4),
                       (double)sqlite3_column_int64(st, 5)};
        char cl[256];
        worksheet_write_string(ws, *row, 0, ho_rchannel_label(ho_rcol_text(st, 0), cl, sizeof cl),
                               ctx->f_text);
        worksheet_write_string(ws, *row, 1, ho_rcol_text(st, 1), ctx->f_text);
        worksheet_write_string(ws, *row, 2, ho_rcol_text(st, 2), ctx->f_text);
        double lo, hi;
        ho_rlift_t m = {.a = (char *)ho_rcol_text(st, 0),
                        .b = (char *)ho_rcol_text(st, 1),
                        .c = (char *)ho_rcol_text(st, 2)};
        s_lift_cells(ctx, ws, *row, 3, g, b, &lo, &hi, &m);
        const char *v = g[0] < S_MIN_N || isnan(lo) ? "too few leads to judge"
                        : lo > 1                    ? "better than average: more like these"
                        : hi < 1                    ? "worse than average: fewer like these"
                                                    : "like the average";
        worksheet_write_string(ws, *row, 10, v, ctx->f_text);
        if (ctx->html) { /* one row per campaign: streamed to the page, not kept */
            m.verdict = v;
            ho_rhtml_lift_row(ctx, &m);
        }
        (*row)++;
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "learnings sources");
}

ho_report_error_t ho_report_learnings(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    char sub[260];
    snprintf(sub, sizeof sub,
             "Leads created %s..%s; SAL and SQL reached by the end of %s. Lift = the group's "
             "rate / the rate of the leads outside it, 95%% interval (Katz); %d+ leads to judge.",
             ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label,
             S_MIN_N);
    ho_rtitle(ctx, ws, "Learnings: what the outcomes say about the model and the sources", sub);
    ho_rcols(ctx, ws, 0, 0, 20);
    ho_rcols(ctx, ws, 1, 2, 16);
    ho_rcols(ctx, ws, 3, 7, 10);
    ho_rcols(ctx, ws, 8, 9, 11);
    ho_rcols(ctx, ws, 10, 10, 44);
    lxw_row_t row = 3;
    ho_report_error_t rc = s_rules(ctx, ws, &row);
    if (rc == HO_REPORT_OK) {
        rc = s_sources(ctx, ws, &row);
    }
    ho_rprogress(ctx, "Learnings", (int64_t)row, true);
    return rc;
}
