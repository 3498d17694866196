/* test_coverage.c — the coverage engine on hand-made cases with known answers (quarter disc,
 * overlapping and opposite cameras, a view across two grids, a camera outside every grid, a
 * dome, zero range, offline, incidents seen, police-room reach), the sector polygon's area
 * against the true sector, the incremental update against a full recompute on a small city,
 * and the stored rows.  Hand cases are laid out in the metric CRS and written in lon/lat
 * through the inverse transform, so the model maps them back onto the exact metric shapes. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/store_coverage.h"

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
/* Relative comparison. */
#define assert_rel(a, b, rel)                                                                      \
    near_((double)(a), (double)(b), (rel)*fabs((double)(b)), __FILE__, __LINE__)

/* Area of the polygon of n sector segments of `step` degrees, radius r (triangles from the apex). */
static double fan_area(int n, double step, double r)
{
    return n * 0.5 * r * r * sin(step * M_PI / 180);
}

/* ---- a hand-made dataset in metric coordinates ---- */
typedef struct hand {
    gw_ctx *ctx;
    gw_store *store;
    gw_crs_transform *to_ll;
    double X0, Y0;
    int srid;
    gw_model *model;
    gw_coverage *cov;
} hand;

static void hand_open(hand *H, const char *name)
{
    memset(H, 0, sizeof *H);
    H->ctx = gw_test_ctx();
    assert_int_equal(gw_store_open(H->ctx, gw_test_db(name), GW_STORE_CREATE, &H->store), GW_OK);
    H->srid = gw_crs_metric_for(115.5, 35.2);
    assert_int_equal(gw_store_set_metric_srid(H->store, H->srid), GW_OK);
    gw_crs m = {GW_CRS_EPSG, H->srid}, ll = {GW_CRS_EPSG, 4326};
    assert_int_equal(gw_crs_transform_create(H->ctx, ll, m, &H->to_ll), GW_OK);
    double x = 115.5, y = 35.2;
    assert_int_equal(gw_crs_transform_points(H->to_ll, &x, &y, 1), GW_OK);
    gw_crs_transform_destroy(H->to_ll);
    assert_int_equal(gw_crs_transform_create(H->ctx, m, ll, &H->to_ll), GW_OK);
    H->X0 = round(x / 1000) * 1000, H->Y0 = round(y / 1000) * 1000;
}

static void hand_close(hand *H)
{
    gw_coverage_destroy(H->ctx, H->cov);
    gw_model_close(H->model);
    gw_crs_transform_destroy(H->to_ll);
    gw_store_close(H->store);
    gw_ctx_destroy(H->ctx);
}

static void ll(hand *H, double x, double y, double *lon, double *lat)
{
    *lon = H->X0 + x, *lat = H->Y0 + y;
    assert_int_equal(gw_crs_transform_points(H->to_ll, lon, lat, 1), GW_OK);
}

static void insert(hand *H, gw_layer layer, const char *json)
{
    gw_edit_result r = {0};
    gw_edit_opts o = {.layout = 1}; /* the test builds its layout grid by grid */
    gw_status st = gw_edit_insert(H->store, layer, json, strlen(json), &o, &r);
    if (st) print_error("%s\n", gw_ctx_errmsg(H->ctx));
    assert_int_equal(st, GW_OK);
    gw_edit_result_free(&r);
}

/* Square grid [x0, x1] x [y0, y1] relative to (X0, Y0). */
static void add_grid(hand *H, const char *id, double x0, double y0, double x1, double y1)
{
    double p[5][2] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}};
    char json[1024];
    int k = snprintf(json, sizeof json,
                     "{\"type\":\"Feature\",\"id\":\"%s\",\"properties\":{},"
                     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[",
                     id);
    for (int i = 0; i < 5; i++) {
        double lon, lat;
        ll(H, p[i][0], p[i][1], &lon, &lat);
        k += snprintf(json + k, sizeof json - (size_t)k, "%s[%.13f,%.13f]", i ? "," : "", lon, lat);
    }
    snprintf(json + k, sizeof json - (size_t)k, "]]}}");
    insert(H, GW_LAYER_GRIDS, json);
}

/* A camera whose view, drawn in the metric CRS, has grid azimuth `az` and metric range `rg`:
 * stored with the true azimuth (az + the convergence there) and the ground range (rg / the
 * scale there), which the coverage engine turns back (test_true_bearings checks that turn
 * against geodesics). */
static void add_cam(hand *H, const char *id, double x, double y, double az, double fov, double rg,
                    const char *status)
{
    double lon, lat, conv = 0, k = 1;
    ll(H, x, y, &lon, &lat);
    gw_crs_factors *f = NULL;
    assert_int_equal(gw_crs_factors_create(H->ctx, (gw_crs){GW_CRS_EPSG, H->srid}, &f), GW_OK);
    assert_int_equal(gw_crs_factors_at(f, lon, lat, &conv, &k), GW_OK);
    gw_crs_factors_destroy(f);
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"properties\":{\"azimuth\":%.17g,"
             "\"fov\":%.17g,\"range\":%.17g,\"status\":\"%s\"},\"geometry\":{\"type\":"
             "\"Point\",\"coordinates\":[%.13f,%.13f]}}",
             id, az + conv, fov, rg / k, status, lon, lat);
    insert(H, GW_LAYER_CAMERAS, json);
}

static void add_point(hand *H, gw_layer layer, const char *id, double x, double y,
                      const char *props)
{
    double lon, lat;
    ll(H, x, y, &lon, &lat);
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"properties\":{%s},\"geometry\":"
             "{\"type\":\"Point\",\"coordinates\":[%.13f,%.13f]}}",
             id, props, lon, lat);
    insert(H, layer, json);
}

static void hand_compute(hand *H, const gw_coverage_opts *o)
{
    if (!H->model) assert_int_equal(gw_model_open(H->ctx, H->store, &H->model), GW_OK);
    gw_coverage_destroy(H->ctx, H->cov);
    H->cov = NULL;
    gw_status st = gw_coverage_compute(H->ctx, H->model, gw_model_acquire(H->model), o, &H->cov);
    if (st) print_error("%s\n", gw_ctx_errmsg(H->ctx));
    assert_int_equal(st, GW_OK);
}

static const gw_coverage_row *row_of(hand *H, const char *id)
{
    size_t r = 0;
    assert_int_equal(gw_coverage_find(H->cov, id, &r), GW_OK);
    const gw_coverage_row *row = gw_coverage_row_at(H->cov, r);
    assert_non_null(row);
    return row;
}

/* ---- tests ---- */

static void test_sector_area(void **state)
{
    (void)state;
    double xy[2 * 184];
    const double fovs[] = {1, 7.5, 40, 60, 90, 120, 179, 180, 270, 359, 360, 400};
    for (size_t i = 0; i < sizeof fovs / sizeof fovs[0]; i++) {
        double f = fovs[i], r = 150;
        size_t n = gw_coverage_sector(1000, 2000, 33, f, r, xy, 184);
        assert_true(n >= 4);
        assert_near(xy[0], xy[2 * (n - 1)], 0);
        assert_near(xy[1], xy[2 * (n - 1) + 1], 0);
        double a = 0;
        for (size_t k = 0; k + 1 < n; k++)
            a += xy[2 * k] * xy[2 * k + 3] - xy[2 * k + 2] * xy[2 * k + 1];
        a = fabs(a) / 2;
        double fe = f >= 360 ? 360 : f, exact = fe / 360 * M_PI * r * r;
        /* Chord error of 3° segments: 1 - sin(θ)/θ ≈ θ²/6 = 0.0457 %, under the 0.1 %. */
        assert_true(fabs(a - exact) / exact < 0.001);
        assert_true(fabs(a - exact) / exact < 0.00046);
        assert_true(a < exact);
        assert_rel(a, fan_area((int)ceil(fe / 3), fe / ceil(fe / 3), r), 1e-8);
    }
    assert_int_equal(gw_coverage_sector(0, 0, 0, 90, 0, xy, 184), 0);
    assert_int_equal(gw_coverage_sector(0, 0, 0, 0, 100, xy, 184), 0);
    assert_int_equal(gw_coverage_sector(0, 0, 0, 90, 100, xy, 10), 0);
    /* Point tests: azimuth 90 (east), fov 90, range 100. */
    assert_true(gw_coverage_sector_contains(0, 0, 90, 90, 100, 50, 0));
    assert_true(gw_coverage_sector_contains(0, 0, 90, 90, 100, 50, 40));
    assert_false(gw_coverage_sector_contains(0, 0, 90, 90, 100, 50, 60));
    assert_false(gw_coverage_sector_contains(0, 0, 90, 90, 100, -50, 0));
    assert_false(gw_coverage_sector_contains(0, 0, 90, 90, 100, 101, 0));
    /* Between the chord and the arc: outside the polygon. */
    double t = 1.5 * M_PI / 180 + M_PI / 2 - 45 * M_PI / 180; /* mid-segment bearing */
    assert_false(gw_coverage_sector_contains(0, 0, 90, 90, 100, 99.999 * sin(t), 99.999 * cos(t)));
    assert_true(gw_coverage_sector_contains(0, 0, 90, 90, 100, 99.9 * sin(t), 99.9 * cos(t)));
    assert_true(gw_coverage_sector_contains(0, 0, 0, 360, 100, -70, -70));
    /* Wrap-around: azimuth 0, fov 60 covers bearings 330..30. */
    assert_true(gw_coverage_sector_contains(0, 0, 0, 60, 100, -10, 50));
    assert_true(gw_coverage_sector_contains(0, 0, 350, 60, 100, 10, 50));
}

/* One camera at the corner of a 400 m square pointing inward: a quarter disc. */
static void test_quarter_disc(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "quarter.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_cam(&H, "C1", 0, 0, 45, 90, 200, "online");
    gw_coverage_opts o = {.min_blind_m2 = 100, .blind_spots = 1};
    hand_compute(&H, &o);
    const gw_coverage_row *r = row_of(&H, "A");
    double quarter = fan_area(30, 3, 200);
    assert_rel(r->grid_m2, 160000, 1e-8);
    assert_rel(r->covered_m2, quarter, 1e-7);
    assert_true(fabs(r->covered_m2 - M_PI * 200 * 200 / 4) / (M_PI * 200 * 200 / 4) < 0.0005);
    assert_rel(r->ratio, quarter / 160000, 1e-7);
    assert_int_equal(r->cameras, 1);
    assert_rel(r->blind_m2, r->grid_m2 - r->covered_m2, 1e-7);
    assert_int_equal(r->blind_parts, -1); /* built on request */
    assert_false(gw_coverage_blind_cached(H.cov, 0));
    gw_coverage_blind_spots bs;
    assert_int_equal(gw_coverage_blind(H.ctx, H.cov, 0, &bs), GW_OK);
    assert_true(gw_coverage_blind_cached(H.cov, 0));
    assert_int_equal(bs.parts, 1);
    assert_non_null(bs.wkb);
    assert_true(bs.len > 0);
    assert_rel(bs.kept_m2, r->blind_m2, 1e-7);
    /* The dispatcher's question: a point inside the view, one outside. */
    gw_model_snapshot *snap = gw_coverage_snapshot(H.cov);
    const gw_layer_data *cams = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    double cx = gw_layer_data_x(cams, GW_MODEL_METRIC)[0],
           cy = gw_layer_data_y(cams, GW_MODEL_METRIC)[0];
    size_t rows[4];
    double d[4];
    assert_int_equal(gw_coverage_cameras_at(snap, cx + 60, cy + 80, rows, d, 4), 1);
    assert_int_equal(rows[0], 0);
    assert_near(d[0], 100, 1e-6);
    assert_int_equal(gw_coverage_cameras_at(snap, cx + 300, cy + 300, rows, d, 4), 0);
    hand_close(&H);
}

/* Two identical cameras: the same area; two opposite half discs: the whole disc; a dome. */
static void test_overlaps(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "overlap.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_grid(&H, "B", 1000, 0, 1400, 400);
    add_grid(&H, "D", 2000, 0, 2400, 400);
    add_cam(&H, "C1", 100, 100, 30, 60, 80, "online");
    add_cam(&H, "C2", 100, 100, 30, 60, 80, "online");
    add_cam(&H, "C3", 1200, 200, 0, 180, 100, "online");
    add_cam(&H, "C4", 1200, 200, 180, 180, 100, "online");
    add_cam(&H, "C5", 2200, 200, 77, 360, 120, "online");
    hand_compute(&H, NULL);
    const gw_coverage_row *a = row_of(&H, "A"), *b = row_of(&H, "B"), *d = row_of(&H, "D");
    assert_rel(a->covered_m2, fan_area(20, 3, 80), 1e-7);
    assert_int_equal(a->cameras, 2);
    assert_rel(b->covered_m2, fan_area(120, 3, 100), 1e-7);
    assert_int_equal(b->cameras, 2);
    assert_rel(d->covered_m2, fan_area(120, 3, 120), 1e-7);
    assert_true(fabs(d->covered_m2 - M_PI * 120 * 120) / (M_PI * 120 * 120) < 0.0005);
    assert_int_equal(d->cameras, 1);
    hand_close(&H);
}

/* A view across two grids splits its area; a camera outside every grid counts where it
 * reaches; zero range and offline cameras count nowhere. */
static void test_split_outside_nothing(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "split.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_grid(&H, "B", 400, 0, 800, 400);
    add_cam(&H, "C1", 350, 200, 90, 60, 150, "online");  /* crosses x = 400 */
    add_cam(&H, "C2", -100, 300, 90, 40, 150, "online"); /* outside, reaches 50 m into A */
    add_cam(&H, "C3", 600, 200, 0, 90, 0, "online");     /* zero range */
    add_cam(&H, "C4", 600, 100, 0, 90, 100, "offline");
    add_cam(&H, "C5", 2000, 2000, 0, 360, 100, "online"); /* far from every grid */
    hand_compute(&H, NULL);
    const gw_coverage_row *a = row_of(&H, "A"), *b = row_of(&H, "B");
    /* The part of C2's sector beyond x = 0, from GEOS on the same polygon. */
    gw_model_snapshot *snap = gw_coverage_snapshot(H.cov);
    const gw_layer_data *cams = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    GEOSContextHandle_t h = gw_ctx_geos(H.ctx);
    double xy[2 * 184];
    size_t n = gw_coverage_sector(gw_layer_data_x(cams, GW_MODEL_METRIC)[1],
                                  gw_layer_data_y(cams, GW_MODEL_METRIC)[1], 90, 40, 150, xy, 184);
    GEOSGeometry *v = GEOSGeom_createPolygon_r(
        h, GEOSGeom_createLinearRing_r(h, GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0)),
        NULL, 0);
    GEOSGeometry *in = GEOSIntersection_r(h, v, gw_layer_data_geom(grids, 0, GW_MODEL_METRIC));
    double part = 0;
    GEOSArea_r(h, in, &part);
    GEOSGeom_destroy_r(h, in), GEOSGeom_destroy_r(h, v);
    assert_true(part > 100 && part < fan_area(14, 40.0 / 14, 150));
    double c1 = fan_area(20, 3, 150);
    /* C1's split: A's share is C1's part west of x = 400 plus C2's part; B has the rest of C1. */
    assert_rel(a->covered_m2 + b->covered_m2, c1 + part, 1e-7);
    assert_true(b->covered_m2 > 0 && b->covered_m2 < c1);
    assert_int_equal(a->cameras, 2);
    assert_int_equal(b->cameras, 1);
    /* B alone: only C1's part east of x = 400 (C3 zero range, C4 offline contribute nothing). */
    assert_rel(b->ratio, b->covered_m2 / 160000, 1e-9);
    hand_close(&H);
}

/* Incidents seen, a time window, and police-room reach. */
static void test_incidents_rooms(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "inc.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_grid(&H, "B", 400, 0, 800, 400);
    add_cam(&H, "C1", 0, 0, 45, 90, 200, "online");
    add_point(&H, GW_LAYER_INCIDENTS, "I1", 50, 50, "\"occurred_at\":\"2025-01-01T10:00:00Z\"");
    add_point(&H, GW_LAYER_INCIDENTS, "I2", 100, 20, "\"occurred_at\":\"2025-02-01T10:00:00Z\"");
    add_point(&H, GW_LAYER_INCIDENTS, "I3", 300, 300, "\"occurred_at\":\"2025-03-01T10:00:00Z\"");
    add_point(&H, GW_LAYER_INCIDENTS, "I4", 600, 300, "\"occurred_at\":\"2025-03-01T10:00:00Z\"");
    add_point(&H, GW_LAYER_POLICE_ROOMS, "R1", 0, 0, "\"name\":\"corner\"");
    gw_coverage_opts o = {.room_dist_m = 300, .blind_spots = 1};
    hand_compute(&H, &o);
    const gw_coverage_row *a = row_of(&H, "A"), *b = row_of(&H, "B");
    assert_int_equal(a->incidents, 3);
    assert_int_equal(a->seen, 2);
    assert_near(a->incident_share, 2.0 / 3, 1e-12);
    assert_int_equal(b->incidents, 1);
    assert_int_equal(b->seen, 0);
    assert_near(b->incident_share, 0, 0);
    /* Room at A's corner, 300 m: a quarter of the 120-segment disc polygon. */
    assert_rel(a->room_m2, fan_area(30, 3, 300), 1e-7);
    assert_rel(a->room_reach, fan_area(30, 3, 300) / 160000, 1e-7);
    assert_near(b->room_reach, 0, 0);
    /* Another window without recomputing: February only. */
    int32_t inc[2], seen[2];
    int64_t t0, t1;
    assert_int_equal(gw_time_parse(H.ctx, "2025-02-01", NULL, &t0), GW_OK);
    assert_int_equal(gw_time_parse(H.ctx, "2025-03-01", NULL, &t1), GW_OK);
    gw_coverage_incidents(H.cov, t0, t1, inc, seen);
    size_t ra = 0;
    assert_int_equal(gw_coverage_find(H.cov, "A", &ra), GW_OK);
    assert_int_equal(inc[ra], 1);
    assert_int_equal(seen[ra], 1);
    /* With a window in the options. */
    gw_coverage_opts o2 = {.t_from = t0, .t_to = t1, .room_dist_m = 2000};
    hand_compute(&H, &o2);
    a = row_of(&H, "A"), b = row_of(&H, "B");
    assert_int_equal(a->incidents, 1);
    assert_int_equal(b->incidents, 0);
    assert_true(isnan(b->incident_share));
    /* 2000 m reach from the corner covers both squares entirely. */
    assert_near(a->room_reach, 1, 1e-12);
    assert_near(b->room_reach, 1, 1e-12);
    hand_close(&H);
}

/* Blind spots: pieces below the threshold are dropped; with threshold 0 blind = grid − covered. */
static void test_blind_spots(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "blind.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    /* Two domes nearly closing the square's bottom-left corner, leaving a small gap. */
    add_cam(&H, "C1", 200, 200, 0, 360, 150, "online");
    add_cam(&H, "C2", 60, 60, 45, 360, 70, "online");
    gw_coverage_opts o = {.min_blind_m2 = 0, .blind_spots = 1};
    hand_compute(&H, &o);
    const gw_coverage_row *a = row_of(&H, "A");
    assert_rel(a->blind_m2, a->grid_m2 - a->covered_m2, 1e-7);
    gw_coverage_blind_spots bs;
    assert_int_equal(gw_coverage_blind(H.ctx, H.cov, 0, &bs), GW_OK);
    int parts0 = bs.parts;
    assert_true(parts0 >= 2);
    assert_rel(bs.kept_m2, a->blind_m2, 1e-7); /* nothing dropped: the union's area */
    gw_coverage_opts o2 = {.min_blind_m2 = 5000, .blind_spots = 1};
    hand_compute(&H, &o2);
    a = row_of(&H, "A");
    assert_int_equal(gw_coverage_blind(H.ctx, H.cov, 0, &bs), GW_OK);
    assert_true(bs.parts < parts0);
    assert_true(bs.kept_m2 < a->grid_m2 - a->covered_m2);
    assert_rel(a->blind_m2, a->grid_m2 - a->covered_m2, 1e-7); /* the row: before dropping */
    gw_bbox world = {-2e7, -2e7, 2e7, 2e7};
    assert_int_equal(gw_coverage_blind_3857(H.ctx, H.cov, &world, NULL, NULL), GW_ERR_ARG);
    hand_close(&H);
}

/* The per-grid shortcuts: views are unioned per group of overlapping envelopes (a lone view
 * needs no union), a view inside another's changes nothing, a dome on the border between two
 * grids splits in halves, a view only touching a grid does not count there.  The figures are
 * the same with and without blind spots (two code paths for the covered area). */
static void test_groups(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "groups.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_grid(&H, "B", 400, 0, 800, 400);
    add_cam(&H, "C1", 200, 200, 0, 360, 100, "online"); /* dome inside A */
    add_cam(&H, "C2", 200, 200, 0, 60, 50, "online");   /* inside C1: adds nothing */
    add_cam(&H, "C3", 50, 350, 90, 30, 40, "online");   /* alone: its own group */
    add_cam(&H, "C4", 400, 100, 0, 360, 50, "online");  /* dome halved by x = 400 */
    add_cam(&H, "C5", 400, 300, 90, 180, 60, "online"); /* all in B, touches A along x = 400 */
    double wa = fan_area(120, 3, 100) + fan_area(10, 3, 40) + fan_area(60, 3, 50);
    double wb = fan_area(60, 3, 50) + fan_area(60, 3, 60);
    for (int blind = 0; blind < 2; blind++) {
        gw_coverage_opts o = {.min_blind_m2 = 0, .blind_spots = blind};
        hand_compute(&H, &o);
        const gw_coverage_row *a = row_of(&H, "A"), *b = row_of(&H, "B");
        assert_rel(a->covered_m2, wa, 1e-9);
        assert_rel(a->ratio, wa / 160000, 1e-9);
        assert_int_equal(a->cameras, 4);
        assert_rel(b->covered_m2, wb, 1e-9);
        assert_int_equal(b->cameras, 2);
        assert_rel(a->blind_m2, 160000 - wa, 1e-9);
        assert_rel(b->blind_m2, 160000 - wb, 1e-9);
        gw_coverage_blind_spots bs;
        assert_int_equal(gw_coverage_blind(H.ctx, H.cov, 0, &bs), GW_OK);
        assert_int_equal(bs.parts, 1);
        assert_rel(bs.kept_m2, 160000 - wa, 1e-9);
    }
    hand_close(&H);
}

static int count_geom(void *user, size_t row, const char *id, GEOSGeometry *g)
{
    assert_string_equal(id, "A");
    void **u = user;
    (*(int *)u[0])++;
    double x0 = 0;
    GEOSGeom_getXMin_r(u[1], g, &x0);
    *(double *)u[2] = x0;
    GEOSGeom_destroy_r(u[1], g);
    return 0;
}

static void test_blind_tiles_and_store(void **state)
{
    (void)state;
    hand H;
    hand_open(&H, "tiles.db");
    add_grid(&H, "A", 0, 0, 400, 400);
    add_cam(&H, "C1", 0, 0, 45, 90, 200, "online");
    gw_coverage_opts o = {.blind_spots = 1};
    hand_compute(&H, &o);
    int n = 0;
    double x0 = 0;
    void *u[3] = {&n, gw_ctx_geos(H.ctx), &x0};
    gw_bbox world = {-2e7, -2e7, 2e7, 2e7}, none = {0, 0, 1, 1};
    assert_int_equal(gw_coverage_blind_3857(H.ctx, H.cov, &world, count_geom, u), GW_OK);
    assert_int_equal(n, 1);
    assert_true(x0 > 1.2e7 && x0 < 1.3e7); /* 115.5 E in Web Mercator metres */
    n = 0;
    assert_int_equal(gw_coverage_blind_3857(H.ctx, H.cov, &none, count_geom, u), GW_OK);
    assert_int_equal(n, 0);
    /* Stored rows carry the seq and the figures. */
    assert_int_equal(gw_coverage_save(H.ctx, H.cov, H.store, NULL), GW_OK);
    gw_coverage_row r;
    int64_t seq = -1;
    assert_int_equal(gw_coverage_load_row(H.ctx, H.store, "A", &r, &seq), GW_OK);
    assert_int_equal(seq, gw_coverage_seq(H.cov));
    assert_true(seq > 0);
    assert_near(r.covered_m2, row_of(&H, "A")->covered_m2, 1e-9);
    assert_int_equal(r.cameras, 1);
    assert_true(isnan(r.incident_share));
    assert_int_equal(gw_coverage_load_row(H.ctx, H.store, "nope", &r, NULL), GW_ERR_NOT_FOUND);
    hand_close(&H);
}

static void rows_equal(const gw_coverage *a, const gw_coverage *b)
{
    assert_int_equal(gw_coverage_count(a), gw_coverage_count(b));
    for (size_t g = 0; g < gw_coverage_count(a); g++) {
        const gw_coverage_row *x = gw_coverage_row_at(a, g), *y = gw_coverage_row_at(b, g);
        assert_near(x->covered_m2, y->covered_m2, 1e-6);
        assert_near(x->room_m2, y->room_m2, 1e-6);
        assert_near(x->blind_m2, y->blind_m2, 1e-6);
        assert_int_equal(x->cameras, y->cameras);
        assert_int_equal(x->incidents, y->incidents);
        assert_int_equal(x->seen, y->seen);
        assert_int_equal(x->blind_parts, y->blind_parts);
    }
}

/* Move, re-aim and switch off cameras, move a police room: the update equals a recompute. */
static void test_incremental(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *store = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("city.db"), GW_STORE_CREATE, &store), GW_OK);
    gw_city_opts co = {.scale = 0.01, .seed = 7};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, store, &co, &rep), GW_OK);
    gw_model *model = NULL;
    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    gw_coverage *cov = NULL;
    gw_coverage_opts o = {.blind_spots = 1};
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov), GW_OK);
    size_t n = gw_coverage_count(cov);
    assert_true(n > 50);
    double sum = 0;
    for (size_t g = 0; g < n; g++) sum += gw_coverage_row_at(cov, g)->ratio;
    assert_true(sum > 0);
    gw_model_snapshot *s0 = gw_coverage_snapshot(cov);
    const gw_layer_data *cams = gw_snapshot_layer(s0, GW_LAYER_CAMERAS);
    /* Copies: the snapshot goes away with the first update. */
    double lon[8], lat[8];
    char id0[64], id1[64], id2[64], room0[64];
    memcpy(lon, gw_layer_data_x(cams, GW_MODEL_LONLAT), sizeof lon);
    memcpy(lat, gw_layer_data_y(cams, GW_MODEL_LONLAT), sizeof lat);
    snprintf(id0, sizeof id0, "%s", gw_layer_data_id(cams, 0));
    snprintf(id1, sizeof id1, "%s", gw_layer_data_id(cams, 1));
    snprintf(id2, sizeof id2, "%s", gw_layer_data_id(cams, 2));
    snprintf(room0, sizeof room0, "%s",
             gw_layer_data_id(gw_snapshot_layer(s0, GW_LAYER_POLICE_ROOMS), 0));
    gw_edit_result er = {0};
    char json[256];
    /* Camera 0 moves onto camera 7's spot, camera 1 turns round, camera 2 goes offline. */
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"properties\":{\"range\":140},\"geometry\":"
             "{\"type\":\"Point\",\"coordinates\":[%.12f,%.12f]}}",
             lon[7] + 0.0004, lat[7]);
    assert_int_equal(gw_edit_patch(store, GW_LAYER_CAMERAS, id0, json, strlen(json), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
    const char *aim = "{\"type\":\"Feature\",\"properties\":{\"azimuth\":123,\"fov\":360}}";
    assert_int_equal(gw_edit_patch(store, GW_LAYER_CAMERAS, id1, aim, strlen(aim), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
    const char *off = "{\"type\":\"Feature\",\"properties\":{\"status\":\"offline\"}}";
    assert_int_equal(gw_edit_patch(store, GW_LAYER_CAMERAS, id2, off, strlen(off), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[%.12f,%.12f]}}",
             lon[3], lat[3]);
    assert_int_equal(gw_edit_patch(store, GW_LAYER_POLICE_ROOMS, room0, json, strlen(json), NULL,
                                   &er),
                     GW_OK);
    gw_edit_result_free(&er);
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    size_t nch = 0;
    assert_int_equal(gw_coverage_update(ctx, cov, gw_model_acquire(model), &nch), GW_OK);
    assert_true(nch > 0 && nch < n);
    gw_coverage *fresh = NULL;
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &fresh), GW_OK);
    rows_equal(cov, fresh);
    assert_int_equal(gw_coverage_seq(cov), gw_coverage_seq(fresh));
    /* Saving only the changed rows keeps the table equal to the recompute. */
    assert_int_equal(gw_coverage_save(ctx, cov, store, NULL), GW_OK);
    /* A new camera (the row order shifts: the update diffs by id then). */
    snprintf(
        json, sizeof json,
        "{\"type\":\"Feature\",\"id\":\"C000000a\",\"properties\":{\"azimuth\":10,"
        "\"fov\":90,\"range\":120},\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.12f,%.12f]}}",
        lon[4], lat[4]);
    assert_int_equal(gw_edit_insert(store, GW_LAYER_CAMERAS, json, strlen(json), NULL, &er), GW_OK);
    gw_edit_result_free(&er);
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    assert_int_equal(gw_coverage_update(ctx, cov, gw_model_acquire(model), &nch), GW_OK);
    assert_true(nch > 0 && nch < n);
    gw_coverage_destroy(ctx, fresh);
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &fresh), GW_OK);
    rows_equal(cov, fresh);
    /* An incident lands: only the incident counts move. */
    snprintf(json, sizeof json,
             "{\"type\":\"Feature\",\"properties\":{\"occurred_at\":\"2025-05-01T00:00:00Z\"},"
             "\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.12f,%.12f]}}",
             lon[5], lat[5]);
    assert_int_equal(gw_edit_insert(store, GW_LAYER_INCIDENTS, json, strlen(json), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    assert_int_equal(gw_coverage_update(ctx, cov, gw_model_acquire(model), &nch), GW_OK);
    assert_int_equal(nch, 1);
    assert_int_equal(gw_coverage_save(ctx, cov, store, gw_coverage_changed(cov)), GW_OK);
    gw_coverage_destroy(ctx, fresh);
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &fresh), GW_OK);
    rows_equal(cov, fresh);
    gw_coverage_destroy(ctx, fresh);
    gw_coverage_destroy(ctx, cov);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
}

/* The store's coverage rows on their own (store_coverage.h), on either engine: a row with blind
 * spots comes back byte for byte as ISO WKB, NAN share as NAN, rows in grid order by bytes; a
 * row replaces the grid's stored one, replace_all empties the table first; the run's
 * parameters, a window or none. */
typedef struct cov_src {
    const gw_store_coverage_row *rows;
    size_t n, i;
} cov_src;

static int cov_next(void *user, gw_store_coverage_row *out)
{
    cov_src *c = user;
    if (c->i >= c->n) return 0;
    *out = c->rows[c->i++];
    return 1;
}

typedef struct cov_got {
    char grid[4][16];
    gw_store_coverage_row row[4];
    unsigned char blind[4][128];
    size_t n;
} cov_got;

static int cov_take(void *user, const gw_store_coverage_row *r)
{
    cov_got *g = user;
    assert_true(g->n < 4);
    snprintf(g->grid[g->n], sizeof g->grid[g->n], "%s", r->grid);
    g->row[g->n] = *r;
    g->row[g->n].grid = g->grid[g->n];
    if (r->blind) {
        assert_true(r->blind_len <= sizeof g->blind[g->n]);
        memcpy(g->blind[g->n], r->blind, r->blind_len);
        g->row[g->n].blind = g->blind[g->n];
    }
    g->n++;
    return 0;
}

static void test_store_rows(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("rows.db"), GW_STORE_CREATE, &s), GW_OK);
    gw_store_coverage_run run;
    assert_int_equal(gw_store_coverage_run_get(s, &run), GW_ERR_NOT_FOUND);
    /* MULTIPOLYGON(((115 35, 115.001 35, 115.001 35.001, 115 35))), little-endian ISO WKB */
    unsigned char wkb[86];
    size_t k = 0;
    uint32_t t6 = 6, one = 1, t3 = 3, four = 4;
    wkb[k++] = 1, memcpy(wkb + k, &t6, 4), k += 4, memcpy(wkb + k, &one, 4), k += 4;
    wkb[k++] = 1, memcpy(wkb + k, &t3, 4), k += 4, memcpy(wkb + k, &one, 4), k += 4;
    memcpy(wkb + k, &four, 4), k += 4;
    double ring[] = {115, 35, 115.001, 35, 115.001, 35.001, 115, 35};
    memcpy(wkb + k, ring, sizeof ring), k += sizeof ring;
    assert_int_equal(k, sizeof wkb);
    gw_store_coverage_row rows[3] = {
        {.grid = "b",
         .seq = 7,
         .grid_m2 = 1e6 / 3,
         .covered_m2 = 0.1,
         .ratio = 0.3,
         .cameras = 2,
         .incidents = 5,
         .seen = 1,
         .incident_share = 0.2,
         .room_m2 = 3.5,
         .room_reach = 0.25,
         .blind_m2 = 12.125,
         .blind_parts = 1,
         .blind = wkb,
         .blind_len = sizeof wkb},
        {.grid = "B", .seq = 7, .grid_m2 = 4, .incident_share = NAN},
        {.grid = "a", .seq = 7, .grid_m2 = 5, .incident_share = NAN},
    };
    cov_src src = {rows, 3, 0};
    gw_store_coverage_run r0 = {.seq = 7,
                                .metric_srid = 32650,
                                .has_window = 1,
                                .window_from = 1700000000,
                                .window_to = 1800000000,
                                .min_blind_m2 = 100.5,
                                .room_dist_m = 500};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_coverage_write(s, 1, cov_next, &src, &r0), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    cov_got got = {0};
    size_t n = 0;
    assert_int_equal(gw_store_coverage_read(s, NULL, 1, cov_take, &got, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got.grid[0], "B"); /* byte order: upper case first */
    assert_string_equal(got.grid[1], "a");
    assert_string_equal(got.grid[2], "b");
    const gw_store_coverage_row *b = &got.row[2];
    assert_int_equal(b->seq, 7);
    assert_true(b->grid_m2 == 1e6 / 3 && b->covered_m2 == 0.1 && b->ratio == 0.3);
    assert_int_equal(b->cameras, 2);
    assert_int_equal(b->incidents, 5);
    assert_int_equal(b->seen, 1);
    assert_true(b->incident_share == 0.2 && b->room_m2 == 3.5 && b->room_reach == 0.25);
    assert_true(b->blind_m2 == 12.125);
    assert_int_equal(b->blind_parts, 1);
    assert_int_equal(b->blind_len, sizeof wkb);
    assert_memory_equal(b->blind, wkb, sizeof wkb);
    assert_true(isnan(got.row[0].incident_share));
    assert_null(got.row[0].blind);
    /* without blind spots; one grid */
    memset(&got, 0, sizeof got);
    assert_int_equal(gw_store_coverage_read(s, "b", 0, cov_take, &got, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_null(got.row[0].blind);
    assert_int_equal(got.row[0].blind_len, 0);
    assert_int_equal(gw_store_coverage_run_get(s, &run), GW_OK);
    assert_int_equal(run.seq, 7);
    assert_int_equal(run.metric_srid, 32650);
    assert_int_equal(run.has_window, 1);
    assert_int_equal(run.window_from, 1700000000);
    assert_int_equal(run.window_to, 1800000000);
    assert_true(run.min_blind_m2 == 100.5 && run.room_dist_m == 500);
    /* a partial write replaces its grid's row and keeps the others; no window */
    gw_store_coverage_row upd = {.grid = "b", .seq = 9, .grid_m2 = 6, .incident_share = NAN};
    src = (cov_src){&upd, 1, 0};
    gw_store_coverage_run r1 = {.seq = 9, .metric_srid = 32650, .min_blind_m2 = 1};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_coverage_write(s, 0, cov_next, &src, &r1), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    memset(&got, 0, sizeof got);
    assert_int_equal(gw_store_coverage_read(s, NULL, 1, cov_take, &got, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(got.row[2].seq, 9);
    assert_null(got.row[2].blind);
    assert_int_equal(gw_store_coverage_run_get(s, &run), GW_OK);
    assert_int_equal(run.seq, 9);
    assert_int_equal(run.has_window, 0);
    /* replace_all: only the new rows remain */
    src = (cov_src){&upd, 1, 0};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_coverage_write(s, 1, cov_next, &src, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    memset(&got, 0, sizeof got);
    assert_int_equal(gw_store_coverage_read(s, NULL, 1, cov_take, &got, &n), GW_OK);
    assert_int_equal(n, 1);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sector_area),     cmocka_unit_test(test_quarter_disc),
        cmocka_unit_test(test_overlaps),        cmocka_unit_test(test_split_outside_nothing),
        cmocka_unit_test(test_incidents_rooms), cmocka_unit_test(test_blind_spots),
        cmocka_unit_test(test_groups),          cmocka_unit_test(test_blind_tiles_and_store),
        cmocka_unit_test(test_incremental),     cmocka_unit_test(test_store_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
