/* reach_http.c — response-time areas over HTTP (reach_http.h): GET /analysis/isochrones, the
 * grid shares' cache with its worker thread, and the isochrones tile layer.  A token scoped to
 * a jurisdiction asks from its own rooms, teams and points only (others are 404 / 403) and its
 * tiles hold its own grids' pieces (docs/scoping.md); the bands themselves follow the roads
 * across the edge, as a patrol car does. */
#include "reach_http.h"
#include "tiles_http.h"

#include "app.h"
#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"
#include "http_util.h"
#include "problem.h"
#include "reach_store.h"
#include "scope_http.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct part {
    int refs;
    gw_reach_grids *t;
    struct part *next; /* replaced parts still held by a reader */
} part;

struct gw_reach_http {
    gw_live *live;
    gw_roads_http *roads;
    pthread_mutex_t lock;
    pthread_mutex_t notify; /* held while the watcher is called, and to change it */
    pthread_cond_t done;
    part *cur, *old;
    int running, has_thread;
    pthread_t th;
    gw_ctx *ctx; /* frees parts, under lock */
    gw_reach_http_watch_fn watch;
    void *watch_user;
    int for_tiles; /* shares only, read back from the store when kept, on every core */
};

int gw_reach_http_pending(gw_reach_http *r)
{
    if (!r) return 0;
    pthread_mutex_lock(&r->lock);
    int p = r->running;
    pthread_mutex_unlock(&r->lock);
    return p;
}

/* Once this returns no call of the old watcher is running or will start (a stop frees its
 * user): the call is made under `notify`. */
void gw_reach_http_watch(gw_reach_http *r, gw_reach_http_watch_fn fn, void *user)
{
    if (!r) return;
    pthread_mutex_lock(&r->notify);
    pthread_mutex_lock(&r->lock);
    r->watch = fn, r->watch_user = user;
    pthread_mutex_unlock(&r->lock);
    pthread_mutex_unlock(&r->notify);
}

static void part_unref(gw_reach_http *r, part *p)
{
    if (p && --p->refs == 0) {
        gw_reach_grids_destroy(r->ctx, p->t);
        free(p);
    }
}

/* The shares of snap on g: for the tiles read back from the store when kept; else computed
 * (the server's with polygons, on one thread beside the requests; the tiles' shares only, on
 * every core) and kept.  NULL with the error on ctx. */
static gw_reach_grids *obtain(gw_reach_http *r, gw_ctx *ctx, const gw_road_graph *g,
                              const gw_model_snapshot *snap, int srid)
{
    gw_store *store = NULL;
    if (gw_store_open(ctx, gw_live_db_path(r->live), 0, &store) != GW_OK)
        gw_ctx_clear_error(ctx), store = NULL; /* computed, not kept */
    gw_reach_grids *t = NULL;
    if (r->for_tiles && store && rk_store_load(ctx, store, g, snap, srid, &t) == GW_OK) {
        gw_store_close(store);
        return t;
    }
    gw_ctx_clear_error(ctx);
    gw_reach_opts o = {.shares_only = r->for_tiles};
    long cores = r->for_tiles ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    if (gw_reach_grids_compute(ctx, g, gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
                               gw_snapshot_layer(snap, GW_LAYER_GRIDS), srid, &o,
                               cores > 1 ? (int)cores : 1, &t) != GW_OK)
        t = NULL;
    else if (store && rk_store_save(ctx, store, g, snap, srid, t) != GW_OK) {
        fprintf(stderr, "{\"event\":\"reach_keep_failed\",\"error\":\"%s\"}\n", gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx); /* serving does not depend on the kept copy */
    }
    gw_store_close(store);
    return t;
}

static void *compute_main(void *arg)
{
    gw_reach_http *r = arg;
    gw_ctx *ctx = NULL;
    part *p = NULL;
    if (gw_ctx_create(&ctx) == GW_OK) {
        gw_model *m = gw_live_model(r->live);
        gw_model_snapshot *snap = gw_model_acquire(m);
        gw_road_net *net = gw_roads_http_net(r->roads);
        const gw_road_graph *g = gw_road_net_acquire(net);
        gw_reach_grids *t = obtain(r, ctx, g, snap, gw_model_metric_srid(m));
        if (t) {
            if ((p = calloc(1, sizeof *p))) p->refs = 1, p->t = t;
            else gw_reach_grids_destroy(ctx, t);
        } else
            fprintf(stderr, "gridwatch: grid reach by road not computed: %s\n", gw_ctx_errmsg(ctx));
        gw_road_net_release(net, g);
        gw_model_release(ctx, snap);
    }
    pthread_mutex_lock(&r->lock);
    if (p) {
        part *o = r->cur;
        r->cur = p;
        if (o && o->refs > 1) o->next = r->old, r->old = o;
        part_unref(r, o);
    }
    r->running = 0;
    pthread_cond_broadcast(&r->done);
    pthread_mutex_unlock(&r->lock);
    if (p && ctx) {
        pthread_mutex_lock(&r->notify);
        pthread_mutex_lock(&r->lock);
        gw_reach_http_watch_fn fn = r->watch;
        void *user = r->watch_user;
        pthread_mutex_unlock(&r->lock);
        if (fn) fn(user, ctx);
        pthread_mutex_unlock(&r->notify);
    }
    gw_ctx_destroy(ctx);
    return NULL;
}

/* Under lock: start the worker unless it runs. */
static void start(gw_reach_http *r)
{
    if (r->running) return;
    if (r->has_thread) pthread_join(r->th, NULL), r->has_thread = 0;
    r->running = 1;
    if (pthread_create(&r->th, NULL, compute_main, r) == 0) r->has_thread = 1;
    else r->running = 0;
}

static int current(const part *p, int64_t gseq, int64_t rseq, int64_t grseq)
{
    return p && gw_reach_grids_graph_seq(p->t) == gseq && gw_reach_grids_rooms_seq(p->t) == rseq &&
           gw_reach_grids_grids_seq(p->t) == grseq;
}

const gw_reach_grids *gw_reach_http_acquire(gw_reach_http *r, const gw_model_snapshot *snap,
                                            unsigned wait_ms)
{
    if (!r || !snap) return NULL;
    gw_road_net *net = gw_roads_http_net(r->roads);
    const gw_road_graph *g = gw_road_net_acquire(net);
    int64_t gseq = gw_road_graph_seq(g);
    size_t nn = gw_road_graph_nodes(g);
    gw_road_net_release(net, g);
    if (!nn) return NULL;
    int64_t rseq = gw_layer_data_seq(gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS)),
            grseq = gw_layer_data_seq(gw_snapshot_layer(snap, GW_LAYER_GRIDS));
    pthread_mutex_lock(&r->lock);
    if (!current(r->cur, gseq, rseq, grseq)) {
        start(r);
        if (wait_ms) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += wait_ms / 1000;
            until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            while (r->running && pthread_cond_timedwait(&r->done, &r->lock, &until) != ETIMEDOUT) {}
        }
    }
    const gw_reach_grids *t = NULL;
    if (current(r->cur, gseq, rseq, grseq)) r->cur->refs++, t = r->cur->t;
    pthread_mutex_unlock(&r->lock);
    return t;
}

void gw_reach_http_release(gw_reach_http *r, const gw_reach_grids *t)
{
    if (!r || !t) return;
    pthread_mutex_lock(&r->lock);
    if (r->cur && r->cur->t == t) part_unref(r, r->cur);
    else
        for (part **pp = &r->old; *pp; pp = &(*pp)->next)
            if ((*pp)->t == t) {
                part *o = *pp;
                if (o->refs == 1) *pp = o->next;
                part_unref(r, o);
                break;
            }
    pthread_mutex_unlock(&r->lock);
}

gw_status gw_reach_http_create(gw_ctx *ctx, gw_live *live, gw_roads_http *roads,
                               gw_reach_http **out)
{
    *out = NULL;
    gw_reach_http *r = calloc(1, sizeof *r);
    if (!r) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    r->live = live, r->roads = roads;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->notify, NULL);
    pthread_cond_init(&r->done, NULL);
    gw_status st = gw_ctx_create(&r->ctx);
    if (st) {
        gw_reach_http_destroy(r);
        return gw_ctx_error(ctx, st, "out of memory");
    }
    *out = r;
    return GW_OK;
}

gw_status gw_reach_http_create_for_tiles(gw_ctx *ctx, gw_live *live, gw_roads_http *roads,
                                         gw_reach_http **out)
{
    gw_status st = gw_reach_http_create(ctx, live, roads, out);
    if (!st) (*out)->for_tiles = 1;
    return st;
}

void gw_reach_http_stop(gw_reach_http *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    int has = r->has_thread;
    r->has_thread = 0;
    pthread_mutex_unlock(&r->lock);
    if (has) pthread_join(r->th, NULL);
}

void gw_reach_http_destroy(gw_reach_http *r)
{
    if (!r) return;
    gw_reach_http_stop(r);
    if (r->cur) part_unref(r, r->cur);
    gw_ctx_destroy(r->ctx);
    pthread_cond_destroy(&r->done);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->notify);
    free(r);
}

gw_reach_http *gw_req_reach(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    return app ? app->modules[GW_APP_REACH] : NULL;
}

/* ---- GET /analysis/isochrones ----------------------------------------------------------------- */

static json_t *geom_json(gw_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSGeoJSONWriter *w = GEOSGeoJSONWriter_create_r(h);
    char *s = w ? GEOSGeoJSONWriter_writeGeometry_r(h, w, g, -1) : NULL;
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    if (s) GEOSFree_r(h, s);
    if (w) GEOSGeoJSONWriter_destroy_r(h, w);
    return j;
}

/* minutes=3,5,10 into m[]; 0 when fine, else answered. */
static int parse_minutes(gw_req *req, double *m, size_t *n)
{
    const char *s = gw_req_query(req, "minutes");
    if (!s) s = "3,5,10";
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        double v;
        if (*n == GW_REACH_MAX_BANDS || gw_parse_double(tok, &v) ||
            !(v > 0 && v <= GW_REACH_MAX_MINUTES)) {
            gw_req_problem(
                req, 400, NULL,
                "parameter 'minutes': 1 to %d comma-separated numbers in (0, %g] (got %s)",
                GW_REACH_MAX_BANDS, GW_REACH_MAX_MINUTES, s);
            return -1;
        }
        m[(*n)++] = v;
    }
    if (!*n) {
        gw_req_problem(req, 400, NULL, "parameter 'minutes' is empty");
        return -1;
    }
    return 0;
}

static int h_isochrones(gw_req *req)
{
    gw_ctx *ctx = gw_req_ctx(req);
    gw_live *live = gw_req_live(req);
    gw_road_net *net = gw_req_roads(req);
    if (!ctx || !live || !net) {
        gw_req_problem(req, 503, NULL, "the road network is not running");
        return 0;
    }
    double min[GW_REACH_MAX_BANDS];
    size_t nb = 0;
    if (parse_minutes(req, min, &nb)) return 0;
    gw_reach_opts o = {0};
    const char *ws = gw_req_query(req, "width");
    if (ws && (gw_parse_double(ws, &o.width_m) || !(o.width_m >= 1 && o.width_m <= 1000))) {
        gw_req_problem(req, 400, NULL, "parameter 'width': metres in [1, 1000] (got %s)", ws);
        return 0;
    }
    const char *room = gw_req_query(req, "room"), *team = gw_req_query(req, "team"),
               *slon = gw_req_query(req, "lon"), *slat = gw_req_query(req, "lat");
    if ((room != NULL) + (team != NULL) + (slon != NULL || slat != NULL) != 1) {
        gw_req_problem(req, 400, NULL, "give one source: room=ID, team=ID or lon=&lat=");
        return 0;
    }
    double lon = 0, lat = 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    const char *kind = room ? "room" : team ? "team" : "point", *id = room ? room : team;
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    if (id) { /* a room or team outside the token's jurisdiction is not there for it */
        const gw_layer_data *d = gw_snapshot_layer(snap,
                                                   room ? GW_LAYER_POLICE_ROOMS : GW_LAYER_TEAMS);
        ptrdiff_t row = gw_layer_data_find(d, id);
        if (row < 0 || (sc && gw_scope_has_row(ctx, sc, d, (size_t)row) != 1)) {
            gw_scope_release(sc);
            gw_model_release(ctx, snap);
            gw_req_problem(req, 404, NULL, "no %s '%s'", room ? "police room" : "team", id);
            return 0;
        }
        lon = gw_layer_data_x(d, GW_MODEL_LONLAT)[row],
        lat = gw_layer_data_y(d, GW_MODEL_LONLAT)[row];
    } else if (!slon || !slat || gw_parse_double(slon, &lon) || gw_parse_double(slat, &lat) ||
               !(fabs(lon) <= 180 && fabs(lat) <= 90)) {
        gw_scope_release(sc);
        gw_model_release(ctx, snap);
        gw_req_problem(req, 400, NULL, "give the point as lon=<number>&lat=<number> in degrees");
        return 0;
    } else if (sc && !gw_req_scope_lonlat(req, sc, lon, lat)) {
        gw_req_scope_refuse_point(req, lon, lat);
        gw_scope_release(sc);
        gw_model_release(ctx, snap);
        return 0;
    }
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    const gw_road_graph *g = gw_road_net_acquire(net);
    if (!gw_road_graph_nodes(g)) {
        gw_road_net_release(net, g);
        gw_req_problem(
            req, 409, NULL,
            "the database has no roads: import some with 'gridwatch import DB roads FILE'");
        return 0;
    }
    gw_road_search *s = NULL;
    gw_reach_iso *iso = NULL;
    gw_status st = gw_road_search_create(ctx, g, &s);
    if (!st) st = gw_reach_isochrone(ctx, g, s, lon, lat, min, nb, &o, &iso);
    gw_road_search_destroy(s);
    int64_t gseq = gw_road_graph_seq(g);
    gw_road_net_release(net, g);
    if (st) {
        gw_req_fail(req, ctx, st, "isochrones");
        return 0;
    }
    json_t *feats = json_array();
    for (size_t b = 0; b < nb; b++) {
        json_t *geom = geom_json(ctx, gw_reach_iso_geom(iso, b, 1));
        json_array_append_new(feats, json_pack("{s:s,s:{s:f,s:f,s:f},s:o}", "type", "Feature",
                                               "properties", "minutes", min[b], "area_m2",
                                               round(gw_reach_iso_area(iso, b)), "road_m",
                                               round(gw_reach_iso_road_m(iso, b) * 10) / 10,
                                               "geometry", geom ? geom : json_null()));
    }
    double snap_m = gw_reach_iso_snap_m(iso);
    gw_reach_iso_destroy(ctx, iso);
    json_t *src = json_pack("{s:s,s:[f,f]}", "kind", kind, "coordinates", lon, lat);
    if (id) json_object_set_new(src, "id", json_string(id));
    json_t *doc = json_pack("{s:s,s:o,s:o,s:f,s:I,s:o}", "type", "FeatureCollection", "source", src,
                            "snap_m",
                            snap_m >= 0 ? json_real(round(snap_m * 10) / 10) : json_null(),
                            "width_m", o.width_m > 0 ? o.width_m : 100.0, "graph_seq",
                            (json_int_t)gseq, "features", feats);
    gw_req_respond_json_as(req, 200, doc, "application/geo+json");
    return 0;
}

/* ---- GET /tiles/isochrones/{z}/{x}/{y} ------------------------------------------------------- */

static int h_tile(gw_req *req)
{
    gw_ctx *ctx = gw_req_ctx(req);
    gw_live *live = gw_req_live(req);
    gw_reach_http *r = gw_req_reach(req);
    if (!ctx || !live || !r) {
        gw_req_problem(req, 503, NULL, "the reach module is not running");
        return 0;
    }
    gw_tile_id t;
    if (gw_tiles_req_tile(req, ctx, &t)) return 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    gw_scope *sc = NULL; /* a scoped token sees its own grids' pieces */
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    const gw_reach_grids *tab = gw_reach_http_acquire(r, snap, 0);
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    gw_bbox box = gw_tile_bounds(t);
    gw_mvt *mvt = NULL;
    gw_status st = gw_mvt_create(ctx, t, NULL, &mvt);
    if (!st) st = gw_mvt_add_layer(mvt, "isochrones", 4096);
    for (size_t i = 0; tab && !st && i < gw_reach_grids_count(tab); i++)
        for (size_t b = GW_REACH_GRID_BANDS; b-- > 0 && !st;) { /* the widest band drawn first */
            const GEOSGeometry *gm = gw_reach_grids_geom(tab, i, b);
            if (!gm) continue;
            if (sc && !gw_scope_has_grid_row(sc, i)) continue;
            gw_bbox e = gw_reach_grids_env(tab, i, b);
            if (e.maxx < box.minx || e.minx > box.maxx || e.maxy < box.miny || e.miny > box.maxy)
                continue;
            gw_mvt_prop p[3] = {{"grid",
                                 {.type = GW_MVT_STRING, .u.s = gw_layer_data_id(grids, i)}},
                                {"minutes",
                                 {.type = GW_MVT_INT, .u.i = (int64_t)gw_reach_grid_minutes(b)}},
                                {"share",
                                 {.type = GW_MVT_DOUBLE,
                                  .u.d = round(gw_reach_grids_share(tab, b)[i] * 1000) / 1000}}};
            st = gw_mvt_add_feature(mvt, 0, false, gm, p, 3, NULL);
        }
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (!st) st = gw_mvt_finish(mvt, &bytes, &len);
    if (!st) {
        if (!tab) gw_req_add_header(req, "Cache-Control", "no-store");
        else if (sc) gw_req_add_header(req, "Cache-Control", "private");
        gw_req_respond(req, 200, "application/vnd.mapbox-vector-tile", (const char *)bytes, len);
    } else gw_req_fail(req, ctx, st, "isochrones tile");
    gw_mvt_destroy(mvt);
    gw_reach_http_release(r, tab);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/isochrones", h_isochrones, GW_ROLE_VIEWER, "isochrones"},
    {"GET", "/tiles/isochrones/{z}/{x}/{y}", h_tile, GW_ROLE_VIEWER, "isochrones_tile"},
};

const gw_route *gw_reach_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
