/* run_supervise.c - the process supervisor of `handoff run` (see run_supervise.h): children
 * started, reaped, restarted with backoff and stopped in order, and the demo's foreground
 * steps run while the children are supervised. */
#include "cli/run_supervise.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handoff/log.h"

static volatile sig_atomic_t s_stop = 0;

int ho_run_stopping(void)
{
    return (int)s_stop;
}

static void s_on_signal(int sig)
{
    s_stop = sig;
}

int64_t ho_run_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ho_run_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- children --------------------------------------------------------------------------- */

ho_run_child_t *ho_run_child_add(ho_run_t *run, const char *label, const char *const *args)
{
    if (run->n_children >= RUN_MAX_CHILDREN) {
        return NULL;
    }
    ho_run_child_t *c = &run->children[run->n_children++];
    memset(c, 0, sizeof *c);
    snprintf(c->label, sizeof c->label, "%s", label);
    size_t n = 0;
    c->argv[n++] = strdup(run->exe);
    for (size_t i = 0; args[i] && n < RUN_MAX_ARGS - 1; i++) {
        c->argv[n++] = strdup(args[i]);
    }
    c->argv[n] = NULL;
    c->backoff_ms = 1000;
    return c;
}

void ho_run_children_free(ho_run_t *run)
{
    for (size_t i = 0; i < run->n_children; i++) {
        for (size_t k = 0; run->children[i].argv[k]; k++) {
            free(run->children[i].argv[k]);
        }
    }
    run->n_children = 0;
}

/* fork + exec. quiet: stdout to /dev/null (daemons); otherwise inherited (demo steps). */
static pid_t s_spawn(char *const *argv, bool quiet)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* the supervisor died: go too */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, 1);
                close(fd);
            }
        }
        execv(argv[0], argv);
        fprintf(stderr, "handoff run: cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

int ho_run_child_start(ho_run_child_t *c)
{
    c->pid = s_spawn(c->argv, true);
    if (c->pid < 0) {
        c->pid = 0;
        ho_error("cannot fork %s: %s", c->label, strerror(errno));
        return -1;
    }
    ho_debug("started %s pid=%d", c->label, (int)c->pid);
    return 0;
}

static void s_describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status)) {
        snprintf(out, cap, "exit=%d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(out, cap, "signal=%s", strsignal(WTERMSIG(status)));
    } else {
        snprintf(out, cap, "status=%d", status);
    }
}

/* Reap every exited process; schedule restarts unless stopping. */
static void s_reap(ho_run_t *run)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (run->step_pid && pid == run->step_pid) {
            run->step_status = status;
            run->step_done = true;
            run->step_pid = 0;
            continue;
        }
        for (size_t i = 0; i < run->n_children; i++) {
            ho_run_child_t *c = &run->children[i];
            if (c->pid != pid) {
                continue;
            }
            c->pid = 0;
            if (s_stop) {
                break;
            }
            char how[64];
            s_describe_status(status, how, sizeof how);
            ho_warn("%s died (%s); restarting in %d ms", c->label, how, c->backoff_ms);
            c->start_at = ho_run_mono_ms() + c->backoff_ms;
            c->backoff_ms = c->backoff_ms * 2 > 30000 ? 30000 : c->backoff_ms * 2;
            c->restarts++;
            run->restarts++;
            break;
        }
    }
}

/* Reap, and start the children whose restart is due. */
void ho_run_supervise(ho_run_t *run)
{
    s_reap(run);
    if (s_stop) {
        return;
    }
    int64_t now = ho_run_mono_ms();
    for (size_t i = 0; i < run->n_children; i++) {
        ho_run_child_t *c = &run->children[i];
        if (c->pid == 0 && c->start_at <= now) {
            if (ho_run_child_start(c) == 0 && c->restarts) {
                printf("run restarted %s pid=%d restarts=%d\n", c->label, (int)c->pid, c->restarts);
                fflush(stdout);
            }
        }
    }
}

/* SIGTERM to every running child in [from, to), then wait up to grace_ms; SIGKILL the rest.
 * Returns how many had to be killed. */
static int s_stop_range(ho_run_t *run, size_t from, size_t to, int grace_ms)
{
    for (size_t i = from; i < to; i++) {
        if (run->children[i].pid > 0) {
            kill(run->children[i].pid, SIGTERM);
        }
    }
    int64_t deadline = ho_run_mono_ms() + grace_ms;
    for (;;) {
        s_reap(run);
        bool alive = false;
        for (size_t i = from; i < to; i++) {
            alive = alive || run->children[i].pid > 0;
        }
        if (!alive) {
            return 0;
        }
        if (ho_run_mono_ms() >= deadline) {
            break;
        }
        ho_run_sleep_ms(20);
    }
    int killed = 0;
    for (size_t i = from; i < to; i++) {
        ho_run_child_t *c = &run->children[i];
        if (c->pid > 0) {
            ho_warn("%s did not stop within %d ms: SIGKILL", c->label, grace_ms);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, NULL, 0);
            c->pid = 0;
            killed++;
        }
    }
    return killed;
}

/* Workers first (they say DISCONNECT to a live broker), then the broker (child 0). */
int ho_run_stop_all(ho_run_t *run)
{
    if (!s_stop) {
        s_stop = SIGTERM;
    }
    if (run->step_pid > 0) {
        kill(run->step_pid, SIGTERM);
    }
    size_t first_worker = run->has_broker ? 1 : 0;
    int killed = s_stop_range(run, first_worker, run->n_children, 10000);
    killed += s_stop_range(run, 0, first_worker, 5000);
    if (run->step_pid > 0) {
        waitpid(run->step_pid, NULL, 0);
        run->step_pid = 0;
    }
    return killed;
}

/* Run one foreground step (demo-data, import) while supervising the children.
 * Returns its exit code, or -1 when it did not finish (stop requested, or killed). */
int ho_run_step(ho_run_t *run, const char *const *args)
{
    char *argv[RUN_MAX_ARGS + 2];
    size_t n = 0;
    argv[n++] = run->exe;
    for (size_t i = 0; args[i] && n < RUN_MAX_ARGS; i++) {
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    run->step_done = false;
    run->step_pid = s_spawn(argv, false);
    if (run->step_pid < 0) {
        run->step_pid = 0;
        ho_error("cannot fork %s: %s", args[0], strerror(errno));
        return -1;
    }
    while (!run->step_done) {
        if (s_stop) {
            return -1;
        }
        ho_run_supervise(run);
        if (!run->step_done) {
            ho_run_sleep_ms(20);
        }
    }
    if (WIFEXITED(run->step_status)) {
        return WEXITSTATUS(run->step_status);
    }
    char how[64];
    s_describe_status(run->step_status, how, sizeof how);
    ho_error("%s ended by %s", args[0], how);
    return -1;
}

void ho_run_install_signals(void)
{
    /* signals: a flag; the loop does the rest. czmq would install its own SIGINT/SIGTERM
     * handlers when the first client socket is made, replacing this one: tell it not to. */
    zsys_handler_set(NULL);
    ho_cli_on_stop_signals(s_on_signal);
    setenv("HO_LOG_LEVEL", "warn", 0); /* children: warnings and errors unless asked */
}
