/* funnel.c - the Funnel sheet: the weekly MQL cohorts of the last 12 weeks, how many of
 * each reached SAL, SQL, opportunity and won by the end of the report week, and the
 * stage-to-stage conversion (reports/README.md, "Funnel"). */
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

ho_report_error_t ho_report_funnel(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    double(*v)[5] = ctx->model.funnel; /* the model: the HTML page's trend chart reads it */
    memset(ctx->model.funnel, 0, sizeof ctx->model.funnel);
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(
        ctx,
        "SELECT c.idx, count(*), count(CASE WHEN c.sal >= c.e THEN 1 END),"
        " count(CASE WHEN c.sql >= c.e THEN 1 END), count(CASE WHEN c.opp >= c.e THEN 1 END),"
        " count(CASE WHEN c.won >= c.e THEN 1 END)"
        " FROM temp.cohort c WHERE c.idx < 12 GROUP BY c.idx",
        &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int idx = sqlite3_column_int(st, 0);
        if (idx >= 0 && idx < HO_RW) {
            for (int k = 0; k < 5; k++) {
                v[idx][k] = (double)sqlite3_column_int64(st, k + 1);
            }
        }
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "funnel");
    }

    char sub[200];
    snprintf(sub, sizeof sub,
             "Cohort = leads that entered MQL in the week; stages reached by the end of %s "
             "(time zone %s)",
             ctx->weeks[HO_RW_THIS].label, ctx->tz);
    ho_rtitle(ctx, ws, "Funnel by weekly MQL cohort (last 12 weeks)", sub);
    static const char *const cols[] = {
        "MQL cohort",
        "Week starts",
        "MQL",
        "SAL",
        "SQL",
        "Opportunity",
        "Won",
        "MQL\xe2\x86\x92SAL",
        "SAL\xe2\x86\x92SQL",
        "SQL\xe2\x86\x92Opp",
        "Opp\xe2\x86\x92Won",
        "MQL\xe2\x86\x92SQL",
        "MQL\xe2\x86\x92Won",
        "Maturity",
    };
    ho_rcols(ctx, ws, 0, 0, 12);
    ho_rcols(ctx, ws, 1, 1, 12);
    ho_rcols(ctx, ws, 2, 6, 11);
    ho_rcols(ctx, ws, 7, 12, 10);
    ho_rcols(ctx, ws, 13, 13, 24);
    ho_rheader(ctx, ws, 3, cols, 14);
    worksheet_freeze_panes(ws, 4, 1);
    lxw_row_t first = 4;
    for (int i = 0; i < HO_RW; i++) {
        lxw_row_t row = first + (lxw_row_t)i;
        worksheet_write_string(ws, row, 0, ctx->weeks[i].label, ctx->f_text);
        lxw_datetime d = ho_rdate_of_days(ctx->weeks[i].monday);
        worksheet_write_datetime(ws, row, 1, &d, ctx->f_date);
        for (int k = 0; k < 5; k++) {
            worksheet_write_number(ws, row, (lxw_col_t)(2 + k), v[i][k], ctx->f_int);
        }
        for (int k = 0; k < 4; k++) {
            ho_rrate(ctx, ws, row, (lxw_col_t)(7 + k), v[i][k + 1], v[i][k], NULL);
        }
        ho_rrate(ctx, ws, row, 11, v[i][2], v[i][0], NULL);
        ho_rrate(ctx, ws, row, 12, v[i][4], v[i][0], NULL);
        /* young cohorts had less time to convert: their rates are not comparable yet */
        worksheet_write_string(ws, row, 13,
                               i >= HO_RW - HO_IMMATURE_WEEKS ? "immature (< 4 weeks old)" : "",
                               ctx->f_note);
    }
    lxw_row_t last = first + HO_RW - 1;

    lxw_chart *chart = ho_rchart(ctx, LXW_CHART_COLUMN);
    if (!chart) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "funnel: cannot create chart");
        return HO_REPORT_ERR_XLSX;
    }
    for (int k = 0; k < 5; k++) {
        lxw_chart_series *ser = chart_add_series(chart, NULL, NULL);
        chart_series_set_categories(ser, "Funnel", first, 0, last, 0);
        chart_series_set_values(ser, "Funnel", first, (lxw_col_t)(2 + k), last, (lxw_col_t)(2 + k));
        chart_series_set_name_range(ser, "Funnel", 3, (lxw_col_t)(2 + k));
    }
    chart_title_set_name(chart, "MQL cohorts: stages reached");
    chart_axis_set_name(chart->x_axis, "MQL cohort week");
    chart_axis_set_name(chart->y_axis, "Leads");
    chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options co = {.x_scale = 2.0, .y_scale = 1.3};
    worksheet_insert_chart_opt(ws, last + 3, 0, chart, &co);
    ho_rprogress(ctx, "Funnel", HO_RW, true);
    return HO_REPORT_OK;
}
