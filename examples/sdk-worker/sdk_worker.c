/* sdk_worker.c - a handoff worker written outside the handoff tree, in C, against the
 * installed worker SDK (libhandoff + include/handoff/{worker,runtime,msg}.h).
 *
 * It registers as the service `domain` (or --service NAME) and answers every envelope with a
 * `lead.domain` envelope of the same event id carrying {email, domain}; a record without an
 * email address goes to the quarantine (ho_out_quarantine) and the others still go through.
 *
 *   make                                   # cc sdk_worker.c $(pkg-config --cflags --libs handoff)
 *   ./sdk-worker --connect tcp://127.0.0.1:5570
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <handoff/runtime.h>
#include <handoff/worker.h>

/* The part after '@', lower-cased, or NULL when there is none. */
static char *s_domain(const char *email)
{
    const char *at = email ? strrchr(email, '@') : NULL;
    if (!at || !at[1]) {
        return NULL;
    }
    char *d = strdup(at + 1);
    for (char *p = d; d && *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        json_t *fields = json_object_get(ho_msg_payload(in[i]), "fields");
        const char *email = json_string_value(json_object_get(fields, "email"));
        char *domain = s_domain(email);
        if (!domain) {
            /* a bad record is kept, with a reason, never dropped */
            if (ho_out_quarantine(out, in[i], "domain", "missing_email", "fields.email",
                                  "no email address to take the domain of") != HO_OK) {
                return HO_WORKER_RETRY;
            }
            continue;
        }
        ho_msg_t *reply = ho_msg_new("lead.domain");
        if (!reply) {
            free(domain);
            return HO_WORKER_RETRY;
        }
        ho_msg_set_id(reply, ho_msg_id(in[i])); /* same event id: idempotent downstream */
        ho_msg_set_ts(reply, ho_msg_ts(in[i]));
        ho_msg_set_payload(reply, json_pack("{s:s, s:s}", "email", email, "domain", domain));
        free(domain);
        if (ho_out_emit(out, &reply) != HO_OK) {
            ho_msg_destroy(&reply);
            return HO_WORKER_RETRY;
        }
    }
    return HO_WORKER_OK;
}

static void s_ready(void *arg)
{
    printf("sdk worker ready service=%s\n", (const char *)arg);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5570", *service = "domain";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc) {
            service = argv[++i];
        } else {
            fprintf(stderr, "usage: sdk-worker [--connect ENDPOINT] [--service NAME]\n");
            return 2;
        }
    }
    const ho_worker_def_t def = {
        .name = service,
        .description = "email domain of each lead (SDK example)",
        .cb_handle = s_handle,
    };
    ho_runtime_opts_t opts = {
        .endpoint = endpoint,
        .on_ready = s_ready,
        .ready_arg = (void *)service,
    };
    /* Runs until SIGINT/SIGTERM; says DISCONNECT to the broker on the way out. */
    return ho_worker_run(&def, &opts);
}
