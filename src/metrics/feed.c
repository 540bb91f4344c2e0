/* feed.c - the broker status fetch and the background snapshot servers scrape (metrics.h).
 * The webhook server serves /metrics from a feed: its request threads copy the last text
 * under a mutex and never talk to the broker, so a stalled broker makes the snapshot older
 * (handoff_metrics_snapshot_age_seconds says how old), never a request thread wait. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/log.h"
#include "handoff/metrics.h"

json_t *ho_metrics_status(const char *endpoint, const ho_client_opts_t *copts, int timeout_ms)
{
    ho_client_opts_t o = {0};
    if (copts) {
        o = *copts;
    }
    o.window = 1;
    o.timeout_ms = timeout_ms;
    o.retries = -1; /* one try: an unanswered status is handoff_up 0, not a wait */
    ho_err_t err = {0};
    ho_client_t *c = ho_client_new(endpoint, &o, &err);
    json_t *st = NULL;
    if (c && ho_client_status(c, &st, &err) != HO_OK) {
        ho_debug("status: %s", err.message);
        st = NULL;
    }
    ho_client_destroy(&c);
    return st;
}

struct ho_metrics_feed {
    char *endpoint, *server_key, *cert_path, *server_cert, *data_dir, *outbox_dir, *journal;
    ho_client_opts_t copts;
    ho_metrics_opts_t opts;
    int refresh_ms, timeout_ms;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    char *text;      /* the last snapshot (under mu) */
    int64_t text_at; /* when it was taken */
};

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void *s_run(void *arg)
{
    ho_metrics_feed_t *self = arg;
    pthread_mutex_lock(&self->mu);
    while (!self->stop) {
        pthread_mutex_unlock(&self->mu);
        json_t *st = ho_metrics_status(self->endpoint, &self->copts, self->timeout_ms);
        ho_err_t err = {0};
        char *text = ho_metrics_render(st, &self->opts, &err);
        json_decref(st);
        pthread_mutex_lock(&self->mu);
        if (text) {
            free(self->text);
            self->text = text;
            self->text_at = ho_now_ms();
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += self->refresh_ms / 1000;
        until.tv_nsec += (long)(self->refresh_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!self->stop &&
               pthread_cond_timedwait(&self->wake, &self->mu, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

ho_metrics_feed_t *ho_metrics_feed_new(const char *endpoint, const ho_client_opts_t *copts,
                                       const ho_metrics_opts_t *opts, int refresh_ms,
                                       int timeout_ms, ho_err_t *err)
{
    ho_metrics_feed_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    if (copts) {
        self->copts = *copts;
        self->copts.curve_server_key = self->server_key = s_dup(copts->curve_server_key);
        self->copts.curve_cert_path = self->cert_path = s_dup(copts->curve_cert_path);
        self->copts.curve_server_cert = self->server_cert = s_dup(copts->curve_server_cert);
    }
    self->endpoint = s_dup(endpoint);
    if (opts) {
        self->opts = *opts;
        self->opts.data_dir = self->data_dir = s_dup(opts->data_dir);
        self->opts.outbox_dir = self->outbox_dir = s_dup(opts->outbox_dir);
        self->opts.journal = self->journal = s_dup(opts->journal);
    }
    self->refresh_ms = refresh_ms > 0 ? refresh_ms : 5000;
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->wake, NULL);
    if (!self->endpoint || pthread_create(&self->thread, NULL, s_run, self) != 0) {
        ho_err_set(err, HO_ERR_NOMEM, "", "cannot start the metrics thread");
        ho_metrics_feed_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

char *ho_metrics_feed_text(ho_metrics_feed_t *self)
{
    char *out = NULL;
    size_t len = 0;
    pthread_mutex_lock(&self->mu);
    if (self->text) {
        FILE *f = open_memstream(&out, &len);
        if (f) {
            fputs(self->text, f);
            fprintf(f,
                    "# HELP handoff_metrics_snapshot_age_seconds age of this snapshot (refreshed "
                    "in the background)\n# TYPE handoff_metrics_snapshot_age_seconds gauge\n"
                    "handoff_metrics_snapshot_age_seconds %.3f\n",
                    (double)(ho_now_ms() - self->text_at) / 1000.0);
            if (fclose(f) != 0) {
                free(out);
                out = NULL;
            }
        }
    }
    pthread_mutex_unlock(&self->mu);
    return out;
}

void ho_metrics_feed_destroy(ho_metrics_feed_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_metrics_feed_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->thread, NULL);
    }
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->mu);
    free(self->text);
    free(self->endpoint);
    free(self->server_key);
    free(self->cert_path);
    free(self->server_cert);
    free(self->data_dir);
    free(self->outbox_dir);
    free(self->journal);
    free(self);
    *self_p = NULL;
}
