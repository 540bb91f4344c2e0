/* calibration.c - the Calibration sheet: of the scored leads created in the last 12 weeks,
 * how many reached MQL, SQL and won, by score band (10 points wide) and by quadrant. If
 * bands below the MQL threshold convert to SQL about as well as those above it, the
 * threshold is too high, and the other way round (reports/README.md, "Calibration"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/defaults.h"

#include "report/report_int.h"

#define S_FROM                                                                                     \
    " FROM temp.lead_rows l JOIN temp.score_asof sa ON sa.lead_id = l.id"                          \
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
            worksheet_write_string(ws, *row, 0, ho_rquadrant_label(ho_rcol_text(st, 0)),
                                   ctx->f_text);
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

#define S_GRID HO_RGRID /* bands per axis: 4 of half a threshold each, then "and above" */
#define S_SMALL_N 10    /* fewer leads in a cell: the rate is not shown as a rate */

/* A threshold of scoring.yaml `quadrants` (good_fit, high_interest), else def. */
static int s_threshold(ho_rctx_t *ctx, const char *key, int def)
{
    ho_err_t err;
    ho_conf_t *c = ho_conf_load_named(ctx->opts->config_dir, "scoring.yaml", &err);
    const ho_node_t *q = c ? ho_node_get(ho_conf_root(c), "quadrants") : NULL;
    const ho_node_t *v = q ? ho_node_get(q, key) : NULL;
    int t = v && ho_node_str(v) ? atoi(ho_node_str(v)) : 0;
    ho_conf_destroy(&c);
    return t >= 2 ? t : def;
}

void ho_rband(char *out, size_t cap, int i, int step)
{
    if (i == HO_RGRID - 1) {
        snprintf(out, cap, "%d+", i * step);
    } else {
        snprintf(out, cap, "%d\xe2\x80\x93%d", i * step, (i + 1) * step - 1);
    }
}

/* The MQL rule is a fit x interest quadrant: the grid of scored leads by fit band (rows,
 * best on top) and interest band (columns), leads per cell, then the share that reached
 * SQL per cell, heat-mapped. Cells with fewer than S_SMALL_N leads show "k of n" instead of
 * a rate (a 1-of-1 cell at 100 % says nothing). */
static ho_report_error_t s_grid(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    int gf = s_threshold(ctx, "good_fit", 40), hi = s_threshold(ctx, "high_interest", 20);
    int fs = gf / 2, is = hi / 2;
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT CASE WHEN sa.fit < 0 THEN 0 WHEN sa.fit >= %d THEN %d ELSE sa.fit / %d END"
             " AS f, CASE WHEN sa.interest < 0 THEN 0 WHEN sa.interest >= %d THEN %d"
             " ELSE sa.interest / %d END AS i, count(*), count(r.sql)" S_FROM
             " AND sa.fit IS NOT NULL AND sa.interest IS NOT NULL GROUP BY f, i",
             (S_GRID - 1) * fs, S_GRID - 1, fs, (S_GRID - 1) * is, S_GRID - 1, is);
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, sql, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    /* the model: the HTML page's grid reads the same cells */
    ho_rmodel_t *md = &ctx->model;
    double(*n)[S_GRID] = md->grid_n, (*q)[S_GRID] = md->grid_q;
    memset(md->grid_n, 0, sizeof md->grid_n);
    memset(md->grid_q, 0, sizeof md->grid_q);
    md->good_fit = gf;
    md->high_interest = hi;
    md->fit_step = fs;
    md->int_step = is;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int f = sqlite3_column_int(st, 0), i = sqlite3_column_int(st, 1);
        if (f >= 0 && f < S_GRID && i >= 0 && i < S_GRID) {
            n[f][i] = (double)sqlite3_column_int64(st, 2);
            q[f][i] = (double)sqlite3_column_int64(st, 3);
        }
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "calibration grid");
    }
    md->has_grid = true;
    char note[300];
    snprintf(note, sizeof note,
             "Fit \xc3\x97 interest (the MQL rule: fit \xe2\x89\xa5 %d and interest "
             "\xe2\x89\xa5 %d, scoring.yaml: the top-right cells). Cells with fewer than %d "
             "leads show \"k of n\", not a rate.",
             gf, hi, S_SMALL_N);
    worksheet_write_string(ws, *row, 0, note, ctx->f_bold);
    (*row)++;
    for (int part = 0; part < 2; part++) {
        const char *cols[S_GRID + 1] = {
            part == 0 ? "Leads: fit \xe2\x86\x93 interest \xe2\x86\x92"
                      : "Reached SQL: fit \xe2\x86\x93 interest \xe2\x86\x92"};
        char heads[S_GRID][32];
        for (int i = 0; i < S_GRID; i++) {
            ho_rband(heads[i], sizeof heads[i], i, is);
            cols[1 + i] = heads[i];
        }
        ho_rheader(ctx, ws, *row, cols, S_GRID + 1);
        (*row)++;
        lxw_row_t first = *row;
        for (int f = S_GRID - 1; f >= 0; f--, (*row)++) {
            char band[32];
            ho_rband(band, sizeof band, f, fs);
            worksheet_write_string(ws, *row, 0, band, ctx->f_bold);
            for (int i = 0; i < S_GRID; i++) {
                bool mql = f * fs >= gf && i * is >= hi;
                lxw_col_t c = (lxw_col_t)(1 + i);
                if (part == 0) {
                    worksheet_write_number(ws, *row, c, n[f][i], mql ? ctx->f_tot_int : ctx->f_int);
                } else if (n[f][i] >= S_SMALL_N) {
                    worksheet_write_number(ws, *row, c, q[f][i] / n[f][i],
                                           mql ? ctx->f_tot_pct : ctx->f_pct);
                } else if (n[f][i] > 0) {
                    char kn[48];
                    snprintf(kn, sizeof kn, "%.0f of %.0f", q[f][i], n[f][i]);
                    worksheet_write_string(ws, *row, c, kn, ctx->f_small);
                } else {
                    worksheet_write_blank(ws, *row, c, ctx->f_pct);
                }
            }
        }
        lxw_conditional_format heat = {.type = LXW_CONDITIONAL_2_COLOR_SCALE,
                                       .min_color = 0xFFFFFF,
                                       .max_color = part == 0 ? 0x9BC2E6 : 0x63BE7B};
        worksheet_conditional_format_range(ws, first, 1, *row - 1, S_GRID, &heat);
        (*row)++;
    }
    return HO_REPORT_OK;
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
    ho_rcols(ctx, ws, 0, 0, 24);
    ho_rcols(ctx, ws, 1, 8, 11);
    lxw_row_t row = 3, bf, bl, qf, ql;
    ho_report_error_t rc = s_grid(ctx, ws, &row);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    worksheet_write_string(ws, row++, 0, "By score band", ctx->f_bold);
    rc = s_table(ctx, ws, &row, "Score band",
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
