/*
 * idmap.h - a hash map from a peer's ROUTER identity (1-255 opaque bytes) to a pointer: the
 * broker's worker table. Lookups happen on every worker frame, so they do not allocate.
 *
 * Internal to the broker (src/broker/); unit-tested in tests/unit/test_broker_pool.c.
 */
#ifndef HO_BROKER_IDMAP_H
#define HO_BROKER_IDMAP_H

#include <stddef.h>

#define HO_IDMAP_MAX_KEY 255

typedef struct ho_idmap ho_idmap_t;

ho_idmap_t *ho_idmap_new(void);
void ho_idmap_destroy(ho_idmap_t **self_p);

/* The value stored for key, or NULL. */
void *ho_idmap_get(const ho_idmap_t *self, const void *key, size_t len);
/* Insert or replace. Returns 0, or -1 (key empty or longer than HO_IDMAP_MAX_KEY, or no
 * memory). value must not be NULL. */
int ho_idmap_put(ho_idmap_t *self, const void *key, size_t len, void *value);
/* Remove key; returns the value it had, or NULL. */
void *ho_idmap_remove(ho_idmap_t *self, const void *key, size_t len);
size_t ho_idmap_size(const ho_idmap_t *self);

#endif
