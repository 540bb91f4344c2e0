/* read_queries.h - the texts of the read model's named queries (reader.h), one table per
 * reader in src/store/read_queries_*.c; reader.c asks each for a name. Private to src/store/. */
#ifndef HO_READ_QUERIES_H
#define HO_READ_QUERIES_H

#include "handoff/reader.h"

typedef struct {
    const char *name; /* "metrics.quarantine": says which reader and statement it is */
    const char *sql;
    unsigned flags; /* HO_RQF_ */
} ho_rq_def_t;

/* The definition of q, or NULL when q is not in that file's table. */
const ho_rq_def_t *ho_rq_def_cli(ho_rq_t q);
const ho_rq_def_t *ho_rq_def_report(ho_rq_t q);
const ho_rq_def_t *ho_rq_def_report_scores(ho_rq_t q);

/* Pieces of SQL several report queries share. */
/* SQL condition: outcome row o carries the flag sales_accepted_without_mql (an outcome on a
 * lead marketing never qualified). Only valid when outcomes has flags. */
#define HO_RSQL_NO_MQL                                                                             \
    "instr(',' || coalesce(o.flags, '') || ',', ',sales_accepted_without_mql,') > 0"

/* SQL: the id of lead LEAD's score in force at time AT, its latest scores row at or before AT
 * (one lookup on scores(lead_id, at)); NULL when it had none. At the lead's MQL entry this is
 * the score that made it an MQL: the Handoffs' "Score at MQL" and the Learnings' rules. */
#define HO_RSQL_SCORE_AT(lead, at)                                                                 \
    "(SELECT s.id FROM main.scores s WHERE s.lead_id = " lead " AND s.at <= " at                   \
    " ORDER BY s.at DESC, s.id DESC LIMIT 1)"

#endif
