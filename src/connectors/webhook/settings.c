/* settings.c - webhook.yaml: ho_webhook_settings_load and its config map ho_webhook_config
 * (keys, defaults, meanings): listen address, limits, secrets (env:NAME read from the
 * environment), TLS files; see webhook.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/defaults.h"
#include "handoff/webhook.h"

/* ---- settings ---- */

const ho_config_map_t ho_webhook_config[] = {
    {HO_CFG_STR, "listen", "127.0.0.1:8080", offsetof(ho_webhook_settings_t, listen),
     "address:port to bind (port 0 = any free port)"},
    {HO_CFG_INT, "body_limit", "1048576", offsetof(ho_webhook_settings_t, body_limit),
     "largest request body in bytes (413 above)"},
    {HO_CFG_INT, "broker_timeout_ms", "5000", offsetof(ho_webhook_settings_t, broker_timeout_ms),
     "wait for the broker this long before answering 503"},
    {HO_CFG_INT, "max_backlog", "100", offsetof(ho_webhook_settings_t, max_backlog),
     "answer 503 while more requests than this wait in the broker (0 = off)"},
    {HO_CFG_INT, "retry_after_s", "5", offsetof(ho_webhook_settings_t, retry_after_s),
     "Retry-After seconds of a backlog 503"},
    {HO_CFG_INT, "threads", "4", offsetof(ho_webhook_settings_t, threads),
     "HTTP threads, and as many sender threads; a POST waiting on the broker holds a sender, "
     "/healthz never waits"},
    {HO_CFG_INT, "connection_limit", "1024", offsetof(ho_webhook_settings_t, connection_limit),
     "open connections at most"},
    {HO_CFG_INT, "per_ip_limit", "32", offsetof(ho_webhook_settings_t, per_ip_limit),
     "open connections from one address at most (slowloris)"},
    {HO_CFG_INT, "connection_timeout_s", "10",
     offsetof(ho_webhook_settings_t, connection_timeout_s),
     "close a connection that sends nothing for this long"},
    {HO_CFG_INT, "metrics_refresh_ms", "5000", offsetof(ho_webhook_settings_t, metrics_refresh_ms),
     "GET /metrics serves a snapshot taken this often in the background (0 = no /metrics)"},
    {HO_CFG_BOOL, "allow_unsigned", "false", offsetof(ho_webhook_settings_t, allow_unsigned),
     "endpoints without a secret accept unsigned posts"},
    {HO_CFG_STR, "linkedin_forms", "linkedin_lead_forms.json",
     offsetof(ho_webhook_settings_t, linkedin_forms), "LinkedIn leadForms JSON"},
    {HO_CFG_STR, "reasons", "reasons.yaml", offsetof(ho_webhook_settings_t, reasons),
     "reason taxonomy"},
    {HO_CFG_STR, "facebook_app_secret", NULL, offsetof(ho_webhook_settings_t, facebook_app_secret),
     "Facebook app secret (X-Hub-Signature-256)"},
    {HO_CFG_STR, "facebook_verify_token", NULL,
     offsetof(ho_webhook_settings_t, facebook_verify_token), "verify token of the GET handshake"},
    {HO_CFG_STR, "linkedin_secret", NULL, offsetof(ho_webhook_settings_t, linkedin_secret),
     "LinkedIn client secret (X-LI-Signature)"},
    {HO_CFG_STR, "hubspot_secret", NULL, offsetof(ho_webhook_settings_t, hubspot_secret),
     "X-Handoff-Secret of /webhooks/hubspot"},
    {HO_CFG_STR, "typeform_secret", NULL, offsetof(ho_webhook_settings_t, typeform_secret),
     "Typeform webhook secret (Typeform-Signature)"},
    {HO_CFG_STR, "form_secret", NULL, offsetof(ho_webhook_settings_t, form_secret),
     "X-Handoff-Secret of /webhooks/form"},
    {HO_CFG_STR, "feedback_token", NULL, offsetof(ho_webhook_settings_t, feedback_token),
     "bearer token of /feedback"},
    {HO_CFG_STR, "tls_cert", NULL, offsetof(ho_webhook_settings_t, tls_cert),
     "PEM certificate chain: serve HTTPS (relative: config folder; reloaded on SIGHUP)"},
    {HO_CFG_STR, "tls_key", NULL, offsetof(ho_webhook_settings_t, tls_key),
     "PEM private key of tls_cert"},
    {0},
};

/* "env:NAME" -> the variable's value (a missing variable is an error: a silently empty
 * secret would turn signature checks off). */
static int s_env_secret(char **slot, const char *key, const char *origin, ho_err_t *err)
{
    if (!*slot || strncmp(*slot, "env:", 4) != 0) {
        return HO_OK;
    }
    const char *v = getenv(*slot + 4);
    if (!v) {
        return ho_err_set(err, HO_ERR_CONFIG, key, "%s: %s: environment variable %s is not set",
                          origin, key, *slot + 4);
    }
    char *copy = strdup(v);
    if (!copy) {
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    free(*slot);
    *slot = copy;
    return HO_OK;
}

int ho_webhook_settings_load(const char *config_dir, const char *path, ho_webhook_settings_t *s,
                             ho_err_t *err)
{
    memset(s, 0, sizeof *s);
    ho_conf_t *conf =
        path ? ho_conf_load(path, err) : ho_conf_load_named(config_dir, "webhook.yaml", err);
    if (!conf) {
        return err->code ? err->code : HO_ERR_CONFIG;
    }
    int rc = ho_config_map_apply(conf, ho_conf_root(conf), ho_webhook_config, s, err);
    struct {
        char **slot;
        const char *key;
    } secrets[] = {
        {&s->facebook_app_secret, "facebook_app_secret"},
        {&s->facebook_verify_token, "facebook_verify_token"},
        {&s->linkedin_secret, "linkedin_secret"},
        {&s->hubspot_secret, "hubspot_secret"},
        {&s->typeform_secret, "typeform_secret"},
        {&s->form_secret, "form_secret"},
        {&s->feedback_token, "feedback_token"},
    };
    for (size_t i = 0; rc == HO_OK && i < sizeof secrets / sizeof secrets[0]; i++) {
        rc = s_env_secret(secrets[i].slot, secrets[i].key, ho_conf_name(conf), err);
    }
    if (rc == HO_OK && (s->body_limit < 1 || s->body_limit > 64LL * 1024 * 1024)) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "body_limit", "%s: body_limit: expected 1..67108864",
                        ho_conf_name(conf));
    }
    if (rc == HO_OK && (s->threads < 1 || s->threads > 64 || s->connection_limit < 8 ||
                        s->connection_limit > 65536 || s->per_ip_limit < 1 ||
                        s->connection_timeout_s < 1 || s->connection_timeout_s > 3600)) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "threads",
                        "%s: expected threads 1..64, connection_limit 8..65536, per_ip_limit >= 1, "
                        "connection_timeout_s 1..3600",
                        ho_conf_name(conf));
    }
    if (rc == HO_OK && s->broker_timeout_ms < 100) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "broker_timeout_ms",
                        "%s: broker_timeout_ms: expected at least 100", ho_conf_name(conf));
    }
    if (rc == HO_OK && (s->max_backlog < 0 || s->max_backlog > 1000000)) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "max_backlog",
                        "%s: max_backlog: expected 0 (off) .. 1000000", ho_conf_name(conf));
    }
    if (rc == HO_OK && (s->retry_after_s < 1 || s->retry_after_s > 3600)) {
        rc = ho_err_set(err, HO_ERR_CONFIG, "retry_after_s", "%s: retry_after_s: expected 1..3600",
                        ho_conf_name(conf));
    }
    ho_conf_destroy(&conf);
    if (rc != HO_OK) {
        ho_webhook_settings_free(s);
    }
    return rc;
}

void ho_webhook_settings_free(ho_webhook_settings_t *s)
{
    ho_config_map_free(ho_webhook_config, s);
}
