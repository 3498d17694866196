/* heatmap.h — heat map raster tiles: the kernel density of the model's incidents on one
 * 256-pixel XYZ tile of the Web Mercator pyramid, coloured with a perceptual ramp (viridis) over
 * a log density scale and encoded as an RGBA PNG (libpng), plus the legend that says which
 * colour means how many incidents per km².
 *
 * Kernel: the product of two 1-D quartic (biweight) kernels, K(u,v) = k(u)k(v) with
 * k(u) = (15/16)(1 − u²)² / r, so that a tile is computed by linear binning into the pixel grid
 * and two 1-D passes (separable); each incident still integrates to 1.  Bandwidth r in ground
 * metres: gw_heatmap_bandwidth() — 12 screen pixels at the tile's zoom, never below 100 m (the
 * scatter of a geocoded address: below it the "density" is the points themselves) nor above
 * 4 km (wider says nothing about a place); so the map reads the same at city zooms and the
 * values stay densities in incidents per km² of ground (Mercator scale corrected per row). */
#ifndef GRIDWATCH_HEATMAP_H
#define GRIDWATCH_HEATMAP_H

#include "gridwatch/common.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_HEATMAP_SIZE 256      /* pixels across a tile */
#define GW_HEATMAP_RADIUS_PX 12  /* bandwidth in screen pixels, before the clamps */
#define GW_HEATMAP_MIN_BW 100.0  /* metres */
#define GW_HEATMAP_MAX_BW 4000.0 /* metres */
#define GW_HEATMAP_MAX_ZOOM 22

typedef struct gw_heatmap_opts {
    gw_incident_filter filter;
    double min, max; /* colour ramp over [min, max] incidents per km², log scale; below min is
                      * transparent.  0 = defaults 1 and 1000. */
    /* When set, only the incident rows it keeps count (a jurisdiction: the server's scope). */
    int (*keep)(void *user, const gw_layer_data *incidents, size_t row);
    void *keep_user;
} gw_heatmap_opts;

/* Bandwidth (ground metres) used on tiles of zoom z at latitude lat (degrees). */
double gw_heatmap_bandwidth(unsigned z, double lat);

/* Density (incidents per km²) of the snapshot's incidents passing opts->filter on tile z/x/y,
 * 256×256 floats, top row first, into out.  GW_ERR_RANGE for a tile outside the pyramid.
 * *n_points (may be NULL) receives the number of incidents that reached the tile. */
gw_status gw_heatmap_density(gw_ctx *ctx, gw_model_snapshot *snap, unsigned z, unsigned x,
                             unsigned y, const gw_heatmap_opts *opts, float *out, size_t *n_points);

/* The RGBA colour of a density under the ramp of opts (alpha 0 below min). */
void gw_heatmap_colour(const gw_heatmap_opts *opts, double density, uint8_t rgba[4]);

/* The tile as a PNG (8-bit RGBA, 256×256).  *png is malloc'ed: caller frees with free(). */
gw_status gw_heatmap_tile_png(gw_ctx *ctx, gw_model_snapshot *snap, unsigned z, unsigned x,
                              unsigned y, const gw_heatmap_opts *opts, unsigned char **png,
                              size_t *len);

/* The legend as JSON: {"unit":"incidents/km2","scale":"log","min","max","kernel",
 * "bandwidth":{pixels, min_m, max_m, rule},"stops":[{"density":d,"color":"#rrggbb","alpha":a},…]}.
 * *json is malloc'ed: caller frees with free(). */
gw_status gw_heatmap_legend_json(gw_ctx *ctx, const gw_heatmap_opts *opts, char **json);

#ifdef __cplusplus
}
#endif
#endif
