/* test_coverage_area.c — the covered area by boundary integration (geo/coverage/coverage_area.c,
 * every figure) against GEOS's union (the blind-spot polygons built on request: union of the
 * views, difference with the grid) on every grid of a generated city.  The hand cases with
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

/* On one model: every grid's covered area by boundary integration within 1e-9 of its area of
 * grid − (the GEOS blind spots: union of the views, difference with the grid, nothing dropped). */
static void compare_paths(gw_ctx *ctx, gw_model *model, const char *what)
{
    gw_coverage *cov = NULL;
    gw_coverage_opts o = {.threads = 2, .min_blind_m2 = 0};
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov), GW_OK);
    size_t n = gw_coverage_count(cov), partial = 0;
    double maxd = 0;
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
        partial += a->ratio > 0.001 && a->ratio < 0.999;
    }
    print_message("%s: %zu grids (%zu partly covered), max |covered difference| / grid area %.2g\n",
                  what, n, partial, maxd);
    assert_true(partial > n / 4);
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
