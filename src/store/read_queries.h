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

#endif
