/* plan_share.c — the shared-vertex pass after a geometric edit of a draft: a vertex the edit
 * computed on an edge it shares with a grid outside the edit goes into that grid too, so both
 * sides keep identical vertices and the tiling stays exact (see plan_edit.c). */
#include "plan_edit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared vertices ----------------------------------------------------------------------- */

static int vl_push(vlist *v, double x, double y)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        double *nx = realloc(v->xy, cap * 2 * sizeof *nx);
        if (!nx) return -1;
        v->xy = nx, v->cap = cap;
    }
    v->xy[2 * v->n] = x, v->xy[2 * v->n + 1] = y;
    v->n++;
    return 0;
}

static int vl_ring(GEOSContextHandle_t h, vlist *v, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) return -1;
    for (unsigned i = 0; i + 1 < n; i++) { /* the closing point repeats the first */
        double x, y;
        if (!GEOSCoordSeq_getXY_r(h, cs, i, &x, &y) || vl_push(v, x, y)) return -1;
    }
    return 0;
}

/* Append every ring vertex of a (multi)polygon. */
int pe_vl_add(GEOSContextHandle_t h, vlist *v, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            if (pe_vl_add(h, v, GEOSGetGeometryN_r(h, g, i))) return -1;
        return 0;
    }
    if (t != GEOS_POLYGON) return 0;
    if (vl_ring(h, v, GEOSGetExteriorRing_r(h, g))) return -1;
    int nh = GEOSGetNumInteriorRings_r(h, g);
    for (int i = 0; i < nh; i++)
        if (vl_ring(h, v, GEOSGetInteriorRingN_r(h, g, i))) return -1;
    return 0;
}

static int cmp_xy(const void *a, const void *b)
{
    const double *p = a, *q = b;
    return p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : p[1] < q[1] ? -1 : p[1] > q[1];
}

void pe_vl_sort(vlist *v)
{
    if (v->n > 1) qsort(v->xy, v->n, 2 * sizeof *v->xy, cmp_xy);
}

/* First index with x >= x0. */
static size_t vl_lower(const vlist *v, double x0)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (v->xy[2 * m] < x0) lo = m + 1;
        else hi = m;
    }
    return lo;
}

typedef struct tpt {
    double t, x, y;
} tpt;

static int cmp_t(const void *a, const void *b)
{
    const tpt *p = a, *q = b;
    return p->t < q->t ? -1 : p->t > q->t;
}

/* A ring with every vertex of v that lies on one of its edges (within SHARE_EPS_DEG of the
 * segment, strictly between its ends, not already a vertex) inserted in order; *added counts
 * them.  NULL on failure. */
static GEOSGeometry *ring_with(GEOSContextHandle_t h, const GEOSGeometry *ring, const vlist *v,
                               size_t *added)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 2) return NULL;
    double *in = malloc(2 * n * sizeof *in);
    vlist out = {0};
    tpt *hit = NULL;
    size_t nh = 0, ch = 0;
    int bad = !in || !GEOSCoordSeq_copyToBuffer_r(h, cs, in, 0, 0);
    for (unsigned i = 0; !bad && i + 1 < n; i++) {
        double ax = in[2 * i], ay = in[2 * i + 1], bx = in[2 * i + 2], by = in[2 * i + 3];
        bad = vl_push(&out, ax, ay);
        double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
        if (bad || l2 == 0) continue;
        double x0 = fmin(ax, bx) - SHARE_EPS_DEG, x1 = fmax(ax, bx) + SHARE_EPS_DEG;
        double y0 = fmin(ay, by) - SHARE_EPS_DEG, y1 = fmax(ay, by) + SHARE_EPS_DEG;
        nh = 0;
        for (size_t k = vl_lower(v, x0); k < v->n && v->xy[2 * k] <= x1; k++) {
            double px = v->xy[2 * k], py = v->xy[2 * k + 1];
            if (py < y0 || py > y1 || (px == ax && py == ay) || (px == bx && py == by)) continue;
            double t = ((px - ax) * dx + (py - ay) * dy) / l2;
            if (t <= 0 || t >= 1) continue;
            double ex = ax + t * dx - px, ey = ay + t * dy - py;
            if (ex * ex + ey * ey > SHARE_EPS_DEG * SHARE_EPS_DEG) continue;
            if (nh == ch) {
                ch = ch ? ch * 2 : 8;
                tpt *nhit = realloc(hit, ch * sizeof *nhit);
                if (!nhit) {
                    bad = 1;
                    break;
                }
                hit = nhit;
            }
            hit[nh++] = (tpt){t, px, py};
        }
        if (nh > 1) qsort(hit, nh, sizeof *hit, cmp_t);
        for (size_t k = 0; !bad && k < nh; k++) {
            if (k > 0 && hit[k].x == hit[k - 1].x && hit[k].y == hit[k - 1].y) continue;
            bad = vl_push(&out, hit[k].x, hit[k].y);
            (*added)++;
        }
    }
    if (!bad) bad = vl_push(&out, in[2 * (n - 1)], in[2 * (n - 1) + 1]);
    GEOSGeometry *r = NULL;
    if (!bad) {
        GEOSCoordSequence *ns = GEOSCoordSeq_copyFromBuffer_r(h, out.xy, (unsigned)out.n, 0, 0);
        if (ns) r = GEOSGeom_createLinearRing_r(h, ns);
    }
    free(in);
    free(out.xy);
    free(hit);
    return r;
}

/* g with the vertices of v that lie on its edges inserted (see ring_with): a new geometry, or
 * NULL with *st GW_OK when none lies on it (or the result would not be valid). */
GEOSGeometry *pe_with_vertices(ectx *e, const GEOSGeometry *g, const vlist *v, gw_status *st)
{
    GEOSContextHandle_t h = e->p.h;
    *st = GW_OK;
    int t = GEOSGeomTypeId_r(h, g), multi = t == GEOS_MULTIPOLYGON;
    if (t != GEOS_POLYGON && !multi) return NULL;
    int np = multi ? GEOSGetNumGeometries_r(h, g) : 1;
    GEOSGeometry **polys = calloc((size_t)np, sizeof *polys);
    size_t added = 0;
    if (!polys) {
        *st = gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int ok = 1;
    for (int i = 0; ok && i < np; i++) {
        const GEOSGeometry *pg = multi ? GEOSGetGeometryN_r(h, g, i) : g;
        int nr = GEOSGetNumInteriorRings_r(h, pg);
        GEOSGeometry *shell = ring_with(h, GEOSGetExteriorRing_r(h, pg), v, &added);
        GEOSGeometry **holes = nr > 0 ? calloc((size_t)nr, sizeof *holes) : NULL;
        ok = shell && (nr == 0 || holes);
        for (int j = 0; ok && j < nr; j++)
            ok = (holes[j] = ring_with(h, GEOSGetInteriorRingN_r(h, pg, j), v, &added)) != NULL;
        if (ok) {
            polys[i] = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nr);
            ok = polys[i] != NULL;
        } else {
            if (shell) GEOSGeom_destroy_r(h, shell);
            for (int j = 0; holes && j < nr; j++)
                if (holes[j]) GEOSGeom_destroy_r(h, holes[j]);
        }
        free(holes);
    }
    GEOSGeometry *r = NULL;
    if (ok && added > 0) {
        r = multi ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)np)
                  : polys[0];
        if (r) {
            if (multi) np = 0; /* the collection owns the parts */
            else polys[0] = NULL;
        }
        ok = r != NULL;
    }
    for (int i = 0; i < np; i++)
        if (polys[i]) GEOSGeom_destroy_r(h, polys[i]);
    free(polys);
    if (!ok) {
        *st = pl_geos_fail(&e->p, "inserting shared vertices");
        return NULL;
    }
    if (r && GEOSisValid_r(h, r) != 1) { /* keep the grid as it was rather than break it */
        GEOSGeom_destroy_r(h, r);
        r = NULL;
    }
    return r;
}

/* 1 when id is in the JSON array of strings. */
static int listed(json_t *arr, const char *id)
{
    size_t k;
    json_t *v;
    json_array_foreach (arr, k, v)
        if (strcmp(json_string_value(v), id) == 0) return 1;
    return 0;
}

/* Collecting the draft's grids near an edit (share_pass): those the edit did not list whose
 * envelope meets the box. */
typedef struct near_ctx {
    ectx *e;
    pl_set *cand;
    gw_bbox box;
} near_ctx;

static gw_status near_add(void *user, const gw_store_plan_grid *r)
{
    near_ctx *nc = user;
    ectx *e = nc->e;
    const gw_value *idv = &r->values[0];
    const char *id = idv->kind == GW_VAL_TEXT ? idv->s : NULL;
    if (!id || listed(e->changed, id) || listed(e->deleted, id)) return GW_OK;
    pl_grid g;
    gw_status st = pl_read_row(&e->p, r, &g);
    if (st) return st;
    double x0, y0, x1, y1;
    if (!GEOSGeom_getExtent_r(e->p.h, g.g, &x0, &y0, &x1, &y1) || x0 > nc->box.maxx ||
        x1 < nc->box.minx || y0 > nc->box.maxy || y1 < nc->box.miny) {
        pl_grid_clear(&e->p, &g);
        return GW_OK;
    }
    pl_set *cand = nc->cand;
    if (cand->n == cand->cap) {
        size_t cap = cand->cap ? cand->cap * 2 : 16;
        pl_grid *ng = realloc(cand->g, cap * sizeof *ng);
        if (!ng) {
            pl_grid_clear(&e->p, &g);
            return gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
        }
        cand->g = ng, cand->cap = cap;
    }
    cand->g[cand->n++] = g;
    return GW_OK;
}

/* After a geometric edit: give every grid of the draft the edit did not write the new vertices
 * lying on its edges (where the edit's lines met a boundary it shares). */
gw_status pe_share_pass(ectx *e)
{
    if (e->nw == 0) return GW_OK;
    GEOSContextHandle_t h = e->p.h;
    vlist v = {0};
    double bx0 = INFINITY, by0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY;
    gw_status st = GW_OK;
    for (size_t i = 0; !st && i < e->nw; i++) {
        double x0, y0, x1, y1;
        if (pe_vl_add(h, &v, e->written[i]) ||
            !GEOSGeom_getExtent_r(h, e->written[i], &x0, &y0, &x1, &y1)) {
            st = pl_geos_fail(&e->p, "collecting vertices");
            break; /* the extent was not written */
        }
        bx0 = fmin(bx0, x0), by0 = fmin(by0, y0), bx1 = fmax(bx1, x1), by1 = fmax(by1, y1);
    }
    if (st) {
        free(v.xy);
        return st;
    }
    pe_vl_sort(&v);
    bx0 -= SHARE_EPS_DEG, by0 -= SHARE_EPS_DEG, bx1 += SHARE_EPS_DEG, by1 += SHARE_EPS_DEG;
    /* the draft's grids near the edit: base grids the draft did not touch (R*Tree), then the
     * draft's own upserts (envelope test) */
    gw_bbox near = {bx0, by0, bx1, by1};
    e->sharing = 1;
    for (int pass = 0; !st && pass < 2; pass++) {
        /* collect first: put_grid writes to the rows being read */
        pl_set cand = {0};
        near_ctx nc = {e, &cand, near};
        st = gw_store_plan_draft_grids(e->p.s, e->draft,
                                       pass == 0 ? GW_STORE_PLAN_BASE : GW_STORE_PLAN_OWN, &near,
                                       near_add, &nc, NULL);
        for (size_t i = 0; !st && i < cand.n; i++) {
            GEOSGeometry *ng = pe_with_vertices(e, cand.g[i].g, &v, &st);
            if (!ng) continue;
            GEOSGeom_destroy_r(h, cand.g[i].g);
            cand.g[i].g = ng;
            st = pe_put_grid(e, &cand.g[i]);
        }
        pl_set_free(&e->p, &cand);
    }
    e->sharing = 0;
    free(v.xy);
    return st;
}
