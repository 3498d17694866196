/* kde.h — kernel density of incidents: the quartic (biweight) kernel of ArcGIS Kernel Density
 * on a raster in the metric CRS, in incidents per km², with ArcGIS's default bandwidth rule,
 * and the raster written as a GeoTIFF or traced into contour lines (GeoJSON) through GDAL.
 *
 * density(c) = (1/r²) Σ_{d_i < r} (3/π) (1 − (d_i/r)²)²   per m² (× 10⁶ for km²), with d_i the
 * distance from incident i to the centre of cell c; the kernel integrates to 1 per incident. */
#ifndef GRIDWATCH_KDE_H
#define GRIDWATCH_KDE_H

#include "gridwatch/common.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_kde_mode {
    GW_KDE_AUTO = 0, /* binned beyond 100,000 points, exact below */
    GW_KDE_EXACT,    /* every point's kernel from its exact position */
    GW_KDE_BINNED    /* points counted into cells first, then one kernel stencil per cell */
} gw_kde_mode;

typedef struct gw_kde_opts {
    double cell;      /* cell size in metres (> 0) */
    double bandwidth; /* search radius r in metres; 0 = ArcGIS's default rule */
    int has_bbox;     /* raster extent (metric); default: the points' extent grown by r */
    gw_bbox bbox;
    int threads; /* 0 = 2 */
    gw_kde_mode mode;
    size_t max_cells; /* refuse larger rasters (GW_ERR_RANGE); 0 = 25,000,000 */
} gw_kde_opts;

/* A single-band raster, row-major with the top (north) row first. */
typedef struct gw_raster {
    size_t nx, ny;
    double x0, y1; /* top-left corner (metric) */
    double cell;
    float *v;         /* nx*ny values, incidents per km² */
    double bandwidth; /* the r used, metres */
    size_t n_points;
    double seconds;
} gw_raster;

/* ArcGIS's default search radius 0.9·min(SD, √(1/ln 2)·D_m)·n^−0.2, SD the standard distance and
 * D_m the median distance from the mean centre.  GW_ERR_RANGE for fewer than 2 points or when
 * all points coincide.  Allocates scratch (GW_ERR_NOMEM). */
gw_status gw_kde_bandwidth(gw_ctx *ctx, const double *x, const double *y, size_t n, double *bw);

/* Density of n points (metric x/y).  Caller frees with gw_raster_destroy(). */
gw_status gw_kde_points(gw_ctx *ctx, const double *x, const double *y, size_t n,
                        const gw_kde_opts *opts, gw_raster **out);
/* Density of the snapshot's incidents passing `filter` (may be NULL).
 * Caller frees with gw_raster_destroy(). */
gw_status gw_kde_incidents(gw_ctx *ctx, gw_model_snapshot *snap, const gw_incident_filter *filter,
                           const gw_kde_opts *opts, gw_raster **out);
void gw_raster_destroy(gw_raster *r);

/* The raster as a Float32 GeoTIFF (deflate) in EPSG:srid, written by GDAL's GTiff driver to
 * /vsimem/.  *buf is malloc'ed: caller frees with free(). */
gw_status gw_raster_to_geotiff(gw_ctx *ctx, const gw_raster *r, int srid, unsigned char **buf,
                               size_t *len);
/* Contour lines of the raster at the given levels (GDALContourGenerate), as an RFC 7946
 * GeoJSON FeatureCollection in lon/lat with a "density" property.  *json is malloc'ed: caller
 * frees with free(). */
gw_status gw_raster_contours_geojson(gw_ctx *ctx, const gw_raster *r, int srid,
                                     const double *levels, size_t n_levels, char **json,
                                     size_t *len);

#ifdef __cplusplus
}
#endif
#endif
