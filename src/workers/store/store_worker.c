/* store_worker.c - the `store` service: the one writer of the lead database.
 *
 * Each request batch is applied in one transaction (one SAVEPOINT per message, so a bad
 * message is rolled back and quarantined while the rest of the batch goes on). Every
 * applied event id is recorded: a redelivered message changes nothing. Messages this worker
 * emits (score.request, route.request, handoff.ready, sla.breach) are built after the
 * message's effects are written, and dropped with them when the message is undone.
 * See proto/messages.md for every payload; store_worker_int.h says which file handles what. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workers/store/store_worker_int.h"
#include "handoff/util.h"


/* ---- lifecycle of the worker ---- */
static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    sw_ctx_t *self = *ctx_p;
    ho_store_destroy(&self->store);
    json_decref(self->conf);
    json_decref(self->to_score);
    json_decref(self->to_score_undo);
    free(self->origin);
    free(self);
    *ctx_p = NULL;
}

/* A migration of a large store takes minutes (and the store answers nothing meanwhile):
 * say it is one before it starts. */
static void s_on_migrate(int from, int to, void *arg)
{
    ho_info("store: %s migrating schema %d -> %d (minutes on a large store; "
            "docs/store-schema.md)",
            (const char *)arg, from, to);
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    sw_ctx_t *self = calloc(1, sizeof *self);
    if (!self) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    void *vp = self;
    self->origin = strdup(env->origin ? env->origin : "store");
    self->to_score = json_object();
    self->to_score_undo = json_object();
    self->conf = ho_store_config_load(env->config_dir, env->conf, env->settings, err);
    if (!self->conf) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_CONFIG;
    }
    const char *dir = env->data_dir && env->data_dir[0] ? env->data_dir : "./data";
    if (ho_mkdirs(dir) != 0) {
        s_exit(&vp);
        return ho_err_set(err, HO_ERR_IO, "data_dir", "cannot create data dir %s: %s", dir,
                          strerror(errno));
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/handoff.db", dir);
    ho_store_opts_t opts = {
        .strip_plus = strcmp(sw_str(self->conf, "plus_addressing"), "strip") == 0,
        .precedence = json_object_get(self->conf, "precedence"),
        .durability = sw_str(self->conf, "durability"),
        .cache_mb = (int)sw_int(self->conf, "cache_mb", HO_STORE_CACHE_MB),
        .on_migrate = s_on_migrate,
        .migrate_arg = (void *)path,
    };
    self->store = ho_store_open_opts(path, &opts, err);
    if (!self->store) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_IO;
    }
    json_t *um = NULL;
    if (ho_store_query(self->store, HO_Q_UNMATCHED_ANY, NULL, &um, err) != HO_OK) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_IO;
    }
    self->unmatched_maybe = json_array_size(um) > 0;
    json_decref(um);
    um = NULL;
    if (ho_store_query(self->store, HO_Q_PENDING_ANY, NULL, &um, err) != HO_OK) {
        s_exit(&vp);
        return err->code ? err->code : HO_ERR_IO;
    }
    self->pending_maybe = json_array_size(um) > 0;
    json_decref(um);
    /* read back from the engine: what a commit survives (docs/store-schema.md) */
    int sync = ho_store_synchronous(self->store);
    ho_info("store: %s durability %s (synchronous=%d) cache_mb=%d", path,
            sync == 2 ? "full" : (sync == 1 ? "normal" : "other"), sync,
            ho_store_cache_mb(self->store));
    *ctx_p = self;
    return HO_OK;
}

/* ---- dispatch ---- */
typedef int (*s_handler_t)(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, ho_err_t *err);

/* The quarantine code of a lead.outcome the store refuses. */
static const char *s_outcome_code(const ho_err_t *err)
{
    if (strcmp(err->field, "payload.occurred_at") == 0) {
        return err->code == HO_ERR_STATE ? "before_lead_created" : "missing_date";
    }
    if (err->code == HO_ERR_STATE) {
        return "illegal_transition";
    }
    if (err->code == HO_ERR_FIELD && strcmp(err->field, "payload.outcome") == 0) {
        return "unknown_outcome";
    }
    if (err->code == HO_ERR_MISSING && strcmp(err->field, "payload.reason") == 0) {
        return "missing_reason";
    }
    return "invalid";
}

/* Every routed type the store handles (proto/messages.md), and how a refusal is coded. */
static const struct {
    const char *type;
    s_handler_t handler;
    const char *(*code)(const ho_err_t *err); /* NULL: "invalid" */
} s_dispatch[] = {
    {"lead.normalized", sw_on_lead, NULL},
    {"activity.normalized", sw_on_activity, NULL},
    {"lead.scored", sw_on_scored, NULL},
    {"lead.assigned", sw_on_assigned, NULL},
    {"lead.outcome", sw_on_outcome, s_outcome_code},
    {"quarantine", sw_on_quarantine, NULL},
    {"dead.letter", sw_on_dead_letter, NULL},
    {"tick", sw_on_tick, NULL},
    {"lead.forget", sw_on_forget, NULL},
    {"dlq.replay", sw_on_replay, NULL},
    {"import.summary", sw_on_import_summary, NULL},
    {"import.stats", sw_on_import_stats, NULL},
};

static int s_apply(sw_ctx_t *self, const ho_msg_t *in, ho_out_t *out, const char **code,
                   ho_err_t *err)
{
    const char *type = ho_msg_type(in);
    for (size_t i = 0; i < sizeof s_dispatch / sizeof s_dispatch[0]; i++) {
        if (strcmp(type, s_dispatch[i].type) == 0) {
            int rc = s_dispatch[i].handler(self, in, out, err);
            *code = rc != HO_OK && s_dispatch[i].code ? s_dispatch[i].code(err) : "invalid";
            return rc;
        }
    }
    *code = "unknown_type";
    return ho_err_set(err, HO_ERR_FIELD, "type", "the store does not handle messages of type %s",
                      type);
}

static int s_move(ho_out_t *from, ho_out_t *to)
{
    size_t n = 0;
    ho_msg_t **msgs = ho_out_take(from, &n);
    int rc = HO_OK;
    for (size_t i = 0; i < n; i++) {
        if (rc == HO_OK) {
            rc = ho_out_emit(to, &msgs[i]);
        }
        ho_msg_destroy(&msgs[i]);
    }
    free(msgs);
    return rc;
}

/* One pass over the batch in one transaction. careful: a savepoint per message, so a refused
 * message is undone and quarantined alone. Not careful (the common case, every message
 * good): no savepoints (a RELEASE costs about a seventh of an upsert); a refused message
 * makes the pass stop with S_CAREFUL after rolling everything back. */
enum { S_DONE, S_RETRY, S_CAREFUL };

static int s_pass(sw_ctx_t *self, ho_msg_t *const *in, size_t n, ho_out_t *out, bool careful)
{
    ho_err_t err = {0};
    json_object_clear(self->to_score);
    if (ho_store_begin(self->store, &err) != HO_OK) {
        return S_RETRY;
    }
    ho_out_t *mine = ho_out_new(self->origin);
    int rc = mine ? HO_OK : HO_ERR_NOMEM;
    bool refused = false;
    for (size_t i = 0; rc == HO_OK && !refused && i < n; i++) {
        memset(&err, 0, sizeof err);
        if (careful && (rc = ho_store_save(self->store, &err)) != HO_OK) {
            break;
        }
        /* to_score entries made by a message that is undone must go with it (a per-message
         * undo log: copying the whole map per message was quadratic in the batch size) */
        json_object_clear(self->to_score_undo);
        const char *code = NULL;
        int arc = s_apply(self, in[i], mine, &code, &err);
        if (arc == HO_OK || arc == 1 || arc == 0) {
            if (careful) {
                rc = ho_store_release(self->store, &err);
            }
            if (rc == HO_OK) {
                rc = s_move(mine, out);
            }
        } else if (sw_data_error(arc) && !careful) {
            refused = true;
        } else if (sw_data_error(arc)) {
            ho_store_undo(self->store);
            ho_out_clear(mine);
            const char *key;
            json_t *was;
            json_object_foreach(self->to_score_undo, key, was)
            {
                if (json_is_null(was)) {
                    json_object_del(self->to_score, key);
                } else {
                    json_object_set(self->to_score, key, was);
                }
            }
            json_object_clear(self->to_score_undo);
            ho_err_t qerr = {0};
            rc = sw_quarantine_msg(self, in[i], code, &err, &qerr);
        } else {
            rc = arc;
        }
    }
    if (rc == HO_OK && !refused) {
        rc = sw_flush_scores(self, out, &err);
    }
    if (rc == HO_OK && !refused) {
        rc = ho_store_commit(self->store, &err);
    }
    ho_out_destroy(&mine);
    if (rc != HO_OK || refused) {
        ho_store_rollback(self->store);
        json_object_clear(self->to_score);
        ho_out_clear(out);
        return refused && rc == HO_OK ? S_CAREFUL : S_RETRY;
    }
    return S_DONE;
}

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    sw_ctx_t *self = ctx;
    /* a pass that is rolled back must not leave the tick's re-score clock moved */
    int64_t last_rescore = self->last_rescore;
    bool rescored_once = self->rescored_once;
    int r = s_pass(self, in, n, out, false);
    if (r == S_CAREFUL) {
        self->last_rescore = last_rescore;
        self->rescored_once = rescored_once;
        r = s_pass(self, in, n, out, true);
    }
    if (r != S_DONE) {
        self->last_rescore = last_rescore;
        self->rescored_once = rescored_once;
        return HO_WORKER_RETRY;
    }
    return HO_WORKER_OK;
}

static int s_tick(void *ctx, int64_t now_ms, ho_out_t *out)
{
    (void)ctx;
    ho_msg_t *m = ho_msg_new("tick");
    if (!m) {
        return HO_WORKER_ERROR;
    }
    ho_msg_set_ts(m, now_ms);
    json_object_set_new(ho_msg_payload(m), "now", json_integer(now_ms));
    ho_out_emit(out, &m);
    return HO_WORKER_OK;
}

/* The store's settings are store.yaml's keys, read (nested: precedence, sla, rescore) by
 * ho_store_config_load, not by ho_config_map_apply: this map is what --help shows of them. */
static const ho_config_map_t s_config_map[] = {
    {HO_CFG_STR, "config", "store.yaml", 0, "the store's rules file, under the config folder"},
    {HO_CFG_STR, "plus_addressing", "keep", 0,
     "keep | strip: whether a+tag@x.com is the same person as a@x.com"},
    {HO_CFG_STR, "durability", "normal", 0, "normal | full: SQLite synchronous level"},
    {HO_CFG_INT, "cache_mb", "64", 0,
     "the writer's SQLite page cache (MB): more = fewer page reads per insert, more RSS"},
    {HO_CFG_STR, "feedback_grace", "7d", 0,
     "how long feedback for a lead not (yet) known waits before it is reported"},
    {HO_CFG_BOOL, "reroute_owned", "false", 0, "route again leads a CRM owner already has"},
    {HO_CFG_STR, "precedence", "", 0, "map: field -> sources in order of trust"},
    {HO_CFG_INT, "sla.reassign_after_ms", "0", 0,
     "reassign a breached lead after this long; 0 = never"},
    {HO_CFG_INT, "rescore.interval_ms", "3600000", 0, "how often leads are re-scored (decay)"},
    {HO_CFG_INT, "rescore.window_ms", "7776000000", 0, "re-score leads active this recently"},
    {HO_CFG_INT, "rescore.limit", "1000", 0, "leads re-scored per interval at most"},
    {0},
};

const ho_worker_def_t ho_worker_store = {
    .name = "store",
    .description = "the lead database: dedup/merge, lifecycle, outcomes, SLA clock",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_tick = s_tick,
    .tick_ms = 60000,
    .cb_exit = s_exit,
    .config_map = s_config_map,
};
