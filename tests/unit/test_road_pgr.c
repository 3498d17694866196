/* test_road_pgr.c — the routing graph checked against pgRouting (issue 20, item 5): the same
 * arcs with their costs and reverse costs are loaded into PostgreSQL, and for many random
 * points the travel time from every team equals pgRouting's — pgr_dijkstraCost between the
 * snapped positions' arc ends plus the partial arc times (the snapping rule of docs/roads.md),
 * or the direct drive along a shared arc — within 1e-6 s; the k nearest by ETA are the same
 * teams in the same order; and on the Aguascalientes extract one-way streets are respected
 * (the drive against one goes round, pgRouting agrees).  Runs on the synthetic city (scale
 * 0.05, its teams), Aguascalientes (PBF) and West Oakland (XML) (points on the roads as
 * teams).  Exit 77 (skipped) without a PostgreSQL server with pgRouting, or without the real
 * data for the OSM parts.  Environment: GW_PGR_POINTS (default 1000) random points for the
 * city, a fifth of that for each extract; GW_PGR_ADMIN_URL the server's maintenance database
 * (default postgresql:///postgres; ctest passes GW_TEST_PG_URL's server). */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/io.h"
#include "gridwatch/model.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (failures++ < 20)                                                                   \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__), fprintf(stderr, __VA_ARGS__), \
                    fputc('\n', stderr);                                                           \
        }                                                                                          \
    } while (0)

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static PGresult *run(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_COPY_IN) {
        fprintf(stderr, "SQL failed: %s\n%s\n", sql, PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Load g's arcs as pgRouting's edge table `edges`. */
static int load_edges(PGconn *c, const gw_road_graph *g)
{
    PGresult *r = run(c, "DROP TABLE IF EXISTS edges; CREATE TABLE edges (id bigint PRIMARY KEY, "
                         "source bigint, target bigint, cost float8, reverse_cost float8)");
    if (!r) return -1;
    PQclear(r);
    if (!(r = run(c, "COPY edges FROM STDIN"))) return -1;
    PQclear(r);
    char line[256];
    for (size_t i = 0; i < gw_road_graph_arcs(g); i++) {
        gw_road_arc a;
        gw_road_graph_arc(g, i, &a);
        int n = snprintf(line, sizeof line, "%zu\t%u\t%u\t%.17g\t%.17g\n", i, a.from, a.to,
                         a.fwd ? a.time_s : -1.0, a.bwd ? a.time_s : -1.0);
        if (PQputCopyData(c, line, n) != 1) return -1;
    }
    if (PQputCopyEnd(c, NULL) != 1) return -1;
    r = PQgetResult(c);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(c))) PQclear(r);
    return ok ? 0 : -1;
}

/* pgRouting's cost matrix between node sets: cost[i * nb + j] from a[i] to b[j] (INFINITY when
 * unreachable; 0 on the diagonal). */
static int pgr_costs(PGconn *c, const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                     const uint32_t *ai, const uint32_t *bi, size_t nodes, double *cost)
{
    for (size_t i = 0; i < na * nb; i++) cost[i] = INFINITY;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (a[i] == b[j]) cost[i * nb + j] = 0;
    size_t cap = 64 + 12 * (na + nb);
    char *sql = malloc(cap + 256), *p = sql;
    p += sprintf(p, "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost('SELECT id, "
                    "source, target, cost, reverse_cost FROM edges', ARRAY[");
    for (size_t i = 0; i < na; i++) p += sprintf(p, "%s%u", i ? "," : "", a[i]);
    p += sprintf(p, "]::bigint[], ARRAY[");
    for (size_t j = 0; j < nb; j++) p += sprintf(p, "%s%u", j ? "," : "", b[j]);
    sprintf(p, "]::bigint[], directed => true)");
    PGresult *r = run(c, sql);
    free(sql);
    if (!r) return -1;
    for (int k = 0; k < PQntuples(r); k++) {
        long s = atol(PQgetvalue(r, k, 0)), e = atol(PQgetvalue(r, k, 1));
        if (s < 0 || e < 0 || (size_t)s >= nodes || (size_t)e >= nodes) continue;
        cost[(size_t)ai[s] * nb + bi[e]] = atof(PQgetvalue(r, k, 2));
    }
    PQclear(r);
    return 0;
}

/* The drive from snap t to snap p by pgRouting's node costs: out of t's arc, node to node,
 * into p's arc; or along their shared arc. */
static double combine(const gw_road_graph *g, const gw_road_snap *t, const gw_road_snap *p,
                      const double *cost, size_t nb, const uint32_t *ai, const uint32_t *bi)
{
    gw_road_arc ta, pa;
    gw_road_graph_arc(g, t->arc, &ta);
    gw_road_graph_arc(g, p->arc, &pa);
    double best = INFINITY;
    struct {
        uint32_t node;
        double s;
    } out[2] = {{ta.to, ta.fwd ? (1 - t->frac) * ta.time_s : NAN},
                {ta.from, ta.bwd ? t->frac * ta.time_s : NAN}},
      in[2] = {{pa.from, pa.fwd ? p->frac * pa.time_s : NAN},
               {pa.to, pa.bwd ? (1 - p->frac) * pa.time_s : NAN}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            if (isnan(out[i].s) || isnan(in[j].s)) continue;
            double v = out[i].s + cost[(size_t)ai[out[i].node] * nb + bi[in[j].node]] + in[j].s;
            if (v < best) best = v;
        }
    if (t->arc == p->arc) {
        if (pa.fwd && t->frac <= p->frac) best = fmin(best, (p->frac - t->frac) * pa.time_s);
        if (pa.bwd && t->frac >= p->frac) best = fmin(best, (t->frac - p->frac) * pa.time_s);
    }
    return best;
}

/* Random points over the graph's box, snapped. */
static size_t random_snaps(const gw_road_graph *g, size_t n, gw_road_snap *out)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (uint32_t v = 0; v < gw_road_graph_nodes(g); v++) {
        double x, y;
        gw_road_graph_node_xy(g, v, &x, &y);
        minx = fmin(minx, x), maxx = fmax(maxx, x), miny = fmin(miny, y), maxy = fmax(maxy, y);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (gw_road_snap_point(g, minx + urand() * (maxx - minx), miny + urand() * (maxy - miny), 0,
                               &out[k]) == GW_OK)
            k++;
    return k;
}

/* Every (team, point) travel time and each point's nearest 5 against pgRouting. */
static void compare(gw_ctx *ctx, PGconn *c, const char *what, const gw_road_graph *g,
                    const gw_road_snap *teams, size_t nt, const gw_road_snap *pts, size_t np)
{
    size_t nodes = gw_road_graph_nodes(g);
    uint32_t *ai = malloc(nodes * sizeof *ai), *bi = malloc(nodes * sizeof *bi);
    uint32_t *a = malloc(2 * nt * sizeof *a), *b = malloc(2 * np * sizeof *b);
    size_t na = 0, nb = 0;
    memset(ai, 0xff, nodes * sizeof *ai), memset(bi, 0xff, nodes * sizeof *bi);
    for (size_t i = 0; i < nt; i++) {
        gw_road_arc r;
        gw_road_graph_arc(g, teams[i].arc, &r);
        uint32_t e[2] = {r.from, r.to};
        for (int k = 0; k < 2; k++)
            if (ai[e[k]] == UINT32_MAX) ai[e[k]] = (uint32_t)na, a[na++] = e[k];
    }
    for (size_t i = 0; i < np; i++) {
        gw_road_arc r;
        gw_road_graph_arc(g, pts[i].arc, &r);
        uint32_t e[2] = {r.from, r.to};
        for (int k = 0; k < 2; k++)
            if (bi[e[k]] == UINT32_MAX) bi[e[k]] = (uint32_t)nb, b[nb++] = e[k];
    }
    double *cost = malloc(na * nb * sizeof *cost);
    CHECK(pgr_costs(c, a, na, b, nb, ai, bi, nodes, cost) == 0, "%s: pgr_dijkstraCost", what);
    gw_road_search *s = NULL;
    CHECK(gw_road_search_create(ctx, g, &s) == GW_OK, "search");
    gw_road_eta *e = malloc(nt * sizeof *e);
    double *ours = malloc(nt * sizeof *ours), *theirs = malloc(nt * sizeof *theirs);
    size_t pairs = 0, reach = 0, orders = 0;
    double worst = 0;
    for (size_t p = 0; p < np; p++) {
        size_t n = 0;
        CHECK(gw_road_nearest(s, &pts[p], teams, nt, 0, e, &n) == GW_OK, "nearest");
        for (size_t t = 0; t < nt; t++) ours[t] = INFINITY;
        for (size_t i = 0; i < n; i++) ours[e[i].source] = e[i].eta_s;
        for (size_t t = 0; t < nt; t++) {
            theirs[t] = combine(g, &teams[t], &pts[p], cost, nb, ai, bi);
            pairs++;
            if (isinf(ours[t]) || isinf(theirs[t])) {
                CHECK(isinf(ours[t]) && isinf(theirs[t]),
                      "%s: point %zu team %zu: ours %.9f, pgRouting %.9f", what, p, t, ours[t],
                      theirs[t]);
                continue;
            }
            reach++;
            double d = fabs(ours[t] - theirs[t]);
            worst = fmax(worst, d);
            CHECK(d <= 1e-6, "%s: point %zu team %zu: ours %.9f s, pgRouting %.9f s", what, p, t,
                  ours[t], theirs[t]);
        }
        /* the 5 nearest: our k-stopped search against pgRouting's times sorted */
        size_t k = 5 < nt ? 5 : nt, got = 0;
        CHECK(gw_road_nearest(s, &pts[p], teams, nt, k, e, &got) == GW_OK, "nearest k");
        for (size_t i = 0; i < got; i++) {
            /* the i-th of pgRouting: how many teams are strictly faster than ours[i]'s pick */
            size_t faster = 0;
            for (size_t t = 0; t < nt; t++) faster += theirs[t] < e[i].eta_s - 1e-6;
            CHECK(faster == i || (i > 0 && fabs(e[i].eta_s - e[i - 1].eta_s) <= 1e-6),
                  "%s: point %zu: our #%zu (team %zu, %.6f s) has %zu faster by pgRouting", what, p,
                  i + 1, e[i].source, e[i].eta_s, faster);
            CHECK(fabs(theirs[e[i].source] - e[i].eta_s) <= 1e-6, "%s: k order time", what);
        }
        orders++;
    }
    printf("%s: %zu teams x %zu points = %zu pairs (%zu reachable), worst |ours - pgRouting| = "
           "%.3g s, %zu top-5 lists\n",
           what, nt, np, pairs, reach, worst, orders);
    /* a clipped extract strands points on one-way stubs that leave it: a third at least */
    CHECK(reach * 3 > pairs, "%s: too few reachable pairs (%zu of %zu)", what, reach, pairs);
    free(e), free(ours), free(theirs), free(cost), free(a), free(b), free(ai), free(bi);
    gw_road_search_destroy(s);
}

/* On a one-way arc at least 30 m long: from 80 % back to 20 % goes round; forwards is direct. */
static void check_oneway(gw_ctx *ctx, PGconn *c, const gw_road_graph *g)
{
    gw_road_search *s = NULL;
    gw_road_search_create(ctx, g, &s);
    int found = 0;
    for (size_t i = 0; i < gw_road_graph_arcs(g) && found < 10; i++) {
        gw_road_arc a;
        gw_road_graph_arc(g, i, &a);
        if (!(a.fwd && !a.bwd && a.length_m > 30 && a.from != a.to)) continue;
        gw_road_snap p20 = {.arc = (uint32_t)i, .frac = 0.2},
                     p80 = {.arc = (uint32_t)i, .frac = 0.8};
        double back, fwd, m;
        gw_road_eta_between(s, &p80, &p20, &back, &m);
        gw_road_eta_between(s, &p20, &p80, &fwd, &m);
        CHECK(fabs(fwd - 0.6 * a.time_s) < 1e-9, "one-way arc %zu: forward %.6f", i, fwd);
        CHECK(back > 0.6 * a.time_s + 1e-6, "one-way arc %zu: against it in %.6f s", i, back);
        /* pgRouting: from the arc's end round to its start, plus the two partial drives */
        uint32_t na[1] = {a.to}, nbn[1] = {a.from};
        size_t nodes = gw_road_graph_nodes(g);
        uint32_t *ai = calloc(nodes, sizeof *ai), *bi = calloc(nodes, sizeof *bi);
        double cost;
        pgr_costs(c, na, 1, nbn, 1, ai, bi, nodes, &cost);
        double want = 0.2 * a.time_s + cost + 0.2 * a.time_s;
        CHECK(isinf(back) ? isinf(want) : fabs(back - want) <= 1e-6,
              "one-way arc %zu: ours %.9f, pgRouting %.9f", i, back, want);
        free(ai), free(bi);
        found++;
    }
    CHECK(found >= 5, "only %d one-way arcs found", found);
    printf("aguascalientes: %d one-way streets driven against: all go round, as pgRouting\n",
           found);
    gw_road_search_destroy(s);
}

static void osm_case(gw_ctx *ctx, PGconn *c, const char *rel, const char *name, size_t np,
                     int oneway)
{
    const char *path = gw_test_real(rel);
    if (!path) return;
    char db[64];
    snprintf(db, sizeof db, "pgr_%s.sqlite", name);
    gw_store *s = NULL;
    unlink(gw_test_path(db));
    CHECK(gw_store_open(ctx, gw_test_path(db), GW_STORE_CREATE, &s) == GW_OK, "open");
    CHECK(gw_io_import_roads(ctx, s, path, NULL, NULL) == GW_OK, "%s: import: %s", name,
          gw_ctx_errmsg(ctx));
    gw_road_graph *g = NULL;
    CHECK(gw_road_graph_build(ctx, s, NULL, &g) == GW_OK, "%s: graph", name);
    CHECK(load_edges(c, g) == 0, "%s: edges into PostgreSQL", name);
    gw_road_snap *teams = malloc(40 * sizeof *teams), *pts = malloc(np * sizeof *pts);
    size_t nt = random_snaps(g, 40, teams), n = random_snaps(g, np, pts);
    compare(ctx, c, name, g, teams, nt, pts, n);
    if (oneway) check_oneway(ctx, c, g);
    free(teams), free(pts);
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

int main(void)
{
    const char *url = getenv("GW_PGR_ADMIN_URL") ? getenv("GW_PGR_ADMIN_URL")
                                                 : "postgresql:///postgres";
    PGconn *admin = PQconnectdb(url);
    if (PQstatus(admin) == CONNECTION_OK)
        PQclear(PQexec(admin, "SET client_min_messages = warning"));
    if (PQstatus(admin) != CONNECTION_OK) {
        printf("skipped: no PostgreSQL server at %s\n", url);
        PQfinish(admin);
        return GW_TEST_SKIPPED;
    }
    PGresult *r = PQexec(admin, "SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'");
    int have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!have) {
        printf("skipped: pgRouting is not installed (Debian: postgresql-15-pgrouting)\n");
        PQfinish(admin);
        return GW_TEST_SKIPPED;
    }
    char sql[160], conninfo[512];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS gw_pgr_%d", (int)getpid());
    PQclear(PQexec(admin, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE gw_pgr_%d", (int)getpid());
    if (!(r = run(admin, sql))) return 1;
    PQclear(r);
    snprintf(conninfo, sizeof conninfo,
             "host='%s' port='%s' user='%s' dbname=gw_pgr_%d "
             "options='-c client_min_messages=warning'",
             PQhost(admin), PQport(admin), PQuser(admin), (int)getpid());
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK || !(r = run(c, "CREATE EXTENSION pgrouting CASCADE")))
        return fprintf(stderr, "cannot prepare the pgRouting database\n"), 1;
    PQclear(r);
    gw_ctx *ctx = gw_test_ctx();
    size_t np = getenv("GW_PGR_POINTS") ? (size_t)atol(getenv("GW_PGR_POINTS")) : 1000;

    /* the synthetic city and its teams */
    gw_store *s = NULL;
    unlink(gw_test_path("pgr_city.sqlite"));
    CHECK(gw_store_open(ctx, gw_test_path("pgr_city.sqlite"), GW_STORE_CREATE, &s) == GW_OK,
          "open");
    gw_city_opts co = {.scale = 0.05, .seed = 11};
    CHECK(gw_city_generate(ctx, s, &co, NULL) == GW_OK, "city: %s", gw_ctx_errmsg(ctx));
    gw_road_graph *g = NULL;
    CHECK(gw_road_graph_build(ctx, s, NULL, &g) == GW_OK, "city graph");
    CHECK(load_edges(c, g) == 0, "city edges into PostgreSQL");
    gw_model *m = NULL;
    CHECK(gw_model_open(ctx, s, &m) == GW_OK, "model");
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *T = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    size_t nteam = gw_layer_data_count(T), nt = 0;
    const double *lx = gw_layer_data_x(T, GW_MODEL_LONLAT),
                 *ly = gw_layer_data_y(T, GW_MODEL_LONLAT);
    gw_road_snap *teams = malloc(nteam * sizeof *teams), *pts = malloc(np * sizeof *pts);
    for (size_t i = 0; i < nteam; i++) {
        double x, y;
        if (gw_road_graph_to_metric(ctx, g, lx[i], ly[i], &x, &y) == GW_OK &&
            gw_road_snap_point(g, x, y, 0, &teams[nt]) == GW_OK)
            nt++;
    }
    CHECK(nt == nteam, "every team snaps (%zu of %zu)", nt, nteam);
    size_t n = random_snaps(g, np, pts);
    compare(ctx, c, "city", g, teams, nt, pts, n);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_road_graph_destroy(g);
    gw_store_close(s);
    free(teams), free(pts);

    /* the real OpenStreetMap extracts */
    size_t npo = np / 5 ? np / 5 : 1;
    osm_case(ctx, c, "osm/aguascalientes.osm.pbf", "aguascalientes", npo, 1);
    osm_case(ctx, c, "osm/west-oakland.osm", "west_oakland", npo, 0);

    PQfinish(c);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS gw_pgr_%d", (int)getpid());
    PQclear(PQexec(admin, sql));
    PQfinish(admin);
    gw_ctx_destroy(ctx);
    if (failures) fprintf(stderr, "%d checks failed\n", failures);
    return failures ? 1 : 0;
}
