/* test_roads_http.c — /dispatch/nearest?by=eta over real sockets with the full app on a small
 * synthetic city (which has its road network): the ranking by road travel time (ascending
 * eta_s, route_m at least the straight line, the same teams as the CLI twin would give by the
 * engine directly), the route geometry on request, by=distance unchanged, bad parameters and a point off the roads (400),
 * the roads tile layer against the road rows read from the store and decoded by GDAL's MVT
 * driver, and the graph following the road layer: the roads cleared, by=eta answers 409. */
#include "testutil.h"

#include "app.h"
#include "gridwatch/dispatch.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"
#include "gridwatch/store_roads.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"
#include "live.h"

#include <gdal.h>
#include <jansson.h>
#include <ogr_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_bbox ext;

static json_t *get_json(const char *url, long want)
{
    hf_resp r = hf_request("GET", url, NULL, NULL, 0, NULL, NULL);
    json_t *j = hf_json(&r, want, 0, url);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    GDALAllRegister();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("roads.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.03, 5);
    assert_int_equal(gw_store_extent(s, GW_LAYER_TEAMS, &ext), GW_OK);
    int64_t n = 0;
    assert_int_equal(gw_store_roads_count(s, &n), GW_OK);
    assert_true(n > 50);
    gw_store_close(s);
    gw_server_opts o = {
        .db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .threads = 2};
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

static void test_by_eta(void **state)
{
    (void)state;
    int answered = 0;
    for (int i = 0; i < 8; i++) {
        double lon = ext.minx + (ext.maxx - ext.minx) * (0.2 + 0.08 * i);
        double lat = ext.miny + (ext.maxy - ext.miny) * (0.7 - 0.05 * i);
        char url[256];
        snprintf(url, sizeof url,
                 "/dispatch/nearest?lon=%.7f&lat=%.7f&k=5&by=eta&include_stale=1&snap_max_m=5000",
                 lon, lat);
        json_t *j = get_json(url, 200);
        assert_string_equal(json_string_value(json_object_get(j, "by")), "eta");
        json_t *teams = json_object_get(j, "teams");
        assert_true(json_array_size(teams) <= 5);
        double prev = -1;
        for (size_t k = 0; k < json_array_size(teams); k++) {
            json_t *t = json_array_get(teams, k);
            double eta = json_number_value(json_object_get(t, "eta_s"));
            double rm = json_number_value(json_object_get(t, "route_m"));
            double dm = json_number_value(json_object_get(t, "distance_m"));
            assert_true(eta >= prev);
            prev = eta;
            assert_true(eta > 0 || rm < 1);
            /* by road is never shorter than the straight line between the snapped ends */
            double slack = json_number_value(json_object_get(t, "snap_m")) +
                           json_number_value(json_object_get(j, "point_snap_m")) + 0.2;
            assert_true(rm + slack >= dm);
            assert_null(json_object_get(t, "route")); /* only on request */
            answered++;
        }
        json_decref(j);
    }
    assert_true(answered >= 20);
}

static void test_route_geometry(void **state)
{
    (void)state;
    double lon = (ext.minx + ext.maxx) / 2, lat = (ext.miny + ext.maxy) / 2;
    char url[256];
    snprintf(url, sizeof url,
             "/dispatch/nearest?lon=%.7f&lat=%.7f&k=3&by=eta&route=true&include_stale=1&"
             "snap_max_m=5000",
             lon, lat);
    json_t *j = get_json(url, 200);
    json_t *teams = json_object_get(j, "teams");
    assert_true(json_array_size(teams) >= 1);
    for (size_t k = 0; k < json_array_size(teams); k++) {
        json_t *t = json_array_get(teams, k), *g = json_object_get(t, "route");
        assert_non_null(g);
        assert_string_equal(json_string_value(json_object_get(g, "type")), "LineString");
        json_t *c = json_object_get(g, "coordinates");
        assert_true(json_array_size(c) >= 2);
        /* the route's length on the ground is its route_m (planar metric vs geodesic: 1 %) */
        double len = 0;
        for (size_t i = 1; i < json_array_size(c); i++) {
            json_t *a = json_array_get(c, i - 1), *b = json_array_get(c, i);
            double dx = (json_number_value(json_array_get(b, 0)) -
                         json_number_value(json_array_get(a, 0))) *
                        111320 * cos(lat * M_PI / 180);
            double dy = (json_number_value(json_array_get(b, 1)) -
                         json_number_value(json_array_get(a, 1))) *
                        110574;
            len += sqrt(dx * dx + dy * dy);
        }
        double rm = json_number_value(json_object_get(t, "route_m"));
        assert_true(fabs(len - rm) <= 0.01 * rm + 2);
    }
    json_decref(j);
}

static void test_distance_unchanged_and_errors(void **state)
{
    (void)state;
    double lon = (ext.minx + ext.maxx) / 2, lat = (ext.miny + ext.maxy) / 2;
    char url[256];
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&k=3&include_stale=1", lon, lat);
    json_t *a = get_json(url, 200);
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&k=3&include_stale=1&by=distance",
             lon, lat);
    json_t *b = get_json(url, 200);
    assert_true(json_equal(json_object_get(a, "teams"), json_object_get(b, "teams")));
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(a, "teams"), 0), "eta_s")));
    json_decref(a), json_decref(b);
    const char *bad[] = {"by=time", "by=eta&route=maybe", "by=eta&snap_max_m=0"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&%s", lon, lat, bad[i]);
        json_t *e = get_json(url, 400);
        json_decref(e);
    }
    /* a point far from every road: 400 naming the distance */
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&by=eta&snap_max_m=1",
             ext.minx - 0.5, ext.miny - 0.5);
    json_t *e = get_json(url, 400);
    assert_non_null(strstr(json_string_value(json_object_get(e, "detail")), "snap_max_m"));
    json_decref(e);
}

/* ---- the roads tile layer ------------------------------------------------------------------- */

typedef struct rref {
    int64_t fid;
    char name[96], cls[32];
    double x0, y0, x1, y1; /* lon/lat box */
    double *pts;           /* npts lon/lat pairs */
    size_t npts;
} rref;

typedef struct rrefs {
    rref *v;
    size_t n, cap;
} rrefs;

static double wkb_f64(const unsigned char *p, int swap)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = swap ? p[7 - i] : p[i];
    double d;
    memcpy(&d, b, 8);
    return d;
}

static int on_ref(void *user, const gw_store_road *r)
{
    rrefs *R = user;
    if (R->n == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 256;
        R->v = realloc(R->v, R->cap * sizeof *R->v);
        assert_non_null(R->v);
    }
    rref *f = &R->v[R->n++];
    f->fid = r->fid;
    snprintf(f->name, sizeof f->name, "%s", r->name ? r->name : "");
    snprintf(f->cls, sizeof f->cls, "%s", r->cls);
    const unsigned char *w = r->wkb;
    int swap = w[0] == 0; /* big-endian WKB on this little-endian host */
    uint32_t n = swap ? (uint32_t)w[5] << 24 | w[6] << 16 | w[7] << 8 | w[8]
                      : (uint32_t)w[8] << 24 | w[7] << 16 | w[6] << 8 | w[5];
    f->x0 = f->y0 = INFINITY, f->x1 = f->y1 = -INFINITY;
    f->pts = malloc(2 * n * sizeof *f->pts), f->npts = n;
    assert_non_null(f->pts);
    for (uint32_t i = 0; i < n; i++) {
        double x = wkb_f64(w + 9 + 16 * i, swap), y = wkb_f64(w + 17 + 16 * i, swap);
        f->pts[2 * i] = x, f->pts[2 * i + 1] = y;
        f->x0 = fmin(f->x0, x), f->x1 = fmax(f->x1, x), f->y0 = fmin(f->y0, y),
        f->y1 = fmax(f->y1, y);
    }
    return 0;
}

/* docs/roads.md's drawing zooms, written out again: county roads from 9, township roads and
 * bridges from 11, streets from 12. */
static unsigned ref_min_zoom(const char *cls)
{
    return strcmp(cls, "county") == 0                                   ? 9
           : strcmp(cls, "township") == 0 || strcmp(cls, "bridge") == 0 ? 11
                                                                        : 12;
}

static void check_roads_tile(const rrefs *R, unsigned z, double lon, double lat)
{
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, z, &t), GW_OK);
    char url[128];
    snprintf(url, sizeof url, "/tiles/roads/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = hf_request("GET", url, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "application/vnd.mapbox-vector-tile");
    size_t len = r.body.len;
    GDALDatasetH ds = len ? hf_mvt_open(&r, t.z, t.x, t.y, "roads-tile.pbf") : NULL;
    hf_resp_free(&r);
    assert_true(ds || !len); /* an empty tile: nothing drawn */
    OGRLayerH l = ds ? GDALDatasetGetLayerByName(ds, "roads") : NULL;
    uint8_t *seen = calloc(R->n, 1);
    assert_non_null(seen);
    size_t feats = 0;
    OGRFeatureH ft;
    for (l ? OGR_L_ResetReading(l) : (void)0; l && (ft = OGR_L_GetNextFeature(l)) != NULL;
         OGR_F_Destroy(ft)) {
        int64_t fid = OGR_F_GetFieldAsInteger64(ft, OGR_F_GetFieldIndex(ft, "road"));
        size_t k = 0;
        while (k < R->n && R->v[k].fid != fid) k++;
        assert_true(k < R->n); /* a road of the layer */
        assert_true(ref_min_zoom(R->v[k].cls) <= z);
        assert_string_equal(OGR_F_GetFieldAsString(ft, OGR_F_GetFieldIndex(ft, "class")),
                            R->v[k].cls);
        int ni = OGR_F_GetFieldIndex(ft, "name");
        assert_string_equal(ni >= 0 && OGR_F_IsFieldSetAndNotNull(ft, ni)
                                ? OGR_F_GetFieldAsString(ft, ni)
                                : "",
                            R->v[k].name);
        seen[k] = 1, feats++;
    }
    if (ds) GDALClose(ds);
    gw_bbox m = gw_tile_bounds(t);
    double w, s, e, n, pad = (m.maxx - m.minx) / 8, fw, fs, fe, fn;
    gw_tile_merc_to_lonlat(m.minx, m.miny, &w, &s), gw_tile_merc_to_lonlat(m.maxx, m.maxy, &e, &n);
    gw_tile_merc_to_lonlat(m.minx - pad, m.miny - pad, &fw, &fs);
    gw_tile_merc_to_lonlat(m.maxx + pad, m.maxy + pad, &fe, &fn);
    size_t inside = 0;
    for (size_t k = 0; k < R->n; k++) {
        const rref *q = &R->v[k];
        int drawn = ref_min_zoom(q->cls) <= z;
        int in = 0; /* a vertex inside the tile: the line meets it */
        for (size_t i = 0; i < q->npts && !in; i++)
            in = q->pts[2 * i] > w && q->pts[2 * i] < e && q->pts[2 * i + 1] > s &&
                 q->pts[2 * i + 1] < n;
        if (drawn && in) {
            if (!seen[k])
                fprintf(stderr, "road %lld (%s) meets %s but is not in it\n", (long long)q->fid,
                        q->name, url);
            assert_true(seen[k]);
            inside++;
        }
        if (q->x1 < fw || q->x0 > fe || q->y1 < fs || q->y0 > fn) assert_false(seen[k]);
    }
    print_message("roads tile z%u: %zu features, %zu roads with a vertex inside\n", z, feats,
                  inside);
    if (z >= 12) assert_true(inside > 0);
    free(seen);
}

static void test_roads_tile(void **state)
{
    (void)state;
    rrefs R = {0};
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_READONLY, &s), GW_OK);
    assert_int_equal(gw_store_roads_read(s, on_ref, &R), GW_OK);
    gw_store_close(s);
    assert_true(R.n > 50);
    double lon = (ext.minx + ext.maxx) / 2, lat = (ext.miny + ext.maxy) / 2;
    for (unsigned z = 8; z <= 14; z += 2) check_roads_tile(&R, z, lon, lat);
    for (size_t k = 0; k < R.n; k++) free(R.v[k].pts);
    hf_resp r = hf_request("GET", "/tiles/roads/23/0/0.mvt", NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 404); /* out of the pyramid, as every tile route */
    hf_resp_free(&r);
    free(R.v);
}

/* Last: the roads cleared, the listener rebuilds an empty graph and by=eta is a conflict. */
static void test_no_roads_409(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    int64_t seq = 0;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_clear(s, NULL), GW_OK);
    assert_int_equal(gw_store_roads_log(s, "roads.clear", NULL, &seq), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    gw_store_close(s);
    gw_live_kick(app->live);
    assert_true(gw_live_wait(app->live, seq, 10000));
    char url[256];
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&by=eta",
             (ext.minx + ext.maxx) / 2, (ext.miny + ext.maxy) / 2);
    json_t *e = get_json(url, 409);
    assert_non_null(strstr(json_string_value(json_object_get(e, "detail")), "roads"));
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_eta),
        cmocka_unit_test(test_route_geometry),
        cmocka_unit_test(test_distance_unchanged_and_errors),
        cmocka_unit_test(test_roads_tile),
        cmocka_unit_test(test_no_roads_409),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
