/*
 * report.h - the weekly conversion workbook (libxlsxwriter) and the ISO-week arithmetic it
 * stands on.
 *
 * The report reads the store's SQLite database READ-ONLY (the store worker owns every
 * write; WAL mode gives the reader a consistent snapshot) and writes one .xlsx with eleven
 * sheets: Summary, Funnel, Sources, Lost reasons, Lost and rejected, Reps, Calibration,
 * Learnings, Handoffs, Data quality, Definitions.
 * Every number is defined in reports/README.md precisely enough that a test recomputes it.
 * With opts.html set, the same report is also written as one self-contained HTML page (inline
 * CSS, charts as inline SVG) from the same numbers, in the same pass.
 *
 *     ho_report_opts_t opts = {.db_path = "data/handoff.db", .output = "w47.xlsx",
 *                              .timezone = "Europe/Berlin"};
 *     ho_week_parse ("2026-W47", &opts.week);
 *     ho_report_result_t res;
 *     ho_err_t err;
 *     ho_report_error_t rc = ho_report_write (&opts, &res, &err);
 *     if (rc != HO_REPORT_OK)
 *         fprintf (stderr, "%s: %s\n", ho_report_strerror (rc), err.message);
 *
 * Determinism: the same database, week and now_ms give a byte-identical file (the document's
 * created date is now_ms, else the end of the report week, never the wall clock).
 *
 * Time zones: week boundaries are local midnights of the configured IANA zone, computed with
 * an explicit ho_tz_t (time.h, tz.h); the process's TZ is never read or set, so a report can
 * be written from any thread.
 */
#ifndef HO_REPORT_H
#define HO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/msg.h"  /* ho_err_t */
#include "handoff/time.h" /* ho_week_t, ho_tz_valid */

/* Errors of the report writer (libxlsxwriter style: a typed enum and a strerror). */
typedef enum {
    HO_REPORT_OK = 0,
    HO_REPORT_ERR_WEEK,     /* not an ISO week "YYYY-Www", or a week the year does not have */
    HO_REPORT_ERR_TIMEZONE, /* not a known IANA time zone */
    HO_REPORT_ERR_DB_OPEN,  /* database missing or unreadable */
    HO_REPORT_ERR_SCHEMA,   /* database is not a handoff store (or an unknown version) */
    HO_REPORT_ERR_SQL,      /* a query failed */
    HO_REPORT_ERR_XLSX,     /* libxlsxwriter refused (cannot create file, ...) */
    HO_REPORT_ERR_IO,       /* file system error writing the output */
    HO_REPORT_ERR_NOMEM,
    HO_REPORT_ERR_ARG, /* missing or invalid option */
} ho_report_error_t;

/* "ok", "bad ISO week", ... (static string). */
const char *ho_report_strerror(ho_report_error_t code);

/* ---- ISO 8601 weeks (the calendar itself, ho_week_t and ho_tz_valid: time.h) ---- */
/* Parse "2026-W47" (also "2026W47"). HO_REPORT_OK or HO_REPORT_ERR_WEEK. */
ho_report_error_t ho_week_parse(const char *text, ho_week_t *out);

/* [start_ms, end_ms) of the week in zone tz: from the first instant of Monday (local) to
 * the first instant of the next Monday (local), as UTC milliseconds. A week that contains a
 * DST change is 167 or 169 hours long. */
ho_report_error_t ho_week_bounds(ho_week_t week, const char *tz, int64_t *start_ms, int64_t *end_ms,
                                 ho_err_t *err);
/* The week that contains the instant ms (UTC milliseconds) in zone tz. */
ho_report_error_t ho_week_of_ms(int64_t ms, const char *tz, ho_week_t *out, ho_err_t *err);
/* The last complete week at instant now_ms in zone tz (the week before the current one). */
ho_report_error_t ho_week_last_complete(int64_t now_ms, const char *tz, ho_week_t *out,
                                        ho_err_t *err);

/* Median of n values (sorts v in place). The mean of the two middle values when n is even.
 * Returns false (and leaves *out alone) when n == 0. */
bool ho_report_median(int64_t *v, size_t n, double *out);

/* ---- the workbook ---- */

/* Progress of a long report: called when a sheet starts (rows = 0, done = false), every
 * 10,000 rows of a big sheet (done = false) and after it (done = true, rows = rows written).
 * Before the sheets, the shared tables are announced the same way under the name
 * HO_REPORT_PREPARE. */
#define HO_REPORT_PREPARE "(shared tables)"
typedef void(ho_report_progress_fn)(void *arg, const char *sheet, int64_t rows, bool done);

typedef struct {
    const char *db_path;    /* the store's database, opened read-only (required) */
    const char *output;     /* the .xlsx to write (required) */
    const char *timezone;   /* IANA zone of the week boundaries; NULL = "UTC" */
    const char *config_dir; /* where reasons.yaml is looked for; NULL = built-in copy only */
    ho_week_t week;         /* the report week */
    int64_t now_ms;       /* the caller's clock (--now, report.request now): the document's created
                             date; 0 = the end of the report week. Never read from the wall clock */
    const char *currency; /* ISO 4217 code of outcome amounts (shown with them); NULL = "USD" */
    const char *html; /* also write the report as one self-contained HTML page here (inline
                         CSS and SVG charts, the same numbers as the workbook); NULL = none */
    ho_report_progress_fn *progress; /* may be NULL */
    void *progress_arg;
    int threads; /* 1: read through one connection; else (0 = default) two threads on two
                    connections reading one committed state, when the store allows it */
} ho_report_opts_t;

#define HO_REPORT_SHEETS 11

typedef struct {
    int sheets;                                /* sheets written (HO_REPORT_SHEETS) */
    const char *sheet_names[HO_REPORT_SHEETS]; /* static strings */
    int64_t leads;                      /* leads created in the report week (Summary "Leads") */
    int64_t mqls;                       /* MQLs of the report week (rows of Handoffs) */
    int64_t week_start_ms, week_end_ms; /* the report week's bounds (UTC ms) */
    int threads;                        /* 2: read by two connections at once; 1: by one */
} ho_report_result_t;

/* The sheet names in workbook order (static). */
const char *ho_report_sheet_name(int index);

/* The definitions of the Definitions sheet as the Markdown table of reports/README.md's
 * "Definitions" section (`handoff report --definitions-md`). 0, or -1 on a write error. */
int ho_report_definitions_markdown(FILE *out);

/* ---- what the outcomes say about the scoring rules (the Learnings sheet's first table) ---- */
typedef struct {
    const char *rule, *kind; /* valid during the callback only */
    double points;           /* average points the rule gave the leads that have it */
    double n, sal, sql;      /* scored leads of the 12 weeks whose score at MQL (never MQL:
                                latest score) has the rule; of them reached SAL, SQL */
    bool has_lift;           /* sql_lift and its interval are defined */
    double sql_lift, lo, hi; /* SQL rate with / without the rule, 95 % interval (Katz) */
    const char *verdict;     /* "supported", "CONTRADICTED: ...", "NOT SUPPORTED: ...", ... */
    bool against;            /* the verdict is CONTRADICTED or NOT SUPPORTED */
} ho_report_rule_t;
typedef void(ho_report_rule_fn)(void *arg, const ho_report_rule_t *rule);

/* Call fn for each scoring rule, in rule order, measured over the 12 weeks ending with
 * opts->week (opts->output is not used). Definitions: reports/README.md, "Learnings". */
ho_report_error_t ho_report_rules(const ho_report_opts_t *opts, ho_report_rule_fn *fn, void *arg,
                                  ho_err_t *err);

/* Write the workbook. res and err may be NULL. On error no partial file is left at
 * opts->output (the workbook is written to a temporary name and renamed). */
ho_report_error_t ho_report_write(const ho_report_opts_t *opts, ho_report_result_t *res,
                                  ho_err_t *err);

#endif
