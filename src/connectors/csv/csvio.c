/* csvio.c - streaming CSV reader over libcsv; see include/handoff/csvio.h
 *
 * libcsv reports fields and record ends but not positions. We feed it one physical line at
 * a time: a record starts on the line being fed when the parser is between records
 * (pstate 0, ROW_NOT_BEGUN in libcsv.c) as that line begins. */
#include "handoff/csvio.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_BUF (64u * 1024u)

/* One record: its fields live in one buffer, so a row costs no allocation once the buffers
 * have grown to the file's widest record (slots are swapped, never freed, between rows). */
typedef struct {
    ho_csv_row_t row;
    size_t cap;   /* of fields / lens / offs */
    size_t *offs; /* field offsets into buf while the record is being built */
    char *buf;
    size_t blen, bcap;
} s_slot_t;

struct ho_csv {
    FILE *file;
    bool own_file;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    unsigned char *buf;
    size_t len, pos;
    bool eof, finished, bom_checked, bom;
    uint64_t offset;
    long line; /* physical line being fed */
    bool at_line_start;
    long rec_start;
    size_t rec_bytes;
    bool rec_too_large;
    struct csv_parser parser;
    ho_csv_opts_t opts;
    /* rows completed by the last feed, in order; read out by ho_csv_next */
    s_slot_t *rows;
    size_t nrows, rows_cap, next_row;
    /* the record being built */
    s_slot_t cur;
};

static int s_no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void s_slot_free(s_slot_t *s)
{
    free(s->row.fields);
    free(s->row.lens);
    free(s->offs);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static void s_on_field(void *data, size_t len, void *arg)
{
    ho_csv_t *self = arg;
    s_slot_t *c = &self->cur;
    if (c->row.n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **f = realloc(c->row.fields, cap * sizeof *f);
        if (f) {
            c->row.fields = f;
        }
        size_t *l = realloc(c->row.lens, cap * sizeof *l);
        if (l) {
            c->row.lens = l;
        }
        size_t *o = realloc(c->offs, cap * sizeof *o);
        if (o) {
            c->offs = o;
        }
        if (!f || !l || !o) {
            return; /* out of memory: the field is dropped, the count check will flag it */
        }
        c->cap = cap;
    }
    if (self->rec_too_large) {
        len = 0;
    }
    if (c->blen + len + 1 > c->bcap) {
        size_t cap = c->bcap ? c->bcap : 1024;
        while (cap < c->blen + len + 1) {
            cap *= 2;
        }
        char *b = realloc(c->buf, cap);
        if (!b) {
            return;
        }
        c->buf = b;
        c->bcap = cap;
    }
    if (len) {
        memcpy(c->buf + c->blen, data, len);
    }
    c->buf[c->blen + len] = '\0';
    c->offs[c->row.n] = c->blen;
    c->row.lens[c->row.n] = len;
    c->blen += len + 1;
    c->row.n++;
}

static void s_on_record(int term, void *arg)
{
    (void)term;
    ho_csv_t *self = arg;
    if (self->nrows == self->rows_cap) {
        size_t cap = self->rows_cap ? self->rows_cap * 2 : 8;
        s_slot_t *r = realloc(self->rows, cap * sizeof *r);
        if (!r) {
            self->cur.row.n = 0;
            self->cur.blen = 0;
            return;
        }
        memset(r + self->rows_cap, 0, (cap - self->rows_cap) * sizeof *r);
        self->rows = r;
        self->rows_cap = cap;
    }
    s_slot_t *dst = &self->rows[self->nrows++];
    s_slot_t old = *dst;
    *dst = self->cur;
    for (size_t i = 0; i < dst->row.n; i++) {
        dst->row.fields[i] = dst->buf + dst->offs[i];
    }
    dst->row.line = self->rec_start;
    dst->row.end_line = self->line;
    dst->row.too_large = self->rec_too_large;
    self->cur = old; /* reuse the consumed slot's buffers */
    self->cur.row.n = 0;
    self->cur.blen = 0;
    self->rec_bytes = 0;
    self->rec_too_large = false;
}

static ho_csv_t *s_new(const ho_csv_opts_t *opts, ho_err_t *err)
{
    ho_csv_t *self = calloc(1, sizeof *self);
    if (!self || !(self->buf = malloc(S_BUF))) {
        free(self);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->opts.delimiter = ',';
    self->opts.max_record_bytes = 4u * 1024u * 1024u;
    if (opts) {
        if (opts->delimiter) {
            self->opts.delimiter = opts->delimiter;
        }
        if (opts->max_record_bytes) {
            self->opts.max_record_bytes = opts->max_record_bytes;
        }
    }
    csv_init(&self->parser, CSV_APPEND_NULL);
    csv_set_space_func(&self->parser, s_no_space);
    csv_set_delim(&self->parser, (unsigned char)self->opts.delimiter);
    self->line = 1;
    self->at_line_start = true;
    return self;
}

ho_csv_t *ho_csv_open(const char *path, const ho_csv_opts_t *opts, ho_err_t *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        ho_err_set(err, HO_ERR_IO, "", "%s: %s", path, strerror(errno));
        return NULL;
    }
    ho_csv_t *self = s_new(opts, err);
    if (!self) {
        if (f != stdin) {
            fclose(f);
        }
        return NULL;
    }
    self->file = f;
    self->own_file = f != stdin;
    return self;
}

ho_csv_t *ho_csv_open_mem(const void *data, size_t len, const ho_csv_opts_t *opts, ho_err_t *err)
{
    ho_csv_t *self = s_new(opts, err);
    if (self) {
        self->mem = data;
        self->mem_len = len;
    }
    return self;
}

void ho_csv_destroy(ho_csv_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_csv_t *self = *self_p;
    csv_free(&self->parser);
    for (size_t i = 0; i < self->rows_cap; i++) {
        s_slot_free(&self->rows[i]);
    }
    free(self->rows);
    s_slot_free(&self->cur);
    if (self->own_file) {
        fclose(self->file);
    }
    free(self->buf);
    free(self);
    *self_p = NULL;
}

static int s_fill(ho_csv_t *self, ho_err_t *err)
{
    if (self->mem) {
        size_t n = self->mem_len - self->mem_pos;
        if (n > S_BUF) {
            n = S_BUF;
        }
        memcpy(self->buf, self->mem + self->mem_pos, n);
        self->mem_pos += n;
        self->len = n;
    } else {
        self->len = fread(self->buf, 1, S_BUF, self->file);
        if (self->len == 0 && ferror(self->file)) {
            return ho_err_set(err, HO_ERR_IO, "", "read error: %s", strerror(errno));
        }
    }
    self->pos = 0;
    if (self->len == 0) {
        self->eof = true;
    }
    if (!self->bom_checked && self->len > 0) {
        self->bom_checked = true;
        if (self->len >= 3 && memcmp(self->buf, "\xEF\xBB\xBF", 3) == 0) {
            self->bom = true;
            self->pos = 3;
            self->offset += 3;
        }
    }
    return HO_OK;
}

/* Feed the next piece of the current physical line (up to and including its LF). */
static void s_feed_some(ho_csv_t *self)
{
    if (self->at_line_start && self->parser.pstate == 0) {
        self->rec_start = self->line;
    }
    const unsigned char *p = self->buf + self->pos;
    size_t avail = self->len - self->pos;
    const unsigned char *nl = memchr(p, '\n', avail);
    size_t n = nl ? (size_t)(nl - p) + 1 : avail;
    self->rec_bytes += n;
    if (!self->rec_too_large && self->rec_bytes > self->opts.max_record_bytes) {
        /* Bound memory: drop what the runaway record buffered and ignore the rest of it. */
        self->rec_too_large = true;
        self->parser.entry_pos = 0;
    }
    if (self->rec_too_large) {
        self->parser.entry_pos = 0;
    }
    csv_parse(&self->parser, p, n, s_on_field, s_on_record, self);
    self->pos += n;
    self->offset += n;
    if (nl) {
        self->line++;
        self->at_line_start = true;
    } else {
        self->at_line_start = false;
    }
}

int ho_csv_next(ho_csv_t *self, const ho_csv_row_t **row_p, ho_err_t *err)
{
    if (self->next_row < self->nrows) {
        *row_p = &self->rows[self->next_row++].row;
        return 1;
    }
    self->next_row = self->nrows = 0;
    while (self->nrows == 0) {
        if (self->finished) {
            return 0;
        }
        if (self->pos >= self->len && !self->eof) {
            int rc = s_fill(self, err);
            if (rc != HO_OK) {
                return rc;
            }
        }
        if (self->pos < self->len) {
            s_feed_some(self);
        } else if (self->eof) {
            /* the last line had no line ending, or a quote was never closed */
            long saved = self->line;
            if (self->at_line_start && self->line > 1) {
                self->line--;
            }
            csv_fini(&self->parser, s_on_field, s_on_record, self);
            self->line = saved;
            self->finished = true;
        }
    }
    *row_p = &self->rows[self->next_row++].row;
    return 1;
}

uint64_t ho_csv_offset(const ho_csv_t *self)
{
    return self->offset;
}

bool ho_csv_had_bom(const ho_csv_t *self)
{
    return self->bom;
}

long ho_utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return (long)i;
        }
        if (i + need >= len) {
            return (long)i;
        }
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return (long)i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, past U+10FFFF */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return (long)i;
        }
        i += need + 1;
    }
    return -1;
}

char *ho_latin1_to_utf8(const char *s, size_t len)
{
    char *out = malloc(len * 2 + 1);
    if (!out) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[o++] = (char)c;
        } else {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    return out;
}

void ho_csv_write_field(FILE *f, const char *s, bool force_quote)
{
    bool quote = force_quote || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') {
            fputc('"', f);
        }
        fputc(*p, f);
    }
    fputc('"', f);
}
