/*
 * csvio.h - streaming CSV reader over libcsv, with the physical line where each record starts.
 *
 * The file is fed to libcsv one physical line at a time from a fixed read buffer, so memory
 * stays bounded by the largest record (capped by max_record_bytes), not by the file. A UTF-8
 * byte-order mark is skipped; CRLF and LF record endings, quoted fields with delimiters,
 * quotes and line breaks, and empty fields are handled by libcsv. Blank lines are skipped.
 * Fields are returned exactly as written (no space trimming).
 *
 * Ownership: ho_csv_open returns a reader freed with ho_csv_destroy (&r). A row returned by
 * ho_csv_next is borrowed until the next call.
 */
#ifndef HO_CSVIO_H
#define HO_CSVIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/msg.h"

typedef struct ho_csv ho_csv_t;

typedef struct {
    char **fields;  /* NUL-terminated copies of the fields */
    size_t *lens;   /* byte length of each field (fields may contain NUL only if the file does) */
    size_t n;       /* number of fields */
    long line;      /* physical line (1-based) where the record starts */
    long end_line;  /* physical line where it ends (> line when a field held line breaks) */
    bool too_large; /* the record passed max_record_bytes: fields are empty, skip it */
} ho_csv_row_t;

typedef struct {
    char delimiter;          /* default ',' */
    size_t max_record_bytes; /* default 4 MiB: a longer record (say an unclosed quote) is cut */
} ho_csv_opts_t;

/* Open a file ("-" = stdin). opts may be NULL for the defaults. */
ho_csv_t *ho_csv_open(const char *path, const ho_csv_opts_t *opts, ho_err_t *err);
/* Read from memory (tests, fuzzers). The bytes are borrowed for the reader's life. */
ho_csv_t *ho_csv_open_mem(const void *data, size_t len, const ho_csv_opts_t *opts, ho_err_t *err);
void ho_csv_destroy(ho_csv_t **self_p);

/* 1 and *row_p = the next record, 0 at the end, or an error (HO_ERR_IO) with err filled. */
int ho_csv_next(ho_csv_t *self, const ho_csv_row_t **row_p, ho_err_t *err);
/* Bytes consumed from the input so far (for progress). */
uint64_t ho_csv_offset(const ho_csv_t *self);
/* Whether the input began with a UTF-8 byte-order mark. */
bool ho_csv_had_bom(const ho_csv_t *self);

/* Byte offset of the first invalid UTF-8 sequence in s, or -1 when s is valid UTF-8. */
long ho_utf8_invalid_at(const char *s, size_t len);
/* Latin-1 (ISO 8859-1) bytes to a malloc'd UTF-8 string. */
char *ho_latin1_to_utf8(const char *s, size_t len);

/* Write one field RFC 4180 style: quoted when it holds the delimiter, a quote, CR or LF, or
 * always when force_quote. */
void ho_csv_write_field(FILE *f, const char *s, bool force_quote);

#endif
