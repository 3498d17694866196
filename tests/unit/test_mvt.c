/* test_mvt.c — the MVT encoder checked by a protobuf decoder written here, independently of
 * tiles/mvt.c (commands, zigzag, winding, dedup, typed values, ids, the spec's own examples,
 * clipping, validity after snapping), by GDAL's MVT driver, and by a four-children seam test. */
#include "testutil.h"

#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"

#include <gdal.h>
#include <ogr_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;
static GEOSContextHandle_t gh;

/* ---------- an independent protobuf / MVT decoder ---------- */

enum { V_STRING, V_FLOAT, V_DOUBLE, V_INT, V_UINT, V_SINT, V_BOOL };
typedef struct dval {
    int type;
    char s[128];
    double d;
    int64_t i;
    uint64_t u;
} dval;
typedef struct dfeat {
    int has_id, type;
    uint64_t id;
    uint32_t tags[64];
    size_t ntags;
    uint32_t geom[4096];
    size_t ngeom;
} dfeat;
typedef struct dlayer {
    uint32_t version, extent;
    char name[64];
    char keys[64][64];
    size_t nkeys;
    dval values[256];
    size_t nvalues;
    dfeat *feats;
    size_t nfeats;
} dlayer;
typedef struct dtile {
    dlayer layers[8];
    size_t n;
} dtile;

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        assert_true(r->p < r->end);
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return v;
    }
    fail_msg("varint too long");
    return 0;
}

static rd rd_sub(rd *r)
{
    uint64_t n = rd_varint(r);
    assert_true(n <= (uint64_t)(r->end - r->p));
    rd s = {r->p, r->p + n};
    r->p += n;
    return s;
}

static void rd_skip(rd *r, int wire)
{
    if (wire == 0) rd_varint(r);
    else if (wire == 1) r->p += 8;
    else if (wire == 5) r->p += 4;
    else if (wire == 2) rd_sub(r);
    else fail_msg("unexpected wire type %d", wire);
    assert_true(r->p <= r->end);
}

static void decode_value(rd v, dval *out)
{
    memset(out, 0, sizeof *out);
    int fields = 0;
    while (v.p < v.end) {
        uint64_t key = rd_varint(&v);
        int f = (int)(key >> 3), w = (int)(key & 7);
        fields++;
        if (f == 1 && w == 2) {
            rd s = rd_sub(&v);
            size_t n = (size_t)(s.end - s.p);
            assert_true(n < sizeof out->s);
            memcpy(out->s, s.p, n);
            out->type = V_STRING;
        } else if (f == 3 && w == 1) {
            uint64_t bits = 0;
            for (int i = 0; i < 8; i++) bits |= (uint64_t)v.p[i] << (8 * i);
            v.p += 8;
            memcpy(&out->d, &bits, 8);
            out->type = V_DOUBLE;
        } else if (f == 4 && w == 0) {
            out->i = (int64_t)rd_varint(&v);
            out->type = V_INT;
        } else if (f == 5 && w == 0) {
            out->u = rd_varint(&v);
            out->type = V_UINT;
        } else if (f == 6 && w == 0) {
            uint64_t z = rd_varint(&v);
            out->i = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            out->type = V_SINT;
        } else if (f == 7 && w == 0) {
            out->u = rd_varint(&v);
            out->type = V_BOOL;
        } else {
            fail_msg("unexpected Value field %d wire %d", f, w);
        }
    }
    assert_int_equal(fields, 1); /* exactly one of the value fields */
}

static void decode_packed(rd r, uint32_t *out, size_t *n, size_t cap)
{
    rd s = rd_sub(&r);
    while (s.p < s.end) {
        assert_true(*n < cap);
        out[(*n)++] = (uint32_t)rd_varint(&s);
    }
}

static void decode_feature(rd f, dfeat *out)
{
    memset(out, 0, sizeof *out);
    while (f.p < f.end) {
        uint64_t key = rd_varint(&f);
        int fld = (int)(key >> 3), w = (int)(key & 7);
        if (fld == 1 && w == 0) {
            out->has_id = 1;
            out->id = rd_varint(&f);
        } else if (fld == 2 && w == 2) {
            rd s = f;
            decode_packed(s, out->tags, &out->ntags, 64);
            rd_sub(&f);
        } else if (fld == 3 && w == 0) {
            out->type = (int)rd_varint(&f);
        } else if (fld == 4 && w == 2) {
            rd s = f;
            decode_packed(s, out->geom, &out->ngeom, 4096);
            rd_sub(&f);
        } else {
            fail_msg("unexpected Feature field %d", fld);
        }
    }
}

static void decode_tile(const uint8_t *b, size_t n, dtile *t)
{
    memset(t, 0, sizeof *t);
    rd r = {b, b + n};
    while (r.p < r.end) {
        uint64_t key = rd_varint(&r);
        if ((key >> 3) != 3 || (key & 7) != 2) {
            rd_skip(&r, (int)(key & 7));
            continue;
        }
        assert_true(t->n < 8);
        dlayer *L = &t->layers[t->n++];
        L->extent = 4096; /* the .proto default */
        rd l = rd_sub(&r);
        while (l.p < l.end) {
            uint64_t k = rd_varint(&l);
            int fld = (int)(k >> 3), w = (int)(k & 7);
            if (fld == 15 && w == 0) {
                L->version = (uint32_t)rd_varint(&l);
            } else if (fld == 1 && w == 2) {
                rd s = rd_sub(&l);
                memcpy(L->name, s.p, (size_t)(s.end - s.p));
            } else if (fld == 2 && w == 2) {
                L->feats = realloc(L->feats, (L->nfeats + 1) * sizeof *L->feats);
                assert_non_null(L->feats);
                decode_feature(rd_sub(&l), &L->feats[L->nfeats++]);
            } else if (fld == 3 && w == 2) {
                rd s = rd_sub(&l);
                assert_true(L->nkeys < 64);
                memcpy(L->keys[L->nkeys++], s.p, (size_t)(s.end - s.p));
            } else if (fld == 4 && w == 2) {
                assert_true(L->nvalues < 256);
                decode_value(rd_sub(&l), &L->values[L->nvalues++]);
            } else if (fld == 5 && w == 0) {
                L->extent = (uint32_t)rd_varint(&l);
            } else {
                fail_msg("unexpected Layer field %d", fld);
            }
        }
    }
}

static void free_tile(dtile *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->layers[i].feats);
}

static int32_t unzig(uint32_t v) { return (int32_t)(v >> 1) ^ -(int32_t)(v & 1); }

/* Decoded geometry as rings/parts of absolute tile coordinates. */
typedef struct dgeom {
    int32_t pts[8192][2];
    size_t npts;
    size_t part_start[512], part_n[512];
    size_t nparts;
} dgeom;

static void decode_geom(const dfeat *f, dgeom *g)
{
    memset(g, 0, sizeof *g);
    int32_t cx = 0, cy = 0;
    size_t i = 0;
    while (i < f->ngeom) {
        uint32_t c = f->geom[i++], id = c & 7, count = c >> 3;
        if (id == 1) {
            if (f->type != 1) assert_int_equal(count, 1);
            for (uint32_t k = 0; k < count; k++) {
                cx += unzig(f->geom[i++]);
                cy += unzig(f->geom[i++]);
                g->part_start[g->nparts] = g->npts;
                g->part_n[g->nparts++] = 1;
                g->pts[g->npts][0] = cx;
                g->pts[g->npts++][1] = cy;
            }
        } else if (id == 2) {
            assert_true(count > 0);
            for (uint32_t k = 0; k < count; k++) {
                cx += unzig(f->geom[i++]);
                cy += unzig(f->geom[i++]);
                g->pts[g->npts][0] = cx;
                g->pts[g->npts++][1] = cy;
                g->part_n[g->nparts - 1]++;
            }
        } else if (id == 7) {
            assert_int_equal(count, 1);
            assert_int_equal(f->type, 3);
        } else {
            fail_msg("unknown command %u", id);
        }
        assert_true(i <= f->ngeom);
    }
}

static int64_t area2(const dgeom *g, size_t part)
{
    int64_t a = 0;
    size_t s = g->part_start[part], n = g->part_n[part];
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        a += (int64_t)g->pts[s + i][0] * g->pts[s + j][1] -
             (int64_t)g->pts[s + j][0] * g->pts[s + i][1];
    }
    return a;
}

/* ---------- helpers to build input ---------- */

typedef struct tile_xf {
    gw_bbox b;
    double scale;
} tile_xf;

static int to_merc(double *x, double *y, void *user)
{
    const tile_xf *t = user;
    *x = t->b.minx + *x / t->scale;
    *y = t->b.maxy - *y / t->scale;
    return 1;
}

/* WKT in tile units of tile t (extent 4096) -> a GEOS geometry in EPSG:3857. */
static GEOSGeometry *tile_wkt(gw_tile_id t, const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(gh);
    GEOSGeometry *g = GEOSWKTReader_read_r(gh, r, wkt);
    GEOSWKTReader_destroy_r(gh, r);
    assert_non_null(g);
    tile_xf xf = {gw_tile_bounds(t), 0};
    xf.scale = 4096.0 / (xf.b.maxx - xf.b.minx);
    GEOSGeometry *m = GEOSGeom_transformXY_r(gh, g, to_merc, &xf);
    GEOSGeom_destroy_r(gh, g);
    assert_non_null(m);
    return m;
}

static const gw_tile_id T0 = {14, 13370, 6500};

/* Encode one feature from tile-unit WKT into a fresh tile and decode it. */
static void encode_one(const char *wkt, const gw_mvt_options *opt, dtile *out, bool *added)
{
    gw_mvt *m = NULL;
    assert_int_equal(gw_mvt_create(ctx, T0, opt, &m), GW_OK);
    assert_int_equal(gw_mvt_add_layer(m, "t", 0), GW_OK);
    GEOSGeometry *g = tile_wkt(T0, wkt);
    bool a = false;
    gw_status st = gw_mvt_add_feature(m, 7, true, g, NULL, 0, &a);
    if (st != GW_OK) fail_msg("add_feature: %s", gw_ctx_errmsg(ctx));
    GEOSGeom_destroy_r(gh, g);
    if (added) *added = a;
    const uint8_t *b;
    size_t n;
    assert_int_equal(gw_mvt_finish(m, &b, &n), GW_OK);
    decode_tile(b, n, out);
    gw_mvt_destroy(m);
}

static void assert_geom(const dfeat *f, const uint32_t *want, size_t n)
{
    if (f->ngeom != n) fail_msg("geometry has %zu integers, want %zu", f->ngeom, n);
    for (size_t i = 0; i < n; i++)
        if (f->geom[i] != want[i]) fail_msg("geometry[%zu] = %u, want %u", i, f->geom[i], want[i]);
}

static gw_mvt_options exact(void)
{
    gw_mvt_options o = gw_mvt_defaults();
    o.simplify = 0;
    return o;
}

/* ---------- tests ---------- */

static void test_spec_examples(void **state)
{
    (void)state;
    gw_mvt_options o = exact();
    dtile t;
    encode_one("POINT (25 17)", &o, &t, NULL);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.layers[0].version, 2);
    assert_int_equal(t.layers[0].extent, 4096);
    assert_string_equal(t.layers[0].name, "t");
    assert_int_equal(t.layers[0].nfeats, 1);
    assert_int_equal(t.layers[0].feats[0].type, 1);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 50, 34}, 3);
    free_tile(&t);

    encode_one("MULTIPOINT ((5 7), (3 2))", &o, &t, NULL);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){17, 10, 14, 3, 9}, 5);
    free_tile(&t);

    encode_one("LINESTRING (2 2, 2 10, 10 10)", &o, &t, NULL);
    assert_int_equal(t.layers[0].feats[0].type, 2);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 4, 4, 18, 0, 16, 16, 0}, 8);
    free_tile(&t);

    encode_one("MULTILINESTRING ((2 2, 2 10, 10 10), (1 1, 3 5))", &o, &t, NULL);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8},
                14);
    free_tile(&t);

    encode_one("POLYGON ((3 6, 8 12, 20 34, 3 6))", &o, &t, NULL);
    assert_int_equal(t.layers[0].feats[0].type, 3);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 6, 12, 18, 10, 12, 24, 44, 15}, 9);
    free_tile(&t);

    encode_one(
        "MULTIPOLYGON (((0 0, 10 0, 10 10, 0 10, 0 0)), ((11 11, 20 11, 20 20, 11 20, 11 11),"
        " (13 13, 13 17, 17 17, 17 13, 13 13)))",
        &o, &t, NULL);
    assert_geom(&t.layers[0].feats[0],
                (uint32_t[]){9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0,
                             0, 18, 17, 0,  15, 9, 4, 13, 26, 0, 8,  8, 0,  0, 7,  15},
                33);
    free_tile(&t);
}

static void test_winding_and_holes(void **state)
{
    (void)state;
    gw_mvt_options o = exact();
    /* exterior given clockwise in 3857 terms (here: negative area in y-down), hole likewise
     * reversed: the encoder must flip both. */
    const char *wkts[] = {
        "POLYGON ((100 100, 100 300, 300 300, 300 100, 100 100), (150 150, 250 150, 250 250, 150 250, 150 150))",
        "POLYGON ((100 100, 300 100, 300 300, 100 300, 100 100), (150 150, 150 250, 250 250, 250 150, 150 150))",
    };
    for (int w = 0; w < 2; w++) {
        dtile t;
        encode_one(wkts[w], &o, &t, NULL);
        dgeom *g = malloc(sizeof *g);
        decode_geom(&t.layers[0].feats[0], g);
        assert_int_equal(g->nparts, 2);
        assert_true(area2(g, 0) > 0); /* exterior: positive area in y-down = clockwise on screen */
        assert_true(area2(g, 1) < 0); /* interior: negative */
        assert_true(area2(g, 0) == 2 * 200 * 200);
        assert_true(area2(g, 1) == -2 * 100 * 100);
        /* the ring is written without its closing point */
        assert_int_equal(g->part_n[0], 4);
        free(g);
        free_tile(&t);
    }
}

static void test_multipolygon_and_points(void **state)
{
    (void)state;
    gw_mvt_options o = exact();
    dtile t;
    encode_one(
        "MULTIPOLYGON (((0 0, 100 0, 100 100, 0 100, 0 0)), ((200 200, 300 200, 300 300, 200 300, 200 200)))",
        &o, &t, NULL);
    dgeom *g = malloc(sizeof *g);
    decode_geom(&t.layers[0].feats[0], g);
    assert_int_equal(g->nparts, 2);
    assert_true(area2(g, 0) > 0 && area2(g, 1) > 0);
    assert_int_equal(g->pts[4][0], 200);
    free_tile(&t);
    /* multipoint: one MoveTo with a count, points outside the buffered tile dropped */
    encode_one("MULTIPOINT ((10 10), (4000 4000), (9000 9000), (-30 -30))", &o, &t, NULL);
    decode_geom(&t.layers[0].feats[0], g);
    assert_int_equal(t.layers[0].feats[0].geom[0], (3u << 3) | 1);
    assert_int_equal(g->nparts, 3);
    assert_int_equal(g->pts[2][0], -30);
    free_tile(&t);
    /* a point far outside: feature dropped, layer (empty) left out: 0 bytes */
    bool added = true;
    encode_one("POINT (9000 9000)", &o, &t, &added);
    assert_false(added);
    assert_int_equal(t.n, 0);
    free(g);
}

static void test_properties_dedup_typed(void **state)
{
    (void)state;
    gw_mvt *m = NULL;
    assert_int_equal(gw_mvt_create(ctx, T0, NULL, &m), GW_OK);
    assert_int_equal(gw_mvt_add_layer(m, "incidents", 0), GW_OK);
    gw_bbox b = gw_tile_bounds(T0);
    double cx = (b.minx + b.maxx) / 2, cy = (b.miny + b.maxy) / 2;
    for (int i = 0; i < 10; i++) {
        gw_mvt_prop p[] = {
            {"category", {.type = GW_MVT_STRING, .u.s = i % 2 ? "theft" : "fraud"}},
            {"severity", {.type = GW_MVT_INT, .u.i = 5}},
            {"score", {.type = GW_MVT_DOUBLE, .u.d = 5.0}},
            {"label", {.type = GW_MVT_STRING, .u.s = "5"}},
            {"open", {.type = GW_MVT_BOOL, .u.b = i < 5}},
            {"delta", {.type = GW_MVT_INT, .u.i = -3}},
            {"skip", {.type = GW_MVT_STRING, .u.s = NULL}},
        };
        bool added;
        assert_int_equal(gw_mvt_add_point(m, 1000 + (uint64_t)i, i != 9, cx + i, cy, p, 7, &added),
                         GW_OK);
        assert_true(added);
    }
    assert_int_equal(gw_mvt_layer_feature_count(m), 10);
    const uint8_t *bytes;
    size_t n;
    assert_int_equal(gw_mvt_finish(m, &bytes, &n), GW_OK);
    dtile t;
    decode_tile(bytes, n, &t);
    dlayer *L = &t.layers[0];
    assert_int_equal(L->nfeats, 10);
    /* keys: 6 distinct (the NULL string skipped); values: fraud, theft, 5 (uint), 5.0, "5",
     * true, false, -3 (sint) = 8 */
    assert_int_equal(L->nkeys, 6);
    assert_int_equal(L->nvalues, 8);
    int seen[7] = {0};
    for (size_t i = 0; i < L->nvalues; i++) seen[L->values[i].type]++;
    assert_int_equal(seen[V_STRING], 3);
    assert_int_equal(seen[V_UINT], 1);
    assert_int_equal(seen[V_DOUBLE], 1);
    assert_int_equal(seen[V_BOOL], 2);
    assert_int_equal(seen[V_SINT], 1);
    for (size_t f = 0; f < L->nfeats; f++) {
        const dfeat *F = &L->feats[f];
        assert_int_equal(F->has_id, f != 9);
        if (f != 9) assert_int_equal(F->id, 1000 + f);
        assert_int_equal(F->ntags, 12);
        for (size_t k = 0; k < F->ntags; k += 2) {
            const char *key = L->keys[F->tags[k]];
            const dval *v = &L->values[F->tags[k + 1]];
            assert_true(F->tags[k] < L->nkeys && F->tags[k + 1] < L->nvalues);
            if (!strcmp(key, "category")) assert_string_equal(v->s, f % 2 ? "theft" : "fraud");
            if (!strcmp(key, "severity")) assert_true(v->type == V_UINT && v->u == 5);
            if (!strcmp(key, "score")) assert_true(v->type == V_DOUBLE && v->d == 5.0);
            if (!strcmp(key, "label")) assert_true(v->type == V_STRING && !strcmp(v->s, "5"));
            if (!strcmp(key, "open")) assert_true(v->type == V_BOOL && v->u == (f < 5));
            if (!strcmp(key, "delta")) assert_true(v->type == V_SINT && v->i == -3);
        }
    }
    free_tile(&t);
    /* a second layer has its own dictionaries; a duplicate layer name is refused */
    assert_int_equal(gw_mvt_add_layer(m, "incidents", 0), GW_ERR_CONFLICT);
    assert_int_equal(gw_mvt_add_layer(m, "grids", 512), GW_OK);
    gw_mvt_prop p1 = {"name", {.type = GW_MVT_STRING, .u.s = "g1"}};
    assert_int_equal(gw_mvt_add_point(m, 1, true, cx, cy, &p1, 1, NULL), GW_OK);
    assert_int_equal(gw_mvt_finish(m, &bytes, &n), GW_OK);
    decode_tile(bytes, n, &t);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.layers[1].name, "grids");
    assert_int_equal(t.layers[1].extent, 512);
    assert_int_equal(t.layers[1].nkeys, 1);
    assert_int_equal(t.layers[1].feats[0].tags[0], 0);
    /* centre of the tile at extent 512 */
    assert_geom(&t.layers[1].feats[0], (uint32_t[]){9, 512, 512}, 3);
    free_tile(&t);
    /* reset: a fresh tile, same buffers */
    assert_int_equal(gw_mvt_reset(m, (gw_tile_id){14, 13371, 6500}), GW_OK);
    assert_int_equal(gw_mvt_add_point(m, 1, true, cx, cy, NULL, 0, NULL),
                     GW_ERR_ARG); /* no layer */
    assert_int_equal(gw_mvt_finish(m, &bytes, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gw_mvt_reset(m, (gw_tile_id){3, 8, 0}), GW_ERR_RANGE);
    gw_mvt_destroy(m);
    gw_mvt_destroy(NULL);
}

static void test_degenerate_dropped(void **state)
{
    (void)state;
    gw_mvt_options o = exact();
    dtile t;
    bool added = true;
    /* a polygon smaller than a tile unit rounds to fewer than 3 distinct points */
    encode_one("POLYGON ((10.1 10.1, 10.3 10.1, 10.3 10.3, 10.1 10.1))", &o, &t, &added);
    assert_false(added);
    assert_int_equal(t.n, 0);
    /* zero area after rounding: a sliver along a line */
    encode_one("POLYGON ((10 10, 50 10.2, 90 10, 10 10))", &o, &t, &added);
    assert_false(added);
    /* zero-length line */
    encode_one("LINESTRING (5.1 5.1, 5.2 5.2, 4.9 4.9)", &o, &t, &added);
    assert_false(added);
    /* repeated points after rounding are dropped from a line */
    encode_one("LINESTRING (0 0, 0.2 0.1, 10 0, 10.3 0.2, 20 0)", &o, &t, &added);
    assert_true(added);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 0, 0, (2u << 3) | 2, 20, 0, 20, 0}, 8);
    free_tile(&t);
    /* a collapsing hole is dropped, the shell kept */
    encode_one(
        "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0), (50.1 50.1, 50.2 50.1, 50.2 50.2, 50.1 50.1))",
        &o, &t, &added);
    assert_true(added);
    dgeom *g = malloc(sizeof *g);
    decode_geom(&t.layers[0].feats[0], g);
    assert_int_equal(g->nparts, 1);
    free(g);
    free_tile(&t);
    /* empty geometry */
    encode_one("POLYGON EMPTY", &o, &t, &added);
    assert_false(added);
}

/* Build a GEOS geometry (tile units) from a decoded polygon feature. */
static GEOSGeometry *dgeom_to_geos(const dgeom *g, const tile_xf *xf)
{
    GEOSGeometry *polys[64], *holes[64], *shell = NULL;
    size_t np = 0, nh = 0;
    for (size_t p = 0; p <= g->nparts; p++) {
        if (p == g->nparts || area2(g, p) > 0) {
            if (shell) {
                polys[np++] = GEOSGeom_createPolygon_r(gh, shell, holes, (unsigned)nh);
                nh = 0;
            }
            if (p == g->nparts) break;
        }
        size_t s = g->part_start[p], n = g->part_n[p];
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(gh, (unsigned)n + 1, 2);
        for (size_t i = 0; i <= n; i++) {
            double x = g->pts[s + i % n][0], y = g->pts[s + i % n][1];
            if (xf) {
                x = xf->b.minx + x / xf->scale;
                y = xf->b.maxy - y / xf->scale;
            }
            GEOSCoordSeq_setXY_r(gh, cs, (unsigned)i, x, y);
        }
        GEOSGeometry *ring = GEOSGeom_createLinearRing_r(gh, cs);
        if (area2(g, p) > 0) shell = ring;
        else holes[nh++] = ring;
        assert_true(np < 64 && nh < 64);
    }
    return GEOSGeom_createCollection_r(gh, GEOS_MULTIPOLYGON, polys, (unsigned)np);
}

static void test_clip_into_buffer(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        gw_mvt_options o = gw_mvt_defaults();
        o.clip = mode ? GW_MVT_CLIP_BY_RECT : GW_MVT_CLIP_INTERSECTION;
        dtile t;
        encode_one("POLYGON ((-1000 -1000, 2000 -1000, 2000 2000, -1000 2000, -1000 -1000),"
                   " (-500 -500, -500 500, 500 500, 500 -500, -500 -500))",
                   &o, &t, NULL);
        dgeom *g = malloc(sizeof *g);
        decode_geom(&t.layers[0].feats[0], g);
        int32_t minx = INT32_MAX, miny = INT32_MAX, maxx = INT32_MIN;
        for (size_t i = 0; i < g->npts; i++) {
            if (g->pts[i][0] < minx) minx = g->pts[i][0];
            if (g->pts[i][1] < miny) miny = g->pts[i][1];
            if (g->pts[i][0] > maxx) maxx = g->pts[i][0];
        }
        assert_int_equal(minx, -64); /* clipped into the buffer, not at the tile edge */
        assert_int_equal(miny, -64);
        assert_int_equal(maxx, 2000);
        GEOSGeometry *pg = dgeom_to_geos(g, NULL);
        assert_int_equal(GEOSisValid_r(gh, pg), 1);
        double a;
        GEOSArea_r(gh, pg, &a);
        /* (2064^2 - 564^2) in tile units */
        assert_true(fabs(a - (2064.0 * 2064 - 564.0 * 564)) < 1.0);
        GEOSGeom_destroy_r(gh, pg);
        free(g);
        free_tile(&t);
    }
    /* lines are clipped too */
    gw_mvt_options o = exact();
    dtile t;
    encode_one("LINESTRING (-5000 100, 100 100)", &o, &t, NULL);
    assert_geom(&t.layers[0].feats[0], (uint32_t[]){9, 127, 200, 10, 328, 0}, 6);
    free_tile(&t);
}

static void test_valid_after_snapping(void **state)
{
    (void)state;
    /* a square with a slot 0.3 units wide cut from the top: snapping closes the slot and the
     * ring runs down and back up the same column — self-touching and invalid unless repaired */
    const char
        *wkt = "POLYGON ((0 0, 100 0, 100 100, 50.4 100, 50.4 20, 50.1 20, 50.1 100, 0 100, 0 0))";
    { /* rounding alone gives an invalid ring, so this exercises the repair */
        GEOSWKTReader *r = GEOSWKTReader_create_r(gh);
        GEOSGeometry *naive = GEOSWKTReader_read_r(
            gh, r, "POLYGON ((0 0, 100 0, 100 100, 50 100, 50 20, 50 100, 0 100, 0 0))");
        assert_int_equal(GEOSisValid_r(gh, naive), 0);
        GEOSGeom_destroy_r(gh, naive);
        GEOSWKTReader_destroy_r(gh, r);
    }
    for (int simp = 0; simp < 2; simp++) {
        gw_mvt_options o = simp ? gw_mvt_defaults() : exact();
        dtile t;
        bool added = false;
        encode_one(wkt, &o, &t, &added);
        assert_true(added);
        dgeom *g = malloc(sizeof *g);
        decode_geom(&t.layers[0].feats[0], g);
        GEOSGeometry *pg = dgeom_to_geos(g, NULL);
        char valid = GEOSisValid_r(gh, pg);
        if (valid != 1) {
            char *reason = GEOSisValidReason_r(gh, pg);
            fail_msg("snapped polygon invalid: %s", reason);
        }
        for (size_t p = 0; p < g->nparts; p++) assert_true(area2(g, p) != 0);
        double a;
        GEOSArea_r(gh, pg, &a);
        assert_true(a > 9900 && a <= 10000);
        GEOSGeom_destroy_r(gh, pg);
        free(g);
        free_tile(&t);
    }
    /* a bow-tie input (invalid already) still yields valid output */
    gw_mvt_options o = exact();
    dtile t;
    bool added = false;
    encode_one("POLYGON ((0 0, 100 100, 100 0, 0 60, 0 0))", &o, &t, &added);
    assert_true(added);
    dgeom *g = malloc(sizeof *g);
    decode_geom(&t.layers[0].feats[0], g);
    GEOSGeometry *pg = dgeom_to_geos(g, NULL);
    assert_int_equal(GEOSisValid_r(gh, pg), 1);
    assert_int_equal(GEOSGetNumGeometries_r(gh, pg), 2);
    GEOSGeom_destroy_r(gh, pg);
    free(g);
    free_tile(&t);
}

static void test_errors(void **state)
{
    (void)state;
    gw_mvt *m = NULL;
    assert_int_equal(gw_mvt_create(ctx, (gw_tile_id){23, 0, 0}, NULL, &m), GW_ERR_RANGE);
    assert_null(m);
    gw_mvt_options o = gw_mvt_defaults();
    o.buffer = 5000;
    assert_int_equal(gw_mvt_create(ctx, T0, &o, &m), GW_ERR_ARG);
    assert_int_equal(gw_mvt_create(ctx, T0, NULL, &m), GW_OK);
    GEOSGeometry *g = tile_wkt(T0, "POINT (1 1)");
    assert_int_equal(gw_mvt_add_feature(m, 1, true, g, NULL, 0, NULL), GW_ERR_ARG);
    assert_int_equal(gw_mvt_add_layer(m, "", 0), GW_ERR_ARG);
    assert_int_equal(gw_mvt_add_layer(m, "a", 0), GW_OK);
    assert_int_equal(gw_mvt_add_feature(m, 1, true, NULL, NULL, 0, NULL), GW_ERR_ARG);
    GEOSGeom_destroy_r(gh, g);
    /* infinite and NaN coordinates are refused, not converted to tile units (fuzz_mvt: UB) */
    const char *nonfinite[] = {"LINESTRING (0 0, 1e400 1000, 2000 0)",
                               "LINESTRING (0 0, nan 1000, 2000 0)",
                               "POLYGON ((0 0, 1000000 0, inf 1000000, 0 0))"};
    GEOSWKTReader *r = GEOSWKTReader_create_r(gh);
    assert_int_equal(gw_mvt_reset(m, (gw_tile_id){0, 0, 0}), GW_OK);
    assert_int_equal(gw_mvt_add_layer(m, "a", 0), GW_OK);
    for (size_t i = 0; i < sizeof nonfinite / sizeof *nonfinite; i++) {
        g = GEOSWKTReader_read_r(gh, r, nonfinite[i]);
        assert_non_null(g);
        bool added = true;
        gw_status st = gw_mvt_add_feature(m, 2, true, g, NULL, 0, &added);
        printf("  %s -> %s: %s\n", nonfinite[i], gw_status_str(st), gw_ctx_errmsg(ctx));
        assert_int_equal(st, GW_ERR_GEOMETRY);
        assert_false(added);
        GEOSGeom_destroy_r(gh, g);
    }
    GEOSWKTReader_destroy_r(gh, r);
    gw_mvt_destroy(m);
}

/* GDAL's MVT driver reads the tile back: same feature count, ids and attributes. */
static void test_gdal_reads_back(void **state)
{
    (void)state;
    gw_mvt *m = NULL;
    assert_int_equal(gw_mvt_create(ctx, T0, NULL, &m), GW_OK);
    assert_int_equal(gw_mvt_add_layer(m, "grids", 0), GW_OK);
    for (int i = 0; i < 4; i++) {
        char wkt[512];
        int x0 = 100 + i * 900;
        snprintf(
            wkt, sizeof wkt,
            "POLYGON ((%d 100, %d 100, %d 900, %d 900, %d 100), (%d 300, %d 500, %d 500, %d 300, %d 300))",
            x0, x0 + 800, x0 + 800, x0, x0, x0 + 200, x0 + 200, x0 + 400, x0 + 400, x0 + 200);
        GEOSGeometry *g = tile_wkt(T0, wkt);
        char name[32];
        snprintf(name, sizeof name, "grid-%d", i);
        gw_mvt_prop p[] = {
            {"name", {.type = GW_MVT_STRING, .u.s = name}},
            {"population", {.type = GW_MVT_INT, .u.i = 1000 * i}},
            {"density", {.type = GW_MVT_DOUBLE, .u.d = 1.5 * i}},
        };
        assert_int_equal(gw_mvt_add_feature(m, 100 + (uint64_t)i, true, g, p, 3, NULL), GW_OK);
        GEOSGeom_destroy_r(gh, g);
    }
    assert_int_equal(gw_mvt_add_layer(m, "incidents", 0), GW_OK);
    gw_bbox b = gw_tile_bounds(T0);
    for (int i = 0; i < 50; i++) {
        gw_mvt_prop p[] = {{"category",
                            {.type = GW_MVT_STRING, .u.s = i % 3 ? "theft" : "assault"}},
                           {"severity", {.type = GW_MVT_INT, .u.i = 1 + i % 5}}};
        assert_int_equal(gw_mvt_add_point(m, 5000 + (uint64_t)i, true,
                                          b.minx + (i + 0.5) * (b.maxx - b.minx) / 50,
                                          b.miny + (b.maxy - b.miny) / 3, p, 2, NULL),
                         GW_OK);
    }
    const uint8_t *bytes;
    size_t n;
    assert_int_equal(gw_mvt_finish(m, &bytes, &n), GW_OK);
    char fname[64];
    snprintf(fname, sizeof fname, "%u-%u-%u.pbf", T0.z, T0.x, T0.y);
    const char *path = gw_test_path(fname);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    gw_mvt_destroy(m);

    GDALAllRegister();
    const char *drivers[] = {"MVT", NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, NULL, NULL);
    assert_non_null(ds);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 2);
    OGRLayerH grids = GDALDatasetGetLayerByName(ds, "grids");
    OGRLayerH inc = GDALDatasetGetLayerByName(ds, "incidents");
    assert_non_null(grids);
    assert_non_null(inc);
    assert_int_equal(OGR_L_GetFeatureCount(grids, 1), 4);
    assert_int_equal(OGR_L_GetFeatureCount(inc, 1), 50);
    OGR_L_ResetReading(grids);
    OGRFeatureH feat;
    int seen = 0;
    while ((feat = OGR_L_GetNextFeature(grids)) != NULL) {
        /* GDAL exposes the MVT feature id as the mvt_id field (its FIDs are sequential) */
        long long fid = OGR_F_GetFieldAsInteger64(feat, OGR_F_GetFieldIndex(feat, "mvt_id"));
        int i = (int)(fid - 100);
        assert_true(i >= 0 && i < 4);
        char name[32];
        snprintf(name, sizeof name, "grid-%d", i);
        assert_string_equal(OGR_F_GetFieldAsString(feat, OGR_F_GetFieldIndex(feat, "name")), name);
        assert_int_equal(OGR_F_GetFieldAsInteger64(feat, OGR_F_GetFieldIndex(feat, "population")),
                         1000 * i);
        assert_true(fabs(OGR_F_GetFieldAsDouble(feat, OGR_F_GetFieldIndex(feat, "density")) -
                         1.5 * i) < 1e-12);
        OGRGeometryH geom = OGR_F_GetGeometryRef(feat);
        assert_non_null(geom);
        /* GDAL reports MVT polygons as multipolygons */
        if (wkbFlatten(OGR_G_GetGeometryType(geom)) == wkbMultiPolygon) {
            assert_int_equal(OGR_G_GetGeometryCount(geom), 1);
            assert_int_equal(OGR_G_GetGeometryCount(OGR_G_GetGeometryRef(geom, 0)), 2);
        } else {
            assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(geom)), wkbPolygon);
            assert_int_equal(OGR_G_GetGeometryCount(geom), 2); /* shell + hole */
        }
        /* GDAL georeferences the tile in 3857: the area matches (800^2 - 200^2) tile units */
        double unit = gw_tile_unit_size(T0.z, 4096);
        assert_true(fabs(OGR_G_Area(geom) - (800.0 * 800 - 200.0 * 200) * unit * unit) <
                    unit * unit * 2);
        seen |= 1 << i;
        OGR_F_Destroy(feat);
    }
    assert_int_equal(seen, 15);
    long long idsum = 0;
    OGR_L_ResetReading(inc);
    while ((feat = OGR_L_GetNextFeature(inc)) != NULL) {
        long long fid = OGR_F_GetFieldAsInteger64(feat, OGR_F_GetFieldIndex(feat, "mvt_id"));
        idsum += fid;
        int i = (int)(fid - 5000);
        assert_string_equal(OGR_F_GetFieldAsString(feat, OGR_F_GetFieldIndex(feat, "category")),
                            i % 3 ? "theft" : "assault");
        assert_int_equal(OGR_F_GetFieldAsInteger(feat, OGR_F_GetFieldIndex(feat, "severity")),
                         1 + i % 5);
        OGR_F_Destroy(feat);
    }
    assert_int_equal(idsum, 50 * 5000 + 49 * 50 / 2);
    GDALClose(ds);
}

/* The union of the pieces of a polygon in the four child tiles, each clipped to its own tile
 * (no buffer), equals the polygon within a pixel. */
static void test_four_children_seam(void **state)
{
    (void)state;
    gw_tile_id parent = {14, 13370, 6500};
    gw_bbox pb = gw_tile_bounds(parent);
    double cx = (pb.minx + pb.maxx) / 2, cy = (pb.miny + pb.maxy) / 2, w = pb.maxx - pb.minx;
    /* a wobbly star with a hole, centred on the parent so it crosses all child seams */
    char wkt[16384];
    size_t off = (size_t)snprintf(wkt, sizeof wkt, "POLYGON ((");
    int N = 200;
    for (int i = 0; i <= N; i++) {
        double a = 2 * M_PI * (i % N) / N, r = w * (0.30 + 0.08 * sin(7 * a) + 0.03 * cos(23 * a));
        off += (size_t)snprintf(wkt + off, sizeof wkt - off, "%s%.6f %.6f", i ? ", " : "",
                                cx + r * cos(a), cy + r * sin(a));
    }
    off += (size_t)snprintf(wkt + off, sizeof wkt - off, "), (");
    for (int i = 0; i <= N; i++) {
        double a = -2 * M_PI * (i % N) / N, r = w * 0.1;
        off += (size_t)snprintf(wkt + off, sizeof wkt - off, "%s%.6f %.6f", i ? ", " : "",
                                cx + 0.05 * w + r * cos(a), cy + r * sin(a));
    }
    snprintf(wkt + off, sizeof wkt - off, "))");
    GEOSWKTReader *r = GEOSWKTReader_create_r(gh);
    GEOSGeometry *poly = GEOSWKTReader_read_r(gh, r, wkt);
    GEOSWKTReader_destroy_r(gh, r);
    assert_non_null(poly);
    assert_int_equal(GEOSisValid_r(gh, poly), 1);

    for (int mode = 0; mode < 2; mode++) {
        gw_mvt_options o = gw_mvt_defaults();
        o.clip = mode ? GW_MVT_CLIP_BY_RECT : GW_MVT_CLIP_INTERSECTION;
        GEOSGeometry *pieces[4];
        gw_mvt *m = NULL;
        for (int k = 0; k < 4; k++) {
            gw_tile_id c = {parent.z + 1, parent.x * 2 + (uint32_t)(k & 1),
                            parent.y * 2 + (uint32_t)(k >> 1)};
            if (!m) assert_int_equal(gw_mvt_create(ctx, c, &o, &m), GW_OK);
            else assert_int_equal(gw_mvt_reset(m, c), GW_OK);
            assert_int_equal(gw_mvt_add_layer(m, "grids", 0), GW_OK);
            bool added = false;
            assert_int_equal(gw_mvt_add_feature(m, 1, true, poly, NULL, 0, &added), GW_OK);
            assert_true(added);
            const uint8_t *bytes;
            size_t n;
            assert_int_equal(gw_mvt_finish(m, &bytes, &n), GW_OK);
            dtile t;
            decode_tile(bytes, n, &t);
            dgeom *g = malloc(sizeof *g);
            decode_geom(&t.layers[0].feats[0], g);
            tile_xf xf = {gw_tile_bounds(c), 0};
            xf.scale = 4096.0 / (xf.b.maxx - xf.b.minx);
            GEOSGeometry *dec = dgeom_to_geos(g, &xf);
            assert_int_equal(GEOSisValid_r(gh, dec), 1);
            GEOSGeometry *rect = GEOSGeom_createRectangle_r(gh, xf.b.minx, xf.b.miny, xf.b.maxx,
                                                            xf.b.maxy);
            pieces[k] = GEOSIntersection_r(gh, dec, rect);
            GEOSGeom_destroy_r(gh, rect);
            GEOSGeom_destroy_r(gh, dec);
            assert_non_null(pieces[k]);
            free(g);
            free_tile(&t);
        }
        gw_mvt_destroy(m);
        GEOSGeometry *coll = GEOSGeom_createCollection_r(gh, GEOS_GEOMETRYCOLLECTION, pieces, 4);
        GEOSGeometry *u = GEOSUnaryUnion_r(gh, coll);
        assert_non_null(u);
        GEOSGeometry *diff = GEOSSymDifference_r(gh, u, poly);
        double da, pa, perim, hd;
        GEOSArea_r(gh, diff, &da);
        GEOSArea_r(gh, poly, &pa);
        GEOSLength_r(gh, poly, &perim);
        GEOSHausdorffDistance_r(gh, u, poly, &hd);
        double unit = gw_tile_unit_size(parent.z + 1, 4096);
        /* within a pixel: the symmetric difference is thinner than one tile unit on average */
        if (!(da < perim * unit))
            fail_msg("sym diff %.3f m2 >= perimeter %.1f m x unit %.4f m", da, perim, unit);
        assert_true(da / pa < 1e-3);
        assert_true(hd < 2 * unit);
        GEOSGeom_destroy_r(gh, diff);
        GEOSGeom_destroy_r(gh, u);
        GEOSGeom_destroy_r(gh, coll);
    }
    GEOSGeom_destroy_r(gh, poly);
}

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    if (!ctx) return -1;
    gh = gw_ctx_geos(ctx);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_winding_and_holes),
        cmocka_unit_test(test_multipolygon_and_points),
        cmocka_unit_test(test_properties_dedup_typed),
        cmocka_unit_test(test_degenerate_dropped),
        cmocka_unit_test(test_clip_into_buffer),
        cmocka_unit_test(test_valid_after_snapping),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_gdal_reads_back),
        cmocka_unit_test(test_four_children_seam),
    };
    return cmocka_run_group_tests_name("mvt", tests, setup, teardown);
}
