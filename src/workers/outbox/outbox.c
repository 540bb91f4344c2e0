/* outbox.c - the `outbox` worker: delivers handoff.ready, rep.reminder and report.ready.
 *
 * Connectors, in order, for every packet:
 *   file     <data_dir>/<dir>/<rep or queue>/<lead>-<event>.json, via temp file + rename, so
 *            a reader never sees half a packet. A write failure fails the request (RETRY):
 *            the runtime re-runs it, then quarantines it (worker.h).
 *   pub      a ZeroMQ PUB socket (pub_endpoint), topic "handoff.rep.<rep_id>." (queued
 *            leads: "handoff.queue.<queue>.", reports: "report.ready"), body = the packet
 *            JSON. SUB filters match prefixes, so every id is closed by a '.' and written
 *            with only [A-Za-z0-9_-] (anything else as %XX): subscribing to "handoff.rep.R1."
 *            never receives R10's or "R1.x"'s packets, and a rep called "queue" is not a queue.
            With broker.curve.enabled it is a CURVE server (the broker's certificate) that
            admits only the keys in broker.curve.allowed_keys, like the broker's socket.
 *   webhook  HTTP POST of the packet JSON to webhook_url. Queued in <data_dir>/outbox.db and
 *            tried at once; failures are retried from cb_tick with exponential backoff,
 *            survive restarts, and after max_attempts stay `failed` (handoff status).
 * The packet JSON is the envelope: {"type", "id", "ts", "origin", "payload"}.
 * Redelivery of the same event id writes and publishes nothing new and never POSTs twice. */
#include <curl/curl.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handoff/log.h"
#include "handoff/worker.h"
#include "outbox/outbox_int.h"
#include "workers/workers_int.h"
#include "handoff/util.h"

typedef struct {
    char *dir;
    char *webhook_url;
    long long webhook_timeout_ms;
    long long max_attempts;
    long long backoff_ms;
    long long backoff_max_ms;
    char *pub_endpoint;
    char *retention;
} s_settings_t;

static const ho_config_map_t s_config_map[] = {
    {HO_CFG_STR, "dir", "outbox", offsetof(s_settings_t, dir),
     "folder of the JSON packet files, relative to data_dir"},
    {HO_CFG_STR, "webhook_url", "", offsetof(s_settings_t, webhook_url),
     "CRM webhook the packets are POSTed to; empty = off"},
    {HO_CFG_INT, "webhook_timeout_ms", "5000", offsetof(s_settings_t, webhook_timeout_ms),
     "give up on one POST after this long"},
    {HO_CFG_INT, "max_attempts", "8", offsetof(s_settings_t, max_attempts),
     "POST attempts before a delivery stays failed (visible in handoff status)"},
    {HO_CFG_INT, "backoff_ms", "1000", offsetof(s_settings_t, backoff_ms),
     "wait after the first failed POST; doubles after each further failure"},
    {HO_CFG_INT, "backoff_max_ms", "600000", offsetof(s_settings_t, backoff_max_ms),
     "longest wait between two POST attempts"},
    {HO_CFG_STR, "pub_endpoint", "", offsetof(s_settings_t, pub_endpoint),
     "ZeroMQ PUB endpoint to bind (tcp://127.0.0.1:5571, ipc://...); empty = off"},
    {HO_CFG_STR, "retention", "30d", offsetof(s_settings_t, retention),
     "forget delivered webhook rows older than this (hourly; failed ones stay); 0 = never"},
    {0},
};

/* A packet file of a group commit: written to tmp (not yet synced), renamed to path once
 * the whole batch is on disk. */
typedef struct {
    char *tmp, *path, *topic, *body, *event_id;
} s_pending_t;

typedef struct {
    s_settings_t set;
    char outdir[4096];
    s_pending_t *pending; /* the batch's files during a group commit (s_handle), else NULL */
    size_t n_pending;
    ho_outbox_db_t *db;
    CURL *curl;
    zsock_t *pub;
    zactor_t *auth; /* zauth for the PUB socket when broker.curve.enabled */
    zcert_t *cert;
    ho_worker_retention_t retention;
} s_ctx_t;

static void s_exit(void **ctx_p)
{
    if (!ctx_p || !*ctx_p) {
        return;
    }
    s_ctx_t *ctx = *ctx_p;
    ho_outbox_db_close(&ctx->db);
    if (ctx->curl) {
        curl_easy_cleanup(ctx->curl);
    }
    zsock_destroy(&ctx->pub);
    zactor_destroy(&ctx->auth);
    zcert_destroy(&ctx->cert);
    ho_config_map_free(s_config_map, &ctx->set);
    free(ctx);
    *ctx_p = NULL;
}

/* broker.curve of the gateway config, resolved like the gateway does (relative to the
 * config folder). The packets carry lead and rep emails: with CURVE on, the PUB socket is a
 * CURVE server with the broker's certificate and admits only the keys in allowed_keys
 * (zauth), the same rule as the broker's own socket. */
static int s_pub_curve(s_ctx_t *ctx, const ho_worker_env_t *env, ho_err_t *err)
{
    const ho_node_t *broker = env->conf ? ho_node_get(ho_conf_root(env->conf), "broker") : NULL;
    const ho_node_t *curve = broker ? ho_node_get(broker, "curve") : NULL;
    bool on = false;
    const char *cert = NULL, *allowed = NULL;
    int rc = HO_OK;
    if (curve && ((rc = ho_conf_bool(env->conf, curve, "enabled", false, &on, err)) != HO_OK ||
                  (rc = ho_conf_str(env->conf, curve, "server_cert", "keys/broker.cert_secret",
                                    &cert, err)) != HO_OK ||
                  (rc = ho_conf_str(env->conf, curve, "allowed_keys", "keys/allowed", &allowed,
                                    err)) != HO_OK)) {
        return rc;
    }
    if (!on) {
        return HO_OK;
    }
    char cert_path[4096], allowed_path[4096];
    const char *base = env->config_dir && env->config_dir[0] ? env->config_dir : ".";
    snprintf(cert_path, sizeof cert_path, "%s%s%s", cert[0] == '/' ? "" : base,
             cert[0] == '/' ? "" : "/", cert);
    snprintf(allowed_path, sizeof allowed_path, "%s%s%s", allowed[0] == '/' ? "" : base,
             allowed[0] == '/' ? "" : "/", allowed);
    ctx->cert = zcert_load(cert_path);
    const char *secret = ctx->cert ? zcert_secret_txt(ctx->cert) : NULL;
    if (!secret || strspn(secret, "0") == strlen(secret)) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.curve.server_cert",
                          "broker.curve.server_cert: cannot load a secret certificate from '%s' "
                          "(the outbox PUB socket follows broker.curve)",
                          cert_path);
    }
    int mode = zsys_file_mode(allowed_path);
    if (mode == -1 || !S_ISDIR((mode_t)mode)) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.curve.allowed_keys",
                          "broker.curve.allowed_keys: '%s' is not a folder", allowed_path);
    }
    if (!(ctx->auth = zactor_new(zauth, NULL))) {
        return ho_err_set(err, HO_ERR_IO, "", "cannot start the zauth authenticator");
    }
    zstr_sendx(ctx->auth, "CURVE", allowed_path, NULL);
    zsock_wait(ctx->auth);
    zsock_set_zap_domain(ctx->pub, "global");
    zsock_set_curve_server(ctx->pub, 1);
    zcert_apply(ctx->cert, ctx->pub);
    return HO_OK;
}

static int s_init(const ho_worker_env_t *env, void **ctx_p, ho_err_t *err)
{
    s_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    int rc = ho_config_map_apply(env->conf, env->settings, s_config_map, &ctx->set, err);
    const char *data_dir = env->data_dir && env->data_dir[0] ? env->data_dir : ".";
    if (rc == HO_OK &&
        (ctx->set.max_attempts < 1 || ctx->set.backoff_ms < 0 || ctx->set.webhook_timeout_ms < 1)) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "workers.outbox",
                        "workers.outbox: max_attempts and webhook_timeout_ms must be >= 1, "
                        "backoff_ms >= 0");
    }
    if (rc == HO_OK) {
        rc = ho_worker_retention(ctx->set.retention, "workers.outbox.retention", "30d",
                                 &ctx->retention, err);
    }
    if (rc == HO_OK) {
        if (ctx->set.dir[0] == '/') {
            snprintf(ctx->outdir, sizeof ctx->outdir, "%s", ctx->set.dir);
        } else {
            snprintf(ctx->outdir, sizeof ctx->outdir, "%s/%s", data_dir, ctx->set.dir);
        }
        if (ho_mkdirs(data_dir) != 0 || ho_mkdirs(ctx->outdir) != 0) {
            rc = ho_err_set(err, HO_ERR_IO, "workers.outbox.dir", "%s: cannot create: %s",
                            ctx->outdir, strerror(errno));
        }
    }
    if (rc == HO_OK && !(ctx->db = ho_outbox_db_open(data_dir, err))) {
        rc = err ? err->code : HO_ERR_IO;
    }
    if (rc == HO_OK && ctx->set.webhook_url[0]) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (!(ctx->curl = curl_easy_init())) {
            rc =
                ho_err_set(err, HO_ERR_NOMEM, "workers.outbox.webhook_url", "cannot start libcurl");
        }
    }
    if (rc == HO_OK && ctx->set.pub_endpoint[0]) {
        ctx->pub = zsock_new(ZMQ_PUB);
        if (!ctx->pub) {
            rc = ho_err_set(err, HO_ERR_NOMEM, "workers.outbox.pub_endpoint",
                            "cannot create the PUB socket");
        } else {
            rc = s_pub_curve(ctx, env, err);
        }
    }
    if (rc == HO_OK && ctx->pub) {
        if (zsock_bind(ctx->pub, "%s", ctx->set.pub_endpoint) < 0) {
            rc = ho_err_set(err, HO_ERR_IO, "workers.outbox.pub_endpoint",
                            "workers.outbox.pub_endpoint: cannot bind %s: %s",
                            ctx->set.pub_endpoint, zmq_strerror(zmq_errno()));
        } else {
            zsock_set_sndhwm(ctx->pub, 100000);
        }
    }
    if (rc != HO_OK) {
        s_exit((void **)&ctx);
        return rc;
    }
    *ctx_p = ctx;
    return HO_OK;
}

/* A path segment from an id: [A-Za-z0-9._-], anything else becomes '_'. */
static void s_safe(char *out, size_t cap, const char *in, const char *empty)
{
    if (!in || !in[0]) {
        in = empty;
    }
    size_t n = 0;
    if (in[0] == '.') {
        out[n++] = '_';
    }
    for (; *in && n + 1 < cap; in++) {
        char c = *in;
        out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '.' || c == '-' || c == '_'
                       ? c
                       : '_';
    }
    out[n] = '\0';
}

/* "<prefix><id>." with id percent-encoded outside [A-Za-z0-9_-] (see the file comment). */
static void s_topic(char *out, size_t cap, const char *prefix, const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    for (const unsigned char *p = (const unsigned char *)id; *p && n + 5 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-') {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n++] = '.';
    out[n] = '\0';
}

/* Write body to a temp file beside dir/name; with tmp_out (group commit) leave it there,
 * unsynced, and name it in tmp_out; else fsync it and rename it into place. */
static int s_write_atomic(const char *dir, const char *name, const char *body, char *path,
                          size_t cap, char *why, size_t why_cap, char *tmp_out, size_t tmp_cap)
{
    char tmp[4200];
    if (ho_mkdirs(dir) != 0) {
        ho_fmt(why, why_cap, "%s: cannot create: %s", dir, strerror(errno));
        return -1;
    }
    ho_fmt(path, cap, "%s/%s", dir, name);
    ho_fmt(tmp, sizeof tmp, "%s/.%s.tmp.%d", dir, name, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        ho_fmt(why, why_cap, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(body), off = 0;
    while (off < len) {
        ssize_t w = write(fd, body + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            ho_fmt(why, why_cap, "%s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || (!tmp_out && fsync(fd) != 0) || close(fd) != 0) {
        ho_fmt(why, why_cap, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (tmp_out) {
        ho_fmt(tmp_out, tmp_cap, "%s", tmp);
        return 0;
    }
    if (rename(tmp, path) != 0) {
        ho_fmt(why, why_cap, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static size_t s_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

/* One POST. Returns the HTTP status (0 if none) and fills why on failure. */
static int s_post(s_ctx_t *ctx, const ho_outbox_item_t *it, char *why, size_t why_cap, bool *ok)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char h_event[200], h_type[120];
    snprintf(h_event, sizeof h_event, "X-Handoff-Event: %s", it->event_id);
    snprintf(h_type, sizeof h_type, "X-Handoff-Type: %s", it->type);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, h_event);
    headers = curl_slist_append(headers, h_type);
    char h_key[200];
    snprintf(h_key, sizeof h_key, "Idempotency-Key: %s", it->event_id);
    headers = curl_slist_append(headers, h_key);
    CURL *c = ctx->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, it->target);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(it->body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ctx->set.webhook_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ctx->set.webhook_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "handoff-outbox/" HO_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    *ok = false;
    if (res != CURLE_OK) {
        snprintf(why, why_cap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(res));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            *ok = true;
        } else {
            snprintf(why, why_cap, "HTTP %ld from the webhook", status);
        }
    }
    curl_slist_free_all(headers);
    return (int)status;
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Try the webhook deliveries due at now. The worker's heartbeats wait while we POST, so one
 * flush stops after about FLUSH_BUDGET_MS, and at the first transport failure (the CRM is
 * down or unreachable: the rest would fail the same way); what is left is tried next tick. */
#define FLUSH_BUDGET_MS 2000
static void s_flush(s_ctx_t *ctx, int64_t now)
{
    if (!ctx->curl) {
        return;
    }
    ho_outbox_item_t *items = NULL;
    size_t n = 0;
    if (ho_outbox_db_due(ctx->db, now, 50, &items, &n) != HO_OK) {
        ho_warn("outbox: cannot read the retry queue");
        return;
    }
    int64_t started = s_mono_ms();
    bool down = false;
    for (size_t i = 0; i < n && !down && s_mono_ms() - started < FLUSH_BUDGET_MS; i++) {
        ho_outbox_item_t *it = &items[i];
        char why[CURL_ERROR_SIZE + 64] = "";
        bool ok;
        int status = s_post(ctx, it, why, sizeof why, &ok);
        int attempt = it->attempts + 1;
        down = !ok && status == 0;
        /* 4xx other than timeout / too early / too many: the CRM refuses this packet;
         * retrying will not help, so it stays failed for an operator to look at */
        bool refused =
            status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
        bool give_up = !ok && (refused || attempt >= ctx->set.max_attempts);
        int64_t backoff = ctx->set.backoff_ms;
        for (int k = 1; k < attempt && backoff < ctx->set.backoff_max_ms; k++) {
            backoff *= 2;
        }
        if (backoff > ctx->set.backoff_max_ms) {
            backoff = ctx->set.backoff_max_ms;
        }
        ho_err_t err = {0};
        if (ho_outbox_db_result(ctx->db, it, now, status, ok ? NULL : why, backoff, give_up,
                                &err) != HO_OK) {
            ho_warn("outbox: cannot record a webhook attempt: %s", err.message);
        }
        if (ok) {
            ho_log(attempt > 1 ? HO_LOG_INFO : HO_LOG_DEBUG,
                   "outbox: webhook delivered event=%s type=%s status=%d attempts=%d", it->event_id,
                   it->type, status, attempt);
        } else if (give_up) {
            ho_error("outbox: webhook delivery failed for good event=%s type=%s attempts=%d "
                     "error=\"%s\" (kept in outbox.db, see handoff status)",
                     it->event_id, it->type, attempt, why);
        } else {
            ho_warn("outbox: webhook attempt failed event=%s attempt=%d/%lld error=\"%s\" "
                    "retry_in_ms=%lld",
                    it->event_id, attempt, ctx->set.max_attempts, why, (long long)backoff);
        }
    }
    ho_outbox_items_free(items, n);
}

/* Deliver one packet to the file and PUB connectors and queue it for the webhook. */
/* ---- group commit: the packets of one request with one sync, not one fsync each ----
 * Every packet of the batch is written to its temp file without a sync; then one syncfs()
 * makes all of them durable, the renames put them in place, a second syncfs() makes the
 * renames durable, and only then are they published, recorded as sent (one outbox.db
 * transaction) and the request answered. A crash before the answer leaves temp files at
 * most: the broker redelivers the request and the packets are written again. */

static void s_group_free(s_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->n_pending; i++) {
        s_pending_t *p = &ctx->pending[i];
        if (p->tmp) {
            unlink(p->tmp);
        }
        free(p->tmp);
        free(p->path);
        free(p->topic);
        free(p->body);
        free(p->event_id);
    }
    free(ctx->pending);
    ctx->pending = NULL;
    ctx->n_pending = 0;
}

static int s_group_add(s_ctx_t *ctx, const char *folder, const char *name, const char *topic,
                       const char *body, const char *event_id)
{
    char dir[4400], path[4800], tmp[4800], why[512];
    ho_fmt(dir, sizeof dir, "%s/%s", ctx->outdir, folder);
    ho_fmt(path, sizeof path, "%s/%s", dir, name);
    for (size_t i = 1; i < ctx->n_pending; i++) {
        if (strcmp(ctx->pending[i].path, path) == 0) {
            return HO_WORKER_OK; /* the same event twice in one batch: written once */
        }
    }
    if (s_write_atomic(dir, name, body, path, sizeof path, why, sizeof why, tmp, sizeof tmp) != 0) {
        ho_warn("outbox: cannot write packet event=%s: %s", event_id, why);
        return HO_WORKER_RETRY;
    }
    s_pending_t *v = realloc(ctx->pending, (ctx->n_pending + 1) * sizeof *v);
    if (!v) {
        unlink(tmp);
        return HO_WORKER_RETRY;
    }
    ctx->pending = v;
    s_pending_t *p = &v[ctx->n_pending++];
    *p = (s_pending_t){strdup(tmp), strdup(path), strdup(topic), strdup(body), strdup(event_id)};
    return p->tmp && p->path && p->topic && p->body && p->event_id ? HO_WORKER_OK : HO_WORKER_RETRY;
}

/* syncfs() of the outbox folder's file system: one sync for all the batch's files. */
static int s_group_sync(const s_ctx_t *ctx)
{
    int fd = open(ctx->outdir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    int rc = syncfs(fd);
    close(fd);
    return rc;
}

static int s_group_finish(s_ctx_t *ctx, int64_t now)
{
    /* pending[0] is the marker that a group is open (no file) */
    if (ctx->n_pending > 1 && s_group_sync(ctx) != 0) {
        ho_warn("outbox: cannot sync the packets: %s", strerror(errno));
        return HO_WORKER_RETRY;
    }
    for (size_t i = 1; i < ctx->n_pending; i++) {
        s_pending_t *p = &ctx->pending[i];
        if (rename(p->tmp, p->path) != 0) {
            ho_warn("outbox: cannot write packet event=%s: %s: %s", p->event_id, p->path,
                    strerror(errno));
            return HO_WORKER_RETRY;
        }
        free(p->tmp);
        p->tmp = NULL;
    }
    if (ctx->n_pending > 1 && s_group_sync(ctx) != 0) {
        ho_warn("outbox: cannot sync the packet folders: %s", strerror(errno));
        return HO_WORKER_RETRY;
    }
    ho_err_t err = {0};
    for (size_t i = 1; i < ctx->n_pending; i++) {
        s_pending_t *p = &ctx->pending[i];
        if (ctx->pub && zsock_send(ctx->pub, "ss", p->topic, p->body) != 0) {
            ho_warn("outbox: cannot publish event=%s topic=%s", p->event_id, p->topic);
        }
        if (ho_outbox_db_mark_sent(ctx->db, p->event_id, p->path, now, &err) != HO_OK) {
            ho_warn("outbox: %s", err.message);
        }
        ho_debug("outbox: delivered event=%s file=%s (group of %zu)", p->event_id, p->path,
                 ctx->n_pending - 1);
    }
    return HO_WORKER_OK;
}

static int s_deliver(s_ctx_t *ctx, const ho_msg_t *in, int64_t now, ho_out_t *out)
{
    const char *type = ho_msg_type(in);
    const json_t *p = ho_msg_payload(in);
    const char *rep = NULL, *queue = NULL;
    long long lead_id = -1;
    char folder[160], name[320], topic[200];
    if (strcmp(type, "report.ready") == 0) {
        char week[64];
        s_safe(week, sizeof week, json_string_value(json_object_get(p, "week")), "report");
        snprintf(folder, sizeof folder, "_reports");
        snprintf(name, sizeof name, "%s-%s.json", week, ho_msg_id(in));
        snprintf(topic, sizeof topic, "report.ready");
    } else {
        const json_t *r = json_object_get(p, "rep");
        rep = json_string_value(json_object_get(r, "rep_id"));
        if (!rep) {
            rep = json_string_value(json_object_get(p, "rep_id"));
        }
        queue = json_string_value(json_object_get(p, "queue"));
        const json_t *lid = json_object_get(p, "lead_id");
        if (!json_is_integer(lid)) {
            return ho_out_quarantine(out, in, "outbox", "missing_field", "lead_id",
                                     "lead_id: missing; a packet must name its lead") == HO_OK
                       ? HO_WORKER_OK
                       : HO_WORKER_RETRY;
        }
        lead_id = json_integer_value(lid);
        char who[128];
        if (rep) {
            s_safe(who, sizeof who, rep, "_unassigned");
            s_topic(topic, sizeof topic, "handoff.rep.", rep);
        } else {
            char q[100];
            s_safe(q, sizeof q, queue, "unassigned");
            snprintf(who, sizeof who, "_queue-%s", q);
            s_topic(topic, sizeof topic, "handoff.queue.", queue ? queue : "unassigned");
        }
        snprintf(folder, sizeof folder, "%s", who);
        snprintf(name, sizeof name, "%lld-%s.json", lead_id, ho_msg_id(in));
    }
    json_t *env = json_pack("{s:s,s:s,s:I,s:s,s:O}", "type", type, "id", ho_msg_id(in), "ts",
                            (json_int_t)ho_msg_ts(in), "origin", ho_msg_origin(in), "payload", p);
    char *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (!body) {
        return HO_WORKER_RETRY;
    }
    int rc = HO_WORKER_OK;
    ho_err_t err = {0};
    if (ctx->pending && !ho_outbox_db_sent(ctx->db, ho_msg_id(in))) {
        rc = s_group_add(ctx, folder, name, topic, body, ho_msg_id(in));
    } else if (!ho_outbox_db_sent(ctx->db, ho_msg_id(in))) {
        char dir[4400], path[4800], why[512];
        ho_fmt(dir, sizeof dir, "%s/%s", ctx->outdir, folder);
        if (s_write_atomic(dir, name, body, path, sizeof path, why, sizeof why, NULL, 0) != 0) {
            ho_warn("outbox: cannot write packet event=%s: %s", ho_msg_id(in), why);
            free(body);
            return HO_WORKER_RETRY;
        }
        if (ctx->pub && zsock_send(ctx->pub, "ss", topic, body) != 0) {
            ho_warn("outbox: cannot publish event=%s topic=%s", ho_msg_id(in), topic);
        }
        if (ho_outbox_db_mark_sent(ctx->db, ho_msg_id(in), path, now, &err) != HO_OK) {
            ho_warn("outbox: %s", err.message);
        }
        ho_debug("outbox: delivered event=%s type=%s file=%s%s%s", ho_msg_id(in), type, path,
                 ctx->pub ? " topic=" : "", ctx->pub ? topic : "");
    }
    if (ctx->curl &&
        ho_outbox_db_enqueue(ctx->db, ho_msg_id(in), type, "webhook", ctx->set.webhook_url, rep,
                             lead_id, body, now, &err) != HO_OK) {
        ho_warn("outbox: cannot queue the webhook delivery event=%s: %s", ho_msg_id(in),
                err.message);
        rc = HO_WORKER_RETRY;
    }
    free(body);
    return rc;
}

static int s_handle_each(s_ctx_t *ctx, ho_msg_t *const *in, size_t n, int64_t now, ho_out_t *out);

/* A request of several packets is one group commit: its files and outbox.db rows become
 * durable together, before the request is answered (nothing acknowledged is lost). */
static int s_handle(void *ctx_v, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    s_ctx_t *ctx = ctx_v;
    int64_t now = ho_now_ms();
    ho_err_t err = {0};
    if (n > 1) {
        ctx->pending = calloc(1, sizeof *ctx->pending); /* [0]: the group is open */
        ctx->n_pending = ctx->pending ? 1 : 0;
        if (!ctx->pending || ho_outbox_db_begin(ctx->db, &err) != HO_OK) {
            s_group_free(ctx);
            return HO_WORKER_RETRY;
        }
    }
    int rc = s_handle_each(ctx, in, n, now, out);
    if (n > 1) {
        if (rc == HO_WORKER_OK) {
            rc = s_group_finish(ctx, now);
        }
        if (rc == HO_WORKER_OK && ho_outbox_db_commit(ctx->db, &err) != HO_OK) {
            ho_warn("outbox: %s", err.message);
            rc = HO_WORKER_RETRY;
        }
        if (rc != HO_WORKER_OK) {
            ho_outbox_db_rollback(ctx->db);
        }
        s_group_free(ctx);
    }
    if (rc == HO_WORKER_OK) {
        s_flush(ctx, now);
    }
    return rc;
}

static int s_handle_each(s_ctx_t *ctx, ho_msg_t *const *in, size_t n, int64_t now, ho_out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const char *type = ho_msg_type(in[i]);
        int rc;
        if (!strcmp(type, "handoff.ready") || !strcmp(type, "rep.reminder") ||
            !strcmp(type, "report.ready")) {
            rc = s_deliver(ctx, in[i], now, out);
        } else {
            char why[160];
            snprintf(why, sizeof why,
                     "outbox delivers handoff.ready, rep.reminder and report.ready, not %.64s",
                     type);
            rc = ho_out_quarantine(out, in[i], "outbox", "unknown_type", "type", why) == HO_OK
                     ? HO_WORKER_OK
                     : HO_WORKER_RETRY;
        }
        if (rc != HO_WORKER_OK) {
            return rc;
        }
    }
    return HO_WORKER_OK;
}

static int s_tick(void *ctx_v, int64_t now_ms, ho_out_t *out)
{
    s_ctx_t *ctx = ctx_v;
    (void)out;
    s_flush(ctx, now_ms);
    if (ho_worker_prune_due(&ctx->retention, now_ms)) {
        int n = 0;
        ho_err_t err = {0};
        if (ho_outbox_db_prune(ctx->db, now_ms - ctx->retention.keep_ms, &n, &err) != HO_OK) {
            ho_warn("outbox: cannot prune outbox.db: %s", err.message);
        } else if (n) {
            ho_info("outbox: forgot %d delivered webhook deliveries older than %s", n,
                    ctx->set.retention);
        }
    }
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_outbox = {
    .name = "outbox",
    .description = "delivers handoff packets: JSON files, CRM webhook with retry, PUB per rep",
    .cb_init = s_init,
    .cb_handle = s_handle,
    .cb_tick = s_tick,
    .tick_ms = 1000,
    .cb_exit = s_exit,
    .config_map = s_config_map,
};
