/* coverage_grid.c — the coverage of one grid: the views that meet it, the covered area and the
 * police-room reach by boundary integration (coverage_area.c); on request, its blind spots (the
 * views grouped by overlap and unioned per group with GEOS, the difference with the grid). */
#include "coverage_work.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- one grid ------------------------------------------------------------------------------ */

gw_bbox covw_ring_env(const double *xy, size_t n)
{
    gw_bbox ve = {xy[0], xy[1], xy[0], xy[1]};
    for (size_t k = 1; k < n; k++) {
        if (xy[2 * k] < ve.minx) ve.minx = xy[2 * k];
        if (xy[2 * k] > ve.maxx) ve.maxx = xy[2 * k];
        if (xy[2 * k + 1] < ve.miny) ve.miny = xy[2 * k + 1];
        if (xy[2 * k + 1] > ve.maxy) ve.maxy = xy[2 * k + 1];
    }
    return ve;
}

int covw_env_overlap(const gw_bbox *a, const gw_bbox *b)
{
    return !(a->maxx <= b->minx || a->minx >= b->maxx || a->maxy <= b->miny || a->miny >= b->maxy);
}

int covw_collect(void *user, size_t row)
{
    worker *w = user;
    if (w->ncand == w->capcand) {
        size_t nc = w->capcand ? 2 * w->capcand : 256;
        size_t *p = realloc(w->cand, nc * sizeof *p);
        if (!p) return 1; /* truncated: caught by the caller through st */
        w->cand = p, w->capcand = nc;
    }
    w->cand[w->ncand++] = row;
    return 0;
}

static gw_status need_parts(worker *w, size_t n)
{
    if (n <= w->capparts) return GW_OK;
    size_t nc = w->capparts ? w->capparts : 64;
    while (nc < n) nc *= 2;
    GEOSGeometry **p = realloc(w->parts, nc * sizeof *p);
    if (!p) return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    w->parts = p, w->capparts = nc;
    return GW_OK;
}

static gw_status need_geoms(worker *w, size_t n)
{
    if (n <= w->capg) return GW_OK;
    size_t nc = w->capg ? w->capg : 64;
    while (nc < n) nc *= 2;
    GEOSGeometry **p = realloc(w->geoms, nc * sizeof *p),
                 **t = p ? realloc(w->tmp, nc * sizeof *t) : NULL;
    if (p) w->geoms = p;
    if (t) w->tmp = t;
    gw_bbox *e = t ? realloc(w->venv, nc * sizeof *e) : NULL;
    if (e) w->venv = e;
    size_t *u = e ? realloc(w->uf, nc * sizeof *u) : NULL;
    if (u) w->uf = u;
    size_t *x = u ? realloc(w->next, nc * sizeof *x) : NULL;
    if (x) w->next = x;
    size_t *hd = x ? realloc(w->head, nc * sizeof *hd) : NULL;
    if (hd) w->head = hd;
    if (!hd) return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    w->capg = nc;
    return need_parts(w, nc);
}

gw_status covw_geos_fail(worker *w, size_t g, const char *what)
{
    return gw_ctx_error(w->ctx, GW_ERR_GEOMETRY, "coverage of grid %s: %s failed: %s",
                        gw_layer_data_id(w->cov->grids, g), what, gw_ctx_geos_errmsg(w->ctx));
}

static double ring_area(GEOSContextHandle_t h, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4) return 0;
    double a = 0, x0, y0, px, py;
    GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
    px = 0, py = 0;
    for (unsigned i = 1; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
        x -= x0, y -= y0;
        a += px * y - x * py;
        px = x, py = y;
    }
    return fabs(a) / 2;
}

/* Blind spots: the polygons of `diff` of at least `min` m², their holes below `min` filled,
 * as a new MultiPolygon; NULL on failure. */
static GEOSGeometry *blind_filter(GEOSContextHandle_t h, const GEOSGeometry *diff, double min,
                                  double *area, int32_t *parts)
{
    int np = GEOSGetNumGeometries_r(h, diff);
    GEOSGeometry **keep = np > 0 ? malloc((size_t)np * sizeof *keep) : NULL;
    int nk = 0;
    *area = 0;
    for (int i = 0; i < np; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, diff, i);
        double a = 0;
        if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON || GEOSisEmpty_r(h, p) ||
            !GEOSArea_r(h, p, &a) || a < min)
            continue;
        int nh = GEOSGetNumInteriorRings_r(h, p), small = 0;
        for (int j = 0; j < nh; j++) small += ring_area(h, GEOSGetInteriorRingN_r(h, p, j)) < min;
        GEOSGeometry *q = NULL;
        if (!small) {
            q = GEOSGeom_clone_r(h, p);
        } else {
            GEOSGeometry **holes = malloc((size_t)nh * sizeof *holes);
            GEOSGeometry *shell = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, p));
            unsigned k = 0;
            for (int j = 0; holes && shell && j < nh; j++) {
                const GEOSGeometry *r = GEOSGetInteriorRingN_r(h, p, j);
                if (ring_area(h, r) >= min) holes[k++] = GEOSGeom_clone_r(h, r);
            }
            if (holes && shell) q = GEOSGeom_createPolygon_r(h, shell, holes, k);
            else if (shell) GEOSGeom_destroy_r(h, shell);
            free(holes);
        }
        if (!q) continue;
        GEOSArea_r(h, q, &a);
        *area += a;
        keep[nk++] = q;
    }
    *parts = nk;
    GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, keep, (unsigned)nk);
    free(keep);
    return mp;
}

/* Largest distance from (x, y) to a vertex of the grid's exterior rings. */
static double max_vertex_dist(GEOSContextHandle_t h, const GEOSGeometry *g, double x, double y)
{
    double m = 0;
    int np = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < np; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, p));
        unsigned n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) return INFINITY;
        for (unsigned k = 0; k < n; k++) {
            double px, py;
            GEOSCoordSeq_getXY_r(h, cs, k, &px, &py);
            double d = hypot(px - x, py - y);
            if (d > m) m = d;
        }
    }
    return m;
}

static gw_status grid_rooms(worker *w, size_t g, const GEOSGeometry *geom, double ga)
{
    gw_coverage *c = w->cov;
    gw_coverage_row *row = &c->rows[g];
    double D = c->o.room_dist_m;
    row->room_m2 = 0, row->room_reach = 0;
    if (!c->rooms || !gw_layer_data_count(c->rooms)) return GW_OK;
    gw_bbox e = c->genv[g], q = {e.minx - D, e.miny - D, e.maxx + D, e.maxy + D};
    w->ncand = 0;
    gw_layer_data_query_points(c->rooms, &q, covw_collect, w);
    const double *rx = gw_layer_data_x(c->rooms, GW_MODEL_METRIC),
                 *ry = gw_layer_data_y(c->rooms, GW_MODEL_METRIC);
    if (!w->ncand) return GW_OK;
    /* The reach by boundary integration too (the grid is set: the views' area is done). */
    covw_area_reset(w->area);
    for (size_t i = 0; i < w->ncand; i++) {
        size_t r = w->cand[i];
        /* The disc polygon holds the circle of radius D cos(step / 2): a grid within it is all reached. */
        if (max_vertex_dist(w->h, geom, rx[r], ry[r]) <= D * cos(STEP_DEG * M_PI / 360)) {
            row->room_m2 = ga, row->room_reach = ga > 0 ? 1 : 0;
            return GW_OK;
        }
        if (!covw_area_add_view(w->area, rx[r], ry[r], 0, 360, D, NULL, 0))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    }
    double a = 0;
    if (!covw_area_compute(w->area, &c->genv[g], &a))
        return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    a = a < 0 ? 0 : a > ga ? ga : a;
    row->room_m2 = a, row->room_reach = ga > 0 ? a / ga : 0;
    return GW_OK;
}

/* 1 when the interiors of the grid and view v (ring xy of n vertices) meet: a vertex of the
 * view strictly inside the grid (the apex first) settles it (a polygon's interior comes
 * arbitrarily close to each of its vertices); otherwise intersecting without only touching
 * (a full relate, needed for the few views that cross the grid with no vertex inside). */
static char interiors_meet(GEOSContextHandle_t h, const GEOSPreparedGeometry *own,
                           const GEOSGeometry *v, const double *xy, size_t n)
{
    int any = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, xy[2 * k], xy[2 * k + 1]);
        char in = pt ? GEOSPreparedContainsProperly_r(h, own, pt) : 2;
        if (pt) GEOSGeom_destroy_r(h, pt);
        if (in == 2) return 2;
        if (in == 1) return 1;
        if (k == 0 && !(any = GEOSPreparedIntersects_r(h, own, v) == 1)) return 0;
    }
    return any && GEOSPreparedTouches_r(h, own, v) == 0;
}

static size_t uf_root(size_t *p, size_t i)
{
    while (p[i] != i) i = p[i] = p[p[i]];
    return i;
}

static int env_meet(const gw_bbox *a, const gw_bbox *b)
{
    return !(a->maxx < b->minx || b->maxx < a->minx || a->maxy < b->miny || b->maxy < a->miny);
}

static int env_within(const gw_bbox *a, const gw_bbox *b)
{
    return a->minx > b->minx && a->maxx < b->maxx && a->miny > b->miny && a->maxy < b->maxy;
}

int covw_view_meets(worker *w, size_t g, const GEOSGeometry *geom, const GEOSPreparedGeometry **own,
                    const double *xy, size_t n, double fov, gw_status *st)
{
    /* The apex clearly inside the grid settles it (a polygon's interior comes arbitrarily
     * close to each of its vertices), then separating lines when both are convex, then any
     * vertex clearly inside; otherwise GEOS decides. */
    int in = covw_area_grid_contains(w->area, xy[0], xy[1]);
    if (!in) {
        int m = covw_area_grid_meets(w->area, xy, n, fov);
        if (m == 0) return 0;
        in = m == 1;
    }
    for (size_t k = 1; k + 1 < n && !in; k++)
        in = covw_area_grid_contains(w->area, xy[2 * k], xy[2 * k + 1]);
    if (in) return 1;
    GEOSContextHandle_t h = w->h;
    GEOSGeometry *v = covw_poly_from(h, xy, n);
    if (!*own) *own = GEOSPrepare_r(h, geom);
    if (!v || !*own) {
        if (v) GEOSGeom_destroy_r(h, v);
        *st = covw_geos_fail(w, g, "building a camera view");
        return 0;
    }
    in = interiors_meet(h, *own, v, xy, n) == 1;
    GEOSGeom_destroy_r(h, v);
    return in;
}

/* Everything of grid g except its incident counts (those come from the incident pass); or,
 * with w->blind, its blind spots alone (the result is only read). */
gw_status covw_grid_compute(worker *w, size_t g)
{
    gw_coverage *c = w->cov;
    GEOSContextHandle_t h = w->h;
    const GEOSGeometry *geom = gw_layer_data_geom(c->grids, g, GW_MODEL_METRIC);
    gw_coverage_row scratch = c->rows[g], *row = w->blind ? &scratch : &c->rows[g];
    int32_t ninc = row->incidents, nseen = row->seen;
    double share = row->incident_share;
    memset(row, 0, sizeof *row);
    row->incidents = ninc, row->seen = nseen, row->incident_share = share;
    if (!geom)
        return gw_ctx_error(w->ctx, GW_ERR_INTERNAL, "coverage: grid row %zu has no geometry", g);
    double ga = 0;
    GEOSArea_r(h, geom, &ga);
    row->grid_m2 = ga;
    gw_bbox e = c->genv[g], q = {e.minx - c->max_range, e.miny - c->max_range,
                                 e.maxx + c->max_range, e.maxy + c->max_range};
    w->ncand = 0;
    if (c->cams && gw_layer_data_count(c->cams))
        gw_layer_data_query_points(c->cams, &q, covw_collect, w);
    gw_status st = need_geoms(w, w->ncand + 1);
    if (st) return st;
    const GEOSPreparedGeometry *own = NULL;
    size_t nv = 0;
    double xy[2 * SECTOR_CAP];
    int fast = !w->blind; /* the area by boundary integration, no union built */
    if (!w->area && !(w->area = covw_area_create()))
        return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    if (!covw_area_set_grid(w->area, h, geom)) return covw_geos_fail(w, g, "reading the grid");
    for (size_t i = 0; i < w->ncand && !st; i++) {
        size_t r = w->cand[i];
        double az, fov, rg, x = c->cc.x[r], y = c->cc.y[r];
        if (c->cc.rg && !(c->cc.nrg && c->cc.nrg[r])) { /* out of reach: nothing else read */
            double m = c->cc.rg[r] * (c->cc.scale ? c->cc.scale[r] : 1);
            if (x + m < e.minx || x - m > e.maxx || y + m < e.miny || y - m > e.maxy) continue;
        }
        if (!cov_cam_view(&c->cc, r, &az, &fov, &rg)) continue;
        if (x + rg < e.minx || x - rg > e.maxx || y + rg < e.miny || y - rg > e.maxy) continue;
        size_t n = gw_coverage_sector(x, y, az, fov, rg, xy, SECTOR_CAP);
        if (!n) continue;
        gw_bbox ve = covw_ring_env(xy, n);
        /* Envelopes that do not overlap (touching included) leave no interior in common. */
        if (!covw_env_overlap(&ve, &e)) continue;
        int in = covw_view_meets(w, g, geom, &own, xy, n, fov, &st);
        if (st) break;
        if (!in) continue;
        if (fast) {
            nv++;
            if (!covw_area_add_view(w->area, x, y, az, fov, rg, xy, n))
                st = gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
            continue;
        }
        GEOSGeometry *v = covw_poly_from(h, xy, n);
        if (!v) {
            st = covw_geos_fail(w, g, "building a camera view");
            break;
        }
        if (!env_within(&ve, &e)) {
            /* Only the part within the grid's envelope matters: smaller inputs to the union. */
            GEOSGeometry *cv = GEOSClipByRect_r(h, v, e.minx, e.miny, e.maxx, e.maxy);
            if (cv) GEOSGeom_destroy_r(h, v), v = cv;
            if (ve.minx < e.minx) ve.minx = e.minx;
            if (ve.maxx > e.maxx) ve.maxx = e.maxx;
            if (ve.miny < e.miny) ve.miny = e.miny;
            if (ve.maxy > e.maxy) ve.maxy = e.maxy;
        }
        w->venv[nv] = ve;
        w->geoms[nv++] = v;
    }
    if (st) {
        for (size_t k = 0; k < nv; k++) GEOSGeom_destroy_r(h, w->geoms[k]);
        if (own) GEOSPreparedGeom_destroy_r(h, own);
        return st;
    }
    row->cameras = (int32_t)nv;
    if (fast) {
        if (own) GEOSPreparedGeom_destroy_r(h, own);
        double a = 0;
        if (nv && !covw_area_compute(w->area, &e, &a))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
        row->covered_m2 = a < 0 ? 0 : a > ga ? ga : a;
        row->ratio = ga > 0 ? row->covered_m2 / ga : 0;
        row->blind_m2 = ga - row->covered_m2, row->blind_parts = -1;
        return grid_rooms(w, g, geom, ga);
    }
    /* Groups of views whose envelopes overlap, transitively: the union of each group is
     * computed on its own (separate groups cannot overlap, so areas add up) and a lone view
     * needs no union at all. */
    size_t *par = w->uf, *next = w->next, *head = w->head;
    for (size_t i = 0; i < nv; i++) par[i] = i, head[i] = SIZE_MAX;
    for (size_t i = 0; i < nv; i++)
        for (size_t j = i + 1; j < nv; j++)
            if (env_meet(&w->venv[i], &w->venv[j])) {
                size_t a = uf_root(par, i), b = uf_root(par, j);
                if (a != b) par[a < b ? b : a] = a < b ? a : b;
            }
    for (size_t i = nv; i-- > 0;) {
        size_t r = uf_root(par, i);
        next[i] = head[r], head[r] = i;
    }
    size_t np = 0;
    GEOSGeometry **parts = w->parts;
    for (size_t r = 0; r < nv && !st; r++) {
        if (head[r] == SIZE_MAX) continue;
        size_t k = 0;
        for (size_t i = head[r]; i != SIZE_MAX; i = next[i])
            w->tmp[k++] = w->geoms[i], w->geoms[i] = NULL;
        GEOSGeometry *u;
        if (k == 1) {
            u = w->tmp[0];
        } else {
            GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, w->tmp,
                                                             (unsigned)k);
            if (!coll) {
                for (size_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, w->tmp[i]);
                st = covw_geos_fail(w, g, "union of the views");
                break;
            }
            u = GEOSUnaryUnion_r(h, coll);
            GEOSGeom_destroy_r(h, coll);
        }
        if (!u) {
            st = covw_geos_fail(w, g, "union of the views");
            break;
        }
        int t = GEOSGeomTypeId_r(h, u);
        if (t == GEOS_POLYGON) {
            parts[np++] = u;
        } else {
            int m = GEOSGetNumGeometries_r(h, u);
            st = need_parts(w, np + (size_t)m + nv);
            parts = w->parts;
            for (int i = 0; !st && i < m; i++) {
                const GEOSGeometry *p = GEOSGetGeometryN_r(h, u, i);
                if (GEOSGeomTypeId_r(h, p) != GEOS_POLYGON) continue;
                GEOSGeometry *cp = GEOSGeom_clone_r(h, p);
                if (cp) parts[np++] = cp;
                else st = covw_geos_fail(w, g, "union of the views");
            }
            GEOSGeom_destroy_r(h, u);
        }
    }
    for (size_t i = 0; i < nv; i++)
        if (w->geoms[i]) GEOSGeom_destroy_r(h, w->geoms[i]);
    if (own) GEOSPreparedGeom_destroy_r(h, own);
    if (st) {
        for (size_t i = 0; i < np; i++) GEOSGeom_destroy_r(h, parts[i]);
        return st;
    }
    GEOSGeometry *d = NULL;
    if (np) {
        GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)np);
        if (!mp) {
            for (size_t i = 0; i < np; i++) GEOSGeom_destroy_r(h, parts[i]);
            return covw_geos_fail(w, g, "union of the views");
        }
        /* covered = grid − blind (before dropping small pieces): one overlay instead of two. */
        d = GEOSDifference_r(h, geom, mp);
        GEOSGeom_destroy_r(h, mp);
        if (!d) return covw_geos_fail(w, g, "difference with the views");
        double da = 0;
        GEOSArea_r(h, d, &da);
        row->covered_m2 = ga - da > 0 ? ga - da : 0;
    } else {
        d = GEOSGeom_clone_r(h, geom);
    }
    if (row->covered_m2 > ga) row->covered_m2 = ga;
    row->ratio = ga > 0 ? row->covered_m2 / ga : 0;
    GEOSGeometry *bl = d ? blind_filter(h, d, c->o.min_blind_m2, &w->blind_kept_m2, &w->blind_parts)
                         : NULL;
    if (d) GEOSGeom_destroy_r(h, d);
    if (!bl) return covw_geos_fail(w, g, "blind spots");
    w->blind_out = bl;
    return GW_OK;
}
