/*
 * reqpool.h - the broker's requests: a pool that recycles them (no malloc per message once
 * warm), delivery tokens that find a request in O(1), and intrusive FIFO lists used both for
 * a service's queue and for a worker's in-flight set.
 *
 * A token is (generation << 32 | slot). Every delivery gets a fresh generation, so a reply
 * that carries the token of an earlier delivery (a late duplicate after a requeue) no longer
 * matches and is ignored. Token 0 is never issued (an empty token means "unsolicited").
 *
 * Internal to the broker (src/broker/); unit-tested in tests/unit/test_broker_pool.c.
 */
#ifndef HO_BROKER_REQPOOL_H
#define HO_BROKER_REQPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define HO_REQ_INLINE_FRAMES 2

typedef struct ho_req ho_req_t;
struct ho_req {
    uint64_t token;      /* token of the current delivery; 0 when not in flight */
    uint32_t slot;       /* index in the pool (low half of every token) */
    uint32_t attempts;   /* deliveries so far */
    uint64_t jid;        /* its row in the broker journal; 0 when not journaled */
    size_t bytes;        /* what it counts against broker.max_queue_bytes (set by the broker) */
    int64_t delivered_at; /* when the current delivery went out (request_timeout_ms) */
    void *service;       /* the broker's service this request is for */
    void *worker;        /* the worker holding it, when in flight */
    ho_req_t *prev, *next; /* links in whichever list holds it (queue or in-flight) */
    bool has_client;
    zmq_msg_t client;    /* the client's ROUTER identity (when has_client) */
    size_t nframes, cap;
    zmq_msg_t *frames;   /* body frames: inline[] or a heap array for long requests */
    zmq_msg_t inline_frames[HO_REQ_INLINE_FRAMES];
};

typedef struct {
    ho_req_t *head, *tail;
    size_t count;
} ho_req_list_t;

typedef struct ho_reqpool ho_reqpool_t;

ho_reqpool_t *ho_reqpool_new(void);
/* Frees every request, including those still in use. */
void ho_reqpool_destroy(ho_reqpool_t **self_p);

/* A clean request with room for nframes body frames (all initialised empty), or NULL. */
ho_req_t *ho_reqpool_alloc(ho_reqpool_t *self, size_t nframes);
/* Closes the request's frames and identity and returns it to the pool. */
void ho_reqpool_free(ho_reqpool_t *self, ho_req_t *req);
/* Give req a fresh token (a new delivery) and return it. */
uint64_t ho_reqpool_retoken(ho_reqpool_t *self, ho_req_t *req);
/* The request whose current token is token, or NULL (unknown, stale or not in flight). */
ho_req_t *ho_reqpool_find(const ho_reqpool_t *self, uint64_t token);
/* Requests allocated right now. */
size_t ho_reqpool_used(const ho_reqpool_t *self);

void ho_req_list_push_back(ho_req_list_t *list, ho_req_t *req);
void ho_req_list_push_front(ho_req_list_t *list, ho_req_t *req);
void ho_req_list_remove(ho_req_list_t *list, ho_req_t *req);
ho_req_t *ho_req_list_pop_front(ho_req_list_t *list);

/* Tokens travel as 8 bytes, big-endian. */
void ho_token_put(uint8_t out[8], uint64_t token);
uint64_t ho_token_get(const uint8_t in[8]);

#endif
