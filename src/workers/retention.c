/* retention.c - the retention setting and the hourly prune clock of the workers that forget
 * old state (outbox: delivered webhooks; route: decisions, counts, breachers). */
#include <string.h>

#include "handoff/routing.h" /* ho_parse_duration_ms */
#include "workers/workers_int.h"

int ho_worker_retention(const char *value, const char *key, const char *example,
                        int64_t *keep_ms, ho_err_t *err)
{
    *keep_ms = 0;
    if (strcmp(value, "0") != 0 && ho_parse_duration_ms(value, keep_ms) != HO_OK) {
        return ho_err_set(err, HO_ERR_CONFIG, key,
                          "%s: expected a duration like %s or 0, got \"%.40s\"", key, example,
                          value);
    }
    return HO_OK;
}

bool ho_worker_prune_due(int64_t keep_ms, int64_t *pruned_at, int64_t now_ms)
{
    if (!keep_ms || (*pruned_at && now_ms - *pruned_at < HO_WORKER_PRUNE_EVERY_MS)) {
        return false;
    }
    *pruned_at = now_ms;
    return true;
}
