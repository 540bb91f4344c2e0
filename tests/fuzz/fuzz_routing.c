/* fuzz_routing.c - libFuzzer target: arbitrary routing.yaml + reps CSV text, then one decision.
 * The input is split at its first NUL byte: YAML before, CSV after (no NUL: all CSV with the
 * shipped-like YAML below). Loading must fail cleanly or succeed; never crash or leak.
 *     cmake -DHO_FUZZ=ON -DCMAKE_C_COMPILER=clang ... && ./fuzz_routing -max_total_time=60 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "handoff/routing.h"

static const char s_yaml[] = "rules:\n  - name: t\n    team: territory\n"
                             "segments:\n  - {name: SMB, employee_max: 200}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    const char *yaml = s_yaml, *csv = text;
    size_t yaml_len = sizeof s_yaml - 1, csv_len = size;
    if (nul) {
        yaml = text;
        yaml_len = (size_t)(nul - text);
        csv = nul + 1;
        csv_len = size - yaml_len - 1;
    }
    ho_err_t err;
    ho_routing_t *r = ho_routing_parse(yaml, yaml_len, "fuzz.yaml", csv, csv_len, "fuzz.csv", &err);
    if (r) {
        json_t *req =
            json_pack("{s:{s:i,s:{s:s,s:s,s:i}},s:I}", "lead", "lead_id", 1, "fields", "country",
                      "US", "state", "NY", "employees", 50, "as_of", (json_int_t)1795165200000LL);
        json_t *out = NULL;
        ho_routing_decide(r, NULL, NULL, req, &out, NULL, &err);
        json_decref(out);
        json_decref(req);
        ho_routing_destroy(&r);
    }
    return 0;
}
