/* route.c - the `route` worker: route.request -> lead.assigned; sla.breach step remind ->
 * rep.reminder, step reassign -> lead.assigned to someone else (reassigned_from set).
 *
 * Decisions are remembered by input event id in <data_dir>/router.db, so a redelivered request
 * yields the same lead.assigned (same id, same rep) and counts against capacity once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/log.h"
#include "handoff/routing.h"
#include "handoff/worker.h"
#include "handoff/util.h"
#include "workers/workers_int.h"

typedef struct {
    char *rules;     /* routing.yaml name, relative to the config dir */
    char *state;     /* router state file, relative to the data dir */
    char *retention; /* duration; "0" = keep everything */
} s_settings_t;

static const ho_config_map_t s_config_map[] = {
    {HO_CFG_STR, "rules", "routing.yaml", offsetof(s_settings_t, rules),
     "routing rules and SLA (names the reps CSV), in the config folder"},
    {HO_CFG_STR, "state", "router.db", offsetof(s_settings_t, state),
     "router state (rotation, counts, decisions), relative to data_dir"},
    {HO_CFG_STR, "retention", "90d", offsetof(s_settings_t, retention),
     "forget decisions, day counts and SLA breachers older than this (hourly); 0 = never"},
    {0},
};

typedef struct {
    ho_routing_t *routing;
    ho_route_state_t *state;
    ho_worker_retention_t retention;
} s_ctx_t;

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *ctx = *ctx_p;
    ho_routing_destroy(&ctx->routing);
    ho_route_state_destroy(&ctx->state);
    free(ctx);
    *ctx_p = NULL;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_settings_t set = {0};
    int rc = ho_config_map_apply(env->conf, env->settings, s_config_map, &set, err);
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (rc == HO_OK && !ctx) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc == HO_OK) {
        rc = ho_worker_retention(set.retention, "workers.route.retention", "90d", &ctx->retention,
                                 err);
    }
    if (rc == HO_OK) {
        ctx->routing = ho_routing_load(env->config_dir, set.rules, err);
        rc = ctx->routing ? HO_OK : err->code;
    }
    if (rc == HO_OK) {
        const char *dir = env->data_dir && env->data_dir[0] ? env->data_dir : ".";
        char path[4096];
        if (set.state[0] == '/' || strcmp(set.state, ":memory:") == 0) {
            snprintf(path, sizeof path, "%s", set.state);
        } else {
            snprintf(path, sizeof path, "%s/%s", dir, set.state);
        }
        if (set.state[0] != '/' && ho_mkdirs(dir) != 0) {
            rc = ho_err_set(err, HO_ERR_IO, "data_dir", "%s: cannot create: %s", dir,
                            strerror(errno));
        } else {
            ctx->state = ho_route_state_open(path, err);
            rc = ctx->state ? HO_OK : err->code;
        }
    }
    ho_config_map_free(s_config_map, &set);
    if (rc != HO_OK) {
        s_exit((void **)&ctx);
        return rc;
    }
    *ctx_p = ctx;
    return HO_OK;
}

static const char *s_code(int rc)
{
    return rc == HO_ERR_MISSING ? "missing_field" : "bad_field";
}

/* lead.assigned for a route.request or an sla.breach reassign. */
static int s_assign(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    ho_err_t err = {0};
    json_t *assigned = NULL;
    bool replayed = false;
    int rc = ho_routing_decide(ctx->routing, ctx->state, ho_msg_id(in), ho_msg_payload(in),
                               &assigned, &replayed, &err);
    if (rc == HO_ERR_IO || rc == HO_ERR_NOMEM) {
        ho_warn("route: cannot decide event=%s: %s", ho_msg_id(in), err.message);
        return HO_WORKER_RETRY;
    }
    if (rc != HO_OK) {
        return ho_out_quarantine(out, in, "route", s_code(rc), err.field, err.message) == HO_OK
                   ? HO_WORKER_OK
                   : HO_WORKER_RETRY;
    }
    ho_msg_t *msg = ho_msg_new("lead.assigned");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "assign", ho_msg_id(in), strlen(ho_msg_id(in)));
    if (!msg || ho_msg_set_id(msg, id) != HO_OK || ho_msg_set_payload(msg, assigned) != HO_OK) {
        ho_msg_destroy(&msg);
        return HO_WORKER_RETRY;
    }
    const char *rep = json_string_value(json_object_get(assigned, "rep_id"));
    ho_debug("route: lead=%lld rep=%s queue=%s rule=%s%s",
             (long long)json_integer_value(json_object_get(assigned, "lead_id")), rep ? rep : "-",
             json_string_value(json_object_get(assigned, "queue"))
                 ? json_string_value(json_object_get(assigned, "queue"))
                 : "-",
             json_string_value(json_object_get(assigned, "rule")), replayed ? " replayed=1" : "");
    return ho_out_emit(out, &msg) == HO_OK ? HO_WORKER_OK : HO_WORKER_RETRY;
}

static void s_copy(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    json_object_set_new(dst, key, v ? json_deep_copy(v) : json_null());
}

/* rep.reminder: the rep has not accepted in time (see proto/messages.md). */
static int s_remind(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    const json_t *p = ho_msg_payload(in);
    const json_t *lead_id = json_object_get(p, "lead_id");
    if (!json_is_integer(lead_id)) {
        lead_id = json_object_get(json_object_get(p, "lead"), "lead_id");
    }
    if (!json_is_integer(lead_id)) {
        return ho_out_quarantine(out, in, "route", "missing_field", "lead_id",
                                 "lead_id: missing (an sla.breach names its lead)") == HO_OK
                   ? HO_WORKER_OK
                   : HO_WORKER_RETRY;
    }
    ho_msg_t *msg = ho_msg_new("rep.reminder");
    if (!msg) {
        return HO_WORKER_RETRY;
    }
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "remind", ho_msg_id(in), strlen(ho_msg_id(in)));
    ho_msg_set_id(msg, id);
    json_t *r = ho_msg_payload(msg);
    json_object_set_new(r, "lead_id", json_integer(json_integer_value(lead_id)));
    s_copy(r, p, "email");
    s_copy(r, p, "rep_id");
    const char *rep = json_string_value(json_object_get(p, "rep_id"));
    const char *name = NULL, *email = NULL;
    ho_routing_rep(ctx->routing, rep, &name, &email);
    json_object_set_new(r, "rep_name", name ? json_string(name) : json_null());
    json_object_set_new(r, "rep_email", email ? json_string(email) : json_null());
    s_copy(r, p, "queue");
    s_copy(r, p, "assigned_at");
    s_copy(r, p, "sla_due");
    json_int_t assigned_at = json_integer_value(json_object_get(p, "assigned_at"));
    json_t *re = json_object_get(p, "reassign_due");
    int64_t due, re_due;
    ho_routing_sla(ctx->routing, p, rep, assigned_at, &due, &re_due);
    json_object_set_new(r, "reassign_due",
                        json_integer(json_is_integer(re) ? json_integer_value(re) : re_due));
    s_copy(r, p, "now");
    char text[512];
    const char *lead_email = json_string_value(json_object_get(p, "email"));
    snprintf(text, sizeof text,
             "Lead %s was assigned to you and is not accepted yet: the follow-up deadline has "
             "passed. Accept it, or it is reassigned.",
             lead_email ? lead_email : "(unknown)");
    json_object_set_new(r, "message", json_string(text));
    ho_debug("route: reminder lead=%lld rep=%s", (long long)json_integer_value(lead_id),
             rep ? rep : "-");
    return ho_out_emit(out, &msg) == HO_OK ? HO_WORKER_OK : HO_WORKER_RETRY;
}

static int s_handle_one(s_ctx_t *ctx, ho_msg_t *in, ho_out_t *out);

/* A request's envelopes are decided in one router.db transaction: one commit for the batch.
 * The lead.assigned replies leave only after it (the runtime sends what the handler emitted
 * when it returns OK); on any failure the whole batch is rolled back and retried. */
static int s_handle(void *ctx_v, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *ctx = ctx_v;
    ho_err_t err = {0};
    if (n > 1 && ho_route_state_batch_begin(ctx->state, &err) != HO_OK) {
        ho_warn("route: cannot begin a batch: %s", err.message);
        return HO_WORKER_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = s_handle_one(ctx, in[i], out);
        if (rc != HO_WORKER_OK) {
            ho_route_state_batch_rollback(ctx->state);
            return rc;
        }
    }
    if (n > 1 && ho_route_state_batch_commit(ctx->state, &err) != HO_OK) {
        ho_warn("route: cannot commit a batch of %zu: %s", n, err.message);
        return HO_WORKER_RETRY;
    }
    return HO_WORKER_OK;
}

static int s_handle_one(s_ctx_t *ctx, ho_msg_t *in, ho_out_t *out)
{
    const char *type = ho_msg_type(in);
    if (strcmp(type, "route.request") == 0) {
        return s_assign(ctx, in, out);
    }
    if (strcmp(type, "sla.breach") == 0) {
        const char *step = json_string_value(json_object_get(ho_msg_payload(in), "step"));
        if (step && strcmp(step, "remind") == 0) {
            return s_remind(ctx, in, out);
        }
        if (step && strcmp(step, "reassign") == 0) {
            return s_assign(ctx, in, out);
        }
        return ho_out_quarantine(out, in, "route", "bad_field", "step",
                                 "step: expected remind or reassign") == HO_OK
                   ? HO_WORKER_OK
                   : HO_WORKER_RETRY;
    }
    char why[160];
    snprintf(why, sizeof why, "route handles route.request and sla.breach, not %.64s", type);
    return ho_out_quarantine(out, in, "route", "unknown_type", "type", why) == HO_OK
               ? HO_WORKER_OK
               : HO_WORKER_RETRY;
}

/* Retention of router.db, once an hour (the first a minute after start). */
static int s_tick(void *ctx_v, int64_t now_ms, ho_out_t *out)
{
    s_ctx_t *ctx = ctx_v;
    (void)out;
    if (!ho_worker_prune_due(&ctx->retention, now_ms)) {
        return HO_WORKER_OK;
    }
    ho_routing_pruned_t n;
    ho_err_t err = {0};
    if (ho_route_state_prune(ctx->routing, ctx->state, now_ms, ctx->retention.keep_ms, &n, &err) !=
        HO_OK) {
        ho_warn("route: cannot prune the router state: %s", err.message);
        return HO_WORKER_OK;
    }
    if (n.decisions || n.counts || n.breaches) {
        ho_info("route: pruned router state decisions=%d counts=%d breaches=%d", n.decisions,
                n.counts, n.breaches);
    }
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_route = {
    .name = "route",
    .description = "routing rules, round robin with caps, account match, SLA reminders",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_tick = s_tick,
    .tick_ms = 60000,
    .cb_exit = s_exit,
    .config_map = s_config_map,
};
