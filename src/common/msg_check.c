/* msg_check.c - reading the raw msgpack bytes without msgpack-c building objects: the
 * validation pass the decoder runs before msgpack-c allocates anything (so a hostile length
 * prefix cannot make it allocate more than the input justifies), the byte-level field rules
 * (type names, UTF-8), and the walks the broker does on every frame (the type of a message,
 * one element of a batch). Split from msg.c, which builds and reads the envelope. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/msg_internal.h"

/* A message type: 1 to HO_MSG_MAX_TYPE - 1 characters of a-z 0-9 . _ - */
int ho_msg_valid_type(const char *s, size_t len)
{
    if (len == 0 || len >= HO_MSG_MAX_TYPE) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int ho_msg_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    /* all ASCII (most text here, and most strings are short): one pass, no decoding */
    uint64_t high = 0;
    size_t at = 0;
    for (; len - at >= 8; at += 8) {
        uint64_t w;
        memcpy(&w, p + at, 8);
        high |= w;
    }
    for (; at < len; at++) {
        high |= p[at];
    }
    if (!(high & 0x8080808080808080ull)) {
        return 1;
    }
    size_t i = 0;
    while (i < len) {
        /* ASCII runs, eight bytes at a time */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) {
                break;
            }
            i += 8;
        }
        if (i == len) {
            break;
        }
        unsigned char c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n) {
            return 0;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += n + 1;
    }
    return 1;
}

/* ---------------------------------------------------------------- validation
 * A single pass over the raw bytes: every length must fit in what is left, containers may
 * not claim more elements than bytes remain, and nesting is bounded. */

static int s_need(size_t len, size_t off, size_t n)
{
    return n <= len && off <= len - n;
}

static uint64_t s_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Read one object's head at *off: its type byte and any length after it. Says how many
 * container elements (*count_p, a map's keys and values both counted) or raw bytes
 * (*skip_p) follow; the head itself is bounds-checked, what follows is not yet. */
static int s_head(const uint8_t *p, size_t len, size_t *off, uint64_t *count_p, uint64_t *skip_p)
{
    if (!s_need(len, *off, 1)) {
        return HO_ERR_TRUNCATED;
    }
    uint8_t b = p[(*off)++];
    uint64_t count = 0; /* container elements to follow */
    uint64_t skip = 0;  /* raw bytes to follow */
    *count_p = 0;
    *skip_p = 0;
    int lenbytes = 0;

    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        return HO_OK; /* nothing follows */
    } else if (b >= 0x80 && b <= 0x8f) {
        count = 2u * (b & 0x0f);
    } else if (b >= 0x90 && b <= 0x9f) {
        count = b & 0x0f;
    } else if (b >= 0xa0 && b <= 0xbf) {
        skip = b & 0x1f;
    } else {
        switch (b) {
        case 0xc4:
        case 0xd9:
            lenbytes = 1;
            break;
        case 0xc5:
        case 0xda:
            lenbytes = 2;
            break;
        case 0xc6:
        case 0xdb:
            lenbytes = 4;
            break;
        case 0xc7:
            lenbytes = 1;
            skip = 1;
            break;
        case 0xc8:
            lenbytes = 2;
            skip = 1;
            break;
        case 0xc9:
            lenbytes = 4;
            skip = 1;
            break;
        case 0xca:
            skip = 4;
            break;
        case 0xcb:
            skip = 8;
            break;
        case 0xcc:
        case 0xd0:
            skip = 1;
            break;
        case 0xcd:
        case 0xd1:
            skip = 2;
            break;
        case 0xce:
        case 0xd2:
            skip = 4;
            break;
        case 0xcf:
        case 0xd3:
            skip = 8;
            break;
        case 0xd4:
            skip = 2;
            break;
        case 0xd5:
            skip = 3;
            break;
        case 0xd6:
            skip = 5;
            break;
        case 0xd7:
            skip = 9;
            break;
        case 0xd8:
            skip = 17;
            break;
        case 0xdc:
        case 0xdd:
        case 0xde:
        case 0xdf: {
            int n = (b == 0xdc || b == 0xde) ? 2 : 4;
            if (!s_need(len, *off, (size_t)n)) {
                return HO_ERR_TRUNCATED;
            }
            count = s_be(p + *off, n);
            *off += (size_t)n;
            if (b >= 0xde) {
                count *= 2;
            }
            break;
        }
        default:
            return HO_ERR_MALFORMED; /* 0xc1 is never used */
        }
        if (lenbytes) {
            if (!s_need(len, *off, (size_t)lenbytes)) {
                return HO_ERR_TRUNCATED;
            }
            skip += s_be(p + *off, lenbytes);
            *off += (size_t)lenbytes;
        }
    }
    *count_p = count;
    *skip_p = skip;
    return HO_OK;
}

/* Check one object at *off and everything nested in it, moving *off past it. */
static int s_check(const uint8_t *p, size_t len, size_t *off, int depth)
{
    if (depth > HO_MSG_MAX_DEPTH + 2) {
        return HO_ERR_TOO_LARGE;
    }
    /* most objects are one-byte scalars or short strings (keys, types, small numbers): no
     * s_head for them; the same checks, the same *off on failure */
    if (*off < len) {
        uint8_t b = p[*off];
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            (*off)++;
            return HO_OK;
        }
        if (b >= 0xa0 && b <= 0xbf) {
            size_t n = b & 0x1f;
            (*off)++;
            if (n && !s_need(len, *off, n)) {
                return HO_ERR_TRUNCATED;
            }
            *off += n;
            return HO_OK;
        }
    }
    uint64_t count = 0, skip = 0;
    int rc = s_head(p, len, off, &count, &skip);
    if (rc != HO_OK) {
        return rc;
    }
    if (skip) {
        if (skip > len || !s_need(len, *off, (size_t)skip)) {
            return HO_ERR_TRUNCATED;
        }
        *off += (size_t)skip;
        return HO_OK;
    }
    if (count > len - *off) {
        return HO_ERR_TRUNCATED; /* every element needs at least one byte */
    }
    for (uint64_t i = 0; i < count && rc == HO_OK; i++) {
        rc = s_check(p, len, off, depth + 1);
    }
    return rc;
}

static int s_container_head(const void *buf, size_t len, size_t *off, uint32_t *n_p, bool map)
{
    uint64_t count, skip;
    const uint8_t *p = buf;
    if (*off >= len) {
        return HO_ERR_TRUNCATED;
    }
    uint8_t b = p[*off];
    bool is_map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    bool is_array = (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
    if (map ? !is_map : !is_array) {
        return HO_ERR_FIELD;
    }
    int rc = s_head(p, len, off, &count, &skip);
    if (rc == HO_OK) {
        *n_p = (uint32_t)(map ? count / 2 : count);
    }
    return rc;
}

int ho_msg_raw_map_head(const void *buf, size_t len, size_t *off, uint32_t *pairs_p)
{
    return s_container_head(buf, len, off, pairs_p, true);
}

int ho_msg_raw_array_head(const void *buf, size_t len, size_t *off, uint32_t *n_p)
{
    return s_container_head(buf, len, off, n_p, false);
}

int ho_msg_raw_skip(const void *buf, size_t len, size_t *off)
{
    return s_check(buf, len, off, 1);
}

/* Validate buf as exactly one msgpack object. */
int ho_msg_validate_body(const void *buf, size_t len, ho_err_t *err)
{
    if (!buf || len == 0) {
        return ho_err_set(err, HO_ERR_TRUNCATED, "", "empty body");
    }
    if (len > HO_MSG_MAX_BODY) {
        return ho_err_set(err, HO_ERR_TOO_LARGE, "", "body of %zu bytes exceeds the limit of %u",
                          len, HO_MSG_MAX_BODY);
    }
    size_t off = 0;
    int rc = s_check(buf, len, &off, 0);
    if (rc == HO_ERR_TRUNCATED) {
        return ho_err_set(err, rc, "", "truncated msgpack at byte %zu of %zu", off, len);
    }
    if (rc == HO_ERR_TOO_LARGE) {
        return ho_err_set(err, rc, "", "msgpack nested deeper than %d levels", HO_MSG_MAX_DEPTH);
    }
    if (rc != HO_OK) {
        return ho_err_set(err, rc, "", "not msgpack: invalid byte at offset %zu", off - 1);
    }
    if (off != len) {
        return ho_err_set(err, HO_ERR_MALFORMED, "", "%zu trailing bytes after the msgpack object",
                          len - off);
    }
    return HO_OK;
}

int ho_msg_frame_element(const void *buf, size_t len, size_t index, size_t *off_p, size_t *len_p)
{
    const uint8_t *p = buf;
    if (!p || len == 0 || len > HO_MSG_MAX_BODY) {
        return HO_ERR_TRUNCATED;
    }
    size_t off = 0;
    uint64_t count = 1;
    uint8_t b = p[0];
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
        int n = b <= 0x9f ? 0 : (b == 0xdc ? 2 : 4);
        if (!s_need(len, 1, (size_t)n)) {
            return HO_ERR_TRUNCATED;
        }
        count = n ? s_be(p + 1, n) : (uint64_t)(b & 0x0f);
        off = 1 + (size_t)n;
    }
    if (index >= count) {
        return HO_ERR_NOT_FOUND;
    }
    for (size_t i = 0;; i++) {
        size_t start = off;
        int rc = s_check(p, len, &off, 1);
        if (rc != HO_OK) {
            return rc;
        }
        if (i == index) {
            *off_p = start;
            *len_p = off - start;
            return HO_OK;
        }
    }
}

/* Walk the top-level map without building objects: the broker calls this for every frame. */
static int s_read_str_header(const uint8_t *p, size_t len, size_t *off, size_t *slen)
{
    if (!s_need(len, *off, 1)) {
        return -1;
    }
    uint8_t b = p[*off];
    int n = 0;
    if (b >= 0xa0 && b <= 0xbf) {
        *slen = b & 0x1f;
    } else if (b == 0xd9 || b == 0xda || b == 0xdb) {
        n = b == 0xd9 ? 1 : b == 0xda ? 2 : 4;
        if (!s_need(len, *off + 1, (size_t)n)) {
            return -1;
        }
        *slen = (size_t)s_be(p + *off + 1, n);
    } else {
        return 0; /* not a string */
    }
    *off += 1 + (size_t)n;
    return s_need(len, *off, *slen) ? 1 : -1;
}

int ho_msg_peek_type(const void *buf, size_t len, char *type, size_t cap)
{
    const uint8_t *p = buf;
    size_t off = 0;
    if (!p || len == 0 || cap == 0) {
        return HO_ERR_TRUNCATED;
    }
    type[0] = '\0';
    uint8_t b = p[0];
    /* a batch: step into the first element */
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
        off = b <= 0x9f ? 1 : (b == 0xdc ? 3 : 5);
        if (!s_need(len, off, 1)) {
            return HO_ERR_TRUNCATED;
        }
        b = p[off];
    }
    uint64_t pairs;
    if (b >= 0x80 && b <= 0x8f) {
        pairs = b & 0x0f;
        off += 1;
    } else if (b == 0xde || b == 0xdf) {
        int n = b == 0xde ? 2 : 4;
        if (!s_need(len, off + 1, (size_t)n)) {
            return HO_ERR_TRUNCATED;
        }
        pairs = s_be(p + off + 1, n);
        off += 1 + (size_t)n;
    } else {
        return HO_ERR_MALFORMED;
    }
    for (uint64_t i = 0; i < pairs; i++) {
        size_t klen;
        int r = s_read_str_header(p, len, &off, &klen);
        if (r <= 0) {
            return r < 0 ? HO_ERR_TRUNCATED : HO_ERR_MALFORMED;
        }
        int is_type = klen == 4 && memcmp(p + off, "type", 4) == 0;
        off += klen;
        if (is_type) {
            size_t vlen;
            r = s_read_str_header(p, len, &off, &vlen);
            if (r <= 0) {
                return r < 0 ? HO_ERR_TRUNCATED : HO_ERR_FIELD;
            }
            if (vlen + 1 > cap || !ho_msg_valid_type((const char *)p + off, vlen)) {
                return HO_ERR_FIELD;
            }
            memcpy(type, p + off, vlen);
            type[vlen] = '\0';
            return HO_OK;
        }
        /* skip the value */
        int rc = s_check(p, len, &off, 1);
        if (rc != HO_OK) {
            return rc;
        }
    }
    return HO_ERR_MISSING;
}
