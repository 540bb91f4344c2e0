/* test_broker_pool.c - the broker's pure data structures: request pool and delivery tokens,
 * request lists (queue order, requeue at the front), the identity map (worker table), and
 * service-name validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/idmap.h"
#include "broker/reqpool.h"
#include "handoff/broker.h"

static void test_tokens_find_only_the_current_delivery(void **state)
{
    (void)state;
    ho_reqpool_t *pool = ho_reqpool_new();
    ho_req_t *a = ho_reqpool_alloc(pool, 1);
    ho_req_t *b = ho_reqpool_alloc(pool, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_int_equal(ho_reqpool_used(pool), 2);
    uint64_t ta = ho_reqpool_retoken(pool, a);
    uint64_t tb = ho_reqpool_retoken(pool, b);
    assert_true(ta != 0 && tb != 0 && ta != tb);
    assert_ptr_equal(ho_reqpool_find(pool, ta), a);
    assert_ptr_equal(ho_reqpool_find(pool, tb), b);
    /* a redelivery makes the old token stale (a late duplicate reply is ignored) */
    uint64_t ta2 = ho_reqpool_retoken(pool, a);
    assert_true(ta2 != ta);
    assert_null(ho_reqpool_find(pool, ta));
    assert_ptr_equal(ho_reqpool_find(pool, ta2), a);
    /* unknown, zero, out-of-range and freed tokens find nothing */
    assert_null(ho_reqpool_find(pool, 0));
    assert_null(ho_reqpool_find(pool, (ta2 & ~0xffffffffull) | 0xfffffff0u));
    ho_reqpool_free(pool, a);
    assert_null(ho_reqpool_find(pool, ta2));
    assert_int_equal(ho_reqpool_used(pool), 1);
    /* the freed slot is reused without malloc, with a different token */
    ho_req_t *c = ho_reqpool_alloc(pool, 1);
    assert_ptr_equal(c, a);
    assert_true(ho_reqpool_retoken(pool, c) != ta2);
    ho_reqpool_destroy(&pool);
    assert_null(pool);
    ho_reqpool_destroy(&pool);
}

static void test_pool_grows_and_keeps_frames(void **state)
{
    (void)state;
    ho_reqpool_t *pool = ho_reqpool_new();
    enum { N = 3000 }; /* more than one chunk */
    static ho_req_t *reqs[N];
    static uint64_t tokens[N];
    for (int i = 0; i < N; i++) {
        reqs[i] = ho_reqpool_alloc(pool, (size_t)(i % 5));
        assert_non_null(reqs[i]);
        assert_int_equal(reqs[i]->nframes, (size_t)(i % 5));
        for (size_t f = 0; f < reqs[i]->nframes; f++) {
            zmq_msg_init_size(&reqs[i]->frames[f], 100); /* large enough to be heap data */
            memset(zmq_msg_data(&reqs[i]->frames[f]), i & 0xff, 100);
        }
        tokens[i] = ho_reqpool_retoken(pool, reqs[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(ho_reqpool_find(pool, tokens[i]), reqs[i]);
        for (size_t f = 0; f < reqs[i]->nframes; f++) {
            assert_int_equal(((unsigned char *)zmq_msg_data(&reqs[i]->frames[f]))[99], i & 0xff);
        }
    }
    for (int i = 0; i < N; i += 2) {
        ho_reqpool_free(pool, reqs[i]);
    }
    assert_int_equal(ho_reqpool_used(pool), N / 2);
    /* the rest (still holding frames) is released by destroy: ASan checks for leaks */
    ho_reqpool_destroy(&pool);
}

static void test_lists_keep_fifo_and_requeue_at_front(void **state)
{
    (void)state;
    ho_reqpool_t *pool = ho_reqpool_new();
    ho_req_list_t q = {0};
    ho_req_t *r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = ho_reqpool_alloc(pool, 0);
        ho_req_list_push_back(&q, r[i]);
    }
    assert_int_equal(q.count, 4);
    assert_ptr_equal(ho_req_list_pop_front(&q), r[0]);
    /* r[0] went to a worker that died: it goes back first */
    ho_req_list_push_front(&q, r[0]);
    ho_req_list_remove(&q, r[2]); /* removal from the middle */
    assert_int_equal(q.count, 3);
    assert_ptr_equal(ho_req_list_pop_front(&q), r[0]);
    assert_ptr_equal(ho_req_list_pop_front(&q), r[1]);
    ho_req_list_remove(&q, r[3]); /* removal of the last one */
    assert_null(q.head);
    assert_null(q.tail);
    assert_null(ho_req_list_pop_front(&q));
    assert_int_equal(q.count, 0);
    ho_reqpool_destroy(&pool);
}

static void test_token_wire_format_is_big_endian(void **state)
{
    (void)state;
    uint8_t b[8];
    ho_token_put(b, 0x0102030405060708ull);
    static const uint8_t want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(b, want, 8);
    assert_true(ho_token_get(b) == 0x0102030405060708ull);
}

static void test_idmap_is_a_worker_table(void **state)
{
    (void)state;
    ho_idmap_t *map = ho_idmap_new();
    int values[500];
    unsigned char key[6];
    for (int i = 0; i < 500; i++) {
        key[0] = 0;
        memcpy(key + 1, &i, 4);
        assert_int_equal(ho_idmap_put(map, key, 5, &values[i]), 0);
    }
    assert_int_equal(ho_idmap_size(map), 500);
    for (int i = 0; i < 500; i++) {
        key[0] = 0;
        memcpy(key + 1, &i, 4);
        assert_ptr_equal(ho_idmap_get(map, key, 5), &values[i]);
        /* same bytes, different length: a different identity */
        assert_null(ho_idmap_get(map, key, 4));
    }
    int other;
    key[0] = 0;
    int seven = 7;
    memcpy(key + 1, &seven, 4);
    assert_int_equal(ho_idmap_put(map, key, 5, &other), 0); /* replace */
    assert_ptr_equal(ho_idmap_get(map, key, 5), &other);
    assert_ptr_equal(ho_idmap_remove(map, key, 5), &other);
    assert_null(ho_idmap_get(map, key, 5));
    assert_null(ho_idmap_remove(map, key, 5));
    assert_int_equal(ho_idmap_size(map), 499);
    /* bad keys are refused, not crashed on */
    unsigned char big[300] = {0};
    assert_int_equal(ho_idmap_put(map, big, sizeof big, &other), -1);
    assert_int_equal(ho_idmap_put(map, big, 0, &other), -1);
    assert_null(ho_idmap_get(map, big, sizeof big));
    assert_int_equal(ho_idmap_put(map, big, 255, &other), 0);
    assert_ptr_equal(ho_idmap_get(map, big, 255), &other);
    ho_idmap_destroy(&map);
    assert_null(map);
}

static void test_service_names(void **state)
{
    (void)state;
    assert_true(ho_broker_valid_service("score", 5));
    assert_true(ho_broker_valid_service("dead.letter_2-x", 15));
    assert_false(ho_broker_valid_service("", 0));
    assert_false(ho_broker_valid_service("Score", 5));
    assert_false(ho_broker_valid_service("a b", 3));
    assert_false(ho_broker_valid_service("a\0b", 3));
    char longname[66];
    memset(longname, 'a', sizeof longname);
    assert_true(ho_broker_valid_service(longname, 64));
    assert_false(ho_broker_valid_service(longname, 65));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_find_only_the_current_delivery),
        cmocka_unit_test(test_pool_grows_and_keeps_frames),
        cmocka_unit_test(test_lists_keep_fifo_and_requeue_at_front),
        cmocka_unit_test(test_token_wire_format_is_big_endian),
        cmocka_unit_test(test_idmap_is_a_worker_table),
        cmocka_unit_test(test_service_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
