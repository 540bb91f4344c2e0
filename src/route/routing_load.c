/* routing_load.c - loading deploy/routing.yaml and the reps CSV into the routing model
 * (route_internal.h), checking every name the rules use, and freeing it. The decisions are
 * in routing.c. */
#include "route/route_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handoff/conf.h"
#include "handoff/defaults.h"

int ho_parse_duration_ms(const char *text, int64_t *ms_p)
{
    if (!text || !*text) {
        return HO_ERR_FIELD;
    }
    const char *s = text;
    int64_t total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s)) {
            return HO_ERR_FIELD;
        }
        char *end;
        long long n = strtoll(s, &end, 10);
        if (n < 0 || n > 100000000LL) {
            return HO_ERR_FIELD;
        }
        int64_t unit;
        switch (*end) {
        case 'd':
            unit = DAY_MS;
            break;
        case 'h':
            unit = 3600000;
            break;
        case 'm':
            unit = 60000;
            break;
        case 's':
            unit = 1000;
            break;
        default:
            return HO_ERR_FIELD;
        }
        total += n * unit;
        s = end + 1;
    }
    *ms_p = total;
    return HO_OK;
}

static void s_cond_free(ho_rt_cond_t *c)
{
    ho_rt_strs_free(&c->countries);
    ho_rt_strs_free(&c->states);
    ho_rt_strs_free(&c->regions);
    ho_rt_strs_free(&c->segments);
    ho_rt_strs_free(&c->industries);
    ho_rt_strs_free(&c->grades);
    ho_rt_strs_free(&c->quadrants);
}

void ho_routing_destroy(ho_routing_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_routing_t *self = *self_p;
    ho_rt_reps_free(self->reps, self->n_reps);
    free(self->fallback_queue);
    for (size_t i = 0; i < self->n_segments; i++) {
        free(self->segments[i].name);
    }
    free(self->segments);
    for (size_t i = 0; i < self->n_regions; i++) {
        free(self->regions[i].name);
        ho_rt_strs_free(&self->regions[i].countries);
        ho_rt_strs_free(&self->regions[i].states);
    }
    free(self->regions);
    for (size_t i = 0; i < self->n_rules; i++) {
        ho_rt_rule_t *r = &self->rules[i];
        free(r->name);
        s_cond_free(&r->when);
        ho_rt_strs_free(&r->reps);
        free(r->region);
        free(r->queue);
        free(r->overflow);
    }
    free(self->rules);
    for (size_t i = 0; i < self->n_sla; i++) {
        s_cond_free(&self->sla[i].when);
    }
    free(self->sla);
    free(self->sla_hours);
    ho_tz_destroy(&self->sla_tz);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ loading */

typedef struct {
    ho_routing_t *r;
    const ho_conf_t *conf;
    ho_err_t *err;
} s_loader_t;

/* A scalar or a sequence of scalars -> list. */
static int s_load_list(s_loader_t *L, const ho_node_t *node, bool upper, ho_rt_strs_t *out)
{
    if (!node) {
        return HO_OK;
    }
    if (ho_node_kind(node) == HO_NODE_SCALAR) {
        return ho_rt_strs_push(out, ho_node_str(node), upper);
    }
    if (ho_node_kind(node) != HO_NODE_SEQ) {
        return ho_conf_fail(L->conf, node, L->err, HO_ERR_CONFIG,
                            "expected a value or a list of values");
    }
    for (size_t i = 0; i < ho_node_size(node); i++) {
        const ho_node_t *item = ho_node_at(node, i);
        if (ho_node_kind(item) != HO_NODE_SCALAR) {
            return ho_conf_fail(L->conf, item, L->err, HO_ERR_CONFIG, "expected a single value");
        }
        if (ho_rt_strs_push(out, ho_node_str(item), upper) != HO_OK) {
            return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
    return HO_OK;
}

static bool s_region_known(const ho_routing_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_regions; i++) {
        if (strcasecmp(r->regions[i].name, name) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < r->n_reps; i++) {
        if (strcasecmp(r->reps[i].region, name) == 0) {
            return true;
        }
    }
    return false;
}

static bool s_segment_known(const ho_routing_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_segments; i++) {
        if (strcasecmp(r->segments[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

static int s_load_band(s_loader_t *L, const ho_node_t *map, bool *has, double *lo, double *hi)
{
    static const char *const keys[] = {"min", "max", NULL};
    if (!map) {
        return HO_OK;
    }
    int rc;
    if ((rc = ho_conf_check_keys(L->conf, map, keys, L->err)) ||
        (rc = ho_conf_double(L->conf, map, "min", -1, lo, L->err)) ||
        (rc = ho_conf_double(L->conf, map, "max", -1, hi, L->err))) {
        return rc;
    }
    *has = true;
    return HO_OK;
}

static int s_load_cond(s_loader_t *L, const ho_node_t *map, ho_rt_cond_t *c)
{
    static const char *const keys[] = {"country", "state",    "region",    "segment", "industry",
                                       "grade",   "quadrant", "employees", "revenue", NULL};
    int rc;
    if (!map) {
        return HO_OK;
    }
    if ((rc = ho_conf_check_keys(L->conf, map, keys, L->err)) ||
        (rc = s_load_list(L, ho_node_get(map, "country"), true, &c->countries)) ||
        (rc = s_load_list(L, ho_node_get(map, "state"), true, &c->states)) ||
        (rc = s_load_list(L, ho_node_get(map, "region"), false, &c->regions)) ||
        (rc = s_load_list(L, ho_node_get(map, "segment"), false, &c->segments)) ||
        (rc = s_load_list(L, ho_node_get(map, "industry"), false, &c->industries)) ||
        (rc = s_load_list(L, ho_node_get(map, "grade"), true, &c->grades)) ||
        (rc = s_load_list(L, ho_node_get(map, "quadrant"), false, &c->quadrants))) {
        return rc;
    }
    for (size_t i = 0; i < c->regions.n; i++) {
        if (!s_region_known(L->r, c->regions.v[i])) {
            return ho_conf_fail(L->conf, ho_node_get(map, "region"), L->err, HO_ERR_CONFIG,
                                "unknown region \"%.40s\" (not in regions: nor in the reps file)",
                                c->regions.v[i]);
        }
    }
    for (size_t i = 0; i < c->segments.n; i++) {
        if (!s_segment_known(L->r, c->segments.v[i])) {
            return ho_conf_fail(L->conf, ho_node_get(map, "segment"), L->err, HO_ERR_CONFIG,
                                "unknown segment \"%.40s\" (define it under segments:)",
                                c->segments.v[i]);
        }
    }
    double lo = -1, hi = -1;
    if ((rc = s_load_band(L, ho_node_get(map, "employees"), &c->has_emp, &lo, &hi))) {
        return rc;
    }
    c->emp_min = lo < 0 ? -1 : (long long)lo;
    c->emp_max = hi < 0 ? -1 : (long long)hi;
    return s_load_band(L, ho_node_get(map, "revenue"), &c->has_rev, &c->rev_min, &c->rev_max);
}

static int s_load_duration(s_loader_t *L, const ho_node_t *map, const char *key, int64_t def,
                           int64_t *out)
{
    const char *text;
    int rc = ho_conf_str(L->conf, map, key, NULL, &text, L->err);
    if (rc != HO_OK) {
        return rc;
    }
    if (!text) {
        *out = def;
        return HO_OK;
    }
    if (ho_parse_duration_ms(text, out) != HO_OK) {
        return ho_conf_fail(L->conf, ho_node_get(map, key), L->err, HO_ERR_CONFIG,
                            "expected a duration like 2h, 90m or 1d, got \"%.40s\"", text);
    }
    return HO_OK;
}

static int s_load_segments(s_loader_t *L, const ho_node_t *seq)
{
    static const char *const keys[] = {"name",        "employee_min", "employee_max",
                                       "revenue_min", "revenue_max",  NULL};
    if (!seq) {
        return HO_OK;
    }
    if (ho_node_kind(seq) != HO_NODE_SEQ) {
        return ho_conf_fail(L->conf, seq, L->err, HO_ERR_CONFIG, "expected a list of segments");
    }
    L->r->segments = calloc(ho_node_size(seq) + 1, sizeof *L->r->segments);
    if (!L->r->segments) {
        return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < ho_node_size(seq); i++) {
        const ho_node_t *m = ho_node_at(seq, i);
        ho_rt_segment_t *s = &L->r->segments[L->r->n_segments++];
        const char *name;
        int rc;
        double rmin, rmax;
        if ((rc = ho_conf_check_keys(L->conf, m, keys, L->err)) ||
            (rc = ho_conf_need_str(L->conf, m, "name", &name, L->err)) ||
            (rc = ho_conf_int(L->conf, m, "employee_min", -1, &s->emp_min, L->err)) ||
            (rc = ho_conf_int(L->conf, m, "employee_max", -1, &s->emp_max, L->err)) ||
            (rc = ho_conf_double(L->conf, m, "revenue_min", -1, &rmin, L->err)) ||
            (rc = ho_conf_double(L->conf, m, "revenue_max", -1, &rmax, L->err))) {
            return rc;
        }
        if (!(s->name = strdup(name))) {
            return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
        }
        s->rev_min = rmin;
        s->rev_max = rmax;
        s->has_emp = s->emp_min >= 0 || s->emp_max >= 0;
        s->has_rev = rmin >= 0 || rmax >= 0;
        if (!s->has_emp && !s->has_rev) {
            return ho_conf_fail(L->conf, m, L->err, HO_ERR_CONFIG,
                                "segment \"%.40s\" needs an employee or revenue band", name);
        }
    }
    return HO_OK;
}

static int s_load_regions(s_loader_t *L, const ho_node_t *map)
{
    static const char *const keys[] = {"countries", "us_states", NULL};
    if (!map) {
        return HO_OK;
    }
    if (ho_node_kind(map) != HO_NODE_MAP) {
        return ho_conf_fail(L->conf, map, L->err, HO_ERR_CONFIG,
                            "expected a map of region name -> {countries, us_states}");
    }
    L->r->regions = calloc(ho_node_size(map) + 1, sizeof *L->r->regions);
    if (!L->r->regions) {
        return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < ho_node_size(map); i++) {
        const ho_node_t *m = ho_node_at(map, i);
        ho_rt_region_t *g = &L->r->regions[L->r->n_regions++];
        int rc;
        if (!(g->name = strdup(ho_node_key_at(map, i)))) {
            return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
        }
        if ((rc = ho_conf_check_keys(L->conf, m, keys, L->err)) ||
            (rc = s_load_list(L, ho_node_get(m, "countries"), true, &g->countries)) ||
            (rc = s_load_list(L, ho_node_get(m, "us_states"), true, &g->states))) {
            return rc;
        }
    }
    return HO_OK;
}

static int s_load_rules(s_loader_t *L, const ho_node_t *seq)
{
    static const char *const keys[] = {"name", "when", "team", "queue", "overflow", NULL};
    if (!seq || ho_node_kind(seq) != HO_NODE_SEQ) {
        return ho_conf_fail(L->conf, seq ? seq : ho_conf_root(L->conf), L->err, HO_ERR_CONFIG,
                            "expected rules: a list of routing rules");
    }
    L->r->rules = calloc(ho_node_size(seq) + 1, sizeof *L->r->rules);
    if (!L->r->rules) {
        return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < ho_node_size(seq); i++) {
        const ho_node_t *m = ho_node_at(seq, i);
        ho_rt_rule_t *rule = &L->r->rules[L->r->n_rules++];
        const char *name, *queue, *overflow;
        int rc;
        rule->line = ho_node_line(m);
        if ((rc = ho_conf_check_keys(L->conf, m, keys, L->err)) ||
            (rc = ho_conf_need_str(L->conf, m, "name", &name, L->err)) ||
            (rc = ho_conf_str(L->conf, m, "queue", NULL, &queue, L->err)) ||
            (rc = ho_conf_str(L->conf, m, "overflow", NULL, &overflow, L->err))) {
            return rc;
        }
        for (size_t k = 0; k + 1 < L->r->n_rules; k++) {
            if (strcmp(L->r->rules[k].name, name) == 0) {
                return ho_conf_fail(L->conf, ho_node_get(m, "name"), L->err, HO_ERR_CONFIG,
                                    "duplicate rule name \"%.40s\"", name);
            }
        }
        if (!(rule->name = strdup(name)) || (queue && !(rule->queue = strdup(queue))) ||
            (overflow && !(rule->overflow = strdup(overflow)))) {
            return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
        }
        const ho_node_t *when = ho_node_get(m, "when");
        if (when && ho_node_kind(when) != HO_NODE_MAP) {
            return ho_conf_fail(L->conf, when, L->err, HO_ERR_CONFIG,
                                "expected a map of conditions");
        }
        if ((rc = s_load_cond(L, when, &rule->when))) {
            return rc;
        }
        const ho_node_t *team = ho_node_get(m, "team");
        if (queue && team) {
            return ho_conf_fail(L->conf, team, L->err, HO_ERR_CONFIG,
                                "a rule sends leads to a team or to a queue, not both");
        }
        if (queue) {
            rule->kind = HO_RT_TEAM_QUEUE;
            continue;
        }
        if (!team) {
            return ho_conf_fail(L->conf, m, L->err, HO_ERR_CONFIG,
                                "rule \"%.40s\" needs team: or queue:", name);
        }
        if (ho_node_kind(team) == HO_NODE_SCALAR && strcmp(ho_node_str(team), "territory") == 0) {
            rule->kind = HO_RT_TEAM_TERRITORY;
        } else if (ho_node_kind(team) == HO_NODE_MAP && ho_node_size(team) == 1 &&
                   ho_node_get(team, "region")) {
            const char *region;
            if ((rc = ho_conf_str(L->conf, team, "region", "", &region, L->err))) {
                return rc;
            }
            if (!s_region_known(L->r, region)) {
                return ho_conf_fail(L->conf, ho_node_get(team, "region"), L->err, HO_ERR_CONFIG,
                                    "no rep of the reps file has region \"%.40s\"", region);
            }
            rule->kind = HO_RT_TEAM_REGION;
            if (!(rule->region = strdup(region))) {
                return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
            }
        } else if (ho_node_kind(team) == HO_NODE_SEQ) {
            rule->kind = HO_RT_TEAM_REPS;
            if ((rc = s_load_list(L, team, false, &rule->reps))) {
                return rc;
            }
            for (size_t k = 0; k < rule->reps.n; k++) {
                if (!ho_rt_rep_find(L->r, rule->reps.v[k])) {
                    return ho_conf_fail(L->conf, ho_node_at(team, k), L->err, HO_ERR_CONFIG,
                                        "unknown rep \"%.40s\" (not in the reps file)",
                                        rule->reps.v[k]);
                }
            }
        } else {
            return ho_conf_fail(L->conf, team, L->err, HO_ERR_CONFIG,
                                "expected territory, {region: NAME} or a list of rep ids");
        }
    }
    return HO_OK;
}

/* sla.business_hours and sla.timezone: the default working hours of every rep, and the zone
 * of the SLA clock of a lead that went to a queue. */
static int s_load_sla_clock(s_loader_t *L, const ho_node_t *map)
{
    const char *hours, *zone;
    int rc;
    if ((rc = ho_conf_str(L->conf, map, "business_hours", NULL, &hours, L->err)) ||
        (rc = ho_conf_str(L->conf, map, "timezone", "UTC", &zone, L->err))) {
        return rc;
    }
    if (hours) {
        char why[160];
        rc = ho_rt_hours_parse(hours, &L->r->sla_hours, why, sizeof why);
        if (rc == HO_ERR_NOMEM) {
            return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
        }
        if (rc != HO_OK) {
            return ho_conf_fail(L->conf, ho_node_get(map, "business_hours"), L->err, HO_ERR_CONFIG,
                                "%s", why);
        }
    }
    ho_err_t tz_err = {0};
    if (!(L->r->sla_tz = ho_tz_load(zone, &tz_err))) {
        return ho_conf_fail(L->conf, ho_node_get(map, "timezone"), L->err, HO_ERR_CONFIG, "%s",
                            tz_err.message);
    }
    return HO_OK;
}

static int s_load_sla(s_loader_t *L, const ho_node_t *map)
{
    static const char *const keys[] = {"deadline",       "reassign_after", "rules",
                                       "business_hours", "timezone",       NULL};
    static const char *const rkeys[] = {"when", "deadline", "reassign_after", NULL};
    int rc;
    L->r->sla_deadline_ms = 24 * 3600000LL;
    L->r->sla_reassign_after_ms = 2 * 3600000LL;
    if (map && (rc = ho_conf_check_keys(L->conf, map, keys, L->err))) {
        return rc;
    }
    if ((rc = s_load_sla_clock(L, map))) {
        return rc;
    }
    if (!map) {
        return HO_OK;
    }
    if ((rc = s_load_duration(L, map, "deadline", L->r->sla_deadline_ms, &L->r->sla_deadline_ms)) ||
        (rc = s_load_duration(L, map, "reassign_after", L->r->sla_reassign_after_ms,
                              &L->r->sla_reassign_after_ms))) {
        return rc;
    }
    const ho_node_t *seq = ho_node_get(map, "rules");
    if (!seq) {
        return HO_OK;
    }
    if (ho_node_kind(seq) != HO_NODE_SEQ) {
        return ho_conf_fail(L->conf, seq, L->err, HO_ERR_CONFIG, "expected a list of SLA rules");
    }
    L->r->sla = calloc(ho_node_size(seq) + 1, sizeof *L->r->sla);
    if (!L->r->sla) {
        return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < ho_node_size(seq); i++) {
        const ho_node_t *m = ho_node_at(seq, i);
        ho_rt_sla_t *s = &L->r->sla[L->r->n_sla++];
        if ((rc = ho_conf_check_keys(L->conf, m, rkeys, L->err))) {
            return rc;
        }
        if (!ho_node_get(m, "deadline")) {
            return ho_conf_fail(L->conf, m, L->err, HO_ERR_CONFIG,
                                "missing required key 'deadline'");
        }
        if ((rc = s_load_cond(L, ho_node_get(m, "when"), &s->when)) ||
            (rc = s_load_duration(L, m, "deadline", 0, &s->deadline_ms)) ||
            (rc = s_load_duration(L, m, "reassign_after", -1, &s->reassign_after_ms))) {
            return rc;
        }
    }
    return HO_OK;
}

static int s_load(s_loader_t *L)
{
    static const char *const keys[] = {"reps",     "fallback_queue", "account_match", "capacity",
                                       "segments", "regions",        "rules",         "sla",
                                       NULL};
    static const char *const cap_keys[] = {"per_day", "window", NULL};
    const ho_node_t *root = ho_conf_root(L->conf);
    int rc;
    const char *fallback;
    if ((rc = ho_conf_check_keys(L->conf, root, keys, L->err)) ||
        (rc = ho_conf_str(L->conf, root, "fallback_queue", "unassigned", &fallback, L->err)) ||
        (rc = ho_conf_bool(L->conf, root, "account_match", true, &L->r->account_match, L->err))) {
        return rc;
    }
    if (!fallback[0]) {
        return ho_conf_fail(L->conf, ho_node_get(root, "fallback_queue"), L->err, HO_ERR_CONFIG,
                            "the fallback queue needs a name");
    }
    if (!(L->r->fallback_queue = strdup(fallback))) {
        return ho_err_set(L->err, HO_ERR_NOMEM, "", "out of memory");
    }
    const ho_node_t *cap = ho_node_get(root, "capacity");
    const char *window;
    if ((cap && (rc = ho_conf_check_keys(L->conf, cap, cap_keys, L->err))) ||
        (rc = ho_conf_int(L->conf, cap, "per_day", 0, &L->r->per_day, L->err)) ||
        (rc = ho_conf_str(L->conf, cap, "window", "week", &window, L->err))) {
        return rc;
    }
    if (L->r->per_day <= 0) {
        L->r->per_day = -1;
    }
    if (strcmp(window, "week") == 0) {
        L->r->window_days = 0;
    } else {
        char *end;
        L->r->window_days = strtoll(window, &end, 10);
        if (*end || L->r->window_days < 1 || L->r->window_days > 366) {
            return ho_conf_fail(L->conf, ho_node_get(cap, "window"), L->err, HO_ERR_CONFIG,
                                "expected week or a number of days 1..366, got \"%.40s\"", window);
        }
    }
    if ((rc = s_load_segments(L, ho_node_get(root, "segments"))) ||
        (rc = s_load_regions(L, ho_node_get(root, "regions"))) ||
        (rc = s_load_rules(L, ho_node_get(root, "rules"))) ||
        (rc = s_load_sla(L, ho_node_get(root, "sla")))) {
        return rc;
    }
    return HO_OK;
}

static ho_routing_t *s_build(const ho_conf_t *conf, const char *csv, size_t csv_len,
                             const char *csv_name, ho_err_t *err)
{
    ho_routing_t *r = calloc(1, sizeof *r);
    if (!r) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    s_loader_t L = {.r = r, .conf = conf, .err = err};
    if (ho_rt_reps_parse(csv, csv_len, csv_name, &r->reps, &r->n_reps, err) != HO_OK ||
        s_load(&L) != HO_OK) {
        ho_routing_destroy(&r);
    }
    return r;
}

ho_routing_t *ho_routing_parse(const char *yaml, size_t yaml_len, const char *yaml_name,
                               const char *reps_csv, size_t csv_len, const char *csv_name,
                               ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_parse(yaml, yaml_len, yaml_name, err);
    if (!conf) {
        return NULL;
    }
    ho_routing_t *r = s_build(conf, reps_csv, csv_len, csv_name, err);
    ho_conf_destroy(&conf);
    return r;
}

ho_routing_t *ho_routing_load(const char *config_dir, const char *name, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load_named(config_dir, name ? name : "routing.yaml", err);
    if (!conf) {
        return NULL;
    }
    const char *reps_name;
    ho_routing_t *r = NULL;
    if (ho_conf_str(conf, ho_conf_root(conf), "reps", "reps.csv", &reps_name, err) == HO_OK) {
        char from[4096];
        size_t len;
        char *csv = ho_file_load_named(config_dir, reps_name, &len, from, sizeof from, err);
        if (csv) {
            r = s_build(conf, csv, len, from, err);
            free(csv);
        }
    }
    ho_conf_destroy(&conf);
    return r;
}
