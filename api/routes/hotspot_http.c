/* hotspot_http.c — hot spots over HTTP: parses the shared options (hotspot_query.c)
 * (weights, value, time window, category, severity, FDR), runs geo/hotspot.c and geo/kde.c on
 * the live model and writes CSV, JSON, GeoTIFF or contours.  Spatial weights are cached per grid
 * version (a queen build on 12,864 grids takes about a second) and dropped when grids change. */
#include "hotspot_http.h"

#include "auth.h"
#include "scope_http.h"
#include "heatmap_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "hotspot_query.h"
#include "gridwatch/crs.h"
#include "gridwatch/emerging.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/kde.h"
#include "gridwatch/lisa.h"
#include "http_util.h"
#include "problem.h"

/* ---- module state: cached weights and incident grids --------------------------------------- */

typedef struct wentry {
    gw_weights_opts o;
    int64_t gseq;
    size_t n;
    gw_weights *w;
    int refs; /* the cache holds one */
    double seconds;
} wentry;

typedef struct ientry {
    int64_t iseq, gseq;
    size_t n;
    int32_t *rows;
    int refs;
} ientry;

enum { W_SLOTS = 4 };

struct gw_hotspots {
    gw_live *live;
    pthread_mutex_t mu;
    wentry *w[W_SLOTS];
    ientry *inc;
    gw_heat *heat; /* heat map tile cache (heatmap_http.c) */
    /* the default run behind the tile fields, followed incrementally (one run at a time) */
    pthread_mutex_t dmu;
    gw_hotspot_state *dflt;
    int dflt_full; /* gw_hotspots_set_incremental(hs, 0) */
};

gw_heat *gw_hotspots_heat(gw_hotspots *hs) { return hs ? hs->heat : NULL; }

static void wentry_unref(wentry *e)
{
    if (e && --e->refs == 0) {
        gw_weights_destroy(e->w);
        free(e);
    }
}

static void ientry_unref(ientry *e)
{
    if (e && --e->refs == 0) {
        free(e->rows);
        free(e);
    }
}

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    gw_hotspots *hs = user;
    int grids = 0, inc = 0;
    for (size_t i = 0; i < n; i++) {
        grids |= ch[i].layer == GW_LAYER_GRIDS || ch[i].layer == GW_LAYER_COUNT;
        inc |= ch[i].layer == GW_LAYER_INCIDENTS || ch[i].layer == GW_LAYER_COUNT;
    }
    pthread_mutex_lock(&hs->mu);
    if (grids)
        for (int k = 0; k < W_SLOTS; k++) {
            wentry_unref(hs->w[k]);
            hs->w[k] = NULL;
        }
    if (grids || inc) {
        ientry_unref(hs->inc);
        hs->inc = NULL;
    }
    pthread_mutex_unlock(&hs->mu);
    if (inc) gw_heat_changes(hs->heat, ch, n);
}

gw_status gw_hotspots_create(gw_ctx *ctx, gw_live *live, size_t heat_budget, gw_hotspots **out)
{
    *out = NULL;
    gw_hotspots *hs = calloc(1, sizeof *hs);
    if (!hs) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&hs->mu, NULL);
    pthread_mutex_init(&hs->dmu, NULL);
    hs->live = live;
    gw_status st = gw_heat_create(ctx, heat_budget, &hs->heat);
    if (!st && live) st = gw_live_listen(live, on_changes, hs);
    if (st) {
        gw_hotspots_destroy(hs);
        return st;
    }
    *out = hs;
    return GW_OK;
}

void gw_hotspots_destroy(gw_hotspots *hs)
{
    if (!hs) return;
    for (int k = 0; k < W_SLOTS; k++) wentry_unref(hs->w[k]);
    ientry_unref(hs->inc);
    gw_heat_destroy(hs->heat);
    if (hs->dflt) { /* its snapshot is released with a GEOS handle of this thread */
        gw_ctx *c = NULL;
        if (gw_ctx_create(&c) == GW_OK) gw_hotspot_state_destroy(c, hs->dflt);
        gw_ctx_destroy(c);
    }
    pthread_mutex_destroy(&hs->mu);
    pthread_mutex_destroy(&hs->dmu);
    free(hs);
}

static int same_opts(const gw_weights_opts *a, const gw_weights_opts *b)
{
    return a->kind == b->kind && a->snap == b->snap && a->distance == b->distance && a->k == b->k;
}

/* Weights for the grids of `g` (cached); release with wentry_unref under the lock. */
static gw_status get_weights(gw_hotspots *hs, gw_ctx *ctx, const gw_layer_data *g,
                             const gw_weights_opts *o, wentry **out)
{
    int64_t gseq = gw_layer_data_seq(g);
    size_t n = gw_layer_data_count(g);
    pthread_mutex_lock(&hs->mu);
    for (int k = 0; k < W_SLOTS; k++) {
        wentry *e = hs->w[k];
        if (e && e->gseq == gseq && e->n == n && same_opts(&e->o, o)) {
            e->refs++;
            pthread_mutex_unlock(&hs->mu);
            *out = e;
            return GW_OK;
        }
    }
    pthread_mutex_unlock(&hs->mu);
    wentry *e = calloc(1, sizeof *e);
    if (!e) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    double t0 = gw_mono_s();
    gw_status st = gw_weights_from_grids(ctx, g, o, &e->w);
    if (st) {
        free(e);
        return st;
    }
    e->seconds = gw_mono_s() - t0;
    e->o = *o, e->gseq = gseq, e->n = n, e->refs = 2; /* the cache's and the caller's */
    pthread_mutex_lock(&hs->mu);
    wentry_unref(hs->w[W_SLOTS - 1]);
    memmove(hs->w + 1, hs->w, (W_SLOTS - 1) * sizeof *hs->w);
    hs->w[0] = e;
    pthread_mutex_unlock(&hs->mu);
    *out = e;
    return GW_OK;
}

static gw_status get_inc(gw_hotspots *hs, gw_ctx *ctx, const gw_layer_data *g,
                         const gw_layer_data *inc, ientry **out)
{
    int64_t gseq = gw_layer_data_seq(g), iseq = gw_layer_data_seq(inc);
    size_t n = gw_layer_data_count(inc);
    pthread_mutex_lock(&hs->mu);
    ientry *e = hs->inc;
    if (e && e->gseq == gseq && e->iseq == iseq && e->n == n) {
        e->refs++;
        pthread_mutex_unlock(&hs->mu);
        *out = e;
        return GW_OK;
    }
    pthread_mutex_unlock(&hs->mu);
    e = calloc(1, sizeof *e);
    if (e) e->rows = malloc((n ? n : 1) * sizeof *e->rows);
    if (!e || !e->rows) {
        free(e);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    gw_status st = gw_hotspot_incident_grids(ctx, g, inc, e->rows);
    if (st) {
        free(e->rows);
        free(e);
        return st;
    }
    e->gseq = gseq, e->iseq = iseq, e->n = n, e->refs = 2;
    pthread_mutex_lock(&hs->mu);
    ientry_unref(hs->inc);
    hs->inc = e;
    pthread_mutex_unlock(&hs->mu);
    *out = e;
    return GW_OK;
}

static void release(gw_hotspots *hs, wentry *w, ientry *i)
{
    pthread_mutex_lock(&hs->mu);
    wentry_unref(w);
    ientry_unref(i);
    pthread_mutex_unlock(&hs->mu);
}

gw_status gw_hotspots_incident_grids(gw_hotspots *hs, gw_ctx *ctx, const gw_model_snapshot *snap,
                                     const int32_t **rows, void **hold)
{
    *rows = NULL, *hold = NULL;
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!hs || !g || !inc) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no grids or incidents");
    ientry *e = NULL;
    gw_status st = get_inc(hs, ctx, g, inc, &e);
    if (st) return st;
    *rows = e->rows, *hold = e;
    return GW_OK;
}

void gw_hotspots_incident_grids_release(gw_hotspots *hs, void *hold)
{
    if (hs && hold) release(hs, NULL, hold);
}

/* The incident grids of the default run become the cache's (the routes' next request on the same
 * layers need not assign a million incidents again). */
static void publish_inc(gw_hotspots *hs, const gw_layer_data *g, const gw_layer_data *inc,
                        const int32_t *rows, size_t n)
{
    int64_t gseq = gw_layer_data_seq(g), iseq = gw_layer_data_seq(inc);
    pthread_mutex_lock(&hs->mu);
    ientry *e = hs->inc;
    int fresh = e && e->gseq == gseq && e->iseq == iseq && e->n == n;
    pthread_mutex_unlock(&hs->mu);
    if (fresh || !rows || n != gw_layer_data_count(inc)) return;
    e = calloc(1, sizeof *e);
    if (e) e->rows = malloc((n ? n : 1) * sizeof *e->rows);
    if (!e || !e->rows) {
        free(e);
        return; /* only a cache */
    }
    memcpy(e->rows, rows, n * sizeof *rows);
    e->gseq = gseq, e->iseq = iseq, e->n = n, e->refs = 1;
    pthread_mutex_lock(&hs->mu);
    ientry_unref(hs->inc);
    hs->inc = e;
    pthread_mutex_unlock(&hs->mu);
}

gw_status gw_hotspots_default(gw_hotspots *hs, gw_ctx *ctx, gw_model_snapshot *snap,
                              gw_hotspot_result **out)
{
    *out = NULL;
    if (!hs) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "the hotspot module is not running");
    hs_query q;
    hs_query_init(&q); /* the defaults of GET /analysis/hotspots */
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    wentry *we = NULL;
    gw_status st = get_weights(hs, ctx, g, &q.wo, &we);
    pthread_mutex_lock(&hs->dmu);
    if (!st && !hs->dflt) st = gw_hotspot_state_create(ctx, &q.ho, &hs->dflt);
    if (!st) {
        gw_hotspot_state_set_incremental(hs->dflt, !hs->dflt_full);
        st = gw_hotspot_state_update(ctx, hs->dflt, snap, we->w, out);
        if (!st || st == GW_ERR_RANGE) {
            size_t n = 0;
            const int32_t *rows = gw_hotspot_state_incident_grids(hs->dflt, &n);
            publish_inc(hs, g, inc, rows, n);
        }
    }
    pthread_mutex_unlock(&hs->dmu);
    release(hs, we, NULL);
    return st;
}

gw_hotspot_state_stats gw_hotspots_default_stats(gw_hotspots *hs)
{
    gw_hotspot_state_stats z = {0};
    if (!hs) return z;
    pthread_mutex_lock(&hs->dmu);
    z = gw_hotspot_state_get_stats(hs->dflt);
    pthread_mutex_unlock(&hs->dmu);
    return z;
}

void gw_hotspots_set_incremental(gw_hotspots *hs, int on)
{
    if (!hs) return;
    pthread_mutex_lock(&hs->dmu);
    hs->dflt_full = !on;
    pthread_mutex_unlock(&hs->dmu);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct hargs {
    gw_req *req;
    gw_ctx *ctx;
    hs_query *q;
} hargs;

static int http_arg(void *user, const char *key, const char *val)
{
    hargs *a = user;
    if (strcmp(key, "datetime") == 0) {
        gw_time_filter tf;
        char why[200];
        if (gw_parse_datetime(a->ctx, val, &tf, why, sizeof why)) {
            gw_req_problem(a->req, 400, NULL, "parameter 'datetime': %s", why);
            return 1;
        }
        a->q->ho.filter.has_from = tf.has_lo, a->q->ho.filter.from = tf.lo;
        a->q->ho.filter.has_to = tf.has_hi, a->q->ho.filter.to = tf.hi;
        return 0;
    }
    if (strcmp(key, "method") == 0 && strcmp(val, "gistar") != 0 && strcmp(val, "lisa") != 0 &&
        strcmp(val, "emerging") != 0) {
        gw_req_problem(
            a->req, 400, NULL,
            "parameter 'method': '%s' is not available; use gistar, lisa or emerging (kde: /analysis/kde)",
            val);
        return 1;
    }
    if (strcmp(key, "method") == 0)
        a->q->lisa = strcmp(val, "lisa") == 0, a->q->emerging = strcmp(val, "emerging") == 0;
    if (strcmp(key, "method") == 0 || strcmp(key, "f") == 0) return 0;
    int rc = hs_query_set(a->ctx, a->q, key, val, NULL);
    if (rc < 0) gw_req_problem(a->req, 400, NULL, "parameter '%s': %s", key, gw_ctx_errmsg(a->ctx));
    if (rc > 0) gw_req_problem(a->req, 400, NULL, "unknown parameter '%s'", key);
    return rc != 0;
}

static gw_hotspots *state(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_hotspots *hs = app ? app->modules[GW_APP_HOTSPOTS] : NULL;
    if (!hs) gw_req_problem(req, 503, NULL, "the hotspot module is not running in this server");
    return hs;
}

static int h_hotspots(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    hs_query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(hs->live));
    gw_scope *sc = NULL; /* a scoped token: the rows of its grids (computed city-wide) */
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    wentry *we = NULL;
    ientry *ie = NULL;
    gw_hotspot_result *r = NULL;
    gw_emerging_result *er = NULL;
    gw_status st = get_weights(hs, ctx, g, &q.wo, &we);
    if (!st) st = get_inc(hs, ctx, g, inc, &ie);
    gw_buf b = {0};
    if (!st && q.emerging) st = hs_run_emerging(ctx, &b, snap, g, we->w, ie->rows, &q, sc, &er);
    else if (!st) st = gw_hotspot_gistar(ctx, snap, we->w, ie->rows, &q.ho, &r);
    if (!st && q.lisa) st = hs_run_lisa(ctx, &b, g, r, &q, we->w, sc);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        if (!q.lisa && !q.emerging)
            hs_write_result(&b, g, r, &q, we->w, we->seconds, gw_snapshot_seq(snap), sc);
        if (b.oom)
            gw_req_problem(req, 503, NULL, "out of memory writing %zu grids",
                           gw_layer_data_count(g));
        else
            gw_req_respond(req, 200, q.csv ? "text/csv; charset=utf-8" : "application/json", b.data,
                           b.len);
    }
    gw_buf_free(&b);
    gw_hotspot_result_destroy(r);
    gw_emerging_result_destroy(er);
    release(hs, we, ie);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    return 0;
}

/* A jurisdiction's view of a city-wide density raster: the cells whose centre lies in none of
 * its grids are set to 0 (the density itself is the city's: near the border it counts the
 * neighbours' incidents within one bandwidth).  Returns how many filtered incidents lie in it. */
static size_t kde_mask(gw_ctx *ctx, gw_model_snapshot *snap, const gw_scope *sc,
                       const gw_incident_filter *f, gw_raster *r)
{
    for (size_t k = 0; k < r->nx * r->ny; k++) {
        double cx = r->x0 + ((double)(k % r->nx) + 0.5) * r->cell;
        double cy = r->y1 - ((double)(k / r->nx) + 0.5) * r->cell;
        if (!gw_scope_has_point(ctx, sc, cx, cy)) r->v[k] = 0;
    }
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    size_t n = 0;
    for (size_t i = 0; i < gw_layer_data_count(inc); i++)
        n += gw_incident_filter_match(inc, i, f) && gw_scope_has_row(ctx, sc, inc, i);
    return n;
}

static int h_kde(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    hs_query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model *m = gw_live_model(hs->live);
    int srid = gw_model_metric_srid(m);
    q.ko.max_cells = 4000000; /* ~16 MB of float per request */
    if (q.has_ll_bbox && hs_bbox_to_metric(ctx, srid, &q.ll_bbox, &q.ko.bbox)) {
        gw_req_problem(req, 400, NULL, "parameter 'bbox': %s", gw_ctx_errmsg(ctx));
        return 0;
    }
    q.ko.has_bbox = q.has_ll_bbox;
    gw_model_snapshot *snap = gw_model_acquire(m);
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    gw_bbox sb;
    if (sc && !q.ko.has_bbox) { /* a jurisdiction: its own envelope unless a bbox is given */
        if (!gw_scope_bbox(sc, NULL, &sb)) sb = (gw_bbox){0, 0, 1, 1}; /* no grid: all masked */
        q.ko.bbox = sb, q.ko.has_bbox = 1;
    }
    gw_raster *r = NULL;
    size_t shown = 0;
    int scoped = sc != NULL;
    gw_status st = gw_kde_incidents(ctx, snap, &q.ho.filter, &q.ko, &r);
    if (!st && sc) shown = kde_mask(ctx, snap, sc, &q.ho.filter, r);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!st && q.contours) {
        hs_default_levels(r, &q);
        char *json = NULL;
        st = gw_raster_contours_geojson(ctx, r, srid, q.levels, q.n_levels, &json, &len);
        buf = (unsigned char *)json;
    } else if (!st) {
        st = gw_raster_to_geotiff(ctx, r, srid, &buf, &len);
    }
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        char h[64];
        snprintf(h, sizeof h, "%.3f", r->bandwidth);
        gw_req_add_header(req, "X-Bandwidth-Metres", h);
        snprintf(h, sizeof h, "%zu", scoped ? shown : r->n_points);
        gw_req_add_header(req, "X-Incidents", h);
        gw_req_respond(req, 200, q.contours ? "application/geo+json" : "image/tiff",
                       (const char *)buf, len);
    }
    free(buf);
    gw_raster_destroy(r);
    return 0;
}

/* ---- evaluation (PAI) ----------------------------------------------------------------------- */

static int h_evaluate(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    hs_query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(hs->live));
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t ng = gw_layer_data_count(g);
    wentry *we = NULL;
    ientry *ie = NULL;
    gw_pai_row rows[GW_PAI_ROWS];
    uint8_t *in = NULL; /* a jurisdiction: scored on its grids (trained city-wide) */
    gw_status st = GW_OK;
    if (sc && !(in = calloc(ng ? ng : 1, 1))) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; in && i < ng; i++) in[i] = (uint8_t)gw_scope_has_grid_row(sc, i);
    if (!st) st = get_weights(hs, ctx, g, &q.wo, &we);
    if (!st) st = get_inc(hs, ctx, g, gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), &ie);
    if (!st) st = hs_run_evaluate(ctx, snap, we->w, ie->rows, &q, in, rows);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        gw_buf b = {0};
        hs_write_pai(&b, rows, &q, 1);
        gw_req_respond(req, 200, "application/json", b.data, b.len);
        gw_buf_free(&b);
    }
    free(in);
    gw_scope_release(sc);
    release(hs, we, ie);
    gw_model_release(ctx, snap);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/hotspots/evaluate", h_evaluate, GW_ROLE_VIEWER,
     "analysis_hotspots_evaluate"},
    {"GET", "/analysis/hotspots", h_hotspots, GW_ROLE_VIEWER, "analysis_hotspots"},
    {"GET", "/analysis/kde", h_kde, GW_ROLE_VIEWER, "analysis_kde"},
    {"GET", "/tiles/heatmap/legend.json", gw_heat_legend_handler, GW_ROLE_VIEWER, "heatmap_legend"},
    {"GET", "/tiles/heatmap/{z}/{x}/{y}", gw_heat_tile_handler, GW_ROLE_VIEWER, "heatmap_tile"},
};

const gw_route *gw_hotspots_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
