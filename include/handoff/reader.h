/*
 * reader.h - the store's read model: how a process other than the store worker reads
 * handoff.db (the read contract in store.h says what it may rely on).
 *
 * One place opens the file read-only (busy timeout, PRAGMA query_only, the schema version
 * checked) and holds the SQL: every query a reader runs is named (ho_rq_t) and its text lives
 * in src/store/read_queries_*.c, one file per reader. A reader asks for the prepared
 * statement of a name, binds, steps and resets it itself; the statement is cached until the
 * reader is destroyed. A reader belongs to one thread at a time (its connection is opened
 * without SQLite's per-call mutex).
 *
 *     ho_err_t err = {0};
 *     ho_reader_t *r = ho_reader_open ("data/handoff.db", 5000, &err);
 *     sqlite3_stmt *st;
 *     if (r && ho_reader_stmt (r, HO_RQ_METRICS_IMPORTS, &st, &err) == HO_OK) {
 *         while (sqlite3_step (st) == SQLITE_ROW) { ... }
 *         sqlite3_reset (st);
 *     }
 *     ho_reader_destroy (&r);
 *
 * Kinds of named query (ho_reader_query_flags):
 *   - a statement: ho_reader_stmt;
 *   - HO_RQF_FORMAT: a printf format whose conversions the reader fills (numbers, or the
 *     text of HO_RQF_PART names, as the schema at hand has them): ho_reader_stmt_fmt;
 *   - HO_RQF_PART: a piece of SQL spliced into a format, never run alone;
 *   - HO_RQF_SETUP: builds a temp table or view of the reader's own (the report's building
 *     blocks); run with ho_reader_exec, the only statements that may write (and only to
 *     temp: the file itself is opened read-only). A setup may be one of two ways to build
 *     the same table: HO_RQF_RAW from the raw history, HO_RQF_FACTS over the store's
 *     roll-up lead_facts (schema 8; ho_reader_has says which the file has). A _FACTS view
 *     takes no parameters, so one that needs the report's end is a format (%1$lld: as_of).
 */
#ifndef HO_READER_H
#define HO_READER_H

#include <sqlite3.h>
#include <stdbool.h>

#include "handoff/error.h"

typedef struct ho_reader ho_reader_t;

/* The named read queries, by reader. */
typedef enum {
    /* `handoff metrics` (src/metrics/metrics.c) */
    HO_RQ_METRICS_QUARANTINE = 0, /* quarantine rows by code, replayed or not */
    HO_RQ_METRICS_IMPORTS,        /* imports by profile: count, read, accepted, newest finish */
    /* `handoff forget`'s preview (src/cli/forget_cmd.c) */
    HO_RQ_FORGET_NEEDLES, /* {?1 email}: first_name, last_name, phone of the lead */
    /* `handoff demo-data feedback` (src/connectors/demo/demo_feedback.c) */
    HO_RQ_DEMO_FEEDBACK_OWNERS, /* {?1 now}: each owned lead, its owner, stage and entry */
    /* `handoff score` (src/cli/score_cmd.c) */
    HO_RQ_SCORE_EXPLAIN_LEAD,  /* {?1 email}: the lead row's id, snapshot and score columns */
    HO_RQ_SCORE_DRY_RUN_LEADS, /* {}: every lead not erased, by id */
    /* the report (src/report/: the worker and `handoff report`), one name per statement of a
     * sheet, in the order the workbook runs them; _WITHOUT_X: the same for a store whose
     * schema predates X (ho_reader_has). The shared temp tables (workbook.c), in the order
     * they are made: */
    HO_RQ_REPORT_SETUP_TRANSITIONS,
    HO_RQ_REPORT_SETUP_TRANSITIONS_WITHOUT_KIND,
    HO_RQ_REPORT_SETUP_PERIODS,
    HO_RQ_REPORT_SETUP_PERIODS_ROW,
    /* reach, score_asof, lead_rows: from the raw history, or (_FACTS) as views over
     * lead_facts on a store that has it (schema 8) */
    HO_RQ_REPORT_SETUP_REACH,
    HO_RQ_REPORT_SETUP_REACH_FILL,
    HO_RQ_REPORT_SETUP_REACH_FACTS, /* %1$lld: as_of */
    HO_RQ_REPORT_SETUP_SCORE_ASOF,
    HO_RQ_REPORT_SETUP_SCORE_ASOF_FILL,
    HO_RQ_REPORT_SETUP_SCORE_ASOF_FACTS, /* %1$lld: as_of */
    HO_RQ_REPORT_SETUP_LEAD_ROWS,
    HO_RQ_REPORT_SETUP_LEAD_ROWS_FACTS,
    HO_RQ_REPORT_SETUP_LEAD_ASOF,       /* lead_rows + reach + score_asof, one row a lead */
    HO_RQ_REPORT_SETUP_LEAD_ASOF_FACTS, /* %1$lld: as_of */
    /* the stage pass (stages.c): one scan of the transitions in lead order, its results
     * written into four temp tables */
    HO_RQ_REPORT_STAGES_SCAN,
    HO_RQ_REPORT_SETUP_STAGE_COUNTS,
    HO_RQ_REPORT_SETUP_STAGE_COUNTS_ROW,
    HO_RQ_REPORT_SETUP_VELOCITY,
    HO_RQ_REPORT_SETUP_VELOCITY_ROW,
    HO_RQ_REPORT_SETUP_COHORT_COUNTS,
    HO_RQ_REPORT_SETUP_COHORT_COUNTS_ROW,
    HO_RQ_REPORT_SETUP_WEEK_COHORT,
    HO_RQ_REPORT_SETUP_WEEK_COHORT_ROW,
    HO_RQ_REPORT_SETUP_WON_AMOUNT,
    HO_RQ_REPORT_SETUP_WON_AMOUNT_ROW, /* filled by the outcomes pass (scans.c) */
    /* the lead pass (scan_leads.c): one scan of the 12 weeks' leads grouped in C (agg.c) into
     * the temp tables Summary's Leads, Sources, Learnings' baselines and by-source tables and
     * Calibration read */
    HO_RQ_REPORT_SCAN_LEADS,
    HO_RQ_REPORT_SCAN_LEADS_FACTS, /* the same from lead_facts' kept values (store with them) */
    HO_RQ_REPORT_SCAN_LEADS_AMOUNTS, /* and their won amounts */
    HO_RQ_REPORT_SCAN_LEAD_ASOF,   /* {?1 lead id}: one lead's values of the scan, as of */
    HO_RQ_REPORT_SETUP_AGG_SRC,
    HO_RQ_REPORT_SETUP_AGG_SRC_ROW,
    HO_RQ_REPORT_SETUP_AGG_BAND,
    HO_RQ_REPORT_SETUP_AGG_BAND_ROW,
    HO_RQ_REPORT_SETUP_AGG_QUAD,
    HO_RQ_REPORT_SETUP_AGG_QUAD_ROW,
    HO_RQ_REPORT_SETUP_AGG_FI,
    HO_RQ_REPORT_SETUP_AGG_FI_ROW,
    /* the passes over outcomes, assignments and sla_breaches (scans.c): one scan of each,
     * grouped in C into the small temp tables the sheets read */
    HO_RQ_REPORT_SETUP_OUTCOME_PERIODS,
    HO_RQ_REPORT_SETUP_OUTCOME_PERIODS_ROW,
    HO_RQ_REPORT_SETUP_OUTCOME_REASONS,
    HO_RQ_REPORT_SETUP_OUTCOME_REASONS_ROW,
    HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS,
    HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS_ROW,
    HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS,
    HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS_ROW,
    HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST,
    HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST_ROW,
    HO_RQ_REPORT_SCAN_OUTCOMES, /* %s flags, %s implied, %s import_id: a part each */
    HO_RQ_REPORT_SCAN_OUTCOMES_FLAGS,
    HO_RQ_REPORT_SCAN_OUTCOMES_IMPLIED,
    HO_RQ_REPORT_SCAN_OUTCOMES_IMPORT_ID,
    HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_FACTS,
    HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_LEADS,
    HO_RQ_REPORT_SCAN_NULL, /* the part for a column the store's schema lacks */
    HO_RQ_REPORT_SCAN_ZERO,
    HO_RQ_REPORT_SETUP_ASSIGN_PERIODS,
    HO_RQ_REPORT_SETUP_ASSIGN_PERIODS_ROW,
    HO_RQ_REPORT_SETUP_REP_ROWS,
    HO_RQ_REPORT_SETUP_REP_ROWS_ROW,
    HO_RQ_REPORT_SETUP_REP_NAMES,
    HO_RQ_REPORT_SETUP_REP_NAMES_ROW,
    HO_RQ_REPORT_SCAN_ASSIGNMENTS,
    HO_RQ_REPORT_SETUP_SLA_PERIODS,
    HO_RQ_REPORT_SETUP_SLA_PERIODS_ROW,
    HO_RQ_REPORT_SCAN_SLA,
    /* Summary (summary.c) */
    HO_RQ_REPORT_SUMMARY_LEADS,
    HO_RQ_REPORT_SUMMARY_STAGES,
    HO_RQ_REPORT_SUMMARY_SALS,
    HO_RQ_REPORT_SUMMARY_WON_AMOUNT,
    HO_RQ_REPORT_SUMMARY_ACCEPTANCE,
    HO_RQ_REPORT_SUMMARY_COHORTS,
    HO_RQ_REPORT_SUMMARY_SLA,
    HO_RQ_REPORT_SUMMARY_LOST,
    HO_RQ_REPORT_SUMMARY_NO_MQL,
    HO_RQ_REPORT_SUMMARY_PIPELINE,
    HO_RQ_REPORT_SUMMARY_TIME_TO_ACCEPT,
    HO_RQ_REPORT_SUMMARY_VELOCITY,
    /* Summary's data-freshness table (quality.c: ho_report_freshness) */
    HO_RQ_REPORT_FRESHNESS,
    /* Funnel (funnel.c) */
    HO_RQ_REPORT_FUNNEL_COHORTS,
    /* Sources (sources.c) */
    HO_RQ_REPORT_SOURCES_CHANNELS,
    HO_RQ_REPORT_SOURCES_DRILL,
    /* Lost reasons (reasons.c) */
    HO_RQ_REPORT_REASONS_PARETO,
    HO_RQ_REPORT_REASONS_KEYS,
    HO_RQ_REPORT_REASONS_CELLS,
    HO_RQ_REPORT_REASONS_KEY_CHANNEL,
    HO_RQ_REPORT_REASONS_KEY_REP,
    /* Lost and rejected (drilldown.c) */
    HO_RQ_REPORT_DRILLDOWN_ROWS,
    HO_RQ_REPORT_DRILLDOWN_FLAGS,
    HO_RQ_REPORT_DRILLDOWN_NO_FLAGS,
    /* Reps (reps.c) */
    HO_RQ_REPORT_REPS_ROWS,
    /* Calibration (calibration.c) */
    HO_RQ_REPORT_CALIBRATION_GRID,
    HO_RQ_REPORT_CALIBRATION_BANDS,
    HO_RQ_REPORT_CALIBRATION_QUADRANTS,
    /* Learnings (learnings.c; ho_report_rules too) */
    HO_RQ_REPORT_LEARNINGS_BASE_SCORED,
    HO_RQ_REPORT_LEARNINGS_BASE,
    HO_RQ_REPORT_LEARNINGS_RULES,
    HO_RQ_REPORT_LEAD_ID_BOUNDS,
    HO_RQ_REPORT_LEARNINGS_SOURCES,
    /* Handoffs (handoffs.c) */
    HO_RQ_REPORT_SETUP_SCORE_MQL,
    HO_RQ_REPORT_SETUP_SCORE_MQL_FILL,
    HO_RQ_REPORT_HANDOFFS_ROWS,
    /* Data quality (quality.c) */
    HO_RQ_REPORT_SETUP_DQ_IMP,
    HO_RQ_REPORT_SETUP_DQ_IMP_IMPORTS,
    HO_RQ_REPORT_SETUP_DQ_IMP_RESULTS,
    HO_RQ_REPORT_SETUP_DQ_IMP_OUTCOMES,
    HO_RQ_REPORT_QUALITY_KIND,
    HO_RQ_REPORT_QUALITY_KIND_HEAD,
    HO_RQ_REPORT_QUALITY_KIND_RESULT,
    HO_RQ_REPORT_QUALITY_KIND_NO_RESULT,
    HO_RQ_REPORT_QUALITY_KIND_NO_MQL,
    HO_RQ_REPORT_QUALITY_KIND_NO_MQL_NULL,
    HO_RQ_REPORT_QUALITY_REASONS,
    HO_RQ_REPORT_QUALITY_WEEK_OUTCOMES,
    HO_RQ_REPORT_QUALITY_WEEK_SOURCE,
    HO_RQ_REPORT_QUALITY_WEEK_SOURCE_UNRECORDED,
    HO_RQ_REPORT_QUALITY_WEEK_NO_MQL,
    HO_RQ_REPORT_QUALITY_WEEK_NO_MQL_NULL,
    HO_RQ_REPORT_QUALITY_WEEK_JOIN_IMPORTS,
    HO_RQ_REPORT_QUALITY_WEEK_NO_JOIN,
    HO_RQ_REPORT_QUALITY_PENDING,
    HO_RQ_REPORT_QUALITY_PENDING_WITHOUT_STATUS,
    HO_RQ__COUNT
} ho_rq_t;

#define HO_RQF_FORMAT 1u /* a printf format: ho_reader_stmt_fmt */
#define HO_RQF_PART 2u   /* a fragment of a format: not a statement */
#define HO_RQF_SETUP 4u  /* writes a temp table or view: ho_reader_exec */
#define HO_RQF_ALT 8u    /* a setup that replaces the one before it (an older schema's) */
#define HO_RQF_RAW 16u   /* a setup for a store without lead_facts: from the raw history */
#define HO_RQF_FACTS 32u /* for a store with lead_facts only: a setup over that roll-up, or a scan of it */

/* Open the store file at path read-only. busy_ms: how long a statement waits for a lock
 * (0: 5000). NULL with err: HO_ERR_NOT_FOUND (no file), HO_ERR_IO (cannot open),
 * HO_ERR_VERSION (no schema_version, or newer than HO_STORE_SCHEMA_VERSION); the message
 * names the file. */
ho_reader_t *ho_reader_open(const char *path, int busy_ms, ho_err_t *err);
void ho_reader_destroy(ho_reader_t **self_p);

const char *ho_reader_path(const ho_reader_t *self);
int ho_reader_schema_version(const ho_reader_t *self);
/* The engine's message of the last failure on this connection (borrowed). */
const char *ho_reader_errmsg(const ho_reader_t *self);

/* A read transaction: every statement between begin and end reads one committed state. */
int ho_reader_begin(ho_reader_t *self, ho_err_t *err);
int ho_reader_end(ho_reader_t *self, ho_err_t *err);
/* Read transactions on self and other (two connections to one file) that read one and the
 * same committed state, for one job read by two threads. While they begin, a connection of
 * its own holds the file's write lock, waiting up to wait_ms for it: so the file must be
 * writable by this process, and a writer waits for those few reads. HO_OK with both
 * begun; else an error (HO_ERR_STATE: a writer held the lock all that time; HO_ERR_IO: the
 * file cannot be opened for writing) with neither begun: read through one connection. */
int ho_reader_begin_pair(ho_reader_t *self, ho_reader_t *other, int wait_ms, ho_err_t *err);

/* The store's database has table (and column, when not NULL): what a reader checks before
 * it relies on a column an older schema lacks. */
bool ho_reader_has(ho_reader_t *self, const char *table, const char *column);

/* The prepared statement of q, reset and with no bindings; borrowed (valid until destroy:
 * reset it, never finalize it). HO_ERR_IO when it does not prepare (ho_reader_errmsg says
 * why), HO_ERR_STATE for a format or a part. */
int ho_reader_stmt(ho_reader_t *self, ho_rq_t q, sqlite3_stmt **st_p, ho_err_t *err);
/* The same for a format query: its text filled with the arguments (printf). */
int ho_reader_stmt_fmt(ho_reader_t *self, ho_rq_t q, sqlite3_stmt **st_p, ho_err_t *err, ...);
/* Step a setup statement (bound by the caller) to its end and reset it. */
int ho_reader_exec(ho_reader_t *self, sqlite3_stmt *st, ho_err_t *err);
/* A run of setup statements, e.g. a temp table filled row by row: query_only is lifted once
 * for the run instead of around each ho_reader_exec (two PRAGMAs a row cost more than the
 * insert). Read queries still cannot write: the reader refuses them at prepare. _end without
 * a run is a no-op; a second _begin is HO_ERR_STATE. */
int ho_reader_setup_begin(ho_reader_t *self, ho_err_t *err);
int ho_reader_setup_end(ho_reader_t *self, ho_err_t *err);

/* The text, name ("metrics.quarantine") and HO_RQF_ flags of a named query; NULL / 0 out of
 * range. */
const char *ho_reader_sql(ho_rq_t q);
const char *ho_reader_query_name(ho_rq_t q);
unsigned ho_reader_query_flags(ho_rq_t q);

#endif
