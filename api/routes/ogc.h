/* ogc.h — the OGC API – Features read routes (Part 1 Core + GeoJSON + OAS 3.0, Part 2 CRS)
 * and /openapi.json, as a route table the server mounts. */
#ifndef GW_OGC_H
#define GW_OGC_H

#include "server.h"

/* The read routes: landing page, conformance, collections, items, item, openapi.json.
 * Static storage; *n receives the count. */
const gw_route *gw_ogc_routes(size_t *n);

/* URI of the GCJ-02 CRS in crs/bbox-crs/Content-Crs (it has no EPSG code).  "GCJ-02" and
 * "gcj02" are accepted as well. */
#define GW_OGC_CRS_GCJ02 "urn:x-gridwatch:crs:GCJ-02"
#define GW_OGC_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

#endif
