/* tilestats.h — statistics of a set of finished vector tiles in the Mapbox tilestats form
 * (mapbox-geostats: layerCount, layers[] with layer, count, geometry, attributeCount,
 * attributes[] with attribute, count, type, values, min/max), and the zooms each layer has
 * features at: what `gridwatch tiles` writes into the MBTiles `json` metadata.
 *
 * The tiles are read back from their MVT bytes (a small protobuf reader), so the figures are of
 * what the file holds, whoever encoded it. */
#ifndef GRIDWATCH_TILESTATS_H
#define GRIDWATCH_TILESTATS_H

#include "gridwatch/common.h"

#include <jansson.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_tilestats gw_tilestats;

/* At most this many values are listed per attribute (the smallest: numbers before strings,
 * numbers ascending, strings in byte order), so the listing does not depend on tile order. */
#define GW_TILESTATS_MAX_VALUES 100

/* Caller frees with gw_tilestats_destroy().  GW_ERR_NOMEM. */
gw_status gw_tilestats_create(gw_ctx *ctx, gw_tilestats **out);
/* Accepts NULL. */
void gw_tilestats_destroy(gw_tilestats *ts);

/* Add one uncompressed MVT tile of zoom z.  Not thread-safe (callers serialise).  Errors:
 * GW_ERR_FORMAT (not a well-formed vector tile; the stats are then incomplete), GW_ERR_NOMEM. */
gw_status gw_tilestats_add(gw_tilestats *ts, uint32_t z, const uint8_t *bytes, size_t len);

/* The least and greatest zoom at which a tile held features of layer `name`; false when no tile
 * did. */
bool gw_tilestats_zooms(const gw_tilestats *ts, const char *name, uint32_t *zmin, uint32_t *zmax);

/* The tilestats object (new reference), layers and attributes by name.  Per layer: count = the
 * distinct feature ids seen (features without an id, such as cluster points, are not counted),
 * geometry = the most frequent geometry type (Point, LineString, Polygon); per attribute:
 * count = distinct values, type = string, number, boolean or mixed, values (up to
 * GW_TILESTATS_MAX_VALUES), min and max when it has numbers.  NULL when out of memory. */
json_t *gw_tilestats_json(const gw_tilestats *ts);

#ifdef __cplusplus
}
#endif
#endif
