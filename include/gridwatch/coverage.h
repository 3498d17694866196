/* coverage.h — camera coverage per grid: how much of each grid the online cameras see, where the
 * blind spots are, which share of the grid's incidents fell inside some view, and how much of
 * the grid lies within reach of a police room.  The engine behind `gridwatch coverage`, the
 * /analysis/coverage routes and the blind_spots tile layer (no HTTP here).
 *
 * Definitions (all in the dataset's metric CRS, from a gw_model_snapshot):
 *  - a camera's view is a polygonal sector from its point, centred on `azimuth` (degrees
 *    clockwise from true north), `fov` wide, `range` metres of ground deep, drawn in the metric
 *    CRS at grid azimuth azimuth - convergence and radius range * scale, the meridian
 *    convergence and point scale at the camera (gw_layer_data_view_factors; within 4e-7 of the
 *    range of the geodesic sector, tests/unit/test_coverage_geod.c); the arc has ceil(fov / 3) segments
 *    (at most 3° each: the polygon's area is within 0.046 % of the true sector's, below the
 *    0.1 % bound); fov >= 360 (or NULL) is a disc of 120 segments; NULL azimuth = 0.  No view: status "offline", range NULL or
 *    <= 0, fov <= 0.  gw_coverage_sector() gives the exact vertices, so peers can rebuild them;
 *  - covered = grid ∩ ⋃ views, ratio = area(covered) / area(grid);
 *  - cameras = the number of cameras whose view intersects the grid (a camera outside the grid
 *    whose view reaches in counts; one inside whose view has no area does not);
 *  - blind spots = grid − ⋃ views, without the pieces (and holes) smaller than min_blind_m2;
 *    the polygons are built only for the grids they are asked for (gw_coverage_blind: tiles,
 *    /analysis/coverage/{grid}) and kept until a changed camera touches the grid; the row's
 *    blind_m2 is the exact area of grid − ⋃ views, computed with the ratio;
 *  - an incident is "seen" when its point lies inside some view polygon; a grid's incidents
 *    are those whose `grid` field names it, within the time window;
 *  - room reach = area(grid ∩ ⋃ discs of radius room_dist_m around police rooms) / area(grid)
 *    (discs of 120 segments).
 *
 * Thread use: gw_coverage_compute() splits the grids across worker threads, each with its own
 * gw_ctx; the shared snapshot geometries are only read (point predicates on the shared prepared
 * grids, const overlay operations).  A gw_coverage is not locked: one writer (update) at a time,
 * readers must not run during an update (the HTTP module holds a lock around both). */
#ifndef GRIDWATCH_COVERAGE_H
#define GRIDWATCH_COVERAGE_H

#include "gridwatch/common.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_coverage_opts {
    int64_t t_from,
        t_to; /* incident window [t_from, t_to) in Unix seconds; both 0 = every incident */
    double min_blind_m2; /* blind-spot pieces and holes below this are dropped; < 0 = default 100 */
    double room_dist_m;  /* police-room reach distance; <= 0 = default 1000 */
    int defer_incidents; /* gw_coverage_load: keep the stored incident counts and leave each
                          * incident's seen flag to the first gw_coverage_update (a pass over
                          * every incident; until then gw_coverage_incidents gives zeros) */
    int threads;         /* worker threads; <= 0 = 2 */
    int blind_spots;     /* unused: blind spots are built on request (gw_coverage_blind); kept for
                        callers that set it */
} gw_coverage_opts;

/* One grid's figures. */
typedef struct gw_coverage_row {
    double grid_m2;        /* area of the grid */
    double covered_m2;     /* area of grid ∩ ⋃ views */
    double ratio;          /* covered_m2 / grid_m2 (0 for an empty grid) */
    int32_t cameras;       /* cameras whose view intersects the grid */
    int32_t incidents;     /* incidents of the grid in the window */
    int32_t seen;          /* of those, inside some view */
    double incident_share; /* seen / incidents; NAN when the grid has no incident in the window */
    double room_m2;        /* area of the grid within room_dist_m of a police room */
    double room_reach;     /* room_m2 / grid_m2 */
    double blind_m2;     /* area of grid − ⋃ views (grid_m2 − covered_m2, before small pieces
                              are dropped from the polygons) */
    int32_t blind_parts; /* -1: the polygons are built on request (gw_coverage_blind) */
} gw_coverage_row;

typedef struct gw_coverage gw_coverage;

/* Compute every grid of `snap` (a snapshot of `model`, which names the metric CRS).  The result
 * takes over the caller's reference to snap (acquired with gw_model_acquire; released by
 * gw_coverage_destroy, or here on error).  Reports progress ("coverage", grids done / total)
 * on ctx.  opts may be NULL (defaults).
 * Caller frees with gw_coverage_destroy(). */
gw_status gw_coverage_compute(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap,
                              const gw_coverage_opts *opts, gw_coverage **out);
/* Free; releases the snapshot with ctx's GEOS handle.  Accepts NULL. */
void gw_coverage_destroy(gw_ctx *ctx, gw_coverage *cov);

/* The snapshot the results are for (borrowed) and its change-log seq. */
gw_model_snapshot *gw_coverage_snapshot(const gw_coverage *cov);
int64_t gw_coverage_seq(const gw_coverage *cov);
/* The options in force (defaults filled in). */
const gw_coverage_opts *gw_coverage_get_opts(const gw_coverage *cov);
/* Number of grids (rows of the snapshot's grids layer). */
size_t gw_coverage_count(const gw_coverage *cov);
/* The figures of a grid by row (NULL out of range), or by id (GW_ERR_NOT_FOUND). */
const gw_coverage_row *gw_coverage_row_at(const gw_coverage *cov, size_t row);
gw_status gw_coverage_find(const gw_coverage *cov, const char *grid_id, size_t *row);
/* The grid id of a row (borrowed from the snapshot). */
const char *gw_coverage_grid_id(const gw_coverage *cov, size_t row);
/* The blind spots of grid `row`: built on the first request (GEOS union of the views that meet
 * the grid, difference with the grid, pieces and holes below min_blind_m2 dropped; ~1 ms) and
 * kept until gw_coverage_update() sees a changed camera whose old or new view reaches the
 * grid's envelope, or the grids change.  Readers may call this concurrently (the cache has its
 * own lock; the const result is only added to); not during an update. */
typedef struct gw_coverage_blind_spots {
    const unsigned char *wkb; /* ISO WKB MultiPolygon (EPSG:4326 lon/lat; empty when fully
                                 covered), borrowed from the result until the next update */
    size_t len;
    int32_t parts;  /* polygons kept */
    double kept_m2; /* their area (metric CRS) */
} gw_coverage_blind_spots;
gw_status gw_coverage_blind(gw_ctx *ctx, const gw_coverage *cov, size_t row,
                            gw_coverage_blind_spots *out);
/* 1 when the blind spots of grid `row` are built and kept. */
int gw_coverage_blind_cached(const gw_coverage *cov, size_t row);

/* Incidents in another time window [t_from, t_to) (both 0 = all), without recomputing views:
 * fills incidents[] and seen[] (gw_coverage_count() entries each, caller's arrays). */
void gw_coverage_incidents(const gw_coverage *cov, int64_t t_from, int64_t t_to, int32_t *incidents,
                           int32_t *seen);

/* Incremental update: move the results to `snap`, a newer snapshot of the same model, whose
 * reference the call takes over (also on error).  Layers shared by both snapshots are skipped;
 * cameras and police rooms are compared row by row (both are in id order) and only the grids
 * whose envelope meets an old or new view / reach of a changed feature are recomputed; a
 * changed incidents layer redoes the incident flags (no view is rebuilt); a changed grids
 * layer recomputes everything.  When a single camera row changed (a camera moved, turned or
 * went offline: the common live case), its grids are not recomputed but moved by the
 * difference of its old and new view over the views near it (geo/coverage/coverage_move.c;
 * the same figures to the integration's error bound; the environment variable
 * GW_COVERAGE_NO_DELTA, set, recomputes instead, for comparisons).  *n_changed (may be NULL)
 * receives the number of grids whose row changed; gw_coverage_changed() flags them. */
gw_status gw_coverage_update(gw_ctx *ctx, gw_coverage *cov, gw_model_snapshot *snap,
                             size_t *n_changed);
/* Per grid row, 1 when the last compute/update recomputed it (borrowed, count entries). */
const uint8_t *gw_coverage_changed(const gw_coverage *cov);
/* How many grid rows updates have moved by a camera's difference alone since the result was
 * made (tests and benchmarks tell the two paths apart by it). */
size_t gw_coverage_moved_grids(const gw_coverage *cov);

/* The vertices of a camera's view polygon (closed ring: first == last) into xy[2 * cap], for
 * the metric azimuth and radius (a camera's true azimuth and ground range turned as above);
 * returns the vertex count, 0 for no view (range <= 0, fov <= 0) or too small a buffer (cap
 * 184 always suffices).  fov >= 360 is a disc around (x, y). */
size_t gw_coverage_sector(double x, double y, double azimuth, double fov, double range, double *xy,
                          size_t cap);
/* 1 when metric point (px, py) lies inside the polygon gw_coverage_sector() builds. */
int gw_coverage_sector_contains(double x, double y, double azimuth, double fov, double range,
                                double px, double py);

/* Cameras of `snap` whose view contains metric point (x, y), nearest first: up to cap rows and
 * distances (metres) into rows/dists; returns how many there are in all (may exceed cap). */
size_t gw_coverage_cameras_at(const gw_model_snapshot *snap, double x, double y, size_t *rows,
                              double *dists, size_t cap);

/* Blind spots in EPSG:3857 for a tile: calls fn for each grid whose envelope meets `bbox`
 * (EPSG:3857) with the grid row, its id (borrowed) and its blind spots as a new GEOS
 * MultiPolygon in 3857 (the callback owns it and frees it with GEOSGeom_destroy_r on ctx's
 * handle).  Fully covered grids are skipped.  Stops when fn returns nonzero.  Builds the blind
 * spots of those grids when not kept yet (gw_coverage_blind). */
typedef int (*gw_coverage_geom_fn)(void *user, size_t row, const char *grid_id, GEOSGeometry *g);
gw_status gw_coverage_blind_3857(gw_ctx *ctx, const gw_coverage *cov, const gw_bbox *bbox,
                                 gw_coverage_geom_fn fn, void *user);

/* Persist: write the rows (all, or those flagged in changed[] when not NULL) with the snapshot's
 * seq into the store's coverage table, in one transaction, plus the run's parameters.  The
 * blind-spot polygons and part counts are written for the grids whose blind spots are built
 * (NULL and -1 for the others: none is built for saving). */
gw_status gw_coverage_save(gw_ctx *ctx, const gw_coverage *cov, gw_store *store,
                           const uint8_t *changed);
/* Results for snap from the store's coverage table instead of computing them, when the stored
 * rows are current: computed with the same options (min_blind_m2, room_dist_m, window), at a
 * seq the snapshot includes and not before the last change-log row touching grids, cameras,
 * police rooms or incidents, one row per grid of the snapshot.  Incident flags are
 * recomputed (point tests, no overlay).  GW_ERR_NOT_FOUND (with the reason) when the rows are
 * absent or stale: compute then.  Takes over the reference to snap like gw_coverage_compute.
 * Caller frees with gw_coverage_destroy(). */
gw_status gw_coverage_load(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap, gw_store *store,
                           const gw_coverage_opts *opts, gw_coverage **out);
/* Read the stored row of a grid (GW_ERR_NOT_FOUND when none); *seq receives the change-log seq
 * it was computed from (may be NULL). */
gw_status gw_coverage_load_row(gw_ctx *ctx, gw_store *store, const char *grid_id,
                               gw_coverage_row *row, int64_t *seq);

#ifdef __cplusplus
}
#endif
#endif
