/* broker_internal.h - what the files of the broker share (broker.c: the loop, services,
 * queues and clients; broker_worker.c; broker_journal.c; broker_deadletter.c;
 * broker_status.c): the broker's state and its helpers. Not public. */
#ifndef HO_BROKER_INTERNAL_H
#define HO_BROKER_INTERNAL_H

#include "handoff/broker.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/idmap.h"
#include "broker/journal.h"
#include "broker/reqpool.h"
#include "handoff/log.h"
#include "handoff/util.h"

#define S_MAX_FRAMES 512       /* frames in one message, identity included */
#define S_BATCH 2048           /* messages handled per poll wake-up */
#define S_MAX_SERVICES 4096    /* distinct service names the broker will keep */
#define S_SERVICE_MAX 64       /* longest service name (E8) */
#define S_MAX_CREDIT 1000      /* largest READY credit (E4) */
#define S_HWM 100000           /* ROUTER high-water marks; max_queue is the real bound */
#define S_LOG_EVERY_MS 1000    /* at most one protocol-error line per second */
#define S_JOURNAL_MAX_MS 20    /* longest a journal batch stays open when no client waits */
#define S_JOURNAL_IDLE_MS 1000 /* quiet time after the last commit before the journal shrinks */
/* A client whose ROUTER identity starts with this speaks HDP (the handoff client library):
 * it understands the broker's own "error" replies (503, 413). Anyone else is a plain MDP/0.1
 * client and gets backpressure instead (E12). */
#define S_AWARE_PREFIX HO_BROKER_CLIENT_PREFIX

enum {
    S_READY = 0x01,
    S_REQUEST = 0x02,
    S_REPLY = 0x03,
    S_HEARTBEAT = 0x04,
    S_DISCONNECT = 0x05,
};

static const char S_MDPC[] = "MDPC01";
static const char S_MDPW[] = "MDPW01";

typedef struct ho_broker_worker ho_broker_worker_t;

/* A plain MDP client with requests parked on one service (E12). */
typedef struct ho_broker_pclient ho_broker_pclient_t;
struct ho_broker_pclient {
    ho_req_list_t reqs;        /* its parked requests, in arrival order */
    ho_broker_pclient_t *next; /* in the service's ring of clients with parked requests */
    size_t idlen;
    unsigned char id[HO_IDMAP_MAX_KEY];
};

typedef struct {
    char name[S_SERVICE_MAX + 1];
    size_t len;
    ho_req_list_t queue;
    ho_broker_worker_t *ready_head, *ready_tail; /* workers with credit left, round robin */
    size_t n_workers;
    size_t in_flight;
    /* plain MDP clients' requests waiting for room in queue (E12): per client, taken in turn
     * so one client's burst does not hold up the others */
    size_t parked;
    ho_idmap_t *pclients; /* identity -> ho_broker_pclient_t */
    ho_broker_pclient_t *ring_head, *ring_tail;
    uint64_t requests, replies, routed_in, dead_letters;
} ho_broker_service_t;

struct ho_broker_worker {
    unsigned char id[HO_IDMAP_MAX_KEY];
    size_t idlen;
    char label[2 * 12 + 1]; /* hex of the identity, for logs and mmi.status */
    ho_broker_service_t *service;
    int credit;
    int in_flight;
    ho_req_list_t inflight;
    bool ready;
    ho_broker_worker_t *rprev, *rnext; /* in service->ready_* */
    ho_broker_worker_t *prev, *next;   /* in broker->wfirst/wlast */
    int64_t last_seen, expiry;
    uint64_t handled;
};

/* One rate limiter of log lines: at most one line per S_LOG_EVERY_MS. */
typedef struct {
    int64_t last;
    uint64_t suppressed;
} ho_broker_limit_t;

struct ho_broker {
    const ho_gateway_t *gw;
    zsock_t *router;
    void *sock;
    zactor_t *auth;
    zcert_t *cert;
    zhashx_t *services; /* name -> ho_broker_service_t (owned) */
    zhashx_t *routes;   /* type -> ho_broker_service_t (borrowed from services) */
    ho_idmap_t *workers;
    ho_broker_worker_t *wfirst, *wlast;
    ho_reqpool_t *pool;
    ho_journal_t *journal; /* NULL: routed requests live in memory only */
    ho_req_list_t acks;    /* client replies held until the journal batch is on disk */
    uint64_t recovered;    /* requests loaded from the journal at start */
    int64_t batch_opened;  /* when the open journal batch was first seen; 0: none */
    int64_t last_commit;   /* when the journal was last written (or a rewrite failed) */
    bool maintained;       /* ho_journal_idle ran since the last write */
    bool resync;           /* a batch was rolled back: rewrite the journal from memory */
    int hb_ms, liveness, max_queue, max_attempts, request_timeout_ms;
    int64_t max_queue_bytes; /* E12: bytes of requests held at most */
    int64_t held_bytes;      /* bytes of every request held now (queued, parked, in flight) */
    int64_t now, started, next_hb;
    char **endpoints;
    size_t n_endpoints;
    atomic_int stop;
    ho_broker_counters_t c;
    ho_broker_limit_t proto_log; /* protocol errors */
    /* refusals, drops and backpressure, each its own kind: a flood of one must neither flood
     * the log nor hide the first line of another */
    ho_broker_limit_t refuse_log, drop_log, park_log;
    zmq_msg_t in[S_MAX_FRAMES];
    zmq_msg_t scratch;
};

#define ho_broker_limited_warn(self, peer, ...)                                                    \
    ho_broker_limited_log((self), &(self)->proto_log, (peer), __VA_ARGS__)
#define ho_broker_refusal_warn(self, peer, ...)                                                    \
    ho_broker_limited_log((self), &(self)->refuse_log, (peer), __VA_ARGS__)
#define ho_broker_drop_warn(self, peer, ...)                                                       \
    ho_broker_limited_log((self), &(self)->drop_log, (peer), __VA_ARGS__)
#define ho_broker_park_warn(self, peer, ...)                                                       \
    ho_broker_limited_log((self), &(self)->park_log, (peer), __VA_ARGS__)

#define ho_broker_proto_error(self, peer, ...)                                                     \
    do {                                                                                           \
        (self)->c.protocol_errors++;                                                               \
        ho_broker_limited_warn((self), (peer), "protocol error: " __VA_ARGS__);                    \
    } while (0)

/* ---- broker.c ---- */
void ho_broker_hex(const void *data, size_t len, char *out, size_t cap);
bool ho_broker_is(zmq_msg_t *m, const char *lit, size_t len);
void ho_broker_limited_log(ho_broker_t *self, ho_broker_limit_t *lim, const zmq_msg_t *peer,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void ho_broker_req_hold(ho_broker_t *self, ho_req_t *req);
void ho_broker_req_free(ho_broker_t *self, ho_req_t *req);
void ho_broker_send_command(ho_broker_t *self, const void *id, size_t idlen, unsigned char cmd);
void ho_broker_send_client(ho_broker_t *self, zmq_msg_t *client, const char *service, size_t slen,
                           zmq_msg_t *frames, size_t n);
void ho_broker_send_client_bytes(ho_broker_t *self, zmq_msg_t *client, const char *service,
                                 size_t slen, const void *body, size_t blen);
int ho_broker_envelope(const char *type, json_t *payload, char **buf, size_t *len);
ho_broker_service_t *ho_broker_service_require(ho_broker_t *self, const void *name, size_t len);
void ho_broker_ready_push(ho_broker_service_t *svc, ho_broker_worker_t *w);
void ho_broker_ready_remove(ho_broker_service_t *svc, ho_broker_worker_t *w);
void ho_broker_dispatch(ho_broker_t *self, ho_broker_service_t *svc);
void ho_broker_ack(ho_broker_t *self, zmq_msg_t *client, ho_broker_service_t *svc,
                   zmq_msg_t *frames, size_t n, bool journaled);
void ho_broker_ack_error(ho_broker_t *self, zmq_msg_t *client, ho_broker_service_t *svc, int code,
                         const char *message);
void ho_broker_enqueue_internal(ho_broker_t *self, ho_broker_service_t *target, zmq_msg_t *frame,
                                bool move);
size_t ho_broker_route_frames(ho_broker_t *self, zmq_msg_t *frames, size_t n, bool move);

/* ---- broker_worker.c ---- */
void ho_broker_worker_delete(ho_broker_t *self, ho_broker_worker_t *w, bool send_disconnect,
                             const char *reason);
void ho_broker_worker_msg(ho_broker_t *self, zmq_msg_t *f, size_t n);

/* ---- broker_journal.c ---- */
void ho_broker_flush(ho_broker_t *self, bool force);
void ho_broker_journal_idle(ho_broker_t *self);
int ho_broker_journal_open(ho_broker_t *self, ho_err_t *err);

/* ---- broker_deadletter.c ---- */
void ho_broker_dead_letter(ho_broker_t *self, ho_req_t *req, const char *reason);

/* ---- broker_status.c ---- */
void ho_broker_mmi(ho_broker_t *self, zmq_msg_t *f, size_t n);

#endif
