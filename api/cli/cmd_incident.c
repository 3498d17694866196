/* cmd_incident.c — `gridwatch incident transition|history|overdue DB …`: the closed-loop
 * incident flow (geo/flow, docs/incident-flow.md) from the command line, on either store.  An
 * incident's jurisdiction path is that of the published grid containing its point (a model of
 * the store, gw_layer_data_grid_at: the rule the server and every scoped route use), read from
 * the grid's prefecture/county/township/village fields; its stored `grid` field only stands in
 * for an incident the model does not hold. */
#include "cli_util.h"
#include "commands.h"

#include "gridwatch/flow.h"
#include "gridwatch/juris.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/store_features.h"
#include "gridwatch/store_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] = N_(
    "usage: gridwatch incident transition DB ID ACTION [--note TEXT] [--team T | --department D]\n"
    "                          [--to CHILD] [--as NAME] [--jurisdiction PATH]\n"
    "       gridwatch incident history DB ID\n"
    "       gridwatch incident overdue DB [--jurisdiction PATH]\n"
    "\n"
    "The closed-loop incident flow (docs/incident-flow.md).\n"
    "  transition  apply ACTION to incident ID: accept, assign (--team or --department),\n"
    "              arrive, resolve, close, return, reopen, escalate (to the level above),\n"
    "              hand_down (to the level below; --to names the child jurisdiction).\n"
    "              return, reopen and escalate need --note.  --as names the actor for the\n"
    "              audit trail ($USER by default); --jurisdiction acts as an account scoped to\n"
    "              PATH (\"Prefecture/County/Township/Village\"; default: the root, unscoped).\n"
    "              Prints the new state, level and deadline.\n"
    "  history     the incident's transitions, oldest first (tab-separated: seq, at, actor,\n"
    "              actor jurisdiction, action, from state, to state, from level, to level,\n"
    "              assignee, note).\n"
    "  overdue     incidents past the deadline of their next expected action (tab-separated:\n"
    "              id, state, level, deadline, expected action, jurisdiction): those with a\n"
    "              transition, earliest deadline first, then those never transitioned (still\n"
    "              reported: the accept deadline counts from occurred_at), earliest first;\n"
    "              --jurisdiction keeps those within PATH.\n"
    "\n"
    "exit codes: 0 done, 1 database error, 2 usage, 3 refused input (no such incident, a note\n"
    "or assignee missing, a wrong child), 4 refused by the state machine, a level bound or the\n"
    "jurisdiction (the message says why)\n");

/* The jurisdiction path of a published grid by its fields, into buf ("" when unknown). */
static void grid_path(gw_store *s, const char *grid, char *buf, size_t cap)
{
    static const char *const parts[] = {"prefecture", "county", "township", "village"};
    buf[0] = 0;
    if (!grid || !*grid) return;
    gw_feature_filter f = {.layer = GW_LAYER_GRIDS, .ids = &grid, .n_ids = 1};
    gw_feature_reader *rd = NULL;
    gw_row row;
    if (gw_store_features_open(s, &f, 1, 0, &rd) == GW_OK &&
        gw_store_features_next(s, rd, &row) == GW_OK) {
        size_t len = 0;
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            int k = gw_layer_field_index(GW_LAYER_GRIDS, parts[i]);
            if (k < 0 || row.values[k].kind != GW_VAL_TEXT || !row.values[k].s[0] || len >= cap)
                continue;
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", row.values[k].s);
        }
        if (len >= cap) buf[0] = 0;
    }
    gw_store_features_close(s, rd);
    gw_ctx_clear_error(gw_store_ctx(s));
}

/* A model of the store for placing incidents (NULL members: none could be loaded). */
typedef struct placer {
    gw_ctx *ctx;
    gw_store *s;
    gw_model *m;
    gw_model_snapshot *snap;
} placer;

static void placer_open(placer *p, gw_ctx *ctx, gw_store *s)
{
    *p = (placer){.ctx = ctx, .s = s};
    if (gw_model_open(ctx, s, &p->m) == GW_OK) p->snap = gw_model_acquire(p->m);
    else gw_ctx_clear_error(ctx);
}

static void placer_close(placer *p)
{
    gw_model_release(p->ctx, p->snap);
    gw_model_close(p->m);
}

/* The path of incident `id`: the published grid containing its point; its stored grid field
 * when the model does not hold it ("" when in no grid). */
static void incident_path(placer *p, const char *id, const char *grid, char *buf, size_t cap)
{
    buf[0] = 0;
    const gw_layer_data *I = gw_snapshot_layer(p->snap, GW_LAYER_INCIDENTS);
    const gw_layer_data *G = gw_snapshot_layer(p->snap, GW_LAYER_GRIDS);
    ptrdiff_t row = I && G ? gw_layer_data_find(I, id) : -1, g = -1;
    if (row < 0) {
        grid_path(p->s, grid, buf, cap);
        return;
    }
    if (gw_layer_data_grid_at(p->ctx, G, gw_layer_data_x(I, GW_MODEL_METRIC)[row],
                              gw_layer_data_y(I, GW_MODEL_METRIC)[row], &g) != GW_OK)
        g = -1, gw_ctx_clear_error(p->ctx);
    if (g >= 0 && gw_juris_grid_path(G, (size_t)g, buf, cap, NULL) >= cap) buf[0] = 0;
}

typedef struct known_path {
    const char *grid, *path;
} known_path;

static int path_cb(void *user, const char *grid, char *buf, size_t cap)
{
    known_path *k = user;
    snprintf(buf, cap, "%s", k->grid && strcmp(grid, k->grid) == 0 ? k->path : "");
    return 0;
}

static const char *nz(const char *s) { return s ? s : ""; }

static int print_step(void *user, int64_t seq, const gw_store_flow_step *t)
{
    (void)user;
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", (long long)seq, nz(t->at),
           nz(t->actor), nz(t->actor_jurisdiction), nz(t->action), nz(t->from_state),
           nz(t->to_state), t->from_level, t->to_level, nz(t->assignee), nz(t->note));
    return 0;
}

typedef struct overdue_acc {
    placer *p;
    const char *scope;
    int64_t now;
    gw_flow_deadline *over; /* for the incidents never transitioned */
    size_t n_over;
    int n;
} overdue_acc;

static int print_overdue(void *user, const gw_store_flow_cur *r)
{
    overdue_acc *a = user;
    char path[512], deadline[32];
    incident_path(a->p, r->incident, r->grid, path, sizeof path);
    if (!gw_flow_path_within(path, a->scope)) return 0;
    gw_flow_state s = GW_FS_REPORTED;
    int level = r->level;
    snprintf(deadline, sizeof deadline, "%s", r->deadline);
    if (!r->has_row) { /* never transitioned: reported at occurred_at, waiting for accept */
        int64_t since = 0, due = 0;
        if (gw_time_parse(a->p->ctx, r->occurred_at, NULL, &since)) {
            gw_ctx_clear_error(a->p->ctx);
            return 0;
        }
        level = gw_flow_max_level(path);
        due = gw_flow_deadline_of(a->over, a->n_over, r->category, level, s, since);
        if (!due || due >= a->now) return 0;
        gw_time_format(due, deadline, sizeof deadline);
    } else {
        gw_flow_state_parse(r->state, &s);
    }
    printf("%s\t%s\t%d\t%s\t%s\t%s\n", r->incident, gw_flow_state_name(s), level, deadline,
           nz(gw_flow_action_name(gw_flow_expected(s))), path);
    a->n++;
    return 0;
}

static int transition(gw_store *s, gw_ctx *ctx, placer *p, const char *id, gw_flow_request *r)
{
    gw_store_flow_cur cur;
    gw_status st = gw_store_flow_get(s, id, &cur);
    if (st == GW_ERR_NOT_FOUND) {
        fprintf(stderr, _("gridwatch incident: no incident has the id '%s'\n"), id);
        return GW_EXIT_INPUT;
    }
    if (st) return gw_cli_fail("incident", ctx, st);
    char path[512];
    incident_path(p, id, cur.grid, path, sizeof path);
    known_path k = {.grid = cur.grid, .path = path};
    r->incident = id, r->path_of = path_cb, r->path_user = &k;
    gw_flow_outcome o;
    if ((st = gw_flow_transition(s, r, &o))) return gw_cli_fail("incident", ctx, st);
    if (o.refusal != GW_FLOW_DONE) {
        fprintf(stderr, _("gridwatch incident: %s\n"), o.why);
        return o.refusal == GW_FLOW_BAD || o.refusal == GW_FLOW_NO_INCIDENT ? GW_EXIT_INPUT
                                                                            : GW_EXIT_CONFLICT;
    }
    printf("%s: %s -> %s, level %d -> %d%s%s\n", id, gw_flow_state_name(o.from),
           gw_flow_state_name(o.to), o.from_level, o.to_level, o.deadline[0] ? ", due " : "",
           o.deadline);
    return GW_EXIT_OK;
}

int gw_cmd_incident(int argc, char **argv)
{
    const char *pos[4] = {0}, *note = NULL, *team = NULL, *dept = NULL, *to = NULL;
    const char *as = getenv("USER"), *scope = NULL;
    int npos = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(_(usage), stdout);
            return GW_EXIT_OK;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **opt = strcmp(a, "--note") == 0           ? &note
                           : strcmp(a, "--team") == 0         ? &team
                           : strcmp(a, "--department") == 0   ? &dept
                           : strcmp(a, "--to") == 0           ? &to
                           : strcmp(a, "--as") == 0           ? &as
                           : strcmp(a, "--jurisdiction") == 0 ? &scope
                                                              : NULL;
        if (opt && v) *opt = v, i++;
        else if (a[0] == '-' && a[1])
            return gw_cli_usage_error("incident", "unknown or incomplete option '%s' (see --help)",
                                      a);
        else if (npos < 4) pos[npos++] = a;
        else return gw_cli_usage_error("incident", "unexpected argument '%s' (see --help)", a);
    }
    const char *sub = pos[0];
    static const struct {
        const char *name;
        int args; /* positional arguments after the sub-command, DB included */
    } subs[] = {{"transition", 3}, {"history", 2}, {"overdue", 1}};
    int k = -1;
    for (size_t i = 0; sub && i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(sub, subs[i].name) == 0) k = (int)i;
    if (!sub) return gw_cli_usage_error("incident", "expected transition, history or overdue");
    if (k < 0) return gw_cli_usage_error("incident", "unknown sub-command '%s' (see --help)", sub);
    if (npos != 1 + subs[k].args)
        return gw_cli_usage_error("incident", "incident %s takes %d argument%s (see --help)", sub,
                                  subs[k].args, subs[k].args == 1 ? "" : "s");
    gw_flow_request r = {.actor = as && *as ? as : "cli",
                         .actor_path = scope ? scope : "",
                         .note = note,
                         .team = team,
                         .department = dept,
                         .to = to};
    if (k == 0 && gw_flow_action_parse(pos[3], &r.action))
        return gw_cli_usage_error("incident",
                                  "unknown action '%s': accept, assign, arrive, resolve, close, "
                                  "return, reopen, escalate or hand_down",
                                  pos[3]);
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return GW_EXIT_RUNTIME;
    gw_status st = gw_store_open(ctx, pos[1], k == 0 ? 0 : GW_STORE_READONLY, &s);
    if (st == GW_ERR_SCHEMA && k != 0) { /* an older file: open read-write to migrate it */
        gw_ctx_clear_error(ctx);
        st = gw_store_open(ctx, pos[1], 0, &s);
    }
    int rc = GW_EXIT_OK;
    placer pl = {.ctx = ctx};
    if (!st && k != 1) placer_open(&pl, ctx, s);
    if (st) {
        rc = gw_cli_fail("incident", ctx, st);
    } else if (k == 0) {
        rc = transition(s, ctx, &pl, pos[2], &r);
    } else if (k == 1) {
        gw_store_flow_cur cur;
        st = gw_store_flow_get(s, pos[2], &cur);
        if (st == GW_ERR_NOT_FOUND) {
            fprintf(stderr, _("gridwatch incident: no incident has the id '%s'\n"), pos[2]);
            rc = GW_EXIT_INPUT;
        } else if (st || (st = gw_store_flow_history(s, pos[2], print_step, NULL))) {
            rc = gw_cli_fail("incident", ctx, st);
        }
    } else {
        char now[32];
        overdue_acc a = {.p = &pl, .scope = scope ? scope : "", .now = (int64_t)time(NULL)};
        gw_time_format(a.now, now, sizeof now);
        if ((st = gw_flow_deadlines_load(s, &a.over, &a.n_over)) ||
            (st = gw_store_flow_overdue(s, now, 0, print_overdue, &a)))
            rc = gw_cli_fail("incident", ctx, st);
        free(a.over);
    }
    placer_close(&pl);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
