/* dispatch_eta.c — nearest teams by travel time on the road graph (dispatch.h,
 * gw_dispatch_nearest_eta): the candidates are copied out of the team table under its read
 * lock, snapped to the roads outside it, then one backward Dijkstra from the point settles
 * them in order of arrival (geo/road).  The search work space and the snaps are the caller's
 * and this call's, so readers never wait on each other. */
#include "dispatch_internal.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

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
    /* the candidates, copied under the lock */
    pthread_rwlock_rdlock(&d->lock);
    size_t cap = d->n ? d->n : 1, nc = 0;
    gw_team_hit *hits = malloc(cap * sizeof *hits);
    double *tx = malloc(cap * 2 * sizeof *tx);
    if (hits && tx)
        for (size_t k = 0; k < d->n; k++) {
            const tteam *t = &d->t[k];
            if (!t->alive || !t->has_pos || !(o.status_mask & (1u << t->status))) continue;
            double dx = t->x - qx, dy = t->y - qy;
            if (o.max_m > 0 && sqrt(dx * dx + dy * dy) > o.max_m) continue;
            if (!o.include_stale && (t->updated_at == NO_TIME || o.now - t->updated_at > o.stale_s))
                continue;
            if (o.keep && !o.keep(o.keep_user, t->x, t->y)) continue;
            dsp_fill_hit(o.stale_s, t, qx, qy, o.now, &hits[nc], &o);
            tx[2 * nc] = t->x, tx[2 * nc + 1] = t->y;
            nc++;
        }
    pthread_rwlock_unlock(&d->lock);
    gw_road_snap *snaps = malloc(cap * sizeof *snaps);
    size_t *of = malloc(cap * sizeof *of);
    gw_road_eta *etas = malloc(o.k * sizeof *etas);
    if (!hits || !tx || !snaps || !of || !etas) {
        free(hits), free(tx), free(snaps), free(of), free(etas);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    size_t ns = 0, lost = 0;
    for (size_t i = 0; i < nc; i++) { /* snap each candidate; those off every road are lost */
        double x = tx[2 * i], y = tx[2 * i + 1];
        if (!same_crs && gw_road_graph_to_metric(ctx, g, hits[i].lon, hits[i].lat, &x, &y)) {
            lost++;
            continue;
        }
        if (gw_road_snap_point(g, x, y, snap_max_m, &snaps[ns]) != GW_OK) {
            lost++;
            continue;
        }
        of[ns++] = i;
    }
    size_t got = 0;
    st = gw_road_nearest(s, &ds, snaps, ns, o.k < ns ? o.k : ns, etas, &got);
    for (size_t j = 0; !st && j < got; j++) {
        size_t i = of[etas[j].source];
        out[j] = (gw_team_eta){hits[i], etas[j].eta_s, etas[j].route_m,
                               snaps[etas[j].source].dist_m, etas[j].source};
    }
    if (!st) {
        *n = got;
        /* candidates the search could not rank: off the roads, or settled never (when it ran
         * out before k) */
        if (unreachable) *unreachable = lost + (got < o.k && got < ns ? ns - got : 0);
    }
    free(hits), free(tx), free(of), free(etas), free(snaps);
    return st;
}
