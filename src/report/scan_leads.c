/* scan_leads.c - the lead pass: one scan of the leads created in the report's 12 weeks
 * (report.scan_leads: each with its week, channel / source / campaign, what it reached, its
 * won amount and its score as of the report's end), grouped in C (agg.c) into the temp
 * tables that Summary's Leads, Sources, Learnings' baselines and by-source table, and
 * Calibration read. It replaces nine GROUP BYs over the same ~700k rows of a 1M-lead store
 * (9.4 CPU-s of SQLite's sorter) with one scan. */
#include "report/report_int.h"

/* The scan's columns (read_queries_report.c, report.scan_leads). */
enum {
    C_IDX,
    C_CH,
    C_SRC,
    C_CAMP,
    C_ONE,
    C_MQL,
    C_SAL,
    C_SQL,
    C_WON,
    C_AMT,
    C_SCORED,
    C_SCORED_SAL,
    C_SCORED_SQL,
    C_BAND,
    C_QUAD,
    C_FIT,
    C_INTEREST,
};

ho_report_error_t ho_report_scan_leads(ho_rctx_t *ctx)
{
    static const ho_rq_t tables[] = {HO_RQ_REPORT_SETUP_AGG_SRC, HO_RQ_REPORT_SETUP_AGG_BAND,
                                     HO_RQ_REPORT_SETUP_AGG_QUAD, HO_RQ_REPORT_SETUP_AGG_FI};
    static const int src[] = {C_IDX, C_CH,  C_SRC, C_CAMP,   C_ONE,        C_MQL,       C_SAL,
                              C_SQL, C_WON, C_AMT, C_SCORED, C_SCORED_SAL, C_SCORED_SQL};
    static const int band[] = {C_BAND, C_ONE, C_MQL, C_SQL, C_WON};
    static const int quad[] = {C_QUAD, C_ONE, C_MQL, C_SQL, C_WON};
    static const int fi[] = {C_FIT, C_INTEREST, C_ONE, C_SQL};
    static const ho_rgroup_t groups[] = {
        {4, 9, src, NULL, HO_RQ_REPORT_SETUP_AGG_SRC_ROW},
        {1, 4, band, NULL, HO_RQ_REPORT_SETUP_AGG_BAND_ROW},
        {1, 4, quad, NULL, HO_RQ_REPORT_SETUP_AGG_QUAD_ROW},
        {2, 2, fi, NULL, HO_RQ_REPORT_SETUP_AGG_FI_ROW},
    };
    ho_report_error_t rc = HO_REPORT_OK;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && rc == HO_REPORT_OK; i++) {
        rc = ho_rsql_exec(ctx, tables[i]);
    }
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    return ho_rscan(ctx, HO_RQ_REPORT_SCAN_LEADS, groups, sizeof groups / sizeof groups[0],
                    "the lead pass");
}
