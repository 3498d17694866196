/* coverage_http.h — camera coverage over HTTP and on the command line: /analysis/coverage (every
 * grid), /analysis/coverage/{grid} (figures + blind spots as GeoJSON), /dispatch/cameras (the
 * cameras that see a point, nearest first) and `gridwatch coverage DB …`.
 *
 * In the app (app.h): app->modules[GW_APP_COVERAGE] = the gw_coverage_http from
 * gw_coverage_http_create() (it computes every grid at start, saves the rows, and keeps them
 * current through a live-model listener: a moved camera recomputes its grids and rewrites their
 * stored rows before gw_live_wait returns), add gw_coverage_routes(), gw_coverage_http_stop()
 * before gw_live_destroy() and gw_coverage_http_destroy() after it. */
#ifndef GW_COVERAGE_HTTP_H
#define GW_COVERAGE_HTTP_H

#include "gridwatch/coverage.h"
#include "gridwatch/tilelayers.h"
#include "live.h"
#include "server.h"

typedef struct gw_coverage_http gw_coverage_http;

/* Coverage of the live model's current snapshot (blind spots built per grid on request): loaded from the coverage
 * table of db_path when the stored rows are current (gw_coverage_load), otherwise computed on
 * the module's background thread (own gw_ctx) while the server already runs — the coverage
 * routes answer 503 problem+json with Retry-After until it is done — and saved.  A listener
 * keeps the results current: single-feature changes are applied on the sync thread before
 * gw_live_wait returns; grid changes and bulk changes (imports, clears) go to the background
 * thread, which computes, catches up and swaps the results in.  Environment:
 * GW_COVERAGE_START_DELAY_MS holds the background thread's first computation (tests).
 * Call before the server starts.  Caller frees with gw_coverage_http_destroy(). */
gw_status gw_coverage_http_create(gw_ctx *ctx, gw_live *live, const char *db_path,
                                  gw_coverage_http **out);
/* The same for a reader of the tile fields only (`gridwatch tiles`): stored rows that are
 * current are loaded without the pass flagging each incident as seen or not (left to the first
 * update, gw_coverage_opts.defer_incidents), and their blind spots only with `blind_spots`.
 * The windowed incident counts of the routes are not served from such a module. */
gw_status gw_coverage_http_create_for_tiles(gw_ctx *ctx, gw_live *live, const char *db_path,
                                            int blind_spots, gw_coverage_http **out);
/* Stop the background thread (waits for a computation under way: it reads the live model).
 * Call before gw_live_destroy().  Accepts NULL. */
void gw_coverage_http_stop(gw_coverage_http *cs);
/* Accepts NULL.  Call after gw_live_destroy() (the listener uses the state). */
void gw_coverage_http_destroy(gw_coverage_http *cs);

/* 1 when results are being served (loaded or computed), 0 while the first computation runs. */
int gw_coverage_http_ready(void *state);

/* GET /analysis/coverage, GET /analysis/coverage/{grid}, GET /dispatch/cameras (role viewer;
 * static storage). */
const gw_route *gw_coverage_routes(size_t *n);

/* The current figures of one grid, for other modules (grid items, grid tiles): `state` is
 * app->modules[GW_APP_COVERAGE].  Thread-safe.  GW_ERR_NOT_FOUND for an unknown grid or no
 * state; *seq (may be NULL) receives the change-log seq the figures are for. */
gw_status gw_coverage_get(void *state, const char *grid_id, gw_coverage_row *row, int64_t *seq);

/* Blind spots for a tile (the "blind_spots" tile layer): under the module's read lock, calls
 * fn for each grid whose envelope meets `bbox` (EPSG:3857) with its blind spots as a new GEOS
 * geometry in EPSG:3857 and the grid id (fn owns the geometry: GEOSGeom_destroy_r with ctx's
 * handle); see gw_coverage_blind_3857.  GW_ERR_NOT_FOUND when there is no state. */
gw_status gw_coverage_http_blind_3857(void *state, gw_ctx *ctx, const gw_bbox *bbox,
                                      gw_coverage_geom_fn fn, void *user);

/* ---- hooks for the vector tiles (api/tile_fields.c) ---- */

/* Told, under the module's write lock, each time the served figures change: `changed` flags
 * the recomputed grid rows of `cov` (gw_coverage_count entries), NULL = every grid (a new
 * result).  Must be quick; must not call back into this module. */
typedef void (*gw_coverage_watch_fn)(void *user, gw_ctx *ctx, const gw_coverage *cov,
                                     const uint8_t *changed);
/* Install the one watcher (NULL to remove).  Safe while the module runs. */
void gw_coverage_http_watch(gw_coverage_http *cs, gw_coverage_watch_fn fn, void *user);
/* A number that changes whenever the served figures change (0 for no state).  Thread-safe. */
uint64_t gw_coverage_http_generation(void *state);

typedef struct gw_coverage_http_info {
    uint64_t gen; /* gw_coverage_http_generation of the copy */
    int64_t seq;  /* change-log seq of the result (gw_coverage_seq) */
    int64_t grids_seq, cameras_seq,
        rooms_seq; /* gw_layer_data_seq of the layers it was computed on */
    size_t count;  /* grid rows */
} gw_coverage_http_info;
/* The current result's info and (rows not NULL) a copy of its rows, in its grids' row order.
 * *rows is freed with free().  GW_ERR_NOT_FOUND while there is no result (or no state),
 * GW_ERR_NOMEM.  No message (callers decide).  Thread-safe. */
gw_status gw_coverage_http_copy(void *state, gw_coverage_http_info *info, gw_coverage_row **rows);
/* 1 when there is a result computed on the same grids, cameras and police rooms as snap. */
int gw_coverage_http_current(void *state, const gw_model_snapshot *snap);
/* A gw_tile_blind_fn: the blind spots of the grids meeting bbox (EPSG:3857), each with its
 * fid (in the result's grids), id and blind_m2, under the read lock.  GW_ERR_NOT_FOUND (with a
 * message) while there is no result. */
gw_status gw_coverage_http_blind_tile(void *state, gw_ctx *ctx, const gw_bbox *bbox,
                                      gw_tile_blind_cb cb, void *user);

#endif
