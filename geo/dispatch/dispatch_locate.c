/* dispatch_locate.c — what lies at a point for a dispatcher: its grid, the nearest police rooms
 * and the cameras whose view covers it, with geodesic distances and true bearings. */
#include "dispatch_internal.h"

#include "gridwatch/coverage.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/store_dispatch.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- locate -------------------------------------------------------------------------------- */

/* Keep the `cap` best hits (ascending distance, then row) of a stream. */
static void keep_best(gw_dispatch_hit *h, size_t cap, size_t *n, size_t row, double dist,
                      double bearing)
{
    if (!cap) return;
    if (*n == cap &&
        !(dist < h[cap - 1].distance_m || (dist == h[cap - 1].distance_m && row < h[cap - 1].row)))
        return;
    size_t i = *n < cap ? (*n)++ : cap - 1;
    while (i > 0 &&
           (dist < h[i - 1].distance_m || (dist == h[i - 1].distance_m && row < h[i - 1].row))) {
        h[i] = h[i - 1];
        i--;
    }
    h[i] = (gw_dispatch_hit){row, dist, bearing};
}

static double bearing_of(double dx, double dy)
{
    return (dx == 0 && dy == 0) ? 0 : fmod(atan2(dx, dy) * DEG + 360.0, 360.0);
}

typedef struct camq {
    const gw_layer_data *L;
    const double *cx, *cy, *az, *fov, *rg;
    const double *conv, *scale, *clon, *clat; /* per camera: view factors and lon/lat */
    double lon, lat;
    const uint8_t *naz, *nfov, *nrg;
    int fstatus;
    double x, y;
    gw_dispatch_hit *out;
    size_t cap, n, total;
} camq;

static int cam_visit(void *user, size_t r)
{
    camq *q = user;
    if (!q->rg || (q->nrg && q->nrg[r]) || !(q->rg[r] > 0)) return 0;
    double dx = q->x - q->cx[r], dy = q->y - q->cy[r], dd = sqrt(dx * dx + dy * dy);
    /* The view in the metric CRS, as coverage draws it: the true azimuth less the meridian
     * convergence, the ground range times the scale at the camera. */
    double rg = q->rg[r] * (q->scale ? q->scale[r] : 1);
    if (dd > rg) return 0;
    const char *s = gw_layer_data_text(q->L, r, q->fstatus);
    if (s && strcasecmp(s, "offline") == 0) return 0;
    double f = (!q->fov || (q->nfov && q->nfov[r])) ? 360 : q->fov[r];
    if (!(f > 0)) return 0;
    /* The same view polygon as the coverage engine (gw_coverage_sector), so "cameras that see
     * this point" agrees with /dispatch/cameras and the coverage figures. */
    double a = ((!q->az || (q->naz && q->naz[r])) ? 0 : q->az[r]) - (q->conv ? q->conv[r] : 0);
    if (!gw_coverage_sector_contains(q->cx[r], q->cy[r], a, f, rg, q->x, q->y)) return 0;
    q->total++;
    double b = gw_geodesic_azimuth(q->lon, q->lat, q->clon[r], q->clat[r]);
    keep_best(q->out, q->cap, &q->n, r, dd, isfinite(b) ? b : bearing_of(-dx, -dy));
    return 0;
}

/* Largest camera range of a cameras layer (cached per layer version). */
static double cam_max_range(gw_dispatch *d, const gw_layer_data *L)
{
    pthread_mutex_lock(&d->cam_lock);
    if (d->cam_layer != L || d->cam_seq != gw_layer_data_seq(L)) {
        int f = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
        const double *rg = gw_layer_data_reals(L, f), *k = gw_layer_data_view_factors(L, 1);
        const uint8_t *nr = gw_layer_data_nulls(L, f);
        double m = 0;
        for (size_t r = 0, n = gw_layer_data_count(L); rg && r < n; r++)
            if (!(nr && nr[r]) && rg[r] * (k ? k[r] : 1) > m) m = rg[r] * (k ? k[r] : 1);
        d->cam_layer = L, d->cam_seq = gw_layer_data_seq(L), d->cam_max = m;
    }
    double m = d->cam_max;
    pthread_mutex_unlock(&d->cam_lock);
    return m;
}

gw_status gw_dispatch_locate(gw_ctx *ctx, gw_dispatch *d, const gw_model_snapshot *snap, double lon,
                             double lat, gw_dispatch_hit *rooms, size_t room_cap,
                             gw_dispatch_hit *cameras, size_t cam_cap, gw_locate *out)
{
    memset(out, 0, sizeof *out);
    out->grid = -1;
    gw_status st = gw_dispatch_to_metric(ctx, d, lon, lat, &out->x, &out->y);
    if (st) return st;
    double x = out->x, y = out->y;
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    if (G && gw_layer_data_count(G) > 0) {
        st = gw_layer_data_grid_at(ctx, G, x, y, &out->grid);
        if (st) return st;
    }
    /* Police rooms: metric candidates, then the geodesic order incidents use. */
    const gw_layer_data *R = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS);
    if (R && room_cap && gw_layer_data_count(R) > 0) {
        size_t rows[64], m = 0;
        double dists[64];
        size_t want = room_cap + 8 < 64 ? room_cap + 8 : 64;
        gw_layer_data_nearest(R, x, y, want, 0, NULL, NULL, rows, dists, &m);
        /* Geodesic and GK-planar distances differ by < 0.1 %: widen the candidate set so the
         * geodesic order of the first room_cap rooms is exact. */
        if (m == want) {
            double lim = dists[room_cap - 1 < m ? room_cap - 1 : m - 1] * 1.002 + 1;
            gw_layer_data_nearest(R, x, y, 64, lim, NULL, NULL, rows, dists, &m);
        }
        const double *rl = gw_layer_data_x(R, GW_MODEL_LONLAT),
                     *rt = gw_layer_data_y(R, GW_MODEL_LONLAT);
        const double *rx = gw_layer_data_x(R, GW_MODEL_METRIC),
                     *ry = gw_layer_data_y(R, GW_MODEL_METRIC);
        for (size_t i = 0; i < m; i++) {
            size_t r = rows[i];
            double g = gw_geodesic_distance(lon, lat, rl[r], rt[r]);
            double b = gw_geodesic_azimuth(lon, lat, rl[r], rt[r]);
            keep_best(rooms, room_cap, &out->n_rooms, r, g,
                      isfinite(b) ? b : bearing_of(rx[r] - x, ry[r] - y));
        }
    }
    const gw_layer_data *C = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    if (C && gw_layer_data_count(C) > 0) {
        double mr = cam_max_range(d, C);
        if (mr > 0) {
            int faz = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth");
            int ffov = gw_layer_field_index(GW_LAYER_CAMERAS, "fov");
            int frg = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
            camq q = {C,
                      gw_layer_data_x(C, GW_MODEL_METRIC),
                      gw_layer_data_y(C, GW_MODEL_METRIC),
                      gw_layer_data_reals(C, faz),
                      gw_layer_data_reals(C, ffov),
                      gw_layer_data_reals(C, frg),
                      gw_layer_data_view_factors(C, 0),
                      gw_layer_data_view_factors(C, 1),
                      gw_layer_data_x(C, GW_MODEL_LONLAT),
                      gw_layer_data_y(C, GW_MODEL_LONLAT),
                      lon,
                      lat,
                      gw_layer_data_nulls(C, faz),
                      gw_layer_data_nulls(C, ffov),
                      gw_layer_data_nulls(C, frg),
                      gw_layer_field_index(GW_LAYER_CAMERAS, "status"),
                      x,
                      y,
                      cameras,
                      cam_cap,
                      0,
                      0};
            gw_bbox b = {x - mr, y - mr, x + mr, y + mr};
            gw_layer_data_query_points(C, &b, cam_visit, &q);
            out->n_cameras = q.n;
            out->cameras_total = q.total;
        }
    }
    return GW_OK;
}
