/* mvt.h — Mapbox Vector Tile 2.1 encoder: GEOS geometries in EPSG:3857 in, tile bytes out.
 *
 * One encoder handle per thread, reused tile after tile (gw_mvt_reset) so the hot path does not
 * allocate per feature.  Geometries are clipped to the buffered tile, simplified per zoom,
 * snapped to the integer tile grid and kept valid; see docs/decisions/0002-mvt-encoder.md. */
#ifndef GRIDWATCH_MVT_H
#define GRIDWATCH_MVT_H

#include "gridwatch/common.h"
#include "gridwatch/tile.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_mvt gw_mvt;

typedef enum gw_mvt_type {
    GW_MVT_STRING = 0,
    GW_MVT_INT,    /* int64: written as uint_value when >= 0, sint_value when < 0 */
    GW_MVT_DOUBLE, /* double_value */
    GW_MVT_BOOL,   /* bool_value */
} gw_mvt_type;

/* A typed property value.  Strings are borrowed for the duration of the call (copied). */
typedef struct gw_mvt_value {
    gw_mvt_type type;
    union {
        const char *s;
        int64_t i;
        double d;
        bool b;
    } u;
} gw_mvt_value;

/* A feature property; a NULL key or a GW_MVT_STRING with a NULL string is skipped (no tag). */
typedef struct gw_mvt_prop {
    const char *key;
    gw_mvt_value value;
} gw_mvt_prop;

typedef enum gw_mvt_clip {
    GW_MVT_CLIP_INTERSECTION = 0, /* GEOSIntersection_r with the buffered tile box */
    GW_MVT_CLIP_BY_RECT,          /* GEOSClipByRect_r (default): ~2x faster; its output may be
                                     invalid, so it is re-validated and repaired after snapping */
} gw_mvt_clip;

typedef struct gw_mvt_options {
    uint32_t extent;  /* tile units across the tile; 0 = 4096 (per layer, see add_layer) */
    uint32_t buffer;  /* tile units around the tile kept when clipping; default 64 */
    double simplify;  /* topology-preserving simplification tolerance in tile units;
                          default 0.25; 0 disables it */
    gw_mvt_clip clip; /* default GW_MVT_CLIP_BY_RECT */
} gw_mvt_options;

/* The defaults: extent 4096, buffer 64, simplify 0.25, clip by GEOSClipByRect_r. */
gw_mvt_options gw_mvt_defaults(void);

/* Create an encoder for tile t.  opt may be NULL for the defaults.  The handle keeps ctx (its
 * GEOS handle and error slot) until destroyed; use it on the ctx's thread only.
 * Caller frees with gw_mvt_destroy().  Errors: GW_ERR_RANGE (t outside the pyramid),
 * GW_ERR_ARG (extent 0 after defaults, buffer > extent), GW_ERR_NOMEM. */
gw_status gw_mvt_create(gw_ctx *ctx, gw_tile_id t, const gw_mvt_options *opt, gw_mvt **out);

/* Forget all layers and start tile t with the same options, keeping allocated buffers.
 * Invalidates bytes returned by gw_mvt_finish().  Errors: GW_ERR_RANGE. */
gw_status gw_mvt_reset(gw_mvt *mvt, gw_tile_id t);

/* Destroy the encoder and the bytes it returned; accepts NULL. */
void gw_mvt_destroy(gw_mvt *mvt);

/* Start a layer; the following features go into it.  extent 0 = the encoder's extent.
 * name is copied.  Errors: GW_ERR_ARG (empty name), GW_ERR_CONFLICT (a layer of that name is
 * already in this tile — MVT forbids duplicates), GW_ERR_NOMEM. */
gw_status gw_mvt_add_layer(gw_mvt *mvt, const char *name, uint32_t extent);

/* Add a feature with geometry g in EPSG:3857 to the current layer.  Points, lines, polygons,
 * their multi forms; a GeometryCollection is encoded by its first dimension's parts.  The
 * geometry is clipped to the buffered tile, simplified, snapped to the tile grid and repaired
 * if snapping broke it; when nothing is left (outside the tile, degenerate, empty) the
 * feature is dropped and *added (may be NULL) is set to false.  id is written when has_id.
 * Properties are deduplicated per layer.  g is not modified or kept.  g must be valid (OGC):
 * the store only holds valid geometries, and validating every feature of every tile again would
 * cost more than the encoding; GEOS 3.11's rectangle clip leaks memory on some invalid polygons
 * (a hole outside its shell).  A coordinate that is not finite is refused.
 * Errors: GW_ERR_ARG (no layer started, NULL g), GW_ERR_GEOMETRY (a coordinate that is not
 * finite, or GEOS failed on g; the message carries GEOS's), GW_ERR_NOMEM. */
gw_status gw_mvt_add_feature(gw_mvt *mvt, uint64_t id, bool has_id, const GEOSGeometry *g,
                             const gw_mvt_prop *props, size_t nprops, bool *added);

/* Fast path for a single point at (mx, my) in EPSG:3857: no GEOS, no allocation once the
 * buffers are warm.  Points outside the buffered tile are dropped (*added = false). */
gw_status gw_mvt_add_point(gw_mvt *mvt, uint64_t id, bool has_id, double mx, double my,
                           const gw_mvt_prop *props, size_t nprops, bool *added);

/* Number of features in the current layer so far (0 when no layer). */
size_t gw_mvt_layer_feature_count(const gw_mvt *mvt);

/* Serialise the tile.  *bytes is owned by the encoder (do not free it) and stays valid until
 * gw_mvt_reset() or gw_mvt_destroy(); copy it to keep it.  Layers without features are left
 * out, so a tile with nothing in it is 0 bytes (*bytes non-NULL).  Errors: GW_ERR_NOMEM. */
gw_status gw_mvt_finish(gw_mvt *mvt, const uint8_t **bytes, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
