/* pareto.c - finishing touches to the chart parts of a closed workbook, which libxlsxwriter
 * 1.1 cannot express:
 *   - the Pareto chart: its second series becomes a line on a secondary 0-100 % axis
 *     (bars + cumulative share), i.e. a bar/line combination chart;
 *   - text categories: in constant-memory mode libxlsxwriter keeps no cell cache, so it
 *     writes category ranges as <c:numRef>; ours are all text (weeks, reasons, bands), so
 *     they become <c:strRef> and every reader labels the axis with the text.
 *
 * The .xlsx (a zip) is rewritten entry by entry: untouched entries are copied byte for byte
 * (their compressed data is not re-encoded), patched chart parts are stored uncompressed.
 * Everything is deterministic, so the output stays byte-identical run to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "report/report_int.h"

static uint16_t s_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t s_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void s_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void s_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

/* ---- a growable string ---- */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} s_buf_t;

static void s_add(s_buf_t *b, const char *p, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void s_adds(s_buf_t *b, const char *p)
{
    s_add(b, p, strlen(p));
}

/* Replace every occurrence of from with to. */
static char *s_replace_all(const char *in, const char *from, const char *to)
{
    s_buf_t b = {0};
    size_t fl = strlen(from);
    const char *p = in, *q;
    while ((q = strstr(p, from)) != NULL) {
        s_add(&b, p, (size_t)(q - p));
        s_adds(&b, to);
        p = q + fl;
    }
    s_adds(&b, p);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static const char *const s_second_axes =
    "<c:catAx><c:axId val=\"50990003\"/><c:scaling><c:orientation val=\"minMax\"/>"
    "</c:scaling><c:delete val=\"1\"/><c:axPos val=\"b\"/><c:numFmt formatCode=\"General\" "
    "sourceLinked=\"1\"/><c:tickLblPos val=\"nextTo\"/><c:crossAx val=\"50990004\"/>"
    "<c:crosses val=\"autoZero\"/><c:auto val=\"1\"/><c:lblAlgn val=\"ctr\"/>"
    "<c:lblOffset val=\"100\"/></c:catAx>"
    "<c:valAx><c:axId val=\"50990004\"/><c:scaling><c:orientation val=\"minMax\"/>"
    "<c:max val=\"1\"/><c:min val=\"0\"/></c:scaling><c:axPos val=\"r\"/><c:title><c:tx>"
    "<c:rich><a:bodyPr rot=\"-5400000\" vert=\"horz\"/><a:lstStyle/><a:p><a:pPr><a:defRPr/>"
    "</a:pPr><a:r><a:rPr lang=\"en-US\"/><a:t>Cumulative share</a:t></a:r></a:p></c:rich>"
    "</c:tx><c:layout/></c:title><c:numFmt formatCode=\"0%\" sourceLinked=\"0\"/>"
    "<c:tickLblPos val=\"nextTo\"/><c:crossAx val=\"50990003\"/><c:crosses val=\"max\"/>"
    "<c:crossBetween val=\"between\"/></c:valAx>";

/* The Pareto transformation of one chart part; NULL if the part is not shaped as expected
 * (a bar chart with two series). */
static char *s_pareto(const char *xml)
{
    const char *bar_end = strstr(xml, "</c:barChart>");
    const char *s1 = strstr(xml, "<c:ser>");
    const char *s2 = s1 ? strstr(s1 + 7, "<c:ser>") : NULL;
    const char *e2 = s2 ? strstr(s2, "</c:ser>") : NULL;
    const char *plot_end = strstr(xml, "</c:plotArea>");
    if (!bar_end || !s2 || !e2 || e2 > bar_end || !plot_end || plot_end < bar_end) {
        return NULL;
    }
    e2 += strlen("</c:ser>");
    const char *cat = strstr(s2, "<c:cat>");
    if (!cat || cat > e2) {
        return NULL;
    }
    s_buf_t b = {0};
    s_add(&b, xml, (size_t)(s2 - xml));    /* up to the second series */
    s_add(&b, e2, (size_t)(bar_end - e2)); /* rest of the bar chart */
    s_adds(&b, "</c:barChart><c:lineChart><c:grouping val=\"standard\"/>");
    s_add(&b, s2, (size_t)(cat - s2)); /* idx, order, tx */
    s_adds(&b, "<c:marker><c:symbol val=\"circle\"/><c:size val=\"6\"/></c:marker>");
    s_add(&b, cat, (size_t)(e2 - cat)); /* cat, val, </c:ser> */
    s_adds(&b, "<c:marker val=\"1\"/><c:axId val=\"50990003\"/><c:axId val=\"50990004\"/>"
               "</c:lineChart>");
    const char *after_bar = bar_end + strlen("</c:barChart>");
    s_add(&b, after_bar, (size_t)(plot_end - after_bar)); /* the primary axes */
    s_adds(&b, s_second_axes);
    s_adds(&b, plot_end);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static char *s_patch_chart(const char *xml, const char *pareto_title)
{
    char *a = s_replace_all(xml, "<c:cat><c:numRef>", "<c:cat><c:strRef>");
    char *b = a ? s_replace_all(a, "</c:numRef></c:cat>", "</c:strRef></c:cat>") : NULL;
    free(a);
    if (b && pareto_title && strstr(b, pareto_title)) {
        char *c = s_pareto(b);
        free(b);
        return c;
    }
    return b;
}

static ho_report_error_t s_fail(ho_err_t *err, const char *path, const char *what)
{
    ho_err_set(err, HO_ERR_IO, "output", "%s: chart finishing: %s", path, what);
    return HO_REPORT_ERR_IO;
}

/* Read n bytes at offset off. */
static bool s_pread(FILE *f, long off, void *buf, size_t n)
{
    return fseek(f, off, SEEK_SET) == 0 && fread(buf, 1, n, f) == n;
}

/* Copy n bytes at offset off of in to out, in chunks (an entry can be big: the Handoffs
 * sheet of a large week). */
static bool s_copy(FILE *in, long off, size_t n, FILE *out)
{
    unsigned char chunk[65536];
    if (fseek(in, off, SEEK_SET) != 0) {
        return false;
    }
    while (n > 0) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        if (fread(chunk, 1, k, in) != k || fwrite(chunk, 1, k, out) != k) {
            return false;
        }
        n -= k;
    }
    return true;
}

static char *s_inflate(const unsigned char *p, size_t clen, size_t ulen, uint16_t method)
{
    char *out = malloc(ulen + 1);
    if (!out) {
        return NULL;
    }
    if (method == 0) {
        memcpy(out, p, ulen);
    } else {
        z_stream zs = {0};
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
            free(out);
            return NULL;
        }
        zs.next_in = (Bytef *)p;
        zs.avail_in = (uInt)clen;
        zs.next_out = (Bytef *)out;
        zs.avail_out = (uInt)ulen;
        int rc = inflate(&zs, Z_FINISH);
        inflateEnd(&zs);
        if (rc != Z_STREAM_END || zs.total_out != ulen) {
            free(out);
            return NULL;
        }
    }
    out[ulen] = '\0';
    return out;
}

/* Find the end of central directory record: the last 22 bytes, or further back over an
 * archive comment (libxlsxwriter writes none). Only the tail is read into memory. Copies
 * the record to end and returns its offset, or -1 when in is not a zip archive. */
static long s_find_end(FILE *in, unsigned char end[22])
{
    long len = fseek(in, 0, SEEK_END) == 0 ? ftell(in) : -1;
    unsigned char tail[65557 + 22];
    size_t tlen = len < 0 ? 0 : (size_t)len < sizeof tail ? (size_t)len : sizeof tail;
    long tail_off = len - (long)tlen;
    long eocd = -1;
    if (tlen >= 22 && s_pread(in, tail_off, tail, tlen)) {
        for (size_t i = tlen - 22;; i--) {
            if (s_u32(tail + i) == 0x06054b50) {
                eocd = tail_off + (long)i;
                break;
            }
            if (i == 0) {
                break;
            }
        }
    }
    if (eocd >= 0) {
        memcpy(end, tail + (eocd - tail_off), 22);
    }
    return eocd;
}

/* Copy one entry, whose central directory record is at cdir + *p, to out at offset
 * *written: a chart part is inflated, patched and stored uncompressed, any other entry is
 * copied byte for byte. Its updated central directory record is appended to cd, and *p and
 * *written move past it. Returns what went wrong, or NULL. */
static const char *s_entry(FILE *in, FILE *out, const unsigned char *cdir, size_t cd_size,
                           size_t *p, long eocd, const char *pareto_title, size_t *written,
                           s_buf_t *cd)
{
    if (*p + 46 > cd_size || s_u32(cdir + *p) != 0x02014b50) {
        return "bad central directory entry";
    }
    unsigned char hdr[46], loc[30];
    memcpy(hdr, cdir + *p, 46);
    uint16_t nlen = s_u16(hdr + 28), xlen = s_u16(hdr + 30), clen_c = s_u16(hdr + 32);
    uint16_t method = s_u16(hdr + 10);
    uint32_t csize = s_u32(hdr + 20), usize = s_u32(hdr + 24), loff = s_u32(hdr + 42);
    if (*p + 46 + nlen + xlen + clen_c > cd_size || csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu ||
        loff == 0xFFFFFFFFu || !s_pread(in, (long)loff, loc, 30)) {
        return "unsupported zip entry (zip64) or truncated archive";
    }
    const unsigned char *name = cdir + *p + 46;
    long data = (long)loff + 30 + s_u16(loc + 26) + s_u16(loc + 28);
    if (data + (long)csize > eocd) {
        return "truncated zip entry";
    }
    char *patched = NULL;
    size_t plen = csize;
    if (nlen > 15 && !memcmp(name, "xl/charts/chart", 15) && (method == 0 || method == 8)) {
        unsigned char *raw = malloc(csize ? csize : 1);
        char *xml =
            raw && s_pread(in, data, raw, csize) ? s_inflate(raw, csize, usize, method) : NULL;
        patched = xml ? s_patch_chart(xml, pareto_title) : NULL;
        free(xml);
        free(raw);
        if (!patched) {
            return "cannot rewrite a chart part";
        }
        plen = strlen(patched);
        s_put16(hdr + 10, 0); /* stored */
        s_put32(hdr + 16, (uint32_t)crc32(0L, (const Bytef *)patched, (uInt)plen));
        s_put32(hdr + 20, (uint32_t)plen);
        s_put32(hdr + 24, (uint32_t)plen);
    }
    s_put16(hdr + 8, (uint16_t)(s_u16(hdr + 8) & ~0x0008u)); /* sizes are in the header */
    s_put32(hdr + 42, (uint32_t)*written);
    s_put32(loc, 0x04034b50);
    memcpy(loc + 4, hdr + 6, 2);    /* version needed */
    memcpy(loc + 6, hdr + 8, 2);    /* flags */
    memcpy(loc + 8, hdr + 10, 2);   /* method */
    memcpy(loc + 10, hdr + 12, 4);  /* time, date */
    memcpy(loc + 14, hdr + 16, 12); /* crc, sizes */
    s_put16(loc + 26, nlen);
    s_put16(loc + 28, 0);
    bool ok = fwrite(loc, 1, 30, out) == 30 && fwrite(name, 1, nlen, out) == nlen;
    if (ok && patched) {
        ok = fwrite(patched, 1, plen, out) == plen;
    } else if (ok) {
        ok = s_copy(in, data, plen, out);
    }
    const char *problem = ok ? NULL : "read or write error";
    *written += 30u + nlen + plen;
    s_add(cd, (const char *)hdr, 46);
    s_add(cd, (const char *)name, (size_t)nlen + xlen + clen_c);
    free(patched);
    *p += 46u + nlen + xlen + clen_c;
    return problem;
}

/* Entries are streamed; only the central directory is held in memory. */
ho_report_error_t ho_report_pareto_patch(const char *path, const char *pareto_title, ho_err_t *err)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        return s_fail(err, path, "cannot read the workbook back");
    }
    unsigned char end[22];
    long eocd = s_find_end(in, end);
    if (eocd < 0) {
        fclose(in);
        return s_fail(err, path, "not a zip archive");
    }
    uint16_t count = s_u16(end + 10);
    uint32_t cd_size = s_u32(end + 12), cd_off = s_u32(end + 16);
    unsigned char *cdir = malloc(cd_size ? cd_size : 1);
    if (!cdir || (long)cd_off + (long)cd_size > eocd || !s_pread(in, (long)cd_off, cdir, cd_size)) {
        free(cdir);
        fclose(in);
        return s_fail(err, path, "bad central directory");
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.zip-%ld", path, (long)getpid());
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        free(cdir);
        fclose(in);
        return s_fail(err, path, "cannot write the finished workbook");
    }
    s_buf_t cd = {0};
    const char *problem = NULL;
    size_t p = 0, written = 0;
    for (uint16_t k = 0; k < count && !problem; k++) {
        problem = s_entry(in, out, cdir, cd_size, &p, eocd, pareto_title, &written, &cd);
    }
    if (!problem && cd.oom) {
        problem = "out of memory";
    }
    if (!problem) {
        s_put32(end + 12, (uint32_t)cd.len);
        s_put32(end + 16, (uint32_t)written);
        s_put16(end + 20, 0);
        if ((cd.len && fwrite(cd.s, 1, cd.len, out) != cd.len) || fwrite(end, 1, 22, out) != 22) {
            problem = "write error";
        }
    }
    free(cd.s);
    free(cdir);
    fclose(in);
    if (fclose(out) != 0 && !problem) {
        problem = "write error";
    }
    if (!problem && rename(tmp, path) != 0) {
        problem = "cannot replace the workbook";
    }
    if (problem) {
        unlink(tmp);
        return s_fail(err, path, problem);
    }
    return HO_REPORT_OK;
}
