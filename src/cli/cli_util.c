/* cli_util.c - helpers every subcommand shares: did-you-mean for commands, options and names. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"

#define CLI_MAX_WORD 64

static size_t s_min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance; words longer than CLI_MAX_WORD are never near. */
size_t ho_cli_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > CLI_MAX_WORD || lb > CLI_MAX_WORD) {
        return (size_t)-1;
    }
    size_t d[CLI_MAX_WORD + 1][CLI_MAX_WORD + 1];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = s_min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j]) {
                d[i][j] = d[i - 2][j - 2] + 1;
            }
        }
    }
    return d[la][lb];
}

const char *ho_cli_nearest(const char *word, const char *const *choices, size_t n)
{
    if (!word || !*word) {
        return NULL;
    }
    size_t len = strlen(word);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!choices[i]) {
            continue;
        }
        size_t d = ho_cli_distance(word, choices[i]);
        if (len >= 3 && d > 1 && strncmp(choices[i], word, len) == 0) {
            d = 1; /* a prefix of exactly one thing is as good as one typo */
        }
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    if (best && best_d > 0 && best_d <= 2 && best_d * 2 < len) {
        return best;
    }
    return NULL;
}

void ho_cli_option_hint(const char *cmd, int argc, char **argv, const struct option *opts)
{
    if (optind < 1 || optind > argc) {
        return;
    }
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) != 0) {
        return;
    }
    char word[CLI_MAX_WORD + 1];
    size_t len = strcspn(arg + 2, "=");
    if (len == 0 || len > CLI_MAX_WORD) {
        return;
    }
    memcpy(word, arg + 2, len);
    word[len] = '\0';
    size_t n = 0;
    while (opts[n].name) {
        n++;
    }
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = opts[i].name;
    }
    const char *near = ho_cli_nearest(word, names, n);
    if (near && strcmp(near, word) != 0) {
        fprintf(stderr, "handoff %s: did you mean --%s?\n", cmd, near);
    }
    free(names);
}

/* ---- --version ---- */

#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <msgpack.h>
#include <sodium.h>
#include <sqlite3.h>
#include <utf8proc.h>
#include <xlsxwriter.h>
#include <yaml.h>
#include <zmq.h>

#ifndef HO_GIT_REVISION
#define HO_GIT_REVISION "unknown"
#endif

void ho_cli_print_version(FILE *out)
{
    int maj = 0, min = 0, pat = 0;
    fprintf(out, "handoff %s (git %s)\n", HO_VERSION, HO_GIT_REVISION);
    /* the versions actually linked at run time, not the headers built against */
    zmq_version(&maj, &min, &pat);
    fprintf(out, "libzmq %d.%d.%d\n", maj, min, pat);
    zsys_version(&maj, &min, &pat);
    fprintf(out, "czmq %d.%d.%d\n", maj, min, pat);
    fprintf(out, "sqlite %s\n", sqlite3_libversion());
    fprintf(out, "msgpack-c %s\n", msgpack_version());
    fprintf(out, "libxlsxwriter %s\n", lxw_version());
    fprintf(out, "jansson %s\n", jansson_version_str());
    fprintf(out, "libyaml %s\n", yaml_get_version_string());
    fprintf(out, "libmicrohttpd %s\n", MHD_get_version());
    fprintf(out, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    fprintf(out, "libsodium %s\n", sodium_version_string());
    fprintf(out, "utf8proc %s\n", utf8proc_version());
}

/* ---- fail fast when the broker is down ---- */

#include "handoff/client.h"

int ho_cli_broker_check(const char *what, const char *endpoint, const struct ho_gateway *gw,
                        const char *service, int timeout_ms)
{
    ho_client_opts_t copts = {.window = 1, .timeout_ms = timeout_ms, .retries = -1};
    ho_client_opts_curve(&copts, gw);
    ho_err_t err = {0};
    ho_client_t *client = ho_client_new(endpoint, &copts, &err);
    if (!client) {
        fprintf(stderr, "handoff %s: %s\n", what, err.message);
        return -1;
    }
    json_t *st = NULL;
    int rc = ho_client_status(client, &st, &err);
    ho_client_destroy(&client);
    if (rc != HO_OK) {
        if (strstr(err.message, "no reply within")) {
            fprintf(stderr,
                    "handoff %s: the broker at %s did not answer within %d ms (is it running? "
                    "`handoff broker` or `handoff run`; --connect ENDPOINT for another one)\n",
                    what, endpoint, timeout_ms);
        } else {
            fprintf(stderr, "handoff %s: %s\n", what, err.message);
        }
        return -1;
    }
    long long workers = 0;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(st, "services"), i, s)
    {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (service && name && strcmp(name, service) == 0) {
            workers = (long long)json_integer_value(json_object_get(s, "workers"));
        }
    }
    json_decref(st);
    if (service && workers == 0) {
        fprintf(stderr,
                "handoff %s: the broker at %s has no `%s` worker (start it: `handoff worker %s` "
                "or `handoff run`)\n",
                what, endpoint, service, service);
        return -1;
    }
    return 0;
}

void ho_cli_on_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
