/* stages.c - the report's one pass over the stage changes (report_int.h, "the stage pass").
 *
 * Summary's stage counts and velocities, the MQL cohorts of Summary and Funnel and the report
 * week's cohort that Handoffs lists all read the transitions before as_of. As SQL they were a
 * count(DISTINCT lead_id) per period and stage, a min(at) per period and lead, and a
 * correlated lookup per SAL or SQL entry, over the ~1.3M transitions of a 1M-lead store's 12
 * weeks: 1.4-1.8 CPU-s each, mostly SQLite's sorter. Here one scan reads every transition
 * before as_of in (lead_id, at, id) order (the index stage_history_lead gives that order, so
 * nothing is sorted, and since schema 9 every column read, so the table is not read: the whole
 * pass, its inserts included, costs ~0.2-0.35 CPU-s there) and works
 * each lead's rows out together, with the definitions of the SQL it replaces
 * (reports/README.md):
 *   - stage counts: per period and stage, whether the lead entered it in the period (so it
 *     counts once however often it did);
 *   - velocity: for each SAL (SQL) entry in a period, the time since the lead's latest MQL
 *     (SAL) entry at or before it, over all its history; a period's median of those;
 *   - cohorts: per period, the lead's first MQL entry in it (e), and whether it reached SAL,
 *     SQL, opportunity, won at or after e -- its latest entry before as_of into that stage or
 *     a later one (what temp.reach holds) is >= e;
 *   - the report week's cohort: the lead, e, and its latest stage before as_of.
 * The results go into four small temp tables the sheets' queries read (the week's cohort
 * has a row per lead: ~30k on that store). Memory: one lead's rows, and the velocity values
 * of the 12 weeks (a median needs them all). */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define NP (HO_P4 + 1) /* periods: 12 weeks + the 4-week window */

/* The stages told apart: the funnel's in order (the "at least" set of one is it and those
 * after it), RECYCLED, then any other. */
enum { S_MQL, S_SAL, S_SQL, S_OPP, S_WON, S_RECYCLED, S_COUNTED, S_OTHER = S_COUNTED };
static const char *const s_names[S_COUNTED] = {"MQL",         "SAL", "SQL",
                                               "OPPORTUNITY", "WON", "RECYCLED"};

typedef struct {
    int64_t at;
    int stage;
    unsigned periods; /* bit i: the entry is in period i (within the 12 weeks) */
} s_row_t;

typedef struct {
    int64_t *v;
    size_t n, cap;
} s_vals_t;

typedef struct {
    ho_rctx_t *ctx;
    int64_t a[NP], b[NP]; /* the periods */
    /* the lead at hand: its rows in (at, id) order, the to_stage of the last */
    int64_t lead;
    s_row_t *rows;
    size_t nrows, caprows;
    int last;
    char *last_text; /* when last is S_OTHER */
    size_t last_cap;
    /* the results */
    int64_t counts[NP][S_COUNTED];
    int64_t cohort[NP][5]; /* cohort size, then reached SAL, SQL, opportunity, won */
    s_vals_t vel[2][NP];   /* by from stage: milliseconds MQL -> SAL, SAL -> SQL */
    sqlite3_stmt *week_row;
    bool nomem;
} s_pass_t;

static int s_stage(const char *t)
{
    for (int i = 0; i < S_COUNTED; i++) {
        if (!strcmp(t, s_names[i])) {
            return i;
        }
    }
    return S_OTHER;
}

static unsigned s_periods(const s_pass_t *ps, int64_t at)
{
    unsigned m = 0;
    if (at < ps->ctx->win12_a || at >= ps->ctx->as_of) {
        return 0;
    }
    for (int i = 0; i < NP; i++) {
        if (at >= ps->a[i] && at < ps->b[i]) {
            m |= 1u << i;
        }
    }
    return m;
}

static bool s_push(s_pass_t *ps, s_vals_t *vs, int64_t v)
{
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 1024;
        int64_t *nv = realloc(vs->v, cap * sizeof *nv);
        if (!nv) {
            ps->nomem = true;
            return false;
        }
        vs->v = nv;
        vs->cap = cap;
    }
    vs->v[vs->n++] = v;
    return true;
}

/* The lead's velocity values. Entries at the same instant are "at or before" each other
 * whatever their order, so each run of equal `at` first updates the latest MQL and SAL
 * entries, then measures its SAL and SQL entries against them. */
static bool s_lead_velocity(s_pass_t *ps)
{
    const s_row_t *r = ps->rows;
    int64_t latest[2] = {0, 0}; /* by stage: the latest MQL, SAL entry so far */
    bool has[2] = {false, false};
    for (size_t i = 0, j; i < ps->nrows; i = j) {
        for (j = i; j < ps->nrows && r[j].at == r[i].at; j++) {
            if (r[j].stage == S_MQL || r[j].stage == S_SAL) {
                latest[r[j].stage] = r[j].at;
                has[r[j].stage] = true;
            }
        }
        for (size_t k = i; k < j; k++) {
            int from = r[k].stage == S_SAL ? S_MQL : r[k].stage == S_SQL ? S_SAL : -1;
            if (from < 0 || !has[from] || !r[k].periods) {
                continue;
            }
            for (int p = 0; p < NP; p++) {
                if ((r[k].periods >> p & 1u) &&
                    !s_push(ps, &ps->vel[from][p], r[k].at - latest[from])) {
                    return false;
                }
            }
        }
    }
    return true;
}

/* The report week's cohort row of the lead: its first MQL entry of the week, its latest
 * stage. */
static bool s_week_row(s_pass_t *ps, int64_t e)
{
    sqlite3_stmt *st = ps->week_row;
    sqlite3_bind_int64(st, 1, ps->lead);
    sqlite3_bind_int64(st, 2, e);
    sqlite3_bind_text(st, 3, ps->last < S_COUNTED ? s_names[ps->last] : ps->last_text, -1,
                      SQLITE_STATIC);
    return ho_reader_exec(ps->ctx->rd, st, NULL) == HO_OK;
}

/* Everything of the lead at hand; false when the week's row cannot be written (or out of
 * memory). */
static bool s_lead(s_pass_t *ps)
{
    unsigned entered[S_COUNTED] = {0}; /* per stage: the periods it was entered in */
    unsigned cohorts = 0;              /* the periods with an MQL entry */
    int64_t e[NP] = {0};               /* the first MQL entry of each */
    int64_t reach[5] = {0};            /* the latest entry into stage k or a later one */
    bool has_reach[5] = {false};
    for (size_t i = 0; i < ps->nrows; i++) {
        const s_row_t *r = &ps->rows[i];
        if (r->stage < S_COUNTED) {
            entered[r->stage] |= r->periods;
        }
        if (r->stage == S_MQL) {
            for (int p = 0; p < NP; p++) {
                if ((r->periods & ~cohorts) >> p & 1u) {
                    e[p] = r->at;
                }
            }
            cohorts |= r->periods;
        }
        for (int k = 0; k <= r->stage && r->stage <= S_WON; k++) {
            reach[k] = r->at; /* rows come in time order: the last is the latest */
            has_reach[k] = true;
        }
    }
    for (int p = 0; p < NP; p++) {
        for (int s = 0; s < S_COUNTED; s++) {
            ps->counts[p][s] += entered[s] >> p & 1u;
        }
        if (cohorts >> p & 1u) {
            ps->cohort[p][0]++;
            for (int k = S_SAL; k <= S_WON; k++) {
                ps->cohort[p][k] += has_reach[k] && reach[k] >= e[p];
            }
        }
    }
    return s_lead_velocity(ps) && (!(cohorts >> HO_RW_THIS & 1u) || s_week_row(ps, e[HO_RW_THIS]));
}

/* One scan row into the lead at hand (the lead before it worked out first). */
static bool s_add(s_pass_t *ps, sqlite3_stmt *st)
{
    int64_t lead = sqlite3_column_int64(st, 0);
    if (ps->nrows && lead != ps->lead) {
        if (!s_lead(ps)) {
            return false;
        }
        ps->nrows = 0;
    }
    ps->lead = lead;
    if (ps->nrows == ps->caprows) {
        size_t cap = ps->caprows ? ps->caprows * 2 : 64;
        s_row_t *nr = realloc(ps->rows, cap * sizeof *nr);
        if (!nr) {
            ps->nomem = true;
            return false;
        }
        ps->rows = nr;
        ps->caprows = cap;
    }
    const char *stage = ho_rcol_text(st, 2);
    s_row_t *r = &ps->rows[ps->nrows++];
    r->at = sqlite3_column_int64(st, 1);
    r->stage = s_stage(stage);
    r->periods = s_periods(ps, r->at);
    ps->last = r->stage;
    if (r->stage == S_OTHER) {
        size_t len = strlen(stage) + 1;
        if (len > ps->last_cap) {
            char *t = realloc(ps->last_text, len);
            if (!t) {
                ps->nomem = true;
                return false;
            }
            ps->last_text = t;
            ps->last_cap = len;
        }
        memcpy(ps->last_text, stage, len);
    }
    return true;
}

/* The scan, lead by lead. */
static ho_report_error_t s_scan(s_pass_t *ps)
{
    ho_rctx_t *ctx = ps->ctx;
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SETUP_WEEK_COHORT_ROW, &ps->week_row);
    if (rc != HO_REPORT_OK ||
        (rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_STAGES_SCAN, &st)) != HO_REPORT_OK) {
        return rc;
    }
    int s;
    bool ok = true;
    while (ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        ok = s_add(ps, st);
    }
    sqlite3_reset(st);
    if (ok && s == SQLITE_DONE && ps->nrows) {
        ok = s_lead(ps);
    }
    if (ps->nomem) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "stage pass: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    return ok && s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "stage pass");
}

/* A row of counts into the temp table of ins: idx, then n values (text when names). */
static bool s_write_row(ho_rctx_t *ctx, sqlite3_stmt *ins, int idx, const char *name,
                        const int64_t *v, int n)
{
    int c = 1;
    sqlite3_bind_int(ins, c++, idx);
    if (name) {
        sqlite3_bind_text(ins, c++, name, -1, SQLITE_STATIC);
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(ins, c++, v[i]);
    }
    return ho_reader_exec(ctx->rd, ins, NULL) == HO_OK;
}

/* The per-period results into their tables (as GROUP BY gave them: no row for an empty
 * group). */
static ho_report_error_t s_write(s_pass_t *ps)
{
    ho_rctx_t *ctx = ps->ctx;
    sqlite3_stmt *counts, *cohort, *vel;
    ho_report_error_t rc;
    if ((rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SETUP_STAGE_COUNTS_ROW, &counts)) != HO_REPORT_OK ||
        (rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SETUP_COHORT_COUNTS_ROW, &cohort)) !=
            HO_REPORT_OK ||
        (rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SETUP_VELOCITY_ROW, &vel)) != HO_REPORT_OK) {
        return rc;
    }
    bool ok = true;
    for (int p = 0; p < NP && ok; p++) {
        for (int s = 0; s < S_COUNTED && ok; s++) {
            ok = !ps->counts[p][s] || s_write_row(ctx, counts, p, s_names[s], &ps->counts[p][s], 1);
        }
        ok = ok && (!ps->cohort[p][0] || s_write_row(ctx, cohort, p, NULL, ps->cohort[p], 5));
        for (int from = S_MQL; from <= S_SAL && ok; from++) {
            double m;
            if (ho_report_median(ps->vel[from][p].v, ps->vel[from][p].n, &m)) {
                sqlite3_bind_int(vel, 1, p);
                sqlite3_bind_text(vel, 2, s_names[from], -1, SQLITE_STATIC);
                sqlite3_bind_text(vel, 3, s_names[from + 1], -1, SQLITE_STATIC);
                sqlite3_bind_double(vel, 4, m);
                ok = ho_reader_exec(ctx->rd, vel, NULL) == HO_OK;
            }
        }
    }
    return ok ? HO_REPORT_OK : ho_rsql_fail(ctx, "stage pass");
}

static void s_free(s_pass_t *ps)
{
    for (int from = S_MQL; from <= S_SAL; from++) {
        for (int p = 0; p < NP; p++) {
            free(ps->vel[from][p].v);
        }
    }
    free(ps->rows);
    free(ps->last_text);
}

ho_report_error_t ho_report_stages(ho_rctx_t *ctx)
{
    static const ho_rq_t tables[] = {
        HO_RQ_REPORT_SETUP_STAGE_COUNTS,
        HO_RQ_REPORT_SETUP_VELOCITY,
        HO_RQ_REPORT_SETUP_COHORT_COUNTS,
        HO_RQ_REPORT_SETUP_WEEK_COHORT,
    };
    ho_report_error_t rc = HO_REPORT_OK;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && rc == HO_REPORT_OK; i++) {
        rc = ho_rsql_exec(ctx, tables[i]);
    }
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    s_pass_t *ps = calloc(1, sizeof *ps);
    if (!ps) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "stage pass: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    ps->ctx = ctx;
    for (int i = 0; i < NP; i++) {
        ho_rperiod_bounds(ctx, i, &ps->a[i], &ps->b[i]);
    }
    /* the week's cohort is written row by row as the scan goes: one setup run for all */
    if (ho_reader_setup_begin(ctx->rd, NULL) != HO_OK) {
        rc = ho_rsql_fail(ctx, "stage pass");
    } else {
        rc = s_scan(ps);
        if (rc == HO_REPORT_OK) {
            rc = s_write(ps);
        }
        if (ho_reader_setup_end(ctx->rd, NULL) != HO_OK && rc == HO_REPORT_OK) {
            rc = ho_rsql_fail(ctx, "stage pass");
        }
    }
    s_free(ps);
    free(ps);
    return rc;
}
