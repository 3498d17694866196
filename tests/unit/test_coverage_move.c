/* test_coverage_move.c — a camera's move updates its grids by the difference of its old and
 * new view alone (geo/coverage/coverage_move.c): on a generated city, hundreds of single-camera
 * changes, one at a time through gw_edit_patch and gw_coverage_update — moves of up to ~300 m
 * with a new bearing, wider and narrower views, full discs, longer and shorter ranges, a camera
 * switched off and on, a camera put exactly on another one with the same view (coincident
 * edges) — must take the difference path (gw_coverage_moved_grids counts its grids), and every
 * grid's figures must then equal a fresh recompute: camera counts and incidents seen exactly
 * (an incident's flag is redone only under the changed view), covered area within 1e-7 of the
 * grid's area (the drift of hundreds of differences included).  A second city is
 * checked the same way with GW_COVERAGE_NO_DELTA set, which must take no difference. */
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

typedef struct city {
    gw_ctx *ctx;
    gw_store *store;
    gw_model *model;
    gw_coverage *cov;
    size_t ncam;
    char (*id)[32];
    double *lon, *lat;
} city;

static void city_open(city *c, const char *name, unsigned seed)
{
    memset(c, 0, sizeof *c);
    c->ctx = gw_test_ctx();
    assert_int_equal(gw_store_open(c->ctx, gw_test_db(name), GW_STORE_CREATE, &c->store), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = seed};
    assert_int_equal(gw_city_generate(c->ctx, c->store, &co, NULL), GW_OK);
    assert_int_equal(gw_model_open(c->ctx, c->store, &c->model), GW_OK);
    gw_coverage_opts o = {.threads = 2};
    assert_int_equal(gw_coverage_compute(c->ctx, c->model, gw_model_acquire(c->model), &o, &c->cov),
                     GW_OK);
    const gw_layer_data *cams = gw_snapshot_layer(gw_coverage_snapshot(c->cov), GW_LAYER_CAMERAS);
    c->ncam = gw_layer_data_count(cams);
    assert_true(c->ncam > 100);
    c->id = calloc(c->ncam, sizeof *c->id);
    c->lon = malloc(c->ncam * sizeof *c->lon), c->lat = malloc(c->ncam * sizeof *c->lat);
    assert_non_null(c->id), assert_non_null(c->lon), assert_non_null(c->lat);
    for (size_t r = 0; r < c->ncam; r++) {
        snprintf(c->id[r], sizeof c->id[r], "%s", gw_layer_data_id(cams, r));
        c->lon[r] = gw_layer_data_x(cams, GW_MODEL_LONLAT)[r];
        c->lat[r] = gw_layer_data_y(cams, GW_MODEL_LONLAT)[r];
    }
}

static void city_close(city *c)
{
    gw_coverage_destroy(c->ctx, c->cov);
    gw_model_close(c->model);
    gw_store_close(c->store);
    gw_ctx_destroy(c->ctx);
    free(c->id), free(c->lon), free(c->lat);
}

/* Patch camera r with properties `props` and, when lon is finite, a new position; then bring
 * the model and the coverage up to date. */
static void change(city *c, size_t r, const char *props, double lon, double lat)
{
    char json[512];
    if (isfinite(lon))
        snprintf(json, sizeof json,
                 "{\"type\":\"Feature\",\"properties\":{%s},\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[%.10f,%.10f]}}",
                 props, lon, lat);
    else snprintf(json, sizeof json, "{\"type\":\"Feature\",\"properties\":{%s}}", props);
    gw_edit_result er = {0};
    assert_int_equal(gw_edit_patch(c->store, GW_LAYER_CAMERAS, c->id[r], json, strlen(json), NULL,
                                   &er),
                     GW_OK);
    gw_edit_result_free(&er);
    if (isfinite(lon)) c->lon[r] = lon, c->lat[r] = lat;
    assert_int_equal(gw_model_refresh(c->ctx, c->model, c->store, NULL), GW_OK);
    size_t nch = 0;
    assert_int_equal(gw_coverage_update(c->ctx, c->cov, gw_model_acquire(c->model), &nch), GW_OK);
}

/* Every grid of c->cov against a fresh recompute; returns the largest covered-area error as a
 * share of the grid's area. */
static double compare_fresh(city *c)
{
    gw_coverage *fresh = NULL;
    gw_coverage_opts o = {.threads = 2};
    assert_int_equal(gw_coverage_compute(c->ctx, c->model, gw_model_acquire(c->model), &o, &fresh),
                     GW_OK);
    assert_int_equal(gw_coverage_count(fresh), gw_coverage_count(c->cov));
    double worst = 0;
    for (size_t g = 0; g < gw_coverage_count(fresh); g++) {
        const gw_coverage_row *x = gw_coverage_row_at(c->cov, g), *y = gw_coverage_row_at(fresh, g);
        if (x->cameras != y->cameras)
            fail_msg("grid row %zu: %d cameras after the moves, %d recomputed", g, x->cameras,
                     y->cameras);
        double err = fabs(x->covered_m2 - y->covered_m2) / y->grid_m2;
        if (err > worst) worst = err;
        if (err > 1e-7)
            fail_msg("grid row %zu: covered %.6f m² after the moves, %.6f recomputed (%.3g of "
                     "the grid)",
                     g, x->covered_m2, y->covered_m2, err);
        assert_true(fabs(x->ratio - y->ratio) <= 1e-7);
        assert_true(fabs(x->blind_m2 - y->blind_m2) <= 1e-7 * y->grid_m2);
        assert_int_equal(x->blind_parts, -1);
        assert_int_equal(x->incidents, y->incidents);
        if (x->seen != y->seen)
            fail_msg("grid row %zu: %d incidents seen after the moves, %d recomputed", g, x->seen,
                     y->seen);
    }
    gw_coverage_destroy(c->ctx, fresh);
    return worst;
}

static double urand(void) { return (double)rand() / RAND_MAX; }

/* One random single-camera change of kind k. */
static void random_change(city *c, int k)
{
    size_t r = (size_t)rand() % c->ncam;
    char props[160];
    switch (k % 8) {
    case 0: /* a move nearby with a new bearing */
    case 1:
        snprintf(props, sizeof props, "\"azimuth\":%.3f", urand() * 360);
        change(c, r, props, c->lon[r] + (urand() - 0.5) * 0.006,
               c->lat[r] + (urand() - 0.5) * 0.005);
        break;
    case 2: /* turn, wider or narrower */
        snprintf(props, sizeof props, "\"azimuth\":%.3f,\"fov\":%.2f", urand() * 360,
                 5 + urand() * 170);
        change(c, r, props, NAN, NAN);
        break;
    case 3: /* a dome */ change(c, r, "\"fov\":360", NAN, NAN); break;
    case 4: /* a longer or shorter range */
        snprintf(props, sizeof props, "\"range\":%.2f", 20 + urand() * 130);
        change(c, r, props, NAN, NAN);
        break;
    case 5: /* off, then on again */
        change(c, r, "\"status\":\"offline\"", NAN, NAN);
        change(c, r, "\"status\":\"online\"", NAN, NAN);
        break;
    case 6: { /* exactly onto another camera with the same view: coincident boundaries */
        size_t o = (size_t)rand() % c->ncam;
        if (o == r) o = (o + 1) % c->ncam;
        change(c, o, "\"azimuth\":40,\"fov\":90,\"range\":80,\"status\":\"online\"", NAN, NAN);
        change(c, r, "\"azimuth\":40,\"fov\":90,\"range\":80,\"status\":\"online\"", c->lon[o],
               c->lat[o]);
        break;
    }
    default: /* a half disc, back to back with a turn of 180 degrees */
        change(c, r, "\"azimuth\":0,\"fov\":180", NAN, NAN);
        change(c, r, "\"azimuth\":180", NAN, NAN);
        break;
    }
}

static void test_moves_equal_recompute(void **state)
{
    (void)state;
    city c;
    city_open(&c, "move.db", 11);
    srand(5);
    size_t before = gw_coverage_moved_grids(c.cov);
    double worst = 0;
    for (int i = 0; i < 240; i++) {
        random_change(&c, i);
        if (i % 80 == 79) {
            double w = compare_fresh(&c);
            if (w > worst) worst = w;
        }
    }
    size_t moved = gw_coverage_moved_grids(c.cov) - before;
    printf("# %zu grids moved by a difference; worst covered-area error %.3g of a grid\n", moved,
           worst);
    assert_true(moved > 300); /* ~2-3 grids for each of the ~300 changes */
    city_close(&c);
}

/* Two cameras changed in one update: recomputed, not moved (the difference is for one). */
static void test_two_changes_recompute(void **state)
{
    (void)state;
    city c;
    city_open(&c, "move2.db", 12);
    const char *p = "{\"type\":\"Feature\",\"properties\":{\"azimuth\":77}}";
    for (size_t r = 0; r < 2; r++) {
        gw_edit_result er = {0};
        assert_int_equal(gw_edit_patch(c.store, GW_LAYER_CAMERAS, c.id[r * 7], p, strlen(p), NULL,
                                       &er),
                         GW_OK);
        gw_edit_result_free(&er);
    }
    assert_int_equal(gw_model_refresh(c.ctx, c.model, c.store, NULL), GW_OK);
    size_t nch = 0;
    assert_int_equal(gw_coverage_update(c.ctx, c.cov, gw_model_acquire(c.model), &nch), GW_OK);
    assert_true(nch > 0);
    assert_int_equal(gw_coverage_moved_grids(c.cov), 0);
    compare_fresh(&c);
    /* and with the difference switched off, one camera's change is recomputed too */
    setenv("GW_COVERAGE_NO_DELTA", "1", 1);
    for (int i = 0; i < 20; i++) random_change(&c, i);
    unsetenv("GW_COVERAGE_NO_DELTA");
    assert_int_equal(gw_coverage_moved_grids(c.cov), 0);
    compare_fresh(&c);
    city_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves_equal_recompute),
        cmocka_unit_test(test_two_changes_recompute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
