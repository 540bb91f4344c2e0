/* tls.h - HTTPS for the webhook server (private to src/connectors/webhook): the certificate
 * chain and key from files, handed to GnuTLS by libmicrohttpd's certificate callback, and
 * re-read after SIGHUP (at the next handshake; a reload that fails keeps the old pair).
 * One TLS context per process (GnuTLS's callback carries no user pointer). */
#ifndef HO_WEBHOOK_TLS_H
#define HO_WEBHOOK_TLS_H

#include <microhttpd.h>

#include "handoff/msg.h"

typedef struct ho_tls ho_tls_t;

/* Load cert (PEM chain) and key (PEM) and install the SIGHUP handler. NULL with err naming
 * the file on failure. */
ho_tls_t *ho_tls_new(const char *cert_path, const char *key_path, ho_err_t *err);
void ho_tls_destroy(ho_tls_t **self_p);
/* MHD start flag and options (MHD_OPTION_ARRAY items ending in MHD_OPTION_END) serving self;
 * for self == NULL: no flag and just the end marker. out needs 2 items. */
unsigned ho_tls_mhd_flags(const ho_tls_t *self);
void ho_tls_mhd_options(const ho_tls_t *self, struct MHD_OptionItem out[2]);
/* Certificate reloads done since start (tests, logs). */
unsigned long ho_tls_reloads(const ho_tls_t *self);

#endif
