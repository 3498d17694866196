/* test_tilestats.c — tilestats.h on tiles made with the MVT encoder whose figures are counted by
 * hand: distinct feature ids across tiles and zooms (features without an id not counted), the
 * geometry, attribute types (string, number, boolean, mixed), distinct counts, min/max, the
 * listed values (the 100 smallest, whatever the order the tiles come in), each layer's zooms,
 * and a malformed tile refused. */
#include "testutil.h"

#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"
#include "gridwatch/tilestats.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

#define S(k, v) ((gw_mvt_prop){k, {.type = GW_MVT_STRING, .u.s = v}})
#define I(k, v) ((gw_mvt_prop){k, {.type = GW_MVT_INT, .u.i = v}})
#define D(k, v) ((gw_mvt_prop){k, {.type = GW_MVT_DOUBLE, .u.d = v}})
#define B(k, v) ((gw_mvt_prop){k, {.type = GW_MVT_BOOL, .u.b = v}})

/* One tile of layer "pts" at t: points (id ids[i] when has_id[i]) with props[i][0..np[i]). */
static void add_tile(gw_tilestats *ts, gw_tile_id t, size_t n, const uint64_t *ids,
                     const bool *has_id, gw_mvt_prop props[][4], const size_t *np)
{
    gw_mvt *m = NULL;
    assert_int_equal(gw_mvt_create(ctx, t, NULL, &m), GW_OK);
    assert_int_equal(gw_mvt_add_layer(m, "pts", 0), GW_OK);
    gw_bbox b = gw_tile_bounds(t);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gw_mvt_add_point(m, ids[i], has_id[i], (b.minx + b.maxx) / 2,
                                          (b.miny + b.maxy) / 2, props[i], np[i], NULL),
                         GW_OK);
    const uint8_t *bytes;
    size_t len;
    assert_int_equal(gw_mvt_finish(m, &bytes, &len), GW_OK);
    assert_int_equal(gw_tilestats_add(ts, t.z, bytes, len), GW_OK);
    gw_mvt_destroy(m);
}

static json_t *attr(json_t *layer, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(layer, "attributes"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "attribute")), name) == 0) return a;
    fail_msg("no attribute %s", name);
    return NULL;
}

static void test_counts_types_ranges_zooms(void **state)
{
    (void)state;
    gw_tilestats *ts = NULL;
    assert_int_equal(gw_tilestats_create(ctx, &ts), GW_OK);
    /* zoom 5: ids 1, 2 and one cluster point without id */
    uint64_t ids1[] = {1, 2, 0};
    bool has1[] = {true, true, false};
    gw_mvt_prop p1[3][4] = {{S("s", "x"), I("n", 3), B("b", true), S("m", "one")},
                            {S("s", "y"), D("n", 2.5), B("b", true), I("m", 7)},
                            {I("count", 40), B("cluster", true)}};
    size_t np1[] = {4, 4, 2};
    add_tile(ts, (gw_tile_id){5, 10, 12}, 3, ids1, has1, p1, np1);
    /* zoom 7: id 1 again (the same feature), id 3 with n = -1 */
    uint64_t ids2[] = {1, 3};
    bool has2[] = {true, true};
    gw_mvt_prop p2[2][4] = {{S("s", "x"), I("n", 3)}, {S("s", "z"), I("n", -1)}};
    size_t np2[] = {2, 2};
    add_tile(ts, (gw_tile_id){7, 40, 50}, 2, ids2, has2, p2, np2);

    uint32_t z0 = 0, z1 = 0;
    assert_true(gw_tilestats_zooms(ts, "pts", &z0, &z1));
    assert_int_equal(z0, 5);
    assert_int_equal(z1, 7);
    assert_false(gw_tilestats_zooms(ts, "other", &z0, &z1));
    json_t *j = gw_tilestats_json(ts);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "layerCount")), 1);
    json_t *l = json_array_get(json_object_get(j, "layers"), 0);
    assert_string_equal(json_string_value(json_object_get(l, "layer")), "pts");
    assert_int_equal(json_integer_value(json_object_get(l, "count")), 3); /* ids 1, 2, 3 */
    assert_string_equal(json_string_value(json_object_get(l, "geometry")), "Point");
    assert_int_equal(json_integer_value(json_object_get(l, "attributeCount")), 6);
    json_t *a = attr(l, "s");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "string");
    assert_int_equal(json_integer_value(json_object_get(a, "count")), 3); /* x y z */
    assert_null(json_object_get(a, "min"));
    char *v = json_dumps(json_object_get(a, "values"), JSON_COMPACT);
    assert_string_equal(v, "[\"x\",\"y\",\"z\"]");
    free(v);
    a = attr(l, "n");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "number");
    assert_int_equal(json_integer_value(json_object_get(a, "count")), 3); /* 3 2.5 -1 */
    assert_float_equal(json_number_value(json_object_get(a, "min")), -1, 0);
    assert_float_equal(json_number_value(json_object_get(a, "max")), 3, 0);
    v = json_dumps(json_object_get(a, "values"), JSON_COMPACT);
    assert_string_equal(v, "[-1,2.5,3]");
    free(v);
    a = attr(l, "b");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "boolean");
    assert_int_equal(json_integer_value(json_object_get(a, "count")), 1);
    a = attr(l, "m");
    assert_string_equal(json_string_value(json_object_get(a, "type")), "mixed");
    v = json_dumps(json_object_get(a, "values"), JSON_COMPACT);
    assert_string_equal(v, "[7,\"one\"]"); /* numbers first */
    free(v);
    assert_int_equal(json_integer_value(json_object_get(attr(l, "count"), "max")), 40);
    json_decref(j);
    gw_tilestats_destroy(ts);
}

/* 150 distinct values in descending order: count 150, the listing the 100 smallest. */
static void test_values_capped_smallest(void **state)
{
    (void)state;
    gw_tilestats *ts = NULL;
    assert_int_equal(gw_tilestats_create(ctx, &ts), GW_OK);
    for (int k = 149; k >= 0; k--) {
        uint64_t id = (uint64_t)k + 1;
        bool has = true;
        gw_mvt_prop p[1][4] = {{I("v", k)}};
        size_t np = 1;
        add_tile(ts, (gw_tile_id){9, 100, 100}, 1, &id, &has, p, &np);
    }
    json_t *j = gw_tilestats_json(ts);
    json_t *l = json_array_get(json_object_get(j, "layers"), 0);
    assert_int_equal(json_integer_value(json_object_get(l, "count")), 150);
    json_t *a = attr(l, "v"), *vals = json_object_get(a, "values");
    assert_int_equal(json_integer_value(json_object_get(a, "count")), 150);
    assert_int_equal(json_array_size(vals), GW_TILESTATS_MAX_VALUES);
    for (size_t i = 0; i < json_array_size(vals); i++)
        assert_int_equal(json_integer_value(json_array_get(vals, i)), (json_int_t)i);
    json_decref(j);
    gw_tilestats_destroy(ts);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    gw_tilestats *ts = NULL;
    assert_int_equal(gw_tilestats_create(ctx, &ts), GW_OK);
    const uint8_t junk[] = {0x1A, 0x20, 0x0A, 0x03, 'p'}; /* a layer longer than the bytes */
    assert_int_equal(gw_tilestats_add(ts, 3, junk, sizeof junk), GW_ERR_FORMAT);
    assert_int_equal(gw_tilestats_add(ts, 3, NULL, 0), GW_OK); /* an empty tile: nothing */
    json_t *j = gw_tilestats_json(ts);
    assert_int_equal(json_integer_value(json_object_get(j, "layerCount")), 0);
    json_decref(j);
    gw_tilestats_destroy(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_types_ranges_zooms),
        cmocka_unit_test(test_values_capped_smallest),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
