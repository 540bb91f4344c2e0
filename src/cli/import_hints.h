/*
 * import_hints.h - what a file handed to `handoff import` is when it is not the UTF-8 text
 * a profile can read: UTF-16, an .xlsx (ZIP) or .xls workbook, a gzip file, other binary data,
 * or a CSV separated by semicolons. The hint names the file and the fix; it never quotes the
 * file's bytes (they could be terminal escapes).
 *
 * Internal to the CLI (src/cli/); unit-tested in tests/unit/test_import_hints.c.
 */
#ifndef HO_CLI_IMPORT_HINTS_H
#define HO_CLI_IMPORT_HINTS_H

#include <stdbool.h>
#include <stddef.h>

/* From the first bytes of a file (head, n): true with a sentence in out when it cannot be
 * imported as text (UTF-16, workbook, compressed, binary). */
bool ho_import_hint_bytes(const unsigned char *head, size_t n, const char *path, char *out,
                          size_t cap);
/* The same, reading the file's first 4 KB (false when it cannot be opened: the import says). */
bool ho_import_hint_file(const char *path, char *out, size_t cap);
/* For a CSV header no profile matched: true with a sentence when it is one column holding ';'
 * (a semicolon-separated export), naming the profile option that reads it. */
bool ho_import_hint_header(const char *const *cols, size_t n, char *out, size_t cap);

#endif
