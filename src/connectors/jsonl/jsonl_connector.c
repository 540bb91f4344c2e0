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

#include "connectors/connectors_int.h"

typedef struct {
    long long max_record_bytes;
} s_opts_t;

static const ho_config_map_t s_config[] = {
    {HO_CFG_INT, "max_record_bytes", "4194304", offsetof(s_opts_t, max_record_bytes),
     "longest line; a longer one is quarantined"},
    {0},
};

typedef struct {
    ho_lines_t in;
} s_ctx_t;

static void s_close(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    ho_lines_close(&self->in);
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
    int rc = ho_lines_open(&self->in, args->profile, args->path, opts.max_record_bytes, err);
    if (rc != HO_OK) {
        free(self);
        return rc;
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
    const ho_profile_t *profile = self->in.profile;
    char *p = NULL;
    size_t n = 0;
    int got = ho_lines_next(&self->in, &p, &n, msg_p, err);
    if (got <= 0 || *msg_p) {
        return got;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(p, n, 0, &jerr);
    if (!json_is_object(doc)) {
        /* not UTF-8: no raw record (jansson refuses it), the reason says so */
        *msg_p = ho_lines_bad_json(&self->in, p, n, doc, &jerr);
        json_decref(doc);
        return *msg_p ? 1 : HO_ERR_NOMEM;
    }
    json_t *fields = json_object();
    json_t *extra = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(doc, key, val)
    {
        const char *f = ho_profile_field(profile, key);
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
    *msg_p = ho_connector_record(profile, self->in.file, self->in.lineno, fields, extra, p, n);
    return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
}

static uint64_t s_offset(void *ctx)
{
    return ((s_ctx_t *)ctx)->in.offset;
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
