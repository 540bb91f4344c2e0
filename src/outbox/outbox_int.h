/* outbox_int.h - the outbox's retry queue (src/outbox/delivery.c), used by the outbox worker; not public. */
#ifndef HO_OUTBOX_INT_H
#define HO_OUTBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/outbox.h"

typedef struct ho_outbox_db ho_outbox_db_t;

typedef struct {
    long long id;
    char *event_id, *type, *target, *body;
    int attempts; /* so far */
} ho_outbox_item_t;

ho_outbox_db_t *ho_outbox_db_open(const char *data_dir, ho_err_t *err);
void ho_outbox_db_close(ho_outbox_db_t **self_p);
/* Queue a delivery, due now; a second enqueue of the same event/connector/target is a no-op. */
int ho_outbox_db_enqueue(ho_outbox_db_t *self, const char *event_id, const char *type,
                         const char *connector, const char *target, const char *rep_id,
                         long long lead_id, const char *body, int64_t now, ho_err_t *err);
/* Pending deliveries due at now, oldest first. Free with ho_outbox_items_free. */
int ho_outbox_db_due(ho_outbox_db_t *self, int64_t now, int limit, ho_outbox_item_t **items_p,
                     size_t *n_p);
void ho_outbox_items_free(ho_outbox_item_t *items, size_t n);
/* Record an attempt: error NULL = delivered; else retry after backoff_ms, or give up. */
int ho_outbox_db_result(ho_outbox_db_t *self, const ho_outbox_item_t *it, int64_t now,
                        int http_status, const char *error, int64_t backoff_ms, bool give_up,
                        ho_err_t *err);
bool ho_outbox_db_sent(ho_outbox_db_t *self, const char *event_id);
/* One transaction around a batch's rows (group commit); rollback is safe without a begin. */
int ho_outbox_db_begin(ho_outbox_db_t *self, ho_err_t *err);
int ho_outbox_db_commit(ho_outbox_db_t *self, ho_err_t *err);
void ho_outbox_db_rollback(ho_outbox_db_t *self);
int ho_outbox_db_mark_sent(ho_outbox_db_t *self, const char *event_id, const char *path,
                           int64_t now, ho_err_t *err);

/* Forget delivered deliveries (and their attempts) delivered before `before`, and the
 * file/PUB dedup rows older than it. Failed and pending ones stay. *n_p = deliveries removed. */
int ho_outbox_db_prune(ho_outbox_db_t *self, int64_t before, int *n_p, ho_err_t *err);

#endif
