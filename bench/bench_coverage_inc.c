/* bench_coverage_inc.c — incremental coverage latency: N random camera moves (new position
 * within ~200 m and a new azimuth), each committed through gw_edit_patch, the model refreshed
 * and the coverage brought up to date with its changed rows saved — what the server's live
 * listener does per change.  Prints the full compute, per-move median/p99 and peak memory, and
 * the time to build one grid's blind-spot polygons on request.
 *
 * usage: bench_coverage_inc DB [MOVES] [SEED]   (DB is modified: run it on a scratch copy) */
#include "gridwatch/coverage.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: bench_coverage_inc DB [MOVES] [SEED]  (DB is modified: use a copy)\n");
        return 2;
    }
    size_t moves = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 1000;
    srand(argc > 3 ? (unsigned)atoi(argv[3]) : 1);
    gw_ctx *ctx = NULL;
    gw_store *store = NULL;
    gw_model *model = NULL;
    gw_coverage *cov = NULL;
    if (gw_ctx_create(&ctx)) return 1;
    gw_coverage_opts o = {.min_blind_m2 = -1, .blind_spots = 1};
    double t0 = now();
    gw_status st = gw_store_open(ctx, argv[1], 0, &store);
    if (!st) st = gw_model_open(ctx, store, &model);
    double t1 = now();
    if (!st) st = gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov);
    double t2 = now();
    if (!st) st = gw_coverage_save(ctx, cov, store, NULL);
    if (st) {
        fprintf(stderr, "bench_coverage_inc: %s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    printf("%zu grids: model %.2f s, full compute %.2f s (2 threads)\n", gw_coverage_count(cov),
           t1 - t0, t2 - t1);
    gw_model_snapshot *snap = gw_model_acquire(model);
    const gw_layer_data *cams = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    size_t nc = gw_layer_data_count(cams);
    char **ids = malloc(nc * sizeof *ids);
    double *lon = malloc(nc * sizeof *lon), *lat = malloc(nc * sizeof *lat);
    double *tot = malloc(moves * sizeof *tot), *upd = malloc(moves * sizeof *upd);
    double *ucpu = malloc(moves * sizeof *ucpu), *ccpu = malloc(moves * sizeof *ccpu);
    for (size_t r = 0; r < nc; r++) {
        ids[r] = strdup(gw_layer_data_id(cams, r));
        lon[r] = gw_layer_data_x(cams, GW_MODEL_LONLAT)[r],
        lat[r] = gw_layer_data_y(cams, GW_MODEL_LONLAT)[r];
    }
    gw_model_release(ctx, snap);
    size_t grids = 0;
    for (size_t i = 0; i < moves && !st && nc; i++) {
        size_t r = (size_t)rand() % nc;
        double dx = ((double)rand() / RAND_MAX - 0.5) * 0.004,
               dy = ((double)rand() / RAND_MAX - 0.5) * 0.004;
        char json[256];
        snprintf(json, sizeof json,
                 "{\"type\":\"Feature\",\"properties\":{\"azimuth\":%d},\"geometry\":"
                 "{\"type\":\"Point\",\"coordinates\":[%.9f,%.9f]}}",
                 rand() % 360, lon[r] + dx, lat[r] + dy);
        gw_edit_result er = {0};
        double a = now();
        st = gw_edit_patch(store, GW_LAYER_CAMERAS, ids[r], json, strlen(json), NULL, &er);
        gw_edit_result_free(&er);
        if (!st) st = gw_model_refresh(ctx, model, store, NULL);
        double b = now(), bc = cpu_now();
        size_t nch = 0;
        if (!st) st = gw_coverage_update(ctx, cov, gw_model_acquire(model), &nch);
        double uc = cpu_now();
        if (!st && nch) st = gw_coverage_save(ctx, cov, store, gw_coverage_changed(cov));
        double c = now();
        tot[i] = (c - a) * 1000, upd[i] = (c - b) * 1000, grids += nch;
        ucpu[i] = (uc - bc) * 1000, ccpu[i] = (cpu_now() - bc) * 1000;
    }
    if (st) fprintf(stderr, "bench_coverage_inc: %s\n", gw_ctx_errmsg(ctx));
    else if (moves && nc) {
        qsort(tot, moves, sizeof *tot, cmp_d), qsort(upd, moves, sizeof *upd, cmp_d);
        qsort(ucpu, moves, sizeof *ucpu, cmp_d), qsort(ccpu, moves, sizeof *ccpu, cmp_d);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%zu camera moves, %.1f grids recomputed per move\n", moves, (double)grids / moves);
        printf("coverage update + save:          median %.2f ms, p99 %.2f ms\n",
               pct(upd, moves, 0.5), pct(upd, moves, 0.99));
        printf("  CPU time of the update alone:  median %.2f ms, p99 %.2f ms\n",
               pct(ucpu, moves, 0.5), pct(ucpu, moves, 0.99));
        printf("  CPU time of update + save:     median %.2f ms, p99 %.2f ms\n",
               pct(ccpu, moves, 0.5), pct(ccpu, moves, 0.99));
        printf("edit + model refresh + the same: median %.2f ms, p99 %.2f ms\n",
               pct(tot, moves, 0.5), pct(tot, moves, 0.99));
        printf("peak memory (max RSS): %.1f MB\n", ru.ru_maxrss / 1024.0);
    }
    /* Blind spots on request (a tile or GET /analysis/coverage/{grid}): random grids, built
     * (GEOS union and difference, lon/lat WKB) and kept. */
    size_t ng = gw_coverage_count(cov), nb = ng < 500 ? ng : 500;
    double *bt = malloc((nb + 1) * sizeof *bt);
    for (size_t i = 0; i < nb && !st && bt; i++) {
        size_t g = (size_t)rand() % ng;
        while (gw_coverage_blind_cached(cov, g)) g = (g + 1) % ng;
        gw_coverage_blind_spots b;
        double a = cpu_now();
        st = gw_coverage_blind(ctx, cov, g, &b);
        bt[i] = (cpu_now() - a) * 1000;
    }
    if (!st && bt && nb) {
        qsort(bt, nb, sizeof *bt, cmp_d);
        printf("blind spots of a grid on request (CPU, %zu grids): median %.2f ms, p99 %.2f ms\n",
               nb, pct(bt, nb, 0.5), pct(bt, nb, 0.99));
    }
    free(bt);
    for (size_t r = 0; r < nc; r++) free(ids[r]);
    free(ids), free(lon), free(lat), free(tot), free(upd), free(ucpu), free(ccpu);
    gw_coverage_destroy(ctx, cov);
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return st ? 1 : 0;
}
