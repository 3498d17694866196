/* flow_http.h — the closed-loop incident flow over HTTP (geo/flow, docs/incident-flow.md): an
 * incident's transitions, a new transition, the overdue incidents, and the flow member and
 * history link of an incident's OGC item. */
#ifndef GW_FLOW_HTTP_H
#define GW_FLOW_HTTP_H

#include "gridwatch/store.h"
#include "http_util.h"
#include "server.h"

/* The routes (static storage; *n receives the count):
 *   GET  /incidents/overdue[?jurisdiction=PATH][&limit=N]                       viewer
 *   GET  /incidents/{id}/transitions          the history, oldest first (404)  viewer
 *   POST /incidents/{id}/transitions  {"action", "note", "team", "department", "to"}
 *        201 with the new state; 400 bad body, 403 jurisdiction or level, 404, 409 refused
 *                                                                 dispatcher, admin */
const gw_route *gw_flow_routes(size_t *n);

/* For the OGC item of incident `id` (on the request's read store): append to the open feature
 * object in `feature` the member ,"flow":{"state","level","deadline",…} and to the open links
 * array in `links` ,{"rel":"history",…} pointing at its transitions.  Nothing on a failure. */
void gw_flow_item_extra(gw_req *req, gw_store *st, const char *id, gw_buf *feature, gw_buf *links);

#endif
