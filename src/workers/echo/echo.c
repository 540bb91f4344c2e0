/* echo.c - the `echo` built-in worker: answers each input envelope with itself, unchanged.
 * Used by tests and benchmarks to measure the broker and runtime without any work. */
#include "handoff/worker.h"

static int s_handle(void *ctx, ho_msg_t *const *in, size_t n, ho_out_t *out)
{
    for (size_t i = 0; i < n; i++) {
        ho_msg_t *copy = ho_msg_dup(in[i]);
        if (!copy || ho_out_emit(out, &copy) != HO_OK) {
            return HO_WORKER_RETRY; /* out of memory: let the runtime try again */
        }
    }
    return HO_WORKER_OK;
}

const ho_worker_def_t ho_worker_echo = {
    .name = "echo",
    .description = "replies each input envelope back unchanged (tests, benchmarks)",
    .cb_handle = s_handle,
    .diagnostic = true,
};
