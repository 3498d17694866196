/* stats_internal.h — what hotspot.c shares with hotspot_state.c (the incremental Gi* run): one
 * incident's grid and the steps of a Gi* run after the counts, so both paths compute every
 * figure with the same code and agree to the last bit.  Not installed (stats_ prefix). */
#ifndef GW_STATS_INTERNAL_H
#define GW_STATS_INTERNAL_H

#include "gridwatch/hotspot.h"

/* The grid row of incident row r (-1 when in no grid), as gw_hotspot_incident_grids. */
gw_status stats_incident_grid(gw_ctx *ctx, const gw_layer_data *grids,
                              const gw_layer_data *incidents, size_t r, int32_t *out);
/* GW_OK when the weights were built on n grids; else GW_ERR_CONFLICT with the message. */
gw_status stats_weights_check(gw_ctx *ctx, const gw_weights *w, size_t n);
/* A result of n grids, every array allocated (cls zeroed).  Free with
 * gw_hotspot_result_destroy(). */
gw_status stats_result_alloc(gw_ctx *ctx, size_t n, gw_hotspot_result **out);
/* From r->count (filled by the caller): values, Gi*, p, BH q, classes and the tallies. */
gw_status stats_hotspot_finish(gw_ctx *ctx, const gw_layer_data *grids, const gw_weights *w,
                               const gw_hotspot_opts *opts, gw_hotspot_result *r);

#endif
