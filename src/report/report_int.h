/* report_int.h - what the sheet writers of the report share (private to src/report/). */
#ifndef HO_REPORT_INT_H
#define HO_REPORT_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <xlsxwriter.h>

#include "handoff/conf.h"
#include "handoff/reader.h"
#include "handoff/report.h"
#include "handoff/time.h"

/* ---- the report's zone (week.c) ---- */
/* The zone named tz ("" or NULL: UTC), or NULL with err filled (field "timezone"). */
ho_tz_t *ho_report_tz_load(const char *tz, ho_err_t *err);

/* ---- the report context ---- */
#define HO_RW 12 /* weeks in the trailing window; weeks[HO_RW-1] is the report week */
#define HO_RW_THIS (HO_RW - 1)
#define HO_RW_LAST (HO_RW - 2)
/* cohorts of the last this-many weeks (W-3..W) are immature: less than 4 weeks to convert */
#define HO_IMMATURE_WEEKS 4
#define HO_P4 HO_RW /* period index of the 4-week window in the temp table `periods` */

typedef struct {
    char label[16]; /* 2026-W47 */
    int64_t monday; /* days since epoch */
    int64_t a, b;   /* [a, b) in UTC ms */
} ho_rweek_t;

/* ---- the report's data model: the numbers both writers read (the .xlsx sheets and the HTML
 * page, html.c). Each sheet fills its part once, from its one query, then writes it; the HTML
 * page is written after the sheets from the same parts. ---- */

/* One period of the Summary (the 12 weeks and the 4-week window). */
typedef struct {
    double leads, mql, sal, sql, opp, won, won_amount, recycled, sla;
    double rejected, lost;     /* outcome rows recorded in the period */
    double no_mql;             /* outcome rows on leads marketing never qualified */
    double cohort, cohort_sql; /* MQL->SQL: cohort size and how many reached SQL */
    double accepted, decided;  /* SAL acceptance: accepted / (accepted + rejected) */
    double pipeline;           /* amounts of opportunity outcomes recorded in the period */
    bool has_med[3];           /* medians: assignment->acceptance (h), MQL->SAL, SAL->SQL (days) */
    double med[3];
} ho_rperiod_t;

typedef enum { HO_RK_COUNT, HO_RK_MONEY, HO_RK_RATE, HO_RK_HOURS } ho_rkind_t;

/* One Summary row as shown: v = this week, last week, delta, 4-week average; has[k] false =
 * an empty cell (a rate with nothing to convert, a median of nothing). */
typedef struct {
    char name[128];
    const char *note;
    ho_rkind_t kind;
    bool has[4];
    double v[4];
} ho_rkpi_t;

#define HO_RKPIS 24
#define HO_RMAXKEYS 10 /* reason x key matrix columns; the rest are summed under "Other" */
#define HO_RGRID 5     /* calibration grid bands per axis */

typedef struct {
    char *code;  /* leads.source_channel, "(none)" when blank */
    double n[5]; /* leads, MQL, SQL, won, won amount */
} ho_rchan_t;

typedef struct {
    char *code; /* reason code, "unspecified" when blank */
    double rejected, lost, week;
} ho_rreason_t;

typedef struct {
    char *keys[HO_RMAXKEYS];
    int nk, ncol; /* ncol = nk + 1 when there is an "Other" column */
    bool other;
    double *m; /* reasons x ncol, row-major */
} ho_rmatrix_t;

/* Summary's data freshness: one (source, kind) of the imports table. */
typedef struct {
    char *source, *kind;
    double files, read;
    bool has_last;
    int64_t last; /* greatest finished_at, UTC ms */
} ho_rfresh_t;

/* One Reps row: the counts as read, the median hours to accept (has_med false: none). */
typedef struct {
    char *rep, *name;
    double assigned, accepted, sla, leads, sql, won;
    bool has_med;
    double med_h;
} ho_rrep_t;

/* One Learnings row (a scoring rule, or a channel/source/campaign): g = leads, SAL, SQL; the
 * SAL and SQL lifts and the SQL lift's 95 % interval as the sheet computed them. */
typedef struct {
    char *a, *b, *c; /* rule, kind, NULL / channel (code), source, campaign */
    double points;   /* rules: average points */
    double g[3];
    bool has_lift[2];
    double lift[2];
    bool has_ci;
    double lo, hi;
    const char *verdict; /* a static text */
    bool against;        /* a rule whose lift contradicts its points */
} ho_rlift_t;

/* A small table as the sheet wrote it, cell by cell (Data quality's tables, Calibration's band
 * and quadrant tables): what the page shows without knowing the sheet's layout. */
typedef enum { HO_RC_BLANK, HO_RC_TEXT, HO_RC_NUM, HO_RC_TIME } ho_rcell_type_t;
typedef struct {
    ho_rcell_type_t type;
    ho_rkind_t kind; /* HO_RC_NUM: how it is shown */
    bool bad;        /* shown as a problem (a Check that says MISMATCH) */
    double v;
    int64_t at; /* HO_RC_TIME: UTC ms */
    char *s;    /* HO_RC_TEXT */
} ho_rcell_t;

#define HO_RTAB_MAXCOL 16
typedef struct {
    char *title;
    const char *cols[HO_RTAB_MAXCOL]; /* static texts */
    int nc;
    ho_rcell_t *cells; /* nrows x nc */
    size_t nrows, cap;
    size_t total_from; /* rows from here on are Total rows (bold); SIZE_MAX when none */
    int group;         /* which section the table belongs to (HO_RTAB_*) */
} ho_rtab_t;
enum { HO_RTAB_QUALITY, HO_RTAB_CALIBRATION };

typedef struct {
    ho_rkpi_t kpi[HO_RKPIS]; /* Summary */
    size_t nkpi;
    double funnel[HO_RW][5]; /* Funnel: per cohort week MQL, SAL, SQL, opportunity, won */
    ho_rchan_t *ch;          /* Sources by channel, in table order */
    size_t nch;
    ho_rreason_t *r; /* Lost reasons, Pareto order */
    size_t nr;
    double grand;                                    /* rejected + lost rows of the 12 weeks */
    ho_rmatrix_t by_channel;                         /* reason x channel */
    int good_fit, high_interest, fit_step, int_step; /* calibration grid bands */
    bool has_grid;
    double grid_n[HO_RGRID][HO_RGRID], grid_q[HO_RGRID][HO_RGRID]; /* [fit][interest] */
    ho_rmatrix_t by_rep;                                           /* reason x rep */
    ho_rfresh_t *fresh; /* Summary's data freshness, in table order */
    size_t nfresh;
    bool has_fresh; /* the store records imports */
    ho_rrep_t *reps;
    size_t nreps;
    ho_rlift_t *rules; /* Learnings' scoring rules (a few hundred at most) */
    size_t nrules;
    double rules_base[3], src_base[3]; /* Learnings: the populations {leads, SAL, SQL} */
    ho_rtab_t *tabs;                   /* small tables, in sheet order */
    size_t ntabs;
    const char *dq_note; /* Data quality: what an older store cannot show, or NULL */
    bool failed;         /* out of memory while recording: the page is not written */
} ho_rmodel_t;

void ho_rmatrix_free(ho_rmatrix_t *m);
/* Recording into the model (model.c). On out of memory they set m->failed (the page then
 * fails with HO_REPORT_ERR_NOMEM; the workbook is never affected). */
void ho_rmodel_fresh(ho_rmodel_t *m, const char *source, const char *kind, double files,
                     double read, bool has_last, int64_t last);
void ho_rmodel_rep(ho_rmodel_t *m, const ho_rrep_t *r);   /* copies r->rep and r->name */
void ho_rmodel_rule(ho_rmodel_t *m, const ho_rlift_t *r); /* copies r->a, r->b */
/* A new table of the model (cols: static texts), NULL on out of memory; valid until the
 * next ho_rtab_new. */
ho_rtab_t *ho_rtab_new(ho_rmodel_t *m, int group, const char *title, const char *const *cols,
                       int nc);
/* Start a row of t (every cell blank); NULL when out of memory (then m->failed). */
ho_rcell_t *ho_rtab_row(ho_rmodel_t *m, ho_rtab_t *t);
void ho_rtab_text(ho_rmodel_t *m, ho_rcell_t *c, const char *s);
void ho_rtab_num(ho_rcell_t *c, double v, ho_rkind_t kind);
/* A rate num/den (a blank cell when den == 0, as ho_rrate writes it). */
void ho_rtab_rate(ho_rcell_t *c, double num, double den);
void ho_rtab_time(ho_rcell_t *c, int64_t at);
/* Label of grid band i of width step ("20\xe2\x80\x9329", the last "80+"). */
void ho_rband(char *out, size_t cap, int i, int step);
void ho_rmodel_free(ho_rmodel_t *m);

/* One row of Handoffs (valid during the call; the strings as the sheet shows them). */
typedef struct {
    int64_t mql_at;
    const char *name, *email, *company, *title, *location, *source, *campaign;
    bool has_score;
    double score;
    const char *grade, *quadrant, *top_reason, *owner;
    bool has_assigned;
    int64_t assigned_at;
    const char *status;
} ho_rhandoff_t;

/* One row of "Lost and rejected" (valid during the callback). */
typedef struct {
    int64_t at;
    bool lost;
    const char *code, *label, *owner; /* owner "" when not in reasons.yaml */
    const char *lead, *email, *company, *channel, *source, *campaign, *rep;
    const char *stage; /* display name, "" when none */
    const char *flags; /* in words */
} ho_rdrill_t;

typedef struct ho_rhtml_t ho_rhtml_t; /* the HTML page being written (html.c) */

typedef struct ho_rrules ho_rrules_t; /* the rule pass's sums (learnings.c) */
typedef struct ho_rleads ho_rleads_t; /* the lead pass's groups (scan_leads.c) */
typedef struct ho_rside ho_rside_t;   /* the second connection and its thread (side.c) */
typedef struct ho_rpass ho_rpass_t;   /* the assignment and SLA passes' groups (scans.c) */

typedef struct {
    const ho_report_opts_t *opts;
    ho_err_t *err;
    ho_reader_t *rd; /* the store, read-only: every query is a named one (reader.h) */
    lxw_workbook *wb;
    const char *tz;
    ho_tz_t *zone; /* the zone of tz, loaded once per report */
    ho_rweek_t weeks[HO_RW];
    int64_t as_of;        /* end of the report week: only data before it is read */
    int64_t win4_a;       /* start of the 4-week window (weeks HO_RW-4 .. HO_RW-1) */
    int64_t win12_a;      /* start of the 12-week window */
    ho_conf_t *reasons;   /* reasons.yaml (labels), or NULL */
    ho_conf_t *lifecycle; /* lifecycle.yaml (stage display names), or NULL */
    /* What this store's schema has (issue 12 tables and columns arrive by migration; an
     * older store still gets a workbook, with the Data quality parts it cannot fill said so) */
    bool has_imports;        /* imports table (import.summary per file) */
    bool has_import_results; /* import_results table (what the store did with each record) */
    bool has_flags;          /* outcomes.flags */
    bool has_implied;        /* outcomes.implied */
    bool has_oimport;        /* outcomes.import_id */
    bool has_pending_status; /* pending_outcomes.status (pending | unknown_lead) */
    bool has_facts;          /* lead_facts (schema 8): reach, score_asof, lead_rows read it */
    /* made by a second connection in a thread of its own while this one makes the others
     * (workbook.c: s_prepare_tables), NULL when read through one connection */
    ho_rrules_t *rules;
    ho_rleads_t *leads;
    ho_rpass_t *assign;
    ho_rside_t *side;
    /* formats */
    lxw_format *f_title, *f_sub, *f_head, *f_text, *f_bold, *f_int, *f_avg, *f_money, *f_pct,
        *f_hours, *f_date, *f_dt, *f_dint, *f_dpct, *f_dhours, *f_dmoney, *f_note, *f_tot_text,
        *f_tot_int, *f_tot_money, *f_tot_pct, *f_ok, *f_bad, *f_wrap, *f_wrap_bold, *f_small,
        *f_lift, *f_top, *f_dt_top, *f_int_top;
    /* results */
    int64_t leads_week;
    int64_t mqls_week;
    ho_rmodel_t model; /* what the HTML page reads after the sheets */
    ho_rhtml_t *html;  /* the HTML page, when opts->html is set */
    double colw[64];   /* column widths of the current sheet (ho_rcols), for header heights */
    bool pareto;       /* the Pareto chart was added (needs finishing after close) */
    int charts;        /* charts created so far */
} ho_rctx_t;

/* SQL helpers: on failure they fill ctx->err and return HO_REPORT_ERR_SQL. A statement is
 * the read model's, cached: reset it when done, never finalize it. */
ho_report_error_t ho_rsql_prepare(ho_rctx_t *ctx, ho_rq_t q, sqlite3_stmt **st);
/* After ho_reader_stmt_fmt (rc its result, *st the statement it gave): bind the common
 * parameters, or fail. */
ho_report_error_t ho_rsql_prepared(ho_rctx_t *ctx, int rc, sqlite3_stmt *const *st);
/* Run a setup statement (a temp table of the report) to its end. */
ho_report_error_t ho_rsql_exec(ho_rctx_t *ctx, ho_rq_t q);
ho_report_error_t ho_rsql_fail(ho_rctx_t *ctx, const char *what);
/* Read one row of a collected query into elem (zeroed or not: set every field); false on out
 * of memory. */
typedef bool (*ho_rrow_fn)(ho_rctx_t *ctx, sqlite3_stmt *st, void *elem);
/* Every row of query q appended to the array *arr of *n elements of size (grown as it goes):
 * HO_REPORT_ERR_NOMEM when it or row runs out of memory, HO_REPORT_ERR_SQL ("what: ...")
 * when the query fails. */
ho_report_error_t ho_rsql_collect(ho_rctx_t *ctx, ho_rq_t q, const char *what, void **arr,
                                  size_t *n, size_t size, ho_rrow_fn row);
/* Bind :asof, :a4, :a12, :wa, :wb (this week) if the statement has them. */
void ho_rsql_bind_common(ho_rctx_t *ctx, sqlite3_stmt *st);
/* The report week (0..HO_RW-1) holding instant t, -1 outside the 12 weeks. The weeks are
 * contiguous (weeks[i].b == weeks[i + 1].a), so it is the last one starting at or before t. */
int ho_rweek_idx(const ho_rctx_t *ctx, int64_t t);
/* Text of column i, "" for NULL. */
const char *ho_rcol_text(sqlite3_stmt *st, int i);

/* ---- Aggregation (agg.c): GROUP BY in C over one scan of a table. A scan query (named, its
 * common parameters bound) only filters and computes per-row values; each grouping of it
 * (ho_rgroup_t) sums its columns per distinct key and writes the groups into a temp table
 * (its insert query: parameters 1..nkeys the key, then the sums), which the sheets' queries
 * read. Sums: an INTEGER column adds as int64, a REAL as double, NULL adds nothing;
 * HO_RAGG_DISTINCT counts each non-NULL integer once per group (count(DISTINCT x));
 * HO_RAGG_MIN / HO_RAGG_MAX keep the least / greatest integer (NULL when none). ---- */
enum { HO_RAGG_SUM = 0, HO_RAGG_DISTINCT, HO_RAGG_MIN, HO_RAGG_MAX, HO_RAGG_MEDIAN };
typedef struct ho_ragg ho_ragg_t;
/* One value of a row: a scan's column read once (ho_rval_read: sqlite3_column_* calls are not
 * free; text valid until the next step), or a value computed in C: SQLITE_NULL (adds
 * nothing), SQLITE_INTEGER (i) or SQLITE_FLOAT (d). HO_RAGG_MEDIAN keeps integers and writes
 * their median as a REAL. */
typedef struct {
    int type;  /* SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL */
    int64_t i; /* an integer; of a real or a text, sqlite3_column_int64's reading */
    double d;  /* a real; of a text, sqlite3_column_double's reading */
    const unsigned char *text;
    size_t len;
} ho_rval_t;
/* Read ncols columns of st's current row into vals. */
void ho_rval_read(sqlite3_stmt *st, int ncols, ho_rval_t *vals);
/* The same, a text in a column whose bit is set in keys read as text only (i and d 0): for
 * the columns that are only ever keys, never summed. */
void ho_rval_read_keys(sqlite3_stmt *st, int ncols, ho_rval_t *vals, uint64_t keys);
/* cols: the scan column of each key then of each sum (NULL: 0, 1, ...); kinds: per sum
 * (NULL: all HO_RAGG_SUM). Both arrays must outlive the aggregation. */
ho_ragg_t *ho_ragg_new(int nkeys, int nsums, const int *cols, const int *kinds);
void ho_ragg_destroy(ho_ragg_t **self_p);
/* Add one row of the scan (its columns, ho_rval_read); false on out of memory. */
bool ho_ragg_add(ho_ragg_t *self, const ho_rval_t *row);
size_t ho_ragg_groups(const ho_ragg_t *self);
/* A row computed in C: its key, column by column (ho_ragg_key_*), then its sums v[0..nsums);
 * false on out of memory. */
void ho_ragg_key_null(ho_ragg_t *self);
void ho_ragg_key_int(ho_ragg_t *self, int64_t v);
void ho_ragg_key_text(ho_ragg_t *self, const char *s, size_t n);
bool ho_ragg_add_vals(ho_ragg_t *self, const ho_rval_t *v);
/* Bind each group into ins (key, then sums) and call step(arg, ins); false when a step fails. */
bool ho_ragg_write(const ho_ragg_t *self, sqlite3_stmt *ins,
                   bool (*step)(void *arg, sqlite3_stmt *ins), void *arg);
/* Write the groups into a temp table with the setup query insert (one row per group). */
ho_report_error_t ho_ragg_flush(ho_rctx_t *ctx, const ho_ragg_t *agg, ho_rq_t insert,
                                const char *what);
typedef struct {
    int nkeys, nsums;
    const int *cols;
    const int *kinds;
    ho_rq_t insert; /* the setup query that inserts one group into the temp table */
} ho_rgroup_t;
/* The scan columns (bit c: column c < 64) that are a key of some grouping of groups[0..n) and
 * a sum of none: ho_rscan_into reads a text there as text only (ho_rval_read_keys). */
uint64_t ho_rgroup_key_only(const ho_rgroup_t *groups, size_t n);
/* Run scan once, each row turned into the groupings' columns by map (up to 64 values; its
 * failure ends the scan with its code; NULL: the row's columns as they are), group the rows by
 * each of groups[0..n) (n <= 8) and write each grouping's groups into its temp table. */
typedef ho_report_error_t (*ho_rrow_map_fn)(ho_rctx_t *ctx, sqlite3_stmt *st, ho_rval_t *vals,
                                            void *arg);
ho_report_error_t ho_rscan_map(ho_rctx_t *ctx, ho_rq_t scan, ho_rrow_map_fn map, void *arg,
                               const ho_rgroup_t *groups, size_t n, const char *what);
/* The end of a scan's step loop (s: the last sqlite3_step's result, rc: the loop's): st
 * reset; a step that ended otherwise than SQLITE_DONE is the query's failure; out of memory
 * said in ctx->err with what. */
ho_report_error_t ho_rscan_end(ho_rctx_t *ctx, sqlite3_stmt *st, ho_report_error_t rc, int s,
                               const char *what);
/* The scan part of ho_rscan_map: the rows added to aggs[0..n) (one per groups[i], made by the
 * caller with ho_ragg_new), nothing flushed; so that a second scan can add to the same groups. */
ho_report_error_t ho_rscan_into(ho_rctx_t *ctx, ho_rq_t scan, ho_rrow_map_fn map, void *arg,
                                const ho_rgroup_t *groups, ho_ragg_t *const *aggs, size_t n,
                                const char *what);

/* The views every pass reads (transitions, and over lead_facts: reach, score_asof,
 * lead_rows, lead_asof), on ctx's connection (workbook.c). */
ho_report_error_t ho_report_setup_views(ho_rctx_t *ctx, bool has_kind);

/* ---- the second connection (side.c) ---- */
/* Begin the report's read transaction: on the main connection and, when the store has
 * lead_facts and opts->threads is not 1, on a second one that reads the same committed
 * state (ctx->side set); else on the main one alone (ctx->side NULL). */
ho_report_error_t ho_rside_begin(ho_rctx_t *ctx);
/* After the main connection's views (ctx's has_* known): the second connection's views,
 * then its thread, which makes the lead scan, the assignment and SLA passes' scans and the
 * rule pass. No-op without ctx->side. */
ho_report_error_t ho_rside_start(ho_rctx_t *ctx, bool has_kind);
/* Share the rule pass's ranges with the thread, then wait for it: its lead scan into
 * ctx->leads, its assignment and SLA passes into ctx->assign, the rule pass into ctx->rules,
 * or the error into ctx->err. */
ho_report_error_t ho_rside_join(ho_rctx_t *ctx);
/* Close the second connection (joining a thread still running) and free ctx->leads,
 * ctx->assign and ctx->rules. */
void ho_rside_destroy(ho_rctx_t *ctx);

/* The lead pass (scan_leads.c): the agg_* temp tables of the leads created in the 12 weeks;
 * after the shared temp tables (it reads reach, score_asof, lead_rows, won_amount). */
ho_report_error_t ho_report_scan_leads(ho_rctx_t *ctx);
/* Its scan of lead_facts alone (a store with it), grouped in C and not yet written: reads
 * main.lead_facts and the lead_asof view only, so it can run on a second connection. */
ho_report_error_t ho_report_leads_scan(ho_rctx_t *ctx, ho_rleads_t **out);
void ho_rleads_destroy(ho_rleads_t **self_p);
/* ---- the stage pass (stages.c): one scan of the transitions before as_of, in lead order,
 * into the temp tables stage_counts, velocity, cohort_counts and week_cohort (workbook.c
 * says what each holds). Needs the periods. ---- */
ho_report_error_t ho_report_stages(ho_rctx_t *ctx);
/* [a, b) of period idx (0..HO_RW-1 the weeks, HO_P4 the 4-week window), as temp.periods has
 * it. */
void ho_rperiod_bounds(const ho_rctx_t *ctx, int idx, int64_t *a, int64_t *b);

/* ---- Passes (scans.c): one scan each of outcomes, assignments and sla_breaches, grouped
 * into the temp tables Summary, Lost reasons, Lost and rejected, Reps and Data quality read
 * (outcome_*, assign_periods, rep_rows, rep_names, sla_periods). Run after the shared temp
 * tables (it reads temp.reach), before the sheets. ---- */
ho_report_error_t ho_report_passes(ho_rctx_t *ctx);
/* With a second connection (ctx->side), ho_report_passes makes the outcomes pass alone; the
 * assignment and SLA passes are scanned there (ho_report_assign_scan: main tables and the
 * reach view only) and written here after the join (ho_report_assign_write). */
ho_report_error_t ho_report_assign_scan(ho_rctx_t *ctx, ho_rpass_t **out);
ho_report_error_t ho_report_assign_write(ho_rctx_t *ctx, const ho_rpass_t *p);
void ho_rpass_destroy(ho_rpass_t **self_p);

/* Write helpers. */
lxw_datetime ho_rdatetime(const ho_rctx_t *ctx, int64_t ms);
lxw_datetime ho_rdate_of_days(int64_t days);
void ho_rtitle(ho_rctx_t *ctx, lxw_worksheet *ws, const char *title, const char *subtitle);
/* Column widths: worksheet_set_column, remembered so ho_rheader can size its row. */
void ho_rcols(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_col_t first, lxw_col_t last, double width);
/* A header row; wrapped headers get the row height their longest one needs (so they never
 * overlap the first data row). Set the widths (ho_rcols) first. */
void ho_rheader(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const char *const *cols, int n);
/* A long list's header: column i widths[i] wide, the header row (ho_rheader), frozen above the
 * rows under it. */
void ho_rlist_header(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const char *const *cols,
                     const double *widths, int n);
/* A rate num/den as a percent cell, or a blank (formatted) cell when den == 0. */
void ho_rrate(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, double num,
              double den, lxw_format *fmt);
const char *ho_rreason_label(ho_rctx_t *ctx, const char *code);
/* reasons.yaml owner of a reason code ("marketing", "sales"), "" when not given. */
const char *ho_rreason_owner(ho_rctx_t *ctx, const char *code);
/* Display name of a stage code (lifecycle.yaml `stages`), else the code. */
const char *ho_rstage_label(ho_rctx_t *ctx, const char *code);
/* Display name of a channel code (paid_search -> "Paid search") in buf. Returns buf. */
const char *ho_rchannel_label(const char *code, char *buf, size_t cap);
/* Display name of a fit x interest quadrant code (mql_now -> "Good fit, high interest"). */
const char *ho_rquadrant_label(const char *code);
void ho_rprogress(ho_rctx_t *ctx, const char *sheet, int64_t rows, bool done);
lxw_chart *ho_rchart(ho_rctx_t *ctx, uint8_t type);

/* The sheets, in workbook order. Each writes its rows strictly top to bottom (the workbook
 * is in constant-memory mode). */
ho_report_error_t ho_report_summary(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_funnel(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_sources(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_reasons(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_drilldown(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_reps(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_calibration(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_learnings(ho_rctx_t *ctx, lxw_worksheet *ws);
/* The rule pass (learnings.c): the rules of each scored lead of the 12 weeks (its score at
 * its first MQL entry, else its latest) summed per rule. It reads the lead_asof view and
 * scores only, so it can run on a second connection (workbook.c). */
ho_report_error_t ho_report_rules_scan(ho_rctx_t *ctx, ho_rrules_t **out);
void ho_rrules_destroy(ho_rrules_t **self_p);
/* The same pass shared by threads: _new (the leads' id range, on ctx's connection) splits it
 * into ranges; each thread calls _work with its own context (connection) and sums the ranges
 * no one has taken; once every thread is done, _finish adds them up in range order (the same
 * sums as ho_report_rules_scan) or gives the first range's error. */
typedef struct ho_rrules_job ho_rrules_job_t;
ho_report_error_t ho_rrules_job_new(ho_rctx_t *ctx, ho_rrules_job_t **out);
void ho_rrules_job_work(ho_rctx_t *ctx, ho_rrules_job_t *job);
ho_report_error_t ho_rrules_job_finish(ho_rctx_t *ctx, ho_rrules_job_t *job, ho_rrules_t **out);
void ho_rrules_job_destroy(ho_rrules_job_t **job_p);
/* The scoring rules' measured lift (learnings.c), one fn call per rule; base = {scored
 * leads, SAL, SQL} of the 12 weeks. Needs the shared temp tables; uses ctx->rules when the
 * rule pass was made beside the others, else makes it. */
ho_report_error_t ho_report_rules_each(ho_rctx_t *ctx, ho_report_rule_fn *fn, void *arg,
                                       double base[3]);
ho_report_error_t ho_report_handoffs(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_quality(ho_rctx_t *ctx, lxw_worksheet *ws);
ho_report_error_t ho_report_definitions(ho_rctx_t *ctx, lxw_worksheet *ws);

/* One definition (definitions.c): the Definitions sheet and reports/README.md both come
 * from this list. */
typedef struct {
    const char *sheet, *term, *text;
} ho_report_def_t;
size_t ho_report_defs(const ho_report_def_t **defs);
/* Lines text needs in a column of width characters (greedy word wrap). */
int ho_rlines(const char *text, double width, bool bold);

/* Summary's data-freshness table (quality.c): last import per source, from *row on. */
ho_report_error_t ho_report_freshness(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t *row);

/* ---- the HTML page (html.c) ---- */
/* Open the page's temporary file and its drill-down row buffer. */
ho_report_error_t ho_rhtml_open(ho_rctx_t *ctx, const char *tmp_path);
/* One "Lost and rejected" row into the page's drill-down table (buffered in a temp file). */
void ho_rhtml_drill_row(ho_rctx_t *ctx, const ho_rdrill_t *row);
/* One Handoffs row into the page's Handoffs table (buffered in a temp file: the list can be
 * long). */
void ho_rhtml_handoff_row(ho_rctx_t *ctx, const ho_rhandoff_t *row);
/* One row of the Sources drill-down into the page (buffered likewise: one per campaign); a
 * total row (a channel's subtotal, the Total) in bold. n = leads, MQL, SQL, won, amount. */
void ho_rhtml_source_row(ho_rctx_t *ctx, const char *channel, const char *source,
                         const char *campaign, const double n[5], bool total);
/* One Learnings source/campaign row into the page (buffered likewise: one per campaign). */
void ho_rhtml_lift_row(ho_rctx_t *ctx, const ho_rlift_t *row);
/* Write the page from ctx->model and the buffered rows, close it. */
ho_report_error_t ho_rhtml_finish(ho_rctx_t *ctx);
/* Close without writing (on an error); the caller removes the file. */
void ho_rhtml_abort(ho_rctx_t *ctx);
/* Text as HTML: & < > " ' as entities, control characters as spaces. */
void ho_rhtml_esc(FILE *f, const char *t);
/* The page's charts (html_chart.c), inline SVG: the MQL cohort trend (the model's funnel),
 * Leads/MQL/SQL per channel, the reasons' Pareto (bars + cumulative line), and clustered
 * columns: per category cats[i] one column per series names[j] of value v[i * nser + j]
 * (shares on a percent axis when pct); cls names the chart. */
void ho_rsvg_trend(ho_rctx_t *ctx, FILE *f);
void ho_rsvg_channels(ho_rctx_t *ctx, FILE *f);
void ho_rsvg_pareto(ho_rctx_t *ctx, FILE *f);
void ho_rsvg_columns(FILE *f, const char *cls, const char *aria, const char *xname, size_t ncat,
                     const char *const *cats, int nser, const char *const *names, const double *v,
                     bool pct);
/* Format a value as the workbook's number formats show it ("1,234", "41.7%", "+1.5%"). */
void ho_rfmt(char *out, size_t cap, ho_rkind_t kind, bool delta, bool avg, double v);

/* Title of the Pareto chart: it identifies the chart part to finish. */
#define HO_REPORT_PARETO_TITLE "Lost and rejected reasons (Pareto)"

/* Finish the chart parts of the closed .xlsx at path (see pareto.c): text categories as
 * string references, and the chart titled pareto_title (a clustered column chart with two
 * series) into bars + a cumulative line on a secondary 0-100 % axis, which libxlsxwriter 1.1
 * cannot combine itself. pareto_title may be NULL. */
ho_report_error_t ho_report_pareto_patch(const char *path, const char *pareto_title, ho_err_t *err);

#endif
