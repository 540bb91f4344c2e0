/* dupcount.c - repeated keys counted with sorted runs on disk (see dupcount.h). */
#include "cli/dupcount.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_IO_KEYS 512 /* keys per read or write: 4 KB */

typedef struct {
    off_t off; /* in bytes */
    size_t n;  /* keys */
} s_run_t;

/* A sorted sequence of hashes: in memory, or a region of a file read 4 KB at a time. */
typedef struct {
    const uint64_t *mem;
    int fd;
    off_t off;
    size_t n, pos; /* keys in all, keys consumed */
    uint64_t *buf;
    size_t bn, bpos;
} s_src_t;

struct ho_dupcount {
    size_t mem_keys, seen_cap;
    char tmp_dir[256];
    uint64_t *buf; /* the current group's hashes not yet spilled, unsorted */
    size_t n, cap;
    size_t group_keys; /* keys added to the current group */
    int fd_runs;
    s_run_t *runs;
    size_t n_runs, runs_cap;
    off_t runs_end;
    size_t spills;
    /* hashes of the closed groups, sorted and distinct: in memory while small, else in
     * fd_seen[cur] (the other one receives the next merge) */
    uint64_t *seen_mem;
    int fd_seen[2], cur;
    bool seen_on_disk;
    size_t n_seen;
    bool broken;
    char broken_msg[400];
};

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a 64-bit finalizer */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static int s_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

ho_dupcount_t *ho_dupcount_new(size_t mem_keys, const char *tmp_dir)
{
    ho_dupcount_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->mem_keys = mem_keys ? mem_keys : HO_DUPCOUNT_MEM_KEYS;
    if (self->mem_keys < 2) {
        self->mem_keys = 2;
    }
    self->seen_cap = self->mem_keys / 4;
    if (!tmp_dir || !*tmp_dir) {
        tmp_dir = getenv("TMPDIR");
    }
    snprintf(self->tmp_dir, sizeof self->tmp_dir, "%s", tmp_dir && *tmp_dir ? tmp_dir : "/tmp");
    self->fd_runs = self->fd_seen[0] = self->fd_seen[1] = -1;
    return self;
}

void ho_dupcount_destroy(ho_dupcount_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_dupcount_t *self = *self_p;
    if (self->fd_runs >= 0) {
        close(self->fd_runs);
    }
    for (int i = 0; i < 2; i++) {
        if (self->fd_seen[i] >= 0) {
            close(self->fd_seen[i]);
        }
    }
    free(self->buf);
    free(self->runs);
    free(self->seen_mem);
    free(self);
    *self_p = NULL;
}

static int s_fail(ho_dupcount_t *self, ho_err_t *err, const char *what)
{
    if (!self->broken) {
        self->broken = true;
        snprintf(self->broken_msg, sizeof self->broken_msg, "duplicate count: %s in %s: %s", what,
                 self->tmp_dir, strerror(errno ? errno : EIO));
    }
    return ho_err_set(err, HO_ERR_IO, "", "%s", self->broken_msg);
}

/* An unlinked temporary file: gone when closed, whatever happens to the process. */
static int s_tmpfile(ho_dupcount_t *self)
{
    char path[300];
    snprintf(path, sizeof path, "%s/handoff-dups-XXXXXX", self->tmp_dir);
    int fd = mkstemp(path);
    if (fd >= 0) {
        unlink(path);
    }
    return fd;
}

static int s_write_all(int fd, off_t off, const uint64_t *v, size_t n)
{
    const char *p = (const char *)v;
    size_t len = n * sizeof *v;
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            if (w == 0) {
                errno = ENOSPC;
            }
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

/* Sort the buffer and append it to the runs file. */
static int s_spill(ho_dupcount_t *self, ho_err_t *err)
{
    if (self->fd_runs < 0 && (self->fd_runs = s_tmpfile(self)) < 0) {
        return s_fail(self, err, "cannot create a temporary file");
    }
    if (self->n_runs == self->runs_cap) {
        size_t cap = self->runs_cap ? self->runs_cap * 2 : 16;
        s_run_t *runs = realloc(self->runs, cap * sizeof *runs);
        if (!runs) {
            errno = ENOMEM;
            return s_fail(self, err, "no memory for a run");
        }
        self->runs = runs;
        self->runs_cap = cap;
    }
    qsort(self->buf, self->n, sizeof *self->buf, s_cmp);
    if (s_write_all(self->fd_runs, self->runs_end, self->buf, self->n) != 0) {
        return s_fail(self, err, "cannot write a run");
    }
    self->runs[self->n_runs].off = self->runs_end;
    self->runs[self->n_runs].n = self->n;
    self->n_runs++;
    self->runs_end += (off_t)(self->n * sizeof *self->buf);
    self->n = 0;
    self->spills++;
    return HO_OK;
}

int ho_dupcount_add(ho_dupcount_t *self, const char *key, ho_err_t *err)
{
    if (self->broken) {
        return ho_err_set(err, HO_ERR_IO, "", "%s", self->broken_msg);
    }
    if (self->n == self->cap) {
        if (self->cap == self->mem_keys) {
            if (s_spill(self, err) != HO_OK) {
                return HO_ERR_IO;
            }
        } else {
            size_t cap = self->cap ? self->cap * 2 : 1024;
            if (cap > self->mem_keys) {
                cap = self->mem_keys;
            }
            uint64_t *buf = realloc(self->buf, cap * sizeof *buf);
            if (!buf) {
                errno = ENOMEM;
                return s_fail(self, err, "no memory for the key buffer");
            }
            self->buf = buf;
            self->cap = cap;
        }
    }
    self->buf[self->n++] = s_hash(key);
    self->group_keys++;
    return HO_OK;
}

/* ---- sorted sources ---- */
static void s_src_mem(s_src_t *s, const uint64_t *v, size_t n)
{
    memset(s, 0, sizeof *s);
    s->mem = v;
    s->n = n;
    s->fd = -1;
}

static void s_src_file(s_src_t *s, int fd, off_t off, size_t n, uint64_t *buf)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->off = off;
    s->n = n;
    s->buf = buf;
}

/* 1 with *h, 0 at the end, -1 on a read error. */
static int s_src_peek(s_src_t *s, uint64_t *h)
{
    if (s->pos >= s->n) {
        return 0;
    }
    if (s->mem) {
        *h = s->mem[s->pos];
        return 1;
    }
    if (s->bpos == s->bn) {
        size_t want = s->n - s->pos < S_IO_KEYS ? s->n - s->pos : S_IO_KEYS;
        size_t got = 0;
        while (got < want * sizeof *s->buf) {
            ssize_t r = pread(s->fd, (char *)s->buf + got, want * sizeof *s->buf - got,
                              s->off + (off_t)(s->pos * sizeof *s->buf) + (off_t)got);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                if (r == 0) {
                    errno = EIO;
                }
                return -1;
            }
            got += (size_t)r;
        }
        s->bn = want;
        s->bpos = 0;
    }
    *h = s->buf[s->bpos];
    return 1;
}

static void s_src_next(s_src_t *s)
{
    s->pos++;
    if (!s->mem) {
        s->bpos++;
    }
}

/* ---- the merged output: the new set of seen hashes ---- */
typedef struct {
    uint64_t *mem; /* to memory (capacity fixed in advance) ... */
    int fd;        /* ... or to a file */
    uint64_t buf[S_IO_KEYS];
    size_t bn, n;
} s_sink_t;

static int s_sink_put(s_sink_t *k, uint64_t h)
{
    if (k->mem) {
        k->mem[k->n++] = h;
        return 0;
    }
    k->buf[k->bn++] = h;
    k->n++;
    if (k->bn == S_IO_KEYS) {
        if (s_write_all(k->fd, (off_t)((k->n - k->bn) * sizeof h), k->buf, k->bn) != 0) {
            return -1;
        }
        k->bn = 0;
    }
    return 0;
}

static int s_sink_flush(s_sink_t *k)
{
    if (!k->mem && k->bn > 0) {
        if (s_write_all(k->fd, (off_t)((k->n - k->bn) * sizeof *k->buf), k->buf, k->bn) != 0) {
            return -1;
        }
        k->bn = 0;
    }
    return 0;
}

/* Min-heap of source indexes by their next hash. */
typedef struct {
    s_src_t *src;
    uint64_t *head;
    size_t *idx, n;
} s_heap_t;

static void s_heap_down(s_heap_t *hp, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < hp->n && hp->head[hp->idx[l]] < hp->head[hp->idx[m]]) {
            m = l;
        }
        if (r < hp->n && hp->head[hp->idx[r]] < hp->head[hp->idx[m]]) {
            m = r;
        }
        if (m == i) {
            return;
        }
        size_t t = hp->idx[i];
        hp->idx[i] = hp->idx[m];
        hp->idx[m] = t;
        i = m;
    }
}

/* Pop the smallest hash of all sources: 1, 0 when all are empty, -1 on a read error. */
static int s_heap_pop(s_heap_t *hp, uint64_t *h)
{
    if (hp->n == 0) {
        return 0;
    }
    size_t top = hp->idx[0];
    *h = hp->head[top];
    s_src_next(&hp->src[top]);
    int r = s_src_peek(&hp->src[top], &hp->head[top]);
    if (r < 0) {
        return -1;
    }
    if (r == 0) {
        hp->idx[0] = hp->idx[--hp->n];
    }
    s_heap_down(hp, 0);
    return 1;
}

/* The group's sources in hp (src[0..k)): the sorted buffer alone, or every spilled run. */
static int s_group_heap(ho_dupcount_t *self, size_t k, uint64_t *bufs, s_heap_t *hp, ho_err_t *err)
{
    if (self->n_runs == 0) {
        qsort(self->buf, self->n, sizeof *self->buf, s_cmp);
        s_src_mem(&hp->src[0], self->buf, self->n);
    } else {
        for (size_t i = 0; i < k; i++) {
            s_src_file(&hp->src[i], self->fd_runs, self->runs[i].off, self->runs[i].n,
                       bufs + i * S_IO_KEYS);
        }
    }
    for (size_t i = 0; i < k; i++) {
        int r = s_src_peek(&hp->src[i], &hp->head[i]);
        if (r < 0) {
            return s_fail(self, err, "cannot read a run");
        }
        if (r > 0) {
            hp->idx[hp->n++] = i;
        }
    }
    for (size_t i = hp->n / 2; i-- > 0;) {
        s_heap_down(hp, i);
    }
    return HO_OK;
}

/* Where the new seen set goes: the other seen file (*to_disk, fd_seen[*out_i]), or memory
 * (*out_mem) while it is small for sure. */
static int s_open_sink(ho_dupcount_t *self, s_sink_t *sink, bool *to_disk, int *out_i,
                       uint64_t **out_mem, ho_err_t *err)
{
    *to_disk = self->seen_on_disk || self->n_seen + self->group_keys > self->seen_cap;
    *out_i = self->seen_on_disk ? 1 - self->cur : 0;
    if (!*to_disk) {
        *out_mem = malloc((self->n_seen + self->group_keys) * sizeof **out_mem);
        if (!*out_mem) {
            errno = ENOMEM;
            return s_fail(self, err, "no memory to merge");
        }
        sink->mem = *out_mem;
        return HO_OK;
    }
    if (self->fd_seen[*out_i] < 0 && (self->fd_seen[*out_i] = s_tmpfile(self)) < 0) {
        return s_fail(self, err, "cannot create a temporary file");
    }
    if (ftruncate(self->fd_seen[*out_i], 0) != 0) {
        return s_fail(self, err, "cannot truncate a temporary file");
    }
    sink->fd = self->fd_seen[*out_i];
    return HO_OK;
}

/* Merge the group (hp) with the seen set (seen) into sink, every hash once; *dups_p: the
 * group's keys seen in an earlier group or repeated in this one. 0, -1 when a read failed,
 * -2 when a write failed. */
static int s_merge(s_heap_t *hp, s_src_t *seen, s_sink_t *sink, long *dups_p)
{
    long dups = 0;
    uint64_t h, s = 0;
    int have_h = s_heap_pop(hp, &h);
    int have_s = s_src_peek(seen, &s);
    while (have_h > 0) {
        /* copy the seen hashes below h, then take every copy of h in the group */
        while (have_s > 0 && s < h) {
            if (s_sink_put(sink, s) != 0) {
                have_s = -2;
                break;
            }
            s_src_next(seen);
            have_s = s_src_peek(seen, &s);
        }
        if (have_s < 0) {
            break;
        }
        long copies = 1;
        uint64_t next = 0;
        while ((have_h = s_heap_pop(hp, &next)) > 0 && next == h) {
            copies++;
        }
        if (have_s > 0 && s == h) {
            dups += copies; /* seen in an earlier group: every copy is a duplicate */
            s_src_next(seen);
            have_s = s_src_peek(seen, &s);
        } else {
            dups += copies - 1;
        }
        if (s_sink_put(sink, h) != 0) {
            have_s = -2;
            break;
        }
        h = next;
    }
    while (have_h >= 0 && have_s > 0) {
        if (s_sink_put(sink, s) != 0) {
            have_s = -2;
            break;
        }
        s_src_next(seen);
        have_s = s_src_peek(seen, &s);
    }
    *dups_p = dups;
    return have_h < 0 || have_s == -1 ? -1 : have_s == -2 ? -2 : 0;
}

/* The merge is the new seen set (n hashes); the group starts over. */
static int s_adopt(ho_dupcount_t *self, bool to_disk, int out_i, uint64_t **out_mem, size_t n,
                   ho_err_t *err)
{
    free(self->seen_mem);
    self->seen_mem = NULL;
    if (to_disk) {
        self->cur = out_i;
        self->seen_on_disk = true;
    } else {
        self->seen_mem = *out_mem;
        *out_mem = NULL;
    }
    self->n_seen = n;
    self->n = 0;
    self->n_runs = 0;
    self->runs_end = 0;
    self->group_keys = 0;
    if (self->fd_runs >= 0 && ftruncate(self->fd_runs, 0) != 0) {
        return s_fail(self, err, "cannot truncate a temporary file");
    }
    return HO_OK;
}

int ho_dupcount_close_group(ho_dupcount_t *self, long *dups_p, ho_err_t *err)
{
    *dups_p = 0;
    if (self->broken) {
        return ho_err_set(err, HO_ERR_IO, "", "%s", self->broken_msg);
    }
    if (self->group_keys == 0) {
        return HO_OK;
    }
    /* the group's sources: the sorted buffer alone, or every run once something spilled */
    if (self->n_runs > 0 && self->n > 0 && s_spill(self, err) != HO_OK) {
        return HO_ERR_IO;
    }
    size_t k = self->n_runs ? self->n_runs : 1;
    s_src_t *src = calloc(k + 1, sizeof *src);
    uint64_t *bufs = calloc((k + 1) * S_IO_KEYS, sizeof *bufs);
    uint64_t *head = calloc(k, sizeof *head);
    size_t *idx = calloc(k, sizeof *idx);
    s_sink_t *sink = calloc(1, sizeof *sink);
    uint64_t *out_mem = NULL;
    s_heap_t hp = {src, head, idx, 0};
    bool to_disk = false;
    int out_i = 0;
    long dups = 0;
    int rc = HO_OK;
    if (!src || !bufs || !head || !idx || !sink) {
        errno = ENOMEM;
        rc = s_fail(self, err, "no memory to merge");
        goto done;
    }
    if ((rc = s_group_heap(self, k, bufs, &hp, err)) != HO_OK) {
        goto done;
    }
    s_src_t *seen = &src[k];
    if (self->seen_on_disk) {
        s_src_file(seen, self->fd_seen[self->cur], 0, self->n_seen, bufs + k * S_IO_KEYS);
    } else {
        s_src_mem(seen, self->seen_mem, self->n_seen);
    }
    if ((rc = s_open_sink(self, sink, &to_disk, &out_i, &out_mem, err)) != HO_OK) {
        goto done;
    }
    int mrc = s_merge(&hp, seen, sink, &dups);
    if (mrc == -1) {
        rc = s_fail(self, err, "cannot read a temporary file");
    } else if (mrc == -2 || s_sink_flush(sink) != 0) {
        rc = s_fail(self, err, "cannot write a temporary file");
    } else if ((rc = s_adopt(self, to_disk, out_i, &out_mem, sink->n, err)) == HO_OK) {
        *dups_p = dups;
    }
done:
    free(out_mem);
    free(sink);
    free(idx);
    free(head);
    free(bufs);
    free(src);
    return rc;
}

size_t ho_dupcount_distinct(const ho_dupcount_t *self)
{
    return self->n_seen;
}

size_t ho_dupcount_spills(const ho_dupcount_t *self)
{
    return self->spills;
}
