/* bench_mvt.c — how fast the MVT encoder turns geometries into tile bytes, and what the pbf
 * writer choice costs: the hand-written writer beside protobuf-c on the same logical tile.
 *
 * Inputs are synthetic and deterministic: a 100x100 block of grid-like polygons with shared,
 * jittered edges covering one z12 tile (10,000 polygons), and 100,000 points in one z14 tile.
 * Build (until CMake lists it):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -DGEOS_USE_ONLY_R_API -Iinclude bench/bench_mvt.c \
 *      build/libgwtiles.a build/libgwgeo.a -lgeos_c -lproj -lm -o bench_mvt
 * With the protobuf-c comparison (vector_tile.proto from the MVT 2.1 spec, run through protoc-c
 * into DIR): add -DGW_BENCH_PROTOBUF_C -IDIR DIR/vector_tile.pb-c.c -lprotobuf-c. */
#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef GW_BENCH_PROTOBUF_C
#include "vector_tile.pb-c.h"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static double jitter(uint64_t a, uint64_t b)
{
    return (double)(mix(a * 1000003u + b) >> 11) / 9007199254740992.0 - 0.5;
}

#define CELLS 100 /* 100 x 100 polygons */
#define SUB 8     /* lattice points per cell side: 32 vertices per polygon */

static GEOSGeometry **make_polygons(GEOSContextHandle_t gh, gw_bbox b, size_t *n)
{
    GEOSGeometry **out = malloc(sizeof *out * CELLS * CELLS);
    int L = CELLS * SUB;
    double sx = (b.maxx - b.minx) / L, sy = (b.maxy - b.miny) / L;
    /* lattice point (i, j) jittered across its cell edge by a hash of its index, so edges wiggle
     * and neighbours share them exactly; cell corners stay on the lattice */
#define LX(i, j)                                                                                   \
    (b.minx + ((i) + ((j) % SUB ? 0.35 * jitter((uint64_t)(i), (uint64_t)(j)) : 0)) * sx)
#define LY(i, j)                                                                                   \
    (b.miny + ((j) + ((i) % SUB ? 0.35 * jitter((uint64_t)(j) + 77777, (uint64_t)(i)) : 0)) * sy)
    double buf[2 * (4 * SUB + 1)];
    for (int cy = 0; cy < CELLS; cy++)
        for (int cx = 0; cx < CELLS; cx++) {
            int k = 0, i0 = cx * SUB, j0 = cy * SUB;
            for (int s = 0; s < SUB; s++, k++)
                buf[2 * k] = LX(i0 + s, j0), buf[2 * k + 1] = LY(i0 + s, j0);
            for (int s = 0; s < SUB; s++, k++)
                buf[2 * k] = LX(i0 + SUB, j0 + s), buf[2 * k + 1] = LY(i0 + SUB, j0 + s);
            for (int s = SUB; s > 0; s--, k++)
                buf[2 * k] = LX(i0 + s, j0 + SUB), buf[2 * k + 1] = LY(i0 + s, j0 + SUB);
            for (int s = SUB; s > 0; s--, k++)
                buf[2 * k] = LX(i0, j0 + s), buf[2 * k + 1] = LY(i0, j0 + s);
            buf[2 * k] = buf[0];
            buf[2 * k + 1] = buf[1];
            k++;
            GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(gh, buf, (unsigned)k, 0, 0);
            out[cy * CELLS + cx] = GEOSGeom_createPolygon_r(gh, GEOSGeom_createLinearRing_r(gh, cs),
                                                            NULL, 0);
        }
    *n = CELLS * CELLS;
    return out;
}

static const char *const cats[8] = {"theft",   "fraud", "assault", "burglary",
                                    "traffic", "noise", "drugs",   "other"};

static void props_for(size_t i, gw_mvt_prop *p, char *name, size_t namesz)
{
    snprintf(name, namesz, "G%05u", (unsigned)(i % 100000));
    p[0] = (gw_mvt_prop){"name", {.type = GW_MVT_STRING, .u.s = name}};
    p[1] = (gw_mvt_prop){"population", {.type = GW_MVT_INT, .u.i = (int64_t)(mix(i) % 5000)}};
    p[2] = (gw_mvt_prop){"county", {.type = GW_MVT_STRING, .u.s = cats[i % 8]}};
}

/* Encode the polygons into tile t; returns bytes written. */
static size_t encode_polys(gw_mvt *m, gw_tile_id t, GEOSGeometry **polys, size_t n, size_t *nfeat)
{
    gw_mvt_reset(m, t);
    gw_mvt_add_layer(m, "grids", 0);
    char name[16];
    gw_mvt_prop p[3];
    for (size_t i = 0; i < n; i++) {
        props_for(i, p, name, sizeof name);
        gw_mvt_add_feature(m, i + 1, true, polys[i], p, 3, NULL);
    }
    if (nfeat) *nfeat = gw_mvt_layer_feature_count(m);
    const uint8_t *b;
    size_t len;
    gw_mvt_finish(m, &b, &len);
    return len;
}

typedef struct pt {
    double x, y;
} pt;

static size_t encode_points(gw_mvt *m, gw_tile_id t, const pt *pts, size_t n)
{
    gw_mvt_reset(m, t);
    gw_mvt_add_layer(m, "incidents", 0);
    for (size_t i = 0; i < n; i++) {
        gw_mvt_prop p[2] = {{"category", {.type = GW_MVT_STRING, .u.s = cats[i % 8]}},
                            {"severity", {.type = GW_MVT_INT, .u.i = (int64_t)(1 + i % 5)}}};
        gw_mvt_add_point(m, i + 1, true, pts[i].x, pts[i].y, p, 2, NULL);
    }
    const uint8_t *b;
    size_t len;
    gw_mvt_finish(m, &b, &len);
    return len;
}

#ifdef GW_BENCH_PROTOBUF_C
/* ---- writer-only comparison on the same logical tile (features already as commands) ---- */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
} wbuf;
static size_t vsz(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}
static void pv(wbuf *b, uint64_t v)
{
    while (v >= 0x80) b->p[b->n++] = (uint8_t)(v | 0x80), v >>= 7;
    b->p[b->n++] = (uint8_t)v;
}
static size_t psz(const uint32_t *v, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++) s += vsz(v[i]);
    return s;
}

/* The hand-written writer as tiles/mvt.c does it: features appended as they come. */
static size_t hand_write(const VectorTile__Tile__Layer *L, wbuf *fb, wbuf *out)
{
    fb->n = 0;
    for (size_t f = 0; f < L->n_features; f++) {
        const VectorTile__Tile__Feature *F = L->features[f];
        size_t ts = psz(F->tags, F->n_tags), gs = psz(F->geometry, F->n_geometry);
        size_t fs = 1 + vsz(F->id) + 1 + vsz(ts) + ts + 2 + 1 + vsz(gs) + gs;
        if (fb->n + fs + 12 > fb->cap) {
            fb->cap = (fb->n + fs + 12) * 2;
            fb->p = realloc(fb->p, fb->cap);
        }
        fb->p[fb->n++] = 0x12;
        pv(fb, fs);
        fb->p[fb->n++] = 0x08;
        pv(fb, F->id);
        fb->p[fb->n++] = 0x12;
        pv(fb, ts);
        for (size_t i = 0; i < F->n_tags; i++) pv(fb, F->tags[i]);
        fb->p[fb->n++] = 0x18;
        fb->p[fb->n++] = (uint8_t)F->type;
        fb->p[fb->n++] = 0x22;
        pv(fb, gs);
        for (size_t i = 0; i < F->n_geometry; i++) pv(fb, F->geometry[i]);
    }
    size_t need = fb->n + 64 + strlen(L->name);
    if (out->cap < need) out->p = realloc(out->p, out->cap = need);
    out->n = 0;
    out->p[out->n++] = 0x1A;
    size_t nl = strlen(L->name), ls = 2 + 1 + vsz(nl) + nl + fb->n + 3;
    pv(out, ls);
    out->p[out->n++] = 0x78;
    out->p[out->n++] = 2;
    out->p[out->n++] = 0x0A;
    pv(out, nl);
    memcpy(out->p + out->n, L->name, nl);
    out->n += nl;
    memcpy(out->p + out->n, fb->p, fb->n);
    out->n += fb->n;
    out->p[out->n++] = 0x28;
    pv(out, 4096);
    return out->n;
}

/* protobuf-c as an encoder uses it (PostGIS style): a struct per feature with its own tag and
 * geometry arrays; then get_packed_size + pack (pbc_pack), then free. */
static VectorTile__Tile__Feature **pbc_build(const VectorTile__Tile__Layer *src)
{
    VectorTile__Tile__Feature **feats = malloc(sizeof *feats * src->n_features);
    for (size_t f = 0; f < src->n_features; f++) {
        const VectorTile__Tile__Feature *S = src->features[f];
        VectorTile__Tile__Feature *F = malloc(sizeof *F);
        vector_tile__tile__feature__init(F);
        F->has_id = 1;
        F->id = S->id;
        F->has_type = 1;
        F->type = S->type;
        F->n_tags = S->n_tags;
        F->tags = malloc(sizeof(uint32_t) * S->n_tags);
        memcpy(F->tags, S->tags, sizeof(uint32_t) * S->n_tags);
        F->n_geometry = S->n_geometry;
        F->geometry = malloc(sizeof(uint32_t) * S->n_geometry);
        memcpy(F->geometry, S->geometry, sizeof(uint32_t) * S->n_geometry);
        feats[f] = F;
    }
    return feats;
}

static size_t pbc_pack(const VectorTile__Tile__Layer *src, VectorTile__Tile__Feature **feats,
                       uint8_t **outp)
{
    VectorTile__Tile tile = VECTOR_TILE__TILE__INIT;
    VectorTile__Tile__Layer layer = VECTOR_TILE__TILE__LAYER__INIT;
    VectorTile__Tile__Layer *lp = &layer;
    layer.version = 2;
    layer.name = src->name;
    layer.has_extent = 1;
    layer.extent = 4096;
    layer.n_features = src->n_features;
    layer.features = feats;
    tile.n_layers = 1;
    tile.layers = &lp;
    size_t n = vector_tile__tile__get_packed_size(&tile);
    *outp = realloc(*outp, n);
    vector_tile__tile__pack(&tile, *outp);
    return n;
}

static void pbc_free(VectorTile__Tile__Feature **feats, size_t n)
{
    for (size_t f = 0; f < n; f++) {
        free(feats[f]->tags);
        free(feats[f]->geometry);
        free(feats[f]);
    }
    free(feats);
}

static void compare_writers(const char *what, const uint8_t *bytes, size_t len, int reps)
{
    VectorTile__Tile *t = vector_tile__tile__unpack(NULL, len, bytes);
    if (!t || t->n_layers != 1) {
        printf("  (protobuf-c could not unpack %s)\n", what);
        return;
    }
    const VectorTile__Tile__Layer *L = t->layers[0];
    wbuf fb = {0}, out = {0};
    uint8_t *pb = NULL;
    double th[64], tp[64], tpo[64];
    size_t nh = 0, np = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        nh = hand_write(L, &fb, &out);
        double t1 = now();
        VectorTile__Tile__Feature **feats = pbc_build(L);
        double t2 = now();
        np = pbc_pack(L, feats, &pb);
        double t3 = now();
        pbc_free(feats, L->n_features);
        double t4 = now();
        th[r] = t1 - t0, tp[r] = t4 - t1, tpo[r] = t3 - t2;
    }
    double mh = median(th, reps), mp = median(tp, reps), mpo = median(tpo, reps);
    printf(
        "  writer only, %s (%zu features): hand-written %.2f ms (%zu B)   protobuf-c build+pack+free "
        "%.2f ms (%zu B; of which pack %.2f ms)   -> protobuf-c / hand = %.2fx\n",
        what, L->n_features, mh * 1e3, nh, mp * 1e3, np, mpo * 1e3, mp / mh);
    free(fb.p);
    free(out.p);
    free(pb);
    vector_tile__tile__free_unpacked(t, NULL);
}
#endif

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 64) reps = 5;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return 1;
    GEOSContextHandle_t gh = gw_ctx_geos(ctx);

    gw_tile_id base = {12, 3361, 1619}; /* Heze */
    gw_bbox bb = gw_tile_bounds(base);
    size_t npoly;
    GEOSGeometry **polys = make_polygons(gh, bb, &npoly);
    printf("bench_mvt: %zu polygons x %d vertices over tile %u/%u/%u; median of %d runs\n", npoly,
           4 * SUB, base.z, base.x, base.y, reps);

    gw_mvt *m = NULL;
    gw_mvt_create(ctx, base, NULL, &m);

    /* 1. one z12 tile holding all 10,000 polygons */
    double tv[64];
    size_t len = 0, nf = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        len = encode_polys(m, base, polys, npoly, &nf);
        tv[r] = now() - t0;
    }
    printf(
        "z12 tile, 10,000 polygons (defaults: simplify 0.25, GEOSClipByRect): %.1f ms, %zu features, %zu bytes\n",
        median(tv, reps) * 1e3, nf, len);

    /* 2. the 16 tiles of the z14 quadtree below it, with each clip method */
    for (int clip = 0; clip < 2; clip++) {
        gw_mvt_options o = gw_mvt_defaults();
        o.clip = clip ? GW_MVT_CLIP_BY_RECT : GW_MVT_CLIP_INTERSECTION;
        gw_mvt *mc = NULL;
        gw_mvt_create(ctx, base, &o, &mc);
        double per[16 * 64];
        int k = 0;
        size_t total = 0, feats = 0;
        double t0 = now();
        for (int r = 0; r < reps; r++)
            for (uint32_t dy = 0; dy < 4; dy++)
                for (uint32_t dx = 0; dx < 4; dx++) {
                    gw_tile_id c = {14, base.x * 4 + dx, base.y * 4 + dy};
                    double a = now();
                    /* a real tile query would hand over only the features touching the tile;
                     * we do the same with a bbox prefilter on the synthetic lattice */
                    gw_mvt_reset(mc, c);
                    gw_mvt_add_layer(mc, "grids", 0);
                    char name[16];
                    gw_mvt_prop p[3];
                    int x0 = (int)dx * 25 - 1, x1 = (int)dx * 25 + 25, y0 = (3 - (int)dy) * 25 - 1,
                        y1 = (3 - (int)dy) * 25 + 25;
                    for (int cy = y0 < 0 ? 0 : y0; cy <= (y1 > 99 ? 99 : y1); cy++)
                        for (int cx = x0 < 0 ? 0 : x0; cx <= (x1 > 99 ? 99 : x1); cx++) {
                            size_t i = (size_t)cy * CELLS + (size_t)cx;
                            props_for(i, p, name, sizeof name);
                            gw_mvt_add_feature(mc, i + 1, true, polys[i], p, 3, NULL);
                        }
                    if (r == 0) feats += gw_mvt_layer_feature_count(mc);
                    const uint8_t *b;
                    size_t l;
                    gw_mvt_finish(mc, &b, &l);
                    if (r == 0) total += l;
                    per[k++] = now() - a;
                }
        double all = (now() - t0) / reps;
        double med = median(per, k), p95 = per[(int)(0.95 * (k - 1))];
        printf(
            "z14 quadtree, 16 tiles, clip %-13s: %.1f ms for all 16, per tile median %.2f ms p95 %.2f ms, %zu features, %zu bytes\n",
            clip ? "GEOSClipByRect" : "intersection", all * 1e3, med * 1e3, p95 * 1e3, feats,
            total);
        gw_mvt_destroy(mc);
    }

    /* 3. simplification off, for scale */
    {
        gw_mvt_options o = gw_mvt_defaults();
        o.simplify = 0;
        gw_mvt *ms = NULL;
        gw_mvt_create(ctx, base, &o, &ms);
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            len = encode_polys(ms, base, polys, npoly, &nf);
            tv[r] = now() - t0;
        }
        printf("z12 tile, 10,000 polygons, simplify off: %.1f ms, %zu bytes\n",
               median(tv, reps) * 1e3, len);
        gw_mvt_destroy(ms);
    }

    /* 3b. the same block at z10, where vertices are closer than the tolerance and simplification
     * runs (the z10 tile holds all 10,000 polygons in a quarter of its width) */
    {
        gw_tile_id z10 = {10, base.x / 4, base.y / 4};
        for (int simp = 1; simp >= 0; simp--) {
            gw_mvt_options o = gw_mvt_defaults();
            o.simplify = simp ? 0.25 : 0;
            gw_mvt *ms = NULL;
            gw_mvt_create(ctx, z10, &o, &ms);
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                len = encode_polys(ms, z10, polys, npoly, &nf);
                tv[r] = now() - t0;
            }
            printf("z10 tile, 10,000 polygons, simplify %s: %.1f ms, %zu features, %zu bytes\n",
                   simp ? "0.25" : "off ", median(tv, reps) * 1e3, nf, len);
            gw_mvt_destroy(ms);
        }
    }

    /* 4. 100,000 points in one z14 tile */
    gw_tile_id pt14 = {14, base.x * 4 + 1, base.y * 4 + 2};
    gw_bbox pb = gw_tile_bounds(pt14);
    size_t npts = 100000;
    pt *pts = malloc(sizeof *pts * npts);
    for (size_t i = 0; i < npts; i++) {
        pts[i].x = pb.minx + (jitter(i, 1) + 0.5) * (pb.maxx - pb.minx);
        pts[i].y = pb.miny + (jitter(i, 2) + 0.5) * (pb.maxy - pb.miny);
    }
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        len = encode_points(m, pt14, pts, npts);
        tv[r] = now() - t0;
    }
    double ptms = median(tv, reps) * 1e3;
    printf("z14 tile, 100,000 points (gw_mvt_add_point): %.1f ms, %zu bytes (%.0f ns/point)\n",
           ptms, len, ptms * 1e6 / npts);
    {
        GEOSGeometry **gp = malloc(sizeof *gp * npts);
        for (size_t i = 0; i < npts; i++)
            gp[i] = GEOSGeom_createPointFromXY_r(gh, pts[i].x, pts[i].y);
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            gw_mvt_reset(m, pt14);
            gw_mvt_add_layer(m, "incidents", 0);
            for (size_t i = 0; i < npts; i++) {
                gw_mvt_prop p[2] = {{"category", {.type = GW_MVT_STRING, .u.s = cats[i % 8]}},
                                    {"severity",
                                     {.type = GW_MVT_INT, .u.i = (int64_t)(1 + i % 5)}}};
                gw_mvt_add_feature(m, i + 1, true, gp[i], p, 2, NULL);
            }
            const uint8_t *b;
            gw_mvt_finish(m, &b, &len);
            tv[r] = now() - t0;
        }
        printf("z14 tile, 100,000 points (GEOS points, gw_mvt_add_feature): %.1f ms, %zu bytes\n",
               median(tv, reps) * 1e3, len);
        for (size_t i = 0; i < npts; i++) GEOSGeom_destroy_r(gh, gp[i]);
        free(gp);
    }

#ifdef GW_BENCH_PROTOBUF_C
    printf("pbf writer: hand-written vs protobuf-c %s, same features, same commands\n",
           protobuf_c_version());
    {
        const uint8_t *b;
        size_t l;
        encode_polys(m, base, polys, npoly, NULL);
        gw_mvt_finish(m, &b, &l);
        uint8_t *copy = malloc(l);
        memcpy(copy, b, l);
        compare_writers("10,000 polygons", copy, l, reps);
        free(copy);
        encode_points(m, pt14, pts, npts);
        gw_mvt_finish(m, &b, &l);
        copy = malloc(l);
        memcpy(copy, b, l);
        compare_writers("100,000 points", copy, l, reps);
        free(copy);
    }
#else
    printf("(protobuf-c comparison not built: see the header comment)\n");
#endif

    free(pts);
    gw_mvt_destroy(m);
    for (size_t i = 0; i < npoly; i++) GEOSGeom_destroy_r(gh, polys[i]);
    free(polys);
    gw_ctx_destroy(ctx);
    return 0;
}
