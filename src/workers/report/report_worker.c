/* report_worker.c - the `report` worker: report.request -> the weekly workbook ->
 * report.ready; and the weekly schedule.
 *
 * Schedule: every tick (cb_tick, about once a minute) the worker computes the last complete
 * ISO week in its time zone. When that week is newer than the one recorded in its state
 * file (<data_dir>/report.state, one line "2026-W47"), it emits a report.request for it
 * (routed back to this service by the broker) and records the week. On the very first tick
 * with no state file it only records the current last complete week: installing handoff on
 * a Wednesday does not produce last week's report out of the blue; the first scheduled
 * report comes when the next week boundary passes. After downtime only the latest complete
 * week is requested (older ones: `handoff report --week`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "handoff/report.h"
#include "handoff/worker.h"
#include "handoff/util.h"

typedef struct {
    char *timezone; /* IANA zone of the week boundaries */
    char *dir;      /* output folder, relative to data_dir */
    char *db;       /* the store's database, relative to data_dir */
    char *state;    /* schedule state file, relative to data_dir */
    char *currency; /* currency of outcome amounts */
    bool schedule;  /* emit a report.request when a week ends */
    bool html;      /* also write the report as an HTML page beside the workbook */
} s_settings_t;

static const ho_config_map_t s_config_map[] = {
    {HO_CFG_STR, "timezone", "UTC", offsetof(s_settings_t, timezone),
     "IANA time zone of the week boundaries (Europe/Berlin, UTC, ...)"},
    {HO_CFG_STR, "dir", "reports", offsetof(s_settings_t, dir),
     "folder of the workbooks handoff-<week>.xlsx, relative to data_dir"},
    {HO_CFG_STR, "db", "handoff.db", offsetof(s_settings_t, db),
     "the store's database (read-only), relative to data_dir"},
    {HO_CFG_STR, "state", "report.state", offsetof(s_settings_t, state),
     "last week the schedule requested, relative to data_dir"},
    {HO_CFG_STR, "currency", "USD", offsetof(s_settings_t, currency),
     "ISO 4217 code of the amounts sales records (shown with Won amount, Pipeline opened)"},
    {HO_CFG_BOOL, "schedule", "true", offsetof(s_settings_t, schedule),
     "request the report of the week that just ended when a week boundary passes"},
    {HO_CFG_BOOL, "html", "false", offsetof(s_settings_t, html),
     "also write handoff-<week>.html beside each workbook: the same report as one "
     "self-contained HTML page (a request's payload.html names its own)"},
    {0},
};

typedef struct {
    s_settings_t set;
    char data_dir[2048];
    char config_dir[2048];
    char db_path[4096];
    char state_path[4096];
} s_ctx_t;

static void s_path(char *out, size_t cap, const char *dir, const char *name)
{
    if (name[0] == '/') {
        snprintf(out, cap, "%s", name);
    } else {
        snprintf(out, cap, "%s/%s", dir, name);
    }
}

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *ctx = *ctx_p;
    ho_config_map_free(s_config_map, &ctx->set);
    free(ctx);
    *ctx_p = NULL;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    int rc = ho_config_map_apply(env->conf, env->settings, s_config_map, &ctx->set, err);
    if (rc == HO_OK && !ho_tz_valid(ctx->set.timezone)) {
        rc =
            ho_err_set(err, HO_ERR_CONFIG, "workers.report.timezone",
                       "workers.report.timezone: unknown IANA time zone \"%s\"", ctx->set.timezone);
    }
    if (rc != HO_OK) {
        s_exit((void **)&ctx);
        return rc;
    }
    snprintf(ctx->data_dir, sizeof ctx->data_dir, "%s",
             env->data_dir && env->data_dir[0] ? env->data_dir : ".");
    snprintf(ctx->config_dir, sizeof ctx->config_dir, "%s", env->config_dir ? env->config_dir : "");
    s_path(ctx->db_path, sizeof ctx->db_path, ctx->data_dir, ctx->set.db);
    s_path(ctx->state_path, sizeof ctx->state_path, ctx->data_dir, ctx->set.state);
    *ctx_p = ctx;
    return HO_OK;
}

static int s_quarantine(ho_out_t *out, const ho_msg_t *in, const char *code, const char *field,
                        const char *why)
{
    return ho_out_quarantine(out, in, "report", code, field, why) == HO_OK ? HO_WORKER_OK
                                                                           : HO_WORKER_RETRY;
}

/* The HTML page of a request into out ("" = none): payload.html (relative = under
 * data_dir), else with workers.report.html the workbook's path with .html for .xlsx. */
static void s_html_path(const s_ctx_t *ctx, json_t *p, const char *xlsx, char *out, size_t cap)
{
    const char *html = json_string_value(json_object_get(p, "html"));
    out[0] = '\0';
    if (html && *html) {
        s_path(out, cap, ctx->data_dir, html);
    } else if (ctx->set.html) {
        size_t n = strlen(xlsx);
        if (n > 5 && !strcmp(xlsx + n - 5, ".xlsx")) {
            n -= 5;
        }
        snprintf(out, cap, "%.*s.html", (int)n, xlsx);
    }
}

static int s_request(s_ctx_t *ctx, const ho_msg_t *in, ho_out_t *out)
{
    json_t *p = ho_msg_payload(in);
    char why[512];
    const char *tz = json_string_value(json_object_get(p, "timezone"));
    if (!tz || !*tz) {
        tz = ctx->set.timezone;
    }
    if (!ho_tz_valid(tz)) {
        snprintf(why, sizeof why, "payload.timezone: unknown IANA time zone \"%s\"", tz);
        return s_quarantine(out, in, "bad_timezone", "payload.timezone", why);
    }
    json_t *now_j = json_object_get(p, "now");
    int64_t now = json_is_integer(now_j) ? (int64_t)json_integer_value(now_j) : ho_now_ms();
    ho_report_opts_t opts = {.timezone = tz,
                             .config_dir = ctx->config_dir[0] ? ctx->config_dir : NULL,
                             .currency = ctx->set.currency,
                             /* the requester's clock dates the document; none: the week's end */
                             .now_ms = json_is_integer(now_j) ? now : 0};
    ho_err_t err;
    json_t *week_j = json_object_get(p, "week");
    if (week_j) {
        if (ho_week_parse(json_string_value(week_j), &opts.week) != HO_REPORT_OK) {
            snprintf(why, sizeof why,
                     "payload.week: expected an ISO week like \"2026-W47\" that exists");
            return s_quarantine(out, in, "bad_week", "payload.week", why);
        }
    } else if (ho_week_last_complete(now, tz, &opts.week, &err) != HO_REPORT_OK) {
        return s_quarantine(out, in, "bad_timezone", "payload.timezone", err.message);
    }
    char week[16], path[4096];
    ho_week_format(opts.week, week, sizeof week);
    const char *output = json_string_value(json_object_get(p, "output"));
    if (output && *output) {
        s_path(path, sizeof path, ctx->data_dir, output);
    } else {
        char dir[4096];
        s_path(dir, sizeof dir, ctx->data_dir, ctx->set.dir);
        if (ho_mkdirs(dir) != 0) {
            snprintf(why, sizeof why, "%.400s: cannot create: %s", dir, strerror(errno));
            return s_quarantine(out, in, "report_failed", "", why);
        }
        snprintf(path, sizeof path, "%.4000s/handoff-%s.xlsx", dir, week);
    }
    opts.db_path = ctx->db_path;
    opts.output = path;
    char html[4096];
    s_html_path(ctx, p, path, html, sizeof html);
    opts.html = html[0] ? html : NULL;
    ho_report_result_t res;
    ho_report_error_t rc = ho_report_write(&opts, &res, &err);
    if (rc == HO_REPORT_ERR_SQL) {
        return HO_WORKER_RETRY; /* e.g. the database is busy: the runtime runs us again */
    }
    if (rc != HO_REPORT_OK) {
        snprintf(why, sizeof why, "%s: %s", ho_report_strerror(rc), err.message);
        return s_quarantine(out, in, "report_failed", "", why);
    }
    ho_msg_t *ready = ho_msg_new("report.ready");
    json_t *sheets = json_array();
    for (int i = 0; i < res.sheets; i++) {
        json_array_append_new(sheets, json_string(res.sheet_names[i]));
    }
    json_t *body =
        json_pack("{s:s, s:s, s:o, s:I, s:I, s:s}", "week", week, "path", path, "sheets", sheets,
                  "leads", (json_int_t)res.leads, "generated_at", (json_int_t)now, "timezone", tz);
    if (!ready || !body) {
        ho_msg_destroy(&ready);
        json_decref(body);
        return HO_WORKER_RETRY;
    }
    if (html[0]) {
        json_object_set_new(body, "html", json_string(html));
    }
    ho_msg_set_payload(ready, body);
    /* the id follows the request's: the same request again (a redelivery, a demo re-run
     * with the same clock) is the same report.ready, which the outbox delivered already */
    char rid[HO_MSG_MAX_ID];
    ho_msg_make_id(rid, sizeof rid, "report", ho_msg_id(in), strlen(ho_msg_id(in)));
    ho_msg_set_id(ready, rid);
    ho_msg_set_ts(ready, now);
    ho_out_emit(out, &ready);
    return HO_WORKER_OK;
}

static int s_handle(void *vctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *ctx = vctx;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!strcmp(ho_msg_type(in[i]), "report.request")) {
            rc = s_request(ctx, in[i], out);
        } else {
            char why[160];
            snprintf(why, sizeof why, "type: the report worker does not handle \"%s\"",
                     ho_msg_type(in[i]));
            rc = s_quarantine(out, in[i], "unknown_type", "type", why);
        }
        if (rc != HO_WORKER_OK) {
            return rc;
        }
    }
    return HO_WORKER_OK;
}

static bool s_state_read(const char *path, ho_week_t *week)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return false;
    }
    char line[64] = "";
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    return ok && ho_week_parse(line, week) == HO_REPORT_OK;
}

static int s_state_write(const char *path, ho_week_t week)
{
    char tmp[4200], buf[16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "%s\n", ho_week_format(week, buf, sizeof buf));
    if (fclose(f) != 0) {
        return -1;
    }
    return rename(tmp, path);
}

static int s_tick(void *vctx, int64_t now_ms, ho_out_t *out)
{
    s_ctx_t *ctx = vctx;
    if (!ctx->set.schedule) {
        return HO_WORKER_OK;
    }
    ho_week_t last, done;
    ho_err_t err;
    if (ho_week_last_complete(now_ms, ctx->set.timezone, &last, &err) != HO_REPORT_OK) {
        return HO_WORKER_ERROR;
    }
    if (!s_state_read(ctx->state_path, &done)) {
        if (ho_mkdirs(ctx->data_dir) != 0) {
            return HO_WORKER_ERROR;
        }
        return s_state_write(ctx->state_path, last) == 0 ? HO_WORKER_OK : HO_WORKER_ERROR;
    }
    if (ho_week_cmp(last, done) <= 0) {
        return HO_WORKER_OK;
    }
    char week[16], id[HO_MSG_MAX_ID];
    ho_week_format(last, week, sizeof week);
    ho_msg_t *req = ho_msg_new("report.request");
    if (!req) {
        return HO_WORKER_RETRY;
    }
    /* Same week -> same event id, so a request sent twice is recognisably the same. */
    ho_msg_make_id(id, sizeof id, "report", week, strlen(week));
    ho_msg_set_id(req, id);
    ho_msg_set_payload(req, json_pack("{s:s, s:s, s:I}", "week", week, "timezone",
                                      ctx->set.timezone, "now", (json_int_t)now_ms));
    ho_out_emit(out, &req);
    return s_state_write(ctx->state_path, last) == 0 ? HO_WORKER_OK : HO_WORKER_ERROR;
}

const ho_worker_def_t ho_worker_report = {
    .name = "report",
    .description = "weekly conversion workbook (.xlsx): report.request -> report.ready",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_tick = s_tick,
    .tick_ms = 60000,
    .cb_exit = s_exit,
    .config_map = s_config_map,
};
