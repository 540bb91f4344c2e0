/* summary.c - the Summary sheet: the KPIs of the report week, last week, the delta and the
 * 4-week average (definitions: reports/README.md, "Summary"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define NP (HO_P4 + 1) /* periods: 12 weeks + the 4-week window */

typedef ho_rperiod_t s_period_t;

static ho_report_error_t s_query(ho_rctx_t *ctx, ho_rq_t q, s_period_t *p,
                                 void (*row)(s_period_t *p, sqlite3_stmt *st))
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, q, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int idx = sqlite3_column_int(st, 0);
        if (idx >= 0 && idx < NP) {
            row(&p[idx], st);
        }
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "summary");
}

static void s_row_leads(s_period_t *p, sqlite3_stmt *st)
{
    p->leads = (double)sqlite3_column_int64(st, 1);
}

static void s_row_stage(s_period_t *p, sqlite3_stmt *st)
{
    const char *stage = ho_rcol_text(st, 1);
    double n = (double)sqlite3_column_int64(st, 2);
    if (!strcmp(stage, "MQL")) {
        p->mql = n;
    } else if (!strcmp(stage, "SAL")) {
        p->sal = n;
    } else if (!strcmp(stage, "SQL")) {
        p->sql = n;
    } else if (!strcmp(stage, "OPPORTUNITY")) {
        p->opp = n;
    } else if (!strcmp(stage, "WON")) {
        p->won = n;
    } else if (!strcmp(stage, "RECYCLED")) {
        p->recycled = n;
    }
}

static void s_row_amount(s_period_t *p, sqlite3_stmt *st)
{
    p->won_amount = sqlite3_column_double(st, 1);
}

static void s_row_accept(s_period_t *p, sqlite3_stmt *st)
{
    p->accepted = (double)sqlite3_column_int64(st, 1);
    p->decided = (double)sqlite3_column_int64(st, 2);
}

static void s_row_lost(s_period_t *p, sqlite3_stmt *st)
{
    p->rejected = (double)sqlite3_column_int64(st, 1);
    p->lost = (double)sqlite3_column_int64(st, 2);
}

static void s_row_pipeline(s_period_t *p, sqlite3_stmt *st)
{
    p->pipeline = sqlite3_column_double(st, 1);
}

static void s_row_no_mql(s_period_t *p, sqlite3_stmt *st)
{
    p->no_mql = (double)sqlite3_column_int64(st, 1);
}

static void s_row_cohort(s_period_t *p, sqlite3_stmt *st)
{
    p->cohort = (double)sqlite3_column_int64(st, 1);
    p->cohort_sql = (double)sqlite3_column_int64(st, 2);
}

static void s_row_sla(s_period_t *p, sqlite3_stmt *st)
{
    p->sla = (double)sqlite3_column_int64(st, 1);
}

/* the median time to accept (ms), computed by the assignments pass (scans.c), in hours */
static void s_row_time_to_accept(s_period_t *p, sqlite3_stmt *st)
{
    p->has_med[0] = true;
    p->med[0] = sqlite3_column_double(st, 1) / 3600000.0;
}

/* Velocity: days from the latest `from` entry at or before each `to` entry in a period
 * (transitions with no `from` before them, e.g. sales working a lead never MQL, are left
 * out). The stage pass (stages.c) has the median of each period. */
static ho_report_error_t s_velocity(ho_rctx_t *ctx, s_period_t *p, const char *to, const char *from,
                                    int which)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SUMMARY_VELOCITY, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int idx = sqlite3_column_int(st, 0);
        if (idx >= 0 && idx < NP) {
            p[idx].has_med[which] = true;
            p[idx].med[which] = sqlite3_column_double(st, 1) / 86400000.0;
        }
    }
    sqlite3_reset(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "summary velocity");
}

typedef struct {
    const char *name;
    ho_rkind_t kind;
    size_t off;     /* count/money: the value; rate: numerator */
    size_t off_den; /* rate: denominator */
    const char *note;
} s_metric_t;

#define OFF(f) offsetof(s_period_t, f)

static const s_metric_t s_metrics[] = {
    {"Leads", HO_RK_COUNT, OFF(leads), 0, "new leads: created_at in the week"},
    {"MQLs", HO_RK_COUNT, OFF(mql), 0, "leads that entered MQL in the week"},
    {"SALs", HO_RK_COUNT, OFF(sal), 0,
     "leads whose accepted outcome (recorded or implied) occurred in the period"},
    {"SQLs", HO_RK_COUNT, OFF(sql), 0, "leads that entered SQL"},
    {"Opportunities", HO_RK_COUNT, OFF(opp), 0, "leads that entered OPPORTUNITY"},
    {"Won", HO_RK_COUNT, OFF(won), 0, "leads that entered WON"},
    {"Won amount", HO_RK_MONEY, OFF(won_amount), 0, "sum of won amounts recorded in the week"},
    {"Rejected", HO_RK_COUNT, OFF(rejected), 0,
     "rejected outcomes (sales refused the lead) in the week"},
    {"Lost", HO_RK_COUNT, OFF(lost), 0, "lost outcomes (closed lost) recorded in the week"},
    {"Outcomes on leads marketing never qualified", HO_RK_COUNT, OFF(no_mql), 0,
     "sales outcomes recorded in the week on leads that never were MQL (the model missed them)"},
    {"MQL\xe2\x86\x92SQL rate", HO_RK_RATE, OFF(cohort_sql), OFF(cohort),
     "share of the week's MQL cohort that reached SQL by the end of the report week"},
    {"SAL acceptance rate", HO_RK_RATE, OFF(accepted), OFF(decided),
     "accepted / (accepted + rejected) outcomes recorded in the week"},
    {"Pipeline opened", HO_RK_MONEY, OFF(pipeline), 0,
     "sum of the amounts of opportunity outcomes recorded in the week"},
    {"Median days MQL\xe2\x86\x92SAL", HO_RK_HOURS, 1, 0,
     "median days from the MQL entry before it to each SAL entry in the week"},
    {"Median days SAL\xe2\x86\x92SQL", HO_RK_HOURS, 2, 0,
     "median days from the SAL entry before it to each SQL entry in the week"},
    {"Median assignment\xe2\x86\x92"
     "acceptance (h)",
     HO_RK_HOURS, 0, 0,
     "median hours from assignment to the rep's acceptance, assignments made in the week (not "
     "the first sales touch: no input dates one)"},
    {"SLA breaches", HO_RK_COUNT, OFF(sla), 0, "assignments with an SLA breach in the week"},
    {"Recycled", HO_RK_COUNT, OFF(recycled), 0, "leads that entered RECYCLED"},
};

static double s_get(const s_period_t *p, size_t off)
{
    return *(const double *)((const char *)p + off);
}

/* The this week, last week, delta and 4-week values of metric m (what both writers show). */
static void s_kpi(const s_metric_t *m, const s_period_t *p, ho_rkpi_t *k)
{
    const s_period_t *t = &p[HO_RW_THIS], *l = &p[HO_RW_LAST], *f = &p[HO_P4];
    k->kind = m->kind;
    k->note = m->note;
    switch (m->kind) {
    case HO_RK_COUNT:
    case HO_RK_MONEY: {
        double avg = 0;
        for (int w = HO_RW - 4; w < HO_RW; w++) {
            avg += s_get(&p[w], m->off);
        }
        k->v[0] = s_get(t, m->off);
        k->v[1] = s_get(l, m->off);
        k->v[2] = k->v[0] - k->v[1];
        k->v[3] = avg / 4.0;
        k->has[0] = k->has[1] = k->has[2] = k->has[3] = true;
        break;
    }
    case HO_RK_RATE: {
        const s_period_t *ps[3] = {t, l, f};
        int at[3] = {0, 1, 3};
        for (int i = 0; i < 3; i++) {
            double d = s_get(ps[i], m->off_den);
            k->has[at[i]] = d > 0;
            k->v[at[i]] = d > 0 ? s_get(ps[i], m->off) / d : 0;
        }
        k->has[2] = k->has[0] && k->has[1];
        k->v[2] = k->has[2] ? k->v[0] - k->v[1] : 0;
        break;
    }
    case HO_RK_HOURS: {
        const s_period_t *ps[3] = {t, l, f};
        int at[3] = {0, 1, 3};
        for (int i = 0; i < 3; i++) {
            k->has[at[i]] = ps[i]->has_med[m->off];
            k->v[at[i]] = k->has[at[i]] ? ps[i]->med[m->off] : 0;
        }
        k->has[2] = k->has[0] && k->has[1];
        k->v[2] = k->has[2] ? k->v[0] - k->v[1] : 0;
        break;
    }
    }
}

/* A Summary row from its model values. */
static void s_write_kpi(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const ho_rkpi_t *k)
{
    lxw_format *fv = k->kind == HO_RK_COUNT   ? ctx->f_int
                     : k->kind == HO_RK_MONEY ? ctx->f_money
                     : k->kind == HO_RK_RATE  ? ctx->f_pct
                                              : ctx->f_hours;
    lxw_format *fd = k->kind == HO_RK_COUNT   ? ctx->f_dint
                     : k->kind == HO_RK_MONEY ? ctx->f_dmoney
                     : k->kind == HO_RK_RATE  ? ctx->f_dpct
                                              : ctx->f_dhours;
    lxw_format *fa = k->kind == HO_RK_COUNT ? ctx->f_avg : fv;
    lxw_format *fmt[4] = {fv, fv, fd, fa};
    worksheet_write_string(ws, row, 0, k->name, ctx->f_bold);
    for (int i = 0; i < 4; i++) {
        if (k->has[i]) {
            worksheet_write_number(ws, row, (lxw_col_t)(1 + i), k->v[i], fmt[i]);
        } else {
            worksheet_write_blank(ws, row, (lxw_col_t)(1 + i), fmt[i]);
        }
    }
    worksheet_write_string(ws, row, 5, k->note, ctx->f_note);
}

/* SALs of a period: leads whose `accepted` outcome, recorded or implied, occurred in it
 * (CONTRACT-12 section 3) -- not every history row into SAL: a CRM export's stage is no
 * acceptance, and an acceptance the derivation flagged out_of_order moved nothing. Schemas
 * before outcomes.implied keep the history count. */
static ho_report_error_t s_sals(ho_rctx_t *ctx, s_period_t *p)
{
    if (!ctx->has_implied || !ctx->has_flags) {
        return HO_REPORT_OK;
    }
    for (int i = 0; i < NP; i++) {
        p[i].sal = 0;
    }
    return s_query(ctx, HO_RQ_REPORT_SUMMARY_SALS, p, s_row_stage);
}

/* Every metric of every period (the 12 weeks and the 4-week window). */
static ho_report_error_t s_collect(ho_rctx_t *ctx, s_period_t *p)
{
    ho_report_error_t rc;
    if ((rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_LEADS, p, s_row_leads)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_STAGES, p, s_row_stage)) != HO_REPORT_OK ||
        (rc = s_sals(ctx, p)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_WON_AMOUNT, p, s_row_amount)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_ACCEPTANCE, p, s_row_accept)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_COHORTS, p, s_row_cohort)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_SLA, p, s_row_sla)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_LOST, p, s_row_lost)) != HO_REPORT_OK ||
        (ctx->has_flags &&
         (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_NO_MQL, p, s_row_no_mql)) != HO_REPORT_OK) ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_PIPELINE, p, s_row_pipeline)) != HO_REPORT_OK ||
        (rc = s_query(ctx, HO_RQ_REPORT_SUMMARY_TIME_TO_ACCEPT, p, s_row_time_to_accept)) !=
            HO_REPORT_OK ||
        (rc = s_velocity(ctx, p, "SAL", "MQL", 1)) != HO_REPORT_OK ||
        (rc = s_velocity(ctx, p, "SQL", "SAL", 2)) != HO_REPORT_OK) {
        return rc;
    }
    return HO_REPORT_OK;
}

/* The Summary rows into the model: names (amounts with their currency), values. */
static void s_kpis(ho_rctx_t *ctx, const s_period_t *p)
{
    ctx->model.nkpi = 0;
    for (size_t i = 0; i < sizeof s_metrics / sizeof s_metrics[0] && i < HO_RKPIS; i++) {
        const s_metric_t *m = &s_metrics[i];
        if (m->off == OFF(no_mql) && !ctx->has_flags) {
            continue; /* a store without outcome flags cannot tell: no row rather than a 0 */
        }
        ho_rkpi_t *k = &ctx->model.kpi[ctx->model.nkpi++];
        memset(k, 0, sizeof *k);
        if (m->kind == HO_RK_MONEY) { /* amounts carry their currency */
            snprintf(k->name, sizeof k->name, "%s (%s)", m->name,
                     ctx->opts->currency && *ctx->opts->currency ? ctx->opts->currency : "USD");
        } else {
            snprintf(k->name, sizeof k->name, "%s", m->name);
        }
        s_kpi(m, p, k);
    }
}

ho_report_error_t ho_report_summary(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    s_period_t p[NP];
    memset(p, 0, sizeof p);
    ho_report_error_t rc = s_collect(ctx, p);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    ctx->leads_week = (int64_t)p[HO_RW_THIS].leads;
    ctx->mqls_week = (int64_t)p[HO_RW_THIS].mql;
    s_kpis(ctx, p);

    const ho_rweek_t *w = &ctx->weeks[HO_RW_THIS];
    char title[96], sub[256];
    snprintf(title, sizeof title, "Weekly conversion report %s", w->label);
    int y1, m1, d1, y2, m2, d2;
    ho_civil_from_days(w->monday, &y1, &m1, &d1);
    ho_civil_from_days(w->monday + 6, &y2, &m2, &d2);
    snprintf(sub, sizeof sub,
             "Monday %04d-%02d-%02d to Sunday %04d-%02d-%02d, time zone %s. Data before the "
             "end of the week only. Definitions: the Definitions sheet",
             y1, m1, d1, y2, m2, d2, ctx->tz);
    ho_rtitle(ctx, ws, title, sub);
    char h4[32];
    snprintf(h4, sizeof h4, "4-week average (%s..%s)", ctx->weeks[HO_RW - 4].label + 5,
             w->label + 5);
    const char *cols[] = {"Metric", w->label, ctx->weeks[HO_RW_LAST].label,
                          "Delta",  h4,       "Definition"};
    ho_rcols(ctx, ws, 0, 0, 40);
    ho_rcols(ctx, ws, 1, 4, 14);
    ho_rcols(ctx, ws, 5, 5, 70);
    ho_rheader(ctx, ws, 3, cols, 6);
    worksheet_freeze_panes(ws, 4, 1);

    lxw_row_t row = 4;
    for (size_t i = 0; i < ctx->model.nkpi; i++, row++) {
        s_write_kpi(ctx, ws, row, &ctx->model.kpi[i]);
    }
    row++;
    worksheet_write_string(ws, row, 0,
                           "4-week average: counts and amounts are the mean of the four weekly "
                           "values; rates and the median are computed over the four weeks "
                           "together.",
                           ctx->f_note);
    row += 2;
    /* the headline metric's trend, beside the freshness table: the Funnel's MQL->SQL column */
    lxw_chart *chart = ho_rchart(ctx, LXW_CHART_LINE);
    if (chart) {
        lxw_chart_series *ser = chart_add_series(chart, NULL, NULL);
        chart_series_set_categories(ser, "Funnel", 4, 0, 4 + HO_RW - 1, 0);
        chart_series_set_values(ser, "Funnel", 4, 11, 4 + HO_RW - 1, 11);
        chart_series_set_name(ser, "MQL\xe2\x86\x92SQL");
        chart_series_set_marker_type(ser, LXW_CHART_MARKER_CIRCLE);
        chart_title_set_name(chart,
                             "MQL\xe2\x86\x92SQL by MQL cohort week (last 4 weeks immature)");
        chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
        chart_axis_set_name(chart->x_axis, "MQL cohort week");
        chart_axis_set_name(chart->y_axis, "Reached SQL");
        chart_axis_set_num_format(chart->y_axis, "0%");
        lxw_chart_options co = {.x_scale = 1.1, .y_scale = 1.0, .x_offset = 10};
        worksheet_insert_chart_opt(ws, row, 5, chart, &co);
    }
    ho_report_error_t frc = ho_report_freshness(ctx, ws, &row);
    ho_rprogress(ctx, "Summary", (int64_t)ctx->model.nkpi, true);
    return frc;
}
