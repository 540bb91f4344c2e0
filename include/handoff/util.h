/*
 * util.h - small helpers that several areas need and that belong to none of them.
 *
 * Before this header each of them was copied into the files that used it (seven copies of
 * the directory maker, two base64 encoders); one copy here keeps their behaviour the same
 * everywhere.
 */
#ifndef HO_UTIL_H
#define HO_UTIL_H

#include <stddef.h>

/* mkdir -p: create dir and its missing parents (mode 0755 before the umask). Returns 0, or
 * -1 with errno set (an existing directory is not an error). */
int ho_mkdirs(const char *dir);

/* Standard base64 (RFC 4648, with '=' padding) of len bytes: malloc'd, NUL-terminated,
 * NULL when out of memory. */
char *ho_base64(const void *data, size_t len);

/* snprintf into out (cap bytes) that truncates on purpose: a path or a diagnostic cut to its
 * buffer. Through a va_list, so GCC's -Wformat-truncation, which cannot see the callers' real
 * lengths, does not fail the build. */
void ho_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
