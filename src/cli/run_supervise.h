/*
 * run_supervise.h - the process supervisor behind `handoff run`: the children (broker,
 * workers, webhook server) as `handoff ...` processes, restarted when they die (backoff 1 s
 * doubling to 30 s), stopped workers first and broker last; and one foreground step at a
 * time (the demo's demo-data and import processes) while the children stay supervised.
 * SIGINT / SIGTERM only set a flag (ho_run_stopping) that every loop here looks at.
 *
 * Internal to the CLI (src/cli/run_cmd.c decides what to run; this runs it).
 */
#ifndef HO_CLI_RUN_SUPERVISE_H
#define HO_CLI_RUN_SUPERVISE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "handoff/cli.h"

#define RUN_MAX_CHILDREN 40
#define RUN_MAX_ARGS 16

typedef struct {
    char label[32];           /* "broker", "worker.score.2", "webhook" */
    char *argv[RUN_MAX_ARGS]; /* owned strings, NULL-terminated */
    pid_t pid;                /* 0 when not running */
    int restarts;
    int backoff_ms;
    int64_t start_at; /* monotonic ms of the next (re)start when pid == 0 */
} ho_run_child_t;

typedef struct {
    char exe[PATH_MAX];
    char data_dir[PATH_MAX];
    char endpoint[512];
    ho_cli_env_t env; /* -c as given (passed on to the children), the loaded config */
    ho_run_child_t children[RUN_MAX_CHILDREN];
    size_t n_children;
    pid_t step_pid; /* the demo step running now, or 0 */
    int step_status;
    bool step_done;
    int restarts;
    bool has_broker; /* children[0] is the broker (else it runs elsewhere) */
} ho_run_t;

/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int ho_run_stopping(void);
/* SIGINT / SIGTERM set the stop flag (czmq told not to install its own handlers); children
 * log at warn unless HO_LOG_LEVEL says otherwise. */
void ho_run_install_signals(void);
int64_t ho_run_mono_ms(void);
void ho_run_sleep_ms(int ms);

/* A child running `handoff ARGS...` (not started yet); NULL when the table is full. */
ho_run_child_t *ho_run_child_add(ho_run_t *run, const char *label, const char *const *args);
void ho_run_children_free(ho_run_t *run);
/* Fork and exec the child (stdout to /dev/null). 0, or -1 after logging why. */
int ho_run_child_start(ho_run_child_t *c);
/* Reap the children that exited and start those whose restart is due. */
void ho_run_supervise(ho_run_t *run);
/* Stop every child (and a running step): SIGTERM, SIGKILL after a grace period. Returns
 * how many had to be killed. Sets the stop flag. */
int ho_run_stop_all(ho_run_t *run);
/* Run `handoff ARGS...` in the foreground (stdout inherited) while supervising: its exit
 * code, or -1 when it did not finish (stopped, killed, no fork). */
int ho_run_step(ho_run_t *run, const char *const *args);

#endif
