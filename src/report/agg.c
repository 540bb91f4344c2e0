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
 * group, HO_RAGG_MIN / HO_RAGG_MAX keep the least / greatest integer (NULL when none),
 * HO_RAGG_MEDIAN keeps every integer to write their median (ho_report_median's, NULL when none).
 * Memory: the groups, plus for a distinct or median column one entry per value added. The
 * distinct values are counted when written, each group's sorted: appending is sequential,
 * where a hash set of (group, value) missed the cache on nearly every row (0.2 CPU-s for the
 * ~1M values of the outcomes and assignments passes).
 *
 * A row may also be computed in C (ho_ragg_key_* then ho_ragg_add_vals): a pass whose per-row
 * decisions (which week, which flags) SQL would only make dearer. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

typedef struct {
    size_t key_off; /* the key's bytes in self->keys */
    size_t key_len;
    uint64_t hash;
} s_group_t;

typedef struct {
    uint64_t gk; /* group index x nsums + column */
    int64_t value;
} s_val_t;

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
    size_t last;   /* the previous row's group + 1: a scan in time order repeats it, unhashed */
    s_val_t *vals; /* the values of the distinct and median columns, in the order added */
    size_t nvals, capvals;
    unsigned char *buf; /* the current row's key */
    size_t buf_cap;
    size_t klen;    /* ho_ragg_key_*: the length of the key built so far */
    bool key_oom;   /* ho_ragg_key_*: out of memory while building it */
    ho_rval_t *row; /* ho_ragg_add: the row's sum columns */
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
    self->row = calloc((size_t)(nsums > 0 ? nsums : 1), sizeof *self->row);
    if (!self->slots || !self->real || !self->row) {
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
    free(self->vals);
    free(self->buf);
    free(self->row);
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

/* Append one key column to self->buf at self->klen: a type byte, then 8 bytes (an integer or
 * a double) or a 4-byte length and the text. */
static bool s_key_put(ho_ragg_t *self, int t, int64_t iv, double dv, const void *txt, uint32_t tl)
{
    size_t n = self->klen;
    if (!s_reserve(&self->buf, &self->buf_cap, n + 1 + 8 + tl)) {
        return false;
    }
    self->buf[n++] = (unsigned char)t;
    if (t == SQLITE_INTEGER) {
        memcpy(self->buf + n, &iv, 8);
        n += 8;
    } else if (t == SQLITE_FLOAT) {
        memcpy(self->buf + n, &dv, 8);
        n += 8;
    } else if (t != SQLITE_NULL) {
        memcpy(self->buf + n, &tl, 4);
        n += 4;
        if (tl) {
            memcpy(self->buf + n, txt, tl);
        }
        n += tl;
    }
    self->klen = n;
    return true;
}

/* The key of the row's key columns (ho_rval_read's values) into self->buf. */
static bool s_key(ho_ragg_t *self, const ho_rval_t *row, size_t *len)
{
    self->klen = 0;
    for (int k = 0; k < self->nkeys; k++) {
        const ho_rval_t *v = &row[s_col(self, k)];
        if (!s_key_put(self, v->type, v->i, v->d, v->text, (uint32_t)v->len)) {
            return false;
        }
    }
    *len = self->klen;
    self->klen = 0;
    return true;
}

void ho_ragg_key_null(ho_ragg_t *self)
{
    self->key_oom |= !s_key_put(self, SQLITE_NULL, 0, 0, NULL, 0);
}

void ho_ragg_key_int(ho_ragg_t *self, int64_t v)
{
    self->key_oom |= !s_key_put(self, SQLITE_INTEGER, v, 0, NULL, 0);
}

void ho_ragg_key_text(ho_ragg_t *self, const char *s, size_t n)
{
    self->key_oom |= !s_key_put(self, SQLITE_TEXT, 0, 0, s, (uint32_t)n);
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
static size_t s_group_find(ho_ragg_t *self, size_t len)
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

/* The group of the key in self->buf (s_group_find), the previous row's first. */
static size_t s_group(ho_ragg_t *self, size_t len)
{
    if (self->last) {
        const s_group_t *g = &self->groups[self->last - 1];
        if (g->key_len == len && memcmp(self->keys + g->key_off, self->buf, len) == 0) {
            return self->last - 1;
        }
    }
    size_t gi = s_group_find(self, len);
    self->last = gi == SIZE_MAX ? 0 : gi + 1;
    return gi;
}

static bool s_val_put(ho_ragg_t *self, size_t gi, int k, int64_t v)
{
    if (self->nvals == self->capvals) {
        size_t c = self->capvals ? self->capvals * 2 : 1024;
        s_val_t *nv = realloc(self->vals, c * sizeof *nv);
        if (!nv) {
            return false;
        }
        self->vals = nv;
        self->capvals = c;
    }
    self->vals[self->nvals++] = (s_val_t){gi * (uint64_t)self->nsums + (uint64_t)k, v};
    return true;
}

/* Add the values v[0..nsums) to group gi, each as its column's kind says. */
static bool s_add(ho_ragg_t *self, size_t gi, const ho_rval_t *v)
{
    size_t base = gi * (size_t)self->nsums;
    for (int k = 0; k < self->nsums; k++) {
        int t = v[k].type;
        if (t == SQLITE_NULL) {
            continue;
        }
        int kind = self->kinds ? self->kinds[k] : HO_RAGG_SUM;
        if (kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) {
            /* integers only; the double slot says the group has a value */
            int64_t *cur = &self->isum[base + (size_t)k];
            if (self->dsum[base + (size_t)k] == 0 ||
                (kind == HO_RAGG_MIN ? v[k].i < *cur : v[k].i > *cur)) {
                *cur = v[k].i;
                self->dsum[base + (size_t)k] = 1;
            }
        } else if (kind == HO_RAGG_DISTINCT || kind == HO_RAGG_MEDIAN) {
            if (!s_val_put(self, gi, k, v[k].i)) {
                return false;
            }
        } else if (t == SQLITE_INTEGER) {
            self->isum[base + (size_t)k] += v[k].i;
        } else {
            self->dsum[base + (size_t)k] += v[k].d;
            self->real[k] = 1;
        }
    }
    return true;
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
    for (int k = 0; k < self->nsums; k++) {
        const ho_rval_t *c = &row[s_col(self, self->nkeys + k)];
        int kind = self->kinds ? self->kinds[k] : HO_RAGG_SUM;
        ho_rval_t *v = &self->row[k];
        *v = *c; /* the non-sum kinds count integers: i, sqlite3_column_int64's reading */
        if (kind == HO_RAGG_SUM && c->type != SQLITE_INTEGER && c->type != SQLITE_NULL) {
            v->type = SQLITE_FLOAT; /* a real, or a text's sqlite3_column_double */
        }
    }
    return s_add(self, gi, self->row);
}

bool ho_ragg_add_vals(ho_ragg_t *self, const ho_rval_t *v)
{
    size_t len = self->klen;
    bool oom = self->key_oom;
    self->klen = 0;
    self->key_oom = false;
    if (oom) {
        return false;
    }
    size_t gi = s_group(self, len);
    return gi != SIZE_MAX && s_add(self, gi, v);
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

/* The distinct and median columns' values grouped by (group, column) (a counting sort: linear in
 * the values): (*out)[(*at)[gk] .. (*at)[gk + 1]) are those of gk. false when out of memory. */
static bool s_values_index(const ho_ragg_t *self, int64_t **out, size_t **at)
{
    size_t ngk = self->ngroups * (size_t)self->nsums;
    *out = malloc((self->nvals ? self->nvals : 1) * sizeof **out);
    *at = calloc(ngk + 2, sizeof **at);
    if (!*out || !*at) {
        return false;
    }
    for (size_t i = 0; i < self->nvals; i++) {
        (*at)[self->vals[i].gk + 2]++;
    }
    for (size_t g = 2; g < ngk + 2; g++) {
        (*at)[g] += (*at)[g - 1];
    }
    for (size_t i = 0; i < self->nvals; i++) {
        (*out)[(*at)[self->vals[i].gk + 1]++] = self->vals[i].value;
    }
    return true;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sort v[0..n) ascending: a radix sort, 8 bits a pass from the lowest (the sign bit flipped,
 * so negative values come first), a pass whose byte is the same in every value skipped; tmp
 * has room for n values. A few times faster than qsort on the ~1M values of the passes. */
static void s_sort(int64_t *v, size_t n, int64_t *tmp)
{
    if (n < 64) {
        qsort(v, n, sizeof *v, s_cmp_i64);
        return;
    }
    uint64_t *a = (uint64_t *)v, *b = (uint64_t *)tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) {
            count[(((a[i] ^ (1ULL << 63)) >> shift) & 0xff) + 1]++;
        }
        if (count[(((a[0] ^ (1ULL << 63)) >> shift) & 0xff) + 1] == n) {
            continue; /* every value has this byte */
        }
        for (int d = 1; d < 257; d++) {
            count[d] += count[d - 1];
        }
        for (size_t i = 0; i < n; i++) {
            b[count[((a[i] ^ (1ULL << 63)) >> shift) & 0xff]++] = a[i];
        }
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (a != (uint64_t *)v) {
        memcpy(v, a, n * sizeof *v);
    }
}

/* How many different values the sorted v[0..n) holds. */
static size_t s_distinct(const int64_t *v, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        d += i == 0 || v[i] != v[i - 1];
    }
    return d;
}

/* The median of the sorted v[0..n), n > 0: ho_report_median's arithmetic, without its sort. */
static double s_median(const int64_t *v, size_t n)
{
    return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

/* Bind sum column k of group g as parameter p. */
static void s_bind_sum(const ho_ragg_t *self, sqlite3_stmt *ins, size_t g, int k, int p,
                       int64_t *vals, const size_t *at, int64_t *tmp)
{
    size_t base = g * (size_t)self->nsums;
    int kind = self->kinds ? self->kinds[k] : HO_RAGG_SUM;
    size_t gk = base + (size_t)k, n = at[gk + 1] - at[gk];
    if (kind == HO_RAGG_DISTINCT || kind == HO_RAGG_MEDIAN) {
        s_sort(vals + at[gk], n, tmp);
    }
    if (kind == HO_RAGG_DISTINCT) {
        sqlite3_bind_int64(ins, p, (int64_t)s_distinct(vals + at[gk], n));
    } else if (kind == HO_RAGG_MEDIAN && n == 0) {
        sqlite3_bind_null(ins, p);
    } else if (kind == HO_RAGG_MEDIAN) {
        sqlite3_bind_double(ins, p, s_median(vals + at[gk], n));
    } else if ((kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) && self->dsum[base + (size_t)k] == 0) {
        sqlite3_bind_null(ins, p);
    } else if (kind == HO_RAGG_MIN || kind == HO_RAGG_MAX) {
        sqlite3_bind_int64(ins, p, self->isum[base + (size_t)k]);
    } else if (self->real[k]) {
        sqlite3_bind_double(ins, p,
                            self->dsum[base + (size_t)k] + (double)self->isum[base + (size_t)k]);
    } else {
        sqlite3_bind_int64(ins, p, self->isum[base + (size_t)k]);
    }
}

bool ho_ragg_write(const ho_ragg_t *self, sqlite3_stmt *ins,
                   bool (*step)(void *arg, sqlite3_stmt *ins), void *arg)
{
    int64_t *vals = NULL;
    size_t *at = NULL;
    int64_t *tmp = malloc((self->nvals ? self->nvals : 1) * sizeof *tmp);
    bool ok = s_values_index(self, &vals, &at) && tmp;
    for (size_t g = 0; ok && g < self->ngroups; g++) {
        sqlite3_reset(ins);
        s_bind_key(self, ins, self->keys + self->groups[g].key_off);
        for (int k = 0; k < self->nsums; k++) {
            s_bind_sum(self, ins, g, k, self->nkeys + k + 1, vals, at, tmp);
        }
        ok = step(arg, ins);
    }
    sqlite3_reset(ins);
    free(vals);
    free(at);
    free(tmp);
    return ok;
}

/* ---- the scan driver ---- */

static bool s_step_insert(void *arg, sqlite3_stmt *ins)
{
    ho_rctx_t *ctx = arg;
    return ho_reader_exec(ctx->rd, ins, NULL) == HO_OK;
}

ho_report_error_t ho_ragg_flush(ho_rctx_t *ctx, const ho_ragg_t *agg, ho_rq_t insert,
                                const char *what)
{
    sqlite3_stmt *ins;
    ho_report_error_t rc = ho_rsql_prepare(ctx, insert, &ins);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    /* one lift of query_only for all the rows, not two PRAGMAs per row */
    if (ho_reader_setup_begin(ctx->rd, NULL) != HO_OK) {
        return ho_rsql_fail(ctx, what);
    }
    bool ok = ho_ragg_write(agg, ins, s_step_insert, ctx);
    if (ho_reader_setup_end(ctx->rd, NULL) != HO_OK || !ok) {
        return ho_rsql_fail(ctx, what);
    }
    return HO_REPORT_OK;
}

void ho_rval_read_keys(sqlite3_stmt *st, int ncols, ho_rval_t *vals, uint64_t keys)
{
    for (int c = 0; c < ncols; c++) {
        ho_rval_t *v = &vals[c];
        v->type = sqlite3_column_type(st, c);
        v->text = NULL;
        v->len = 0;
        v->i = 0;
        v->d = 0;
        if (v->type == SQLITE_INTEGER) {
            v->i = sqlite3_column_int64(st, c);
            continue;
        }
        if (v->type == SQLITE_NULL) {
            continue;
        }
        /* a real or a text: its numeric readings too (a sum adds d, the other kinds count i),
         * but not of a key-only text: turning each row's source name into two numbers that
         * nobody reads was a third of the lead pass's reading */
        bool key_text = v->type == SQLITE_TEXT && c < 64 && (keys >> c & 1u);
        if (!key_text) {
            v->i = sqlite3_column_int64(st, c);
            v->d = sqlite3_column_double(st, c);
        }
        if (v->type == SQLITE_TEXT) {
            v->text = sqlite3_column_text(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
        } else if (v->type == SQLITE_BLOB) {
            v->text = sqlite3_column_blob(st, c);
            v->len = (size_t)sqlite3_column_bytes(st, c);
        }
    }
}

void ho_rval_read(sqlite3_stmt *st, int ncols, ho_rval_t *vals)
{
    ho_rval_read_keys(st, ncols, vals, 0);
}

uint64_t ho_rgroup_key_only(const ho_rgroup_t *groups, size_t n)
{
    uint64_t keys = 0, sums = 0;
    for (size_t g = 0; g < n; g++) {
        for (int k = 0; k < groups[g].nkeys + groups[g].nsums; k++) {
            int c = groups[g].cols ? groups[g].cols[k] : k;
            if (c >= 0 && c < 64) {
                *(k < groups[g].nkeys ? &keys : &sums) |= (uint64_t)1 << c;
            }
        }
    }
    return keys & ~sums;
}

ho_report_error_t ho_rscan_end(ho_rctx_t *ctx, sqlite3_stmt *st, ho_report_error_t rc, int s,
                               const char *what)
{
    if (st) {
        sqlite3_reset(st);
    }
    if (rc == HO_REPORT_OK && s != SQLITE_DONE) {
        rc = ho_rsql_fail(ctx, what);
    }
    if (rc == HO_REPORT_ERR_NOMEM) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
    }
    return rc;
}

ho_report_error_t ho_rscan_into(ho_rctx_t *ctx, ho_rq_t scan, ho_rrow_map_fn map, void *arg,
                                const ho_rgroup_t *groups, ho_ragg_t *const *aggs, size_t n,
                                const char *what)
{
    sqlite3_stmt *st = NULL;
    ho_report_error_t rc = ho_rsql_prepare(ctx, scan, &st);
    /* each column read once a row (sqlite3_column_* calls are not free), then grouped */
    ho_rval_t vals[64];
    int ncols = st ? sqlite3_column_count(st) : 0;
    if (rc == HO_REPORT_OK && ncols > 64) {
        rc = ho_rsql_fail(ctx, what);
    }
    uint64_t keys = ho_rgroup_key_only(groups, n);
    int s = SQLITE_DONE;
    while (rc == HO_REPORT_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!map) {
            ho_rval_read_keys(st, ncols, vals, keys);
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
    return ho_rscan_end(ctx, st, rc, s, what);
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
            ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
        }
    }
    if (rc == HO_REPORT_OK) {
        rc = ho_rscan_into(ctx, scan, map, arg, groups, aggs, n, what);
    }
    for (size_t i = 0; i < n && rc == HO_REPORT_OK; i++) {
        rc = ho_ragg_flush(ctx, aggs[i], groups[i].insert, what);
        if (rc == HO_REPORT_ERR_NOMEM) {
            ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
        }
    }
    for (size_t i = 0; i < n; i++) {
        ho_ragg_destroy(&aggs[i]);
    }
    return rc;
}
