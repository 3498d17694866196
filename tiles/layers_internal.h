/* layers_internal.h — what tiles/layers.c shares with tiles/blind_layer.c and
 * tiles/cluster_layer.c: a tile filter compiled against one layer's columns, and the renderers
 * of the blind_spots and hotspot_clusters layers. */
#ifndef GW_TILES_LAYERS_INTERNAL_H
#define GW_TILES_LAYERS_INTERNAL_H

#include "gridwatch/tilelayers.h"

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

#endif
