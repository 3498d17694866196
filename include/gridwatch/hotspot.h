/* hotspot.h — where incidents concentrate: counts and rates per grid, spatial weights between
 * grids, Getis-Ord Gi* z-scores with two-sided p-values and Benjamini–Hochberg classes.
 *
 * Everything runs on the in-memory model (model.h), never on SQLite.  Gi* is the statistic of
 * Getis & Ord (1995) exactly as R spdep::localG computes it with self-included binary weights
 * (nb2listw(include.self(nb), style = "B")): mean and population SD over all n values,
 * z_i = (Σ_j w_ij x_j − x̄ W_i) / (S √((n S1_i − W_i²)/(n − 1))). */
#ifndef GRIDWATCH_HOTSPOT_H
#define GRIDWATCH_HOTSPOT_H

#include "gridwatch/common.h"
#include "gridwatch/model.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- spatial weights ------------------------------------------------------------------- */

typedef enum gw_weights_kind {
    GW_WEIGHTS_QUEEN = 0, /* polygons sharing a boundary point (within the snap tolerance) */
    GW_WEIGHTS_ROOK,      /* polygons sharing a boundary stretch of positive length */
    GW_WEIGHTS_DISTANCE,  /* centroids (points) at most `distance` metres apart */
    GW_WEIGHTS_KNN        /* the k nearest centroids (points); not symmetric */
} gw_weights_kind;

typedef struct gw_weights_opts {
    gw_weights_kind kind;
    double snap;     /* contiguity: tolerance in metres (0 = exact; default of parse: 0.01) */
    double distance; /* GW_WEIGHTS_DISTANCE: band in metres (> 0) */
    int k;           /* GW_WEIGHTS_KNN: neighbours (>= 1) */
} gw_weights_opts;

/* Binary neighbour lists (the focal unit itself is never listed; Gi* adds it). */
typedef struct gw_weights gw_weights;

/* Parse "queen", "rook", "distance:M", "knn:K" (optionally ",snap:M" after queen/rook).
 * GW_ERR_ARG with a message naming the text otherwise. */
gw_status gw_weights_parse(gw_ctx *ctx, const char *text, gw_weights_opts *out);
/* Weights between the grids of a model layer (metric geometries; contiguity uses the layer's
 * STRtree, distance/knn the polygon centroids).  Caller frees with gw_weights_destroy(). */
gw_status gw_weights_from_grids(gw_ctx *ctx, const gw_layer_data *grids,
                                const gw_weights_opts *opts, gw_weights **out);
/* Distance-band or kNN weights between n points (contiguity kinds: GW_ERR_ARG).
 * Caller frees with gw_weights_destroy(). */
gw_status gw_weights_from_points(gw_ctx *ctx, const double *x, const double *y, size_t n,
                                 const gw_weights_opts *opts, gw_weights **out);
/* Weights from explicit lists: neighbours of unit i are idx[off[i] .. off[i+1]) (off has n+1
 * entries; self references and duplicates are dropped).  Caller frees with gw_weights_destroy(). */
gw_status gw_weights_from_lists(gw_ctx *ctx, size_t n, const size_t *off, const uint32_t *idx,
                                gw_weights **out);
void gw_weights_destroy(gw_weights *w);
size_t gw_weights_count(const gw_weights *w);
/* Neighbours of unit i, ascending (borrowed); *n receives their count. */
const uint32_t *gw_weights_neighbours(const gw_weights *w, size_t i, size_t *n);
/* Total number of (directed) links. */
size_t gw_weights_links(const gw_weights *w);
/* The options the weights were built with. */
gw_weights_opts gw_weights_get_opts(const gw_weights *w);

/* ---- statistics ------------------------------------------------------------------------ */

/* Gi* of x[0..n) with weights w (binary, self included).  valid (may be NULL = all) marks the
 * units taking part: the others are left out of n, x̄, S and every neighbourhood, and get
 * z = NaN, as do units with no valid neighbour.  z has n entries.  GW_ERR_ARG when n differs
 * from the weights' count; GW_ERR_RANGE when fewer than 2 valid units or all values equal. */
gw_status gw_gistar(gw_ctx *ctx, const gw_weights *w, const double *x, const uint8_t *valid,
                    size_t n, double *z);
/* Two-sided normal p-value of z (NaN for NaN). */
double gw_pvalue_two_sided(double z);
/* Benjamini–Hochberg adjusted p-values of the non-NaN entries of p (NaN stays NaN); q has n
 * entries.  Allocates scratch (GW_ERR_NOMEM). */
gw_status gw_fdr_bh(gw_ctx *ctx, const double *p, size_t n, double *q);

typedef enum gw_hotspot_class {
    GW_HS_NOT_SIGNIFICANT = 0,
    GW_HS_HOT_99,
    GW_HS_HOT_95,
    GW_HS_HOT_90,
    GW_HS_COLD_99,
    GW_HS_COLD_95,
    GW_HS_COLD_90,
    GW_HS_NO_NEIGHBOURS, /* a unit with no neighbour: z is null */
    GW_HS_NO_VALUE,      /* the value is undefined (a rate per resident with population 0) */
    GW_HS_CLASS_COUNT
} gw_hotspot_class;
/* "hot_99", "not_significant", "no_neighbours", …; never NULL. */
const char *gw_hotspot_class_name(gw_hotspot_class c);
/* Class from z and a (possibly FDR-adjusted) p: 99/95/90 % = p <= 0.01/0.05/0.10. */
gw_hotspot_class gw_hotspot_classify(double z, double p);

/* ---- per-grid counts and the whole analysis -------------------------------------------- */

typedef enum gw_hotspot_value {
    GW_HV_COUNT = 0, /* incidents */
    GW_HV_PER_KM2,   /* incidents per km² of grid area (metric geometry) */
    GW_HV_PER_10K    /* incidents per 10,000 residents (population field; 0/NULL → no value) */
} gw_hotspot_value;
/* "count", "per_km2", "per_10k" → value kind; GW_ERR_ARG otherwise. */
gw_status gw_hotspot_value_parse(gw_ctx *ctx, const char *text, gw_hotspot_value *out);
const char *gw_hotspot_value_name(gw_hotspot_value v);

/* Which incidents count.  Times are Unix seconds, both ends inclusive. */
typedef struct gw_incident_filter {
    int has_from, has_to;
    int64_t from, to;
    const char *category;           /* exact category, or a comma-separated list; NULL = all */
    int severity_min, severity_max; /* 0 = no bound */
} gw_incident_filter;

/* The grid row of every incident (-1 when it lies in no grid): the incident's `grid` field
 * when it names a current grid, else the grid covering its point.  rows has
 * gw_layer_data_count(incidents) entries. */
gw_status gw_hotspot_incident_grids(gw_ctx *ctx, const gw_layer_data *grids,
                                    const gw_layer_data *incidents, int32_t *rows);
/* Does incident row `row` pass the filter? (category/time/severity; cheap). */
int gw_incident_filter_match(const gw_layer_data *incidents, size_t row,
                             const gw_incident_filter *f);
/* Count the filtered incidents per grid into counts[gw_layer_data_count(grids)].  inc_grid is
 * gw_hotspot_incident_grids()'s answer (NULL: computed here). */
gw_status gw_hotspot_counts(gw_ctx *ctx, const gw_layer_data *grids, const gw_layer_data *incidents,
                            const int32_t *inc_grid, const gw_incident_filter *f, double *counts);

typedef struct gw_hotspot_opts {
    gw_incident_filter filter;
    gw_hotspot_value value;
    int no_fdr; /* classes from raw p instead of BH-adjusted p */
} gw_hotspot_opts;

/* Per-grid results, arrays of n (grid rows in the model's order). */
typedef struct gw_hotspot_result {
    size_t n;
    double *count; /* incidents */
    double *value; /* the analysed value (NaN where undefined) */
    double *z;     /* Gi* (NaN = null) */
    double *p;     /* two-sided p (NaN = null) */
    double *q;     /* BH-adjusted p (NaN = null) */
    uint8_t *cls;  /* gw_hotspot_class */
    size_t n_hot, n_cold, n_no_neighbours, n_no_value;
    double seconds; /* time of counts + statistic (weights excluded) */
} gw_hotspot_result;

/* Gi* hot spots of the grids of `snap` with weights `w` (built on the same grids layer:
 * GW_ERR_CONFLICT when its count differs).  inc_grid may be NULL.  Caller frees with
 * gw_hotspot_result_destroy(). */
gw_status gw_hotspot_gistar(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                            const int32_t *inc_grid, const gw_hotspot_opts *opts,
                            gw_hotspot_result **out);
void gw_hotspot_result_destroy(gw_hotspot_result *r);

/* ---- incremental: one Gi* run kept up to date --------------------------------------------- */

/* The Gi* run of one set of options followed from snapshot to snapshot.  It keeps what a few
 * added, moved or deleted incidents leave alone — every incident's grid row and the per-grid
 * counts — and the snapshot it last ran on: an update finds the incident rows that differ
 * (gw_layer_data_match), moves the counts by those rows only and recomputes Gi*, p and the
 * FDR classes from the counts (O(grids + links); milliseconds where the full run over a million
 * incidents takes a few hundred).  The result is the full run's to the last bit: the counts are
 * the same integers and every later step is gw_hotspot_gistar's own code.  It falls back to the
 * full run on the first update, when the grids changed, and when many incidents differ. */
typedef struct gw_hotspot_state gw_hotspot_state;

/* A state for runs with `opts` (copied, with the category text; NULL = defaults).  Caller frees
 * with gw_hotspot_state_destroy(). */
gw_status gw_hotspot_state_create(gw_ctx *ctx, const gw_hotspot_opts *opts, gw_hotspot_state **out);
/* Releases the snapshot the state holds (with ctx's GEOS handle).  Accepts NULL. */
void gw_hotspot_state_destroy(gw_ctx *ctx, gw_hotspot_state *s);
/* 0: every update runs in full (for comparisons); 1 (the default): incremental when it can. */
void gw_hotspot_state_set_incremental(gw_hotspot_state *s, int on);
/* Gi* of snap's grids with weights w (built on those grids: GW_ERR_CONFLICT when its count
 * differs), as gw_hotspot_gistar(ctx, snap, w, NULL, opts, out) would answer, and the state
 * moved to snap (a reference to it is kept until the next update or destroy).  GW_ERR_RANGE as
 * gw_hotspot_gistar (the state still moves on).  On any other error the state forgets what it
 * kept and the next update runs in full.  Not thread-safe: one caller at a time.  Caller frees
 * *out with gw_hotspot_result_destroy(). */
gw_status gw_hotspot_state_update(gw_ctx *ctx, gw_hotspot_state *s, gw_model_snapshot *snap,
                                  const gw_weights *w, gw_hotspot_result **out);
/* The grid row of every incident of the snapshot of the last update (borrowed; valid until the
 * next update), as gw_hotspot_incident_grids; NULL before a successful update.  *n receives
 * the number of incidents. */
const int32_t *gw_hotspot_state_incident_grids(const gw_hotspot_state *s, size_t *n);

typedef struct gw_hotspot_state_stats {
    uint64_t full, incremental; /* updates of each kind so far */
    size_t last_changed;        /* incident rows added, removed or changed (last incremental) */
    double last_seconds;        /* time of the last update */
} gw_hotspot_state_stats;
gw_hotspot_state_stats gw_hotspot_state_get_stats(const gw_hotspot_state *s);

/* ---- evaluation: Prediction Accuracy Index ---------------------------------------------- */

/* PAI = (hits_in / hits_total) / (area_in / area_total): the share of (test-period) incidents
 * in the flagged area over the share of the area flagged (Chainey, Tompson & Uhlig 2008).
 * NaN when a total or area_in is 0. */
double gw_pai(double hits_in, double hits_total, double area_in, double area_total);

typedef struct gw_pai_opts {
    gw_incident_filter train, test; /* the two periods (and the same category/severity) */
    int no_fdr;                     /* Gi* classes from raw p */
    double top;                     /* KDE: the share of cells flagged (0 = 0.05) */
    double cell, bandwidth;         /* KDE raster: cell (0 = 100 m), radius (0 = ArcGIS rule) */
    /* NULL: score over every grid.  Else one byte per grid row: the statistics are still computed
     * over every grid and incident (as a city-wide run sees them), but only the grids with a
     * non-zero byte are scored: the flagged area, the total area, the test incidents (those in
     * such a grid) and, for KDE, the cells whose centre lies in such a grid. */
    const uint8_t *grid_in;
} gw_pai_opts;

typedef struct gw_pai_row {
    char method[16];                   /* "gistar" or "kde" */
    gw_hotspot_value value;            /* gistar: the value analysed */
    double level;                      /* gistar: confidence 0.99/0.95/0.90 (hot classes at least as
                             * confident); kde: the top share of cells */
    size_t flagged;                    /* grids or cells flagged */
    double area_share, hit_share, pai; /* NaN when the statistic could not run */
    size_t test_hits, test_total, train_total;
} gw_pai_row;

enum { GW_PAI_ROWS = 10 }; /* 3 values x 3 levels of Gi*, then top-k% KDE */

/* Train on opts->train, score on opts->test: Gi* hot grids (weights w on the snapshot's grids)
 * for count, per_km2 and per_10k at 99/95/90 %, and the top opts->top of KDE cells whose centre
 * lies in a grid.  Areas are the grids' metric areas (KDE: cells in the grids).  rows has
 * GW_PAI_ROWS entries.  inc_grid may be NULL. */
gw_status gw_hotspot_evaluate(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                              const int32_t *inc_grid, const gw_pai_opts *opts, gw_pai_row *rows);

#ifdef __cplusplus
}
#endif
#endif
