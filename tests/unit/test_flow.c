/* test_flow.c — the incident flow (geo/flow): every allowed transition of the state machine
 * against a list written out here (not read from the table), a sample of refused ones and what
 * they say, the permission matrix of actors and handling levels, escalate / hand_down / return
 * bounds, deadlines with a fixed clock, and gw_flow_transition on the store (SQLite, and
 * PostgreSQL as flow_pg): lazy rows, refusals writing nothing, history, status, change log,
 * overdue. */
#include "testutil.h"

#include "gridwatch/flow.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "gridwatch/store_changes.h"
#include "gridwatch/store_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the state machine ---- */

typedef struct {
    const char *from, *action, *to;
} edge;
/* docs/incident-flow.md's table, by name. */
static const edge allowed[] = {
    {"reported", "accept", "accepted"},     {"reported", "escalate", "escalated"},
    {"accepted", "assign", "assigned"},     {"accepted", "resolve", "resolved"},
    {"accepted", "escalate", "escalated"},  {"accepted", "hand_down", "accepted"},
    {"accepted", "return", "returned"},     {"assigned", "arrive", "on_scene"},
    {"assigned", "assign", "assigned"},     {"assigned", "escalate", "escalated"},
    {"assigned", "return", "returned"},     {"on_scene", "resolve", "resolved"},
    {"on_scene", "escalate", "escalated"},  {"resolved", "close", "closed"},
    {"resolved", "reopen", "reopened"},     {"closed", "reopen", "reopened"},
    {"returned", "accept", "accepted"},     {"returned", "escalate", "escalated"},
    {"returned", "hand_down", "accepted"},  {"reopened", "accept", "accepted"},
    {"reopened", "assign", "assigned"},     {"reopened", "escalate", "escalated"},
    {"reopened", "hand_down", "accepted"},  {"escalated", "accept", "accepted"},
    {"escalated", "assign", "assigned"},    {"escalated", "escalate", "escalated"},
    {"escalated", "hand_down", "accepted"}, {"escalated", "return", "returned"},
};
#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

static void test_every_pair(void **state)
{
    (void)state;
    size_t n = 0;
    gw_flow_rules(&n);
    assert_int_equal(n, N_ALLOWED);
    int hits = 0;
    for (int s = 0; s < GW_FS_COUNT; s++)
        for (int a = 0; a < GW_FA_COUNT; a++) {
            const char *sn = gw_flow_state_name(s), *an = gw_flow_action_name(a);
            const char *want = NULL;
            for (size_t i = 0; i < N_ALLOWED; i++)
                if (!strcmp(allowed[i].from, sn) && !strcmp(allowed[i].action, an))
                    want = allowed[i].to;
            gw_flow_state to = GW_FS_COUNT;
            char why[256] = "";
            int rc = gw_flow_next(s, a, &to, why, sizeof why);
            unsigned who = gw_flow_who(s, a);
            if (want) {
                assert_int_equal(who, GW_FLOW_DISPATCHER | GW_FLOW_ADMIN);
                assert_int_equal(rc, 0);
                assert_string_equal(gw_flow_state_name(to), want);
                hits++;
            } else {
                assert_int_equal(who, 0);
                assert_int_equal(rc, -1);
                assert_non_null(strstr(why, sn));
                assert_non_null(strstr(why, an));
            }
        }
    assert_int_equal(hits, (int)N_ALLOWED);
}

static void test_refusals_say_why(void **state)
{
    (void)state;
    gw_flow_state to;
    char why[256];
    assert_int_equal(gw_flow_next(GW_FS_CLOSED, GW_FA_ACCEPT, &to, why, sizeof why), -1);
    assert_string_equal(why, "an incident in state 'closed' cannot be 'accept'; allowed: reopen");
    assert_int_equal(gw_flow_next(GW_FS_REPORTED, GW_FA_ARRIVE, &to, why, sizeof why), -1);
    assert_string_equal(why, "an incident in state 'reported' cannot be 'arrive'; allowed: accept, "
                             "escalate");
    assert_int_equal(gw_flow_next(GW_FS_ON_SCENE, GW_FA_CLOSE, &to, why, sizeof why), -1);
    assert_int_equal(gw_flow_next(GW_FS_ASSIGNED, GW_FA_HAND_DOWN, &to, why, sizeof why), -1);
    gw_flow_action a;
    gw_flow_state s;
    assert_int_equal(gw_flow_action_parse("hand_down", &a), 0);
    assert_int_equal(a, GW_FA_HAND_DOWN);
    assert_int_equal(gw_flow_action_parse("handdown", &a), -1);
    assert_int_equal(gw_flow_state_parse("on_scene", &s), 0);
    assert_int_equal(s, GW_FS_ON_SCENE);
    assert_int_equal(gw_flow_state_parse("", &s), -1);
}

/* ---- paths and permission ---- */

static void test_paths(void **state)
{
    (void)state;
    assert_int_equal(gw_flow_path_level(""), 0);
    assert_int_equal(gw_flow_path_level("Heze"), 1);
    assert_int_equal(gw_flow_path_level("Heze/Mudan/Dongcheng/Village 3"), 4);
    assert_true(gw_flow_path_within("Heze/Mudan", ""));
    assert_true(gw_flow_path_within("Heze/Mudan", "Heze/Mudan"));
    assert_true(gw_flow_path_within("Heze/Mudan/Dongcheng", "Heze/Mudan"));
    assert_false(gw_flow_path_within("Heze/Mudanx", "Heze/Mudan"));
    assert_false(gw_flow_path_within("Heze", "Heze/Mudan"));
    char b[64];
    assert_int_equal(gw_flow_path_part("Heze/Mudan/Dongcheng", 3, b, sizeof b), 0);
    assert_string_equal(b, "Dongcheng");
    assert_int_equal(gw_flow_path_part("Heze/Mudan/Dongcheng", 1, b, sizeof b), 0);
    assert_string_equal(b, "Heze");
    assert_int_equal(gw_flow_path_part("Heze/Mudan/Dongcheng", 4, b, sizeof b), -1);
    assert_int_equal(gw_flow_max_level("Heze/Mudan/Dongcheng"), 3);
    assert_int_equal(gw_flow_max_level(""), 4);
}

#define G "Heze/Mudan/Dongcheng/Village 3"

static void test_permission_matrix(void **state)
{
    (void)state;
    /* actor path, its level, whether it contains G */
    static const struct {
        const char *path;
        int level, contains;
    } actors[] = {
        {"", 0, 1},
        {"Heze", 1, 1},
        {"Heze/Mudan", 2, 1},
        {"Heze/Mudan/Dongcheng", 3, 1},
        {G, 4, 1},
        {"Heze/Mudan/Dongcheng/Village 4", 4, 0},
        {"Heze/Dingtao", 2, 0},
        {"Heze/Mudan/Dong", 3, 0},
    };
    for (size_t i = 0; i < sizeof actors / sizeof actors[0]; i++)
        for (int h = 1; h <= 4; h++) {
            char why[512] = "";
            int ok = gw_flow_permit(actors[i].path, G, h, why, sizeof why) == 0;
            int want = actors[i].contains && h >= actors[i].level;
            if (ok != want)
                fail_msg("actor '%s' on level %d: got %d, want %d (%s)", actors[i].path, h, ok,
                         want, why);
            if (!ok && !actors[i].contains)
                assert_non_null(strstr(why, "outside the jurisdiction"));
        }
    char why[512];
    assert_int_equal(gw_flow_permit(G, G, 3, why, sizeof why), -1);
    assert_string_equal(why,
                        "the incident is handled at level 3 (township 'Heze/Mudan/Dongcheng'), "
                        "above this account's level 4 (village '" G "')");
}

static void test_level_moves(void **state)
{
    (void)state;
    int to = -1;
    char why[512];
    /* escalate: h -> h-1; not at 1; not by an account above the incident's level */
    assert_int_equal(gw_flow_level_after(GW_FA_ESCALATE, 4, 0, 4, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 3);
    assert_int_equal(gw_flow_level_after(GW_FA_ESCALATE, 3, 4, 3, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 2);
    assert_int_equal(gw_flow_level_after(GW_FA_ESCALATE, 2, 0, 0, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 1);
    assert_int_equal(gw_flow_level_after(GW_FA_ESCALATE, 1, 2, 0, 4, G, NULL, &to, why, 512), -1);
    assert_non_null(strstr(why, "no level above"));
    assert_int_equal(gw_flow_level_after(GW_FA_ESCALATE, 4, 0, 2, 4, G, NULL, &to, why, 512), -1);
    assert_non_null(strstr(why, "above the incident's level 4"));
    /* hand_down: h -> h+1, not past the path's depth, to the incident's own child only */
    assert_int_equal(gw_flow_level_after(GW_FA_HAND_DOWN, 2, 3, 0, 4, G, "Dongcheng", &to, why,
                                         512),
                     0);
    assert_int_equal(to, 3);
    assert_int_equal(gw_flow_level_after(GW_FA_HAND_DOWN, 3, 2, 0, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 4);
    assert_int_equal(gw_flow_level_after(GW_FA_HAND_DOWN, 4, 3, 0, 4, G, NULL, &to, why, 512), -1);
    assert_non_null(strstr(why, "no level below"));
    assert_int_equal(gw_flow_level_after(GW_FA_HAND_DOWN, 3, 2, 0, 3, "Heze/Mudan/Dongcheng", NULL,
                                         &to, why, 512),
                     -1);
    assert_int_equal(gw_flow_level_after(GW_FA_HAND_DOWN, 2, 0, 0, 4, G, "Xicheng", &to, why, 512),
                     -1);
    assert_string_equal(why, "the incident lies in township 'Dongcheng', not in 'Xicheng'");
    /* return: to the previous level, refused without one */
    assert_int_equal(gw_flow_level_after(GW_FA_RETURN, 3, 4, 3, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 4);
    assert_int_equal(gw_flow_level_after(GW_FA_RETURN, 4, 0, 4, 4, G, NULL, &to, why, 512), -1);
    /* other actions keep the level */
    assert_int_equal(gw_flow_level_after(GW_FA_ASSIGN, 3, 4, 0, 4, G, NULL, &to, why, 512), 0);
    assert_int_equal(to, 3);
}

/* ---- deadlines ---- */

static void test_deadlines(void **state)
{
    (void)state;
    assert_int_equal(gw_flow_expected(GW_FS_REPORTED), GW_FA_ACCEPT);
    assert_int_equal(gw_flow_expected(GW_FS_ESCALATED), GW_FA_ACCEPT);
    assert_int_equal(gw_flow_expected(GW_FS_ASSIGNED), GW_FA_ARRIVE);
    assert_int_equal(gw_flow_expected(GW_FS_RESOLVED), GW_FA_CLOSE);
    assert_int_equal(gw_flow_expected(GW_FS_CLOSED), GW_FA_COUNT);
    assert_int_equal(gw_flow_deadline_seconds(NULL, 0, "theft", 4, GW_FA_ACCEPT), 900);
    assert_int_equal(gw_flow_deadline_seconds(NULL, 0, "theft", 4, GW_FA_ARRIVE), 1800);
    assert_int_equal(gw_flow_deadline_seconds(NULL, 0, "theft", 4, GW_FA_CLOSE), 259200);
    gw_flow_deadline o[] = {
        {"", 0, GW_FA_ACCEPT, 600},      {"", 3, GW_FA_ACCEPT, 500},
        {"theft", 0, GW_FA_ACCEPT, 400}, {"theft", 3, GW_FA_ACCEPT, 300},
        {"fire", 2, GW_FA_ARRIVE, 120},
    };
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "theft", 3, GW_FA_ACCEPT), 300);
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "theft", 4, GW_FA_ACCEPT), 400);
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "noise", 3, GW_FA_ACCEPT), 500);
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "noise", 1, GW_FA_ACCEPT), 600);
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "fire", 2, GW_FA_ARRIVE), 120);
    assert_int_equal(gw_flow_deadline_seconds(o, 5, "fire", 3, GW_FA_ARRIVE), 1800);
    const int64_t t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    assert_int_equal(gw_flow_deadline_of(o, 5, "theft", 3, GW_FS_RETURNED, t0), t0 + 300);
    assert_int_equal(gw_flow_deadline_of(NULL, 0, "x", 4, GW_FS_ON_SCENE, t0), t0 + 4 * 3600);
    assert_int_equal(gw_flow_deadline_of(NULL, 0, "x", 4, GW_FS_CLOSED, t0), 0);
}

/* ---- on the store ---- */

static gw_ctx *ctx;
static gw_store *st;
static const int64_t T0 = 1767225600; /* 2026-01-01T00:00:00Z */

static int path_of(void *user, const char *grid, char *buf, size_t cap)
{
    (void)user;
    snprintf(buf, cap, "%s",
             strcmp(grid, "G1") == 0   ? G
             : strcmp(grid, "G2") == 0 ? "Heze/Mudan/Xicheng"
                                       : "");
    return 0;
}

static void add_incident(const char *id, const char *grid, const char *category)
{
    size_t nf = 0;
    gw_layer_fields(GW_LAYER_INCIDENTS, &nf);
    gw_value v[16] = {{0}};
    v[0] = (gw_value){.kind = GW_VAL_TEXT, .s = id};
    v[gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at")] = (gw_value){.kind = GW_VAL_INT,
                                                                            .i = T0 - 60};
    v[gw_layer_field_index(GW_LAYER_INCIDENTS, "category")] = (gw_value){.kind = GW_VAL_TEXT,
                                                                         .s = category};
    v[gw_layer_field_index(GW_LAYER_INCIDENTS, "status")] = (gw_value){.kind = GW_VAL_TEXT,
                                                                       .s = "open"};
    if (grid)
        v[gw_layer_field_index(GW_LAYER_INCIDENTS, "grid")] = (gw_value){.kind = GW_VAL_TEXT,
                                                                         .s = grid};
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(st), GW_OK);
    assert_int_equal(gw_store_inserter_create(st, GW_LAYER_INCIDENTS, &ins), GW_OK);
    gw_feature f = {.values = v, .x = 115.48, .y = 35.24};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(st), GW_OK);
}

static int store_setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    if (gw_store_open(ctx, gw_test_db("flow.db"), GW_STORE_CREATE, &st) != GW_OK) {
        fprintf(stderr, "%s\n", gw_ctx_errmsg(ctx));
        return -1;
    }
    add_incident("I1", "G1", "theft");
    add_incident("I2", "G2", "noise");
    add_incident("I3", NULL, "noise");
    return 0;
}

static int store_teardown(void **state)
{
    (void)state;
    gw_store_close(st);
    gw_ctx_destroy(ctx);
    return 0;
}

static gw_flow_outcome go(const char *inc, gw_flow_action a, const char *actor_path,
                          const char *note, int64_t dt)
{
    gw_flow_request r = {.incident = inc,
                         .action = a,
                         .actor = "tester",
                         .actor_path = actor_path,
                         .note = note,
                         .who = GW_FLOW_DISPATCHER,
                         .now = T0 + dt,
                         .path_of = path_of};
    if (a == GW_FA_ASSIGN) r.team = "T7";
    gw_flow_outcome o;
    gw_status s = gw_flow_transition(st, &r, &o);
    if (s) fail_msg("transition failed: %s", gw_ctx_errmsg(ctx));
    return o;
}

typedef struct hist {
    int n;
    char line[32][160];
} hist;

static int on_step(void *user, int64_t seq, const gw_store_flow_step *t)
{
    hist *h = user;
    if (h->n < 32)
        snprintf(h->line[h->n++], 160, "%s %s %s>%s %d>%d %s %s %s", t->at, t->action,
                 t->from_state, t->to_state, t->from_level, t->to_level, t->actor,
                 t->actor_jurisdiction ? t->actor_jurisdiction : "-",
                 t->assignee ? t->assignee : "-");
    return 0;
}

static const char *status_of(const char *id, char *buf, size_t cap)
{
    gw_cursor *c = NULL;
    gw_row row;
    buf[0] = 0;
    assert_int_equal(gw_store_cursor_create(st, GW_LAYER_INCIDENTS, &c), GW_OK);
    int k = gw_layer_field_index(GW_LAYER_INCIDENTS, "status");
    while (gw_cursor_next(c, &row) == GW_OK)
        if (strcmp(row.values[0].s, id) == 0)
            snprintf(buf, cap, "%s", row.values[k].s ? row.values[k].s : "");
    gw_cursor_destroy(c);
    return buf;
}

typedef struct chg {
    int n;
    char op[8][64], id[8][32];
} chg;

static int on_change(void *user, const gw_store_change *c)
{
    chg *a = user;
    if (a->n < 8) {
        snprintf(a->op[a->n], 64, "%s", c->op);
        snprintf(a->id[a->n], 32, "%s", c->feature_id ? c->feature_id : "");
        a->n++;
    }
    return 0;
}

/* "id " per overdue flow row, "id? " per incident never transitioned (its clock: occurred_at). */
static int on_overdue(void *user, const gw_store_flow_cur *r)
{
    char *buf = user;
    strcat(buf, r->incident), strcat(buf, r->has_row ? " " : "? ");
    if (!r->has_row) {
        assert_string_equal(r->occurred_at, "2025-12-31T23:59:00Z");
        assert_string_equal(r->deadline, "");
    }
    return 0;
}

static void test_store_walk(void **state)
{
    (void)state;
    const char *V3 = G, *V4 = "Heze/Mudan/Dongcheng/Village 4", *TS = "Heze/Mudan/Dongcheng";
    gw_store_flow_cur cur;
    assert_int_equal(gw_store_flow_get(st, "I1", &cur), GW_OK);
    assert_int_equal(cur.has_row, 0);
    assert_string_equal(cur.grid, "G1");
    assert_int_equal(gw_store_flow_get(st, "nope", &cur), GW_ERR_NOT_FOUND);
    int64_t seq0 = 0;
    assert_int_equal(gw_store_last_seq(st, &seq0), GW_OK);

    gw_flow_outcome o = go("nope", GW_FA_ACCEPT, "", NULL, 0);
    assert_int_equal(o.refusal, GW_FLOW_NO_INCIDENT);
    o = go("I1", GW_FA_ACCEPT, V4, NULL, 0); /* another village */
    assert_int_equal(o.refusal, GW_FLOW_FORBIDDEN);
    assert_non_null(strstr(o.why, V4));
    o = go("I1", GW_FA_ARRIVE, V3, NULL, 0);
    assert_int_equal(o.refusal, GW_FLOW_REFUSED);
    o = go("I1", GW_FA_ESCALATE, V3, NULL, 0); /* no note */
    assert_int_equal(o.refusal, GW_FLOW_BAD);
    /* a role the rule does not name (a bit outside dispatcher and admin) */
    gw_flow_request rr = {
        .incident = "I1", .action = GW_FA_ACCEPT, .who = 4u, .now = T0, .path_of = path_of};
    assert_int_equal(gw_flow_transition(st, &rr, &o), GW_OK);
    assert_int_equal(o.refusal, GW_FLOW_FORBIDDEN);
    assert_non_null(strstr(o.why, "role may not 'accept'"));
    assert_int_equal(gw_store_flow_get(st, "I1", &cur), GW_OK);
    assert_int_equal(cur.has_row, 0); /* refusals wrote nothing */

    o = go("I1", GW_FA_ACCEPT, V3, NULL, 10);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(o.from, GW_FS_REPORTED);
    assert_int_equal(o.to, GW_FS_ACCEPTED);
    assert_int_equal(o.from_level, 4);
    assert_int_equal(o.to_level, 4);
    assert_string_equal(o.deadline, "2026-01-01T00:15:10Z"); /* assign within 15 min */
    assert_true(o.seq > 0 && o.change_seq > seq0);
    assert_int_equal(gw_store_flow_get(st, "I1", &cur), GW_OK);
    assert_int_equal(cur.has_row, 1);
    assert_string_equal(cur.state, "accepted");
    assert_int_equal(cur.level, 4);
    assert_string_equal(cur.updated_at, "2026-01-01T00:00:10Z");
    assert_string_equal(cur.deadline, "2026-01-01T00:15:10Z");
    char sbuf[32];
    assert_string_equal(status_of("I1", sbuf, sizeof sbuf), "accepted");

    /* a deadline override for theft at township level */
    assert_int_equal(gw_store_flow_deadline_set(st, "theft", 3, "accept", 60), GW_OK);
    o = go("I1", GW_FA_ESCALATE, V3, "needs the township", 20);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(o.to_level, 3);
    assert_string_equal(o.deadline, "2026-01-01T00:01:20Z");
    o = go("I1", GW_FA_ACCEPT, V3, NULL, 30); /* the village cannot act on it any more */
    assert_int_equal(o.refusal, GW_FLOW_FORBIDDEN);
    assert_non_null(strstr(o.why, "township 'Heze/Mudan/Dongcheng'"));
    o = go("I1", GW_FA_RETURN, TS, "not ours", 40);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(o.to, GW_FS_RETURNED);
    assert_int_equal(o.to_level, 4);
    o = go("I1", GW_FA_ACCEPT, V3, NULL, 50);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    o = go("I1", GW_FA_HAND_DOWN, "", NULL, 55); /* already at the deepest level */
    assert_int_equal(o.refusal, GW_FLOW_REFUSED);
    o = go("I1", GW_FA_ASSIGN, V3, NULL, 60);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(gw_store_flow_get(st, "I1", &cur), GW_OK);
    assert_string_equal(cur.assignee_kind, "team");
    assert_string_equal(cur.assignee, "T7");

    /* overdue with a fixed clock: arrive is due 30 min after the assignment */
    /* I2 and I3 were never transitioned: listed after the flow rows, by occurred_at */
    char od[128] = "";
    assert_int_equal(gw_store_flow_overdue(st, "2025-12-31T23:59:00Z", 0, on_overdue, od), GW_OK);
    assert_string_equal(od, ""); /* not before they occurred */
    assert_int_equal(gw_store_flow_overdue(st, "2026-01-01T00:31:00Z", 0, on_overdue, od), GW_OK);
    assert_string_equal(od, "I2? I3? ");
    od[0] = 0;
    assert_int_equal(gw_store_flow_overdue(st, "2026-01-01T00:31:01Z", 0, on_overdue, od), GW_OK);
    assert_string_equal(od, "I1 I2? I3? ");
    od[0] = 0;
    assert_int_equal(gw_store_flow_overdue(st, "2026-01-01T00:31:01Z", 1, on_overdue, od), GW_OK);
    assert_string_equal(od, "I1 I2? "); /* at most max of each kind */

    o = go("I1", GW_FA_ARRIVE, V3, NULL, 70);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    o = go("I1", GW_FA_RESOLVE, V3, NULL, 80);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    o = go("I1", GW_FA_CLOSE, "", NULL, 90);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_string_equal(o.deadline, "");
    assert_string_equal(status_of("I1", sbuf, sizeof sbuf), "closed");
    od[0] = 0;
    assert_int_equal(gw_store_flow_overdue(st, "2030-01-01T00:00:00Z", 0, on_overdue, od), GW_OK);
    assert_string_equal(od, "I2? I3? "); /* closed I1 is not; the untouched ones still are */

    /* the other incidents: G2 is a township path (depth 3), I3 has no grid (level 4) */
    o = go("I2", GW_FA_ACCEPT, V3, NULL, 100);
    assert_int_equal(o.refusal, GW_FLOW_FORBIDDEN);
    o = go("I2", GW_FA_ACCEPT, "Heze/Mudan", NULL, 100);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(o.to_level, 3);
    o = go("I3", GW_FA_ACCEPT, "", NULL, 100);
    assert_int_equal(o.refusal, GW_FLOW_DONE);
    assert_int_equal(o.to_level, 4);
    od[0] = 0;
    assert_int_equal(gw_store_flow_overdue(st, "2030-01-01T00:00:00Z", 1, on_overdue, od), GW_OK);
    assert_string_equal(od, "I2 "); /* max 1, earliest deadline (same; id order) */

    hist h = {0};
    assert_int_equal(gw_store_flow_history(st, "I1", on_step, &h), GW_OK);
    static const char *const want[] = {
        "2026-01-01T00:00:10Z accept reported>accepted 4>4 tester " G " -",
        "2026-01-01T00:00:20Z escalate accepted>escalated 4>3 tester " G " -",
        "2026-01-01T00:00:40Z return escalated>returned 3>4 tester Heze/Mudan/Dongcheng -",
        "2026-01-01T00:00:50Z accept returned>accepted 4>4 tester " G " -",
        "2026-01-01T00:01:00Z assign accepted>assigned 4>4 tester " G " team:T7",
        "2026-01-01T00:01:10Z arrive assigned>on_scene 4>4 tester " G " -",
        "2026-01-01T00:01:20Z resolve on_scene>resolved 4>4 tester " G " -",
        "2026-01-01T00:01:30Z close resolved>closed 4>4 tester  -",
    };
    assert_int_equal(h.n, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(h.line[i], want[i]);

    chg c = {0};
    assert_int_equal(gw_store_changes_read(st, seq0, 0, 100, on_change, &c, NULL), GW_OK);
    assert_true(c.n >= 8);
    assert_string_equal(c.op[0], "flow:accept:accepted:4");
    assert_string_equal(c.id[0], "I1");
    assert_string_equal(c.op[1], "flow:escalate:escalated:3");
    assert_string_equal(c.op[2], "flow:return:returned:4");
    assert_string_equal(c.op[7], "flow:close:closed:4");
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_every_pair),  cmocka_unit_test(test_refusals_say_why),
        cmocka_unit_test(test_paths),       cmocka_unit_test(test_permission_matrix),
        cmocka_unit_test(test_level_moves), cmocka_unit_test(test_deadlines),
    };
    const struct CMUnitTest stored[] = {cmocka_unit_test(test_store_walk)};
    int rc = cmocka_run_group_tests_name("flow rules", pure, NULL, NULL);
    return rc | cmocka_run_group_tests_name("flow store", stored, store_setup, store_teardown);
}
