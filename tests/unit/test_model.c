/* test_model.c — the in-memory model: it holds exactly what the store holds, in three CRSs;
 * committed writes appear after a refresh while older snapshots stay as they were; uncommitted
 * writes never appear; many readers run safely while a writer commits and refreshes; a point
 * layer patched from feature-level changes equals the same layer loaded afresh. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "pg_internal.h"
#include "store_sqlite.h"

#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    snprintf(wkt, sizeof wkt, "POLYGON((%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f,%.6f %.6f))", x0,
             y0, x1, y0, x1, y1, x0, y1, x0, y0);
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
    assert_int_equal(gw_store_open(ctx, gw_test_db(name), GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(LON0, LAT0)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    for (int i = 0; i < NG; i++) {
        for (int j = 0; j < NG; j++) {
            char id[32];
            snprintf(id, sizeof id, "G%d%d", i, j);
            gw_value v[10] = {{GW_VAL_TEXT, id, 0, 0},
                              {GW_VAL_TEXT, "grid", 0, 0},
                              {GW_VAL_TEXT, "town", 0, 0},
                              {GW_VAL_TEXT, "county", 0, 0},
                              {GW_VAL_INT, NULL, 100 * i + j, 0},
                              {GW_VAL_NULL, NULL, 0, 0},
                              {GW_VAL_NULL, NULL, 0, 0},
                              {GW_VAL_NULL, NULL, 0, 0}};
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
        gw_value v[4] = {{GW_VAL_TEXT, id, 0, 0},
                         {GW_VAL_TEXT, "room", 0, 0},
                         {GW_VAL_NULL, NULL, 0, 0},
                         {GW_VAL_NULL, NULL, 0, 0}};
        gw_feature f = {v, NULL, 0, LON0 + 0.01 * k, LAT0 + 0.005};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_CAMERAS, &ins), GW_OK);
    for (int k = 0; k < NCAM; k++) {
        char id[32];
        snprintf(id, sizeof id, "C%04d", k);
        gw_value v[7] = {{GW_VAL_TEXT, id, 0, 0},
                         {GW_VAL_TEXT, "cam", 0, 0},
                         {GW_VAL_REAL, NULL, 0, k % 360},
                         {GW_VAL_REAL, NULL, 0, 90},
                         {GW_VAL_REAL, NULL, 0, 50},
                         {GW_VAL_NULL, NULL, 0, 0},
                         {GW_VAL_TEXT, k % 7 ? "online" : "offline", 0, 0}};
        gw_feature f = {v, NULL, 0, cam_lon(k), cam_lat(k)};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_TEAMS, &ins), GW_OK);
    for (int k = 0; k < 4; k++) {
        char id[32];
        snprintf(id, sizeof id, "T%d", k);
        gw_value v[5] = {{GW_VAL_TEXT, id, 0, 0},
                         {GW_VAL_TEXT, "team", 0, 0},
                         {GW_VAL_TEXT, k % 2 ? "busy" : "available", 0, 0},
                         {GW_VAL_INT, NULL, 2 + k, 0},
                         {GW_VAL_INT, NULL, 1735660800, 0}};
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
    char id[32];
    snprintf(id, sizeof id, "I%06d", k);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "insert", id, NULL, NULL), GW_OK);
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
    const double *x = gw_layer_data_x(cam, GW_MODEL_METRIC),
                 *y = gw_layer_data_y(cam, GW_MODEL_METRIC);
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
    assert_int_equal(gw_store_log_change(w, GW_LAYER_INCIDENTS, "insert", "I090001", NULL, NULL),
                     GW_OK);
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
        if (gw_layer_data_grid_at(ctx, gw_snapshot_layer(s, GW_LAYER_GRIDS), a->px, a->py, &at) !=
                GW_OK ||
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
    GEOSGeometry *c = GEOSGetCentroid_r(gw_ctx_geos(ctx),
                                        gw_layer_data_geom(g, 5, GW_MODEL_METRIC));
    GEOSGeomGetX_r(gw_ctx_geos(ctx), c, &px);
    GEOSGeomGetY_r(gw_ctx_geos(ctx), c, &py);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c);
    int64_t gap = (int64_t)gw_layer_data_count(gw_snapshot_layer(s, GW_LAYER_INCIDENTS)) -
                  gw_snapshot_seq(s);
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
        gw_model_refresh_info info;
        assert_int_equal(gw_model_refresh_ex(ctx, m, w, &info), GW_OK);
        assert_int_equal(info.replaced, 1u << GW_LAYER_INCIDENTS);
        assert_int_equal(info.patched, 1u << GW_LAYER_INCIDENTS);
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
    assert_int_equal(gw_store_open(ctx, gw_test_db("empty.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *a = gw_model_acquire(m);
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        assert_int_equal(gw_layer_data_count(gw_snapshot_layer(a, (gw_layer)l)), 0);
    size_t got = 7, rows[1];
    gw_layer_data_nearest(gw_snapshot_layer(a, GW_LAYER_TEAMS), 0, 0, 1, 0, NULL, NULL, rows, NULL,
                          &got);
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

/* ---- incremental refresh ---- */

static const gw_layer point_layers[] = {GW_LAYER_POLICE_ROOMS, GW_LAYER_CAMERAS, GW_LAYER_TEAMS,
                                        GW_LAYER_INCIDENTS};

static uint64_t rnd_state = 88172645463325252ULL;
static unsigned rnd(void)
{
    rnd_state ^= rnd_state << 13, rnd_state ^= rnd_state >> 7, rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state >> 11);
}
static double rnd_unit(void) { return (rnd() % 1000000) / 1e6; }

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* Everything a reader sees of a point layer, hashed: proves an old snapshot unchanged. */
static uint64_t layer_digest(const gw_layer_data *d)
{
    size_t nf = 0, n = gw_layer_data_count(d);
    gw_layer_fields(gw_layer_data_layer(d), &nf);
    uint64_t h = mix(1469598103934665603ULL, &n, sizeof n);
    for (size_t r = 0; r < n; r++) {
        int64_t fid = gw_layer_data_fid(d, r);
        h = mix(h, &fid, sizeof fid);
        for (int f = 0; f < (int)nf; f++) {
            gw_value v = gw_layer_data_value(d, r, f);
            h = mix(h, &v.kind, sizeof v.kind);
            if (v.kind == GW_VAL_TEXT) h = mix(h, v.s, strlen(v.s));
            if (v.kind == GW_VAL_INT) h = mix(h, &v.i, sizeof v.i);
            if (v.kind == GW_VAL_REAL) h = mix(h, &v.d, sizeof v.d);
        }
        for (int c = 0; c < GW_MODEL_CRS_COUNT; c++) {
            h = mix(h, &gw_layer_data_x(d, (gw_model_crs)c)[r], sizeof(double));
            h = mix(h, &gw_layer_data_y(d, (gw_model_crs)c)[r], sizeof(double));
        }
    }
    return h;
}

typedef struct rowset {
    size_t v[4096];
    size_t n;
} rowset;
static int collect_row(void *user, size_t row)
{
    rowset *s = user;
    if (s->n < 4096) s->v[s->n++] = row;
    return 0;
}
static int cmp_row(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Same rows in the same (id) order, same values, coordinates, lookups and spatial queries. */
static void assert_layers_equal(const gw_layer_data *a, const gw_layer_data *b)
{
    size_t n = gw_layer_data_count(a), nf = 0;
    gw_layer_fields(gw_layer_data_layer(a), &nf);
    assert_int_equal(gw_layer_data_layer(a), gw_layer_data_layer(b));
    assert_int_equal(n, gw_layer_data_count(b));
    for (size_t r = 0; r < n; r++) {
        const char *id = gw_layer_data_id(a, r);
        assert_string_equal(id, gw_layer_data_id(b, r));
        if (r > 0) assert_true(strcmp(gw_layer_data_id(a, r - 1), id) < 0);
        assert_int_equal(gw_layer_data_fid(a, r), gw_layer_data_fid(b, r));
        assert_int_equal(gw_layer_data_find(a, id), (ptrdiff_t)r);
        assert_int_equal(gw_layer_data_find(b, id), (ptrdiff_t)r);
        for (int f = 0; f < (int)nf; f++) {
            gw_value va = gw_layer_data_value(a, r, f), vb = gw_layer_data_value(b, r, f);
            assert_int_equal(va.kind, vb.kind);
            if (va.kind == GW_VAL_TEXT) assert_string_equal(va.s, vb.s);
            if (va.kind == GW_VAL_INT) assert_int_equal(va.i, vb.i);
            if (va.kind == GW_VAL_REAL) assert_near(va.d, vb.d, 0);
            if (va.kind != GW_VAL_TEXT && gw_layer_data_nulls(a, f))
                assert_int_equal(gw_layer_data_nulls(a, f)[r], gw_layer_data_nulls(b, f)[r]);
        }
        for (int c = 0; c < GW_MODEL_CRS_COUNT; c++) {
            assert_near(gw_layer_data_x(a, (gw_model_crs)c)[r],
                        gw_layer_data_x(b, (gw_model_crs)c)[r], 1e-9);
            assert_near(gw_layer_data_y(a, (gw_model_crs)c)[r],
                        gw_layer_data_y(b, (gw_model_crs)c)[r], 1e-9);
        }
    }
    /* bbox queries and nearest at probes spread over the data (and outside it) */
    const double *x = gw_layer_data_x(a, GW_MODEL_METRIC), *y = gw_layer_data_y(a, GW_MODEL_METRIC);
    for (size_t p = 0; n && p < 12; p++) {
        size_t r = p * 7919 % n;
        double px = x[r] + (double)p * 97 - 500, py = y[r] - (double)p * 61 + 300,
               half = 40.0 * (double)(p + 1);
        gw_bbox bb = {px - half, py - half, px + half * 2, py + half};
        static rowset ra, rb;
        ra.n = rb.n = 0;
        gw_layer_data_query_points(a, &bb, collect_row, &ra);
        gw_layer_data_query_points(b, &bb, collect_row, &rb);
        qsort(ra.v, ra.n, sizeof *ra.v, cmp_row);
        qsort(rb.v, rb.n, sizeof *rb.v, cmp_row);
        assert_int_equal(ra.n, rb.n);
        assert_memory_equal(ra.v, rb.v, ra.n * sizeof *ra.v);
        size_t want = 0;
        for (size_t k = 0; k < n; k++)
            want += x[k] >= bb.minx && x[k] <= bb.maxx && y[k] >= bb.miny && y[k] <= bb.maxy;
        assert_int_equal(ra.n, want);
        size_t rows_a[5], rows_b[5], got_a = 0, got_b = 0;
        double da[5], db[5];
        gw_layer_data_nearest(a, px, py, 5, 0, NULL, NULL, rows_a, da, &got_a);
        gw_layer_data_nearest(b, px, py, 5, 0, NULL, NULL, rows_b, db, &got_b);
        assert_int_equal(got_a, n < 5 ? n : 5);
        assert_int_equal(got_a, got_b);
        double best = INFINITY; /* brute force nearest */
        for (size_t k = 0; k < n; k++) best = fmin(best, hypot(x[k] - px, y[k] - py));
        assert_near(da[0], best, 1e-6);
        for (size_t i = 0; i < got_a; i++) {
            assert_near(da[i], db[i], 1e-9);
            assert_near(hypot(x[rows_b[i]] - px, y[rows_b[i]] - py), db[i], 1e-6);
        }
    }
}

/* Every point layer of the model's current snapshot equals a model opened afresh on `s`. */
/* The two models' current point layers are equal (assert_layers_equal), at the same seq. */
static void assert_models_equal(gw_ctx *ctx, gw_model *m, gw_model *f)
{
    gw_model_snapshot *a = gw_model_acquire(m), *b = gw_model_acquire(f);
    assert_int_equal(gw_snapshot_seq(a), gw_snapshot_seq(b));
    for (size_t i = 0; i < 4; i++)
        assert_layers_equal(gw_snapshot_layer(a, point_layers[i]),
                            gw_snapshot_layer(b, point_layers[i]));
    gw_model_release(ctx, a);
    gw_model_release(ctx, b);
}

static void assert_matches_fresh(gw_ctx *ctx, gw_model *m, gw_store *s)
{
    gw_model *f = NULL;
    assert_int_equal(gw_model_open(ctx, s, &f), GW_OK);
    assert_models_equal(ctx, m, f);
    gw_model_close(f);
}

static void edit_ok(gw_store *s, gw_status st)
{
    if (st) print_error("edit failed: %s\n", gw_ctx_errmsg(gw_store_ctx(s)));
    assert_int_equal(st, GW_OK);
}

/* Properties of a random version of a feature of `layer` (JSON object text). */
static void random_props(gw_layer layer, int k, char *buf, size_t cap)
{
    switch (layer) {
    case GW_LAYER_POLICE_ROOMS:
        snprintf(buf, cap, "{\"name\":\"room %d\",\"phone\":%s}", k, k % 2 ? "\"110\"" : "null");
        break;
    case GW_LAYER_CAMERAS:
        snprintf(buf, cap,
                 "{\"name\":\"cam %d\",\"azimuth\":%d,\"fov\":%d,\"range\":%d,\"status\":%s}", k,
                 (int)(rnd() % 360), 30 + (int)(rnd() % 90), 20 + (int)(rnd() % 80),
                 k % 3 == 0   ? "null"
                 : k % 3 == 1 ? "\"online\""
                              : "\"offline\"");
        break;
    case GW_LAYER_TEAMS:
        snprintf(buf, cap, "{\"name\":\"team %d\",\"status\":\"%s\",\"members\":%d}", k,
                 k % 2 ? "busy" : "available", 1 + k % 6);
        break;
    default:
        snprintf(
            buf, cap,
            "{\"category\":\"%s\",\"severity\":%s,\"status\":\"%s\",\"description\":\"note %d\","
            "\"occurred_at\":\"2025-01-0%dT10:00:00Z\"}",
            k % 4 ? "theft" : "new kind", k % 5 ? "2" : "null", k % 2 ? "open" : "closed", k,
            1 + k % 9);
    }
}

/* One random insert, update, move or delete on `layer`, committed (one change-log row).  The
 * feature is picked from the store: the model lags until the batch is refreshed. */
static void random_change(gw_store *s, gw_layer layer, int k)
{
    int64_t n = 0;
    assert_int_equal(gw_store_count(s, layer, &n), GW_OK);
    char id[64] = "", props[512], json[1024], sql[256];
    snprintf(sql, sizeof sql, "SELECT id FROM \"%s\" ORDER BY id%s LIMIT 1 OFFSET %u",
             gw_layer_name(layer), gw_test_on_postgres() ? " COLLATE \"C\"" : "",
             n ? rnd() % (unsigned)n : 0);
    if (gw_test_on_postgres()) {
        PGresult *r = PQexec(PG(s)->conn, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        if (PQntuples(r) > 0) snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    } else {
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), sql, -1, &q, NULL), SQLITE_OK);
        if (sqlite3_step(q) == SQLITE_ROW)
            snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
    }
    double lon = LON0 + 0.002 + 0.036 * rnd_unit(), lat = LAT0 + 0.002 + 0.036 * rnd_unit();
    random_props(layer, k, props, sizeof props);
    gw_edit_result res = {0};
    unsigned op = n < 3 ? 0 : rnd() % 4;
    if (op == 0) { /* insert: ids before, between and after the existing ones */
        static const char *pre[] = {"A", "M", "Z", ""};
        char nid[96];
        snprintf(nid, sizeof nid, "%s%s-%d", pre[rnd() % 4], n ? id : "x", k);
        snprintf(json, sizeof json,
                 "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[%.7f,%.7f]},\"properties\":%s}",
                 nid, lon, lat, props);
        edit_ok(s, gw_edit_insert(s, layer, json, strlen(json), NULL, &res));
    } else if (op == 1) { /* attributes, sometimes the point */
        if (rnd() % 2)
            snprintf(json, sizeof json,
                     "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                     "[%.7f,%.7f]},\"properties\":%s}",
                     lon, lat, props);
        else snprintf(json, sizeof json, "{\"type\":\"Feature\",\"properties\":%s}", props);
        edit_ok(s, gw_edit_patch(s, layer, id, json, strlen(json), NULL, &res));
    } else if (op == 2) { /* a move as dispatch writes it: plain SQL plus a "move" row */
        snprintf(sql, sizeof sql, "UPDATE \"%s\" SET geom = %s(%.7f, %.7f, 4326) WHERE id = '%s'",
                 gw_layer_name(layer), gw_test_on_postgres() ? "ST_Point" : "MakePoint", lon, lat,
                 id);
        assert_int_equal(gw_store_begin(s), GW_OK);
        if (gw_test_on_postgres()) {
            PGresult *r = PQexec(PG(s)->conn, sql);
            assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
            PQclear(r);
        } else {
            assert_int_equal(sqlite3_exec(st_sqlite_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
        }
        assert_int_equal(gw_store_log_change(s, layer, "move", id, NULL, NULL), GW_OK);
        assert_int_equal(gw_store_commit(s), GW_OK);
    } else {
        edit_ok(s, gw_edit_delete(s, layer, id, NULL, &res));
    }
    gw_edit_result_free(&res);
}

/* Random inserts/updates/moves/deletes on every point layer, refreshed in batches: each
 * refresh patches exactly the changed layers, the result equals a freshly opened model, and
 * snapshots taken earlier read exactly what they read before. */
static void test_incremental_matches_fresh(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = make_store(ctx, "incr.sqlite");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *first = gw_model_acquire(m), *mid = NULL;
    uint64_t d_first[4], d_mid[4];
    for (int i = 0; i < 4; i++)
        d_first[i] = layer_digest(gw_snapshot_layer(first, point_layers[i]));
    int k = 0;
    for (int round = 0; round < 30; round++) {
        unsigned want = 0;
        int nops = 1 + (int)(rnd() % 5);
        for (int o = 0; o < nops; o++) {
            gw_layer l = point_layers[rnd() % 4];
            random_change(s, l, k++);
            want |= 1u << l;
        }
        gw_model_refresh_info info;
        assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
        assert_int_equal(info.replaced, want);
        assert_int_equal(info.patched, want);
        if (round == 10) {
            mid = gw_model_acquire(m);
            for (int i = 0; i < 4; i++)
                d_mid[i] = layer_digest(gw_snapshot_layer(mid, point_layers[i]));
        }
        if (round % 6 == 5) assert_matches_fresh(ctx, m, s);
    }
    assert_matches_fresh(ctx, m, s);
    assert_null(strstr(gw_test_warnings(), "point index")); /* patched, never repaired */
    for (int i = 0; i < 4; i++) {
        assert_true(d_first[i] == layer_digest(gw_snapshot_layer(first, point_layers[i])));
        assert_true(d_mid[i] == layer_digest(gw_snapshot_layer(mid, point_layers[i])));
    }
    gw_model_snapshot *now = gw_model_acquire(m);
    assert_true(gw_layer_data_count(gw_snapshot_layer(now, GW_LAYER_INCIDENTS)) != NINC ||
                layer_digest(gw_snapshot_layer(now, GW_LAYER_INCIDENTS)) != d_first[3]);
    gw_model_release(ctx, now);
    gw_model_release(ctx, mid);
    gw_model_release(ctx, first);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* Incidents loaded in two halves on two threads (a large layer; forced here by
 * GW_MODEL_SPLIT_ROWS) are the layer loaded whole: rows in id order, values, text, the three
 * CRSs, id lookups and the point index; and the joined layer is patched like any other. */
static void test_split_load(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = make_store(ctx, "split.sqlite");
    gw_model *whole = NULL, *split = NULL;
    assert_int_equal(setenv("GW_MODEL_SPLIT_ROWS", "0", 1), 0);
    assert_int_equal(gw_model_open(ctx, s, &whole), GW_OK);
    assert_int_equal(setenv("GW_MODEL_SPLIT_ROWS", "2", 1), 0);
    assert_int_equal(gw_model_open(ctx, s, &split), GW_OK);
    assert_int_equal(gw_model_incident_parts(whole), 1);
    assert_int_equal(gw_model_incident_parts(split), sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1);
    gw_model_snapshot *b = gw_model_acquire(split);
    assert_int_equal(gw_layer_data_count(gw_snapshot_layer(b, GW_LAYER_INCIDENTS)), NINC);
    gw_model_release(ctx, b);
    assert_models_equal(ctx, whole, split);
    /* the store's halves: the rows from the middle id on, and those before it */
    char mid[64];
    assert_int_equal(gw_store_nth_id(s, GW_LAYER_INCIDENTS, NINC / 2, mid, sizeof mid), GW_OK);
    assert_string_equal(mid, "I000150");
    assert_int_equal(gw_store_nth_id(s, GW_LAYER_INCIDENTS, NINC, mid, sizeof mid),
                     GW_ERR_NOT_FOUND);
    for (int half = 0; half < 2; half++) {
        gw_cursor *cur = NULL;
        assert_int_equal(gw_store_cursor_create_range(s, GW_LAYER_INCIDENTS,
                                                      half ? "I000150" : NULL,
                                                      half ? NULL : "I000150", &cur),
                         GW_OK);
        gw_row row;
        int k = half ? 150 : 0;
        while (gw_cursor_next(cur, &row) == GW_OK) {
            char want[32];
            snprintf(want, sizeof want, "I%06d", k++);
            assert_string_equal(row.values[0].s, want);
        }
        assert_int_equal(k, half ? NINC : 150);
        gw_cursor_destroy(cur);
    }
    for (int k = 0; k < 12; k++) random_change(s, GW_LAYER_INCIDENTS, 1000 + k);
    gw_model_refresh_info info;
    assert_int_equal(gw_model_refresh_ex(ctx, split, s, &info), GW_OK);
    assert_int_equal(info.patched, 1u << GW_LAYER_INCIDENTS);
    assert_matches_fresh(ctx, split, s);
    assert_int_equal(unsetenv("GW_MODEL_SPLIT_ROWS"), 0);
    gw_model_close(whole);
    gw_model_close(split);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* Rows without a feature id, grid changes and writes logged under the wrong id reload the
 * layer instead of patching it. */
static void test_bulk_reloads(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = make_store(ctx, "bulk.sqlite");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_refresh_info info;

    /* a feature-level change patches … */
    commit_incident(s, 5001);
    assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
    assert_int_equal(info.replaced, 1u << GW_LAYER_INCIDENTS);
    assert_int_equal(info.patched, 1u << GW_LAYER_INCIDENTS);

    /* … one without a feature id in the same batch reloads (incidents) and a bulk row alone too */
    commit_incident(s, 5002);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "update", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_CAMERAS, "import", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
    assert_int_equal(info.replaced, (1u << GW_LAYER_INCIDENTS) | (1u << GW_LAYER_CAMERAS));
    assert_int_equal(info.patched, 0);
    gw_model_snapshot *snap = gw_model_acquire(m);
    assert_true(gw_layer_data_find(gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), "I005002") >= 0);
    gw_model_release(ctx, snap);

    /* a new row logged under an id that is not its own: caught by the fid check, reloaded */
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    add_incident(ins, 5003);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "insert", "not-this-one", NULL,
                                         NULL),
                     GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
    assert_int_equal(info.replaced, 1u << GW_LAYER_INCIDENTS);
    assert_int_equal(info.patched, 0);
    snap = gw_model_acquire(m);
    assert_true(gw_layer_data_find(gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), "I005003") >= 0);
    gw_model_release(ctx, snap);

    /* grids: a feature-level edit still reloads the layer */
    gw_edit_result res = {0};
    const char *json = "{\"type\":\"Feature\",\"properties\":{\"population\":7}}";
    edit_ok(s, gw_edit_patch(s, GW_LAYER_GRIDS, "G12", json, strlen(json), NULL, &res));
    gw_edit_result_free(&res);
    assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
    assert_int_equal(info.replaced, 1u << GW_LAYER_GRIDS);
    assert_int_equal(info.patched, 0);
    snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    assert_int_equal(gw_layer_data_ints(g, 4)[gw_layer_data_find(g, "G12")], 7);
    gw_model_release(ctx, snap);

    /* nothing new: nothing replaced */
    assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
    assert_int_equal(info.replaced, 0);
    assert_matches_fresh(ctx, m, s);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_matches_store), cmocka_unit_test(test_point_index),
        cmocka_unit_test(test_refresh_isolation),  cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_empty_then_import),  cmocka_unit_test(test_incremental_matches_fresh),
        cmocka_unit_test(test_bulk_reloads),       cmocka_unit_test(test_split_load),
    };
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
