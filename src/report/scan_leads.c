/* scan_leads.c - the lead pass: one scan of the leads created in the report's 12 weeks
 * (report.scan_leads: each with its week, channel / source / campaign, what it reached, its
 * won amount and its score as of the report's end), grouped in C (agg.c) into the temp
 * tables that Summary's Leads, Sources, Learnings' baselines and by-source table, and
 * Calibration read. It replaces nine GROUP BYs over the same ~700k rows of a 1M-lead store
 * (9.4 CPU-s of SQLite's sorter) with one scan. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* The scan's columns (read_queries_report.c, report.scan_leads). */
enum {
    C_IDX,
    C_CH,
    C_SRC,
    C_CAMP,
    C_ONE,
    C_MQL,
    C_SAL,
    C_SQL,
    C_WON,
    C_AMT,
    C_SCORED,
    C_SCORED_SAL,
    C_SCORED_SQL,
    C_BAND,
    C_QUAD,
    C_FIT,
    C_INTEREST,
};

/* The columns of report.scan_leads_facts (the kept values, raw), of report.scan_lead_asof
 * (one lead's values as of the end) and of report.scan_leads_amounts. */
enum {
    F_CREATED,
    F_CH,
    F_SRC,
    F_CAMP,
    F_ID,
    F_MQL,
    F_SAL,
    F_SQL,
    F_WON,
    F_SCORE_AT,
    F_SCORE,
    F_QUAD,
    F_FIT,
    F_INTEREST,
    F__COUNT
};
#define F_KEYS ((1u << F_CH) | (1u << F_SRC) | (1u << F_CAMP) | (1u << F_QUAD))
enum { A_MQL, A_SAL, A_SQL, A_WON, A_SCORED, A_BAND, A_QUAD, A_FIT, A_INTEREST, A__COUNT };
enum { W_CREATED, W_CH, W_SRC, W_CAMP, W_AMT, W__COUNT };

typedef struct {
    char *quad; /* a copy of the quadrant read from lead_asof (valid until the next lead) */
    size_t cap;
} s_map_t;

static void s_int(ho_rval_t *v, int64_t i)
{
    *v = (ho_rval_t){.type = SQLITE_INTEGER, .i = i};
}

/* coalesce(nullif(v, ''), '(none)') */
static void s_none(ho_rval_t *v)
{
    if (v->type == SQLITE_NULL || (v->type == SQLITE_TEXT && v->len == 0)) {
        *v = (ho_rval_t){.type = SQLITE_TEXT, .text = (const unsigned char *)"(none)", .len = 6};
    }
}

/* The score's band, as SQL's score - (((score % 10) + 10) % 10) gives it: % of integers (a
 * real truncated to one), the subtraction in the score's own type. False for a score that is
 * neither integer nor real (a text: the lead then takes its lead_asof row, where SQL says). */
static bool s_band(const ho_rval_t *score, ho_rval_t *band)
{
    if (score->type == SQLITE_INTEGER) {
        int64_t m = ((score->i % 10) + 10) % 10;
        s_int(band, score->i - m);
        return true;
    }
    if (score->type == SQLITE_FLOAT && score->d > -9.2e18 && score->d < 9.2e18) {
        int64_t m = (((int64_t)score->d % 10) + 10) % 10;
        *band = (ho_rval_t){.type = SQLITE_FLOAT, .d = score->d - (double)m};
        return true;
    }
    return false;
}

/* A kept time that lead_asof takes as it is: NULL (never reached) or before as_of. */
static bool s_kept(const ho_rval_t *v, int64_t as_of)
{
    return v->type == SQLITE_NULL || (v->type == SQLITE_INTEGER && v->i < as_of);
}

static bool s_copy_text(s_map_t *m, ho_rval_t *v)
{
    if (v->type != SQLITE_TEXT) {
        return true;
    }
    if (v->len + 1 > m->cap) {
        char *grown = realloc(m->quad, v->len + 1);
        if (!grown) {
            return false;
        }
        m->quad = grown;
        m->cap = v->len + 1;
    }
    memcpy(m->quad, v->text, v->len);
    v->text = (const unsigned char *)m->quad;
    return true;
}

/* Lead id's values as of the end from its lead_asof row into vals (a lead whose kept values
 * are not all before the end: a re-run for an older week, or no score kept). */
static ho_report_error_t s_from_asof(ho_rctx_t *ctx, s_map_t *m, int64_t id, ho_rval_t *vals)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SCAN_LEAD_ASOF, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return ho_rsql_fail(ctx, "the lead pass: a lead as of the end");
    }
    ho_rval_t a[A__COUNT];
    ho_rval_read(st, A__COUNT, a);
    vals[C_MQL] = a[A_MQL];
    vals[C_SAL] = a[A_SAL];
    vals[C_SQL] = a[A_SQL];
    vals[C_WON] = a[A_WON];
    vals[C_SCORED] = a[A_SCORED];
    s_int(&vals[C_SCORED_SAL], a[A_SCORED].i && a[A_SAL].i);
    s_int(&vals[C_SCORED_SQL], a[A_SCORED].i && a[A_SQL].i);
    vals[C_BAND] = a[A_BAND];
    vals[C_QUAD] = a[A_QUAD];
    vals[C_FIT] = a[A_FIT];
    vals[C_INTEREST] = a[A_INTEREST];
    bool ok = s_copy_text(m, &vals[C_QUAD]); /* the statement's text is gone at its reset */
    sqlite3_reset(st);
    return ok ? HO_REPORT_OK : HO_REPORT_ERR_NOMEM;
}

/* agg_src's key (week, channel, source, campaign: '(none)' for a blank) from r's first four
 * columns, which both lead_facts scans put first: created_at, source_channel,
 * original_source, original_campaign. */
static void s_group_key(ho_rctx_t *ctx, const ho_rval_t *r, ho_rval_t *vals)
{
    _Static_assert((int)F_CREATED == (int)W_CREATED && (int)F_CH == (int)W_CH &&
                       (int)F_SRC == (int)W_SRC && (int)F_CAMP == (int)W_CAMP,
                   "the two scans' key columns");
    s_int(&vals[C_IDX], ho_rweek_idx(ctx, r[F_CREATED].i));
    vals[C_CH] = r[F_CH];
    vals[C_SRC] = r[F_SRC];
    vals[C_CAMP] = r[F_CAMP];
    s_none(&vals[C_CH]);
    s_none(&vals[C_SRC]);
    s_none(&vals[C_CAMP]);
}

/* A row of report.scan_leads_facts into the lead pass's columns (report.scan_leads'): the
 * kept values when lead_asof takes them as they are (every kept time before as_of and a
 * score kept before it: its CASEs then give exactly these), the lead's row of it otherwise. */
static ho_report_error_t s_map(ho_rctx_t *ctx, sqlite3_stmt *st, ho_rval_t *vals, void *arg)
{
    ho_rval_t f[F__COUNT];
    ho_rval_read_keys(st, F__COUNT, f, F_KEYS);
    s_group_key(ctx, f, vals);
    s_int(&vals[C_ONE], 1);
    vals[C_AMT] = (ho_rval_t){.type = SQLITE_NULL}; /* report.scan_leads_amounts adds them */
    int64_t as_of = ctx->as_of;
    bool scored = f[F_SCORE].type != SQLITE_NULL;
    ho_rval_t none = {.type = SQLITE_NULL}, band = none;
    bool kept = s_kept(&f[F_MQL], as_of) && s_kept(&f[F_SAL], as_of) && s_kept(&f[F_SQL], as_of) &&
                s_kept(&f[F_WON], as_of) && f[F_SCORE_AT].type == SQLITE_INTEGER &&
                f[F_SCORE_AT].i < as_of && (!scored || s_band(&f[F_SCORE], &band));
    if (!kept) {
        return s_from_asof(ctx, arg, f[F_ID].i, vals);
    }
    s_int(&vals[C_MQL], f[F_MQL].type != SQLITE_NULL);
    s_int(&vals[C_SAL], f[F_SAL].type != SQLITE_NULL);
    s_int(&vals[C_SQL], f[F_SQL].type != SQLITE_NULL);
    s_int(&vals[C_WON], f[F_WON].type != SQLITE_NULL);
    s_int(&vals[C_SCORED], 1);
    s_int(&vals[C_SCORED_SAL], f[F_SAL].type != SQLITE_NULL);
    s_int(&vals[C_SCORED_SQL], f[F_SQL].type != SQLITE_NULL);
    vals[C_BAND] = band;
    vals[C_QUAD] = f[F_QUAD];
    s_none(&vals[C_QUAD]);
    vals[C_QUAD] = scored ? vals[C_QUAD] : none;
    vals[C_FIT] = scored ? f[F_FIT] : none;
    vals[C_INTEREST] = scored ? f[F_INTEREST] : none;
    return HO_REPORT_OK;
}

/* A row of report.scan_leads_amounts: a won amount into its lead's group of agg_src (every
 * other sum NULL: adds nothing). */
static ho_report_error_t s_map_amount(ho_rctx_t *ctx, sqlite3_stmt *st, ho_rval_t *vals, void *arg)
{
    (void)arg;
    ho_rval_t w[W__COUNT];
    ho_rval_read_keys(st, W__COUNT, w, (1u << W_CH) | (1u << W_SRC) | (1u << W_CAMP));
    for (int c = 0; c <= C_INTEREST; c++) {
        vals[c] = (ho_rval_t){.type = SQLITE_NULL};
    }
    s_group_key(ctx, w, vals);
    vals[C_AMT] = w[W_AMT];
    return HO_REPORT_OK;
}

/* A row of report.scan_leads (a store without lead_facts: lead_asof over the raw history):
 * its columns as they are, the creation time turned into the week. */
static ho_report_error_t s_map_raw(ho_rctx_t *ctx, sqlite3_stmt *st, ho_rval_t *vals, void *arg)
{
    (void)arg;
    ho_rval_read(st, C_INTEREST + 1, vals);
    s_int(&vals[C_IDX], ho_rweek_idx(ctx, vals[C_IDX].i));
    return HO_REPORT_OK;
}

static const int s_src[] = {C_IDX, C_CH,  C_SRC, C_CAMP,   C_ONE,        C_MQL,       C_SAL,
                            C_SQL, C_WON, C_AMT, C_SCORED, C_SCORED_SAL, C_SCORED_SQL};
static const int s_band_cols[] = {C_BAND, C_ONE, C_MQL, C_SQL, C_WON};
static const int s_quad[] = {C_QUAD, C_ONE, C_MQL, C_SQL, C_WON};
static const int s_fi[] = {C_FIT, C_INTEREST, C_ONE, C_SQL};
/* agg_src first: the won amounts add to it alone */
static const ho_rgroup_t s_groups[] = {
    {4, 9, s_src, NULL, HO_RQ_REPORT_SETUP_AGG_SRC_ROW},
    {1, 4, s_band_cols, NULL, HO_RQ_REPORT_SETUP_AGG_BAND_ROW},
    {1, 4, s_quad, NULL, HO_RQ_REPORT_SETUP_AGG_QUAD_ROW},
    {2, 2, s_fi, NULL, HO_RQ_REPORT_SETUP_AGG_FI_ROW},
};
enum { S_NG = sizeof s_groups / sizeof s_groups[0] };

/* The lead scan's groups, not yet written (report_int.h). */
struct ho_rleads {
    ho_ragg_t *aggs[S_NG];
};

void ho_rleads_destroy(ho_rleads_t **self_p)
{
    ho_rleads_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < S_NG; i++) {
        ho_ragg_destroy(&self->aggs[i]);
    }
    free(self);
    *self_p = NULL;
}

ho_report_error_t ho_report_leads_scan(ho_rctx_t *ctx, ho_rleads_t **out)
{
    ho_rleads_t *self = calloc(1, sizeof *self);
    ho_report_error_t rc = self ? HO_REPORT_OK : HO_REPORT_ERR_NOMEM;
    for (size_t i = 0; i < S_NG && rc == HO_REPORT_OK; i++) {
        const ho_rgroup_t *g = &s_groups[i];
        if (!(self->aggs[i] = ho_ragg_new(g->nkeys, g->nsums, g->cols, g->kinds))) {
            rc = HO_REPORT_ERR_NOMEM;
        }
    }
    if (rc == HO_REPORT_ERR_NOMEM) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "the lead pass: out of memory");
    }
    s_map_t m = {0};
    if (rc == HO_REPORT_OK) {
        rc = ho_rscan_into(ctx, HO_RQ_REPORT_SCAN_LEADS_FACTS, s_map, &m, s_groups, self->aggs,
                           S_NG, "the lead pass");
    }
    free(m.quad);
    if (rc != HO_REPORT_OK) {
        ho_rleads_destroy(&self);
    }
    *out = self;
    return rc;
}

ho_report_error_t ho_report_scan_leads(ho_rctx_t *ctx)
{
    static const ho_rq_t tables[] = {HO_RQ_REPORT_SETUP_AGG_SRC, HO_RQ_REPORT_SETUP_AGG_BAND,
                                     HO_RQ_REPORT_SETUP_AGG_QUAD, HO_RQ_REPORT_SETUP_AGG_FI};
    ho_report_error_t rc = HO_REPORT_OK;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && rc == HO_REPORT_OK; i++) {
        rc = ho_rsql_exec(ctx, tables[i]);
    }
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    if (!ctx->has_facts) {
        return ho_rscan_map(ctx, HO_RQ_REPORT_SCAN_LEADS, s_map_raw, NULL, s_groups, S_NG,
                            "the lead pass");
    }
    /* the leads (scanned beside the other passes, ctx->leads, or now), then their won
     * amounts (temp.won_amount: the outcomes pass) into the same agg_src groups */
    ho_rleads_t *own = NULL, *leads = ctx->leads;
    if (!leads && (rc = ho_report_leads_scan(ctx, &own)) != HO_REPORT_OK) {
        return rc;
    }
    leads = leads ? leads : own;
    rc = ho_rscan_into(ctx, HO_RQ_REPORT_SCAN_LEADS_AMOUNTS, s_map_amount, NULL, s_groups,
                       leads->aggs, 1, "the lead pass: won amounts");
    for (size_t i = 0; i < S_NG && rc == HO_REPORT_OK; i++) {
        rc = ho_ragg_flush(ctx, leads->aggs[i], s_groups[i].insert, "the lead pass");
    }
    ho_rleads_destroy(&own);
    return rc;
}
