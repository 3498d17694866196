/* response_http.h — what a command center watches (issue 18 item 4): GET /analysis/response,
 * the incident flow's figures per grid and per jurisdiction for a time window, from the audit
 * trail (include/gridwatch/flow_stats.h; definitions in docs/incident-flow.md).  No module
 * state; add gw_response_routes() to the routes. */
#ifndef GW_RESPONSE_HTTP_H
#define GW_RESPONSE_HTTP_H

#include "server.h"

/* GET /analysis/response[?from=T][&to=T][&tz=ZONE][&grids=true|false] → 200 {"window", "now",
 * "jurisdiction", "total", "jurisdictions": [{path, level, …figures}], "grids": [{id, path,
 * …figures}]}: incidents that occurred in [from, to) (ISO 8601; a time without an offset is read in
 * `tz`, UTC when not given; no window: all incidents) lying in the token's jurisdiction, grouped by the published grid containing them
 * and by every jurisdiction of those grids.  Viewer role.  Static storage. */
const gw_route *gw_response_routes(size_t *n);

#endif
