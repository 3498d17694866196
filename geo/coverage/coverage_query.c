/* coverage_query.c — reading coverage results: accessors, the cameras that see a point
 * (dispatch), blind spots for tiles in EPSG:3857, and the coverage table in the store.  Split
 * from geo/coverage.c, which computes the results. */
#include "coverage_internal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accessors and queries ------------------------------------------------------------------- */

gw_model_snapshot *gw_coverage_snapshot(const gw_coverage *c) { return c ? c->snap : NULL; }
int64_t gw_coverage_seq(const gw_coverage *c) { return c ? gw_snapshot_seq(c->snap) : 0; }
const gw_coverage_opts *gw_coverage_get_opts(const gw_coverage *c) { return c ? &c->o : NULL; }
size_t gw_coverage_count(const gw_coverage *c) { return c ? c->n : 0; }
const uint8_t *gw_coverage_changed(const gw_coverage *c) { return c ? c->changed : NULL; }

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

const unsigned char *gw_coverage_blind_wkb(const gw_coverage *c, size_t row, size_t *len)
{
    *len = 0;
    if (!c || row >= c->n || !c->blind || !c->blind[row]) return NULL;
    *len = c->blind_len[row];
    return c->blind[row];
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
    if (!gw_cov_cam_view(&q->cc, r, &az, &fov, &rg) ||
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
    while (k > 0 && q->dists[k - 1] > d) q->rows[k] = q->rows[k - 1], q->dists[k] = q->dists[k - 1], k--;
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
    gw_cov_camcols_init(&q.cc, d);
    double maxr = 0, az, fov, rg;
    size_t n = gw_layer_data_count(d);
    /* The largest range bounds the search; a scan of one column (250k doubles: ~0.2 ms). */
    for (size_t r = 0; r < n; r++)
        if (q.cc.rg && !(q.cc.nrg && q.cc.nrg[r]) && q.cc.rg[r] > maxr) maxr = q.cc.rg[r];
    (void)az, (void)fov, (void)rg;
    gw_bbox b = {x - maxr, y - maxr, x + maxr, y + maxr};
    gw_layer_data_query_points(d, &b, at_visit, &q);
    return q.n;
}

static int to_3857(double *x, double *y, void *user)
{
    (void)user;
    const double R = 6378137.0;
    double lat = *y;
    if (lat > 85.0511287798) lat = 85.0511287798;
    if (lat < -85.0511287798) lat = -85.0511287798;
    *x = R * *x * (M_PI / 180);
    *y = R * log(tan(M_PI / 4 + lat * (M_PI / 360)));
    return 1;
}

gw_status gw_coverage_blind_3857(gw_ctx *ctx, const gw_coverage *c, const gw_bbox *bbox,
                                 gw_coverage_geom_fn fn, void *user)
{
    if (!c || !c->o.blind_spots || !bbox || !fn)
        return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: blind spots were not kept (opts.blind_spots)");
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    if (!rd) return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: cannot create a WKB reader");
    gw_status st = GW_OK;
    for (size_t g = 0; g < c->n && !st; g++) {
        if (!c->blind[g] || !c->rows[g].blind_parts) continue;
        const GEOSGeometry *merc = gw_layer_data_geom(c->grids, g, GW_MODEL_MERCATOR);
        double x0, y0, x1, y1;
        if (!merc || !GEOSGeom_getXMin_r(h, merc, &x0) || !GEOSGeom_getYMin_r(h, merc, &y0) ||
            !GEOSGeom_getXMax_r(h, merc, &x1) || !GEOSGeom_getYMax_r(h, merc, &y1))
            continue;
        if (x1 < bbox->minx || x0 > bbox->maxx || y1 < bbox->miny || y0 > bbox->maxy) continue;
        GEOSGeometry *ll = GEOSWKBReader_read_r(h, rd, c->blind[g], c->blind_len[g]);
        GEOSGeometry *m = ll ? GEOSGeom_transformXY_r(h, ll, to_3857, NULL) : NULL;
        if (ll) GEOSGeom_destroy_r(h, ll);
        if (!m) {
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "coverage: blind spots of grid %s unreadable: %s",
                              gw_layer_data_id(c->grids, g), gw_ctx_geos_errmsg(ctx));
            break;
        }
        if (fn(user, g, gw_layer_data_id(c->grids, g), m)) break;
    }
    GEOSWKBReader_destroy_r(h, rd);
    return st;
}

/* ---- persistence ----------------------------------------------------------------------------- */

static gw_status db_fail(gw_ctx *ctx, gw_store *store, const char *what)
{
    return gw_ctx_error(ctx, GW_ERR_DB, "coverage: %s in %s: %s", what, gw_store_path(store),
                        sqlite3_errmsg(gw_store_db(store)));
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v)) sqlite3_bind_null(s, i);
    else sqlite3_bind_double(s, i, v);
}

gw_status gw_coverage_save(gw_ctx *ctx, const gw_coverage *c, gw_store *store, const uint8_t *changed)
{
    if (!c || !store) return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: nothing to save");
    if (gw_store_schema_version(store) < 4)
        return gw_ctx_error(ctx, GW_ERR_SCHEMA, "coverage: %s has schema version %d; open it read-write "
                            "with this build to add the coverage table", gw_store_path(store),
                            gw_store_schema_version(store));
    sqlite3 *db = gw_store_db(store);
    gw_status st = gw_store_begin(store);
    if (st) return st;
    int64_t seq = gw_coverage_seq(c);
    if (!changed && sqlite3_exec(db, "DELETE FROM coverage", NULL, NULL, NULL) != SQLITE_OK)
        st = db_fail(ctx, store, "cannot clear the coverage table");
    sqlite3_stmt *s = NULL;
    if (!st && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO coverage (grid, seq, grid_m2, covered_m2, "
                                      "ratio, cameras, incidents, seen, incident_share, room_m2, room_reach, "
                                      "blind_m2, blind_parts, blind_spots) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", -1, &s, NULL) != SQLITE_OK)
        st = db_fail(ctx, store, "cannot prepare the coverage insert");
    for (size_t g = 0; !st && g < c->n; g++) {
        if (changed && !changed[g]) continue;
        const gw_coverage_row *r = &c->rows[g];
        sqlite3_bind_text(s, 1, gw_layer_data_id(c->grids, g), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, seq);
        sqlite3_bind_double(s, 3, r->grid_m2);
        sqlite3_bind_double(s, 4, r->covered_m2);
        sqlite3_bind_double(s, 5, r->ratio);
        sqlite3_bind_int(s, 6, r->cameras);
        sqlite3_bind_int(s, 7, r->incidents);
        sqlite3_bind_int(s, 8, r->seen);
        bind_real(s, 9, r->incident_share);
        sqlite3_bind_double(s, 10, r->room_m2);
        sqlite3_bind_double(s, 11, r->room_reach);
        sqlite3_bind_double(s, 12, r->blind_m2);
        sqlite3_bind_int(s, 13, r->blind_parts);
        if (c->blind && c->blind[g]) sqlite3_bind_blob(s, 14, c->blind[g], (int)c->blind_len[g], SQLITE_STATIC);
        else sqlite3_bind_null(s, 14);
        if (sqlite3_step(s) != SQLITE_DONE) st = db_fail(ctx, store, "cannot write a coverage row");
        sqlite3_reset(s);
    }
    sqlite3_finalize(s), s = NULL;
    if (!st && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO coverage_run (id, seq, metric_srid, computed_at, "
                                      "window_from, window_to, min_blind_m2, room_dist_m) VALUES (1, ?1, ?2, "
                                      "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?3, ?4, ?5, ?6)", -1, &s, NULL) != SQLITE_OK)
        st = db_fail(ctx, store, "cannot prepare the coverage run row");
    if (!st) {
        sqlite3_bind_int64(s, 1, seq);
        sqlite3_bind_int(s, 2, c->srid);
        if (c->o.t_from || c->o.t_to) sqlite3_bind_int64(s, 3, c->o.t_from), sqlite3_bind_int64(s, 4, c->o.t_to);
        sqlite3_bind_double(s, 5, c->o.min_blind_m2);
        sqlite3_bind_double(s, 6, c->o.room_dist_m);
        if (sqlite3_step(s) != SQLITE_DONE) st = db_fail(ctx, store, "cannot write the coverage run row");
    }
    sqlite3_finalize(s);
    if (!st) st = gw_store_commit(store);
    if (st) gw_store_rollback(store);
    return st;
}

gw_status gw_coverage_load_row(gw_ctx *ctx, gw_store *store, const char *grid_id, gw_coverage_row *row,
                               int64_t *seq)
{
    sqlite3 *db = gw_store_db(store);
    sqlite3_stmt *s = NULL;
    if (gw_store_schema_version(store) < 4)
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: %s has no coverage table (schema %d)",
                            gw_store_path(store), gw_store_schema_version(store));
    if (sqlite3_prepare_v2(db, "SELECT seq, grid_m2, covered_m2, ratio, cameras, incidents, seen, incident_share, "
                               "room_m2, room_reach, blind_m2, blind_parts FROM coverage WHERE grid = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(ctx, store, "cannot read the coverage table");
    sqlite3_bind_text(s, 1, grid_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    gw_status st = GW_OK;
    if (rc == SQLITE_ROW) {
        if (seq) *seq = sqlite3_column_int64(s, 0);
        row->grid_m2 = sqlite3_column_double(s, 1);
        row->covered_m2 = sqlite3_column_double(s, 2);
        row->ratio = sqlite3_column_double(s, 3);
        row->cameras = sqlite3_column_int(s, 4);
        row->incidents = sqlite3_column_int(s, 5);
        row->seen = sqlite3_column_int(s, 6);
        row->incident_share = sqlite3_column_type(s, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 7);
        row->room_m2 = sqlite3_column_double(s, 8);
        row->room_reach = sqlite3_column_double(s, 9);
        row->blind_m2 = sqlite3_column_double(s, 10);
        row->blind_parts = sqlite3_column_int(s, 11);
    } else if (rc == SQLITE_DONE) {
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: no stored coverage for grid %s in %s", grid_id,
                          gw_store_path(store));
    } else {
        st = db_fail(ctx, store, "cannot read the coverage table");
    }
    sqlite3_finalize(s);
    return st;
}

/* Why the stored rows cannot stand for snap (NULL when they can): run parameters and seq. */
static const char *stale_run(gw_store *store, const gw_coverage *c, int64_t *stored)
{
    sqlite3 *db = gw_store_db(store);
    sqlite3_stmt *s = NULL;
    const char *why = NULL;
    if (gw_store_schema_version(store) < 4) return "no coverage table";
    if (sqlite3_prepare_v2(db, "SELECT seq, metric_srid, window_from, window_to, min_blind_m2, room_dist_m "
                               "FROM coverage_run WHERE id = 1", -1, &s, NULL) != SQLITE_OK)
        return "cannot read coverage_run";
    if (sqlite3_step(s) != SQLITE_ROW) why = "no stored run";
    else {
        *stored = sqlite3_column_int64(s, 0);
        int has_w = sqlite3_column_type(s, 2) != SQLITE_NULL, want_w = c->o.t_from || c->o.t_to;
        if (sqlite3_column_int(s, 1) != c->srid) why = "another metric CRS";
        else if (has_w != want_w || (want_w && (sqlite3_column_int64(s, 2) != c->o.t_from ||
                                                sqlite3_column_int64(s, 3) != c->o.t_to)))
            why = "another incident window";
        else if (fabs(sqlite3_column_double(s, 4) - c->o.min_blind_m2) > 1e-9 ||
                 fabs(sqlite3_column_double(s, 5) - c->o.room_dist_m) > 1e-9)
            why = "other parameters";
        else if (*stored > gw_snapshot_seq(c->snap)) why = "newer than the model";
    }
    sqlite3_finalize(s);
    if (why) return why;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COALESCE(max(seq), 0) FROM changelog WHERE layer IN ('%s', '%s', '%s', '%s')",
             gw_layer_name(GW_LAYER_GRIDS), gw_layer_name(GW_LAYER_CAMERAS), gw_layer_name(GW_LAYER_POLICE_ROOMS),
             gw_layer_name(GW_LAYER_INCIDENTS));
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) why = "cannot read the change log";
    else if (sqlite3_column_int64(s, 0) > *stored) why = "changes since";
    sqlite3_finalize(s);
    return why;
}

gw_status gw_coverage_load(gw_ctx *ctx, gw_model *model, gw_model_snapshot *snap, gw_store *store,
                           const gw_coverage_opts *opts, gw_coverage **out)
{
    gw_coverage *c = NULL;
    *out = NULL;
    gw_status st = gw_cov_new(ctx, model, snap, opts, &c);
    if (st) return st;
    int64_t stored = 0;
    const char *why = stale_run(store, c, &stored);
    if (why) {
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: stored rows in %s not current (%s)", gw_store_path(store), why);
        gw_coverage_destroy(ctx, c);
        return st;
    }
    st = gw_cov_alloc_grids(ctx, c);
    sqlite3_stmt *s = NULL;
    if (!st && sqlite3_prepare_v2(gw_store_db(store), "SELECT grid, grid_m2, covered_m2, ratio, cameras, room_m2, "
                                  "room_reach, blind_m2, blind_parts, blind_spots FROM coverage", -1, &s, NULL) != SQLITE_OK)
        st = db_fail(ctx, store, "cannot read the coverage table");
    size_t got = 0;
    int rc = SQLITE_DONE;
    while (!st && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        ptrdiff_t g = id ? gw_layer_data_find(c->grids, id) : -1;
        if (g < 0 || (size_t)g >= c->n) {
            st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: stored row for grid '%s' in %s is not a grid of the "
                              "model", id ? id : "(null)", gw_store_path(store));
            break;
        }
        gw_coverage_row *r = &c->rows[g];
        r->grid_m2 = sqlite3_column_double(s, 1), r->covered_m2 = sqlite3_column_double(s, 2);
        r->ratio = sqlite3_column_double(s, 3), r->cameras = sqlite3_column_int(s, 4);
        r->room_m2 = sqlite3_column_double(s, 5), r->room_reach = sqlite3_column_double(s, 6);
        r->blind_m2 = sqlite3_column_double(s, 7), r->blind_parts = sqlite3_column_int(s, 8);
        int len = sqlite3_column_bytes(s, 9);
        if (c->o.blind_spots && len > 0) {
            free(c->blind[g]);
            if (!(c->blind[g] = malloc((size_t)len))) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
            else memcpy(c->blind[g], sqlite3_column_blob(s, 9), (size_t)len), c->blind_len[g] = (size_t)len;
        }
        got++;
    }
    if (!st && rc != SQLITE_DONE) st = db_fail(ctx, store, "cannot read the coverage table");
    sqlite3_finalize(s);
    if (!st && got != c->n)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "coverage: %s holds %zu coverage rows for %zu grids", gw_store_path(store),
                          got, c->n);
    if (!st) st = gw_cov_incidents_all(ctx, c);
    if (!st) memset(c->changed, 1, c->n);
    if (st) {
        gw_coverage_destroy(ctx, c);
        return st;
    }
    *out = c;
    return GW_OK;
}
