/* clusters_http.h — hot spot clusters over HTTP: GET /analysis/hotspots/clusters (GeoJSON, one
 * Feature per cluster, geo/stats/clusters.c on the live model), the cached default result the
 * vector tiles draw (the hotspot_clusters layer and the grids' clusters / cluster_rr fields),
 * and the live upkeep of both.
 *
 * A scan takes seconds at scale 1, so results are cached: the default options' result and the
 * last few other option sets, each for the grids and incidents versions it reflects.  A new
 * incident (an "insert" in the change feed) updates the cached results it passes the filter of
 * through gw_cluster_result_add_incident, copy-on-write, without a scan; anything else (edits,
 * deletes, imports, grid changes, or many inserts since the scan) makes them stale: the default
 * result is scanned again on the module's worker thread, the others on their next request.
 *
 * In the app (app.h): app->modules[GW_APP_CLUSTERS] = the module from gw_clusters_http_create()
 * (call before the server starts), add gw_clusters_routes(), gw_clusters_http_stop() before
 * gw_live_destroy() and gw_clusters_http_destroy() after it. */
#ifndef GW_CLUSTERS_HTTP_H
#define GW_CLUSTERS_HTTP_H

#include "gridwatch/clusters.h"
#include "gridwatch/tilelayers.h"
#include "live.h"
#include "server.h"

typedef struct gw_clusters_http gw_clusters_http;

/* The module over the live model: registers its listener and starts the worker, whose first
 * job is the default scan.  Caller frees with gw_clusters_http_destroy(). */
gw_status gw_clusters_http_create(gw_ctx *ctx, gw_live *live, gw_clusters_http **out);
/* Stop the worker (waits for a scan under way).  Accepts NULL. */
void gw_clusters_http_stop(gw_clusters_http *cl);
/* Accepts NULL.  Call after gw_live_destroy() (the listener uses the state). */
void gw_clusters_http_destroy(gw_clusters_http *cl);

/* GET /analysis/hotspots/clusters (role viewer; static storage). */
const gw_route *gw_clusters_routes(size_t *n);

/* Wait until the worker has no default scan to run or under way (or timeout_ms passed); 1 when
 * idle.  The listener asks for a scan before gw_live_wait returns, so after a write's wait this
 * covers it.  For tests and tools. */
int gw_clusters_http_wait(gw_clusters_http *cl, unsigned timeout_ms);

/* Counters: scans run, incidents added to cached results without a scan, requests answered from
 * the cache and by a scan (or by the default result kept in the store: `loaded`, not a scan). */
typedef struct gw_clusters_stats {
    uint64_t scans, incremental, hits, misses, loaded;
} gw_clusters_stats;
void gw_clusters_http_stats(gw_clusters_http *cl, gw_clusters_stats *out);

/* ---- hooks for the vector tiles (api/tile_fields.c) ---- */

/* The default result as the tiles draw it (rounded): per grid row the clusters touching it and
 * their highest RR (NaN where none), and the clusters with their circles in EPSG:3857. */
typedef struct gw_clusters_tile {
    int64_t grids_seq, inc_seq; /* gw_layer_data_seq of the layers the result reflects */
    size_t grids_n, inc_n;      /* and their row counts */
    size_t grid_count;
    const int32_t *clusters;
    const double *cluster_rr;
    const gw_tile_cluster *c;
    size_t n;
} gw_clusters_tile;
/* A reference to the current default result's tile data (NULL while there is none: the first
 * scan runs).  Release with gw_clusters_http_tile_release().  Thread-safe. */
const gw_clusters_tile *gw_clusters_http_tile_acquire(gw_clusters_http *cl);
/* Accepts NULL. */
void gw_clusters_http_tile_release(const gw_clusters_tile *t);

/* Told after a new default result is visible: `grids` the grids layer it was found on,
 * changed[] flags the grid rows whose tile fields changed (NULL: every grid), boxes the EPSG:3857
 * envelopes of the clusters whose tile properties changed (NULL: every cluster tile).  Must be
 * quick; must not call back into this module. */
typedef void (*gw_clusters_watch_fn)(void *user, gw_ctx *ctx, const gw_layer_data *grids,
                                     const uint8_t *changed, const gw_bbox *boxes, size_t n_boxes);
/* Install the one watcher (NULL to remove).  Safe while the module runs. */
void gw_clusters_http_watch(gw_clusters_http *cl, gw_clusters_watch_fn fn, void *user);

#endif
