/* dispatch.c — the dispatcher's engine: locate a point (grid, police rooms, cameras that see it;
 * in dispatch_locate.c), the nearest teams from a live team table with a uniform grid index, and
 * the position and assignment writes that keep that table current without waiting for a model
 * reload.
 * See dispatch.h for the distance conventions and how the table and the model stay in step. */
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

const char *gw_team_status_name(gw_team_status s)
{
    static const char *names[] = {"unknown", "available", "busy", "offline"};
    return (unsigned)s < GW_TEAM_STATUS_COUNT ? names[s] : "unknown";
}

gw_team_status gw_team_status_parse(const char *s)
{
    if (!s) return GW_TEAM_UNKNOWN;
    for (int i = 1; i < GW_TEAM_STATUS_COUNT; i++)
        if (strcmp(s, gw_team_status_name((gw_team_status)i)) == 0) return (gw_team_status)i;
    return GW_TEAM_UNKNOWN;
}

int64_t gw_dispatch_stale_s(const gw_dispatch *d) { return d ? d->stale_s : 0; }

/* ---- strings, hash --------------------------------------------------------------------- */

static const char *keep(gw_dispatch *d, const char *s)
{
    if (!s) return NULL;
    if (d->nstrs == d->capstrs) {
        size_t nc = d->capstrs ? d->capstrs * 2 : 1024;
        char **ns = realloc(d->strs, nc * sizeof *ns);
        if (!ns) return NULL;
        d->strs = ns, d->capstrs = nc;
    }
    char *c = strdup(s);
    if (c) d->strs[d->nstrs++] = c;
    return c;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static ptrdiff_t find(const gw_dispatch *d, const char *id)
{
    if (!d->hcap || !id) return -1;
    for (size_t i = hash_str(id) & (d->hcap - 1);; i = (i + 1) & (d->hcap - 1)) {
        int32_t v = d->hash[i];
        if (v < 0) return -1;
        if (strcmp(d->t[v].id, id) == 0) return v;
    }
}

static int rehash(gw_dispatch *d, size_t want)
{
    size_t hc = 64;
    while (hc < want * 2) hc *= 2;
    int32_t *h = malloc(hc * sizeof *h);
    if (!h) return -1;
    memset(h, 0xff, hc * sizeof *h);
    for (size_t k = 0; k < d->n; k++) {
        size_t i = hash_str(d->t[k].id) & (hc - 1);
        while (h[i] >= 0) i = (i + 1) & (hc - 1);
        h[i] = (int32_t)k;
    }
    free(d->hash);
    d->hash = h, d->hcap = hc;
    return 0;
}

/* ---- the grid index -------------------------------------------------------------------- */

static int32_t cell_of(const gw_dispatch *d, double x, double y)
{
    if (!d->head) return -1;
    double fx = floor((x - d->gx) / d->cs), fy = floor((y - d->gy) / d->cs);
    if (!(fx >= 0 && fy >= 0 && fx < d->ncx && fy < d->ncy)) return -1;
    return (int32_t)fy * d->ncx + (int32_t)fx;
}

static void unlink_team(gw_dispatch *d, int32_t k)
{
    tteam *t = &d->t[k];
    if (t->prev >= 0) d->t[t->prev].next = t->next;
    else if (t->cell >= 0) d->head[t->cell] = t->next;
    else d->outside = t->next;
    if (t->next >= 0) d->t[t->next].prev = t->prev;
    t->prev = t->next = -1;
}

static void link_team(gw_dispatch *d, int32_t k)
{
    tteam *t = &d->t[k];
    t->cell = cell_of(d, t->x, t->y);
    int32_t *h = t->cell >= 0 ? &d->head[t->cell] : &d->outside;
    t->prev = -1;
    t->next = *h;
    if (*h >= 0) d->t[*h].prev = k;
    *h = k;
}

/* Lay a new grid over the live teams with positions (about two per cell). */
static void regrid(gw_dispatch *d)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    size_t m = 0;
    for (size_t k = 0; k < d->n; k++) {
        const tteam *t = &d->t[k];
        if (!t->alive || !t->has_pos) continue;
        if (t->x < minx) minx = t->x;
        if (t->x > maxx) maxx = t->x;
        if (t->y < miny) miny = t->y;
        if (t->y > maxy) maxy = t->y;
        m++;
    }
    free(d->head);
    d->head = NULL;
    d->outside = -1;
    if (m >= 16) {
        double w = maxx - minx, h = maxy - miny, pad = 0.05 * (w > h ? w : h) + 1;
        minx -= pad, miny -= pad, w += 2 * pad, h += 2 * pad;
        double cs = sqrt(w * h / ((double)m / 2));
        if (!(cs > 1)) cs = 1;
        int nx = (int)ceil(w / cs), ny = (int)ceil(h / cs);
        if (nx < 1) nx = 1;
        if (ny < 1) ny = 1;
        if ((size_t)nx * ny <= 4 * m + 64 &&
            (d->head = malloc((size_t)nx * ny * sizeof *d->head))) {
            memset(d->head, 0xff, (size_t)nx * ny * sizeof *d->head);
            d->gx = minx, d->gy = miny, d->cs = cs, d->ncx = nx, d->ncy = ny;
        }
    }
    for (size_t k = 0; k < d->n; k++) {
        d->t[k].prev = d->t[k].next = -1;
        if (d->t[k].alive && d->t[k].has_pos) link_team(d, (int32_t)k);
    }
}

/* ---- PROJ pool ----------------------------------------------------------------------------- */

static xslot *slot_take(gw_ctx *ctx, gw_dispatch *d, int srid)
{
    pthread_mutex_lock(&d->pool_lock);
    xslot *s = NULL;
    for (int i = 0; i < POOL && !s; i++)
        if (!d->pool[i].busy && d->pool[i].tr && d->pool[i].srid == srid) s = &d->pool[i];
    for (int i = 0; i < POOL && !s; i++)
        if (!d->pool[i].busy) s = &d->pool[i];
    if (s) s->busy = 1;
    pthread_mutex_unlock(&d->pool_lock);
    if (!s) {
        gw_ctx_error(ctx, GW_ERR_INTERNAL, "all %d coordinate transforms are in use", POOL);
        return NULL;
    }
    if (s->tr && s->srid == srid) return s;
    gw_crs_transform_destroy(s->tr);
    s->tr = NULL;
    if (!s->ctx && gw_ctx_create(&s->ctx) != GW_OK) s->ctx = NULL;
    gw_crs src = {GW_CRS_EPSG, 4326}, dst = {GW_CRS_EPSG, srid};
    if (!s->ctx || gw_crs_transform_create(s->ctx, src, dst, &s->tr) != GW_OK) {
        gw_ctx_error(ctx, GW_ERR_CRS, "cannot transform EPSG:4326 to the metric CRS EPSG:%d: %s",
                     srid, s->ctx ? gw_ctx_errmsg(s->ctx) : "out of memory");
        s->tr = NULL;
        pthread_mutex_lock(&d->pool_lock);
        s->busy = 0;
        pthread_mutex_unlock(&d->pool_lock);
        return NULL;
    }
    s->srid = srid;
    return s;
}

static void slot_give(gw_dispatch *d, xslot *s)
{
    pthread_mutex_lock(&d->pool_lock);
    s->busy = 0;
    pthread_mutex_unlock(&d->pool_lock);
}

/* Project n lon/lat points in place. */
static gw_status project(gw_ctx *ctx, gw_dispatch *d, double *x, double *y, size_t n)
{
    int srid = gw_model_metric_srid(d->model);
    if (srid <= 0)
        return gw_ctx_error(ctx, GW_ERR_CRS, "the dataset has no metric CRS yet (empty store)");
    xslot *s = slot_take(ctx, d, srid);
    if (!s) return gw_ctx_errcode(ctx);
    gw_status st = gw_crs_transform_points(s->tr, x, y, n);
    if (st) gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(s->ctx));
    slot_give(d, s);
    return st;
}

gw_status gw_dispatch_to_metric(gw_ctx *ctx, gw_dispatch *d, double lon, double lat, double *x,
                                double *y)
{
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "point (lon %g, lat %g) is outside lon/lat range",
                            lon, lat);
    *x = lon, *y = lat;
    return project(ctx, d, x, y, 1);
}

/* ---- create, sync ---------------------------------------------------------------------- */

gw_status gw_dispatch_create(gw_ctx *ctx, gw_model *model, const gw_dispatch_opts *opts,
                             gw_dispatch **out)
{
    *out = NULL;
    if (!model) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_dispatch_create: no model");
    gw_dispatch *d = calloc(1, sizeof *d);
    if (!d) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    d->model = model;
    d->stale_s = opts && opts->stale_s > 0 ? opts->stale_s : 300;
    d->outside = -1;
    pthread_rwlock_init(&d->lock, NULL);
    pthread_mutex_init(&d->pool_lock, NULL);
    pthread_mutex_init(&d->cam_lock, NULL);
    pthread_mutex_init(&d->grp_lock, NULL);
    pthread_cond_init(&d->grp_cv, NULL);
    d->grp_tail = &d->grp_head;
    gw_model_snapshot *snap = gw_model_acquire(model);
    gw_status st = gw_dispatch_sync(ctx, d, snap);
    gw_model_release(ctx, snap);
    if (st) {
        gw_dispatch_destroy(d);
        return st;
    }
    *out = d;
    return GW_OK;
}

void gw_dispatch_destroy(gw_dispatch *d)
{
    if (!d) return;
    for (int i = 0; i < POOL; i++) {
        gw_crs_transform_destroy(d->pool[i].tr);
        gw_ctx_destroy(d->pool[i].ctx);
    }
    for (size_t i = 0; i < d->nstrs; i++) free(d->strs[i]);
    free(d->strs);
    free(d->t);
    free(d->hash);
    free(d->head);
    pthread_rwlock_destroy(&d->lock);
    pthread_mutex_destroy(&d->pool_lock);
    pthread_mutex_destroy(&d->cam_lock);
    pthread_mutex_destroy(&d->grp_lock);
    pthread_cond_destroy(&d->grp_cv);
    free(d);
}

gw_status gw_dispatch_sync(gw_ctx *ctx, gw_dispatch *d, const gw_model_snapshot *snap)
{
    const gw_layer_data *L = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    if (!L) return GW_OK;
    size_t n = gw_layer_data_count(L);
    int64_t lseq = gw_layer_data_seq(L);
    int fname = gw_layer_field_index(GW_LAYER_TEAMS, "name");
    int fstatus = gw_layer_field_index(GW_LAYER_TEAMS, "status");
    int fmem = gw_layer_field_index(GW_LAYER_TEAMS, "members");
    int fup = gw_layer_field_index(GW_LAYER_TEAMS, "updated_at");
    const double *lon = gw_layer_data_x(L, GW_MODEL_LONLAT),
                 *lat = gw_layer_data_y(L, GW_MODEL_LONLAT);
    const double *mx = gw_layer_data_x(L, GW_MODEL_METRIC),
                 *my = gw_layer_data_y(L, GW_MODEL_METRIC);
    gw_status st = GW_OK;
    pthread_rwlock_wrlock(&d->lock);
    if (d->n + n > d->cap) {
        size_t nc = d->cap ? d->cap : 256;
        while (nc < d->n + n) nc *= 2;
        tteam *nt = realloc(d->t, nc * sizeof *nt);
        if (!nt) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory for %zu teams", d->n + n);
        else d->t = nt, d->cap = nc;
    }
    if (!st && d->hcap < 2 * (d->n + n) && rehash(d, d->n + n))
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    uint8_t *seen = st ? NULL : calloc(d->n + n + 1, 1);
    if (!st && !seen) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    size_t outside = 0, placed = 0;
    for (size_t r = 0; !st && r < n; r++) {
        const char *id = gw_layer_data_id(L, r);
        ptrdiff_t k = find(d, id);
        if (k < 0) { /* a new team */
            const char *kid = keep(d, id);
            if (!kid) {
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            k = (ptrdiff_t)d->n++;
            memset(&d->t[k], 0, sizeof d->t[k]);
            d->t[k].id = kid;
            d->t[k].cell = d->t[k].prev = d->t[k].next = -1;
            d->t[k].seq = INT64_MIN;
            size_t i = hash_str(kid) & (d->hcap - 1);
            while (d->hash[i] >= 0) i = (i + 1) & (d->hcap - 1);
            d->hash[i] = (int32_t)k;
        }
        seen[k] = 1;
        tteam *t = &d->t[k];
        if (t->alive && t->seq > lseq) continue; /* we wrote it after this snapshot was read */
        int relink = !t->alive || !t->has_pos || t->x != mx[r] || t->y != my[r];
        if (t->alive && t->has_pos && relink) unlink_team(d, (int32_t)k);
        const char *nm = gw_layer_data_text(L, r, fname);
        if (!same(nm, t->name)) t->name = keep(d, nm);
        t->status = (uint8_t)gw_team_status_parse(gw_layer_data_text(L, r, fstatus));
        gw_value mv = gw_layer_data_value(L, r, fmem), uv = gw_layer_data_value(L, r, fup);
        t->members = mv.kind == GW_VAL_INT ? mv.i : -1;
        t->updated_at = uv.kind == GW_VAL_INT ? uv.i : NO_TIME;
        t->lon = lon[r], t->lat = lat[r], t->x = mx[r], t->y = my[r];
        t->has_pos = isfinite(mx[r]) && isfinite(my[r]);
        t->alive = 1;
        t->seq = lseq;
        if (relink && t->has_pos) link_team(d, (int32_t)k);
    }
    for (size_t k = 0; !st && k < d->n; k++) {
        tteam *t = &d->t[k];
        if (!seen[k] && t->alive && t->seq <= lseq) { /* deleted from the store */
            if (t->has_pos) unlink_team(d, (int32_t)k);
            t->alive = 0;
        }
        if (t->alive && t->has_pos) placed++, outside += t->cell < 0;
    }
    if (!st && placed >= 16 && (!d->head || outside * 10 > placed)) regrid(d);
    pthread_rwlock_unlock(&d->lock);
    free(seen);
    return st;
}

/* ---- nearest ------------------------------------------------------------------------------- */

void dsp_fill_hit(int64_t stale_s, const tteam *t, double x, double y, int64_t now, gw_team_hit *h,
                  const gw_nearest_opts *o)
{
    double dx = t->x - x, dy = t->y - y;
    h->id = t->id, h->name = t->name, h->status = (gw_team_status)t->status;
    h->members = t->members, h->lon = t->lon, h->lat = t->lat;
    h->distance_m = sqrt(dx * dx + dy * dy);
    h->bearing_deg = (dx == 0 && dy == 0) ? 0 : fmod(atan2(dx, dy) * DEG + 360.0, 360.0);
    if (o && o->lonlat) {
        double b = gw_geodesic_azimuth(o->lon, o->lat, t->lon, t->lat);
        if (isfinite(b)) h->bearing_deg = b;
    }
    h->updated_at = t->updated_at;
    h->age_s = t->updated_at == NO_TIME ? -1 : now - t->updated_at;
    h->stale = t->updated_at == NO_TIME || now - t->updated_at > stale_s;
}

typedef struct knn {
    const gw_dispatch *d;
    const gw_nearest_opts *o;
    double x, y, maxd;
    size_t k, n;
    int32_t best[256];
    double dist[256];
    double stale_d[256];
    size_t n_stale, stale_over;
} knn;

/* Is (da, a) before (db, b): distance, then id. */
static int before(const knn *q, double da, int32_t a, double db, int32_t b)
{
    if (da != db) return da < db;
    return strcmp(q->d->t[a].id, q->d->t[b].id) < 0;
}

static void consider(knn *q, int32_t k)
{
    const tteam *t = &q->d->t[k];
    if (!(q->o->status_mask & (1u << t->status))) return;
    double dx = t->x - q->x, dy = t->y - q->y, dd = sqrt(dx * dx + dy * dy);
    if (q->maxd > 0 && dd > q->maxd) return;
    if (q->n == q->k && !before(q, dd, k, q->dist[q->n - 1], q->best[q->n - 1])) return;
    if (q->o->keep && !q->o->keep(q->o->keep_user, t->x, t->y)) return; /* not in the subset */
    if (!q->o->include_stale &&
        (t->updated_at == NO_TIME || q->o->now - t->updated_at > q->o->stale_s)) {
        if (q->n_stale < 256) q->stale_d[q->n_stale++] = dd;
        else q->stale_over++;
        return;
    }
    size_t i = q->n < q->k ? q->n++ : q->n - 1;
    while (i > 0 && before(q, dd, k, q->dist[i - 1], q->best[i - 1])) {
        q->dist[i] = q->dist[i - 1], q->best[i] = q->best[i - 1];
        i--;
    }
    q->dist[i] = dd, q->best[i] = k;
}

gw_status gw_dispatch_nearest(gw_ctx *ctx, gw_dispatch *d, double x, double y,
                              const gw_nearest_opts *opts, gw_team_hit *hits, size_t *n,
                              size_t *stale_skipped)
{
    *n = 0;
    if (stale_skipped) *stale_skipped = 0;
    gw_nearest_opts o = opts ? *opts : (gw_nearest_opts){0};
    if (!o.k) o.k = 5;
    if (o.k > 256) return gw_ctx_error(ctx, GW_ERR_RANGE, "k = %zu is above the limit of 256", o.k);
    if (!o.status_mask) o.status_mask = 1u << GW_TEAM_AVAILABLE;
    if (!o.now) o.now = (int64_t)time(NULL);
    if (o.stale_s <= 0) o.stale_s = d->stale_s;
    if (!isfinite(x) || !isfinite(y))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "query point is not finite");
    knn q = {.d = d, .o = &o, .x = x, .y = y, .maxd = o.max_m, .k = o.k};
    pthread_rwlock_rdlock(&d->lock);
    for (int32_t k = d->outside; k >= 0; k = d->t[k].next) consider(&q, k);
    if (d->head) {
        /* Rings of cells around the query's cell (clamped into the grid).  Everything outside
         * the block of rings 0..r is at least `lb` away when the query lies inside the block. */
        int cx = (int)floor((x - d->gx) / d->cs), cy = (int)floor((y - d->gy) / d->cs);
        int qx = cx < 0 ? 0 : cx >= d->ncx ? d->ncx - 1 : cx;
        int qy = cy < 0 ? 0 : cy >= d->ncy ? d->ncy - 1 : cy;
        int rmax = d->ncx > d->ncy ? d->ncx : d->ncy;
        for (int r = 0; r <= rmax; r++) {
            for (int j = qy - r; j <= qy + r; j++) {
                if (j < 0 || j >= d->ncy) continue;
                int step = (j == qy - r || j == qy + r) ? 1 : 2 * r;
                for (int i = qx - r; i <= qx + r; i += step ? step : 1) {
                    if (i >= 0 && i < d->ncx)
                        for (int32_t k = d->head[j * d->ncx + i]; k >= 0; k = d->t[k].next)
                            consider(&q, k);
                }
            }
            double bx0 = d->gx + (qx - r) * d->cs, bx1 = d->gx + (qx + r + 1) * d->cs;
            double by0 = d->gy + (qy - r) * d->cs, by1 = d->gy + (qy + r + 1) * d->cs;
            double lb = 0;
            if (x >= bx0 && x <= bx1 && y >= by0 && y <= by1) {
                lb = x - bx0;
                if (bx1 - x < lb) lb = bx1 - x;
                if (y - by0 < lb) lb = y - by0;
                if (by1 - y < lb) lb = by1 - y;
            }
            if (q.n == q.k && q.dist[q.n - 1] < lb) break;
            if (q.maxd > 0 && q.maxd < lb) break;
        }
    }
    for (size_t i = 0; i < q.n; i++)
        dsp_fill_hit(o.stale_s, &d->t[q.best[i]], x, y, o.now, &hits[i], &o);
    if (stale_skipped) {
        double lim = q.n == q.k ? q.dist[q.n - 1] : INFINITY;
        size_t c = q.stale_over;
        for (size_t i = 0; i < q.n_stale; i++) c += q.stale_d[i] <= lim;
        *stale_skipped = c;
    }
    pthread_rwlock_unlock(&d->lock);
    *n = q.n;
    return GW_OK;
}

gw_status gw_dispatch_team(gw_ctx *ctx, gw_dispatch *d, const char *id, int64_t now,
                           gw_team_hit *out)
{
    if (!now) now = (int64_t)time(NULL);
    pthread_rwlock_rdlock(&d->lock);
    ptrdiff_t k = find(d, id);
    int ok = k >= 0 && d->t[k].alive;
    if (ok) dsp_fill_hit(d->stale_s, &d->t[k], d->t[k].x, d->t[k].y, now, out, NULL);
    pthread_rwlock_unlock(&d->lock);
    return ok ? GW_OK : gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no team '%s'", id ? id : "");
}

/* ---- writes -------------------------------------------------------------------------------- */

/* Apply a committed status change to the table. */
static void apply_status(gw_dispatch *d, const char *id, gw_team_status s, int64_t seq,
                         gw_team_hit *state)
{
    pthread_rwlock_wrlock(&d->lock);
    ptrdiff_t k = find(d, id);
    if (k >= 0) {
        tteam *t = &d->t[k];
        t->status = (uint8_t)s;
        if (seq > t->seq) t->seq = seq;
        if (state) dsp_fill_hit(d->stale_s, t, t->x, t->y, (int64_t)time(NULL), state, NULL);
    }
    pthread_rwlock_unlock(&d->lock);
}

_Static_assert((int)GW_POS_APPLIED == (int)GW_STORE_MOVE_APPLIED &&
                   (int)GW_POS_OLDER == (int)GW_STORE_MOVE_OLDER &&
                   (int)GW_POS_UNKNOWN == (int)GW_STORE_MOVE_UNKNOWN,
               "the store's move outcomes are the dispatch outcomes");

gw_status gw_dispatch_positions(gw_dispatch *d, gw_store *store, const gw_team_position *p,
                                size_t n, uint8_t *outcome, int64_t *seq)
{
    gw_ctx *ctx = gw_store_ctx(store);
    if (seq) *seq = 0;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        if (!p[i].id || !*p[i].id)
            return gw_ctx_error(ctx, GW_ERR_ARG, "position %zu has no team id", i);
        if (!(p[i].lon >= -180 && p[i].lon <= 180 && p[i].lat >= -90 && p[i].lat <= 90))
            return gw_ctx_error(ctx, GW_ERR_RANGE,
                                "position %zu (team '%s'): (%g, %g) is outside "
                                "lon/lat range",
                                i, p[i].id, p[i].lon, p[i].lat);
        /* A time from the future would make every real position after it look older (and the
         * team never stale); one outside 1900–2100 cannot be stored. */
        if (p[i].at > now + GW_POSITION_SKEW_S)
            return gw_ctx_error(ctx, GW_ERR_RANGE,
                                "position %zu (team '%s'): time %lld is %lld s ahead of the "
                                "server's clock; at most %d s are allowed",
                                i, p[i].id, (long long)p[i].at, (long long)(p[i].at - now),
                                (int)GW_POSITION_SKEW_S);
        char what[96];
        snprintf(what, sizeof what, "position %zu (team '%s'): time", i, p[i].id);
        if (gw_time_check(ctx, what, p[i].at)) return GW_ERR_RANGE;
    }
    if (!n) return GW_OK;
    double *xy = malloc(4 * n * sizeof *xy), *prev = xy ? xy + 2 * n : NULL;
    uint8_t *oc = outcome ? outcome : malloc(n);
    int64_t *sq = calloc(n, sizeof *sq);
    if (!xy || !oc || !sq) {
        free(xy), free(sq);
        if (oc != outcome) free(oc);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory for %zu positions", n);
    }
    for (size_t i = 0; i < n; i++) xy[i] = p[i].lon, xy[n + i] = p[i].lat;
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < n; i++) {
        ptrdiff_t k = find(d, p[i].id);
        int have = k >= 0 && d->t[k].alive && d->t[k].has_pos;
        prev[i] = have ? d->t[k].lon : NAN, prev[n + i] = have ? d->t[k].lat : NAN;
    }
    pthread_rwlock_unlock(&d->lock);
    gw_status st = project(ctx, d, xy, xy + n, n);
    gw_store_move *mv = st ? NULL : malloc(n * sizeof *mv);
    if (!st && !mv) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory for %zu positions", n);
    for (size_t i = 0; !st && i < n; i++)
        mv[i] = (gw_store_move){p[i].id, p[i].lon, p[i].lat, p[i].at, prev[i], prev[n + i]};
    if (!st) st = dsp_write_positions(d, store, mv, n, oc, sq);
    free(mv);
    if (!st) { /* committed: the table follows now */
        pthread_rwlock_wrlock(&d->lock);
        for (size_t i = 0; i < n; i++) {
            if (oc[i] != GW_POS_APPLIED) continue;
            if (seq && sq[i] > *seq) *seq = sq[i];
            ptrdiff_t k = find(d, p[i].id);
            if (k < 0 || !d->t[k].alive)
                continue; /* a team the table has not seen yet: sync adds it */
            tteam *t = &d->t[k];
            if (t->updated_at != NO_TIME && p[i].at < t->updated_at) continue;
            if (t->has_pos) unlink_team(d, (int32_t)k);
            t->lon = p[i].lon, t->lat = p[i].lat, t->x = xy[i], t->y = xy[n + i];
            t->has_pos = 1, t->updated_at = p[i].at;
            if (sq[i] > t->seq) t->seq = sq[i];
            link_team(d, (int32_t)k);
        }
        pthread_rwlock_unlock(&d->lock);
    }
    free(xy), free(sq);
    if (oc != outcome) free(oc);
    return st;
}

/* Current status of a team inside the transaction: 1 found, 0 missing, -1 error. */
static int team_status_db(gw_store *store, const char *team, gw_team_status *s)
{
    char text[32];
    gw_status st = gw_store_dispatch_team_status(store, team, text, sizeof text);
    if (st == GW_ERR_NOT_FOUND) return 0;
    if (st) return -1;
    *s = gw_team_status_parse(text);
    return 1;
}

/* After a refused write: the team's state, from the table, with the store's status. */
static gw_status refuse(gw_dispatch *d, gw_store *store, const char *team, gw_team_status s,
                        gw_team_hit *state, const char *why)
{
    gw_ctx *ctx = gw_store_ctx(store);
    if (state) {
        if (gw_dispatch_team(ctx, d, team, 0, state) != GW_OK) memset(state, 0, sizeof *state);
        state->status = s;
    }
    return gw_ctx_error(ctx, GW_ERR_CONFLICT, "team '%s' is %s%s", team, gw_team_status_name(s),
                        why);
}

gw_status gw_dispatch_assign(gw_dispatch *d, gw_store *store, const char *incident,
                             const char *team, const char *by, gw_team_hit *state, int64_t *seq)
{
    gw_ctx *ctx = gw_store_ctx(store);
    if (!incident || !*incident || !team || !*team)
        return gw_ctx_error(ctx, GW_ERR_ARG, "assign needs an incident and a team id");
    gw_status st = gw_store_begin(store);
    if (st) return st;
    int ch = 0, found;
    gw_team_status cur = GW_TEAM_UNKNOWN;
    char now[32];
    gw_time_format((int64_t)time(NULL), now, sizeof now);
    st = gw_store_dispatch_take(store, team, &ch);
    if (!st && ch != 1) {
        found = team_status_db(store, team, &cur);
        gw_store_rollback(store);
        if (found < 0) return gw_ctx_errcode(ctx);
        if (!found) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no team '%s'", team);
        return refuse(d, store, team, cur, state, ", not available");
    }
    if (!st) st = gw_store_dispatch_incident_exists(store, incident, &ch);
    if (!st && ch != 1) st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no incident '%s'", incident);
    if (!st) st = gw_store_dispatch_assign(store, incident, team, now, by);
    int64_t s = 0;
    if (!st) st = gw_store_log_change(store, GW_LAYER_TEAMS, "assign", team, NULL, &s);
    if (!st) st = gw_store_commit(store);
    if (st) {
        gw_store_rollback(store);
        return st;
    }
    apply_status(d, team, GW_TEAM_BUSY, s, state);
    if (seq) *seq = s;
    return GW_OK;
}

gw_status gw_dispatch_release(gw_dispatch *d, gw_store *store, const char *team,
                              const char *incident, const char *by, gw_team_hit *state,
                              int64_t *seq)
{
    gw_ctx *ctx = gw_store_ctx(store);
    if (!team || !*team) return gw_ctx_error(ctx, GW_ERR_ARG, "release needs a team id");
    gw_status st = gw_store_begin(store);
    if (st) return st;
    char now[32];
    gw_time_format((int64_t)time(NULL), now, sizeof now);
    int ch = 0;
    st = gw_store_dispatch_release(store, team, incident, now, by, &ch);
    if (!st && ch != 1) {
        gw_team_status cur = GW_TEAM_UNKNOWN;
        int found = team_status_db(store, team, &cur);
        gw_store_rollback(store);
        if (found < 0) return gw_ctx_errcode(ctx);
        if (!found) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no team '%s'", team);
        return refuse(d, store, team, cur, state,
                      incident ? " and has no open assignment to that incident"
                               : " and has no open assignment");
    }
    if (!st) st = gw_store_dispatch_free(store, team);
    int64_t s = 0;
    if (!st) st = gw_store_log_change(store, GW_LAYER_TEAMS, "release", team, NULL, &s);
    if (!st) st = gw_store_commit(store);
    if (st) {
        gw_store_rollback(store);
        return st;
    }
    apply_status(d, team, GW_TEAM_AVAILABLE, s, state);
    if (seq) *seq = s;
    return GW_OK;
}
