/* test_coverage_blind.c — blind-spot polygons built on request (geo/coverage/coverage_blind.c):
 * on a generated city, every grid's blind spots are built, cameras are moved, re-aimed and
 * switched off, and after gw_coverage_update() exactly the grids whose envelope meets the old
 * or new view envelope of a changed camera have lost their kept polygons; then every grid's
 * polygons (kept ones and rebuilt ones) equal those of a fresh computation on the new snapshot
 * (GEOS: the symmetric difference has no area beyond 1e-9 of the grid's, same part count, kept
 * area within 1e-9 relative), and their area is the row's blind_m2 (nothing dropped with
 * min_blind_m2 0) within 1e-9 of the grid's area. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMOVE 4

/* The metric envelope of camera `id`'s view in snapshot s (0 when it has none). */
static int view_env(const gw_model_snapshot *s, const char *id, gw_bbox *e)
{
    const gw_layer_data *d = gw_snapshot_layer(s, GW_LAYER_CAMERAS);
    ptrdiff_t r = gw_layer_data_find(d, id);
    if (r < 0) return 0;
    gw_value st = gw_layer_data_value(d, (size_t)r,
                                      gw_layer_field_index(GW_LAYER_CAMERAS, "status"));
    if (st.kind == GW_VAL_TEXT && strcmp(st.s, "offline") == 0) return 0;
    gw_value az = gw_layer_data_value(d, (size_t)r,
                                      gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth")),
             fov = gw_layer_data_value(d, (size_t)r, gw_layer_field_index(GW_LAYER_CAMERAS, "fov")),
             rg = gw_layer_data_value(d, (size_t)r,
                                      gw_layer_field_index(GW_LAYER_CAMERAS, "range"));
    if (rg.kind != GW_VAL_REAL || !(rg.d > 0)) return 0;
    const double *conv = gw_layer_data_view_factors(d, 0), *k = gw_layer_data_view_factors(d, 1);
    double a = (az.kind == GW_VAL_REAL ? az.d : 0) - (conv ? conv[r] : 0);
    double f = fov.kind == GW_VAL_REAL ? fov.d : 360, rad = rg.d * (k ? k[r] : 1);
    double x = gw_layer_data_x(d, GW_MODEL_METRIC)[r], y = gw_layer_data_y(d, GW_MODEL_METRIC)[r];
    double xy[2 * 184];
    size_t n = gw_coverage_sector(x, y, a, f, rad, xy, 184);
    if (!n) return 0;
    *e = (gw_bbox){xy[0], xy[1], xy[0], xy[1]};
    for (size_t i = 1; i < n; i++) {
        e->minx = fmin(e->minx, xy[2 * i]), e->maxx = fmax(e->maxx, xy[2 * i]);
        e->miny = fmin(e->miny, xy[2 * i + 1]), e->maxy = fmax(e->maxy, xy[2 * i + 1]);
    }
    return 1;
}

static void patch(gw_store *store, const char *id, const char *json)
{
    gw_edit_result er = {0};
    assert_int_equal(gw_edit_patch(store, GW_LAYER_CAMERAS, id, json, strlen(json), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
}

/* Polygons of grid g in a and b are the same region with the same parts. */
static void same_blind(gw_ctx *ctx, gw_coverage *a, gw_coverage *b, size_t g)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_coverage_blind_spots x, y;
    assert_int_equal(gw_coverage_blind(ctx, a, g, &x), GW_OK);
    assert_int_equal(gw_coverage_blind(ctx, b, g, &y), GW_OK);
    assert_int_equal(x.parts, y.parts);
    const gw_coverage_row *r = gw_coverage_row_at(b, g);
    assert_true(fabs(x.kept_m2 - y.kept_m2) <= 1e-9 * r->grid_m2);
    /* nothing dropped (min_blind_m2 0): the polygons' area is the row's uncovered area */
    assert_true(fabs(x.kept_m2 - r->blind_m2) <= 1e-9 * r->grid_m2);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    GEOSGeometry *p = GEOSWKBReader_read_r(h, rd, x.wkb, x.len),
                 *q = GEOSWKBReader_read_r(h, rd, y.wkb, y.len);
    assert_non_null(p);
    assert_non_null(q);
    GEOSGeometry *d = GEOSSymDifference_r(h, p, q);
    assert_non_null(d);
    double da = 0, pa = 0;
    GEOSArea_r(h, d, &da), GEOSArea_r(h, p, &pa);
    const GEOSGeometry *grid = gw_layer_data_geom(gw_snapshot_layer(gw_coverage_snapshot(b),
                                                                    GW_LAYER_GRIDS),
                                                  g, GW_MODEL_LONLAT);
    double ga = 0;
    GEOSArea_r(h, grid, &ga);
    if (!(da <= 1e-9 * ga))
        fail_msg("grid %s: blind spots differ by %.3g of the grid's area",
                 gw_coverage_grid_id(b, g), da / ga);
    GEOSGeom_destroy_r(h, d), GEOSGeom_destroy_r(h, p), GEOSGeom_destroy_r(h, q);
    GEOSWKBReader_destroy_r(h, rd);
}

static void test_lazy_blind(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("blind_city.db"), GW_STORE_CREATE, &store),
                     GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 5};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, store, &co, &rep), GW_OK);
    gw_model *model = NULL;
    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    gw_coverage *cov = NULL;
    gw_coverage_opts o = {.min_blind_m2 = 0};
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov), GW_OK);
    size_t n = gw_coverage_count(cov);
    assert_true(n > 50);
    for (size_t g = 0; g < n; g++) {
        assert_false(gw_coverage_blind_cached(cov, g)); /* nothing built at the computation */
        gw_coverage_blind_spots b;
        assert_int_equal(gw_coverage_blind(ctx, cov, g, &b), GW_OK);
        assert_true(gw_coverage_blind_cached(cov, g));
    }
    /* Saved rows carry the polygons built (none is built for saving). */
    assert_int_equal(gw_coverage_save(ctx, cov, store, NULL), GW_OK);
    /* Moves: camera 0 by ~150 m, camera 1 re-aimed as a dome, camera 2 offline, camera 3's
     * range halved.  Old views' envelopes from the snapshot before the update. */
    gw_model_snapshot *s0 = gw_coverage_snapshot(cov);
    const gw_layer_data *cams = gw_snapshot_layer(s0, GW_LAYER_CAMERAS);
    char ids[NMOVE][64];
    gw_bbox env[2 * NMOVE];
    size_t nenv = 0;
    double lon0 = gw_layer_data_x(cams, GW_MODEL_LONLAT)[0],
           lat0 = gw_layer_data_y(cams, GW_MODEL_LONLAT)[0];
    for (int i = 0; i < NMOVE; i++) {
        snprintf(ids[i], sizeof ids[i], "%s", gw_layer_data_id(cams, (size_t)i * 7));
        nenv += (size_t)view_env(s0, ids[i], &env[nenv]);
    }
    char json[256];
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"properties\":{},\"geometry\":"
             "{\"type\":\"Point\",\"coordinates\":[%.12f,%.12f]}}",
             lon0 + 0.0012, lat0 + 0.0007);
    patch(store, ids[0], json);
    patch(store, ids[1], "{\"type\":\"Feature\",\"properties\":{\"azimuth\":200,\"fov\":360}}");
    patch(store, ids[2], "{\"type\":\"Feature\",\"properties\":{\"status\":\"offline\"}}");
    patch(store, ids[3], "{\"type\":\"Feature\",\"properties\":{\"range\":30}}");
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    size_t nch = 0;
    assert_int_equal(gw_coverage_update(ctx, cov, gw_model_acquire(model), &nch), GW_OK);
    gw_model_snapshot *s1 = gw_coverage_snapshot(cov);
    for (int i = 0; i < NMOVE; i++) nenv += (size_t)view_env(s1, ids[i], &env[nenv]);
    /* Exactly the grids touched lost their polygons. */
    const gw_layer_data *grids = gw_snapshot_layer(s1, GW_LAYER_GRIDS);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t touched = 0;
    for (size_t g = 0; g < n; g++) {
        const GEOSGeometry *geom = gw_layer_data_geom(grids, g, GW_MODEL_METRIC);
        gw_bbox e;
        GEOSGeom_getXMin_r(h, geom, &e.minx), GEOSGeom_getYMin_r(h, geom, &e.miny);
        GEOSGeom_getXMax_r(h, geom, &e.maxx), GEOSGeom_getYMax_r(h, geom, &e.maxy);
        int t = 0;
        for (size_t k = 0; k < nenv; k++)
            t |= !(e.maxx < env[k].minx || e.minx > env[k].maxx || e.maxy < env[k].miny ||
                   e.miny > env[k].maxy);
        touched += (size_t)t;
        if (gw_coverage_blind_cached(cov, g) != !t)
            fail_msg("grid %s: touched %d, kept polygons %d", gw_coverage_grid_id(cov, g), t,
                     gw_coverage_blind_cached(cov, g));
        assert_int_equal(gw_coverage_changed(cov)[g], t);
    }
    print_message("%zu of %zu grids touched by %d changed cameras\n", touched, n, NMOVE);
    assert_true(touched > 0 && touched < n / 2);
    assert_int_equal(nch, touched);
    /* Kept and rebuilt polygons equal a fresh computation's. */
    gw_coverage *fresh = NULL;
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &fresh), GW_OK);
    for (size_t g = 0; g < n; g++) same_blind(ctx, cov, fresh, g);
    gw_coverage_destroy(ctx, fresh);
    gw_coverage_destroy(ctx, cov);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lazy_blind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
