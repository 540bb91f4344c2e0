/* quality.c - the Data quality sheet: what every import read and what became of each row, by
 * source and file kind, and the sales outcomes of the report week by feedback source
 * (reports/README.md, "Data quality"). Also the data-freshness table of the Summary.
 *
 * The tables it reads (imports, import_results, outcomes.flags/implied/import_id) arrive
 * with the issue-12 store migration; on an older store the sheet says what it cannot show
 * instead of failing the whole workbook. */
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

/* One import_results column of a per-kind table. */
typedef struct {
    const char *head;
    const char *result;
} s_rescol_t;

#define S_MAXRES 5

typedef struct {
    const char *kind; /* imports.kind */
    const char *title;
    s_rescol_t res[S_MAXRES];
    int nres;
    bool no_mql; /* feedback: the "on leads never qualified" column */
} s_kind_t;

static const s_kind_t s_kinds[] = {
    {"lead",
     "Lead files (CRM exports, form submissions)",
     {{"New people", "new"}, {"Merged into a known person", "merged"}},
     2,
     false},
    {"activity",
     "Activity files",
     {{"Matched to a lead", "matched"}, {"Unmatched (kept, no lead yet)", "unmatched"}},
     2,
     false},
    {"feedback",
     "Sales feedback files",
     {{"Outcomes recorded", "recorded"},
      {"Waiting for the lead (pending)", "pending"},
      {"Lead unknown after grace", "unknown_lead"},
      {"Dated before the lead existed", "before_lead_created"},
      {"Recorded with a flag", "flagged"}},
     5,
     true},
};

static ho_report_error_t s_prepare(ho_rctx_t *ctx)
{
    ho_report_error_t rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_DQ_IMP);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    if (ctx->has_imports &&
        (rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_DQ_IMP_IMPORTS)) != HO_REPORT_OK) {
        return rc;
    }
    /* Records the store applied for an import it never got a summary of (a crashed import,
     * a webhook day): still counted, under their own row, so nothing disappears. */
    if (ctx->has_import_results &&
        (rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_DQ_IMP_RESULTS)) != HO_REPORT_OK) {
        return rc;
    }
    /* Implied stages (outcomes.implied = 1, import_id NULL) are no imported record: they
     * get no row of their own (an all-zero "(not imported)" row otherwise). */
    if (ctx->has_oimport &&
        (rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_DQ_IMP_OUTCOMES)) != HO_REPORT_OK) {
        return rc;
    }
    return HO_REPORT_OK;
}

static void s_check(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, bool ok,
                    bool total, ho_rcell_t *cell)
{
    ho_rtab_text(&ctx->model, cell, ok ? "ok" : "MISMATCH");
    if (cell) {
        cell->bad = !ok;
    }
    /* A formula, so the check holds in the file itself: Rows read (D) = Skipped (E) +
     * Quarantined (F) + Accepted (G). */
    char f[160];
    snprintf(f, sizeof f, "=IF(D%u=E%u+F%u+G%u,\"ok\",\"MISMATCH\")", row + 1, row + 1, row + 1,
             row + 1);
    worksheet_write_formula_str(ws, row, col, f,
                                ok ? (total ? ctx->f_tot_text : ctx->f_ok) : ctx->f_bad,
                                ok ? "ok" : "MISMATCH");
}

static void s_sum_formula(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
                          lxw_row_t first, double value)
{
    char f[96], a[16], b[16];
    lxw_rowcol_to_cell(a, first, col);
    lxw_rowcol_to_cell(b, row - 1, col);
    snprintf(f, sizeof f, "=SUM(%s:%s)", a, b);
    if (row == first) {
        snprintf(f, sizeof f, "=0");
    }
    worksheet_write_formula_num(ws, row, col, f, ctx->f_tot_int, value);
}

/* One table (one file kind) from *row on. */
/* Count column c of a row into the sheet, the page's row m and the total tot[c]; a NULL
 * (nothing to count) is "n/a". */
static void s_count_cell(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, sqlite3_stmt *st, int c,
                         ho_rcell_t *m, double *tot)
{
    if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        worksheet_write_string(ws, row, (lxw_col_t)c, "n/a", ctx->f_note);
        ho_rtab_text(&ctx->model, m ? &m[c] : NULL, "n/a");
        return;
    }
    double v = sqlite3_column_double(st, c);
    tot[c] += v;
    worksheet_write_number(ws, row, (lxw_col_t)c, v, ctx->f_int);
    ho_rtab_num(m ? &m[c] : NULL, v, HO_RK_COUNT);
}

static ho_report_error_t s_kind_table(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row,
                                      const s_kind_t *k)
{
    char sql[3072];
    size_t len =
        (size_t)snprintf(sql, sizeof sql, "%s", ho_reader_sql(HO_RQ_REPORT_QUALITY_KIND_HEAD));
    for (int i = 0; i < k->nres; i++) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s",
                                ho_reader_sql(ctx->has_import_results
                                                  ? HO_RQ_REPORT_QUALITY_KIND_RESULT
                                                  : HO_RQ_REPORT_QUALITY_KIND_NO_RESULT));
    }
    if (k->no_mql && ctx->has_flags && ctx->has_oimport) {
        /* counted by the outcomes pass (scans.c), implied rows left out */
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s",
                                ho_reader_sql(HO_RQ_REPORT_QUALITY_KIND_NO_MQL));
    } else if (k->no_mql) {
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s",
                                ho_reader_sql(HO_RQ_REPORT_QUALITY_KIND_NO_MQL_NULL));
    }
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx, ho_reader_stmt_fmt(ctx->rd, HO_RQ_REPORT_QUALITY_KIND, &st, NULL, sql), &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int p = 1;
    for (int i = 0; i < k->nres && ctx->has_import_results; i++) {
        sqlite3_bind_text(st, p++, k->res[i].result, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, p, k->kind, -1, SQLITE_STATIC);

    worksheet_write_string(ws, *row, 0, k->title, ctx->f_bold);
    (*row)++;
    const char *cols[6 + S_MAXRES + 3] = {"Source",  "Files",       "Last import", "Rows read",
                                          "Skipped", "Quarantined", "Accepted"};
    int nc = 7;
    for (int i = 0; i < k->nres; i++) {
        cols[nc++] = k->res[i].head;
    }
    if (k->no_mql) {
        cols[nc++] = "On leads marketing never qualified";
    }
    cols[nc++] = "Check";
    ho_rheader(ctx, ws, *row, cols, nc);
    ho_rtab_t *t = ho_rtab_new(&ctx->model, HO_RTAB_QUALITY, k->title, cols, nc);
    (*row)++;
    lxw_row_t first = *row;
    double tot[7 + S_MAXRES + 1] = {0};
    int nnum = nc - 1; /* numeric columns: 1..nc-2 except Last import */
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ho_rcell_t *m = ho_rtab_row(&ctx->model, t); /* the row for the page, NULL: none */
        worksheet_write_string(ws, *row, 0, ho_rcol_text(st, 0), ctx->f_text);
        ho_rtab_text(&ctx->model, m, ho_rcol_text(st, 0));
        for (int c = 1; c < nnum; c++) {
            if (c == 2) {
                if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
                    worksheet_write_blank(ws, *row, 2, ctx->f_dt);
                } else {
                    lxw_datetime d = ho_rdatetime(ctx, sqlite3_column_int64(st, 2));
                    worksheet_write_datetime(ws, *row, 2, &d, ctx->f_dt);
                    ho_rtab_time(m ? &m[2] : NULL, sqlite3_column_int64(st, 2));
                }
                continue;
            }
            s_count_cell(ctx, ws, *row, st, c, m, tot);
        }
        double rd = sqlite3_column_double(st, 3), sk = sqlite3_column_double(st, 4),
               qu = sqlite3_column_double(st, 5), ac = sqlite3_column_double(st, 6);
        s_check(ctx, ws, *row, (lxw_col_t)(nc - 1), rd == sk + qu + ac, false,
                m ? &m[nc - 1] : NULL);
        (*row)++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "data quality");
    }
    if (t) {
        t->total_from = t->nrows;
    }
    ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
    ho_rtab_text(&ctx->model, m, "Total");
    worksheet_write_string(ws, *row, 0, "Total", ctx->f_tot_text);
    worksheet_write_blank(ws, *row, 2, ctx->f_tot_text);
    for (int c = 1; c < nnum; c++) {
        if (c != 2) {
            s_sum_formula(ctx, ws, *row, (lxw_col_t)c, first, tot[c]);
            ho_rtab_num(m ? &m[c] : NULL, tot[c], HO_RK_COUNT);
        }
    }
    s_check(ctx, ws, *row, (lxw_col_t)(nc - 1), tot[3] == tot[4] + tot[5] + tot[6], true,
            m ? &m[nc - 1] : NULL);
    *row += 2;
    return HO_REPORT_OK;
}

/* Skipped and quarantined rows by reason, per source and kind (from the import summaries). */
static ho_report_error_t s_reasons(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_QUALITY_REASONS, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    worksheet_write_string(ws, *row, 0, "Skipped and quarantined rows by reason", ctx->f_bold);
    (*row)++;
    static const char *const cols[] = {"Source", "Kind", "Skipped or quarantined", "Reason",
                                       "Rows"};
    ho_rheader(ctx, ws, *row, cols, 5);
    ho_rtab_t *t = ho_rtab_new(&ctx->model, HO_RTAB_QUALITY,
                               "Skipped and quarantined rows by reason", cols, 5);
    (*row)++;
    lxw_row_t first = *row;
    double tot = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
        for (int c = 0; c < 4; c++) {
            worksheet_write_string(ws, *row, (lxw_col_t)c, ho_rcol_text(st, c), ctx->f_text);
            ho_rtab_text(&ctx->model, m ? &m[c] : NULL, ho_rcol_text(st, c));
        }
        double v = sqlite3_column_double(st, 4);
        tot += v;
        worksheet_write_number(ws, *row, 4, v, ctx->f_int);
        ho_rtab_num(m ? &m[4] : NULL, v, HO_RK_COUNT);
        (*row)++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "data quality reasons");
    }
    worksheet_write_string(ws, *row, 0, "Total", ctx->f_tot_text);
    for (lxw_col_t c = 1; c < 4; c++) {
        worksheet_write_blank(ws, *row, c, ctx->f_tot_text);
    }
    s_sum_formula(ctx, ws, *row, 4, first, tot);
    if (t) {
        t->total_from = t->nrows;
    }
    ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
    ho_rtab_text(&ctx->model, m, "Total");
    ho_rtab_num(m ? &m[4] : NULL, tot, HO_RK_COUNT);
    *row += 2;
    return HO_REPORT_OK;
}

/* The report week's sales outcomes by the feedback source they came from: its Rejected,
 * Lost and never-qualified totals are the Summary's (a cross-sheet check). */
static ho_report_error_t s_week_outcomes(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx,
        ho_reader_stmt_fmt(ctx->rd, HO_RQ_REPORT_QUALITY_WEEK_OUTCOMES, &st, NULL,
                           ho_reader_sql(ctx->has_oimport
                                             ? HO_RQ_REPORT_QUALITY_WEEK_SOURCE
                                             : HO_RQ_REPORT_QUALITY_WEEK_SOURCE_UNRECORDED),
                           ho_reader_sql(ctx->has_flags ? HO_RQ_REPORT_QUALITY_WEEK_NO_MQL
                                                        : HO_RQ_REPORT_QUALITY_WEEK_NO_MQL_NULL),
                           ho_reader_sql(ctx->has_oimport ? HO_RQ_REPORT_QUALITY_WEEK_JOIN_IMPORTS
                                                          : HO_RQ_REPORT_QUALITY_WEEK_NO_JOIN)),
        &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    char title[128];
    snprintf(title, sizeof title, "Sales outcomes recorded in %s, by feedback source",
             ctx->weeks[HO_RW_THIS].label);
    worksheet_write_string(ws, *row, 0, title, ctx->f_bold);
    (*row)++;
    static const char *const cols[] = {
        "Source",      "Accepted", "Rejected", "Sales qualified",
        "Opportunity", "Won",      "Lost",     "On leads marketing never qualified"};
    ho_rheader(ctx, ws, *row, cols, 8);
    ho_rtab_t *t = ho_rtab_new(&ctx->model, HO_RTAB_QUALITY, title, cols, 8);
    (*row)++;
    lxw_row_t first = *row;
    double tot[8] = {0};
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
        worksheet_write_string(ws, *row, 0, ho_rcol_text(st, 0), ctx->f_text);
        ho_rtab_text(&ctx->model, m, ho_rcol_text(st, 0));
        for (int c = 1; c < 8; c++) {
            s_count_cell(ctx, ws, *row, st, c, m, tot);
        }
        (*row)++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        return ho_rsql_fail(ctx, "data quality outcomes");
    }
    worksheet_write_string(ws, *row, 0, "Total", ctx->f_tot_text);
    if (t) {
        t->total_from = t->nrows;
    }
    ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
    ho_rtab_text(&ctx->model, m, "Total");
    for (lxw_col_t c = 1; c < 8; c++) {
        s_sum_formula(ctx, ws, *row, c, first, tot[c]);
        ho_rtab_num(m ? &m[c] : NULL, tot[c], HO_RK_COUNT);
    }
    *row += 2;
    return HO_REPORT_OK;
}

/* Feedback still waiting for its lead at report time (pending_outcomes), and of it the rows
 * past store.yaml feedback_grace (status unknown_lead, schema 5). */
static ho_report_error_t s_pending_now(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    bool status = ctx->has_pending_status;
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(
        ctx, status ? HO_RQ_REPORT_QUALITY_PENDING : HO_RQ_REPORT_QUALITY_PENDING_WITHOUT_STATUS,
        &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int64_t n = 0, unknown = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        unknown = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    static const char *const cols[] = {"Feedback waiting for its lead", "Rows"};
    ho_rtab_t *t =
        ho_rtab_new(&ctx->model, HO_RTAB_QUALITY, "Feedback waiting for its lead", cols, 2);
    ho_rcell_t *m = ho_rtab_row(&ctx->model, t);
    worksheet_write_string(ws, *row, 0, "Feedback rows waiting for their lead now", ctx->f_bold);
    worksheet_write_number(ws, *row, 3, (double)n, ctx->f_int);
    ho_rtab_text(&ctx->model, m, "Feedback rows waiting for their lead now");
    ho_rtab_num(m ? &m[1] : NULL, (double)n, HO_RK_COUNT);
    (*row)++;
    if (status) {
        worksheet_write_string(ws, *row, 0, "of which past the grace period (unknown lead)",
                               ctx->f_text);
        worksheet_write_number(ws, *row, 3, (double)unknown, ctx->f_int);
        m = ho_rtab_row(&ctx->model, t);
        ho_rtab_text(&ctx->model, m, "of which past the grace period (unknown lead)");
        ho_rtab_num(m ? &m[1] : NULL, (double)unknown, HO_RK_COUNT);
        (*row)++;
    }
    return HO_REPORT_OK;
}

ho_report_error_t ho_report_quality(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    ho_report_error_t rc = s_prepare(ctx);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    ho_rtitle(ctx, ws, "Data quality: what came in and what became of it",
              "Every import the store has recorded (one file or one webhook day each), by source. "
              "Rows read = skipped + quarantined + accepted; accepted rows are then new, merged, "
              "matched, unmatched, recorded or pending.");
    ho_rcols(ctx, ws, 0, 0, 30);
    ho_rcols(ctx, ws, 1, 1, 8);
    ho_rcols(ctx, ws, 2, 2, 16);
    ho_rcols(ctx, ws, 3, 3, 20); /* also the reason column of the reasons table */
    ho_rcols(ctx, ws, 4, 13, 12);
    lxw_row_t row = 3;
    if (!ctx->has_imports) {
        ctx->model.dq_note = "This store records no imports yet (its schema predates the "
                             "imports table): import counts are not available.";
        worksheet_write_string(ws, row, 0, ctx->model.dq_note, ctx->f_note);
        row += 2;
    }
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0] && rc == HO_REPORT_OK; i++) {
        rc = s_kind_table(ctx, ws, &row, &s_kinds[i]);
    }
    if (rc == HO_REPORT_OK && ctx->has_imports) {
        rc = s_reasons(ctx, ws, &row);
    }
    if (rc == HO_REPORT_OK) {
        rc = s_week_outcomes(ctx, ws, &row);
    }
    if (rc == HO_REPORT_OK) {
        rc = s_pending_now(ctx, ws, &row);
    }
    ho_rprogress(ctx, "Data quality", (int64_t)row, true);
    return rc;
}

/* Summary's data-freshness table: when each source (and kind) was last imported. Returns
 * the next free row. */
ho_report_error_t ho_report_freshness(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row)
{
    worksheet_write_string(ws, *row, 0, "Data freshness: last import per source", ctx->f_bold);
    (*row)++;
    if (!ctx->has_imports) {
        worksheet_write_string(ws, *row, 0, "(this store records no imports yet)", ctx->f_note);
        (*row)++;
        return HO_REPORT_OK;
    }
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_FRESHNESS, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    static const char *const cols[] = {"Source", "Kind", "Files", "Rows read", "Last import"};
    ho_rheader(ctx, ws, *row, cols, 5);
    ctx->model.has_fresh = true;
    (*row)++;
    int s, n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        worksheet_write_string(ws, *row, 0, ho_rcol_text(st, 0), ctx->f_text);
        worksheet_write_string(ws, *row, 1, ho_rcol_text(st, 1), ctx->f_text);
        worksheet_write_number(ws, *row, 2, sqlite3_column_double(st, 3), ctx->f_int);
        worksheet_write_number(ws, *row, 3, sqlite3_column_double(st, 4), ctx->f_int);
        ho_rmodel_fresh(&ctx->model, ho_rcol_text(st, 0), ho_rcol_text(st, 1),
                        sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
                        sqlite3_column_type(st, 2) != SQLITE_NULL, sqlite3_column_int64(st, 2));
        if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
            worksheet_write_blank(ws, *row, 4, ctx->f_dt);
        } else {
            lxw_datetime d = ho_rdatetime(ctx, sqlite3_column_int64(st, 2));
            worksheet_write_datetime(ws, *row, 4, &d, ctx->f_dt);
        }
        (*row)++;
    }
    sqlite3_reset(st);
    if (s == SQLITE_DONE && n == 0) {
        worksheet_write_string(ws, *row, 0, "(no import recorded yet)", ctx->f_note);
        (*row)++;
    }
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "freshness");
}
