/* expl_reference.h - the reference reading of a score explanation's top reason: the Handoffs
 * sheet's s_top_reason as it was before src/report/expl.c, verbatim (jansson's tree), which
 * the differential unit test (test_report_expl.c) and the fuzzer (tests/fuzz/fuzz_expl.c)
 * compare ho_expl_top_reason with. */
#ifndef HO_TEST_EXPL_REFERENCE_H
#define HO_TEST_EXPL_REFERENCE_H

#include <jansson.h>
#include <stdio.h>

static void s_top_reason(const char *json, char *out, size_t cap)
{
    out[0] = '\0';
    if (!json || !*json) {
        return;
    }
    json_t *arr = json_loads(json, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    json_t *best = NULL;
    json_int_t best_pts = 0;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        json_t *pts = json_object_get(e, "points");
        if (!json_is_integer(pts)) {
            continue;
        }
        if (!best || json_integer_value(pts) > best_pts) {
            best = e;
            best_pts = json_integer_value(pts);
        }
    }
    if (best) {
        const char *rule = json_string_value(json_object_get(best, "rule"));
        const char *detail = json_string_value(json_object_get(best, "detail"));
        snprintf(out, cap, "%s (%+lld)%s%s", rule ? rule : "?", (long long)best_pts,
                 detail && *detail ? ": " : "", detail && *detail ? detail : "");
    }
    json_decref(arr);
}

#endif
