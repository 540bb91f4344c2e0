/* expl.c - a score's explanation text read for the Learnings rule pass (and the Handoffs
 * sheet's top reason, 0.35 CPU-s of json_loads for 33k rows) without building a tree. Why by hand:
 * on a 1M-person store the pass reads one ~250-byte text per scored lead (600k, nearly all
 * distinct, so no memo helps), and json_loads' tree building (allocations, hash tables, string
 * copies) was measured at 36 % of the whole report's CPU plus ~10 % in malloc / free / strcmp. This
 * reader walks the text once and allocates nothing, but understands only what the scorer writes:
 * one array of flat objects whose strings hold no escape and only printable ASCII, whose numbers
 * are plain integers of at most 18 digits. Anything else (an escape, a non-ASCII or control byte, a
 * nested value, a real, a longer integer, any syntax it does not expect, more elements than it
 * holds) sends that one text to json_loads, so the answer is always what jansson's reading gives:
 * the fast path must only ever accept text jansson accepts, and read it the same way
 * (tests/unit/test_report_expl.c and tests/fuzz/fuzz_expl.c compare the two). */
#include "report/expl.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_ITEMS 128 /* rule elements one text may have on the fast path */

typedef struct {
    const unsigned char *p;
    size_t n;
    bool all; /* every element with integer points (ho_expl_read_points) */
    ho_expl_item_t items[S_MAX_ITEMS];
} s_rd_t;

enum { S_OTHER, S_STR, S_INT };

/* jansson's whitespace: exactly these four. */
static void s_ws(s_rd_t *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r') {
        r->p++;
    }
}

/* A string at r->p ('"') without escapes, of bytes 0x20..0x7f only (no UTF-8 to validate,
 * no control byte jansson would reject): its bytes in (s, n). */
static bool s_str(s_rd_t *r, const char **s, size_t *n)
{
    const unsigned char *q = r->p + 1;
    while (*q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\') {
        q++;
    }
    if (*q != '"') {
        return false;
    }
    *s = (const char *)r->p + 1;
    *n = (size_t)(q - r->p - 1);
    r->p = q + 1;
    return true;
}

/* An integer at r->p: -?(0|[1-9][0-9]*) of at most 18 digits, which cannot overflow a long
 * long (jansson's json_int_t). A leading zero before a digit (invalid), a fraction or an
 * exponent (a real) or a 19th digit (perhaps too big for jansson) is not read here. */
static bool s_int(s_rd_t *r, long long *v)
{
    const unsigned char *q = r->p;
    bool neg = *q == '-';
    q += neg;
    if (*q < '0' || *q > '9') {
        return false;
    }
    const unsigned char *d = q;
    long long x = 0;
    if (*q == '0') {
        q++;
    } else {
        while (*q >= '0' && *q <= '9' && q - d < 18) {
            x = x * 10 + (*q - '0');
            q++;
        }
    }
    if ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E') {
        return false;
    }
    *v = neg ? -x : x;
    r->p = q;
    return true;
}

/* true, false or null. What follows (jansson would read "truex" as one bad word) is left to
 * the caller, which accepts only whitespace or a separator after a value. */
static bool s_lit(s_rd_t *r)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if (!strncmp((const char *)r->p, lits[i], n)) {
            r->p += n;
            return true;
        }
    }
    return false;
}

/* A value that is not an array or object: its type, and its bytes (a string) or number. */
static bool s_scalar(s_rd_t *r, int *type, const char **s, size_t *n, long long *v)
{
    if (*r->p == '"') {
        *type = S_STR;
        return s_str(r, s, n);
    }
    if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
        *type = S_INT;
        return s_int(r, v);
    }
    *type = S_OTHER;
    return s_lit(r);
}

/* After a member or element: ',' (true, more follows) or the closing byte (true, *end set). */
static bool s_next(s_rd_t *r, unsigned char close, bool *end)
{
    s_ws(r);
    if (*r->p == ',') {
        r->p++;
        s_ws(r);
        *end = false;
        return true;
    }
    if (*r->p != close) {
        return false;
    }
    r->p++;
    *end = true;
    return true;
}

/* One flat object at r->p ('{'). The last value of a repeated key counts, as in jansson's
 * object (json_object_set replaces); the element names a rule when that value of "rule" is
 * a string and that of "points" a non-zero integer (r->all: when "points" is an integer). */
static bool s_object(s_rd_t *r)
{
    ho_expl_item_t it = {0};
    bool rule = false, points = false;
    r->p++;
    s_ws(r);
    bool end = *r->p == '}';
    r->p += end;
    while (!end) {
        const char *k, *s = NULL;
        size_t kn, n = 0;
        long long v = 0;
        int type;
        if (*r->p != '"' || !s_str(r, &k, &kn)) {
            return false;
        }
        s_ws(r);
        if (*r->p != ':') {
            return false;
        }
        r->p++;
        s_ws(r);
        if (!s_scalar(r, &type, &s, &n, &v) || !s_next(r, '}', &end)) {
            return false;
        }
        if (kn == 4 && !memcmp(k, "rule", 4)) {
            rule = type == S_STR;
            it.rule = s;
            it.rule_n = n;
        } else if (kn == 4 && !memcmp(k, "kind", 4)) {
            it.kind = type == S_STR ? s : NULL;
            it.kind_n = type == S_STR ? n : 0;
        } else if (kn == 6 && !memcmp(k, "points", 6)) {
            points = type == S_INT;
            it.points = v;
        } else if (kn == 6 && !memcmp(k, "detail", 6)) {
            it.detail = type == S_STR ? s : NULL;
            it.detail_n = type == S_STR ? n : 0;
        }
    }
    if (r->all ? !points : (!rule || !points || it.points == 0)) {
        return true;
    }
    if (!rule) {
        it.rule = NULL;
        it.rule_n = 0;
    }
    if (r->n == S_MAX_ITEMS) {
        return false;
    }
    r->items[r->n++] = it;
    return true;
}

/* The whole text: one array, then only whitespace (jansson checks for the end of input). */
static bool s_array(s_rd_t *r)
{
    s_ws(r);
    if (*r->p != '[') {
        return false;
    }
    r->p++;
    s_ws(r);
    bool end = *r->p == ']';
    r->p += end;
    while (!end) {
        int type;
        const char *s;
        size_t n;
        long long v;
        bool ok = *r->p == '{' ? s_object(r) : s_scalar(r, &type, &s, &n, &v);
        if (!ok || !s_next(r, ']', &end)) {
            return false;
        }
    }
    s_ws(r);
    return *r->p == '\0';
}

/* The text this reader does not take: json_loads, then the same reading of its tree as the
 * rule pass had before (json_string_value / json_is_integer of each element's members). */
static bool s_jansson(const char *text, bool all, ho_expl_fn *fn, void *arg)
{
    json_t *arr = json_loads(text, 0, NULL);
    size_t cap = json_is_array(arr) ? json_array_size(arr) : 0;
    ho_expl_item_t *items = cap ? malloc(cap * sizeof *items) : NULL;
    if (cap && !items) {
        json_decref(arr);
        return false;
    }
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *rule = json_string_value(json_object_get(e, "rule"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *detail = json_string_value(json_object_get(e, "detail"));
        json_t *p = json_object_get(e, "points");
        if (all ? !json_is_integer(p)
                : !rule || !json_is_integer(p) || json_integer_value(p) == 0) {
            continue;
        }
        items[n++] = (ho_expl_item_t){.rule = rule,
                                      .rule_n = rule ? strlen(rule) : 0,
                                      .kind = kind,
                                      .kind_n = kind ? strlen(kind) : 0,
                                      .detail = detail,
                                      .detail_n = detail ? strlen(detail) : 0,
                                      .points = (long long)json_integer_value(p)};
    }
    fn(arg, items, n);
    free(items);
    json_decref(arr);
    return true;
}

static bool s_read(const char *text, bool all, ho_expl_fn *fn, void *arg)
{
    if (!text) {
        fn(arg, NULL, 0);
        return true;
    }
    s_rd_t r; /* not zeroed: only items[0..n) are read */
    r.p = (const unsigned char *)text;
    r.n = 0;
    r.all = all;
    if (!s_array(&r)) {
        return s_jansson(text, all, fn, arg);
    }
    fn(arg, r.items, r.n);
    return true;
}

bool ho_expl_read(const char *text, ho_expl_fn *fn, void *arg)
{
    return s_read(text, false, fn, arg);
}

bool ho_expl_read_points(const char *text, ho_expl_fn *fn, void *arg)
{
    return s_read(text, true, fn, arg);
}

typedef struct {
    char *out;
    size_t cap;
} s_top_t;

static void s_top(void *arg, const ho_expl_item_t *items, size_t n)
{
    s_top_t *t = arg;
    const ho_expl_item_t *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!best || items[i].points > best->points) {
            best = &items[i];
        }
    }
    if (best) {
        bool d = best->detail && best->detail_n;
        snprintf(t->out, t->cap, "%.*s (%+lld)%s%.*s", best->rule ? (int)best->rule_n : 1,
                 best->rule ? best->rule : "?", best->points, d ? ": " : "",
                 d ? (int)best->detail_n : 0, d ? best->detail : "");
    }
}

void ho_expl_top_reason(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    if (!text || !*text) {
        return;
    }
    s_top_t t = {out, cap};
    if (!ho_expl_read_points(text, s_top, &t)) {
        out[0] = '\0';
    }
}

int ho_expl_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}
