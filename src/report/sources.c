/* sources.c - the Sources sheet: leads created in the last 12 weeks by original source and
 * campaign, and how many reached MQL, SQL and won by the end of the report week
 * (reports/README.md, "Sources"). */
#include <stdio.h>

#include "report/report_int.h"

ho_report_error_t ho_report_sources(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    sqlite3_stmt *st;
    ho_report_error_t rc =
        ho_rsql_prepare(ctx,
                        "SELECT coalesce(nullif(l.original_source, ''), '(none)') AS src,"
                        " coalesce(nullif(l.original_campaign, ''), '(none)') AS camp,"
                        " count(*) AS n, count(r.mql), count(r.sql), count(r.won), total(w.amount)"
                        " FROM main.leads l LEFT JOIN temp.reach r ON r.lead_id = l.id"
                        " LEFT JOIN temp.won_amount w ON w.lead_id = l.id"
                        " WHERE l.created_at >= :a12 AND l.created_at < :asof"
                        " GROUP BY src, camp ORDER BY n DESC, src, camp",
                        &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    char sub[200];
    snprintf(sub, sizeof sub,
             "Leads created %s..%s by original source and campaign; stages reached by the end "
             "of %s (time zone %s)",
             ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label,
             ctx->tz);
    ho_rtitle(ctx, ws, "Conversion by source and campaign (last 12 weeks)", sub);
    static const char *const cols[] = {
        "Original source",
        "Campaign",
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
    ho_rcols(ctx, ws, 0, 0, 22);
    ho_rcols(ctx, ws, 1, 1, 30);
    ho_rcols(ctx, ws, 2, 5, 10);
    ho_rcols(ctx, ws, 6, 6, 14);
    ho_rcols(ctx, ws, 7, 10, 11);
    ho_rheader(ctx, ws, 3, cols, 11);
    worksheet_freeze_panes(ws, 4, 2);
    lxw_row_t row = 4;
    double tot[5] = {0};
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        double n[5];
        for (int k = 0; k < 4; k++) {
            n[k] = (double)sqlite3_column_int64(st, 2 + k);
        }
        n[4] = sqlite3_column_double(st, 6);
        worksheet_write_string(ws, row, 0, ho_rcol_text(st, 0), ctx->f_text);
        worksheet_write_string(ws, row, 1, ho_rcol_text(st, 1), ctx->f_text);
        for (int k = 0; k < 4; k++) {
            worksheet_write_number(ws, row, (lxw_col_t)(2 + k), n[k], ctx->f_int);
        }
        worksheet_write_number(ws, row, 6, n[4], ctx->f_money);
        ho_rrate(ctx, ws, row, 7, n[1], n[0], NULL);
        ho_rrate(ctx, ws, row, 8, n[2], n[1], NULL);
        ho_rrate(ctx, ws, row, 9, n[3], n[2], NULL);
        ho_rrate(ctx, ws, row, 10, n[3], n[0], NULL);
        for (int k = 0; k < 5; k++) {
            tot[k] += n[k];
        }
        row++;
    }
    sqlite3_finalize(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "sources");
    }
    int64_t rows = (int64_t)(row - 4);
    if (rows > 0) {
        /* Filter by source or campaign; the Total row stays outside the range. */
        worksheet_autofilter(ws, 3, 0, row - 1, 10);
    }
    worksheet_write_string(ws, row, 0, "Total", ctx->f_tot_text);
    worksheet_write_blank(ws, row, 1, ctx->f_tot_text);
    for (int k = 0; k < 4; k++) {
        worksheet_write_number(ws, row, (lxw_col_t)(2 + k), tot[k], ctx->f_tot_int);
    }
    worksheet_write_number(ws, row, 6, tot[4], ctx->f_tot_money);
    ho_rrate(ctx, ws, row, 7, tot[1], tot[0], ctx->f_tot_pct);
    ho_rrate(ctx, ws, row, 8, tot[2], tot[1], ctx->f_tot_pct);
    ho_rrate(ctx, ws, row, 9, tot[3], tot[2], ctx->f_tot_pct);
    ho_rrate(ctx, ws, row, 10, tot[3], tot[0], ctx->f_tot_pct);
    ho_rprogress(ctx, "Sources", rows, true);
    return HO_REPORT_OK;
}
