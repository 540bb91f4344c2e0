/* msg_decode.c - reading envelopes from msgpack (include/handoff/msg.h): the body walked
 * and bounded first (msg_check.c), then unpacked by msgpack-c, each envelope's fields read
 * and its payload turned into a jansson tree (msg_payload.c), or, with HO_MSG_RAW_PAYLOAD,
 * checked in place and kept packed with the frame's objects. Split from msg.c, which holds
 * the envelope and its encoding. */
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg_internal.h"
#include "handoff/msg.h"


#define S_STR(o) HO_MSG_STR(o)

static int s_key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(S_STR(k), name, n) == 0;
}

static int s_get_str(const msgpack_object *v, const char *name, char **out, ho_err_t *err)
{
    if (v->type != MSGPACK_OBJECT_STR) {
        return ho_err_set(err, HO_ERR_FIELD, name, "%s: expected a string", name);
    }
    *out = strndup(S_STR(v), v->via.str.size);
    if (!*out) {
        return ho_err_set(err, HO_ERR_NOMEM, name, "%s: out of memory", name);
    }
    if (strlen(*out) != v->via.str.size) {
        return ho_err_set(err, HO_ERR_FIELD, name, "%s: contains a NUL byte", name);
    }
    if (!ho_msg_utf8_valid(*out, v->via.str.size)) {
        return ho_err_set(err, HO_ERR_FIELD, name, "%s: invalid UTF-8 in string", name);
    }
    return HO_OK;
}

/* The version decides how to read everything else, so an unknown version is reported as
 * such whatever else is wrong with the envelope: looked for before any other key is read. */
static int s_version_first(const msgpack_object *root, ho_err_t *err)
{
    int rc = HO_OK;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr[i].key;
        const msgpack_object *v = &root->via.map.ptr[i].val;
        if (s_key_is(k, "v") && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            v->via.u64 != HO_SCHEMA_VERSION) {
            rc = ho_err_set(err, HO_ERR_VERSION, "v",
                            "v: unsupported schema version %llu (this build speaks %d)",
                            (unsigned long long)v->via.u64, HO_SCHEMA_VERSION);
        }
    }
    return rc;
}

/* An envelope key this build does not know: kept in extra, so a newer peer's fields
 * survive a hop. */
static int s_extra_key(ho_msg_t *self, const msgpack_object *k, const msgpack_object *v,
                       ho_err_t *err)
{
    char name[64];
    ho_msg_path(name, sizeof name, "", S_STR(k), k->via.str.size);
    json_t *item = NULL;
    if (memchr(S_STR(k), 0, k->via.str.size)) {
        /* it could not be written back: keys are NUL-terminated in memory */
        return ho_err_set(err, HO_ERR_FIELD, name, "%s: envelope key contains a NUL byte", name);
    }
    if (json_object_getn(self->extra, S_STR(k), k->via.str.size)) {
        return ho_err_set(err, HO_ERR_FIELD, name, "%s: duplicate envelope key", name);
    }
    int rc = ho_msg_value_to_json(v, name, 1, &item, err);
    if (rc == HO_OK && json_object_setn_new(self->extra, S_STR(k), k->via.str.size, item) != 0) {
        rc = ho_err_set(err, HO_ERR_FIELD, name, "%s: key is not valid UTF-8", name);
    }
    return rc;
}

/* The envelope fields every message must carry, the version first so an unknown version
 * is reported as such. */
static int s_required(const ho_msg_t *self, int have_v, int have_ts, ho_err_t *err)
{
    int rc = HO_OK;
    if (!have_v) {
        rc = ho_err_set(err, HO_ERR_MISSING, "v", "v: missing schema version");
    } else if (!self->type) {
        rc = ho_err_set(err, HO_ERR_MISSING, "type", "type: missing");
    } else if (!self->id) {
        rc = ho_err_set(err, HO_ERR_MISSING, "id", "id: missing event id");
    } else if (!have_ts) {
        rc = ho_err_set(err, HO_ERR_MISSING, "ts", "ts: missing timestamp");
    } else if (!self->payload && !self->raw) {
        rc = ho_err_set(err, HO_ERR_MISSING, "payload", "payload: missing");
    }
    return rc;
}

/* Where the value of the index-th pair of the (validated) map at raw lies. */
static int s_raw_value(const uint8_t *raw, size_t raw_len, uint32_t index, const char **out_p,
                       size_t *len_p, ho_err_t *err)
{
    size_t off = 0;
    uint32_t pairs = 0;
    int rc = ho_msg_raw_map_head(raw, raw_len, &off, &pairs);
    for (uint32_t j = 0; rc == HO_OK && j < index; j++) {
        rc = ho_msg_raw_skip(raw, raw_len, &off);
        if (rc == HO_OK) {
            rc = ho_msg_raw_skip(raw, raw_len, &off);
        }
    }
    if (rc == HO_OK) {
        rc = ho_msg_raw_skip(raw, raw_len, &off); /* the key */
    }
    size_t start = off;
    if (rc == HO_OK && index + 1 == pairs) {
        off = raw_len; /* the last pair (where the encoder puts it): no walk over the payload */
    } else if (rc == HO_OK) {
        rc = ho_msg_raw_skip(raw, raw_len, &off);
    }
    if (rc != HO_OK || off > raw_len) {
        return ho_err_set(err, HO_ERR_MALFORMED, "payload", "payload: cannot be walked");
    }
    *out_p = (const char *)raw + start;
    *len_p = off - start;
    return HO_OK;
}

/* root: the envelope's objects; raw (NULL unless the payload is to stay packed): the same
 * envelope's bytes, in block, which the message then references. */
static int s_envelope(const msgpack_object *root, const uint8_t *raw, size_t raw_len,
                      ho_msg_block_t *block, ho_msg_t **msg_p, ho_err_t *err)
{
    *msg_p = NULL;
    if (root->type != MSGPACK_OBJECT_MAP) {
        return ho_err_set(err, HO_ERR_MALFORMED, "", "envelope is not a msgpack map");
    }
    ho_msg_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->extra = json_object();
    int have_v = 0;
    int have_ts = 0;
    int rc = s_version_first(root, err);
    static const char *const known[] = {"v", "type", "id", "ts", "origin", "payload"};
    unsigned seen = 0;
    for (uint32_t i = 0; rc == HO_OK && i < root->via.map.size; i++) {
        const msgpack_object *k = &root->via.map.ptr[i].key;
        const msgpack_object *v = &root->via.map.ptr[i].val;
        for (unsigned f = 0; f < sizeof known / sizeof known[0]; f++) {
            if (s_key_is(k, known[f])) {
                if (seen & (1u << f)) {
                    rc = ho_err_set(err, HO_ERR_FIELD, known[f], "%s: duplicate envelope key",
                                    known[f]);
                }
                seen |= 1u << f;
            }
        }
        if (rc != HO_OK) {
            break;
        }
        if (s_key_is(k, "v")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
                rc = ho_err_set(err, HO_ERR_FIELD, "v", "v: expected a positive integer");
            } else if (v->via.u64 != HO_SCHEMA_VERSION) {
                rc = ho_err_set(err, HO_ERR_VERSION, "v",
                                "v: unsupported schema version %llu (this build speaks %d)",
                                (unsigned long long)v->via.u64, HO_SCHEMA_VERSION);
            } else {
                self->version = (unsigned)v->via.u64;
                have_v = 1;
            }
        } else if (s_key_is(k, "type")) {
            free(self->type);
            self->type = NULL;
            rc = s_get_str(v, "type", &self->type, err);
            if (rc == HO_OK && !ho_msg_valid_type(self->type, strlen(self->type))) {
                rc = ho_err_set(err, HO_ERR_FIELD, "type",
                                "type: must be 1-%d characters of a-z 0-9 . _ -",
                                HO_MSG_MAX_TYPE - 1);
            }
        } else if (s_key_is(k, "id")) {
            free(self->id);
            self->id = NULL;
            rc = s_get_str(v, "id", &self->id, err);
            if (rc == HO_OK && !ho_msg_valid_id(self->id, strlen(self->id))) {
                rc = ho_err_set(err, HO_ERR_FIELD, "id",
                                "id: must be 1-%d printable ASCII characters", HO_MSG_MAX_ID);
            }
        } else if (s_key_is(k, "ts")) {
            if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= (uint64_t)INT64_MAX) {
                self->ts = (int64_t)v->via.u64;
                have_ts = 1;
            } else {
                rc = ho_err_set(err, HO_ERR_FIELD, "ts",
                                "ts: expected milliseconds since the epoch (non-negative integer)");
            }
        } else if (s_key_is(k, "origin")) {
            free(self->origin);
            self->origin = NULL;
            rc = s_get_str(v, "origin", &self->origin, err);
            if (rc == HO_OK && strlen(self->origin) > HO_MSG_MAX_ORIGIN) {
                rc = ho_err_set(err, HO_ERR_TOO_LARGE, "origin", "origin: longer than %d bytes",
                                HO_MSG_MAX_ORIGIN);
            }
        } else if (s_key_is(k, "payload")) {
            if (v->type != MSGPACK_OBJECT_MAP) {
                rc = ho_err_set(err, HO_ERR_FIELD, "payload", "payload: expected a map");
            } else if (raw) {
                rc = ho_msg_value_check(v, "payload", err);
                if (rc == HO_OK) {
                    rc = s_raw_value(raw, raw_len, i, &self->raw, &self->raw_len, err);
                }
                if (rc == HO_OK && !self->block) {
                    atomic_fetch_add(&block->refs, 1);
                    self->block = block;
                    self->pobj = v;
                }
            } else {
                json_decref(self->payload);
                rc = ho_msg_value_to_json(v, "payload", 0, &self->payload, err);
            }
        } else if (k->type == MSGPACK_OBJECT_STR) {
            rc = s_extra_key(self, k, v, err);
        } else {
            rc = ho_err_set(err, HO_ERR_FIELD, "", "envelope key #%u is not a string", i);
        }
    }
    if (rc == HO_OK) {
        rc = s_required(self, have_v, have_ts, err);
    }
    if (rc == HO_OK && !self->origin) {
        self->origin = strdup("");
    }
    if (rc == HO_OK && (!self->origin || !self->extra)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc != HO_OK) {
        ho_msg_destroy(&self);
        return rc;
    }
    *msg_p = self;
    return HO_OK;
}

/* The decoder's zone: one per thread, kept from frame to frame and cleared after each (its
 * first chunk stays). A zone per frame sized from the body (2x, up to megabytes) was one large
 * malloc per frame, and each made glibc consolidate the fast bins the previous batch's jansson
 * frees had filled: 8% of the store worker in the activities phase (perf, 2026-12-07). A
 * nested decode (an error callback that decodes) gets a zone of its own. Freed at thread exit
 * (pthread key destructor). */
#define S_ZONE_CHUNK (4u << 20)

typedef struct {
    msgpack_zone *zone;
    bool busy;
} s_zone_slot_t;

static pthread_key_t s_zone_key;
static pthread_once_t s_zone_once = PTHREAD_ONCE_INIT;

static void s_zone_slot_free(void *p)
{
    s_zone_slot_t *slot = p;
    msgpack_zone_free(slot->zone);
    free(slot);
}

static void s_zone_key_make(void)
{
    (void)pthread_key_create(&s_zone_key, s_zone_slot_free);
}

static msgpack_zone *s_zone_take(size_t len)
{
    pthread_once(&s_zone_once, s_zone_key_make);
    s_zone_slot_t *slot = pthread_getspecific(s_zone_key);
    if (!slot && (slot = calloc(1, sizeof *slot)) != NULL) {
        slot->zone = msgpack_zone_new(S_ZONE_CHUNK);
        if (!slot->zone || pthread_setspecific(s_zone_key, slot) != 0) {
            msgpack_zone_free(slot->zone);
            free(slot);
            slot = NULL;
        }
    }
    if (slot && !slot->busy) {
        slot->busy = true;
        return slot->zone;
    }
    return msgpack_zone_new(len < 4096 ? 8192 : 2 * len);
}

static void s_zone_give(msgpack_zone *zone)
{
    s_zone_slot_t *slot = pthread_getspecific(s_zone_key);
    if (slot && slot->zone == zone) {
        msgpack_zone_clear(zone);
        slot->busy = false;
        return;
    }
    msgpack_zone_free(zone);
}

/* The msgpack object tree of a body, in a zone the caller gives back (s_zone_give). */
static int s_unpack(const void *buf, size_t len, msgpack_zone **zone_p, msgpack_object *root,
                    ho_err_t *err)
{
    *zone_p = NULL;
    int rc = ho_msg_validate_body(buf, len, err);
    if (rc != HO_OK) {
        return rc;
    }
    msgpack_zone *zone = s_zone_take(len);
    if (!zone) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory decoding %zu bytes", len);
    }
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack(buf, len, &off, zone, root);
    if (ret != MSGPACK_UNPACK_SUCCESS && ret != MSGPACK_UNPACK_EXTRA_BYTES) {
        s_zone_give(zone);
        if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
            /* msgpack-c reports its nesting limit as NOMEM; the walker keeps us under it, so
             * this is a real allocation failure */
            return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory decoding %zu bytes", len);
        }
        return ho_err_set(err, HO_ERR_MALFORMED, "", "msgpack decoder rejected the body");
    }
    *zone_p = zone;
    return HO_OK;
}

json_t *ho_msg_materialize(ho_msg_t *self)
{
    msgpack_zone *zone;
    msgpack_object root;
    ho_err_t err = {0};
    if (s_unpack(self->raw, self->raw_len, &zone, &root, &err) != HO_OK) {
        return NULL;
    }
    json_t *payload = NULL;
    int rc = root.type == MSGPACK_OBJECT_MAP
                 ? ho_msg_value_to_json(&root, "payload", 0, &payload, &err)
                 : HO_ERR_FIELD;
    s_zone_give(zone);
    if (rc != HO_OK) {
        return NULL;
    }
    ho_msg_raw_drop(self);
    self->payload = payload;
    return payload;
}

int ho_msg_decode(const void *buf, size_t len, ho_msg_t **msg_p, ho_err_t *err)
{
    *msg_p = NULL;
    msgpack_zone *zone;
    msgpack_object root;
    int rc = s_unpack(buf, len, &zone, &root, err);
    if (rc != HO_OK) {
        return rc;
    }
    rc = s_envelope(&root, NULL, 0, NULL, msg_p, err);
    s_zone_give(zone);
    return rc;
}

int ho_msg_decode_frame(const void *buf, size_t len, ho_msg_t ***msgs_p, size_t *n_p,
                        ho_msg_error_fn *on_error, void *arg, ho_err_t *err)
{
    return ho_msg_decode_frame_opt(buf, len, 0, msgs_p, n_p, on_error, arg, err);
}

/* HO_MSG_RAW_PAYLOAD: each element unpacked on its own, so msgpack-c says where it ends
 * and the envelope's bytes are known without a walk. */
static int s_decode_frame_raw(const uint8_t *p, size_t len, ho_msg_t ***msgs_p, size_t *n_p,
                              ho_msg_error_fn *on_error, void *arg, ho_err_t *err)
{
    int rc = ho_msg_validate_body(p, len, err);
    if (rc != HO_OK) {
        return rc;
    }
    uint8_t b = p[0];
    bool map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    bool array = (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
    if (!map && !array) {
        return ho_err_set(err, HO_ERR_MALFORMED, "", "body is neither an envelope nor a batch");
    }
    size_t off = 0;
    uint32_t count = 1;
    if (array && ho_msg_raw_array_head(p, len, &off, &count) != HO_OK) {
        return ho_err_set(err, HO_ERR_MALFORMED, "", "msgpack decoder rejected the body");
    }
    /* the frame's own copy and a zone for its objects, kept by the messages (one unpack: the
     * handler reads the payload's objects the decoder checked) */
    ho_msg_t **msgs = calloc(count ? count : 1, sizeof *msgs);
    ho_msg_block_t *block = msgs ? malloc(sizeof *block + len) : NULL;
    msgpack_zone *zone = block ? msgpack_zone_new(len < 4096 ? 8192 : 2 * len) : NULL;
    if (!zone) {
        free(block);
        free(msgs);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    atomic_init(&block->refs, 1); /* this function's, let go at the end */
    block->zone = zone;
    memcpy(block->bytes, p, len);
    p = (const uint8_t *)block->bytes;
    size_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        ho_err_t item_err = {0};
        ho_msg_t *msg = NULL;
        size_t start = off;
        msgpack_object o;
        msgpack_unpack_return ret = msgpack_unpack((const char *)p, len, &off, zone, &o);
        if (ret != MSGPACK_UNPACK_SUCCESS && ret != MSGPACK_UNPACK_EXTRA_BYTES) {
            /* the body passed the walk, so only memory can fail here; the rest is unread */
            ho_err_set(&item_err, HO_ERR_NOMEM, "", "out of memory decoding element %u", i);
            for (uint32_t j = i; on_error && j < count; j++) {
                on_error(j, &item_err, arg);
            }
            break;
        }
        if (s_envelope(&o, p + start, off - start, block, &msg, &item_err) == HO_OK) {
            msgs[n++] = msg;
        } else if (on_error) {
            on_error(i, &item_err, arg);
        }
    }
    ho_msg_block_unref(&block);
    *msgs_p = msgs;
    *n_p = n;
    return HO_OK;
}

int ho_msg_decode_frame_opt(const void *buf, size_t len, unsigned flags, ho_msg_t ***msgs_p,
                            size_t *n_p, ho_msg_error_fn *on_error, void *arg, ho_err_t *err)
{
    *msgs_p = NULL;
    *n_p = 0;
    if (flags & HO_MSG_RAW_PAYLOAD) {
        return s_decode_frame_raw(buf, len, msgs_p, n_p, on_error, arg, err);
    }
    msgpack_zone *zone;
    msgpack_object top;
    int rc = s_unpack(buf, len, &zone, &top, err);
    if (rc != HO_OK) {
        return rc;
    }
    const msgpack_object *root = &top;
    size_t count = root->type == MSGPACK_OBJECT_ARRAY ? root->via.array.size : 1;
    if (root->type != MSGPACK_OBJECT_ARRAY && root->type != MSGPACK_OBJECT_MAP) {
        s_zone_give(zone);
        return ho_err_set(err, HO_ERR_MALFORMED, "", "body is neither an envelope nor a batch");
    }
    ho_msg_t **msgs = calloc(count ? count : 1, sizeof *msgs);
    if (!msgs) {
        s_zone_give(zone);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const msgpack_object *o =
            root->type == MSGPACK_OBJECT_ARRAY ? &root->via.array.ptr[i] : root;
        ho_err_t item_err = {0};
        ho_msg_t *msg = NULL;
        if (s_envelope(o, NULL, 0, NULL, &msg, &item_err) == HO_OK) {
            msgs[n++] = msg;
        } else if (on_error) {
            on_error(i, &item_err, arg);
        }
    }
    s_zone_give(zone);
    *msgs_p = msgs;
    *n_p = n;
    return HO_OK;
}

