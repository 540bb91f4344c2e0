/* fuzz_msg.c - libFuzzer target for the envelope codec: any bytes through ho_msg_decode_frame
 * (with a per-element error callback), ho_msg_decode, ho_msg_peek_type and
 * ho_msg_frame_element. Whatever decodes must re-encode and decode again to the same
 * envelopes (the codec's round-trip promise, proto/handoff-protocol.md 6.2). The same bytes
 * decoded with HO_MSG_RAW_PAYLOAD (payloads kept packed, checked without a tree) must give
 * the same envelopes and refuse the same elements with the same messages.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_msg -max_total_time=120 corpus proto/vectors.bin */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/msg.h"

#define S_KEEP 64 /* refusals remembered for the comparison */

typedef struct {
    size_t count;
    size_t index[S_KEEP];
    int code[S_KEEP];
    char message[S_KEEP][sizeof(((ho_err_t *)0)->message)];
} s_bad_t;

static void s_on_error(size_t index, const ho_err_t *err, void *arg)
{
    s_bad_t *bad = arg;
    if (bad->count < S_KEEP) {
        bad->index[bad->count] = index;
        bad->code[bad->count] = err->code;
        memcpy(bad->message[bad->count], err->message, sizeof err->message);
    }
    bad->count++;
    if (err->code >= 0 || err->message[0] == '\0') {
        __builtin_trap(); /* every refusal must say why */
    }
}

/* The packed decode agrees with the tree decode: same rc, same envelopes, same refusals. */
static void s_same_raw(const uint8_t *data, size_t size, int rc, ho_msg_t **msgs, size_t n,
                       const s_bad_t *bad)
{
    ho_msg_t **raw = NULL;
    size_t k = 0;
    s_bad_t rbad = {0};
    ho_err_t err = {0};
    int rrc = ho_msg_decode_frame_opt(data, size, HO_MSG_RAW_PAYLOAD, &raw, &k, s_on_error, &rbad,
                                      &err);
    if ((rrc == HO_OK) != (rc == HO_OK)) {
        __builtin_trap();
    }
    if (rrc != HO_OK) {
        return;
    }
    if (k != n || rbad.count != bad->count) {
        __builtin_trap();
    }
    for (size_t i = 0; i < bad->count && i < S_KEEP; i++) {
        if (rbad.index[i] != bad->index[i] || rbad.code[i] != bad->code[i] ||
            strcmp(rbad.message[i], bad->message[i]) != 0) {
            __builtin_trap();
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *pb;
        size_t pl;
        char *owned = NULL;
        if (strcmp(ho_msg_id(raw[i]), ho_msg_id(msgs[i])) != 0 ||
            ho_msg_payload_packed(raw[i], &pb, &pl, &owned) != HO_OK || owned != NULL) {
            __builtin_trap(); /* a packed message lends its own bytes */
        }
        /* the packed bytes re-encode as they are; the tree then equals the eager one */
        char *buf = NULL;
        size_t len = 0;
        ho_msg_t *again = NULL;
        if (ho_msg_encode(raw[i], &buf, &len) != HO_OK ||
            ho_msg_decode(buf, len, &again, NULL) != HO_OK ||
            !json_equal(ho_msg_payload(again), ho_msg_payload(msgs[i])) ||
            !json_equal(ho_msg_payload(raw[i]), ho_msg_payload(msgs[i]))) {
            __builtin_trap();
        }
        ho_msg_destroy(&again);
        free(buf);
    }
    ho_msg_batch_free(&raw, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ho_msg_t **msgs = NULL;
    size_t n = 0;
    s_bad_t bad = {0};
    ho_err_t err = {0};
    int rc = ho_msg_decode_frame(data, size, &msgs, &n, s_on_error, &bad, &err);
    s_same_raw(data, size, rc, msgs, n, &bad);
    if (rc == HO_OK) {
        /* decoded envelopes re-encode, and decode again to equal envelopes */
        char *buf = NULL;
        size_t len = 0;
        if (n > 0 && ho_msg_encode_batch(msgs, n, &buf, &len) == HO_OK) {
            ho_msg_t **again = NULL;
            size_t m = 0;
            if (ho_msg_decode_frame(buf, len, &again, &m, NULL, NULL, NULL) != HO_OK || m != n) {
                __builtin_trap();
            }
            for (size_t i = 0; i < n; i++) {
                if (strcmp(ho_msg_id(again[i]), ho_msg_id(msgs[i])) != 0 ||
                    !json_equal(ho_msg_payload(again[i]), ho_msg_payload(msgs[i])) ||
                    !json_equal(ho_msg_extra(again[i]), ho_msg_extra(msgs[i]))) {
                    __builtin_trap();
                }
            }
            ho_msg_batch_free(&again, m);
            free(buf);
        }
        ho_msg_batch_free(&msgs, n);
    } else if (err.message[0] == '\0' || msgs != NULL) {
        __builtin_trap();
    }
    ho_msg_t *one = NULL;
    if (ho_msg_decode(data, size, &one, NULL) == HO_OK) {
        ho_msg_destroy(&one);
    }
    char type[HO_MSG_MAX_TYPE];
    if (ho_msg_peek_type(data, size, type, sizeof type) == HO_OK && strlen(type) >= sizeof type) {
        __builtin_trap();
    }
    size_t off = 0, len = 0;
    for (size_t i = 0; i < 4; i++) {
        if (ho_msg_frame_element(data, size, i, &off, &len) == HO_OK &&
            (off > size || len > size - off)) {
            __builtin_trap();
        }
    }
    return 0;
}
