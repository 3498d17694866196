/* mvt.c — the MVT 2.1 encoder: clip, simplify, snap to the tile grid, keep polygons valid, and
 * write the protobuf by hand (a dozen lines of varint code; measured faster than protobuf-c and
 * allocation-free per feature — docs/decisions/0002-mvt-encoder.md).
 *
 * Layout: a small pbf writer, per-layer key/value interning, geometry to command streams. */
#include "gridwatch/mvt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------- growable byte buffer and varint writer ---------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int buf_reserve(buf *b, size_t extra)
{
    return grow((void **)&b->p, &b->cap, b->n + extra, 1);
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Callers reserve first; these never fail. */
static void put_varint(buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->p[b->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->n++] = (uint8_t)v;
}

static void put_bytes(buf *b, const void *d, size_t n)
{
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static uint32_t zigzag32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }
static uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

#define CMD(id, count) ((uint32_t)(((count) << 3) | (id)))
enum { CMD_MOVETO = 1, CMD_LINETO = 2, CMD_CLOSEPATH = 7 };
enum { GT_POINT = 1, GT_LINESTRING = 2, GT_POLYGON = 3 };

/* ---------- per-layer interning of keys and values ---------- */

typedef struct slot {
    uint32_t hash, index, off, len; /* len 0 + index UINT32_MAX = empty */
} slot;

typedef struct table {
    slot *s;
    size_t cap, used;
} table;

typedef struct layer {
    char *name;
    uint32_t extent;
    double scale, tol_m; /* tile units per metre; simplification tolerance in metres */
    buf features, keys, values;
    uint32_t nfeatures, nkeys, nvalues;
    table kt, vt;
} layer;

struct gw_mvt {
    gw_ctx *ctx;
    GEOSContextHandle_t gh;
    gw_mvt_options opt;
    gw_tile_id tile;
    gw_bbox bounds, clip; /* tile bounds and buffered clip box, metres */
    GEOSGeometry *clip_rect;
    layer *layers;
    size_t nlayers, caplayers;
    layer *cur;
    buf out, vtmp;
    uint32_t *cmds, *tags;
    size_t ncmds, capcmds, ntags, captags;
    double *dbl;
    size_t capdbl;
    int32_t *pts; /* x,y pairs in tile units */
    size_t npts, cappts;
    struct ring {
        size_t start, n;
        int exterior;
    } * rings;
    size_t nrings, caprings;
    GEOSGeometry **gtmp;
    size_t capgtmp;
};

static uint32_t fnv1a(const void *d, size_t n, uint32_t seed)
{
    const uint8_t *p = d;
    uint32_t h = 2166136261u ^ seed;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void table_clear(table *t)
{
    for (size_t i = 0; i < t->cap; i++) t->s[i].index = UINT32_MAX;
    t->used = 0;
}

static int table_rehash(table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    slot *ns = malloc(ncap * sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < ncap; i++) ns[i].index = UINT32_MAX;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->s[i].index == UINT32_MAX) continue;
        size_t j = t->s[i].hash & (ncap - 1);
        while (ns[j].index != UINT32_MAX) j = (j + 1) & (ncap - 1);
        ns[j] = t->s[i];
    }
    free(t->s);
    t->s = ns;
    t->cap = ncap;
    return 0;
}

/* Find (data, n) in table t whose payloads live in store; append `tag, len, data` to store when
 * new.  Returns the index, or -1 on allocation failure. */
static int64_t intern(table *t, buf *store, uint32_t *count, uint8_t tag, const void *data,
                      size_t n)
{
    if ((t->used + 1) * 2 > t->cap && table_rehash(t) != 0) return -1;
    uint32_t h = fnv1a(data, n, tag);
    size_t j = h & (t->cap - 1);
    while (t->s[j].index != UINT32_MAX) {
        slot *s = &t->s[j];
        if (s->hash == h && s->len == n && memcmp(store->p + s->off, data, n) == 0) return s->index;
        j = (j + 1) & (t->cap - 1);
    }
    if (buf_reserve(store, 1 + 10 + n) != 0) return -1;
    store->p[store->n++] = tag;
    put_varint(store, n);
    slot s = {h, (*count)++, (uint32_t)store->n, (uint32_t)n};
    put_bytes(store, data, n);
    t->s[j] = s;
    t->used++;
    return s.index;
}

/* Encode a typed value as a Value message into mvt->vtmp. */
static int encode_value(gw_mvt *m, const gw_mvt_value *v)
{
    buf *b = &m->vtmp;
    b->n = 0;
    size_t slen = v->type == GW_MVT_STRING ? strlen(v->u.s) : 0;
    if (buf_reserve(b, 16 + slen) != 0) return -1;
    switch (v->type) {
    case GW_MVT_STRING:
        b->p[b->n++] = 0x0A;
        put_varint(b, slen);
        put_bytes(b, v->u.s, slen);
        break;
    case GW_MVT_DOUBLE: {
        b->p[b->n++] = 0x19;
        uint64_t bits;
        memcpy(&bits, &v->u.d, 8);
        for (int i = 0; i < 8; i++) b->p[b->n++] = (uint8_t)(bits >> (8 * i));
        break;
    }
    case GW_MVT_INT:
        if (v->u.i >= 0) {
            b->p[b->n++] = 0x28;
            put_varint(b, (uint64_t)v->u.i);
        } else {
            b->p[b->n++] = 0x30;
            put_varint(b, zigzag64(v->u.i));
        }
        break;
    case GW_MVT_BOOL:
        b->p[b->n++] = 0x38;
        b->p[b->n++] = v->u.b ? 1 : 0;
        break;
    default: return -2;
    }
    return 0;
}

static gw_status build_tags(gw_mvt *m, const gw_mvt_prop *props, size_t nprops)
{
    layer *L = m->cur;
    m->ntags = 0;
    if (grow((void **)&m->tags, &m->captags, 2 * nprops, sizeof *m->tags) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory for feature tags");
    for (size_t i = 0; i < nprops; i++) {
        const gw_mvt_prop *p = &props[i];
        if (!p->key || (p->value.type == GW_MVT_STRING && !p->value.u.s)) continue;
        int rc = encode_value(m, &p->value);
        if (rc == -2)
            return gw_ctx_error(m->ctx, GW_ERR_ARG, "property '%s' has unknown type %d", p->key,
                                (int)p->value.type);
        if (rc != 0) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory for a value");
        int64_t ki = intern(&L->kt, &L->keys, &L->nkeys, 0x1A, p->key, strlen(p->key));
        int64_t vi = intern(&L->vt, &L->values, &L->nvalues, 0x22, m->vtmp.p, m->vtmp.n);
        if (ki < 0 || vi < 0) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory interning");
        m->tags[m->ntags++] = (uint32_t)ki;
        m->tags[m->ntags++] = (uint32_t)vi;
    }
    return GW_OK;
}

static size_t packed_size(const uint32_t *v, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += varint_size(v[i]);
    return s;
}

/* Append the Feature message (tags already in m->tags, geometry in m->cmds). */
static gw_status write_feature(gw_mvt *m, uint64_t id, bool has_id, int type)
{
    layer *L = m->cur;
    size_t tsz = packed_size(m->tags, m->ntags), gsz = packed_size(m->cmds, m->ncmds);
    size_t fsz = 2 + 1 + varint_size(gsz) + gsz;
    if (has_id) fsz += 1 + varint_size(id);
    if (m->ntags) fsz += 1 + varint_size(tsz) + tsz;
    if (buf_reserve(&L->features, fsz + 11) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory writing a feature");
    buf *b = &L->features;
    b->p[b->n++] = 0x12;
    put_varint(b, fsz);
    if (has_id) {
        b->p[b->n++] = 0x08;
        put_varint(b, id);
    }
    if (m->ntags) {
        b->p[b->n++] = 0x12;
        put_varint(b, tsz);
        for (size_t i = 0; i < m->ntags; i++) put_varint(b, m->tags[i]);
    }
    b->p[b->n++] = 0x18;
    b->p[b->n++] = (uint8_t)type;
    b->p[b->n++] = 0x22;
    put_varint(b, gsz);
    for (size_t i = 0; i < m->ncmds; i++) put_varint(b, m->cmds[i]);
    L->nfeatures++;
    return GW_OK;
}

/* ---------- lifecycle ---------- */

gw_mvt_options gw_mvt_defaults(void)
{
    gw_mvt_options o = {GW_TILE_EXTENT, GW_TILE_BUFFER, 0.25, GW_MVT_CLIP_BY_RECT};
    return o;
}

static gw_status set_tile(gw_mvt *m, gw_tile_id t)
{
    gw_status st = gw_tile_check(m->ctx, t);
    if (st != GW_OK) return st;
    m->tile = t;
    m->bounds = gw_tile_bounds(t);
    m->clip = gw_tile_bounds_buffered(t, m->opt.extent, m->opt.buffer);
    if (m->clip_rect) GEOSGeom_destroy_r(m->gh, m->clip_rect);
    m->clip_rect = GEOSGeom_createRectangle_r(m->gh, m->clip.minx, m->clip.miny, m->clip.maxx,
                                              m->clip.maxy);
    if (!m->clip_rect)
        return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY,
                            "cannot build the clip box of tile %u/%u/%u: %s", t.z, t.x, t.y,
                            gw_ctx_geos_errmsg(m->ctx));
    for (size_t i = 0; i < m->nlayers; i++) {
        free(m->layers[i].name);
        m->layers[i].name = NULL;
    }
    m->nlayers = 0;
    m->cur = NULL;
    m->out.n = 0;
    return GW_OK;
}

gw_status gw_mvt_create(gw_ctx *ctx, gw_tile_id t, const gw_mvt_options *opt, gw_mvt **out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_mvt_create: out is NULL");
    *out = NULL;
    gw_mvt_options o = opt ? *opt : gw_mvt_defaults();
    if (o.extent == 0) o.extent = GW_TILE_EXTENT;
    if (o.buffer > o.extent)
        return gw_ctx_error(ctx, GW_ERR_ARG, "MVT buffer %u is larger than the extent %u", o.buffer,
                            o.extent);
    if (!(o.simplify >= 0) || o.simplify > o.extent)
        return gw_ctx_error(ctx, GW_ERR_ARG, "MVT simplify tolerance %g is not in [0, extent]",
                            o.simplify);
    gw_mvt *m = calloc(1, sizeof *m);
    if (!m) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory creating an MVT encoder");
    m->ctx = ctx;
    m->gh = gw_ctx_geos(ctx);
    m->opt = o;
    gw_status st = set_tile(m, t);
    if (st != GW_OK) {
        gw_mvt_destroy(m);
        return st;
    }
    *out = m;
    return GW_OK;
}

gw_status gw_mvt_reset(gw_mvt *m, gw_tile_id t)
{
    if (!m) return GW_ERR_ARG;
    return set_tile(m, t);
}

void gw_mvt_destroy(gw_mvt *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->caplayers; i++) {
        layer *L = &m->layers[i];
        free(L->name);
        free(L->features.p);
        free(L->keys.p);
        free(L->values.p);
        free(L->kt.s);
        free(L->vt.s);
    }
    free(m->layers);
    if (m->clip_rect) GEOSGeom_destroy_r(m->gh, m->clip_rect);
    free(m->out.p);
    free(m->vtmp.p);
    free(m->cmds);
    free(m->tags);
    free(m->dbl);
    free(m->pts);
    free(m->rings);
    free(m->gtmp);
    free(m);
}

gw_status gw_mvt_add_layer(gw_mvt *m, const char *name, uint32_t extent)
{
    if (!m) return GW_ERR_ARG;
    if (!name || !*name) return gw_ctx_error(m->ctx, GW_ERR_ARG, "MVT layer name is empty");
    for (size_t i = 0; i < m->nlayers; i++)
        if (strcmp(m->layers[i].name, name) == 0)
            return gw_ctx_error(m->ctx, GW_ERR_CONFLICT,
                                "MVT layer '%s' is already in tile %u/%u/%u", name, m->tile.z,
                                m->tile.x, m->tile.y);
    if (m->nlayers == m->caplayers) {
        size_t nc = m->caplayers ? m->caplayers * 2 : 4;
        layer *nl = realloc(m->layers, nc * sizeof *nl);
        if (!nl) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory adding layer '%s'", name);
        memset(nl + m->caplayers, 0, (nc - m->caplayers) * sizeof *nl);
        m->layers = nl;
        m->caplayers = nc;
    }
    layer *L = &m->layers[m->nlayers];
    L->name = strdup(name);
    if (!L->name)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory adding layer '%s'", name);
    L->extent = extent ? extent : m->opt.extent;
    double width = m->bounds.maxx - m->bounds.minx;
    L->scale = L->extent / width;
    L->tol_m = m->opt.simplify * width / L->extent;
    L->features.n = L->keys.n = L->values.n = 0;
    L->nfeatures = L->nkeys = L->nvalues = 0;
    table_clear(&L->kt);
    table_clear(&L->vt);
    m->nlayers++;
    m->cur = L;
    return GW_OK;
}

size_t gw_mvt_layer_feature_count(const gw_mvt *m) { return m && m->cur ? m->cur->nfeatures : 0; }

/* ---------- geometry ---------- */

static inline int32_t to_tx(const gw_mvt *m, double mx)
{
    return (int32_t)floor((mx - m->bounds.minx) * m->cur->scale + 0.5);
}
static inline int32_t to_ty(const gw_mvt *m, double my)
{
    return (int32_t)floor((m->bounds.maxy - my) * m->cur->scale + 0.5);
}

gw_status gw_mvt_add_point(gw_mvt *m, uint64_t id, bool has_id, double mx, double my,
                           const gw_mvt_prop *props, size_t nprops, bool *added)
{
    if (added) *added = false;
    if (!m) return GW_ERR_ARG;
    if (!m->cur) return gw_ctx_error(m->ctx, GW_ERR_ARG, "MVT feature added before any layer");
    if (!(mx >= m->clip.minx && mx <= m->clip.maxx && my >= m->clip.miny && my <= m->clip.maxy))
        return GW_OK;
    m->ncmds = 0;
    if (grow((void **)&m->cmds, &m->capcmds, 3, 4) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory encoding a point");
    m->cmds[0] = CMD(CMD_MOVETO, 1);
    m->cmds[1] = zigzag32(to_tx(m, mx));
    m->cmds[2] = zigzag32(to_ty(m, my));
    m->ncmds = 3;
    gw_status st = build_tags(m, props, nprops);
    if (st == GW_OK) st = write_feature(m, id, has_id, GT_POINT);
    if (st == GW_OK && added) *added = true;
    return st;
}

/* Highest dimension among the non-empty parts of g (-1 when empty). */
/* 1 when every coordinate of g is finite.  GEOS 3.11's GEOSClipByRect leaks (and any clip is
 * meaningless) on an infinite or NaN coordinate, which the envelope alone does not show: NaN
 * drops out of min/max. */
static int coords_finite(GEOSContextHandle_t gh, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(gh, g);
    if (t == GEOS_POLYGON) {
        int n = GEOSGetNumInteriorRings_r(gh, g);
        if (!coords_finite(gh, GEOSGetExteriorRing_r(gh, g))) return 0;
        for (int i = 0; i < n; i++)
            if (!coords_finite(gh, GEOSGetInteriorRingN_r(gh, g, i))) return 0;
        return 1;
    }
    if (t == GEOS_POINT || t == GEOS_LINESTRING || t == GEOS_LINEARRING) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(gh, g);
        unsigned n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(gh, cs, &n)) return 0;
        for (unsigned i = 0; i < n; i++) {
            double x, y;
            if (!GEOSCoordSeq_getXY_r(gh, cs, i, &x, &y) || !isfinite(x) || !isfinite(y)) return 0;
        }
        return 1;
    }
    int n = GEOSGetNumGeometries_r(gh, g);
    for (int i = 0; i < n; i++)
        if (!coords_finite(gh, GEOSGetGeometryN_r(gh, g, i))) return 0;
    return 1;
}

static int geom_dim(GEOSContextHandle_t gh, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(gh, g);
    if (GEOSisEmpty_r(gh, g) == 1) return -1;
    switch (t) {
    case GEOS_POINT:
    case GEOS_MULTIPOINT: return 0;
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
    case GEOS_MULTILINESTRING: return 1;
    case GEOS_POLYGON:
    case GEOS_MULTIPOLYGON: return 2;
    case GEOS_GEOMETRYCOLLECTION: {
        int d = -1, n = GEOSGetNumGeometries_r(gh, g);
        for (int i = 0; i < n; i++) {
            int di = geom_dim(gh, GEOSGetGeometryN_r(gh, g, i));
            if (di > d) d = di;
        }
        return d;
    }
    default: return -1;
    }
}

/* Read a coordinate sequence into m->pts as tile units (or as-is when `identity`), dropping
 * points repeated after rounding.  Returns the number of points appended, or -1. */
static long read_seq(gw_mvt *m, const GEOSCoordSequence *cs, int identity)
{
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(m->gh, cs, &n)) return -1;
    if (grow((void **)&m->dbl, &m->capdbl, 2 * (size_t)n, sizeof *m->dbl) != 0 ||
        grow((void **)&m->pts, &m->cappts, 2 * (m->npts + n), sizeof *m->pts) != 0)
        return -1;
    if (n && !GEOSCoordSeq_copyToBuffer_r(m->gh, cs, m->dbl, 0, 0)) return -1;
    /* A NaN or infinite coordinate, or one clipping left far outside the tile (it loses
     * precision on coordinates like 1e20), has no int32 tile unit: converting it would be
     * undefined behaviour, so the geometry is refused. */
    for (size_t i = 0; i < 2 * (size_t)n; i++) {
        double u = identity     ? m->dbl[i]
                   : i % 2 == 0 ? (m->dbl[i] - m->bounds.minx) * m->cur->scale
                                : (m->bounds.maxy - m->dbl[i]) * m->cur->scale;
        if (!(fabs(u) < 1e9)) return -1;
    }
    size_t start = m->npts;
    for (unsigned int i = 0; i < n; i++) {
        int32_t x, y;
        if (identity) {
            x = (int32_t)floor(m->dbl[2 * i] + 0.5);
            y = (int32_t)floor(m->dbl[2 * i + 1] + 0.5);
        } else {
            x = to_tx(m, m->dbl[2 * i]);
            y = to_ty(m, m->dbl[2 * i + 1]);
        }
        if (m->npts > start && m->pts[2 * m->npts - 2] == x && m->pts[2 * m->npts - 1] == y)
            continue;
        m->pts[2 * m->npts] = x;
        m->pts[2 * m->npts + 1] = y;
        m->npts++;
    }
    return (long)(m->npts - start);
}

/* Twice the surveyor's area of a ring of n points (closing edge implied), y-down tile space. */
static int64_t ring_area2(const int32_t *p, size_t n)
{
    int64_t a = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1 == n) ? 0 : i + 1;
        a += (int64_t)p[2 * i] * p[2 * j + 1] - (int64_t)p[2 * j] * p[2 * i + 1];
    }
    return a;
}

/* Append one ring of polygon to m->rings; drops it (returns 0) when degenerate. 1 = kept. */
static int add_ring(gw_mvt *m, const GEOSGeometry *ring, int exterior, int identity)
{
    size_t start = m->npts;
    long n = read_seq(m, GEOSGeom_getCoordSeq_r(m->gh, ring), identity);
    if (n < 0) return -1;
    if (n >= 2 && m->pts[2 * start] == m->pts[2 * (m->npts - 1)] &&
        m->pts[2 * start + 1] == m->pts[2 * (m->npts - 1) + 1]) {
        m->npts--; /* the closing point */
        n--;
    }
    if (n < 3 || ring_area2(m->pts + 2 * start, (size_t)n) == 0) {
        m->npts = start;
        return 0;
    }
    if (grow((void **)&m->rings, &m->caprings, m->nrings + 1, sizeof *m->rings) != 0) return -1;
    m->rings[m->nrings].start = start;
    m->rings[m->nrings].n = (size_t)n;
    m->rings[m->nrings].exterior = exterior;
    m->nrings++;
    return 1;
}

/* Collect the polygon parts of g into m->pts / m->rings.  -1 on failure. */
static int collect_polygons(gw_mvt *m, const GEOSGeometry *g, int identity)
{
    int t = GEOSGeomTypeId_r(m->gh, g);
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(m->gh, g);
        for (int i = 0; i < n; i++)
            if (collect_polygons(m, GEOSGetGeometryN_r(m->gh, g, i), identity) != 0) return -1;
        return 0;
    }
    if (t != GEOS_POLYGON || GEOSisEmpty_r(m->gh, g) == 1) return 0;
    size_t save_pts = m->npts, save_rings = m->nrings;
    int rc = add_ring(m, GEOSGetExteriorRing_r(m->gh, g), 1, identity);
    if (rc < 0) return -1;
    if (rc == 0) return 0; /* the shell collapsed: the holes go with it */
    int nh = GEOSGetNumInteriorRings_r(m->gh, g);
    for (int i = 0; i < nh; i++)
        if (add_ring(m, GEOSGetInteriorRingN_r(m->gh, g, i), 0, identity) < 0) {
            m->npts = save_pts;
            m->nrings = save_rings;
            return -1;
        }
    return 0;
}

/* Build a GEOS multipolygon from m->rings (tile units).  NULL on failure. */
static GEOSGeometry *make_ring(gw_mvt *m, const struct ring *R)
{
    if (grow((void **)&m->dbl, &m->capdbl, 2 * (R->n + 1), sizeof *m->dbl) != 0) return NULL;
    for (size_t i = 0; i < R->n; i++) {
        m->dbl[2 * i] = m->pts[2 * (R->start + i)];
        m->dbl[2 * i + 1] = m->pts[2 * (R->start + i) + 1];
    }
    m->dbl[2 * R->n] = m->dbl[0];
    m->dbl[2 * R->n + 1] = m->dbl[1];
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(m->gh, m->dbl, (unsigned)(R->n + 1), 0,
                                                          0);
    return cs ? GEOSGeom_createLinearRing_r(m->gh, cs) : NULL;
}

static GEOSGeometry *rings_to_geos(gw_mvt *m)
{
    if (grow((void **)&m->gtmp, &m->capgtmp, 2 * m->nrings + 1, sizeof *m->gtmp) != 0) return NULL;
    GEOSGeometry **polys = m->gtmp, **holes = m->gtmp + m->nrings;
    size_t np = 0, r = 0;
    while (r < m->nrings) {
        GEOSGeometry *shell = make_ring(m, &m->rings[r++]);
        size_t nh = 0;
        int ok = shell != NULL;
        while (ok && r < m->nrings && !m->rings[r].exterior) {
            holes[nh] = make_ring(m, &m->rings[r++]);
            ok = holes[nh] != NULL;
            if (ok) nh++;
        }
        GEOSGeometry *poly = ok ? GEOSGeom_createPolygon_r(m->gh, shell, holes, (unsigned)nh)
                                : NULL;
        if (!poly) {
            if (!ok) { /* on a createPolygon failure GEOS already owns shell and holes */
                for (size_t i = 0; i < nh; i++) GEOSGeom_destroy_r(m->gh, holes[i]);
                if (shell) GEOSGeom_destroy_r(m->gh, shell);
            }
            for (size_t i = 0; i < np; i++) GEOSGeom_destroy_r(m->gh, polys[i]);
            return NULL;
        }
        polys[np++] = poly;
    }
    return GEOSGeom_createCollection_r(m->gh, GEOS_MULTIPOLYGON, polys, (unsigned)np);
}

/* Emit m->rings as polygon commands with MVT winding (exterior positive area in y-down). */
static int emit_rings(gw_mvt *m)
{
    int32_t cx = 0, cy = 0;
    for (size_t r = 0; r < m->nrings; r++) {
        const struct ring *R = &m->rings[r];
        const int32_t *p = m->pts + 2 * R->start;
        int64_t a = ring_area2(p, R->n);
        int reverse = R->exterior ? (a < 0) : (a > 0);
        if (grow((void **)&m->cmds, &m->capcmds, m->ncmds + 2 * R->n + 3, 4) != 0) return -1;
        for (size_t k = 0; k < R->n; k++) {
            size_t i = reverse ? (k == 0 ? 0 : R->n - k) : k;
            int32_t x = p[2 * i], y = p[2 * i + 1];
            if (k == 0) m->cmds[m->ncmds++] = CMD(CMD_MOVETO, 1);
            if (k == 1) m->cmds[m->ncmds++] = CMD(CMD_LINETO, (uint32_t)(R->n - 1));
            m->cmds[m->ncmds++] = zigzag32(x - cx);
            m->cmds[m->ncmds++] = zigzag32(y - cy);
            cx = x;
            cy = y;
        }
        m->cmds[m->ncmds++] = CMD(CMD_CLOSEPATH, 1);
    }
    return 0;
}

static gw_status geos_fail(gw_mvt *m, const char *what)
{
    return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "MVT %s failed in tile %u/%u/%u: %s", what,
                        m->tile.z, m->tile.x, m->tile.y, gw_ctx_geos_errmsg(m->ctx));
}

/* Polygons: rings snapped to the grid; if the snapped shape is invalid, repair it with
 * MakeValid + setPrecision(1) so the encoded polygons never self-intersect. */
static gw_status encode_polygons(gw_mvt *m, const GEOSGeometry *g)
{
    m->npts = m->nrings = 0;
    if (collect_polygons(m, g, 0) != 0) return geos_fail(m, "reading polygon rings");
    if (m->nrings == 0) return GW_OK;
    GEOSGeometry *snapped = rings_to_geos(m);
    if (!snapped) return geos_fail(m, "building the snapped polygon");
    char valid = GEOSisValid_r(m->gh, snapped);
    if (valid == 2) {
        GEOSGeom_destroy_r(m->gh, snapped);
        return geos_fail(m, "validity check");
    }
    if (!valid) {
        GEOSGeometry *fixed = GEOSMakeValid_r(m->gh, snapped);
        GEOSGeometry *grid = fixed ? GEOSGeom_setPrecision_r(m->gh, fixed, 1.0, 0) : NULL;
        GEOSGeom_destroy_r(m->gh, snapped);
        if (fixed) GEOSGeom_destroy_r(m->gh, fixed);
        if (!grid) return geos_fail(m, "repairing a polygon invalid after snapping");
        m->npts = m->nrings = 0;
        int rc = collect_polygons(m, grid, 1);
        GEOSGeom_destroy_r(m->gh, grid);
        if (rc != 0) return geos_fail(m, "reading repaired polygon rings");
    } else {
        GEOSGeom_destroy_r(m->gh, snapped);
    }
    if (emit_rings(m) != 0) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory encoding");
    return GW_OK;
}

/* Lines: each part snapped, repeated points dropped, zero-length parts dropped. */
static gw_status encode_lines(gw_mvt *m, const GEOSGeometry *g, int32_t *cx, int32_t *cy)
{
    int t = GEOSGeomTypeId_r(m->gh, g);
    if (t == GEOS_MULTILINESTRING || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(m->gh, g);
        for (int i = 0; i < n; i++) {
            gw_status st = encode_lines(m, GEOSGetGeometryN_r(m->gh, g, i), cx, cy);
            if (st != GW_OK) return st;
        }
        return GW_OK;
    }
    if ((t != GEOS_LINESTRING && t != GEOS_LINEARRING) || GEOSisEmpty_r(m->gh, g) == 1)
        return GW_OK;
    m->npts = 0;
    long n = read_seq(m, GEOSGeom_getCoordSeq_r(m->gh, g), 0);
    if (n < 0) return geos_fail(m, "reading a line");
    if (n < 2) return GW_OK;
    if (grow((void **)&m->cmds, &m->capcmds, m->ncmds + 2 * (size_t)n + 2, 4) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory encoding a line");
    for (long i = 0; i < n; i++) {
        if (i == 0) m->cmds[m->ncmds++] = CMD(CMD_MOVETO, 1);
        if (i == 1) m->cmds[m->ncmds++] = CMD(CMD_LINETO, (uint32_t)(n - 1));
        m->cmds[m->ncmds++] = zigzag32(m->pts[2 * i] - *cx);
        m->cmds[m->ncmds++] = zigzag32(m->pts[2 * i + 1] - *cy);
        *cx = m->pts[2 * i];
        *cy = m->pts[2 * i + 1];
    }
    return GW_OK;
}

/* Points: every point inside the buffered tile, as one MoveTo(n). */
static gw_status collect_points(gw_mvt *m, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(m->gh, g);
    if (t == GEOS_MULTIPOINT || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(m->gh, g);
        for (int i = 0; i < n; i++) {
            gw_status st = collect_points(m, GEOSGetGeometryN_r(m->gh, g, i));
            if (st != GW_OK) return st;
        }
        return GW_OK;
    }
    if (t != GEOS_POINT || GEOSisEmpty_r(m->gh, g) == 1) return GW_OK;
    double x, y;
    if (!GEOSGeomGetX_r(m->gh, g, &x) || !GEOSGeomGetY_r(m->gh, g, &y))
        return geos_fail(m, "reading a point");
    if (!(x >= m->clip.minx && x <= m->clip.maxx && y >= m->clip.miny && y <= m->clip.maxy))
        return GW_OK;
    if (grow((void **)&m->pts, &m->cappts, 2 * (m->npts + 1), sizeof *m->pts) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory encoding points");
    m->pts[2 * m->npts] = to_tx(m, x);
    m->pts[2 * m->npts + 1] = to_ty(m, y);
    m->npts++;
    return GW_OK;
}

/* TopologyPreserveSimplify costs ~100-200 us per small polygon and removes next to nothing when
 * the vertices are already several tile units apart (rounding and dropping repeated points do
 * the rest), so call it only when the vertex density says it can matter: when the clipped
 * envelope's perimeter per vertex is under 16 tolerances (4 tile units by default). */
static int worth_simplifying(gw_mvt *m, const GEOSGeometry *g, double x0, double y0, double x1,
                             double y1)
{
    int n = GEOSGetNumCoordinates_r(m->gh, g);
    if (n <= 5) return 0;
    double w = fmin(x1, m->clip.maxx) - fmax(x0, m->clip.minx);
    double h = fmin(y1, m->clip.maxy) - fmax(y0, m->clip.miny);
    double perim_units = 2.0 * (w + h) * m->cur->scale; /* tile units */
    double tol_units = m->cur->tol_m * m->cur->scale;
    return (double)n * tol_units * 16.0 > perim_units; /* average spacing < 16 tolerances */
}

gw_status gw_mvt_add_feature(gw_mvt *m, uint64_t id, bool has_id, const GEOSGeometry *g,
                             const gw_mvt_prop *props, size_t nprops, bool *added)
{
    if (added) *added = false;
    if (!m) return GW_ERR_ARG;
    if (!m->cur) return gw_ctx_error(m->ctx, GW_ERR_ARG, "MVT feature added before any layer");
    if (!g)
        return gw_ctx_error(m->ctx, GW_ERR_ARG, "MVT feature %llu has no geometry",
                            (unsigned long long)id);
    GEOSContextHandle_t gh = m->gh;
    int dim = geom_dim(gh, g);
    if (dim < 0) return GW_OK;
    if (!coords_finite(gh, g))
        return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY,
                            "MVT feature %llu has a coordinate that is not a finite number",
                            (unsigned long long)id);
    m->ncmds = 0;
    gw_status st = GW_OK;
    int type;
    if (dim == 0) {
        m->npts = 0;
        st = collect_points(m, g);
        if (st != GW_OK || m->npts == 0) return st;
        if (grow((void **)&m->cmds, &m->capcmds, 2 * m->npts + 1, 4) != 0)
            return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory encoding points");
        m->cmds[m->ncmds++] = CMD(CMD_MOVETO, (uint32_t)m->npts);
        int32_t cx = 0, cy = 0;
        for (size_t i = 0; i < m->npts; i++) {
            m->cmds[m->ncmds++] = zigzag32(m->pts[2 * i] - cx);
            m->cmds[m->ncmds++] = zigzag32(m->pts[2 * i + 1] - cy);
            cx = m->pts[2 * i];
            cy = m->pts[2 * i + 1];
        }
        type = GT_POINT;
    } else {
        double x0, y0, x1, y1;
        if (!GEOSGeom_getExtent_r(gh, g, &x0, &y0, &x1, &y1)) return geos_fail(m, "extent");
        const gw_bbox *c = &m->clip;
        if (x0 > c->maxx || x1 < c->minx || y0 > c->maxy || y1 < c->miny) return GW_OK;
        GEOSGeometry *clipped = NULL, *simple = NULL;
        const GEOSGeometry *work = g;
        if (x0 < c->minx || x1 > c->maxx || y0 < c->miny || y1 > c->maxy) {
            clipped = m->opt.clip == GW_MVT_CLIP_BY_RECT
                          ? GEOSClipByRect_r(gh, g, c->minx, c->miny, c->maxx, c->maxy)
                          : GEOSIntersection_r(gh, g, m->clip_rect);
            if (!clipped) return geos_fail(m, "clipping");
            work = clipped;
        }
        if (m->cur->tol_m > 0 && worth_simplifying(m, work, x0, y0, x1, y1)) {
            simple = GEOSTopologyPreserveSimplify_r(gh, work, m->cur->tol_m);
            if (!simple) st = geos_fail(m, "simplification");
            else work = simple;
        }
        if (st == GW_OK) {
            if (dim == 2) {
                st = encode_polygons(m, work);
            } else {
                int32_t cx = 0, cy = 0;
                st = encode_lines(m, work, &cx, &cy);
            }
        }
        if (simple) GEOSGeom_destroy_r(gh, simple);
        if (clipped) GEOSGeom_destroy_r(gh, clipped);
        if (st != GW_OK || m->ncmds == 0) return st;
        type = dim == 2 ? GT_POLYGON : GT_LINESTRING;
    }
    st = build_tags(m, props, nprops);
    if (st == GW_OK) st = write_feature(m, id, has_id, type);
    if (st == GW_OK && added) *added = true;
    return st;
}

/* ---------- serialisation ---------- */

static size_t layer_size(const layer *L)
{
    size_t nl = strlen(L->name);
    return 2 + 1 + varint_size(nl) + nl + L->features.n + L->keys.n + L->values.n + 1 +
           varint_size(L->extent);
}

gw_status gw_mvt_finish(gw_mvt *m, const uint8_t **bytes, size_t *len)
{
    if (!m || !bytes || !len) return GW_ERR_ARG;
    size_t total = 1;
    for (size_t i = 0; i < m->nlayers; i++) {
        if (!m->layers[i].nfeatures) continue;
        size_t ls = layer_size(&m->layers[i]);
        total += 1 + varint_size(ls) + ls;
    }
    m->out.n = 0;
    if (buf_reserve(&m->out, total) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory serialising tile %u/%u/%u",
                            m->tile.z, m->tile.x, m->tile.y);
    buf *b = &m->out;
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *L = &m->layers[i];
        if (!L->nfeatures) continue;
        size_t nl = strlen(L->name);
        b->p[b->n++] = 0x1A;
        put_varint(b, layer_size(L));
        b->p[b->n++] = 0x78; /* field 15 (version), varint */
        b->p[b->n++] = 2;
        b->p[b->n++] = 0x0A;
        put_varint(b, nl);
        put_bytes(b, L->name, nl);
        put_bytes(b, L->features.p, L->features.n);
        if (L->keys.n) put_bytes(b, L->keys.p, L->keys.n);
        if (L->values.n) put_bytes(b, L->values.p, L->values.n);
        b->p[b->n++] = 0x28;
        put_varint(b, L->extent);
    }
    *bytes = b->p;
    *len = b->n;
    return GW_OK;
}
