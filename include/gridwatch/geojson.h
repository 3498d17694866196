/* geojson.h — reading one GeoJSON geometry object (jansson) into GEOS, for every room that takes
 * GeoJSON bodies (OGC writes, plan edits), with the guards GEOS 3.11's reader needs and its
 * messages put into words a client can act on. */
#ifndef GRIDWATCH_GEOJSON_H
#define GRIDWATCH_GEOJSON_H

#include "gridwatch/common.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Read geometry object g with rd (a reader the caller keeps; NULL: one for this call).
 * GW_OK with *out set (caller destroys); GW_ERR_GEOMETRY with *why saying why in a client's
 * words (an empty position, which crashes GEOS 3.11's reader, is refused before it; GEOS's JSON
 * library internals become "coordinates must be arrays of two or three numbers");
 * GW_ERR_NOMEM.  *why points to static text or the ctx's GEOS message. */
gw_status gw_geojson_geometry_read(gw_ctx *ctx, GEOSGeoJSONReader *rd, const json_t *g,
                                   GEOSGeometry **out, const char **why);

#ifdef __cplusplus
}
#endif
#endif
