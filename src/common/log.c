/* log.c - see include/handoff/log.h */
#include "handoff/log.h"
#include "handoff/time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int s_level = -1;
static const char *s_component = "handoff";

static const char *s_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

int ho_log_level_parse(const char *name)
{
    if (!name) {
        return -1;
    }
    if (strcmp(name, "debug") == 0) {
        return HO_LOG_DEBUG;
    }
    if (strcmp(name, "info") == 0) {
        return HO_LOG_INFO;
    }
    if (strcmp(name, "warn") == 0 || strcmp(name, "warning") == 0) {
        return HO_LOG_WARN;
    }
    if (strcmp(name, "error") == 0) {
        return HO_LOG_ERROR;
    }
    return -1;
}

void ho_log_set_level(ho_log_level_t level)
{
    s_level = (int)level;
}

void ho_log_set_component(const char *component)
{
    s_component = component ? component : "handoff";
}

void ho_log(ho_log_level_t level, const char *fmt, ...)
{
    if (s_level < 0) {
        int parsed = ho_log_level_parse(getenv("HO_LOG_LEVEL"));
        s_level = parsed < 0 ? HO_LOG_INFO : parsed;
    }
    if ((int)level < s_level) {
        return;
    }
    char stamp[32];
    ho_time_format((int64_t)time(NULL) * 1000, stamp, sizeof stamp);

    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s %s: ", stamp, s_names[level], s_component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) {
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    }
    va_end(ap);
    /* One write per line so lines from several processes do not interleave. */
    size_t len = strlen(line);
    if (len + 1 < sizeof line) {
        line[len++] = '\n';
        line[len] = '\0';
    }
    fputs(line, stderr);
}
