/*
 * routing.h - who gets a lead: ordered rules, teams, weighted round robin with capacity caps,
 * out-of-office backups, lead-to-account matching, a fallback queue, and the follow-up SLA.
 *
 * The engine is pure: rules + reps (ho_routing_t, loaded from deploy/routing.yaml and the
 * reps CSV it names) + router state (ho_route_state_t: rotation positions, counts per rep per
 * day, decisions by event id, in its own SQLite file <data_dir>/router.db) + the request's
 * as_of -> a decision. Nothing reads the wall clock, so tests choose the time.
 *
 *     ho_err_t err;
 *     ho_routing_t *r = ho_routing_load ("deploy", "routing.yaml", &err);
 *     ho_route_state_t *st = ho_route_state_open ("data/router.db", &err);
 *     json_t *assigned = NULL;   // a lead.assigned payload (see proto/messages.md)
 *     ho_routing_decide (r, st, event_id, route_request_payload, &assigned, &err);
 *
 * Decisions are remembered by event id: deciding the same event id again returns the stored
 * decision and counts nothing (a redelivered route.request must not eat capacity twice).
 *
 * Ownership: objects are freed with their _destroy (&p), which nulls the pointer and is safe
 * twice. Returned json_t objects belong to the caller.
 */
#ifndef HO_ROUTING_H
#define HO_ROUTING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/msg.h"

typedef struct ho_routing ho_routing_t;
typedef struct ho_route_state ho_route_state_t;

/* Load <config_dir>/<name> (or the built-in copy) and the reps CSV named by its `reps:` key
 * (resolved the same way). Errors name file, line and key or column:
 *     reps.csv:4: weekly_capacity: expected a whole number >= 0, got "ten" */
ho_routing_t *ho_routing_load(const char *config_dir, const char *name, ho_err_t *err);
/* The same from text (tests, fuzzers). Names are used in error messages. */
ho_routing_t *ho_routing_parse(const char *yaml, size_t yaml_len, const char *yaml_name,
                               const char *reps_csv, size_t csv_len, const char *csv_name,
                               ho_err_t *err);
void ho_routing_destroy(ho_routing_t **self_p);

size_t ho_routing_rep_count(const ho_routing_t *self);
size_t ho_routing_rule_count(const ho_routing_t *self);
/* The queue leads go to when nobody fits. */
const char *ho_routing_fallback_queue(const ho_routing_t *self);

/* Open (creating if needed) the router state file. path ":memory:" is a throwaway state. */
ho_route_state_t *ho_route_state_open(const char *path, ho_err_t *err);
void ho_route_state_destroy(ho_route_state_t **self_p);

/* Leads counted for rep_id on the day containing at_ms, and the rep's open load in the
 * capacity window that contains at_ms (the ISO week, or the rolling window of N days, per
 * routing.yaml). Days are calendar days in the rep's time zone (reps CSV `timezone`; UTC when
 * empty or unknown rep). The open load leaves out leads reassigned away from the rep after an
 * ignored SLA (sla.breach step reassign); the day count keeps them: per_day limits how many
 * leads a rep is handed in one day, whatever became of them. */
int ho_route_state_counts(const ho_routing_t *routing, ho_route_state_t *state, const char *rep_id,
                          int64_t at_ms, int *day_p, int *window_p);

/* handoff forget: remove router.db's decisions naming the person (email, or lead_id > 0),
 * then VACUUM and truncate the WAL so no copy stays in free pages. An existing file only;
 * works beside a running route worker. *n_p = decisions removed. */
int ho_route_state_forget(const char *path, long long lead_id, const char *email, int *n_p,
                          ho_err_t *err);

/* Decide a batch in one SQLite transaction (one commit, one WAL sync, for all the decisions
 * of a request) rather than one each: between batch_begin and batch_commit every
 * ho_routing_decide is a savepoint, so a decision that fails rolls back alone. Nothing of
 * the batch is durable before batch_commit; batch_rollback forgets all of it (the worker
 * then retries the whole request, and decisions are by event id). */
int ho_route_state_batch_begin(ho_route_state_t *state, ho_err_t *err);
int ho_route_state_batch_commit(ho_route_state_t *state, ho_err_t *err);
void ho_route_state_batch_rollback(ho_route_state_t *state);

/* What a prune removed. */
typedef struct {
    int decisions, counts, breaches;
} ho_routing_pruned_t;

/* Retention of router.db, so it does not grow with every lead ever routed. Removes
 * decisions recorded (wall clock) before now_ms - keep_ms: they only make a redelivered
 * request idempotent, and redelivery comes within minutes; per-day counts older than
 * keep_ms, or than the capacity window if that is longer, before the newest counted day
 * (event time: an import of last quarter keeps the counts it needs); SLA breachers recorded
 * before now_ms - keep_ms. Rotation positions are kept (one row per team and rep).
 * keep_ms <= 0 removes nothing. out (may be NULL) gets the numbers removed. */
int ho_route_state_prune(const ho_routing_t *routing, ho_route_state_t *state, int64_t now_ms,
                         int64_t keep_ms, ho_routing_pruned_t *out, ho_err_t *err);

/* Decide who gets a lead. request is a route.request payload, or an sla.breach payload with
 * step "reassign" (the breaching rep and every earlier breaching rep of that lead are
 * excluded; assigned_at = its `now`). On success *assigned_p is a new lead.assigned payload:
 * lead_id, email, rep_id (null when queued), rep_name, rep_email, queue, rule, reason,
 * assigned_at, sla_due, reassign_due, reassigned_from.
 * event_id (may be NULL: not remembered) makes the decision idempotent; *replayed_p (may be
 * NULL) tells whether it was a stored one. A request without lead or lead.lead_id fails with
 * HO_ERR_MISSING / HO_ERR_FIELD naming the field. */
int ho_routing_decide(const ho_routing_t *self, ho_route_state_t *state, const char *event_id,
                      const json_t *request, json_t **assigned_p, bool *replayed_p, ho_err_t *err);

/* SLA of a lead (request as above) assigned at assigned_at to rep_id (NULL: queued): when
 * the rep must have accepted, and when the lead is reassigned if they have not. Both count
 * only working time: the rep's working_hours (reps CSV) or else routing.yaml
 * sla.business_hours, in the rep's zone; a queued lead (or unknown rep) uses
 * sla.business_hours in sla.timezone. Without working hours the clock runs around the clock.
 * reassign_due counts reassign_after from sla_due the same way. */
void ho_routing_sla(const ho_routing_t *self, const json_t *request, const char *rep_id,
                    int64_t assigned_at, int64_t *sla_due_p, int64_t *reassign_due_p);

/* A rep by id: name and email (borrowed), false if unknown. */
bool ho_routing_rep(const ho_routing_t *self, const char *rep_id, const char **name_p,
                    const char **email_p);

/* Parse a duration such as "2h", "90m", "1d", "45s", "1h30m" into milliseconds. */
int ho_parse_duration_ms(const char *text, int64_t *ms_p);

#endif
