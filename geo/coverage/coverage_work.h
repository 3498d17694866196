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

#define SECTOR_CAP 184
#define STEP_DEG 3
#define INC_CHUNK 4096

typedef struct worker {
    gw_coverage *cov;
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    gw_crs_transform *to_ll; /* borrowed or owned (own_tr) */
    int own_tr, own_ctx;
    GEOSWKBWriter *wkb;
    size_t *cand;
    size_t ncand, capcand;
    GEOSGeometry **geoms, **tmp, **parts; /* views; one group's views; the groups' polygons */
    gw_bbox *venv;                        /* per view: its envelope (clipped to the grid's) */
    size_t *uf, *next, *head;             /* per view: union-find parent, group lists */
    size_t capg, capparts;
    gw_status st;
} worker;

GEOSGeometry *covw_poly_from(GEOSContextHandle_t h, const double *xy, size_t n);
gw_status covw_grid_compute(worker *w, size_t g);

#endif
