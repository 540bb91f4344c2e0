/* msg_payload.c - the values of a payload as msgpack-c unpacked them: turned into a jansson
 * tree (the usual decode), or checked in place by exactly the same rules and words
 * (HO_MSG_RAW_PAYLOAD, where the payload stays packed). Either way a value is refused for an
 * integer beyond int64, NaN or infinity, invalid UTF-8, bin or ext, a key that is not a
 * string, holds a NUL, is not UTF-8 or repeats, or nesting deeper than HO_MSG_MAX_DEPTH, and
 * the error names where ("payload.lead.activities[3].type"). Split from msg.c, which reads
 * the envelope. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg_internal.h"

#define S_STR(o) HO_MSG_STR(o)

void ho_msg_path(char *out, size_t cap, const char *parent, const char *key, size_t klen)
{
    /* a cut path is fine in a message: the return value is checked only to say so */
    int n = parent[0] ? snprintf(out, cap, "%s.%.*s", parent, (int)(klen > 48 ? 48 : klen), key)
                      : snprintf(out, cap, "%.*s", (int)(klen > 48 ? 48 : klen), key);
    if (n < 0 && cap) {
        out[0] = '\0';
    }
}

/* Where a value sits in the payload ("payload.lead.activities[3].type"), for error messages.
 * Kept as a chain of stack frames and written out only when an error names it: rendering it
 * for every value was a third of decoding a score.request (snprintf per key and element). */
typedef struct s_where {
    const struct s_where *up; /* NULL at the root, whose text is `key` */
    const char *key;          /* map key (not NUL-terminated), or NULL for an array element */
    size_t klen;
    uint32_t index; /* array element index */
} s_where_t;

/* The same text the eager version built: "parent.key" (key cut at 48 bytes), "parent[i]",
 * each level cut at 95 bytes. */
static void s_where_text(const s_where_t *w, char *out, size_t cap)
{
    if (!w->up) {
        snprintf(out, cap, "%s", w->key);
        return;
    }
    char parent[96];
    s_where_text(w->up, parent, sizeof parent);
    if (!w->key) {
        if (snprintf(out, cap, "%s[%u]", parent, w->index) < 0 && cap) {
            out[0] = '\0';
        }
    } else {
        ho_msg_path(out, cap, parent, w->key, w->klen);
    }
}

/* "<where>: <what>" into err, field <where>; what may hold one %d, filled with arg. Off the
 * hot path (cold): the walks' loops stay small. */
__attribute__((cold, noinline)) static int s_where_fail(ho_err_t *err, const s_where_t *w,
                                                        int code, const char *what, int arg)
{
    char p[96], msg[160];
    s_where_text(w, p, sizeof p);
    snprintf(msg, sizeof msg, what, arg);
    return ho_err_set(err, code, p, "%s: %s", p, msg);
}

#define S_WHERE_ERR(w, code, what) return s_where_fail(err, (w), (code), (what), 0)

static int s_to_json_at(const msgpack_object *o, const s_where_t *w, int depth, json_t **out,
                        ho_err_t *err);

static int s_array_to_json(const msgpack_object *o, const s_where_t *w, int depth, json_t **out,
                           ho_err_t *err)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < o->via.array.size; i++) {
        s_where_t sub = {.up = w, .index = i};
        json_t *item;
        int rc = s_to_json_at(&o->via.array.ptr[i], &sub, depth + 1, &item, err);
        if (rc != HO_OK) {
            json_decref(arr);
            return rc;
        }
        json_array_append_new(arr, item);
    }
    *out = arr;
    return HO_OK;
}

static int s_map_walk(const msgpack_object *o, const s_where_t *w, int depth, json_t *obj,
                      ho_err_t *err);

static int s_map_to_json(const msgpack_object *o, const s_where_t *w, int depth, json_t **out,
                         ho_err_t *err)
{
    json_t *obj = json_object();
    if (!obj) {
        return s_where_fail(err, w, HO_ERR_NOMEM, "out of memory", 0);
    }
    int rc = s_map_walk(o, w, depth, obj, err);
    if (rc != HO_OK) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return HO_OK;
}

/* The rules of one value that need no look inside it, shared by both walks so they refuse
 * alike: nesting, an integer beyond int64, NaN or infinity, bin and ext, an unknown type, and
 * (when utf8) a string that is not UTF-8 (the tree walk leaves that to json_stringn, which
 * checks the same). */
static inline int s_value_rules(const msgpack_object *o, const s_where_t *w, int depth, bool utf8,
                         ho_err_t *err)
{
    if (depth > HO_MSG_MAX_DEPTH) {
        return s_where_fail(err, w, HO_ERR_TOO_LARGE, "nested deeper than %d levels",
                            HO_MSG_MAX_DEPTH);
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_ARRAY:
    case MSGPACK_OBJECT_MAP:
        return HO_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            S_WHERE_ERR(w, HO_ERR_FIELD, "integer out of range");
        }
        return HO_OK;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            S_WHERE_ERR(w, HO_ERR_FIELD, "NaN or infinite number");
        }
        return HO_OK;
    case MSGPACK_OBJECT_STR:
        if (utf8 && !ho_msg_utf8_valid(S_STR(o), o->via.str.size)) {
            S_WHERE_ERR(w, HO_ERR_FIELD, "invalid UTF-8 in string");
        }
        return HO_OK;
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT:
        S_WHERE_ERR(w, HO_ERR_FIELD, "binary and ext values are not allowed");
    default:
        S_WHERE_ERR(w, HO_ERR_MALFORMED, "unknown msgpack type");
    }
}

static int s_to_json_at(const msgpack_object *o, const s_where_t *w, int depth, json_t **out,
                        ho_err_t *err)
{
    *out = NULL;
    int rc = s_value_rules(o, w, depth, false, err);
    if (rc != HO_OK) {
        return rc;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        *out = json_null();
        return HO_OK;
    case MSGPACK_OBJECT_BOOLEAN:
        *out = json_boolean(o->via.boolean);
        return HO_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *out = json_integer((json_int_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = json_integer((json_int_t)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = json_real(o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        *out = json_stringn(S_STR(o), o->via.str.size);
        if (!*out) {
            S_WHERE_ERR(w, HO_ERR_FIELD, "invalid UTF-8 in string");
        }
        return HO_OK;
    case MSGPACK_OBJECT_ARRAY:
        return s_array_to_json(o, w, depth, out, err);
    default: /* a map: the rules refused every other type */
        return s_map_to_json(o, w, depth, out, err);
    }
    if (!*out) {
        S_WHERE_ERR(w, HO_ERR_NOMEM, "out of memory");
    }
    return HO_OK;
}

int ho_msg_value_to_json(const msgpack_object *o, const char *path, int depth, json_t **out,
                         ho_err_t *err)
{
    s_where_t root = {.key = path};
    return s_to_json_at(o, &root, depth, out, err);
}

/* The payload checked by the rules of s_to_json_at, in the same order and with the same
 * messages, without building anything: how a payload kept packed (HO_MSG_RAW_PAYLOAD) is
 * refused exactly as a decoded one would be. */
static int s_check_at(const msgpack_object *o, const s_where_t *w, int depth, ho_err_t *err);

/* The index of the first key of map o that repeats an earlier one (what s_map_to_json
 * reports first), or UINT32_MAX. Small maps compare pairwise; larger ones sort. */
typedef struct {
    const char *key;
    uint32_t len;
    uint32_t index;
} s_key_t;

static int s_key_cmp(const void *x, const void *y)
{
    const s_key_t *a = x, *b = y;
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    int c = memcmp(a->key, b->key, a->len);
    if (c) {
        return c;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

#define S_DUP_NOMEM (UINT32_MAX - 1) /* s_first_dup could not tell */

static uint32_t s_first_dup(const msgpack_object *o)
{
    uint32_t n = o->via.map.size, first = UINT32_MAX;
    const msgpack_object_kv *kv = o->via.map.ptr;
    if (n <= 16) {
        for (uint32_t i = 1; i < n && first == UINT32_MAX; i++) {
            const msgpack_object *k = &kv[i].key;
            uint32_t kn = k->via.str.size;
            for (uint32_t j = 0; j < i && k->type == MSGPACK_OBJECT_STR; j++) {
                const msgpack_object *e = &kv[j].key;
                /* length and first byte before memcmp: keys of a map mostly differ there */
                if (e->type == MSGPACK_OBJECT_STR && e->via.str.size == kn &&
                    (kn == 0 || (e->via.str.ptr[0] == k->via.str.ptr[0] &&
                                 memcmp(e->via.str.ptr, k->via.str.ptr, kn) == 0))) {
                    first = i;
                    break;
                }
            }
        }
        return first;
    }
    s_key_t *keys = malloc(n * sizeof *keys);
    if (!keys) {
        return S_DUP_NOMEM;
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (kv[i].key.type == MSGPACK_OBJECT_STR) {
            keys[m++] = (s_key_t){S_STR(&kv[i].key), kv[i].key.via.str.size, i};
        }
    }
    qsort(keys, m, sizeof *keys, s_key_cmp);
    for (uint32_t i = 1; i < m; i++) {
        /* within a run of equal keys the indexes ascend: the second is the first repeat */
        if (keys[i].len == keys[i - 1].len && memcmp(keys[i].key, keys[i - 1].key, keys[i].len) == 0 &&
            (i < 2 || keys[i - 2].len != keys[i].len ||
             memcmp(keys[i - 2].key, keys[i].key, keys[i].len) != 0) &&
            keys[i].index < first) {
            first = keys[i].index;
        }
    }
    free(keys);
    return first;
}

/* memchr(s, 0, n) for the short keys of a payload, without the call */
static bool s_has_nul(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            return true;
        }
    }
    return false;
}

/* A map's keys and values, by one set of rules for both walks: obj NULL checks, else each
 * value is built into obj. Refused: a key that is not a string, holds a NUL, repeats (the
 * tree asks obj; the check finds the first repeat up front) or is not UTF-8 (after its
 * value, as jansson finds it on insert), and whatever the value's walk refuses. */
static int s_map_walk(const msgpack_object *o, const s_where_t *w, int depth, json_t *obj,
                      ho_err_t *err)
{
    uint32_t dup = obj ? UINT32_MAX : s_first_dup(o);
    if (dup == S_DUP_NOMEM) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR) {
            char p[96];
            s_where_text(w, p, sizeof p);
            return ho_err_set(err, HO_ERR_FIELD, p, "%s: map key #%u is not a string",
                              p[0] ? p : "(root)", i);
        }
        const char *key = S_STR(k);
        size_t klen = k->via.str.size;
        s_where_t sub = {.up = w, .key = key, .klen = klen};
        if (s_has_nul(key, klen)) {
            S_WHERE_ERR(&sub, HO_ERR_FIELD, "map key contains a NUL byte");
        }
        if (obj ? json_object_getn(obj, key, klen) != NULL : i == dup) {
            S_WHERE_ERR(&sub, HO_ERR_FIELD, "duplicate map key");
        }
        json_t *item = NULL;
        int rc = obj ? s_to_json_at(&o->via.map.ptr[i].val, &sub, depth + 1, &item, err)
                     : s_check_at(&o->via.map.ptr[i].val, &sub, depth + 1, err);
        if (rc != HO_OK) {
            return rc;
        }
        if (obj ? json_object_setn_new(obj, key, klen, item) != 0
                : !ho_msg_utf8_valid(key, klen)) {
            S_WHERE_ERR(&sub, HO_ERR_FIELD, "map key is not valid UTF-8");
        }
    }
    return HO_OK;
}

static int s_check_at(const msgpack_object *o, const s_where_t *w, int depth, ho_err_t *err)
{
    int rc = s_value_rules(o, w, depth, true, err);
    if (rc != HO_OK || o->type == MSGPACK_OBJECT_MAP) {
        return rc != HO_OK ? rc : s_map_walk(o, w, depth, NULL, err);
    }
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++) {
        s_where_t sub = {.up = w, .index = i};
        rc = s_check_at(&o->via.array.ptr[i], &sub, depth + 1, err);
        if (rc != HO_OK) {
            return rc;
        }
    }
    return HO_OK;
}

int ho_msg_value_check(const msgpack_object *o, const char *path, ho_err_t *err)
{
    s_where_t root = {.key = path};
    return s_check_at(o, &root, 0, err);
}
