/* coverage_work.h — what coverage.c and coverage_grid.c share: the per-thread worker and the
 * grid computation (covw_ prefix; not installed). */
#ifndef GW_COVERAGE_WORK_H
#define GW_COVERAGE_WORK_H

#include "gridwatch/coverage.h"
#include "gridwatch/crs.h"
#include "coverage_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define STEP_DEG 3
#define INC_CHUNK 4096

/* The covered area of one grid by boundary integration (coverage_area.c): the grid set, views
 * added one by one, then the area of grid ∩ ⋃ views; reused across grids by one worker. */
typedef struct covw_area covw_area;
covw_area *covw_area_create(void);
void covw_area_destroy(covw_area *a);
/* Take the grid's rings (forgets the views); 0 when out of memory or GEOS cannot read it. */
int covw_area_set_grid(covw_area *a, GEOSContextHandle_t h, const GEOSGeometry *grid);
/* Forget the views added (the grid stays). */
void covw_area_reset(covw_area *a);
/* 1 when metric point (x, y) lies inside the grid, more than 1e-6 m from its boundary (0 does
 * not say outside). */
int covw_area_grid_contains(const covw_area *a, double x, double y);
/* Whether the interiors of the grid and the view ring xy (n vertices, closed; fov its width)
 * meet, by separating lines when both are convex (a convex grid; a view of at most 180
 * degrees, or a disc): 1 or 0, -1 when undecided (within 1e-6 m of touching, or not convex). */
int covw_area_grid_meets(const covw_area *a, const double *xy, size_t n, double fov);
/* Add the view polygon gw_coverage_sector(x, y, az, f, r) builds (ring: its nring vertices
 * when the caller has them already, else NULL); 0 when out of memory. */
int covw_area_add_view(covw_area *a, double x, double y, double az, double f, double r,
                       const double *ring, size_t nring);
/* area(grid ∩ ⋃ views added since the reset); genv is the grid's envelope.  0 when out of
 * memory. */
int covw_area_compute(covw_area *a, const gw_bbox *genv, double *area);

/* Boxes of what changed between two versions of a point layer (coverage_diff.c). */
typedef struct cov_boxes {
    gw_bbox *v;
    size_t n, cap;
    int oom; /* an allocation failed: the boxes are incomplete */
} cov_boxes;
/* Layers o and n (rows in id order, matched by id): each changed, added or removed feature's
 * camera view envelope (reach 0), or its disc's box of radius reach (police rooms). */
void cov_diff_points(const gw_layer_data *o, const gw_layer_data *n, double reach, cov_boxes *b);
/* Cameras compared row by row (same row count): a differing row adds its old and new view's
 * boxes.  rows (nrows of them; NULL: every row) are the rows that may differ.  *one receives
 * the row when exactly one differs, else SIZE_MAX.  Returns 0 (nothing added) when the counts
 * differ or more than `limit` rows do: the id merge is cheaper then. */
int cov_diff_cams_by_row(const camcols *co, const camcols *cn, const size_t *rows, size_t nrows,
                         size_t limit, cov_boxes *b, size_t *one);

typedef struct worker {
    gw_coverage *cov;
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    int own_ctx;
    /* blind: build the blind-spot polygons of the grid (GEOS union of the views, difference
     * with the grid, small pieces dropped) into blind_out / blind_parts instead of computing
     * the row's figures (gw_coverage_blind; nothing of the result is written) */
    int blind;
    GEOSGeometry *blind_out; /* metric MultiPolygon, the caller's */
    int32_t blind_parts;
    double blind_kept_m2;
    size_t *cand;
    size_t ncand, capcand;
    GEOSGeometry **geoms, **tmp, **parts; /* views; one group's views; the groups' polygons */
    gw_bbox *venv;                        /* per view: its envelope (clipped to the grid's) */
    size_t *uf, *next, *head;             /* per view: union-find parent, group lists */
    size_t capg, capparts;
    covw_area *area; /* ratios without blind spots: the area by boundary integration */
    /* A camera's change (coverage_move.c): for its old and new view, the other views whose
     * envelopes reach the view's, found once per update (per worker): 9 numbers each in par
     * (x, y, az, fov, rg, envelope) and its ring in xy from ring[2k] (ring[2k + 1] vertices). */
    struct covw_near {
        int ready;
        size_t n, cap, nxy, capxy, capring;
        double *par, *xy;
        size_t *ring;
    } near[2];
    gw_status st;
} worker;

GEOSGeometry *covw_poly_from(GEOSContextHandle_t h, const double *xy, size_t n);
/* Make room for `need` elements of `elem` bytes in *p (capacity *cap, doubled); 0 when out of
 * memory (*p unchanged). */
int covw_grow(void **p, size_t *cap, size_t need, size_t elem);
/* The envelope of ring xy (n vertices). */
gw_bbox covw_ring_env(const double *xy, size_t n);
/* 1 when the boxes overlap with positive area (touching is not enough). */
int covw_env_overlap(const gw_bbox *a, const gw_bbox *b);
/* gw_layer_data_query_points visitor: appends the row to w->cand. */
int covw_collect(void *user, size_t row);
/* A GW_ERR_GEOMETRY naming grid row g, `what` failed and GEOS's message. */
gw_status covw_geos_fail(worker *w, size_t g, const char *what);
/* 1 when the interiors of grid g (geom, set in w->area) and the view ring xy (n vertices, fov
 * its width) meet — the rule that decides whether a camera counts for a grid; *own is the
 * grid prepared on first need (the caller destroys it).  0 with *st set on a GEOS failure. */
int covw_view_meets(worker *w, size_t g, const GEOSGeometry *geom, const GEOSPreparedGeometry **own,
                    const double *xy, size_t n, double fov, gw_status *st);
/* Grid g after one camera's view changed (c->move): its figures moved by the difference
 * alone — the area of grid ∩ old view outside every other view taken away, the same for the
 * new view added, the camera counted out or in — instead of recomputing the grid (coverage_move.c). */
gw_status covw_move_grid(worker *w, size_t g);
/* Grid g: its row's figures (w->blind 0), or its blind spots (w->blind 1). */
gw_status covw_grid_compute(worker *w, size_t g);
/* Free a worker's buffers (not its ctx). */
void covw_free(worker *w);

#endif
