/* test_cql2.c — the CQL2 text parser (geo/core/cql2.c, cql2_fn.c): every construct parsed and
 * written back in its normal form (gw_cql2_format), which parses to itself; the spatial
 * literal's WKB and envelope; and every refusal with its status and byte offset. */
#include "testutil.h"

#include "gridwatch/cql2.h"

#include <stdio.h>
#include <string.h>

static gw_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    return gw_ctx_create(&ctx) == GW_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

/* text parses on layer and formats as want; the formatted text parses and formats the same. */
static void ok(gw_layer layer, const char *text, const char *want)
{
    gw_cql2 *f = NULL;
    int pos = 0;
    gw_status st = gw_cql2_parse(ctx, layer, text, NULL, &f, &pos);
    if (st != GW_OK) fail_msg("'%s': %s %s", text, gw_status_str(st), gw_ctx_errmsg(ctx));
    assert_int_equal(pos, -1);
    char buf[2048], again[2048];
    gw_cql2_format(f, buf, sizeof buf);
    if (strcmp(buf, want) != 0) fail_msg("'%s' formats as\n  %s\nwant\n  %s", text, buf, want);
    gw_cql2 *g = NULL;
    assert_int_equal(gw_cql2_parse(ctx, layer, buf, NULL, &g, NULL), GW_OK);
    gw_cql2_format(g, again, sizeof again);
    assert_string_equal(again, buf);
    gw_cql2_free(g);
    gw_cql2_free(f);
}

/* text is refused on layer with status want at byte pos, the message holding `has`. */
static void bad(gw_layer layer, const char *text, gw_status want, int at, const char *has)
{
    gw_cql2 *f = (gw_cql2 *)1;
    int pos = -2;
    gw_status st = gw_cql2_parse(ctx, layer, text, NULL, &f, &pos);
    if (st != want || pos != at || !strstr(gw_ctx_errmsg(ctx), has))
        fail_msg("'%s': %s at %d '%s', want %s at %d with '%s'", text, gw_status_str(st), pos,
                 gw_ctx_errmsg(ctx), gw_status_str(want), at, has);
    assert_null(f);
    char at_text[32];
    snprintf(at_text, sizeof at_text, "at %d: ", at);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), at_text));
    assert_int_equal(gw_ctx_erroffset(ctx), at);
}

#define INC GW_LAYER_INCIDENTS

static void test_basic_cql2(void **state)
{
    (void)state;
    ok(INC, "severity = 3", "(\"severity\" = 3)");
    ok(INC, "severity<>3", "(\"severity\" <> 3)");
    ok(INC, "severity < 3 AND severity > 1", "((\"severity\" < 3) AND (\"severity\" > 1))");
    ok(INC, "severity <= 2.5 or severity >= 4", "((\"severity\" <= 2.5) OR (\"severity\" >= 4))");
    ok(INC, "NOT severity = 3", "NOT ((\"severity\" = 3))");
    ok(INC, "not (category = 'theft' or category = 'fraud') and severity = 1",
       "(NOT (((\"category\" = 'theft') OR (\"category\" = 'fraud'))) AND (\"severity\" = 1))");
    /* AND binds tighter than OR */
    ok(INC, "severity = 1 OR severity = 2 AND category = 'x'",
       "((\"severity\" = 1) OR ((\"severity\" = 2) AND (\"category\" = 'x')))");
    ok(INC, "\"category\" = 'it''s'", "(\"category\" = 'it''s')");
    ok(INC, "category = '盗窃'", "(\"category\" = '盗窃')");
    ok(INC, "3 < severity", "(3 < \"severity\")");
    ok(INC, "severity = -1e2", "(\"severity\" = -100.0)");
    ok(INC, "severity = +.5", "(\"severity\" = 0.5)");
    ok(INC, "grid = police_room", "(\"grid\" = \"police_room\")");
    ok(INC, "police_room IS NULL", "(\"police_room\" IS NULL)");
    ok(INC, "police_room IS NOT NULL AND geometry IS NOT NULL",
       "((\"police_room\" IS NOT NULL) AND (geometry IS NOT NULL))");
    ok(INC, "TRUE", "TRUE");
    ok(INC, "false OR true", "(FALSE OR TRUE)");
    ok(INC, "occurred_at >= TIMESTAMP('2025-01-01T08:00:00+08:00')",
       "(\"occurred_at\" >= TIMESTAMP('2025-01-01T00:00:00Z'))");
    ok(INC, "occurred_at < DATE('2025-02-01')",
       "(\"occurred_at\" < TIMESTAMP('2025-02-01T00:00:00Z'))");
    /* GDAL's OAPIF driver compares times with quoted strings */
    ok(INC, "occurred_at > '2025-01-01T00:00:00.000Z'",
       "(\"occurred_at\" > TIMESTAMP('2025-01-01T00:00:00Z'))");
    /* outside the window of stored times: the second just outside it (a fuzz finding: year 451
     * formatted as "451-…", which sorts after "2025-…" as text) */
    ok(INC,
       "occurred_at > TIMESTAMP('0451-01-01T00:00:00Z') AND occurred_at < '9999-01-01T00:00:00Z'",
       "((\"occurred_at\" > TIMESTAMP('1899-12-31T23:59:59Z')) AND (\"occurred_at\" < "
       "TIMESTAMP('2101-01-01T00:00:00Z')))");
    ok(GW_LAYER_CAMERAS, "fov >= 90 and range < 50.5", "((\"fov\" >= 90) AND (\"range\" < 50.5))");
    ok(GW_LAYER_TEAMS, "members=2", "(\"members\" = 2)");
}

static void test_advanced_comparisons(void **state)
{
    (void)state;
    ok(INC, "category LIKE 'th%'", "(\"category\" LIKE 'th%')");
    ok(INC, "category NOT LIKE '_ra\\%d'", "(\"category\" NOT LIKE '_ra\\%d')");
    ok(INC, "severity BETWEEN 2 AND 4", "(\"severity\" BETWEEN 2 AND 4)");
    ok(INC, "severity NOT BETWEEN 2 AND 4.5", "(\"severity\" NOT BETWEEN 2 AND 4.5)");
    ok(INC, "occurred_at BETWEEN '2025-01-01T00:00:00Z' AND TIMESTAMP('2025-02-01T00:00:00Z')",
       "(\"occurred_at\" BETWEEN TIMESTAMP('2025-01-01T00:00:00Z') AND "
       "TIMESTAMP('2025-02-01T00:00:00Z'))");
    ok(INC, "category IN ('theft','fraud', 'x')", "(\"category\" IN ('theft', 'fraud', 'x'))");
    ok(INC, "severity NOT IN (1)", "(\"severity\" NOT IN (1))");
}

static void test_spatial(void **state)
{
    (void)state;
    ok(INC, "S_INTERSECTS(geometry, BBOX(115.4, 35.2, 115.5, 35.3))",
       "S_INTERSECTS(geometry, POLYGON ((115.4 35.2, 115.5 35.2, 115.5 35.3, 115.4 35.3, 115.4 "
       "35.2)))");
    ok(INC, "s_intersects(geometry, point(115.4 35.2))",
       "S_INTERSECTS(geometry, POINT (115.4 35.2))");
    ok(INC, "S_WITHIN(POLYGON((115 35, 116 35, 116 36, 115 35)), geometry)",
       "S_CONTAINS(geometry, POLYGON ((115 35, 116 35, 116 36, 115 35)))");
    ok(GW_LAYER_GRIDS, "S_CONTAINS(geometry, POINT(115.4 35.2)) AND name LIKE '%'",
       "(S_CONTAINS(geometry, POINT (115.4 35.2)) AND (\"name\" LIKE '%'))");
    const char *more[] = {"S_DISJOINT", "S_EQUALS", "S_TOUCHES", "S_CROSSES", "S_OVERLAPS"};
    for (size_t i = 0; i < 5; i++) {
        char in[160], want[160];
        snprintf(in, sizeof in, "%s(geometry, LINESTRING(115 35, 116 36))", more[i]);
        snprintf(want, sizeof want, "%s(geometry, LINESTRING (115 35, 116 36))", more[i]);
        ok(INC, in, want);
    }
    ok(INC, "S_INTERSECTS(geometry, MULTIPOINT((115 35), (116 36)))",
       "S_INTERSECTS(geometry, MULTIPOINT (115 35, 116 36))"); /* as GEOS 3.11 writes it */
    /* the literal: WKB and envelope; filter-crs EPSG:4326 reads lat/lon */
    gw_cql2 *f = NULL;
    gw_cql2_opts o = {.swap_xy = 1};
    assert_int_equal(gw_cql2_parse(ctx, INC,
                                   "S_INTERSECTS(geometry, BBOX(35.2, 115.4, 35.3, 115.5))", &o, &f,
                                   NULL),
                     GW_OK);
    const gw_cql2_node *n = &f->nodes[f->root];
    assert_int_equal(n->kind, GW_CQL2_SPATIAL);
    assert_float_equal(n->env.minx, 115.4, 0), assert_float_equal(n->env.maxy, 35.3, 0);
    assert_true(n->wkb_len == 93 && n->wkb[0] == 1 && n->wkb[1] == 3); /* NDR polygon */
    gw_cql2_free(f);
    assert_int_equal(gw_cql2_parse(ctx, INC, "S_INTERSECTS(geometry, POINT(35.2 115.4))", &o, &f,
                                   NULL),
                     GW_OK);
    n = &f->nodes[f->root];
    assert_float_equal(n->env.minx, 115.4, 0), assert_float_equal(n->env.miny, 35.2, 0);
    gw_cql2_free(f);
}

static void test_temporal(void **state)
{
    (void)state;
    const char *T0 = "TIMESTAMP('2025-01-01T00:00:00Z')", *T1 = "TIMESTAMP('2025-02-01T00:00:00Z')";
    char want[400];
    ok(INC, "T_BEFORE(occurred_at, TIMESTAMP('2025-01-01T00:00:00Z'))",
       "(\"occurred_at\" < TIMESTAMP('2025-01-01T00:00:00Z'))");
    ok(INC, "T_AFTER(occurred_at, TIMESTAMP('2025-01-01T00:00:00Z'))",
       "(\"occurred_at\" > TIMESTAMP('2025-01-01T00:00:00Z'))");
    ok(INC, "T_AFTER(TIMESTAMP('2025-01-01T00:00:00Z'), occurred_at)",
       "(\"occurred_at\" < TIMESTAMP('2025-01-01T00:00:00Z'))");
    ok(INC, "T_EQUALS(occurred_at, TIMESTAMP('2025-01-01T00:00:00Z'))",
       "(\"occurred_at\" = TIMESTAMP('2025-01-01T00:00:00Z'))");
    snprintf(want, sizeof want, "((\"occurred_at\" >= %s) AND (\"occurred_at\" <= %s))", T0, T1);
    ok(INC, "T_INTERSECTS(occurred_at, INTERVAL('2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'))",
       want);
    snprintf(want, sizeof want, "((\"occurred_at\" > %s) AND (\"occurred_at\" < %s))", T0, T1);
    ok(INC,
       "T_DURING(occurred_at, INTERVAL(TIMESTAMP('2025-01-01T00:00:00Z'), '2025-02-01T00:00:00Z'))",
       want);
    snprintf(want, sizeof want, "((\"occurred_at\" < %s) OR (\"occurred_at\" > %s))", T0,
             "TIMESTAMP('2025-01-31T23:59:59Z')");
    ok(INC, "T_DISJOINT(occurred_at, INTERVAL(DATE('2025-01-01'), DATE('2025-01-31')))", want);
    /* open ends: just outside the window every stored time lies in (1900-2100) */
    ok(INC, "T_INTERSECTS(occurred_at, INTERVAL('..', '2025-02-01T00:00:00Z'))",
       "((\"occurred_at\" >= TIMESTAMP('1899-12-31T23:59:59Z')) AND (\"occurred_at\" <= "
       "TIMESTAMP('2025-02-01T00:00:00Z')))");
    ok(GW_LAYER_TEAMS, "t_intersects(updated_at, DATE('2025-01-01'))",
       "((\"updated_at\" >= TIMESTAMP('2025-01-01T00:00:00Z')) AND (\"updated_at\" <= "
       "TIMESTAMP('2025-01-01T23:59:59Z')))");
}

static void test_errors_with_position(void **state)
{
    (void)state;
    bad(INC, "", GW_ERR_FORMAT, 0, "empty filter");
    bad(INC, "severity >> 3", GW_ERR_FORMAT, 10, "expected a property or a literal");
    bad(INC, "sevrity = 3", GW_ERR_ARG, 0,
        "unknown property 'sevrity'; queryables of incidents: id, occurred_at");
    bad(INC, "severity = 3 AND \"no such\" = 1", GW_ERR_ARG, 17, "unknown property 'no such'");
    bad(INC, "category = 'open", GW_ERR_FORMAT, 11, "unterminated string");
    bad(INC, "\"category = 'x'", GW_ERR_FORMAT, 0, "unterminated quoted name");
    bad(INC, "severity = 3 $", GW_ERR_FORMAT, 13, "unexpected character '$'");
    bad(INC, "severity = 3 severity", GW_ERR_FORMAT, 13, "expected AND, OR or the end");
    bad(INC, "(severity = 3", GW_ERR_FORMAT, 13, "expected ')'");
    bad(INC, "severity", GW_ERR_FORMAT, 8, "expected a comparison");
    bad(INC, "severity = 'x'", GW_ERR_ARG, 9,
        "integer property 'severity' cannot be compared with a text literal");
    bad(INC, "category > 3", GW_ERR_ARG, 9, "text property 'category'");
    bad(INC, "occurred_at > 'yesterday'", GW_ERR_FORMAT, 12, "'yesterday' is not an RFC 3339 time");
    bad(INC, "occurred_at > TIMESTAMP('2025-01-01T00:00:00.5Z')", GW_ERR_ARG, 24,
        "fraction of a second");
    bad(INC, "occurred_at > DATE('2025-01-01T00:00:00Z')", GW_ERR_FORMAT, 19,
        "expected YYYY-MM-DD");
    bad(INC, "severity LIKE '1%'", GW_ERR_ARG, 9, "LIKE needs a text property");
    bad(INC, "category LIKE category", GW_ERR_FORMAT, 14, "expected a quoted pattern");
    bad(INC, "severity BETWEEN 1 OR 2", GW_ERR_FORMAT, 19, "expected AND in BETWEEN");
    bad(INC, "category BETWEEN 'a' AND 'b'", GW_ERR_ARG, 9, "BETWEEN needs a number or a time");
    bad(INC, "severity IN (1, 'x')", GW_ERR_ARG, 9, "cannot be compared");
    bad(INC, "severity IN (1 2)", GW_ERR_FORMAT, 15, "',' or ')' in the IN list");
    bad(INC, "severity IS 3", GW_ERR_FORMAT, 12, "expected NULL after IS");
    bad(INC, "geometry = 3", GW_ERR_ARG, 9, "spatial functions");
    bad(INC, "S_INTERSECTS(geometry, POINT(1))", GW_ERR_FORMAT, 23, "not a WKT geometry");
    bad(INC, "S_INTERSECTS(geometry, POINT(1 2", GW_ERR_FORMAT, 23, "missing ')'");
    bad(INC, "S_INTERSECTS(geometry, POINT(1 2)", GW_ERR_FORMAT, 33, "expected ')'");
    bad(INC, "S_INTERSECTS(geometry, POINT EMPTY)", GW_ERR_FORMAT, 23, "empty geometries");
    bad(INC, "S_INTERSECTS(geometry, POINT(200 35))", GW_ERR_RANGE, 23, "lon/lat");
    bad(INC, "S_INTERSECTS(geometry, BBOX(1,2,3))", GW_ERR_FORMAT, 23, "4 or 6 numbers");
    bad(INC, "S_INTERSECTS(geometry, BBOX(170,2,-170,3))", GW_ERR_ARG, 23, "antimeridian");
    bad(INC, "S_INTERSECTS(severity, POINT(1 2))", GW_ERR_ARG, 0, "takes the geometry property");
    bad(INC, "S_NEAR(geometry, POINT(1 2))", GW_ERR_FORMAT, 0, "unknown spatial function 'S_NEAR'");
    bad(INC, "POINT(1 2) = 3", GW_ERR_FORMAT, 0, "only inside a spatial or temporal function");
    bad(INC, "T_MEETS(occurred_at, TIMESTAMP('2025-01-01T00:00:00Z'))", GW_ERR_FORMAT, 0,
        "unsupported temporal function 'T_MEETS'");
    bad(INC, "T_AFTER(category, TIMESTAMP('2025-01-01T00:00:00Z'))", GW_ERR_ARG, 0,
        "needs a time property");
    bad(INC, "T_DURING(occurred_at, TIMESTAMP('2025-01-01T00:00:00Z'))", GW_ERR_ARG, 0,
        "T_DURING needs an INTERVAL");
    bad(INC, "T_INTERSECTS(occurred_at, INTERVAL('2025-02-01', '2025-01-01'))", GW_ERR_ARG, 0,
        "ends before it starts");
    bad(INC, "T_AFTER(occurred_at, INTERVAL('x', '..'))", GW_ERR_FORMAT, 30,
        "'x' is not an RFC 3339 time");
    bad(GW_LAYER_CAMERAS, "occurred_at > '2025-01-01'", GW_ERR_ARG, 0, "queryables of cameras");
    /* limits: nesting and length */
    char deep[400] = "";
    for (int i = 0; i < 70; i++) strcat(deep, "(");
    bad(INC, deep, GW_ERR_RANGE, 64, "nested too deep");
    char nots[600] = "";
    for (int i = 0; i < 70; i++) strcat(nots, "NOT ");
    strcat(nots, "severity = 1");
    bad(INC, nots, GW_ERR_RANGE, 256, "nested too deep");
    static char longf[20000];
    strcpy(longf, "severity = 1");
    for (int i = 0; i < 300; i++) strcat(longf, " OR severity = 1");
    bad(INC, longf, GW_ERR_RANGE, 2059, "too long"); /* term 129 of 3 nodes + 1 OR each */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_cql2),
        cmocka_unit_test(test_advanced_comparisons),
        cmocka_unit_test(test_spatial),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_errors_with_position),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
