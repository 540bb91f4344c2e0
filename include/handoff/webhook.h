/*
 * webhook.h - `handoff webhook`: the HTTP server that takes form webhooks and sales feedback
 * and hands them to the broker (libmicrohttpd: `threads` HTTP threads that never wait on the
 * broker, and `threads` sender threads that take the POSTs to it; server.c).
 *
 *   GET  /healthz                 200 {"status":"ok"}
 *   GET  /webhooks/facebook       verify handshake: hub.mode=subscribe, hub.verify_token,
 *                                 hub.challenge -> the challenge (wrong token: 403)
 *   POST /webhooks/facebook       X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>
 *   POST /webhooks/linkedin       X-LI-Signature: [hmacsha256=]<hex HMAC(client secret, body)>
 *   POST /webhooks/hubspot        X-Handoff-Secret: <hubspot_secret>
 *   POST /webhooks/typeform       Typeform-Signature: sha256=<base64 HMAC(secret, body)>
 *   POST /webhooks/form           X-Handoff-Secret: <form_secret> (plain JSON form)
 *   POST /feedback                Authorization: Bearer <feedback_token>; one outcome object
 *                                 or an array of them (fields of feedback.raw)
 *
 * Answers: 202 {status:"accepted", event_id[, event_ids][, outcome_ids]} only after the broker
 * has answered the request (lead.raw to `ingest`, feedback.raw to `feedback`; outcome_ids =
 * the lead.outcome ids the feedback worker made); 503 when the broker does not answer in
 * time; 503 with Retry-After (before anything is sent) while more than max_backlog requests
 * wait in the broker's queues for services with workers (a slow store): the broker status is
 * read at most every 200 ms, the submissions forwarded since are added to it, and once over
 * the limit the server refuses until the estimate is down to half; 401 bad/missing
 * signature or token; 400 {error, field} for a body that is not JSON
 * or not a form of that source; 422 {error, code, field, event_id} for a submission that
 * cannot be a lead or outcome (no email, leadgen id only, unknown reason ...), after it was
 * sent to the quarantine (service `store`); 413 over body_limit (not buffered past the
 * limit); 404 unknown path; 405 wrong method.
 *
 * Ownership: settings filled by ho_webhook_settings_load are released with
 * ho_webhook_settings_free; the server with ho_webhook_destroy (&w).
 */
#ifndef HO_WEBHOOK_H
#define HO_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "handoff/client.h"
#include "handoff/conf.h"
#include "handoff/msg.h"

/* deploy/webhook.yaml. A secret written as "env:NAME" is read from the environment. */
typedef struct {
    char *listen;                   /* "127.0.0.1:8080"; port 0 = any free port */
    long long body_limit;           /* bytes; larger bodies get 413 */
    long long broker_timeout_ms;    /* wait for the broker's answer before 503 */
    long long max_backlog;          /* 503 + Retry-After above this many queued requests; 0 = off */
    long long retry_after_s;        /* Retry-After of those 503 answers, seconds */
    long long threads;              /* HTTP threads, and as many senders (a POST waiting on
                                     * the broker holds a sender, never an HTTP thread) */
    long long connection_limit;     /* open connections at most */
    long long per_ip_limit;         /* open connections from one address at most */
    long long connection_timeout_s; /* close a connection idle this long */
    bool allow_unsigned;            /* endpoints without a configured secret accept anything */
    long long metrics_refresh_ms;   /* /metrics snapshot taken this often; 0 = no /metrics */
    char *linkedin_forms;           /* LinkedIn leadForms JSON (relative: config folder) */
    char *reasons;                  /* reason taxonomy for /feedback pre-checks */
    char *facebook_app_secret;
    char *facebook_verify_token;
    char *linkedin_secret;
    char *hubspot_secret;
    char *typeform_secret;
    char *form_secret;
    char *feedback_token;
    char *tls_cert; /* PEM chain: serve HTTPS; relative to the config folder; SIGHUP reloads */
    char *tls_key;  /* PEM private key of tls_cert */
} ho_webhook_settings_t;

extern const ho_config_map_t ho_webhook_config[];

/* Load `path` if given, else <config_dir>/webhook.yaml or the built-in copy. */
int ho_webhook_settings_load(const char *config_dir, const char *path, ho_webhook_settings_t *s,
                             ho_err_t *err);
void ho_webhook_settings_free(ho_webhook_settings_t *s);

/* ---- signatures (constant-time compares, libsodium HMAC-SHA256) ---- */
typedef enum {
    HO_SIG_OK = 0,
    HO_SIG_MISSING = -1,   /* no header */
    HO_SIG_PREFIX = -2,    /* not the expected "sha256=" prefix */
    HO_SIG_MALFORMED = -3, /* not hex/base64 of 32 bytes */
    HO_SIG_MISMATCH = -4,  /* a well-formed signature of something else */
} ho_sig_rc_t;

const char *ho_sig_strerror(int rc);
/* header = prefix + hex(HMAC-SHA256(secret, body)); prefix may be NULL or "" (none) and is
 * optional when `optional_prefix`. */
int ho_webhook_verify_hex(const char *secret, const void *body, size_t len, const char *header,
                          const char *prefix, bool optional_prefix);
/* header = prefix + base64(HMAC-SHA256(secret, body)) (Typeform). */
int ho_webhook_verify_base64(const char *secret, const void *body, size_t len, const char *header,
                             const char *prefix);
/* Shared secrets and bearer tokens, compared without leaking where they differ. */
bool ho_webhook_secret_equal(const char *given, const char *expected);
/* Hex of HMAC-SHA256(secret, body) into out (65 bytes), for tests and clients. */
void ho_webhook_hmac_hex(const char *secret, const void *body, size_t len, char out[65]);

/* ---- the server ---- */
typedef struct ho_webhook ho_webhook_t;

/* Start listening (MHD thread pool, and the sender threads). endpoint = the broker; copts may
 * be NULL. */
ho_webhook_t *ho_webhook_new(const ho_webhook_settings_t *s, const char *config_dir,
                             const char *endpoint, const ho_client_opts_t *copts, ho_err_t *err);
/* The bound port (useful with listen port 0). */
int ho_webhook_port(const ho_webhook_t *self);
/* Serve GET /metrics from feed's snapshot (borrowed: destroy the server first). Until it is
 * set, /metrics answers 404. */
struct ho_metrics_feed;
void ho_webhook_set_metrics(ho_webhook_t *self, struct ho_metrics_feed *feed);
void ho_webhook_destroy(ho_webhook_t **self_p);

#endif
