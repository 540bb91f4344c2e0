/* broker_cmd.c - `handoff broker`: run the hub (src/broker/broker.c) until SIGINT/SIGTERM. */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/broker.h"
#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/log.h"

#define S_MAX_BINDS 16

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff broker [-c PATH] [--bind ENDPOINT]... [--data-dir DIR]\n"
            "\n"
            "Run the broker: workers register for services, clients send requests, and each\n"
            "reply is routed to the next service by message type (routes: in handoff.yaml).\n"
            "Stops cleanly on SIGINT/SIGTERM. Protocol: proto/handoff-protocol.md.\n"
            "\n"
            "  -c, --config PATH     gateway config (default: $HANDOFF_CONFIG, ./deploy/handoff.yaml,\n"
            "                        built-in defaults)\n"
            "  -b, --bind ENDPOINT   endpoint to bind, repeatable: tcp://HOST:PORT (PORT * = any\n"
            "                        free port), ipc:///path (default: broker.endpoint and the\n"
            "                        list broker.bind of the config)\n"
            "      --data-dir DIR    data folder (default: data_dir of the config); holds the\n"
            "                        journal broker.journal (config broker.journal, \"\" or false\n"
            "                        = off): routed requests are fsynced there before the broker\n"
            "                        answers a client, and queued again after a restart\n"
            "  -h, --help            this help\n"
            "\n"
            "stdout: one 'bound endpoint=...' line per endpoint, then 'broker ready ...\n"
            "journal=PATH|off recovered=N' (N = requests loaded from the journal);\n"
            "on exit 'broker stopped requests=... replies=...'.\n");
}

/* No --bind: broker.endpoint, plus any extra endpoints listed under broker.bind. 0, or 1
 * after saying which entry is wrong. */
static int s_config_binds(const ho_gateway_t *gw, const char **binds, size_t *n_binds)
{
    binds[(*n_binds)++] = ho_gateway_endpoint(gw);
    const ho_node_t *extra =
        ho_node_get(ho_node_get(ho_conf_root(ho_gateway_conf(gw)), "broker"), "bind");
    if (extra && ho_node_kind(extra) == HO_NODE_SCALAR && ho_node_str(extra)[0]) {
        binds[(*n_binds)++] = ho_node_str(extra);
    }
    for (size_t i = 0; extra && ho_node_kind(extra) == HO_NODE_SEQ && i < ho_node_size(extra) &&
                       *n_binds < S_MAX_BINDS;
         i++) {
        const char *ep = ho_node_str(ho_node_at(extra, i));
        if (!ep || !ep[0]) {
            fprintf(stderr, "handoff broker: %s:%d: broker.bind[%zu]: expected an endpoint\n",
                    ho_gateway_path(gw), ho_node_line(ho_node_at(extra, i)), i);
            return 1;
        }
        binds[(*n_binds)++] = ep;
    }
    return 0;
}

int ho_cmd_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, HO_CLI_OPT_CONFIG},
        {"bind", required_argument, NULL, 'b'},
        {"data-dir", required_argument, NULL, HO_CLI_OPT_DATA_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    ho_cli_env_t env = {.cmd = "broker"};
    const char *binds[S_MAX_BINDS];
    size_t n_binds = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:b:h", opts, NULL)) != -1) {
        if (ho_cli_env_option(&env, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 'b':
            if (n_binds == S_MAX_BINDS) {
                fprintf(stderr, "handoff broker: at most %d --bind options\n", S_MAX_BINDS);
                return 2;
            }
            binds[n_binds++] = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "handoff broker: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }
    ho_err_t err = {0};
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    if (n_binds == 0 && s_config_binds(gw, binds, &n_binds) != 0) {
        ho_cli_env_close(&env);
        return 1;
    }
    /* czmq's handler sets zsys_interrupted on SIGINT/SIGTERM; the broker loop watches it */
    zsys_handler_reset();
    zsys_catch_interrupts();
    int rc = 1;
    ho_broker_t *broker = ho_broker_new(gw, &err);
    if (!broker) {
        fprintf(stderr, "handoff broker: %s\n", err.message);
        goto done;
    }
    for (size_t i = 0; i < n_binds; i++) {
        if (ho_broker_bind(broker, binds[i], &err) != HO_OK) {
            fprintf(stderr, "handoff broker: %s\n", err.message);
            goto done;
        }
        printf("bound endpoint=%s\n", ho_broker_endpoint(broker, i));
    }
    uint64_t recovered = 0;
    const char *journal = ho_broker_journal(broker, NULL, &recovered);
    printf("broker ready config=%s routes=%zu heartbeat_ms=%d liveness=%d max_queue=%d "
           "max_attempts=%d max_frame_bytes=%d max_queue_bytes=%d request_timeout_ms=%d "
           "curve=%s journal=%s recovered=%llu\n",
           ho_gateway_path(gw), ho_gateway_route_count(gw), ho_gateway_heartbeat_ms(gw),
           ho_gateway_liveness(gw), ho_gateway_max_queue(gw), ho_gateway_max_attempts(gw),
           ho_gateway_max_frame_bytes(gw), ho_gateway_max_queue_bytes(gw),
           ho_gateway_request_timeout_ms(gw), ho_gateway_curve_enabled(gw) ? "on" : "off",
           journal ? journal : "off", (unsigned long long)recovered);
    fflush(stdout);
    ho_info("broker ready endpoints=%zu", n_binds);
    if (ho_broker_run(broker) != HO_OK) {
        goto done;
    }
    ho_broker_counters_t c;
    ho_broker_counters(broker, &c);
    printf("broker stopped requests=%llu replies=%llu routed=%llu dead_letters=%llu "
           "protocol_errors=%llu refused=%llu parked=%llu dropped=%llu requeued=%llu "
           "timeouts=%llu\n",
           (unsigned long long)c.requests, (unsigned long long)c.replies,
           (unsigned long long)c.routed, (unsigned long long)c.dead_letters,
           (unsigned long long)c.protocol_errors, (unsigned long long)c.refused,
           (unsigned long long)c.parked, (unsigned long long)c.dropped,
           (unsigned long long)c.requeued, (unsigned long long)c.timeouts);
    fflush(stdout);
    rc = 0;
done:
    ho_broker_destroy(&broker);
    ho_cli_env_close(&env);
    return rc;
}
