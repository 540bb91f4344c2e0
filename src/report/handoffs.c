/* handoffs.c - the Handoffs sheet: this week's MQLs with their handoff context, one row per
 * lead, for the handoff meeting (reports/README.md, "Handoffs"). Can be long: rows are
 * streamed (constant-memory workbook) and progress is reported every 10,000 rows. */
#include <stdio.h>
#include <string.h>

#include "report/expl.h"
#include "report/report_int.h"

static void s_join(char *out, size_t cap, const char *a, const char *b, const char *c,
                   const char *sep)
{
    const char *parts[3] = {a, b, c};
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (parts[i] && *parts[i]) {
            int w = snprintf(out + len, cap - len, "%s%s", len ? sep : "", parts[i]);
            if (w < 0 || (size_t)w >= cap - len) {
                return;
            }
            len += (size_t)w;
        }
    }
}

/* The lines the row's wrapped cells need at their widths, as its height (top reason into
 * buf). */
static void s_row_height(lxw_worksheet *ws, lxw_row_t row, sqlite3_stmt *st, const double *widths,
                         char *buf, size_t cap)
{
    int lines = 1;
    static const int wrapped[][2] = {{3, 2}, {4, 3}, {5, 4}, {9, 6}, {10, 7}};
    for (size_t k = 0; k < sizeof wrapped / sizeof wrapped[0]; k++) {
        int l = ho_rlines(ho_rcol_text(st, wrapped[k][0]), widths[wrapped[k][1]], false);
        lines = l > lines ? l : lines;
    }
    ho_expl_top_reason((const char *)sqlite3_column_text(st, 14), buf, cap);
    int l = ho_rlines(buf, widths[11], false);
    lines = l > lines ? l : lines;
    l = ho_rlines(ho_rquadrant_label(ho_rcol_text(st, 13)), widths[10], false);
    lines = l > lines ? l : lines;
    if (lines > 1) {
        worksheet_set_row(ws, row, 15.0 * lines, NULL);
    }
}

/* The row as the sheet shows it, into the HTML page (name, location, top reason and owner
 * as written to the sheet). */
static void s_html_row(ho_rctx_t *ctx, sqlite3_stmt *st, const char *name, const char *loc,
                       const char *top, const char *owner)
{
    ho_rhandoff_t h = {.mql_at = sqlite3_column_int64(st, 0),
                       .name = name,
                       .email = ho_rcol_text(st, 3),
                       .company = ho_rcol_text(st, 4),
                       .title = ho_rcol_text(st, 5),
                       .location = loc,
                       .source = ho_rcol_text(st, 9),
                       .campaign = ho_rcol_text(st, 10),
                       .has_score = sqlite3_column_type(st, 11) != SQLITE_NULL,
                       .score = (double)sqlite3_column_int64(st, 11),
                       .grade = ho_rcol_text(st, 12),
                       .quadrant = ho_rquadrant_label(ho_rcol_text(st, 13)),
                       .top_reason = top,
                       .owner = owner,
                       .has_assigned = sqlite3_column_type(st, 18) != SQLITE_NULL,
                       .assigned_at = sqlite3_column_int64(st, 18),
                       .status = ho_rstage_label(ctx, ho_rcol_text(st, 19))};
    ho_rhtml_handoff_row(ctx, &h);
}

ho_report_error_t ho_report_handoffs(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    /* The score that made each lead of the week an MQL: its latest score at or before its
     * MQL entry (a later activity's re-score is not why it was handed off). One lookup per
     * lead of the week on scores(lead_id, at) (store schema 5). */
    ho_report_error_t rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_SCORE_MQL);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_SCORE_MQL_FILL);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_stmt *st;
    rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_HANDOFFS_ROWS, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    static const char *const cols[] = {
        "MQL at",
        "Name",
        "Email",
        "Company",
        "Title",
        "Location",
        "Source",
        "Campaign",
        "Score at MQL",
        "Grade",
        "Fit \xc3\x97 interest",
        "Top reason",
        "Owner",
        "Assigned at",
        "Status",
    };
    enum { NCOL = 15 };
    /* Narrow enough to print one page wide; long text wraps instead of being cut off. */
    static const double widths[NCOL] = {15, 16, 24, 16, 16, 16, 13, 15, 7, 6, 13, 30, 14, 15, 12};
    ho_rlist_header(ctx, ws, 0, cols, widths, NCOL);

    lxw_row_t row = 1;
    int s;
    char buf[1024], name[1024], loc[1024], owner[1024];
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        /* constant memory: the row's height (for its wrapped cells) is set before it */
        s_row_height(ws, row, st, widths, buf, sizeof buf); /* and the top reason into buf */
        lxw_datetime dt = ho_rdatetime(ctx, sqlite3_column_int64(st, 0));
        worksheet_write_datetime(ws, row, 0, &dt, ctx->f_dt_top);
        s_join(name, sizeof name, ho_rcol_text(st, 1), ho_rcol_text(st, 2), NULL, " ");
        worksheet_write_string(ws, row, 1, name, ctx->f_wrap);
        worksheet_write_string(ws, row, 2, ho_rcol_text(st, 3), ctx->f_wrap);
        worksheet_write_string(ws, row, 3, ho_rcol_text(st, 4), ctx->f_wrap);
        worksheet_write_string(ws, row, 4, ho_rcol_text(st, 5), ctx->f_wrap);
        s_join(loc, sizeof loc, ho_rcol_text(st, 6), ho_rcol_text(st, 7), ho_rcol_text(st, 8),
               ", ");
        worksheet_write_string(ws, row, 5, loc, ctx->f_wrap);
        worksheet_write_string(ws, row, 6, ho_rcol_text(st, 9), ctx->f_wrap);
        worksheet_write_string(ws, row, 7, ho_rcol_text(st, 10), ctx->f_wrap);
        if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
            worksheet_write_number(ws, row, 8, (double)sqlite3_column_int64(st, 11),
                                   ctx->f_int_top);
        }
        worksheet_write_string(ws, row, 9, ho_rcol_text(st, 12), ctx->f_top);
        worksheet_write_string(ws, row, 10, ho_rquadrant_label(ho_rcol_text(st, 13)), ctx->f_wrap);
        worksheet_write_string(ws, row, 11, buf, ctx->f_wrap);
        const char *rep_id = ho_rcol_text(st, 15), *rep_name = ho_rcol_text(st, 16);
        const char *queue = ho_rcol_text(st, 17);
        snprintf(owner, sizeof owner, "%s", *rep_name ? rep_name : rep_id);
        if (!*owner && *queue) {
            snprintf(owner, sizeof owner, "queue %s", queue);
        }
        if (*owner) {
            worksheet_write_string(ws, row, 12, owner, ctx->f_top);
        }
        if (sqlite3_column_type(st, 18) != SQLITE_NULL) {
            dt = ho_rdatetime(ctx, sqlite3_column_int64(st, 18));
            worksheet_write_datetime(ws, row, 13, &dt, ctx->f_dt_top);
        }
        worksheet_write_string(ws, row, 14, ho_rstage_label(ctx, ho_rcol_text(st, 19)), ctx->f_top);
        if (ctx->html) { /* the same row into the page (streamed: the list can be long) */
            s_html_row(ctx, st, name, loc, buf, owner);
        }
        if (row % 10000 == 0) {
            ho_rprogress(ctx, "Handoffs", (int64_t)row, false);
        }
        row++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "handoffs");
    }
    /* The filter covers the header and every data row (at least one row so it is valid). */
    worksheet_autofilter(ws, 0, 0, row > 1 ? row - 1 : 1, NCOL - 1);
    ho_rprogress(ctx, "Handoffs", (int64_t)(row - 1), true);
    return HO_REPORT_OK;
}
