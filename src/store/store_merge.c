/* store_merge.c - records merged into leads (ho_store_upsert_lead): the field-precedence
 * rule (deploy/store.yaml), the merged fields and merge trail written as compact JSON text,
 * and that text read back (ho_store_lead_fields) by a reader of the store's own output with
 * a cache of recent upserts. Split from store.c, which opens the store and applies the
 * lifecycle. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "handoff/defaults.h"
#include "handoff/store.h"
#include "store/store_int.h"

static bool s_empty(const json_t *v)
{
    if (!v || json_is_null(v)) {
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s && isspace((unsigned char)*s)) {
            s++;
        }
        return *s == '\0';
    }
    if ((json_is_object(v) && json_object_size(v) == 0) ||
        (json_is_array(v) && json_array_size(v) == 0)) {
        return true;
    }
    return false;
}

/* Position of source in a field's precedence list (the list of deploy/store.yaml, looked up
 * once per field by the caller); unlisted sources rank after all listed ones. */
static size_t s_rank(const json_t *list, const char *source)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && source && strcmp(json_string_value(v), source) == 0) {
            return i;
        }
    }
    return json_array_size(list);
}

static const char *s_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t s_int(const json_t *obj, const char *key, int64_t def)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_real(v)) {
        return (int64_t)json_real_value(v);
    }
    return def;
}

/* ho_lead_set, but a column that already holds the value keeps its copy (a merge mostly
 * projects the values the row has: no strdup and free for each). */
static void s_set(char **slot, const char *value)
{
    if (!value || !value[0] ? !*slot : (*slot && strcmp(*slot, value) == 0)) {
        return;
    }
    ho_lead_set(slot, value);
}

/* Project the merged fields onto the lead's typed columns. */
/* skip_empty: f is a record's fields, of which the merge keeps the non-empty ones only */
static void s_project(ho_lead_t *lead, const json_t *f, bool skip_empty)
{
    /* one pass over the fields (a lookup per column was ~2.5k instructions an upsert) */
    enum { P_STRS = 11, P_DOMAIN = P_STRS, P_PERSONAL, P_EMPLOYEES, P_REVENUE, P_N };
    static const struct {
        const char *key;
        size_t off; /* of the string columns */
    } cols[P_N] = {
        {"first_name", offsetof(ho_lead_t, first_name)},
        {"last_name", offsetof(ho_lead_t, last_name)},
        {"title", offsetof(ho_lead_t, title)},
        {"phone", offsetof(ho_lead_t, phone)},
        {"company", offsetof(ho_lead_t, company)},
        {"industry", offsetof(ho_lead_t, industry)},
        {"industry_group", offsetof(ho_lead_t, industry_group)},
        {"country", offsetof(ho_lead_t, country)},
        {"state", offsetof(ho_lead_t, state)},
        {"city", offsetof(ho_lead_t, city)},
        {"timezone", offsetof(ho_lead_t, timezone)},
        {"domain", 0},
        {"personal_email", 0},
        {"employees", 0},
        {"revenue", 0},
    };
    const json_t *vals[P_N] = {NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)f, key, v)
    {
        if (skip_empty && s_empty(v)) {
            continue;
        }
        for (size_t i = 0; i < P_N; i++) {
            if (cols[i].key[0] == key[0] && strcmp(cols[i].key, key) == 0) {
                vals[i] = v;
                break;
            }
        }
    }
    for (size_t i = 0; i < P_STRS; i++) {
        s_set((char **)((char *)lead + cols[i].off),
              json_is_string(vals[i]) ? json_string_value(vals[i]) : NULL);
    }
    const char *domain = json_is_string(vals[P_DOMAIN]) ? json_string_value(vals[P_DOMAIN]) : NULL;
    if (domain) {
        s_set(&lead->domain, domain);
    } else if (!lead->domain && lead->email && strchr(lead->email, '@')) {
        s_set(&lead->domain, strchr(lead->email, '@') + 1);
    }
    if (vals[P_PERSONAL]) {
        lead->personal_email = json_is_true(vals[P_PERSONAL]) ? 1 : 0;
    }
    if (json_is_number(vals[P_EMPLOYEES])) {
        lead->employees = (int64_t)json_number_value(vals[P_EMPLOYEES]);
    }
    if (json_is_number(vals[P_REVENUE])) {
        lead->revenue = json_number_value(vals[P_REVENUE]);
    }
}

/* ---- compact JSON text of the merged fields and the merge trail ----
 * The same bytes json_dumps(JSON_COMPACT) writes (insertion order, no escaped slashes, UTF-8
 * as is), so stored text and replay comparisons do not change; about 8x cheaper, as it
 * writes into one growing buffer instead of a callback per token (json_dumps was a quarter
 * of an upsert in bench_store). Reals go through jansson for its exact number format. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
    /* a value that recurs (the merge trail's [source, observed_at] of this record): its text
     * is written once and copied from the buffer after that */
    const json_t *memo;
    size_t memo_off, memo_len;
} s_text_t;

/* Room for n more bytes and the final NUL (false when out of memory). */
static bool s_reserve(s_text_t *t, size_t n)
{
    if (t->oom) {
        return false;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024; /* most texts fit: no realloc */
        while (t->len + n + 1 > cap) {
            cap *= 2;
        }
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->oom = true;
            return false;
        }
        t->buf = nb;
        t->cap = cap;
    }
    return true;
}

static void s_put(s_text_t *t, const char *p, size_t n)
{
    if (s_reserve(t, n)) {
        memcpy(t->buf + t->len, p, n);
        t->len += n;
    }
}

static void s_putc(s_text_t *t, char c)
{
    if (s_reserve(t, 1)) {
        t->buf[t->len++] = c;
    }
}

/* A JSON string: room for the worst case (every byte \u00XX) is made once, then the bytes
 * are written without a check each (a call per token was most of the writer's cost). */
static void s_put_str(s_text_t *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    if (!s_reserve(t, n * 6 + 2)) {
        return;
    }
    char *o = t->buf + t->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    t->len = (size_t)(o - t->buf);
}

/* by hand: snprintf was most of the cost of the merge trail's [source, time] pairs */
static void s_put_int(s_text_t *t, json_int_t x)
{
    char num[32];
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    char *end = num + sizeof num, *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0) {
        *--p = '-';
    }
    s_put(t, p, (size_t)(end - p));
}

static void s_put_json_any(s_text_t *t, const json_t *v);

static void s_put_json(s_text_t *t, const json_t *v)
{
    if (v != t->memo || !v) {
        s_put_json_any(t, v);
    } else if (t->memo_len) {
        if (s_reserve(t, t->memo_len)) { /* may move the buffer: copy after it */
            memcpy(t->buf + t->len, t->buf + t->memo_off, t->memo_len);
            t->len += t->memo_len;
        }
    } else {
        size_t off = t->len;
        s_put_json_any(t, v);
        t->memo_off = off;
        t->memo_len = t->len - off;
    }
}

static void s_put_json_any(s_text_t *t, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        const json_t *val;
        bool first = true;
        s_putc(t, '{');
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first) {
                s_putc(t, ',');
            }
            first = false;
            s_put_str(t, key, strlen(key));
            s_putc(t, ':');
            s_put_json(t, val);
        }
        s_putc(t, '}');
        break;
    }
    case JSON_ARRAY:
        s_putc(t, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) {
                s_putc(t, ',');
            }
            s_put_json(t, json_array_get(v, i));
        }
        s_putc(t, ']');
        break;
    case JSON_STRING:
        s_put_str(t, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        s_put_int(t, json_integer_value(v));
        break;
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!text) {
            t->oom = true;
            return;
        }
        s_put(t, text, strlen(text));
        free(text);
        break;
    }
    case JSON_TRUE:
        s_put(t, "true", 4);
        break;
    case JSON_FALSE:
        s_put(t, "false", 5);
        break;
    default:
        s_put(t, "null", 4);
    }
}

/* The NUL-terminated text written into t (the caller frees it), or NULL when a write ran out
 * of memory (t's buffer freed). */
static char *s_text_end(s_text_t *t)
{
    if (t->oom || !s_reserve(t, 0)) {
        free(t->buf);
        return NULL;
    }
    t->buf[t->len] = '\0';
    return t->buf;
}

/* malloc'd compact JSON text of v, or NULL when out of memory; memo: a value that recurs
 * in v, or NULL */
static char *s_compact(const json_t *v, const json_t *memo)
{
    s_text_t t = {.memo = memo};
    s_put_json(&t, v);
    return s_text_end(&t);
}

/* A new lead's merged fields, as s_compact writes them: the record's fields but the email
 * and the empty ones, in the record's order (no object is built for them). */
static char *s_compact_new(const json_t *fields)
{
    s_text_t t = {0};
    const char *key;
    const json_t *val;
    bool any = false;
    s_putc(&t, '{');
    json_object_foreach((json_t *)fields, key, val)
    {
        if (s_empty(val) || strcmp(key, "email") == 0) {
            continue;
        }
        if (any) {
            s_putc(&t, ',');
        }
        any = true;
        s_put_str(&t, key, strlen(key));
        s_putc(&t, ':');
        s_put_json(&t, val);
    }
    s_putc(&t, '}');
    return s_text_end(&t);
}

/* {"_":[source,observed_at]}, the trail of a new lead, as s_compact writes it */
static char *s_first_trail(const char *source, int64_t observed)
{
    s_text_t t = {0};
    s_put(&t, "{\"_\":[", 6);
    s_put_str(&t, source, strlen(source));
    s_putc(&t, ',');
    s_put_int(&t, observed);
    s_put(&t, "]}", 2);
    return s_text_end(&t);
}

/* [source, observed_at] of the merge trail (json_pack parses its format on every call) */
static json_t *s_trail(const char *source, int64_t observed)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(source));
    json_array_append_new(a, json_integer(observed));
    return a;
}

/* ---- reading back the store's own JSON text ----
 * fields_json and field_sources_json are written by s_compact: no whitespace, objects,
 * arrays, strings, integers, reals, true, false and null. That grammar is read here directly
 * into jansson values (json_loads was ~57k of a merge's 239k instructions: its lexer reads
 * the text a character at a time through a callback). Anything else (whitespace, deep
 * nesting, invalid text, a value json_loads refuses such as \u0000 or a number out of range)
 * returns NULL and the caller reads the text with json_loads, so the result is the same in
 * every case (test_stored_text_read_back compares the two). */
#define S_PARSE_DEPTH 32

static json_t *s_parse_value(const char **pp, int depth);

static int s_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* A string at *pp (its opening quote). Without escapes *start points into the text and
 * *owned is NULL; with escapes the decoded bytes are in *owned (free it). False for
 * anything json_loads would refuse or read differently: a raw control character, a bad
 * escape, a lone surrogate, \u0000. The UTF-8 of the result is checked by jansson. */
static bool s_parse_span(const char **pp, const char **start, size_t *len, char **owned)
{
    const char *p = *pp + 1; /* past the opening quote */
    const char *s = p;
    *owned = NULL;
    while (*p != '"' && *p != '\\') {
        if ((unsigned char)*p < 0x20) { /* control characters and the end of the text */
            return false;
        }
        p++;
    }
    if (*p == '"') {
        *start = s;
        *len = (size_t)(p - s);
        *pp = p + 1;
        return true;
    }
    /* escapes: the decoded text is never longer than the escaped one */
    const char *end = p;
    while (*end != '"') {
        if ((unsigned char)*end < 0x20) {
            return false;
        }
        end += *end == '\\' && end[1] ? 2 : 1;
    }
    char *out = malloc((size_t)(end - s) + 1), *o = out;
    if (!out) {
        return false;
    }
    memcpy(o, s, (size_t)(p - s));
    o += p - s;
    while (*p != '"') {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        char c = *p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *o++ = c;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            int32_t cp = s_hex4(p);
            if (cp <= 0) { /* bad hex digits, or \u0000 (json_loads refuses it) */
                free(out);
                return false;
            }
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) { /* a lone low surrogate */
                free(out);
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int32_t lo = p[0] == '\\' && p[1] == 'u' ? s_hex4(p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(out);
                    return false;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* at most 4 bytes from at least 6 escaped ones */
            o += utf8proc_encode_char(cp, (utf8proc_uint8_t *)o);
            break;
        }
        default:
            free(out);
            return false;
        }
    }
    *o = '\0';
    *start = out;
    *len = (size_t)(o - out);
    *owned = out;
    *pp = p + 1;
    return true;
}

/* A number at p: an integer of at most 18 digits (cannot overflow json_int_t) or a real
 * read by strtod as json_loads reads it; NULL for what JSON or json_loads refuses
 * (leading zeros, a bare sign, an integer beyond 18 digits, a real out of range). */
static json_t *s_parse_number(const char **pp)
{
    const char *p = *pp;
    const char *d = *p == '-' ? p + 1 : p;
    const char *e = d;
    while (*e >= '0' && *e <= '9') {
        e++;
    }
    if (e == d || (*d == '0' && e - d > 1)) {
        return NULL;
    }
    bool real = false;
    if (*e == '.') {
        const char *f = ++e;
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        if (e == f) {
            return NULL;
        }
        real = true;
    }
    if (*e == 'e' || *e == 'E') {
        e++;
        if (*e == '+' || *e == '-') {
            e++;
        }
        const char *x = e;
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        if (e == x) {
            return NULL;
        }
        real = true;
    }
    json_t *v;
    if (real) {
        char *stop;
        double x = strtod(p, &stop);
        if (stop != e || isinf(x)) {
            return NULL;
        }
        v = json_real(x);
    } else {
        if (e - d > 18) {
            return NULL;
        }
        json_int_t x = 0;
        for (const char *c = d; c < e; c++) {
            x = x * 10 + (*c - '0');
        }
        v = json_integer(p != d ? -x : x);
    }
    if (v) {
        *pp = e;
    }
    return v;
}

/* Whether an object or array goes on: 0 at its closing bracket (consumed), 1 when a member
 * follows (first: right after the opening bracket; else after a comma, consumed), -1 on
 * anything else. */
static int s_parse_more(const char **pp, char close, bool first)
{
    if (**pp == close) {
        (*pp)++;
        return 0;
    }
    if (first) {
        return 1;
    }
    return *(*pp)++ == ',' ? 1 : -1;
}

static json_t *s_parse_value(const char **pp, int depth)
{
    const char *p = *pp;
    json_t *v = NULL;
    if (depth > S_PARSE_DEPTH) {
        return NULL;
    }
    switch (*p) {
    case '{': {
        v = json_object();
        p++;
        int more = s_parse_more(&p, '}', true);
        while (more > 0) {
            const char *k;
            size_t klen;
            char *kown = NULL;
            json_t *item = NULL;
            if (*p != '"' || !s_parse_span(&p, &k, &klen, &kown) || *p++ != ':' ||
                !(item = s_parse_value(&p, depth + 1)) ||
                json_object_setn_new(v, k, klen, item) != 0) { /* not UTF-8 */
                free(kown);
                json_decref(v);
                return NULL;
            }
            free(kown);
            more = s_parse_more(&p, '}', false);
        }
        if (more < 0) {
            json_decref(v);
            return NULL;
        }
        break;
    }
    case '[': {
        v = json_array();
        p++;
        int more = s_parse_more(&p, ']', true);
        while (more > 0) {
            json_t *item = s_parse_value(&p, depth + 1);
            if (!item || json_array_append_new(v, item) != 0) {
                json_decref(v);
                return NULL;
            }
            more = s_parse_more(&p, ']', false);
        }
        if (more < 0) {
            json_decref(v);
            return NULL;
        }
        break;
    }
    case '"': {
        const char *str;
        size_t len;
        char *own;
        if (!s_parse_span(&p, &str, &len, &own)) {
            return NULL;
        }
        v = json_stringn(str, len); /* NULL when not UTF-8 */
        free(own);
        break;
    }
    case 't':
        if (strncmp(p, "true", 4) == 0) {
            v = json_true();
            p += 4;
        }
        break;
    case 'f':
        if (strncmp(p, "false", 5) == 0) {
            v = json_false();
            p += 5;
        }
        break;
    case 'n':
        if (strncmp(p, "null", 4) == 0) {
            v = json_null();
            p += 4;
        }
        break;
    default:
        return s_parse_number(pp);
    }
    if (v) {
        *pp = p;
    }
    return v;
}

/* The object the text holds (a new reference), or NULL when it holds none. */
static json_t *s_load_object(const char *text)
{
    const char *p = text;
    json_t *v = *p == '{' ? s_parse_value(&p, 0) : NULL;
    if (v && *p != '\0') {
        json_decref(v);
        v = NULL;
    }
    if (!v) {
        v = json_loads(text, 0, NULL);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static void s_fcache_put(ho_store_t *self, int64_t id, const char *text, json_t *obj)
{
    if (!self->fcache) {
        self->fcache = calloc(HO_STORE_FCACHE, sizeof *self->fcache);
    }
    if (!self->fcache || !text) {
        return;
    }
    ho_store_fcache_t *e = &self->fcache[(uint64_t)id % HO_STORE_FCACHE];
    char *copy = strdup(text);
    if (!copy) {
        return;
    }
    free(e->text);
    json_decref(e->obj);
    e->id = id;
    e->text = copy;
    e->obj = json_incref(obj);
}

json_t *ho_store_lead_fields(ho_store_t *self, const ho_lead_t *lead)
{
    if (!lead->fields_json) {
        return json_object();
    }
    ho_store_fcache_t *e =
        self->fcache && lead->id ? &self->fcache[(uint64_t)lead->id % HO_STORE_FCACHE] : NULL;
    json_t *f = NULL;
    if (e && e->obj && e->id == lead->id && strcmp(e->text, lead->fields_json) == 0) {
        f = json_deep_copy(e->obj);
    } else {
        f = s_load_object(lead->fields_json);
    }
    if (!json_is_object(f)) {
        json_decref(f);
        f = json_object();
    }
    return f;
}

int ho_store_lead_fields_pack(ho_store_t *self, const ho_lead_t *lead, msgpack_packer *pk)
{
    if (!lead->fields_json) {
        return msgpack_pack_map(pk, 0) == 0 ? HO_OK : HO_ERR_NOMEM;
    }
    ho_store_fcache_t *e =
        self->fcache && lead->id ? &self->fcache[(uint64_t)lead->id % HO_STORE_FCACHE] : NULL;
    if (e && e->obj && e->id == lead->id && strcmp(e->text, lead->fields_json) == 0 &&
        json_is_object(e->obj)) {
        return ho_msg_pack_json(pk, e->obj);
    }
    json_t *f = s_load_object(lead->fields_json);
    int rc = json_is_object(f) ? ho_msg_pack_json(pk, f)
                               : (msgpack_pack_map(pk, 0) == 0 ? HO_OK : HO_ERR_NOMEM);
    json_decref(f);
    return rc;
}

/* The documented rule, field by field (see store.h and deploy/store.yaml): merges a record's
 * fields into an existing lead's merged fields, each taken when the lead has none, or when
 * the record's source ranks higher in the field's precedence list (equal rank: the later
 * observation wins); meta records [source, observed_at] for every field taken (*trail_p, made
 * once). Returns true when a value changed. */
static bool s_merge_fields(ho_store_t *self, const json_t *fields, json_t *merged, json_t *meta,
                           const char *source, int64_t observed, json_t **trail_p)
{
    const char *key;
    json_t *val;
    bool changed = false;
    json_t *first = NULL;
    json_object_foreach((json_t *)fields, key, val)
    {
        if (s_empty(val) || strcmp(key, "email") == 0) {
            continue;
        }
        json_t *cur = json_object_get(merged, key);
        bool take = s_empty(cur);
        if (!take) {
            /* "_" is who set every field without an entry of its own (the first record):
             * keeps the merge trail small for the common single-source lead */
            json_t *m = json_object_get(meta, key);
            if (!m) {
                if (!first) {
                    first = json_object_get(meta, "_");
                }
                m = first;
            }
            const char *cur_src = json_string_value(json_array_get(m, 0));
            int64_t cur_at = json_integer_value(json_array_get(m, 1));
            /* fields without a list rank every source equal */
            const json_t *list = self->precedence ? json_object_get(self->precedence, key) : NULL;
            size_t r_in = list ? s_rank(list, source) : 0;
            size_t r_cur = list ? s_rank(list, cur_src) : 0;
            take = r_in < r_cur || (r_in == r_cur && observed >= cur_at);
        }
        if (take) {
            bool same = cur && json_equal(cur, val);
            if (!same) {
                changed = true;
            }
            /* an equal string, integer or boolean is written the same way: the value read
             * back stays (objects may list their keys in another order, reals -0.0 and 0.0) */
            if (!same || !(json_is_string(val) || json_is_integer(val) || json_is_boolean(val))) {
                json_object_set(merged, key, val); /* shared, never modified */
            }
            /* one [source, observed_at] for every field this record sets: meta is only
             * written out, never changed through it */
            if (!*trail_p) {
                *trail_p = s_trail(source, observed);
            }
            json_object_set(meta, key, *trail_p);
        }
    }
    return changed;
}

/* Original source and campaign are those of the earliest record (deploy/store.yaml),
 * whatever order the records arrive in: an earlier record replaces both, even with no
 * campaign, exactly as if it had come first (its source name stands for an original
 * source it does not name). A row without an original source (older data) is filled. The
 * lead's creation and first and last touch follow the record's observation. Returns true
 * when any of them changed. */
static bool s_origin_and_touches(ho_lead_t *lead, const json_t *fields, const char *source,
                                 int64_t observed, bool created)
{
    bool changed = false;
    const char *osrc = s_str(fields, "original_source");
    const char *camp = s_str(fields, "campaign");
    if (osrc && !osrc[0]) {
        osrc = NULL;
    }
    if (camp && !camp[0]) {
        camp = NULL;
    }
    if (created || observed < lead->created_at || !lead->original_source) {
        bool earliest = created || observed < lead->created_at;
        ho_lead_set(&lead->original_source, osrc ? osrc : source);
        ho_lead_set(&lead->source_channel, s_str(fields, "source_channel"));
        if (earliest || !lead->original_campaign) {
            ho_lead_set(&lead->original_campaign, camp);
        }
        changed = true;
    }
    if (observed < lead->created_at) {
        lead->created_at = observed;
        changed = true;
    }
    if (lead->first_touch_at == HO_NULL_INT || observed < lead->first_touch_at) {
        lead->first_touch_at = observed;
        changed = true;
    }
    if (lead->last_touch_at == HO_NULL_INT || observed > lead->last_touch_at) {
        lead->last_touch_at = observed;
        changed = true;
    }
    return changed;
}

/* The lead_sources row that says which source record (file and line, or webhook) this
 * record came from, so every lead can be traced to each export that named it. */
static int s_add_source_row(ho_store_t *self, const char *event_id, const json_t *payload,
                            int64_t lead_id, const char *source, int64_t observed, ho_err_t *err)
{
    const json_t *fields = json_object_get(payload, "fields");
    const json_t *ref = json_object_get(payload, "source_ref");
    const json_t *file = json_object_get(ref, "file");
    ho_source_row_t row = {
        .lead_id = lead_id,
        .event_id = event_id,
        .source = source,
        .source_record_id = json_object_get(fields, "source_record_id"),
        .original_source = json_object_get(fields, "original_source"),
        .campaign = json_object_get(fields, "campaign"),
        .file = file ? file : json_object_get(ref, "webhook"),
        .line = json_object_get(ref, "line"),
        .observed_at = observed,
    };
    return self->be->source_add(self->db, &row, err);
}

int ho_store_upsert_lead(ho_store_t *self, const char *event_id, const json_t *payload,
                         ho_upsert_t *res, ho_err_t *err)
{
    memset(res, 0, sizeof *res);
    const json_t *fields = json_object_get(payload, "fields");
    if (fields && !json_is_object(fields)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.fields", "payload.fields is not a map");
    }
    const char *raw_email = s_str(payload, "email");
    if (!raw_email) {
        raw_email = s_str(fields, "email");
    }
    char *email = ho_store_normalize_email(self, raw_email, err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    const char *source = s_str(payload, "source");
    if (!source || !source[0]) {
        source = "unknown";
    }
    int64_t observed = s_int(payload, "observed_at", HO_NULL_INT);
    if (observed == HO_NULL_INT) {
        observed = s_int(fields, "created_at", ho_now_ms());
    }
    int claimed = ho_store_claim_event(self, event_id, "lead.normalized", observed, err);
    if (claimed <= 0) {
        free(email);
        res->duplicate = claimed == 0;
        return claimed < 0 ? claimed : HO_OK;
    }

    ho_lead_t lead;
    ho_lead_init(&lead);
    json_t *merged = NULL, *meta = NULL;
    int rc = self->be->lead_get(self->db, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        res->created = true;
        lead.email = email;
        email = NULL;
        lead.stage = strdup("ML");
        lead.created_at = lead.updated_at = observed;
        /* merged and meta stay NULL: a new lead's fields and trail are written from the
         * record below */
    } else if (rc != HO_OK) {
        free(email);
        return rc;
    } else {
        free(email);
        merged = lead.fields_json ? s_load_object(lead.fields_json) : NULL;
        meta = lead.field_sources_json ? s_load_object(lead.field_sources_json) : NULL;
        if (!merged) {
            merged = json_object();
        }
        if (!meta) {
            meta = json_object();
        }
    }

    /* a new lead takes every non-empty field of its record: written from the record below */
    bool changed = res->created;
    json_t *trail = NULL;
    if (!res->created) {
        changed = s_merge_fields(self, fields, merged, meta, source, observed, &trail);
    }

    if (s_origin_and_touches(&lead, fields, source, observed, res->created)) {
        changed = true;
    }
    if (observed > lead.updated_at) {
        lead.updated_at = observed;
    }
    s_project(&lead, res->created ? fields : merged, res->created);
    free(lead.fields_json);
    free(lead.field_sources_json);
    /* objects keep insertion order, so the same records in the same order give the same
     * text (replays compare equal) without paying for sorting */
    lead.fields_json = res->created ? s_compact_new(fields) : s_compact(merged, NULL);
    /* a new lead's trail is {"_": [source, observed_at]}: written without building it */
    lead.field_sources_json =
        res->created ? s_first_trail(source, observed) : s_compact(meta, trail);
    json_decref(meta);
    json_decref(trail);

    rc = self->be->lead_put(self->db, &lead, err);
    if (rc == HO_OK) {
        /* a rolled-back put leaves an entry whose text the stored row does not have: the
         * text check keeps it from being used */
        if (merged) { /* a new lead's fields are read back from its text when asked for */
            s_fcache_put(self, lead.id, lead.fields_json, merged);
        }
    }
    json_decref(merged);
    if (rc == HO_OK) {
        rc = s_add_source_row(self, event_id, payload, lead.id, source, observed, err);
    }
    res->lead_id = lead.id;
    res->changed = changed;
    ho_lead_clear(&lead);
    return rc;
}
