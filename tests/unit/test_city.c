/* test_city.c — the synthetic city: counts follow the scale, grids tile the region with no gaps
 * or overlaps, incidents sit in their grid, the output is deterministic per seed, bad options
 * and non-empty stores are refused, and a real outline file (Heze's counties) can be the region: the "--real" group, ctest entry
 * "city_real", skipped (77) without <shared>/data/real. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/store.h"

#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEZE_COUNTIES "heze/heze_371700_counties_wgs84.geojson"
#define HEZE_OUTLINE "heze/heze_371700_city_outline_wgs84.geojson"

typedef struct grids {
    int n;
    char **id, **county;
    int64_t *pop, *hh;
    GEOSGeometry **g; /* metric */
} grids;

static gw_store *open_new(gw_ctx *ctx, const char *name)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path(name), GW_STORE_CREATE, &s), GW_OK);
    return s;
}

static gw_status gen(gw_ctx *ctx, gw_store *s, double scale, uint64_t seed, const char *region,
                     gw_city_report *rep)
{
    gw_city_opts o = {.scale = scale, .seed = seed, .region = region};
    gw_status st = gw_city_generate(ctx, s, &o, rep);
    if (st) fprintf(stderr, "gw_city_generate: %s: %s\n", gw_status_str(st), gw_ctx_errmsg(ctx));
    return st;
}

static gw_crs_transform *to_metric(gw_ctx *ctx, gw_store *s)
{
    int srid = 0;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_true(srid > 0);
    gw_crs_transform *tr = NULL;
    gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, srid};
    assert_int_equal(gw_crs_transform_create(ctx, ll, m, &tr), GW_OK);
    return tr;
}

static void grids_load(gw_ctx *ctx, gw_store *s, grids *out)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_crs_transform *tr = to_metric(ctx, s);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    gw_cursor *cur = NULL;
    gw_row row;
    int cap = 0;
    memset(out, 0, sizeof *out);
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_GRIDS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->id = realloc(out->id, cap * sizeof *out->id);
            out->county = realloc(out->county, cap * sizeof *out->county);
            out->pop = realloc(out->pop, cap * sizeof *out->pop);
            out->hh = realloc(out->hh, cap * sizeof *out->hh);
            out->g = realloc(out->g, cap * sizeof *out->g);
        }
        out->id[out->n] = strdup(row.values[0].s);
        out->county[out->n] = strdup(row.values[3].s);
        out->pop[out->n] = row.values[4].i;
        out->hh[out->n] = row.values[5].i;
        GEOSGeometry *ll = GEOSWKBReader_read_r(h, rd, row.wkb, row.wkb_len);
        assert_non_null(ll);
        out->g[out->n] = gw_crs_transform_geom(tr, ll);
        assert_non_null(out->g[out->n]);
        GEOSGeom_destroy_r(h, ll);
        out->n++;
    }
    gw_cursor_destroy(cur);
    GEOSWKBReader_destroy_r(h, rd);
    gw_crs_transform_destroy(tr);
}

static void grids_free(gw_ctx *ctx, grids *g)
{
    for (int i = 0; i < g->n; i++) {
        free(g->id[i]);
        free(g->county[i]);
        GEOSGeom_destroy_r(gw_ctx_geos(ctx), g->g[i]);
    }
    free(g->id), free(g->county), free(g->pop), free(g->hh), free(g->g);
}

/* Union area and sum of areas of the grids; the largest pairwise interior overlap (STRtree). */
typedef struct overlap_q {
    GEOSContextHandle_t h;
    const grids *gr;
    int self;
    double worst;
} overlap_q;
static void overlap_cb(void *item, void *user)
{
    overlap_q *q = user;
    int j = (int)(intptr_t)item;
    if (j <= q->self) return;
    GEOSGeometry *x = GEOSIntersection_r(q->h, q->gr->g[q->self], q->gr->g[j]);
    double a = 0;
    if (x) GEOSArea_r(q->h, x, &a), GEOSGeom_destroy_r(q->h, x);
    if (a > q->worst) q->worst = a;
}

static void check_tiling(gw_ctx *ctx, const grids *gr, double region_m2)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    double sum = 0, ua = 0;
    for (int i = 0; i < gr->n; i++) {
        double a = 0;
        assert_true(GEOSArea_r(h, gr->g[i], &a));
        assert_true(a > 0);
        sum += a;
    }
    GEOSGeometry **cl = malloc(gr->n * sizeof *cl);
    for (int i = 0; i < gr->n; i++) cl[i] = GEOSGeom_clone_r(h, gr->g[i]);
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, cl, gr->n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    assert_non_null(u);
    GEOSArea_r(h, u, &ua);
    GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, coll);
    free(cl);
    assert_true(fabs(ua - region_m2) / region_m2 < 1e-6);
    assert_true(fabs(sum - region_m2) / region_m2 < 1e-6);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    for (int i = 0; i < gr->n; i++) GEOSSTRtree_insert_r(h, tree, gr->g[i], (void *)(intptr_t)i);
    overlap_q q = {h, gr, 0, 0};
    for (int i = 0; i < gr->n; i++) {
        q.self = i;
        GEOSSTRtree_query_r(h, tree, gr->g[i], overlap_cb, &q);
    }
    GEOSSTRtree_destroy_r(h, tree);
    assert_true(q.worst < 1.0);
}

/* The same tiling as stored, in lon/lat: what SQL clients, the planner's validation and
 * point-in-polygon on stored grids see.  Regression: metric edges transformed by their vertices
 * only left slivers at county-border T-junctions (~450,000 m² of overlap at scale 0.01). */
static void check_tiling_lonlat(gw_ctx *ctx, gw_store *s)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    gw_cursor *cur = NULL;
    gw_row row;
    grids gr = {0};
    int cap = 0;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_GRIDS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        if (gr.n == cap) {
            cap = cap ? cap * 2 : 256;
            gr.g = realloc(gr.g, cap * sizeof *gr.g);
        }
        gr.g[gr.n] = GEOSWKBReader_read_r(h, rd, row.wkb, row.wkb_len);
        assert_non_null(gr.g[gr.n]);
        gr.n++;
    }
    gw_cursor_destroy(cur);
    GEOSWKBReader_destroy_r(h, rd);
    double sum = 0, ua = 0;
    GEOSGeometry **cl = malloc(gr.n * sizeof *cl);
    for (int i = 0; i < gr.n; i++) {
        double a = 0;
        GEOSArea_r(h, gr.g[i], &a);
        sum += a;
        cl[i] = GEOSGeom_clone_r(h, gr.g[i]);
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, cl, gr.n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    assert_non_null(u);
    GEOSArea_r(h, u, &ua);
    GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, coll);
    free(cl);
    /* 1 deg² ≈ 1e10 m² here: 1e-12 relative of ~1.2 deg² is ~0.01 m² over the whole region. */
    printf("  lon/lat tiling: sum of areas %.12g deg², union %.12g deg², rel %.3g\n", sum, ua,
           fabs(sum - ua) / ua);
    assert_true(fabs(sum - ua) / ua < 1e-12);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    for (int i = 0; i < gr.n; i++) GEOSSTRtree_insert_r(h, tree, gr.g[i], (void *)(intptr_t)i);
    overlap_q q = {h, &gr, 0, 0};
    for (int i = 0; i < gr.n; i++) {
        q.self = i;
        GEOSSTRtree_query_r(h, tree, gr.g[i], overlap_cb, &q);
    }
    GEOSSTRtree_destroy_r(h, tree);
    assert_true(q.worst < 1e-13); /* < ~0.001 m² */
    for (int i = 0; i < gr.n; i++) GEOSGeom_destroy_r(h, gr.g[i]);
    free(gr.g);
}

typedef struct idx_entry {
    const char *id;
    int i;
} idx_entry;
static int cmp_idx(const void *a, const void *b)
{
    return strcmp(((const idx_entry *)a)->id, ((const idx_entry *)b)->id);
}

static void test_city_counts_and_tiling(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = open_new(ctx, "city_small.db");
    gw_city_report rep;
    const double scale = 0.02;
    assert_int_equal(gen(ctx, s, scale, 42, NULL, &rep), GW_OK);
    /* counts are round(N * scale) */
    assert_int_equal(rep.grids, lround(12864 * scale));
    assert_int_equal(rep.police_rooms, lround(1150 * scale));
    assert_int_equal(rep.teams, lround(6136 * scale));
    assert_int_equal(rep.cameras, lround(250000 * scale));
    assert_int_equal(rep.incidents, lround(1000000 * scale));
    int64_t n = 0;
    int64_t want[GW_LAYER_COUNT] = {rep.grids, rep.police_rooms, rep.cameras, rep.teams,
                                    rep.incidents};
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        assert_int_equal(gw_store_count(s, (gw_layer)l, &n), GW_OK);
        assert_int_equal(n, want[l]);
    }
    assert_true(rep.region_km2 > 11000 && rep.region_km2 < 13500);
    char buf[64];
    assert_int_equal(gw_store_meta_get(s, "name", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "Synthetic Heze");
    int64_t seq = 0;
    assert_int_equal(gw_store_last_seq(s, &seq), GW_OK);
    assert_true(seq >= GW_LAYER_COUNT);

    grids gr;
    grids_load(ctx, s, &gr);
    assert_int_equal(gr.n, rep.grids);
    check_tiling(ctx, &gr, rep.region_km2 * 1e6);
    check_tiling_lonlat(ctx, s);
    int64_t pop = 0;
    for (int i = 0; i < gr.n; i++) {
        assert_true(gr.pop[i] > 0);
        assert_true(gr.hh[i] > 0 && gr.hh[i] <= gr.pop[i]);
        pop += gr.pop[i];
    }
    assert_true(pop > 0.9e7 * scale && pop < 1.2e7 * scale);

    /* every incident lies in the grid it names, inside the year; categories vary */
    idx_entry *sorted = malloc(gr.n * sizeof *sorted);
    for (int i = 0; i < gr.n; i++) sorted[i] = (idx_entry){gr.id[i], i};
    qsort(sorted, gr.n, sizeof *sorted, cmp_idx);
    for (int i = 1; i < gr.n; i++)
        assert_true(strcmp(sorted[i - 1].id, sorted[i].id) < 0); /* unique */
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_crs_transform *tr = to_metric(ctx, s);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    double worst = 0;
    gw_cursor *cur = NULL;
    gw_row row;
    int64_t ninc = 0, nlate_open = 0, nlate = 0, nearly_closed = 0, nearly = 0, ntheft = 0,
            nevening = 0;
    const int64_t y0 = 1735660800, y1 = y0 + 365LL * 86400;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        idx_entry key = {row.values[6].s, 0}, *hit;
        assert_non_null(key.id);
        hit = bsearch(&key, sorted, gr.n, sizeof *sorted, cmp_idx);
        assert_non_null(hit);
        GEOSGeometry *ll = GEOSWKBReader_read_r(h, rd, row.wkb, row.wkb_len);
        assert_non_null(ll);
        GEOSGeometry *pt = gw_crs_transform_geom(tr, ll);
        double d = 0;
        assert_true(GEOSDistance_r(h, pt, gr.g[hit->i], &d));
        if (d > worst) worst = d;
        GEOSGeom_destroy_r(h, ll);
        GEOSGeom_destroy_r(h, pt);
        int64_t t = row.values[1].i;
        assert_true(t >= y0 && t < y1);
        int sev = (int)row.values[3].i;
        assert_true(sev >= 1 && sev <= 5);
        const char *stt = row.values[4].s;
        if (t > y1 - 3 * 86400) nlate++, nlate_open += strcmp(stt, "closed") != 0;
        if (t < y0 + 180 * 86400) nearly++, nearly_closed += strcmp(stt, "closed") == 0;
        ntheft += strcmp(row.values[2].s, "theft") == 0;
        int hour = (int)(((t - y0) % 86400) / 3600);
        nevening += hour >= 17 && hour <= 22;
        ninc++;
    }
    gw_cursor_destroy(cur);
    GEOSWKBReader_destroy_r(h, rd);
    assert_true(worst < 1e-3); /* inside (or on the edge of) its grid, metres */
    assert_int_equal(ninc, rep.incidents);
    assert_true(nearly_closed > 0.99 * nearly);
    assert_true(nlate_open > 0.5 * nlate);
    assert_true(ntheft > 0.15 * ninc && ntheft < 0.5 * ninc);
    assert_true(nevening > 0.3 * ninc); /* 6 of 24 hours carry a third of the incidents */
    gw_crs_transform_destroy(tr);
    free(sorted);
    grids_free(ctx, &gr);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* The first k incidents as one string (id, time, category, grid, coordinates). */
static char *first_incidents(gw_store *s, int k)
{
    size_t cap = 256 * (size_t)k, len = 0;
    char *out = calloc(1, cap);
    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    for (int i = 0; i < k && gw_cursor_next(cur, &row) == GW_OK; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s %lld %s %s %zu:", row.values[0].s,
                                (long long)row.values[1].i, row.values[2].s, row.values[6].s,
                                row.wkb_len);
    gw_cursor_destroy(cur);
    return out;
}

static char *grid_ids(gw_ctx *ctx, gw_store *s)
{
    grids gr;
    grids_load(ctx, s, &gr);
    size_t cap = 32 * (size_t)gr.n + 1, len = 0;
    char *out = calloc(1, cap);
    for (int i = 0; i < gr.n; i++) len += (size_t)snprintf(out + len, cap - len, "%s,", gr.id[i]);
    grids_free(ctx, &gr);
    return out;
}

static void test_city_deterministic(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *a = open_new(ctx, "det_a.db"), *b = open_new(ctx, "det_b.db"),
             *c = open_new(ctx, "det_c.db");
    gw_city_report ra, rb, rc;
    assert_int_equal(gen(ctx, a, 0.01, 7, NULL, &ra), GW_OK);
    assert_int_equal(gen(ctx, b, 0.01, 7, NULL, &rb), GW_OK);
    assert_int_equal(gen(ctx, c, 0.01, 8, NULL, &rc), GW_OK);
    char *ga = grid_ids(ctx, a), *gb = grid_ids(ctx, b), *gc = grid_ids(ctx, c);
    char *ia = first_incidents(a, 200), *ib = first_incidents(b, 200),
         *ic = first_incidents(c, 200);
    assert_true(strlen(ga) > 100 && strlen(ia) > 100);
    assert_string_equal(ga, gb);
    assert_string_equal(ia, ib);
    assert_true(ra.region_km2 == rb.region_km2);
    assert_true(strcmp(ia, ic) != 0);
    assert_true(ra.region_km2 != rc.region_km2); /* the built-in outline follows the seed too */
    /* geometry too: the same seed gives the same grid polygons, bit for bit */
    grids x, y;
    grids_load(ctx, a, &x);
    grids_load(ctx, b, &y);
    assert_int_equal(x.n, y.n);
    for (int i = 0; i < x.n; i++)
        assert_true(GEOSEqualsExact_r(gw_ctx_geos(ctx), x.g[i], y.g[i], 0.0) == 1);
    grids_free(ctx, &x);
    grids_free(ctx, &y);
    free(ga), free(gb), free(gc), free(ia), free(ib), free(ic);
    gw_store_close(a), gw_store_close(b), gw_store_close(c);
    gw_ctx_destroy(ctx);
}

static void test_city_bad_scale(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = open_new(ctx, "bad_scale.db");
    const double bad[] = {0, -1, 4.0001, 100, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_city_opts o = {.scale = bad[i], .seed = 1};
        assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_ERR_ARG);
        assert_non_null(strstr(gw_ctx_errmsg(ctx), "scale"));
    }
    assert_int_equal(gw_city_generate(ctx, s, NULL, NULL), GW_ERR_ARG);
    gw_city_opts o = {.scale = 0.01, .seed = 1, .region = "/nonexistent/region.geojson"};
    assert_int_not_equal(gw_city_generate(ctx, s, &o, NULL), GW_OK);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "/nonexistent/region.geojson"));
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        int64_t n = -1;
        assert_int_equal(gw_store_count(s, (gw_layer)l, &n), GW_OK);
        assert_int_equal(n, 0);
    }
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

static void test_city_refuses_non_empty_store(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = open_new(ctx, "non_empty.db");
    gw_inserter *ins = NULL;
    gw_value v[4] = {{GW_VAL_TEXT, "PR9999", 0, 0},
                     {GW_VAL_TEXT, "old room", 0, 0},
                     {GW_VAL_NULL, NULL, 0, 0},
                     {GW_VAL_NULL, NULL, 0, 0}};
    gw_feature f = {v, NULL, 0, 115.5, 35.2};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_POLICE_ROOMS, &ins), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);
    int64_t seq0 = 0, seq1 = 0, n = 0;
    assert_int_equal(gw_store_last_seq(s, &seq0), GW_OK);
    gw_city_opts o = {.scale = 0.01, .seed = 1};
    assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "police_rooms"));
    assert_int_equal(gw_store_count(s, GW_LAYER_POLICE_ROOMS, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gw_store_last_seq(s, &seq1), GW_OK);
    assert_int_equal(seq1, seq0);
    /* and a store the city already filled */
    gw_store *t = open_new(ctx, "filled.db");
    assert_int_equal(gen(ctx, t, 0.005, 3, NULL, NULL), GW_OK);
    assert_int_equal(gw_city_generate(ctx, t, &o, NULL), GW_ERR_CONFLICT);
    assert_int_equal(gw_store_count(t, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, lround(12864 * 0.005));
    gw_store_close(t);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* Area of a lon/lat polygon file in the metric CRS of `tr`. */
static double file_area(gw_ctx *ctx, const char *path, gw_crs_transform *tr)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH lyr = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f;
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    double total = 0;
    while ((f = OGR_L_GetNextFeature(lyr))) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        size_t n = (size_t)OGR_G_WkbSize(g);
        unsigned char *buf = malloc(n);
        OGR_G_ExportToIsoWkb(g, wkbNDR, buf);
        GEOSGeometry *ll = GEOSWKBReader_read_r(h, rd, buf, n), *m = gw_crs_transform_geom(tr, ll);
        double a = 0;
        GEOSArea_r(h, m, &a);
        total += a;
        GEOSGeom_destroy_r(h, ll), GEOSGeom_destroy_r(h, m), free(buf), OGR_F_Destroy(f);
    }
    GEOSWKBReader_destroy_r(h, rd);
    GDALClose(ds);
    return total;
}

static void test_city_heze_counties(void **state)
{
    (void)state;
    const char *counties = gw_test_real_file(HEZE_COUNTIES),
               *outline = gw_test_real_file(HEZE_OUTLINE);
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = open_new(ctx, "heze.db");
    gw_city_report rep;
    assert_int_equal(gen(ctx, s, 0.02, 11, counties, &rep), GW_OK);
    assert_int_equal(rep.grids, lround(12864 * 0.02));
    grids gr;
    grids_load(ctx, s, &gr);
    static const char *const names[9] = {"牡丹区", "定陶区", "曹县",   "单县",  "成武县",
                                         "巨野县", "郓城县", "鄄城县", "东明县"};
    int seen[9] = {0};
    for (int i = 0; i < gr.n; i++) {
        int k = -1;
        for (int j = 0; j < 9; j++)
            if (!strcmp(gr.county[i], names[j])) k = j;
        assert_true(k >= 0);
        seen[k]++;
        char code[8];
        snprintf(code, sizeof code, "%.6s", gr.id[i]);
        assert_true(strncmp(code, "3717", 4) == 0);
    }
    for (int j = 0; j < 9; j++) assert_true(seen[j] > 0);
    gw_crs_transform *tr = to_metric(ctx, s);
    double outline_m2 = file_area(ctx, outline, tr);
    assert_true(fabs(rep.region_km2 * 1e6 - outline_m2) / outline_m2 < 1e-6);
    check_tiling(ctx, &gr, outline_m2);
    check_tiling_lonlat(ctx, s);
    gw_crs_transform_destroy(tr);
    grids_free(ctx, &gr);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_city_counts_and_tiling),
        cmocka_unit_test(test_city_deterministic),
        cmocka_unit_test(test_city_bad_scale),
        cmocka_unit_test(test_city_refuses_non_empty_store),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_city_heze_counties),
    };
    static const char *const needs[] = {HEZE_COUNTIES, HEZE_OUTLINE, NULL};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("city", tests, NULL, NULL);
    if (strcmp(group, "--real") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_real(needs)) return GW_TEST_SKIPPED;
    return cmocka_run_group_tests_name("city_real", real, NULL, NULL);
}
