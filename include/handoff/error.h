/*
 * error.h - the one error type of handoff: a code (ho_rc_t) and, for the operator, the field
 * and a sentence (ho_err_t).
 *
 * The return convention (CONTRIBUTING.md, "Errors and return values"):
 *   - a function that can fail returns int: HO_OK (0) on success or a negative ho_rc_t code,
 *     and fills `ho_err_t *err` when the caller passed one (err may always be NULL);
 *   - a constructor returns the new object or NULL, and fills err when it has one;
 *   - a lookup that may legitimately find nothing returns HO_ERR_NOT_FOUND (not -1, not 1);
 *   - libraries never print: the error travels up to main or the worker runtime, which log.
 * ho_err_set fills err and returns the code, so a failure path is one line:
 *     return ho_err_set(err, HO_ERR_FIELD, "payload.email", "payload.email: not an address");
 */
#ifndef HO_ERROR_H
#define HO_ERROR_H

typedef enum {
    HO_OK = 0,
    HO_ERR_TRUNCATED = -2,   /* the bytes end inside a msgpack object */
    HO_ERR_MALFORMED = -3,   /* not msgpack, trailing bytes, or wrong msgpack type */
    HO_ERR_MISSING = -4,     /* a required field is absent */
    HO_ERR_FIELD = -5,       /* a field has the wrong type or an invalid value */
    HO_ERR_VERSION = -6,     /* unknown schema version */
    HO_ERR_TOO_LARGE = -7,   /* over HO_MSG_MAX_BODY, too deep, or a string too long */
    HO_ERR_NOMEM = -8,
    HO_ERR_IO = -9,          /* file or socket error (used by callers) */
    HO_ERR_CONFIG = -10,     /* configuration error (used by callers) */
    HO_ERR_STATE = -11,      /* illegal state or transition (used by callers) */
    HO_ERR_NOT_FOUND = -12,  /* used by callers */
} ho_rc_t;

/* What went wrong, for the operator: which field, and why. */
typedef struct {
    int code;           /* an ho_rc_t */
    char field[96];     /* dotted path of the offending field, "" when not about a field */
    char message[256];  /* a full sentence that already includes the field */
} ho_err_t;

/* Name of a code: "truncated", "malformed", ... */
const char *ho_strerror(int code);
/* Fill err (if not NULL) and return code. printf-style message. */
int ho_err_set(ho_err_t *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
