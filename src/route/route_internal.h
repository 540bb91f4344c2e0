/* route_internal.h - the routing model shared by routing.c, reps.c, hours.c and state.c (not
 * public). The ho_rt_ prefix is routing's private one (the worker runtime uses ho_runtime_). */
#ifndef HO_ROUTE_INTERNAL_H
#define HO_ROUTE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/routing.h"
#include "handoff/tz.h"

#define DAY_MS 86400000LL /* one UTC day */

typedef struct {
    char **v;
    size_t n;
} ho_rt_strs_t;

/* Working hours: a week of local minutes (bit m of open[d] = minute m of day d, 0 = Monday). */
typedef struct {
    uint8_t open[7][180];
    int64_t week_min; /* open minutes per week (> 0) */
} ho_rt_hours_t;

/* "09:00-18:00 Mon-Fri", "08:00-12:00 13:00-17:00 Mon-Thu, 08:00-14:00 Fri", "24/7".
 * *hours_p = NULL for 24/7 (around the clock); an error writes why (no file/line: the
 * caller names them) and returns HO_ERR_CONFIG. */
int ho_rt_hours_parse(const char *text, ho_rt_hours_t **hours_p, char *why, size_t cap);
/* The instant when dur_ms of working time (hours in tz) has passed since t: outside working
 * hours the clock waits for the next opening. hours NULL = around the clock: t + dur_ms
 * (as for absurd input: over 1000 years of working time, t outside years 0..9999). */
int64_t ho_rt_hours_add(const ho_rt_hours_t *hours, const ho_tz_t *tz, int64_t t, int64_t dur_ms);

typedef struct {
    char *rep_id, *name, *email, *region, *timezone, *backup;
    ho_rt_strs_t countries, states, segments;
    bool all_segments;
    long long emp_min, emp_max; /* -1 = no bound */
    long long weekly_capacity;  /* -1 = unlimited */
    long long daily_capacity;   /* -1 = the routing.yaml default */
    long long weight;           /* share in round robin; 0 = never picked by rotation */
    bool active;
    bool ooo_flag;
    bool has_ooo_dates;
    int64_t ooo_start_day, ooo_end_day; /* local days since 1970-01-01, inclusive */
    char ooo_start[11], ooo_end[11];
    ho_tz_t *tz;    /* the rep's time zone (UTC when the column is empty): days, weeks, absences */
    bool own_hours; /* working_hours column set: hours (NULL = 24/7), else the default */
    ho_rt_hours_t *hours; /* the SLA clock runs in these (rep's zone) */
    int line;             /* line of the record in the CSV */
} ho_rt_rep_t;

/* Read a reps CSV (sales_reps.csv format + optional weight, active, daily_capacity). */
int ho_rt_reps_parse(const char *text, size_t len, const char *name, ho_rt_rep_t **reps_p,
                     size_t *n_p, ho_err_t *err);
void ho_rt_reps_free(ho_rt_rep_t *reps, size_t n);
void ho_rt_strs_free(ho_rt_strs_t *s);
bool ho_rt_strs_has(const ho_rt_strs_t *s, const char *value); /* case-insensitive */
/* "2026-11-02" -> days since the epoch; false if not a date. */
bool ho_rt_parse_day(const char *text, int64_t *day_p);

/* ---- state (state.c) ---- */
int ho_rt_state_begin(ho_route_state_t *st, ho_err_t *err);
int ho_rt_state_commit(ho_route_state_t *st, ho_err_t *err);
void ho_rt_state_rollback(ho_route_state_t *st);
/* Stored decision payload for event_id or NULL. */
json_t *ho_rt_state_decision(ho_route_state_t *st, const char *event_id);
int ho_rt_state_put_decision(ho_route_state_t *st, const char *event_id, const json_t *payload,
                             ho_err_t *err);
/* Sum of counts of rep over days [from_day, to_day]. */
int ho_rt_state_count(ho_route_state_t *st, const char *rep_id, int64_t from_day, int64_t to_day);
int ho_rt_state_add(ho_route_state_t *st, const char *rep_id, int64_t day, ho_err_t *err);
/* Open load: counts minus the leads reassigned away from the rep (released), days
 * [from_day, to_day]. */
int ho_rt_state_load(ho_route_state_t *st, const char *rep_id, int64_t from_day, int64_t to_day);
/* One lead counted on day for rep_id left the rep (reassigned after an ignored SLA): it no
 * longer counts in the rep's open load. Never below the day's count; no row, no-op. */
int ho_rt_state_release(ho_route_state_t *st, const char *rep_id, int64_t day, ho_err_t *err);
/* Smooth weighted round robin current weight of rep in team (0 when unseen). */
long long ho_rt_state_rr_get(ho_route_state_t *st, const char *team, const char *rep_id);
int ho_rt_state_rr_set(ho_route_state_t *st, const char *team, const char *rep_id, long long cw,
                       ho_err_t *err);
/* Reps that breached the SLA on lead_id (appends to out, deduplicated). */
int ho_rt_state_breachers(ho_route_state_t *st, long long lead_id, ho_rt_strs_t *out);
/* *added_p (may be NULL): true when this (lead, rep) was not recorded before. */
int ho_rt_state_add_breacher(ho_route_state_t *st, long long lead_id, const char *rep_id,
                             int64_t at, bool *added_p, ho_err_t *err);

/* Stamp decisions recorded since the last prune with now_ms (wall clock), then forget
 * decisions stamped before decided_before, counts more than keep_days before the newest
 * counted day, breaches before breached_before. */
int ho_rt_state_prune(ho_route_state_t *st, int64_t now_ms, int64_t decided_before,
                      int64_t keep_days, int64_t breached_before, ho_routing_pruned_t *out,
                      ho_err_t *err);

/* Append a copy of v (upper-cased when upper). HO_OK or HO_ERR_NOMEM. */
int ho_rt_strs_push(ho_rt_strs_t *s, const char *v, bool upper);

/* ---- the routing model: what routing_load.c reads from routing.yaml, routing.c decides
 * with ---- */
typedef struct {
    char *name;
    long long emp_min, emp_max; /* -1 = no bound */
    double rev_min, rev_max;    /* < 0 = no bound */
    bool has_emp, has_rev;
} ho_rt_segment_t;

typedef struct {
    char *name;
    ho_rt_strs_t countries, states;
} ho_rt_region_t;

typedef struct {
    ho_rt_strs_t countries, states, regions, segments, industries, grades, quadrants;
    bool has_emp, has_rev;
    long long emp_min, emp_max;
    double rev_min, rev_max;
} ho_rt_cond_t;

typedef enum {
    HO_RT_TEAM_TERRITORY = 1,
    HO_RT_TEAM_REPS,
    HO_RT_TEAM_REGION,
    HO_RT_TEAM_QUEUE
} ho_rt_team_kind_t;

typedef struct {
    char *name;
    int line;
    ho_rt_cond_t when;
    ho_rt_team_kind_t kind;
    ho_rt_strs_t reps; /* HO_RT_TEAM_REPS */
    char *region;      /* HO_RT_TEAM_REGION */
    char *queue;       /* HO_RT_TEAM_QUEUE */
    char *overflow;    /* queue when nobody of the team is available (NULL = fallback) */
} ho_rt_rule_t;

typedef struct {
    ho_rt_cond_t when;
    int64_t deadline_ms, reassign_after_ms; /* reassign_after_ms < 0: the default */
} ho_rt_sla_t;

struct ho_routing {
    ho_rt_rep_t *reps;
    size_t n_reps;
    char *fallback_queue;
    long long per_day;     /* default daily cap per rep, -1 = none */
    long long window_days; /* 0 = ISO calendar week (Monday..Sunday, UTC) */
    bool account_match;
    ho_rt_segment_t *segments;
    size_t n_segments;
    ho_rt_region_t *regions;
    size_t n_regions;
    ho_rt_rule_t *rules;
    size_t n_rules;
    int64_t sla_deadline_ms, sla_reassign_after_ms;
    ho_rt_sla_t *sla;
    size_t n_sla;
    ho_rt_hours_t *sla_hours; /* sla.business_hours: every rep's default; NULL = 24/7 */
    ho_tz_t *sla_tz;          /* sla.timezone: the zone of a queued lead's SLA clock */
};

/* The rep of that id, or NULL (id NULL too). */
const ho_rt_rep_t *ho_rt_rep_find(const ho_routing_t *self, const char *id);

#endif
