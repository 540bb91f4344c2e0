/* store_assign.c - lead.assigned: the assignment row and the handoff.ready packet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/scoring.h"
#include "handoff/tz.h"

#include "workers/store/store_worker_int.h"

/* ---- lead.assigned -> handoff.ready ---- */
static const char *const s_stages[] = {"awareness", "consideration", "decision"};

/* Buyer-journey stage of one activity: 0 awareness (early: blog, emails, general pages),
 * 1 consideration (webinars, downloads, product and case-study pages), 2 decision (late:
 * pricing, demo, trial, contact). */
static int s_act_stage(const json_t *a)
{
    static const char *const decision[] = {"/pricing", "/demo", "/trial", "/contact",
                                           "/quote",   "/buy",  NULL};
    static const char *const consider[] = {
        "/case-stud", "/customers",    "/product",   "/compare", "/docs",
        "/features",  "/integrations", "/solutions", "/webinar", NULL};
    const char *t = sw_str(a, "type");
    const char *path = sw_str(a, "path");
    if (t && (strcmp(t, "demo_request") == 0 || strcmp(t, "free_trial_signup") == 0)) {
        return 2;
    }
    for (int k = 0; path && decision[k]; k++) {
        if (strstr(path, decision[k])) {
            return 2;
        }
    }
    if (t && (strcmp(t, "webinar_attended") == 0 || strcmp(t, "content_download") == 0)) {
        return 1;
    }
    for (int k = 0; path && consider[k]; k++) {
        if (strstr(path, consider[k])) {
            return 1;
        }
    }
    return 0;
}

/* The explanation entries that added most, largest first: why this lead is an MQL. */
static json_t *s_top_reasons(const json_t *explanation, size_t max)
{
    json_t *out = json_array();
    size_t n = json_array_size(explanation);
    bool *used = calloc(n + 1, sizeof *used);
    for (size_t k = 0; used && k < max; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            json_int_t pts =
                json_integer_value(json_object_get(json_array_get(explanation, i), "points"));
            if (!used[i] && pts > 0 &&
                (best == n || pts > json_integer_value(json_object_get(
                                        json_array_get(explanation, best), "points")))) {
                best = i;
            }
        }
        if (best == n) {
            break;
        }
        used[best] = true;
        const json_t *e = json_array_get(explanation, best);
        /* compact explanations (lead.scored) carry no kind: derived from the entry */
        json_array_append_new(out, json_pack("{sssOsOsO}", "kind", ho_score_entry_kind(e), "rule",
                                             json_object_get(e, "rule") ?: json_null(), "points",
                                             json_object_get(e, "points"), "detail",
                                             json_object_get(e, "detail") ?: json_null()));
    }
    free(used);
    return out;
}

/* handoff.ready's journey_stage and engagement: what the lead engaged with, early
 * (awareness) to late (decision) stage, and how often; takes over the reference to top. */
static void s_engagement(json_t *o, const ho_lead_t *lead, const json_t *acts, const json_t *stats,
                         json_t *top, int64_t at)
{
    json_t *recent = json_array();
    int by_stage[3] = {0, 0, 0}, journey = 0, last_7d = 0, last_30d = 0;
    size_t i;
    json_t *a;
    json_array_foreach(acts, i, a)
    {
        int stage = s_act_stage(a);
        int64_t when = sw_int(a, "occurred_at", 0);
        by_stage[stage]++;
        journey = stage > journey ? stage : journey;
        last_7d += when <= at && when > at - 7 * 86400000LL;
        last_30d += when <= at && when > at - 30 * 86400000LL;
        if (i < 10) {
            json_array_append_new(
                recent,
                json_pack("{sOsOsOsOsOss}", "type", json_object_get(a, "type"), "path",
                          json_object_get(a, "path") ?: json_null(), "occurred_at",
                          json_object_get(a, "occurred_at"), "campaign",
                          json_object_get(a, "campaign") ?: json_null(), "asset",
                          json_object_get(a, "asset") ?: json_null(), "journey", s_stages[stage]));
        }
    }
    json_object_set_new(o, "journey_stage", json_string(s_stages[journey]));
    json_t *st = json_array_get(stats, 0);
    int64_t first = sw_int(st, "first", HO_NULL_INT), last = sw_int(st, "last", HO_NULL_INT);
    if (lead->first_touch_at != HO_NULL_INT &&
        (first == HO_NULL_INT || lead->first_touch_at < first)) {
        first = lead->first_touch_at;
    }
    if (lead->last_touch_at != HO_NULL_INT && (last == HO_NULL_INT || lead->last_touch_at > last)) {
        last = lead->last_touch_at;
    }
    int64_t n_acts = sw_int(st, "n", 0);
    double weeks = first != HO_NULL_INT && last > first ? (double)(last - first) / 604800000.0 : 0;
    json_object_set_new(
        o, "engagement",
        json_pack("{sososIsisisfsososisisi}", "first_touch_at", sw_jint(first), "last_touch_at",
                  sw_jint(last), "activity_count", (json_int_t)n_acts, "last_7d", last_7d,
                  "last_30d", last_30d, "per_week",
                  (double)(long long)(10.0 * (double)n_acts / (weeks > 1 ? weeks : 1) + 0.5) / 10,
                  "recent", recent, "top_pages", top, "awareness", by_stage[0], "consideration",
                  by_stage[1], "decision", by_stage[2]));
}

/* handoff.ready's score: the lead's score, its latest explanation and the top reasons. */
static void s_score(json_t *o, const ho_lead_t *lead, const json_t *scores)
{
    json_t *score = sw_score_obj(lead);
    json_t *latest = json_array_get(scores, 0);
    const char *ex = sw_str(latest, "explanation_json");
    json_t *exj = ex ? json_loads(ex, 0, NULL) : NULL;
    json_object_set_new(score, "score", sw_jint(lead->score));
    json_object_set_new(score, "mql_at", sw_jint(lead->mql_at));
    json_object_set_new(score, "top_reasons", s_top_reasons(exj, 5));
    json_object_set_new(score, "explanation", exj ? exj : json_array());
    json_object_set_new(o, "score", score);
}

/* handoff.ready's source: the original source and campaign, and every source that
 * reported the lead, each named once. */
static void s_sources(json_t *o, const ho_lead_t *lead, const json_t *sources)
{
    size_t i;
    json_t *a;
    json_t *names = json_array();
    json_array_foreach(sources, i, a)
    {
        const json_t *src = json_object_get(a, "source");
        size_t k;
        json_t *seen;
        bool dup = false;
        json_array_foreach(names, k, seen)
        {
            dup = dup || json_equal(seen, src);
        }
        if (!dup && src) {
            json_array_append(names, (json_t *)src);
        }
    }
    json_object_set_new(o, "source",
                        json_pack("{sososo}", "original_source", sw_jstr(lead->original_source),
                                  "campaign", sw_jstr(lead->original_campaign), "sources", names));
}

static int s_handoff_packet(sw_ctx_t *self, const ho_lead_t *lead, const json_t *p,
                            const char *in_id, ho_out_t *out, ho_err_t *err)
{
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead->id, "limit", 10);
    json_t *acts = sw_activities(self, lead->id, 500, err);
    json_t *top = NULL, *stats = NULL, *scores = NULL, *sources = NULL;
    int rc = acts ? HO_OK : err->code;
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_TOP_PAGES, args, &top, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_ACTIVITY_STATS, args, &stats, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_SCORES, args, &scores, err);
    }
    if (rc == HO_OK) {
        rc = ho_store_query(self->store, HO_Q_SOURCES, args, &sources, err);
    }
    json_decref(args);
    if (rc != HO_OK) {
        json_decref(acts);
        json_decref(top);
        json_decref(stats);
        json_decref(scores);
        json_decref(sources);
        return rc;
    }
    ho_msg_t *m = sw_new_msg("handoff.ready", "ho", in_id);
    int64_t at = sw_int(p, "assigned_at", ho_now_ms());
    ho_msg_set_ts(m, at);
    json_t *o = ho_msg_payload(m);
    json_object_set_new(o, "lead_id", json_integer(lead->id));
    json_object_set_new(o, "email", sw_jstr(lead->email));
    json_object_set_new(o, "rep",
                        json_pack("{sOsOsO}", "rep_id", json_object_get(p, "rep_id") ?: json_null(),
                                  "name", json_object_get(p, "rep_name") ?: json_null(), "email",
                                  json_object_get(p, "rep_email") ?: json_null()));
    json_object_set(o, "queue", json_object_get(p, "queue") ?: json_null());
    json_t *contact = json_object();
    json_object_set_new(contact, "first_name", sw_jstr(lead->first_name));
    json_object_set_new(contact, "last_name", sw_jstr(lead->last_name));
    json_object_set_new(contact, "title", sw_jstr(lead->title));
    json_object_set_new(contact, "phone", sw_jstr(lead->phone));
    json_object_set_new(contact, "company", sw_jstr(lead->company));
    json_object_set_new(contact, "domain", sw_jstr(lead->domain));
    json_object_set_new(contact, "industry", sw_jstr(lead->industry));
    json_object_set_new(contact, "employees", sw_jint(lead->employees));
    json_object_set_new(contact, "revenue",
                        lead->revenue == lead->revenue ? json_real(lead->revenue) : json_null());
    json_object_set_new(o, "contact", contact);
    /* the lead's zone: given by a source, else the one its country/state lives in */
    const char *tz = lead->timezone ? lead->timezone : ho_tz_guess(lead->country, lead->state);
    json_object_set_new(o, "location",
                        json_pack("{sosososos b}", "country", sw_jstr(lead->country), "state",
                                  sw_jstr(lead->state), "city", sw_jstr(lead->city), "timezone",
                                  sw_jstr(tz), "timezone_inferred", !lead->timezone && tz));
    json_object_set_new(o, "stage", sw_jstr(lead->stage));
    s_engagement(o, lead, acts, stats, top, at);
    s_score(o, lead, scores);
    s_sources(o, lead, sources);
    json_object_set(o, "sla_due", json_object_get(p, "sla_due") ?: json_null());
    json_object_set_new(o, "handed_off_at", json_integer(at));
    json_object_set(o, "reason", json_object_get(p, "reason") ?: json_null());
    json_decref(acts);
    json_decref(stats);
    json_decref(scores);
    json_decref(sources);
    return ho_out_emit(out, &m);
}

int sw_on_assigned(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err)
{
    const json_t *p = ho_msg_payload(in);
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = sw_find_lead(self, p, &lead, err);
    if (rc != HO_OK) {
        return rc;
    }
    int64_t at = sw_int(p, "assigned_at", ho_msg_ts(in));
    rc = ho_store_claim_event(self->store, ho_msg_id(in), "lead.assigned", at, err);
    if (rc == 0) {
        /* applied before (a redelivery): the handoff.ready it made goes out again, with the
         * same id, never silence (issue 14); an assignment the store ignored made none */
        json_t *rows = NULL, *args = json_pack("{ss}", "event_id", ho_msg_id(in));
        rc = ho_store_query(self->store, HO_Q_ASSIGNMENT_BY_EVENT, args, &rows, err);
        json_decref(args);
        if (rc == HO_OK && json_array_size(rows) > 0) {
            rc = s_handoff_packet(self, &lead, p, ho_msg_id(in), out, err);
        }
        json_decref(rows);
        ho_lead_clear(&lead);
        return rc;
    }
    if (rc < 0) {
        ho_lead_clear(&lead);
        return rc;
    }
    /* Routed while it was an MQL, answered after sales took it (an SLA reassignment in flight
     * when the rep accepted, or the router lagging behind the feedback): the rep who accepted
     * keeps it, no new SLA clock starts and no packet goes out. Kept as a note. The same for a
     * lead that went back to RECYCLED meanwhile (its score decayed, or sales rejected it):
     * it is not sales-ready, so nobody gets it; when it qualifies again it is routed afresh. */
    static const char *const held[] = {"SAL",  "SQL",          "OPPORTUNITY", "WON",
                                       "LOST", "DISQUALIFIED", "RECYCLED"};
    for (size_t k = 0; lead.stage && k < sizeof held / sizeof held[0]; k++) {
        if (strcmp(lead.stage, held[k]) == 0) {
            const char *who = sw_str(p, "rep_id") ? sw_str(p, "rep_id") : sw_str(p, "queue");
            char note[300];
            snprintf(note, sizeof note,
                     "assignment to %.60s ignored: the lead is already %s (owner %.60s)",
                     who ? who : "-", lead.stage, lead.owner_rep_id ? lead.owner_rep_id : "-");
            rc = ho_store_note(self->store, &lead, "assignment_ignored", at, "route", note,
                               ho_msg_id(in), err);
            ho_lead_clear(&lead);
            return rc;
        }
    }
    /* an earlier open assignment of the same lead is superseded */
    json_t *open = NULL;
    json_t *args = json_pack("{sI}", "lead_id", (json_int_t)lead.id);
    rc = ho_store_query(self->store, HO_Q_OPEN_ASSIGNMENTS, args, &open, err);
    json_decref(args);
    size_t i;
    json_t *a;
    json_t *set = json_pack("{ss}", "status", "reassigned");
    json_array_foreach(open, i, a)
    {
        if (rc == HO_OK) {
            rc = ho_store_update(self->store, HO_T_ASSIGNMENTS, sw_int(a, "id", 0), set, err);
        }
    }
    json_decref(set);
    json_decref(open);
    int64_t sla_due = sw_int(p, "sla_due", HO_NULL_INT);
    int64_t reassign_due = sw_int(p, "reassign_due", HO_NULL_INT);
    if (reassign_due == HO_NULL_INT && sla_due != HO_NULL_INT) {
        int64_t after = sw_int(self->conf, "reassign_after_ms", 0);
        reassign_due = sla_due + (after > 0 ? after : (sla_due > at ? sla_due - at : 0));
    }
    const char *rep = sw_str(p, "rep_id");
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead.id));
    json_object_set_new(row, "event_id", json_string(ho_msg_id(in)));
    static const char *const cols[] = {"rep_id", "rep_name", "queue", "rule", "reason"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        json_object_set(row, cols[k], json_object_get(p, cols[k]));
    }
    json_object_set_new(row, "assigned_at", json_integer(at));
    json_object_set_new(row, "sla_due", sw_jint(sla_due));
    json_object_set_new(row, "reassign_due", sw_jint(reassign_due));
    json_object_set_new(row, "status", json_string("open"));
    if (rc == HO_OK) {
        rc = ho_store_add(self->store, HO_T_ASSIGNMENTS, row, NULL, err);
    }
    json_decref(row);
    if (rc == HO_OK) {
        ho_lead_set(&lead.owner_rep_id, rep);
        if (at > lead.updated_at) {
            lead.updated_at = at;
        }
        rc = ho_store_lead_put(self->store, &lead, err);
    }
    if (rc == HO_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s %s%s%s by rule %s: %s", rep ? "assigned to" : "queued in",
                 rep ? (sw_str(p, "rep_name") ? sw_str(p, "rep_name") : rep)
                     : (sw_str(p, "queue") ? sw_str(p, "queue") : "(no queue)"),
                 rep ? " " : "", rep ? rep : "", sw_str(p, "rule") ? sw_str(p, "rule") : "-",
                 sw_str(p, "reason") ? sw_str(p, "reason") : "");
        rc = ho_store_note(self->store, &lead, "assigned", at, "route", why, ho_msg_id(in), err);
    }
    if (rc == HO_OK) {
        rc = s_handoff_packet(self, &lead, p, ho_msg_id(in), out, err);
    }
    ho_lead_clear(&lead);
    return rc;
}
