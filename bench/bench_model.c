/* bench_model.c — load time and resident memory of the in-memory model at a given city scale,
 * plus the cost of a refresh after one committed incident and of the common reader queries.
 *
 * Usage: bench_model [store.sqlite] [scale]   (generates the synthetic city into the file
 * when it does not exist yet; default /tmp/gw_bench_model.sqlite, scale 1). */
#include "gridwatch/city.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds used by the whole process (all threads): a figure that does not depend on how
 * busy the shared machine is. */
static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* VmRSS of this process in MiB (0 when /proc is unavailable). */
static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atof(line + 6);
    if (f) fclose(f);
    return kb / 1024.0;
}

static int fail(gw_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_model: %s: %s\n", what, gw_ctx_errmsg(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/gw_bench_model.sqlite";
    double scale = argc > 2 ? atof(argv[2]) : 1.0;
    gw_ctx *ctx = NULL;
    gw_store *store = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return 1;
    int exists = access(path, F_OK) == 0;
    if (gw_store_open(ctx, path, GW_STORE_CREATE, &store)) return fail(ctx, path);
    if (!exists) {
        gw_city_opts o = {scale, 42, NULL, 0};
        gw_city_report rep;
        double t0 = now();
        if (gw_city_generate(ctx, store, &o, &rep)) return fail(ctx, "gen-city");
        printf("generated city scale %.2f in %.1f s: %lld grids, %lld cameras, %lld rooms, %lld teams, %lld incidents\n",
               scale, now() - t0, (long long)rep.grids, (long long)rep.cameras,
               (long long)rep.police_rooms, (long long)rep.teams, (long long)rep.incidents);
    }

    double rss0 = rss_mib(), t0 = now(), c0 = cpu();
    gw_model *m = NULL;
    if (gw_model_open(ctx, store, &m)) return fail(ctx, "model open");
    double load = now() - t0, cload = cpu() - c0, rss1 = rss_mib();
    gw_model_snapshot *s = gw_model_acquire(m);
    printf("model open: %.2f s wall, %.2f s CPU (2 threads), VmRSS +%.0f MiB (%.0f -> %.0f), metric EPSG:%d, seq %lld\n", load,
           cload, rss1 - rss0, rss0, rss1, gw_model_metric_srid(m), (long long)gw_snapshot_seq(s));
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        printf("  %-13s %zu rows\n", gw_layer_name((gw_layer)l),
               gw_layer_data_count(gw_snapshot_layer(s, (gw_layer)l)));

    /* reader queries: point-in-grid and 5 nearest teams at incident positions */
    const gw_layer_data *inc = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
    const gw_layer_data *grids = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    const gw_layer_data *teams = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    size_t n = gw_layer_data_count(inc), q = n < 100000 ? n : 100000, hits = 0;
    const double *x = gw_layer_data_x(inc, GW_MODEL_METRIC), *y = gw_layer_data_y(inc, GW_MODEL_METRIC);
    t0 = now();
    for (size_t i = 0; i < q; i++) {
        ptrdiff_t row;
        if (gw_layer_data_grid_at(ctx, grids, x[i], y[i], &row) == GW_OK && row >= 0) hits++;
    }
    double tg = now() - t0;
    t0 = now();
    for (size_t i = 0; i < q; i++) {
        size_t rows[5], got;
        gw_layer_data_nearest(teams, x[i], y[i], 5, 0, NULL, NULL, rows, NULL, &got);
    }
    double tn = now() - t0;
    if (q)
        printf("grid_at: %.2f us/query (%zu of %zu inside a grid); 5 nearest teams: %.2f us/query\n",
               tg / (double)q * 1e6, hits, q, tn / (double)q * 1e6);
    t0 = now();
    for (int i = 0; i < 1000000; i++) gw_model_release(ctx, gw_model_acquire(m));
    printf("acquire+release: %.0f ns\n", (now() - t0) * 1e3);
    gw_model_release(ctx, s);

    /* one committed incident, then refresh (reloads the incidents layer) */
    gw_inserter *ins = NULL;
    char id[32];
    snprintf(id, sizeof id, "BENCH-%ld", (long)time(NULL));
    gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0}, {GW_VAL_INT, NULL, 1735660800, 0},
                     {GW_VAL_TEXT, "bench", 0, 0}, {GW_VAL_INT, NULL, 3, 0},
                     {GW_VAL_NULL, NULL, 0, 0}, {GW_VAL_NULL, NULL, 0, 0}, {GW_VAL_NULL, NULL, 0, 0}};
    gw_feature f = {v, NULL, 0, 115.48, 35.24};
    if (gw_store_begin(store) || gw_store_inserter_create(store, GW_LAYER_INCIDENTS, &ins) ||
        gw_inserter_add(ins, &f) || gw_store_log_change(store, GW_LAYER_INCIDENTS, "insert", id, NULL, NULL) ||
        gw_store_commit(store))
        return fail(ctx, "insert");
    gw_inserter_destroy(ins);
    unsigned mask = 0;
    t0 = now();
    c0 = cpu();
    if (gw_model_refresh(ctx, m, store, &mask)) return fail(ctx, "refresh");
    printf("refresh after one incident: %.2f s wall, %.2f s CPU (reloaded mask 0x%x), VmRSS %.0f MiB\n",
           now() - t0, cpu() - c0, mask, rss_mib());
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}
