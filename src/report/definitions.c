/* definitions.c - the one list of what every number in the workbook means. The Definitions
 * sheet is written from it, and so is the "Definitions" section of reports/README.md
 * (`handoff report --definitions-md`; tests/integration/test_report_definitions.py fails when
 * the README's copy differs), so the meeting and the repository read the same words. */
#include <stdio.h>

#include "report/report_int.h"

static const ho_report_def_t s_defs[] = {
    {"All sheets", "Week",
     "ISO 8601 week, Monday 00:00 to the next Monday 00:00 in the report's time zone. An event "
     "is in a week when its one timestamp falls in it."},
    {"All sheets", "As of",
     "The end of the report week. Nothing at or after it is counted, so a past week's report "
     "gives the same numbers whenever it is re-run."},
    {"All sheets", "Reached a stage",
     "The lead entered that stage or a later one (MQL, Sales accepted, Sales qualified, "
     "Opportunity, Won) before the end of the report week; implied stages count."},
    {"All sheets", "Rate",
     "A share shown as percent; empty (not 0 %) when nothing was there to convert."},
    {"All sheets", "Stage names",
     "Display names from lifecycle.yaml (e.g. MQL = Marketing qualified, SAL = Sales "
     "accepted, SQL = Sales qualified, RECYCLED = Nurture)."},
    {"Summary", "Leads",
     "New people: leads whose created_at (earliest source record) is in the "
     "week."},
    {"Summary", "MQLs, SQLs, Opportunities, Won, Recycled",
     "Leads that entered that stage in the week (once per lead)."},
    {"Summary", "SALs",
     "Leads whose accepted outcome (recorded by sales, or implied by a later outcome that "
     "skipped it) occurred in the week (once per lead); a CRM export's stage is no "
     "acceptance."},
    {"Summary", "Won amount",
     "Sum of the amounts of won outcomes recorded in the week, in the "
     "currency of workers.report.currency (default USD)."},
    {"Summary", "Pipeline opened",
     "Sum of the amounts of opportunity outcomes recorded in the week (opportunity value), "
     "same currency."},
    {"Summary", "Median days MQL\xe2\x86\x92SAL, SAL\xe2\x86\x92SQL",
     "Velocity: for each entry into Sales accepted (Sales qualified) in the week, the days "
     "since the lead's latest MQL (Sales accepted) entry before it; the median. Entries with "
     "no such earlier stage (sales working a lead marketing never qualified) are left out."},
    {"Summary", "Rejected", "Rejected outcome rows recorded in the week: sales refused the lead."},
    {"Summary", "Lost", "Lost outcome rows recorded in the week: closed lost."},
    {"Summary", "Outcomes on leads marketing never qualified",
     "Outcome rows sales recorded in the week (implied stages left out) on a lead that never "
     "was an MQL (flag sales_accepted_without_mql): leads sales works that the model missed."},
    {"Summary", "MQL\xe2\x86\x92SQL rate",
     "Of the week's MQL cohort, the share that reached Sales qualified by the end of the "
     "report week. Young cohorts had less time: they are marked immature on the Funnel."},
    {"Summary", "SAL acceptance rate",
     "Accepted / (accepted + rejected) outcome rows recorded in the week."},
    {"Summary",
     "Median assignment\xe2\x86\x92"
     "acceptance (h)",
     "Median hours from a lead's assignment to the rep's acceptance, over assignments made "
     "in the week. Speed to lead as far as the data goes: not the first sales touch (a call "
     "or e-mail by the rep), which no input records with a time: sales feedback has outcomes "
     "only (accepted, rejected, sql, opportunity, won, lost), activities are marketing "
     "engagement (e-mail, web, webinar), a CRM export's contact status (Attempted to "
     "Contact, Working - Contacted) has no date."},
    {"Summary", "SLA breaches",
     "Assignments with an SLA breach in the week (a reminder and a reassignment of the same "
     "assignment count once)."},
    {"Summary", "4-week average",
     "Counts: the mean of the four weekly values. Rates and medians: computed once over the "
     "four weeks together."},
    {"Summary", "Data freshness",
     "Per source and file kind, the files imported and when the last one finished (imports "
     "table)."},
    {"Funnel", "Cohort",
     "The leads that entered MQL in a week; each is followed to the stages it reached "
     "afterwards, by the end of the report week."},
    {"Funnel", "Maturity",
     "A cohort of the last 4 weeks (the report week and the 3 before) is immature: its leads "
     "had less than 4 weeks to reach SQL, so its rates are still rising. The Summary's trend "
     "chart is the MQL\xe2\x86\x92SQL column of this sheet."},
    {"Sources", "Channel",
     "The lead's source_channel, normalized by the store from its original source (\"Web\" "
     "and \"Website\" are one channel); blank = (none). The drill-down below splits each "
     "channel into original source and campaign, with a subtotal per channel."},
    {"Sources", "Source, campaign",
     "The lead's original source and campaign as the first record that created it gave "
     "them; blank = (none)."},
    {"Sources", "Leads, MQL, SQL, Won",
     "Leads created in the 12 weeks, and how many of them reached each stage."},
    {"Lost reasons", "Reason",
     "The reason code sales gave (trimmed, lower case), labelled from reasons.yaml; a blank "
     "reason is unspecified. Rejected = refused at acceptance; Lost = closed lost."},
    {"Lost reasons", "Owner of the fix",
     "From reasons.yaml: marketing (the lead should not have reached sales) or sales (a real "
     "prospect sales did not convert). The split below the table sums each side."},
    {"Lost reasons", "Reason \xc3\x97 channel, reason \xc3\x97 rep",
     "Rejected + lost rows of the 12 weeks by reason and the lead's channel (source_channel, "
     "normalized by the store) or the rep who recorded them; the 10 biggest columns, the "
     "rest as Other; darker = more."},
    {"Lost reasons", "Share, cumulative share",
     "A reason's rows over all rows of the 12 weeks; running total in table order (Pareto)."},
    {"Lost and rejected", "Row",
     "One rejected or lost outcome recorded in the report week, oldest first, with the "
     "lead, its channel, source and campaign, the rep who recorded it and any flags (e.g. "
     "never MQL). Its rows are the Lost reasons sheet's \"This week\" column."},
    {"Reps", "Acceptance rate", "Accepted assignments / assignments in the 4 weeks."},
    {"Reps", "SQL, Won",
     "Distinct leads the rep was assigned that reached the stage after the assignment."},
    {"Calibration", "Fit \xc3\x97 interest grid",
     "Scored leads of the 12 weeks by fit band (rows) and interest band (columns), bands of "
     "half the scoring.yaml thresholds (good_fit, high_interest); the MQL rule's cells are "
     "top right, in bold. First grid: leads; second: the share that reached Sales qualified. "
     "A cell with fewer than 10 leads shows \"k of n\" instead of a rate."},
    {"Calibration", "Score band",
     "The lead's latest score before the end of the week, in bands of 10 points."},
    {"Calibration", "Quadrant",
     "Fit x interest: good fit + high interest = MQL now; low fit + high interest = group "
     "offering; good fit + low interest = nurture; low fit + low interest = never."},
    {"Learnings", "Lift",
     "For a scoring rule (leads whose score at MQL has it with non-zero points: the score in "
     "force at the lead's first MQL entry, what sales was handed, not a re-score after it; "
     "leads never MQL: their latest score) or a channel/source/campaign: its SAL (SQL) rate "
     "divided by the rate of the other leads of the 12 weeks (scored leads for rules); 1 = "
     "converts like the rest."},
    {"Learnings", "95% interval, verdict",
     "The SQL lift's 95 % confidence interval (Katz log method). A rule is CONTRADICTED when "
     "it adds points but the interval lies below 1 (or takes points and lies above 1), NOT "
     "SUPPORTED when it takes points and the interval contains 1; under 30 leads: too few "
     "to judge."},
    {"Handoffs", "Handoff",
     "One row per MQL of the week, with the lead's current profile and its latest "
     "assignment and stage."},
    {"Handoffs", "Top reason",
     "Of the score the lead had when it became an MQL, the rule with the most points."},
    {"Data quality", "Rows read",
     "Rows of the import files: skipped + quarantined + accepted. Check = ok when they add "
     "up."},
    {"Data quality", "Skipped",
     "Not errors and not leads: test submissions, re-deliveries of the same submission, "
     "notifications without data."},
    {"Data quality", "Quarantined",
     "Rows with an error, kept in the quarantine with the reason (fix and replay)."},
    {"Data quality", "New people, merged",
     "Accepted lead rows that created a person, or added to one already known (same "
     "email)."},
    {"Data quality", "Unmatched activities",
     "Activities for an email no lead has: kept and counted, attached when the person "
     "arrives."},
    {"Data quality", "Pending, unknown lead",
     "Feedback for an email no lead has waits as pending; still unknown after the grace "
     "period it counts as unknown lead."},
    {"Data quality", "No import summary",
     "Records the store applied for an import whose summary it never received (a "
     "crashed import): counted on their own row."},
};

size_t ho_report_defs(const ho_report_def_t **defs)
{
    *defs = s_defs;
    return sizeof s_defs / sizeof s_defs[0];
}

int ho_report_definitions_markdown(FILE *out)
{
    const ho_report_def_t *d;
    size_t n = ho_report_defs(&d);
    fprintf(out, "| sheet | term | definition |\n|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "| %s | %s | %s |\n", d[i].sheet, d[i].term, d[i].text);
    }
    return ferror(out) ? -1 : 0;
}

ho_report_error_t ho_report_definitions(ho_rctx_t *ctx, lxw_worksheet *ws)
{
    ho_rtitle(ctx, ws, "Definitions",
              "What every number in this workbook means (the same text as reports/README.md, "
              "\"Definitions\").");
    ho_rcols(ctx, ws, 0, 0, 14);
    ho_rcols(ctx, ws, 1, 1, 34);
    ho_rcols(ctx, ws, 2, 2, 100);
    static const char *const cols[] = {"Sheet", "Term", "Definition"};
    ho_rheader(ctx, ws, 3, cols, 3);
    const ho_report_def_t *d;
    size_t n = ho_report_defs(&d);
    lxw_row_t row = 4;
    for (size_t i = 0; i < n; i++, row++) {
        /* constant memory: the height is set before the row is written, from the wrap */
        int a = ho_rlines(d[i].text, 100, false), b = ho_rlines(d[i].term, 34, true);
        worksheet_set_row(ws, row, 15.0 * (a > b ? a : b) + 1, NULL);
        worksheet_write_string(ws, row, 0, d[i].sheet, ctx->f_wrap);
        worksheet_write_string(ws, row, 1, d[i].term, ctx->f_wrap_bold);
        worksheet_write_string(ws, row, 2, d[i].text, ctx->f_wrap);
    }
    ho_rprogress(ctx, "Definitions", (int64_t)n, true);
    return HO_REPORT_OK;
}
