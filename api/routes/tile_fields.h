/* tile_fields.h — the analysis the vector tiles carry: per-grid coverage and Gi* hot spot
 * fields on the grid features and the blind_spots layer, taken from the coverage and hotspot
 * modules and kept in step with them.
 *
 * Coverage: the module's figures are copied once per change of its results (rounded for the
 * tiles); a change of its results drops the tiles of the grids it recomputed.  Hot spots: the
 * default Gi* run (as GET /analysis/hotspots without parameters) is recomputed on a worker
 * thread after incidents or grids change, and only the tiles of grids whose encoded fields
 * changed are dropped.  Renders never wait for either: a tile rendered from a result that is
 * not of its snapshot's layers gets the data version just before its snapshot, so the tile
 * cache refuses it wherever that snapshot's changes or the result's refresh touch it (see
 * gw_tile_cache_put). */
#ifndef GW_TILE_FIELDS_H
#define GW_TILE_FIELDS_H

#include "clusters_http.h"
#include "coverage_http.h"
#include "gridwatch/tilecache.h"
#include "gridwatch/tilelayers.h"
#include "hotspot_http.h"
#include "live.h"

typedef struct gw_tile_fields gw_tile_fields;

/* Drop the tiles the changes touch, announced at change-log seq `seq`. */
typedef void (*gw_tile_fields_inval_fn)(void *user, const gw_tile_change *ch, size_t n,
                                        int64_t seq);

/* Fields from `cov` and/or `hs` (either may be NULL) of the live model; `inval` is told what
 * to drop.  Installs the coverage watcher and a live listener and starts the hot spot worker
 * (its first run computes at once).  Call before the server starts.  Caller stops with
 * gw_tile_fields_stop() before gw_live_destroy() and frees with gw_tile_fields_destroy(). */
gw_status gw_tile_fields_create(gw_ctx *ctx, gw_live *live, gw_coverage_http *cov, gw_hotspots *hs,
                                gw_tile_fields_inval_fn inval, void *user, gw_tile_fields **out);
/* Also lay the hot spot clusters of `cl` (may be NULL) on the tiles: the grids' clusters and
 * cluster_rr fields and the hotspot_clusters layer; a change of its default result drops the
 * tiles it touches (clusters_http.h).  Call once, before the server starts.  Accepts NULL tf. */
void gw_tile_fields_set_clusters(gw_tile_fields *tf, gw_clusters_http *cl);
/* Add the road reach fields (reach_3m, reach_5m, reach_10m) from rh; new shares drop every grid
 * tile. */
typedef struct gw_reach_http gw_reach_http;
void gw_tile_fields_set_reach(gw_tile_fields *tf, gw_reach_http *rh);
/* Stop the worker and the coverage and cluster watchers.  Accepts NULL. */
void gw_tile_fields_stop(gw_tile_fields *tf);
/* Accepts NULL. */
void gw_tile_fields_destroy(gw_tile_fields *tf);

/* The extras of one render, holding the results they point into. */
typedef struct gw_tile_fields_use {
    gw_tile_grid_fields grid;
    gw_tile_extras ex;
    int64_t version; /* data version of a tile rendered from snap with these extras */
    void *held[5];
} gw_tile_fields_use;

/* The extras for rendering `parts` of snap (grids: coverage and hot spot fields; blind_spots:
 * the blind-spot supplier), and the tile's data version: snap's seq where the results are
 * those of snap's layers, else snap's seq - 1 (also while there is no result yet).
 * Release with gw_tile_fields_release().  Thread-safe. */
void gw_tile_fields_acquire(gw_tile_fields *tf, gw_ctx *ctx, const gw_model_snapshot *snap,
                            uint32_t parts, gw_tile_fields_use *u);
void gw_tile_fields_release(gw_tile_fields *tf, gw_tile_fields_use *u);

/* Wait until the hot spot worker has caught up with the live model's current snapshot and the
 * cluster module's worker is idle (or timeout_ms passed, each); 1 when they have.  For tests
 * and tools. */
int gw_tile_fields_wait(gw_tile_fields *tf, unsigned timeout_ms);

#endif
