/* tile_fields.c — coverage and Gi* hot spot fields for the grid tiles and the blind_spots
 * supplier, with the invalidation that keeps cached tiles in step (see tile_fields.h).
 *
 * Both results are immutable reference-counted "parts" swapped under one mutex; renders hold
 * the parts they read.  Values are rounded here to what a map needs (ratios to 0.001, z to
 * 0.01, p to 2 significant digits, areas to 1 m²): fewer distinct values keep the MVT value
 * tables small, and the hot spot diff compares exactly what the tiles encode. */
#include "tile_fields.h"

#include "gridwatch/hotspot.h"
#include "reach_http.h"
#include "response_calc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* More changed grids than this: drop all grid tiles instead of one box each (the tile cache
 * remembers 1024 recent invalidations). */
#define MAX_BOXES 256

typedef struct cpart { /* coverage */
    int refs;
    gw_coverage_http_info info;
    double *ratio, *covered, *reach;
    int32_t *cameras;
} cpart;

typedef struct hpart { /* hot spots */
    int refs;
    int64_t seq;                /* snapshot seq of the run */
    int64_t grids_seq, inc_seq; /* layer versions it ran on */
    size_t n, inc_n;
    int has; /* 0: the statistic could not run (no fields) */
    double *z, *p;
    int8_t *bin;
    uint8_t *cls;
    int32_t *count;
} hpart;

typedef struct rpart { /* response figures (response_calc.h), all time */
    int refs;
    int64_t grids_seq, inc_seq; /* layer versions it ran on */
    size_t n;
    int32_t *incidents, *open, *overdue;
    double *share, *esc, *acc50, *acc90, *arr50, *clo50, *clo90;
} rpart;

/* How often the response figures are recomputed without a change: overdue flags follow the
 * clock. */
#define RESP_TICK_S 30

struct gw_tile_fields {
    gw_live *live;
    gw_coverage_http *cov;
    gw_hotspots *hs;
    gw_clusters_http *cl;
    gw_reach_http *rh; /* road reach fields (reach_http.h) */
    gw_tile_fields_inval_fn inval;
    void *inval_user;
    pthread_mutex_t mu; /* guards the part pointers and refs */
    cpart *cp;
    hpart *hp;
    rpart *rp;
    gw_store *rstore;       /* the worker's read connection for the audit trail */
    pthread_mutex_t cbuild; /* one coverage copy at a time */
    /* the hot spot worker */
    pthread_t th;
    int started;
    pthread_mutex_t wmu;
    pthread_cond_t wcond, wdone;
    int want, busy, stop;
    int64_t done_seq; /* snapshot seq the worker last caught up with (under wmu) */
    gw_ctx *wctx;
};

static double round_to(double v, double step) { return isnan(v) ? v : round(v / step) * step; }

static double round_sig2(double v)
{
    if (!(v > 0) || !isfinite(v)) return v;
    char b[32];
    snprintf(b, sizeof b, "%.2g", v);
    return strtod(b, NULL);
}

static void cpart_unref(cpart *c)
{
    if (c && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(c->ratio);
        free(c);
    }
}

static void hpart_unref(hpart *h)
{
    if (h && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(h->z);
        free(h);
    }
}

static void rpart_unref(rpart *r)
{
    if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(r->incidents), free(r->share);
        free(r);
    }
}

static int64_t layer_seq(const gw_model_snapshot *s, gw_layer l, size_t *n)
{
    const gw_layer_data *d = gw_snapshot_layer(s, l);
    if (n) *n = d ? gw_layer_data_count(d) : 0;
    return d ? gw_layer_data_seq(d) : -1;
}

/* ---- invalidation ---------------------------------------------------------------------------- */

/* Drop `parts` of the grids flagged in changed[] (NULL: all) of layer g.  Called after the
 * new result is visible; announced at the live model's current seq, which is at least the
 * snapshot seq of any render that read the old result (renders read the result after taking
 * their snapshot), and such a render's tile has an older version (gw_tile_fields_acquire). */
static void drop_grids(gw_tile_fields *tf, gw_ctx *ctx, const gw_layer_data *g,
                       const uint8_t *changed, uint32_t parts)
{
    gw_model_snapshot *now = gw_model_acquire(gw_live_model(tf->live));
    int64_t seq = gw_snapshot_seq(now);
    gw_model_release(ctx, now);
    size_t n = g ? gw_layer_data_count(g) : 0, k = 0;
    for (size_t r = 0; changed && r < n; r++) k += changed[r] != 0;
    parts |= 1u << GW_TL_CITY;
    gw_tile_change *ch = changed && k && k <= MAX_BOXES ? malloc(k * sizeof *ch) : NULL;
    if (!ch) {
        if (changed && !k) return;
        gw_tile_change all = {parts, false, {0, 0, 0, 0}};
        tf->inval(tf->inval_user, &all, 1, seq);
        return;
    }
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t m = 0;
    for (size_t r = 0; r < n; r++) {
        if (!changed[r]) continue;
        const GEOSGeometry *mg = gw_layer_data_geom(g, r, GW_MODEL_MERCATOR);
        gw_bbox b;
        if (!mg || !GEOSGeom_getXMin_r(h, mg, &b.minx) || !GEOSGeom_getYMin_r(h, mg, &b.miny) ||
            !GEOSGeom_getXMax_r(h, mg, &b.maxx) || !GEOSGeom_getYMax_r(h, mg, &b.maxy))
            ch[m++] = (gw_tile_change){parts, false, {0, 0, 0, 0}}; /* unknown extent: all */
        else ch[m++] = (gw_tile_change){parts, true, b};
    }
    tf->inval(tf->inval_user, ch, m, seq);
    free(ch);
}

/* The coverage module's watcher (its write lock held): the figures of these grids changed. */
static void on_coverage(void *user, gw_ctx *ctx, const gw_coverage *cov, const uint8_t *changed)
{
    gw_tile_fields *tf = user;
    const gw_layer_data *g = gw_snapshot_layer(gw_coverage_snapshot(cov), GW_LAYER_GRIDS);
    drop_grids(tf, ctx, g, changed, 1u << GW_TL_GRIDS | 1u << GW_TL_BLIND_SPOTS);
}

/* ---- coverage part --------------------------------------------------------------------------- */

/* The coverage part for the module's current generation (built when stale); NULL when there
 * is no result yet.  Returns a reference. */
static cpart *get_cpart(gw_tile_fields *tf)
{
    uint64_t gen = gw_coverage_http_generation(tf->cov);
    pthread_mutex_lock(&tf->mu);
    cpart *c = tf->cp;
    if (c && c->info.gen == gen) {
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&tf->mu);
        return c;
    }
    pthread_mutex_unlock(&tf->mu);
    pthread_mutex_lock(&tf->cbuild);
    pthread_mutex_lock(&tf->mu);
    c = tf->cp;
    int fresh = c && c->info.gen == gw_coverage_http_generation(tf->cov);
    if (fresh) __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&tf->mu);
    if (!fresh) {
        gw_coverage_row *rows = NULL;
        cpart *nc = calloc(1, sizeof *nc);
        size_t n = 0;
        if (nc && gw_coverage_http_copy(tf->cov, &nc->info, &rows) == GW_OK) {
            n = nc->info.count;
            nc->ratio = malloc((n ? n : 1) * (3 * sizeof(double) + sizeof(int32_t)));
        }
        if (nc && nc->ratio) {
            nc->covered = nc->ratio + n, nc->reach = nc->covered + n;
            nc->cameras = (int32_t *)(nc->reach + n);
            for (size_t r = 0; r < n; r++) {
                nc->ratio[r] = round_to(rows[r].ratio, 1e-3);
                nc->covered[r] = round(rows[r].covered_m2);
                nc->reach[r] = round_to(rows[r].room_reach, 1e-3);
                nc->cameras[r] = rows[r].cameras;
            }
            nc->refs = 2; /* ours and the caller's */
            pthread_mutex_lock(&tf->mu);
            cpart *old = tf->cp;
            tf->cp = nc;
            pthread_mutex_unlock(&tf->mu);
            cpart_unref(old);
            c = nc;
        } else {
            if (nc) free(nc->ratio);
            free(nc);
            c = NULL; /* no result yet (or out of memory): no fields */
        }
        free(rows);
    }
    pthread_mutex_unlock(&tf->cbuild);
    return c;
}

/* ---- response part (on the same worker) ----------------------------------------------------- */

static rpart *rpart_new(const gw_model_snapshot *snap, const gw_response_set *rs)
{
    size_t n = rs->ng;
    rpart *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->refs = 1, r->n = n;
    r->grids_seq = layer_seq(snap, GW_LAYER_GRIDS, NULL);
    r->inc_seq = layer_seq(snap, GW_LAYER_INCIDENTS, NULL);
    size_t m = n ? n : 1;
    r->incidents = malloc(3 * m * sizeof *r->incidents);
    r->share = malloc(7 * m * sizeof *r->share);
    if (!r->incidents || !r->share) {
        free(r->incidents), free(r->share), free(r);
        return NULL;
    }
    r->open = r->incidents + m, r->overdue = r->incidents + 2 * m;
    r->esc = r->share + m, r->acc50 = r->esc + m, r->acc90 = r->acc50 + m;
    r->arr50 = r->acc90 + m, r->clo50 = r->arr50 + m, r->clo90 = r->clo50 + m;
    for (size_t g = 0; g < n; g++) {
        const gw_flow_response *f = &rs->grid[g];
        r->incidents[g] = (int32_t)f->incidents;
        r->open[g] = (int32_t)(f->incidents - f->by_state[GW_FS_CLOSED]);
        r->overdue[g] = (int32_t)f->overdue;
        r->share[g] = round_to(f->overdue_share, 1e-3);
        r->esc[g] = round_to(f->escalation_rate, 1e-3);
        r->acc50[g] = round_to(f->median_s[GW_FM_ACCEPT], 1);
        r->acc90[g] = round_to(f->p90_s[GW_FM_ACCEPT], 1);
        r->arr50[g] = round_to(f->median_s[GW_FM_ARRIVE], 1);
        r->clo50[g] = round_to(f->median_s[GW_FM_CLOSE], 1);
        r->clo90[g] = round_to(f->p90_s[GW_FM_CLOSE], 1);
    }
    return r;
}

static int same_resp(const rpart *a, const rpart *b, size_t i)
{
#define EQ(x, y) ((isnan(x) && isnan(y)) || (x) == (y))
    return a->incidents[i] == b->incidents[i] && a->open[i] == b->open[i] &&
           a->overdue[i] == b->overdue[i] && EQ(a->share[i], b->share[i]) &&
           EQ(a->esc[i], b->esc[i]) && EQ(a->acc50[i], b->acc50[i]) &&
           EQ(a->acc90[i], b->acc90[i]) && EQ(a->arr50[i], b->arr50[i]) &&
           EQ(a->clo50[i], b->clo50[i]) && EQ(a->clo90[i], b->clo90[i]);
#undef EQ
}

/* Recompute the response figures of snap's grids and drop the tiles of the grids whose encoded
 * figures changed. */
static void resp_refresh(gw_tile_fields *tf, gw_model_snapshot *snap)
{
    gw_ctx *ctx = tf->wctx;
    if (!tf->rstore &&
        gw_store_open(ctx, gw_live_db_path(tf->live), GW_STORE_READONLY, &tf->rstore)) {
        gw_ctx_clear_error(ctx);
        return;
    }
    const int32_t *inc_grid = NULL;
    void *hold = NULL;
    if (gw_hotspots_incident_grids(tf->hs, ctx, snap, &inc_grid, &hold))
        gw_ctx_clear_error(ctx), inc_grid = NULL;
    gw_response_opts o = {.now = (int64_t)time(NULL), .inc_grid = inc_grid};
    gw_response_set rs;
    gw_status st = gw_response_compute(ctx, tf->rstore, snap, &o, &rs);
    gw_hotspots_incident_grids_release(tf->hs, hold);
    rpart *nr = st ? NULL : rpart_new(snap, &rs);
    gw_response_set_free(&rs);
    if (st) {
        fprintf(stderr, "{\"event\":\"tile_response_failed\",\"error\":\"%s\"}\n",
                gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx);
    }
    if (!nr) return;
    pthread_mutex_lock(&tf->mu);
    rpart *old = tf->rp;
    tf->rp = nr;
    pthread_mutex_unlock(&tf->mu);
    uint8_t *changed = NULL;
    if (old && old->grids_seq == nr->grids_seq && old->n == nr->n &&
        (changed = calloc(nr->n ? nr->n : 1, 1)) != NULL)
        for (size_t i = 0; i < nr->n; i++) changed[i] = !same_resp(old, nr, i);
    drop_grids(tf, ctx, gw_snapshot_layer(snap, GW_LAYER_GRIDS), changed, 1u << GW_TL_GRIDS);
    free(changed);
    rpart_unref(old);
}

/* ---- hot spot part and its worker ------------------------------------------------------------ */

static int8_t bin_of(uint8_t cls)
{
    switch (cls) {
    case GW_HS_HOT_99: return 3;
    case GW_HS_HOT_95: return 2;
    case GW_HS_HOT_90: return 1;
    case GW_HS_NOT_SIGNIFICANT: return 0;
    case GW_HS_COLD_90: return -1;
    case GW_HS_COLD_95: return -2;
    case GW_HS_COLD_99: return -3;
    default: return GW_TILE_NO_BIN;
    }
}

static hpart *hpart_new(gw_model_snapshot *snap, const gw_hotspot_result *r)
{
    hpart *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->refs = 1;
    h->seq = gw_snapshot_seq(snap);
    h->grids_seq = layer_seq(snap, GW_LAYER_GRIDS, &h->n);
    h->inc_seq = layer_seq(snap, GW_LAYER_INCIDENTS, &h->inc_n);
    if (!r || r->n != h->n) return h;
    size_t n = h->n ? h->n : 1;
    h->z = malloc(n * (2 * sizeof(double) + sizeof(int32_t) + 2));
    if (!h->z) return h;
    h->p = h->z + n, h->count = (int32_t *)(h->p + n);
    h->bin = (int8_t *)(h->count + n), h->cls = (uint8_t *)(h->bin + n);
    for (size_t i = 0; i < h->n; i++) {
        h->z[i] = round_to(r->z[i], 1e-2);
        h->p[i] = round_sig2(r->p[i]);
        h->cls[i] = r->cls[i];
        h->bin[i] = bin_of(r->cls[i]);
        h->count[i] = (int32_t)r->count[i];
    }
    h->has = 1;
    return h;
}

static int same_row(const hpart *a, const hpart *b, size_t i)
{
#define EQ(x, y) ((isnan(x) && isnan(y)) || (x) == (y))
    return EQ(a->z[i], b->z[i]) && EQ(a->p[i], b->p[i]) && a->cls[i] == b->cls[i] &&
           a->count[i] == b->count[i];
#undef EQ
}

/* Bring the hot spot part up to the current snapshot and drop the tiles it changes. */
static void hs_refresh(gw_tile_fields *tf, int tick)
{
    gw_ctx *ctx = tf->wctx;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(tf->live));
    size_t n = 0, inc_n = 0;
    int64_t gseq = layer_seq(snap, GW_LAYER_GRIDS, &n),
            iseq = layer_seq(snap, GW_LAYER_INCIDENTS, &inc_n);
    pthread_mutex_lock(&tf->mu);
    hpart *old = tf->hp;
    int current = old && old->grids_seq == gseq && old->n == n && old->inc_seq == iseq &&
                  old->inc_n == inc_n;
    if (old) __atomic_add_fetch(&old->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&tf->mu);
    if (!current) {
        gw_hotspot_result *r = NULL;
        gw_status st = gw_hotspots_default(tf->hs, ctx, snap, &r);
        if (st && st != GW_ERR_RANGE)
            fprintf(stderr, "{\"event\":\"tile_hotspots_failed\",\"error\":\"%s\"}\n",
                    gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx);
        hpart *nh = hpart_new(snap, st ? NULL : r);
        gw_hotspot_result_destroy(r);
        if (nh) {
            uint8_t *changed = NULL;
            if (old && old->grids_seq == nh->grids_seq && old->n == nh->n && old->has && nh->has &&
                (changed = calloc(nh->n ? nh->n : 1, 1)) != NULL)
                for (size_t i = 0; i < nh->n; i++) changed[i] = !same_row(old, nh, i);
            pthread_mutex_lock(&tf->mu);
            hpart *prev = tf->hp;
            tf->hp = nh;
            pthread_mutex_unlock(&tf->mu);
            hpart_unref(prev);
            /* a run without fields after one without fields changes nothing */
            if (changed || !old || old->has || nh->has)
                drop_grids(tf, ctx, gw_snapshot_layer(snap, GW_LAYER_GRIDS), changed,
                           1u << GW_TL_GRIDS);
            free(changed);
        }
    }
    hpart_unref(old);
    pthread_mutex_lock(&tf->mu);
    rpart *rp = tf->rp;
    int resp_current = rp && rp->grids_seq == gseq && rp->inc_seq == iseq;
    pthread_mutex_unlock(&tf->mu);
    if (!resp_current || tick) resp_refresh(tf, snap);
    pthread_mutex_lock(&tf->wmu);
    if (gw_snapshot_seq(snap) > tf->done_seq) tf->done_seq = gw_snapshot_seq(snap);
    pthread_cond_broadcast(&tf->wdone);
    pthread_mutex_unlock(&tf->wmu);
    gw_model_release(ctx, snap);
}

static void *hs_main(void *arg)
{
    gw_tile_fields *tf = arg;
    pthread_mutex_lock(&tf->wmu);
    for (;;) {
        int tick = 0;
        while (!tf->want && !tf->stop && !tick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += RESP_TICK_S;
            tick = pthread_cond_timedwait(&tf->wcond, &tf->wmu, &ts) != 0;
        }
        if (tf->stop) break;
        tf->want = 0, tf->busy = 1;
        pthread_mutex_unlock(&tf->wmu);
        hs_refresh(tf, tick);
        pthread_mutex_lock(&tf->wmu);
        tf->busy = 0;
        pthread_cond_broadcast(&tf->wdone);
    }
    pthread_mutex_unlock(&tf->wmu);
    return NULL;
}

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    (void)ctx;
    gw_tile_fields *tf = user;
    int hot = 0;
    for (size_t i = 0; i < n; i++)
        hot |= ch[i].layer == GW_LAYER_GRIDS || ch[i].layer == GW_LAYER_INCIDENTS ||
               ch[i].layer == GW_LAYER_COUNT;
    pthread_mutex_lock(&tf->wmu);
    if (hot) {
        tf->want = 1;
        pthread_cond_signal(&tf->wcond);
    } else if (!tf->want && !tf->busy && tf->done_seq >= 0) { /* nothing new for an idle worker */
        if (gw_snapshot_seq(snap) > tf->done_seq) tf->done_seq = gw_snapshot_seq(snap);
        pthread_cond_broadcast(&tf->wdone);
    }
    pthread_mutex_unlock(&tf->wmu);
}

/* ---- the module ------------------------------------------------------------------------------ */

gw_status gw_tile_fields_create(gw_ctx *ctx, gw_live *live, gw_coverage_http *cov, gw_hotspots *hs,
                                gw_tile_fields_inval_fn inval, void *user, gw_tile_fields **out)
{
    *out = NULL;
    gw_tile_fields *tf = calloc(1, sizeof *tf);
    if (!tf) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    tf->live = live, tf->cov = cov, tf->hs = hs, tf->inval = inval, tf->inval_user = user;
    tf->done_seq = -1;
    pthread_mutex_init(&tf->mu, NULL);
    pthread_mutex_init(&tf->cbuild, NULL);
    pthread_mutex_init(&tf->wmu, NULL);
    pthread_cond_init(&tf->wcond, NULL);
    pthread_cond_init(&tf->wdone, NULL);
    gw_status st = gw_ctx_create(&tf->wctx);
    /* first: it only wakes the worker, which then runs beside the other listeners */
    if (!st && hs) st = gw_live_listen_first(live, on_changes, tf);
    if (!st && hs) {
        tf->want = 1; /* the first run */
        if (pthread_create(&tf->th, NULL, hs_main, tf))
            st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "tiles: cannot start the hot spot thread");
        else tf->started = 1;
    }
    if (st) {
        gw_tile_fields_destroy(tf);
        return st;
    }
    if (cov) gw_coverage_http_watch(cov, on_coverage, tf);
    *out = tf;
    return GW_OK;
}

void gw_tile_fields_stop(gw_tile_fields *tf)
{
    if (!tf) return;
    if (tf->cov) gw_coverage_http_watch(tf->cov, NULL, NULL);
    gw_clusters_http_watch(tf->cl, NULL, NULL);
    gw_reach_http_watch(tf->rh, NULL, NULL);
    if (!tf->started) return;
    pthread_mutex_lock(&tf->wmu);
    tf->stop = 1;
    pthread_cond_signal(&tf->wcond);
    pthread_cond_broadcast(&tf->wdone);
    pthread_mutex_unlock(&tf->wmu);
    pthread_join(tf->th, NULL);
    tf->started = 0;
}

void gw_tile_fields_destroy(gw_tile_fields *tf)
{
    if (!tf) return;
    gw_tile_fields_stop(tf);
    cpart_unref(tf->cp);
    hpart_unref(tf->hp);
    rpart_unref(tf->rp);
    gw_store_close(tf->rstore);
    gw_ctx_destroy(tf->wctx);
    pthread_mutex_destroy(&tf->mu);
    pthread_mutex_destroy(&tf->cbuild);
    pthread_mutex_destroy(&tf->wmu);
    pthread_cond_destroy(&tf->wcond);
    pthread_cond_destroy(&tf->wdone);
    free(tf);
}

/* ---- hot spot clusters ----------------------------------------------------------------------- */

/* The cluster module's watcher: its default result changed these grids and cluster circles. */
static void on_clusters(void *user, gw_ctx *ctx, const gw_layer_data *grids, const uint8_t *changed,
                        const gw_bbox *boxes, size_t n_boxes)
{
    gw_tile_fields *tf = user;
    drop_grids(tf, ctx, grids, changed, 1u << GW_TL_GRIDS);
    uint32_t parts = 1u << GW_TL_HOTSPOT_CLUSTERS | 1u << GW_TL_CITY;
    gw_model_snapshot *now = gw_model_acquire(gw_live_model(tf->live));
    int64_t seq = gw_snapshot_seq(now);
    gw_model_release(ctx, now);
    gw_tile_change *ch = boxes && n_boxes ? malloc(n_boxes * sizeof *ch) : NULL;
    for (size_t i = 0; ch && i < n_boxes; i++) ch[i] = (gw_tile_change){parts, true, boxes[i]};
    gw_tile_change all = {parts, false, {0, 0, 0, 0}};
    if (ch) tf->inval(tf->inval_user, ch, n_boxes, seq);
    else if (!boxes || n_boxes) tf->inval(tf->inval_user, &all, 1, seq);
    free(ch);
}

void gw_tile_fields_set_clusters(gw_tile_fields *tf, gw_clusters_http *cl)
{
    if (!tf) return;
    tf->cl = cl;
    gw_clusters_http_watch(cl, on_clusters, tf);
}

/* ---- road reach ---------------------------------------------------------------------------- */

/* The reach module's watcher: new shares for every grid, so every grid tile goes. */
static void on_reach(void *user, gw_ctx *ctx)
{
    gw_tile_fields *tf = user;
    gw_model_snapshot *now = gw_model_acquire(gw_live_model(tf->live));
    int64_t seq = gw_snapshot_seq(now);
    gw_model_release(ctx, now);
    gw_tile_change all = {1u << GW_TL_GRIDS | 1u << GW_TL_CITY, false, {0, 0, 0, 0}};
    tf->inval(tf->inval_user, &all, 1, seq);
}

void gw_tile_fields_set_reach(gw_tile_fields *tf, gw_reach_http *rh)
{
    if (!tf) return;
    tf->rh = rh;
    gw_reach_http_watch(rh, on_reach, tf);
}

/* The reach fields of a render; stale while a computation for snap runs. */
static void acquire_reach(gw_tile_fields *tf, const gw_model_snapshot *snap, int64_t gseq, size_t n,
                          int64_t stale, gw_tile_fields_use *u)
{
    const gw_reach_grids *t = gw_reach_http_acquire(tf->rh, snap, 0);
    u->held[4] = (void *)t;
    if (!t) {
        if (gw_reach_http_pending(tf->rh)) u->version = stale;
        return;
    }
    if (gw_reach_grids_grids_seq(t) == gseq && gw_reach_grids_count(t) == n)
        u->grid.reach_3m = gw_reach_grids_share(t, 0),
        u->grid.reach_5m = gw_reach_grids_share(t, 1),
        u->grid.reach_10m = gw_reach_grids_share(t, 2);
}

/* The cluster fields and layer of a render; the tile is stale unless the result is of snap's
 * grids and incidents. */
static void acquire_clusters(gw_tile_fields *tf, const gw_model_snapshot *snap, int64_t gseq,
                             size_t n, int64_t stale, gw_tile_fields_use *u)
{
    const gw_clusters_tile *t = gw_clusters_http_tile_acquire(tf->cl);
    u->held[2] = (void *)t;
    size_t inc_n = 0;
    int64_t iseq = layer_seq(snap, GW_LAYER_INCIDENTS, &inc_n);
    if (!t || t->grids_seq != gseq || t->grids_n != n || t->inc_seq != iseq || t->inc_n != inc_n)
        u->version = stale;
    if (!t) return;
    if (t->grids_seq == gseq && t->grid_count == n)
        u->grid.clusters = t->clusters, u->grid.cluster_rr = t->cluster_rr;
    u->ex.clusters = t->c, u->ex.n_clusters = t->n;
}

void gw_tile_fields_acquire(gw_tile_fields *tf, gw_ctx *ctx, const gw_model_snapshot *snap,
                            uint32_t parts, gw_tile_fields_use *u)
{
    (void)ctx;
    memset(u, 0, sizeof *u);
    u->version = gw_snapshot_seq(snap);
    if (!tf) return;
    /* A result not (yet) of snap's layers: the tile is as of just before snap, so the cache
     * refuses it where snap's own changes or the result's refresh (announced at a seq >= snap's,
     * see drop_grids) touch it, and keeps it elsewhere. */
    int64_t stale = gw_snapshot_seq(snap) - 1;
    size_t n = 0;
    int64_t gseq = layer_seq(snap, GW_LAYER_GRIDS, &n);
    u->grid.grids_seq = gseq, u->grid.n = n;
    u->ex.grid = &u->grid;
    if (tf->cov && (parts & (1u << GW_TL_GRIDS | 1u << GW_TL_BLIND_SPOTS))) {
        cpart *c = get_cpart(tf);
        u->held[0] = c;
        u->ex.blind = gw_coverage_http_blind_tile, u->ex.blind_state = tf->cov;
        if (!c) {
            u->version = stale; /* refused after the first result (or a newer change) touches it */
        } else {
            if (c->info.grids_seq == gseq && c->info.count == n)
                u->grid.coverage_ratio = c->ratio, u->grid.covered_m2 = c->covered,
                u->grid.room_reach = c->reach, u->grid.cameras = c->cameras;
            int current = c->info.grids_seq == gseq &&
                          c->info.cameras_seq == layer_seq(snap, GW_LAYER_CAMERAS, NULL) &&
                          c->info.rooms_seq == layer_seq(snap, GW_LAYER_POLICE_ROOMS, NULL);
            if (!current) u->version = stale;
        }
    }
    if (tf->hs && (parts & (1u << GW_TL_GRIDS))) {
        pthread_mutex_lock(&tf->mu);
        hpart *h = tf->hp;
        if (h) __atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&tf->mu);
        u->held[1] = h;
        if (!h) {
            u->version = stale;
        } else {
            size_t inc_n = 0;
            int64_t iseq = layer_seq(snap, GW_LAYER_INCIDENTS, &inc_n);
            if (h->has && h->grids_seq == gseq && h->n == n)
                u->grid.gi_z = h->z, u->grid.gi_p = h->p, u->grid.gi_bin = h->bin,
                u->grid.gi_class = h->cls, u->grid.gi_count = h->count;
            int current = h->grids_seq == gseq && h->n == n && h->inc_seq == iseq &&
                          h->inc_n == inc_n;
            if (!current) u->version = stale;
        }
    }
    if (tf->hs && (parts & (1u << GW_TL_GRIDS))) {
        pthread_mutex_lock(&tf->mu);
        rpart *r = tf->rp;
        if (r) __atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&tf->mu);
        u->held[3] = r;
        if (!r || r->inc_seq != layer_seq(snap, GW_LAYER_INCIDENTS, NULL)) u->version = stale;
        if (r && r->grids_seq == gseq && r->n == n)
            u->grid.resp_incidents = r->incidents, u->grid.resp_open = r->open,
            u->grid.resp_overdue = r->overdue, u->grid.resp_overdue_share = r->share,
            u->grid.resp_escalation_rate = r->esc, u->grid.resp_accept_p50 = r->acc50,
            u->grid.resp_accept_p90 = r->acc90, u->grid.resp_arrive_p50 = r->arr50,
            u->grid.resp_close_p50 = r->clo50, u->grid.resp_close_p90 = r->clo90;
    }
    if (tf->cl && (parts & (1u << GW_TL_GRIDS | 1u << GW_TL_HOTSPOT_CLUSTERS)))
        acquire_clusters(tf, snap, gseq, n, stale, u);
    if (tf->rh && (parts & (1u << GW_TL_GRIDS))) acquire_reach(tf, snap, gseq, n, stale, u);
}

void gw_tile_fields_release(gw_tile_fields *tf, gw_tile_fields_use *u)
{
    cpart_unref(u->held[0]);
    hpart_unref(u->held[1]);
    gw_clusters_http_tile_release(u->held[2]);
    rpart_unref(u->held[3]);
    gw_reach_http_release(tf ? tf->rh : NULL, u->held[4]);
    u->held[0] = u->held[1] = u->held[2] = u->held[3] = u->held[4] = NULL;
}

int gw_tile_fields_wait(gw_tile_fields *tf, unsigned timeout_ms)
{
    if (tf && !gw_clusters_http_wait(tf->cl, timeout_ms)) return 0; /* its default scan too */
    if (tf && tf->rh) { /* and the road reach shares of the current model (none without roads) */
        gw_ctx *c = NULL;
        if (gw_ctx_create(&c) != GW_OK) return 0;
        gw_model_snapshot *snap = gw_model_acquire(gw_live_model(tf->live));
        gw_reach_http_release(tf->rh, gw_reach_http_acquire(tf->rh, snap, timeout_ms));
        int pending = gw_reach_http_pending(tf->rh);
        gw_model_release(c, snap);
        gw_ctx_destroy(c);
        if (pending) return 0;
    }
    if (!tf || !tf->started) return 1;
    int64_t want = gw_live_seq(tf->live); /* what the listeners have seen */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000, ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&tf->wmu);
    int rc = 0;
    while (!tf->stop && (tf->want || tf->busy || tf->done_seq < want) && rc == 0)
        rc = pthread_cond_timedwait(&tf->wdone, &tf->wmu, &ts);
    int ok = !tf->want && !tf->busy && tf->done_seq >= want;
    pthread_mutex_unlock(&tf->wmu);
    return ok;
}
