/* test_response_http.c — GET /analysis/response against a recomputation from the audit trail:
 * 40 incidents of a generated city go through different parts of the flow over HTTP (some
 * accepted, assigned, on scene, closed, escalated, some untouched); the test then reads each
 * one's history (GET /incidents/{id}/transitions), its report time (the OGC item) and its grid
 * (GET /dispatch/locate at its point), computes per grid the nearest-rank median and p90 of the
 * time to accept / assign / arrive / close and the escalation count itself, and compares every
 * grid row and the total of the route.  Also: the window and bad parameters (400). */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "server.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_INC 40
static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char tok[GW_TOKEN_LEN + 1];

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("response_http.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.005, 11);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "desk", NULL, tok, NULL), GW_OK);
    gw_store_close(s);
    gw_server_opts o = {.db_path = db_path, .quiet = 1, .threads = 4};
    assert_int_equal(hf_app_start(tctx, NULL, &o, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    return 0;
}

static void act(const char *id, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "/incidents/%s/transitions", id);
    hf_resp r = hf_request("POST", url, tok, body, strlen(body), "application/json", NULL);
    json_decref(hf_json(&r, 201, 0, url));
}

static json_t *get(const char *url)
{
    hf_resp r = hf_request("GET", url, tok, NULL, 0, NULL, NULL);
    return hf_json(&r, 200, 0, url);
}

/* Nearest rank, as the route defines it. */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double rank(double *v, size_t n, double p)
{
    if (!n) return NAN;
    qsort(v, n, sizeof *v, cmp_d);
    size_t r = (size_t)ceil(p / 100.0 * (double)n);
    return v[(r ? r : 1) - 1];
}

typedef struct mine {
    char id[64], grid[64];
    double t[4]; /* seconds to accept, assign, arrive, close; -1 none */
    int escalated;
} mine;

static void test_figures_match_the_audit_trail(void **state)
{
    (void)state;
    json_t *items = get("/collections/incidents/items?limit="
                        "40");
    json_t *feats = json_object_get(items, "features");
    assert_int_equal(json_array_size(feats), N_INC);
    mine m[N_INC];
    static const char *const marks[4] = {"accept", "assign", "arrive", "close"};
    for (size_t i = 0; i < N_INC; i++) {
        json_t *f = json_array_get(feats, i);
        snprintf(m[i].id, sizeof m[i].id, "%s", json_string_value(json_object_get(f, "id")));
        const char *id = m[i].id;
        switch (i % 6) { /* the different walks */
        case 0: act(id, "{\"action\":\"accept\"}"); break;
        case 1:
            act(id, "{\"action\":\"accept\"}");
            act(id, "{\"action\":\"assign\",\"department\":\"traffic\"}");
            act(id, "{\"action\":\"arrive\"}");
            break;
        case 2:
            act(id, "{\"action\":\"accept\"}");
            act(id, "{\"action\":\"assign\",\"department\":\"patrol\"}");
            act(id, "{\"action\":\"arrive\"}");
            act(id, "{\"action\":\"resolve\"}");
            act(id, "{\"action\":\"close\"}");
            break;
        case 3:
            act(id, "{\"action\":\"escalate\",\"note\":\"needs the township\"}");
            act(id, "{\"action\":\"accept\"}");
            break;
        case 4:
            act(id, "{\"action\":\"accept\"}");
            act(id, "{\"action\":\"escalate\",\"note\":\"too big\"}");
            act(id, "{\"action\":\"accept\"}");
            act(id, "{\"action\":\"resolve\"}");
            act(id, "{\"action\":\"close\"}");
            break;
        default: break; /* untouched */
        }
    }
    /* the recomputation: history, report time and grid of each */
    for (size_t i = 0; i < N_INC; i++) {
        char url[8192];
        snprintf(url, sizeof url, "/collections/incidents/items/%s", m[i].id);
        json_t *it = get(url);
        int64_t rep = 0;
        assert_int_equal(gw_time_parse(tctx,
                                       json_string_value(json_object_get(
                                           json_object_get(it, "properties"), "occurred_at")),
                                       "UTC", &rep),
                         GW_OK);
        json_t *xy = json_object_get(json_object_get(it, "geometry"), "coordinates");
        snprintf(url, sizeof url, "/dispatch/locate?lon=%.9f&lat=%.9f",
                 json_real_value(json_array_get(xy, 0)), json_real_value(json_array_get(xy, 1)));
        json_t *loc = get(url);
        json_t *g = json_object_get(loc, "grid");
        snprintf(m[i].grid, sizeof m[i].grid, "%s",
                 json_is_object(g) ? json_string_value(json_object_get(g, "id")) : "");
        json_decref(loc), json_decref(it);
        snprintf(url, sizeof url, "/incidents/%s/transitions", m[i].id);
        json_t *h = get(url);
        for (int k = 0; k < 4; k++) m[i].t[k] = -1;
        m[i].escalated = 0;
        json_t *t;
        size_t j;
        json_array_foreach (json_object_get(h, "transitions"), j, t) {
            const char *a = json_string_value(json_object_get(t, "action"));
            int64_t at = 0;
            assert_int_equal(gw_time_parse(tctx, json_string_value(json_object_get(t, "at")), "UTC",
                                           &at),
                             GW_OK);
            for (int k = 0; k < 4; k++)
                if (strcmp(a, marks[k]) == 0 && m[i].t[k] < 0)
                    m[i].t[k] = at - rep < 0 ? 0 : (double)(at - rep);
            if (strcmp(a, "escalate") == 0) m[i].escalated = 1;
        }
        json_decref(h);
    }
    json_t *doc = get("/analysis/response");
    static const char *const keys[4] = {"time_to_accept_s", "time_to_assign_s", "time_to_arrive_s",
                                        "time_to_close_s"};
    size_t compared = 0;
    for (size_t i = 0; i < N_INC; i++) {
        if (!m[i].grid[0]) continue;
        int seen = 0; /* each grid once */
        for (size_t p = 0; p < i; p++) seen |= strcmp(m[p].grid, m[i].grid) == 0;
        if (seen) continue;
        json_t *row = NULL, *r;
        size_t j;
        json_array_foreach (json_object_get(doc, "grids"), j, r)
            if (strcmp(json_string_value(json_object_get(r, "id")), m[i].grid) == 0) row = r;
        assert_non_null(row);
        int esc = 0;
        for (size_t p = i; p < N_INC; p++)
            esc += strcmp(m[p].grid, m[i].grid) == 0 && m[p].escalated;
        assert_int_equal(json_integer_value(json_object_get(row, "escalated")), esc);
        for (int k = 0; k < 4; k++) {
            double v[N_INC];
            size_t n = 0;
            for (size_t p = i; p < N_INC; p++)
                if (strcmp(m[p].grid, m[i].grid) == 0 && m[p].t[k] >= 0) v[n++] = m[p].t[k];
            json_t *fig = json_object_get(row, keys[k]);
            assert_int_equal(json_integer_value(json_object_get(fig, "n")), (json_int_t)n);
            double med = rank(v, n, 50), p90 = rank(v, n, 90);
            if (n) {
                assert_float_equal(json_number_value(json_object_get(fig, "median")), med, 1e-9);
                assert_float_equal(json_number_value(json_object_get(fig, "p90")), p90, 1e-9);
            } else {
                assert_true(json_is_null(json_object_get(fig, "median")));
            }
        }
        compared++;
    }
    assert_true(compared >= 5);
    /* the total: states add up; 40 acted on at most; escalations = ours */
    json_t *tot = json_object_get(doc, "total");
    json_int_t sum = 0, esc = 0;
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get(tot, "by_state"), k, v) sum += json_integer_value(v);
    assert_int_equal(sum, json_integer_value(json_object_get(tot, "incidents")));
    for (size_t i = 0; i < N_INC; i++) esc += m[i].escalated;
    assert_int_equal(json_integer_value(json_object_get(tot, "escalated")), esc);
    assert_true(json_integer_value(json_object_get(json_object_get(tot, "by_state"), "closed")) >=
                2 * (N_INC / 6));
    /* every jurisdiction level shows, the county sums its townships */
    assert_true(json_array_size(json_object_get(doc, "jurisdictions")) >= 4);
    json_decref(doc), json_decref(items);
}

static void test_window_and_refusals(void **state)
{
    (void)state;
    json_t *all = get("/analysis/response?grids=false");
    assert_true(json_is_null(json_object_get(all, "grids")));
    json_t *none = get("/analysis/response?from=2100-01-01T00:00:00Z&grids=false");
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(none, "total"), "incidents")),
                     0);
    assert_true(json_integer_value(json_object_get(json_object_get(all, "total"), "incidents")) >
                0);
    json_decref(all), json_decref(none);
    static const char *const bad[] = {
        "/analysis/response?from=2025-02-30T00:00:00Z",
        "/analysis/response?from=2025-01-01T00:00:00&tz=Mars/Olympus_Mons",
        "/analysis/response?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z",
        "/analysis/response?grids=maybe",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hf_resp r = hf_request("GET", bad[i], tok, NULL, 0, NULL, NULL);
        json_decref(hf_json(&r, 400, 0, bad[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_match_the_audit_trail),
        cmocka_unit_test(test_window_and_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
