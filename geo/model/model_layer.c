/* model_layer.c — one layer's data in the model: its lifetime, the interned text arena, loading
 * rows (values, points, geometries, hash and point index, transforms) and the accessors. */
#include "model_layer.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- layer data lifetime ---------- */

static void arena_unref(gw_model_arena *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1) return;
    free(a->buf);
    free(a->islot);
    free(a);
}

void mdl_layer_free(gw_ctx *ctx, gw_layer_data *d)
{
    if (!d) return;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    if (d->tree) GEOSSTRtree_destroy_r(h, d->tree);
    if (d->prep) {
        for (size_t r = 0; r < d->n; r++)
            if (d->prep[r]) GEOSPreparedGeom_destroy_r(h, d->prep[r]);
        free(d->prep);
    }
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++) {
        if (d->geom[c]) {
            for (size_t r = 0; r < d->n; r++)
                if (d->geom[c][r]) GEOSGeom_destroy_r(h, d->geom[c][r]);
            free(d->geom[c]);
        }
        mdl_pool_release(d->pool, d->xy[c][0]);
        mdl_pool_release(d->pool, d->xy[c][1]);
    }
    mdl_pool_release(d->pool, d->fac[0]);
    mdl_pool_release(d->pool, d->fac[1]);
    for (size_t f = 0; f < d->nfields; f++) {
        mdl_pool_release(d->pool, d->cols[f].text);
        mdl_pool_release(d->pool, d->cols[f].i);
        mdl_pool_release(d->pool, d->cols[f].d);
        mdl_pool_release(d->pool, d->cols[f].nulls);
    }
    mdl_pool_release(d->pool, d->fid);
    arena_unref(d->ar);
    mdl_pool_release(d->pool, d->hash);
    mdl_pool_release(d->pool, d->pg.start);
    mdl_pool_release(d->pool, d->pg.rows);
    mdl_pool_unref(d->pool);
    free(d->lin_ins), free(d->lin_del), free(d->lin_upd);
    free(d);
}

gw_status mdl_layer_new(gw_ctx *ctx, gw_layer layer, int64_t seq, gw_layer_data **out)
{
    *out = NULL;
    size_t nf = 0;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    if (nf > MAX_FIELDS)
        return gw_ctx_error(ctx, GW_ERR_INTERNAL, "layer %s has too many fields",
                            gw_layer_name(layer));
    gw_layer_data *d = calloc(1, sizeof *d);
    gw_model_arena *a = calloc(1, sizeof *a);
    if (!d || !a) {
        free(d);
        free(a);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    }
    atomic_init(&d->refs, 1);
    atomic_init(&a->refs, 1);
    d->ar = a;
    d->layer = layer;
    d->seq = seq;
    static atomic_uint_fast64_t next_uid = 1;
    d->uid = (uint64_t)atomic_fetch_add(&next_uid, 1);
    d->nfields = nf;
    for (size_t f = 0; f < nf; f++) d->cols[f].type = fields[f].type;
    *out = d;
    return GW_OK;
}

static void layer_unref(gw_ctx *ctx, gw_layer_data *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1) layer_free(ctx, d);
}

void mdl_snap_unref(gw_ctx *ctx, gw_model_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (int l = 0; l < GW_LAYER_COUNT; l++) layer_unref(ctx, s->layers[l]);
    free(s);
}

/* ---------- text arena with interning ---------- */

uint64_t mdl_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}
#define hash_str mdl_hash_str

/* Append s to d's arena.  A shared arena (an older version of the layer reads it) is never
 * reallocated: the delta path sizes it beforehand, so running out here is a bug. */
gw_status mdl_arena_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off)
{
    gw_model_arena *a = d->ar;
    size_t len = strlen(s) + 1;
    if (a->used + len >= NOTEXT)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "layer %s: more than 4 GiB of text",
                            gw_layer_name(d->layer));
    if (a->used + len > a->cap) {
        if (atomic_load(&a->refs) > 1)
            return gw_ctx_error(ctx, GW_ERR_INTERNAL, "layer %s: shared text arena is full",
                                gw_layer_name(d->layer));
        size_t cap = a->cap ? a->cap * 2 : 65536;
        while (cap < a->used + len) cap *= 2;
        char *b = realloc(a->buf, cap);
        if (!b) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
        a->buf = b;
        a->cap = cap;
        d->arena = b;
    }
    memcpy(a->buf + a->used, s, len);
    *off = (uint32_t)a->used;
    a->used += len;
    return GW_OK;
}

/* Repeated values (category, status, grid …) are stored once through the arena's intern set. */
gw_status mdl_intern_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off)
{
    gw_model_arena *a = d->ar;
    if (a->iused * 2 >= a->imask) {
        size_t nm = a->imask ? a->imask * 2 + 1 : 1023;
        uint32_t *ns = calloc(nm + 1, sizeof *ns);
        if (!ns) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
        for (size_t i = 0; a->islot && i <= a->imask; i++) {
            if (!a->islot[i]) continue;
            size_t j = hash_str(a->buf + a->islot[i] - 1) & nm;
            while (ns[j]) j = (j + 1) & nm;
            ns[j] = a->islot[i];
        }
        free(a->islot);
        a->islot = ns;
        a->imask = nm;
    }
    size_t j = hash_str(s) & a->imask;
    for (; a->islot[j]; j = (j + 1) & a->imask) {
        if (strcmp(a->buf + a->islot[j] - 1, s) == 0) {
            *off = a->islot[j] - 1;
            return GW_OK;
        }
    }
    gw_status st = mdl_arena_add(ctx, d, s, off);
    if (st) return st;
    a->islot[j] = *off + 1;
    a->iused++;
    return GW_OK;
}

/* ---------- loading ---------- */

static gw_status grow(gw_ctx *ctx, void **p, size_t elem, size_t cap)
{
    void *q = realloc(*p, elem * cap);
    if (!q) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    *p = q;
    return GW_OK;
}

gw_status mdl_reserve(gw_ctx *ctx, gw_layer_data *d, size_t cap)
{
    if (cap <= d->cap) return GW_OK;
    gw_status st = grow(ctx, (void **)&d->fid, sizeof *d->fid, cap);
    for (size_t f = 0; !st && f < d->nfields; f++) {
        col *c = &d->cols[f];
        if (c->type == GW_FT_TEXT) {
            st = grow(ctx, (void **)&c->text, sizeof *c->text, cap);
            continue;
        }
        st = grow(ctx, (void **)&c->nulls, 1, cap);
        if (!st && c->type == GW_FT_REAL) st = grow(ctx, (void **)&c->d, sizeof *c->d, cap);
        if (!st && c->type != GW_FT_REAL) st = grow(ctx, (void **)&c->i, sizeof *c->i, cap);
    }
    if (!st && gw_layer_is_point(d->layer)) {
        st = grow(ctx, (void **)&d->xy[GW_MODEL_LONLAT][0], sizeof(double), cap);
        if (!st) st = grow(ctx, (void **)&d->xy[GW_MODEL_LONLAT][1], sizeof(double), cap);
    } else if (!st) {
        st = grow(ctx, (void **)&d->geom[GW_MODEL_LONLAT], sizeof(GEOSGeometry *), cap);
    }
    if (!st) d->cap = cap;
    return st;
}

static double rd_f64(const unsigned char *p, int le)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = le ? p[i] : p[7 - i];
    double v;
    memcpy(&v, b, 8);
    return v;
}

/* x/y of a WKB point (ISO or EWKB, 2D/Z/M); 0 when it is not one.  Assumes a little-endian
 * host, as every machine gridwatch targets is. */
static int wkb_point(const unsigned char *w, size_t len, double *x, double *y)
{
    if (!w || len < 21 || w[0] > 1) return 0;
    int le = w[0] == 1;
    uint32_t t = le ? (uint32_t)w[1] | (uint32_t)w[2] << 8 | (uint32_t)w[3] << 16 |
                          (uint32_t)w[4] << 24
                    : (uint32_t)w[4] | (uint32_t)w[3] << 8 | (uint32_t)w[2] << 16 |
                          (uint32_t)w[1] << 24;
    size_t at = 5;
    if (t & 0x20000000u) at += 4; /* EWKB SRID */
    t &= 0x0fffffffu;
    if (t % 1000 != 1 || len < at + 16) return 0;
    *x = rd_f64(w + at, le);
    *y = rd_f64(w + at + 8, le);
    return 1;
}

gw_status mdl_put_value(gw_ctx *ctx, gw_layer_data *d, size_t row, size_t f, const gw_value *v,
                        const char *id)
{
    col *c = &d->cols[f];
    const char *fname = gw_layer_fields(d->layer, NULL)[f].name;
    char buf[64];
    if (c->type == GW_FT_TEXT) {
        const char *s = NULL;
        if (v->kind == GW_VAL_TEXT) {
            s = v->s ? v->s : "";
        } else if (v->kind == GW_VAL_INT) {
            snprintf(buf, sizeof buf, "%lld", (long long)v->i);
            s = buf;
        } else if (v->kind == GW_VAL_REAL) {
            snprintf(buf, sizeof buf, "%.17g", v->d);
            s = buf;
        }
        if (!s) {
            c->text[row] = NOTEXT;
            return GW_OK;
        }
        return f == 0 ? mdl_arena_add(ctx, d, s, &c->text[row])
                      : mdl_intern_add(ctx, d, s, &c->text[row]);
    }
    c->nulls[row] = v->kind == GW_VAL_NULL;
    double dv = 0;
    int64_t iv = 0;
    if (v->kind == GW_VAL_INT) dv = (double)v->i, iv = v->i;
    else if (v->kind == GW_VAL_REAL) dv = v->d, iv = (int64_t)v->d;
    else if (v->kind == GW_VAL_TEXT && v->s) {
        char *end = NULL;
        if (c->type == GW_FT_TIME) {
            if (gw_time_parse(ctx, v->s, NULL, &iv) != GW_OK) {
                /* reported and read as unknown: a start never fails on one stored value */
                gw_ctx_clear_error(ctx);
                gw_ctx_warn(ctx,
                            "layer %s, feature '%s': field %s = '%.40s' is not a time; read "
                            "as unknown (null)",
                            gw_layer_name(d->layer), id, fname, v->s);
                c->nulls[row] = 1, iv = 0;
            }
        } else {
            dv = strtod(v->s, &end);
            iv = (int64_t)dv;
            if (end == v->s)
                return gw_ctx_error(ctx, GW_ERR_FORMAT,
                                    "layer %s, feature '%s': field %s = '%s' is not a number",
                                    gw_layer_name(d->layer), id, fname, v->s);
        }
    }
    if (c->type == GW_FT_REAL) c->d[row] = dv;
    else c->i[row] = iv;
    return GW_OK;
}

gw_status mdl_add_row(gw_ctx *ctx, gw_layer_data *d, GEOSWKBReader *rd, const gw_row *r)
{
    if (d->n == d->cap) {
        gw_status st = mdl_reserve(ctx, d, d->cap ? d->cap * 2 : 1024);
        if (st) return st;
    }
    size_t row = d->n;
    const gw_value *idv = &r->values[0];
    if (idv->kind != GW_VAL_TEXT || !idv->s || !idv->s[0])
        return gw_ctx_error(ctx, GW_ERR_FORMAT, "layer %s: row fid %lld has no id",
                            gw_layer_name(d->layer), (long long)r->fid);
    if (gw_layer_is_point(d->layer)) {
        if (!wkb_point(r->wkb, r->wkb_len, &d->xy[GW_MODEL_LONLAT][0][row],
                       &d->xy[GW_MODEL_LONLAT][1][row]))
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "layer %s, feature '%s': geometry is not a point",
                                gw_layer_name(d->layer), idv->s);
    } else {
        GEOSContextHandle_t h = gw_ctx_geos(ctx);
        GEOSGeometry *g = r->wkb ? GEOSWKBReader_read_r(h, rd, r->wkb, r->wkb_len) : NULL;
        int t = g ? GEOSGeomTypeId_r(h, g) : -1;
        if (t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON) {
            if (g) GEOSGeom_destroy_r(h, g);
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "layer %s, feature '%s': geometry is not a polygon (%s)",
                                gw_layer_name(d->layer), idv->s,
                                g ? "wrong type" : gw_ctx_geos_errmsg(ctx));
        }
        d->geom[GW_MODEL_LONLAT][row] = g;
    }
    d->fid[row] = r->fid;
    if (r->fid > d->maxfid) d->maxfid = r->fid;
    d->n++; /* counted now so a failure below still frees the geometry */
    for (size_t f = 0; f < d->nfields; f++) {
        gw_status st = mdl_put_value(ctx, d, row, f, &r->values[f], idv->s);
        if (st) return st;
    }
    return GW_OK;
}

gw_status mdl_build_hash(gw_ctx *ctx, gw_layer_data *d)
{
    size_t cap = 16;
    while (cap < d->n * 2) cap *= 2;
    d->hash = calloc(cap, sizeof *d->hash);
    if (!d->hash) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing ids");
    d->hmask = cap - 1;
    for (size_t r = 0; r < d->n; r++) {
        const char *id = d->arena + d->cols[0].text[r];
        size_t j = hash_str(id) & d->hmask;
        int dup = 0;
        for (; d->hash[j]; j = (j + 1) & d->hmask)
            if (strcmp(d->arena + d->cols[0].text[d->hash[j] - 1], id) == 0) dup = 1;
        if (dup)
            gw_ctx_warn(ctx, "layer %s: duplicate id '%s'; lookups find the first",
                        gw_layer_name(d->layer), id);
        else d->hash[j] = (uint32_t)(r + 1);
    }
    return GW_OK;
}

gw_status mdl_build_pgrid(gw_ctx *ctx, gw_layer_data *d)
{
    pgrid *g = &d->pg;
    const double *x = d->xy[GW_MODEL_METRIC][0], *y = d->xy[GW_MODEL_METRIC][1];
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t r = 0; r < d->n; r++) {
        if (x[r] < minx) minx = x[r];
        if (x[r] > maxx) maxx = x[r];
        if (y[r] < miny) miny = y[r];
        if (y[r] > maxy) maxy = y[r];
    }
    if (d->n == 0) minx = miny = maxx = maxy = 0;
    double w = maxx - minx, hgt = maxy - miny, cells = (double)(d->n / PG_PER_CELL + 1);
    g->cell = sqrt((w > 1 ? w : 1) * (hgt > 1 ? hgt : 1) / cells);
    if (g->cell < 1) g->cell = 1;
    g->minx = minx;
    g->miny = miny;
    g->nx = (long)(w / g->cell) + 1;
    g->ny = (long)(hgt / g->cell) + 1;
    g->n0 = d->n;
    size_t nc = (size_t)g->nx * (size_t)g->ny;
    g->start = calloc(nc + 1, sizeof *g->start);
    g->rows = malloc((d->n ? d->n : 1) * sizeof *g->rows);
    if (!g->start || !g->rows)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing points");
    for (size_t r = 0; r < d->n; r++) {
        long cx = (long)((x[r] - minx) / g->cell), cy = (long)((y[r] - miny) / g->cell);
        g->start[(size_t)cy * (size_t)g->nx + (size_t)cx + 1]++;
    }
    for (size_t c = 0; c < nc; c++) g->start[c + 1] += g->start[c];
    for (size_t r = 0; r < d->n; r++) { /* start[c] is the fill cursor, shifted back below */
        long cx = (long)((x[r] - minx) / g->cell), cy = (long)((y[r] - miny) / g->cell);
        g->rows[g->start[(size_t)cy * (size_t)g->nx + (size_t)cx]++] = (uint32_t)r;
    }
    memmove(g->start + 1, g->start, nc * sizeof *g->start);
    g->start[0] = 0;
    return GW_OK;
}

static void no_visit(void *item, void *user) { (void)item, (void)user; }

void mdl_xforms_clear(xforms *xf)
{
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        gw_crs_transform_destroy(xf->t[c]), xf->t[c] = NULL;
    gw_crs_factors_destroy(xf->fac), xf->fac = NULL;
    xf->srid = 0;
}

gw_status mdl_view_factors(gw_ctx *ctx, gw_layer_data *d, xforms *xf, size_t from, size_t to)
{
    if (d->layer != GW_LAYER_CAMERAS) return GW_OK;
    size_t cap = d->cap > d->n ? d->cap : d->n;
    for (int k = 0; k < 2; k++)
        if (!d->fac[k] && !(d->fac[k] = malloc((cap ? cap : 1) * sizeof(double))))
            return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    const double *lon = d->xy[GW_MODEL_LONLAT][0], *lat = d->xy[GW_MODEL_LONLAT][1];
    for (size_t r = from; r < to; r++) {
        /* ~1 µs a camera (PROJ's numerical derivatives): 0.3 s for 250,000 at load, nothing
         * for the rows a refresh copies. */
        gw_status st = gw_crs_factors_at(xf->fac, lon[r], lat[r], &d->fac[0][r], &d->fac[1][r]);
        if (st) return xf_fail(ctx, xf, st);
    }
    return GW_OK;
}

gw_status mdl_xf_fail(gw_ctx *ctx, const xforms *xf, gw_status st)
{
    if (xf->ctx != ctx) gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(xf->ctx));
    return st;
}

gw_status mdl_xforms_ready(gw_ctx *ctx, xforms *xf, int srid)
{
    if (xf->srid == srid && xf->t[GW_MODEL_METRIC]) return GW_OK;
    mdl_xforms_clear(xf);
    gw_crs from = {GW_CRS_EPSG, 4326},
           to[GW_MODEL_CRS_COUNT] = {{GW_CRS_EPSG, 4326}, {GW_CRS_EPSG, srid}, {GW_CRS_EPSG, 3857}};
    for (int c = GW_MODEL_METRIC; c < GW_MODEL_CRS_COUNT; c++) {
        gw_status st = gw_crs_transform_create(xf->ctx, from, to[c], &xf->t[c]);
        if (st) {
            mdl_xforms_clear(xf);
            return xf_fail(ctx, xf, st);
        }
    }
    gw_status fs = gw_crs_factors_create(xf->ctx, to[GW_MODEL_METRIC], &xf->fac);
    if (fs) {
        mdl_xforms_clear(xf);
        return xf_fail(ctx, xf, fs);
    }
    xf->srid = srid;
    return GW_OK;
}

/* Metric and Mercator forms, indexes and (grids) prepared geometries of a loaded layer. */
gw_status mdl_finish_layer(gw_ctx *ctx, gw_layer_data *d, xforms *xf, int srid)
{
    gw_status st = build_hash(ctx, d);
    if (st || d->n == 0) {
        if (!st && gw_layer_is_point(d->layer)) st = build_pgrid(ctx, d);
        return st;
    }
    if (srid <= 0)
        return gw_ctx_error(ctx, GW_ERR_CRS, "model: no metric CRS for layer %s",
                            gw_layer_name(d->layer));
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    st = xforms_ready(ctx, xf, srid);
    for (int c = GW_MODEL_METRIC; c < GW_MODEL_CRS_COUNT && !st; c++) {
        gw_crs_transform *tr = xf->t[c];
        if (gw_layer_is_point(d->layer)) {
            for (int k = 0; k < 2 && !st; k++) {
                d->xy[c][k] = malloc(d->n * sizeof(double));
                if (!d->xy[c][k])
                    st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
                else memcpy(d->xy[c][k], d->xy[GW_MODEL_LONLAT][k], d->n * sizeof(double));
            }
            if (!st) st = gw_crs_transform_points(tr, d->xy[c][0], d->xy[c][1], d->n);
            if (st) st = xf_fail(ctx, xf, st);
        } else {
            d->geom[c] = calloc(d->n, sizeof(GEOSGeometry *));
            if (!d->geom[c])
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
            for (size_t r = 0; r < d->n && !st; r++) {
                d->geom[c][r] = gw_crs_transform_geom(tr, d->geom[GW_MODEL_LONLAT][r]);
                if (!d->geom[c][r])
                    st = xf_fail(ctx, xf,
                                 gw_ctx_errcode(xf->ctx) ? gw_ctx_errcode(xf->ctx) : GW_ERR_CRS);
            }
        }
    }
    if (!st) st = mdl_view_factors(ctx, d, xf, 0, d->n);
    if (st) return st;
    if (gw_layer_is_point(d->layer)) return build_pgrid(ctx, d);

    /* Grids: prepared geometries with their point locators built now (lazy construction inside
     * GEOS is not thread-safe), and an STRtree built now by one query for the same reason. */
    d->prep = calloc(d->n, sizeof *d->prep);
    d->tree = GEOSSTRtree_create_r(h, 10);
    if (!d->prep || !d->tree)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing grids");
    for (size_t r = 0; r < d->n; r++) {
        const GEOSGeometry *g = d->geom[GW_MODEL_METRIC][r];
        d->prep[r] = GEOSPrepare_r(h, g);
        GEOSGeometry *pt = d->prep[r] ? GEOSPointOnSurface_r(h, g) : NULL;
        if (!pt)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grid '%s' cannot be prepared: %s",
                                gw_layer_data_id(d, r), gw_ctx_geos_errmsg(ctx));
        GEOSPreparedContains_r(h, d->prep[r], pt);
        GEOSPreparedCovers_r(h, d->prep[r], pt);
        GEOSPreparedIntersects_r(h, d->prep[r], pt);
        GEOSGeom_destroy_r(h, pt);
        GEOSSTRtree_insert_r(h, d->tree, g, (void *)(uintptr_t)(r + 1));
    }
    GEOSSTRtree_query_r(h, d->tree, d->geom[GW_MODEL_METRIC][0], no_visit, NULL);
    return GW_OK;
}

/* ---------- layer data accessors ---------- */

gw_layer gw_layer_data_layer(const gw_layer_data *d) { return d->layer; }
size_t gw_layer_data_count(const gw_layer_data *d) { return d ? d->n : 0; }
int64_t gw_layer_data_seq(const gw_layer_data *d) { return d->seq; }

ptrdiff_t gw_layer_data_find(const gw_layer_data *d, const char *id)
{
    if (!d || !id || !d->hash) return -1;
    for (size_t j = hash_str(id) & d->hmask; d->hash[j]; j = (j + 1) & d->hmask)
        if (strcmp(d->arena + d->cols[0].text[d->hash[j] - 1], id) == 0)
            return (ptrdiff_t)d->hash[j] - 1;
    return -1;
}

const char *gw_layer_data_id(const gw_layer_data *d, size_t row)
{
    return row < d->n ? d->arena + d->cols[0].text[row] : NULL;
}

int64_t gw_layer_data_fid(const gw_layer_data *d, size_t row)
{
    return row < d->n ? d->fid[row] : 0;
}

const char *gw_layer_data_text(const gw_layer_data *d, size_t row, int field)
{
    if (!d || row >= d->n || field < 0 || (size_t)field >= d->nfields) return NULL;
    const col *c = &d->cols[field];
    if (c->type != GW_FT_TEXT || c->text[row] == NOTEXT) return NULL;
    return d->arena + c->text[row];
}

gw_value gw_layer_data_value(const gw_layer_data *d, size_t row, int field)
{
    gw_value v = {GW_VAL_NULL, NULL, 0, 0};
    if (!d || row >= d->n || field < 0 || (size_t)field >= d->nfields) return v;
    const col *c = &d->cols[field];
    if (c->type == GW_FT_TEXT) {
        v.s = gw_layer_data_text(d, row, field);
        if (v.s) v.kind = GW_VAL_TEXT;
    } else if (!c->nulls[row]) {
        v.kind = c->type == GW_FT_REAL ? GW_VAL_REAL : GW_VAL_INT;
        if (c->type == GW_FT_REAL) v.d = c->d[row];
        else v.i = c->i[row];
    }
    return v;
}

static const col *column(const gw_layer_data *d, int field)
{
    return d && field >= 0 && (size_t)field < d->nfields ? &d->cols[field] : NULL;
}

const int64_t *gw_layer_data_ints(const gw_layer_data *d, int field)
{
    const col *c = column(d, field);
    return c ? c->i : NULL;
}

const double *gw_layer_data_reals(const gw_layer_data *d, int field)
{
    const col *c = column(d, field);
    return c ? c->d : NULL;
}

const uint8_t *gw_layer_data_nulls(const gw_layer_data *d, int field)
{
    const col *c = column(d, field);
    return c ? c->nulls : NULL;
}

const double *gw_layer_data_x(const gw_layer_data *d, gw_model_crs crs)
{
    return d && (unsigned)crs < GW_MODEL_CRS_COUNT ? d->xy[crs][0] : NULL;
}

const double *gw_layer_data_y(const gw_layer_data *d, gw_model_crs crs)
{
    return d && (unsigned)crs < GW_MODEL_CRS_COUNT ? d->xy[crs][1] : NULL;
}

const double *gw_layer_data_view_factors(const gw_layer_data *d, int which)
{
    return d && (which == 0 || which == 1) ? d->fac[which] : NULL;
}

const GEOSGeometry *gw_layer_data_geom(const gw_layer_data *d, size_t row, gw_model_crs crs)
{
    if (!d || row >= d->n || (unsigned)crs >= GW_MODEL_CRS_COUNT || !d->geom[crs]) return NULL;
    return d->geom[crs][row];
}

const GEOSPreparedGeometry *gw_layer_data_prepared(const gw_layer_data *d, size_t row)
{
    return d && d->prep && row < d->n ? d->prep[row] : NULL;
}

GEOSSTRtree *gw_layer_data_tree(const gw_layer_data *d) { return d ? d->tree : NULL; }

typedef struct at_state {
    GEOSContextHandle_t h;
    const gw_layer_data *d;
    const GEOSGeometry *pt;
    ptrdiff_t row;
    int err;
} at_state;

static void at_visit(void *item, void *user)
{
    at_state *s = user;
    size_t row = gw_model_tree_row(item);
    if (s->row >= 0 && (size_t)s->row < row) return;
    char r = GEOSPreparedCovers_r(s->h, s->d->prep[row], s->pt);
    if (r == 1) s->row = (ptrdiff_t)row;
    else if (r != 0) s->err = 1;
}

gw_status gw_layer_data_grid_at(gw_ctx *ctx, const gw_layer_data *d, double x, double y,
                                ptrdiff_t *row)
{
    if (row) *row = -1;
    if (!d || !row || d->layer != GW_LAYER_GRIDS)
        return gw_ctx_error(ctx, GW_ERR_ARG, "gw_layer_data_grid_at: not the grids layer");
    if (!d->tree) return GW_OK;
    at_state s = {gw_ctx_geos(ctx), d, NULL, -1, 0};
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(s.h, x, y);
    if (!pt)
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "cannot make a point (%g, %g): %s", x, y,
                            gw_ctx_geos_errmsg(ctx));
    s.pt = pt;
    GEOSSTRtree_query_r(s.h, d->tree, pt, at_visit, &s);
    GEOSGeom_destroy_r(s.h, pt);
    if (s.err)
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "point-in-grid test failed at (%g, %g): %s", x, y,
                            gw_ctx_geos_errmsg(ctx));
    *row = s.row;
    return GW_OK;
}

/* ---------- point index queries ---------- */

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

void gw_layer_data_query_points(const gw_layer_data *d, const gw_bbox *bbox, gw_model_visit_fn fn,
                                void *user)
{
    if (!d || !bbox || !fn || !d->pg.start || d->n == 0) return;
    const pgrid *g = &d->pg;
    const double *x = d->xy[GW_MODEL_METRIC][0], *y = d->xy[GW_MODEL_METRIC][1];
    if (bbox->maxx < g->minx || bbox->maxy < g->miny) return;
    long x0 = clampl((long)floor((bbox->minx - g->minx) / g->cell), 0, g->nx - 1);
    long x1 = (long)floor((bbox->maxx - g->minx) / g->cell);
    long y0 = clampl((long)floor((bbox->miny - g->miny) / g->cell), 0, g->ny - 1);
    long y1 = (long)floor((bbox->maxy - g->miny) / g->cell);
    if (x1 < 0 || y1 < 0) return;
    x1 = clampl(x1, 0, g->nx - 1);
    y1 = clampl(y1, 0, g->ny - 1);
    for (long cy = y0; cy <= y1; cy++) {
        for (long cx = x0; cx <= x1; cx++) {
            size_t c = (size_t)cy * (size_t)g->nx + (size_t)cx;
            for (uint32_t k = g->start[c]; k < g->start[c + 1]; k++) {
                uint32_t r = g->rows[k];
                if (x[r] >= bbox->minx && x[r] <= bbox->maxx && y[r] >= bbox->miny &&
                    y[r] <= bbox->maxy)
                    if (fn(user, r)) return;
            }
        }
    }
}

/* Keep the k best (rows, dists sorted ascending) in caller buffers. */
static void keep_best(size_t *rows, double *dists, size_t k, size_t *n, size_t row, double dd)
{
    if (*n == k && dd >= dists[k - 1]) return;
    size_t i = *n < k ? (*n)++ : k - 1;
    while (i > 0 && dists[i - 1] > dd) {
        rows[i] = rows[i - 1];
        dists[i] = dists[i - 1];
        i--;
    }
    rows[i] = row;
    dists[i] = dd;
}

void gw_layer_data_nearest(const gw_layer_data *d, double x, double y, size_t k, double max_dist,
                           gw_model_accept_fn accept, void *user, size_t *rows, double *dists,
                           size_t *n)
{
    *n = 0;
    if (!d || k == 0 || !rows || !d->pg.start || d->n == 0) return;
    /* Squared distances live in dists when given; else in a small stack buffer for k <= 64. */
    double local[64];
    double *dd = dists ? dists : (k <= 64 ? local : NULL);
    if (!dd) return;
    const pgrid *g = &d->pg;
    const double *px = d->xy[GW_MODEL_METRIC][0], *py = d->xy[GW_MODEL_METRIC][1];
    double lim2 = max_dist > 0 ? max_dist * max_dist : INFINITY;
    long cx = (long)floor((x - g->minx) / g->cell), cy = (long)floor((y - g->miny) / g->cell);
    long rmax = 0; /* ring beyond which no cell exists */
    long cand[4] = {cx, g->nx - 1 - cx, cy, g->ny - 1 - cy};
    for (int i = 0; i < 4; i++) rmax = labs(cand[i]) > rmax ? labs(cand[i]) : rmax;
    for (long r = 0; r <= rmax + 1; r++) {
        /* every cell of ring r is at least (r - 1) cells from the query point */
        double reach = (double)(r - 1) * g->cell;
        if (r > 0 && reach > 0 && ((*n == k && reach * reach >= dd[k - 1]) || reach * reach > lim2))
            break;
        for (long yy = cy - r; yy <= cy + r; yy++) {
            if (yy < 0 || yy >= g->ny) continue;
            long step = (yy == cy - r || yy == cy + r) ? 1 : 2 * r;
            for (long xx = cx - r; xx <= cx + r; xx += step ? step : 1) {
                if (xx < 0 || xx >= g->nx) continue;
                size_t c = (size_t)yy * (size_t)g->nx + (size_t)xx;
                for (uint32_t j = g->start[c]; j < g->start[c + 1]; j++) {
                    uint32_t row = g->rows[j];
                    double ex = px[row] - x, ey = py[row] - y, d2 = ex * ex + ey * ey;
                    if (d2 > lim2 || (*n == k && d2 >= dd[k - 1])) continue;
                    if (accept && !accept(user, row)) continue;
                    keep_best(rows, dd, k, n, row, d2);
                }
            }
        }
    }
    if (dists)
        for (size_t i = 0; i < *n; i++) dists[i] = sqrt(dists[i]);
}
