/* test_kde.c — kernel density: one point gives the analytic quartic kernel, the raster integrates
 * to the incident count, binned and exact agree where they must, threads change nothing, the
 * default bandwidth follows ArcGIS's rule, and GeoTIFF / contour output reads back in GDAL. */
#include "testutil.h"

#include "gridwatch/kde.h"

#include <gdal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void near_(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) near_((double)(a), (double)(b), (eps), __FILE__, __LINE__)

static double quartic_km2(double d, double r)
{
    double u = d * d / (r * r);
    return u < 1 ? 3 / M_PI / (r * r) * (1 - u) * (1 - u) * 1e6 : 0;
}

static void test_single_point(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double x[] = {500.3}, y[] = {700.1};
    gw_kde_opts o = {.cell = 10,
                     .bandwidth = 100,
                     .has_bbox = 1,
                     .bbox = {0, 0, 1000, 1000},
                     .mode = GW_KDE_EXACT};
    gw_raster *r = NULL;
    assert_int_equal(gw_kde_points(ctx, x, y, 1, &o, &r), GW_OK);
    assert_int_equal(r->nx, 100);
    assert_int_equal(r->ny, 100);
    double peak = 0, sum = 0;
    for (size_t row = 0; row < r->ny; row++)
        for (size_t c = 0; c < r->nx; c++) {
            double cx = r->x0 + (c + 0.5) * r->cell, cy = r->y1 - (row + 0.5) * r->cell;
            double want = quartic_km2(hypot(cx - x[0], cy - y[0]), 100);
            double got = r->v[row * r->nx + c];
            assert_near(got, want, 1e-5 * want + 1e-9);
            peak = fmax(peak, got);
            sum += got;
        }
    assert_near(peak, quartic_km2(hypot(4.7, 4.9), 100), 1e-3); /* nearest centre (505, 705) */
    assert_near(sum * 100 / 1e6, 1, 2e-3); /* integral of one kernel = 1 incident */
    gw_raster_destroy(r);
    gw_ctx_destroy(ctx);
}

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_integral_modes_threads(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    enum { N = 3000 };
    static double x[N], y[N];
    for (int i = 0; i < N; i++) { /* two clusters and a background */
        double c = urand();
        double cx = c < 0.4 ? 2000 : c < 0.7 ? 6000 : 4000, sp = c < 0.7 ? 300 : 3000;
        x[i] = cx + (urand() - 0.5) * 2 * sp;
        y[i] = cx * 0.5 + (urand() - 0.5) * 2 * sp;
    }
    gw_kde_opts o = {.cell = 25, .bandwidth = 250, .mode = GW_KDE_EXACT, .threads = 1};
    gw_raster *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(gw_kde_points(ctx, x, y, N, &o, &a), GW_OK);
    double sum = 0;
    for (size_t k = 0; k < a->nx * a->ny; k++) sum += a->v[k];
    assert_near(sum * o.cell * o.cell / 1e6, N, N * 2e-3);
    o.threads = 3;
    assert_int_equal(gw_kde_points(ctx, x, y, N, &o, &b), GW_OK);
    assert_int_equal(a->nx, b->nx);
    assert_int_equal(memcmp(a->v, b->v, a->nx * a->ny * sizeof *a->v), 0);
    o.mode = GW_KDE_BINNED;
    assert_int_equal(gw_kde_points(ctx, x, y, N, &o, &c), GW_OK);
    double sb = 0, maxdiff = 0, peak = 0;
    for (size_t k = 0; k < c->nx * c->ny; k++) {
        sb += c->v[k];
        maxdiff = fmax(maxdiff, fabs(c->v[k] - a->v[k]));
        peak = fmax(peak, a->v[k]);
    }
    assert_near(sb * o.cell * o.cell / 1e6, N, N * 2e-3);
    assert_true(maxdiff < 0.1 * peak); /* binning moves points by < cell/√2 */
    gw_raster_destroy(a);
    gw_raster_destroy(b);
    gw_raster_destroy(c);
    /* points at cell centres: binned == exact; a given extent still counts points just outside */
    const double px[] = {112.5, 137.5, 137.5, 62.5}, py[] = {87.5, 87.5, 112.5, -12.5};
    o = (gw_kde_opts){
        .cell = 25, .bandwidth = 80, .has_bbox = 1, .bbox = {0, 0, 300, 300}, .mode = GW_KDE_EXACT};
    assert_int_equal(gw_kde_points(ctx, px, py, 4, &o, &a), GW_OK);
    o.mode = GW_KDE_BINNED;
    o.threads = 2;
    assert_int_equal(gw_kde_points(ctx, px, py, 4, &o, &b), GW_OK);
    for (size_t k = 0; k < a->nx * a->ny; k++) assert_near(a->v[k], b->v[k], 1e-3);
    /* bottom row, third cell: centre (62.5, 12.5) */
    double want = quartic_km2(25, 80) + quartic_km2(hypot(50, 75), 80) +
                  quartic_km2(hypot(75, 75), 80) + quartic_km2(hypot(75, 100), 80);
    assert_true(want > 0);
    assert_near(a->v[a->nx * (a->ny - 1) + 2], want, 1e-2);
    gw_raster_destroy(a);
    gw_raster_destroy(b);
    gw_ctx_destroy(ctx);
}

static void test_bandwidth_and_errors(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    /* square: SD = sqrt(2), D_m = sqrt(2) → r = 0.9 * sqrt(2) * 4^-0.2 */
    const double x[] = {0, 2, 0, 2, 1}, y[] = {0, 0, 2, 2, 1};
    double bw = 0;
    assert_int_equal(gw_kde_bandwidth(ctx, x, y, 4, &bw), GW_OK);
    assert_near(bw, 0.9 * sqrt(2) * pow(4, -0.2), 1e-12);
    /* with the centre point: SD = sqrt(8/5), D_m = sqrt(2) (median of 0, √2 ×4) */
    assert_int_equal(gw_kde_bandwidth(ctx, x, y, 5, &bw), GW_OK);
    assert_near(bw, 0.9 * fmin(sqrt(8.0 / 5), sqrt(1 / log(2.0)) * sqrt(2)) * pow(5, -0.2), 1e-12);
    /* D_m binds: most points at the centre, a few far away */
    const double x2[] = {0, 0, 0, 0, 0, 100, -100}, y2[] = {0, 0, 0, 0.1, -0.1, 0, 0};
    assert_int_equal(gw_kde_bandwidth(ctx, x2, y2, 7, &bw), GW_OK);
    assert_true(bw < 1);
    assert_int_equal(gw_kde_bandwidth(ctx, x, y, 1, &bw), GW_ERR_RANGE);
    const double same[] = {5, 5, 5};
    assert_int_equal(gw_kde_bandwidth(ctx, same, same, 3, &bw), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "metres"));
    gw_raster *r = NULL;
    gw_kde_opts o = {.cell = 0};
    assert_int_equal(gw_kde_points(ctx, x, y, 4, &o, &r), GW_ERR_ARG);
    o = (gw_kde_opts){.cell = 0.001, .bandwidth = 1, .has_bbox = 1, .bbox = {0, 0, 1000, 1000}};
    assert_int_equal(gw_kde_points(ctx, x, y, 4, &o, &r), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "limit"));
    assert_null(r);
    gw_ctx_destroy(ctx);
}

static void test_gdal_output(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double x[] = {500000, 500100, 500050}, y[] = {3900000, 3900000, 3900080};
    gw_kde_opts o = {.cell = 20, .bandwidth = 200};
    gw_raster *r = NULL;
    assert_int_equal(gw_kde_points(ctx, x, y, 3, &o, &r), GW_OK);
    unsigned char *tif = NULL;
    size_t len = 0;
    assert_int_equal(gw_raster_to_geotiff(ctx, r, 32650, &tif, &len), GW_OK);
    assert_true(len > 100);
    assert_memory_equal(tif, "II*\0", 4);
    const char *path = gw_test_path("kde.tif");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(tif, 1, len, f), len);
    fclose(f);
    free(tif);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterXSize(ds), (int)r->nx);
    assert_int_equal(GDALGetRasterYSize(ds), (int)r->ny);
    double gt[6];
    assert_int_equal(GDALGetGeoTransform(ds, gt), CE_None);
    assert_near(gt[0], r->x0, 1e-6);
    assert_near(gt[3], r->y1, 1e-6);
    assert_near(gt[5], -20, 0);
    assert_non_null(strstr(GDALGetProjectionRef(ds), "32650"));
    float v = 0;
    size_t mid = (r->ny / 2) * r->nx + r->nx / 2;
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, (int)(r->nx / 2),
                                  (int)(r->ny / 2), 1, 1, &v, 1, 1, GDT_Float32, 0, 0),
                     CE_None);
    assert_near(v, r->v[mid], 0);
    GDALClose(ds);
    const double levels[] = {10, 30}; /* each kernel peaks at 3/(pi 0.04 km²) = 23.9 /km² */
    char *json = NULL;
    assert_int_equal(gw_raster_contours_geojson(ctx, r, 32650, levels, 2, &json, &len), GW_OK);
    assert_non_null(strstr(json, "FeatureCollection"));
    assert_non_null(strstr(json, "\"density\": 30.0"));
    assert_non_null(strstr(json, "LineString"));
    assert_non_null(strstr(json, "[ 117.")); /* lon/lat: 500 km east in UTM 50N is 117 E */
    free(json);
    gw_raster_destroy(r);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_point),
        cmocka_unit_test(test_integral_modes_threads),
        cmocka_unit_test(test_bandwidth_and_errors),
        cmocka_unit_test(test_gdal_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
