/* snapshot.c - the two ways a lead snapshot reaches the model: a jansson tree
 * (ho_score_lead, `handoff score --explain`, tests) and msgpack-c objects straight from a
 * score.request (the score worker's hot path). Both become the same borrowed view
 * (ho_score_snap_t in scoring.h), which model.c scores; so both give the same result. */
#include "score/model_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- from a jansson tree ---- */

static ho_sv_t s_sv_json(const json_t *v)
{
    ho_sv_t sv = {.kind = HO_SV_ABSENT};
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        sv.kind = HO_SV_STR;
        sv.s = json_string_value(v);
        break;
    case JSON_INTEGER:
        sv.kind = HO_SV_INT;
        sv.i = (int64_t)json_integer_value(v);
        break;
    case JSON_REAL:
        sv.kind = HO_SV_REAL;
        sv.d = json_real_value(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        sv.kind = HO_SV_BOOL;
        sv.b = json_is_true(v);
        break;
    case JSON_OBJECT:
        sv.kind = HO_SV_MAP;
        break;
    case JSON_ARRAY:
        sv.kind = HO_SV_ARRAY;
        break;
    case JSON_NULL:
        sv.kind = v ? HO_SV_NULL : HO_SV_ABSENT;
        break;
    }
    return sv;
}

static ho_score_kv_t *s_kvs_json(const json_t *obj, size_t *n_p)
{
    size_t n = json_object_size(obj), i = 0;
    ho_score_kv_t *kv = malloc((n ? n : 1) * sizeof *kv);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!kv || i == n) {
            break;
        }
        kv[i++] = (ho_score_kv_t){.key = key, .klen = strlen(key), .v = s_sv_json(v)};
    }
    *n_p = i;
    return kv;
}

int ho_sm_snap_from_json(const json_t *lead, ho_score_snap_t *snap, ho_sm_jview_t *mem)
{
    memset(snap, 0, sizeof *snap);
    memset(mem, 0, sizeof *mem);
    mem->top = s_kvs_json(lead, &snap->n_top);
    snap->top = mem->top;
    const json_t *fields = json_object_get(lead, "fields");
    snap->fields_kind = s_sv_json(fields).kind;
    if (snap->fields_kind == HO_SV_MAP) {
        mem->fields = s_kvs_json(fields, &snap->n_fields);
        snap->fields = mem->fields;
    }
    const json_t *acts = json_object_get(lead, "activities");
    snap->acts_kind = s_sv_json(acts).kind;
    size_t n = snap->acts_kind == HO_SV_ARRAY ? json_array_size(acts) : 0;
    snap->n_acts = n;
    if (n && n <= HO_SM_MAX_ACTIVITIES) {
        mem->acts = calloc(n, sizeof *mem->acts);
        for (size_t i = 0; mem->acts && i < n; i++) {
            const json_t *a = json_array_get(acts, i);
            ho_score_act_t *x = &mem->acts[i];
            x->is_map = json_is_object(a);
            if (x->is_map) {
                x->occurred_at = s_sv_json(json_object_get(a, "occurred_at"));
                x->type = s_sv_json(json_object_get(a, "type"));
                x->path = s_sv_json(json_object_get(a, "path"));
                x->url = s_sv_json(json_object_get(a, "url"));
                x->campaign = s_sv_json(json_object_get(a, "campaign"));
            }
        }
        snap->acts = mem->acts;
    }
    bool ok = mem->top && (snap->fields_kind != HO_SV_MAP || mem->fields) &&
              (!n || n > HO_SM_MAX_ACTIVITIES || mem->acts);
    return ok ? HO_OK : HO_ERR_NOMEM;
}

void ho_sm_jview_free(ho_sm_jview_t *mem)
{
    free(mem->top);
    free(mem->fields);
    free(mem->acts);
    memset(mem, 0, sizeof *mem);
}

/* ---- from msgpack-c objects ---- */

struct ho_score_snapbuf {
    char *arena; /* NUL-terminated copies of the strings */
    size_t arena_cap, arena_used;
    ho_score_kv_t *top, *fields;
    size_t top_cap, fields_cap;
    ho_score_act_t *acts;
    size_t acts_cap;
};

ho_score_snapbuf_t *ho_score_snapbuf_new(void)
{
    return calloc(1, sizeof(ho_score_snapbuf_t));
}

void ho_score_snapbuf_destroy(ho_score_snapbuf_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_score_snapbuf_t *self = *self_p;
    free(self->arena);
    free(self->top);
    free(self->fields);
    free(self->acts);
    free(self);
    *self_p = NULL;
}

/* Make room for n items of size sz in *v (capacity *cap); false if out of memory. */
static bool s_reserve(void **v, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap) {
        return true;
    }
    size_t ncap = *cap ? *cap : 16;
    while (ncap < n) {
        ncap *= 2;
    }
    void *p = realloc(*v, ncap * sz);
    if (!p) {
        return false;
    }
    *v = p;
    *cap = ncap;
    return true;
}

static const char *s_copy(ho_score_snapbuf_t *b, const msgpack_object *o)
{
    size_t n = o->via.str.size;
    char *s = b->arena + b->arena_used;
    if (n) {
        memcpy(s, o->via.str.ptr, n);
    }
    s[n] = '\0';
    b->arena_used += n + 1;
    return s;
}

static ho_sv_t s_sv_mp(ho_score_snapbuf_t *b, const msgpack_object *o)
{
    ho_sv_t sv = {.kind = HO_SV_NULL};
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        sv.kind = HO_SV_STR;
        sv.s = s_copy(b, o);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        sv.kind = HO_SV_INT;
        sv.i = (int64_t)o->via.u64; /* <= INT64_MAX: the decoder's rule */
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        sv.kind = HO_SV_INT;
        sv.i = o->via.i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        sv.kind = HO_SV_REAL;
        sv.d = o->via.f64;
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        sv.kind = HO_SV_BOOL;
        sv.b = o->via.boolean;
        break;
    case MSGPACK_OBJECT_MAP:
        sv.kind = HO_SV_MAP;
        break;
    case MSGPACK_OBJECT_ARRAY:
        sv.kind = HO_SV_ARRAY;
        break;
    default: /* nil; bin and ext never pass the decoder */
        break;
    }
    return sv;
}

static bool s_key(const msgpack_object *k, const char *name, size_t len)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
           memcmp(k->via.str.ptr, name, len) == 0;
}

static bool s_kvs_mp(ho_score_snapbuf_t *b, const msgpack_object *map, ho_score_kv_t **kv,
                     size_t *cap, size_t *n_p)
{
    uint32_t n = map->via.map.size;
    if (!s_reserve((void **)kv, cap, n ? n : 1, sizeof **kv)) {
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        (*kv)[i] = (ho_score_kv_t){.key = k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "",
                                   .klen = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 0,
                                   .v = s_sv_mp(b, &map->via.map.ptr[i].val)};
    }
    *n_p = n;
    return true;
}

static void s_act_mp(ho_score_snapbuf_t *b, const msgpack_object *a, ho_score_act_t *x)
{
    memset(x, 0, sizeof *x);
    x->is_map = a->type == MSGPACK_OBJECT_MAP;
    for (uint32_t i = 0; x->is_map && i < a->via.map.size; i++) {
        const msgpack_object *k = &a->via.map.ptr[i].key, *v = &a->via.map.ptr[i].val;
        ho_sv_t *slot = s_key(k, "occurred_at", 11) ? &x->occurred_at
                        : s_key(k, "type", 4)       ? &x->type
                        : s_key(k, "path", 4)       ? &x->path
                        : s_key(k, "url", 3)        ? &x->url
                        : s_key(k, "campaign", 8)   ? &x->campaign
                                                    : NULL;
        if (slot) {
            *slot = s_sv_mp(b, v);
        }
    }
}

int ho_score_snap_from_msgpack(ho_score_snapbuf_t *b, const msgpack_object *lead,
                               size_t packed_len, ho_score_snap_t *snap)
{
    memset(snap, 0, sizeof *snap);
    b->arena_used = 0;
    if (lead->type != MSGPACK_OBJECT_MAP) {
        return HO_ERR_FIELD;
    }
    /* every string copied takes its bytes and a NUL; packed, its bytes and a header byte
     * at least: packed_len bounds them all, so the arena never moves while filled */
    if (!s_reserve((void **)&b->arena, &b->arena_cap, packed_len + 1, 1) ||
        !s_kvs_mp(b, lead, &b->top, &b->top_cap, &snap->n_top)) {
        return HO_ERR_NOMEM;
    }
    snap->top = b->top;
    snap->fields_kind = HO_SV_ABSENT;
    snap->acts_kind = HO_SV_ABSENT;
    for (uint32_t i = 0; i < lead->via.map.size; i++) {
        const msgpack_object *k = &lead->via.map.ptr[i].key, *v = &lead->via.map.ptr[i].val;
        if (s_key(k, "fields", 6)) {
            snap->fields_kind = b->top[i].v.kind;
            if (v->type == MSGPACK_OBJECT_MAP &&
                !s_kvs_mp(b, v, &b->fields, &b->fields_cap, &snap->n_fields)) {
                return HO_ERR_NOMEM;
            }
            snap->fields = b->fields;
        } else if (s_key(k, "activities", 10)) {
            snap->acts_kind = b->top[i].v.kind;
            size_t n = v->type == MSGPACK_OBJECT_ARRAY ? v->via.array.size : 0;
            snap->n_acts = n;
            if (n > HO_SM_MAX_ACTIVITIES || !n) {
                continue; /* refused by the model before it reads one */
            }
            if (!s_reserve((void **)&b->acts, &b->acts_cap, n, sizeof *b->acts)) {
                return HO_ERR_NOMEM;
            }
            for (size_t j = 0; j < n; j++) {
                s_act_mp(b, &v->via.array.ptr[j], &b->acts[j]);
            }
            snap->acts = b->acts;
        }
    }
    return HO_OK;
}
