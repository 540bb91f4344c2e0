/* keygen_cmd.c - `handoff keygen NAME --dir DIR`: a CURVE key pair as czmq certificates. */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff/cli.h"
#include "handoff/gateway.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff keygen NAME [--dir DIR | -c CONFIG] [--force]\n"
            "\n"
            "Make a CURVE key pair (czmq certificate format) for the broker or a worker/client:\n"
            "DIR/NAME.cert holds the public key (give it to the other side: the broker's goes\n"
            "to broker.curve.server_public of workers, a worker's into the broker's\n"
            "broker.curve.allowed_keys folder), DIR/NAME.cert_secret holds both keys (keep it\n"
            "private, mode 0600).\n"
            "\n"
            "  -d, --dir DIR   where to write (default: keys, or with -c the config folder's\n"
            "                  keys/, where broker.curve's defaults look; created if missing)\n"
            "  -c, --config F  gateway config (handoff.yaml) whose keys/ folder is the default\n"
            "  -f, --force     overwrite existing certificates\n"
            "  -h, --help      this help\n"
            "\n"
            "stdout: 'public_key=<Z85> cert=DIR/NAME.cert secret=DIR/NAME.cert_secret'\n");
}

/* Parse argv: -1 to go on (dir and force set), else the exit code. */
static int s_parse(int argc, char **argv, ho_cli_env_t *env, const char **dir, int *force)
{
    static const struct option opts[] = {HO_CLI_ENV_OPTIONS,
                                         {"dir", required_argument, NULL, 'd'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:fh", opts, NULL)) != -1) {
        if (ho_cli_env_option(env, ch, optarg)) {
            continue;
        }
        switch (ch) {
        case 'd':
            *dir = optarg;
            break;
        case 'f':
            *force = 1;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        default:
            ho_cli_option_hint("keygen", argc, argv, opts);
            s_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "handoff keygen: give exactly one NAME (e.g. broker, store-1)\n");
        return 2;
    }
    return -1;
}

int ho_cmd_keygen(int argc, char **argv)
{
    ho_cli_env_t env = {.cmd = "keygen"};
    const char *dir = NULL;
    int force = 0;
    int rc = s_parse(argc, argv, &env, &dir, &force);
    if (rc >= 0) {
        return rc;
    }
    const char *name = argv[optind];
    size_t n = strlen(name);
    if (n == 0 || n > 64 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
        name[0] == '.') {
        fprintf(stderr, "handoff keygen: NAME '%s': use 1-64 of A-Z a-z 0-9 . _ -\n", name);
        return 2;
    }
    char keys[PATH_MAX] = "keys";
    if (!dir && env.config) {
        /* the folder the config's broker.curve defaults (keys/...) resolve to */
        if (ho_cli_env_open(&env) != 0) {
            return 1;
        }
        ho_gateway_resolve(env.gw, "keys", keys, sizeof keys);
        ho_cli_env_close(&env);
    }
    if (!dir) {
        dir = keys;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "handoff keygen: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char pub[PATH_MAX], sec[PATH_MAX];
    snprintf(pub, sizeof pub, "%s/%s.cert", dir, name);
    snprintf(sec, sizeof sec, "%s/%s.cert_secret", dir, name);
    if (!force && (access(pub, F_OK) == 0 || access(sec, F_OK) == 0)) {
        fprintf(stderr, "handoff keygen: %s already exists (use --force to replace it)\n",
                access(pub, F_OK) == 0 ? pub : sec);
        return 1;
    }
    zcert_t *cert = zcert_new();
    if (!cert) {
        fprintf(stderr, "handoff keygen: cannot make a key pair (no CURVE support?)\n");
        return 1;
    }
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "created-by", "handoff keygen");
    /* zcert_save writes <path> (public) and <path>_secret (both keys, mode 0600). */
    rc = zcert_save(cert, pub);
    if (rc != 0) {
        fprintf(stderr, "handoff keygen: cannot write %s: %s\n", pub, strerror(errno));
        zcert_destroy(&cert);
        return 1;
    }
    printf("public_key=%s cert=%s secret=%s\n", zcert_public_txt(cert), pub, sec);
    zcert_destroy(&cert);
    return 0;
}
