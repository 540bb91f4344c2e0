/* store.c - the store interface and its engine-independent logic (identity, lifecycle
 * application, the lead view, configuration); see include/handoff/store.h. The merge of
 * records into leads is store_merge.c; persistence is the backend's job
 * (src/store/store_backend.h). */
#include "handoff/store.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "handoff/defaults.h"
#include "handoff/email.h"
#include "handoff/lifecycle.h"
#include "store/store_backend.h"
#include "store/store_int.h"

/* ---- open / close ---- */
ho_store_t *ho_store_open(const char *path, ho_err_t *err)
{
    return ho_store_open_opts(path, NULL, err);
}

ho_store_t *ho_store_open_opts(const char *path, const ho_store_opts_t *opts, ho_err_t *err)
{
    ho_store_opts_t none = {0};
    if (!opts) {
        opts = &none;
    }
    if (!path || !path[0]) {
        ho_err_set(err, HO_ERR_CONFIG, "path", "no database path given");
        return NULL;
    }
    const ho_store_backend_t *be = &ho_store_backend_sqlite;
    if (opts->backend && strcmp(opts->backend, be->name) != 0) {
        ho_err_set(err, HO_ERR_CONFIG, "backend", "unknown store backend \"%s\" (known: sqlite)",
                   opts->backend);
        return NULL;
    }
    int sync = 1;
    if (opts->durability && strcmp(opts->durability, "full") == 0) {
        sync = 2;
    } else if (opts->durability && strcmp(opts->durability, "normal") != 0) {
        ho_err_set(err, HO_ERR_CONFIG, "durability",
                   "durability: expected normal or full, got \"%s\"", opts->durability);
        return NULL;
    }
    if (opts->cache_mb < 0 || opts->cache_mb > HO_STORE_CACHE_MB_MAX) {
        ho_err_set(err, HO_ERR_CONFIG, "cache_mb", "cache_mb: expected 1-%d (MB), got %d",
                   HO_STORE_CACHE_MB_MAX, opts->cache_mb);
        return NULL;
    }
    ho_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->be = be;
    self->strip_plus = opts->strip_plus;
    if (opts->precedence && json_is_object(opts->precedence)) {
        self->precedence = json_deep_copy(opts->precedence);
    }
    if (be->open(path, opts, &self->db, err) != HO_OK) {
        json_decref(self->precedence);
        free(self);
        return NULL;
    }
    if (!opts->readonly && opts->cache_mb > 0 &&
        be->cache_mb(self->db, opts->cache_mb, err) != opts->cache_mb) {
        ho_store_destroy(&self);
        return NULL;
    }
    int got = opts->readonly ? sync : be->synchronous(self->db, sync, err);
    if (got != sync) {
        if (got >= 0) {
            ho_err_set(err, HO_ERR_IO, "durability", "%s: the engine did not take durability %s",
                       path, sync == 2 ? "full" : "normal");
        }
        ho_store_destroy(&self);
        return NULL;
    }
    return self;
}

void ho_store_destroy(ho_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_store_t *self = *self_p;
    self->be->close(&self->db);
    json_decref(self->precedence);
    for (size_t i = 0; self->fcache && i < HO_STORE_FCACHE; i++) {
        free(self->fcache[i].text);
        json_decref(self->fcache[i].obj);
    }
    free(self->fcache);
    free(self);
    *self_p = NULL;
}

int ho_store_schema_version(const ho_store_t *self)
{
    return self->be->version(self->db);
}

int ho_store_synchronous(const ho_store_t *self)
{
    return self->be->synchronous(self->db, -1, NULL);
}

int ho_store_cache_mb(const ho_store_t *self)
{
    return self->be->cache_mb(self->db, 0, NULL);
}

long ho_store_background_checkpoints(const ho_store_t *self)
{
    return self->be->background_checkpoints ? self->be->background_checkpoints(self->db) : -1;
}

const char *ho_store_backend_name(const ho_store_t *self)
{
    return self->be->name;
}

int ho_store_begin(ho_store_t *self, ho_err_t *err)
{
    return self->be->tx(self->db, HO_TX_BEGIN, err);
}

int ho_store_commit(ho_store_t *self, ho_err_t *err)
{
    return self->be->tx(self->db, HO_TX_COMMIT, err);
}

void ho_store_rollback(ho_store_t *self)
{
    self->be->tx(self->db, HO_TX_ROLLBACK, NULL);
}

int ho_store_save(ho_store_t *self, ho_err_t *err)
{
    return self->be->tx(self->db, HO_TX_SAVE, err);
}

int ho_store_release(ho_store_t *self, ho_err_t *err)
{
    return self->be->tx(self->db, HO_TX_RELEASE, err);
}

void ho_store_undo(ho_store_t *self)
{
    self->be->tx(self->db, HO_TX_UNDO, NULL);
}

int ho_store_claim_event(ho_store_t *self, const char *event_id, const char *type, int64_t at,
                         ho_err_t *err)
{
    if (!event_id || !event_id[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "id", "message has no event id");
    }
    return self->be->event_claim(self->db, event_id, type ? type : "", at, err);
}

int ho_store_event_seen(ho_store_t *self, const char *event_id, ho_err_t *err)
{
    if (!event_id || !event_id[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "id", "message has no event id");
    }
    return self->be->event_seen(self->db, event_id, err);
}

int ho_store_score_seen(ho_store_t *self, const char *event_id, ho_err_t *err)
{
    if (!event_id || !event_id[0]) {
        return ho_err_set(err, HO_ERR_MISSING, "id", "message has no event id");
    }
    return self->be->score_seen(self->db, event_id, err);
}

/* ---- identity ---- */
static char *s_email_check(const ho_store_t *self, char *out, ho_err_t *err);

char *ho_store_normalize_email(const ho_store_t *self, const char *email, ho_err_t *err)
{
    if (!email) {
        ho_err_set(err, HO_ERR_MISSING, "email", "email is missing");
        return NULL;
    }
    while (*email && isspace((unsigned char)*email)) {
        email++;
    }
    size_t len = strlen(email);
    while (len && isspace((unsigned char)email[len - 1])) {
        len--;
    }
    if (len == 0) {
        ho_err_set(err, HO_ERR_MISSING, "email", "email is empty");
        return NULL;
    }
    /* ASCII (nearly every address) is NFC already: lowercase in place, no decomposition */
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++) {
        ascii = (unsigned char)email[i] < 0x80;
    }
    if (ascii) {
        char *out = malloc(len + 1);
        if (!out) {
            ho_err_set(err, HO_ERR_NOMEM, "email", "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < len; i++) {
            out[i] = (char)tolower((unsigned char)email[i]);
        }
        out[len] = '\0';
        return s_email_check(self, out, err);
    }
    utf8proc_int32_t *cps = malloc((len + 1) * sizeof *cps);
    if (!cps) {
        ho_err_set(err, HO_ERR_NOMEM, "email", "out of memory");
        return NULL;
    }
    utf8proc_ssize_t n = utf8proc_decompose((const utf8proc_uint8_t *)email, (utf8proc_ssize_t)len,
                                            cps, (utf8proc_ssize_t)len, UTF8PROC_STABLE);
    if (n < 0 || (size_t)n > len) {
        free(cps);
        ho_err_set(err, HO_ERR_FIELD, "email", "email is not valid UTF-8");
        return NULL;
    }
    /* Lowercase per code point (not case folding: folding would turn "ß" into "ss" and
     * merge people ingest keeps apart), then compose to NFC. */
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        cps[i] = utf8proc_tolower(cps[i]);
    }
    n = utf8proc_reencode(cps, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) {
        free(cps);
        ho_err_set(err, HO_ERR_FIELD, "email", "email cannot be normalized");
        return NULL;
    }
    return s_email_check(self, (char *)cps, err); /* reencode wrote UTF-8 in place, NUL-ended */
}

/* The address checks and plus stripping on a normalized copy (taken; NULL when refused). */
static char *s_email_check(const ho_store_t *self, char *out, ho_err_t *err)
{
    char *at = strchr(out, '@');
    if (!ho_email_valid(out)) { /* the one policy of email.h, as ingest checks it */
        ho_err_set(err, HO_ERR_FIELD, "email", "email \"%.80s\" does not look like an address",
                   out);
        free(out);
        return NULL;
    }
    if (self && self->strip_plus) {
        char *plus = memchr(out, '+', (size_t)(at - out));
        if (plus && plus != out) {
            memmove(plus, at, strlen(at) + 1);
        }
    }
    return out;
}

/* ---- lead rows ---- */
void ho_lead_init(ho_lead_t *lead)
{
    memset(lead, 0, sizeof *lead);
    lead->employees = HO_NULL_INT;
    lead->revenue = NAN;
    lead->first_touch_at = lead->last_touch_at = HO_NULL_INT;
    lead->fit = lead->interest = lead->score = HO_NULL_INT;
    lead->scored_at = lead->mql_at = lead->first_mql_at = HO_NULL_INT;
    lead->score_seq = HO_NULL_INT;
}

void ho_lead_clear(ho_lead_t *lead)
{
    char **strs[] = {&lead->email,
                     &lead->first_name,
                     &lead->last_name,
                     &lead->title,
                     &lead->phone,
                     &lead->company,
                     &lead->domain,
                     &lead->industry,
                     &lead->industry_group,
                     &lead->country,
                     &lead->state,
                     &lead->city,
                     &lead->timezone,
                     &lead->fields_json,
                     &lead->field_sources_json,
                     &lead->stage,
                     &lead->owner_rep_id,
                     &lead->original_source,
                     &lead->source_channel,
                     &lead->original_campaign,
                     &lead->grade,
                     &lead->quadrant,
                     &lead->model_version,
                     &lead->crm_stage};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
    }
    ho_lead_init(lead);
}

int ho_lead_set(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && value[0]) {
        copy = strdup(value);
        if (!copy) {
            return HO_ERR_NOMEM;
        }
    }
    free(*slot);
    *slot = copy;
    return HO_OK;
}

int ho_store_lead_get(ho_store_t *self, const char *email, int64_t id, ho_lead_t *lead,
                      ho_err_t *err)
{
    ho_lead_clear(lead);
    int rc = self->be->lead_get(self->db, email, id, lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        if (email) {
            ho_err_set(err, HO_ERR_NOT_FOUND, "email", "no lead with email %s", email);
        } else {
            ho_err_set(err, HO_ERR_NOT_FOUND, "lead_id", "no lead with id %lld", (long long)id);
        }
    }
    return rc;
}

int ho_store_lead_put(ho_store_t *self, ho_lead_t *lead, ho_err_t *err)
{
    return self->be->lead_put(self->db, lead, err);
}

int ho_store_add(ho_store_t *self, ho_table_t table, const json_t *row, int64_t *id_p,
                 ho_err_t *err)
{
    return self->be->row_add(self->db, table, row, id_p, err);
}

int ho_store_add_score(ho_store_t *self, const ho_score_row_t *row, ho_err_t *err)
{
    return self->be->score_add(self->db, row, err);
}

int ho_store_add_activity(ho_store_t *self, const ho_activity_row_t *row, ho_err_t *err)
{
    return self->be->activity_add(self->db, row, err);
}

int ho_store_update(ho_store_t *self, ho_table_t table, int64_t id, const json_t *set,
                    ho_err_t *err)
{
    return self->be->row_update(self->db, table, id, set, err);
}

int ho_store_query(ho_store_t *self, ho_query_t query, const json_t *args, json_t **rows_p,
                   ho_err_t *err)
{
    return self->be->query(self->db, query, args, rows_p, err);
}

int ho_store_pending_delete(ho_store_t *self, const char *event_id, ho_err_t *err)
{
    return self->be->pending_delete(self->db, event_id, err);
}

int ho_store_erase(ho_store_t *self, int64_t lead_id, const char *email, int64_t at, ho_err_t *err)
{
    return self->be->erase(self->db, lead_id, email, at, err);
}

/* ---- lifecycle ---- */
static json_t *s_int_or_null(int64_t v)
{
    return v == HO_NULL_INT ? json_null() : json_integer(v);
}

static int s_history(ho_store_t *self, const ho_lead_t *lead, const char *from, const char *to,
                     const char *kind, int64_t at, const char *actor, const char *reason,
                     const char *event_id, ho_err_t *err)
{
    json_t *row = json_object();
    json_object_set_new(row, "lead_id", json_integer(lead->id));
    json_object_set_new(row, "from_stage", from ? json_string(from) : json_null());
    json_object_set_new(row, "to_stage", json_string(to));
    json_object_set_new(row, "at", json_integer(at));
    json_object_set_new(row, "actor", json_string(actor && actor[0] ? actor : "store"));
    json_object_set_new(row, "reason", reason ? json_string(reason) : json_null());
    json_object_set_new(row, "score", s_int_or_null(lead->score));
    json_object_set_new(row, "fit", s_int_or_null(lead->fit));
    json_object_set_new(row, "interest", s_int_or_null(lead->interest));
    json_object_set_new(row, "event_id", event_id ? json_string(event_id) : json_null());
    json_object_set_new(row, "kind", json_string(kind));
    json_object_set_new(row, "implied", json_integer(0)); /* NOT NULL: OR IGNORE would drop it */
    int rc = self->be->row_add(self->db, HO_T_STAGE_HISTORY, row, NULL, err);
    json_decref(row);
    return rc;
}

int ho_store_transition(ho_store_t *self, ho_lead_t *lead, const char *event, int64_t at,
                        const char *actor, const char *reason, const char *event_id, ho_err_t *err)
{
    const char *to = NULL;
    int rc = ho_lifecycle_next(lead->stage, event, &to, err);
    if (rc != HO_OK) {
        return rc;
    }
    char *from = lead->stage;
    lead->stage = strdup(to);
    if (!lead->stage) {
        lead->stage = from;
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (strcmp(to, "MQL") == 0) {
        lead->mql_at = at;
        if (lead->first_mql_at == HO_NULL_INT) {
            lead->first_mql_at = at;
        }
    }
    if (at > lead->updated_at) {
        lead->updated_at = at;
    }
    rc = self->be->lead_put(self->db, lead, err);
    if (rc == HO_OK) {
        rc = s_history(self, lead, from, to, "transition", at, actor, reason, event_id, err);
    }
    free(from);
    return rc;
}

int ho_store_set_stage(ho_store_t *self, ho_lead_t *lead, const char *stage, int64_t at,
                       const char *actor, const char *reason, const char *event_id, ho_err_t *err)
{
    if (ho_stage_parse(stage) < 0) {
        return ho_err_set(err, HO_ERR_FIELD, "stage", "unknown lifecycle stage \"%s\"",
                          stage ? stage : "(null)");
    }
    char *from = lead->stage;
    lead->stage = strdup(stage);
    if (!lead->stage) {
        lead->stage = from;
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (at > lead->updated_at) {
        lead->updated_at = at;
    }
    int rc = self->be->lead_put(self->db, lead, err);
    if (rc == HO_OK) {
        rc = s_history(self, lead, from, stage, "transition", at, actor, reason, event_id, err);
    }
    free(from);
    return rc;
}

int ho_store_note(ho_store_t *self, const ho_lead_t *lead, const char *kind, int64_t at,
                  const char *actor, const char *reason, const char *event_id, ho_err_t *err)
{
    return s_history(self, lead, lead->stage, lead->stage, kind, at, actor, reason, event_id, err);
}

/* ---- the one-screen view ---- */
static json_t *s_lead_json(const ho_lead_t *l)
{
    json_t *o = json_object();
#define S_S(k) json_object_set_new(o, #k, l->k ? json_string(l->k) : json_null())
#define S_I(k) json_object_set_new(o, #k, s_int_or_null(l->k))
    json_object_set_new(o, "lead_id", json_integer(l->id));
    S_S(email);
    S_S(first_name);
    S_S(last_name);
    S_S(title);
    S_S(phone);
    S_S(company);
    S_S(domain);
    json_object_set_new(o, "personal_email", json_boolean(l->personal_email));
    S_S(industry);
    S_S(industry_group);
    S_I(employees);
    json_object_set_new(o, "revenue", isnan(l->revenue) ? json_null() : json_real(l->revenue));
    S_S(country);
    S_S(state);
    S_S(city);
    S_S(timezone);
    S_S(stage);
    S_S(owner_rep_id);
    S_S(original_source);
    S_S(source_channel);
    S_S(original_campaign);
    S_I(first_touch_at);
    S_I(last_touch_at);
    S_I(created_at);
    S_I(updated_at);
    S_I(fit);
    S_I(interest);
    S_I(score);
    S_S(grade);
    S_S(quadrant);
    S_S(model_version);
    S_I(scored_at);
    S_I(mql_at);
    S_I(first_mql_at);
    json_object_set_new(o, "erased", json_boolean(l->erased));
#undef S_S
#undef S_I
    json_t *f = l->fields_json ? json_loads(l->fields_json, 0, NULL) : NULL;
    json_object_set_new(o, "fields", f ? f : json_object());
    json_t *m = l->field_sources_json ? json_loads(l->field_sources_json, 0, NULL) : NULL;
    json_object_set_new(o, "field_sources", m ? m : json_object());
    return o;
}

json_t *ho_store_lead_json(const ho_lead_t *lead)
{
    return s_lead_json(lead);
}

int ho_store_lead_view(ho_store_t *self, const char *email, json_t **view_p, ho_err_t *err)
{
    char *key = ho_store_normalize_email(self, email, err);
    if (!key) {
        return err->code;
    }
    ho_lead_t lead;
    ho_lead_init(&lead);
    int rc = ho_store_lead_get(self, key, 0, &lead, err);
    free(key);
    if (rc != HO_OK) {
        return rc;
    }
    json_t *view = json_object();
    json_object_set_new(view, "lead", s_lead_json(&lead));
    json_t *args = json_pack("{sIsi}", "lead_id", (json_int_t)lead.id, "limit", 50);
    static const struct {
        const char *name;
        ho_query_t q;
    } parts[] = {{"sources", HO_Q_SOURCES},         {"activities", HO_Q_ACTIVITIES},
                 {"scores", HO_Q_SCORES},           {"history", HO_Q_HISTORY},
                 {"assignments", HO_Q_ASSIGNMENTS}, {"outcomes", HO_Q_OUTCOMES},
                 {"top_pages", HO_Q_TOP_PAGES},     {"activity_stats", HO_Q_ACTIVITY_STATS}};
    for (size_t i = 0; rc == HO_OK && i < sizeof parts / sizeof parts[0]; i++) {
        json_t *rows = NULL;
        rc = ho_store_query(self, parts[i].q, args, &rows, err);
        if (rc == HO_OK) {
            json_object_set_new(view, parts[i].name, rows);
        }
    }
    json_decref(args);
    /* explanations are stored as text; hand them back as structure */
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(view, "scores"), i, s)
    {
        const char *text = json_string_value(json_object_get(s, "explanation_json"));
        json_t *ex = text ? json_loads(text, 0, NULL) : NULL;
        json_object_set_new(s, "explanation", ex ? ex : json_array());
        json_object_del(s, "explanation_json");
    }
    ho_lead_clear(&lead);
    if (rc != HO_OK) {
        json_decref(view);
        return rc;
    }
    *view_p = view;
    return HO_OK;
}

/* ---- configuration ---- */
static int s_conf_precedence(const ho_conf_t *c, const ho_node_t *node, json_t *out, ho_err_t *err)
{
    if (ho_node_kind(node) != HO_NODE_MAP) {
        return ho_conf_fail(c, node, err, HO_ERR_CONFIG,
                            "expected a map of field: [source, source, ...]");
    }
    json_t *prec = json_object();
    for (size_t i = 0; i < ho_node_size(node); i++) {
        const ho_node_t *list = ho_node_at(node, i);
        if (ho_node_kind(list) != HO_NODE_SEQ) {
            json_decref(prec);
            return ho_conf_fail(c, list, err, HO_ERR_CONFIG,
                                "expected a list of source names, highest precedence first");
        }
        json_t *arr = json_array();
        for (size_t k = 0; k < ho_node_size(list); k++) {
            const char *name = ho_node_str(ho_node_at(list, k));
            if (!name || !name[0]) {
                json_decref(arr);
                json_decref(prec);
                return ho_conf_fail(c, ho_node_at(list, k), err, HO_ERR_CONFIG,
                                    "expected a source name");
            }
            json_array_append_new(arr, json_string(name));
        }
        json_object_set_new(prec, ho_node_key_at(node, i), arr);
    }
    json_object_set_new(out, "precedence", prec);
    return HO_OK;
}

static int s_conf_apply(const ho_conf_t *c, const ho_node_t *map, json_t *out, ho_err_t *err)
{
    if (!map) {
        return HO_OK;
    }
    static const char *const keys[] = {"plus_addressing", "precedence",     "sla",
                                       "rescore",         "config",         "durability",
                                       "reroute_owned",   "feedback_grace", "cache_mb",
                                       NULL};
    if (ho_conf_check_keys(c, map, keys, err) != HO_OK) {
        return HO_ERR_CONFIG;
    }
    if (ho_node_get(map, "reroute_owned")) {
        bool b = false;
        if (ho_conf_bool(c, map, "reroute_owned", false, &b, err) != HO_OK) {
            return HO_ERR_CONFIG;
        }
        json_object_set_new(out, "reroute_owned", json_boolean(b));
    }
    const char *grace = NULL;
    if (ho_conf_str(c, map, "feedback_grace", NULL, &grace, err) != HO_OK) {
        return HO_ERR_CONFIG;
    }
    if (grace) {
        /* "7d", "36h", "90m" or milliseconds */
        char *end = NULL;
        long long v = strtoll(grace, &end, 10);
        long long unit = !end || !*end           ? 1
                         : strcmp(end, "d") == 0 ? 86400000LL
                         : strcmp(end, "h") == 0 ? 3600000LL
                         : strcmp(end, "m") == 0 ? 60000LL
                         : strcmp(end, "s") == 0 ? 1000LL
                                                 : -1;
        if (end == grace || v < 0 || unit < 0) {
            return ho_conf_fail(c, ho_node_get(map, "feedback_grace"), err, HO_ERR_CONFIG,
                                "expected a duration like 7d, 36h, 90m or milliseconds, got \"%s\"",
                                grace);
        }
        json_object_set_new(out, "feedback_grace_ms", json_integer(v * unit));
    }
    const char *plus = NULL;
    if (ho_conf_str(c, map, "plus_addressing", NULL, &plus, err) != HO_OK) {
        return HO_ERR_CONFIG;
    }
    if (plus) {
        if (strcmp(plus, "keep") != 0 && strcmp(plus, "strip") != 0) {
            return ho_conf_fail(c, ho_node_get(map, "plus_addressing"), err, HO_ERR_CONFIG,
                                "expected keep or strip, got \"%s\"", plus);
        }
        json_object_set_new(out, "plus_addressing", json_string(plus));
    }
    if (ho_node_get(map, "cache_mb")) {
        long long mb = 0;
        if (ho_conf_int(c, map, "cache_mb", 0, &mb, err) != HO_OK) {
            return HO_ERR_CONFIG;
        }
        if (mb < 1 || mb > HO_STORE_CACHE_MB_MAX) {
            return ho_conf_fail(c, ho_node_get(map, "cache_mb"), err, HO_ERR_CONFIG,
                                "expected 1-%d (MB of page cache), got %lld",
                                HO_STORE_CACHE_MB_MAX, mb);
        }
        json_object_set_new(out, "cache_mb", json_integer(mb));
    }
    const char *dur = NULL;
    if (ho_conf_str(c, map, "durability", NULL, &dur, err) != HO_OK) {
        return HO_ERR_CONFIG;
    }
    if (dur) {
        if (strcmp(dur, "normal") != 0 && strcmp(dur, "full") != 0) {
            return ho_conf_fail(c, ho_node_get(map, "durability"), err, HO_ERR_CONFIG,
                                "expected normal or full, got \"%s\"", dur);
        }
        json_object_set_new(out, "durability", json_string(dur));
    }
    const ho_node_t *prec = ho_node_get(map, "precedence");
    if (prec && s_conf_precedence(c, prec, out, err) != HO_OK) {
        return HO_ERR_CONFIG;
    }
    const ho_node_t *sla = ho_node_get(map, "sla");
    if (sla) {
        static const char *const sk[] = {"reassign_after_ms", NULL};
        long long v = 0;
        if (ho_conf_check_keys(c, sla, sk, err) != HO_OK ||
            ho_conf_int(c, sla, "reassign_after_ms", 0, &v, err) != HO_OK) {
            return HO_ERR_CONFIG;
        }
        json_object_set_new(out, "reassign_after_ms", json_integer(v));
    }
    const ho_node_t *rs = ho_node_get(map, "rescore");
    if (rs) {
        static const char *const rk[] = {"interval_ms", "window_ms", "limit", NULL};
        long long iv = 0, win = 0, lim = 0;
        if (ho_conf_check_keys(c, rs, rk, err) != HO_OK ||
            ho_conf_int(c, rs, "interval_ms", 3600000, &iv, err) != HO_OK ||
            ho_conf_int(c, rs, "window_ms", 90LL * 86400000, &win, err) != HO_OK ||
            ho_conf_int(c, rs, "limit", 1000, &lim, err) != HO_OK) {
            return HO_ERR_CONFIG;
        }
        json_object_set_new(out, "rescore_interval_ms", json_integer(iv));
        json_object_set_new(out, "rescore_window_ms", json_integer(win));
        json_object_set_new(out, "rescore_limit", json_integer(lim));
    }
    return HO_OK;
}

json_t *ho_store_config_load(const char *config_dir, const ho_conf_t *gateway,
                             const ho_node_t *settings, ho_err_t *err)
{
    json_t *out = json_pack("{sssss{}sIsIsIsIsbsIsi}", "plus_addressing", "keep", "durability",
                            "normal", "precedence", "reassign_after_ms", (json_int_t)0,
                            "rescore_interval_ms", (json_int_t)3600000, "rescore_window_ms",
                            (json_int_t)(90LL * 86400000), "rescore_limit", (json_int_t)1000,
                            "reroute_owned", 0, "feedback_grace_ms", (json_int_t)(7LL * 86400000),
                            "cache_mb", HO_STORE_CACHE_MB);
    const char *name = "store.yaml";
    if (settings && gateway) {
        const char *alt = NULL;
        if (ho_conf_str(gateway, settings, "config", NULL, &alt, err) != HO_OK) {
            json_decref(out);
            return NULL;
        }
        if (alt) {
            name = alt;
        }
    }
    ho_conf_t *c = ho_conf_load_named(config_dir, name, err);
    if (!c) {
        json_decref(out);
        return NULL;
    }
    int rc = s_conf_apply(c, ho_conf_root(c), out, err);
    ho_conf_destroy(&c);
    if (rc == HO_OK && settings && gateway) {
        rc = s_conf_apply(gateway, settings, out, err);
    }
    if (rc != HO_OK) {
        json_decref(out);
        return NULL;
    }
    return out;
}
