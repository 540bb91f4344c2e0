/*
 * cli.h - the subcommands of the one `handoff` binary (git/redis style).
 *
 * Each command lives in its own file under src/cli/ (or next to the module it drives) and
 * has this signature: argv[0] is the command name; return the process exit code
 * (0 ok, 1 failure, 2 usage error). Every command answers --help on stdout with exit 0.
 * Logs and errors go to stderr; results (what an operator greps) go to stdout.
 */
#ifndef HO_CLI_H
#define HO_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "handoff/error.h"

struct option;

typedef int(ho_cmd_fn)(int argc, char **argv);

int ho_cmd_broker(int argc, char **argv);  /* handoff broker: the hub */
int ho_cmd_worker(int argc, char **argv);  /* handoff worker NAME: one built-in worker */
int ho_cmd_run(int argc, char **argv);     /* handoff run: broker + one of each, supervised */
int ho_cmd_import(int argc, char **argv);  /* handoff import FILE --source PROFILE */
int ho_cmd_webhook(int argc, char **argv); /* handoff webhook: HTTP server for form webhooks */
int ho_cmd_status(int argc, char **argv);  /* handoff status */
int ho_cmd_lead(int argc, char **argv);    /* handoff lead EMAIL */
int ho_cmd_report(int argc, char **argv);  /* handoff report --week 2026-W47 */
int ho_cmd_score(int argc, char **argv);   /* handoff score --explain EMAIL | --dry-run */
int ho_cmd_dlq(int argc, char **argv);     /* handoff dlq list|replay */
int ho_cmd_outbox(int argc, char **argv);  /* handoff outbox list|show|retry */
int ho_cmd_forget(int argc, char **argv);  /* handoff forget EMAIL */
int ho_cmd_keygen(int argc, char **argv);  /* handoff keygen */
int ho_cmd_demo(int argc, char **argv);    /* handoff demo-data: seeded generator */
int ho_cmd_metrics(int argc, char **argv); /* handoff metrics --listen: Prometheus + health */
int ho_cmd_config(int argc, char **argv);  /* handoff config check: every config file */

/* ---- shared helpers (src/cli/cli_util.c) ---- */

/* Edit distance (insert, delete, substitute, swap of neighbours) between a and b. */
size_t ho_cli_distance(const char *a, const char *b);
/* The choice closest to `word` when it is close enough to be a typo of it (distance at most
 * 2 and less than half the word, or word a prefix of one choice), else NULL. */
const char *ho_cli_nearest(const char *word, const char *const *choices, size_t n);
/* After getopt_long returned '?': when the bad argument was a long option near one of
 * `opts`, print "handoff CMD: did you mean --NAME?" to stderr. */
void ho_cli_option_hint(const char *cmd, int argc, char **argv, const struct option *opts);
struct ho_gateway;
/* Before a request that would wait for the broker (dlq replay, forget): ask the broker at
 * endpoint for its status within timeout_ms and, when service is given, require a live worker
 * of it. 0, or -1 after printing to stderr why and what to start ("handoff WHAT: ..."). */
int ho_cli_broker_check(const char *what, const char *endpoint, const struct ho_gateway *gw,
                        const char *service, int timeout_ms);
/* SIGINT and SIGTERM both call handler from now on (no flags, nothing blocked): a command
 * that stops cleanly on either sets its flag there. */
void ho_cli_on_stop_signals(void (*handler)(int));
/* `handoff --version`: version, git revision, and the linked libraries' run-time versions. */
void ho_cli_print_version(FILE *out);

/* ---- the commands' shared environment (src/cli/cli_env.c) ----
 * The options every command that talks to the installation takes (-c/--config, --data-dir,
 * --connect), the gateway config they load, and the paths the workers' settings name, so a
 * command reads the same file a worker writes:
 *
 *     ho_cli_env_t env = {.cmd = "report"};
 *     while ((c = getopt_long (argc, argv, "c:h", opts, NULL)) != -1) {
 *         if (ho_cli_env_option (&env, c, optarg)) continue;
 *         ...
 *     }
 *     if (ho_cli_env_open (&env) != 0) return 1;
 *     ho_cli_env_worker_path (&env, "report", "db", "handoff.db", db, sizeof db);
 *     ...
 *     ho_cli_env_close (&env);
 */
#define HO_CLI_OPT_CONFIG 'c'        /* -c, --config PATH */
#define HO_CLI_OPT_DATA_DIR 0x4001   /* --data-dir DIR */
#define HO_CLI_OPT_CONNECT 0x4002    /* --connect ENDPOINT */
#define HO_CLI_ENV_OPTIONS                                                                      \
    {"config", required_argument, NULL, HO_CLI_OPT_CONFIG},                                     \
        {"data-dir", required_argument, NULL, HO_CLI_OPT_DATA_DIR},                             \
        {"connect", required_argument, NULL, HO_CLI_OPT_CONNECT}

typedef struct {
    const char *cmd;        /* "report": the prefix of every message */
    const char *config;     /* --config as given, or NULL (the default search) */
    const char *data_dir;   /* --data-dir as given, or NULL (data_dir of the config) */
    const char *endpoint;   /* --connect as given, or NULL (broker.endpoint of the config) */
    struct ho_gateway *gw;  /* after ho_cli_env_open */
} ho_cli_env_t;

/* One of the common options from getopt_long: true (and noted) when ch is one of them. */
int ho_cli_env_option(ho_cli_env_t *env, int ch, const char *arg);
/* Load the gateway config and apply --data-dir and --connect. 0, or 1 after printing
 * "handoff CMD: why" to stderr. */
int ho_cli_env_open(ho_cli_env_t *env);
/* The same without printing, for a command that reports a bad config its own way (config
 * check): HO_OK, or the error in err. */
int ho_cli_env_load(ho_cli_env_t *env, ho_err_t *err);
void ho_cli_env_close(ho_cli_env_t *env);
/* The file or folder a worker's setting names: workers.WORKER.KEY of the config (def when
 * unset), under the data folder unless absolute - what the worker itself opens. */
void ho_cli_env_worker_path(const ho_cli_env_t *env, const char *worker, const char *key,
                            const char *def, char *out, size_t cap);
/* A broker client to the environment's endpoint (--connect, else broker.endpoint), with the
 * config's CURVE keys: window requests in flight, each waiting timeout_ms, retries resends
 * (-1: none). NULL after printing "handoff CMD: why". Free with ho_client_destroy. */
struct ho_client *ho_cli_env_client(const ho_cli_env_t *env, int window, int timeout_ms,
                                    int retries);
/* The store's database: db (a --db option) when not NULL, else <data folder>/handoff.db,
 * the file the store worker writes. */
void ho_cli_env_store_db(const ho_cli_env_t *env, const char *db, char *out, size_t cap);

#endif
