/* bench_roads.c — dispatch by road (issue 20 item 6): nearest-5 by ETA over random incident
 * places, in-process (gw_dispatch_nearest_eta) and over HTTP (GET /dispatch/nearest?by=eta on a
 * running server), beside pgRouting answering the same question in the same run; graph build
 * time and memory; isochrones of police rooms and the per-grid reach.  Prints
 * `ROW|figure|ours|peer|peer value|ratio` lines (ratio above 1: we are ahead).
 *
 * usage: bench_roads CITY.db [--points N] [--url BASE] [--pg CONNINFO] [--pg-points M]
 *                            [--rooms R] [--no-grids]
 *
 * The pgRouting side: the graph's arcs are loaded into table gw_roads_edges of the CONNINFO
 * database (cost and reverse_cost in seconds, -1 for a forbidden direction), every available
 * team and each incident place snapped to its road's nearer end node; one query per place:
 * pgr_dijkstraCost from the place's node over the reversed edges to the array of team nodes,
 * ORDER BY agg_cost LIMIT 5 — one search per query as ours, over PostgreSQL's protocol.  The
 * teams' snapped positions (ours) versus their nearer nodes (pgRouting) make the two answers
 * differ slightly; the times are what is compared (test_reach_pgr and h-road's checks compare
 * the answers). */
#include "gridwatch/dispatch.h"
#include "gridwatch/model.h"
#include "gridwatch/reach.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n) return NAN;
    qsort(v, n, sizeof *v, cmpd);
    size_t i = (size_t)ceil(p * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
    (void)p, (void)u;
    return sz * n;
}

/* The nearer end node of the road a metric point snaps to (UINT32_MAX when none). */
static uint32_t node_of(const gw_road_graph *g, double x, double y)
{
    gw_road_snap sn;
    if (gw_road_snap_point(g, x, y, 500, &sn)) return UINT32_MAX;
    gw_road_arc a;
    gw_road_graph_arc(g, sn.arc, &a);
    return sn.frac < 0.5 ? a.from : a.to;
}

static int pg_ok(PGconn *c, PGresult *r, const char *what)
{
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_COPY_IN) return 1;
    fprintf(stderr, "bench_roads: %s: %s", what, PQerrorMessage(c));
    return 0;
}

/* Load the arcs and the team nodes; 0 when done. */
static int pg_load(PGconn *c, const gw_road_graph *g, const uint32_t *tnode, size_t nt)
{
    PGresult *r = PQexec(
        c, "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pgrouting CASCADE; "
           "DROP TABLE IF EXISTS gw_roads_edges, gw_roads_teams; "
           "CREATE TABLE gw_roads_edges (id bigint PRIMARY KEY, source bigint, target "
           "bigint, cost float8, reverse_cost float8); "
           "CREATE TABLE gw_roads_teams (node bigint)");
    int ok = pg_ok(c, r, "creating the tables");
    PQclear(r);
    if (!ok) return -1;
    r = PQexec(c, "COPY gw_roads_edges FROM STDIN");
    ok = pg_ok(c, r, "COPY");
    PQclear(r);
    char line[256];
    for (size_t i = 0; ok && i < gw_road_graph_arcs(g); i++) {
        gw_road_arc a;
        gw_road_graph_arc(g, i, &a);
        int k = snprintf(line, sizeof line, "%zu\t%u\t%u\t%.17g\t%.17g\n", i, a.from, a.to,
                         a.fwd ? a.time_s : -1.0, a.bwd ? a.time_s : -1.0);
        ok = PQputCopyData(c, line, k) == 1;
    }
    ok = PQputCopyEnd(c, NULL) == 1 && ok;
    r = PQgetResult(c);
    ok = ok && pg_ok(c, r, "COPY end");
    PQclear(r);
    if (!ok) return -1;
    r = PQexec(c, "COPY gw_roads_teams FROM STDIN");
    PQclear(r);
    for (size_t i = 0; i < nt; i++) {
        if (tnode[i] == UINT32_MAX) continue;
        int k = snprintf(line, sizeof line, "%u\n", tnode[i]);
        PQputCopyData(c, line, k);
    }
    PQputCopyEnd(c, NULL);
    r = PQgetResult(c);
    ok = pg_ok(c, r, "COPY teams");
    PQclear(r);
    r = PQexec(c, "ANALYZE gw_roads_edges; ANALYZE gw_roads_teams");
    PQclear(r);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_roads CITY.db [--points N] [--url BASE] [--pg CONNINFO] "
                        "[--pg-points M] [--rooms R] [--no-grids]\n");
        return 2;
    }
    const char *db = argv[1], *url = NULL, *pg = NULL;
    size_t npts = 20000, pgpts = 200, nrooms = 50;
    int grids = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--points") && i + 1 < argc) npts = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
        else if (!strcmp(argv[i], "--pg") && i + 1 < argc) pg = argv[++i];
        else if (!strcmp(argv[i], "--pg-points") && i + 1 < argc)
            pgpts = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rooms") && i + 1 < argc) nrooms = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-grids")) grids = 0;
        else {
            fprintf(stderr, "bench_roads: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    gw_model *m = NULL;
    gw_dispatch *d = NULL;
    gw_road_graph *g = NULL;
    gw_road_search *q = NULL;
    if (gw_ctx_create(&ctx) || gw_store_open(ctx, db, GW_STORE_READONLY, &s) ||
        gw_model_open(ctx, s, &m) || gw_dispatch_create(ctx, m, NULL, &d)) {
        fprintf(stderr, "bench_roads: %s\n", ctx ? gw_ctx_errmsg(ctx) : "no context");
        return 1;
    }
    /* graph build: time and memory */
    long rss0 = rss_kb();
    double t0 = now_s();
    gw_road_graph_opts go = {.metric_srid = gw_model_metric_srid(m)};
    if (gw_road_graph_build(ctx, s, &go, &g) || gw_road_search_create(ctx, g, &q)) {
        fprintf(stderr, "bench_roads: %s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    double build_s = now_s() - t0;
    long rss1 = rss_kb();
    printf("graph: %zu nodes, %zu arcs, %zu directed edges, %.1f MB (graph_bytes), RSS +%.1f MB, "
           "built in %.3f s\n",
           gw_road_graph_nodes(g), gw_road_graph_arcs(g), gw_road_graph_edges(g),
           gw_road_graph_bytes(g) / 1048576.0, (rss1 - rss0) / 1024.0, build_s);
    if (!gw_road_graph_nodes(g)) {
        fprintf(stderr, "bench_roads: %s has no roads (generate it with this build's gen-city)\n",
                db);
        return 1;
    }
    /* the places: random incidents */
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    size_t ni = gw_layer_data_count(inc);
    const double *ix = gw_layer_data_x(inc, GW_MODEL_LONLAT),
                 *iy = gw_layer_data_y(inc, GW_MODEL_LONLAT);
    size_t *pick = malloc(npts * sizeof *pick);
    for (size_t i = 0; i < npts; i++) pick[i] = (size_t)(next_rand() % ni);

    /* in-process */
    double *lat_ms = malloc(npts * sizeof *lat_ms);
    size_t done = 0, missed = 0;
    gw_nearest_opts o = {.k = 5, .include_stale = 1, .lonlat = 1};
    gw_team_eta out[8];
    double tin = now_s();
    for (size_t i = 0; i < npts; i++) {
        size_t n = 0, lost = 0;
        o.lon = ix[pick[i]], o.lat = iy[pick[i]];
        double a = now_s();
        gw_status st = gw_dispatch_nearest_eta(ctx, d, g, q, o.lon, o.lat, &o, 500, out, &n, &lost,
                                               NULL);
        double b = now_s();
        if (st) {
            missed++;
            continue;
        }
        lat_ms[done++] = (b - a) * 1e3;
    }
    tin = now_s() - tin;
    double in50 = pct(lat_ms, done, 0.5), in99 = pct(lat_ms, done, 0.99),
           inmax = pct(lat_ms, done, 1);
    printf("in-process: %zu queries (%zu places far from roads), p50 %.3f ms, p99 %.3f ms, max "
           "%.3f ms, %.0f q/s on one thread\n",
           done, missed, in50, in99, inmax, done / tin);

    /* HTTP: one connection, keep-alive */
    double h50 = NAN, h99 = NAN;
    if (url) {
        CURL *c = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        size_t hn = npts < 5000 ? npts : 5000, hd = 0;
        double *hl = malloc(hn * sizeof *hl);
        char u[512];
        for (size_t i = 0; i < hn; i++) {
            snprintf(u, sizeof u,
                     "%s/dispatch/nearest?lon=%.7f&lat=%.7f&k=5&by=eta&include_stale=1", url,
                     ix[pick[i]], iy[pick[i]]);
            curl_easy_setopt(c, CURLOPT_URL, u);
            double a = now_s();
            CURLcode rc = curl_easy_perform(c);
            double b = now_s();
            long code = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            if (rc == CURLE_OK && code == 200) hl[hd++] = (b - a) * 1e3;
        }
        curl_easy_cleanup(c);
        h50 = pct(hl, hd, 0.5), h99 = pct(hl, hd, 0.99);
        printf("HTTP: %zu of %zu answered 200, p50 %.3f ms, p99 %.3f ms\n", hd, hn, h50, h99);
        free(hl);
    }

    /* pgRouting */
    double p50 = NAN, p99 = NAN;
    if (pg) {
        PGconn *c = PQconnectdb(pg);
        if (PQstatus(c) != CONNECTION_OK) {
            fprintf(stderr, "bench_roads: %s", PQerrorMessage(c));
        } else {
            const gw_layer_data *tl = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
            size_t nt = gw_layer_data_count(tl);
            int fst = gw_layer_field_index(GW_LAYER_TEAMS, "status");
            const double *tx = gw_layer_data_x(tl, GW_MODEL_METRIC),
                         *ty = gw_layer_data_y(tl, GW_MODEL_METRIC);
            uint32_t *tn = malloc((nt + 1) * sizeof *tn);
            size_t avail = 0;
            for (size_t i = 0; i < nt; i++) {
                const char *stt = gw_layer_data_text(tl, i, fst);
                tn[i] = stt && !strcmp(stt, "available") ? node_of(g, tx[i], ty[i]) : UINT32_MAX;
                avail += tn[i] != UINT32_MAX;
            }
            double lt = now_s();
            if (pg_load(c, g, tn, nt) == 0) {
                printf("pgRouting: graph and %zu available teams loaded in %.1f s\n", avail,
                       now_s() - lt);
                size_t pn = pgpts < npts ? pgpts : npts, pd = 0;
                double *pl = malloc((pn + 1) * sizeof *pl);
                char sql[1024];
                for (size_t i = 0; i < pn; i++) {
                    double x = ix[pick[i]], y = iy[pick[i]];
                    if (gw_road_graph_to_metric(ctx, g, x, y, &x, &y)) continue;
                    uint32_t v = node_of(g, x, y);
                    if (v == UINT32_MAX) continue;
                    snprintf(sql, sizeof sql,
                             "SELECT end_vid, agg_cost FROM pgr_dijkstraCost('SELECT id, source, "
                             "target, reverse_cost AS cost, cost AS reverse_cost FROM "
                             "gw_roads_edges', %u, ARRAY(SELECT node FROM gw_roads_teams), true) "
                             "ORDER BY agg_cost LIMIT 5",
                             v);
                    double a = now_s();
                    PGresult *r = PQexec(c, sql);
                    double b = now_s();
                    if (PQresultStatus(r) == PGRES_TUPLES_OK) pl[pd++] = (b - a) * 1e3;
                    else fprintf(stderr, "bench_roads: pgRouting: %s", PQerrorMessage(c));
                    PQclear(r);
                }
                p50 = pct(pl, pd, 0.5), p99 = pct(pl, pd, 0.99);
                printf("pgRouting: %zu queries, p50 %.3f ms, p99 %.3f ms\n", pd, p50, p99);
                free(pl);
            }
            free(tn);
        }
        PQfinish(c);
    }

    /* isochrones of rooms (3, 5, 10 minutes) and the grid reach */
    const gw_layer_data *rl = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS);
    size_t nr = gw_layer_data_count(rl), rd = 0;
    double *il = malloc((nrooms + 1) * sizeof *il), *ic = malloc((nrooms + 1) * sizeof *ic);
    const double bands[] = {3, 5, 10};
    for (size_t i = 0; i < nrooms && nr; i++) {
        size_t r = (size_t)(next_rand() % nr);
        gw_reach_iso *iso = NULL;
        double a = now_s(), ca = cpu_s();
        gw_status st = gw_reach_isochrone(ctx, g, q, gw_layer_data_x(rl, GW_MODEL_LONLAT)[r],
                                          gw_layer_data_y(rl, GW_MODEL_LONLAT)[r], bands, 3, NULL,
                                          &iso);
        double b = now_s(), cb = cpu_s();
        if (!st) ic[rd] = (cb - ca) * 1e3, il[rd++] = (b - a) * 1e3;
        gw_reach_iso_destroy(ctx, iso);
    }
    double iso50 = pct(il, rd, 0.5), iso99 = pct(il, rd, 0.99);
    printf("isochrones (3, 5, 10 min) of %zu rooms: p50 %.1f ms, p99 %.1f ms (CPU p50 %.1f ms)\n",
           rd, iso50, iso99, pct(ic, rd, 0.5));
    free(ic);
    double grid_s = NAN;
    if (grids) {
        gw_reach_grids *t = NULL;
        if (gw_reach_grids_compute(ctx, g, rl, gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                                   gw_model_metric_srid(m), NULL, 2, &t) == GW_OK) {
            grid_s = gw_reach_grids_seconds(t);
            double mean[3] = {0};
            size_t n = gw_reach_grids_count(t);
            for (int b = 0; b < 3; b++) {
                for (size_t i = 0; i < n; i++)
                    if (!isnan(gw_reach_grids_share(t, b)[i]))
                        mean[b] += gw_reach_grids_share(t, b)[i];
                mean[b] /= n ? (double)n : 1;
            }
            printf("grid reach of %zu grids from %zu rooms: %.1f s on 2 threads; mean share 3 min "
                   "%.3f, 5 min %.3f, 10 min %.3f; RSS now %.0f MB\n",
                   n, nr, grid_s, mean[0], mean[1], mean[2], rss_kb() / 1024.0);
            gw_reach_grids_destroy(ctx, t);
        } else fprintf(stderr, "bench_roads: grid reach: %s\n", gw_ctx_errmsg(ctx));
    }

    printf("ROW|nearest-5 by ETA p50, in-process vs pgRouting (1 client)|%.3f ms|pgRouting "
           "pgr_dijkstraCost|%.3f ms|%.0f\n",
           in50, p50, p50 / in50);
    printf("ROW|nearest-5 by ETA p99, in-process vs pgRouting (goal <= 5 ms)|%.3f ms|pgRouting "
           "pgr_dijkstraCost|%.3f ms|%.0f\n",
           in99, p99, p99 / in99);
    printf("ROW|nearest-5 by ETA p50 over HTTP (1 connection)|%.3f ms|pgRouting "
           "pgr_dijkstraCost|%.3f ms|%.1f\n",
           h50, p50, p50 / h50);
    printf("ROW|nearest-5 by ETA p99 over HTTP (1 connection)|%.3f ms|pgRouting "
           "pgr_dijkstraCost|%.3f ms|%.1f\n",
           h99, p99, p99 / h99);
    printf("ROW|road graph build (%zu nodes, %zu edges)|%.2f s|-|-|-\n", gw_road_graph_nodes(g),
           gw_road_graph_edges(g), build_s);
    printf("ROW|road graph memory|%.1f MB|-|-|-\n", gw_road_graph_bytes(g) / 1048576.0);
    printf("ROW|isochrone of a room (3, 5, 10 min) p50|%.1f ms|-|-|-\n", iso50);
    printf("ROW|grid reach 3/5/10 min, every grid (2 threads)|%.1f s|-|-|-\n", grid_s);
    free(il), free(lat_ms), free(pick);
    gw_model_release(ctx, snap);
    gw_road_search_destroy(q);
    gw_road_graph_destroy(g);
    gw_dispatch_destroy(d);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return 0;
}
