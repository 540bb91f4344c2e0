/* drilldown.c - the "Lost and rejected" sheet: this week's rejected and lost outcome rows,
 * one per row, with the lead, where it came from and who recorded it: the list behind the
 * Lost reasons Pareto to drill into in the meeting (reports/README.md, "Lost and rejected").
 * Streamed (constant memory). */
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

/* "sales_accepted_without_mql,out_of_order" -> "never MQL; out of order" (what people read). */
static void s_flags(const char *flags, char *out, size_t cap)
{
    static const char *const map[][2] = {
        {"sales_accepted_without_mql", "never MQL"},
        {"out_of_order", "out of order"},
        {"reason_outside_taxonomy", "reason not in the list"},
        {"reason_not_for_outcome", "reason not for this outcome"},
    };
    size_t len = 0;
    out[0] = '\0';
    const char *p = flags;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *word = NULL;
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
            if (strlen(map[i][0]) == n && !strncmp(p, map[i][0], n)) {
                word = map[i][1];
            }
        }
        int w = word ? snprintf(out + len, cap - len, "%s%s", len ? "; " : "", word)
                     : snprintf(out + len, cap - len, "%s%.*s", len ? "; " : "", (int)n, p);
        if (w < 0 || (size_t)w >= cap - len) {
            return;
        }
        len += (size_t)w;
        p = e ? e + 1 : NULL;
    }
}

enum { NCOL = 13 };
static const double s_widths[NCOL] = {15, 9, 22, 10, 16, 24, 16, 13, 13, 14, 9, 12, 14};

/* One row of the sheet (the row's height first: constant memory). */
static void s_write_row(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const ho_rdrill_t *d)
{
    const char *cells[] = {d->lead, d->email, d->company, d->channel, d->source, d->campaign};
    char cl[256];
    cells[3] = ho_rchannel_label(d->channel, cl, sizeof cl);
    int lines = ho_rlines(d->label, s_widths[2], false);
    /* the estimate the sheet has always used (email, company, source, campaign) */
    const char *est[4] = {d->email, d->company, d->source, d->campaign};
    static const int est_w[4] = {6, 7, 8, 9};
    for (int k = 0; k < 4; k++) {
        int l = ho_rlines(est[k], s_widths[est_w[k]], false);
        lines = l > lines ? l : lines;
    }
    if (lines > 1) {
        worksheet_set_row(ws, row, 15.0 * lines, NULL);
    }
    lxw_datetime dt = ho_rdatetime(ctx, d->at);
    worksheet_write_datetime(ws, row, 0, &dt, ctx->f_dt_top);
    worksheet_write_string(ws, row, 1, d->lost ? "Lost" : "Rejected", ctx->f_top);
    worksheet_write_string(ws, row, 2, d->label, ctx->f_wrap);
    worksheet_write_string(ws, row, 3, *d->owner ? d->owner : "(unknown)", ctx->f_top);
    for (int c = 0; c < 6; c++) {
        worksheet_write_string(ws, row, (lxw_col_t)(4 + c), cells[c], ctx->f_wrap);
    }
    worksheet_write_string(ws, row, 10, d->rep, ctx->f_wrap);
    worksheet_write_string(ws, row, 11, d->stage, ctx->f_top);
    worksheet_write_string(ws, row, 12, d->flags, ctx->f_wrap);
}

ho_report_error_t ho_report_drilldown(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx,
        ho_reader_stmt_fmt(ctx->rd, HO_RQ_REPORT_DRILLDOWN_ROWS, &st, NULL,
                           ho_reader_sql(ctx->has_flags ? HO_RQ_REPORT_DRILLDOWN_FLAGS
                                                        : HO_RQ_REPORT_DRILLDOWN_NO_FLAGS)),
        &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    char sub[200];
    snprintf(sub, sizeof sub,
             "Every rejected and lost outcome recorded in %s (time zone %s), oldest first: the "
             "rows behind the Lost reasons sheet's \"This week\" column",
             ctx->weeks[HO_RW_THIS].label, ctx->tz);
    ho_rtitle(ctx, ws, "Lost and rejected this week", sub);
    static const char *const cols[] = {
        "Recorded at", "Outcome",       "Reason",  "Owner of the fix", "Lead",
        "Email",       "Company",       "Channel", "Source",           "Campaign",
        "Rep",         "Stage reached", "Flags",
    };
    ho_rlist_header(ctx, ws, 3, cols, s_widths, NCOL);
    lxw_row_t row = 4;
    int s;
    char buf[512];
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        /* one decoded row for both writers: this sheet and the HTML page's table */
        const char *code = ho_rcol_text(st, 2), *stage = ho_rcol_text(st, 10);
        s_flags((const char *)sqlite3_column_text(st, 11), buf, sizeof buf);
        ho_rdrill_t d = {.at = sqlite3_column_int64(st, 0),
                         .lost = !strcmp(ho_rcol_text(st, 1), "lost"),
                         .code = code,
                         .label = ho_rreason_label(ctx, code),
                         .owner = ho_rreason_owner(ctx, code),
                         .lead = ho_rcol_text(st, 3),
                         .email = ho_rcol_text(st, 4),
                         .company = ho_rcol_text(st, 5),
                         .channel = ho_rcol_text(st, 6),
                         .source = ho_rcol_text(st, 7),
                         .campaign = ho_rcol_text(st, 8),
                         .rep = ho_rcol_text(st, 9),
                         .stage = *stage ? ho_rstage_label(ctx, stage) : "",
                         .flags = buf};
        s_write_row(ctx, ws, row, &d);
        if (ctx->html) {
            ho_rhtml_drill_row(ctx, &d);
        }
        row++;
        if ((row - 4) % 10000 == 0) {
            ho_rprogress(ctx, "Lost and rejected", (int64_t)(row - 4), false);
        }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "lost and rejected");
    }
    worksheet_autofilter(ws, 3, 0, row > 4 ? row - 1 : 4, NCOL - 1);
    ho_rprogress(ctx, "Lost and rejected", (int64_t)(row - 4), true);
    return HO_REPORT_OK;
}
