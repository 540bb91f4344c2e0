/* server.c - the webhook HTTP server (webhook.h): libmicrohttpd with a pool of `threads`
 * internal threads (epoll), which never wait on the broker, and `threads` sender threads
 * (senders.c), which do. MHD gives each connection to the thread that accepted it, and that
 * thread serves all of its connections in turn: a handler that waited there for the broker
 * would hold back every other connection of its thread, /healthz too. So once a POST's body is
 * in and its signature checked, the connection is suspended (MHD_suspend_connection) and a
 * sender thread takes the request: the backlog check, the mapping and the broker request. It
 * keeps the answer in the request and resumes the connection; MHD calls the handler again,
 * which queues that answer in the connection's own thread. Each sender has a broker client of
 * its own, so a POST waiting on a slow broker holds one sender (later POSTs wait, suspended,
 * for a free one), and /healthz never talks to the broker nor waits behind a request that
 * does. Against slow or idle peers (slowloris):
 * connections idle for connection_timeout_s are closed, one address may hold at most
 * per_ip_limit connections and all together connection_limit, bodies over body_limit get 413.
 * Each request is answered only once the broker has taken its message: a webhook sender's
 * retry is the backpressure, and event ids make a retried submission the same event.
 *
 * Nothing is lost once answered 2xx: the answer waits for the broker's reply, which the broker
 * sends only after the messages that reply caused (lead.normalized for the store, ...) are in
 * its journal (E11). What the broker does not refuse is a backlog behind a slow worker: the
 * webhook reads mmi.status (at most every S_BACKLOG_POLL_MS) and answers 503 with
 * Retry-After, before forwarding anything, while more than max_backlog requests wait.
 *
 * webhook.yaml is read in settings.c, answers are written by reply.c, and a /feedback
 * object becomes feedback.raw in feedback_body.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "handoff/defaults.h"
#include "handoff/feedback.h"
#include "handoff/forms.h"
#include "handoff/log.h"
#include "handoff/metrics.h"
#include "handoff/normalize.h"
#include "handoff/webhook.h"
#include "tls.h" /* HTTPS (tls_cert/tls_key), reloaded on SIGHUP */
#include "webhook_internal.h"

#define S_BACKLOG_POLL_MS 200 /* read the broker's queues at most this often */

/* ---- routes ---- */

typedef enum {
    R_NONE = 0,
    R_HEALTH,
    R_METRICS,
    R_FACEBOOK,
    R_LINKEDIN,
    R_HUBSPOT,
    R_TYPEFORM,
    R_FORM,
    R_FEEDBACK,
} s_route_t;

static const struct {
    const char *path;
    s_route_t route;
    const char *allow; /* methods */
} s_routes[] = {
    {"/healthz", R_HEALTH, "GET"},
    {"/metrics", R_METRICS, "GET"},
    {"/webhooks/facebook", R_FACEBOOK, "GET, POST"},
    {"/webhooks/linkedin", R_LINKEDIN, "POST"},
    {"/webhooks/hubspot", R_HUBSPOT, "POST"},
    {"/webhooks/typeform", R_TYPEFORM, "POST"},
    {"/webhooks/form", R_FORM, "POST"},
    {"/feedback", R_FEEDBACK, "POST"},
};

static int s_find_route(const char *url)
{
    size_t n = strlen(url);
    while (n > 1 && url[n - 1] == '/') {
        n--;
    }
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (strlen(s_routes[i].path) == n && strncmp(url, s_routes[i].path, n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* ---- server ---- */

struct ho_webhook {
    ho_webhook_settings_t set; /* a copy: strings owned here */
    struct MHD_Daemon *daemon;
    int port;
    char *endpoint;
    ho_client_opts_t copts;
    bool have_mu;
    ho_linkedin_forms_t *linkedin;
    ho_reasons_t *reasons;
    unsigned long requests; /* atomic */
    /* backlog (under mu): the broker's count at backlog_at, plus the requests this server
     * forwarded since; shedding = answering 503 until it is down to half; polling = one
     * thread is reading mmi.status (the others use the last count meanwhile) */
    pthread_mutex_t mu;
    ho_tls_t *tls; /* NULL: plain HTTP */
    ho_metrics_feed_t *metrics; /* atomic; borrowed; NULL: no /metrics */
    int64_t backlog_at;
    long backlog, forwarded;
    bool shedding, polling;
    unsigned long shed; /* 503s for the backlog */
    char worst[96];     /* "store=12": the longest queue at the last read */
    ho_wh_senders_t *senders; /* take the suspended POSTs */
};

typedef struct {
    s_route_t route;
    char *buf;
    size_t len, cap;
    bool too_large;
    /* handed to a sender: the connection stays suspended until answered */
    struct MHD_Connection *conn;
    char *url;
    bool answered;
    ho_wh_answer_t answer; /* made by the sender, queued by the handler */
} s_req_t;

/* Send msgs to service and wait. HO_OK and the reply (caller frees) or an error. */
static int s_request(ho_webhook_t *self, const char *service, ho_msg_t **msgs, size_t n,
                     ho_msg_t ***reply_p, size_t *n_reply_p, ho_err_t *err)
{
    *reply_p = NULL;
    *n_reply_p = 0;
    if (n == 0) {
        return HO_OK;
    }
    ho_client_t *cl = ho_wh_sender_client(self->senders, err);
    if (!cl) {
        return err->code ? err->code : HO_ERR_IO;
    }
    int rc = ho_client_request(cl, service, msgs, n, reply_p, n_reply_p, err);
    if (rc != HO_OK) {
        ho_wh_sender_client_drop(self->senders); /* a fresh socket next time */
    } else {
        pthread_mutex_lock(&self->mu);
        self->forwarded++; /* one more request the broker routes on (to the store) */
        pthread_mutex_unlock(&self->mu);
    }
    return rc;
}

/* Requests queued in the broker for services that have workers, as import's --max-backlog
 * counts them (a queue without workers is not drained by refusing: not counted); -1 when
 * the broker does not answer. */
static long s_broker_backlog(ho_webhook_t *self, char *worst, size_t cap, ho_err_t *err)
{
    ho_client_t *cl = ho_wh_sender_client(self->senders, err);
    json_t *st = NULL;
    if (!cl || ho_client_status(cl, &st, err) != HO_OK) {
        ho_wh_sender_client_drop(self->senders);
        return -1;
    }
    long total = ho_client_status_backlog(st, worst, cap, NULL, 0, NULL);
    json_decref(st);
    return total;
}

/* Under mu: update the shedding state. -1 = take the request, else the estimate to report
 * (worst gets the longest queue for that answer). */
static long s_shed_decide(ho_webhook_t *self, long limit, char *worst, size_t cap)
{
    long estimate = self->backlog + self->forwarded;
    if (self->shedding && estimate <= limit / 2) {
        self->shedding = false;
        ho_info("pipeline backlog down to %ld requests: accepting again (refused %lu)", estimate,
                self->shed);
    } else if (!self->shedding && estimate > limit) {
        self->shedding = true;
        ho_warn("pipeline backlog: %ld requests waiting in the broker (longest queue at the last "
                "look: %s), over max_backlog %ld: answering 503 until %ld or fewer",
                estimate, self->worst, limit, limit / 2);
    }
    if (!self->shedding) {
        return -1;
    }
    self->shed++;
    snprintf(worst, cap, "%s", self->worst);
    return estimate;
}

/* The 503 + Retry-After of a shed request. Returns -1 (the answer is in a). */
static int s_shed_answer(ho_webhook_t *self, ho_wh_answer_t *a, const char *path, long estimate,
                         const char *worst, enum MHD_Result *ret)
{
    long limit = (long)self->set.max_backlog;
    char msg[300], retry[24];
    snprintf(retry, sizeof retry, "%lld", self->set.retry_after_s);
    snprintf(msg, sizeof msg,
             "pipeline backlog: %ld requests waiting in the broker (longest queue at the last "
             "look: %s), over max_backlog %ld; nothing was taken, retry after %s s",
             estimate, worst, limit, retry);
    json_t *body =
        json_pack("{s:s, s:s, s:I, s:I}", "error", msg, "field", "", "backlog",
                  (json_int_t)estimate, "retry_after", (json_int_t)self->set.retry_after_s);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    ho_info("%s status=503 backlog=%ld", path, estimate);
    *ret = ho_wh_send_h(a, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", text ? text : "{}",
                        "Retry-After", retry);
    free(text);
    return -1;
}

/* May a submission be taken now? 0 yes; else a 503 is in a (with Retry-After when the
 * pipeline is backed up; without when the broker does not answer its status). One thread
 * at a time reads mmi.status, without the lock; the others use the last count meanwhile. */
static int s_admit(ho_webhook_t *self, ho_wh_answer_t *a, const char *path, enum MHD_Result *ret)
{
    long limit = (long)self->set.max_backlog;
    if (limit <= 0) {
        return 0;
    }
    int64_t now = ho_now_ms();
    pthread_mutex_lock(&self->mu);
    bool poll =
        !self->polling && (self->backlog_at == 0 || now - self->backlog_at >= S_BACKLOG_POLL_MS);
    self->polling = self->polling || poll;
    pthread_mutex_unlock(&self->mu);
    char worst[sizeof self->worst];
    if (poll) {
        ho_err_t err = {0};
        long b = s_broker_backlog(self, worst, sizeof worst, &err);
        pthread_mutex_lock(&self->mu);
        self->polling = false;
        self->backlog_at = ho_now_ms();
        if (b >= 0) {
            self->backlog = b;
            self->forwarded = 0;
            memcpy(self->worst, worst, sizeof worst);
        }
        pthread_mutex_unlock(&self->mu);
        if (b < 0) {
            ho_warn("%s: broker status unavailable: %s", path, err.message);
            *ret = ho_wh_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, "", "broker unavailable: %s",
                               err.message);
            return -1;
        }
    }
    pthread_mutex_lock(&self->mu);
    long estimate = s_shed_decide(self, limit, worst, sizeof worst);
    pthread_mutex_unlock(&self->mu);
    return estimate < 0 ? 0 : s_shed_answer(self, a, path, estimate, worst, ret);
}

/* Is the request signed/authorised for its route? 0 ok, else the answer is in a. */
static int s_auth(ho_webhook_t *self, ho_wh_answer_t *a, s_req_t *rq, enum MHD_Result *ret)
{
    const ho_webhook_settings_t *s = &self->set;
    const char *secret = NULL, *name = NULL;
    switch (rq->route) {
    case R_FACEBOOK:
        secret = s->facebook_app_secret, name = "facebook_app_secret";
        break;
    case R_LINKEDIN:
        secret = s->linkedin_secret, name = "linkedin_secret";
        break;
    case R_HUBSPOT:
        secret = s->hubspot_secret, name = "hubspot_secret";
        break;
    case R_TYPEFORM:
        secret = s->typeform_secret, name = "typeform_secret";
        break;
    case R_FORM:
        secret = s->form_secret, name = "form_secret";
        break;
    case R_FEEDBACK:
        secret = s->feedback_token, name = "feedback_token";
        break;
    default:
        return 0;
    }
    if (!secret || !secret[0]) {
        if (s->allow_unsigned) {
            return 0;
        }
        *ret = ho_wh_error(a, MHD_HTTP_UNAUTHORIZED, "",
                           "this endpoint has no secret configured (webhook.yaml %s) and "
                           "allow_unsigned is false",
                           name);
        return -1;
    }
    int rc = HO_SIG_OK;
    const char *hname = "";
    switch (rq->route) {
    case R_FACEBOOK:
        hname = "X-Hub-Signature-256";
        rc = ho_webhook_verify_hex(secret, rq->buf, rq->len, ho_wh_header(a->c, hname),
                                   "sha256=", false);
        break;
    case R_LINKEDIN:
        hname = "X-LI-Signature";
        rc = ho_webhook_verify_hex(secret, rq->buf, rq->len, ho_wh_header(a->c, hname),
                                   "hmacsha256=", true);
        break;
    case R_TYPEFORM:
        hname = "Typeform-Signature";
        rc = ho_webhook_verify_base64(secret, rq->buf, rq->len, ho_wh_header(a->c, hname),
                                      "sha256=");
        break;
    case R_FEEDBACK: {
        hname = "Authorization";
        const char *h = ho_wh_header(a->c, hname);
        if (!h || !h[0]) {
            rc = HO_SIG_MISSING;
        } else if (strncasecmp(h, "Bearer ", 7) != 0) {
            rc = HO_SIG_PREFIX;
        } else {
            rc = ho_webhook_secret_equal(h + 7, secret) ? HO_SIG_OK : HO_SIG_MISMATCH;
        }
        break;
    }
    default: {
        hname = "X-Handoff-Secret";
        const char *h = ho_wh_header(a->c, hname);
        rc = !h || !h[0]                          ? HO_SIG_MISSING
             : ho_webhook_secret_equal(h, secret) ? HO_SIG_OK
                                                  : HO_SIG_MISMATCH;
        break;
    }
    }
    if (rc == HO_SIG_OK) {
        return 0;
    }
    *ret = ho_wh_error(a, MHD_HTTP_UNAUTHORIZED, hname, "%s: %s", hname, ho_sig_strerror(rc));
    return -1;
}

static json_t *s_parse(ho_wh_answer_t *a, s_req_t *rq, enum MHD_Result *ret)
{
    json_error_t jerr;
    json_t *doc = rq->len ? json_loadb(rq->buf, rq->len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!doc) {
        *ret = rq->len ? ho_wh_error(a, MHD_HTTP_BAD_REQUEST, "body",
                                     "malformed JSON: %s (line %d, column %d)", jerr.text,
                                     jerr.line, jerr.column)
                       : ho_wh_error(a, MHD_HTTP_BAD_REQUEST, "body", "empty body: expected JSON");
    }
    return doc;
}

/* Reply envelopes: the first quarantine or error among them, if any. */
static const ho_msg_t *s_refusal(ho_msg_t *const *reply, size_t n, const char *type)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ho_msg_type(reply[i]), type) == 0) {
            return reply[i];
        }
    }
    return NULL;
}

typedef struct {
    ho_msg_t **good; /* to the service */
    size_t n_good;
    ho_msg_t **bad; /* to the quarantine */
    size_t n_bad;
    const ho_msg_t *first_bad;
} s_batch_t;

static void s_batch_free(s_batch_t *b)
{
    for (size_t i = 0; i < b->n_good; i++) {
        ho_msg_destroy(&b->good[i]);
    }
    for (size_t i = 0; i < b->n_bad; i++) {
        ho_msg_destroy(&b->bad[i]);
    }
    free(b->good);
    free(b->bad);
    memset(b, 0, sizeof *b);
}

/* Send the batch: good ones to `service`, refused ones to the store's quarantine; answer. */
static enum MHD_Result s_deliver(ho_webhook_t *self, ho_wh_answer_t *a, s_batch_t *b,
                                 const char *service, const char *path)
{
    ho_err_t err = {0};
    ho_msg_t **reply = NULL;
    size_t n_reply = 0;
    json_t *ids = json_array();
    const ho_msg_t *refused = NULL;
    ho_msg_t **qreply = NULL;
    size_t n_qreply = 0;
    enum MHD_Result ret;
    if (s_request(self, service, b->good, b->n_good, &reply, &n_reply, &err) != HO_OK) {
        ho_warn("%s: broker did not take it: %s", path, err.message);
        ret =
            ho_wh_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, "", "broker unavailable: %s", err.message);
        goto done;
    }
    const ho_msg_t *error = s_refusal(reply, n_reply, "error");
    if (error) {
        const char *m = json_string_value(json_object_get(ho_msg_payload(error), "message"));
        ho_warn("%s: %s answered error: %s", path, service, m ? m : "");
        ret = ho_wh_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, "", "%s refused the request: %s",
                          service, m ? m : "(no message)");
        goto done;
    }
    if (s_request(self, "store", b->bad, b->n_bad, &qreply, &n_qreply, &err) != HO_OK) {
        ho_warn("%s: quarantine not taken: %s", path, err.message);
        ret =
            ho_wh_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, "", "broker unavailable: %s", err.message);
        goto done;
    }
    /* the downstream worker may itself have quarantined one (a date that is no date) */
    refused = b->first_bad ? b->first_bad : s_refusal(reply, n_reply, "quarantine");
    for (size_t i = 0; i < b->n_good; i++) {
        json_array_append_new(ids, json_string(ho_msg_id(b->good[i])));
    }
    if (refused) {
        const json_t *q = ho_msg_payload(refused);
        json_t *body = json_object();
        json_object_set(body, "error", json_object_get(q, "reason"));
        json_object_set(body, "code", json_object_get(q, "code"));
        json_object_set(body, "field", json_object_get(q, "field"));
        json_object_set(body, "event_id", json_object_get(q, "event_id"));
        json_object_set_new(body, "status", json_string("quarantined"));
        json_object_set(body, "accepted", ids);
        ho_info("%s status=422 code=%s event_id=%s", path,
                json_string_value(json_object_get(q, "code")),
                json_string_value(json_object_get(q, "event_id")));
        ret = ho_wh_json(a, MHD_HTTP_UNPROCESSABLE_CONTENT, body, NULL);
        goto done;
    }
    json_t *body = json_object();
    json_object_set_new(body, "status", json_string("accepted"));
    json_object_set(body, "event_id", json_array_get(ids, 0));
    if (json_array_size(ids) > 1) {
        json_object_set(body, "event_ids", ids);
    }
    /* the feedback worker's lead.outcome ids: what the store keys the outcome by */
    json_t *outcomes = json_array();
    for (size_t i = 0; i < n_reply; i++) {
        if (strcmp(ho_msg_type(reply[i]), "lead.outcome") == 0) {
            json_array_append_new(outcomes, json_string(ho_msg_id(reply[i])));
        }
    }
    if (json_array_size(outcomes)) {
        json_object_set(body, "outcome_ids", outcomes);
    }
    json_decref(outcomes);
    ho_info("%s status=202 event_id=%s n=%zu", path, json_string_value(json_array_get(ids, 0)),
            json_array_size(ids));
    ret = ho_wh_json(a, MHD_HTTP_ACCEPTED, body, NULL);
done:
    json_decref(ids);
    ho_msg_batch_free(&reply, n_reply);
    ho_msg_batch_free(&qreply, n_qreply);
    return ret;
}

static int s_push(ho_msg_t ***arr, size_t *n, ho_msg_t *m)
{
    ho_msg_t **g = realloc(*arr, (*n + 1) * sizeof *g);
    if (!g) {
        ho_msg_destroy(&m);
        return -1;
    }
    *arr = g;
    g[(*n)++] = m;
    return 0;
}

static enum MHD_Result s_form(ho_webhook_t *self, ho_wh_answer_t *a, s_req_t *rq, const char *path)
{
    enum MHD_Result ret = MHD_NO;
    json_t *doc = s_parse(a, rq, &ret);
    if (!doc) {
        return ret;
    }
    static const ho_form_shape_t expect[] = {
        [R_FACEBOOK] = HO_FORM_FACEBOOK, [R_LINKEDIN] = HO_FORM_LINKEDIN,
        [R_HUBSPOT] = HO_FORM_HUBSPOT,   [R_TYPEFORM] = HO_FORM_TYPEFORM,
        [R_FORM] = HO_FORM_PLAIN,
    };
    ho_form_opts_t fo = {.linkedin = self->linkedin, .expect = expect[rq->route]};
    ho_form_result_t res;
    ho_err_t err = {0};
    int rc = ho_form_map(doc, &fo, &res, &err);
    json_decref(doc);
    if (rc != HO_OK) {
        return ho_wh_error(a, MHD_HTTP_BAD_REQUEST, err.field, "%s", err.message);
    }
    s_batch_t b = {0};
    const char *skipped = NULL;
    for (size_t i = 0; i < res.n; i++) {
        ho_form_item_t *it = &res.items[i];
        if (it->skip) { /* a test lead or a bare notification (forms.h): not a lead */
            skipped = it->skip;
            continue;
        }
        const char *qcode = it->qcode, *qfield = it->field;
        char why[600];
        snprintf(why, sizeof why, "%s", it->reason);
        if (!qcode) {
            /* a lead needs an address: say so now rather than after ingest */
            const json_t *fields = json_object_get(ho_msg_payload(it->msg), "fields");
            const char *raw = json_string_value(json_object_get(fields, "email"));
            char *email = raw ? ho_norm_email(raw) : NULL;
            const char *sid = json_string_value(
                json_object_get(json_object_get(ho_msg_payload(it->msg), "source_ref"), "id"));
            if (!email || !email[0]) {
                qcode = "missing_email", qfield = "email";
                snprintf(why, sizeof why, "%s submission %s: no email address",
                         ho_form_shape_source(res.shape), sid ? sid : "");
            } else if (!ho_norm_email_valid(email)) {
                qcode = "bad_email", qfield = "email";
                snprintf(why, sizeof why, "%s submission %s: \"%.200s\" is not an email address",
                         ho_form_shape_source(res.shape), sid ? sid : "", raw);
            }
            free(email);
        }
        if (qcode) {
            ho_msg_t *q = ho_form_quarantine(it->msg, "webhook", qcode, qfield, why);
            if (q && s_push(&b.bad, &b.n_bad, q) == 0 && !b.first_bad) {
                b.first_bad = b.bad[b.n_bad - 1];
            }
        } else {
            s_push(&b.good, &b.n_good, it->msg);
            it->msg = NULL;
        }
    }
    ho_form_result_clear(&res);
    if (skipped && b.n_good == 0 && b.n_bad == 0) {
        ho_info("%s status=200 skipped=%s", path, skipped);
        return ho_wh_json(a, MHD_HTTP_OK,
                          json_pack("{s:s, s:s}", "status", "skipped", "code", skipped), NULL);
    }
    ret = s_deliver(self, a, &b, "ingest", path);
    s_batch_free(&b);
    return ret;
}

static enum MHD_Result s_feedback(ho_webhook_t *self, ho_wh_answer_t *a, s_req_t *rq,
                                  const char *path)
{
    enum MHD_Result ret = MHD_NO;
    json_t *doc = s_parse(a, rq, &ret);
    if (!doc) {
        return ret;
    }
    bool was_array = json_is_array(doc);
    json_t *list = was_array ? json_incref(doc) : json_pack("[O]", doc);
    json_decref(doc);
    size_t n = json_array_size(list);
    if (n == 0 || n > 1000) {
        json_decref(list);
        return ho_wh_error(a, MHD_HTTP_BAD_REQUEST, "body",
                           "expected one outcome object or an array of 1..1000 of them");
    }
    for (size_t i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(list, i))) {
            json_decref(list);
            char field[32];
            snprintf(field, sizeof field, "[%zu]", i);
            return ho_wh_error(a, MHD_HTTP_BAD_REQUEST, field,
                               "%s: expected an object {feedback_id, email, outcome, reason, "
                               "occurred_at, notes, amount}",
                               was_array ? field : "body");
        }
    }
    s_batch_t b = {0};
    for (size_t i = 0; i < n; i++) {
        ho_msg_t *m = ho_wh_feedback_raw(json_array_get(list, i), i);
        if (!m) {
            continue;
        }
        ho_msg_t *o = NULL;
        ho_feedback_refusal_t why;
        if (ho_feedback_validate(self->reasons, m, &o, &why) != HO_OK) {
            ho_msg_t *q = ho_form_quarantine(m, "webhook", why.code, why.field, why.reason);
            if (q && s_push(&b.bad, &b.n_bad, q) == 0 && !b.first_bad) {
                b.first_bad = b.bad[b.n_bad - 1];
            }
            ho_msg_destroy(&m);
        } else {
            ho_msg_destroy(&o);
            s_push(&b.good, &b.n_good, m);
        }
    }
    json_decref(list);
    ret = s_deliver(self, a, &b, "feedback", path);
    s_batch_free(&b);
    return ret;
}

static enum MHD_Result s_get(ho_webhook_t *self, ho_wh_answer_t *a, s_route_t route)
{
    if (route == R_HEALTH) { /* never waits on the broker: the last counts it gave */
        pthread_mutex_lock(&self->mu);
        bool accepting = !self->shedding;
        json_int_t backlog = (json_int_t)(self->backlog + self->forwarded);
        json_int_t shed = (json_int_t)self->shed;
        pthread_mutex_unlock(&self->mu);
        json_int_t requests = (json_int_t)__atomic_load_n(&self->requests, __ATOMIC_RELAXED);
        return ho_wh_json(a, MHD_HTTP_OK,
                          json_pack("{s:s, s:I, s:b, s:I, s:I}", "status", "ok", "requests",
                                    requests, "accepting", accepting, "backlog", backlog,
                                    "refused_backlog", shed),
                          NULL);
    }
    if (route == R_METRICS) { /* the feed's last snapshot: never waits on the broker */
        ho_metrics_feed_t *feed = __atomic_load_n(&self->metrics, __ATOMIC_ACQUIRE);
        if (!feed) {
            return ho_wh_error(a, MHD_HTTP_NOT_FOUND, "",
                               "metrics are off (metrics_refresh_ms: 0)");
        }
        char *text = ho_metrics_feed_text(feed);
        if (!text) {
            return ho_wh_error(a, MHD_HTTP_SERVICE_UNAVAILABLE, "",
                               "first metrics snapshot not taken yet");
        }
        enum MHD_Result ret =
            ho_wh_send(a, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, NULL);
        free(text);
        return ret;
    }
    /* Facebook's subscription handshake */
    const char *mode = MHD_lookup_connection_value(a->c, MHD_GET_ARGUMENT_KIND, "hub.mode");
    const char *token =
        MHD_lookup_connection_value(a->c, MHD_GET_ARGUMENT_KIND, "hub.verify_token");
    const char *challenge =
        MHD_lookup_connection_value(a->c, MHD_GET_ARGUMENT_KIND, "hub.challenge");
    if (!mode || strcmp(mode, "subscribe") != 0 || !challenge) {
        return ho_wh_error(a, MHD_HTTP_BAD_REQUEST, mode ? "hub.challenge" : "hub.mode",
                           "expected hub.mode=subscribe, hub.verify_token and hub.challenge");
    }
    if (!ho_webhook_secret_equal(token, self->set.facebook_verify_token)) {
        ho_warn("facebook verify handshake with a wrong token");
        return ho_wh_error(a, MHD_HTTP_FORBIDDEN, "hub.verify_token",
                           "verify token does not match");
    }
    ho_info("facebook subscription verified");
    return ho_wh_send(a, MHD_HTTP_OK, "text/plain", challenge, NULL);
}

/* ---- the requests that wait on the broker ---- */

/* A sender's part of a POST (senders.c calls it): the backlog check, then the mapping and the
 * broker request; the answer is kept in the request and its connection resumed, so that the
 * handler, called again, queues it. */
static void s_send(void *arg, void *item)
{
    ho_webhook_t *self = arg;
    s_req_t *rq = item;
    ho_wh_answer_t *a = &rq->answer; /* kept: queued by the connection's thread */
    enum MHD_Result ret = MHD_NO;
    if (s_admit(self, a, rq->url, &ret) == 0) {
        if (rq->route == R_FEEDBACK) {
            s_feedback(self, a, rq, rq->url);
        } else {
            s_form(self, a, rq, rq->url);
        }
    }
    rq->answered = true;
    MHD_resume_connection(rq->conn);
}

/* Hand a POST to the senders: suspend its connection (this thread goes on serving the others)
 * and queue it. Not taken (a stopping server): 503, through the same resume. */
static enum MHD_Result s_hand_over(ho_webhook_t *self, struct MHD_Connection *c, s_req_t *rq,
                                   const char *url)
{
    rq->url = strdup(url);
    if (!rq->url) {
        return MHD_NO;
    }
    rq->conn = c;
    MHD_suspend_connection(c); /* before a sender can resume it */
    if (ho_wh_senders_push(self->senders, rq) != 0) {
        ho_info("%s status=503 not taken (stopping)", url);
        ho_wh_error(&rq->answer, MHD_HTTP_SERVICE_UNAVAILABLE, "", "the server is stopping");
        rq->answered = true;
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    ho_webhook_t *self = cls;
    s_req_t *rq = *con_cls;
    ho_wh_answer_t now = {.c = c}, *a = &now; /* answers queued at once, in this thread */
    if (rq && rq->answered) {                 /* resumed: the sender's answer */
        return ho_wh_queue(c, &rq->answer);
    }
    if (!rq) {
        __atomic_fetch_add(&self->requests, 1, __ATOMIC_RELAXED);
        int i = s_find_route(url);
        if (i < 0) {
            return ho_wh_error(a, MHD_HTTP_NOT_FOUND, "", "no such endpoint");
        }
        s_route_t route = s_routes[i].route;
        bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
        bool allowed =
            (get && (route == R_HEALTH || route == R_METRICS || route == R_FACEBOOK)) ||
            (post && route != R_HEALTH && route != R_METRICS);
        if (!allowed) {
            json_t *body = json_pack("{s:s, s:s}", "error", "method not allowed", "field", "");
            return ho_wh_json(a, MHD_HTTP_METHOD_NOT_ALLOWED, body, s_routes[i].allow);
        }
        if (get) {
            return s_get(self, a, route);
        }
        const char *cl = ho_wh_header(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > (unsigned long long)self->set.body_limit) {
            return ho_wh_error(a, MHD_HTTP_CONTENT_TOO_LARGE, "body",
                               "body of %s bytes is over the limit of %lld", cl,
                               self->set.body_limit);
        }
        rq = calloc(1, sizeof *rq);
        if (!rq) {
            return MHD_NO;
        }
        rq->route = route;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* past the limit (a chunked body says no length up front): read on, keep nothing */
        if (!rq->too_large) {
            if (rq->len + *upload_size > (size_t)self->set.body_limit) {
                rq->too_large = true;
                free(rq->buf);
                rq->buf = NULL;
                rq->len = rq->cap = 0;
            } else {
                if (rq->len + *upload_size + 1 > rq->cap) {
                    size_t cap = rq->cap ? rq->cap : 4096;
                    while (cap < rq->len + *upload_size + 1) {
                        cap *= 2;
                    }
                    char *g = realloc(rq->buf, cap);
                    if (!g) {
                        return MHD_NO;
                    }
                    rq->buf = g;
                    rq->cap = cap;
                }
                memcpy(rq->buf + rq->len, upload, *upload_size);
                rq->len += *upload_size;
                rq->buf[rq->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_large) {
        return ho_wh_error(a, MHD_HTTP_CONTENT_TOO_LARGE, "body",
                           "body is over the limit of %lld bytes", self->set.body_limit);
    }
    enum MHD_Result ret = MHD_NO;
    if (s_auth(self, a, rq, &ret) != 0) {
        ho_info("%s status=401", url);
        return ret;
    }
    return s_hand_over(self, c, rq, url); /* the rest may wait on the broker */
}

static void s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    s_req_t *rq = *con_cls;
    if (rq) {
        ho_wh_answer_clear(&rq->answer);
        free(rq->buf);
        free(rq->url);
        free(rq);
        *con_cls = NULL;
    }
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    ho_debug("microhttpd: %s", line);
}

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

static int s_resolve(const char *config_dir, const char *name, char *out, size_t cap)
{
    if (!name || !name[0]) {
        return -1;
    }
    if (name[0] == '/' || !config_dir) {
        snprintf(out, cap, "%s", name);
    } else {
        snprintf(out, cap, "%s/%s", config_dir, name);
    }
    return 0;
}

ho_webhook_t *ho_webhook_new(const ho_webhook_settings_t *s, const char *config_dir,
                             const char *endpoint, const ho_client_opts_t *copts, ho_err_t *err)
{
    ho_webhook_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    self->set = *s;
    self->set.listen = s_dup(s->listen);
    self->set.linkedin_forms = s_dup(s->linkedin_forms);
    self->set.reasons = s_dup(s->reasons);
    self->set.facebook_app_secret = s_dup(s->facebook_app_secret);
    self->set.facebook_verify_token = s_dup(s->facebook_verify_token);
    self->set.linkedin_secret = s_dup(s->linkedin_secret);
    self->set.hubspot_secret = s_dup(s->hubspot_secret);
    self->set.typeform_secret = s_dup(s->typeform_secret);
    self->set.form_secret = s_dup(s->form_secret);
    self->set.feedback_token = s_dup(s->feedback_token);
    self->set.tls_cert = s_dup(s->tls_cert);
    self->set.tls_key = s_dup(s->tls_key);
    self->endpoint = s_dup(endpoint);
    if (copts) {
        self->copts = *copts;
    }
    self->copts.window = 1;
    self->copts.timeout_ms = (int)s->broker_timeout_ms;
    self->copts.retries = -1; /* no resend: the webhook sender retries, we answer 503 */
    self->have_mu = pthread_mutex_init(&self->mu, NULL) == 0;
    if (!self->have_mu) {
        ho_err_set(err, HO_ERR_NOMEM, "", "cannot create the request threads' state");
        goto fail;
    }
    self->senders =
        ho_wh_senders_new((int)s->threads, self->endpoint, &self->copts, s_send, self, err);
    if (!self->senders) {
        goto fail;
    }

    char path[4096];
    if (s_resolve(config_dir, s->linkedin_forms, path, sizeof path) == 0) {
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            self->linkedin = ho_linkedin_forms_load(path, err);
            if (!self->linkedin) {
                goto fail;
            }
        } else {
            ho_warn("no LinkedIn form definitions at %s: LinkedIn posts get 422", path);
        }
    }
    self->reasons = ho_reasons_load(config_dir, s->reasons, err);
    if (!self->reasons) {
        goto fail;
    }

    /* listen = host:port (IPv4) */
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const char *colon = strrchr(s->listen ? s->listen : "", ':');
    char host[256];
    if (!colon || (size_t)(colon - s->listen) >= sizeof host) {
        ho_err_set(err, HO_ERR_CONFIG, "listen", "listen: expected ADDRESS:PORT, got \"%s\"",
                   s->listen ? s->listen : "");
        goto fail;
    }
    memcpy(host, s->listen, (size_t)(colon - s->listen));
    host[colon - s->listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 ||
        inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &addr.sin_addr) !=
            1) {
        ho_err_set(err, HO_ERR_CONFIG, "listen",
                   "listen: expected an IPv4 ADDRESS:PORT, got \"%s\"", s->listen);
        goto fail;
    }
    addr.sin_port = htons((uint16_t)port);
    if (s->tls_cert && *s->tls_cert) {
        char cert[4096], key[4096];
        if (s_resolve(config_dir, s->tls_cert, cert, sizeof cert) != 0 ||
            s_resolve(config_dir, s->tls_key ? s->tls_key : "", key, sizeof key) != 0 ||
            !(self->tls = ho_tls_new(cert, key, err))) {
            if (!err || !err->message[0]) {
                ho_err_set(err, HO_ERR_CONFIG, "tls_key", "tls_cert and tls_key go together");
            }
            goto fail;
        }
    }
    struct MHD_OptionItem tls_opts[2];
    ho_tls_mhd_options(self->tls, tls_opts);
    self->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG | ho_tls_mhd_flags(self->tls),
        0, NULL, NULL, s_handler, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)s->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)s->connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)s->connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)s->per_ip_limit, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!self->daemon) {
        ho_err_set(err, HO_ERR_IO, "listen", "cannot listen on %s: %s", s->listen,
                   strerror(errno ? errno : EADDRINUSE));
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (info && getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) == 0) {
        self->port = ntohs(bound.sin_port);
    } else {
        self->port = (int)port;
    }
    return self;
fail:
    ho_webhook_destroy(&self);
    return NULL;
}

int ho_webhook_port(const ho_webhook_t *self)
{
    return self ? self->port : -1;
}

void ho_webhook_set_metrics(ho_webhook_t *self, ho_metrics_feed_t *feed)
{
    __atomic_store_n(&self->metrics, feed, __ATOMIC_RELEASE);
}

void ho_webhook_destroy(ho_webhook_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_webhook_t *self = *self_p;
    /* first the senders, which answer and resume every POST they have: MHD must not stop
     * with a connection suspended (later POSTs are answered 503 at once) */
    ho_wh_senders_stop(self->senders);
    if (self->daemon) {
        MHD_stop_daemon(self->daemon);
    }
    ho_wh_senders_destroy(&self->senders);
    if (self->have_mu) {
        pthread_mutex_destroy(&self->mu);
    }
    ho_linkedin_forms_destroy(&self->linkedin);
    ho_reasons_destroy(&self->reasons);
    ho_tls_destroy(&self->tls);
    ho_webhook_settings_free(&self->set);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}
