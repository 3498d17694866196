/* dispatch_http.h — the /dispatch routes over geo/dispatch.c: locate a point, nearest teams,
 * bulk team positions, assign and release — and the live listener that keeps the dispatch team
 * table in step with the shared model. */
#ifndef GW_DISPATCH_HTTP_H
#define GW_DISPATCH_HTTP_H

#include "gridwatch/dispatch.h"
#include "live.h"
#include "server.h"

/* Create the dispatch state over the live model (staleness stale_s seconds, 0 = 300) and
 * register its listener on `live` (call before the server starts).  The handlers find it in
 * gw_app.modules[GW_APP_DISPATCH].  Caller frees with gw_dispatch_destroy() after
 * gw_live_destroy() (the listener uses it). */
gw_status gw_dispatch_http_create(gw_ctx *ctx, gw_live *live, int64_t stale_s, gw_dispatch **out);

/* The routes (static storage; *n receives the count):
 *   GET  /dispatch/locate?lon=&lat=[&crs=][&cameras=20]                  viewer
 *   GET  /dispatch/nearest?lon=&lat=[&k=5][&status=available][&max_m=]
 *        [&include_stale=0][&stale_s=][&crs=][&by=distance|eta][&route=false]
 *        [&snap_max_m=500]                                                  viewer
 *        by=eta: by road travel time (docs/roads.md); 409 without a road layer
 *   POST /dispatch/positions  [{id, lon, lat, at}, …] or {"positions": […]} dispatcher
 *   POST /dispatch/assign     {incident, team[, by]}   (409 + the team's state)   dispatcher
 *   POST /dispatch/release    {team[, incident][, by]}                        dispatcher */
const gw_route *gw_dispatch_routes(size_t *n);

#endif
