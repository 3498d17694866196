/* test_dispatch.c — the dispatch engine against brute force on a small synthetic city: locate
 * (grid, rooms, cameras) and nearest teams for 1,000 random points, grid vertices (shared
 * edges), staleness and status filters, position writes (out of order ignored, the table and
 * the store agree, the model never rolls the table back), assignment and its race. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/dispatch.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "test_sql.h"

#include <geodesic.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct geod_geodesic wgs84;
static gw_ctx *ctx;
static gw_store *store;
static gw_model *model;
static gw_dispatch *disp;
static int64_t t_end; /* newest team updated_at + 1: "now" for the tests */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int setup(void **state)
{
    (void)state;
    geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
    ctx = gw_test_ctx();
    assert_int_equal(gw_store_open(ctx, gw_test_db("city.sqlite"), GW_STORE_CREATE, &store), GW_OK);
    gw_city_opts o = {.scale = 0.03, .seed = 7};
    assert_int_equal(gw_city_generate(ctx, store, &o, NULL), GW_OK);
    assert_int_equal(gw_model_open(ctx, store, &model), GW_OK);
    gw_dispatch_opts dop = {.stale_s = 600};
    assert_int_equal(gw_dispatch_create(ctx, model, &dop, &disp), GW_OK);
    assert_int_equal(gw_dispatch_stale_s(disp), 600);
    gw_model_snapshot *s = gw_model_acquire(model);
    const gw_layer_data *T = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    const int64_t *up = gw_layer_data_ints(T, gw_layer_field_index(GW_LAYER_TEAMS, "updated_at"));
    for (size_t r = 0; r < gw_layer_data_count(T); r++)
        if (up[r] + 1 > t_end) t_end = up[r] + 1;
    gw_model_release(ctx, s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_dispatch_destroy(disp);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}

/* ---- brute force --------------------------------------------------------------------------- */

static ptrdiff_t brute_grid(const gw_layer_data *G, double x, double y)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x, y);
    ptrdiff_t hit = -1;
    for (size_t r = 0; r < gw_layer_data_count(G) && hit < 0; r++) {
        const GEOSGeometry *g = gw_layer_data_geom(G, r, GW_MODEL_METRIC);
        double x0, y0, x1, y1;
        GEOSGeom_getXMin_r(h, g, &x0), GEOSGeom_getYMin_r(h, g, &y0);
        GEOSGeom_getXMax_r(h, g, &x1), GEOSGeom_getYMax_r(h, g, &y1);
        if (x < x0 || x > x1 || y < y0 || y > y1) continue;
        if (GEOSCovers_r(h, g, pt) == 1) hit = (ptrdiff_t)r;
    }
    GEOSGeom_destroy_r(h, pt);
    return hit;
}

/* Independent sector test: the angle between the camera's axis and the direction to the point. */
/* Geodesic (GeographicLib) azimuth at (lon1, lat1) towards (lon2, lat2), in [0, 360). */
static double geod_azi(double lon1, double lat1, double lon2, double lat2, double *s12)
{
    double s = 0, a1 = 0, a2 = 0;
    geod_inverse(&wgs84, lat1, lon1, lat2, lon2, &s, &a1, &a2);
    if (s12) *s12 = s;
    return fmod(a1 + 360, 360);
}

/* Angular distance of two bearings, degrees in [0, 180]. */
static double ang_diff(double a, double b)
{
    double d = fmod(fabs(a - b), 360);
    return d > 180 ? 360 - d : d;
}

/* Does camera r see (lon, lat)?  The definition on the ellipsoid: geodesic distance within the
 * ground range and geodesic azimuth from the camera within fov / 2 of its true azimuth (the
 * engine draws the same view in the metric CRS with 3-degree chords: points within a few cm of
 * the arc may disagree; *margin < 1 says the point is that near the border). */
static int brute_sees(const gw_layer_data *C, size_t r, double x, double y, double lon, double lat,
                      double *dist, double *margin)
{
    int fa = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth"),
        ff = gw_layer_field_index(GW_LAYER_CAMERAS, "fov");
    int fr = gw_layer_field_index(GW_LAYER_CAMERAS, "range"),
        fs = gw_layer_field_index(GW_LAYER_CAMERAS, "status");
    gw_value a = gw_layer_data_value(C, r, fa), f = gw_layer_data_value(C, r, ff),
             rg = gw_layer_data_value(C, r, fr);
    const char *s = gw_layer_data_text(C, r, fs);
    if (s && strcmp(s, "offline") == 0) return 0;
    if (rg.kind != GW_VAL_REAL || !(rg.d > 0)) return 0;
    double fov = f.kind == GW_VAL_REAL ? f.d : 360, az = a.kind == GW_VAL_REAL ? a.d : 0;
    if (!(fov > 0)) return 0;
    double dx = x - gw_layer_data_x(C, GW_MODEL_METRIC)[r],
           dy = y - gw_layer_data_y(C, GW_MODEL_METRIC)[r];
    double d = sqrt(dx * dx + dy * dy), g = 0;
    *dist = d;
    double b = geod_azi(gw_layer_data_x(C, GW_MODEL_LONLAT)[r],
                        gw_layer_data_y(C, GW_MODEL_LONLAT)[r], lon, lat, &g);
    double off = fov >= 360 || g == 0 ? -INFINITY : ang_diff(b, az) - fov / 2;
    /* as a ground distance: the radial and the angular miss, whichever is nearer the border */
    *margin = fmin(fabs(g - rg.d), off == -INFINITY ? INFINITY : fabs(off) * M_PI / 180 * g);
    *margin /= 5e-4 * rg.d + 0.01; /* < 1: nearer than the chords' sagitta (3.4e-4 r) and 1 cm */
    if (g > rg.d) return 0;
    return off <= 0;
}

typedef struct bf_team {
    size_t row;
    double d;
} bf_team;

static int cmp_bf(const void *a, const void *b)
{
    const bf_team *p = a, *q = b;
    if (p->d != q->d) return p->d < q->d ? -1 : 1;
    return p->row < q->row ? -1 : p->row > q->row;
}

/* The k nearest of the teams layer passing the filter, nearest first (ties: row = id order). */
static size_t brute_nearest(const gw_layer_data *T, double x, double y, size_t k, unsigned mask,
                            double max_m, int include_stale, int64_t now, bf_team *out)
{
    int fs = gw_layer_field_index(GW_LAYER_TEAMS, "status"),
        fu = gw_layer_field_index(GW_LAYER_TEAMS, "updated_at");
    size_t n = gw_layer_data_count(T), m = 0;
    bf_team *all = malloc(n * sizeof *all);
    for (size_t r = 0; r < n; r++) {
        gw_team_status s = gw_team_status_parse(gw_layer_data_text(T, r, fs));
        if (!(mask & (1u << s))) continue;
        gw_value u = gw_layer_data_value(T, r, fu);
        if (!include_stale && (u.kind != GW_VAL_INT || now - u.i > 600)) continue;
        double dx = gw_layer_data_x(T, GW_MODEL_METRIC)[r] - x,
               dy = gw_layer_data_y(T, GW_MODEL_METRIC)[r] - y;
        double d = sqrt(dx * dx + dy * dy);
        if (max_m > 0 && d > max_m) continue;
        all[m++] = (bf_team){r, d};
    }
    qsort(all, m, sizeof *all, cmp_bf);
    if (m > k) m = k;
    memcpy(out, all, m * sizeof *out);
    free(all);
    return m;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_locate_and_nearest_match_brute_force(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(model);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *R = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS);
    const gw_layer_data *C = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    const gw_layer_data *T = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    gw_bbox ext;
    assert_int_equal(gw_store_extent(store, GW_LAYER_GRIDS, &ext), GW_OK);
    size_t inside = 0, with_cams = 0, stale_seen = 0;
    for (int i = 0; i < 1000; i++) {
        double lon = ext.minx + (ext.maxx - ext.minx) * urand();
        double lat = ext.miny + (ext.maxy - ext.miny) * urand();
        if (i % 3 == 0) { /* a third of the points near a camera, in front of it or behind */
            size_t r = (size_t)(urand() * (double)gw_layer_data_count(C));
            double az = urand() * 2 * M_PI, dm = 80 * urand();
            lat = gw_layer_data_y(C, GW_MODEL_LONLAT)[r] + dm * cos(az) / 111320;
            lon = gw_layer_data_x(C, GW_MODEL_LONLAT)[r] +
                  dm * sin(az) / (111320 * cos(lat * M_PI / 180));
        }
        gw_dispatch_hit rooms[3], cams[8];
        gw_locate loc;
        assert_int_equal(gw_dispatch_locate(ctx, disp, snap, lon, lat, rooms, 3, cams, 8, &loc),
                         GW_OK);
        assert_int_equal(loc.grid, brute_grid(G, loc.x, loc.y));
        inside += loc.grid >= 0;
        /* rooms: geodesic order, ties to the lower row (= smaller id) */
        double best[3] = {INFINITY, INFINITY, INFINITY};
        size_t brow[3] = {0};
        for (size_t r = 0; r < gw_layer_data_count(R); r++) {
            double g = gw_geodesic_distance(lon, lat, gw_layer_data_x(R, GW_MODEL_LONLAT)[r],
                                            gw_layer_data_y(R, GW_MODEL_LONLAT)[r]);
            for (int j = 0; j < 3; j++)
                if (g < best[j]) {
                    for (int m = 2; m > j; m--) best[m] = best[m - 1], brow[m] = brow[m - 1];
                    best[j] = g, brow[j] = r;
                    break;
                }
        }
        assert_int_equal(loc.n_rooms, 3);
        for (int j = 0; j < 3; j++) {
            assert_int_equal(rooms[j].row, brow[j]);
            assert_true(fabs(rooms[j].distance_m - best[j]) < 1e-6);
        }
        /* cameras */
        for (size_t j = 0; j < loc.n_rooms; j++) { /* true bearings: the geodesic azimuth */
            double b = geod_azi(lon, lat, gw_layer_data_x(R, GW_MODEL_LONLAT)[rooms[j].row],
                                gw_layer_data_y(R, GW_MODEL_LONLAT)[rooms[j].row], NULL);
            assert_true(ang_diff(rooms[j].bearing_deg, b) < 1e-9);
        }
        size_t total = 0, unsure = 0;
        double prev = -1;
        for (size_t r = 0; r < gw_layer_data_count(C); r++) {
            double d, m;
            if (brute_sees(C, r, loc.x, loc.y, lon, lat, &d, &m)) total++;
            unsure += m < 1; /* too near the view's border to tell */
        }
        if (!unsure) assert_int_equal(loc.cameras_total, total);
        for (size_t j = 0; j < loc.n_cameras; j++) {
            double d = -1, m = 0;
            int sees = brute_sees(C, cams[j].row, loc.x, loc.y, lon, lat, &d, &m);
            assert_true(sees || m < 1);
            assert_true(fabs(d - cams[j].distance_m) < 1e-6);
            assert_true(cams[j].distance_m >= prev);
            prev = cams[j].distance_m;
            double b = geod_azi(lon, lat, gw_layer_data_x(C, GW_MODEL_LONLAT)[cams[j].row],
                                gw_layer_data_y(C, GW_MODEL_LONLAT)[cams[j].row], NULL);
            assert_true(ang_diff(cams[j].bearing_deg, b) < 1e-9);
        }
        with_cams += total > 0;
        /* nearest teams: available and fresh, then any status with stale included and a limit */
        struct {
            unsigned mask;
            double max_m;
            int stale;
            size_t k;
        } cases[] = {{0, 0, 0, 5}, {(1u << GW_TEAM_BUSY) | (1u << GW_TEAM_OFFLINE), 3000, 1, 7}};
        for (int c = 0; c < 2; c++) {
            gw_nearest_opts no = {.k = cases[c].k,
                                  .status_mask = cases[c].mask,
                                  .max_m = cases[c].max_m,
                                  .include_stale = cases[c].stale,
                                  .now = t_end,
                                  .lonlat = 1,
                                  .lon = lon,
                                  .lat = lat};
            gw_team_hit hits[8];
            bf_team bf[8];
            size_t n = 0, skipped = 0;
            assert_int_equal(gw_dispatch_nearest(ctx, disp, loc.x, loc.y, &no, hits, &n, &skipped),
                             GW_OK);
            size_t m = brute_nearest(T, loc.x, loc.y, cases[c].k,
                                     cases[c].mask ? cases[c].mask : 1u << GW_TEAM_AVAILABLE,
                                     cases[c].max_m, cases[c].stale, t_end, bf);
            assert_int_equal(n, m);
            for (size_t j = 0; j < n; j++) {
                assert_string_equal(hits[j].id, gw_layer_data_id(T, bf[j].row));
                assert_true(hits[j].distance_m == bf[j].d);
                assert_true(hits[j].bearing_deg >= 0 && hits[j].bearing_deg < 360);
                /* a true bearing: GeographicLib's azimuth from the point to the team */
                double tb = geod_azi(lon, lat, hits[j].lon, hits[j].lat, NULL);
                assert_true(ang_diff(hits[j].bearing_deg, tb) < 1e-9);
                assert_int_equal(hits[j].age_s, t_end - hits[j].updated_at);
                if (c == 0) {
                    assert_int_equal(hits[j].status, GW_TEAM_AVAILABLE);
                    assert_false(hits[j].stale);
                } else {
                    assert_true(hits[j].status == GW_TEAM_BUSY ||
                                hits[j].status == GW_TEAM_OFFLINE);
                    assert_true(hits[j].distance_m <= 3000);
                    stale_seen += hits[j].stale;
                }
            }
            if (c == 0 && n == 5) {
                /* stale available teams closer than the 5th are counted, not used */
                bf_team all[8];
                size_t ms = brute_nearest(T, loc.x, loc.y, 8, 1u << GW_TEAM_AVAILABLE, 0, 1, t_end,
                                          all);
                size_t closer_stale = 0;
                for (size_t j = 0; j < ms; j++) {
                    gw_value u = gw_layer_data_value(T, all[j].row,
                                                     gw_layer_field_index(GW_LAYER_TEAMS,
                                                                          "updated_at"));
                    closer_stale += all[j].d <= hits[4].distance_m && t_end - u.i > 600;
                }
                if (closer_stale < 3) assert_int_equal(skipped, closer_stale);
            }
        }
    }
    print_message(
        "locate: %zu of 1000 points inside a grid, %zu seen by a camera; %zu stale hits flagged\n",
        inside, with_cams, stale_seen);
    assert_true(inside > 300);
    assert_true(with_cams > 50);
    assert_true(stale_seen > 0);
    gw_model_release(ctx, snap);
}

/* Grid vertices lie on shared edges: the lowest row covering the point must win. */
static void test_locate_boundary_lowest_id(void **state)
{
    (void)state;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_model_snapshot *snap = gw_model_acquire(model);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t shared = 0;
    for (size_t r = 0; r < gw_layer_data_count(G); r += 7) {
        const GEOSGeometry *g = gw_layer_data_geom(G, r, GW_MODEL_LONLAT);
        const GEOSGeometry *poly = GEOSGetGeometryN_r(h, g, 0);
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, poly));
        unsigned nv = 0;
        GEOSCoordSeq_getSize_r(h, cs, &nv);
        for (unsigned v = 0; v < nv; v += 3) {
            double lon, lat;
            GEOSCoordSeq_getXY_r(h, cs, v, &lon, &lat);
            gw_locate loc;
            assert_int_equal(gw_dispatch_locate(ctx, disp, snap, lon, lat, NULL, 0, NULL, 0, &loc),
                             GW_OK);
            ptrdiff_t b = brute_grid(G, loc.x, loc.y);
            assert_true(b >= 0);
            assert_int_equal(loc.grid, b);
            shared += (size_t)b < r;
        }
    }
    print_message("boundary: %zu vertices resolved to a lower-id neighbour\n", shared);
    assert_true(shared > 0);
    gw_model_release(ctx, snap);
    gw_locate loc;
    assert_int_equal(gw_dispatch_locate(ctx, disp, snap = gw_model_acquire(model), 200, 35, NULL, 0,
                                        NULL, 0, &loc),
                     GW_ERR_RANGE);
    gw_model_release(ctx, snap);
}

/* An available, fresh team id (for the write tests) other than `not`. */
static const char *pick_team(gw_team_status want, const char * not )
{
    gw_nearest_opts no = {.k = 64, .status_mask = 1u << want, .include_stale = 1, .now = t_end};
    gw_team_hit hits[64];
    size_t n = 0;
    gw_bbox ext;
    assert_int_equal(gw_store_extent(store, GW_LAYER_TEAMS, &ext), GW_OK);
    double x, y;
    assert_int_equal(gw_dispatch_to_metric(ctx, disp, (ext.minx + ext.maxx) / 2,
                                           (ext.miny + ext.maxy) / 2, &x, &y),
                     GW_OK);
    assert_int_equal(gw_dispatch_nearest(ctx, disp, x, y, &no, hits, &n, NULL), GW_OK);
    for (size_t i = 0; i < n; i++)
        if (!not || strcmp(hits[i].id, not ) != 0) return hits[i].id;
    fail_msg("no team with status %s", gw_team_status_name(want));
    return NULL;
}

static void test_positions_out_of_order(void **state)
{
    (void)state;
    const char *id = pick_team(GW_TEAM_AVAILABLE, NULL);
    gw_team_hit before;
    assert_int_equal(gw_dispatch_team(ctx, disp, id, t_end, &before), GW_OK);
    gw_model_snapshot *old = gw_model_acquire(model); /* read before the write */
    gw_team_position p[3] = {{id, before.lon + 0.01, before.lat + 0.005, t_end + 60},
                             {id, before.lon - 0.02, before.lat, t_end + 30}, /* older: ignored */
                             {"no-such-team", 115, 35, t_end}};
    uint8_t oc[3];
    int64_t seq = 0;
    assert_int_equal(gw_dispatch_positions(disp, store, p, 3, oc, &seq), GW_OK);
    assert_int_equal(oc[0], GW_POS_APPLIED);
    assert_int_equal(oc[1], GW_POS_OLDER);
    assert_int_equal(oc[2], GW_POS_UNKNOWN);
    assert_true(seq > gw_snapshot_seq(old));
    gw_team_hit now;
    assert_int_equal(gw_dispatch_team(ctx, disp, id, t_end + 60, &now), GW_OK);
    assert_true(now.lon == p[0].lon && now.lat == p[0].lat);
    assert_int_equal(now.updated_at, t_end + 60);
    assert_false(now.stale);
    /* the store agrees */
    char sql[256], at[32];
    snprintf(sql, sizeof sql, "SELECT X(geom) FROM teams WHERE id = '%s'", id);
    char pg[256];
    snprintf(pg, sizeof pg, "SELECT ST_X(geom) FROM teams WHERE id = '%s'", id);
    assert_true(tsql_real(store, sql, pg) == p[0].lon);
    snprintf(sql, sizeof sql, "SELECT Y(geom) FROM teams WHERE id = '%s'", id);
    snprintf(pg, sizeof pg, "SELECT ST_Y(geom) FROM teams WHERE id = '%s'", id);
    assert_true(tsql_real(store, sql, pg) == p[0].lat);
    snprintf(sql, sizeof sql, "SELECT updated_at FROM teams WHERE id = '%s'", id);
    snprintf(pg, sizeof pg, "SELECT gw_iso(updated_at) FROM teams WHERE id = '%s'", id);
    gw_time_format(t_end + 60, at, sizeof at);
    assert_string_equal(tsql_text(store, sql, pg), at);
    /* the team is found at its new place at once */
    double x, y;
    assert_int_equal(gw_dispatch_to_metric(ctx, disp, p[0].lon, p[0].lat, &x, &y), GW_OK);
    gw_nearest_opts no = {.k = 1, .now = t_end + 60};
    gw_team_hit h;
    size_t n;
    assert_int_equal(gw_dispatch_nearest(ctx, disp, x, y, &no, &h, &n, NULL), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(h.id, id);
    assert_true(h.distance_m < 1e-6);
    /* a snapshot read before the write does not roll the table back; a fresh one agrees */
    assert_int_equal(gw_dispatch_sync(ctx, disp, old), GW_OK);
    gw_model_release(ctx, old);
    assert_int_equal(gw_dispatch_team(ctx, disp, id, t_end + 60, &now), GW_OK);
    assert_true(now.lon == p[0].lon);
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    gw_model_snapshot *s = gw_model_acquire(model);
    assert_int_equal(gw_dispatch_sync(ctx, disp, s), GW_OK);
    gw_model_release(ctx, s);
    assert_int_equal(gw_dispatch_team(ctx, disp, id, t_end + 60, &now), GW_OK);
    assert_true(now.lon == p[0].lon && now.updated_at == t_end + 60);
    /* a write made elsewhere (OGC PATCH) reaches the table through the model */
    const char *patch = "{\"type\":\"Feature\",\"properties\":{\"status\":\"offline\"}}";
    gw_edit_result er = {0};
    assert_int_equal(gw_edit_patch(store, GW_LAYER_TEAMS, id, patch, strlen(patch), NULL, &er),
                     GW_OK);
    gw_edit_result_free(&er);
    assert_int_equal(gw_model_refresh(ctx, model, store, NULL), GW_OK);
    s = gw_model_acquire(model);
    assert_int_equal(gw_dispatch_sync(ctx, disp, s), GW_OK);
    gw_model_release(ctx, s);
    assert_int_equal(gw_dispatch_team(ctx, disp, id, 0, &now), GW_OK);
    assert_int_equal(now.status, GW_TEAM_OFFLINE);
    /* bad coordinates: nothing written */
    gw_team_position bad = {id, 35, 215, t_end + 90};
    assert_int_equal(gw_dispatch_positions(disp, store, &bad, 1, NULL, NULL), GW_ERR_RANGE);
}

static int64_t q_int(const char *sql) { return tsql_int(store, sql, NULL); }

/* SQLite: the R*Tree the writes keep by hand stays exact (rtreecheck, one entry per team,
 * containing its point, found by an index query at the new place) and SpatiaLite's triggers
 * are on again. */
static void check_index_sqlite(const gw_team_position *p, const double *olon, const double *olat,
                               const uint8_t *oc, int n)
{
    int trig = -1;
    sqlite3_db_config(st_sqlite_db(store), SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &trig);
    assert_int_equal(trig, 1);
    /* the index */
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(store), "SELECT rtreecheck('idx_teams_geom')",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    int64_t with_geom = q_int("SELECT count(*) FROM teams WHERE geom IS NOT NULL");
    assert_int_equal(q_int("SELECT count(*) FROM idx_teams_geom"), with_geom);
    assert_int_equal(
        q_int("SELECT count(*) FROM teams t JOIN idx_teams_geom i ON i.pkid = t.fid "
              "WHERE X(t.geom) BETWEEN i.xmin AND i.xmax AND Y(t.geom) BETWEEN i.ymin AND i.ymax"),
        with_geom);
    assert_int_equal(
        sqlite3_prepare_v2(
            st_sqlite_db(store),
            "SELECT count(*) FROM teams WHERE id = ?1 AND fid IN "
            "(SELECT pkid FROM idx_teams_geom WHERE xmin <= ?2 + 1e-6 AND xmax >= ?2 - 1e-6 AND "
            "ymin <= ?3 + 1e-6 AND ymax >= ?3 - 1e-6)",
            -1, &q, NULL),
        SQLITE_OK);
    for (int i = 0; i < n; i += 13) {
        if (oc[i] != GW_POS_APPLIED || i >= 140) continue;
        sqlite3_bind_text(q, 1, p[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 2, p[i].lon), sqlite3_bind_double(q, 3, p[i].lat);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 1);
        sqlite3_reset(q);
        sqlite3_bind_double(q, 2, olon[i]), sqlite3_bind_double(q, 3, olat[i]);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 0);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
}

/* PostgreSQL: GiST keeps the index; a query through it finds each moved team at its new place
 * and not at its old one. */
static void check_index_pg(const gw_team_position *p, const double *olon, const double *olat,
                           const uint8_t *oc, int n)
{
    char sql[384];
    for (int i = 0; i < n; i += 13) {
        if (oc[i] != GW_POS_APPLIED || i >= 140) continue;
        for (int old = 0; old < 2; old++) {
            double x = old ? olon[i] : p[i].lon, y = old ? olat[i] : p[i].lat;
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM teams WHERE id = '%s' AND geom && "
                     "ST_MakeEnvelope(%.17g - 1e-6, %.17g - 1e-6, %.17g + 1e-6, %.17g + 1e-6, "
                     "4326)",
                     p[i].id, x, y, x, y);
            assert_int_equal(q_int(sql), !old);
        }
    }
}

/* A batch larger than one change-log statement (64 rows): the R*Tree the writes keep by hand
 * stays exact (rtreecheck, one entry per team, containing its point, found by an index query at
 * the new place), one "move" row per applied report in report order with consecutive seqs and
 * the old/new bbox, and SpatiaLite's triggers are on again afterwards. */
static void test_positions_batch_keeps_index_exact(void **state)
{
    (void)state;
    gw_model_snapshot *s = gw_model_acquire(model);
    const gw_layer_data *T = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    size_t nt = gw_layer_data_count(T);
    assert_true(nt >= 100);
    enum { N = 150 };
    gw_team_position p[N];
    char ids[N][32];
    double olon[N], olat[N];
    for (int i = 0; i < N; i++) {
        size_t r = (size_t)i * 7 % nt;
        if (i >= 140) r = 3; /* the same team reported ten times, newest last */
        snprintf(ids[i], sizeof ids[i], "%s", gw_layer_data_id(T, r));
        gw_team_hit h;
        assert_int_equal(gw_dispatch_team(ctx, disp, ids[i], 0, &h), GW_OK);
        olon[i] = h.lon, olat[i] = h.lat;
        p[i] = (gw_team_position){ids[i], 115.2 + urand() * 0.6, 34.9 + urand() * 0.6,
                                  t_end + 200 + i};
    }
    p[20].at = 1; /* older than anything stored: ignored */
    p[21].id = "no-such-team";
    gw_model_release(ctx, s);
    int64_t before = q_int("SELECT max(seq) FROM changelog"), seq = 0;
    uint8_t oc[N];
    assert_int_equal(gw_dispatch_positions(disp, store, p, N, oc, &seq), GW_OK);
    assert_int_equal(oc[20], GW_POS_OLDER);
    assert_int_equal(oc[21], GW_POS_UNKNOWN);
    if (gw_test_on_postgres()) check_index_pg(p, olon, olat, oc, N);
    else check_index_sqlite(p, olon, olat, oc, N);
    /* the change log: one row per applied report, in report order, consecutive seqs */
    int64_t expect = before;
    int k = 0;
    char sql[256];
    for (int i = 0; i < N; i++) {
        if (oc[i] != GW_POS_APPLIED) continue;
        snprintf(sql, sizeof sql,
                 "SELECT seq || ' ' || layer || ' ' || op || ' ' || feature_id FROM changelog "
                 "WHERE seq > %lld ORDER BY seq LIMIT 1 OFFSET %d",
                 (long long)before, k);
        char want[128];
        snprintf(want, sizeof want, "%lld teams move %s", (long long)++expect, p[i].id);
        assert_string_equal(tsql_text(store, sql, NULL), want);
        if (i < 140) { /* old point from the table, new from the report */
            snprintf(sql, sizeof sql,
                     "SELECT minx FROM changelog WHERE seq > %lld ORDER BY seq LIMIT 1 OFFSET %d",
                     (long long)before, k);
            assert_true(tsql_real(store, sql, NULL) == fmin(olon[i], p[i].lon));
            snprintf(sql, sizeof sql,
                     "SELECT maxy FROM changelog WHERE seq > %lld ORDER BY seq LIMIT 1 OFFSET %d",
                     (long long)before, k);
            assert_true(tsql_real(store, sql, NULL) == fmax(olat[i], p[i].lat));
        }
        k++;
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog WHERE seq > %lld", (long long)before);
    assert_int_equal(q_int(sql), k);
    assert_int_equal(seq, expect);
    gw_team_hit h;
    assert_int_equal(gw_dispatch_team(ctx, disp, p[N - 1].id, 0, &h), GW_OK);
    assert_true(h.lon == p[N - 1].lon && h.updated_at == p[N - 1].at);
}

static void test_assign_release(void **state)
{
    (void)state;
    const char *team = pick_team(GW_TEAM_AVAILABLE, NULL);
    gw_team_hit st;
    int64_t seq = 0;
    assert_int_equal(gw_dispatch_assign(disp, store, "no-such-incident", team, "d1", &st, NULL),
                     GW_ERR_NOT_FOUND);
    assert_int_equal(gw_dispatch_team(ctx, disp, team, 0, &st), GW_OK);
    assert_int_equal(st.status, GW_TEAM_AVAILABLE); /* rolled back */
    assert_int_equal(gw_dispatch_assign(disp, store, "I0000001", "no-such-team", "d1", &st, NULL),
                     GW_ERR_NOT_FOUND);
    assert_int_equal(gw_dispatch_assign(disp, store, "I0000001", team, "d1", &st, &seq), GW_OK);
    assert_int_equal(st.status, GW_TEAM_BUSY);
    assert_true(seq > 0);
    memset(&st, 0, sizeof st);
    assert_int_equal(gw_dispatch_assign(disp, store, "I0000002", team, "d2", &st, NULL),
                     GW_ERR_CONFLICT);
    assert_int_equal(st.status, GW_TEAM_BUSY);
    assert_string_equal(st.id, team);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "busy"));
    assert_int_equal(gw_dispatch_release(disp, store, team, "I0000002", "d1", &st, NULL),
                     GW_ERR_CONFLICT);
    assert_int_equal(gw_dispatch_release(disp, store, team, "I0000001", "d1", &st, NULL), GW_OK);
    assert_int_equal(st.status, GW_TEAM_AVAILABLE);
    assert_int_equal(gw_dispatch_release(disp, store, team, NULL, "d1", &st, NULL),
                     GW_ERR_CONFLICT);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ' ' || count(released_at) || ' ' || max(assigned_by) FROM "
             "assignments WHERE team = '%s'",
             team);
    assert_string_equal(tsql_text(store, sql, NULL), "1 1 d1");
}

#define RACERS 8
typedef struct racer {
    const char *team, *incident;
    pthread_barrier_t *go;
    gw_status st;
} racer;

static void *race_main(void *arg)
{
    racer *r = arg;
    gw_ctx *c = NULL;
    gw_store *s = NULL;
    gw_ctx_create(&c);
    r->st = gw_store_open(c, gw_store_path(store), 0, &s);
    pthread_barrier_wait(r->go);
    if (!r->st) r->st = gw_dispatch_assign(disp, s, r->incident, r->team, "racer", NULL, NULL);
    gw_store_close(s);
    gw_ctx_destroy(c);
    return NULL;
}

static void test_assign_race_one_winner(void **state)
{
    (void)state;
    const char *team = pick_team(GW_TEAM_AVAILABLE, NULL);
    for (int round = 0; round < 5; round++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        racer r[RACERS];
        pthread_t th[RACERS];
        char inc[RACERS][16];
        for (int i = 0; i < RACERS; i++) {
            snprintf(inc[i], sizeof inc[i], "I%07d", 10 + i);
            r[i] = (racer){team, inc[i], &go, GW_OK};
            pthread_create(&th[i], NULL, race_main, &r[i]);
        }
        int won = 0, lost = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            won += r[i].st == GW_OK;
            lost += r[i].st == GW_ERR_CONFLICT;
        }
        pthread_barrier_destroy(&go);
        assert_int_equal(won, 1);
        assert_int_equal(lost, RACERS - 1);
        gw_team_hit st;
        assert_int_equal(gw_dispatch_release(disp, store, team, NULL, NULL, &st, NULL), GW_OK);
    }
}

/* keep: a subset of teams (here those west of a line far from the query point, as a
 * jurisdiction whose teams are all farther than every other team): the k nearest of the
 * subset, however far, equal to brute force over the subset. */
static int west_of(void *user, double x, double y)
{
    (void)y;
    return x < *(const double *)user;
}

static void test_nearest_keep_subset(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(model);
    const gw_layer_data *T = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    const double *tx = gw_layer_data_x(T, GW_MODEL_METRIC),
                 *ty = gw_layer_data_y(T, GW_MODEL_METRIC);
    size_t nt = gw_layer_data_count(T);
    double xmin = INFINITY, xmax = -INFINITY, ysum = 0;
    for (size_t r = 0; r < nt; r++)
        xmin = fmin(xmin, tx[r]), xmax = fmax(xmax, tx[r]), ysum += ty[r];
    double line = xmin + (xmax - xmin) * 0.1, qx = xmax + 10, qy = ysum / (double)nt;
    gw_nearest_opts no = {.k = 4,
                          .include_stale = 1,
                          .status_mask = ~0u,
                          .now = t_end,
                          .keep = west_of,
                          .keep_user = &line};
    gw_team_hit hits[4];
    size_t n = 0;
    assert_int_equal(gw_dispatch_nearest(ctx, disp, qx, qy, &no, hits, &n, NULL), GW_OK);
    bf_team *all = malloc(nt * sizeof *all);
    size_t m = 0, others = 0;
    for (size_t r = 0; r < nt; r++) {
        if (!(tx[r] < line)) {
            others++;
            continue;
        }
        double dx = tx[r] - qx, dy = ty[r] - qy; /* as the engine computes it */
        all[m++] = (bf_team){r, sqrt(dx * dx + dy * dy)};
    }
    qsort(all, m, sizeof *all, cmp_bf);
    assert_true(m >= 4 && others > 4 * m); /* the subset lies behind most teams */
    assert_int_equal(n, 4);
    for (size_t j = 0; j < n; j++) {
        assert_string_equal(hits[j].id, gw_layer_data_id(T, all[j].row));
        assert_true(hits[j].distance_m == all[j].d);
    }
    free(all);
    gw_model_release(ctx, snap);
}

/* Group commit: writers on their own connections hand in batches at once; batches written
 * together must behave as if written one after another.  Each writer moves its own teams (its
 * last report must be what the store and the table hold) and all report one shared team with
 * distinct times (the latest time must win whatever the interleaving). */
#define GW_WRITERS 6
#define GW_ROUNDS 8
#define GW_BATCH 12
typedef struct gwriter {
    int k;
    pthread_barrier_t *go;
    const char *const *ids; /* GW_BATCH - 1 own teams, then the shared one */
    double lon[GW_ROUNDS][GW_BATCH], lat[GW_ROUNDS][GW_BATCH];
    uint8_t oc[GW_ROUNDS][GW_BATCH];
    gw_status st;
} gwriter;

static void *gwriter_main(void *arg)
{
    gwriter *w = arg;
    gw_ctx *c = NULL;
    gw_store *s = NULL;
    gw_ctx_create(&c);
    w->st = gw_store_open(c, gw_store_path(store), 0, &s);
    pthread_barrier_wait(w->go);
    for (int r = 0; !w->st && r < GW_ROUNDS; r++) {
        gw_team_position p[GW_BATCH];
        for (int i = 0; i < GW_BATCH; i++)
            p[i] = (gw_team_position){w->ids[i], w->lon[r][i], w->lat[r][i],
                                      t_end + 1000 + (i == GW_BATCH - 1 ? w->k * 100 + r : r)};
        w->st = gw_dispatch_positions(disp, s, p, GW_BATCH, w->oc[r], NULL);
    }
    gw_store_close(s);
    gw_ctx_destroy(c);
    return NULL;
}

static void test_positions_concurrent_batches(void **state)
{
    (void)state;
    gw_model_snapshot *snap = gw_model_acquire(model);
    const gw_layer_data *T = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    size_t nt = gw_layer_data_count(T);
    assert_true(nt >= GW_WRITERS * (GW_BATCH - 1) + 1);
    const char *ids[GW_WRITERS][GW_BATCH];
    static gwriter w[GW_WRITERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, GW_WRITERS);
    int64_t seq0 = 0;
    assert_int_equal(gw_store_last_seq(store, &seq0), GW_OK);
    for (int k = 0; k < GW_WRITERS; k++) {
        for (int i = 0; i < GW_BATCH - 1; i++)
            ids[k][i] = gw_layer_data_id(T, 1 + (size_t)k * (GW_BATCH - 1) + (size_t)i);
        ids[k][GW_BATCH - 1] = gw_layer_data_id(T, 0);
        memset(&w[k], 0, sizeof w[k]);
        w[k].k = k, w[k].go = &go, w[k].ids = ids[k];
        for (int r = 0; r < GW_ROUNDS; r++)
            for (int i = 0; i < GW_BATCH; i++)
                w[k].lon[r][i] = 115.0 + urand() * 0.5, w[k].lat[r][i] = 35.0 + urand() * 0.5;
    }
    pthread_t th[GW_WRITERS];
    for (int k = 0; k < GW_WRITERS; k++) pthread_create(&th[k], NULL, gwriter_main, &w[k]);
    for (int k = 0; k < GW_WRITERS; k++) pthread_join(th[k], NULL);
    pthread_barrier_destroy(&go);
    size_t applied = 0;
    for (int k = 0; k < GW_WRITERS; k++) {
        assert_int_equal(w[k].st, GW_OK);
        for (int r = 0; r < GW_ROUNDS; r++)
            for (int i = 0; i < GW_BATCH; i++) {
                if (i < GW_BATCH - 1) assert_int_equal(w[k].oc[r][i], GW_POS_APPLIED);
                else assert_true(w[k].oc[r][i] == GW_POS_APPLIED || w[k].oc[r][i] == GW_POS_OLDER);
                applied += w[k].oc[r][i] == GW_POS_APPLIED;
            }
    }
    /* one change-log row per applied report, no more */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog WHERE seq > %lld AND op = 'move'",
             (long long)seq0);
    assert_int_equal(tsql_int(store, sql, sql), (int64_t)applied);
    /* each writer's own teams: the store and the table hold its last report */
    for (int k = 0; k < GW_WRITERS; k++)
        for (int i = 0; i < GW_BATCH; i++) {
            int own = i < GW_BATCH - 1;
            int kk = own ? k : GW_WRITERS - 1; /* the shared team: the latest time wins */
            double lon = w[kk].lon[GW_ROUNDS - 1][i], lat = w[kk].lat[GW_ROUNDS - 1][i];
            char a[200], b[200];
            snprintf(a, sizeof a, "SELECT X(geom) FROM teams WHERE id = '%s'", ids[k][i]);
            snprintf(b, sizeof b, "SELECT ST_X(geom) FROM teams WHERE id = '%s'", ids[k][i]);
            assert_true(tsql_real(store, a, b) == lon);
            snprintf(a, sizeof a, "SELECT Y(geom) FROM teams WHERE id = '%s'", ids[k][i]);
            snprintf(b, sizeof b, "SELECT ST_Y(geom) FROM teams WHERE id = '%s'", ids[k][i]);
            assert_true(tsql_real(store, a, b) == lat);
            gw_team_hit h;
            assert_int_equal(gw_dispatch_team(ctx, disp, ids[k][i], 0, &h), GW_OK);
            assert_true(h.lon == lon && h.lat == lat);
            assert_int_equal(h.updated_at,
                             t_end + 1000 + (own ? GW_ROUNDS - 1 : kk * 100 + GW_ROUNDS - 1));
        }
    /* the seqs are distinct: every applied report has its own change-log row */
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT seq) FROM changelog WHERE seq > %lld AND op = 'move'",
             (long long)seq0);
    assert_int_equal(tsql_int(store, sql, sql), (int64_t)applied);
    gw_model_release(ctx, snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locate_and_nearest_match_brute_force),
        cmocka_unit_test(test_locate_boundary_lowest_id),
        cmocka_unit_test(test_nearest_keep_subset),
        cmocka_unit_test(test_positions_out_of_order),
        cmocka_unit_test(test_positions_batch_keeps_index_exact),
        cmocka_unit_test(test_assign_release),
        cmocka_unit_test(test_assign_race_one_winner),
        cmocka_unit_test(test_positions_concurrent_batches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
