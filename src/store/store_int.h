/* store_int.h - the store handle, shared by store.c (open, identity, lifecycle, view,
 * configuration) and store_merge.c (records merged into leads); not public. */
#ifndef HO_STORE_INT_H
#define HO_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/store.h"
#include "store/store_backend.h"

/* Recent upserts' merged fields, by lead id (direct-mapped): the store worker asks for them
 * again when it builds the batch's score.request snapshots, and parsing fields_json back was
 * a sixth of the worker's time per message. An entry is used only when its text is the
 * lead's fields_json, byte for byte. */
#define HO_STORE_FCACHE 1024
typedef struct {
    int64_t id;
    char *text;
    json_t *obj;
} ho_store_fcache_t;

struct ho_store {
    const ho_store_backend_t *be;
    void *db;
    bool strip_plus;
    json_t *precedence;        /* field -> [sources], own reference */
    ho_store_fcache_t *fcache; /* HO_STORE_FCACHE entries, or NULL */
};

/* store_merge.c: ho_store_lead_fields packed into pk (from the memory of recent upserts
 * without a copy). HO_OK or HO_ERR_NOMEM. */
int ho_store_lead_fields_pack(ho_store_t *self, const ho_lead_t *lead, msgpack_packer *pk);

#endif
