/* msg.c - the envelope and its encoding; see include/handoff/msg.h and
 * proto/handoff-protocol.md. Decoding is msg_decode.c (which validates the raw bytes before
 * msgpack-c builds objects, msg_check.c, so a hostile length prefix cannot make it allocate
 * more than the input justifies), payload values msg_payload.c. */
#include "handoff/msg.h"

#include "common/msg_internal.h"

#include <msgpack.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void ho_msg_block_unref(ho_msg_block_t **block_p)
{
    ho_msg_block_t *b = *block_p;
    *block_p = NULL;
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        msgpack_zone_free(b->zone);
        free(b);
    }
}

void ho_msg_raw_drop(ho_msg_t *self)
{
    free(self->raw_own);
    ho_msg_block_unref(&self->block);
    self->raw_own = NULL;
    self->raw = NULL;
    self->raw_len = 0;
    self->pobj = NULL;
}

static int s_pack_json(msgpack_packer *pk, const json_t *value);

int64_t ho_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_random_id(char *out, size_t cap)
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* getrandom cannot really fail for 16 bytes; fall back to time + address entropy */
        uint64_t t = (uint64_t)ho_now_ms() ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < sizeof raw; i++) {
            t = t * 6364136223846793005ULL + 1442695040888963407ULL;
            raw[i] = (unsigned char)(t >> 56);
        }
    }
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (size_t i = 0; i < sizeof raw && n + 2 < cap; i++) {
        out[n++] = hex[raw[i] >> 4];
        out[n++] = hex[raw[i] & 15];
    }
    out[n] = '\0';
}

void ho_msg_make_id(char *out, size_t cap, const char *prefix, const void *data, size_t len)
{
    /* Two independent 64-bit FNV-1a lanes make a 128-bit digest: collisions are not a
     * practical concern for idempotency keys of lead records. */
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h1 = (h1 ^ p[i]) * 0x100000001b3ULL;
        h2 = (h2 ^ p[i] ^ (unsigned char)i) * 0x100000001b3ULL;
    }
    snprintf(out, cap, "%s-%016llx%016llx", prefix ? prefix : "id", (unsigned long long)h1,
             (unsigned long long)h2);
}

static char *s_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

ho_msg_t *ho_msg_new(const char *type)
{
    ho_msg_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    char id[40];
    s_random_id(id, sizeof id);
    self->version = HO_SCHEMA_VERSION;
    self->type = s_strdup(type ? type : "");
    self->id = strdup(id);
    self->ts = ho_now_ms();
    self->origin = strdup("");
    self->payload = json_object();
    self->extra = json_object();
    if (!self->type || !self->id || !self->origin || !self->payload || !self->extra) {
        ho_msg_destroy(&self);
    }
    return self;
}

void ho_msg_destroy(ho_msg_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_msg_t *self = *self_p;
    free(self->type);
    free(self->id);
    free(self->origin);
    json_decref(self->payload);
    json_decref(self->extra);
    ho_msg_raw_drop(self);
    free(self);
    *self_p = NULL;
}

ho_msg_t *ho_msg_dup(const ho_msg_t *self)
{
    ho_msg_t *copy = calloc(1, sizeof *copy);
    if (!copy) {
        return NULL;
    }
    copy->version = self->version;
    copy->type = s_strdup(self->type);
    copy->id = s_strdup(self->id);
    copy->ts = self->ts;
    copy->origin = s_strdup(self->origin);
    if (self->block) {
        /* the frame is never written to: share it */
        atomic_fetch_add(&self->block->refs, 1);
        copy->block = self->block;
        copy->raw = self->raw;
        copy->raw_len = self->raw_len;
        copy->pobj = self->pobj;
    } else if (self->raw) {
        copy->raw_own = malloc(self->raw_len);
        if (copy->raw_own) {
            memcpy(copy->raw_own, self->raw, self->raw_len);
            copy->raw = copy->raw_own;
            copy->raw_len = self->raw_len;
        }
    } else {
        copy->payload = json_deep_copy(self->payload);
    }
    copy->extra = json_deep_copy(self->extra);
    if (!copy->type || !copy->id || !copy->origin || (!copy->payload && !copy->raw) ||
        !copy->extra) {
        ho_msg_destroy(&copy);
    }
    return copy;
}

unsigned ho_msg_version(const ho_msg_t *self)
{
    return self->version;
}
const char *ho_msg_type(const ho_msg_t *self)
{
    return self->type;
}
const char *ho_msg_id(const ho_msg_t *self)
{
    return self->id;
}
int64_t ho_msg_ts(const ho_msg_t *self)
{
    return self->ts;
}
const char *ho_msg_origin(const ho_msg_t *self)
{
    return self->origin;
}
json_t *ho_msg_payload(const ho_msg_t *self)
{
    if (!self->payload && self->raw) {
        /* logically const: the same payload, in the form the caller asks for */
        return ho_msg_materialize((ho_msg_t *)self);
    }
    return self->payload;
}

int ho_msg_payload_packed(const ho_msg_t *self, const char **buf_p, size_t *len_p, char **owned_p)
{
    *owned_p = NULL;
    if (self->raw) {
        *buf_p = self->raw;
        *len_p = self->raw_len;
        return HO_OK;
    }
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    if (s_pack_json(&pk, self->payload) != 0 || !sbuf.data) {
        msgpack_sbuffer_destroy(&sbuf);
        return HO_ERR_NOMEM;
    }
    *owned_p = sbuf.data;
    *buf_p = sbuf.data;
    *len_p = sbuf.size;
    return HO_OK;
}

const msgpack_object *ho_msg_payload_unpacked(const ho_msg_t *self)
{
    return self->pobj;
}

int ho_msg_set_payload_packed(ho_msg_t *self, char **buf_p, size_t len)
{
    char *buf = *buf_p;
    *buf_p = NULL;
    uint8_t b = buf && len ? (uint8_t)buf[0] : 0;
    bool map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    if (!map || len > HO_MSG_MAX_BODY) {
        free(buf);
        return HO_ERR_FIELD;
    }
    json_decref(self->payload);
    self->payload = NULL;
    ho_msg_raw_drop(self);
    self->raw_own = buf;
    self->raw = buf;
    self->raw_len = len;
    return HO_OK;
}
json_t *ho_msg_extra(const ho_msg_t *self)
{
    return self->extra;
}

static int s_replace(char **slot, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy) {
        return HO_ERR_NOMEM;
    }
    free(*slot);
    *slot = copy;
    return HO_OK;
}

int ho_msg_valid_id(const char *s, size_t len)
{
    if (len == 0 || len > HO_MSG_MAX_ID) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

int ho_msg_set_type(ho_msg_t *self, const char *type)
{
    if (!type || !ho_msg_valid_type(type, strlen(type))) {
        return HO_ERR_FIELD;
    }
    return s_replace(&self->type, type);
}

int ho_msg_set_id(ho_msg_t *self, const char *id)
{
    if (!id || !ho_msg_valid_id(id, strlen(id))) {
        return HO_ERR_FIELD;
    }
    return s_replace(&self->id, id);
}

void ho_msg_set_ts(ho_msg_t *self, int64_t ts_ms)
{
    self->ts = ts_ms;
}

int ho_msg_set_origin(ho_msg_t *self, const char *origin)
{
    size_t len = origin ? strlen(origin) : 0;
    if (len > HO_MSG_MAX_ORIGIN || (origin && !ho_msg_utf8_valid(origin, len))) {
        return HO_ERR_FIELD;
    }
    return s_replace(&self->origin, origin);
}

json_t *ho_msg_to_json(const ho_msg_t *self)
{
    json_t *obj = json_object();
    if (!obj) {
        return NULL;
    }
    json_object_set_new(obj, "v", json_integer(self->version));
    json_object_set_new(obj, "type", json_string(self->type));
    json_object_set_new(obj, "id", json_string(self->id));
    json_object_set_new(obj, "ts", json_integer(self->ts));
    json_object_set_new(obj, "origin", json_string(self->origin));
    json_t *payload = ho_msg_payload(self);
    if (!payload) {
        json_decref(obj);
        return NULL;
    }
    json_object_set_new(obj, "payload", json_deep_copy(payload));
    const char *key;
    json_t *item;
    json_object_foreach(self->extra, key, item)
    {
        json_object_set_new(obj, key, json_deep_copy(item));
    }
    return obj;
}

int ho_msg_from_json(const json_t *obj, ho_msg_t **msg_p, ho_err_t *err)
{
    *msg_p = NULL;
    if (!json_is_object(obj)) {
        return ho_err_set(err, HO_ERR_MALFORMED, "", "envelope is not a JSON object");
    }
    json_t *v = json_object_get(obj, "v");
    if (!v) {
        return ho_err_set(err, HO_ERR_MISSING, "v", "v: missing schema version");
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return ho_err_set(err, HO_ERR_FIELD, "v", "v: expected a positive integer");
    }
    if (json_integer_value(v) != HO_SCHEMA_VERSION) {
        return ho_err_set(err, HO_ERR_VERSION, "v",
                          "v: unsupported schema version %lld (this build speaks %d)",
                          (long long)json_integer_value(v), HO_SCHEMA_VERSION);
    }
    static const char *const names[] = {"type", "id", "ts", "payload"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!json_object_get(obj, names[i])) {
            return ho_err_set(err, HO_ERR_MISSING, names[i], "%s: missing", names[i]);
        }
    }
    json_t *ts = json_object_get(obj, "ts");
    json_t *origin = json_object_get(obj, "origin");
    if (!json_is_integer(ts) || json_integer_value(ts) < 0) {
        return ho_err_set(err, HO_ERR_FIELD, "ts",
                          "ts: expected milliseconds since the epoch (non-negative integer)");
    }
    if (origin && !json_is_string(origin)) {
        return ho_err_set(err, HO_ERR_FIELD, "origin", "origin: expected a string");
    }
    ho_msg_t *self = ho_msg_new("x");
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    int rc = HO_OK;
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (!type || ho_msg_set_type(self, type) != HO_OK) {
        rc = ho_err_set(err, HO_ERR_FIELD, "type", "type: must be 1-%d characters of a-z 0-9 . _ -",
                        HO_MSG_MAX_TYPE - 1);
    } else if (!id || ho_msg_set_id(self, id) != HO_OK) {
        rc = ho_err_set(err, HO_ERR_FIELD, "id", "id: must be 1-%d printable ASCII characters",
                        HO_MSG_MAX_ID);
    } else if (origin && ho_msg_set_origin(self, json_string_value(origin)) != HO_OK) {
        rc = ho_err_set(err, HO_ERR_FIELD, "origin", "origin: longer than %d bytes",
                        HO_MSG_MAX_ORIGIN);
    } else if (ho_msg_set_payload(self, json_deep_copy(json_object_get(obj, "payload"))) != HO_OK) {
        rc = ho_err_set(err, HO_ERR_FIELD, "payload", "payload: expected an object");
    }
    ho_msg_set_ts(self, json_integer_value(ts));
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)obj, key, item)
    {
        if (rc == HO_OK && strcmp(key, "v") && strcmp(key, "type") && strcmp(key, "id") &&
            strcmp(key, "ts") && strcmp(key, "origin") && strcmp(key, "payload")) {
            json_object_set_new(self->extra, key, json_deep_copy(item));
        }
    }
    if (rc != HO_OK) {
        ho_msg_destroy(&self);
        return rc;
    }
    *msg_p = self;
    return HO_OK;
}

int ho_msg_set_payload(ho_msg_t *self, json_t *payload)
{
    if (!json_is_object(payload)) {
        json_decref(payload);
        return HO_ERR_FIELD;
    }
    json_decref(self->payload);
    self->payload = payload;
    ho_msg_raw_drop(self);
    return HO_OK;
}

/* ---------------------------------------------------------------- encoding */

static int s_pack_json(msgpack_packer *pk, const json_t *value)
{
    /* every write checked: a writer that failed (out of memory) fails the whole packing */
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        if (msgpack_pack_map(pk, json_object_size(value)) != 0) {
            return -1;
        }
        json_object_foreach((json_t *)value, key, item)
        {
            size_t klen = strlen(key);
            if (msgpack_pack_str_with_body(pk, key, klen) != 0 || s_pack_json(pk, item) != 0) {
                return -1;
            }
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        if (msgpack_pack_array(pk, json_array_size(value)) != 0) {
            return -1;
        }
        json_array_foreach(value, i, item)
        {
            if (s_pack_json(pk, item) != 0) {
                return -1;
            }
        }
        return 0;
    }
    case JSON_STRING:
        return msgpack_pack_str_with_body(pk, json_string_value(value), json_string_length(value));
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, (int64_t)json_integer_value(value));
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(value));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    case JSON_NULL:
        return msgpack_pack_nil(pk);
    }
    return -1;
}

static void s_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static int s_pack_envelope(msgpack_packer *pk, const ho_msg_t *self)
{
    msgpack_pack_map(pk, 6 + json_object_size(self->extra));
    s_pack_cstr(pk, "v");
    msgpack_pack_unsigned_int(pk, self->version);
    s_pack_cstr(pk, "type");
    s_pack_cstr(pk, self->type);
    s_pack_cstr(pk, "id");
    s_pack_cstr(pk, self->id);
    s_pack_cstr(pk, "ts");
    msgpack_pack_int64(pk, self->ts);
    s_pack_cstr(pk, "origin");
    s_pack_cstr(pk, self->origin);
    s_pack_cstr(pk, "payload");
    if (self->raw ? pk->callback(pk->data, self->raw, self->raw_len) != 0
                  : s_pack_json(pk, self->payload) != 0) {
        return -1;
    }
    const char *key;
    json_t *item;
    json_object_foreach(self->extra, key, item)
    {
        s_pack_cstr(pk, key);
        if (s_pack_json(pk, item) != 0) {
            return -1;
        }
    }
    return 0;
}

int ho_msg_pack_json(msgpack_packer *pk, const json_t *value)
{
    return s_pack_json(pk, value) == 0 ? HO_OK : HO_ERR_NOMEM;
}

static int s_finish(msgpack_sbuffer *sbuf, int rc, char **buf_p, size_t *len_p)
{
    if (rc != 0 || !sbuf->data) {
        msgpack_sbuffer_destroy(sbuf);
        return rc != 0 ? HO_ERR_FIELD : HO_ERR_NOMEM;
    }
    *buf_p = sbuf->data; /* msgpack's sbuffer grows with realloc, so free() releases it */
    *len_p = sbuf->size;
    return HO_OK;
}

int ho_msg_encode(const ho_msg_t *self, char **buf_p, size_t *len_p)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    int rc = s_pack_envelope(&pk, self);
    return s_finish(&sbuf, rc, buf_p, len_p);
}

int ho_msg_encode_batch(ho_msg_t *const *msgs, size_t n, char **buf_p, size_t *len_p)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = s_pack_envelope(&pk, msgs[i]);
    }
    return s_finish(&sbuf, rc, buf_p, len_p);
}

void ho_msg_batch_free(ho_msg_t ***msgs_p, size_t n)
{
    if (!msgs_p || !*msgs_p) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ho_msg_destroy(&(*msgs_p)[i]);
    }
    free(*msgs_p);
    *msgs_p = NULL;
}
