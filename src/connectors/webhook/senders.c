/* senders.c - the webhook server's sender threads (webhook_internal.h): the threads that wait
 * on the broker, so that the HTTP threads never do (server.c). Items are taken oldest first by
 * whichever sender is free. Each sender has a broker client of its own, made in that thread on
 * first use (ZeroMQ sockets stay in the thread that made them); all are destroyed with the
 * pool, once the threads are joined. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_internal.h"

typedef struct s_node {
    void *item;
    struct s_node *next;
} s_node_t;

typedef struct {
    ho_wh_senders_t *pool;
    pthread_t thread;
    ho_client_t *client;
} s_sender_t;

struct ho_wh_senders {
    char *endpoint;
    ho_client_opts_t copts;
    ho_wh_send_fn *fn;
    void *arg;
    pthread_key_t key; /* -> the calling sender's s_sender_t */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool have_key, have_sync;
    /* under mu: the queue, oldest first; stopping = nothing more is taken, and the senders
     * end once the queue is empty */
    s_node_t *head, *tail;
    bool stopping;
    s_sender_t *senders;
    int n, n_made; /* running (0 once joined); started */
};

static void *s_run(void *arg)
{
    s_sender_t *me = arg;
    ho_wh_senders_t *self = me->pool;
    pthread_setspecific(self->key, me);
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->head && !self->stopping) {
            pthread_cond_wait(&self->wake, &self->mu);
        }
        s_node_t *node = self->head;
        if (!node) {
            break; /* stopping, and nothing left */
        }
        self->head = node->next;
        if (!self->head) {
            self->tail = NULL;
        }
        pthread_mutex_unlock(&self->mu);
        self->fn(self->arg, node->item);
        free(node);
        pthread_mutex_lock(&self->mu);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

ho_wh_senders_t *ho_wh_senders_new(int n, const char *endpoint, const ho_client_opts_t *copts,
                                   ho_wh_send_fn *fn, void *arg, ho_err_t *err)
{
    ho_wh_senders_t *self = calloc(1, sizeof *self);
    if (!self || !(self->endpoint = strdup(endpoint ? endpoint : "")) ||
        !(self->senders = calloc((size_t)n, sizeof *self->senders))) {
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        ho_wh_senders_destroy(&self);
        return NULL;
    }
    self->copts = *copts;
    self->fn = fn;
    self->arg = arg;
    self->have_key = pthread_key_create(&self->key, NULL) == 0;
    if (self->have_key && pthread_mutex_init(&self->mu, NULL) == 0) {
        self->have_sync = pthread_cond_init(&self->wake, NULL) == 0;
        if (!self->have_sync) {
            pthread_mutex_destroy(&self->mu);
        }
    }
    if (!self->have_sync) {
        ho_err_set(err, HO_ERR_NOMEM, "", "cannot create the sender threads' state");
        ho_wh_senders_destroy(&self);
        return NULL;
    }
    for (; self->n < n; self->n++, self->n_made++) {
        s_sender_t *s = &self->senders[self->n];
        s->pool = self;
        if (pthread_create(&s->thread, NULL, s_run, s) != 0) {
            ho_err_set(err, HO_ERR_NOMEM, "threads", "cannot start the sender threads");
            ho_wh_senders_destroy(&self);
            return NULL;
        }
    }
    return self;
}

int ho_wh_senders_push(ho_wh_senders_t *self, void *item)
{
    s_node_t *node = malloc(sizeof *node);
    if (!node) {
        return -1;
    }
    node->item = item;
    node->next = NULL;
    pthread_mutex_lock(&self->mu);
    bool stopping = self->stopping;
    if (!stopping) {
        if (self->tail) {
            self->tail->next = node;
        } else {
            self->head = node;
        }
        self->tail = node;
        pthread_cond_signal(&self->wake);
    }
    pthread_mutex_unlock(&self->mu);
    if (stopping) {
        free(node);
        return -1;
    }
    return 0;
}

ho_client_t *ho_wh_sender_client(ho_wh_senders_t *self, ho_err_t *err)
{
    s_sender_t *me = pthread_getspecific(self->key);
    if (!me) {
        ho_err_set(err, HO_ERR_IO, "", "the broker is only asked from a sender thread");
        return NULL;
    }
    if (!me->client) {
        me->client = ho_client_new(self->endpoint, &self->copts, err);
    }
    return me->client;
}

void ho_wh_sender_client_drop(ho_wh_senders_t *self)
{
    s_sender_t *me = pthread_getspecific(self->key);
    if (me) {
        ho_client_destroy(&me->client);
    }
}

void ho_wh_senders_stop(ho_wh_senders_t *self)
{
    if (!self || !self->have_sync) {
        return;
    }
    pthread_mutex_lock(&self->mu);
    self->stopping = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->mu);
    for (; self->n > 0; self->n--) {
        pthread_join(self->senders[self->n - 1].thread, NULL); /* each answers what it took */
    }
}

void ho_wh_senders_destroy(ho_wh_senders_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_wh_senders_t *self = *self_p;
    ho_wh_senders_stop(self);
    if (self->have_sync) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->mu);
    }
    for (int i = 0; self->senders && i < self->n_made; i++) {
        ho_client_destroy(&self->senders[i].client);
    }
    if (self->have_key) {
        pthread_key_delete(self->key);
    }
    free(self->senders);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}
