/* read_queries_report_scores.c - the read model's queries of the report, part two:
 * Calibration, Learnings, Handoffs, Data quality (part one: read_queries_report.c). Moved
 * verbatim from the sheet that runs each (named after it). */
#include <stddef.h>

#include "store/read_queries.h"

static const ho_rq_def_t s_defs[] = {
    /* ---- Calibration (calibration.c): the scored leads of the lead pass (agg_band, agg_quad,
     * agg_fi: scan_leads.c) ---- */
    [HO_RQ_REPORT_CALIBRATION_GRID] =
        {"report.calibration_grid",
         "SELECT CASE WHEN fit < 0 THEN 0 WHEN fit >= %d THEN %d ELSE fit / %d END"
         " AS f, CASE WHEN interest < 0 THEN 0 WHEN interest >= %d THEN %d"
         " ELSE interest / %d END AS i, sum(n), sum(sql) FROM temp.agg_fi"
         " WHERE fit IS NOT NULL AND interest IS NOT NULL GROUP BY f, i",
         HO_RQF_FORMAT},
    [HO_RQ_REPORT_CALIBRATION_BANDS] = {"report.calibration_bands",
                                        "SELECT band, sum(n), sum(mql), sum(sql), sum(won)"
                                        " FROM temp.agg_band WHERE band IS NOT NULL"
                                        " GROUP BY band ORDER BY band",
                                        0},
    [HO_RQ_REPORT_CALIBRATION_QUADRANTS] =
        {"report.calibration_quadrants",
         "SELECT q, sum(n), sum(mql), sum(sql), sum(won) FROM temp.agg_quad"
         " WHERE q IS NOT NULL GROUP BY q ORDER BY CASE q WHEN 'mql_now' THEN 0"
         " WHEN 'group_offering' THEN 1 WHEN 'nurture' THEN 2 WHEN 'never' THEN 3 ELSE 4 END, q",
         0},
    /* ---- Learnings (learnings.c; ho_report_rules too) ---- */
    [HO_RQ_REPORT_LEARNINGS_BASE_SCORED] = {"report.learnings_base_scored",
                                            "SELECT coalesce(sum(an), 0), coalesce(sum(asal), 0),"
                                            " coalesce(sum(asql), 0) FROM temp.agg_src",
                                            0},
    [HO_RQ_REPORT_LEARNINGS_BASE] = {"report.learnings_base",
                                     "SELECT coalesce(sum(n), 0), coalesce(sum(sal), 0),"
                                     " coalesce(sum(sql), 0) FROM temp.agg_src",
                                     0},
    /* per scored lead (the explanations of a real store's leads are nearly all different, so
     * grouping them would cost memory, not time) */
    [HO_RQ_REPORT_LEARNINGS_RULES] =
        {"report.learnings_rules",
         "SELECT sc.explanation_json, x.sal, x.sql FROM (SELECT l.sal IS NOT NULL AS sal,"
         " l.sql IS NOT NULL AS sql, coalesce(CASE WHEN l.mql IS NOT NULL THEN " HO_RSQL_SCORE_AT(
             "l.id", "l.first_mql") " END, l.score_id) AS sid FROM temp.lead_asof l"
                                    " WHERE l.created_at >= :a12 AND l.created_at < :asof"
                                    " AND l.has_score AND l.id >= :lo AND l.id < :hi) x"
                                    " JOIN main.scores sc ON sc.id = x.sid",
         0},
    /* the leads' id range, for the rule pass in ranges of ids (learnings.c); one aggregate per
     * SELECT: min(id), max(id) in one would scan the table, alone each is one B-tree descent */
    [HO_RQ_REPORT_LEAD_ID_BOUNDS] = {"report.lead_id_bounds",
                                     "SELECT (SELECT min(id) FROM main.lead_facts),"
                                     " (SELECT max(id) FROM main.lead_facts)",
                                     HO_RQF_FACTS},
    [HO_RQ_REPORT_LEARNINGS_SOURCES] = {"report.learnings_sources",
                                        "SELECT ch, src, camp, sum(n) AS n, sum(sal), sum(sql)"
                                        " FROM temp.agg_src GROUP BY ch, src, camp"
                                        " ORDER BY n DESC, ch, src, camp",
                                        0},
    /* ---- Handoffs (handoffs.c) ---- */
    [HO_RQ_REPORT_SETUP_SCORE_MQL] =
        {"report.setup_score_mql",
         "CREATE TEMP TABLE score_mql (lead_id INTEGER PRIMARY KEY, score_id INTEGER)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_SCORE_MQL_FILL] =
        {"report.setup_score_mql_fill",
         "INSERT INTO temp.score_mql SELECT c.lead_id, " HO_RSQL_SCORE_AT(
             "c.lead_id", "c.e") " AS score_id FROM temp.week_cohort c",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_HANDOFFS_ROWS] =
        {"report.handoffs_rows",
         "SELECT c.e, l.first_name, l.last_name, l.email, l.company, l.title, l.city, l.state,"
         " l.country, l.original_source, l.original_campaign, sc.score, sc.grade, sc.quadrant,"
         " sc.explanation_json, a.rep_id, a.rep_name, a.queue, a.assigned_at, c.stage"
         " FROM temp.week_cohort c JOIN main.leads l ON l.id = c.lead_id"
         " LEFT JOIN temp.score_mql sm ON sm.lead_id = c.lead_id"
         " LEFT JOIN main.scores sc ON sc.id = sm.score_id"
         " LEFT JOIN main.assignments a ON a.id = (SELECT x.id FROM main.assignments x"
         "   WHERE x.lead_id = c.lead_id AND x.assigned_at < :asof"
         "   ORDER BY x.assigned_at DESC, x.id DESC LIMIT 1)"
         " ORDER BY c.e, c.lead_id",
         0},
/* ---- Data quality (quality.c) ---- */
/* Sum of the numbers of a JSON object {reason: n} (0 for NULL or malformed text). */
#define S_JSON_SUM(col)                                                                            \
    "(SELECT total(value) FROM json_each(CASE WHEN json_valid(" col ") THEN " col " ELSE '{}' "    \
    "END))"
    [HO_RQ_REPORT_SETUP_DQ_IMP] =
        {"report.setup_dq_imp",
         "CREATE TEMP TABLE dq_imp (import_id TEXT PRIMARY KEY, source TEXT NOT NULL,"
         " kind TEXT NOT NULL, file TEXT, finished_at INTEGER, read INTEGER,"
         " accepted INTEGER, skipped INTEGER, quarantined INTEGER, summary INTEGER)",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_DQ_IMP_IMPORTS] =
        {"report.setup_dq_imp_imports",
         "INSERT OR IGNORE INTO temp.dq_imp SELECT import_id,"
         " coalesce(nullif(source, ''), '(none)'), coalesce(kind, ''), file,"
         " finished_at, coalesce(read, 0), coalesce(accepted, 0),"
         " " S_JSON_SUM("skipped_json") ", " S_JSON_SUM("quarantined_json") ", 1 FROM main.imports",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_SETUP_DQ_IMP_RESULTS] =
        {"report.setup_dq_imp_results",
         "INSERT OR IGNORE INTO temp.dq_imp SELECT import_id, '(no import summary)',"
         " CASE WHEN max(result IN ('new', 'merged')) THEN 'lead'"
         " WHEN max(result IN ('matched', 'unmatched')) THEN 'activity'"
         " ELSE 'feedback' END, NULL, NULL, 0, 0, 0, 0, 0"
         " FROM main.import_results GROUP BY import_id",
         HO_RQF_SETUP},
    /* the import ids of the outcomes sales recorded (the outcomes pass, scans.c, leaves
     * implied rows out) */
    [HO_RQ_REPORT_SETUP_DQ_IMP_OUTCOMES] =
        {"report.setup_dq_imp_outcomes",
         "INSERT OR IGNORE INTO temp.dq_imp SELECT"
         " coalesce(import_id, ''), CASE WHEN import_id IS NULL THEN"
         " '(not imported)' ELSE '(no import summary)' END,"
         " 'feedback', NULL, NULL, 0, 0, 0, 0, 0 FROM temp.outcome_imports"
         " WHERE listed > 0",
         HO_RQF_SETUP},
    [HO_RQ_REPORT_QUALITY_KIND] =
        {"report.quality_kind",
         "%s FROM temp.dq_imp d WHERE d.kind = ? GROUP BY d.source ORDER BY d.source",
         HO_RQF_FORMAT},
    [HO_RQ_REPORT_QUALITY_KIND_HEAD] = {"report.quality_kind_head",
                                        "SELECT d.source, sum(d.summary), max(d.finished_at),"
                                        " total(d.read), total(d.skipped), total(d.quarantined),"
                                        " total(d.accepted)",
                                        HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_KIND_RESULT] = {"report.quality_kind_result",
                                          "(SELECT total(r.n) FROM main.import_results r"
                                          " JOIN temp.dq_imp x ON x.import_id = r.import_id"
                                          " WHERE x.source = d.source AND x.kind = d.kind"
                                          " AND r.result = ?)",
                                          HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_KIND_NO_RESULT] = {"report.quality_kind_no_result", "NULL", HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_KIND_NO_MQL] =
        {"report.quality_kind_no_mql",
         ", (SELECT coalesce(sum(oi.no_mql), 0) FROM temp.outcome_imports oi JOIN temp.dq_imp x"
         " ON x.import_id = coalesce(oi.import_id, '')"
         " WHERE x.source = d.source AND x.kind = d.kind)",
         HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_KIND_NO_MQL_NULL] = {"report.quality_kind_no_mql_null", ", NULL",
                                               HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_REASONS] =
        {"report.quality_reasons",
         "SELECT d.source, d.kind, 'Skipped' AS disp, j.key, total(j.value) FROM main.imports i"
         " JOIN temp.dq_imp d ON d.import_id = i.import_id, json_each(CASE WHEN"
         " json_valid(i.skipped_json) THEN i.skipped_json ELSE '{}' END) j GROUP BY 1, 2, 3, 4"
         " UNION ALL "
         "SELECT d.source, d.kind, 'Quarantined', j.key, total(j.value) FROM main.imports i"
         " JOIN temp.dq_imp d ON d.import_id = i.import_id, json_each(CASE WHEN"
         " json_valid(i.quarantined_json) THEN i.quarantined_json ELSE '{}' END) j"
         " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 DESC, 4",
         0},
    [HO_RQ_REPORT_QUALITY_WEEK_OUTCOMES] =
        {"report.quality_week_outcomes",
         "SELECT %s AS src, sum(x.w_acc), sum(x.w_rej), sum(x.w_sql), sum(x.w_opp),"
         " sum(x.w_won), sum(x.w_lost), %s FROM temp.outcome_imports x %s WHERE x.w_n > 0"
         " GROUP BY src ORDER BY src",
         HO_RQF_FORMAT},
    [HO_RQ_REPORT_QUALITY_WEEK_SOURCE] = {"report.quality_week_source",
                                          "coalesce(d.source, '(not imported)')", HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_WEEK_SOURCE_UNRECORDED] = {"report.quality_week_source_unrecorded",
                                                     "'(source not recorded)'", HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_WEEK_NO_MQL] = {"report.quality_week_no_mql", "sum(x.w_no_mql)",
                                          HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_WEEK_NO_MQL_NULL] = {"report.quality_week_no_mql_null", "NULL",
                                               HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_WEEK_JOIN_IMPORTS] =
        {"report.quality_week_join_imports",
         "LEFT JOIN temp.dq_imp d ON d.import_id = coalesce(x.import_id, '')", HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_WEEK_NO_JOIN] = {"report.quality_week_no_join", "", HO_RQF_PART},
    [HO_RQ_REPORT_QUALITY_PENDING] =
        {"report.quality_pending",
         "SELECT count(*), sum(status = 'unknown_lead') FROM main.pending_outcomes", 0},
    [HO_RQ_REPORT_QUALITY_PENDING_WITHOUT_STATUS] =
        {"report.quality_pending_without_status",
         "SELECT count(*), NULL FROM main.pending_outcomes", 0},
#undef S_JSON_SUM
};

const ho_rq_def_t *ho_rq_def_report_scores(ho_rq_t q)
{
    return (size_t)q < sizeof s_defs / sizeof s_defs[0] && s_defs[q].sql ? &s_defs[q] : NULL;
}
