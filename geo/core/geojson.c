/* geojson.c — one GeoJSON geometry object into GEOS (geojson.h). */
#include "gridwatch/geojson.h"

#include <stdlib.h>
#include <string.h>

/* 1 when no array nested in `c` (a geometry's "coordinates") is empty.  GEOS 3.11's GeoJSON
 * reader dereferences a NULL coordinate for an empty position ("coordinates":[[],[115,35]])
 * and crashes the process; a position is never empty (RFC 7946, 3.1.1), so refuse it first. */
static int positions_non_empty(const json_t *c, int depth)
{
    if (!json_is_array(c)) return 1;
    if (json_array_size(c) == 0) return depth == 0;
    size_t i;
    json_t *v;
    json_array_foreach (c, i, v)
        if (!positions_non_empty(v, depth + 1)) return 0;
    return 1;
}

/* The same for g's "coordinates" and those of its "geometries" (a collection). */
static int geometry_positions_non_empty(const json_t *g, int depth)
{
    if (depth > 32 || !positions_non_empty(json_object_get(g, "coordinates"), 0)) return 0;
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(g, "geometries"), i, m)
        if (!geometry_positions_non_empty(m, depth + 1)) return 0;
    return 1;
}

gw_status gw_geojson_geometry_read(gw_ctx *ctx, GEOSGeoJSONReader *rd, const json_t *g,
                                   GEOSGeometry **out, const char **why)
{
    *out = NULL;
    *why = NULL;
    if (!geometry_positions_non_empty(g, 0)) {
        *why = "a position is an empty array; positions are arrays of two or three numbers "
               "(RFC 7946, 3.1.1)";
        return GW_ERR_GEOMETRY;
    }
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    char *text = json_dumps(g, JSON_COMPACT);
    GEOSGeoJSONReader *own = rd ? NULL : GEOSGeoJSONReader_create_r(h);
    if (!text || (!rd && !own)) {
        free(text);
        if (own) GEOSGeoJSONReader_destroy_r(h, own);
        *why = "out of memory";
        return GW_ERR_NOMEM;
    }
    *out = GEOSGeoJSONReader_readGeometry_r(h, rd ? rd : own, text);
    free(text);
    if (own) GEOSGeoJSONReader_destroy_r(h, own);
    if (*out) return GW_OK;
    /* GEOS's GeoJSON reader reports its JSON library's internals ("[json.exception.
     * type_error.302] type must be number, but is string"); say what GeoJSON wants. */
    *why = gw_ctx_geos_errmsg(ctx);
    if (!*why || strstr(*why, "json.exception"))
        *why = "its coordinates must be arrays of two or three numbers (RFC 7946, 3.1)";
    return GW_ERR_GEOMETRY;
}
