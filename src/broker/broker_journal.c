/* broker_journal.c - the broker's journal (E11): batches made durable before their replies go
 * out, the rewrite after a rollback, the shrink when idle, and the replay of routed requests at
 * start; see broker.c and broker_internal.h */
#include "broker/broker_internal.h"

/* Make the journal batch durable, then send the replies that waited for it. When the commit
 * fails nothing of the batch is durable: the replies are dropped so the clients resend (their
 * effects are idempotent), and internal requests whose removal was rolled back stay in the
 * file to be delivered again after a restart.
 *
 * A batch without a client waiting (only internal requests answered and routed) acknowledges
 * nothing, so it may stay open for up to S_JOURNAL_MAX_MS and share its fsync with what
 * follows: a crash before its commit rolls it back to the parents, which are delivered again.
 * force: commit whatever is open (the broker stops). */
void ho_broker_flush(ho_broker_t *self, bool force)
{
    if (!self->journal) {
        return;
    }
    bool durable = true;
    if (ho_journal_dirty(self->journal)) {
        if (!self->batch_opened) {
            self->batch_opened = self->now ? self->now : 1;
        }
        if (!force && self->acks.count == 0 && self->now - self->batch_opened < S_JOURNAL_MAX_MS) {
            return;
        }
        self->batch_opened = 0;
        ho_err_t err = {0};
        self->last_commit = self->now;
        self->maintained = false;
        if (ho_journal_commit(self->journal, &err) != HO_OK) {
            durable = false;
            self->resync = true;
            ho_error("%s; %zu client replies withheld (the clients resend)", err.message,
                     self->acks.count);
        }
    }
    ho_req_t *ack;
    while ((ack = ho_req_list_pop_front(&self->acks))) {
        if (durable) {
            ho_broker_service_t *svc = ack->service;
            ho_broker_send_client(self, &ack->client, svc->name, svc->len, ack->frames,
                                  ack->nframes);
        }
        ho_broker_req_free(self, ack);
    }
}

/* Put one internal request back into the journal under its id (s_resync). */
static void s_journal_put(ho_broker_t *self, ho_req_t *req)
{
    if (req->has_client || !req->jid || req->nframes > S_MAX_FRAMES) {
        return;
    }
    const void *data[S_MAX_FRAMES];
    size_t lens[S_MAX_FRAMES];
    for (size_t i = 0; i < req->nframes; i++) {
        data[i] = zmq_msg_data(&req->frames[i]);
        lens[i] = zmq_msg_size(&req->frames[i]);
    }
    ho_broker_service_t *svc = req->service;
    ho_journal_put(self->journal, req->jid, svc->name, req->attempts, data, lens, req->nframes);
}

/* After a rolled-back batch the file and memory disagree: rows whose removal was undone
 * (answered requests that would be delivered again only after a restart, "pending forever"
 * until then) and routed requests that exist only in memory. Memory is the truth: the file
 * is rewritten from the internal requests queued and in flight, in one batch. */
static void s_resync(ho_broker_t *self)
{
    ho_journal_clear(self->journal);
    for (ho_broker_service_t *svc = zhashx_first(self->services); svc;
         svc = zhashx_next(self->services)) {
        for (ho_req_t *r = svc->queue.head; r; r = r->next) {
            s_journal_put(self, r);
        }
    }
    for (ho_broker_worker_t *w = self->wfirst; w; w = w->next) {
        for (ho_req_t *r = w->inflight.head; r; r = r->next) {
            s_journal_put(self, r);
        }
    }
    ho_err_t err = {0};
    if (ho_journal_commit(self->journal, &err) != HO_OK) {
        ho_error("%s; the journal is rewritten again in %d ms", err.message, S_JOURNAL_IDLE_MS);
        return;
    }
    self->resync = false;
    ho_journal_stats_t js;
    ho_journal_stats(self->journal, &js);
    ho_info("journal resynced from memory after a rolled-back batch pending=%llu",
            (unsigned long long)js.pending);
}

/* When nothing has been written for S_JOURNAL_IDLE_MS: rewrite it if a batch was rolled
 * back, then shrink the file and its WAL (issue 14 item 9: an empty journal stayed at the
 * size of its largest backlog). Once per quiet period. */
void ho_broker_journal_idle(ho_broker_t *self)
{
    if (!self->journal || self->maintained || ho_journal_dirty(self->journal) || self->acks.count ||
        self->now - self->last_commit < S_JOURNAL_IDLE_MS) {
        return;
    }
    if (self->resync) {
        s_resync(self);
        if (self->resync) {
            self->last_commit = self->now; /* try again after another quiet period */
            return;
        }
    }
    ho_err_t err = {0};
    if (ho_journal_idle(self->journal, &err) != HO_OK) {
        ho_warn("%s (the journal stays larger than it needs to be; nothing is lost)", err.message);
    }
    self->maintained = true;
}

/* One journaled request back into its service queue, in journal order (E11). */
static int s_journal_row(void *arg, const ho_journal_row_t *row)
{
    ho_broker_t *self = arg;
    size_t len = strlen(row->service);
    if (!ho_broker_valid_service(row->service, len) || strncmp(row->service, "mmi.", 4) == 0) {
        return HO_ERR_FIELD;
    }
    ho_broker_service_t *svc = ho_broker_service_require(self, row->service, len);
    ho_req_t *req = svc ? ho_reqpool_alloc(self->pool, row->nframes) : NULL;
    if (!req) {
        return HO_ERR_NOMEM;
    }
    for (size_t i = 0; i < row->nframes; i++) {
        if (zmq_msg_init_size(&req->frames[i], row->lens[i]) != 0) {
            ho_reqpool_free(self->pool, req);
            return HO_ERR_NOMEM;
        }
        if (row->lens[i]) {
            memcpy(zmq_msg_data(&req->frames[i]), row->frames[i], row->lens[i]);
        }
    }
    req->service = svc;
    req->attempts = row->attempts;
    req->jid = row->id;
    ho_broker_req_hold(self, req);
    ho_req_list_push_back(&svc->queue, req);
    self->recovered++;
    return HO_OK;
}

/* Open broker.journal under the data dir (unless it is off) and queue what it holds. */
int ho_broker_journal_open(ho_broker_t *self, ho_err_t *err)
{
    const char *rel = ho_gateway_journal(self->gw);
    if (!rel || !rel[0]) {
        return HO_OK;
    }
    char path[4096];
    const char *dir = ho_gateway_data_dir(self->gw);
    int n = rel[0] == '/' || !dir || !dir[0] ? snprintf(path, sizeof path, "%s", rel)
                                             : snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= sizeof path) {
        return ho_err_set(err, HO_ERR_CONFIG, "broker.journal", "broker.journal: path too long");
    }
    char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        *slash = '\0';
        int rc = zsys_dir_create("%s", path);
        int mode = zsys_file_mode(path);
        if (rc != 0 || mode == -1 || !S_ISDIR((mode_t)mode)) {
            ho_err_set(err, HO_ERR_IO, "broker.journal",
                       "broker journal: cannot create the folder '%s'", path);
            return HO_ERR_IO;
        }
        *slash = '/';
    }
    self->journal = ho_journal_open(path, err);
    if (!self->journal) {
        return err ? err->code : HO_ERR_IO;
    }
    ho_err_t lerr = {0};
    int rc = ho_journal_load(self->journal, s_journal_row, self, &lerr);
    if (rc != HO_OK) {
        if (lerr.message[0]) {
            if (err) {
                *err = lerr;
            }
        } else {
            ho_err_set(err, rc, "broker.journal",
                       "broker journal %s: a pending request names an invalid service, or out "
                       "of memory while loading",
                       path);
        }
        return rc;
    }
    return HO_OK;
}
