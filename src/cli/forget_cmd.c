/* forget_cmd.c - `handoff forget EMAIL`: ask the store (the only writer) to erase a person's
 * personal data, through the broker, and print what it did. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/gateway.h"

/* The client library may be left out of a build; then the command says so. */
#pragma weak ho_client_new
#pragma weak ho_client_destroy
#pragma weak ho_client_request

static void s_usage(FILE *out)
{
    fprintf(out, "usage: handoff forget EMAIL [--connect ENDPOINT] [-c CONFIG] [--timeout MS]\n"
                 "\n"
                 "Erase a person's personal data everywhere in the store (profile, activity URLs,\n"
                 "outcome notes, quarantined payloads) while keeping anonymous rows, so reports\n"
                 "keep their counts. Sends lead.forget to the store service via the broker.\n"
                 "\n"
                 "  --connect EP    broker endpoint (default: broker.endpoint of the config)\n"
                 "  -c, --config F  gateway config (handoff.yaml)\n"
                 "  --timeout MS    how long to wait for the store (default 10000)\n"
                 "\n"
                 "Prints: forgotten email=... found=1 lead_id=N\n");
}

int ho_cmd_forget(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'e'},
        {"config", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = NULL, *config = NULL;
    int timeout = 10000;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 't':
            timeout = atoi(optarg);
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (argc - optind != 1 || !strchr(argv[optind], '@') || timeout <= 0) {
        fprintf(stderr, "handoff forget: expected one EMAIL (and a positive --timeout)\n");
        s_usage(stderr);
        return 2;
    }
    if (!ho_client_new) {
        fprintf(stderr, "handoff forget: this build has no broker client library\n");
        return 1;
    }
    ho_err_t err = {0};
    ho_gateway_t *gw = ho_gateway_load(config, &err);
    if (!gw) {
        fprintf(stderr, "handoff forget: %s\n", err.message);
        return 1;
    }
    const char *ep = endpoint ? endpoint : ho_gateway_endpoint(gw);
    /* a down broker or store fails in 3 s with a hint, not after the request's retries */
    if (ho_cli_broker_check("forget", ep, gw, "store", timeout < 3000 ? timeout : 3000) != 0) {
        ho_gateway_destroy(&gw);
        return 1;
    }
    ho_client_opts_t opts = {.window = 1, .timeout_ms = timeout, .retries = 2};
    ho_client_opts_curve(&opts, gw);
    ho_client_t *client = ho_client_new(ep, &opts, &err);
    int rc = 1;
    ho_msg_t *msg = NULL, **reply = NULL;
    size_t n = 0;
    if (!client) {
        fprintf(stderr, "handoff forget: %s\n", err.message);
        goto done;
    }
    msg = ho_msg_new("lead.forget");
    json_object_set_new(ho_msg_payload(msg), "email", json_string(argv[optind]));
    if (ho_client_request(client, "store", &msg, 1, &reply, &n, &err) != HO_OK) {
        fprintf(stderr, "handoff forget: %s\n", err.message);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *p = ho_msg_payload(reply[i]);
        if (strcmp(ho_msg_type(reply[i]), "lead.forgotten") == 0) {
            json_t *id = json_object_get(p, "lead_id");
            printf("forgotten email=%s found=%d lead_id=%lld\n", argv[optind],
                   json_is_true(json_object_get(p, "found")),
                   json_is_integer(id) ? (long long)json_integer_value(id) : 0LL);
            rc = 0;
        } else if (strcmp(ho_msg_type(reply[i]), "error") == 0) {
            const char *m = json_string_value(json_object_get(p, "message"));
            fprintf(stderr, "handoff forget: the store refused: %s\n", m ? m : "(no message)");
        } else if (strcmp(ho_msg_type(reply[i]), "quarantine") == 0 ||
                   strcmp(ho_msg_type(reply[i]), "lead.forget") == 0) {
            continue;
        }
    }
    if (rc != 0 && n == 0) {
        fprintf(stderr, "handoff forget: the store did not confirm (was the email valid? see "
                        "`handoff dlq list`)\n");
    }
done:
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&msg);
    if (client) {
        ho_client_destroy(&client);
    }
    ho_gateway_destroy(&gw);
    return rc;
}
