/* reach_grids.c — per grid, the share of its area a police room reaches by road within 3, 5
 * and 10 minutes (reach.h): one search per room up to 10 minutes merged into the least time
 * per node, the pieces of each band indexed in a bucket grid, then per grid the pieces near
 * it buffered, intersected with the grid and measured, on worker threads.  The clipped
 * polygons are kept in EPSG:3857 (simplified to 2 m) for the isochrones tile layer. */
#include "reach_internal.h"

#include "gridwatch/crs.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const double band_min[GW_REACH_GRID_BANDS] = {3, 5, 10};

double gw_reach_grid_minutes(size_t band)
{
    return band < GW_REACH_GRID_BANDS ? band_min[band] : NAN;
}

#define CELL_M 500.0
#define SIMPLIFY_M 2.0

struct gw_reach_grids {
    size_t n;
    int64_t graph_seq, rooms_seq, grids_seq;
    double *share[GW_REACH_GRID_BANDS]; /* per band, per row */
    GEOSGeometry **geom;                /* n * bands, EPSG:3857 */
    gw_bbox *env;
    double seconds;
};

typedef struct job {
    size_t n;
    double *share;       /* n * bands */
    GEOSGeometry **geom; /* n * bands, EPSG:3857; NULL: shares only */
    gw_bbox *env;
    const GEOSGeometry *const *grids;
    rc_bucket *bk;
    gw_reach_opts o;
    int srid;
    pthread_mutex_t lock;
    size_t next;
    gw_status st;
    char msg[256];
} job;

static void job_fail(job *j, gw_status st, const char *msg)
{
    pthread_mutex_lock(&j->lock);
    if (!j->st) {
        j->st = st;
        snprintf(j->msg, sizeof j->msg, "%s", msg);
    }
    pthread_mutex_unlock(&j->lock);
}

static void *work(void *arg)
{
    job *j = arg;
    gw_ctx *ctx = NULL;
    gw_crs_transform *tr = NULL;
    uint32_t *stamp[GW_REACH_GRID_BANDS] = {0};
    size_t *which = NULL, cap = 0;
    if (gw_ctx_create(&ctx) ||
        (j->geom && gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, j->srid},
                                            (gw_crs){GW_CRS_EPSG, 3857}, &tr))) {
        job_fail(j, GW_ERR_CRS, ctx ? gw_ctx_errmsg(ctx) : "no context");
        goto done;
    }
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
        if (!(stamp[b] = calloc(j->bk[b].p.n + 1, sizeof *stamp[b]))) {
            job_fail(j, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (uint32_t mark = 1;; mark++) {
        pthread_mutex_lock(&j->lock);
        size_t r = j->next++;
        int stop = j->st != GW_OK;
        pthread_mutex_unlock(&j->lock);
        if (stop || r >= j->n) break;
        double *share = j->share + r * GW_REACH_GRID_BANDS;
        const GEOSGeometry *gm = j->grids[r];
        double ga = 0, x0, y0, x1, y1;
        if (!gm || !GEOSArea_r(h, gm, &ga) || !GEOSGeom_getXMin_r(h, gm, &x0) ||
            !GEOSGeom_getYMin_r(h, gm, &y0) || !GEOSGeom_getXMax_r(h, gm, &x1) ||
            !GEOSGeom_getYMax_r(h, gm, &y1)) {
            for (int b = 0; b < GW_REACH_GRID_BANDS; b++) share[b] = NAN;
            continue;
        }
        double w = j->o.width_m;
        gw_bbox box = {x0 - w, y0 - w, x1 + w, y1 + w};
        for (int b = 0; b < GW_REACH_GRID_BANDS; b++) {
            size_t m = rc_bucket_near(&j->bk[b], &box, stamp[b], mark, &which, &cap);
            if (m == (size_t)-1) {
                job_fail(j, GW_ERR_NOMEM, "out of memory");
                goto done;
            }
            share[b] = ga > 0 ? 0 : NAN;
            if (!m) continue;
            GEOSGeometry *buf = rc_buffer(h, &j->bk[b].p, which, m, &box, w, j->o.quad_segs);
            GEOSGeometry *in = buf ? GEOSIntersection_r(h, gm, buf) : NULL;
            if (buf) GEOSGeom_destroy_r(h, buf);
            double a = 0;
            if (!in || !GEOSArea_r(h, in, &a)) {
                if (in) GEOSGeom_destroy_r(h, in);
                job_fail(j, GW_ERR_GEOMETRY, gw_ctx_geos_errmsg(ctx));
                goto done;
            }
            if (ga > 0) share[b] = fmin(1, a / ga);
            if (a > 0 && j->geom) {
                GEOSGeometry *sm = GEOSTopologyPreserveSimplify_r(h, in, SIMPLIFY_M);
                GEOSGeometry *mc = sm ? gw_crs_transform_geom(tr, sm) : NULL;
                if (sm) GEOSGeom_destroy_r(h, sm);
                if (mc) {
                    gw_bbox *e = &j->env[r * GW_REACH_GRID_BANDS + b];
                    GEOSGeom_getXMin_r(h, mc, &e->minx), GEOSGeom_getYMin_r(h, mc, &e->miny);
                    GEOSGeom_getXMax_r(h, mc, &e->maxx), GEOSGeom_getYMax_r(h, mc, &e->maxy);
                    j->geom[r * GW_REACH_GRID_BANDS + b] = mc;
                }
            }
            GEOSGeom_destroy_r(h, in);
        }
    }
done:
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++) free(stamp[b]);
    free(which);
    gw_crs_transform_destroy(tr);
    gw_ctx_destroy(ctx);
    return NULL;
}

gw_status gw_reach_grids_from_shares(gw_ctx *ctx, size_t n, const double *share, int64_t graph_seq,
                                     int64_t rooms_seq, int64_t grids_seq, gw_reach_grids **out)
{
    *out = NULL;
    if (n && !share) return gw_ctx_error(ctx, GW_ERR_ARG, "no shares");
    gw_reach_grids *t = calloc(1, sizeof *t);
    if (!t) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    t->n = n, t->graph_seq = graph_seq, t->rooms_seq = rooms_seq, t->grids_seq = grids_seq;
    t->geom = calloc(n * GW_REACH_GRID_BANDS + 1, sizeof *t->geom);
    t->env = calloc(n * GW_REACH_GRID_BANDS + 1, sizeof *t->env);
    int ok = t->geom && t->env;
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
        if (!(t->share[b] = malloc((n + 1) * sizeof *t->share[b]))) ok = 0;
    if (!ok) {
        gw_reach_grids_destroy(ctx, t);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
            t->share[b][i] = share[i * GW_REACH_GRID_BANDS + b];
    *out = t;
    return GW_OK;
}

void gw_reach_grids_destroy(gw_ctx *ctx, gw_reach_grids *t)
{
    if (!t) return;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    if (t->geom)
        for (size_t i = 0; i < t->n * GW_REACH_GRID_BANDS; i++)
            if (t->geom[i]) GEOSGeom_destroy_r(h, t->geom[i]);
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++) free(t->share[b]);
    free(t->geom), free(t->env), free(t);
}

size_t gw_reach_grids_count(const gw_reach_grids *t) { return t ? t->n : 0; }
int64_t gw_reach_grids_graph_seq(const gw_reach_grids *t) { return t ? t->graph_seq : -1; }
int64_t gw_reach_grids_rooms_seq(const gw_reach_grids *t) { return t ? t->rooms_seq : -1; }
int64_t gw_reach_grids_grids_seq(const gw_reach_grids *t) { return t ? t->grids_seq : -1; }
double gw_reach_grids_seconds(const gw_reach_grids *t) { return t ? t->seconds : 0; }
const double *gw_reach_grids_share(const gw_reach_grids *t, size_t b)
{
    return t && b < GW_REACH_GRID_BANDS ? t->share[b] : NULL;
}
const GEOSGeometry *gw_reach_grids_geom(const gw_reach_grids *t, size_t row, size_t b)
{
    return t && row < t->n && b < GW_REACH_GRID_BANDS ? t->geom[row * GW_REACH_GRID_BANDS + b]
                                                      : NULL;
}
gw_bbox gw_reach_grids_env(const gw_reach_grids *t, size_t row, size_t b)
{
    if (!t || row >= t->n || b >= GW_REACH_GRID_BANDS) return (gw_bbox){0, 0, 0, 0};
    return t->env[row * GW_REACH_GRID_BANDS + b];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The least time from any room (metric x, y pairs) to every node, up to tmax, and the rooms'
 * snaps. */
static gw_status room_times(gw_ctx *ctx, const gw_road_graph *g, const double *room_xy, size_t nr,
                            const gw_reach_opts *o, double tmax, double *best, gw_road_snap **snaps,
                            size_t *nsnap)
{
    size_t nn = gw_road_graph_nodes(g);
    for (size_t v = 0; v < nn; v++) best[v] = INFINITY;
    *snaps = NULL, *nsnap = 0;
    if (!nn || !nr) return GW_OK;
    gw_road_search *s = NULL;
    gw_status st = gw_road_search_create(ctx, g, &s);
    if (st) return st;
    if (!(*snaps = malloc(nr * sizeof **snaps))) {
        gw_road_search_destroy(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < nr && !st; r++) {
        gw_road_snap sn;
        if (gw_road_snap_point(g, room_xy[2 * r], room_xy[2 * r + 1], o->max_snap_m, &sn)) continue;
        (*snaps)[(*nsnap)++] = sn;
        if ((st = gw_road_times(s, &sn, 0, tmax))) break;
        for (size_t v = 0; v < nn; v++) {
            double t = gw_road_search_node_time(s, (uint32_t)v);
            if (t < best[v]) best[v] = t;
        }
    }
    gw_road_search_destroy(s);
    return st;
}

/* The shares (and with geom, the clipped polygons) of grids[0..n). */
static gw_status shares(gw_ctx *ctx, const gw_road_graph *g, const double *room_xy, size_t nrooms,
                        const GEOSGeometry *const *grids, size_t n, const gw_reach_opts *opts,
                        int threads, double *share, GEOSGeometry **geom, gw_bbox *env)
{
    gw_reach_opts o = rc_opts(opts);
    size_t nn = gw_road_graph_nodes(g);
    gw_status st = GW_OK;
    double *best = malloc((nn + 1) * sizeof *best);
    gw_road_snap *snaps = NULL;
    size_t nsnap = 0;
    rc_bucket bk[GW_REACH_GRID_BANDS];
    memset(bk, 0, sizeof bk);
    if (!best) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    double tmax = band_min[GW_REACH_GRID_BANDS - 1] * 60;
    if ((st = room_times(ctx, g, room_xy, nrooms, &o, tmax, best, &snaps, &nsnap))) goto end;
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
        if (nn && (rc_pieces_build(g, best, snaps, nsnap, band_min[b] * 60, &bk[b].p) ||
                   rc_bucket_index(&bk[b], CELL_M))) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            goto end;
        }
    job j = {.n = n,
             .share = share,
             .geom = geom,
             .env = env,
             .grids = grids,
             .bk = bk,
             .o = o,
             .srid = nn ? gw_road_graph_srid(g) : 4326};
    pthread_mutex_init(&j.lock, NULL);
    int nt = threads > 1 ? (threads > 16 ? 16 : threads) : 1;
    pthread_t th[16];
    int started = 0;
    for (int i = 1; i < nt; i++)
        if (pthread_create(&th[i], NULL, work, &j) == 0) started++;
        else break;
    work(&j);
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j.lock);
    if (j.st) st = gw_ctx_error(ctx, j.st, "grid reach: %s", j.msg);
end:
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++) rc_bucket_free(&bk[b]);
    free(best), free(snaps);
    return st;
}

gw_status gw_reach_shares(gw_ctx *ctx, const gw_road_graph *g, const double *room_xy, size_t nrooms,
                          const GEOSGeometry *const *grids, size_t n, const gw_reach_opts *opts,
                          int threads, double *share)
{
    if (!g || (n && (!grids || !share)))
        return gw_ctx_error(ctx, GW_ERR_ARG, "no graph, grids or output");
    return shares(ctx, g, room_xy, nrooms, grids, n, opts, threads, share, NULL, NULL);
}

gw_status gw_reach_grids_compute(gw_ctx *ctx, const gw_road_graph *g, const gw_layer_data *rooms,
                                 const gw_layer_data *grids, int metric_srid,
                                 const gw_reach_opts *opts, int threads, gw_reach_grids **out)
{
    *out = NULL;
    if (!g || !grids) return gw_ctx_error(ctx, GW_ERR_ARG, "no graph or no grids");
    double t0 = now_s();
    size_t n = gw_layer_data_count(grids), nn = gw_road_graph_nodes(g),
           nr = rooms ? gw_layer_data_count(rooms) : 0;
    if (nn && n && metric_srid != gw_road_graph_srid(g))
        return gw_ctx_error(ctx, GW_ERR_CRS, "the road graph is in EPSG:%d, the grids in EPSG:%d",
                            gw_road_graph_srid(g), metric_srid);
    gw_reach_grids *t = calloc(1, sizeof *t);
    if (!t) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    t->n = n, t->graph_seq = gw_road_graph_seq(g);
    t->rooms_seq = rooms ? gw_layer_data_seq(rooms) : 0, t->grids_seq = gw_layer_data_seq(grids);
    gw_status st = GW_OK;
    double *sh = malloc((n * GW_REACH_GRID_BANDS + 1) * sizeof *sh),
           *xy = malloc((2 * nr + 1) * sizeof *xy);
    const GEOSGeometry **gm = malloc((n + 1) * sizeof *gm);
    t->geom = calloc(n * GW_REACH_GRID_BANDS + 1, sizeof *t->geom);
    t->env = calloc(n * GW_REACH_GRID_BANDS + 1, sizeof *t->env);
    for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
        if (!(t->share[b] = calloc(n + 1, sizeof *t->share[b]))) st = GW_ERR_NOMEM;
    if (st || !t->geom || !t->env || !sh || !xy || !gm) {
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        goto end;
    }
    const double *lx = nr ? gw_layer_data_x(rooms, GW_MODEL_LONLAT) : NULL,
                 *ly = nr ? gw_layer_data_y(rooms, GW_MODEL_LONLAT) : NULL;
    for (size_t r = 0; nn && r < nr && !st; r++)
        st = gw_road_graph_to_metric(ctx, g, lx[r], ly[r], &xy[2 * r], &xy[2 * r + 1]);
    for (size_t i = 0; i < n; i++) gm[i] = gw_layer_data_geom(grids, i, GW_MODEL_METRIC);
    int polys = !(opts && opts->shares_only);
    if (!st)
        st = shares(ctx, g, xy, nn ? nr : 0, gm, n, opts, threads, sh, polys ? t->geom : NULL,
                    t->env);
    for (size_t i = 0; !st && i < n; i++)
        for (int b = 0; b < GW_REACH_GRID_BANDS; b++)
            t->share[b][i] = sh[i * GW_REACH_GRID_BANDS + b];
end:
    free(sh), free(xy), free(gm);
    if (st) {
        gw_reach_grids_destroy(ctx, t);
        return st;
    }
    t->seconds = now_s() - t0;
    *out = t;
    return GW_OK;
}
