/* config_cmd.c - `handoff config check`: load every config file the way the workers will, and
 * report each problem with the file, line and key the loader names. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/connector.h"
#include "handoff/defaults.h"
#include "handoff/gateway.h"
#include "handoff/lifecycle.h"
#include "handoff/reasons.h"
#include "handoff/routing.h"
#include "handoff/scoring.h"
#include "handoff/store.h"
#include "handoff/webhook.h"

#define CONFIG_MAX_PROFILES 128

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: handoff config check [-c PATH] [--data-dir DIR]\n"
            "\n"
            "Load every config file as the workers do: handoff.yaml, scoring.yaml,\n"
            "routing.yaml with its reps CSV, reasons.yaml, lifecycle.yaml, store.yaml,\n"
            "webhook.yaml and every profiles/*.yaml (the config folder's files, else the\n"
            "built-in copies), and report each problem with its file:line and key.\n"
            "\n"
            "  -c, --config PATH  gateway config (default: $HANDOFF_CONFIG,\n"
            "                     ./deploy/handoff.yaml, /etc/handoff/handoff.yaml, built-in)\n"
            "  --data-dir DIR     data folder (default: data_dir of the config)\n"
            "  -h, --help         this help\n"
            "\n"
            "stdout: 'config ok file=NAME' per file, then 'config checked files=N errors=E'.\n"
            "stderr: 'config error file=NAME: FILE:LINE: KEY: WHY' per problem.\n"
            "Exit 0 when every file is valid, 1 when one is not, 2 on usage errors.\n");
}

typedef struct {
    int files;
    int errors;
} s_tally_t;

static void s_result(s_tally_t *t, const char *name, bool ok, const ho_err_t *err)
{
    t->files++;
    if (ok) {
        printf("config ok file=%s\n", name);
    } else {
        t->errors++;
        fprintf(stderr, "config error file=%s: %s\n", name, err->message);
    }
}

static bool s_seen(char names[][96], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Profile names: the built-in ones and every profiles/NAME.yaml of the config folder. */
static size_t s_profile_names(const char *config_dir, char names[][96], size_t cap)
{
    size_t n = 0;
    const char *f;
    for (size_t i = 0; (f = ho_default_file_at(i)) && n < cap; i++) {
        size_t len = strlen(f);
        if (strncmp(f, "profiles/", 9) == 0 && len > 14 && strcmp(f + len - 5, ".yaml") == 0) {
            snprintf(names[n++], 96, "%.*s", (int)(len - 14), f + 9);
        }
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/profiles", config_dir ? config_dir : ".");
    DIR *d = config_dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < cap) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' && len > 5 && len < 90 &&
            strcmp(e->d_name + len - 5, ".yaml") == 0) {
            char name[96];
            snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
            if (!s_seen(names, n, name)) {
                snprintf(names[n++], 96, "%s", name);
            }
        }
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static void s_check_files(const ho_gateway_t *gw, s_tally_t *t)
{
    const char *cdir = ho_gateway_config_dir(gw);
    ho_err_t err = {0};
    ho_score_model_t *m = ho_score_model_load(cdir, "scoring.yaml", &err);
    s_result(t, "scoring.yaml", m != NULL, &err);
    ho_score_model_destroy(&m);

    memset(&err, 0, sizeof err);
    ho_routing_t *r = ho_routing_load(cdir, "routing.yaml", &err);
    s_result(t, "routing.yaml", r != NULL, &err);
    ho_routing_destroy(&r);

    memset(&err, 0, sizeof err);
    ho_reasons_t *rs = ho_reasons_load(cdir, "reasons.yaml", &err);
    s_result(t, "reasons.yaml", rs != NULL, &err);
    ho_reasons_destroy(&rs);

    memset(&err, 0, sizeof err);
    ho_lifecycle_t *l = ho_lifecycle_load(cdir, &err);
    s_result(t, "lifecycle.yaml", l != NULL, &err);
    ho_lifecycle_destroy(&l);

    memset(&err, 0, sizeof err);
    json_t *st = ho_store_config_load(cdir, NULL, NULL, &err);
    s_result(t, "store.yaml", st != NULL, &err);
    json_decref(st);

    memset(&err, 0, sizeof err);
    ho_webhook_settings_t ws;
    memset(&ws, 0, sizeof ws);
    int rc = ho_webhook_settings_load(cdir, NULL, &ws, &err);
    s_result(t, "webhook.yaml", rc == HO_OK, &err);
    ho_webhook_settings_free(&ws);

    static char names[CONFIG_MAX_PROFILES][96];
    size_t n = s_profile_names(cdir, names, CONFIG_MAX_PROFILES);
    for (size_t i = 0; i < n; i++) {
        memset(&err, 0, sizeof err);
        ho_profile_t *p = ho_profile_load(cdir, names[i], &err);
        char label[160];
        snprintf(label, sizeof label, "profiles/%.95s.yaml", names[i]);
        s_result(t, label, p != NULL, &err);
        ho_profile_destroy(&p);
    }
}

int ho_cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        HO_CLI_ENV_OPTIONS, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static const char *subs[] = {"check"};
    ho_cli_env_t env = {.cmd = "config"};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (ho_cli_env_option(&env, ch, optarg)) {
            continue;
        }
        if (ch == 'h') {
            s_usage(stdout);
            return 0;
        }
        ho_cli_option_hint("config", argc, argv, opts);
        s_usage(stderr);
        return 2;
    }
    if (optind != argc - 1 || strcmp(argv[optind], "check") != 0) {
        const char *near = optind < argc ? ho_cli_nearest(argv[optind], subs, 1) : NULL;
        if (near) {
            fprintf(stderr, "handoff config: unknown '%s', did you mean %s?\n", argv[optind], near);
        }
        s_usage(stderr);
        return 2;
    }
    s_tally_t t = {0, 0};
    ho_err_t err = {0};
    /* a gateway config that does not load is one of the problems counted, not the end */
    bool loaded = ho_cli_env_load(&env, &err) == HO_OK;
    s_result(&t, env.config ? env.config : "handoff.yaml", loaded, &err);
    if (loaded) {
        printf("config dir=%s\n",
               ho_gateway_config_dir(env.gw) ? ho_gateway_config_dir(env.gw) : "(built-in)");
        s_check_files(env.gw, &t);
        ho_cli_env_close(&env);
    }
    printf("config checked files=%d errors=%d\n", t.files, t.errors);
    return t.errors ? 1 : 0;
}
