/* test_reach_pgr.c — isochrone areas against pgRouting (issue 20 item 5, docs/roads.md): the
 * synthetic city's road graph loaded into PostgreSQL (arcs with their metric polylines, cost
 * and reverse_cost in seconds, -1 where a one-way street forbids the direction), then for
 * sources at 12 nodes spread over the graph and bands of 3, 5 and 10 minutes, the area of
 * pgr_drivingDistance's reached nodes' edge parts (ST_LineSubstring of each edge leaving a
 * reached node by (T - agg_cost) / cost of its length) buffered by the same width with
 * PostGIS (quad_segs=8) equals gw_reach_isochrone's within 5e-5 relative (ours are snap-rounded
 * to 1 cm: half a centimetre times the perimeter, which is at most 0.01 of the area of a band
 * 200 m wide, bounds the difference), and the reached road lengths agree within 1e-6 relative.  Skipped (77) without a PostgreSQL server or without
 * the pgrouting extension (Debian postgresql-15-pgrouting).  Runs as the ctest entry
 * `reach_pgr` (label postgres). */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/reach.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static PGconn *admin, *db;
static char dbname[64];
static gw_ctx *ctx;

static PGresult *q(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_COPY_IN) {
        print_error("SQL failed: %s\n%s\n", PQerrorMessage(c), sql);
        fail();
    }
    return r;
}

static void cleanup(void)
{
    if (db) PQfinish(db);
    if (admin && *dbname) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", dbname);
        PQclear(PQexec(admin, sql));
    }
    if (admin) PQfinish(admin);
}

/* Load the graph's arcs into table edges (COPY of WKT in the graph's metric CRS). */
static void load_edges(const gw_road_graph *g)
{
    char sql[256];
    snprintf(
        sql, sizeof sql,
        "CREATE TABLE edges (id bigint PRIMARY KEY, source bigint, target bigint, cost float8, "
        "reverse_cost float8, length_m float8, geom geometry(LineString, %d))",
        gw_road_graph_srid(g));
    PQclear(q(db, sql));
    PQclear(q(db, "COPY edges FROM STDIN"));
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    for (size_t i = 0; i < gw_road_graph_arcs(g); i++) {
        gw_road_arc a;
        assert_int_equal(gw_road_graph_arc(g, i, &a), GW_OK);
        if (cap < 64 * a.npts + 256) line = realloc(line, cap = 64 * a.npts + 256);
        int k = snprintf(line, cap, "%zu\t%u\t%u\t%.17g\t%.17g\t%.17g\tSRID=%d;LINESTRING(", i,
                         a.from, a.to, a.fwd ? a.time_s : -1.0, a.bwd ? a.time_s : -1.0, a.length_m,
                         gw_road_graph_srid(g));
        for (size_t j = 0; j < a.npts; j++)
            k += snprintf(line + k, cap - (size_t)k, "%s%.17g %.17g", j ? "," : "", a.xy[2 * j],
                          a.xy[2 * j + 1]);
        k += snprintf(line + k, cap - (size_t)k, ")\n");
        assert_int_equal(PQputCopyData(db, line, k), 1);
    }
    free(line);
    assert_int_equal(PQputCopyEnd(db, NULL), 1);
    PGresult *r = PQgetResult(db);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQclear(q(db, "ANALYZE edges"));
}

/* pgRouting's area and road length for a source at node v within t seconds. */
static void pg_band(uint32_t v, double t, double w, double *area, double *road)
{
    char sql[2048];
    snprintf(
        sql, sizeof sql,
        "WITH dd AS (SELECT node, agg_cost FROM pgr_drivingDistance("
        "'SELECT id, source, target, cost, reverse_cost FROM edges', %u, %.17g, true)), "
        "p AS ("
        " SELECT ST_LineSubstring(e.geom, 0, CASE WHEN e.cost > 0 THEN LEAST(1, (%.17g - d.agg_cost) / e.cost) ELSE 1 END) g,"
        "  CASE WHEN e.cost > 0 THEN LEAST(1, (%.17g - d.agg_cost) / e.cost) ELSE 1 END f, e.id, 0 AS side"
        " FROM edges e JOIN dd d ON d.node = e.source WHERE e.cost >= 0 AND d.agg_cost < %.17g"
        " UNION ALL"
        " SELECT ST_LineSubstring(e.geom, 1 - CASE WHEN e.reverse_cost > 0 THEN LEAST(1, (%.17g - d.agg_cost) / e.reverse_cost) ELSE 1 END, 1),"
        "  CASE WHEN e.reverse_cost > 0 THEN LEAST(1, (%.17g - d.agg_cost) / e.reverse_cost) ELSE 1 END, e.id, 1"
        " FROM edges e JOIN dd d ON d.node = e.target WHERE e.reverse_cost >= 0 AND d.agg_cost < %.17g),"
        "l AS (SELECT e.id, LEAST(1, sum(p.f)) * e.length_m AS m FROM p JOIN edges e USING (id) GROUP BY e.id, e.length_m) "
        "SELECT (SELECT COALESCE(ST_Area(ST_Buffer(ST_Collect(g), %.17g, 'quad_segs=8')), 0) FROM p), "
        "(SELECT COALESCE(sum(m), 0) FROM l)",
        v, t, t, t, t, t, t, t, w);
    PGresult *r = q(db, sql);
    *area = atof(PQgetvalue(r, 0, 0));
    *road = atof(PQgetvalue(r, 0, 1));
    PQclear(r);
}

static void test_against_pgrouting(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("pgr.db"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 7};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, s, &co, &rep), GW_OK);
    gw_road_graph *g = NULL;
    assert_int_equal(gw_road_graph_build(ctx, s, NULL, &g), GW_OK);
    assert_true(gw_road_graph_nodes(g) > 100);
    load_edges(g);
    gw_road_search *sr = NULL;
    assert_int_equal(gw_road_search_create(ctx, g, &sr), GW_OK);
    const double w = 100, min[] = {3, 5, 10};
    size_t na = gw_road_graph_arcs(g), checked = 0;
    double worst_a = 0, worst_r = 0;
    for (int k = 0; k < 12; k++) {
        /* the start of an arc spread over the graph: a source at its `from` node (a two-way
         * arc: on a one-way one the search would start at its end, as a vehicle on it does) */
        gw_road_arc a;
        size_t ai = (size_t)k * na / 12;
        for (;; ai = (ai + 1) % na) {
            assert_int_equal(gw_road_graph_arc(g, ai, &a), GW_OK);
            if (a.bwd && a.fwd) break;
        }
        double x, y;
        gw_road_graph_node_xy(g, a.from, &x, &y);
        gw_road_snap sn = {.arc = (uint32_t)ai,
                           .frac = 0,
                           .x = x,
                           .y = y,
                           .from_s = 0,
                           .to_s = a.fwd ? a.time_s : -1,
                           .len_from_m = 0,
                           .len_to_m = a.length_m};
        for (int b = 0; b < 3; b++) {
            /* ours, through the same pieces and buffer the isochrone uses */
            gw_reach_iso *iso = NULL;
            assert_int_equal(gw_reach_isochrone_snapped(ctx, g, sr, &sn, &min[b], 1,
                                                        &(gw_reach_opts){.width_m = w}, &iso),
                             GW_OK);
            double pa, pr;
            pg_band(a.from, min[b] * 60, w, &pa, &pr);
            double oa = gw_reach_iso_area(iso, 0), orr = gw_reach_iso_road_m(iso, 0);
            if (!(fabs(oa - pa) <= 5e-5 * fmax(pa, 1)) || !(fabs(orr - pr) <= 1e-6 * fmax(pr, 1)))
                print_error(
                    "node %u, %g min: area ours %.3f pgRouting %.3f, road ours %.3f pgRouting %.3f\n",
                    a.from, min[b], oa, pa, orr, pr);
            assert_true(fabs(oa - pa) <= 5e-5 * fmax(pa, 1));
            assert_true(fabs(orr - pr) <= 1e-6 * fmax(pr, 1));
            checked += pa > 0;
            if (pa > 0)
                worst_a = fmax(worst_a, fabs(oa - pa) / pa),
                worst_r = fmax(worst_r, fabs(orr - pr) / pr);
            gw_reach_iso_destroy(ctx, iso);
        }
    }
    assert_true(checked >= 24);
    printf("%zu bands checked: largest relative difference %.3g in area, %.3g in road length\n",
           checked, worst_a, worst_r);
    gw_road_search_destroy(sr);
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

int main(void)
{
    ctx = gw_test_ctx();
    const char *url = getenv("GW_TEST_PG_URL");
    char conn[512];
    snprintf(conn, sizeof conn, "%spostgres", url && *url ? url : "postgresql:///");
    admin = PQconnectdb(conn);
    if (PQstatus(admin) != CONNECTION_OK) {
        printf("skipped: no PostgreSQL server (%s)\n", PQerrorMessage(admin));
        PQfinish(admin);
        return GW_TEST_SKIPPED;
    }
    PGresult *r = PQexec(admin, "SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'");
    int has = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!has) {
        printf(
            "skipped: the pgrouting extension is not installed (Debian postgresql-15-pgrouting)\n");
        PQfinish(admin);
        return GW_TEST_SKIPPED;
    }
    snprintf(dbname, sizeof dbname, "gw_reach_pgr_%d", (int)getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    PQclear(q(admin, sql));
    atexit(cleanup);
    snprintf(conn, sizeof conn, "%s%s", url && *url ? url : "postgresql:///", dbname);
    db = PQconnectdb(conn);
    if (PQstatus(db) != CONNECTION_OK) {
        printf("cannot connect to %s: %s\n", conn, PQerrorMessage(db));
        return 1;
    }
    PQclear(q(db, "CREATE EXTENSION postgis"));
    PQclear(q(db, "CREATE EXTENSION pgrouting"));
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_pgrouting)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
