/* retention.c - the retention setting and the hourly prune clock of the workers that forget
 * old state (outbox: delivered webhooks; route: decisions, counts, breachers). */
#include <string.h>

#include "handoff/routing.h" /* ho_parse_duration_ms */
#include "workers/workers_int.h"

int ho_worker_retention(const char *value, const char *key, const char *example,
                        ho_worker_retention_t *r, ho_err_t *err)
{
    *r = (ho_worker_retention_t){0};
    if (strcmp(value, "0") != 0 && ho_parse_duration_ms(value, &r->keep_ms) != HO_OK) {
        return ho_err_set(err, HO_ERR_CONFIG, key,
                          "%s: expected a duration like %s or 0, got \"%.40s\"", key, example,
                          value);
    }
    return HO_OK;
}

bool ho_worker_prune_due(ho_worker_retention_t *r, int64_t now_ms)
{
    if (!r->keep_ms || (r->pruned_at && now_ms - r->pruned_at < HO_WORKER_PRUNE_EVERY_MS)) {
        return false;
    }
    r->pruned_at = now_ms;
    return true;
}
