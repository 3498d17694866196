/* coverage_http.c — the coverage module of the server and the `gridwatch coverage` command:
 * results computed once at start, kept current by a live-model listener (only the grids a
 * changed camera or room touches are recomputed, and their stored rows rewritten), served as
 * JSON / GeoJSON; the dispatcher's "which cameras see this spot". */
#include "coverage_http.h"

#include "app.h"
#include "gridwatch/crs.h"
#include "http_util.h"
#include "reach_http.h"
#include "scope_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_coverage_http {
    gw_live *live;
    char *db_path;
    pthread_rwlock_t lock; /* readers: handlers; writers: the listener, the swap of a new result */
    gw_coverage *cov;      /* NULL until the first result is loaded or computed */
    gw_ctx *ctx;           /* the creating thread's, for the final release */
    gw_store *wstore;      /* the sync thread's write connection, opened on first change */
    pthread_mutex_t tr_lock;
    gw_ctx *tr_ctx; /* owns the lon/lat -> metric transform (used under tr_lock) */
    gw_crs_transform *to_m;
    int to_m_srid; /* the metric CRS to_m goes to; 0 before the city has data */
    /* The background thread: full computations (at start when the stored rows are stale, and
     * for grid or bulk changes) so that neither the start nor the sync thread waits for them. */
    pthread_t bg;
    int bg_started;
    pthread_mutex_t bg_lock;
    pthread_cond_t bg_cond;
    int want, busy, stop; /* under bg_lock */
    unsigned start_delay_ms;
    gw_ctx *bg_ctx;
    gw_store *bg_store;
    /* Hooks for other modules (vector tiles): a counter bumped whenever served figures change,
     * and a watcher told which grids changed (under the write lock). */
    uint64_t gen;                  /* atomic */
    gw_coverage_watch_fn watch_fn; /* atomic: set after the threads started */
    void *watch_user;
};

/* The figures changed (called under the write lock): bump the generation, tell the watcher. */
static void changed_rows(gw_coverage_http *cs, gw_ctx *ctx, const uint8_t *changed)
{
    __atomic_add_fetch(&cs->gen, 1, __ATOMIC_ACQ_REL);
    gw_coverage_watch_fn fn = __atomic_load_n(&cs->watch_fn, __ATOMIC_ACQUIRE);
    if (fn && cs->cov) fn(cs->watch_user, ctx, cs->cov, changed);
}

/* ---- the module ------------------------------------------------------------------------------ */

/* Ask the background thread for a full computation of the current snapshot. */
static void want_full(gw_coverage_http *cs)
{
    pthread_mutex_lock(&cs->bg_lock);
    cs->want = 1;
    pthread_cond_signal(&cs->bg_cond);
    pthread_mutex_unlock(&cs->bg_lock);
}

static const gw_layer_data *grids_of(const gw_model_snapshot *snap)
{
    return snap ? gw_snapshot_layer(snap, GW_LAYER_GRIDS) : NULL;
}

static void on_change(void *user, gw_ctx *ctx, const gw_change *changes, size_t n,
                      gw_model_snapshot *snap)
{
    gw_coverage_http *cs = user;
    int relevant = 0, bulk = 0;
    for (size_t i = 0; i < n; i++) {
        gw_layer l = changes[i].layer;
        int r = l == GW_LAYER_CAMERAS || l == GW_LAYER_GRIDS || l == GW_LAYER_POLICE_ROOMS ||
                l == GW_LAYER_INCIDENTS;
        relevant |= r;
        bulk |= r && (l == GW_LAYER_GRIDS || !changes[i].feature_id);
    }
    (void)snap;
    if (!relevant) return;
    pthread_mutex_lock(&cs->bg_lock);
    int pending = cs->want || cs->busy;
    pthread_mutex_unlock(&cs->bg_lock);
    /* A computation under way catches up with the current snapshot when it is done. */
    if (pending) {
        if (bulk) want_full(cs);
        return;
    }
    /* The current snapshot (at least `snap`): the update diffs it against the one it holds, so
     * changes not yet announced are handled now and are no-ops when their batch comes. */
    pthread_rwlock_wrlock(&cs->lock);
    gw_model_snapshot *cur = gw_model_acquire(gw_live_model(cs->live));
    if (bulk || !cs->cov || grids_of(cur) != grids_of(gw_coverage_snapshot(cs->cov))) {
        pthread_rwlock_unlock(&cs->lock);
        gw_model_release(ctx, cur);
        want_full(cs);
        return;
    }
    size_t nch = 0;
    gw_status st = gw_coverage_update(ctx, cs->cov, cur, &nch);
    if (!st && nch && !cs->wstore) st = gw_store_open(ctx, cs->db_path, 0, &cs->wstore);
    if (nch) changed_rows(cs, ctx, st ? NULL : gw_coverage_changed(cs->cov));
    if (!st && nch) st = gw_coverage_save(ctx, cs->cov, cs->wstore, gw_coverage_changed(cs->cov));
    pthread_rwlock_unlock(&cs->lock);
    if (st) fprintf(stderr, "gridwatch: coverage update failed: %s\n", gw_ctx_errmsg(ctx));
}

/* Bring a private result up to the current snapshot and save it (all rows, or the changed
 * ones); 1 when the grids changed meanwhile (compute once more). */
static int bg_catch_up(gw_coverage_http *cs, gw_coverage *nc, int all, gw_status *st)
{
    gw_ctx *ctx = cs->bg_ctx;
    gw_model_snapshot *cur = gw_model_acquire(gw_live_model(cs->live));
    size_t nch = 0;
    if (grids_of(cur) != grids_of(gw_coverage_snapshot(nc))) {
        gw_model_release(ctx, cur);
        return 1;
    }
    *st = gw_coverage_update(ctx, nc, cur, &nch); /* changes during the computation (cheap) */
    if (*st || (!all && !nch)) return 0;
    gw_status sst = cs->bg_store ? GW_OK : gw_store_open(ctx, cs->db_path, 0, &cs->bg_store);
    if (!sst) sst = gw_coverage_save(ctx, nc, cs->bg_store, all ? NULL : gw_coverage_changed(nc));
    if (sst) {
        /* Serving does not depend on the stored copy: say so and go on. */
        fprintf(stderr, "gridwatch: coverage results not saved: %s\n", gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx);
    }
    return 0;
}

/* One full computation on the background thread: computed, caught up and saved without the
 * lock (the listener leaves the results alone while busy is set), then caught up once more
 * and swapped in under the write lock, where busy is cleared: a change the listener skipped
 * is in the snapshot of that last catch-up, a later one finds the new results. */
static void bg_compute(gw_coverage_http *cs)
{
    gw_ctx *ctx = cs->bg_ctx;
    gw_model *model = gw_live_model(cs->live);
    gw_coverage_opts o = {.min_blind_m2 = -1, .blind_spots = 1};
    gw_coverage *nc = NULL;
    gw_status st = gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &nc);
    int again = st ? 0 : bg_catch_up(cs, nc, 1, &st);
    gw_coverage *old = NULL;
    pthread_rwlock_wrlock(&cs->lock);
    pthread_mutex_lock(&cs->bg_lock);
    cs->busy = 0;
    pthread_mutex_unlock(&cs->bg_lock);
    if (!st && !again) again = bg_catch_up(cs, nc, 0, &st);
    if (!st) {
        old = cs->cov, cs->cov = nc, nc = NULL;
        changed_rows(cs, ctx, NULL);
    }
    pthread_rwlock_unlock(&cs->lock);
    if (again) want_full(cs); /* the grids changed again: once more */
    if (st) {
        fprintf(stderr, "gridwatch: coverage computation failed: %s\n", gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx);
    }
    gw_coverage_destroy(ctx, nc);
    gw_coverage_destroy(ctx, old);
}

static void *bg_main(void *arg)
{
    gw_coverage_http *cs = arg;
    pthread_mutex_lock(&cs->bg_lock);
    if (cs->start_delay_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += cs->start_delay_ms / 1000,
            ts.tv_nsec += (long)(cs->start_delay_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (!cs->stop && pthread_cond_timedwait(&cs->bg_cond, &cs->bg_lock, &ts) == 0) {}
    }
    for (;;) {
        while (!cs->want && !cs->stop) pthread_cond_wait(&cs->bg_cond, &cs->bg_lock);
        if (cs->stop) break;
        cs->want = 0, cs->busy = 1;
        pthread_mutex_unlock(&cs->bg_lock);
        bg_compute(cs); /* clears busy */
        pthread_mutex_lock(&cs->bg_lock);
    }
    pthread_mutex_unlock(&cs->bg_lock);
    return NULL;
}

static gw_status create(gw_ctx *ctx, gw_live *live, const char *db_path, int tiles_only,
                        int blind_spots, gw_coverage_http **out)
{
    *out = NULL;
    gw_coverage_http *cs = calloc(1, sizeof *cs);
    if (!cs || !(cs->db_path = strdup(db_path))) {
        free(cs);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    cs->live = live, cs->ctx = ctx;
    pthread_rwlock_init(&cs->lock, NULL);
    pthread_mutex_init(&cs->tr_lock, NULL);
    pthread_mutex_init(&cs->bg_lock, NULL);
    pthread_cond_init(&cs->bg_cond, NULL);
    const char *delay = getenv("GW_COVERAGE_START_DELAY_MS");
    if (delay) cs->start_delay_ms = (unsigned)strtoul(delay, NULL, 10);
    gw_model *model = gw_live_model(live);
    /* Stored rows that are current serve at once; otherwise the background thread computes. */
    gw_coverage_opts o = {.min_blind_m2 = -1,
                          .blind_spots = blind_spots,
                          .defer_incidents = tiles_only};
    gw_store *store = NULL;
    gw_status st = gw_store_open(ctx, db_path, GW_STORE_READONLY, &store);
    if (!st && gw_coverage_load(ctx, model, gw_model_acquire(model), store, &o, &cs->cov))
        cs->want = 1;
    gw_store_close(store);
    gw_ctx_clear_error(ctx);
    gw_model_snapshot *now = gw_model_acquire(model);
    int inputs = gw_snapshot_layer(now, GW_LAYER_CAMERAS) != NULL;
    gw_model_release(ctx, now);
    if (cs->want && tiles_only && !inputs) { /* a model without cameras cannot compute */
        gw_coverage_http_destroy(cs);
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                            "coverage: the stored rows of %s are not current", db_path);
    }
    st = gw_ctx_create(&cs->tr_ctx);
    if (!st) st = gw_ctx_create(&cs->bg_ctx);
    if (!st) st = gw_live_listen(live, on_change, cs);
    if (!st) {
        if (pthread_create(&cs->bg, NULL, bg_main, cs))
            st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "coverage: cannot start its thread");
        else cs->bg_started = 1;
    }
    if (st) {
        gw_coverage_http_destroy(cs);
        return st;
    }
    *out = cs;
    return GW_OK;
}

gw_status gw_coverage_http_create(gw_ctx *ctx, gw_live *live, const char *db_path,
                                  gw_coverage_http **out)
{
    return create(ctx, live, db_path, 0, 1, out);
}

gw_status gw_coverage_http_create_for_tiles(gw_ctx *ctx, gw_live *live, const char *db_path,
                                            int blind_spots, gw_coverage_http **out)
{
    return create(ctx, live, db_path, 1, blind_spots, out);
}

void gw_coverage_http_stop(gw_coverage_http *cs)
{
    if (!cs || !cs->bg_started) return;
    pthread_mutex_lock(&cs->bg_lock);
    cs->stop = 1;
    pthread_cond_signal(&cs->bg_cond);
    pthread_mutex_unlock(&cs->bg_lock);
    pthread_join(cs->bg, NULL);
    cs->bg_started = 0;
}

void gw_coverage_http_destroy(gw_coverage_http *cs)
{
    if (!cs) return;
    gw_coverage_http_stop(cs);
    gw_coverage_destroy(cs->ctx, cs->cov);
    gw_store_close(cs->wstore);
    gw_store_close(cs->bg_store);
    gw_crs_transform_destroy(cs->to_m);
    gw_ctx_destroy(cs->tr_ctx);
    gw_ctx_destroy(cs->bg_ctx);
    pthread_rwlock_destroy(&cs->lock);
    pthread_mutex_destroy(&cs->tr_lock);
    pthread_mutex_destroy(&cs->bg_lock);
    pthread_cond_destroy(&cs->bg_cond);
    free(cs->db_path);
    free(cs);
}

int gw_coverage_http_ready(void *state)
{
    gw_coverage_http *cs = state;
    if (!cs) return 0;
    pthread_rwlock_rdlock(&cs->lock);
    int ok = cs->cov != NULL;
    pthread_rwlock_unlock(&cs->lock);
    return ok;
}

gw_status gw_coverage_get(void *state, const char *grid_id, gw_coverage_row *row, int64_t *seq)
{
    gw_coverage_http *cs = state;
    if (!cs || !grid_id) return GW_ERR_NOT_FOUND;
    pthread_rwlock_rdlock(&cs->lock);
    size_t r = 0;
    gw_status st = gw_coverage_find(cs->cov, grid_id, &r);
    if (!st) {
        *row = *gw_coverage_row_at(cs->cov, r);
        if (seq) *seq = gw_coverage_seq(cs->cov);
    }
    pthread_rwlock_unlock(&cs->lock);
    return st;
}

gw_status gw_coverage_http_blind_3857(void *state, gw_ctx *ctx, const gw_bbox *bbox,
                                      gw_coverage_geom_fn fn, void *user)
{
    gw_coverage_http *cs = state;
    if (!cs) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: the module is not running");
    pthread_rwlock_rdlock(&cs->lock);
    gw_status st = cs->cov ? gw_coverage_blind_3857(ctx, cs->cov, bbox, fn, user)
                           : gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                                          "coverage: the first computation is running");
    pthread_rwlock_unlock(&cs->lock);
    return st;
}

/* The watcher is called under the write lock, so setting it under that lock means that once
 * this returns no call of the old watcher is running or will start (a stop may free its user). */
void gw_coverage_http_watch(gw_coverage_http *cs, gw_coverage_watch_fn fn, void *user)
{
    if (!cs) return;
    pthread_rwlock_wrlock(&cs->lock);
    cs->watch_user = user;
    __atomic_store_n(&cs->watch_fn, fn, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&cs->lock);
}

uint64_t gw_coverage_http_generation(void *state)
{
    gw_coverage_http *cs = state;
    return cs ? __atomic_load_n(&cs->gen, __ATOMIC_ACQUIRE) : 0;
}

static int64_t layer_seq(const gw_model_snapshot *s, gw_layer l)
{
    const gw_layer_data *d = s ? gw_snapshot_layer(s, l) : NULL;
    return d ? gw_layer_data_seq(d) : -1;
}

/* Under the lock: the result's layer versions. */
static void fill_info(const gw_coverage_http *cs, gw_coverage_http_info *info)
{
    gw_model_snapshot *s = gw_coverage_snapshot(cs->cov);
    info->gen = __atomic_load_n(&cs->gen, __ATOMIC_ACQUIRE);
    info->seq = gw_coverage_seq(cs->cov);
    info->grids_seq = layer_seq(s, GW_LAYER_GRIDS);
    info->cameras_seq = layer_seq(s, GW_LAYER_CAMERAS);
    info->rooms_seq = layer_seq(s, GW_LAYER_POLICE_ROOMS);
    info->count = gw_coverage_count(cs->cov);
}

gw_status gw_coverage_http_copy(void *state, gw_coverage_http_info *info, gw_coverage_row **rows)
{
    gw_coverage_http *cs = state;
    if (rows) *rows = NULL;
    if (!cs) return GW_ERR_NOT_FOUND;
    pthread_rwlock_rdlock(&cs->lock);
    gw_status st = cs->cov ? GW_OK : GW_ERR_NOT_FOUND;
    if (!st) fill_info(cs, info);
    if (!st && rows) {
        *rows = malloc((info->count ? info->count : 1) * sizeof **rows);
        if (!*rows) st = GW_ERR_NOMEM;
        for (size_t r = 0; !st && r < info->count; r++)
            (*rows)[r] = *gw_coverage_row_at(cs->cov, r);
    }
    pthread_rwlock_unlock(&cs->lock);
    return st;
}

int gw_coverage_http_current(void *state, const gw_model_snapshot *snap)
{
    gw_coverage_http_info info;
    return gw_coverage_http_copy(state, &info, NULL) == GW_OK &&
           info.grids_seq == layer_seq(snap, GW_LAYER_GRIDS) &&
           info.cameras_seq == layer_seq(snap, GW_LAYER_CAMERAS) &&
           info.rooms_seq == layer_seq(snap, GW_LAYER_POLICE_ROOMS);
}

typedef struct tile_visit {
    const gw_coverage *cov;
    const gw_layer_data *grids;
    gw_ctx *ctx;
    gw_tile_blind_cb cb;
    void *user;
} tile_visit;

static int tile_one(void *user, size_t row, const char *grid_id, GEOSGeometry *g)
{
    tile_visit *v = user;
    const gw_coverage_row *r = gw_coverage_row_at(v->cov, row);
    int stop = v->cb(v->user, gw_layer_data_fid(v->grids, row), grid_id, r ? r->blind_m2 : NAN, g);
    GEOSGeom_destroy_r(gw_ctx_geos(v->ctx), g);
    return stop;
}

gw_status gw_coverage_http_blind_tile(void *state, gw_ctx *ctx, const gw_bbox *bbox,
                                      gw_tile_blind_cb cb, void *user)
{
    gw_coverage_http *cs = state;
    if (!cs) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: the module is not running");
    pthread_rwlock_rdlock(&cs->lock);
    gw_status st;
    if (!cs->cov) {
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: the first computation is running");
    } else {
        tile_visit v = {cs->cov, gw_snapshot_layer(gw_coverage_snapshot(cs->cov), GW_LAYER_GRIDS),
                        ctx, cb, user};
        st = gw_coverage_blind_3857(ctx, cs->cov, bbox, tile_one, &v);
    }
    pthread_rwlock_unlock(&cs->lock);
    return st;
}

/* ---- handlers -------------------------------------------------------------------------------- */

static gw_coverage_http *state_of(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_coverage_http *cs = app ? app->modules[GW_APP_COVERAGE] : NULL;
    if (!cs) gw_req_problem(req, 503, NULL, "the coverage module is not running");
    return cs;
}

/* 503 while the first computation runs (called holding the read lock, which it releases). */
static int busy(gw_req *req, gw_coverage_http *cs)
{
    pthread_rwlock_unlock(&cs->lock);
    gw_req_add_header(req, "Retry-After", "2");
    gw_req_problem(req, 503, NULL, "coverage is being computed; retry shortly");
    return 0;
}

static void row_props(gw_buf *b, const gw_coverage_row *r, int32_t inc, int32_t seen)
{
    gw_buf_str(b, "\"ratio\":");
    gw_buf_num(b, r->ratio, 9);
    gw_buf_str(b, ",\"covered_m2\":");
    gw_buf_num(b, r->covered_m2, 3);
    gw_buf_str(b, ",\"grid_m2\":");
    gw_buf_num(b, r->grid_m2, 3);
    gw_buf_printf(b, ",\"cameras\":%d,\"incidents\":%d,\"incidents_seen\":%d,\"incident_share\":",
                  r->cameras, inc, seen);
    if (inc) gw_buf_num(b, (double)seen / inc, 9);
    else gw_buf_str(b, "null");
    gw_buf_str(b, ",\"room_reach\":");
    gw_buf_num(b, r->room_reach, 9);
    gw_buf_str(b, ",\"room_m2\":");
    gw_buf_num(b, r->room_m2, 3);
    gw_buf_str(b, ",\"blind_m2\":");
    gw_buf_num(b, r->blind_m2, 3);
    /* the polygons are built on request: their count only where they were (one grid) */
    if (r->blind_parts >= 0) gw_buf_printf(b, ",\"blind_parts\":%d", r->blind_parts);
    else gw_buf_str(b, ",\"blind_parts\":null");
}

/* The road reach of coverage row g (reach_http.h): reach_3m, reach_5m, reach_10m, the shares
 * of the grid a police room reaches by road in 3, 5, 10 minutes; null until computed or
 * without roads. */
static void reach_props(gw_buf *b, const gw_reach_grids *t, const gw_layer_data *grids,
                        const char *id)
{
    ptrdiff_t row = t && grids ? gw_layer_data_find(grids, id) : -1;
    for (size_t k = 0; k < GW_REACH_GRID_BANDS; k++) {
        gw_buf_printf(b, ",\"reach_%dm\":", (int)gw_reach_grid_minutes(k));
        double v = row >= 0 && (size_t)row < gw_reach_grids_count(t)
                       ? gw_reach_grids_share(t, k)[row]
                       : NAN;
        if (isnan(v)) gw_buf_str(b, "null");
        else gw_buf_num(b, v, 6);
    }
}

/* The point into the model's metric CRS, whichever it is now (it is chosen from the data, so a
 * database that was empty at start gets one with its first rows).  Before there is one, no
 * camera exists to find and the point is left as it is. */
static gw_status to_metric(gw_coverage_http *cs, double *x, double *y)
{
    int srid = gw_model_metric_srid(gw_live_model(cs->live));
    if (srid <= 0) return GW_OK;
    pthread_mutex_lock(&cs->tr_lock);
    gw_status st = GW_OK;
    if (!cs->to_m || cs->to_m_srid != srid) {
        gw_crs_transform_destroy(cs->to_m);
        cs->to_m = NULL;
        gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, srid};
        st = gw_crs_transform_create(cs->tr_ctx, ll, m, &cs->to_m);
        cs->to_m_srid = st ? 0 : srid;
    }
    if (!st) st = gw_crs_transform_points(cs->to_m, x, y, 1);
    pthread_mutex_unlock(&cs->tr_lock);
    return st;
}
/* The datetime filter of a request into [from, to); 0 when fine, else answered with a 400. */
static int window_of(gw_req *req, int64_t *from, int64_t *to, int *given)
{
    const char *dt = gw_req_query(req, "datetime");
    *given = 0;
    if (!dt) return 0;
    gw_time_filter f;
    char why[256];
    if (gw_parse_datetime(gw_req_ctx(req), dt, &f, why, sizeof why)) {
        gw_req_problem(req, 400, NULL, "parameter 'datetime': %s", why);
        return -1;
    }
    *from = f.has_lo ? f.lo : INT64_MIN / 2;
    *to = f.has_hi ? f.hi + 1 : INT64_MAX / 2;
    *given = 1;
    return 0;
}

static int h_all(gw_req *req)
{
    gw_coverage_http *cs = state_of(req);
    if (!cs) return 0;
    int64_t from = 0, to = 0;
    int given = 0;
    if (window_of(req, &from, &to, &given)) return 0;
    gw_scope *sc = NULL; /* a scoped token: the grids of its jurisdiction only */
    if (gw_req_scope_live(req, &sc)) return 0;
    pthread_rwlock_rdlock(&cs->lock);
    if (!cs->cov) {
        gw_scope_release(sc);
        return busy(req, cs);
    }
    size_t n = gw_coverage_count(cs->cov), shown = 0;
    for (size_t g = 0; g < n; g++)
        shown += gw_scope_has_grid_id(sc, gw_coverage_grid_id(cs->cov, g));
    int32_t *inc = given ? malloc((n + 1) * sizeof *inc) : NULL,
            *seen = given ? malloc((n + 1) * sizeof *seen) : NULL;
    if (given && inc && seen) gw_coverage_incidents(cs->cov, from, to, inc, seen);
    /* the road reach of the same grids (waits for a first computation after a change) */
    gw_reach_http *rh = gw_req_reach(req);
    const gw_model_snapshot *csnap = gw_coverage_snapshot(cs->cov);
    const gw_reach_grids *rt = gw_reach_http_acquire(rh, csnap, 30000);
    const gw_layer_data *rgrids = gw_snapshot_layer(csnap, GW_LAYER_GRIDS);
    gw_buf b = {0};
    gw_buf_printf(&b, "{\"seq\":%lld,\"count\":%zu,\"room_dist_m\":",
                  (long long)gw_coverage_seq(cs->cov), shown);
    gw_buf_num(&b, gw_coverage_get_opts(cs->cov)->room_dist_m, 3);
    gw_buf_str(&b, ",\"grids\":[");
    for (size_t g = 0, k = 0; g < n && (!given || (inc && seen)); g++) {
        if (!gw_scope_has_grid_id(sc, gw_coverage_grid_id(cs->cov, g))) continue;
        const gw_coverage_row *r = gw_coverage_row_at(cs->cov, g);
        gw_buf_str(&b, k++ ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(&b, gw_coverage_grid_id(cs->cov, g));
        gw_buf_add(&b, ",", 1);
        row_props(&b, r, given ? inc[g] : r->incidents, given ? seen[g] : r->seen);
        reach_props(&b, rt, rgrids, gw_coverage_grid_id(cs->cov, g));
        gw_buf_add(&b, "}", 1);
    }
    gw_buf_str(&b, "]}\n");
    gw_reach_http_release(rh, rt);
    pthread_rwlock_unlock(&cs->lock);
    gw_scope_release(sc);
    free(inc), free(seen);
    if (b.oom || (given && (!inc || !seen))) gw_req_problem(req, 500, NULL, "out of memory");
    else gw_req_respond(req, 200, "application/json", b.data, b.len);
    gw_buf_free(&b);
    return 0;
}

static int h_one(gw_req *req)
{
    gw_coverage_http *cs = state_of(req);
    if (!cs) return 0;
    const char *id = gw_req_param(req, "grid");
    int64_t from = 0, to = 0;
    int given = 0;
    if (window_of(req, &from, &to, &given)) return 0;
    gw_scope *sc = NULL; /* a grid outside a scoped token's jurisdiction: as if it did not exist */
    if (gw_req_scope_live(req, &sc)) return 0;
    int outside = !gw_scope_has_grid_id(sc, id);
    gw_scope_release(sc);
    pthread_rwlock_rdlock(&cs->lock);
    if (!cs->cov) return busy(req, cs);
    size_t row = 0;
    if (outside || gw_coverage_find(cs->cov, id, &row)) {
        pthread_rwlock_unlock(&cs->lock);
        gw_req_problem(req, 404, NULL, "no grid '%s' in the published grid set", id ? id : "");
        return 0;
    }
    size_t n = gw_coverage_count(cs->cov);
    int32_t *inc = given ? malloc((n + 1) * sizeof *inc) : NULL,
            *seen = given ? malloc((n + 1) * sizeof *seen) : NULL;
    if (given && inc && seen) gw_coverage_incidents(cs->cov, from, to, inc, seen);
    gw_coverage_row r1 = *gw_coverage_row_at(cs->cov, row), *r = &r1;
    gw_coverage_blind_spots bs;
    gw_status bst = gw_coverage_blind(gw_req_ctx(req), cs->cov, row, &bs);
    if (bst) {
        pthread_rwlock_unlock(&cs->lock);
        free(inc), free(seen);
        gw_req_problem(req, 500, NULL, "cannot build the blind spots of grid '%s': %s", id,
                       gw_ctx_errmsg(gw_req_ctx(req)));
        return 0;
    }
    r1.blind_parts = bs.parts;
    gw_buf b = {0};
    gw_buf_str(&b, "{\"type\":\"Feature\",\"id\":");
    gw_buf_json_str(&b, id);
    gw_buf_printf(&b, ",\"properties\":{\"grid\":");
    gw_buf_json_str(&b, id);
    gw_buf_printf(&b, ",\"seq\":%lld,", (long long)gw_coverage_seq(cs->cov));
    row_props(&b, r, given && inc && seen ? inc[row] : r->incidents,
              given && inc && seen ? seen[row] : r->seen);
    gw_buf_str(&b, ",\"blind_kept_m2\":");
    gw_buf_num(&b, bs.kept_m2, 3);
    gw_reach_http *rh = gw_req_reach(req);
    const gw_model_snapshot *csnap = gw_coverage_snapshot(cs->cov);
    const gw_reach_grids *rt = gw_reach_http_acquire(rh, csnap, 30000);
    reach_props(&b, rt, gw_snapshot_layer(csnap, GW_LAYER_GRIDS), id);
    gw_reach_http_release(rh, rt);
    gw_buf_str(&b, "},\"geometry\":");
    gw_geojson_writer w = {.prec = 7};
    int bad = bs.wkb ? gw_geojson_write(&w, bs.wkb, bs.len, &b) : (gw_buf_str(&b, "null"), 0);
    gw_geojson_writer_free(&w);
    gw_buf_str(&b, "}\n");
    pthread_rwlock_unlock(&cs->lock);
    free(inc), free(seen);
    if (bad || b.oom)
        gw_req_problem(req, 500, NULL, "cannot write the blind spots of grid '%s'", id);
    else gw_req_respond(req, 200, "application/geo+json", b.data, b.len);
    gw_buf_free(&b);
    return 0;
}

static int h_cameras(gw_req *req)
{
    gw_coverage_http *cs = state_of(req);
    if (!cs) return 0;
    const char *slon = gw_req_query(req, "lon"), *slat = gw_req_query(req, "lat"),
               *slim = gw_req_query(req, "limit");
    double lon, lat;
    int64_t limit = 20;
    if (!slon || !slat || gw_parse_double(slon, &lon) || gw_parse_double(slat, &lat)) {
        gw_req_problem(req, 400, NULL,
                       "parameters 'lon' and 'lat' are required (decimal degrees, EPSG:4326)");
        return 0;
    }
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) {
        gw_req_problem(req, 400, NULL,
                       "lon %g / lat %g out of range (lon -180..180, lat -90..90)%s", lon, lat,
                       fabs(lon) <= 90 && fabs(lat) > 90 ? "; swapped?" : "");
        return 0;
    }
    if (slim && (gw_parse_int64(slim, &limit) || limit < 1 || limit > 1000)) {
        gw_req_problem(req, 400, NULL, "parameter 'limit' must be an integer 1..1000, not '%s'",
                       slim);
        return 0;
    }
    double x = lon, y = lat;
    gw_status st = to_metric(cs, &x, &y);
    if (st) {
        gw_req_problem(req, 400, NULL, "cannot transform lon %g lat %g into the metric CRS", lon,
                       lat);
        return 0;
    }
    size_t rows[1000];
    double dist[1000];
    gw_model *model = gw_live_model(cs->live);
    gw_model_snapshot *snap = gw_model_acquire(model);
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(gw_req_ctx(req), snap);
        return 0;
    }
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    /* a scoped token: the point in its jurisdiction, and only its cameras (all asked for, then
     * those kept, in order) */
    if (sc && !gw_scope_has_point(gw_req_ctx(req), sc, x, y)) {
        gw_req_scope_refuse_point(req, lon, lat);
        gw_scope_release(sc);
        gw_model_release(gw_req_ctx(req), snap);
        return 0;
    }
    size_t total = gw_coverage_cameras_at(snap, x, y, rows, dist, sc ? 1000 : (size_t)limit);
    if (sc) {
        size_t kept = 0;
        for (size_t i = 0; i < total && i < 1000; i++)
            if (gw_scope_has_row(gw_req_ctx(req), sc, d, rows[i]))
                rows[kept] = rows[i], dist[kept] = dist[i], kept++;
        total = kept;
    }
    gw_scope_release(sc);
    size_t k = total < (size_t)limit ? total : (size_t)limit;
    const double *cx = gw_layer_data_x(d, GW_MODEL_LONLAT),
                 *cy = gw_layer_data_y(d, GW_MODEL_LONLAT);
    int fname = gw_layer_field_index(GW_LAYER_CAMERAS, "name");
    int faz = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth"),
        ffov = gw_layer_field_index(GW_LAYER_CAMERAS, "fov");
    int frg = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
    json_t *feats = json_array();
    for (size_t i = 0; i < k; i++) {
        size_t r = rows[i];
        const char *name = gw_layer_data_text(d, r, fname);
        gw_value az = gw_layer_data_value(d, r, faz), fov = gw_layer_data_value(d, r, ffov),
                 rg = gw_layer_data_value(d, r, frg);
        json_array_append_new(
            feats, json_pack("{s:s,s:s,s:{s:o,s:f,s:o,s:o,s:o},s:{s:s,s:[f,f]}}", "type", "Feature",
                             "id", gw_layer_data_id(d, r), "properties", "name",
                             name ? json_string(name) : json_null(), "distance_m",
                             round(dist[i] * 100) / 100, "azimuth",
                             az.kind == GW_VAL_REAL ? json_real(az.d) : json_null(), "fov",
                             fov.kind == GW_VAL_REAL ? json_real(fov.d) : json_null(), "range",
                             rg.kind == GW_VAL_REAL ? json_real(rg.d) : json_null(), "geometry",
                             "type", "Point", "coordinates", cx[r], cy[r]));
    }
    gw_model_release(gw_req_ctx(req), snap);
    gw_req_respond_json(req, 200,
                        json_pack("{s:s,s:I,s:I,s:o}", "type", "FeatureCollection", "numberMatched",
                                  (json_int_t)total, "numberReturned", (json_int_t)k, "features",
                                  feats));
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/coverage", h_all, GW_ROLE_VIEWER, "coverage"},
    {"GET", "/analysis/coverage/{grid}", h_one, GW_ROLE_VIEWER, "coverage_grid"},
    {"GET", "/dispatch/cameras", h_cameras, GW_ROLE_VIEWER, "dispatch_cameras"},
};

const gw_route *gw_coverage_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

/* ---- the command ----------------------------------------------------------------------------- */
