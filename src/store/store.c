/* store.c - the store interface and its engine-independent logic (identity, merge rules,
 * lifecycle application); see include/handoff/store.h. Persistence is the backend's job
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

/* Recent upserts' merged fields, by lead id (direct-mapped): the store worker asks for them
 * again when it builds the batch's score.request snapshots, and parsing fields_json back was
 * a sixth of the worker's time per message. An entry is used only when its text is the
 * lead's fields_json, byte for byte. */
#define S_FCACHE 1024
typedef struct {
    int64_t id;
    char *text;
    json_t *obj;
} s_fcache_t;

struct ho_store {
    const ho_store_backend_t *be;
    void *db;
    bool strip_plus;
    json_t *precedence; /* field -> [sources], own reference */
    s_fcache_t *fcache; /* S_FCACHE entries, or NULL */
};

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
    if (be->open(path, opts->readonly, &self->db, err) != HO_OK) {
        json_decref(self->precedence);
        free(self);
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
    for (size_t i = 0; self->fcache && i < S_FCACHE; i++) {
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

/* ---- merge ---- */
static bool s_empty(const json_t *v)
{
    if (!v || json_is_null(v)) {
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s && isspace((unsigned char)*s)) {
            s++;
        }
        return *s == '\0';
    }
    if ((json_is_object(v) && json_object_size(v) == 0) ||
        (json_is_array(v) && json_array_size(v) == 0)) {
        return true;
    }
    return false;
}

/* Position of source in a field's precedence list (the list of deploy/store.yaml, looked up
 * once per field by the caller); unlisted sources rank after all listed ones. */
static size_t s_rank(const json_t *list, const char *source)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && source && strcmp(json_string_value(v), source) == 0) {
            return i;
        }
    }
    return json_array_size(list);
}

static const char *s_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t s_int(const json_t *obj, const char *key, int64_t def)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        return json_integer_value(v);
    }
    if (json_is_real(v)) {
        return (int64_t)json_real_value(v);
    }
    return def;
}

/* ho_lead_set, but a column that already holds the value keeps its copy (a merge mostly
 * projects the values the row has: no strdup and free for each). */
static void s_set(char **slot, const char *value)
{
    if (!value || !value[0] ? !*slot : (*slot && strcmp(*slot, value) == 0)) {
        return;
    }
    ho_lead_set(slot, value);
}

/* Project the merged fields onto the lead's typed columns. */
/* skip_empty: f is a record's fields, of which the merge keeps the non-empty ones only */
static void s_project(ho_lead_t *lead, const json_t *f, bool skip_empty)
{
    /* one pass over the fields (a lookup per column was ~2.5k instructions an upsert) */
    enum { P_STRS = 11, P_DOMAIN = P_STRS, P_PERSONAL, P_EMPLOYEES, P_REVENUE, P_N };
    static const struct {
        const char *key;
        size_t off; /* of the string columns */
    } cols[P_N] = {
        {"first_name", offsetof(ho_lead_t, first_name)},
        {"last_name", offsetof(ho_lead_t, last_name)},
        {"title", offsetof(ho_lead_t, title)},
        {"phone", offsetof(ho_lead_t, phone)},
        {"company", offsetof(ho_lead_t, company)},
        {"industry", offsetof(ho_lead_t, industry)},
        {"industry_group", offsetof(ho_lead_t, industry_group)},
        {"country", offsetof(ho_lead_t, country)},
        {"state", offsetof(ho_lead_t, state)},
        {"city", offsetof(ho_lead_t, city)},
        {"timezone", offsetof(ho_lead_t, timezone)},
        {"domain", 0},
        {"personal_email", 0},
        {"employees", 0},
        {"revenue", 0},
    };
    const json_t *vals[P_N] = {NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)f, key, v)
    {
        if (skip_empty && s_empty(v)) {
            continue;
        }
        for (size_t i = 0; i < P_N; i++) {
            if (cols[i].key[0] == key[0] && strcmp(cols[i].key, key) == 0) {
                vals[i] = v;
                break;
            }
        }
    }
    for (size_t i = 0; i < P_STRS; i++) {
        s_set((char **)((char *)lead + cols[i].off),
              json_is_string(vals[i]) ? json_string_value(vals[i]) : NULL);
    }
    const char *domain = json_is_string(vals[P_DOMAIN]) ? json_string_value(vals[P_DOMAIN]) : NULL;
    if (domain) {
        s_set(&lead->domain, domain);
    } else if (!lead->domain && lead->email && strchr(lead->email, '@')) {
        s_set(&lead->domain, strchr(lead->email, '@') + 1);
    }
    if (vals[P_PERSONAL]) {
        lead->personal_email = json_is_true(vals[P_PERSONAL]) ? 1 : 0;
    }
    if (json_is_number(vals[P_EMPLOYEES])) {
        lead->employees = (int64_t)json_number_value(vals[P_EMPLOYEES]);
    }
    if (json_is_number(vals[P_REVENUE])) {
        lead->revenue = json_number_value(vals[P_REVENUE]);
    }
}

/* ---- compact JSON text of the merged fields and the merge trail ----
 * The same bytes json_dumps(JSON_COMPACT) writes (insertion order, no escaped slashes, UTF-8
 * as is), so stored text and replay comparisons do not change; about 8x cheaper, as it
 * writes into one growing buffer instead of a callback per token (json_dumps was a quarter
 * of an upsert in bench_store). Reals go through jansson for its exact number format. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
    /* a value that recurs (the merge trail's [source, observed_at] of this record): its text
     * is written once and copied from the buffer after that */
    const json_t *memo;
    size_t memo_off, memo_len;
} s_text_t;

/* Room for n more bytes and the final NUL (false when out of memory). */
static bool s_reserve(s_text_t *t, size_t n)
{
    if (t->oom) {
        return false;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024; /* most texts fit: no realloc */
        while (t->len + n + 1 > cap) {
            cap *= 2;
        }
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->oom = true;
            return false;
        }
        t->buf = nb;
        t->cap = cap;
    }
    return true;
}

static void s_put(s_text_t *t, const char *p, size_t n)
{
    if (s_reserve(t, n)) {
        memcpy(t->buf + t->len, p, n);
        t->len += n;
    }
}

static void s_putc(s_text_t *t, char c)
{
    if (s_reserve(t, 1)) {
        t->buf[t->len++] = c;
    }
}

/* A JSON string: room for the worst case (every byte \u00XX) is made once, then the bytes
 * are written without a check each (a call per token was most of the writer's cost). */
static void s_put_str(s_text_t *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* jansson writes \u001F */
    if (!s_reserve(t, n * 6 + 2)) {
        return;
    }
    char *o = t->buf + t->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    t->len = (size_t)(o - t->buf);
}

/* by hand: snprintf was most of the cost of the merge trail's [source, time] pairs */
static void s_put_int(s_text_t *t, json_int_t x)
{
    char num[32];
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    char *end = num + sizeof num, *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0) {
        *--p = '-';
    }
    s_put(t, p, (size_t)(end - p));
}

static void s_put_json_any(s_text_t *t, const json_t *v);

static void s_put_json(s_text_t *t, const json_t *v)
{
    if (v != t->memo || !v) {
        s_put_json_any(t, v);
    } else if (t->memo_len) {
        if (s_reserve(t, t->memo_len)) { /* may move the buffer: copy after it */
            memcpy(t->buf + t->len, t->buf + t->memo_off, t->memo_len);
            t->len += t->memo_len;
        }
    } else {
        size_t off = t->len;
        s_put_json_any(t, v);
        t->memo_off = off;
        t->memo_len = t->len - off;
    }
}

static void s_put_json_any(s_text_t *t, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        const json_t *val;
        bool first = true;
        s_putc(t, '{');
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first) {
                s_putc(t, ',');
            }
            first = false;
            s_put_str(t, key, strlen(key));
            s_putc(t, ':');
            s_put_json(t, val);
        }
        s_putc(t, '}');
        break;
    }
    case JSON_ARRAY:
        s_putc(t, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) {
                s_putc(t, ',');
            }
            s_put_json(t, json_array_get(v, i));
        }
        s_putc(t, ']');
        break;
    case JSON_STRING:
        s_put_str(t, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        s_put_int(t, json_integer_value(v));
        break;
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (!text) {
            t->oom = true;
            return;
        }
        s_put(t, text, strlen(text));
        free(text);
        break;
    }
    case JSON_TRUE:
        s_put(t, "true", 4);
        break;
    case JSON_FALSE:
        s_put(t, "false", 5);
        break;
    default:
        s_put(t, "null", 4);
    }
}

/* The NUL-terminated text written into t (the caller frees it), or NULL when a write ran out
 * of memory (t's buffer freed). */
static char *s_text_end(s_text_t *t)
{
    if (t->oom || !s_reserve(t, 0)) {
        free(t->buf);
        return NULL;
    }
    t->buf[t->len] = '\0';
    return t->buf;
}

/* malloc'd compact JSON text of v, or NULL when out of memory; memo: a value that recurs
 * in v, or NULL */
static char *s_compact(const json_t *v, const json_t *memo)
{
    s_text_t t = {.memo = memo};
    s_put_json(&t, v);
    return s_text_end(&t);
}

/* A new lead's merged fields, as s_compact writes them: the record's fields but the email
 * and the empty ones, in the record's order (no object is built for them). */
static char *s_compact_new(const json_t *fields)
{
    s_text_t t = {0};
    const char *key;
    const json_t *val;
    bool any = false;
    s_putc(&t, '{');
    json_object_foreach((json_t *)fields, key, val)
    {
        if (s_empty(val) || strcmp(key, "email") == 0) {
            continue;
        }
        if (any) {
            s_putc(&t, ',');
        }
        any = true;
        s_put_str(&t, key, strlen(key));
        s_putc(&t, ':');
        s_put_json(&t, val);
    }
    s_putc(&t, '}');
    return s_text_end(&t);
}

/* {"_":[source,observed_at]}, the trail of a new lead, as s_compact writes it */
static char *s_first_trail(const char *source, int64_t observed)
{
    s_text_t t = {0};
    s_put(&t, "{\"_\":[", 6);
    s_put_str(&t, source, strlen(source));
    s_putc(&t, ',');
    s_put_int(&t, observed);
    s_put(&t, "]}", 2);
    return s_text_end(&t);
}

/* [source, observed_at] of the merge trail (json_pack parses its format on every call) */
static json_t *s_trail(const char *source, int64_t observed)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(source));
    json_array_append_new(a, json_integer(observed));
    return a;
}

/* ---- reading back the store's own JSON text ----
 * fields_json and field_sources_json are written by s_compact: no whitespace, objects,
 * arrays, strings, integers, reals, true, false and null. That grammar is read here directly
 * into jansson values (json_loads was ~57k of a merge's 239k instructions: its lexer reads
 * the text a character at a time through a callback). Anything else (whitespace, deep
 * nesting, invalid text, a value json_loads refuses such as \u0000 or a number out of range)
 * returns NULL and the caller reads the text with json_loads, so the result is the same in
 * every case (test_stored_text_read_back compares the two). */
#define S_PARSE_DEPTH 32

static json_t *s_parse_value(const char **pp, int depth);

static int s_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* A string at *pp (its opening quote). Without escapes *start points into the text and
 * *owned is NULL; with escapes the decoded bytes are in *owned (free it). False for
 * anything json_loads would refuse or read differently: a raw control character, a bad
 * escape, a lone surrogate, \u0000. The UTF-8 of the result is checked by jansson. */
static bool s_parse_span(const char **pp, const char **start, size_t *len, char **owned)
{
    const char *p = *pp + 1; /* past the opening quote */
    const char *s = p;
    *owned = NULL;
    while (*p != '"' && *p != '\\') {
        if ((unsigned char)*p < 0x20) { /* control characters and the end of the text */
            return false;
        }
        p++;
    }
    if (*p == '"') {
        *start = s;
        *len = (size_t)(p - s);
        *pp = p + 1;
        return true;
    }
    /* escapes: the decoded text is never longer than the escaped one */
    const char *end = p;
    while (*end != '"') {
        if ((unsigned char)*end < 0x20) {
            return false;
        }
        end += *end == '\\' && end[1] ? 2 : 1;
    }
    char *out = malloc((size_t)(end - s) + 1), *o = out;
    if (!out) {
        return false;
    }
    memcpy(o, s, (size_t)(p - s));
    o += p - s;
    while (*p != '"') {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        p++;
        char c = *p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *o++ = c;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            int32_t cp = s_hex4(p);
            if (cp <= 0) { /* bad hex digits, or \u0000 (json_loads refuses it) */
                free(out);
                return false;
            }
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF) { /* a lone low surrogate */
                free(out);
                return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int32_t lo = p[0] == '\\' && p[1] == 'u' ? s_hex4(p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(out);
                    return false;
                }
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            /* at most 4 bytes from at least 6 escaped ones */
            o += utf8proc_encode_char(cp, (utf8proc_uint8_t *)o);
            break;
        }
        default:
            free(out);
            return false;
        }
    }
    *o = '\0';
    *start = out;
    *len = (size_t)(o - out);
    *owned = out;
    *pp = p + 1;
    return true;
}

/* A number at p: an integer of at most 18 digits (cannot overflow json_int_t) or a real
 * read by strtod as json_loads reads it; NULL for what JSON or json_loads refuses
 * (leading zeros, a bare sign, an integer beyond 18 digits, a real out of range). */
static json_t *s_parse_number(const char **pp)
{
    const char *p = *pp;
    const char *d = *p == '-' ? p + 1 : p;
    const char *e = d;
    while (*e >= '0' && *e <= '9') {
        e++;
    }
    if (e == d || (*d == '0' && e - d > 1)) {
        return NULL;
    }
    bool real = false;
    if (*e == '.') {
        const char *f = ++e;
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        if (e == f) {
            return NULL;
        }
        real = true;
    }
    if (*e == 'e' || *e == 'E') {
        e++;
        if (*e == '+' || *e == '-') {
            e++;
        }
        const char *x = e;
        while (*e >= '0' && *e <= '9') {
            e++;
        }
        if (e == x) {
            return NULL;
        }
        real = true;
    }
    json_t *v;
    if (real) {
        char *stop;
        double x = strtod(p, &stop);
        if (stop != e || isinf(x)) {
            return NULL;
        }
        v = json_real(x);
    } else {
        if (e - d > 18) {
            return NULL;
        }
        json_int_t x = 0;
        for (const char *c = d; c < e; c++) {
            x = x * 10 + (*c - '0');
        }
        v = json_integer(p != d ? -x : x);
    }
    if (v) {
        *pp = e;
    }
    return v;
}

static json_t *s_parse_value(const char **pp, int depth)
{
    const char *p = *pp;
    json_t *v = NULL;
    if (depth > S_PARSE_DEPTH) {
        return NULL;
    }
    switch (*p) {
    case '{':
        v = json_object();
        p++;
        if (*p == '}') {
            p++;
            break;
        }
        for (;;) {
            const char *k;
            size_t klen;
            char *kown = NULL;
            json_t *item = NULL;
            if (*p != '"' || !s_parse_span(&p, &k, &klen, &kown) || *p++ != ':' ||
                !(item = s_parse_value(&p, depth + 1)) ||
                json_object_setn_new(v, k, klen, item) != 0) { /* not UTF-8 */
                free(kown);
                json_decref(v);
                return NULL;
            }
            free(kown);
            if (*p == '}') {
                p++;
                break;
            }
            if (*p++ != ',') {
                json_decref(v);
                return NULL;
            }
        }
        break;
    case '[':
        v = json_array();
        p++;
        if (*p == ']') {
            p++;
            break;
        }
        for (;;) {
            json_t *item = s_parse_value(&p, depth + 1);
            if (!item || json_array_append_new(v, item) != 0) {
                json_decref(v);
                return NULL;
            }
            if (*p == ']') {
                p++;
                break;
            }
            if (*p++ != ',') {
                json_decref(v);
                return NULL;
            }
        }
        break;
    case '"': {
        const char *str;
        size_t len;
        char *own;
        if (!s_parse_span(&p, &str, &len, &own)) {
            return NULL;
        }
        v = json_stringn(str, len); /* NULL when not UTF-8 */
        free(own);
        break;
    }
    case 't':
        if (strncmp(p, "true", 4) == 0) {
            v = json_true();
            p += 4;
        }
        break;
    case 'f':
        if (strncmp(p, "false", 5) == 0) {
            v = json_false();
            p += 5;
        }
        break;
    case 'n':
        if (strncmp(p, "null", 4) == 0) {
            v = json_null();
            p += 4;
        }
        break;
    default:
        return s_parse_number(pp);
    }
    if (v) {
        *pp = p;
    }
    return v;
}

/* The object the text holds (a new reference), or NULL when it holds none. */
static json_t *s_load_object(const char *text)
{
    const char *p = text;
    json_t *v = *p == '{' ? s_parse_value(&p, 0) : NULL;
    if (v && *p != '\0') {
        json_decref(v);
        v = NULL;
    }
    if (!v) {
        v = json_loads(text, 0, NULL);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static void s_fcache_put(ho_store_t *self, int64_t id, const char *text, json_t *obj)
{
    if (!self->fcache) {
        self->fcache = calloc(S_FCACHE, sizeof *self->fcache);
    }
    if (!self->fcache || !text) {
        return;
    }
    s_fcache_t *e = &self->fcache[(uint64_t)id % S_FCACHE];
    char *copy = strdup(text);
    if (!copy) {
        return;
    }
    free(e->text);
    json_decref(e->obj);
    e->id = id;
    e->text = copy;
    e->obj = json_incref(obj);
}

json_t *ho_store_lead_fields(ho_store_t *self, const ho_lead_t *lead)
{
    if (!lead->fields_json) {
        return json_object();
    }
    s_fcache_t *e = self->fcache && lead->id ? &self->fcache[(uint64_t)lead->id % S_FCACHE] : NULL;
    json_t *f = NULL;
    if (e && e->obj && e->id == lead->id && strcmp(e->text, lead->fields_json) == 0) {
        f = json_deep_copy(e->obj);
    } else {
        f = s_load_object(lead->fields_json);
    }
    if (!json_is_object(f)) {
        json_decref(f);
        f = json_object();
    }
    return f;
}

/* The documented rule, field by field (see store.h and deploy/store.yaml): merges a record's
 * fields into an existing lead's merged fields, each taken when the lead has none, or when
 * the record's source ranks higher in the field's precedence list (equal rank: the later
 * observation wins); meta records [source, observed_at] for every field taken (*trail_p, made
 * once). Returns true when a value changed. */
static bool s_merge_fields(ho_store_t *self, const json_t *fields, json_t *merged, json_t *meta,
                           const char *source, int64_t observed, json_t **trail_p)
{
    const char *key;
    json_t *val;
    bool changed = false;
    json_t *first = NULL;
    json_object_foreach((json_t *)fields, key, val)
    {
        if (s_empty(val) || strcmp(key, "email") == 0) {
            continue;
        }
        json_t *cur = json_object_get(merged, key);
        bool take = s_empty(cur);
        if (!take) {
            /* "_" is who set every field without an entry of its own (the first record):
             * keeps the merge trail small for the common single-source lead */
            json_t *m = json_object_get(meta, key);
            if (!m) {
                if (!first) {
                    first = json_object_get(meta, "_");
                }
                m = first;
            }
            const char *cur_src = json_string_value(json_array_get(m, 0));
            int64_t cur_at = json_integer_value(json_array_get(m, 1));
            /* fields without a list rank every source equal */
            const json_t *list = self->precedence ? json_object_get(self->precedence, key) : NULL;
            size_t r_in = list ? s_rank(list, source) : 0;
            size_t r_cur = list ? s_rank(list, cur_src) : 0;
            take = r_in < r_cur || (r_in == r_cur && observed >= cur_at);
        }
        if (take) {
            bool same = cur && json_equal(cur, val);
            if (!same) {
                changed = true;
            }
            /* an equal string, integer or boolean is written the same way: the value read
             * back stays (objects may list their keys in another order, reals -0.0 and 0.0) */
            if (!same || !(json_is_string(val) || json_is_integer(val) || json_is_boolean(val))) {
                json_object_set(merged, key, val); /* shared, never modified */
            }
            /* one [source, observed_at] for every field this record sets: meta is only
             * written out, never changed through it */
            if (!*trail_p) {
                *trail_p = s_trail(source, observed);
            }
            json_object_set(meta, key, *trail_p);
        }
    }
    return changed;
}

/* Original source and campaign are those of the earliest record (deploy/store.yaml),
 * whatever order the records arrive in: an earlier record replaces both, even with no
 * campaign, exactly as if it had come first (its source name stands for an original
 * source it does not name). A row without an original source (older data) is filled. The
 * lead's creation and first and last touch follow the record's observation. Returns true
 * when any of them changed. */
static bool s_origin_and_touches(ho_lead_t *lead, const json_t *fields, const char *source,
                                 int64_t observed, bool created)
{
    bool changed = false;
    const char *osrc = s_str(fields, "original_source");
    const char *camp = s_str(fields, "campaign");
    if (osrc && !osrc[0]) {
        osrc = NULL;
    }
    if (camp && !camp[0]) {
        camp = NULL;
    }
    if (created || observed < lead->created_at || !lead->original_source) {
        bool earliest = created || observed < lead->created_at;
        ho_lead_set(&lead->original_source, osrc ? osrc : source);
        ho_lead_set(&lead->source_channel, s_str(fields, "source_channel"));
        if (earliest || !lead->original_campaign) {
            ho_lead_set(&lead->original_campaign, camp);
        }
        changed = true;
    }
    if (observed < lead->created_at) {
        lead->created_at = observed;
        changed = true;
    }
    if (lead->first_touch_at == HO_NULL_INT || observed < lead->first_touch_at) {
        lead->first_touch_at = observed;
        changed = true;
    }
    if (lead->last_touch_at == HO_NULL_INT || observed > lead->last_touch_at) {
        lead->last_touch_at = observed;
        changed = true;
    }
    return changed;
}

/* The lead_sources row that says which source record (file and line, or webhook) this
 * record came from, so every lead can be traced to each export that named it. */
static int s_add_source_row(ho_store_t *self, const char *event_id, const json_t *payload,
                            int64_t lead_id, const char *source, int64_t observed, ho_err_t *err)
{
    const json_t *fields = json_object_get(payload, "fields");
    const json_t *ref = json_object_get(payload, "source_ref");
    const json_t *file = json_object_get(ref, "file");
    ho_source_row_t row = {
        .lead_id = lead_id,
        .event_id = event_id,
        .source = source,
        .source_record_id = json_object_get(fields, "source_record_id"),
        .original_source = json_object_get(fields, "original_source"),
        .campaign = json_object_get(fields, "campaign"),
        .file = file ? file : json_object_get(ref, "webhook"),
        .line = json_object_get(ref, "line"),
        .observed_at = observed,
    };
    return self->be->source_add(self->db, &row, err);
}

int ho_store_upsert_lead(ho_store_t *self, const char *event_id, const json_t *payload,
                         ho_upsert_t *res, ho_err_t *err)
{
    memset(res, 0, sizeof *res);
    const json_t *fields = json_object_get(payload, "fields");
    if (fields && !json_is_object(fields)) {
        return ho_err_set(err, HO_ERR_FIELD, "payload.fields", "payload.fields is not a map");
    }
    const char *raw_email = s_str(payload, "email");
    if (!raw_email) {
        raw_email = s_str(fields, "email");
    }
    char *email = ho_store_normalize_email(self, raw_email, err);
    if (!email) {
        snprintf(err->field, sizeof err->field, "payload.email");
        return err->code;
    }
    const char *source = s_str(payload, "source");
    if (!source || !source[0]) {
        source = "unknown";
    }
    int64_t observed = s_int(payload, "observed_at", HO_NULL_INT);
    if (observed == HO_NULL_INT) {
        observed = s_int(fields, "created_at", ho_now_ms());
    }
    int claimed = ho_store_claim_event(self, event_id, "lead.normalized", observed, err);
    if (claimed <= 0) {
        free(email);
        res->duplicate = claimed == 0;
        return claimed < 0 ? claimed : HO_OK;
    }

    ho_lead_t lead;
    ho_lead_init(&lead);
    json_t *merged = NULL, *meta = NULL;
    int rc = self->be->lead_get(self->db, email, 0, &lead, err);
    if (rc == HO_ERR_NOT_FOUND) {
        res->created = true;
        lead.email = email;
        email = NULL;
        lead.stage = strdup("ML");
        lead.created_at = lead.updated_at = observed;
        /* merged and meta stay NULL: a new lead's fields and trail are written from the
         * record below */
    } else if (rc != HO_OK) {
        free(email);
        return rc;
    } else {
        free(email);
        merged = lead.fields_json ? s_load_object(lead.fields_json) : NULL;
        meta = lead.field_sources_json ? s_load_object(lead.field_sources_json) : NULL;
        if (!merged) {
            merged = json_object();
        }
        if (!meta) {
            meta = json_object();
        }
    }

    /* a new lead takes every non-empty field of its record: written from the record below */
    bool changed = res->created;
    json_t *trail = NULL;
    if (!res->created) {
        changed = s_merge_fields(self, fields, merged, meta, source, observed, &trail);
    }

    if (s_origin_and_touches(&lead, fields, source, observed, res->created)) {
        changed = true;
    }
    if (observed > lead.updated_at) {
        lead.updated_at = observed;
    }
    s_project(&lead, res->created ? fields : merged, res->created);
    free(lead.fields_json);
    free(lead.field_sources_json);
    /* objects keep insertion order, so the same records in the same order give the same
     * text (replays compare equal) without paying for sorting */
    lead.fields_json = res->created ? s_compact_new(fields) : s_compact(merged, NULL);
    /* a new lead's trail is {"_": [source, observed_at]}: written without building it */
    lead.field_sources_json =
        res->created ? s_first_trail(source, observed) : s_compact(meta, trail);
    json_decref(meta);
    json_decref(trail);

    rc = self->be->lead_put(self->db, &lead, err);
    if (rc == HO_OK) {
        /* a rolled-back put leaves an entry whose text the stored row does not have: the
         * text check keeps it from being used */
        if (merged) { /* a new lead's fields are read back from its text when asked for */
            s_fcache_put(self, lead.id, lead.fields_json, merged);
        }
    }
    json_decref(merged);
    if (rc == HO_OK) {
        rc = s_add_source_row(self, event_id, payload, lead.id, source, observed, err);
    }
    res->lead_id = lead.id;
    res->changed = changed;
    ho_lead_clear(&lead);
    return rc;
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
        const char *text = s_str(s, "explanation_json");
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
                                       "reroute_owned",   "feedback_grace", NULL};
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
    json_t *out = json_pack("{sssss{}sIsIsIsIsbsI}", "plus_addressing", "keep", "durability",
                            "normal", "precedence", "reassign_after_ms", (json_int_t)0,
                            "rescore_interval_ms", (json_int_t)3600000, "rescore_window_ms",
                            (json_int_t)(90LL * 86400000), "rescore_limit", (json_int_t)1000,
                            "reroute_owned", 0, "feedback_grace_ms", (json_int_t)(7LL * 86400000));
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
