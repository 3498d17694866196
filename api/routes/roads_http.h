/* roads_http.h — the road network of the server (issue 20, docs/roads.md): the routing graph of
 * the live database, built at start and rebuilt when the change log shows a roads change, for
 * /dispatch/nearest?by=eta (dispatch_http.c) and what builds on it (isochrones).
 *
 * In the app (app.h): app->modules[GW_APP_ROADS] = the gw_road_net from gw_roads_http_create();
 * gw_roads_http_destroy() after gw_live_destroy(). */
#ifndef GW_ROADS_HTTP_H
#define GW_ROADS_HTTP_H

#include "gridwatch/road.h"
#include "live.h"
#include "server.h"

typedef struct gw_roads_http gw_roads_http;

/* Build the graph of the live database (an empty one when it has no roads) and register the
 * listener that rebuilds it after a roads change (on the sync thread, before gw_live_wait
 * returns for that change).  Caller frees with gw_roads_http_destroy(). */
gw_status gw_roads_http_create(gw_ctx *ctx, gw_live *live, gw_roads_http **out);
/* Accepts NULL.  Call after gw_live_destroy (the listener uses it). */
void gw_roads_http_destroy(gw_roads_http *r);
/* The network (borrowed), for the handlers: gw_road_net_acquire / _release around a use. */
gw_road_net *gw_roads_http_net(gw_roads_http *r);
/* The network of the request's app, or NULL when the app has none. */
gw_road_net *gw_req_roads(gw_req *req);

/* GET /tiles/roads/{z}/{x}/{y}.mvt (roads_tile.c): the roads as a vector tile layer. */
const gw_route *gw_roads_tile_routes(size_t *n);

#endif
