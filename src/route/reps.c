/* reps.c - the sales team as a CSV (the sales_reps.csv layout), read with libcsv.
 *
 * Columns are found by header name, so their order does not matter and extra columns are
 * ignored. Every error names the file, the physical line of the record and the column. */
#include "route/route_internal.h"

#include "handoff/time.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
    C_REP_ID,
    C_NAME,
    C_EMAIL,
    C_REGION,
    C_COUNTRIES,
    C_US_STATES,
    C_SEGMENTS,
    C_EMP_MIN,
    C_EMP_MAX,
    C_WEEKLY,
    C_TIMEZONE,
    C_OOO,
    C_OOO_START,
    C_OOO_END,
    C_BACKUP,
    C_WEIGHT,
    C_ACTIVE,
    C_DAILY,
    C_HOURS,
    C_COUNT
};

static const char *const s_columns[C_COUNT] = {
    "rep_id",    "name",          "email",          "region",        "countries",
    "us_states", "segments",      "employee_min",   "employee_max",  "weekly_capacity",
    "timezone",  "out_of_office", "ooo_start",      "ooo_end",       "backup_rep_id",
    "weight",    "active",        "daily_capacity", "working_hours",
};

typedef struct {
    const char *name; /* file name for messages */
    char **fields;    /* current record */
    size_t n, cap;
    int line;     /* current physical line */
    int rec_line; /* line the current record started on */
    bool header_done;
    int col[C_COUNT]; /* index of each known column in the header, -1 if absent */
    size_t header_n;
    ho_rt_rep_t *reps;
    size_t n_reps, cap_reps;
    int rc;
    ho_err_t *err;
    bool oom;
} s_parser_t;

void ho_rt_strs_free(ho_rt_strs_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

bool ho_rt_strs_has(const ho_rt_strs_t *s, const char *value)
{
    if (!value) {
        return false;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcasecmp(s->v[i], value) == 0) {
            return true;
        }
    }
    return false;
}

bool ho_rt_parse_day(const char *text, int64_t *day_p)
{
    int y, m, d;
    char tail;
    if (!text || sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
        d < 1 || d > 31 || y < 1970 || y > 9999) {
        return false;
    }
    if (!ho_civil_valid(y, m, d)) { /* 2026-02-31 */
        return false;
    }
    *day_p = ho_days_from_civil(y, m, d);
    return true;
}

static void s_field(void *s, size_t len, void *data)
{
    s_parser_t *p = data;
    if (p->oom) {
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        char **grown = realloc(p->fields, cap * sizeof *grown);
        if (!grown) {
            p->oom = true;
            return;
        }
        p->fields = grown;
        p->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        p->oom = true;
        return;
    }
    if (len) {
        memcpy(copy, s, len);
    }
    copy[len] = '\0';
    p->fields[p->n++] = copy;
}

static void s_clear_fields(s_parser_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->fields[i]);
    }
    p->n = 0;
}

static const char *s_get(s_parser_t *p, int c)
{
    int i = p->col[c];
    if (i < 0 || (size_t)i >= p->n) {
        return "";
    }
    return p->fields[i];
}

static int s_fail(s_parser_t *p, int c, const char *fmt, const char *value)
{
    char msg[160];
    snprintf(msg, sizeof msg, fmt, value);
    p->rc = ho_err_set(p->err, HO_ERR_CONFIG, s_columns[c], "%s:%d: %s: %s", p->name, p->rec_line,
                       s_columns[c], msg);
    return p->rc;
}

static int s_int(s_parser_t *p, int c, long long empty, long long *out)
{
    const char *v = s_get(p, c);
    if (!v[0]) {
        *out = empty;
        return HO_OK;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < 0 || x > INT_MAX) {
        return s_fail(p, c, "expected a whole number >= 0, got \"%.40s\"", v);
    }
    *out = x;
    return HO_OK;
}

static int s_bool(s_parser_t *p, int c, bool empty, bool *out)
{
    const char *v = s_get(p, c);
    if (!v[0]) {
        *out = empty;
    } else if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
        *out = true;
    } else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
        *out = false;
    } else {
        return s_fail(p, c, "expected TRUE or FALSE, got \"%.40s\"", v);
    }
    return HO_OK;
}

/* "GB;IE" -> {"GB", "IE"}, trimmed, empty items skipped. */
static int s_list(s_parser_t *p, int c, bool upper, ho_rt_strs_t *out)
{
    const char *v = s_get(p, c);
    const char *s = v;
    while (*s) {
        const char *e = strchr(s, ';');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        while (len && isspace((unsigned char)s[len - 1])) {
            len--;
        }
        if (len) {
            char **grown = realloc(out->v, (out->n + 1) * sizeof *grown);
            char *item = grown ? strndup(s, len) : NULL;
            if (grown) {
                out->v = grown;
            }
            if (!item) {
                p->oom = true;
                return HO_ERR_NOMEM;
            }
            for (char *q = item; upper && *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            out->v[out->n++] = item;
        }
        if (!e) {
            break;
        }
        s = e + 1;
    }
    return HO_OK;
}

static void s_rep_free(ho_rt_rep_t *r)
{
    free(r->rep_id);
    free(r->name);
    free(r->email);
    free(r->region);
    free(r->timezone);
    free(r->backup);
    ho_tz_destroy(&r->tz);
    free(r->hours);
    ho_rt_strs_free(&r->countries);
    ho_rt_strs_free(&r->states);
    ho_rt_strs_free(&r->segments);
}

void ho_rt_reps_free(ho_rt_rep_t *reps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_rep_free(&reps[i]);
    }
    free(reps);
}

static int s_header(s_parser_t *p)
{
    for (int c = 0; c < C_COUNT; c++) {
        p->col[c] = -1;
    }
    for (size_t i = 0; i < p->n; i++) {
        char *h = p->fields[i];
        /* tolerate a UTF-8 byte-order mark and stray spaces around names */
        if (i == 0 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
            (unsigned char)h[2] == 0xBF) {
            memmove(h, h + 3, strlen(h + 3) + 1);
        }
        for (int c = 0; c < C_COUNT; c++) {
            if (strcasecmp(h, s_columns[c]) == 0) {
                if (p->col[c] >= 0) {
                    p->rec_line = 1;
                    return s_fail(p, c, "column appears twice in the header%s", "");
                }
                p->col[c] = (int)i;
            }
        }
    }
    p->header_n = p->n;
    for (int c = C_REP_ID; c <= C_EMAIL; c++) {
        if (p->col[c] < 0) {
            p->rc = ho_err_set(p->err, HO_ERR_CONFIG, s_columns[c],
                               "%s:1: %s: required column missing from the header", p->name,
                               s_columns[c]);
            return p->rc;
        }
    }
    return HO_OK;
}

static int s_record(s_parser_t *p)
{
    if (p->n != p->header_n) {
        p->rc = ho_err_set(p->err, HO_ERR_CONFIG, "", "%s:%d: expected %zu columns, found %zu",
                           p->name, p->rec_line, p->header_n, p->n);
        return p->rc;
    }
    if (p->n_reps == p->cap_reps) {
        size_t cap = p->cap_reps ? p->cap_reps * 2 : 16;
        ho_rt_rep_t *grown = realloc(p->reps, cap * sizeof *grown);
        if (!grown) {
            p->oom = true;
            return HO_ERR_NOMEM;
        }
        p->reps = grown;
        p->cap_reps = cap;
    }
    ho_rt_rep_t *r = &p->reps[p->n_reps++];
    memset(r, 0, sizeof *r);
    r->line = p->rec_line;
    if (!s_get(p, C_REP_ID)[0]) {
        return s_fail(p, C_REP_ID, "a rep needs an id%s", "");
    }
    for (size_t i = 0; i + 1 < p->n_reps; i++) {
        if (strcmp(p->reps[i].rep_id, s_get(p, C_REP_ID)) == 0) {
            char why[64];
            snprintf(why, sizeof why, "duplicate rep id \"%%.20s\" (first on line %d)",
                     p->reps[i].line);
            return s_fail(p, C_REP_ID, why, s_get(p, C_REP_ID));
        }
    }
    r->rep_id = strdup(s_get(p, C_REP_ID));
    r->name = strdup(s_get(p, C_NAME));
    r->email = strdup(s_get(p, C_EMAIL));
    r->region = strdup(s_get(p, C_REGION));
    r->timezone = strdup(s_get(p, C_TIMEZONE));
    r->backup = strdup(s_get(p, C_BACKUP));
    if (!r->rep_id || !r->name || !r->email || !r->region || !r->timezone || !r->backup) {
        p->oom = true;
        return HO_ERR_NOMEM;
    }
    int rc;
    if ((rc = s_list(p, C_COUNTRIES, true, &r->countries)) ||
        (rc = s_list(p, C_US_STATES, true, &r->states)) ||
        (rc = s_list(p, C_SEGMENTS, false, &r->segments)) ||
        (rc = s_int(p, C_EMP_MIN, -1, &r->emp_min)) ||
        (rc = s_int(p, C_EMP_MAX, -1, &r->emp_max)) ||
        (rc = s_int(p, C_WEEKLY, -1, &r->weekly_capacity)) ||
        (rc = s_int(p, C_DAILY, -1, &r->daily_capacity)) ||
        (rc = s_int(p, C_WEIGHT, 1, &r->weight)) || (rc = s_bool(p, C_OOO, false, &r->ooo_flag)) ||
        (rc = s_bool(p, C_ACTIVE, true, &r->active))) {
        return rc;
    }
    ho_err_t tz_err = {0};
    if (!(r->tz = ho_tz_load(r->timezone, &tz_err))) {
        p->rc = ho_err_set(p->err, tz_err.code, s_columns[C_TIMEZONE], "%s:%d: timezone: %s",
                           p->name, p->rec_line, tz_err.message);
        return p->rc;
    }
    const char *hours = s_get(p, C_HOURS);
    r->own_hours = strspn(hours, " \t") < strlen(hours);
    if (r->own_hours) {
        char why[160];
        rc = ho_rt_hours_parse(hours, &r->hours, why, sizeof why);
        if (rc == HO_ERR_NOMEM) {
            p->oom = true;
            return rc;
        }
        if (rc != HO_OK) {
            p->rc = ho_err_set(p->err, HO_ERR_CONFIG, s_columns[C_HOURS], "%s:%d: %s: %s", p->name,
                               p->rec_line, s_columns[C_HOURS], why);
            return p->rc;
        }
    }
    r->all_segments = r->segments.n == 0 || ho_rt_strs_has(&r->segments, "All");
    if (r->emp_min >= 0 && r->emp_max >= 0 && r->emp_max < r->emp_min) {
        return s_fail(p, C_EMP_MAX, "employee_max %.20s is below employee_min",
                      s_get(p, C_EMP_MAX));
    }
    const char *st = s_get(p, C_OOO_START), *en = s_get(p, C_OOO_END);
    r->ooo_start_day = INT64_MIN;
    r->ooo_end_day = INT64_MAX;
    if (st[0] && !ho_rt_parse_day(st, &r->ooo_start_day)) {
        return s_fail(p, C_OOO_START, "expected a date YYYY-MM-DD, got \"%.40s\"", st);
    }
    if (en[0] && !ho_rt_parse_day(en, &r->ooo_end_day)) {
        return s_fail(p, C_OOO_END, "expected a date YYYY-MM-DD, got \"%.40s\"", en);
    }
    if (st[0] && en[0] && r->ooo_end_day < r->ooo_start_day) {
        return s_fail(p, C_OOO_END, "absence ends (%.20s) before it starts", en);
    }
    r->has_ooo_dates = st[0] || en[0];
    snprintf(r->ooo_start, sizeof r->ooo_start, "%s", st);
    snprintf(r->ooo_end, sizeof r->ooo_end, "%s", en);
    return HO_OK;
}

static void s_end_record(int c, void *data)
{
    s_parser_t *p = data;
    (void)c;
    if (p->rc == HO_OK && !p->oom) {
        if (!p->header_done) {
            p->header_done = true;
            s_header(p);
        } else {
            s_record(p);
        }
    }
    s_clear_fields(p);
}

int ho_rt_reps_parse(const char *text, size_t len, const char *name, ho_rt_rep_t **reps_p,
                     size_t *n_p, ho_err_t *err)
{
    s_parser_t p = {.name = name, .line = 1, .rec_line = 1, .err = err};
    struct csv_parser csv;
    if (csv_init(&csv, CSV_APPEND_NULL) != 0) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "%s: cannot start the CSV parser", name);
    }
    bool at_start = true;
    /* Byte by byte so each record knows the physical line it starts on (quoted fields may
     * span lines); rep files are small. */
    for (size_t i = 0; i < len && p.rc == HO_OK && !p.oom; i++) {
        char ch = text[i];
        if (at_start && ch != '\r' && ch != '\n') {
            p.rec_line = p.line;
            at_start = false;
        }
        size_t before = p.n_reps + (p.header_done ? 1 : 0);
        if (csv_parse(&csv, &ch, 1, s_field, s_end_record, &p) != 1) {
            p.rc = ho_err_set(err, HO_ERR_CONFIG, "", "%s:%d: malformed CSV: %s", name, p.line,
                              csv_strerror(csv_error(&csv)));
            break;
        }
        if (p.n_reps + (p.header_done ? 1 : 0) != before) {
            at_start = true;
        }
        if (ch == '\n') {
            p.line++;
        }
    }
    if (p.rc == HO_OK && !p.oom && csv_fini(&csv, s_field, s_end_record, &p) != 0) {
        p.rc = ho_err_set(err, HO_ERR_CONFIG, "", "%s:%d: malformed CSV: %s", name, p.rec_line,
                          csv_strerror(csv_error(&csv)));
    }
    csv_free(&csv);
    s_clear_fields(&p);
    free(p.fields);
    if (p.oom && p.rc == HO_OK) {
        p.rc = ho_err_set(err, HO_ERR_NOMEM, "", "%s: out of memory", name);
    }
    if (p.rc == HO_OK && !p.header_done) {
        p.rc = ho_err_set(err, HO_ERR_CONFIG, "", "%s:1: empty file: expected a header line", name);
    }
    /* backups must name a rep of the file */
    for (size_t i = 0; p.rc == HO_OK && i < p.n_reps; i++) {
        const char *b = p.reps[i].backup;
        bool found = !b[0];
        for (size_t k = 0; !found && k < p.n_reps; k++) {
            found = strcmp(p.reps[k].rep_id, b) == 0 && k != i;
        }
        if (!found) {
            p.rc = ho_err_set(err, HO_ERR_CONFIG, "backup_rep_id",
                              "%s:%d: backup_rep_id: \"%.40s\" is not another rep of this file",
                              name, p.reps[i].line, b);
        }
    }
    if (p.rc != HO_OK) {
        ho_rt_reps_free(p.reps, p.n_reps);
        return p.rc;
    }
    *reps_p = p.reps;
    *n_p = p.n_reps;
    return HO_OK;
}

int ho_rt_strs_push(ho_rt_strs_t *s, const char *v, bool upper)
{
    char **grown = realloc(s->v, (s->n + 1) * sizeof *grown);
    if (!grown) {
        return HO_ERR_NOMEM;
    }
    s->v = grown;
    if (!(s->v[s->n] = strdup(v))) {
        return HO_ERR_NOMEM;
    }
    for (char *q = s->v[s->n]; upper && *q; q++) {
        *q = (char)toupper((unsigned char)*q);
    }
    s->n++;
    return HO_OK;
}
