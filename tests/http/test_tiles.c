/* test_tiles.c — vector tiles over real HTTP: an in-process server on an ephemeral port over a
 * small synthetic city; every tile is decoded by GDAL's MVT driver and compared with the items
 * API over the same bounds; clusters, filters, errors, gzip/ETag/304, TileJSON and the style,
 * and invalidation after a grid edit logged in the change log.  A second group runs the whole
 * app: blind spots, coverage and Gi* fields on the grid tiles against the analysis routes, and
 * their refresh after a camera PATCH and incident POSTs over HTTP. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "coverage_http.h"
#include "gridwatch/city.h"
#include "gridwatch/store.h"
#include "store_sqlite.h"
#include "gridwatch/tile.h"
#include "gridwatch/tilelayers.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"
#include "tiles_http.h"

#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <ogr_api.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long the tile fields may take to catch up: the first cluster scan runs with them, and under
 * ThreadSanitizer it takes tens of seconds (CI's TSan run of hotspot_inc timed out at 30 s). */
#define WAIT_MS 180000

static char db_path[1024];
static gw_server *srv;
static gw_tiles *tiles;
static gw_ctx *tctx;
static gw_bbox ext; /* lon/lat extent of the grids */

/* ---- client ------------------------------------------------------------------------------ */

/* A request to the server: method, path, a JSON body (or NULL) and up to two extra header
 * lines (or NULL). */
static hf_resp request(const char *method, const char *path, const char *body, const char *h1,
                       const char *h2)
{
    const char *extra[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (h1) extra[n++] = h1;
    if (h2) extra[n++] = h2;
    return hf_request(method, path, NULL, body, body ? strlen(body) : 0,
                      body ? "application/geo+json" : NULL, extra);
}

/* GET a path on the server with optional extra header lines. */
static hf_resp get(const char *path, const char *h1, const char *h2)
{
    return request("GET", path, NULL, h1, h2);
}

/* A response header's value (case-insensitive name) into buf; "" when absent. */
static const char *header(const hf_resp *r, const char *name, char *buf, size_t cap)
{
    hf_header(r, name, buf, cap);
    return buf;
}

static json_t *get_json(const char *path)
{
    hf_resp r = get(path, NULL, NULL);
    json_t *j = hf_json(&r, 200, 0, path);
    assert_non_null(j);
    return j;
}

static void expect_problem(const char *path, long status)
{
    hf_resp r = get(path, NULL, NULL);
    if (r.status != status)
        fprintf(stderr, "GET %s -> %ld (want %ld): %s\n", path, r.status, status, r.body.data);
    assert_int_equal(r.status, status);
    assert_string_equal(r.ctype, "application/problem+json");
    json_t *j = json_loads(r.body.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    json_decref(j);
    hf_resp_free(&r);
}

/* ---- decoding with GDAL ------------------------------------------------------------------ */

#define MAXF 5000
typedef struct feat {
    char id[32], attr[64];
    long long fid;
    double x, y; /* 3857; points only */
    int cluster;
    long long count, count_cats;
    /* analysis fields (has_* = present) */
    int has_ratio, has_bin, has_count;
    double ratio, blind_m2;
    long long gi_bin, gi_count;
    char gi_class[32];
    double area, perim, lat; /* polygons: 3857 area and boundary length, centroid latitude */
} feat;

typedef struct tile_feats {
    int n;
    feat f[MAXF];
} tile_feats;

static tile_feats decoded;

/* Decode the body of a tile response with GDAL's MVT driver; the features of `layer`, with the
 * string attribute `attr` (may be NULL). */
static void decode(const hf_resp *r, gw_tile_id t, const char *layer, const char *attr,
                   tile_feats *out)
{
    out->n = 0;
    if (r->status == 204) return;
    assert_int_equal(r->status, 200);
    char name[96];
    snprintf(name, sizeof name, "tile-%u-%u-%u.pbf", t.z, t.x, t.y);
    const char *path = gw_test_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r->body.data, 1, r->body.len, f), r->body.len);
    fclose(f);
    char opt_x[32], opt_y[32], opt_z[32];
    snprintf(opt_z, sizeof opt_z, "Z=%u", t.z);
    snprintf(opt_x, sizeof opt_x, "X=%u", t.x);
    snprintf(opt_y, sizeof opt_y, "Y=%u", t.y);
    const char *drivers[] = {"MVT", NULL};
    const char *opts[] = {opt_x, opt_y, opt_z, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, layer);
    if (!l) {
        GDALClose(ds);
        return;
    }
    OGRFeatureH ft;
    OGR_L_ResetReading(l);
    while ((ft = OGR_L_GetNextFeature(l)) != NULL && out->n < MAXF) {
        feat *e = &out->f[out->n++];
        memset(e, 0, sizeof *e);
        int i;
        if ((i = OGR_F_GetFieldIndex(ft, "id")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            snprintf(e->id, sizeof e->id, "%s", OGR_F_GetFieldAsString(ft, i));
        if (attr && (i = OGR_F_GetFieldIndex(ft, attr)) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            snprintf(e->attr, sizeof e->attr, "%s", OGR_F_GetFieldAsString(ft, i));
        if ((i = OGR_F_GetFieldIndex(ft, "mvt_id")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->fid = OGR_F_GetFieldAsInteger64(ft, i);
        if ((i = OGR_F_GetFieldIndex(ft, "cluster")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->cluster = OGR_F_GetFieldAsInteger(ft, i);
        if ((i = OGR_F_GetFieldIndex(ft, "count")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->count = OGR_F_GetFieldAsInteger64(ft, i);
        for (int k = 0; k < OGR_F_GetFieldCount(ft); k++) {
            const char *fn = OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(ft, k));
            if (strncmp(fn, "count_", 6) == 0 && OGR_F_IsFieldSetAndNotNull(ft, k))
                e->count_cats += OGR_F_GetFieldAsInteger64(ft, k);
        }
        if ((i = OGR_F_GetFieldIndex(ft, "coverage_ratio")) >= 0 &&
            OGR_F_IsFieldSetAndNotNull(ft, i))
            e->has_ratio = 1, e->ratio = OGR_F_GetFieldAsDouble(ft, i);
        if ((i = OGR_F_GetFieldIndex(ft, "gi_bin")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->has_bin = 1, e->gi_bin = OGR_F_GetFieldAsInteger64(ft, i);
        if ((i = OGR_F_GetFieldIndex(ft, "gi_count")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->has_count = 1, e->gi_count = OGR_F_GetFieldAsInteger64(ft, i);
        if ((i = OGR_F_GetFieldIndex(ft, "gi_class")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            snprintf(e->gi_class, sizeof e->gi_class, "%s", OGR_F_GetFieldAsString(ft, i));
        if ((i = OGR_F_GetFieldIndex(ft, "blind_m2")) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
            e->blind_m2 = OGR_F_GetFieldAsDouble(ft, i);
        OGRGeometryH g = OGR_F_GetGeometryRef(ft);
        if (g && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPoint)
            e->x = OGR_G_GetX(g, 0), e->y = OGR_G_GetY(g, 0);
        OGRwkbGeometryType gt = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (gt == wkbPolygon || gt == wkbMultiPolygon) {
            e->area = OGR_G_Area(g);
            OGRGeometryH bnd = OGR_G_Boundary(g), c = OGR_G_CreateGeometry(wkbPoint);
            e->perim = bnd ? OGR_G_Length(bnd) : 0;
            if (OGR_G_Centroid(g, c) == OGRERR_NONE)
                e->lat = atan(sinh(OGR_G_GetY(c, 0) / 6378137.0)) * 180 / M_PI;
            OGR_G_DestroyGeometry(c);
            if (bnd) OGR_G_DestroyGeometry(bnd);
        }
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
}

static int inside(const feat *e, gw_tile_id t)
{
    gw_bbox b = gw_tile_bounds(t);
    double eps = (b.maxx - b.minx) / 4096; /* one tile unit: the encoder snaps to it */
    return e->x >= b.minx + eps && e->x <= b.maxx - eps && e->y >= b.miny + eps &&
           e->y <= b.maxy - eps;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    GDALAllRegister();
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("tiles.sqlite"));
    gw_store *st = hf_city(tctx, db_path, 0.01, 7);
    assert_int_equal(gw_store_extent(st, GW_LAYER_GRIDS, &ext), GW_OK);
    gw_store_close(st);
    assert_int_equal(gw_tiles_create(tctx, db_path, 8 << 20, &tiles), GW_OK);
    gw_tiles_install(tiles);
    gw_server_opts o = {.db_path = db_path, .threads = 2, .anonymous_read = 1, .quiet = 1};
    o.routes = gw_tiles_routes(&o.n_routes);
    assert_int_equal(hf_server_start(tctx, &o, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    hf_server_stop(srv);
    gw_tiles_destroy(tiles);
    gw_ctx_destroy(tctx);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* Items of a layer inside a tile's lon/lat bounds: id -> attribute. */
static json_t *items_in(const char *layer, gw_tile_id t, const char *extra)
{
    gw_bbox b = gw_tile_bounds_lonlat(t);
    char path[512];
    snprintf(path, sizeof path, "/collections/%s/items?limit=10000&bbox=%.9f,%.9f,%.9f,%.9f%s",
             layer, b.minx, b.miny, b.maxx, b.maxy, extra ? extra : "");
    return get_json(path);
}

static const feat *find(const tile_feats *tf, const char *id)
{
    for (int i = 0; i < tf->n; i++)
        if (strcmp(tf->f[i].id, id) == 0) return &tf->f[i];
    return NULL;
}

/* Point layers: the features strictly inside the tile are exactly the items in its bounds, with
 * the same attribute; every feature has an id and a positive fid. */
static void test_points_match_items(void **state)
{
    static const char *const layers[][2] = {{"incidents", "category"},
                                            {"cameras", "status"},
                                            {"teams", "status"},
                                            {"police_rooms", "name"}};
    double cx = (ext.minx + ext.maxx) / 2, cy = (ext.miny + ext.maxy) / 2;
    for (int z = 11; z <= 13; z += 2)
        for (size_t li = 0; li < 4; li++) {
            gw_tile_id t;
            assert_int_equal(gw_tile_from_lonlat(tctx, cx, cy, (uint32_t)z, &t), GW_OK);
            char path[256];
            snprintf(path, sizeof path, "/tiles/%s/%u/%u/%u.mvt", layers[li][0], t.z, t.x, t.y);
            hf_resp r = get(path, NULL, NULL);
            decode(&r, t, layers[li][0], layers[li][1], &decoded);
            hf_resp_free(&r);
            json_t *items = items_in(layers[li][0], t, NULL);
            json_t *fs = json_object_get(items, "features");
            int in_tile = 0;
            for (int i = 0; i < decoded.n; i++) {
                assert_false(decoded.f[i].cluster);
                assert_true(decoded.f[i].fid > 0);
                assert_true(decoded.f[i].id[0] != '\0');
                in_tile += inside(&decoded.f[i], t);
            }
            size_t matched = 0;
            for (size_t i = 0; i < json_array_size(fs); i++) {
                json_t *it = json_array_get(fs, i);
                const char *id = json_string_value(json_object_get(it, "id"));
                const feat *e = find(&decoded, id);
                if (!e)
                    fprintf(stderr, "%s tile %u/%u/%u lacks item %s\n", layers[li][0], t.z, t.x,
                            t.y, id);
                assert_non_null(e);
                const char *want = json_string_value(
                    json_object_get(json_object_get(it, "properties"), layers[li][1]));
                assert_string_equal(e->attr, want ? want : "");
                matched += inside(e, t);
            }
            /* everything strictly inside the tile is an item of its bounds */
            assert_int_equal(matched, in_tile);
            assert_true(json_array_size(fs) <= (size_t)decoded.n);
            if (li < 2) assert_true(json_array_size(fs) > 0); /* the centre holds data */
            json_decref(items);
        }
}

/* Grids: every grid intersecting the tile bounds is in the tile with its attributes. */
static void test_grids_match_items(void **state)
{
    double cx = (ext.minx + ext.maxx) / 2, cy = (ext.miny + ext.maxy) / 2;
    for (uint32_t z = 9; z <= 13; z += 2) {
        gw_tile_id t;
        assert_int_equal(gw_tile_from_lonlat(tctx, cx, cy, z, &t), GW_OK);
        char path[256];
        snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
        hf_resp r = get(path, NULL, NULL);
        decode(&r, t, "grids", "county", &decoded);
        hf_resp_free(&r);
        json_t *items = items_in("grids", t, NULL);
        json_t *fs = json_object_get(items, "features");
        assert_true(json_array_size(fs) > 0);
        for (size_t i = 0; i < json_array_size(fs); i++) {
            json_t *it = json_array_get(fs, i);
            const feat *e = find(&decoded, json_string_value(json_object_get(it, "id")));
            assert_non_null(e);
            assert_true(e->fid > 0);
            if (z < GW_TL_GRID_DETAIL_MINZOOM) /* below z10 the grids carry their id only */
                assert_string_equal(e->attr, "");
            else
                assert_string_equal(e->attr, json_string_value(
                                                 json_object_get(json_object_get(it, "properties"),
                                                                 "county")));
        }
        json_decref(items);
    }
}

/* At z 8 the whole city is one or a few tiles of clusters; the counts add up to the items. */
static void test_clusters(void **state)
{
    gw_tile_id a, b;
    assert_int_equal(gw_tile_from_lonlat(tctx, ext.minx, ext.maxy, 7, &a), GW_OK);
    assert_int_equal(gw_tile_from_lonlat(tctx, ext.maxx, ext.miny, 7, &b), GW_OK);
    int clustered_tiles = 0;
    for (uint32_t x = a.x; x <= b.x; x++)
        for (uint32_t y = a.y; y <= b.y; y++) {
            gw_tile_id t = {7, x, y};
            char path[256];
            snprintf(path, sizeof path, "/tiles/incidents/%u/%u/%u.mvt", t.z, t.x, t.y);
            hf_resp r = get(path, NULL, NULL);
            decode(&r, t, "incidents", NULL, &decoded);
            hf_resp_free(&r);
            json_t *items = items_in("incidents", t, "&limit=1");
            long long want = json_integer_value(json_object_get(items, "numberMatched"));
            json_decref(items);
            if (want <= 4000) continue;
            clustered_tiles++;
            long long sum = 0;
            for (int i = 0; i < decoded.n; i++) {
                assert_true(decoded.f[i].cluster);
                assert_true(decoded.f[i].count > 0);
                assert_int_equal(decoded.f[i].count_cats, decoded.f[i].count);
                sum += decoded.f[i].count;
            }
            assert_int_equal(sum, want);
        }
    assert_true(clustered_tiles > 0);
}

static void test_errors(void **state)
{
    expect_problem("/tiles/grids/a/1/1.mvt", 400);
    expect_problem("/tiles/grids/1/-1/0.mvt", 400);
    expect_problem("/tiles/grids/99999999999/0/0.mvt", 400);
    expect_problem("/tiles/grids/23/0/0.mvt", 404);
    expect_problem("/tiles/grids/2/4/0.mvt", 404);
    expect_problem("/tiles/grids/2/0/4.mvt", 404);
    expect_problem("/tiles/nope/1/0/0.mvt", 404);
    expect_problem("/tiles/grids/1/0/0.png", 404);
    expect_problem("/tiles/incidents/1/0/0.mvt?bogus=1", 400);
    expect_problem("/tiles/incidents/1/0/0.mvt?severity=high", 400);
    expect_problem("/tiles/incidents/1/0/0.mvt?datetime=yesterday", 400);
    expect_problem("/tiles/grids/1/0/0.mvt?datetime=2025-01-01T00:00:00Z", 400);
    expect_problem("/tiles/nope.json", 404);
    expect_problem("/styles/other.json", 404);
}

static void test_gzip_etag_filters(void **state)
{
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, (ext.minx + ext.maxx) / 2, (ext.miny + ext.maxy) / 2,
                                         11, &t),
                     GW_OK);
    char path[256], h[128], etag[64], hdr[128];
    snprintf(path, sizeof path, "/tiles/incidents/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp plain = get(path, NULL, NULL);
    assert_int_equal(plain.status, 200);
    assert_string_equal(plain.ctype, "application/vnd.mapbox-vector-tile");
    assert_string_equal(header(&plain, "Content-Encoding", h, sizeof h), "");
    assert_true(strstr(header(&plain, "Cache-Control", h, sizeof h), "max-age=") != NULL);
    header(&plain, "ETag", etag, sizeof etag);
    assert_true(strlen(etag) > 4);
    hf_resp gz = get(path, "Accept-Encoding: gzip", NULL);
    assert_int_equal(gz.status, 200);
    assert_string_equal(header(&gz, "Content-Encoding", h, sizeof h), "gzip");
    assert_string_equal(header(&gz, "X-Tile-Cache", h, sizeof h), "hit");
    assert_true(gz.body.len > 2 && (unsigned char)gz.body.data[0] == 0x1f &&
                (unsigned char)gz.body.data[1] == 0x8b);
    assert_true(gz.body.len < plain.body.len);
    assert_string_equal(header(&gz, "ETag", h, sizeof h), etag);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    hf_resp nm = get(path, hdr, "Accept-Encoding: gzip");
    assert_int_equal(nm.status, 304);
    assert_int_equal(nm.body.len, 0);
    hf_resp_free(&nm);
    hf_resp other = get(path, "If-None-Match: \"0000000000000000\"", NULL);
    assert_int_equal(other.status, 200);
    hf_resp_free(&other);
    /* a filter: a different tile (and cache entry), matching the items with that filter */
    decode(&plain, t, "incidents", "category", &decoded);
    const char *cat = decoded.f[0].attr;
    char cat_s[64];
    snprintf(cat_s, sizeof cat_s, "%s", cat);
    int want = 0;
    for (int i = 0; i < decoded.n; i++) want += strcmp(decoded.f[i].attr, cat_s) == 0;
    char fpath[512];
    snprintf(fpath, sizeof fpath, "%s?category=%s&datetime=2020-01-01T00:00:00Z/..", path, cat_s);
    hf_resp fr = get(fpath, NULL, NULL);
    assert_int_equal(fr.status, 200);
    assert_string_equal(header(&fr, "X-Tile-Cache", h, sizeof h), "miss");
    assert_string_not_equal(header(&fr, "ETag", h, sizeof h), etag);
    decode(&fr, t, "incidents", "category", &decoded);
    assert_int_equal(decoded.n, want);
    for (int i = 0; i < decoded.n; i++) assert_string_equal(decoded.f[i].attr, cat_s);
    hf_resp_free(&fr);
    /* a window before the data: empty tile, 204 */
    snprintf(fpath, sizeof fpath, "%s?datetime=../2001-01-01T00:00:00Z", path);
    fr = get(fpath, NULL, NULL);
    assert_int_equal(fr.status, 204);
    hf_resp_free(&fr);
    /* camera views start at z15 */
    snprintf(fpath, sizeof fpath, "/tiles/camera_views/%u/%u/%u.mvt", t.z, t.x, t.y);
    fr = get(fpath, NULL, NULL);
    assert_int_equal(fr.status, 204);
    hf_resp_free(&fr);
    hf_resp_free(&plain);
    hf_resp_free(&gz);
}

static void test_views_and_city(void **state)
{
    /* a z15 tile at a camera: its view sector is there, as a polygon */
    json_t *cams = get_json("/collections/cameras/items?limit=1");
    json_t *c = json_array_get(json_object_get(cams, "features"), 0);
    json_t *co = json_object_get(json_object_get(c, "geometry"), "coordinates");
    char cam_id[64];
    snprintf(cam_id, sizeof cam_id, "%s", json_string_value(json_object_get(c, "id")));
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, json_real_value(json_array_get(co, 0)),
                                         json_real_value(json_array_get(co, 1)), 16, &t),
                     GW_OK);
    json_decref(cams);
    char path[256];
    snprintf(path, sizeof path, "/tiles/camera_views/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = get(path, NULL, NULL);
    decode(&r, t, "camera_views", NULL, &decoded);
    hf_resp_free(&r);
    assert_non_null(find(&decoded, cam_id));
    /* the city tile holds every layer that has data there */
    snprintf(path, sizeof path, "/tiles/city/%u/%u/%u.mvt", t.z, t.x, t.y);
    r = get(path, NULL, NULL);
    decode(&r, t, "cameras", NULL, &decoded);
    assert_non_null(find(&decoded, cam_id));
    decode(&r, t, "camera_views", NULL, &decoded);
    assert_non_null(find(&decoded, cam_id));
    decode(&r, t, "grids", NULL, &decoded);
    assert_true(decoded.n > 0);
    hf_resp_free(&r);
}

static void test_tilejson_style(void **state)
{
    json_t *j = get_json("/tiles/incidents.json?category=theft");
    assert_string_equal(json_string_value(json_object_get(j, "tilejson")), "3.0.0");
    const char *url = json_string_value(json_array_get(json_object_get(j, "tiles"), 0));
    assert_non_null(url);
    assert_true(strncmp(url, hf_base, strlen(hf_base)) == 0);
    assert_non_null(strstr(url, "/tiles/incidents/{z}/{x}/{y}.mvt?category=theft"));
    json_t *b = json_object_get(j, "bounds");
    assert_int_equal(json_array_size(b), 4);
    assert_true(json_real_value(json_array_get(b, 0)) >= ext.minx - 0.05 &&
                json_real_value(json_array_get(b, 2)) <= ext.maxx + 0.05);
    assert_true(json_real_value(json_array_get(b, 0)) < json_real_value(json_array_get(b, 2)));
    assert_int_equal(json_array_size(json_object_get(j, "center")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "minzoom")), 0);
    assert_true(json_integer_value(json_object_get(j, "maxzoom")) >= 16);
    json_t *vl = json_object_get(j, "vector_layers");
    assert_int_equal(json_array_size(vl), 1);
    json_t *l0 = json_array_get(vl, 0);
    assert_string_equal(json_string_value(json_object_get(l0, "id")), "incidents");
    json_t *fields = json_object_get(l0, "fields");
    assert_string_equal(json_string_value(json_object_get(fields, "category")), "String");
    assert_string_equal(json_string_value(json_object_get(fields, "severity")), "Number");
    assert_string_equal(json_string_value(json_object_get(fields, "cluster")), "Boolean");
    json_decref(j);
    j = get_json("/tiles/city.json");
    assert_int_equal(json_array_size(json_object_get(j, "vector_layers")), 8);
    size_t li;
    json_t *lv;
    int minz_seen = 0; /* in the city tiles: cameras from 13, incidents from 10 */
    json_array_foreach (json_object_get(j, "vector_layers"), li, lv) {
        const char *id = json_string_value(json_object_get(lv, "id"));
        json_int_t mz = json_integer_value(json_object_get(lv, "minzoom"));
        if (strcmp(id, "cameras") == 0) assert_int_equal(mz, 13), minz_seen |= 1;
        if (strcmp(id, "incidents") == 0) assert_int_equal(mz, 10), minz_seen |= 2;
        if (strcmp(id, "teams") == 0) assert_int_equal(mz, 0), minz_seen |= 4;
    }
    assert_int_equal(minz_seen, 7);
    json_decref(j);
    j = get_json("/tiles/camera_views.json");
    assert_int_equal(json_integer_value(json_object_get(j, "minzoom")), 15);
    json_decref(j);
    j = get_json("/styles/city.json");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 8);
    /* labels: glyphs and sprite from this server (no Internet needed) */
    assert_non_null(
        strstr(json_string_value(json_object_get(j, "glyphs")), "/fonts/{fontstack}/{range}.pbf"));
    assert_non_null(strstr(json_string_value(json_object_get(j, "sprite")), "/sprite"));
    const char *src = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "sources"), "city"), "url"));
    assert_non_null(src);
    assert_non_null(strstr(src, "/tiles/city.json"));
    src = json_string_value(
        json_object_get(json_object_get(json_object_get(j, "sources"), "incidents"), "url"));
    assert_non_null(src);
    assert_non_null(strstr(src, "/tiles/incidents.json"));
    json_t *layers = json_object_get(j, "layers");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(layers); i++) {
        const char *sl = json_string_value(
            json_object_get(json_array_get(layers, i), "source-layer"));
        if (!sl) continue;
        if (strcmp(sl, "grids") == 0) seen |= 1;
        if (strcmp(sl, "incidents") == 0) /* from the incidents source, not the city's */
            assert_string_equal(json_string_value(
                                    json_object_get(json_array_get(layers, i), "source")),
                                "incidents"),
                seen |= 2;
        if (strcmp(sl, "camera_views") == 0) seen |= 4;
        if (strcmp(sl, "teams") == 0) seen |= 8;
    }
    assert_int_equal(seen, 15);
    json_decref(j);
}

/* Move one grid by ~200 m and log the change with its old+new bbox: the tile at that grid gets
 * a new ETag, a tile far away is still a cache hit with the same ETag. */
static void test_invalidation(void **state)
{
    json_t *g = get_json("/collections/grids/items?limit=1");
    json_t *f0 = json_array_get(json_object_get(g, "features"), 0);
    char gid[64];
    snprintf(gid, sizeof gid, "%s", json_string_value(json_object_get(f0, "id")));
    json_t *ring = json_array_get(json_object_get(json_object_get(f0, "geometry"), "coordinates"),
                                  0);
    if (json_is_array(json_array_get(json_array_get(ring, 0), 0)))
        ring = json_array_get(ring, 0); /* multipolygon */
    double px = json_real_value(json_array_get(json_array_get(ring, 0), 0));
    double py = json_real_value(json_array_get(json_array_get(ring, 0), 1));
    json_decref(g);
    gw_tile_id near, far;
    assert_int_equal(gw_tile_from_lonlat(tctx, px, py, 14, &near), GW_OK);
    /* far: the opposite corner of the extent */
    double fx = px - ext.minx < ext.maxx - px ? ext.maxx - 0.01 : ext.minx + 0.01;
    double fy = py - ext.miny < ext.maxy - py ? ext.maxy - 0.01 : ext.miny + 0.01;
    assert_int_equal(gw_tile_from_lonlat(tctx, fx, fy, 14, &far), GW_OK);
    char pn[128], pf[128], e_near[64], e_far[64], h[64];
    snprintf(pn, sizeof pn, "/tiles/grids/%u/%u/%u.mvt", near.z, near.x, near.y);
    snprintf(pf, sizeof pf, "/tiles/grids/%u/%u/%u.mvt", far.z, far.x, far.y);
    hf_resp a = get(pn, NULL, NULL), b = get(pf, NULL, NULL);
    header(&a, "ETag", e_near, sizeof e_near);
    header(&b, "ETag", e_far, sizeof e_far);
    hf_resp_free(&a), hf_resp_free(&b);
    b = get(pf, NULL, NULL);
    assert_string_equal(header(&b, "X-Tile-Cache", h, sizeof h), "hit");
    hf_resp_free(&b);

    gw_store *st = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &st), GW_OK);
    assert_int_equal(gw_store_begin(st), GW_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(
            st_sqlite_db(st),
            "SELECT MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM grids WHERE id = ?",
            -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, gid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    gw_bbox box = {sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                   sqlite3_column_double(q, 2) + 0.002, sqlite3_column_double(q, 3)};
    sqlite3_finalize(q);
    assert_int_equal(
        sqlite3_prepare_v2(st_sqlite_db(st),
                           "UPDATE grids SET geom = ShiftCoords(geom, 0.002, 0) WHERE id = ?", -1,
                           &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, gid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    assert_int_equal(gw_store_log_change(st, GW_LAYER_GRIDS, "update", gid, &box, NULL), GW_OK);
    assert_int_equal(gw_store_commit(st), GW_OK);
    gw_store_close(st);

    a = get(pn, NULL, NULL);
    b = get(pf, NULL, NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(header(&a, "X-Tile-Cache", h, sizeof h), "miss");
    assert_string_not_equal(header(&a, "ETag", h, sizeof h), e_near);
    assert_string_equal(header(&b, "X-Tile-Cache", h, sizeof h), "hit");
    assert_string_equal(header(&b, "ETag", h, sizeof h), e_far);
    hf_resp_free(&a), hf_resp_free(&b);
}

/* ---- the whole app: analysis on the tiles ------------------------------------------------- */

static gw_app *app;
static char admin_auth[GW_TOKEN_LEN + 32];

static int setup_app(void **state)
{
    (void)state;
    GDALAllRegister();
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("tiles_app.sqlite"));
    gw_store *st = hf_city(tctx, db_path, 0.01, 11);
    assert_int_equal(gw_store_extent(st, GW_LAYER_GRIDS, &ext), GW_OK);
    char tok[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_ADMIN, "tiles-admin", NULL, tok, NULL),
                     GW_OK);
    snprintf(admin_auth, sizeof admin_auth, "Authorization: Bearer %s", tok);
    gw_store_close(st);
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .threads = 2, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    /* the first coverage computation and Gi* run happen in the background */
    for (int i = 0; i < 3000 && !gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]); i++)
        usleep(10000);
    assert_true(gw_coverage_http_ready(app->modules[GW_APP_COVERAGE]));
    assert_true(gw_tiles_fields_wait(app->tiles, WAIT_MS));
    return 0;
}

static int teardown_app(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* A grid's lon/lat envelope from its item. */
static gw_bbox grid_bbox(const char *id)
{
    char path[256];
    snprintf(path, sizeof path, "/collections/grids/items/%s", id);
    json_t *f = get_json(path);
    gw_bbox b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    json_t *polys = json_object_get(json_object_get(f, "geometry"), "coordinates"), *poly, *ring,
           *pt;
    size_t i, j, k;
    if (!json_is_array(json_array_get(json_array_get(json_array_get(polys, 0), 0), 0)))
        polys = json_pack("[O]", polys);
    else json_incref(polys);
    json_array_foreach (polys, i, poly)
        json_array_foreach (poly, j, ring)
            json_array_foreach (ring, k, pt) {
                double x = json_number_value(json_array_get(pt, 0)),
                       y = json_number_value(json_array_get(pt, 1));
                b.minx = fmin(b.minx, x), b.maxx = fmax(b.maxx, x), b.miny = fmin(b.miny, y),
                b.maxy = fmax(b.maxy, y);
            }
    json_decref(polys);
    json_decref(f);
    return b;
}

/* The blind_spots tiles over a grid: the pieces of its feature inside each tile (clipped to
 * the unbuffered tile) add up, brought from Web Mercator to the ground (x cos² lat at each
 * piece's centroid), to the coverage module's blind_m2.  The tolerance: the encoder moves each
 * vertex by at most half a tile unit diagonally (0.71 u) when snapping and by 0.25 u when
 * simplifying, so a piece's area moves by at most its perimeter x 0.96 u; plus 0.2 % for the
 * metric CRS's own area distortion (Gauss-Krüger / UTM scale factor within 1.0004: 0.08 %)
 * and cos² lat varying across a piece (< 0.05 % over the < 0.1° of a z13 tile). */
static void test_blind_spots_area(void **state)
{
    (void)state;
    json_t *all = get_json("/analysis/coverage");
    size_t i;
    json_t *g, *best = NULL;
    json_array_foreach (json_object_get(all, "grids"), i,
                        g) /* the smallest grid with blind spots */
        if (json_number_value(json_object_get(g, "blind_m2")) > 1000 &&
            (!best || json_number_value(json_object_get(g, "grid_m2")) <
                          json_number_value(json_object_get(best, "grid_m2"))))
            best = g;
    assert_non_null(best);
    const char *id = json_string_value(json_object_get(best, "id"));
    double want = json_number_value(json_object_get(best, "blind_m2"));
    /* the polygons drawn: built on request, pieces below min_blind_m2 dropped */
    char one[256];
    snprintf(one, sizeof one, "/analysis/coverage/%s", id);
    json_t *fo = get_json(one);
    double drawn = json_number_value(
        json_object_get(json_object_get(fo, "properties"), "blind_kept_m2"));
    assert_true(drawn > 0 && drawn <= want * (1 + 1e-9));
    json_decref(fo);
    gw_bbox bb = grid_bbox(id);
    gw_tile_id a, c;
    assert_int_equal(gw_tile_from_lonlat(tctx, bb.minx, bb.maxy, 13, &a), GW_OK);
    assert_int_equal(gw_tile_from_lonlat(tctx, bb.maxx, bb.miny, 13, &c), GW_OK);
    double ground = 0, tol = 0.002 * drawn;
    int pieces = 0;
    for (uint32_t x = a.x; x <= c.x; x++)
        for (uint32_t y = a.y; y <= c.y; y++) {
            gw_tile_id t = {13, x, y};
            gw_bbox tb = gw_tile_bounds(t);
            char path[256];
            snprintf(path, sizeof path, "/tiles/blind_spots/13/%u/%u.mvt", x, y);
            hf_resp r = get(path, NULL, NULL);
            if (r.status == 204) {
                hf_resp_free(&r);
                continue;
            }
            /* decode, clip to the tile, measure */
            const char *file = gw_test_path("blind.pbf");
            FILE *f = fopen(file, "wb");
            assert_non_null(f);
            fwrite(r.body.data, 1, r.body.len, f);
            fclose(f);
            hf_resp_free(&r);
            char ox[32], oy[32];
            snprintf(ox, sizeof ox, "X=%u", x), snprintf(oy, sizeof oy, "Y=%u", y);
            const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, "Z=13", NULL};
            GDALDatasetH ds = GDALOpenEx(file, GDAL_OF_VECTOR, drivers, opts, NULL);
            assert_non_null(ds);
            OGRLayerH l = GDALDatasetGetLayerByName(ds, "blind_spots");
            assert_non_null(l);
            OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing),
                         box = OGR_G_CreateGeometry(wkbPolygon);
            OGR_G_AddPoint_2D(ring, tb.minx, tb.miny), OGR_G_AddPoint_2D(ring, tb.maxx, tb.miny);
            OGR_G_AddPoint_2D(ring, tb.maxx, tb.maxy), OGR_G_AddPoint_2D(ring, tb.minx, tb.maxy);
            OGR_G_AddPoint_2D(ring, tb.minx, tb.miny);
            OGR_G_AddGeometryDirectly(box, ring);
            double unit = (tb.maxx - tb.minx) / 4096;
            OGRFeatureH ft;
            while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
                int fi = OGR_F_GetFieldIndex(ft, "grid");
                if (fi >= 0 && strcmp(OGR_F_GetFieldAsString(ft, fi), id) == 0) {
                    int fb = OGR_F_GetFieldIndex(ft, "blind_m2");
                    assert_true(fb >= 0 &&
                                fabs(OGR_F_GetFieldAsDouble(ft, fb) - want) < 1e-3 * fmax(1, want));
                    OGRGeometryH in = OGR_G_Intersection(OGR_F_GetGeometryRef(ft), box);
                    if (in && OGR_G_Area(in) > 0) {
                        OGRGeometryH cen = OGR_G_CreateGeometry(wkbPoint), bnd = OGR_G_Boundary(in);
                        assert_int_equal(OGR_G_Centroid(in, cen), OGRERR_NONE);
                        double lat = atan(sinh(OGR_G_GetY(cen, 0) / 6378137.0));
                        double k2 = cos(lat) * cos(lat);
                        ground += OGR_G_Area(in) * k2;
                        tol += OGR_G_Length(bnd) * 0.96 * unit * k2;
                        pieces++;
                        OGR_G_DestroyGeometry(cen), OGR_G_DestroyGeometry(bnd);
                    }
                    if (in) OGR_G_DestroyGeometry(in);
                }
                OGR_F_Destroy(ft);
            }
            OGR_G_DestroyGeometry(box);
            GDALClose(ds);
        }
    fprintf(stderr,
            "grid %s: %d pieces in z13 tiles, %.1f m² on the ground, drawn %.1f (blind_m2 %.1f), "
            "tolerance %.1f\n",
            id, pieces, ground, drawn, want, tol);
    assert_true(pieces > 0);
    assert_true(fabs(ground - drawn) <= tol);
    json_decref(all);
    /* below zoom 13 there is no blind_spots layer; TileJSON says so */
    json_t *tj = get_json("/tiles/blind_spots.json");
    assert_int_equal(json_integer_value(json_object_get(tj, "minzoom")), 13);
    json_decref(tj);
    tj = get_json("/tiles/city.json");
    int listed = 0;
    json_array_foreach (json_object_get(tj, "vector_layers"), i, g)
        listed |= strcmp(json_string_value(json_object_get(g, "id")), "blind_spots") == 0;
    assert_true(listed);
    json_decref(tj);
}

/* The hot spot class of a bin (-3..3). */
static const char *class_of_bin(long long b)
{
    static const char *const names[] = {"cold_99", "cold_95", "cold_90", "not_significant",
                                        "hot_90",  "hot_95",  "hot_99"};
    return b >= -3 && b <= 3 ? names[b + 3] : "?";
}

/* The grids of a tile at the centre: coverage_ratio as /analysis/coverage's (to the tiles'
 * rounding, 0.001: half a step), Gi* class and count as /analysis/hotspots's; the same at z8
 * (ratio and bin only, no name); the grid items carry the exact figures. */
static void test_grid_fields(void **state)
{
    (void)state;
    json_t *cov = get_json("/analysis/coverage"), *hs = get_json("/analysis/hotspots");
    json_t *cov_by = json_object(), *hs_by = json_object(), *v;
    size_t i;
    json_array_foreach (json_object_get(cov, "grids"), i, v)
        json_object_set(cov_by, json_string_value(json_object_get(v, "id")), v);
    json_array_foreach (json_object_get(hs, "results"), i, v)
        json_object_set(hs_by, json_string_value(json_object_get(v, "id")), v);
    /* the centre at z8 and z14, and a significant grid (if any) at z12 */
    double px[3] = {(ext.minx + ext.maxx) / 2, (ext.minx + ext.maxx) / 2, 0},
           py[3] = {(ext.miny + ext.maxy) / 2, (ext.miny + ext.maxy) / 2, 0};
    uint32_t zs[3] = {8, 14, 12};
    int nt = 2, hot_or_cold = 0;
    json_array_foreach (json_object_get(hs, "results"), i, v) {
        if (strcmp(json_string_value(json_object_get(v, "class")), "not_significant") == 0)
            continue;
        gw_bbox gb = grid_bbox(json_string_value(json_object_get(v, "id")));
        px[2] = (gb.minx + gb.maxx) / 2, py[2] = (gb.miny + gb.maxy) / 2, nt = 3;
        break;
    }
    fprintf(stderr, "hot %lld, cold %lld grids\n", json_integer_value(json_object_get(hs, "hot")),
            json_integer_value(json_object_get(hs, "cold")));
    for (int ti = 0; ti < nt; ti++) {
        gw_tile_id t;
        uint32_t z = zs[ti];
        assert_int_equal(gw_tile_from_lonlat(tctx, px[ti], py[ti], z, &t), GW_OK);
        char path[256];
        snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
        hf_resp r = get(path, NULL, NULL);
        decode(&r, t, "grids", "name", &decoded);
        hf_resp_free(&r);
        assert_true(decoded.n > 0);
        for (int k = 0; k < decoded.n; k++) {
            const feat *e = &decoded.f[k];
            json_t *c = json_object_get(cov_by, e->id), *h = json_object_get(hs_by, e->id);
            assert_non_null(c);
            assert_non_null(h);
            assert_true(e->has_ratio);
            /* to 0.001; below z10 that again to 0.01 */
            assert_true(fabs(e->ratio - json_number_value(json_object_get(c, "ratio"))) <=
                        (z < GW_TL_GRID_DETAIL_MINZOOM ? 0.0055 : 0.0005) + 1e-9);
            const char *cls = json_string_value(json_object_get(h, "class"));
            if (e->has_bin) assert_string_equal(class_of_bin(e->gi_bin), cls);
            else assert_true(strcmp(cls, "no_neighbours") == 0 || strcmp(cls, "no_value") == 0);
            hot_or_cold += e->has_bin && e->gi_bin != 0;
            if (z < GW_TL_GRID_DETAIL_MINZOOM) {
                assert_string_equal(e->attr, ""); /* no name below z10 */
                assert_false(e->has_count);
            } else {
                assert_true(e->attr[0] != '\0');
                assert_string_equal(e->gi_class, cls);
                assert_true(e->has_count);
                assert_int_equal(e->gi_count, json_integer_value(json_object_get(h, "count")));
            }
        }
    }
    if (nt == 3) assert_true(hot_or_cold > 0);
    /* the grid items: the exact figures */
    json_t *items = get_json("/collections/grids/items?limit=3");
    json_array_foreach (json_object_get(items, "features"), i, v) {
        json_t *p = json_object_get(v, "properties"),
               *c = json_object_get(cov_by, json_string_value(json_object_get(v, "id")));
        assert_true(fabs(json_number_value(json_object_get(p, "coverage_ratio")) -
                         json_number_value(json_object_get(c, "ratio"))) < 1e-8);
        assert_int_equal(json_integer_value(json_object_get(p, "cameras")),
                         json_integer_value(json_object_get(c, "cameras")));
        assert_true(json_is_number(json_object_get(p, "covered_m2")) &&
                    json_is_number(json_object_get(p, "room_reach")));
    }
    json_decref(items);
    json_decref(cov), json_decref(hs), json_decref(cov_by), json_decref(hs_by);
}

/* The change-log seq a write answered with. */
static int64_t change_seq(const hf_resp *r)
{
    char h[64];
    header(r, "Gridwatch-Change-Seq", h, sizeof h);
    assert_true(h[0] != '\0');
    return strtoll(h, NULL, 10);
}

/* A camera PATCHed over HTTP into a 150 m dome in a grid's middle: the grid tile's ETag and
 * coverage_ratio change and agree with /analysis/coverage again; the item too. */
static void test_camera_patch(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *cams = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    char gid[64], cid[64];
    double lon, lat;
    /* a grid in the middle of the city, and a camera far from it */
    snprintf(gid, sizeof gid, "%s", gw_layer_data_id(grids, gw_layer_data_count(grids) / 2));
    snprintf(cid, sizeof cid, "%s", gw_layer_data_id(cams, 0));
    GEOSContextHandle_t h = gw_ctx_geos(tctx);
    GEOSGeometry *c = GEOSPointOnSurface_r(h,
                                           gw_layer_data_geom(grids, gw_layer_data_count(grids) / 2,
                                                              GW_MODEL_LONLAT));
    GEOSGeomGetX_r(h, c, &lon), GEOSGeomGetY_r(h, c, &lat);
    GEOSGeom_destroy_r(h, c);
    gw_model_release(tctx, snap);
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 14, &t), GW_OK);
    char path[256], etag[64], h2[64], body[512], cpath[256];
    snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = get(path, NULL, NULL);
    header(&r, "ETag", etag, sizeof etag);
    decode(&r, t, "grids", NULL, &decoded);
    hf_resp_free(&r);
    const feat *e = find(&decoded, gid);
    assert_non_null(e);
    double before = e->ratio;
    r = get(path, NULL, NULL);
    assert_string_equal(header(&r, "X-Tile-Cache", h2, sizeof h2), "hit");
    hf_resp_free(&r);

    snprintf(
        body, sizeof body,
        "{\"type\":\"Feature\",\"properties\":{\"fov\":360,\"range\":150,\"status\":\"online\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.10f,%.10f]}}",
        lon, lat);
    snprintf(cpath, sizeof cpath, "/collections/cameras/items/%s", cid);
    hf_resp w = request("PATCH", cpath, body, NULL, NULL);
    assert_int_equal(w.status, 401); /* writes need a token */
    hf_resp_free(&w);
    w = request("PATCH", cpath, body, admin_auth, NULL);
    if (w.status != 200) fprintf(stderr, "PATCH %s -> %ld: %s\n", cpath, w.status, w.body.data);
    assert_int_equal(w.status, 200);
    int64_t seq = change_seq(&w);
    hf_resp_free(&w);
    assert_int_equal(gw_live_wait(app->live, seq, 10000), 1);

    r = get(path, NULL, NULL);
    assert_string_not_equal(header(&r, "ETag", h2, sizeof h2), etag);
    decode(&r, t, "grids", NULL, &decoded);
    hf_resp_free(&r);
    e = find(&decoded, gid);
    assert_non_null(e);
    snprintf(cpath, sizeof cpath, "/analysis/coverage/%s", gid);
    json_t *f = get_json(cpath);
    double now = json_number_value(json_object_get(json_object_get(f, "properties"), "ratio"));
    json_decref(f);
    assert_true(now > before);
    assert_true(fabs(e->ratio - now) <= 0.0005 + 1e-9);
    assert_true(e->ratio > before);
    snprintf(cpath, sizeof cpath, "/collections/grids/items/%s", gid);
    f = get_json(cpath);
    assert_true(fabs(json_number_value(
                         json_object_get(json_object_get(f, "properties"), "coverage_ratio")) -
                     now) < 1e-8);
    json_decref(f);
}

/* 1500 incidents POSTed over HTTP into one grid (about 20 times its share): once the hot spot
 * worker caught up, the city tile over it counts them, makes it a hot spot, and every grid's
 * class and count are /analysis/hotspots's again. */
static void test_incidents_refresh_hotspots(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t row = gw_layer_data_count(grids) / 3;
    char gid[64];
    snprintf(gid, sizeof gid, "%s", gw_layer_data_id(grids, row));
    GEOSContextHandle_t h = gw_ctx_geos(tctx);
    GEOSGeometry *c = GEOSPointOnSurface_r(h, gw_layer_data_geom(grids, row, GW_MODEL_LONLAT));
    double lon, lat;
    GEOSGeomGetX_r(h, c, &lon), GEOSGeomGetY_r(h, c, &lat);
    GEOSGeom_destroy_r(h, c);
    gw_model_release(tctx, snap);
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 13, &t), GW_OK);
    char path[256], etag[64], h2[64];
    snprintf(path, sizeof path, "/tiles/city/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = get(path, NULL, NULL);
    header(&r, "ETag", etag, sizeof etag);
    decode(&r, t, "grids", NULL, &decoded);
    hf_resp_free(&r);
    const feat *e = find(&decoded, gid);
    assert_non_null(e);
    long long before = e->gi_count;
    gw_buf b = {0};
    gw_buf_str(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (int k = 0; k < 1500; k++)
        gw_buf_printf(
            &b,
            "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.10f,%.10f]},"
            "\"properties\":{\"category\":\"theft\",\"severity\":2,\"occurred_at\":\"2025-03-01T10:00:00+08:00\","
            "\"grid\":\"%s\"}}",
            k ? "," : "", lon, lat, gid);
    gw_buf_str(&b, "]}");
    hf_resp w = request("POST", "/collections/incidents/items", b.data, admin_auth, NULL);
    gw_buf_free(&b);
    if (w.status != 201) fprintf(stderr, "POST -> %ld: %s\n", w.status, w.body.data);
    assert_int_equal(w.status, 201);
    int64_t seq = change_seq(&w);
    hf_resp_free(&w);
    assert_int_equal(gw_live_wait(app->live, seq, 10000), 1);
    assert_true(gw_tiles_fields_wait(app->tiles, WAIT_MS));
    r = get(path, NULL, NULL);
    assert_string_not_equal(header(&r, "ETag", h2, sizeof h2), etag);
    decode(&r, t, "grids", NULL, &decoded);
    hf_resp_free(&r);
    e = find(&decoded, gid);
    assert_non_null(e);
    assert_int_equal(e->gi_count, before + 1500);
    assert_true(e->has_bin && e->gi_bin > 0);
    json_t *hs = get_json("/analysis/hotspots");
    size_t i;
    json_t *v;
    int seen = 0;
    json_array_foreach (json_object_get(hs, "results"), i, v) {
        const feat *f = find(&decoded, json_string_value(json_object_get(v, "id")));
        if (!f) continue;
        seen++;
        assert_string_equal(f->gi_class, json_string_value(json_object_get(v, "class")));
        assert_int_equal(f->gi_count, json_integer_value(json_object_get(v, "count")));
    }
    assert_true(seen > 0);
    json_decref(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_match_items), cmocka_unit_test(test_grids_match_items),
        cmocka_unit_test(test_clusters),           cmocka_unit_test(test_errors),
        cmocka_unit_test(test_gzip_etag_filters),  cmocka_unit_test(test_views_and_city),
        cmocka_unit_test(test_tilejson_style),     cmocka_unit_test(test_invalidation),
    };
    const struct CMUnitTest app_tests[] = {
        cmocka_unit_test(test_blind_spots_area),
        cmocka_unit_test(test_grid_fields),
        cmocka_unit_test(test_camera_patch),
        cmocka_unit_test(test_incidents_refresh_hotspots),
    };
    int failed = cmocka_run_group_tests_name("tiles", tests, setup, teardown);
    return failed +
           cmocka_run_group_tests_name("tiles_analysis", app_tests, setup_app, teardown_app);
}
