/* profile.c - mapping profiles (deploy/profiles/NAME.yaml); see include/handoff/connector.h */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/profile_crm.h"
#include "handoff/connector.h"
#include "handoff/defaults.h"

typedef struct {
    char *column;
    char *field;
} s_map_t;

struct ho_profile {
    ho_conf_t *conf;
    char *name, *description, *source, *connector;
    ho_kind_t kind;
    bool latin1;
    char **date_formats; /* NULL-terminated */
    char **detect, **detect_any;
    size_t n_detect, n_detect_any;
    char **id_fields;
    size_t n_id_fields;
    s_map_t *map;
    size_t n_map;
    const ho_node_t *options;
};

static const char *const s_lead_fields[] = {
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "city",
    "phone",
    "message",
    "industry",
    "employees",
    "revenue",
    "country",
    "state",
    "lifecycle_stage",
    "lead_status",
    "original_source",
    "source_detail",
    "campaign",
    "owner",
    "created_at",
    "source_record_id",
    "website",
    "full_name",
    "postal_code",
    "address",
    "updated_at",
    "is_converted",
    NULL,
};
static const char *const s_activity_fields[] = {
    "activity_id", "email", "activity_type", "activity_date", "url",
    "campaign",    "asset", "source_system", "attributes",    NULL};
static const char *const s_feedback_fields[] = {
    "feedback_id", "email", "rep_id", "outcome", "reason", "occurred_at", "notes", "amount", NULL};

static const char *const *s_fields_of(ho_kind_t kind)
{
    return kind == HO_KIND_LEAD       ? s_lead_fields
           : kind == HO_KIND_ACTIVITY ? s_activity_fields
                                      : s_feedback_fields;
}

static bool s_known(const char *const *list, const char *f)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], f) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const *s_fields_named(const char *kind)
{
    return !kind                           ? NULL
           : strcmp(kind, "lead") == 0     ? s_lead_fields
           : strcmp(kind, "activity") == 0 ? s_activity_fields
           : strcmp(kind, "feedback") == 0 ? s_feedback_fields
                                           : NULL;
}

/* Every canonical field holds text but an activity's attributes (a map). */
static bool s_text_field(const char *f)
{
    return strcmp(f, "attributes") != 0;
}

bool ho_profile_text_field_known(const char *kind, const char *name)
{
    const char *const *list = s_fields_named(kind);
    return list && name && s_text_field(name) && s_known(list, name);
}

static size_t s_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[33];
    if (la > 32 || lb > 32) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = d[0];
        d[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = d[j], best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = d[j - 1] + 1 < best ? d[j - 1] + 1 : best;
            d[j] = best;
            diag = up;
        }
    }
    return d[lb];
}

const char *ho_profile_text_field_near(const char *kind, const char *name)
{
    const char *const *list = s_fields_named(kind);
    const char *near = NULL;
    size_t best = 3; /* at most 2 edits */
    for (size_t i = 0; list && name && list[i]; i++) {
        size_t d = s_text_field(list[i]) ? s_edit_distance(list[i], name) : SIZE_MAX;
        if (d < best) {
            best = d;
            near = list[i];
        }
    }
    return near;
}

const char *ho_profile_kind_name(ho_kind_t kind)
{
    return kind == HO_KIND_LEAD       ? "lead"
           : kind == HO_KIND_ACTIVITY ? "activity"
           : kind == HO_KIND_FEEDBACK ? "feedback"
                                      : "?";
}

static void s_strv_free(char **v, size_t n)
{
    if (!v) {
        return;
    }
    if (n == (size_t)-1) {
        for (size_t i = 0; v[i]; i++) {
            free(v[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            free(v[i]);
        }
    }
    free(v);
}

void ho_profile_destroy(ho_profile_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_profile_t *self = *self_p;
    free(self->name);
    free(self->description);
    free(self->source);
    free(self->connector);
    s_strv_free(self->date_formats, (size_t)-1);
    s_strv_free(self->detect, self->n_detect);
    s_strv_free(self->detect_any, self->n_detect_any);
    s_strv_free(self->id_fields, self->n_id_fields);
    for (size_t i = 0; i < self->n_map; i++) {
        free(self->map[i].column);
        free(self->map[i].field);
    }
    free(self->map);
    ho_conf_destroy(&self->conf);
    free(self);
    *self_p = NULL;
}

/* A sequence of scalars (or one scalar) into a malloc'd array; *n_p = count. */
static int s_strlist(const ho_conf_t *conf, const ho_node_t *node, char ***out, size_t *n_p,
                     bool null_terminate, ho_err_t *err)
{
    *out = NULL;
    *n_p = 0;
    if (!node) {
        if (null_terminate) {
            *out = calloc(1, sizeof **out);
        }
        return HO_OK;
    }
    size_t n = ho_node_kind(node) == HO_NODE_SEQ ? ho_node_size(node) : 1;
    char **v = calloc(n + 1, sizeof *v);
    if (!v) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const ho_node_t *item = ho_node_kind(node) == HO_NODE_SEQ ? ho_node_at(node, i) : node;
        const char *s = ho_node_str(item);
        if (!s) {
            s_strv_free(v, i);
            return ho_conf_fail(conf, item, err, HO_ERR_CONFIG, "expected text");
        }
        v[i] = strdup(s);
    }
    *out = v;
    *n_p = n;
    return HO_OK;
}

static ho_profile_t *s_build(ho_conf_t *conf, ho_err_t *err)
{
    static const char *const allowed[] = {
        "name",   "description", "kind",    "connector", "source",  "encoding", "date_formats",
        "detect", "detect_any",  "columns", "id_fields", "options", "crm",      NULL};
    ho_profile_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_conf_destroy(&conf);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->conf = conf;
    const ho_node_t *root = ho_conf_root(conf);
    const char *name, *desc, *kind, *connector, *source, *encoding;
    size_t n_fmt;
    if (ho_conf_check_keys(conf, root, allowed, err) != HO_OK ||
        ho_conf_need_str(conf, root, "name", &name, err) != HO_OK ||
        ho_conf_str(conf, root, "description", "", &desc, err) != HO_OK ||
        ho_conf_need_str(conf, root, "kind", &kind, err) != HO_OK ||
        ho_conf_str(conf, root, "connector", NULL, &connector, err) != HO_OK ||
        ho_conf_str(conf, root, "source", NULL, &source, err) != HO_OK ||
        ho_conf_str(conf, root, "encoding", "utf-8", &encoding, err) != HO_OK ||
        s_strlist(conf, ho_node_get(root, "date_formats"), &self->date_formats, &n_fmt, true,
                  err) != HO_OK ||
        s_strlist(conf, ho_node_get(root, "detect"), &self->detect, &self->n_detect, false, err) !=
            HO_OK ||
        s_strlist(conf, ho_node_get(root, "detect_any"), &self->detect_any, &self->n_detect_any,
                  false, err) != HO_OK ||
        s_strlist(conf, ho_node_get(root, "id_fields"), &self->id_fields, &self->n_id_fields, false,
                  err) != HO_OK) {
        ho_profile_destroy(&self);
        return NULL;
    }
    self->name = strdup(name);
    self->description = strdup(desc);
    self->source = strdup(source ? source : name);
    self->connector = connector && strcmp(connector, "auto") != 0 ? strdup(connector) : NULL;
    if (strcmp(kind, "lead") == 0) {
        self->kind = HO_KIND_LEAD;
    } else if (strcmp(kind, "activity") == 0) {
        self->kind = HO_KIND_ACTIVITY;
    } else if (strcmp(kind, "feedback") == 0) {
        self->kind = HO_KIND_FEEDBACK;
    } else {
        ho_conf_fail(conf, ho_node_get(root, "kind"), err, HO_ERR_CONFIG,
                     "expected lead, activity or feedback, got \"%s\"", kind);
        ho_profile_destroy(&self);
        return NULL;
    }
    if (strcasecmp(encoding, "latin1") == 0 || strcasecmp(encoding, "latin-1") == 0 ||
        strcasecmp(encoding, "iso-8859-1") == 0) {
        self->latin1 = true;
    } else if (strcasecmp(encoding, "utf-8") != 0 && strcasecmp(encoding, "utf8") != 0) {
        ho_conf_fail(conf, ho_node_get(root, "encoding"), err, HO_ERR_CONFIG,
                     "expected utf-8 or latin1, got \"%s\"", encoding);
        ho_profile_destroy(&self);
        return NULL;
    }
    const ho_node_t *cols = ho_node_get(root, "columns");
    if (cols && ho_node_kind(cols) != HO_NODE_MAP) {
        ho_conf_fail(conf, cols, err, HO_ERR_CONFIG, "expected a map of column: field");
        ho_profile_destroy(&self);
        return NULL;
    }
    if (!cols && !self->connector) {
        ho_conf_fail(conf, root, err, HO_ERR_CONFIG, "columns: missing (column: field map)");
        ho_profile_destroy(&self);
        return NULL;
    }
    const char *const *known = s_fields_of(self->kind);
    size_t n = cols ? ho_node_size(cols) : 0;
    self->map = calloc(n ? n : 1, sizeof *self->map);
    for (size_t i = 0; i < n && self->map; i++) {
        const ho_node_t *v = ho_node_at(cols, i);
        const char *field = ho_node_str(v);
        if (!field || !s_known(known, field)) {
            char list[600] = "";
            for (size_t k = 0; known[k]; k++) {
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                         known[k]);
            }
            ho_conf_fail(conf, v, err, HO_ERR_CONFIG, "unknown %s field \"%s\" (known: %s)",
                         ho_profile_kind_name(self->kind), field ? field : "(not text)", list);
            ho_profile_destroy(&self);
            return NULL;
        }
        self->map[i].column = strdup(ho_node_key_at(cols, i));
        self->map[i].field = strdup(field);
        self->n_map++;
    }
    for (size_t i = 0; i < self->n_id_fields; i++) {
        if (!s_known(known, self->id_fields[i])) {
            ho_conf_fail(conf, ho_node_get(root, "id_fields"), err, HO_ERR_CONFIG,
                         "unknown field \"%s\"", self->id_fields[i]);
            ho_profile_destroy(&self);
            return NULL;
        }
    }
    if (ho_profile_crm_check(conf, ho_node_get(root, "crm"), err) != HO_OK) {
        ho_profile_destroy(&self);
        return NULL;
    }
    self->options = ho_node_get(root, "options");
    return self;
}

ho_profile_t *ho_profile_parse(const char *text, size_t len, const char *origin, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_parse(text, len, origin, err);
    return conf ? s_build(conf, err) : NULL;
}

ho_profile_t *ho_profile_load_file(const char *path, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load(path, err);
    return conf ? s_build(conf, err) : NULL;
}

ho_profile_t *ho_profile_load(const char *config_dir, const char *name, ho_err_t *err)
{
    char rel[300];
    snprintf(rel, sizeof rel, "profiles/%s.yaml", name);
    ho_conf_t *conf = ho_conf_load_named(config_dir, rel, err);
    return conf ? s_build(conf, err) : NULL;
}

const char *ho_profile_name(const ho_profile_t *self)
{
    return self->name;
}

const char *ho_profile_description(const ho_profile_t *self)
{
    return self->description;
}

const char *ho_profile_source(const ho_profile_t *self)
{
    return self->source;
}

ho_kind_t ho_profile_kind(const ho_profile_t *self)
{
    return self->kind;
}

const char *ho_profile_connector(const ho_profile_t *self)
{
    return self->connector;
}

bool ho_profile_latin1(const ho_profile_t *self)
{
    return self->latin1;
}

const char *const *ho_profile_date_formats(const ho_profile_t *self)
{
    return (const char *const *)self->date_formats;
}

const char *ho_profile_field(const ho_profile_t *self, const char *column)
{
    for (size_t i = 0; i < self->n_map; i++) {
        if (strcmp(self->map[i].column, column) == 0) {
            return self->map[i].field;
        }
    }
    return NULL;
}

const char *const *ho_profile_id_fields(const ho_profile_t *self, size_t *n_p)
{
    *n_p = self->n_id_fields;
    return (const char *const *)self->id_fields;
}

const ho_conf_t *ho_profile_conf(const ho_profile_t *self)
{
    return self->conf;
}

const ho_node_t *ho_profile_options(const ho_profile_t *self)
{
    return self->options;
}

static bool s_has(const char *const *cols, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++) {
        if (cols[i] && strcmp(cols[i], want) == 0) {
            return true;
        }
    }
    return false;
}

int ho_profile_match(const ho_profile_t *self, const char *const *cols, size_t n)
{
    if (self->n_detect) {
        for (size_t i = 0; i < self->n_detect; i++) {
            if (!s_has(cols, n, self->detect[i])) {
                return 0;
            }
        }
        return (int)self->n_detect;
    }
    for (size_t i = 0; i < self->n_detect_any; i++) {
        if (s_has(cols, n, self->detect_any[i])) {
            return 1;
        }
    }
    return 0;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Room in *v (cap *cap) for one more name after the n there and the NULL that ends them;
 * false on out of memory (*v and *cap as they were). */
static bool s_names_room(char ***v, size_t n, size_t *cap)
{
    if (n + 1 < *cap) {
        return true;
    }
    char **g = realloc(*v, *cap * 2 * sizeof *g);
    if (!g) {
        return false;
    }
    *v = g;
    *cap *= 2;
    return true;
}

char **ho_profile_names(const char *config_dir)
{
    size_t n = 0, cap = 16;
    char **v = calloc(cap, sizeof *v);
    if (!v) {
        return NULL;
    }
    const char *f;
    for (size_t i = 0; (f = ho_default_file_at(i)) != NULL; i++) {
        size_t len = strlen(f);
        if (strncmp(f, "profiles/", 9) == 0 && len > 14 && strcmp(f + len - 5, ".yaml") == 0) {
            if (!s_names_room(&v, n, &cap)) {
                break;
            }
            v[n++] = strndup(f + 9, len - 14);
        }
    }
    if (config_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%.4000s/profiles", config_dir);
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0 || e->d_name[0] == '.') {
                continue;
            }
            if (!s_names_room(&v, n, &cap)) {
                break;
            }
            v[n++] = strndup(e->d_name, len - 5);
        }
        if (d) {
            closedir(d);
        }
    }
    qsort(v, n, sizeof *v, s_cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && strcmp(v[w - 1], v[i]) == 0) {
            free(v[i]);
            continue;
        }
        v[w++] = v[i];
    }
    v[w] = NULL;
    return v;
}

void ho_profile_names_free(char ***names_p)
{
    if (!names_p || !*names_p) {
        return;
    }
    s_strv_free(*names_p, (size_t)-1);
    *names_p = NULL;
}

ho_profile_t *ho_profile_detect(const char *config_dir, const char *format, const char *const *cols,
                                size_t n, ho_err_t *err)
{
    char **names = ho_profile_names(config_dir);
    ho_profile_t *best = NULL;
    int best_score = 0;
    bool tie = false;
    char tried[1024] = "";
    char tie_with[128] = "";
    for (size_t i = 0; names && names[i]; i++) {
        ho_err_t perr;
        ho_profile_t *p = ho_profile_load(config_dir, names[i], &perr);
        if (!p) {
            continue;
        }
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s", tried[0] ? ", " : "",
                 names[i]);
        /* a JSON file can only match a profile whose fields are JSON keys, and back */
        bool json_profile =
            p->n_detect_any > 0 || (p->connector && strcmp(p->connector, "csv") != 0);
        bool fits = strcmp(format, "jsonl") == 0 || !json_profile;
        int score = fits ? ho_profile_match(p, cols, n) : 0;
        if (score > best_score) {
            ho_profile_destroy(&best);
            best = p;
            best_score = score;
            tie = false;
        } else {
            if (score > 0 && score == best_score) {
                tie = true;
                snprintf(tie_with, sizeof tie_with, "%s", names[i]);
            }
            ho_profile_destroy(&p);
        }
    }
    ho_profile_names_free(&names);
    if (!best) {
        char head[300] = "";
        for (size_t i = 0; i < n && strlen(head) < 200; i++) {
            snprintf(head + strlen(head), sizeof head - strlen(head), "%s\"%s\"", i ? ", " : "",
                     cols[i] ? cols[i] : "");
        }
        ho_err_set(err, HO_ERR_NOT_FOUND, "",
                   "no profile matches the %s header [%s]; profiles: %s (choose one with "
                   "--source NAME, or write one and pass --profile-file PATH)",
                   format, head, tried);
        return NULL;
    }
    if (tie) {
        ho_err_set(err, HO_ERR_NOT_FOUND, "",
                   "the header matches profiles %s and %s equally; choose one with --source",
                   best->name, tie_with);
        ho_profile_destroy(&best);
        return NULL;
    }
    return best;
}
