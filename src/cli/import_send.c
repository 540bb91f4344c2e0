/* import_send.c - the sending side of `handoff import` (see import_send.h): the batches per
 * service, backpressure from the broker, --serial's idle wait, counting the workers' replies,
 * and the conversation with the store about an import (import.summary, import.stats). */
#include "cli/import_send.h"

#include <czmq.h> /* zsys_interrupted: the broker client stops waiting when it is set */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/cli.h"
#include "handoff/log.h"
#include "handoff/time.h"

/* ---- signals: SIGINT/SIGTERM stop the import at once (the client watches zsys_interrupted) */
static volatile sig_atomic_t s_signal;

int ho_import_signal(void)
{
    return (int)s_signal;
}

static void s_on_signal(int sig)
{
    s_signal = sig;
    zsys_interrupted = 1;
}

void ho_import_catch_signals(void)
{
    ho_cli_on_stop_signals(s_on_signal);
}

/* ---- counters ---- */

void ho_import_count_n(ho_import_counts_t *c, const char *code, long k)
{
    const size_t cap = sizeof c->r / sizeof c->r[0];
    c->total += k;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->n; i++) {
            if (strcmp(c->r[i].code, code) == 0) {
                c->r[i].count += k;
                return;
            }
        }
        if (c->n < cap - 1 || (c->n < cap && strcmp(code, "other") == 0)) {
            snprintf(c->r[c->n].code, sizeof c->r[0].code, "%s", code);
            c->r[c->n++].count = k;
            return;
        }
        code = "other"; /* more reasons than slots: the rest counted under one name */
    }
}

void ho_import_count(ho_import_counts_t *c, const char *code)
{
    ho_import_count_n(c, code, 1);
}

void ho_import_reason(ho_import_stats_t *st, const char *code)
{
    ho_import_count(&st->quarantined, code);
}

/* Count one worker reply: what the pipeline made of our records. */
static void s_count_reply(ho_import_ctx_t *c, ho_msg_t *const *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *type = ho_msg_type(msgs[i]);
        const json_t *p = ho_msg_payload(msgs[i]);
        if (!strcmp(type, "lead.normalized")) {
            c->stats->accepted++;
            const char *email = json_string_value(json_object_get(p, "email"));
            ho_err_t err;
            if (email && c->seen && ho_dupcount_add(c->seen, email, &err) != HO_OK) {
                ho_warn("%s", err.message); /* once: the counter stops, the import goes on */
                c->stats->dups_unknown = true;
                ho_dupcount_destroy(&c->seen);
            }
        } else if (!strcmp(type, "activity.normalized") || !strcmp(type, "lead.outcome")) {
            c->stats->accepted++;
        } else if (!strcmp(type, "quarantine")) {
            const char *code = json_string_value(json_object_get(p, "code"));
            ho_import_reason(c->stats, code ? code : "unknown");
        } else if (!strcmp(type, "error")) {
            const char *m = json_string_value(json_object_get(p, "message"));
            ho_warn("worker refused a batch: %s", m ? m : "(no message)");
        }
    }
}

typedef struct {
    ho_import_ctx_t *ctx;
    long records; /* in this request */
} s_req_t;

static void s_on_reply(void *arg, uint64_t tag, ho_msg_t *const *msgs, size_t n)
{
    (void)tag;
    s_req_t *req = arg;
    if (!msgs) {
        req->ctx->stats->failed += req->records;
    } else {
        s_count_reply(req->ctx, msgs, n);
    }
    free(req);
}

/* ---- sending ---- */

/* SIGINT / SIGTERM (CZMQ's handler sets zsys_interrupted; the client then fails what is in
 * flight at once): the import stops where it is, says so and exits 1. */
bool ho_import_stopped(ho_import_sender_t *s)
{
    if (!s->client || !zsys_interrupted) {
        return false;
    }
    if (!s->io_error) {
        snprintf(s->error, sizeof s->error,
                 "interrupted by a signal: stopped at once (records sent before may be stored; "
                 "import the file again: the same records are the same events)");
    }
    s->io_error = 1;
    return true;
}

/* Requests queued in the broker for services that have workers (-1 if the status could not
 * be read). A queue without workers is not drained by waiting: named once, not counted. */
static long s_backlog(ho_import_sender_t *s, char *worst, size_t cap)
{
    json_t *st = NULL;
    ho_err_t err = {0};
    if (ho_client_status(s->client, &st, &err) != HO_OK) {
        ho_debug("backlog: %s", err.message);
        return -1;
    }
    char orphan[64];
    long orphan_queued = 0;
    long total = ho_client_status_backlog(st, worst, cap, orphan, sizeof orphan, &orphan_queued);
    if (orphan_queued > s->max_backlog && !s->warned_orphans) {
        ho_warn("service %s has %ld queued requests and no workers", orphan, orphan_queued);
        s->warned_orphans = true;
    }
    json_decref(st);
    return total;
}

/* After each data batch (one mmi.status round trip to the broker, answered by the broker
 * itself): above max_backlog, wait until the queues are down to half. The status requests
 * keep our own replies flowing meanwhile. So the broker holds at most about max_backlog +
 * window requests of this import, whatever the file size. */
static void s_throttle(ho_import_sender_t *s)
{
    if (!s->client || s->max_backlog <= 0 || s->io_error) {
        return;
    }
    int64_t now = ho_now_ms();
    char worst[96] = "";
    long backlog = s_backlog(s, worst, sizeof worst);
    if (backlog <= s->max_backlog) {
        return;
    }
    ho_info("pipeline backlog: %ld requests queued (most: %s); waiting until %ld or fewer", backlog,
            worst, s->max_backlog / 2);
    while (backlog > s->max_backlog / 2 && !ho_import_stopped(s)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        backlog = s_backlog(s, worst, sizeof worst);
        if (backlog < 0 || s_signal) {
            break; /* the broker went away (the next send says so) or we were stopped */
        }
    }
    s->waited_ms += ho_now_ms() - now;
}

/* --serial: after each data batch, wait until no service has anything queued or in flight
 * (our own request's reply included: the status requests pump it) and the broker's counters
 * stood still between two polls. Then what the batch set off downstream (scores, routing)
 * is done before the next batch starts, and concurrent workers cannot interleave two
 * batches' effects differently from one run to the next. */
static void s_wait_idle(ho_import_sender_t *s)
{
    json_int_t last = -1;
    int quiet = 0;
    while (quiet < 2 && !ho_import_stopped(s) && !s_signal) {
        json_t *st = NULL;
        ho_err_t err = {0};
        if (ho_client_status(s->client, &st, &err) != HO_OK) {
            return; /* the broker went away: the next send says so */
        }
        json_int_t seen = 0;
        bool busy = ho_client_status_busy(st, &seen);
        quiet = !busy && seen == last ? quiet + 1 : 0;
        last = seen;
        json_decref(st);
        if (quiet < 2) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

void ho_import_flush(ho_import_sender_t *s, ho_import_batch_t *b)
{
    if (b->n == 0) {
        return;
    }
    bool counted = strcmp(b->service, "store") == 0; /* quarantines: counted when read */
    if (s->client) {
        s_req_t *req = calloc(1, sizeof *req);
        req->ctx = s->ctx;
        req->records = counted ? 0 : (long)b->n;
        ho_err_t err = {0};
        uint64_t tag = ho_client_send(s->client, b->service, b->msgs, b->n, s_on_reply, req, &err);
        if (tag == 0) {
            free(req);
            s->ctx->stats->failed += counted ? 0 : (long)b->n;
            if (!s->io_error) {
                snprintf(s->error, sizeof s->error, "send to %s: %s", b->service, err.message);
            }
            s->io_error = 1;
        }
        if (!counted) {
            s->ctx->stats->sent += (long)b->n;
            if (!s->serial) {
                s_throttle(s);
            }
        }
        if (s->serial) {
            s_wait_idle(s); /* quarantine batches too: their rows' ids follow the file */
        }
    } else if (!counted && s->dry[strcmp(b->service, "feedback") == 0]) {
        int w = strcmp(b->service, "feedback") == 0;
        ho_out_t *out = ho_out_new("import@dry-run");
        int rc = ho_worker_call(s->dry[w], s->dry_ctx[w], b->msgs, b->n, out);
        if (rc == HO_WORKER_OK) {
            size_t n = ho_out_count(out);
            ho_msg_t **res = malloc((n ? n : 1) * sizeof *res);
            for (size_t i = 0; res && i < n; i++) {
                res[i] = ho_out_at(out, i);
            }
            if (res) {
                s_count_reply(s->ctx, res, n);
            }
            free(res);
        } else {
            s->ctx->stats->failed += (long)b->n;
        }
        ho_out_destroy(&out);
    } else if (!counted) {
        s->ctx->stats->accepted += (long)b->n; /* dry run without a worker for the kind */
    }
    for (size_t i = 0; i < b->n; i++) {
        ho_msg_destroy(&b->msgs[i]);
    }
    b->n = 0;
}

/* A batch that will not be sent (SIGINT/SIGTERM). */
void ho_import_drop(ho_import_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ho_msg_destroy(&b->msgs[i]);
    }
    b->n = 0;
}

void ho_import_add(ho_import_sender_t *s, ho_import_batch_t *b, ho_msg_t *msg)
{
    b->msgs[b->n++] = msg;
    if (b->n >= s->batch) {
        ho_import_flush(s, b);
    }
}

/* ---- the store: import.summary and import.stats ---- */

static json_t *s_counts_json(const ho_import_counts_t *c)
{
    json_t *o = json_object();
    for (size_t i = 0; i < c->n; i++) {
        json_object_set_new(o, c->r[i].code, json_integer(c->r[i].count));
    }
    return o;
}

/* Service "store" at the broker (mmi.status): 1 with workers, 0 known but without workers (it
 * stopped or died: what was routed to it waits, not stored), -1 not there at all (a pipeline
 * that routes elsewhere: nobody can say what was stored) or no answer. */
int ho_import_store_state(ho_import_sender_t *s)
{
    json_t *st = NULL;
    ho_err_t err = {0};
    if (!s->probe || ho_client_status(s->probe, &st, &err) != HO_OK) {
        return -1;
    }
    int state = -1;
    size_t i;
    json_t *svc;
    json_array_foreach(json_object_get(st, "services"), i, svc)
    {
        const char *name = json_string_value(json_object_get(svc, "name"));
        if (name && strcmp(name, "store") == 0) {
            state = json_integer_value(json_object_get(svc, "workers")) > 0 ? 1 : 0;
        }
    }
    json_decref(st);
    return state;
}

/* import.summary to the store (CONTRACT-12): upserted there by import_id. */
void ho_import_send_summary(ho_import_sender_t *s, const ho_import_stats_t *st)
{
    if (!s->probe) {
        return;
    }
    const char *base = strrchr(st->file, '/') ? strrchr(st->file, '/') + 1 : st->file;
    ho_msg_t *m = ho_msg_new("import.summary");
    char id[HO_MSG_MAX_ID];
    ho_msg_make_id(id, sizeof id, "imp-summary", st->import_id, strlen(st->import_id));
    ho_msg_set_id(m, id);
    ho_msg_set_payload(
        m, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:I}", "import_id", st->import_id,
                     "source", st->profile, "kind", st->kind, "file", base, "read",
                     (json_int_t)st->read, "accepted", (json_int_t)st->accepted, "skipped",
                     s_counts_json(&st->skipped), "quarantined", s_counts_json(&st->quarantined),
                     "finished_at", (json_int_t)(s->now_ms ? s->now_ms : ho_now_ms())));
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    if (ho_client_request(s->probe, "store", &m, 1, &reply, &n, &err) != HO_OK) {
        ho_warn("import.summary of %s not delivered: %s", st->file, err.message);
    }
    ho_msg_batch_free(&reply, n);
    ho_msg_destroy(&m);
}

/* One import.stats round trip: 1 with the reply's payload (caller decrefs), 0 when the store
 * does not know the request (an older store: unknown_type), -1 when nobody answered or the
 * store answered with a failure. */
static int s_ask_stats(ho_import_sender_t *s, const char *import_id, json_t **out)
{
    ho_msg_t *m = ho_msg_new("import.stats");
    ho_msg_set_payload(m, json_pack("{s:s}", "import_id", import_id));
    ho_msg_t **reply = NULL;
    size_t n = 0;
    ho_err_t err = {0};
    int rc = ho_client_request(s->probe, "store", &m, 1, &reply, &n, &err);
    ho_msg_destroy(&m);
    if (rc != HO_OK) {
        ho_debug("import.stats: %s", err.message);
        return -1;
    }
    int found = -1;
    for (size_t i = 0; i < n && found < 1; i++) {
        const json_t *p = ho_msg_payload(reply[i]);
        const char *code = json_string_value(json_object_get(p, "code"));
        if (strcmp(ho_msg_type(reply[i]), "import.stats") == 0 &&
            json_is_integer(json_object_get(p, "applied"))) {
            *out = json_deep_copy(p);
            found = 1;
        } else if (code && strcmp(code, "unknown_type") == 0) {
            found = 0;
        }
    }
    ho_msg_batch_free(&reply, n);
    return found;
}

static long s_int(const json_t *o, const char *key)
{
    return (long)json_integer_value(json_object_get(o, key));
}

/* One import.stats answer into st; returns what the store has done with the records
 * (applied, plus what it refused itself: its quarantined count holds ours too). */
static long s_take_stats(ho_import_stats_t *st, const json_t *r)
{
    long down = s_int(r, "quarantined") - st->quarantined.total;
    st->applied = s_int(r, "applied");
    st->new_people = s_int(r, "new");
    st->merged = s_int(r, "merged");
    /* records the store gave up on (an I/O error, a corrupt page) are not stored */
    st->not_stored = s_int(r, "failed");
    return st->applied + (down > 0 ? down : 0);
}

/* Wait until the store has applied (or refused) every accepted record: new and merged come
 * from it. Its queue is first in, first out, so its first answer already covers what was
 * routed to it before; then it is asked again while the count grows. Accepted records it
 * never counts were the same events as records applied before (a repeated row, an earlier
 * import): said on stderr, not an error. Only a store that does not answer for --settle is:
 * what it never applied is not_stored. */
void ho_import_wait_stored(ho_import_sender_t *s, ho_import_stats_t *st)
{
    if (!s->probe || s->no_stats) {
        return;
    }
    long last = -1;
    int64_t since = ho_now_ms();
    const int64_t quiet_ms = s->settle_ms < 2000 ? s->settle_ms : 2000;
    for (;;) {
        if (ho_import_stopped(s)) {
            st->not_stored = st->accepted - (st->applied > 0 ? st->applied : 0);
            return;
        }
        json_t *r = NULL;
        int got = s_ask_stats(s, st->import_id, &r);
        if (got == 0) {
            ho_warn("the store does not answer import.stats: new and merged are not known");
            s->no_stats = true;
            return;
        }
        long done = got > 0 ? s_take_stats(st, r) : last;
        json_decref(r);
        if (got > 0 && done >= st->accepted) {
            return;
        }
        if (got > 0 && done != last) {
            last = done;
            since = ho_now_ms();
        } else if (got > 0 && ho_now_ms() - since >= quiet_ms) {
            ho_info("file=%s: %ld accepted records were the same events as records the store "
                    "had applied before (a repeated row, an earlier import): not counted again",
                    st->file, st->accepted - done);
            return;
        } else if (got < 0 && ho_now_ms() - since >= s->settle_ms) {
            st->not_stored = st->accepted - (last > 0 ? last : 0);
            ho_warn("file=%s: the store did not answer for %ld ms: %ld accepted records not "
                    "stored",
                    st->file, s->settle_ms, st->not_stored);
            return;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
