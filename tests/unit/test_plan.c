/* test_plan.c — grid planning (geo/plan*.c): each edit on a hand-made 2×2 tiling with known
 * areas, refusals with reasons, validation finding overlaps/gaps/invalid grids, publish and
 * rollback restoring exactly (geometry hashes), an incident on a moved boundary reassigned.
 * Random edit sequences on the synthetic city and concurrent edits: test_plan_random.c. */
#include "plan_fixture.h"

#include "gridwatch/city.h"
#include "gridwatch/coverage.h"
#include "gridwatch/model.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/plan.h"
#include "gridwatch/store.h"
#include "store_sqlite.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *edit(gw_store *s, int64_t d, const char *json, gw_status want)
{
    char *res = NULL;
    gw_status st = gw_plan_edit(s, d, json, strlen(json), "tester", &res);
    if (st != want) fail_msg("edit %s: %s (%s)", json, gw_status_str(st), gw_ctx_errmsg(ctx));
    return res;
}

/* Metric area of a grid of a draft (via the balance JSON) or -1. */
static double grid_area(gw_store *s, int64_t d, const char *id)
{
    char *js = NULL;
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    json_t *gr = json_object_get(json_object_get(doc, "draft_layout"), "grids");
    double a = -1;
    size_t i;
    json_t *g;
    json_array_foreach (gr, i, g)
        if (strcmp(json_string_value(json_object_get(g, "id")), id) == 0)
            a = json_real_value(json_object_get(g, "area_km2")) * 1e6;
    json_decref(doc);
    return a;
}

static void test_drafts_copy_on_write(void **state)
{
    gw_store *s = make_db("cow.sqlite");
    int64_t d = 0, d2 = 0;
    assert_int_equal(gw_plan_draft_create(s, "north", "tester", &d), GW_OK);
    assert_int_equal(gw_plan_draft_create(s, "south", "tester", &d2), GW_OK);
    assert_true(d2 > d);
    gw_plan_draft *list = NULL;
    size_t n = 0;
    assert_int_equal(gw_plan_draft_list(s, &list, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "south");
    assert_int_equal(list[1].base_version, 1);
    assert_int_equal(list[1].changed, 0);
    free(list);
    free(edit(s, d, "{\"op\":\"attributes\",\"grid\":\"C\",\"properties\":{\"name\":\"Elm\"}}",
              GW_OK));
    /* only the changed grid is stored in the draft */
    gw_plan_draft info;
    assert_int_equal(gw_plan_draft_get(s, d, &info), GW_OK);
    assert_int_equal(info.changed, 1);
    assert_int_equal(info.edits, 1);
    char *diff = NULL;
    assert_int_equal(gw_plan_draft_diff(s, d, &diff), GW_OK);
    assert_non_null(strstr(diff, "\"changed\":[\"C\"]"));
    free(diff);
    assert_int_equal(gw_plan_draft_get(s, d2, &info), GW_OK);
    assert_int_equal(info.changed, 0);
    assert_int_equal(gw_plan_draft_delete(s, d2, "tester"), GW_OK);
    assert_int_equal(gw_plan_draft_get(s, d2, &info), GW_ERR_NOT_FOUND);
    assert_int_equal(gw_plan_draft_create(s, "", "tester", &d2), GW_ERR_ARG);
    gw_store_close(s);
}

static void test_split(void **state)
{
    gw_store *s = make_db("split.sqlite");
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "split", "tester", &d), GW_OK);
    double a0 = grid_area(s, d, "A");
    assert_true(a0 > 8e5 && a0 < 1.1e6);
    char *res = edit(s, d,
                     "{\"op\":\"split\",\"grid\":\"A\",\"line\":{\"type\":\"LineString\","
                     "\"coordinates\":[[115.003,34.99],[115.003,35.02]]}}",
                     GW_OK);
    /* C, north of A, shares the edge the line crosses: it receives the new vertex too */
    assert_non_null(strstr(res, "\"changed\":[\"A\",\"A-2\",\"C\"]"));
    free(res);
    assert_int_equal(q_int2(s,
                            "SELECT ST_NPoints(GeomFromWKB(geom)) FROM plan_draft_grids WHERE "
                            "id = 'C'",
                            "SELECT ST_NPoints(geom) FROM plan_draft_grids WHERE id = 'C'"),
                     6);
    assert_int_equal(q_int2(s,
                            "SELECT count(*) FROM plan_draft_grids WHERE id = 'C' AND "
                            "ST_Intersects(GeomFromWKB(geom), MakePoint(115.003, 35.01))",
                            "SELECT count(*) FROM plan_draft_grids WHERE id = 'C' AND "
                            "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(115.003, 35.01), 4326))"),
                     1);
    double a1 = grid_area(s, d, "A"), a2 = grid_area(s, d, "A-2");
    assert_true(fabs(a1 + a2 - a0) < 1e-6 * a0);
    assert_true(a1 > 2 * a2); /* the larger piece keeps the id */
    assert_true(fabs(a2 / a0 - 0.3) < 0.01);
    assert_tiles(s, d);
    /* population split by area */
    char *js = NULL;
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    assert_non_null(strstr(js, "\"id\":\"A-2\""));
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    json_int_t pop = 0;
    size_t i;
    json_t *g;
    json_array_foreach (json_object_get(json_object_get(doc, "draft_layout"), "grids"), i, g)
        pop += json_integer_value(json_object_get(g, "population"));
    assert_int_equal(pop, 400);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(doc, "draft_layout"), "count")),
                     5);
    json_decref(doc);
    /* an empty position: GEOS 3.11's GeoJSON reader crashed on it (fuzz_plan_edit) */
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"B\",\"line\":{\"type\":\"LineString\","
         "\"coordinates\":[[],[115.014,35.02],[115.014,34.99]]}}",
         GW_ERR_FORMAT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "a position is an empty array"));
    /* refusals: a line missing the grid, a line cutting into three, a taken new id */
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"B\",\"line\":{\"type\":\"LineString\","
         "\"coordinates\":[[115.013,35.001],[115.013,35.004]]}}",
         GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "does not cut grid 'B' in two"));
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"B\",\"line\":{\"type\":\"LineString\",\"coordinates\":"
         "[[115.012,34.99],[115.012,35.02],[115.014,35.02],[115.014,34.99]]}}",
         GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "3 pieces"));
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"B\",\"new_id\":\"C\",\"line\":{\"type\":"
         "\"LineString\",\"coordinates\":[[115.013,34.99],[115.013,35.02]]}}",
         GW_ERR_CONFLICT);
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"Z\",\"line\":{\"type\":\"LineString\","
         "\"coordinates\":[[115.013,34.99],[115.013,35.02]]}}",
         GW_ERR_NOT_FOUND);
    edit(s, d,
         "{\"op\":\"split\",\"grid\":\"B\",\"line\":{\"type\":\"Point\","
         "\"coordinates\":[115.013,34.99]}}",
         GW_ERR_GEOMETRY);
    edit(s, d, "{\"op\":\"explode\"}", GW_ERR_ARG);
    edit(s, d, "{\"op\":", GW_ERR_FORMAT);
    gw_plan_draft info;
    assert_int_equal(gw_plan_draft_get(s, d, &info), GW_OK);
    assert_int_equal(info.edits, 1); /* refused edits leave no trace */
    gw_store_close(s);
}

static void test_merge(void **state)
{
    gw_store *s = make_db("merge.sqlite");
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "merge", "tester", &d), GW_OK);
    double a = grid_area(s, d, "A"), b = grid_area(s, d, "B");
    edit(s, d, "{\"op\":\"merge\",\"grids\":[\"A\",\"D\"]}", GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "do not form one area"));
    char *res = edit(s, d, "{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}", GW_OK);
    assert_non_null(strstr(res, "\"deleted\":[\"B\"]"));
    free(res);
    assert_true(fabs(grid_area(s, d, "A") - a - b) < 1e-6 * (a + b));
    assert_true(grid_area(s, d, "B") < 0);
    assert_tiles(s, d);
    char *diff = NULL;
    assert_int_equal(gw_plan_draft_diff(s, d, &diff), GW_OK);
    assert_non_null(strstr(diff, "\"deleted\":[\"B\"]"));
    free(diff);
    edit(s, d, "{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}", GW_ERR_NOT_FOUND);
    gw_store_close(s);
}

static void test_move_boundary_and_reassign(void **state)
{
    gw_store *s = make_db("move.sqlite");
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "move", "tester", &d), GW_OK);
    double a = grid_area(s, d, "A"), b = grid_area(s, d, "B");
    edit(s, d,
         "{\"op\":\"move_boundary\",\"grids\":[\"A\",\"D\"],\"line\":{\"type\":"
         "\"LineString\",\"coordinates\":[[115.013,34.99],[115.013,35.011]]}}",
         GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "not neighbours"));
    free(edit(s, d,
              "{\"op\":\"move_boundary\",\"grids\":[\"A\",\"B\"],\"line\":{\"type\":"
              "\"LineString\",\"coordinates\":[[115.013,34.999],[115.013,35.011]]}}",
              GW_OK));
    double a1 = grid_area(s, d, "A"), b1 = grid_area(s, d, "B");
    assert_true(fabs(a1 + b1 - a - b) < 1e-6 * (a + b));
    assert_true(fabs(a1 / (a + b) - 0.65) < 0.01);
    assert_tiles(s, d);
    /* reassign: the part of the box inside B (115.013..115.016) joins A */
    free(edit(s, d,
              "{\"op\":\"reassign\",\"from\":\"B\",\"to\":\"A\",\"area\":{\"type\":"
              "\"Polygon\",\"coordinates\":[[[115.012,35.002],[115.016,35.002],[115.016,35.004],"
              "[115.012,35.004],[115.012,35.002]]]}}",
              GW_OK));
    double a2 = grid_area(s, d, "A"), b2 = grid_area(s, d, "B");
    assert_true(fabs(a2 + b2 - a - b) < 1e-6 * (a + b));
    assert_true(fabs((a2 - a1) / (a + b) - 0.003 * 0.002 / 0.0002) < 0.002);
    assert_tiles(s, d);
    edit(s, d,
         "{\"op\":\"reassign\",\"from\":\"B\",\"to\":\"C\",\"area\":{\"type\":\"Polygon\","
         "\"coordinates\":[[[115.017,35.002],[115.018,35.002],[115.018,35.004],[115.017,35.004],"
         "[115.017,35.002]]]}}",
         GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "does not border 'C'"));
    edit(s, d,
         "{\"op\":\"reassign\",\"from\":\"B\",\"to\":\"A\",\"area\":{\"type\":\"Polygon\","
         "\"coordinates\":[[[115.1,35.1],[115.2,35.1],[115.2,35.2],[115.1,35.1]]]}}",
         GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "does not overlap"));
    /* attributes */
    free(edit(s, d,
              "{\"op\":\"attributes\",\"grid\":\"D\",\"properties\":{\"name\":\"Oak\","
              "\"population\":250,\"worker\":null}}",
              GW_OK));
    edit(s, d, "{\"op\":\"attributes\",\"grid\":\"D\",\"properties\":{\"id\":\"E\"}}", GW_ERR_ARG);
    edit(s, d, "{\"op\":\"attributes\",\"grid\":\"D\",\"properties\":{\"colour\":\"red\"}}",
         GW_ERR_ARG);
    edit(s, d, "{\"op\":\"attributes\",\"grid\":\"D\",\"properties\":{\"population\":\"many\"}}",
         GW_ERR_ARG);
    gw_store_close(s);
}

/* A grid's entry in a balance layout ("draft_layout" / "base_layout"), borrowed. */
static json_t *bal_grid(json_t *doc, const char *layout, const char *id)
{
    size_t i;
    json_t *g;
    json_array_foreach (json_object_get(json_object_get(doc, layout), "grids"), i, g)
        if (strcmp(json_string_value(json_object_get(g, "id")), id) == 0) return g;
    fail_msg("no grid %s in %s", id, layout);
    return NULL;
}

static double bal_num(json_t *doc, const char *layout, const char *id, const char *key)
{
    return json_number_value(json_object_get(bal_grid(doc, layout, id), key));
}

/* Lon/lat points to the store's metric CRS, in place. */
static void to_metric(gw_store *s, double *x, double *y, size_t n)
{
    int srid = 0;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    gw_crs_transform *tr = NULL;
    gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, srid};
    assert_int_equal(gw_crs_transform_create(ctx, ll, m, &tr), GW_OK);
    assert_int_equal(gw_crs_transform_points(tr, x, y, n), GW_OK);
    gw_crs_transform_destroy(tr);
}

/* Metric (the store's CRS) area of the 0.01° square with south-west corner (x0, y0). */
static double square_m2(gw_store *s, double x0, double y0)
{
    double x[4] = {x0, x0 + 0.01, x0 + 0.01, x0}, y[4] = {y0, y0, y0 + 0.01, y0 + 0.01};
    to_metric(s, x, y, 4);
    double a = 0;
    for (int i = 0; i < 4; i++) a += x[i] * y[(i + 1) % 4] - x[(i + 1) % 4] * y[i];
    return fabs(a) / 2;
}

/* Balance with camera coverage and police-room distance on the 2×2 tiling:
 *  - camera K1, a disc (fov 360) of 200 m at A's centre: wholly inside A;
 *  - camera K2, a disc of 200 m 50 m west of the A|B edge: part in A, part in B;
 *  - camera K3 in B, offline: no view;
 *  - camera K4, a 90° sector of 300 m at C's centre facing north: wholly inside C;
 *  - police room R1 at A's centre.
 * A 120-gon of radius r has area 60 r² sin 3°; a 90° sector (30 steps of 3°) 15 r² sin 3°. */
static void test_balance_coverage_and_rooms(void **state)
{
    gw_store *s = make_db("balance.sqlite");
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_CAMERAS, &ins), GW_OK);
    double dx50 = 50.0 / (111320.0 * cos(35.005 * M_PI / 180)); /* ≈ 50 m of longitude */
    struct {
        const char *id;
        double x, y, az, fov, range;
        const char *status;
    } cam[4] = {{"K1", 115.005, 35.005, 0, 360, 200, "online"},
                {"K2", 115.01 - dx50, 35.005, 0, 360, 200, "online"},
                {"K3", 115.015, 35.005, 0, 360, 300, "offline"},
                {"K4", 115.005, 35.015, 0, 90, 300, NULL}};
    for (int k = 0; k < 4; k++) {
        gw_value v[7] = {{GW_VAL_TEXT, cam[k].id, 0, 0}};
        v[2] = (gw_value){GW_VAL_REAL, NULL, 0, cam[k].az};
        v[3] = (gw_value){GW_VAL_REAL, NULL, 0, cam[k].fov};
        v[4] = (gw_value){GW_VAL_REAL, NULL, 0, cam[k].range};
        if (cam[k].status) v[6] = (gw_value){GW_VAL_TEXT, cam[k].status, 0, 0};
        gw_feature f = {v, NULL, 0, cam[k].x, cam[k].y};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_POLICE_ROOMS, &ins), GW_OK);
    gw_value rv[4] = {{GW_VAL_TEXT, "R1", 0, 0}};
    gw_feature rf = {rv, NULL, 0, 115.005, 35.005};
    assert_int_equal(gw_inserter_add(ins, &rf), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);

    /* Ranges are ground distances: in the metric CRS they are times the point scale there
     * (PROJ's, ~1.0001 a degree from the central meridian), so areas are times its square. */
    double kk[4];
    int srid = 0;
    gw_crs_factors *fac = NULL;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_int_equal(gw_crs_factors_create(ctx, (gw_crs){GW_CRS_EPSG, srid}, &fac), GW_OK);
    for (int k = 0; k < 4; k++) {
        double conv = 0;
        assert_int_equal(gw_crs_factors_at(fac, cam[k].x, cam[k].y, &conv, &kk[k]), GW_OK);
        assert_true(fabs(kk[k] - 1) > 1e-5 && fabs(kk[k] - 1) < 1e-3);
    }
    gw_crs_factors_destroy(fac);
    const double disc = 60 * 200.0 * 200.0 * sin(3 * M_PI / 180) * (kk[0] * kk[0] + kk[1] * kk[1]) /
                        2;
    const double sector = 15 * 300.0 * 300.0 * sin(3 * M_PI / 180) * kk[3] * kk[3];
    double am = square_m2(s, 115.00, 35.00), bm = square_m2(s, 115.01, 35.00);
    double cm = square_m2(s, 115.00, 35.01);
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "balance", "tester", &d), GW_OK);
    char *js = NULL;
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    double ca = bal_num(doc, "base_layout", "A", "camera_coverage");
    double cb = bal_num(doc, "base_layout", "B", "camera_coverage");
    double cc = bal_num(doc, "base_layout", "C", "camera_coverage");
    /* K1 and K2 together: the part of K2 in B is what A lacks of two whole discs */
    if (fabs(ca * am + cb * bm - 2 * disc) > 1e-6 * disc || !(cb > 0.01 && cb < 0.1))
        fail_msg("A %.9f B %.9f: covered %.3f m², want %.3f", ca, cb, ca * am + cb * bm, 2 * disc);
    assert_true(fabs(cc * cm - sector) < 1e-6 * sector);
    assert_true(bal_num(doc, "base_layout", "D", "camera_coverage") == 0);
    /* room distances: from each square's centre (its metric centroid is within centimetres
     * of it) to R1 at A's centre, in the metric CRS (≈ 913 m east, 1110 m north) */
    double ra = bal_num(doc, "base_layout", "A", "room_distance_m");
    double rb = bal_num(doc, "base_layout", "B", "room_distance_m");
    double rc = bal_num(doc, "base_layout", "C", "room_distance_m");
    double rd = bal_num(doc, "base_layout", "D", "room_distance_m");
    double px[4] = {115.005, 115.015, 115.005, 115.015}, py[4] = {35.005, 35.005, 35.015, 35.015};
    to_metric(s, px, py, 4);
    double want[4];
    for (int i = 0; i < 4; i++) want[i] = hypot(px[i] - px[0], py[i] - py[0]);
    if (ra > 0.05 || fabs(rb - want[1]) > 0.05 || fabs(rc - want[2]) > 0.05 ||
        fabs(rd - want[3]) > 0.05 || !(rb > 900 && rb < 925 && rc > 1100 && rc < 1120))
        fail_msg("room distances %.3f %.3f %.3f %.3f, want 0 %.3f %.3f %.3f", ra, rb, rc, rd,
                 want[1], want[2], want[3]);
    /* spreads: mean, cv (population sd / mean) and max/mean of the four values */
    json_t *sp = json_object_get(json_object_get(json_object_get(doc, "base_layout"), "spread"),
                                 "room_distance_m");
    double v4[4] = {ra, rb, rc, rd}, mean = (ra + rb + rc + rd) / 4, var = 0;
    for (int i = 0; i < 4; i++) var += (v4[i] - mean) * (v4[i] - mean) / 4;
    assert_true(fabs(json_real_value(json_object_get(sp, "mean")) - mean) < 1e-6);
    assert_true(fabs(json_real_value(json_object_get(sp, "cv")) - sqrt(var) / mean) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(sp, "max_over_mean")) - rd / mean) < 1e-9);
    assert_non_null(json_object_get(json_object_get(json_object_get(doc, "draft_layout"), "spread"),
                                    "camera_coverage"));
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(doc, "camera_coverage"), "source")),
                        "computed");
    json_decref(doc);

    /* Split A through K1's centre: the halves' covered areas add up to A's; draft beside base */
    free(edit(s, d,
              "{\"op\":\"split\",\"grid\":\"A\",\"new_id\":\"A2\",\"line\":{\"type\":"
              "\"LineString\",\"coordinates\":[[115.004,34.99],[115.004,35.02]]}}",
              GW_OK));
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    doc = json_loads(js, 0, NULL);
    free(js);
    double a1 = bal_num(doc, "draft_layout", "A", "area_km2") * 1e6;
    double a2 = bal_num(doc, "draft_layout", "A2", "area_km2") * 1e6;
    double k1 = bal_num(doc, "draft_layout", "A", "camera_coverage");
    double k2 = bal_num(doc, "draft_layout", "A2", "camera_coverage");
    /* covered m² (metric areas ∝ ellipsoidal ones here within 1e-4) */
    double cov1 = k1 * a1 * am / (a1 + a2), cov2 = k2 * a2 * am / (a1 + a2);
    if (fabs(cov1 + cov2 - ca * am) > 1e-3 * ca * am)
        fail_msg("split: %.3f + %.3f m² covered vs %.3f", cov1, cov2, ca * am);
    /* the western piece A2 holds the circular segment of K1 west of the line: r² acos(h/r) −
     * h √(r² − h²), h the line's metric distance from K1 (the 120-gon is within 0.05 %) */
    double hx[2] = {115.004, 115.005}, hy[2] = {35.005, 35.005};
    to_metric(s, hx, hy, 2);
    double hh = hypot(hx[1] - hx[0], hy[1] - hy[0]), r2 = 200.0 * 200.0;
    double seg = r2 * acos(hh / 200) - hh * sqrt(r2 - hh * hh);
    if (fabs(cov2 - seg) > 2e-3 * seg) fail_msg("A2 covered %.3f m², segment %.3f m²", cov2, seg);
    assert_true(bal_num(doc, "draft_layout", "B", "camera_coverage") == cb);
    assert_true(bal_num(doc, "base_layout", "A", "camera_coverage") == ca);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(doc, "draft_layout"), "count")),
                     5);
    json_decref(doc);

    /* With the coverage module's stored rows current, the base figures come from them and
     * agree with the ones computed here */
    gw_model *model = NULL;
    assert_int_equal(gw_model_open(ctx, s, &model), GW_OK);
    gw_coverage *cov = NULL;
    assert_int_equal(gw_coverage_compute(ctx, model, gw_model_acquire(model), NULL, &cov), GW_OK);
    assert_int_equal(gw_coverage_save(ctx, cov, s, NULL), GW_OK);
    gw_coverage_destroy(ctx, cov);
    gw_model_close(model);
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    doc = json_loads(js, 0, NULL);
    free(js);
    json_t *src = json_object_get(doc, "camera_coverage");
    assert_string_equal(json_string_value(json_object_get(src, "source")),
                        "coverage table + computed");
    assert_int_equal(json_integer_value(json_object_get(src, "stored")), 4);
    /* A, A2 and C (which received the cut's vertex on its southern edge) */
    assert_int_equal(json_integer_value(json_object_get(src, "computed")), 3);
    assert_true(fabs(bal_num(doc, "base_layout", "A", "camera_coverage") - ca) < 1e-9);
    assert_true(fabs(bal_num(doc, "base_layout", "B", "camera_coverage") - cb) < 1e-9);
    assert_true(fabs(bal_num(doc, "base_layout", "C", "camera_coverage") - cc) < 1e-9);
    json_decref(doc);
    gw_store_close(s);
}

/* Hash (FNV-1a) of a version's ids and geometry blobs in id order. */
static uint64_t version_hash(gw_store *s, int64_t v)
{
    uint64_t h = 1469598103934665603ull;
    if (gw_test_on_postgres()) { /* the WKB as hex text, ids byte-wise as SQLite orders them */
        char a[24];
        snprintf(a, sizeof a, "%lld", (long long)v);
        const char *p[] = {a};
        PGresult *r = pg_q(s,
                           "SELECT id, ST_AsBinary(geom) FROM grids WHERE version = $1::bigint "
                           "ORDER BY id COLLATE \"C\"",
                           1, p);
        for (int i = 0; i < PQntuples(r); i++)
            for (int c = 0; c < 2; c++)
                for (const char *b = PQgetvalue(r, i, c); *b; b++)
                    h = (h ^ (unsigned char)*b) * 1099511628211ull;
        PQclear(r);
        return h;
    }
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s),
                                        "SELECT id, geom FROM grids WHERE version "
                                        "= ?1 ORDER BY id",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, v);
    while (sqlite3_step(q) == SQLITE_ROW) {
        for (int c = 0; c < 2; c++) {
            const unsigned char *b = sqlite3_column_blob(q, c);
            int n = sqlite3_column_bytes(q, c);
            for (int i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
        }
    }
    sqlite3_finalize(q);
    return h;
}

static void test_publish_rollback(void **state)
{
    gw_store *s = make_db("publish.sqlite");
    uint64_t h1 = version_hash(s, 1);
    int64_t d = 0, v = 0, seq = 0, seq0 = 0;
    assert_int_equal(gw_store_last_seq(s, &seq0), GW_OK);
    assert_int_equal(gw_plan_draft_create(s, "east", "tester", &d), GW_OK);
    free(edit(s, d,
              "{\"op\":\"move_boundary\",\"grids\":[\"A\",\"B\"],\"line\":{\"type\":"
              "\"LineString\",\"coordinates\":[[115.013,34.999],[115.013,35.011]]}}",
              GW_OK));
    free(edit(s, d,
              "{\"op\":\"split\",\"grid\":\"D\",\"line\":{\"type\":\"LineString\","
              "\"coordinates\":[[115.009,35.015],[115.021,35.015]]}}",
              GW_OK));
    assert_int_equal(gw_plan_publish(s, d, "planner-1", 0, &v, &seq), GW_OK);
    assert_int_equal(v, 2);
    assert_true(seq > seq0);
    int64_t n = 0;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 5);
    assert_int_equal(q_int(s, "SELECT count(*) FROM grids WHERE version = 1"), 4);
    /* the incident on the moved boundary now belongs to A */
    assert_int_equal(q_int(s, "SELECT CAST(grid = 'A' AS INTEGER) FROM incidents WHERE id = 'I1'"),
                     1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM changelog WHERE layer = 'grids' AND op = "
                              "'publish'"),
                     1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM changelog WHERE layer = 'incidents'"), 1);
    assert_true(version_hash(s, 2) != h1);
    /* published drafts take no more edits or publishes */
    edit(s, d, "{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}", GW_ERR_CONFLICT);
    assert_int_equal(gw_plan_publish(s, d, "planner-1", 0, NULL, NULL), GW_ERR_CONFLICT);
    /* a stale draft (based on 1) cannot be published over 2 */
    int64_t d2 = 0;
    assert_int_equal(gw_plan_rollback(s, 2, "x", NULL, NULL), GW_ERR_CONFLICT);
    assert_int_equal(gw_plan_rollback(s, 1, "planner-2", &v, NULL), GW_OK);
    assert_int_equal(v, 3);
    assert_int_equal(version_hash(s, 3), h1);
    assert_int_equal(q_int(s, "SELECT CAST(grid = 'B' AS INTEGER) FROM incidents WHERE id = 'I1'"),
                     1);
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_int_equal(q_int(s, "SELECT count(*) FROM grid_versions WHERE status = 'published'"), 1);
    assert_int_equal(q_int(s, "SELECT version FROM grid_versions WHERE status = 'published'"), 3);
    assert_int_equal(gw_plan_rollback(s, 9, "x", NULL, NULL), GW_ERR_NOT_FOUND);
    assert_int_equal(q_int(s, "SELECT count(*) FROM audit_log WHERE action = 'plan.publish' AND "
                              "who = 'planner-1'"),
                     1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM audit_log WHERE action = 'plan.rollback' AND "
                              "who = 'planner-2'"),
                     1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM audit_log WHERE action = 'plan.edit'"), 2);
    char *js = NULL;
    assert_int_equal(gw_plan_versions(s, &js), GW_OK);
    assert_non_null(strstr(js, "\"version\":3"));
    assert_non_null(strstr(js, "\"current\":true"));
    free(js);
    /* a draft made before a publish is stale */
    gw_store_close(s);
    s = make_db("stale.sqlite");
    assert_int_equal(gw_plan_draft_create(s, "one", "t", &d), GW_OK);
    assert_int_equal(gw_plan_draft_create(s, "two", "t", &d2), GW_OK);
    assert_int_equal(gw_plan_publish(s, d, "t", 0, NULL, NULL), GW_OK);
    assert_int_equal(gw_plan_publish(s, d2, "t", 0, NULL, NULL), GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "published since"));
    gw_store_close(s);
}

/* Write a geometry straight into a draft (bypassing the edits) to make a broken layout. */
static void put_raw(gw_store *s, int64_t d, const char *id, const char *wkt)
{
    if (gw_test_on_postgres()) { /* the row replaced whole, as INSERT OR REPLACE does */
        char a[24];
        snprintf(a, sizeof a, "%lld", (long long)d);
        const char *p[] = {a, id, wkt};
        PQclear(
            pg_q(s, "DELETE FROM plan_draft_grids WHERE draft_id = $1::bigint AND id = $2", 2, p));
        PQclear(pg_q(s,
                     "INSERT INTO plan_draft_grids (draft_id, id, op, geom) VALUES ($1::bigint, "
                     "$2, 'upsert', ST_Multi(ST_GeomFromText($3, 4326)))",
                     3, p));
        return;
    }
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
    size_t n = 0;
    unsigned char *w = GEOSWKBWriter_write_r(h, wr, g, &n);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s),
                                        "INSERT OR REPLACE INTO plan_draft_grids "
                                        "(draft_id, id, op, geom) VALUES (?1, ?2, 'upsert', ?3)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, d);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, w, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    GEOSFree_r(h, w);
    GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, rd);
    GEOSWKBWriter_destroy_r(h, wr);
}

static void test_validation_finds_problems(void **state)
{
    gw_store *s = make_db("validate.sqlite");
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "broken", "tester", &d), GW_OK);
    gw_plan_report r = {0};
    assert_int_equal(gw_plan_validate_version(s, 1, NULL, &r), GW_OK);
    assert_true(r.tiles);
    assert_int_equal(r.grids, 4);
    gw_plan_report_free(&r);
    /* A shrinks (a gap), B grows into C's row (an overlap), D becomes a bow-tie (invalid),
     * C gains a far-away island (multipart, outside) */
    put_raw(s, d, "A", "POLYGON((115 35,115.009 35,115.009 35.01,115 35.01,115 35))");
    put_raw(s, d, "B", "POLYGON((115.01 35,115.02 35,115.02 35.012,115.01 35.012,115.01 35))");
    put_raw(s, d, "D",
            "POLYGON((115.01 35.01,115.02 35.02,115.02 35.01,115.01 35.02,115.01 35.01))");
    put_raw(s, d, "C",
            "MULTIPOLYGON(((115 35.01,115.01 35.01,115.01 35.02,115 35.02,115 35.01)),"
            "((115.1 35.1,115.1001 35.1,115.1001 35.1001,115.1 35.1)))");
    gw_plan_validate_opts o = {0, 0, 1.5e6};
    assert_int_equal(gw_plan_validate_draft(s, d, &o, &r), GW_OK);
    assert_false(r.tiles);
    assert_int_equal(r.invalid, 1);
    assert_int_equal(r.overlaps, 0); /* B overlaps D, which is invalid and left out */
    assert_true(r.gaps >= 1);
    /* A's 0.001° strip (~0.10 km²) + what B's overlap leaves of D (~0.81 km²) */
    if (!(r.gap_m2 > 0.90e6 && r.gap_m2 < 0.92e6))
        fail_msg("gaps %.1f m²: %s", r.gap_m2, strstr(r.geojson, "\"summary\""));
    assert_int_equal(r.outside, 1);
    assert_int_equal(r.multipart, 1);
    assert_int_equal(r.slivers, 0);
    assert_non_null(strstr(r.geojson, "\"issue\":\"invalid\""));
    assert_non_null(strstr(r.geojson, "Self-intersection"));
    gw_plan_report_free(&r);
    put_raw(s, d, "D",
            "POLYGON((115.01 35.01,115.02 35.01,115.02 35.02,115.01 35.02,115.01 35.01))");
    o.min_area_m2 = 1.2e6; /* every grid is a "sliver" now */
    assert_int_equal(gw_plan_validate_draft(s, d, &o, &r), GW_OK);
    assert_int_equal(r.invalid, 0);
    assert_int_equal(r.overlaps, 1);
    assert_true(r.overlap_m2 > 1e4);
    assert_non_null(strstr(r.geojson, "\"grids\":[\"B\",\"D\"]"));
    assert_true(r.slivers >= 3);
    gw_plan_report_free(&r);
    assert_int_equal(gw_plan_publish(s, d, "t", 0, NULL, NULL), GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "does not tile"));
    assert_int_equal(q_int(s, "SELECT count(*) FROM grid_versions"), 1);
    assert_int_equal(gw_plan_validate_version(s, 7, NULL, &r), GW_ERR_NOT_FOUND);
    gw_store_close(s);
}

static int setup(void **state)
{
    ctx = gw_test_ctx();
    return 0;
}

static int teardown(void **state)
{
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drafts_copy_on_write),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_move_boundary_and_reassign),
        cmocka_unit_test(test_publish_rollback),
        cmocka_unit_test(test_validation_finds_problems),
        cmocka_unit_test(test_balance_coverage_and_rooms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
