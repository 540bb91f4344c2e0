/* profile_crm.c - what a CRM export says about a lead's stage and owner, as data in the
 * profile (deploy/profiles/NAME.yaml, `crm:`), never in C:
 *
 *   crm:
 *     lifecycle_stage:                 # the export's lifecycle stage -> our stage code
 *       Marketing Qualified Lead: MQL
 *     lead_status:                     # the export's lead status -> a rule
 *       Unqualified: {stage: DISQUALIFIED, if_at_most: ML}
 *       In Progress: {at_least: SAL, if_at_least: MQL}
 *       New: {}                        # known, says nothing about the stage
 *     is_converted: {at_least: SQL}    # the is_converted field is true/1/yes
 *     not_owner_prefixes: ["00G"]      # owner ids that are queues, not people
 *
 * A rule applies when its condition holds on the lifecycle stage (if_at_least: the stage is
 * known and at least that; if_at_most: unknown or at most that); then `stage` replaces it and
 * `at_least` raises it. When the condition fails the lifecycle stage stands (ML if none).
 * Values match trimmed and case-insensitively; an unknown value gives no crm_stage from it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "connectors/profile_crm.h"
#include "handoff/connector.h"

static const char *const s_codes[] = {"ML",  "MQL",  "SAL",          "SQL", "OPPORTUNITY",
                                      "WON", "LOST", "DISQUALIFIED", NULL};
/* funnel order for at_least / if_at_*: a disqualified lead is no further than ML, a lost one
 * as far as a won one (both are closed) */
static const int s_rank[] = {0, 1, 2, 3, 4, 5, 5, 0};

static int s_code(const char *s)
{
    for (int i = 0; s && s_codes[i]; i++) {
        if (strcmp(s, s_codes[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int s_need_code(const ho_conf_t *conf, const ho_node_t *v, ho_err_t *err)
{
    if (s_code(ho_node_str(v)) < 0) {
        return ho_conf_fail(conf, v, err, HO_ERR_CONFIG,
                            "expected a stage code (ML, MQL, SAL, SQL, OPPORTUNITY, WON, LOST, "
                            "DISQUALIFIED), got \"%s\"",
                            ho_node_str(v) ? ho_node_str(v) : "(not text)");
    }
    return HO_OK;
}

static int s_check_rule(const ho_conf_t *conf, const ho_node_t *rule, ho_err_t *err)
{
    static const char *const keys[] = {"stage", "at_least", "if_at_least", "if_at_most", NULL};
    if (ho_node_kind(rule) != HO_NODE_MAP) {
        return ho_conf_fail(conf, rule, err, HO_ERR_CONFIG,
                            "expected a rule map {stage | at_least, if_at_least, if_at_most}");
    }
    if (ho_conf_check_keys(conf, rule, keys, err) != HO_OK) {
        return err->code;
    }
    for (size_t i = 0; keys[i]; i++) {
        const ho_node_t *v = ho_node_get(rule, keys[i]);
        if (v && s_need_code(conf, v, err) != HO_OK) {
            return err->code;
        }
    }
    return HO_OK;
}

int ho_profile_crm_check(const ho_conf_t *conf, const ho_node_t *crm, ho_err_t *err)
{
    static const char *const keys[] = {"lifecycle_stage", "lead_status", "is_converted",
                                       "not_owner_prefixes", NULL};
    if (!crm) {
        return HO_OK;
    }
    if (ho_node_kind(crm) != HO_NODE_MAP) {
        return ho_conf_fail(conf, crm, err, HO_ERR_CONFIG, "crm: expected a map");
    }
    if (ho_conf_check_keys(conf, crm, keys, err) != HO_OK) {
        return err->code;
    }
    const ho_node_t *st = ho_node_get(crm, "lifecycle_stage");
    if (st && ho_node_kind(st) != HO_NODE_MAP) {
        return ho_conf_fail(conf, st, err, HO_ERR_CONFIG, "expected a map of value: stage code");
    }
    for (size_t i = 0; st && i < ho_node_size(st); i++) {
        if (s_need_code(conf, ho_node_at(st, i), err) != HO_OK) {
            return err->code;
        }
    }
    const ho_node_t *ls = ho_node_get(crm, "lead_status");
    if (ls && ho_node_kind(ls) != HO_NODE_MAP) {
        return ho_conf_fail(conf, ls, err, HO_ERR_CONFIG, "expected a map of value: rule");
    }
    for (size_t i = 0; ls && i < ho_node_size(ls); i++) {
        if (s_check_rule(conf, ho_node_at(ls, i), err) != HO_OK) {
            return err->code;
        }
    }
    const ho_node_t *conv = ho_node_get(crm, "is_converted");
    if (conv && s_check_rule(conf, conv, err) != HO_OK) {
        return err->code;
    }
    const ho_node_t *np = ho_node_get(crm, "not_owner_prefixes");
    if (np && ho_node_kind(np) != HO_NODE_SEQ) {
        return ho_conf_fail(conf, np, err, HO_ERR_CONFIG, "expected a list of prefixes");
    }
    return HO_OK;
}

/* A value of a map by its key, trimmed and case-insensitive. */
static const ho_node_t *s_lookup(const ho_node_t *map, const char *value)
{
    if (!map || !value) {
        return NULL;
    }
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t')) {
        n--;
    }
    for (size_t i = 0; i < ho_node_size(map); i++) {
        const char *k = ho_node_key_at(map, i);
        if (k && strlen(k) == n && strncasecmp(k, value, n) == 0) {
            return ho_node_at(map, i);
        }
    }
    return NULL;
}

/* A rule on the stage so far (-1: none); returns the new stage (-1: none). */
static int s_rule(const ho_node_t *rule, int stage)
{
    int set = s_code(ho_node_str(ho_node_get(rule, "stage")));
    int least = s_code(ho_node_str(ho_node_get(rule, "at_least")));
    int if_least = s_code(ho_node_str(ho_node_get(rule, "if_at_least")));
    int if_most = s_code(ho_node_str(ho_node_get(rule, "if_at_most")));
    if (set < 0 && least < 0) {
        return stage; /* a known value that says nothing about the stage */
    }
    bool holds = true;
    if (if_least >= 0) {
        holds = stage >= 0 && s_rank[stage] >= s_rank[if_least];
    }
    if (if_most >= 0) {
        holds = holds && (stage < 0 || s_rank[stage] <= s_rank[if_most]);
    }
    if (!holds) {
        return stage >= 0 ? stage : 0;
    }
    if (set >= 0) {
        return set;
    }
    return stage >= 0 && s_rank[stage] >= s_rank[least] ? stage : least;
}

static bool s_true(const char *s)
{
    return s && (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes"));
}

const char *ho_profile_crm_stage(const ho_profile_t *self, const json_t *fields)
{
    const ho_node_t *crm = ho_node_get(ho_conf_root(ho_profile_conf(self)), "crm");
    if (!crm) {
        return NULL;
    }
    int stage = -1;
    const ho_node_t *st = s_lookup(ho_node_get(crm, "lifecycle_stage"),
                                   json_string_value(json_object_get(fields, "lifecycle_stage")));
    if (st) {
        stage = s_code(ho_node_str(st));
    }
    const ho_node_t *rule = s_lookup(ho_node_get(crm, "lead_status"),
                                     json_string_value(json_object_get(fields, "lead_status")));
    if (rule) {
        stage = s_rule(rule, stage);
    }
    const ho_node_t *conv = ho_node_get(crm, "is_converted");
    if (conv && s_true(json_string_value(json_object_get(fields, "is_converted")))) {
        stage = s_rule(conv, stage);
    }
    return stage >= 0 ? s_codes[stage] : NULL;
}

bool ho_profile_not_owner(const ho_profile_t *self, const char *owner)
{
    const ho_node_t *crm = ho_node_get(ho_conf_root(ho_profile_conf(self)), "crm");
    const ho_node_t *np = ho_node_get(crm, "not_owner_prefixes");
    for (size_t i = 0; owner && np && i < ho_node_size(np); i++) {
        const char *pre = ho_node_str(ho_node_at(np, i));
        if (pre && pre[0] && strncmp(owner, pre, strlen(pre)) == 0) {
            return true;
        }
    }
    return false;
}

void ho_profile_crm_apply(const ho_profile_t *self, json_t *fields, json_t *extra)
{
    if (ho_profile_kind(self) != HO_KIND_LEAD || !json_is_object(fields)) {
        return;
    }
    const char *stage = ho_profile_crm_stage(self, fields);
    if (stage) {
        json_object_set_new(fields, "crm_stage", json_string(stage));
    }
    const char *owner = json_string_value(json_object_get(fields, "owner"));
    if (owner && ho_profile_not_owner(self, owner)) {
        /* a queue, not a person: kept, but not as the owner */
        if (extra) {
            json_object_set(extra, "owner_queue", json_object_get(fields, "owner"));
        }
        json_object_del(fields, "owner");
    }
}
