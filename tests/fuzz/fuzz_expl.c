/* fuzz_expl.c - libFuzzer target for the Learnings pass's explanation reader
 * (src/report/expl.c): any text must give exactly the rule elements json_loads' tree gives as
 * the rule pass read it before (rule and kind strings, non-zero integer points, in order),
 * hence the same per-rule sums. The reader reads most text itself for speed and hands the
 * rest to json_loads; a difference in any element is a crash here.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_expl -max_total_time=120 corpus */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/expl.h"

typedef struct {
    json_t *want; /* the elements json_loads gives, [[rule, kind or null, points], ...] */
    size_t n;     /* elements fn was given; (size_t)-1 until it is called */
} s_cmp_t;

static void s_check(void *arg, const ho_expl_item_t *items, size_t n)
{
    s_cmp_t *c = arg;
    if (n != json_array_size(c->want)) {
        __builtin_trap();
    }
    for (size_t i = 0; i < n; i++) {
        json_t *w = json_array_get(c->want, i);
        const char *rule = json_string_value(json_array_get(w, 0));
        const char *kind = json_string_value(json_array_get(w, 1));
        if (items[i].rule_n != strlen(rule) || memcmp(items[i].rule, rule, items[i].rule_n) ||
            !items[i].kind != !kind ||
            (kind &&
             (items[i].kind_n != strlen(kind) || memcmp(items[i].kind, kind, items[i].kind_n))) ||
            items[i].points != json_integer_value(json_array_get(w, 2))) {
            __builtin_trap();
        }
    }
    c->n = n;
}

/* The rule pass's reading before expl.c, from jansson's tree. */
static json_t *s_want(const char *text)
{
    json_t *arr = json_loads(text, 0, NULL), *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *rule = json_string_value(json_object_get(e, "rule"));
        json_t *kind = json_object_get(e, "kind"), *p = json_object_get(e, "points");
        if (rule && json_is_integer(p) && json_integer_value(p) != 0) {
            json_array_append_new(out, json_pack("[sOI]", rule,
                                                 json_is_string(kind) ? kind : json_null(),
                                                 json_integer_value(p)));
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
    s_cmp_t c = {.want = s_want(text), .n = (size_t)-1};
    if (!c.want || !ho_expl_read(text, s_check, &c) || c.n != json_array_size(c.want)) {
        __builtin_trap(); /* out of memory aside, fn is called exactly once */
    }
    json_decref(c.want);
    free(text);
    return 0;
}
