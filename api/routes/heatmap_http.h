/* heatmap_http.h — /tiles/heatmap/{z}/{x}/{y}.png and /tiles/heatmap/legend.json: heat map
 * tiles of the live model's incidents (geo/heatmap.c) in a tile cache of their own, dropped
 * tile by tile when incidents arrive within a bandwidth of a tile.  Part of the hotspot module:
 * gw_hotspots (hotspot_http.c) owns one gw_heat, feeds it the live changes and lists its
 * routes among gw_hotspots_routes(). */
#ifndef GW_HEATMAP_HTTP_H
#define GW_HEATMAP_HTTP_H

#include "gridwatch/tilecache.h"
#include "live.h"
#include "server.h"

typedef struct gw_heat gw_heat;

/* A heat map tile cache of budget bytes (0 = 64 MB).  Caller frees with gw_heat_destroy(). */
gw_status gw_heat_create(gw_ctx *ctx, size_t budget, gw_heat **out);
/* Accepts NULL. */
void gw_heat_destroy(gw_heat *h);
/* Drop the cached tiles a batch of changes touches (incidents within one bandwidth of a tile,
 * per zoom; a change without a box or naming no layer drops every tile). */
void gw_heat_changes(gw_heat *h, const gw_change *ch, size_t n);
/* Cache counters: hits, misses, invalidated (any may be NULL). */
void gw_heat_stats(gw_heat *h, uint64_t *hits, uint64_t *misses, uint64_t *invalidated);
/* All of the heat map cache's counters (for /metrics); zeros for NULL. */
gw_tile_cache_stats gw_heat_cache_stats(gw_heat *h);

/* The route handlers; h is found through the app's hotspot module (gw_hotspots_heat). */
int gw_heat_tile_handler(gw_req *req);
int gw_heat_legend_handler(gw_req *req);

/* The hotspot module's heat map state (hotspot_http.c). */
typedef struct gw_hotspots gw_hotspots;
gw_heat *gw_hotspots_heat(gw_hotspots *hs);

#endif
