/* workbook.c - the report driver: opens the store read-only, prepares the shared temp
 * tables every sheet reads, writes the eleven sheets and closes the workbook.
 *
 * All definitions (which timestamp puts an event in a week, what counts as reached) are in
 * reports/README.md; the temp tables below are their building blocks:
 *   periods(idx, a, b)       idx 0..11 = the 12 weeks ending with the report week,
 *                            idx 12    = the 4-week window (weeks 8..11)
 *   transitions              view: the stage_history rows that are stage changes
 *   reach(lead_id, mql, sal, sql, opp, won, first_mql)
 *                            per lead, the LATEST time before as_of it entered a stage of
 *                            each "at least" set (so "reached S at or after t" = reach.S >= t);
 *                            first_mql: its first MQL entry before as_of
 *   cohort(idx, lead_id, e, sal, sql, opp, won)
 *                            MQL cohorts: leads with an MQL entry in period idx; e = the
 *                            first such entry; sal..won = the lead's reach
 *   score_asof(lead_id, score_id, score, grade, quadrant)
 *                            the lead's latest score before as_of
 *   lead_rows(id, created_at, source_channel, original_source, original_campaign)
 *                            view: the lead columns the per-lead passes group by
 * On a store with the roll-ups of schema version 8 (main.lead_facts, kept by the store as
 * it applies events) reach, score_asof and lead_rows are views over lead_facts: a value
 * before as_of is used as it is, a later one sends that lead to its history (a report re-run
 * for an older week); otherwise (an older store, opened read-only, not migrated yet) they are
 * computed from the raw history as before. Same definitions, same cells either way. */
#include "handoff/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handoff/defaults.h"
#include "report/report_int.h"

static const char *const s_sheet_names[HO_REPORT_SHEETS] = {
    "Summary",     "Funnel",    "Sources",  "Lost reasons", "Lost and rejected", "Reps",
    "Calibration", "Learnings", "Handoffs", "Data quality", "Definitions",
};

const char *ho_report_sheet_name(int index)
{
    return index >= 0 && index < HO_REPORT_SHEETS ? s_sheet_names[index] : NULL;
}

const char *ho_report_strerror(ho_report_error_t code)
{
    switch (code) {
    case HO_REPORT_OK:
        return "ok";
    case HO_REPORT_ERR_WEEK:
        return "bad ISO week";
    case HO_REPORT_ERR_TIMEZONE:
        return "unknown time zone";
    case HO_REPORT_ERR_DB_OPEN:
        return "cannot open database";
    case HO_REPORT_ERR_SCHEMA:
        return "not a handoff store database";
    case HO_REPORT_ERR_SQL:
        return "query failed";
    case HO_REPORT_ERR_XLSX:
        return "cannot write workbook";
    case HO_REPORT_ERR_IO:
        return "i/o error";
    case HO_REPORT_ERR_NOMEM:
        return "out of memory";
    case HO_REPORT_ERR_ARG:
        return "invalid argument";
    }
    return "unknown error";
}

/* ---- SQL helpers ---- */

ho_report_error_t ho_rsql_fail(ho_rctx_t *ctx, const char *what)
{
    ho_err_set(ctx->err, HO_ERR_IO, "", "%s: %s: %s", ctx->opts->db_path, what,
               sqlite3_errmsg(ctx->db));
    return HO_REPORT_ERR_SQL;
}

ho_report_error_t ho_rsql_prepare(ho_rctx_t *ctx, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(ctx->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return ho_rsql_fail(ctx, "prepare");
    }
    ho_rsql_bind_common(ctx, *st);
    return HO_REPORT_OK;
}

ho_report_error_t ho_rsql_exec(ho_rctx_t *ctx, const char *sql)
{
    sqlite3_stmt *st;
    ho_report_error_t rc = ho_rsql_prepare(ctx, sql, &st);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? HO_REPORT_OK : ho_rsql_fail(ctx, "exec");
}

static void s_bind(sqlite3_stmt *st, const char *name, int64_t v)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0) {
        sqlite3_bind_int64(st, i, v);
    }
}

void ho_rsql_bind_common(ho_rctx_t *ctx, sqlite3_stmt *st)
{
    s_bind(st, ":asof", ctx->as_of);
    s_bind(st, ":a4", ctx->win4_a);
    s_bind(st, ":a12", ctx->win12_a);
    s_bind(st, ":wa", ctx->weeks[HO_RW_THIS].a);
    s_bind(st, ":wb", ctx->weeks[HO_RW_THIS].b);
}

const char *ho_rcol_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* ---- write helpers ---- */

lxw_datetime ho_rdatetime(const ho_rctx_t *ctx, int64_t ms)
{
    /* whole seconds, as before: the sub-second part of an instant is not shown */
    ho_civil_time_t c = ho_tz_civil(ctx->zone, ho_floor_div(ms, 1000) * 1000);
    lxw_datetime dt = {c.year, c.month, c.day, c.hour, c.minute, (double)c.second};
    return dt;
}

lxw_datetime ho_rdate_of_days(int64_t days)
{
    int y, m, d;
    ho_civil_from_days(days, &y, &m, &d);
    lxw_datetime dt = {y, m, d, 0, 0, 0};
    return dt;
}

void ho_rtitle(ho_rctx_t *ctx, lxw_worksheet *ws, const char *title, const char *subtitle)
{
    worksheet_set_row(ws, 0, 22, NULL);
    worksheet_write_string(ws, 0, 0, title, ctx->f_title);
    worksheet_write_string(ws, 1, 0, subtitle, ctx->f_sub);
}

void ho_rcols(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_col_t first, lxw_col_t last, double width)
{
    for (lxw_col_t c = first; c <= last && c < 64; c++) {
        ctx->colw[c] = width;
    }
    worksheet_set_column(ws, first, last, width, NULL);
}

/* Greedy word wrap, counting UTF-8 characters; a bold character is taken as 1.15 widths, a
 * normal one as 1.05 (proportional fonts), a word longer than a line breaks. */
int ho_rlines(const char *text, double width, bool bold)
{
    int cpl = (int)(width / (bold ? 1.15 : 1.05));
    if (cpl < 1) {
        cpl = 1;
    }
    int lines = 1, used = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        int w = 0;
        const char *q = p;
        while (*q && *q != ' ') {
            w += ((unsigned char)*q & 0xC0) != 0x80;
            q++;
        }
        if (w == 0) {
            break;
        }
        int need = used ? used + 1 + w : w;
        if (need <= cpl) {
            used = need;
        } else {
            if (used) {
                lines++;
            }
            lines += (w - 1) / cpl;
            used = w - ((w - 1) / cpl) * cpl;
        }
        p = q;
    }
    return lines;
}

void ho_rheader(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, const char *const *cols, int n)
{
    int lines = 1;
    for (int i = 0; i < n && i < 64; i++) {
        int l = ho_rlines(cols[i], ctx->colw[i], true);
        lines = l > lines ? l : lines;
    }
    if (lines > 1) {
        worksheet_set_row(ws, row, 15.0 * lines + 2, NULL);
    }
    for (int i = 0; i < n; i++) {
        worksheet_write_string(ws, row, (lxw_col_t)i, cols[i], ctx->f_head);
    }
}

void ho_rrate(ho_rctx_t *ctx, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, double num,
              double den, lxw_format *fmt)
{
    if (den > 0) {
        worksheet_write_number(ws, row, col, num / den, fmt ? fmt : ctx->f_pct);
    } else {
        worksheet_write_blank(ws, row, col, fmt ? fmt : ctx->f_pct);
    }
}

void ho_rprogress(ho_rctx_t *ctx, const char *sheet, int64_t rows, bool done)
{
    if (ctx->opts->progress) {
        ctx->opts->progress(ctx->opts->progress_arg, sheet, rows, done);
    }
}

lxw_chart *ho_rchart(ho_rctx_t *ctx, uint8_t type)
{
    lxw_chart *c = workbook_add_chart(ctx->wb, type);
    if (c) {
        ctx->charts++;
    }
    return c;
}

/* Labels from reasons.yaml. Accepted shapes (the taxonomy file is the feedback worker's):
 *   reasons: { budget: "No budget", timing: { label: "Not now", owner: sales } }
 *   reasons: [ { code: budget, label: "No budget" }, ... ]
 * or the same maps/lists at the root. A code without a label is shown as the code. */
const char *ho_rreason_label(ho_rctx_t *ctx, const char *code)
{
    if (!ctx->reasons) {
        return code;
    }
    const ho_node_t *root = ho_conf_root(ctx->reasons);
    const ho_node_t *list = ho_node_get(root, "reasons");
    if (!list) {
        list = root;
    }
    if (ho_node_kind(list) == HO_NODE_MAP) {
        const ho_node_t *v = ho_node_get(list, code);
        if (v && ho_node_kind(v) == HO_NODE_SCALAR && ho_node_str(v) && *ho_node_str(v)) {
            return ho_node_str(v);
        }
        if (v && ho_node_kind(v) == HO_NODE_MAP) {
            const ho_node_t *l = ho_node_get(v, "label");
            if (l && ho_node_str(l) && *ho_node_str(l)) {
                return ho_node_str(l);
            }
        }
    } else if (ho_node_kind(list) == HO_NODE_SEQ) {
        for (size_t i = 0; i < ho_node_size(list); i++) {
            const ho_node_t *item = ho_node_at(list, i);
            const ho_node_t *c = ho_node_get(item, "code");
            const ho_node_t *l = ho_node_get(item, "label");
            if (c && ho_node_str(c) && !strcmp(ho_node_str(c), code) && l && ho_node_str(l) &&
                *ho_node_str(l)) {
                return ho_node_str(l);
            }
        }
    }
    return code;
}

const char *ho_rreason_owner(ho_rctx_t *ctx, const char *code)
{
    const ho_node_t *root = ctx->reasons ? ho_conf_root(ctx->reasons) : NULL;
    const ho_node_t *list = root ? ho_node_get(root, "reasons") : NULL;
    if (!list) {
        list = root;
    }
    const ho_node_t *v = NULL;
    if (list && ho_node_kind(list) == HO_NODE_MAP) {
        v = ho_node_get(list, code);
    } else if (list && ho_node_kind(list) == HO_NODE_SEQ) {
        for (size_t i = 0; i < ho_node_size(list) && !v; i++) {
            const ho_node_t *c = ho_node_get(ho_node_at(list, i), "code");
            if (c && ho_node_str(c) && !strcmp(ho_node_str(c), code)) {
                v = ho_node_at(list, i);
            }
        }
    }
    const ho_node_t *o = v && ho_node_kind(v) == HO_NODE_MAP ? ho_node_get(v, "owner") : NULL;
    return o && ho_node_str(o) ? ho_node_str(o) : "";
}

const char *ho_rstage_label(ho_rctx_t *ctx, const char *code)
{
    const ho_node_t *stages =
        ctx->lifecycle ? ho_node_get(ho_conf_root(ctx->lifecycle), "stages") : NULL;
    const ho_node_t *v = stages ? ho_node_get(stages, code) : NULL;
    return v && ho_node_str(v) && *ho_node_str(v) ? ho_node_str(v) : code;
}

const char *ho_rchannel_label(const char *code, char *buf, size_t cap)
{
    /* the store's normalized codes (paid_search) as words (Paid search); "(none)" stays */
    snprintf(buf, cap, "%s", code);
    for (char *p = buf; *p; p++) {
        if (*p == '_') {
            *p = ' ';
        }
    }
    if (buf[0] >= 'a' && buf[0] <= 'z') {
        buf[0] = (char)(buf[0] - 'a' + 'A');
    }
    return buf;
}

const char *ho_rquadrant_label(const char *code)
{
    /* the four quadrants of scoring.yaml (fit x interest) */
    static const char *const map[][2] = {
        {"mql_now", "Good fit, high interest"},
        {"group_offering", "Low fit, high interest"},
        {"nurture", "Good fit, low interest"},
        {"never", "Low fit, low interest"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!strcmp(code, map[i][0])) {
            return map[i][1];
        }
    }
    return code;
}

/* ---- setup ---- */

static ho_report_error_t s_open_db(ho_rctx_t *ctx)
{
    struct stat st;
    if (stat(ctx->opts->db_path, &st) != 0) {
        ho_err_set(ctx->err, HO_ERR_NOT_FOUND, "db",
                   "%s: no database (%s); has the store run with this data dir?",
                   ctx->opts->db_path, strerror(errno));
        return HO_REPORT_ERR_DB_OPEN;
    }
    /* Read-only: the store worker is the only writer; WAL lets us read while it writes. */
    if (sqlite3_open_v2(ctx->opts->db_path, &ctx->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        ho_err_set(ctx->err, HO_ERR_IO, "db", "%s: cannot open read-only: %s", ctx->opts->db_path,
                   ctx->db ? sqlite3_errmsg(ctx->db) : "out of memory");
        return HO_REPORT_ERR_DB_OPEN;
    }
    sqlite3_busy_timeout(ctx->db, 10000);
    sqlite3_stmt *s = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(ctx->db, "SELECT max(version) FROM schema_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        version = sqlite3_column_type(s, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 0);
    }
    const char *why = sqlite3_errmsg(ctx->db);
    char msg[200];
    snprintf(msg, sizeof msg, "%s", why ? why : "");
    sqlite3_finalize(s);
    if (version < 1) {
        ho_err_set(ctx->err, HO_ERR_CONFIG, "schema_version",
                   "%s: not a handoff store database (schema_version: %s)", ctx->opts->db_path,
                   version == -1 ? msg : "empty");
        return HO_REPORT_ERR_SCHEMA;
    }
    return HO_REPORT_OK;
}

/* 1 if the main database has table t (and column c, when c is not NULL). */
static bool s_has(ho_rctx_t *ctx, const char *t, const char *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            ctx->db, "SELECT count(*) FROM pragma_table_info(?1) WHERE ?2 IS NULL OR name = ?2", -1,
            &st, NULL) != SQLITE_OK) {
        return false;
    }
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    if (c) {
        sqlite3_bind_text(st, 2, c, -1, SQLITE_STATIC);
    }
    bool has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return has;
}

/* reach, score_asof and lead_rows from the raw history (a store without lead_facts) */
static const char *const s_raw_ddl[] = {
    "CREATE TEMP TABLE reach (lead_id INTEGER PRIMARY KEY, mql INTEGER, sal INTEGER, "
    "sql INTEGER, opp INTEGER, won INTEGER, first_mql INTEGER)",
    "INSERT INTO temp.reach SELECT lead_id,"
    " max(CASE WHEN to_stage IN ('MQL','SAL','SQL','OPPORTUNITY','WON') THEN at END),"
    " max(CASE WHEN to_stage IN ('SAL','SQL','OPPORTUNITY','WON') THEN at END),"
    " max(CASE WHEN to_stage IN ('SQL','OPPORTUNITY','WON') THEN at END),"
    " max(CASE WHEN to_stage IN ('OPPORTUNITY','WON') THEN at END),"
    " max(CASE WHEN to_stage = 'WON' THEN at END),"
    " min(CASE WHEN to_stage = 'MQL' THEN at END)"
    " FROM temp.transitions WHERE at < :asof GROUP BY lead_id",
    "CREATE TEMP TABLE score_asof (lead_id INTEGER PRIMARY KEY, score_id INTEGER, "
    "score INTEGER, grade TEXT, quadrant TEXT, fit INTEGER, interest INTEGER)",
    "INSERT INTO temp.score_asof SELECT lead_id, id, score, grade, quadrant, fit, interest"
    " FROM (SELECT lead_id, id, score, grade, quadrant, fit, interest, row_number() OVER"
    " (PARTITION BY lead_id ORDER BY at DESC, id DESC) AS rn"
    " FROM main.scores WHERE at < :asof) WHERE rn = 1",
    "CREATE TEMP VIEW lead_rows AS SELECT id, created_at, source_channel, original_source,"
    " original_campaign FROM main.leads",
};

/* The same three as views over the store's roll-up (schema 8, docs/store-schema.md): each
 * kept value before as_of is used as it is; a later one (a re-run for an older week) sends
 * that lead to its own history through stage_history_lead / scores_lead. A view takes no
 * parameters: %1$lld stands for as_of (s_with_asof). */
/* SQL assembled from macros, one clause a line */
// clang-format off
#define S_REACH_COL(col, set)                                                                      \
    " CASE WHEN f." col " < %1$lld THEN f." col " WHEN f." col " IS NOT NULL THEN"                 \
    " (SELECT max(h.at) FROM temp.transitions h WHERE h.lead_id = f.id AND h.to_stage IN " set     \
    " AND h.at < %1$lld) END"
#define S_SID                                                                                      \
    "(SELECT s.id FROM main.scores s WHERE s.lead_id = f.id AND s.at < %1$lld"                     \
    " ORDER BY s.at DESC, s.id DESC LIMIT 1)"
#define S_SCORE_COL(col)                                                                           \
    " CASE WHEN f.score_at < %1$lld THEN f." col " ELSE (SELECT s2." col                           \
    " FROM main.scores s2 WHERE s2.id = " S_SID ") END AS " col
static const char *const s_facts_ddl[] = {
    "CREATE TEMP VIEW reach AS SELECT f.id AS lead_id,"
    S_REACH_COL("reach_mql", "('MQL','SAL','SQL','OPPORTUNITY','WON')") " AS mql,"
    S_REACH_COL("reach_sal", "('SAL','SQL','OPPORTUNITY','WON')") " AS sal,"
    S_REACH_COL("reach_sql", "('SQL','OPPORTUNITY','WON')") " AS sql,"
    S_REACH_COL("reach_opp", "('OPPORTUNITY','WON')") " AS opp,"
    S_REACH_COL("reach_won", "('WON')") " AS won,"
    " CASE WHEN f.first_mql < %1$lld THEN f.first_mql END AS first_mql FROM main.lead_facts f",
    "CREATE TEMP VIEW score_asof AS SELECT f.id AS lead_id,"
    " CASE WHEN f.score_at < %1$lld THEN f.score_id ELSE " S_SID " END AS score_id,"
    S_SCORE_COL("score") "," S_SCORE_COL("grade") "," S_SCORE_COL("quadrant") ","
    S_SCORE_COL("fit") "," S_SCORE_COL("interest") " FROM main.lead_facts f"
    " WHERE f.score_at < %1$lld OR (f.score_at IS NOT NULL AND EXISTS (SELECT 1"
    " FROM main.scores s WHERE s.lead_id = f.id AND s.at < %1$lld))",
    "CREATE TEMP VIEW lead_rows AS SELECT id, created_at, source_channel, original_source,"
    " original_campaign FROM main.lead_facts WHERE created_at IS NOT NULL",
};
// clang-format on

/* tmpl with every "%1$lld" replaced by as_of (malloc'd; NULL when out of memory). */
static char *s_with_asof(const char *tmpl, int64_t as_of)
{
    static const char tok[] = "%1$lld";
    char num[24];
    int nl = snprintf(num, sizeof num, "%lld", (long long)as_of);
    size_t n = 0;
    for (const char *p = strstr(tmpl, tok); p; p = strstr(p + 1, tok)) {
        n++;
    }
    char *out = malloc(strlen(tmpl) + n * (size_t)nl + 1);
    if (!out) {
        return NULL;
    }
    char *o = out;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, tok, sizeof tok - 1) == 0) {
            memcpy(o, num, (size_t)nl);
            o += nl;
            p += sizeof tok - 1;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static ho_report_error_t s_prepare_tables(ho_rctx_t *ctx)
{
    static const char *const ddl[] = {
        "CREATE TEMP TABLE periods (idx INTEGER PRIMARY KEY, a INTEGER NOT NULL, "
        "b INTEGER NOT NULL)",
        "CREATE TEMP TABLE cohort (idx INTEGER NOT NULL, lead_id INTEGER NOT NULL, "
        "e INTEGER NOT NULL, sal INTEGER, sql INTEGER, opp INTEGER, won INTEGER, "
        "PRIMARY KEY (idx, lead_id))",
        /* the member's reach copied in once: Funnel and Summary read it from here */
        "INSERT INTO temp.cohort SELECT x.idx, x.lead_id, x.e, r.sal, r.sql, r.opp, r.won"
        " FROM (SELECT p.idx AS idx, h.lead_id AS lead_id, min(h.at) AS e"
        " FROM temp.transitions h CROSS JOIN temp.periods p ON h.at >= p.a AND h.at < p.b"
        " WHERE h.to_stage = 'MQL' AND h.at >= :a12 AND h.at < :asof GROUP BY h.lead_id, p.idx) x"
        " LEFT JOIN temp.reach r ON r.lead_id = x.lead_id",
        "CREATE TEMP TABLE won_amount (lead_id INTEGER PRIMARY KEY, amount REAL)",
        "INSERT INTO temp.won_amount SELECT lead_id, total(amount) FROM main.outcomes"
        " WHERE outcome = 'won' AND occurred_at < :asof GROUP BY lead_id",
    };
    ctx->has_imports = s_has(ctx, "imports", NULL);
    ctx->has_import_results = s_has(ctx, "import_results", NULL);
    ctx->has_flags = s_has(ctx, "outcomes", "flags");
    ctx->has_implied = s_has(ctx, "outcomes", "implied");
    ctx->has_oimport = s_has(ctx, "outcomes", "import_id");
    ctx->has_pending_status = s_has(ctx, "pending_outcomes", "status");
    ctx->has_facts = s_has(ctx, "lead_facts", "first_mql");
    /* Schema v2 adds stage_history.kind: only 'transition' rows are stage changes (the
     * others are notes that repeat the current stage). A v1 database has transitions only. */
    bool has_kind = s_has(ctx, "stage_history", "kind");
    ho_report_error_t rc = ho_rsql_exec(ctx, has_kind ? "CREATE TEMP VIEW transitions AS SELECT"
                                                        " * FROM main.stage_history WHERE kind ="
                                                        " 'transition'"
                                                      : "CREATE TEMP VIEW transitions AS SELECT"
                                                        " * FROM main.stage_history");
    if (rc != HO_REPORT_OK || (rc = ho_rsql_exec(ctx, ddl[0])) != HO_REPORT_OK) {
        return rc;
    }
    sqlite3_stmt *st;
    if ((rc = ho_rsql_prepare(ctx, "INSERT INTO temp.periods VALUES (?, ?, ?)", &st)) !=
        HO_REPORT_OK) {
        return rc;
    }
    for (int i = 0; i <= HO_P4; i++) {
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int64(st, 2, i < HO_RW ? ctx->weeks[i].a : ctx->win4_a);
        sqlite3_bind_int64(st, 3, i < HO_RW ? ctx->weeks[i].b : ctx->as_of);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return ho_rsql_fail(ctx, "periods");
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < 3 && rc == HO_REPORT_OK; i++) {
        if (ctx->has_facts) {
            char *sql = s_with_asof(s_facts_ddl[i], ctx->as_of);
            if (!sql) {
                ho_err_set(ctx->err, HO_ERR_NOMEM, "", "report: out of memory");
                return HO_REPORT_ERR_NOMEM;
            }
            rc = ho_rsql_exec(ctx, sql);
            free(sql);
        } else {
            rc = ho_rsql_exec(ctx, s_raw_ddl[2 * i]);
            if (rc == HO_REPORT_OK && i < 2) {
                rc = ho_rsql_exec(ctx, s_raw_ddl[2 * i + 1]);
            }
        }
    }
    for (size_t i = 1; i < sizeof ddl / sizeof ddl[0] && rc == HO_REPORT_OK; i++) {
        rc = ho_rsql_exec(ctx, ddl[i]);
    }
    return rc;
}

static void s_formats(ho_rctx_t *ctx)
{
    lxw_workbook *wb = ctx->wb;
#define NEWFMT(var, numfmt)                                                                        \
    do {                                                                                           \
        var = workbook_add_format(wb);                                                             \
        if (numfmt) {                                                                              \
            format_set_num_format(var, numfmt);                                                    \
        }                                                                                          \
    } while (0)
    NEWFMT(ctx->f_title, NULL);
    format_set_bold(ctx->f_title);
    format_set_font_size(ctx->f_title, 14);
    NEWFMT(ctx->f_sub, NULL);
    format_set_italic(ctx->f_sub);
    format_set_font_color(ctx->f_sub, 0x595959);
    NEWFMT(ctx->f_head, NULL);
    format_set_bold(ctx->f_head);
    format_set_bg_color(ctx->f_head, 0xD9E1F2);
    format_set_bottom(ctx->f_head, LXW_BORDER_THIN);
    format_set_text_wrap(ctx->f_head);
    format_set_align(ctx->f_head, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_text, NULL);
    NEWFMT(ctx->f_bold, NULL);
    format_set_bold(ctx->f_bold);
    NEWFMT(ctx->f_int, "#,##0");
    NEWFMT(ctx->f_avg, "#,##0.0");
    NEWFMT(ctx->f_money, "#,##0.00");
    NEWFMT(ctx->f_pct, "0.0%");
    NEWFMT(ctx->f_hours, "#,##0.0");
    NEWFMT(ctx->f_date, "yyyy-mm-dd");
    NEWFMT(ctx->f_dt, "yyyy-mm-dd hh:mm");
    NEWFMT(ctx->f_dint, "+#,##0;-#,##0;0");
    NEWFMT(ctx->f_dpct, "+0.0%;-0.0%;0.0%");
    NEWFMT(ctx->f_dhours, "+#,##0.0;-#,##0.0;0.0");
    NEWFMT(ctx->f_dmoney, "+#,##0.00;-#,##0.00;0.00");
    NEWFMT(ctx->f_note, NULL);
    format_set_italic(ctx->f_note);
    format_set_font_color(ctx->f_note, 0x595959);
    NEWFMT(ctx->f_tot_text, NULL);
    format_set_bold(ctx->f_tot_text);
    format_set_top(ctx->f_tot_text, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_int, "#,##0");
    format_set_bold(ctx->f_tot_int);
    format_set_top(ctx->f_tot_int, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_money, "#,##0.00");
    format_set_bold(ctx->f_tot_money);
    format_set_top(ctx->f_tot_money, LXW_BORDER_THIN);
    NEWFMT(ctx->f_tot_pct, "0.0%");
    format_set_bold(ctx->f_tot_pct);
    format_set_top(ctx->f_tot_pct, LXW_BORDER_THIN);
    NEWFMT(ctx->f_wrap, NULL);
    format_set_text_wrap(ctx->f_wrap);
    format_set_align(ctx->f_wrap, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_wrap_bold, NULL);
    format_set_text_wrap(ctx->f_wrap_bold);
    format_set_bold(ctx->f_wrap_bold);
    format_set_align(ctx->f_wrap_bold, LXW_ALIGN_VERTICAL_TOP);
    /* list sheets (Handoffs, Lost and rejected): every cell top-aligned, like the wrapped ones */
    NEWFMT(ctx->f_top, NULL);
    format_set_align(ctx->f_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_dt_top, "yyyy-mm-dd hh:mm");
    format_set_align(ctx->f_dt_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_int_top, "#,##0");
    format_set_align(ctx->f_int_top, LXW_ALIGN_VERTICAL_TOP);
    NEWFMT(ctx->f_lift, "0.00");
    NEWFMT(ctx->f_small, NULL);
    format_set_italic(ctx->f_small);
    format_set_font_color(ctx->f_small, 0x808080);
    format_set_align(ctx->f_small, LXW_ALIGN_RIGHT);
    NEWFMT(ctx->f_ok, NULL);
    format_set_font_color(ctx->f_ok, 0x006100);
    NEWFMT(ctx->f_bad, NULL);
    format_set_bold(ctx->f_bad);
    format_set_font_color(ctx->f_bad, 0x9C0006);
    format_set_bg_color(ctx->f_bad, 0xFFC7CE);
#undef NEWFMT
}

typedef ho_report_error_t(s_sheet_fn)(ho_rctx_t *ctx, lxw_worksheet *ws);

/* Print setup, for the copies handed round at the Monday meeting: landscape, the sheet and
 * page number in the footer, the report week in the header; a single-table sheet repeats its
 * header row on every page (head_row >= 0); every sheet prints one page wide (the Handoffs
 * list wraps its long columns to stay readable at that width). */
static void s_page_setup(ho_rctx_t *ctx, lxw_worksheet *ws, int head_row)
{
    char header[128];
    snprintf(header, sizeof header, "&Lhandoff weekly conversion report&R%s",
             ctx->weeks[HO_RW_THIS].label);
    worksheet_set_landscape(ws);
    worksheet_set_header(ws, header);
    worksheet_set_footer(ws, "&L&A&RPage &P of &N");
    if (head_row >= 0) {
        worksheet_repeat_rows(ws, (lxw_row_t)head_row, (lxw_row_t)head_row);
    }
    worksheet_fit_to_pages(ws, 1, 0);
}

static ho_report_error_t s_write(ho_rctx_t *ctx, const char *tmp_path)
{
    static s_sheet_fn *const fns[HO_REPORT_SHEETS] = {
        ho_report_summary,   ho_report_funnel,  ho_report_sources,     ho_report_reasons,
        ho_report_drilldown, ho_report_reps,    ho_report_calibration, ho_report_learnings,
        ho_report_handoffs,  ho_report_quality, ho_report_definitions,
    };
    /* Constant memory: each row is flushed once a later row is written, so the Handoffs
     * list (one row per MQL of the week) never sits in memory. Every sheet writes its rows
     * in order for this reason. */
    lxw_workbook_options wopts = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    ctx->wb = workbook_new_opt(tmp_path, &wopts);
    if (!ctx->wb) {
        ho_err_set(ctx->err, HO_ERR_IO, "output", "%s: cannot create workbook", tmp_path);
        return HO_REPORT_ERR_XLSX;
    }
    char title[96];
    snprintf(title, sizeof title, "handoff weekly conversion report %s",
             ctx->weeks[HO_RW_THIS].label);
    /* Fixed creation date, never the wall clock: the caller's --now when it gives one, else
     * the end of the report week. Same data, same week and --now -> the same bytes. */
    lxw_doc_properties props = {
        .title = title,
        .subject = "MQL to SQL conversion and lost-lead reasons",
        .author = "handoff",
        .company = "",
        .comments = "Definitions: the Definitions sheet",
        .created = (time_t)((ctx->opts->now_ms > 0 ? ctx->opts->now_ms : ctx->as_of) / 1000)};
    workbook_set_properties(ctx->wb, &props);
    s_formats(ctx);
    lxw_worksheet *ws[HO_REPORT_SHEETS];
    for (int i = 0; i < HO_REPORT_SHEETS; i++) {
        ws[i] = workbook_add_worksheet(ctx->wb, s_sheet_names[i]);
    }
    ho_report_error_t rc = HO_REPORT_OK;
    /* The header row each sheet repeats on printed pages (-1: several tables, or one page). */
    static const int head_row[HO_REPORT_SHEETS] = {-1, 3, -1, -1, 3, 3, -1, -1, 0, -1, 3};
    for (int i = 0; i < HO_REPORT_SHEETS && rc == HO_REPORT_OK; i++) {
        ho_rprogress(ctx, s_sheet_names[i], 0, false); /* started: says what takes the time */
        for (int c = 0; c < 64; c++) {
            ctx->colw[c] = 8.43; /* Excel's default width */
        }
        rc = fns[i](ctx, ws[i]);
        s_page_setup(ctx, ws[i], head_row[i]);
    }
    lxw_error xrc = workbook_close(ctx->wb);
    ctx->wb = NULL;
    if (rc == HO_REPORT_OK && xrc != LXW_NO_ERROR) {
        ho_err_set(ctx->err, HO_ERR_IO, "output", "%s: %s", tmp_path, lxw_strerror(xrc));
        rc = HO_REPORT_ERR_XLSX;
    }
    if (rc == HO_REPORT_OK && ctx->charts > 0) {
        rc =
            ho_report_pareto_patch(tmp_path, ctx->pareto ? HO_REPORT_PARETO_TITLE : NULL, ctx->err);
    }
    return rc;
}

/* The 12 report weeks and the windows, with TZ pushed. */
static void s_weeks(ho_rctx_t *ctx)
{
    for (int i = 0; i < HO_RW; i++) {
        ho_week_t w = ho_week_add(ctx->opts->week, i - HO_RW_THIS);
        ho_rweek_t *rw = &ctx->weeks[i];
        ho_week_format(w, rw->label, sizeof rw->label);
        rw->monday = ho_week_monday(w);
        rw->a = ho_tz_midnight_ms(ctx->zone, rw->monday);
        rw->b = ho_tz_midnight_ms(ctx->zone, rw->monday + 7);
    }
    ctx->as_of = ctx->weeks[HO_RW_THIS].b;
    ctx->win4_a = ctx->weeks[HO_RW - 4].a;
    ctx->win12_a = ctx->weeks[0].a;
}

/* What both entry points check and set up first: the week exists, the zone loads, the
 * week windows. HO_REPORT_OK with ctx ready (its zone to destroy), else the error in err. */
static ho_report_error_t s_begin(ho_rctx_t *ctx, const ho_report_opts_t *opts, ho_err_t *err)
{
    if (opts->week.week < 1 || opts->week.week > ho_week_count(opts->week.year)) {
        ho_err_set(err, HO_ERR_FIELD, "week", "week: %d-W%02d does not exist", opts->week.year,
                   opts->week.week);
        return HO_REPORT_ERR_WEEK;
    }
    *ctx = (ho_rctx_t){.opts = opts, .err = err, .tz = opts->timezone ? opts->timezone : "UTC"};
    ctx->zone = ho_report_tz_load(ctx->tz, err);
    if (!ctx->zone) {
        return HO_REPORT_ERR_TIMEZONE;
    }
    s_weeks(ctx);
    return HO_REPORT_OK;
}

ho_report_error_t ho_report_rules(const ho_report_opts_t *opts, ho_report_rule_fn *fn, void *arg,
                                  ho_err_t *err)
{
    ho_err_t dummy;
    if (!err) {
        err = &dummy;
    }
    memset(err, 0, sizeof *err);
    if (!opts || !opts->db_path || !fn) {
        ho_err_set(err, HO_ERR_MISSING, "", "report: database path and callback are required");
        return HO_REPORT_ERR_ARG;
    }
    ho_rctx_t ctx;
    ho_report_error_t rc = s_begin(&ctx, opts, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    rc = s_open_db(&ctx);
    if (rc == HO_REPORT_OK) {
        rc = ho_rsql_exec(&ctx, "BEGIN");
    }
    if (rc == HO_REPORT_OK) {
        rc = s_prepare_tables(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        double base[3];
        rc = ho_report_rules_each(&ctx, fn, arg, base);
    }
    if (ctx.db) {
        sqlite3_close_v2(ctx.db);
    }
    ho_tz_destroy(&ctx.zone);
    return rc;
}

ho_report_error_t ho_report_write(const ho_report_opts_t *opts, ho_report_result_t *res,
                                  ho_err_t *err)
{
    ho_err_t dummy;
    if (!err) {
        err = &dummy;
    }
    memset(err, 0, sizeof *err);
    if (!opts || !opts->db_path || !opts->output) {
        ho_err_set(err, HO_ERR_MISSING, "", "report: database path and output are required");
        return HO_REPORT_ERR_ARG;
    }
    ho_rctx_t ctx;
    ho_report_error_t rc = s_begin(&ctx, opts, err);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    ho_err_t cerr;
    ctx.reasons = ho_conf_load_named(opts->config_dir, "reasons.yaml", &cerr);
    ctx.lifecycle = ho_conf_load_named(opts->config_dir, "lifecycle.yaml", &cerr);

    char tmp_path[4096];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp-%ld", opts->output, (long)getpid());
    /* Fail before the queries (16 s over 1M leads), with our own message, when the output
     * cannot be created: libxlsxwriter would only find out at close, and print to stderr. */
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ho_err_set(err, HO_ERR_IO, "output", "%s: cannot write: %s", opts->output, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    } else {
        close(fd);
        unlink(tmp_path);
        rc = s_open_db(&ctx);
    }
    if (rc == HO_REPORT_OK) {
        /* One read transaction: every sheet sees the same snapshot of the store. */
        rc = ho_rsql_exec(&ctx, "BEGIN");
    }
    if (rc == HO_REPORT_OK) {
        /* The shared temp tables read every stage change and score once: on a big store the
         * longest step, so it is announced like a sheet. */
        ho_rprogress(&ctx, HO_REPORT_PREPARE, 0, false);
        rc = s_prepare_tables(&ctx);
        if (rc == HO_REPORT_OK) {
            ho_rprogress(&ctx, HO_REPORT_PREPARE, 0, true);
        }
    }
    char html_tmp[4096];
    snprintf(html_tmp, sizeof html_tmp, "%s.tmp-%ld", opts->html ? opts->html : "", (long)getpid());
    if (rc == HO_REPORT_OK && opts->html) {
        rc = ho_rhtml_open(&ctx, html_tmp); /* fills as the sheets go, written after them */
    }
    if (rc == HO_REPORT_OK) {
        rc = s_write(&ctx, tmp_path);
    }
    if (rc == HO_REPORT_OK && ctx.html) {
        rc = ho_rhtml_finish(&ctx);
    }
    ho_rhtml_abort(&ctx); /* after an error: the page is not finished */
    if (rc == HO_REPORT_OK && rename(tmp_path, opts->output) != 0) {
        ho_err_set(err, HO_ERR_IO, "output", "%s: cannot write: %s", opts->output, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    }
    if (rc == HO_REPORT_OK && opts->html && rename(html_tmp, opts->html) != 0) {
        ho_err_set(err, HO_ERR_IO, "html", "%s: cannot write: %s", opts->html, strerror(errno));
        rc = HO_REPORT_ERR_IO;
    }
    if (rc != HO_REPORT_OK) {
        unlink(tmp_path);
        if (opts->html) {
            unlink(html_tmp);
        }
    }
    if (res && rc == HO_REPORT_OK) {
        memset(res, 0, sizeof *res);
        res->sheets = HO_REPORT_SHEETS;
        for (int i = 0; i < HO_REPORT_SHEETS; i++) {
            res->sheet_names[i] = s_sheet_names[i];
        }
        res->leads = ctx.leads_week;
        res->mqls = ctx.mqls_week;
        res->week_start_ms = ctx.weeks[HO_RW_THIS].a;
        res->week_end_ms = ctx.weeks[HO_RW_THIS].b;
    }
    if (ctx.db) {
        sqlite3_close_v2(ctx.db);
    }
    ho_rmodel_free(&ctx.model);
    ho_conf_destroy(&ctx.reasons);
    ho_conf_destroy(&ctx.lifecycle);
    ho_tz_destroy(&ctx.zone);
    return rc;
}
