/* model.c - the scoring model (deploy/scoring.yaml): load, validate, score one lead snapshot.
 *
 * Loading checks everything a person can get wrong in the YAML and names file, line and key:
 * unknown keys, wrong types, bad regular expressions, unknown activity types, bands out of
 * order, a missing version. Scoring never fails on a lead's field values (a field of an
 * unexpected type just does not match); it fails only on a snapshot whose shape is wrong
 * (activities not an array, an activity without a time), naming the field. */
#include <math.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handoff/defaults.h"
#include "handoff/scoring.h"

/* Floors and ceilings stay within +-1e9 so fit + interest fits an int; sums are 64-bit. */
#define S_LIMIT 1000000000LL
/* Bounds that keep every sum far from overflow: rules per section, activities per lead. */
#define S_MAX_RULES 1000
#define S_MAX_ACTIVITIES 10000

#define S_N_TYPES 9 /* s_activity_types */

typedef enum { S_MATCH = 1, S_IN, S_EQUALS, S_RANGE, S_MISSING } s_test_t;
typedef enum { S_EQ_TEXT = 0, S_EQ_BOOL, S_EQ_NUM } s_eq_kind_t;

typedef struct {
    char *name;
    int group; /* index into the model's group names, -1 = none */
    long long points;
    bool disqualify;
    char **fields;
    size_t n_fields;
    s_test_t test;
    regex_t re;
    bool has_re;
    char *pattern;
    char **values;
    size_t n_values;
    s_eq_kind_t eq_kind;
    bool eq_bool;
    double eq_num;
    bool has_min, has_max;
    double min, max;
} s_fit_rule_t;

typedef struct {
    char *name;
    int group;
    long long points;
    bool decay;
    long long max_per_day; /* 0 = no cap */
    char **types;
    size_t n_types;
    unsigned type_mask; /* bit per s_activity_types index; 0 = any type */
    regex_t path, url, campaign;
    bool has_path, has_url, has_campaign;
} s_int_rule_t;

typedef enum { S_DECAY_NONE = 0, S_DECAY_HALF_LIFE, S_DECAY_STEP } s_decay_t;

struct ho_score_model {
    uint64_t serial; /* unique per loaded model in this process: keys the match memo */
    char *name;
    char *version;
    char **groups;
    size_t n_groups;
    s_fit_rule_t *fit;
    size_t n_fit;
    long long fit_floor, fit_ceiling;
    s_int_rule_t *irules;
    size_t n_int;
    long long int_floor, int_ceiling;
    int64_t window_ms; /* 0 = no window */
    s_decay_t decay;
    double half_life_days;
    double percent;
    long long every_days;
    char **cap_types;
    long long *cap_n;
    size_t n_caps;
    int cap_of_type[S_N_TYPES]; /* index into cap_types per activity type, -1 = none */
    long long fit_bands[3];
    long long int_bands[3];
    long long good_fit, high_interest;
    unsigned mql_quadrants; /* bit per quadrant, 0 = no quadrant condition */
    bool has_min_fit, has_min_interest, has_min_score;
    long long min_fit, min_interest, min_score;
};

static const char *const s_quadrants[] = {"mql_now", "group_offering", "nurture", "never", NULL};
static const char *const s_activity_types[] = {
    "email_open",   "email_click",       "page_view",   "webinar_attended", "content_download",
    "demo_request", "free_trial_signup", "unsubscribe", "form_submit",      NULL};

/* ---- small helpers ---- */

/* Index of an activity type in s_activity_types, -1 for a type the model does not know. */
static int s_type_index(const char *type)
{
    for (int i = 0; i < S_N_TYPES; i++) {
        if (strcmp(s_activity_types[i], type) == 0) {
            return i;
        }
    }
    return -1;
}

static void s_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

static bool s_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* Copy at most max bytes of in to out (which holds max + 4), never cutting a UTF-8 sequence,
 * and mark a cut with "...": explanation details go into JSON, which must be valid UTF-8. */
static const char *s_clip(const char *in, size_t max, char *out)
{
    size_t n = strlen(in);
    if (n <= max) {
        memcpy(out, in, n + 1);
        return out;
    }
    n = max;
    while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80) {
        n--; /* in[n] continues a sequence: cut before the sequence starts */
    }
    memcpy(out, in, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* After a snprintf that may have truncated: drop an incomplete UTF-8 sequence at the end. */
static void s_utf8_tail(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
    }
    if (i == 0) {
        return;
    }
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0xC0 && n - (i - 1) < need) {
        s[i - 1] = '\0';
    }
}

void ho_score_model_destroy(ho_score_model_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_score_model_t *self = *self_p;
    for (size_t i = 0; i < self->n_fit; i++) {
        s_fit_rule_t *r = &self->fit[i];
        free(r->name);
        s_strv_free(r->fields, r->n_fields);
        s_strv_free(r->values, r->n_values);
        free(r->pattern);
        if (r->has_re) {
            regfree(&r->re);
        }
    }
    free(self->fit);
    for (size_t i = 0; i < self->n_int; i++) {
        s_int_rule_t *r = &self->irules[i];
        free(r->name);
        s_strv_free(r->types, r->n_types);
        if (r->has_path) {
            regfree(&r->path);
        }
        if (r->has_url) {
            regfree(&r->url);
        }
        if (r->has_campaign) {
            regfree(&r->campaign);
        }
    }
    free(self->irules);
    s_strv_free(self->groups, self->n_groups);
    s_strv_free(self->cap_types, self->n_caps);
    free(self->cap_n);
    free(self->name);
    free(self->version);
    free(self);
    *self_p = NULL;
}

/* ---- loading ---- */

typedef struct {
    const ho_conf_t *conf;
    ho_score_model_t *m;
    ho_err_t *err;
} s_load_t;

static int s_fail(s_load_t *ld, const ho_node_t *node, const char *fmt, const char *arg)
{
    return ho_conf_fail(ld->conf, node, ld->err, HO_ERR_CONFIG, fmt, arg);
}

/* A required sub-map (or absent when optional). */
static int s_map(s_load_t *ld, const ho_node_t *parent, const char *key, bool required,
                 const char *const *allowed, const ho_node_t **out)
{
    const ho_node_t *n = ho_node_get(parent, key);
    *out = n;
    if (!n) {
        return required ? s_fail(ld, parent, "missing required key '%s'", key) : HO_OK;
    }
    if (ho_node_kind(n) != HO_NODE_MAP) {
        return s_fail(ld, n, "expected a map%s", "");
    }
    return allowed ? ho_conf_check_keys(ld->conf, n, allowed, ld->err) : HO_OK;
}

static int s_need_int(s_load_t *ld, const ho_node_t *map, const char *key, long long *out)
{
    if (!ho_node_get(map, key)) {
        return s_fail(ld, map, "missing required key '%s'", key);
    }
    return ho_conf_int(ld->conf, map, key, 0, out, ld->err);
}

static int s_points(s_load_t *ld, const ho_node_t *rule, long long *out)
{
    int rc = s_need_int(ld, rule, "points", out);
    if (rc == HO_OK && (*out > 100000 || *out < -100000)) {
        rc = s_fail(ld, ho_node_get(rule, "points"), "points out of range -100000..100000%s", "");
    }
    return rc;
}

/* Rough size of the automaton glibc's regcomp builds. It copies a sub-expression for every
 * '+' and for every bound of {m,n}, so stacked or nested repetitions multiply ("a++++...",
 * "(a{200}){200}") and can exhaust memory; such patterns are refused before regcomp.
 * A repetition (*, +, {m,n} with n > 1) of a sub-expression that can match the empty string
 * ("(()*){0,1000}", "((a?)*){0,400}", "(a|)+") is refused too: regcomp's epsilon closures over
 * such chains take time cubic in their length (29 s and 230 s for those two; a 60-character
 * model pattern held fuzz_scoring for minutes). It means nothing a non-empty group would not. */
#define S_RE_MAX_COST 20000.0
#define S_RE_MAX_LEN 1000

/* Cost of the expression at *pp up to an unmatched ')' or the end; *nullable_p: it can match
 * the empty string. */
static double s_re_cost(const char **pp, int depth, bool *bad, bool *nullable_p)
{
    double total = 0, last = 0;
    bool seq_nullable = true;  /* the current alternative before its last atom */
    bool last_nullable = true; /* its last atom with the quantifiers seen so far */
    bool any_nullable = false; /* some finished alternative */
    const char *p = *pp;
    while (*p && *p != ')' && !*bad) {
        double atom = 1;
        bool atom_nullable = false;
        if (*p == '(') {
            if (depth >= 32) {
                *bad = true;
                break;
            }
            p++;
            atom = s_re_cost(&p, depth + 1, bad, &atom_nullable) + 1;
            if (*p == ')') {
                p++;
            }
        } else if (*p == '[') {
            p++;
            p += *p == '^';
            p += *p == ']';
            while (*p && *p != ']') {
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char close = p[1];
                    p += 2;
                    while (*p && !(*p == close && p[1] == ']')) {
                        p++;
                    }
                    p += *p ? 2 : 0;
                } else {
                    p++;
                }
            }
            p += *p == ']';
        } else if (*p == '\\') {
            p++;
            atom_nullable = *p && strchr("bB<>`'", *p) != NULL; /* zero-width assertions */
            p += *p != '\0';
        } else if (*p == '|') {
            p++;
            any_nullable = any_nullable || (seq_nullable && last_nullable);
            seq_nullable = true;
            last = 0;
            last_nullable = true;
            continue;
        } else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
            double mult = 1;
            bool optional = *p == '*' || *p == '?';
            bool repeats = *p == '*' || *p == '+'; /* more than one copy can match */
            if (*p == '{') {
                char *end;
                double lo = strtod(p + 1, &end), hi = lo;
                if (*end == ',') {
                    const char *q = end + 1;
                    hi = *q == '}' ? lo + 1 : strtod(q, &end);
                    repeats = *q == '}';
                }
                optional = lo < 1;
                mult = hi > lo ? hi : lo;
                mult = mult < 1 ? 1 : mult;
                p = strchr(p, '}') ? strchr(p, '}') + 1 : p + strlen(p);
            } else {
                mult = *p == '+' ? 2 : 1;
                p++;
            }
            if (last > 0 && last_nullable && (repeats || mult > 1)) {
                *bad = true; /* a repeated group that can match nothing */
            }
            total += last * (mult - 1);
            last *= mult;
            last_nullable = last_nullable || optional;
            if (total > S_RE_MAX_COST) {
                *bad = true;
            }
            continue;
        } else {
            atom_nullable = *p == '^' || *p == '$';
            p++;
        }
        /* the previous atom is complete (with its quantifiers): it joins the sequence */
        seq_nullable = seq_nullable && last_nullable;
        total += atom;
        last = atom;
        last_nullable = atom_nullable;
    }
    *pp = p;
    *nullable_p = any_nullable || (seq_nullable && last_nullable);
    return total;
}

static int s_regex(s_load_t *ld, const ho_node_t *map, const char *key, regex_t *re, bool *has,
                   char **text)
{
    const ho_node_t *n = ho_node_get(map, key);
    if (!n) {
        return HO_OK;
    }
    const char *pat = ho_node_str(n);
    if (!pat) {
        return s_fail(ld, n, "expected a regular expression (a single value)%s", "");
    }
    if (strlen(pat) > S_RE_MAX_LEN) {
        return s_fail(ld, n, "regular expression longer than 1000 characters%s", "");
    }
    bool bad = false, nullable;
    const char *walk = pat;
    double cost = 0;
    while (*walk && !bad) {
        cost += s_re_cost(&walk, 0, &bad, &nullable);
        walk += *walk == ')'; /* an unbalanced ')' is regcomp's to report */
    }
    if (bad || cost > S_RE_MAX_COST) {
        return s_fail(ld, n,
                      "regular expression too complex (stacked or nested repetitions such as "
                      "'a++' or '(a{200}){200}', or a repeated group that can match nothing "
                      "such as '(a?)*'): '%s'",
                      s_clip(pat, 60, (char[64]){0}));
    }
    int rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        char msg[200];
        snprintf(msg, sizeof msg, "bad regular expression '%s': %.100s",
                 s_clip(pat, 60, (char[64]){0}), why);
        return s_fail(ld, n, "%s", msg);
    }
    *has = true;
    if (text) {
        *text = strdup(pat);
    }
    return HO_OK;
}

/* A list of scalars (or, when single_ok, one scalar) into a malloc'd string vector. */
static int s_strings(s_load_t *ld, const ho_node_t *n, bool single_ok, char ***out, size_t *n_out)
{
    if (ho_node_kind(n) == HO_NODE_SCALAR && single_ok) {
        *out = calloc(1, sizeof(char *));
        (*out)[0] = strdup(ho_node_str(n));
        *n_out = 1;
        return HO_OK;
    }
    if (ho_node_kind(n) != HO_NODE_SEQ || ho_node_size(n) == 0) {
        return s_fail(ld, n, "expected a non-empty list of values%s", "");
    }
    size_t cnt = ho_node_size(n);
    *out = calloc(cnt, sizeof(char *));
    *n_out = 0;
    for (size_t i = 0; i < cnt; i++) {
        const char *s = ho_node_str(ho_node_at(n, i));
        if (!s) {
            return s_fail(ld, ho_node_at(n, i), "expected a single value%s", "");
        }
        (*out)[(*n_out)++] = strdup(s);
    }
    return HO_OK;
}

static int s_group(s_load_t *ld, const ho_node_t *rule, int *out)
{
    *out = -1;
    const char *g = NULL;
    int rc = ho_conf_str(ld->conf, rule, "group", NULL, &g, ld->err);
    if (rc != HO_OK || !g) {
        return rc;
    }
    ho_score_model_t *m = ld->m;
    for (size_t i = 0; i < m->n_groups; i++) {
        if (strcmp(m->groups[i], g) == 0) {
            *out = (int)i;
            return HO_OK;
        }
    }
    char **v = realloc(m->groups, (m->n_groups + 1) * sizeof *v);
    if (!v) {
        return ho_err_set(ld->err, HO_ERR_NOMEM, "", "out of memory");
    }
    m->groups = v;
    m->groups[m->n_groups] = strdup(g);
    *out = (int)m->n_groups++;
    return HO_OK;
}

static int s_name(s_load_t *ld, const ho_node_t *rule, char **out)
{
    const char *name = NULL;
    int rc = ho_conf_need_str(ld->conf, rule, "name", &name, ld->err);
    if (rc != HO_OK) {
        return rc;
    }
    if (!name[0] || strlen(name) > 64) {
        return s_fail(ld, ho_node_get(rule, "name"), "a rule name is 1 to 64 characters%s", "");
    }
    ho_score_model_t *m = ld->m;
    for (size_t i = 0; i < m->n_fit; i++) {
        if (m->fit[i].name && strcmp(m->fit[i].name, name) == 0) {
            return s_fail(ld, ho_node_get(rule, "name"), "duplicate rule name '%s'", name);
        }
    }
    for (size_t i = 0; i < m->n_int; i++) {
        if (m->irules[i].name && strcmp(m->irules[i].name, name) == 0) {
            return s_fail(ld, ho_node_get(rule, "name"), "duplicate rule name '%s'", name);
        }
    }
    *out = strdup(name);
    return HO_OK;
}

static int s_fit_rule(s_load_t *ld, const ho_node_t *node, s_fit_rule_t *r)
{
    static const char *const keys[] = {"name",    "description", "group",      "field", "fields",
                                       "match",   "in",          "equals",     "min",   "max",
                                       "missing", "points",      "disqualify", NULL};
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return s_fail(ld, node, "expected a rule (a map with name, field, a test, points)%s", "");
    }
    int rc = ho_conf_check_keys(ld->conf, node, keys, ld->err);
    if (rc == HO_OK) {
        rc = s_name(ld, node, &r->name);
    }
    if (rc == HO_OK) {
        rc = s_group(ld, node, &r->group);
    }
    if (rc == HO_OK) {
        rc = s_points(ld, node, &r->points);
    }
    if (rc == HO_OK) {
        rc = ho_conf_bool(ld->conf, node, "disqualify", false, &r->disqualify, ld->err);
    }
    if (rc != HO_OK) {
        return rc;
    }
    const ho_node_t *field = ho_node_get(node, "field"), *fields = ho_node_get(node, "fields");
    if (!!field == !!fields) {
        return s_fail(ld, node, "a fit rule needs exactly one of 'field' or 'fields'%s", "");
    }
    if (field && !ho_node_str(field)) {
        return s_fail(ld, field, "expected a field name%s", "");
    }
    rc = s_strings(ld, field ? field : fields, field != NULL, &r->fields, &r->n_fields);
    if (rc != HO_OK) {
        return rc;
    }
    int tests = !!ho_node_get(node, "match") + !!ho_node_get(node, "in") +
                !!ho_node_get(node, "equals") + !!ho_node_get(node, "missing") +
                !!(ho_node_get(node, "min") || ho_node_get(node, "max"));
    if (tests != 1) {
        return s_fail(ld, node,
                      "a fit rule needs exactly one test: match, in, equals, min/max or "
                      "missing%s",
                      "");
    }
    const ho_node_t *n;
    if (ho_node_get(node, "match")) {
        r->test = S_MATCH;
        return s_regex(ld, node, "match", &r->re, &r->has_re, &r->pattern);
    }
    if ((n = ho_node_get(node, "in")) != NULL) {
        r->test = S_IN;
        return s_strings(ld, n, false, &r->values, &r->n_values);
    }
    if ((n = ho_node_get(node, "equals")) != NULL) {
        r->test = S_EQUALS;
        const char *t = ho_node_str(n);
        if (!t) {
            return s_fail(ld, n, "expected a single value%s", "");
        }
        char *end;
        double d = strtod(t, &end);
        if (!strcasecmp(t, "true") || !strcasecmp(t, "false")) {
            r->eq_kind = S_EQ_BOOL;
            r->eq_bool = !strcasecmp(t, "true");
        } else if (end != t && !*end && isfinite(d)) {
            r->eq_kind = S_EQ_NUM;
            r->eq_num = d;
        }
        r->values = calloc(1, sizeof(char *));
        r->values[0] = strdup(t);
        r->n_values = 1;
        return HO_OK;
    }
    if ((n = ho_node_get(node, "missing")) != NULL) {
        r->test = S_MISSING;
        bool b = false;
        rc = ho_conf_bool(ld->conf, node, "missing", false, &b, ld->err);
        if (rc == HO_OK && !b) {
            rc = s_fail(ld, n, "only 'missing: true' is meaningful%s", "");
        }
        return rc;
    }
    r->test = S_RANGE;
    r->has_min = ho_node_get(node, "min") != NULL;
    r->has_max = ho_node_get(node, "max") != NULL;
    rc = ho_conf_double(ld->conf, node, "min", 0, &r->min, ld->err);
    if (rc == HO_OK) {
        rc = ho_conf_double(ld->conf, node, "max", 0, &r->max, ld->err);
    }
    if (rc == HO_OK && r->has_min && r->has_max && r->min >= r->max) {
        rc = s_fail(ld, ho_node_get(node, "max"), "max must be greater than min%s", "");
    }
    return rc;
}

static int s_int_rule(s_load_t *ld, const ho_node_t *node, s_int_rule_t *r)
{
    static const char *const keys[] = {"name",   "description", "group",       "type",
                                       "types",  "path",        "url",         "campaign",
                                       "points", "decay",       "max_per_day", NULL};
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return s_fail(ld, node, "expected a rule (a map with name, type/path, points)%s", "");
    }
    int rc = ho_conf_check_keys(ld->conf, node, keys, ld->err);
    if (rc == HO_OK) {
        rc = s_name(ld, node, &r->name);
    }
    if (rc == HO_OK) {
        rc = s_group(ld, node, &r->group);
    }
    if (rc == HO_OK) {
        rc = s_points(ld, node, &r->points);
    }
    if (rc == HO_OK) {
        rc = ho_conf_bool(ld->conf, node, "decay", true, &r->decay, ld->err);
    }
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, node, "max_per_day", 0, &r->max_per_day, ld->err);
        if (rc == HO_OK && r->max_per_day < 0) {
            rc = s_fail(ld, ho_node_get(node, "max_per_day"), "must be 0 (no cap) or more%s", "");
        }
    }
    if (rc != HO_OK) {
        return rc;
    }
    const ho_node_t *type = ho_node_get(node, "type"), *types = ho_node_get(node, "types");
    if (type && types) {
        return s_fail(ld, node, "give 'type' or 'types', not both%s", "");
    }
    if (type || types) {
        if (type && !ho_node_str(type)) {
            return s_fail(ld, type, "expected an activity type%s", "");
        }
        rc = s_strings(ld, type ? type : types, type != NULL, &r->types, &r->n_types);
        for (size_t i = 0; rc == HO_OK && i < r->n_types; i++) {
            r->type_mask |=
                s_in_list(s_activity_types, r->types[i]) ? 1u << s_type_index(r->types[i]) : 0;
            if (!s_in_list(s_activity_types, r->types[i])) {
                rc = s_fail(ld, type ? type : ho_node_at(types, i),
                            "unknown activity type '%s' (email_open, email_click, page_view, "
                            "webinar_attended, content_download, demo_request, "
                            "free_trial_signup, unsubscribe, form_submit)",
                            r->types[i]);
            }
        }
        if (rc != HO_OK) {
            return rc;
        }
    }
    rc = s_regex(ld, node, "path", &r->path, &r->has_path, NULL);
    if (rc == HO_OK) {
        rc = s_regex(ld, node, "url", &r->url, &r->has_url, NULL);
    }
    if (rc == HO_OK) {
        rc = s_regex(ld, node, "campaign", &r->campaign, &r->has_campaign, NULL);
    }
    if (rc == HO_OK && !r->n_types && !r->has_path && !r->has_url && !r->has_campaign) {
        rc = s_fail(ld, node, "an interest rule needs a type, types, path, url or campaign%s", "");
    }
    return rc;
}

static int s_floor_ceiling(s_load_t *ld, const ho_node_t *map, long long *floor_p,
                           long long *ceil_p)
{
    int rc = ho_conf_int(ld->conf, map, "floor", -1000000, floor_p, ld->err);
    if (rc == HO_OK && (*floor_p < -S_LIMIT || *floor_p > S_LIMIT)) {
        rc = s_fail(ld, ho_node_get(map, "floor"), "out of range -1000000000..1000000000%s", "");
    }
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, map, "ceiling", 1000000, ceil_p, ld->err);
    }
    if (rc == HO_OK && (*ceil_p < -S_LIMIT || *ceil_p > S_LIMIT)) {
        rc = s_fail(ld, ho_node_get(map, "ceiling"), "out of range -1000000000..1000000000%s", "");
    }
    if (rc == HO_OK && *floor_p > *ceil_p) {
        rc = s_fail(ld, ho_node_get(map, "ceiling"), "ceiling is below floor%s", "");
    }
    return rc;
}

static int s_rules_seq(s_load_t *ld, const ho_node_t *sec, const ho_node_t **out)
{
    const ho_node_t *rules = ho_node_get(sec, "rules");
    *out = rules;
    if (!rules) {
        return s_fail(ld, sec, "missing required key '%s'", "rules");
    }
    if (ho_node_kind(rules) != HO_NODE_SEQ) {
        return s_fail(ld, rules, "expected a list of rules%s", "");
    }
    return HO_OK;
}

static int s_load_fit(s_load_t *ld, const ho_node_t *root)
{
    static const char *const keys[] = {"floor", "ceiling", "rules", NULL};
    const ho_node_t *sec, *rules;
    int rc = s_map(ld, root, "fit", true, keys, &sec);
    if (rc == HO_OK) {
        rc = s_floor_ceiling(ld, sec, &ld->m->fit_floor, &ld->m->fit_ceiling);
    }
    if (rc == HO_OK) {
        rc = s_rules_seq(ld, sec, &rules);
    }
    if (rc != HO_OK) {
        return rc;
    }
    size_t n = ho_node_size(rules);
    if (n > S_MAX_RULES) {
        return s_fail(ld, rules, "more than 1000 rules%s", "");
    }
    ld->m->fit = calloc(n ? n : 1, sizeof(s_fit_rule_t));
    for (size_t i = 0; rc == HO_OK && i < n; i++) {
        ld->m->n_fit = i + 1;
        rc = s_fit_rule(ld, ho_node_at(rules, i), &ld->m->fit[i]);
    }
    return rc;
}

static int s_load_interest(s_load_t *ld, const ho_node_t *root)
{
    static const char *const keys[] = {"floor",      "ceiling", "window_days", "decay",
                                       "daily_caps", "rules",   NULL};
    static const char *const dkeys[] = {"half_life_days", "percent", "every_days", NULL};
    ho_score_model_t *m = ld->m;
    const ho_node_t *sec, *rules, *decay, *caps;
    int rc = s_map(ld, root, "interest", true, keys, &sec);
    if (rc == HO_OK) {
        rc = s_floor_ceiling(ld, sec, &m->int_floor, &m->int_ceiling);
    }
    long long window = 0;
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, sec, "window_days", 0, &window, ld->err);
        if (rc == HO_OK && (window < 0 || window > 36500)) {
            rc = s_fail(ld, ho_node_get(sec, "window_days"),
                        "window_days must be 0 (no window) to 36500%s", "");
        }
        m->window_ms = (int64_t)window * HO_DAY_MS;
    }
    if (rc == HO_OK) {
        rc = s_map(ld, sec, "decay", false, dkeys, &decay);
    }
    if (rc == HO_OK && decay) {
        bool hl = ho_node_get(decay, "half_life_days"), pc = ho_node_get(decay, "percent"),
             ev = ho_node_get(decay, "every_days");
        if (hl && (pc || ev)) {
            rc = s_fail(ld, decay, "give half_life_days or percent + every_days, not both%s", "");
        } else if (hl) {
            m->decay = S_DECAY_HALF_LIFE;
            rc = ho_conf_double(ld->conf, decay, "half_life_days", 0, &m->half_life_days, ld->err);
            if (rc == HO_OK && !(m->half_life_days > 0)) {
                rc = s_fail(ld, ho_node_get(decay, "half_life_days"), "must be above 0%s", "");
            }
        } else if (pc || ev) {
            m->decay = S_DECAY_STEP;
            if (!pc || !ev) {
                rc = s_fail(ld, decay, "missing required key '%s' (percent goes with every_days)",
                            pc ? "every_days" : "percent");
            }
            if (rc == HO_OK) {
                rc = ho_conf_double(ld->conf, decay, "percent", 0, &m->percent, ld->err);
            }
            if (rc == HO_OK && !(m->percent > 0 && m->percent <= 100)) {
                rc = s_fail(ld, ho_node_get(decay, "percent"), "must be above 0 and at most 100%s",
                            "");
            }
            if (rc == HO_OK) {
                rc = ho_conf_int(ld->conf, decay, "every_days", 0, &m->every_days, ld->err);
            }
            if (rc == HO_OK && (m->every_days < 1 || m->every_days > 36500)) {
                rc = s_fail(ld, ho_node_get(decay, "every_days"),
                            "must be 1 to 36500 (whole days)%s", "");
            }
        }
    }
    if (rc == HO_OK) {
        rc = s_map(ld, sec, "daily_caps", false, NULL, &caps);
    }
    if (rc == HO_OK && caps) {
        size_t n = ho_node_size(caps);
        m->cap_types = calloc(n ? n : 1, sizeof(char *));
        m->cap_n = calloc(n ? n : 1, sizeof(long long));
        for (size_t i = 0; rc == HO_OK && i < n; i++) {
            const char *type = ho_node_key_at(caps, i);
            if (!s_in_list(s_activity_types, type)) {
                rc = s_fail(ld, ho_node_at(caps, i), "unknown activity type '%s'", type);
                break;
            }
            m->cap_types[i] = strdup(type);
            m->n_caps = i + 1;
            rc = ho_conf_int(ld->conf, caps, type, 0, &m->cap_n[i], ld->err);
            if (rc == HO_OK && m->cap_n[i] < 0) {
                rc = s_fail(ld, ho_node_at(caps, i), "a cap is 0 or more%s", "");
            }
        }
    }
    for (int t = 0; t < S_N_TYPES; t++) {
        m->cap_of_type[t] = -1;
        for (size_t c = 0; c < m->n_caps; c++) {
            m->cap_of_type[t] =
                strcmp(m->cap_types[c], s_activity_types[t]) == 0 ? (int)c : m->cap_of_type[t];
        }
    }
    if (rc == HO_OK) {
        rc = s_rules_seq(ld, sec, &rules);
    }
    if (rc != HO_OK) {
        return rc;
    }
    size_t n = ho_node_size(rules);
    if (n > S_MAX_RULES) {
        return s_fail(ld, rules, "more than 1000 rules%s", "");
    }
    m->irules = calloc(n ? n : 1, sizeof(s_int_rule_t));
    for (size_t i = 0; rc == HO_OK && i < n; i++) {
        m->n_int = i + 1;
        rc = s_int_rule(ld, ho_node_at(rules, i), &m->irules[i]);
    }
    return rc;
}

static int s_bands(s_load_t *ld, const ho_node_t *grades, const char *key,
                   const char *const names[3], long long out[3])
{
    const ho_node_t *b;
    const char *const allowed[] = {names[0], names[1], names[2], NULL};
    int rc = s_map(ld, grades, key, true, allowed, &b);
    for (int i = 0; rc == HO_OK && i < 3; i++) {
        rc = s_need_int(ld, b, names[i], &out[i]);
        if (rc == HO_OK && i > 0 && out[i] >= out[i - 1]) {
            char msg[120];
            snprintf(msg, sizeof msg, "band %s must be below band %s", names[i], names[i - 1]);
            rc = s_fail(ld, ho_node_get(b, names[i]), "%s", msg);
        }
    }
    return rc;
}

static int s_load_grades(s_load_t *ld, const ho_node_t *root)
{
    static const char *const gkeys[] = {"fit_bands", "interest_bands", NULL};
    static const char *const qkeys[] = {"good_fit", "high_interest", NULL};
    static const char *const mkeys[] = {"quadrants", "min_fit", "min_interest", "min_score", NULL};
    static const char *const letters[3] = {"A", "B", "C"};
    static const char *const digits[3] = {"1", "2", "3"};
    ho_score_model_t *m = ld->m;
    const ho_node_t *g, *q, *mql;
    int rc = s_map(ld, root, "grades", true, gkeys, &g);
    if (rc == HO_OK) {
        rc = s_bands(ld, g, "fit_bands", letters, m->fit_bands);
    }
    if (rc == HO_OK) {
        rc = s_bands(ld, g, "interest_bands", digits, m->int_bands);
    }
    if (rc == HO_OK) {
        rc = s_map(ld, root, "quadrants", true, qkeys, &q);
    }
    if (rc == HO_OK) {
        rc = s_need_int(ld, q, "good_fit", &m->good_fit);
    }
    if (rc == HO_OK) {
        rc = s_need_int(ld, q, "high_interest", &m->high_interest);
    }
    if (rc == HO_OK) {
        rc = s_map(ld, root, "mql", true, mkeys, &mql);
    }
    if (rc != HO_OK) {
        return rc;
    }
    const ho_node_t *qs = ho_node_get(mql, "quadrants");
    if (qs) {
        if (ho_node_kind(qs) != HO_NODE_SEQ || ho_node_size(qs) == 0) {
            return s_fail(ld, qs, "expected a non-empty list of quadrants%s", "");
        }
        for (size_t i = 0; i < ho_node_size(qs); i++) {
            const char *s = ho_node_str(ho_node_at(qs, i));
            unsigned bit = 0;
            for (unsigned k = 0; s && s_quadrants[k]; k++) {
                if (strcmp(s_quadrants[k], s) == 0) {
                    bit = 1u << k;
                }
            }
            if (!bit) {
                return s_fail(ld, ho_node_at(qs, i),
                              "unknown quadrant '%s' (mql_now, group_offering, nurture, never)",
                              s ? s : "(not a value)");
            }
            m->mql_quadrants |= bit;
        }
    }
    m->has_min_fit = ho_node_get(mql, "min_fit") != NULL;
    m->has_min_interest = ho_node_get(mql, "min_interest") != NULL;
    m->has_min_score = ho_node_get(mql, "min_score") != NULL;
    rc = ho_conf_int(ld->conf, mql, "min_fit", 0, &m->min_fit, ld->err);
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, mql, "min_interest", 0, &m->min_interest, ld->err);
    }
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, mql, "min_score", 0, &m->min_score, ld->err);
    }
    if (rc == HO_OK && !qs && !m->has_min_fit && !m->has_min_interest && !m->has_min_score) {
        rc = s_fail(ld, mql, "the MQL rule needs quadrants, min_fit, min_interest or min_score%s",
                    "");
    }
    return rc;
}

ho_score_model_t *ho_score_model_from_conf(const ho_conf_t *conf, ho_err_t *err)
{
    static const char *const keys[] = {"version", "description", "fit", "interest",
                                       "grades",  "quadrants",   "mql", NULL};
    ho_score_model_t *m = calloc(1, sizeof *m);
    if (!m) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    static atomic_uint_fast64_t serials;
    m->serial = atomic_fetch_add(&serials, 1) + 1;
    m->name = strdup(ho_conf_name(conf));
    s_load_t ld = {.conf = conf, .m = m, .err = err};
    const ho_node_t *root = ho_conf_root(conf);
    const char *version = NULL, *desc = NULL;
    int rc = ho_conf_check_keys(conf, root, keys, err);
    if (rc == HO_OK) {
        rc = ho_conf_need_str(conf, root, "version", &version, err);
    }
    if (rc == HO_OK && (!version[0] || strlen(version) > 64)) {
        rc = s_fail(&ld, ho_node_get(root, "version"), "a version is 1 to 64 characters%s", "");
    }
    if (rc == HO_OK) {
        m->version = strdup(version);
        rc = ho_conf_str(conf, root, "description", "", &desc, err);
    }
    if (rc == HO_OK) {
        rc = s_load_fit(&ld, root);
    }
    if (rc == HO_OK) {
        rc = s_load_interest(&ld, root);
    }
    if (rc == HO_OK) {
        rc = s_load_grades(&ld, root);
    }
    if (rc != HO_OK) {
        ho_score_model_destroy(&m);
    }
    return m;
}

ho_score_model_t *ho_score_model_parse(const char *text, size_t len, const char *name,
                                       ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_parse(text, len, name, err);
    if (!conf) {
        return NULL;
    }
    ho_score_model_t *m = ho_score_model_from_conf(conf, err);
    ho_conf_destroy(&conf);
    return m;
}

ho_score_model_t *ho_score_model_load(const char *config_dir, const char *name, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load_named(config_dir, name, err);
    if (!conf) {
        return NULL;
    }
    ho_score_model_t *m = ho_score_model_from_conf(conf, err);
    ho_conf_destroy(&conf);
    return m;
}

ho_score_model_t *ho_score_model_load_file(const char *path, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load(path, err);
    if (!conf) {
        return NULL;
    }
    ho_score_model_t *m = ho_score_model_from_conf(conf, err);
    ho_conf_destroy(&conf);
    return m;
}

const char *ho_score_model_version(const ho_score_model_t *self)
{
    return self ? self->version : NULL;
}

const char *ho_score_model_name(const ho_score_model_t *self)
{
    return self ? self->name : NULL;
}

int64_t ho_score_model_window_ms(const ho_score_model_t *self)
{
    return self ? self->window_ms : 0;
}

char *ho_score_model_describe(const ho_score_model_t *self, char *buf, size_t cap)
{
    char decay[64] = "none", mql[160] = "";
    if (self->decay == S_DECAY_HALF_LIFE) {
        snprintf(decay, sizeof decay, "half_life_days:%g", self->half_life_days);
    } else if (self->decay == S_DECAY_STEP) {
        snprintf(decay, sizeof decay, "percent:%g/every_days:%lld", self->percent,
                 self->every_days);
    }
    size_t len = 0;
    for (unsigned k = 0; s_quadrants[k]; k++) {
        if (self->mql_quadrants & (1u << k)) {
            len += (size_t)snprintf(mql + len, sizeof mql - len, "%s%s",
                                    len ? "," : "quadrants:", s_quadrants[k]);
        }
    }
    if (self->has_min_fit && len < sizeof mql) {
        len += (size_t)snprintf(mql + len, sizeof mql - len, "%smin_fit:%lld", len ? "+" : "",
                                self->min_fit);
    }
    if (self->has_min_interest && len < sizeof mql) {
        len += (size_t)snprintf(mql + len, sizeof mql - len, "%smin_interest:%lld", len ? "+" : "",
                                self->min_interest);
    }
    if (self->has_min_score && len < sizeof mql) {
        snprintf(mql + len, sizeof mql - len, "%smin_score:%lld", len ? "+" : "", self->min_score);
    }
    snprintf(buf, cap,
             "fit_rules=%zu interest_rules=%zu groups=%zu window_days=%lld decay=%s caps=%zu "
             "fit_bands=%lld/%lld/%lld interest_bands=%lld/%lld/%lld good_fit=%lld "
             "high_interest=%lld mql=%s",
             self->n_fit, self->n_int, self->n_groups, (long long)(self->window_ms / HO_DAY_MS),
             decay, self->n_caps, self->fit_bands[0], self->fit_bands[1], self->fit_bands[2],
             self->int_bands[0], self->int_bands[1], self->int_bands[2], self->good_fit,
             self->high_interest, mql);
    return buf;
}

/* ---- scoring ---- */

int ho_score_round(double v)
{
    /* The tolerance keeps x.5 that pow() lands a hair below still rounding away from zero. */
    double r = v >= 0 ? floor(v + 0.5 + 1e-9) : -floor(-v + 0.5 + 1e-9);
    if (r > 1e9) {
        return 1000000000;
    }
    if (r < -1e9) {
        return -1000000000;
    }
    return (int)r;
}

static int s_hit_add(ho_score_result_t *res, size_t *cap, ho_score_hit_t **hit_p)
{
    if (res->n_hits == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        ho_score_hit_t *v = realloc(res->hits, ncap * sizeof *v);
        if (!v) {
            return HO_ERR_NOMEM;
        }
        res->hits = v;
        *cap = ncap;
    }
    *hit_p = &res->hits[res->n_hits++];
    memset(*hit_p, 0, sizeof **hit_p);
    return HO_OK;
}

/* Regular-expression results memoized per thread. glibc's regexec costs ~1-3 us a call and a
 * lead needs ~10 of them (titles, tech words, page paths), while the texts repeat heavily
 * (the same titles and paths over and over): a direct-mapped table keyed by the exact text,
 * the regex and the model's serial answers most calls with a hash and a memcmp. Exact: a hit
 * compares the whole text; texts too long for an entry always run regexec. Per thread, so a
 * model stays shareable between threads without locks. */
#define S_MEMO_N 2048
#define S_MEMO_TEXT 46
typedef struct {
    uint64_t serial;   /* model; 0 = empty entry (serials start at 1) */
    const regex_t *re; /* the rule's compiled pattern inside that model */
    uint8_t len;
    uint8_t hit;
    char text[S_MEMO_TEXT];
} s_memo_t;
static _Thread_local s_memo_t s_memo[S_MEMO_N];

static bool s_rematch(const ho_score_model_t *m, const regex_t *re, const char *text)
{
    size_t len = strlen(text);
    if (len >= S_MEMO_TEXT) {
        return regexec(re, text, 0, NULL, 0) == 0;
    }
    uint64_t h = 1469598103934665603ull ^ (m->serial * 0x9E3779B97F4A7C15ull) ^ (uintptr_t)re;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    }
    s_memo_t *e = &s_memo[(h ^ (h >> 29)) & (S_MEMO_N - 1)];
    if (e->serial == m->serial && e->re == re && e->len == len && memcmp(e->text, text, len) == 0) {
        return e->hit;
    }
    bool hit = regexec(re, text, 0, NULL, 0) == 0;
    e->serial = m->serial;
    e->re = re;
    e->len = (uint8_t)len;
    e->hit = hit;
    memcpy(e->text, text, len);
    return hit;
}

/* Text form of a field value for regex and list tests; NULL when absent or empty. */
static const char *s_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return s[0] ? s : NULL;
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%.15g", json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? "true" : "false";
    }
    return NULL;
}

static const json_t *s_field(const json_t *lead, const json_t *fields, const char *name)
{
    const json_t *v = json_object_get(fields, name);
    if (!v || json_is_null(v)) {
        v = json_object_get(lead, name);
    }
    return v && !json_is_null(v) ? v : NULL;
}

static bool s_number(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        const char *s = json_string_value(v);
        double d = strtod(s, &end);
        if (end != s && !*end && isfinite(d)) {
            *out = d;
            return true;
        }
    }
    return false;
}

/* Does fit rule r fire on value v of field? When detail is not NULL, says what matched. */
static bool s_fit_test(const ho_score_model_t *m, const s_fit_rule_t *r, const json_t *v,
                       const char *field, char *detail, size_t cap)
{
    char buf[64];
    /* a range test reads the number itself: no text form (snprintf of a real) needed */
    const char *t = r->test == S_RANGE ? NULL : s_text(v, buf, sizeof buf);
    double d;
    switch (r->test) {
    case S_MISSING:
        if (!t) {
            if (detail) {
                snprintf(detail, cap, "%s is missing", field);
            }
            return true;
        }
        return false;
    case S_MATCH:
        if (t && s_rematch(m, &r->re, t)) {
            if (detail) {
                snprintf(detail, cap, "%s \"%s\" matches '%s'", field, s_clip(t, 60, (char[64]){0}),
                         s_clip(r->pattern, 80, (char[84]){0}));
            }
            return true;
        }
        return false;
    case S_IN:
        for (size_t i = 0; t && i < r->n_values; i++) {
            if (strcasecmp(t, r->values[i]) == 0) {
                if (detail) {
                    snprintf(detail, cap, "%s \"%s\" is in the list", field,
                             s_clip(t, 60, (char[64]){0}));
                }
                return true;
            }
        }
        return false;
    case S_EQUALS: {
        bool eq = false;
        if (r->eq_kind == S_EQ_BOOL) {
            eq = json_is_boolean(v) ? json_is_true(v) == r->eq_bool
                                    : (t && strcasecmp(t, r->values[0]) == 0);
        } else if (r->eq_kind == S_EQ_NUM) {
            eq = s_number(v, &d) && d == r->eq_num;
        } else {
            eq = t && strcasecmp(t, r->values[0]) == 0;
        }
        if (eq && detail) {
            snprintf(detail, cap, "%s = %s", field,
                     s_clip(t ? t : r->values[0], 60, (char[64]){0}));
        }
        return eq;
    }
    case S_RANGE:
        if (!s_number(v, &d) || (r->has_min && d < r->min) || (r->has_max && d >= r->max)) {
            return false;
        }
        if (!detail) {
            return true;
        }
        char lo[32] = "", hi[32] = "";
        if (r->has_min) {
            snprintf(lo, sizeof lo, "%.15g <= ", r->min);
        }
        if (r->has_max) {
            snprintf(hi, sizeof hi, " < %.15g", r->max);
        }
        snprintf(detail, cap, "%s%s %.15g%s", lo, field, d, hi);
        return true;
    }
    return false;
}

static int s_clamp(ho_score_result_t *res, size_t *cap, const char *kind, bool detail,
                   long long *sum, long long floor_v, long long ceil_v)
{
    ho_score_hit_t *h;
    if (*sum >= floor_v && *sum <= ceil_v) {
        return HO_OK;
    }
    if (s_hit_add(res, cap, &h) != HO_OK) {
        return HO_ERR_NOMEM;
    }
    bool low = *sum < floor_v;
    long long to = low ? floor_v : ceil_v;
    h->rule = strcmp(kind, "fit") == 0 ? (low ? "fit.floor" : "fit.ceiling")
                                       : (low ? "interest.floor" : "interest.ceiling");
    h->kind = kind;
    h->points = to - *sum;
    h->raw = 0;
    h->value = h->points;
    h->factor = 1;
    h->age_days = -1;
    if (detail) {
        snprintf(h->detail, sizeof h->detail, "%s %lld is %s the %s: %s %lld", kind, *sum,
                 low ? "below" : "above", low ? "floor" : "ceiling", low ? "raised to" : "cut to",
                 to);
    }
    *sum = to;
    return HO_OK;
}

typedef struct {
    const json_t *a;
    const char *type;
    size_t index;
    int64_t at;
} s_act_t;

static int s_act_cmp(const void *x, const void *y)
{
    const s_act_t *a = x, *b = y;
    if (a->at != b->at) {
        return a->at < b->at ? -1 : 1;
    }
    /* the snapshot is newest first: among equal times, the later index happened first */
    return a->index > b->index ? -1 : a->index < b->index ? 1 : 0;
}

static bool s_re_field(const ho_score_model_t *m, const regex_t *re, const json_t *a,
                       const char *key)
{
    const char *s = json_string_value(json_object_get(a, key));
    return s && s_rematch(m, re, s);
}

static double s_factor(const ho_score_model_t *m, const s_int_rule_t *r, int64_t age_ms)
{
    if (!r->decay || m->decay == S_DECAY_NONE) {
        return 1.0;
    }
    if (m->decay == S_DECAY_HALF_LIFE) {
        return pow(0.5, ((double)age_ms / (double)HO_DAY_MS) / m->half_life_days);
    }
    int64_t periods = age_ms / (m->every_days * HO_DAY_MS);
    return pow(1.0 - m->percent / 100.0, (double)periods);
}

/* The activities of the snapshot inside [as_of - window, as_of], checked, into v (oldest
 * first); counts the others in res. */
static int s_acts_in_window(const ho_score_model_t *m, const json_t *acts, int64_t as_of,
                            s_act_t *v, size_t *k_p, ho_score_result_t *res, ho_err_t *err)
{
    size_t n = json_array_size(acts), k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(acts, i);
        char field[96];
        const json_t *at = json_object_get(a, "occurred_at");
        const json_t *type = json_object_get(a, "type");
        if (!json_is_object(a)) {
            snprintf(field, sizeof field, "lead.activities[%zu]", i);
            return ho_err_set(err, HO_ERR_FIELD, field, "%s: expected an activity (a map)", field);
        }
        if (!json_is_integer(at)) {
            snprintf(field, sizeof field, "lead.activities[%zu].occurred_at", i);
            return ho_err_set(err, at ? HO_ERR_FIELD : HO_ERR_MISSING, field,
                              "%s: %s (ms since the epoch)", field,
                              at ? "expected an integer" : "missing");
        }
        if (!json_is_string(type)) {
            snprintf(field, sizeof field, "lead.activities[%zu].type", i);
            return ho_err_set(err, type ? HO_ERR_FIELD : HO_ERR_MISSING, field,
                              "%s: expected the activity type (a string)", field);
        }
        int64_t t = json_integer_value(at);
        if (t < 0) {
            snprintf(field, sizeof field, "lead.activities[%zu].occurred_at", i);
            return ho_err_set(err, HO_ERR_FIELD, field,
                              "%s: expected ms since the epoch (not negative)", field);
        }
        if (t > as_of) {
            res->future++;
        } else if (m->window_ms > 0 && as_of - t > m->window_ms) {
            res->out_of_window++;
        } else {
            v[k++] = (s_act_t){.a = a, .index = i, .at = t, .type = json_string_value(type)};
        }
    }
    qsort(v, k, sizeof *v, s_act_cmp);
    *k_p = k;
    return HO_OK;
}

/* The text a person reads for one interest firing (only made when asked for). */
static void s_interest_detail(ho_score_hit_t *h, const s_int_rule_t *ru, const s_act_t *act)
{
    time_t secs = (time_t)(act->at / 1000);
    struct tm tm;
    char date[24];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%MZ", &tm);
    const char *path = json_string_value(json_object_get(act->a, "path"));
    if (path && !path[0]) {
        path = NULL;
    }
    char pbuf[84];
    if (h->factor == 1.0) {
        snprintf(h->detail, sizeof h->detail, "%s%s%s at %s (%.2f d old)%s", act->type,
                 path ? " " : "", path ? s_clip(path, 80, pbuf) : "", date, h->age_days,
                 ru->decay ? "" : ", no decay");
    } else {
        snprintf(h->detail, sizeof h->detail, "%s%s%s at %s (%.2f d old): %d x %.4f = %.2f -> %lld",
                 act->type, path ? " " : "", path ? s_clip(path, 80, pbuf) : "", date, h->age_days,
                 h->raw, h->factor, h->value, h->points);
    }
    s_utf8_tail(h->detail);
}

/* Does interest rule ru fire on activity act (of type index ti)? */
static bool s_int_match(const ho_score_model_t *m, const s_int_rule_t *ru, const s_act_t *act,
                        int ti)
{
    if (ru->type_mask && (ti < 0 || !(ru->type_mask & (1u << ti)))) {
        return false;
    }
    return (!ru->has_path || s_re_field(m, &ru->path, act->a, "path")) &&
           (!ru->has_url || s_re_field(m, &ru->url, act->a, "url")) &&
           (!ru->has_campaign || s_re_field(m, &ru->campaign, act->a, "campaign"));
}

/* Per-call counters, on the stack for the usual model sizes (no malloc per lead). */
#define S_SMALL 64

static int s_interest(const ho_score_model_t *m, const json_t *acts, int64_t as_of, bool detail,
                      ho_score_result_t *res, size_t *cap, long long *sum, ho_err_t *err)
{
    size_t n = json_array_size(acts);
    if (n > S_MAX_ACTIVITIES) {
        return ho_err_set(err, HO_ERR_TOO_LARGE, "lead.activities",
                          "lead.activities: %zu activities, at most %d are scored", n,
                          S_MAX_ACTIVITIES);
    }
    s_act_t v_small[S_SMALL];
    long long cap_small[S_SMALL], rule_small[S_SMALL];
    bool group_small[S_SMALL];
    s_act_t *v = n <= S_SMALL ? v_small : calloc(n, sizeof *v);
    long long *cap_count = m->n_caps <= S_SMALL ? cap_small : calloc(m->n_caps, sizeof *cap_count);
    long long *rule_count = m->n_int <= S_SMALL ? rule_small : calloc(m->n_int, sizeof *rule_count);
    bool *group_done = m->n_groups <= S_SMALL ? group_small : calloc(m->n_groups, sizeof(bool));
    size_t k = 0;
    int rc = (v && cap_count && rule_count && group_done)
                 ? s_acts_in_window(m, acts, as_of, v, &k, res, err)
                 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    int64_t day = INT64_MIN;
    for (size_t i = 0; rc == HO_OK && i < k; i++) {
        int64_t d = v[i].at / HO_DAY_MS; /* at >= 0 (checked) */
        if (d != day) {
            day = d;
            memset(cap_count, 0, m->n_caps * sizeof *cap_count);
            memset(rule_count, 0, m->n_int * sizeof *rule_count);
        }
        int ti = s_type_index(v[i].type);
        int c = ti >= 0 ? m->cap_of_type[ti] : -1;
        if (c >= 0 && cap_count[c]++ >= m->cap_n[c]) {
            res->capped++;
            continue;
        }
        res->counted++;
        memset(group_done, 0, m->n_groups * sizeof *group_done);
        for (size_t r = 0; rc == HO_OK && r < m->n_int; r++) {
            const s_int_rule_t *ru = &m->irules[r];
            if ((ru->group >= 0 && group_done[ru->group]) || !s_int_match(m, ru, &v[i], ti)) {
                continue;
            }
            if (ru->group >= 0) {
                group_done[ru->group] = true;
            }
            if (ru->max_per_day && rule_count[r] >= ru->max_per_day) {
                continue;
            }
            rule_count[r]++;
            ho_score_hit_t *h;
            if (s_hit_add(res, cap, &h) != HO_OK) {
                rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
                break;
            }
            int64_t age_ms = as_of - v[i].at;
            h->rule = ru->name;
            h->kind = "interest";
            h->raw = (int)ru->points;
            h->factor = s_factor(m, ru, age_ms);
            h->value = (double)ru->points * h->factor;
            h->points = ho_score_round(h->value);
            h->age_days = (double)age_ms / (double)HO_DAY_MS;
            h->occurred_at = v[i].at;
            if (detail) {
                s_interest_detail(h, ru, &v[i]);
            }
            *sum += h->points;
        }
    }
    if (v != v_small) {
        free(v);
    }
    if (cap_count != cap_small) {
        free(cap_count);
    }
    if (rule_count != rule_small) {
        free(rule_count);
    }
    if (group_done != group_small) {
        free(group_done);
    }
    return rc;
}

void ho_score_result_clear(ho_score_result_t *res)
{
    if (res) {
        free(res->hits);
        memset(res, 0, sizeof *res);
    }
}

/* The fit rules: hits in model order, their sum in *fit. */
static int s_fit(const ho_score_model_t *m, const json_t *lead, const json_t *fields, bool detail,
                 ho_score_result_t *res, size_t *cap, long long *fit, ho_err_t *err)
{
    bool group_small[S_SMALL];
    bool *group_done = m->n_groups <= S_SMALL ? group_small : calloc(m->n_groups, sizeof(bool));
    if (!group_done) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    memset(group_done, 0, m->n_groups * sizeof *group_done);
    int rc = HO_OK;
    for (size_t i = 0; rc == HO_OK && i < m->n_fit; i++) {
        const s_fit_rule_t *r = &m->fit[i];
        if (r->group >= 0 && group_done[r->group]) {
            continue;
        }
        char text[sizeof res->hits[0].detail];
        char *dt = detail ? text : NULL;
        bool fired = false;
        for (size_t f = 0; f < r->n_fields && !fired; f++) {
            fired = s_fit_test(m, r, s_field(lead, fields, r->fields[f]), r->fields[f], dt,
                               sizeof text);
        }
        if (!fired) {
            continue;
        }
        if (r->group >= 0) {
            group_done[r->group] = true;
        }
        ho_score_hit_t *h;
        if (s_hit_add(res, cap, &h) != HO_OK) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            break;
        }
        h->rule = r->name;
        h->kind = "fit";
        h->raw = (int)r->points;
        h->points = r->points;
        h->value = (double)r->points;
        h->factor = 1;
        h->age_days = -1;
        if (r->disqualify) {
            res->disqualified = true;
        }
        if (detail) {
            s_utf8_tail(text);
            if (r->disqualify) {
                snprintf(h->detail, sizeof h->detail, "%s (disqualifies)",
                         s_clip(text, 170, (char[174]){0}));
            } else {
                memcpy(h->detail, text, sizeof h->detail);
            }
            s_utf8_tail(h->detail);
        }
        *fit += h->points;
    }
    if (group_done != group_small) {
        free(group_done);
    }
    return rc;
}

int ho_score_lead(const ho_score_model_t *m, const json_t *lead, int64_t as_of,
                  ho_score_result_t *res, ho_err_t *err)
{
    return ho_score_lead_opt(m, lead, as_of, HO_SCORE_DETAIL, res, err);
}

int ho_score_lead_opt(const ho_score_model_t *m, const json_t *lead, int64_t as_of, unsigned flags,
                      ho_score_result_t *res, ho_err_t *err)
{
    bool detail = flags & HO_SCORE_DETAIL;
    memset(res, 0, sizeof *res);
    res->model_version = m->version;
    res->as_of = as_of;
    res->quadrant = "never";
    if (!json_is_object(lead)) {
        return ho_err_set(err, HO_ERR_FIELD, "lead", "lead: expected the lead snapshot (a map)");
    }
    const json_t *fields = json_object_get(lead, "fields");
    if (fields && !json_is_null(fields) && !json_is_object(fields)) {
        return ho_err_set(err, HO_ERR_FIELD, "lead.fields", "lead.fields: expected a map");
    }
    const json_t *acts = json_object_get(lead, "activities");
    if (acts && !json_is_null(acts) && !json_is_array(acts)) {
        return ho_err_set(err, HO_ERR_FIELD, "lead.activities",
                          "lead.activities: expected an array");
    }
    size_t cap = 0;
    long long fit = 0, interest = 0;
    int rc = s_fit(m, lead, fields, detail, res, &cap, &fit, err);
    if (rc == HO_OK) {
        rc = s_clamp(res, &cap, "fit", detail, &fit, m->fit_floor, m->fit_ceiling);
        if (rc != HO_OK) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
    res->activities = json_array_size(acts);
    if (rc == HO_OK) {
        rc = s_interest(m, acts, as_of, detail, res, &cap, &interest, err);
    }
    if (rc == HO_OK &&
        s_clamp(res, &cap, "interest", detail, &interest, m->int_floor, m->int_ceiling)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc != HO_OK) {
        return rc;
    }
    res->fit = (int)fit;
    res->interest = (int)interest;
    res->score = (int)(fit + interest);
    res->grade[0] = fit >= m->fit_bands[0]   ? 'A'
                    : fit >= m->fit_bands[1] ? 'B'
                    : fit >= m->fit_bands[2] ? 'C'
                                             : 'D';
    res->grade[1] = interest >= m->int_bands[0]   ? '1'
                    : interest >= m->int_bands[1] ? '2'
                    : interest >= m->int_bands[2] ? '3'
                                                  : '4';
    res->grade[2] = '\0';
    bool good = fit >= m->good_fit, high = interest >= m->high_interest;
    unsigned q = good && high ? 0 : high ? 1 : good ? 2 : 3;
    res->quadrant = s_quadrants[q];
    bool mql = !res->disqualified;
    if (m->mql_quadrants) {
        mql = mql && (m->mql_quadrants & (1u << q));
    }
    mql = mql && (!m->has_min_fit || fit >= m->min_fit);
    mql = mql && (!m->has_min_interest || interest >= m->min_interest);
    mql = mql && (!m->has_min_score || res->score >= m->min_score);
    res->mql = mql;
    return HO_OK;
}

/* Display-only rounding for the JSON explanation (the totals are already integers). */
static double s_round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

json_t *ho_score_explanation_json(const ho_score_result_t *res)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < res->n_hits; i++) {
        const ho_score_hit_t *h = &res->hits[i];
        json_t *e = json_pack("{sssssIss}", "rule", h->rule, "kind", h->kind, "points",
                              (json_int_t)h->points, "detail", h->detail);
        if (e && h->occurred_at) {
            json_object_set_new(e, "raw", json_integer(h->raw));
            json_object_set_new(e, "factor", json_real(s_round_to(h->factor, 1e-6)));
            json_object_set_new(e, "value", json_real(s_round_to(h->value, 1e-6)));
            json_object_set_new(e, "age_days", json_real(s_round_to(h->age_days, 1e-4)));
            json_object_set_new(e, "occurred_at", json_integer(h->occurred_at));
        }
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *ho_score_explanation_compact(const ho_score_result_t *res)
{
    /* one entry per rule: rules are few (tens), so a linear search by name pointer (rule
     * names are the model's own strings) is cheaper than any table */
    json_t *arr = json_array();
    const char *seen_small[S_SMALL];
    json_t *ent_small[S_SMALL];
    const char **seen = res->n_hits <= S_SMALL ? seen_small : calloc(res->n_hits, sizeof *seen);
    json_t **ent = res->n_hits <= S_SMALL ? ent_small : calloc(res->n_hits, sizeof *ent);
    size_t n = 0;
    bool ok = arr && seen && ent;
    for (size_t i = 0; ok && i < res->n_hits; i++) {
        const ho_score_hit_t *h = &res->hits[i];
        size_t j = 0;
        while (j < n && seen[j] != h->rule) {
            j++;
        }
        if (j == n) {
            json_t *e = json_object();
            ok = e && json_object_set_new_nocheck(e, "rule", json_string(h->rule)) == 0 &&
                 json_object_set_new_nocheck(e, "points", json_integer(h->points)) == 0 &&
                 json_array_append_new(arr, e) == 0;
            if (ok && h->age_days >= 0) { /* an activity's firing (clamps have -1) */
                ok = json_object_set_new_nocheck(e, "n", json_integer(1)) == 0 &&
                     json_object_set_new_nocheck(e, "raw", json_integer(h->raw)) == 0 &&
                     json_object_set_new_nocheck(e, "last", json_integer(h->occurred_at)) == 0;
            }
            seen[n] = h->rule;
            ent[n++] = e;
            continue;
        }
        /* a rule fires again (interest rules only): add up; hits run oldest first */
        json_t *e = ent[j];
        json_t *pts = json_object_get(e, "points"), *cnt = json_object_get(e, "n");
        ok = json_integer_set(pts, json_integer_value(pts) + h->points) == 0 && cnt &&
             json_integer_set(cnt, json_integer_value(cnt) + 1) == 0 &&
             json_object_set_new_nocheck(e, "last", json_integer(h->occurred_at)) == 0;
    }
    if (seen != seen_small) {
        free(seen);
    }
    if (ent != ent_small) {
        free(ent);
    }
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

const char *ho_score_entry_kind(const json_t *e)
{
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *rule = json_string_value(json_object_get(e, "rule"));
    if (kind) {
        return kind;
    }
    return json_object_get(e, "n") || (rule && strncmp(rule, "interest.", 9) == 0) ? "interest"
                                                                                   : "fit";
}

char *ho_score_explain_entry(const json_t *e, int64_t as_of, char *buf, size_t cap)
{
    const char *rule = json_string_value(json_object_get(e, "rule"));
    const json_t *n = json_object_get(e, "n");
    long long points = json_integer_value(json_object_get(e, "points"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    const char *kind = ho_score_entry_kind(e);
    rule = rule ? rule : "?";
    if (detail || !json_is_integer(n)) {
        snprintf(buf, cap, "%-8s %+5lld  %s%s%s", kind, points, rule, detail ? ": " : "",
                 detail ? detail : "");
        return buf;
    }
    long long count = json_integer_value(n), raw = json_integer_value(json_object_get(e, "raw"));
    int64_t last = json_integer_value(json_object_get(e, "last"));
    time_t secs = (time_t)(last / 1000);
    struct tm tm;
    char date[24] = "?", age[48] = "";
    if (last > 0 && gmtime_r(&secs, &tm)) {
        strftime(date, sizeof date, "%Y-%m-%dT%H:%MZ", &tm);
    }
    if (as_of > 0 && last > 0 && as_of >= last) {
        snprintf(age, sizeof age, ", %.1f d before the score", (double)(as_of - last) / HO_DAY_MS);
    }
    bool decayed = points != count * raw;
    snprintf(buf, cap, "%-8s %+5lld  %s: %lld x %lld point%s%s (newest %s%s)", kind, points, rule,
             count, raw, raw == 1 || raw == -1 ? "" : "s", decayed ? ", decayed" : "", date, age);
    return buf;
}

int ho_score_result_to_payload(const ho_score_result_t *res, json_t *p)
{
    json_t *ex = ho_score_explanation_compact(res);
    if (!ex) {
        return HO_ERR_NOMEM;
    }
    json_object_set_new(p, "as_of", json_integer(res->as_of));
    json_object_set_new(p, "model_version", json_string(res->model_version));
    json_object_set_new(p, "fit", json_integer(res->fit));
    json_object_set_new(p, "interest", json_integer(res->interest));
    json_object_set_new(p, "score", json_integer(res->score));
    json_object_set_new(p, "grade", json_string(res->grade));
    json_object_set_new(p, "quadrant", json_string(res->quadrant));
    json_object_set_new(p, "mql", json_boolean(res->mql));
    json_object_set_new(p, "explanation", ex);
    return HO_OK;
}
