/* ogc_write.h — the write routes of OGC API – Features (Part 4 style): POST a Feature or a
 * FeatureCollection to /collections/{layer}/items, PUT / PATCH / DELETE .../items/{id}, and the
 * one call that plugs them and the bearer-token auth into a server. */
#ifndef GW_OGC_WRITE_H
#define GW_OGC_WRITE_H

#include "server.h"

/* The write routes (static storage; *n receives the count).  Their least role is
 * GW_ROLE_DISPATCHER; the handlers check the per-layer rule (auth.h) themselves.  Each worker
 * thread opens its own read-write connection on its first write and closes it when the thread
 * ends (the server's per-thread connection is query_only). */
const gw_route *gw_write_routes(size_t *n);

/* Fill o->routes / n_routes with the write routes and o->auth / auth_user with the bearer-token
 * hook (gw_auth_hook).  Call before gw_server_create(). */
void gw_api_plugins(gw_server_opts *o);

#endif
