/* coverage.c — per-grid camera coverage: covered area, cameras, incidents seen, police-room
 * reach; the full computation split across worker threads and the incremental update that
 * recomputes only the grids a changed camera or room touches (and forgets the blind spots built
 * for the grids a changed camera touches).
 * See include/gridwatch/coverage.h for the definitions. */
#include "coverage_work.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- views ------------------------------------------------------------------------------- */

void cov_camcols_init(camcols *c, const gw_layer_data *d)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    if (!d) return;
    int faz = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth");
    int ffov = gw_layer_field_index(GW_LAYER_CAMERAS, "fov");
    int frg = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
    c->x = gw_layer_data_x(d, GW_MODEL_METRIC), c->y = gw_layer_data_y(d, GW_MODEL_METRIC);
    c->az = gw_layer_data_reals(d, faz), c->fov = gw_layer_data_reals(d, ffov);
    c->rg = gw_layer_data_reals(d, frg);
    c->naz = gw_layer_data_nulls(d, faz), c->nfov = gw_layer_data_nulls(d, ffov);
    c->nrg = gw_layer_data_nulls(d, frg);
    c->conv = gw_layer_data_view_factors(d, 0), c->scale = gw_layer_data_view_factors(d, 1);
    c->fst = gw_layer_field_index(GW_LAYER_CAMERAS, "status");
}

/* 1 when camera row r has a view (online, range > 0, fov > 0), with its metric parameters. */
int cov_cam_view(const camcols *c, size_t r, double *az, double *fov, double *rg)
{
    if (!c->d || !c->rg || !c->x || (c->nrg && c->nrg[r]) || !(c->rg[r] > 0)) return 0;
    if (c->on) {
        if (!c->on[r]) return 0;
    } else {
        const char *s = gw_layer_data_text(c->d, r, c->fst);
        if (s && strcasecmp(s, "offline") == 0) return 0;
    }
    double f = (!c->fov || (c->nfov && c->nfov[r])) ? 360 : c->fov[r];
    if (!(f > 0)) return 0;
    *fov = f;
    *az = (!c->az || (c->naz && c->naz[r])) ? 0 : c->az[r];
    *rg = c->rg[r];
    if (c->conv && c->scale) *az -= c->conv[r], *rg *= c->scale[r];
    return 1;
}

static int sector_n(double f) { return (int)ceil(f / STEP_DEG); }

size_t gw_coverage_sector(double x, double y, double a, double f, double r, double *xy, size_t cap)
{
    if (!(r > 0) || !(f > 0) || !xy) return 0;
    int disc = f >= 360;
    if (disc) f = 360;
    int n = sector_n(f);
    size_t need = disc ? (size_t)n + 1 : (size_t)n + 3, k = 0;
    if (cap < need) return 0;
    if (!disc) xy[0] = x, xy[1] = y, k = 1;
    for (int i = 0; i < (disc ? n : n + 1); i++, k++) {
        /* The same expression as bench/coverage_postgis.sql: radians(a - f/2 + f*i/n). */
        double t = (a - f / 2 + f * i / n) * (M_PI / 180.0);
        xy[2 * k] = x + r * sin(t), xy[2 * k + 1] = y + r * cos(t);
    }
    xy[2 * k] = xy[0], xy[2 * k + 1] = xy[1];
    return k + 1;
}

int gw_coverage_sector_contains(double x, double y, double a, double f, double r, double px,
                                double py)
{
    if (!(r > 0) || !(f > 0)) return 0;
    double dx = px - x, dy = py - y;
    if (dx * dx + dy * dy > r * r) return 0;
    if (dx == 0 && dy == 0) return 1;
    int disc = f >= 360;
    if (disc) f = 360;
    int n = sector_n(f);
    double start = a - f / 2;
    double u = fmod(atan2(dx, dy) * (180.0 / M_PI) - start, 360.0);
    if (u < 0) u += 360;
    if (!disc && u > f) {
        if (u > 360 - 1e-9) u = 0;
        else return 0;
    }
    int i = (int)(u / (f / n));
    if (i >= n) i = n - 1;
    double t0 = (start + f * i / n) * (M_PI / 180.0),
           t1 = (start + f * (i + 1) / n) * (M_PI / 180.0);
    double x0 = x + r * sin(t0), y0 = y + r * cos(t0), x1 = x + r * sin(t1), y1 = y + r * cos(t1);
    double ex = x1 - x0, ey = y1 - y0;
    double cp = ex * (py - y0) - ey * (px - x0), ca = ex * (y - y0) - ey * (x - x0);
    return cp * ca >= 0;
}

GEOSGeometry *covw_poly_from(GEOSContextHandle_t h, const double *xy, size_t n)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
    GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
    if (!ring) {
        if (cs) GEOSCoordSeq_destroy_r(h, cs);
        return NULL;
    }
    GEOSGeometry *p = GEOSGeom_createPolygon_r(h, ring, NULL, 0);
    if (!p) GEOSGeom_destroy_r(h, ring);
    return p;
}

/* ---- incidents ----------------------------------------------------------------------------- */

typedef struct seen_q {
    const camcols *cc;
    double x, y;
    int hit;
} seen_q;

static int seen_visit(void *user, size_t r)
{
    seen_q *s = user;
    const camcols *c = s->cc;
    double az, fov, rg, dx = c->x[r] - s->x, dy = c->y[r] - s->y;
    /* Out of reach first (most candidates of the max-range box): no view parameters read. */
    if (c->rg && !(c->nrg && c->nrg[r])) {
        double m = c->rg[r] * (c->scale ? c->scale[r] : 1);
        if (dx * dx + dy * dy > m * m) return 0;
    }
    if (cov_cam_view(s->cc, r, &az, &fov, &rg) &&
        gw_coverage_sector_contains(s->cc->x[r], s->cc->y[r], az, fov, rg, s->x, s->y))
        return s->hit = 1;
    return 0;
}

static void incident_flag(gw_coverage *c, size_t i, const double *ix, const double *iy, int fgrid,
                          gw_ctx *ctx, int regrid)
{
    if (regrid) {
        const char *gid = gw_layer_data_text(c->incs, i, fgrid);
        ptrdiff_t g = gid ? gw_layer_data_find(c->grids, gid) : -1;
        if (g < 0 && !gid && gw_layer_data_grid_at(ctx, c->grids, ix[i], iy[i], &g)) g = -1;
        c->inc_grid[i] = (int32_t)g;
    }
    seen_q s = {&c->cc, ix[i], iy[i], 0};
    if (c->cams && gw_layer_data_count(c->cams)) {
        gw_bbox q = {s.x - c->max_range, s.y - c->max_range, s.x + c->max_range,
                     s.y + c->max_range};
        gw_layer_data_query_points(c->cams, &q, seen_visit, &s);
    }
    c->inc_seen[i] = (uint8_t)s.hit;
}

void gw_coverage_incidents(const gw_coverage *c, int64_t t_from, int64_t t_to, int32_t *inc,
                           int32_t *seen)
{
    memset(inc, 0, c->n * sizeof *inc);
    memset(seen, 0, c->n * sizeof *seen);
    if (!c->n_inc) return;
    int ft = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    const int64_t *t = gw_layer_data_ints(c->incs, ft);
    const uint8_t *tn = gw_layer_data_nulls(c->incs, ft);
    int all = !t_from && !t_to;
    for (size_t i = 0; i < c->n_inc; i++) {
        int32_t g = c->inc_grid[i];
        if (g < 0) continue;
        if (!all && (!t || (tn && tn[i]) || t[i] < t_from || t[i] >= t_to)) continue;
        inc[g]++, seen[g] += c->inc_seen[i];
    }
}

/* From incidents `oi` (the version inc_grid and inc_seen are of) to c->incs by the rows that
 * differ: the others keep their grid and flag, as a full pass would give them for the same
 * cameras (changed cameras re-flag the incidents under them afterwards).  A new incident costs
 * a merge over the rows instead of a camera query for each of a million.  *done = 0 (nothing
 * changed) when too many rows differ for that to pay. */
static gw_status incidents_delta(gw_ctx *ctx, gw_coverage *c, const gw_layer_data *oi, int *done)
{
    *done = 0;
    size_t nn = gw_layer_data_count(c->incs), changed = 0;
    int32_t *map = malloc((nn + 1) * sizeof *map), *grid = malloc((nn + 1) * sizeof *grid);
    uint8_t *seen = calloc(nn + 1, 1);
    gw_status st = map && grid && seen ? GW_OK
                                       : gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    int fgrid = gw_layer_field_index(GW_LAYER_INCIDENTS, "grid"),
        ftime = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    uint32_t fields = (fgrid > 0 ? 1u << fgrid : 0) | (ftime > 0 ? 1u << ftime : 0);
    if (!st) st = gw_layer_data_match(ctx, oi, c->incs, fields, nn / 16 + 64, map, &changed);
    if (st) {
        free(map), free(grid), free(seen);
        if (st != GW_ERR_RANGE) return st;
        gw_ctx_clear_error(ctx);
        return GW_OK;
    }
    const double *ix = gw_layer_data_x(c->incs, GW_MODEL_METRIC),
                 *iy = gw_layer_data_y(c->incs, GW_MODEL_METRIC);
    int32_t *og = c->inc_grid;
    uint8_t *os = c->inc_seen;
    c->inc_grid = grid, c->inc_seen = seen, c->n_inc = nn;
    for (size_t j = 0; j < nn; j++) {
        if (map[j] >= 0) grid[j] = og[map[j]], seen[j] = os[map[j]];
        else incident_flag(c, j, ix, iy, fgrid, ctx, 1);
    }
    free(og), free(os), free(map);
    *done = 1;
    return GW_OK;
}

/* Recount every grid's incidents; flag the rows whose counts changed. */
static gw_status recount(gw_coverage *c)
{
    int32_t *inc = malloc((c->n + 1) * sizeof *inc), *seen = malloc((c->n + 1) * sizeof *seen);
    if (!inc || !seen) {
        free(inc), free(seen);
        return GW_ERR_NOMEM;
    }
    gw_coverage_incidents(c, c->o.t_from, c->o.t_to, inc, seen);
    for (size_t g = 0; g < c->n; g++) {
        gw_coverage_row *r = &c->rows[g];
        if (r->incidents != inc[g] || r->seen != seen[g]) c->changed[g] = 1;
        r->incidents = inc[g], r->seen = seen[g];
        r->incident_share = inc[g] ? (double)seen[g] / inc[g] : NAN;
    }
    free(inc), free(seen);
    return GW_OK;
}

/* ---- worker threads -------------------------------------------------------------------------- */

typedef struct job {
    gw_coverage *cov;
    const size_t *list; /* grid rows to compute */
    size_t nlist;
    int incidents; /* also redo every incident's grid and flag */
    atomic_size_t next, done, inc_next;
    atomic_int stop;
} job;

typedef struct thread_arg {
    job *j;
    worker w;
    gw_ctx *parent;
    int first; /* the calling thread: reports progress */
    char msg[512];
} thread_arg;

static void *work(void *arg)
{
    thread_arg *a = arg;
    job *j = a->j;
    worker *w = &a->w;
    gw_coverage *c = j->cov;
    w->cov = c;
    if (!w->ctx) {
        if (gw_ctx_create(&w->ctx)) {
            w->st = GW_ERR_NOMEM;
            snprintf(a->msg, sizeof a->msg, "coverage: cannot create a worker context");
            atomic_store(&j->stop, 1);
            return NULL;
        }
        w->own_ctx = 1;
    }
    w->h = gw_ctx_geos(w->ctx);
    while (!w->st && !atomic_load(&j->stop)) {
        size_t k = atomic_fetch_add(&j->next, 1);
        if (k >= j->nlist) break;
        w->st = c->move.on ? covw_move_grid(w, j->list[k]) : covw_grid_compute(w, j->list[k]);
        size_t d = atomic_fetch_add(&j->done, 1) + 1;
        if (a->first && (d % 64 == 0 || d == j->nlist))
            gw_ctx_progress(a->parent, "coverage", (double)d, (double)j->nlist);
    }
    if (!w->st && j->incidents && c->n_inc) {
        const double *ix = gw_layer_data_x(c->incs, GW_MODEL_METRIC),
                     *iy = gw_layer_data_y(c->incs, GW_MODEL_METRIC);
        int fgrid = gw_layer_field_index(GW_LAYER_INCIDENTS, "grid");
        for (;;) {
            size_t i0 = atomic_fetch_add(&j->inc_next, INC_CHUNK);
            if (i0 >= c->n_inc || atomic_load(&j->stop)) break;
            size_t i1 = i0 + INC_CHUNK < c->n_inc ? i0 + INC_CHUNK : c->n_inc;
            for (size_t i = i0; i < i1; i++) incident_flag(c, i, ix, iy, fgrid, w->ctx, 1);
        }
    }
    if (w->st) {
        snprintf(a->msg, sizeof a->msg, "%s", gw_ctx_errmsg(w->ctx));
        atomic_store(&j->stop, 1);
    }
    covw_free(w);
    if (w->own_ctx) gw_ctx_destroy(w->ctx);
    return NULL;
}

void covw_free(worker *w)
{
    free(w->cand), free(w->geoms), free(w->tmp), free(w->parts), free(w->venv), free(w->uf),
        free(w->next), free(w->head);
    covw_area_destroy(w->area);
    for (int k = 0; k < 2; k++) {
        free(w->near[k].par), free(w->near[k].xy), free(w->near[k].ring);
        memset(&w->near[k], 0, sizeof w->near[k]);
    }
    w->cand = NULL, w->geoms = w->tmp = w->parts = NULL, w->venv = NULL, w->area = NULL;
    w->uf = w->next = w->head = NULL, w->capcand = w->capg = w->capparts = 0;
}

/* Run the grids of `list` (and the incident pass) on up to opts.threads threads, the calling
 * thread being one of them. */
static gw_status run(gw_ctx *ctx, gw_coverage *c, const size_t *list, size_t nlist, int incidents)
{
    job j = {.cov = c, .list = list, .nlist = nlist, .incidents = incidents};
    int nt = c->o.threads;
    /* A grid is ~0.1-10 ms of work and a thread ~50 µs to start: a camera move's 2-4 grids
     * are spread too (the wall time of the move, not its CPU). */
    size_t work_items = nlist + (incidents ? c->n_inc / 2000 : 0);
    /* a camera's difference is ~0.1 ms a grid: a thread would cost more than it saves */
    if (c->move.on && !incidents) work_items = 1;
    if ((size_t)nt > work_items) nt = (int)work_items;
    if (nt < 1) nt = 1;
    /* no grids and no cameras yet (an empty database has no metric CRS): nothing to compute */
    if (c->srid <= 0 && nlist == 0 && c->n_inc == 0) return GW_OK;
    thread_arg *a = calloc((size_t)nt, sizeof *a);
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    if (!a || !th) {
        free(a), free(th);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    }
    int started = 1;
    for (int i = 0; i < nt; i++) a[i].j = &j, a[i].parent = ctx;
    a[0].w.ctx = ctx, a[0].first = 1;
    for (int i = 1; i < nt; i++, started++)
        if (pthread_create(&th[i], NULL, work, &a[i])) break;
    work(&a[0]);
    for (int i = 1; i < started; i++) pthread_join(th[i], NULL);
    gw_status st = GW_OK;
    for (int i = 0; i < started && !st; i++)
        if (a[i].w.st) st = i ? gw_ctx_error(ctx, a[i].w.st, "%s", a[i].msg) : a[i].w.st;
    free(a), free(th);
    return st;
}

/* ---- create / update ------------------------------------------------------------------------- */

/* Camera row r of c's layer: not offline (statuses are interned: *last / *last_on remember
 * the last text seen and its answer). */
static int cam_status_on(const gw_coverage *c, size_t r, const char **last, int *last_on)
{
    const char *st = gw_layer_data_text(c->cams, r, c->cc.fst);
    int on = st == *last
                 ? *last_on
                 : !(st && (st[0] == 'o' || st[0] == 'O') && strcasecmp(st, "offline") == 0);
    *last = st, *last_on = on;
    return on;
}

static double cam_reach(const gw_coverage *c, size_t r)
{
    const double *rgs = c->cc.rg;
    const uint8_t *nrg = c->cc.nrg;
    return rgs && !(nrg && nrg[r]) ? rgs[r] * (c->cc.scale ? c->cc.scale[r] : 1) : 0;
}

/* The snapshot's layers, the camera columns, each camera's status and the longest reach.
 * prev (may be NULL): the camera layer these results were last computed on, with its statuses
 * prev_on and reach prev_max: when the new layer is prev with a few rows rewritten (a camera
 * move), only those rows are read (c->rw lists them) — an update then costs nothing per
 * camera.  The reach may then stay longer than any camera's (a query margin, never short). */
static void take_layers(gw_coverage *c, const gw_layer_data *prev, const uint8_t *prev_on,
                        double prev_max)
{
    c->grids = gw_snapshot_layer(c->snap, GW_LAYER_GRIDS);
    c->cams = gw_snapshot_layer(c->snap, GW_LAYER_CAMERAS);
    c->rooms = gw_snapshot_layer(c->snap, GW_LAYER_POLICE_ROOMS);
    c->incs = gw_snapshot_layer(c->snap, GW_LAYER_INCIDENTS);
    cov_camcols_init(&c->cc, c->cams);
    c->max_range = 0;
    size_t nc = c->cams ? gw_layer_data_count(c->cams) : 0;
    /* Owned by the caller from here (update frees the old one after diffing). */
    c->cam_on = malloc(nc + 1);
    const char *last = NULL;
    int last_on = 1;
    c->nrw = 0;
    c->rw_ok = prev && prev_on && c->cam_on && c->cams != prev &&
               gw_layer_data_rewritten(prev, c->cams, c->rw, COV_RW_CAP, &c->nrw);
    if (c->rw_ok) {
        memcpy(c->cam_on, prev_on, nc);
        c->max_range = prev_max;
        for (size_t k = 0; k < c->nrw; k++) {
            size_t r = c->rw[k];
            int on = cam_status_on(c, r, &last, &last_on);
            c->cam_on[r] = (uint8_t)on;
            double rg = cam_reach(c, r);
            if (on && rg > c->max_range) c->max_range = rg;
        }
        c->cc.on = c->cam_on;
        return;
    }
    /* One pass, the status read once per camera. */
    for (size_t r = 0; r < nc; r++) {
        int on = cam_status_on(c, r, &last, &last_on);
        if (c->cam_on) c->cam_on[r] = (uint8_t)on;
        double rg = cam_reach(c, r);
        if (on && rg > c->max_range) c->max_range = rg;
    }
    c->cc.on = c->cam_on;
}

void cov_blind_forget(gw_coverage *c, size_t g)
{
    if (!c->blind_done || g >= c->n || !c->blind_done[g]) return;
    free(c->blind[g]);
    c->blind[g] = NULL, c->blind_len[g] = 0, c->blind_parts[g] = -1, c->blind_kept[g] = 0;
    c->blind_done[g] = 0;
}

static void free_grids(gw_coverage *c)
{
    if (c->blind)
        for (size_t g = 0; g < c->n; g++) free(c->blind[g]);
    free(c->blind), free(c->blind_len), free(c->blind_parts), free(c->blind_kept),
        free(c->blind_done), free(c->rows), free(c->genv), free(c->changed);
    c->blind = NULL, c->blind_len = NULL, c->blind_parts = NULL, c->blind_kept = NULL,
    c->blind_done = NULL, c->rows = NULL, c->genv = NULL, c->changed = NULL, c->n = 0;
}

static gw_status alloc_incidents(gw_ctx *ctx, gw_coverage *c)
{
    free(c->inc_grid), free(c->inc_seen);
    c->n_inc = c->incs ? gw_layer_data_count(c->incs) : 0;
    c->inc_grid = malloc((c->n_inc + 1) * sizeof *c->inc_grid);
    c->inc_seen = calloc(c->n_inc + 1, 1);
    if (!c->inc_grid || !c->inc_seen)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    return GW_OK;
}

/* The per-grid arrays for c->snap's grids (rows zeroed, envelopes filled). */
gw_status cov_alloc_grids(gw_ctx *ctx, gw_coverage *c)
{
    free_grids(c);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t n = c->grids ? gw_layer_data_count(c->grids) : 0;
    c->rows = calloc(n + 1, sizeof *c->rows);
    c->genv = calloc(n + 1, sizeof *c->genv);
    c->changed = malloc(n + 1);
    c->blind = calloc(n + 1, sizeof *c->blind);
    c->blind_len = calloc(n + 1, sizeof *c->blind_len);
    c->blind_parts = calloc(n + 1, sizeof *c->blind_parts);
    c->blind_kept = calloc(n + 1, sizeof *c->blind_kept);
    c->blind_done = calloc(n + 1, 1);
    if (!c->rows || !c->genv || !c->changed || !c->blind || !c->blind_len || !c->blind_parts ||
        !c->blind_kept || !c->blind_done)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    c->n = n;
    memset(c->changed, 1, n);
    for (size_t g = 0; g < n; g++) {
        const GEOSGeometry *geom = gw_layer_data_geom(c->grids, g, GW_MODEL_METRIC);
        gw_bbox *e = &c->genv[g];
        if (!geom || !GEOSGeom_getXMin_r(h, geom, &e->minx) ||
            !GEOSGeom_getYMin_r(h, geom, &e->miny) || !GEOSGeom_getXMax_r(h, geom, &e->maxx) ||
            !GEOSGeom_getYMax_r(h, geom, &e->maxy))
            *e = (gw_bbox){1, 1, 0, 0};
        c->rows[g].incident_share = NAN, c->rows[g].blind_parts = -1, c->blind_parts[g] = -1;
    }
    return GW_OK;
}

/* Every incident's grid and seen flag, and the grids' counts (changed[] is left as it was). */
gw_status cov_incidents_all(gw_ctx *ctx, gw_coverage *c)
{
    gw_status st = alloc_incidents(ctx, c);
    if (!st) st = run(ctx, c, NULL, 0, 1);
    if (!st) st = recount(c);
    return st;
}

/* Every grid and incident of c->snap. */
static gw_status full(gw_ctx *ctx, gw_coverage *c)
{
    gw_status st = cov_alloc_grids(ctx, c);
    size_t n = c->n, *list = st ? NULL : malloc((n + 1) * sizeof *list);
    if (!st && !list) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    for (size_t g = 0; !st && g < n; g++) list[g] = g;
    if (!st) st = alloc_incidents(ctx, c);
    if (!st) st = run(ctx, c, list, n, 1);
    free(list);
    if (!st) st = recount(c);
    if (!st) memset(c->changed, 1, n);
    return st;
}

/* A result for snap with options filled in and layers taken, no grid computed yet; takes over
 * the reference to snap (released on error). */
gw_status cov_new(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap,
                  const gw_coverage_opts *opts, gw_coverage **out)
{
    *out = NULL;
    if (!model || !snap) {
        gw_model_release(ctx, snap);
        return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: no model or snapshot");
    }
    gw_coverage *c = calloc(1, sizeof *c);
    if (!c) {
        gw_model_release(ctx, snap);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    }
    if (opts) c->o = *opts;
    if (c->o.min_blind_m2 < 0) c->o.min_blind_m2 = 100;
    if (!(c->o.room_dist_m > 0)) c->o.room_dist_m = 1000;
    if (c->o.threads <= 0) c->o.threads = 2;
    c->srid = gw_model_metric_srid(model);
    c->snap = snap;
    pthread_mutex_init(&c->blind_lock, NULL);
    take_layers(c, NULL, NULL, 0);
    *out = c;
    return GW_OK;
}

gw_status gw_coverage_compute(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap,
                              const gw_coverage_opts *opts, gw_coverage **out)
{
    gw_coverage *c = NULL;
    gw_status st = cov_new(ctx, model, snap, opts, &c);
    if (!st) st = full(ctx, c);
    if (st) {
        gw_coverage_destroy(ctx, c);
        return st;
    }
    *out = c;
    return GW_OK;
}

void gw_coverage_destroy(gw_ctx *ctx, gw_coverage *c)
{
    if (!c) return;
    free_grids(c);
    free(c->inc_grid), free(c->inc_seen), free(c->cam_on);
    gw_crs_transform_destroy(c->bl_tr);
    gw_ctx_destroy(c->bl_ctx);
    pthread_mutex_destroy(&c->blind_lock);
    gw_model_release(ctx, c->snap);
    free(c);
}

typedef struct mark_q {
    gw_coverage *c;
    const gw_bbox *box;
    uint8_t bits; /* 1: recompute; 2: a camera's view changed there (blind spots) */
} mark_q;

static void mark_visit(void *item, void *user)
{
    mark_q *m = user;
    size_t g = gw_model_tree_row(item);
    const gw_bbox *e = &m->c->genv[g], *b = m->box;
    if (g < m->c->n &&
        !(e->maxx < b->minx || e->minx > b->maxx || e->maxy < b->miny || e->miny > b->maxy))
        m->c->changed[g] |= m->bits;
}

typedef struct inc_q {
    gw_coverage *c;
    gw_ctx *ctx;
    const double *ix, *iy;
    const int64_t *t;
    const uint8_t *tn;
    const cov_view *was, *now; /* one camera changed: its view before and after, else NULL */
} inc_q;

static int inc_visit(void *user, size_t i)
{
    inc_q *q = user;
    gw_coverage *c = q->c;
    uint8_t was = c->inc_seen[i];
    if (q->now) {
        /* One camera changed: under its new view the incident is seen; one it saw before and
         * no longer does asks the other cameras; any other keeps its flag. */
        const cov_view *a = q->was, *b = q->now;
        double x = q->ix[i], y = q->iy[i];
        if (b->on && gw_coverage_sector_contains(b->x, b->y, b->az, b->fov, b->rg, x, y))
            c->inc_seen[i] = 1;
        else if (was && a->on &&
                 gw_coverage_sector_contains(a->x, a->y, a->az, a->fov, a->rg, x, y))
            incident_flag(c, i, q->ix, q->iy, 0, q->ctx, 0);
        else return 0;
    } else {
        incident_flag(c, i, q->ix, q->iy, 0, q->ctx, 0);
    }
    int32_t g = c->inc_grid[i];
    if (was == c->inc_seen[i] || g < 0) return 0;
    if ((c->o.t_from || c->o.t_to) &&
        (!q->t || (q->tn && q->tn[i]) || q->t[i] < c->o.t_from || q->t[i] >= c->o.t_to))
        return 0;
    gw_coverage_row *r = &c->rows[g];
    r->seen += c->inc_seen[i] ? 1 : -1;
    r->incident_share = r->incidents ? (double)r->seen / r->incidents : NAN;
    c->changed[g] = 1;
    return 0;
}

gw_status gw_coverage_update(gw_ctx *ctx, gw_coverage *c, gw_model_snapshot *snap,
                             size_t *n_changed)
{
    if (n_changed) *n_changed = 0;
    if (!c || !snap) {
        gw_model_release(ctx, snap);
        return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: no results or snapshot to update");
    }
    gw_model_snapshot *old = c->snap;
    const gw_layer_data *og = c->grids, *oc = c->cams, *orm = c->rooms, *oi = c->incs;
    camcols occ = c->cc;
    uint8_t *old_on = c->cam_on;
    c->snap = snap;
    take_layers(c, oc, old_on, c->max_range);
    gw_status st = GW_OK;
    if (c->grids != og) {
        st = full(ctx, c);
        free(old_on);
        gw_model_release(ctx, old);
        if (n_changed) *n_changed = c->n;
        return st;
    }
    cov_boxes b = {0};
    size_t nroom = 0;
    size_t one = SIZE_MAX;
    if (c->cams != oc &&
        !cov_diff_cams_by_row(&occ, &c->cc, c->rw_ok ? c->rw : NULL, c->nrw, 64, &b, &one)) {
        cov_diff_points(oc, c->cams, 0, &b);
        one = SIZE_MAX;
    }
    size_t ncam = b.n;
    if (c->rooms != orm) cov_diff_points(orm, c->rooms, c->o.room_dist_m, &b), nroom = b.n - ncam;
    /* One camera row changed and nothing else that shapes a grid's figures: its grids move by
     * the difference of its view (coverage_move.c), not recomputed. */
    c->move.on = one != SIZE_MAX && c->rooms == orm && !getenv("GW_COVERAGE_NO_DELTA");
    if (c->move.on) {
        cov_view *mv[2] = {&c->move.was, &c->move.now};
        const camcols *cc[2] = {&occ, &c->cc};
        for (int k = 0; k < 2; k++) {
            cov_view *v = mv[k];
            v->on = cov_cam_view(cc[k], one, &v->az, &v->fov, &v->rg);
            v->x = cc[k]->x[one], v->y = cc[k]->y[one];
            v->n = v->on ? gw_coverage_sector(v->x, v->y, v->az, v->fov, v->rg, v->xy, SECTOR_CAP)
                         : 0;
            if (v->n) v->env = covw_ring_env(v->xy, v->n);
        }
        c->move.row = one;
    }
    memset(c->changed, 0, c->n);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSSTRtree *tree = gw_layer_data_tree(c->grids);
    for (size_t k = 0; !b.oom && k < b.n && tree; k++) {
        GEOSGeometry *r = GEOSGeom_createRectangle_r(h, b.v[k].minx, b.v[k].miny, b.v[k].maxx,
                                                     b.v[k].maxy);
        if (!r) {
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "coverage: cannot build a query box: %s",
                              gw_ctx_geos_errmsg(ctx));
            break;
        }
        mark_q m = {c, &b.v[k], k < ncam ? 3 : 1};
        GEOSSTRtree_query_r(h, tree, r, mark_visit, &m);
        GEOSGeom_destroy_r(h, r);
    }
    if (b.oom) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    /* Blind spots built for a grid stay until a camera touching it changes. */
    for (size_t g = 0; g < c->n; g++) {
        if (c->changed[g] & 2) cov_blind_forget(c, g);
        c->changed[g] = c->changed[g] != 0;
    }
    size_t nl = 0, *list = st ? NULL : malloc((c->n + 1) * sizeof *list);
    if (!st && !list) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    for (size_t g = 0; !st && g < c->n; g++)
        if (c->changed[g]) list[nl++] = g;
    int inc_all = c->incs != oi || !c->inc_seen, inc_some = 0; /* no flags yet: deferred */
    if (!st && inc_all && oi && c->incs && c->inc_grid && c->n_inc == gw_layer_data_count(oi)) {
        st = incidents_delta(ctx, c, oi, &inc_some);
        inc_all = !inc_some;
    }
    if (!st && inc_all) st = alloc_incidents(ctx, c);
    if (!st) st = run(ctx, c, list, nl, inc_all);
    int moved = c->move.on;
    if (!st && moved) c->moved_grids += nl;
    c->move.on = 0;
    if (!st && !inc_all && ncam && c->n_inc) {
        /* Only the incidents under a changed camera's old or new view can change their flag. */
        int ft = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
        inc_q q = {c,
                   ctx,
                   gw_layer_data_x(c->incs, GW_MODEL_METRIC),
                   gw_layer_data_y(c->incs, GW_MODEL_METRIC),
                   gw_layer_data_ints(c->incs, ft),
                   gw_layer_data_nulls(c->incs, ft),
                   moved ? &c->move.was : NULL,
                   moved ? &c->move.now : NULL};
        for (size_t k = 0; k < ncam; k++)
            gw_layer_data_query_points(c->incs, &b.v[k], inc_visit, &q);
    }
    if (!st && (inc_all || inc_some)) st = recount(c);
    (void)nroom;
    free(list), free(b.v), free(old_on);
    gw_model_release(ctx, old);
    if (n_changed) {
        size_t k = 0;
        for (size_t g = 0; g < c->n; g++) k += c->changed[g];
        *n_changed = k;
    }
    return st;
}
