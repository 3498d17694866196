/* hotspot_http.h — the hot spot routes and command: /analysis/hotspots (Gi* per grid: count,
 * value, z, p, q, class) and /analysis/kde (GeoTIFF or GeoJSON contours), computed on demand from
 * the live model, and `gridwatch hotspots DB …`.
 *
 * In the app (app.h): app->modules[GW_APP_HOTSPOTS] = the gw_hotspots from gw_hotspots_create()
 * (it listens to the live model to drop its cached weights when the grids change), add
 * gw_hotspots_routes() to the routes, gw_hotspots_destroy() after the server and before
 * gw_live_destroy(). */
#ifndef GW_HOTSPOT_HTTP_H
#define GW_HOTSPOT_HTTP_H

#include "gridwatch/hotspot.h"
#include "live.h"
#include "server.h"

typedef struct gw_hotspots gw_hotspots;

/* Module state over the app's live model (caches spatial weights per grid version and the
 * grid of every incident).  Call before the server starts.  Caller frees with
 * gw_hotspots_destroy(). */
/* heat_budget: bytes for the heat map tile cache (0 = 64 MiB). */
gw_status gw_hotspots_create(gw_ctx *ctx, gw_live *live, size_t heat_budget, gw_hotspots **out);
/* Accepts NULL. */
void gw_hotspots_destroy(gw_hotspots *hs);

/* Gi* of snap's grids with the defaults of GET /analysis/hotspots (value per_km2, queen
 * weights, FDR, every incident), through the module's cached weights: the hook behind the hot
 * spot fields of the grid tiles.  The run is followed incrementally (gw_hotspot_state): after
 * a few incidents changed it moves the kept counts by those rows and recomputes Gi* from them,
 * identical to a full run; its incident grids become the routes' cached ones.  Runs one at a
 * time, on snapshots in seq order for the incremental path to apply (the tile worker's).
 * GW_ERR_RANGE when the statistic cannot run (fewer than 2 grids with a value, all values
 * equal).  Thread-safe.  Caller frees with gw_hotspot_result_destroy(). */
gw_status gw_hotspots_default(gw_hotspots *hs, gw_ctx *ctx, gw_model_snapshot *snap,
                              gw_hotspot_result **out);
/* How the default runs went so far: full and incremental updates, the incident rows the last
 * incremental one moved, its time.  For tests and benchmarks.  Thread-safe. */
gw_hotspot_state_stats gw_hotspots_default_stats(gw_hotspots *hs);
/* 0: every default run recomputes from scratch (the benchmark's baseline); 1 (the default):
 * incrementally when it can.  Thread-safe. */
void gw_hotspots_set_incremental(gw_hotspots *hs, int on);

/* The grid row of each incident row of snap's layers (-1: in no grid): the cached array the
 * routes share (the default run's, kept incrementally; computed here when not cached).  The
 * rule: the incident's recorded grid when it names a grid of snap's version, else the published
 * grid containing its point.  *rows stays valid until gw_hotspots_incident_grids_release(*hold).
 * Thread-safe. */
gw_status gw_hotspots_incident_grids(gw_hotspots *hs, gw_ctx *ctx, const gw_model_snapshot *snap,
                                     const int32_t **rows, void **hold);
/* Accepts NULL. */
void gw_hotspots_incident_grids_release(gw_hotspots *hs, void *hold);

/* GET /analysis/hotspots, GET /analysis/kde; role viewer (static storage). */
const gw_route *gw_hotspots_routes(size_t *n);

#endif
