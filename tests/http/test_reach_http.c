/* test_reach_http.c — response-time areas over real HTTP (reach_http.h) on a generated city
 * with its roads: GET /analysis/isochrones for a police room, a team and a point (nested bands,
 * areas growing with the minutes, a room and its own point giving the same bands), its 4xx
 * answers, the reach_3m/5m/10m fields of /analysis/coverage, the isochrones tile layer and the
 * grid tiles' reach fields (read back with GDAL's MVT driver), and, after the roads are
 * cleared, 409 and null shares (the recompute follows the roads change). */
#include "http_fixture.h"

#include "gridwatch/store_roads.h"
#include "gridwatch/tile.h"
#include "coverage_http.h"
#include "reach_http.h"

#include <curl/curl.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char room_id[64], team_id[64];
static double room_lon, room_lat;

static json_t *get_json(const char *path, long want)
{
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.curl, CURLE_OK);
    if (want >= 400) assert_string_equal(r.ctype, "application/problem+json");
    json_t *j = hf_json(&r, want, 0, path);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("reach_http.db"));
    gw_store_close(hf_city(tctx, db_path, 0.02, 5));
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    /* the first coverage computation runs in the background */
    for (int i = 0; i < 3000 && !gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]); i++)
        usleep(10000);
    assert_true(gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]));
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *rooms = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
                        *teams = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    assert_true(gw_layer_data_count(rooms) > 0 && gw_layer_data_count(teams) > 0);
    snprintf(room_id, sizeof room_id, "%s", gw_layer_data_id(rooms, 0));
    snprintf(team_id, sizeof team_id, "%s", gw_layer_data_id(teams, 0));
    room_lon = gw_layer_data_x(rooms, GW_MODEL_LONLAT)[0];
    room_lat = gw_layer_data_y(rooms, GW_MODEL_LONLAT)[0];
    gw_model_release(tctx, snap);
    GDALAllRegister();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* The bands of an isochrone answer: minutes and areas, checked for shape on the way. */
static size_t bands(json_t *j, double *min, double *area)
{
    assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
    json_t *fs = json_object_get(j, "features"), *f;
    size_t i;
    json_array_foreach (fs, i, f) {
        json_t *p = json_object_get(f, "properties"), *g = json_object_get(f, "geometry");
        min[i] = json_number_value(json_object_get(p, "minutes"));
        area[i] = json_number_value(json_object_get(p, "area_m2"));
        const char *t = json_string_value(json_object_get(g, "type"));
        assert_non_null(t);
        assert_true(!strcmp(t, "Polygon") || !strcmp(t, "MultiPolygon"));
    }
    return json_array_size(fs);
}

static void test_room_team_point(void **state)
{
    (void)state;
    char url[256];
    double min[8], area[8], min2[8], area2[8];
    snprintf(url, sizeof url, "/analysis/isochrones?room=%s&minutes=3,5,10", room_id);
    json_t *j = get_json(url, 200);
    assert_int_equal(bands(j, min, area), 3);
    assert_true(min[0] == 3 && min[1] == 5 && min[2] == 10);
    assert_true(area[0] > 0 && area[0] < area[1] && area[1] < area[2]);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "source"), "id")),
                        room_id);
    assert_true(json_number_value(json_object_get(j, "width_m")) == 100);
    json_decref(j);
    /* the room's own point gives the same bands */
    snprintf(url, sizeof url, "/analysis/isochrones?lon=%.12f&lat=%.12f&minutes=3,5,10", room_lon,
             room_lat);
    j = get_json(url, 200);
    assert_int_equal(bands(j, min2, area2), 3);
    for (int i = 0; i < 3; i++) assert_true(fabs(area[i] - area2[i]) <= 1);
    json_decref(j);
    /* a team, and a wider band width */
    snprintf(url, sizeof url, "/analysis/isochrones?team=%s&minutes=5&width=50", team_id);
    j = get_json(url, 200);
    assert_int_equal(bands(j, min, area), 1);
    assert_true(json_number_value(json_object_get(j, "width_m")) == 50);
    json_decref(j);
}

static void test_bad_requests(void **state)
{
    (void)state;
    char url[256];
    const char *bad[] = {"/analysis/isochrones",
                         "/analysis/isochrones?lon=115.5",
                         "/analysis/isochrones?lon=500&lat=35",
                         "/analysis/isochrones?room=x&team=y",
                         "/analysis/isochrones?lon=115.5&lat=35.2&minutes=0",
                         "/analysis/isochrones?lon=115.5&lat=35.2&minutes=3,abc",
                         "/analysis/isochrones?lon=115.5&lat=35.2&minutes=1,2,3,4,5,6,7,8,9",
                         "/analysis/isochrones?lon=115.5&lat=35.2&width=0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) json_decref(get_json(bad[i], 400));
    snprintf(url, sizeof url, "/analysis/isochrones?room=nonesuch");
    json_decref(get_json(url, 404));
    json_decref(get_json("/tiles/isochrones/3/1/1.png", 404));
}

static void test_coverage_and_tiles(void **state)
{
    (void)state;
    json_t *j = get_json("/analysis/coverage", 200), *g;
    size_t i, reached = 0;
    json_array_foreach (json_object_get(j, "grids"), i, g) {
        json_t *a = json_object_get(g, "reach_3m"), *b = json_object_get(g, "reach_5m"),
               *c = json_object_get(g, "reach_10m");
        assert_true(json_is_number(a) && json_is_number(b) && json_is_number(c));
        double x = json_number_value(a), y = json_number_value(b), z = json_number_value(c);
        assert_true(0 <= x && x <= y + 1e-9 && y <= z + 1e-9 && z <= 1);
        reached += z > 0;
    }
    assert_true(reached > 0);
    json_decref(j);
    /* the tile at z13 holding the room: its bands, and grid tiles with the reach fields */
    double mx, my;
    gw_tile_lonlat_to_merc(room_lon, room_lat, &mx, &my);
    gw_tile_id t;
    assert_int_equal(gw_tile_from_merc(tctx, mx, my, 13, &t), GW_OK);
    char url[128];
    snprintf(url, sizeof url, "/tiles/isochrones/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = hf_request("GET", url, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    GDALDatasetH ds = hf_mvt_open(&r, t.z, t.x, t.y, "iso.mvt");
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "isochrones");
    assert_non_null(l);
    assert_true(OGR_L_GetFeatureCount(l, 1) > 0);
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    int fm = OGR_F_GetFieldIndex(f, "minutes");
    assert_true(fm >= 0);
    int m = OGR_F_GetFieldAsInteger(f, fm);
    assert_true(m == 3 || m == 5 || m == 10);
    OGR_F_Destroy(f);
    GDALClose(ds);
    hf_resp_free(&r);
    snprintf(url, sizeof url, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
    r = hf_request("GET", url, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    ds = hf_mvt_open(&r, t.z, t.x, t.y, "grids.mvt");
    assert_non_null(ds);
    l = GDALDatasetGetLayerByName(ds, "grids");
    assert_non_null(l);
    int seen = 0;
    while ((f = OGR_L_GetNextFeature(l))) {
        int k = OGR_F_GetFieldIndex(f, "reach_10m");
        if (k >= 0 && OGR_F_IsFieldSetAndNotNull(f, k)) seen++;
        OGR_F_Destroy(f);
    }
    assert_true(seen > 0);
    GDALClose(ds);
    hf_resp_free(&r);
}

/* Last: the roads go, the graph and the shares follow. */
static void test_roads_cleared(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_clear(s, NULL), GW_OK);
    int64_t seq = 0;
    assert_int_equal(gw_store_roads_log(s, "roads.clear", NULL, &seq), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    gw_store_close(s);
    assert_true(gw_live_wait(app->live, seq, 10000));
    char url[256];
    snprintf(url, sizeof url, "/analysis/isochrones?room=%s", room_id);
    json_decref(get_json(url, 409));
    json_t *j = get_json("/analysis/coverage", 200),
           *g = json_array_get(json_object_get(j, "grids"), 0);
    assert_true(json_is_null(json_object_get(g, "reach_5m")));
    json_decref(j);
}

int main(int argc, char **argv)
{
    const char *group = gw_test_group(argc, argv);
    if (*group) return gw_test_bad_group(group);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_room_team_point),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_coverage_and_tiles),
        cmocka_unit_test(test_roads_cleared),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
