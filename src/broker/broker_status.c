/* broker_status.c - the broker's management service (mmi.service, mmi.status): its status
 * document; see broker.c and broker_internal.h */
#include "broker/broker_internal.h"

/* ------------------------------------------------------------------------------------ */
/* MMI (E7) */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static json_t *s_status(ho_broker_t *self)
{
    json_t *services = json_array();
    zlistx_t *names = zhashx_keys(self->services);
    if (names) {
        zlistx_set_comparator(names, s_cmp_str);
        zlistx_sort(names);
        for (const char *name = zlistx_first(names); name; name = zlistx_next(names)) {
            ho_broker_service_t *s = zhashx_lookup(self->services, name);
            json_array_append_new(
                services,
                json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", s->name,
                          "workers", (json_int_t)s->n_workers, "queued", (json_int_t)s->queue.count,
                          "in_flight", (json_int_t)s->in_flight, "requests",
                          (json_int_t)s->requests, "replies", (json_int_t)s->replies, "routed_in",
                          (json_int_t)s->routed_in, "dead_letters", (json_int_t)s->dead_letters,
                          "parked", (json_int_t)s->parked));
        }
        zlistx_destroy(&names);
    }
    json_t *workers = json_array();
    for (ho_broker_worker_t *w = self->wfirst; w; w = w->next) {
        json_array_append_new(workers,
                              json_pack("{s:s, s:s, s:i, s:i, s:I, s:I}", "id", w->label, "service",
                                        w->service->name, "credit", w->credit, "in_flight",
                                        w->in_flight, "handled", (json_int_t)w->handled,
                                        "last_seen_ms", (json_int_t)(self->now - w->last_seen)));
    }
    json_t *routes = json_object();
    for (size_t i = 0; i < ho_gateway_route_count(self->gw); i++) {
        const char *service = NULL;
        const char *type = ho_gateway_route_at(self->gw, i, &service);
        json_object_set_new(routes, type, json_string(service));
    }
    json_t *endpoints = json_array();
    for (size_t i = 0; i < self->n_endpoints; i++) {
        json_array_append_new(endpoints, json_string(self->endpoints[i]));
    }
    const ho_broker_counters_t *c = &self->c;
    json_t *counters =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "requests",
                  (json_int_t)c->requests, "replies", (json_int_t)c->replies, "routed",
                  (json_int_t)c->routed, "dead_letters", (json_int_t)c->dead_letters,
                  "protocol_errors", (json_int_t)c->protocol_errors, "refused",
                  (json_int_t)c->refused, "requeued", (json_int_t)c->requeued, "stale_replies",
                  (json_int_t)c->stale_replies, "parked", (json_int_t)c->parked, "dropped",
                  (json_int_t)c->dropped, "timeouts", (json_int_t)c->timeouts);
    json_t *st = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:i}", "uptime_ms",
                           (json_int_t)(self->now - self->started), "endpoint",
                           self->n_endpoints ? self->endpoints[0] : "", "endpoints", endpoints,
                           "services", services, "workers", workers, "routes", routes, "counters",
                           counters, "heartbeat_ms", self->hb_ms, "liveness", self->liveness);
    if (st) {
        json_object_set_new(st, "held_bytes", json_integer((json_int_t)self->held_bytes));
        json_object_set_new(st, "max_queue_bytes", json_integer((json_int_t)self->max_queue_bytes));
    }
    /* E11: scalars, so `handoff status` prints them on its broker line */
    if (st && self->journal) {
        ho_journal_stats_t js;
        ho_journal_stats(self->journal, &js);
        json_object_set_new(st, "journal", json_string(ho_journal_path(self->journal)));
        json_object_set_new(st, "journal_pending", json_integer((json_int_t)js.pending));
        json_object_set_new(st, "journal_bytes", json_integer((json_int_t)js.bytes));
        json_object_set_new(st, "journal_commits", json_integer((json_int_t)js.commits));
        json_object_set_new(st, "journal_failures", json_integer((json_int_t)js.failures));
        json_object_set_new(st, "journal_shrinks", json_integer((json_int_t)js.shrinks));
        /* a rolled-back batch not yet rewritten from memory (s_resync) */
        json_object_set_new(st, "journal_resync", json_boolean(self->resync));
        json_object_set_new(st, "journal_recovered", json_integer((json_int_t)self->recovered));
        /* a batch of internal work not yet committed (at most S_JOURNAL_MAX_MS old) */
        json_object_set_new(st, "journal_open", json_boolean(ho_journal_dirty(self->journal)));
    } else if (st) {
        json_object_set_new(st, "journal", json_string("off"));
    }
    return st;
}

void ho_broker_mmi(ho_broker_t *self, zmq_msg_t *f, size_t n)
{
    zmq_msg_t *svcf = &f[3];
    const char *name = zmq_msg_data(svcf);
    size_t len = zmq_msg_size(svcf);
    if (ho_broker_is(svcf, "mmi.service", 11)) {
        char key[S_SERVICE_MAX + 1] = "";
        size_t klen = zmq_msg_size(&f[4]);
        ho_broker_service_t *s = NULL;
        if (ho_broker_valid_service(zmq_msg_data(&f[4]), klen)) {
            memcpy(key, zmq_msg_data(&f[4]), klen);
            key[klen] = '\0';
            s = zhashx_lookup(self->services, key);
        }
        const char *code = s && s->n_workers > 0 ? "200" : "404";
        ho_broker_send_client_bytes(self, &f[0], name, len, code, 3);
    } else if (ho_broker_is(svcf, "mmi.status", 10)) {
        char *buf = NULL;
        size_t blen = 0;
        if (ho_broker_envelope("status", s_status(self), &buf, &blen) == HO_OK) {
            ho_broker_send_client_bytes(self, &f[0], name, len, buf, blen);
        }
        free(buf);
    } else {
        ho_broker_send_client_bytes(self, &f[0], name, len, "501", 3);
    }
}
