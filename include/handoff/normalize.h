/*
 * normalize.h - the field normalizations the ingest worker applies (proto/messages.md,
 * "Canonical lead fields"): email, country, US state, employees, revenue, dates, industry
 * group, source channel, personal mail domains, URL path. Pure functions, no I/O.
 *
 * Functions returning char * return malloc'd strings the caller frees; functions returning
 * const char * return static strings (or NULL when the input is not recognised).
 */
#ifndef HO_NORMALIZE_H
#define HO_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trim ASCII and Unicode spaces at both ends; NFC when the text is valid UTF-8. NULL on
 * invalid UTF-8. */
char *ho_norm_text(const char *in);

/* Email: ho_email_key (email.h: ASCII whitespace trimmed, ASCII lower-cased, nothing else),
 * NULL when in is NULL or blank. Check the result with ho_norm_email_valid. */
char *ho_norm_email(const char *in);
/* ho_email_valid (email.h): the one policy of CONTRACT-12 section 3. */
bool ho_norm_email_valid(const char *email);
/* Free-mail domains (gmail.com, yahoo.*, outlook.com, gmx.de, ...). */
bool ho_norm_personal_domain(const char *domain);

/* Country name, alias or code ("USA", "United Kingdom", "Deutschland", "de") -> ISO 3166-1
 * alpha-2, or NULL. */
const char *ho_norm_country(const char *in);
/* US state name or USPS code ("New York", "ny") -> USPS code, or NULL. */
const char *ho_norm_us_state(const char *in);

/* "980", "1,200", HubSpot buckets "100-500" (midpoint), "1000+" (1001: more than 1000).
 * 0 and *out, or -1. */
int ho_norm_employees(const char *in, long long *out);
/* "193556000", "$1,200,000.50", "1.2M", "3bn" -> USD. 0 and *out, or -1. */
int ho_norm_revenue(const char *in, double *out);

/* A date in the formats sources write -> ms since the epoch, UTC. Tried in order: each
 * strptime format of `formats` (NULL-terminated, may be NULL; read as UTC), then ISO 8601
 * (`2026-10-14T09:12:45Z`, `.000Z`, `+0000`, `+02:00`), `YYYY-MM-DD HH:MM[:SS]`,
 * `YYYY-MM-DD`, `MM/DD/YYYY[ HH:MM[:SS]]`, and epoch seconds (10 digits) or milliseconds
 * (13 digits). 0 and *ms, or -1 (also for impossible dates like 2026-02-30). */
int ho_norm_date(const char *in, const char *const *formats, int64_t *ms);

/* Source industry label -> industry_group (software, finance, healthcare, manufacturing,
 * retail, telecom, logistics, utilities, education, nonprofit, media, other). */
const char *ho_norm_industry_group(const char *label);
/* original_source ("Paid Search", "Web", "facebook") and the connector's source name ->
 * source_channel (paid_search, organic_search, email, paid_social, organic_social, referral,
 * direct, event, webinar, partner, list, form, other). */
const char *ho_norm_source_channel(const char *original_source, const char *source);

/* URL or path -> its path without scheme, host, query or fragment ("/pricing"); "" for
 * none. Malloc'd. */
char *ho_norm_url_path(const char *url);

/* Activity type words of the sources -> the catalog's type, or NULL ("Visit Webpage" ->
 * page_view, "open" -> email_open, "demo_request" -> demo_request). */
const char *ho_norm_activity_type(const char *in);

#endif
