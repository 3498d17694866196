/* test_flow_http.c — the incident flow over HTTP with the whole app on a generated city: one
 * incident walked through reported -> accepted -> escalate (twice, or as far as its grid's
 * levels allow) -> hand_down back -> assign team -> arrive -> resolve -> close -> reopen ->
 * assign department -> arrive -> resolve -> close; GET transitions lists every step in order
 * with actor, levels and notes; /events carried each step (replayed from Last-Event-ID) with
 * action, state and level; the OGC item shows the state and a history link; the overdue list
 * with a deadline override; refusals: 409 (and what is allowed), 400 bodies, 404, 401/403. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "gridwatch/store_flow.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char tok[GW_TOKEN_LEN + 1], tok_view[GW_TOKEN_LEN + 1], tok_plan[GW_TOKEN_LEN + 1];
static char inc[64], inc2[64], inc3[64], team[64];
static int64_t seq_before;

/* The first two incidents with a grid, and the first team. */
static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("flow_http.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.005, 3);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "disp", NULL, tok, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_VIEWER, "view", NULL, tok_view, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_PLANNER, "plan", NULL, tok_plan, NULL), GW_OK);
    gw_cursor *cur = NULL;
    gw_row row;
    int g = gw_layer_field_index(GW_LAYER_INCIDENTS, "grid");
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    while (!inc3[0] && gw_cursor_next(cur, &row) == GW_OK)
        if (row.values[g].kind == GW_VAL_TEXT && row.values[g].s[0])
            snprintf(!inc[0] ? inc : !inc2[0] ? inc2 : inc3, sizeof inc, "%s", row.values[0].s);
    gw_cursor_destroy(cur);
    assert_true(inc[0] && inc2[0] && inc3[0]);
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_TEAMS, &cur), GW_OK);
    assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
    snprintf(team, sizeof team, "%s", row.values[0].s);
    gw_cursor_destroy(cur);
    /* accepting must be followed by an assignment within 1 s (any category, any level) */
    assert_int_equal(gw_store_flow_deadline_set(s, "", 0, "assign", 1), GW_OK);
    assert_int_equal(gw_store_last_seq(s, &seq_before), GW_OK);
    gw_store_close(s);
    gw_app_opts ao = {.poll_ms = 50};
    gw_server_opts o = {
        .db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .threads = 2};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    hf_timeout_s = 20;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static char *url_of(const char *id, const char *tail)
{
    static char u[512];
    char *e = curl_easy_escape(NULL, id, 0);
    snprintf(u, sizeof u, "/incidents/%s%s", e, tail);
    curl_free(e);
    return u;
}

/* POST a transition body with token t; the answer's JSON (status asserted). */
static json_t *post_as(const char *t, const char *id, const char *body, long want)
{
    hf_resp r = hf_request("POST", url_of(id, "/transitions"), t, body, strlen(body),
                           "application/json", NULL);
    return hf_json(&r, want, 0, body);
}

typedef struct step {
    const char *action, *state;
    int level;
    const char *note;
} step;

static step walk[40];
static int n_walk;

/* One transition by the dispatcher that must succeed: state and level checked, recorded. */
static void go(const char *action, const char *extra, const char *note, const char *want_state,
               int want_level)
{
    char body[512];
    snprintf(body, sizeof body, "{\"action\":\"%s\"%s%s%s%s}", action, note ? ",\"note\":\"" : "",
             note ? note : "", note ? "\"" : "", extra ? extra : "");
    json_t *j = post_as(tok, inc, body, 201);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "state")), want_state);
    assert_int_equal(json_integer_value(json_object_get(j, "level")), want_level);
    assert_string_equal(json_string_value(json_object_get(j, "incident")), inc);
    json_decref(j);
    walk[n_walk++] = (step){action, want_state, want_level, note};
}

static json_t *get(const char *path, long want)
{
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    return hf_json(&r, want, 0, path);
}

static void test_walk(void **state)
{
    (void)state;
    json_t *h = get(url_of(inc, "/transitions"), 200);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "reported");
    int depth = (int)json_integer_value(json_object_get(h, "level"));
    char path[512];
    snprintf(path, sizeof path, "%s", json_string_value(json_object_get(h, "jurisdiction")));
    assert_int_equal(json_array_size(json_object_get(h, "transitions")), 0);
    json_decref(h);
    /* the grid path's depth is the reported level (4 when the grids carry no jurisdiction) */
    int parts = path[0] ? 1 : 0;
    for (const char *p = path; *p; p++) parts += *p == '/';
    assert_int_equal(depth, parts ? parts : 4);
    /* with all four jurisdiction fields on the grids layer the city's grids are villages, and
     * the walk below is village 4 -> township 3 -> county 2 -> 3 -> 4 */
    if (gw_layer_field_index(GW_LAYER_GRIDS, "prefecture") >= 0 &&
        gw_layer_field_index(GW_LAYER_GRIDS, "village") >= 0)
        assert_int_equal(depth, 4);
    print_message("incident %s in '%s', level %d\n", inc, path, depth);

    go("accept", NULL, NULL, "accepted", depth);
    int up = depth - 1 < 2 ? depth - 1 : 2; /* village -> township -> county when it can */
    for (int i = 1; i <= up; i++) go("escalate", NULL, "beyond our means", "escalated", depth - i);
    if (depth - up == 1) { /* at the prefecture: nothing above */
        json_t *j = post_as(tok, inc, "{\"action\":\"escalate\",\"note\":\"more\"}", 409);
        assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "level 1"));
        json_decref(j);
    }
    for (int i = up; i >= 1; i--) {
        char to[300] = "", part[256] = "";
        /* the first hand_down names the child jurisdiction (the path's part below) */
        const char *p = path;
        for (int k = 1; k < depth - i + 1 && p; k++) p = strchr(p, '/'), p = p ? p + 1 : NULL;
        if (i == up && p) {
            snprintf(part, sizeof part, "%.*s", (int)strcspn(p, "/"), p);
            snprintf(to, sizeof to, ",\"to\":\"%s\"", part);
        }
        go("hand_down", to[0] ? to : NULL, NULL, "accepted", depth - i + 1);
    }
    char extra[128];
    snprintf(extra, sizeof extra, ",\"team\":\"%s\"", team);
    go("assign", extra, NULL, "assigned", depth);
    go("arrive", NULL, NULL, "on_scene", depth);
    go("resolve", NULL, "settled", "resolved", depth);
    go("close", NULL, NULL, "closed", depth);
    /* 409: closed allows only reopen, and the problem says so */
    json_t *j = post_as(tok, inc, "{\"action\":\"arrive\"}", 409);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "closed");
    assert_int_equal(json_array_size(json_object_get(j, "allowed")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "allowed"), 0)),
                        "reopen");
    assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "'closed'"));
    json_decref(j);
    go("reopen", NULL, "the caller rang again", "reopened", depth);
    go("assign", ",\"department\":\"Traffic\"", NULL, "assigned", depth);
    go("arrive", NULL, NULL, "on_scene", depth);
    go("resolve", NULL, NULL, "resolved", depth);
    go("close", NULL, "done", "closed", depth);

    /* the history: every step in order with actor, levels and notes */
    h = get(url_of(inc, "/transitions"), 200);
    json_t *a = json_object_get(h, "transitions");
    assert_int_equal(json_array_size(a), (size_t)n_walk);
    assert_string_equal(json_string_value(json_object_get(h, "state")), "closed");
    const char *prev_state = "reported";
    int prev_level = depth;
    int64_t prev_seq = 0;
    for (int i = 0; i < n_walk; i++) {
        json_t *t = json_array_get(a, (size_t)i);
        assert_string_equal(json_string_value(json_object_get(t, "action")), walk[i].action);
        assert_string_equal(json_string_value(json_object_get(t, "from_state")), prev_state);
        assert_string_equal(json_string_value(json_object_get(t, "to_state")), walk[i].state);
        assert_int_equal(json_integer_value(json_object_get(t, "from_level")), prev_level);
        assert_int_equal(json_integer_value(json_object_get(t, "to_level")), walk[i].level);
        assert_string_equal(json_string_value(json_object_get(t, "actor")), "disp");
        assert_string_equal(json_string_value(json_object_get(t, "actor_jurisdiction")), "");
        json_t *note = json_object_get(t, "note");
        if (walk[i].note) assert_string_equal(json_string_value(note), walk[i].note);
        else assert_true(json_is_null(note));
        const char *at = json_string_value(json_object_get(t, "at"));
        assert_true(at && strlen(at) == 20 && at[19] == 'Z');
        int64_t seq = json_integer_value(json_object_get(t, "seq"));
        assert_true(seq > prev_seq);
        prev_seq = seq, prev_state = walk[i].state, prev_level = walk[i].level;
    }
    json_t *t = json_array_get(a, (size_t)(2 * up + 1)); /* the first assign */
    char want_as[128];
    snprintf(want_as, sizeof want_as, "team:%s", team);
    assert_string_equal(json_string_value(json_object_get(t, "assignee")), want_as);
    json_decref(h);

    /* the OGC item: status, flow member and the history link */
    char item[512];
    char *e = curl_easy_escape(NULL, inc, 0);
    snprintf(item, sizeof item, "/collections/incidents/items/%s", e);
    curl_free(e);
    json_t *f = get(item, 200);
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(f, "properties"), "status")),
                        "closed");
    json_t *fl = json_object_get(f, "flow");
    assert_string_equal(json_string_value(json_object_get(fl, "state")), "closed");
    assert_int_equal(json_integer_value(json_object_get(fl, "level")), depth);
    int hist = 0;
    json_t *links = json_object_get(f, "links");
    for (size_t i = 0; i < json_array_size(links); i++) {
        json_t *l = json_array_get(links, i);
        if (strcmp(json_string_value(json_object_get(l, "rel")), "history") == 0) {
            hist++;
            assert_non_null(
                strstr(json_string_value(json_object_get(l, "href")), url_of(inc, "/transitions")));
        }
    }
    assert_int_equal(hist, 1);
    json_decref(f);

    /* /events carried every step, in order, with action, state and level (replayed) */
    char last[32];
    snprintf(last, sizeof last, "Last-Event-ID: %lld", (long long)seq_before);
    const char *hd[] = {last, NULL};
    long saved = hf_timeout_s;
    hf_timeout_s = 2; /* the stream stays open: read what comes in 2 s */
    char url[128];
    snprintf(url, sizeof url, "%s/events?types=incident.transition", hf_base);
    hf_resp r = hf_request("GET", url, NULL, NULL, 0, NULL, hd);
    hf_timeout_s = saved;
    const char *p = r.body.data;
    for (int i = 0; i < n_walk; i++) {
        char want[256];
        snprintf(want, sizeof want,
                 "\"type\":\"incident.transition\",\"layer\":\"incidents\",\"op\":\"transition\","
                 "\"action\":\"%s\",\"state\":\"%s\",\"level\":%d,\"id\":\"%s\"",
                 walk[i].action, walk[i].state, walk[i].level, inc);
        const char *q = p ? strstr(p, want) : NULL;
        if (!q)
            fail_msg("event %d not found after the previous one: %s\nstream:\n%s", i, want,
                     r.body.data ? r.body.data : "");
        p = q + 1;
    }
    hf_resp_free(&r);
}

/* The path's first `parts` parts. */
static void cut(const char *path, int parts, char *buf, size_t cap)
{
    size_t len = 0;
    for (int k = 0; path[len]; len++)
        if (path[len] == '/' && ++k == parts) break;
    snprintf(buf, cap, "%.*s", (int)len, path);
}

/* Scoped accounts at each level carry the third incident up and back down: the village
 * accepts and escalates, may then no longer act; the township accepts and escalates; the county
 * hands down; the township hands down; the village finishes.  Another county's account sees
 * nothing (404) and may not act (403).  The history names each account and its jurisdiction. */
static void test_scoped_levels(void **state)
{
    (void)state;
    json_t *h = get(url_of(inc3, "/transitions"), 200);
    char path[512], v[512], t[512], c[512], other[512] = "";
    snprintf(path, sizeof path, "%s", json_string_value(json_object_get(h, "jurisdiction")));
    json_decref(h);
    int depth = 1;
    for (const char *p = path; *p; p++) depth += *p == '/';
    assert_int_equal(depth, 4); /* prefecture/county/township/village */
    cut(path, 4, v, sizeof v), cut(path, 3, t, sizeof t), cut(path, 2, c, sizeof c);
    json_t *j = get("/jurisdictions?level=2", 200), *it;
    size_t i;
    json_array_foreach (json_object_get(j, "jurisdictions"), i, it)
        if (!other[0] && strcmp(json_string_value(json_object_get(it, "path")), c) != 0)
            snprintf(other, sizeof other, "%s", json_string_value(json_object_get(it, "path")));
    json_decref(j);
    assert_true(other[0]);
    char tv[GW_TOKEN_LEN + 1], tt[GW_TOKEN_LEN + 1], tc[GW_TOKEN_LEN + 1], to[GW_TOKEN_LEN + 1];
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "village", v, tv, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "township", t, tt, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "county", c, tc, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "other", other, to, NULL), GW_OK);
    gw_store_close(s);
    static const struct {
        int who; /* 0 village, 1 township, 2 county */
        const char *body, *state;
        int level;
    } steps[] = {
        {0, "{\"action\":\"accept\"}", "accepted", 4},
        {0, "{\"action\":\"escalate\",\"note\":\"a land dispute between villages\"}", "escalated",
         3},
        {1, "{\"action\":\"accept\"}", "accepted", 3},
        {1, "{\"action\":\"escalate\",\"note\":\"needs the county's land office\"}", "escalated",
         2},
        {2, "{\"action\":\"accept\"}", "accepted", 2},
        {2, "{\"action\":\"hand_down\",\"note\":\"settled; the township follows up\"}", "accepted",
         3},
        {1, "{\"action\":\"hand_down\"}", "accepted", 4},
        {0, "{\"action\":\"assign\",\"department\":\"mediation\"}", "assigned", 4},
        {0, "{\"action\":\"arrive\"}", "on_scene", 4},
        {0, "{\"action\":\"resolve\"}", "resolved", 4},
        {0, "{\"action\":\"close\"}", "closed", 4},
    };
    const char *toks[3] = {tv, tt, tc}, *names[3] = {"village", "township", "county"},
               *paths[3] = {v, t, c};
    long long first_change = 0;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        j = post_as(toks[steps[k].who], inc3, steps[k].body, 201);
        if (!k) first_change = (long long)json_integer_value(json_object_get(j, "change_seq"));
        assert_string_equal(json_string_value(json_object_get(j, "state")), steps[k].state);
        assert_int_equal(json_integer_value(json_object_get(j, "level")), steps[k].level);
        json_decref(j);
        if (k == 1) { /* escalated to the township: the village may no longer act */
            json_decref(post_as(tv, inc3, "{\"action\":\"accept\"}", 403));
            /* another county's account: 403 for a write, and it cannot read the history */
            json_decref(post_as(to, inc3, "{\"action\":\"accept\"}", 403));
            hf_resp r = hf_request("GET", url_of(inc3, "/transitions"), to, NULL, 0, NULL, NULL);
            assert_int_equal(r.status, 404);
            hf_resp_free(&r);
        }
    }
    /* the history names each account, its jurisdiction and the levels, in order */
    hf_resp r = hf_request("GET", url_of(inc3, "/transitions"), tc, NULL, 0, NULL, NULL);
    h = hf_json(&r, 200, 0, "history");
    json_t *tr = json_object_get(h, "transitions");
    assert_int_equal(json_array_size(tr), sizeof steps / sizeof steps[0]);
    json_array_foreach (tr, i, it) {
        assert_string_equal(json_string_value(json_object_get(it, "actor")), names[steps[i].who]);
        assert_string_equal(json_string_value(json_object_get(it, "actor_jurisdiction")),
                            paths[steps[i].who]);
        assert_string_equal(json_string_value(json_object_get(it, "to_state")), steps[i].state);
        assert_int_equal(json_integer_value(json_object_get(it, "to_level")), steps[i].level);
    }
    json_decref(h);
    /* /events replayed from before the walk: the village's stream carries every step of its
     * incident (a step has no place of its own: the incident's decides), the other county's
     * stream none */
    assert_true(first_change > 0);
    char last[64], url[128];
    snprintf(last, sizeof last, "Last-Event-ID: %lld", first_change - 1);
    snprintf(url, sizeof url, "%s/events?types=incident.transition", hf_base);
    const char *toks2[2] = {tv, to};
    for (int w = 0; w < 2; w++) {
        char auth[128];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", toks2[w]);
        const char *hd[] = {last, auth, NULL};
        long saved = hf_timeout_s;
        hf_timeout_s = 2; /* the stream stays open: read what comes in 2 s */
        r = hf_request("GET", url, NULL, NULL, 0, NULL, hd);
        hf_timeout_s = saved;
        char want[128];
        snprintf(want, sizeof want, "\"id\":\"%s\"", inc3);
        size_t n = 0;
        for (const char *p = r.body.data; p && (p = strstr(p, want)) != NULL; p++) n++;
        if (n != (w ? 0 : sizeof steps / sizeof steps[0]))
            fail_msg("%s stream: %zu steps of %s\n%s", w ? "other county" : "village", n, inc3,
                     r.body.data ? r.body.data : "");
        hf_resp_free(&r);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    json_t *j;
    /* 400: unknown action, no action, broken JSON, bad UTF-8, a note missing, a bad type */
    j = post_as(tok, inc2, "{\"action\":\"teleport\"}", 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "'teleport'"));
    json_decref(j);
    json_decref(post_as(tok, inc2, "{\"note\":\"x\"}", 400));
    json_decref(post_as(tok, inc2, "{\"action\":\"accept\"", 400));
    json_decref(post_as(tok, inc2, "{\"action\":\"accept\",\"note\":\"\xff\xfe\"}", 400));
    json_decref(post_as(tok, inc2, "[\"accept\"]", 400));
    json_decref(post_as(tok, inc2, "{\"action\":7}", 400));
    j = post_as(tok, inc2, "{\"action\":\"escalate\"}", 400);
    assert_non_null(strstr(json_string_value(json_object_get(j, "detail")), "note"));
    json_decref(j);
    json_decref(post_as(tok, inc2, "{\"action\":\"assign\"}", 400));
    /* 404 */
    json_decref(post_as(tok, "no-such-incident", "{\"action\":\"accept\"}", 404));
    json_decref(get(url_of("no-such-incident", "/transitions"), 404));
    /* 401 without a token, 403 for a viewer and a planner */
    hf_resp r = hf_request("POST", url_of(inc2, "/transitions"), NULL, "{\"action\":\"accept\"}",
                           20, "application/json", NULL);
    assert_int_equal(r.status, 401);
    hf_resp_free(&r);
    json_decref(post_as(tok_view, inc2, "{\"action\":\"accept\"}", 403));
    json_decref(post_as(tok_plan, inc2, "{\"action\":\"accept\"}", 403));
    /* 409 from reported */
    j = post_as(tok, inc2, "{\"action\":\"close\"}", 409);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "reported");
    json_decref(j);
    /* nothing of the above was written */
    j = get(url_of(inc2, "/transitions"), 200);
    assert_int_equal(json_array_size(json_object_get(j, "transitions")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "reported");
    json_decref(j);
}

static void test_overdue(void **state)
{
    (void)state;
    json_t *j = post_as(tok, inc2, "{\"action\":\"accept\"}", 201);
    const char *path = json_string_value(json_object_get(j, "jurisdiction"));
    char scope[512];
    snprintf(scope, sizeof scope, "%s", path);
    assert_non_null(json_string_value(json_object_get(j, "deadline")));
    json_decref(j);
    sleep(2); /* the override gives 1 s to assign */
    j = get("/incidents/overdue?limit=10000", 200);
    json_t *a = json_object_get(j, "incidents");
    int found = 0;
    size_t reported = 0;
    json_int_t prev = INT64_MAX;
    char never[64] = "", never_deadline[32] = "";
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        assert_string_not_equal(id, inc); /* closed: never overdue */
        json_int_t od = json_integer_value(json_object_get(o, "overdue_s"));
        assert_true(od <= prev); /* most overdue first */
        prev = od;
        if (strcmp(id, inc2) == 0) {
            found = 1;
            assert_string_equal(json_string_value(json_object_get(o, "expected_action")), "assign");
            assert_true(od >= 1);
        } else if (strcmp(json_string_value(json_object_get(o, "state")), "reported") == 0) {
            /* never transitioned: its clock started when it was reported */
            assert_string_equal(json_string_value(json_object_get(o, "expected_action")), "accept");
            if (!reported++) {
                snprintf(never, sizeof never, "%s", id);
                snprintf(never_deadline, sizeof never_deadline, "%s",
                         json_string_value(json_object_get(o, "deadline")));
            }
        }
    }
    assert_int_equal(found, 1);
    assert_true(reported > 100); /* the generated incidents nobody accepted */
    json_decref(j);
    /* the first never-transitioned one (the most overdue of all): deadline = occurred_at + the
     * default 15 min to accept, from its own item */
    char iu[256];
    snprintf(iu, sizeof iu, "/collections/incidents/items/%s", never);
    j = get(iu, 200);
    int64_t occ = 0, due = 0;
    assert_int_equal(gw_time_parse(tctx,
                                   json_string_value(json_object_get(
                                       json_object_get(j, "properties"), "occurred_at")),
                                   NULL, &occ),
                     GW_OK);
    assert_int_equal(gw_time_parse(tctx, never_deadline, NULL, &due), GW_OK);
    assert_int_equal(due, occ + 15 * 60);
    json_decref(j);
    if (scope[0]) { /* within the jurisdiction: inc2 and that jurisdiction's untouched ones */
        char u[640];
        char *e = curl_easy_escape(NULL, scope, 0);
        snprintf(u, sizeof u, "/incidents/overdue?limit=10000&jurisdiction=%s", e);
        curl_free(e);
        j = get(u, 200);
        json_t *o;
        size_t i;
        found = 0;
        json_array_foreach (json_object_get(j, "incidents"), i, o) {
            const char *p = json_string_value(json_object_get(o, "jurisdiction"));
            assert_true(strncmp(p, scope, strlen(scope)) == 0);
            found += strcmp(json_string_value(json_object_get(o, "id")), inc2) == 0;
        }
        assert_int_equal(found, 1);
        json_decref(j);
    }
    j = get("/incidents/overdue?jurisdiction=Nowhere%20County", 200);
    assert_int_equal(json_array_size(json_object_get(j, "incidents")), 0);
    json_decref(j);
    json_decref(get("/incidents/overdue?limit=0", 400));
    json_decref(get("/incidents/overdue?jurisdiction=/x", 400));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_scoped_levels),
        cmocka_unit_test(test_overdue),
    };
    return cmocka_run_group_tests_name("flow http", tests, setup, teardown);
}
