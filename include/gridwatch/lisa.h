/* lisa.h — Local Moran's I (Anselin 1995) with conditional permutation inference, the cluster
 * and outlier half of the hot spot toolset: which grids sit in a high-high or low-low cluster
 * and which are high among lows (or low among highs).
 *
 * With row-standardised weights (each neighbour 1/k_i, the focal unit excluded), z = x − x̄ and
 * m2 = Σ z² / n:  I_i = (z_i / m2) Σ_j w_ij z_j — R spdep::localmoran's default (mlvar = TRUE);
 * PySAL esda's Moran_Local scales the same statistic by (n − 1)/n, which changes no p-value.
 * Inference as esda and spdep::localmoran_perm: for unit i, R times draw k_i of the other n − 1
 * units at random (without replacement) as its neighbours, keeping z_i; M = the number of
 * permuted I_i ≥ the observed one, folded to R − M when that is smaller; p = (M + 1)/(R + 1).
 * Quadrants as esda's q: HH (z > 0, lag > 0), LH, LL, HL. */
#ifndef GRIDWATCH_LISA_H
#define GRIDWATCH_LISA_H

#include "gridwatch/common.h"
#include "gridwatch/hotspot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_lisa_class {
    GW_LISA_NOT_SIGNIFICANT = 0,
    GW_LISA_HH,
    GW_LISA_LH,
    GW_LISA_LL,
    GW_LISA_HL, /* significant, by quadrant (esda q 1..4) */
    GW_LISA_NO_NEIGHBOURS,
    GW_LISA_NO_VALUE,
    GW_LISA_CLASS_COUNT
} gw_lisa_class;

/* "HH", "LH", "LL", "HL", "not_significant", "no_neighbours", "no_value". */
const char *gw_lisa_class_name(gw_lisa_class c);

typedef struct gw_lisa_opts {
    int permutations; /* R; 0 = 999; < 0 = none (p stays NaN) */
    uint64_t seed;    /* the same seed gives the same p-values, whatever the thread count */
    double alpha;     /* significance for the classes (0 = 0.05) */
} gw_lisa_opts;

/* Local Moran's I of x[0..n) with the binary weights w row-standardised.  valid (NULL = all)
 * as in gw_gistar.  Outputs (n entries each; any but I may be NULL): I, the pseudo p-value p,
 * quad (1 HH, 2 LH, 3 LL, 4 HL; 0 when undefined), cls (gw_lisa_class).  Units without a valid
 * neighbour get I = NaN and GW_LISA_NO_NEIGHBOURS.  GW_ERR_RANGE when fewer than 3 valid units
 * or all values equal. */
gw_status gw_lisa(gw_ctx *ctx, const gw_weights *w, const double *x, const uint8_t *valid, size_t n,
                  const gw_lisa_opts *opts, double *I, double *p, uint8_t *quad, uint8_t *cls);

#ifdef __cplusplus
}
#endif
#endif
