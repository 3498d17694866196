/* coverage_query.c — reading coverage results: accessors, the cameras that see a point
 * (dispatch), and the coverage table in the store.  Split from geo/coverage.c, which computes
 * the results (blind spots: coverage_blind.c). */
#include "coverage_internal.h"

#include "gridwatch/store_changes.h"
#include "gridwatch/store_coverage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accessors and queries ------------------------------------------------------------------- */

gw_model_snapshot *gw_coverage_snapshot(const gw_coverage *c) { return c ? c->snap : NULL; }
int64_t gw_coverage_seq(const gw_coverage *c) { return c ? gw_snapshot_seq(c->snap) : 0; }
const gw_coverage_opts *gw_coverage_get_opts(const gw_coverage *c) { return c ? &c->o : NULL; }
size_t gw_coverage_count(const gw_coverage *c) { return c ? c->n : 0; }
const uint8_t *gw_coverage_changed(const gw_coverage *c) { return c ? c->changed : NULL; }

size_t gw_coverage_moved_grids(const gw_coverage *c) { return c ? c->moved_grids : 0; }

const gw_coverage_row *gw_coverage_row_at(const gw_coverage *c, size_t row)
{
    return c && row < c->n ? &c->rows[row] : NULL;
}

gw_status gw_coverage_find(const gw_coverage *c, const char *grid_id, size_t *row)
{
    ptrdiff_t r = c && c->grids && grid_id ? gw_layer_data_find(c->grids, grid_id) : -1;
    if (r < 0 || (size_t)r >= c->n) return GW_ERR_NOT_FOUND;
    *row = (size_t)r;
    return GW_OK;
}

const char *gw_coverage_grid_id(const gw_coverage *c, size_t row)
{
    return c && row < c->n ? gw_layer_data_id(c->grids, row) : NULL;
}

typedef struct at_q {
    camcols cc;
    double x, y;
    size_t *rows;
    double *dists;
    size_t cap, n;
} at_q;

static int at_visit(void *user, size_t r)
{
    at_q *q = user;
    double az, fov, rg;
    if (!cov_cam_view(&q->cc, r, &az, &fov, &rg) ||
        !gw_coverage_sector_contains(q->cc.x[r], q->cc.y[r], az, fov, rg, q->x, q->y))
        return 0;
    double d = hypot(q->cc.x[r] - q->x, q->cc.y[r] - q->y);
    /* Insertion into the nearest-first prefix of at most cap entries. */
    size_t k = q->n < q->cap ? q->n : q->cap;
    if (k == q->cap && (k == 0 || d >= q->dists[k - 1])) {
        q->n++;
        return 0;
    }
    if (k == q->cap) k--;
    while (k > 0 && q->dists[k - 1] > d)
        q->rows[k] = q->rows[k - 1], q->dists[k] = q->dists[k - 1], k--;
    q->rows[k] = r, q->dists[k] = d;
    q->n++;
    return 0;
}

size_t gw_coverage_cameras_at(const gw_model_snapshot *snap, double x, double y, size_t *rows,
                              double *dists, size_t cap)
{
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    if (!d || !gw_layer_data_count(d)) return 0;
    at_q q = {.x = x, .y = y, .rows = rows, .dists = dists, .cap = dists && rows ? cap : 0};
    cov_camcols_init(&q.cc, d);
    double maxr = 0, az, fov, rg;
    size_t n = gw_layer_data_count(d);
    /* The largest range bounds the search; a scan of one column (250k doubles: ~0.2 ms). */
    for (size_t r = 0; r < n; r++)
        if (q.cc.rg && !(q.cc.nrg && q.cc.nrg[r]) &&
            q.cc.rg[r] * (q.cc.scale ? q.cc.scale[r] : 1) > maxr)
            maxr = q.cc.rg[r] * (q.cc.scale ? q.cc.scale[r] : 1);
    (void)az, (void)fov, (void)rg;
    gw_bbox b = {x - maxr, y - maxr, x + maxr, y + maxr};
    gw_layer_data_query_points(d, &b, at_visit, &q);
    return q.n;
}

/* ---- persistence (the store's coverage topic) --------------------------------------------- */

/* The rows to write: every grid, or those flagged in changed[]. */
typedef struct save_src {
    const gw_coverage *c;
    const uint8_t *changed;
    int64_t seq;
    size_t g;
} save_src;

static int next_row(void *user, gw_store_coverage_row *out)
{
    save_src *src = user;
    const gw_coverage *c = src->c;
    while (src->g < c->n && src->changed && !src->changed[src->g]) src->g++;
    if (src->g >= c->n) return 0;
    size_t g = src->g++;
    const gw_coverage_row *r = &c->rows[g];
    *out = (gw_store_coverage_row){.grid = gw_layer_data_id(c->grids, g),
                                   .seq = src->seq,
                                   .grid_m2 = r->grid_m2,
                                   .covered_m2 = r->covered_m2,
                                   .ratio = r->ratio,
                                   .cameras = r->cameras,
                                   .incidents = r->incidents,
                                   .seen = r->seen,
                                   .incident_share = r->incident_share,
                                   .room_m2 = r->room_m2,
                                   .room_reach = r->room_reach,
                                   .blind_m2 = r->blind_m2,
                                   .blind_parts = c->blind_done[g] ? c->blind_parts[g] : -1,
                                   .blind = c->blind_done[g] ? c->blind[g] : NULL,
                                   .blind_len = c->blind_done[g] ? c->blind_len[g] : 0};
    if (!out->blind) out->blind_len = 0;
    return 1;
}

gw_status gw_coverage_save(gw_ctx *ctx, const gw_coverage *c, gw_store *store,
                           const uint8_t *changed)
{
    if (!c || !store) return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: nothing to save");
    if (gw_store_schema_version(store) < 4)
        return gw_ctx_error(ctx, GW_ERR_SCHEMA,
                            "coverage: %s has schema version %d; open it read-write "
                            "with this build to add the coverage table",
                            gw_store_path(store), gw_store_schema_version(store));
    gw_status st = gw_store_begin(store);
    if (st) return st;
    save_src src = {c, changed, gw_coverage_seq(c), 0};
    gw_store_coverage_run run = {.seq = src.seq,
                                 .metric_srid = c->srid,
                                 .has_window = c->o.t_from || c->o.t_to,
                                 .window_from = c->o.t_from,
                                 .window_to = c->o.t_to,
                                 .min_blind_m2 = c->o.min_blind_m2,
                                 .room_dist_m = c->o.room_dist_m};
    st = gw_store_coverage_write(store, changed == NULL, next_row, &src, &run);
    if (!st) st = gw_store_commit(store);
    if (st) gw_store_rollback(store);
    return st;
}

static int copy_row(void *user, const gw_store_coverage_row *r)
{
    gw_coverage_row *row = user;
    *row = (gw_coverage_row){r->grid_m2,    r->covered_m2, r->ratio,          r->cameras,
                             r->incidents,  r->seen,       r->incident_share, r->room_m2,
                             r->room_reach, r->blind_m2,   r->blind_parts};
    return 1;
}

typedef struct one_row {
    gw_coverage_row *row;
    int64_t seq;
} one_row;

static int take_one(void *user, const gw_store_coverage_row *r)
{
    one_row *o = user;
    o->seq = r->seq;
    return copy_row(o->row, r);
}

gw_status gw_coverage_load_row(gw_ctx *ctx, gw_store *store, const char *grid_id,
                               gw_coverage_row *row, int64_t *seq)
{
    one_row o = {row, 0};
    size_t n = 0;
    gw_status st = gw_store_coverage_read(store, grid_id, 0, take_one, &o, &n);
    if (!st && n == 0)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: no stored coverage for grid %s in %s",
                          grid_id, gw_store_path(store));
    if (!st && seq) *seq = o.seq;
    return st;
}

/* Why the stored rows cannot stand for snap (NULL when they can): run parameters and seq. */
static const char *stale_run(gw_store *store, const gw_coverage *c, int64_t *stored)
{
    if (gw_store_schema_version(store) < 4) return "no coverage table";
    gw_store_coverage_run run;
    gw_status st = gw_store_coverage_run_get(store, &run);
    if (st == GW_ERR_NOT_FOUND) return "no stored run";
    if (st) return "cannot read coverage_run";
    *stored = run.seq;
    int want_w = c->o.t_from || c->o.t_to;
    if (run.metric_srid != c->srid) return "another metric CRS";
    if (run.has_window != want_w ||
        (want_w && (run.window_from != c->o.t_from || run.window_to != c->o.t_to)))
        return "another incident window";
    if (fabs(run.min_blind_m2 - c->o.min_blind_m2) > 1e-9 ||
        fabs(run.room_dist_m - c->o.room_dist_m) > 1e-9)
        return "other parameters";
    if (*stored > gw_snapshot_seq(c->snap)) return "newer than the model";
    static const gw_layer inputs[] = {GW_LAYER_GRIDS, GW_LAYER_CAMERAS, GW_LAYER_POLICE_ROOMS,
                                      GW_LAYER_INCIDENTS};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        int64_t last = 0;
        if (gw_store_changes_last(store, gw_layer_name(inputs[i]), &last))
            return "cannot read the change log";
        if (last > *stored) return "changes since";
    }
    return NULL;
}

/* Loading the stored rows into a result. */
typedef struct load_state {
    gw_ctx *ctx;
    gw_coverage *c;
    gw_store *store;
    gw_status st;
} load_state;

static int load_row(void *user, const gw_store_coverage_row *r)
{
    load_state *ls = user;
    gw_coverage *c = ls->c;
    ptrdiff_t g = r->grid ? gw_layer_data_find(c->grids, r->grid) : -1;
    if (g < 0 || (size_t)g >= c->n) {
        ls->st = gw_ctx_error(ls->ctx, GW_ERR_NOT_FOUND,
                              "coverage: stored row for grid '%s' in %s is not a "
                              "grid of the model",
                              r->grid ? r->grid : "(null)", gw_store_path(ls->store));
        return 1;
    }
    gw_coverage_row *row = &c->rows[g];
    int32_t incidents = row->incidents, seen = row->seen;
    double share = row->incident_share;
    copy_row(row, r);
    row->incidents = incidents, row->seen = seen,
    row->incident_share = share; /* recomputed below */
    /* The stored polygons are not read: they are built again on request. */
    row->blind_parts = -1;
    return 0;
}

gw_status gw_coverage_load(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap, gw_store *store,
                           const gw_coverage_opts *opts, gw_coverage **out)
{
    gw_coverage *c = NULL;
    *out = NULL;
    gw_status st = cov_new(ctx, model, snap, opts, &c);
    if (st) return st;
    int64_t stored = 0;
    const char *why = stale_run(store, c, &stored);
    if (why) {
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: stored rows in %s not current (%s)",
                          gw_store_path(store), why);
        gw_coverage_destroy(ctx, c);
        return st;
    }
    st = cov_alloc_grids(ctx, c);
    load_state ls = {ctx, c, store, GW_OK};
    size_t got = 0;
    if (!st) st = gw_store_coverage_read(store, NULL, 0, load_row, &ls, &got);
    if (!st) st = ls.st;
    if (!st && got != c->n)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                          "coverage: %s holds %zu coverage rows for %zu grids",
                          gw_store_path(store), got, c->n);
    if (!st && !c->o.defer_incidents) st = cov_incidents_all(ctx, c);
    if (!st) memset(c->changed, 1, c->n);
    if (st) {
        gw_coverage_destroy(ctx, c);
        return st;
    }
    *out = c;
    return GW_OK;
}
