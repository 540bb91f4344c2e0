/* test_outbox.c - the outbox worker driven in-process (ho_worker_call / cb_tick) with real
 * envelopes: JSON files written atomically, webhook POSTs to a REAL local HTTP server
 * (libmicrohttpd, in this process) that fails the first attempts, retry with backoff recorded
 * in outbox.db across a worker restart, giving up visibly, requeue, and the ZeroMQ PUB topic
 * per rep received by a real SUB socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <czmq.h>
#include <dirent.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/conf.h"
#include "handoff/outbox.h"
#include "handoff/worker.h"

extern const ho_worker_def_t ho_worker_outbox;

/* ------------------------------------------------------------ a real HTTP server */

typedef struct {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    int fail_first;    /* answer 503 to this many requests */
    int always_status; /* if non-zero, answer this to every request */
    int requests;      /* every POST seen */
    int delivered;     /* POSTs answered 200 */
    char last_body[8192];
    char last_event[200];
    char last_type[64];
} s_server_t;

typedef struct {
    char *buf;
    size_t len;
} s_conn_t;

static enum MHD_Result s_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *size, void **con_cls)
{
    s_server_t *srv = cls;
    (void)url;
    (void)version;
    s_conn_t *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        *con_cls = c;
        return MHD_YES;
    }
    if (*size) {
        char *grown = realloc(c->buf, c->len + *size + 1);
        if (!grown) {
            return MHD_NO;
        }
        c->buf = grown;
        memcpy(c->buf + c->len, data, *size);
        c->len += *size;
        c->buf[c->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    int status;
    pthread_mutex_lock(&srv->lock);
    srv->requests++;
    if (strcmp(method, "POST") != 0) {
        status = 405;
    } else if (srv->always_status) {
        status = srv->always_status;
    } else if (srv->requests <= srv->fail_first) {
        status = 503;
    } else {
        status = 200;
    }
    if (status == 200) {
        srv->delivered++;
        snprintf(srv->last_body, sizeof srv->last_body, "%s", c->buf ? c->buf : "");
        const char *ev = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Handoff-Event");
        const char *ty = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Handoff-Type");
        snprintf(srv->last_event, sizeof srv->last_event, "%s", ev ? ev : "");
        snprintf(srv->last_type, sizeof srv->last_type, "%s", ty ? ty : "");
    }
    pthread_mutex_unlock(&srv->lock);
    const char *text = status == 200 ? "{\"ok\":true}" : "{\"ok\":false}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void s_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    s_conn_t *c = *con_cls;
    if (c) {
        free(c->buf);
        free(c);
        *con_cls = NULL;
    }
}

static s_server_t *s_server_start(int fail_first, int always_status)
{
    s_server_t *srv = calloc(1, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    srv->fail_first = fail_first;
    srv->always_status = always_status;
    srv->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                              s_answer, srv, MHD_OPTION_NOTIFY_COMPLETED, s_done, srv,
                              MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    assert_non_null(srv->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    srv->port = info->port;
    assert_true(srv->port > 0);
    return srv;
}

static void s_server_stop(s_server_t **srv_p)
{
    s_server_t *srv = *srv_p;
    MHD_stop_daemon(srv->d);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
    *srv_p = NULL;
}

static int s_count(s_server_t *srv, int *delivered)
{
    pthread_mutex_lock(&srv->lock);
    int n = srv->requests;
    if (delivered) {
        *delivered = srv->delivered;
    }
    pthread_mutex_unlock(&srv->lock);
    return n;
}

/* ------------------------------------------------------------ worker plumbing */

typedef struct {
    char dir[64];
    ho_conf_t *conf;
    void *ctx;
    ho_worker_env_t env;
} s_worker_t;

static void s_worker_start(s_worker_t *w, const char *settings_yaml)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "workers:\n  outbox:\n%s", settings_yaml);
    ho_err_t err = {0};
    w->conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    assert_non_null(w->conf);
    w->env = (ho_worker_env_t){
        .name = "outbox",
        .data_dir = w->dir,
        .config_dir = w->dir,
        .conf = w->conf,
        .settings = ho_node_get(ho_node_get(ho_conf_root(w->conf), "workers"), "outbox"),
        .origin = "outbox@test",
    };
    if (ho_worker_outbox.cb_init(&w->env, &w->ctx, &err) != HO_OK) {
        fail_msg("init: %s", err.message);
    }
}

static void s_worker_stop(s_worker_t *w)
{
    ho_worker_outbox.cb_exit(&w->ctx);
    assert_null(w->ctx);
    ho_conf_destroy(&w->conf);
}

static void s_tmpdir(s_worker_t *w)
{
    snprintf(w->dir, sizeof w->dir, "/tmp/ho-outbox-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
}

static void s_rmrf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                s_rmrf(sub);
            }
        }
        if (d) {
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static ho_msg_t *s_packet(const char *id, const char *rep, long long lead_id)
{
    ho_msg_t *m = ho_msg_new("handoff.ready");
    ho_msg_set_id(m, id);
    ho_msg_set_payload(
        m, json_pack("{s:I,s:s,s:{s:s?,s:s,s:s},s:{s:s,s:s,s:s},s:{s:s,s:s},s:s,s:I}", "lead_id",
                     (json_int_t)lead_id, "email", "jane.doe@acme.test", "rep", "rep_id", rep,
                     "name", "Ann Abbot", "email", "ann@x.test", "contact", "first_name", "Jane",
                     "last_name", "Doe", "company", "Acme Ltd", "location", "country", "US",
                     "state", "NY", "stage", "MQL", "sla_due", (json_int_t)1790000000000LL));
    return m;
}

static int s_call(s_worker_t *w, ho_msg_t *msg, ho_out_t **out_p)
{
    ho_out_t *out = ho_out_new("outbox@test");
    int rc = ho_worker_call(&ho_worker_outbox, w->ctx, &msg, 1, out);
    ho_msg_destroy(&msg);
    if (out_p) {
        *out_p = out;
    } else {
        ho_out_destroy(&out);
    }
    return rc;
}

static int s_files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        n += e->d_name[0] != '.' ? 1 : 100; /* a leftover temp file counts loudly */
    }
    if (d) {
        closedir(d);
    }
    return n - 200; /* . and .. */
}

/* ------------------------------------------------------------ tests */

static void test_file_outbox_writes_valid_json(void **state)
{
    (void)state;
    s_worker_t w = {0};
    s_tmpdir(&w);
    s_worker_start(&w, "    dir: outbox\n");
    assert_int_equal(s_call(&w, s_packet("ev-file-1", "R01", 42), NULL), HO_WORKER_OK);

    char path[256];
    snprintf(path, sizeof path, "%s/outbox/R01/42-ev-file-1.json", w.dir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fail_msg("%s: %s", path, jerr.text);
    }
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "handoff.ready");
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "ev-file-1");
    json_t *p = json_object_get(doc, "payload");
    assert_int_equal(json_integer_value(json_object_get(p, "lead_id")), 42);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "contact"), "company")), "Acme Ltd");
    json_decref(doc);

    /* redelivery: still one file, no temp file left behind */
    assert_int_equal(s_call(&w, s_packet("ev-file-1", "R01", 42), NULL), HO_WORKER_OK);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/outbox/R01", w.dir);
    assert_int_equal(s_files_in(dir), 1);

    /* a queued lead, a reminder and a report land in their own folders */
    assert_int_equal(s_call(&w, s_packet("ev-file-2", NULL, 43), NULL), HO_WORKER_OK);
    ho_msg_t *rem = ho_msg_new("rep.reminder");
    ho_msg_set_id(rem, "ev-rem-1");
    ho_msg_set_payload(rem, json_pack("{s:I,s:s,s:s}", "lead_id", (json_int_t)42, "rep_id", "R01",
                                      "message", "Lead is waiting"));
    assert_int_equal(s_call(&w, rem, NULL), HO_WORKER_OK);
    ho_msg_t *rep = ho_msg_new("report.ready");
    ho_msg_set_id(rep, "ev-report-1");
    ho_msg_set_payload(rep, json_pack("{s:s,s:s}", "week", "2026-W47", "path", "/x.xlsx"));
    assert_int_equal(s_call(&w, rep, NULL), HO_WORKER_OK);
    const char *want[] = {"outbox/_queue-unassigned/43-ev-file-2.json",
                          "outbox/R01/42-ev-rem-1.json",
                          "outbox/_reports/2026-W47-ev-report-1.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", w.dir, want[i]);
        doc = json_load_file(path, 0, &jerr);
        if (!doc) {
            fail_msg("%s: %s", path, jerr.text);
        }
        json_decref(doc);
    }
    s_worker_stop(&w);
    s_rmrf(w.dir);
}

static void test_bad_packets_are_quarantined(void **state)
{
    (void)state;
    s_worker_t w = {0};
    s_tmpdir(&w);
    s_worker_start(&w, "    dir: outbox\n");
    ho_msg_t *m = ho_msg_new("handoff.ready");
    ho_msg_set_payload(m, json_pack("{s:s}", "email", "no-lead@acme.test"));
    ho_out_t *out = NULL;
    assert_int_equal(s_call(&w, m, &out), HO_WORKER_OK);
    assert_int_equal(ho_out_count(out), 1);
    json_t *q = ho_msg_payload(ho_out_at(out, 0));
    assert_string_equal(ho_msg_type(ho_out_at(out, 0)), "quarantine");
    assert_string_equal(json_string_value(json_object_get(q, "field")), "lead_id");
    ho_out_destroy(&out);
    m = ho_msg_new("lead.scored");
    assert_int_equal(s_call(&w, m, &out), HO_WORKER_OK);
    assert_string_equal(
        json_string_value(json_object_get(ho_msg_payload(ho_out_at(out, 0)), "code")),
        "unknown_type");
    ho_out_destroy(&out);
    s_worker_stop(&w);
    s_rmrf(w.dir);
}

static long long s_db_int(const char *dir, const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/outbox.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    long long v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void test_webhook_retries_until_delivered_once(void **state)
{
    (void)state;
    s_server_t *srv = s_server_start(2, 0); /* 503, 503, then 200 */
    s_worker_t w = {0};
    s_tmpdir(&w);
    char set[512];
    snprintf(set, sizeof set,
             "    webhook_url: http://127.0.0.1:%d/crm/hook\n    backoff_ms: 1000\n"
             "    max_attempts: 5\n",
             srv->port);
    s_worker_start(&w, set);

    int64_t t0 = ho_now_ms();
    assert_int_equal(s_call(&w, s_packet("ev-hook-1", "R01", 77), NULL), HO_WORKER_OK);
    assert_int_equal(s_count(srv, NULL), 1); /* tried at once, refused */

    json_t *st = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_outbox_status(w.dir, &st, &err), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 1);
    json_t *pr = json_array_get(json_object_get(st, "problems"), 0);
    assert_int_equal(json_integer_value(json_object_get(pr, "attempts")), 1);
    assert_int_equal(json_integer_value(json_object_get(pr, "last_status")), 503);
    assert_string_equal(json_string_value(json_object_get(pr, "event_id")), "ev-hook-1");
    json_decref(st);

    /* the worker restarts: the retry queue is in outbox.db, not in memory */
    s_worker_stop(&w);
    s_worker_start(&w, set);

    /* not due yet: a tick before the backoff has passed sends nothing */
    ho_worker_outbox.cb_tick(w.ctx, t0, NULL);
    assert_int_equal(s_count(srv, NULL), 1);
    /* first backoff (1 s) passed: attempt 2, refused again, next wait doubles */
    int64_t t1 = t0 + 60 * 1000;
    ho_worker_outbox.cb_tick(w.ctx, t1, NULL);
    assert_int_equal(s_count(srv, NULL), 2);
    ho_worker_outbox.cb_tick(w.ctx, t1 + 1999, NULL);
    assert_int_equal(s_count(srv, NULL), 2);
    ho_worker_outbox.cb_tick(w.ctx, t1 + 2000, NULL);
    int delivered = 0;
    assert_int_equal(s_count(srv, &delivered), 3);
    assert_int_equal(delivered, 1);

    /* the body that arrived is the packet */
    json_t *doc = json_loads(srv->last_body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "ev-hook-1");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "payload"), "lead_id")), 77);
    json_decref(doc);
    assert_string_equal(srv->last_event, "ev-hook-1");
    assert_string_equal(srv->last_type, "handoff.ready");

    /* attempts and backoff are recorded */
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM attempts"), 3);
    assert_int_equal(s_db_int(w.dir, "SELECT backoff_ms FROM attempts WHERE n = 1"), 1000);
    assert_int_equal(s_db_int(w.dir, "SELECT backoff_ms FROM attempts WHERE n = 2"), 2000);
    assert_int_equal(s_db_int(w.dir, "SELECT http_status FROM attempts WHERE n = 3"), 200);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM attempts WHERE n = 3 AND "
                                     "backoff_ms IS NULL"),
                     1);
    assert_int_equal(s_db_int(w.dir, "SELECT attempts FROM deliveries WHERE status = 'delivered'"),
                     3);

    /* redelivery of the same event and later ticks never POST it again */
    assert_int_equal(s_call(&w, s_packet("ev-hook-1", "R01", 77), NULL), HO_WORKER_OK);
    ho_worker_outbox.cb_tick(w.ctx, t1 + 10 * 60 * 1000, NULL);
    assert_int_equal(s_count(srv, &delivered), 3);
    assert_int_equal(delivered, 1);

    assert_int_equal(ho_outbox_status(w.dir, &st, &err), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(st, "delivered")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 0);
    assert_int_equal(json_array_size(json_object_get(st, "problems")), 0);
    json_decref(st);
    s_worker_stop(&w);
    s_server_stop(&srv);
    s_rmrf(w.dir);
}

static void test_webhook_gives_up_visibly_and_requeues(void **state)
{
    (void)state;
    s_server_t *srv = s_server_start(0, 500);
    s_worker_t w = {0};
    s_tmpdir(&w);
    char set[512];
    snprintf(set, sizeof set,
             "    webhook_url: http://127.0.0.1:%d/hook\n    backoff_ms: 100\n"
             "    backoff_max_ms: 150\n    max_attempts: 3\n",
             srv->port);
    s_worker_start(&w, set);
    int64_t t = ho_now_ms();
    assert_int_equal(s_call(&w, s_packet("ev-dead-1", "R02", 5), NULL), HO_WORKER_OK);
    for (int i = 1; i <= 5; i++) {
        ho_worker_outbox.cb_tick(w.ctx, t + i * 60000, NULL);
    }
    assert_int_equal(s_count(srv, NULL), 3); /* max_attempts, then it stops */
    /* backoff doubled, then capped */
    assert_int_equal(s_db_int(w.dir, "SELECT backoff_ms FROM attempts WHERE n = 1"), 100);
    assert_int_equal(s_db_int(w.dir, "SELECT backoff_ms FROM attempts WHERE n = 2"), 150);

    json_t *st = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_outbox_status(w.dir, &st, &err), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 1);
    json_t *pr = json_array_get(json_object_get(st, "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(pr, "status")), "failed");
    assert_int_equal(json_integer_value(json_object_get(pr, "attempts")), 3);
    assert_string_equal(json_string_value(json_object_get(pr, "last_error")),
                        "HTTP 500 from the webhook");
    assert_string_equal(json_string_value(json_object_get(pr, "rep_id")), "R02");
    json_decref(st);

    /* the CRM is fixed; the operator requeues; the next tick delivers */
    pthread_mutex_lock(&srv->lock);
    srv->always_status = 0;
    pthread_mutex_unlock(&srv->lock);
    int n = 0;
    assert_int_equal(ho_outbox_requeue(w.dir, NULL, &n, &err), HO_OK);
    assert_int_equal(n, 1);
    ho_worker_outbox.cb_tick(w.ctx, t + 600000, NULL);
    int delivered;
    assert_int_equal(s_count(srv, &delivered), 4);
    assert_int_equal(delivered, 1);
    assert_int_equal(ho_outbox_status(w.dir, &st, &err), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(st, "delivered")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 0);
    json_decref(st);
    s_worker_stop(&w);
    s_server_stop(&srv);
    s_rmrf(w.dir);
}

static void test_webhook_unreachable_is_retried(void **state)
{
    (void)state;
    /* a port nobody listens on: connection refused is a failure to retry, not a crash */
    s_server_t *srv = s_server_start(0, 0);
    int port = srv->port;
    s_server_stop(&srv);
    s_worker_t w = {0};
    s_tmpdir(&w);
    char set[512];
    snprintf(set, sizeof set, "    webhook_url: http://127.0.0.1:%d/hook\n    max_attempts: 4\n",
             port);
    s_worker_start(&w, set);
    assert_int_equal(s_call(&w, s_packet("ev-down-1", "R03", 6), NULL), HO_WORKER_OK);
    json_t *st = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_outbox_status(w.dir, &st, &err), HO_OK);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 1);
    json_t *pr = json_array_get(json_object_get(st, "problems"), 0);
    assert_true(json_is_string(json_object_get(pr, "last_error")));
    assert_int_equal(json_integer_value(json_object_get(pr, "last_status")), 0);
    json_decref(st);
    /* two more packets, one attempt each; then all three are due, but a flush stops at the
     * first transport failure (the CRM is down: the others would only add waiting) */
    assert_int_equal(s_call(&w, s_packet("ev-down-2", "R03", 7), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_packet("ev-down-3", "R03", 8), NULL), HO_WORKER_OK);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM attempts"), 3);
    ho_worker_outbox.cb_tick(w.ctx, ho_now_ms() + 3600000, NULL);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM attempts"), 4);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM deliveries WHERE status = 'pending'"),
                     3);
    s_worker_stop(&w);
    s_rmrf(w.dir);
}

static void test_list_show_retry_and_retention(void **state)
{
    (void)state;
    s_server_t *srv = s_server_start(0, 0); /* 200 */
    s_worker_t w = {0};
    s_tmpdir(&w);
    char set[512];
    snprintf(set, sizeof set,
             "    webhook_url: http://127.0.0.1:%d/hook\n    backoff_ms: 1000\n"
             "    max_attempts: 2\n    retention: 30d\n",
             srv->port);
    s_worker_start(&w, set);
    int64_t t = ho_now_ms();
    assert_int_equal(s_call(&w, s_packet("ev-ok", "R01", 1), NULL), HO_WORKER_OK);
    pthread_mutex_lock(&srv->lock);
    srv->always_status = 500;
    pthread_mutex_unlock(&srv->lock);
    assert_int_equal(s_call(&w, s_packet("ev-bad", "R01", 2), NULL), HO_WORKER_OK);
    ho_worker_outbox.cb_tick(w.ctx, t + 60000, NULL); /* attempt 2 of 2: failed */
    assert_int_equal(s_call(&w, s_packet("ev-later", "R02", 3), NULL), HO_WORKER_OK);

    /* list: problems by default, or by status */
    json_t *rows = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_outbox_list(w.dir, NULL, NULL, 0, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "event_id")),
                        "ev-bad");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "status")),
                        "failed");
    json_decref(rows);
    assert_int_equal(ho_outbox_list(w.dir, "delivered", NULL, 0, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), 1);
    json_decref(rows);
    assert_int_equal(ho_outbox_list(w.dir, "all", NULL, 2, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), 2); /* limit */
    json_decref(rows);
    assert_int_not_equal(ho_outbox_list(w.dir, "broken", NULL, 0, &rows, &err), HO_OK);
    assert_non_null(strstr(err.message, "expected problems, failed"));
    /* show: one event with every attempt */
    assert_int_equal(ho_outbox_list(w.dir, NULL, "ev-bad", 0, &rows, &err), HO_OK);
    assert_int_equal(json_array_size(rows), 1);
    json_t *log = json_object_get(json_array_get(rows, 0), "attempts_log");
    assert_int_equal(json_array_size(log), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "http_status")),
                     500);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "backoff_ms")),
                     1000);
    assert_true(json_is_null(json_object_get(json_array_get(log, 1), "backoff_ms")));
    json_decref(rows);

    /* retry by event id: a pending one is due now (attempts kept), a failed one starts over;
     * an unknown id or a delivered one requeues nothing */
    int n = -1;
    assert_int_equal(ho_outbox_requeue(w.dir, "ev-later", &n, &err), HO_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s_db_int(w.dir, "SELECT next_at FROM deliveries WHERE event_id = 'ev-later'"),
                     0);
    assert_int_equal(s_db_int(w.dir, "SELECT attempts FROM deliveries WHERE event_id = 'ev-later'"),
                     1);
    assert_int_equal(ho_outbox_requeue(w.dir, "ev-ok", &n, &err), HO_OK);
    assert_int_equal(n, 0);
    assert_int_equal(ho_outbox_requeue(w.dir, "ev-none", &n, &err), HO_OK);
    assert_int_equal(n, 0);

    /* retention: 31 days on, the delivered row, its attempt and the file/PUB dedup rows go;
     * failed and pending deliveries stay with their attempts, however old */
    pthread_mutex_lock(&srv->lock);
    srv->always_status = 503;
    pthread_mutex_unlock(&srv->lock);
    ho_worker_outbox.cb_tick(w.ctx, t + 31 * 24 * 3600000LL, NULL);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM deliveries WHERE status = 'delivered'"),
                     0);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM deliveries"), 2);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM deliveries WHERE status = 'failed'"),
                     2); /* ev-later's second attempt failed too */
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM attempts"), 4);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM sent"), 0);
    /* every failed one back in the queue, delivered at the next tick */
    pthread_mutex_lock(&srv->lock);
    srv->always_status = 0;
    pthread_mutex_unlock(&srv->lock);
    assert_int_equal(ho_outbox_requeue(w.dir, NULL, &n, &err), HO_OK);
    assert_int_equal(n, 2);
    ho_worker_outbox.cb_tick(w.ctx, t + 31 * 24 * 3600000LL + 1000, NULL);
    assert_int_equal(s_db_int(w.dir, "SELECT count(*) FROM deliveries WHERE status = 'delivered'"),
                     2);
    s_worker_stop(&w);

    /* a retention that is not a duration is a config error */
    const char *yaml = "workers:\n  outbox:\n    retention: forever\n";
    w.conf = ho_conf_parse(yaml, strlen(yaml), "handoff.yaml", &err);
    w.env.conf = w.conf;
    w.env.settings = ho_node_get(ho_node_get(ho_conf_root(w.conf), "workers"), "outbox");
    assert_int_not_equal(ho_worker_outbox.cb_init(&w.env, &w.ctx, &err), HO_OK);
    assert_non_null(strstr(err.message, "workers.outbox.retention: expected a duration"));
    ho_conf_destroy(&w.conf);
    s_server_stop(&srv);
    s_rmrf(w.dir);
}

static void test_status_without_db(void **state)
{
    (void)state;
    json_t *st = NULL;
    ho_err_t err = {0};
    assert_int_equal(ho_outbox_status("/tmp/ho-no-such-dir-for-outbox", &st, &err), HO_OK);
    assert_false(json_is_true(json_object_get(st, "exists")));
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 0);
    json_decref(st);
}

static char *s_recv_id(zsock_t *sub, char **topic_p)
{
    char *topic = NULL, *body = NULL;
    if (zsock_recv(sub, "ss", &topic, &body) != 0) {
        return NULL;
    }
    json_t *doc = json_loads(body, 0, NULL);
    assert_non_null(doc);
    char *id = strdup(json_string_value(json_object_get(doc, "id")));
    json_decref(doc);
    zstr_free(&body);
    if (topic_p) {
        *topic_p = topic;
    } else {
        zstr_free(&topic);
    }
    return id;
}

static void s_drain(zsock_t *sub)
{
    zsock_set_rcvtimeo(sub, 200);
    char *id;
    while ((id = s_recv_id(sub, NULL))) {
        free(id);
    }
}

/* A queued lead: no rep, queue named. */
static ho_msg_t *s_queued(const char *id, const char *queue, long long lead_id)
{
    ho_msg_t *m = s_packet(id, NULL, lead_id);
    json_object_set_new(ho_msg_payload(m), "queue", json_string(queue));
    return m;
}

static void test_pub_topics_match_one_rep_exactly(void **state)
{
    (void)state;
    s_worker_t w = {0};
    s_tmpdir(&w);
    char set[256], ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/pub.sock", w.dir);
    snprintf(set, sizeof set, "    pub_endpoint: \"%s\"\n", ep);
    s_worker_start(&w, set);
    /* SUB filters are byte prefixes: R01's subscriber must not get R010's, "R01.x"'s or the
     * queue's packets; "handoff.queue." gets every queue's; "handoff." everything */
    zsock_t *mine = zsock_new_sub(ep, "handoff.rep.R01.");
    zsock_t *queues = zsock_new_sub(ep, "handoff.queue.");
    zsock_t *all = zsock_new_sub(ep, "handoff.");
    assert_non_null(mine);
    assert_non_null(queues);
    assert_non_null(all);
    zsock_set_rcvtimeo(mine, 100);
    zsock_set_rcvtimeo(queues, 1);
    zsock_set_rcvtimeo(all, 1);
    /* PUB drops messages until a subscription has arrived (slow joiner): send distinct
     * packets until every subscriber has had one, at most 100 rounds */
    bool got[3] = {false, false, false};
    for (int i = 0; i < 100 && !(got[0] && got[1] && got[2]); i++) {
        char id[32];
        snprintf(id, sizeof id, "ev-pub-%d", i);
        assert_int_equal(s_call(&w, s_packet(id, "R01", 100 + i), NULL), HO_WORKER_OK);
        snprintf(id, sizeof id, "ev-pubq-%d", i);
        assert_int_equal(s_call(&w, s_queued(id, "unassigned", 300 + i), NULL), HO_WORKER_OK);
        zsock_t *subs[3] = {mine, queues, all};
        for (int k = 0; k < 3; k++) {
            char *topic = NULL, *eid = s_recv_id(subs[k], &topic);
            if (eid) {
                got[k] = true;
                if (k == 0) {
                    assert_string_equal(topic, "handoff.rep.R01.");
                }
                if (k == 1) {
                    assert_string_equal(topic, "handoff.queue.unassigned.");
                }
            }
            free(eid);
            zstr_free(&topic);
        }
    }
    assert_true(got[0] && got[1] && got[2]);
    s_drain(mine);
    s_drain(queues);
    s_drain(all);

    /* the neighbours of R01 first, then R01 itself */
    assert_int_equal(s_call(&w, s_packet("ev-r010", "R010", 900), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_packet("ev-r01x", "R01.x", 901), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_packet("ev-r02", "R02", 902), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_packet("ev-rq", "queue", 903), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_queued("ev-q", "R01", 904), NULL), HO_WORKER_OK);
    assert_int_equal(s_call(&w, s_packet("ev-mine", "R01", 905), NULL), HO_WORKER_OK);
    zsock_set_rcvtimeo(mine, 5000);
    zsock_set_rcvtimeo(queues, 5000);
    zsock_set_rcvtimeo(all, 5000);
    char *topic = NULL, *id = s_recv_id(mine, &topic);
    assert_non_null(id);
    assert_string_equal(id, "ev-mine"); /* nothing of the others came first */
    assert_string_equal(topic, "handoff.rep.R01.");
    free(id);
    zstr_free(&topic);
    id = s_recv_id(queues, &topic);
    assert_non_null(id);
    assert_string_equal(id, "ev-q"); /* the rep called "queue" is not a queue */
    assert_string_equal(topic, "handoff.queue.R01.");
    free(id);
    zstr_free(&topic);
    /* everything, in order, with the exact topics */
    static const char *const want[][2] = {
        {"ev-r010", "handoff.rep.R010."}, {"ev-r01x", "handoff.rep.R01%2Ex."},
        {"ev-r02", "handoff.rep.R02."},   {"ev-rq", "handoff.rep.queue."},
        {"ev-q", "handoff.queue.R01."},   {"ev-mine", "handoff.rep.R01."},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        id = s_recv_id(all, &topic);
        assert_non_null(id);
        assert_string_equal(id, want[i][0]);
        assert_string_equal(topic, want[i][1]);
        free(id);
        zstr_free(&topic);
    }
    /* and nothing more for R01 */
    zsock_set_rcvtimeo(mine, 300);
    assert_null(s_recv_id(mine, NULL));
    zsock_destroy(&mine);
    zsock_destroy(&queues);
    zsock_destroy(&all);
    s_worker_stop(&w);
    s_rmrf(w.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_outbox_writes_valid_json),
        cmocka_unit_test(test_bad_packets_are_quarantined),
        cmocka_unit_test(test_webhook_retries_until_delivered_once),
        cmocka_unit_test(test_webhook_gives_up_visibly_and_requeues),
        cmocka_unit_test(test_webhook_unreachable_is_retried),
        cmocka_unit_test(test_list_show_retry_and_retention),
        cmocka_unit_test(test_status_without_db),
        cmocka_unit_test(test_pub_topics_match_one_rep_exactly),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    zsys_shutdown();
    return rc;
}
