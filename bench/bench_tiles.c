/* bench_tiles.c — uncached vector tile generation time per tile, straight through the renderer
 * (gw_tile_render over the in-memory model, no HTTP, no cache), for bench/bench_tiles.sh, which
 * sets it beside PostGIS ST_AsMVT on the same tiles.
 *
 * usage: bench_tiles DB TILES.txt [PASSES] [--scan] [--append N]
 * TILES.txt: one tile a line, "layer z x y" (layer: a tile layer name, e.g. grids, incidents).
 * One warm-up pass builds the per-snapshot lookup structures; then PASSES (default 3) timed
 * passes; prints "layer z x y ms bytes" per tile with the median of its passes.  --scan makes
 * cluster points from scans instead of the aggregate index (gw_tile_source_set_aggregates).
 * --append N (writes to DB: give it a copy) then inserts N incidents one commit at a time,
 * refreshes the model and renders the first tile after each, and reports on stderr how long
 * the aggregate index took to follow (median ms, and whether it was updated or rebuilt).
 * Build: cmake --build BUILD --target bench_tiles (or see bench_tiles.sh for a direct cc line). */
#include "gridwatch/common.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/mvt.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "gridwatch/tilelayers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TILES 4096
#define MAX_PASSES 15

typedef struct btile {
    char layer[32];
    uint32_t parts;
    gw_tile_id t;
    double ms[MAX_PASSES];
    size_t bytes;
} btile;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Read the tile list; returns the count, -1 on a bad line (message printed). */
static int read_tiles(gw_ctx *ctx, const char *path, btile *v, int cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_tiles: cannot open '%s'\n", path);
        return -1;
    }
    char line[256];
    int n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        btile *b = &v[n];
        unsigned z, x, y;
        gw_tile_layer tl;
        if (n >= cap || sscanf(line, "%31s %u %u %u", b->layer, &z, &x, &y) != 4 ||
            gw_tile_layer_from_name(ctx, b->layer, &tl) != GW_OK) {
            fprintf(stderr, "bench_tiles: %s:%d: want 'layer z x y' (%s)\n", path, lineno,
                    n >= cap ? "too many tiles" : gw_ctx_errmsg(ctx));
            fclose(f);
            return -1;
        }
        b->t = (gw_tile_id){z, x, y};
        if (gw_tile_check(ctx, b->t) != GW_OK) {
            fprintf(stderr, "bench_tiles: %s:%d: %s\n", path, lineno, gw_ctx_errmsg(ctx));
            fclose(f);
            return -1;
        }
        b->parts = gw_tile_layer_parts(tl);
        n++;
    }
    fclose(f);
    return n;
}

/* Insert n incidents one commit at a time; after each the model refresh and one render of t
 * (which brings the aggregate index up to date): the median of each on stderr. */
static int append_runs(gw_ctx *ctx, gw_store *st, gw_model *model, gw_tile_source *src, gw_mvt *mvt,
                       const btile *t, int n)
{
    double *ref = calloc((size_t)n, sizeof *ref), *agg = calloc((size_t)n, sizeof *agg);
    gw_model_snapshot *sn = gw_model_acquire(model);
    const gw_layer_data *d = gw_snapshot_layer(sn, GW_LAYER_INCIDENTS);
    double lon = gw_layer_data_x(d, GW_MODEL_LONLAT)[0],
           lat = gw_layer_data_y(d, GW_MODEL_LONLAT)[0];
    gw_model_release(ctx, sn);
    gw_tile_agg_stats a0, a1;
    gw_tile_source_stats(src, GW_LAYER_INCIDENTS, &a0);
    int rc = ref && agg ? 0 : 1;
    for (int i = 0; !rc && i < n; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":"
                 "{\"type\":\"Point\",\"coordinates\":[%.6f,%.6f]},\"properties\":{\"category\":"
                 "\"theft\",\"severity\":2,\"occurred_at\":\"2025-03-01T10:00:00Z\"}}]}",
                 lon + 0.0001 * i, lat);
        gw_edit_result er = {0};
        double a = now_ms();
        gw_status s = gw_edit_insert(st, GW_LAYER_INCIDENTS, json, strlen(json), NULL, &er);
        gw_edit_result_free(&er);
        if (!s) s = gw_model_refresh(ctx, model, st, NULL);
        double b = now_ms();
        sn = gw_model_acquire(model);
        const uint8_t *bytes;
        size_t len;
        if (!s) s = gw_tile_render(ctx, src, mvt, sn, t->parts, t->t, NULL, &bytes, &len);
        gw_model_release(ctx, sn);
        gw_tile_source_stats(src, GW_LAYER_INCIDENTS, &a1);
        ref[i] = b - a, agg[i] = a1.last_ms;
        if (s) fprintf(stderr, "bench_tiles: append: %s\n", gw_ctx_errmsg(ctx)), rc = 1;
    }
    if (!rc) {
        qsort(ref, (size_t)n, sizeof *ref, cmp_d);
        qsort(agg, (size_t)n, sizeof *agg, cmp_d);
        fprintf(stderr,
                "bench_tiles: %d inserts: insert + model refresh median %.1f ms; aggregate index "
                "median %.2f ms (max %.2f), %llu updates, %llu rebuilds\n",
                n, ref[n / 2], agg[n / 2], agg[n - 1],
                (unsigned long long)(a1.updates - a0.updates),
                (unsigned long long)(a1.builds - a0.builds));
    }
    free(ref), free(agg);
    return rc;
}

int main(int argc, char **argv)
{
    int passes = 3, scan = 0, append = 0, na = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--scan") == 0) scan = 1;
        else if (strcmp(argv[i], "--append") == 0 && i + 1 < argc) append = atoi(argv[++i]);
        else passes = atoi(argv[i]), na++;
    }
    if (argc < 3 || na > 1 || append < 0) {
        fprintf(stderr, "usage: bench_tiles DB TILES.txt [PASSES] [--scan] [--append N]\n");
        return 2;
    }
    if (passes < 1 || passes > MAX_PASSES) {
        fprintf(stderr, "bench_tiles: PASSES must be 1..%d\n", MAX_PASSES);
        return 2;
    }
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return 1;
    btile *tiles = calloc(MAX_TILES, sizeof *tiles);
    gw_store *st = NULL;
    gw_model *model = NULL;
    gw_tile_source *src = NULL;
    gw_mvt *mvt = NULL;
    gw_model_snapshot *snap = NULL;
    int rc = 1, n = tiles ? read_tiles(ctx, argv[2], tiles, MAX_TILES) : -1;
    if (n < 0) goto done;
    double t0 = now_ms();
    gw_status s = gw_store_open(ctx, argv[1], append ? 0 : GW_STORE_READONLY, &st);
    if (!s) s = gw_model_open(ctx, st, &model);
    if (!s) s = gw_tile_source_create(ctx, &src);
    if (!s && scan) gw_tile_source_set_aggregates(src, false);
    if (!s) s = gw_mvt_create(ctx, (gw_tile_id){0, 0, 0}, NULL, &mvt);
    if (s) {
        fprintf(stderr, "bench_tiles: %s: %s\n", argv[1], gw_ctx_errmsg(ctx));
        goto done;
    }
    snap = gw_model_acquire(model);
    fprintf(stderr, "bench_tiles: model loaded in %.1f s; %d tiles, 1 warm-up + %d timed passes\n",
            (now_ms() - t0) / 1e3, n, passes);
    for (int pass = -1; pass < passes; pass++) {
        for (int i = 0; i < n; i++) {
            const uint8_t *bytes;
            size_t len;
            double a = now_ms();
            s = gw_tile_render(ctx, src, mvt, snap, tiles[i].parts, tiles[i].t, NULL, &bytes, &len);
            double b = now_ms();
            if (s) {
                fprintf(stderr, "bench_tiles: %s %u/%u/%u: %s\n", tiles[i].layer, tiles[i].t.z,
                        tiles[i].t.x, tiles[i].t.y, gw_ctx_errmsg(ctx));
                goto done;
            }
            if (pass >= 0) tiles[i].ms[pass] = b - a;
            tiles[i].bytes = len;
        }
    }
    gw_tile_agg_stats as;
    gw_tile_source_stats(src, GW_LAYER_INCIDENTS, &as);
    fprintf(stderr, "bench_tiles: incidents aggregate index: %llu built (last %.1f ms)\n",
            (unsigned long long)as.builds, as.last_ms);
    if (append && append_runs(ctx, st, model, src, mvt, &tiles[0], append) != 0) goto done;
    for (int i = 0; i < n; i++) {
        qsort(tiles[i].ms, (size_t)passes, sizeof(double), cmp_d);
        printf("%s %u %u %u %.3f %zu\n", tiles[i].layer, tiles[i].t.z, tiles[i].t.x, tiles[i].t.y,
               tiles[i].ms[passes / 2], tiles[i].bytes);
    }
    rc = 0;
done:
    gw_model_release(ctx, snap);
    gw_mvt_destroy(mvt);
    gw_tile_source_destroy(src);
    gw_model_close(model);
    gw_store_close(st);
    free(tiles);
    gw_ctx_destroy(ctx);
    return rc;
}
