/* test_crs.c — the crs module against independent references: closed-form Web Mercator, the
 * meridian arc series for Gauss–Krüger northings, GeographicLib's published UTM example,
 * published GCJ-02/BD-09 test vectors, and the Heze counties published in both GCJ-02 and WGS84
 * (the "--real" group, ctest entry "crs_real", skipped (77) without <shared>/data/real). */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gridwatch/crs.h"

#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define GRS80_F (1.0 / 298.257222101) /* CGCS2000 */
#define DEG (M_PI / 180.0)

/* Meridian arc length from the equator to latitude phi (radians): Helmert's series in the third
 * flattening n, truncated after n^4 (error far below 0.1 mm on Earth ellipsoids). */
static double meridian_arc(double a, double f, double phi)
{
    double n = f / (2.0 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n;
    return a / (1.0 + n) *
           ((1.0 + n2 / 4.0 + n4 / 64.0) * phi - 1.5 * (n - n3 / 8.0) * sin(2 * phi) +
            15.0 / 16.0 * (n2 - n4 / 4.0) * sin(4 * phi) - 35.0 / 48.0 * n3 * sin(6 * phi) +
            315.0 / 512.0 * n4 * sin(8 * phi));
}

/* Degree differences at latitude lat expressed in metres (small-offset approximation). */
static double deg_err_m(double dlon, double dlat, double lat)
{
    double ex = dlon * DEG * WGS84_A * cos(lat * DEG), ey = dlat * DEG * WGS84_A;
    return sqrt(ex * ex + ey * ey);
}

/* |a - b| <= tol, printing both values when not (cmocka 1.1 only compares floats). */
#define assert_double_equal(a, b, tol) near_((a), (b), (tol), #a, __FILE__, __LINE__)
static void near_(double a, double b, double tol, const char *what, const char *file, int line)
{
    if (fabs(a - b) <= tol) return;
    fail_msg("%s:%d: %s = %.12f, expected %.12f (tolerance %g)", file, line, what, a, b, tol);
}

static gw_crs epsg(int code) { return (gw_crs){GW_CRS_EPSG, code}; }
static const gw_crs GCJ = {GW_CRS_GCJ02, 0};
static const gw_crs BD = {GW_CRS_BD09, 0};

/* Transform one point; fails the test on error. */
static void tr1(gw_ctx *ctx, gw_crs from, gw_crs to, double x, double y, double *ox, double *oy)
{
    gw_crs_transform *tr = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, from, to, &tr), GW_OK);
    *ox = x;
    *oy = y;
    gw_status st = gw_crs_transform_points(tr, ox, oy, 1);
    if (st != GW_OK) fprintf(stderr, "%s\n", gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    gw_crs_transform_destroy(tr);
}

/* ------------------------------------------------------------------------------------------ */

static void test_parse_forms(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    static const struct {
        const char *text;
        gw_crs_kind kind;
        int epsg;
    } cases[] = {
        {"EPSG:4326", GW_CRS_EPSG, 4326},
        {"epsg:4490", GW_CRS_EPSG, 4490},
        {"  3857 ", GW_CRS_EPSG, 3857},
        {"4547", GW_CRS_EPSG, 4547},
        {"CRS84", GW_CRS_EPSG, 4326},
        {"ogc:crs84", GW_CRS_EPSG, 4326},
        {"OGC:CRS84", GW_CRS_EPSG, 4326},
        {"http://www.opengis.net/def/crs/EPSG/0/4490", GW_CRS_EPSG, 4490},
        {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", GW_CRS_EPSG, 4326},
        {"urn:ogc:def:crs:EPSG::32616", GW_CRS_EPSG, 32616},
        {"gcj02", GW_CRS_GCJ02, 0},
        {"GCJ-02", GW_CRS_GCJ02, 0},
        {"bd09", GW_CRS_BD09, 0},
        {"BD-09", GW_CRS_BD09, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_crs c = {GW_CRS_EPSG, -1};
        gw_status st = gw_crs_parse(ctx, cases[i].text, &c);
        if (st != GW_OK) fprintf(stderr, "%s: %s\n", cases[i].text, gw_ctx_errmsg(ctx));
        assert_int_equal(st, GW_OK);
        assert_int_equal(c.kind, cases[i].kind);
        if (c.kind == GW_CRS_EPSG) assert_int_equal(c.epsg, cases[i].epsg);
    }
    char buf[32];
    gw_crs_format(epsg(4547), buf, sizeof buf);
    assert_string_equal(buf, "EPSG:4547");
    gw_crs_format(GCJ, buf, sizeof buf);
    assert_string_equal(buf, "GCJ-02");
    gw_crs_format(BD, buf, sizeof buf);
    assert_string_equal(buf, "BD-09");
    /* Formatting then parsing gives the same CRS back. */
    gw_crs back;
    assert_int_equal(gw_crs_parse(ctx, buf, &back), GW_OK);
    assert_int_equal(back.kind, GW_CRS_BD09);
    gw_ctx_destroy(ctx);
}

static void test_parse_errors(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_crs c;
    static const char *const bad[] = {"EPSG:999999",  "foo",        "",
                                      "EPSG:",        "EPSG:-4326", "EPSG:4326x",
                                      "wgs84 please", "EPSG:5773" /* vertical */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_ctx_clear_error(ctx);
        assert_int_equal(gw_crs_parse(ctx, bad[i], &c), GW_ERR_CRS);
        assert_int_equal(gw_ctx_errcode(ctx), GW_ERR_CRS);
        if (bad[i][0]) assert_non_null(strstr(gw_ctx_errmsg(ctx), bad[i]));
    }
    gw_ctx_clear_error(ctx);
    assert_int_equal(gw_crs_parse(ctx, NULL, &c), GW_ERR_ARG);
    assert_true(strlen(gw_ctx_errmsg(ctx)) > 0);
    assert_int_equal(gw_crs_parse(ctx, "EPSG:4326", NULL), GW_ERR_ARG);
    gw_ctx_destroy(ctx);
}

static void test_is_geographic(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    assert_true(gw_crs_is_geographic(ctx, epsg(4326)));
    assert_true(gw_crs_is_geographic(ctx, epsg(4490)));
    assert_true(gw_crs_is_geographic(ctx, epsg(4258))); /* ETRS89: asks PROJ */
    assert_true(gw_crs_is_geographic(ctx, GCJ));
    assert_true(gw_crs_is_geographic(ctx, BD));
    assert_false(gw_crs_is_geographic(ctx, epsg(3857)));
    assert_false(gw_crs_is_geographic(ctx, epsg(4547)));
    assert_false(gw_crs_is_geographic(ctx, epsg(32616)));
    assert_false(gw_crs_is_geographic(ctx, epsg(2154))); /* Lambert-93: asks PROJ */
    gw_ctx_destroy(ctx);
}

/* The code <-> central meridian table of gw_crs_metric_for() against PROJ's own definitions. */
static void test_gk_codes_match_proj(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    PJ_CONTEXT *pc = gw_ctx_proj(ctx);
    for (int cm = 75; cm <= 135; cm += 3) {
        int code = gw_crs_metric_for(cm + 0.4, 35.0);
        char def[32], want[64];
        snprintf(def, sizeof def, "EPSG:%d", code);
        PJ *pj = proj_create(pc, def);
        assert_non_null(pj);
        const char *name = proj_get_name(pj);
        snprintf(want, sizeof want, "CGCS2000 / 3-degree Gauss-Kruger CM %dE", cm);
        if (strcmp(name, want) != 0) fprintf(stderr, "%s is \"%s\"\n", def, name);
        assert_string_equal(name, want);
        const char *ps = proj_as_proj_string(pc, pj, PJ_PROJ_5, NULL);
        assert_non_null(ps);
        snprintf(want, sizeof want, "+lon_0=%d ", cm);
        assert_non_null(strstr(ps, want));
        assert_non_null(strstr(ps, "+x_0=500000 "));
        assert_non_null(strstr(ps, "+ellps=GRS80"));
        proj_destroy(pj);
    }
    gw_ctx_destroy(ctx);
}

static void test_metric_for(void **state)
{
    (void)state;
    assert_int_equal(gw_crs_metric_for(115.48, 35.24), 4547);   /* Heze centre -> CM 114E */
    assert_int_equal(gw_crs_metric_for(-87.63, 41.88), 32616);  /* Chicago */
    assert_int_equal(gw_crs_metric_for(-76.61, 39.29), 32618);  /* Baltimore */
    assert_int_equal(gw_crs_metric_for(151.21, -33.87), 32756); /* Sydney: south */
    assert_int_equal(gw_crs_metric_for(116.39, 39.91), 4548);   /* Beijing -> CM 117E */
    assert_int_equal(gw_crs_metric_for(73.2, 39.5), 4534);      /* west edge -> CM 75E */
    assert_int_equal(gw_crs_metric_for(135.4, 48.4), 4554);     /* east edge -> CM 135E */
    assert_int_equal(gw_crs_metric_for(112.49, 30.0), 4546);    /* nearer 111 than 114 */
    assert_int_equal(gw_crs_metric_for(112.51, 30.0), 4547);
    assert_int_equal(gw_crs_metric_for(100.5, 13.75), 32647); /* Bangkok: outside China's box */
    assert_int_equal(gw_crs_metric_for(180.0, 10.0), 32660);
    assert_int_equal(gw_crs_metric_for(-180.0, 10.0), 32601);
    assert_int_equal(gw_crs_metric_for(0.0, 0.0), 32631);
    assert_int_equal(gw_crs_metric_for(NAN, 0.0), 0);
}

/* Web Mercator against its closed form x = a*lon, y = a*ln(tan(pi/4 + lat/2)). */
static void test_web_mercator(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    double x, y;
    tr1(ctx, epsg(4326), epsg(3857), 180.0, 0.0, &x, &y);
    assert_double_equal(x, 20037508.342789244, 1e-6);
    assert_double_equal(y, 0.0, 1e-6);
    tr1(ctx, epsg(4326), epsg(3857), 0.0, 85.0511287798066, &x, &y);
    assert_double_equal(x, 0.0, 1e-6);
    assert_double_equal(y, 20037508.342789244, 1e-3);
    const double pts[][2] = {{-87.63, 41.88}, {115.48, 35.24}, {-76.61, 39.29}, {151.2, -33.87}};
    for (size_t i = 0; i < 4; i++) {
        tr1(ctx, epsg(4326), epsg(3857), pts[i][0], pts[i][1], &x, &y);
        assert_double_equal(x, WGS84_A * pts[i][0] * DEG, 1e-6);
        assert_double_equal(y, WGS84_A * log(tan(M_PI / 4 + pts[i][1] * DEG / 2)), 1e-6);
    }
    gw_ctx_destroy(ctx);
}

/* Gauss–Krüger: on the central meridian the easting is the false easting and the northing is
 * the meridian arc of the CGCS2000 ellipsoid. */
static void test_gauss_kruger(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    double x, y;
    tr1(ctx, epsg(4490), epsg(4547), 114.0, 0.0, &x, &y);
    assert_double_equal(x, 500000.0, 1e-6);
    assert_double_equal(y, 0.0, 1e-6);
    tr1(ctx, epsg(4490), epsg(4547), 114.0, 35.24, &x, &y);
    assert_double_equal(x, 500000.0, 1e-6);
    assert_double_equal(y, meridian_arc(WGS84_A, GRS80_F, 35.24 * DEG), 1e-3);
    /* East of the meridian the easting grows, and the way back lands on the start. */
    tr1(ctx, epsg(4326), epsg(4547), 115.48, 35.24, &x, &y);
    assert_true(x > 600000.0 && x < 650000.0);
    double lon, lat;
    tr1(ctx, epsg(4547), epsg(4326), x, y, &lon, &lat);
    assert_double_equal(lon, 115.48, 1e-9);
    assert_double_equal(lat, 35.24, 1e-9);
    gw_ctx_destroy(ctx);
}

/* GeographicLib's GeoConvert documentation: 33.3N 44.4E = 38n 444140.54 3684706.36. */
static void test_utm_published(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    double x, y;
    tr1(ctx, epsg(4326), epsg(32638), 44.4, 33.3, &x, &y);
    assert_double_equal(x, 444140.54, 0.01);
    assert_double_equal(y, 3684706.36, 0.01);
    tr1(ctx, epsg(4326), epsg(gw_crs_metric_for(-87.63, 41.88)), -87.0, 0.0, &x, &y);
    assert_double_equal(x, 500000.0, 1e-6); /* zone 16 central meridian is 87W */
    gw_ctx_destroy(ctx);
}

static void test_geodesic(void **state)
{
    (void)state;
    /* One degree along a meridian from the equator = the meridian arc (110574.389 m). */
    double d = gw_geodesic_distance(0, 0, 0, 1);
    assert_double_equal(d, meridian_arc(WGS84_A, WGS84_F, 1.0 * DEG), 1e-3);
    assert_double_equal(d, 110574.389, 1e-3);
    /* Along the equator the geodesic is the equator: a * dlon. */
    assert_double_equal(gw_geodesic_distance(10, 0, 11, 0), WGS84_A * DEG, 1e-6);
    /* GeodSolve's documented example, JFK to CDG: 5853226 m. */
    assert_double_equal(gw_geodesic_distance(-73.8, 40.6, 2.55, 49.01666666666667), 5853226, 1.0);
    assert_double_equal(gw_geodesic_distance(115.48, 35.24, 115.48, 35.24), 0.0, 1e-9);
    assert_double_equal(gw_geodesic_distance(1, 2, 3, 4), gw_geodesic_distance(3, 4, 1, 2), 1e-6);
}

/* Published test vectors of the standard formula (googollee/eviltransform, geotool). */
static void test_gcj_bd_vectors(void **state)
{
    (void)state;
    static const double ev[][4] = {
        /* wgs lat, wgs lon, gcj lat, gcj lon */
        {31.1774276, 121.5272106, 31.17530398364597, 121.531541859215}, /* Shanghai */
        {22.543847, 113.912316, 22.540796131694766, 113.9171764808363}, /* Shenzhen */
        {39.911954, 116.377817, 39.91334545536069, 116.38404722455657}, /* Beijing */
    };
    for (size_t i = 0; i < 3; i++) {
        double lon, lat;
        gw_gcj02_from_wgs84(ev[i][1], ev[i][0], &lon, &lat);
        assert_double_equal(lon, ev[i][3], 1e-10);
        assert_double_equal(lat, ev[i][2], 1e-10);
        gw_gcj02_to_wgs84(ev[i][3], ev[i][2], &lon, &lat);
        assert_double_equal(lon, ev[i][1], 1e-9);
        assert_double_equal(lat, ev[i][0], 1e-9);
    }
    /* A GCJ-02 -> BD-09 pair from the tests of an independent implementation (geotool, Rust).
     * (Its WGS84 -> GCJ-02 step differs from eviltransform's by ~8 mm, so only the BD-09 step
     * is taken from it.) */
    double blon, blat;
    gw_bd09_from_gcj02(121.09626935575027, 30.608604331756705, &blon, &blat);
    assert_double_equal(blon, 121.10271732371203, 1e-10);
    assert_double_equal(blat, 30.61484572185035, 1e-10);
    double glon, glat;
    gw_bd09_to_gcj02(blon, blat, &glon, &glat);
    assert_double_equal(glon, 121.09626935575027, 1e-9);
    assert_double_equal(glat, 30.608604331756705, 1e-9);
    double wlon, wlat;
    gw_bd09_from_wgs84(121.0917077, 30.6107779, &blon, &blat);
    gw_bd09_to_wgs84(blon, blat, &wlon, &wlat);
    assert_double_equal(wlon, 121.0917077, 1e-9);
    assert_double_equal(wlat, 30.6107779, 1e-9);
}

static void test_gcj_outside_china(void **state)
{
    (void)state;
    const double pts[][2] = {{-87.63, 41.88}, {0, 0}, {139.69, 35.68} /* Tokyo */, {100.5, 0.5}};
    for (size_t i = 0; i < 4; i++) {
        double lon, lat;
        gw_gcj02_from_wgs84(pts[i][0], pts[i][1], &lon, &lat);
        assert_true(lon == pts[i][0] && lat == pts[i][1]);
        gw_gcj02_to_wgs84(pts[i][0], pts[i][1], &lon, &lat);
        assert_true(lon == pts[i][0] && lat == pts[i][1]);
    }
    /* Inside China the shift is hundreds of metres. */
    double lon, lat;
    gw_gcj02_from_wgs84(115.48, 35.24, &lon, &lat);
    double m = deg_err_m(lon - 115.48, lat - 35.24, 35.24);
    assert_true(m > 100.0 && m < 1000.0);
}

/* Round trips over a grid across China, in metres. */
static void test_round_trips(void **state)
{
    (void)state;
    double worst_gcj = 0, worst_bd = 0, worst_bdg = 0;
    for (double lat = 18.05; lat <= 53.6; lat += 0.73) {
        for (double lon = 73.1; lon <= 135.5; lon += 0.91) {
            double a, b, c, d;
            gw_gcj02_from_wgs84(lon, lat, &a, &b);
            gw_gcj02_to_wgs84(a, b, &c, &d);
            worst_gcj = fmax(worst_gcj, deg_err_m(c - lon, d - lat, lat));
            gw_gcj02_to_wgs84(lon, lat, &a, &b); /* the other way: treat (lon, lat) as GCJ */
            gw_gcj02_from_wgs84(a, b, &c, &d);
            worst_gcj = fmax(worst_gcj, deg_err_m(c - lon, d - lat, lat));
            gw_bd09_from_wgs84(lon, lat, &a, &b);
            gw_bd09_to_wgs84(a, b, &c, &d);
            worst_bd = fmax(worst_bd, deg_err_m(c - lon, d - lat, lat));
            gw_bd09_from_gcj02(lon, lat, &a, &b);
            /* BD-09 = GCJ-02 + about (0.0065, 0.006) degrees. */
            assert_true(fabs(a - lon - 0.0065) < 5e-4 && fabs(b - lat - 0.006) < 5e-4);
            gw_bd09_to_gcj02(a, b, &c, &d);
            worst_bdg = fmax(worst_bdg, deg_err_m(c - lon, d - lat, lat));
        }
    }
    assert_true(worst_gcj < 0.01);
    assert_true(worst_bd < 0.01);
    assert_true(worst_bdg < 0.01);
    /* Promised by the header: round trip within 1e-9 degrees. */
    assert_true(worst_gcj < 1e-9 * DEG * WGS84_A && worst_bd < 1e-9 * DEG * WGS84_A * 2);
}

/* Collect up to cap [lon, lat] pairs from a GeoJSON FeatureCollection of (Multi)Polygons. */
static size_t collect_coords(json_t *v, double *xy, size_t n, size_t cap)
{
    if (n >= cap || !json_is_array(v)) return n;
    if (json_array_size(v) >= 2 && json_is_number(json_array_get(v, 0))) {
        xy[2 * n] = json_number_value(json_array_get(v, 0));
        xy[2 * n + 1] = json_number_value(json_array_get(v, 1));
        return n + 1;
    }
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e) n = collect_coords(e, xy, n, cap);
    return n;
}

static size_t load_heze(const char *path, double *xy, size_t cap, json_t **names)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
    assert_non_null(root);
    json_t *feats = json_object_get(root, "features");
    assert_true(json_is_array(feats));
    *names = json_array();
    size_t n = 0, i;
    json_t *f;
    json_array_foreach (feats, i, f) {
        json_array_append(*names, json_object_get(json_object_get(f, "properties"), "adcode"));
        /* Up to 60 vertices from each county, so every county is represented. */
        size_t before = n;
        n = collect_coords(json_object_get(json_object_get(f, "geometry"), "coordinates"), xy, n,
                           before + 60 < cap ? before + 60 : cap);
    }
    json_decref(root);
    return n;
}

/* The Heze counties as published (GCJ-02) and converted to WGS84 by the data provider. */
#define HEZE_GCJ "heze/heze_371700_counties_gcj02.geojson"
#define HEZE_WGS "heze/heze_371700_counties_wgs84.geojson"
static void test_gcj_heze_real(void **state)
{
    (void)state;
    const char *pg = gw_test_real_file(HEZE_GCJ);
    const char *pw = gw_test_real_file(HEZE_WGS);
    enum { CAP = 1000 };
    static double g[2 * CAP], w[2 * CAP];
    json_t *ng = NULL, *nw = NULL;
    size_t n = load_heze(pg, g, CAP, &ng);
    size_t m = load_heze(pw, w, CAP, &nw);
    assert_int_equal(n, m);
    assert_true(n >= 300);
    assert_true(json_equal(ng, nw)); /* same counties in the same order */
    json_decref(ng);
    json_decref(nw);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double lon, lat;
        gw_gcj02_to_wgs84(g[2 * i], g[2 * i + 1], &lon, &lat);
        worst = fmax(worst, fmax(fabs(lon - w[2 * i]), fabs(lat - w[2 * i + 1])));
        /* Both files hold 6 decimals; the provider states a residual under 1e-6 degrees. */
        if (fabs(lon - w[2 * i]) > 1e-6 || fabs(lat - w[2 * i + 1]) > 1e-6)
            fprintf(stderr, "vertex %zu: gcj (%.6f, %.6f) -> (%.7f, %.7f), file (%.6f, %.6f)\n", i,
                    g[2 * i], g[2 * i + 1], lon, lat, w[2 * i], w[2 * i + 1]);
        assert_true(fabs(lon - w[2 * i]) <= 1e-6 && fabs(lat - w[2 * i + 1]) <= 1e-6);
    }
    printf("Heze: %zu vertices, worst |ours - provider| = %.2e deg\n", n, worst);
}

/* Any pair of supported CRSs: the transform agrees with the hand-composed chain. */
static void test_chains(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double lon = 115.48, lat = 35.24; /* WGS84 */
    double glon, glat, blon, blat;
    gw_gcj02_from_wgs84(lon, lat, &glon, &glat);
    gw_bd09_from_wgs84(lon, lat, &blon, &blat);
    double x, y, x2, y2;
    /* GCJ-02 -> EPSG:3857 = GCJ->WGS84, then the closed form of Web Mercator. */
    tr1(ctx, GCJ, epsg(3857), glon, glat, &x, &y);
    assert_double_equal(x, WGS84_A * lon * DEG, 1e-3);
    assert_double_equal(y, WGS84_A * log(tan(M_PI / 4 + lat * DEG / 2)), 1e-3);
    /* and back. */
    tr1(ctx, epsg(3857), GCJ, x, y, &x2, &y2);
    assert_double_equal(x2, glon, 1e-9);
    assert_double_equal(y2, glat, 1e-9);
    /* GCJ-02 <-> BD-09 directly. */
    tr1(ctx, GCJ, BD, glon, glat, &x, &y);
    assert_double_equal(x, blon, 1e-9);
    assert_double_equal(y, blat, 1e-9);
    tr1(ctx, BD, GCJ, blon, blat, &x, &y);
    assert_double_equal(x, glon, 1e-9);
    assert_double_equal(y, glat, 1e-9);
    /* Every pair round-trips. */
    const gw_crs all[] = {epsg(4326), epsg(4490), epsg(3857), epsg(4547), epsg(32650), GCJ, BD};
    const size_t k = sizeof all / sizeof all[0];
    double start[7][2];
    for (size_t i = 0; i < k; i++)
        tr1(ctx, epsg(4326), all[i], lon, lat, &start[i][0], &start[i][1]);
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) {
            tr1(ctx, all[i], all[j], start[i][0], start[i][1], &x, &y);
            double tol_j = gw_crs_is_geographic(ctx, all[j]) ? 1e-8 : 1e-3;
            assert_double_equal(x, start[j][0], tol_j);
            assert_double_equal(y, start[j][1], tol_j);
            tr1(ctx, all[j], all[i], x, y, &x2, &y2);
            double tol_i = gw_crs_is_geographic(ctx, all[i]) ? 1e-8 : 1e-3;
            assert_double_equal(x2, start[i][0], tol_i);
            assert_double_equal(y2, start[i][1], tol_i);
        }
    }
    gw_ctx_destroy(ctx);
}

static void test_points_array_and_failures(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_crs_transform *tr = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, epsg(4326), epsg(3857), &tr), GW_OK);
    /* Many points, across chunk boundaries, agree with the closed form. */
    enum { N = 1000 };
    static double x[N], y[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = -179.0 + 358.0 * (double)i / N;
        y[i] = -80.0 + 160.0 * (double)i / N;
    }
    assert_int_equal(gw_crs_transform_points(tr, x, y, N), GW_OK);
    for (size_t i = 0; i < N; i += 37) {
        double lon = -179.0 + 358.0 * (double)i / N, lat = -80.0 + 160.0 * (double)i / N;
        assert_double_equal(x[i], WGS84_A * lon * DEG, 1e-6);
        assert_double_equal(y[i], WGS84_A * log(tan(M_PI / 4 + lat * DEG / 2)), 1e-6);
    }
    assert_int_equal(gw_crs_transform_points(tr, x, y, 0), GW_OK);
    /* A latitude beyond the pole has no Mercator image: GW_ERR_CRS naming the point. */
    double px[3] = {0, 10, 20}, py[3] = {0, 91, 0};
    assert_int_equal(gw_crs_transform_points(tr, px, py, 3), GW_ERR_CRS);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "point 1"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "EPSG:3857"));
    double nx[1] = {NAN}, ny[1] = {0};
    assert_int_equal(gw_crs_transform_points(tr, nx, ny, 1), GW_ERR_CRS);
    gw_crs_transform_destroy(tr);

    /* NaN through the hand-coded path fails too. */
    assert_int_equal(gw_crs_transform_create(ctx, GCJ, epsg(4326), &tr), GW_OK);
    nx[0] = NAN;
    ny[0] = 35;
    assert_int_equal(gw_crs_transform_points(tr, nx, ny, 1), GW_ERR_CRS);
    gw_crs_transform_destroy(tr);
    gw_crs_transform_destroy(NULL);

    /* An unknown EPSG code at create time. */
    tr = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, epsg(4326), epsg(999999), &tr), GW_ERR_CRS);
    assert_null(tr);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "EPSG:999999"));
    gw_ctx_destroy(ctx);
}

static void test_geom(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(
        h, rd,
        "MULTIPOLYGON(((115.3 35.2,115.6 35.2,115.6 35.4,115.3 35.2)),((115 35,115.1 35,115.1 35.1,115 35)))");
    assert_non_null(g);
    gw_crs_transform *tr = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, GCJ, epsg(4547), &tr), GW_OK);
    GEOSGeometry *t = gw_crs_transform_geom(tr, g);
    assert_non_null(t);
    assert_int_equal(GEOSGeomTypeId_r(h, t), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumCoordinates_r(h, t), 8);
    /* The first vertex matches the point transform. */
    double px = 115.3, py = 35.2, gx, gy;
    assert_int_equal(gw_crs_transform_points(tr, &px, &py, 1), GW_OK);
    const GEOSGeometry *poly = GEOSGetGeometryN_r(h, t, 0);
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, poly));
    GEOSCoordSeq_getXY_r(h, cs, 0, &gx, &gy);
    assert_double_equal(gx, px, 1e-6);
    assert_double_equal(gy, py, 1e-6);
    double area = 0;
    GEOSArea_r(h, t, &area);
    assert_true(area > 1e8); /* square metres now */
    GEOSGeom_destroy_r(h, t);
    gw_crs_transform_destroy(tr);

    /* A vertex that cannot be transformed: NULL and GW_ERR_CRS. */
    GEOSGeometry *pole = GEOSWKTReader_read_r(h, rd, "LINESTRING(0 0, 0 91)");
    assert_int_equal(gw_crs_transform_create(ctx, epsg(4326), epsg(3857), &tr), GW_OK);
    assert_null(gw_crs_transform_geom(tr, pole));
    assert_int_equal(gw_ctx_errcode(ctx), GW_ERR_CRS);
    assert_null(gw_crs_transform_geom(tr, NULL));
    assert_int_equal(gw_ctx_errcode(ctx), GW_ERR_ARG);
    /* Empty geometries pass through. */
    GEOSGeometry *empty = GEOSWKTReader_read_r(h, rd, "POLYGON EMPTY");
    GEOSGeometry *te = gw_crs_transform_geom(tr, empty);
    assert_non_null(te);
    assert_true(GEOSisEmpty_r(h, te));
    GEOSGeom_destroy_r(h, te);
    GEOSGeom_destroy_r(h, empty);
    GEOSGeom_destroy_r(h, pole);
    gw_crs_transform_destroy(tr);
    GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, rd);
    gw_ctx_destroy(ctx);
}

/* The context's operation cache: the same pair twice, then more pairs than the cache holds so
 * the oldest is evicted, then the first again — every answer equals a fresh context's, and two
 * live transforms of one pair do not disturb each other (each has its own clone). */
static void test_op_cache(void **state)
{
    (void)state;
    gw_ctx *ctx = NULL, *fresh = NULL;
    assert_int_equal(gw_ctx_create(&ctx), GW_OK);
    assert_int_equal(gw_ctx_create(&fresh), GW_OK);
    static const int codes[] = {4547, 4548, 4549, 32650, 32649, 3857, 4490, 4546, 4545, 32651};
    double want[10][2];
    for (int i = 0; i < 10; i++)
        tr1(fresh, epsg(4326), epsg(codes[i]), 115.5, 35.2, &want[i][0], &want[i][1]);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 10; i++) {
            double x, y;
            tr1(ctx, epsg(4326), epsg(codes[i]), 115.5, 35.2, &x, &y);
            assert_true(x == want[i][0] && y == want[i][1]);
        }
    gw_crs_transform *a = NULL, *b = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, epsg(4326), epsg(4547), &a), GW_OK);
    assert_int_equal(gw_crs_transform_create(ctx, epsg(4326), epsg(4547), &b), GW_OK);
    double ax = 115.5, ay = 35.2, bx = 1e30, by = 1e30;
    assert_int_equal(gw_crs_transform_points(b, &bx, &by, 1), GW_ERR_CRS); /* b's failure ... */
    gw_crs_transform_destroy(b);
    assert_int_equal(gw_crs_transform_points(a, &ax, &ay, 1), GW_OK); /* ... leaves a whole */
    assert_true(ax == want[0][0] && ay == want[0][1]);
    gw_crs_transform_destroy(a);
    gw_ctx_destroy(fresh);
    gw_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_op_cache),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_is_geographic),
        cmocka_unit_test(test_gk_codes_match_proj),
        cmocka_unit_test(test_metric_for),
        cmocka_unit_test(test_web_mercator),
        cmocka_unit_test(test_gauss_kruger),
        cmocka_unit_test(test_utm_published),
        cmocka_unit_test(test_geodesic),
        cmocka_unit_test(test_gcj_bd_vectors),
        cmocka_unit_test(test_gcj_outside_china),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_points_array_and_failures),
        cmocka_unit_test(test_geom),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_gcj_heze_real),
    };
    static const char *const needs[] = {HEZE_GCJ, HEZE_WGS, NULL};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("crs", tests, NULL, NULL);
    if (strcmp(group, "--real") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_real(needs)) return GW_TEST_SKIPPED;
    return cmocka_run_group_tests_name("crs_real", real, NULL, NULL);
}
