/* test_coverage_http.c — the coverage routes on a real server over the full app: every grid's
 * figures, one grid's blind spots as RFC 7946 GeoJSON, the cameras that see a point, errors as
 * problem+json, and a camera moved through the store reaching the served and stored results
 * once gw_live_wait returns. */
#include "testutil.h"

#include "app.h"
#include "coverage_http.h"
#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/edit.h"
#include "http_util.h"
#include "http_fixture.h"
#include "server.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;

static hf_resp get(const char *path)
{
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.curl, CURLE_OK);
    return r;
}

static json_t *get_json(const char *path, long want)
{
    hf_resp r = get(path);
    if (want >= 400) assert_string_equal(r.ctype, "application/problem+json");
    json_t *j = hf_json(&r, want, 0, path);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("cov_http.db"));
    gw_store_close(hf_city(tctx, db_path, 0.01, 3));
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    /* No stored rows yet: the first computation runs in the background. */
    for (int i = 0; i < 3000 && !gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]); i++)
        usleep(10000);
    assert_true(gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static void test_all_grids(void **state)
{
    (void)state;
    json_t *j = get_json("/analysis/coverage", 200);
    json_t *grids = json_object_get(j, "grids");
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    size_t n = gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_GRIDS));
    gw_model_release(tctx, snap);
    assert_int_equal(json_array_size(grids), n);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), n);
    double sum = 0;
    size_t i;
    json_t *g;
    json_array_foreach (grids, i, g) {
        double ratio = json_number_value(json_object_get(g, "ratio"));
        assert_true(ratio >= 0 && ratio <= 1);
        assert_true(json_is_string(json_object_get(g, "id")));
        assert_true(json_is_integer(json_object_get(g, "cameras")));
        assert_non_null(json_object_get(g, "incident_share"));
        double rr = json_number_value(json_object_get(g, "room_reach"));
        assert_true(rr >= 0 && rr <= 1);
        double cov = json_number_value(json_object_get(g, "covered_m2")),
               area = json_number_value(json_object_get(g, "grid_m2"));
        assert_true(fabs(cov / area - ratio) < 1e-6);
        sum += ratio;
    }
    assert_true(sum > 0);
    /* The module's lookup for other modules agrees, and so does the stored row. */
    const char *id0 = json_string_value(json_object_get(json_array_get(grids, 0), "id"));
    gw_coverage_row row, stored;
    int64_t seq = 0, sseq = -1;
    assert_int_equal(gw_coverage_get(app->modules[GW_APP_COVERAGE], id0, &row, &seq), GW_OK);
    assert_true(fabs(row.ratio -
                     json_number_value(json_object_get(json_array_get(grids, 0), "ratio"))) < 1e-9);
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_READONLY, &store), GW_OK);
    assert_int_equal(gw_coverage_load_row(tctx, store, id0, &stored, &sseq), GW_OK);
    assert_int_equal(sseq, seq);
    assert_true(fabs(stored.covered_m2 - row.covered_m2) < 1e-6);
    gw_store_close(store);
    assert_int_equal(gw_coverage_get(app->modules[GW_APP_COVERAGE], "no-such-grid", &row, NULL),
                     GW_ERR_NOT_FOUND);
    /* A time window changes only the incident figures. */
    json_t *w = get_json("/analysis/coverage?datetime=2030-01-01T00:00:00Z/..", 200);
    json_t *g0 = json_array_get(json_object_get(w, "grids"), 0);
    assert_int_equal(json_integer_value(json_object_get(g0, "incidents")), 0);
    assert_true(json_is_null(json_object_get(g0, "incident_share")));
    json_decref(w);
    json_decref(get_json("/analysis/coverage?datetime=yesterday", 400));
    json_decref(j);
}

static void test_one_grid(void **state)
{
    (void)state;
    json_t *all = get_json("/analysis/coverage", 200);
    /* A grid with some blind spots (almost every grid). */
    const char *id = NULL;
    size_t i;
    json_t *g;
    json_array_foreach (json_object_get(all, "grids"), i, g) {
        if (json_number_value(json_object_get(g, "blind_m2")) > 1000) {
            id = json_string_value(json_object_get(g, "id"));
            break;
        }
    }
    assert_non_null(id);
    char path[256];
    snprintf(path, sizeof path, "/analysis/coverage/%s", id);
    hf_resp r = get(path);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "application/geo+json");
    json_t *f = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    assert_non_null(f);
    assert_string_equal(json_string_value(json_object_get(f, "type")), "Feature");
    json_t *geom = json_object_get(f, "geometry");
    assert_string_equal(json_string_value(json_object_get(geom, "type")), "MultiPolygon");
    json_t *pt = json_array_get(
        json_array_get(json_array_get(json_object_get(geom, "coordinates"), 0), 0), 0);
    double lon = json_number_value(json_array_get(pt, 0)),
           lat = json_number_value(json_array_get(pt, 1));
    assert_true(lon > 110 && lon < 120 && lat > 30 && lat < 40); /* lon/lat order, RFC 7946 */
    json_t *props = json_object_get(f, "properties");
    assert_true(json_number_value(json_object_get(props, "blind_m2")) > 0);
    /* the polygons are built for this request: their count and area come with them */
    assert_true(json_integer_value(json_object_get(props, "blind_parts")) > 0);
    assert_true(json_number_value(json_object_get(props, "blind_kept_m2")) > 0);
    json_decref(f);
    json_decref(get_json("/analysis/coverage/no-such-grid", 404));
    json_decref(all);
}

static void test_dispatch_cameras(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    int fst = gw_layer_field_index(GW_LAYER_CAMERAS, "status");
    size_t r = 0;
    while (r < gw_layer_data_count(d) && strcmp(gw_layer_data_text(d, r, fst), "online")) r++;
    char id[64];
    snprintf(id, sizeof id, "%s", gw_layer_data_id(d, r));
    /* A point 10 m from the camera along its azimuth: inside its view (range >= 20). */
    double az = gw_layer_data_value(d, r, gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth")).d;
    double lat = gw_layer_data_y(d, GW_MODEL_LONLAT)[r],
           lon = gw_layer_data_x(d, GW_MODEL_LONLAT)[r];
    double dlat = 10 * cos(az * M_PI / 180) / 111320,
           dlon = 10 * sin(az * M_PI / 180) / (111320 * cos(lat * M_PI / 180));
    gw_model_release(tctx, snap);
    char path[256];
    snprintf(path, sizeof path, "/dispatch/cameras?lon=%.9f&lat=%.9f", lon + dlon, lat + dlat);
    json_t *j = get_json(path, 200);
    json_t *fs = json_object_get(j, "features");
    assert_true(json_array_size(fs) >= 1);
    int found = 0;
    double prev = -1;
    size_t i;
    json_t *f;
    json_array_foreach (fs, i, f) {
        double dist = json_number_value(
            json_object_get(json_object_get(f, "properties"), "distance_m"));
        assert_true(dist >= prev);
        prev = dist;
        if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0) {
            found = 1;
            assert_true(fabs(dist - 10) < 0.1);
        }
    }
    assert_true(found);
    json_decref(j);
    json_decref(get_json("/dispatch/cameras?lon=115.5", 400));
    json_decref(get_json("/dispatch/cameras?lon=35.2&lat=115.5", 400));
    /* Far away from everything: nobody sees it. */
    j = get_json("/dispatch/cameras?lon=100&lat=10", 200);
    assert_int_equal(json_array_size(json_object_get(j, "features")), 0);
    json_decref(j);
}

/* A camera turned into a 150 m dome in a grid's middle: the grid's figures change once the
 * listener has seen the commit, and the stored row carries the new seq. */
static void test_incremental(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *cams = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    char gid[64], cid[64];
    snprintf(gid, sizeof gid, "%s", gw_layer_data_id(grids, 0));
    snprintf(cid, sizeof cid, "%s", gw_layer_data_id(cams, 0));
    GEOSContextHandle_t h = gw_ctx_geos(tctx);
    GEOSGeometry *c = GEOSPointOnSurface_r(h, gw_layer_data_geom(grids, 0, GW_MODEL_LONLAT));
    double lon, lat;
    GEOSGeomGetX_r(h, c, &lon), GEOSGeomGetY_r(h, c, &lat);
    GEOSGeom_destroy_r(h, c);
    gw_model_release(tctx, snap);
    gw_coverage_row before, after;
    assert_int_equal(gw_coverage_get(app->modules[GW_APP_COVERAGE], gid, &before, NULL), GW_OK);
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &store), GW_OK);
    char json[512];
    snprintf(
        json, sizeof json,
        "{\"type\":\"Feature\",\"properties\":{\"fov\":360,\"range\":150,\"status\":\"online\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.10f,%.10f]}}",
        lon, lat);
    gw_edit_result er = {0};
    assert_int_equal(gw_edit_patch(store, GW_LAYER_CAMERAS, cid, json, strlen(json), NULL, &er),
                     GW_OK);
    int64_t seq = er.seq;
    gw_edit_result_free(&er);
    gw_live_kick(app->live);
    assert_int_equal(gw_live_wait(app->live, seq, 10000), 1);
    int64_t got = 0;
    assert_int_equal(gw_coverage_get(app->modules[GW_APP_COVERAGE], gid, &after, &got), GW_OK);
    assert_true(got >= seq);
    assert_true(after.covered_m2 > before.covered_m2);
    assert_true(after.cameras >= 1);
    gw_coverage_row stored;
    int64_t sseq = 0;
    assert_int_equal(gw_coverage_load_row(tctx, store, gid, &stored, &sseq), GW_OK);
    assert_int_equal(sseq, got);
    assert_true(fabs(stored.covered_m2 - after.covered_m2) < 1e-6);
    gw_store_close(store);
}

/* A second server over the same store: the stored rows are current, so it serves them at once
 * (its background thread is held for a minute and must not be needed). */
static void test_start_from_rows(void **state)
{
    (void)state;
    json_t *want = get_json("/analysis/coverage", 200);
    setenv("GW_COVERAGE_START_DELAY_MS", "60000", 1);
    gw_app *app2 = NULL;
    gw_app_opts ao = {.poll_ms = 20};
    assert_int_equal(gw_app_create(tctx, db_path, &ao, &app2), GW_OK);
    unsetenv("GW_COVERAGE_START_DELAY_MS");
    assert_true(gw_coverage_http_ready(app2->modules[GW_APP_COVERAGE]));
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1};
    gw_app_configure(app2, &o);
    gw_server *srv2 = NULL;
    assert_int_equal(gw_server_create(tctx, &o, &srv2), GW_OK);
    char keep[64];
    snprintf(keep, sizeof keep, "%s", hf_base);
    snprintf(hf_base, sizeof hf_base, "http://127.0.0.1:%u", (unsigned)gw_server_port(srv2));
    json_t *got = get_json("/analysis/coverage", 200);
    snprintf(hf_base, sizeof hf_base, "%s", keep);
    json_t *wg = json_object_get(want, "grids"), *gg = json_object_get(got, "grids");
    assert_int_equal(json_array_size(gg), json_array_size(wg));
    assert_true(json_array_size(gg) > 0);
    for (size_t i = 0; i < json_array_size(wg); i++) {
        json_t *a = json_array_get(wg, i), *b = json_array_get(gg, i);
        assert_string_equal(json_string_value(json_object_get(a, "id")),
                            json_string_value(json_object_get(b, "id")));
        const char *num[] = {"ratio", "covered_m2", "room_reach", "blind_m2"};
        for (int k = 0; k < 4; k++)
            assert_true(fabs(json_number_value(json_object_get(a, num[k])) -
                             json_number_value(json_object_get(b, num[k]))) < 1e-6);
        assert_int_equal(json_integer_value(json_object_get(a, "cameras")),
                         json_integer_value(json_object_get(b, "cameras")));
        assert_int_equal(json_integer_value(json_object_get(a, "incidents_seen")),
                         json_integer_value(json_object_get(b, "incidents_seen")));
        assert_int_equal(json_integer_value(json_object_get(a, "blind_parts")),
                         json_integer_value(json_object_get(b, "blind_parts")));
    }
    json_decref(want), json_decref(got);
    gw_server_destroy(srv2);
    gw_app_destroy(app2);
}

/* A store without coverage rows (its background computation held for 400 ms): 503 problem+json with Retry-After while the background computation runs,
 * then 200 with the change in. */
static void test_start_stale(void **state)
{
    (void)state;
    char path2[1024];
    snprintf(path2, sizeof path2, "%s", gw_test_db("cov_http_stale.db"));
    gw_store *store = hf_city(tctx, path2, 0.01, 5);
    gw_store_close(store);
    setenv("GW_COVERAGE_START_DELAY_MS", "400", 1);
    gw_app *app2 = NULL;
    gw_app_opts ao = {.poll_ms = 20};
    assert_int_equal(gw_app_create(tctx, path2, &ao, &app2), GW_OK);
    unsetenv("GW_COVERAGE_START_DELAY_MS");
    gw_server_opts o = {.db_path = path2, .port = 0, .anonymous_read = 1, .quiet = 1};
    gw_app_configure(app2, &o);
    gw_server *srv2 = NULL;
    assert_int_equal(gw_server_create(tctx, &o, &srv2), GW_OK);
    char keep[64];
    snprintf(keep, sizeof keep, "%s", hf_base);
    snprintf(hf_base, sizeof hf_base, "http://127.0.0.1:%u", (unsigned)gw_server_port(srv2));
    /* Retry-After comes with the 503. */
    hf_resp r503 = get("/analysis/coverage");
    assert_int_equal(r503.curl, CURLE_OK);
    assert_int_equal(r503.status, 503);
    assert_non_null(strcasestr(r503.hdrs.data, "Retry-After:"));
    hf_resp_free(&r503);
    json_decref(get_json("/analysis/coverage/some-grid", 503));
    int ok = 0;
    for (int i = 0; i < 3000 && !ok; i++) {
        hf_resp r = get("/analysis/coverage");
        ok = r.status == 200;
        hf_resp_free(&r);
        if (!ok) usleep(10000);
    }
    assert_true(ok);
    json_t *j = get_json("/analysis/coverage", 200);
    assert_true(json_array_size(json_object_get(j, "grids")) > 0);
    json_decref(j);
    snprintf(hf_base, sizeof hf_base, "%s", keep);
    gw_server_destroy(srv2);
    gw_app_destroy(app2);
    /* Saved by the background thread: a restart loads them. */
    assert_int_equal(gw_store_open(tctx, path2, GW_STORE_READONLY, &store), GW_OK);
    gw_model *model = NULL;
    gw_coverage *cov = NULL;
    assert_int_equal(gw_model_open(tctx, store, &model), GW_OK);
    gw_coverage_opts lo = {.min_blind_m2 = -1, .blind_spots = 1};
    gw_status st = gw_coverage_load(tctx, model, gw_model_acquire(model), store, &lo, &cov);
    if (st) fprintf(stderr, "%s\n", gw_ctx_errmsg(tctx));
    assert_int_equal(st, GW_OK);
    gw_coverage_destroy(tctx, cov);
    gw_model_close(model);
    gw_store_close(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_grids),        cmocka_unit_test(test_one_grid),
        cmocka_unit_test(test_dispatch_cameras), cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_start_from_rows),  cmocka_unit_test(test_start_stale),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
