/* test_conf.c - the YAML tree and config maps (src/common/conf.c): every error names file,
 * line and key; config maps reject unknown keys and wrong types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/conf.h"

static ho_conf_t *s_parse(const char *text, ho_err_t *err)
{
    return ho_conf_parse(text, strlen(text), "deploy/scoring.yaml", err);
}

static void s_expect_parse_error(const char *text, const char *message)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse(text, &err);
    if (c) {
        fail_msg("parsed, but wanted the error: %s", message);
    }
    assert_int_equal(err.code, HO_ERR_CONFIG);
    if (!strstr(err.message, message)) {
        fail_msg("error \"%s\" does not contain \"%s\"", err.message, message);
    }
}

static const char *s_doc = "# scoring model\n"              /* 1 */
                           "model_version: 2026.11-a\n"     /* 2 */
                           "fit:\n"                         /* 3 */
                           "  rules:\n"                     /* 4 */
                           "    - name: employees\n"        /* 5 */
                           "      points: 25\n"             /* 6 */
                           "    - name: country\n"          /* 7 */
                           "      points: 10\n"             /* 8 */
                           "    - name: industry\n"         /* 9 */
                           "      points: ten\n"            /* 10 */
                           "  cap: 60\n"                    /* 11 */
                           "weights: [0.5, 1.5e0, \"x\"]\n" /* 12 */
                           "enabled: yes\n"                 /* 13 */
                           "empty:\n"                       /* 14 */
                           "name: \"K\xc3\xb6ln\"\n";       /* 15 */

static void test_tree_paths_and_lines(void **state)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse(s_doc, &err);
    assert_non_null(c);
    assert_string_equal(ho_conf_name(c), "deploy/scoring.yaml");
    const ho_node_t *root = ho_conf_root(c);
    assert_int_equal(ho_node_kind(root), HO_NODE_MAP);
    assert_int_equal(ho_node_size(root), 6);
    assert_string_equal(ho_node_key_at(root, 0), "model_version");
    const ho_node_t *rules = ho_node_get(ho_node_get(root, "fit"), "rules");
    assert_int_equal(ho_node_kind(rules), HO_NODE_SEQ);
    assert_int_equal(ho_node_size(rules), 3);
    assert_null(ho_node_key_at(rules, 0));
    const ho_node_t *points = ho_node_get(ho_node_at(rules, 2), "points");
    assert_string_equal(ho_node_path(points), "fit.rules[2].points");
    assert_int_equal(ho_node_line(points), 10);
    assert_string_equal(ho_node_str(points), "ten");
    assert_null(ho_node_str(rules));
    assert_null(ho_node_at(rules, 3));
    assert_null(ho_node_get(rules, "x")); /* not a map */
    assert_string_equal(ho_node_str(ho_node_get(root, "empty")), "");
    assert_string_equal(ho_node_str(ho_node_get(root, "name")), "K\xc3\xb6ln");
    ho_conf_destroy(&c);
    ho_conf_destroy(&c); /* safe twice */
}

static void test_typed_reads_name_file_line_key(void **state)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse(s_doc, &err);
    const ho_node_t *root = ho_conf_root(c);
    const ho_node_t *fit = ho_node_get(root, "fit");
    const ho_node_t *rules = ho_node_get(fit, "rules");
    long long v = 0;
    assert_int_equal(ho_conf_int(c, ho_node_at(rules, 0), "points", 0, &v, &err), HO_OK);
    assert_int_equal(v, 25);
    assert_int_equal(ho_conf_int(c, ho_node_at(rules, 2), "points", 7, &v, &err), HO_ERR_CONFIG);
    assert_string_equal(err.message,
                        "deploy/scoring.yaml:10: fit.rules[2].points: expected an integer, got "
                        "\"ten\"");
    assert_string_equal(err.field, "fit.rules[2].points");
    /* absent key: the default, no error */
    assert_int_equal(ho_conf_int(c, fit, "missing", 42, &v, &err), HO_OK);
    assert_int_equal(v, 42);
    /* a map where a value is expected */
    assert_int_equal(ho_conf_int(c, root, "fit", 0, &v, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "deploy/scoring.yaml:4: fit: expected a single value"));

    double d = 0;
    assert_int_equal(ho_conf_double(c, root, "model_version", 1.0, &d, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":2: model_version: expected a number"));
    assert_int_equal(ho_conf_double(c, fit, "cap", 0, &d, &err), HO_OK);
    assert_true(d == 60.0);

    bool b = false;
    assert_int_equal(ho_conf_bool(c, root, "enabled", false, &b, &err), HO_OK);
    assert_true(b);
    assert_int_equal(ho_conf_bool(c, root, "name", false, &b, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":15: name: expected true or false"));

    const char *s = NULL;
    assert_int_equal(ho_conf_str(c, root, "model_version", "d", &s, &err), HO_OK);
    assert_string_equal(s, "2026.11-a");
    assert_int_equal(ho_conf_str(c, root, "absent", "dflt", &s, &err), HO_OK);
    assert_string_equal(s, "dflt");
    assert_int_equal(ho_conf_need_str(c, fit, "absent", &s, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "deploy/scoring.yaml:4: fit: missing required key "
                                        "'absent'"));
    ho_conf_destroy(&c);
}

static void test_numbers_out_of_range_and_malformed(void **state)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse("a: 99999999999999999999\nb: 1e999\nc: 12abc\nd: ''\ne: -5\n", &err);
    assert_non_null(c);
    const ho_node_t *root = ho_conf_root(c);
    long long v;
    double d;
    assert_int_equal(ho_conf_int(c, root, "a", 0, &v, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":1: a: expected an integer"));
    assert_int_equal(ho_conf_double(c, root, "b", 0, &d, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":2: b:"));
    assert_int_equal(ho_conf_int(c, root, "c", 0, &v, &err), HO_ERR_CONFIG);
    assert_int_equal(ho_conf_int(c, root, "d", 0, &v, &err), HO_ERR_CONFIG);
    assert_int_equal(ho_conf_int(c, root, "e", 0, &v, &err), HO_OK);
    assert_int_equal(v, -5);
    ho_conf_destroy(&c);
}

static void test_yaml_errors_name_file_and_line(void **state)
{
    s_expect_parse_error("a: 1\nb: [1, 2\nc: 3\n", "deploy/scoring.yaml:");
    s_expect_parse_error("a: 1\nb: [1, 2\nc: 3\n", "YAML syntax error");
    s_expect_parse_error("a: 1\n  b: 2\n", "deploy/scoring.yaml:2: YAML syntax error");
    /* the duplicate's own line and dotted key */
    s_expect_parse_error("fit:\n  cap: 1\n  rules: []\n  cap: 2\n",
                         "deploy/scoring.yaml:4: fit.cap: duplicate key");
    s_expect_parse_error("base: &b {x: 1}\nother: *b\n", "deploy/scoring.yaml:2: other: YAML "
                                                         "aliases are not supported");
    s_expect_parse_error("a: 1\n---\nb: 2\n", "deploy/scoring.yaml:3: only one YAML document");
    s_expect_parse_error("? [a, b]\n: 1\n", "map keys must be plain scalars");
    s_expect_parse_error("a: \"x\\0y\"\n", "deploy/scoring.yaml:1: a: value contains a NUL");
    s_expect_parse_error("\"k\\0\": 1\n", "map key contains a NUL");
    s_expect_parse_error("a: \"\xff\"\n", "deploy/scoring.yaml:1");
}

static void test_deep_nesting_refused_not_recursed(void **state)
{
    size_t n = 200000;
    char *text = malloc(2 * n + 1);
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = '\0';
    ho_err_t err = {0};
    ho_conf_t *c = ho_conf_parse(text, 2 * n, "deep.yaml", &err);
    assert_null(c);
    assert_non_null(strstr(err.message, "deep.yaml:1: "));
    assert_non_null(strstr(err.message, "nested deeper than 64 levels"));
    /* 64 levels are fine */
    memset(text, '[', 64);
    memset(text + 64, ']', 64);
    c = ho_conf_parse(text, 128, "deep.yaml", &err);
    assert_non_null(c);
    ho_conf_destroy(&c);
    free(text);
}

static void test_empty_documents(void **state)
{
    ho_err_t err = {0};
    const char *empties[] = {"", "# only a comment\n", "---\n", "~\n"};
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        ho_conf_t *c = s_parse(empties[i], &err);
        assert_non_null(c);
        const ho_node_t *root = ho_conf_root(c);
        /* "~" is a scalar (YAML null), not an empty document: it stays a scalar */
        if (i < 3) {
            assert_int_equal(ho_node_kind(root), HO_NODE_MAP);
            assert_int_equal(ho_node_size(root), 0);
        }
        ho_conf_destroy(&c);
    }
}

static void test_check_keys(void **state)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse("workers:\n  score:\n    model: s.yaml\n    modle: typo.yaml\n", &err);
    const ho_node_t *score = ho_node_get(ho_node_get(ho_conf_root(c), "workers"), "score");
    static const char *const allowed[] = {"model", NULL};
    assert_int_equal(ho_conf_check_keys(c, score, allowed, &err), HO_ERR_CONFIG);
    assert_string_equal(err.message,
                        "deploy/scoring.yaml:4: workers.score.modle: unknown key 'modle' (did you "
                        "mean model?)");
    static const char *const both[] = {"model", "modle", NULL};
    assert_int_equal(ho_conf_check_keys(c, score, both, &err), HO_OK);
    assert_int_equal(ho_conf_check_keys(c, NULL, allowed, &err), HO_OK);
    assert_int_equal(ho_conf_check_keys(c, ho_node_get(score, "model"), allowed, &err),
                     HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "expected a map of settings"));
    ho_conf_destroy(&c);
}

typedef struct {
    char *dir;
    long long max_attempts;
    double factor;
    bool enabled;
    char *url;
} s_settings_t;

static const ho_config_map_t s_map[] = {
    {HO_CFG_STR, "dir", "outbox", offsetof(s_settings_t, dir), "folder"},
    {HO_CFG_INT, "max_attempts", "8", offsetof(s_settings_t, max_attempts), "attempts"},
    {HO_CFG_DOUBLE, "factor", "1.5", offsetof(s_settings_t, factor), "backoff factor"},
    {HO_CFG_BOOL, "enabled", "true", offsetof(s_settings_t, enabled), "on/off"},
    {HO_CFG_STR, "url", NULL, offsetof(s_settings_t, url), "webhook"},
    {0}};

static void test_config_map_defaults_values_types(void **state)
{
    ho_err_t err = {0};
    s_settings_t s = {0};
    /* no map at all: every default */
    assert_int_equal(ho_config_map_apply(NULL, NULL, s_map, &s, &err), HO_OK);
    assert_string_equal(s.dir, "outbox");
    assert_int_equal(s.max_attempts, 8);
    assert_true(s.factor == 1.5);
    assert_true(s.enabled);
    assert_string_equal(s.url, "");
    ho_config_map_free(s_map, &s);
    assert_null(s.dir);

    ho_conf_t *c = s_parse("outbox:\n  dir: out2\n  max_attempts: 3\n  enabled: off\n", &err);
    const ho_node_t *m = ho_node_get(ho_conf_root(c), "outbox");
    assert_int_equal(ho_config_map_apply(c, m, s_map, &s, &err), HO_OK);
    assert_string_equal(s.dir, "out2");
    assert_int_equal(s.max_attempts, 3);
    assert_false(s.enabled);
    assert_true(s.factor == 1.5);
    ho_config_map_free(s_map, &s);
    ho_conf_destroy(&c);
}

static void test_config_map_rejects_unknown_and_wrong_types(void **state)
{
    ho_err_t err = {0};
    s_settings_t s = {0};
    ho_conf_t *c = s_parse("outbox:\n  dir: out\n  max_atempts: 3\n", &err);
    const ho_node_t *m = ho_node_get(ho_conf_root(c), "outbox");
    assert_int_equal(ho_config_map_apply(c, m, s_map, &s, &err), HO_ERR_CONFIG);
    assert_string_equal(err.message,
                        "deploy/scoring.yaml:3: outbox.max_atempts: unknown key 'max_atempts' "
                        "(did you mean max_attempts?)");
    ho_config_map_free(s_map, &s);
    ho_conf_destroy(&c);

    c = s_parse("outbox:\n  max_attempts: many\n", &err);
    m = ho_node_get(ho_conf_root(c), "outbox");
    assert_int_equal(ho_config_map_apply(c, m, s_map, &s, &err), HO_ERR_CONFIG);
    assert_string_equal(err.message, "deploy/scoring.yaml:2: outbox.max_attempts: expected an "
                                     "integer, got \"many\"");
    ho_config_map_free(s_map, &s);
    ho_conf_destroy(&c);

    c = s_parse("outbox:\n  dir: [a, b]\n", &err);
    m = ho_node_get(ho_conf_root(c), "outbox");
    assert_int_equal(ho_config_map_apply(c, m, s_map, &s, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":2: outbox.dir: expected a single value"));
    ho_config_map_free(s_map, &s);
    ho_conf_destroy(&c);

    c = s_parse("outbox: [1, 2]\n", &err);
    m = ho_node_get(ho_conf_root(c), "outbox");
    assert_int_equal(ho_config_map_apply(c, m, s_map, &s, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":1: outbox: expected a map of settings"));
    ho_config_map_free(s_map, &s);
    ho_conf_destroy(&c);
}

static void test_load_file(void **state)
{
    char dir[] = "/tmp/ho-test-conf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/handoff.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("broker:\n  heartbeat_ms: fast\n", f);
    fclose(f);
    ho_err_t err = {0};
    ho_conf_t *c = ho_conf_load(path, &err);
    assert_non_null(c);
    long long v;
    assert_int_equal(
        ho_conf_int(c, ho_node_get(ho_conf_root(c), "broker"), "heartbeat_ms", 0, &v, &err),
        HO_ERR_CONFIG);
    char want[512];
    snprintf(want, sizeof want, "%s:2: broker.heartbeat_ms: expected an integer", path);
    assert_non_null(strstr(err.message, want));
    ho_conf_destroy(&c);

    f = fopen(path, "w");
    fputs("a: [\n", f);
    fclose(f);
    assert_null(ho_conf_load(path, &err));
    assert_non_null(strstr(err.message, path));
    unlink(path);

    assert_null(ho_conf_load(path, &err));
    assert_int_equal(err.code, HO_ERR_IO);
    assert_non_null(strstr(err.message, "cannot open"));
    assert_non_null(strstr(err.message, path));
    rmdir(dir);
}

static void test_fail_helper(void **state)
{
    ho_err_t err = {0};
    ho_conf_t *c = s_parse(s_doc, &err);
    const ho_node_t *cap = ho_node_get(ho_node_get(ho_conf_root(c), "fit"), "cap");
    assert_int_equal(ho_conf_fail(c, cap, &err, HO_ERR_CONFIG, "must be <= %d", 50), HO_ERR_CONFIG);
    assert_string_equal(err.message, "deploy/scoring.yaml:11: fit.cap: must be <= 50");
    assert_int_equal(ho_conf_fail(c, ho_conf_root(c), &err, HO_ERR_CONFIG, "bad"), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "(root): bad"));
    ho_conf_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_paths_and_lines),
        cmocka_unit_test(test_typed_reads_name_file_line_key),
        cmocka_unit_test(test_numbers_out_of_range_and_malformed),
        cmocka_unit_test(test_yaml_errors_name_file_and_line),
        cmocka_unit_test(test_deep_nesting_refused_not_recursed),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_config_map_defaults_values_types),
        cmocka_unit_test(test_config_map_rejects_unknown_and_wrong_types),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_fail_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
