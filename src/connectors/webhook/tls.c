/* tls.c - the webhook server's certificate and key, reloadable on SIGHUP (tls.h). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "handoff/log.h"
#include "tls.h"

#define TLS_MAX_CHAIN 16

/* One loaded pair. Generations replaced by a reload stay allocated until the server stops:
 * a handshake that started with one may still use it. */
typedef struct s_gen {
    gnutls_pcert_st pcerts[TLS_MAX_CHAIN];
    unsigned n_pcerts;
    gnutls_privkey_t key;
    struct s_gen *older;
} s_gen_t;

struct ho_tls {
    char *cert_path;
    char *key_path;
    pthread_mutex_t mu;
    s_gen_t *current;
    unsigned long reloads;
};

static ho_tls_t *s_tls;             /* the process's one context (callback has no arg) */
static volatile sig_atomic_t s_hup; /* SIGHUP seen: reload at the next handshake */
static struct sigaction s_old_hup;

static void s_on_hup(int sig)
{
    (void)sig;
    s_hup = 1;
}

static void s_gen_free(s_gen_t *g)
{
    while (g) {
        s_gen_t *older = g->older;
        for (unsigned i = 0; i < g->n_pcerts; i++) {
            gnutls_pcert_deinit(&g->pcerts[i]);
        }
        if (g->key) {
            gnutls_privkey_deinit(g->key);
        }
        free(g);
        g = older;
    }
}

static s_gen_t *s_load(const char *cert_path, const char *key_path, ho_err_t *err)
{
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    s_gen_t *g = calloc(1, sizeof *g);
    int rc;
    if (!g) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    if ((rc = gnutls_load_file(cert_path, &cert)) < 0) {
        ho_err_set(err, HO_ERR_CONFIG, "tls_cert", "tls_cert: %s: %s", cert_path,
                   gnutls_strerror(rc));
        goto fail;
    }
    g->n_pcerts = TLS_MAX_CHAIN;
    if ((rc = gnutls_pcert_list_import_x509_raw(g->pcerts, &g->n_pcerts, &cert, GNUTLS_X509_FMT_PEM,
                                                0)) < 0) {
        g->n_pcerts = 0;
        ho_err_set(err, HO_ERR_CONFIG, "tls_cert", "tls_cert: %s: not a PEM certificate chain: %s",
                   cert_path, gnutls_strerror(rc));
        goto fail;
    }
    if ((rc = gnutls_load_file(key_path, &key)) < 0) {
        ho_err_set(err, HO_ERR_CONFIG, "tls_key", "tls_key: %s: %s", key_path, gnutls_strerror(rc));
        goto fail;
    }
    if ((rc = gnutls_privkey_init(&g->key)) < 0 ||
        (rc = gnutls_privkey_import_x509_raw(g->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        ho_err_set(err, HO_ERR_CONFIG, "tls_key", "tls_key: %s: not a PEM private key: %s",
                   key_path, gnutls_strerror(rc));
        goto fail;
    }
    gnutls_free(cert.data);
    gnutls_free(key.data);
    return g;
fail:
    gnutls_free(cert.data);
    gnutls_free(key.data);
    s_gen_free(g);
    return NULL;
}

/* gnutls_certificate_retrieve_function2, called by GnuTLS in the server thread per handshake. */
static int s_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    ho_tls_t *t = s_tls;
    if (!t) {
        return -1;
    }
    pthread_mutex_lock(&t->mu);
    if (s_hup) {
        s_hup = 0;
        ho_err_t err = {0};
        s_gen_t *g = s_load(t->cert_path, t->key_path, &err);
        if (g) {
            g->older = t->current;
            t->current = g;
            t->reloads++;
            ho_info("tls: reloaded certificate %s and key %s (reload %lu)", t->cert_path,
                    t->key_path, t->reloads);
        } else {
            ho_error("tls: reload failed, keeping the previous certificate: %s", err.message);
        }
    }
    *pcert = t->current->pcerts;
    *pcert_length = t->current->n_pcerts;
    *pkey = t->current->key;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

ho_tls_t *ho_tls_new(const char *cert_path, const char *key_path, ho_err_t *err)
{
    if (s_tls) {
        ho_err_set(err, HO_ERR_CONFIG, "tls_cert", "one HTTPS server per process");
        return NULL;
    }
    if (!cert_path || !*cert_path || !key_path || !*key_path) {
        ho_err_set(err, HO_ERR_CONFIG, cert_path && *cert_path ? "tls_key" : "tls_cert",
                   "tls_cert and tls_key go together (both PEM files)");
        return NULL;
    }
    if (!MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK)) {
        ho_err_set(err, HO_ERR_CONFIG, "tls_cert",
                   "this libmicrohttpd has no HTTPS certificate callback (built without GnuTLS)");
        return NULL;
    }
    ho_tls_t *t = calloc(1, sizeof *t);
    if (!t) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    t->cert_path = strdup(cert_path);
    t->key_path = strdup(key_path);
    pthread_mutex_init(&t->mu, NULL);
    if (!t->cert_path || !t->key_path || !(t->current = s_load(cert_path, key_path, err))) {
        ho_tls_destroy(&t);
        return NULL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_hup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, &s_old_hup);
    s_hup = 0;
    s_tls = t;
    return t;
}

void ho_tls_destroy(ho_tls_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_tls_t *t = *self_p;
    if (s_tls == t) {
        sigaction(SIGHUP, &s_old_hup, NULL);
        s_tls = NULL;
    }
    s_gen_free(t->current);
    pthread_mutex_destroy(&t->mu);
    free(t->cert_path);
    free(t->key_path);
    free(t);
    *self_p = NULL;
}

unsigned ho_tls_mhd_flags(const ho_tls_t *self)
{
    return self ? MHD_USE_TLS : 0;
}

void ho_tls_mhd_options(const ho_tls_t *self, struct MHD_OptionItem out[2])
{
    size_t n = 0;
    if (self) {
        out[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)s_retrieve};
    }
    out[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

unsigned long ho_tls_reloads(const ho_tls_t *self)
{
    return self ? self->reloads : 0;
}
