/* emerging.h — emerging hot spot analysis as ArcGIS Pro's Emerging Hot Spot Analysis defines it:
 * which hot spots are new, growing, steady, fading or gone, and the same for cold spots.
 *
 * A space-time cube of grid × time step (a week by default) holds one value per bin.  Each bin
 * gets a Gi* z-score (binary weights, self included) whose neighbourhood is the grid and its
 * spatial neighbours in the same step and in the previous k steps ("neighborhood time step",
 * k = 1); mean, SD and n are those of the whole cube (ArcGIS's default "entire cube" global
 * window).  Bins are significant hot/cold at 90 % confidence of the BH-adjusted p (as ArcGIS Pro,
 * which applies the FDR correction over the cube).  Each grid's z series then gets a two-sided
 * Mann-Kendall trend test, and the grid one of the 17 categories (docs/hotspots.md). */
#ifndef GRIDWATCH_EMERGING_H
#define GRIDWATCH_EMERGING_H

#include "gridwatch/common.h"
#include "gridwatch/hotspot.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Mann-Kendall trend test ------------------------------------------------------------- */

typedef struct gw_mann_kendall {
    size_t n;   /* values taken (NaN skipped) */
    double s;   /* S = Σ_{i<j} sign(x_j − x_i) */
    double var; /* (n(n−1)(2n+5) − Σ_ties t(t−1)(2t+5)) / 18 */
    double z; /* (S − 1)/√var for S > 0, (S + 1)/√var for S < 0, 0 for S = 0 (NaN when var = 0) */
    double p; /* two-sided normal p of z (NaN when z is) */
} gw_mann_kendall;

/* The test on x[0..n) in order, NaN entries skipped.  scratch has n doubles (for the tie
 * groups); it may alias nothing else.  No allocation. */
gw_mann_kendall gw_mann_kendall_test(const double *x, size_t n, double *scratch);

/* ---- categories ---------------------------------------------------------------------------- */

typedef enum gw_ehs_category {
    GW_EHS_NO_PATTERN = 0,
    GW_EHS_NEW_HOT,
    GW_EHS_CONSECUTIVE_HOT,
    GW_EHS_INTENSIFYING_HOT,
    GW_EHS_PERSISTENT_HOT,
    GW_EHS_DIMINISHING_HOT,
    GW_EHS_SPORADIC_HOT,
    GW_EHS_OSCILLATING_HOT,
    GW_EHS_HISTORICAL_HOT,
    GW_EHS_NEW_COLD,
    GW_EHS_CONSECUTIVE_COLD,
    GW_EHS_INTENSIFYING_COLD,
    GW_EHS_PERSISTENT_COLD,
    GW_EHS_DIMINISHING_COLD,
    GW_EHS_SPORADIC_COLD,
    GW_EHS_OSCILLATING_COLD,
    GW_EHS_HISTORICAL_COLD,
    GW_EHS_NO_VALUE, /* not a pattern: the grid has no value (per_10k with no residents) */
    GW_EHS_CATEGORY_COUNT
} gw_ehs_category;

/* "no_pattern", "new_hot_spot", …, "historical_cold_spot", "no_value"; never NULL. */
const char *gw_ehs_category_name(gw_ehs_category c);

/* The category of one grid from its bins' significance sig[0..steps) (+1 hot, −1 cold, 0 not
 * significant, oldest first) and the Mann-Kendall trend of its z series (trend_z, trend_p;
 * significant when trend_p <= alpha).  "≥ 90 % of steps" is 10·hits ≥ 9·steps.  Final step hot:
 * ≥ 90 % hot → intensifying (increasing trend) / diminishing (decreasing) / persistent; else a
 * cold step ever → oscillating; else the only hot step → new; else one uninterrupted run of
 * hot steps ending at the final one → consecutive; else sporadic.  Final step not hot and
 * ≥ 90 % hot → historical.  Cold spots mirror this (a decreasing trend intensifies a cold spot).
 * The final step's sign is looked at first, so a long hot history that ends cold is an
 * oscillating cold spot. */
gw_ehs_category gw_ehs_classify(const int8_t *sig, size_t steps, double trend_z, double trend_p,
                                double alpha);

/* ---- space-time Gi* --------------------------------------------------------------------------- */

/* Gi* of a cube of `steps` steps over the n units of w: x[t·n + i] is unit i in step t; valid
 * (NULL = all) marks units taking part in every step.  The neighbourhood of bin (i, t) is i and
 * its neighbours in steps max(0, t − k) … t.  Mean, SD and n over all valid bins.  z has
 * n·steps entries (NaN for invalid units and for bins whose neighbourhood is only themselves).
 * GW_ERR_ARG on a count mismatch; GW_ERR_RANGE with fewer than 2 valid bins or all equal.
 * No allocation. */
gw_status gw_gistar_spacetime(gw_ctx *ctx, const gw_weights *w, const double *x,
                              const uint8_t *valid, size_t n, size_t steps, int k, double *z);

/* ---- the analysis over the model ---------------------------------------------------------- */

enum { GW_EHS_MIN_STEPS = 10 }; /* as ArcGIS: a trend needs at least ten time steps */

typedef struct gw_emerging_opts {
    gw_incident_filter filter; /* from/to also bound the cube (see gw_emerging) */
    gw_hotspot_value value;    /* per bin: count, per km², per 10,000 residents */
    int64_t step;              /* seconds per time step; 0 = one week */
    int time_neighbours;       /* k previous steps in each bin's neighbourhood; 0 = 1, < 0 = none */
    int no_fdr;                /* bins significant by raw p instead of BH-adjusted p */
    double alpha;              /* significance of bins and trend; 0 = 0.10 (90 % confidence) */
} gw_emerging_opts;

typedef struct gw_emerging_result {
    size_t n, steps; /* grids (model order) and time steps */
    int64_t start;   /* step t covers [start + t·step, start + (t+1)·step) in Unix seconds */
    int64_t step;
    size_t incidents; /* incidents counted into the cube */
    size_t left_out;  /* filtered incidents outside the cube or any grid */
    double *count;    /* n·steps, [t·n + i]: incidents per bin */
    double *z, *p;    /* n·steps: Gi* per bin and the p used for significance (BH or raw) */
    int8_t *sig;      /* n·steps: +1 hot, −1 cold, 0 */
    double *trend_s, *trend_z, *trend_p; /* n: Mann-Kendall over the grid's z series */
    uint32_t *hot_steps, *cold_steps;    /* n */
    uint8_t *category;                   /* n: gw_ehs_category */
    size_t n_category[GW_EHS_CATEGORY_COUNT];
    double seconds; /* cube + statistics (weights excluded) */
} gw_emerging_result;

/* Emerging hot spots of the snapshot's grids with weights w (built on the same grids:
 * GW_ERR_CONFLICT otherwise).  The cube ends at filter.to + 1 s when given, else one second
 * after the last filtered incident, and steps are laid back from there (ArcGIS's end-time
 * alignment); it starts at filter.from when given, else at the first incident.  A leading
 * partial step shorter than half a step is dropped (its incidents are left out), a longer one is
 * kept as a whole step.  GW_ERR_RANGE when fewer than GW_EHS_MIN_STEPS steps or no incidents.
 * inc_grid (gw_hotspot_incident_grids) may be NULL.  Caller frees with
 * gw_emerging_result_destroy(). */
gw_status gw_emerging(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                      const int32_t *inc_grid, const gw_emerging_opts *opts,
                      gw_emerging_result **out);
void gw_emerging_result_destroy(gw_emerging_result *r);

#ifdef __cplusplus
}
#endif
#endif
