/* test_normalize.c - the ingest normalizations: email (the shared key and validity of email.h, free-mail
 * domains), countries and US states as exports write them, employee buckets and numbers,
 * revenue, the date formats of the sources (and impossible dates), industry groups, source
 * channels, URL paths and activity type words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff/normalize.h"

static void s_email_is(const char *in, const char *want)
{
    char *e = ho_norm_email(in);
    if (!want) {
        assert_null(e);
        return;
    }
    assert_non_null(e);
    assert_string_equal(e, want);
    free(e);
}

static void test_email(void **state)
{
    (void)state;
    s_email_is(" MARGUERITE.WHITLOCK@MARRAMBANK.CO.UK\t", "marguerite.whitlock@marrambank.co.uk");
    s_email_is("Ada.Lovelace@Example.com ", "ada.lovelace@example.com");
    /* the shared key (email.h): ASCII whitespace and ASCII case only, nothing else */
    s_email_is("\tjo@x.io\r\n", "jo@x.io");
    s_email_is("ada+tag@x.io", "ada+tag@x.io");
    s_email_is("", NULL);
    s_email_is("   ", NULL);
    assert_true(ho_norm_email_valid("a.b+tag@sub.example.co.uk"));
    assert_false(ho_norm_email_valid("j\xC3\xB6rg@example.de")); /* policy: ASCII only */
    assert_false(ho_norm_email_valid("n/a"));
    assert_false(ho_norm_email_valid("bad.address@@larch-telecom.com"));
    assert_false(ho_norm_email_valid("no-at-sign.example.com"));
    assert_false(ho_norm_email_valid("@example.com"));
    assert_false(ho_norm_email_valid("a@example"));
    assert_false(ho_norm_email_valid("a@example.c"));
    assert_false(ho_norm_email_valid("a b@example.com"));
    assert_false(ho_norm_email_valid("a..b@example.com"));
    assert_false(ho_norm_email_valid("a@-example.com"));
    assert_false(ho_norm_email_valid("a@example..com"));
    assert_false(ho_norm_email_valid("cut.off@"));
    assert_true(ho_norm_personal_domain("gmail.com"));
    assert_true(ho_norm_personal_domain("yahoo.co.uk"));
    assert_true(ho_norm_personal_domain("GMX.de"));
    assert_true(ho_norm_personal_domain("proton.me"));
    assert_false(ho_norm_personal_domain("orrerysystems.com"));
    assert_false(ho_norm_personal_domain("yahoo-analytics.com"));
}

static void test_country_state(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"USA", "US"},
        {"United States", "US"},
        {"U.S.A.", "US"},
        {"us", "US"},
        {"United States of America", "US"},
        {"UK", "GB"},
        {"United Kingdom", "GB"},
        {"GB", "GB"},
        {"England", "GB"},
        {"Deutschland", "DE"},
        {"Germany", "DE"},
        {"de", "DE"},
        {"Nederland", "NL"},
        {"The Netherlands", "NL"},
        {"Schweiz", "CH"},
        {"\xC3\x96sterreich", "AT"},
        {"Espa\xC3\xB1"
         "a",
         "ES"},
        {"Sverige", "SE"},
        {"  japan ", "JP"},
        {"Aotearoa", "NZ"},
        {"Ireland", "IE"},
        {"India", "IN"},
        {"Singapore", "SG"},
        {"Australia", "AU"},
        {"Canada", "CA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = ho_norm_country(cases[i][0]);
        if (!got || strcmp(got, cases[i][1]) != 0) {
            fail_msg("country '%s' -> %s, want %s", cases[i][0], got ? got : "NULL", cases[i][1]);
        }
    }
    assert_null(ho_norm_country("Atlantis"));
    assert_null(ho_norm_country(""));
    assert_null(ho_norm_country("XX"));
    assert_string_equal(ho_norm_us_state("New York"), "NY");
    assert_string_equal(ho_norm_us_state("ny"), "NY");
    assert_string_equal(ho_norm_us_state("  texas"), "TX");
    assert_string_equal(ho_norm_us_state("District of Columbia"), "DC");
    assert_string_equal(ho_norm_us_state("WA"), "WA");
    assert_null(ho_norm_us_state("Bavaria"));
}

static void test_numbers(void **state)
{
    (void)state;
    long long e;
    assert_int_equal(ho_norm_employees("980", &e), 0);
    assert_int_equal(e, 980);
    assert_int_equal(ho_norm_employees("1,200", &e), 0);
    assert_int_equal(e, 1200);
    assert_int_equal(ho_norm_employees("1000+", &e), 0);
    assert_int_equal(e, 1001); /* more than 1000: the Enterprise band */
    assert_int_equal(ho_norm_employees("100-500", &e), 0);
    assert_int_equal(e, 300);
    assert_int_equal(ho_norm_employees("1-5", &e), 0);
    assert_int_equal(e, 3);
    assert_int_equal(ho_norm_employees(" 5 - 25 ", &e), 0);
    assert_int_equal(e, 15);
    assert_int_equal(ho_norm_employees("a lot", &e), -1);
    assert_int_equal(ho_norm_employees("500-100", &e), -1);
    assert_int_equal(ho_norm_employees("", &e), -1);
    assert_int_equal(ho_norm_employees("12.5", &e), -1);
    /* found by fuzz_import: a number past long long must be refused, not cast */
    assert_int_equal(ho_norm_employees("99999999999999999999999", &e), -1);
    assert_int_equal(ho_norm_employees("1-99999999999999999999999", &e), -1);
    assert_int_equal(ho_norm_employees("99999999999999999999999+", &e), -1);
    double r;
    assert_int_equal(ho_norm_revenue("193556000", &r), 0);
    assert_true(r == 193556000.0);
    assert_int_equal(ho_norm_revenue("$1,200,000.50", &r), 0);
    assert_true(r == 1200000.5);
    assert_int_equal(ho_norm_revenue("1.2M", &r), 0);
    assert_true(r == 1200000.0);
    assert_int_equal(ho_norm_revenue("3bn", &r), 0);
    assert_true(r == 3e9);
    assert_int_equal(ho_norm_revenue("USD 250k", &r), 0);
    assert_true(r == 250000.0);
    assert_int_equal(ho_norm_revenue("lots", &r), -1);
}

static void s_date_is(const char *in, const char *const *fmts, int64_t want)
{
    int64_t ms = 0;
    if (ho_norm_date(in, fmts, &ms) != 0) {
        fail_msg("date '%s' refused", in);
    }
    if (ms != want) {
        fail_msg("date '%s' -> %lld, want %lld", in, (long long)ms, (long long)want);
    }
}

static void test_dates(void **state)
{
    (void)state;
    const int64_t t = 1791969165000LL; /* 2026-10-14T09:12:45Z */
    s_date_is("2026-10-14T09:12:45Z", NULL, t);
    s_date_is("2026-10-14T09:12:45.000Z", NULL, t);
    s_date_is("2026-10-14T09:12:45.250Z", NULL, t + 250);
    s_date_is("2026-10-14T09:12:45+0000", NULL, t);
    s_date_is("2026-10-14T11:12:45+02:00", NULL, t);
    s_date_is("2026-10-14T04:12:45-0500", NULL, t);
    s_date_is("2026-10-14 09:12:45", NULL, t);
    s_date_is("2026-10-14 09:12", NULL, t - 45000);
    s_date_is("2026-10-14", NULL, t - (9 * 3600 + 12 * 60 + 45) * 1000LL);
    s_date_is("10/14/2026 09:12:45", NULL, t);
    s_date_is("1791969165", NULL, t);
    s_date_is("1791969165000", NULL, t);
    s_date_is(" 2026-10-14T09:12:45Z ", NULL, t);
    s_date_is("2028-02-29", NULL, 1835395200000LL); /* leap day */
    const char *fmts[] = {"%d.%m.%Y %H:%M", NULL};
    s_date_is("14.10.2026 09:12", fmts, t - 45000);
    int64_t ms;
    assert_int_equal(ho_norm_date("2026-02-30T10:00:00.000Z", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("2027-02-29", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("2026-13-45 10:00", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("31/13/2026 25:61", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("14/10/2026 9h", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("yesterday", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("2026-10-14T25:00:00Z", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("2026-10-14T09:12:45+2500", NULL, &ms), -1);
    assert_int_equal(ho_norm_date("2026-10-14T09:12:45Zjunk", NULL, &ms), -1);
}

static void test_vocabularies(void **state)
{
    (void)state;
    static const char *const ind[][2] = {
        {"Computer Software", "software"},
        {"Technology", "software"},
        {"Information Technology and Services", "software"},
        {"Financial Services", "finance"},
        {"Banking", "finance"},
        {"Insurance", "finance"},
        {"Finance", "finance"},
        {"Hospital & Health Care", "healthcare"},
        {"Healthcare", "healthcare"},
        {"Telecommunications", "telecom"},
        {"Machinery", "manufacturing"},
        {"Manufacturing", "manufacturing"},
        {"Retail", "retail"},
        {"Logistics and Supply Chain", "logistics"},
        {"Transportation", "logistics"},
        {"Utilities", "utilities"},
        {"Non-Profit Organization Management", "nonprofit"},
        {"Not For Profit", "nonprofit"},
        {"Higher Education", "education"},
        {"Education", "education"},
        {"Computer Games", "media"},
        {"Entertainment", "media"},
        {"Media", "media"},
        {"Basket Weaving", "other"},
    };
    for (size_t i = 0; i < sizeof ind / sizeof ind[0]; i++) {
        const char *g = ho_norm_industry_group(ind[i][0]);
        if (!g || strcmp(g, ind[i][1]) != 0) {
            fail_msg("industry '%s' -> %s, want %s", ind[i][0], g ? g : "NULL", ind[i][1]);
        }
    }
    assert_null(ho_norm_industry_group(""));
    static const char *const ch[][3] = {
        {"Paid Search", "hubspot", "paid_search"},
        {"Organic Search", "hubspot", "organic_search"},
        {"Email Marketing", "hubspot", "email"},
        {"Organic Social", "hubspot", "organic_social"},
        {"Paid Social", "hubspot", "paid_social"},
        {"Referrals", "hubspot", "referral"},
        {"Direct Traffic", "hubspot", "direct"},
        {"Offline Sources", "hubspot", "list"},
        {"Other Campaigns", "hubspot", "other"},
        {"Web", "salesforce", "form"},
        {"Phone Inquiry", "salesforce", "direct"},
        {"Partner Referral", "salesforce", "partner"},
        {"Purchased List", "salesforce", "list"},
        {"Trade Show", "salesforce", "event"},
        {"Webinar", "salesforce", "webinar"},
        {"Website", "marketo", "form"},
        {"", "facebook", "paid_social"},
        {"", "linkedin", "paid_social"},
        {"", "typeform", "form"},
        {"", "hubspot_form", "form"},
        {"", "csv", "other"},
    };
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++) {
        const char *c = ho_norm_source_channel(ch[i][0], ch[i][1]);
        if (strcmp(c, ch[i][2]) != 0) {
            fail_msg("channel '%s'/%s -> %s, want %s", ch[i][0], ch[i][1], c, ch[i][2]);
        }
    }
    static const char *const at[][2] = {
        {"page_view", "page_view"},
        {"Visit Webpage", "page_view"},
        {"open", "email_open"},
        {"email_click", "email_click"},
        {"Click Link in Email", "email_click"},
        {"webinar_attended", "webinar_attended"},
        {"Fill Out Form", "form_submit"},
        {"demo_request", "demo_request"},
        {"free_trial_signup", "free_trial_signup"},
        {"unsubscribe", "unsubscribe"},
        {"content_download", "content_download"},
    };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        const char *t = ho_norm_activity_type(at[i][0]);
        if (!t || strcmp(t, at[i][1]) != 0) {
            fail_msg("activity '%s' -> %s, want %s", at[i][0], t ? t : "NULL", at[i][1]);
        }
    }
    assert_null(ho_norm_activity_type("fax_received"));
}

static void s_path_is(const char *url, const char *want)
{
    char *p = ho_norm_url_path(url);
    assert_non_null(p);
    if (strcmp(p, want) != 0) {
        fail_msg("path '%s' -> '%s', want '%s'", url, p, want);
    }
    free(p);
}

static void test_url_path(void **state)
{
    (void)state;
    s_path_is("https://www.northwind-pipelines.com/pricing?plan=enterprise", "/pricing");
    s_path_is("https://www.northwind-pipelines.com/pricing#faq", "/pricing");
    s_path_is("https://www.example.com/blog/exactly-once?utm_source=linkedin&utm_campaign=x",
              "/blog/exactly-once");
    s_path_is("https://www.example.com", "/");
    s_path_is("https://www.example.com/pricing/", "/pricing");
    s_path_is("/demo", "/demo");
    s_path_is("/signup?x=1", "/signup");
    s_path_is("www.example.com/careers", "/careers");
    s_path_is("", "");
    s_path_is(NULL, "");
    char *t = ho_norm_text("  Head of Data \t");
    assert_string_equal(t, "Head of Data");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),        cmocka_unit_test(test_country_state),
        cmocka_unit_test(test_numbers),      cmocka_unit_test(test_dates),
        cmocka_unit_test(test_vocabularies), cmocka_unit_test(test_url_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
