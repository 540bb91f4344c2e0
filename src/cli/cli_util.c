/* cli_util.c - helpers every subcommand shares: did-you-mean for commands, options and names. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/cli.h"

#define CLI_MAX_WORD 64

static size_t s_min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance; words longer than CLI_MAX_WORD are never near. */
size_t ho_cli_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > CLI_MAX_WORD || lb > CLI_MAX_WORD) {
        return (size_t)-1;
    }
    size_t d[CLI_MAX_WORD + 1][CLI_MAX_WORD + 1];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = s_min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j]) {
                d[i][j] = d[i - 2][j - 2] + 1;
            }
        }
    }
    return d[la][lb];
}

const char *ho_cli_nearest(const char *word, const char *const *choices, size_t n)
{
    if (!word || !*word) {
        return NULL;
    }
    size_t len = strlen(word);
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!choices[i]) {
            continue;
        }
        size_t d = ho_cli_distance(word, choices[i]);
        if (len >= 3 && strncmp(choices[i], word, len) == 0) {
            d = 1; /* a prefix of exactly one thing is as good as one typo */
        }
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    if (best && best_d > 0 && best_d <= 2 && best_d * 2 < len) {
        return best;
    }
    return NULL;
}

void ho_cli_option_hint(const char *cmd, int argc, char **argv, const struct option *opts)
{
    if (optind < 1 || optind > argc) {
        return;
    }
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) != 0) {
        return;
    }
    char word[CLI_MAX_WORD + 1];
    size_t len = strcspn(arg + 2, "=");
    if (len == 0 || len > CLI_MAX_WORD) {
        return;
    }
    memcpy(word, arg + 2, len);
    word[len] = '\0';
    size_t n = 0;
    while (opts[n].name) {
        n++;
    }
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = opts[i].name;
    }
    const char *near = ho_cli_nearest(word, names, n);
    if (near && strcmp(near, word) != 0) {
        fprintf(stderr, "handoff %s: did you mean --%s?\n", cmd, near);
    }
    free(names);
}
