/* store_worker_calls.h - batch helpers of the tests that drive the store worker in-process:
 * s_call (a batch through the wire codec to the worker), the output counted and read, a lead's
 * id. Include after store_worker_fixture.h. Not a test itself. */
#ifndef HO_STORE_WORKER_CALLS_H
#define HO_STORE_WORKER_CALLS_H

#include <stdarg.h>

#include "store_worker_fixture.h"

/* Apply a batch (takes the messages), check the handler's code. The batch goes through the
 * wire codec first (one msgpack batch frame, decoded again), as the runtime would hand it. */
static inline void s_call(s_t *t, int n, ...)
{
    ho_msg_t *built[32];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        built[i] = va_arg(ap, ho_msg_t *);
    }
    va_end(ap);
    char *frame = NULL;
    size_t len = 0;
    assert_int_equal(ho_msg_encode_batch(built, (size_t)n, &frame, &len), HO_OK);
    for (int i = 0; i < n; i++) {
        ho_msg_destroy(&built[i]);
    }
    ho_msg_t **in = NULL;
    size_t got = 0;
    ho_err_t err = {0};
    assert_int_equal(ho_msg_decode_frame(frame, len, &in, &got, NULL, NULL, &err), HO_OK);
    free(frame);
    assert_int_equal((int)got, n);
    ho_out_clear(t->out);
    int rc = ho_worker_call(&ho_worker_store, t->ctx, in, (size_t)n, t->out);
    ho_msg_batch_free(&in, got);
    assert_int_equal(rc, HO_WORKER_OK);
}

static inline int s_count_out(s_t *t, const char *type)
{
    int c = 0;
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        c += strcmp(ho_msg_type(ho_out_at(t->out, i)), type) == 0;
    }
    return c;
}

static inline json_t *s_first_out(s_t *t, const char *type)
{
    for (size_t i = 0; i < ho_out_count(t->out); i++) {
        if (strcmp(ho_msg_type(ho_out_at(t->out, i)), type) == 0) {
            return ho_msg_payload(ho_out_at(t->out, i));
        }
    }
    fail_msg("no %s in the output", type);
    return NULL;
}

static inline long long s_lead_id(s_t *t, const char *email)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT id FROM leads WHERE email = '%s'", email);
    char *v = s_q(t, sql);
    long long id = atoll(v);
    free(v);
    return id;
}

#endif
