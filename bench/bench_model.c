/* bench_model.c — load time and resident memory of the in-memory model at a given city scale,
 * the common reader queries, and the cost of a refresh after one new incident and one moved
 * camera (the incremental path) beside a whole-layer reload of the same layers.
 *
 * Usage: bench_model [store.sqlite] [scale]   (generates the synthetic city into the file
 * when it does not exist yet; default /tmp/gw_bench_model.sqlite, scale 1).  It writes to the
 * store: run it on a copy of a generated city. */
#include "gridwatch/city.h"
#include "gridwatch/edit.h"
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

/* One refresh, timed (wall and process CPU), with what it did. */
static void refresh_timed(gw_ctx *ctx, gw_model *m, gw_store *store, const char *what)
{
    gw_model_refresh_info info;
    double t0 = now(), c0 = cpu();
    gw_status st = gw_model_refresh_ex(ctx, m, store, &info);
    double wall = now() - t0, c = cpu() - c0;
    if (st) {
        fprintf(stderr, "bench_model: refresh after %s: %s\n", what, gw_ctx_errmsg(ctx));
        return;
    }
    printf(
        "refresh after %-28s %8.1f ms wall, %8.1f ms CPU (replaced 0x%02x, patched 0x%02x), VmRSS %.0f MiB\n",
        what, wall * 1e3, c * 1e3, info.replaced, info.patched, rss_mib());
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
        gw_city_opts o = {.scale = scale, .seed = 42};
        gw_city_report rep;
        double t0 = now();
        if (gw_city_generate(ctx, store, &o, &rep)) return fail(ctx, "gen-city");
        printf(
            "generated city scale %.2f in %.1f s: %lld grids, %lld cameras, %lld rooms, %lld teams, %lld incidents\n",
            scale, now() - t0, (long long)rep.grids, (long long)rep.cameras,
            (long long)rep.police_rooms, (long long)rep.teams, (long long)rep.incidents);
    }

    double rss0 = rss_mib(), t0 = now(), c0 = cpu();
    gw_model *m = NULL;
    if (gw_model_open(ctx, store, &m)) return fail(ctx, "model open");
    double load = now() - t0, cload = cpu() - c0, rss1 = rss_mib();
    gw_model_snapshot *s = gw_model_acquire(m);
    printf(
        "model open: %.2f s wall, %.2f s CPU (2 threads), VmRSS +%.0f MiB (%.0f -> %.0f), metric EPSG:%d, seq %lld\n",
        load, cload, rss1 - rss0, rss0, rss1, gw_model_metric_srid(m),
        (long long)gw_snapshot_seq(s));
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        printf("  %-13s %zu rows\n", gw_layer_name((gw_layer)l),
               gw_layer_data_count(gw_snapshot_layer(s, (gw_layer)l)));

    /* reader queries: point-in-grid and 5 nearest teams at incident positions */
    const gw_layer_data *inc = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
    const gw_layer_data *grids = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    const gw_layer_data *teams = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    size_t n = gw_layer_data_count(inc), q = n < 100000 ? n : 100000, hits = 0;
    const double *x = gw_layer_data_x(inc, GW_MODEL_METRIC),
                 *y = gw_layer_data_y(inc, GW_MODEL_METRIC);
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
        printf(
            "grid_at: %.2f us/query (%zu of %zu inside a grid); 5 nearest teams: %.2f us/query\n",
            tg / (double)q * 1e6, hits, q, tn / (double)q * 1e6);
    t0 = now();
    for (int i = 0; i < 1000000; i++) gw_model_release(ctx, gw_model_acquire(m));
    printf("acquire+release: %.0f ns\n", (now() - t0) * 1e3);
    gw_model_release(ctx, s);

    /* Refresh after small commits: patched from the previous version (the incremental path),
     * then the same layer reloaded after a bulk change-log row, for comparison. */
    gw_edit_result er = {0};
    char id[48], json[512];
    const gw_layer_data *cams0 = NULL;
    s = gw_model_acquire(m);
    cams0 = gw_snapshot_layer(s, GW_LAYER_CAMERAS);
    char cam_id[64];
    snprintf(cam_id, sizeof cam_id, "%s",
             gw_layer_data_count(cams0) ? gw_layer_data_id(cams0, 0) : "");
    double cam_lon = gw_layer_data_count(cams0) ? gw_layer_data_x(cams0, GW_MODEL_LONLAT)[0] : 0;
    double cam_lat = gw_layer_data_count(cams0) ? gw_layer_data_y(cams0, GW_MODEL_LONLAT)[0] : 0;
    gw_model_release(ctx, s);
    for (int k = 0; k < 5; k++) {
        snprintf(id, sizeof id, "BENCH-%ld-%d", (long)time(NULL), k);
        snprintf(
            json, sizeof json,
            "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
            "\"coordinates\":[%.6f,%.6f]},\"properties\":{\"category\":\"bench\",\"severity\":3}}",
            id, cam_lon + 0.001 * k, cam_lat);
        if (gw_edit_insert(store, GW_LAYER_INCIDENTS, json, strlen(json), NULL, &er))
            return fail(ctx, "insert");
        gw_edit_result_free(&er);
        refresh_timed(ctx, m, store, "one new incident");
    }
    for (int k = 0; cam_id[0] && k < 5; k++) {
        snprintf(json, sizeof json,
                 "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[%.6f,%.6f]},\"properties\":{}}",
                 cam_lon + 0.0002 * (k + 1), cam_lat);
        if (gw_edit_patch(store, GW_LAYER_CAMERAS, cam_id, json, strlen(json), NULL, &er))
            return fail(ctx, "camera move");
        gw_edit_result_free(&er);
        refresh_timed(ctx, m, store, "one camera moved");
    }
    /* the same layers after a change-log row without a feature id: a whole-layer reload */
    if (gw_store_begin(store) ||
        gw_store_log_change(store, GW_LAYER_INCIDENTS, "update", NULL, NULL, NULL) ||
        gw_store_commit(store))
        return fail(ctx, "bulk log");
    refresh_timed(ctx, m, store, "bulk incidents row (reload)");
    if (gw_store_begin(store) ||
        gw_store_log_change(store, GW_LAYER_CAMERAS, "update", NULL, NULL, NULL) ||
        gw_store_commit(store))
        return fail(ctx, "bulk log");
    refresh_timed(ctx, m, store, "bulk cameras row (reload)");
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}
