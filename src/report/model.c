/* model.c - the report's data model (report_int.h, ho_rmodel_t): what the sheets record of
 * the numbers they write, for the HTML page written after them (html.c). Recording never
 * changes the workbook: on out of memory the model is marked failed and only the page fails.
 * Everything here is small (sources x kinds, reps, scoring rules, the Data quality and
 * Calibration tables); the long lists (Handoffs, Lost and rejected, Learnings by campaign)
 * are streamed to the page instead (html.c). */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* One more element of size at the end of *arr (n used), zeroed; NULL on out of memory. */
static void *s_push(ho_rmodel_t *m, void **arr, size_t *n, size_t size)
{
    if (m->failed) {
        return NULL;
    }
    char *p = realloc(*arr, (*n + 1) * size);
    if (!p) {
        m->failed = true;
        return NULL;
    }
    *arr = p;
    memset(p + *n * size, 0, size);
    return p + (*n)++ * size;
}

static char *s_dup(ho_rmodel_t *m, const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        m->failed = true;
    }
    return d;
}

void ho_rmodel_fresh(ho_rmodel_t *m, const char *source, const char *kind, double files,
                     double read, bool has_last, int64_t last)
{
    ho_rfresh_t *f = s_push(m, (void **)&m->fresh, &m->nfresh, sizeof *f);
    if (f) {
        *f = (ho_rfresh_t){.source = s_dup(m, source),
                           .kind = s_dup(m, kind),
                           .files = files,
                           .read = read,
                           .has_last = has_last,
                           .last = last};
    }
}

void ho_rmodel_rep(ho_rmodel_t *m, const ho_rrep_t *r)
{
    ho_rrep_t *d = s_push(m, (void **)&m->reps, &m->nreps, sizeof *d);
    if (d) {
        *d = *r;
        d->rep = s_dup(m, r->rep);
        d->name = s_dup(m, r->name);
    }
}

void ho_rmodel_rule(ho_rmodel_t *m, const ho_rlift_t *r)
{
    ho_rlift_t *d = s_push(m, (void **)&m->rules, &m->nrules, sizeof *d);
    if (d) {
        *d = *r;
        d->a = s_dup(m, r->a);
        d->b = s_dup(m, r->b);
        d->c = NULL;
    }
}

ho_rtab_t *ho_rtab_new(ho_rmodel_t *m, int group, const char *title, const char *const *cols,
                       int nc)
{
    ho_rtab_t *t = s_push(m, (void **)&m->tabs, &m->ntabs, sizeof *t);
    if (!t) {
        return NULL;
    }
    t->group = group;
    t->title = s_dup(m, title);
    t->nc = nc < HO_RTAB_MAXCOL ? nc : HO_RTAB_MAXCOL;
    for (int i = 0; i < t->nc; i++) {
        t->cols[i] = cols[i];
    }
    t->total_from = (size_t)-1;
    return t;
}

ho_rcell_t *ho_rtab_row(ho_rmodel_t *m, ho_rtab_t *t)
{
    if (!t || m->failed) {
        return NULL;
    }
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        ho_rcell_t *p = realloc(t->cells, nc * (size_t)t->nc * sizeof *p);
        if (!p) {
            m->failed = true;
            return NULL;
        }
        t->cells = p;
        t->cap = nc;
    }
    ho_rcell_t *row = &t->cells[t->nrows++ * (size_t)t->nc];
    memset(row, 0, (size_t)t->nc * sizeof *row);
    return row;
}

void ho_rtab_text(ho_rmodel_t *m, ho_rcell_t *c, const char *s)
{
    if (c) {
        free(c->s);
        c->type = HO_RC_TEXT;
        c->s = s_dup(m, s);
    }
}

void ho_rtab_num(ho_rcell_t *c, double v, ho_rkind_t kind)
{
    if (c) {
        c->type = HO_RC_NUM;
        c->v = v;
        c->kind = kind;
    }
}

void ho_rtab_rate(ho_rcell_t *c, double num, double den)
{
    if (c && den > 0) {
        ho_rtab_num(c, num / den, HO_RK_RATE);
    }
}

void ho_rtab_time(ho_rcell_t *c, int64_t at)
{
    if (c) {
        c->type = HO_RC_TIME;
        c->at = at;
    }
}

void ho_rmodel_free(ho_rmodel_t *m)
{
    for (size_t i = 0; i < m->nch; i++) {
        free(m->ch[i].code);
    }
    free(m->ch);
    for (size_t i = 0; i < m->nr; i++) {
        free(m->r[i].code);
    }
    free(m->r);
    ho_rmatrix_free(&m->by_channel);
    ho_rmatrix_free(&m->by_rep);
    for (size_t i = 0; i < m->nfresh; i++) {
        free(m->fresh[i].source);
        free(m->fresh[i].kind);
    }
    free(m->fresh);
    for (size_t i = 0; i < m->nreps; i++) {
        free(m->reps[i].rep);
        free(m->reps[i].name);
    }
    free(m->reps);
    for (size_t i = 0; i < m->nrules; i++) {
        free(m->rules[i].a);
        free(m->rules[i].b);
    }
    free(m->rules);
    for (size_t i = 0; i < m->ntabs; i++) {
        ho_rtab_t *t = &m->tabs[i];
        for (size_t k = 0; k < t->nrows * (size_t)t->nc; k++) {
            free(t->cells[k].s);
        }
        free(t->cells);
        free(t->title);
    }
    free(m->tabs);
    memset(m, 0, sizeof *m);
}
