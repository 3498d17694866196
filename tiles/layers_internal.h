/* layers_internal.h — what tiles/layers.c shares with tiles/blind_layer.c and
 * tiles/cluster_layer.c: a tile filter compiled against one layer's columns, and the renderers
 * of the blind_spots and hotspot_clusters layers. */
#ifndef GW_TILES_LAYERS_INTERNAL_H
#define GW_TILES_LAYERS_INTERNAL_H

#include "gridwatch/tilelayers.h"

#include <pthread.h>

/* A filter compiled against one layer: column pointers, parsed integers. */
typedef struct tl_cfilt {
    const gw_layer_data *d;
    int n;
    int field[GW_TILE_MAX_FILTERS];
    const int64_t *ints[GW_TILE_MAX_FILTERS];
    const uint8_t *nulls[GW_TILE_MAX_FILTERS];
    int64_t iv[GW_TILE_MAX_FILTERS];
    const char *sv[GW_TILE_MAX_FILTERS];
    const int64_t *tcol;
    const uint8_t *tnull;
    bool has_lo, has_hi;
    int64_t lo, hi;
    gw_tile_keep_fn keep; /* gw_tile_extras.keep, NULL when none */
    void *keep_user;
} tl_cfilt;

/* Compile f (may be NULL) against d's columns. */
/* The data layer a tile part reads (camera_views read cameras, blind_spots and
 * hotspot_clusters the grids' analysis). */
gw_layer tl_part_layer(int part);
void tl_cfilt_init(tl_cfilt *c, const gw_layer_data *d, const gw_tile_filter *f);
/* 1 when row passes. */
int tl_cfilt_pass(const tl_cfilt *c, size_t row);

/* The blind_spots layer of a tile (layer already started): the supplier's polygons of the
 * grids meeting box (EPSG:3857, buffered tile), filtered through cf on the snapshot's grids
 * (cf->d; a filter with conditions drops grids the snapshot does not hold). */
gw_status tl_render_blind(gw_ctx *ctx, gw_mvt *mvt, const gw_tile_extras *ex, const tl_cfilt *cf,
                          gw_bbox box);

/* The hotspot_clusters layer `name` of a tile (started here when ex has clusters): the extras'
 * clusters whose envelope meets box (EPSG:3857, buffered tile). */
gw_status tl_render_clusters(gw_ctx *ctx, gw_mvt *mvt, const char *name, const gw_tile_extras *ex,
                             gw_bbox box);
/* The hotspot_clusters layer's properties (gw_tile_layer_props). */
size_t tl_cluster_props(const char **names, const char **types, size_t cap);

/* ---- cluster points (tiles/point_agg.c) ---------------------------------------------------- */

#define TL_CLUSTER_CATS 16 /* categories counted one by one; the rest go to count_other */
#define TL_AGG_MAX_CATS 64 /* distinct categories an aggregate index keeps apart */

/* Fixed-point Web Mercator position: 2^32 units across the world, x from the west edge, y from
 * the north edge (a tile at zoom z holds the points with ix >> (32 - z) == x, iy likewise). */
void tl_fix(double mx, double my, uint32_t *ix, uint32_t *iy);

/* The sums of a tile's cluster grid (cells x cells, row-major from the north-west corner):
 * points, points per category column, fixed-point coordinate sums. */
typedef struct tl_cellsum {
    int cells, ncat;
    const char *const *cat; /* ncat names; NULL = rows without a category */
    const char *names[TL_AGG_MAX_CATS];
    uint32_t *tot, *cnt; /* cells^2, cells^2 * ncat */
    int64_t *sum;        /* cells^2 * 2 */
} tl_cellsum;
gw_status tl_cellsum_init(gw_ctx *ctx, tl_cellsum *cs, int cells, int ncat);
void tl_cellsum_free(tl_cellsum *cs);
/* One cluster point per non-empty cell (layer already started): cluster, count and, when
 * `counted`, count_<category> for the first TL_CLUSTER_CATS categories of the tile by name and
 * count_other for the rest, at the cell's mean position. */
gw_status tl_cellsum_emit(gw_ctx *ctx, gw_mvt *mvt, const tl_cellsum *cs, int counted);
/* Keep the rows[0..n) of d whose fixed-point position lies in tile t; returns how many. */
size_t tl_keep_in_tile(const gw_layer_data *d, size_t *rows, size_t n, gw_tile_id t);
/* The cells of tile t from a scan of rows[0..n) of d (all in t), category field fcat (-1:
 * none). */
gw_status tl_scan_cells(gw_ctx *ctx, const gw_layer_data *d, int fcat, const size_t *rows, size_t n,
                        gw_tile_id t, int cells, tl_cellsum *cs);

/* The aggregate index of one point layer version (immutable, reference counted). */
typedef struct tl_agg tl_agg;
typedef struct tl_agg_slot {
    pthread_mutex_t lock;
    tl_agg *agg; /* the latest index */
    uint64_t builds, updates;
    double last_ms;
} tl_agg_slot;
/* The index of the snapshot's `layer` counted by field fcat (-1: none): the slot's, or derived
 * from it (a later version of the layer), or built anew; *out NULL when the layer is absent or
 * has more than TL_AGG_MAX_CATS categories.  Release with tl_agg_release(). */
gw_status tl_agg_get(gw_ctx *ctx, tl_agg_slot *slot, const gw_model_snapshot *snap, gw_layer layer,
                     int fcat, tl_agg **out);
void tl_agg_release(gw_ctx *ctx, tl_agg *a);
/* Points in tile t. */
size_t tl_agg_tile_count(const tl_agg *a, gw_tile_id t);
/* The cells (64 or 128 a side) of tile t; free cs with tl_cellsum_free(). */
gw_status tl_agg_cells(gw_ctx *ctx, const tl_agg *a, gw_tile_id t, int cells, tl_cellsum *cs);

#endif
