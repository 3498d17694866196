/* dispatch.h — what a dispatcher needs at one point: the grid, police room and cameras of a spot
 * (locate), the k nearest teams of a status (nearest), live team positions, and race-safe
 * assignment of a team to an incident.  The engine side of /dispatch (no HTTP here).
 *
 * Distances.  Everything is planar in the dataset's metric CRS (gw_model_metric_srid: the
 * CGCS2000 3-degree Gauss–Krüger zone of the data, UTM elsewhere), in metres; the GK scale error
 * inside a 3-degree zone is below 0.03 %.  Bearings are degrees clockwise from grid north of that
 * CRS (within ~1.5 degrees of true north inside a zone).  The responsible police room is the one
 * incidents record (edit.h): the nearest in geodesic metres, ties to the smaller id.
 *
 * Teams.  The model derives its teams layer anew from the change log after every batch (a
 * patch of the previous version, but still a new layer version and a read of the changed rows
 * per batch), too slow to answer at once after thousands of position reports a second, so a gw_dispatch keeps its own team table
 * (position, status, updated_at) with a uniform grid index: written through at once by
 * gw_dispatch_positions / _assign / _release after their commit, and merged from each new model
 * snapshot (gw_dispatch_sync) for writes made elsewhere (OGC PATCH, imports, other processes).
 * A team's entry is taken from a snapshot only when that snapshot's teams layer was read at or
 * after the change-log seq of the entry's last direct write, so the model never rolls it back.
 * Readers take a shared lock for microseconds; a writer holds it exclusively only to apply an
 * already committed batch in memory. */
#ifndef GRIDWATCH_DISPATCH_H
#define GRIDWATCH_DISPATCH_H

#include "gridwatch/common.h"
#include "gridwatch/model.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_dispatch gw_dispatch;

typedef enum gw_team_status {
    GW_TEAM_UNKNOWN = 0, /* NULL or an unexpected text in the store */
    GW_TEAM_AVAILABLE,
    GW_TEAM_BUSY,
    GW_TEAM_OFFLINE,
    GW_TEAM_STATUS_COUNT
} gw_team_status;

/* "unknown", "available", "busy", "offline". */
const char *gw_team_status_name(gw_team_status s);
/* Parse a status name; GW_TEAM_UNKNOWN for anything else. */
gw_team_status gw_team_status_parse(const char *s);

typedef struct gw_dispatch_opts {
    int64_t stale_s; /* a position older than this many seconds is stale; 0 = 300 */
} gw_dispatch_opts;

/* Create the dispatch state over `model` (borrowed; must outlive it) and fill the team table from
 * its current snapshot.  opts may be NULL.  Caller frees with gw_dispatch_destroy(). */
gw_status gw_dispatch_create(gw_ctx *ctx, gw_model *model, const gw_dispatch_opts *opts,
                             gw_dispatch **out);
/* Accepts NULL. */
void gw_dispatch_destroy(gw_dispatch *d);
int64_t gw_dispatch_stale_s(const gw_dispatch *d);

/* Merge the teams layer of `snap` into the team table (see the header comment).  Call after
 * each model refresh (the live listener does).  Thread-safe. */
gw_status gw_dispatch_sync(gw_ctx *ctx, gw_dispatch *d, const gw_model_snapshot *snap);

/* Project lon/lat (EPSG:4326) to the model's metric CRS.  Thread-safe (a pool of PROJ
 * transforms owned by `d`).  GW_ERR_CRS when the model has no metric CRS yet or PROJ fails. */
gw_status gw_dispatch_to_metric(gw_ctx *ctx, gw_dispatch *d, double lon, double lat, double *x,
                                double *y);

/* ---- locate ---------------------------------------------------------------------------------- */

/* One police room or camera found by locate: its row in the snapshot's layer. */
typedef struct gw_dispatch_hit {
    size_t row;
    double distance_m;  /* rooms: geodesic; cameras: metric planar, camera to point */
    double bearing_deg; /* from the point to the feature, clockwise from true north (the
                           geodesic azimuth on WGS84) */
} gw_dispatch_hit;

typedef struct gw_locate {
    double x, y;    /* the point in the metric CRS */
    ptrdiff_t grid; /* row in the grids layer of the covering grid, -1 when outside every grid.
                        On a shared edge or vertex the grid with the lowest id wins. */
    size_t n_rooms; /* rooms[] filled, nearest (geodesic) first: rooms[0] is the responsible one */
    size_t n_cameras;     /* cameras[] filled, nearest first */
    size_t cameras_total; /* cameras whose view contains the point (may exceed the buffer) */
} gw_locate;

/* Locate (lon, lat) in `snap`: the covering grid, up to room_cap nearest police rooms and up to
 * cam_cap cameras whose view contains the point.  A camera's view is coverage.h's polygon
 * (gw_coverage_sector_contains): the sector of ground radius `range` from true azimuth
 * azimuth - fov/2 to azimuth + fov/2 (clockwise from true north; fov NULL or >= 360 = a full
 * disc, azimuth NULL = 0), boundary included, drawn in the metric CRS with the convergence
 * and scale at the camera (gw_layer_data_view_factors); cameras with status "offline", range
 * NULL or <= 0, or fov <= 0 see nothing.  No allocation.
 * Errors: GW_ERR_RANGE coordinates outside lon/lat range, GW_ERR_CRS, GW_ERR_GEOMETRY. */
gw_status gw_dispatch_locate(gw_ctx *ctx, gw_dispatch *d, const gw_model_snapshot *snap, double lon,
                             double lat, gw_dispatch_hit *rooms, size_t room_cap,
                             gw_dispatch_hit *cameras, size_t cam_cap, gw_locate *out);

/* ---- nearest teams --------------------------------------------------------------------------- */

typedef struct gw_nearest_opts {
    size_t k;             /* 0 = 5 */
    unsigned status_mask; /* bits (1u << gw_team_status); 0 = available only */
    double max_m;         /* <= 0 = unlimited */
    int include_stale;    /* 1: stale teams are returned (flagged); 0: skipped and counted */
    int64_t now;          /* Unix seconds for ages; 0 = the clock */
    int64_t stale_s;      /* staleness limit for this query; 0 = the dispatch's */
    /* NULL: every team.  Else only the teams for which keep(keep_user, x, y) returns non-zero
     * (x, y: the team's current metric position) are candidates: the search goes on outward
     * until it has k of them, however far (a team subset such as one jurisdiction's).  Called
     * under the table's read lock: it must not call back into this gw_dispatch. */
    int (*keep)(void *keep_user, double x, double y);
    void *keep_user;
    int lonlat; /* 1: (lon, lat) is the query point, for true bearings */
    double lon, lat;
} gw_nearest_opts;

/* A team as the table holds it.  id and name are borrowed and stay valid until
 * gw_dispatch_destroy (the table never frees a string it handed out before then). */
typedef struct gw_team_hit {
    const char *id, *name;
    gw_team_status status;
    int64_t members; /* -1 when NULL */
    double lon, lat;
    double distance_m;  /* metric planar (0 from gw_dispatch_team) */
    double bearing_deg; /* from the query point to the team, clockwise: from true north (the
                           geodesic azimuth) when opts.lonlat, else from grid north */
    int64_t updated_at; /* Unix seconds of the last position, INT64_MIN when never reported */
    int64_t age_s;      /* now - updated_at (-1 when never reported) */
    int stale;          /* age above the staleness limit, or never reported */
} gw_team_hit;

/* The k nearest teams to metric (x, y) that pass the options, nearest first (ties: smaller id),
 * into hits[k].  *n receives how many; *stale_skipped (may be NULL) how many stale teams of the
 * wanted status were closer than the last hit (or within max_m when fewer than k were found)
 * and left out (with opts->keep: only kept teams count).  Uses the grid index: microseconds.
 * No allocation. */
gw_status gw_dispatch_nearest(gw_ctx *ctx, gw_dispatch *d, double x, double y,
                              const gw_nearest_opts *opts, gw_team_hit *hits, size_t *n,
                              size_t *stale_skipped);

/* The current entry of team `id` (distance 0).  GW_ERR_NOT_FOUND when the table has no such team. */
gw_status gw_dispatch_team(gw_ctx *ctx, gw_dispatch *d, const char *id, int64_t now,
                           gw_team_hit *out);

/* ---- nearest teams by road (issue 20, docs/roads.md) ----------------------------------------- */

/* A team ranked by travel time. */
typedef struct gw_team_eta {
    gw_team_hit team; /* distance_m/bearing_deg: straight line, as gw_dispatch_nearest */
    double eta_s;     /* seconds by road from the team's snapped position to the point's */
    double route_m;   /* metres along the roads, snapped ends included */
    double snap_m;    /* how far the team is from the road it was snapped to */
    size_t source;    /* its source index in the search, for gw_road_route(search, source, …) */
} gw_team_eta;

/* The k teams that reach (lon, lat) first by road on graph g, fastest first (ties: the team
 * found first), into out[k].  The candidates are the teams that pass opts (status, staleness,
 * keep, max_m as straight-line metres), each snapped to its nearest road (at most snap_max_m
 * away, <= 0 = unlimited); one backward search from the point (road.h, gw_road_nearest) stops
 * when the k-th is settled.  It ranks the 256 candidates nearest in a straight line first and
 * all of them only when a farther one could still arrive sooner (by the graph's top speed and
 * snap_max_m), so the answer is always that of ranking every candidate.  Teams that cannot
 * reach the point (no road within snap_max_m, none leading there) are left out: *unreachable
 * (may be NULL) receives how many of the candidates ranked could not be, so *n < k when fewer
 * can.  *dest (may be NULL) receives the point's snap.  After the call `s` holds the search
 * for gw_road_route(s, out[i].source, …) until it is used again.  Errors: GW_ERR_NOT_FOUND
 * when the graph is empty or the point is farther than snap_max_m from every road (with a
 * message); GW_ERR_RANGE as gw_dispatch_nearest; GW_ERR_NOMEM. */
gw_status gw_dispatch_nearest_eta(gw_ctx *ctx, gw_dispatch *d, const gw_road_graph *g,
                                  gw_road_search *s, double lon, double lat,
                                  const gw_nearest_opts *opts, double snap_max_m, gw_team_eta *out,
                                  size_t *n, size_t *unreachable, gw_road_snap *dest);

/* ---- writes (the store must be read-write with no open transaction) ------------------------ */

/* One position report. */
typedef struct gw_team_position {
    const char *id;
    double lon, lat;
    int64_t at; /* Unix seconds when the position was taken */
} gw_team_position;

/* How far ahead of the server's clock a position's time may be (clock skew of the devices). */
#define GW_POSITION_SKEW_S 300

typedef enum gw_position_outcome {
    GW_POS_APPLIED = 0,
    GW_POS_OLDER,   /* `at` is older than the team's last position: ignored */
    GW_POS_UNKNOWN, /* no team with this id: ignored */
} gw_position_outcome;

/* Apply position reports in one transaction: each team's geometry and updated_at are set unless
 * the stored updated_at is newer than `at` (out-of-order reports are ignored, equal times apply),
 * one change-log row (op "move", old and new point as bbox) per applied report; after the commit
 * the team table is updated at once.  outcome (may be NULL) receives n gw_position_outcome
 * values; *seq (may be NULL) the last change-log seq written (0 when nothing applied).
 * Errors: GW_ERR_RANGE for coordinates outside lon/lat range, or a time more than
 * GW_POSITION_SKEW_S ahead of the server's clock or outside 1900–2100 (nothing written);
 * GW_ERR_DB.  Batches that other threads hand in to the same `d` while one is being written
 * are written together in the next transaction, on the connection of one of them (group
 * commit), in arrival order, so the outcome is that of writing them one after another; when
 * that transaction fails, every batch of it fails and none is written. */
gw_status gw_dispatch_positions(gw_dispatch *d, gw_store *store, const gw_team_position *p,
                                size_t n, uint8_t *outcome, int64_t *seq);

/* Assign team to incident in one IMMEDIATE transaction: the team becomes busy only if it is
 * still available (UPDATE … WHERE status = 'available', checked by changes()), an assignments
 * row (incident, team, assigned_at, by) is written and the change logged (teams "assign").
 * by may be NULL.  *seq (may be NULL) receives the change seq.  Errors: GW_ERR_NOT_FOUND no such
 * team or incident; GW_ERR_CONFLICT the team is not available (its current state is in *state
 * when state is not NULL; it is filled on success too).  Exactly one of any number of
 * concurrent assigns of one available team succeeds. */
gw_status gw_dispatch_assign(gw_dispatch *d, gw_store *store, const char *incident,
                             const char *team, const char *by, gw_team_hit *state, int64_t *seq);
/* Release a team: close its open assignment (of `incident` when not NULL) and make it available
 * again, one transaction (change logged as teams "release").  GW_ERR_NOT_FOUND no such team;
 * GW_ERR_CONFLICT the team has no open assignment (of that incident). */
gw_status gw_dispatch_release(gw_dispatch *d, gw_store *store, const char *team,
                              const char *incident, const char *by, gw_team_hit *state,
                              int64_t *seq);

#ifdef __cplusplus
}
#endif
#endif
