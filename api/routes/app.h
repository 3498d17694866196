/* app.h — the assembled gridwatch service: the shared live model, every feature module's state
 * and the one route table the server runs.  `gridwatch serve` and the HTTP tests build the same
 * app, so the tests exercise exactly what ships.
 *
 * Handlers reach the app with gw_req_app(req) (a gw_app *). */
#ifndef GW_APP_H
#define GW_APP_H

#include "auth.h"
#include "live.h"
#include "server.h"

/* Slots of gw_app.modules: each feature module keeps its per-server state in its own slot. */
enum {
    GW_APP_COVERAGE = 0,
    GW_APP_HOTSPOTS,
    GW_APP_DISPATCH,
    GW_APP_EVENTS,
    GW_APP_PLAN,
    GW_APP_CLUSTERS,
    GW_APP_ROADS, /* the road network (roads_http.h) */
    GW_APP_REACH, /* response-time areas (reach_http.h) */
    GW_APP_SLOTS = 8
};

typedef struct gw_app {
    gw_live *live;               /* the shared model, kept in step with the change log */
    void *tiles;                 /* vector tiles + cache (tiles_http.h), NULL when not built */
    void *modules[GW_APP_SLOTS]; /* further feature modules' state, by slot (GW_APP_*) */
    gw_route *routes; /* every extra route (writes, tiles, analysis, dispatch), in match order */
    size_t n_routes;
} gw_app;

typedef struct gw_app_opts {
    size_t tile_cache_bytes; /* 0 = 256 MiB */
    unsigned poll_ms;        /* change-log poll interval; 0 = 100 ms */
    uint32_t tile_parts;     /* 0: the whole service.  Else (`gridwatch tiles`) the vector tiles
                              * of these parts (1u << gw_tile_layer) and only the analysis they
                              * draw: coverage for grids and blind_spots, Gi* hot spots and the
                              * response figures for grids, the cluster scan for grids (their
                              * clusters and cluster_rr fields) and hotspot_clusters; no routes */
} gw_app_opts;

/* Load the model of db_path, create every module's state and the route table.
 * Caller frees with gw_app_destroy() after the server is destroyed. */
gw_status gw_app_create(gw_ctx *ctx, const char *db_path, const gw_app_opts *opts, gw_app **out);
/* Fill a server's routes, auth hook and app pointer. */
void gw_app_configure(gw_app *app, gw_server_opts *o);
/* Accepts NULL. */
void gw_app_destroy(gw_app *app);
/* The service's metric families for /metrics (app_metrics.c; gw_app_configure installs it). */
void gw_app_metrics(void *app, gw_ctx *ctx, struct gw_buf *out);

/* How the route named `route_name` treats tokens scoped to a jurisdiction (GW_SCOPE_REFUSE for
 * a name the table does not know).  The auth hook applies it; the leak test reads it. */
gw_scope_rule gw_app_scope_rule(const char *route_name);

/* The live model of the request's app (NULL when the server runs without an app). */
gw_live *gw_req_live(gw_req *req);

#endif
