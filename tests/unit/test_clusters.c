/* test_clusters.c — the cluster scan against independent references: the LLR by hand; the
 * scan's best zone against a brute-force evaluation of every circular zone (same zone, same
 * LLR to 1e-9); its Monte-Carlo p against the test's own replicas drawn another way (within
 * Monte-Carlo error); thread-count independence; the permutation (pool) replicas; the trend
 * rules on hand-made series; and the whole analysis on a generated city. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/clusters.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c = 10, e = 4, C = 100: 10 ln(2.5) + 90 ln(90/96) */
static void test_llr_by_hand(void **state)
{
    (void)state;
    double want = 10 * log(2.5) + 90 * log(90.0 / 96.0);
    assert_true(fabs(gw_scan_llr(10, 4, 100) - want) < 1e-12);
    assert_true(gw_scan_llr(4, 4, 100) == 0);
    assert_true(gw_scan_llr(3, 4, 100) == 0);
    assert_true(fabs(gw_scan_llr(100, 40, 100) - 100 * log(2.5)) < 1e-12);
}

static uint64_t rs = 12345;
static double urand(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return (double)(rs >> 11) * 0x1.0p-53;
}
static double poisson(double m)
{
    double L = exp(-m), p = 1;
    int k = 0;
    do k++, p *= urand();
    while (p > L);
    return k - 1;
}

typedef struct small {
    size_t nx, ny;
    double cell;
    uint8_t in[400];
    double count[400], expected[400];
} small;

/* A 20 × 16 lattice of 100-m cells, a corner outside the study area, expected 0.5–3 per cell,
 * Poisson counts, and a planted excess of `boost` around cell (12, 7). */
static void make_small(small *s, double boost)
{
    s->nx = 20, s->ny = 16, s->cell = 100;
    for (size_t j = 0; j < s->ny; j++)
        for (size_t i = 0; i < s->nx; i++) {
            size_t k = j * s->nx + i;
            s->in[k] = !(i < 4 && j < 3);
            s->expected[k] = s->in[k] ? 0.5 + 2.5 * urand() : 0;
            double d = hypot((double)i - 12, (double)j - 7);
            s->count[k] = s->in[k] ? poisson(s->expected[k] * (d <= 2.3 ? boost : 1)) : 0;
        }
}

/* The best zone by brute force: every centre, every radius that is a distance to some cell. */
static gw_scan_zone brute_best(const small *s, const double *count, double max_r, double min_rr)
{
    double C = 0, E = 0;
    for (size_t k = 0; k < s->nx * s->ny; k++)
        if (s->in[k]) C += count[k], E += s->expected[k];
    gw_scan_zone best = {0};
    for (size_t c = 0; c < s->nx * s->ny; c++) {
        if (!s->in[c]) continue;
        double cx = (double)(c % s->nx), cy = (double)(c / s->nx);
        for (size_t q = 0; q < s->nx * s->ny; q++) { /* candidate radius: distance to q */
            double r = s->cell * hypot((double)(q % s->nx) - cx, (double)(q / s->nx) - cy);
            if (r > max_r + 1e-9) continue;
            double oc = 0, oe = 0;
            size_t cells = 0;
            for (size_t m = 0; m < s->nx * s->ny; m++)
                if (s->cell * hypot((double)(m % s->nx) - cx, (double)(m / s->nx) - cy) <= r + 1e-9)
                    oc += count[m], oe += s->expected[m] * C / E, cells++;
            if (oc < 2 || !(oc > oe)) continue;
            double rr = C - oc > 0 ? (oc / oe) / ((C - oc) / (C - oe)) : INFINITY;
            if (min_rr > 0 && rr < min_rr) continue;
            double llr = oc * log(oc / oe) + (C - oc > 0 ? (C - oc) * log((C - oc) / (C - oe)) : 0);
            if (llr > best.llr + 1e-12)
                best = (gw_scan_zone){
                    .centre = c, .radius = r, .cells = cells, .c = oc, .e = oe, .llr = llr};
        }
    }
    return best;
}

static void test_brute_force(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    for (int round = 0; round < 6; round++) {
        small s;
        make_small(&s, round < 3 ? 3.0 : 1.0); /* planted, then pure noise */
        double max_r = round % 3 == 0 ? 250 : round % 3 == 1 ? 400 : 100;
        double min_rr = round == 1 ? 1.5 : 0;
        gw_lattice lat = {.nx = s.nx,
                          .ny = s.ny,
                          .cell = s.cell,
                          .in = s.in,
                          .count = s.count,
                          .expected = s.expected};
        gw_scan_opts o = {.max_radius = max_r, .min_rr = min_rr};
        gw_scan_zone *z = NULL;
        size_t n = 0;
        assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z, &n, NULL), GW_OK);
        gw_scan_zone b = brute_best(&s, s.count, max_r, min_rr);
        print_message(
            "round %d: scan centre %zu r %.1f LLR %.12f; brute centre %zu r %.1f LLR %.12f\n",
            round, n ? z[0].centre : 0, n ? z[0].radius : 0, n ? z[0].llr : 0, b.centre, b.radius,
            b.llr);
        assert_true(n >= 1);
        assert_int_equal(z[0].centre, b.centre);
        assert_true(fabs(z[0].radius - b.radius) < 1e-9);
        assert_int_equal(z[0].cells, b.cells);
        assert_true(fabs(z[0].llr - b.llr) <= 1e-9 * fmax(1, b.llr));
        assert_true(isnan(z[0].p));
        for (size_t i = 1; i < n; i++) { /* ranked, and no two circles meet */
            assert_true(z[i].llr <= z[i - 1].llr);
            for (size_t k = 0; k < i; k++) {
                double dx = s.cell * ((double)(z[i].centre % s.nx) - (double)(z[k].centre % s.nx)),
                       dy = s.cell * ((double)(z[i].centre / s.nx) - (double)(z[k].centre / s.nx));
                assert_true(hypot(dx, dy) > z[i].radius + z[k].radius);
            }
        }
        free(z);
    }
    gw_ctx_destroy(ctx);
}

/* p: the scan's replicas (alias table) against the test's own (inverse CDF), each with R
 * replicas; the two estimates differ by a sd of √(2 p (1 − p) / R). */
static void test_pvalue_reference(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    small s;
    rs = 777;
    make_small(&s, 1.25); /* a weak cluster: p neither 0 nor 1 */
    const int R = 399;
    gw_lattice lat = {.nx = s.nx,
                      .ny = s.ny,
                      .cell = s.cell,
                      .in = s.in,
                      .count = s.count,
                      .expected = s.expected};
    gw_scan_opts o = {.max_radius = 250, .replications = R, .seed = 9, .threads = 2};
    gw_scan_zone *z = NULL;
    size_t n = 0;
    double *null = NULL;
    assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z, &n, &null), GW_OK);
    assert_true(n >= 1);
    for (int i = 1; i < R; i++) assert_true(null[i - 1] <= null[i]);
    double C = 0, cum[400], tot = 0;
    size_t N = s.nx * s.ny;
    for (size_t k = 0; k < N; k++) C += s.count[k], tot += s.expected[k], cum[k] = tot;
    int ge = 0;
    double cnt[400];
    for (int r = 0; r < R; r++) {
        memset(cnt, 0, sizeof cnt);
        for (int m = 0; m < (int)C; m++) {
            double u = urand() * tot;
            size_t lo = 0, hi = N - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cum[mid] > u) hi = mid;
                else lo = mid + 1;
            }
            cnt[lo] += 1;
        }
        ge += brute_best(&s, cnt, 250, 0).llr >= z[0].llr;
    }
    double pref = (ge + 1.0) / (R + 1), pp = (pref + z[0].p) / 2, sd = sqrt(2 * pp * (1 - pp) / R);
    print_message("LLR %.3f: p %.4f, reference p %.4f, sd %.4f\n", z[0].llr, z[0].p, pref, sd);
    assert_true(pp > 0.01 && pp < 0.99);
    assert_true(fabs(pref - z[0].p) <= 4 * sd + 1.0 / R);
    /* the same replicas on 1 and 3 threads */
    gw_scan_zone *z1 = NULL, *z3 = NULL;
    size_t n1 = 0, n3 = 0;
    o.threads = 1;
    assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z1, &n1, NULL), GW_OK);
    o.threads = 3;
    assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z3, &n3, NULL), GW_OK);
    assert_int_equal(n1, n3);
    for (size_t i = 0; i < n1; i++) assert_true(z1[i].p == z3[i].p && z1[i].p == z[i].p);
    free(z), free(z1), free(z3), free(null);
    gw_ctx_destroy(ctx);
}

/* Permutation replicas: the recent counts are a subset of the pool; a planted recent excess
 * is significant, and a recent period that is a random subset is not. */
static void test_pool_replicas(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    size_t nx = 16, ny = 16, N = nx * ny, np = 0;
    double all[256] = {0}, recent[256] = {0}, ex[256];
    uint32_t pool[8192];
    rs = 4242;
    for (size_t k = 0; k < N; k++) {
        int c = (int)poisson(20);
        for (int m = 0; m < c; m++) {
            pool[np++] = (uint32_t)k, all[k] += 1;
            int planted = hypot((double)(k % nx) - 5, (double)(k / nx) - 9) <= 1.5;
            if (urand() < (planted ? 0.5 : 0.1)) recent[k] += 1;
        }
    }
    double C = np, CT = 0;
    for (size_t k = 0; k < N; k++) CT += recent[k];
    for (size_t k = 0; k < N; k++) ex[k] = all[k] * CT / C;
    gw_lattice lat = {.nx = nx, .ny = ny, .cell = 100, .count = recent, .expected = ex};
    gw_scan_opts o = {
        .max_radius = 200, .replications = 199, .seed = 3, .pool = pool, .pool_n = np};
    gw_scan_zone *z = NULL;
    size_t n = 0;
    assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z, &n, NULL), GW_OK);
    assert_true(n >= 1);
    print_message("planted recent: centre (%zu, %zu) p %.3f\n", z[0].centre % nx, z[0].centre / nx,
                  z[0].p);
    assert_true(hypot((double)(z[0].centre % nx) - 5, (double)(z[0].centre / nx) - 9) <= 2);
    assert_true(z[0].p <= 0.01);
    free(z);
    /* no planted excess: recent = a random 10 % */
    for (size_t k = 0; k < N; k++) recent[k] = 0;
    CT = 0;
    for (size_t i = 0; i < np; i++)
        if (urand() < 0.1) recent[pool[i]] += 1, CT += 1;
    for (size_t k = 0; k < N; k++) ex[k] = all[k] * CT / C;
    assert_int_equal(gw_scan_lattice(ctx, &lat, &o, &z, &n, NULL), GW_OK);
    print_message("random recent: best p %.3f\n", n ? z[0].p : 1.0);
    assert_true(n == 0 || z[0].p > 0.01);
    free(z);
    gw_ctx_destroy(ctx);
}

static void test_trend_rules(void **state)
{
    (void)state;
    double e[12], c[12];
    for (int t = 0; t < 12; t++) e[t] = 10;
    for (int t = 0; t < 12; t++) c[t] = 40 + (t % 3); /* hot throughout, no trend */
    assert_int_equal(gw_cluster_trend_classify(c, e, 12, 0.05, NULL), GW_CT_PERSISTENT);
    for (int t = 0; t < 12; t++) c[t] = t >= 9 ? 60 : 10; /* hot only in the last quarter */
    assert_int_equal(gw_cluster_trend_classify(c, e, 12, 0.05, NULL), GW_CT_NEW);
    for (int t = 0; t < 12; t++) c[t] = 25 + 5 * t; /* hot all along, rising */
    double z;
    assert_int_equal(gw_cluster_trend_classify(c, e, 12, 0.05, &z), GW_CT_INTENSIFYING);
    assert_true(z > 1.96);
    for (int t = 0; t < 12; t++) c[t] = t < 8 ? 80 - 8 * t : 10; /* fading out */
    assert_int_equal(gw_cluster_trend_classify(c, e, 12, 0.05, NULL), GW_CT_DIMINISHING);
    for (int t = 0; t < 12; t++) c[t] = t == 4 || t == 5 ? 70 : 10; /* a burst */
    assert_int_equal(gw_cluster_trend_classify(c, e, 12, 0.05, NULL), GW_CT_SPORADIC);
    assert_string_equal(gw_cluster_trend_name(GW_CT_NEW), "new");
    assert_string_equal(gw_cluster_trend_name(GW_CT_COUNT), "unknown");
}

/* A generated city in a fresh store, its model and a snapshot: the set-up of the city tests. */
typedef struct city_fx {
    gw_ctx *ctx;
    gw_store *s;
    gw_model *m;
    gw_model_snapshot *snap;
} city_fx;

static city_fx city_open(const char *file, double scale, uint64_t seed)
{
    city_fx f = {.ctx = gw_test_ctx()};
    assert_int_equal(gw_store_open(f.ctx, gw_test_path(file), GW_STORE_CREATE, &f.s), GW_OK);
    gw_city_opts co = {.scale = scale, .seed = seed};
    assert_int_equal(gw_city_generate(f.ctx, f.s, &co, NULL), GW_OK);
    assert_int_equal(gw_model_open(f.ctx, f.s, &f.m), GW_OK);
    f.snap = gw_model_acquire(f.m);
    return f;
}

static void city_close(city_fx *f)
{
    gw_model_release(f->ctx, f->snap);
    gw_model_close(f->m);
    gw_store_close(f->s);
    gw_ctx_destroy(f->ctx);
}

static void test_city(void **state)
{
    (void)state;
    city_fx fx = city_open("cl.sqlite", 0.02, 5);
    gw_ctx *ctx = fx.ctx;
    gw_model *m = fx.m;
    gw_model_snapshot *snap = fx.snap;
    gw_cluster_opts o = {.metric_srid = gw_model_metric_srid(m)};
    gw_cluster_result *r = NULL;
    assert_int_equal(gw_clusters_find(ctx, snap, NULL, &o, &r), GW_OK);
    print_message("%zu clusters, cell %.0f m, radius %.0f m, %.2f s\n", r->n, r->cell,
                  r->max_radius, r->seconds);
    assert_true(r->n >= 1);
    assert_true(r->cell >= 100 && r->cell <= 300);
    size_t ng = gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_GRIDS));
    int32_t *touch = calloc(ng, sizeof *touch);
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        assert_int_equal(c->rank, (int)i + 1);
        if (i) assert_true(c->llr <= r->c[i - 1].llr);
        assert_true(c->p <= 0.05 && c->rr >= 1.75 && c->incidents > c->expected);
        assert_true(c->radius > 0 && c->radius <= r->max_radius + 1e-9);
        assert_true(isfinite(c->lon) && isfinite(c->lat) && fabs(c->lat - 35.2) < 2);
        double sum = 0;
        for (int t = 0; t < r->steps; t++) sum += c->series[t];
        assert_true(fabs(sum - c->incidents) < 1e-9); /* every zone incident in one slice */
        assert_true(c->n_grids >= 1);
        for (size_t g = 0; g < c->n_grids; g++) touch[c->grids[g]]++;
        double xs[33], ys[33];
        assert_int_equal(gw_cluster_ring(ctx, r, c, 32, xs, ys), GW_OK);
        assert_true(xs[0] == xs[32] && fabs(ys[8] - c->lat) < 0.05);
    }
    for (size_t g = 0; g < ng; g++) assert_int_equal(touch[g], r->grid_clusters[g]);
    /* all rings at once equal the rings one by one */
    double *ax = malloc(r->n * 33 * 2 * sizeof *ax), *ay = ax + r->n * 33, one[66];
    assert_int_equal(gw_cluster_rings(ctx, r, 32, ax, ay), GW_OK);
    for (size_t i = 0; i < r->n; i++) {
        assert_int_equal(gw_cluster_ring(ctx, r, &r->c[i], 32, one, one + 33), GW_OK);
        for (int k = 0; k < 33; k++)
            assert_true(fabs(ax[i * 33 + k] - one[k]) < 1e-12 &&
                        fabs(ay[i * 33 + k] - one[33 + k]) < 1e-12);
    }
    free(ax);
    /* one more incident at the top cluster's centre */
    double before = r->c[0].incidents;
    assert_true(gw_cluster_result_add_incident(r, r->c[0].x, r->c[0].y) >= 1);
    assert_true(r->c[0].incidents == before + 1);
    free(touch);
    gw_cluster_result_destroy(r);
    /* bad options are refused */
    o.cell = 1;
    assert_int_equal(gw_clusters_find(ctx, snap, NULL, &o, &r), GW_ERR_RANGE);
    o.cell = 0, o.alpha = 2;
    assert_int_equal(gw_clusters_find(ctx, snap, NULL, &o, &r), GW_ERR_ARG);
    city_close(&fx);
}

/* Gi* on a lattice (the benchmark's "lattice Gi*"): the cells of a 600-m lattice over a small
 * city, distance-band weights of 1 km, against spdep::localG on the same cells. */
static void test_spdep_lattice(void **state)
{
    (void)state;
    city_fx fx = city_open("lg.sqlite", 0.01, 2);
    gw_ctx *ctx = fx.ctx;
    gw_model_snapshot *snap = fx.snap;
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    const double *ix = gw_layer_data_x(inc, GW_MODEL_METRIC),
                 *iy = gw_layer_data_y(inc, GW_MODEL_METRIC);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY, cell = 600;
    for (size_t r = 0; r < gw_layer_data_count(inc); r++)
        minx = fmin(minx, ix[r]), miny = fmin(miny, iy[r]), maxx = fmax(maxx, ix[r]),
        maxy = fmax(maxy, iy[r]);
    size_t nx = (size_t)((maxx - minx) / cell) + 1, ny = (size_t)((maxy - miny) / cell) + 1, n = 0;
    long *unit = malloc(nx * ny * sizeof *unit);
    double *x = malloc(nx * ny * sizeof *x), *y = malloc(nx * ny * sizeof *y),
           *cnt = calloc(nx * ny, sizeof *cnt), *z = malloc(nx * ny * sizeof *z);
    for (size_t k = 0; k < nx * ny; k++) {
        double cx = minx + ((double)(k % nx) + 0.5) * cell,
               cy = miny + ((double)(k / nx) + 0.5) * cell;
        ptrdiff_t row = -1;
        assert_int_equal(gw_layer_data_grid_at(ctx, grids, cx, cy, &row), GW_OK);
        unit[k] = row >= 0 ? (long)n : -1;
        if (row >= 0) x[n] = cx, y[n] = cy, n++;
    }
    for (size_t r = 0; r < gw_layer_data_count(inc); r++) {
        size_t k = (size_t)((iy[r] - miny) / cell) * nx + (size_t)((ix[r] - minx) / cell);
        if (unit[k] >= 0) cnt[unit[k]] += 1;
    }
    gw_weights_opts wo = {.kind = GW_WEIGHTS_DISTANCE, .distance = 1000};
    gw_weights *w = NULL;
    assert_int_equal(gw_weights_from_points(ctx, x, y, n, &wo, &w), GW_OK);
    assert_int_equal(gw_gistar(ctx, w, cnt, NULL, n, z), GW_OK);
    const char *in = gw_test_path("lattice.csv"), *out = gw_test_path("lattice_z.txt");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fprintf(f, "x,y,count\n");
    for (size_t i = 0; i < n; i++) fprintf(f, "%.17g,%.17g,%.0f\n", x[i], y[i], cnt[i]);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "Rscript %s/bench/lattice_localg.R %s %s 1000 >&2", GW_SOURCE_DIR, in,
             out);
    assert_int_equal(system(cmd), 0);
    f = fopen(out, "r");
    assert_non_null(f);
    size_t got = 0, nan_both = 0;
    double dmax = 0, zr;
    char line[64];
    while (got < n && fgets(line, sizeof line, f)) {
        zr = strtod(line, NULL);
        if (isnan(z[got]) || isnan(zr)) nan_both += isnan(z[got]) && isnan(zr);
        else dmax = fmax(dmax, fabs(z[got] - zr));
        got++;
    }
    fclose(f);
    print_message("lattice Gi*: %zu cells, max |z - spdep| %.3g\n", n, dmax);
    assert_int_equal(got, n);
    assert_true(n > 1000);
    assert_true(dmax < 1e-9);
    gw_weights_destroy(w);
    free(unit), free(x), free(y), free(cnt), free(z);
    city_close(&fx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llr_by_hand),      cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_pvalue_reference), cmocka_unit_test(test_pool_replicas),
        cmocka_unit_test(test_trend_rules),      cmocka_unit_test(test_city),
    };
    const struct CMUnitTest spdep[] = {cmocka_unit_test(test_spdep_lattice)};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("clusters", tests, NULL, NULL);
    if (strcmp(group, "--spdep") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_tool("Rscript -e 'suppressPackageStartupMessages(library(spdep))'",
                           "Rscript with spdep not found (Debian: r-cran-spdep)"))
        return GW_TEST_SKIPPED;
    return cmocka_run_group_tests_name("clusters_spdep", spdep, NULL, NULL);
}
