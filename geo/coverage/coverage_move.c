/* coverage_move.c — a camera moved, turned, widened or switched on or off: the grids its old or
 * new view touches are brought up to date by the difference alone, not recomputed.
 *
 * With U the union of the other cameras' views (unchanged by the move), a grid's covered area
 * goes from area(G ∩ (U ∪ Vold)) to area(G ∩ (U ∪ Vnew)), i.e. it changes by
 *     area(G ∩ Vnew − U) − area(G ∩ Vold − U),
 * and area(G ∩ V − U) = area(C ∩ (V ∪ N)) − area(C ∩ N), where C is the grid cut to V's
 * envelope (1 m wider) and N the other views whose envelopes reach C — views that cannot meet
 * V do not change what of V they leave uncovered.  Both areas come from the same boundary
 * integration as a full recompute (coverage_area.c), over the few views near the camera
 * instead of the hundreds a dense grid holds, so the result agrees with a recompute to the
 * integration's error bound (docs/coverage.md; tests/unit/test_coverage_move.c compares every
 * grid after hundreds of moves).  The camera count moves by the same rule a recompute uses
 * (covw_view_meets). */
#include "coverage_work.h"

/* area(C ∩ V − U) for view v (ring xy of n vertices, envelope ve) in grid g (geom). */
static gw_status own_area(worker *w, size_t g, const GEOSGeometry *geom, const cov_view *v,
                          const double *xy, size_t n, const gw_bbox *ve, double *out)
{
    gw_coverage *c = w->cov;
    GEOSContextHandle_t h = w->h;
    *out = 0;
    gw_bbox e = c->genv[g], box = {ve->minx - 1, ve->miny - 1, ve->maxx + 1, ve->maxy + 1};
    if (box.minx < e.minx) box.minx = e.minx;
    if (box.miny < e.miny) box.miny = e.miny;
    if (box.maxx > e.maxx) box.maxx = e.maxx;
    if (box.maxy > e.maxy) box.maxy = e.maxy;
    if (box.minx >= box.maxx || box.miny >= box.maxy) return GW_OK;
    GEOSGeometry *clip = GEOSClipByRect_r(h, geom, box.minx, box.miny, box.maxx, box.maxy);
    if (!clip) return covw_geos_fail(w, g, "cutting the grid to a camera view");
    int ok = GEOSisEmpty_r(h, clip) == 1 ? -1 : covw_area_set_grid(w->area, h, clip);
    GEOSGeom_destroy_r(h, clip);
    if (ok < 0) return GW_OK;
    if (!ok) return covw_geos_fail(w, g, "reading the grid cut to a camera view");
    /* N: the other views whose envelopes overlap the box, their rows kept in w->cand. */
    gw_bbox q = {box.minx - c->max_range, box.miny - c->max_range, box.maxx + c->max_range,
                 box.maxy + c->max_range};
    w->ncand = 0;
    gw_layer_data_query_points(c->cams, &q, covw_collect, w);
    double rxy[2 * SECTOR_CAP];
    size_t nn = 0;
    for (size_t i = 0; i < w->ncand; i++) {
        size_t r = w->cand[i];
        double az, fov, rg, x = c->cc.x[r], y = c->cc.y[r];
        if (r == c->move.row || !cov_cam_view(&c->cc, r, &az, &fov, &rg)) continue;
        if (x + rg <= box.minx || x - rg >= box.maxx || y + rg <= box.miny || y - rg >= box.maxy)
            continue;
        size_t m = gw_coverage_sector(x, y, az, fov, rg, rxy, SECTOR_CAP);
        if (!m) continue;
        gw_bbox re = covw_ring_env(rxy, m);
        if (covw_env_overlap(&re, &box)) w->cand[nn++] = r;
    }
    /* area(C ∩ (V ∪ N)), then area(C ∩ N) */
    double a[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++) {
        covw_area_reset(w->area);
        if (pass == 0 && !covw_area_add_view(w->area, v->x, v->y, v->az, v->fov, v->rg, xy, n))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
        if (pass == 1 && nn == 0) break;
        for (size_t i = 0; i < nn; i++) {
            size_t r = w->cand[i];
            double az, fov, rg;
            cov_cam_view(&c->cc, r, &az, &fov, &rg);
            if (!covw_area_add_view(w->area, c->cc.x[r], c->cc.y[r], az, fov, rg, NULL, 0))
                return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
        }
        if (!covw_area_compute(w->area, &box, &a[pass]))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    }
    *out = a[0] - a[1];
    return GW_OK;
}

gw_status covw_move_grid(worker *w, size_t g)
{
    gw_coverage *c = w->cov;
    GEOSContextHandle_t h = w->h;
    const GEOSGeometry *geom = gw_layer_data_geom(c->grids, g, GW_MODEL_METRIC);
    if (!geom) return covw_grid_compute(w, g);
    if (!w->area && !(w->area = covw_area_create()))
        return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    if (!covw_area_set_grid(w->area, h, geom)) return covw_geos_fail(w, g, "reading the grid");
    const cov_view *vv[2] = {&c->move.was, &c->move.now};
    double xy[2][2 * SECTOR_CAP];
    size_t n[2] = {0, 0};
    int meets[2] = {0, 0};
    gw_bbox ve[2];
    const gw_bbox *e = &c->genv[g];
    const GEOSPreparedGeometry *own = NULL;
    gw_status st = GW_OK;
    /* the camera counts for the grid before / after: the recompute's rule (its filters too) */
    for (int s = 0; s < 2 && !st; s++) {
        const cov_view *v = vv[s];
        if (!v->on) continue;
        n[s] = gw_coverage_sector(v->x, v->y, v->az, v->fov, v->rg, xy[s], SECTOR_CAP);
        if (!n[s]) continue;
        ve[s] = covw_ring_env(xy[s], n[s]);
        if (covw_env_overlap(&ve[s], e))
            meets[s] = covw_view_meets(w, g, geom, &own, xy[s], n[s], v->fov, &st);
    }
    if (own) GEOSPreparedGeom_destroy_r(h, own);
    double d[2] = {0, 0};
    for (int s = 0; s < 2 && !st; s++)
        if (meets[s]) st = own_area(w, g, geom, vv[s], xy[s], n[s], &ve[s], &d[s]);
    if (st) return st;
    gw_coverage_row *row = &c->rows[g];
    row->cameras += meets[1] - meets[0];
    double ga = row->grid_m2, cov = row->covered_m2 - d[0] + d[1];
    row->covered_m2 = cov < 0 ? 0 : cov > ga ? ga : cov;
    row->ratio = ga > 0 ? row->covered_m2 / ga : 0;
    row->blind_m2 = ga - row->covered_m2, row->blind_parts = -1;
    return GW_OK;
}
