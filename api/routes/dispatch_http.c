/* dispatch_http.c — the dispatcher's HTTP routes over geo/dispatch.c (see dispatch_http.h):
 * query parsing, JSON answers, the per-thread write connection for positions and assignments,
 * and the live listener that merges each refreshed model into the dispatch team table.
 * Distances are planar metres in the dataset's metric CRS; the answer names that CRS. */
#include "dispatch_http.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "http_util.h"
#include "problem.h"
#include "roads_http.h"
#include "scope_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_POSITIONS 20000
#define MAX_CAMERAS 200

/* ---- state ----------------------------------------------------------------------------- */

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    for (size_t i = 0; i < n; i++)
        if (ch[i].layer == GW_LAYER_TEAMS || ch[i].layer == GW_LAYER_COUNT) {
            gw_dispatch_sync(ctx, user, snap);
            return;
        }
}

gw_status gw_dispatch_http_create(gw_ctx *ctx, gw_live *live, int64_t stale_s, gw_dispatch **out)
{
    gw_dispatch_opts o = {.stale_s = stale_s};
    gw_status st = gw_dispatch_create(ctx, gw_live_model(live), &o, out);
    if (!st && (st = gw_live_listen(live, on_changes, *out)) != GW_OK) {
        gw_dispatch_destroy(*out);
        *out = NULL;
        return gw_ctx_error(ctx, st, "cannot register the dispatch listener");
    }
    return st;
}

static gw_dispatch *req_dispatch(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_dispatch *d = app ? app->modules[GW_APP_DISPATCH] : NULL;
    if (!d) gw_req_problem(req, 503, NULL, "dispatch is not enabled on this server");
    return d;
}

/* ---- query pieces ------------------------------------------------------------------------ */

/* A query parameter out of its range is a bad request (400), like a malformed one; only a
 * body's value outside its domain is 422 (docs/http-errors.md). */
static int check_lonlat(gw_req *req, double lon, double lat)
{
    if (lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) return 0;
    gw_req_problem(req, 400, NULL,
                   "point (lon %g, lat %g) is outside lon/lat range "
                   "(lon -180..180, lat -90..90)",
                   lon, lat);
    return -1;
}

/* lon/lat (EPSG:4326) of the request's point (?lon=&lat=, in ?crs= when given); 0 or -1
 * with a 400 answered. */
static int query_point(gw_req *req, double *lon, double *lat)
{
    const char *slon = gw_req_query(req, "lon"), *slat = gw_req_query(req, "lat");
    if (!slon || !slat || gw_parse_double(slon, lon) || gw_parse_double(slat, lat)) {
        gw_req_problem(req, 400, NULL,
                       "give the point as lon=<number>&lat=<number> (got lon=%s, lat=%s)",
                       slon ? slon : "(none)", slat ? slat : "(none)");
        return -1;
    }
    const char *crs = gw_req_query(req, "crs");
    if (!crs) return check_lonlat(req, *lon, *lat);
    gw_ctx *ctx = gw_req_ctx(req);
    if (!ctx) return -1;
    gw_crs c;
    if (gw_crs_parse(ctx, crs, &c) != GW_OK) {
        gw_req_problem(req, 400, NULL, "parameter 'crs': %s", gw_ctx_errmsg(ctx));
        return -1;
    }
    if (c.kind == GW_CRS_EPSG && c.epsg == 4326) return 0;
    gw_crs_transform *tr = NULL;
    gw_status st = gw_crs_transform_create(ctx, c, (gw_crs){GW_CRS_EPSG, 4326}, &tr);
    if (!st) st = gw_crs_transform_points_checked(tr, lon, lat, 1);
    gw_crs_transform_destroy(tr);
    if (st) {
        gw_req_problem(req, 400, NULL, "cannot take the point from crs '%s': %s", crs,
                       gw_ctx_errmsg(ctx));
        return -1;
    }
    return check_lonlat(req, *lon, *lat);
}

static int query_int(gw_req *req, const char *name, int64_t dflt, int64_t lo, int64_t hi,
                     int64_t *out)
{
    const char *v = gw_req_query(req, name);
    *out = dflt;
    if (!v) return 0;
    if (gw_parse_int64(v, out) || *out < lo || *out > hi) {
        gw_req_problem(req, 400, NULL,
                       "parameter '%s' must be an integer from %lld to %lld (got '%s')", name,
                       (long long)lo, (long long)hi, v);
        return -1;
    }
    return 0;
}

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *round_num(double v, double scale) { return json_real(round(v * scale) / scale); }

static json_t *point_json(double lon, double lat)
{
    return json_pack("{s:o,s:o}", "lon", round_num(lon, 1e7), "lat", round_num(lat, 1e7));
}

/* ---- GET /dispatch/locate ------------------------------------------------------------------ */

static json_t *feature_json(const gw_layer_data *L, gw_layer layer, size_t row,
                            const char *const *fields)
{
    json_t *o = json_object();
    for (int i = 0; fields[i]; i++) {
        int f = gw_layer_field_index(layer, fields[i]);
        gw_value v = gw_layer_data_value(L, row, f);
        json_t *j = v.kind == GW_VAL_TEXT   ? json_string(v.s)
                    : v.kind == GW_VAL_INT  ? json_integer(v.i)
                    : v.kind == GW_VAL_REAL ? json_real(v.d)
                                            : json_null();
        json_object_set_new(o, fields[i], j);
    }
    return o;
}

static int h_locate(gw_req *req)
{
    gw_dispatch *d = req_dispatch(req);
    gw_ctx *ctx = gw_req_ctx(req);
    double lon, lat;
    int64_t ncam;
    if (!d || !ctx || query_point(req, &lon, &lat) ||
        query_int(req, "cameras", 20, 0, MAX_CAMERAS, &ncam))
        return 0;
    gw_model *m = gw_live_model(gw_req_live(req));
    gw_model_snapshot *snap = gw_model_acquire(m);
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    /* a scoped token: the point must lie in its jurisdiction, and only the rooms and cameras
     * that do are shown (asked for more, then kept in order) */
    gw_dispatch_hit rooms[16], cams[MAX_CAMERAS];
    gw_locate loc;
    gw_status st = gw_dispatch_locate(ctx, d, snap, lon, lat, rooms, sc ? 16 : 3, cams,
                                      sc ? MAX_CAMERAS : (size_t)ncam, &loc);
    if (!st && sc && !gw_req_scope_lonlat(req, sc, lon, lat)) {
        gw_req_scope_refuse_point(req, lon, lat);
        gw_scope_release(sc);
        gw_model_release(ctx, snap);
        return 0;
    }
    if (!st && sc) {
        const gw_layer_data *R = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
                            *C = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
        size_t k = 0;
        for (size_t i = 0; i < loc.n_rooms; i++)
            if (gw_scope_has_row(ctx, sc, R, rooms[i].row) && k < 3) rooms[k++] = rooms[i];
        loc.n_rooms = k;
        k = 0;
        for (size_t i = 0; i < loc.n_cameras; i++)
            if (gw_scope_has_row(ctx, sc, C, cams[i].row)) cams[k++] = cams[i];
        loc.cameras_total = k; /* of those in the jurisdiction (at most MAX_CAMERAS) */
        loc.n_cameras = k < (size_t)ncam ? k : (size_t)ncam;
    }
    gw_scope_release(sc);
    if (st) {
        gw_model_release(ctx, snap);
        gw_req_fail(req, ctx, st, NULL);
        return 0;
    }
    static const char *const grid_f[] = {"id",      "name",   "prefecture", "county", "township",
                                         "village", "worker", "phone",      NULL};
    static const char *const room_f[] = {"id", "name", "phone", "address", NULL};
    static const char *const cam_f[] = {"id", "name", "azimuth", "fov", "range", "status", NULL};
    json_t *doc = json_object();
    json_object_set_new(doc, "point", point_json(lon, lat));
    json_object_set_new(doc, "metric_crs", json_sprintf("EPSG:%d", gw_model_metric_srid(m)));
    json_object_set_new(doc, "grid",
                        loc.grid >= 0 ? feature_json(gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                                                     GW_LAYER_GRIDS, (size_t)loc.grid, grid_f)
                                      : json_null());
    json_t *rarr = json_array();
    const gw_layer_data *R = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS);
    for (size_t i = 0; i < loc.n_rooms; i++) {
        json_t *o = feature_json(R, GW_LAYER_POLICE_ROOMS, rooms[i].row, room_f);
        json_object_set_new(o, "distance_m", round_num(rooms[i].distance_m, 10));
        json_object_set_new(o, "bearing_deg", round_num(rooms[i].bearing_deg, 10));
        json_object_set_new(o, "location",
                            point_json(gw_layer_data_x(R, GW_MODEL_LONLAT)[rooms[i].row],
                                       gw_layer_data_y(R, GW_MODEL_LONLAT)[rooms[i].row]));
        json_array_append_new(rarr, o);
    }
    json_object_set_new(doc, "police_room",
                        loc.n_rooms ? json_deep_copy(json_array_get(rarr, 0)) : json_null());
    json_object_set_new(doc, "police_room_rule",
                        json_string("nearest police room by geodesic distance "
                                    "(ties: smaller id), as incidents record it"));
    json_object_set_new(doc, "police_rooms_nearest", rarr);
    json_t *carr = json_array();
    const gw_layer_data *C = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    for (size_t i = 0; i < loc.n_cameras; i++) {
        json_t *o = feature_json(C, GW_LAYER_CAMERAS, cams[i].row, cam_f);
        json_object_set_new(o, "distance_m", round_num(cams[i].distance_m, 10));
        json_object_set_new(o, "bearing_deg", round_num(cams[i].bearing_deg, 10));
        json_array_append_new(carr, o);
    }
    json_object_set_new(doc, "cameras", carr);
    json_object_set_new(doc, "cameras_total", json_integer((json_int_t)loc.cameras_total));
    json_object_set_new(doc, "seq", json_integer(gw_snapshot_seq(snap)));
    gw_model_release(ctx, snap);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

/* ---- GET /dispatch/nearest ---------------------------------------------------------------- */

static json_t *team_json(const gw_team_hit *h, int with_distance)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(h->id));
    json_object_set_new(o, "name", text_or_null(h->name));
    json_object_set_new(o, "status", json_string(gw_team_status_name(h->status)));
    json_object_set_new(o, "members", h->members >= 0 ? json_integer(h->members) : json_null());
    json_object_set_new(o, "location", point_json(h->lon, h->lat));
    if (with_distance) {
        json_object_set_new(o, "distance_m", round_num(h->distance_m, 10));
        json_object_set_new(o, "bearing_deg", round_num(h->bearing_deg, 10));
        json_object_set_new(o, "eta_s", json_null()); /* by=eta ranks by road (docs/roads.md) */
    }
    char at[32];
    if (h->updated_at != INT64_MIN) gw_time_format(h->updated_at, at, sizeof at);
    json_object_set_new(o, "updated_at",
                        h->updated_at != INT64_MIN ? json_string(at) : json_null());
    json_object_set_new(o, "age_s", h->age_s >= 0 ? json_integer(h->age_s) : json_null());
    json_object_set_new(o, "stale", json_boolean(h->stale));
    return o;
}

/* A gw_nearest_opts.keep over a gw_scope_keep_ctx: the team's metric point in the scope. */
static int scope_keep_team(void *user, double x, double y)
{
    const gw_scope_keep_ctx *k = user;
    return gw_scope_has_point(k->ctx, k->scope, x, y);
}

/* A route as a GeoJSON LineString (a point twice when team and incident coincide). */
static json_t *route_json(const double *c, size_t n)
{
    json_t *coords = json_array();
    for (size_t i = 0; i < n || i < 2; i++) {
        size_t j = i < n ? i : n - 1;
        json_t *p = json_array();
        json_array_append_new(p, round_num(c[2 * j], 1e7));
        json_array_append_new(p, round_num(c[2 * j + 1], 1e7));
        json_array_append_new(coords, p);
    }
    json_t *g = json_object();
    json_object_set_new(g, "type", json_string("LineString"));
    json_object_set_new(g, "coordinates", coords);
    return g;
}

/* GET /dispatch/nearest?…&by=eta: the k teams that arrive first by road (docs/roads.md).
 * Teams that cannot reach the point (no road near them, none leading there) are omitted and
 * counted in "unreachable". */
static int nearest_eta(gw_req *req, gw_dispatch *d, gw_ctx *ctx, double lon, double lat,
                       gw_nearest_opts *o, int64_t stale_s)
{
    int64_t with_route, snap_max;
    const char *rv = gw_req_query(req, "route");
    if (rv && strcmp(rv, "true") && strcmp(rv, "false") && strcmp(rv, "1") && strcmp(rv, "0")) {
        gw_req_problem(req, 400, NULL, "parameter 'route' must be true or false (got '%s')", rv);
        return 0;
    }
    with_route = rv && (!strcmp(rv, "true") || !strcmp(rv, "1"));
    if (query_int(req, "snap_max_m", 500, 1, 100000, &snap_max)) return 0;
    gw_road_net *net = gw_req_roads(req);
    const gw_road_graph *g = net ? gw_road_net_acquire(net) : NULL;
    if (!g || gw_road_graph_arcs(g) == 0) {
        gw_road_net_release(net, g);
        gw_req_problem(req, 409, NULL,
                       "by=eta needs the road layer, and this database has no roads: import "
                       "them with `gridwatch import DB roads FILE` (docs/roads.md)");
        return 0;
    }
    gw_road_search *s = NULL;
    gw_scope *sc = NULL;
    gw_status st = gw_road_search_create(ctx, g, &s);
    if (!st && gw_req_scope_live(req, &sc)) {
        gw_road_search_destroy(s);
        gw_road_net_release(net, g);
        return 0;
    }
    gw_scope_keep_ctx kc = {ctx, sc};
    if (sc) o->keep = scope_keep_team, o->keep_user = &kc;
    gw_team_eta hits[256];
    gw_road_snap dest;
    size_t n = 0, unreachable = 0;
    if (!st)
        st = gw_dispatch_nearest_eta(ctx, d, g, s, lon, lat, o, (double)snap_max, hits, &n,
                                     &unreachable, &dest);
    gw_scope_release(sc);
    if (st == GW_ERR_NOT_FOUND) {
        gw_road_search_destroy(s);
        gw_road_net_release(net, g);
        gw_req_problem(req, 400, NULL, "%s (raise snap_max_m, at most 100000)", gw_ctx_errmsg(ctx));
        return 0;
    }
    json_t *arr = st ? NULL : json_array();
    for (size_t i = 0; !st && i < n; i++) {
        json_t *tj = team_json(&hits[i].team, 1);
        json_object_set_new(tj, "eta_s", round_num(hits[i].eta_s, 10));
        json_object_set_new(tj, "route_m", round_num(hits[i].route_m, 10));
        json_object_set_new(tj, "snap_m", round_num(hits[i].snap_m, 10));
        if (with_route) {
            double *c = NULL;
            size_t np = 0;
            st = gw_road_route(s, hits[i].source, &c, &np);
            if (!st && np) json_object_set_new(tj, "route", route_json(c, np));
            free(c);
        }
        json_array_append_new(arr, tj);
    }
    gw_road_search_destroy(s);
    gw_road_net_release(net, g);
    if (st) {
        json_decref(arr);
        gw_req_fail(req, ctx, st, NULL);
        return 0;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "point", point_json(lon, lat));
    json_object_set_new(doc, "by", json_string("eta"));
    json_object_set_new(doc, "distance",
                        json_sprintf("planar metres in EPSG:%d",
                                     gw_model_metric_srid(gw_live_model(gw_req_live(req)))));
    json_object_set_new(doc, "point_snap_m", round_num(dest.dist_m, 10));
    json_object_set_new(doc, "stale_after_s", json_integer(stale_s));
    json_object_set_new(doc, "unreachable", json_integer((json_int_t)unreachable));
    json_object_set_new(doc, "teams", arr);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

static int h_nearest(gw_req *req)
{
    gw_dispatch *d = req_dispatch(req);
    gw_ctx *ctx = gw_req_ctx(req);
    double lon, lat;
    int64_t k, inc, stale_s;
    if (!d || !ctx || query_point(req, &lon, &lat) || query_int(req, "k", 5, 1, 256, &k) ||
        query_int(req, "include_stale", 0, 0, 1, &inc) ||
        query_int(req, "stale_s", gw_dispatch_stale_s(d), 1, 365 * 86400, &stale_s))
        return 0;
    gw_nearest_opts o = {.k = (size_t)k,
                         .include_stale = (int)inc,
                         .stale_s = stale_s,
                         .lonlat = 1,
                         .lon = lon,
                         .lat = lat};
    const char *sv = gw_req_query(req, "status");
    if (sv && strcmp(sv, "any") == 0) {
        o.status_mask = ~0u;
    } else if (sv) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", sv);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            gw_team_status s = gw_team_status_parse(t);
            if (s == GW_TEAM_UNKNOWN) {
                gw_req_problem(req, 400, NULL,
                               "parameter 'status': '%s' is not one of available, busy, "
                               "offline, any (comma-separated)",
                               t);
                return 0;
            }
            o.status_mask |= 1u << s;
        }
    }
    const char *mv = gw_req_query(req, "max_m");
    if (mv && (gw_parse_double(mv, &o.max_m) || !(o.max_m > 0))) {
        gw_req_problem(req, 400, NULL,
                       "parameter 'max_m' must be a positive number of metres (got '%s')", mv);
        return 0;
    }
    const char *by = gw_req_query(req, "by");
    if (by && strcmp(by, "distance") != 0 && strcmp(by, "eta") != 0) {
        gw_req_problem(req, 400, NULL, "parameter 'by' must be distance or eta (got '%s')", by);
        return 0;
    }
    if (by && strcmp(by, "eta") == 0) return nearest_eta(req, d, ctx, lon, lat, &o, stale_s);
    double x, y;
    gw_team_hit hits[256];
    size_t n = 0, skipped = 0;
    gw_scope *sc = NULL;
    if (gw_req_scope_live(req, &sc)) return 0;
    /* a scoped token: the k nearest of its jurisdiction's own teams, however far (the index
     * search skips the others and goes on outward) */
    gw_scope_keep_ctx kc = {ctx, sc};
    if (sc) o.keep = scope_keep_team, o.keep_user = &kc;
    gw_status st = gw_dispatch_to_metric(ctx, d, lon, lat, &x, &y);
    if (!st) st = gw_dispatch_nearest(ctx, d, x, y, &o, hits, &n, &skipped);
    gw_scope_release(sc);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
        return 0;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, team_json(&hits[i], 1));
    json_t *doc = json_object();
    json_object_set_new(doc, "point", point_json(lon, lat));
    json_object_set_new(doc, "distance",
                        json_sprintf("planar metres in EPSG:%d",
                                     gw_model_metric_srid(gw_live_model(gw_req_live(req)))));
    json_object_set_new(doc, "stale_after_s", json_integer(stale_s));
    json_object_set_new(doc, "stale_skipped", json_integer((json_int_t)skipped));
    json_object_set_new(doc, "teams", arr);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

/* ---- writes -------------------------------------------------------------------------------- */

/* The JSON body (object or array); NULL with a 400 answered. */
static json_t *json_body(gw_req *req)
{
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    json_error_t e;
    json_t *j = len ? json_loadb(body, len, 0, &e) : NULL;
    if (!j)
        gw_req_problem(req, 400, NULL, "the body must be JSON%s%s (at byte %d)", len ? ": " : "",
                       len ? e.text : " (it is empty)", len ? e.position : 0);
    return j;
}

static const char *json_id(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* For a scoped token: every team of the batch must lie in its jurisdiction where the table has
 * it and where it is reported; 0, or -1 with a 403 answered naming the first that does not.
 * A team the table does not know is left to the write (reported as unknown). */
static int scope_positions(gw_req *req, gw_dispatch *d, const gw_team_position *p, size_t n)
{
    gw_scope *sc = NULL;
    if (gw_req_scope_live(req, &sc)) return -1;
    if (!sc) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        gw_team_hit h;
        int known = gw_dispatch_team(ctx, d, p[i].id, 0, &h) == GW_OK;
        gw_ctx_clear_error(ctx);
        if (!known) continue;
        if (!gw_req_scope_lonlat(req, sc, h.lon, h.lat) ||
            !gw_req_scope_lonlat(req, sc, p[i].lon, p[i].lat)) {
            char what[96];
            snprintf(what, sizeof what, "team '%s' (where it is or where it is reported)", p[i].id);
            gw_req_scope_refuse(req, what);
            rc = -1;
        }
    }
    gw_scope_release(sc);
    return rc;
}

static int h_positions(gw_req *req)
{
    gw_dispatch *d = req_dispatch(req);
    if (!d || gw_auth_require_write(req, GW_LAYER_TEAMS)) return 0;
    json_t *doc = json_body(req);
    if (!doc) return 0;
    json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "positions");
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n > MAX_POSITIONS) {
        gw_req_problem(req, 400, NULL,
                       "send an array of {id, lon, lat, at} (or {\"positions\": [...]}), "
                       "at most %d per request",
                       MAX_POSITIONS);
        json_decref(doc);
        return 0;
    }
    gw_team_position *p = calloc(n ? n : 1, sizeof *p);
    uint8_t *oc = calloc(n ? n : 1, 1);
    char(*ids)[24] = calloc(n ? n : 1, sizeof *ids);
    gw_store *s = NULL;
    if (!p || !oc || !ids) {
        gw_req_problem(req, 503, NULL, "out of memory for %zu positions", n);
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(arr, i);
        json_t *jlon = json_object_get(it, "lon"), *jlat = json_object_get(it, "lat"),
               *jat = json_object_get(it, "at");
        p[i].id = json_id(json_object_get(it, "id"), ids[i], sizeof ids[i]);
        if (!p[i].id || !json_is_number(jlon) || !json_is_number(jlat)) {
            gw_req_problem(req, 400, NULL,
                           "position %zu needs an id (text or integer) and numeric lon and lat", i);
            goto done;
        }
        p[i].lon = json_number_value(jlon), p[i].lat = json_number_value(jlat);
        p[i].at = now;
        if (json_is_integer(jat)) {
            p[i].at = json_integer_value(jat);
        } else if (json_is_string(jat)) {
            gw_ctx *ctx = gw_req_ctx(req);
            if (!ctx) goto done;
            if (gw_time_parse(ctx, json_string_value(jat), NULL, &p[i].at) != GW_OK) {
                gw_req_problem(req, 400, NULL, "position %zu (team '%s'): 'at': %s", i, p[i].id,
                               gw_ctx_errmsg(ctx));
                goto done;
            }
        } else if (jat && !json_is_null(jat)) {
            gw_req_problem(req, 400, NULL,
                           "position %zu: 'at' must be an ISO 8601 time or Unix seconds", i);
            goto done;
        }
    }
    if (!(s = gw_req_write_store(req))) goto done;
    if (scope_positions(req, d, p, n)) goto done;
    int64_t seq = 0;
    gw_status st = gw_dispatch_positions(d, s, p, n, oc, &seq);
    if (st) {
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
        goto done;
    }
    if (seq) gw_live_kick(gw_req_live(req));
    size_t cnt[3] = {0};
    json_t *ign = json_array();
    for (size_t i = 0; i < n; i++) {
        cnt[oc[i]]++;
        if (oc[i] != GW_POS_APPLIED)
            json_array_append_new(ign,
                                  json_pack("{s:s,s:s}", "id", p[i].id, "reason",
                                            oc[i] == GW_POS_OLDER ? "older than the last position"
                                                                  : "no such team"));
    }
    gw_req_respond_json(req, 200,
                        json_pack("{s:I,s:I,s:I,s:I,s:o}", "applied",
                                  (json_int_t)cnt[GW_POS_APPLIED], "ignored_older",
                                  (json_int_t)cnt[GW_POS_OLDER], "unknown",
                                  (json_int_t)cnt[GW_POS_UNKNOWN], "seq", (json_int_t)seq,
                                  "ignored", ign));
done:
    free(p), free(oc), free(ids);
    json_decref(doc);
    return 0;
}

static int assign_or_release(gw_req *req, int assign)
{
    gw_dispatch *d = req_dispatch(req);
    if (!d || gw_auth_require_write(req, GW_LAYER_TEAMS)) return 0;
    json_t *doc = json_body(req);
    if (!doc) return 0;
    char b1[24], b2[24];
    const char *team = json_id(json_object_get(doc, "team"), b1, sizeof b1);
    const char *inc = json_id(json_object_get(doc, "incident"), b2, sizeof b2);
    const char *by = json_string_value(json_object_get(doc, "by"));
    if (!by) by = gw_role_name(gw_auth_request_role(req));
    if (!team || (assign && !inc)) {
        gw_req_problem(req, 400, NULL,
                       assign ? "send {\"incident\": id, \"team\": id}" : "send {\"team\": id}");
        json_decref(doc);
        return 0;
    }
    gw_store *s = gw_req_write_store(req);
    if (!s) {
        json_decref(doc);
        return 0;
    }
    /* a scoped token: its team (where the table has it) and its incident must lie in the
     * jurisdiction */
    gw_scope *sc = NULL;
    if (gw_req_scope_live(req, &sc)) {
        json_decref(doc);
        return 0;
    }
    if (sc) {
        gw_ctx *ctx = gw_req_ctx(req);
        gw_team_hit h;
        char what[96] = "";
        if (gw_dispatch_team(ctx, d, team, 0, &h) == GW_OK &&
            !gw_req_scope_lonlat(req, sc, h.lon, h.lat))
            snprintf(what, sizeof what, "team '%s'", team);
        else if (inc && gw_req_scope_stored(req, sc, s, GW_LAYER_INCIDENTS, inc) == 0)
            snprintf(what, sizeof what, "incident '%s'", inc);
        gw_ctx_clear_error(ctx);
        gw_scope_release(sc);
        if (*what) {
            gw_req_scope_refuse(req, what);
            json_decref(doc);
            return 0;
        }
    }
    gw_team_hit state;
    memset(&state, 0, sizeof state);
    int64_t seq = 0;
    gw_status st = assign ? gw_dispatch_assign(d, s, inc, team, by, &state, &seq)
                          : gw_dispatch_release(d, s, team, inc, by, &state, &seq);
    if (st == GW_ERR_CONFLICT) { /* problem+json carrying the team's current state */
        json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", "about:blank", "title", "Conflict",
                              "status", 409, "detail", gw_ctx_errmsg(gw_store_ctx(s)), "instance",
                              gw_req_path(req));
        json_object_set_new(p, "team",
                            state.id ? team_json(&state, 0)
                                     : json_pack("{s:s,s:s}", "id", team, "status",
                                                 gw_team_status_name(state.status)));
        char *txt = json_dumps(p, JSON_COMPACT);
        gw_req_respond(req, 409, "application/problem+json", txt ? txt : "{}",
                       txt ? strlen(txt) : 2);
        free(txt);
        json_decref(p);
    } else if (st) {
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
    } else {
        gw_live_kick(gw_req_live(req));
        json_t *r = json_pack("{s:o,s:o,s:I}", "team", team_json(&state, 0), "incident",
                              text_or_null(inc), "seq", (json_int_t)seq);
        gw_req_respond_json(req, 200, r);
        char sq[32];
        snprintf(sq, sizeof sq, "%lld", (long long)seq);
        gw_req_add_header(req, "Gridwatch-Change-Seq", sq);
    }
    json_decref(doc);
    return 0;
}

static int h_assign(gw_req *req) { return assign_or_release(req, 1); }
static int h_release(gw_req *req) { return assign_or_release(req, 0); }

static const gw_route routes[] = {
    {"GET", "/dispatch/locate", h_locate, GW_ROLE_VIEWER, "dispatch_locate"},
    {"GET", "/dispatch/nearest", h_nearest, GW_ROLE_VIEWER, "dispatch_nearest"},
    {"POST", "/dispatch/positions", h_positions, GW_ROLE_DISPATCHER, "dispatch_positions"},
    {"POST", "/dispatch/assign", h_assign, GW_ROLE_DISPATCHER, "dispatch_assign"},
    {"POST", "/dispatch/release", h_release, GW_ROLE_DISPATCHER, "dispatch_release"},
};

const gw_route *gw_dispatch_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
