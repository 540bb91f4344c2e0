/* html.c - the weekly report as one self-contained HTML page, for the people who do not open
 * Excel: one section per sheet, in the workbook's order (Summary with the data freshness and
 * the MQL cohort trend, Funnel, Sources with the drill-down, Lost reasons with the Pareto and
 * both matrices, Lost and rejected, Reps, Calibration, Learnings, Handoffs, Data quality,
 * Definitions; reports/README.md, "HTML page").
 *
 * It writes no number of its own: everything comes from the report's data model
 * (report_int.h, ho_rmodel_t; model.c) that the sheets filled where they read their
 * queries, and the long lists (Lost and rejected, Handoffs, the Sources drill-down, Learnings
 * by campaign) arrive row by row from the sheets' one pass (buffered in temporary files, so
 * a long list does not sit in memory). No external resource: inline CSS, charts as inline
 * SVG (html_chart.c), no script. Every text is HTML-escaped (lead names, companies and
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
    FILE *hand; /* the Handoffs rows, likewise */
    FILE *lift; /* the Learnings rows by channel, source and campaign, likewise */
    FILE *src;  /* the Sources drill-down rows, likewise */
    int64_t nrows, nhand, nlift;
    char path[4096];
};

/* Text as HTML: & < > " ' as entities, control characters (never shown) as spaces. */
void ho_rhtml_esc(FILE *f, const char *t)
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

/* Close the page and its row buffers, free h. false when a close failed. */
static bool s_close(ho_rhtml_t *h)
{
    bool ok = true;
    FILE *fs[5] = {h->f, h->rows, h->hand, h->lift, h->src};
    for (int i = 0; i < 5; i++) {
        if (fs[i] && fclose(fs[i]) != 0) {
            ok = false;
        }
    }
    free(h);
    return ok;
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
    h->hand = h->rows ? tmpfile() : NULL;
    h->lift = h->hand ? tmpfile() : NULL;
    h->src = h->lift ? tmpfile() : NULL;
    if (!h->src) {
        ho_err_set(ctx->err, HO_ERR_IO, "html", "%s: cannot write: %s", ctx->opts->html,
                   strerror(errno));
        s_close(h);
        return HO_REPORT_ERR_IO;
    }
    ctx->html = h;
    return HO_REPORT_OK;
}

void ho_rhtml_abort(ho_rctx_t *ctx)
{
    if (ctx->html) {
        s_close(ctx->html);
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
        ho_rhtml_esc(f, cells[i]);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
    ctx->html->nrows++;
}

/* A buffered table body into the page. */
static int s_copy(FILE *from, FILE *to)
{
    if (fflush(from) != 0 || fseek(from, 0, SEEK_SET) != 0) {
        return -1;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, from)) > 0) {
        if (fwrite(buf, 1, n, to) != n) {
            return -1;
        }
    }
    return ferror(from) ? -1 : 0;
}

/* A text cell. */
static void s_td(FILE *f, const char *t)
{
    fputs("<td>", f);
    ho_rhtml_esc(f, t);
    fputs("</td>", f);
}

/* A time cell in the report's zone, to the minute as the workbook shows it (empty when !has). */
static void s_td_time(ho_rctx_t *ctx, FILE *f, bool has, int64_t ms)
{
    if (!has) {
        fputs("<td></td>", f);
        return;
    }
    ho_civil_time_t c = ho_tz_civil(ctx->zone, ho_floor_div(ms, 1000) * 1000);
    fprintf(f, "<td class=\"t\">%04d-%02d-%02d %02d:%02d</td>", c.year, c.month, c.day, c.hour,
            c.minute);
}

/* A lift (the workbook's "0.00"), exact in data-v; empty when !has. */
static void s_lift(FILE *f, bool has, double v)
{
    if (!has) {
        fputs("<td class=\"n\"></td>", f);
        return;
    }
    double a = fabs(v) * 100;
    a = round(a + a * 1e-14) / 100; /* half away from zero, as the spreadsheet shows it */
    fprintf(f, "<td class=\"n\" data-v=\"%.17g\">%s%.2f</td>", v, v < 0 && a > 0 ? "-" : "", a);
}

void ho_rhtml_handoff_row(ho_rctx_t *ctx, const ho_rhandoff_t *d)
{
    FILE *f = ctx->html->hand;
    fputs("<tr>", f);
    s_td_time(ctx, f, true, d->mql_at);
    const char *texts[] = {d->name,     d->email,  d->company, d->title,
                           d->location, d->source, d->campaign};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        s_td(f, texts[i]);
    }
    s_num(f, d->has_score, d->score, HO_RK_COUNT, false, false, "");
    s_td(f, d->grade);
    s_td(f, d->quadrant);
    s_td(f, d->top_reason);
    s_td(f, d->owner);
    s_td_time(ctx, f, d->has_assigned, d->assigned_at);
    s_td(f, d->status);
    fputs("</tr>\n", f);
    ctx->html->nhand++;
}

/* A Learnings row: rule, kind, average points / channel, source, campaign; then leads, the
 * SAL rate and lift, the SQL rate and lift, its interval and the verdict. */
static void s_lift_row(FILE *f, const ho_rlift_t *r, bool rule)
{
    fprintf(f, "<tr%s>", r->against ? " class=\"against\"" : "");
    if (rule) {
        s_td(f, r->a);
        s_td(f, r->b);
        s_num(f, true, r->points, HO_RK_HOURS, true, false, "");
    } else {
        char cl[256];
        s_td(f, ho_rchannel_label(r->a, cl, sizeof cl));
        s_td(f, r->b);
        s_td(f, r->c);
    }
    s_num(f, true, r->g[0], HO_RK_COUNT, false, false, "");
    for (int k = 1; k <= 2; k++) {
        s_rate(f, r->g[k], r->g[0], "");
        s_lift(f, r->has_lift[k - 1], r->lift[k - 1]);
    }
    s_lift(f, r->has_ci, r->lo);
    s_lift(f, r->has_ci, r->hi);
    fprintf(f, "<td%s>", r->against ? " class=\"bad\"" : "");
    ho_rhtml_esc(f, r->verdict);
    fputs("</td></tr>\n", f);
}

void ho_rhtml_lift_row(ho_rctx_t *ctx, const ho_rlift_t *r)
{
    s_lift_row(ctx->html->lift, r, false);
    ctx->html->nlift++;
}

/* ---- the sections ---- */

static void s_summary(ho_rctx_t *ctx, FILE *f)
{
    const ho_rweek_t *w = &ctx->weeks[HO_RW_THIS];
    fprintf(f,
            "<h2>Summary</h2>\n<table class=\"kpi\">\n<tr><th>Metric</th>"
            "<th>%s</th><th>%s</th><th>Delta</th><th>4-week average (%s..%s)</th>"
            "<th>Definition</th></tr>\n",
            w->label, ctx->weeks[HO_RW_LAST].label, ctx->weeks[HO_RW - 4].label + 5, w->label + 5);
    for (size_t i = 0; i < ctx->model.nkpi; i++) {
        const ho_rkpi_t *k = &ctx->model.kpi[i];
        fputs("<tr><th class=\"m\">", f);
        ho_rhtml_esc(f, k->name);
        fputs("</th>", f);
        for (int c = 0; c < 4; c++) {
            s_num(f, k->has[c], k->v[c], k->kind, c == 2, c == 3, "");
        }
        fputs("<td class=\"note\">", f);
        ho_rhtml_esc(f, k->note);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n<p class=\"note\">4-week average: counts and amounts are the mean of the "
          "four weekly values; rates and the medians are computed over the four weeks "
          "together.</p>\n<h3>Data freshness: last import per source</h3>\n",
          f);
    const ho_rmodel_t *m = &ctx->model;
    if (!m->has_fresh) {
        fputs("<p class=\"note\">(this store records no imports yet)</p>\n", f);
    } else if (m->nfresh == 0) {
        fputs("<p class=\"note\">(no import recorded yet)</p>\n", f);
    } else {
        fputs("<table class=\"fresh\" data-table=\"freshness\">\n<tr><th>Source</th><th>Kind"
              "</th><th>Files</th><th>Rows read</th><th>Last import</th></tr>\n",
              f);
        for (size_t i = 0; i < m->nfresh; i++) {
            const ho_rfresh_t *r = &m->fresh[i];
            fputs("<tr>", f);
            s_td(f, r->source);
            s_td(f, r->kind);
            s_num(f, true, r->files, HO_RK_COUNT, false, false, "");
            s_num(f, true, r->read, HO_RK_COUNT, false, false, "");
            s_td_time(ctx, f, r->has_last, r->last);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("<h3>MQL cohorts: MQLs, reached SQL and MQL\xe2\x86\x92SQL by week (last 4 weeks "
          "immature)</h3>\n",
          f);
    ho_rsvg_trend(ctx, f);
}

/* The Funnel sheet: per MQL cohort week the stages reached and the conversions. */
static void s_funnel(ho_rctx_t *ctx, FILE *f)
{
    const double(*v)[5] = (const double(*)[5])ctx->model.funnel;
    fprintf(f,
            "<h2>Funnel by weekly MQL cohort</h2>\n<p class=\"note\">Cohort = leads that entered "
            "MQL in the week; stages reached by the end of %s. The last %d cohorts are immature "
            "(less than 4 weeks to convert).</p>\n<table class=\"funnel\" data-table=\"funnel\">"
            "\n<tr><th>MQL cohort</th><th>Week starts</th><th>MQL</th><th>SAL</th><th>SQL</th>"
            "<th>Opportunity</th><th>Won</th><th>MQL\xe2\x86\x92SAL</th><th>SAL\xe2\x86\x92SQL"
            "</th><th>SQL\xe2\x86\x92Opp</th><th>Opp\xe2\x86\x92Won</th><th>MQL\xe2\x86\x92SQL"
            "</th><th>MQL\xe2\x86\x92Won</th><th>Maturity</th></tr>\n",
            ctx->weeks[HO_RW_THIS].label, HO_IMMATURE_WEEKS);
    for (int i = 0; i < HO_RW; i++) {
        bool young = i >= HO_RW - HO_IMMATURE_WEEKS;
        int y, mo, d;
        ho_civil_from_days(ctx->weeks[i].monday, &y, &mo, &d);
        fprintf(f, "<tr%s><th class=\"m\">%s</th><td>%04d-%02d-%02d</td>",
                young ? " class=\"young\"" : "", ctx->weeks[i].label, y, mo, d);
        for (int k = 0; k < 5; k++) {
            s_num(f, true, v[i][k], HO_RK_COUNT, false, false, "");
        }
        for (int k = 0; k < 4; k++) {
            s_rate(f, v[i][k + 1], v[i][k], "");
        }
        s_rate(f, v[i][2], v[i][0], "");
        s_rate(f, v[i][4], v[i][0], "");
        fprintf(f, "<td class=\"note\">%s</td></tr>\n", young ? "immature (&lt; 4 weeks old)" : "");
    }
    fputs("</table>\n<h3>MQL cohorts: stages reached</h3>\n", f);
    const char *cats[HO_RW];
    for (int i = 0; i < HO_RW; i++) {
        cats[i] = ctx->weeks[i].label + 5; /* W47 */
    }
    static const char *const names[] = {"MQL", "SAL", "SQL", "Opportunity", "Won"};
    ho_rsvg_columns(f, "funnel", "MQL cohorts: stages reached", "MQL cohort week", HO_RW, cats, 5,
                    names, &v[0][0], false);
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

void ho_rhtml_source_row(ho_rctx_t *ctx, const char *channel, const char *source,
                         const char *campaign, const double n[5], bool total)
{
    FILE *f = ctx->html->src;
    fputs(total ? "<tr class=\"total\">" : "<tr>", f);
    s_td(f, channel);
    s_td(f, source);
    s_td(f, campaign);
    s_chan_cells(f, n, "");
    fputs("</tr>\n", f);
}

static void s_sources(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    fprintf(f,
            "<h2>Sources by channel</h2>\n<p class=\"note\">Leads created %s..%s "
            "by channel (normalized by the store); stages reached by the end of %s.</p>\n"
            "<table class=\"sources\">\n<tr><th>Channel</th><th>Leads</th><th>MQL</th>"
            "<th>SQL</th><th>Won</th><th>Won amount (",
            ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label);
    ho_rhtml_esc(f, ctx->opts->currency && *ctx->opts->currency ? ctx->opts->currency : "USD");
    fputs(")</th><th>Lead\xe2\x86\x92MQL</th><th>MQL\xe2\x86\x92SQL</th><th>SQL\xe2\x86\x92Won"
          "</th><th>Lead\xe2\x86\x92Won</th></tr>\n",
          f);
    double tot[5] = {0};
    for (size_t i = 0; i < m->nch; i++) {
        char cl[256];
        fputs("<tr><th class=\"m\">", f);
        ho_rhtml_esc(f, ho_rchannel_label(m->ch[i].code, cl, sizeof cl));
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
        ho_rsvg_channels(ctx, f);
    }
}

/* The drill-down channel > original source > campaign, with each channel's subtotal and the
 * Total (buffered as the sheet wrote it). */
static int s_sources_drill(ho_rctx_t *ctx, FILE *f)
{
    fputs("<h3>Drill-down: channel \xe2\x80\xba original source \xe2\x80\xba campaign</h3>\n"
          "<table class=\"sources\" data-table=\"sources-drill\">\n<tr><th>Channel</th>"
          "<th>Original source</th><th>Campaign</th><th>Leads</th><th>MQL</th><th>SQL</th>"
          "<th>Won</th><th>Won amount</th><th>Lead\xe2\x86\x92MQL</th><th>MQL\xe2\x86\x92SQL"
          "</th><th>SQL\xe2\x86\x92Won</th><th>Lead\xe2\x86\x92Won</th></tr>\n",
          f);
    int rc = s_copy(ctx->html->src, f);
    fputs("</table>\n", f);
    return rc;
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

static void s_matrix(ho_rctx_t *ctx, FILE *f, const ho_rmatrix_t *mx, bool channel)
{
    const ho_rmodel_t *m = &ctx->model;
    if (!mx->m || m->nr == 0) {
        return;
    }
    fprintf(f,
            "<h3>Reason \xc3\x97 %s (rejected + lost, 12 weeks; darker = more)</h3>\n"
            "<table class=\"matrix\" data-table=\"%s\">\n<tr><th>Reason</th>",
            channel ? "channel" : "rep", channel ? "by-channel" : "by-rep");
    for (int j = 0; j < mx->nk; j++) {
        char cl[256];
        fputs("<th>", f);
        ho_rhtml_esc(f, channel ? ho_rchannel_label(mx->keys[j], cl, sizeof cl) : mx->keys[j]);
        fputs("</th>", f);
    }
    fputs(mx->other ? "<th>Other</th><th>Total</th></tr>\n" : "<th>Total</th></tr>\n", f);
    double max = 0;
    for (size_t i = 0; i < m->nr * (size_t)mx->ncol; i++) {
        max = mx->m[i] > max ? mx->m[i] : max;
    }
    for (size_t i = 0; i < m->nr; i++) {
        fputs("<tr><th class=\"m\">", f);
        ho_rhtml_esc(f, ho_rreason_label(ctx, m->r[i].code));
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
            "<h2>Lost and rejected reasons</h2>\n<p class=\"note\">Rejected and "
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
        ho_rhtml_esc(f, r->code);
        fputs("</td><td>", f);
        ho_rhtml_esc(f, ho_rreason_label(ctx, r->code));
        fputs("</td>", f);
        for (int k = 0; k < 4; k++) {
            s_num(f, true, t4[k], HO_RK_COUNT, false, false, "");
            tot[k] += t4[k];
        }
        s_rate(f, total, m->grand, "");
        s_rate(f, cum, m->grand, "");
        fputs("<td>", f);
        ho_rhtml_esc(f, *owner ? owner : "(not in reasons.yaml)");
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
    if (m->nr > 0) {
        fputs("<h3>Pareto: the few reasons that make most of the rows</h3>\n", f);
        ho_rsvg_pareto(ctx, f);
    }
    s_matrix(ctx, f, &m->by_channel, true);
    s_matrix(ctx, f, &m->by_rep, false);
}

/* The fit x interest grid: leads per cell, then the share that reached SQL ("k of n" under
 * 10 leads, as on the Calibration sheet); the MQL rule's cells in bold. */
static void s_grid(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    fputs("<h2>Calibration: is the MQL rule right?</h2>\n", f);
    if (!m->has_grid) {
        return;
    }
    fprintf(f,
            "<h3>Fit \xc3\x97 interest</h3>\n<p class=\"note\">"
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

/* The model's small tables of one group (Calibration's by band and by quadrant, Data
 * quality's), each under its title, cell by cell as the sheet wrote them. */
static void s_tabs(ho_rctx_t *ctx, FILE *f, int group)
{
    const ho_rmodel_t *m = &ctx->model;
    for (size_t i = 0; i < m->ntabs; i++) {
        const ho_rtab_t *t = &m->tabs[i];
        if (t->group != group) {
            continue;
        }
        fputs("<h3>", f);
        ho_rhtml_esc(f, t->title);
        fputs("</h3>\n<table class=\"tab\" data-table=\"", f);
        ho_rhtml_esc(f, t->title);
        fputs("\">\n<tr>", f);
        for (int c = 0; c < t->nc; c++) {
            fputs("<th>", f);
            ho_rhtml_esc(f, t->cols[c]);
            fputs("</th>", f);
        }
        fputs("</tr>\n", f);
        for (size_t r = 0; r < t->nrows; r++) {
            bool total = r >= t->total_from;
            fputs(total ? "<tr class=\"total\">" : "<tr>", f);
            for (int c = 0; c < t->nc; c++) {
                const ho_rcell_t *x = &t->cells[r * (size_t)t->nc + (size_t)c];
                switch (x->type) {
                case HO_RC_BLANK:
                    fputs("<td></td>", f);
                    break;
                case HO_RC_TEXT:
                    fputs(x->bad ? "<td class=\"bad\">" : "<td>", f);
                    ho_rhtml_esc(f, x->s);
                    fputs("</td>", f);
                    break;
                case HO_RC_NUM:
                    s_num(f, true, x->v, x->kind, false, false, "");
                    break;
                case HO_RC_TIME:
                    s_td_time(ctx, f, true, x->at);
                    break;
                }
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
}

/* Calibration's chart: SQL rate and Won rate per score band (the band table's columns). */
static void s_bands_svg(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    const ho_rtab_t *t = NULL;
    for (size_t i = 0; i < m->ntabs && !t; i++) {
        t = m->tabs[i].group == HO_RTAB_CALIBRATION && !strcmp(m->tabs[i].title, "By score band")
                ? &m->tabs[i]
                : NULL;
    }
    if (!t || t->nrows == 0) {
        return;
    }
    const char **cats = calloc(t->nrows, sizeof *cats);
    double *v = calloc(t->nrows * 2, sizeof *v);
    if (cats && v) {
        for (size_t r = 0; r < t->nrows; r++) {
            const ho_rcell_t *row = &t->cells[r * (size_t)t->nc];
            cats[r] = row[0].s ? row[0].s : "";
            v[r * 2] = row[6].type == HO_RC_NUM ? row[6].v : 0;     /* SQL rate */
            v[r * 2 + 1] = row[7].type == HO_RC_NUM ? row[7].v : 0; /* Won rate */
        }
        static const char *const names[] = {"SQL rate", "Won rate"};
        fputs("<h3>Conversion by score band</h3>\n", f);
        ho_rsvg_columns(f, "bands", "Conversion by score band", "Score band", t->nrows, cats, 2,
                        names, v, true);
    } else {
        ctx->model.failed = true; /* out of memory: the page fails, never half a chart */
    }
    free(cats);
    free(v);
}

static void s_calibration_tables(ho_rctx_t *ctx, FILE *f)
{
    s_tabs(ctx, f, HO_RTAB_CALIBRATION);
    s_bands_svg(ctx, f);
    fputs("<p class=\"note\">How to read: the MQL rate column shows where the MQL line falls. If "
          "the bands just below it reach SQL about as often as the bands just above it, the "
          "threshold is too high (good leads wait in nurture); if the bands just above it "
          "rarely reach SQL, it is too low (sales gets leads it rejects).</p>\n",
          f);
}

/* Reps: speed to lead as the data has it (assignment -> acceptance), SLA, conversion. */
static void s_reps(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    fprintf(f,
            "<h2>Reps: speed to lead, SLA and conversion</h2>\n<p class=\"note\">Assignments made "
            "%s..%s, acceptance, SQL and won by the end of %s. Speed to lead is measured from "
            "assignment to the rep's acceptance: no input dates the first sales touch (a call "
            "or e-mail).</p>\n<table class=\"reps\" data-table=\"reps\">\n<tr><th>Rep</th>"
            "<th>Name</th><th>Assigned</th><th>Accepted</th><th>Acceptance rate</th><th>Median "
            "assignment\xe2\x86\x92"
            "acceptance (h)</th><th>SLA breaches</th><th>Leads</th>"
            "<th>SQL</th><th>SQL rate</th><th>Won</th></tr>\n",
            ctx->weeks[HO_RW - 4].label, ctx->weeks[HO_RW_THIS].label,
            ctx->weeks[HO_RW_THIS].label);
    for (size_t i = 0; i < m->nreps; i++) {
        const ho_rrep_t *r = &m->reps[i];
        fputs("<tr>", f);
        s_td(f, r->rep);
        s_td(f, r->name);
        s_num(f, true, r->assigned, HO_RK_COUNT, false, false, "");
        s_num(f, true, r->accepted, HO_RK_COUNT, false, false, "");
        s_rate(f, r->accepted, r->assigned, "");
        s_num(f, r->has_med, r->med_h, HO_RK_HOURS, false, false, "");
        s_num(f, true, r->sla, HO_RK_COUNT, false, false, "");
        s_num(f, true, r->leads, HO_RK_COUNT, false, false, "");
        s_num(f, true, r->sql, HO_RK_COUNT, false, false, "");
        s_rate(f, r->sql, r->leads, "");
        s_num(f, true, r->won, HO_RK_COUNT, false, false, "");
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (m->nreps == 0) {
        fputs("<p class=\"note\">(no assignment to a rep in these weeks)</p>\n", f);
    }
}

static void s_lift_head(FILE *f, const char *table, const char *const first[3], const char *last)
{
    fprintf(f, "<table class=\"lift\" data-table=\"%s\">\n<tr>", table);
    for (int k = 0; k < 3; k++) {
        fprintf(f, "<th>%s</th>", first[k]);
    }
    fprintf(f,
            "<th>Leads</th><th>SAL rate</th><th>SAL lift</th><th>SQL rate</th><th>SQL lift</th>"
            "<th>SQL lift, 95%% low</th><th>SQL lift, 95%% high</th><th>%s</th></tr>\n",
            last);
}

/* Learnings: each scoring rule's and each source's lift with its sample size and interval. */
static int s_learnings(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    const double *b = m->rules_base;
    fprintf(f,
            "<h2>Learnings: what the outcomes say about the model and the sources</h2>\n<p "
            "class=\"note\">Leads created %s..%s; SAL and SQL reached by the end of %s. Lift = "
            "the group's rate / the rate of the leads outside it (1 = like the rest), with the "
            "SQL lift's 95%% interval (Katz); 30+ leads to judge.</p>\n<h3>Scoring rules (score "
            "at MQL; %.0f scored leads: SAL %.1f%%, SQL %.1f%%)</h3>\n",
            ctx->weeks[0].label, ctx->weeks[HO_RW_THIS].label, ctx->weeks[HO_RW_THIS].label, b[0],
            b[0] > 0 ? 100 * b[1] / b[0] : 0, b[0] > 0 ? 100 * b[2] / b[0] : 0);
    static const char *const rh[3] = {"Rule", "Kind", "Average points"};
    s_lift_head(f, "rules", rh, "Verdict");
    size_t against = 0;
    for (size_t i = 0; i < m->nrules; i++) {
        s_lift_row(f, &m->rules[i], true);
        against += m->rules[i].against;
    }
    fputs("</table>\n", f);
    fprintf(f,
            "<p class=\"note\">%zu rule%s whose measured lift contradicts its points (marked): "
            "<code>handoff score --suggest</code> writes the change to try.</p>\n",
            against, against == 1 ? "" : "s");
    b = m->src_base;
    fprintf(f,
            "<h3>Sources and campaigns, against all other leads (%.0f leads: SAL %.1f%%, SQL "
            "%.1f%%)</h3>\n",
            b[0], b[0] > 0 ? 100 * b[1] / b[0] : 0, b[0] > 0 ? 100 * b[2] / b[0] : 0);
    static const char *const sh[3] = {"Channel", "Source", "Campaign"};
    s_lift_head(f, "sources", sh, "Reading");
    int rc = s_copy(ctx->html->lift, f);
    fputs("</table>\n", f);
    return rc;
}

/* Handoffs: this week's MQLs, every row the sheet wrote (streamed: the list can be long). */
static int s_handoffs(ho_rctx_t *ctx, FILE *f)
{
    fprintf(f,
            "<h2>Handoffs: this week's MQLs</h2>\n<p class=\"note\">Every lead that became an "
            "MQL in %s (%lld), by the time it did; score, fit \xc3\x97 interest and top reason "
            "from the score that made it an MQL; owner and status as of the end of the week."
            "</p>\n<table class=\"list handoffs\" data-table=\"handoffs\">\n<tr><th>MQL at</th>"
            "<th>Name</th><th>Email</th><th>Company</th><th>Title</th><th>Location</th>"
            "<th>Source</th><th>Campaign</th><th>Score at MQL</th><th>Grade</th><th>Fit "
            "\xc3\x97 interest</th><th>Top reason</th><th>Owner</th><th>Assigned at</th>"
            "<th>Status</th></tr>\n",
            ctx->weeks[HO_RW_THIS].label, (long long)ctx->html->nhand);
    int rc = s_copy(ctx->html->hand, f);
    fputs("</table>\n", f);
    return rc;
}

static void s_quality(ho_rctx_t *ctx, FILE *f)
{
    fputs("<h2>Data quality: what came in and what became of it</h2>\n<p class=\"note\">Every "
          "import the store has recorded (one file or one webhook day each), by source. Rows "
          "read = skipped + quarantined + accepted (Check); accepted rows are then new, merged, "
          "matched, unmatched, recorded or pending.</p>\n",
          f);
    if (ctx->model.dq_note) {
        fputs("<p class=\"note\">", f);
        ho_rhtml_esc(f, ctx->model.dq_note);
        fputs("</p>\n", f);
    }
    s_tabs(ctx, f, HO_RTAB_QUALITY);
}

/* This week's lost and rejected leads: the rows the drill-down sheet wrote, buffered. */
static int s_drill(ho_rctx_t *ctx, FILE *f)
{
    ho_rhtml_t *h = ctx->html;
    fprintf(f,
            "<h2>Lost and rejected this week</h2>\n<p class=\"note\">Every rejected "
            "and lost outcome recorded in %s (time zone ",
            ctx->weeks[HO_RW_THIS].label);
    ho_rhtml_esc(f, ctx->tz);
    fprintf(f,
            "), oldest first: %lld rows.</p>\n<table class=\"list\">\n<tr><th>Recorded at"
            "</th><th>Outcome</th><th>Reason</th><th>Owner of the fix</th><th>Lead</th>"
            "<th>Email</th><th>Company</th><th>Channel</th><th>Source</th><th>Campaign</th>"
            "<th>Rep</th><th>Stage reached</th><th>Flags</th></tr>\n",
            (long long)h->nrows);
    int rc = s_copy(h->rows, f);
    fputs("</table>\n", f);
    return rc;
}

static void s_definitions(FILE *f)
{
    const ho_report_def_t *d;
    size_t n = ho_report_defs(&d);
    fputs("<h2>Definitions</h2>\n<table class=\"defs\">\n<tr><th>Sheet</th>"
          "<th>Term</th><th>Definition</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        ho_rhtml_esc(f, d[i].sheet);
        fputs("</td><th class=\"m\">", f);
        ho_rhtml_esc(f, d[i].term);
        fputs("</th><td>", f);
        ho_rhtml_esc(f, d[i].text);
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
    "nav a{margin-right:12px}table.list{font-size:12px}td.t{white-space:nowrap}\n"
    ".bad,tr.against td.bad{color:#9c0006;background:#ffc7ce}tr.young td{background:#f2f2f2}\n"
    "code{font-family:Consolas,'DejaVu Sans Mono',monospace}section{overflow-x:auto}\n"
    "@page{size:A4 landscape;margin:10mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:10px}section{break-before:page}"
    "section:first-of-type{break-before:auto}h2,h3{break-after:avoid;page-break-after:avoid}"
    "table{width:100%;max-width:100%}th,td{padding:1px 3px;overflow-wrap:anywhere}"
    "td.n,td.t{white-space:normal}table.list{font-size:7px}tr{break-inside:avoid}"
    "svg.chart{width:100%;height:auto;break-inside:avoid}nav{display:none}"
    "section{overflow:visible}}\n";

/* The sections, in the workbook's sheet order: one per sheet. */
static const struct {
    const char *id, *name;
} s_sections[] = {
    {"summary", "Summary"},         {"funnel", "Funnel"},           {"sources", "Sources"},
    {"reasons", "Lost reasons"},    {"lost", "Lost and rejected"},  {"reps", "Reps"},
    {"calibration", "Calibration"}, {"learnings", "Learnings"},     {"handoffs", "Handoffs"},
    {"quality", "Data quality"},    {"definitions", "Definitions"},
};

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
    ho_rhtml_esc(f, ctx->tz);
    fputs(". Data before the end of the week only. The same numbers as the workbook, one section "
          "per sheet; definitions at the end.</p>\n<nav>",
          f);
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections[0]; i++) {
        fprintf(f, "<a href=\"#%s\">%s</a>", s_sections[i].id, s_sections[i].name);
    }
    fputs("</nav>\n", f);
}

ho_report_error_t ho_rhtml_finish(ho_rctx_t *ctx)
{
    ho_rhtml_t *h = ctx->html;
    FILE *f = h->f;
    int drc = 0;
    s_head(ctx, f);
    for (size_t i = 0; i < sizeof s_sections / sizeof s_sections[0]; i++) {
        fprintf(f, "<section id=\"%s\">\n", s_sections[i].id);
        switch (i) {
        case 0:
            s_summary(ctx, f);
            break;
        case 1:
            s_funnel(ctx, f);
            break;
        case 2:
            s_sources(ctx, f);
            drc |= s_sources_drill(ctx, f);
            break;
        case 3:
            s_reasons(ctx, f);
            break;
        case 4:
            drc |= s_drill(ctx, f);
            break;
        case 5:
            s_reps(ctx, f);
            break;
        case 6:
            s_grid(ctx, f);
            s_calibration_tables(ctx, f);
            break;
        case 7:
            drc |= s_learnings(ctx, f);
            break;
        case 8:
            drc |= s_handoffs(ctx, f);
            break;
        case 9:
            s_quality(ctx, f);
            break;
        default:
            s_definitions(f);
        }
        fputs("</section>\n", f);
    }
    fputs("</body>\n</html>\n", f);
    bool bad = drc != 0 || ferror(f);
    h->f = NULL;
    bad = fclose(f) != 0 || bad;
    bad = !s_close(h) || bad;
    ctx->html = NULL;
    if (ctx->model.failed) { /* a table of the model could not be recorded: no partial page */
        ho_err_set(ctx->err, HO_ERR_NOMEM, "html", "%s: out of memory", ctx->opts->html);
        return HO_REPORT_ERR_NOMEM;
    }
    if (bad) {
        ho_err_set(ctx->err, HO_ERR_IO, "html", "%s: cannot write: %s", ctx->opts->html,
                   strerror(errno));
        return HO_REPORT_ERR_IO;
    }
    return HO_REPORT_OK;
}
