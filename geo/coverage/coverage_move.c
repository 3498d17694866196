/* coverage_move.c — a camera moved, turned, widened or switched on or off: the grids its old or
 * new view touches are brought up to date by the difference alone, not recomputed.
 *
 * With U the union of the other cameras' views (unchanged by the move), a grid's covered area
 * goes from area(G ∩ (U ∪ Vold)) to area(G ∩ (U ∪ Vnew)), i.e. it changes by
 *     area(G ∩ Vnew − U) − area(G ∩ Vold − U),
 * and area(G ∩ V − U) = area(G ∩ V) − area((G ∩ V) ∩ N), N the other views whose envelopes
 * reach V's: a view that cannot meet V does not change what of V is covered.  G ∩ V is one
 * small GEOS overlay (the grid cut to V's envelope first); the covered part of it is the same
 * boundary integration as a full recompute (coverage_area.c) with G ∩ V as the region, over the
 * tens of views near the camera instead of the hundreds a dense grid holds, found once per
 * update for all the grids the view reaches.  The figures agree with a recompute to the
 * integration's error bound plus the overlay's rounding (docs/coverage.md;
 * tests/unit/test_coverage_move.c compares every grid after hundreds of changes).  The camera
 * count moves by the rule a recompute uses (covw_view_meets). */
#include "coverage_work.h"

/* The other views whose envelopes overlap box (view side s's envelope, 1 m wider), with their
 * rings: once per update and worker, for every grid the view reaches. */
static gw_status find_near(worker *w, int s, const gw_bbox *box)
{
    gw_coverage *c = w->cov;
    struct covw_near *nb = &w->near[s];
    nb->n = nb->nxy = 0;
    gw_bbox q = {box->minx - c->max_range, box->miny - c->max_range, box->maxx + c->max_range,
                 box->maxy + c->max_range};
    w->ncand = 0;
    gw_layer_data_query_points(c->cams, &q, covw_collect, w);
    for (size_t i = 0; i < w->ncand; i++) {
        size_t r = w->cand[i];
        double az, fov, rg, x = c->cc.x[r], y = c->cc.y[r];
        if (r == c->move.row || !cov_cam_view(&c->cc, r, &az, &fov, &rg)) continue;
        if (x + rg <= box->minx || x - rg >= box->maxx || y + rg <= box->miny ||
            y - rg >= box->maxy)
            continue;
        if (!covw_grow((void **)&nb->xy, &nb->capxy, nb->nxy + 2 * SECTOR_CAP, sizeof *nb->xy) ||
            !covw_grow((void **)&nb->par, &nb->cap, 9 * (nb->n + 1), sizeof *nb->par) ||
            !covw_grow((void **)&nb->ring, &nb->capring, 2 * (nb->n + 1), sizeof *nb->ring))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
        double *xy = nb->xy + nb->nxy;
        size_t m = gw_coverage_sector(x, y, az, fov, rg, xy, SECTOR_CAP);
        if (!m) continue;
        gw_bbox re = covw_ring_env(xy, m);
        if (!covw_env_overlap(&re, box)) continue;
        double *p = nb->par + 9 * nb->n;
        p[0] = x, p[1] = y, p[2] = az, p[3] = fov, p[4] = rg;
        p[5] = re.minx, p[6] = re.miny, p[7] = re.maxx, p[8] = re.maxy;
        nb->ring[2 * nb->n] = nb->nxy, nb->ring[2 * nb->n + 1] = m;
        nb->nxy += 2 * m, nb->n++;
    }
    nb->ready = 1;
    return GW_OK;
}

/* area(G ∩ V − U) for view side s (ring xy of n vertices, envelope ve) in grid g (geom). */
static gw_status own_area(worker *w, size_t g, const GEOSGeometry *geom, int s, const double *xy,
                          size_t n, const gw_bbox *ve, double *out)
{
    gw_coverage *c = w->cov;
    GEOSContextHandle_t h = w->h;
    *out = 0;
    gw_bbox e = c->genv[g], vb = {ve->minx - 1, ve->miny - 1, ve->maxx + 1, ve->maxy + 1}, box = vb;
    if (box.minx < e.minx) box.minx = e.minx;
    if (box.miny < e.miny) box.miny = e.miny;
    if (box.maxx > e.maxx) box.maxx = e.maxx;
    if (box.maxy > e.maxy) box.maxy = e.maxy;
    if (box.minx >= box.maxx || box.miny >= box.maxy) return GW_OK;
    struct covw_near *nb = &w->near[s];
    gw_status st = nb->ready ? GW_OK : find_near(w, s, &vb);
    if (st) return st;
    /* C ∩ V by GEOS (the grid cut to the box first: a smaller overlay) */
    GEOSGeometry *clip = GEOSClipByRect_r(h, geom, box.minx, box.miny, box.maxx, box.maxy);
    GEOSGeometry *vp = clip ? covw_poly_from(h, xy, n) : NULL;
    GEOSGeometry *cv = vp ? GEOSIntersection_r(h, clip, vp) : NULL;
    if (clip) GEOSGeom_destroy_r(h, clip);
    if (vp) GEOSGeom_destroy_r(h, vp);
    if (!cv) return covw_geos_fail(w, g, "cutting the grid to a camera view");
    double acv = 0;
    int ok = GEOSisEmpty_r(h, cv) == 1
                 ? -1
                 : GEOSArea_r(h, cv, &acv) && covw_area_set_grid(w->area, h, cv);
    gw_bbox cb = box;
    if (ok > 0 && !GEOSGeom_getExtent_r(h, cv, &cb.minx, &cb.miny, &cb.maxx, &cb.maxy)) cb = box;
    GEOSGeom_destroy_r(h, cv);
    if (ok < 0) return GW_OK;
    if (!ok) return covw_geos_fail(w, g, "reading the grid cut to a camera view");
    /* area(C ∩ V ∩ N), N the near views reaching C ∩ V's box */
    double an = 0;
    covw_area_reset(w->area);
    size_t added = 0;
    for (size_t i = 0; i < nb->n; i++) {
        const double *p = nb->par + 9 * i;
        gw_bbox re = {p[5], p[6], p[7], p[8]};
        if (!covw_env_overlap(&re, &cb)) continue;
        added++;
        if (!covw_area_add_view(w->area, p[0], p[1], p[2], p[3], p[4], nb->xy + nb->ring[2 * i],
                                nb->ring[2 * i + 1]))
            return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    }
    if (added && !covw_area_compute(w->area, &cb, &an))
        return gw_ctx_error(w->ctx, GW_ERR_NOMEM, "coverage: out of memory");
    *out = acv - an;
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
    int meets[2] = {0, 0};
    const GEOSPreparedGeometry *own = NULL;
    gw_status st = GW_OK;
    /* the camera counts for the grid before / after: the recompute's rule (its filters too) */
    for (int s = 0; s < 2 && !st; s++) {
        const cov_view *v = vv[s];
        if (v->n && covw_env_overlap(&v->env, &c->genv[g]))
            meets[s] = covw_view_meets(w, g, geom, &own, v->xy, v->n, v->fov, &st);
    }
    if (own) GEOSPreparedGeom_destroy_r(h, own);
    double d[2] = {0, 0};
    for (int s = 0; s < 2 && !st; s++)
        if (meets[s]) st = own_area(w, g, geom, s, vv[s]->xy, vv[s]->n, &vv[s]->env, &d[s]);
    if (st == GW_ERR_GEOMETRY) { /* an overlay GEOS refused: the grid recomputed instead */
        gw_ctx_clear_error(w->ctx);
        return covw_grid_compute(w, g);
    }
    if (st) return st;
    gw_coverage_row *row = &c->rows[g];
    row->cameras += meets[1] - meets[0];
    double ga = row->grid_m2, cov = row->covered_m2 - d[0] + d[1];
    row->covered_m2 = cov < 0 ? 0 : cov > ga ? ga : cov;
    row->ratio = ga > 0 ? row->covered_m2 / ga : 0;
    row->blind_m2 = ga - row->covered_m2, row->blind_parts = -1;
    return GW_OK;
}
