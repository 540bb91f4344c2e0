/* calibration.c - the Calibration sheet: of the scored leads created in the last 12 weeks,
 * how many reached MQL, SQL and won, by score band (10 points wide) and by quadrant. If
 * bands below the MQL threshold convert to SQL about as well as those above it, the
 * threshold is too high, and the other way round (reports/README.md, "Calibration"). */
#include <stdio.h>

#include "report/report_int.h"

#define S_FROM                                                                                     \
    " FROM main.leads l JOIN temp.score_asof sa ON sa.lead_id = l.id"                              \
    " LEFT JOIN temp.reach r ON r.lead_id = l.id"                                                  \
    " WHERE l.created_at >= :a12 AND l.created_at < :asof AND sa.score IS NOT NULL"

static ho_report_error_t s_table(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row,
                                 const char *head, const char *sql, bool band, lxw_row_t *first,
                                 lxw_row_t *last)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, sql, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    const char *cols[] = {head,       "Leads",    "MQL",
                          "SQL",      "Won",      "MQL rate",
                          "SQL rate", "Won rate", "MQL\xe2\x86\x92SQL"};
    ho_rheader(ctx, ws, *row, cols, 9);
    (*row)++;
    *first = *row;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (band) {
            char label[48];
            long long b = sqlite3_column_int64(st, 0);
            snprintf(label, sizeof label, "%lld\xe2\x80\x93%lld", b, b + 9);
            worksheet_write_string(ws, *row, 0, label, ctx->f_text);
        } else {
            worksheet_write_string(ws, *row, 0, ho_rquadrant_label(ho_rcol_text(st, 0)), ctx->f_text);
        }
        double n[4];
        for (int k = 0; k < 4; k++) {
            n[k] = (double)sqlite3_column_int64(st, 1 + k);
            worksheet_write_number(ws, *row, (lxw_col_t)(1 + k), n[k], ctx->f_int);
        }
        ho_rrate(ctx, ws, *row, 5, n[1], n[0], NULL);
        ho_rrate(ctx, ws, *row, 6, n[2], n[0], NULL);
        ho_rrate(ctx, ws, *row, 7, n[3], n[0], NULL);
        ho_rrate(ctx, ws, *row, 8, n[2], n[1], NULL);
        (*row)++;
    }
    *last = *row - 1;
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "calibration");
}

ho_report_error_t ho_report_calibration(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    char sub[220];
    snprintf(sub, sizeof sub,
             "Scored leads created %s..%s (latest score before the end of %s); stages "
             "reached by then (time zone %s)",
             ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label,
             ctx->tz);
    ho_rtitle(ctx, ws, "Score calibration: is the MQL threshold right?", sub);
    ho_rcols(ctx, ws, 0, 0, 16);
    ho_rcols(ctx, ws, 1, 8, 11);
    lxw_row_t row = 3, bf, bl, qf, ql;
    worksheet_write_string(ws, row++, 0, "By score band", ctx->f_bold);
    ho_report_error_t rc =
        s_table(ctx, ws, &row, "Score band",
                "SELECT sa.score - (((sa.score % 10) + 10) % 10) AS band, count(*), count(r.mql),"
                " count(r.sql), count(r.won)" S_FROM " GROUP BY band ORDER BY band",
                true, &bf, &bl);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int64_t rows = (int64_t)(bl + 1 - bf);
    row++;
    worksheet_write_string(ws, row++, 0, "By quadrant", ctx->f_bold);
    rc = s_table(ctx, ws, &row, "Quadrant",
                 "SELECT coalesce(nullif(sa.quadrant, ''), '(none)') AS q, count(*),"
                 " count(r.mql), count(r.sql), count(r.won)" S_FROM
                 " GROUP BY q ORDER BY CASE q WHEN 'mql_now' THEN 0 WHEN 'group_offering'"
                 " THEN 1 WHEN 'nurture' THEN 2 WHEN 'never' THEN 3 ELSE 4 END, q",
                 false, &qf, &ql);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    rows += (int64_t)(ql + 1 - qf);
    /* The question of the sheet, answered in a sentence for whoever opens it on Monday. */
    worksheet_write_string(ws, row + 1, 0,
                           "How to read: the MQL rate column shows where the MQL line falls. "
                           "If the bands just below it reach SQL about as often as the bands "
                           "just above it, the threshold is too high (good leads wait in "
                           "nurture); if the bands just above it rarely reach SQL, it is too "
                           "low (sales gets leads it rejects).",
                           ctx->f_note);
    if (bl >= bf) {
        lxw_chart *chart = ho_rchart(ctx, LXW_CHART_COLUMN);
        if (!chart) {
            ho_err_set(ctx->err, HO_ERR_NOMEM, "", "calibration: cannot create chart");
            return HO_REPORT_ERR_XLSX;
        }
        for (int k = 0; k < 2; k++) {
            lxw_chart_series *ser = chart_add_series(chart, NULL, NULL);
            chart_series_set_categories(ser, "Calibration", bf, 0, bl, 0);
            chart_series_set_values(ser, "Calibration", bf, (lxw_col_t)(6 + k), bl,
                                    (lxw_col_t)(6 + k));
            chart_series_set_name(ser, k == 0 ? "SQL rate" : "Won rate");
        }
        chart_title_set_name(chart, "Conversion by score band");
        chart_axis_set_name(chart->x_axis, "Score band");
        chart_axis_set_name(chart->y_axis, "Share of leads");
        chart_axis_set_num_format(chart->y_axis, "0%");
        chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
        lxw_chart_options co = {.x_scale = 1.5, .y_scale = 1.2};
        worksheet_insert_chart_opt(ws, 3, 10, chart, &co);
    }
    ho_rprogress(ctx, "Calibration", rows, true);
    return HO_REPORT_OK;
}
