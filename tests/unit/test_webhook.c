/* test_webhook.c - webhook.yaml: the shipped defaults, a config folder's copy, "env:NAME"
 * secrets (and a missing variable refused rather than read as an empty secret), limits (body,
 * broker timeout, max_backlog, retry_after_s) and
 * unknown keys reported with file:line:key; `handoff webhook --help` and usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/webhook.h"

static char s_dir[64];

static const char *s_write(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/webhook.yaml", s_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/test_webhook_XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/webhook.yaml", s_dir);
    unlink(path);
    rmdir(s_dir);
    return 0;
}

static void test_shipped_defaults(void **state)
{
    (void)state;
    ho_webhook_settings_t s;
    ho_err_t err = {0};
    if (ho_webhook_settings_load(NULL, NULL, &s, &err) != HO_OK) {
        fail_msg("%s", err.message);
    }
    assert_string_equal(s.listen, "127.0.0.1:8080");
    assert_int_equal(s.body_limit, 1048576);
    assert_false(s.allow_unsigned);
    /* shipped without secrets: every endpoint refuses until they are set */
    assert_string_equal(s.facebook_app_secret, "");
    assert_string_equal(s.feedback_token, "");
    assert_string_equal(s.linkedin_forms, "linkedin_lead_forms.json");
    /* backpressure on by default */
    assert_int_equal(s.max_backlog, 100);
    assert_int_equal(s.retry_after_s, 5);
    ho_webhook_settings_free(&s);
}

static void test_config_dir_and_env(void **state)
{
    (void)state;
    s_write("listen: 127.0.0.1:0\nbody_limit: 2048\nfacebook_app_secret: env:HO_TEST_FB\n"
            "feedback_token: plain-token\n");
    setenv("HO_TEST_FB", "from-the-environment", 1);
    ho_webhook_settings_t s;
    ho_err_t err = {0};
    if (ho_webhook_settings_load(s_dir, NULL, &s, &err) != HO_OK) {
        fail_msg("%s", err.message);
    }
    assert_string_equal(s.listen, "127.0.0.1:0");
    assert_int_equal(s.body_limit, 2048);
    assert_string_equal(s.facebook_app_secret, "from-the-environment");
    assert_string_equal(s.feedback_token, "plain-token");
    ho_webhook_settings_free(&s);
    /* a variable that is not set is an error, never an empty (= unchecked) secret */
    unsetenv("HO_TEST_FB");
    assert_int_equal(ho_webhook_settings_load(s_dir, NULL, &s, &err), HO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "HO_TEST_FB"));
    assert_non_null(strstr(err.message, "facebook_app_secret"));
}

static void s_bad(const char *yaml, const char *needle, const char *line)
{
    const char *path = s_write(yaml);
    ho_webhook_settings_t s;
    ho_err_t err = {0};
    assert_int_not_equal(ho_webhook_settings_load(NULL, path, &s, &err), HO_OK);
    if (!strstr(err.message, needle) || !strstr(err.message, path) ||
        (line && !strstr(err.message, line))) {
        fail_msg("error \"%s\" lacks \"%s\" / %s / %s", err.message, needle, path,
                 line ? line : "");
    }
}

static void test_errors(void **state)
{
    (void)state;
    s_bad("listen: 127.0.0.1:0\nbody_lmit: 5\n", "body_lmit", ":2");
    s_bad("body_limit: lots\n", "body_limit", ":1");
    s_bad("body_limit: 0\n", "body_limit", NULL);
    s_bad("broker_timeout_ms: 5\n", "broker_timeout_ms", NULL);
    s_bad("allow_unsigned: perhaps\n", "allow_unsigned", ":1");
    s_bad("max_backlog: -1\n", "max_backlog", NULL);
    s_bad("max_backlog: many\n", "max_backlog", ":1");
    s_bad("retry_after_s: 0\n", "retry_after_s", NULL);
    s_bad("retry_after_s: 86400\n", "retry_after_s", NULL);
}

static int s_run(const char *const argv[], char *out, size_t cap)
{
    const char *bin = getenv("HO_BIN");
    if (!bin) {
        fail_msg("HO_BIN is not set");
    }
    char cmd[2048];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "'%s' webhook", bin);
    for (size_t i = 0; argv[i]; i++) {
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " %s", argv[i]);
    }
    snprintf(cmd + n, sizeof cmd - n, " 2>&1");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, cap - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command_line(void **state)
{
    (void)state;
    char out[8192];
    const char *help[] = {"--help", NULL};
    assert_int_equal(s_run(help, out, sizeof out), 0);
    assert_non_null(strstr(out, "POST /webhooks/facebook"));
    assert_non_null(strstr(out, "POST /feedback"));
    const char *bad[] = {"--nope", NULL};
    assert_int_equal(s_run(bad, out, sizeof out), 2);
    const char *extra[] = {"stray", NULL};
    assert_int_equal(s_run(extra, out, sizeof out), 2);
    assert_non_null(strstr(out, "--max-backlog"));
    const char *backlog[] = {"--max-backlog", "-3", NULL};
    assert_int_equal(s_run(backlog, out, sizeof out), 2);
    assert_non_null(strstr(out, "--max-backlog"));
    /* a settings file that does not parse: exit 1 naming it */
    const char *path = s_write("body_limit: [\n");
    char arg[200];
    snprintf(arg, sizeof arg, "--settings=%s", path);
    const char *broken[] = {arg, NULL};
    assert_int_equal(s_run(broken, out, sizeof out), 1);
    assert_non_null(strstr(out, path));
    /* an address that is none */
    s_write("listen: nowhere\n");
    assert_int_equal(s_run(broken, out, sizeof out), 1);
    assert_non_null(strstr(out, "listen"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_defaults),
        cmocka_unit_test(test_config_dir_and_env),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_command_line),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
