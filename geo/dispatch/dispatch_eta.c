/* dispatch_eta.c — nearest teams by travel time on the road graph (dispatch.h,
 * gw_dispatch_nearest_eta).  Snapping every team to the roads costs microseconds each, too much
 * for thousands of teams per query, so the search first takes the NEAR teams nearest in a
 * straight line (the grid index), snaps those, and ranks them with one backward Dijkstra from
 * the point (geo/road) stopping at the k-th; a team outside that set is at least the NEAR-th
 * straight-line distance away, so it cannot arrive before (distance - both snap distances) /
 * the graph's top speed.  When the k-th ETA is within that bound the answer is exact;
 * otherwise (a sparse or filtered set, an unbounded snap) every candidate is ranked. */
#include "dispatch_internal.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#define NEAR 256

typedef struct cand {
    gw_team_hit *hits;
    double *xy; /* metric in the graph's CRS */
    size_t n;
} cand;

/* Every team that passes o, copied under the table's read lock. */
static gw_status all_candidates(gw_ctx *ctx, gw_dispatch *d, const gw_nearest_opts *o, double qx,
                                double qy, int same_crs, cand *c)
{
    pthread_rwlock_rdlock(&d->lock);
    size_t cap = d->n ? d->n : 1;
    c->hits = malloc(cap * sizeof *c->hits), c->xy = malloc(cap * 2 * sizeof *c->xy), c->n = 0;
    for (size_t k = 0; c->hits && c->xy && k < d->n; k++) {
        const tteam *t = &d->t[k];
        if (!t->alive || !t->has_pos || !(o->status_mask & (1u << t->status))) continue;
        double dx = t->x - qx, dy = t->y - qy;
        if (o->max_m > 0 && sqrt(dx * dx + dy * dy) > o->max_m) continue;
        if (!o->include_stale && (t->updated_at == NO_TIME || o->now - t->updated_at > o->stale_s))
            continue;
        if (o->keep && !o->keep(o->keep_user, t->x, t->y)) continue;
        dsp_fill_hit(o->stale_s, t, qx, qy, o->now, &c->hits[c->n], o);
        c->xy[2 * c->n] = same_crs ? t->x : NAN, c->xy[2 * c->n + 1] = same_crs ? t->y : NAN;
        c->n++;
    }
    pthread_rwlock_unlock(&d->lock);
    (void)ctx;
    return c->hits && c->xy ? GW_OK : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
}

/* Snap the candidates and rank them; out/n/lost as gw_dispatch_nearest_eta's. */
static gw_status rank(gw_ctx *ctx, const gw_road_graph *g, gw_road_search *s,
                      const gw_road_snap *ds, const cand *c, double snap_max_m, size_t k,
                      gw_team_eta *out, size_t *n, size_t *lost)
{
    size_t cap = c->n ? c->n : 1;
    gw_road_snap *snaps = calloc(cap, sizeof *snaps);
    size_t *of = malloc(cap * sizeof *of);
    gw_road_eta *etas = malloc(k * sizeof *etas);
    if (!snaps || !of || !etas) {
        free(snaps), free(of), free(etas);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    size_t ns = 0, off = 0;
    for (size_t i = 0; i < c->n; i++) { /* those off every road cannot be ranked */
        double x = c->xy[2 * i], y = c->xy[2 * i + 1];
        if (isnan(x) && gw_road_graph_to_metric(ctx, g, c->hits[i].lon, c->hits[i].lat, &x, &y)) {
            off++;
            continue;
        }
        if (gw_road_snap_point(g, x, y, snap_max_m, &snaps[ns]) != GW_OK) {
            off++;
            continue;
        }
        of[ns++] = i;
    }
    size_t got = 0;
    gw_status st = gw_road_nearest(s, ds, snaps, ns, k < ns ? k : ns, etas, &got);
    for (size_t j = 0; !st && j < got; j++) {
        size_t i = of[etas[j].source];
        out[j] = (gw_team_eta){c->hits[i], etas[j].eta_s, etas[j].route_m,
                               snaps[etas[j].source].dist_m, etas[j].source};
    }
    *n = st ? 0 : got;
    /* off the roads, or never settled though the search ran out before k */
    *lost = off + (got < k && got < ns ? ns - got : 0);
    free(snaps), free(of), free(etas);
    return st;
}

gw_status gw_dispatch_nearest_eta(gw_ctx *ctx, gw_dispatch *d, const gw_road_graph *g,
                                  gw_road_search *s, double lon, double lat,
                                  const gw_nearest_opts *opts, double snap_max_m, gw_team_eta *out,
                                  size_t *n, size_t *unreachable, gw_road_snap *dest)
{
    *n = 0;
    if (unreachable) *unreachable = 0;
    if (!d || !g || !s) return gw_ctx_error(ctx, GW_ERR_ARG, "nearest by road: no graph");
    gw_nearest_opts o = opts ? *opts : (gw_nearest_opts){0};
    if (!o.k) o.k = 5;
    if (o.k > 256) return gw_ctx_error(ctx, GW_ERR_RANGE, "k = %zu is above the limit of 256", o.k);
    if (!o.status_mask) o.status_mask = 1u << GW_TEAM_AVAILABLE;
    if (!o.now) o.now = (int64_t)time(NULL);
    if (o.stale_s <= 0) o.stale_s = d->stale_s;
    if (!gw_road_graph_arcs(g))
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "the road layer is empty: import roads first");
    double px, py, qx, qy;
    gw_status st = gw_road_graph_to_metric(ctx, g, lon, lat, &px, &py);
    if (!st) st = gw_dispatch_to_metric(ctx, d, lon, lat, &qx, &qy);
    if (st) return st;
    gw_road_snap ds;
    if (gw_road_snap_point(g, px, py, snap_max_m, &ds) != GW_OK)
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no road within %g m of the point", snap_max_m);
    if (dest) *dest = ds;
    int same_crs = gw_road_graph_srid(g) == gw_model_metric_srid(d->model);
    size_t got = 0, lost = 0;
    /* the NEAR nearest in a straight line first */
    gw_nearest_opts on = o;
    on.k = NEAR;
    cand c = {malloc(NEAR * sizeof *c.hits), malloc(NEAR * 2 * sizeof *c.xy), 0};
    if (!c.hits || !c.xy) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (!st) st = gw_dispatch_nearest(ctx, d, qx, qy, &on, c.hits, &c.n, NULL);
    for (size_t i = 0; !st && i < c.n; i++) c.xy[2 * i] = c.xy[2 * i + 1] = NAN;
    if (!st) st = rank(ctx, g, s, &ds, &c, snap_max_m, o.k, out, &got, &lost);
    int exact = !st && c.n < NEAR; /* every candidate was in the set */
    if (!st && !exact && got == o.k && snap_max_m > 0) {
        double vmax = gw_road_graph_max_speed(g);
        double bound = (c.hits[NEAR - 1].distance_m - snap_max_m - ds.dist_m) / vmax;
        exact = vmax > 0 && out[o.k - 1].eta_s <= bound;
    }
    free(c.hits), free(c.xy);
    if (!st && !exact) { /* rank them all */
        cand a = {0};
        st = all_candidates(ctx, d, &o, qx, qy, same_crs, &a);
        if (!st) st = rank(ctx, g, s, &ds, &a, snap_max_m, o.k, out, &got, &lost);
        free(a.hits), free(a.xy);
    }
    if (st) return st;
    *n = got;
    if (unreachable) *unreachable = lost;
    return GW_OK;
}
