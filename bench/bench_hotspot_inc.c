/* bench_hotspot_inc.c — how long after an incident POST the grid tiles carry its Gi* fields:
 * the whole app in process on a loopback port, N incidents POSTed one at a time over HTTP, and
 * for each the time from sending the POST until the grids tile over it (z12, decoded with GDAL)
 * shows its grid's gi_count one higher.  Run twice, the default Gi* run recomputed from scratch
 * (gw_hotspots_set_incremental(hs, 0)) and incrementally, side by side with their ratio.
 *
 * usage: bench_hotspot_inc DB [N]   (DB is modified: run it on a scratch copy of a gen-city DB) */
#include "app.h"
#include "auth.h"
#include "hotspot_http.h"
#include "http_util.h"
#include "server.h"
#include "tiles_http.h"

#include "gridwatch/tile.h"

#include <cpl_vsi.h>
#include <curl/curl.h>
#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char base[64], auth[GW_TOKEN_LEN + 32];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static size_t sink(char *p, size_t sz, size_t n, void *user)
{
    gw_buf_add(user, p, sz * n);
    return sz * n;
}

/* One request; the status, the body into *b (may be NULL). */
static long request(const char *method, const char *path, const char *body, gw_buf *b)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    gw_buf tmp = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b ? b : &tmp);
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/geo+json");
        h = curl_slist_append(h, auth);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    gw_buf_free(&tmp);
    return status;
}

/* gi_count of grid `gid` in the grids tile t (-1 when absent). */
static long long tile_count(gw_tile_id t, const char *gid)
{
    char path[128], ox[32], oy[32], oz[32];
    snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
    gw_buf b = {0};
    if (request("GET", path, NULL, &b) != 200) {
        gw_buf_free(&b);
        return -1;
    }
    VSIFCloseL(VSIFileFromMemBuffer("/vsimem/bench.pbf", (GByte *)b.data, b.len, FALSE));
    snprintf(ox, sizeof ox, "X=%u", t.x), snprintf(oy, sizeof oy, "Y=%u", t.y);
    snprintf(oz, sizeof oz, "Z=%u", t.z);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, oz, NULL};
    GDALDatasetH ds = GDALOpenEx("/vsimem/bench.pbf", GDAL_OF_VECTOR, drivers, opts, NULL);
    long long n = -1;
    OGRLayerH l = ds ? GDALDatasetGetLayerByName(ds, "grids") : NULL;
    OGRFeatureH ft;
    while (l && n < 0 && (ft = OGR_L_GetNextFeature(l)) != NULL) {
        int i = OGR_F_GetFieldIndex(ft, "id"), k = OGR_F_GetFieldIndex(ft, "gi_count");
        if (i >= 0 && k >= 0 && strcmp(OGR_F_GetFieldAsString(ft, i), gid) == 0)
            n = OGR_F_GetFieldAsInteger64(ft, k);
        OGR_F_Destroy(ft);
    }
    if (ds) GDALClose(ds);
    VSIUnlink("/vsimem/bench.pbf");
    gw_buf_free(&b);
    return n;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct target {
    double lon, lat;
    char gid[40];
    gw_tile_id t;
} target;

/* POST one incident per target; the seconds until its grid's tile count moved, into secs. */
static int run(gw_ctx *ctx, const target *tg, size_t n, double *secs)
{
    (void)ctx;
    for (size_t k = 0; k < n; k++) {
        long long before = tile_count(tg[k].t, tg[k].gid);
        char body[512];
        snprintf(
            body, sizeof body,
            "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]},"
            "\"properties\":{\"category\":\"theft\",\"severity\":2,"
            "\"occurred_at\":\"2025-06-01T10:00:00+08:00\",\"grid\":\"%s\"}}",
            tg[k].lon, tg[k].lat, tg[k].gid);
        double t0 = now();
        if (before < 0 || request("POST", "/collections/incidents/items", body, NULL) != 201) {
            fprintf(stderr, "bench_hotspot_inc: POST or tile failed\n");
            return 1;
        }
        long long c = before;
        while (c == before && now() - t0 < 60) c = tile_count(tg[k].t, tg[k].gid);
        secs[k] = now() - t0;
        if (c != before + 1) {
            fprintf(stderr, "bench_hotspot_inc: grid %s went %lld -> %lld\n", tg[k].gid, before, c);
            return 1;
        }
        usleep(200000); /* let the server settle between writes */
    }
    return 0;
}

static void summary(const char *name, double *s, size_t n, double *median)
{
    qsort(s, n, sizeof *s, cmp_d);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    *median = s[n / 2];
    printf("%-12s %10.1f %10.1f %10.1f %10.1f %10.1f\n", name, 1e3 * s[0], 1e3 * s[n / 2],
           1e3 * s[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1], 1e3 * sum / (double)n, 1e3 * s[n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_hotspot_inc DB [N]  (DB is modified: use a copy)\n");
        return 2;
    }
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 10;
    if (n < 1) n = 1;
    GDALAllRegister();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    gw_ctx *ctx = NULL;
    gw_store *st = NULL;
    char tok[GW_TOKEN_LEN + 1];
    if (gw_ctx_create(&ctx) || gw_store_open(ctx, argv[1], 0, &st) ||
        gw_auth_token_create(st, GW_ROLE_ADMIN, "bench_hotspot_inc", NULL, tok, NULL)) {
        fprintf(stderr, "bench_hotspot_inc: %s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    gw_store_close(st);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    double t0 = now();
    gw_app *app = NULL;
    gw_server *srv = NULL;
    gw_app_opts ao = {0};
    gw_server_opts o = {.db_path = argv[1], .threads = 4, .anonymous_read = 1, .quiet = 1};
    if (gw_app_create(ctx, argv[1], &ao, &app)) {
        fprintf(stderr, "bench_hotspot_inc: %s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    gw_app_configure(app, &o);
    if (gw_server_create(ctx, &o, &srv)) {
        fprintf(stderr, "bench_hotspot_inc: %s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)gw_server_port(srv));
    gw_tiles_fields_wait(app->tiles, 120000);
    gw_hotspots *hs = app->modules[GW_APP_HOTSPOTS];
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    size_t ni = gw_layer_data_count(inc);
    printf("%zu incidents, %zu grids; app ready in %.1f s\n", ni,
           gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_GRIDS)), now() - t0);
    target *tg = calloc(2 * n, sizeof *tg);
    double *secs = calloc(2 * n, sizeof *secs);
    int grid_f = gw_layer_field_index(GW_LAYER_INCIDENTS, "grid");
    for (size_t k = 0; k < 2 * n && ni; k++) {
        size_t r = (k * 7919 + 13) * (ni / (2 * n + 1) + 1) % ni;
        const char *g = gw_layer_data_text(inc, r, grid_f);
        tg[k].lon = gw_layer_data_x(inc, GW_MODEL_LONLAT)[r];
        tg[k].lat = gw_layer_data_y(inc, GW_MODEL_LONLAT)[r];
        snprintf(tg[k].gid, sizeof tg[k].gid, "%s", g ? g : "");
        gw_tile_from_lonlat(ctx, tg[k].lon, tg[k].lat, 12, &tg[k].t);
    }
    gw_model_release(ctx, snap);
    gw_hotspots_set_incremental(hs, 0);
    int bad = run(ctx, tg, n, secs);
    gw_hotspot_state_stats sf = gw_hotspots_default_stats(hs);
    gw_hotspots_set_incremental(hs, 1);
    if (!bad) bad = run(ctx, tg + n, n, secs + n);
    gw_hotspot_state_stats si = gw_hotspots_default_stats(hs);
    if (!bad) {
        double mf, mi;
        printf("POST -> grid tile's gi_count updated, %zu incidents each (ms)\n", n);
        printf("%-12s %10s %10s %10s %10s %10s\n", "Gi* run", "min", "median", "p90", "mean",
               "max");
        summary("full", secs, n, &mf);
        summary("incremental", secs + n, n, &mi);
        printf("ratio full/incremental (median): %.1fx\n", mf / mi);
        printf("default run itself: full %.1f ms, incremental %.2f ms (last of each; %llu full, "
               "%llu incremental runs)\n",
               1e3 * sf.last_seconds, 1e3 * si.last_seconds, (unsigned long long)si.full,
               (unsigned long long)si.incremental);
    }
    free(tg), free(secs);
    gw_server_destroy(srv);
    gw_app_destroy(app);
    gw_ctx_destroy(ctx);
    curl_global_cleanup();
    return bad;
}
