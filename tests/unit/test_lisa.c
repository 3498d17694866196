/* test_lisa.c — Local Moran's I: the statistic by hand on a chain, quadrants as esda's q, the
 * permutation p against exact enumeration of every neighbour set, seeded determinism, a planted
 * cluster found as HH, and agreement with R spdep::localmoran / localmoran_perm on the
 * synthetic city: the "--spdep" group, ctest entry "lisa_spdep", skipped (77) where Rscript
 * with spdep is absent. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/lisa.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_weights *chain(gw_ctx *ctx, size_t n)
{
    size_t *off = malloc((n + 1) * sizeof *off);
    uint32_t *idx = malloc(2 * n * sizeof *idx);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        off[i] = k;
        if (i > 0) idx[k++] = (uint32_t)(i - 1);
        if (i + 1 < n) idx[k++] = (uint32_t)(i + 1);
    }
    off[n] = k;
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_lists(ctx, n, off, idx, &w), GW_OK);
    free(off), free(idx);
    return w;
}

/* x = 1,2,3,4,10: mean 4, z = -3,-2,-1,0,6, m2 = 10; row-standardised lags -2,-2,-1,2.5,0. */
static void test_chain_by_hand(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_weights *w = chain(ctx, 5);
    const double x[5] = {1, 2, 3, 4, 10}, want[5] = {0.6, 0.4, 0.1, 0, 0};
    double I[5], p[5];
    uint8_t q[5], c[5];
    gw_lisa_opts o = {.permutations = 99, .seed = 1};
    assert_int_equal(gw_lisa(ctx, w, x, NULL, 5, &o, I, p, q, c), GW_OK);
    for (int i = 0; i < 5; i++) assert_true(fabs(I[i] - want[i]) < 1e-15);
    const uint8_t wq[5] = {3, 3, 3, 2,
                           4}; /* LL LL LL LH (z = 0 is not high) HL (lag 0 is not high) */
    assert_memory_equal(q, wq, 5);
    for (int i = 0; i < 5; i++) assert_true(p[i] >= 0.01 && p[i] <= 0.51);
    /* a unit left out: its neighbours average over the rest; too few units is an error */
    const uint8_t valid[5] = {1, 1, 1, 1, 0};
    assert_int_equal(gw_lisa(ctx, w, x, valid, 5, &o, I, NULL, NULL, c), GW_OK);
    assert_true(isnan(I[4]) && c[4] == GW_LISA_NO_VALUE);
    const uint8_t two[5] = {1, 1, 0, 0, 0};
    assert_int_equal(gw_lisa(ctx, w, x, two, 5, &o, I, NULL, NULL, NULL), GW_ERR_RANGE);
    const double flat[5] = {2, 2, 2, 2, 2};
    assert_int_equal(gw_lisa(ctx, w, flat, NULL, 5, &o, I, NULL, NULL, NULL), GW_ERR_RANGE);
    assert_string_equal(gw_lisa_class_name(GW_LISA_HH), "HH");
    gw_weights_destroy(w);
    gw_ctx_destroy(ctx);
}

/* Unit 0 with neighbours {1, 2} among 8: every one of the C(7,2) = 21 neighbour sets is equally
 * likely, so the folded p is known exactly; 20,000 permutations land within sampling error. */
static void test_permutation_exact(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const double x[8] = {9, 7, 3, 1, 4, 8, 2, 5};
    size_t off[9] = {0, 2, 3, 4, 4, 4, 4, 4, 4};
    uint32_t idx[4] = {1, 2, 0, 0};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_lists(ctx, 8, off, idx, &w), GW_OK);
    double I[8], p[8];
    gw_lisa_opts o = {.permutations = 20000, .seed = 42};
    assert_int_equal(gw_lisa(ctx, w, x, NULL, 8, &o, I, p, NULL, NULL), GW_OK);
    double mean = 0;
    for (int i = 0; i < 8; i++) mean += x[i] / 8;
    double m2 = 0;
    for (int i = 0; i < 8; i++) m2 += (x[i] - mean) * (x[i] - mean) / 8;
    int ge = 0, tot = 0;
    for (int a = 1; a < 8; a++)
        for (int b = a + 1; b < 8; b++) {
            double Ip = (x[0] - mean) / m2 * ((x[a] - mean) + (x[b] - mean)) / 2;
            ge += Ip >= I[0] - 1e-12, tot++;
        }
    double f = (double)ge / tot, folded = f < 0.5 ? f : 1 - f;
    print_message("exact folded share %.4f, permutation p %.4f\n", folded, p[0]);
    assert_true(fabs(p[0] - folded) < 0.015);
    /* same seed, same p; another seed, other draws */
    double p2[8], p3[8];
    assert_int_equal(gw_lisa(ctx, w, x, NULL, 8, &o, I, p2, NULL, NULL), GW_OK);
    assert_memory_equal(p, p2, sizeof p);
    o.seed = 43;
    assert_int_equal(gw_lisa(ctx, w, x, NULL, 8, &o, I, p3, NULL, NULL), GW_OK);
    assert_true(p3[0] != p[0]);
    assert_true(isnan(I[3]) && isnan(p3[3])); /* no neighbours */
    gw_weights_destroy(w);
    gw_ctx_destroy(ctx);
}

/* 12×12 rook lattice, noise plus a 4×4 block of high values: the block's inner cells are HH. */
static void test_planted_cluster(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    enum { S = 12, NN = S * S };
    size_t off[NN + 1], k = 0;
    uint32_t idx[4 * NN];
    double x[NN];
    uint64_t r = 0x12345;
    for (int i = 0; i < NN; i++) {
        int a = i / S, b = i % S;
        off[i] = k;
        if (a > 0) idx[k++] = (uint32_t)(i - S);
        if (b > 0) idx[k++] = (uint32_t)(i - 1);
        if (b < S - 1) idx[k++] = (uint32_t)(i + 1);
        if (a < S - 1) idx[k++] = (uint32_t)(i + S);
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        x[i] = (double)(r % 5) + ((a >= 4 && a < 8 && b >= 4 && b < 8) ? 20 : 0);
    }
    off[NN] = k;
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_lists(ctx, NN, off, idx, &w), GW_OK);
    double I[NN], p[NN];
    uint8_t c[NN];
    gw_lisa_opts o = {.seed = 7};
    assert_int_equal(gw_lisa(ctx, w, x, NULL, NN, &o, I, p, NULL, c), GW_OK);
    for (int a = 5; a < 7; a++)
        for (int b = 5; b < 7; b++) {
            assert_int_equal(c[a * S + b], GW_LISA_HH);
            assert_true(p[a * S + b] <= 0.01);
        }
    size_t hh = 0;
    for (int i = 0; i < NN; i++) hh += c[i] == GW_LISA_HH;
    assert_true(hh >= 4 && hh <= 16);
    gw_weights_destroy(w);
    gw_ctx_destroy(ctx);
}

/* R spdep on the synthetic city: I equal to 1e-9, permutation p within sampling error. */
static void test_spdep(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("lisa.sqlite"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 5};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(g);
    gw_weights_opts wo = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_grids(ctx, g, &wo, &w), GW_OK);
    double *x = malloc(n * sizeof *x), *I = malloc(n * sizeof *I), *p = malloc(n * sizeof *p);
    assert_int_equal(gw_hotspot_counts(ctx, g, gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), NULL,
                                       NULL, x),
                     GW_OK);
    gw_lisa_opts o = {.permutations = 999, .seed = 3};
    assert_int_equal(gw_lisa(ctx, w, x, NULL, n, &o, I, p, NULL, NULL), GW_OK);
    char vals[512], nbs[600], out[600], cmd[2400];
    snprintf(vals, sizeof vals, "%s", gw_test_path("lisa.values.csv"));
    snprintf(nbs, sizeof nbs, "%s", gw_test_path("lisa.nb.csv"));
    snprintf(out, sizeof out, "%s", gw_test_path("lisa.out.csv"));
    FILE *f = fopen(vals, "w"), *fn = fopen(nbs, "w");
    assert_true(f && fn);
    fputs("id,value,I,p\n", f);
    fputs("id,neighbour\n", fn);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s,%.17g,%.17g,%.17g\n", gw_layer_data_id(g, i), x[i], I[i], p[i]);
        size_t k;
        const uint32_t *nb = gw_weights_neighbours(w, i, &k);
        for (size_t j = 0; j < k; j++)
            fprintf(fn, "%s,%s\n", gw_layer_data_id(g, i), gw_layer_data_id(g, nb[j]));
    }
    fclose(f), fclose(fn);
    snprintf(cmd, sizeof cmd, "Rscript %s/bench/hotspot_lisa.R %s %s %s 999 >&2", GW_SOURCE_DIR,
             vals, nbs, out);
    fprintf(stderr, "%s\n", cmd);
    assert_int_equal(system(cmd), 0);
    f = fopen(out, "r");
    assert_non_null(f);
    char line[512];
    size_t cmp = 0, wide = 0;
    double dmax = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        *c1 = *c2 = '\0';
        ptrdiff_t row = gw_layer_data_find(g, line);
        assert_true(row >= 0);
        double Ir = strtod(c1 + 1, NULL), pr = strtod(c2 + 1, NULL);
        dmax = fmax(dmax, fabs(Ir - I[row]));
        /* two independent estimates of the same p: sd of the difference sqrt(2 p (1 - p) / R) */
        double pp = (pr + p[row]) / 2, sd = sqrt(2 * pp * (1 - pp) / 999);
        wide += fabs(pr - p[row]) > 4 * sd + 0.003;
        cmp++;
    }
    fclose(f);
    print_message("spdep: %zu units, max |dI| %.3g, p beyond 4 sd: %zu\n", cmp, dmax, wide);
    assert_int_equal(cmp, n);
    assert_true(dmax < 1e-9);
    assert_true(wide <= 1 + cmp / 500);
    free(x), free(I), free(p);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_by_hand),
        cmocka_unit_test(test_permutation_exact),
        cmocka_unit_test(test_planted_cluster),
    };
    const struct CMUnitTest spdep[] = {cmocka_unit_test(test_spdep)};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("lisa", tests, NULL, NULL);
    if (strcmp(group, "--spdep") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_tool("Rscript -e 'suppressPackageStartupMessages(library(spdep))'",
                           "Rscript with spdep not found (Debian: r-cran-spdep)"))
        return GW_TEST_SKIPPED;
    return cmocka_run_group_tests_name("lisa_spdep", spdep, NULL, NULL);
}
