/* agg.c - GROUP BY in C for the report's scans (report_int.h, "Aggregation").
 *
 * SQLite groups by sorting: over the ~700k leads of a 1M-lead store's 12 weeks, every
 * GROUP BY on a few text keys cost 0.5-1.5 CPU-s, and the workbook had ~25 of them. A scan
 * that only filters and computes per-row values is ~10x cheaper, so the report scans each
 * table once, groups the rows here (a hash table keyed by the key columns' values) and
 * writes the few hundred groups into a temp table the sheets' queries read.
 *
 * Same arithmetic as the SQL it replaces: an INTEGER adds to a 64-bit integer sum, a REAL
 * to a double (the store's amounts are whole numbers, so the order of the additions does not
 * change a sum); NULL adds nothing; a distinct column counts each non-NULL integer once per
 * group, HO_RAGG_MIN / HO_RAGG_MAX keep the least / greatest integer (NULL when none). Memory: the
 * groups, plus for a distinct column one entry per (group, value). */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

typedef struct {
    size_t key_off; /* the key's bytes in self->keys */
    size_t key_len;
    uint64_t hash;
} s_group_t;

typedef struct {
    uint64_t group; /* group index + 1 (0: empty slot) */
    int64_t value;
} s_seen_t;

struct ho_ragg {
    int nkeys;
    int nsums;
    const int *cols;  /* the scan column of each key, then of each sum (NULL: 0, 1, ...) */
    const int *kinds; /* HO_RAGG_SUM or HO_RAGG_DISTINCT per sum column (NULL: all sums) */
    /* the groups, in the order they were first seen */
    s_group_t *groups;
    size_t ngroups, capgroups;
    int64_t *isum;       /* ngroups x nsums */
    double *dsum;        /* ngroups x nsums */
    unsigned char *real; /* per sum column: a REAL was added */
    unsigned char *keys; /* the serialized keys */
    size_t keys_len, keys_cap;
    size_t *slots; /* open addressing: group index + 1 */
    size_t nslots;
    s_seen_t *seen; /* (group, column, value) of the distinct columns */
    size_t nseen, nseen_slots;
    unsigned char *buf; /* the current row's key */
    size_t buf_cap;
};

static int s_col(const ho_ragg_t *self, int i)
{
    return self->cols ? self->cols[i] : i;
}

static uint64_t s_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

ho_ragg_t *ho_ragg_new(int nkeys, int nsums, const int *cols, const int *kinds)
{
    ho_ragg_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->nkeys = nkeys;
    self->nsums = nsums;
    self->cols = cols;
    self->kinds = kinds;
    self->nslots = 256;
    self->slots = calloc(self->nslots, sizeof *self->slots);
    self->real = calloc((size_t)(nsums > 0 ? nsums : 1), 1);
    if (!self->slots || !self->real) {
        ho_ragg_destroy(&self);
    }
    return self;
}

void ho_ragg_destroy(ho_ragg_t **self_p)
{
    ho_ragg_t *self = self_p ? *self_p : NULL;
    if (!self) {
        return;
    }
    free(self->groups);
    free(self->isum);
    free(self->dsum);
    free(self->real);
    free(self->keys);
    free(self->slots);
    free(self->seen);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

size_t ho_ragg_groups(const ho_ragg_t *self)
{
    return self->ngroups;
}

static bool s_reserve(unsigned char **p, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return true;
    }
    size_t c = *cap ? *cap : 256;
    while (c < need) {
        c *= 2;
    }
    unsigned char *q = realloc(*p, c);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = c;
    return true;
}

/* The key of the row's first nkeys columns: per column a type byte, then 8 bytes (an integer
 * or a double) or a 4-byte length and the text. */
static bool s_key(ho_ragg_t *self, const ho_rval_t *row, size_t *len)
{
    size_t n = 0;
    for (int k = 0; k < self->nkeys; k++) {
        const ho_rval_t *v = &row[s_col(self, k)];
        int t = v->type;
        const unsigned char *txt = v->text;
        uint32_t tl = (uint32_t)v->len;
        if (!s_reserve(&self->buf, &self->buf_cap, n + 1 + 8 + tl)) {
            return false;
        }
        self->buf[n++] = (unsigned char)t;
        if (t == SQLITE_INTEGER) {
            memcpy(self->buf + n, &v->i, 8);
            n += 8;
        } else if (t == SQLITE_FLOAT) {
            memcpy(self->buf + n, &v->d, 8);
            n += 8;
        } else if (t != SQLITE_NULL) {
            memcpy(self->buf + n, &tl, 4);
            n += 4;
            if (tl) {
                memcpy(self->buf + n, txt, tl);
            }
            n += tl;
        }
    }
    *len = n;
    return true;
}

static bool s_rehash(ho_ragg_t *self)
{
    size_t ns = self->nslots * 2;
    size_t *slots = calloc(ns, sizeof *slots);
    if (!slots) {
        return false;
    }
    for (size_t g = 0; g < self->ngroups; g++) {
        size_t i = self->groups[g].hash & (ns - 1);
        while (slots[i]) {
            i = (i + 1) & (ns - 1);
        }
        slots[i] = g + 1;
    }
    free(self->slots);
    self->slots = slots;
    self->nslots = ns;
    return true;
}

/* The group index of the key in self->buf, made when new; SIZE_MAX when out of memory. */
static size_t s_group(ho_ragg_t *self, size_t len)
{
    uint64_t h = s_hash(self->buf, len);
    size_t i = h & (self->nslots - 1);
    while (self->slots[i]) {
        s_group_t *g = &self->groups[self->slots[i] - 1];
        if (g->hash == h && g->key_len == len &&
            memcmp(self->keys + g->key_off, self->buf, len) == 0) {
            return self->slots[i] - 1;
        }
        i = (i + 1) & (self->nslots - 1);
    }
    if (self->ngroups == self->capgroups) {
        size_t c = self->capgroups ? self->capgroups * 2 : 64;
        s_group_t *gs = realloc(self->groups, c * sizeof *gs);
        if (!gs) {
            return SIZE_MAX;
        }
        self->groups = gs;
        size_t ns = (size_t)(self->nsums > 0 ? self->nsums : 1);
        int64_t *is = realloc(self->isum, c * ns * sizeof *is);
        if (!is) {
            return SIZE_MAX;
        }
        self->isum = is;
        double *ds = realloc(self->dsum, c * ns * sizeof *ds);
        if (!ds) {
            return SIZE_MAX;
        }
        self->dsum = ds;
        self->capgroups = c;
    }
    if (!s_reserve(&self->keys, &self->keys_cap, self->keys_len + len)) {
        return SIZE_MAX;
    }
    memcpy(self->keys + self->keys_len, self->buf, len);
    size_t gi = self->ngroups++;
    self->groups[gi] = (s_group_t){self->keys_len, len, h};
    self->keys_len += len;
    for (int k = 0; k < self->nsums; k++) {
        self->isum[gi * (size_t)self->nsums + (size_t)k] = 0;
        self->dsum[gi * (size_t)self->nsums + (size_t)k] = 0;
    }
    self->slots[i] = gi + 1;
    if (self->ngroups * 2 > self->nslots && !s_rehash(self)) {
        return SIZE_MAX;
    }
    return gi;
}

static bool s_seen_grow(ho_ragg_t *self)
{
    size_t ns = self->nseen_slots ? self->nseen_slots * 2 : 1024;
    s_seen_t *t = calloc(ns, sizeof *t);
    if (!t) {
        return false;
    }
    for (size_t i = 0; i < self->nseen_slots; i++) {
        s_seen_t e = self->seen[i];
        if (e.group) {
            size_t j = s_mix(e.group * 0x9e3779b97f4a7c15ULL ^ (uint64_t)e.value) & (ns - 1);
            while (t[j].group) {
                j = (j + 1) & (ns - 1);
            }
            t[j] = e;
        }
    }
    free(self->seen);
    self->seen = t;
    self->nseen_slots = ns;
    return true;
}

/* true when (group, column, value) is new (and records it); -1 when out of memory */
static int s_first_seen(ho_ragg_t *self, size_t gi, int col, int64_t value)
{
    if ((self->nseen + 1) * 2 > self->nseen_slots && !s_seen_grow(self)) {
        return -1;
    }
    uint64_t g = (uint64_t)gi * (uint64_t)self->nsums + (uint64_t)col + 1;
    size_t j = s_mix(g * 0x9e3779b97f4a7c15ULL ^ (uint64_t)value) & (self->nseen_slots - 1);
    while (self->seen[j].group) {
        if (self->seen[j].group == g && self->seen[j].value == value) {
            return 0;
        }
        j = (j + 1) & (self->nseen_slots - 1);
    }
    self->seen[j] = (s_seen_t){g, value};
    self->nseen++;
    return 1;
}

bool ho_ragg_add(ho_ragg_t *self, const ho_rval_t *row)
{
    size_t len;
    if (!s_key(self, row, &len)) {
        return false;
    }
    size_t gi = s_group(self, len);
    if (gi == SIZE_MAX) {
        return false;
    }
    size_t base = gi * (size_t)self->nsums;
    for (int k = 0; k < self->nsums; k++) {
        const ho_rval_t *v = &row[s_col(self, self->nkeys + k)];
        int t = v->type;
        if (t == SQLITE_NULL) {
            continue;
        }
        int kind = self->kinds ? self->kinds[k] : HO_RAGG_SUM;
        if (kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) {
            /* integers only; the double slot says the group has a value */
            int64_t x = t == SQLITE_INTEGER ? v->i : (int64_t)v->d;
            int64_t *cur = &self->isum[base + (size_t)k];
            if (self->dsum[base + (size_t)k] == 0 || (kind == HO_RAGG_MIN ? x < *cur : x > *cur)) {
                *cur = x;
                self->dsum[base + (size_t)k] = 1;
            }
        } else if (kind == HO_RAGG_DISTINCT) {
            int first = s_first_seen(self, gi, k, t == SQLITE_INTEGER ? v->i : (int64_t)v->d);
            if (first < 0) {
                return false;
            }
            self->isum[base + (size_t)k] += first;
        } else if (t == SQLITE_INTEGER) {
            self->isum[base + (size_t)k] += v->i;
        } else {
            self->dsum[base + (size_t)k] += v->d;
            self->real[k] = 1;
        }
    }
    return true;
}

/* Bind the serialized key at p as parameters 1..nkeys. */
static void s_bind_key(const ho_ragg_t *self, sqlite3_stmt *ins, const unsigned char *p)
{
    for (int c = 0; c < self->nkeys; c++) {
        int t = *p++;
        if (t == SQLITE_INTEGER) {
            int64_t v;
            memcpy(&v, p, 8);
            p += 8;
            sqlite3_bind_int64(ins, c + 1, v);
        } else if (t == SQLITE_FLOAT) {
            double v;
            memcpy(&v, p, 8);
            p += 8;
            sqlite3_bind_double(ins, c + 1, v);
        } else if (t == SQLITE_NULL) {
            sqlite3_bind_null(ins, c + 1);
        } else {
            uint32_t tl;
            memcpy(&tl, p, 4);
            p += 4;
            if (t == SQLITE_TEXT) {
                sqlite3_bind_text(ins, c + 1, (const char *)p, (int)tl, SQLITE_TRANSIENT);
            } else {
                sqlite3_bind_blob(ins, c + 1, p, (int)tl, SQLITE_TRANSIENT);
            }
            p += tl;
        }
    }
}

bool ho_ragg_write(const ho_ragg_t *self, sqlite3_stmt *ins,
                   bool (*step)(void *arg, sqlite3_stmt *ins), void *arg)
{
    for (size_t g = 0; g < self->ngroups; g++) {
        sqlite3_reset(ins);
        s_bind_key(self, ins, self->keys + self->groups[g].key_off);
        size_t base = g * (size_t)self->nsums;
        for (int k = 0; k < self->nsums; k++) {
            int p = self->nkeys + k + 1;
            int kind = self->kinds ? self->kinds[k] : HO_RAGG_SUM;
            if ((kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) && self->dsum[base + (size_t)k] == 0) {
                sqlite3_bind_null(ins, p);
            } else if (kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) {
                sqlite3_bind_int64(ins, p, self->isum[base + (size_t)k]);
            } else if (self->real[k]) {
                sqlite3_bind_double(
                    ins, p, self->dsum[base + (size_t)k] + (double)self->isum[base + (size_t)k]);
            } else {
                sqlite3_bind_int64(ins, p, self->isum[base + (size_t)k]);
            }
        }
        if (!step(arg, ins)) {
            sqlite3_reset(ins);
            return false;
        }
    }
    sqlite3_reset(ins);
    return true;
}

/* ---- the scan driver ---- */

void ho_rval_read(sqlite3_stmt *st, int ncols, ho_rval_t *vals)
{
    for (int c = 0; c < ncols; c++) {
        ho_rval_t *v = &vals[c];
        v->type = sqlite3_column_type(st, c);
        v->text = NULL;
        v->len = 0;
        if (v->type == SQLITE_INTEGER) {
            v->i = sqlite3_column_int64(st, c);
        } else if (v->type == SQLITE_FLOAT) {
            v->d = sqlite3_column_double(st, c);
        } else if (v->type == SQLITE_TEXT) {
            v->text = sqlite3_column_text(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
        } else if (v->type == SQLITE_BLOB) {
            v->text = sqlite3_column_blob(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
        }
    }
}

static bool s_step_insert(void *arg, sqlite3_stmt *ins)
{
    ho_rctx_t *ctx = arg;
    return ho_reader_exec(ctx->rd, ins, NULL) == HO_OK;
}

ho_report_error_t ho_rscan(ho_rctx_t *ctx, ho_rq_t scan, const ho_rgroup_t *groups, size_t n,
                           const char *what)
{
    return ho_rscan_map(ctx, scan, NULL, NULL, groups, n, what);
}

ho_report_error_t ho_rscan_map(ho_rctx_t *ctx, ho_rq_t scan, ho_rrow_map_fn map, void *arg,
                               const ho_rgroup_t *groups, size_t n, const char *what)
{
    ho_ragg_t *aggs[8] = {0};
    if (n > sizeof aggs / sizeof aggs[0]) {
        return ho_rsql_fail(ctx, what);
    }
    ho_report_error_t rc = HO_REPORT_OK;
    for (size_t i = 0; i < n && rc == HO_REPORT_OK; i++) {
        aggs[i] = ho_ragg_new(groups[i].nkeys, groups[i].nsums, groups[i].cols, groups[i].kinds);
        if (!aggs[i]) {
            rc = HO_REPORT_ERR_NOMEM;
        }
    }
    sqlite3_stmt *st = NULL;
    if (rc == HO_REPORT_OK) {
        rc = ho_rsql_prepare(ctx, scan, &st);
    }
    ho_rval_t vals[64];
    int ncols = st ? sqlite3_column_count(st) : 0;
    if (ncols > 64) {
        rc = ho_rsql_fail(ctx, what);
    }
    int s = SQLITE_DONE;
    while (rc == HO_REPORT_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!map) {
            ho_rval_read(st, ncols, vals);
        } else if ((rc = map(ctx, st, vals, arg)) != HO_REPORT_OK) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (!ho_ragg_add(aggs[i], vals)) {
                rc = HO_REPORT_ERR_NOMEM;
                break;
            }
        }
    }
    if (st) {
        sqlite3_reset(st);
    }
    if (rc == HO_REPORT_OK && s != SQLITE_DONE) {
        rc = ho_rsql_fail(ctx, what);
    }
    for (size_t i = 0; i < n && rc == HO_REPORT_OK; i++) {
        sqlite3_stmt *ins;
        if ((rc = ho_rsql_prepare(ctx, groups[i].insert, &ins)) == HO_REPORT_OK &&
            !ho_ragg_write(aggs[i], ins, s_step_insert, ctx)) {
            rc = ho_rsql_fail(ctx, what);
        }
    }
    if (rc == HO_REPORT_ERR_NOMEM) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
    }
    for (size_t i = 0; i < n; i++) {
        ho_ragg_destroy(&aggs[i]);
    }
    return rc;
}
