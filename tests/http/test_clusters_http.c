/* test_clusters_http.c — GET /analysis/hotspots/clusters, its cache and live upkeep, and the
 * hotspot_clusters tile layer and grid fields, over a real socket with the full app on a
 * generated city: the GeoJSON is ranked and consistent with the reporting rule (p <= alpha,
 * RR >= min_rr, grids that exist), bad options answer 400 problem+json, a new incident at the
 * top cluster's centre counts there without a rescan, and the tiles decode (GDAL's MVT driver)
 * with the layer and the grids' clusters / cluster_rr. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "clusters_http.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"

#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char db_path[1024];
static char tok[GW_TOKEN_LEN + 1];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;

static json_t *get_json(const char *path, long want)
{
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    json_t *j = hf_json(&r, want, 0, path);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("clusters.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.02, 5);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "disp", NULL, tok, NULL), GW_OK);
    gw_store_close(s);
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1};
    if (hf_app_start(tctx, NULL, &o, &app, &srv)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static void test_geojson_ranked_and_consistent(void **state)
{
    (void)state;
    hf_resp r = hf_request("GET", "/analysis/hotspots/clusters", NULL, NULL, 0, NULL, NULL);
    assert_string_equal(r.ctype, "application/geo+json");
    json_t *j = hf_json(&r, 200, 0, "clusters");
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
    const char *members[] = {"cell_m",       "max_radius_m", "bandwidth_m", "scale_reason",
                             "replications", "incidents",    "window",      "seconds"};
    for (size_t k = 0; k < sizeof members / sizeof *members; k++)
        assert_non_null(json_object_get(j, members[k]));
    assert_true(num(j, "cell_m") >= 100 && num(j, "cell_m") <= 300);
    assert_true(num(j, "incidents") > 1000);
    assert_non_null(json_string_value(json_object_get(json_object_get(j, "window"), "from")));
    json_t *fs = json_object_get(j, "features");
    size_t n = json_array_size(fs);
    assert_true(n >= 3);
    assert_int_equal(n, (size_t)num(j, "clusters"));
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    double prev_llr = INFINITY;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fs, i), *p = json_object_get(f, "properties");
        assert_int_equal(json_integer_value(json_object_get(p, "rank")), (json_int_t)i + 1);
        assert_true(num(p, "p") <= 0.05);
        assert_true(num(p, "relative_risk") >= 1.5);
        assert_true(num(p, "incidents") > num(p, "expected"));
        assert_true(num(p, "llr") <= prev_llr + 1e-9); /* ranked by the likelihood ratio */
        prev_llr = num(p, "llr");
        json_t *geom = json_object_get(f, "geometry");
        assert_string_equal(json_string_value(json_object_get(geom, "type")), "Polygon");
        json_t *ring = json_array_get(json_object_get(geom, "coordinates"), 0);
        assert_int_equal(json_array_size(ring), 49);
        assert_true(json_equal(json_array_get(ring, 0), json_array_get(ring, 48)));
        json_t *grids = json_object_get(p, "grids");
        assert_true(json_array_size(grids) >= 1);
        for (size_t k = 0; k < json_array_size(grids); k++)
            assert_true(gw_layer_data_find(g, json_string_value(json_array_get(grids, k))) >= 0);
        assert_int_equal(json_array_size(json_object_get(p, "series")), (size_t)num(j, "steps"));
        const char *trend = json_string_value(json_object_get(p, "trend"));
        assert_non_null(trend);
        assert_true(strstr("new intensifying persistent diminishing sporadic", trend) != NULL);
        assert_true(json_is_boolean(json_object_get(p, "recent")));
        assert_int_equal(json_array_size(json_object_get(p, "centre")), 2);
    }
    gw_model_release(tctx, snap);
    json_decref(j);
    /* the same options again: from the cache */
    gw_clusters_stats s0, s1;
    gw_clusters_http_stats(app->modules[GW_APP_CLUSTERS], &s0);
    j = get_json("/analysis/hotspots/clusters", 200);
    assert_string_equal(json_string_value(json_object_get(j, "cache")), "hit");
    json_decref(j);
    gw_clusters_http_stats(app->modules[GW_APP_CLUSTERS], &s1);
    assert_int_equal(s1.scans, s0.scans);
    /* other options: a scan of their own, then cached as well */
    j = get_json("/analysis/hotspots/clusters?cell=200&replications=19&seed=7&category=theft", 200);
    for (size_t i = 0; i < json_array_size(json_object_get(j, "features")); i++) {
        json_t *p = json_object_get(json_array_get(json_object_get(j, "features"), i),
                                    "properties");
        assert_true(num(p, "p") <= 0.05);
    }
    assert_true(num(j, "cell_m") == 200);
    json_decref(j);
    j = get_json("/analysis/hotspots/clusters?cell=200&replications=19&seed=7&category=theft", 200);
    assert_string_equal(json_string_value(json_object_get(j, "cache")), "hit");
    json_decref(j);
}

static void test_bad_parameters_are_400(void **state)
{
    (void)state;
    const char *bad[] = {"cell=abc",         "cell=3",        "max_radius=-5",  "bandwidth=0",
                         "min_rr=0.5",       "alpha=2",       "replications=0", "steps=1",
                         "seed=-1",          "recent_days=x", "severity_min=9", "from=yesterday",
                         "datetime=garbage", "weights=queen", "nonsense=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[128];
        snprintf(path, sizeof path, "/analysis/hotspots/clusters?%s", bad[i]);
        hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
        assert_string_equal(r.ctype, "application/problem+json");
        json_t *j = hf_json(&r, 400, 0, path);
        assert_non_null(j);
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        const char *detail = json_string_value(json_object_get(j, "detail"));
        assert_non_null(detail);
        if (!strstr(detail, key))
            fail_msg("%s: detail '%s' does not name the parameter", path, detail);
        json_decref(j);
    }
}

/* The top cluster of the default run: centre, incidents, grid ids. */
static json_t *top_cluster(json_t **doc)
{
    *doc = get_json("/analysis/hotspots/clusters", 200);
    json_t *f = json_array_get(json_object_get(*doc, "features"), 0);
    assert_non_null(f);
    return json_object_get(f, "properties");
}

static void test_new_incident_updates_without_rescan(void **state)
{
    (void)state;
    json_t *doc;
    json_t *p = top_cluster(&doc);
    double lon = json_number_value(json_array_get(json_object_get(p, "centre"), 0)),
           lat = json_number_value(json_array_get(json_object_get(p, "centre"), 1));
    double before = num(p, "incidents"), scans = num(doc, "scans");
    json_int_t adds = json_integer_value(json_object_get(doc, "incremental_updates"));
    gw_clusters_stats s0, s1;
    gw_clusters_http_stats(app->modules[GW_APP_CLUSTERS], &s0);
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"id\":\"cl-test-1\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[%.7f,%.7f]},\"properties\":{\"category\":\"theft\","
             "\"severity\":3,\"occurred_at\":\"2025-06-01T12:00:00Z\"}}",
             lon, lat);
    hf_resp r = hf_request("POST", "/collections/incidents/items", tok, body, strlen(body),
                           "application/geo+json", NULL);
    assert_int_equal(r.status, 201);
    char seq[32];
    assert_non_null(hf_header(&r, "Gridwatch-Change-Seq", seq, sizeof seq));
    hf_resp_free(&r);
    /* the write answers once it is committed; the model and its listeners follow within ~100 ms */
    assert_true(gw_live_wait(app->live, strtoll(seq, NULL, 10), 5000));
    json_decref(doc);
    p = top_cluster(&doc);
    assert_true(num(p, "incidents") == before + 1);
    assert_string_equal(json_string_value(json_object_get(doc, "cache")), "hit");
    assert_true(num(doc, "scans") == scans);
    assert_int_equal(json_integer_value(json_object_get(doc, "incremental_updates")), adds + 1);
    gw_clusters_http_stats(app->modules[GW_APP_CLUSTERS], &s1);
    assert_int_equal(s1.scans, s0.scans);
    assert_true(s1.incremental >= s0.incremental + 1);
    json_decref(doc);
}

/* ---- tiles ------------------------------------------------------------------------------------ */

static gw_tile_id tile_at(double lon, double lat, uint32_t z)
{
    double n = ldexp(1, (int)z), la = lat * M_PI / 180;
    return (gw_tile_id){z, (uint32_t)floor((lon + 180) / 360 * n),
                        (uint32_t)floor((1 - log(tan(la) + 1 / cos(la)) / M_PI) / 2 * n)};
}

typedef struct tfeat {
    long long rank, clusters;
    double rr, cluster_rr, incidents;
    char trend[32], id[64];
    int has_clusters, has_rr, polygon;
} tfeat;

/* The features of `layer` in a tile response, decoded by GDAL's MVT driver; returns the count. */
static int decode(const hf_resp *r, gw_tile_id t, const char *layer, tfeat *out, int cap)
{
    if (r->status == 204) return 0;
    assert_int_equal(r->status, 200);
    const char *path = gw_test_path("cluster-tile.pbf");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r->body.data, 1, r->body.len, f), r->body.len);
    fclose(f);
    char ox[32], oy[32], oz[32];
    snprintf(oz, sizeof oz, "Z=%u", t.z), snprintf(ox, sizeof ox, "X=%u", t.x);
    snprintf(oy, sizeof oy, "Y=%u", t.y);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, oz, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, layer);
    int n = 0;
    OGRFeatureH ft;
    while (l && n < cap && (ft = OGR_L_GetNextFeature(l)) != NULL) {
        tfeat *e = &out[n++];
        memset(e, 0, sizeof *e);
        int i;
#define FIELD(name) ((i = OGR_F_GetFieldIndex(ft, name)) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
        if (FIELD("rank")) e->rank = OGR_F_GetFieldAsInteger64(ft, i);
        if (FIELD("relative_risk")) e->rr = OGR_F_GetFieldAsDouble(ft, i);
        if (FIELD("incidents")) e->incidents = OGR_F_GetFieldAsDouble(ft, i);
        if (FIELD("trend"))
            snprintf(e->trend, sizeof e->trend, "%s", OGR_F_GetFieldAsString(ft, i));
        if (FIELD("id")) snprintf(e->id, sizeof e->id, "%s", OGR_F_GetFieldAsString(ft, i));
        if (FIELD("clusters")) e->has_clusters = 1, e->clusters = OGR_F_GetFieldAsInteger64(ft, i);
        if (FIELD("cluster_rr")) e->has_rr = 1, e->cluster_rr = OGR_F_GetFieldAsDouble(ft, i);
#undef FIELD
        OGRGeometryH g = OGR_F_GetGeometryRef(ft);
        OGRwkbGeometryType gt = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        e->polygon = gt == wkbPolygon || gt == wkbMultiPolygon;
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
    return n;
}

static void test_tiles_carry_clusters(void **state)
{
    (void)state;
    json_t *doc;
    json_t *p = top_cluster(&doc);
    double lon = json_number_value(json_array_get(json_object_get(p, "centre"), 0)),
           lat = json_number_value(json_array_get(json_object_get(p, "centre"), 1));
    const char *grid0 = json_string_value(json_array_get(json_object_get(p, "grids"), 0));
    double rr = num(p, "relative_risk"), incidents = num(p, "incidents");
    gw_tile_id t = tile_at(lon, lat, 13);
    static tfeat fs[4000];
    const char *layers[] = {"hotspot_clusters", "city"};
    for (int li = 0; li < 2; li++) {
        char path[128];
        snprintf(path, sizeof path, "/tiles/%s/%u/%u/%u.mvt", layers[li], t.z, t.x, t.y);
        hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
        int n = decode(&r, t, "hotspot_clusters", fs, 4000), found = 0;
        hf_resp_free(&r);
        for (int i = 0; i < n; i++) {
            assert_true(fs[i].polygon);
            assert_true(fs[i].rank >= 1);
            assert_true(fs[i].trend[0] != '\0');
            if (fs[i].rank == 1) {
                found = 1;
                assert_true(fabs(fs[i].rr - rr) < 0.011);
                assert_true(fs[i].incidents == incidents);
            }
        }
        if (!found) fail_msg("%s: no rank-1 cluster among %d features", path, n);
    }
    char path[128];
    snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    int n = decode(&r, t, "grids", fs, 4000), found = 0;
    hf_resp_free(&r);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        assert_true(fs[i].has_clusters);
        assert_true(fs[i].has_rr == (fs[i].clusters > 0));
        if (strcmp(fs[i].id, grid0) == 0) {
            found = 1;
            assert_true(fs[i].clusters >= 1);
            assert_true(fs[i].cluster_rr >= rr - 0.011);
        }
    }
    if (!found) fail_msg("grid %s of the top cluster not in tile %s", grid0, path);
    json_decref(doc);
    /* TileJSON lists the layer and the fields */
    json_t *tj = get_json("/tiles/city.json", 200);
    char *s = json_dumps(tj, JSON_COMPACT);
    assert_non_null(strstr(s, "\"hotspot_clusters\""));
    assert_non_null(strstr(s, "\"cluster_rr\""));
    free(s);
    json_decref(tj);
}

int main(void)
{
    GDALAllRegister();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geojson_ranked_and_consistent),
        cmocka_unit_test(test_bad_parameters_are_400),
        cmocka_unit_test(test_tiles_carry_clusters),
        cmocka_unit_test(test_new_incident_updates_without_rescan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
