/* test_msg.c - the envelope codec (src/common/msg.c) and the test vectors in proto/vectors/.
 *
 *   test_msg                 run the tests (vectors read from $HO_SOURCE_DIR/proto/vectors)
 *   test_msg --write DIR     regenerate DIR/<name>.hex + DIR/<name>.json from msg_vectors.h
 *                            and the hand-broken error vectors below
 *
 * A vector's .json is the decoded frame: an envelope object, an array for a batch, and
 * {"error": {"code", "field"}} where the codec must refuse the frame or an element (code is
 * ho_strerror's name; field is a prefix of the dotted path the error names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/msg.h"
#include "msg_vectors.h"

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char *data;
    size_t len;
} s_buf_t;

static void s_buf_free(s_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Pack any JSON value as msgpack, keeping key order (to build envelopes the encoder would
 * never write: wrong types, duplicate keys, ...). */
static void s_pack(msgpack_packer *pk, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        msgpack_pack_map(pk, json_object_size(v));
        json_object_foreach((json_t *)v, key, item)
        {
            msgpack_pack_str_with_body(pk, key, strlen(key));
            s_pack(pk, item);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        msgpack_pack_array(pk, json_array_size(v));
        json_array_foreach(v, i, item)
        {
            s_pack(pk, item);
        }
        break;
    }
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(v));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

static s_buf_t s_pack_text(const char *json_text)
{
    json_error_t jerr;
    json_t *v = json_loads(json_text, JSON_DECODE_ANY, &jerr);
    if (!v) {
        fprintf(stderr, "bad JSON in test: %s: %s\n", jerr.text, json_text);
    }
    assert_non_null(v);
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    s_pack(&pk, v);
    json_decref(v);
    s_buf_t b = {sbuf.data, sbuf.size};
    return b;
}

/* Replace the first occurrence of a marker inside an encoded frame. */
static void s_patch(s_buf_t *b, const char *marker, const void *with, size_t n)
{
    char *at = memmem(b->data, b->len, marker, strlen(marker));
    assert_non_null(at);
    memcpy(at, with, n);
}

static json_t *s_err_json(const ho_err_t *err)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", ho_strerror(err->code), "field", err->field);
}

typedef struct {
    json_t *arr;
    const ho_msg_t *const *msgs;
} s_collect_t;

static void s_on_error(size_t index, const ho_err_t *err, void *arg)
{
    json_t *errors = arg;
    json_t *e = s_err_json(err);
    json_object_set_new(e, "index", json_integer((json_int_t)index));
    json_array_append_new(errors, e);
}

/* What the codec makes of a frame, in the vector JSON form. */
static json_t *s_decode_json(const void *buf, size_t len)
{
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    json_t *errors = json_array();
    int rc = ho_msg_decode_frame(buf, len, &msgs, &n, s_on_error, errors, &err);
    if (rc != HO_OK) {
        json_decref(errors);
        return s_err_json(&err);
    }
    const uint8_t b0 = ((const uint8_t *)buf)[0];
    int is_batch = (b0 >= 0x90 && b0 <= 0x9f) || b0 == 0xdc || b0 == 0xdd;
    json_t *out;
    if (!is_batch) {
        out = n == 1 ? ho_msg_to_json(msgs[0]) : json_deep_copy(json_array_get(errors, 0));
        json_object_del(out, "index");
    } else {
        out = json_array();
        size_t good = 0, k = 0;
        size_t total = n + json_array_size(errors);
        for (size_t i = 0; i < total; i++) {
            json_t *e = json_array_get(errors, k);
            if (e && (size_t)json_integer_value(json_object_get(e, "index")) == i) {
                json_t *copy = json_deep_copy(e);
                json_object_del(copy, "index");
                json_array_append_new(out, copy);
                k++;
            } else {
                json_array_append_new(out, ho_msg_to_json(msgs[good++]));
            }
        }
    }
    json_decref(errors);
    ho_msg_batch_free(&msgs, n);
    return out;
}

static int s_has_error(const json_t *v)
{
    if (json_is_object(v)) {
        return json_object_get(v, "error") != NULL;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (json_object_get(item, "error")) {
            return 1;
        }
    }
    return 0;
}

/* Expected vs actual; an expected error's field is a prefix of the actual one. */
static int s_match(const json_t *want, const json_t *got)
{
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(want) != json_array_size(got)) {
            return 0;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            if (!s_match(json_array_get(want, i), json_array_get(got, i))) {
                return 0;
            }
        }
        return 1;
    }
    json_t *we = json_object_get(want, "error");
    if (we) {
        json_t *ge = json_object_get(got, "error");
        const char *wf = json_string_value(json_object_get(we, "field"));
        const char *gf = json_string_value(json_object_get(ge, "field"));
        return ge && json_equal(json_object_get(we, "code"), json_object_get(ge, "code")) && wf &&
               gf && strncmp(gf, wf, strlen(wf)) == 0;
    }
    return json_equal(want, got);
}

/* Encode a vector's JSON (object or array) the way the codec does. */
static int s_encode_json(const json_t *v, s_buf_t *out)
{
    if (json_is_object(v)) {
        ho_msg_t *m = NULL;
        ho_err_t err = {0};
        if (ho_msg_from_json(v, &m, &err) != HO_OK) {
            fprintf(stderr, "from_json: %s\n", err.message);
            return -1;
        }
        int rc = ho_msg_encode(m, &out->data, &out->len);
        ho_msg_destroy(&m);
        return rc;
    }
    size_t n = json_array_size(v);
    ho_msg_t **msgs = calloc(n ? n : 1, sizeof *msgs);
    int rc = HO_OK;
    for (size_t i = 0; i < n && rc == HO_OK; i++) {
        rc = ho_msg_from_json(json_array_get(v, i), &msgs[i], NULL);
    }
    if (rc == HO_OK) {
        rc = ho_msg_encode_batch(msgs, n, &out->data, &out->len);
    }
    ho_msg_batch_free(&msgs, n);
    return rc;
}

static char *s_read_file(const char *path, size_t *len_p)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)len + 1);
    size_t got = fread(data, 1, (size_t)len, f);
    fclose(f);
    data[got] = '\0';
    *len_p = got;
    return data;
}

static s_buf_t s_read_hex(const char *path)
{
    size_t len = 0;
    char *text = s_read_file(path, &len);
    assert_non_null(text);
    s_buf_t b = {malloc(len / 2 + 1), 0};
    int hi = -1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) {
            continue; /* whitespace and line breaks */
        }
        if (hi < 0) {
            hi = v;
        } else {
            b.data[b.len++] = (char)(hi << 4 | v);
            hi = -1;
        }
    }
    free(text);
    return b;
}

/* ---------------------------------------------------------------- vectors: the error ones */

typedef struct {
    const char *name;
    s_buf_t (*make)(void);
    const char *json; /* expected decode */
} s_bad_vector_t;

static const char *s_small =
    "{\"v\":1,\"type\":\"lead.forget\",\"id\":\"forget-1\",\"ts\":1795046411000,\"origin\":"
    "\"cli@laptop:9\",\"payload\":{\"email\":\"XXXXa@example.com\"}}";

static s_buf_t s_mk_version(void)
{
    return s_pack_text("{\"v\":2,\"type\":\"lead.forget\",\"id\":\"forget-1\",\"ts\":1,"
                       "\"payload\":{\"email\":\"a@example.com\"},\"shape\":\"v2-layout\"}");
}

static s_buf_t s_mk_truncated(void)
{
    s_buf_t b = s_pack_text(s_small);
    b.len -= 1;
    return b;
}

static s_buf_t s_mk_not_msgpack(void)
{
    s_buf_t b = {malloc(4), 4};
    memcpy(b.data, "\xc1\x00\x01\x02", 4);
    return b;
}

static s_buf_t s_mk_trailing(void)
{
    s_buf_t b = s_pack_text(s_small);
    b.data = realloc(b.data, b.len + 1);
    b.data[b.len++] = 0x00;
    return b;
}

static s_buf_t s_mk_bad_utf8(void)
{
    s_buf_t b = s_pack_text(s_small);
    s_patch(&b, "XXXX", "\xc3\x28\xff\xfe", 4); /* broken 2-byte sequence, then 0xff 0xfe */
    return b;
}

static s_buf_t s_mk_ts_string(void)
{
    return s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":\"2026-11-23\","
                       "\"origin\":\"clock\",\"payload\":{\"now\":1}}");
}

static s_buf_t s_mk_negative_ts(void)
{
    return s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":-5,"
                       "\"origin\":\"clock\",\"payload\":{\"now\":1}}");
}

static s_buf_t s_mk_payload_array(void)
{
    return s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":5,"
                       "\"origin\":\"clock\",\"payload\":[1,2]}");
}

static s_buf_t s_mk_missing_type(void)
{
    return s_pack_text("{\"v\":1,\"id\":\"tick-1\",\"ts\":5,\"payload\":{}}");
}

static s_buf_t s_mk_bad_type(void)
{
    return s_pack_text("{\"v\":1,\"type\":\"Lead Raw\",\"id\":\"x-1\",\"ts\":5,\"payload\":{}}");
}

static s_buf_t s_mk_duplicate(void)
{
    /* jansson cannot hold a duplicate key: rename a placeholder after packing */
    s_buf_t b = s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":5,\"tyQQ\":"
                            "\"store\",\"payload\":{}}");
    s_patch(&b, "tyQQ", "type", 4);
    return b;
}

static s_buf_t s_mk_bin(void)
{
    s_buf_t b = s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":5,\"payload\":"
                            "{\"blob\":\"BBBB\"}}");
    s_patch(&b,
            "\xa4"
            "BBBB",
            "\xc4\x03"
            "abc",
            5); /* fixstr "BBBB" -> bin8 of 3 bytes: same length */
    return b;
}

static s_buf_t s_mk_deep(void)
{
    char text[512] = "{\"v\":1,\"type\":\"tick\",\"id\":\"tick-1\",\"ts\":5,\"payload\":{\"a\":";
    for (int i = 0; i < HO_MSG_MAX_DEPTH + 4; i++) {
        strcat(text, "[");
    }
    for (int i = 0; i < HO_MSG_MAX_DEPTH + 4; i++) {
        strcat(text, "]");
    }
    strcat(text, "}}");
    return s_pack_text(text);
}

static s_buf_t s_mk_not_envelope(void)
{
    return s_pack_text("42");
}

static s_buf_t s_mk_batch_one_bad(void)
{
    char text[2048];
    snprintf(text, sizeof text, "[%s,%s,%s]", S_CSV_LEAD("1", "2", 1795046400000, "a@example.com"),
             S_CSV_LEAD("2", "3", 1795046400001, "b@example.com"),
             S_CSV_LEAD("3", "4", 1795046400002, "c@example.com"));
    s_buf_t b = s_pack_text(text);
    /* break element 1: its email becomes invalid UTF-8 */
    s_patch(&b, "b@example.com", "\xff@example.com", 1);
    return b;
}

static const s_bad_vector_t s_bad_vectors[] = {
    {"err_unknown_version", s_mk_version, "{\"error\":{\"code\":\"version\",\"field\":\"v\"}}"},
    {"err_truncated", s_mk_truncated, "{\"error\":{\"code\":\"truncated\",\"field\":\"\"}}"},
    {"err_not_msgpack", s_mk_not_msgpack, "{\"error\":{\"code\":\"malformed\",\"field\":\"\"}}"},
    {"err_trailing_bytes", s_mk_trailing, "{\"error\":{\"code\":\"malformed\",\"field\":\"\"}}"},
    {"err_not_envelope", s_mk_not_envelope, "{\"error\":{\"code\":\"malformed\",\"field\":\"\"}}"},
    {"err_bad_utf8", s_mk_bad_utf8,
     "{\"error\":{\"code\":\"bad field\",\"field\":\"payload.email\"}}"},
    {"err_ts_string", s_mk_ts_string, "{\"error\":{\"code\":\"bad field\",\"field\":\"ts\"}}"},
    {"err_ts_negative", s_mk_negative_ts, "{\"error\":{\"code\":\"bad field\",\"field\":\"ts\"}}"},
    {"err_payload_array", s_mk_payload_array,
     "{\"error\":{\"code\":\"bad field\",\"field\":\"payload\"}}"},
    {"err_missing_type", s_mk_missing_type,
     "{\"error\":{\"code\":\"missing\",\"field\":\"type\"}}"},
    {"err_bad_type", s_mk_bad_type, "{\"error\":{\"code\":\"bad field\",\"field\":\"type\"}}"},
    {"err_duplicate_key", s_mk_duplicate,
     "{\"error\":{\"code\":\"bad field\",\"field\":\"type\"}}"},
    {"err_bin_value", s_mk_bin, "{\"error\":{\"code\":\"bad field\",\"field\":\"payload.blob\"}}"},
    {"err_too_deep", s_mk_deep, "{\"error\":{\"code\":\"too large\",\"field\":\"\"}}"},
    {"batch_one_bad", s_mk_batch_one_bad, NULL}, /* expected built in s_bad_expected */
    {NULL, NULL, NULL}};

static json_t *s_bad_expected(const s_bad_vector_t *v)
{
    if (v->json) {
        return json_loads(v->json, 0, NULL);
    }
    /* batch_one_bad: elements 0 and 2 survive, element 1 is named */
    char text[2048];
    snprintf(text, sizeof text, "[%s,%s,%s]", S_CSV_LEAD("1", "2", 1795046400000, "a@example.com"),
             "{\"error\":{\"code\":\"bad field\",\"field\":\"payload.fields.email\"}}",
             S_CSV_LEAD("3", "4", 1795046400002, "c@example.com"));
    return json_loads(text, 0, NULL);
}

/* ---------------------------------------------------------------- --write */

static int s_write_hex(const char *path, const s_buf_t *b)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    for (size_t i = 0; i < b->len; i++) {
        fprintf(f, "%02x%s", (unsigned char)b->data[i],
                (i % 32 == 31 || i + 1 == b->len) ? "\n" : "");
    }
    fclose(f);
    return 0;
}

static int s_write_json(const char *path, const json_t *v)
{
    return json_dump_file(v, path, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : -1;
}

static int s_write(const char *dir)
{
    char path[1024];
    int count = 0;
    for (const s_vector_t *v = s_vectors; v->name; v++) {
        json_t *j = json_loads(v->json, 0, NULL);
        s_buf_t b = {0};
        if (!j || s_encode_json(j, &b) != HO_OK) {
            fprintf(stderr, "vector %s: cannot encode\n", v->name);
            return 1;
        }
        json_t *back = s_decode_json(b.data, b.len);
        if (!json_equal(back, j)) {
            fprintf(stderr, "vector %s: does not round-trip\n", v->name);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s.hex", dir, v->name);
        s_write_hex(path, &b);
        snprintf(path, sizeof path, "%s/%s.json", dir, v->name);
        s_write_json(path, j);
        json_decref(back);
        json_decref(j);
        s_buf_free(&b);
        count++;
    }
    for (const s_bad_vector_t *v = s_bad_vectors; v->name; v++) {
        s_buf_t b = v->make();
        json_t *want = s_bad_expected(v);
        json_t *got = s_decode_json(b.data, b.len);
        if (!s_match(want, got)) {
            char *g = json_dumps(got, 0);
            fprintf(stderr, "vector %s: decoder says %s\n", v->name, g);
            free(g);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s.hex", dir, v->name);
        s_write_hex(path, &b);
        snprintf(path, sizeof path, "%s/%s.json", dir, v->name);
        s_write_json(path, want);
        json_decref(want);
        json_decref(got);
        s_buf_free(&b);
        count++;
    }
    printf("wrote %d vectors to %s\n", count, dir);
    return 0;
}

/* ---------------------------------------------------------------- tests */

static const char *s_vector_dir(void)
{
    static char dir[1024];
    const char *src = getenv("HO_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/proto/vectors", src ? src : HO_SOURCE_DIR);
    return dir;
}

/* The next vector file of d (*.hex): its entry, and its bytes in *b; NULL at the end. */
static struct dirent *s_next_vector(DIR *d, s_buf_t *b)
{
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n >= 5 && strcmp(e->d_name + n - 4, ".hex") == 0) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", s_vector_dir(), e->d_name);
            *b = s_read_hex(path);
            return e;
        }
    }
    return NULL;
}

static void test_vectors_round_trip(void **state)
{
    DIR *d = opendir(s_vector_dir());
    assert_non_null(d);
    struct dirent *e;
    int checked = 0, encoded = 0;
    s_buf_t b;
    while ((e = s_next_vector(d, &b)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[2048];
        snprintf(path, sizeof path, "%s/%.*s.json", s_vector_dir(), (int)(n - 4), e->d_name);
        json_error_t jerr;
        json_t *want = json_load_file(path, 0, &jerr);
        if (!want) {
            fail_msg("%s: %s", path, jerr.text);
        }
        /* decode(hex) == json */
        json_t *got = s_decode_json(b.data, b.len);
        if (!s_match(want, got)) {
            char *g = json_dumps(got, 0);
            fail_msg("%s: decoded to %s", e->d_name, g);
        }
        /* encode(json) == hex, byte for byte */
        if (!s_has_error(want)) {
            s_buf_t again = {0};
            assert_int_equal(s_encode_json(want, &again), HO_OK);
            if (again.len != b.len || memcmp(again.data, b.data, b.len) != 0) {
                fail_msg("%s: encoding differs from the vector", e->d_name);
            }
            s_buf_free(&again);
            encoded++;
        }
        json_decref(want);
        json_decref(got);
        s_buf_free(&b);
        checked++;
    }
    closedir(d);
    /* every table entry has its files */
    int expected = 0;
    for (const s_vector_t *v = s_vectors; v->name; v++) {
        expected++;
    }
    for (const s_bad_vector_t *v = s_bad_vectors; v->name; v++) {
        expected++;
    }
    assert_int_equal(checked, expected);
    assert_true(encoded >= 24);
}

/* The vectors in the table still agree with the codec of this build (catches a table edit
 * that was not followed by --write). */
static void test_vector_table_matches_files(void **state)
{
    for (const s_vector_t *v = s_vectors; v->name; v++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s.hex", s_vector_dir(), v->name);
        s_buf_t file = s_read_hex(path);
        json_t *j = json_loads(v->json, 0, NULL);
        assert_non_null(j);
        s_buf_t b = {0};
        assert_int_equal(s_encode_json(j, &b), HO_OK);
        assert_int_equal(b.len, file.len);
        assert_memory_equal(b.data, file.data, b.len);
        s_buf_free(&b);
        s_buf_free(&file);
        json_decref(j);
    }
}

/* Every message type of the catalog, through encode -> decode -> encode in memory. */
static void test_every_catalog_type_round_trips(void **state)
{
    static const char *types[] = {"lead.raw",
                                  "lead.normalized",
                                  "activity.raw",
                                  "activity.normalized",
                                  "score.request",
                                  "lead.scored",
                                  "route.request",
                                  "lead.assigned",
                                  "handoff.ready",
                                  "feedback.raw",
                                  "lead.outcome",
                                  "tick",
                                  "sla.breach",
                                  "rep.reminder",
                                  "report.request",
                                  "report.ready",
                                  "dead.letter",
                                  "status",
                                  "quarantine",
                                  "lead.forget",
                                  "lead.forgotten",
                                  "dlq.replay",
                                  "dlq.replayed",
                                  "error",
                                  NULL};
    for (const char **t = types; *t; t++) {
        const s_vector_t *found = NULL;
        for (const s_vector_t *v = s_vectors; v->name; v++) {
            json_t *j = json_loads(v->json, 0, NULL);
            if (json_is_object(j) &&
                strcmp(json_string_value(json_object_get(j, "type")), *t) == 0) {
                found = v;
            }
            json_decref(j);
        }
        if (!found) {
            fail_msg("no vector for message type %s", *t);
        }
        json_t *j = json_loads(found->json, 0, NULL);
        ho_msg_t *m = NULL;
        assert_int_equal(ho_msg_from_json(j, &m, NULL), HO_OK);
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(ho_msg_encode(m, &buf, &len), HO_OK);
        ho_msg_t *back = NULL;
        ho_err_t err = {0};
        assert_int_equal(ho_msg_decode(buf, len, &back, &err), HO_OK);
        assert_string_equal(ho_msg_type(back), *t);
        assert_string_equal(ho_msg_id(back), ho_msg_id(m));
        assert_true(ho_msg_ts(back) == ho_msg_ts(m));
        assert_string_equal(ho_msg_origin(back), ho_msg_origin(m));
        assert_true(json_equal(ho_msg_payload(back), ho_msg_payload(m)));
        char type[HO_MSG_MAX_TYPE];
        assert_int_equal(ho_msg_peek_type(buf, len, type, sizeof type), HO_OK);
        assert_string_equal(type, *t);
        free(buf);
        ho_msg_destroy(&back);
        ho_msg_destroy(&m);
        json_decref(j);
    }
}

static void test_truncated_at_every_offset(void **state)
{
    for (const s_vector_t *v = s_vectors; v->name; v++) {
        json_t *j = json_loads(v->json, 0, NULL);
        s_buf_t b = {0};
        assert_int_equal(s_encode_json(j, &b), HO_OK);
        for (size_t cut = 0; cut < b.len; cut++) {
            ho_msg_t **msgs = NULL;
            size_t n = 0;
            ho_err_t err = {0};
            int rc = ho_msg_decode_frame(b.data, cut, &msgs, &n, NULL, NULL, &err);
            if (rc != HO_ERR_TRUNCATED) {
                fail_msg("%s cut at %zu of %zu: rc=%d (%s)", v->name, cut, b.len, rc, err.message);
            }
            assert_null(msgs);
            /* the message says where */
            assert_true(cut == 0 || strstr(err.message, "truncated") != NULL);
            char type[HO_MSG_MAX_TYPE];
            rc = ho_msg_peek_type(b.data, cut, type, sizeof type);
            assert_true(rc == HO_OK || rc < 0); /* may find the type before the cut */
        }
        s_buf_free(&b);
        json_decref(j);
    }
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 11);
}

static void test_garbage_never_crashes(void **state)
{
    uint8_t buf[512];
    int ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 1 + s_rand() % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)s_rand();
        }
        /* bias towards container headers so the walker gets exercised */
        if (iter % 3 == 0) {
            buf[0] = (uint8_t)(0x80 | (s_rand() & 0x1f));
        }
        ho_msg_t **msgs = NULL;
        size_t n = 0;
        ho_err_t err = {0};
        int rc = ho_msg_decode_frame(buf, len, &msgs, &n, NULL, NULL, &err);
        if (rc == HO_OK) {
            ok++;
            ho_msg_batch_free(&msgs, n);
        } else {
            assert_true(rc < 0);
            assert_true(err.message[0] != '\0');
        }
        char type[HO_MSG_MAX_TYPE];
        rc = ho_msg_peek_type(buf, len, type, sizeof type);
        assert_true(rc <= 0);
        if (rc == HO_OK) {
            assert_true(strlen(type) < sizeof type);
        }
    }
    (void)ok;
}

static void test_mutated_vectors_never_crash(void **state)
{
    /* every single-byte change of a real envelope: decoded, refused or peeked, never a crash */
    json_t *j = json_loads(s_vectors[0].json, 0, NULL);
    s_buf_t b = {0};
    assert_int_equal(s_encode_json(j, &b), HO_OK);
    static const uint8_t values[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4,
                                     0xcc, 0xcf, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff};
    for (size_t i = 0; i < b.len; i++) {
        uint8_t keep = (uint8_t)b.data[i];
        for (size_t k = 0; k < sizeof values; k++) {
            b.data[i] = (char)values[k];
            ho_msg_t **msgs = NULL;
            size_t n = 0;
            if (ho_msg_decode_frame(b.data, b.len, &msgs, &n, NULL, NULL, NULL) == HO_OK) {
                ho_msg_batch_free(&msgs, n);
            }
            char type[HO_MSG_MAX_TYPE];
            ho_msg_peek_type(b.data, b.len, type, sizeof type);
        }
        b.data[i] = (char)keep;
    }
    s_buf_free(&b);
    json_decref(j);
}

static void test_oversized(void **state)
{
    size_t len = HO_MSG_MAX_BODY + 1;
    char *big = calloc(1, len);
    big[0] = (char)0x81;
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode_frame(big, len, &msgs, &n, NULL, NULL, &err), HO_ERR_TOO_LARGE);
    assert_non_null(strstr(err.message, "exceeds the limit"));
    ho_msg_t *m = NULL;
    assert_int_equal(ho_msg_decode(big, len, &m, &err), HO_ERR_TOO_LARGE);
    free(big);

    /* a length prefix claiming 4 GiB in a 6-byte frame: refused, nothing allocated for it */
    const char str32[] = "\x81\xdb\xff\xff\xff\xff";
    assert_int_equal(ho_msg_decode_frame(str32, 6, &msgs, &n, NULL, NULL, &err), HO_ERR_TRUNCATED);
    const char arr32[] = "\xdd\xff\xff\xff\xff\x80";
    assert_int_equal(ho_msg_decode_frame(arr32, 6, &msgs, &n, NULL, NULL, &err), HO_ERR_TRUNCATED);
    const char map32[] = "\xdf\x7f\xff\xff\xff\xa1v";
    assert_int_equal(ho_msg_decode_frame(map32, 7, &msgs, &n, NULL, NULL, &err), HO_ERR_TRUNCATED);

    /* a string longer than its limit is refused by field */
    char id[HO_MSG_MAX_ID + 2];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    m = ho_msg_new("tick");
    assert_int_equal(ho_msg_set_id(m, id), HO_ERR_FIELD);
    id[HO_MSG_MAX_ID] = '\0';
    assert_int_equal(ho_msg_set_id(m, id), HO_OK);
    ho_msg_destroy(&m);
}

/* An envelope whose payload holds `depth` nested arrays, as raw msgpack (0x91 = [x]). */
static s_buf_t s_nested(size_t depth)
{
    s_buf_t head = s_pack_text("{\"v\":1,\"type\":\"tick\",\"id\":\"t-1\",\"ts\":5,"
                               "\"payload\":{\"a\":0}}");
    s_buf_t b = {malloc(head.len + depth), 0};
    memcpy(b.data, head.data, head.len - 1); /* all but the final 0 */
    b.len = head.len - 1;
    memset(b.data + b.len, 0x91, depth - 1);
    b.len += depth - 1;
    b.data[b.len++] = 0x00;
    s_buf_free(&head);
    return b;
}

static void test_nesting_limit(void **state)
{
    /* {"a": [[...]]}: payload is depth 0, its value depth 1, each array one more */
    char text[512];
    for (int depth = HO_MSG_MAX_DEPTH - 1; depth <= HO_MSG_MAX_DEPTH + 1; depth++) {
        snprintf(text, sizeof text,
                 "{\"v\":1,\"type\":\"tick\",\"id\":\"t-1\",\"ts\":5,"
                 "\"payload\":{\"a\":");
        for (int i = 1; i < depth; i++) {
            strcat(text, "[");
        }
        strcat(text, "1");
        for (int i = 1; i < depth; i++) {
            strcat(text, "]");
        }
        strcat(text, "}}");
        s_buf_t b = s_pack_text(text);
        ho_msg_t *m = NULL;
        ho_err_t err = {0};
        int rc = ho_msg_decode(b.data, b.len, &m, &err);
        if (depth <= HO_MSG_MAX_DEPTH) {
            assert_int_equal(rc, HO_OK);
            /* inside a batch (one more level) it still decodes */
            char *buf = NULL;
            size_t len = 0;
            assert_int_equal(ho_msg_encode_batch(&m, 1, &buf, &len), HO_OK);
            ho_msg_t **msgs = NULL;
            size_t n = 0;
            assert_int_equal(ho_msg_decode_frame(buf, len, &msgs, &n, NULL, NULL, &err), HO_OK);
            assert_int_equal(n, 1);
            ho_msg_batch_free(&msgs, n);
            free(buf);
        } else {
            assert_int_equal(rc, HO_ERR_TOO_LARGE);
            assert_non_null(strstr(err.message, "nested deeper"));
            assert_non_null(strstr(err.field, "payload.a"));
        }
        ho_msg_destroy(&m);
        s_buf_free(&b);
    }
    /* far too deep: the raw walker stops it before any object is built */
    s_buf_t b = s_nested(100000);
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_TOO_LARGE);
    s_buf_free(&b);
}

static void s_expect_field_error(const char *json_text, int code, const char *field)
{
    s_buf_t b = s_pack_text(json_text);
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    int rc = ho_msg_decode(b.data, b.len, &m, &err);
    if (rc != code || strcmp(err.field, field) != 0) {
        fail_msg("%s: rc=%d field=%s (%s), wanted rc=%d field=%s", json_text, rc, err.field,
                 err.message, code, field);
    }
    /* the message names the field too */
    assert_true(field[0] == '\0' || strstr(err.message, field) != NULL);
    assert_null(m);
    s_buf_free(&b);
}

static void test_wrong_types_per_field(void **state)
{
#define E(rest) "{\"v\":1,\"type\":\"tick\",\"id\":\"t-1\",\"ts\":5,\"payload\":{}" rest "}"
    s_expect_field_error("{\"v\":\"1\",\"type\":\"tick\",\"id\":\"t\",\"ts\":5,\"payload\":{}}",
                         HO_ERR_FIELD, "v");
    s_expect_field_error("{\"v\":1.0,\"type\":\"tick\",\"id\":\"t\",\"ts\":5,\"payload\":{}}",
                         HO_ERR_FIELD, "v");
    s_expect_field_error("{\"v\":1,\"type\":7,\"id\":\"t\",\"ts\":5,\"payload\":{}}", HO_ERR_FIELD,
                         "type");
    s_expect_field_error("{\"v\":1,\"type\":\"\",\"id\":\"t\",\"ts\":5,\"payload\":{}}",
                         HO_ERR_FIELD, "type");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":7,\"ts\":5,\"payload\":{}}",
                         HO_ERR_FIELD, "id");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":\"has space\",\"ts\":5,\"payload\":{}}",
                         HO_ERR_FIELD, "id");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":\"t\",\"ts\":5.5,\"payload\":{}}",
                         HO_ERR_FIELD, "ts");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":\"t\",\"ts\":5,\"payload\":\"x\"}",
                         HO_ERR_FIELD, "payload");
    s_expect_field_error(E(",\"origin\":5"), HO_ERR_FIELD, "origin");
    s_expect_field_error("{\"type\":\"tick\",\"id\":\"t\",\"ts\":5,\"payload\":{}}", HO_ERR_MISSING,
                         "v");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"ts\":5,\"payload\":{}}", HO_ERR_MISSING,
                         "id");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":\"t\",\"payload\":{}}", HO_ERR_MISSING,
                         "ts");
    s_expect_field_error("{\"v\":1,\"type\":\"tick\",\"id\":\"t\",\"ts\":5}", HO_ERR_MISSING,
                         "payload");
    /* a payload value the JSON model cannot hold: u64 above INT64_MAX */
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "type", 4);
    msgpack_pack_str_with_body(&pk, "tick", 4);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_str_with_body(&pk, "ts", 2);
    msgpack_pack_uint64(&pk, 5);
    msgpack_pack_str_with_body(&pk, "payload", 7);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    assert_int_equal(ho_msg_decode(sbuf.data, sbuf.size, &m, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "payload.n");
    msgpack_sbuffer_destroy(&sbuf);
    /* a map key that is not a string */
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, 1);
    assert_int_equal(ho_msg_decode(sbuf.data, sbuf.size, &m, &err), HO_ERR_FIELD);
    msgpack_sbuffer_destroy(&sbuf);
#undef E
}

static void test_unknown_version(void **state)
{
    s_buf_t b = s_pack_text("{\"type\":5,\"v\":2,\"id\":\"t\",\"ts\":5,\"payload\":{}}");
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    /* reported as a version problem even though "type" (before "v") is also wrong */
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_VERSION);
    assert_string_equal(err.field, "v");
    assert_non_null(strstr(err.message, "unsupported schema version 2"));
    assert_string_equal(ho_strerror(err.code), "version");
    s_buf_free(&b);
}

static void test_unknown_fields_preserved(void **state)
{
    const char *text = "{\"v\":1,\"type\":\"lead.raw\",\"id\":\"l-1\",\"ts\":5,\"origin\":\"o\","
                       "\"payload\":{\"x\":1},\"trace\":{\"hops\":[\"a\",\"b\"]},\"prio\":5}";
    s_buf_t b = s_pack_text(text);
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_OK);
    json_t *extra = ho_msg_extra(m);
    assert_int_equal(json_object_size(extra), 2);
    assert_int_equal(json_integer_value(json_object_get(extra, "prio")), 5);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(ho_msg_encode(m, &buf, &len), HO_OK);
    /* same bytes: key order and every unknown key survive a hop */
    assert_int_equal(len, b.len);
    assert_memory_equal(buf, b.data, len);
    /* and through dup and a batch */
    ho_msg_t *copy = ho_msg_dup(m);
    ho_msg_t *two[2] = {m, copy};
    free(buf);
    assert_int_equal(ho_msg_encode_batch(two, 2, &buf, &len), HO_OK);
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    assert_int_equal(ho_msg_decode_frame(buf, len, &msgs, &n, NULL, NULL, &err), HO_OK);
    assert_int_equal(n, 2);
    assert_true(json_equal(ho_msg_extra(msgs[1]), extra));
    ho_msg_batch_free(&msgs, n);
    free(buf);
    ho_msg_destroy(&copy);
    ho_msg_destroy(&m);
    s_buf_free(&b);
}

static void test_empty_strings_and_keys(void **state)
{
    /* found by fuzz_msg: zero-length str keys (msgpack-c may give them a NULL pointer) */
    const char *text = "{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"origin\":\"\","
                       "\"payload\":{\"\":\"\",\"a\":{\"\":[\"\"]}},\"\":\"\"}";
    s_buf_t b = s_pack_text(text);
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_OK);
    assert_string_equal(json_string_value(json_object_get(ho_msg_payload(m), "")), "");
    assert_non_null(json_object_get(ho_msg_extra(m), ""));
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(ho_msg_encode(m, &buf, &len), HO_OK);
    assert_int_equal(len, b.len);
    assert_memory_equal(buf, b.data, len);
    free(buf);
    ho_msg_destroy(&m);
    s_buf_free(&b);
}

static void test_invalid_utf8_named_by_field(void **state)
{
    struct {
        const char *json;
        const char *marker;
        const char *field;
    } cases[] = {
        {"{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{\"fields\":{\"email\":"
         "\"QQ@x\"}}}",
         "QQ", "payload.fields.email"},
        {"{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"origin\":\"QQ\",\"payload\":{}}", "QQ",
         "origin"},
        {"{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{\"list\":[\"ok\",\"QQ\"]}}",
         "QQ", "payload.list[1]"},
        {"{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{\"QQkey\":1}}", "QQ",
         "payload."},
    };
    /* 0xed 0xa0 starts a UTF-16 surrogate (U+D800): not valid UTF-8 */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_buf_t b = s_pack_text(cases[i].json);
        s_patch(&b, cases[i].marker, "\xed\xa0", 2);
        ho_msg_t *m = NULL;
        ho_err_t err = {0};
        assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_FIELD);
        if (strncmp(err.field, cases[i].field, strlen(cases[i].field)) != 0) {
            fail_msg("case %zu: field %s, wanted %s", i, err.field, cases[i].field);
        }
        assert_non_null(strstr(err.message, "UTF-8"));
        s_buf_free(&b);
    }
    /* an overlong encoding of '/' is not UTF-8 either */
    s_buf_t b = s_pack_text(
        "{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"origin\":\"QQ\",\"payload\":{}}");
    s_patch(&b, "QQ", "\xc0\xaf", 2);
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "origin");
    s_buf_free(&b);
    /* the setter refuses what the decoder would */
    m = ho_msg_new("tick");
    assert_int_equal(ho_msg_set_origin(m, "bad \xff"), HO_ERR_FIELD);
    assert_int_equal(ho_msg_set_origin(m, "K\xc3\xb6ln@host:1"), HO_OK);
    ho_msg_destroy(&m);
}

typedef struct {
    size_t calls;
    size_t index;
    char field[96];
} s_errs_t;

static void s_record(size_t index, const ho_err_t *err, void *arg)
{
    s_errs_t *e = arg;
    e->calls++;
    e->index = index;
    snprintf(e->field, sizeof e->field, "%s", err->field);
}

static void test_batch_with_one_bad_element(void **state)
{
    char text[2048];
    snprintf(text, sizeof text, "[%s,%s,%s,%s]",
             S_CSV_LEAD("1", "2", 1795046400000, "a@example.com"),
             "{\"v\":1,\"type\":\"lead.raw\",\"id\":\"lead-csv-2\",\"ts\":\"yesterday\","
             "\"payload\":{}}",
             S_CSV_LEAD("3", "4", 1795046400002, "c@example.com"), "\"not a map\"");
    s_buf_t b = s_pack_text(text);
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    s_errs_t errs = {0};
    assert_int_equal(ho_msg_decode_frame(b.data, b.len, &msgs, &n, s_record, &errs, &err), HO_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ho_msg_id(msgs[0]), "lead-csv-1");
    assert_string_equal(ho_msg_id(msgs[1]), "lead-csv-3");
    assert_int_equal(errs.calls, 2);
    assert_int_equal(errs.index, 3); /* the last one reported: "not a map" */
    ho_msg_batch_free(&msgs, n);

    /* the bad element's own bytes can be cut out of the frame for quarantine */
    size_t off = 0, len = 0;
    assert_int_equal(ho_msg_frame_element(b.data, b.len, 1, &off, &len), HO_OK);
    ho_msg_t *one = NULL;
    assert_int_equal(ho_msg_decode(b.data + off, len, &one, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "ts");
    assert_int_equal(ho_msg_frame_element(b.data, b.len, 2, &off, &len), HO_OK);
    assert_int_equal(ho_msg_decode(b.data + off, len, &one, &err), HO_OK);
    assert_string_equal(ho_msg_id(one), "lead-csv-3");
    ho_msg_destroy(&one);
    assert_int_equal(ho_msg_frame_element(b.data, b.len, 4, &off, &len), HO_ERR_NOT_FOUND);
    /* a single envelope is element 0 of itself */
    s_buf_t single = s_pack_text(s_small);
    assert_int_equal(ho_msg_frame_element(single.data, single.len, 0, &off, &len), HO_OK);
    assert_int_equal(off, 0);
    assert_int_equal(len, single.len);
    s_buf_free(&single);
    s_buf_free(&b);
}

static void test_peek_type(void **state)
{
    char type[HO_MSG_MAX_TYPE];
    s_buf_t map = s_pack_text(s_small);
    assert_int_equal(ho_msg_peek_type(map.data, map.len, type, sizeof type), HO_OK);
    assert_string_equal(type, "lead.forget");
    /* too small a buffer: refused, never overflowed */
    char tiny[4];
    assert_int_equal(ho_msg_peek_type(map.data, map.len, tiny, sizeof tiny), HO_ERR_FIELD);
    s_buf_free(&map);

    /* a batch: the first element's type */
    char text[2048];
    snprintf(text, sizeof text, "[%s,%s]", S_CSV_LEAD("1", "2", 1, "a@example.com"),
             "{\"type\":\"tick\"}");
    s_buf_t batch = s_pack_text(text);
    assert_int_equal(ho_msg_peek_type(batch.data, batch.len, type, sizeof type), HO_OK);
    assert_string_equal(type, "lead.raw");
    s_buf_free(&batch);

    /* type after big values: they are skipped, not decoded */
    s_buf_t late = s_pack_text("{\"payload\":{\"a\":[1,2,{\"b\":\"c\"}],\"d\":1.5},\"v\":1,"
                               "\"type\":\"report.ready\"}");
    assert_int_equal(ho_msg_peek_type(late.data, late.len, type, sizeof type), HO_OK);
    assert_string_equal(type, "report.ready");
    s_buf_free(&late);

    struct {
        const char *bytes;
        size_t len;
        int rc;
    } bad[] = {
        {"", 0, HO_ERR_TRUNCATED},
        {"\xc1", 1, HO_ERR_MALFORMED},
        {"\x2a", 1, HO_ERR_MALFORMED},             /* an integer */
        {"\x80", 1, HO_ERR_MISSING},               /* {} */
        {"\x90", 1, HO_ERR_TRUNCATED},             /* [] has no first element */
        {"\x81\xa4type\x05", 7, HO_ERR_FIELD},     /* type is not a string */
        {"\x81\xa4type\xa3T T", 10, HO_ERR_FIELD}, /* not a type name */
        {"\x81\xa4type\xa5lea", 10, HO_ERR_TRUNCATED},
        {"\x82\x01\x02\xa4type\xa1x", 10, HO_ERR_MALFORMED}, /* non-string key */
        {"\x81\xa1v\xdb\xff\xff\xff\xff", 8, HO_ERR_TRUNCATED},
        {"\xdc\x00", 2, HO_ERR_TRUNCATED},
        {"\xde\x00", 2, HO_ERR_TRUNCATED},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ho_msg_peek_type(bad[i].bytes, bad[i].len, type, sizeof type);
        if (rc != bad[i].rc) {
            fail_msg("peek case %zu: rc=%d wanted %d", i, rc, bad[i].rc);
        }
    }
    assert_int_equal(ho_msg_peek_type(NULL, 5, type, sizeof type), HO_ERR_TRUNCATED);
}

static void test_duplicate_keys_refused(void **state)
{
    ho_msg_t *m = NULL;
    ho_err_t err = {0};
    s_buf_t b;
    b = s_pack_text("{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{\"k1\":1,"
                    "\"k2\":2}}");
    s_patch(&b, "k2", "k1", 2);
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "payload.k1");
    assert_non_null(strstr(err.message, "duplicate"));
    s_buf_free(&b);

    b = s_pack_text("{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{},\"x1\":1,"
                    "\"x2\":2}");
    s_patch(&b, "x2", "x1", 2);
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "x1");
    s_buf_free(&b);

    /* found by fuzz_msg: an unknown key with a NUL byte could not be written back intact */
    b = s_pack_text("{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{},\"oQQgin\":1}");
    s_patch(&b, "QQ", "\x07\x00", 2);
    assert_int_equal(ho_msg_decode(b.data, b.len, &m, &err), HO_ERR_FIELD);
    assert_non_null(strstr(err.message, "NUL"));
    s_buf_free(&b);
}


/* ---------------------------------------------------------------- packed payloads */

/* Each element's outcome of one decode: the envelope as JSON, or its refusal. */
static void s_on_error_msg(size_t index, const ho_err_t *err, void *arg)
{
    json_t *errors = arg;
    json_array_append_new(errors, json_pack("{s:I,s:i,s:s,s:s}", "index", (json_int_t)index,
                                            "code", err->code, "field", err->field, "message",
                                            err->message));
}

/* The frame decoded with and without HO_MSG_RAW_PAYLOAD: same rc, same refusals with the
 * same messages, same envelopes; the packed messages lend their bytes, which re-encode to
 * the same envelopes. Returns the number of envelopes. */
static size_t s_same_packed(const void *buf, size_t len, const char *what)
{
    ho_msg_t **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    json_t *ea = json_array(), *eb = json_array();
    ho_err_t erra = {0}, errb = {0};
    int rca = ho_msg_decode_frame(buf, len, &a, &na, s_on_error_msg, ea, &erra);
    int rcb = ho_msg_decode_frame_opt(buf, len, HO_MSG_RAW_PAYLOAD, &b, &nb, s_on_error_msg, eb,
                                      &errb);
    if (rca != rcb || na != nb || !json_equal(ea, eb) ||
        (rca != HO_OK && strcmp(erra.message, errb.message) != 0)) {
        char *ja = json_dumps(ea, 0), *jb = json_dumps(eb, 0);
        fail_msg("%s: tree rc=%d n=%zu %s / packed rc=%d n=%zu %s", what, rca, na, ja, rcb, nb,
                 jb);
    }
    for (size_t i = 0; i < na; i++) {
        const char *pb;
        size_t pl;
        char *owned = NULL;
        assert_int_equal(ho_msg_payload_packed(b[i], &pb, &pl, &owned), HO_OK);
        assert_null(owned); /* its own bytes, lent */
        /* the objects the decoder kept are that payload, in a copy too */
        ho_msg_t *dup = ho_msg_dup(b[i]);
        const msgpack_object *kept = ho_msg_payload_unpacked(dup);
        assert_non_null(kept);
        assert_int_equal(kept->type, MSGPACK_OBJECT_MAP);
        msgpack_sbuffer ks;
        msgpack_packer kp;
        msgpack_sbuffer_init(&ks);
        msgpack_packer_init(&kp, &ks, msgpack_sbuffer_write);
        assert_int_equal(msgpack_pack_object(&kp, *kept), 0);
        ho_msg_t *from_kept = ho_msg_new("t");
        assert_int_equal(ho_msg_set_payload_packed(from_kept, &ks.data, ks.size), HO_OK);
        if (!json_equal(ho_msg_payload(from_kept), ho_msg_payload(a[i]))) {
            fail_msg("%s: element %zu: the kept objects are not the payload", what, i);
        }
        ho_msg_destroy(&from_kept);
        ho_msg_destroy(&dup);
        json_t *ja = ho_msg_to_json(a[i]);
        char *enc = NULL;
        size_t enc_len = 0;
        ho_msg_t *again = NULL;
        assert_int_equal(ho_msg_encode(b[i], &enc, &enc_len), HO_OK);
        assert_int_equal(ho_msg_decode(enc, enc_len, &again, NULL), HO_OK);
        json_t *jagain = ho_msg_to_json(again);
        json_t *jb = ho_msg_to_json(b[i]); /* decodes the packed payload */
        if (!json_equal(ja, jb) || !json_equal(ja, jagain)) {
            fail_msg("%s: element %zu differs when packed", what, i);
        }
        json_decref(ja);
        json_decref(jb);
        json_decref(jagain);
        ho_msg_destroy(&again);
        free(enc);
    }
    ho_msg_batch_free(&a, na);
    ho_msg_batch_free(&b, nb);
    json_decref(ea);
    json_decref(eb);
    return na;
}

static void test_packed_payload_same_as_tree(void **state)
{
    /* every vector, good and bad */
    DIR *d = opendir(s_vector_dir());
    assert_non_null(d);
    struct dirent *e;
    size_t envelopes = 0;
    int files = 0;
    s_buf_t vb;
    while ((e = s_next_vector(d, &vb)) != NULL) {
        envelopes += s_same_packed(vb.data, vb.len, e->d_name);
        s_buf_free(&vb);
        files++;
    }
    closedir(d);
    assert_true(files >= 30);
    assert_true(envelopes >= 30);

    /* refusals deep in a payload, each as the tree decoder words it */
    static const char *const env = "{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":%s}";
    static const struct {
        const char *payload, *marker, *with;
        size_t n;
    } bad[] = {
        {"{\"lead\":{\"fields\":{\"title\":\"OKAY\"}}}", "OKAY", "\xc3\x28zz", 4}, /* UTF-8 */
        {"{\"lead\":{\"fields\":{\"tiQQe\":1}}}", "QQ", "\x00x", 2},             /* NUL key */
        {"{\"lead\":{\"fields\":{\"tiQQe\":1}}}", "QQ", "\xff\xfe", 2},          /* bad key */
        {"{\"a\":[1,2,{\"k1\":1,\"k2\":2}]}", "k2", "k1", 2},                    /* dup */
        /* a map of 20 keys (sorted, not pairwise) with a repeat after a good key */
        {"{\"m\":{\"a00\":0,\"a01\":1,\"a02\":2,\"a03\":3,\"a04\":4,\"a05\":5,\"a06\":6,"
         "\"a07\":7,\"a08\":8,\"a09\":9,\"a10\":0,\"a11\":1,\"a12\":2,\"a13\":3,\"a14\":4,"
         "\"a15\":5,\"a16\":6,\"a17\":7,\"b18\":8,\"a19\":9}}",
         "b18", "a03", 3},
        {"{\"n\":1.5}", "\xcb\x3f\xf8", "\xcb\x7f\xf8", 3},                         /* NaN */
        {"{\"n\":1.5}", "\xcb\x3f\xf8", "\xcb\x7f\xf0", 3},                         /* inf */
        {"{\"u\":72340172838076673}", "\xcf\x01\x01", "\xcf\xff\x01", 3}, /* > int64 */
        {"{\"u\":72340172838076673}", "", "", 0},                             /* fine */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, env, bad[i].payload);
        s_buf_t b = s_pack_text(text);
        if (bad[i].n) {
            s_patch(&b, bad[i].marker, bad[i].with, bad[i].n);
        }
        size_t got = s_same_packed(b.data, b.len, bad[i].payload);
        assert_int_equal(got, bad[i].n ? 0 : 1); /* the patched ones are refused */
        s_buf_free(&b);
    }
    /* a value nested too deep */
    char deep[512] = "{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":";
    for (int i = 0; i < HO_MSG_MAX_DEPTH + 1; i++) {
        strcat(deep, "{\"k\":");
    }
    strcat(deep, "1");
    for (int i = 0; i < HO_MSG_MAX_DEPTH + 2; i++) {
        strcat(deep, "}");
    }
    s_buf_t b = s_pack_text(deep);
    assert_int_equal(s_same_packed(b.data, b.len, "deep"), 0);
    s_buf_free(&b);

    /* the payload not the last key (an unknown key after it): its bytes are walked */
    b = s_pack_text("{\"v\":1,\"type\":\"t\",\"id\":\"i\",\"ts\":5,\"payload\":{\"a\":[1,{\"b\":"
                    "\"c\"}]},\"zz\":{\"y\":2}}");
    assert_int_equal(s_same_packed(b.data, b.len, "extra after payload"), 1);
    s_buf_free(&b);
    /* a batch of both, one bad in the middle */
    b = s_pack_text("[{\"v\":1,\"type\":\"t\",\"id\":\"i1\",\"ts\":5,\"payload\":{\"a\":1}},"
                    "{\"v\":1,\"type\":\"t\",\"id\":\"i2\",\"ts\":5,\"payload\":{\"a\":\"OKAY\"}},"
                    "{\"v\":1,\"type\":\"t\",\"id\":\"i3\",\"ts\":5,\"payload\":{\"a\":3},\"x\":0}]");
    s_patch(&b, "OKAY", "\xed\xa0\x80z", 4); /* a surrogate */
    assert_int_equal(s_same_packed(b.data, b.len, "batch"), 2);
    s_buf_free(&b);
}

static void test_packed_payload_api(void **state)
{
    /* a jansson payload is packed on request, into bytes the caller owns */
    ho_msg_t *m = ho_msg_new("t");
    json_object_set_new(ho_msg_payload(m), "k", json_string("v"));
    const char *pb;
    size_t pl;
    char *owned = NULL;
    assert_int_equal(ho_msg_payload_packed(m, &pb, &pl, &owned), HO_OK);
    assert_non_null(owned);
    assert_ptr_equal(pb, owned);
    /* handed to another message as its payload: same JSON, and a copy keeps it */
    ho_msg_t *p = ho_msg_new("t");
    char *copy = malloc(pl);
    memcpy(copy, pb, pl);
    assert_int_equal(ho_msg_set_payload_packed(p, &copy, pl), HO_OK);
    assert_null(copy);
    ho_msg_t *d = ho_msg_dup(p);
    assert_true(json_equal(ho_msg_payload(m), ho_msg_payload(d)));
    assert_true(json_equal(ho_msg_payload(m), ho_msg_payload(p)));
    /* after ho_msg_payload it is a tree: changes are encoded */
    json_object_set_new(ho_msg_payload(p), "n", json_integer(2));
    char *enc = NULL;
    size_t enc_len = 0;
    ho_msg_t *back = NULL;
    assert_int_equal(ho_msg_encode(p, &enc, &enc_len), HO_OK);
    assert_int_equal(ho_msg_decode(enc, enc_len, &back, NULL), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(ho_msg_payload(back), "n")), 2);
    free(enc);
    free(owned);
    /* not a map: refused, and the buffer freed either way (ASan checks) */
    char *arr = malloc(1);
    arr[0] = (char)0x90;
    assert_int_equal(ho_msg_set_payload_packed(p, &arr, 1), HO_ERR_FIELD);
    assert_null(arr);
    /* set_payload after packed bytes: the tree wins */
    char *again = malloc(1);
    again[0] = (char)0x80;
    assert_int_equal(ho_msg_set_payload_packed(m, &again, 1), HO_OK);
    assert_int_equal(json_object_size(ho_msg_payload(m)), 0);
    ho_msg_destroy(&back);
    ho_msg_destroy(&d);
    ho_msg_destroy(&p);
    ho_msg_destroy(&m);
}

static void test_setters_and_new(void **state)
{
    ho_msg_t *m = ho_msg_new("lead.raw");
    assert_non_null(m);
    assert_int_equal(ho_msg_version(m), HO_SCHEMA_VERSION);
    assert_int_equal(strlen(ho_msg_id(m)), 32);
    assert_true(ho_msg_ts(m) > 1700000000000LL);
    assert_int_equal(ho_msg_set_type(m, "Lead"), HO_ERR_FIELD);
    assert_int_equal(ho_msg_set_type(m, ""), HO_ERR_FIELD);
    char long_type[HO_MSG_MAX_TYPE + 1];
    memset(long_type, 'a', HO_MSG_MAX_TYPE);
    long_type[HO_MSG_MAX_TYPE] = '\0';
    assert_int_equal(ho_msg_set_type(m, long_type), HO_ERR_FIELD);
    long_type[HO_MSG_MAX_TYPE - 1] = '\0';
    assert_int_equal(ho_msg_set_type(m, long_type), HO_OK);
    assert_string_equal(ho_msg_type(m), long_type);
    assert_int_equal(ho_msg_set_payload(m, json_array()), HO_ERR_FIELD);
    assert_int_equal(ho_msg_set_payload(m, json_pack("{s:i}", "a", 1)), HO_OK);
    ho_msg_t *d = ho_msg_dup(m);
    assert_true(json_equal(ho_msg_payload(d), ho_msg_payload(m)));
    ho_msg_destroy(&d);
    ho_msg_destroy(&d); /* safe twice */
    ho_msg_destroy(&m);

    /* same bytes -> same id; different bytes -> different id */
    char a[HO_MSG_MAX_ID], b[HO_MSG_MAX_ID], c[HO_MSG_MAX_ID];
    ho_msg_make_id(a, sizeof a, "lead-csv", "row 1", 5);
    ho_msg_make_id(b, sizeof b, "lead-csv", "row 1", 5);
    ho_msg_make_id(c, sizeof c, "lead-csv", "row 2", 5);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), strlen("lead-csv-") + 32);

    /* from_json applies the decoder's rules */
    ho_err_t err = {0};
    json_t *j =
        json_pack("{s:i,s:s,s:s,s:i,s:{}}", "v", 3, "type", "t", "id", "i", "ts", 1, "payload");
    assert_int_equal(ho_msg_from_json(j, &m, &err), HO_ERR_VERSION);
    json_object_set_new(j, "v", json_integer(1));
    json_object_set_new(j, "type", json_string("Bad Type"));
    assert_int_equal(ho_msg_from_json(j, &m, &err), HO_ERR_FIELD);
    assert_string_equal(err.field, "type");
    json_decref(j);
}

static void test_strerror(void **state)
{
    assert_string_equal(ho_strerror(HO_OK), "ok");
    assert_string_equal(ho_strerror(HO_ERR_TRUNCATED), "truncated");
    assert_string_equal(ho_strerror(HO_ERR_NOT_FOUND), "not found");
    assert_string_equal(ho_strerror(-99), "unknown");
    assert_string_equal(ho_strerror(5), "unknown");
    ho_err_t err;
    assert_int_equal(ho_err_set(&err, HO_ERR_FIELD, "a.b", "a.b: %s", "bad"), HO_ERR_FIELD);
    assert_string_equal(err.field, "a.b");
    assert_string_equal(err.message, "a.b: bad");
    assert_int_equal(ho_err_set(NULL, HO_ERR_IO, NULL, "x"), HO_ERR_IO);
}

static void test_large_batch_splits_nothing_lost(void **state)
{
    /* 20000 envelopes in one batch frame: decoded in full */
    size_t n = 20000;
    ho_msg_t **msgs = calloc(n, sizeof *msgs);
    for (size_t i = 0; i < n; i++) {
        msgs[i] = ho_msg_new("lead.raw");
        json_object_set_new(ho_msg_payload(msgs[i]), "i", json_integer((json_int_t)i));
    }
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(ho_msg_encode_batch(msgs, n, &buf, &len), HO_OK);
    ho_msg_t **back = NULL;
    size_t got = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode_frame(buf, len, &back, &got, NULL, NULL, &err), HO_OK);
    assert_int_equal(got, n);
    assert_int_equal(json_integer_value(json_object_get(ho_msg_payload(back[n - 1]), "i")),
                     (json_int_t)(n - 1));
    char type[HO_MSG_MAX_TYPE];
    assert_int_equal(ho_msg_peek_type(buf, len, type, sizeof type), HO_OK);
    ho_msg_batch_free(&back, got);
    ho_msg_batch_free(&msgs, n);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        return s_write(argv[2]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_round_trip),
        cmocka_unit_test(test_vector_table_matches_files),
        cmocka_unit_test(test_every_catalog_type_round_trips),
        cmocka_unit_test(test_truncated_at_every_offset),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_mutated_vectors_never_crash),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_wrong_types_per_field),
        cmocka_unit_test(test_unknown_version),
        cmocka_unit_test(test_unknown_fields_preserved),
        cmocka_unit_test(test_empty_strings_and_keys),
        cmocka_unit_test(test_invalid_utf8_named_by_field),
        cmocka_unit_test(test_batch_with_one_bad_element),
        cmocka_unit_test(test_peek_type),
        cmocka_unit_test(test_duplicate_keys_refused),
        cmocka_unit_test(test_packed_payload_same_as_tree),
        cmocka_unit_test(test_packed_payload_api),
        cmocka_unit_test(test_setters_and_new),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_large_batch_splits_nothing_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
