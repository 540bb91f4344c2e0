/* fuzz_expl.c - libFuzzer target for the Learnings pass's explanation reader
 * (src/report/expl.c): any text must give exactly the rule elements json_loads' tree gives as
 * the rule pass read it before (rule and kind strings, non-zero integer points, in order),
 * hence the same per-rule sums. The reader reads most text itself for speed and hands the
 * rest to json_loads; a difference in any element is a crash here. So is one in the Handoffs
 * reading (ho_expl_read_points: every element with integer points, its rule or none, its
 * detail) or top reason (ho_expl_top_reason) against the sheet's former jansson code.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_expl -max_total_time=120 corpus */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/expl_reference.h"
#include "report/expl.h"

typedef struct {
    json_t *want; /* the elements json_loads gives, [[rule, kind, points, detail], ...]
                     (each string or null) */
    size_t n;     /* elements fn was given; (size_t)-1 until it is called */
} s_cmp_t;

/* (s, n) is the JSON string j, or both are missing (NULL, null). */
static int s_same(const char *s, size_t n, json_t *j)
{
    const char *w = json_string_value(j);
    if (!s || !w) {
        return !s && !w;
    }
    return n == strlen(w) && !memcmp(s, w, n);
}

static void s_check(void *arg, const ho_expl_item_t *items, size_t n)
{
    s_cmp_t *c = arg;
    if (n != json_array_size(c->want)) {
        __builtin_trap();
    }
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(c->want, i);
        if (!s_same(items[i].rule, items[i].rule_n, json_array_get(w, 0)) ||
            !s_same(items[i].kind, items[i].kind_n, json_array_get(w, 1)) ||
            !s_same(items[i].detail, items[i].detail_n, json_array_get(w, 3)) ||
            items[i].points != json_integer_value(json_array_get(w, 2))) {
            __builtin_trap();
        }
    }
    c->n = n;
}

/* From jansson's tree: the rule pass's reading before expl.c (all false), or the Handoffs
 * reading (all: every element with integer points, whatever its rule). */
static json_t *s_want(const char *text, int all)
{
    json_t *arr = json_loads(text, 0, NULL), *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        json_t *rule = json_object_get(e, "rule"), *kind = json_object_get(e, "kind");
        json_t *p = json_object_get(e, "points"), *d = json_object_get(e, "detail");
        if (all ? json_is_integer(p)
                : json_is_string(rule) && json_is_integer(p) && json_integer_value(p) != 0) {
            json_array_append_new(
                out, json_pack("[OOIO]", json_is_string(rule) ? rule : json_null(),
                               json_is_string(kind) ? kind : json_null(), json_integer_value(p),
                               json_is_string(d) ? d : json_null()));
        }
    }
    json_decref(arr);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the text as the store hands it over: a C string (up to the first NUL) */
    char *text = strndup((const char *)data, size);
    if (!text) {
        return 0;
    }
    for (int all = 0; all < 2; all++) {
        s_cmp_t c = {.want = s_want(text, all), .n = (size_t)-1};
        if (!c.want || !(all ? ho_expl_read_points : ho_expl_read)(text, s_check, &c) ||
            c.n != json_array_size(c.want)) {
            __builtin_trap(); /* out of memory aside, fn is called exactly once */
        }
        json_decref(c.want);
    }
    static const size_t caps[] = {1024, 12};
    for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
        char g[1024], w[1024];
        ho_expl_top_reason(text, g, caps[k]);
        s_top_reason(text, w, caps[k]);
        if (strcmp(g, w)) {
            __builtin_trap();
        }
    }
    free(text);
    return 0;
}
