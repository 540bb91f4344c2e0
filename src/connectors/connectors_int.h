/* connectors_int.h - what the connectors of src/connectors/ share (private to the area). */
#ifndef HO_CONNECTORS_INT_H
#define HO_CONNECTORS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/connector.h"

/* ---- a JSON Lines input (lines.c): the jsonl and forms connectors ---- */
typedef struct {
    const ho_profile_t *profile;
    char *file; /* the path as given ("-": stdin) */
    FILE *f;
    char *line; /* getline buffer */
    size_t cap;
    long lineno;
    uint64_t offset; /* bytes read so far */
    size_t max;      /* longest line taken; a longer one is quarantined */
} ho_lines_t;

/* Open path ("-": stdin) of profile, lines of at most max bytes (<= 0: 4 MiB). On failure
 * the reader is closed and err names the file. */
int ho_lines_open(ho_lines_t *in, const ho_profile_t *profile, const char *path, long long max,
                  ho_err_t *err);
void ho_lines_close(ho_lines_t *in);
/* The next non-blank line (ho_connector_next_line): 1 with *p / *n, 0 at the end, or an error.
 * A line longer than max comes back as 1 with *msg_p its record_too_large quarantine (*p
 * NULL), or HO_ERR_NOMEM; *msg_p is NULL otherwise. */
int ho_lines_next(ho_lines_t *in, char **p, size_t *n, ho_msg_t **msg_p, ho_err_t *err);
/* The line p (n bytes) as a JSON string, NULL when it is not UTF-8: a quarantine's record. */
json_t *ho_lines_raw(const char *p, size_t n);
/* The bad_json quarantine of line p (n bytes) that did not parse as an object (doc: what it
 * parsed as, NULL with jerr when nothing). NULL on out of memory. */
ho_msg_t *ho_lines_bad_json(const ho_lines_t *in, const char *p, size_t n, const json_t *doc,
                            const json_error_t *jerr);

#endif
