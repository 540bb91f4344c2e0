/* lines.c - a JSON Lines input shared by the jsonl and forms connectors (connectors_int.h):
 * the file or stdin, the line limit and the two quarantines every line reader writes the same
 * way (record_too_large, bad_json). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors_int.h"

int ho_lines_open(ho_lines_t *in, const ho_profile_t *profile, const char *path, long long max,
                  ho_err_t *err)
{
    memset(in, 0, sizeof *in);
    in->profile = profile;
    in->file = strdup(path);
    in->max = max > 0 ? (size_t)max : 4194304;
    in->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in->f) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, strerror(errno));
        ho_lines_close(in);
        return HO_ERR_IO;
    }
    return HO_OK;
}

void ho_lines_close(ho_lines_t *in)
{
    if (in->f && in->f != stdin) {
        fclose(in->f);
    }
    in->f = NULL;
    free(in->line);
    in->line = NULL;
    free(in->file);
    in->file = NULL;
}

int ho_lines_next(ho_lines_t *in, char **p, size_t *n, ho_msg_t **msg_p, ho_err_t *err)
{
    *msg_p = NULL;
    int got = ho_connector_next_line(in->f, in->file, &in->line, &in->cap, &in->lineno, &in->offset,
                                     p, n, err);
    if (got <= 0 || *n <= in->max) {
        return got;
    }
    char why[512];
    snprintf(why, sizeof why, "%s:%ld: line of %zu bytes is longer than the limit", in->file,
             in->lineno, *n);
    *p = NULL;
    *msg_p = ho_connector_quarantine(in->profile, in->file, in->lineno, "record_too_large", "", why,
                                     NULL);
    return *msg_p ? 1 : HO_ERR_NOMEM;
}

json_t *ho_lines_raw(const char *p, size_t n)
{
    char *u = strndup(p, n);
    json_t *raw = u ? json_string(u) : NULL;
    free(u);
    return raw;
}

ho_msg_t *ho_lines_bad_json(const ho_lines_t *in, const char *p, size_t n, const json_t *doc,
                            const json_error_t *jerr)
{
    char why[700];
    snprintf(why, sizeof why, "%s:%ld: not a JSON object: %s", in->file, in->lineno,
             doc ? "a JSON value of another type" : jerr->text);
    return ho_connector_quarantine(in->profile, in->file, in->lineno, "bad_json", "", why,
                                   ho_lines_raw(p, n));
}
