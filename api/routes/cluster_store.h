/* cluster_store.h — the default hot spot cluster scan's result kept in the store, so a server
 * start or `gridwatch tiles` on unchanged data reads it back instead of scanning again (the scan
 * is seconds of Monte Carlo replicas at scale 1; docs/benchmarks.md, the pyramid rows).
 *
 * The result is kept in the meta table (two keys: "cluster_scan_key" names what it was found on,
 * "cluster_scan" holds it, base64 of a binary image), keyed by the gridwatch version, the
 * snapshot's grids and incidents versions (gw_layer_data_seq: the layer as of that change-log
 * seq) and row counts, the metric CRS and the image's length: a key that matches names the same
 * data, so the result read back is the scan's, bit for bit.  Internal to api/ (cq_ prefix). */
#ifndef GW_CLUSTER_STORE_H
#define GW_CLUSTER_STORE_H

#include "gridwatch/clusters.h"
#include "gridwatch/store.h"

/* The stored default result for snap's grids and incidents into *out (caller frees with
 * gw_cluster_result_destroy), or GW_ERR_NOT_FOUND (nothing stored, or for other data: no error
 * left on ctx).  Other errors on ctx. */
gw_status cq_store_load(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        gw_cluster_result **out);
/* Keep r, the default result found on snap, in one write transaction (replacing any other). */
gw_status cq_store_save(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        const gw_cluster_result *r);

#endif
