/* registry.c - the table of built-in workers (Fluent Bit's plugin list, as data).
 *
 * Each worker lives in its own folder under src/workers/ and exports one descriptor. This
 * table is the one list of built-in workers: `handoff worker --list`, `handoff run` and its
 * --only/--without follow it, in this order.
 *
 * There is no "leave a worker out of the build": the descriptors used to be weak symbols so
 * that an unlinked worker would silently drop out of the table, but no build option ever
 * left one out, and one cannot be left out for real - the CLI commands call the workers'
 * libraries (ingest's normalizer, the feedback validator, outbox delivery, the store), the
 * pipeline needs every worker, and the binary and libhandoff.so link the whole archive. A
 * missing descriptor is now a link error instead of a worker that quietly disappears. A
 * deployment that needs fewer workers runs fewer (`handoff run --only/--without`, one
 * systemd unit per worker); a new worker is one folder and one line here. */
#include "handoff/worker.h"

#include <string.h>

#define HO_DECLARE(name) extern const ho_worker_def_t name

HO_DECLARE(ho_worker_ingest);
HO_DECLARE(ho_worker_store);
HO_DECLARE(ho_worker_score);
HO_DECLARE(ho_worker_route);
HO_DECLARE(ho_worker_feedback);
HO_DECLARE(ho_worker_report);
HO_DECLARE(ho_worker_outbox);
HO_DECLARE(ho_worker_echo);

static const ho_worker_def_t *const *s_table(size_t *n)
{
    static const ho_worker_def_t *table[] = {
        &ho_worker_ingest,   &ho_worker_store,  &ho_worker_score,  &ho_worker_route,
        &ho_worker_feedback, &ho_worker_report, &ho_worker_outbox, &ho_worker_echo,
    };
    *n = sizeof table / sizeof table[0];
    return table;
}

const ho_worker_def_t *ho_worker_at(size_t i)
{
    size_t n;
    const ho_worker_def_t *const *table = s_table(&n);
    size_t seen = 0;
    for (size_t k = 0; k < n; k++) {
        if (table[k] && table[k]->name) {
            if (seen++ == i) {
                return table[k];
            }
        }
    }
    return NULL;
}

const ho_worker_def_t *ho_worker_find(const char *name)
{
    const ho_worker_def_t *def;
    for (size_t i = 0; (def = ho_worker_at(i)) != NULL; i++) {
        if (strcmp(def->name, name) == 0) {
            return def;
        }
    }
    return NULL;
}
