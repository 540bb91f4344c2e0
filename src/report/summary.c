/* summary.c - the Summary sheet: the KPIs of the report week, last week, the delta and the
 * 4-week average (definitions: reports/README.md, "Summary"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define NP (HO_P4 + 1) /* periods: 12 weeks + the 4-week window */

typedef struct {
    double leads, mql, sal, sql, opp, won, won_amount, recycled, sla;
    double rejected, lost;     /* outcome rows recorded in the period */
    double no_mql;             /* outcome rows on leads marketing never qualified */
    double cohort, cohort_sql; /* MQL->SQL: cohort size and how many reached SQL */
    double accepted, decided;  /* SAL acceptance: accepted / (accepted + rejected) */
    double pipeline;           /* amounts of opportunity outcomes recorded in the period */
    bool has_med[3];           /* medians: assignment->acceptance (h), MQL->SAL, SAL->SQL (days) */
    double med[3];
} s_period_t;

static ho_report_error_t s_query(ho_rctx_t *ctx, const char *sql, s_period_t *p,
                                 void (*row)(s_period_t *p, sqlite3_stmt *st))
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, sql, &st);
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
    sqlite3_finalize(st);
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

/* Medians need every value: stream them ordered by period, cut at each period change.
 * sql yields (period, milliseconds); the median is stored as med[which] in unit ms. */
static ho_report_error_t s_medians(ho_rctx_t *ctx, s_period_t *p, const char *sql, int which,
                                   double unit)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, sql, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    size_t n = 0, cap = 0;
    int64_t *v = NULL;
    int cur = -1, s;
    for (;;) {
        s = sqlite3_step(st);
        int idx = s == SQLITE_ROW ? sqlite3_column_int(st, 0) : -2;
        if (idx != cur && cur >= 0 && cur < NP) {
            double m;
            if (ho_report_median(v, n, &m)) {
                p[cur].has_med[which] = true;
                p[cur].med[which] = m / unit;
            }
            n = 0;
        }
        if (s != SQLITE_ROW) {
            break;
        }
        cur = idx;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                free(v);
                sqlite3_finalize(st);
                ho_err_set(ctx->err, HO_ERR_NOMEM, "", "summary: out of memory");
                return HO_REPORT_ERR_NOMEM;
            }
            v = nv;
        }
        v[n++] = sqlite3_column_int64(st, 1);
    }
    free(v);
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "summary medians");
}

/* Velocity: days from the latest `from` entry at or before each `to` entry in a period
 * (transitions with no `from` before them, e.g. sales working a lead never MQL, are left
 * out). The lookup walks stage_history_lead (lead_id, at). */
static ho_report_error_t s_velocity(ho_rctx_t *ctx, s_period_t *p, const char *to, const char *from,
                                    int which)
{
    char sql[700];
    snprintf(sql, sizeof sql,
             "SELECT idx, d FROM (SELECT p.idx AS idx, h.at - (SELECT max(m.at) FROM"
             " temp.transitions m WHERE m.lead_id = h.lead_id AND m.to_stage = '%s'"
             " AND m.at <= h.at) AS d FROM temp.transitions h CROSS JOIN temp.periods p"
             " ON h.at >= p.a AND h.at < p.b WHERE h.to_stage = '%s' AND h.at >= :a12"
             " AND h.at < :asof) WHERE d IS NOT NULL ORDER BY idx",
             from, to);
    return s_medians(ctx, p, sql, which, 86400000.0);
}

typedef enum { K_COUNT, K_MONEY, K_RATE, K_HOURS } s_kind_t;

typedef struct {
    const char *name;
    s_kind_t kind;
    size_t off;     /* count/money: the value; rate: numerator */
    size_t off_den; /* rate: denominator */
    const char *note;
} s_metric_t;

#define OFF(f) offsetof(s_period_t, f)

static const s_metric_t s_metrics[] = {
    {"Leads", K_COUNT, OFF(leads), 0, "new leads: created_at in the week"},
    {"MQLs", K_COUNT, OFF(mql), 0, "leads that entered MQL in the week"},
    {"SALs", K_COUNT, OFF(sal), 0, "leads that entered SAL (accepted by sales)"},
    {"SQLs", K_COUNT, OFF(sql), 0, "leads that entered SQL"},
    {"Opportunities", K_COUNT, OFF(opp), 0, "leads that entered OPPORTUNITY"},
    {"Won", K_COUNT, OFF(won), 0, "leads that entered WON"},
    {"Won amount", K_MONEY, OFF(won_amount), 0, "sum of won amounts recorded in the week"},
    {"Rejected", K_COUNT, OFF(rejected), 0,
     "rejected outcomes (sales refused the lead) in the week"},
    {"Lost", K_COUNT, OFF(lost), 0, "lost outcomes (closed lost) recorded in the week"},
    {"Outcomes on leads marketing never qualified", K_COUNT, OFF(no_mql), 0,
     "sales outcomes recorded in the week on leads that never were MQL (the model missed them)"},
    {"MQL\xe2\x86\x92SQL rate", K_RATE, OFF(cohort_sql), OFF(cohort),
     "share of the week's MQL cohort that reached SQL by the end of the report week"},
    {"SAL acceptance rate", K_RATE, OFF(accepted), OFF(decided),
     "accepted / (accepted + rejected) outcomes recorded in the week"},
    {"Pipeline opened", K_MONEY, OFF(pipeline), 0,
     "sum of the amounts of opportunity outcomes recorded in the week"},
    {"Median days MQL\xe2\x86\x92SAL", K_HOURS, 1, 0,
     "median days from the MQL entry before it to each SAL entry in the week"},
    {"Median days SAL\xe2\x86\x92SQL", K_HOURS, 2, 0,
     "median days from the SAL entry before it to each SQL entry in the week"},
    {"Median assignment\xe2\x86\x92"
     "acceptance (h)",
     K_HOURS, 0, 0,
     "median hours from assignment to the rep's acceptance, assignments made in the week"},
    {"SLA breaches", K_COUNT, OFF(sla), 0, "assignments with an SLA breach in the week"},
    {"Recycled", K_COUNT, OFF(recycled), 0, "leads that entered RECYCLED"},
};

static double s_get(const s_period_t *p, size_t off)
{
    return *(const double *)((const char *)p + off);
}

/* The this week, last week, delta and 4-week columns of metric m in row. */
static void s_write_metric(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const s_metric_t *m,
                           const s_period_t *p)
{
    const s_period_t *t = &p[HO_RW_THIS], *l = &p[HO_RW_LAST], *f = &p[HO_P4];
    switch (m->kind) {
    case K_COUNT:
    case K_MONEY: {
        lxw_format *fv = m->kind == K_COUNT ? ctx->f_int : ctx->f_money;
        lxw_format *fd = m->kind == K_COUNT ? ctx->f_dint : ctx->f_dmoney;
        double a = s_get(t, m->off), b = s_get(l, m->off);
        double avg = 0;
        for (int k = HO_RW - 4; k < HO_RW; k++) {
            avg += s_get(&p[k], m->off);
        }
        worksheet_write_number(ws, row, 1, a, fv);
        worksheet_write_number(ws, row, 2, b, fv);
        worksheet_write_number(ws, row, 3, a - b, fd);
        worksheet_write_number(ws, row, 4, avg / 4.0,
                               m->kind == K_COUNT ? ctx->f_avg : ctx->f_money);
        break;
    }
    case K_RATE: {
        double tn = s_get(t, m->off), td = s_get(t, m->off_den);
        double ln = s_get(l, m->off), ld = s_get(l, m->off_den);
        ho_rrate(ctx, ws, row, 1, tn, td, NULL);
        ho_rrate(ctx, ws, row, 2, ln, ld, NULL);
        if (td > 0 && ld > 0) {
            worksheet_write_number(ws, row, 3, tn / td - ln / ld, ctx->f_dpct);
        } else {
            worksheet_write_blank(ws, row, 3, ctx->f_dpct);
        }
        ho_rrate(ctx, ws, row, 4, s_get(f, m->off), s_get(f, m->off_den), NULL);
        break;
    }
    case K_HOURS: {
        const s_period_t *ps[3] = {t, l, f};
        lxw_col_t cs[3] = {1, 2, 4};
        for (int k = 0; k < 3; k++) {
            if (ps[k]->has_med[m->off]) {
                worksheet_write_number(ws, row, cs[k], ps[k]->med[m->off], ctx->f_hours);
            } else {
                worksheet_write_blank(ws, row, cs[k], ctx->f_hours);
            }
        }
        if (t->has_med[m->off] && l->has_med[m->off]) {
            worksheet_write_number(ws, row, 3, t->med[m->off] - l->med[m->off], ctx->f_dhours);
        } else {
            worksheet_write_blank(ws, row, 3, ctx->f_dhours);
        }
        break;
    }
    }
}

/* Every metric of every period (the 12 weeks and the 4-week window). */
static ho_report_error_t s_collect(ho_rctx_t *ctx, s_period_t *p)
{
    ho_report_error_t rc;
    if ((rc = s_query(ctx,
                      "SELECT p.idx, count(*) FROM main.leads l CROSS JOIN temp.periods p"
                      " ON l.created_at >= p.a AND l.created_at < p.b"
                      " WHERE l.created_at >= :a12 AND l.created_at < :asof GROUP BY p.idx",
                      p, s_row_leads)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT p.idx, h.to_stage, count(DISTINCT h.lead_id)"
                      " FROM temp.transitions h CROSS JOIN temp.periods p"
                      " ON h.at >= p.a AND h.at < p.b"
                      " WHERE h.at >= :a12 AND h.at < :asof AND h.to_stage IN"
                      " ('MQL','SAL','SQL','OPPORTUNITY','WON','RECYCLED')"
                      " GROUP BY p.idx, h.to_stage",
                      p, s_row_stage)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT p.idx, total(o.amount) FROM main.outcomes o"
                      " CROSS JOIN temp.periods p"
                      " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                      " WHERE o.outcome = 'won' GROUP BY p.idx",
                      p, s_row_amount)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT p.idx, sum(o.outcome = 'accepted'), count(*)"
                      " FROM main.outcomes o CROSS JOIN temp.periods p"
                      " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                      " WHERE o.outcome IN ('accepted', 'rejected') GROUP BY p.idx",
                      p, s_row_accept)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT c.idx, count(*), count(CASE WHEN r.sql >= c.e THEN 1 END)"
                      " FROM temp.cohort c LEFT JOIN temp.reach r ON r.lead_id = c.lead_id"
                      " GROUP BY c.idx",
                      p, s_row_cohort)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT p.idx, count(DISTINCT b.assignment_id) FROM main.sla_breaches b"
                      " CROSS JOIN temp.periods p ON b.at >= p.a AND b.at < p.b GROUP BY p.idx",
                      p, s_row_sla)) != HO_REPORT_OK ||
        (rc = s_query(ctx,
                      "SELECT p.idx, sum(o.outcome = 'rejected'), sum(o.outcome = 'lost')"
                      " FROM main.outcomes o CROSS JOIN temp.periods p"
                      " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                      " WHERE o.outcome IN ('rejected', 'lost') GROUP BY p.idx",
                      p, s_row_lost)) != HO_REPORT_OK ||
        (ctx->has_flags &&
         (rc = s_query(ctx,
                       ctx->has_implied
                           ? "SELECT p.idx, count(*) FROM main.outcomes o CROSS JOIN temp.periods p"
                             " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                             " WHERE o.implied = 0 AND " HO_RSQL_NO_MQL " GROUP BY p.idx"
                           : "SELECT p.idx, count(*) FROM main.outcomes o CROSS JOIN temp.periods p"
                             " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                             " WHERE " HO_RSQL_NO_MQL " GROUP BY p.idx",
                       p, s_row_no_mql)) != HO_REPORT_OK) ||
        (rc = s_query(ctx,
                      "SELECT p.idx, total(o.amount) FROM main.outcomes o"
                      " CROSS JOIN temp.periods p"
                      " ON o.occurred_at >= p.a AND o.occurred_at < p.b"
                      " WHERE o.outcome = 'opportunity' GROUP BY p.idx",
                      p, s_row_pipeline)) != HO_REPORT_OK ||
        (rc = s_medians(ctx, p,
                        "SELECT p.idx, s.accepted_at - s.assigned_at FROM main.assignments s"
                        " CROSS JOIN temp.periods p ON s.assigned_at >= p.a AND s.assigned_at < p.b"
                        " WHERE s.accepted_at IS NOT NULL AND s.accepted_at < :asof ORDER BY p.idx",
                        0, 3600000.0)) != HO_REPORT_OK ||
        (rc = s_velocity(ctx, p, "SAL", "MQL", 1)) != HO_REPORT_OK ||
        (rc = s_velocity(ctx, p, "SQL", "SAL", 2)) != HO_REPORT_OK) {
        return rc;
    }
    return HO_REPORT_OK;
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
    for (size_t i = 0; i < sizeof s_metrics / sizeof s_metrics[0]; i++, row++) {
        const s_metric_t *m = &s_metrics[i];
        char name[128];
        if (m->kind == K_MONEY) { /* amounts carry their currency */
            snprintf(name, sizeof name, "%s (%s)", m->name,
                     ctx->opts->currency && *ctx->opts->currency ? ctx->opts->currency : "USD");
        } else {
            snprintf(name, sizeof name, "%s", m->name);
        }
        if (m->off == OFF(no_mql) && !ctx->has_flags) {
            row--; /* a store without outcome flags cannot tell: no row rather than a 0 */
            continue;
        }
        worksheet_write_string(ws, row, 0, name, ctx->f_bold);
        s_write_metric(ctx, ws, row, m, p);
        worksheet_write_string(ws, row, 5, m->note, ctx->f_note);
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
    ho_rprogress(ctx, "Summary", (int64_t)(sizeof s_metrics / sizeof s_metrics[0]), true);
    return frc;
}
