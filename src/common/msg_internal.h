/* msg_internal.h - what msg.c and msg_check.c share (not public): the byte-level checks
 * msg_check.c does on raw msgpack and on envelope strings. */
#ifndef HO_MSG_INTERNAL_H
#define HO_MSG_INTERNAL_H

#include <jansson.h>
#include <msgpack.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/msg.h"

/* 1 if s[0..len) is a valid message type: 1 to HO_MSG_MAX_TYPE - 1 characters of
 * a-z 0-9 . _ - */
int ho_msg_valid_type(const char *s, size_t len);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int ho_msg_utf8_valid(const char *s, size_t len);

/* Validate buf as exactly one msgpack object, every length within the buffer and nesting
 * bounded, before msgpack-c unpacks it; HO_OK or the error, set in err. */
int ho_msg_validate_body(const void *buf, size_t len, ho_err_t *err);

/* Walks over validated bytes. The map (array) header at *off: its pairs (elements), *off
 * moved to the first key (element); HO_ERR_FIELD if another kind of object is there. Or
 * past one whole object. HO_OK or the error. */
int ho_msg_raw_map_head(const void *buf, size_t len, size_t *off, uint32_t *pairs_p);
int ho_msg_raw_array_head(const void *buf, size_t len, size_t *off, uint32_t *n_p);
int ho_msg_raw_skip(const void *buf, size_t len, size_t *off);

/* msgpack-c may hand out a NULL pointer for a zero-length str; every consumer here wants a
 * valid pointer (memchr, jansson), so an empty string reads as "". */
#define HO_MSG_STR(o) ((o)->via.str.size ? (o)->via.str.ptr : "")

/* The envelope (msg.c owns it; msg_decode.c fills it). */
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
     * `payload` on first use. At most one of payload and raw is set. raw is raw_own (set
     * packed, or a copy) or lies in block, the decoded frame it came from, whose msgpack-c
     * objects the decoder kept: pobj is the payload's. */
    const char *raw;
    size_t raw_len;
    char *raw_own;
    struct ho_msg_block *block;
    const msgpack_object *pobj;
};

/* One frame decoded with HO_MSG_RAW_PAYLOAD: its bytes and the zone of its objects, shared by
 * the messages that came from it (a reference each) and freed with the last. */
typedef struct ho_msg_block {
    atomic_int refs;
    msgpack_zone *zone;
    char bytes[];
} ho_msg_block_t;

/* msg.c: let go of a frame (freed with its last message); forget a message's packed payload
 * (bytes and objects); 1 if s[0..len) is a valid event id. */
void ho_msg_block_unref(ho_msg_block_t **block_p);
void ho_msg_raw_drop(ho_msg_t *self);
int ho_msg_valid_id(const char *s, size_t len);
/* msg_decode.c: a packed payload turned into the jansson tree (it passed the decoder's
 * checks, or came from ho_msg_set_payload_packed); the bytes are dropped. NULL if that fails
 * (out of memory, or packed bytes the checks refuse), the message unchanged. */
json_t *ho_msg_materialize(ho_msg_t *self);

/* msg_payload.c. "parent.key" into out (key cut at 48 bytes; parent "" gives "key"). */
void ho_msg_path(char *out, size_t cap, const char *parent, const char *key, size_t klen);
/* The value o as a new jansson value (*out); path names it in errors ("payload"), depth is
 * its nesting (a payload's own values are at 1). HO_OK or the error, naming where. */
int ho_msg_value_to_json(const msgpack_object *o, const char *path, int depth, json_t **out,
                         ho_err_t *err);
/* The same rules, same errors, nothing built: HO_OK or the first error to_json would give. */
int ho_msg_value_check(const msgpack_object *o, const char *path, ho_err_t *err);

#endif
