/* read_queries_report.c - the read model's queries of the report (workbook.c and the sheets),
 * part one: the shared temp tables, Summary, Funnel, Sources, Lost reasons, Lost and rejected,
 * Reps. Moved verbatim from the sheet that runs each (named after it); the sheet binds
 * (:asof, :a4, :a12, :wa, :wb: ho_rsql_bind_common) and steps. Part two:
 * read_queries_report_scores.c. */
#include <stddef.h>

#include "store/read_queries.h"

/* The _FACTS views' SQL assembled from macros, one clause a line (%1$lld: as_of) */
// clang-format off
#define S_REACH_COL(col, set)                                                                      \
    " CASE WHEN f." col " < %1$lld THEN f." col " WHEN f." col " IS NOT NULL THEN"                 \
    " (SELECT max(h.at) FROM temp.transitions h WHERE h.lead_id = f.id AND h.to_stage IN " set     \
    " AND h.at < %1$lld) END"
#define S_SID                                                                                      \
    "(SELECT s.id FROM main.scores s WHERE s.lead_id = f.id AND s.at < %1$lld"                     \
    " ORDER BY s.at DESC, s.id DESC LIMIT 1)"
#define S_SCORE_COL(col)                                                                           \
    " CASE WHEN f.score_at < %1$lld THEN f." col " ELSE (SELECT s2." col                           \
    " FROM main.scores s2 WHERE s2.id = " S_SID ") END AS " col
#define S_REACH_COLS                                                                               \
    S_REACH_COL("reach_mql", "('MQL','SAL','SQL','OPPORTUNITY','WON')") " AS mql,"                 \
    S_REACH_COL("reach_sal", "('SAL','SQL','OPPORTUNITY','WON')") " AS sal,"                       \
    S_REACH_COL("reach_sql", "('SQL','OPPORTUNITY','WON')") " AS sql,"                             \
    S_REACH_COL("reach_opp", "('OPPORTUNITY','WON')") " AS opp,"                                   \
    S_REACH_COL("reach_won", "('WON')") " AS won,"                                                 \
    " CASE WHEN f.first_mql < %1$lld THEN f.first_mql END AS first_mql"
/* the lead has a score before as_of (a score_asof row) */
#define S_HAS_SCORE                                                                                \
    " (f.score_at < %1$lld OR (f.score_at IS NOT NULL AND EXISTS (SELECT 1"                        \
    " FROM main.scores s WHERE s.lead_id = f.id AND s.at < %1$lld)))"
#define S_SCORE_COLS                                                                               \
    " CASE WHEN f.score_at < %1$lld THEN f.score_id ELSE " S_SID " END AS score_id,"               \
    S_SCORE_COL("score") "," S_SCORE_COL("grade") "," S_SCORE_COL("quadrant") ","                  \
    S_SCORE_COL("fit") "," S_SCORE_COL("interest")
#define S_REACH_FACTS                                                                              \
    "CREATE TEMP VIEW reach AS SELECT f.id AS lead_id," S_REACH_COLS " FROM main.lead_facts f"
#define S_SCORE_ASOF_FACTS                                                                         \
    "CREATE TEMP VIEW score_asof AS SELECT f.id AS lead_id," S_SCORE_COLS                          \
    " FROM main.lead_facts f WHERE" S_HAS_SCORE
/* lead_asof: lead_rows, reach and score_asof of one lead in one row (one read of its
 * lead_facts row instead of three) */
#define S_LEAD_ASOF_FACTS                                                                          \
    "CREATE TEMP VIEW lead_asof AS SELECT f.id AS id, f.created_at AS created_at,"                 \
    " f.source_channel AS source_channel, f.original_source AS original_source,"                   \
    " f.original_campaign AS original_campaign," S_REACH_COLS ","                                  \
    S_HAS_SCORE " AS has_score," S_SCORE_COLS                                                      \
    " FROM main.lead_facts f WHERE f.created_at IS NOT NULL"
// clang-format on

static const ho_rq_def_t s_defs[] = {
    /* ---- the shared temp tables (workbook.c: s_prepare_tables), in the order it makes them ----
     */
    [HO_RQ_REPORT_SETUP_TRANSITIONS] = {"report.setup_transitions",
                                        "CREATE TEMP VIEW transitions AS SELECT * FROM"
                                        " main.stage_history WHERE kind = 'transition'",
                                        HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_TRANSITIONS_WITHOUT_KIND] = {"report.setup_transitions_without_kind",
                                                     "CREATE TEMP VIEW transitions AS SELECT * FROM"
                                                     " main.stage_history",
                                                     HO_RQF_SETUP | HO_RQF_ALT},
    [HO_RQ_REPORT_SETUP_PERIODS] =
        {"report.setup_periods",
         "CREATE TEMP TABLE periods (idx INTEGER PRIMARY KEY, a INTEGER NOT NULL, "
         "b INTEGER NOT NULL)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_PERIODS_ROW] = {"report.setup_periods_row",
                                        "INSERT INTO temp.periods VALUES (?, ?, ?)", HO_RQF_SETUP},
    /* reach, score_asof and lead_rows: from the raw history (HO_RQF_RAW), or, on a store with
     * lead_facts (schema 8), as views over that roll-up (HO_RQF_FACTS): each kept value before
     * as_of is used as it is, a later one (a re-run for an older week) sends that lead to its
     * own history. A view takes no parameters: %1$lld stands for as_of (ho_reader_stmt_fmt). */
    [HO_RQ_REPORT_SETUP_REACH] =
        {"report.setup_reach",
         "CREATE TEMP TABLE reach (lead_id INTEGER PRIMARY KEY, mql INTEGER, sal INTEGER, "
         "sql INTEGER, opp INTEGER, won INTEGER, first_mql INTEGER)",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_REACH_FILL] =
        {"report.setup_reach_fill",
         "INSERT INTO temp.reach SELECT lead_id,"
         " max(CASE WHEN to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON') THEN at END),"
         " max(CASE WHEN to_stage IN ('SAL','SQL','OPPORTUNITY','WON') THEN at END),"
         " max(CASE WHEN to_stage IN ('SQL','OPPORTUNITY','WON') THEN at END),"
         " max(CASE WHEN to_stage IN ('OPPORTUNITY','WON') THEN at END),"
         " max(CASE WHEN to_stage = 'WON' THEN at END),"
         " min(CASE WHEN to_stage = 'MQL' THEN at END)"
         " FROM temp.transitions WHERE at < :asof GROUP BY lead_id",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_REACH_FACTS] = {"report.setup_reach_facts", S_REACH_FACTS,
                                        HO_RQF_SETUP | HO_RQF_FORMAT | HO_RQF_FACTS},
    [HO_RQ_REPORT_SETUP_SCORE_ASOF] =
        {"report.setup_score_asof",
         "CREATE TEMP TABLE score_asof (lead_id INTEGER PRIMARY KEY, score_id INTEGER, "
         "score INTEGER, grade TEXT, quadrant TEXT, fit INTEGER, interest INTEGER)",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_SCORE_ASOF_FILL] =
        {"report.setup_score_asof_fill",
         "INSERT INTO temp.score_asof SELECT lead_id, id, score, grade, quadrant, fit, interest"
         " FROM (SELECT lead_id, id, score, grade, quadrant, fit, interest, row_number() OVER"
         " (PARTITION BY lead_id ORDER BY at DESC, id DESC) AS rn"
         " FROM main.scores WHERE at < :asof) WHERE rn = 1",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_SCORE_ASOF_FACTS] = {"report.setup_score_asof_facts", S_SCORE_ASOF_FACTS,
                                             HO_RQF_SETUP | HO_RQF_FORMAT | HO_RQF_FACTS},
    [HO_RQ_REPORT_SETUP_LEAD_ASOF] =
        {"report.setup_lead_asof",
         "CREATE TEMP VIEW lead_asof AS SELECT l.id AS id, l.created_at AS created_at,"
         " l.source_channel AS source_channel, l.original_source AS original_source,"
         " l.original_campaign AS original_campaign, r.mql AS mql, r.sal AS sal, r.sql AS sql,"
         " r.opp AS opp, r.won AS won, r.first_mql AS first_mql,"
         " sa.lead_id IS NOT NULL AS has_score, sa.score_id AS score_id, sa.score AS score,"
         " sa.grade AS grade, sa.quadrant AS quadrant, sa.fit AS fit, sa.interest AS interest"
         " FROM temp.lead_rows l LEFT JOIN temp.reach r ON r.lead_id = l.id"
         " LEFT JOIN temp.score_asof sa ON sa.lead_id = l.id",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_LEAD_ASOF_FACTS] = {"report.setup_lead_asof_facts", S_LEAD_ASOF_FACTS,
                                            HO_RQF_SETUP | HO_RQF_FORMAT | HO_RQF_FACTS},
#undef S_REACH_COL
#undef S_SID
#undef S_SCORE_COL
#undef S_REACH_COLS
#undef S_HAS_SCORE
#undef S_SCORE_COLS
#undef S_REACH_FACTS
#undef S_SCORE_ASOF_FACTS
#undef S_LEAD_ASOF_FACTS
    /* lead_rows: the lead columns the per-lead passes group by */
    [HO_RQ_REPORT_SETUP_LEAD_ROWS] =
        {"report.setup_lead_rows",
         "CREATE TEMP VIEW lead_rows AS SELECT id, created_at, source_channel, original_source,"
         " original_campaign FROM main.leads",
         HO_RQF_SETUP | HO_RQF_RAW},
    [HO_RQ_REPORT_SETUP_LEAD_ROWS_FACTS] =
        {"report.setup_lead_rows_facts",
         "CREATE TEMP VIEW lead_rows AS SELECT id, created_at, source_channel, original_source,"
         " original_campaign FROM main.lead_facts WHERE created_at IS NOT NULL",
         HO_RQF_SETUP | HO_RQF_FACTS},
    /* the stage pass (stages.c): every transition before as_of, each lead's together and in
     * time order (id breaks a tie as the Handoffs' latest stage always did). Since schema 9
     * stage_history_lead is (lead_id, at, id, kind, to_stage): this order and every column
     * read, so the scan reads the index alone, in order; through the older (lead_id, at) each
     * row was a seek into the table (1M leads of a real run: 90k page reads for its 28.7k
     * pages) */
    [HO_RQ_REPORT_STAGES_SCAN] = {"report.stages_scan",
                                  "SELECT lead_id, at, to_stage FROM temp.transitions"
                                  " WHERE at < :asof ORDER BY lead_id, at, id",
                                  0},
    /* per period (idx) and stage: the leads that entered it in the period */
    [HO_RQ_REPORT_SETUP_STAGE_COUNTS] =
        {"report.setup_stage_counts",
         "CREATE TEMP TABLE stage_counts (idx INTEGER NOT NULL, to_stage TEXT NOT NULL, "
         "n INTEGER NOT NULL, PRIMARY KEY (idx, to_stage))",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_STAGE_COUNTS_ROW] = {"report.setup_stage_counts_row",
                                             "INSERT INTO temp.stage_counts VALUES (?, ?, ?)",
                                             HO_RQF_SETUP},
    /* per period and step (MQL -> SAL, SAL -> SQL): the median milliseconds from the latest
     * from_stage entry at or before each to_stage entry of the period */
    [HO_RQ_REPORT_SETUP_VELOCITY] =
        {"report.setup_velocity",
         "CREATE TEMP TABLE velocity (idx INTEGER NOT NULL, from_stage TEXT NOT NULL, "
         "to_stage TEXT NOT NULL, median_ms REAL NOT NULL, PRIMARY KEY (idx, from_stage, "
         "to_stage))",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_VELOCITY_ROW] = {"report.setup_velocity_row",
                                         "INSERT INTO temp.velocity VALUES (?, ?, ?, ?)",
                                         HO_RQF_SETUP},
    /* per period: its MQL cohort (leads with an MQL entry in it) and how many of them reached
     * SAL, SQL, opportunity, won at or after their first MQL entry of the period */
    [HO_RQ_REPORT_SETUP_COHORT_COUNTS] =
        {"report.setup_cohort_counts",
         "CREATE TEMP TABLE cohort_counts (idx INTEGER PRIMARY KEY, n INTEGER NOT NULL, "
         "sal INTEGER NOT NULL, sql INTEGER NOT NULL, opp INTEGER NOT NULL, "
         "won INTEGER NOT NULL)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_COHORT_COUNTS_ROW] = {"report.setup_cohort_counts_row",
                                              "INSERT INTO temp.cohort_counts VALUES"
                                              " (?, ?, ?, ?, ?, ?)",
                                              HO_RQF_SETUP},
    /* the report week's MQL cohort, lead by lead (Handoffs) */
    [HO_RQ_REPORT_SETUP_WEEK_COHORT] =
        {"report.setup_week_cohort",
         "CREATE TEMP TABLE week_cohort (lead_id INTEGER PRIMARY KEY, e INTEGER NOT NULL, "
         "stage TEXT)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_WEEK_COHORT_ROW] = {"report.setup_week_cohort_row",
                                            "INSERT INTO temp.week_cohort VALUES (?, ?, ?)",
                                            HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_WON_AMOUNT] =
        {"report.setup_won_amount",
         "CREATE TEMP TABLE won_amount (lead_id INTEGER PRIMARY KEY, amount REAL)", HO_RQF_SETUP},
    /* per lead, total(amount) of its won outcomes before as_of (the outcomes pass) */
    [HO_RQ_REPORT_SETUP_WON_AMOUNT_ROW] = {"report.setup_won_amount_row",
                                           "INSERT INTO temp.won_amount VALUES (?, ?)",
                                           HO_RQF_SETUP},
    /* ---- the passes (scans.c): each scan only filters and reads per-row values (no GROUP BY,
     * no sorter, no CROSS JOIN with the periods: the week of a row is found in C); its groups
     * land in these temp tables, one row per group. idx: the period as in temp.periods. ---- */
    [HO_RQ_REPORT_SETUP_OUTCOME_PERIODS] =
        {"report.setup_outcome_periods",
         "CREATE TEMP TABLE outcome_periods (idx INTEGER PRIMARY KEY, sals INTEGER,"
         " accepted INTEGER, decided INTEGER, rejected INTEGER, lost INTEGER, no_mql INTEGER,"
         " won_amount REAL, pipeline REAL)",
         HO_RQF_SETUP},
    /* ---- the lead pass (scan_leads.c): per lead created in the 12 weeks, its creation (the
     * pass finds its week, ho_rweek_idx), channel, source, campaign, reach flags, won amount and
     * score as of the report's end; agg.c groups the rows into the agg_* tables below (one row per
     * group: the sums) ---- */
    [HO_RQ_REPORT_SCAN_LEADS] =
        {"report.scan_leads",
         "SELECT l.created_at,"
         " coalesce(nullif(l.source_channel, ''), '(none)'),"
         " coalesce(nullif(l.original_source, ''), '(none)'),"
         " coalesce(nullif(l.original_campaign, ''), '(none)'), 1,"
         " l.mql IS NOT NULL, l.sal IS NOT NULL, l.sql IS NOT NULL, l.won IS "
         "NOT NULL, w.amount,"
         " l.has_score, l.has_score AND l.sal IS NOT NULL, l.has_score AND "
         "l.sql IS NOT NULL,"
         " CASE WHEN l.score IS NOT NULL THEN l.score - (((l.score % 10) + 10) "
         "% 10) END,"
         " CASE WHEN l.score IS NOT NULL THEN coalesce(nullif(l.quadrant, ''), "
         "'(none)') END,"
         " CASE WHEN l.score IS NOT NULL THEN l.fit END,"
         " CASE WHEN l.score IS NOT NULL THEN l.interest END"
         " FROM temp.lead_asof l LEFT JOIN temp.won_amount w ON w.lead_id = "
         "l.id"
         " WHERE l.created_at >= :a12 AND l.created_at < :asof",
         0},
    /* On a store with lead_facts: the kept values as they are (a plain read of one row a
     * lead, ~4x cheaper than lead_asof's CASEs); scan_leads.c uses them when every one of
     * them is before as_of and the lead has a score (then they ARE lead_asof's values),
     * and reads the lead's row of lead_asof (report.scan_lead_asof) otherwise. The columns
     * raw: scan_leads.c makes '(none)' of a blank and the band of the score (SQL expressions
     * evaluated for each of ~800k rows cost more than the C), and adds the won amounts from
     * report.scan_leads_amounts (a join probe per lead for ~5% of them that have one). */
    [HO_RQ_REPORT_SCAN_LEADS_FACTS] =
        {"report.scan_leads_facts",
         "SELECT f.created_at, f.source_channel, f.original_source, f.original_campaign, f.id,"
         " f.reach_mql, f.reach_sal, f.reach_sql, f.reach_won, f.score_at, f.score, f.quadrant,"
         " f.fit, f.interest FROM main.lead_facts f"
         " WHERE f.created_at >= :a12 AND f.created_at < :asof",
         HO_RQF_FACTS},
    /* the won amounts (temp.won_amount, the outcomes pass) of the leads of the lead pass, in
     * lead id order as the lead scan adds them (so each group's sum adds in the same order);
     * CROSS JOIN: the ~50k amounts drive, not the 1M leads */
    [HO_RQ_REPORT_SCAN_LEADS_AMOUNTS] =
        {"report.scan_leads_amounts",
         "SELECT f.created_at, f.source_channel, f.original_source, f.original_campaign,"
         " w.amount FROM temp.won_amount w CROSS JOIN main.lead_facts f ON f.id = w.lead_id"
         " WHERE f.created_at >= :a12 AND f.created_at < :asof ORDER BY w.lead_id",
         HO_RQF_FACTS},
    [HO_RQ_REPORT_SCAN_LEAD_ASOF] =
        {"report.scan_lead_asof",
         "SELECT l.mql IS NOT NULL, l.sal IS NOT NULL, l.sql IS NOT NULL, l.won IS NOT NULL,"
         " l.has_score,"
         " CASE WHEN l.score IS NOT NULL THEN l.score - (((l.score % 10) + 10) % 10) END,"
         " CASE WHEN l.score IS NOT NULL THEN coalesce(nullif(l.quadrant, ''), '(none)') END,"
         " CASE WHEN l.score IS NOT NULL THEN l.fit END,"
         " CASE WHEN l.score IS NOT NULL THEN l.interest END"
         " FROM temp.lead_asof l WHERE l.id = ?1",
         0},
    /* by week and source: leads, reached MQL / SAL / SQL / won, won amount; and of those with
     * a score as of the end (an = leads, asal, asql) */
    [HO_RQ_REPORT_SETUP_AGG_SRC] =
        {"report.setup_agg_src",
         "CREATE TEMP TABLE agg_src (idx INTEGER, ch TEXT, src TEXT, camp TEXT, n INTEGER,"
         " mql INTEGER, sal INTEGER, sql INTEGER, won INTEGER, amt REAL, an INTEGER,"
         " asal INTEGER, asql INTEGER)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_SRC_ROW] = {"report.setup_agg_src_row",
                                        "INSERT INTO temp.agg_src VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                                        " ?, ?, ?, ?, ?)",
                                        HO_RQF_SETUP},
    /* the scored leads (band, quadrant and fit x interest NULL for the others) */
    [HO_RQ_REPORT_SETUP_AGG_BAND] = {"report.setup_agg_band",
                                     "CREATE TEMP TABLE agg_band (band INTEGER, n INTEGER,"
                                     " mql INTEGER, sql INTEGER, won INTEGER)",
                                     HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_BAND_ROW] = {"report.setup_agg_band_row",
                                         "INSERT INTO temp.agg_band VALUES (?, ?, ?, ?, ?)",
                                         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_QUAD] = {"report.setup_agg_quad",
                                     "CREATE TEMP TABLE agg_quad (q TEXT, n INTEGER,"
                                     " mql INTEGER, sql INTEGER, won INTEGER)",
                                     HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_QUAD_ROW] = {"report.setup_agg_quad_row",
                                         "INSERT INTO temp.agg_quad VALUES (?, ?, ?, ?, ?)",
                                         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_FI] = {"report.setup_agg_fi",
                                   "CREATE TEMP TABLE agg_fi (fit INTEGER, interest INTEGER,"
                                   " n INTEGER, sql INTEGER)",
                                   HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_AGG_FI_ROW] = {"report.setup_agg_fi_row",
                                       "INSERT INTO temp.agg_fi VALUES (?, ?, ?, ?)", HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_OUTCOME_PERIODS_ROW] = {"report.setup_outcome_periods_row",
                                                "INSERT INTO temp.outcome_periods VALUES"
                                                " (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                                HO_RQF_SETUP},
    /* rejected and lost outcomes of the 12 weeks by reason code ('unspecified' when blank) */
    [HO_RQ_REPORT_SETUP_OUTCOME_REASONS] =
        {"report.setup_outcome_reasons",
         "CREATE TEMP TABLE outcome_reasons (code TEXT PRIMARY KEY, rejected INTEGER,"
         " lost INTEGER, week INTEGER, n INTEGER)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_OUTCOME_REASONS_ROW] = {"report.setup_outcome_reasons_row",
                                                "INSERT INTO temp.outcome_reasons VALUES"
                                                " (?, ?, ?, ?, ?)",
                                                HO_RQF_SETUP},
    /* the same by reason and key: by = 'channel' (the lead's, '(none)' when blank) or 'rep' */
    [HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS] =
        {"report.setup_outcome_reason_keys",
         "CREATE TEMP TABLE outcome_reason_keys (by TEXT NOT NULL, code TEXT NOT NULL,"
         " k TEXT NOT NULL, n INTEGER, PRIMARY KEY (by, code, k))",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS_ROW] = {"report.setup_outcome_reason_keys_row",
                                                    "INSERT INTO temp.outcome_reason_keys"
                                                    " VALUES (?, ?, ?, ?)",
                                                    HO_RQF_SETUP},
    /* per outcomes.import_id (NULL: not imported) the rows sales recorded (not implied):
     * listed = how many (all time), no_mql = of them on leads never MQL; w_*: the report
     * week's by outcome */
    [HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS] =
        {"report.setup_outcome_imports",
         "CREATE TEMP TABLE outcome_imports (import_id TEXT, listed INTEGER, no_mql INTEGER,"
         " w_acc INTEGER, w_rej INTEGER, w_sql INTEGER, w_opp INTEGER, w_won INTEGER,"
         " w_lost INTEGER, w_no_mql INTEGER, w_n INTEGER)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS_ROW] = {"report.setup_outcome_imports_row",
                                                "INSERT INTO temp.outcome_imports VALUES"
                                                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                                HO_RQF_SETUP},
    /* the report week's rejected and lost outcomes, in the Lost and rejected sheet's order */
    [HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST] =
        {"report.setup_outcome_week_lost",
         "CREATE TEMP TABLE outcome_week_lost (at INTEGER NOT NULL, id INTEGER NOT NULL,"
         " PRIMARY KEY (at, id)) WITHOUT ROWID",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST_ROW] = {"report.setup_outcome_week_lost_row",
                                                  "INSERT INTO temp.outcome_week_lost"
                                                  " VALUES (?, ?)",
                                                  HO_RQF_SETUP},
    /* every outcome (the Data quality counts are of all time); the lead's channel only for
     * the rejected and lost rows of the 12 weeks (the Lost reasons matrix) */
    [HO_RQ_REPORT_SCAN_OUTCOMES] =
        {"report.scan_outcomes",
         "SELECT o.id, o.occurred_at, o.outcome, o.lead_id, o.amount, o.reason, o.rep_id,"
         " %s, %s, %s, CASE WHEN o.outcome IN ('rejected', 'lost') AND o.occurred_at >= :a12"
         " AND o.occurred_at < :asof THEN coalesce((SELECT nullif(l.source_channel, '')"
         " FROM %s l WHERE l.id = o.lead_id), '(none)') END FROM main.outcomes o",
         HO_RQF_FORMAT},
    /* where the outcomes pass reads a lead's channel: lead_facts where the store keeps it
     * (the same value, kept by trigger; ~80 bytes a row, not the ~1.3 KB of a leads row,
     * so a week's outcomes read a few pages, not one each) */
    [HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_FACTS] = {"report.scan_outcomes_channel_facts",
                                                  "main.lead_facts",
                                                  HO_RQF_PART | HO_RQF_FACTS},
    [HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_LEADS] = {"report.scan_outcomes_channel_leads",
                                                  "main.leads", HO_RQF_PART},
    [HO_RQ_REPORT_SCAN_OUTCOMES_FLAGS] = {"report.scan_outcomes_flags", "o.flags", HO_RQF_PART},
    [HO_RQ_REPORT_SCAN_OUTCOMES_IMPLIED] = {"report.scan_outcomes_implied", "o.implied",
                                            HO_RQF_PART},
    [HO_RQ_REPORT_SCAN_OUTCOMES_IMPORT_ID] = {"report.scan_outcomes_import_id", "o.import_id",
                                              HO_RQF_PART},
    [HO_RQ_REPORT_SCAN_NULL] = {"report.scan_null", "NULL", HO_RQF_PART},
    [HO_RQ_REPORT_SCAN_ZERO] = {"report.scan_zero", "0", HO_RQF_PART},
    /* the median time to accept (ms) of the assignments made in each period */
    [HO_RQ_REPORT_SETUP_ASSIGN_PERIODS] =
        {"report.setup_assign_periods",
         "CREATE TEMP TABLE assign_periods (idx INTEGER PRIMARY KEY, med REAL)", HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_ASSIGN_PERIODS_ROW] = {"report.setup_assign_periods_row",
                                               "INSERT INTO temp.assign_periods VALUES (?, ?)",
                                               HO_RQF_SETUP},
    /* per rep, the assignments of the 4 weeks: the Reps sheet's counts and median (ms) */
    [HO_RQ_REPORT_SETUP_REP_ROWS] =
        {"report.setup_rep_rows",
         "CREATE TEMP TABLE rep_rows (rep_id TEXT PRIMARY KEY, assigned INTEGER,"
         " accepted INTEGER, sla INTEGER, leads INTEGER, sql INTEGER, won INTEGER, med REAL)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_REP_ROWS_ROW] = {"report.setup_rep_rows_row",
                                         "INSERT INTO temp.rep_rows VALUES"
                                         " (?, ?, ?, ?, ?, ?, ?, ?)",
                                         HO_RQF_SETUP},
    /* each (rep, name) seen: the sheet shows the greatest name, as max() does */
    [HO_RQ_REPORT_SETUP_REP_NAMES] = {"report.setup_rep_names",
                                      "CREATE TEMP TABLE rep_names (rep_id TEXT, rep_name TEXT)",
                                      HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_REP_NAMES_ROW] = {"report.setup_rep_names_row",
                                          "INSERT INTO temp.rep_names VALUES (?, ?)", HO_RQF_SETUP},
    /* the assignments of the 12 weeks; the reach and the breach only for the rows of the
     * Reps sheet (assigned in the 4 weeks, to a rep) */
    [HO_RQ_REPORT_SCAN_ASSIGNMENTS] =
        {"report.scan_assignments",
         "SELECT s.lead_id, s.rep_id, s.rep_name, s.assigned_at, s.accepted_at,"
         " CASE WHEN s.assigned_at >= :a4 AND s.rep_id <> '' THEN EXISTS (SELECT 1"
         " FROM main.sla_breaches b WHERE b.assignment_id = s.id AND b.at < :asof) END,"
         " r.sql, r.won FROM main.assignments s LEFT JOIN temp.reach r"
         " ON r.lead_id = s.lead_id AND s.assigned_at >= :a4 AND s.rep_id <> ''"
         " WHERE s.assigned_at >= :a12 AND s.assigned_at < :asof",
         0},
    [HO_RQ_REPORT_SETUP_SLA_PERIODS] =
        {"report.setup_sla_periods",
         "CREATE TEMP TABLE sla_periods (idx INTEGER PRIMARY KEY, n INTEGER)", HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_SLA_PERIODS_ROW] = {"report.setup_sla_periods_row",
                                            "INSERT INTO temp.sla_periods VALUES (?, ?)",
                                            HO_RQF_SETUP},
    [HO_RQ_REPORT_SCAN_SLA] = {"report.scan_sla",
                               "SELECT b.at, b.assignment_id FROM main.sla_breaches b"
                               " WHERE b.at >= :a12 AND b.at < :asof",
                               0},
    /* ---- Summary (summary.c) ---- */
    [HO_RQ_REPORT_SUMMARY_LEADS] =
        {"report.summary_leads",
         "SELECT idx, sum(n) FROM temp.agg_src GROUP BY idx"
         " UNION ALL SELECT 12, sum(n) FROM temp.agg_src WHERE idx >= 8 HAVING count(*) > 0",
         0},
    [HO_RQ_REPORT_SUMMARY_STAGES] = {"report.summary_stages",
                                     "SELECT idx, to_stage, n FROM temp.stage_counts"
                                     " ORDER BY idx, to_stage",
                                     0},
    /* the passes' periods (scans.c): SALs = distinct leads with an accepted outcome not
     * flagged out_of_order */
    [HO_RQ_REPORT_SUMMARY_SALS] = {"report.summary_sals",
                                   "SELECT idx, 'SAL', sals FROM temp.outcome_periods", 0},
    [HO_RQ_REPORT_SUMMARY_WON_AMOUNT] = {"report.summary_won_amount",
                                         "SELECT idx, won_amount FROM temp.outcome_periods", 0},
    [HO_RQ_REPORT_SUMMARY_ACCEPTANCE] = {"report.summary_acceptance",
                                         "SELECT idx, accepted, decided FROM temp.outcome_periods",
                                         0},
    [HO_RQ_REPORT_SUMMARY_COHORTS] = {"report.summary_cohorts",
                                      "SELECT idx, n, sql FROM temp.cohort_counts ORDER BY idx", 0},
    [HO_RQ_REPORT_SUMMARY_SLA] = {"report.summary_sla", "SELECT idx, n FROM temp.sla_periods", 0},
    [HO_RQ_REPORT_SUMMARY_LOST] = {"report.summary_lost",
                                   "SELECT idx, rejected, lost FROM temp.outcome_periods", 0},
    /* implied rows left out where the store has outcomes.implied (scans.c) */
    [HO_RQ_REPORT_SUMMARY_NO_MQL] = {"report.summary_no_mql",
                                     "SELECT idx, no_mql FROM temp.outcome_periods", 0},
    [HO_RQ_REPORT_SUMMARY_PIPELINE] = {"report.summary_pipeline",
                                       "SELECT idx, pipeline FROM temp.outcome_periods", 0},
    /* the median (ms) of each period that has one */
    [HO_RQ_REPORT_SUMMARY_TIME_TO_ACCEPT] = {"report.summary_time_to_accept",
                                             "SELECT idx, med FROM temp.assign_periods"
                                             " WHERE med IS NOT NULL ORDER BY idx",
                                             0},
    [HO_RQ_REPORT_SUMMARY_VELOCITY] = {"report.summary_velocity",
                                       "SELECT idx, median_ms FROM temp.velocity"
                                       " WHERE from_stage = ?1 AND to_stage = ?2 ORDER BY idx",
                                       0},
    /* ---- Summary's data-freshness table (quality.c: ho_report_freshness) ---- */
    [HO_RQ_REPORT_FRESHNESS] =
        {"report.freshness",
         "SELECT coalesce(nullif(source, ''), '(none)') AS src, coalesce(kind, ''),"
         " max(finished_at), count(*), total(read) FROM main.imports GROUP BY 1, 2 ORDER BY 1, 2",
         0},
    /* ---- Funnel (funnel.c) ---- */
    [HO_RQ_REPORT_FUNNEL_COHORTS] = {"report.funnel_cohorts",
                                     "SELECT idx, n, sal, sql, opp, won FROM temp.cohort_counts"
                                     " WHERE idx < 12 ORDER BY idx",
                                     0},
    /* ---- Sources (sources.c) ---- */
    [HO_RQ_REPORT_SOURCES_CHANNELS] = {"report.sources_channels",
                                       "SELECT ch, sum(n) AS n, sum(mql), sum(sql), sum(won),"
                                       " total(amt) FROM temp.agg_src GROUP BY ch"
                                       " ORDER BY n DESC, ch",
                                       0},
    [HO_RQ_REPORT_SOURCES_DRILL] =
        {"report.sources_drill",
         "SELECT ch, src, camp, n, m, q, wn, amt FROM (SELECT ch, src, camp, sum(n) AS n,"
         " sum(mql) AS m, sum(sql) AS q, sum(won) AS wn, total(amt) AS amt,"
         " sum(sum(n)) OVER (PARTITION BY ch) AS chn FROM temp.agg_src GROUP BY ch, src, camp)"
         " ORDER BY chn DESC, ch, n DESC, src, camp",
         0},
#undef S_CH
#undef S_FROM
    /* ---- Lost reasons (reasons.c): from the outcomes pass (scans.c) ---- */
    [HO_RQ_REPORT_REASONS_PARETO] = {"report.reasons_pareto",
                                     "SELECT code, rejected, lost, week, n"
                                     " FROM temp.outcome_reasons ORDER BY n DESC, code",
                                     0},
    [HO_RQ_REPORT_REASONS_KEYS] = {"report.reasons_keys",
                                   "SELECT k, sum(n) AS c FROM temp.outcome_reason_keys"
                                   " WHERE by = %s GROUP BY k ORDER BY c DESC, k",
                                   HO_RQF_FORMAT},
    [HO_RQ_REPORT_REASONS_CELLS] = {"report.reasons_cells",
                                    "SELECT code, k, n FROM temp.outcome_reason_keys"
                                    " WHERE by = %s",
                                    HO_RQF_FORMAT},
    [HO_RQ_REPORT_REASONS_KEY_CHANNEL] = {"report.reasons_key_channel", "'channel'", HO_RQF_PART},
    [HO_RQ_REPORT_REASONS_KEY_REP] = {"report.reasons_key_rep", "'rep'", HO_RQF_PART},
    /* ---- Lost and rejected (drilldown.c) ---- */
    [HO_RQ_REPORT_DRILLDOWN_ROWS] =
        {"report.drilldown_rows",
         "SELECT o.occurred_at, o.outcome, coalesce(nullif(o.reason, ''), 'unspecified'),"
         " trim(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '')), l.email,"
         " l.company, coalesce(nullif(l.source_channel, ''), '(none)'),"
         " coalesce(nullif(l.original_source, ''), '(none)'),"
         " coalesce(nullif(l.original_campaign, ''), '(none)'),"
         " coalesce(nullif(o.rep_id, ''), '(none)'), o.stage_reached, %s"
         " FROM temp.outcome_week_lost w JOIN main.outcomes o ON o.id = w.id"
         " LEFT JOIN main.leads l ON l.id = o.lead_id ORDER BY w.at, w.id",
         HO_RQF_FORMAT},
    [HO_RQ_REPORT_DRILLDOWN_FLAGS] = {"report.drilldown_flags", "o.flags", HO_RQF_PART},
    [HO_RQ_REPORT_DRILLDOWN_NO_FLAGS] = {"report.drilldown_no_flags", "NULL", HO_RQF_PART},
    /* ---- Reps (reps.c): from the assignments pass (scans.c); med: the median time to
     * accept (ms), NULL when none was accepted ---- */
    [HO_RQ_REPORT_REPS_ROWS] =
        {"report.reps_rows",
         "SELECT r.rep_id, coalesce((SELECT max(nullif(n.rep_name, '')) FROM temp.rep_names n"
         " WHERE n.rep_id = r.rep_id), ''), r.assigned, r.accepted, r.sla, r.leads, r.sql, r.won,"
         " r.med FROM temp.rep_rows r ORDER BY r.rep_id",
         0},
};

const ho_rq_def_t *ho_rq_def_report(ho_rq_t q)
{
    return (size_t)q < sizeof s_defs / sizeof s_defs[0] && s_defs[q].sql ? &s_defs[q] : NULL;
}
