/* plan_edit.h — what plan_edit.c (the edits) and plan_share.c (the shared-vertex pass after a
 * geometric edit) share: the edit's working context and the sorted vertex list. */
#ifndef GRIDWATCH_PLAN_EDIT_H
#define GRIDWATCH_PLAN_EDIT_H

#include "plan_internal.h"

#include <jansson.h>

/* A vertex an edit creates on an existing edge (where the planner's line crosses it) is a
 * computed intersection, off the straight lon/lat segment by rounding (seen: up to 1.4e-12°,
 * a 2e-3 m² sliver along a 30 km edge).  It is inserted into every other grid with an edge
 * passing this close, so both sides carry the same vertex and the tiling stays exact. */
#define SHARE_EPS_DEG 1e-9 /* ≈ 0.1 mm */

typedef struct ectx {
    pl p;
    int64_t draft, base;
    json_t *changed, *deleted;
    GEOSGeometry **written; /* clones of the geometries put_grid wrote (for the sharing pass) */
    size_t nw, cw;
    int sharing; /* 1 during the sharing pass: put_grid keeps no clone */
} ectx;

/* Vertices (x, y pairs) sorted by x, for the "does a vertex lie on this edge" search. */
typedef struct vlist {
    double *xy;
    size_t n, cap;
} vlist;

/* Write one grid of the draft (a row of the draft's own; keeps a clone for the sharing pass). */
gw_status pe_put_grid(ectx *e, const pl_grid *g);
/* Add every vertex of g to v (non-zero when out of memory). */
int pe_vl_add(GEOSContextHandle_t h, vlist *v, const GEOSGeometry *g);
/* Sort v by x for pe_with_vertices. */
void pe_vl_sort(vlist *v);
/* g with every vertex of v that lies on one of its edges inserted there; NULL (and *st set on a
 * failure) when none does. */
GEOSGeometry *pe_with_vertices(ectx *e, const GEOSGeometry *g, const vlist *v, gw_status *st);
/* After a geometric edit: give every grid of the draft the edit did not write the new vertices
 * lying on its edges (where the edit's lines met a boundary it shares). */
gw_status pe_share_pass(ectx *e);

#endif
