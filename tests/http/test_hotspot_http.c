/* test_hotspot_http.c — /analysis/hotspots and /analysis/kde over a real socket with the full app
 * on a small synthetic city: JSON and CSV agree with the engine called directly, filters and
 * errors answer as documented, the weights cache follows grid changes, KDE comes back as a
 * GeoTIFF GDAL can open and as GeoJSON contours. */
#include "testutil.h"

#include "app.h"
#include "gridwatch/city.h"
#include "gridwatch/heatmap.h"
#include "gridwatch/tile.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"

#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;

static hf_resp get(const char *path) { return hf_request("GET", path, NULL, NULL, 0, NULL, NULL); }

static json_t *get_json(const char *path, long want)
{
    hf_resp r = get(path);
    json_t *j = hf_json(&r, want, 0, path);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("hs.sqlite"));
    gw_store_close(hf_city(tctx, db_path, 0.01, 11));
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

static void test_gistar_json_matches_engine(void **state)
{
    (void)state;
    json_t *j = get_json("/analysis/hotspots?weights=queen&value=count", 200);
    json_t *res = json_object_get(j, "results");
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(g);
    assert_int_equal(json_array_size(res), n);
    assert_int_equal(json_integer_value(json_object_get(j, "grids")), n);
    gw_weights_opts wo = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(tctx, g, &wo, &w), GW_OK);
    gw_hotspot_result *r = NULL;
    gw_hotspot_opts ho = {0};
    assert_int_equal(gw_hotspot_gistar(tctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "hot")), r->n_hot);
    assert_true(r->n_hot > 0);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(res, i);
        assert_string_equal(json_string_value(json_object_get(o, "id")), gw_layer_data_id(g, i));
        assert_int_equal(json_integer_value(json_object_get(o, "count")), (json_int_t)r->count[i]);
        json_t *z = json_object_get(o, "z");
        if (isnan(r->z[i])) assert_true(json_is_null(z));
        else assert_true(fabs(json_number_value(z) - r->z[i]) < 1e-9);
        assert_string_equal(json_string_value(json_object_get(o, "class")),
                            gw_hotspot_class_name(r->cls[i]));
    }
    gw_hotspot_result_destroy(r);
    gw_weights_destroy(w);
    gw_model_release(tctx, snap);
    json_decref(j);
}

static void test_csv_filters_errors(void **state)
{
    (void)state;
    hf_resp r = get("/analysis/hotspots?format=csv&weights=knn:6&value=per_km2&category=theft");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/csv"));
    assert_int_equal(strncmp(r.body.data, "id,count,value,z,p,class\n", 25), 0);
    size_t lines = 0;
    for (const char *p = r.body.data; *p; p++) lines += *p == '\n';
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    assert_int_equal(lines, gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_GRIDS)) + 1);
    gw_model_release(tctx, snap);
    hf_resp_free(&r);
    /* a category filter counts fewer incidents than none */
    json_t *all = get_json("/analysis/hotspots", 200),
           *theft = get_json("/analysis/hotspots?category=theft", 200);
    double na = 0, nt = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(all, "results")); i++) {
        na += json_number_value(
            json_object_get(json_array_get(json_object_get(all, "results"), i), "count"));
        nt += json_number_value(
            json_object_get(json_array_get(json_object_get(theft, "results"), i), "count"));
    }
    assert_true(nt > 0 && nt < na);
    json_decref(all);
    json_decref(theft);
    json_t *win = get_json(
        "/analysis/hotspots?datetime=2025-03-01T00:00:00Z/2025-03-31T23:59:59Z&fdr=false", 200);
    assert_true(json_is_false(json_object_get(win, "fdr")));
    json_decref(win);
    json_t *p = get_json("/analysis/hotspots?weights=hexagon", 400);
    assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "hexagon"));
    json_decref(p);
    json_decref(get_json("/analysis/hotspots?value=per_m2", 400));
    json_decref(get_json("/analysis/hotspots?colour=red", 400));
    json_decref(get_json("/analysis/hotspots?method=moran", 400));
    json_decref(get_json("/analysis/hotspots?method=lisa&permutations=0", 400));
    /* Local Moran's I: seeded, so two calls agree; quadrants on every grid with neighbours */
    json_t *l1 = get_json("/analysis/hotspots?method=lisa&value=count&permutations=199&seed=5",
                          200);
    json_t *l2 = get_json("/analysis/hotspots?method=lisa&value=count&permutations=199&seed=5",
                          200);
    assert_string_equal(json_string_value(json_object_get(l1, "method")), "lisa");
    assert_true(json_equal(json_object_get(l1, "results"), json_object_get(l2, "results")));
    json_int_t sig = 0;
    for (int k = 0; k < 4; k++)
        sig += json_integer_value(json_object_get(l1, (const char *[]){"HH", "LL", "HL", "LH"}[k]));
    assert_true(sig > 0);
    json_t *o0 = json_array_get(json_object_get(l1, "results"), 0);
    assert_true(json_is_number(json_object_get(o0, "I")) &&
                json_is_string(json_object_get(o0, "quadrant")));
    json_decref(l1);
    json_decref(l2);
    hf_resp lc = get("/analysis/hotspots?method=lisa&format=csv");
    assert_int_equal(lc.status, 200);
    assert_int_equal(strncmp(lc.body.data, "id,count,value,I,p,quadrant,class\n", 34), 0);
    hf_resp_free(&lc);
    /* nothing in the window: all values equal, nothing to tell apart */
    json_decref(
        get_json("/analysis/hotspots?datetime=1990-01-01T00:00:00Z/1990-01-02T00:00:00Z", 422));
}

/* A grid change reaches the cached weights: the new grid shows up in the next answer. */
static void test_cache_follows_grids(void **state)
{
    (void)state;
    json_t *a = get_json("/analysis/hotspots?weights=rook", 200);
    size_t n0 = json_array_size(json_object_get(a, "results"));
    json_decref(a);
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    GEOSContextHandle_t h = gw_ctx_geos(tctx);
    GEOSGeometry *geom = GEOSGeom_createRectangle_r(h, 100.0, 10.0, 100.01,
                                                    10.01); /* far away: an island */
    GEOSWKBWriter *ww = GEOSWKBWriter_create_r(h);
    size_t len;
    unsigned char *wkb = GEOSWKBWriter_write_r(h, ww, geom, &len);
    gw_value v[10] = {{GW_VAL_TEXT, "ZZ-ISLAND", 0, 0}};
    gw_feature f = {v, wkb, len, 0, 0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    GEOSFree_r(h, wkb);
    GEOSWKBWriter_destroy_r(h, ww);
    GEOSGeom_destroy_r(h, geom);
    int64_t seq = 0;
    assert_int_equal(gw_store_log_change(s, GW_LAYER_GRIDS, "insert", "ZZ-ISLAND", NULL, &seq),
                     GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    gw_store_close(s);
    gw_live_kick(app->live);
    assert_true(gw_live_wait(app->live, seq, 10000));
    json_t *b = get_json("/analysis/hotspots?weights=rook", 200);
    json_t *res = json_object_get(b, "results");
    assert_int_equal(json_array_size(res), n0 + 1);
    assert_int_equal(json_integer_value(json_object_get(b, "no_neighbours")), 1);
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *o = json_array_get(res, i);
        if (strcmp(json_string_value(json_object_get(o, "id")), "ZZ-ISLAND") == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "class")), "no_neighbours");
            assert_true(json_is_null(json_object_get(o, "z")));
        }
    }
    json_decref(b);
}

static void test_kde(void **state)
{
    (void)state;
    hf_resp r = get("/analysis/kde?cell=200&bandwidth=1500");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "image/tiff");
    assert_true(r.body.len > 100);
    const char *path = gw_test_path("kde_http.tif");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(r.body.data, 1, r.body.len, f);
    fclose(f);
    hf_resp_free(&r);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    double gt[6];
    assert_int_equal(GDALGetGeoTransform(ds, gt), CE_None);
    assert_true(gt[1] == 200 && gt[5] == -200);
    /* the raster integrates to the incident count (default extent: no edge loss) */
    int nx = GDALGetRasterXSize(ds), ny = GDALGetRasterYSize(ds);
    float *v = malloc((size_t)nx * (size_t)ny * sizeof *v);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, nx, ny, v, nx, ny,
                                  GDT_Float32, 0, 0),
                     CE_None);
    double sum = 0;
    for (size_t k = 0; k < (size_t)nx * (size_t)ny; k++) sum += v[k];
    free(v);
    GDALClose(ds);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    double n = (double)gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_INCIDENTS));
    gw_model_release(tctx, snap);
    assert_true(fabs(sum * 0.04 - n) < 0.01 * n);
    json_t *c = get_json("/analysis/kde?format=contours&cell=200&bandwidth=1500&category=theft",
                         200);
    assert_string_equal(json_string_value(json_object_get(c, "type")), "FeatureCollection");
    assert_true(json_array_size(json_object_get(c, "features")) > 0);
    json_decref(c);
    json_decref(get_json("/analysis/kde?cell=-5", 400));
    json_decref(get_json("/analysis/kde?cell=0.5&bandwidth=100", 422)); /* too many cells */
}

/* A heat map tile as RGBA (256×256×4, malloc'ed); fails the test unless it is a 200 PNG. */
static uint8_t *get_png(const char *path, char *cache, gw_buf *raw)
{
    hf_resp r = get(path);
    if (r.status != 200) fprintf(stderr, "GET %s -> %ld: %.300s\n", path, r.status, r.body.data);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "image/png");
    if (cache) hf_header(&r, "X-Tile-Cache", cache, 16);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&im, r.body.data, r.body.len));
    assert_int_equal(im.width, 256);
    assert_int_equal(im.height, 256);
    im.format = PNG_FORMAT_RGBA;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(im));
    assert_true(png_image_finish_read(&im, NULL, px, 0, NULL));
    if (raw) {
        *raw = r.body;
        gw_buf_free(&r.hdrs);
    } else {
        hf_resp_free(&r);
    }
    return px;
}

static int same_body(const gw_buf *a, const gw_buf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void test_heatmap_tiles(void **state)
{
    (void)state;
    json_t *leg = get_json("/tiles/heatmap/legend.json?min=2&max=500", 200);
    assert_int_equal(json_array_size(json_object_get(leg, "stops")), 9);
    assert_true(fabs(json_number_value(json_object_get(leg, "max")) - 500) < 1e-9);
    json_decref(leg);
    /* the densest pixel of the city at z12 (engine) is coloured in the PNG */
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    const double *lon = gw_layer_data_x(inc, GW_MODEL_LONLAT),
                 *lat = gw_layer_data_y(inc, GW_MODEL_LONLAT);
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, lon[0], lat[0], 12, &t), GW_OK);
    float *d = malloc(256 * 256 * sizeof *d);
    assert_int_equal(gw_heatmap_density(tctx, snap, 12, t.x, t.y, NULL, d, NULL), GW_OK);
    gw_model_release(tctx, snap);
    int best = 0;
    for (int k = 0; k < 256 * 256; k++) best = d[k] > d[best] ? k : best;
    char path[256], cache[16];
    snprintf(path, sizeof path, "/tiles/heatmap/12/%u/%u.png", t.x, t.y);
    gw_buf all;
    uint8_t *px = get_png(path, cache, &all);
    assert_string_equal(cache, "miss");
    assert_true(px[4 * best + 3] > 100);
    for (int k = 0; k < 256 * 256; k++)
        if (d[k] == 0) assert_int_equal(px[4 * k + 3], 0);
    free(px);
    px = get_png(path, cache, NULL);
    assert_string_equal(cache, "hit");
    free(px);
    /* a tile with no incidents is fully transparent */
    px = get_png("/tiles/heatmap/12/0/0.png", NULL, NULL);
    for (int k = 0; k < 256 * 256; k++) assert_int_equal(px[4 * k + 3], 0);
    free(px);
    /* filters change the bytes */
    char fpath[600];
    gw_buf theft;
    snprintf(fpath, sizeof fpath, "%s?category=theft", path);
    free(get_png(fpath, NULL, &theft));
    assert_false(same_body(&all, &theft));
    gw_buf_free(&theft);
    snprintf(fpath, sizeof fpath,
             "%s?datetime=2025-03-01T00:00:00Z/2025-03-31T23:59:59Z&severity_min=2", path);
    free(get_png(fpath, NULL, &theft));
    assert_false(same_body(&all, &theft));
    gw_buf_free(&theft);
    gw_buf_free(&all);
    free(d);
    /* errors as the vector tiles answer them */
    json_decref(get_json("/tiles/heatmap/a/0/0.png", 400));
    json_decref(get_json("/tiles/heatmap/23/0/0.png", 404));
    json_decref(get_json("/tiles/heatmap/2/4/0.png", 404));
    json_decref(get_json("/tiles/heatmap/2/1/1.mvt", 404));
    json_decref(get_json("/tiles/heatmap/2/1/1.png?colour=red", 400));
    json_decref(get_json("/tiles/heatmap/2/1/1.png?datetime=yesterday", 400));
    json_decref(get_json("/tiles/heatmap/2/1/1.png?severity_min=9", 400));
}

/* The heat map's TileJSON: a raster source whose tile template, filled in, gives the same PNG
 * as the heat map route asked directly with the same filter; bounds hold the incidents. */
static void test_heatmap_tilejson(void **state)
{
    (void)state;
    json_t *tj = get_json("/tiles/heatmap.json?category=theft", 200);
    assert_string_equal(json_string_value(json_object_get(tj, "tilejson")), "3.0.0");
    assert_string_equal(json_string_value(json_object_get(tj, "format")), "png");
    assert_int_equal(json_integer_value(json_object_get(tj, "tileSize")), 256);
    assert_int_equal(json_integer_value(json_object_get(tj, "maxzoom")), GW_HEATMAP_MAX_ZOOM);
    const char *tpl = json_string_value(json_array_get(json_object_get(tj, "tiles"), 0));
    assert_non_null(tpl);
    const char *rel = strstr(tpl, "/tiles/heatmap/{z}/{x}/{y}.png?category=theft");
    assert_non_null(rel);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    double x = gw_layer_data_x(inc, GW_MODEL_LONLAT)[0],
           y = gw_layer_data_y(inc, GW_MODEL_LONLAT)[0];
    gw_model_release(tctx, snap);
    json_t *bb = json_object_get(tj, "bounds");
    assert_true(json_number_value(json_array_get(bb, 0)) <= x &&
                x <= json_number_value(json_array_get(bb, 2)));
    assert_true(json_number_value(json_array_get(bb, 1)) <= y &&
                y <= json_number_value(json_array_get(bb, 3)));
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, x, y, 12, &t), GW_OK);
    char via[300], direct[300];
    snprintf(via, sizeof via, "/tiles/heatmap/12/%u/%u.png%s", t.x, t.y, strchr(rel, '?'));
    snprintf(direct, sizeof direct, "/tiles/heatmap/12/%u/%u.png?category=theft", t.x, t.y);
    gw_buf a, b;
    free(get_png(via, NULL, &a));
    free(get_png(direct, NULL, &b));
    assert_true(same_body(&a, &b));
    gw_buf_free(&a);
    gw_buf_free(&b);
    json_decref(tj);
}

/* A new incident drops its own tile (and only the tiles its kernel reaches). */
static void test_heatmap_invalidation(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    double lon = gw_layer_data_x(inc, GW_MODEL_LONLAT)[0],
           lat = gw_layer_data_y(inc, GW_MODEL_LONLAT)[0];
    gw_model_release(tctx, snap);
    gw_tile_id a, b;
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 14, &a), GW_OK);
    b = a, b.x += 3; /* 3 tiles east: far beyond a 100 m kernel */
    gw_bbox ab = gw_tile_bounds_lonlat(a);
    double nlon = (ab.minx + ab.maxx) / 2, nlat = (ab.miny + ab.maxy) / 2;
    char pa[128], pb[128], ca[16], cb[16];
    snprintf(pa, sizeof pa, "/tiles/heatmap/14/%u/%u.png", a.x, a.y);
    snprintf(pb, sizeof pb, "/tiles/heatmap/14/%u/%u.png", b.x, b.y);
    gw_buf ra, ra2;
    free(get_png(pa, NULL, &ra));
    free(get_png(pb, NULL, NULL));
    free(get_png(pb, cb, NULL));
    assert_string_equal(cb, "hit");
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    gw_value v[8] = {{GW_VAL_TEXT, "HEAT-NEW", 0, 0}};
    v[1] = (gw_value){GW_VAL_INT, NULL, 1740000000, 0};
    v[2] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
    v[3] = (gw_value){GW_VAL_INT, NULL, 3, 0};
    gw_feature f = {v, NULL, 0, nlon, nlat};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    gw_bbox box = {nlon, nlat, nlon, nlat};
    int64_t seq = 0;
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "insert", "HEAT-NEW", &box, &seq),
                     GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    gw_store_close(s);
    gw_live_kick(app->live);
    assert_true(gw_live_wait(app->live, seq, 10000));
    free(get_png(pa, ca, &ra2));
    assert_string_equal(ca, "miss");
    assert_false(same_body(&ra, &ra2));
    free(get_png(pb, cb, NULL));
    assert_string_equal(cb, "hit");
    gw_buf_free(&ra);
    gw_buf_free(&ra2);
}

/* /analysis/hotspots/evaluate: ten PAI rows trained on H1, scored on July; errors are 400s. */
static void test_evaluate(void **state)
{
    (void)state;
    json_t *j = get_json(
        "/analysis/hotspots/evaluate?train=2025-01-01T00:00:00Z/2025-06-30T23:59:59Z"
        "&test=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z&top=0.05&cell=400",
        200);
    json_t *rows = json_object_get(j, "rows");
    assert_int_equal(json_array_size(rows), GW_PAI_ROWS);
    json_t *kde = json_array_get(rows, 9);
    assert_string_equal(json_string_value(json_object_get(kde, "method")), "kde");
    assert_true(json_number_value(json_object_get(kde, "pai")) > 1);
    json_t *r1 = json_array_get(rows, 4);
    assert_string_equal(json_string_value(json_object_get(r1, "value")), "per_km2");
    assert_true(json_integer_value(json_object_get(r1, "test_total")) > 0);
    json_decref(j);
    json_decref(
        get_json("/analysis/hotspots/evaluate?test=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z",
                 400));
    json_decref(get_json(
        "/analysis/hotspots/evaluate?train=2025-07-01T00:00:00Z&test=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z",
        400));
    json_decref(get_json("/analysis/hotspots/evaluate?train=a/b&test=c/d", 400));
    json_decref(
        get_json("/analysis/hotspots/evaluate?train=2025-01-01T00:00:00Z/2025-06-30T23:59:59Z"
                 "&test=2025-07-01T00:00:00Z/2025-07-31T23:59:59Z&top=5",
                 400));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gistar_json_matches_engine),
        cmocka_unit_test(test_csv_filters_errors),
        cmocka_unit_test(test_kde),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_heatmap_tiles),
        cmocka_unit_test(test_heatmap_tilejson),
        cmocka_unit_test(test_heatmap_invalidation),
        cmocka_unit_test(test_cache_follows_grids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
