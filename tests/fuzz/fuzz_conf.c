/* fuzz_conf.c - libFuzzer target for the YAML config tree (src/common/conf.c): any text through
 * ho_conf_parse, then every node is walked and read with each typed getter and a config map.
 * Parsing must succeed or fail with a file:line message; never crash, recurse without bound
 * or leak.
 *     CC=clang cmake -DHO_FUZZ=ON ... && ./fuzz_conf -max_total_time=120 corpus deploy */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "handoff/conf.h"

typedef struct {
    char *s;
    long long i;
    double d;
    bool b;
} s_target_t;

static const ho_config_map_t s_map[] = {
    {HO_CFG_STR, "endpoint", "tcp://127.0.0.1:5570", offsetof(s_target_t, s), ""},
    {HO_CFG_INT, "heartbeat_ms", "2500", offsetof(s_target_t, i), ""},
    {HO_CFG_DOUBLE, "factor", "1.5", offsetof(s_target_t, d), ""},
    {HO_CFG_BOOL, "enabled", "false", offsetof(s_target_t, b), ""},
    {0}};

static void s_walk(const ho_conf_t *c, const ho_node_t *node, int depth)
{
    if (depth > 100) {
        __builtin_trap(); /* the parser promised at most 64 levels */
    }
    if (ho_node_path(node) == NULL || ho_node_line(node) < 1) {
        __builtin_trap();
    }
    ho_err_t err;
    if (ho_node_kind(node) == HO_NODE_MAP) {
        for (size_t i = 0; i < ho_node_size(node); i++) {
            const char *key = ho_node_key_at(node, i);
            const char *s;
            long long v;
            double d;
            bool b;
            ho_conf_str(c, node, key, "", &s, &err);
            ho_conf_int(c, node, key, 0, &v, &err);
            ho_conf_double(c, node, key, 0, &d, &err);
            ho_conf_bool(c, node, key, false, &b, &err);
            s_walk(c, ho_node_at(node, i), depth + 1);
        }
        s_target_t t = {0};
        ho_config_map_apply(c, node, s_map, &t, &err);
        ho_config_map_free(s_map, &t);
        static const char *const allowed[] = {"a", "b", NULL};
        ho_conf_check_keys(c, node, allowed, &err);
    } else if (ho_node_kind(node) == HO_NODE_SEQ) {
        for (size_t i = 0; i < ho_node_size(node); i++) {
            s_walk(c, ho_node_at(node, i), depth + 1);
        }
    } else if (ho_node_str(node) == NULL) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ho_err_t err = {0};
    ho_conf_t *c = ho_conf_parse((const char *)data, size, "fuzz.yaml", &err);
    if (!c) {
        if (strncmp(err.message, "fuzz.yaml:", 10) != 0 && err.code != HO_ERR_NOMEM) {
            __builtin_trap(); /* errors name the file and line */
        }
        return 0;
    }
    s_walk(c, ho_conf_root(c), 0);
    ho_conf_destroy(&c);
    return 0;
}
