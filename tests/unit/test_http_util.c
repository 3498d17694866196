/* test_http_util.c — api/http/http_util.c on its own: the ISO WKB → GeoJSON writer checked by an
 * independent reader (the WKB made by GEOS from WKT, the GeoJSON read back by GEOS's GeoJSON
 * reader and compared with the source; ring orientation per RFC 7946; axis swap; a transform
 * against the closed-form Web Mercator; every truncation and malformed header refused with the
 * output left as it was), and the buffer, escaping, number and query-value helpers against
 * values worked out by hand. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "http_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;
static GEOSContextHandle_t gh;

/* ---- helpers: WKT -> ISO WKB (GEOS), GeoJSON -> GEOS ------------------------------------- */

static GEOSGeometry *wkt(const char *text)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(gh);
    GEOSGeometry *g = GEOSWKTReader_read_r(gh, r, text);
    GEOSWKTReader_destroy_r(gh, r);
    if (!g) fail_msg("GEOS cannot read the fixture %s", text);
    return g;
}

/* ISO WKB of g in the given byte order (1 = little endian); caller frees with GEOSFree_r. */
static unsigned char *to_wkb(const GEOSGeometry *g, int le, size_t *len)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(gh);
    GEOSWKBWriter_setByteOrder_r(gh, w, le ? GEOS_WKB_NDR : GEOS_WKB_XDR);
    GEOSWKBWriter_setFlavor_r(gh, w, GEOS_WKB_ISO);
    GEOSWKBWriter_setOutputDimension_r(gh, w, 3);
    unsigned char *b = GEOSWKBWriter_write_r(gh, w, g, len);
    GEOSWKBWriter_destroy_r(gh, w);
    assert_non_null(b);
    return b;
}

static GEOSGeometry *from_geojson(const char *json)
{
    GEOSGeoJSONReader *r = GEOSGeoJSONReader_create_r(gh);
    GEOSGeometry *g = GEOSGeoJSONReader_readGeometry_r(gh, r, json);
    GEOSGeoJSONReader_destroy_r(gh, r);
    if (!g) fail_msg("GEOS's GeoJSON reader refuses our output: %s", json);
    return g;
}

/* Our GeoJSON of the WKB of `text` (both byte orders give the same text), read back by GEOS. */
static GEOSGeometry *round_trip(const char *text, gw_geojson_writer *w, char *json, size_t cap)
{
    GEOSGeometry *src = wkt(text);
    char first[8192] = "";
    for (int le = 0; le <= 1; le++) {
        size_t len;
        unsigned char *b = to_wkb(src, le, &len);
        gw_buf out = {0};
        gw_buf_str(&out, "x"); /* the writer appends */
        assert_int_equal(gw_geojson_write(w, b, len, &out), 0);
        GEOSFree_r(gh, b);
        assert_true(out.len > 1 && out.data[0] == 'x');
        if (le == 0) snprintf(first, sizeof first, "%s", out.data + 1);
        else assert_string_equal(out.data + 1, first);
        gw_buf_free(&out);
    }
    GEOSGeom_destroy_r(gh, src);
    snprintf(json, cap, "%s", first);
    return from_geojson(first);
}

/* Same shape and coordinates within tol, ring orientation and vertex start ignored. */
static void assert_same(const GEOSGeometry *a, const GEOSGeometry *b, double tol)
{
    GEOSGeometry *na = GEOSGeom_clone_r(gh, a), *nb = GEOSGeom_clone_r(gh, b);
    assert_int_equal(GEOSNormalize_r(gh, na), 0);
    assert_int_equal(GEOSNormalize_r(gh, nb), 0);
    assert_int_equal(GEOSGeomTypeId_r(gh, na), GEOSGeomTypeId_r(gh, nb));
    assert_int_equal(GEOSGetNumCoordinates_r(gh, na), GEOSGetNumCoordinates_r(gh, nb));
    if (GEOSEqualsExact_r(gh, na, nb, tol) != 1) {
        char *ta = GEOSGeomToWKT_r(gh, na), *tb = GEOSGeomToWKT_r(gh, nb);
        fprintf(stderr, "want %s\n got %s\n", ta, tb);
        GEOSFree_r(gh, ta), GEOSFree_r(gh, tb);
        fail_msg("geometries differ beyond %g", tol);
    }
    GEOSGeom_destroy_r(gh, na), GEOSGeom_destroy_r(gh, nb);
}

static int ring_ccw(const GEOSGeometry *ring)
{
    char ccw = 0;
    assert_int_equal(GEOSCoordSeq_isCCW_r(gh, GEOSGeom_getCoordSeq_r(gh, ring), &ccw), 1);
    return ccw;
}

/* Every polygon of g: exterior counter-clockwise, holes clockwise (RFC 7946 §3.1.6). */
static void assert_right_hand(const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(gh, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(gh, g)) return;
        assert_true(ring_ccw(GEOSGetExteriorRing_r(gh, g)));
        for (int i = 0; i < GEOSGetNumInteriorRings_r(gh, g); i++)
            assert_false(ring_ccw(GEOSGetInteriorRingN_r(gh, g, i)));
    } else if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(gh, g); i++)
            assert_right_hand(GEOSGetGeometryN_r(gh, g, i));
    }
}

/* ---- the WKB -> GeoJSON writer --------------------------------------------------------------- */

/* Rings given the wrong way round (exterior clockwise, holes counter-clockwise) on purpose. */
static const char *const shapes[] = {
    "POINT (115.4812345 35.2412345)",
    "POINT Z (115.48 35.24 12.5)",
    "LINESTRING (115.4 35.2, 115.5 35.25, 115.45 35.3)",
    "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2), (6 6, 8 6, 8 8, 6 8, 6 6))",
    "POLYGON ((115.4 35.2, 115.5 35.2, 115.5 35.3, 115.4 35.3, 115.4 35.2))",
    "MULTIPOINT ((1 2), (3 4), (-5.5 -6.25))",
    "MULTILINESTRING ((0 0, 1 1), (2 2, 3 1, 4 2))",
    "MULTIPOLYGON (((0 0, 0 4, 4 4, 4 0, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1)), ((10 10, 12 10, 12 12, 10 10)))",
    "GEOMETRYCOLLECTION (POINT (1 2), POLYGON ((0 0, 0 1, 1 1, 0 0)), LINESTRING (5 5, 6 6))",
    "POLYGON EMPTY",
    "LINESTRING EMPTY",
    "MULTIPOLYGON EMPTY",
};

static void test_geojson_matches_source(void **state)
{
    (void)state;
    gw_geojson_writer w = {.prec = 9};
    char json[8192];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        GEOSGeometry *back = round_trip(shapes[i], &w, json, sizeof json);
        print_message("%-40.40s -> %s\n", shapes[i], json);
        GEOSGeometry *src = wkt(shapes[i]);
        if (GEOSHasZ_r(gh, src) == 1) { /* Z is dropped: compare with the 2D point */
            GEOSGeometry *flat = wkt("POINT (115.48 35.24)");
            GEOSGeom_destroy_r(gh, src);
            src = flat;
        }
        assert_int_equal(GEOSisEmpty_r(gh, back), GEOSisEmpty_r(gh, src));
        if (!GEOSisEmpty_r(gh, src)) assert_same(src, back, 0.6e-9);
        else assert_int_equal(GEOSGeomTypeId_r(gh, back), GEOSGeomTypeId_r(gh, src));
        assert_right_hand(back);
        GEOSGeom_destroy_r(gh, src), GEOSGeom_destroy_r(gh, back);
    }
    gw_geojson_writer_free(&w);
}

/* The exact text for two shapes: numbers trimmed to `prec` decimals, the polygon reoriented. */
static void test_geojson_text(void **state)
{
    (void)state;
    gw_geojson_writer w = {.prec = 3};
    char json[512];
    GEOSGeometry *g = round_trip("POINT (115.48049 -35.0000001)", &w, json, sizeof json);
    assert_string_equal(json, "{\"type\":\"Point\",\"coordinates\":[115.48,-35]}");
    GEOSGeom_destroy_r(gh, g);
    g = round_trip("POLYGON ((0 0, 0 1, 1 1, 0 0))", &w, json, sizeof json); /* clockwise in */
    assert_string_equal(json, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[0,1],[0,0]]]}");
    GEOSGeom_destroy_r(gh, g);
    g = round_trip("POINT EMPTY", &w, json, sizeof json);
    assert_string_equal(json, "{\"type\":\"Point\",\"coordinates\":[]}");
    GEOSGeom_destroy_r(gh, g);
    /* no geometry at all is JSON null */
    gw_buf b = {0};
    assert_int_equal(gw_geojson_write(&w, NULL, 0, &b), 0);
    assert_string_equal(b.data, "null");
    gw_buf_free(&b);
    gw_geojson_writer_free(&w);
}

/* swap_xy writes (y, x) and keeps the right-hand rule in the written axis order. */
static void test_geojson_swap_xy(void **state)
{
    (void)state;
    gw_geojson_writer w = {.prec = 9, .swap_xy = 1};
    char json[2048];
    GEOSGeometry *back = round_trip(shapes[3], &w, json, sizeof json);
    /* the same polygon with x and y exchanged, by hand */
    GEOSGeometry *want = wkt(
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2), (6 6, 6 8, 8 8, 8 6, 6 6))");
    assert_same(want, back, 1e-12);
    assert_right_hand(back);
    GEOSGeom_destroy_r(gh, want), GEOSGeom_destroy_r(gh, back);
    back = round_trip("POINT (115.48 35.24)", &w, json, sizeof json);
    assert_string_equal(json, "{\"type\":\"Point\",\"coordinates\":[35.24,115.48]}");
    GEOSGeom_destroy_r(gh, back);
    gw_geojson_writer_free(&w);
}

/* With a transform: EPSG:4326 -> EPSG:3857 against the closed form of Web Mercator. */
static void test_geojson_transform(void **state)
{
    (void)state;
    gw_crs from, to;
    assert_int_equal(gw_crs_parse(ctx, "EPSG:4326", &from), GW_OK);
    assert_int_equal(gw_crs_parse(ctx, "EPSG:3857", &to), GW_OK);
    gw_crs_transform *tr = NULL;
    assert_int_equal(gw_crs_transform_create(ctx, from, to, &tr), GW_OK);
    gw_geojson_writer w = {.tr = tr, .prec = 4};
    char json[2048];
    const double R = 6378137.0, D = M_PI / 180;
    GEOSGeometry *back = round_trip("LINESTRING (115.48 35.24, -87.63 41.86, 0 0)", &w, json,
                                    sizeof json);
    const double ll[3][2] = {{115.48, 35.24}, {-87.63, 41.86}, {0, 0}};
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(gh, back);
    for (unsigned i = 0; i < 3; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(gh, cs, i, &x, &y);
        assert_true(fabs(x - R * ll[i][0] * D) < 1e-3);
        assert_true(fabs(y - R * log(tan(M_PI / 4 + ll[i][1] * D / 2))) < 1e-3);
    }
    GEOSGeom_destroy_r(gh, back);
    gw_geojson_writer_free(&w);
    gw_crs_transform_destroy(tr);
}

/* Malformed WKB: -1, and the output exactly as before the call. */
static void expect_refused(gw_geojson_writer *w, const unsigned char *b, size_t len,
                           const char *what)
{
    gw_buf out = {0};
    gw_buf_str(&out, "[1,");
    int rc = gw_geojson_write(w, b, len, &out);
    if (rc != -1) fail_msg("%s: accepted as %s", what, out.data);
    assert_int_equal(out.len, 3);
    assert_string_equal(out.data, "[1,");
    gw_buf_free(&out);
}

static void test_geojson_refuses_bad_wkb(void **state)
{
    (void)state;
    gw_geojson_writer w = {.prec = 7};
    char what[64];
    /* every proper prefix of a valid WKB, in both byte orders */
    GEOSGeometry *g = wkt(shapes[7]);
    for (int le = 0; le <= 1; le++) {
        size_t len;
        unsigned char *b = to_wkb(g, le, &len);
        for (size_t k = 0; k < len; k++) {
            snprintf(what, sizeof what, "prefix %zu of %zu (le %d)", k, len, le);
            if (k) expect_refused(&w, b, k, what);
        }
        /* a wrong byte-order mark, an unknown type, an SRID flag (EWKB), a member of the wrong type */
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        c[0] = 2;
        expect_refused(&w, c, len, "byte order 2");
        memcpy(c, b, len);
        c[le ? 1 : 4] = 99;
        expect_refused(&w, c, len, "type 99");
        memcpy(c, b, len);
        c[le ? 4 : 1] |= 0x20;
        expect_refused(&w, c, len, "EWKB SRID flag");
        memcpy(c, b, len);
        c[9 + (le ? 1 : 4)] = 2; /* the first member says LineString inside a MultiPolygon */
        expect_refused(&w, c, len, "MultiPolygon holding a LineString");
        free(c);
        GEOSFree_r(gh, b);
    }
    GEOSGeom_destroy_r(gh, g);
    /* a polygon claiming 200 points in a 13-byte buffer is not read past its end */
    const unsigned char huge[] = {1, 3, 0, 0, 0, 1, 0, 0, 0, 200, 0, 0, 0};
    expect_refused(&w, huge, sizeof huge, "200 points promised");
    const unsigned char lots[] = {1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    expect_refused(&w, lots, sizeof lots, "2^31 points promised");
    /* collections nested 9 deep are written, 10 deep refused (the innermost one empty) */
    for (int levels = 9; levels <= 10; levels++) {
        unsigned char deep[10 * 9];
        size_t k = 0;
        for (int i = 0; i < levels; i++) {
            const unsigned char gc[9] = {1, 7, 0, 0, 0, i + 1 < levels, 0, 0, 0};
            memcpy(deep + k, gc, 9), k += 9;
        }
        gw_buf out = {0};
        int rc = gw_geojson_write(&w, deep, k, &out);
        if (levels == 9) {
            assert_int_equal(rc, 0);
            GEOSGeometry *gc = from_geojson(out.data);
            assert_int_equal(GEOSGeomTypeId_r(gh, gc), GEOS_GEOMETRYCOLLECTION);
            GEOSGeom_destroy_r(gh, gc);
        } else {
            expect_refused(&w, deep, k, "10 nested collections");
        }
        gw_buf_free(&out);
    }
    gw_geojson_writer_free(&w);
}

/* ---- buffer, escaping, numbers, query values --------------------------------------------- */

static void test_buf_and_escaping(void **state)
{
    (void)state;
    gw_buf b = {0};
    gw_buf_num(&b, 115.48, 7);
    gw_buf_add(&b, " ", 1);
    gw_buf_num(&b, -0.00000004, 7);
    gw_buf_add(&b, " ", 1);
    gw_buf_num(&b, -12.5, 3);
    gw_buf_add(&b, " ", 1);
    gw_buf_num(&b, 1e20, 7);
    gw_buf_add(&b, " ", 1);
    gw_buf_num(&b, NAN, 3);
    gw_buf_add(&b, " ", 1);
    gw_buf_num(&b, 0.5, 0);
    assert_string_equal(b.data, "115.48 0 -12.5 100000000000000000000.0000000 null 1");
    gw_buf_reset(&b);
    assert_int_equal(b.len, 0);
    gw_buf_json_str(&b, "a\"b\\\n\x01");
    assert_string_equal(b.data, "\"a\\\"b\\\\\\n\\u0001\"");
    gw_buf_reset(&b);
    gw_buf_url(&b, "a b/c&é~");
    assert_string_equal(b.data, "a%20b%2Fc%26%C3%A9~");
    gw_buf_reset(&b);
    gw_buf_printf(&b, "%s-%d", "n", 42);
    size_t len = 0;
    char *taken = gw_buf_take(&b, &len);
    assert_string_equal(taken, "n-42");
    assert_int_equal(len, 4);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(taken);
    /* gw_buf_num agrees with printf's rounding on a sweep of values */
    for (int i = -2000; i <= 2000; i += 7) {
        double v = i * 0.0123456789;
        char want[64];
        snprintf(want, sizeof want, "%.5f", v);
        /* trailing zeros and a bare "-0" dropped */
        char *e = want + strlen(want) - 1;
        while (*e == '0') *e-- = '\0';
        if (*e == '.') *e = '\0';
        if (strcmp(want, "-0") == 0) strcpy(want, "0");
        gw_buf_reset(&b);
        gw_buf_num(&b, v, 5);
        assert_string_equal(b.data, want);
    }
    gw_buf_free(&b);
}

static void test_query_values(void **state)
{
    (void)state;
    double d;
    int64_t i;
    assert_int_equal(gw_parse_double("-87.5e0", &d), 0);
    assert_true(d == -87.5);
    assert_int_equal(gw_parse_double("1.5x", &d), -1);
    assert_int_equal(gw_parse_double("", &d), -1);
    assert_int_equal(gw_parse_double("inf", &d), -1);
    assert_int_equal(gw_parse_int64("-9000000000", &i), 0);
    assert_true(i == -9000000000LL);
    assert_int_equal(gw_parse_int64("12.0", &i), -1);
    assert_int_equal(gw_parse_int64("99999999999999999999", &i), -1);

    gw_bbox bb;
    char why[128];
    assert_int_equal(gw_parse_bbox("-87.9,41.6,-87.5,42.1", &bb, why, sizeof why), 0);
    assert_true(bb.minx == -87.9 && bb.miny == 41.6 && bb.maxx == -87.5 && bb.maxy == 42.1);
    assert_int_equal(gw_parse_bbox("1,2,0,3,4,9", &bb, why, sizeof why), 0);
    assert_true(bb.minx == 1 && bb.miny == 2 && bb.maxx == 3 && bb.maxy == 4);
    assert_int_equal(gw_parse_bbox("1,2,3,4,5", &bb, why, sizeof why), -1);
    assert_non_null(strstr(why, "got 5"));
    assert_int_equal(gw_parse_bbox("1,2,3,4,", &bb, why, sizeof why), -1);
    assert_int_equal(gw_parse_bbox("1,x,3,4", &bb, why, sizeof why), -1);
    assert_non_null(strstr(why, "'x'"));
    assert_int_equal(gw_parse_bbox("3,2,1,4", &bb, why, sizeof why), -1);
    assert_non_null(strstr(why, "exceeds"));

    gw_time_filter t;
    /* 2025-01-01T00:00:00Z = 1735689600: 55 years of 365 days and the 14 leap days 1972..2024 */
    assert_int_equal(1735689600, (55 * 365 + 14) * 86400);
    assert_int_equal(gw_parse_datetime(ctx, "2025-01-01T00:00:00Z", &t, why, sizeof why), 0);
    assert_true(t.has_lo && t.has_hi && t.lo == 1735689600 && t.hi == 1735689600);
    assert_int_equal(gw_parse_datetime(ctx, "2025-01-01T00:00:00Z/2025-01-02T01:00:00Z", &t, why,
                                       sizeof why),
                     0);
    assert_true(t.lo == 1735689600 && t.hi == 1735689600 + 86400 + 3600);
    assert_int_equal(gw_parse_datetime(ctx, "../2025-01-01T00:00:00Z", &t, why, sizeof why), 0);
    assert_true(!t.has_lo && t.has_hi);
    assert_int_equal(gw_parse_datetime(ctx, "2025-01-01T00:00:00Z/", &t, why, sizeof why), 0);
    assert_true(t.has_lo && !t.has_hi);
    assert_int_equal(gw_parse_datetime(ctx, "../..", &t, why, sizeof why), -1);
    assert_non_null(strstr(why, "both ends"));
    assert_int_equal(gw_parse_datetime(ctx, "2025-01-02T00:00:00Z/2025-01-01T00:00:00Z", &t, why,
                                       sizeof why),
                     -1);
    assert_non_null(strstr(why, "after it ends"));
    assert_int_equal(gw_parse_datetime(ctx, "1735689600", &t, why, sizeof why), -1);
    assert_int_equal(gw_parse_datetime(ctx, "a/b/c", &t, why, sizeof why), -1);
}

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    if (!ctx) return -1;
    gh = gw_ctx_geos(ctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geojson_matches_source),
        cmocka_unit_test(test_geojson_text),
        cmocka_unit_test(test_geojson_swap_xy),
        cmocka_unit_test(test_geojson_transform),
        cmocka_unit_test(test_geojson_refuses_bad_wkb),
        cmocka_unit_test(test_buf_and_escaping),
        cmocka_unit_test(test_query_values),
    };
    return cmocka_run_group_tests_name("http_util", tests, setup, teardown);
}
