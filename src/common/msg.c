/* msg.c - the envelope and its msgpack codec; see include/handoff/msg.h and
 * proto/handoff-protocol.md. The decoder validates the raw bytes before msgpack-c builds
 * objects (msg_check.c), so a hostile length prefix cannot make it allocate more than the
 * input justifies. */
#include "handoff/msg.h"

#include "common/msg_internal.h"

#include <msgpack.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct ho_msg {
    unsigned version;
    char *type;
    char *id;
    int64_t ts;
    char *origin;
    json_t *payload; /* NULL while the payload is held packed (raw) */
    json_t *extra;
    /* The payload as the msgpack bytes of one map, when it was decoded with
     * HO_MSG_RAW_PAYLOAD or set with ho_msg_set_payload_packed; ho_msg_payload turns it into
     * `payload` on first use. At most one of payload and raw is set. */
    char *raw;
    size_t raw_len;
};

static json_t *s_materialize(ho_msg_t *self);
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
    free(self->raw);
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
    if (self->raw) {
        copy->raw = malloc(self->raw_len);
        if (copy->raw) {
            memcpy(copy->raw, self->raw, self->raw_len);
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
        return s_materialize((ho_msg_t *)self);
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
    free(self->raw);
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

static int s_valid_id(const char *s, size_t len)
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
    if (!id || !s_valid_id(id, strlen(id))) {
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
    free(self->raw);
    self->raw = NULL;
    self->raw_len = 0;
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

/* ---------------------------------------------------------------- decoding */

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

/* Copy the bytes of the value of the index-th pair of the (validated) map at raw. */
static int s_raw_value(const uint8_t *raw, size_t raw_len, uint32_t index, char **out_p,
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
    *out_p = malloc(off - start);
    if (!*out_p) {
        return ho_err_set(err, HO_ERR_NOMEM, "payload", "payload: out of memory");
    }
    memcpy(*out_p, raw + start, off - start);
    *len_p = off - start;
    return HO_OK;
}

/* root: the envelope's objects; raw (NULL unless the payload is to stay packed): the same
 * envelope's bytes. */
static int s_envelope(const msgpack_object *root, const uint8_t *raw, size_t raw_len,
                      ho_msg_t **msg_p, ho_err_t *err)
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
            if (rc == HO_OK && !s_valid_id(self->id, strlen(self->id))) {
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

/* A packed payload turned into the jansson tree (it passed the decoder's checks, or came
 * from ho_msg_set_payload_packed); the bytes are dropped. NULL if that fails (out of memory,
 * or packed bytes the checks refuse), the message unchanged. */
static json_t *s_materialize(ho_msg_t *self)
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
    free(self->raw);
    self->raw = NULL;
    self->raw_len = 0;
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
    rc = s_envelope(&root, NULL, 0, msg_p, err);
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
    ho_msg_t **msgs = calloc(count ? count : 1, sizeof *msgs);
    msgpack_zone *zone = msgs ? s_zone_take(len) : NULL;
    if (!zone) {
        free(msgs);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
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
        if (s_envelope(&o, p + start, off - start, &msg, &item_err) == HO_OK) {
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
        if (s_envelope(o, NULL, 0, &msg, &item_err) == HO_OK) {
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
