/* clusters.h — hot spot clusters: compact places where incidents concentrate beyond what their
 * surroundings explain, found at the scale they happen, with how they change over the window.
 *
 * The method (docs/hotspots.md, "Clusters"):
 *  1. the scale from the data: on a 100-m lattice, the first peak D of incremental spatial
 *     autocorrelation (global Moran's I z by distance band) of the excess over a 1-km
 *     background; then the cell is 2D/3 (25-m steps, 100-300 m), the largest zone radius 2D
 *     and the background bandwidth D: a concentration wider than the bandwidth is background;
 *  2. the filtered incidents are counted on a square lattice of that cell over the grids
 *     (cells whose centre lies in no grid are outside the study area unless an incident lies
 *     in them);
 *  3. each cell's expected count is the background: the counts smoothed by a Gaussian of the
 *     bandwidth (three box passes) over the smoothed study area (no loss at the edges), or,
 *     where the grids have residents and that is larger, the cell's residents times the
 *     incidents per resident smoothed over 2 km; scaled so that the expected counts sum to the
 *     observed ones: a place is compared with its own surroundings and people, so a busy town
 *     is not a hot spot for being busy;
 *  4. Kulldorff's Poisson scan statistic over circular zones (the cells whose centres lie
 *     within r of a cell's centre, r up to the largest radius): for observed c and expected e in
 *     the zone and C in all, LLR = c ln(c/e) + (C-c) ln((C-c)/(C-e)) when c > e, else 0; zones
 *     with a relative risk under `min_rr` are not candidates (SaTScan's restriction by RR);
 *  5. each centre's best zone, ranked by LLR, non-overlapping (SaTScan's "no geographical
 *     overlap" secondary clusters), p from `replications` Monte-Carlo replicas of the whole scan
 *     under H0 (counts multinomial in proportion to expected), each cluster against the
 *     distribution of the replicas' maximum LLR (family-wise, as SaTScan); reported when
 *     p <= alpha;
 *  6. a trend class from the cluster's counts in `steps` equal time slices (Mann-Kendall test
 *     and which slices are hot), and the space-time permutation scan (Kulldorff 2005) of zones
 *     centred in the clusters for those new in the last `recent_days`.
 * Everything runs on the in-memory model (model.h). */
#ifndef GRIDWATCH_CLUSTERS_H
#define GRIDWATCH_CLUSTERS_H

#include "gridwatch/common.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/model.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the scan statistic on a lattice (the engine; tests check it against brute force) ---- */

/* A lattice of nx × ny cells of `cell` metres; cell (i, j) is index j·nx + i, its centre at
 * (x0 + (i + ½)·cell, y0 + (j + ½)·cell).  in[k] = 0 marks a cell outside the study area (its
 * counts must be 0; it is never a zone's centre but may lie inside a zone). */
typedef struct gw_lattice {
    size_t nx, ny;
    double x0, y0, cell;
    const uint8_t *in;      /* NULL = every cell in */
    const double *count;    /* observed, nx·ny */
    const double *expected; /* expected, nx·ny, > 0 where in */
} gw_lattice;

/* One zone: the cells within `radius` of centre cell `centre`. */
typedef struct gw_scan_zone {
    size_t centre;
    double radius; /* metres, the distance of the zone's farthest cell centre */
    size_t cells;  /* cells in the zone */
    double c, e;   /* observed and expected in the zone */
    double llr;
    double p; /* Monte-Carlo p (NaN before the replicas ran) */
} gw_scan_zone;

typedef struct gw_scan_opts {
    double max_radius;    /* metres (> 0) */
    int replications;     /* Monte-Carlo replicas (0 = no p-values) */
    uint64_t seed;        /* replica RNG seed */
    int threads;          /* worker threads for the replicas (0 = 2) */
    size_t max_zones;     /* non-overlapping zones kept (0 = 1000) */
    double min_cases;     /* a zone needs at least this many incidents (0 = 2) */
    double min_rr;        /* zones whose relative risk is below this are not candidates, in the
                         * data and in every replica alike (SaTScan's restriction of clusters by
                         * relative risk); 0 = no restriction */
    const uint32_t *pool; /* when set, replicas draw the total count WITHOUT replacement from
                           * pool[0..pool_n) (the cell of every incident of all time: the
                           * space-time permutation scan); else multinomially by expected */
    size_t pool_n;
    const uint8_t *centres; /* when set, only cells with centres[k] != 0 are zone centres (in
                             * the data and in the replicas); NULL = every cell in the area */
} gw_scan_opts;

/* The non-overlapping best zones of the lattice, by LLR descending, with Monte-Carlo p when
 * opts->replications > 0.  *out is malloc'ed (free()), *n its count.  *max_null (may be NULL)
 * receives the replicas' maximum LLRs, sorted ascending (malloc'ed, replications entries). */
gw_status gw_scan_lattice(gw_ctx *ctx, const gw_lattice *lat, const gw_scan_opts *opts,
                          gw_scan_zone **out, size_t *n, double **max_null);
/* The LLR of a zone with c observed and e expected out of C (LLR 0 when c <= e). */
double gw_scan_llr(double c, double e, double C);

/* ---- clusters of incidents -------------------------------------------------------------- */

typedef enum gw_cluster_trend {
    GW_CT_NEW = 0,      /* hot only lately: first hot slice in the last third, hot at the end */
    GW_CT_INTENSIFYING, /* significant increasing trend, hot at the end */
    GW_CT_PERSISTENT,   /* hot in >= 80 % of the slices, no significant trend */
    GW_CT_DIMINISHING,  /* significant decreasing trend */
    GW_CT_SPORADIC,     /* hot in some slices, off in others, no trend */
    GW_CT_COUNT
} gw_cluster_trend;
/* "new", "intensifying", "persistent", "diminishing", "sporadic"; never NULL. */
const char *gw_cluster_trend_name(gw_cluster_trend t);
/* The trend of a series of counts[0..steps) (oldest first) against expected[0..steps): a slice
 * is hot when its count exceeds its expected with one-sided Poisson p <= 0.05 (and by 50 %).
 * Rules in the order of the enum's comments (new before intensifying); alpha for the
 * Mann-Kendall test.  *mk_z (may be NULL) receives the Mann-Kendall z. */
gw_cluster_trend gw_cluster_trend_classify(const double *counts, const double *expected,
                                           size_t steps, double alpha, double *mk_z);

typedef struct gw_cluster_opts {
    gw_incident_filter filter;
    double cell;         /* lattice cell, metres; 0 = from the data (see gw_cluster_result) */
    double max_radius;   /* largest zone radius, metres; 0 = from the data */
    double bandwidth;    /* background Gaussian σ, metres; 0 = from the data */
    double min_rr;       /* smallest relative risk reported; 0 = 1.75 */
    double alpha;        /* Monte-Carlo p threshold; 0 = 0.05 */
    int replications;    /* 0 = 99 */
    uint64_t seed;       /* 0 = 1 */
    int steps;           /* time slices for the trend; 0 = 12 */
    int recent_days;     /* space-time permutation scan window; 0 = 30, < 0 = off */
    int threads;         /* 0 = 2 */
    size_t max_clusters; /* 0 = 500 */
    int no_population;   /* 1: the background is the smoothed counts even where the grids
                          * have residents */
    int metric_srid;     /* EPSG of the snapshot's metric CRS (gw_model_metric_srid) for the
                          * lon/lat output; 0 = lon/lat left NaN and no rings */
} gw_cluster_opts;

typedef struct gw_cluster {
    int rank;         /* 1 = the most likely cluster */
    double x, y;      /* centre, metric CRS */
    double lon, lat;  /* centre, EPSG:4326 */
    double radius;    /* metres */
    double incidents; /* observed in the zone */
    double expected;  /* expected in the zone */
    double rr;        /* relative risk: (c/e) / ((C−c)/(C−e)) */
    double llr;       /* log-likelihood ratio */
    double p;         /* Monte-Carlo p */
    gw_cluster_trend trend;
    double trend_z;  /* Mann-Kendall z of the slices' counts */
    double *series;  /* incidents per slice (steps entries) */
    int recent;      /* space-time permutation: a cluster new in the last recent_days */
    double recent_p; /* its Monte-Carlo p (NaN when not tested) */
    double recent_incidents, recent_expected;
    int32_t *grids; /* grid rows the zone's circle touches */
    size_t n_grids;
} gw_cluster;

typedef struct gw_cluster_result {
    size_t n;
    gw_cluster *c;            /* ranked */
    double cell;              /* the lattice cell used, metres */
    double max_radius;        /* the largest zone radius used, metres */
    double bandwidth;         /* the background σ used, metres */
    const char *scale_reason; /* how cell/radius/bandwidth were chosen (static text) */
    int population;           /* 1: the background used the grids' residents */
    int replications, steps;
    int64_t from, to; /* the window (Unix seconds) the slices cut */
    double incidents; /* incidents analysed (filtered, inside the grids) */
    int metric_srid;
    /* per grid row (n_grids entries): clusters touching the grid and the highest RR among them */
    size_t grid_count;
    int32_t *grid_clusters;
    double *grid_max_rr;
    double seconds;
} gw_cluster_result;

/* Find the clusters of the snapshot's filtered incidents.  inc_grid: as gw_hotspot_counts
 * (NULL = computed here).  Caller frees with gw_cluster_result_destroy(). */
gw_status gw_clusters_find(gw_ctx *ctx, gw_model_snapshot *snap, const int32_t *inc_grid,
                           const gw_cluster_opts *opts, gw_cluster_result **out);
void gw_cluster_result_destroy(gw_cluster_result *r);
/* A new incident at metric (x, y): the clusters whose circle holds it count it (incidents + 1,
 * totals + 1, expected and RR rescaled) without a new scan; returns how many changed. */
size_t gw_cluster_result_add_incident(gw_cluster_result *r, double x, double y);
/* The cluster's circle as a polygon of `segments` vertices (>= 8) in EPSG:4326 (lon, lat)
 * coordinates: xs/ys receive segments + 1 positions (closed). */
gw_status gw_cluster_ring(gw_ctx *ctx, const gw_cluster_result *r, const gw_cluster *c,
                          int segments, double *xs, double *ys);
/* Every cluster's circle at once, through one transformation (the routes' and tiles' way):
 * cluster i's segments + 1 positions start at xs/ys + i·(segments + 1). */
gw_status gw_cluster_rings(gw_ctx *ctx, const gw_cluster_result *r, int segments, double *xs,
                           double *ys);

#ifdef __cplusplus
}
#endif
#endif
