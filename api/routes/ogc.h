/* ogc.h — the OGC API – Features read routes (Part 1 Core + GeoJSON + OAS 3.0, Part 2 CRS)
 * and /openapi.json, as a route table the server mounts. */
#ifndef GW_OGC_H
#define GW_OGC_H

#include "http_util.h"
#include "server.h"

#include "gridwatch/store.h"

/* The read routes: landing page, conformance, collections, items, item, openapi.json.
 * Static storage; *n receives the count. */
const gw_route *gw_ogc_routes(size_t *n);

/* One feature as GeoJSON from a store row (values as stored, store_features.h) into b, with
 * the writer's CRS and precision; cov: the coverage module's state to add a grid's figures, or
 * NULL.  Used by the item routes and by the writes that answer with what was stored. */
void gw_ogc_put_feature(gw_layer layer, const gw_row *row, gw_geojson_writer *w, gw_buf *b,
                        void *cov);

/* URI of the GCJ-02 CRS in crs/bbox-crs/Content-Crs (it has no EPSG code).  "GCJ-02" and
 * "gcj02" are accepted as well. */
#define GW_OGC_CRS_GCJ02 "urn:x-gridwatch:crs:GCJ-02"
#define GW_OGC_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

#endif
