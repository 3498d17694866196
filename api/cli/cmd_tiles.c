/* cmd_tiles.c — `gridwatch tiles`: render a pyramid of vector tiles offline into an MBTiles
 * file (SQLite: metadata + tiles, TMS rows, gzip'd MVT), for map walls or CDNs that serve
 * static tiles.
 *
 * The tiles are the live server's: the command builds the server's app on DB with only what the
 * chosen layers draw (app.h, tile_parts: a frozen model of the layers they read, and coverage,
 * Gi* hot spots and response figures, hot spot clusters as needed; stored coverage rows and
 * the stored cluster scan are read back), waits for its analysis, and renders every tile
 * through gw_tiles_render, the tile route's own path.  Only tiles inside the data extent are visited,
 * empty tiles are not written, tiles are rendered on --threads threads and written in one
 * transaction; the `json` metadata lists each layer at the zooms that hold it, with tilestats. */
#include "app.h"
#include "cli_util.h"
#include "commands.h"
#include "coverage_http.h"
#include "gridwatch/mbtiles.h"
#include "gridwatch/model.h"
#include "gridwatch/tilelayers.h"
#include "gridwatch/tilestats.h"
#include "http_util.h"
#include "tiles_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* zlib level of the stored tiles, measured on the 4,346 tiles of the scale-1 grids z8-14
 * (19.3 MB raw; docs/benchmarks.md part 3): level 1 10.67 MB in 0.34 CPU s, 3 10.55 MB 0.40 s,
 * 6 10.22 MB 0.57 s, 9 10.20 MB 0.89 s.  6 (the server's): 4 % fewer bytes to serve for ever
 * against 0.2 s once, 2 % of the run; 9 buys nothing more. */
#define GZ_LEVEL 6
#define CHUNK 8 /* tiles a worker takes at a time */

static const char tiles_usage[] = N_(
    "usage: gridwatch tiles DB OUT.mbtiles [--layers city] [--zoom 8-14] [--bbox W,S,E,N]\n"
    "                       [--threads N]\n"
    "\n"
    "Render the vector tiles of DB into a new MBTiles file: one tile per z/x/y holding the chosen\n"
    "layers (grids, police_rooms, cameras, teams, incidents, camera_views, blind_spots,\n"
    "hotspot_clusters, or city = all), gzip'd, for every zoom of the range, over the data extent\n"
    "(clipped to --bbox, lon/lat).  Each tile is the one `gridwatch serve DB` answers at\n"
    "/tiles/city/{z}/{x}/{y}.mvt (for --layers city): grids carry the coverage and Gi* hot spot\n"
    "fields (coverage rows are loaded from DB when current, else computed and stored as the\n"
    "server does) and the hot spot cluster fields, blind_spots from zoom 13, camera_views from\n"
    "zoom 15.  Empty tiles are not written; the metadata lists each layer with the zooms that\n"
    "hold it and Mapbox tilestats.  Loading DB and its analysis takes most of the time at\n"
    "scale 1; only what the layers draw is loaded and started, and the coverage rows, the hot\n"
    "spot cluster scan and the road reach shares stored by an earlier run (or the server) are\n"
    "read back.\n"
    "\n"
    "options:\n"
    "  --layers L[,L…]  tile layers (default city)\n"
    "  --zoom Z|Z0-Z1   zoom levels, 0-22 (default 8-14)\n"
    "  --bbox W,S,E,N   render only this lon/lat box of the data extent\n"
    "  --threads N      rendering threads (default: the cores, here %ld)\n");

static long cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static int parse_layers(const char *s, uint32_t *parts, char *names, size_t cap)
{
    *parts = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    names[0] = '\0';
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        gw_tile_layer l;
        if (gw_tile_layer_from_name(NULL, tok, &l) != GW_OK) return -1;
        *parts |= gw_tile_layer_parts(l);
    }
    for (int p = 0; p < GW_TL_CITY; p++)
        if (*parts & (1u << p))
            snprintf(names + strlen(names), cap - strlen(names), "%s%s", *names ? "," : "",
                     gw_tile_layer_name((gw_tile_layer)p));
    return *parts ? 0 : -1;
}

/* What to render: the parsed command line. */
typedef struct pyramid {
    const char *db, *out;
    uint32_t parts;
    char names[256];
    unsigned z0, z1;
    int threads;
    gw_bbox clip, extent;
} pyramid;

static int parse_args(int argc, char **argv, pyramid *p)
{
    const char *layers = "city", *zoom = "8-14", *bbox_s = NULL;
    p->threads = (int)cores();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return printf(_(tiles_usage), cores()), -1;
        if (strcmp(a, "--layers") == 0 && v) layers = v, i++;
        else if (strcmp(a, "--zoom") == 0 && v) zoom = v, i++;
        else if (strcmp(a, "--bbox") == 0 && v) bbox_s = v, i++;
        else if (strcmp(a, "--threads") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1 || n > 256)
                return gw_cli_usage_error("tiles", "--threads '%s' must be 1-256", v);
            p->threads = (int)n, i++;
        } else if (a[0] == '-')
            return gw_cli_usage_error("tiles", "unknown or incomplete option '%s'", a);
        else if (!p->db) p->db = a;
        else if (!p->out) p->out = a;
        else return gw_cli_usage_error("tiles", "unexpected argument '%s'", a);
    }
    if (!p->db || !p->out) return gw_cli_usage_error("tiles", "expected DB and OUT.mbtiles");
    if (parse_layers(layers, &p->parts, p->names, sizeof p->names))
        return gw_cli_usage_error("tiles",
                                  "--layers '%s': use grids, police_rooms, cameras, teams, "
                                  "incidents, camera_views, blind_spots, hotspot_clusters or city",
                                  layers);
    char junk;
    int nz = sscanf(zoom, "%u-%u%c", &p->z0, &p->z1, &junk);
    if (nz == 1 || (nz != 2 && sscanf(zoom, "%u%c", &p->z0, &junk) == 1)) p->z1 = p->z0, nz = 2;
    if (nz != 2 || p->z0 > p->z1 || p->z1 > GW_TILE_MAX_ZOOM)
        return gw_cli_usage_error("tiles", "--zoom '%s' must be Z or Z0-Z1 within 0-22", zoom);
    p->clip = (gw_bbox){-180, -90, 180, 90};
    char why[256];
    if (bbox_s && gw_parse_bbox(bbox_s, &p->clip, why, sizeof why))
        return gw_cli_usage_error("tiles", "--bbox: %s", why);
    if (access(p->out, F_OK) == 0) {
        fprintf(stderr, _("gridwatch tiles: '%s' exists; remove it or choose another name\n"),
                p->out);
        return GW_EXIT_CONFLICT;
    }
    return GW_EXIT_OK;
}

/* ---- the render: workers take tiles in order, the writer part runs under one lock ---------- */

typedef struct render {
    const pyramid *p;
    gw_ctx *ctx; /* the command's: progress, and the first error copied in */
    gw_tiles *tiles;
    const gw_model_snapshot *snap;
    gw_mbtiles *mb;
    gw_tilestats *stats;
    gw_tile_id lo[GW_TILE_MAX_ZOOM + 1], hi[GW_TILE_MAX_ZOOM + 1];
    uint64_t start[GW_TILE_MAX_ZOOM + 2]; /* index of each zoom's first tile */
    uint64_t total, next;                 /* next: atomic */
    pthread_mutex_t mu;                   /* the writer part: mb, stats, counters, error */
    uint64_t done;
    long long written, bytes;
    gw_status err;
    int stop; /* atomic */
} render;

static gw_tile_id tile_at(const render *r, uint64_t i)
{
    unsigned z = r->p->z0;
    while (i >= r->start[z + 1]) z++;
    uint64_t k = i - r->start[z], rows = r->hi[z].y - r->lo[z].y + 1;
    return (gw_tile_id){z, r->lo[z].x + (uint32_t)(k / rows), r->lo[z].y + (uint32_t)(k % rows)};
}

static void fail(render *r, gw_ctx *wctx, gw_status st)
{
    pthread_mutex_lock(&r->mu);
    if (!r->err) r->err = gw_ctx_error(r->ctx, st, "%s", gw_ctx_errmsg(wctx));
    pthread_mutex_unlock(&r->mu);
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
}

/* gzip (RFC 1952) raw into *out (grown as needed); 0 or -1. */
static int gzip_tile(z_stream *zs, const uint8_t *raw, size_t len, uint8_t **out, size_t *cap,
                     size_t *olen)
{
    size_t need = deflateBound(zs, (uLong)len) + 32;
    if (need > *cap) {
        uint8_t *nb = realloc(*out, need);
        if (!nb) return -1;
        *out = nb, *cap = need;
    }
    if (deflateReset(zs) != Z_OK) return -1;
    zs->next_in = (Bytef *)raw, zs->avail_in = (uInt)len;
    zs->next_out = *out, zs->avail_out = (uInt)*cap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END) return -1;
    *olen = *cap - zs->avail_out;
    return 0;
}

static void *worker(void *arg)
{
    render *r = arg;
    gw_ctx *ctx = NULL;
    gw_mvt *mvt = NULL;
    z_stream zs = {0};
    uint8_t *gz = NULL;
    size_t gzcap = 0;
    if (gw_ctx_create(&ctx) != GW_OK) {
        pthread_mutex_lock(&r->mu);
        if (!r->err) r->err = gw_ctx_error(r->ctx, GW_ERR_NOMEM, "out of memory");
        pthread_mutex_unlock(&r->mu);
        __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    gw_status st = gw_mvt_create(ctx, (gw_tile_id){0, 0, 0}, NULL, &mvt);
    if (!st && deflateInit2(&zs, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "zlib: cannot start gzip");
    while (!st && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        uint64_t i0 = __atomic_fetch_add(&r->next, CHUNK, __ATOMIC_RELAXED);
        if (i0 >= r->total) break;
        uint64_t i1 = i0 + CHUNK < r->total ? i0 + CHUNK : r->total;
        for (uint64_t i = i0; i < i1 && !st; i++) {
            gw_tile_id t = tile_at(r, i);
            const uint8_t *raw = NULL;
            size_t len = 0, glen = 0;
            st = gw_tiles_render(r->tiles, ctx, r->snap, r->p->parts, t, NULL, NULL, NULL, mvt,
                                 &raw, &len, NULL);
            if (!st && len && gzip_tile(&zs, raw, len, &gz, &gzcap, &glen))
                st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "zlib: cannot gzip tile %u/%u/%u", t.z, t.x,
                                  t.y);
            if (st) break;
            pthread_mutex_lock(&r->mu);
            if (len && !r->err) {
                gw_status ws = gw_mbtiles_put(r->mb, t.z, t.x, t.y, gz, glen);
                if (!ws) ws = gw_tilestats_add(r->stats, t.z, raw, len);
                if (ws) r->err = ws, __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
                r->written++, r->bytes += (long long)glen;
            }
            if ((++r->done & 63) == 0)
                gw_ctx_progress(r->ctx, "tiles", (double)r->done, (double)r->total);
            pthread_mutex_unlock(&r->mu);
        }
    }
    if (st) fail(r, ctx, st);
    if (zs.state) deflateEnd(&zs);
    free(gz);
    gw_mvt_destroy(mvt);
    gw_ctx_destroy(ctx);
    return NULL;
}

/* Render every tile of the pyramid over p->extent into mb on p->threads threads. */
static gw_status render_all(gw_ctx *ctx, const pyramid *p, gw_tiles *tiles,
                            const gw_model_snapshot *snap, gw_mbtiles *mb, gw_tilestats *stats,
                            long long *visited, long long *written, long long *bytes)
{
    render *r = calloc(1, sizeof *r);
    if (!r) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    *r = (render){.p = p, .ctx = ctx, .tiles = tiles, .snap = snap, .mb = mb, .stats = stats};
    pthread_mutex_init(&r->mu, NULL);
    for (unsigned z = p->z0; z <= p->z1; z++) {
        gw_tile_from_lonlat(ctx, p->extent.minx, p->extent.maxy, z, &r->lo[z]);
        gw_tile_from_lonlat(ctx, p->extent.maxx, p->extent.miny, z, &r->hi[z]);
        r->start[z] = r->total;
        r->total += (uint64_t)(r->hi[z].x - r->lo[z].x + 1) * (r->hi[z].y - r->lo[z].y + 1);
    }
    r->start[p->z1 + 1] = r->total;
    pthread_t th[256];
    int n = 0;
    for (; n < p->threads; n++)
        if (pthread_create(&th[n], NULL, worker, r)) break;
    if (n == 0) worker(r); /* no thread could start: render on this one */
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    gw_ctx_progress(ctx, "tiles", (double)r->done, (double)r->total);
    gw_status st = r->err;
    *visited = (long long)r->done, *written = r->written, *bytes = r->bytes;
    pthread_mutex_destroy(&r->mu);
    free(r);
    return st;
}

/* ---- metadata ------------------------------------------------------------------------------ */

static const char *layer_desc(int part)
{
    switch (part) {
    case GW_TL_GRIDS:
        return "grids with coverage (coverage_ratio, covered_m2, cameras, room_reach), default Gi* "
               "hot spot (gi_z, gi_p, gi_bin, gi_class, gi_count) and hot spot cluster (clusters, "
               "cluster_rr) fields; below zoom 10 only id, township, county, population, "
               "coverage_ratio and gi_bin";
    case GW_TL_BLIND_SPOTS: return "coverage blind spots per grid: grid id, blind_m2";
    case GW_TL_CAMERA_VIEWS: return "camera view sectors";
    case GW_TL_HOTSPOT_CLUSTERS: return "hot spot clusters of the default scan (circles)";
    case GW_TL_INCIDENTS:
        return "incidents; where a tile holds more than 4000, cluster points (cluster=true) with "
               "count and count_<category>";
    default:
        return "points; where a tile holds more than 4000, cluster points (cluster=true) with "
               "count and count_<status>";
    }
}

/* The MBTiles metadata: name, format, zooms, bounds, center, and in `json` the vector layers
 * (each at the zooms that hold it; layers no tile holds are left out) and the tilestats. */
static gw_status write_meta(gw_ctx *ctx, gw_mbtiles *mb, const pyramid *p,
                            const gw_tilestats *stats)
{
    char v[512], names[256] = "";
    const gw_bbox *e = &p->extent;
    json_t *vl = json_array();
    uint32_t zlo = UINT32_MAX, zhi = 0;
    for (int l = 0; l < GW_TL_CITY; l++) {
        uint32_t a, b;
        const char *name = gw_tile_layer_name((gw_tile_layer)l);
        if (!(p->parts & (1u << l)) || !gw_tilestats_zooms(stats, name, &a, &b)) continue;
        zlo = a < zlo ? a : zlo, zhi = b > zhi ? b : zhi;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? "," : "",
                 name);
        const char *fn[64], *ft[64];
        size_t n = gw_tile_layer_props((gw_tile_layer)l, fn, ft, 64);
        json_t *fields = json_object();
        for (size_t i = 0; i < n; i++) json_object_set_new(fields, fn[i], json_string(ft[i]));
        json_array_append_new(vl, json_pack("{s:s,s:s,s:o,s:i,s:i}", "id", name, "description",
                                            layer_desc(l), "fields", fields, "minzoom", (int)a,
                                            "maxzoom", (int)b));
    }
    if (zlo > zhi) zlo = p->z0, zhi = p->z1; /* nothing written */
    json_t *ts = gw_tilestats_json(stats);
    json_t *j = ts ? json_pack("{s:o,s:o}", "vector_layers", vl, "tilestats", ts) : NULL;
    char *js = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!js) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory writing the metadata");
    gw_status s = gw_mbtiles_meta(mb, "name", "gridwatch");
    if (!s) s = gw_mbtiles_meta(mb, "format", "pbf");
    if (!s) s = gw_mbtiles_meta(mb, "type", "overlay");
    if (!s) s = gw_mbtiles_meta(mb, "version", "1");
    if (!s) s = gw_mbtiles_meta(mb, "description", *names ? names : p->names);
    snprintf(v, sizeof v, "%u", zlo);
    if (!s) s = gw_mbtiles_meta(mb, "minzoom", v);
    snprintf(v, sizeof v, "%u", zhi);
    if (!s) s = gw_mbtiles_meta(mb, "maxzoom", v);
    snprintf(v, sizeof v, "%.7f,%.7f,%.7f,%.7f", e->minx, e->miny, e->maxx, e->maxy);
    if (!s) s = gw_mbtiles_meta(mb, "bounds", v);
    snprintf(v, sizeof v, "%.7f,%.7f,%u", (e->minx + e->maxx) / 2, (e->miny + e->maxy) / 2, zlo);
    if (!s) s = gw_mbtiles_meta(mb, "center", v);
    if (!s) s = gw_mbtiles_meta(mb, "json", js);
    free(js);
    return s;
}

/* ---- the command --------------------------------------------------------------------------- */

/* The tile state: the server's app when the parts carry analysis, with only the modules those
 * parts draw (app.h, tile_parts: coverage for grids and blind_spots, Gi* and the response
 * figures for grids, the cluster scan for grids and hotspot_clusters), waited for; else only
 * the live model and the tiles over it. */
typedef struct source {
    gw_app *app;
    gw_live *live;
    gw_tiles *tiles;
} source;

static gw_status source_open(gw_ctx *ctx, const pyramid *p, source *s)
{
    uint32_t analysis = 1u << GW_TL_GRIDS | 1u << GW_TL_BLIND_SPOTS | 1u << GW_TL_HOTSPOT_CLUSTERS;
    gw_app_opts ao = {.tile_cache_bytes = (size_t)4 << 20, .tile_parts = p->parts};
    if (!(p->parts & analysis)) {
        gw_status st = gw_live_create(ctx, p->db, 0, &s->live);
        if (!st) st = gw_tiles_create_live(ctx, s->live, ao.tile_cache_bytes, &s->tiles);
        return st;
    }
    gw_status st = gw_app_create(ctx, p->db, &ao, &s->app);
    if (st) return st;
    s->live = s->app->live, s->tiles = s->app->tiles;
    gw_ctx_progress(ctx, "analysis", 0, 1);
    void *cov = s->app->modules[GW_APP_COVERAGE]; /* only for grids and blind_spots */
    for (int i = 0; i < 360000 && cov && !gw_coverage_http_ready(cov); i++) usleep(5000);
    if ((cov && !gw_coverage_http_ready(cov)) || !gw_tiles_fields_wait(s->tiles, 1800 * 1000))
        return gw_ctx_error(ctx, GW_ERR_INTERNAL,
                            "the coverage and hot spot analysis of %s did "
                            "not finish in 30 minutes",
                            p->db);
    gw_ctx_progress(ctx, "analysis", 1, 1);
    return GW_OK;
}

static void source_close(source *s)
{
    if (s->app) {
        gw_app_destroy(s->app);
        return;
    }
    gw_tiles_stop(s->tiles);
    gw_live_destroy(s->live);
    gw_tiles_destroy(s->tiles);
}

int gw_cmd_tiles(int argc, char **argv)
{
    pyramid p = {0};
    int rc = parse_args(argc, argv, &p);
    if (rc) return rc < 0 ? GW_EXIT_OK : rc;
    gw_cli_progress prog;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK)
        return fputs(_("gridwatch tiles: out of memory\n"), stderr), GW_EXIT_RUNTIME;
    gw_cli_progress_init(&prog);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, &prog);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, &prog);
    source src = {0};
    gw_mbtiles *mb = NULL;
    gw_tilestats *stats = NULL;
    gw_model_snapshot *snap = NULL;
    double t0 = gw_mono_s(), t1 = t0;
    long long visited = 0, written = 0, bytes = 0;
    gw_status s = source_open(ctx, &p, &src);
    if (!s) {
        t1 = gw_mono_s();
        snap = gw_model_acquire(gw_tiles_model(src.tiles));
        if (gw_tile_extent(ctx, gw_tiles_source(src.tiles), snap, p.parts, &p.extent) != GW_OK)
            s = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no features of %s in %s", p.names, p.db);
    }
    gw_bbox e = p.extent, c = p.clip;
    p.extent = (gw_bbox){fmax(e.minx, c.minx), fmax(e.miny, c.miny), fmin(e.maxx, c.maxx),
                         fmin(e.maxy, c.maxy)};
    if (!s && (p.extent.minx > p.extent.maxx || p.extent.miny > p.extent.maxy)) {
        fprintf(stderr, _("gridwatch tiles: --bbox does not overlap the data\n"));
        rc = GW_EXIT_USAGE;
    }
    if (!s && !rc) s = gw_tilestats_create(ctx, &stats);
    if (!s && !rc) s = gw_mbtiles_create(ctx, p.out, &mb);
    if (!s && !rc) s = render_all(ctx, &p, src.tiles, snap, mb, stats, &visited, &written, &bytes);
    gw_cli_progress_end(&prog);
    if (!s && !rc) s = write_meta(ctx, mb, &p, stats);
    if (!s && !rc) s = gw_mbtiles_finish(mb);
    if (s) rc = gw_cli_fail("tiles", ctx, s);
    else if (!rc)
        fprintf(
            stderr,
            "gridwatch tiles: %lld tiles (%.1f MB gzip'd; %lld visited) of %s, zoom %u-%u, into "
            "%s in %.1f s (model and analysis %.1f s, tiles %.1f s on %d threads)\n",
            written, bytes / 1e6, visited, p.names, p.z0, p.z1, p.out, gw_mono_s() - t0, t1 - t0,
            gw_mono_s() - t1, p.threads);
    gw_mbtiles_destroy(mb);
    gw_tilestats_destroy(stats);
    gw_model_release(ctx, snap);
    source_close(&src);
    gw_ctx_destroy(ctx);
    return rc;
}
