/* registry.c - the table of built-in workers (Fluent Bit's plugin list, as data).
 *
 * Each worker lives in its own folder under src/workers/ and exports one descriptor.
 * A descriptor declared weak here and not linked in is simply absent from the table, so a
 * worker can be left out of a build without touching this file. */
#include "handoff/worker.h"

#include <string.h>

#define HO_DECLARE(name) extern const ho_worker_def_t name __attribute__((weak))

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
