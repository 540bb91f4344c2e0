/* cli_env.c - the commands' shared environment: common options, the gateway config, and the
 * paths the workers' settings name; see include/handoff/cli.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/client.h"
#include "handoff/conf.h"
#include "handoff/gateway.h"

int ho_cli_env_option(ho_cli_env_t *env, int ch, const char *arg)
{
    switch (ch) {
    case HO_CLI_OPT_CONFIG:
        env->config = arg;
        return 1;
    case HO_CLI_OPT_DATA_DIR:
        env->data_dir = arg;
        return 1;
    case HO_CLI_OPT_CONNECT:
        env->endpoint = arg;
        return 1;
    default:
        return 0;
    }
}

int ho_cli_env_load(ho_cli_env_t *env, ho_err_t *err)
{
    env->gw = ho_gateway_load(env->config, err);
    if (!env->gw) {
        return err->code ? err->code : HO_ERR_CONFIG;
    }
    if ((env->data_dir && ho_gateway_set_data_dir(env->gw, env->data_dir) != HO_OK) ||
        (env->endpoint && ho_gateway_set_endpoint(env->gw, env->endpoint) != HO_OK)) {
        ho_gateway_destroy(&env->gw);
        return ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
    }
    return HO_OK;
}

int ho_cli_env_open(ho_cli_env_t *env)
{
    ho_err_t err = {0};
    if (ho_cli_env_load(env, &err) != HO_OK) {
        fprintf(stderr, "handoff %s: %s\n", env->cmd, err.message);
        return 1;
    }
    return 0;
}

void ho_cli_env_close(ho_cli_env_t *env)
{
    ho_gateway_destroy(&env->gw);
}

void ho_cli_env_worker_path(const ho_cli_env_t *env, const char *worker, const char *key,
                            const char *def, char *out, size_t cap)
{
    const ho_node_t *v = ho_node_get(ho_gateway_worker_settings(env->gw, worker), key);
    const char *name = v && ho_node_str(v) && ho_node_str(v)[0] ? ho_node_str(v) : def;
    if (name[0] == '/') {
        snprintf(out, cap, "%s", name);
    } else {
        snprintf(out, cap, "%s/%s", ho_gateway_data_dir(env->gw), name);
    }
}

void ho_cli_env_store_db(const ho_cli_env_t *env, const char *db, char *out, size_t cap)
{
    if (db) {
        snprintf(out, cap, "%s", db);
    } else {
        snprintf(out, cap, "%s/handoff.db", ho_gateway_data_dir(env->gw));
    }
}

ho_client_t *ho_cli_env_client(const ho_cli_env_t *env, int window, int timeout_ms, int retries)
{
    ho_client_opts_t copts = {.window = window, .timeout_ms = timeout_ms, .retries = retries};
    ho_client_opts_curve(&copts, env->gw);
    ho_err_t err = {0};
    ho_client_t *client = ho_client_new(ho_gateway_endpoint(env->gw), &copts, &err);
    if (!client) {
        fprintf(stderr, "handoff %s: %s\n", env->cmd, err.message);
    }
    return client;
}
