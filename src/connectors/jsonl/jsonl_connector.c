/* jsonl_connector.c - the `jsonl` connector: one JSON object per line, its keys mapped by a
 * profile exactly like CSV columns (activities.jsonl with the activities profile).
 *
 * A line that is not a JSON object (or not UTF-8: jansson refuses it) becomes a `quarantine`
 * envelope (bad_json) with the line number; blank lines are skipped. Scalars become text;
 * an object or array value is kept as JSON for `attributes` and in `extra`, and as compact
 * JSON text in any other field. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"

typedef struct {
    long long max_record_bytes;
} s_opts_t;

static const ho_config_map_t s_config[] = {
    {HO_CFG_INT, "max_record_bytes", "4194304", offsetof(s_opts_t, max_record_bytes),
     "longest line; a longer one is quarantined"},
    {0},
};

typedef struct {
    const ho_profile_t *profile;
    char *file;
    FILE *f;
    char *line;
    size_t cap;
    long lineno;
    uint64_t offset;
    size_t max;
} s_ctx_t;

static void s_close(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    if (self->f && self->f != stdin) {
        fclose(self->f);
    }
    free(self->line);
    free(self->file);
    free(self);
    *ctx_p = NULL;
}

static int s_open(const ho_connector_args_t *args, void **ctx_p, ho_err_t *err)
{
    s_opts_t opts = {0};
    if (ho_config_map_apply(ho_profile_conf(args->profile), ho_profile_options(args->profile),
                            s_config, &opts, err) != HO_OK) {
        return err->code;
    }
    s_ctx_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->profile = args->profile;
    self->file = strdup(args->path);
    self->max = opts.max_record_bytes > 0 ? (size_t)opts.max_record_bytes : 4194304;
    self->f = strcmp(args->path, "-") == 0 ? stdin : fopen(args->path, "rb");
    if (!self->f) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", args->path, strerror(errno));
        void *p = self;
        s_close(&p);
        return HO_ERR_IO;
    }
    *ctx_p = self;
    return HO_OK;
}

static json_t *s_as_text(json_t *v, bool keep_structured)
{
    if (json_is_string(v)) {
        return json_incref(v);
    }
    if (json_is_null(v)) {
        return NULL;
    }
    if ((json_is_object(v) || json_is_array(v)) && keep_structured) {
        return json_incref(v);
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *s = text ? json_string(text) : NULL;
    free(text);
    return s;
}

static int s_next(void *ctx, ho_msg_t **msg_p, ho_err_t *err)
{
    s_ctx_t *self = ctx;
    for (;;) {
        char *p = NULL;
        size_t n = 0;
        int got = ho_connector_next_line(self->f, self->file, &self->line, &self->cap,
                                         &self->lineno, &self->offset, &p, &n, err);
        if (got <= 0) {
            return got;
        }
        char why[512];
        if (n > self->max) {
            snprintf(why, sizeof why, "%s:%ld: line of %zu bytes is longer than the limit",
                     self->file, self->lineno, n);
            *msg_p = ho_connector_quarantine(self->profile, self->file, self->lineno,
                                             "record_too_large", "", why, NULL);
            return *msg_p ? 1 : HO_ERR_NOMEM;
        }
        json_error_t jerr;
        json_t *doc = json_loadb(p, n, 0, &jerr);
        if (!json_is_object(doc)) {
            snprintf(why, sizeof why, "%s:%ld: not a JSON object: %s", self->file, self->lineno,
                     doc ? "a JSON value of another type" : jerr.text);
            json_decref(doc);
            char *u = malloc(n + 1);
            json_t *raw = NULL;
            if (u) {
                memcpy(u, p, n);
                u[n] = '\0';
                raw = json_string(u); /* NULL when not UTF-8: the reason says so */
                free(u);
            }
            *msg_p = ho_connector_quarantine(self->profile, self->file, self->lineno, "bad_json",
                                             "", why, raw);
            return *msg_p ? 1 : HO_ERR_NOMEM;
        }
        json_t *fields = json_object();
        json_t *extra = json_object();
        const char *key;
        json_t *val;
        json_object_foreach(doc, key, val)
        {
            const char *f = ho_profile_field(self->profile, key);
            json_t *v = s_as_text(val, !f || strcmp(f, "attributes") == 0);
            if (!v || (json_is_string(v) && json_string_length(v) == 0)) {
                json_decref(v);
                continue;
            }
            if (f) {
                if (!json_object_get(fields, f)) {
                    json_object_set_new(fields, f, v);
                } else {
                    json_decref(v);
                }
            } else {
                json_object_set_new(extra, key, v);
            }
        }
        json_decref(doc);
        *msg_p = ho_connector_record(self->profile, self->file, self->lineno, fields, extra, p, n);
        return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
}

static uint64_t s_offset(void *ctx)
{
    return ((s_ctx_t *)ctx)->offset;
}

const ho_connector_def_t ho_connector_jsonl = {
    .name = "jsonl",
    .description = "JSON Lines: one object per line, keys mapped like CSV columns",
    .config_map = s_config,
    .cb_open = s_open,
    .cb_next = s_next,
    .cb_offset = s_offset,
    .cb_close = s_close,
};
