/* conf.c - YAML (libyaml event parser) to a small tree with line numbers; config maps. */
#include "handoff/conf.h"
#include "handoff/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct ho_node {
    ho_node_kind_t kind;
    int line;
    char *path;
    char *text;       /* scalar */
    char **keys;      /* map keys */
    ho_node_t **kids; /* map values or sequence items */
    size_t n, cap;
};

struct ho_conf {
    char *name;
    ho_node_t *root;
};

static void s_node_free(ho_node_t *node)
{
    if (!node) {
        return;
    }
    for (size_t i = 0; i < node->n; i++) {
        s_node_free(node->kids[i]);
        if (node->keys) {
            free(node->keys[i]);
        }
    }
    free(node->kids);
    free(node->keys);
    free(node->text);
    free(node->path);
    free(node);
}

static ho_node_t *s_node_new(ho_node_kind_t kind, int line, const char *path)
{
    ho_node_t *node = calloc(1, sizeof *node);
    if (node) {
        node->kind = kind;
        node->line = line;
        node->path = strdup(path);
        if (!node->path) {
            free(node);
            node = NULL;
        }
    }
    return node;
}

static int s_node_add(ho_node_t *parent, char *key, ho_node_t *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        ho_node_t **kids = realloc(parent->kids, cap * sizeof *kids);
        if (!kids) {
            return -1;
        }
        parent->kids = kids;
        if (parent->kind == HO_NODE_MAP) {
            char **keys = realloc(parent->keys, cap * sizeof *keys);
            if (!keys) {
                return -1;
            }
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    if (parent->kind == HO_NODE_MAP) {
        parent->keys[parent->n] = key;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

#define S_MAX_DEPTH 64 /* nesting of maps and sequences; deeper is refused, not recursed */

typedef struct {
    yaml_parser_t parser;
    const char *name;
    ho_err_t *err;
    int depth;
} s_reader_t;

static int s_fail_at(s_reader_t *r, int line, const char *fmt, const char *detail)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, detail);
    return ho_err_set(r->err, HO_ERR_CONFIG, "", "%s:%d: %s", r->name, line, msg);
}

static int s_next(s_reader_t *r, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&r->parser, ev)) {
        int line = (int)r->parser.problem_mark.line + 1;
        return s_fail_at(r, line, "YAML syntax error: %s",
                         r->parser.problem ? r->parser.problem : "unknown");
    }
    return HO_OK;
}

static int s_parse_node(s_reader_t *r, yaml_event_t *ev, const char *path, ho_node_t **out);

static int s_parse_children(s_reader_t *r, ho_node_t *node)
{
    for (;;) {
        yaml_event_t ev;
        int rc = s_next(r, &ev);
        if (rc != HO_OK) {
            return rc;
        }
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return HO_OK;
        }
        char *key = NULL;
        char sub[256];
        if (node->kind == HO_NODE_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                int line = (int)ev.start_mark.line + 1;
                yaml_event_delete(&ev);
                return s_fail_at(r, line, "%s: map keys must be plain scalars", node->path);
            }
            int key_line = (int)ev.start_mark.line + 1;
            key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            int has_nul = key && strlen(key) != ev.data.scalar.length;
            yaml_event_delete(&ev);
            if (!key) {
                return ho_err_set(r->err, HO_ERR_NOMEM, "", "out of memory");
            }
            if (has_nul) {
                free(key);
                return s_fail_at(r, key_line, "%s: a map key contains a NUL character",
                                 node->path[0] ? node->path : "(root)");
            }
            for (size_t i = 0; i < node->n; i++) {
                if (strcmp(node->keys[i], key) == 0) {
                    int line = key_line;
                    char what[200];
                    snprintf(what, sizeof what, "%s%s%s", node->path, node->path[0] ? "." : "",
                             key);
                    free(key);
                    return s_fail_at(r, line, "%s: duplicate key", what);
                }
            }
            snprintf(sub, sizeof sub, "%s%s%s", node->path, node->path[0] ? "." : "", key);
            rc = s_next(r, &ev);
            if (rc != HO_OK) {
                free(key);
                return rc;
            }
        } else {
            snprintf(sub, sizeof sub, "%s[%zu]", node->path, node->n);
        }
        ho_node_t *kid = NULL;
        rc = s_parse_node(r, &ev, sub, &kid);
        if (rc != HO_OK) {
            free(key);
            return rc;
        }
        if (s_node_add(node, key, kid) != 0) {
            free(key);
            s_node_free(kid);
            return ho_err_set(r->err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
}

/* Consumes ev. */
static int s_parse_node(s_reader_t *r, yaml_event_t *ev, const char *path, ho_node_t **out)
{
    int line = (int)ev->start_mark.line + 1;
    *out = NULL;
    int rc = HO_OK;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        ho_node_t *node = s_node_new(HO_NODE_SCALAR, line, path);
        if (node) {
            node->text = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        }
        int has_nul = node && node->text && strlen(node->text) != ev->data.scalar.length;
        yaml_event_delete(ev);
        if (!node || !node->text) {
            s_node_free(node);
            return ho_err_set(r->err, HO_ERR_NOMEM, "", "out of memory");
        }
        if (has_nul) {
            s_node_free(node);
            return s_fail_at(r, line, "%s: value contains a NUL character",
                             path[0] ? path : "(root)");
        }
        *out = node;
        return HO_OK;
    }
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        ho_node_kind_t kind = ev->type == YAML_MAPPING_START_EVENT ? HO_NODE_MAP : HO_NODE_SEQ;
        yaml_event_delete(ev);
        if (r->depth >= S_MAX_DEPTH) {
            return s_fail_at(r, line, "%s: nested deeper than 64 levels",
                             path[0] ? path : "(root)");
        }
        ho_node_t *node = s_node_new(kind, line, path);
        if (!node) {
            return ho_err_set(r->err, HO_ERR_NOMEM, "", "out of memory");
        }
        r->depth++;
        rc = s_parse_children(r, node);
        r->depth--;
        if (rc != HO_OK) {
            s_node_free(node);
            return rc;
        }
        *out = node;
        return HO_OK;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return s_fail_at(r, line, "%s: YAML aliases are not supported", path[0] ? path : "(root)");
    default:
        yaml_event_delete(ev);
        return s_fail_at(r, line, "%s: unexpected YAML event", path[0] ? path : "(root)");
    }
}

ho_conf_t *ho_conf_parse(const char *text, size_t len, const char *name, ho_err_t *err)
{
    ho_conf_t *self = calloc(1, sizeof *self);
    if (!self || !(self->name = strdup(name ? name : "(config)"))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    s_reader_t r = {.name = self->name, .err = err};
    yaml_parser_initialize(&r.parser);
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    int rc = HO_OK;
    int done = 0;
    while (rc == HO_OK && !done) {
        yaml_event_t ev;
        rc = s_next(&r, &ev);
        if (rc != HO_OK) {
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            yaml_event_delete(&ev);
            break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            yaml_event_delete(&ev);
            break;
        default:
            if (self->root) {
                int line = (int)ev.start_mark.line + 1;
                yaml_event_delete(&ev);
                rc = s_fail_at(&r, line, "%s", "only one YAML document per file");
                break;
            }
            rc = s_parse_node(&r, &ev, "", &self->root);
            break;
        }
    }
    yaml_parser_delete(&r.parser);
    if (rc == HO_OK && !self->root) {
        self->root = s_node_new(HO_NODE_MAP, 1, "");
    }
    if (rc == HO_OK && self->root && self->root->kind == HO_NODE_SCALAR &&
        self->root->text[0] == '\0') {
        s_node_free(self->root);
        self->root = s_node_new(HO_NODE_MAP, 1, "");
    }
    if (rc != HO_OK || !self->root) {
        if (rc == HO_OK) {
            ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
        ho_conf_destroy(&self);
    }
    return self;
}

ho_conf_t *ho_conf_load(const char *path, ho_err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ho_err_set(err, HO_ERR_IO, "", "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                ho_err_set(err, HO_ERR_NOMEM, "", "%s: out of memory", path);
                return NULL;
            }
            text = grown;
        }
        memcpy(text + len, chunk, got);
        len += got;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(text);
        ho_err_set(err, HO_ERR_IO, "", "%s: read error", path);
        return NULL;
    }
    ho_conf_t *self = ho_conf_parse(text ? text : "", len, path, err);
    free(text);
    return self;
}

void ho_conf_destroy(ho_conf_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    s_node_free((*self_p)->root);
    free((*self_p)->name);
    free(*self_p);
    *self_p = NULL;
}

const char *ho_conf_name(const ho_conf_t *self)
{
    return self->name;
}
const ho_node_t *ho_conf_root(const ho_conf_t *self)
{
    return self->root;
}
ho_node_kind_t ho_node_kind(const ho_node_t *node)
{
    return node->kind;
}
int ho_node_line(const ho_node_t *node)
{
    return node->line;
}
const char *ho_node_path(const ho_node_t *node)
{
    return node->path;
}
const char *ho_node_str(const ho_node_t *node)
{
    return node && node->kind == HO_NODE_SCALAR ? node->text : NULL;
}
size_t ho_node_size(const ho_node_t *node)
{
    return node && node->kind != HO_NODE_SCALAR ? node->n : 0;
}
const ho_node_t *ho_node_at(const ho_node_t *node, size_t index)
{
    return node && node->kind != HO_NODE_SCALAR && index < node->n ? node->kids[index] : NULL;
}
const char *ho_node_key_at(const ho_node_t *node, size_t index)
{
    return node && node->kind == HO_NODE_MAP && index < node->n ? node->keys[index] : NULL;
}

const ho_node_t *ho_node_get(const ho_node_t *map, const char *key)
{
    if (!map || map->kind != HO_NODE_MAP) {
        return NULL;
    }
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            return map->kids[i];
        }
    }
    return NULL;
}

int ho_conf_fail(const ho_conf_t *self, const ho_node_t *node, ho_err_t *err, int code,
                 const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *path = node && node->path[0] ? node->path : "(root)";
    return ho_err_set(err, code, node ? node->path : "", "%s:%d: %s: %s", self->name,
                      node ? node->line : 0, path, msg);
}

static const ho_node_t *s_scalar(const ho_conf_t *self, const ho_node_t *map, const char *key,
                                 int *rc, ho_err_t *err)
{
    *rc = HO_OK;
    const ho_node_t *node = ho_node_get(map, key);
    if (node && node->kind != HO_NODE_SCALAR) {
        *rc = ho_conf_fail(self, node, err, HO_ERR_CONFIG, "expected a single value");
        return NULL;
    }
    return node;
}

int ho_conf_str(const ho_conf_t *self, const ho_node_t *map, const char *key, const char *def,
                const char **out, ho_err_t *err)
{
    int rc;
    const ho_node_t *node = s_scalar(self, map, key, &rc, err);
    *out = node ? node->text : def;
    return rc;
}

int ho_conf_need_str(const ho_conf_t *self, const ho_node_t *map, const char *key,
                     const char **out, ho_err_t *err)
{
    int rc;
    const ho_node_t *node = s_scalar(self, map, key, &rc, err);
    if (rc != HO_OK) {
        return rc;
    }
    if (!node) {
        *out = NULL;
        return ho_conf_fail(self, map, err, HO_ERR_CONFIG, "missing required key '%s'", key);
    }
    *out = node->text;
    return HO_OK;
}

int ho_conf_int(const ho_conf_t *self, const ho_node_t *map, const char *key, long long def,
                long long *out, ho_err_t *err)
{
    int rc;
    const ho_node_t *node = s_scalar(self, map, key, &rc, err);
    *out = def;
    if (!node) {
        return rc;
    }
    char *end;
    errno = 0;
    long long v = strtoll(node->text, &end, 10);
    if (errno || end == node->text || *end) {
        return ho_conf_fail(self, node, err, HO_ERR_CONFIG, "expected an integer, got \"%.40s\"",
                            node->text);
    }
    *out = v;
    return HO_OK;
}

int ho_conf_double(const ho_conf_t *self, const ho_node_t *map, const char *key, double def,
                   double *out, ho_err_t *err)
{
    int rc;
    const ho_node_t *node = s_scalar(self, map, key, &rc, err);
    *out = def;
    if (!node) {
        return rc;
    }
    char *end;
    errno = 0;
    double v = strtod(node->text, &end);
    if (errno || end == node->text || *end || !isfinite(v)) {
        return ho_conf_fail(self, node, err, HO_ERR_CONFIG, "expected a number, got \"%.40s\"",
                            node->text);
    }
    *out = v;
    return HO_OK;
}

int ho_conf_bool(const ho_conf_t *self, const ho_node_t *map, const char *key, bool def,
                 bool *out, ho_err_t *err)
{
    int rc;
    const ho_node_t *node = s_scalar(self, map, key, &rc, err);
    *out = def;
    if (!node) {
        return rc;
    }
    const char *t = node->text;
    if (!strcmp(t, "true") || !strcmp(t, "yes") || !strcmp(t, "on") || !strcmp(t, "TRUE") ||
        !strcmp(t, "True")) {
        *out = true;
    } else if (!strcmp(t, "false") || !strcmp(t, "no") || !strcmp(t, "off") ||
               !strcmp(t, "FALSE") || !strcmp(t, "False")) {
        *out = false;
    } else {
        return ho_conf_fail(self, node, err, HO_ERR_CONFIG, "expected true or false, got \"%.40s\"",
                            t);
    }
    return HO_OK;
}

/* "unknown key 'X'" at the key's file:line, with the nearest allowed key when it looks like a
 * typo of one (the CLI's did-you-mean, so commands, options and keys all suggest alike).
 * allowed is NULL-terminated; NULL (out of memory) gives no suggestion. */
static int s_unknown_key(const ho_conf_t *self, const ho_node_t *map, size_t i,
                         const char *const *allowed, ho_err_t *err)
{
    size_t n = 0;
    while (allowed && allowed[n]) {
        n++;
    }
    const char *near = ho_cli_nearest(map->keys[i], allowed, n);
    if (near) {
        return ho_conf_fail(self, map->kids[i], err, HO_ERR_CONFIG,
                            "unknown key '%s' (did you mean %s?)", map->keys[i], near);
    }
    return ho_conf_fail(self, map->kids[i], err, HO_ERR_CONFIG, "unknown key '%s'",
                        map->keys[i]);
}

int ho_conf_check_keys(const ho_conf_t *self, const ho_node_t *map, const char *const *allowed,
                       ho_err_t *err)
{
    if (!map) {
        return HO_OK;
    }
    if (map->kind != HO_NODE_MAP) {
        return ho_conf_fail(self, map, err, HO_ERR_CONFIG, "expected a map of settings");
    }
    for (size_t i = 0; i < map->n; i++) {
        int known = 0;
        for (size_t j = 0; allowed[j] && !known; j++) {
            known = strcmp(allowed[j], map->keys[i]) == 0;
        }
        if (!known) {
            return s_unknown_key(self, map, i, allowed, err);
        }
    }
    return HO_OK;
}

int ho_config_map_apply(const ho_conf_t *self, const ho_node_t *map,
                        const ho_config_map_t *table, void *target, ho_err_t *err)
{
    if (map && map->kind != HO_NODE_MAP) {
        return ho_conf_fail(self, map, err, HO_ERR_CONFIG, "expected a map of settings");
    }
    for (size_t i = 0; map && i < map->n; i++) {
        int known = 0;
        for (const ho_config_map_t *e = table; e->key && !known; e++) {
            known = strcmp(e->key, map->keys[i]) == 0;
        }
        if (!known) {
            size_t n = 0;
            while (table[n].key) {
                n++;
            }
            const char **keys = calloc(n + 1, sizeof *keys);
            for (size_t j = 0; keys && j < n; j++) {
                keys[j] = table[j].key;
            }
            int rc = s_unknown_key(self, map, i, keys, err);
            free(keys);
            return rc;
        }
    }
    for (const ho_config_map_t *e = table; e->key; e++) {
        char *slot = (char *)target + e->offset;
        int rc = HO_OK;
        switch (e->type) {
        case HO_CFG_STR: {
            const char *v;
            rc = self ? ho_conf_str(self, map, e->key, e->def ? e->def : "", &v, err) : HO_OK;
            if (!self) {
                v = e->def ? e->def : "";
            }
            if (rc == HO_OK) {
                char *copy = strdup(v);
                if (!copy) {
                    return ho_err_set(err, HO_ERR_NOMEM, e->key, "out of memory");
                }
                free(*(char **)slot);
                *(char **)slot = copy;
            }
            break;
        }
        case HO_CFG_INT: {
            long long def = e->def ? strtoll(e->def, NULL, 10) : 0;
            long long v = def;
            rc = self ? ho_conf_int(self, map, e->key, def, &v, err) : HO_OK;
            *(long long *)slot = v;
            break;
        }
        case HO_CFG_DOUBLE: {
            double def = e->def ? strtod(e->def, NULL) : 0.0;
            double v = def;
            rc = self ? ho_conf_double(self, map, e->key, def, &v, err) : HO_OK;
            *(double *)slot = v;
            break;
        }
        case HO_CFG_BOOL: {
            bool def = e->def && strcmp(e->def, "true") == 0;
            bool v = def;
            rc = self ? ho_conf_bool(self, map, e->key, def, &v, err) : HO_OK;
            *(bool *)slot = v;
            break;
        }
        }
        if (rc != HO_OK) {
            return rc;
        }
    }
    return HO_OK;
}

void ho_config_map_free(const ho_config_map_t *table, void *target)
{
    for (const ho_config_map_t *e = table; e->key; e++) {
        if (e->type == HO_CFG_STR) {
            char **slot = (char **)((char *)target + e->offset);
            free(*slot);
            *slot = NULL;
        }
    }
}
