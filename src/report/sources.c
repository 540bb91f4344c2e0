/* sources.c - the Sources sheet: leads created in the last 12 weeks rolled up by channel
 * (leads.source_channel, normalized by the store: "Web" and "Website" are one channel), with
 * a chart, then the drill-down channel > original source > campaign, grouped in an outline
 * (reports/README.md, "Sources"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* Leads, MQL, SQL, Won, Won amount and the four rates from column c0 on. */
static void s_counts(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t c0,
                     const double n[5], bool total)
{
    for (int k = 0; k < 4; k++) {
        worksheet_write_number(ws, row, (lxw_col_t)(c0 + k), n[k],
                               total ? ctx->f_tot_int : ctx->f_int);
    }
    worksheet_write_number(ws, row, c0 + 4, n[4], total ? ctx->f_tot_money : ctx->f_money);
    lxw_format *f = total ? ctx->f_tot_pct : NULL;
    ho_rrate(ctx, ws, row, c0 + 5, n[1], n[0], f);
    ho_rrate(ctx, ws, row, c0 + 6, n[2], n[1], f);
    ho_rrate(ctx, ws, row, c0 + 7, n[3], n[2], f);
    ho_rrate(ctx, ws, row, c0 + 8, n[3], n[0], f);
}

static void s_read(sqlite3_stmt *st, int c0, double n[5])
{
    for (int k = 0; k < 4; k++) {
        n[k] = (double)sqlite3_column_int64(st, c0 + k);
    }
    n[4] = sqlite3_column_double(st, c0 + 4);
}

static const char *const s_rates[] = {
    "Leads",
    "MQL",
    "SQL",
    "Won",
    "Won amount",
    "Lead\xe2\x86\x92MQL",
    "MQL\xe2\x86\x92SQL",
    "SQL\xe2\x86\x92Won",
    "Lead\xe2\x86\x92Won",
};

/* The channel roll-up into the model (the HTML page reads it too), in table order. */
static bool s_channel_row(ho_rctx_t *ctx, sqlite3_stmt *st, void *elem)
{
    (void)ctx;
    ho_rchan_t *c = elem;
    if (!(c->code = strdup(ho_rcol_text(st, 0)))) {
        return false;
    }
    s_read(st, 1, c->n);
    return true;
}

static ho_report_error_t s_collect_channels(ho_rctx_t *ctx)
{
    ho_rmodel_t *m = &ctx->model;
    return ho_rsql_collect(ctx, HO_RQ_REPORT_SOURCES_CHANNELS, "sources by channel",
                           (void **)&m->ch, &m->nch, sizeof *m->ch, s_channel_row);
}

/* The channel roll-up and its chart, from *row on. */
static ho_report_error_t s_channels(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    ho_report_error_t rc = s_collect_channels(ctx);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    worksheet_write_string(ws, *row, 0, "By channel", ctx->f_bold);
    (*row)++;
    /* the counts in the drill-down's columns (D..L), so both tables line up */
    const char *cols[12] = {"Channel", "", ""};
    for (int i = 0; i < 9; i++) {
        cols[3 + i] = s_rates[i];
    }
    ho_rheader(ctx, ws, *row, cols, 12);
    lxw_row_t head = *row;
    (*row)++;
    lxw_row_t first = *row;
    double tot[5] = {0};
    for (size_t i = 0; i < ctx->model.nch; i++) {
        const ho_rchan_t *c = &ctx->model.ch[i];
        char label[256];
        worksheet_write_string(ws, *row, 0, ho_rchannel_label(c->code, label, sizeof label),
                               ctx->f_bold);
        s_counts(ctx, ws, *row, 3, c->n, false);
        for (int k = 0; k < 5; k++) {
            tot[k] += c->n[k];
        }
        (*row)++;
    }
    lxw_row_t last = *row - 1;
    worksheet_write_string(ws, *row, 0, "Total", ctx->f_tot_text);
    worksheet_write_blank(ws, *row, 1, ctx->f_tot_text);
    worksheet_write_blank(ws, *row, 2, ctx->f_tot_text);
    s_counts(ctx, ws, *row, 3, tot, true);
    *row += 2;
    if (last >= first) {
        lxw_chart *chart = ho_rchart(ctx, LXW_CHART_BAR);
        if (!chart) {
            ho_err_set(ctx->err, HO_ERR_NOMEM, "", "sources: cannot create chart");
            return HO_REPORT_ERR_XLSX;
        }
        for (int k = 0; k < 3; k++) { /* Leads, MQL, SQL per channel */
            lxw_chart_series *ser = chart_add_series(chart, NULL, NULL);
            chart_series_set_categories(ser, "Sources", first, 0, last, 0);
            chart_series_set_values(ser, "Sources", first, (lxw_col_t)(3 + k), last,
                                    (lxw_col_t)(3 + k));
            chart_series_set_name_range(ser, "Sources", head, (lxw_col_t)(3 + k));
        }
        chart_title_set_name(chart, "Leads, MQLs and SQLs by channel (12 weeks)");
        /* a bar chart's y axis is its category axis */
        chart_axis_set_name(chart->y_axis, "Channel");
        chart_axis_set_name(chart->x_axis, "Leads");
        chart_axis_set_reverse(chart->y_axis); /* biggest channel on top, as in the table */
        chart_legend_set_position(chart, LXW_CHART_LEGEND_BOTTOM);
        /* tall enough for one label per channel (a default chart is 288 px = 15 rows) */
        int nch = (int)(last - first + 1);
        double ys = nch > 8 ? 1.2 * nch / 8.0 : 1.2;
        lxw_chart_options co = {.x_scale = 1.9, .y_scale = ys};
        worksheet_insert_chart_opt(ws, *row, 0, chart, &co);
        *row += (lxw_row_t)(15.0 * ys + 2); /* the chart's height in rows, then the drill-down */
    }
    return HO_REPORT_OK;
}

ho_report_error_t ho_report_sources(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    char sub[220];
    snprintf(sub, sizeof sub,
             "Leads created %s..%s by channel, then by original source and campaign; stages "
             "reached by the end of %s (time zone %s)",
             ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label,
             ctx->tz);
    ho_rtitle(ctx, ws, "Conversion by channel, source and campaign (last 12 weeks)", sub);
    ho_rcols(ctx, ws, 0, 0, 18);
    ho_rcols(ctx, ws, 1, 2, 20);
    ho_rcols(ctx, ws, 3, 6, 9);
    ho_rcols(ctx, ws, 7, 7, 13);
    ho_rcols(ctx, ws, 8, 11, 10);
    lxw_row_t row = 3;
    ho_report_error_t rc = s_channels(ctx, ws, &row);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_stmt *st;
    rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SOURCES_DRILL, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    worksheet_write_string(ws, row, 0,
                           "Drill-down: channel \xe2\x80\xba original source \xe2\x80\xba campaign "
                           "(outline: the - and + on the left fold a channel)",
                           ctx->f_bold);
    row++;
    const char *cols[12] = {"Channel", "Original source", "Campaign"};
    for (int i = 0; i < 9; i++) {
        cols[3 + i] = s_rates[i];
    }
    ho_rheader(ctx, ws, row, cols, 12);
    row++;
    /* Constant memory: a channel's subtotal row comes after its detail rows (Excel's outline
     * default, summary below). */
    char cur[256] = "";
    double sub_n[5] = {0}, tot[5] = {0};
    bool any = false;
    int s;
    lxw_row_col_options detail = {.hidden = 0, .level = 1, .collapsed = 0};
    for (;;) {
        s = sqlite3_step(st);
        const char *ch = s == SQLITE_ROW ? ho_rcol_text(st, 0) : NULL;
        if (any && (!ch || strcmp(ch, cur) != 0)) {
            char label[300], cl[256];
            snprintf(label, sizeof label, "%s total", ho_rchannel_label(cur, cl, sizeof cl));
            worksheet_write_string(ws, row, 0, label, ctx->f_tot_text);
            worksheet_write_blank(ws, row, 1, ctx->f_tot_text);
            worksheet_write_blank(ws, row, 2, ctx->f_tot_text);
            s_counts(ctx, ws, row, 3, sub_n, true);
            if (ctx->html) {
                ho_rhtml_source_row(ctx, label, "", "", sub_n, true);
            }
            row++;
            memset(sub_n, 0, sizeof sub_n);
        }
        if (s != SQLITE_ROW) {
            break;
        }
        snprintf(cur, sizeof cur, "%s", ch);
        any = true;
        double n[5];
        s_read(st, 3, n);
        worksheet_set_row_opt(ws, row, LXW_DEF_ROW_HEIGHT, NULL, &detail);
        char cl[256];
        worksheet_write_string(ws, row, 0, ho_rchannel_label(ch, cl, sizeof cl), ctx->f_text);
        worksheet_write_string(ws, row, 1, ho_rcol_text(st, 1), ctx->f_text);
        worksheet_write_string(ws, row, 2, ho_rcol_text(st, 2), ctx->f_text);
        s_counts(ctx, ws, row, 3, n, false);
        if (ctx->html) { /* one row per campaign: streamed to the page, not kept */
            ho_rhtml_source_row(ctx, cl, ho_rcol_text(st, 1), ho_rcol_text(st, 2), n, false);
        }
        for (int k = 0; k < 5; k++) {
            sub_n[k] += n[k];
            tot[k] += n[k];
        }
        row++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "sources");
    }
    worksheet_write_string(ws, row, 0, "Total", ctx->f_tot_text);
    worksheet_write_blank(ws, row, 1, ctx->f_tot_text);
    worksheet_write_blank(ws, row, 2, ctx->f_tot_text);
    s_counts(ctx, ws, row, 3, tot, true);
    if (ctx->html) {
        ho_rhtml_source_row(ctx, "Total", "", "", tot, true);
    }
    worksheet_outline_settings(ws, LXW_TRUE, LXW_TRUE, LXW_TRUE, LXW_FALSE);
    ho_rprogress(ctx, "Sources", (int64_t)row, true);
    return HO_REPORT_OK;
}
