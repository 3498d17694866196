/* test_io_values.c — regression tests for issue 15's defect 6 on `gridwatch import`
 * (geo/io/): a time without a UTC offset stops an import that names no zone (it was taken as
 * UTC, 8 hours off for Beijing time), --tz makes it explicit, 30 February is refused instead of
 * read as 2 March, and a projected --srs on plainly lon/lat numbers (they landed on the
 * equator) is refused by the CRS's area of use, and text that is not UTF-8 is read as GB18030
 * or as --encoding says, never as mojibake.
 * Each refused import changes nothing. */
#include "testutil.h"

#include "gridwatch/io.h"
#include "gridwatch/store.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static gw_ctx *ctx;
static gw_store *s;

static int64_t count(void)
{
    int64_t n = -1, q = -1;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(gw_store_last_seq(s, &q), GW_OK);
    return n * 1000000 + q; /* rows and the change log together */
}

static void refused(const char *csv, const gw_import_opts *o, const char *needle)
{
    const char *path = gw_test_write("values.csv", csv);
    int64_t before = count();
    gw_status st = gw_io_import(ctx, s, GW_LAYER_INCIDENTS, path, o, NULL);
    printf("  -> %s: %s\n", gw_status_str(st), gw_ctx_errmsg(ctx));
    assert_int_not_equal(st, GW_OK);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), needle));
    assert_int_equal(count(), before);
}

static int64_t imported_time(const char *csv, const gw_import_opts *o, const char *id)
{
    const char *path = gw_test_write("values.csv", csv);
    gw_status st = gw_io_import(ctx, s, GW_LAYER_INCIDENTS, path, o, NULL);
    if (st) fprintf(stderr, "import: %s\n", gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    int ix = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    int64_t t = INT64_MIN;
    gw_cursor *cur = NULL;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    gw_row r;
    while (gw_cursor_next(cur, &r) == GW_OK)
        if (strcmp(r.values[0].s, id) == 0) t = r.values[ix].i;
    gw_cursor_destroy(cur);
    assert_true(t != INT64_MIN);
    return t;
}

static void test_offsetless_time_needs_a_zone(void **state)
{
    (void)state;
    const char *csv = "id,date,lon,lat\nTZ1,2025-01-05T10:00:00,115.6,35.2\n";
    gw_import_opts o = {.map = "occurred_at=date"};
    refused(csv, &o, "--tz");
    refused("id,date,lon,lat\nTZ1,2025-01-05 10:00,115.6,35.2\n", &o, "--tz");
    refused("id,date,lon,lat\nTZ1,2025-01-05,115.6,35.2\n", &o, "--tz");
    o.tz = "+08:00"; /* Beijing time: 10:00 is 02:00 UTC */
    assert_int_equal(imported_time(csv, &o, "TZ1"), 1736042400);
    o.tz = "Asia/Shanghai";
    csv = "id,date,lon,lat\nTZ2,2025-01-05T10:00:00,115.6,35.2\n";
    assert_int_equal(imported_time(csv, &o, "TZ2"), 1736042400);
    o.tz = NULL; /* a time with its offset needs no zone */
    csv = "id,date,lon,lat\nTZ3,2025-01-05T10:00:00+08:00,115.6,35.2\n";
    assert_int_equal(imported_time(csv, &o, "TZ3"), 1736042400);
}

static void test_february_30_refused(void **state)
{
    (void)state;
    gw_import_opts o = {.map = "occurred_at=date", .tz = "UTC"};
    refused("id,date,lon,lat\nF30,2025-02-30T10:00:00Z,115.6,35.2\n", &o, "real day");
    refused("id,date,lon,lat\nF29,2025-02-29,115.6,35.2\n", &o, "real day");
    assert_int_equal(imported_time("id,date,lon,lat\nL29,2024-02-29T00:00:00Z,115.6,35.2\n", &o,
                                   "L29"),
                     1709164800); /* a leap year's 29 February is a real day */
}

static void test_projected_srs_on_lonlat_refused(void **state)
{
    (void)state;
    gw_import_opts o = {.map = "occurred_at=date", .srs = "EPSG:2385"};
    const char *csv = "id,date,lon,lat\nP1,2025-01-05T10:00:00Z,115.6,35.2\n";
    refused(csv, &o, "outside the area where EPSG:2385 is used");
    refused(csv, &o, "look like lon/lat");
    /* the same point in that CRS's metres lands where it should */
    o.srs =
        "EPSG:4547"; /* CGCS2000 / 3-degree GK CM 114E: (115.6, 35.2) is about (645,700, 3,897,000) */
    refused(csv, &o, "EPSG:4547");
    int64_t t = imported_time("id,date,lon,lat\nP2,2025-01-05T10:00:00Z,645700,3897000\n", &o,
                              "P2");
    assert_int_equal(t, 1736071200);
}

/* Text that is not UTF-8 (a GBK export from a Chinese office suite) was stored as raw bytes;
 * then refused unless --encoding named the file's encoding.  Now (issue 21) a CSV whose bytes
 * are not UTF-8 is read as GB18030 (a superset of GBK) and the report says so; a wrong explicit
 * encoding is refused naming the row, and an unknown one up front. */
static void check_description(const char *id, const char *want)
{
    gw_cursor *cur = NULL;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    int ix = gw_layer_field_index(GW_LAYER_INCIDENTS, "description"), seen = 0;
    gw_row r;
    while (gw_cursor_next(cur, &r) == GW_OK)
        if (strcmp(r.values[0].s, id) == 0) {
            assert_string_equal(r.values[ix].s, want);
            seen = 1;
        }
    gw_cursor_destroy(cur);
    assert_true(seen);
}

static void test_text_encoding_detected_or_named(void **state)
{
    (void)state;
    /* "菏泽" (Heze) in GBK: BA CA D4 F3 */
    const char
        *gbk = "id,date,description,lon,lat\nE1,2025-01-05T10:00:00Z,\xba\xca\xd4\xf3,115.6,35.2\n";
    const char *heze = "\xe8\x8f\x8f\xe6\xb3\xbd"; /* UTF-8 */
    gw_import_opts o = {.map = "occurred_at=date", .encoding = "UTF-8"};
    refused(gbk, &o, "values.csv row 1: the bytes 0xBA 0xCA 0xD4 0xF3 are not UTF-8");
    o.encoding = "no-such-encoding";
    refused(gbk, &o, "unknown encoding");
    o.encoding = NULL;
    gw_import_report rep;
    const char *path = gw_test_write("values.csv", gbk);
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_INCIDENTS, path, &o, &rep), GW_OK);
    assert_string_equal(rep.encoding, "GB18030");
    assert_non_null(strstr(rep.encoding_note, "not UTF-8 (first in row 1)"));
    check_description("E1", heze);
    o.encoding = "GB18030";
    o.replace = 1;
    imported_time(gbk, &o, "E1");
    check_description("E1", heze);
    /* the UTF-8 file given as GBK would be mojibake: refused */
    char utf8[256];
    snprintf(utf8, sizeof utf8,
             "id,date,description,lon,lat\nE2,2025-01-05T10:00:00Z,%s,115.6,35.2\n", heze);
    o.encoding = "GBK";
    refused(utf8, &o, "is UTF-8 text");
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&ctx), GW_OK);
    assert_int_equal(gw_store_open(ctx, gw_test_path("values.db"), GW_STORE_CREATE, &s), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsetless_time_needs_a_zone),
        cmocka_unit_test(test_february_30_refused),
        cmocka_unit_test(test_projected_srs_on_lonlat_refused),
        cmocka_unit_test(test_text_encoding_detected_or_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
