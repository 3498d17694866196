/* juris_http.h — the jurisdiction hierarchy over HTTP: GET /jurisdictions lists every
 * prefecture, county, township and village of the published grids (include/gridwatch/juris.h)
 * from the live model.  No module state; add gw_juris_routes() to the routes. */
#ifndef GW_JURIS_HTTP_H
#define GW_JURIS_HTTP_H

#include "server.h"

/* GET /jurisdictions[?level=1..4][&parent=PATH] → 200 {"jurisdictions": [{path, level, name,
 * parent, grids, population, area_km2}, …] (by path), "metric_crs", "area", "unassigned_grids",
 * "seq"}; a parent that names no jurisdiction is 404, a bad level 400.  Viewer role.  Static
 * storage. */
const gw_route *gw_juris_routes(size_t *n);

#endif
