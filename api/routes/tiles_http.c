/* tiles_http.c — vector tiles over HTTP: the tile route (filters, cache, gzip, ETag/304,
 * Cache-Control), TileJSON 3.0.0 and the MapLibre style, and the shared tile state that follows
 * the change log: a request that sees a newer seq refreshes the model and invalidates exactly
 * the cached tiles the new changes touch.  Rendering is tiles/layers.c; caching tiles/tilecache.c;
 * the analysis fields and blind spots (and their invalidation) api/tile_fields.c. */
#include "tiles_http.h"

#include "app.h"
#include "auth.h"
#include "cache.h"
#include "scope_http.h"
#include "tile_fields.h"

#include "gridwatch/heatmap.h"
#include "gridwatch/store_changes.h"
#include "gridwatch/model.h"
#include "gridwatch/tilecache.h"
#include "gridwatch/tilelayers.h"
#include "http_util.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXZOOM 18 /* advertised in TileJSON; deeper tiles are still served up to z 22 */
#define MVT_TYPE "application/vnd.mapbox-vector-tile"

struct gw_tiles {
    gw_live *live; /* borrowed: the app's live model drives invalidation (NULL: own model) */
    double reach;  /* camera view reach of the last snapshot seen by the listener */
    char *db_path;
    gw_ctx *rctx; /* the refresher's context and connection, used under `refresh` only */
    gw_store *rstore;
    gw_model *model;
    gw_tile_source *src;
    gw_tile_cache *cache;
    pthread_mutex_t refresh;
    int64_t seq;            /* change-log seq the model and the cache reflect (atomic) */
    gw_tile_fields *fields; /* analysis fields and blind spots (gw_tiles_attach), or NULL */
};

/* The installed state: a file-static until the server offers a per-server user pointer. */
static gw_tiles *g_tiles;

void gw_tiles_install(gw_tiles *t) { __atomic_store_n(&g_tiles, t, __ATOMIC_RELEASE); }

gw_status gw_tiles_create(gw_ctx *ctx, const char *db_path, size_t cache_bytes, gw_tiles **out)
{
    *out = NULL;
    gw_tiles *t = calloc(1, sizeof *t);
    if (!t || !(t->db_path = strdup(db_path))) {
        free(t);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&t->refresh, NULL);
    gw_status st = gw_ctx_create(&t->rctx);
    if (!st) st = gw_store_open(t->rctx, db_path, 0, &t->rstore);
    if (!st) st = gw_model_open(t->rctx, t->rstore, &t->model);
    if (!st) st = gw_tile_source_create(t->rctx, &t->src);
    if (!st)
        st = gw_tile_cache_create(t->rctx, cache_bytes ? cache_bytes : (size_t)256 << 20,
                                  &t->cache);
    if (st) {
        gw_ctx_error(ctx, st, "tiles: %s", gw_ctx_errmsg(t->rctx));
        gw_tiles_destroy(t);
        return st;
    }
    gw_model_snapshot *s = gw_model_acquire(t->model);
    t->seq = gw_snapshot_seq(s);
    gw_model_release(t->rctx, s);
    *out = t;
    return GW_OK;
}

gw_tile_cache_stats gw_tiles_cache_stats(gw_tiles *t)
{
    gw_tile_cache_stats z = {0};
    return t && t->cache ? gw_tile_cache_get_stats(t->cache) : z;
}

void gw_tiles_destroy(gw_tiles *t)
{
    if (!t) return;
    if (__atomic_load_n(&g_tiles, __ATOMIC_ACQUIRE) == t) gw_tiles_install(NULL);
    gw_tile_fields_destroy(t->fields);
    gw_tile_cache_destroy(t->cache);
    gw_tile_source_destroy(t->src);
    if (!t->live) gw_model_close(t->model);
    gw_store_close(t->rstore);
    gw_ctx_destroy(t->rctx);
    pthread_mutex_destroy(&t->refresh);
    free(t->db_path);
    free(t);
}

/* ---- change log -> invalidation ---------------------------------------------------------- */

static gw_bbox merc_box(double minx, double miny, double maxx, double maxy)
{
    gw_bbox b;
    double lat0 = fmax(-GW_MERC_MAX_LAT, fmin(GW_MERC_MAX_LAT, miny));
    double lat1 = fmax(-GW_MERC_MAX_LAT, fmin(GW_MERC_MAX_LAT, maxy));
    gw_tile_lonlat_to_merc(minx, lat0, &b.minx, &b.miny);
    gw_tile_lonlat_to_merc(maxx, lat1, &b.maxx, &b.maxy);
    return b;
}

/* The tile changes of one change-log row into ch (room for 2); returns how many. */
static size_t tile_changes(gw_layer l, int has_box, gw_bbox ll, double reach, gw_tile_change *ch)
{
    gw_bbox b = {0, 0, 0, 0};
    if (has_box) b = merc_box(ll.minx, ll.miny, ll.maxx, ll.maxy);
    if ((int)l < 0 || l >= GW_LAYER_COUNT) {
        ch[0] = (gw_tile_change){GW_TL_ALL_PARTS | 1u << GW_TL_CITY, false, b};
        return 1;
    }
    if (l == GW_LAYER_GRIDS) { /* the blind spots follow the grids (and the coverage module) */
        ch[0] = (gw_tile_change){1u << GW_TL_GRIDS | 1u << GW_TL_BLIND_SPOTS | 1u << GW_TL_CITY,
                                 has_box, b};
        return 1;
    }
    if (l == GW_LAYER_CAMERAS) {
        ch[0] = (gw_tile_change){1u << GW_TL_CAMERAS | 1u << GW_TL_CITY, has_box, b};
        gw_bbox w = {b.minx - reach, b.miny - reach, b.maxx + reach, b.maxy + reach};
        ch[1] = (gw_tile_change){1u << GW_TL_CAMERA_VIEWS | 1u << GW_TL_CITY, has_box, w};
        return 2;
    }
    ch[0] = (gw_tile_change){1u << l | 1u << GW_TL_CITY, has_box, b};
    return 1;
}

/* The live model's listener: runs on its sync thread after each refresh. */
static void on_changes(void *user, gw_ctx *ctx, const gw_change *changes, size_t n,
                       gw_model_snapshot *snap)
{
    gw_tiles *t = user;
    double reach = fmax(t->reach, gw_tile_views_reach(ctx, t->src, snap));
    t->reach = reach;
    gw_tile_change *ch = malloc((n ? n : 1) * 2 * sizeof *ch);
    size_t k = 0;
    for (size_t i = 0; ch && i < n; i++)
        k += tile_changes(changes[i].layer, changes[i].has_bbox, changes[i].bbox, reach, ch + k);
    if (ch) {
        gw_tile_cache_invalidate(t->cache, ch, k, gw_snapshot_seq(snap), GW_TILE_BUFFER);
    } else {
        gw_tile_change all = {GW_TL_ALL_PARTS | 1u << GW_TL_CITY, false, {0, 0, 0, 0}};
        gw_tile_cache_invalidate(t->cache, &all, 1, gw_snapshot_seq(snap), GW_TILE_BUFFER);
    }
    free(ch);
}

gw_status gw_tiles_create_live(gw_ctx *ctx, gw_live *live, size_t cache_bytes, gw_tiles **out)
{
    *out = NULL;
    gw_tiles *t = calloc(1, sizeof *t);
    if (!t) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&t->refresh, NULL);
    t->live = live;
    t->model = gw_live_model(live);
    gw_status st = gw_tile_source_create(ctx, &t->src);
    if (!st)
        st = gw_tile_cache_create(ctx, cache_bytes ? cache_bytes : (size_t)256 << 20, &t->cache);
    if (!st) {
        gw_model_snapshot *s = gw_model_acquire(t->model);
        t->reach = gw_tile_views_reach(ctx, t->src, s);
        t->seq = gw_snapshot_seq(s);
        gw_model_release(ctx, s);
        st = gw_live_listen(live, on_changes, t);
    }
    if (st) {
        gw_tiles_destroy(t);
        return st;
    }
    *out = t;
    return GW_OK;
}

static void fields_inval(void *user, const gw_tile_change *ch, size_t n, int64_t seq)
{
    gw_tiles *t = user;
    gw_tile_cache_invalidate(t->cache, ch, n, seq, GW_TILE_BUFFER);
}

gw_status gw_tiles_attach(gw_ctx *ctx, gw_tiles *t, void *coverage, void *hotspots)
{
    if (!t || !t->live)
        return gw_ctx_error(ctx, GW_ERR_ARG, "tiles: analysis fields need the live tile state");
    if (t->fields)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "tiles: analysis fields attached already");
    return gw_tile_fields_create(ctx, t->live, coverage, hotspots, fields_inval, t, &t->fields);
}

void gw_tiles_attach_clusters(gw_tiles *t, void *clusters)
{
    if (t) gw_tile_fields_set_clusters(t->fields, clusters);
}

void gw_tiles_attach_reach(gw_tiles *t, void *reach)
{
    if (t) gw_tile_fields_set_reach(t->fields, reach);
}

void gw_tiles_stop(gw_tiles *t)
{
    if (t) gw_tile_fields_stop(t->fields);
}

int gw_tiles_fields_wait(gw_tiles *t, unsigned timeout_ms)
{
    return t ? gw_tile_fields_wait(t->fields, timeout_ms) : 1;
}

/* The tile changes of a run of change-log rows. */
typedef struct change_acc {
    gw_tile_change *ch;
    size_t n, cap;
    double reach;
    int oom;
} change_acc;

static int add_change(void *user, const gw_store_change *c)
{
    change_acc *a = user;
    if (a->n + 2 > a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        gw_tile_change *nv = realloc(a->ch, nc * sizeof *nv);
        if (!nv) return a->oom = 1;
        a->ch = nv, a->cap = nc;
    }
    gw_layer l = GW_LAYER_COUNT;
    if (!c->layer || gw_layer_from_name(c->layer, &l) != GW_OK) l = GW_LAYER_COUNT;
    a->n += tile_changes(l, c->has_bbox, c->bbox, a->reach, a->ch + a->n);
    return 0;
}

/* Drop the tiles touched by the changes with seq in (from, to]; `reach` widens camera changes
 * for the view sectors.  Called under t->refresh. */
static size_t apply_changes(gw_tiles *t, int64_t from, int64_t to, double reach)
{
    change_acc a = {.reach = reach};
    size_t rows = 0;
    gw_status st = gw_store_changes_read(t->rstore, from, to + 1, INT_MAX, add_change, &a, &rows);
    size_t dropped;
    /* Out of memory, unreadable, or the rows are gone (a pruned log): drop everything. */
    if (st || a.oom || (rows == 0 && to > from)) {
        gw_tile_change all = {GW_TL_ALL_PARTS | 1u << GW_TL_CITY, false, {0, 0, 0, 0}};
        dropped = gw_tile_cache_invalidate(t->cache, &all, 1, to, GW_TILE_BUFFER);
    } else {
        dropped = a.n ? gw_tile_cache_invalidate(t->cache, a.ch, a.n, to, GW_TILE_BUFFER) : 0;
    }
    free(a.ch);
    return dropped;
}

size_t gw_tiles_sync(gw_tiles *t, gw_store *store)
{
    int64_t last = 0;
    if (!t || t->live || gw_store_last_seq(store, &last) != GW_OK)
        return 0; /* live: its thread syncs */
    int64_t cur = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
    if (last <= cur) return 0;
    /* one refresher at a time; the others answer from the current state meanwhile */
    if (pthread_mutex_trylock(&t->refresh) != 0) return 0;
    size_t dropped = 0;
    cur = t->seq;
    gw_model_snapshot *s = gw_model_acquire(t->model);
    double reach_old = gw_tile_views_reach(t->rctx, t->src, s);
    gw_model_release(t->rctx, s);
    if (last > cur) {
        /* before the refresh: stop serving tiles the changes touch (tiles rebuilt from the old
         * snapshot meanwhile are refused by the cache) */
        dropped += apply_changes(t, cur, last, reach_old);
        if (gw_model_refresh(t->rctx, t->model, t->rstore, NULL) == GW_OK) {
            s = gw_model_acquire(t->model);
            int64_t now = gw_snapshot_seq(s);
            double reach = fmax(reach_old, gw_tile_views_reach(t->rctx, t->src, s));
            gw_model_release(t->rctx, s);
            /* after: changes committed in between, and camera views with the new reach */
            dropped += apply_changes(t, cur, now, reach);
            __atomic_store_n(&t->seq, now, __ATOMIC_RELEASE);
        } else {
            fprintf(stderr, "{\"event\":\"tiles_refresh_failed\",\"error\":\"%s\"}\n",
                    gw_ctx_errmsg(t->rctx));
        }
    }
    pthread_mutex_unlock(&t->refresh);
    return dropped;
}

/* ---- rendering: the one path of the tile route and the offline pyramid ---------------------- */

gw_tile_source *gw_tiles_source(gw_tiles *t) { return t ? t->src : NULL; }

gw_model *gw_tiles_model(gw_tiles *t) { return t ? t->model : NULL; }

gw_status gw_tiles_render(gw_tiles *t, gw_ctx *ctx, const gw_model_snapshot *s, uint32_t parts,
                          gw_tile_id tid, const gw_tile_filter *f, gw_tile_keep_fn keep,
                          void *keep_user, gw_mvt *mvt, const uint8_t **bytes, size_t *len,
                          int64_t *version)
{
    gw_tile_fields_use u;
    gw_tile_fields_acquire(t->fields, ctx, s, parts,
                           &u); /* version: older when the analysis lags */
    gw_tile_extras ex = u.ex;
    if (keep) ex.keep = keep, ex.keep_user = keep_user;
    gw_status st = gw_tile_render_ex(ctx, t->src, mvt, s, parts, tid, f, &ex, bytes, len);
    if (version) *version = u.version;
    gw_tile_fields_release(t->fields, &u);
    return st;
}

int gw_tiles_req_tile(gw_req *req, gw_ctx *ctx, gw_tile_id *out)
{
    const char *y = gw_req_param(req, "y");
    size_t yl = strlen(y);
    if (yl < 5 || (strcmp(y + yl - 4, ".mvt") && strcmp(y + yl - 4, ".pbf"))) {
        gw_req_problem(req, 404, NULL, "tile '%s' must end in .mvt (or .pbf)", y);
        return -1;
    }
    char zxy[128];
    int n = snprintf(zxy, sizeof zxy, "%s/%s/%.*s", gw_req_param(req, "z"), gw_req_param(req, "x"),
                     (int)(yl - 4), y);
    gw_status st = gw_tile_parse(ctx, zxy, n > 0 && (size_t)n < sizeof zxy ? (size_t)n : 0, out);
    if (st) {
        gw_req_problem(req, st == GW_ERR_RANGE ? 404 : 400, NULL, "%s", gw_ctx_errmsg(ctx));
        return -1;
    }
    return 0;
}

/* ---- tile route -------------------------------------------------------------------------- */

static gw_tiles *state(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_tiles *t = app && app->tiles ? app->tiles : __atomic_load_n(&g_tiles, __ATOMIC_ACQUIRE);
    if (!t) gw_req_problem(req, 503, NULL, "vector tiles are not enabled on this server");
    return t;
}

typedef struct targs {
    gw_req *req;
    gw_tile_layer layer;
    uint32_t parts;
    gw_tile_filter f;
} targs;

static int has_time_field(uint32_t parts)
{
    return (parts & (1u << GW_TL_TEAMS)) || (parts & (1u << GW_TL_INCIDENTS));
}

static int tile_arg(void *user, const char *key, const char *val)
{
    targs *a = user;
    gw_req *req = a->req;
    char why[256];
    if (strcmp(key, "datetime") == 0) {
        gw_time_filter tf;
        if (gw_parse_datetime(gw_req_ctx(req), val, &tf, why, sizeof why)) {
            gw_req_problem(req, 400, NULL, "parameter 'datetime': %s", why);
            return 1;
        }
        if (!has_time_field(a->parts)) {
            gw_req_problem(req, 400, NULL, "parameter 'datetime': layer '%s' has no time field",
                           gw_tile_layer_name(a->layer));
            return 1;
        }
        a->f.has_lo = tf.has_lo, a->f.has_hi = tf.has_hi, a->f.lo = tf.lo, a->f.hi = tf.hi;
        return 0;
    }
    if (strcmp(key, "f") == 0) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    if (gw_tile_filter_add(ctx, &a->f, a->parts, key, val) != GW_OK) {
        gw_req_problem(req, 400, NULL, "%s", gw_ctx_errmsg(ctx));
        return 1;
    }
    return 0;
}

static void blob_release(void *b) { gw_tile_blob_release(b); }

static void send_blob(gw_req *req, const gw_tile_blob *b, int hit)
{
    gw_req_add_header(req, "X-Tile-Cache", hit ? "hit" : "miss");
    /* a jurisdiction's tile must not be kept by a shared cache and served to another token */
    const char *cc = *gw_auth_request_jurisdiction(req) ? "private, max-age=60"
                                                        : "public, max-age=60";
    /* and a browser that changes tokens must not reuse one account's copy for another */
    gw_req_add_header(req, "Vary", "Authorization");
    if (gw_req_cache_check(req, b->etag, cc, 1)) return;
    if (!b->raw_len) { /* empty tile: 204, which MapLibre and GDAL treat as "no features" */
        gw_req_respond(req, 204, NULL, "", 0);
        return;
    }
    /* the bytes go out from the cached blob itself (no copy), held by a reference */
    gw_tile_blob_retain((gw_tile_blob *)b);
    if (b->gz && gw_req_accepts_gzip(req)) {
        gw_req_add_header(req, "Content-Encoding", "gzip");
        gw_req_respond_shared(req, 200, MVT_TYPE, b->gz, b->gz_len, blob_release, (void *)b);
    } else {
        gw_req_respond_shared(req, 200, MVT_TYPE, b->raw, b->raw_len, blob_release, (void *)b);
    }
}

static int h_tile(gw_req *req)
{
    gw_tiles *t = state(req);
    if (!t) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    if (!ctx) return 0;
    targs a = {.req = req};
    if (gw_tile_layer_from_name(ctx, gw_req_param(req, "layer"), &a.layer) != GW_OK) {
        gw_req_problem(req, 404, NULL, "%s", gw_ctx_errmsg(ctx));
        return 0;
    }
    a.parts = gw_tile_layer_parts(a.layer);
    gw_tile_id tid;
    if (gw_tiles_req_tile(req, ctx, &tid)) return 0;
    gw_status st;
    if (gw_req_query_each(req, tile_arg, &a)) return 0;
    gw_store *store = gw_req_store(req);
    if (!store) return 0;
    gw_tiles_sync(t, store);
    /* A scoped token's tiles are cached apart: the key starts with its jurisdiction. */
    char key[1200 + GW_JURISDICTION_MAX];
    const char *jur = gw_auth_request_jurisdiction(req);
    int kl = snprintf(key, sizeof key, "%s%s", *jur ? jur : "", *jur ? "|" : "");
    gw_tile_filter_key(&a.f, key + kl, sizeof key - (size_t)kl);
    gw_tile_blob *b = gw_tile_cache_get(t->cache, a.layer, tid, key);
    int hit = b != NULL;
    if (!b) {
        gw_model_snapshot *s = gw_model_acquire(t->model);
        gw_scope *sc = NULL;
        if (gw_req_scope(req, s, &sc)) {
            gw_model_release(ctx, s);
            return 0;
        }
        gw_mvt *mvt = NULL;
        const uint8_t *bytes = NULL;
        size_t len = 0;
        int64_t version = 0;
        gw_scope_keep_ctx kc = {.ctx = ctx, .scope = sc};
        st = gw_mvt_create(ctx, tid, NULL, &mvt);
        if (!st)
            st = gw_tiles_render(t, ctx, s, a.parts, tid, &a.f, sc ? gw_scope_keep_row : NULL, &kc,
                                 mvt, &bytes, &len, &version);
        gw_scope_release(sc);
        if (!st) st = gw_tile_blob_create(ctx, bytes, len, version, &b);
        gw_mvt_destroy(mvt);
        gw_model_release(ctx, s);
        if (st) {
            gw_req_problem(req, 500, NULL, "tile %s/%u/%u/%u: %s", gw_tile_layer_name(a.layer),
                           tid.z, tid.x, tid.y, gw_ctx_errmsg(ctx));
            return 0;
        }
        gw_tile_cache_put(t->cache, a.layer, tid, key, b);
    }
    send_blob(req, b, hit);
    gw_tile_blob_release(b);
    return 0;
}

/* ---- TileJSON and style ------------------------------------------------------------------ */

static int query_copy(void *user, const char *key, const char *val)
{
    gw_buf *b = user;
    gw_buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1);
    gw_buf_url(b, key);
    gw_buf_add(b, "=", 1);
    gw_buf_url(b, val);
    return 0;
}

static json_t *vector_layer(gw_tile_layer part, int composite)
{
    const char *names[48], *types[48];
    size_t n = gw_tile_layer_props(part, names, types, sizeof names / sizeof names[0]);
    json_t *fields = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(fields, names[i], json_string(types[i]));
    const char *desc =
        part == GW_TL_INCIDENTS
            ? "incidents; where a tile holds more than 4000, cluster points (cluster=true) with count and count_<category>; "
              "in the city tiles from zoom 10"
        : part == GW_TL_CAMERAS
            ? "points; where a tile holds more than 4000, cluster points (cluster=true) with count and count_<status>; "
              "in the city tiles from zoom 13"
        : part == GW_TL_TEAMS
            ? "points; where a tile holds more than 4000, cluster points (cluster=true) with count and count_<status>; "
              "below zoom 10 only id and status"
        : part == GW_TL_POLICE_ROOMS ? "points; below zoom 10 only id and name"
        : part == GW_TL_CAMERA_VIEWS ? "camera view sectors (from zoom 15)"
        : part == GW_TL_BLIND_SPOTS
            ? "coverage blind spots per grid (from zoom 13): grid id, blind_m2; empty while coverage is computed"
        : part == GW_TL_HOTSPOT_CLUSTERS
            ? "hot spot clusters of the default GET /analysis/hotspots/clusters run (circles): rank (feature id), "
              "incidents, expected, relative_risk, p, trend, recent; absent while the first scan runs"
        : part == GW_TL_GRIDS
            ? "grids with their coverage (coverage_ratio, covered_m2, cameras, room_reach) and default Gi* hot spot "
              "(gi_z, gi_p, gi_bin -3..3, gi_class, gi_count: the default run over every incident, whatever the "
              "tile's filters) and hot spot cluster (clusters: how many touch the grid, cluster_rr: their highest "
              "relative risk) fields when the analysis is current; below zoom 10 "
              "only id, coverage_ratio (to 0.01) and gi_bin"
            : gw_tile_layer_name(part);
    int minz = (int)(composite ? gw_tile_layer_city_minzoom(part) : gw_tile_layer_minzoom(part));
    return json_pack("{s:s,s:o,s:i,s:i,s:s}", "id", gw_tile_layer_name(part), "fields", fields,
                     "minzoom", minz, "maxzoom", MAXZOOM, "description", desc);
}

/* The heat map's TileJSON: a raster source (PNG tiles of /tiles/heatmap/{z}/{x}/{y}.png, 256
 * px) over the incidents' extent; the query (datetime, category, bandwidth …) is copied to the
 * tile URL as for the vector layers, and the heat map route checks it on every tile. */
static int heat_tilejson(gw_req *req, gw_tiles *t, gw_ctx *ctx)
{
    gw_store *store = gw_req_store(req);
    if (!store) return 0;
    gw_tiles_sync(t, store);
    gw_model_snapshot *s = gw_model_acquire(t->model);
    gw_bbox e;
    int has_ext = gw_tile_extent(ctx, t->src, s, 1u << GW_TL_INCIDENTS, &e) == GW_OK;
    gw_model_release(ctx, s);
    if (!has_ext) e = (gw_bbox){-180, -GW_MERC_MAX_LAT, 180, GW_MERC_MAX_LAT};
    gw_buf url = {0}, legend = {0};
    gw_buf_printf(&url, "%s/tiles/heatmap/{z}/{x}/{y}.png", gw_req_base_url(req));
    gw_req_query_each(req, query_copy, &url);
    gw_buf_printf(&legend, "%s/tiles/heatmap/legend.json", gw_req_base_url(req));
    double w = fmax(e.maxx - e.minx, 1e-6), h = fmax(e.maxy - e.miny, 1e-6);
    int cz = (int)floor(log2(fmin(360 / w, 170 / h))) + 1;
    cz = cz < 0 ? 0 : cz > 16 ? 16 : cz;
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:s,s:[s],s:i,s:i,s:i,s:[f,f,f,f],s:[f,f,i],s:s,s:s,s:s}", "tilejson",
        "3.0.0", "name", "heatmap", "description",
        "kernel density of the incidents (PNG; legend at /tiles/heatmap/legend.json)", "scheme",
        "xyz", "tiles", url.data ? url.data : "", "minzoom", 0, "maxzoom", GW_HEATMAP_MAX_ZOOM,
        "tileSize", 256, "bounds", e.minx, e.miny, e.maxx, e.maxy, "center", (e.minx + e.maxx) / 2,
        (e.miny + e.maxy) / 2, cz, "format", "png", "legend", legend.data ? legend.data : "",
        "attribution", "gridwatch");
    gw_buf_free(&url);
    gw_buf_free(&legend);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

static int h_tilejson(gw_req *req)
{
    gw_tiles *t = state(req);
    if (!t) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    if (!ctx) return 0;
    const char *file = gw_req_param(req, "file");
    size_t fl = strlen(file);
    char name[64];
    gw_tile_layer layer;
    if (fl < 6 || fl - 5 >= sizeof name || strcmp(file + fl - 5, ".json")) {
        gw_req_problem(req, 404, NULL,
                       "no resource '/tiles/%s'; TileJSON is at /tiles/{layer}.json", file);
        return 0;
    }
    snprintf(name, sizeof name, "%.*s", (int)(fl - 5), file);
    if (strcmp(name, "heatmap") == 0) return heat_tilejson(req, t, ctx);
    if (gw_tile_layer_from_name(ctx, name, &layer) != GW_OK) {
        gw_req_problem(req, 404, NULL, "%s", gw_ctx_errmsg(ctx));
        return 0;
    }
    targs a = {.req = req, .layer = layer, .parts = gw_tile_layer_parts(layer)};
    if (gw_req_query_each(req, tile_arg, &a)) return 0; /* same filters as the tiles, checked */
    gw_store *store = gw_req_store(req);
    if (!store) return 0;
    gw_tiles_sync(t, store);
    gw_model_snapshot *s = gw_model_acquire(t->model);
    gw_bbox e;
    int has_ext = gw_tile_extent(ctx, t->src, s, a.parts, &e) == GW_OK;
    gw_model_release(ctx, s);
    if (!has_ext) e = (gw_bbox){-180, -GW_MERC_MAX_LAT, 180, GW_MERC_MAX_LAT};
    gw_buf url = {0};
    gw_buf_printf(&url, "%s/tiles/%s/{z}/{x}/{y}.mvt", gw_req_base_url(req), name);
    gw_req_query_each(req, query_copy, &url);
    double w = fmax(e.maxx - e.minx, 1e-6), h = fmax(e.maxy - e.miny, 1e-6);
    int cz = (int)floor(log2(fmin(360 / w, 170 / h))) + 1;
    uint32_t minz = gw_tile_layer_minzoom(layer);
    cz = cz < (int)minz ? (int)minz : cz > 16 ? 16 : cz;
    json_t *vl = json_array();
    for (int p = 0; p < GW_TL_CITY; p++)
        if (a.parts & (1u << p))
            json_array_append_new(vl, vector_layer((gw_tile_layer)p, layer == GW_TL_CITY));
    json_t *doc = json_pack("{s:s,s:s,s:s,s:[s],s:i,s:i,s:[f,f,f,f],s:[f,f,i],s:o,s:s}", "tilejson",
                            "3.0.0", "name", name, "scheme", "xyz", "tiles",
                            url.data ? url.data : "", "minzoom", (int)minz, "maxzoom", MAXZOOM,
                            "bounds", e.minx, e.miny, e.maxx, e.maxy, "center",
                            (e.minx + e.maxx) / 2, (e.miny + e.maxy) / 2, cz, "vector_layers", vl,
                            "attribution", "gridwatch");
    gw_buf_free(&url);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

static const char style_layers[] =
    "[{\"id\":\"background\",\"type\":\"background\",\"paint\":{\"background-color\":\"#f4f3ef\"}},"
    "{\"id\":\"grids-fill\",\"type\":\"fill\",\"source\":\"city\",\"source-layer\":\"grids\","
    "\"paint\":{\"fill-color\":[\"match\",[\"coalesce\",[\"get\",\"gi_bin\"],0],3,\"#d7301f\",2,\"#fc8d59\",1,\"#fdcc8a\","
    "-1,\"#bdd7e7\",-2,\"#6baed6\",-3,\"#2171b5\",\"#7a8cc4\"],\"fill-opacity\":0.25}},"
    "{\"id\":\"grids-line\",\"type\":\"line\",\"source\":\"city\",\"source-layer\":\"grids\","
    "\"paint\":{\"line-color\":\"#3d4a7a\",\"line-width\":[\"interpolate\",[\"linear\"],[\"zoom\"],8,0.3,14,1.5]}},"
    "{\"id\":\"roads\",\"type\":\"line\",\"source\":\"roads\",\"source-layer\":\"roads\","
    "\"layout\":{\"line-cap\":\"round\",\"line-join\":\"round\"},"
    "\"paint\":{\"line-color\":\"#9a8f7c\",\"line-width\":[\"interpolate\",[\"linear\"],[\"zoom\"],8,0.4,16,3]}},"
    "{\"id\":\"blind-spots\",\"type\":\"fill\",\"source\":\"city\",\"source-layer\":\"blind_spots\",\"minzoom\":13,"
    "\"paint\":{\"fill-color\":\"#202020\",\"fill-opacity\":0.3}},"
    "{\"id\":\"camera-views\",\"type\":\"fill\",\"source\":\"city\",\"source-layer\":\"camera_views\",\"minzoom\":15,"
    "\"paint\":{\"fill-color\":\"#f0a020\",\"fill-opacity\":0.2,\"fill-outline-color\":\"#c07010\"}},"
    "{\"id\":\"incident-clusters\",\"type\":\"circle\",\"source\":\"incidents\",\"source-layer\":\"incidents\","
    "\"filter\":[\"==\",[\"get\",\"cluster\"],true],"
    "\"paint\":{\"circle-color\":\"#d7301f\",\"circle-opacity\":0.55,"
    "\"circle-radius\":[\"interpolate\",[\"linear\"],[\"get\",\"count\"],1,2,10,4,100,8,1000,14,10000,22]}},"
    "{\"id\":\"incidents\",\"type\":\"circle\",\"source\":\"incidents\",\"source-layer\":\"incidents\","
    "\"filter\":[\"!\",[\"has\",\"cluster\"]],"
    "\"paint\":{\"circle-color\":[\"interpolate\",[\"linear\"],[\"get\",\"severity\"],1,\"#fdae61\",5,\"#a50026\"],"
    "\"circle-radius\":[\"interpolate\",[\"linear\"],[\"zoom\"],10,1.5,16,5]}},"
    "{\"id\":\"cameras\",\"type\":\"circle\",\"source\":\"city\",\"source-layer\":\"cameras\",\"minzoom\":13,\"filter\":[\"!\",[\"has\",\"cluster\"]],"
    "\"paint\":{\"circle-color\":[\"match\",[\"get\",\"status\"],\"offline\",\"#999999\",\"#555555\"],\"circle-radius\":2}},"
    "{\"id\":\"police-rooms\",\"type\":\"circle\",\"source\":\"city\",\"source-layer\":\"police_rooms\",\"filter\":[\"!\",[\"has\",\"cluster\"]],"
    "\"paint\":{\"circle-color\":\"#1f5fbf\",\"circle-radius\":5,\"circle-stroke-color\":\"#ffffff\",\"circle-stroke-width\":1}},"
    "{\"id\":\"teams\",\"type\":\"circle\",\"source\":\"city\",\"source-layer\":\"teams\",\"filter\":[\"!\",[\"has\",\"cluster\"]],"
    "\"paint\":{\"circle-color\":[\"match\",[\"get\",\"status\"],\"available\",\"#1a9850\",\"busy\",\"#f46d43\","
    "\"offline\",\"#888888\",\"#000000\"],\"circle-radius\":4,\"circle-stroke-color\":\"#ffffff\",\"circle-stroke-width\":1}},"
    /* labels: the glyphs and the sprite gridwatch serves (api/routes/labels_http.c) */
    "{\"id\":\"township-labels\",\"type\":\"symbol\",\"source\":\"city\",\"source-layer\":\"grids\",\"minzoom\":10,\"maxzoom\":13,"
    "\"filter\":[\"has\",\"township\"],\"layout\":{\"text-field\":[\"get\",\"township\"],"
    "\"text-font\":[\"Noto Sans CJK SC Bold\"],\"text-size\":14,\"text-padding\":110},"
    "\"paint\":{\"text-color\":\"#2b3350\",\"text-halo-color\":\"#ffffff\",\"text-halo-width\":1.5}},"
    "{\"id\":\"grid-labels\",\"type\":\"symbol\",\"source\":\"city\",\"source-layer\":\"grids\",\"minzoom\":13,"
    "\"filter\":[\"has\",\"name\"],\"layout\":{\"text-field\":[\"get\",\"name\"],"
    "\"text-font\":[\"Noto Sans CJK SC Regular\"],\"text-size\":12,\"text-max-width\":7},"
    "\"paint\":{\"text-color\":\"#3d4a7a\",\"text-halo-color\":\"#ffffff\",\"text-halo-width\":1.5}},"
    "{\"id\":\"police-room-labels\",\"type\":\"symbol\",\"source\":\"city\",\"source-layer\":\"police_rooms\",\"minzoom\":11,"
    "\"filter\":[\"all\",[\"!\",[\"has\",\"cluster\"]],[\"has\",\"name\"]],"
    "\"layout\":{\"text-field\":[\"get\",\"name\"],\"text-font\":[\"Noto Sans CJK SC Regular\"],\"text-size\":12,"
    "\"text-anchor\":\"left\",\"text-offset\":[1.2,0],\"icon-image\":\"police-room\",\"text-optional\":true},"
    "\"paint\":{\"text-color\":\"#1f5fbf\",\"text-halo-color\":\"#ffffff\",\"text-halo-width\":1.5}},"
    "{\"id\":\"road-labels\",\"type\":\"symbol\",\"source\":\"roads\",\"source-layer\":\"roads\",\"minzoom\":13,"
    "\"filter\":[\"has\",\"name\"],\"layout\":{\"symbol-placement\":\"line\",\"text-field\":[\"get\",\"name\"],"
    "\"text-font\":[\"Noto Sans CJK SC Regular\"],\"text-size\":11},"
    "\"paint\":{\"text-color\":\"#5a5044\",\"text-halo-color\":\"#ffffff\",\"text-halo-width\":1.5}}]";

static int h_style(gw_req *req)
{
    if (strcmp(gw_req_param(req, "file"), "city.json") != 0) {
        gw_req_problem(req, 404, NULL, "no style '%s'; the style is /styles/city.json",
                       gw_req_param(req, "file"));
        return 0;
    }
    char src[600], inc[600];
    snprintf(src, sizeof src, "%s/tiles/city.json", gw_req_base_url(req));
    snprintf(inc, sizeof inc, "%s/tiles/incidents.json", gw_req_base_url(req));
    char glyphs[700], sprite[620];
    snprintf(glyphs, sizeof glyphs, "%s/fonts/{fontstack}/{range}.pbf", gw_req_base_url(req));
    snprintf(sprite, sizeof sprite, "%s/sprite", gw_req_base_url(req));
    json_t *layers = json_loads(style_layers, 0, NULL);
    /* incidents from their own layer (clustered at every zoom), as the wall does: the city
     * tiles have them from zoom 10 only */
    json_t *doc = json_pack("{s:i,s:s,s:{s:{s:s,s:s},s:{s:s,s:s}},s:o}", "version", 8, "name",
                            "gridwatch city", "sources", "city", "type", "vector", "url", src,
                            "incidents", "type", "vector", "url", inc, "layers",
                            layers ? layers : json_array());
    char roads[640]; /* the road layer (roads_tile.c) */
    snprintf(roads, sizeof roads, "%s/tiles/roads/{z}/{x}/{y}.mvt", gw_req_base_url(req));
    json_object_set_new(json_object_get(doc, "sources"), "roads",
                        json_pack("{s:s,s:[s],s:i,s:i}", "type", "vector", "tiles", roads,
                                  "minzoom", 8, "maxzoom", 16));
    json_object_set_new(doc, "glyphs", json_string(glyphs));
    json_object_set_new(doc, "sprite", json_string(sprite));
    gw_req_respond_json(req, 200, doc);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/tiles/{layer}/{z}/{x}/{y}", h_tile, GW_ROLE_VIEWER, "tile"},
    {"GET", "/tiles/{file}", h_tilejson, GW_ROLE_VIEWER, "tilejson"},
    {"GET", "/styles/{file}", h_style, GW_ROLE_VIEWER, "style"},
};

const gw_route *gw_tiles_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
