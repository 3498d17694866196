/* test_layers.c — tiles/layers.c (tilelayers.h): the tile layers built from a small model whose
 * every feature is written here, each tile read back by GDAL's MVT driver (an independent
 * decoder; it exposes the MVT feature id as the field mvt_id) and compared with the model: which features of which layers, their ids and
 * properties, positions and polygon areas against the closed-form Web Mercator, the coarse grid
 * properties below GW_TL_GRID_DETAIL_MINZOOM, filters, camera view sectors, incident clusters,
 * the server's analysis fields on the grids, extents and empty tiles. */
#include "testutil.h"

#include "gridwatch/hotspot.h"
#include "gridwatch/io.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/tilelayers.h"

#include <gdal.h>
#include <ogr_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define R_EARTH 6378137.0
#define DEG (M_PI / 180)
#define T0 1735689600 /* 2025-01-01T00:00:00Z */

static gw_ctx *ctx;
static gw_tile_id home; /* the z14 tile the model sits in */
static double west, east, south, north;
static gw_store *store;
static gw_model *model;
static gw_model_snapshot *snap;
static gw_tile_source *src;
static gw_mvt *mvt;

/* ---- independent tile math --------------------------------------------------------------- */

static double merc_x(double lon) { return R_EARTH * lon * DEG; }
static double merc_y(double lat) { return R_EARTH * log(tan(M_PI / 4 + lat * DEG / 2)); }
static double tile_lon(uint32_t x, uint32_t z) { return x / (double)(1u << z) * 360 - 180; }
static double tile_lat(uint32_t y, uint32_t z)
{
    return atan(sinh(M_PI * (1 - 2.0 * y / (1u << z)))) / DEG;
}
static gw_tile_id tile_of(double lon, double lat, uint32_t z)
{
    double n = (double)(1u << z), r = lat * DEG;
    return (gw_tile_id){z, (uint32_t)floor((lon + 180) / 360 * n),
                        (uint32_t)floor((1 - log(tan(r) + 1 / cos(r)) / M_PI) / 2 * n)};
}
/* A position as fractions of the home tile (fx from west, fy from south). */
static double lon_at(double fx) { return west + fx * (east - west); }
static double lat_at(double fy) { return south + fy * (north - south); }
/* One tile unit (1/4096 of the tile) at zoom z, in Mercator metres. */
static double unit(uint32_t z) { return 2 * M_PI * R_EARTH / (1u << z) / 4096; }

/* ---- the model --------------------------------------------------------------------------- */

static void import_text(gw_layer layer, const char *name, const char *text)
{
    gw_import_opts o = {0};
    gw_status st = gw_io_import(ctx, store, layer, gw_test_write(name, text), &o, NULL);
    if (st) fail_msg("import %s: %s", name, gw_ctx_errmsg(ctx));
}

/* A square ring [x0,x1]x[y0,y1] (fractions of the home tile) as GeoJSON coordinates. */
static void ring(char *buf, size_t cap, double x0, double y0, double x1, double y1)
{
    snprintf(buf, cap, "[[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f]]", lon_at(x0),
             lat_at(y0), lon_at(x1), lat_at(y0), lon_at(x1), lat_at(y1), lon_at(x0), lat_at(y1),
             lon_at(x0), lat_at(y0));
}

static char *point_feature(char *buf, size_t cap, double fx, double fy, const char *props)
{
    snprintf(
        buf, cap,
        "{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.9f,%.9f]}}",
        props, lon_at(fx), lat_at(fy));
    return buf;
}

static void build_model(void)
{
    home = tile_of(115.48, 35.24, 14);
    west = tile_lon(home.x, 14), east = tile_lon(home.x + 1, 14);
    north = tile_lat(home.y, 14), south = tile_lat(home.y + 1, 14);
    assert_int_equal(gw_store_open(ctx, gw_test_path("layers.db"), GW_STORE_CREATE, &store), GW_OK);

    /* G1 with a hole, G2 a plain square, G3 five tiles east (never in the home tile) */
    char r1[512], h1[512], r2[512], r3[512], text[4096];
    ring(r1, sizeof r1, 0.1, 0.1, 0.4, 0.4);
    ring(h1, sizeof h1, 0.2, 0.3, 0.3, 0.2); /* clockwise: a hole */
    ring(r2, sizeof r2, 0.6, 0.6, 0.9, 0.9);
    ring(r3, sizeof r3, 5.1, 0.1, 5.4, 0.4);
    snprintf(
        text, sizeof text,
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G1\",\"name\":\"Grid one\",\"township\":\"T1\","
        "\"county\":\"C1\",\"population\":1200,\"households\":400,\"worker\":\"W1\",\"phone\":\"111\"},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s,%s]}},"
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G2\",\"name\":\"Grid two\",\"township\":\"T2\","
        "\"county\":\"C1\",\"population\":800},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}},"
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"G3\",\"name\":\"Far\",\"township\":\"T9\","
        "\"county\":\"C9\",\"population\":5},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[%s]}}]}",
        r1, h1, r2, r3);
    import_text(GW_LAYER_GRIDS, "grids.geojson", text);

    char f[6][512];
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s]}",
             point_feature(
                 f[0], sizeof f[0], 0.5, 0.5,
                 "\"id\":\"R1\",\"name\":\"Room\",\"phone\":\"0530\",\"address\":\"1 Main St\""));
    import_text(GW_LAYER_POLICE_ROOMS, "rooms.geojson", text);

    snprintf(
        text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,%s]}",
        point_feature(f[0], sizeof f[0], 0.25, 0.75,
                      "\"id\":\"C1\",\"name\":\"Cam one\",\"azimuth\":90,\"fov\":60,\"range\":100,"
                      "\"height\":5,\"status\":\"online\""),
        point_feature(f[1], sizeof f[1], 0.75, 0.25,
                      "\"id\":\"C2\",\"name\":\"Dome\",\"range\":50,\"status\":\"offline\""));
    import_text(GW_LAYER_CAMERAS, "cameras.geojson", text);

    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s]}",
             point_feature(f[0], sizeof f[0], 0.5, 0.2,
                           "\"id\":\"T1\",\"name\":\"Team\",\"status\":\"busy\",\"members\":3,"
                           "\"updated_at\":\"2025-01-01T01:00:00Z\""));
    import_text(GW_LAYER_TEAMS, "teams.geojson", text);

    /* I1, I2 in G2; I3 in G1's hole; I4 in no grid; I5 in G1; I6 outside the tile */
    snprintf(text, sizeof text, "{\"type\":\"FeatureCollection\",\"features\":[%s,%s,%s,%s,%s,%s]}",
             point_feature(
                 f[0], sizeof f[0], 0.7, 0.7,
                 "\"id\":\"I1\",\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"theft\","
                 "\"severity\":2,\"status\":\"open\",\"description\":\"a long text\""),
             point_feature(
                 f[1], sizeof f[1], 0.8, 0.8,
                 "\"id\":\"I2\",\"occurred_at\":\"2025-01-02T00:00:00Z\",\"category\":\"assault\","
                 "\"severity\":4,\"status\":\"closed\""),
             point_feature(
                 f[2], sizeof f[2], 0.25, 0.25,
                 "\"id\":\"I3\",\"occurred_at\":\"2025-01-03T00:00:00Z\",\"category\":\"theft\","
                 "\"severity\":1,\"status\":\"open\""),
             point_feature(
                 f[3], sizeof f[3], 0.95, 0.05,
                 "\"id\":\"I4\",\"occurred_at\":\"2025-01-04T00:00:00Z\",\"category\":\"fraud\","
                 "\"severity\":3,\"status\":\"open\""),
             point_feature(
                 f[4], sizeof f[4], 0.15, 0.35,
                 "\"id\":\"I5\",\"occurred_at\":\"2025-01-05T00:00:00Z\",\"category\":\"theft\","
                 "\"severity\":5,\"status\":\"closed\""),
             point_feature(
                 f[5], sizeof f[5], 3.5, -2.5,
                 "\"id\":\"I6\",\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"theft\","
                 "\"severity\":1,\"status\":\"open\""));
    import_text(GW_LAYER_INCIDENTS, "incidents.geojson", text);

    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    snap = gw_model_acquire(model);
    assert_non_null(snap);
}

static int64_t fid_of(gw_layer layer, const char *id)
{
    const gw_layer_data *d = gw_snapshot_layer(snap, layer);
    ptrdiff_t row = gw_layer_data_find(d, id);
    assert_true(row >= 0);
    return gw_layer_data_fid(d, (size_t)row);
}

/* ---- the decoder: GDAL's MVT driver ------------------------------------------------------ */

/* Render `parts` of tile t (with extras ex and filter f, both may be NULL) and open it with
 * GDAL; NULL when the tile is empty (0 bytes).  Caller closes with GDALClose(). */
static GDALDatasetH render(uint32_t parts, gw_tile_id t, const gw_tile_filter *f,
                           const gw_tile_extras *ex)
{
    const uint8_t *bytes = NULL;
    size_t len = 0;
    gw_status st = gw_tile_render_ex(ctx, src, mvt, snap, parts, t, f, ex, &bytes, &len);
    if (st) fail_msg("render %u/%u/%u: %s", t.z, t.x, t.y, gw_ctx_errmsg(ctx));
    if (!len) return NULL;
    static int n;
    char name[64];
    snprintf(name, sizeof name, "tile%d.pbf", n++);
    const char *path = gw_test_path(name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
    char oz[32], ox[32], oy[32];
    snprintf(oz, sizeof oz, "Z=%u", t.z), snprintf(ox, sizeof ox, "X=%u", t.x),
        snprintf(oy, sizeof oy, "Y=%u", t.y);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {oz, ox, oy, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    return ds;
}

/* Features of a layer, -1 when the tile has no such layer. */
static int count(GDALDatasetH ds, const char *layer)
{
    OGRLayerH l = ds ? GDALDatasetGetLayerByName(ds, layer) : NULL;
    if (!l) return -1;
    return (int)OGR_L_GetFeatureCount(l, TRUE);
}

/* The feature of `layer` whose property id is `id` (caller destroys), or NULL. */
static OGRFeatureH feature(GDALDatasetH ds, const char *layer, const char *id)
{
    OGRLayerH l = GDALDatasetGetLayerByName(ds, layer);
    if (!l) return NULL;
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        int i = OGR_F_GetFieldIndex(f, "id");
        if (i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) &&
            strcmp(OGR_F_GetFieldAsString(f, i), id) == 0)
            return f;
        OGR_F_Destroy(f);
    }
    return NULL;
}

static int has(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i);
}
static const char *str(OGRFeatureH f, const char *name)
{
    if (!has(f, name)) fail_msg("property %s missing", name);
    return OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, name));
}
static int64_t num_i(OGRFeatureH f, const char *name)
{
    if (!has(f, name)) fail_msg("property %s missing", name);
    return OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, name));
}
static double num_d(OGRFeatureH f, const char *name)
{
    if (!has(f, name)) fail_msg("property %s missing", name);
    return OGR_F_GetFieldAsDouble(f, OGR_F_GetFieldIndex(f, name));
}

/* Feature f carries exactly the model's values of row `id` for the named fields (NULL-terminated):
 * a null in the model is an absent property, text is equal, numbers are equal. */
static void assert_model_props(OGRFeatureH f, gw_layer layer, const char *id,
                               const char *const *fields)
{
    const gw_layer_data *d = gw_snapshot_layer(snap, layer);
    ptrdiff_t row = gw_layer_data_find(d, id);
    assert_true(row >= 0);
    for (size_t i = 0; fields[i]; i++) {
        int fi = gw_layer_field_index(layer, fields[i]);
        assert_true(fi >= 0);
        gw_value v = gw_layer_data_value(d, (size_t)row, fi);
        if (v.kind == GW_VAL_NULL) {
            if (has(f, fields[i]))
                fail_msg("%s %s: %s is null in the model but in the tile", gw_layer_name(layer), id,
                         fields[i]);
        } else if (v.kind == GW_VAL_TEXT) {
            assert_string_equal(str(f, fields[i]), v.s);
        } else if (v.kind == GW_VAL_INT) {
            assert_int_equal(num_i(f, fields[i]), v.i);
        } else {
            assert_true(num_d(f, fields[i]) == v.d);
        }
    }
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_layer_table(void **state)
{
    (void)state;
    for (int l = 0; l < GW_TL_COUNT; l++) {
        gw_tile_layer back;
        assert_int_equal(gw_tile_layer_from_name(ctx, gw_tile_layer_name((gw_tile_layer)l), &back),
                         GW_OK);
        assert_int_equal(back, l);
        if (l < GW_LAYER_COUNT)
            assert_string_equal(gw_tile_layer_name((gw_tile_layer)l), gw_layer_name((gw_layer)l));
        assert_int_equal(gw_tile_layer_parts((gw_tile_layer)l),
                         l == GW_TL_CITY ? GW_TL_ALL_PARTS : 1u << l);
    }
    assert_null(gw_tile_layer_name(GW_TL_COUNT));
    assert_int_equal(gw_tile_layer_parts(GW_TL_COUNT), 0);
    gw_tile_layer out;
    assert_int_equal(gw_tile_layer_from_name(ctx, "roads", &out), GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'roads'"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "camera_views"));
    assert_int_equal(gw_tile_layer_minzoom(GW_TL_CAMERA_VIEWS), GW_TL_VIEWS_MINZOOM);
    assert_int_equal(gw_tile_layer_minzoom(GW_TL_BLIND_SPOTS), GW_TL_BLIND_MINZOOM);
    assert_int_equal(gw_tile_layer_minzoom(GW_TL_INCIDENTS), 0);

    /* props: the grids' detail fields then the eleven analysis fields, the ten response
     * figures and the three road reach shares; incidents without description */
    const char *names[32], *types[32];
    size_t n = gw_tile_layer_props(GW_TL_GRIDS, names, types, 32);
    static const char *const grid_want[] = {"id",
                                            "name",
                                            "township",
                                            "county",
                                            "population",
                                            "prefecture",
                                            "village",
                                            "coverage_ratio",
                                            "covered_m2",
                                            "cameras",
                                            "room_reach",
                                            "gi_z",
                                            "gi_p",
                                            "gi_bin",
                                            "gi_class",
                                            "gi_count",
                                            "clusters",
                                            "cluster_rr",
                                            "resp_incidents",
                                            "resp_open",
                                            "resp_overdue",
                                            "resp_overdue_share",
                                            "resp_escalation_rate",
                                            "resp_accept_p50_s",
                                            "resp_accept_p90_s",
                                            "resp_arrive_p50_s",
                                            "resp_close_p50_s",
                                            "resp_close_p90_s",
                                            "reach_3m",
                                            "reach_5m",
                                            "reach_10m"};
    assert_int_equal(n, 31);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], grid_want[i]);
        int text = i < 4 || i == 5 || i == 6 || i == 14;
        assert_string_equal(types[i], text ? "String" : "Number");
    }
    assert_int_equal(gw_tile_layer_props(GW_TL_GRIDS, names, types, 3), 3); /* cap respected */
    n = gw_tile_layer_props(GW_TL_INCIDENTS, names, types, 32);
    static const char *const inc_want[] = {"id",     "occurred_at", "category", "severity",
                                           "status", "grid",        "cluster",  "count"};
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++) assert_string_equal(names[i], inc_want[i]);
    assert_string_equal(types[6], "Boolean");
    n = gw_tile_layer_props(GW_TL_HOTSPOT_CLUSTERS, names, types, 32);
    assert_int_equal(n, 7);
    assert_string_equal(names[0], "rank");
    assert_string_equal(names[5], "trend");
    assert_string_equal(types[5], "String");
    assert_string_equal(types[6], "Boolean");
    n = gw_tile_layer_props(GW_TL_BLIND_SPOTS, names, types, 32);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "grid");
    assert_string_equal(names[1], "blind_m2");
    assert_int_equal(gw_tile_layer_props(GW_TL_CITY, names, types, 32), 0);
}

static void test_city_tile_matches_model(void **state)
{
    (void)state;
    GDALDatasetH ds = render(GW_TL_ALL_PARTS, home, NULL, NULL);
    assert_non_null(ds);
    /* z14: no camera views (from z15), no blind spots (no supplier) */
    assert_int_equal(GDALDatasetGetLayerCount(ds), 5);
    assert_int_equal(count(ds, "grids"), 2);
    assert_int_equal(count(ds, "police_rooms"), 1);
    assert_int_equal(count(ds, "cameras"), 2);
    assert_int_equal(count(ds, "teams"), 1);
    assert_int_equal(count(ds, "incidents"), 5);
    assert_int_equal(count(ds, "camera_views"), -1);
    assert_null(feature(ds, "grids", "G3"));
    assert_null(feature(ds, "incidents", "I6"));
    double u = unit(14);

    /* grids: detail properties, fid, hole, area in Mercator */
    OGRFeatureH g = feature(ds, "grids", "G1");
    assert_non_null(g);
    assert_int_equal(num_i(g, "mvt_id"), fid_of(GW_LAYER_GRIDS, "G1"));
    assert_string_equal(str(g, "name"), "Grid one");
    assert_string_equal(str(g, "township"), "T1");
    assert_string_equal(str(g, "county"), "C1");
    assert_int_equal(num_i(g, "population"), 1200);
    assert_false(has(g, "households") || has(g, "worker") || has(g, "phone"));
    OGRGeometryH geom = OGR_F_GetGeometryRef(g);
    if (wkbFlatten(OGR_G_GetGeometryType(geom)) ==
        wkbMultiPolygon) { /* GDAL reads polygon layers as multi */
        assert_int_equal(OGR_G_GetGeometryCount(geom), 1);
        geom = OGR_G_GetGeometryRef(geom, 0);
    }
    assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(geom)), wkbPolygon);
    assert_int_equal(OGR_G_GetGeometryCount(geom), 2); /* exterior + hole */
    double w = merc_x(lon_at(0.4)) - merc_x(lon_at(0.1)),
           h = merc_y(lat_at(0.4)) - merc_y(lat_at(0.1));
    double hw = merc_x(lon_at(0.3)) - merc_x(lon_at(0.2)),
           hh = merc_y(lat_at(0.3)) - merc_y(lat_at(0.2));
    double want = w * h - hw * hh;
    assert_true(fabs(OGR_G_Area(geom) - want) < 2 * u * (2 * (w + h) + 2 * (hw + hh)));
    OGR_F_Destroy(g);
    g = feature(ds, "grids", "G2");
    assert_non_null(g);
    assert_int_equal(num_i(g, "mvt_id"), fid_of(GW_LAYER_GRIDS, "G2"));
    assert_int_equal(num_i(g, "population"), 800);
    OGR_F_Destroy(g);

    /* points: every property of the model's row, the position to half a tile unit */
    OGRFeatureH p = feature(ds, "police_rooms", "R1");
    assert_non_null(p);
    assert_int_equal(num_i(p, "mvt_id"), fid_of(GW_LAYER_POLICE_ROOMS, "R1"));
    assert_string_equal(str(p, "name"), "Room");
    assert_string_equal(str(p, "phone"), "0530");
    assert_string_equal(str(p, "address"), "1 Main St");
    OGRGeometryH pg = OGR_F_GetGeometryRef(p);
    assert_true(fabs(OGR_G_GetX(pg, 0) - merc_x(lon_at(0.5))) <= 0.51 * u);
    assert_true(fabs(OGR_G_GetY(pg, 0) - merc_y(lat_at(0.5))) <= 0.51 * u);
    OGR_F_Destroy(p);

    p = feature(ds, "cameras", "C1");
    assert_non_null(p);
    assert_string_equal(str(p, "name"), "Cam one");
    assert_true(num_d(p, "azimuth") == 90 && num_d(p, "fov") == 60 && num_d(p, "range") == 100);
    assert_true(num_d(p, "height") == 5);
    assert_string_equal(str(p, "status"), "online");
    OGR_F_Destroy(p);
    p = feature(ds, "cameras", "C2");
    assert_non_null(p);
    assert_true(num_d(p, "fov") == 360); /* the import's default: a dome */
    assert_false(has(p, "height"));      /* null in the model: left out */
    assert_true(num_d(p, "range") == 50);
    static const char *const cam_fields[] = {"id",    "name",   "azimuth", "fov",
                                             "range", "height", "status",  NULL};
    assert_model_props(p, GW_LAYER_CAMERAS, "C2", cam_fields);
    OGR_F_Destroy(p);

    p = feature(ds, "teams", "T1");
    assert_non_null(p);
    assert_int_equal(num_i(p, "members"), 3);
    assert_int_equal(num_i(p, "updated_at"), T0 + 3600);
    assert_string_equal(str(p, "status"), "busy");
    OGR_F_Destroy(p);

    static const struct {
        const char *id, *cat, *status, *grid;
        int sev, day;
        double fx, fy;
    } inc[] = {{"I1", "theft", "open", "G2", 2, 0, 0.7, 0.7},
               {"I2", "assault", "closed", "G2", 4, 1, 0.8, 0.8},
               {"I3", "theft", "open", NULL, 1, 2, 0.25, 0.25},
               {"I4", "fraud", "open", NULL, 3, 3, 0.95, 0.05},
               {"I5", "theft", "closed", "G1", 5, 4, 0.15, 0.35}};
    for (size_t i = 0; i < 5; i++) {
        p = feature(ds, "incidents", inc[i].id);
        assert_non_null(p);
        assert_int_equal(num_i(p, "mvt_id"), fid_of(GW_LAYER_INCIDENTS, inc[i].id));
        assert_string_equal(str(p, "category"), inc[i].cat);
        assert_string_equal(str(p, "status"), inc[i].status);
        assert_int_equal(num_i(p, "severity"), inc[i].sev);
        assert_int_equal(num_i(p, "occurred_at"), T0 + inc[i].day * 86400);
        if (inc[i].grid) assert_string_equal(str(p, "grid"), inc[i].grid);
        else assert_false(has(p, "grid")); /* in a hole, or in no grid */
        assert_false(has(p, "description") || has(p, "cluster"));
        static const char *const inc_fields[] = {"id",     "occurred_at", "category", "severity",
                                                 "status", "grid",        NULL};
        assert_model_props(p, GW_LAYER_INCIDENTS, inc[i].id, inc_fields);
        pg = OGR_F_GetGeometryRef(p);
        assert_true(fabs(OGR_G_GetX(pg, 0) - merc_x(lon_at(inc[i].fx))) <= 0.51 * u);
        assert_true(fabs(OGR_G_GetY(pg, 0) - merc_y(lat_at(inc[i].fy))) <= 0.51 * u);
        OGR_F_Destroy(p);
    }
    GDALClose(ds);

    /* one part alone: only that layer */
    ds = render(gw_tile_layer_parts(GW_TL_TEAMS), home, NULL, NULL);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 1);
    assert_int_equal(count(ds, "teams"), 1);
    GDALClose(ds);
    /* a tile far from the data is empty: 0 bytes */
    assert_null(render(GW_TL_ALL_PARTS, (gw_tile_id){14, home.x + 40, home.y + 40}, NULL, NULL));
}

/* Below GW_TL_GRID_DETAIL_MINZOOM the grids keep only their id (and the analysis fields). */
static void test_coarse_grids(void **state)
{
    (void)state;
    gw_tile_id t = {9, home.x >> 5, home.y >> 5};
    GDALDatasetH ds = render(gw_tile_layer_parts(GW_TL_GRIDS), t, NULL, NULL);
    assert_non_null(ds);
    assert_int_equal(count(ds, "grids"), 3); /* G3 is in the same z9 tile */
    OGRFeatureH g = feature(ds, "grids", "G1");
    assert_non_null(g);
    assert_false(has(g, "name") || has(g, "township") || has(g, "county") || has(g, "population"));
    OGR_F_Destroy(g);
    GDALClose(ds);
    /* the city at z9: rooms with id and name, teams with id and status, no cameras (the
     * cameras layer alone still has them) */
    ds = render(GW_TL_ALL_PARTS, t, NULL, NULL);
    OGRFeatureH r = feature(ds, "police_rooms", "R1");
    assert_non_null(r);
    assert_string_equal(str(r, "name"), "Room");
    assert_false(has(r, "phone") || has(r, "address"));
    OGR_F_Destroy(r);
    r = feature(ds, "teams", "T1");
    assert_non_null(r);
    assert_string_equal(str(r, "status"), "busy");
    assert_false(has(r, "name") || has(r, "members") || has(r, "updated_at"));
    OGR_F_Destroy(r);
    assert_int_equal(count(ds, "cameras"), -1);
    GDALClose(ds);
    ds = render(gw_tile_layer_parts(GW_TL_CAMERAS), t, NULL, NULL);
    assert_int_equal(count(ds, "cameras"), 2);
    GDALClose(ds);
    t = (gw_tile_id){10, home.x >> 4, home.y >> 4};
    ds = render(gw_tile_layer_parts(GW_TL_GRIDS), t, NULL, NULL);
    g = feature(ds, "grids", "G1");
    assert_non_null(g);
    assert_string_equal(str(g, "name"), "Grid one");
    assert_string_equal(str(g, "township"), "T1");
    assert_int_equal(num_i(g, "population"), 1200);
    OGR_F_Destroy(g);
    GDALClose(ds);
}

static void test_filters(void **state)
{
    (void)state;
    uint32_t all = GW_TL_ALL_PARTS;
    gw_tile_filter f = {0};
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "category", "theft"), GW_OK);
    GDALDatasetH ds = render(all, home, &f, NULL);
    assert_int_equal(count(ds, "incidents"), 3); /* I1, I3, I5 */
    OGRFeatureH i3 = feature(ds, "incidents", "I3");
    assert_non_null(i3);
    OGR_F_Destroy(i3);
    assert_int_equal(count(ds, "grids"), 2); /* no category field: not filtered */
    assert_int_equal(count(ds, "cameras"), 2);
    GDALClose(ds);

    /* status applies to cameras, teams and incidents alike */
    f = (gw_tile_filter){0};
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "status", "open"), GW_OK);
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "severity", "1"), GW_OK);
    ds = render(all, home, &f, NULL);
    assert_int_equal(count(ds, "incidents"), 1); /* I3 */
    assert_int_equal(count(ds, "cameras"), -1);  /* none "open": the layer is left out */
    assert_int_equal(count(ds, "teams"), -1);
    assert_int_equal(count(ds, "grids"), 2);
    GDALClose(ds);

    /* a time window: incidents by occurred_at, teams by updated_at */
    f = (gw_tile_filter){.has_lo = true, .lo = T0 + 86400, .has_hi = true, .hi = T0 + 3 * 86400};
    ds = render(all, home, &f, NULL);
    assert_int_equal(count(ds, "incidents"), 3); /* I2, I3, I4 */
    assert_int_equal(count(ds, "teams"), -1);
    assert_int_equal(count(ds, "police_rooms"), 1);
    GDALClose(ds);

    /* the cache key: sorted, datetime written out */
    f = (gw_tile_filter){.has_lo = true, .lo = T0};
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "status", "open"), GW_OK);
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "category", "theft"), GW_OK);
    char key[256];
    gw_tile_filter_key(&f, key, sizeof key);
    assert_string_equal(key, "category=theft&datetime=1735689600/..&status=open");
    gw_tile_filter_key(NULL, key, sizeof key);
    assert_string_equal(key, "");

    /* refused: unknown name (for these parts), a non-integer for an integer field, too many, too long */
    f = (gw_tile_filter){0};
    assert_int_equal(gw_tile_filter_add(ctx, &f, gw_tile_layer_parts(GW_TL_GRIDS), "category",
                                        "theft"),
                     GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "township"));
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "severity", "high"), GW_ERR_FORMAT);
    char longv[200];
    memset(longv, 'x', sizeof longv - 1), longv[sizeof longv - 1] = '\0';
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "status", longv), GW_ERR_RANGE);
    for (int i = 0; i < GW_TILE_MAX_FILTERS; i++)
        assert_int_equal(gw_tile_filter_add(ctx, &f, all, "status", "open"), GW_OK);
    assert_int_equal(gw_tile_filter_add(ctx, &f, all, "status", "open"), GW_ERR_RANGE);
    assert_int_equal(f.n, GW_TILE_MAX_FILTERS);
}

/* Camera view sectors from z15: a 60° sector of radius range / cos(lat) and a full disc. */
static void test_camera_views(void **state)
{
    (void)state;
    uint32_t parts = gw_tile_layer_parts(GW_TL_CAMERA_VIEWS);
    assert_null(render(parts, home, NULL, NULL)); /* z14: none */
    for (int c = 0; c < 2; c++) {
        const char *id = c ? "C2" : "C1";
        double fx = c ? 0.75 : 0.25, fy = c ? 0.25 : 0.75, range = c ? 50 : 100, fov = c ? 360 : 60;
        gw_tile_id t = tile_of(lon_at(fx), lat_at(fy), 15);
        GDALDatasetH ds = render(parts, t, NULL, NULL);
        assert_non_null(ds);
        OGRFeatureH v = feature(ds, "camera_views", id);
        assert_non_null(v);
        assert_int_equal(num_i(v, "mvt_id"), fid_of(GW_LAYER_CAMERAS, id));
        assert_true(num_d(v, "range") == range);
        assert_false(has(v, "name"));
        double r = range / cos(lat_at(fy) * DEG);
        double want = M_PI * r * r * fov / 360;
        double got = OGR_G_Area(OGR_F_GetGeometryRef(v));
        print_message("camera %s: sector %.1f m2 (Mercator), closed form %.1f\n", id, got, want);
        assert_true(fabs(got - want) / want < 0.02);
        /* the sector of C1 opens to the east (azimuth 90): its centroid lies east of the camera */
        if (!c) {
            OGRGeometryH cen = OGR_G_CreateGeometry(wkbPoint);
            assert_int_equal(OGR_G_Centroid(OGR_F_GetGeometryRef(v), cen), OGRERR_NONE);
            double dx = OGR_G_GetX(cen, 0) - merc_x(lon_at(fx)),
                   dy = OGR_G_GetY(cen, 0) - merc_y(lat_at(fy));
            assert_true(dx > 0.5 * r && fabs(dy) < 0.05 * r);
            OGR_G_DestroyGeometry(cen);
        }
        OGR_F_Destroy(v);
        GDALClose(ds);
    }
    /* the reach the server uses to invalidate view tiles: the largest range / cos(lat) */
    double reach = gw_tile_views_reach(ctx, src, snap);
    assert_true(fabs(reach - 100 / cos(lat_at(0.75) * DEG)) < 1e-6);
}

/* The server's analysis fields ride on the grids when they are for this version of the grids. */
static void test_grid_fields(void **state)
{
    (void)state;
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(d);
    assert_int_equal(n, 3);
    double ratio[3], covered[3], reach[3], z[3], p[3];
    int32_t cams[3], cnt[3];
    int8_t bin[3];
    uint8_t cls[3];
    for (size_t r = 0; r < n; r++) {
        ratio[r] = 0.25 * (double)(r + 1), covered[r] = 1000.0 * (double)r, reach[r] = 0.5;
        z[r] = 1.5 + (double)r, p[r] = 0.01 * (double)(r + 1);
        cams[r] = (int32_t)r + 2, cnt[r] = 10 * (int32_t)r, bin[r] = (int8_t)r,
        cls[r] = GW_HS_HOT_95;
    }
    ptrdiff_t g1 = gw_layer_data_find(d, "G1"), g2 = gw_layer_data_find(d, "G2");
    z[g2] = NAN;              /* left out */
    bin[g2] = GW_TILE_NO_BIN; /* left out */
    gw_tile_grid_fields gf = {.grids_seq = gw_layer_data_seq(d),
                              .n = n,
                              .coverage_ratio = ratio,
                              .covered_m2 = covered,
                              .room_reach = reach,
                              .cameras = cams,
                              .gi_z = z,
                              .gi_p = p,
                              .gi_bin = bin,
                              .gi_class = cls,
                              .gi_count = cnt};
    gw_tile_extras ex = {.grid = &gf};
    uint32_t parts = gw_tile_layer_parts(GW_TL_GRIDS);
    GDALDatasetH ds = render(parts, home, NULL, &ex);
    OGRFeatureH f = feature(ds, "grids", "G1");
    assert_non_null(f);
    assert_true(num_d(f, "coverage_ratio") == ratio[g1]);
    assert_true(num_d(f, "covered_m2") == covered[g1]);
    assert_true(num_d(f, "room_reach") == reach[g1]);
    assert_true(num_d(f, "gi_z") == z[g1]);
    assert_true(num_d(f, "gi_p") == p[g1]);
    assert_int_equal(num_i(f, "cameras"), cams[g1]);
    assert_int_equal(num_i(f, "gi_count"), cnt[g1]);
    assert_int_equal(num_i(f, "gi_bin"), bin[g1]);
    assert_string_equal(str(f, "gi_class"), "hot_95");
    OGR_F_Destroy(f);
    f = feature(ds, "grids", "G2");
    assert_non_null(f);
    assert_false(has(f, "gi_z") || has(f, "gi_bin"));
    assert_true(num_d(f, "coverage_ratio") == ratio[g2]);
    OGR_F_Destroy(f);
    GDALClose(ds);
    /* below the detail zoom only coverage_ratio and gi_bin */
    ds = render(parts, (gw_tile_id){9, home.x >> 5, home.y >> 5}, NULL, &ex);
    f = feature(ds, "grids", "G1");
    assert_non_null(f);
    assert_true(has(f, "coverage_ratio") && has(f, "gi_bin"));
    assert_false(has(f, "gi_z") || has(f, "cameras") || has(f, "gi_class"));
    OGR_F_Destroy(f);
    GDALClose(ds);
    /* fields computed for another version of the grids are not used */
    gf.grids_seq++;
    ds = render(parts, home, NULL, &ex);
    f = feature(ds, "grids", "G1");
    assert_non_null(f);
    assert_false(has(f, "coverage_ratio") || has(f, "gi_z"));
    OGR_F_Destroy(f);
    GDALClose(ds);
}

static void test_extent(void **state)
{
    (void)state;
    gw_bbox e;
    assert_int_equal(gw_tile_extent(ctx, src, snap, GW_TL_ALL_PARTS, &e), GW_OK);
    /* G3 reaches 5.4 tiles east; I6 3.5 east and 2.5 south */
    assert_true(fabs(e.minx - lon_at(0.1)) < 1e-9 && fabs(e.maxx - lon_at(5.4)) < 1e-9);
    assert_true(fabs(e.miny - lat_at(-2.5)) < 1e-9 && fabs(e.maxy - lat_at(0.9)) < 1e-9);
    assert_int_equal(gw_tile_extent(ctx, src, snap, gw_tile_layer_parts(GW_TL_POLICE_ROOMS), &e),
                     GW_OK);
    assert_true(fabs(e.minx - lon_at(0.5)) < 1e-9 && e.minx == e.maxx && e.miny == e.maxy);
}

/* More than GW_TL_CLUSTER_MAX incidents in a tile become cluster points whose counts add up. */
static void test_clusters(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("clusters.db"), GW_STORE_CREATE, &s), GW_OK);
    enum { N = 4500 };
    static const char *const cats[3] = {"theft", "assault", "fraud"};
    size_t cap = (size_t)N * 96 + 64, len = 0;
    char *csv = malloc(cap);
    assert_non_null(csv);
    len += (size_t)snprintf(csv, cap, "id,date,category,longitude,latitude\n");
    for (int i = 0; i < N; i++) /* a 75 x 60 lattice inside the home tile's north-west quarter */
        len += (size_t)snprintf(csv + len, cap - len, "K%d,2025-01-01T00:00:00Z,%s,%.9f,%.9f\n", i,
                                cats[i % 3], lon_at(0.05 + 0.4 * (i % 75) / 75.0),
                                lat_at(0.55 + 0.4 * (i / 75) / 60.0));
    gw_import_opts o = {.map = "occurred_at=date"};
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_INCIDENTS, gw_test_write("many.csv", csv), &o,
                                  NULL),
                     GW_OK);
    free(csv);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *sn = gw_model_acquire(m);
    gw_tile_source *cs = NULL;
    assert_int_equal(gw_tile_source_create(ctx, &cs), GW_OK);
    gw_model_snapshot *keep = snap;
    gw_tile_source *keep_src = src;
    snap = sn, src = cs;

    GDALDatasetH ds = render(gw_tile_layer_parts(GW_TL_INCIDENTS), home, NULL, NULL);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "incidents");
    assert_non_null(l);
    int64_t total = 0, per[3] = {0}, feats = 0;
    OGRFeatureH f;
    OGR_L_ResetReading(l);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        feats++;
        assert_int_equal(num_i(f, "cluster"), 1);
        assert_false(has(f, "id") || has(f, "mvt_id")); /* clusters carry no feature id */
        int64_t c = num_i(f, "count"), sum = 0;
        for (int k = 0; k < 3; k++) {
            char key[32];
            snprintf(key, sizeof key, "count_%s", cats[k]);
            if (has(f, key)) per[k] += num_i(f, key), sum += num_i(f, key);
        }
        assert_int_equal(sum, c); /* the categories split the count */
        total += c;
        /* every cluster point lies in the quarter the incidents are in */
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_true(OGR_G_GetX(g, 0) >= merc_x(lon_at(0.05)) - unit(14) &&
                    OGR_G_GetX(g, 0) <= merc_x(lon_at(0.45)) + unit(14));
        assert_true(OGR_G_GetY(g, 0) >= merc_y(lat_at(0.55)) - unit(14) &&
                    OGR_G_GetY(g, 0) <= merc_y(lat_at(0.95)) + unit(14));
        OGR_F_Destroy(f);
    }
    print_message("%d incidents in %lld cluster points\n", N, (long long)feats);
    assert_int_equal(total, N);
    for (int k = 0; k < 3; k++) assert_int_equal(per[k], N / 3);
    assert_true(feats > 1 && feats < N);
    GDALClose(ds);
    /* a filter that leaves fewer than the limit: single points again, with their ids */
    gw_tile_filter flt = {0};
    assert_int_equal(gw_tile_filter_add(ctx, &flt, gw_tile_layer_parts(GW_TL_INCIDENTS), "category",
                                        "fraud"),
                     GW_OK);
    ds = render(gw_tile_layer_parts(GW_TL_INCIDENTS), home, &flt, NULL);
    assert_int_equal(count(ds, "incidents"), N / 3);
    f = feature(ds, "incidents", "K2");
    assert_non_null(f);
    assert_string_equal(str(f, "category"), "fraud");
    assert_false(has(f, "cluster"));
    OGR_F_Destroy(f);
    GDALClose(ds);

    snap = keep, src = keep_src;
    gw_tile_source_destroy(cs);
    gw_model_release(ctx, sn);
    gw_model_close(m);
    gw_store_close(s);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    ctx = gw_test_ctx();
    if (!ctx) return -1;
    build_model();
    if (gw_tile_source_create(ctx, &src) != GW_OK) return -1;
    return gw_mvt_create(ctx, home, NULL, &mvt) == GW_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_mvt_destroy(mvt);
    gw_tile_source_destroy(src);
    gw_model_release(ctx, snap);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_table),  cmocka_unit_test(test_city_tile_matches_model),
        cmocka_unit_test(test_coarse_grids), cmocka_unit_test(test_filters),
        cmocka_unit_test(test_camera_views), cmocka_unit_test(test_grid_fields),
        cmocka_unit_test(test_extent),       cmocka_unit_test(test_clusters),
    };
    return cmocka_run_group_tests_name("layers", tests, setup, teardown);
}
