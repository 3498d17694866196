/* model.c — the in-memory model: the store's layers as immutable, reference-counted snapshots
 * (columns in arrays, points in three CRSs with a packed grid index, grids as GEOS geometries
 * with an STRtree), so analysis and tiles never scan SQLite and never wait on the writer.
 * The concurrency scheme is written down in docs/decisions/0001-model-concurrency.md. */
#include "model_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTEXT GW_MODEL_NOTEXT
#define MAX_FIELDS GW_MODEL_MAX_FIELDS
#define PG_PER_CELL 4 /* target points per cell of the packed point index */

typedef gw_model_col col;
typedef gw_model_pgrid pgrid;
typedef gw_model_xforms xforms;

/* Short names for the helpers model_delta.c shares (model_internal.h). */
#define reserve mdl_reserve
#define build_hash mdl_build_hash
#define build_pgrid mdl_build_pgrid
#define xf_fail mdl_xf_fail
#define xforms_ready mdl_xforms_ready
#define from_store mdl_from_store

struct gw_model_snapshot {
    atomic_long refs;
    int64_t seq;
    gw_layer_data *layers[GW_LAYER_COUNT];
};

struct gw_model {
    pthread_mutex_t lock;       /* guards `current` for acquire and swap; held for a few ns */
    pthread_mutex_t write_lock; /* one refresh at a time */
    gw_model_snapshot *current;
    int srid;
    gw_ctx *own; /* frees the model's last reference at close; owns xf */
    xforms xf;   /* used under write_lock (or during open) only */
};

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
    free(d);
}
#define layer_free mdl_layer_free

gw_status mdl_layer_new(gw_ctx *ctx, gw_layer layer, int64_t seq, gw_layer_data **out)
{
    *out = NULL;
    size_t nf = 0;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    if (nf > MAX_FIELDS) return gw_ctx_error(ctx, GW_ERR_INTERNAL, "layer %s has too many fields", gw_layer_name(layer));
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
    d->nfields = nf;
    for (size_t f = 0; f < nf; f++) d->cols[f].type = fields[f].type;
    *out = d;
    return GW_OK;
}

static void layer_unref(gw_ctx *ctx, gw_layer_data *d)
{
    if (d && atomic_fetch_sub(&d->refs, 1) == 1) layer_free(ctx, d);
}

static void snap_unref(gw_ctx *ctx, gw_model_snapshot *s)
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
static gw_status arena_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off)
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
static gw_status intern_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off)
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
    gw_status st = arena_add(ctx, d, s, off);
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
    uint32_t t = le ? (uint32_t)w[1] | (uint32_t)w[2] << 8 | (uint32_t)w[3] << 16 | (uint32_t)w[4] << 24
                    : (uint32_t)w[4] | (uint32_t)w[3] << 8 | (uint32_t)w[2] << 16 | (uint32_t)w[1] << 24;
    size_t at = 5;
    if (t & 0x20000000u) at += 4; /* EWKB SRID */
    t &= 0x0fffffffu;
    if (t % 1000 != 1 || len < at + 16) return 0;
    *x = rd_f64(w + at, le);
    *y = rd_f64(w + at + 8, le);
    return 1;
}

gw_status mdl_put_value(gw_ctx *ctx, gw_layer_data *d, size_t row, size_t f,
                             const gw_value *v, const char *id)
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
        return f == 0 ? arena_add(ctx, d, s, &c->text[row]) : intern_add(ctx, d, s, &c->text[row]);
    }
    c->nulls[row] = v->kind == GW_VAL_NULL;
    double dv = 0;
    int64_t iv = 0;
    if (v->kind == GW_VAL_INT) dv = (double)v->i, iv = v->i;
    else if (v->kind == GW_VAL_REAL) dv = v->d, iv = (int64_t)v->d;
    else if (v->kind == GW_VAL_TEXT && v->s) {
        char *end = NULL;
        if (c->type == GW_FT_TIME) {
            if (gw_time_parse(ctx, v->s, NULL, &iv) != GW_OK)
                return gw_ctx_error(ctx, GW_ERR_FORMAT, "layer %s, feature '%s': field %s = '%s' is not a time",
                                    gw_layer_name(d->layer), id, fname, v->s);
        } else {
            dv = strtod(v->s, &end);
            iv = (int64_t)dv;
            if (end == v->s)
                return gw_ctx_error(ctx, GW_ERR_FORMAT, "layer %s, feature '%s': field %s = '%s' is not a number",
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
        if (!wkb_point(r->wkb, r->wkb_len, &d->xy[GW_MODEL_LONLAT][0][row], &d->xy[GW_MODEL_LONLAT][1][row]))
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "layer %s, feature '%s': geometry is not a point",
                                gw_layer_name(d->layer), idv->s);
    } else {
        GEOSContextHandle_t h = gw_ctx_geos(ctx);
        GEOSGeometry *g = r->wkb ? GEOSWKBReader_read_r(h, rd, r->wkb, r->wkb_len) : NULL;
        int t = g ? GEOSGeomTypeId_r(h, g) : -1;
        if (t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON) {
            if (g) GEOSGeom_destroy_r(h, g);
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "layer %s, feature '%s': geometry is not a polygon (%s)",
                                gw_layer_name(d->layer), idv->s, g ? "wrong type" : gw_ctx_geos_errmsg(ctx));
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
        if (dup) gw_ctx_warn(ctx, "layer %s: duplicate id '%s'; lookups find the first",
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
    if (!g->start || !g->rows) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing points");
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

static void xforms_clear(xforms *xf)
{
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++) gw_crs_transform_destroy(xf->t[c]), xf->t[c] = NULL;
    xf->srid = 0;
}

gw_status mdl_xf_fail(gw_ctx *ctx, const xforms *xf, gw_status st)
{
    if (xf->ctx != ctx) gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(xf->ctx));
    return st;
}

gw_status mdl_xforms_ready(gw_ctx *ctx, xforms *xf, int srid)
{
    if (xf->srid == srid && xf->t[GW_MODEL_METRIC]) return GW_OK;
    xforms_clear(xf);
    gw_crs from = {GW_CRS_EPSG, 4326}, to[GW_MODEL_CRS_COUNT] = {{GW_CRS_EPSG, 4326}, {GW_CRS_EPSG, srid}, {GW_CRS_EPSG, 3857}};
    for (int c = GW_MODEL_METRIC; c < GW_MODEL_CRS_COUNT; c++) {
        gw_status st = gw_crs_transform_create(xf->ctx, from, to[c], &xf->t[c]);
        if (st) {
            xforms_clear(xf);
            return xf_fail(ctx, xf, st);
        }
    }
    xf->srid = srid;
    return GW_OK;
}

/* Metric and Mercator forms, indexes and (grids) prepared geometries of a loaded layer. */
static gw_status finish_layer(gw_ctx *ctx, gw_layer_data *d, xforms *xf, int srid)
{
    gw_status st = build_hash(ctx, d);
    if (st || d->n == 0) {
        if (!st && gw_layer_is_point(d->layer)) st = build_pgrid(ctx, d);
        return st;
    }
    if (srid <= 0) return gw_ctx_error(ctx, GW_ERR_CRS, "model: no metric CRS for layer %s", gw_layer_name(d->layer));
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    st = xforms_ready(ctx, xf, srid);
    for (int c = GW_MODEL_METRIC; c < GW_MODEL_CRS_COUNT && !st; c++) {
        gw_crs_transform *tr = xf->t[c];
        if (gw_layer_is_point(d->layer)) {
            for (int k = 0; k < 2 && !st; k++) {
                d->xy[c][k] = malloc(d->n * sizeof(double));
                if (!d->xy[c][k]) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
                else memcpy(d->xy[c][k], d->xy[GW_MODEL_LONLAT][k], d->n * sizeof(double));
            }
            if (!st) st = gw_crs_transform_points(tr, d->xy[c][0], d->xy[c][1], d->n);
            if (st) st = xf_fail(ctx, xf, st);
        } else {
            d->geom[c] = calloc(d->n, sizeof(GEOSGeometry *));
            if (!d->geom[c]) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
            for (size_t r = 0; r < d->n && !st; r++) {
                d->geom[c][r] = gw_crs_transform_geom(tr, d->geom[GW_MODEL_LONLAT][r]);
                if (!d->geom[c][r])
                    st = xf_fail(ctx, xf, gw_ctx_errcode(xf->ctx) ? gw_ctx_errcode(xf->ctx) : GW_ERR_CRS);
            }
        }
    }
    if (st) return st;
    if (gw_layer_is_point(d->layer)) return build_pgrid(ctx, d);

    /* Grids: prepared geometries with their point locators built now (lazy construction inside
     * GEOS is not thread-safe), and an STRtree built now by one query for the same reason. */
    d->prep = calloc(d->n, sizeof *d->prep);
    d->tree = GEOSSTRtree_create_r(h, 10);
    if (!d->prep || !d->tree) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing grids");
    for (size_t r = 0; r < d->n; r++) {
        const GEOSGeometry *g = d->geom[GW_MODEL_METRIC][r];
        d->prep[r] = GEOSPrepare_r(h, g);
        GEOSGeometry *pt = d->prep[r] ? GEOSPointOnSurface_r(h, g) : NULL;
        if (!pt) return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grid '%s' cannot be prepared: %s",
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

gw_status mdl_from_store(gw_ctx *ctx, gw_store *store, gw_status st)
{
    gw_ctx *sc = gw_store_ctx(store);
    if (st && sc && sc != ctx) gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(sc));
    return st;
}

static gw_status read_layer(gw_ctx *ctx, gw_store *store, gw_layer layer, int64_t seq,
                            gw_layer_data **out)
{
    gw_layer_data *d = NULL;
    gw_status st = mdl_layer_new(ctx, layer, seq, &d);
    if (st) return st;
    int64_t count = 0;
    gw_cursor *cur = NULL;
    GEOSWKBReader *rd = GEOSWKBReader_create_r(gw_ctx_geos(ctx));
    if (!rd) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    if (!st) st = from_store(ctx, store, gw_store_count(store, layer, &count));
    if (!st) st = reserve(ctx, d, count > 0 ? (size_t)count : 16);
    if (!st) st = from_store(ctx, store, gw_store_cursor_create(store, layer, &cur));
    gw_row row;
    while (!st) {
        st = gw_cursor_next(cur, &row);
        if (st == GW_ERR_NOT_FOUND) {
            st = GW_OK;
            break;
        }
        st = st ? from_store(ctx, store, st) : mdl_add_row(ctx, d, rd, &row);
    }
    gw_cursor_destroy(cur);
    if (rd) GEOSWKBReader_destroy_r(gw_ctx_geos(ctx), rd);
    if (st) {
        layer_free(ctx, d);
        return st;
    }
    *out = d;
    return GW_OK;
}

/* Change-log rows a point layer is patched for rather than reloaded: up to 5 % of the layer,
 * and always up to 20,000 (one lookup by id costs ~10 us; a reload ~3 us a row). */
#define PATCH_MIN_ROWS 20000
#define PATCH_SHARE 20

/* Read the layers in *mask (1u << layer) inside one read transaction of `store`, so they all
 * reflect change-log sequence *seq; transforms and indexes are built after it ends.  With
 * since >= 0, *mask is first replaced, in the same transaction, by the layers changed after
 * `since` (so no commit can slip between reading the log and reading the layers).  With `prev`
 * (the current layers), a point layer whose changes all name features, and not too many, is
 * derived from its previous version and the changed rows (mdl_delta_apply) instead of
 * being reloaded; those layers are set in *patched. */
static gw_status load_layers(gw_ctx *ctx, gw_store *store, unsigned *maskp, int64_t since,
                             gw_layer_data *const *prev, unsigned *patched, xforms *xf, int *srid,
                             gw_layer_data **out, int64_t *seq)
{
    if (patched) *patched = 0;
    if (gw_store_in_transaction(store))
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "the model reads only committed data: load or "
                                                  "refresh it after gw_store_commit(), not inside a transaction");
    if (gw_store_read_begin(store) != GW_OK)
        return gw_ctx_error(ctx, GW_ERR_DB, "model: cannot start a read transaction on %s: %s",
                            gw_store_path(store), gw_ctx_errmsg(gw_store_ctx(store)));
    gw_model_changes ch = {0};
    gw_status st = from_store(ctx, store, gw_store_last_seq(store, seq));
    if (!st && since >= 0) {
        size_t limit[GW_LAYER_COUNT] = {0};
        for (int l = 0; prev && l < GW_LAYER_COUNT; l++) {
            size_t n = prev[l] && gw_layer_is_point((gw_layer)l) ? prev[l]->n : 0;
            limit[l] = prev[l] && gw_layer_is_point((gw_layer)l) ? (n / PATCH_SHARE > PATCH_MIN_ROWS ? n / PATCH_SHARE : PATCH_MIN_ROWS) : 0;
        }
        if (*seq > since) st = mdl_changes_read(ctx, store, since, limit, &ch);
        *maskp = ch.mask;
    }
    unsigned mask = *maskp, done = 0;
    if (!st && *srid <= 0) st = from_store(ctx, store, gw_store_metric_srid(store, srid));
    for (int l = 0; !st && *srid <= 0 && l < GW_LAYER_COUNT; l++) {
        gw_bbox bb;
        if (!(mask & (1u << l))) continue;
        gw_status e = gw_store_extent(store, (gw_layer)l, &bb);
        if (e == GW_OK) *srid = gw_crs_metric_for((bb.minx + bb.maxx) / 2, (bb.miny + bb.maxy) / 2);
        else if (e != GW_ERR_NOT_FOUND) st = from_store(ctx, store, e);
    }
    for (int l = 0; !st && prev && *srid > 0 && l < GW_LAYER_COUNT; l++) {
        if (!(mask & (1u << l)) || (ch.bulk & (1u << l)) || !prev[l] || !gw_layer_is_point((gw_layer)l)) continue;
        st = mdl_delta_apply(ctx, store, prev[l], ch.ids[l], ch.nids[l], xf, *srid, *seq, &out[l]);
        if (!st && out[l]) done |= 1u << l;
    }
    mdl_changes_free(&ch);
    for (int l = 0; !st && l < GW_LAYER_COUNT; l++)
        if ((mask & ~done) & (1u << l)) st = read_layer(ctx, store, (gw_layer)l, *seq, &out[l]);
    gw_store_read_end(store);
    for (int l = 0; !st && l < GW_LAYER_COUNT; l++)
        if ((mask & ~done) & (1u << l)) st = finish_layer(ctx, out[l], xf, *srid);
    if (st) {
        for (int l = 0; l < GW_LAYER_COUNT; l++)
            if (mask & (1u << l)) layer_free(ctx, out[l]), out[l] = NULL;
    } else if (patched) {
        *patched = done;
    }
    return st;
}

/* The parallel half of gw_model_open: a layer set loaded over a second read-only connection. */
typedef struct side_load {
    const char *path;
    unsigned mask;
    int srid;
    gw_layer_data *out[GW_LAYER_COUNT];
    int64_t seq;
    gw_status st;
    char msg[512];
    gw_ctx *ctx;
} side_load;

static void *side_main(void *arg)
{
    side_load *s = arg;
    gw_store *st2 = NULL;
    s->st = gw_store_open(s->ctx, s->path, GW_STORE_READONLY, &st2);
    xforms xf = {s->ctx, 0, {NULL}, NULL};
    if (!s->st) s->st = load_layers(s->ctx, st2, &s->mask, -1, NULL, NULL, &xf, &s->srid, s->out, &s->seq);
    xforms_clear(&xf);
    if (s->st) snprintf(s->msg, sizeof s->msg, "%s", gw_ctx_errmsg(s->ctx));
    gw_store_close(st2);
    return NULL;
}

static int is_file_path(const char *p)
{
    return p && p[0] && strcmp(p, ":memory:") != 0 && strncmp(p, "file::memory:", 13) != 0;
}

/* ---------- public: open, refresh, snapshots ---------- */

static void publish(gw_ctx *ctx, gw_model *m, gw_model_snapshot *s)
{
    pthread_mutex_lock(&m->lock);
    gw_model_snapshot *old = m->current;
    m->current = s;
    pthread_mutex_unlock(&m->lock);
    snap_unref(ctx, old);
}

gw_status gw_model_open(gw_ctx *ctx, gw_store *store, gw_model **out)
{
    if (!ctx || !store || !out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_model_open: NULL argument");
    *out = NULL;
    gw_model *m = calloc(1, sizeof *m);
    gw_model_snapshot *s = calloc(1, sizeof *s);
    if (!m || !s || gw_ctx_create(&m->own) != GW_OK) {
        if (m) gw_ctx_destroy(m->own);
        free(m);
        free(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory opening the model");
    }
    m->xf.ctx = m->own;
    m->xf.pool = mdl_pool_create();
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->write_lock, NULL);
    atomic_init(&s->refs, 1);
    gw_status st = from_store(ctx, store, gw_store_metric_srid(store, &m->srid));

    /* Incidents are most of the rows: load them on a second thread over their own connection. */
    side_load side = {.path = gw_store_path(store), .mask = 1u << GW_LAYER_INCIDENTS, .srid = m->srid};
    pthread_t th;
    int threaded = 0;
    unsigned mask = (1u << GW_LAYER_COUNT) - 1;
    if (!st && m->srid > 0 && is_file_path(side.path) && gw_ctx_create(&side.ctx) == GW_OK) {
        threaded = pthread_create(&th, NULL, side_main, &side) == 0;
        if (threaded) mask &= ~side.mask;
        else gw_ctx_destroy(side.ctx), side.ctx = NULL;
    }
    if (!st) st = load_layers(ctx, store, &mask, -1, NULL, NULL, &m->xf, &m->srid, s->layers, &s->seq);
    if (threaded) {
        pthread_join(th, NULL);
        if (side.st && !st) { /* e.g. a file another process cannot open read-only: retry here */
            gw_ctx_warn(ctx, "model: parallel load failed (%s); loading incidents on this thread", side.msg);
            int64_t seq2 = 0;
            st = load_layers(ctx, store, &side.mask, -1, NULL, NULL, &m->xf, &m->srid, s->layers, &seq2);
            if (seq2 < s->seq) s->seq = seq2;
        } else if (!side.st) {
            for (int l = 0; l < GW_LAYER_COUNT; l++)
                if (side.mask & (1u << l)) s->layers[l] = side.out[l];
            if (side.seq < s->seq) s->seq = side.seq; /* reload what changed in between on refresh */
            side.mask = 0;
        }
        if (side.mask)
            for (int l = 0; l < GW_LAYER_COUNT; l++) layer_free(ctx, side.out[l]);
        gw_ctx_destroy(side.ctx);
    }
    m->current = s;
    if (st) {
        gw_model_close(m);
        return st;
    }
    *out = m;
    return GW_OK;
}

void gw_model_close(gw_model *model)
{
    if (!model) return;
    snap_unref(model->own, model->current);
    xforms_clear(&model->xf);
    mdl_pool_unref(model->xf.pool);
    pthread_mutex_destroy(&model->lock);
    pthread_mutex_destroy(&model->write_lock);
    gw_ctx_destroy(model->own);
    free(model);
}

gw_status gw_model_refresh_ex(gw_ctx *ctx, gw_model *model, gw_store *store, gw_model_refresh_info *info)
{
    if (info) memset(info, 0, sizeof *info);
    if (!ctx || !model || !store) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_model_refresh: NULL argument");
    pthread_mutex_lock(&model->write_lock);
    gw_model_snapshot *cur = model->current; /* only this (locked) writer replaces it */
    gw_layer_data *fresh[GW_LAYER_COUNT] = {0};
    unsigned mask = 0, patched = 0;
    int srid = model->srid;
    gw_model_snapshot *s = calloc(1, sizeof *s);
    gw_status st = s ? GW_OK : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if (!st) st = load_layers(ctx, store, &mask, cur->seq, cur->layers, &patched, &model->xf, &srid, fresh, &s->seq);
    if (!st && s->seq > cur->seq) {
        model->srid = srid; /* set once, when the first data arrives in an empty model */
        atomic_init(&s->refs, 1);
        for (int l = 0; l < GW_LAYER_COUNT; l++) {
            s->layers[l] = fresh[l] ? fresh[l] : cur->layers[l];
            if (!fresh[l]) atomic_fetch_add(&s->layers[l]->refs, 1);
        }
        publish(ctx, model, s);
        if (info) {
            info->replaced = mask;
            info->patched = patched;
            info->seq = s->seq;
        }
    } else {
        free(s);
    }
    pthread_mutex_unlock(&model->write_lock);
    return st;
}

gw_status gw_model_refresh(gw_ctx *ctx, gw_model *model, gw_store *store, unsigned *reloaded)
{
    gw_model_refresh_info info;
    gw_status st = gw_model_refresh_ex(ctx, model, store, &info);
    if (reloaded) *reloaded = info.replaced;
    return st;
}

int gw_model_metric_srid(const gw_model *model) { return model ? model->srid : 0; }

gw_model_snapshot *gw_model_acquire(gw_model *model)
{
    pthread_mutex_lock(&model->lock);
    gw_model_snapshot *s = model->current;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&model->lock);
    return s;
}

void gw_model_release(gw_ctx *ctx, gw_model_snapshot *snap) { snap_unref(ctx, snap); }
int64_t gw_snapshot_seq(const gw_model_snapshot *snap) { return snap->seq; }

const gw_layer_data *gw_snapshot_layer(const gw_model_snapshot *snap, gw_layer layer)
{
    if (!snap || (int)layer < 0 || layer >= GW_LAYER_COUNT) return NULL;
    return snap->layers[layer];
}

/* ---------- layer data accessors ---------- */

gw_layer gw_layer_data_layer(const gw_layer_data *d) { return d->layer; }
size_t gw_layer_data_count(const gw_layer_data *d) { return d ? d->n : 0; }
int64_t gw_layer_data_seq(const gw_layer_data *d) { return d->seq; }

ptrdiff_t gw_layer_data_find(const gw_layer_data *d, const char *id)
{
    if (!d || !id || !d->hash) return -1;
    for (size_t j = hash_str(id) & d->hmask; d->hash[j]; j = (j + 1) & d->hmask)
        if (strcmp(d->arena + d->cols[0].text[d->hash[j] - 1], id) == 0) return (ptrdiff_t)d->hash[j] - 1;
    return -1;
}

const char *gw_layer_data_id(const gw_layer_data *d, size_t row)
{
    return row < d->n ? d->arena + d->cols[0].text[row] : NULL;
}

int64_t gw_layer_data_fid(const gw_layer_data *d, size_t row) { return row < d->n ? d->fid[row] : 0; }

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
    if (!pt) return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "cannot make a point (%g, %g): %s", x, y,
                                 gw_ctx_geos_errmsg(ctx));
    s.pt = pt;
    GEOSSTRtree_query_r(s.h, d->tree, pt, at_visit, &s);
    GEOSGeom_destroy_r(s.h, pt);
    if (s.err) return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "point-in-grid test failed at (%g, %g): %s",
                                   x, y, gw_ctx_geos_errmsg(ctx));
    *row = s.row;
    return GW_OK;
}

/* ---------- point index queries ---------- */

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

void gw_layer_data_query_points(const gw_layer_data *d, const gw_bbox *bbox,
                                gw_model_visit_fn fn, void *user)
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
                if (x[r] >= bbox->minx && x[r] <= bbox->maxx && y[r] >= bbox->miny && y[r] <= bbox->maxy)
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
        if (r > 0 && reach > 0 && ((*n == k && reach * reach >= dd[k - 1]) || reach * reach > lim2)) break;
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
