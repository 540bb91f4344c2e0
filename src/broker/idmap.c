/* idmap.c - identity -> pointer hash map; see src/broker/idmap.h */
#include "broker/idmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_node {
    struct s_node *next;
    uint64_t hash;
    void *value;
    size_t len;
    unsigned char key[];
} s_node_t;

struct ho_idmap {
    s_node_t **buckets;
    size_t n_buckets; /* a power of two */
    size_t size;
};

static uint64_t s_hash(const void *key, size_t len)
{
    /* FNV-1a: identities are short (5 bytes from libzmq), so this is a few cycles */
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

ho_idmap_t *ho_idmap_new(void)
{
    ho_idmap_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->n_buckets = 64;
    self->buckets = calloc(self->n_buckets, sizeof *self->buckets);
    if (!self->buckets) {
        free(self);
        return NULL;
    }
    return self;
}

void ho_idmap_destroy(ho_idmap_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ho_idmap_t *self = *self_p;
    for (size_t b = 0; b < self->n_buckets; b++) {
        s_node_t *node = self->buckets[b];
        while (node) {
            s_node_t *next = node->next;
            free(node);
            node = next;
        }
    }
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

static s_node_t **s_find(const ho_idmap_t *self, const void *key, size_t len, uint64_t hash)
{
    s_node_t **link = &self->buckets[hash & (self->n_buckets - 1)];
    while (*link) {
        s_node_t *node = *link;
        if (node->hash == hash && node->len == len && memcmp(node->key, key, len) == 0) {
            return link;
        }
        link = &node->next;
    }
    return link;
}

void *ho_idmap_get(const ho_idmap_t *self, const void *key, size_t len)
{
    if (len == 0 || len > HO_IDMAP_MAX_KEY) {
        return NULL;
    }
    s_node_t **link = s_find(self, key, len, s_hash(key, len));
    return *link ? (*link)->value : NULL;
}

static void s_rehash(ho_idmap_t *self)
{
    size_t n = self->n_buckets * 2;
    s_node_t **buckets = calloc(n, sizeof *buckets);
    if (!buckets) {
        return; /* keep working with longer chains */
    }
    for (size_t b = 0; b < self->n_buckets; b++) {
        s_node_t *node = self->buckets[b];
        while (node) {
            s_node_t *next = node->next;
            node->next = buckets[node->hash & (n - 1)];
            buckets[node->hash & (n - 1)] = node;
            node = next;
        }
    }
    free(self->buckets);
    self->buckets = buckets;
    self->n_buckets = n;
}

int ho_idmap_put(ho_idmap_t *self, const void *key, size_t len, void *value)
{
    if (len == 0 || len > HO_IDMAP_MAX_KEY || !value) {
        return -1;
    }
    uint64_t hash = s_hash(key, len);
    s_node_t **link = s_find(self, key, len, hash);
    if (*link) {
        (*link)->value = value;
        return 0;
    }
    s_node_t *node = malloc(sizeof *node + len);
    if (!node) {
        return -1;
    }
    node->next = NULL;
    node->hash = hash;
    node->value = value;
    node->len = len;
    memcpy(node->key, key, len);
    *link = node;
    if (++self->size > self->n_buckets) {
        s_rehash(self);
    }
    return 0;
}

void *ho_idmap_remove(ho_idmap_t *self, const void *key, size_t len)
{
    if (len == 0 || len > HO_IDMAP_MAX_KEY) {
        return NULL;
    }
    s_node_t **link = s_find(self, key, len, s_hash(key, len));
    s_node_t *node = *link;
    if (!node) {
        return NULL;
    }
    void *value = node->value;
    *link = node->next;
    free(node);
    self->size--;
    return value;
}

size_t ho_idmap_size(const ho_idmap_t *self)
{
    return self->size;
}
