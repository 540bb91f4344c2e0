/* reasons.c - the Lost reasons sheet: rejected (at SAL) and lost (after SQL) outcomes of the
 * last 12 weeks by reason code, a Pareto chart, and the same broken down by original source
 * and by rep (reports/README.md, "Lost reasons"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

typedef ho_rreason_t s_reason_t;

/* A reason x key matrix (key = channel or rep) into mx: rows = the reasons r in the Pareto's
 * order, columns = the HO_RMAXKEYS biggest keys (then "Other"). Counts are rejected + lost
 * rows of the 12 weeks. */
static ho_report_error_t s_matrix_collect(ho_rctx_t *ctx, ho_rq_t key, const s_reason_t *r,
                                          size_t n, ho_rmatrix_t *mx)
{
    const char *key_sql = ho_reader_sql(key);
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx, ho_reader_stmt_fmt(ctx->rd, HO_RQ_REPORT_REASONS_KEYS, &st, NULL, key_sql), &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (mx->nk < HO_RMAXKEYS) {
            mx->keys[mx->nk] = strdup(ho_rcol_text(st, 0));
            mx->nk += mx->keys[mx->nk] != NULL;
        } else {
            mx->other = true;
        }
    }
    sqlite3_reset(st);
    mx->ncol = mx->nk + (mx->other ? 1 : 0);
    mx->m = calloc(n * (size_t)(mx->ncol + 1) + 1, sizeof *mx->m);
    if (s == SQLITE_DONE && mx->m) {
        if ((rc = ho_rsql_prepared(
                 ctx, ho_reader_stmt_fmt(ctx->rd, HO_RQ_REPORT_REASONS_CELLS, &st, NULL, key_sql),
                 &st)) != HO_REPORT_OK) {
            return rc;
        }
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            const char *code = ho_rcol_text(st, 0), *k = ho_rcol_text(st, 1);
            size_t i = 0;
            while (i < n && strcmp(r[i].code, code) != 0) {
                i++;
            }
            int j = 0;
            while (j < mx->nk && strcmp(mx->keys[j], k) != 0) {
                j++;
            }
            if (i < n) {
                mx->m[i * (size_t)mx->ncol + (size_t)(j < mx->nk ? j : mx->ncol - 1)] +=
                    (double)sqlite3_column_int64(st, 2);
            }
        }
        sqlite3_reset(st);
    }
    if (!mx->m) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "lost reasons matrix");
}

/* The matrix from *row on, heat-mapped so the big cells stand out. */
static void s_matrix_write(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row, const char *title,
                           const ho_rmatrix_t *mx, const s_reason_t *r, size_t n, bool channel)
{
    worksheet_write_string(ws, *row, 0, title, ctx->f_bold);
    (*row)++;
    const char *cols[HO_RMAXKEYS + 4] = {"Code", "Reason"};
    char labels[HO_RMAXKEYS][128];
    for (int j = 0; j < mx->nk; j++) {
        cols[2 + j] =
            channel ? ho_rchannel_label(mx->keys[j], labels[j], sizeof labels[j]) : mx->keys[j];
    }
    if (mx->other) {
        cols[2 + mx->nk] = "Other";
    }
    cols[2 + mx->ncol] = "Total";
    ho_rheader(ctx, ws, *row, cols, 3 + mx->ncol);
    (*row)++;
    lxw_row_t first = *row;
    for (size_t i = 0; i < n; i++, (*row)++) {
        worksheet_write_string(ws, *row, 0, r[i].code, ctx->f_text);
        worksheet_write_string(ws, *row, 1, ho_rreason_label(ctx, r[i].code), ctx->f_text);
        double t = 0;
        for (int j = 0; j < mx->ncol; j++) {
            double v = mx->m[i * (size_t)mx->ncol + (size_t)j];
            t += v;
            worksheet_write_number(ws, *row, (lxw_col_t)(2 + j), v, ctx->f_int);
        }
        worksheet_write_number(ws, *row, (lxw_col_t)(2 + mx->ncol), t, ctx->f_tot_int);
    }
    if (n > 0 && mx->ncol > 0) {
        lxw_conditional_format heat = {
            .type = LXW_CONDITIONAL_2_COLOR_SCALE, .min_color = 0xFFFFFF, .max_color = 0xF8696B};
        worksheet_conditional_format_range(ws, first, 2, *row - 1, (lxw_col_t)(1 + mx->ncol),
                                           &heat);
    }
    (*row)++;
}

void ho_rmatrix_free(ho_rmatrix_t *m)
{
    for (int j = 0; j < m->nk; j++) {
        free(m->keys[j]);
    }
    free(m->m);
    memset(m, 0, sizeof *m);
}

/* Bars = total per reason, line = cumulative share on a secondary axis, below the table (not
 * beside it: the sheet then prints one page wide at a readable size). Built as a two-series
 * column chart and turned into a bar+line combination after close (ho_report_pareto_patch),
 * since libxlsxwriter 1.1 cannot combine chart types. */
static ho_report_error_t s_pareto(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row, size_t n)
{
    lxw_chart *chart = ho_rchart(ctx, LXW_CHART_COLUMN);
    if (!chart) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "lost reasons: cannot create chart");
        return HO_REPORT_ERR_XLSX;
    }
    lxw_row_t first = 4, last = (lxw_row_t)(4 + n - 1);
    lxw_chart_series *bars = chart_add_series(chart, NULL, NULL);
    chart_series_set_categories(bars, "Lost reasons", first, 1, last, 1);
    chart_series_set_values(bars, "Lost reasons", first, 4, last, 4);
    chart_series_set_name(bars, "Rejected + lost");
    lxw_chart_series *line = chart_add_series(chart, NULL, NULL);
    chart_series_set_categories(line, "Lost reasons", first, 1, last, 1);
    chart_series_set_values(line, "Lost reasons", first, 7, last, 7);
    chart_series_set_name(line, "Cumulative share");
    chart_title_set_name(chart, HO_REPORT_PARETO_TITLE);
    chart_axis_set_name(chart->x_axis, "Reason");
    chart_axis_set_name(chart->y_axis, "Leads");
    chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options co = {.x_scale = 2.0, .y_scale = 1.3};
    worksheet_insert_chart_opt(ws, *row + 1, 0, chart, &co);
    ctx->pareto = true;
    *row += 1 + 21; /* the chart's height in rows */
    return HO_REPORT_OK;
}

/* The reasons of the 12 weeks into the model, in Pareto order (Total descending, code). */
static bool s_reason_row(ho_rctx_t *ctx, sqlite3_stmt *st, void *elem)
{
    s_reason_t *r = elem;
    if (!(r->code = strdup(ho_rcol_text(st, 0)))) {
        return false;
    }
    r->rejected = (double)sqlite3_column_int64(st, 1);
    r->lost = (double)sqlite3_column_int64(st, 2);
    r->week = (double)sqlite3_column_int64(st, 3);
    ctx->model.grand += r->rejected + r->lost;
    return true;
}

static ho_report_error_t s_collect(ho_rctx_t *ctx)
{
    ho_rmodel_t *m = &ctx->model;
    return ho_rsql_collect(ctx, HO_RQ_REPORT_REASONS_PARETO, "lost reasons", (void **)&m->r, &m->nr,
                           sizeof *m->r, s_reason_row);
}

ho_report_error_t ho_report_reasons(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    ho_report_error_t rc = s_collect(ctx);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    const s_reason_t *r = ctx->model.r;
    size_t n = ctx->model.nr;
    double grand = ctx->model.grand;
    char sub[200];
    snprintf(sub, sizeof sub,
             "Rejected and lost outcomes recorded %s..%s by reason code (time zone %s)",
             ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->tz);
    ho_rtitle(ctx, ws, "Lost and rejected reasons (last 12 weeks)", sub);
    static const char *const cols[] = {
        "Code",      "Reason", "Rejected (SAL)",   "Lost (after SQL)", "Total",
        "This week", "Share",  "Cumulative share", "Owner of the fix",
    };
    ho_rcols(ctx, ws, 0, 0, 22);
    ho_rcols(ctx, ws, 1, 1, 30);
    ho_rcols(ctx, ws, 2, 7, 13);
    ho_rcols(ctx, ws, 8, 8, 14);
    ho_rheader(ctx, ws, 3, cols, 9);
    worksheet_freeze_panes(ws, 4, 0);
    lxw_row_t row = 4;
    double cum = 0, trej = 0, tlost = 0, tweek = 0, own[3] = {0};
    for (size_t i = 0; i < n; i++, row++) {
        double total = r[i].rejected + r[i].lost;
        cum += total;
        trej += r[i].rejected;
        tlost += r[i].lost;
        tweek += r[i].week;
        worksheet_write_string(ws, row, 0, r[i].code, ctx->f_text);
        worksheet_write_string(ws, row, 1, ho_rreason_label(ctx, r[i].code), ctx->f_text);
        worksheet_write_number(ws, row, 2, r[i].rejected, ctx->f_int);
        worksheet_write_number(ws, row, 3, r[i].lost, ctx->f_int);
        worksheet_write_number(ws, row, 4, total, ctx->f_int);
        worksheet_write_number(ws, row, 5, r[i].week, ctx->f_int);
        ho_rrate(ctx, ws, row, 6, total, grand, NULL);
        ho_rrate(ctx, ws, row, 7, cum, grand, NULL);
        const char *owner = ho_rreason_owner(ctx, r[i].code);
        worksheet_write_string(ws, row, 8, *owner ? owner : "(not in reasons.yaml)", ctx->f_text);
        own[!strcmp(owner, "marketing") ? 0 : !strcmp(owner, "sales") ? 1 : 2] += total;
    }
    worksheet_write_string(ws, row, 0, "Total", ctx->f_tot_text);
    worksheet_write_blank(ws, row, 1, ctx->f_tot_text);
    worksheet_write_number(ws, row, 2, trej, ctx->f_tot_int);
    worksheet_write_number(ws, row, 3, tlost, ctx->f_tot_int);
    worksheet_write_number(ws, row, 4, grand, ctx->f_tot_int);
    worksheet_write_number(ws, row, 5, tweek, ctx->f_tot_int);
    row += 2;
    /* the split the meeting argues about: whose fix is it */
    static const char *const own_names[3] = {"Marketing's to fix", "Sales' to fix",
                                             "Owner unknown"};
    for (int k = 0; k < 3; k++, row++) {
        worksheet_write_string(ws, row, 1, own_names[k], ctx->f_bold);
        worksheet_write_number(ws, row, 4, own[k], ctx->f_int);
        ho_rrate(ctx, ws, row, 6, own[k], grand, NULL);
    }

    if (n > 0 && (rc = s_pareto(ctx, ws, &row, n)) != HO_REPORT_OK) {
        return rc;
    }
    row++;
    rc = s_matrix_collect(ctx, HO_RQ_REPORT_REASONS_KEY_CHANNEL, r, n, &ctx->model.by_channel);
    if (rc == HO_REPORT_OK) {
        s_matrix_write(ctx, ws, &row, "Reason \xc3\x97 channel (rejected + lost, 12 weeks)",
                       &ctx->model.by_channel, r, n, true);
        row++;
        rc = s_matrix_collect(ctx, HO_RQ_REPORT_REASONS_KEY_REP, r, n, &ctx->model.by_rep);
        if (rc == HO_REPORT_OK) {
            s_matrix_write(ctx, ws, &row, "Reason \xc3\x97 rep (rejected + lost, 12 weeks)",
                           &ctx->model.by_rep, r, n, false);
        }
    }
    if (rc == HO_REPORT_OK) {
        ho_rprogress(ctx, "Lost reasons", (int64_t)row, true);
    }
    return rc;
}
