/* test_model.c — the in-memory model: it holds exactly what the store holds, in three CRSs;
 * committed writes appear after a refresh while older snapshots stay as they were; uncommitted
 * writes never appear; many readers run safely while a writer commits and refreshes. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* cmocka 1.1 compares only floats; coordinates need doubles. */
static void near_(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) near_((double)(a), (double)(b), (eps), __FILE__, __LINE__)

#define LON0 115.40
#define LAT0 35.20
#define STEP 0.01 /* grid cell size in degrees */
#define NG 4      /* NG x NG grids */
#define NCAM 200
#define NINC 300

/* Grid (i, j) covers [LON0 + i*STEP, +STEP] x [LAT0 + j*STEP, +STEP]; id "G<i><j>". */
static void grid_wkb(gw_ctx *ctx, int i, int j, unsigned char **wkb, size_t *len)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    char wkt[256];
    double x0 = LON0 + i * STEP, y0 = LAT0 + j * STEP, x1 = x0 + STEP, y1 = y0 + STEP;
    snprintf(wkt, sizeof wkt, "POLYGON((%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f))", x0, y0,
             x1, y0, x1, y1, x0, y1, x0, y0);
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt);
    assert_non_null(g);
    *wkb = GEOSWKBWriter_write_r(h, w, g, len);
    GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, r);
    GEOSWKBWriter_destroy_r(h, w);
}

/* Deterministic camera / incident positions inside the grid block. */
static double cam_lon(int k) { return LON0 + 0.0005 + (k * 37 % 390) * 0.0001; }
static double cam_lat(int k) { return LAT0 + 0.0005 + (k * 53 % 390) * 0.0001; }
static double inc_lon(int k) { return LON0 + 0.0003 + (k * 71 % 397) * 0.0001; }
static double inc_lat(int k) { return LAT0 + 0.0003 + (k * 29 % 397) * 0.0001; }

static void add_incident(gw_inserter *ins, int k)
{
    char id[32];
    snprintf(id, sizeof id, "I%06d", k);
    gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0},
                     {GW_VAL_INT, NULL, 1735660800 + k * 60, 0},
                     {GW_VAL_TEXT, k % 3 ? "theft" : "fight", 0, 0},
                     {k % 5 ? GW_VAL_INT : GW_VAL_NULL, NULL, 1 + k % 5, 0},
                     {GW_VAL_TEXT, "open", 0, 0},
                     {GW_VAL_NULL, NULL, 0, 0},
                     {GW_VAL_NULL, NULL, 0, 0}};
    gw_feature f = {v, NULL, 0, inc_lon(k), inc_lat(k)};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
}

/* A fresh store file with NG*NG grids, 3 rooms, NCAM cameras, 4 teams, NINC incidents. */
static gw_store *make_store(gw_ctx *ctx, const char *name)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path(name), GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(LON0, LAT0)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    for (int i = 0; i < NG; i++) {
        for (int j = 0; j < NG; j++) {
            char id[32];
            snprintf(id, sizeof id, "G%d%d", i, j);
            gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0},     {GW_VAL_TEXT, "grid", 0, 0},
                             {GW_VAL_TEXT, "town", 0, 0}, {GW_VAL_TEXT, "county", 0, 0},
                             {GW_VAL_INT, NULL, 100 * i + j, 0}, {GW_VAL_NULL, NULL, 0, 0},
                             {GW_VAL_NULL, NULL, 0, 0},   {GW_VAL_NULL, NULL, 0, 0}};
            unsigned char *wkb;
            size_t len;
            grid_wkb(ctx, i, j, &wkb, &len);
            gw_feature f = {v, wkb, len, 0, 0};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
            GEOSFree_r(gw_ctx_geos(ctx), wkb);
        }
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_POLICE_ROOMS, &ins), GW_OK);
    for (int k = 0; k < 3; k++) {
        char id[32];
        snprintf(id, sizeof id, "P%d", k);
        gw_value v[4] = {{GW_VAL_TEXT, id, 0, 0}, {GW_VAL_TEXT, "room", 0, 0},
                         {GW_VAL_NULL, NULL, 0, 0}, {GW_VAL_NULL, NULL, 0, 0}};
        gw_feature f = {v, NULL, 0, LON0 + 0.01 * k, LAT0 + 0.005};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_CAMERAS, &ins), GW_OK);
    for (int k = 0; k < NCAM; k++) {
        char id[32];
        snprintf(id, sizeof id, "C%04d", k);
        gw_value v[7] = {{GW_VAL_TEXT, id, 0, 0},        {GW_VAL_TEXT, "cam", 0, 0},
                         {GW_VAL_REAL, NULL, 0, k % 360}, {GW_VAL_REAL, NULL, 0, 90},
                         {GW_VAL_REAL, NULL, 0, 50},      {GW_VAL_NULL, NULL, 0, 0},
                         {GW_VAL_TEXT, k % 7 ? "online" : "offline", 0, 0}};
        gw_feature f = {v, NULL, 0, cam_lon(k), cam_lat(k)};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_TEAMS, &ins), GW_OK);
    for (int k = 0; k < 4; k++) {
        char id[32];
        snprintf(id, sizeof id, "T%d", k);
        gw_value v[5] = {{GW_VAL_TEXT, id, 0, 0}, {GW_VAL_TEXT, "team", 0, 0},
                         {GW_VAL_TEXT, k % 2 ? "busy" : "available", 0, 0},
                         {GW_VAL_INT, NULL, 2 + k, 0}, {GW_VAL_INT, NULL, 1735660800, 0}};
        gw_feature f = {v, NULL, 0, LON0 + 0.005 * k, LAT0 + 0.02};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    for (int k = 0; k < NINC; k++) add_incident(ins, k);
    gw_inserter_destroy(ins);
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        assert_int_equal(gw_store_log_change(s, (gw_layer)l, "import", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

/* Insert incident k and commit it with one change-log entry. */
static void commit_incident(gw_store *s, int k)
{
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    add_incident(ins, k);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "insert", "x", NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
}

static void test_load_matches_store(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = make_store(ctx, "load.sqlite");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    int srid = gw_crs_metric_for(LON0, LAT0);
    assert_int_equal(gw_model_metric_srid(m), srid);
    gw_model_snapshot *snap = gw_model_acquire(m);
    int64_t last = 0;
    assert_int_equal(gw_store_last_seq(s, &last), GW_OK);
    assert_int_equal(gw_snapshot_seq(snap), last);
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        int64_t n = 0;
        assert_int_equal(gw_store_count(s, (gw_layer)l, &n), GW_OK);
        assert_int_equal(gw_layer_data_count(gw_snapshot_layer(snap, (gw_layer)l)), (size_t)n);
    }
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_INCIDENTS)), NINC);

    /* values, NULLs and times of an incident; the id lookup */
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    ptrdiff_t r = gw_layer_data_find(inc, "I000010");
    assert_true(r >= 0);
    assert_string_equal(gw_layer_data_id(inc, (size_t)r), "I000010");
    assert_int_equal(gw_layer_data_value(inc, (size_t)r, 1).i, 1735660800 + 600);
    assert_string_equal(gw_layer_data_text(inc, (size_t)r, 2), "theft");
    assert_int_equal(gw_layer_data_value(inc, (size_t)r, 3).kind, GW_VAL_NULL); /* 10 % 5 == 0 */
    assert_int_equal(gw_layer_data_nulls(inc, 3)[r], 1);
    assert_null(gw_layer_data_text(inc, (size_t)r, 5));
    ptrdiff_t r11 = gw_layer_data_find(inc, "I000011");
    assert_int_equal(gw_layer_data_ints(inc, 3)[r11], 2);
    assert_int_equal(gw_layer_data_find(inc, "I999999"), -1);
    assert_int_equal(gw_layer_data_find(inc, ""), -1);

    /* coordinates: lon/lat as stored, metric and Mercator as a direct gw_crs transform gives */
    gw_crs wgs = {GW_CRS_EPSG, 4326}, met = {GW_CRS_EPSG, srid}, merc = {GW_CRS_EPSG, 3857};
    gw_crs_transform *tm = NULL, *tw = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, wgs, met, &tm), GW_OK);
    assert_int_equal(gw_crs_transform_create(ctx, wgs, merc, &tw), GW_OK);
    const gw_layer_data *cam = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    for (int k = 0; k < NCAM; k += 37) {
        char id[32];
        snprintf(id, sizeof id, "C%04d", k);
        ptrdiff_t cr = gw_layer_data_find(cam, id);
        assert_true(cr >= 0);
        assert_near(gw_layer_data_x(cam, GW_MODEL_LONLAT)[cr], cam_lon(k), 1e-12);
        assert_near(gw_layer_data_y(cam, GW_MODEL_LONLAT)[cr], cam_lat(k), 1e-12);
        double x = cam_lon(k), y = cam_lat(k), wx = x, wy = y;
        assert_int_equal(gw_crs_transform_points(tm, &x, &y, 1), GW_OK);
        assert_int_equal(gw_crs_transform_points(tw, &wx, &wy, 1), GW_OK);
        assert_near(gw_layer_data_x(cam, GW_MODEL_METRIC)[cr], x, 1e-6);
        assert_near(gw_layer_data_y(cam, GW_MODEL_METRIC)[cr], y, 1e-6);
        assert_near(gw_layer_data_x(cam, GW_MODEL_MERCATOR)[cr], wx, 1e-6);
        assert_near(gw_layer_data_y(cam, GW_MODEL_MERCATOR)[cr], wy, 1e-6);
        assert_near(gw_layer_data_reals(cam, 2)[cr], k % 360, 0);
        assert_string_equal(gw_layer_data_text(cam, (size_t)cr, 6), k % 7 ? "online" : "offline");
    }
    assert_null(gw_layer_data_x(gw_snapshot_layer(snap, GW_LAYER_GRIDS), GW_MODEL_METRIC));

    /* grids: three forms; the STRtree finds the grid of a point (metric coordinates) */
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    assert_null(gw_layer_data_tree(cam));
    assert_non_null(gw_layer_data_tree(grids));
    for (int i = 0; i < NG; i++) {
        for (int j = 0; j < NG; j++) {
            char id[32];
            snprintf(id, sizeof id, "G%d%d", i, j);
            ptrdiff_t gr = gw_layer_data_find(grids, id);
            assert_true(gr >= 0);
            assert_int_equal(gw_layer_data_ints(grids, 4)[gr], 100 * i + j);
            double x = LON0 + (i + 0.3) * STEP, y = LAT0 + (j + 0.6) * STEP;
            double mx = x, my = y;
            assert_int_equal(gw_crs_transform_points(tm, &mx, &my, 1), GW_OK);
            ptrdiff_t at = -2;
            assert_int_equal(gw_layer_data_grid_at(ctx, grids, mx, my, &at), GW_OK);
            assert_int_equal(at, gr);
            double gx;
            const GEOSGeometry *g = gw_layer_data_geom(grids, (size_t)gr, GW_MODEL_LONLAT);
            assert_int_equal(GEOSGeom_getXMin_r(gw_ctx_geos(ctx), g, &gx), 1);
            assert_near(gx, LON0 + i * STEP, 1e-9);
            g = gw_layer_data_geom(grids, (size_t)gr, GW_MODEL_MERCATOR);
            assert_int_equal(GEOSGeom_getXMin_r(gw_ctx_geos(ctx), g, &gx), 1);
            assert_near(gx, (LON0 + i * STEP) * M_PI / 180 * 6378137.0, 1e-3);
            assert_non_null(gw_layer_data_prepared(grids, (size_t)gr));
        }
    }
    ptrdiff_t at = 0;
    assert_int_equal(gw_layer_data_grid_at(ctx, grids, 0, 0, &at), GW_OK);
    assert_int_equal(at, -1);
    assert_int_equal(gw_layer_data_grid_at(ctx, cam, 0, 0, &at), GW_ERR_ARG);
    gw_crs_transform_destroy(tm);
    gw_crs_transform_destroy(tw);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

typedef struct cnt {
    size_t n;
} cnt;
static int count_visit(void *user, size_t row)
{
    (void)row;
    ((cnt *)user)->n++;
    return 0;
}
static int only_online(void *user, size_t row)
{
    const gw_layer_data *d = user;
    const char *s = gw_layer_data_text(d, row, 6);
    return s && strcmp(s, "online") == 0;
}

/* The packed point index agrees with brute force: bbox queries and k-nearest with a filter. */
static void test_point_index(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = make_store(ctx, "points.sqlite");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *cam = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    const double *x = gw_layer_data_x(cam, GW_MODEL_METRIC), *y = gw_layer_data_y(cam, GW_MODEL_METRIC);
    size_t n = gw_layer_data_count(cam);
    double cx = x[0], cy = y[0];
    for (int q = 0; q < 20; q++) {
        double half = 50.0 * (q + 1);
        gw_bbox bb = {cx - half, cy - half * 0.7, cx + half, cy + half * 1.3};
        cnt c = {0};
        gw_layer_data_query_points(cam, &bb, count_visit, &c);
        size_t want = 0;
        for (size_t r = 0; r < n; r++)
            want += x[r] >= bb.minx && x[r] <= bb.maxx && y[r] >= bb.miny && y[r] <= bb.maxy;
        assert_int_equal(c.n, want);
        assert_true(want > 0);

        /* k nearest online cameras to a probe point, against a brute-force scan */
        double px = cx + 37.0 * q - 300, py = cy - 23.0 * q + 100;
        size_t rows[5], got = 0;
        double dist[5];
        gw_layer_data_nearest(cam, px, py, 5, 0, only_online, (void *)cam, rows, dist, &got);
        assert_int_equal(got, 5);
        double best[5] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
        for (size_t r = 0; r < n; r++) {
            if (!only_online((void *)cam, r)) continue;
            double d = hypot(x[r] - px, y[r] - py);
            for (int i = 0; i < 5; i++) {
                if (d < best[i]) {
                    memmove(best + i + 1, best + i, (size_t)(4 - i) * sizeof *best);
                    best[i] = d;
                    break;
                }
            }
        }
        for (int i = 0; i < 5; i++) {
            assert_near(dist[i], best[i], 1e-6);
            assert_near(hypot(x[rows[i]] - px, y[rows[i]] - py), best[i], 1e-6);
        }
    }
    /* a distance limit; a point far outside the data */
    size_t rows[3], got = 9;
    gw_layer_data_nearest(cam, cx, cy, 3, 1e-3, NULL, NULL, rows, NULL, &got);
    assert_int_equal(got, 1);
    assert_int_equal(rows[0], 0);
    gw_layer_data_nearest(cam, cx + 1e6, cy - 1e6, 3, 0, NULL, NULL, rows, NULL, &got);
    assert_int_equal(got, 3);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* A committed write shows in snapshots taken after the refresh; older snapshots keep the old
 * data.  Uncommitted and rolled-back writes are never seen. */
static void test_refresh_isolation(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *w = make_store(ctx, "iso.sqlite");
    gw_ctx *rctx = NULL;
    assert_int_equal(gw_ctx_create(&rctx), GW_OK);
    gw_store *rd = NULL;
    assert_int_equal(gw_store_open(rctx, gw_store_path(w), 0, &rd), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(rctx, rd, &m), GW_OK);
    gw_model_snapshot *a = gw_model_acquire(m);
    const gw_layer_data *grids_a = gw_snapshot_layer(a, GW_LAYER_GRIDS);

    /* nothing changed: refresh reloads nothing and keeps the snapshot */
    unsigned mask = 99;
    assert_int_equal(gw_model_refresh(rctx, m, rd, &mask), GW_OK);
    assert_int_equal(mask, 0);

    /* uncommitted write: invisible through the model's own connection; refused on the writer's */
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(w), GW_OK);
    assert_int_equal(gw_store_inserter_create(w, GW_LAYER_INCIDENTS, &ins), GW_OK);
    add_incident(ins, 90001);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_log_change(w, GW_LAYER_INCIDENTS, "insert", "I090001", NULL, NULL), GW_OK);
    assert_int_equal(gw_model_refresh(rctx, m, rd, &mask), GW_OK);
    assert_int_equal(mask, 0);
    assert_int_equal(gw_model_refresh(ctx, m, w, &mask), GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "committed"));
    gw_store_rollback(w);
    assert_int_equal(gw_model_refresh(ctx, m, w, &mask), GW_OK);
    gw_model_snapshot *b = gw_model_acquire(m);
    assert_int_equal(gw_layer_data_find(gw_snapshot_layer(b, GW_LAYER_INCIDENTS), "I090001"), -1);
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(b, GW_LAYER_INCIDENTS)), NINC);
    gw_model_release(ctx, b);

    /* committed write: a new snapshot sees it, the old one does not; other layers are shared */
    commit_incident(w, 90002);
    assert_int_equal(gw_model_refresh(rctx, m, rd, &mask), GW_OK);
    assert_int_equal(mask, 1u << GW_LAYER_INCIDENTS);
    b = gw_model_acquire(m);
    assert_true(gw_snapshot_seq(b) > gw_snapshot_seq(a));
    assert_true(gw_layer_data_find(gw_snapshot_layer(b, GW_LAYER_INCIDENTS), "I090002") >= 0);
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(b, GW_LAYER_INCIDENTS)), NINC + 1);
    assert_int_equal(gw_layer_data_find(gw_snapshot_layer(a, GW_LAYER_INCIDENTS), "I090002"), -1);
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(a, GW_LAYER_INCIDENTS)), NINC);
    assert_ptr_equal(gw_snapshot_layer(b, GW_LAYER_GRIDS), grids_a);
    gw_model_release(rctx, a); /* the old incidents layer is freed here, the grids are not */
    ptrdiff_t at = -1;
    const gw_layer_data *g = gw_snapshot_layer(b, GW_LAYER_GRIDS);
    const GEOSGeometry *g0 = gw_layer_data_geom(g, 0, GW_MODEL_METRIC);
    GEOSGeometry *c = GEOSGetCentroid_r(gw_ctx_geos(ctx), g0);
    double cx, cy;
    GEOSGeomGetX_r(gw_ctx_geos(ctx), c, &cx);
    GEOSGeomGetY_r(gw_ctx_geos(ctx), c, &cy);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c);
    assert_int_equal(gw_layer_data_grid_at(ctx, g, cx, cy, &at), GW_OK);
    assert_int_equal(at, 0);
    gw_model_release(rctx, b);
    gw_model_close(m);
    gw_store_close(rd);
    gw_ctx_destroy(rctx);
    gw_store_close(w);
    gw_ctx_destroy(ctx);
}

/* ---- many readers, one writer ---- */

typedef struct reader_arg {
    gw_model *m;
    atomic_int *stop;
    int64_t base_gap; /* incidents count - seq, constant because each commit adds one of each */
    double px, py;    /* a metric point inside grid row `grid_row` */
    ptrdiff_t grid_row;
    long iterations;
    int failures;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) {
        a->failures++;
        return NULL;
    }
    int64_t last = -1;
    while (!atomic_load(a->stop) || a->iterations < 20) {
        gw_model_snapshot *s = gw_model_acquire(a->m);
        int64_t seq = gw_snapshot_seq(s);
        const gw_layer_data *inc = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
        size_t n = gw_layer_data_count(inc);
        if (seq < last) a->failures++;
        if ((int64_t)n - seq != a->base_gap) a->failures++;
        last = seq;
        /* read every row once: ids, one column, coordinates */
        const double *x = gw_layer_data_x(inc, GW_MODEL_METRIC);
        double sum = 0;
        for (size_t r = 0; r < n; r++) sum += x[r] + (double)strlen(gw_layer_data_id(inc, r));
        if (!(sum > 0)) a->failures++;
        ptrdiff_t at = -1;
        if (gw_layer_data_grid_at(ctx, gw_snapshot_layer(s, GW_LAYER_GRIDS), a->px, a->py, &at) != GW_OK ||
            at != a->grid_row)
            a->failures++;
        size_t rows[3], got = 0;
        gw_layer_data_nearest(inc, a->px, a->py, 3, 0, NULL, NULL, rows, NULL, &got);
        if (got != 3) a->failures++;
        gw_model_release(ctx, s);
        a->iterations++;
    }
    gw_ctx_destroy(ctx);
    return NULL;
}

static void test_concurrent_readers(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *w = make_store(ctx, "conc.sqlite");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, w, &m), GW_OK);
    gw_model_snapshot *s = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    double px, py;
    GEOSGeometry *c = GEOSGetCentroid_r(gw_ctx_geos(ctx), gw_layer_data_geom(g, 5, GW_MODEL_METRIC));
    GEOSGeomGetX_r(gw_ctx_geos(ctx), c, &px);
    GEOSGeomGetY_r(gw_ctx_geos(ctx), c, &py);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c);
    int64_t gap = (int64_t)gw_layer_data_count(gw_snapshot_layer(s, GW_LAYER_INCIDENTS)) - gw_snapshot_seq(s);
    gw_model_release(ctx, s);

    atomic_int stop = 0;
    reader_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (reader_arg){m, &stop, gap, px, py, 5, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }
    for (int k = 0; k < 50; k++) {
        commit_incident(w, 100000 + k);
        unsigned mask = 0;
        assert_int_equal(gw_model_refresh(ctx, m, w, &mask), GW_OK);
        assert_int_equal(mask, 1u << GW_LAYER_INCIDENTS);
    }
    atomic_store(&stop, 1);
    long total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
        total += args[i].iterations;
    }
    assert_true(total >= 80);
    s = gw_model_acquire(m);
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(s, GW_LAYER_INCIDENTS)), NINC + 50);
    gw_model_release(ctx, s);
    gw_model_close(m);
    gw_store_close(w);
    gw_ctx_destroy(ctx);
}

/* An empty store loads as an empty model; the first import arrives through refresh. */
static void test_empty_then_import(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("empty.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *a = gw_model_acquire(m);
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        assert_int_equal(gw_layer_data_count(gw_snapshot_layer(a, (gw_layer)l)), 0);
    size_t got = 7, rows[1];
    gw_layer_data_nearest(gw_snapshot_layer(a, GW_LAYER_TEAMS), 0, 0, 1, 0, NULL, NULL, rows, NULL, &got);
    assert_int_equal(got, 0);
    commit_incident(s, 1);
    assert_int_equal(gw_model_refresh(ctx, m, s, NULL), GW_OK);
    gw_model_snapshot *b = gw_model_acquire(m);
    const gw_layer_data *inc = gw_snapshot_layer(b, GW_LAYER_INCIDENTS);
    assert_int_equal(gw_layer_data_count(inc), 1);
    assert_int_equal(gw_model_metric_srid(m), gw_crs_metric_for(inc_lon(1), inc_lat(1)));
    assert_true(gw_layer_data_x(inc, GW_MODEL_METRIC)[0] > 100000);
    gw_model_release(ctx, a);
    gw_model_release(ctx, b);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_matches_store), cmocka_unit_test(test_point_index),
        cmocka_unit_test(test_refresh_isolation), cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_empty_then_import),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
