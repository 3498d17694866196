/* test_hotspot.c — Gi* as Getis & Ord publish it and as spdep computes it: the six-point
 * published example, closed-form values on a 3x3 lattice (queen and rook), the snapping
 * tolerance, distance and kNN weights, BH-FDR, rates and the no-neighbour / no-value cases.
 * Against R spdep in their own ctest entries, skipped (77) where Rscript with spdep and sf is
 * absent: "hotspot_spdep" (--spdep, the synthetic city) and "hotspot_spdep_real" (--spdep-real,
 * Chicago's beats and 2018 crimes; skipped without <shared>/data/real too). */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/io.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void near_(double a, double b, double eps, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.15g != %.15g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}
#define assert_near(a, b, eps) near_((double)(a), (double)(b), (eps), __FILE__, __LINE__)

/* Getis & Ord (1995) style check from the issue: band <= 15 on six points. */
static void test_published_example(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double x[] = {10, 20, 40, 15, 30, 30}, y[] = {10, 10, 10, 20, 20, 30};
    const double v[] = {2, 3, 3.2, 5, 8, 7};
    const double want[] = {-1.39727626, -0.28917762, 0.65064964,
                           -0.28917762, 1.23452088,  2.02424331};
    gw_weights_opts o = {.kind = GW_WEIGHTS_DISTANCE, .distance = 15};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_points(ctx, x, y, 6, &o, &w), GW_OK);
    double z[6];
    assert_int_equal(gw_gistar(ctx, w, v, NULL, 6, z), GW_OK);
    for (int i = 0; i < 6; i++) assert_near(z[i], want[i], 1e-8);
    gw_weights_destroy(w);
    gw_ctx_destroy(ctx);
}

#define LON0 115.40
#define LAT0 35.20
#define STEP 0.01

static unsigned char *square_wkb(gw_ctx *ctx, double x0, double y0, double x1, double y1,
                                 size_t *len)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSGeometry *g = GEOSGeom_createRectangle_r(h, x0, y0, x1, y1);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    unsigned char *wkb = GEOSWKBWriter_write_r(h, w, g, len);
    GEOSWKBWriter_destroy_r(h, w);
    GEOSGeom_destroy_r(h, g);
    return wkb;
}

/* A 3x3 lattice of grids "G<i><j>" (column i, row j), population 1000*(j+1) except G22 = 0,
 * the right column shifted east by `gap` degrees; incidents[k] of them in grid k = 3*i+j. */
static gw_store *lattice_store(gw_ctx *ctx, const char *name, double gap, const int *incidents)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path(name), GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(LON0, LAT0)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            char id[32];
            snprintf(id, sizeof id, "G%d%d", i, j);
            int64_t pop = (i == 2 && j == 2) ? 0 : 1000 * (j + 1);
            gw_value v[10] = {{GW_VAL_TEXT, id, 0, 0},    {GW_VAL_NULL, 0, 0, 0},
                              {GW_VAL_NULL, 0, 0, 0},     {GW_VAL_NULL, 0, 0, 0},
                              {GW_VAL_INT, NULL, pop, 0}, {GW_VAL_NULL, 0, 0, 0},
                              {GW_VAL_NULL, 0, 0, 0},     {GW_VAL_NULL, 0, 0, 0}};
            double sh = i == 2 ? gap : 0;
            size_t len;
            unsigned char *wkb = square_wkb(ctx, LON0 + i * STEP + sh, LAT0 + j * STEP,
                                            LON0 + (i + 1) * STEP + sh, LAT0 + (j + 1) * STEP,
                                            &len);
            gw_feature f = {v, wkb, len, 0, 0};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
            GEOSFree_r(gw_ctx_geos(ctx), wkb);
        }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    int seq = 0;
    for (int k = 0; incidents && k < 9; k++)
        for (int m = 0; m < incidents[k]; m++) {
            char id[32];
            snprintf(id, sizeof id, "I%04d", seq++);
            int i = k / 3, j = k % 3;
            gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0},
                             {GW_VAL_INT, NULL, 1735660800 + m * 3600, 0},
                             {GW_VAL_TEXT, m % 2 ? "theft" : "fight", 0, 0},
                             {GW_VAL_INT, NULL, 1 + m % 5, 0},
                             {GW_VAL_NULL, 0, 0, 0},
                             {GW_VAL_NULL, 0, 0, 0},
                             {GW_VAL_NULL, 0, 0, 0},
                             {GW_VAL_NULL, 0, 0, 0}};
            gw_feature f = {v, NULL, 0, LON0 + (i + 0.3 + 0.04 * m) * STEP + (i == 2 ? gap : 0),
                            LAT0 + (j + 0.5) * STEP};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
        }
    gw_inserter_destroy(ins);
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        assert_int_equal(gw_store_log_change(s, (gw_layer)l, "import", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

static size_t nb_count(const gw_weights *w, const gw_layer_data *g, const char *id)
{
    size_t n;
    ptrdiff_t r = gw_layer_data_find(g, id);
    assert_true(r >= 0);
    gw_weights_neighbours(w, (size_t)r, &n);
    return n;
}

/* Values 9 in the centre and 0 elsewhere: mean 1, S = sqrt(8), n = 9, so
 * rook: centre 2/sqrt(5), edge sqrt(5)/2, corner -1/sqrt(2);
 * queen: centre W = n (null), edge 1/sqrt(2), corner sqrt(5)/2. */
static void test_lattice_closed_form(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = lattice_store(ctx, "lattice.sqlite", 0, NULL);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    assert_int_equal(gw_layer_data_count(g), 9);
    double x[9];
    for (size_t r = 0; r < 9; r++) x[r] = strcmp(gw_layer_data_id(g, r), "G11") == 0 ? 9 : 0;
    const char *ids[] = {"G11", "G01", "G00"};
    const double rook_z[] = {2 / sqrt(5), sqrt(5) / 2, -1 / sqrt(2)};
    const double queen_z[] = {NAN, 1 / sqrt(2), sqrt(5) / 2};
    const size_t rook_n[] = {4, 3, 2}, queen_n[] = {8, 5, 3};
    for (int kind = 0; kind < 2; kind++) {
        gw_weights_opts o = {.kind = kind ? GW_WEIGHTS_QUEEN : GW_WEIGHTS_ROOK, .snap = 0.01};
        gw_weights *w = NULL;
        assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
        assert_int_equal(gw_weights_links(w), kind ? 40 : 24);
        double z[9];
        assert_int_equal(gw_gistar(ctx, w, x, NULL, 9, z), GW_OK);
        for (int k = 0; k < 3; k++) {
            size_t r = (size_t)gw_layer_data_find(g, ids[k]);
            assert_int_equal(nb_count(w, g, ids[k]), kind ? queen_n[k] : rook_n[k]);
            double want = kind ? queen_z[k] : rook_z[k];
            if (isnan(want)) assert_true(isnan(z[r]));
            else assert_near(z[r], want, 1e-12);
        }
        gw_weights_destroy(w);
    }
    /* distance band on centroids: STEP in degrees is ~1.1 km north-south and ~0.9 km east-west
     * here, so a 1,200 m band is rook-like and a 1,500 m band queen-like. */
    gw_weights_opts o = {.kind = GW_WEIGHTS_DISTANCE, .distance = 1200};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    assert_int_equal(gw_weights_links(w), 24);
    gw_weights_destroy(w);
    o.distance = 1500;
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    assert_int_equal(gw_weights_links(w), 40);
    gw_weights_destroy(w);
    o = (gw_weights_opts){.kind = GW_WEIGHTS_KNN, .k = 2};
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    assert_int_equal(gw_weights_links(w), 18);
    /* the two nearest of the centre are its east-west neighbours (shorter spacing) */
    size_t nn;
    const uint32_t *nb = gw_weights_neighbours(w, (size_t)gw_layer_data_find(g, "G11"), &nn);
    assert_int_equal(nn, 2);
    assert_string_equal(gw_layer_data_id(g, nb[0]), "G01");
    assert_string_equal(gw_layer_data_id(g, nb[1]), "G21");
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* A 2e-8 degree gap (~2 mm) between columns 1 and 2: neighbours with a 1 cm snap, not with 0. */
static void test_snap_tolerance(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = lattice_store(ctx, "gap.sqlite", 2e-8, NULL);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    for (int kind = 0; kind < 2; kind++) {
        gw_weights_opts o = {.kind = kind ? GW_WEIGHTS_QUEEN : GW_WEIGHTS_ROOK, .snap = 0};
        gw_weights *w = NULL;
        assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
        assert_int_equal(nb_count(w, g, "G21"), 2); /* only G20 and G22, in its own column */
        gw_weights_destroy(w);
        o.snap = 0.01;
        assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
        assert_int_equal(nb_count(w, g, "G21"), kind ? 5 : 3);
        assert_int_equal(gw_weights_links(w), kind ? 40 : 24);
        gw_weights_destroy(w);
    }
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

static void test_parse(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_weights_opts o;
    assert_int_equal(gw_weights_parse(ctx, "queen", &o), GW_OK);
    assert_int_equal(o.kind, GW_WEIGHTS_QUEEN);
    assert_near(o.snap, 0.01, 0);
    assert_int_equal(gw_weights_parse(ctx, "rook,snap:0.5", &o), GW_OK);
    assert_int_equal(o.kind, GW_WEIGHTS_ROOK);
    assert_near(o.snap, 0.5, 0);
    assert_int_equal(gw_weights_parse(ctx, "distance:1500", &o), GW_OK);
    assert_near(o.distance, 1500, 0);
    assert_int_equal(gw_weights_parse(ctx, "knn:8", &o), GW_OK);
    assert_int_equal(o.k, 8);
    assert_int_equal(gw_weights_parse(ctx, "knn:0", &o), GW_ERR_ARG);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "knn:0"));
    assert_int_equal(gw_weights_parse(ctx, "distance:-3", &o), GW_ERR_ARG);
    assert_int_equal(gw_weights_parse(ctx, "hexagon", &o), GW_ERR_ARG);
    assert_int_equal(gw_weights_parse(ctx, "knn:3,snap:1", &o), GW_ERR_ARG);
    gw_hotspot_value hv;
    assert_int_equal(gw_hotspot_value_parse(ctx, "per_10k", &hv), GW_OK);
    assert_int_equal(hv, GW_HV_PER_10K);
    assert_int_equal(gw_hotspot_value_parse(ctx, "per_m2", &hv), GW_ERR_ARG);
    gw_ctx_destroy(ctx);
}

/* R: p.adjust(c(0.001, 0.04, 0.03, 0.5, NA, 0.2, 0.02), "BH") = .006 .06 .06 .5 NA .24 .06 */
static void test_fdr_bh(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double p[] = {0.001, 0.04, 0.03, 0.5, NAN, 0.2, 0.02};
    const double want[] = {0.006, 0.06, 0.06, 0.5, NAN, 0.24, 0.06};
    double q[7];
    assert_int_equal(gw_fdr_bh(ctx, p, 7, q), GW_OK);
    for (int i = 0; i < 7; i++) {
        if (isnan(want[i])) assert_true(isnan(q[i]));
        else assert_near(q[i], want[i], 1e-15);
    }
    assert_near(gw_pvalue_two_sided(1.959963984540054), 0.05, 1e-12);
    assert_near(gw_pvalue_two_sided(-2.5758293035489), 0.01, 1e-12);
    assert_int_equal(gw_hotspot_classify(2.0, 0.045), GW_HS_HOT_95);
    assert_int_equal(gw_hotspot_classify(-3.0, 0.002), GW_HS_COLD_99);
    assert_int_equal(gw_hotspot_classify(1.7, 0.09), GW_HS_HOT_90);
    assert_int_equal(gw_hotspot_classify(1.0, 0.3), GW_HS_NOT_SIGNIFICANT);
    assert_int_equal(gw_hotspot_classify(NAN, NAN), GW_HS_NO_NEIGHBOURS);
    assert_string_equal(gw_hotspot_class_name(GW_HS_NO_NEIGHBOURS), "no_neighbours");
    gw_ctx_destroy(ctx);
}

/* The whole pipeline on incidents: counts, filters, rates, isolated grids, classes. */
static void test_pipeline(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const int inc[9] = {0, 0, 0, 0, 9, 0, 0, 0, 0}; /* grid k = 3*i+j: G11 */
    gw_store *s = lattice_store(ctx, "pipe.sqlite", 0, inc);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    gw_weights_opts o = {.kind = GW_WEIGHTS_ROOK, .snap = 0.01};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    gw_hotspot_opts ho = {0};
    gw_hotspot_result *r = NULL;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    size_t c = (size_t)gw_layer_data_find(g, "G11"), e = (size_t)gw_layer_data_find(g, "G01");
    assert_near(r->count[c], 9, 0);
    assert_near(r->z[c], 2 / sqrt(5), 1e-12);
    assert_near(r->z[e], sqrt(5) / 2, 1e-12);
    assert_near(r->p[c], gw_pvalue_two_sided(2 / sqrt(5)), 1e-15);
    assert_int_equal(r->cls[c], GW_HS_NOT_SIGNIFICANT); /* 9 grids cannot be significant */
    gw_hotspot_result_destroy(r);
    /* filters: fights only (m even: 5 of 9), severity >= 3 (m%5 >= 2: 5 of 9), a time window */
    ho.filter.category = "fight";
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_near(r->count[c], 5, 0);
    gw_hotspot_result_destroy(r);
    ho.filter = (gw_incident_filter){.category = "burglary,theft"};
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_near(r->count[c], 4, 0);
    gw_hotspot_result_destroy(r);
    ho.filter = (gw_incident_filter){.severity_min = 3};
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_near(r->count[c], 5, 0);
    gw_hotspot_result_destroy(r);
    ho.filter = (gw_incident_filter){.has_from = 1,
                                     .from = 1735660800 + 3600,
                                     .has_to = 1,
                                     .to = 1735660800 + 3 * 3600};
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_near(r->count[c], 3, 0);
    gw_hotspot_result_destroy(r);
    /* per 10k residents: G22 has no population -> no_value, left out of the statistic */
    ho.filter = (gw_incident_filter){0};
    ho.value = GW_HV_PER_10K;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    size_t z22 = (size_t)gw_layer_data_find(g, "G22");
    assert_int_equal(r->cls[z22], GW_HS_NO_VALUE);
    assert_true(isnan(r->value[z22]) && isnan(r->z[z22]));
    assert_int_equal(r->n_no_value, 1);
    assert_near(r->value[c], 9.0 / 2000 * 1e4, 1e-9);
    gw_hotspot_result_destroy(r);
    /* per km²: the value divides by the metric area (~1 km² cells) */
    ho.value = GW_HV_PER_KM2;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    double a = 0;
    GEOSArea_r(gw_ctx_geos(ctx), gw_layer_data_geom(g, c, GW_MODEL_METRIC), &a);
    assert_near(r->value[c], 9 / (a / 1e6), 1e-9);
    assert_true(a > 0.8e6 && a < 1.2e6);
    gw_hotspot_result_destroy(r);
    gw_weights_destroy(w);
    /* knn:1 in a 2-unit island world: everyone has a neighbour; distance:10 m: nobody */
    o = (gw_weights_opts){.kind = GW_WEIGHTS_DISTANCE, .distance = 10};
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    ho.value = GW_HV_COUNT;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    assert_int_equal(r->n_no_neighbours, 9);
    assert_int_equal(r->cls[c], GW_HS_NO_NEIGHBOURS);
    assert_true(isnan(r->z[c]));
    gw_hotspot_result_destroy(r);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* PAI by hand: 30 of 100 incidents in 5 % of the area = 0.3 / 0.05 = 6; undefined without
 * incidents or without a flagged area. */
static void test_pai_formula(void **state)
{
    (void)state;
    assert_near(gw_pai(30, 100, 5, 100), 6, 1e-12);
    assert_near(gw_pai(1, 4, 2.5, 10), 1, 1e-12);
    assert_near(gw_pai(0, 4, 2.5, 10), 0, 1e-12);
    assert_true(isnan(gw_pai(3, 0, 1, 10)));
    assert_true(isnan(gw_pai(3, 10, 0, 10)));
}

/* The synthetic city: weights are symmetric for queen/rook/distance, rook ⊆ queen, every grid
 * of a gap-free tiling has a queen neighbour, and the city's planted hotspots come out hot. */
static void test_city(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("city.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 7};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(g);
    assert_true(n > 100);
    gw_weights *wq = NULL, *wr = NULL;
    gw_weights_opts oq = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01},
                    orr = {.kind = GW_WEIGHTS_ROOK, .snap = 0.01};
    assert_int_equal(gw_weights_from_grids(ctx, g, &oq, &wq), GW_OK);
    assert_int_equal(gw_weights_from_grids(ctx, g, &orr, &wr), GW_OK);
    assert_true(gw_weights_links(wr) <= gw_weights_links(wq));
    for (size_t i = 0; i < n; i++) {
        size_t k, kr;
        const uint32_t *nb = gw_weights_neighbours(wq, i, &k);
        const uint32_t *nr = gw_weights_neighbours(wr, i, &kr);
        assert_true(k >= 1);
        for (size_t a = 0; a < k; a++) { /* symmetric */
            size_t k2;
            const uint32_t *back = gw_weights_neighbours(wq, nb[a], &k2);
            int found = 0;
            for (size_t b = 0; b < k2; b++) found |= back[b] == i;
            assert_true(found);
        }
        for (size_t a = 0; a < kr; a++) { /* rook ⊆ queen */
            int found = 0;
            for (size_t b = 0; b < k; b++) found |= nb[b] == nr[a];
            assert_true(found);
        }
    }
    gw_hotspot_opts ho = {0};
    gw_hotspot_result *r = NULL;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, wq, NULL, &ho, &r), GW_OK);
    assert_true(r->n_hot > 0);
    double tot = 0;
    for (size_t i = 0; i < n; i++) tot += r->count[i];
    assert_true(tot > 0.9 * 20000);
    gw_hotspot_result_destroy(r);
    /* PAI: train on the first half of the year, score on July; the planted hotspots make the
     * flagged area predict far better than chance */
    const int64_t y0 = 1735660800; /* 2025-01-01T00:00+08:00, the city's year */
    gw_pai_opts po = {.train = {1, 1, y0, y0 + 181 * 86400 - 1},
                      .test = {1, 1, y0 + 181 * 86400, y0 + 212 * 86400 - 1},
                      .top = 0.05,
                      .cell = 200};
    gw_pai_row rows[GW_PAI_ROWS];
    assert_int_equal(gw_hotspot_evaluate(ctx, snap, wq, NULL, &po, rows), GW_OK);
    for (int k = 0; k < GW_PAI_ROWS; k++)
        print_message("pai %-6s %-7s %.2f flagged %zu area %.4f hits %.4f PAI %.3f\n",
                      rows[k].method, gw_hotspot_value_name(rows[k].value), rows[k].level,
                      rows[k].flagged, rows[k].area_share, rows[k].hit_share, rows[k].pai);
    assert_string_equal(rows[1].method, "gistar");
    assert_true(rows[1].flagged > 0 && rows[1].pai > 2); /* count, hot at >= 95 % */
    assert_true(rows[4].pai > 2);                        /* per_km2 */
    assert_string_equal(rows[9].method, "kde");
    assert_true(rows[9].pai > 3 && fabs(rows[9].area_share - 0.05) < 0.01);
    for (int k = 0; k < GW_PAI_ROWS; k++)
        assert_true(rows[k].test_total > 500 && rows[k].test_total < 3000);
    gw_weights_destroy(wq);
    gw_weights_destroy(wr);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* ---- the R cross-check (bench/hotspot_spdep.R): the --spdep groups, gated on Rscript + spdep --- */

#define HAVE_SPDEP "Rscript -e 'suppressPackageStartupMessages(library(spdep)); library(sf)'"
#define NO_SPDEP "Rscript with spdep and sf not found (Debian: r-cran-spdep r-cran-sf)"

/* Gi* on the store's grids and incidents, then spdep::localG on the same values and neighbours
 * (and poly2nb on the exported polygons): z equal to 1e-9. */
static void spdep_check(gw_ctx *ctx, gw_store *s, const char *tag, gw_hotspot_value value)
{
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    gw_weights_opts o = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(ctx, g, &o, &w), GW_OK);
    gw_hotspot_opts ho = {.value = value};
    gw_hotspot_result *r = NULL;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, &ho, &r), GW_OK);
    char vals[512], nbs[600], out[600], gpkg[600], cmd[4096];
    snprintf(vals, sizeof vals, "%s", gw_test_path(tag));
    snprintf(nbs, sizeof nbs, "%s.nb.csv", vals);
    snprintf(out, sizeof out, "%s.out.csv", vals);
    snprintf(gpkg, sizeof gpkg, "%s.gpkg", vals);
    strcat(vals, ".values.csv");
    FILE *f = fopen(vals, "w"), *fn = fopen(nbs, "w");
    assert_true(f && fn);
    fputs("id,count,value,z,p,class\n", f);
    fputs("id,neighbour\n", fn);
    for (size_t i = 0; i < r->n; i++) {
        fprintf(f, "%s,%.0f,", gw_layer_data_id(g, i), r->count[i]);
        if (!isnan(r->value[i])) fprintf(f, "%.17g", r->value[i]);
        fputc(',', f);
        if (!isnan(r->z[i])) fprintf(f, "%.17g", r->z[i]);
        fprintf(f, ",%.17g,%s\n", r->p[i], gw_hotspot_class_name(r->cls[i]));
        size_t k;
        const uint32_t *nb = gw_weights_neighbours(w, i, &k);
        for (size_t j = 0; j < k; j++)
            fprintf(fn, "%s,%s\n", gw_layer_data_id(g, i), gw_layer_data_id(g, nb[j]));
    }
    fclose(f);
    fclose(fn);
    int64_t nexp = 0;
    assert_int_equal(gw_io_export(ctx, s, GW_LAYER_GRIDS, gpkg, NULL, &nexp), GW_OK);
    snprintf(cmd, sizeof cmd, "Rscript %s/bench/hotspot_spdep.R %s %s %s %s %d 0.01 1 >&2",
             GW_SOURCE_DIR, vals, nbs, out, gpkg, gw_model_metric_srid(m));
    fprintf(stderr, "[%s] %s\n", tag, cmd);
    assert_int_equal(system(cmd), 0);
    /* and compare here too, not only by the script's exit code */
    f = fopen(out, "r");
    assert_non_null(f);
    char line[512];
    size_t compared = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        *c1 = *c2 = '\0';
        ptrdiff_t row = gw_layer_data_find(g, line);
        assert_true(row >= 0);
        if (isnan(r->z[row])) continue;
        assert_near(strtod(c1 + 1, NULL), r->z[row], 1e-9);
        compared++;
    }
    fclose(f);
    assert_true(compared > r->n / 2);
    gw_hotspot_result_destroy(r);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
}

static void test_spdep_city(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("rcity.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 3};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    spdep_check(ctx, s, "rcity10k",
                GW_HV_PER_10K); /* per resident: grids without population left out */
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* The real Chicago police beats with the real 2018 H1 crimes. */
static void test_spdep_chicago(void **state)
{
    (void)state;
    const char *beats = gw_test_real_file("chicago/police_beats.geojson");
    const char *crimes = gw_test_real_file("chicago/crimes_2018H1.csv");
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("chicago.sqlite"), GW_STORE_CREATE, &s),
                     GW_OK);
    gw_import_opts gi = {.map = "id=beat_num"};
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_GRIDS, beats, &gi, NULL), GW_OK);
    gw_import_opts ci = {.map = "occurred_at=date,category=primary_type",
                         .tz = "America/Chicago",
                         .skip_bad_rows = 1};
    gw_import_report rep = {0};
    assert_int_equal(gw_io_import(ctx, s, GW_LAYER_INCIDENTS, crimes, &ci, &rep), GW_OK);
    assert_true(rep.imported > 120000);
    spdep_check(ctx, s, "chicago", GW_HV_COUNT);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

/* The state's answer equals a full gw_hotspot_gistar on the same snapshot: counts exactly,
 * z to the last bit, the same classes; and its incident grids equal gw_hotspot_incident_grids. */
static void expect_full(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                        const gw_hotspot_opts *ho, const gw_hotspot_result *r,
                        const gw_hotspot_state *hs)
{
    gw_hotspot_result *f = NULL;
    assert_int_equal(gw_hotspot_gistar(ctx, snap, w, NULL, ho, &f), GW_OK);
    assert_int_equal(r->n, f->n);
    for (size_t i = 0; i < r->n; i++) {
        assert_true(r->count[i] == f->count[i]);
        assert_true((isnan(r->z[i]) && isnan(f->z[i])) || r->z[i] == f->z[i]);
        assert_true((isnan(r->q[i]) && isnan(f->q[i])) || r->q[i] == f->q[i]);
        assert_int_equal(r->cls[i], f->cls[i]);
    }
    assert_int_equal(r->n_hot, f->n_hot);
    assert_int_equal(r->n_cold, f->n_cold);
    gw_hotspot_result_destroy(f);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    size_t n = 0, ni = gw_layer_data_count(inc);
    const int32_t *rows = gw_hotspot_state_incident_grids(hs, &n);
    int32_t *want = malloc(ni * sizeof *want);
    assert_int_equal(n, ni);
    assert_int_equal(gw_hotspot_incident_grids(ctx, gw_snapshot_layer(snap, GW_LAYER_GRIDS), inc,
                                               want),
                     GW_OK);
    assert_memory_equal(rows, want, ni * sizeof *want);
    free(want);
}

/* gw_hotspot_state against the full run after inserts (with and without a grid), a move, a
 * category change and a delete, each committed and refreshed into the model (patched): every
 * update after the first is incremental, and gw_layer_data_match finds exactly the rows. */
static void test_state_incremental(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("inc.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.01, .seed = 5};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    gw_weights_opts oq = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(ctx, gw_snapshot_layer(snap, GW_LAYER_GRIDS), &oq, &w),
                     GW_OK);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    double lon = gw_layer_data_x(inc, GW_MODEL_LONLAT)[7],
           lat = gw_layer_data_y(inc, GW_MODEL_LONLAT)[7];
    char a[32], b[32];
    snprintf(a, sizeof a, "%s", gw_layer_data_id(inc, 3));
    snprintf(b, sizeof b, "%s", gw_layer_data_id(inc, 11));
    gw_hotspot_opts opts[2] = {{.value = GW_HV_PER_KM2},
                               {.value = GW_HV_COUNT, .filter = {.category = "theft"}}};
    gw_hotspot_state *hs[2];
    gw_hotspot_result *r = NULL;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(gw_hotspot_state_create(ctx, &opts[k], &hs[k]), GW_OK);
        assert_int_equal(gw_hotspot_state_update(ctx, hs[k], snap, w, &r), GW_OK);
        expect_full(ctx, snap, w, &opts[k], r, hs[k]);
        gw_hotspot_result_destroy(r);
    }
    char json[512];
    const char *const fmt =
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":"
        "\"Point\",\"coordinates\":[%.7f,%.7f]},\"properties\":{\"category\":\"theft\",\"severity\":"
        "2,\"occurred_at\":\"2025-03-01T10:00:00+08:00\"}}]}";
    for (int step = 0; step < 4; step++) {
        gw_edit_result er = {0};
        size_t want = 0;
        if (step == 0) { /* an insert: one new row */
            snprintf(json, sizeof json, fmt, lon, lat);
            assert_int_equal(gw_edit_insert(s, GW_LAYER_INCIDENTS, json, strlen(json), NULL, &er),
                             GW_OK);
            want = 1;
        } else if (step == 1) { /* a move far away: the row changes */
            snprintf(json, sizeof json,
                     "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}", lon + 0.02,
                     lat + 0.01);
            assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, a, json, strlen(json), NULL, &er),
                             GW_OK);
            want = 2;
        } else if (step == 2) { /* a category: in the filtered run only */
            snprintf(json, sizeof json, "{\"properties\":{\"category\":\"fraud\"}}");
            assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, b, json, strlen(json), NULL, &er),
                             GW_OK);
            want = 2;
        } else { /* a delete */
            assert_int_equal(gw_edit_delete(s, GW_LAYER_INCIDENTS, a, NULL, &er), GW_OK);
            want = 1;
        }
        gw_edit_result_free(&er);
        gw_model_refresh_info info;
        assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
        assert_true(info.patched & 1u << GW_LAYER_INCIDENTS);
        gw_model_snapshot *next = gw_model_acquire(m);
        const gw_layer_data *ni = gw_snapshot_layer(next, GW_LAYER_INCIDENTS);
        int32_t *map = malloc(gw_layer_data_count(ni) * sizeof *map);
        size_t changed = 0;
        assert_int_equal(gw_layer_data_match(ctx, gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), ni,
                                             UINT32_MAX, 1000, map, &changed),
                         GW_OK);
        assert_int_equal(changed, want);
        /* the map against a lookup by id: every mapped row is the same feature, and exactly the
         * inserted or rewritten rows are unmapped (the patched version answers from its lineage) */
        const gw_layer_data *pi = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
        size_t unmapped = 0;
        for (size_t j = 0; j < gw_layer_data_count(ni); j++) {
            ptrdiff_t i = gw_layer_data_find(pi, gw_layer_data_id(ni, j));
            if (map[j] < 0) unmapped++;
            else assert_int_equal(map[j], i);
        }
        assert_int_equal(unmapped, step == 3 ? 0 : 1);
        /* the rewritten rows alone, when no row came or went: the patched feature's row */
        size_t rw[4], nrw = 9;
        int same_rows = gw_layer_data_rewritten(pi, ni, rw, 4, &nrw);
        assert_int_equal(same_rows, step == 1 || step == 2);
        if (same_rows) {
            assert_int_equal(nrw, 1);
            assert_int_equal(rw[0], gw_layer_data_find(ni, step == 1 ? a : b));
            assert_int_equal(gw_layer_data_rewritten(pi, ni, rw, 0, &nrw), 0);
        }
        assert_int_equal(gw_layer_data_rewritten(ni, pi, rw, 4, &nrw), 0); /* not its parent */
        assert_int_equal(gw_layer_data_match(ctx, gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), ni,
                                             UINT32_MAX, want - 1, map, &changed),
                         GW_ERR_RANGE);
        gw_ctx_clear_error(ctx);
        free(map);
        gw_model_release(ctx, snap);
        snap = next;
        for (int k = 0; k < 2; k++) {
            assert_int_equal(gw_hotspot_state_update(ctx, hs[k], snap, w, &r), GW_OK);
            expect_full(ctx, snap, w, &opts[k], r, hs[k]);
            gw_hotspot_result_destroy(r);
            gw_hotspot_state_stats st = gw_hotspot_state_get_stats(hs[k]);
            assert_int_equal(st.full, 1);
            assert_int_equal(st.incremental, step + 1);
            /* the filtered run compares the category too; the default one only grid and place */
            assert_int_equal(st.last_changed, k == 0 && step == 2 ? 0 : want);
        }
    }
    /* switched off, the same update runs in full */
    gw_hotspot_state_set_incremental(hs[0], 0);
    assert_int_equal(gw_hotspot_state_update(ctx, hs[0], snap, w, &r), GW_OK);
    expect_full(ctx, snap, w, &opts[0], r, hs[0]);
    gw_hotspot_result_destroy(r);
    assert_int_equal(gw_hotspot_state_get_stats(hs[0]).full, 2);
    for (int k = 0; k < 2; k++) gw_hotspot_state_destroy(ctx, hs[k]);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_example),
        cmocka_unit_test(test_lattice_closed_form),
        cmocka_unit_test(test_snap_tolerance),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_fdr_bh),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_city),
        cmocka_unit_test(test_pai_formula),
        cmocka_unit_test(test_state_incremental),
    };
    const struct CMUnitTest spdep[] = {cmocka_unit_test(test_spdep_city)};
    const struct CMUnitTest spdep_real[] = {cmocka_unit_test(test_spdep_chicago)};
    static const char *const needs[] = {"chicago/police_beats.geojson", "chicago/crimes_2018H1.csv",
                                        NULL};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("hotspot", tests, NULL, NULL);
    if (strcmp(group, "--spdep") == 0) {
        if (!gw_test_need_tool(HAVE_SPDEP, NO_SPDEP)) return GW_TEST_SKIPPED;
        return cmocka_run_group_tests_name("hotspot_spdep", spdep, NULL, NULL);
    }
    if (strcmp(group, "--spdep-real") == 0) {
        int have_data = gw_test_need_real(needs), have_r = gw_test_need_tool(HAVE_SPDEP, NO_SPDEP);
        if (!have_data || !have_r) return GW_TEST_SKIPPED;
        return cmocka_run_group_tests_name("hotspot_spdep_real", spdep_real, NULL, NULL);
    }
    return gw_test_bad_group(group);
}
