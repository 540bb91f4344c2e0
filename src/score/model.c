/* model.c - the scoring model (deploy/scoring.yaml): load, validate, score one lead snapshot.
 *
 * Loading checks everything a person can get wrong in the YAML and names file, line and key:
 * unknown keys, wrong types, bad regular expressions, unknown activity types, bands out of
 * order, a missing version. Scoring never fails on a lead's field values (a field of an
 * unexpected type just does not match); it fails only on a snapshot whose shape is wrong
 * (activities not an array, an activity without a time), naming the field.
 *
 * This file scores; loading and checking the YAML is model_load.c. */
#include "score/model_internal.h"

#include <math.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handoff/defaults.h"
#include "handoff/scoring.h"

const char *const ho_sm_activity_types[HO_SM_N_TYPES + 1] = {
    "email_open",   "email_click",       "page_view",   "webinar_attended", "content_download",
    "demo_request", "free_trial_signup", "unsubscribe", "form_submit",      NULL};

/* ---- small helpers ---- */

/* Index of an activity type in ho_sm_activity_types, -1 for a type the model does not know. */
int ho_sm_type_index(const char *type)
{
    for (int i = 0; i < HO_SM_N_TYPES; i++) {
        if (strcmp(ho_sm_activity_types[i], type) == 0) {
            return i;
        }
    }
    return -1;
}

void ho_sm_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

bool ho_sm_in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

/* Copy at most max bytes of in to out (which holds max + 4), never cutting a UTF-8 sequence,
 * and mark a cut with "...": explanation details go into JSON, which must be valid UTF-8. */
const char *ho_sm_clip(const char *in, size_t max, char *out)
{
    size_t n = strlen(in);
    if (n <= max) {
        memcpy(out, in, n + 1);
        return out;
    }
    n = max;
    while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80) {
        n--; /* in[n] continues a sequence: cut before the sequence starts */
    }
    memcpy(out, in, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* After a snprintf that may have truncated: drop an incomplete UTF-8 sequence at the end. */
void ho_sm_utf8_tail(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
    }
    if (i == 0) {
        return;
    }
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0xC0 && n - (i - 1) < need) {
        s[i - 1] = '\0';
    }
}

/* ---- scoring ---- */

int ho_score_round(double v)
{
    /* The tolerance keeps x.5 that pow() lands a hair below still rounding away from zero. */
    double r = v >= 0 ? floor(v + 0.5 + 1e-9) : -floor(-v + 0.5 + 1e-9);
    if (r > 1e9) {
        return 1000000000;
    }
    if (r < -1e9) {
        return -1000000000;
    }
    return (int)r;
}

static int s_hit_add(ho_score_result_t *res, size_t *cap, ho_score_hit_t **hit_p)
{
    if (res->n_hits == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        ho_score_hit_t *v = realloc(res->hits, ncap * sizeof *v);
        if (!v) {
            return HO_ERR_NOMEM;
        }
        res->hits = v;
        *cap = ncap;
    }
    *hit_p = &res->hits[res->n_hits++];
    memset(*hit_p, 0, sizeof **hit_p);
    return HO_OK;
}

/* Regular-expression results memoized per thread. glibc's regexec costs ~1-3 us a call and a
 * lead needs ~10 of them (titles, tech words, page paths), while the texts repeat heavily
 * (the same titles and paths over and over): a direct-mapped table keyed by the exact text,
 * the regex and the model's serial answers most calls with a hash and a memcmp. Exact: a hit
 * compares the whole text; texts too long for an entry always run regexec. Per thread, so a
 * model stays shareable between threads without locks. */
#define S_MEMO_N 2048
#define S_MEMO_TEXT 46
typedef struct {
    uint64_t serial;   /* model; 0 = empty entry (serials start at 1) */
    const regex_t *re; /* the rule's compiled pattern inside that model */
    uint8_t len;
    uint8_t hit;
    char text[S_MEMO_TEXT];
} s_memo_t;
static _Thread_local s_memo_t s_memo[S_MEMO_N];

static bool s_rematch(const ho_score_model_t *m, const regex_t *re, const char *text)
{
    size_t len = strlen(text);
    if (len >= S_MEMO_TEXT) {
        return regexec(re, text, 0, NULL, 0) == 0;
    }
    uint64_t h = 1469598103934665603ull ^ (m->serial * 0x9E3779B97F4A7C15ull) ^ (uintptr_t)re;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    }
    s_memo_t *e = &s_memo[(h ^ (h >> 29)) & (S_MEMO_N - 1)];
    if (e->serial == m->serial && e->re == re && e->len == len && memcmp(e->text, text, len) == 0) {
        return e->hit;
    }
    bool hit = regexec(re, text, 0, NULL, 0) == 0;
    e->serial = m->serial;
    e->re = re;
    e->len = (uint8_t)len;
    e->hit = hit;
    memcpy(e->text, text, len);
    return hit;
}

/* Text form of a field value for regex and list tests; NULL when absent or empty. */
static const char *s_text(const ho_sv_t *v, char *buf, size_t cap)
{
    switch (v ? v->kind : HO_SV_ABSENT) {
    case HO_SV_STR:
        return v->s[0] ? v->s : NULL;
    case HO_SV_INT:
        snprintf(buf, cap, "%lld", (long long)v->i);
        return buf;
    case HO_SV_REAL:
        snprintf(buf, cap, "%.15g", v->d);
        return buf;
    case HO_SV_BOOL:
        return v->b ? "true" : "false";
    default:
        return NULL;
    }
}

static const ho_sv_t *s_kv_get(const ho_score_kv_t *kv, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (kv[i].klen == len && memcmp(kv[i].key, name, len) == 0) {
            return &kv[i].v;
        }
    }
    return NULL;
}

/* lead.fields.NAME, else the lead's own NAME (lead_id, email, stage, ...); NULL if neither
 * is there or not null. */
static const ho_sv_t *s_field(const ho_score_snap_t *snap, const char *name)
{
    size_t len = strlen(name);
    const ho_sv_t *v = snap->fields_kind == HO_SV_MAP
                           ? s_kv_get(snap->fields, snap->n_fields, name, len)
                           : NULL;
    if (!v || v->kind == HO_SV_NULL) {
        v = s_kv_get(snap->top, snap->n_top, name, len);
    }
    return v && v->kind != HO_SV_NULL ? v : NULL;
}

static bool s_number(const ho_sv_t *v, double *out)
{
    if (v && (v->kind == HO_SV_INT || v->kind == HO_SV_REAL)) {
        *out = v->kind == HO_SV_INT ? (double)v->i : v->d;
        return true;
    }
    if (v && v->kind == HO_SV_STR) {
        char *end;
        const char *s = v->s;
        double d = strtod(s, &end);
        if (end != s && !*end && isfinite(d)) {
            *out = d;
            return true;
        }
    }
    return false;
}

/* Does fit rule r fire on value v of field? When detail is not NULL, says what matched. */
static bool s_fit_test(const ho_score_model_t *m, const ho_sm_fit_rule_t *r, const ho_sv_t *v,
                       const char *field, char *detail, size_t cap)
{
    char buf[64];
    /* a range test reads the number itself: no text form (snprintf of a real) needed */
    const char *t = r->test == HO_SM_RANGE ? NULL : s_text(v, buf, sizeof buf);
    double d;
    switch (r->test) {
    case HO_SM_MISSING:
        if (!t) {
            if (detail) {
                snprintf(detail, cap, "%s is missing", field);
            }
            return true;
        }
        return false;
    case HO_SM_MATCH:
        if (t && s_rematch(m, &r->re, t)) {
            if (detail) {
                snprintf(detail, cap, "%s \"%s\" matches '%s'", field,
                         ho_sm_clip(t, 60, (char[64]){0}),
                         ho_sm_clip(r->pattern, 80, (char[84]){0}));
            }
            return true;
        }
        return false;
    case HO_SM_IN:
        for (size_t i = 0; t && i < r->n_values; i++) {
            if (strcasecmp(t, r->values[i]) == 0) {
                if (detail) {
                    snprintf(detail, cap, "%s \"%s\" is in the list", field,
                             ho_sm_clip(t, 60, (char[64]){0}));
                }
                return true;
            }
        }
        return false;
    case HO_SM_EQUALS: {
        bool eq = false;
        if (r->eq_kind == HO_SM_EQ_BOOL) {
            eq = v && v->kind == HO_SV_BOOL ? v->b == r->eq_bool
                                    : (t && strcasecmp(t, r->values[0]) == 0);
        } else if (r->eq_kind == HO_SM_EQ_NUM) {
            eq = s_number(v, &d) && d == r->eq_num;
        } else {
            eq = t && strcasecmp(t, r->values[0]) == 0;
        }
        if (eq && detail) {
            snprintf(detail, cap, "%s = %s", field,
                     ho_sm_clip(t ? t : r->values[0], 60, (char[64]){0}));
        }
        return eq;
    }
    case HO_SM_RANGE:
        if (!s_number(v, &d) || (r->has_min && d < r->min) || (r->has_max && d >= r->max)) {
            return false;
        }
        if (!detail) {
            return true;
        }
        char lo[32] = "", hi[32] = "";
        if (r->has_min) {
            snprintf(lo, sizeof lo, "%.15g <= ", r->min);
        }
        if (r->has_max) {
            snprintf(hi, sizeof hi, " < %.15g", r->max);
        }
        snprintf(detail, cap, "%s%s %.15g%s", lo, field, d, hi);
        return true;
    }
    return false;
}

static int s_clamp(ho_score_result_t *res, size_t *cap, const char *kind, bool detail,
                   long long *sum, long long floor_v, long long ceil_v)
{
    ho_score_hit_t *h;
    if (*sum >= floor_v && *sum <= ceil_v) {
        return HO_OK;
    }
    if (s_hit_add(res, cap, &h) != HO_OK) {
        return HO_ERR_NOMEM;
    }
    bool low = *sum < floor_v;
    long long to = low ? floor_v : ceil_v;
    h->rule = strcmp(kind, "fit") == 0 ? (low ? "fit.floor" : "fit.ceiling")
                                       : (low ? "interest.floor" : "interest.ceiling");
    h->kind = kind;
    h->points = to - *sum;
    h->raw = 0;
    h->value = h->points;
    h->factor = 1;
    h->age_days = -1;
    if (detail) {
        snprintf(h->detail, sizeof h->detail, "%s %lld is %s the %s: %s %lld", kind, *sum,
                 low ? "below" : "above", low ? "floor" : "ceiling", low ? "raised to" : "cut to",
                 to);
    }
    *sum = to;
    return HO_OK;
}

typedef struct {
    const ho_score_act_t *a;
    const char *type;
    size_t index;
    int64_t at;
} s_act_t;

static int s_act_cmp(const void *x, const void *y)
{
    const s_act_t *a = x, *b = y;
    if (a->at != b->at) {
        return a->at < b->at ? -1 : 1;
    }
    /* the snapshot is newest first: among equal times, the later index happened first */
    return a->index > b->index ? -1 : a->index < b->index ? 1 : 0;
}

static bool s_re_field(const ho_score_model_t *m, const regex_t *re, const ho_sv_t *v)
{
    return v->kind == HO_SV_STR && s_rematch(m, re, v->s);
}

static double s_factor(const ho_score_model_t *m, const ho_sm_int_rule_t *r, int64_t age_ms)
{
    if (!r->decay || m->decay == HO_SM_DECAY_NONE) {
        return 1.0;
    }
    if (m->decay == HO_SM_DECAY_HALF_LIFE) {
        return pow(0.5, ((double)age_ms / (double)HO_DAY_MS) / m->half_life_days);
    }
    int64_t periods = age_ms / (m->every_days * HO_DAY_MS);
    return pow(1.0 - m->percent / 100.0, (double)periods);
}

/* The activities of the snapshot inside [as_of - window, as_of], checked, into v (oldest
 * first); counts the others in res. */
static int s_acts_in_window(const ho_score_model_t *m, const ho_score_act_t *acts, size_t n,
                            int64_t as_of, s_act_t *v, size_t *k_p, ho_score_result_t *res,
                            ho_err_t *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const ho_score_act_t *a = &acts[i];
        char field[96];
        const ho_sv_t *at = &a->occurred_at, *type = &a->type;
        if (!a->is_map) {
            snprintf(field, sizeof field, "lead.activities[%zu]", i);
            return ho_err_set(err, HO_ERR_FIELD, field, "%s: expected an activity (a map)", field);
        }
        if (at->kind != HO_SV_INT) {
            bool there = at->kind != HO_SV_ABSENT;
            snprintf(field, sizeof field, "lead.activities[%zu].occurred_at", i);
            return ho_err_set(err, there ? HO_ERR_FIELD : HO_ERR_MISSING, field,
                              "%s: %s (ms since the epoch)", field,
                              there ? "expected an integer" : "missing");
        }
        if (type->kind != HO_SV_STR) {
            snprintf(field, sizeof field, "lead.activities[%zu].type", i);
            return ho_err_set(err, type->kind != HO_SV_ABSENT ? HO_ERR_FIELD : HO_ERR_MISSING,
                              field, "%s: expected the activity type (a string)", field);
        }
        int64_t t = at->i;
        if (t < 0) {
            snprintf(field, sizeof field, "lead.activities[%zu].occurred_at", i);
            return ho_err_set(err, HO_ERR_FIELD, field,
                              "%s: expected ms since the epoch (not negative)", field);
        }
        if (t > as_of) {
            res->future++;
        } else if (m->window_ms > 0 && as_of - t > m->window_ms) {
            res->out_of_window++;
        } else {
            v[k++] = (s_act_t){.a = a, .index = i, .at = t, .type = type->s};
        }
    }
    qsort(v, k, sizeof *v, s_act_cmp);
    *k_p = k;
    return HO_OK;
}

/* The text a person reads for one interest firing (only made when asked for). */
static void s_interest_detail(ho_score_hit_t *h, const ho_sm_int_rule_t *ru, const s_act_t *act)
{
    time_t secs = (time_t)(act->at / 1000);
    struct tm tm;
    char date[24];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%MZ", &tm);
    const char *path = act->a->path.kind == HO_SV_STR ? act->a->path.s : NULL;
    if (path && !path[0]) {
        path = NULL;
    }
    char pbuf[84];
    if (h->factor == 1.0) {
        snprintf(h->detail, sizeof h->detail, "%s%s%s at %s (%.2f d old)%s", act->type,
                 path ? " " : "", path ? ho_sm_clip(path, 80, pbuf) : "", date, h->age_days,
                 ru->decay ? "" : ", no decay");
    } else {
        snprintf(h->detail, sizeof h->detail, "%s%s%s at %s (%.2f d old): %d x %.4f = %.2f -> %lld",
                 act->type, path ? " " : "", path ? ho_sm_clip(path, 80, pbuf) : "", date,
                 h->age_days, h->raw, h->factor, h->value, h->points);
    }
    ho_sm_utf8_tail(h->detail);
}

/* Does interest rule ru fire on activity act (of type index ti)? */
static bool s_int_match(const ho_score_model_t *m, const ho_sm_int_rule_t *ru, const s_act_t *act,
                        int ti)
{
    if (ru->type_mask && (ti < 0 || !(ru->type_mask & (1u << ti)))) {
        return false;
    }
    return (!ru->has_path || s_re_field(m, &ru->path, &act->a->path)) &&
           (!ru->has_url || s_re_field(m, &ru->url, &act->a->url)) &&
           (!ru->has_campaign || s_re_field(m, &ru->campaign, &act->a->campaign));
}

/* Per-call counters, on the stack for the usual model sizes (no malloc per lead). */
#define S_SMALL 64

static int s_interest(const ho_score_model_t *m, const ho_score_snap_t *snap, int64_t as_of,
                      bool detail, ho_score_result_t *res, size_t *cap, long long *sum,
                      ho_err_t *err)
{
    size_t n = snap->acts_kind == HO_SV_ARRAY ? snap->n_acts : 0;
    if (n > HO_SM_MAX_ACTIVITIES || (n && !snap->acts)) {
        return ho_err_set(err, HO_ERR_TOO_LARGE, "lead.activities",
                          "lead.activities: %zu activities, at most %d are scored", n,
                          HO_SM_MAX_ACTIVITIES);
    }
    s_act_t v_small[S_SMALL];
    long long cap_small[S_SMALL], rule_small[S_SMALL];
    bool group_small[S_SMALL];
    s_act_t *v = n <= S_SMALL ? v_small : calloc(n, sizeof *v);
    long long *cap_count = m->n_caps <= S_SMALL ? cap_small : calloc(m->n_caps, sizeof *cap_count);
    long long *rule_count = m->n_int <= S_SMALL ? rule_small : calloc(m->n_int, sizeof *rule_count);
    bool *group_done = m->n_groups <= S_SMALL ? group_small : calloc(m->n_groups, sizeof(bool));
    size_t k = 0;
    int rc = (v && cap_count && rule_count && group_done)
                 ? s_acts_in_window(m, snap->acts, n, as_of, v, &k, res, err)
                 : ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    int64_t day = INT64_MIN;
    for (size_t i = 0; rc == HO_OK && i < k; i++) {
        int64_t d = v[i].at / HO_DAY_MS; /* at >= 0 (checked) */
        if (d != day) {
            day = d;
            memset(cap_count, 0, m->n_caps * sizeof *cap_count);
            memset(rule_count, 0, m->n_int * sizeof *rule_count);
        }
        int ti = ho_sm_type_index(v[i].type);
        int c = ti >= 0 ? m->cap_of_type[ti] : -1;
        if (c >= 0 && cap_count[c]++ >= m->cap_n[c]) {
            res->capped++;
            continue;
        }
        res->counted++;
        memset(group_done, 0, m->n_groups * sizeof *group_done);
        for (size_t r = 0; rc == HO_OK && r < m->n_int; r++) {
            const ho_sm_int_rule_t *ru = &m->irules[r];
            if ((ru->group >= 0 && group_done[ru->group]) || !s_int_match(m, ru, &v[i], ti)) {
                continue;
            }
            if (ru->group >= 0) {
                group_done[ru->group] = true;
            }
            if (ru->max_per_day && rule_count[r] >= ru->max_per_day) {
                continue;
            }
            rule_count[r]++;
            ho_score_hit_t *h;
            if (s_hit_add(res, cap, &h) != HO_OK) {
                rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
                break;
            }
            int64_t age_ms = as_of - v[i].at;
            h->rule = ru->name;
            h->kind = "interest";
            h->raw = (int)ru->points;
            h->factor = s_factor(m, ru, age_ms);
            h->value = (double)ru->points * h->factor;
            h->points = ho_score_round(h->value);
            h->age_days = (double)age_ms / (double)HO_DAY_MS;
            h->occurred_at = v[i].at;
            if (detail) {
                s_interest_detail(h, ru, &v[i]);
            }
            *sum += h->points;
        }
    }
    if (v != v_small) {
        free(v);
    }
    if (cap_count != cap_small) {
        free(cap_count);
    }
    if (rule_count != rule_small) {
        free(rule_count);
    }
    if (group_done != group_small) {
        free(group_done);
    }
    return rc;
}

void ho_score_result_clear(ho_score_result_t *res)
{
    if (res) {
        free(res->hits);
        memset(res, 0, sizeof *res);
    }
}

/* The fit rules: hits in model order, their sum in *fit. */
static int s_fit(const ho_score_model_t *m, const ho_score_snap_t *snap, bool detail,
                 ho_score_result_t *res, size_t *cap, long long *fit, ho_err_t *err)
{
    bool group_small[S_SMALL];
    bool *group_done = m->n_groups <= S_SMALL ? group_small : calloc(m->n_groups, sizeof(bool));
    if (!group_done) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    memset(group_done, 0, m->n_groups * sizeof *group_done);
    int rc = HO_OK;
    for (size_t i = 0; rc == HO_OK && i < m->n_fit; i++) {
        const ho_sm_fit_rule_t *r = &m->fit[i];
        if (r->group >= 0 && group_done[r->group]) {
            continue;
        }
        char text[sizeof res->hits[0].detail];
        char *dt = detail ? text : NULL;
        bool fired = false;
        for (size_t f = 0; f < r->n_fields && !fired; f++) {
            fired = s_fit_test(m, r, s_field(snap, r->fields[f]), r->fields[f], dt, sizeof text);
        }
        if (!fired) {
            continue;
        }
        if (r->group >= 0) {
            group_done[r->group] = true;
        }
        ho_score_hit_t *h;
        if (s_hit_add(res, cap, &h) != HO_OK) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
            break;
        }
        h->rule = r->name;
        h->kind = "fit";
        h->raw = (int)r->points;
        h->points = r->points;
        h->value = (double)r->points;
        h->factor = 1;
        h->age_days = -1;
        if (r->disqualify) {
            res->disqualified = true;
        }
        if (detail) {
            ho_sm_utf8_tail(text);
            if (r->disqualify) {
                snprintf(h->detail, sizeof h->detail, "%s (disqualifies)",
                         ho_sm_clip(text, 170, (char[174]){0}));
            } else {
                memcpy(h->detail, text, sizeof h->detail);
            }
            ho_sm_utf8_tail(h->detail);
        }
        *fit += h->points;
    }
    if (group_done != group_small) {
        free(group_done);
    }
    return rc;
}

int ho_score_lead(const ho_score_model_t *m, const json_t *lead, int64_t as_of,
                  ho_score_result_t *res, ho_err_t *err)
{
    return ho_score_lead_opt(m, lead, as_of, HO_SCORE_DETAIL, res, err);
}

int ho_score_lead_opt(const ho_score_model_t *m, const json_t *lead, int64_t as_of, unsigned flags,
                      ho_score_result_t *res, ho_err_t *err)
{
    if (!json_is_object(lead)) {
        memset(res, 0, sizeof *res);
        res->model_version = m->version;
        res->as_of = as_of;
        res->quadrant = "never";
        return ho_err_set(err, HO_ERR_FIELD, "lead", "lead: expected the lead snapshot (a map)");
    }
    ho_score_snap_t snap;
    ho_sm_jview_t mem;
    int rc = ho_sm_snap_from_json(lead, &snap, &mem);
    if (rc == HO_OK) {
        rc = ho_score_snap(m, &snap, as_of, flags, res, err);
    } else {
        memset(res, 0, sizeof *res);
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    ho_sm_jview_free(&mem);
    return rc;
}

int ho_score_snap(const ho_score_model_t *m, const ho_score_snap_t *snap, int64_t as_of,
                  unsigned flags, ho_score_result_t *res, ho_err_t *err)
{
    bool detail = flags & HO_SCORE_DETAIL;
    memset(res, 0, sizeof *res);
    res->model_version = m->version;
    res->as_of = as_of;
    res->quadrant = "never";
    if (snap->fields_kind != HO_SV_ABSENT && snap->fields_kind != HO_SV_NULL &&
        snap->fields_kind != HO_SV_MAP) {
        return ho_err_set(err, HO_ERR_FIELD, "lead.fields", "lead.fields: expected a map");
    }
    if (snap->acts_kind != HO_SV_ABSENT && snap->acts_kind != HO_SV_NULL &&
        snap->acts_kind != HO_SV_ARRAY) {
        return ho_err_set(err, HO_ERR_FIELD, "lead.activities",
                          "lead.activities: expected an array");
    }
    size_t cap = 0;
    long long fit = 0, interest = 0;
    int rc = s_fit(m, snap, detail, res, &cap, &fit, err);
    if (rc == HO_OK) {
        rc = s_clamp(res, &cap, "fit", detail, &fit, m->fit_floor, m->fit_ceiling);
        if (rc != HO_OK) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        }
    }
    res->activities = snap->acts_kind == HO_SV_ARRAY ? snap->n_acts : 0;
    if (rc == HO_OK) {
        rc = s_interest(m, snap, as_of, detail, res, &cap, &interest, err);
    }
    if (rc == HO_OK &&
        s_clamp(res, &cap, "interest", detail, &interest, m->int_floor, m->int_ceiling)) {
        rc = ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    if (rc != HO_OK) {
        return rc;
    }
    res->fit = (int)fit;
    res->interest = (int)interest;
    res->score = (int)(fit + interest);
    res->grade[0] = fit >= m->fit_bands[0]   ? 'A'
                    : fit >= m->fit_bands[1] ? 'B'
                    : fit >= m->fit_bands[2] ? 'C'
                                             : 'D';
    res->grade[1] = interest >= m->int_bands[0]   ? '1'
                    : interest >= m->int_bands[1] ? '2'
                    : interest >= m->int_bands[2] ? '3'
                                                  : '4';
    res->grade[2] = '\0';
    bool good = fit >= m->good_fit, high = interest >= m->high_interest;
    unsigned q = good && high ? 0 : high ? 1 : good ? 2 : 3;
    res->quadrant = s_quadrants[q];
    bool mql = !res->disqualified;
    if (m->mql_quadrants) {
        mql = mql && (m->mql_quadrants & (1u << q));
    }
    mql = mql && (!m->has_min_fit || fit >= m->min_fit);
    mql = mql && (!m->has_min_interest || interest >= m->min_interest);
    mql = mql && (!m->has_min_score || res->score >= m->min_score);
    res->mql = mql;
    return HO_OK;
}

/* Display-only rounding for the JSON explanation (the totals are already integers). */
static double s_round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

json_t *ho_score_explanation_json(const ho_score_result_t *res)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < res->n_hits; i++) {
        const ho_score_hit_t *h = &res->hits[i];
        json_t *e = json_pack("{sssssIss}", "rule", h->rule, "kind", h->kind, "points",
                              (json_int_t)h->points, "detail", h->detail);
        if (e && h->occurred_at) {
            json_object_set_new(e, "raw", json_integer(h->raw));
            json_object_set_new(e, "factor", json_real(s_round_to(h->factor, 1e-6)));
            json_object_set_new(e, "value", json_real(s_round_to(h->value, 1e-6)));
            json_object_set_new(e, "age_days", json_real(s_round_to(h->age_days, 1e-4)));
            json_object_set_new(e, "occurred_at", json_integer(h->occurred_at));
        }
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *ho_score_explanation_compact(const ho_score_result_t *res)
{
    /* one entry per rule: rules are few (tens), so a linear search by name pointer (rule
     * names are the model's own strings) is cheaper than any table */
    json_t *arr = json_array();
    const char *seen_small[S_SMALL];
    json_t *ent_small[S_SMALL];
    const char **seen = res->n_hits <= S_SMALL ? seen_small : calloc(res->n_hits, sizeof *seen);
    json_t **ent = res->n_hits <= S_SMALL ? ent_small : calloc(res->n_hits, sizeof *ent);
    size_t n = 0;
    bool ok = arr && seen && ent;
    for (size_t i = 0; ok && i < res->n_hits; i++) {
        const ho_score_hit_t *h = &res->hits[i];
        size_t j = 0;
        while (j < n && seen[j] != h->rule) {
            j++;
        }
        if (j == n) {
            json_t *e = json_object();
            ok = e && json_object_set_new_nocheck(e, "rule", json_string(h->rule)) == 0 &&
                 json_object_set_new_nocheck(e, "points", json_integer(h->points)) == 0 &&
                 json_array_append_new(arr, e) == 0;
            if (ok && h->age_days >= 0) { /* an activity's firing (clamps have -1) */
                ok = json_object_set_new_nocheck(e, "n", json_integer(1)) == 0 &&
                     json_object_set_new_nocheck(e, "raw", json_integer(h->raw)) == 0 &&
                     json_object_set_new_nocheck(e, "last", json_integer(h->occurred_at)) == 0;
            }
            seen[n] = h->rule;
            ent[n++] = e;
            continue;
        }
        /* a rule fires again (interest rules only): add up; hits run oldest first */
        json_t *e = ent[j];
        json_t *pts = json_object_get(e, "points"), *cnt = json_object_get(e, "n");
        ok = json_integer_set(pts, json_integer_value(pts) + h->points) == 0 && cnt &&
             json_integer_set(cnt, json_integer_value(cnt) + 1) == 0 &&
             json_object_set_new_nocheck(e, "last", json_integer(h->occurred_at)) == 0;
    }
    if (seen != seen_small) {
        free(seen);
    }
    if (ent != ent_small) {
        free(ent);
    }
    if (!ok) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

const char *ho_score_entry_kind(const json_t *e)
{
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *rule = json_string_value(json_object_get(e, "rule"));
    if (kind) {
        return kind;
    }
    return json_object_get(e, "n") || (rule && strncmp(rule, "interest.", 9) == 0) ? "interest"
                                                                                   : "fit";
}

char *ho_score_explain_entry(const json_t *e, int64_t as_of, char *buf, size_t cap)
{
    const char *rule = json_string_value(json_object_get(e, "rule"));
    const json_t *n = json_object_get(e, "n");
    long long points = json_integer_value(json_object_get(e, "points"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    const char *kind = ho_score_entry_kind(e);
    rule = rule ? rule : "?";
    if (detail || !json_is_integer(n)) {
        snprintf(buf, cap, "%-8s %+5lld  %s%s%s", kind, points, rule, detail ? ": " : "",
                 detail ? detail : "");
        return buf;
    }
    long long count = json_integer_value(n), raw = json_integer_value(json_object_get(e, "raw"));
    int64_t last = json_integer_value(json_object_get(e, "last"));
    time_t secs = (time_t)(last / 1000);
    struct tm tm;
    char date[24] = "?", age[48] = "";
    if (last > 0 && gmtime_r(&secs, &tm)) {
        strftime(date, sizeof date, "%Y-%m-%dT%H:%MZ", &tm);
    }
    if (as_of > 0 && last > 0 && as_of >= last) {
        snprintf(age, sizeof age, ", %.1f d before the score", (double)(as_of - last) / HO_DAY_MS);
    }
    bool decayed = points != count * raw;
    snprintf(buf, cap, "%-8s %+5lld  %s: %lld x %lld point%s%s (newest %s%s)", kind, points, rule,
             count, raw, raw == 1 || raw == -1 ? "" : "s", decayed ? ", decayed" : "", date, age);
    return buf;
}

int ho_score_result_to_payload(const ho_score_result_t *res, json_t *p)
{
    json_t *ex = ho_score_explanation_compact(res);
    if (!ex) {
        return HO_ERR_NOMEM;
    }
    json_object_set_new(p, "as_of", json_integer(res->as_of));
    json_object_set_new(p, "model_version", json_string(res->model_version));
    json_object_set_new(p, "fit", json_integer(res->fit));
    json_object_set_new(p, "interest", json_integer(res->interest));
    json_object_set_new(p, "score", json_integer(res->score));
    json_object_set_new(p, "grade", json_string(res->grade));
    json_object_set_new(p, "quadrant", json_string(res->quadrant));
    json_object_set_new(p, "mql", json_boolean(res->mql));
    json_object_set_new(p, "explanation", ex);
    return HO_OK;
}

static int s_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

/* A constant key, header and bytes in one write when it is a fixstr (under 32 bytes). */
static int s_key(msgpack_packer *pk, const char *k, size_t n)
{
    if (n >= 32) {
        return msgpack_pack_str_with_body(pk, k, n);
    }
    char buf[32];
    buf[0] = (char)(0xa0 | n);
    memcpy(buf + 1, k, n);
    return pk->callback(pk->data, buf, n + 1);
}
#define S_KEY(pk, k) s_key((pk), (k), sizeof(k) - 1)

/* One entry of the compact explanation, added up as ho_score_explanation_compact does. */
typedef struct {
    const char *rule;
    long long points, n;
    int raw;
    int64_t last;
    bool interest; /* has n, raw, last */
} s_entry_t;

int ho_score_result_pack(const ho_score_result_t *res, msgpack_packer *pk)
{
    s_entry_t small[S_SMALL];
    s_entry_t *ent = res->n_hits <= S_SMALL ? small : calloc(res->n_hits, sizeof *ent);
    if (!ent) {
        return HO_ERR_NOMEM;
    }
    size_t n = 0;
    int rc = HO_OK;
    for (size_t i = 0; rc == HO_OK && i < res->n_hits; i++) {
        const ho_score_hit_t *h = &res->hits[i];
        size_t j = 0;
        while (j < n && ent[j].rule != h->rule) {
            j++;
        }
        if (j == n) {
            bool interest = h->age_days >= 0; /* an activity's firing (clamps have -1) */
            ent[n++] = (s_entry_t){.rule = h->rule,
                                   .points = h->points,
                                   .n = 1,
                                   .raw = h->raw,
                                   .last = h->occurred_at,
                                   .interest = interest};
        } else if (ent[j].interest) {
            ent[j].points += h->points;
            ent[j].n++;
            ent[j].last = h->occurred_at;
        } else {
            rc = HO_ERR_NOMEM; /* as the jansson form: a fit rule or a clamp fires once */
        }
    }
    if (rc == HO_OK) {
        int e = 0; /* a packer write failed: out of memory */
        e |= S_KEY(pk, "as_of");
        e |= msgpack_pack_int64(pk, res->as_of);
        e |= S_KEY(pk, "model_version");
        e |= s_pack_str(pk, res->model_version);
        e |= S_KEY(pk, "fit");
        e |= msgpack_pack_int64(pk, res->fit);
        e |= S_KEY(pk, "interest");
        e |= msgpack_pack_int64(pk, res->interest);
        e |= S_KEY(pk, "score");
        e |= msgpack_pack_int64(pk, res->score);
        e |= S_KEY(pk, "grade");
        e |= s_pack_str(pk, res->grade);
        e |= S_KEY(pk, "quadrant");
        e |= s_pack_str(pk, res->quadrant);
        e |= S_KEY(pk, "mql");
        if (res->mql) {
            e |= msgpack_pack_true(pk);
        } else {
            e |= msgpack_pack_false(pk);
        }
        e |= S_KEY(pk, "explanation");
        e |= msgpack_pack_array(pk, n);
        for (size_t j = 0; j < n; j++) {
            const s_entry_t *x = &ent[j];
            e |= msgpack_pack_map(pk, x->interest ? 5 : 2);
            e |= S_KEY(pk, "rule");
            e |= s_pack_str(pk, x->rule);
            e |= S_KEY(pk, "points");
            e |= msgpack_pack_int64(pk, x->points);
            if (x->interest) {
                e |= S_KEY(pk, "n");
                e |= msgpack_pack_int64(pk, x->n);
                e |= S_KEY(pk, "raw");
                e |= msgpack_pack_int64(pk, x->raw);
                e |= S_KEY(pk, "last");
                e |= msgpack_pack_int64(pk, x->last);
            }
        }
        rc = e ? HO_ERR_NOMEM : HO_OK;
    }
    if (ent != small) {
        free(ent);
    }
    return rc;
}
