/* heatmap_http.c — heat map PNG tiles over HTTP with the datetime/category/severity filters of
 * the other analysis routes, cached per (zoom, tile, filter) in a gw_tile_cache of their own and
 * invalidated precisely: an incident change drops, at each zoom, only the tiles within one
 * kernel bandwidth of it (the zoom is the cache's layer number, so each zoom gets its own reach). */
#include "heatmap_http.h"

#include "auth.h"
#include "scope_http.h"

#include "cache.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "gridwatch/heatmap.h"
#include "gridwatch/tile.h"
#include "gridwatch/tilecache.h"
#include "http_util.h"

struct gw_heat {
    gw_tile_cache *cache;
};

gw_status gw_heat_create(gw_ctx *ctx, size_t budget, gw_heat **out)
{
    *out = NULL;
    gw_heat *h = calloc(1, sizeof *h);
    if (!h) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    gw_status st = gw_tile_cache_create(ctx, budget ? budget : 64u << 20, &h->cache);
    if (st) {
        free(h);
        return st;
    }
    *out = h;
    return GW_OK;
}

void gw_heat_destroy(gw_heat *h)
{
    if (!h) return;
    gw_tile_cache_destroy(h->cache);
    free(h);
}

gw_tile_cache_stats gw_heat_cache_stats(gw_heat *h)
{
    gw_tile_cache_stats z = {0};
    return h ? gw_tile_cache_get_stats(h->cache) : z;
}

void gw_heat_stats(gw_heat *h, uint64_t *hits, uint64_t *misses, uint64_t *invalidated)
{
    gw_tile_cache_stats s = gw_heat_cache_stats(h);
    if (hits) *hits = s.hits;
    if (misses) *misses = s.misses;
    if (invalidated) *invalidated = s.invalidated;
}

enum { NZ = GW_HEATMAP_MAX_ZOOM + 1 };

void gw_heat_changes(gw_heat *h, const gw_change *ch, size_t n)
{
    if (!h || !n) return;
    gw_tile_change *tc = malloc(n * NZ * sizeof *tc);
    size_t m = 0;
    int all = !tc;
    int64_t seq = 0;
    for (size_t i = 0; i < n && !all; i++) {
        seq = ch[i].seq > seq ? ch[i].seq : seq;
        if (ch[i].layer != GW_LAYER_INCIDENTS && ch[i].layer != GW_LAYER_COUNT) continue;
        if (ch[i].layer == GW_LAYER_COUNT || !ch[i].has_bbox) {
            all = 1;
            break;
        }
        const gw_bbox *b = &ch[i].bbox;
        double x0, y0, x1, y1;
        gw_tile_lonlat_to_merc(b->minx, fmax(b->miny, -GW_MERC_MAX_LAT), &x0, &y0);
        gw_tile_lonlat_to_merc(b->maxx, fmin(b->maxy, GW_MERC_MAX_LAT), &x1, &y1);
        double lat = fmin(fmax(fabs(b->miny), fabs(b->maxy)), GW_MERC_MAX_LAT);
        for (unsigned z = 0; z < NZ; z++) {
            /* the kernel's reach in Mercator metres, plus the binning's coarse pixels */
            double r = gw_heatmap_bandwidth(z, lat) / cos(lat * M_PI / 180);
            double grow = r * 1.07 + 2 * gw_tile_unit_size(z, GW_HEATMAP_SIZE);
            tc[m++] = (gw_tile_change){1u << z, true, {x0 - grow, y0 - grow, x1 + grow, y1 + grow}};
        }
    }
    for (size_t i = 0; i < n; i++) seq = ch[i].seq > seq ? ch[i].seq : seq;
    if (all) {
        gw_tile_change every = {(1u << NZ) - 1, false, {0, 0, 0, 0}};
        gw_tile_cache_invalidate(h->cache, &every, 1, seq, 0);
    } else if (m) {
        gw_tile_cache_invalidate(h->cache, tc, m, seq, 0);
    }
    free(tc);
}

/* ---- routes -------------------------------------------------------------------------------- */

typedef struct hargs {
    gw_req *req;
    gw_heatmap_opts o;
    char category[256];
} hargs;

static int heat_arg(void *user, const char *key, const char *val)
{
    hargs *a = user;
    gw_req *req = a->req;
    char why[200], *end;
    if (strcmp(key, "datetime") == 0) {
        gw_time_filter tf;
        if (gw_parse_datetime(gw_req_ctx(req), val, &tf, why, sizeof why)) {
            gw_req_problem(req, 400, NULL, "parameter 'datetime': %s", why);
            return 1;
        }
        a->o.filter.has_from = tf.has_lo, a->o.filter.from = tf.lo;
        a->o.filter.has_to = tf.has_hi, a->o.filter.to = tf.hi;
    } else if (strcmp(key, "category") == 0) {
        snprintf(a->category, sizeof a->category, "%s", val);
        a->o.filter.category = a->category;
    } else if (strcmp(key, "severity_min") == 0 || strcmp(key, "severity_max") == 0) {
        long v = strtol(val, &end, 10);
        if (end == val || *end || v < 1 || v > 5) {
            gw_req_problem(req, 400, NULL, "parameter '%s': '%s' is not a severity 1 to 5", key,
                           val);
            return 1;
        }
        if (key[9] == 'm' && key[10] == 'i') a->o.filter.severity_min = (int)v;
        else a->o.filter.severity_max = (int)v;
    } else if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0) {
        double v = strtod(val, &end);
        if (end == val || *end || !(v > 0) || !isfinite(v)) {
            gw_req_problem(req, 400, NULL,
                           "parameter '%s': '%s' is not a positive density (incidents per km²)",
                           key, val);
            return 1;
        }
        if (key[1] == 'i') a->o.min = v;
        else a->o.max = v;
    } else if (strcmp(key, "f") != 0) {
        gw_req_problem(
            req, 400, NULL,
            "unknown parameter '%s' (datetime, category, severity_min, severity_max, min, max)",
            key);
        return 1;
    }
    return 0;
}

static gw_heat *heat_state(gw_req *req, gw_live **live)
{
    gw_app *app = gw_req_app(req);
    gw_hotspots *hs = app ? app->modules[GW_APP_HOTSPOTS] : NULL;
    gw_heat *h = hs ? gw_hotspots_heat(hs) : NULL;
    *live = app ? app->live : NULL;
    if (!h || !*live)
        gw_req_problem(req, 503, NULL, "heat map tiles are not enabled on this server");
    return h && *live ? h : NULL;
}

int gw_heat_legend_handler(gw_req *req)
{
    gw_live *live;
    if (!heat_state(req, &live)) return 0;
    hargs a = {.req = req};
    if (gw_req_query_each(req, heat_arg, &a)) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    char *js = NULL;
    if (!ctx) return 0;
    if (gw_heatmap_legend_json(ctx, &a.o, &js)) {
        gw_req_problem(req, 500, NULL, "%s", gw_ctx_errmsg(ctx));
        return 0;
    }
    gw_req_add_header(req, "Cache-Control", "public, max-age=3600");
    gw_req_respond(req, 200, "application/json", js, strlen(js));
    free(js);
    return 0;
}

int gw_heat_tile_handler(gw_req *req)
{
    gw_live *live;
    gw_heat *h = heat_state(req, &live);
    gw_ctx *ctx = h ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    const char *y = gw_req_param(req, "y");
    size_t yl = strlen(y);
    if (yl < 5 || strcmp(y + yl - 4, ".png")) {
        gw_req_problem(req, 404, NULL, "heat map tile '%s' must end in .png", y);
        return 0;
    }
    char zxy[128];
    int n = snprintf(zxy, sizeof zxy, "%s/%s/%.*s", gw_req_param(req, "z"), gw_req_param(req, "x"),
                     (int)(yl - 4), y);
    gw_tile_id t;
    gw_status st = gw_tile_parse(ctx, zxy, n > 0 && (size_t)n < sizeof zxy ? (size_t)n : 0, &t);
    if (st) {
        gw_req_problem(req, st == GW_ERR_RANGE ? 404 : 400, NULL, "%s", gw_ctx_errmsg(ctx));
        return 0;
    }
    hargs a = {.req = req};
    if (gw_req_query_each(req, heat_arg, &a)) return 0;
    const gw_incident_filter *f = &a.o.filter;
    /* a scoped token's density counts only its jurisdiction's incidents, cached apart */
    const char *jur = gw_auth_request_jurisdiction(req);
    char key[512 + GW_JURISDICTION_MAX];
    snprintf(key, sizeof key, "%d:%lld|%d:%lld|%s|%d|%d|%.17g|%.17g|%s", f->has_from,
             (long long)f->from, f->has_to, (long long)f->to, f->category ? f->category : "",
             f->severity_min, f->severity_max, a.o.min, a.o.max, jur);
    gw_tile_blob *b = gw_tile_cache_get(h->cache, t.z, t, key);
    int hit = b != NULL;
    if (!b) {
        gw_model_snapshot *s = gw_model_acquire(gw_live_model(live));
        gw_scope *sc = NULL;
        if (gw_req_scope(req, s, &sc)) {
            gw_model_release(ctx, s);
            return 0;
        }
        gw_scope_keep_ctx kc = {.ctx = ctx, .scope = sc};
        if (sc) a.o.keep = gw_scope_keep_row, a.o.keep_user = &kc;
        unsigned char *png = NULL;
        size_t len = 0;
        st = gw_heatmap_tile_png(ctx, s, t.z, t.x, t.y, &a.o, &png, &len);
        gw_scope_release(sc);
        if (!st) st = gw_tile_blob_create(ctx, png, len, gw_snapshot_seq(s), &b);
        free(png);
        gw_model_release(ctx, s);
        if (st) {
            gw_req_problem(req, st == GW_ERR_RANGE ? 404 : 500, NULL, "heat map tile %s: %s", zxy,
                           gw_ctx_errmsg(ctx));
            return 0;
        }
        gw_tile_cache_put(h->cache, t.z, t, key, b);
    }
    gw_req_add_header(req, "X-Tile-Cache", hit ? "hit" : "miss");
    gw_req_add_header(req, "Vary", "Authorization"); /* one account's copy is not another's */
    if (!gw_req_cache_check(req, b->etag, *jur ? "private, max-age=60" : "public, max-age=60", 0))
        gw_req_respond(req, 200, "image/png", (const char *)b->raw, b->raw_len);
    gw_tile_blob_release(b);
    return 0;
}
