/* routing.c - the routing engine: deploy/routing.yaml + reps CSV + router state -> decision
 * (loading the model is routing_load.c).
 * See include/handoff/routing.h and the comments in deploy/routing.yaml. */
#include "route/route_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ helpers */

size_t ho_routing_rep_count(const ho_routing_t *self)
{
    return self->n_reps;
}

size_t ho_routing_rule_count(const ho_routing_t *self)
{
    return self->n_rules;
}

const char *ho_routing_fallback_queue(const ho_routing_t *self)
{
    return self->fallback_queue;
}

const ho_rt_rep_t *ho_rt_rep_find(const ho_routing_t *self, const char *id)
{
    for (size_t i = 0; id && i < self->n_reps; i++) {
        if (strcmp(self->reps[i].rep_id, id) == 0) {
            return &self->reps[i];
        }
    }
    return NULL;
}

bool ho_routing_rep(const ho_routing_t *self, const char *rep_id, const char **name_p,
                    const char **email_p)
{
    const ho_rt_rep_t *r = ho_rt_rep_find(self, rep_id);
    if (r) {
        if (name_p) {
            *name_p = r->name;
        }
        if (email_p) {
            *email_p = r->email;
        }
    }
    return r != NULL;
}

/* ------------------------------------------------------------------ the lead */

typedef struct {
    long long lead_id;
    const char *email, *country, *state, *industry, *industry_group, *grade, *quadrant, *domain;
    bool has_emp, has_rev;
    long long employees;
    double revenue;
    const ho_rt_segment_t *segment;
} s_lead_t;

static const char *s_str(const json_t *fields, const json_t *lead, const char *key)
{
    const json_t *v = json_object_get(fields, key);
    if (!json_is_string(v)) {
        v = json_object_get(lead, key);
    }
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

static bool s_num(const json_t *fields, const json_t *lead, const char *key, double *out)
{
    const json_t *v = json_object_get(fields, key);
    if (!v) {
        v = json_object_get(lead, key);
    }
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        if (end != json_string_value(v) && !*end) {
            *out = d;
            return true;
        }
    }
    return false;
}

static bool s_segment_fits(const ho_rt_segment_t *s, const s_lead_t *l)
{
    bool checked = false;
    if (s->has_emp && l->has_emp) {
        if ((s->emp_min >= 0 && l->employees < s->emp_min) ||
            (s->emp_max >= 0 && l->employees > s->emp_max)) {
            return false;
        }
        checked = true;
    }
    if (s->has_rev && l->has_rev) {
        if ((s->rev_min >= 0 && l->revenue < s->rev_min) ||
            (s->rev_max >= 0 && l->revenue > s->rev_max)) {
            return false;
        }
        checked = true;
    }
    return checked;
}

static int s_lead(const ho_routing_t *self, const json_t *req, s_lead_t *l, ho_err_t *err)
{
    memset(l, 0, sizeof *l);
    const json_t *lead = json_object_get(req, "lead");
    if (!json_is_object(lead)) {
        return ho_err_set(err, lead ? HO_ERR_FIELD : HO_ERR_MISSING, "lead", "lead: %s",
                          lead ? "expected a map" : "missing");
    }
    const json_t *id = json_object_get(lead, "lead_id");
    if (!json_is_integer(id)) {
        return ho_err_set(err, id ? HO_ERR_FIELD : HO_ERR_MISSING, "lead.lead_id",
                          "lead.lead_id: %s", id ? "expected an integer" : "missing");
    }
    l->lead_id = json_integer_value(id);
    const json_t *f = json_object_get(lead, "fields");
    l->email = s_str(f, lead, "email");
    l->country = s_str(f, lead, "country");
    l->state = s_str(f, lead, "state");
    l->industry = s_str(f, lead, "industry");
    l->industry_group = s_str(f, lead, "industry_group");
    l->domain = s_str(f, lead, "domain");
    double d;
    if (s_num(f, lead, "employees", &d) && d >= 0) {
        l->has_emp = true;
        l->employees = (long long)d;
    }
    if (s_num(f, lead, "revenue", &d) && d >= 0) {
        l->has_rev = true;
        l->revenue = d;
    }
    const json_t *score = json_object_get(lead, "score");
    if (!json_is_object(score)) {
        score = json_object_get(req, "score");
    }
    l->grade = s_str(score, lead, "grade");
    l->quadrant = s_str(score, lead, "quadrant");
    for (size_t i = 0; i < self->n_segments && !l->segment; i++) {
        if (s_segment_fits(&self->segments[i], l)) {
            l->segment = &self->segments[i];
        }
    }
    return HO_OK;
}

/* ------------------------------------------------------------------ matching */

static bool s_rep_territory(const ho_rt_rep_t *r, const s_lead_t *l)
{
    if (r->countries.n && !ho_rt_strs_has(&r->countries, l->country)) {
        return false;
    }
    if (r->states.n && l->country && strcasecmp(l->country, "US") == 0 &&
        !ho_rt_strs_has(&r->states, l->state)) {
        return false;
    }
    return r->countries.n > 0 || r->states.n > 0;
}

/* The rep covers the lead's company size (unknown size: every band). */
static bool s_rep_band(const ho_rt_rep_t *r, const s_lead_t *l)
{
    if (l->has_emp && ((r->emp_min >= 0 && l->employees < r->emp_min) ||
                       (r->emp_max >= 0 && l->employees > r->emp_max))) {
        return false;
    }
    if (l->segment && !r->all_segments && !ho_rt_strs_has(&r->segments, l->segment->name)) {
        return false;
    }
    return true;
}

static bool s_in_region(const ho_routing_t *self, const char *name, const s_lead_t *l)
{
    for (size_t i = 0; i < self->n_regions; i++) {
        const ho_rt_region_t *g = &self->regions[i];
        if (strcasecmp(g->name, name) == 0) {
            if (!ho_rt_strs_has(&g->countries, l->country)) {
                return false;
            }
            return !g->states.n || strcasecmp(l->country, "US") != 0 ||
                   ho_rt_strs_has(&g->states, l->state);
        }
    }
    for (size_t i = 0; i < self->n_reps; i++) {
        if (strcasecmp(self->reps[i].region, name) == 0 && s_rep_territory(&self->reps[i], l)) {
            return true;
        }
    }
    return false;
}

static bool s_grade_match(const ho_rt_strs_t *grades, const char *grade)
{
    if (!grade) {
        return false;
    }
    for (size_t i = 0; i < grades->n; i++) {
        const char *g = grades->v[i];
        if (strlen(g) == 1 ? toupper((unsigned char)grade[0]) == g[0] : strcasecmp(g, grade) == 0) {
            return true;
        }
    }
    return false;
}

static bool s_cond_match(const ho_routing_t *self, const ho_rt_cond_t *c, const s_lead_t *l)
{
    if (c->countries.n && !ho_rt_strs_has(&c->countries, l->country)) {
        return false;
    }
    if (c->states.n && !ho_rt_strs_has(&c->states, l->state)) {
        return false;
    }
    if (c->regions.n) {
        bool any = false;
        for (size_t i = 0; i < c->regions.n && !any; i++) {
            any = l->country && s_in_region(self, c->regions.v[i], l);
        }
        if (!any) {
            return false;
        }
    }
    if (c->segments.n && (!l->segment || !ho_rt_strs_has(&c->segments, l->segment->name))) {
        return false;
    }
    if (c->has_emp && (!l->has_emp || (c->emp_min >= 0 && l->employees < c->emp_min) ||
                       (c->emp_max >= 0 && l->employees > c->emp_max))) {
        return false;
    }
    if (c->has_rev && (!l->has_rev || (c->rev_min >= 0 && l->revenue < c->rev_min) ||
                       (c->rev_max >= 0 && l->revenue > c->rev_max))) {
        return false;
    }
    if (c->industries.n && !ho_rt_strs_has(&c->industries, l->industry) &&
        !ho_rt_strs_has(&c->industries, l->industry_group)) {
        return false;
    }
    if (c->grades.n && !s_grade_match(&c->grades, l->grade)) {
        return false;
    }
    if (c->quadrants.n && !ho_rt_strs_has(&c->quadrants, l->quadrant)) {
        return false;
    }
    return true;
}

void ho_routing_sla(const ho_routing_t *self, const json_t *request, const char *rep_id,
                    int64_t assigned_at, int64_t *sla_due_p, int64_t *reassign_due_p)
{
    s_lead_t l;
    int64_t deadline = self->sla_deadline_ms, after = self->sla_reassign_after_ms;
    if (s_lead(self, request, &l, NULL) == HO_OK) {
        for (size_t i = 0; i < self->n_sla; i++) {
            if (s_cond_match(self, &self->sla[i].when, &l)) {
                deadline = self->sla[i].deadline_ms;
                if (self->sla[i].reassign_after_ms >= 0) {
                    after = self->sla[i].reassign_after_ms;
                }
                break;
            }
        }
    }
    /* the clock runs in the rep's working hours (own, else the default), in the rep's zone;
     * a queued lead (or a rep this config does not know) in the default hours and zone */
    const ho_rt_rep_t *rep = ho_rt_rep_find(self, rep_id);
    const ho_rt_hours_t *hours = rep && rep->own_hours ? rep->hours : self->sla_hours;
    const ho_tz_t *tz = rep ? rep->tz : self->sla_tz;
    *sla_due_p = ho_rt_hours_add(hours, tz, assigned_at, deadline);
    *reassign_due_p = ho_rt_hours_add(hours, tz, *sla_due_p, after);
}

/* ------------------------------------------------------------------ deciding */

typedef struct {
    char text[1024];
    size_t len;
} s_buf_t;

static void s_add(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(s_buf_t *b, const char *fmt, ...)
{
    if (b->len >= sizeof b->text - 1) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->text + b->len, sizeof b->text - b->len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        b->len += (size_t)n;
        if (b->len > sizeof b->text - 1) {
            b->len = sizeof b->text - 1;
        }
    }
}

typedef struct {
    const ho_routing_t *self;
    ho_route_state_t *st;
    int64_t as_of;
    const ho_rt_strs_t *exclude;
} s_ctx_t;

static bool s_is_ooo(const ho_rt_rep_t *r, int64_t day)
{
    /* Dates, when given, say when the absence is; the flag alone means "away until further
     * notice". Exports leave the flag set after an absence ended, so dates win. */
    if (r->has_ooo_dates) {
        return day >= r->ooo_start_day && day <= r->ooo_end_day;
    }
    return r->ooo_flag;
}

static int64_t s_window_start(const ho_routing_t *self, int64_t day)
{
    if (self->window_days > 0) {
        return day - (self->window_days - 1);
    }
    /* 1970-01-01 was a Thursday; ISO weeks start on Monday */
    int64_t dow = ((day + 3) % 7 + 7) % 7; /* 0 = Monday */
    return day - dow;
}

static const char *s_window_label(const ho_routing_t *self, char *buf, size_t cap)
{
    if (self->window_days > 0) {
        snprintf(buf, cap, "in %lld days", self->window_days);
        return buf;
    }
    return "this week";
}

int ho_route_state_counts(const ho_routing_t *routing, ho_route_state_t *state, const char *rep_id,
                          int64_t at_ms, int *day_p, int *window_p)
{
    const ho_rt_rep_t *r = ho_rt_rep_find(routing, rep_id);
    int64_t day =
        r ? ho_tz_day(r->tz, at_ms) : (at_ms >= 0 ? at_ms / DAY_MS : (at_ms - DAY_MS + 1) / DAY_MS);
    if (day_p) {
        *day_p = ho_rt_state_count(state, rep_id, day, day);
    }
    if (window_p) {
        *window_p = ho_rt_state_load(state, rep_id, s_window_start(routing, day), day);
    }
    return HO_OK;
}

int ho_route_state_prune(const ho_routing_t *routing, ho_route_state_t *state, int64_t now_ms,
                         int64_t keep_ms, ho_routing_pruned_t *out, ho_err_t *err)
{
    if (out) {
        memset(out, 0, sizeof *out);
    }
    if (keep_ms <= 0) {
        return HO_OK;
    }
    int64_t keep_days = (keep_ms + DAY_MS - 1) / DAY_MS;
    int64_t window = routing->window_days > 0 ? routing->window_days : 7;
    if (keep_days < window) {
        keep_days = window;
    }
    return ho_rt_state_prune(state, now_ms, now_ms - keep_ms, keep_days, now_ms - keep_ms, out,
                             err);
}

typedef enum { E_OK = 0, E_EXCLUDED, E_INACTIVE, E_OOO, E_DAY_CAP, E_WEEK_CAP, E_WEIGHT0 } s_why_t;

/* Can rep r take one more lead right now? (OOO is the caller's business.) */
static s_why_t s_can_take(const s_ctx_t *c, const ho_rt_rep_t *r, bool caps, int *day_n, int *win_n)
{
    *day_n = *win_n = 0;
    if (ho_rt_strs_has(c->exclude, r->rep_id)) {
        return E_EXCLUDED;
    }
    if (!r->active) {
        return E_INACTIVE;
    }
    /* the rep's own calendar: "today", the week and the absence dates are local days */
    int64_t day = ho_tz_day(r->tz, c->as_of);
    if (s_is_ooo(r, day)) {
        return E_OOO;
    }
    if (c->st) {
        *day_n = ho_rt_state_count(c->st, r->rep_id, day, day);
        *win_n = ho_rt_state_load(c->st, r->rep_id, s_window_start(c->self, day), day);
    }
    long long per_day = r->daily_capacity >= 0 ? r->daily_capacity : c->self->per_day;
    if (caps && per_day >= 0 && *day_n >= per_day) {
        return E_DAY_CAP;
    }
    if (caps && r->weekly_capacity >= 0 && *win_n >= r->weekly_capacity) {
        return E_WEEK_CAP;
    }
    return E_OK;
}

typedef struct {
    const ho_rt_rep_t *rep;   /* in the rotation */
    const ho_rt_rep_t *takes; /* who gets the lead: rep, or rep's backup while rep is away */
    int day_n, win_n;         /* counts of `takes` before this lead */
    long long cw;
} s_cand_t;

/* Why-not text for the fallback sentence. */
static void s_why_text(s_buf_t *b, const s_ctx_t *c, const ho_rt_rep_t *r, s_why_t why, int day_n,
                       int win_n)
{
    char wl[32];
    long long per_day = r->daily_capacity >= 0 ? r->daily_capacity : c->self->per_day;
    switch (why) {
    case E_EXCLUDED:
        s_add(b, "%s excluded", r->rep_id);
        break;
    case E_INACTIVE:
        s_add(b, "%s inactive", r->rep_id);
        break;
    case E_OOO:
        s_add(b, "%s out of office", r->rep_id);
        break;
    case E_DAY_CAP:
        s_add(b, "%s at daily capacity %d/%lld", r->rep_id, day_n, per_day);
        break;
    case E_WEEK_CAP:
        s_add(b, "%s at capacity %d/%lld %s", r->rep_id, win_n, r->weekly_capacity,
              s_window_label(c->self, wl, sizeof wl));
        break;
    case E_WEIGHT0:
        s_add(b, "%s has weight 0", r->rep_id);
        break;
    case E_OK:
        break;
    }
}

static bool s_in_team(const ho_routing_t *self, const ho_rt_rule_t *rule, const ho_rt_rep_t *r,
                      const s_lead_t *l)
{
    switch (rule->kind) {
    case HO_RT_TEAM_TERRITORY:
        return s_rep_territory(r, l) && s_rep_band(r, l);
    case HO_RT_TEAM_REGION:
        return strcasecmp(r->region, rule->region) == 0;
    case HO_RT_TEAM_REPS:
        return ho_rt_strs_has(&rule->reps, r->rep_id);
    case HO_RT_TEAM_QUEUE:
        break;
    }
    (void)self;
    return false;
}

/* Smooth weighted round robin (nginx): every eligible rep gains its weight, the one with the
 * most current weight is picked and pays back the total. Over any run of sum(weights)
 * picks each rep gets exactly its share, interleaved rather than in bursts. */
static int s_rotate(const s_ctx_t *c, const ho_rt_rule_t *rule, const s_lead_t *l, s_cand_t *pick,
                    s_buf_t *why, ho_err_t *err)
{
    const ho_routing_t *self = c->self;
    s_cand_t *cands = calloc(self->n_reps + 1, sizeof *cands);
    if (!cands) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    size_t n = 0, members = 0;
    long long total = 0;
    /* team order: the rule's list order for explicit teams, else the reps file order */
    size_t order_n = rule->kind == HO_RT_TEAM_REPS ? rule->reps.n : self->n_reps;
    for (size_t i = 0; i < order_n; i++) {
        const ho_rt_rep_t *r =
            rule->kind == HO_RT_TEAM_REPS ? ho_rt_rep_find(self, rule->reps.v[i]) : &self->reps[i];
        if (!r || !s_in_team(self, rule, r, l)) {
            continue;
        }
        members++;
        int dn = 0, wn = 0;
        s_why_t w = r->weight <= 0 ? E_WEIGHT0 : s_can_take(c, r, true, &dn, &wn);
        const ho_rt_rep_t *takes = r;
        if (w == E_OOO) {
            const ho_rt_rep_t *b = ho_rt_rep_find(self, r->backup);
            s_why_t bw = b ? s_can_take(c, b, true, &dn, &wn) : E_OOO;
            if (bw == E_OK) {
                takes = b;
                w = E_OK;
            } else {
                if (why->len) {
                    s_add(why, ", ");
                }
                s_add(why, "%s out of office", r->rep_id);
                if (b) {
                    s_add(why, " and backup ");
                    s_why_text(why, c, b, bw, dn, wn);
                }
                continue;
            }
        }
        if (w != E_OK) {
            if (why->len) {
                s_add(why, ", ");
            }
            s_why_text(why, c, r, w, dn, wn);
            continue;
        }
        s_cand_t *cd = &cands[n++];
        cd->rep = r;
        cd->takes = takes;
        cd->day_n = dn;
        cd->win_n = wn;
        cd->cw = (c->st ? ho_rt_state_rr_get(c->st, rule->name, r->rep_id) : 0) + r->weight;
        total += r->weight;
    }
    if (!members) {
        s_add(why, "no rep of the team covers this lead");
    }
    int rc = HO_OK;
    if (n) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++) {
            if (cands[i].cw > cands[best].cw) {
                best = i;
            }
        }
        cands[best].cw -= total;
        for (size_t i = 0; c->st && i < n && rc == HO_OK; i++) {
            rc = ho_rt_state_rr_set(c->st, rule->name, cands[i].rep->rep_id, cands[i].cw, err);
        }
        *pick = cands[best];
    } else {
        memset(pick, 0, sizeof *pick);
    }
    free(cands);
    return rc;
}

static void s_where(s_buf_t *b, const s_lead_t *l)
{
    if (l->state && l->country && strcasecmp(l->country, "US") == 0) {
        s_add(b, "%s", l->state);
    } else {
        s_add(b, "%s", l->country ? l->country : "unknown country");
    }
}

static void s_segment_text(s_buf_t *b, const s_lead_t *l, const char *sep)
{
    const ho_rt_segment_t *s = l->segment;
    if (s) {
        if (s->has_emp && l->has_emp) {
            if (s->emp_max < 0) {
                s_add(b, "%s%s %lld+ employees", sep, s->name, s->emp_min < 0 ? 0 : s->emp_min);
            } else {
                s_add(b, "%s%s %lld-%lld employees", sep, s->name, s->emp_min < 0 ? 1 : s->emp_min,
                      s->emp_max);
            }
        } else {
            s_add(b, "%s%s by revenue", sep, s->name);
        }
    } else if (l->has_emp) {
        s_add(b, "%s%lld employees", sep, l->employees);
    }
}

static void s_rule_text(s_buf_t *b, const ho_routing_t *self, const ho_rt_rule_t *rule,
                        const s_lead_t *l, const ho_rt_rep_t *rep)
{
    const ho_rt_cond_t *c = &rule->when;
    bool geo = c->countries.n || c->states.n || c->regions.n ||
               rule->kind == HO_RT_TEAM_TERRITORY || rule->kind == HO_RT_TEAM_REGION;
    s_add(b, "rule %s: ", rule->name);
    size_t body = b->len;
    if (geo) {
        const char *region = rep && rep->region[0] ? rep->region
                             : rule->region        ? rule->region
                             : c->regions.n        ? c->regions.v[0]
                                                   : NULL;
        s_add(b, "territory ");
        if (region) {
            s_add(b, "%s (", region);
        }
        s_where(b, l);
        if (region) {
            s_add(b, ")");
        }
    }
    if (c->segments.n || c->has_emp || c->has_rev || l->segment ||
        rule->kind == HO_RT_TEAM_TERRITORY) {
        s_segment_text(b, l, b->len > body ? ", " : "");
    }
    if (c->industries.n) {
        s_add(b, "%sindustry %s", b->len > body ? ", " : "",
              l->industry_group ? l->industry_group
              : l->industry     ? l->industry
                                : "?");
    }
    if (c->grades.n || c->quadrants.n) {
        s_add(b, "%sgrade %s", b->len > body ? ", " : "", l->grade ? l->grade : "?");
        if (c->quadrants.n) {
            s_add(b, " (%s)", l->quadrant ? l->quadrant : "?");
        }
    }
    if (b->len == body) {
        s_add(b, "matches every lead");
    }
    (void)self;
}

static json_t *s_payload(const s_lead_t *l, const ho_rt_rep_t *rep, const char *queue,
                         const char *rule, const char *reason, int64_t at, int64_t sla_due,
                         int64_t reassign_due, const char *from)
{
    json_t *p = json_object();
    json_object_set_new(p, "lead_id", json_integer(l->lead_id));
    json_object_set_new(p, "email", l->email ? json_string(l->email) : json_null());
    json_object_set_new(p, "rep_id", rep ? json_string(rep->rep_id) : json_null());
    json_object_set_new(p, "rep_name", rep ? json_string(rep->name) : json_null());
    json_object_set_new(p, "rep_email", rep ? json_string(rep->email) : json_null());
    json_object_set_new(p, "queue", queue ? json_string(queue) : json_null());
    json_object_set_new(p, "rule", json_string(rule));
    json_t *r = json_string(reason);
    json_object_set_new(p, "reason", r ? r : json_string("(reason not valid UTF-8)"));
    json_object_set_new(p, "assigned_at", json_integer(at));
    json_object_set_new(p, "sla_due", json_integer(sla_due));
    json_object_set_new(p, "reassign_due", json_integer(reassign_due));
    json_object_set_new(p, "reassigned_from", from ? json_string(from) : json_null());
    return p;
}

static int s_get_time(const json_t *req, const char *key, int64_t *out, ho_err_t *err)
{
    const json_t *v = json_object_get(req, key);
    if (!json_is_integer(v)) {
        return ho_err_set(err, v ? HO_ERR_FIELD : HO_ERR_MISSING, key, "%s: %s", key,
                          v ? "expected an integer time in ms" : "missing");
    }
    *out = json_integer_value(v);
    return HO_OK;
}

/* Who must not get the lead into *exclude: the request's exclusions, the rep it leaves
 * (*from: the reassigned or breaching owner, else NULL), and its earlier breachers. */
static int s_exclusions(const ho_routing_t *self, ho_route_state_t *st, const json_t *req,
                        const s_lead_t *l, int64_t as_of, ho_rt_strs_t *exclude, const char **from,
                        ho_err_t *err)
{
    int rc = HO_OK;
    const char *step = json_string_value(json_object_get(req, "step"));
    const char *why_req = json_string_value(json_object_get(req, "reason"));
    const json_t *ex = json_object_get(req, "exclude");
    for (size_t i = 0; json_is_array(ex) && i < json_array_size(ex); i++) {
        const char *id = json_string_value(json_array_get(ex, i));
        if (id && !ho_rt_strs_has(exclude, id) && ho_rt_strs_push(exclude, id, false)) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
    *from = NULL;
    if (step && strcmp(step, "reassign") == 0) {
        *from = json_string_value(json_object_get(req, "rep_id"));
    } else if (why_req && strcmp(why_req, "sla_breach") == 0) {
        *from = json_string_value(json_object_get(json_object_get(req, "lead"), "owner"));
    }
    bool first_breach = false;
    if (*from && st && rc == HO_OK) {
        rc = ho_rt_state_add_breacher(st, l->lead_id, *from, as_of, &first_breach, err);
    }
    /* The rep ignored the lead and it leaves them: it no longer counts in their open load
     * (the capacity window), once per lead and rep, on the day it was counted. The daily cap
     * still counts it: it limits how many leads one rep is handed in a day, and a rep who lets
     * leads lapse must not be handed more of them that same day. */
    const json_t *was = json_object_get(req, "assigned_at");
    const ho_rt_rep_t *gone = ho_rt_rep_find(self, *from);
    if (first_breach && gone && json_is_integer(was) && rc == HO_OK) {
        rc = ho_rt_state_release(st, *from, ho_tz_day(gone->tz, json_integer_value(was)), err);
    }
    if (st && rc == HO_OK && ho_rt_state_breachers(st, l->lead_id, exclude) != HO_OK) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (*from && rc == HO_OK && !ho_rt_strs_has(exclude, *from) &&
        ho_rt_strs_push(exclude, *from, false)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    return rc;
}

/* The decision being made: the rep or the queue, the rule that chose, the rep's counts
 * (today, the capacity window) before this lead, and the explanation. */
typedef struct {
    const ho_rt_rep_t *rep;
    const char *queue, *rule_name;
    int dn, wn;
    s_buf_t b;
} s_choice_t;

/* 1. lead-to-account matching: the company already has an owner (or their backup). */
static void s_by_account(const s_ctx_t *c, const json_t *req, const s_lead_t *l, s_choice_t *ch)
{
    const ho_routing_t *self = c->self;
    const char *owner = json_string_value(json_object_get(req, "account_owner"));
    const ho_rt_rep_t *o = self->account_match ? ho_rt_rep_find(self, owner) : NULL;
    if (!o) {
        return;
    }
    s_why_t w = s_can_take(c, o, false, &ch->dn, &ch->wn);
    const ho_rt_rep_t *b2 = ho_rt_rep_find(self, o->backup);
    if (w == E_OK) {
        ch->rep = o;
        s_add(&ch->b, "account match: %s is owned by %s (%s)",
              l->domain ? l->domain : "the company", o->rep_id, o->name);
    } else if (w == E_OOO && b2 && s_can_take(c, b2, false, &ch->dn, &ch->wn) == E_OK) {
        ch->rep = b2;
        s_add(&ch->b, "account match: %s is owned by %s, out of office until %s; backup %s (%s)",
              l->domain ? l->domain : "the company", o->rep_id,
              o->ooo_end[0] ? o->ooo_end : "further notice", b2->rep_id, b2->name);
    }
    if (ch->rep) {
        ch->rule_name = "account_match";
    }
}

/* The explanation of a round-robin pick: weight, out-of-office hand-over, the rep's counts. */
static void s_pick_text(const s_ctx_t *c, const ho_rt_rule_t *matched, const s_lead_t *l,
                        const s_cand_t *pick, s_choice_t *ch)
{
    const ho_routing_t *self = c->self;
    const ho_rt_rep_t *rep = ch->rep;
    char wl[32];
    s_rule_text(&ch->b, self, matched, l, pick->rep);
    if (pick->takes != pick->rep) {
        s_add(&ch->b, ", round robin weight %lld: %s out of office", pick->rep->weight,
              pick->rep->rep_id);
        if (pick->rep->ooo_end[0]) {
            s_add(&ch->b, " until %s", pick->rep->ooo_end);
        }
        s_add(&ch->b, ", backup %s", rep->rep_id);
    } else {
        s_add(&ch->b, ", round robin weight %lld", rep->weight);
    }
    if (rep->weekly_capacity >= 0) {
        s_add(&ch->b, ", %d/%lld %s", ch->wn + 1, rep->weekly_capacity,
              s_window_label(self, wl, sizeof wl));
    } else {
        s_add(&ch->b, ", %d %s", ch->wn + 1, s_window_label(self, wl, sizeof wl));
    }
    long long per_day = rep->daily_capacity >= 0 ? rep->daily_capacity : self->per_day;
    if (per_day >= 0) {
        s_add(&ch->b, ", %d/%lld today", ch->dn + 1, per_day);
    }
}

/* 2. the matched rule: its team queue, or its round robin (the overflow queue when nobody
 * in it can take the lead). */
static int s_by_rule(const s_ctx_t *c, const ho_rt_rule_t *matched, const s_lead_t *l,
                     s_choice_t *ch, ho_err_t *err)
{
    const ho_routing_t *self = c->self;
    ch->rule_name = matched->name;
    if (matched->kind == HO_RT_TEAM_QUEUE) {
        s_rule_text(&ch->b, self, matched, l, NULL);
        ch->queue = matched->queue;
        s_add(&ch->b, "; queue %s", ch->queue);
        return HO_OK;
    }
    s_cand_t pick;
    s_buf_t whynot = {{0}, 0};
    int rc = s_rotate(c, matched, l, &pick, &whynot, err);
    if (rc != HO_OK) {
        return rc;
    }
    if (pick.takes) {
        ch->rep = pick.takes;
        ch->dn = pick.day_n;
        ch->wn = pick.win_n;
        s_pick_text(c, matched, l, &pick, ch);
    } else {
        ch->queue = matched->overflow ? matched->overflow : self->fallback_queue;
        s_rule_text(&ch->b, self, matched, l, NULL);
        s_add(&ch->b, "; nobody available (%s); queue %s", whynot.text, ch->queue);
    }
    return HO_OK;
}

/* 3. no rule matched: the fallback queue, saying what the lead looked like. */
static void s_by_fallback(const ho_routing_t *self, const s_lead_t *l, s_choice_t *ch)
{
    ch->queue = self->fallback_queue;
    ch->rule_name = "fallback";
    s_add(&ch->b, "no rule matched (");
    s_where(&ch->b, l);
    if (l->has_emp) {
        s_add(&ch->b, ", %lld employees", l->employees);
    }
    if (l->grade) {
        s_add(&ch->b, ", grade %s", l->grade);
    }
    s_add(&ch->b, "); queue %s", ch->queue);
}

static int s_decide(const ho_routing_t *self, ho_route_state_t *st, const json_t *req, json_t **out,
                    ho_err_t *err)
{
    s_lead_t l;
    int rc = s_lead(self, req, &l, err);
    if (rc != HO_OK) {
        return rc;
    }
    const char *step = json_string_value(json_object_get(req, "step"));
    bool reassign = step && strcmp(step, "reassign") == 0;
    int64_t as_of = 0;
    if ((rc = s_get_time(req, reassign ? "now" : "as_of", &as_of, err))) {
        return rc;
    }
    ho_rt_strs_t exclude = {0};
    const char *from = NULL;
    if ((rc = s_exclusions(self, st, req, &l, as_of, &exclude, &from, err)) != HO_OK) {
        ho_rt_strs_free(&exclude);
        return rc;
    }
    s_ctx_t c = {.self = self, .st = st, .as_of = as_of, .exclude = &exclude};
    s_choice_t ch = {.rep = NULL};
    s_by_account(&c, req, &l, &ch);
    const ho_rt_rule_t *matched = NULL;
    for (size_t i = 0; !ch.rep && i < self->n_rules && !matched; i++) {
        if (s_cond_match(self, &self->rules[i].when, &l)) {
            matched = &self->rules[i]; /* ordered rules, first match wins */
        }
    }
    if (matched) {
        rc = s_by_rule(&c, matched, &l, &ch, err);
    } else if (!ch.rep) {
        s_by_fallback(self, &l, &ch);
    }
    if (rc == HO_OK && ch.rep && st) {
        rc = ho_rt_state_add(st, ch.rep->rep_id, ho_tz_day(ch.rep->tz, as_of), err);
    }
    ho_rt_strs_free(&exclude);
    if (rc != HO_OK) {
        return rc;
    }
    if (from) {
        s_add(&ch.b, "; reassigned from %s after the follow-up SLA was missed", from);
    }
    int64_t due, re_due;
    ho_routing_sla(self, req, ch.rep ? ch.rep->rep_id : NULL, as_of, &due, &re_due);
    *out = s_payload(&l, ch.rep, ch.queue, ch.rule_name, ch.b.text, as_of, due, re_due, from);
    return *out ? HO_OK : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
}

int ho_routing_decide(const ho_routing_t *self, ho_route_state_t *state, const char *event_id,
                      const json_t *request, json_t **assigned_p, bool *replayed_p, ho_err_t *err)
{
    *assigned_p = NULL;
    if (replayed_p) {
        *replayed_p = false;
    }
    if (!json_is_object(request)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload", "payload: expected a map");
    }
    if (!state) {
        return s_decide(self, NULL, request, assigned_p, err);
    }
    int rc = ho_rt_state_begin(state, err);
    if (rc != HO_OK) {
        return rc;
    }
    json_t *stored = event_id ? ho_rt_state_decision(state, event_id) : NULL;
    if (stored) {
        ho_rt_state_rollback(state);
        *assigned_p = stored;
        if (replayed_p) {
            *replayed_p = true;
        }
        return HO_OK;
    }
    rc = s_decide(self, state, request, assigned_p, err);
    if (rc == HO_OK && event_id) {
        rc = ho_rt_state_put_decision(state, event_id, *assigned_p, err);
    }
    if (rc == HO_OK) {
        rc = ho_rt_state_commit(state, err);
    }
    if (rc != HO_OK) {
        ho_rt_state_rollback(state);
        json_decref(*assigned_p);
        *assigned_p = NULL;
    }
    return rc;
}
