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
/* `handoff --version`: version, git revision, and the linked libraries' run-time versions. */
void ho_cli_print_version(FILE *out);

#endif
