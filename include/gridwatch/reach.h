/* reach.h — response-time areas by road (issue 20 item 4, docs/roads.md "Response-time
 * areas"): isochrones of a point (a police room, a team) and, per grid, the share of its area
 * reachable from a police room within 3, 5 and 10 minutes.  Built on the routing graph of
 * road.h; the room behind /analysis/isochrones, the reach_3m/5m/10m fields of
 * /analysis/coverage and of the grid tiles, the isochrones tile layer and the planner's
 * balance table.
 *
 * The construction.  A one-to-all search from the snapped source (gw_road_times, forward: a
 * vehicle leaving the source) gives each node its time t.  Within a band of T seconds the
 * reached part of an arc is, from each end whose directed edge exists and whose node has
 * t < T, the first (T - t) / time of its length (all of it when that is >= 1), and on the
 * source's own arc the stretch driven directly from the snapped point.  The area is those
 * pieces buffered by width_m on either side (round caps and joins, quad_segs segments a
 * quarter circle) and unioned: the places within width_m of a road a vehicle reaches in T.
 * The buffer's polygon lies inside the true band of width_m; its area falls short of it by
 * at most 1 - cos(pi / (4 quad_segs)) of the round parts (0.5 % at 8 segments), the stated
 * tolerance against an exact construction (tests/pg/reach_pgr.sh checks it against pgRouting's
 * pgr_drivingDistance and PostGIS buffers).
 *
 * Grid shares.  The police rooms are all sources at once: a node's time is the least over the
 * rooms (a grid's police room is whichever reaches it first by road), and a grid's reach_Nm is
 * area(grid ∩ band(N minutes)) / area(grid), the band clipped to the grid before the buffer
 * (pieces within width_m of its envelope), so the cost is per grid, not per city. */
#ifndef GRIDWATCH_REACH_H
#define GRIDWATCH_REACH_H

#include "gridwatch/common.h"
#include "gridwatch/model.h"
#include "gridwatch/road.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The fixed bands of the grid shares: 3, 5 and 10 minutes. */
#define GW_REACH_GRID_BANDS 3
/* The minutes of band b (NaN past the end). */
double gw_reach_grid_minutes(size_t band);
/* The most bands an isochrone takes, and the longest band (minutes). */
#define GW_REACH_MAX_BANDS 8
#define GW_REACH_MAX_MINUTES 120.0

typedef struct gw_reach_opts {
    double width_m;    /* half-width of the area around a reached road; 0 = 100 m */
    double max_snap_m; /* a source farther than this from every road reaches nothing; 0 = 1000 */
    int quad_segs;     /* buffer segments per quarter circle; 0 = 8 */
    int shares_only;   /* gw_reach_grids_compute: the shares without the clipped polygons */
} gw_reach_opts;

/* ---- the isochrone of one point ----------------------------------------------------------- */

typedef struct gw_reach_iso gw_reach_iso;

/* The isochrones of (lon, lat) for bands minutes[0..n) (each in (0, GW_REACH_MAX_MINUTES],
 * n <= GW_REACH_MAX_BANDS, any order; they come back in that order), on graph g with the
 * work space s (of the same graph).  opts may be NULL.  A point farther than max_snap_m from
 * every road, or a graph without roads, gives empty bands (area 0) and *snapped 0.  Errors:
 * GW_ERR_ARG (bad bands), GW_ERR_CRS, GW_ERR_GEOMETRY (GEOS failed), GW_ERR_NOMEM.
 * Caller frees with gw_reach_iso_destroy(). */
gw_status gw_reach_isochrone(gw_ctx *ctx, const gw_road_graph *g, gw_road_search *s, double lon,
                             double lat, const double *minutes, size_t n, const gw_reach_opts *opts,
                             gw_reach_iso **out);
/* The same from a snapped point of g (NULL: nothing reached); the snap may be made by hand
 * (a node: an arc leaving it, frac 0, from_s 0), as the pgRouting check does.  The lon/lat
 * polygons are simplified to 1 m for drawing; the areas are the unsimplified ones'. */
gw_status gw_reach_isochrone_snapped(gw_ctx *ctx, const gw_road_graph *g, gw_road_search *s,
                                     const gw_road_snap *snap, const double *minutes, size_t n,
                                     const gw_reach_opts *opts, gw_reach_iso **out);
/* Accepts NULL; ctx is the thread's (its GEOS handle frees the polygons). */
void gw_reach_iso_destroy(gw_ctx *ctx, gw_reach_iso *iso);
size_t gw_reach_iso_bands(const gw_reach_iso *iso);
double gw_reach_iso_minutes(const gw_reach_iso *iso, size_t band);
/* Area of the band's polygon in m² (metric CRS of the graph). */
double gw_reach_iso_area(const gw_reach_iso *iso, size_t band);
/* Metres of road reached in the band (the pieces' total length). */
double gw_reach_iso_road_m(const gw_reach_iso *iso, size_t band);
/* The band's (Multi)Polygon, in the graph's metric CRS (lonlat 0) or lon/lat (lonlat 1);
 * borrowed, valid while iso lives; an empty polygon when nothing is reached. */
const GEOSGeometry *gw_reach_iso_geom(const gw_reach_iso *iso, size_t band, int lonlat);
/* Distance from the point to the road it snapped to (metres), -1 when it did not snap. */
double gw_reach_iso_snap_m(const gw_reach_iso *iso);

/* ---- per-grid shares from the police rooms ------------------------------------------------ */

typedef struct gw_reach_grids gw_reach_grids;

/* The shares of every grid of `grids` reachable from the police rooms of `rooms` within the
 * GW_REACH_GRID_BANDS bands, and the band polygons clipped to each grid (for the tile layer).
 * metric_srid is the grids' metric CRS (gw_model_metric_srid), which must be the graph's
 * (GW_ERR_CRS otherwise; both are the store's).
 * threads: worker threads over the grids (<= 1: the calling one).  opts may be NULL.
 * Caller frees with gw_reach_grids_destroy(). */
gw_status gw_reach_grids_compute(gw_ctx *ctx, const gw_road_graph *g, const gw_layer_data *rooms,
                                 const gw_layer_data *grids, int metric_srid,
                                 const gw_reach_opts *opts, int threads, gw_reach_grids **out);
/* Shares computed earlier (kept in the store), share[i * GW_REACH_GRID_BANDS + b] for n grid
 * rows, with the seqs they were computed from; no polygons (gw_reach_grids_geom gives NULL).
 * Caller frees with gw_reach_grids_destroy(). */
gw_status gw_reach_grids_from_shares(gw_ctx *ctx, size_t n, const double *share, int64_t graph_seq,
                                     int64_t rooms_seq, int64_t grids_seq, gw_reach_grids **out);
/* Accepts NULL. */
void gw_reach_grids_destroy(gw_ctx *ctx, gw_reach_grids *t);
/* Number of grid rows (the grids layer's count when computed). */
size_t gw_reach_grids_count(const gw_reach_grids *t);
/* What it was computed from: the graph's seq and the layers' seqs (gw_layer_data_seq). */
int64_t gw_reach_grids_graph_seq(const gw_reach_grids *t);
int64_t gw_reach_grids_rooms_seq(const gw_reach_grids *t);
int64_t gw_reach_grids_grids_seq(const gw_reach_grids *t);
/* The shares of band b (0..GW_REACH_GRID_BANDS) per grid row, in [0, 1] (NaN for a grid of
 * zero area).  Borrowed. */
const double *gw_reach_grids_share(const gw_reach_grids *t, size_t band);
/* The reached part of grid `row` in band b, in EPSG:3857 (NULL when none); borrowed. */
const GEOSGeometry *gw_reach_grids_geom(const gw_reach_grids *t, size_t row, size_t band);
/* Its EPSG:3857 envelope (all zero when none). */
gw_bbox gw_reach_grids_env(const gw_reach_grids *t, size_t row, size_t band);
/* The shares alone, for bare geometries (the planner's drafts): grids[0..n) in the graph's
 * metric CRS, the rooms as nrooms metric (x, y) pairs; share[i * GW_REACH_GRID_BANDS + b]
 * receives grid i's share of band b (NaN for a grid of zero area or no geometry). */
gw_status gw_reach_shares(gw_ctx *ctx, const gw_road_graph *g, const double *room_xy, size_t nrooms,
                          const GEOSGeometry *const *grids, size_t n, const gw_reach_opts *opts,
                          int threads, double *share);
/* Seconds the computation took (wall-clock). */
double gw_reach_grids_seconds(const gw_reach_grids *t);

#ifdef __cplusplus
}
#endif
#endif
