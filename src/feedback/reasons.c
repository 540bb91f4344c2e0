/* reasons.c - the reason taxonomy (deploy/reasons.yaml); see reasons.h. */
#include <stdlib.h>
#include <string.h>

#include "handoff/conf.h"
#include "handoff/defaults.h"
#include "handoff/reasons.h"

static const char *const s_outcomes[] = {"accepted",    "rejected", "sql",
                                         "opportunity", "won",      "lost"};
#define S_N_OUTCOMES (sizeof s_outcomes / sizeof s_outcomes[0])

unsigned ho_outcome_parse(const char *name)
{
    for (size_t i = 0; name && i < S_N_OUTCOMES; i++) {
        if (strcmp(name, s_outcomes[i]) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

const char *ho_outcome_name(unsigned outcome)
{
    for (size_t i = 0; i < S_N_OUTCOMES; i++) {
        if (outcome == 1u << i) {
            return s_outcomes[i];
        }
    }
    return NULL;
}

bool ho_outcome_needs_reason(unsigned outcome)
{
    return outcome == HO_OUTCOME_REJECTED || outcome == HO_OUTCOME_LOST;
}

struct ho_reasons {
    ho_conf_t *conf; /* owns every string */
    ho_reason_t *items;
    size_t n;
    const char *blank;
};

void ho_reasons_destroy(ho_reasons_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_conf_destroy(&(*self_p)->conf);
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

static int s_reason(ho_reasons_t *self, const char *code, const ho_node_t *node, ho_err_t *err)
{
    const ho_conf_t *c = self->conf;
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return ho_conf_fail(c, node, err, HO_ERR_CONFIG,
                            "expected a map {label, owner, outcomes, disposition}");
    }
    static const char *const keys[] = {"label",       "owner",       "outcomes",
                                       "disposition", "description", NULL};
    if (ho_conf_check_keys(c, node, keys, err) != HO_OK) {
        return err->code;
    }
    ho_reason_t *r = &self->items[self->n];
    memset(r, 0, sizeof *r);
    r->code = code;
    if (ho_conf_need_str(c, node, "label", &r->label, err) != HO_OK ||
        ho_conf_need_str(c, node, "owner", &r->owner, err) != HO_OK ||
        ho_conf_str(c, node, "description", "", &r->description, err) != HO_OK ||
        ho_conf_str(c, node, "disposition", NULL, &r->disposition, err) != HO_OK) {
        return err->code;
    }
    if (strcmp(r->owner, "marketing") != 0 && strcmp(r->owner, "sales") != 0) {
        return ho_conf_fail(c, ho_node_get(node, "owner"), err, HO_ERR_CONFIG,
                            "expected marketing or sales, got \"%s\"", r->owner);
    }
    const ho_node_t *outs = ho_node_get(node, "outcomes");
    if (!outs || ho_node_kind(outs) != HO_NODE_SEQ || ho_node_size(outs) == 0) {
        return ho_conf_fail(c, outs ? outs : node, err, HO_ERR_CONFIG,
                            "%s: expected a list of outcomes, e.g. [rejected, lost]",
                            outs ? "outcomes" : "outcomes missing");
    }
    for (size_t i = 0; i < ho_node_size(outs); i++) {
        const ho_node_t *o = ho_node_at(outs, i);
        unsigned bit = ho_outcome_parse(ho_node_str(o));
        if (!ho_outcome_needs_reason(bit)) {
            return ho_conf_fail(c, o, err, HO_ERR_CONFIG,
                                "\"%s\": only rejected and lost carry a reason",
                                ho_node_str(o) ? ho_node_str(o) : "(not a word)");
        }
        r->outcomes |= bit;
    }
    if (r->disposition && r->disposition[0] == '\0') {
        r->disposition = NULL;
    }
    if (r->disposition && strcmp(r->disposition, "recycle") != 0 &&
        strcmp(r->disposition, "disqualify") != 0) {
        return ho_conf_fail(c, ho_node_get(node, "disposition"), err, HO_ERR_CONFIG,
                            "expected recycle or disqualify, got \"%s\"", r->disposition);
    }
    if ((r->outcomes & HO_OUTCOME_REJECTED) && !r->disposition) {
        return ho_conf_fail(c, node, err, HO_ERR_CONFIG,
                            "disposition (recycle or disqualify) is required when outcomes has "
                            "rejected");
    }
    self->n++;
    return HO_OK;
}

static ho_reasons_t *s_build(ho_conf_t *conf, ho_err_t *err)
{
    ho_reasons_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_conf_destroy(&conf);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->conf = conf;
    const ho_node_t *root = ho_conf_root(conf);
    static const char *const keys[] = {"reasons", "blank_reason", NULL};
    if (ho_node_kind(root) != HO_NODE_MAP) {
        ho_conf_fail(conf, root, err, HO_ERR_CONFIG, "expected a map with reasons:");
        goto fail;
    }
    if (ho_conf_check_keys(conf, root, keys, err) != HO_OK) {
        goto fail;
    }
    const ho_node_t *list = ho_node_get(root, "reasons");
    if (!list || ho_node_kind(list) != HO_NODE_MAP || ho_node_size(list) == 0) {
        ho_conf_fail(conf, list ? list : root, err, HO_ERR_CONFIG,
                     "reasons: expected a map of code: {label, owner, outcomes, disposition}");
        goto fail;
    }
    self->items = calloc(ho_node_size(list), sizeof *self->items);
    if (!self->items) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ho_node_size(list); i++) {
        const char *code = ho_node_key_at(list, i);
        const ho_node_t *node = ho_node_at(list, i);
        for (const char *p = code; *p; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
                ho_conf_fail(conf, node, err, HO_ERR_CONFIG,
                             "reason code \"%s\": use lowercase letters, digits and _", code);
                goto fail;
            }
        }
        if (s_reason(self, code, node, err) != HO_OK) {
            goto fail;
        }
    }
    const char *blank;
    if (ho_conf_str(conf, root, "blank_reason", "", &blank, err) != HO_OK) {
        goto fail;
    }
    if (blank[0]) {
        if (!ho_reasons_find(self, blank)) {
            ho_conf_fail(
                conf, ho_node_get(root, "blank_reason") ? ho_node_get(root, "blank_reason") : root,
                err, HO_ERR_CONFIG, "blank_reason: \"%s\" is not a reason below", blank);
            goto fail;
        }
        self->blank = blank;
    }
    return self;
fail:
    ho_reasons_destroy(&self);
    return NULL;
}

ho_reasons_t *ho_reasons_load(const char *config_dir, const char *name, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load_named(config_dir, name ? name : "reasons.yaml", err);
    return conf ? s_build(conf, err) : NULL;
}

ho_reasons_t *ho_reasons_parse(const char *text, size_t len, const char *origin, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_parse(text, len, origin, err);
    return conf ? s_build(conf, err) : NULL;
}

size_t ho_reasons_count(const ho_reasons_t *self)
{
    return self ? self->n : 0;
}

const ho_reason_t *ho_reasons_at(const ho_reasons_t *self, size_t index)
{
    return self && index < self->n ? &self->items[index] : NULL;
}

const ho_reason_t *ho_reasons_find(const ho_reasons_t *self, const char *code)
{
    for (size_t i = 0; self && code && i < self->n; i++) {
        if (strcmp(self->items[i].code, code) == 0) {
            return &self->items[i];
        }
    }
    return NULL;
}

const char *ho_reasons_blank(const ho_reasons_t *self)
{
    return self ? self->blank : NULL;
}
