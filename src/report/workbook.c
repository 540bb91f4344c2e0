/* workbook.c - the report driver: opens the store read-only (the read model, reader.h),
 * prepares the shared temp tables every sheet reads, writes the eleven sheets and closes the
 * workbook.
 *
 * All definitions (which timestamp puts an event in a week, what counts as reached) are in
 * reports/README.md; the temp tables below are their building blocks (their SQL, like every
 * sheet's, is named in src/store/read_queries_report*.c):
 *   periods(idx, a, b)       idx 0..11 = the 12 weeks ending with the report week,
 *                            idx 12    = the 4-week window (weeks 8..11)
 *   transitions              view: the stage_history rows that are stage changes
 *   reach(lead_id, mql, sal, sql, opp, won, first_mql)
 *                            per lead, the LATEST time before as_of it entered a stage of
 *                            each "at least" set (so "reached S at or after t" = reach.S >= t);
 *                            first_mql: its first MQL entry before as_of
 *   score_asof(lead_id, score_id, score, grade, quadrant)
 *                            the lead's latest score before as_of
 *   lead_rows(id, created_at, source_channel, original_source, original_campaign)
 *                            view: the lead columns the per-lead passes group by
 *   lead_asof                view: lead_rows, reach and score_asof of a lead in one row
 *   agg_src, agg_band, agg_quad, agg_fi
 *                            the lead pass (scan_leads.c): one scan of lead_asof over the
 *                            12 weeks, grouped in C (agg.c); Summary's Leads, Sources,
 *                            Calibration and Learnings read these few hundred rows
 * and, from one pass over the transitions in lead order (stages.c):
 *   stage_counts(idx, to_stage, n)
 *                            leads that entered the stage in period idx
 *   velocity(idx, from_stage, to_stage, median_ms)
 *                            median ms from the latest from_stage entry at or before each
 *                            to_stage entry in period idx (MQL->SAL, SAL->SQL)
 *   cohort_counts(idx, n, sal, sql, opp, won)
 *                            MQL cohorts: the n leads with an MQL entry in period idx, and
 *                            how many reached SAL..won at or after their first such entry
 *   week_cohort(lead_id, e, stage)
 *                            the report week's MQL cohort: e = the lead's first MQL entry
 *                            in the week, stage = its latest stage before as_of
 *   outcome_*, assign_periods, rep_rows, rep_names, sla_periods
 *                            the passes (scans.c): outcomes, assignments and sla_breaches
 *                            each scanned once and grouped in C for the sheets that count them
 * On a store with the roll-ups of schema version 8 (main.lead_facts, kept by the store as
 * it applies events) reach, score_asof and lead_rows are views over lead_facts (the _FACTS
 * setups): a value before as_of is used as it is, a later one sends that lead to its history
 * (a report re-run for an older week); otherwise (an older store, opened read-only, not
 * migrated yet) they are computed from the raw history as before. Same definitions, same
 * cells either way. */
#include "handoff/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handoff/defaults.h"
#include "report/report_int.h"

static const char *const s_sheet_names[HO_REPORT_SHEETS] = {
    "Summary",     "Funnel",    "Sources",  "Lost reasons", "Lost and rejected", "Reps",
    "Calibration", "Learnings", "Handoffs", "Data quality", "Definitions",
};

const char *ho_report_sheet_name(int index)
{
    return index >= 0 && index < HO_REPORT_SHEETS ? s_sheet_names[index] : NULL;
}

const char *ho_report_strerror(ho_report_error_t code)
{
    switch (code) {
    case HO_REPORT_OK:
        return "ok";
    case HO_REPORT_ERR_WEEK:
        return "bad ISO week";
    case HO_REPORT_ERR_TIMEZONE:
        return "unknown time zone";
    case HO_REPORT_ERR_DB_OPEN:
        return "cannot open database";
    case HO_REPORT_ERR_SCHEMA:
        return "not a handoff store database";
    case HO_REPORT_ERR_SQL:
        return "query failed";
    case HO_REPORT_ERR_XLSX:
        return "cannot write workbook";
    case HO_REPORT_ERR_IO:
        return "i/o error";
    case HO_REPORT_ERR_NOMEM:
        return "out of memory";
    case HO_REPORT_ERR_ARG:
        return "invalid argument";
    }
    return "unknown error";
}

/* ---- SQL helpers ---- */

ho_report_error_t ho_rsql_fail(ho_rctx_t *ctx, const char *what)
{
    ho_err_set(ctx->err, HO_ERR_IO, "", "%s: %s: %s", ctx->opts->db_path, what,
               ho_reader_errmsg(ctx->rd));
    return HO_REPORT_ERR_SQL;
}

ho_report_error_t ho_rsql_prepared(ho_rctx_t *ctx, int rc, sqlite3_stmt *const *st)
{
    if (rc != HO_OK) {
        return ho_rsql_fail(ctx, "prepare");
    }
    ho_rsql_bind_common(ctx, *st);
    return HO_REPORT_OK;
}

ho_report_error_t ho_rsql_prepare(ho_rctx_t *ctx, ho_rq_t q, sqlite3_stmt **st)
{
    return ho_rsql_prepared(ctx, ho_reader_stmt(ctx->rd, q, st, NULL), st);
}

ho_report_error_t ho_rsql_exec(ho_rctx_t *ctx, ho_rq_t q)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, q, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    return ho_reader_exec(ctx->rd, st, NULL) == HO_OK ? HO_REPORT_OK : ho_rsql_fail(ctx, "exec");
}

ho_report_error_t ho_rsql_collect(ho_rctx_t *ctx, ho_rq_t q, const char *what, void **arr,
                                  size_t *n, size_t size, ho_rrow_fn row)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, q, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    size_t cap = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char *grown = realloc(*arr, cap * size);
            if (!grown) {
                break;
            }
            *arr = grown;
        }
        if (!row(ctx, st, (char *)*arr + *n * size)) {
            break;
        }
        (*n)++;
    }
    sqlite3_reset(st);
    if (s == SQLITE_ROW) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
        return HO_REPORT_ERR_NOMEM;
    }
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, what);
}

static void s_bind(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0) {
        sqlite3_bind_int64(st, i, v);
    }
}

void ho_rsql_bind_common(ho_rctx_t *ctx, sqlite3_stmt *st)
{
    s_bind(st, ":asof", ctx->as_of);
    s_bind(st, ":a4", ctx->win4_a);
    s_bind(st, ":a12", ctx->win12_a);
    s_bind(st, ":wa", ctx->weeks[HO_RW_THIS].a);
    s_bind(st, ":wb", ctx->weeks[HO_RW_THIS].b);
}

int ho_rweek_idx(const ho_rctx_t *ctx, int64_t t)
{
    if (t < ctx->weeks[0].a || t >= ctx->weeks[HO_RW - 1].b) {
        return -1;
    }
    int lo = 0, hi = HO_RW - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ctx->weeks[mid].a <= t) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

const char *ho_rcol_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- write helpers ---- */

lxw_datetime ho_rdatetime(const ho_rctx_t *ctx, int64_t ms)
{
    /* whole seconds, as before: the sub-second part of an instant is not shown */
    ho_civil_time_t c = ho_tz_civil(ctx->zone, ho_floor_div(ms, 1000) * 1000);
    lxw_datetime dt = {c.year, c.month, c.day, c.hour, c.minute, (double)c.second};
    return dt;
}

lxw_datetime ho_rdate_of_days(int64_t days)
{
    int y, m, d;
    ho_civil_from_days(days, &y, &m, &d);
    lxw_datetime dt = {y, m, d, 0, 0, 0};
    return dt;
}

void ho_rtitle(ho_rctx_t *ctx, lxw_worksheet *ws, const char *title, const char *subtitle)
{
    worksheet_set_row(ws, 0, 22, NULL);
    worksheet_write_string(ws, 0, 0, title, ctx->f_title);
    worksheet_write_string(ws, 1, 0, subtitle, ctx->f_sub);
}

void ho_rcols(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_col_t first, lxw_col_t last, double width)
{
    for (lxw_col_t c = first; c <= last && c < 64; c++) {
        ctx->colw[c] = width;
    }
    worksheet_set_column(ws, first, last, width, NULL);
}

/* Greedy word wrap, counting UTF-8 characters; a bold character is taken as 1.15 widths, a
 * normal one as 1.05 (proportional fonts), a word longer than a line breaks. */
int ho_rlines(const char *text, double width, bool bold)
{
    int cpl = (int)(width / (bold ? 1.15 : 1.05));
    if (cpl < 1) {
        cpl = 1;
    }
    int lines = 1, used = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        int w = 0;
        const char *q = p;
        while (*q && *q != ' ') {
            w += ((unsigned char)*q & 0xC0) != 0x80;
            q++;
        }
        if (w == 0) {
            break;
        }
        int need = used ? used + 1 + w : w;
        if (need <= cpl) {
            used = need;
        } else {
            if (used) {
                lines++;
            }
            lines += (w - 1) / cpl;
            used = w - ((w - 1) / cpl) * cpl;
        }
        p = q;
    }
    return lines;
}

void ho_rheader(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const char *const *cols, int n)
{
    int lines = 1;
    for (int i = 0; i < n && i < 64; i++) {
        int l = ho_rlines(cols[i], ctx->colw[i], true);
        lines = l > lines ? l : lines;
    }
    if (lines > 1) {
        worksheet_set_row(ws, row, 15.0 * lines + 2, NULL);
    }
    for (int i = 0; i < n; i++) {
        worksheet_write_string(ws, row, (lxw_col_t)i, cols[i], ctx->f_head);
    }
}

void ho_rlist_header(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const char *const *cols,
                     const double *widths, int n)
{
    for (int i = 0; i < n; i++) {
        ho_rcols(ctx, ws, (lxw_col_t)i, (lxw_col_t)i, widths[i]);
    }
    ho_rheader(ctx, ws, row, cols, n);
    worksheet_freeze_panes(ws, row + 1, 0);
}

void ho_rrate(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, double num,
              double den, lxw_format *fmt)
{
    if (den > 0) {
        worksheet_write_number(ws, row, col, num / den, fmt ? fmt : ctx->f_pct);
    } else {
        worksheet_write_blank(ws, row, col, fmt ? fmt : ctx->f_pct);
    }
}

void ho_rprogress(ho_rctx_t *ctx, const char *sheet, int64_t rows, bool done)
{
    if (ctx->opts->progress) {
        ctx->opts->progress(ctx->opts->progress_arg, sheet, rows, done);
    }
}

lxw_chart *ho_rchart(ho_rctx_t *ctx, uint8_t type)
{
    lxw_chart *c = workbook_add_chart(ctx->wb, type);
    if (c) {
        ctx->charts++;
    }
    return c;
}

/* Labels from reasons.yaml. Accepted shapes (the taxonomy file is the feedback worker's):
 *   reasons: { budget: "No budget", timing: { label: "Not now", owner: sales } }
 *   reasons: [ { code: budget, label: "No budget" }, ... ]
 * or the same maps/lists at the root. A code without a label is shown as the code. */
const char *ho_rreason_label(ho_rctx_t *ctx, const char *code)
{
    if (!ctx->reasons) {
        return code;
    }
    const ho_node_t *root = ho_conf_root(ctx->reasons);
    const ho_node_t *list = ho_node_get(root, "reasons");
    if (!list) {
        list = root;
    }
    if (ho_node_kind(list) == HO_NODE_MAP) {
        const ho_node_t *v = ho_node_get(list, code);
        if (v && ho_node_kind(v) == HO_NODE_SCALAR && ho_node_str(v) && *ho_node_str(v)) {
            return ho_node_str(v);
        }
        if (v && ho_node_kind(v) == HO_NODE_MAP) {
            const ho_node_t *l = ho_node_get(v, "label");
            if (l && ho_node_str(l) && *ho_node_str(l)) {
                return ho_node_str(l);
            }
        }
    } else if (ho_node_kind(list) == HO_NODE_SEQ) {
        for (size_t i = 0; i < ho_node_size(list); i++) {
            const ho_node_t *item = ho_node_at(list, i);
            const ho_node_t *c = ho_node_get(item, "code");
            const ho_node_t *l = ho_node_get(item, "label");
            if (c && ho_node_str(c) && !strcmp(ho_node_str(c), code) && l && ho_node_str(l) &&
                *ho_node_str(l)) {
                return ho_node_str(l);
            }
        }
    }
    return code;
}

const char *ho_rreason_owner(ho_rctx_t *ctx, const char *code)
{
    const ho_node_t *root = ctx->reasons ? ho_conf_root(ctx->reasons) : NULL;
    const ho_node_t *list = root ? ho_node_get(root, "reasons") : NULL;
    if (!list) {
        list = root;
    }
    const ho_node_t *v = NULL;
    if (list && ho_node_kind(list) == HO_NODE_MAP) {
        v = ho_node_get(list, code);
    } else if (list && ho_node_kind(list) == HO_NODE_SEQ) {
        for (size_t i = 0; i < ho_node_size(list) && !v; i++) {
            const ho_node_t *c = ho_node_get(ho_node_at(list, i), "code");
            if (c && ho_node_str(c) && !strcmp(ho_node_str(c), code)) {
                v = ho_node_at(list, i);
            }
        }
    }
    const ho_node_t *o = v && ho_node_kind(v) == HO_NODE_MAP ? ho_node_get(v, "owner") : NULL;
    return o && ho_node_str(o) ? ho_node_str(o) : "";
}

const char *ho_rstage_label(ho_rctx_t *ctx, const char *code)
{
    const ho_node_t *stages =
        ctx->lifecycle ? ho_node_get(ho_conf_root(ctx->lifecycle), "stages") : NULL;
    const ho_node_t *v = stages ? ho_node_get(stages, code) : NULL;
    return v && ho_node_str(v) && *ho_node_str(v) ? ho_node_str(v) : code;
}

const char *ho_rchannel_label(const char *code, char *buf, size_t cap)
{
    /* the store's normalized codes (paid_search) as words (Paid search); "(none)" stays */
    snprintf(buf, cap, "%s", code);
    for (char *p = buf; *p; p++) {
        if (*p == '_') {
            *p = ' ';
        }
    }
    if (buf[0] >= 'a' && buf[0] <= 'z') {
        buf[0] = (char)(buf[0] - 'a' + 'A');
    }
    return buf;
}

const char *ho_rquadrant_label(const char *code)
{
    /* the four quadrants of scoring.yaml (fit x interest) */
    static const char *const map[][2] = {
        {"mql_now", "Good fit, high interest"},
        {"group_offering", "Low fit, high interest"},
        {"nurture", "Good fit, low interest"},
        {"never", "Low fit, low interest"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!strcmp(code, map[i][0])) {
            return map[i][1];
        }
    }
    return code;
}

/* ---- setup ---- */

static ho_report_error_t s_open_db(ho_rctx_t *ctx)
{
    ho_err_t err = {0};
    ctx->rd = ho_reader_open(ctx->opts->db_path, 10000, &err);
    if (!ctx->rd) {
        ho_err_set(ctx->err, err.code, err.field, "%s", err.message);
        return err.code == HO_ERR_VERSION ? HO_REPORT_ERR_SCHEMA : HO_REPORT_ERR_DB_OPEN;
    }
    return HO_REPORT_OK;
}

/* Run the setup q, a format whose one argument is as_of (a _FACTS view). */
static ho_report_error_t s_exec_asof(ho_rctx_t *ctx, ho_rq_t q)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx, ho_reader_stmt_fmt(ctx->rd, q, &st, NULL, (long long)ctx->as_of), &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    return ho_reader_exec(ctx->rd, st, NULL) == HO_OK ? HO_REPORT_OK : ho_rsql_fail(ctx, "exec");
}

void ho_rperiod_bounds(const ho_rctx_t *ctx, int idx, int64_t *a, int64_t *b)
{
    *a = idx < HO_RW ? ctx->weeks[idx].a : ctx->win4_a;
    *b = idx < HO_RW ? ctx->weeks[idx].b : ctx->as_of;
}

ho_report_error_t ho_report_setup_views(ho_rctx_t *ctx, bool has_kind)
{
    static const ho_rq_t facts[] = {
        HO_RQ_REPORT_SETUP_REACH_FACTS,
        HO_RQ_REPORT_SETUP_SCORE_ASOF_FACTS,
        HO_RQ_REPORT_SETUP_LEAD_ROWS_FACTS,
        HO_RQ_REPORT_SETUP_LEAD_ASOF_FACTS,
    };
    ho_report_error_t rc =
        ho_rsql_exec(ctx, has_kind ? HO_RQ_REPORT_SETUP_TRANSITIONS
                                   : HO_RQ_REPORT_SETUP_TRANSITIONS_WITHOUT_KIND);
    for (size_t i = 0; ctx->has_facts && i < sizeof facts / sizeof facts[0] && rc == HO_REPORT_OK;
         i++) {
        rc = ho_reader_query_flags(facts[i]) & HO_RQF_FORMAT ? s_exec_asof(ctx, facts[i])
                                                             : ho_rsql_exec(ctx, facts[i]);
    }
    return rc;
}

static ho_report_error_t s_prepare_tables(ho_rctx_t *ctx)
{
    /* reach, score_asof and lead_rows: from the raw history, or over lead_facts */
    static const ho_rq_t raw[] = {
        HO_RQ_REPORT_SETUP_REACH,      HO_RQ_REPORT_SETUP_REACH_FILL,
        HO_RQ_REPORT_SETUP_SCORE_ASOF, HO_RQ_REPORT_SETUP_SCORE_ASOF_FILL,
        HO_RQ_REPORT_SETUP_LEAD_ROWS,  HO_RQ_REPORT_SETUP_LEAD_ASOF,
    };
    ctx->has_imports = ho_reader_has(ctx->rd, "imports", NULL);
    ctx->has_import_results = ho_reader_has(ctx->rd, "import_results", NULL);
    ctx->has_flags = ho_reader_has(ctx->rd, "outcomes", "flags");
    ctx->has_implied = ho_reader_has(ctx->rd, "outcomes", "implied");
    ctx->has_oimport = ho_reader_has(ctx->rd, "outcomes", "import_id");
    ctx->has_pending_status = ho_reader_has(ctx->rd, "pending_outcomes", "status");
    ctx->has_facts = ho_reader_has(ctx->rd, "lead_facts", "first_mql");
    /* Schema v2 adds stage_history.kind: only 'transition' rows are stage changes (the
     * others are notes that repeat the current stage). A v1 database has transitions only. */
    bool has_kind = ho_reader_has(ctx->rd, "stage_history", "kind");
    ho_report_error_t rc = ho_report_setup_views(ctx, has_kind);
    if (rc != HO_REPORT_OK ||
        (rc = ho_rsql_exec(ctx, HO_RQ_REPORT_SETUP_PERIODS)) != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_stmt *st;
    if ((rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SETUP_PERIODS_ROW, &st)) != HO_REPORT_OK) {
        return rc;
    }
    for (int i = 0; i <= HO_P4; i++) {
        int64_t a, b;
        ho_rperiod_bounds(ctx, i, &a, &b);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int64(st, 2, a);
        sqlite3_bind_int64(st, 3, b);
        if (ho_reader_exec(ctx->rd, st, NULL) != HO_OK) {
            return ho_rsql_fail(ctx, "periods");
        }
    }
    for (size_t i = 0; !ctx->has_facts && i < sizeof raw / sizeof raw[0] && rc == HO_REPORT_OK;
         i++) {
        rc = ho_rsql_exec(ctx, raw[i]);
    }
    /* the lead scan and the rule pass on the second connection (side.c), if there is one,
     * while this one makes the stage, outcome, assignment and SLA passes */
    if (rc == HO_REPORT_OK) {
        rc = ho_rside_start(ctx, has_kind);
    }
    if (rc == HO_REPORT_OK) {
        rc = ho_report_stages(ctx);
    }
    if (rc == HO_REPORT_OK) {
        rc = ho_report_passes(ctx);
    }
    return rc;
}

/* The rest of the shared temp tables, once the second connection's thread is done (side.c):
 * the assignment and SLA passes' and the lead pass's (agg_*; it adds won_amount, which the
 * outcomes pass fills). */
static ho_report_error_t s_finish_tables(ho_rctx_t *ctx)
{
    ho_report_error_t rc = ho_rside_join(ctx);
    if (rc == HO_REPORT_OK && ctx->assign) {
        rc = ho_report_assign_write(ctx, ctx->assign);
    }
    if (rc == HO_REPORT_OK) {
        rc = ho_report_scan_leads(ctx);
    }
    ho_rpass_destroy(&ctx->assign); /* written into their temp tables */
    ho_rleads_destroy(&ctx->leads);
    return rc;
}

static void s_formats(ho_rctx_t *ctx)
{
    lxw_workbook *wb = ctx->wb;
#define NEWFMT(var, numfmt)                                                                        \
    do {                                                                                           \
        var = workbook_add_format(wb);                                                             \
        if (numfmt) {                                                                              \
            format_set_num_format(var, numfmt);                                                    \
        }                                                                                          \
    } while (0)
    NEWFMT(ctx->f_title, NULL);
    format_set_bold(ctx->f_title);
    format_set_font_size(ctx->f_title, 14);
    NEWFMT(ctx->f_sub, NULL);
    format_set_italic(ctx->f_sub);
    format_set_font_color(ctx->f_sub, 0x595959);
    NEWFMT(ctx->f_head, NULL);
    format_set_bold(ctx->f_head);
    format_set_bg_color(ctx->f_head, 0xD9E1F2);
    format_set_bottom(ctx->f_head, LXW_BORDER_THIN);
    format_set_text_wrap(ctx->f_head);
    format_set_align(ctx->f_head, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_text, NULL);
    NEWFMT(ctx->f_bold, NULL);
    format_set_bold(ctx->f_bold);
    NEWFMT(ctx->f_int, "#,##0");
    NEWFMT(ctx->f_avg, "#,##0.0");
    NEWFMT(ctx->f_money, "#,##0.00");
    NEWFMT(ctx->f_pct, "0.0%");
    NEWFMT(ctx->f_hours, "#,##0.0");
    NEWFMT(ctx->f_date, "yyyy-mm-dd");
    NEWFMT(ctx->f_dt, "yyyy-mm-dd hh:mm");
    NEWFMT(ctx->f_dint, "+#,##0;-#,##0;0");
    NEWFMT(ctx->f_dpct, "+0.0%;-0.0%;0.0%");
    NEWFMT(ctx->f_dhours, "+#,##0.0;-#,##0.0;0.0");
    NEWFMT(ctx->f_dmoney, "+#,##0.00;-#,##0.00;0.00");
    NEWFMT(ctx->f_note, NULL);
    format_set_italic(ctx->f_note);
    format_set_font_color(ctx->f_note, 0x595959);
    NEWFMT(ctx->f_tot_text, NULL);
    format_set_bold(ctx->f_tot_text);
    format_set_top(ctx->f_tot_text, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_int, "#,##0");
    format_set_bold(ctx->f_tot_int);
    format_set_top(ctx->f_tot_int, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_money, "#,##0.00");
    format_set_bold(ctx->f_tot_money);
    format_set_top(ctx->f_tot_money, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_pct, "0.0%");
    format_set_bold(ctx->f_tot_pct);
    format_set_top(ctx->f_tot_pct, LXW_BORDER_THIN);
    NEWFMT(ctx->f_wrap, NULL);
    format_set_text_wrap(ctx->f_wrap);
    format_set_align(ctx->f_wrap, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_wrap_bold, NULL);
    format_set_text_wrap(ctx->f_wrap_bold);
    format_set_bold(ctx->f_wrap_bold);
    format_set_align(ctx->f_wrap_bold, LXW_ALIGN_VERTICAL_TOP);
    /* list sheets (Handoffs, Lost and rejected): every cell top-aligned, like the wrapped ones */
    NEWFMT(ctx->f_top, NULL);
    format_set_align(ctx->f_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_dt_top, "yyyy-mm-dd hh:mm");
    format_set_align(ctx->f_dt_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_int_top, "#,##0");
    format_set_align(ctx->f_int_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_lift, "0.00");
    NEWFMT(ctx->f_small, NULL);
    format_set_italic(ctx->f_small);
    format_set_font_color(ctx->f_small, 0x808080);
    format_set_align(ctx->f_small, LXW_ALIGN_RIGHT);
    NEWFMT(ctx->f_ok, NULL);
    format_set_font_color(ctx->f_ok, 0x006100);
    NEWFMT(ctx->f_bad, NULL);
    format_set_bold(ctx->f_bad);
    format_set_font_color(ctx->f_bad, 0x9C0006);
    format_set_bg_color(ctx->f_bad, 0xFFC7CE);
#undef NEWFMT
}

typedef ho_report_error_t(s_sheet_fn)(ho_rctx_t *ctx, lxw_worksheet *ws);

/* Print setup, for the copies handed round at the Monday meeting: landscape, the sheet and
 * page number in the footer, the report week in the header; a single-table sheet repeats its
 * header row on every page (head_row >= 0); every sheet prints one page wide (the Handoffs
 * list wraps its long columns to stay readable at that width). */
static void s_page_setup(ho_rctx_t *ctx, lxw_worksheet *ws, int head_row)
{
    char header[128];
    snprintf(header, sizeof header, "&Lhandoff weekly conversion report&R%s",
             ctx->weeks[HO_RW_THIS].label);
    worksheet_set_landscape(ws);
    worksheet_set_header(ws, header);
    worksheet_set_footer(ws, "&L&A&RPage &P of &N");
    if (head_row >= 0) {
        worksheet_repeat_rows(ws, (lxw_row_t)head_row, (lxw_row_t)head_row);
    }
    worksheet_fit_to_pages(ws, 1, 0);
}

static ho_report_error_t s_write(ho_rctx_t *ctx, const char *tmp_path)
{
    static s_sheet_fn *const fns[HO_REPORT_SHEETS] = {
        ho_report_summary,   ho_report_funnel,  ho_report_sources,     ho_report_reasons,
        ho_report_drilldown, ho_report_reps,    ho_report_calibration, ho_report_learnings,
        ho_report_handoffs,  ho_report_quality, ho_report_definitions,
    };
    /* Constant memory: each row is flushed once a later row is written, so the Handoffs
     * list (one row per MQL of the week) never sits in memory. Every sheet writes its rows
     * in order for this reason. */
    lxw_workbook_options wopts = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    ctx->wb = workbook_new_opt(tmp_path, &wopts);
    if (!ctx->wb) {
        ho_err_set(ctx->err, HO_ERR_IO, "output", "%s: cannot create workbook", tmp_path);
        return HO_REPORT_ERR_XLSX;
    }
    char title[96];
    snprintf(title, sizeof title, "handoff weekly conversion report %s",
             ctx->weeks[HO_RW_THIS].label);
    /* Fixed creation date, never the wall clock: the caller's --now when it gives one, else
     * the end of the report week. Same data, same week and --now -> the same bytes. */
    lxw_doc_properties props = {
        .title = title,
        .subject = "MQL to SQL conversion and lost-lead reasons",
        .author = "handoff",
        .company = "",
        .comments = "Definitions: the Definitions sheet",
        .created = (time_t)((ctx->opts->now_ms > 0 ? ctx->opts->now_ms : ctx->as_of) / 1000)};
    workbook_set_properties(ctx->wb, &props);
    s_formats(ctx);
    lxw_worksheet *ws[HO_REPORT_SHEETS];
    for (int i = 0; i < HO_REPORT_SHEETS; i++) {
        ws[i] = workbook_add_worksheet(ctx->wb, s_sheet_names[i]);
    }
    ho_report_error_t rc = HO_REPORT_OK;
    /* The header row each sheet repeats on printed pages (-1: several tables, or one page). */
    static const int head_row[HO_REPORT_SHEETS] = {-1, 3, -1, -1, 3, 3, -1, -1, 0, -1, 3};
    /* The order the sheets are filled in (each its own rows, so any order makes the same
     * file): first those that read nothing of the second connection's passes, while its
     * thread may still be scanning (side.c), then (-1) those passes' tables, then Summary,
     * Sources, Reps, Calibration and Learnings, which read them. */
    static const int order[HO_REPORT_SHEETS + 1] = {1, 3, 4, 8, 9, 10, -1, 0, 2, 5, 6, 7};
    for (int k = 0; k <= HO_REPORT_SHEETS && rc == HO_REPORT_OK; k++) {
        int i = order[k];
        if (i < 0) {
            rc = s_finish_tables(ctx);
            continue;
        }
        ho_rprogress(ctx, s_sheet_names[i], 0, false); /* started: says what takes the time */
        for (int c = 0; c < 64; c++) {
            ctx->colw[c] = 8.43; /* Excel's default width */
        }
        rc = fns[i](ctx, ws[i]);
        s_page_setup(ctx, ws[i], head_row[i]);
    }
    lxw_error xrc = workbook_close(ctx->wb);
    ctx->wb = NULL;
    if (rc == HO_REPORT_OK && xrc != LXW_NO_ERROR) {
        ho_err_set(ctx->err, HO_ERR_IO, "output", "%s: %s", tmp_path, lxw_strerror(xrc));
        rc = HO_REPORT_ERR_XLSX;
    }
    if (rc == HO_REPORT_OK && ctx->charts > 0) {
        rc =
            ho_report_pareto_patch(tmp_path, ctx->pareto ? HO_REPORT_PARETO_TITLE : NULL, ctx->err);
    }
    return rc;
}

/* The 12 report weeks and the windows, with TZ pushed. */
static void s_weeks(ho_rctx_t *ctx)
{
    for (int i = 0; i < HO_RW; i++) {
        ho_week_t w = ho_week_add(ctx->opts->week, i - HO_RW_THIS);
        ho_rweek_t *rw = &ctx->weeks[i];
        ho_week_format(w, rw->label, sizeof rw->label);
        rw->monday = ho_week_monday(w);
        rw->a = ho_tz_midnight_ms(ctx->zone, rw->monday);
        rw->b = ho_tz_midnight_ms(ctx->zone, rw->monday + 7);
    }
    ctx->as_of = ctx->weeks[HO_RW_THIS].b;
    ctx->win4_a = ctx->weeks[HO_RW - 4].a;
    ctx->win12_a = ctx->weeks[0].a;
}

/* What both entry points check and set up first: the week exists, the zone loads, the
 * week windows. HO_REPORT_OK with ctx ready (its zone to destroy), else the error in err. */
static ho_report_error_t s_begin(ho_rctx_t *ctx, const ho_report_opts_t *opts, ho_err_t *err)
{
    if (opts->week.week < 1 || opts->week.week > ho_week_count(opts->week.year)) {
        ho_err_set(err, HO_ERR_FIELD, "week", "week: %d-W%02d does not exist", opts->week.year,
                   opts->week.week);
        return HO_REPORT_ERR_WEEK;
    }
    *ctx = (ho_rctx_t){.opts = opts, .err = err, .tz = opts->timezone ? opts->timezone : "UTC"};
    ctx->zone = ho_report_tz_load(ctx->tz, err);
    if (!ctx->zone) {
        return HO_REPORT_ERR_TIMEZONE;
    }
    s_weeks(ctx);
    return HO_REPORT_OK;
}

ho_report_error_t ho_report_rules(const ho_report_opts_t *opts, ho_report_rule_fn *fn, void *arg,
                                  ho_err_t *err)
{
    ho_err_t dummy;
    if (!err) {
        err = &dummy;
    }
    memset(err, 0, sizeof *err);
    if (!opts || !opts->db_path || !fn) {
        ho_err_set(err, HO_ERR_MISSING, "", "report: database path and callback are required");
        return HO_REPORT_ERR_ARG;
    }
    ho_rctx_t ctx;
    ho_report_error_t rc = s_begin(&ctx, opts, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    rc = s_open_db(&ctx);
    if (rc == HO_REPORT_OK) {
        rc = ho_reader_begin(ctx.rd, NULL) == HO_OK ? HO_REPORT_OK : ho_rsql_fail(&ctx, "begin");
    }
    if (rc == HO_REPORT_OK) {
        rc = s_prepare_tables(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        rc = s_finish_tables(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        double base[3];
        rc = ho_report_rules_each(&ctx, fn, arg, base);
    }
    ho_rside_destroy(&ctx);
    ho_reader_destroy(&ctx.rd);
    ho_tz_destroy(&ctx.zone);
    return rc;
}

ho_report_error_t ho_report_write(const ho_report_opts_t *opts, ho_report_result_t *res,
                                  ho_err_t *err)
{
    ho_err_t dummy;
    if (!err) {
        err = &dummy;
    }
    memset(err, 0, sizeof *err);
    if (!opts || !opts->db_path || !opts->output) {
        ho_err_set(err, HO_ERR_MISSING, "", "report: database path and output are required");
        return HO_REPORT_ERR_ARG;
    }
    ho_rctx_t ctx;
    ho_report_error_t rc = s_begin(&ctx, opts, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    ho_err_t cerr;
    ctx.reasons = ho_conf_load_named(opts->config_dir, "reasons.yaml", &cerr);
    ctx.lifecycle = ho_conf_load_named(opts->config_dir, "lifecycle.yaml", &cerr);

    char tmp_path[4096];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp-%ld", opts->output, (long)getpid());
    /* Fail before the queries (16 s over 1M leads), with our own message, when the output
     * cannot be created: libxlsxwriter would only find out at close, and print to stderr. */
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ho_err_set(err, HO_ERR_IO, "output", "%s: cannot write: %s", opts->output, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    } else {
        close(fd);
        unlink(tmp_path);
        rc = s_open_db(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        /* One read transaction (or two reading one committed state, side.c): every sheet
         * sees the same snapshot of the store. */
        rc = ho_rside_begin(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        /* The shared temp tables read every stage change and score once: on a big store the
         * longest step, so it is announced like a sheet. */
        ho_rprogress(&ctx, HO_REPORT_PREPARE, 0, false);
        rc = s_prepare_tables(&ctx);
        if (rc == HO_REPORT_OK) {
            ho_rprogress(&ctx, HO_REPORT_PREPARE, 0, true);
        }
    }
    char html_tmp[4096];
    snprintf(html_tmp, sizeof html_tmp, "%s.tmp-%ld", opts->html ? opts->html : "", (long)getpid());
    if (rc == HO_REPORT_OK && opts->html) {
        rc = ho_rhtml_open(&ctx, html_tmp); /* fills as the sheets go, written after them */
    }
    if (rc == HO_REPORT_OK) {
        rc = s_write(&ctx, tmp_path);
    }
    if (rc == HO_REPORT_OK && ctx.html) {
        rc = ho_rhtml_finish(&ctx);
    }
    ho_rhtml_abort(&ctx); /* after an error: the page is not finished */
    if (rc == HO_REPORT_OK && rename(tmp_path, opts->output) != 0) {
        ho_err_set(err, HO_ERR_IO, "output", "%s: cannot write: %s", opts->output, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    }
    if (rc == HO_REPORT_OK && opts->html && rename(html_tmp, opts->html) != 0) {
        ho_err_set(err, HO_ERR_IO, "html", "%s: cannot write: %s", opts->html, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    }
    if (rc != HO_REPORT_OK) {
        unlink(tmp_path);
        if (opts->html) {
            unlink(html_tmp);
        }
    }
    if (res && rc == HO_REPORT_OK) {
        memset(res, 0, sizeof *res);
        res->sheets = HO_REPORT_SHEETS;
        for (int i = 0; i < HO_REPORT_SHEETS; i++) {
            res->sheet_names[i] = s_sheet_names[i];
        }
        res->leads = ctx.leads_week;
        res->mqls = ctx.mqls_week;
        res->week_start_ms = ctx.weeks[HO_RW_THIS].a;
        res->week_end_ms = ctx.weeks[HO_RW_THIS].b;
        res->threads = ctx.side ? 2 : 1;
    }
    ho_rside_destroy(&ctx);
    ho_reader_destroy(&ctx.rd);
    ho_rmodel_free(&ctx.model);
    ho_conf_destroy(&ctx.reasons);
    ho_conf_destroy(&ctx.lifecycle);
    ho_tz_destroy(&ctx.zone);
    return rc;
}
