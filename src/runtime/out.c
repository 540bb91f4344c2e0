/* out.c - the output collector a worker handler fills; see include/handoff/worker.h */
#include "handoff/worker.h"

#include <stdlib.h>
#include <string.h>

struct ho_out {
    char *origin;
    ho_msg_t **msgs;
    size_t n, cap;
};

ho_out_t *ho_out_new(const char *origin)
{
    ho_out_t *self = calloc(1, sizeof *self);
    if (self && !(self->origin = strdup(origin ? origin : ""))) {
        free(self);
        self = NULL;
    }
    return self;
}

void ho_out_clear(ho_out_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        ho_msg_destroy(&self->msgs[i]);
    }
    self->n = 0;
}

void ho_out_destroy(ho_out_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_out_t *self = *self_p;
    ho_out_clear(self);
    free(self->msgs);
    free(self->origin);
    free(self);
    *self_p = NULL;
}

int ho_out_emit(ho_out_t *self, ho_msg_t **msg_p)
{
    if (!msg_p || !*msg_p) {
        return HO_ERR_FIELD;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        ho_msg_t **grown = realloc(self->msgs, cap * sizeof *grown);
        if (!grown) {
            ho_msg_destroy(msg_p);
            return HO_ERR_NOMEM;
        }
        self->msgs = grown;
        self->cap = cap;
    }
    if (ho_msg_origin(*msg_p)[0] == '\0') {
        ho_msg_set_origin(*msg_p, self->origin);
    }
    self->msgs[self->n++] = *msg_p;
    *msg_p = NULL;
    return HO_OK;
}

int ho_out_quarantine(ho_out_t *self, const ho_msg_t *in, const char *stage, const char *code,
                      const char *field, const char *reason)
{
    ho_msg_t *q = ho_msg_new("quarantine");
    if (!q) {
        return HO_ERR_NOMEM;
    }
    /* Same input, same stage, same reason -> same id: a redelivered bad record is
     * quarantined once. */
    char key[512];
    int len = snprintf(key, sizeof key, "%s|%s|%s|%s", in ? ho_msg_id(in) : "", stage ? stage : "",
                       code ? code : "", field ? field : "");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "q", key, len > 0 ? (size_t)len : 0);
    ho_msg_set_id(q, id);
    json_t *p = ho_msg_payload(q);
    json_object_set_new(p, "stage", json_string(stage ? stage : ""));
    json_object_set_new(p, "code", json_string(code ? code : "invalid"));
    json_object_set_new(p, "field", json_string(field ? field : ""));
    json_t *why = json_string(reason ? reason : "");
    json_object_set_new(p, "reason", why ? why : json_string("(reason not valid UTF-8)"));
    if (in) {
        /* the refused record's time, never the wall clock: quarantine.at is the same on a
         * re-run (issue 12 item 7) */
        ho_msg_set_ts(q, ho_msg_ts(in));
        json_object_set_new(p, "event_id", json_string(ho_msg_id(in)));
        json_object_set_new(p, "event_type", json_string(ho_msg_type(in)));
        json_t *ref = json_object_get(ho_msg_payload(in), "source_ref");
        if (ref) {
            json_object_set_new(p, "source_ref", json_deep_copy(ref));
        }
        json_object_set_new(p, "raw", json_deep_copy(ho_msg_payload(in)));
    }
    return ho_out_emit(self, &q);
}

size_t ho_out_count(const ho_out_t *self)
{
    return self->n;
}

ho_msg_t *ho_out_at(const ho_out_t *self, size_t index)
{
    return index < self->n ? self->msgs[index] : NULL;
}

ho_msg_t **ho_out_take(ho_out_t *self, size_t *n_p)
{
    ho_msg_t **msgs = self->msgs;
    *n_p = self->n;
    self->msgs = NULL;
    self->n = self->cap = 0;
    if (!msgs) {
        msgs = calloc(1, sizeof *msgs);
    }
    return msgs;
}

int ho_worker_call(const ho_worker_def_t *def, void *ctx, ho_msg_t *const *in, size_t n,
                   ho_out_t *out)
{
    int rc = def->cb_handle(ctx, in, n, out);
    if (rc != HO_WORKER_OK) {
        ho_out_clear(out);
    }
    return rc;
}
