/* coverage_blind.c — blind-spot polygons on request: a grid's blind spots (GEOS union of the
 * views that meet it, difference with the grid, small pieces dropped) are built the first time
 * they are asked for — by a tile of the blind_spots layer, GET /analysis/coverage/{grid} — and
 * kept per grid until a changed camera touches it (gw_coverage_update calls cov_blind_forget).
 * The figures (ratio, covered area, cameras) never wait for them: they come from the boundary
 * integration of coverage_area.c.  Readers build concurrently under their read side of the
 * caller's lock, so the cache has a mutex of its own; the GEOS work runs outside it. */
#include "coverage_work.h"

static gw_status transform_locked(gw_ctx *ctx, gw_coverage *c, const GEOSGeometry *metric,
                                  GEOSGeometry **ll)
{
    *ll = NULL;
    if (!c->bl_ctx && gw_ctx_create(&c->bl_ctx))
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: cannot create a context");
    if (!c->bl_tr) {
        gw_crs m = {GW_CRS_EPSG, c->srid}, wgs = {GW_CRS_EPSG, 4326};
        if (gw_crs_transform_create(c->bl_ctx, m, wgs, &c->bl_tr))
            return gw_ctx_error(ctx, GW_ERR_CRS, "coverage: %s", gw_ctx_errmsg(c->bl_ctx));
    }
    *ll = gw_crs_transform_geom(c->bl_tr, metric);
    if (!*ll)
        return gw_ctx_error(ctx, GW_ERR_CRS, "coverage: blind spots to lon/lat: %s",
                            gw_ctx_errmsg(c->bl_ctx));
    return GW_OK;
}

static void fill(const gw_coverage *c, size_t g, gw_coverage_blind_spots *out)
{
    *out = (gw_coverage_blind_spots){c->blind[g], c->blind_len[g], c->blind_parts[g],
                                     c->blind_kept[g]};
}

int gw_coverage_blind_cached(const gw_coverage *cov, size_t row)
{
    gw_coverage *c = (gw_coverage *)cov; /* the cache's lock: not part of the value */
    if (!c || row >= c->n) return 0;
    pthread_mutex_lock(&c->blind_lock);
    int done = c->blind_done[row];
    pthread_mutex_unlock(&c->blind_lock);
    return done;
}

gw_status gw_coverage_blind(gw_ctx *ctx, const gw_coverage *cov, size_t g,
                            gw_coverage_blind_spots *out)
{
    gw_coverage *c = (gw_coverage *)cov; /* only the cache changes, under its lock */
    memset(out, 0, sizeof *out);
    if (!c || g >= c->n) return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: no grid row %zu", g);
    pthread_mutex_lock(&c->blind_lock);
    int done = c->blind_done[g];
    if (done) fill(c, g, out);
    pthread_mutex_unlock(&c->blind_lock);
    if (done) return GW_OK;
    /* Built outside the lock (two readers may both build a grid; the first one kept wins). */
    worker w = {.cov = c, .ctx = ctx, .h = gw_ctx_geos(ctx), .blind = 1};
    gw_status st = covw_grid_compute(&w, g);
    covw_free(&w);
    if (st) return st;
    GEOSContextHandle_t h = w.h;
    GEOSGeometry *ll = NULL;
    pthread_mutex_lock(&c->blind_lock);
    st = transform_locked(ctx, c, w.blind_out, &ll);
    pthread_mutex_unlock(&c->blind_lock);
    GEOSGeom_destroy_r(h, w.blind_out);
    if (st) return st;
    GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
    size_t len = 0;
    unsigned char *b = wr ? GEOSWKBWriter_write_r(h, wr, ll, &len) : NULL, *copy = NULL;
    if (wr) GEOSWKBWriter_destroy_r(h, wr);
    GEOSGeom_destroy_r(h, ll);
    if (!b)
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "coverage: cannot write the blind spots of %s",
                            gw_layer_data_id(c->grids, g));
    if ((copy = malloc(len))) memcpy(copy, b, len);
    GEOSFree_r(h, b);
    if (!copy) return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: out of memory");
    pthread_mutex_lock(&c->blind_lock);
    if (!c->blind_done[g]) {
        c->blind[g] = copy, c->blind_len[g] = len, copy = NULL;
        c->blind_parts[g] = w.blind_parts, c->blind_kept[g] = w.blind_kept_m2;
        c->blind_done[g] = 1;
    }
    fill(c, g, out);
    pthread_mutex_unlock(&c->blind_lock);
    free(copy);
    return GW_OK;
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
    if (!c || !bbox || !fn) return gw_ctx_error(ctx, GW_ERR_ARG, "coverage: no result or box");
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    if (!rd) return gw_ctx_error(ctx, GW_ERR_NOMEM, "coverage: cannot create a WKB reader");
    gw_status st = GW_OK;
    for (size_t g = 0; g < c->n && !st; g++) {
        /* fully covered (within the boundary integration's error): no blind spot to draw */
        if (!(c->rows[g].blind_m2 > 1e-6 * c->rows[g].grid_m2)) continue;
        const GEOSGeometry *merc = gw_layer_data_geom(c->grids, g, GW_MODEL_MERCATOR);
        double x0, y0, x1, y1;
        if (!merc || !GEOSGeom_getXMin_r(h, merc, &x0) || !GEOSGeom_getYMin_r(h, merc, &y0) ||
            !GEOSGeom_getXMax_r(h, merc, &x1) || !GEOSGeom_getYMax_r(h, merc, &y1))
            continue;
        if (x1 < bbox->minx || x0 > bbox->maxx || y1 < bbox->miny || y0 > bbox->maxy) continue;
        gw_coverage_blind_spots b;
        if ((st = gw_coverage_blind(ctx, c, g, &b))) break;
        if (!b.parts) continue;
        GEOSGeometry *ll = GEOSWKBReader_read_r(h, rd, b.wkb, b.len);
        GEOSGeometry *m = ll ? GEOSGeom_transformXY_r(h, ll, to_3857, NULL) : NULL;
        if (ll) GEOSGeom_destroy_r(h, ll);
        if (!m) {
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                              "coverage: blind spots of grid %s unreadable: %s",
                              gw_layer_data_id(c->grids, g), gw_ctx_geos_errmsg(ctx));
            break;
        }
        if (fn(user, g, gw_layer_data_id(c->grids, g), m)) break;
    }
    GEOSWKBReader_destroy_r(h, rd);
    return st;
}
