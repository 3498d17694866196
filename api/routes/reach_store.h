/* reach_store.h — the grids' road reach shares (reach_3m/5m/10m) kept in the store, so that
 * `gridwatch tiles` on unchanged data reads them back instead of computing them again (a
 * minute of buffering and clipping on one core at scale 1; docs/benchmarks.md, the pyramid
 * rows).  The server computes them with their polygons (the isochrones tile layer) and keeps
 * the shares; `gridwatch tiles` draws no polygons and needs only the shares.
 *
 * Kept through meta_blob.h under "reach_shares_key" / "reach_shares", keyed by the gridwatch
 * version, the road graph's change-log seq and size, the police rooms' and grids' versions
 * (gw_layer_data_seq) and counts and the metric CRS: a key that matches names the same inputs,
 * so the shares read back are the computation's, bit for bit.  Internal to api/ (rk_ prefix). */
#ifndef GW_REACH_STORE_H
#define GW_REACH_STORE_H

#include "gridwatch/reach.h"
#include "gridwatch/store.h"

/* The shares kept for graph g and snap's rooms and grids into *out (polygons absent), or
 * GW_ERR_NOT_FOUND (nothing kept, or for other inputs: no error left on ctx). */
gw_status rk_store_load(gw_ctx *ctx, gw_store *store, const gw_road_graph *g,
                        const gw_model_snapshot *snap, int srid, gw_reach_grids **out);
/* Keep t's shares, computed on g and snap, in one write transaction (replacing any other). */
gw_status rk_store_save(gw_ctx *ctx, gw_store *store, const gw_road_graph *g,
                        const gw_model_snapshot *snap, int srid, const gw_reach_grids *t);

#endif
