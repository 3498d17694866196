/* test_response_http.c — GET /analysis/response against a recomputation from the audit trail:
 * 40 incidents of a generated city go through different parts of the flow over HTTP (some
 * accepted, assigned, on scene, closed, escalated, some untouched); the test then reads each
 * one's history (GET /incidents/{id}/transitions), its report time (the OGC item) and its grid
 * (GET /dispatch/locate at its point), computes per grid the nearest-rank median and p90 of the
 * time to accept / assign / arrive / close and the escalation count itself, and compares every
 * grid row and the total of the route.  The grid tiles carry the same figures per grid (resp_*
 * fields, decoded with GDAL's MVT driver).  Also: the window and bad parameters (400). */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "server.h"
#include "tiles_http.h"

#include <gdal.h>
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
    GDALAllRegister();
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

/* The grid features of tile z/x/y (GDAL's MVT driver) into `by_id`: id -> {field: value}. */
static void tile_grids(unsigned z, unsigned x, unsigned y, json_t *by_id)
{
    char path[128], file[64];
    snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", z, x, y);
    hf_resp r = hf_request("GET", path, tok, NULL, 0, NULL, NULL);
    if (r.status == 204) {
        hf_resp_free(&r);
        return;
    }
    assert_int_equal(r.status, 200);
    snprintf(file, sizeof file, "resp-%u-%u-%u.pbf", z, x, y);
    GDALDatasetH ds = hf_mvt_open(&r, z, x, y, file);
    hf_resp_free(&r);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "grids");
    assert_non_null(l);
    OGRFeatureH ft;
    static const char *const names[] = {"resp_incidents",       "resp_open",
                                        "resp_overdue",         "resp_overdue_share",
                                        "resp_escalation_rate", "resp_accept_p50_s",
                                        "resp_accept_p90_s",    "resp_arrive_p50_s",
                                        "resp_close_p50_s",     "resp_close_p90_s"};
    while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
        int i = OGR_F_GetFieldIndex(ft, "id");
        assert_true(i >= 0);
        json_t *o = json_object();
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if ((i = OGR_F_GetFieldIndex(ft, names[k])) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
                json_object_set_new(o, names[k], json_real(OGR_F_GetFieldAsDouble(ft, i)));
        json_object_set_new(by_id, OGR_F_GetFieldAsString(ft, OGR_F_GetFieldIndex(ft, "id")), o);
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
}

static double rounded(json_t *v, double step)
{
    return json_is_null(v) || !v ? NAN : round(json_number_value(v) / step) * step;
}

static void expect_field(json_t *props, const char *name, double want, const char *grid)
{
    json_t *v = json_object_get(props, name);
    if (isnan(want)) {
        if (v)
            fprintf(stderr, "grid %s: %s present (%g), want none\n", grid, name,
                    json_number_value(v));
        assert_null(v);
        return;
    }
    if (!v || fabs(json_number_value(v) - want) > 1e-9)
        fprintf(stderr, "grid %s: %s = %g, want %g\n", grid, name, v ? json_number_value(v) : NAN,
                want);
    assert_non_null(v);
    assert_float_equal(json_number_value(v), want, 1e-9);
}

/* Every grid of the city in its z10 tiles: the resp_* fields say what GET /analysis/response says
 * per grid (rounded as the tiles round: shares to 0.001, times to whole seconds), and grids
 * without incidents carry none. */
static void test_tiles_carry_the_figures(void **state)
{
    (void)state;
    assert_true(gw_tiles_fields_wait(app->tiles, 60000));
    json_t *doc = get("/analysis/response");
    json_t *coll = get("/collections/grids");
    json_t *bb = json_array_get(
        json_object_get(json_object_get(json_object_get(coll, "extent"), "spatial"), "bbox"), 0);
    double w = json_number_value(json_array_get(bb, 0)),
           s = json_number_value(json_array_get(bb, 1));
    double e = json_number_value(json_array_get(bb, 2)),
           n = json_number_value(json_array_get(bb, 3));
    unsigned z = 10;
    double ntiles = (double)(1u << z);
#define TX(lon) ((unsigned)floor(((lon) + 180.0) / 360.0 * ntiles))
#define TY(lat)                                                                                    \
    ((unsigned)floor((1.0 - log(tan((lat)*M_PI / 180.0) + 1.0 / cos((lat)*M_PI / 180.0)) / M_PI) / \
                     2.0 * ntiles))
    json_t *by_id = json_object();
    for (unsigned x = TX(w); x <= TX(e); x++)
        for (unsigned y = TY(n); y <= TY(s); y++) tile_grids(z, x, y, by_id);
#undef TX
#undef TY
    json_t *grids = get("/collections/grids/items?limit=10000");
    assert_int_equal(json_object_size(by_id), json_array_size(json_object_get(grids, "features")));
    size_t with = 0;
    json_t *row;
    size_t j;
    json_array_foreach (json_object_get(doc, "grids"), j, row) {
        const char *id = json_string_value(json_object_get(row, "id"));
        json_t *props = json_object_get(by_id, id);
        assert_non_null(props);
        json_int_t inc = json_integer_value(json_object_get(row, "incidents"));
        if (!inc) continue;
        with++;
        json_int_t closed = json_integer_value(
            json_object_get(json_object_get(row, "by_state"), "closed"));
        expect_field(props, "resp_incidents", (double)inc, id);
        expect_field(props, "resp_open", (double)(inc - closed), id);
        expect_field(props, "resp_overdue",
                     (double)json_integer_value(json_object_get(row, "overdue")), id);
        expect_field(props, "resp_overdue_share",
                     rounded(json_object_get(row, "overdue_share"), 1e-3), id);
        expect_field(props, "resp_escalation_rate",
                     rounded(json_object_get(row, "escalation_rate"), 1e-3), id);
        json_t *acc = json_object_get(row, "time_to_accept_s"),
               *arr = json_object_get(row, "time_to_arrive_s");
        json_t *clo = json_object_get(row, "time_to_close_s");
        expect_field(props, "resp_accept_p50_s", rounded(json_object_get(acc, "median"), 1), id);
        expect_field(props, "resp_accept_p90_s", rounded(json_object_get(acc, "p90"), 1), id);
        expect_field(props, "resp_arrive_p50_s", rounded(json_object_get(arr, "median"), 1), id);
        expect_field(props, "resp_close_p50_s", rounded(json_object_get(clo, "median"), 1), id);
        expect_field(props, "resp_close_p90_s", rounded(json_object_get(clo, "p90"), 1), id);
    }
    assert_true(with >= 5);
    /* grids the route lists without incidents (or does not list): no resp_* fields */
    const char *id;
    json_t *props;
    size_t bare = 0;
    json_object_foreach (by_id, id, props) {
        int listed = 0;
        json_array_foreach (json_object_get(doc, "grids"), j, row)
            if (strcmp(json_string_value(json_object_get(row, "id")), id) == 0 &&
                json_integer_value(json_object_get(row, "incidents")) > 0)
                listed = 1;
        if (listed) continue;
        bare++;
        assert_null(json_object_get(props, "resp_incidents"));
    }
    (void)bare;
    json_decref(by_id), json_decref(grids), json_decref(coll), json_decref(doc);
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
        cmocka_unit_test(test_tiles_carry_the_figures),
        cmocka_unit_test(test_window_and_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
