/* test_reach.c — response-time areas (geo/reach, reach.h) on hand-built roads laid out in the
 * metric CRS (written in lon/lat through the inverse transform, so the graph maps them back
 * onto the exact shapes): the isochrone of a straight two-way road is a band of known length
 * and area, a one-way street is reached only one way, a point far from every road reaches
 * nothing, and the grid shares from a police room (a whole band, a partial one ending in a
 * round cap, an unconnected road, a grid without roads). */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/plan.h"
#include "gridwatch/reach.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"
#include "gridwatch/store_roads.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void near_(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) near_((double)(a), (double)(b), (eps), __FILE__, __LINE__)

/* The area of the buffer polygon's round parts relative to the circle: 4 * 8 segments. */
/* Buffers are snap-rounded to a 1 cm grid: areas move by at most half a centimetre times the
 * perimeter (13 m² for the bands here; a few m² seen). */
#define AREA_TOL 13.0
static const double ROUND = 32 / (2 * M_PI) * 0.19509032201612825; /* n/(2pi) sin(2pi/n) */

typedef struct hand {
    gw_ctx *ctx;
    gw_store *store;
    gw_crs_transform *to_ll;
    double X0, Y0;
    int srid;
    gw_model *model;
    gw_road_graph *g;
} hand;

static void ll(hand *H, double x, double y, double *lon, double *lat)
{
    *lon = H->X0 + x, *lat = H->Y0 + y;
    assert_int_equal(gw_crs_transform_points(H->to_ll, lon, lat, 1), GW_OK);
}

static void insert(hand *H, gw_layer layer, const char *json)
{
    gw_edit_result r = {0};
    gw_edit_opts o = {.layout = 1};
    gw_status st = gw_edit_insert(H->store, layer, json, strlen(json), &o, &r);
    if (st) print_error("%s\n", gw_ctx_errmsg(H->ctx));
    assert_int_equal(st, GW_OK);
    gw_edit_result_free(&r);
}

static void add_grid(hand *H, const char *id, double x0, double y0, double x1, double y1)
{
    double p[5][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
    char json[1024];
    int k = snprintf(json, sizeof json,
                     "{\"type\":\"Feature\",\"id\":\"%s\",\"properties\":{},"
                     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[",
                     id);
    for (int i = 0; i < 5; i++) {
        double lon, lat;
        ll(H, p[i][0], p[i][1], &lon, &lat);
        k += snprintf(json + k, sizeof json - (size_t)k, "%s[%.13f,%.13f]", i ? "," : "", lon, lat);
    }
    snprintf(json + k, sizeof json - (size_t)k, "]]}}");
    insert(H, GW_LAYER_GRIDS, json);
}

static void add_room(hand *H, const char *id, double x, double y)
{
    double lon, lat;
    ll(H, x, y, &lon, &lat);
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"properties\":{},\"geometry\":{\"type\":"
             "\"Point\",\"coordinates\":[%.13f,%.13f]}}",
             id, lon, lat);
    insert(H, GW_LAYER_POLICE_ROOMS, json);
}

/* A straight road from (x0, y) to (x1, y) at 36 km/h (10 m/s). */
static void add_road(hand *H, const char *id, int oneway, double x0, double x1, double y)
{
    unsigned char w[9 + 32];
    uint32_t t = 2, n = 2;
    w[0] = 1;
    memcpy(w + 1, &t, 4), memcpy(w + 5, &n, 4);
    double lon, lat;
    ll(H, x0, y, &lon, &lat);
    memcpy(w + 9, &lon, 8), memcpy(w + 17, &lat, 8);
    ll(H, x1, y, &lon, &lat);
    memcpy(w + 25, &lon, 8), memcpy(w + 33, &lat, 8);
    gw_store_road r = {.id = id,
                       .cls = "residential",
                       .oneway = oneway,
                       .speed_kmh = 36,
                       .wkb = w,
                       .wkb_len = sizeof w};
    assert_int_equal(gw_store_begin(H->store), GW_OK);
    assert_int_equal(gw_store_roads_insert(H->store, &r, 1), GW_OK);
    assert_int_equal(gw_store_roads_log(H->store, "roads.insert", NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(H->store), GW_OK);
}

/* The city of these tests: "main", two-way from (0, 0) to (4000, 0); "ow", one-way east from
 * (0, 1000) to (4000, 1000); a police room on main at x = 1000; grids D [2000, 3000] x
 * [-500, 500] (main crosses it), C [0, 1000] x [600, 1400] (only the one-way road, which the
 * room cannot reach) and E [6000, 7000] x [-500, 500] (no road). */
static void hand_open(hand *H, const char *name)
{
    memset(H, 0, sizeof *H);
    H->ctx = gw_test_ctx();
    assert_int_equal(gw_store_open(H->ctx, gw_test_db(name), GW_STORE_CREATE, &H->store), GW_OK);
    H->srid = gw_crs_metric_for(115.5, 35.2);
    assert_int_equal(gw_store_set_metric_srid(H->store, H->srid), GW_OK);
    gw_crs m = {GW_CRS_EPSG, H->srid}, l4326 = {GW_CRS_EPSG, 4326};
    assert_int_equal(gw_crs_transform_create(H->ctx, l4326, m, &H->to_ll), GW_OK);
    double x = 115.5, y = 35.2;
    assert_int_equal(gw_crs_transform_points(H->to_ll, &x, &y, 1), GW_OK);
    gw_crs_transform_destroy(H->to_ll);
    assert_int_equal(gw_crs_transform_create(H->ctx, m, l4326, &H->to_ll), GW_OK);
    H->X0 = round(x / 1000) * 1000, H->Y0 = round(y / 1000) * 1000;
    add_road(H, "main", 0, 0, 4000, 0);
    add_road(H, "ow", 1, 0, 4000, 1000);
    add_room(H, "R1", 1000, 0);
    add_grid(H, "D", 2000, -500, 3000, 500);
    add_grid(H, "C", 0, 600, 1000, 1400);
    add_grid(H, "E", 6000, -500, 7000, 500);
    gw_road_graph_opts o = {.metric_srid = H->srid};
    assert_int_equal(gw_road_graph_build(H->ctx, H->store, &o, &H->g), GW_OK);
    assert_int_equal(gw_model_open(H->ctx, H->store, &H->model), GW_OK);
    assert_int_equal(gw_model_metric_srid(H->model), H->srid);
}

static void hand_close(hand *H)
{
    gw_road_graph_destroy(H->g);
    gw_model_close(H->model);
    gw_crs_transform_destroy(H->to_ll);
    gw_store_close(H->store);
    gw_ctx_destroy(H->ctx);
}

static gw_reach_iso *iso_at(hand *H, double x, double y, const double *min, size_t n)
{
    gw_road_search *s = NULL;
    assert_int_equal(gw_road_search_create(H->ctx, H->g, &s), GW_OK);
    double lon, lat;
    ll(H, x, y, &lon, &lat);
    gw_reach_iso *iso = NULL;
    gw_status st = gw_reach_isochrone(H->ctx, H->g, s, lon, lat, min, n, NULL, &iso);
    if (st) print_error("%s\n", gw_ctx_errmsg(H->ctx));
    assert_int_equal(st, GW_OK);
    gw_road_search_destroy(s);
    return iso;
}

static int covers(hand *H, const gw_reach_iso *iso, size_t b, double x, double y)
{
    GEOSContextHandle_t h = gw_ctx_geos(H->ctx);
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, H->X0 + x, H->Y0 + y);
    char r = GEOSCovers_r(h, gw_reach_iso_geom(iso, b, 0), p);
    GEOSGeom_destroy_r(h, p);
    /* the lon/lat polygon holds the same place */
    double lon, lat;
    ll(H, x, y, &lon, &lat);
    p = GEOSGeom_createPointFromXY_r(h, lon, lat);
    char r2 = GEOSCovers_r(h, gw_reach_iso_geom(iso, b, 1), p);
    GEOSGeom_destroy_r(h, p);
    assert_int_equal(r, r2);
    return r == 1;
}

/* Two-way road, source in the middle of it: 1 minute is 600 m each way (a band 1200 m long,
 * 200 m wide, two half-disc caps); 5 minutes is the whole 4 km road. */
static void test_straight_band(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "straight.db");
    const double min[] = {1, 5};
    gw_reach_iso *iso = iso_at(&H, 2000, 10, min, 2);
    assert_int_equal(gw_reach_iso_bands(iso), 2);
    assert_near(gw_reach_iso_snap_m(iso), 10, 1e-6);
    assert_near(gw_reach_iso_road_m(iso, 0), 1200, 1e-6);
    double cap = M_PI * 100 * 100;
    assert_near(gw_reach_iso_area(iso, 0), 1200 * 200 + cap * ROUND, AREA_TOL);
    assert_near(gw_reach_iso_area(iso, 0) / (1200 * 200 + cap), 1, 0.005); /* the tolerance */
    assert_near(gw_reach_iso_road_m(iso, 1), 4000, 1e-6);
    assert_near(gw_reach_iso_area(iso, 1), 4000 * 200 + cap * ROUND, AREA_TOL);
    assert_true(covers(&H, iso, 0, 1450, 90) && covers(&H, iso, 0, 2550, -90));
    assert_false(covers(&H, iso, 0, 1250, 0) || covers(&H, iso, 0, 2000, 150));
    gw_reach_iso_destroy(H.ctx, iso);
    hand_close(&H);
}

/* One-way east: from the middle, 1 minute reaches 600 m east and nothing west. */
static void test_one_way(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "oneway.db");
    const double min[] = {1};
    gw_reach_iso *iso = iso_at(&H, 2000, 995, min, 1);
    assert_near(gw_reach_iso_road_m(iso, 0), 600, 1e-6);
    assert_near(gw_reach_iso_area(iso, 0), 600 * 200 + M_PI * 100 * 100 * ROUND, AREA_TOL);
    assert_true(covers(&H, iso, 0, 2550, 1000));
    assert_false(covers(&H, iso, 0, 1850, 1000));
    gw_reach_iso_destroy(H.ctx, iso);
    /* from its far end nothing more is reached: the start of a one-way street's stub */
    iso = iso_at(&H, 4000, 1000, min, 1);
    assert_near(gw_reach_iso_road_m(iso, 0), 0, 1e-6);
    gw_reach_iso_destroy(H.ctx, iso);
    hand_close(&H);
}

static void test_far_and_bad(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "far.db");
    const double min[] = {3};
    gw_reach_iso *iso = iso_at(&H, 2000, 9000, min, 1);
    assert_near(gw_reach_iso_snap_m(iso), -1, 0);
    assert_near(gw_reach_iso_area(iso, 0), 0, 0);
    gw_reach_iso_destroy(H.ctx, iso);
    gw_road_search *s = NULL;
    assert_int_equal(gw_road_search_create(H.ctx, H.g, &s), GW_OK);
    const double bad[] = {0}, big[] = {500};
    assert_int_equal(gw_reach_isochrone(H.ctx, H.g, s, 115.5, 35.2, bad, 1, NULL, &iso),
                     GW_ERR_ARG);
    assert_int_equal(gw_reach_isochrone(H.ctx, H.g, s, 115.5, 35.2, big, 1, NULL, &iso),
                     GW_ERR_ARG);
    gw_road_search_destroy(s);
    hand_close(&H);
}

static void test_grid_shares(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "grids.db");
    gw_model_snapshot *snap = gw_model_acquire(H.model);
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *rooms = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS);
    for (int threads = 1; threads <= 2; threads++) {
        gw_reach_grids *t = NULL;
        gw_status st = gw_reach_grids_compute(H.ctx, H.g, rooms, grids, H.srid, NULL, threads, &t);
        if (st) print_error("%s\n", gw_ctx_errmsg(H.ctx));
        assert_int_equal(st, GW_OK);
        assert_int_equal(gw_reach_grids_count(t), 3);
        ptrdiff_t d = gw_layer_data_find(grids, "D"), c = gw_layer_data_find(grids, "C"),
                  e = gw_layer_data_find(grids, "E");
        /* 3 minutes from x = 1000 is 1800 m: to x = 2800 (a half-disc cap inside D) */
        double half = M_PI * 100 * 100 / 2 * ROUND;
        assert_near(gw_reach_grids_share(t, 0)[d], (800 * 200 + half) / 1e6, AREA_TOL / 1e6);
        /* 5 and 10 minutes: the whole road across D */
        assert_near(gw_reach_grids_share(t, 1)[d], 0.2, AREA_TOL / 1e6);
        assert_near(gw_reach_grids_share(t, 2)[d], 0.2, AREA_TOL / 1e6);
        assert_near(gw_reach_grids_share(t, 2)[c], 0, 0);
        assert_near(gw_reach_grids_share(t, 2)[e], 0, 0);
        assert_non_null(gw_reach_grids_geom(t, (size_t)d, 0));
        assert_null(gw_reach_grids_geom(t, (size_t)c, 2));
        gw_bbox env = gw_reach_grids_env(t, (size_t)d, 1);
        assert_true(env.maxx > env.minx && env.maxy > env.miny);
        assert_true(gw_reach_grid_minutes(1) == 5);
        gw_reach_grids_destroy(H.ctx, t);
    }
    /* another metric CRS than the graph's is refused */
    gw_reach_grids *t = NULL;
    assert_int_equal(gw_reach_grids_compute(H.ctx, H.g, rooms, grids, 3857, NULL, 1, &t),
                     GW_ERR_CRS);
    gw_model_release(H.ctx, snap);
    hand_close(&H);
}

/* The planner's balance table: the same shares for both layouts of a fresh draft. */
static void test_plan_balance(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "plan.db");
    int64_t d = 0;
    gw_status st = gw_plan_draft_create(H.store, "reach", "tester", &d);
    if (st) print_error("%s\n", gw_ctx_errmsg(H.ctx));
    assert_int_equal(st, GW_OK);
    char *js = NULL;
    st = gw_plan_balance(H.store, d, &js);
    if (st) print_error("%s\n", gw_ctx_errmsg(H.ctx));
    assert_int_equal(st, GW_OK);
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    assert_non_null(doc);
    double half = M_PI * 100 * 100 / 2 * ROUND;
    for (int k = 0; k < 2; k++) {
        json_t *lay = json_object_get(doc, k ? "draft_layout" : "base_layout"), *g;
        size_t i, seen = 0;
        json_array_foreach (json_object_get(lay, "grids"), i, g) {
            const char *id = json_string_value(json_object_get(g, "id"));
            double r3 = json_number_value(json_object_get(g, "reach_3m")),
                   r10 = json_number_value(json_object_get(g, "reach_10m"));
            if (!strcmp(id, "D")) assert_near(r3, (800 * 200 + half) / 1e6, AREA_TOL / 1e6), seen++;
            if (!strcmp(id, "D")) assert_near(r10, 0.2, AREA_TOL / 1e6);
            if (!strcmp(id, "E")) assert_near(r10, 0, 0), seen++;
        }
        assert_int_equal(seen, 2);
        assert_non_null(json_object_get(json_object_get(lay, "spread"), "reach_5m"));
    }
    json_decref(doc);
    hand_close(&H);
}

int main(int argc, char **argv)
{
    const char *group = gw_test_group(argc, argv);
    if (*group) return gw_test_bad_group(group);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_straight_band), cmocka_unit_test(test_one_way),
        cmocka_unit_test(test_far_and_bad),   cmocka_unit_test(test_grid_shares),
        cmocka_unit_test(test_plan_balance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
