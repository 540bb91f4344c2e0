/* csv_connector.c - the `csv` connector: a CSV export with a header row, mapped by a profile.
 *
 * Records the reader cannot take as they are become `quarantine` envelopes naming the file,
 * the line where the record starts and the column: a row with more or fewer fields than the
 * header (bad_column_count), a field that is not UTF-8 when the profile does not say latin1
 * (bad_utf8), a record longer than max_record_bytes (record_too_large). Every other row
 * becomes a raw envelope; empty fields are left out, unmapped columns go to `extra`. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/connector.h"
#include "handoff/csvio.h"

typedef struct {
    char *delimiter;
    long long max_record_bytes;
} s_opts_t;

static const ho_config_map_t s_config[] = {
    {HO_CFG_STR, "delimiter", ",", offsetof(s_opts_t, delimiter), "field separator (one byte)"},
    {HO_CFG_INT, "max_record_bytes", "4194304", offsetof(s_opts_t, max_record_bytes),
     "longest record; a longer one (an unclosed quote) is quarantined, memory stays bounded"},
    {0},
};

typedef struct {
    const ho_profile_t *profile;
    char *file;
    ho_csv_t *csv;
    char **header;
    const char **fields; /* canonical field per column, NULL = extra */
    size_t ncols;
    bool latin1;
} s_ctx_t;

static void s_close(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    ho_csv_destroy(&self->csv);
    for (size_t i = 0; i < self->ncols; i++) {
        free(self->header[i]);
    }
    free(self->header);
    free(self->fields);
    free(self->file);
    free(self);
    *ctx_p = NULL;
}

/* A field as JSON text: the profile's encoding, or a safe rendering for quarantine. */
static json_t *s_text(const char *s, size_t len, bool latin1)
{
    if (latin1 || ho_utf8_invalid_at(s, len) >= 0) {
        char *u = ho_latin1_to_utf8(s, len);
        json_t *j = u ? json_string(u) : NULL;
        free(u);
        return j ? j : json_string("");
    }
    json_t *j = json_stringn(s, len);
    return j ? j : json_string("");
}

static int s_open(const ho_connector_args_t *args, void **ctx_p, ho_err_t *err)
{
    s_opts_t opts = {0};
    if (ho_config_map_apply(ho_profile_conf(args->profile), ho_profile_options(args->profile),
                            s_config, &opts, err) != HO_OK) {
        return err->code;
    }
    ho_csv_opts_t copts = {opts.delimiter && opts.delimiter[0] ? opts.delimiter[0] : ',',
                           opts.max_record_bytes > 0 ? (size_t)opts.max_record_bytes : 0};
    ho_config_map_free(s_config, &opts);
    s_ctx_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->profile = args->profile;
    self->file = strdup(args->path);
    self->latin1 = ho_profile_latin1(args->profile);
    self->csv = ho_csv_open(args->path, &copts, err);
    if (!self->csv) {
        void *p = self;
        s_close(&p);
        return err->code;
    }
    const ho_csv_row_t *row;
    int rc = ho_csv_next(self->csv, &row, err);
    if (rc != 1) {
        void *p = self;
        s_close(&p);
        return rc == 0
                   ? ho_err_set(err, HO_ERR_FIELD, "", "%s: empty file (no header row)", args->path)
                   : rc;
    }
    self->ncols = row->n;
    self->header = calloc(row->n, sizeof *self->header);
    self->fields = calloc(row->n, sizeof *self->fields);
    if (!self->header || !self->fields) {
        void *p = self;
        s_close(&p);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < row->n; i++) {
        if (self->latin1) {
            self->header[i] = ho_latin1_to_utf8(row->fields[i], row->lens[i]);
        } else if (ho_utf8_invalid_at(row->fields[i], row->lens[i]) >= 0) {
            ho_err_set(err, HO_ERR_FIELD, "header", "%s:%ld: header column %zu is not UTF-8",
                       args->path, row->line, i + 1);
            void *p = self;
            s_close(&p);
            return HO_ERR_FIELD;
        } else {
            self->header[i] = strdup(row->fields[i]);
        }
        self->fields[i] = ho_profile_field(args->profile, self->header[i]);
    }
    *ctx_p = self;
    return HO_OK;
}

static json_t *s_raw_row(const ho_csv_row_t *row)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < row->n; i++) {
        json_array_append_new(arr, s_text(row->fields[i], row->lens[i], false));
    }
    return arr;
}

static int s_next(void *ctx, ho_msg_t **msg_p, ho_err_t *err)
{
    s_ctx_t *self = ctx;
    const ho_csv_row_t *row;
    int rc = ho_csv_next(self->csv, &row, err);
    if (rc != 1) {
        return rc;
    }
    char why[512];
    if (row->too_large) {
        snprintf(why, sizeof why,
                 "%s:%ld: record longer than the limit (lines %ld-%ld), an unclosed quote?",
                 self->file, row->line, row->line, row->end_line);
        *msg_p = ho_connector_quarantine(self->profile, self->file, row->line, "record_too_large",
                                         "", why, NULL);
        return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (row->n != self->ncols) {
        snprintf(why, sizeof why, "%s:%ld: %zu fields, the header has %zu", self->file, row->line,
                 row->n, self->ncols);
        *msg_p = ho_connector_quarantine(self->profile, self->file, row->line, "bad_column_count",
                                         "", why, s_raw_row(row));
        return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (!self->latin1) {
        for (size_t i = 0; i < row->n; i++) {
            long at = ho_utf8_invalid_at(row->fields[i], row->lens[i]);
            if (at >= 0) {
                snprintf(why, sizeof why,
                         "%s:%ld: column \"%s\" (field %zu): invalid UTF-8 at byte %ld (set "
                         "encoding: latin1 in the profile if the file is Latin-1)",
                         self->file, row->line, self->header[i], i + 1, at + 1);
                *msg_p = ho_connector_quarantine(self->profile, self->file, row->line, "bad_utf8",
                                                 self->header[i], why, s_raw_row(row));
                return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            }
        }
    }
    json_t *fields = json_object();
    json_t *extra = json_object();
    /* the record's bytes (fields joined by US) identify it when the profile names no id */
    size_t total = 0;
    for (size_t i = 0; i < row->n; i++) {
        total += row->lens[i] + 1;
    }
    char *bytes = malloc(total + 1);
    size_t off = 0;
    for (size_t i = 0; i < row->n; i++) {
        if (bytes) {
            memcpy(bytes + off, row->fields[i], row->lens[i]);
            off += row->lens[i];
            bytes[off++] = '\x1f';
        }
        if (row->lens[i] == 0) {
            continue;
        }
        json_t *v = s_text(row->fields[i], row->lens[i], self->latin1);
        const char *f = self->fields[i];
        if (f) {
            if (!json_object_get(fields, f)) {
                json_object_set_new(fields, f, v);
            } else {
                json_decref(v);
            }
        } else {
            json_object_set_new(extra, self->header[i], v);
        }
    }
    *msg_p = ho_connector_record(self->profile, self->file, row->line, fields, extra, bytes,
                                 bytes ? off : 0);
    free(bytes);
    return *msg_p ? 1 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
}

static uint64_t s_offset(void *ctx)
{
    return ho_csv_offset(((s_ctx_t *)ctx)->csv);
}

const ho_connector_def_t ho_connector_csv = {
    .name = "csv",
    .description = "CSV export with a header row (libcsv; BOM, CRLF, quoted line breaks)",
    .config_map = s_config,
    .cb_open = s_open,
    .cb_next = s_next,
    .cb_offset = s_offset,
    .cb_close = s_close,
};
