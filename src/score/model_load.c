/* model_load.c - loading the scoring model (deploy/scoring.yaml, model_internal.h): every
 * key, type, regular expression, activity type and band checked and named with file, line
 * and key; and freeing it. Scoring is model.c. */
#include "score/model_internal.h"

#include <math.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handoff/defaults.h"

void ho_score_model_destroy(ho_score_model_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_score_model_t *self = *self_p;
    for (size_t i = 0; i < self->n_fit; i++) {
        ho_sm_fit_rule_t *r = &self->fit[i];
        free(r->name);
        ho_sm_strv_free(r->fields, r->n_fields);
        ho_sm_strv_free(r->values, r->n_values);
        free(r->pattern);
        if (r->has_re) {
            regfree(&r->re);
        }
    }
    free(self->fit);
    for (size_t i = 0; i < self->n_int; i++) {
        ho_sm_int_rule_t *r = &self->irules[i];
        free(r->name);
        ho_sm_strv_free(r->types, r->n_types);
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
    ho_sm_strv_free(self->groups, self->n_groups);
    ho_sm_strv_free(self->cap_types, self->n_caps);
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
                      ho_sm_clip(pat, 60, (char[64]){0}));
    }
    int rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        char msg[200];
        snprintf(msg, sizeof msg, "bad regular expression '%s': %.100s",
                 ho_sm_clip(pat, 60, (char[64]){0}), why);
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

/* What every rule has: only known keys, a unique name, a group, points. */
static int s_rule_head(s_load_t *ld, const ho_node_t *node, const char *const *keys, char **name,
                       int *group, long long *points)
{
    int rc = ho_conf_check_keys(ld->conf, node, keys, ld->err);
    if (rc == HO_OK) {
        rc = s_name(ld, node, name);
    }
    if (rc == HO_OK) {
        rc = s_group(ld, node, group);
    }
    if (rc == HO_OK) {
        rc = s_points(ld, node, points);
    }
    return rc;
}

static int s_fit_rule(s_load_t *ld, const ho_node_t *node, ho_sm_fit_rule_t *r)
{
    static const char *const keys[] = {"name",    "description", "group",      "field", "fields",
                                       "match",   "in",          "equals",     "min",   "max",
                                       "missing", "points",      "disqualify", NULL};
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return s_fail(ld, node, "expected a rule (a map with name, field, a test, points)%s", "");
    }
    int rc = s_rule_head(ld, node, keys, &r->name, &r->group, &r->points);
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
        r->test = HO_SM_MATCH;
        return s_regex(ld, node, "match", &r->re, &r->has_re, &r->pattern);
    }
    if ((n = ho_node_get(node, "in")) != NULL) {
        r->test = HO_SM_IN;
        return s_strings(ld, n, false, &r->values, &r->n_values);
    }
    if ((n = ho_node_get(node, "equals")) != NULL) {
        r->test = HO_SM_EQUALS;
        const char *t = ho_node_str(n);
        if (!t) {
            return s_fail(ld, n, "expected a single value%s", "");
        }
        char *end;
        double d = strtod(t, &end);
        if (!strcasecmp(t, "true") || !strcasecmp(t, "false")) {
            r->eq_kind = HO_SM_EQ_BOOL;
            r->eq_bool = !strcasecmp(t, "true");
        } else if (end != t && !*end && isfinite(d)) {
            r->eq_kind = HO_SM_EQ_NUM;
            r->eq_num = d;
        }
        r->values = calloc(1, sizeof(char *));
        r->values[0] = strdup(t);
        r->n_values = 1;
        return HO_OK;
    }
    if ((n = ho_node_get(node, "missing")) != NULL) {
        r->test = HO_SM_MISSING;
        bool b = false;
        rc = ho_conf_bool(ld->conf, node, "missing", false, &b, ld->err);
        if (rc == HO_OK && !b) {
            rc = s_fail(ld, n, "only 'missing: true' is meaningful%s", "");
        }
        return rc;
    }
    r->test = HO_SM_RANGE;
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

static int s_int_rule(s_load_t *ld, const ho_node_t *node, ho_sm_int_rule_t *r)
{
    static const char *const keys[] = {"name",   "description", "group",       "type",
                                       "types",  "path",        "url",         "campaign",
                                       "points", "decay",       "max_per_day", NULL};
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return s_fail(ld, node, "expected a rule (a map with name, type/path, points)%s", "");
    }
    int rc = s_rule_head(ld, node, keys, &r->name, &r->group, &r->points);
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
            r->type_mask |= ho_sm_in_list(ho_sm_activity_types, r->types[i])
                                ? 1u << ho_sm_type_index(r->types[i])
                                : 0;
            if (!ho_sm_in_list(ho_sm_activity_types, r->types[i])) {
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
    if (rc == HO_OK && (*floor_p < -HO_SM_LIMIT || *floor_p > HO_SM_LIMIT)) {
        rc = s_fail(ld, ho_node_get(map, "floor"), "out of range -1000000000..1000000000%s", "");
    }
    if (rc == HO_OK) {
        rc = ho_conf_int(ld->conf, map, "ceiling", 1000000, ceil_p, ld->err);
    }
    if (rc == HO_OK && (*ceil_p < -HO_SM_LIMIT || *ceil_p > HO_SM_LIMIT)) {
        rc = s_fail(ld, ho_node_get(map, "ceiling"), "out of range -1000000000..1000000000%s", "");
    }
    if (rc == HO_OK && *floor_p > *ceil_p) {
        rc = s_fail(ld, ho_node_get(map, "ceiling"), "ceiling is below floor%s", "");
    }
    return rc;
}

/* The section's rules: a list (*out) of at most HO_SM_MAX_RULES (*n_p). */
static int s_rules_seq(s_load_t *ld, const ho_node_t *sec, const ho_node_t **out, size_t *n_p)
{
    const ho_node_t *rules = ho_node_get(sec, "rules");
    *out = rules;
    *n_p = 0;
    if (!rules) {
        return s_fail(ld, sec, "missing required key '%s'", "rules");
    }
    if (ho_node_kind(rules) != HO_NODE_SEQ) {
        return s_fail(ld, rules, "expected a list of rules%s", "");
    }
    *n_p = ho_node_size(rules);
    if (*n_p > HO_SM_MAX_RULES) {
        return s_fail(ld, rules, "more than 1000 rules%s", "");
    }
    return HO_OK;
}

static int s_load_fit(s_load_t *ld, const ho_node_t *root)
{
    static const char *const keys[] = {"floor", "ceiling", "rules", NULL};
    const ho_node_t *sec, *rules;
    size_t n = 0;
    int rc = s_map(ld, root, "fit", true, keys, &sec);
    if (rc == HO_OK) {
        rc = s_floor_ceiling(ld, sec, &ld->m->fit_floor, &ld->m->fit_ceiling);
    }
    if (rc == HO_OK) {
        rc = s_rules_seq(ld, sec, &rules, &n);
    }
    if (rc != HO_OK) {
        return rc;
    }
    ld->m->fit = calloc(n ? n : 1, sizeof(ho_sm_fit_rule_t));
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
    size_t n = 0;
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
            m->decay = HO_SM_DECAY_HALF_LIFE;
            rc = ho_conf_double(ld->conf, decay, "half_life_days", 0, &m->half_life_days, ld->err);
            if (rc == HO_OK && !(m->half_life_days > 0)) {
                rc = s_fail(ld, ho_node_get(decay, "half_life_days"), "must be above 0%s", "");
            }
        } else if (pc || ev) {
            m->decay = HO_SM_DECAY_STEP;
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
        size_t nc = ho_node_size(caps);
        m->cap_types = calloc(nc ? nc : 1, sizeof(char *));
        m->cap_n = calloc(nc ? nc : 1, sizeof(long long));
        for (size_t i = 0; rc == HO_OK && i < nc; i++) {
            const char *type = ho_node_key_at(caps, i);
            if (!ho_sm_in_list(ho_sm_activity_types, type)) {
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
    for (int t = 0; t < HO_SM_N_TYPES; t++) {
        m->cap_of_type[t] = -1;
        for (size_t c = 0; c < m->n_caps; c++) {
            m->cap_of_type[t] =
                strcmp(m->cap_types[c], ho_sm_activity_types[t]) == 0 ? (int)c : m->cap_of_type[t];
        }
    }
    if (rc == HO_OK) {
        rc = s_rules_seq(ld, sec, &rules, &n);
    }
    if (rc != HO_OK) {
        return rc;
    }
    m->irules = calloc(n ? n : 1, sizeof(ho_sm_int_rule_t));
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
    if (self->decay == HO_SM_DECAY_HALF_LIFE) {
        snprintf(decay, sizeof decay, "half_life_days:%g", self->half_life_days);
    } else if (self->decay == HO_SM_DECAY_STEP) {
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
