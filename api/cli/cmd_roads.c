/* cmd_roads.c — `gridwatch roads`: the routing graph of a database (docs/roads.md): its size
 * and build time, the nearest teams by road travel time from a point (the CLI twin of
 * /dispatch/nearest?by=eta), and the graph's arcs as CSV with pgRouting's columns (id, source,
 * target, cost, reverse_cost; -1 for a direction that is not allowed) for cross-checks. */
#include "cli_util.h"
#include "commands.h"

#include "gridwatch/dispatch.h"
#include "gridwatch/model.h"
#include "gridwatch/road.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char roads_usage[] = N_(
    "usage: gridwatch roads DB [stats]\n"
    "       gridwatch roads DB nearest --lon X --lat Y [--k 5] [--by eta|distance] [--route]\n"
    "       gridwatch roads DB edges FILE.csv\n"
    "\n"
    "The routing graph built from the road layer (gridwatch import DB roads FILE; the synthetic\n"
    "city has one).  'stats' prints its nodes, arcs, directed edges, memory and build time.\n"
    "'nearest' ranks the available teams by travel time by road to the point (--by eta, the\n"
    "default here) or by straight-line distance, one line each: rank, team, eta_s, route_m,\n"
    "distance_m (--route adds the route as a GeoJSON LineString); teams that cannot reach the\n"
    "point are left out and counted.  'edges' writes the arcs as CSV for pgRouting: id (arc\n"
    "index), source, target (node indices), cost, reverse_cost (seconds; -1 = not allowed),\n"
    "length_m, road_fid, x1, y1, x2, y2 (the end nodes in the metric CRS).\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 no road near the point\n");

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_edges(gw_ctx *ctx, const gw_road_graph *g, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, _("gridwatch roads: cannot write %s\n"), path);
        return GW_EXIT_RUNTIME;
    }
    (void)ctx;
    fprintf(f, "id,source,target,cost,reverse_cost,length_m,road_fid,x1,y1,x2,y2\n");
    for (size_t i = 0; i < gw_road_graph_arcs(g); i++) {
        gw_road_arc a;
        gw_road_graph_arc(g, i, &a);
        double x1, y1, x2, y2;
        gw_road_graph_node_xy(g, a.from, &x1, &y1);
        gw_road_graph_node_xy(g, a.to, &x2, &y2);
        fprintf(f, "%zu,%u,%u,%.17g,%.17g,%.17g,%lld,%.3f,%.3f,%.3f,%.3f\n", i, a.from, a.to,
                a.fwd ? a.time_s : -1.0, a.bwd ? a.time_s : -1.0, a.length_m, (long long)a.road_fid,
                x1, y1, x2, y2);
    }
    int bad = ferror(f) | fclose(f);
    return bad ? GW_EXIT_RUNTIME : GW_EXIT_OK;
}

static int nearest(gw_ctx *ctx, gw_store *s, const gw_road_graph *g, double lon, double lat,
                   size_t k, int by_eta, int route)
{
    gw_model *m = NULL;
    gw_dispatch *d = NULL;
    gw_road_search *q = NULL;
    gw_status st = gw_model_open(ctx, s, &m);
    if (!st) st = gw_dispatch_create(ctx, m, NULL, &d);
    if (!st) st = gw_road_search_create(ctx, g, &q);
    gw_nearest_opts o = {.k = k, .include_stale = 1, .lonlat = 1, .lon = lon, .lat = lat};
    gw_team_eta e[256];
    size_t n = 0, lost = 0;
    if (!st && by_eta)
        st = gw_dispatch_nearest_eta(ctx, d, g, q, lon, lat, &o, 500, e, &n, &lost, NULL);
    if (!st && !by_eta) {
        gw_team_hit h[256];
        double x, y;
        st = gw_dispatch_to_metric(ctx, d, lon, lat, &x, &y);
        if (!st) st = gw_dispatch_nearest(ctx, d, x, y, &o, h, &n, NULL);
        for (size_t i = 0; !st && i < n; i++) e[i] = (gw_team_eta){h[i], NAN, NAN, NAN, 0};
    }
    for (size_t i = 0; !st && i < n; i++) {
        printf("%zu\t%s\t%.1f\t%.1f\t%.1f", i + 1, e[i].team.id, e[i].eta_s, e[i].route_m,
               e[i].team.distance_m);
        if (route && by_eta) {
            double *c = NULL;
            size_t np = 0;
            if (gw_road_route(q, e[i].source, &c, &np) == GW_OK) {
                printf("\t{\"type\":\"LineString\",\"coordinates\":[");
                for (size_t j = 0; j < np; j++)
                    printf("%s[%.7f,%.7f]", j ? "," : "", c[2 * j], c[2 * j + 1]);
                printf("]}");
            }
            free(c);
        }
        printf("\n");
    }
    if (!st && by_eta && lost) printf("# %zu teams cannot reach the point by road\n", lost);
    int rc = st ? gw_cli_fail("roads", ctx, st) : GW_EXIT_OK;
    gw_road_search_destroy(q);
    gw_dispatch_destroy(d);
    gw_model_close(m);
    return rc;
}

int gw_cmd_roads(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return fputs(_(roads_usage), stdout), GW_EXIT_OK;
    if (argc < 2) return gw_cli_usage_error("roads", "expected DB");
    const char *db = argv[1], *verb = argc > 2 ? argv[2] : "stats";
    static const struct option opts[] = {
        {"lon", required_argument, 0, 'x'}, {"lat", required_argument, 0, 'y'},
        {"k", required_argument, 0, 'k'},   {"by", required_argument, 0, 'b'},
        {"route", no_argument, 0, 'r'},     {0, 0, 0, 0},
    };
    double lon = NAN, lat = NAN;
    long k = 5;
    int by_eta = 1, route = 0, c;
    optind = 3;
    opterr = 0;
    while (argc > 3 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'x': lon = atof(optarg); break;
        case 'y': lat = atof(optarg); break;
        case 'k': k = atol(optarg); break;
        case 'b':
            if (strcmp(optarg, "eta") && strcmp(optarg, "distance"))
                return gw_cli_usage_error("roads", "--by takes eta or distance");
            by_eta = !strcmp(optarg, "eta");
            break;
        case 'r': route = 1; break;
        default: return gw_cli_usage_error("roads", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int edges = !strcmp(verb, "edges");
    if (strcmp(verb, "stats") && strcmp(verb, "nearest") && !edges)
        return gw_cli_usage_error("roads", "unknown verb '%s' (stats, nearest, edges)", verb);
    if (edges && optind >= argc) return gw_cli_usage_error("roads", "edges: expected FILE.csv");
    if (!strcmp(verb, "nearest") && (!isfinite(lon) || !isfinite(lat) || k < 1 || k > 256))
        return gw_cli_usage_error("roads", "nearest: needs --lon and --lat (and --k 1..256)");
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    gw_road_graph *g = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return GW_EXIT_RUNTIME;
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, NULL);
    double t0 = now_s();
    gw_status st = gw_store_open(ctx, db, 0, &s);
    if (!st) st = gw_road_graph_build(ctx, s, NULL, &g);
    double t1 = now_s();
    int rc = st ? gw_cli_fail("roads", ctx, st) : GW_EXIT_OK;
    if (!st && !strcmp(verb, "stats"))
        printf("nodes %zu\narcs %zu\nedges %zu\nmetric EPSG:%d\nbytes %zu\nbuild_s %.3f\n",
               gw_road_graph_nodes(g), gw_road_graph_arcs(g), gw_road_graph_edges(g),
               gw_road_graph_srid(g), gw_road_graph_bytes(g), t1 - t0);
    else if (!st && edges) rc = write_edges(ctx, g, argv[optind]);
    else if (!st) rc = nearest(ctx, s, g, lon, lat, (size_t)k, by_eta, route);
    gw_road_graph_destroy(g);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
