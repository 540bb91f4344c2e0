/* forms_seen.c - the same form submission delivered again (a webhook retried, an export
 * overlapping the last one): a set of the event ids seen in this run, and the `skip` envelope
 * that says why a record was not imported; see forms.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/forms.h"

/* ---- re-deliveries ---- */

struct ho_form_seen {
    char **slots; /* open addressing, power of two */
    size_t cap, n;
};

ho_form_seen_t *ho_form_seen_new(void)
{
    ho_form_seen_t *self = calloc(1, sizeof *self);
    if (self) {
        self->cap = 1024;
        self->slots = calloc(self->cap, sizeof *self->slots);
        if (!self->slots) {
            free(self);
            return NULL;
        }
    }
    return self;
}

void ho_form_seen_destroy(ho_form_seen_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_form_seen_t *self = *self_p;
    for (size_t i = 0; i < self->cap; i++) {
        free(self->slots[i]);
    }
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static size_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return (size_t)h;
}

/* Insert without growing; true when already there. */
static bool s_seen_put(char **slots, size_t cap, char *id, bool *taken)
{
    size_t i = s_hash(id) & (cap - 1);
    while (slots[i]) {
        if (strcmp(slots[i], id) == 0) {
            return true;
        }
        i = (i + 1) & (cap - 1);
    }
    slots[i] = id;
    *taken = true;
    return false;
}

bool ho_form_seen_add(ho_form_seen_t *self, const char *id)
{
    if (!self || !id) {
        return false;
    }
    if ((self->n + 1) * 2 > self->cap) {
        size_t cap = self->cap * 2;
        char **slots = calloc(cap, sizeof *slots);
        if (slots) {
            for (size_t i = 0; i < self->cap; i++) {
                bool taken = false;
                if (self->slots[i]) {
                    s_seen_put(slots, cap, self->slots[i], &taken);
                }
            }
            free(self->slots);
            self->slots = slots;
            self->cap = cap;
        }
    }
    if (self->n + 1 >= self->cap) {
        return false; /* out of memory and full: counted as new rather than lost */
    }
    char *copy = strdup(id);
    if (!copy) {
        return false;
    }
    bool taken = false;
    bool dup = s_seen_put(self->slots, self->cap, copy, &taken);
    if (taken) {
        self->n++;
    } else {
        free(copy);
    }
    return dup;
}

ho_msg_t *ho_form_skip(const ho_msg_t *lead, const char *code, const char *reason)
{
    ho_msg_t *m = ho_msg_new("skip");
    if (!m) {
        return NULL;
    }
    json_t *p = ho_msg_payload(m);
    json_object_set_new(p, "code", json_string(code));
    json_t *why = json_string(reason ? reason : "");
    json_object_set_new(p, "reason", why ? why : json_string("(reason not valid UTF-8)"));
    if (lead) {
        const json_t *lp = ho_msg_payload(lead);
        ho_msg_set_id(m, ho_msg_id(lead));
        json_object_set_new(p, "event_id", json_string(ho_msg_id(lead)));
        json_object_set_new(p, "event_type", json_string(ho_msg_type(lead)));
        json_object_set_new(p, "source", json_deep_copy(json_object_get(lp, "source")));
        if (json_object_get(lp, "source_ref")) {
            json_object_set_new(p, "source_ref", json_deep_copy(json_object_get(lp, "source_ref")));
        }
    }
    return m;
}
