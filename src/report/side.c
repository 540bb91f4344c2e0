/* side.c - the report's second connection: the lead pass's scan, the assignment and SLA
 * passes' scans and the rule pass, read by a thread of their own while the main connection
 * makes the stage and outcome passes and fills the sheets that need nothing of them (Funnel,
 * Lost reasons, Lost and rejected, Handoffs, Data quality, Definitions); then the main thread
 * joins the rule pass, which is split in ranges of leads that either thread takes (on a real
 * pipeline's store it is the biggest single pass). They are about half of a 1M-lead report's
 * CPU and read only main tables and the views over lead_facts, so on two cores the report's
 * time is about half its CPU, plus the sheets that read them and the file's compression.
 *
 * Both connections read one committed state: their read transactions begin while a third
 * connection holds the write lock (ho_reader_begin_pair). When that cannot be had (a file
 * this process may not write, a writer holding the lock past the wait), when the store has
 * no lead_facts (the raw path), or when opts->threads is 1, the report reads through the
 * main connection alone, as before; the numbers are the same either way
 * (tests/integration/test_report.py asserts the same bytes; tests/unit/test_reader_pair.c the
 * pairing). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

#define S_PAIR_WAIT_MS 2000 /* how long to wait for a writer's lock before reading alone */

struct ho_rside {
    ho_rctx_t ctx; /* a copy of the main context with the second reader and its own error */
    ho_err_t err;
    pthread_t thread;
    bool started;
    ho_report_error_t rc;
    ho_rleads_t *leads;
    ho_rpass_t *assign;
    ho_rrules_job_t *rules; /* the rule pass in ranges, which the main thread shares */
};

ho_report_error_t ho_rside_begin(ho_rctx_t *ctx)
{
    ctx->side = NULL;
    bool want = ctx->opts->threads != 1 && ho_reader_has(ctx->rd, "lead_facts", "first_mql");
    ho_rside_t *side = want ? calloc(1, sizeof *side) : NULL;
    ho_err_t err;
    ho_reader_t *rd2 = side ? ho_reader_open(ctx->opts->db_path, 10000, &err) : NULL;
    if (rd2 && ho_reader_begin_pair(ctx->rd, rd2, S_PAIR_WAIT_MS, &err) == HO_OK) {
        side->ctx.rd = rd2; /* the rest of its context once the main one has its views:
                             * ho_rside_start */
        ctx->side = side;
        return HO_REPORT_OK;
    }
    ho_reader_destroy(&rd2);
    free(side);
    /* one connection: one read transaction, every sheet one snapshot */
    return ho_reader_begin(ctx->rd, NULL) == HO_OK ? HO_REPORT_OK : ho_rsql_fail(ctx, "begin");
}

static void *s_main(void *arg)
{
    ho_rside_t *side = arg;
    side->rc = ho_report_leads_scan(&side->ctx, &side->leads);
    if (side->rc == HO_REPORT_OK) {
        side->rc = ho_report_assign_scan(&side->ctx, &side->assign);
    }
    if (side->rc == HO_REPORT_OK) {
        ho_rrules_job_work(&side->ctx, side->rules); /* its errors: ho_rrules_job_finish */
    }
    return NULL;
}

ho_report_error_t ho_rside_start(ho_rctx_t *ctx, bool has_kind)
{
    ho_rside_t *side = ctx->side;
    if (!side) {
        return HO_REPORT_OK;
    }
    /* what the main connection has learnt of the schema, and the views over it (temp objects
     * are a connection's own) */
    ho_reader_t *rd2 = side->ctx.rd;
    side->ctx = *ctx;
    side->ctx.rd = rd2;
    side->ctx.err = &side->err;
    side->ctx.side = NULL;
    ho_report_error_t rc = ho_report_setup_views(&side->ctx, has_kind);
    if (rc == HO_REPORT_OK) {
        rc = ho_rrules_job_new(&side->ctx, &side->rules);
    }
    if (rc == HO_REPORT_OK && pthread_create(&side->thread, NULL, s_main, side) != 0) {
        ho_err_set(&side->err, HO_ERR_NOMEM, "", "report: cannot start a thread");
        rc = HO_REPORT_ERR_NOMEM;
    }
    side->started = rc == HO_REPORT_OK;
    if (rc != HO_REPORT_OK) {
        *ctx->err = side->err;
    }
    return rc;
}

ho_report_error_t ho_rside_join(ho_rctx_t *ctx)
{
    ho_rside_t *side = ctx->side;
    if (!side || !side->started) {
        return HO_REPORT_OK;
    }
    /* this thread's own passes are done: it sums the rule pass's ranges still untaken */
    ho_rrules_job_work(ctx, side->rules);
    pthread_join(side->thread, NULL);
    side->started = false;
    if (side->rc != HO_REPORT_OK) {
        *ctx->err = side->err;
        return side->rc;
    }
    ho_report_error_t rc = ho_rrules_job_finish(ctx, side->rules, &ctx->rules);
    if (rc != HO_REPORT_OK) {
        return rc;
    }
    ctx->leads = side->leads;
    ctx->assign = side->assign;
    side->leads = NULL;
    side->assign = NULL;
    return HO_REPORT_OK;
}

void ho_rside_destroy(ho_rctx_t *ctx)
{
    ho_rside_t *side = ctx->side;
    if (side) {
        if (side->started) { /* the main connection failed first: let the thread finish */
            pthread_join(side->thread, NULL);
        }
        ho_rleads_destroy(&side->leads);
        ho_rpass_destroy(&side->assign);
        ho_rrules_job_destroy(&side->rules);
        ho_reader_destroy(&side->ctx.rd);
        free(side);
        ctx->side = NULL;
    }
    ho_rleads_destroy(&ctx->leads);
    ho_rpass_destroy(&ctx->assign);
    ho_rrules_destroy(&ctx->rules);
}
