/* coverage_internal.h — what geo/coverage.c (the computation) and geo/coverage_query.c
 * (queries, tiles, persistence) share: the result struct and the camera view parameters. */
#ifndef GW_COVERAGE_INTERNAL_H
#define GW_COVERAGE_INTERNAL_H

#include "gridwatch/coverage.h"
#include "gridwatch/crs.h"

#include <pthread.h>

/* Camera columns of a layer, read once. */
typedef struct camcols {
    const gw_layer_data *d;
    const double *x, *y, *az, *fov, *rg;
    const uint8_t *naz, *nfov, *nrg;
    const double *conv, *scale; /* per row: convergence (deg) and scale at the camera, or NULL */
    const uint8_t *on; /* per row: 0 = offline (status read once); NULL = read the status */
    int fst;
} camcols;

#define SECTOR_CAP 184 /* vertices of a view polygon, at most (gw_coverage_sector) */

/* A camera's view in the metric CRS (on: it has one), with its polygon's ring (n vertices, 0
 * for none) and envelope. */
typedef struct cov_view {
    int on;
    double x, y, az, fov, rg;
    size_t n;
    gw_bbox env;
    double xy[2 * SECTOR_CAP];
} cov_view;

struct gw_coverage {
    gw_model_snapshot *snap;
    const gw_layer_data *grids, *cams, *rooms, *incs;
    camcols cc;
    int srid;
    gw_coverage_opts o;
    size_t n;
    gw_coverage_row *rows;
    gw_bbox *genv; /* metric envelope of each grid */
    /* Blind spots, built on request (gw_coverage_blind, coverage_blind.c) and kept per grid
     * until a changed camera touches the grid (or the grids change).  Readers build them while
     * holding only their read side, so the cache has its own lock. */
    pthread_mutex_t blind_lock;
    unsigned char **blind; /* lon/lat WKB per grid, when built (blind_done) */
    size_t *blind_len;
    int32_t *blind_parts;
    double *blind_kept; /* area of the polygons kept (small pieces dropped) */
    uint8_t *blind_done;
    gw_ctx *bl_ctx; /* the metric -> lon/lat transform of the cache (under blind_lock) */
    gw_crs_transform *bl_tr;
    uint8_t *changed;
    double max_range;
    uint8_t *cam_on; /* per camera row of c->cams: not offline */
    size_t n_inc;
    int32_t *inc_grid; /* grid row of each incident, -1 outside */
    uint8_t *inc_seen;
    /* Set by gw_coverage_update for the one update in which a single camera row changed:
     * that row's view before and after; its grids then move by the difference alone. */
    struct {
        int on;
        size_t row;
        cov_view was, now;
    } move;
    size_t moved_grids; /* grids updated so since the result was made */
    /* The camera rows rewritten since the last update, when the model says (rw_ok): only
     * those can differ (take_layers). */
#define COV_RW_CAP 64
    size_t rw[COV_RW_CAP], nrw;
    int rw_ok;
};

/* Read the camera columns of layer d (NULL allowed: no cameras). */
void cov_camcols_init(camcols *c, const gw_layer_data *d);
/* 1 when camera row r has a view (online, range > 0, fov > 0), with its parameters in the
 * metric CRS: the azimuth a true bearing turned into a grid bearing (minus the meridian
 * convergence at the camera), the range a ground distance times the point scale there. */
int cov_cam_view(const camcols *c, size_t r, double *az, double *fov, double *rg);

/* Shared by compute and load (geo/coverage.c): a result for snap with options and layers, no
 * grid computed (takes over snap's reference; gw_coverage_destroy); the per-grid arrays with
 * envelopes; every incident's grid, seen flag and the grids' counts. */
gw_status cov_new(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap,
                  const gw_coverage_opts *opts, gw_coverage **out);
gw_status cov_alloc_grids(gw_ctx *ctx, gw_coverage *c);
gw_status cov_incidents_all(gw_ctx *ctx, gw_coverage *c);
/* Forget the blind spots built for grid g (writer side: no reader runs). */
void cov_blind_forget(gw_coverage *c, size_t g);

#endif
