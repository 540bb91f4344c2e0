/* store_imports.c - import.summary (the importer's counts of one file, upserted by import_id)
 * and import.stats (what the store did with that import's records, answered to the client:
 * the type is not routed). See proto/messages.md and docs/store-schema.md. */
#include <stdio.h>
#include <string.h>

#include "workers/store/store_worker_int.h"

int sw_on_import_summary(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    (void)out;
    return ho_store_import_put(self->store, ho_msg_payload(in), err);
}

int sw_on_import_stats(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const char *id = sw_str(ho_msg_payload(in), "import_id");
    if (!id || !id[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "payload.import_id", "import.stats needs import_id");
    }
    json_t *stats = NULL;
    int rc = ho_store_import_stats(self->store, id, &stats, err);
    if (rc != HO_OK) {
        return rc;
    }
    ho_msg_t *m = sw_new_msg("import.stats", "is", ho_msg_id(in));
    if (!m) {
        json_decref(stats);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    ho_msg_set_ts(m, ho_msg_ts(in));
    ho_msg_set_payload(m, stats);
    return ho_out_emit(out, &m);
}
