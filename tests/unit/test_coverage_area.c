/* test_coverage_area.c — the covered area by boundary integration (geo/coverage/coverage_area.c,
 * every figure) against GEOS's union (the blind-spot polygons built on request: union of the
 * views, difference with the grid) on every grid of a generated city; so are the police-room
 * reach (GEOS union of the discs, intersection with the grid) and the camera counts (GEOS
 * relate: interiors meet).  The hand cases with
 * coincident edges (two identical cameras, two half discs back to back along their diameter,
 * a dome halved by the grid's edge, a view edge on the grid's edge) are in test_coverage.c,
 * whose expected areas the boundary integration meets to 1e-9. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_rel_ok(a, b) assert_true(fabs((a) - (b)) <= 1e-9 * fabs(b) + 1e-9)

/* GEOS references from the snapshot itself: the cameras whose view polygon's interior meets
 * the grid's (relate pattern T********), and the area of grid ∩ ⋃ room discs. */
typedef struct refs {
    gw_ctx *ctx;
    const gw_layer_data *cams, *rooms, *grids;
    double room_dist;
} refs;

static GEOSGeometry *ring_poly(GEOSContextHandle_t h, const double *xy, size_t n)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
    return GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
}

static int ref_cameras(const refs *R, size_t g)
{
    GEOSContextHandle_t h = gw_ctx_geos(R->ctx);
    const GEOSGeometry *grid = gw_layer_data_geom(R->grids, g, GW_MODEL_METRIC);
    double x0, y0, x1, y1;
    GEOSGeom_getXMin_r(h, grid, &x0), GEOSGeom_getYMin_r(h, grid, &y0);
    GEOSGeom_getXMax_r(h, grid, &x1), GEOSGeom_getYMax_r(h, grid, &y1);
    const double *cx = gw_layer_data_x(R->cams, GW_MODEL_METRIC),
                 *cy = gw_layer_data_y(R->cams, GW_MODEL_METRIC);
    const double *conv = gw_layer_data_view_factors(R->cams, 0),
                 *k = gw_layer_data_view_factors(R->cams, 1);
    int faz = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth"),
        ffov = gw_layer_field_index(GW_LAYER_CAMERAS, "fov"),
        frg = gw_layer_field_index(GW_LAYER_CAMERAS, "range"),
        fst = gw_layer_field_index(GW_LAYER_CAMERAS, "status");
    int n = 0;
    for (size_t r = 0; r < gw_layer_data_count(R->cams); r++) {
        gw_value rg = gw_layer_data_value(R->cams, r, frg),
                 st = gw_layer_data_value(R->cams, r, fst);
        if (rg.kind != GW_VAL_REAL || !(rg.d > 0)) continue;
        if (st.kind == GW_VAL_TEXT && strcmp(st.s, "offline") == 0) continue;
        double rad = rg.d * (k ? k[r] : 1);
        if (cx[r] + rad < x0 || cx[r] - rad > x1 || cy[r] + rad < y0 || cy[r] - rad > y1) continue;
        gw_value az = gw_layer_data_value(R->cams, r, faz),
                 fov = gw_layer_data_value(R->cams, r, ffov);
        double xy[2 * 184];
        size_t m = gw_coverage_sector(cx[r], cy[r],
                                      (az.kind == GW_VAL_REAL ? az.d : 0) - (conv ? conv[r] : 0),
                                      fov.kind == GW_VAL_REAL ? fov.d : 360, rad, xy, 184);
        if (!m) continue;
        GEOSGeometry *v = ring_poly(h, xy, m);
        n += GEOSRelatePattern_r(h, grid, v, "T********") == 1;
        GEOSGeom_destroy_r(h, v);
    }
    return n;
}

static double ref_rooms(const refs *R, size_t g)
{
    GEOSContextHandle_t h = gw_ctx_geos(R->ctx);
    const GEOSGeometry *grid = gw_layer_data_geom(R->grids, g, GW_MODEL_METRIC);
    const double *rx = gw_layer_data_x(R->rooms, GW_MODEL_METRIC),
                 *ry = gw_layer_data_y(R->rooms, GW_MODEL_METRIC);
    double x0, y0, x1, y1, D = R->room_dist;
    GEOSGeom_getXMin_r(h, grid, &x0), GEOSGeom_getYMin_r(h, grid, &y0);
    GEOSGeom_getXMax_r(h, grid, &x1), GEOSGeom_getYMax_r(h, grid, &y1);
    size_t nr = gw_layer_data_count(R->rooms), nd = 0;
    GEOSGeometry **d = malloc((nr + 1) * sizeof *d);
    for (size_t r = 0; r < nr; r++) {
        if (rx[r] + D < x0 || rx[r] - D > x1 || ry[r] + D < y0 || ry[r] - D > y1) continue;
        double xy[2 * 184];
        size_t m = gw_coverage_sector(rx[r], ry[r], 0, 360, D, xy, 184);
        d[nd++] = ring_poly(h, xy, m);
    }
    double a = 0;
    if (nd) {
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, d,
                                                         (unsigned)nd);
        GEOSGeometry *u = GEOSUnaryUnion_r(h, coll), *in = GEOSIntersection_r(h, grid, u);
        GEOSArea_r(h, in, &a);
        GEOSGeom_destroy_r(h, coll), GEOSGeom_destroy_r(h, u), GEOSGeom_destroy_r(h, in);
    }
    free(d);
    return a;
}

/* On one model: every grid's covered area by boundary integration within 1e-9 of its area of
 * grid − (the GEOS blind spots: union of the views, difference with the grid, nothing dropped). */
static void compare_paths(gw_ctx *ctx, gw_model *model, const char *what)
{
    gw_coverage *cov = NULL;
    gw_coverage_opts o = {.threads = 2, .min_blind_m2 = 0};
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov), GW_OK);
    size_t n = gw_coverage_count(cov), partial = 0, reached = 0;
    double maxd = 0, maxroom = 0;
    gw_model_snapshot *snap = gw_coverage_snapshot(cov);
    refs R = {ctx, gw_snapshot_layer(snap, GW_LAYER_CAMERAS),
              gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
              gw_snapshot_layer(snap, GW_LAYER_GRIDS), gw_coverage_get_opts(cov)->room_dist_m};
    for (size_t g = 0; g < n; g++) {
        const gw_coverage_row *a = gw_coverage_row_at(cov, g);
        gw_coverage_blind_spots b;
        assert_int_equal(gw_coverage_blind(ctx, cov, g, &b), GW_OK);
        double geos = a->grid_m2 - b.kept_m2;
        double d = fabs(a->covered_m2 - geos) / a->grid_m2;
        if (d > maxd) maxd = d;
        if (d > 1e-9)
            fail_msg("%s: grid %s: covered %.6f m² by boundary integration, %.6f by GEOS", what,
                     gw_coverage_grid_id(cov, g), a->covered_m2, geos);
        assert_rel_ok(a->blind_m2, a->grid_m2 - a->covered_m2);
        int cams = ref_cameras(&R, g);
        if (a->cameras != cams)
            fail_msg("%s: grid %s: %d cameras, GEOS %d", what, gw_coverage_grid_id(cov, g),
                     a->cameras, cams);
        double room = ref_rooms(&R, g), dr = fabs(a->room_m2 - room) / a->grid_m2;
        if (dr > maxroom) maxroom = dr;
        if (dr > 1e-9)
            fail_msg("%s: grid %s: room reach %.6f m² by boundary integration, %.6f by GEOS", what,
                     gw_coverage_grid_id(cov, g), a->room_m2, room);
        reached += a->room_reach > 0.001 && a->room_reach < 0.999;
        partial += a->ratio > 0.001 && a->ratio < 0.999;
    }
    print_message("%s: %zu grids (%zu partly covered, %zu partly reached), max |difference| / grid "
                  "area: covered %.2g, room reach %.2g; camera counts equal GEOS's\n",
                  what, n, partial, reached, maxd, maxroom);
    assert_true(partial > n / 4);
    assert_true(reached > 0);
    gw_coverage_destroy(ctx, cov);
}

static void test_city(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("area_city.db"), GW_STORE_CREATE, &store),
                     GW_OK);
    gw_city_opts co = {.scale = 0.05, .seed = 11};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, store, &co, &rep), GW_OK);
    gw_model *model = NULL;
    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    compare_paths(ctx, model, "scale 0.05");
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_city),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
