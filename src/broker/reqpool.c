/* reqpool.c - request pool, tokens and lists; see src/broker/reqpool.h */
#include "broker/reqpool.h"

#include <stdlib.h>
#include <string.h>

/* Requests live in fixed chunks so their addresses never move while the pool grows. */
#define S_CHUNK_BITS 10
#define S_CHUNK (1u << S_CHUNK_BITS)
#define S_MAX_CHUNKS (1u << 20) /* 2^30 requests at most; far beyond any max_queue */

struct ho_reqpool {
    ho_req_t **chunks;
    size_t n_chunks, cap_chunks;
    ho_req_t *free_list; /* linked through ->next */
    uint32_t generation;
    size_t used;
};

ho_reqpool_t *ho_reqpool_new(void)
{
    ho_reqpool_t *self = calloc(1, sizeof *self);
    return self;
}

static void s_clear(ho_req_t *req)
{
    for (size_t i = 0; i < req->nframes; i++) {
        zmq_msg_close(&req->frames[i]);
    }
    req->nframes = 0;
    if (req->has_client) {
        zmq_msg_close(&req->client);
        req->has_client = false;
    }
}

void ho_reqpool_destroy(ho_reqpool_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_reqpool_t *self = *self_p;
    for (size_t c = 0; c < self->n_chunks; c++) {
        for (size_t i = 0; i < S_CHUNK; i++) {
            ho_req_t *req = &self->chunks[c][i];
            s_clear(req);
            if (req->frames && req->frames != req->inline_frames) {
                free(req->frames);
            }
        }
        free(self->chunks[c]);
    }
    free(self->chunks);
    free(self);
    *self_p = NULL;
}

static int s_grow(ho_reqpool_t *self)
{
    if (self->n_chunks >= S_MAX_CHUNKS) {
        return -1;
    }
    if (self->n_chunks == self->cap_chunks) {
        size_t cap = self->cap_chunks ? self->cap_chunks * 2 : 16;
        ho_req_t **chunks = realloc(self->chunks, cap * sizeof *chunks);
        if (!chunks) {
            return -1;
        }
        self->chunks = chunks;
        self->cap_chunks = cap;
    }
    ho_req_t *chunk = calloc(S_CHUNK, sizeof *chunk);
    if (!chunk) {
        return -1;
    }
    uint32_t base = (uint32_t)(self->n_chunks << S_CHUNK_BITS);
    self->chunks[self->n_chunks++] = chunk;
    /* push in reverse so low slots are handed out first */
    for (size_t i = S_CHUNK; i-- > 0;) {
        chunk[i].slot = base + (uint32_t)i;
        chunk[i].frames = chunk[i].inline_frames;
        chunk[i].cap = HO_REQ_INLINE_FRAMES;
        chunk[i].next = self->free_list;
        self->free_list = &chunk[i];
    }
    return 0;
}

ho_req_t *ho_reqpool_alloc(ho_reqpool_t *self, size_t nframes)
{
    if (!self->free_list && s_grow(self) != 0) {
        return NULL;
    }
    ho_req_t *req = self->free_list;
    if (nframes > req->cap) {
        zmq_msg_t *frames = malloc(nframes * sizeof *frames);
        if (!frames) {
            return NULL;
        }
        if (req->frames != req->inline_frames) {
            free(req->frames);
        }
        req->frames = frames;
        req->cap = nframes;
    }
    self->free_list = req->next;
    req->token = 0;
    req->attempts = 0;
    req->jid = 0;
    req->bytes = 0;
    req->delivered_at = 0;
    req->service = NULL;
    req->worker = NULL;
    req->prev = req->next = NULL;
    req->has_client = false;
    for (size_t i = 0; i < nframes; i++) {
        zmq_msg_init(&req->frames[i]);
    }
    req->nframes = nframes;
    self->used++;
    return req;
}

void ho_reqpool_free(ho_reqpool_t *self, ho_req_t *req)
{
    s_clear(req);
    /* a heap frame array from a long request is given back, so one burst of huge requests
     * does not pin memory forever */
    if (req->frames != req->inline_frames) {
        free(req->frames);
        req->frames = req->inline_frames;
        req->cap = HO_REQ_INLINE_FRAMES;
    }
    req->token = 0;
    req->worker = NULL;
    req->service = NULL;
    req->prev = NULL;
    req->next = self->free_list;
    self->free_list = req;
    self->used--;
}

uint64_t ho_reqpool_retoken(ho_reqpool_t *self, ho_req_t *req)
{
    if (++self->generation == 0) {
        self->generation = 1;
    }
    req->token = ((uint64_t)self->generation << 32) | req->slot;
    return req->token;
}

ho_req_t *ho_reqpool_find(const ho_reqpool_t *self, uint64_t token)
{
    if (token == 0) {
        return NULL;
    }
    uint32_t slot = (uint32_t)token;
    size_t c = slot >> S_CHUNK_BITS;
    if (c >= self->n_chunks) {
        return NULL;
    }
    ho_req_t *req = &self->chunks[c][slot & (S_CHUNK - 1)];
    return req->token == token ? req : NULL;
}

size_t ho_reqpool_used(const ho_reqpool_t *self)
{
    return self->used;
}

void ho_req_list_push_back(ho_req_list_t *list, ho_req_t *req)
{
    req->next = NULL;
    req->prev = list->tail;
    if (list->tail) {
        list->tail->next = req;
    } else {
        list->head = req;
    }
    list->tail = req;
    list->count++;
}

void ho_req_list_push_front(ho_req_list_t *list, ho_req_t *req)
{
    req->prev = NULL;
    req->next = list->head;
    if (list->head) {
        list->head->prev = req;
    } else {
        list->tail = req;
    }
    list->head = req;
    list->count++;
}

void ho_req_list_remove(ho_req_list_t *list, ho_req_t *req)
{
    if (req->prev) {
        req->prev->next = req->next;
    } else {
        list->head = req->next;
    }
    if (req->next) {
        req->next->prev = req->prev;
    } else {
        list->tail = req->prev;
    }
    req->prev = req->next = NULL;
    list->count--;
}

ho_req_t *ho_req_list_pop_front(ho_req_list_t *list)
{
    ho_req_t *req = list->head;
    if (req) {
        ho_req_list_remove(list, req);
    }
    return req;
}

void ho_token_put(uint8_t out[8], uint64_t token)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)token;
        token >>= 8;
    }
}

uint64_t ho_token_get(const uint8_t in[8])
{
    uint64_t t = 0;
    for (int i = 0; i < 8; i++) {
        t = (t << 8) | in[i];
    }
    return t;
}
