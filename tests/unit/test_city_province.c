/* test_city_province.c — the synthetic city as a province (gw_city_opts.prefectures, issue 17):
 * two prefectures at a small scale hold twice one prefecture's features, every id is unique and
 * carries its prefecture (and so do the references between layers and the grids' county), the
 * prefectures do not overlap nor touch, each keeps the region's area, the truth lists both
 * prefectures' hotspots, and sixteen prefectures at a tiny scale lie on a lattice with no two
 * outlines meeting.  Runs on SQLite (ctest "city_province") and on PostgreSQL
 * ("city_province_pg"); one prefecture is test_city.c's and test_city_truth.c's business. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_store *generate(gw_ctx *ctx, const char *name, double scale, int prefectures,
                          const char *truth, gw_city_report *rep)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db(name), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts o = {.scale = scale, .seed = 5, .prefectures = prefectures, .truth = truth};
    gw_status st = gw_city_generate(ctx, s, &o, rep);
    if (st) fprintf(stderr, "gw_city_generate: %s: %s\n", gw_status_str(st), gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every id of the layer is unique and starts with "Pnn-"; the incidents' grid and police room
 * carry the incident's prefecture.  Returns the number of rows. */
static int64_t check_ids(gw_store *s, gw_layer layer, int prefectures)
{
    gw_cursor *cur = NULL;
    gw_row row;
    size_t n = 0, cap = 1024;
    char **ids = malloc(cap * sizeof *ids);
    assert_int_equal(gw_store_cursor_create(s, layer, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        const char *id = row.values[0].s;
        assert_non_null(id);
        int p = 0;
        assert_int_equal(sscanf(id, "P%2d-", &p), 1);
        assert_true(p >= 1 && p <= prefectures && id[3] == '-');
        if (layer == GW_LAYER_INCIDENTS) {
            assert_memory_equal(row.values[6].s, id, 4); /* grid */
            assert_memory_equal(row.values[7].s, id, 4); /* police room */
        }
        if (layer == GW_LAYER_GRIDS) { /* county "P03 牡丹区" */
            assert_memory_equal(row.values[3].s, id, 3);
            assert_int_equal(row.values[3].s[3], ' ');
        }
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[n++] = strdup(id);
    }
    gw_cursor_destroy(cur);
    qsort(ids, n, sizeof *ids, cmp_str);
    for (size_t i = 1; i < n; i++) assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    return (int64_t)n;
}

/* The union of each prefecture's grids, in lon/lat: out[p] for prefecture p + 1. */
static void prefecture_outlines(gw_ctx *ctx, gw_store *s, int prefectures, GEOSGeometry **out)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    GEOSGeometry ***parts = calloc((size_t)prefectures, sizeof *parts);
    unsigned *np = calloc((size_t)prefectures, sizeof *np), *cap = calloc(prefectures, sizeof *cap);
    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_GRIDS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        int p = atoi(row.values[0].s + 1) - 1;
        assert_true(p >= 0 && p < prefectures);
        if (np[p] == cap[p]) {
            cap[p] = cap[p] ? cap[p] * 2 : 64;
            parts[p] = realloc(parts[p], cap[p] * sizeof *parts[p]);
        }
        parts[p][np[p]] = GEOSWKBReader_read_r(h, rd, row.wkb, row.wkb_len);
        assert_non_null(parts[p][np[p]]);
        np[p]++;
    }
    gw_cursor_destroy(cur);
    for (int p = 0; p < prefectures; p++) {
        assert_true(np[p] > 0);
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts[p],
                                                         np[p]);
        out[p] = GEOSUnaryUnion_r(h, coll);
        assert_non_null(out[p]);
        GEOSGeom_destroy_r(h, coll);
        free(parts[p]);
    }
    free(parts), free(np), free(cap);
    GEOSWKBReader_destroy_r(h, rd);
}

/* No two prefectures meet: their outlines are disjoint (not even a shared boundary). */
static void check_disjoint(gw_ctx *ctx, GEOSGeometry **pf, int n, double *min_gap_deg)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    *min_gap_deg = INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            assert_int_equal(GEOSDisjoint_r(h, pf[i], pf[j]), 1);
            double d = 0;
            assert_true(GEOSDistance_r(h, pf[i], pf[j], &d));
            if (d < *min_gap_deg) *min_gap_deg = d;
        }
}

static void test_province_two(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double scale = 0.02;
    gw_city_report one, two;
    gw_store *a = generate(ctx, "one.db", scale, 1, NULL, &one);
    char truth[512];
    snprintf(truth, sizeof truth, "%s", gw_test_path("two.truth.geojson"));
    gw_store *b = generate(ctx, "two.db", scale, 2, truth, &two);
    /* twice the counts of one prefecture, in the report and in the store */
    assert_int_equal(two.grids, 2 * one.grids);
    assert_int_equal(two.police_rooms, 2 * one.police_rooms);
    assert_int_equal(two.cameras, 2 * one.cameras);
    assert_int_equal(two.teams, 2 * one.teams);
    assert_int_equal(two.incidents, 2 * one.incidents);
    /* each prefecture is built in the metric CRS of its own centre: the region's area, twice */
    assert_true(fabs(two.region_km2 - 2 * one.region_km2) < 1e-6 * two.region_km2);
    int64_t want[GW_LAYER_COUNT] = {two.grids, two.police_rooms, two.cameras, two.teams,
                                    two.incidents};
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        int64_t n = 0;
        assert_int_equal(gw_store_count(b, (gw_layer)l, &n), GW_OK);
        assert_int_equal(n, want[l]);
        assert_int_equal(check_ids(b, (gw_layer)l, 2), want[l]);
    }
    char buf[64];
    assert_int_equal(gw_store_meta_get(b, "city_prefectures", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "2");
    int srid_a = 0, srid_b = 0;
    assert_int_equal(gw_store_metric_srid(a, &srid_a), GW_OK);
    assert_int_equal(gw_store_metric_srid(b, &srid_b), GW_OK);
    assert_true(srid_b > 0);
    /* side by side, apart */
    GEOSGeometry *pf[2];
    double gap = 0;
    prefecture_outlines(ctx, b, 2, pf);
    check_disjoint(ctx, pf, 2, &gap);
    printf("  two prefectures: nearest outlines %.3f deg apart\n", gap);
    assert_true(gap > 0.01);
    for (int p = 0; p < 2; p++) GEOSGeom_destroy_r(gw_ctx_geos(ctx), pf[p]);
    /* the truth: both prefectures' hotspots, ids prefixed, incidents adding up */
    json_error_t err;
    json_t *t = json_load_file(truth, 0, &err);
    assert_non_null(t);
    assert_int_equal(json_integer_value(json_object_get(t, "prefectures")), 2);
    assert_int_equal(json_integer_value(json_object_get(t, "incidents")), two.incidents);
    assert_int_equal(json_integer_value(json_object_get(t, "metric_srid")), srid_b);
    json_t *feats = json_object_get(t, "features");
    int seen[2] = {0};
    long nhot = 0;
    for (size_t i = 0; i < json_array_size(feats); i++) {
        json_t *p = json_object_get(json_array_get(feats, i), "properties");
        const char *id = json_string_value(json_object_get(p, "id"));
        assert_non_null(id);
        assert_true(!strncmp(id, "P01-H", 5) || !strncmp(id, "P02-H", 5));
        seen[id[2] - '1']++;
        nhot += (long)json_integer_value(json_object_get(p, "incidents"));
    }
    assert_true(seen[0] >= 6 && seen[0] == seen[1]);
    assert_int_equal(nhot, json_integer_value(json_object_get(t, "hotspot_incidents")));
    json_decref(t);
    gw_store_close(a);
    gw_store_close(b);
    gw_ctx_destroy(ctx);
}

static void test_province_sixteen(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_city_report one, rep;
    gw_store *a = generate(ctx, "tiny_one.db", 0.002, 1, NULL, &one);
    gw_store *s = generate(ctx, "sixteen.db", 0.002, 16, NULL, &rep);
    assert_int_equal(rep.grids, 16 * one.grids);
    assert_int_equal(rep.incidents, 16 * one.incidents);
    assert_int_equal(check_ids(s, GW_LAYER_GRIDS, 16), rep.grids);
    GEOSGeometry *pf[16];
    double gap = 0;
    prefecture_outlines(ctx, s, 16, pf);
    check_disjoint(ctx, pf, 16, &gap);
    /* a near-square lattice: 4 x 4, P01 in the north-west, P16 in the south-east */
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    double x1, y1, x16, y16;
    GEOSGeometry *c1 = GEOSGetCentroid_r(h, pf[0]), *c16 = GEOSGetCentroid_r(h, pf[15]);
    GEOSGeomGetX_r(h, c1, &x1), GEOSGeomGetY_r(h, c1, &y1);
    GEOSGeomGetX_r(h, c16, &x16), GEOSGeomGetY_r(h, c16, &y16);
    printf("  sixteen prefectures: nearest outlines %.3f deg apart; P01 centre %.2f %.2f, P16 "
           "%.2f %.2f\n",
           gap, x1, y1, x16, y16);
    assert_true(gap > 0.01);
    assert_true(x1 < x16 && y1 > y16);
    assert_true(x16 - x1 > 4 && x16 - x1 < 8 && y1 - y16 > 2.5 && y1 - y16 < 6);
    GEOSGeom_destroy_r(h, c1), GEOSGeom_destroy_r(h, c16);
    for (int p = 0; p < 16; p++) GEOSGeom_destroy_r(h, pf[p]);
    gw_store_close(a);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

static void test_province_bad_count(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("bad.db"), GW_STORE_CREATE, &s), GW_OK);
    const int bad[] = {-1, GW_CITY_MAX_PREFECTURES + 1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_city_opts o = {.scale = 0.01, .seed = 1, .prefectures = bad[i]};
        assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_ERR_ARG);
        assert_non_null(strstr(gw_ctx_errmsg(ctx), "prefectures"));
    }
    int64_t n = -1;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 0);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_province_two),
        cmocka_unit_test(test_province_sixteen),
        cmocka_unit_test(test_province_bad_count),
    };
    return cmocka_run_group_tests_name("city_province", tests, NULL, NULL);
}
