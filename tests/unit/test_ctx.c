/* test_ctx.c — the status convention, the context's error buffer and the time helpers. */
#include "testutil.h"

#include <string.h>
#include <time.h>

#include "gridwatch/layer.h"

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(gw_status_str(GW_OK), "GW_OK");
    assert_string_equal(gw_status_str(GW_ERR_INTERNAL), "GW_ERR_INTERNAL");
    assert_string_equal(gw_status_str((gw_status)999), "GW_ERR_UNKNOWN");
}

static void test_error_buffer(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    assert_non_null(ctx);
    assert_int_equal(gw_ctx_errcode(ctx), GW_OK);
    assert_int_equal(gw_ctx_error_at(ctx, GW_ERR_FORMAT, 42, "bad %s", "thing"), GW_ERR_FORMAT);
    assert_string_equal(gw_ctx_errmsg(ctx), "bad thing");
    assert_int_equal(gw_ctx_erroffset(ctx), 42);
    gw_ctx_clear_error(ctx);
    assert_string_equal(gw_ctx_errmsg(ctx), "");
    assert_int_equal(gw_ctx_erroffset(ctx), -1);
    /* GEOS errors land on the context of the handle that raised them. */
    GEOSContextHandle_t g = gw_ctx_geos(ctx);
    GEOSWKTReader *r = GEOSWKTReader_create_r(g);
    GEOSGeometry *geom = GEOSWKTReader_read_r(g, r, "POLYGON((0 0, 1 1");
    assert_null(geom);
    assert_true(strlen(gw_ctx_geos_errmsg(ctx)) > 0);
    GEOSWKTReader_destroy_r(g, r);
    gw_ctx_destroy(ctx);
    gw_ctx_destroy(NULL);
}

static void test_layers(void **state)
{
    (void)state;
    gw_layer l;
    assert_int_equal(gw_layer_from_name("cameras", &l), GW_OK);
    assert_int_equal(l, GW_LAYER_CAMERAS);
    assert_int_equal(gw_layer_from_name("camera", &l), GW_ERR_NOT_FOUND);
    size_t n;
    const gw_field *f = gw_layer_fields(GW_LAYER_INCIDENTS, &n);
    assert_string_equal(f[0].name, "id");
    assert_int_equal(gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at"), 1);
    assert_int_equal(f[1].type, GW_FT_TIME);
    assert_int_equal(gw_layer_field_index(GW_LAYER_GRIDS, "nope"), -1);
    assert_false(gw_layer_is_point(GW_LAYER_GRIDS));
    assert_true(gw_layer_is_point(GW_LAYER_TEAMS));
}

static void test_time(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    int64_t t;
    assert_int_equal(gw_time_parse(ctx, "1970-01-01T00:00:00Z", NULL, &t), GW_OK);
    assert_int_equal(t, 0);
    assert_int_equal(gw_time_parse(ctx, "2018-01-01T00:00:00+08:00", NULL, &t), GW_OK);
    assert_int_equal(t, 1514736000); /* 2017-12-31T16:00:00Z */
    assert_int_equal(gw_time_parse(ctx, "2018-01-01 00:00:00", "+08:00", &t), GW_OK);
    assert_int_equal(t, 1514736000);
    /* Chicago: CST (UTC-6) in January, CDT (UTC-5) in June. */
    assert_int_equal(gw_time_parse(ctx, "2018-01-01T00:00:00", "America/Chicago", &t), GW_OK);
    assert_int_equal(t, 1514786400);
    assert_int_equal(gw_time_parse(ctx, "2018-06-30T23:59:00", "America/Chicago", &t), GW_OK);
    assert_int_equal(t, 1530421140);
    assert_int_equal(gw_time_parse(ctx, "2018-06-30", NULL, &t), GW_OK);
    assert_int_equal(t, 1530316800);
    /* Well-formed but not a date: refused with the reason, never rolled over into March. */
    assert_int_equal(gw_time_parse(ctx, "2018-13-01T00:00:00Z", NULL, &t), GW_ERR_RANGE);
    assert_int_equal(gw_time_parse(ctx, "2025-02-30", NULL, &t), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "does not exist"));
    assert_int_equal(gw_time_parse(ctx, "2025-02-29T00:00:00Z", NULL, &t), GW_ERR_RANGE);
    assert_int_equal(gw_time_parse(ctx, "1900-02-29T00:00:00Z", NULL, &t), GW_ERR_RANGE);
    assert_int_equal(gw_time_parse(ctx, "2024-02-29T00:00:00Z", NULL, &t), GW_OK);
    assert_int_equal(gw_time_parse(ctx, "2000-02-29T00:00:00Z", NULL, &t), GW_OK);
    assert_int_equal(gw_time_parse(ctx, "2025-04-31T00:00:00Z", NULL, &t), GW_ERR_RANGE);
    assert_int_equal(gw_time_parse(ctx, "2025-01-01T24:30:00Z", NULL, &t), GW_ERR_RANGE);
    assert_int_equal(gw_time_parse(ctx, "yesterday", NULL, &t), GW_ERR_FORMAT);
    assert_int_equal(gw_time_parse(ctx, "2018-01-01T00:00:00", "Mars/Olympus", &t), GW_ERR_ARG);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "Mars/Olympus"));
    char buf[32];
    gw_time_format(1514736000, buf, sizeof buf);
    assert_string_equal(buf, "2017-12-31T16:00:00Z");
    gw_ctx_destroy(ctx);
}

/* The one calendar routine against glibc's timegm over every day of 1900–2100 (and a few
 * instants), and its refusals. */
static void test_civil(void **state)
{
    (void)state;
    for (int y = 1900; y <= 2100; y++)
        for (int mo = 1; mo <= 12; mo++)
            for (int d = 1; d <= 31; d++) {
                struct tm tm = {.tm_year = y - 1900,
                                .tm_mon = mo - 1,
                                .tm_mday = d,
                                .tm_hour = 13,
                                .tm_min = 5,
                                .tm_sec = 7};
                time_t ref = timegm(&tm);
                int exists = tm.tm_mday == d; /* timegm normalised a day the month lacks */
                int64_t t = -1;
                int rc = gw_time_from_civil(y, mo, d, 13, 5, 7, &t);
                assert_int_equal(rc, exists ? 0 : -1);
                if (exists) assert_true(t == (int64_t)ref);
            }
    int64_t t;
    assert_int_equal(gw_time_from_civil(2025, 1, 1, 24, 0, 0, &t), 0);
    assert_int_equal(gw_time_from_civil(2025, 1, 2, 0, 0, 0, &t), 0);
    assert_int_equal(gw_time_from_civil(2025, 0, 1, 0, 0, 0, &t), -1);
    assert_int_equal(gw_time_from_civil(2025, 1, 1, 0, 60, 0, &t), -1);
    assert_int_equal(gw_time_from_civil(2025, 1, 1, -1, 0, 0, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names), cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_layers),       cmocka_unit_test(test_time),
        cmocka_unit_test(test_civil),
    };
    return cmocka_run_group_tests_name("ctx", tests, NULL, NULL);
}
