/* reach_http.h — response-time areas over HTTP (issue 20 item 4, docs/roads.md): the
 * isochrones of a police room, a team or a point (GET /analysis/isochrones), the per-grid
 * 3/5/10-minute shares from the police rooms that /analysis/coverage and the grid tiles carry,
 * and the isochrones tile layer (GET /tiles/isochrones/{z}/{x}/{y}, the rooms' bands clipped
 * per grid).  The grid shares are computed on a worker thread per road-graph, rooms and grids
 * version and kept until one of them changes, and in the store for the next start.
 *
 * In the app (app.h): app->modules[GW_APP_REACH] from gw_reach_http_create(), after the road
 * network; gw_reach_http_stop() before gw_live_destroy(), gw_reach_http_destroy() after. */
#ifndef GW_REACH_HTTP_H
#define GW_REACH_HTTP_H

#include "gridwatch/reach.h"
#include "live.h"
#include "roads_http.h"
#include "server.h"

typedef struct gw_reach_http gw_reach_http;

/* Caller frees with gw_reach_http_destroy().  The shares computed are kept in the store
 * (reach_store.h). */
gw_status gw_reach_http_create(gw_ctx *ctx, gw_live *live, gw_roads_http *roads,
                               gw_reach_http **out);
/* The same for `gridwatch tiles`: shares only (no polygons, no isochrones tiles), read back
 * from the store when kept for the same inputs, else computed on every core and kept. */
gw_status gw_reach_http_create_for_tiles(gw_ctx *ctx, gw_live *live, gw_roads_http *roads,
                                         gw_reach_http **out);
/* Waits for a computation under way.  Accepts NULL. */
void gw_reach_http_stop(gw_reach_http *r);
void gw_reach_http_destroy(gw_reach_http *r);

/* The grid shares current for snapshot `snap` (its rooms and grids) and the current road
 * graph, with a reference the caller gives back with gw_reach_http_release; NULL when they
 * are not computed yet (a computation is then started; wait_ms > 0 waits up to that long for
 * it) or the database has no roads.  Thread-safe. */
const gw_reach_grids *gw_reach_http_acquire(gw_reach_http *r, const gw_model_snapshot *snap,
                                            unsigned wait_ms);
void gw_reach_http_release(gw_reach_http *r, const gw_reach_grids *t);
/* 1 while a computation runs. */
int gw_reach_http_pending(gw_reach_http *r);
/* One watcher, called on the worker thread after new shares are in place. */
typedef void (*gw_reach_http_watch_fn)(void *user, gw_ctx *ctx);
void gw_reach_http_watch(gw_reach_http *r, gw_reach_http_watch_fn fn, void *user);
/* The module of the request's app (NULL when none). */
gw_reach_http *gw_req_reach(gw_req *req);

const gw_route *gw_reach_routes(size_t *n);

#endif
