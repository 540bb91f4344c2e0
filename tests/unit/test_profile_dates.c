/* test_profile_dates.c - a profile's current date formats (connector.h, ho_profile_dates_*):
 * the record's own formats first; then what the profile in the config folder lists now, re-read
 * when the file is edited, replaced or removed; looked up by payload.profile, else source; the
 * built-in profile without a config folder; names that are paths refused; `tried` naming the
 * profile and its formats for a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "handoff/connector.h"

static char s_dir[64];

#define EURO_MS 1772720520000LL /* 2026-03-05T14:22:00Z */

static void s_profile(const char *name, const char *formats)
{
    char path[200], tmp[200];
    snprintf(path, sizeof path, "%s/profiles/%s.yaml", s_dir, name);
    snprintf(tmp, sizeof tmp, "%s/profiles/.%s.tmp", s_dir, name);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f,
            "name: %s\nkind: lead\nsource: crm_%s\ndate_formats: [%s]\ndetect: [Mail]\n"
            "columns:\n  Mail: email\n",
            name, name, formats);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/test_profile_dates_XXXXXX");
    if (!mkdtemp(s_dir)) {
        return -1;
    }
    char p[128];
    snprintf(p, sizeof p, "%s/profiles", s_dir);
    return mkdir(p, 0700);
}

static int s_teardown(void **state)
{
    (void)state;
    char p[200];
    snprintf(p, sizeof p, "%s/profiles/acme.yaml", s_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/profiles", s_dir);
    rmdir(p);
    rmdir(s_dir);
    return 0;
}

static json_t *s_payload(const char *profile, const char *source, const char *formats_json)
{
    json_t *p = json_object();
    if (profile) {
        json_object_set_new(p, "profile", json_string(profile));
    }
    if (source) {
        json_object_set_new(p, "source", json_string(source));
    }
    if (formats_json) {
        json_object_set_new(p, "date_formats", json_loads(formats_json, 0, NULL));
    }
    return p;
}

static void test_current_formats_follow_the_file(void **state)
{
    (void)state;
    ho_profile_dates_t *d = ho_profile_dates_new(s_dir);
    assert_non_null(d);
    json_t *p = s_payload("acme", "crm_acme", "[\"%Y-%m-%d %H:%M\"]");
    int64_t ms = 0;
    char tried[300];
    /* the record's own formats and the built-in forms first: no profile needed */
    assert_int_equal(ho_profile_dates_parse(d, p, "2026-03-05 14:22", &ms, tried, sizeof tried), 0);
    assert_int_equal(ms, EURO_MS);
    /* no such profile yet: refused, nothing to name */
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                     -1);
    assert_string_equal(tried, "");
    /* the profile as imported: still refused, the reason names it */
    s_profile("acme", "\"%Y-%m-%d %H:%M\"");
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                     -1);
    assert_string_equal(tried, "the date_formats of profile acme [\"%Y-%m-%d %H:%M\"]");
    /* the operator adds the format: read now, same object (no restart) */
    s_profile("acme", "\"%Y-%m-%d %H:%M\", \"%d.%m.%Y %H:%M\"");
    ms = 0;
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried), 0);
    assert_int_equal(ms, EURO_MS);
    assert_int_equal(ho_profile_dates_parse(d, p, "someday", &ms, tried, sizeof tried), -1);
    assert_non_null(strstr(tried, "\"%d.%m.%Y %H:%M\""));
    /* and removes it again */
    char path[200];
    snprintf(path, sizeof path, "%s/profiles/acme.yaml", s_dir);
    unlink(path);
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                     -1);
    json_decref(p);
    ho_profile_dates_destroy(&d);
    assert_null(d);
    ho_profile_dates_destroy(&d); /* twice is fine */
}

static void test_lookup_by_profile_then_source(void **state)
{
    (void)state;
    s_profile("acme", "\"%d.%m.%Y %H:%M\"");
    ho_profile_dates_t *d = ho_profile_dates_new(s_dir);
    int64_t ms = 0;
    /* source only (the profile's name is its source) */
    json_t *p = s_payload(NULL, "acme", NULL);
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, NULL, 0), 0);
    json_decref(p);
    /* the source is the CRM's name, the profile says which file */
    p = s_payload("acme", "crm_acme", NULL);
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, NULL, 0), 0);
    json_decref(p);
    /* names that would be paths are not looked up */
    const char *bad[] = {"../profiles/acme", "/etc/passwd", ".acme", "ac me", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = s_payload(bad[i], NULL, NULL);
        char tried[300] = "x";
        assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                         -1);
        assert_string_equal(tried, "");
        json_decref(p);
    }
    ho_profile_dates_destroy(&d);
}

static void test_builtin_and_no_cache(void **state)
{
    (void)state;
    int64_t ms = 0;
    char tried[300];
    /* no config folder: the built-in hubspot profile ("%Y-%m-%d %H:%M") */
    ho_profile_dates_t *d = ho_profile_dates_new(NULL);
    json_t *p = s_payload(NULL, "hubspot", NULL);
    assert_int_equal(ho_profile_dates_parse(d, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                     -1);
    assert_non_null(strstr(tried, "profile hubspot [\"%Y-%m-%d %H:%M\"]"));
    ho_profile_dates_destroy(&d);
    /* without the object: the record's formats and the built-in forms only */
    json_decref(p);
    p = s_payload(NULL, "hubspot", "[\"%d.%m.%Y %H:%M\"]");
    assert_int_equal(ho_profile_dates_parse(NULL, p, "05.03.2026 14:22", &ms, tried, sizeof tried),
                     0);
    assert_int_equal(ms, EURO_MS);
    assert_int_equal(ho_profile_dates_parse(NULL, p, "1772720520", &ms, tried, sizeof tried), 0);
    assert_int_equal(ho_profile_dates_parse(NULL, p, "soon", &ms, tried, sizeof tried), -1);
    assert_string_equal(tried, "");
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_formats_follow_the_file),
        cmocka_unit_test(test_lookup_by_profile_then_source),
        cmocka_unit_test(test_builtin_and_no_cache),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
