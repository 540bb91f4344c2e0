/* main.c - the one `handoff` binary: a table of subcommands (git/redis style). */
#include <stdio.h>
#include <string.h>

#include "handoff/cli.h"
#include "handoff/log.h"

typedef struct {
    const char *name;
    ho_cmd_fn *fn;
    const char *summary;
} s_command_t;

static const s_command_t s_commands[] = {
    {"run", ho_cmd_run, "broker + one of each worker on this machine (the embedded default)"},
    {"broker", ho_cmd_broker, "the hub: routes messages between workers"},
    {"worker", ho_cmd_worker, "run one built-in worker: ingest store score route feedback report outbox"},
    {"import", ho_cmd_import, "send a CSV/JSONL export of leads, activities or feedback"},
    {"webhook", ho_cmd_webhook, "HTTP server for form webhooks and sales feedback"},
    {"status", ho_cmd_status, "services, workers, queue depths and message counts"},
    {"lead", ho_cmd_lead, "one lead: profile, sources, activities, scores, stages, owner"},
    {"report", ho_cmd_report, "write the weekly conversion workbook (.xlsx)"},
    {"score", ho_cmd_score, "explain a lead's score, or dry-run a new scoring model"},
    {"dlq", ho_cmd_dlq, "list, show and replay dead letters and quarantined records"},
    {"outbox", ho_cmd_outbox, "list, show and retry CRM webhook deliveries"},
    {"forget", ho_cmd_forget, "erase a person's personal data, keeping anonymous counts"},
    {"keygen", ho_cmd_keygen, "make CURVE key pairs for the broker and workers"},
    {"demo-data", ho_cmd_demo, "write seeded demo exports (HubSpot, Salesforce, webhooks, ...)"},
    {"metrics", ho_cmd_metrics, "Prometheus metrics, /healthz and /readyz over HTTP"},
    {"config", ho_cmd_config, "check every config file (file:line errors)"},
};
#define N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static void s_usage(FILE *out)
{
    fprintf(out, "usage: handoff COMMAND [options]   (handoff COMMAND --help for details)\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (s_commands[i].fn) {
            fprintf(out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        s_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        ho_cli_print_version(stdout);
        return 0;
    }
    const char *names[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (!strcmp(argv[1], s_commands[i].name) && s_commands[i].fn) {
            ho_log_set_component(s_commands[i].name);
            return s_commands[i].fn(argc - 1, argv + 1);
        }
        names[i] = s_commands[i].fn ? s_commands[i].name : NULL;
    }
    const char *near = ho_cli_nearest(argv[1], names, N_COMMANDS);
    if (near) {
        fprintf(stderr, "handoff: unknown command '%s', did you mean %s?\n", argv[1], near);
        fprintf(stderr, "(handoff --help lists every command)\n");
        return 2;
    }
    fprintf(stderr, "handoff: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return 2;
}
