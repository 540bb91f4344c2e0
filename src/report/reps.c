/* reps.c - the Reps sheet: per rep, the assignments of the last 4 weeks, acceptance, median
 * time to accept, SLA breaches, SQL rate and won (reports/README.md, "Reps"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* The median time to accept (h) of the rep (column 8, in ms, from the assignments pass:
 * scans.c; column 5 of the sheet, blank when none was accepted), and the rep's row (st's
 * columns, the median) into the model for the HTML page. */
static void s_median(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, sqlite3_stmt *st)
{
    bool has_med = sqlite3_column_type(st, 8) != SQLITE_NULL;
    double m = has_med ? sqlite3_column_double(st, 8) : 0;
    if (has_med) {
        worksheet_write_number(ws, row, 5, m / 3600000.0, ctx->f_hours);
    } else {
        worksheet_write_blank(ws, row, 5, ctx->f_hours);
    }
    ho_rrep_t r = {.rep = (char *)ho_rcol_text(st, 0),
                   .name = (char *)ho_rcol_text(st, 1),
                   .assigned = (double)sqlite3_column_int64(st, 2),
                   .accepted = (double)sqlite3_column_int64(st, 3),
                   .sla = (double)sqlite3_column_int64(st, 4),
                   .leads = (double)sqlite3_column_int64(st, 5),
                   .sql = (double)sqlite3_column_int64(st, 6),
                   .won = (double)sqlite3_column_int64(st, 7),
                   .has_med = has_med,
                   .med_h = m / 3600000.0};
    ho_rmodel_rep(&ctx->model, &r);
}

ho_report_error_t ho_report_reps(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_REPS_ROWS, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    char sub[200];
    snprintf(sub, sizeof sub,
             "Assignments made %s..%s; acceptance, SQL and won by the end of %s (time zone %s)",
             ctx->weeks[HO_RW - 4].label, ctx->weeks[HO_RW_THIS].label,
             ctx->weeks[HO_RW_THIS].label, ctx->tz);
    ho_rtitle(ctx, ws, "Reps: speed-to-lead, SLA and conversion (last 4 weeks)", sub);
    static const char *const cols[] = {
        "Rep",
        "Name",
        "Assigned",
        "Accepted",
        "Acceptance rate",
        "Median time to accept (h)",
        "SLA breaches",
        "Leads",
        "SQL",
        "SQL rate",
        "Won",
    };
    ho_rcols(ctx, ws, 0, 0, 14);
    ho_rcols(ctx, ws, 1, 1, 24);
    ho_rcols(ctx, ws, 2, 10, 12);
    ho_rcols(ctx, ws, 5, 5, 16);
    ho_rheader(ctx, ws, 3, cols, 11);
    worksheet_freeze_panes(ws, 4, 2);

    lxw_row_t row = 4;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rep = ho_rcol_text(st, 0);
        double assigned = (double)sqlite3_column_int64(st, 2);
        double accepted = (double)sqlite3_column_int64(st, 3);
        double leads = (double)sqlite3_column_int64(st, 5);
        double sql = (double)sqlite3_column_int64(st, 6);
        worksheet_write_string(ws, row, 0, rep, ctx->f_text);
        worksheet_write_string(ws, row, 1, ho_rcol_text(st, 1), ctx->f_text);
        worksheet_write_number(ws, row, 2, assigned, ctx->f_int);
        worksheet_write_number(ws, row, 3, accepted, ctx->f_int);
        ho_rrate(ctx, ws, row, 4, accepted, assigned, NULL);
        s_median(ctx, ws, row, st); /* and the row into the model */
        worksheet_write_number(ws, row, 6, (double)sqlite3_column_int64(st, 4), ctx->f_int);
        worksheet_write_number(ws, row, 7, leads, ctx->f_int);
        worksheet_write_number(ws, row, 8, sql, ctx->f_int);
        ho_rrate(ctx, ws, row, 9, sql, leads, NULL);
        worksheet_write_number(ws, row, 10, (double)sqlite3_column_int64(st, 7), ctx->f_int);
        row++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "reps");
    }
    if (row > 4) {
        worksheet_autofilter(ws, 3, 0, row - 1, 10); /* sort/filter by rep, acceptance, breaches */
    }
    ho_rprogress(ctx, "Reps", (int64_t)(row - 4), true);
    return HO_REPORT_OK;
}
