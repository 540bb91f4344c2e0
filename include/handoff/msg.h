/*
 * msg.h - the message envelope and its msgpack codec.
 *
 * Every body frame on the wire is one msgpack map (an envelope) or a msgpack array of
 * envelopes (a batch). The envelope is specified in proto/handoff-protocol.md:
 *
 *     { "v": 1, "type": "lead.raw", "id": "hubspot-9f2c...", "ts": 1790000000000,
 *       "origin": "import@laptop", "payload": { ... } }
 *
 * In memory the payload is a jansson json_t object, so workers read and build payloads with
 * jansson's API. Unknown envelope keys are kept in `extra` and written back on encode.
 * A worker on a hot path may instead keep the payload packed: decoded with
 * HO_MSG_RAW_PAYLOAD (checked by the same rules, not built) it is read with
 * ho_msg_payload_packed, and a reply's payload packed with msgpack-c is handed over with
 * ho_msg_set_payload_packed; ho_msg_payload still works on such a message (it decodes the
 * bytes on first use).
 *
 * Ownership: ho_msg_new / ho_msg_decode return a message the caller owns and frees with
 * ho_msg_destroy (&msg), which nulls the pointer and is safe twice. Setters copy strings;
 * ho_msg_set_payload steals the reference it is given.
 *
 * The decoder never asserts on input: malformed, truncated or oversized bodies return an
 * error code and fill ho_err_t with a message that names the field ("payload.fields.email:
 * invalid UTF-8"). Batch decoding is per element, so one bad envelope does not lose the rest.
 */
#ifndef HO_MSG_H
#define HO_MSG_H

#include "handoff/error.h" /* ho_err_t, ho_rc_t, ho_err_set: kept here for every caller */

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define HO_SCHEMA_VERSION 1
#define HO_MSG_MAX_BODY (16u * 1024u * 1024u) /* largest frame a decoder accepts */
/* Deepest nesting inside a payload (a value directly in the payload is at depth 1). Kept
 * under msgpack-c's own limit of 32 open containers per frame: batch + envelope + payload +
 * 24 levels + slack. */
#define HO_MSG_MAX_DEPTH 24
#define HO_MSG_MAX_ID 128                      /* longest event id, in bytes */
#define HO_MSG_MAX_TYPE 64                     /* longest type name, in bytes */
#define HO_MSG_MAX_ORIGIN 256                  /* longest origin, in bytes */


typedef struct ho_msg ho_msg_t;

/* A new envelope of the given type with a fresh random event id, ts = now, empty payload. */
ho_msg_t *ho_msg_new(const char *type);
void ho_msg_destroy(ho_msg_t **self_p);
ho_msg_t *ho_msg_dup(const ho_msg_t *self);

unsigned ho_msg_version(const ho_msg_t *self);
const char *ho_msg_type(const ho_msg_t *self);
const char *ho_msg_id(const ho_msg_t *self);
int64_t ho_msg_ts(const ho_msg_t *self); /* milliseconds since the Unix epoch, UTC */
const char *ho_msg_origin(const ho_msg_t *self);
/* Borrowed; always a JSON object. Modify it in place to change the payload. */
json_t *ho_msg_payload(const ho_msg_t *self);
/* Unknown top-level envelope keys, preserved (borrowed; an object, maybe empty). */
json_t *ho_msg_extra(const ho_msg_t *self);

int ho_msg_set_type(ho_msg_t *self, const char *type);
int ho_msg_set_id(ho_msg_t *self, const char *id);
void ho_msg_set_ts(ho_msg_t *self, int64_t ts_ms);
int ho_msg_set_origin(ho_msg_t *self, const char *origin);
/* Steals the reference to payload, which must be an object. */
int ho_msg_set_payload(ho_msg_t *self, json_t *payload);
/* The payload as the msgpack bytes of one map. Borrowed (valid until the message changes or
 * goes) when the message holds it packed; else packed now into *owned_p, which the caller
 * frees (NULL otherwise). HO_OK or HO_ERR_NOMEM. */
int ho_msg_payload_packed(const ho_msg_t *self, const char **buf_p, size_t *len_p,
                          char **owned_p);
/* The packed payload's msgpack-c objects, when the decoder kept them (a message decoded with
 * HO_MSG_RAW_PAYLOAD: the objects it checked, shared with the other messages of its frame);
 * valid while the message lives and its payload is not changed. NULL otherwise: unpack the
 * bytes of ho_msg_payload_packed. */
const msgpack_object *ho_msg_payload_unpacked(const ho_msg_t *self);
/* Take *buf_p (malloc'd: one msgpack map of len bytes, packed with msgpack-c from values the
 * decoder accepts: UTF-8 strings, unique string keys, no bin/ext) as the payload, and null
 * *buf_p. Trusted, not walked (only its first byte must be a map's): whoever decodes the
 * message checks it as any other, and ho_msg_payload returns NULL for bytes it refuses.
 * HO_OK, or HO_ERR_FIELD (the buffer is freed either way). */
int ho_msg_set_payload_packed(ho_msg_t *self, char **buf_p, size_t len);

/* A jansson value packed as the encoder packs payloads (integers as int64, reals as
 * doubles, keys in the object's order). HO_OK, or HO_ERR_NOMEM when the packer's writer
 * failed. */
int ho_msg_pack_json(msgpack_packer *pk, const json_t *value);

/* Encode one envelope as a msgpack map. *buf_p is malloc'd, caller frees. */
int ho_msg_encode(const ho_msg_t *self, char **buf_p, size_t *len_p);
/* Encode n envelopes as one msgpack array (a batch frame). */
int ho_msg_encode_batch(ho_msg_t *const *msgs, size_t n, char **buf_p, size_t *len_p);

/* Decode one envelope (a map). Returns HO_OK and *msg_p, or an error and fills err. */
int ho_msg_decode(const void *buf, size_t len, ho_msg_t **msg_p, ho_err_t *err);

/* Decode a frame that holds either one envelope or a batch. Every good element is
 * returned in *msgs_p (a malloc'd array of *n_p messages; free each and the array with
 * ho_msg_batch_free). For each bad element, on_error (if not NULL) is called with its
 * index and error, and decoding goes on. Returns HO_OK if the frame itself was readable
 * (even if some elements were bad), or an error if the frame is not msgpack at all. */
typedef void(ho_msg_error_fn)(size_t index, const ho_err_t *err, void *arg);
int ho_msg_decode_frame(const void *buf, size_t len, ho_msg_t ***msgs_p, size_t *n_p,
                        ho_msg_error_fn *on_error, void *arg, ho_err_t *err);
void ho_msg_batch_free(ho_msg_t ***msgs_p, size_t n);

/* ho_msg_decode_frame_opt flags */
#define HO_MSG_RAW_PAYLOAD 1u /* keep each payload packed (see above): same checks, no tree */

/* ho_msg_decode_frame with flags. */
int ho_msg_decode_frame_opt(const void *buf, size_t len, unsigned flags, ho_msg_t ***msgs_p,
                            size_t *n_p, ho_msg_error_fn *on_error, void *arg, ho_err_t *err);

/* Where the index-th element of a batch frame lies in buf (for a single envelope, index 0 is
 * the whole frame), so a bad element can be quarantined as its own raw bytes. HO_OK and
 * *off_p / *len_p, or an error if the frame cannot be walked that far. */
int ho_msg_frame_element(const void *buf, size_t len, size_t index, size_t *off_p,
                         size_t *len_p);

/* The envelope as a JSON object {"v", "type", "id", "ts", "origin", "payload", ...extra}
 * (new reference), e.g. for test vectors and `--json` output. */
json_t *ho_msg_to_json(const ho_msg_t *self);
/* The reverse, with the same rules as the decoder (version, type and id grammar, ts an
 * integer >= 0, payload an object; other keys are kept as extra). */
int ho_msg_from_json(const json_t *obj, ho_msg_t **msg_p, ho_err_t *err);

/* Read only the type of a frame without building the payload (used by the broker to route).
 * For a batch, the type of its first element. Copies at most cap-1 bytes into type. */
int ho_msg_peek_type(const void *buf, size_t len, char *type, size_t cap);

/* A deterministic event id "<prefix>-<32 hex>" from arbitrary bytes (FNV-1a 128-bit), used
 * by connectors so that re-importing the same record yields the same id. Writes into out
 * (at least HO_MSG_MAX_ID bytes). */
void ho_msg_make_id(char *out, size_t cap, const char *prefix, const void *data, size_t len);

/* Current time in ms since the Unix epoch (UTC). */
int64_t ho_now_ms(void);

#endif
