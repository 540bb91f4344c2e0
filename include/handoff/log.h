/*
 * log.h - levelled, greppable log lines on stderr.
 *
 * Only main, the CLI commands and the worker/broker runtimes log. Library modules return
 * errors to their caller instead (see STYLE.md).
 *
 * Format:  2026-11-23T19:30:01Z INFO  broker: worker registered service=score id=0f3a
 * Level is chosen by HO_LOG_LEVEL=debug|info|warn|error (default info) or ho_log_set_level.
 */
#ifndef HO_LOG_H
#define HO_LOG_H

typedef enum { HO_LOG_DEBUG = 0, HO_LOG_INFO, HO_LOG_WARN, HO_LOG_ERROR } ho_log_level_t;

/* Set the minimum level printed; also read from HO_LOG_LEVEL at first use. */
void ho_log_set_level(ho_log_level_t level);
/* Parse "debug", "info", "warn", "error"; returns -1 for anything else. */
int ho_log_level_parse(const char *name);
/* Component name printed on each line (e.g. "broker", "worker.score"). Borrowed. */
void ho_log_set_component(const char *component);

void ho_log(ho_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ho_debug(...) ho_log(HO_LOG_DEBUG, __VA_ARGS__)
#define ho_info(...) ho_log(HO_LOG_INFO, __VA_ARGS__)
#define ho_warn(...) ho_log(HO_LOG_WARN, __VA_ARGS__)
#define ho_error(...) ho_log(HO_LOG_ERROR, __VA_ARGS__)

#endif
