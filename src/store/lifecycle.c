/* lifecycle.c - the lead lifecycle state machine; see include/handoff/lifecycle.h */
#include "handoff/lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/conf.h"
#include "handoff/defaults.h"

static const char *const s_stages[HO_STAGE__COUNT] = {
    "ML", "MQL", "SAL", "SQL", "OPPORTUNITY", "WON", "LOST", "RECYCLED", "DISQUALIFIED",
};

/* The only legal moves. Keep it in the order of the funnel so `handoff lead` and the docs
 * read naturally. */
static const ho_transition_t s_table[] = {
    {"qualify", HO_STAGE_ML, HO_STAGE_MQL},
    {"qualify", HO_STAGE_RECYCLED, HO_STAGE_MQL},
    {"decay", HO_STAGE_MQL, HO_STAGE_RECYCLED},
    {"accept", HO_STAGE_MQL, HO_STAGE_SAL},
    {"reject_recycle", HO_STAGE_MQL, HO_STAGE_RECYCLED},
    {"reject_recycle", HO_STAGE_SAL, HO_STAGE_RECYCLED},
    {"reject_disqualify", HO_STAGE_MQL, HO_STAGE_DISQUALIFIED},
    {"reject_disqualify", HO_STAGE_SAL, HO_STAGE_DISQUALIFIED},
    {"convert_sql", HO_STAGE_SAL, HO_STAGE_SQL},
    {"open_opportunity", HO_STAGE_SQL, HO_STAGE_OPPORTUNITY},
    {"win", HO_STAGE_SQL, HO_STAGE_WON},
    {"win", HO_STAGE_OPPORTUNITY, HO_STAGE_WON},
    {"lose", HO_STAGE_SAL, HO_STAGE_LOST},
    {"lose", HO_STAGE_SQL, HO_STAGE_LOST},
    {"lose", HO_STAGE_OPPORTUNITY, HO_STAGE_LOST},
    {"recycle", HO_STAGE_LOST, HO_STAGE_RECYCLED},
    {"disqualify", HO_STAGE_ML, HO_STAGE_DISQUALIFIED},
    {"disqualify", HO_STAGE_MQL, HO_STAGE_DISQUALIFIED},
    {"disqualify", HO_STAGE_SAL, HO_STAGE_DISQUALIFIED},
    {"disqualify", HO_STAGE_RECYCLED, HO_STAGE_DISQUALIFIED},
    {"reopen", HO_STAGE_DISQUALIFIED, HO_STAGE_RECYCLED},
};
#define S_N (sizeof s_table / sizeof s_table[0])

const char *ho_stage_name(ho_stage_t stage)
{
    return (int)stage >= 0 && stage < HO_STAGE__COUNT ? s_stages[stage] : NULL;
}

int ho_stage_parse(const char *name)
{
    for (int i = 0; name && i < HO_STAGE__COUNT; i++) {
        if (strcmp(name, s_stages[i]) == 0) {
            return i;
        }
    }
    return -1;
}

const ho_transition_t *ho_lifecycle_table(size_t *n_p)
{
    *n_p = S_N;
    return s_table;
}

bool ho_lifecycle_event_known(const char *event)
{
    for (size_t i = 0; event && i < S_N; i++) {
        if (strcmp(s_table[i].event, event) == 0) {
            return true;
        }
    }
    return false;
}

int ho_lifecycle_next(const char *from, const char *event, const char **to_p, ho_err_t *err)
{
    int f = ho_stage_parse(from);
    if (f < 0) {
        return ho_err_set(err, HO_ERR_STATE, "stage", "unknown lifecycle stage \"%s\"",
                          from ? from : "(null)");
    }
    if (!ho_lifecycle_event_known(event)) {
        return ho_err_set(err, HO_ERR_STATE, "event", "unknown lifecycle event \"%s\"",
                          event ? event : "(null)");
    }
    char legal[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < S_N; i++) {
        if (strcmp(s_table[i].event, event) != 0) {
            continue;
        }
        if ((int)s_table[i].from == f) {
            *to_p = s_stages[s_table[i].to];
            return HO_OK;
        }
        int w = snprintf(legal + used, sizeof legal - used, "%s%s", used ? ", " : "",
                         s_stages[s_table[i].from]);
        if (w > 0 && (size_t)w < sizeof legal - used) {
            used += (size_t)w;
        }
    }
    return ho_err_set(err, HO_ERR_STATE, "stage",
                      "illegal transition: %s is not allowed from stage %s (only from %s)", event,
                      from, legal);
}

const char *ho_lifecycle_outcome_event(const char *outcome, const char *disposition)
{
    if (!outcome) {
        return NULL;
    }
    if (strcmp(outcome, "accepted") == 0) {
        return "accept";
    }
    if (strcmp(outcome, "rejected") == 0) {
        return disposition && strcmp(disposition, "disqualify") == 0 ? "reject_disqualify"
                                                                     : "reject_recycle";
    }
    if (strcmp(outcome, "sql") == 0) {
        return "convert_sql";
    }
    if (strcmp(outcome, "opportunity") == 0) {
        return "open_opportunity";
    }
    if (strcmp(outcome, "won") == 0) {
        return "win";
    }
    if (strcmp(outcome, "lost") == 0) {
        return "lose";
    }
    return NULL;
}

/* ---- sales stages derived from the outcome history (lifecycle.h) ---- */
static const char *const s_outcome_order[] = {"accepted",    "rejected", "sql",
                                              "opportunity", "won",      "lost"};

static int s_outcome_rank(const char *o)
{
    for (int i = 0; o && i < 6; i++) {
        if (strcmp(o, s_outcome_order[i]) == 0) {
            return i;
        }
    }
    return 6;
}

static int s_step_cmp(const void *a, const void *b)
{
    const ho_outcome_step_t *x = a, *y = b;
    if (x->occurred_at != y->occurred_at) {
        return x->occurred_at < y->occurred_at ? -1 : 1;
    }
    int rx = s_outcome_rank(x->outcome), ry = s_outcome_rank(y->outcome);
    if (rx != ry) {
        return rx < ry ? -1 : 1;
    }
    int c = strcmp(x->tiebreak ? x->tiebreak : "", y->tiebreak ? y->tiebreak : "");
    if (c != 0) {
        return c;
    }
    return x->ref < y->ref ? -1 : (x->ref > y->ref ? 1 : 0);
}

/* funnel rank of a stage (lifecycle.h) */
static int s_funnel(const char *stage)
{
    static const char *const ranked[] = {"SAL", "SQL", "OPPORTUNITY", "WON", "LOST"};
    static const int rank[] = {1, 2, 3, 4, 4};
    for (int i = 0; stage && i < 5; i++) {
        if (strcmp(stage, ranked[i]) == 0) {
            return rank[i];
        }
    }
    return 0;
}

/* One outcome applied to (cur, r, r_sales). */
static void s_derive_one(ho_outcome_step_t *s, const char **cur, int *r, int *r_sales)
{
    static const char *const by_rank[] = {NULL, "SAL", "SQL", "OPPORTUNITY", "WON"};
    static const char *const implied_by_rank[] = {NULL, "accepted", "sql", "opportunity"};
    const char *o = s->outcome ? s->outcome : "";
    int target = strcmp(o, "accepted") == 0      ? 1
                 : strcmp(o, "sql") == 0         ? 2
                 : strcmp(o, "opportunity") == 0 ? 3
                 : strcmp(o, "won") == 0         ? 4
                 : strcmp(o, "lost") == 0        ? 4
                                                 : 0;
    bool terminal = *r_sales == 4;
    if (strcmp(o, "rejected") == 0) {
        if (*r <= 1 && !terminal) {
            *cur = s->disposition && strcmp(s->disposition, "disqualify") == 0 ? "DISQUALIFIED"
                                                                               : "RECYCLED";
            *r = *r_sales = 0;
            s->moved = true;
        } else {
            s->flags |= HO_OFLAG_OUT_OF_ORDER;
        }
        return;
    }
    if (target == 0) {
        return; /* not an outcome: nothing moves */
    }
    if (terminal || target < *r_sales) {
        s->flags |= HO_OFLAG_OUT_OF_ORDER;
        return;
    }
    if (target <= *r) {
        *r_sales = target; /* the stage a CRM export gave already says as much */
        return;
    }
    /* forward: the stages skipped are implied (lost needs only SAL before it) */
    int last_implied = strcmp(o, "lost") == 0 ? 1 : target - 1;
    for (int k = *r + 1; k <= last_implied && s->n_implied < 3; k++) {
        s->implied[s->n_implied++] = implied_by_rank[k];
    }
    *cur = strcmp(o, "lost") == 0 ? "LOST" : by_rank[target];
    *r = *r_sales = target;
    s->moved = true;
}

/* Apply the other moves up to time until (inclusive). */
static void s_moves_until(const ho_stage_move_t *moves, size_t n_moves, size_t *next, int64_t until,
                          const char **cur, int *r)
{
    for (; *next < n_moves && moves[*next].at <= until; (*next)++) {
        const ho_stage_move_t *m = &moves[*next];
        int to = ho_stage_parse(m->to);
        if (to < 0) {
            continue;
        }
        bool apply = m->crm ? s_funnel(m->to) > *r || (*r == 0 && s_funnel(m->to) == 0)
                            : (m->from && strcmp(m->from, *cur) == 0);
        if (apply) {
            *cur = s_stages[to];
            *r = s_funnel(*cur);
        }
    }
}

const char *ho_lifecycle_derive(ho_outcome_step_t *steps, size_t n, const ho_stage_move_t *moves,
                                size_t n_moves, int64_t first_mql_at)
{
    if (n > 1) {
        qsort(steps, n, sizeof *steps, s_step_cmp);
    }
    const char *cur = "ML";
    int r = 0, r_sales = 0;
    size_t next = 0;
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
        ho_outcome_step_t *s = &steps[i];
        s_moves_until(moves, n_moves, &next, s->occurred_at, &cur, &r);
        s->flags = 0;
        s->moved = false;
        s->n_implied = 0;
        s->stage_before = cur;
        if (first_mql_at == INT64_MIN || first_mql_at > s->occurred_at) {
            s->flags |= HO_OFLAG_WITHOUT_MQL;
        }
        s_derive_one(s, &cur, &r, &r_sales);
        s->stage_after = cur;
        moved = moved || s->moved;
    }
    s_moves_until(moves, n_moves, &next, INT64_MAX, &cur, &r);
    return moved ? cur : NULL;
}

const char *ho_outcome_flags_text(unsigned flags, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", flags & HO_OFLAG_WITHOUT_MQL ? "sales_accepted_without_mql" : "",
             (flags & HO_OFLAG_WITHOUT_MQL) && (flags & HO_OFLAG_OUT_OF_ORDER) ? "," : "",
             flags & HO_OFLAG_OUT_OF_ORDER ? "out_of_order" : "");
    return buf;
}

/* ---- display names ---- */
struct ho_lifecycle {
    char *display[HO_STAGE__COUNT];
};

ho_lifecycle_t *ho_lifecycle_load(const char *config_dir, ho_err_t *err)
{
    ho_conf_t *conf = ho_conf_load_named(config_dir, "lifecycle.yaml", err);
    if (!conf) {
        return NULL;
    }
    ho_lifecycle_t *self = calloc(1, sizeof *self);
    if (!self) {
        ho_conf_destroy(&conf);
        ho_err_set(err, HO_ERR_NOMEM, "", "out of memory");
        return NULL;
    }
    const ho_node_t *root = ho_conf_root(conf);
    static const char *const top[] = {"stages", NULL};
    if (ho_conf_check_keys(conf, root, top, err) != HO_OK) {
        goto fail;
    }
    const ho_node_t *stages = ho_node_get(root, "stages");
    if (stages && ho_node_kind(stages) != HO_NODE_MAP) {
        ho_conf_fail(conf, stages, err, HO_ERR_CONFIG, "expected a map of stage: display name");
        goto fail;
    }
    for (size_t i = 0; stages && i < ho_node_size(stages); i++) {
        const char *key = ho_node_key_at(stages, i);
        const ho_node_t *val = ho_node_at(stages, i);
        int st = ho_stage_parse(key);
        if (st < 0) {
            ho_conf_fail(conf, val, err, HO_ERR_CONFIG,
                         "unknown stage \"%s\" (stages are ML MQL SAL SQL OPPORTUNITY WON LOST "
                         "RECYCLED DISQUALIFIED)",
                         key);
            goto fail;
        }
        const char *name = ho_node_str(val);
        if (!name || !name[0]) {
            ho_conf_fail(conf, val, err, HO_ERR_CONFIG, "expected a display name");
            goto fail;
        }
        free(self->display[st]);
        self->display[st] = strdup(name);
    }
    ho_conf_destroy(&conf);
    return self;
fail:
    ho_conf_destroy(&conf);
    ho_lifecycle_destroy(&self);
    return NULL;
}

void ho_lifecycle_destroy(ho_lifecycle_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    for (int i = 0; i < HO_STAGE__COUNT; i++) {
        free((*self_p)->display[i]);
    }
    free(*self_p);
    *self_p = NULL;
}

const char *ho_lifecycle_display(const ho_lifecycle_t *self, const char *stage)
{
    int st = ho_stage_parse(stage);
    if (self && st >= 0 && self->display[st]) {
        return self->display[st];
    }
    return stage;
}
