/* test_scope_dispatch.c — dispatch for accounts scoped to a village (issue 18, docs/scoping.md):
 * /dispatch/nearest gives a village the k nearest of its own teams even when 320 teams of the
 * neighbouring village are all nearer (the index search goes on outward past them), and "only
 * its teams, unless it escalates": a village account cannot assign the neighbour's team to its
 * incident (403, through the flow and through /dispatch/assign), escalates the incident to the
 * township, whose account assigns that team (201 and 200), and the village account sees the
 * assignment in the incident's history.  Expectations come from the test's own model (the grid
 * containing each point, the grid's fields) and brute-force distances. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/edit.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "server.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_NEIGHBOUR 320
#define N_OWN 3

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char village[GW_JURISDICTION_MAX], township[GW_JURISDICTION_MAX];
static char tok_village[GW_TOKEN_LEN + 1], tok_township[GW_TOKEN_LEN + 1],
    tok_root[GW_TOKEN_LEN + 1];
static char incident[64];                 /* an incident of the village near the neighbour */
static double p_lon, p_lat;               /* its place: the query point */
static char want[N_OWN][32];              /* the k nearest of the village's teams (brute force) */
static double want_d[N_OWN], neighbour_d; /* their distances; the neighbours' distance */

static void grid_path(const gw_layer_data *g, size_t row, char *buf, size_t cap)
{
    static const char *const lf[] = {"prefecture", "county", "township", "village"};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++) {
        int f = gw_layer_field_index(GW_LAYER_GRIDS, lf[i]);
        const char *v = f >= 0 ? gw_layer_data_text(g, row, f) : NULL;
        if (v && *v) len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", v);
    }
}

static int in_path(const char *scope, const char *path)
{
    size_t n = strlen(scope);
    return strncmp(scope, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The path of the grid containing row r of point layer d ("" when in none). */
static void point_path(gw_model_snapshot *s, const gw_layer_data *d, size_t r, char *buf,
                       size_t cap)
{
    const gw_layer_data *g = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    ptrdiff_t gr = -1;
    assert_int_equal(gw_layer_data_grid_at(tctx, g, gw_layer_data_x(d, GW_MODEL_METRIC)[r],
                                           gw_layer_data_y(d, GW_MODEL_METRIC)[r], &gr),
                     GW_OK);
    buf[0] = '\0';
    if (gr >= 0) grid_path(g, (size_t)gr, buf, cap);
}

static void insert_team(gw_store *st, const char *id, double lon, double lat, const char *at)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.9f,%.9f]},"
             "\"properties\":{\"id\":\"%s\",\"name\":\"%s\",\"status\":\"available\","
             "\"members\":3,\"updated_at\":\"%s\"}}",
             lon, lat, id, id, at);
    gw_edit_result r = {0};
    assert_int_equal(gw_edit_insert(st, GW_LAYER_TEAMS, body, strlen(body), NULL, &r), GW_OK);
    gw_edit_result_free(&r);
}

/* A village with a sibling village under the same township; the village's incident nearest to
 * the sibling's incidents is the query point; N_NEIGHBOUR teams at that nearest sibling incident
 * and N_OWN teams at the village's incident farthest from the query point. */
static void place(gw_store *st)
{
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(tctx, st, &m), GW_OK);
    gw_model_snapshot *s = gw_model_acquire(m);
    const gw_layer_data *I = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
    size_t ni = gw_layer_data_count(I);
    char(*path)[GW_JURISDICTION_MAX] = calloc(ni, sizeof *path);
    for (size_t r = 0; r < ni; r++) point_path(s, I, r, path[r], sizeof path[r]);
    const double *x = gw_layer_data_x(I, GW_MODEL_METRIC), *y = gw_layer_data_y(I, GW_MODEL_METRIC);
    double best = INFINITY;
    size_t bp = 0, bw = 0;
    size_t *tl = calloc(ni, sizeof *tl); /* the length of the township prefix of a village path */
    for (size_t a = 0; a < ni; a++) {
        int slashes = 0;
        for (const char *c = path[a]; *c; c++) slashes += *c == '/';
        if (slashes == 3) tl[a] = (size_t)(strrchr(path[a], '/') - path[a]);
    }
    /* the closest pair of incidents in two villages of one township (every 5th as the first) */
    for (size_t a = 0; a < ni; a += 5) {
        if (!tl[a]) continue;
        for (size_t b = 0; b < ni; b++) {
            if (tl[b] != tl[a] || strncmp(path[a], path[b], tl[a]) != 0 ||
                strcmp(path[a], path[b]) == 0)
                continue;
            double d = hypot(x[a] - x[b], y[a] - y[b]);
            if (d > 1 && d < best) best = d, bp = a, bw = b;
        }
    }
    free(tl);
    if (isfinite(best)) {
        snprintf(village, sizeof village, "%s", path[bp]);
        snprintf(township, sizeof township, "%.*s", (int)(strrchr(path[bp], '/') - path[bp]),
                 path[bp]);
    }
    assert_true(village[0] && isfinite(best));
    double far = -1;
    size_t bf = bp;
    for (size_t a = 0; a < ni; a++)
        if (strcmp(path[a], village) == 0 && hypot(x[a] - x[bp], y[a] - y[bp]) > far)
            far = hypot(x[a] - x[bp], y[a] - y[bp]), bf = a;
    assert_true(far > best); /* the own teams are farther than the neighbour's */
    snprintf(incident, sizeof incident, "%s", gw_layer_data_id(I, bp));
    p_lon = gw_layer_data_x(I, GW_MODEL_LONLAT)[bp],
    p_lat = gw_layer_data_y(I, GW_MODEL_LONLAT)[bp];
    double wlon = gw_layer_data_x(I, GW_MODEL_LONLAT)[bw],
           wlat = gw_layer_data_y(I, GW_MODEL_LONLAT)[bw];
    double olon = gw_layer_data_x(I, GW_MODEL_LONLAT)[bf],
           olat = gw_layer_data_y(I, GW_MODEL_LONLAT)[bf];
    free(path);
    gw_model_release(tctx, s);
    gw_model_close(m);
    char at[32], id[32];
    time_t now = time(NULL);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    for (int i = 0; i < N_NEIGHBOUR; i++) {
        snprintf(id, sizeof id, "NB-%03d", i);
        insert_team(st, id, wlon, wlat, at);
    }
    for (int i = 0; i < N_OWN; i++) {
        snprintf(id, sizeof id, "OWN-%d", i);
        insert_team(st, id, olon + 1e-6 * i, olat, at);
    }
    /* the expectation on a fresh model: the village's available teams, nearest first */
    assert_int_equal(gw_model_open(tctx, st, &m), GW_OK);
    s = gw_model_acquire(m);
    const gw_layer_data *T = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    I = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
    ptrdiff_t pr = gw_layer_data_find(I, incident);
    assert_true(pr >= 0);
    double px = gw_layer_data_x(I, GW_MODEL_METRIC)[pr],
           py = gw_layer_data_y(I, GW_MODEL_METRIC)[pr];
    int fs = gw_layer_field_index(GW_LAYER_TEAMS, "status");
    size_t n_own = 0, n_nb = 0;
    for (int k = 0; k < N_OWN; k++) want_d[k] = INFINITY;
    for (size_t r = 0; r < gw_layer_data_count(T); r++) {
        char p[GW_JURISDICTION_MAX];
        point_path(s, T, r, p, sizeof p);
        double d = hypot(gw_layer_data_x(T, GW_MODEL_METRIC)[r] - px,
                         gw_layer_data_y(T, GW_MODEL_METRIC)[r] - py);
        const char *tid = gw_layer_data_id(T, r);
        if (strncmp(tid, "NB-", 3) == 0) {
            assert_false(
                in_path(village, p)); /* the neighbour's: in the township, not the village */
            assert_true(in_path(township, p));
            n_nb++, neighbour_d = d;
        }
        const char *stt = gw_layer_data_text(T, r, fs);
        if (!in_path(village, p) || !stt || strcmp(stt, "available") != 0) continue;
        n_own++;
        for (int k = 0; k < N_OWN; k++) /* insertion into the sorted top N_OWN (ties: id) */
            if (d < want_d[k] || (d == want_d[k] && strcmp(tid, want[k]) < 0)) {
                memmove(want + k + 1, want + k, (size_t)(N_OWN - 1 - k) * sizeof want[0]);
                memmove(want_d + k + 1, want_d + k, (size_t)(N_OWN - 1 - k) * sizeof want_d[0]);
                snprintf(want[k], sizeof want[k], "%s", tid);
                want_d[k] = d;
                break;
            }
    }
    assert_int_equal(n_nb, N_NEIGHBOUR);
    assert_true(n_own >= N_OWN);
    for (int k = 0; k < N_OWN; k++) assert_true(want_d[k] > neighbour_d);
    gw_model_release(tctx, s);
    gw_model_close(m);
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("scope_dispatch.sqlite"));
    gw_store *st = hf_city(tctx, db_path, 0.01, 18);
    place(st);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_DISPATCHER, "village", village, tok_village,
                                          NULL),
                     GW_OK);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_DISPATCHER, "township", township,
                                          tok_township, NULL),
                     GW_OK);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_ADMIN, "root", "", tok_root, NULL), GW_OK);
    gw_store_close(st);
    gw_server_opts o = {.db_path = db_path, .quiet = 1, .threads = 4};
    assert_int_equal(hf_app_start(tctx, NULL, &o, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static json_t *nearest(const char *tok, int k)
{
    char url[256];
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.9f&lat=%.9f&k=%d&include_stale=1", p_lon,
             p_lat, k);
    hf_resp r = hf_request("GET", url, tok, NULL, 0, NULL, NULL);
    return hf_json(&r, 200, 0, url);
}

/* The village gets its own k nearest although 320 of the neighbour's teams are all nearer. */
static void test_nearest_exact(void **state)
{
    (void)state;
    json_t *j = nearest(tok_village, N_OWN);
    json_t *teams = json_object_get(j, "teams");
    assert_int_equal(json_array_size(teams), N_OWN);
    for (size_t i = 0; i < N_OWN; i++) {
        json_t *t = json_array_get(teams, i);
        assert_string_equal(json_string_value(json_object_get(t, "id")), want[i]);
        assert_true(fabs(json_real_value(json_object_get(t, "distance_m")) - want_d[i]) < 0.5);
    }
    json_decref(j);
    /* unscoped and the township: the neighbour's teams come first */
    for (int w = 0; w < 2; w++) {
        j = nearest(w ? tok_township : tok_root, N_OWN);
        json_t *t;
        size_t i;
        json_array_foreach (json_object_get(j, "teams"), i, t)
            assert_int_equal(strncmp(json_string_value(json_object_get(t, "id")), "NB-", 3), 0);
        assert_int_equal(json_array_size(json_object_get(j, "teams")), N_OWN);
        json_decref(j);
    }
}

static long transition(const char *tok, const char *body, char *detail, size_t cap)
{
    char url[128];
    snprintf(url, sizeof url, "/incidents/%s/transitions", incident);
    hf_resp r = hf_request("POST", url, tok, body, strlen(body), "application/json", NULL);
    long st = r.status;
    if (detail) snprintf(detail, cap, "%s", r.body.data ? r.body.data : "");
    if (st >= 400 && st != 403) fprintf(stderr, "%s: %ld %s\n", body, st, r.body.data);
    hf_resp_free(&r);
    return st;
}

static long dispatch_assign(const char *tok, const char *team)
{
    char body[256];
    snprintf(body, sizeof body, "{\"incident\":\"%s\",\"team\":\"%s\"}", incident, team);
    hf_resp r = hf_request("POST", "/dispatch/assign", tok, body, strlen(body), "application/json",
                           NULL);
    long st = r.status;
    hf_resp_free(&r);
    return st;
}

/* Only its teams, unless it escalates. */
static void test_escalate_to_assign(void **state)
{
    (void)state;
    char d[2048];
    assert_int_equal(transition(tok_village, "{\"action\":\"accept\"}", NULL, 0), 201);
    /* the neighbour's team: refused through the flow and through dispatch, naming the village */
    assert_int_equal(transition(tok_village, "{\"action\":\"assign\",\"team\":\"NB-000\"}", d,
                                sizeof d),
                     403);
    assert_non_null(strstr(d, village));
    assert_non_null(strstr(d, "NB-000"));
    assert_int_equal(dispatch_assign(tok_village, "NB-000"), 403);
    /* so it escalates; the township (whose jurisdiction holds both) assigns the team */
    assert_int_equal(transition(tok_village,
                                "{\"action\":\"escalate\",\"note\":\"our teams are far; the "
                                "neighbour's team is next door\"}",
                                NULL, 0),
                     201);
    assert_int_equal(transition(tok_village, "{\"action\":\"assign\",\"team\":\"OWN-0\"}", NULL, 0),
                     403); /* no longer its level: escalated to the township */
    assert_int_equal(transition(tok_township, "{\"action\":\"assign\",\"team\":\"NB-000\"}", d,
                                sizeof d),
                     201);
    assert_int_equal(dispatch_assign(tok_township, "NB-000"), 200);
    /* the village sees the assignment in the incident's history */
    char url[128];
    snprintf(url, sizeof url, "/incidents/%s/transitions", incident);
    hf_resp r = hf_request("GET", url, tok_village, NULL, 0, NULL, NULL);
    json_t *h = hf_json(&r, 200, 0, url);
    json_t *steps = json_object_get(h, "transitions"), *s;
    size_t i;
    int seen = 0;
    json_array_foreach (steps, i, s) {
        const char *a = json_string_value(json_object_get(s, "action"));
        const char *as = json_string_value(json_object_get(s, "assignee"));
        if (a && strcmp(a, "assign") == 0 && as && strstr(as, "NB-000")) {
            assert_string_equal(json_string_value(json_object_get(s, "actor_jurisdiction")),
                                township);
            assert_int_equal(json_integer_value(json_object_get(s, "to_level")), 3);
            seen = 1;
        }
    }
    if (!seen) fprintf(stderr, "history: %s\n", json_dumps(h, 0));
    assert_true(seen);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_nearest_exact),
                                       cmocka_unit_test(test_escalate_to_assign)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
