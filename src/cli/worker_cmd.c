/* worker_cmd.c - `handoff worker NAME`: run one built-in worker against the broker. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"
#include "handoff/log.h"
#include "handoff/runtime.h"
#include "handoff/util.h"

static void s_list(FILE *out)
{
    const ho_worker_def_t *def;
    for (size_t i = 0; (def = ho_worker_at(i)) != NULL; i++) {
        fprintf(out, "  %-10s %s\n", def->name, def->description ? def->description : "");
    }
}

/* The worker's config map: what `workers.NAME:` in handoff.yaml takes. */
static void s_print_map(FILE *out, const ho_worker_def_t *def)
{
    static const char *const types[] = {"", "string", "integer", "number", "bool"};
    fprintf(out, "\nSettings of %s (workers.%s in handoff.yaml):\n", def->name, def->name);
    if (!def->config_map || !def->config_map[0].key) {
        fprintf(out, "  (none)\n");
        return;
    }
    for (const ho_config_map_t *m = def->config_map; m->key; m++) {
        const char *type = m->type >= HO_CFG_STR && m->type <= HO_CFG_BOOL ? types[m->type] : "";
        fprintf(out, "  %-22s %-7s default %-14s %s\n", m->key, type,
                m->def && m->def[0] ? m->def : "\"\"", m->desc ? m->desc : "");
    }
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff worker NAME [-c PATH] [--connect ENDPOINT] [--data-dir DIR]\n"
            "                           [--credit N] [--service NAME] [--no-tick]\n"
            "       handoff worker --list\n"
            "       handoff worker NAME --help   (the worker's settings)\n"
            "\n"
            "Run one built-in worker: it registers with the broker for the service NAME, handles\n"
            "the requests the broker hands it and replies with its output, which the broker\n"
            "routes on by type (routes: in handoff.yaml). Stops cleanly on SIGINT/SIGTERM.\n"
            "Settings come from workers.NAME in the gateway config.\n"
            "\n"
            "  -c, --config PATH      gateway config (default: $HANDOFF_CONFIG,\n"
            "                         ./deploy/handoff.yaml, built-in defaults)\n"
            "      --connect ENDPOINT broker endpoint (default: broker.endpoint of the config)\n"
            "      --data-dir DIR     state folder (default: data_dir of the config)\n"
            "      --credit N         requests the broker may keep in flight here, 1..1000\n"
            "                         (default %d)\n"
            "      --service NAME     register under another service name (default: NAME)\n"
            "      --no-tick          no clock of its own: a supervisor sends the store its\n"
            "                         ticks (handoff run does, at --tick)\n"
            "  -l, --list             list the built-in workers\n"
            "  -h, --help             this help\n"
            "\n"
            "stdout: 'worker ready name=... service=... endpoint=...' once registered;\n"
            "logs on stderr (HO_LOG_LEVEL=debug|info|warn|error).\n"
            "\n"
            "Built-in workers:\n",
            HO_RUNTIME_CREDIT);
    s_list(out);
}

static int s_valid_service(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || strncmp(s, "mmi.", 4) == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-')) {
            return 0;
        }
    }
    return 1;
}

typedef struct {
    const char *name, *service, *endpoint, *config;
} s_ready_t;

static void s_on_ready(void *arg)
{
    const s_ready_t *r = arg;
    printf("worker ready name=%s service=%s endpoint=%s config=%s\n", r->name, r->service,
           r->endpoint, r->config);
    fflush(stdout);
}

/* The worker NAME (argv[optind], the only argument left) and --service checked: its
 * descriptor, or NULL after saying why on stderr. */
static const ho_worker_def_t *s_target(int argc, char **argv, const char *service)
{
    if (optind >= argc) {
        fprintf(stderr, "handoff worker: which worker? (handoff worker --list)\n");
        return NULL;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "handoff worker: unexpected argument '%s'\n", argv[optind + 1]);
        return NULL;
    }
    const char *name = argv[optind];
    const ho_worker_def_t *def = ho_worker_find(name);
    if (!def) {
        fprintf(stderr, "handoff worker: unknown worker '%s'; built-in workers:\n", name);
        s_list(stderr);
        return NULL;
    }
    if (service && !s_valid_service(service)) {
        fprintf(stderr,
                "handoff worker: --service: '%s' is not a service name (1-64 of a-z 0-9 . _ -, "
                "not mmi.*)\n",
                service);
        return NULL;
    }
    return def;
}

int ho_cmd_worker(int argc, char **argv)
{
    static const struct option opts[] = {HO_CLI_ENV_OPTIONS,
                                         {"credit", required_argument, NULL, 'k'},
                                         {"service", required_argument, NULL, 's'},
                                         {"no-tick", no_argument, NULL, 'T'},
                                         {"list", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    ho_cli_env_t cenv = {.cmd = "worker"};
    const char *service = NULL;
    long credit = 0;
    bool help = false, no_tick = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:lh", opts, NULL)) != -1) {
        if (ho_cli_env_option(&cenv, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 'k': {
            char *end = NULL;
            credit = strtol(optarg, &end, 10);
            if (!end || *end || credit < 1 || credit > 1000) {
                fprintf(stderr, "handoff worker: --credit: expected 1..1000, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 's':
            service = optarg;
            break;
        case 'T':
            no_tick = true;
            break;
        case 'l':
            s_list(stdout);
            return 0;
        case 'h':
            help = true; /* after the loop: with a NAME, its settings too */
            break;
        default:
            ho_cli_option_hint("worker", argc, argv, opts);
            s_usage(stderr);
            return 2;
        }
    }
    if (help) {
        s_usage(stdout);
        const ho_worker_def_t *hd = optind < argc ? ho_worker_find(argv[optind]) : NULL;
        if (hd) {
            s_print_map(stdout, hd);
        }
        return 0;
    }
    const ho_worker_def_t *def = s_target(argc, argv, service);
    if (!def) {
        return 2;
    }
    const char *name = argv[optind];
    if (ho_cli_env_open(&cenv) != 0) {
        return 1;
    }
    ho_gateway_t *gw = cenv.gw;
    const char *dir = ho_gateway_data_dir(gw);
    if (dir && dir[0] && ho_mkdirs(dir) != 0) {
        fprintf(stderr, "handoff worker: data dir %s: %s\n", dir, strerror(errno));
        ho_cli_env_close(&cenv);
        return 1;
    }
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    char origin[256];
    snprintf(origin, sizeof origin, "%s@%s:%d", name, host, (int)getpid());
    ho_worker_env_t env = {
        .name = name,
        .data_dir = dir,
        .config_dir = ho_gateway_config_dir(gw),
        .conf = ho_gateway_conf(gw),
        .settings = ho_gateway_worker_settings(gw, name),
        .origin = origin,
    };
    ho_runtime_opts_t ropts = {
        .endpoint = ho_gateway_endpoint(gw),
        .env = &env,
        .service = service,
        .credit = (int)credit,
        .heartbeat_ms = ho_gateway_heartbeat_ms(gw),
        .liveness = ho_gateway_liveness(gw),
        .max_frame_bytes = ho_gateway_max_frame_bytes(gw),
        .no_tick = no_tick,
    };
    if (ho_gateway_curve_enabled(gw)) {
        ropts.curve_client_cert = ho_gateway_curve_client_cert(gw);
        ropts.curve_server_public = ho_gateway_curve_server_public(gw);
    }
    /* czmq's handler sets zsys_interrupted on SIGINT/SIGTERM; the runtime loop watches it */
    zsys_handler_reset();
    zsys_catch_interrupts();
    s_ready_t ready = {name, service ? service : def->name, ropts.endpoint, ho_gateway_path(gw)};
    ropts.on_ready = s_on_ready;
    ropts.ready_arg = &ready;
    int rc = ho_worker_run(def, &ropts);
    ho_cli_env_close(&cenv);
    return rc;
}
