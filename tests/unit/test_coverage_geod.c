/* test_coverage_geod.c — camera views against a geodesic reference: a camera's azimuth is a true
 * bearing and its range a ground distance, so its view is the set of points reached by WGS84
 * geodesics from it (GeographicLib's direct problem, geod_direct) within fov / 2 of its azimuth.
 * The reference here builds each sector from geodesic arc vertices at the true azimuths (the
 * engine's 3-degree steps), projects them into the metric CRS with PROJ, and computes every
 * grid's covered ratio with GEOS (union of the sectors meeting the grid, intersection, area).
 * Every grid of two generated cities must agree with the engine within 0.001: the default city
 * (its east half lies beyond the edge of its 3-degree zone, 1.5 degrees east of the central
 * meridian) and one placed west of its zone's central meridian (negative convergence).  Per
 * camera, the engine's view vertices must lie within 1e-4 of the range of the geodesic ones,
 * and the views drawn without the correction must not (so the test can fail). */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/crs.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <geodesic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct geod_geodesic wgs84;

/* Central meridian of a CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534 = 75E ... 4554 = 135E). */
static double central_meridian(int srid)
{
    assert_true(srid >= 4534 && srid <= 4554);
    return 75 + 3.0 * (srid - 4534);
}

typedef struct cam {
    double lon, lat, az, fov, rg;
} cam;

/* The cameras with a view (coverage.h's rules), true azimuth and ground range as stored. */
static size_t views_of(const gw_layer_data *C, cam **out)
{
    size_t n = gw_layer_data_count(C), k = 0;
    cam *v = malloc((n + 1) * sizeof *v);
    assert_non_null(v);
    int fa = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth"),
        ff = gw_layer_field_index(GW_LAYER_CAMERAS, "fov"),
        fr = gw_layer_field_index(GW_LAYER_CAMERAS, "range"),
        fs = gw_layer_field_index(GW_LAYER_CAMERAS, "status");
    for (size_t r = 0; r < n; r++) {
        gw_value a = gw_layer_data_value(C, r, fa), f = gw_layer_data_value(C, r, ff),
                 rg = gw_layer_data_value(C, r, fr);
        const char *s = gw_layer_data_text(C, r, fs);
        double fov = f.kind == GW_VAL_REAL ? f.d : 360;
        if ((s && strcasecmp(s, "offline") == 0) || rg.kind != GW_VAL_REAL || !(rg.d > 0) ||
            !(fov > 0))
            continue;
        v[k++] = (cam){gw_layer_data_x(C, GW_MODEL_LONLAT)[r],
                       gw_layer_data_y(C, GW_MODEL_LONLAT)[r], a.kind == GW_VAL_REAL ? a.d : 0,
                       fov >= 360 ? 360 : fov, rg.d};
    }
    *out = v;
    return k;
}

/* The geodesic sector of c in the metric CRS: apex, then the points at ground distance rg along
 * the geodesics at true azimuths az - fov/2 + fov*i/n (n = ceil(fov / 3); a disc: 120 points),
 * closed; returns the vertex count. */
static size_t geod_sector(gw_crs_transform *to_m, const cam *c, double *xy)
{
    int disc = c->fov >= 360, n = (int)ceil(c->fov / 3);
    size_t k = 0;
    double lon[200], lat[200];
    if (!disc) lon[k] = c->lon, lat[k] = c->lat, k++;
    for (int i = 0; i < (disc ? n : n + 1); i++, k++) {
        double azi = c->az - c->fov / 2 + c->fov * i / n;
        geod_direct(&wgs84, c->lat, c->lon, azi, c->rg, &lat[k], &lon[k], NULL);
    }
    lon[k] = lon[0], lat[k] = lat[0], k++;
    assert_int_equal(gw_crs_transform_points(to_m, lon, lat, k), GW_OK);
    for (size_t i = 0; i < k; i++) xy[2 * i] = lon[i], xy[2 * i + 1] = lat[i];
    return k;
}

static GEOSGeometry *poly(GEOSContextHandle_t h, const double *xy, size_t n)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
    GEOSGeometry *p = GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
    assert_non_null(p);
    return p;
}

typedef struct hits {
    GEOSContextHandle_t h;
    const GEOSGeometry *grid;
    GEOSGeometry **v;
    size_t n;
} hits;

static void hit(void *item, void *user)
{
    hits *q = user;
    const GEOSGeometry *s = item;
    if (GEOSIntersects_r(q->h, s, q->grid) == 1) q->v[q->n++] = GEOSGeom_clone_r(q->h, s);
}

/* One city: generated (region NULL = the default one), the engine's ratios against the
 * geodesic reference on every grid; west: the city lies west of its central meridian. */
static void check_city(const char *name, const char *region, int west)
{
    gw_ctx *ctx = gw_test_ctx();
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db(name), GW_STORE_CREATE, &store), GW_OK);
    gw_city_opts co = {.scale = 0.03, .seed = 3, .region = region};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, store, &co, &rep), GW_OK);
    gw_model *model = NULL;
    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    int srid = gw_model_metric_srid(model);
    double cm = central_meridian(srid);
    gw_coverage *cov = NULL;
    gw_coverage_opts o = {.threads = 2};
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov), GW_OK);
    const gw_model_snapshot *snap = gw_coverage_snapshot(cov);
    const gw_layer_data *C = gw_snapshot_layer(snap, GW_LAYER_CAMERAS),
                        *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    cam *v = NULL;
    size_t nv = views_of(C, &v);
    assert_true(nv > 1000);
    gw_crs_transform *to_m = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326},
                                             (gw_crs){GW_CRS_EPSG, srid}, &to_m),
                     GW_OK);
    gw_crs_factors *fac = NULL;
    assert_int_equal(gw_crs_factors_create(ctx, (gw_crs){GW_CRS_EPSG, srid}, &fac), GW_OK);
    /* Per camera: the engine's vertices (gw_coverage_sector at the corrected azimuth and range)
     * against the geodesic ones; and the uncorrected ones, which must be visibly off. */
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    GEOSGeometry **all = malloc(nv * sizeof *all);
    double far = 0, worst = 0, raw_worst = 0, xy[2 * 200], ours[2 * 200];
    for (size_t i = 0; i < nv; i++) {
        const cam *c = &v[i];
        double x = c->lon, y = c->lat, conv = 0, k = 1;
        assert_int_equal(gw_crs_transform_points(to_m, &x, &y, 1), GW_OK);
        assert_int_equal(gw_crs_factors_at(fac, c->lon, c->lat, &conv, &k), GW_OK);
        if (west) assert_true(c->lon < cm && conv < 0);
        if (fabs(c->lon - cm) > far) far = fabs(c->lon - cm);
        size_t n = geod_sector(to_m, c, xy);
        for (int raw = 0; raw < 2; raw++) {
            size_t m = raw ? gw_coverage_sector(x, y, c->az, c->fov, c->rg, ours, 200)
                           : gw_coverage_sector(x, y, c->az - conv, c->fov, c->rg * k, ours, 200);
            assert_int_equal(m, n);
            for (size_t j = 0; j < n; j++) {
                double d = hypot(ours[2 * j] - xy[2 * j], ours[2 * j + 1] - xy[2 * j + 1]) / c->rg;
                if (raw && d > raw_worst) raw_worst = d;
                if (!raw && d > worst) worst = d;
            }
        }
        all[i] = poly(h, xy, n);
        GEOSSTRtree_insert_r(h, tree, all[i], all[i]);
    }
    print_message("%s: EPSG:%d, cameras up to %.2f degrees from the central meridian; vertex "
                  "error / range %.2g (uncorrected %.2g)\n",
                  name, srid, far, worst, raw_worst);
    assert_true(worst < 1e-4);
    assert_true(raw_worst > 5e-3);     /* ~ the convergence in radians: the test sees the error */
    if (!west) assert_true(far > 1.5); /* beyond the zone's edge */
    else assert_true(far > 0.3);
    /* Per grid: the geodesic sectors' union against the engine's ratio. */
    size_t ng = gw_layer_data_count(G), off = 0;
    double maxd = 0, sum = 0;
    GEOSGeometry **cand = malloc(nv * sizeof *cand);
    for (size_t g = 0; g < ng; g++) {
        const GEOSGeometry *geom = gw_layer_data_geom(G, g, GW_MODEL_METRIC);
        hits q = {h, geom, cand, 0};
        GEOSSTRtree_query_r(h, tree, geom, hit, &q);
        double ga = 0, a = 0;
        GEOSArea_r(h, geom, &ga);
        if (q.n) {
            GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, cand,
                                                             (unsigned)q.n);
            GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
            GEOSGeometry *in = GEOSIntersection_r(h, u, geom);
            assert_non_null(in);
            GEOSArea_r(h, in, &a);
            GEOSGeom_destroy_r(h, in), GEOSGeom_destroy_r(h, u), GEOSGeom_destroy_r(h, coll);
        }
        double ref = a / ga, got = gw_coverage_row_at(cov, g)->ratio, d = fabs(ref - got);
        if (d > maxd) maxd = d;
        off += d > 0.001;
        sum += ref;
    }
    print_message("%s: %zu grids, max |ratio - geodesic ratio| %.2g, %zu above 0.001\n", name, ng,
                  maxd, off);
    assert_true(sum > 0.01 * (double)ng); /* the cameras cover something */
    assert_int_equal(off, 0);
    /* Tighter than the 0.001 asked: the same 3-degree chords on both sides leave ~1e-7 (views
     * drawn without the correction are off by 4e-4 in the default city, 1.1e-3 in the west). */
    assert_true(maxd < 1e-5);
    for (size_t i = 0; i < nv; i++) GEOSGeom_destroy_r(h, all[i]);
    GEOSSTRtree_destroy_r(h, tree);
    free(all), free(cand), free(v);
    gw_crs_factors_destroy(fac);
    gw_crs_transform_destroy(to_m);
    gw_coverage_destroy(ctx, cov);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
}

/* The default city around 115.48E in the zone of 114E: convergence up to ~+1 degree, cameras
 * beyond the zone's edge at 115.5E. */
static void test_default_city(void **state)
{
    (void)state;
    check_city("geod_east.db", NULL, 0);
}

/* A city at 116.3-116.6E, west of the zone of 117E: negative convergence. */
static void test_west_city(void **state)
{
    (void)state;
    const char *path = gw_test_path("west_region.geojson");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
          "{\"name\":\"west\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[116.30,"
          "35.10],[116.62,35.10],[116.62,35.32],[116.30,35.32],[116.30,35.10]]]}}]}",
          f);
    fclose(f);
    check_city("geod_west.db", path, 1);
}

/* The factors themselves against hand cases: PROJ's convergence and scale at a point equal the
 * grid bearing of true north (negated) and the projected length of a short geodesic. */
static void test_factors_hand(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const struct {
        int srid;
        double lon, lat;
    } pts[] = {{4549, 121.4, 35},
               {4549, 118.5, 35},
               {32650, 116, 35},
               {32750, 116, -35},
               {4547, 115.9, 35.2}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        gw_crs_factors *f = NULL;
        gw_crs_transform *tr = NULL;
        gw_crs m = {GW_CRS_EPSG, pts[i].srid};
        assert_int_equal(gw_crs_factors_create(ctx, m, &f), GW_OK);
        assert_int_equal(gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326}, m, &tr), GW_OK);
        double conv, k, lat2, lon2;
        assert_int_equal(gw_crs_factors_at(f, pts[i].lon, pts[i].lat, &conv, &k), GW_OK);
        /* 1 m north along the geodesic: its grid bearing is -convergence, its length k m */
        geod_direct(&wgs84, pts[i].lat, pts[i].lon, 0, 1, &lat2, &lon2, NULL);
        double x[2] = {pts[i].lon, lon2}, y[2] = {pts[i].lat, lat2};
        assert_int_equal(gw_crs_transform_points(tr, x, y, 2), GW_OK);
        double gb = atan2(x[1] - x[0], y[1] - y[0]) * 180 / M_PI,
               len = hypot(x[1] - x[0], y[1] - y[0]);
        if (fabs(gb + conv) > 1e-5 || fabs(len - k) > 1e-6)
            fail_msg("EPSG:%d (%g, %g): convergence %.9f, grid bearing of north %.9f; scale "
                     "%.9f, 1 m -> %.9f",
                     pts[i].srid, pts[i].lon, pts[i].lat, conv, gb, k, len);
        assert_true(fabs(conv) > 0.5); /* all of these are far from their central meridian */
        gw_crs_transform_destroy(tr);
        gw_crs_factors_destroy(f);
    }
    gw_crs_factors *f = NULL;
    assert_int_equal(gw_crs_factors_create(ctx, (gw_crs){GW_CRS_EPSG, 4326}, &f), GW_ERR_CRS);
    assert_null(f);
    /* geodesic azimuth: due east on the equator, due north along a meridian, the same point */
    assert_true(fabs(gw_geodesic_azimuth(0, 0, 1, 0) - 90) < 1e-12);
    assert_true(fabs(gw_geodesic_azimuth(116, 35, 116, 36)) < 1e-12);
    assert_true(gw_geodesic_azimuth(116, 35, 116, 35) == 0);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factors_hand),
        cmocka_unit_test(test_default_city),
        cmocka_unit_test(test_west_city),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
