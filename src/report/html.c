/* html.c - the weekly report as one self-contained HTML page, for the people who do not open
 * Excel: the Summary KPIs, the MQL cohort trend, Sources by channel, the lost and rejected
 * reasons with their owner and the reason x channel matrix, the fit x interest grid, this
 * week's lost and rejected leads and the Definitions (reports/README.md, "HTML page").
 *
 * It writes no number of its own: everything comes from the report's data model
 * (report_int.h, ho_rmodel_t) that the sheets filled from their queries, and the drill-down
 * rows arrive one by one from the "Lost and rejected" sheet's query (buffered in a temporary
 * file, so a long list does not sit in memory). No external resource: inline CSS, charts as
 * inline SVG drawn here, no script. Every text is HTML-escaped (lead names, companies and
 * reason codes come from outside). Nothing depends on the clock: same store and week, same
 * bytes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

struct ho_rhtml_t {
    FILE *f;    /* the page (temporary name until the report renames it) */
    FILE *rows; /* the drill-down table's rows, until the page reaches them */
    int64_t nrows;
    char path[4096];
};

static const char *const s_colors[] = {"#4472c4", "#ed7d31", "#a5a5a5", "#70ad47"};

/* Text as HTML: & < > " ' as entities, control characters (never shown) as spaces. */
static void s_esc(FILE *f, const char *t)
{
    for (const unsigned char *p = (const unsigned char *)(t ? t : ""); *p; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
        }
    }
}

/* v with thousands separators and dec decimals ("12,345.60"), sign when sign is set. */
static void s_group(char *out, size_t cap, double v, int dec, bool sign)
{
    char digits[64];
    /* half away from zero at the shown decimals, as the spreadsheet rounds (16.25 -> 16.3);
     * the nudge absorbs the binary error of values like 2.675 */
    double p = pow(10, dec), a = fabs(v) * p;
    a = round(a + a * 1e-14) / p;
    snprintf(digits, sizeof digits, "%.*f", dec, a);
    bool zero = strspn(digits, "0.") == strlen(digits);
    const char *s = zero ? "" : v < 0 ? "-" : sign ? "+" : "";
    const char *dot = strchr(digits, '.');
    size_t ilen = dot ? (size_t)(dot - digits) : strlen(digits), o = 0;
    o += (size_t)snprintf(out, cap, "%s", s);
    for (size_t i = 0; i < ilen && o + 2 < cap; i++) {
        if (i > 0 && (ilen - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = digits[i];
    }
    out[o] = '\0';
    if (dot && o < cap) {
        snprintf(out + o, cap - o, "%s", dot);
    }
}

void ho_rfmt(char *out, size_t cap, ho_rkind_t kind, bool delta, bool avg, double v)
{
    switch (kind) {
    case HO_RK_COUNT:
        s_group(out, cap, v, avg ? 1 : 0, delta);
        break;
    case HO_RK_MONEY:
        s_group(out, cap, v, 2, delta);
        break;
    case HO_RK_RATE:
        s_group(out, cap, v * 100.0, 1, delta);
        strncat(out, "%", cap - strlen(out) - 1);
        break;
    case HO_RK_HOURS:
        s_group(out, cap, v, 1, delta);
        break;
    }
}

/* A number cell: the value as shown, and exactly (data-v) for whoever reads the page back. */
static void s_num(FILE *f, bool has, double v, ho_rkind_t kind, bool delta, bool avg,
                  const char *cls)
{
    if (!has) {
        fprintf(f, "<td class=\"n%s\"></td>", cls);
        return;
    }
    char t[64];
    ho_rfmt(t, sizeof t, kind, delta, avg, v);
    fprintf(f, "<td class=\"n%s\" data-v=\"%.17g\">%s</td>", cls, v, t);
}

static void s_rate(FILE *f, double num, double den, const char *cls)
{
    s_num(f, den > 0, den > 0 ? num / den : 0, HO_RK_RATE, false, false, cls);
}

ho_report_error_t ho_rhtml_open(ho_rctx_t *ctx, const char *tmp_path)
{
    ho_rhtml_t *h = calloc(1, sizeof *h);
    if (!h) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "html: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    snprintf(h->path, sizeof h->path, "%s", tmp_path);
    h->f = fopen(tmp_path, "w");
    h->rows = h->f ? tmpfile() : NULL;
    if (!h->f || !h->rows) {
        ho_err_set(ctx->err, HO_ERR_IO, "html", "%s: cannot write: %s", ctx->opts->html,
                   strerror(errno));
        if (h->f) {
            fclose(h->f);
        }
        free(h);
        return HO_REPORT_ERR_IO;
    }
    ctx->html = h;
    return HO_REPORT_OK;
}

void ho_rhtml_abort(ho_rctx_t *ctx)
{
    if (ctx->html) {
        fclose(ctx->html->f);
        fclose(ctx->html->rows);
        free(ctx->html);
        ctx->html = NULL;
    }
}

void ho_rhtml_drill_row(ho_rctx_t *ctx, const ho_rdrill_t *d)
{
    FILE *f = ctx->html->rows;
    ho_civil_time_t c = ho_tz_civil(ctx->zone, ho_floor_div(d->at, 1000) * 1000);
    char cl[256];
    const char *cells[] = {d->label,   *d->owner ? d->owner : "(unknown)",
                           d->lead,    d->email,
                           d->company, ho_rchannel_label(d->channel, cl, sizeof cl),
                           d->source,  d->campaign,
                           d->rep,     d->stage,
                           d->flags};
    fprintf(f, "<tr><td>%04d-%02d-%02d %02d:%02d</td><td>%s</td>", c.year, c.month, c.day, c.hour,
            c.minute, d->lost ? "Lost" : "Rejected");
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        fputs("<td>", f);
        s_esc(f, cells[i]);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
    ctx->html->nrows++;
}

/* ---- charts (inline SVG) ---- */

/* An axis from 0 for values up to v: a step of 1, 2 or 5 x 10^k giving at most 5 intervals,
 * and the top (a whole number of steps at or above v). Returns the number of intervals. */
static int s_axis(double v, double *top, double *step)
{
    double raw = v > 0 ? v / 5.0 : 0.2, p = pow(10, floor(log10(raw)));
    *step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
    if (*step < 1) {
        *step = 1; /* counts: no half leads on the axis */
    }
    int n = (int)ceil(v / *step - 1e-9);
    n = n < 1 ? 1 : n;
    *top = n * *step;
    return n;
}

static void s_legend(FILE *f, double x, double y, const char *const *names, int n, bool line)
{
    for (int k = 0; k < n; k++, x += 150) {
        if (line && k == n - 1) {
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00000\" "
                    "stroke-width=\"2\"/>",
                    x, y - 4, x + 14, y - 4);
        } else {
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>", x,
                    y - 9, s_colors[k % 4]);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
        s_esc(f, names[k]);
        fputs("</text>", f);
    }
}

/* The trend: per MQL cohort week, bars of MQLs and of those that reached SQL (left axis),
 * the MQL->SQL rate as a line (right axis, percent); immature cohorts shaded. */
static void s_trend_svg(ho_rctx_t *ctx, FILE *f)
{
    const double(*v)[5] = (const double(*)[5])ctx->model.funnel;
    const double W = 760, H = 300, L = 60, R = 60, T = 30, B = 60;
    double pw = W - L - R, ph = H - T - B, max = 0, step;
    for (int i = 0; i < HO_RW; i++) {
        max = v[i][0] > max ? v[i][0] : max;
    }
    int nt = s_axis(max, &max, &step);
    double slot = pw / HO_RW, bw = slot * 0.35;
    fprintf(f,
            "<svg class=\"chart\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"MQL cohort "
            "trend\">\n",
            W, H, W, H);
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f2f2f2\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" class=\"note\">immature</text>\n",
            L + slot * (HO_RW - HO_IMMATURE_WEEKS), T, slot * HO_IMMATURE_WEEKS, ph,
            L + slot * (HO_RW - HO_IMMATURE_WEEKS) + 4, T + 12);
    for (int t = 0; t <= nt; t++) { /* grid and both axes' labels */
        double y = T + ph - ph * t / nt;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d9d9d9\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>"
                "<text x=\"%.1f\" y=\"%.1f\">%.0f%%</text>\n",
                L, y, L + pw, y, L - 6, y + 4, step * t, L + pw + 6, y + 4, 100.0 * t / nt);
    }
    for (int i = 0; i < HO_RW; i++) {
        double x = L + slot * i + slot * 0.15;
        for (int k = 0; k < 2; k++) {
            double val = v[i][k == 0 ? 0 : 2], hgt = ph * val / max;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>%s %s: %.0f</title></rect>",
                    x + k * bw, T + ph - hgt, bw, hgt, s_colors[k], ctx->weeks[i].label,
                    k == 0 ? "MQL" : "reached SQL", val);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                L + slot * i + slot / 2, T + ph + 16, ctx->weeks[i].label + 5);
    }
    fputs("<polyline fill=\"none\" stroke=\"#c00000\" stroke-width=\"2\" points=\"", f);
    for (int i = 0; i < HO_RW; i++) { /* a cohort with no MQL has no rate: no point */
        if (v[i][0] > 0) {
            fprintf(f, "%.1f,%.1f ", L + slot * i + slot / 2, T + ph - ph * v[i][2] / v[i][0]);
        }
    }
    fputs("\"/>\n", f);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#595959\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">MQL cohort week</text>",
            L, T + ph, L + pw, T + ph, L + pw / 2, T + ph + 34);
    static const char *const names[] = {"MQL (cohort)", "Reached SQL",
                                        "MQL\xe2\x86\x92SQL (right axis)"};
    s_legend(f, L, H - 8, names, 3, true);
    fputs("</svg>\n", f);
}

/* Leads, MQL and SQL per channel as horizontal bars, biggest channel on top (table order). */
static void s_channels_svg(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    const double W = 760, L = 150, R = 30, T = 20, row = 36, bh = 10;
    double pw = W - L - R, ph = row * (double)m->nch, H = T + ph + 60, max = 0, step;
    for (size_t i = 0; i < m->nch; i++) {
        max = m->ch[i].n[0] > max ? m->ch[i].n[0] : max;
    }
    int nt = s_axis(max, &max, &step);
    fprintf(f,
            "<svg class=\"chart\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Leads, MQLs "
            "and SQLs by channel\">\n",
            W, H, W, H);
    for (int t = 0; t <= nt; t++) {
        double x = L + pw * t / nt;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d9d9d9\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                x, T, x, T + ph, x, T + ph + 16, step * t);
    }
    static const int series[3] = {0, 1, 2}; /* leads, MQL, SQL */
    for (size_t i = 0; i < m->nch; i++) {
        double y = T + row * (double)i + 3;
        char cl[256];
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", L - 6, y + 18);
        s_esc(f, ho_rchannel_label(m->ch[i].code, cl, sizeof cl));
        fputs("</text>", f);
        for (int k = 0; k < 3; k++) {
            double val = m->ch[i].n[series[k]];
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>%.0f</title></rect>",
                    L, y + bh * k, pw * val / max, bh, s_colors[k], val);
        }
        fputc('\n', f);
    }
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#595959\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">Leads created in the 12 weeks"
            "</text>",
            L, T, L, T + ph, L + pw / 2, T + ph + 34);
    static const char *const names[] = {"Leads", "MQL", "SQL"};
    s_legend(f, L, H - 6, names, 3, false);
    fputs("</svg>\n", f);
}

/* ---- the sections ---- */

static void s_summary(ho_rctx_t *ctx, FILE *f)
{
    const ho_rweek_t *w = &ctx->weeks[HO_RW_THIS];
    fprintf(f,
            "<h2 id=\"summary\">Summary</h2>\n<table class=\"kpi\">\n<tr><th>Metric</th>"
            "<th>%s</th><th>%s</th><th>Delta</th><th>4-week average (%s..%s)</th>"
            "<th>Definition</th></tr>\n",
            w->label, ctx->weeks[HO_RW_LAST].label, ctx->weeks[HO_RW - 4].label + 5, w->label + 5);
    for (size_t i = 0; i < ctx->model.nkpi; i++) {
        const ho_rkpi_t *k = &ctx->model.kpi[i];
        fputs("<tr><th class=\"m\">", f);
        s_esc(f, k->name);
        fputs("</th>", f);
        for (int c = 0; c < 4; c++) {
            s_num(f, k->has[c], k->v[c], k->kind, c == 2, c == 3, "");
        }
        fputs("<td class=\"note\">", f);
        s_esc(f, k->note);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p class=\"note\">4-week average: counts and amounts are the mean of the "
          "four weekly values; rates and the medians are computed over the four weeks "
          "together.</p>\n<h3>MQL cohorts: MQLs, reached SQL and MQL\xe2\x86\x92SQL by week "
          "(last 4 weeks immature)</h3>\n",
          f);
    s_trend_svg(ctx, f);
}

/* The channel roll-up's row (or Total): leads, MQL, SQL, won, amount, four rates. */
static void s_chan_cells(FILE *f, const double n[5], const char *cls)
{
    for (int k = 0; k < 4; k++) {
        s_num(f, true, n[k], HO_RK_COUNT, false, false, cls);
    }
    s_num(f, true, n[4], HO_RK_MONEY, false, false, cls);
    s_rate(f, n[1], n[0], cls);
    s_rate(f, n[2], n[1], cls);
    s_rate(f, n[3], n[2], cls);
    s_rate(f, n[3], n[0], cls);
}

static void s_sources(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    fprintf(f,
            "<h2 id=\"sources\">Sources by channel</h2>\n<p class=\"note\">Leads created %s..%s "
            "by channel (normalized by the store); stages reached by the end of %s.</p>\n"
            "<table class=\"sources\">\n<tr><th>Channel</th><th>Leads</th><th>MQL</th>"
            "<th>SQL</th><th>Won</th><th>Won amount (",
            ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label);
    s_esc(f, ctx->opts->currency && *ctx->opts->currency ? ctx->opts->currency : "USD");
    fputs(")</th><th>Lead\xe2\x86\x92MQL</th><th>MQL\xe2\x86\x92SQL</th><th>SQL\xe2\x86\x92Won"
          "</th><th>Lead\xe2\x86\x92Won</th></tr>\n",
          f);
    double tot[5] = {0};
    for (size_t i = 0; i < m->nch; i++) {
        char cl[256];
        fputs("<tr><th class=\"m\">", f);
        s_esc(f, ho_rchannel_label(m->ch[i].code, cl, sizeof cl));
        fputs("</th>", f);
        s_chan_cells(f, m->ch[i].n, "");
        fputs("</tr>\n", f);
        for (int k = 0; k < 5; k++) {
            tot[k] += m->ch[i].n[k];
        }
    }
    fputs("<tr class=\"total\"><th class=\"m\">Total</th>", f);
    s_chan_cells(f, tot, "");
    fputs("</tr>\n</table>\n", f);
    if (m->nch > 0) {
        s_channels_svg(ctx, f);
    }
}

/* A heat-map cell: white to red (max = the biggest cell of the table). */
static void s_heat(FILE *f, double v, double max, const char *rgb_max, bool bold)
{
    unsigned r, g, b;
    if (sscanf(rgb_max, "#%02x%02x%02x", &r, &g, &b) != 3) {
        r = g = b = 255;
    }
    double t = max > 0 ? v / max : 0;
    fprintf(f, "<td class=\"n%s\" style=\"background:#%02x%02x%02x\" data-v=\"%.17g\">",
            bold ? " b" : "", (unsigned)lround(255 - (255 - r) * t),
            (unsigned)lround(255 - (255 - g) * t), (unsigned)lround(255 - (255 - b) * t), v);
    char t2[64];
    ho_rfmt(t2, sizeof t2, HO_RK_COUNT, false, false, v);
    fprintf(f, "%s</td>", t2);
}

static void s_matrix(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    const ho_rmatrix_t *mx = &m->by_channel;
    if (!mx->m || m->nr == 0) {
        return;
    }
    fputs("<h3>Reason \xc3\x97 channel (rejected + lost, 12 weeks; darker = more)</h3>\n"
          "<table class=\"matrix\">\n<tr><th>Reason</th>",
          f);
    for (int j = 0; j < mx->nk; j++) {
        char cl[256];
        fputs("<th>", f);
        s_esc(f, ho_rchannel_label(mx->keys[j], cl, sizeof cl));
        fputs("</th>", f);
    }
    fputs(mx->other ? "<th>Other</th><th>Total</th></tr>\n" : "<th>Total</th></tr>\n", f);
    double max = 0;
    for (size_t i = 0; i < m->nr * (size_t)mx->ncol; i++) {
        max = mx->m[i] > max ? mx->m[i] : max;
    }
    for (size_t i = 0; i < m->nr; i++) {
        fputs("<tr><th class=\"m\">", f);
        s_esc(f, ho_rreason_label(ctx, m->r[i].code));
        fputs("</th>", f);
        double t = 0;
        for (int j = 0; j < mx->ncol; j++) {
            double v = mx->m[i * (size_t)mx->ncol + (size_t)j];
            t += v;
            s_heat(f, v, max, "#f8696b", false);
        }
        s_num(f, true, t, HO_RK_COUNT, false, false, " b");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void s_reasons(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    fprintf(f,
            "<h2 id=\"reasons\">Lost and rejected reasons</h2>\n<p class=\"note\">Rejected and "
            "lost outcomes recorded %s..%s by reason, with the owner of the fix "
            "(reasons.yaml).</p>\n<table class=\"reasons\">\n<tr><th>Code</th><th>Reason</th>"
            "<th>Rejected (SAL)</th><th>Lost (after SQL)</th><th>Total</th><th>This week</th>"
            "<th>Share</th><th>Cumulative share</th><th>Owner of the fix</th></tr>\n",
            ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label);
    double cum = 0, own[3] = {0}, tot[4] = {0};
    for (size_t i = 0; i < m->nr; i++) {
        const ho_rreason_t *r = &m->r[i];
        double total = r->rejected + r->lost;
        cum += total;
        const char *owner = ho_rreason_owner(ctx, r->code);
        own[!strcmp(owner, "marketing") ? 0 : !strcmp(owner, "sales") ? 1 : 2] += total;
        double t4[4] = {r->rejected, r->lost, total, r->week};
        fputs("<tr><td>", f);
        s_esc(f, r->code);
        fputs("</td><td>", f);
        s_esc(f, ho_rreason_label(ctx, r->code));
        fputs("</td>", f);
        for (int k = 0; k < 4; k++) {
            s_num(f, true, t4[k], HO_RK_COUNT, false, false, "");
            tot[k] += t4[k];
        }
        s_rate(f, total, m->grand, "");
        s_rate(f, cum, m->grand, "");
        fputs("<td>", f);
        s_esc(f, *owner ? owner : "(not in reasons.yaml)");
        fputs("</td></tr>\n", f);
    }
    fputs("<tr class=\"total\"><th class=\"m\">Total</th><td></td>", f);
    for (int k = 0; k < 4; k++) {
        s_num(f, true, tot[k], HO_RK_COUNT, false, false, "");
    }
    fputs("<td></td><td></td><td></td></tr>\n</table>\n<table class=\"owners\">\n", f);
    static const char *const own_names[3] = {"Marketing's to fix", "Sales' to fix",
                                             "Owner unknown"};
    for (int k = 0; k < 3; k++) {
        fprintf(f, "<tr><th class=\"m\">%s</th>", own_names[k]);
        s_num(f, true, own[k], HO_RK_COUNT, false, false, "");
        s_rate(f, own[k], m->grand, "");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    s_matrix(ctx, f);
}

/* The fit x interest grid: leads per cell, then the share that reached SQL ("k of n" under
 * 10 leads, as on the Calibration sheet); the MQL rule's cells in bold. */
static void s_grid(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    if (!m->has_grid) {
        return;
    }
    fprintf(f,
            "<h2 id=\"calibration\">Calibration: fit \xc3\x97 interest</h2>\n<p class=\"note\">"
            "Scored leads created %s..%s by fit band (rows, best on top) and interest band "
            "(columns). The MQL rule: fit \xe2\x89\xa5 %d and interest \xe2\x89\xa5 %d (bold "
            "cells). Cells with fewer than 10 leads show \"k of n\", not a rate.</p>\n",
            ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, m->good_fit, m->high_interest);
    double max[2] = {0, 0};
    for (int a = 0; a < HO_RGRID; a++) {
        for (int b = 0; b < HO_RGRID; b++) {
            max[0] = m->grid_n[a][b] > max[0] ? m->grid_n[a][b] : max[0];
            double r = m->grid_n[a][b] >= 10 ? m->grid_q[a][b] / m->grid_n[a][b] : 0;
            max[1] = r > max[1] ? r : max[1];
        }
    }
    for (int part = 0; part < 2; part++) {
        fprintf(f,
                "<table class=\"grid\">\n<tr><th>%s: fit \xe2\x86\x93 interest "
                "\xe2\x86\x92</th>",
                part == 0 ? "Leads" : "Reached SQL");
        char band[32];
        for (int i = 0; i < HO_RGRID; i++) {
            ho_rband(band, sizeof band, i, m->int_step);
            fprintf(f, "<th>%s</th>", band);
        }
        fputs("</tr>\n", f);
        for (int fb = HO_RGRID - 1; fb >= 0; fb--) {
            ho_rband(band, sizeof band, fb, m->fit_step);
            fprintf(f, "<tr><th class=\"m\">%s</th>", band);
            for (int i = 0; i < HO_RGRID; i++) {
                bool mql = fb * m->fit_step >= m->good_fit && i * m->int_step >= m->high_interest;
                double n = m->grid_n[fb][i], q = m->grid_q[fb][i];
                if (part == 0) {
                    s_heat(f, n, max[0], "#9bc2e6", mql);
                } else if (n >= 10) {
                    double t = max[1] > 0 ? (q / n) / max[1] : 0;
                    fprintf(f, "<td class=\"n%s\" style=\"background:#%02x%02x%02x\" ",
                            mql ? " b" : "", (unsigned)lround(255 - (255 - 0x63) * t),
                            (unsigned)lround(255 - (255 - 0xbe) * t),
                            (unsigned)lround(255 - (255 - 0x7b) * t));
                    char t2[64];
                    ho_rfmt(t2, sizeof t2, HO_RK_RATE, false, false, q / n);
                    fprintf(f, "data-v=\"%.17g\">%s</td>", q / n, t2);
                } else if (n > 0) {
                    fprintf(f, "<td class=\"n small%s\">%.0f of %.0f</td>", mql ? " b" : "", q, n);
                } else {
                    fputs("<td class=\"n\"></td>", f);
                }
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
}

/* This week's lost and rejected leads: the rows the drill-down sheet wrote, buffered. */
static int s_drill(ho_rctx_t *ctx, FILE *f)
{
    ho_rhtml_t *h = ctx->html;
    fprintf(f,
            "<h2 id=\"lost\">Lost and rejected this week</h2>\n<p class=\"note\">Every rejected "
            "and lost outcome recorded in %s (time zone ",
            ctx->weeks[HO_RW_THIS].label);
    s_esc(f, ctx->tz);
    fprintf(f,
            "), oldest first: %lld rows.</p>\n<table class=\"list\">\n<tr><th>Recorded at"
            "</th><th>Outcome</th><th>Reason</th><th>Owner of the fix</th><th>Lead</th>"
            "<th>Email</th><th>Company</th><th>Channel</th><th>Source</th><th>Campaign</th>"
            "<th>Rep</th><th>Stage reached</th><th>Flags</th></tr>\n",
            (long long)h->nrows);
    if (fflush(h->rows) != 0 || fseek(h->rows, 0, SEEK_SET) != 0) {
        return -1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, h->rows)) > 0) {
        if (fwrite(buf, 1, n, f) != n) {
            return -1;
        }
    }
    fputs("</table>\n", f);
    return ferror(h->rows) ? -1 : 0;
}

static void s_definitions(FILE *f)
{
    const ho_report_def_t *d;
    size_t n = ho_report_defs(&d);
    fputs("<h2 id=\"definitions\">Definitions</h2>\n<table class=\"defs\">\n<tr><th>Sheet</th>"
          "<th>Term</th><th>Definition</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        s_esc(f, d[i].sheet);
        fputs("</td><th class=\"m\">", f);
        s_esc(f, d[i].term);
        fputs("</th><td>", f);
        s_esc(f, d[i].text);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static const char s_style[] =
    "body{font-family:Calibri,Carlito,'Segoe UI',Arial,sans-serif;font-size:14px;color:#222;"
    "margin:24px;max-width:1200px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px;border-bottom:2px "
    "solid #d9e1f2}h3{font-size:15px;margin:16px 0 4px}\n"
    "table{border-collapse:collapse;margin:6px 0 10px}th,td{padding:3px 8px;border:1px solid "
    "#d9d9d9;vertical-align:top}\n"
    "tr:first-child th{background:#d9e1f2;text-align:left}th.m{text-align:left;"
    "background:none;font-weight:bold}\n"
    "td.n{text-align:right;white-space:nowrap}.b{font-weight:bold}.small{color:#808080;"
    "font-style:italic}\n"
    ".note,td.note{color:#595959;font-style:italic}tr.total td,tr.total th{border-top:2px "
    "solid #595959;font-weight:bold}\n"
    "svg.chart{font-size:11px;max-width:100%;height:auto}svg.chart text{fill:#404040}\n"
    "nav a{margin-right:12px}table.list{font-size:12px}\n"
    "@media print{body{margin:0}h2{page-break-after:avoid}table,svg{page-break-inside:auto}}\n";

static void s_head(ho_rctx_t *ctx, FILE *f)
{
    const ho_rweek_t *w = &ctx->weeks[HO_RW_THIS];
    int y1, m1, d1, y2, m2, d2;
    ho_civil_from_days(w->monday, &y1, &m1, &d1);
    ho_civil_from_days(w->monday + 6, &y2, &m2, &d2);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"generator\" content=\"handoff\">\n<title>handoff weekly conversion "
            "report %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>Weekly conversion "
            "report %s</h1>\n<p class=\"note\">Monday %04d-%02d-%02d to Sunday %04d-%02d-%02d, "
            "time zone ",
            w->label, s_style, w->label, y1, m1, d1, y2, m2, d2);
    s_esc(f, ctx->tz);
    fputs(". Data before the end of the week only. The same numbers as the workbook; "
          "definitions at the end.</p>\n<nav><a href=\"#summary\">Summary</a><a "
          "href=\"#sources\">Sources</a><a href=\"#reasons\">Reasons</a><a "
          "href=\"#calibration\">Calibration</a><a href=\"#lost\">Lost and rejected</a><a "
          "href=\"#definitions\">Definitions</a></nav>\n",
          f);
}

ho_report_error_t ho_rhtml_finish(ho_rctx_t *ctx)
{
    ho_rhtml_t *h = ctx->html;
    FILE *f = h->f;
    s_head(ctx, f);
    s_summary(ctx, f);
    s_sources(ctx, f);
    s_reasons(ctx, f);
    s_grid(ctx, f);
    int drc = s_drill(ctx, f);
    s_definitions(f);
    fputs("</body>\n</html>\n", f);
    bool bad = drc != 0 || ferror(f);
    bad = fclose(f) != 0 || bad;
    fclose(h->rows);
    ctx->html = NULL;
    free(h);
    if (bad) {
        ho_err_set(ctx->err, HO_ERR_IO, "html", "%s: cannot write: %s", ctx->opts->html,
                   strerror(errno));
        return HO_REPORT_ERR_IO;
    }
    return HO_REPORT_OK;
}
