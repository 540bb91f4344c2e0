/* webhook_cmd.c - `handoff webhook`: run the form-webhook and feedback HTTP server
 * (src/connectors/webhook/server.c) until SIGINT/SIGTERM. */
#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/metrics.h"
#include "handoff/webhook.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: handoff webhook [--listen ADDR:PORT] [--connect ENDPOINT] [-c CONFIG]\n"
        "                       [--settings FILE] [--max-backlog N]\n"
        "\n"
        "HTTP server for lead-form webhooks and sales feedback. Each submission is mapped\n"
        "to lead.raw (feedback to feedback.raw) and sent through the broker; the sender\n"
        "gets 202 only once the broker has taken it (and journaled what it caused: a 202\n"
        "is never lost), 503 when it cannot, and 503 with Retry-After while the pipeline\n"
        "is backed up (more than max_backlog requests queued in the broker for workers,\n"
        "e.g. a slow store; form vendors retry on 5xx).\n"
        "\n"
        "  GET  /healthz               liveness\n"
        "  GET  /metrics               Prometheus text of `handoff metrics`, from a snapshot\n"
        "                              refreshed every metrics_refresh_ms (webhook.yaml)\n"
        "  GET  /webhooks/facebook     subscription handshake (hub.verify_token)\n"
        "  POST /webhooks/facebook     Lead object or leadgen notification (X-Hub-Signature-256)\n"
        "  POST /webhooks/linkedin     leadFormResponses element (X-LI-Signature)\n"
        "  POST /webhooks/hubspot      Forms v3 submission (X-Handoff-Secret)\n"
        "  POST /webhooks/typeform     form_response event (Typeform-Signature)\n"
        "  POST /webhooks/form         plain JSON {email, first_name, ...} (X-Handoff-Secret)\n"
        "  POST /feedback              sales outcome(s) (Authorization: Bearer TOKEN)\n"
        "\n"
        "  --listen A:P     address to bind (default: listen of webhook.yaml; port 0 = any)\n"
        "  --connect EP     broker endpoint (default: broker.endpoint of the config)\n"
        "  -c, --config F   gateway config (handoff.yaml); webhook.yaml is read next to it\n"
        "  --settings F     a webhook.yaml elsewhere\n"
        "  --max-backlog N  answer 503 + Retry-After (retry_after_s) while more than N\n"
        "                   requests wait in the broker's queues; polled at most every\n"
        "                   200 ms (default: max_backlog of webhook.yaml, 100; 0 = off)\n"
        "\n"
        "Prints `webhook listening=ADDR:PORT broker=ENDPOINT` on stdout once it accepts\n"
        "connections. Settings, secrets and answers: deploy/webhook.yaml.\n");
}

int ho_cmd_webhook(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"connect", required_argument, NULL, HO_CLI_OPT_CONNECT},
        {"config", required_argument, NULL, HO_CLI_OPT_CONFIG},
        {"settings", required_argument, NULL, 's'},
        {"max-backlog", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ho_cli_env_t env = {.cmd = "webhook"};
    const char *listen = NULL, *settings = NULL;
    long long max_backlog = -1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (ho_cli_env_option(&env, c, optarg)) {
            continue;
        }
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 's':
            settings = optarg;
            break;
        case 'b': {
            char *end = NULL;
            max_backlog = strtoll(optarg, &end, 10);
            if (!optarg[0] || !end || *end || max_backlog < 0 || max_backlog > 1000000) {
                fprintf(stderr, "handoff webhook: --max-backlog: expected 0..1000000, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "handoff webhook: unexpected argument \"%s\"\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }
    ho_log_set_component("webhook");
    ho_err_t err = {0};
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    ho_webhook_settings_t set;
    if (ho_webhook_settings_load(ho_gateway_config_dir(gw), settings, &set, &err) != HO_OK) {
        fprintf(stderr, "handoff webhook: %s\n", err.message);
        ho_cli_env_close(&env);
        return 1;
    }
    if (max_backlog >= 0) {
        set.max_backlog = max_backlog;
    }
    if (listen) {
        free(set.listen);
        set.listen = strdup(listen);
    }
    ho_client_opts_t copts = {0};
    ho_client_opts_curve(&copts, gw);
    const char *ep = ho_gateway_endpoint(gw);
    /* czmq would install its own handler when the first socket is made (in the server
     * thread); keep ours, and watch both flags */
    setenv("ZSYS_SIGHANDLER", "false", 1);
    ho_cli_on_stop_signals(s_on_signal);
    ho_metrics_feed_t *feed = NULL;
    ho_webhook_t *w = ho_webhook_new(&set, ho_gateway_config_dir(gw), ep, &copts, &err);
    int rc = 1;
    if (!w) {
        fprintf(stderr, "handoff webhook: %s\n", err.message);
        goto done;
    }
    /* /metrics: the same text as `handoff metrics`, from a snapshot a background thread
     * refreshes, so request threads (and /healthz) never wait on a stalled broker */
    if (set.metrics_refresh_ms > 0) {
        char outbox[4096];
        ho_cli_env_worker_path(&env, "outbox", "dir", "outbox", outbox, sizeof outbox);
        ho_metrics_opts_t mo = {.data_dir = ho_gateway_data_dir(gw), .outbox_dir = outbox};
        feed = ho_metrics_feed_new(ep, &copts, &mo, (int)set.metrics_refresh_ms, 1000, &err);
        if (!feed) {
            fprintf(stderr, "handoff webhook: %s\n", err.message);
            goto done;
        }
        ho_webhook_set_metrics(w, feed);
    }
    const char *colon = strrchr(set.listen, ':');
    printf("webhook listening=%.*s:%d broker=%s\n", (int)(colon - set.listen), set.listen,
           ho_webhook_port(w), ep);
    fflush(stdout);
    ho_info("listening on port %d, broker %s", ho_webhook_port(w), ep);
    while (!s_stop && !zsys_interrupted) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ho_info("stopping");
    ho_webhook_destroy(&w);
    rc = 0;
done:
    ho_webhook_destroy(&w);
    ho_metrics_feed_destroy(&feed);
    ho_webhook_settings_free(&set);
    ho_cli_env_close(&env);
    return rc;
}
