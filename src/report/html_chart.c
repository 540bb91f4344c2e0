/* html_chart.c - the HTML page's charts as inline SVG (html.c writes the page): axes, grid,
 * labels and legend drawn here, no library, no script. Each value mark (a bar, a column, a
 * point of the Pareto's cumulative line) carries its exact value in data-v, the number the
 * table beside it shows, so a test can read the chart back. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_int.h"

static const char *const s_colors[] = {"#4472c4", "#ed7d31", "#a5a5a5", "#70ad47", "#ffc000"};
#define S_NCOLORS (sizeof s_colors / sizeof s_colors[0])

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
    for (int k = 0; k < n; k++, x += 130) {
        if (line && k == n - 1) {
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00000\" "
                    "stroke-width=\"2\"/>",
                    x, y - 4, x + 14, y - 4);
        } else {
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>", x,
                    y - 9, s_colors[(size_t)k % S_NCOLORS]);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
        ho_rhtml_esc(f, names[k]);
        fputs("</text>", f);
    }
}

/* The trend: per MQL cohort week, bars of MQLs and of those that reached SQL (left axis),
 * the MQL->SQL rate as a line (right axis, percent); immature cohorts shaded. */
/* One grid line of a chart with a count axis on the left and a 0-100 % axis on the right:
 * plot area from x = l, pw wide; the line at y, labelled n (left) and pct (right). */
static void s_grid_line(FILE *f, double l, double pw, double y, double n, double pct)
{
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d9d9d9\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>"
            "<text x=\"%.1f\" y=\"%.1f\">%.0f%%</text>\n",
            l, y, l + pw, y, l - 6, y + 4, n, l + pw + 6, y + 4, pct);
}

void ho_rsvg_trend(ho_rctx_t *ctx, FILE *f)
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
        s_grid_line(f, L, pw, y, step * t, 100.0 * t / nt);
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
void ho_rsvg_channels(ho_rctx_t *ctx, FILE *f)
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
        ho_rhtml_esc(f, ho_rchannel_label(m->ch[i].code, cl, sizeof cl));
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

/* Clustered columns: per category (cats, ncat) one column per series (names, nser), values
 * v[cat * nser + series] (shares when pct: a percent axis); each column carries its exact
 * value (data-v). The Funnel's and Calibration's charts, as in the workbook. */
void ho_rsvg_columns(FILE *f, const char *cls, const char *aria, const char *xname, size_t ncat,
                     const char *const *cats, int nser, const char *const *names, const double *v,
                     bool pct)
{
    const double W = 760, H = 300, L = 60, R = 20, T = 20, B = 64;
    double pw = W - L - R, ph = H - T - B, max = 0, step, k = pct ? 100 : 1;
    for (size_t i = 0; i < ncat * (size_t)nser; i++) {
        max = v[i] * k > max ? v[i] * k : max;
    }
    int nt = s_axis(max, &max, &step);
    double slot = pw / (double)ncat, bw = slot * 0.8 / nser;
    fprintf(f,
            "<svg class=\"chart %s\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "role=\"img\" aria-label=\"%s\">\n",
            cls, W, H, W, H, aria);
    for (int t = 0; t <= nt; t++) {
        double y = T + ph - ph * t / nt;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d9d9d9\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f%s</text>\n",
                L, y, L + pw, y, L - 6, y + 4, step * t, pct ? "%" : "");
    }
    for (size_t i = 0; i < ncat; i++) {
        double x = L + slot * (double)i + slot * 0.1;
        for (int j = 0; j < nser; j++) {
            double val = v[i * (size_t)nser + (size_t)j], hgt = ph * val * k / max;
            char t[64];
            ho_rfmt(t, sizeof t, pct ? HO_RK_RATE : HO_RK_COUNT, false, false, val);
            fprintf(f,
                    "<rect class=\"col\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\" data-v=\"%.17g\"><title>",
                    x + bw * j, T + ph - hgt, bw, hgt, s_colors[(size_t)j % S_NCOLORS], val);
            ho_rhtml_esc(f, cats[i]);
            fputs(" ", f);
            ho_rhtml_esc(f, names[j]);
            fprintf(f, ": %s</title></rect>", t);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                L + slot * (double)i + slot / 2, T + ph + 16);
        ho_rhtml_esc(f, cats[i]);
        fputs("</text>\n", f);
    }
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#595959\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            L, T + ph, L + pw, T + ph, L + pw / 2, T + ph + 34);
    ho_rhtml_esc(f, xname);
    fputs("</text>", f);
    s_legend(f, L, H - 8, names, nser, false);
    fputs("</svg>\n", f);
}

/* The Pareto of the lost and rejected reasons: bars = rejected + lost per reason (left axis),
 * line = the cumulative share (right axis, 0-100 %), the reasons in the table's order. Each
 * bar and point carries its exact value (data-v), the same numbers as the table. */
void ho_rsvg_pareto(ho_rctx_t *ctx, FILE *f)
{
    const ho_rmodel_t *m = &ctx->model;
    const double W = 760, H = 420, L = 60, R = 60, T = 30, B = 170;
    double pw = W - L - R, ph = H - T - B, max = 0, step;
    for (size_t i = 0; i < m->nr; i++) {
        double t = m->r[i].rejected + m->r[i].lost;
        max = t > max ? t : max;
    }
    int nt = s_axis(max, &max, &step);
    double slot = pw / (double)m->nr, bw = slot * 0.6;
    fprintf(f,
            "<svg class=\"chart pareto\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
            "%.0f\" role=\"img\" aria-label=\"Lost and rejected reasons (Pareto)\">\n",
            W, H, W, H);
    for (int t = 0; t <= nt; t++) {
        double y = T + ph - ph * t / nt;
        s_grid_line(f, L, pw, y, step * t, 100.0 * t / nt);
    }
    for (size_t i = 0; i < m->nr; i++) {
        double t = m->r[i].rejected + m->r[i].lost, hgt = ph * t / max;
        double x = L + slot * (double)i + (slot - bw) / 2, cx = L + slot * (double)i + slot / 2;
        fprintf(f,
                "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\" data-v=\"%.17g\"><title>",
                x, T + ph - hgt, bw, hgt, s_colors[0], t);
        ho_rhtml_esc(f, ho_rreason_label(ctx, m->r[i].code));
        fprintf(f, ": %.0f</title></rect>", t);
        fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-40)\" text-anchor=\"end\">", cx,
                T + ph + 12);
        ho_rhtml_esc(f, ho_rreason_label(ctx, m->r[i].code));
        fputs("</text>\n", f);
    }
    fputs("<polyline fill=\"none\" stroke=\"#c00000\" stroke-width=\"2\" points=\"", f);
    double cum = 0;
    for (size_t i = 0; i < m->nr && m->grand > 0; i++) {
        cum += m->r[i].rejected + m->r[i].lost;
        fprintf(f, "%.1f,%.1f ", L + slot * (double)i + slot / 2, T + ph - ph * cum / m->grand);
    }
    fputs("\"/>\n", f);
    cum = 0;
    for (size_t i = 0; i < m->nr && m->grand > 0; i++) {
        cum += m->r[i].rejected + m->r[i].lost;
        char t[64];
        ho_rfmt(t, sizeof t, HO_RK_RATE, false, false, cum / m->grand);
        fprintf(f,
                "<circle class=\"cum\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c00000\" "
                "data-v=\"%.17g\"><title>cumulative %s</title></circle>",
                L + slot * (double)i + slot / 2, T + ph - ph * cum / m->grand, cum / m->grand, t);
    }
    fprintf(f,
            "\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#595959\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f "
            "%.1f)\">Rejected + lost</text>",
            L, T + ph, L + pw, T + ph, L - 44, T + ph / 2, L - 44, T + ph / 2);
    static const char *const names[] = {"Rejected + lost", "Cumulative share (right axis)"};
    s_legend(f, L, H - 8, names, 2, true);
    fputs("</svg>\n", f);
}
