/* test_pyramid.c — `gridwatch tiles` (the offline MBTiles pyramid) against the live server on the
 * same database: every tile of the file, gunzipped, is byte for byte the tile GET
 * /tiles/city/{z}/{x}/{y}.mvt answers (and every tile of the range the file leaves out is a 204
 * there); each tile is decoded by GDAL's MVT driver to check that the grids carry coverage_ratio
 * and gi_bin, blind_spots and camera_views hold features, and that the `json` metadata's
 * vector_layers zooms and tilestats counts and ranges are what the tiles hold; GDAL's MBTiles
 * driver reads the file back with those layers.  Pyramids of one layer (grids; hotspot_clusters),
 * which start only the analysis those layers draw, are the live tiles of that layer too, and the
 * cluster scan kept in the store by the first run is, field for field, a fresh scan. */
#include "testutil.h"

#include "app.h"
#include "cluster_store.h"
#include "clusters_http.h"
#include "coverage_http.h"
#include "reach_http.h"
#include "reach_store.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"
#include "tiles_http.h"

#include <cpl_vsi.h>
#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <ogr_api.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define WAIT_MS 180000
#define Z0 12
#define Z1 15
#define NL 8 /* tile layers of `city` */

static const char *const layer_names[NL] = {"grids",       "police_rooms",    "cameras",
                                            "teams",       "incidents",       "camera_views",
                                            "blind_spots", "hotspot_clusters"};

static char db_path[1024], mb_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_bbox box; /* the lon/lat box rendered */

/* `gridwatch tiles db out --layers layers` over the box, Z0-Z1. */
static void make_pyramid_of(const char *db, const char *layers, const char *out)
{
    char cmd[4096], log[1024];
    unlink(out);
    snprintf(log, sizeof log, "%s", gw_test_path("pyramid.log"));
    snprintf(cmd, sizeof cmd,
             "GW_PROGRESS=0 '%s' tiles '%s' '%s' --layers %s --zoom %d-%d "
             "--bbox %.6f,%.6f,%.6f,%.6f --threads 2 >'%s' 2>&1",
             GW_BINARY, db, out, layers, Z0, Z1, box.minx, box.miny, box.maxx, box.maxy, log);
    int rc = system(cmd);
    if (rc != 0) {
        char cat[1100];
        snprintf(cat, sizeof cat, "cat '%s' >&2", log);
        (void)!system(cat);
    }
    assert_int_equal(rc, 0);
}

static void make_pyramid(const char *layers, const char *out)
{
    make_pyramid_of(db_path, layers, out);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("pyramid.sqlite"));
    snprintf(mb_path, sizeof mb_path, "%s", gw_test_path("pyramid.mbtiles"));
    unlink(mb_path);
    gw_store *st = hf_city(tctx, db_path, 0.01, 5);
    gw_bbox ext;
    assert_int_equal(gw_store_extent(st, GW_LAYER_GRIDS, &ext), GW_OK);
    gw_store_close(st);
    double cx = (ext.minx + ext.maxx) / 2, cy = (ext.miny + ext.maxy) / 2;
    box = (gw_bbox){cx - 0.04, cy - 0.03, cx + 0.04, cy + 0.03};
    /* the pyramid first, on its own: it computes and stores the coverage and the cluster scan
     * as the server would */
    make_pyramid("city", mb_path);
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .threads = 2, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    for (int i = 0; i < 3000 && !gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]); i++)
        usleep(10000);
    assert_true(gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]));
    assert_true(gw_tiles_fields_wait(app->tiles, WAIT_MS));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* ---- reading the file ------------------------------------------------------------------------ */

typedef struct tile {
    gw_tile_id id;
    uint8_t *raw;
    size_t len;
} tile;

static uint8_t *gunzip(const void *gz, size_t n, size_t *len)
{
    z_stream zs = {0};
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    size_t cap = n * 8 + 1024;
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)gz, zs.avail_in = (uInt)n;
    int rc;
    do {
        if (zs.total_out == cap) out = realloc(out, cap *= 2);
        zs.next_out = out + zs.total_out, zs.avail_out = (uInt)(cap - zs.total_out);
        rc = inflate(&zs, Z_FINISH);
    } while (rc == Z_BUF_ERROR || (rc == Z_OK && zs.avail_out == 0));
    assert_int_equal(rc, Z_STREAM_END);
    *len = zs.total_out;
    inflateEnd(&zs);
    return out;
}

static tile *read_tiles_of(const char *path, size_t *n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT zoom_level, tile_column, tile_row, tile_data "
                                        "FROM tiles ORDER BY 1, 2, 3",
                                        -1, &q, NULL),
                     SQLITE_OK);
    tile *v = NULL;
    size_t k = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        v = realloc(v, (k + 1) * sizeof *v);
        uint32_t z = (uint32_t)sqlite3_column_int(q, 0);
        v[k].id = (gw_tile_id){z, (uint32_t)sqlite3_column_int64(q, 1),
                               (uint32_t)((1u << z) - 1 - (uint32_t)sqlite3_column_int64(q, 2))};
        const void *b = sqlite3_column_blob(q, 3);
        size_t bl = (size_t)sqlite3_column_bytes(q, 3);
        assert_true(bl > 18 && ((const uint8_t *)b)[0] == 0x1f && ((const uint8_t *)b)[1] == 0x8b);
        v[k].raw = gunzip(b, bl, &v[k].len);
        k++;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    *n = k;
    return v;
}

static tile *read_tiles(size_t *n) { return read_tiles_of(mb_path, n); }

static json_t *read_json_meta(void)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(mb_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM metadata WHERE name = 'json'", -1,
                                        &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    json_t *j = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_non_null(j);
    return j;
}

static void free_tiles(tile *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].raw);
    free(v);
}

/* ---- 1. the pyramid's tiles are the live tiles ------------------------------------------------ */

/* Every tile of v is the server's /tiles/{route}/z/x/y.mvt, and every other tile of the range
 * over the box is empty there; returns how many zooms hold tiles. */
static int compare_with_server(const char *route, tile *v, size_t n)
{
    int per_zoom[Z1 + 1] = {0}, zooms = 0;
    for (size_t i = 0; i < n; i++) {
        gw_tile_id t = v[i].id;
        assert_true(t.z >= Z0 && t.z <= Z1);
        per_zoom[t.z]++;
        char path[128];
        snprintf(path, sizeof path, "/tiles/%s/%u/%u/%u.mvt", route, t.z, t.x, t.y);
        hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
        assert_int_equal(r.status, 200);
        if (r.body.len != v[i].len || memcmp(r.body.data, v[i].raw, v[i].len) != 0)
            fail_msg("tile %s: %zu bytes in the MBTiles, %zu from the server", path, v[i].len,
                     r.body.len);
        hf_resp_free(&r);
    }
    for (int z = Z0; z <= Z1; z++) zooms += per_zoom[z] > 0;
    /* every other tile of the range over the box is empty on the server too */
    size_t empty = 0;
    for (uint32_t z = Z0; z <= Z1; z++) {
        gw_tile_id lo, hi;
        assert_int_equal(gw_tile_from_lonlat(tctx, box.minx, box.maxy, z, &lo), GW_OK);
        assert_int_equal(gw_tile_from_lonlat(tctx, box.maxx, box.miny, z, &hi), GW_OK);
        for (uint32_t x = lo.x; x <= hi.x; x++)
            for (uint32_t y = lo.y; y <= hi.y; y++) {
                int in = 0;
                for (size_t i = 0; i < n && !in; i++)
                    in = v[i].id.z == z && v[i].id.x == x && v[i].id.y == y;
                if (in) continue;
                char path[128];
                snprintf(path, sizeof path, "/tiles/%s/%u/%u/%u.mvt", route, z, x, y);
                hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
                if (r.status != 204)
                    fail_msg("tile %s left out of the MBTiles: %ld", path, r.status);
                hf_resp_free(&r);
                empty++;
            }
    }
    print_message("pyramid of %s: %zu tiles identical to the server's, %zu empty on both\n", route,
                  n, empty);
    return zooms;
}

static void test_every_tile_is_the_live_tile(void **state)
{
    (void)state;
    size_t n = 0;
    tile *v = read_tiles(&n);
    assert_int_equal(compare_with_server("city", v, n), Z1 - Z0 + 1);
    free_tiles(v, n);
}

/* ---- 2. decoded by GDAL: fields, layers, metadata, tilestats ---------------------------------- */

#define MAXIDS 200000
typedef struct layer_seen {
    uint32_t zmin, zmax;
    long long *ids; /* distinct mvt_id values */
    size_t nids;
    size_t feats, with_ratio, with_bin, with_clusters;
    double rmin, rmax; /* coverage_ratio range */
} layer_seen;

static void add_id(layer_seen *s, long long id)
{
    for (size_t i = 0; i < s->nids; i++)
        if (s->ids[i] == id) return;
    assert_true(s->nids < MAXIDS);
    s->ids[s->nids++] = id;
}

static void decode_tile(const tile *t, layer_seen *ls)
{
    const char *mem = "/vsimem/pyramid_tile.pbf";
    VSILFILE *f = VSIFileFromMemBuffer(mem, (GByte *)t->raw, (vsi_l_offset)t->len, FALSE);
    assert_non_null(f);
    VSIFCloseL(f);
    char ox[32], oy[32], oz[32];
    snprintf(oz, sizeof oz, "Z=%u", t->id.z);
    snprintf(ox, sizeof ox, "X=%u", t->id.x);
    snprintf(oy, sizeof oy, "Y=%u", t->id.y);
    /* CLIP=NO: the features in the tile buffer count too (GDAL drops them by default) */
    const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, oz, "CLIP=NO", NULL};
    GDALDatasetH ds = GDALOpenEx(mem, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    for (int li = 0; li < NL; li++) {
        OGRLayerH l = GDALDatasetGetLayerByName(ds, layer_names[li]);
        if (!l) continue;
        layer_seen *s = &ls[li];
        OGRFeatureH ft;
        size_t k = 0;
        OGR_L_ResetReading(l);
        while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
            k++, s->feats++;
            int i = OGR_F_GetFieldIndex(ft, "mvt_id");
            if (i >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
                add_id(s, OGR_F_GetFieldAsInteger64(ft, i));
            if (li == 0) {
                if ((i = OGR_F_GetFieldIndex(ft, "coverage_ratio")) >= 0 &&
                    OGR_F_IsFieldSetAndNotNull(ft, i)) {
                    double r = OGR_F_GetFieldAsDouble(ft, i);
                    s->rmin = s->with_ratio ? fmin(s->rmin, r) : r;
                    s->rmax = s->with_ratio ? fmax(s->rmax, r) : r;
                    s->with_ratio++;
                }
                if ((i = OGR_F_GetFieldIndex(ft, "gi_bin")) >= 0 &&
                    OGR_F_IsFieldSetAndNotNull(ft, i))
                    s->with_bin++;
                if ((i = OGR_F_GetFieldIndex(ft, "clusters")) >= 0 &&
                    OGR_F_IsFieldSetAndNotNull(ft, i) && OGR_F_GetFieldAsInteger(ft, i) > 0)
                    s->with_clusters++;
            }
            OGR_F_Destroy(ft);
        }
        if (k) {
            s->zmin = t->id.z < s->zmin ? t->id.z : s->zmin;
            s->zmax = t->id.z > s->zmax ? t->id.z : s->zmax;
        }
    }
    GDALClose(ds);
    VSIUnlink(mem);
}

static json_t *find_by(json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach (arr, i, o)
        if (strcmp(json_string_value(json_object_get(o, key)), name) == 0) return o;
    return NULL;
}

static void test_gdal_reads_fields_metadata_tilestats(void **state)
{
    (void)state;
    size_t n = 0;
    tile *v = read_tiles(&n);
    layer_seen ls[NL];
    memset(ls, 0, sizeof ls);
    for (int i = 0; i < NL; i++) ls[i].zmin = UINT32_MAX, ls[i].ids = malloc(MAXIDS * 8);
    for (size_t i = 0; i < n; i++) decode_tile(&v[i], ls);
    /* the grids carry the analysis the style colours them by */
    assert_true(ls[0].feats > 0);
    assert_int_equal(ls[0].with_ratio, ls[0].feats);
    assert_int_equal(ls[0].with_bin, ls[0].feats);
    /* the layers the server adds at high zoom are there, at their zooms only */
    assert_true(ls[5].feats > 0 && ls[5].zmin == 15); /* camera_views */
    assert_true(ls[6].feats > 0 && ls[6].zmin == 13); /* blind_spots */
    json_t *j = read_json_meta();
    json_t *vl = json_object_get(j, "vector_layers"), *ts = json_object_get(j, "tilestats");
    json_t *tl = json_object_get(ts, "layers");
    size_t present = 0;
    for (int li = 0; li < NL; li++) {
        json_t *e = find_by(vl, "id", layer_names[li]), *t = find_by(tl, "layer", layer_names[li]);
        if (!ls[li].feats) { /* no tile holds it: not listed */
            assert_null(e);
            assert_null(t);
            continue;
        }
        present++;
        assert_non_null(e);
        assert_non_null(t);
        assert_int_equal(json_integer_value(json_object_get(e, "minzoom")), ls[li].zmin);
        assert_int_equal(json_integer_value(json_object_get(e, "maxzoom")), ls[li].zmax);
        if ((size_t)json_integer_value(json_object_get(t, "count")) != ls[li].nids)
            fail_msg("%s: tilestats count %lld, %zu distinct feature ids in the tiles",
                     layer_names[li], json_integer_value(json_object_get(t, "count")), ls[li].nids);
        json_t *attrs = json_object_get(t, "attributes");
        assert_int_equal(json_integer_value(json_object_get(t, "attributeCount")),
                         json_array_size(attrs));
        if (li == 0) {
            assert_string_equal(json_string_value(json_object_get(t, "geometry")), "Polygon");
            json_t *a = find_by(attrs, "attribute", "coverage_ratio");
            assert_non_null(a);
            assert_string_equal(json_string_value(json_object_get(a, "type")), "number");
            assert_float_equal(json_number_value(json_object_get(a, "min")), ls[0].rmin, 1e-9);
            assert_float_equal(json_number_value(json_object_get(a, "max")), ls[0].rmax, 1e-9);
            a = find_by(attrs, "attribute", "id"); /* one distinct id per grid */
            assert_int_equal(json_integer_value(json_object_get(a, "count")), ls[0].nids);
            assert_int_equal(json_array_size(json_object_get(a, "values")),
                             ls[0].nids < 100 ? ls[0].nids : 100);
        }
    }
    assert_int_equal(json_integer_value(json_object_get(ts, "layerCount")), present);
    assert_int_equal(json_array_size(vl), present);
    /* GDAL's MBTiles driver lists those layers, and the grids' analysis fields */
    const char *drivers[] = {"MBTiles", NULL};
    GDALDatasetH ds = GDALOpenEx(mb_path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    assert_non_null(ds);
    assert_int_equal(GDALDatasetGetLayerCount(ds), present);
    OGRLayerH g = GDALDatasetGetLayerByName(ds, "grids");
    assert_non_null(g);
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(g);
    assert_true(OGR_FD_GetFieldIndex(fd, "coverage_ratio") >= 0);
    assert_true(OGR_FD_GetFieldIndex(fd, "gi_bin") >= 0);
    assert_true(OGR_L_GetFeatureCount(g, 1) > 0);
    GDALClose(ds);
    for (int i = 0; i < NL; i++) free(ls[i].ids);
    json_decref(j);
    free_tiles(v, n);
}

/* ---- 3. pyramids of one layer, and the kept cluster scan ----------------------------------- */

/* A pyramid of grids alone (coverage, Gi*, response and cluster fields; no dispatch, events,
 * blind spots or per-incident coverage pass) holds the live grid tiles. */
static void test_grids_only_pyramid_is_the_live_grid_tiles(void **state)
{
    (void)state;
    char out[1024];
    snprintf(out, sizeof out, "%s", gw_test_path("pyramid_grids.mbtiles"));
    make_pyramid("grids", out);
    size_t n = 0;
    tile *v = read_tiles_of(out, &n);
    assert_int_equal(compare_with_server("grids", v, n), Z1 - Z0 + 1);
    layer_seen ls[NL];
    memset(ls, 0, sizeof ls);
    for (int i = 0; i < NL; i++) ls[i].zmin = UINT32_MAX, ls[i].ids = malloc(MAXIDS * 8);
    for (size_t i = 0; i < n; i++) decode_tile(&v[i], ls);
    assert_true(ls[0].feats > 0);
    assert_int_equal(ls[0].with_ratio, ls[0].feats); /* the coverage was loaded */
    assert_int_equal(ls[0].with_bin, ls[0].feats);   /* and Gi* ran */
    assert_true(ls[0].with_clusters > 0);            /* and the cluster fields are there */
    for (int i = 1; i < NL; i++) assert_int_equal(ls[i].feats, 0);
    for (int i = 0; i < NL; i++) free(ls[i].ids);
    free_tiles(v, n);
    unlink(out);
}

/* A grids-only pyramid of a database without current coverage rows: the model is loaded again
 * with the cameras and police rooms and the coverage computed (a first run leaves them out). */
static void test_grids_only_pyramid_computes_missing_coverage(void **state)
{
    (void)state;
    char db2[1024], out[1024];
    snprintf(db2, sizeof db2, "%s", gw_test_path("pyramid_fresh.sqlite"));
    snprintf(out, sizeof out, "%s", gw_test_path("pyramid_fresh.mbtiles"));
    gw_store_close(hf_city(tctx, db2, 0.01, 5)); /* the same city, nothing computed yet */
    make_pyramid_of(db2, "grids", out);
    size_t n = 0;
    tile *v = read_tiles_of(out, &n);
    assert_true(n > 0);
    layer_seen ls[NL];
    memset(ls, 0, sizeof ls);
    for (int i = 0; i < NL; i++) ls[i].zmin = UINT32_MAX, ls[i].ids = malloc(MAXIDS * 8);
    for (size_t i = 0; i < n; i++) decode_tile(&v[i], ls);
    assert_true(ls[0].feats > 0);
    assert_int_equal(ls[0].with_ratio, ls[0].feats);
    assert_true(ls[0].rmax > 0);
    /* the same grids as the first database's pyramid, whose coverage was stored */
    size_t n1 = 0;
    char first[1024];
    snprintf(first, sizeof first, "%s", gw_test_path("pyramid_grids2.mbtiles"));
    make_pyramid("grids", first);
    tile *w = read_tiles_of(first, &n1);
    assert_int_equal(n1, n);
    for (size_t i = 0; i < n; i++) {
        assert_true(v[i].id.z == w[i].id.z && v[i].id.x == w[i].id.x && v[i].id.y == w[i].id.y);
        assert_true(v[i].len == w[i].len && memcmp(v[i].raw, w[i].raw, v[i].len) == 0);
    }
    for (int i = 0; i < NL; i++) free(ls[i].ids);
    free_tiles(v, n);
    free_tiles(w, n1);
    unlink(out), unlink(first);
}

/* Asking for hotspot_clusters alone still gets the clusters (the scan, or its stored result,
 * without coverage or Gi*), the live server's. */
static void test_cluster_layer_pyramid_has_the_clusters(void **state)
{
    (void)state;
    char out[1024];
    snprintf(out, sizeof out, "%s", gw_test_path("pyramid_clusters.mbtiles"));
    make_pyramid("hotspot_clusters", out);
    size_t n = 0;
    tile *v = read_tiles_of(out, &n);
    assert_true(n > 0);
    assert_true(compare_with_server("hotspot_clusters", v, n) > 0);
    layer_seen ls[NL];
    memset(ls, 0, sizeof ls);
    for (int i = 0; i < NL; i++) ls[i].zmin = UINT32_MAX, ls[i].ids = malloc(MAXIDS * 8);
    for (size_t i = 0; i < n; i++) decode_tile(&v[i], ls);
    assert_true(ls[7].feats > 0 && ls[7].nids > 0);
    for (int i = 0; i < 7; i++) assert_int_equal(ls[i].feats, 0);
    for (int i = 0; i < NL; i++) free(ls[i].ids);
    free_tiles(v, n);
    unlink(out);
}

/* The cluster scan the pyramid kept in the store is a fresh scan's result, every field; the
 * server read it instead of scanning. */
static void test_kept_cluster_scan_is_a_fresh_scan(void **state)
{
    (void)state;
    gw_clusters_stats cs;
    gw_clusters_http_stats(app->modules[GW_APP_CLUSTERS], &cs);
    assert_int_equal(cs.loaded, 1);
    assert_int_equal(cs.scans, 0);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    gw_store *st = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_READONLY, &st), GW_OK);
    int srid = gw_model_metric_srid(gw_live_model(app->live));
    gw_cluster_result *kept = NULL, *fresh = NULL;
    assert_int_equal(cq_store_load(tctx, st, snap, srid, &kept), GW_OK);
    gw_cluster_opts o = {.metric_srid = srid};
    assert_int_equal(gw_clusters_find(tctx, snap, NULL, &o, &fresh), GW_OK);
    assert_true(fresh->n > 0);
    assert_int_equal(kept->n, fresh->n);
    assert_int_equal(kept->grid_count, fresh->grid_count);
    assert_int_equal(kept->steps, fresh->steps);
    assert_int_equal(kept->from, fresh->from);
    assert_int_equal(kept->to, fresh->to);
    assert_int_equal(kept->population, fresh->population);
    assert_string_equal(kept->scale_reason, fresh->scale_reason);
    assert_true(kept->cell == fresh->cell && kept->max_radius == fresh->max_radius &&
                kept->bandwidth == fresh->bandwidth && kept->incidents == fresh->incidents);
    assert_memory_equal(kept->grid_clusters, fresh->grid_clusters,
                        fresh->grid_count * sizeof *fresh->grid_clusters);
    assert_memory_equal(kept->grid_max_rr, fresh->grid_max_rr,
                        fresh->grid_count * sizeof *fresh->grid_max_rr);
    for (size_t i = 0; i < fresh->n; i++) {
        const gw_cluster *a = &kept->c[i], *b = &fresh->c[i];
        assert_int_equal(a->rank, b->rank);
        assert_int_equal(a->trend, b->trend);
        assert_int_equal(a->recent, b->recent);
        assert_true(a->x == b->x && a->y == b->y && a->radius == b->radius &&
                    a->incidents == b->incidents && a->expected == b->expected && a->rr == b->rr &&
                    a->llr == b->llr && a->p == b->p);
        assert_memory_equal(&a->lon, &b->lon, sizeof a->lon); /* NaN-safe */
        assert_memory_equal(&a->trend_z, &b->trend_z, sizeof a->trend_z);
        assert_memory_equal(&a->recent_p, &b->recent_p, sizeof a->recent_p);
        assert_int_equal(a->n_grids, b->n_grids);
        assert_memory_equal(a->grids, b->grids, b->n_grids * sizeof *b->grids);
        assert_memory_equal(a->series, b->series, (size_t)fresh->steps * sizeof *b->series);
    }
    gw_cluster_result_destroy(kept);
    gw_cluster_result_destroy(fresh);
    gw_store_close(st);
    gw_model_release(tctx, snap);
}

/* The road reach shares the pyramid computed without polygons and kept in the store are the
 * server's, computed with them, bit for bit; a kept copy that does not decode is not used. */
static void test_kept_reach_shares_are_the_server_s(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    gw_reach_http *rh = app->modules[GW_APP_REACH];
    const gw_reach_grids *live = gw_reach_http_acquire(rh, snap, WAIT_MS);
    assert_non_null(live);
    gw_road_net *net = gw_roads_http_net(app->modules[GW_APP_ROADS]);
    const gw_road_graph *g = gw_road_net_acquire(net);
    assert_true(gw_road_graph_nodes(g) > 0);
    gw_store *st = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &st), GW_OK);
    int srid = gw_model_metric_srid(gw_live_model(app->live));
    gw_reach_grids *kept = NULL;
    assert_int_equal(rk_store_load(tctx, st, g, snap, srid, &kept), GW_OK);
    size_t n = gw_reach_grids_count(live), reached = 0;
    assert_int_equal(gw_reach_grids_count(kept), n);
    for (size_t b = 0; b < GW_REACH_GRID_BANDS; b++) {
        assert_memory_equal(gw_reach_grids_share(kept, b), gw_reach_grids_share(live, b),
                            n * sizeof(double));
        for (size_t i = 0; i < n; i++) reached += gw_reach_grids_share(live, b)[i] > 0;
        assert_null(gw_reach_grids_geom(kept, 0, b));
    }
    assert_true(reached > 0);
    gw_reach_grids_destroy(tctx, kept);
    /* the value damaged under its key: not found, so computed again */
    char key[640];
    assert_int_equal(gw_store_meta_get(st, "reach_shares_key", key, sizeof key), GW_OK);
    assert_int_equal(gw_store_begin(st), GW_OK);
    assert_int_equal(gw_store_meta_set(st, "reach_shares", "AAAA"), GW_OK);
    assert_int_equal(gw_store_commit(st), GW_OK);
    assert_int_equal(rk_store_load(tctx, st, g, snap, srid, &kept), GW_ERR_NOT_FOUND);
    assert_int_equal(rk_store_save(tctx, st, g, snap, srid, live), GW_OK);
    assert_int_equal(rk_store_load(tctx, st, g, snap, srid, &kept), GW_OK);
    gw_reach_grids_destroy(tctx, kept);
    gw_store_close(st);
    gw_road_net_release(net, g);
    gw_reach_http_release(rh, live);
    gw_model_release(tctx, snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_tile_is_the_live_tile),
        cmocka_unit_test(test_gdal_reads_fields_metadata_tilestats),
        cmocka_unit_test(test_kept_cluster_scan_is_a_fresh_scan),
        cmocka_unit_test(test_kept_reach_shares_are_the_server_s),
        cmocka_unit_test(test_grids_only_pyramid_is_the_live_grid_tiles),
        cmocka_unit_test(test_cluster_layer_pyramid_has_the_clusters),
        cmocka_unit_test(test_grids_only_pyramid_computes_missing_coverage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
