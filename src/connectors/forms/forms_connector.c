/* forms_connector.c - the `forms` import connector: a JSON Lines capture of form webhook
 * deliveries (form_webhooks.jsonl), one payload per line, each mapped by its shape with the
 * forms library (forms.h). Used by the `webhooks` profile.
 *
 * Lines that are not JSON objects are quarantined as bad_json, objects of no known shape as
 * unknown_shape, submissions the library cannot turn into a lead (a LinkedIn response of an
 * unknown form) with the library's code; all at stage `import` with the file and line.
 * Test leads, leadgen notifications without answers and a second delivery of a submission
 * already in this file come back as `skip` envelopes (test_lead, notification_only,
 * duplicate_delivery) that `handoff import` counts and does not send. A lead without an email goes
 * on to ingest, which quarantines it (missing_email) like a CSV row without one.
 *
 * LinkedIn answers need the form definitions: options.linkedin_forms (default
 * linkedin_lead_forms.json), looked for next to the imported file, then in the config folder.
 * No such file is not an error (LinkedIn lines are then quarantined as unknown_form); a file
 * that is there but unreadable is. */
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connectors_int.h"
#include "handoff/forms.h"

typedef struct {
    char *linkedin_forms;
    long long max_record_bytes;
} s_opts_t;

static const ho_config_map_t s_config[] = {
    {HO_CFG_STR, "linkedin_forms", "linkedin_lead_forms.json", offsetof(s_opts_t, linkedin_forms),
     "LinkedIn leadForms JSON (relative: next to the imported file, then the config folder)"},
    {HO_CFG_INT, "max_record_bytes", "4194304", offsetof(s_opts_t, max_record_bytes),
     "longest line; a longer one is quarantined"},
    {0},
};

typedef struct {
    ho_lines_t in;
    ho_linkedin_forms_t *linkedin;
    ho_form_seen_t *seen; /* submissions of this file: a second one is a re-delivery */
    ho_msg_t **pending;   /* further messages of the current line */
    size_t n_pending, next_pending;
} s_ctx_t;

static void s_drop_pending(s_ctx_t *self)
{
    for (size_t i = self->next_pending; i < self->n_pending; i++) {
        ho_msg_destroy(&self->pending[i]);
    }
    free(self->pending);
    self->pending = NULL;
    self->n_pending = self->next_pending = 0;
}

static void s_close(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *self = *ctx_p;
    ho_lines_close(&self->in);
    s_drop_pending(self);
    ho_linkedin_forms_destroy(&self->linkedin);
    ho_form_seen_destroy(&self->seen);
    free(self);
    *ctx_p = NULL;
}

/* The definitions file: absolute as given; relative next to the input, then config_dir. */
static int s_load_linkedin(s_ctx_t *self, const char *name, const char *input,
                           const char *config_dir, ho_err_t *err)
{
    if (!name || !name[0]) {
        return HO_OK;
    }
    char path[4096] = "";
    if (name[0] == '/') {
        snprintf(path, sizeof path, "%s", name);
    } else {
        char *copy = strdup(input);
        if (copy && strcmp(input, "-") != 0) {
            snprintf(path, sizeof path, "%s/%s", dirname(copy), name);
        }
        free(copy);
        if ((!path[0] || access(path, R_OK) != 0) && config_dir) {
            snprintf(path, sizeof path, "%s/%s", config_dir, name);
        }
    }
    if (!path[0] || access(path, R_OK) != 0) {
        return HO_OK;
    }
    self->linkedin = ho_linkedin_forms_load(path, err);
    return self->linkedin ? HO_OK : err->code;
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
        ho_config_map_free(s_config, &opts);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    self->seen = ho_form_seen_new();
    void *p = self;
    if (!self->seen) {
        ho_config_map_free(s_config, &opts);
        s_close(&p);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    long long max = opts.max_record_bytes;
    int rc = s_load_linkedin(self, opts.linkedin_forms, args->path, args->config_dir, err);
    ho_config_map_free(s_config, &opts);
    if (rc != HO_OK) {
        s_close(&p);
        return rc;
    }
    rc = ho_lines_open(&self->in, args->profile, args->path, max, err);
    if (rc != HO_OK) {
        s_close(&p);
        return rc;
    }
    *ctx_p = self;
    return HO_OK;
}

/* {file, line} in front of the webhook's {webhook, id}: ingest and the store name the file. */
static void s_file_ref(s_ctx_t *self, ho_msg_t *msg)
{
    json_t *p = ho_msg_payload(msg);
    json_t *ref = json_object_get(p, "source_ref");
    json_t *nref =
        json_pack("{s:s, s:I}", "file", self->in.file, "line", (json_int_t)self->in.lineno);
    if (json_is_object(ref)) {
        json_object_update_missing(nref, ref);
    }
    json_object_set_new(p, "source_ref", nref);
}

static int s_line(s_ctx_t *self, const char *p, size_t n, ho_msg_t **msg_p)
{
    const char *file = self->in.file;
    long lineno = self->in.lineno;
    char why[700];
    json_error_t jerr;
    json_t *doc = json_loadb(p, n, 0, &jerr);
    if (!json_is_object(doc)) {
        *msg_p = ho_lines_bad_json(&self->in, p, n, doc, &jerr);
        json_decref(doc);
        return *msg_p ? 1 : HO_ERR_NOMEM;
    }
    ho_form_opts_t fo = {.linkedin = self->linkedin};
    ho_form_result_t res;
    ho_err_t ferr = {0};
    if (ho_form_map(doc, &fo, &res, &ferr) != HO_OK) {
        snprintf(why, sizeof why, "%s:%ld: %s", file, lineno, ferr.message);
        *msg_p = ho_connector_quarantine(self->in.profile, file, lineno,
                                         ferr.code == HO_ERR_NOMEM ? "bad_record" : "unknown_shape",
                                         ferr.field, why, ho_lines_raw(p, n));
        json_decref(doc);
        return *msg_p ? 1 : HO_ERR_NOMEM;
    }
    json_decref(doc);
    self->pending = calloc(res.n, sizeof *self->pending);
    if (!self->pending) {
        ho_form_result_clear(&res);
        return HO_ERR_NOMEM;
    }
    for (size_t i = 0; i < res.n; i++) {
        ho_form_item_t *it = &res.items[i];
        s_file_ref(self, it->msg);
        if (it->skip) {
            snprintf(why, sizeof why, "%s:%ld: %s", file, lineno, it->reason);
            self->pending[self->n_pending] = ho_form_skip(it->msg, it->skip, why);
        } else if (ho_form_seen_add(self->seen, ho_msg_id(it->msg))) {
            const char *sid = json_string_value(
                json_object_get(json_object_get(ho_msg_payload(it->msg), "source_ref"), "id"));
            snprintf(why, sizeof why, "%s:%ld: %s submission %s was delivered before in this file",
                     file, lineno,
                     json_string_value(json_object_get(ho_msg_payload(it->msg), "source")),
                     sid ? sid : ho_msg_id(it->msg));
            self->pending[self->n_pending] = ho_form_skip(it->msg, "duplicate_delivery", why);
        } else if (it->qcode) {
            snprintf(why, sizeof why, "%s:%ld: %s", file, lineno, it->reason);
            self->pending[self->n_pending] =
                ho_form_quarantine(it->msg, "import", it->qcode, it->field, why);
        } else {
            self->pending[self->n_pending] = it->msg;
            it->msg = NULL;
        }
        if (self->pending[self->n_pending]) {
            self->n_pending++;
        }
    }
    ho_form_result_clear(&res);
    if (self->n_pending == 0) {
        s_drop_pending(self);
        return HO_ERR_NOMEM;
    }
    *msg_p = self->pending[0];
    self->next_pending = 1;
    return 1;
}

static int s_next(void *ctx, ho_msg_t **msg_p, ho_err_t *err)
{
    s_ctx_t *self = ctx;
    if (self->next_pending < self->n_pending) {
        *msg_p = self->pending[self->next_pending++];
        return 1;
    }
    s_drop_pending(self);
    char *p = NULL;
    size_t n = 0;
    int got = ho_lines_next(&self->in, &p, &n, msg_p, err);
    if (got <= 0 || *msg_p) {
        return got;
    }
    int rc = s_line(self, p, n, msg_p);
    if (rc == HO_ERR_NOMEM) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    return rc;
}

static uint64_t s_offset(void *ctx)
{
    return ((s_ctx_t *)ctx)->in.offset;
}

const ho_connector_def_t ho_connector_forms = {
    .name = "forms",
    .description = "form webhook payloads (Facebook, LinkedIn, HubSpot forms, Typeform, plain "
                   "JSON) as JSON Lines, one delivery per line",
    .config_map = s_config,
    .cb_open = s_open,
    .cb_next = s_next,
    .cb_offset = s_offset,
    .cb_close = s_close,
};
