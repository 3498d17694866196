/* test_tilemath.c — tile math against values computed independently (Python with the OSM
 * slippy-map formulas), and the z/x/y parser's 400 (GW_ERR_ARG) versus 404 (GW_ERR_RANGE). */
#include "testutil.h"

#include "gridwatch/tile.h"

#include <math.h>
#include <string.h>

static gw_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol) fail_msg("got %.9f, want %.9f (tol %g)", got, want, tol);
}

static void test_bounds_known(void **state)
{
    (void)state;
    gw_bbox b = gw_tile_bounds((gw_tile_id){0, 0, 0});
    assert_near(b.minx, -20037508.342789244, 1e-6);
    assert_near(b.maxx, 20037508.342789244, 1e-6);
    assert_near(b.miny, -20037508.342789244, 1e-6);
    assert_near(b.maxy, 20037508.342789244, 1e-6);
    b = gw_tile_bounds((gw_tile_id){8, 213, 106});
    assert_near(b.minx, 13306157.883883484, 1e-6);
    assert_near(b.miny, 3287403.712488860, 1e-6);
    assert_near(b.maxx, 13462700.917811524, 1e-6);
    assert_near(b.maxy, 3443946.746416902, 1e-6);
    /* z22 corner tile: the last column, the top row */
    b = gw_tile_bounds((gw_tile_id){22, (1u << 22) - 1, 0});
    assert_near(b.minx, 20037498.788160708, 1e-6);
    assert_near(b.maxy, 20037508.342789244, 1e-6);
    assert_near(b.maxx - b.minx, 9.554628535, 1e-6);
}

static void test_bounds_lonlat(void **state)
{
    (void)state;
    gw_bbox b = gw_tile_bounds_lonlat((gw_tile_id){8, 213, 106});
    /* west edge of x=213, south edge = north edge of y=107, etc. (OSM formulas) */
    assert_near(b.minx, 119.53125, 1e-9);
    assert_near(b.maxx, 120.9375, 1e-9);
    assert_near(b.miny, 28.304380682962773, 1e-9);
    assert_near(b.maxy, 29.535229562948455, 1e-9);
    b = gw_tile_bounds_lonlat((gw_tile_id){0, 0, 0});
    assert_near(b.maxy, GW_MERC_MAX_LAT, 1e-9);
    assert_near(b.minx, -180.0, 1e-9);
}

static void test_buffer_and_unit(void **state)
{
    (void)state;
    gw_tile_id t = {8, 213, 106};
    gw_bbox b = gw_tile_bounds(t), bb = gw_tile_bounds_buffered(t, 4096, 64);
    double w = b.maxx - b.minx;
    assert_near(gw_tile_unit_size(8, 4096), w / 4096, 1e-9);
    assert_near(b.minx - bb.minx, w * 64 / 4096, 1e-6);
    assert_near(bb.maxy - b.maxy, w * 64 / 4096, 1e-6);
    /* classic resolution: 156543.03392804097 m per 256-px tile pixel at z0 */
    assert_near(gw_tile_unit_size(0, 256), 156543.03392804097, 1e-6);
}

static void test_from_lonlat_known(void **state)
{
    (void)state;
    static const struct {
        double lon, lat;
        uint32_t z, x, y;
    } cases[] = {
        {-0.1278, 51.5074, 10, 511, 340},      /* London */
        {115.48, 35.2333, 12, 3361, 1619},     /* Heze */
        {116.3975, 39.9087, 15, 26978, 12416}, /* Beijing, Tiananmen */
        {-74.0445, 40.6892, 16, 19288, 24645}, /* Statue of Liberty */
        {151.2153, -33.8568, 14, 15073, 9831}, /* Sydney Opera House */
        {0, 0, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_tile_id t;
        assert_int_equal(gw_tile_from_lonlat(ctx, cases[i].lon, cases[i].lat, cases[i].z, &t),
                         GW_OK);
        assert_int_equal(t.z, cases[i].z);
        assert_int_equal(t.x, cases[i].x);
        assert_int_equal(t.y, cases[i].y);
        /* and the point lies inside the tile's lon/lat bounds */
        gw_bbox b = gw_tile_bounds_lonlat(t);
        assert_true(cases[i].lon >= b.minx && cases[i].lon <= b.maxx);
        assert_true(cases[i].lat >= b.miny && cases[i].lat <= b.maxy);
    }
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(ctx, 180.0, 89.9, 22, &t), GW_OK); /* clamps */
    assert_int_equal(t.x, (1u << 22) - 1);
    assert_int_equal(t.y, 0);
    assert_int_equal(gw_tile_from_lonlat(ctx, -180.0, -89.9, 22, &t), GW_OK);
    assert_int_equal(t.x, 0);
    assert_int_equal(t.y, (1u << 22) - 1);
    assert_int_equal(gw_tile_from_lonlat(ctx, 181.0, 0, 3, &t), GW_ERR_RANGE);
    assert_int_equal(gw_tile_from_lonlat(ctx, NAN, 0, 3, &t), GW_ERR_RANGE);
    assert_int_equal(gw_tile_from_lonlat(ctx, 0, 0, 23, &t), GW_ERR_RANGE);
}

static void test_merc_roundtrip(void **state)
{
    (void)state;
    double mx, my, lon, lat;
    gw_tile_lonlat_to_merc(115.48, 35.2333, &mx, &my);
    gw_tile_merc_to_lonlat(mx, my, &lon, &lat);
    assert_near(lon, 115.48, 1e-9);
    assert_near(lat, 35.2333, 1e-9);
    gw_tile_lonlat_to_merc(180, 0, &mx, &my);
    assert_near(mx, GW_MERC_MAX, 1e-6);
    assert_near(my, 0, 1e-9);
}

static gw_status parse(const char *s, gw_tile_id *t) { return gw_tile_parse(ctx, s, strlen(s), t); }

static void test_parse(void **state)
{
    (void)state;
    gw_tile_id t;
    assert_int_equal(parse("8/213/106", &t), GW_OK);
    assert_int_equal(t.z, 8);
    assert_int_equal(t.x, 213);
    assert_int_equal(t.y, 106);
    assert_int_equal(parse("0/0/0", &t), GW_OK);
    assert_int_equal(parse("22/4194303/4194303", &t), GW_OK);
    assert_int_equal(t.x, 4194303);
    /* a length-bounded piece of a longer path: "8/1/2.mvt" with len 5 */
    assert_int_equal(gw_tile_parse(ctx, "8/1/2.mvt", 5, &t), GW_OK);
    assert_int_equal(t.y, 2);

    /* 400: malformed */
    static const char *const bad[] = {
        "",
        "8",
        "8/1",
        "8/1/",
        "/1/2",
        "8//2",
        "a/1/2",
        "8/x/2",
        "8/1/2.mvt",
        "8/1/2/3",
        "-1/0/0",
        "8/-1/2",
        "+8/1/2",
        " 8/1/2",
        "8/1/2 ",
        "8/1/99999999999",
        "4294967296/0/0",
        "1e3/0/0",
        "8/0x1/2",
        "8/1.0/2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_status st = parse(bad[i], &t);
        if (st != GW_ERR_ARG) fail_msg("'%s' gave %s, want GW_ERR_ARG", bad[i], gw_status_str(st));
        assert_true(t.z == 0 && t.x == 0 && t.y == 0);
        assert_true(strlen(gw_ctx_errmsg(ctx)) > 0);
    }
    /* 404: numeric but outside the pyramid */
    static const char *const out[] = {
        "23/0/0",  "4294967295/0/0", "0/1/0",        "0/0/1",          "8/256/0",
        "8/0/256", "22/4194304/0",   "22/0/4194304", "1/4294967295/0",
    };
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        gw_status st = parse(out[i], &t);
        if (st != GW_ERR_RANGE)
            fail_msg("'%s' gave %s, want GW_ERR_RANGE", out[i], gw_status_str(st));
    }
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "outside the pyramid"));
    assert_int_equal(gw_tile_parse(ctx, NULL, 0, &t), GW_ERR_ARG);
    assert_int_equal(gw_tile_parse(ctx, "1/0/0", 5, NULL), GW_ERR_ARG);
}

static void test_check_and_children(void **state)
{
    (void)state;
    assert_int_equal(gw_tile_check(ctx, (gw_tile_id){22, 0, 0}), GW_OK);
    assert_int_equal(gw_tile_check(ctx, (gw_tile_id){23, 0, 0}), GW_ERR_RANGE);
    /* the four children tile their parent exactly */
    gw_tile_id p = {8, 213, 106};
    gw_bbox pb = gw_tile_bounds(p);
    gw_bbox c00 = gw_tile_bounds((gw_tile_id){9, 426, 212});
    gw_bbox c11 = gw_tile_bounds((gw_tile_id){9, 427, 213});
    assert_near(c00.minx, pb.minx, 1e-6);
    assert_near(c00.maxy, pb.maxy, 1e-6);
    assert_near(c11.maxx, pb.maxx, 1e-6);
    assert_near(c11.miny, pb.miny, 1e-6);
    assert_near(c00.maxx, c11.minx, 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_known),       cmocka_unit_test(test_bounds_lonlat),
        cmocka_unit_test(test_buffer_and_unit),    cmocka_unit_test(test_from_lonlat_known),
        cmocka_unit_test(test_merc_roundtrip),     cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check_and_children),
    };
    return cmocka_run_group_tests_name("tilemath", tests, setup, teardown);
}
