/* status_cmd.c - `handoff status`: the broker's services, workers, queues and counters (MMI
 * "mmi.status", E7), plus the outbox's delivery queue read from its database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/gateway.h"
#include "handoff/outbox.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff status [-c PATH] [--connect ENDPOINT] [--timeout MS] [--json]\n"
            "                      [--data-dir DIR]\n"
            "\n"
            "Ask the broker for its state (MMI service mmi.status) and print services (live\n"
            "workers, queued and in-flight requests, counts), workers, the routing table and\n"
            "the broker's counters, then the outbox's delivery queue (<data-dir>/outbox.db).\n"
            "\n"
            "  -c, --config PATH      gateway config (default: $HANDOFF_CONFIG,\n"
            "                         ./deploy/handoff.yaml, built-in defaults)\n"
            "      --connect ENDPOINT broker endpoint (default: broker.endpoint of the config)\n"
            "  -t, --timeout MS       give up when the broker has not answered by then\n"
            "                         (default 3000)\n"
            "      --data-dir DIR     where outbox.db is (default: data_dir of the config)\n"
            "      --json             print the status object as JSON (the broker's status with\n"
            "                         an added \"outbox\" member)\n"
            "  -h, --help             this help\n"
            "\n"
            "Output lines (greppable): 'broker ...', 'counters ...', 'service name=...',\n"
            "'worker id=...', 'route type=... service=...', 'outbox ...', 'outbox.problem ...'.\n"
            "Exit 1 when the broker does not answer.\n");
}

/* key=value for every scalar member; strings with spaces are quoted. */
static void s_kv(const json_t *obj, const char *skip)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (skip && strcmp(key, skip) == 0) {
            continue;
        }
        switch (json_typeof(v)) {
        case JSON_STRING: {
            const char *s = json_string_value(v);
            printf(strpbrk(s, " \t") || !*s ? " %s=\"%s\"" : " %s=%s", key, s);
            break;
        }
        case JSON_INTEGER:
            printf(" %s=%lld", key, (long long)json_integer_value(v));
            break;
        case JSON_REAL:
            printf(" %s=%g", key, json_real_value(v));
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            printf(" %s=%s", key, json_is_true(v) ? "true" : "false");
            break;
        case JSON_NULL:
            printf(" %s=-", key);
            break;
        default:
            break; /* nested values are printed on their own lines */
        }
    }
}

/* One line a member of the array: "WHAT KEY=<its key>" first, then its other scalars. */
static void s_print_list(const json_t *items, const char *what, const char *key)
{
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        const char *name = json_string_value(json_object_get(item, key));
        printf("%s %s=%s", what, key, name ? name : "?");
        s_kv(item, key);
        printf("\n");
    }
}

static void s_print(const json_t *st)
{
    printf("broker");
    s_kv(st, NULL);
    json_t *eps = json_object_get(st, "endpoints");
    if (json_is_array(eps)) {
        size_t i;
        json_t *e;
        printf(" endpoints=");
        json_array_foreach(eps, i, e)
        {
            printf("%s%s", i ? "," : "", json_string_value(e) ? json_string_value(e) : "?");
        }
    }
    printf("\n");
    json_t *counters = json_object_get(st, "counters");
    if (json_is_object(counters)) {
        printf("counters");
        s_kv(counters, NULL);
        printf("\n");
    }
    size_t i;
    json_t *item;
    s_print_list(json_object_get(st, "services"), "service", "name");
    s_print_list(json_object_get(st, "workers"), "worker", "id");
    const char *type;
    json_t *service;
    json_object_foreach(json_object_get(st, "routes"), type, service)
    {
        printf("route type=%s service=%s\n", type,
               json_string_value(service) ? json_string_value(service) : "?");
    }
    json_t *outbox = json_object_get(st, "outbox");
    if (json_is_object(outbox)) {
        printf("outbox");
        s_kv(outbox, NULL);
        printf("\n");
        json_array_foreach(json_object_get(outbox, "problems"), i, item)
        {
            printf("outbox.problem");
            s_kv(item, NULL);
            printf("\n");
        }
    }
}

int ho_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {HO_CLI_ENV_OPTIONS,
                                         {"timeout", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    ho_cli_env_t env = {.cmd = "status"};
    long timeout = 3000;
    int as_json = 0;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:t:h", opts, NULL)) != -1) {
        if (ho_cli_env_option(&env, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 't': {
            char *end = NULL;
            timeout = strtol(optarg, &end, 10);
            if (!end || *end || timeout < 1 || timeout > 3600000) {
                fprintf(stderr, "handoff status: --timeout: expected milliseconds, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'j':
            as_json = 1;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("status", argc, argv, opts);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "handoff status: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (ho_cli_env_open(&env) != 0) {
        return 1;
    }
    ho_gateway_t *gw = env.gw;
    const char *endpoint = ho_gateway_endpoint(gw);
    ho_client_t *client = ho_cli_env_client(&env, 1, (int)timeout, -1);
    if (!client) {
        ho_cli_env_close(&env);
        return 1;
    }
    ho_err_t err = {0};
    json_t *st = NULL;
    int rc = 1;
    if (ho_client_status(client, &st, &err) != HO_OK) {
        if (strstr(err.message, "no reply within")) {
            fprintf(stderr,
                    "handoff status: the broker at %s did not answer within %ld ms (is it "
                    "running? `handoff broker` or `handoff run`)\n",
                    endpoint, timeout);
        } else {
            fprintf(stderr, "handoff status: %s\n", err.message);
        }
        goto done;
    }
    json_t *outbox = NULL;
    ho_err_t oerr = {0};
    if (ho_outbox_status(ho_gateway_data_dir(gw), &outbox, &oerr) == HO_OK && outbox) {
        json_object_set_new(st, "outbox", outbox);
    } else {
        fprintf(stderr, "handoff status: outbox: %s\n", oerr.message);
    }
    if (as_json) {
        char *text = json_dumps(st, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        s_print(st);
    }
    rc = 0;
done:
    json_decref(st);
    ho_client_destroy(&client);
    ho_cli_env_close(&env);
    return rc;
}
