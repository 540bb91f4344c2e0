/* metrics_cmd.c - `handoff metrics`: Prometheus metrics, /healthz and /readyz over HTTP
 * (libmicrohttpd), for any host of a handoff deployment. Each scrape asks the broker for
 * mmi.status and reads the data dir (metrics.h); nothing is cached, nothing is kept. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>
#include <microhttpd.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/metrics.h"

#define METRICS_MAX_REQUIRED 32

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff metrics --listen ADDR:PORT [-c CONFIG] [--connect ENDPOINT]\n"
            "                       [--data-dir DIR] [--require LIST] [--timeout MS]\n"
            "       handoff metrics --once [...]\n"
            "\n"
            "Serve the state of a running handoff over HTTP for Prometheus and load balancers:\n"
            "  GET /metrics  Prometheus text format: the broker's counters, per service queue\n"
            "                depth, in flight, requests, replies, dead letters and workers,\n"
            "                per worker credit, handled and heartbeat age; from the data dir\n"
            "                quarantine records by reason, imports and records by profile,\n"
            "                per worker process handled, errors and a handler latency\n"
            "                histogram (DIR/stats), outbox deliveries and backlog age,\n"
            "                packet files, database and journal sizes (handoff_up 0 when the\n"
            "                broker does not answer: the data-dir metrics are still served)\n"
            "  GET /healthz  200 while this process runs\n"
            "  GET /readyz   200 when the broker answers and every required service has a\n"
            "                live worker; 503 naming what is missing\n"
            "Each request asks the broker afresh (mmi.status); nothing is cached.\n"
            "\n"
            "  -l, --listen A:P     address to bind (port 0 = any free port, printed)\n"
            "      --once           print /metrics to stdout once and exit (cron, debugging)\n"
            "  -c, --config PATH    gateway config (default: $HANDOFF_CONFIG,\n"
            "                       ./deploy/handoff.yaml, /etc/handoff/handoff.yaml, built-in)\n"
            "      --connect EP     broker endpoint (default: broker.endpoint of the config)\n"
            "      --data-dir DIR   data folder to read (default: data_dir of the config)\n"
            "      --require LIST   services /readyz requires, comma-separated (default: every\n"
            "                       service the broker lists)\n"
            "  -t, --timeout MS     wait this long for the broker per request (default 1000)\n"
            "  -h, --help           this help\n"
            "\n"
            "stdout: 'metrics listening=ADDR:PORT broker=EP data_dir=DIR' once it accepts.\n"
            "Exit 0 on SIGINT/SIGTERM, 1 when it cannot listen, 2 on usage errors.\n");
}

typedef struct {
    ho_gateway_t *gw;
    const char *endpoint;
    char data_dir[4096];
    char outbox_dir[4096];
    int timeout_ms;
    const char *required[METRICS_MAX_REQUIRED];
    size_t n_required;
} s_metrics_t;

static volatile sig_atomic_t s_stop = 0;

static void s_on_signal(int sig)
{
    s_stop = sig;
}

/* The broker's status, or NULL when it did not answer within the timeout. */
static json_t *s_status(s_metrics_t *m)
{
    ho_client_opts_t copts = {0};
    ho_client_opts_curve(&copts, m->gw);
    return ho_metrics_status(m->endpoint, &copts, m->timeout_ms);
}

static char *s_metrics_text(s_metrics_t *m)
{
    json_t *st = s_status(m);
    ho_metrics_opts_t o = {.data_dir = m->data_dir, .outbox_dir = m->outbox_dir};
    ho_err_t err = {0};
    char *text = ho_metrics_render(st, &o, &err);
    json_decref(st);
    return text;
}

static enum MHD_Result s_answer(struct MHD_Connection *conn, unsigned code, char *body,
                                const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    s_metrics_t *m = cls;
    const char *plain = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return s_answer(conn, 405, strdup("method not allowed\n"), plain);
    }
    if (strcmp(url, "/healthz") == 0) {
        return s_answer(conn, 200, strdup("ok\n"), plain);
    }
    if (strcmp(url, "/readyz") == 0) {
        json_t *st = s_status(m);
        char why[512];
        bool ready = ho_metrics_ready(st, m->required, m->n_required, why, sizeof why);
        json_decref(st);
        size_t len = strlen(why) + 2;
        char *body = malloc(len);
        if (body) {
            snprintf(body, len, "%s\n", why);
        }
        return body ? s_answer(conn, ready ? 200 : 503, body, plain) : MHD_NO;
    }
    if (strcmp(url, "/metrics") == 0) {
        char *text = s_metrics_text(m);
        return text ? s_answer(conn, 200, text, "text/plain; version=0.0.4; charset=utf-8")
                    : s_answer(conn, 500, strdup("out of memory\n"), plain);
    }
    return s_answer(conn, 404, strdup("not found: /metrics /healthz /readyz\n"), plain);
}

static int s_parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) {
        return -1;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    const char *h = (!host[0] || strcmp(host, "*") == 0) ? NULL : host;
    if (h && h[0] == '[') { /* [::1]:9090 */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    if (getaddrinfo(h, colon + 1, &hints, &res) != 0 || !res) {
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int s_serve(s_metrics_t *m, const char *listen)
{
    struct sockaddr_storage addr;
    socklen_t alen = 0;
    memset(&addr, 0, sizeof addr);
    if (s_parse_listen(listen, &addr, &alen) != 0) {
        fprintf(stderr, "handoff metrics: --listen '%s' is not ADDR:PORT\n", listen);
        return 2;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, 0, NULL, NULL, s_handler, m, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "handoff metrics: cannot listen on %s: %s\n", listen, strerror(errno));
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    const char *colon = strrchr(listen, ':');
    printf("metrics listening=%.*s:%u broker=%s data_dir=%s\n", (int)(colon - listen), listen,
           info ? (unsigned)info->port : 0U, m->endpoint, m->data_dir);
    fflush(stdout);
    while (!s_stop) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    return 0;
}

static int s_required(s_metrics_t *m, char *list)
{
    char *save = NULL;
    for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (m->n_required == METRICS_MAX_REQUIRED) {
            return -1;
        }
        m->required[m->n_required++] = t;
    }
    return 0;
}

int ho_cmd_metrics(int argc, char **argv)
{
    static const struct option opts[] = {HO_CLI_ENV_OPTIONS,
                                         {"listen", required_argument, NULL, 'l'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"require", required_argument, NULL, 'r'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    ho_cli_env_t env = {.cmd = "metrics"};
    const char *listen = NULL;
    char *require = NULL;
    bool once = false;
    s_metrics_t m;
    memset(&m, 0, sizeof m);
    m.timeout_ms = 1000;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "l:c:t:h", opts, NULL)) != -1) {
        if (ho_cli_env_option(&env, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 'l':
            listen = optarg;
            break;
        case 'o':
            once = true;
            break;
        case 'r':
            require = optarg;
            break;
        case 't': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!end || *end || v < 1 || v > 600000) {
                fprintf(stderr, "handoff metrics: --timeout wants milliseconds, not '%s'\n",
                        optarg);
                return 2;
            }
            m.timeout_ms = (int)v;
            break;
        }
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("metrics", argc, argv, opts);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (!listen && !once) || (listen && once)) {
        fprintf(stderr, "handoff metrics: give --listen ADDR:PORT or --once\n");
        s_usage(stderr);
        return 2;
    }
    char *req_copy = require ? strdup(require) : NULL;
    if (req_copy && s_required(&m, req_copy) != 0) {
        fprintf(stderr, "handoff metrics: --require: at most %d services\n", METRICS_MAX_REQUIRED);
        free(req_copy);
        return 2;
    }
    if (ho_cli_env_open(&env) != 0) {
        free(req_copy);
        return 1;
    }
    m.gw = env.gw;
    m.endpoint = ho_gateway_endpoint(m.gw);
    snprintf(m.data_dir, sizeof m.data_dir, "%s", ho_gateway_data_dir(m.gw));
    ho_cli_env_worker_path(&env, "outbox", "dir", "outbox", m.outbox_dir, sizeof m.outbox_dir);
    zsys_init(); /* before the HTTP thread makes its first socket (runtime.h) */
    zsys_handler_set(NULL);
    int rc = 0;
    if (once) {
        char *text = s_metrics_text(&m);
        fputs(text ? text : "", stdout);
        rc = text ? 0 : 1;
        free(text);
    } else {
        ho_cli_on_stop_signals(s_on_signal);
        rc = s_serve(&m, listen);
    }
    ho_cli_env_close(&env);
    free(req_copy);
    return rc;
}
