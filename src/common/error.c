/* error.c - the error codes' names and ho_err_set; see include/handoff/error.h. */
#include "handoff/error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *s_codes[] = {"ok",        "unknown", "truncated", "malformed", "missing",
                                "bad field", "version", "too large", "no memory", "i/o",
                                "config",    "state",   "not found"};

const char *ho_strerror(int code)
{
    int idx = -code;
    if (idx < 0 || idx >= (int)(sizeof s_codes / sizeof s_codes[0])) {
        return "unknown";
    }
    return s_codes[idx];
}

int ho_err_set(ho_err_t *err, int code, const char *field, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        snprintf(err->field, sizeof err->field, "%s", field ? field : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}
