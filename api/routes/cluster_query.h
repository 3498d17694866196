/* cluster_query.h — the hot spot cluster options and answers shared by the route
 * (clusters_http.c) and the CLI (`gridwatch hotspots --method clusters`): one parser of the
 * cluster options (the incident filter goes through hotspot_query.c's parser), a deep copy of a
 * result for copy-on-write updates, and the GeoJSON and table writers (cluster_query.c).
 * Internal to api/ (cq_ prefix). */
#ifndef GW_CLUSTER_QUERY_H
#define GW_CLUSTER_QUERY_H

#include "hotspot_query.h"
#include "http_util.h"

#include "gridwatch/clusters.h"

/* One option (key without dashes, '-' or '_' alike): cell, max_radius, bandwidth, min_rr,
 * alpha, replications, seed, steps, recent_days — into o; the incident filter (from, to,
 * category, severity_min, severity_max) into q->ho.filter (hs_query_set).  0 = taken, -1 =
 * error on ctx (GW_ERR_ARG, the reason), 1 = not a cluster option. */
int cq_set(gw_ctx *ctx, gw_cluster_opts *o, hs_query *q, const char *key, const char *val,
           const char *tz);
/* Same options (the filter included, category compared by text)? */
int cq_same_opts(const gw_cluster_opts *a, const gw_cluster_opts *b);

/* A deep copy of r (NULL when out of memory).  Caller frees with gw_cluster_result_destroy(). */
gw_cluster_result *cq_result_clone(const gw_cluster_result *r);

/* The result as a GeoJSON FeatureCollection (one Polygon Feature per cluster, its circle in
 * `segments` vertices; grid ids from `grids`, the snapshot's grids layer the result was found
 * on), with `extra` (NULL or JSON members without braces, e.g. "\"cache\":\"hit\"") among the
 * top-level members.  sc (NULL: every cluster) keeps the clusters touching a grid of a
 * jurisdiction (a scope built on `grids`), each with only those grids listed; their figures stay
 * the city-wide scan's, and the top-level incident count is null. */
void cq_write_geojson(gw_ctx *ctx, gw_buf *b, const gw_cluster_result *r,
                      const gw_layer_data *grids, int segments, const char *extra,
                      const gw_scope *sc);
/* The result as a readable ranked table. */
void cq_write_table(gw_buf *b, const gw_cluster_result *r);

#endif
