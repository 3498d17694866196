/* test_io.c — import and export (geo/io/): bad files that must each give one error and change
 * nothing, against small fixtures written here (the main group, ctest entry "io"), and the real
 * open data in <shared>/data/real (the "--real" group, entry "io_real", skipped with 77 when the
 * data is absent): Chicago beats, stations and 127k crimes, Baltimore CCTV, Heze counties in
 * GCJ-02 and WGS84, round trips through four formats, and the same bad files on the Chicago store. */
#include "testutil.h"

#include "gridwatch/io.h"
#include "gridwatch/store.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static gw_ctx *ctx;
static gw_store *chicago; /* beats + stations, built once */
static gw_store *small;   /* the synthetic stand-in: two grids + three stations, built once */
static int real_group;    /* running the "--real" group: the error paths run on the Chicago store */

/* Inside the real group its gate has checked the files: absent now is a failure. */
#define REAL(var, rel) const char *var = gw_test_real_file(rel)

/* Files in the Chicago stations' schema (district, district_name, address, zip, phone), and
 * two square grids, written by the test so the error paths run without the real data. */
static const char *small_stations(void)
{
    return gw_test_write(
        "police_stations.geojson",
        "{\"type\":\"FeatureCollection\",\"name\":\"police_stations\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"district\":\"1\",\"district_name\":\"Central\","
        "\"address\":\"1718 S State St\",\"zip\":\"60616\",\"phone\":\"312-745-4290\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[-87.627356,41.858373]}},"
        "{\"type\":\"Feature\",\"properties\":{\"district\":\"2\",\"district_name\":\"Wentworth\","
        "\"address\":\"5101 S Wentworth Ave\",\"zip\":\"60609\",\"phone\":\"312-747-8366\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[-87.63056,41.801811]}},"
        "{\"type\":\"Feature\",\"properties\":{\"district\":\"3\",\"district_name\":\"Grand Crossing\","
        "\"address\":\"7040 S Cottage Grove Ave\",\"zip\":\"60637\",\"phone\":\"312-747-8201\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[-87.605748,41.766431]}}]}");
}
#define SMALL_ROOMS 3
#define CHICAGO_ROOMS 23

static gw_store *new_store(const char *name);
static gw_status import(gw_store *s, gw_layer layer, const char *path, const gw_import_opts *o,
                        gw_import_report *r);
static gw_store *chicago_store(void);

static gw_store *small_store(void)
{
    if (small) return small;
    small = new_store("small.db");
    const char *beats = gw_test_write(
        "small_beats.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"beat_num\":\"0111\"},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[-87.64,41.85],[-87.62,41.85],[-87.62,41.87],[-87.64,41.87],[-87.64,41.85]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"beat_num\":\"0112\"},\"geometry\":{\"type\":\"Polygon\","
        "\"coordinates\":[[[-87.62,41.85],[-87.60,41.85],[-87.60,41.87],[-87.62,41.87],[-87.62,41.85]]]}}]}");
    gw_import_opts o = {.map = "id=beat_num"};
    assert_int_equal(import(small, GW_LAYER_GRIDS, beats, &o, NULL), GW_OK);
    gw_import_opts o2 = {.map = "id=district,name=district_name"};
    assert_int_equal(import(small, GW_LAYER_POLICE_ROOMS, small_stations(), &o2, NULL), GW_OK);
    return small;
}

/* The store and stations file the error-path tests work on: Chicago's in the real group, the
 * synthetic ones in the main group. */
static gw_store *base_store(void)
{
    gw_store *s = real_group ? chicago_store() : small_store();
    assert_non_null(s);
    return s;
}
static const char *base_stations(void)
{
    return real_group ? gw_test_real_file("chicago/police_stations.geojson") : small_stations();
}
static int64_t base_rooms(void) { return real_group ? CHICAGO_ROOMS : SMALL_ROOMS; }

static gw_store *new_store(const char *name)
{
    gw_store *s = NULL;
    gw_status st = gw_store_open(ctx, gw_test_path(name), GW_STORE_CREATE, &s);
    if (st) fprintf(stderr, "store: %s\n", gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    return s;
}

static int64_t count(gw_store *s, gw_layer layer)
{
    int64_t n = -1;
    assert_int_equal(gw_store_count(s, layer, &n), GW_OK);
    return n;
}

static int64_t last_seq(gw_store *s)
{
    int64_t q = -1;
    assert_int_equal(gw_store_last_seq(s, &q), GW_OK);
    return q;
}

static gw_status import(gw_store *s, gw_layer layer, const char *path, const gw_import_opts *o,
                        gw_import_report *r)
{
    gw_status st = gw_io_import(ctx, s, layer, path, o, r);
    if (st) fprintf(stderr, "  import %s -> %s: %s\n", path, gw_status_str(st), gw_ctx_errmsg(ctx));
    return st;
}

/* A copy of one stored row: text values and the geometry (GEOS, caller destroys). */
typedef struct {
    int found;
    gw_value v[16];
    char text[16][256];
    GEOSGeometry *g;
} row_copy;

/* The row is returned by value, so its text lives in a static ring of 8 slots (the returned
 * copy's pointers must not point into this function's frame): valid for the next 7 calls. */
static row_copy get_row(gw_store *s, gw_layer layer, const char *id)
{
    static row_copy ring[8];
    static unsigned next;
    row_copy *rc = &ring[next++ % 8];
    memset(rc, 0, sizeof *rc);
    gw_cursor *cur = NULL;
    assert_int_equal(gw_store_cursor_create(s, layer, &cur), GW_OK);
    size_t nf;
    gw_layer_fields(layer, &nf);
    gw_row r;
    while (gw_cursor_next(cur, &r) == GW_OK) {
        if (strcmp(r.values[0].s, id) != 0) continue;
        rc->found = 1;
        for (size_t i = 0; i < nf; i++) {
            rc->v[i] = r.values[i];
            if (r.values[i].kind == GW_VAL_TEXT) {
                snprintf(rc->text[i], sizeof rc->text[i], "%s", r.values[i].s);
                rc->v[i].s = rc->text[i];
            }
        }
        GEOSWKBReader *rd = GEOSWKBReader_create_r(gw_ctx_geos(ctx));
        rc->g = GEOSWKBReader_read_r(gw_ctx_geos(ctx), rd, r.wkb, r.wkb_len);
        GEOSWKBReader_destroy_r(gw_ctx_geos(ctx), rd);
        break;
    }
    gw_cursor_destroy(cur);
    return *rc;
}

static gw_store *chicago_store(void)
{
    if (chicago) return chicago;
    REAL(beats, "chicago/police_beats.geojson");
    REAL(stations, "chicago/police_stations.geojson");
    chicago = new_store("chicago.db");
    gw_import_opts o = {.map = "id=beat_num"};
    assert_int_equal(import(chicago, GW_LAYER_GRIDS, beats, &o, NULL), GW_OK);
    gw_import_opts o2 = {.map = "id=district,name=district_name"};
    assert_int_equal(import(chicago, GW_LAYER_POLICE_ROOMS, stations, &o2, NULL), GW_OK);
    return chicago;
}

/* ---- real imports ------------------------------------------------------------------------ */

static void test_beats_as_grids(void **state)
{
    (void)state;
    REAL(beats, "chicago/police_beats.geojson");
    gw_store *s = new_store("beats.db");
    gw_test_clear_warnings();
    gw_import_opts o = {.map = "id=beat_num"};
    gw_import_report r;
    assert_int_equal(import(s, GW_LAYER_GRIDS, beats, &o, &r), GW_OK);
    /* ogrinfo: 277 features, 275 distinct beat_num; "3100" (district 31, outside CPD) appears 3 times */
    assert_int_equal(r.read, 277);
    assert_int_equal(r.imported, 275);
    assert_int_equal(r.merged, 2);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(count(s, GW_LAYER_GRIDS), 275);
    assert_non_null(strstr(gw_test_warnings(), "'3100'"));
    row_copy g = get_row(s, GW_LAYER_GRIDS, "3100");
    assert_true(g.found);
    assert_int_equal(GEOSGeomTypeId_r(gw_ctx_geos(ctx), g.g), GEOS_MULTIPOLYGON);
    assert_true(GEOSGetNumGeometries_r(gw_ctx_geos(ctx), g.g) >= 2);
    assert_int_equal(GEOSisValid_r(gw_ctx_geos(ctx), g.g), 1);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), g.g);
    row_copy b = get_row(s, GW_LAYER_GRIDS, "0111"); /* leading zero kept: ids are text */
    assert_true(b.found);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), b.g);
    int srid = 0;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_int_equal(srid, 32616); /* UTM 16N for Chicago (-87.7) */
    assert_true(last_seq(s) >= 1);
    gw_bbox e;
    assert_int_equal(gw_store_extent(s, GW_LAYER_GRIDS, &e), GW_OK);
    assert_true(fabs(e.minx - -87.940114) < 1e-6 && fabs(e.maxy - 42.023031) < 1e-6);
    gw_store_close(s);
}

static void test_stations_as_police_rooms(void **state)
{
    (void)state;
    REAL(stations, "chicago/police_stations.geojson");
    gw_store *s = new_store("stations.db");
    gw_import_opts o = {.map = "id=district,name=district_name"};
    gw_import_report r;
    assert_int_equal(import(s, GW_LAYER_POLICE_ROOMS, stations, &o, &r), GW_OK);
    assert_int_equal(r.imported, 23);
    assert_int_equal(count(s, GW_LAYER_POLICE_ROOMS), 23);
    row_copy p = get_row(s, GW_LAYER_POLICE_ROOMS, "1");
    assert_true(p.found);
    assert_string_equal(p.v[1].s, "Central");
    assert_string_equal(p.v[3].s, "1718 S State St"); /* address maps by its own name */
    assert_string_equal(p.v[2].s, "312-745-4290");
    double x, y;
    GEOSGeomGetX_r(gw_ctx_geos(ctx), p.g, &x);
    GEOSGeomGetY_r(gw_ctx_geos(ctx), p.g, &y);
    assert_true(fabs(x - -87.627356) < 1e-9 && fabs(y - 41.858373) < 1e-9);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), p.g);

    /* the same file as CSV with lon/lat columns gives the same rows */
    REAL(csv, "chicago/police_stations.csv");
    gw_store *s2 = new_store("stations_csv.db");
    assert_int_equal(import(s2, GW_LAYER_POLICE_ROOMS, csv, &o, &r), GW_OK);
    assert_int_equal(count(s2, GW_LAYER_POLICE_ROOMS), 23);
    row_copy q = get_row(s2, GW_LAYER_POLICE_ROOMS, "1");
    GEOSGeomGetX_r(gw_ctx_geos(ctx), q.g, &x);
    assert_true(fabs(x - -87.627356) < 1e-9);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), q.g);

    /* re-import without --replace conflicts and changes nothing; with it, replaces */
    int64_t seq = last_seq(s);
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_POLICE_ROOMS, stations, &o, NULL),
                     GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "duplicate id"));
    assert_int_equal(count(s, GW_LAYER_POLICE_ROOMS), 23);
    assert_int_equal(last_seq(s), seq);
    o.replace = 1;
    assert_int_equal(import(s, GW_LAYER_POLICE_ROOMS, stations, &o, &r), GW_OK);
    assert_int_equal(count(s, GW_LAYER_POLICE_ROOMS), 23);
    assert_true(last_seq(s) > seq);
    gw_store_close(s);
    gw_store_close(s2);
}

static void test_map_errors(void **state)
{
    (void)state;
    const char *stations = base_stations();
    gw_store *s = new_store(real_group ? "maperr_real.db" : "maperr.db");
    gw_import_opts o = {.map = "id=district,colour=district_name"};
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_POLICE_ROOMS, stations, &o, NULL),
                     GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'colour'"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "address")); /* lists the canonical fields */
    o.map = "id=district,name=nosuch";
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_POLICE_ROOMS, stations, &o, NULL),
                     GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'nosuch'"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "district_name")); /* lists the source fields */
    o.map = NULL;                                                 /* no field named id */
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_POLICE_ROOMS, stations, &o, NULL),
                     GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "--map id="));
    o.map = "id=FID"; /* explicit: number the features */
    assert_int_equal(import(s, GW_LAYER_POLICE_ROOMS, stations, &o, NULL), GW_OK);
    assert_int_equal(count(s, GW_LAYER_POLICE_ROOMS), base_rooms());
    gw_store_close(s);
}

static int prog_calls;
static double prog_last;
static void on_progress(void *user, const char *what, double done, double total)
{
    (void)user;
    (void)total;
    if (strcmp(what, "import") == 0) {
        prog_calls++;
        prog_last = done;
    }
}

static void test_crimes_as_incidents(void **state)
{
    (void)state;
    REAL(crimes, "chicago/crimes_2018H1.csv");
    gw_store *s = chicago_store();
    gw_import_opts o = {.map = "id=id,occurred_at=date,category=primary_type",
                        .tz = "America/Chicago"};
    gw_import_report r;
    prog_calls = 0;
    gw_ctx_set_progress(ctx, on_progress, NULL);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    gw_status st = import(s, GW_LAYER_INCIDENTS, crimes, &o, &r);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    gw_ctx_set_progress(ctx, NULL, NULL);
    assert_int_equal(st, GW_OK);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
    printf("  crimes_2018H1.csv: CPU %.2f s = %.0f rows/s of CPU\n", cpu, r.imported / cpu);
    assert_true(prog_calls >= 127435 / 4096);
    assert_true(prog_last == 127435.0);
    printf(
        "  crimes_2018H1.csv: %lld rows in %.2f s = %.0f rows/s (with grid resolution against %lld beats)\n",
        (long long)r.imported, r.seconds, r.imported / r.seconds,
        (long long)count(s, GW_LAYER_GRIDS));
    assert_int_equal(r.read, 127435);
    assert_int_equal(r.imported, 127435);
    assert_int_equal(count(s, GW_LAYER_INCIDENTS), 127435);
    /* 11482392: 2018-01-01T12:00:00 Chicago (CST, UTC-6) = 18:00Z, THEFT, inside beat 1834 */
    row_copy c = get_row(s, GW_LAYER_INCIDENTS, "11482392");
    assert_true(c.found);
    assert_int_equal(c.v[1].kind, GW_VAL_INT);
    assert_int_equal(c.v[1].i, 1514829600);
    assert_string_equal(c.v[2].s, "THEFT");
    assert_string_equal(c.v[6].s, "1834");
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c.g);
    /* a summer time (CDT, UTC-5): 2018-06-30 rows exist; check the offset on one */
    gw_cursor *cur;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    gw_row row;
    int64_t nogrid = 0, n = 0;
    while (gw_cursor_next(cur, &row) == GW_OK) {
        n++;
        if (row.values[6].kind == GW_VAL_NULL) nogrid++;
    }
    gw_cursor_destroy(cur);
    assert_int_equal(n, 127435);
    /* README: 431 points (0.3 %) fall outside every beat */
    assert_true(nogrid > 300 && nogrid < 600);
    printf("  crimes outside every beat: %lld\n", (long long)nogrid);
}

/* An incident gets the nearest police room (hand-placed rooms, hand-computed answers). */
static void test_incident_police_room(void **state)
{
    (void)state;
    gw_store *s = new_store("rooms.db");
    const char *inc = gw_test_write("rooms_inc.csv", "id,date,longitude,latitude\n"
                                                     "A,2018-01-01T00:00:00Z,115.401,35.2\n"
                                                     "B,2018-01-01T00:00:00Z,115.499,35.2\n"
                                                     "C,2018-01-01T00:00:00Z,115.46,35.3\n");
    gw_import_opts o = {.map = "occurred_at=date"};
    /* No rooms yet: the field stays empty. */
    assert_int_equal(import(s, GW_LAYER_INCIDENTS, inc, &o, NULL), GW_OK);
    row_copy a = get_row(s, GW_LAYER_INCIDENTS, "A");
    assert_int_equal(a.v[7].kind, GW_VAL_NULL);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), a.g);
    const char *rooms = gw_test_write(
        "rooms.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"W\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.4,35.2]}},"
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"E\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.2]}},"
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"N\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.45,35.32]}}]}");
    gw_import_opts ro = {0};
    assert_int_equal(import(s, GW_LAYER_POLICE_ROOMS, rooms, &ro, NULL), GW_OK);
    o.replace = 1;
    assert_int_equal(import(s, GW_LAYER_INCIDENTS, inc, &o, NULL), GW_OK);
    /* A is 90 m from W; B 90 m from E; C is 2.2 km from N, 11 km from W and E. */
    static const char *const want[3][2] = {{"A", "W"}, {"B", "E"}, {"C", "N"}};
    for (int i = 0; i < 3; i++) {
        row_copy r = get_row(s, GW_LAYER_INCIDENTS, want[i][0]);
        assert_true(r.found);
        assert_int_equal(r.v[7].kind, GW_VAL_TEXT);
        assert_string_equal(r.v[7].s, want[i][1]);
        GEOSGeom_destroy_r(gw_ctx_geos(ctx), r.g);
    }
    gw_store_close(s);
}

static void test_summer_time_offset(void **state)
{
    (void)state;
    gw_store *s = new_store("dst.db");
    const char *p = gw_test_write("dst.csv", "id,date,longitude,latitude\n"
                                             "S1,2018-06-30T12:00:00,-87.6,41.8\n"
                                             "W1,2018-01-15 08:30:00,-87.6,41.8\n"
                                             "Z1,2018-06-30T12:00:00Z,-87.6,41.8\n");
    gw_import_opts o = {.map = "occurred_at=date", .tz = "America/Chicago"};
    assert_int_equal(import(s, GW_LAYER_INCIDENTS, p, &o, NULL), GW_OK);
    row_copy a = get_row(s, GW_LAYER_INCIDENTS, "S1");
    assert_int_equal(a.v[1].i, 1530378000); /* 17:00Z */
    row_copy b = get_row(s, GW_LAYER_INCIDENTS, "W1");
    assert_int_equal(b.v[1].i, 1516026600); /* 14:30Z */
    row_copy c = get_row(s, GW_LAYER_INCIDENTS, "Z1");
    assert_int_equal(c.v[1].i, 1530360000); /* explicit Z wins over --tz */
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), a.g);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), b.g);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c.g);
    /* times survive export and re-import in every format (DateTime or ISO text) */
    static const char *ext[] = {"geojson", "gpkg", "shp", "csv"};
    for (size_t i = 0; i < 4; i++) {
        char name[64], db[64];
        snprintf(name, sizeof name, "dst_out.%s", ext[i]);
        snprintf(db, sizeof db, "dst_%s.db", ext[i]);
        int64_t n = 0;
        assert_int_equal(gw_io_export(ctx, s, GW_LAYER_INCIDENTS, gw_test_path(name), NULL, &n),
                         GW_OK);
        assert_int_equal(n, 3);
        gw_store *t = new_store(db);
        gw_import_opts back = {.lon_field = "X",
                               .lat_field = "Y",
                               .tz = "Asia/Shanghai"}; /* must not apply: UTC given */
        assert_int_equal(import(t, GW_LAYER_INCIDENTS, gw_test_path(name), &back, NULL), GW_OK);
        row_copy d = get_row(t, GW_LAYER_INCIDENTS, "S1");
        assert_true(d.found);
        assert_int_equal(d.v[1].i, 1530378000);
        GEOSGeom_destroy_r(gw_ctx_geos(ctx), d.g);
        gw_store_close(t);
    }
    gw_store_close(s);
}

static void test_cctv_cameras_defaults(void **state)
{
    (void)state;
    REAL(cctv, "baltimore/cctv_cameras.geojson");
    gw_store *s = new_store("cctv.db");
    gw_import_opts o = {.map = "name=cameraname"};
    gw_import_report r;
    assert_int_equal(import(s, GW_LAYER_CAMERAS, cctv, &o, &r), GW_OK);
    assert_int_equal(r.imported, 614);
    assert_int_equal(count(s, GW_LAYER_CAMERAS), 614);
    row_copy c = get_row(s, GW_LAYER_CAMERAS, "277");
    assert_true(c.found);
    assert_string_equal(c.v[1].s, "733 North Ave West - Etting/Whitelock");
    assert_true(c.v[2].kind == GW_VAL_REAL && c.v[2].d == 0.0);   /* azimuth */
    assert_true(c.v[3].kind == GW_VAL_REAL && c.v[3].d == 360.0); /* fov: a dome */
    assert_true(c.v[4].kind == GW_VAL_REAL && c.v[4].d == 50.0);  /* range, m */
    assert_int_equal(c.v[5].kind, GW_VAL_NULL);                   /* height unknown */
    assert_string_equal(c.v[6].s, "online");
    int srid = 0;
    gw_store_metric_srid(s, &srid);
    assert_int_equal(srid, 32618); /* Baltimore -76.6: UTM 18N */
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), c.g);
    gw_store_close(s);
}

static void test_heze_gcj02_matches_wgs84(void **state)
{
    (void)state;
    REAL(gcj, "heze/heze_371700_counties_gcj02.geojson");
    REAL(wgs, "heze/heze_371700_counties_wgs84.geojson");
    gw_store *a = new_store("heze_gcj.db"), *b = new_store("heze_wgs.db"),
             *c = new_store("heze_raw.db");
    gw_import_opts og = {.map = "id=adcode", .srs = "gcj02"}, ow = {.map = "id=adcode"};
    assert_int_equal(import(a, GW_LAYER_GRIDS, gcj, &og, NULL), GW_OK);
    assert_int_equal(import(b, GW_LAYER_GRIDS, wgs, &ow, NULL), GW_OK);
    assert_int_equal(import(c, GW_LAYER_GRIDS, gcj, &ow, NULL), GW_OK); /* taken at its word */
    assert_int_equal(count(a, GW_LAYER_GRIDS), 9);
    assert_int_equal(count(b, GW_LAYER_GRIDS), 9);
    int srid = 0;
    gw_store_metric_srid(a, &srid);
    assert_true(srid >= 4534 && srid <= 4554); /* a CGCS2000 3-degree Gauss-Kruger zone */
    static const char *ids[] = {"371702", "371703", "371721", "371722", "371723",
                                "371724", "371725", "371726", "371728"};
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < 9; i++) {
        row_copy ga = get_row(a, GW_LAYER_GRIDS, ids[i]), gb = get_row(b, GW_LAYER_GRIDS, ids[i]),
                 gc = get_row(c, GW_LAYER_GRIDS, ids[i]);
        assert_true(ga.found && gb.found && gc.found);
        double d = -1, raw = -1;
        assert_int_equal(GEOSHausdorffDistance_r(h, ga.g, gb.g, &d), 1);
        assert_int_equal(GEOSHausdorffDistance_r(h, gc.g, gb.g, &raw), 1);
        assert_true(d * 111000.0 < 1.0);   /* within 1 m */
        assert_true(raw * 111000.0 > 100); /* and GCJ-02 really was ~500 m off */
        GEOSGeom_destroy_r(h, ga.g);
        GEOSGeom_destroy_r(h, gb.g);
        GEOSGeom_destroy_r(h, gc.g);
    }
    gw_store_close(a);
    gw_store_close(b);
    gw_store_close(c);
}

/* ---- export round trips ------------------------------------------------------------------ */

static void round_trip(gw_store *s, gw_layer layer, const char *name, int64_t expect)
{
    const char *path = gw_test_path(name);
    int64_t n = -1;
    gw_status st = gw_io_export(ctx, s, layer, path, NULL, &n);
    if (st) fprintf(stderr, "export %s: %s\n", name, gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    assert_int_equal(n, expect);
    /* a second export replaces the file instead of appending */
    assert_int_equal(gw_io_export(ctx, s, layer, path, NULL, &n), GW_OK);
    const char *oo[] = {"X_POSSIBLE_NAMES=X", "Y_POSSIBLE_NAMES=Y", "KEEP_GEOM_COLUMNS=NO", NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, strstr(name, ".csv") ? oo : NULL,
                                 NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    assert_int_equal(OGR_L_GetFeatureCount(l, 1), expect);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    gw_cursor *cur;
    assert_int_equal(gw_store_cursor_create(s, layer, &cur), GW_OK);
    gw_row r;
    OGRFeatureH f;
    int64_t k = 0;
    int idf = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "id");
    assert_true(idf >= 0);
    unsigned char buf[1 << 16];
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        assert_int_equal(gw_cursor_next(cur, &r), GW_OK);
        assert_string_equal(OGR_F_GetFieldAsString(f, idf), r.values[0].s);
        OGRGeometryH og = OGR_F_GetGeometryRef(f);
        assert_non_null(og);
        size_t len = OGR_G_WkbSizeEx(og);
        unsigned char *wb = len <= sizeof buf ? buf : malloc(len);
        OGR_G_ExportToIsoWkb(og, wkbNDR, wb);
        GEOSGeometry *back = GEOSWKBReader_read_r(h, rd, wb, len);
        GEOSGeometry *orig = GEOSWKBReader_read_r(h, rd, r.wkb, r.wkb_len);
        if (wb != buf) free(wb);
        double d = -1;
        assert_int_equal(GEOSHausdorffDistance_r(h, back, orig, &d), 1);
        assert_true(d < 1e-9);
        assert_int_equal(GEOSGetNumCoordinates_r(h, back), GEOSGetNumCoordinates_r(h, orig));
        GEOSGeom_destroy_r(h, back);
        GEOSGeom_destroy_r(h, orig);
        OGR_F_Destroy(f);
        k++;
    }
    assert_int_equal(gw_cursor_next(cur, &r), GW_ERR_NOT_FOUND);
    assert_int_equal(k, expect);
    gw_cursor_destroy(cur);
    GEOSWKBReader_destroy_r(h, rd);
    GDALClose(ds);
}

static void test_export_round_trips(void **state)
{
    (void)state;
    gw_store *s = chicago_store();
    static const char *ext[] = {"geojson", "gpkg", "shp", "csv"};
    for (size_t i = 0; i < 4; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "rt_grids.%s", ext[i]);
        snprintf(b, sizeof b, "rt_rooms.%s", ext[i]);
        round_trip(s, GW_LAYER_GRIDS, a, 275);
        round_trip(s, GW_LAYER_POLICE_ROOMS, b, 23);
    }
    assert_int_equal(access(gw_test_path("rt_grids.prj"), R_OK), 0);
    /* and our own exports import again, in every format */
    for (size_t i = 0; i < 4; i++) {
        char name[64], db[64];
        snprintf(name, sizeof name, "rt_grids.%s", ext[i]);
        snprintf(db, sizeof db, "rt_%s.db", ext[i]);
        gw_store *t = new_store(db);
        gw_import_opts o = {.lon_field = "X", .lat_field = "Y"};
        assert_int_equal(import(t, GW_LAYER_GRIDS, gw_test_path(name), &o, NULL), GW_OK);
        assert_int_equal(count(t, GW_LAYER_GRIDS), 275);
        snprintf(name, sizeof name, "rt_rooms.%s", ext[i]);
        assert_int_equal(import(t, GW_LAYER_POLICE_ROOMS, gw_test_path(name), &o, NULL), GW_OK);
        row_copy p = get_row(t, GW_LAYER_POLICE_ROOMS, "1");
        assert_string_equal(p.v[1].s, "Central");
        GEOSGeom_destroy_r(gw_ctx_geos(ctx), p.g);
        gw_store_close(t);
    }
    int64_t n;
    assert_int_equal(gw_io_export(ctx, s, GW_LAYER_GRIDS, gw_test_path("x.dat"), NULL, &n),
                     GW_ERR_UNSUPPORTED);
}

/* ---- bad files: one clear error, nothing changed ----------------------------------------- */

typedef struct {
    int64_t grids, rooms, seq;
} snapshot;

static snapshot snap(gw_store *s)
{
    return (snapshot){count(s, GW_LAYER_GRIDS), count(s, GW_LAYER_POLICE_ROOMS), last_seq(s)};
}

static void expect_refused(gw_store *s, gw_layer layer, const char *path, const gw_import_opts *o,
                           gw_status want, const char *needle)
{
    snapshot before = snap(s);
    gw_status st = gw_io_import(ctx, s, layer, path, o, NULL);
    printf("  %-28s -> %s: %s\n", strrchr(path, '/') + 1, gw_status_str(st), gw_ctx_errmsg(ctx));
    assert_int_equal(st, want);
    if (needle) assert_non_null(strstr(gw_ctx_errmsg(ctx), needle));
    snapshot after = snap(s);
    assert_int_equal(before.grids, after.grids);
    assert_int_equal(before.rooms, after.rooms);
    assert_int_equal(before.seq, after.seq);
}

static const char *bowtie =
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":\"OK1\"},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[-87.5,41.5],[-87.4,41.5],[-87.4,41.6],[-87.5,41.5]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"id\":\"BOW\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[-87.7,41.8],[-87.6,41.9],[-87.6,41.8],[-87.7,41.9],[-87.7,41.8]]]}}]}";

static void test_bad_files_change_nothing(void **state)
{
    (void)state;
    gw_store *s = base_store();
    const char *stations = base_stations();
    gw_import_opts rooms = {.map = "id=district,name=district_name", .replace = 1};

    /* truncated GeoJSON: the first half of the stations file (at most 1500 bytes) */
    FILE *in = fopen(stations, "rb");
    assert_non_null(in);
    char buf[1500];
    size_t got = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    if (got < sizeof buf - 1) got /= 2;
    buf[got] = '\0';
    expect_refused(s, GW_LAYER_POLICE_ROOMS, gw_test_write("truncated.geojson", buf), &rooms,
                   GW_ERR_FORMAT, NULL);

    /* an empty file */
    expect_refused(s, GW_LAYER_POLICE_ROOMS, gw_test_write("empty.geojson", ""), &rooms,
                   GW_ERR_FORMAT, "empty");
    /* a missing file */
    expect_refused(s, GW_LAYER_POLICE_ROOMS, gw_test_path("nosuch.geojson"), &rooms, GW_ERR_IO,
                   "nosuch");

    /* a wrong --source-layer lists the layers there are */
    gw_import_opts wrong = rooms;
    wrong.source_layer = "stations";
    expect_refused(s, GW_LAYER_POLICE_ROOMS, stations, &wrong, GW_ERR_NOT_FOUND, "police_stations");

    /* lon 200 */
    const char *lon200 = gw_test_write(
        "lon200.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"A\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[-87.6,41.8]}},"
        "{\"type\":\"Feature\",\"properties\":{\"id\":\"B\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[200,41.8]}}]}");
    gw_import_opts plain = {.replace = 1};
    expect_refused(s, GW_LAYER_POLICE_ROOMS, lon200, &plain, GW_ERR_RANGE, "lon 200");
    assert_int_equal(gw_ctx_erroffset(ctx), 2); /* row 2 */

    /* a self-intersecting (bow-tie) polygon: the GEOS reason and where */
    const char *bow = gw_test_write("bowtie.geojson", bowtie);
    gw_import_opts grids = {.replace = 1};
    expect_refused(s, GW_LAYER_GRIDS, bow, &grids, GW_ERR_GEOMETRY, "Self-intersection");
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "-87.65 41.85"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "BOW"));

    /* a grid layer given points */
    expect_refused(s, GW_LAYER_GRIDS, lon200, &grids, GW_ERR_GEOMETRY, "Point");

    /* a one-character time (fuzz_csv_import: the fast ISO reader read past its end) */
    const char *short_time = gw_test_write(
        "short_time.csv", "id,occurred_at,category,longitude,latitude\nI1,7,theft,-87.6,41.8\n");
    expect_refused(s, GW_LAYER_INCIDENTS, short_time, &plain, GW_ERR_FORMAT, "'7'");
    /* two longitude columns: GDAL 3.6's CSV reader crashed on them (fuzz_csv_import) */
    const char *two_lon = gw_test_write("two_lon.csv",
                                        "id,longitude,lon,latitude\nR1,-87.6,-87.6,41.8\n");
    expect_refused(s, GW_LAYER_POLICE_ROOMS, two_lon, &plain, GW_ERR_FORMAT, "longitude, lon");

    /* a row with no geometry */
    const char *nogeom = gw_test_write("nogeom.csv", "id,longitude,latitude\nA,-87.6,41.8\nB,,\n");
    expect_refused(s, GW_LAYER_POLICE_ROOMS, nogeom, &plain, GW_ERR_GEOMETRY, "row 2");
    gw_import_opts skip = {.replace = 0, .skip_bad_rows = 1};
    gw_store *t = new_store(real_group ? "skip_real.db" : "skip.db");
    gw_import_report r;
    assert_int_equal(import(t, GW_LAYER_POLICE_ROOMS, nogeom, &skip, &r), GW_OK);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(r.imported, 1);
    gw_store_close(t);

    /* a bad number names the row and the field */
    const char *badfov = gw_test_write(
        "badfov.csv", "id,fov,longitude,latitude\nC1,90,-87.6,41.8\nC2,wide,-87.6,41.8\n");
    expect_refused(s, GW_LAYER_CAMERAS, badfov, &plain, GW_ERR_FORMAT,
                   "row 2 (id 'C2'): field fov");

    /* a duplicate id on a point layer */
    const char *dup = gw_test_write(
        "dup.csv", "id,longitude,latitude\nD1,-87.6,41.8\nD2,-87.6,41.8\nD1,-87.5,41.7\n");
    expect_refused(s, GW_LAYER_POLICE_ROOMS, dup, &plain, GW_ERR_CONFLICT, "'D1'");

    /* an export to a format that has no driver */
    int64_t n = -1;
    assert_int_equal(gw_io_export(ctx, s, GW_LAYER_GRIDS, gw_test_path("x.dat"), NULL, &n),
                     GW_ERR_UNSUPPORTED);
}

static void test_make_valid_repairs_bowtie(void **state)
{
    (void)state;
    gw_store *s = new_store("bow.db");
    gw_import_opts o = {.make_valid = 1};
    gw_import_report r;
    assert_int_equal(import(s, GW_LAYER_GRIDS, gw_test_write("bowtie2.geojson", bowtie), &o, &r),
                     GW_OK);
    assert_int_equal(r.repaired, 1);
    assert_int_equal(count(s, GW_LAYER_GRIDS), 2);
    row_copy g = get_row(s, GW_LAYER_GRIDS, "BOW");
    assert_true(g.found);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    assert_int_equal(GEOSisValid_r(h, g.g), 1);
    assert_int_equal(GEOSGetNumGeometries_r(h, g.g), 2); /* two triangles */
    double a = 0;
    GEOSArea_r(h, g.g, &a);
    assert_true(fabs(a - 0.005) < 1e-9);
    GEOSGeom_destroy_r(h, g.g);
    gw_store_close(s);
}

/* A shapefile with no .prj, written by OGR with Illinois East state-plane (ft) coordinates. */
static const char *write_shp_without_prj(void)
{
    const char *path = gw_test_path("noprj.shp");
    GDALDriverH drv = GDALGetDriverByName("ESRI Shapefile");
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetCreateLayer(ds, "noprj", NULL, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("id", OFTString);
    OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    OGR_F_SetFieldString(f, 0, "P1");
    OGRGeometryH g = NULL;
    char wkt[] = "POLYGON ((1176000 1900000,1177000 1900000,1177000 1901000,1176000 1900000))";
    char *p = wkt;
    OGR_G_CreateFromWkt(&p, NULL, &g);
    OGR_F_SetGeometryDirectly(f, g);
    assert_int_equal(OGR_L_CreateFeature(l, f), OGRERR_NONE);
    OGR_F_Destroy(f);
    GDALClose(ds);
    assert_int_not_equal(access(gw_test_path("noprj.prj"), F_OK), 0);
    return path;
}

static void test_shp_without_prj(void **state)
{
    (void)state;
    gw_store *s = base_store();
    gw_test_clear_warnings();
    gw_import_opts o = {.replace = 1};
    expect_refused(s, GW_LAYER_GRIDS, write_shp_without_prj(), &o, GW_ERR_CRS, "no .prj");
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "--srs"));
    assert_non_null(strstr(gw_test_warnings(), "no .prj"));
    /* given its CRS, it imports */
    gw_store *t = new_store(real_group ? "noprj_real.db" : "noprj.db");
    o.srs = "EPSG:3435";
    assert_int_equal(import(t, GW_LAYER_GRIDS, gw_test_path("noprj.shp"), &o, NULL), GW_OK);
    gw_bbox e;
    assert_int_equal(gw_store_extent(t, GW_LAYER_GRIDS, &e), GW_OK);
    assert_true(e.minx > -88 && e.maxx < -87 && e.miny > 41.8 && e.maxy < 42);
    gw_store_close(t);
}

static void test_swapped_lat_lon(void **state)
{
    (void)state;
    gw_store *s = base_store();
    gw_import_opts o = {.replace = 1};
    gw_import_report r;
    /* Heze points with the columns swapped: latitude 115 is out of range, swapped it is fine */
    const char *h = gw_test_write("swapped_heze.csv",
                                  "id,longitude,latitude\nH1,35.24,115.47\nH2,35.28,115.46\n");
    snapshot before = snap(s);
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_POLICE_ROOMS, h, &o, &r), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "lat/lon swapped"));
    assert_int_equal(r.swapped, 2);
    assert_int_equal(snap(s).rooms, before.rooms);
    /* Chicago stations swapped: every point is valid alone (41.86, -87.63 is in Antarctica) */
    const char *c = gw_test_write("swapped_chicago.csv",
                                  "id,longitude,latitude\n1,41.858373,-87.627356\n"
                                  "2,41.801811,-87.630560\n3,41.766431,-87.605748\n");
    expect_refused(s, GW_LAYER_POLICE_ROOMS, c, &o, GW_ERR_RANGE, "lat/lon swapped");
}

static void test_kml_points(void **state)
{
    (void)state;
    gw_store *s = new_store("kml.db");
    const char *k = gw_test_write(
        "rooms.kml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>"
        "<Placemark><name>R1</name><description>North room</description><Point><coordinates>-87.60,41.80,0</coordinates></Point></Placemark>"
        "<Placemark><name>R2</name><description>South room</description><Point><coordinates>-87.61,41.70,0</coordinates></Point></Placemark>"
        "</Document></kml>");
    gw_import_opts o = {.map = "id=Name,address=description"};
    assert_int_equal(import(s, GW_LAYER_POLICE_ROOMS, k, &o, NULL), GW_OK);
    assert_int_equal(count(s, GW_LAYER_POLICE_ROOMS), 2);
    row_copy p = get_row(s, GW_LAYER_POLICE_ROOMS, "R2");
    assert_string_equal(p.v[3].s, "South room");
    double y;
    GEOSGeomGetY_r(gw_ctx_geos(ctx), p.g, &y);
    assert_true(fabs(y - 41.70) < 1e-12);
    GEOSGeom_destroy_r(gw_ctx_geos(ctx), p.g);
    gw_store_close(s);
}

/* CAD grids: a DXF with a hatch (read as a Polygon) and a closed polyline (read as a LineString). */
static void test_dxf_grids(void **state)
{
    (void)state;
    const char *path = gw_test_path("grids.dxf");
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("DXF"), path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetCreateLayer(ds, "entities", NULL, wkbUnknown, NULL);
    static const char *wkts[] = {"POLYGON ((-87.7 41.8,-87.6 41.8,-87.6 41.9,-87.7 41.8))",
                                 "LINESTRING (-87.5 41.8,-87.4 41.8,-87.4 41.9,-87.5 41.8)"};
    for (int i = 0; i < 2; i++) {
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
        OGRGeometryH g = NULL;
        char *w = (char *)wkts[i];
        assert_int_equal(OGR_G_CreateFromWkt(&w, NULL, &g), OGRERR_NONE);
        OGR_F_SetGeometryDirectly(f, g);
        assert_int_equal(OGR_L_CreateFeature(l, f), OGRERR_NONE);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    gw_store *s = new_store("dxf.db");
    gw_import_opts o = {.map = "id=EntityHandle"};
    gw_import_report r;
    assert_int_equal(import(s, GW_LAYER_GRIDS, path, &o, &r), GW_OK);
    assert_int_equal(r.imported, 2);
    gw_bbox e;
    assert_int_equal(gw_store_extent(s, GW_LAYER_GRIDS, &e), GW_OK);
    assert_true(fabs(e.minx - -87.7) < 1e-9 && fabs(e.maxx - -87.4) < 1e-9);
    gw_store_close(s);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    ctx = gw_test_ctx();
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_store_close(chicago);
    gw_store_close(small);
    gw_ctx_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    /* needs no real data: every error path on fixtures written here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_errors),
        cmocka_unit_test(test_summer_time_offset),
        cmocka_unit_test(test_incident_police_room),
        cmocka_unit_test(test_bad_files_change_nothing),
        cmocka_unit_test(test_make_valid_repairs_bowtie),
        cmocka_unit_test(test_shp_without_prj),
        cmocka_unit_test(test_swapped_lat_lon),
        cmocka_unit_test(test_kml_points),
        cmocka_unit_test(test_dxf_grids),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_beats_as_grids),
        cmocka_unit_test(test_stations_as_police_rooms),
        cmocka_unit_test(test_map_errors),
        cmocka_unit_test(test_crimes_as_incidents),
        cmocka_unit_test(test_cctv_cameras_defaults),
        cmocka_unit_test(test_heze_gcj02_matches_wgs84),
        cmocka_unit_test(test_export_round_trips),
        cmocka_unit_test(test_bad_files_change_nothing),
        cmocka_unit_test(test_shp_without_prj),
        cmocka_unit_test(test_swapped_lat_lon),
    };
    static const char *const needs[] = {"chicago/police_beats.geojson",
                                        "chicago/police_stations.geojson",
                                        "chicago/police_stations.csv",
                                        "chicago/crimes_2018H1.csv",
                                        "baltimore/cctv_cameras.geojson",
                                        "heze/heze_371700_counties_gcj02.geojson",
                                        "heze/heze_371700_counties_wgs84.geojson",
                                        NULL};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("io", tests, setup, teardown);
    if (strcmp(group, "--real") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_real(needs)) return GW_TEST_SKIPPED;
    real_group = 1;
    return cmocka_run_group_tests_name("io_real", real, setup, teardown);
}
