/* cluster_internal.h — the lattice shared by the cluster files of the stats room (cl_ prefix;
 * not installed). */
#ifndef GW_CLUSTER_INTERNAL_H
#define GW_CLUSTER_INTERNAL_H

#include "gridwatch/clusters.h"

#include <geos_c.h>

typedef struct cl_lattice {
    size_t nx, ny;
    double x0, y0, cell; /* lower-left corner of cell 0, metric CRS */
    int32_t *grid;       /* the grid row holding each cell's centre, -1 = outside */
    uint8_t *in;         /* the study area: a grid holds the centre, or an incident lies in it */
    double *count, *expected;
} cl_lattice;

/* A lattice of `cell` metres over the grids' extent with the grid raster filled in. */
gw_status cl_lattice_make(gw_ctx *ctx, const gw_layer_data *grids, double cell, cl_lattice *L);
void cl_lattice_free(cl_lattice *L);
/* The cell holding metric (x, y), or -1 off the lattice. */
long cl_lattice_cell_of(const cl_lattice *L, double x, double y);
/* expected = counts smoothed by a Gaussian of σ = bandwidth over the smoothed study area; where
 * pop (residents per cell, may be NULL) is positive, residents × incidents per resident, both
 * smoothed over 2 km, instead; scaled to the total count (a small floor keeps every study cell
 * above 0). */
gw_status cl_background(gw_ctx *ctx, cl_lattice *L, double bandwidth, const double *pop);
/* Residents per cell: each grid's population spread evenly over the cells whose centre it
 * holds.  NULL (nothing allocated) when no grid has a population. */
double *cl_population(const cl_lattice *L, const gw_layer_data *grids);
/* Incremental spatial autocorrelation of the excess (count − expected): global Moran's I z for
 * every distance band up to max_d; returns the distance of the first peak with z > 1.96 (else
 * of the largest z).  zs/ds (may be NULL) receive up to *nb bands' z and distance; *nb then
 * holds the number of bands. */
double cl_isa_radius(const cl_lattice *L, double max_d, double *zs, double *ds, size_t *nb);

/* The space-time permutation scan (Kulldorff 2005) of the clusters' circles and every other
 * zone for incidents new in the last `days` of the window: fills recent / recent_p /
 * recent_incidents / recent_expected of the result's clusters, and returns the number of
 * prospective clusters found outside them in *extra (may be NULL). */
gw_status cl_recent_scan(gw_ctx *ctx, const cl_lattice *L, const long *cell_of, const int64_t *t,
                         size_t n, int64_t to, int days, const gw_cluster_opts *o,
                         gw_cluster_result *r);

#endif
