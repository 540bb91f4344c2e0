/* msg_internal.h - what msg.c and msg_check.c share (not public): the byte-level checks
 * msg_check.c does on raw msgpack and on envelope strings. */
#ifndef HO_MSG_INTERNAL_H
#define HO_MSG_INTERNAL_H

#include <stddef.h>

#include "handoff/msg.h"

/* 1 if s[0..len) is a valid message type: 1 to HO_MSG_MAX_TYPE - 1 characters of
 * a-z 0-9 . _ - */
int ho_msg_valid_type(const char *s, size_t len);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int ho_msg_utf8_valid(const char *s, size_t len);

/* Validate buf as exactly one msgpack object, every length within the buffer and nesting
 * bounded, before msgpack-c unpacks it; HO_OK or the error, set in err. */
int ho_msg_validate_body(const void *buf, size_t len, ho_err_t *err);

#endif
