/* scans.c - the report's passes over outcomes, assignments and sla_breaches (report_int.h,
 * "Passes"): one scan of each table, grouped in C (agg.c), the groups written into the small
 * temp tables that Summary, Sources (won_amount), Lost reasons, Lost and rejected, Reps and
 * Data quality read (read_queries_report.c says what each holds).
 *
 * Why C and not SQL: each sheet used to group the same table again, and SQLite groups by
 * sorting (GROUP BY, count(DISTINCT), ORDER BY), about 5.5 CPU-s over the 875k outcomes and
 * 550k assignments of a 1M-lead store. Here each row is read once and every decision the
 * sheets' WHERE clauses made (which week, which outcome, which flags) is made once in C. The
 * definitions are those of the queries replaced (reports/README.md): a row's period is the
 * week [a, b) holding its time, and the 4-week window (HO_P4) for the last four. */
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

/* Add the row v to the group of week wk and, for the last four weeks, of the window too. */
static bool s_add_periods(ho_ragg_t *agg, int wk, const ho_rval_t *v)
{
    ho_ragg_key_int(agg, wk);
    if (!ho_ragg_add_vals(agg, v)) {
        return false;
    }
    if (wk < HO_RW - 4) {
        return true;
    }
    ho_ragg_key_int(agg, HO_P4);
    return ho_ragg_add_vals(agg, v);
}

static ho_rval_t s_int(int64_t i)
{
    return (ho_rval_t){.type = SQLITE_INTEGER, .i = i};
}

static ho_rval_t s_null(void)
{
    return (ho_rval_t){.type = SQLITE_NULL};
}

/* Column c as a value to sum: an amount stays what the store holds (REAL, or INTEGER). */
static ho_rval_t s_col_val(sqlite3_stmt *st, int c)
{
    int t = sqlite3_column_type(st, c);
    if (t == SQLITE_INTEGER) {
        return s_int(sqlite3_column_int64(st, c));
    }
    if (t == SQLITE_NULL) {
        return s_null();
    }
    return (ho_rval_t){.type = SQLITE_FLOAT, .d = sqlite3_column_double(st, c)};
}

/* flags ("a,b,c") has the word w: what instr(',' || flags || ',', ',w,') > 0 says. */
static bool s_has_flag(const char *flags, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = flags; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, w, n)) {
            return true;
        }
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* ---- outcomes ---- */

enum {
    O_ID,
    O_AT,
    O_OUTCOME,
    O_LEAD,
    O_AMOUNT,
    O_REASON,
    O_REP,
    O_FLAGS,
    O_IMPLIED,
    O_IMPORT,
    O_CH
};
typedef enum { OC_ACCEPTED, OC_REJECTED, OC_SQL, OC_OPPORTUNITY, OC_WON, OC_LOST, OC_OTHER } s_oc_t;

typedef struct {
    ho_ragg_t *periods, *reasons, *keys, *imports, *week_lost, *won_amount;
} s_oaggs_t;

/* outcome_periods' columns: sals counts each lead once, the others add up. */
static const int s_period_kinds[8] = {HO_RAGG_DISTINCT, HO_RAGG_SUM, HO_RAGG_SUM, HO_RAGG_SUM,
                                      HO_RAGG_SUM,      HO_RAGG_SUM, HO_RAGG_SUM, HO_RAGG_SUM};

static s_oc_t s_outcome(const char *o)
{
    static const char *const names[] = {"accepted",    "rejected", "sql",
                                        "opportunity", "won",      "lost"};
    for (int i = 0; i < OC_OTHER; i++) {
        if (!strcmp(o, names[i])) {
            return (s_oc_t)i;
        }
    }
    return OC_OTHER;
}

/* One outcome row, as the Summary's outcome metrics count it (periods). */
static bool s_outcome_periods(s_oaggs_t *a, sqlite3_stmt *st, int wk, s_oc_t oc, bool no_mql,
                              bool out_of_order)
{
    ho_rval_t v[8] = {
        oc == OC_ACCEPTED && !out_of_order ? s_int(sqlite3_column_int64(st, O_LEAD)) : s_null(),
        s_int(oc == OC_ACCEPTED),
        s_int(oc == OC_ACCEPTED || oc == OC_REJECTED),
        s_int(oc == OC_REJECTED),
        s_int(oc == OC_LOST),
        s_int(no_mql),
        oc == OC_WON ? s_col_val(st, O_AMOUNT) : s_null(),
        oc == OC_OPPORTUNITY ? s_col_val(st, O_AMOUNT) : s_null(),
    };
    return s_add_periods(a->periods, wk, v);
}

/* A rejected or lost row of the 12 weeks, as Lost reasons counts it: by reason, and by reason
 * and channel / rep. */
static bool s_outcome_reasons(ho_rctx_t *ctx, s_oaggs_t *a, sqlite3_stmt *st, s_oc_t oc)
{
    const char *code = ho_rcol_text(st, O_REASON);
    code = *code ? code : "unspecified";
    const char *rep = ho_rcol_text(st, O_REP);
    rep = *rep ? rep : "(none)";
    const char *ch = ho_rcol_text(st, O_CH); /* '(none)' when blank: the scan says */
    ho_rval_t v[4] = {s_int(oc == OC_REJECTED), s_int(oc == OC_LOST),
                      s_int(sqlite3_column_int64(st, O_AT) >= ctx->weeks[HO_RW_THIS].a), s_int(1)};
    ho_ragg_key_text(a->reasons, code, strlen(code));
    if (!ho_ragg_add_vals(a->reasons, v)) {
        return false;
    }
    const char *by[2][2] = {{"channel", ch}, {"rep", rep}};
    for (int i = 0; i < 2; i++) {
        ho_ragg_key_text(a->keys, by[i][0], strlen(by[i][0]));
        ho_ragg_key_text(a->keys, code, strlen(code));
        ho_ragg_key_text(a->keys, by[i][1], strlen(by[i][1]));
        if (!ho_ragg_add_vals(a->keys, &v[3])) {
            return false;
        }
    }
    return true;
}

/* Every row, by its import id, as Data quality counts it: the rows sales recorded (not implied)
 * of all time, and those of the report week by outcome. */
static bool s_outcome_imports(s_oaggs_t *a, sqlite3_stmt *st, bool week, s_oc_t oc, bool recorded,
                              bool no_mql)
{
    if (sqlite3_column_type(st, O_IMPORT) == SQLITE_NULL) {
        ho_ragg_key_null(a->imports);
    } else {
        const char *id = ho_rcol_text(st, O_IMPORT);
        ho_ragg_key_text(a->imports, id, (size_t)sqlite3_column_bytes(st, O_IMPORT));
    }
    bool w = week && recorded;
    ho_rval_t v[10] = {s_int(recorded),
                       s_int(recorded && no_mql),
                       s_int(w && oc == OC_ACCEPTED),
                       s_int(w && oc == OC_REJECTED),
                       s_int(w && oc == OC_SQL),
                       s_int(w && oc == OC_OPPORTUNITY),
                       s_int(w && oc == OC_WON),
                       s_int(w && oc == OC_LOST),
                       s_int(w && no_mql),
                       s_int(w)};
    return ho_ragg_add_vals(a->imports, v);
}

static bool s_outcome_row(ho_rctx_t *ctx, s_oaggs_t *a, sqlite3_stmt *st)
{
    int64_t at = sqlite3_column_int64(st, O_AT);
    int wk = ho_rweek_idx(ctx, at);
    s_oc_t oc = s_outcome(ho_rcol_text(st, O_OUTCOME));
    const char *flags = ho_rcol_text(st, O_FLAGS); /* the NULL part when the store has none */
    bool flag_no_mql = s_has_flag(flags, "sales_accepted_without_mql");
    /* implied rows are stages the store inferred, not what sales recorded (the 0 part when
     * the store predates outcomes.implied: every row was recorded) */
    bool recorded = sqlite3_column_type(st, O_IMPLIED) == SQLITE_INTEGER &&
                    sqlite3_column_int64(st, O_IMPLIED) == 0;
    bool lost = oc == OC_REJECTED || oc == OC_LOST;
    bool week = at >= ctx->weeks[HO_RW_THIS].a && at < ctx->weeks[HO_RW_THIS].b;
    if (wk >= 0 && !s_outcome_periods(a, st, wk, oc, recorded && flag_no_mql,
                                      s_has_flag(flags, "out_of_order"))) {
        return false;
    }
    if (wk >= 0 && lost && !s_outcome_reasons(ctx, a, st, oc)) {
        return false;
    }
    if (oc == OC_WON && at < ctx->as_of) { /* a lead with only NULL amounts: 0.0, as total() */
        ho_rval_t amount = s_col_val(st, O_AMOUNT);
        ho_ragg_key_int(a->won_amount, sqlite3_column_int64(st, O_LEAD));
        if (!ho_ragg_add_vals(a->won_amount, &amount)) {
            return false;
        }
    }
    if (week && lost) {
        ho_ragg_key_int(a->week_lost, at);
        ho_ragg_key_int(a->week_lost, sqlite3_column_int64(st, O_ID));
        if (!ho_ragg_add_vals(a->week_lost, NULL)) {
            return false;
        }
    }
    return s_outcome_imports(a, st, week, oc, recorded, flag_no_mql);
}

/* One row of a pass's scan into its groupings (arg: the pass's aggregations); false when
 * out of memory. */
typedef bool (*s_row_fn)(ho_rctx_t *ctx, void *arg, sqlite3_stmt *st);

/* A pass's scan: every row of st (prepared with result rc) through row, into its groupings
 * (aggs[0..n), all made: NULL is out of memory). */
static ho_report_error_t s_pass_scan(ho_rctx_t *ctx, ho_report_error_t rc, sqlite3_stmt *st,
                                     s_row_fn row, void *arg, ho_ragg_t *const *aggs, size_t n,
                                     const char *what)
{
    for (size_t i = 0; i < n && rc == HO_REPORT_OK; i++) {
        if (!aggs[i]) {
            rc = HO_REPORT_ERR_NOMEM;
        }
    }
    int s = SQLITE_DONE;
    while (rc == HO_REPORT_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (!row(ctx, arg, st)) {
            rc = HO_REPORT_ERR_NOMEM;
        }
    }
    return ho_rscan_end(ctx, st, rc, s, what);
}

/* A pass's groupings made into their temp tables (tables[i]: create, insert). */
static ho_report_error_t s_pass_write(ho_rctx_t *ctx, ho_ragg_t *const *aggs,
                                      const ho_rq_t (*tables)[2], size_t n, const char *what)
{
    ho_report_error_t rc = HO_REPORT_OK;
    for (size_t i = 0; i < n && rc == HO_REPORT_OK; i++) {
        if ((rc = ho_rsql_exec(ctx, tables[i][0])) == HO_REPORT_OK) {
            rc = ho_ragg_flush(ctx, aggs[i], tables[i][1], what);
        }
    }
    if (rc == HO_REPORT_ERR_NOMEM) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "%s: out of memory", what);
    }
    return rc;
}

/* A pass: its scan, then its groupings into their temp tables. The aggregations are
 * destroyed whatever happens. */
static ho_report_error_t s_pass(ho_rctx_t *ctx, ho_report_error_t rc, sqlite3_stmt *st,
                                s_row_fn row, void *arg, ho_ragg_t **aggs,
                                const ho_rq_t (*tables)[2], size_t n, const char *what)
{
    rc = s_pass_scan(ctx, rc, st, row, arg, aggs, n, what);
    if (rc == HO_REPORT_OK) {
        rc = s_pass_write(ctx, aggs, tables, n, what);
    }
    for (size_t i = 0; i < n; i++) {
        ho_ragg_destroy(&aggs[i]);
    }
    return rc;
}

static bool s_outcome_pass_row(ho_rctx_t *ctx, void *arg, sqlite3_stmt *st)
{
    return s_outcome_row(ctx, arg, st);
}

static ho_report_error_t s_outcomes(ho_rctx_t *ctx)
{
    s_oaggs_t a = {
        .periods = ho_ragg_new(1, 8, NULL, s_period_kinds),
        .reasons = ho_ragg_new(1, 4, NULL, NULL),
        .keys = ho_ragg_new(3, 1, NULL, NULL),
        .imports = ho_ragg_new(1, 10, NULL, NULL),
        .week_lost = ho_ragg_new(2, 0, NULL, NULL),
        .won_amount = ho_ragg_new(1, 1, NULL, NULL),
    };
    ho_ragg_t *aggs[] = {a.periods, a.reasons, a.keys, a.imports, a.week_lost, a.won_amount};
    static const ho_rq_t tables[][2] = {
        {HO_RQ_REPORT_SETUP_OUTCOME_PERIODS, HO_RQ_REPORT_SETUP_OUTCOME_PERIODS_ROW},
        {HO_RQ_REPORT_SETUP_OUTCOME_REASONS, HO_RQ_REPORT_SETUP_OUTCOME_REASONS_ROW},
        {HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS, HO_RQ_REPORT_SETUP_OUTCOME_REASON_KEYS_ROW},
        {HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS, HO_RQ_REPORT_SETUP_OUTCOME_IMPORTS_ROW},
        {HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST, HO_RQ_REPORT_SETUP_OUTCOME_WEEK_LOST_ROW},
        {HO_RQ_REPORT_SETUP_WON_AMOUNT, HO_RQ_REPORT_SETUP_WON_AMOUNT_ROW},
    };
    sqlite3_stmt *st = NULL;
    ho_rq_t none = HO_RQ_REPORT_SCAN_NULL;
    ho_report_error_t rc = ho_rsql_prepared(
        ctx,
        ho_reader_stmt_fmt(
            ctx->rd, HO_RQ_REPORT_SCAN_OUTCOMES, &st, NULL,
            ho_reader_sql(ctx->has_flags ? HO_RQ_REPORT_SCAN_OUTCOMES_FLAGS : none),
            ho_reader_sql(ctx->has_implied ? HO_RQ_REPORT_SCAN_OUTCOMES_IMPLIED
                                           : HO_RQ_REPORT_SCAN_ZERO),
            ho_reader_sql(ctx->has_oimport ? HO_RQ_REPORT_SCAN_OUTCOMES_IMPORT_ID : none),
            ho_reader_sql(ctx->has_facts ? HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_FACTS
                                         : HO_RQ_REPORT_SCAN_OUTCOMES_CHANNEL_LEADS)),
        &st);
    return s_pass(ctx, rc, st, s_outcome_pass_row, &a, aggs, tables, sizeof aggs / sizeof aggs[0],
                  "outcomes pass");
}

/* ---- assignments ---- */

enum { A_LEAD, A_REP, A_NAME, A_ASSIGNED, A_ACCEPTED, A_BREACH, A_SQL, A_WON };

typedef struct {
    ho_ragg_t *periods, *reps, *names;
} s_aaggs_t;

static const int s_median_kind[1] = {HO_RAGG_MEDIAN};
static const int s_rep_kinds[7] = {HO_RAGG_SUM,      HO_RAGG_SUM,      HO_RAGG_SUM,
                                   HO_RAGG_DISTINCT, HO_RAGG_DISTINCT, HO_RAGG_DISTINCT,
                                   HO_RAGG_MEDIAN};

/* The lead when its reach column c (the latest entry into SQL / WON) is at or after the
 * assignment: what count(DISTINCT CASE WHEN r.sql >= s.assigned_at THEN lead END) counts. */
static ho_rval_t s_lead_reached(sqlite3_stmt *st, int c, int64_t assigned)
{
    if (sqlite3_column_type(st, c) != SQLITE_NULL && sqlite3_column_int64(st, c) >= assigned) {
        return s_int(sqlite3_column_int64(st, A_LEAD));
    }
    return s_null();
}

/* An assignment of the 4 weeks to a rep, as the Reps sheet counts it. */
static bool s_assignment_rep(s_aaggs_t *a, sqlite3_stmt *st, bool accepted, int64_t tta)
{
    const char *rep = ho_rcol_text(st, A_REP);
    size_t len = (size_t)sqlite3_column_bytes(st, A_REP);
    int64_t assigned = sqlite3_column_int64(st, A_ASSIGNED);
    ho_rval_t v[7] = {s_int(1),
                      s_int(accepted),
                      s_int(sqlite3_column_int64(st, A_BREACH)),
                      s_int(sqlite3_column_int64(st, A_LEAD)),
                      s_lead_reached(st, A_SQL, assigned),
                      s_lead_reached(st, A_WON, assigned),
                      accepted ? s_int(tta) : s_null()};
    ho_ragg_key_text(a->reps, rep, len);
    if (!ho_ragg_add_vals(a->reps, v)) {
        return false;
    }
    ho_ragg_key_text(a->names, rep, len);
    if (sqlite3_column_type(st, A_NAME) == SQLITE_NULL) {
        ho_ragg_key_null(a->names);
    } else {
        ho_ragg_key_text(a->names, ho_rcol_text(st, A_NAME),
                         (size_t)sqlite3_column_bytes(st, A_NAME));
    }
    return ho_ragg_add_vals(a->names, NULL);
}

static bool s_assignment_row(ho_rctx_t *ctx, s_aaggs_t *a, sqlite3_stmt *st)
{
    int64_t assigned = sqlite3_column_int64(st, A_ASSIGNED);
    int wk = ho_rweek_idx(ctx, assigned);
    bool accepted = sqlite3_column_type(st, A_ACCEPTED) != SQLITE_NULL &&
                    sqlite3_column_int64(st, A_ACCEPTED) < ctx->as_of;
    int64_t tta = sqlite3_column_int64(st, A_ACCEPTED) - assigned;
    if (wk < 0) {
        return true;
    }
    ho_rval_t med = accepted ? s_int(tta) : s_null();
    if (!s_add_periods(a->periods, wk, &med)) {
        return false;
    }
    bool to_rep = sqlite3_column_type(st, A_REP) != SQLITE_NULL && *ho_rcol_text(st, A_REP);
    return !(to_rep && assigned >= ctx->win4_a) || s_assignment_rep(a, st, accepted, tta);
}

static bool s_assignment_pass_row(ho_rctx_t *ctx, void *arg, sqlite3_stmt *st)
{
    return s_assignment_row(ctx, arg, st);
}

/* The assignment pass's groupings then the SLA pass's, scanned and not yet written: both
 * read main tables and the reach view only, so they can run on the second connection. */
struct ho_rpass {
    ho_ragg_t *aggs[4];
};
enum { S_NA = 3 }; /* aggs[0..S_NA): assignments; aggs[S_NA]: sla_breaches */

void ho_rpass_destroy(ho_rpass_t **self_p)
{
    ho_rpass_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < sizeof self->aggs / sizeof self->aggs[0]; i++) {
        ho_ragg_destroy(&self->aggs[i]);
    }
    free(self);
    *self_p = NULL;
}

/* ---- sla_breaches: the assignments with a breach in each period ---- */

static bool s_sla_row(ho_rctx_t *ctx, void *arg, sqlite3_stmt *st)
{
    int wk = ho_rweek_idx(ctx, sqlite3_column_int64(st, 0));
    ho_rval_t v = s_int(sqlite3_column_int64(st, 1));
    return wk < 0 || s_add_periods(arg, wk, &v);
}

ho_report_error_t ho_report_assign_scan(ho_rctx_t *ctx, ho_rpass_t **out)
{
    static const int distinct[1] = {HO_RAGG_DISTINCT};
    *out = NULL;
    ho_rpass_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(ctx->err, HO_ERR_NOMEM, "", "assignments pass: out of memory");
        return HO_REPORT_ERR_NOMEM;
    }
    self->aggs[0] = ho_ragg_new(1, 1, NULL, s_median_kind);
    self->aggs[1] = ho_ragg_new(1, 7, NULL, s_rep_kinds);
    self->aggs[2] = ho_ragg_new(2, 0, NULL, NULL);
    self->aggs[S_NA] = ho_ragg_new(1, 1, NULL, distinct);
    s_aaggs_t a = {.periods = self->aggs[0], .reps = self->aggs[1], .names = self->aggs[2]};
    sqlite3_stmt *st = NULL;
    ho_report_error_t rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SCAN_ASSIGNMENTS, &st);
    rc = s_pass_scan(ctx, rc, st, s_assignment_pass_row, &a, self->aggs, S_NA, "assignments pass");
    if (rc == HO_REPORT_OK) {
        rc = ho_rsql_prepare(ctx, HO_RQ_REPORT_SCAN_SLA, &st);
        rc =
            s_pass_scan(ctx, rc, st, s_sla_row, self->aggs[S_NA], self->aggs + S_NA, 1, "sla pass");
    }
    if (rc != HO_REPORT_OK) {
        ho_rpass_destroy(&self);
    }
    *out = self;
    return rc;
}

ho_report_error_t ho_report_assign_write(ho_rctx_t *ctx, const ho_rpass_t *p)
{
    static const ho_rq_t tables[][2] = {
        {HO_RQ_REPORT_SETUP_ASSIGN_PERIODS, HO_RQ_REPORT_SETUP_ASSIGN_PERIODS_ROW},
        {HO_RQ_REPORT_SETUP_REP_ROWS, HO_RQ_REPORT_SETUP_REP_ROWS_ROW},
        {HO_RQ_REPORT_SETUP_REP_NAMES, HO_RQ_REPORT_SETUP_REP_NAMES_ROW},
        {HO_RQ_REPORT_SETUP_SLA_PERIODS, HO_RQ_REPORT_SETUP_SLA_PERIODS_ROW},
    };
    return s_pass_write(ctx, p->aggs, tables, sizeof tables / sizeof tables[0], "assignments pass");
}

ho_report_error_t ho_report_passes(ho_rctx_t *ctx)
{
    ho_report_error_t rc = s_outcomes(ctx);
    if (rc != HO_REPORT_OK || ctx->side) {
        return rc; /* the second connection scans assignments and sla_breaches (side.c) */
    }
    ho_rpass_t *p = NULL;
    if ((rc = ho_report_assign_scan(ctx, &p)) == HO_REPORT_OK) {
        rc = ho_report_assign_write(ctx, p);
    }
    ho_rpass_destroy(&p);
    return rc;
}
