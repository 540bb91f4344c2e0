/* read_queries_cli.c - the read model's queries of the commands and the demo: `handoff
 * metrics`, `handoff forget`'s preview, `handoff demo-data feedback`, `handoff score`. */
#include <stddef.h>

#include "store/read_queries.h"

static const ho_rq_def_t s_defs[] = {
    [HO_RQ_METRICS_QUARANTINE] = {"metrics.quarantine",
                                  "SELECT coalesce(code, ''), replayed_at IS NOT NULL, count(*) "
                                  "FROM quarantine GROUP BY 1, 2 ORDER BY 1, 2",
                                  0},
    [HO_RQ_METRICS_IMPORTS] = {"metrics.imports",
                               "SELECT coalesce(source, ''), count(*), coalesce(sum(read), 0), "
                               "coalesce(sum(accepted), 0), coalesce(max(finished_at), 0) "
                               "FROM imports GROUP BY 1 ORDER BY 1",
                               0},
    [HO_RQ_FORGET_NEEDLES] = {"forget.needles",
                              "SELECT first_name, last_name, phone FROM leads"
                              " WHERE email = lower(trim(?1))",
                              0},
    /* the current owner of each lead (its newest assignment that was not handed on), the
     * lead's stage and when it entered it: the rep answers from where the lead really is.
     * A lead the CRM export gave an owner is not routed (issue 12) but its owner works it
     * all the same, qualified by marketing or not: the owner answers for it too (last
     * column 1), from its creation on. */
    [HO_RQ_DEMO_FEEDBACK_OWNERS] =
        {"demo_feedback.owners",
         "SELECT l.id, l.email, a.rep_id, a.assigned_at, l.personal_email, "
         "COALESCE(l.grade, ''), COALESCE(l.title, ''), "
         "COALESCE(l.industry_group, ''), l.stage, "
         "(SELECT max(h.at) FROM stage_history h WHERE h.lead_id = l.id "
         "AND h.kind = 'transition'), 0 "
         "FROM assignments a JOIN leads l ON l.id = a.lead_id "
         "WHERE a.rep_id IS NOT NULL AND a.status IN ('open', 'accepted') "
         "AND l.erased = 0 AND a.assigned_at < ?1 "
         "UNION ALL SELECT l.id, l.email, l.owner_rep_id, l.created_at, "
         "l.personal_email, COALESCE(l.grade, ''), COALESCE(l.title, ''), "
         "COALESCE(l.industry_group, ''), l.stage, "
         "(SELECT max(h.at) FROM stage_history h WHERE h.lead_id = l.id "
         "AND h.kind = 'transition'), 1 "
         "FROM leads l WHERE l.owner_rep_id IS NOT NULL AND l.owner_rep_id <> '' "
         "AND l.erased = 0 AND l.created_at < ?1 AND NOT EXISTS (SELECT 1 FROM "
         "assignments a WHERE a.lead_id = l.id AND a.rep_id IS NOT NULL "
         "AND a.status IN ('open', 'accepted') AND a.assigned_at < ?1) "
         "ORDER BY 1, 4 DESC",
         0},
    [HO_RQ_SCORE_EXPLAIN_LEAD] =
        {"score.explain_lead",
         "SELECT id, email, stage, owner_rep_id, fields_json, fit, interest, "
         "score, grade, quadrant, model_version, scored_at FROM leads "
         "WHERE email = ?1 AND erased = 0",
         0},
    [HO_RQ_SCORE_DRY_RUN_LEADS] = {"score.dry_run_leads",
                                   "SELECT id, email, stage, owner_rep_id, fields_json, scored_at "
                                   "FROM leads WHERE erased = 0 ORDER BY id",
                                   0},
};

const ho_rq_def_t *ho_rq_def_cli(ho_rq_t q)
{
    return (size_t)q < sizeof s_defs / sizeof s_defs[0] && s_defs[q].sql ? &s_defs[q] : NULL;
}
