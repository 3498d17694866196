/* clusters_http.c — GET /analysis/hotspots/clusters and the cached cluster results behind it and
 * behind the tiles (see clusters_http.h): entries are immutable once published and
 * reference-counted; a new incident replaces an entry by an updated copy, so readers never
 * lock while they write an answer or draw a tile. */
#include "clusters_http.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cluster_query.h"
#include "cluster_store.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/layer.h"
#include "gridwatch/tile.h"
#include "http_util.h"
#include "problem.h"
#include "scope_http.h"

enum { SLOTS = 4, SEGMENTS = 48 };

typedef struct centry {
    gw_clusters_tile tile; /* first member: gw_clusters_http_tile_release casts back */
    int refs;
    gw_cluster_opts o;
    char category[256];
    gw_cluster_result *r;
    uint64_t adds; /* incidents added since the scan */
    int stale;
    /* tile data (the default entry only) */
    int32_t *t_clusters;
    double *t_rr, *rings;
    gw_tile_cluster *t_c;
} centry;

struct gw_clusters_http {
    gw_live *live;
    int srid;
    pthread_mutex_t mu; /* entries, counters, watcher */
    centry *def;        /* the default options (tiles) */
    centry *slot[SLOTS];
    pthread_mutex_t build;  /* one scan at a time */
    pthread_mutex_t notify; /* one watcher call at a time, in publication order */
    gw_clusters_stats stats;
    gw_clusters_watch_fn watch;
    void *watch_user;
    pthread_t th;
    int started, want, stop, busy;
    pthread_cond_t wcond, wdone;
    gw_ctx *wctx;
};

static void centry_unref(centry *e)
{
    if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        gw_cluster_result_destroy(e->r);
        free(e->t_clusters), free(e->t_rr), free(e->rings), free(e->t_c);
        free(e);
    }
}

static double round_to(double v, double step) { return isfinite(v) ? round(v / step) * step : v; }

static double round_sig2(double v)
{
    if (!(v > 0) || !isfinite(v)) return v;
    char b[32];
    snprintf(b, sizeof b, "%.2g", v);
    return strtod(b, NULL);
}

/* The tile view of e's result: rounded figures, circles in EPSG:3857.  0 or -1 (no memory). */
static int build_tile(gw_ctx *ctx, centry *e)
{
    const gw_cluster_result *r = e->r;
    size_t g = r->grid_count ? r->grid_count : 1, n = r->n ? r->n : 1, pts = SEGMENTS + 1;
    e->t_clusters = malloc(g * sizeof *e->t_clusters);
    e->t_rr = malloc(g * sizeof *e->t_rr);
    e->t_c = calloc(n, sizeof *e->t_c);
    e->rings = malloc(n * pts * 2 * sizeof *e->rings);
    double *xs = malloc(n * pts * 2 * sizeof *xs); /* every ring, lon/lat: xs then ys */
    if (!e->t_clusters || !e->t_rr || !e->t_c || !e->rings || !xs) return free(xs), -1;
    double *ys = xs + n * pts;
    int rings_ok = gw_cluster_rings(ctx, r, SEGMENTS, xs, ys) == GW_OK;
    if (!rings_ok) gw_ctx_clear_error(ctx);
    for (size_t k = 0; k < r->grid_count; k++) {
        e->t_clusters[k] = r->grid_clusters[k];
        e->t_rr[k] = r->grid_clusters[k] ? round_to(r->grid_max_rr[k], 0.01) : NAN;
    }
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        if (!rings_ok) continue;
        gw_tile_cluster *t = &e->t_c[m++];
        double *ring = e->rings + i * pts * 2;
        t->env = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (size_t k = 0; k < pts; k++) {
            gw_tile_lonlat_to_merc(xs[i * pts + k], ys[i * pts + k], &ring[2 * k],
                                   &ring[2 * k + 1]);
            t->env.minx = fmin(t->env.minx, ring[2 * k]);
            t->env.maxx = fmax(t->env.maxx, ring[2 * k]);
            t->env.miny = fmin(t->env.miny, ring[2 * k + 1]);
            t->env.maxy = fmax(t->env.maxy, ring[2 * k + 1]);
        }
        t->rank = c->rank, t->ring = ring, t->n = pts;
        t->incidents = round(c->incidents), t->expected = round_to(c->expected, 0.1);
        t->relative_risk = round_to(c->rr, 0.01), t->p = round_sig2(c->p);
        t->trend = gw_cluster_trend_name(c->trend), t->recent = c->recent != 0;
    }
    free(xs);
    e->tile.grid_count = r->grid_count, e->tile.clusters = e->t_clusters;
    e->tile.cluster_rr = e->t_rr, e->tile.c = e->t_c, e->tile.n = m;
    return 0;
}

/* A new entry owning r, for the layer versions of snap. */
static centry *centry_new(gw_ctx *ctx, gw_cluster_result *r, const gw_cluster_opts *o,
                          const gw_model_snapshot *snap, int tiles)
{
    centry *e = calloc(1, sizeof *e);
    if (!e) return gw_cluster_result_destroy(r), NULL;
    e->refs = 1, e->r = r, e->o = *o;
    if (o->filter.category) {
        snprintf(e->category, sizeof e->category, "%s", o->filter.category);
        e->o.filter.category = e->category;
    }
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    e->tile.grids_seq = g ? gw_layer_data_seq(g) : -1,
    e->tile.grids_n = g ? gw_layer_data_count(g) : 0;
    e->tile.inc_seq = inc ? gw_layer_data_seq(inc) : -1;
    e->tile.inc_n = inc ? gw_layer_data_count(inc) : 0;
    if (tiles && build_tile(ctx, e)) return centry_unref(e), NULL;
    return e;
}

/* Does e answer for snap?  (The listener may have brought it past snap already.) */
static int usable(const centry *e, const gw_model_snapshot *snap)
{
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    int64_t iseq = inc ? gw_layer_data_seq(inc) : -1;
    size_t in = inc ? gw_layer_data_count(inc) : 0;
    return e && !e->stale && g && e->tile.grids_seq == gw_layer_data_seq(g) &&
           e->tile.grids_n == gw_layer_data_count(g) &&
           (e->tile.inc_seq > iseq || (e->tile.inc_seq == iseq && e->tile.inc_n == in));
}

static int is_default(const gw_clusters_http *cl, const gw_cluster_opts *o)
{
    gw_cluster_opts d = {.metric_srid = cl->srid};
    return cq_same_opts(o, &d);
}

/* The entry of o (under mu), referenced, or NULL. */
static centry *find_locked(gw_clusters_http *cl, const gw_cluster_opts *o,
                           const gw_model_snapshot *snap)
{
    centry *e = NULL;
    if (is_default(cl, o)) e = cl->def;
    else
        for (int k = 0; k < SLOTS && !e; k++)
            if (cl->slot[k] && cq_same_opts(&cl->slot[k]->o, o)) e = cl->slot[k];
    if (!usable(e, snap)) return NULL;
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    return e;
}

static void notify(gw_clusters_http *cl, gw_ctx *ctx, const gw_layer_data *grids,
                   const uint8_t *changed, const gw_bbox *boxes, size_t n)
{
    pthread_mutex_lock(&cl->mu);
    gw_clusters_watch_fn fn = cl->watch;
    void *user = cl->watch_user;
    pthread_mutex_unlock(&cl->mu);
    if (fn) fn(user, ctx, grids, changed, boxes, n);
}

/* The result for o on snap: cached or scanned now (*hit says which).  Release with
 * centry_unref. */
static gw_status get_entry(gw_clusters_http *cl, gw_ctx *ctx, gw_model_snapshot *snap,
                           const gw_cluster_opts *o, centry **out, int *hit)
{
    *out = NULL, *hit = 1;
    gw_live_wait(cl->live, gw_snapshot_seq(snap), 2000); /* the listener has seen snap */
    pthread_mutex_lock(&cl->mu);
    centry *e = find_locked(cl, o, snap);
    if (e) cl->stats.hits++;
    pthread_mutex_unlock(&cl->mu);
    if (e) return *out = e, GW_OK;
    pthread_mutex_lock(&cl->build);
    pthread_mutex_lock(&cl->mu);
    e = find_locked(cl, o, snap); /* scanned while this request waited */
    if (e) cl->stats.hits++;
    pthread_mutex_unlock(&cl->mu);
    if (e) {
        pthread_mutex_unlock(&cl->build);
        return *out = e, GW_OK;
    }
    *hit = 0;
    int def = is_default(cl, o);
    gw_cluster_result *r = NULL;
    gw_store *store = NULL; /* the default result is kept in the store (cluster_store.h) */
    if (def && gw_store_open(ctx, gw_live_db_path(cl->live), 0, &store) != GW_OK)
        gw_ctx_clear_error(ctx), store = NULL;
    gw_status st = store ? cq_store_load(ctx, store, snap, cl->srid, &r) : GW_ERR_NOT_FOUND;
    int loaded = st == GW_OK;
    if (st && st != GW_ERR_NOT_FOUND) gw_ctx_clear_error(ctx);
    if (!loaded) st = gw_clusters_find(ctx, snap, NULL, o, &r);
    if (!st && store && !loaded && cq_store_save(ctx, store, snap, cl->srid, r) != GW_OK) {
        fprintf(stderr, "{\"event\":\"clusters_keep_failed\",\"error\":\"%s\"}\n",
                gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx); /* serving does not depend on the stored copy */
    }
    gw_store_close(store);
    if (!st && !(e = centry_new(ctx, r, o, snap, def)))
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (clusters)");
    if (!st) {
        e->refs = 2; /* the cache's and the caller's */
        pthread_mutex_lock(&cl->mu);
        centry *old = def ? cl->def : cl->slot[SLOTS - 1];
        if (def) cl->def = e;
        else {
            memmove(cl->slot + 1, cl->slot, (SLOTS - 1) * sizeof *cl->slot);
            cl->slot[0] = e;
        }
        cl->stats.scans += !loaded, cl->stats.loaded += loaded, cl->stats.misses++;
        pthread_mutex_unlock(&cl->mu);
        centry_unref(old);
        *out = e;
        if (def) {
            pthread_mutex_lock(&cl->notify);
            notify(cl, ctx, gw_snapshot_layer(snap, GW_LAYER_GRIDS), NULL, NULL, 0);
            pthread_mutex_unlock(&cl->notify);
        }
    }
    pthread_mutex_unlock(&cl->build);
    return st;
}

/* ---- the live upkeep ------------------------------------------------------------------------ */

typedef struct inserted {
    double x, y;
    size_t row;
} inserted;

/* e updated by the inserted incidents (a new entry), NULL when nothing of e changes (*same) or
 * out of memory. */
static centry *add_incidents(gw_ctx *ctx, const centry *e, const gw_layer_data *inc,
                             const inserted *ins, size_t n, const gw_model_snapshot *snap,
                             int tiles, int *same)
{
    *same = 1;
    for (size_t i = 0; i < n && *same; i++)
        *same = !gw_incident_filter_match(inc, ins[i].row, &e->o.filter);
    if (*same) return NULL;
    gw_cluster_result *r = cq_result_clone(e->r);
    if (!r) return NULL;
    size_t adds = 0;
    for (size_t i = 0; i < n; i++)
        if (gw_incident_filter_match(inc, ins[i].row, &e->o.filter))
            gw_cluster_result_add_incident(r, ins[i].x, ins[i].y), adds++;
    centry *ne = centry_new(ctx, r, &e->o, snap, tiles);
    if (ne) ne->adds = e->adds + adds;
    return ne;
}

/* Which grids and clusters the tiles draw differently in b than in a (same grids). */
static void tile_diff(const centry *a, const centry *b, uint8_t *changed, gw_bbox *boxes,
                      size_t *nb)
{
#define EQ(x, y) ((isnan(x) && isnan(y)) || (x) == (y))
    for (size_t k = 0; k < b->tile.grid_count && k < a->tile.grid_count; k++)
        changed[k] = a->t_clusters[k] != b->t_clusters[k] || !EQ(a->t_rr[k], b->t_rr[k]);
    *nb = 0;
    for (size_t i = 0; i < b->tile.n && i < a->tile.n; i++) {
        const gw_tile_cluster *x = &a->t_c[i], *y = &b->t_c[i];
        if (x->incidents != y->incidents || !EQ(x->expected, y->expected) ||
            !EQ(x->relative_risk, y->relative_risk) || !EQ(x->p, y->p))
            boxes[(*nb)++] = y->env;
    }
#undef EQ
}

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    gw_clusters_http *cl = user;
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    int other = !g || !inc, touched = 0;
    inserted *ins = malloc((n ? n : 1) * sizeof *ins);
    size_t k = 0, inc_changes = 0;
    const double *x = inc ? gw_layer_data_x(inc, GW_MODEL_METRIC) : NULL,
                 *y = inc ? gw_layer_data_y(inc, GW_MODEL_METRIC) : NULL;
    int occ = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    const uint8_t *tnull = inc && occ >= 0 ? gw_layer_data_nulls(inc, occ) : NULL;
    for (size_t i = 0; i < n && !other; i++) {
        if (ch[i].layer == GW_LAYER_GRIDS || ch[i].layer == GW_LAYER_COUNT) other = 1;
        if (ch[i].layer != GW_LAYER_INCIDENTS) continue;
        touched = 1, inc_changes++;
        ptrdiff_t row = ch[i].feature_id && strcmp(ch[i].op, "insert") == 0
                            ? gw_layer_data_find(inc, ch[i].feature_id)
                            : -1;
        if (row < 0 || !ins || !x) {
            other = 1; /* an edit, a delete, a bulk change: scan again */
            continue;
        }
        ptrdiff_t grid = -1;
        if (isfinite(x[row]) && isfinite(y[row]) && !(tnull && tnull[row]) &&
            gw_layer_data_grid_at(ctx, g, x[row], y[row], &grid) != GW_OK)
            gw_ctx_clear_error(ctx), grid = -1;
        if (grid >= 0) ins[k++] = (inserted){x[row], y[row], (size_t)row};
    }
    touched |= other;
    if (!touched) return free(ins);
    pthread_mutex_lock(&cl->notify);
    pthread_mutex_lock(&cl->mu);
    centry *olddef = cl->def, *newdef = NULL;
    if (olddef) __atomic_add_fetch(&olddef->refs, 1, __ATOMIC_RELAXED);
    int rescan = 0;
    for (int s = -1; s < SLOTS; s++) {
        centry **pe = s < 0 ? &cl->def : &cl->slot[s], *e = *pe;
        if (!e || e->stale || usable(e, snap)) continue; /* stale, or scanned on snap already */
        /* the entry reflects the snapshot just before this batch when its count adds up */
        if (other || e->tile.grids_seq != gw_layer_data_seq(g) ||
            e->tile.inc_n + inc_changes != gw_layer_data_count(inc) ||
            e->adds + k > (uint64_t)fmax(1000, e->r->incidents / 20)) {
            e->stale = 1, rescan |= s < 0;
            continue;
        }
        int same = 0;
        centry *ne = add_incidents(ctx, e, inc, ins, k, snap, s < 0, &same);
        if (same) { /* none of the incidents passes e's filter: e now stands for snap */
            e->tile.inc_seq = gw_layer_data_seq(inc), e->tile.inc_n = gw_layer_data_count(inc);
            continue;
        }
        if (!ne) {
            e->stale = 1, rescan |= s < 0;
            continue;
        }
        cl->stats.incremental += ne->adds - e->adds;
        centry_unref(e);
        *pe = ne;
        if (s < 0) newdef = ne;
    }
    if (rescan) cl->want = 1, pthread_cond_signal(&cl->wcond);
    pthread_mutex_unlock(&cl->mu);
    free(ins);
    if (newdef && olddef && olddef->tile.grid_count == newdef->tile.grid_count) {
        uint8_t *changed = calloc(newdef->tile.grid_count ? newdef->tile.grid_count : 1, 1);
        gw_bbox *boxes = malloc((newdef->tile.n ? newdef->tile.n : 1) * sizeof *boxes);
        size_t nb = 0;
        if (changed && boxes) tile_diff(olddef, newdef, changed, boxes, &nb);
        if (changed && boxes) notify(cl, ctx, g, changed, boxes, nb);
        else notify(cl, ctx, g, NULL, NULL, 0);
        free(changed), free(boxes);
    }
    pthread_mutex_unlock(&cl->notify);
    centry_unref(olddef);
}

/* The worker: the default scan at start and whenever the default result goes stale. */
static void *worker(void *arg)
{
    gw_clusters_http *cl = arg;
    pthread_mutex_lock(&cl->mu);
    for (;;) {
        while (!cl->want && !cl->stop) pthread_cond_wait(&cl->wcond, &cl->mu);
        if (cl->stop) break;
        cl->want = 0, cl->busy = 1;
        pthread_mutex_unlock(&cl->mu);
        gw_model_snapshot *snap = gw_model_acquire(gw_live_model(cl->live));
        gw_cluster_opts o = {.metric_srid = cl->srid};
        centry *e = NULL;
        int hit;
        gw_status st = get_entry(cl, cl->wctx, snap, &o, &e, &hit);
        if (st && st != GW_ERR_RANGE)
            fprintf(stderr, "{\"event\":\"clusters_scan_failed\",\"error\":\"%s\"}\n",
                    gw_ctx_errmsg(cl->wctx));
        gw_ctx_clear_error(cl->wctx);
        centry_unref(e);
        gw_model_release(cl->wctx, snap);
        pthread_mutex_lock(&cl->mu);
        cl->busy = 0;
        pthread_cond_broadcast(&cl->wdone);
    }
    pthread_mutex_unlock(&cl->mu);
    return NULL;
}

/* ---- the module ------------------------------------------------------------------------------ */

gw_status gw_clusters_http_create(gw_ctx *ctx, gw_live *live, gw_clusters_http **out)
{
    *out = NULL;
    gw_clusters_http *cl = calloc(1, sizeof *cl);
    if (!cl) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    cl->live = live;
    cl->srid = gw_model_metric_srid(gw_live_model(live));
    pthread_mutex_init(&cl->mu, NULL);
    pthread_mutex_init(&cl->build, NULL);
    pthread_mutex_init(&cl->notify, NULL);
    pthread_cond_init(&cl->wcond, NULL);
    pthread_cond_init(&cl->wdone, NULL);
    gw_status st = gw_ctx_create(&cl->wctx);
    if (!st) st = gw_live_listen(live, on_changes, cl);
    if (!st) {
        cl->want = 1; /* the first default scan */
        if (pthread_create(&cl->th, NULL, worker, cl))
            st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "clusters: cannot start the worker");
        else cl->started = 1;
    }
    if (st) {
        gw_clusters_http_destroy(cl);
        return st;
    }
    *out = cl;
    return GW_OK;
}

void gw_clusters_http_stop(gw_clusters_http *cl)
{
    if (!cl || !cl->started) return;
    pthread_mutex_lock(&cl->mu);
    cl->stop = 1;
    pthread_cond_signal(&cl->wcond);
    pthread_cond_broadcast(&cl->wdone);
    pthread_mutex_unlock(&cl->mu);
    pthread_join(cl->th, NULL);
    cl->started = 0;
}

void gw_clusters_http_destroy(gw_clusters_http *cl)
{
    if (!cl) return;
    gw_clusters_http_stop(cl);
    centry_unref(cl->def);
    for (int k = 0; k < SLOTS; k++) centry_unref(cl->slot[k]);
    gw_ctx_destroy(cl->wctx);
    pthread_mutex_destroy(&cl->mu);
    pthread_mutex_destroy(&cl->build);
    pthread_mutex_destroy(&cl->notify);
    pthread_cond_destroy(&cl->wcond);
    pthread_cond_destroy(&cl->wdone);
    free(cl);
}

int gw_clusters_http_wait(gw_clusters_http *cl, unsigned timeout_ms)
{
    if (!cl || !cl->started) return 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000, ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&cl->mu);
    int rc = 0;
    while (!cl->stop && (cl->want || cl->busy) && rc == 0)
        rc = pthread_cond_timedwait(&cl->wdone, &cl->mu, &ts);
    int ok = !cl->want && !cl->busy;
    pthread_mutex_unlock(&cl->mu);
    return ok;
}

void gw_clusters_http_stats(gw_clusters_http *cl, gw_clusters_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!cl) return;
    pthread_mutex_lock(&cl->mu);
    *out = cl->stats;
    pthread_mutex_unlock(&cl->mu);
}

const gw_clusters_tile *gw_clusters_http_tile_acquire(gw_clusters_http *cl)
{
    if (!cl) return NULL;
    pthread_mutex_lock(&cl->mu);
    centry *e = cl->def;
    if (e) __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&cl->mu);
    return e ? &e->tile : NULL;
}

void gw_clusters_http_tile_release(const gw_clusters_tile *t)
{
    centry_unref((centry *)(void *)t); /* the tile view is the entry's first member */
}

void gw_clusters_http_watch(gw_clusters_http *cl, gw_clusters_watch_fn fn, void *user)
{
    if (!cl) return;
    pthread_mutex_lock(&cl->notify); /* not while a call is under way */
    pthread_mutex_lock(&cl->mu);
    cl->watch = fn, cl->watch_user = user;
    pthread_mutex_unlock(&cl->mu);
    pthread_mutex_unlock(&cl->notify);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct cargs {
    gw_req *req;
    gw_ctx *ctx;
    gw_cluster_opts *o;
    hs_query *q;
} cargs;

static int http_arg(void *user, const char *key, const char *val)
{
    cargs *a = user;
    if (strcmp(key, "datetime") == 0) {
        gw_time_filter tf;
        char why[200];
        if (gw_parse_datetime(a->ctx, val, &tf, why, sizeof why)) {
            gw_req_fail(a->req, a->ctx, GW_ERR_ARG, "parameter 'datetime': %s", why);
            return 1;
        }
        a->q->ho.filter.has_from = tf.has_lo, a->q->ho.filter.from = tf.lo;
        a->q->ho.filter.has_to = tf.has_hi, a->q->ho.filter.to = tf.hi;
        a->o->filter = a->q->ho.filter;
        return 0;
    }
    if (strcmp(key, "f") == 0 ||
        (strcmp(key, "format") == 0 && (strcmp(val, "geojson") == 0 || strcmp(val, "json") == 0)))
        return 0;
    int rc = cq_set(a->ctx, a->o, a->q, key, val, NULL);
    if (rc < 0)
        gw_req_fail(a->req, a->ctx, GW_ERR_ARG, "parameter '%s': %s", key, gw_ctx_errmsg(a->ctx));
    if (rc > 0)
        gw_req_fail(a->req, a->ctx, GW_ERR_ARG,
                    "unknown parameter '%s'; this route takes datetime, from, to, category, "
                    "severity_min, severity_max, cell, max_radius, bandwidth, min_rr, alpha, "
                    "replications, seed, steps, recent_days",
                    key);
    return rc != 0;
}

static int h_clusters(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_clusters_http *cl = app ? app->modules[GW_APP_CLUSTERS] : NULL;
    if (!cl) {
        gw_req_problem(req, 503, NULL, "the cluster module is not running in this server");
        return 0;
    }
    gw_ctx *ctx = gw_req_ctx(req);
    if (!ctx) return 0;
    gw_cluster_opts o = {0};
    hs_query q;
    hs_query_init(&q);
    cargs a = {req, ctx, &o, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    o.metric_srid = cl->srid;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(cl->live));
    gw_scope *sc = NULL; /* a jurisdiction: the city-wide clusters touching its grids */
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    centry *e = NULL;
    int hit = 0;
    gw_status st = get_entry(cl, ctx, snap, &o, &e, &hit);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        gw_clusters_stats s;
        gw_clusters_http_stats(cl, &s);
        char extra[256];
        snprintf(extra, sizeof extra,
                 "\"cache\":\"%s\",\"incremental_updates\":%llu,\"scans\":%llu,\"seq\":%lld",
                 hit ? "hit" : "miss", (unsigned long long)e->adds, (unsigned long long)s.scans,
                 (long long)gw_snapshot_seq(snap));
        gw_buf b = {0};
        cq_write_geojson(ctx, &b, e->r, gw_snapshot_layer(snap, GW_LAYER_GRIDS), SEGMENTS, extra,
                         sc);
        if (b.oom) gw_req_problem(req, 503, NULL, "out of memory writing %zu clusters", e->r->n);
        else gw_req_respond(req, 200, "application/geo+json", b.data, b.len);
        gw_buf_free(&b);
    }
    centry_unref(e);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/hotspots/clusters", h_clusters, GW_ROLE_VIEWER,
     "analysis_hotspots_clusters"},
};

const gw_route *gw_clusters_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
