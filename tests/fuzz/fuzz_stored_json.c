/* fuzz_stored_json.c - libFuzzer target for the store's reader of its own JSON text
 * (fields_json, field_sources_json; src/store/store.c s_load_object): any text read through
 * ho_store_lead_fields must give exactly what json_loads gives (an object, or {} for anything
 * that is not one). The reader reads most text itself for speed and hands the rest to
 * json_loads; a difference in any value is a crash here.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_stored_json -max_total_time=120 corpus */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/store.h"

static ho_store_t *s_store(void)
{
    static ho_store_t *store;
    static char path[64];
    if (!store) {
        snprintf(path, sizeof path, "/tmp/fuzz-stored-json-%ld.db", (long)getpid());
        ho_err_t err = {0};
        store = ho_store_open(path, &err);
        if (!store) {
            fprintf(stderr, "fuzz_stored_json: %s\n", err.message);
            abort();
        }
    }
    return store;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    ho_lead_t lead;
    ho_lead_init(&lead);
    lead.fields_json = text; /* id 0: never served from the store's cache */
    json_t *got = ho_store_lead_fields(s_store(), &lead);
    json_t *want = json_loads(text, 0, NULL);
    if (!json_is_object(want)) {
        json_decref(want);
        want = json_object();
    }
    if (!json_equal(got, want)) {
        __builtin_trap();
    }
    json_decref(got);
    json_decref(want);
    free(text);
    return 0;
}
