/* test_scope_leak.c — issue 18's leak test: the whole app over loopback on a generated city,
 * tokens scoped to every level the grids carry (county, township, and prefecture and village
 * when the grids have those fields) beside an unscoped one, and EVERY GET route of the server's
 * route table called with each: the scoped answer must equal the unscoped one filtered by the
 * jurisdiction (ids of items, coverage rows, MVT features decoded with GDAL, dispatch lists,
 * events), or be 403 for a route that refuses scoped tokens.  A route the test does not know
 * how to call fails it, so a new route cannot be forgotten.  What is in a jurisdiction is
 * computed here from the test's own model (the grid containing each point, the grid's fields),
 * not by the server's scope code.  Prints the table route x level the closing note quotes. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"
#include "scope.h"
#include "scope_leak.h"
#include "server.h"

#include <gdal.h>
#include <jansson.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char db_path[1024];
static gw_app *app;
static gw_server *srv;

/* ---- vector tiles --------------------------------------------------------------------------- */

/* The ids in an MVT body, per base layer (grids via blind_spots' "grid"); clusters counted. */
static void mvt_ids(const hf_resp *r, gw_tile_id t, idset out[GW_LAYER_COUNT], int *clusters,
                    int *hotspot_clusters)
{
    *clusters = *hotspot_clusters = 0;
    if (r->status == 204) return;
    assert_int_equal(r->status, 200);
    GDALDatasetH ds = hf_mvt_open(r, t.z, t.x, t.y, "scope-tile.pbf");
    assert_non_null(ds);
    for (int k = 0; k < GDALDatasetGetLayerCount(ds); k++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, k);
        const char *name = OGR_L_GetName(l);
        gw_layer base;
        const char *attr = "id";
        if (strcmp(name, "camera_views") == 0) base = GW_LAYER_CAMERAS;
        else if (strcmp(name, "blind_spots") == 0) base = GW_LAYER_GRIDS, attr = "grid";
        else if (strcmp(name, "hotspot_clusters") == 0) {
            *hotspot_clusters += (int)OGR_L_GetFeatureCount(l, 1);
            continue;
        } else assert_int_equal(gw_layer_from_name(name, &base), GW_OK);
        OGRFeatureH ft;
        OGR_L_ResetReading(l);
        while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
            int i = OGR_F_GetFieldIndex(ft, "cluster");
            if (i >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i) && OGR_F_GetFieldAsInteger(ft, i))
                (*clusters)++;
            else if ((i = OGR_F_GetFieldIndex(ft, attr)) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i))
                sl_set_add(&out[base], OGR_F_GetFieldAsString(ft, i));
            OGR_F_Destroy(ft);
        }
    }
    GDALClose(ds);
    for (int l = 0; l < GW_LAYER_COUNT; l++) sl_set_sort(&out[l]);
}

/* One tile of `layer` fetched by token lv (-1: the other county's): its ids per base layer must
 * be the root's filtered by the path; returns how many features it kept. */
static long tile_vs_root(const char *layer, gw_tile_id t, int lv, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "/tiles/%s/%u/%u/%u.mvt", layer, t.z, t.x, t.y);
    idset root[GW_LAYER_COUNT] = {{0}}, got[GW_LAYER_COUNT] = {{0}};
    int rc, sc, rh, sh;
    hf_resp r = sl_get(url, 0);
    mvt_ids(&r, t, root, &rc, &rh);
    hf_resp_free(&r);
    r = sl_get(url, lv);
    mvt_ids(&r, t, got, &sc, &sh);
    char xc[8];
    hf_header(&r, "X-Tile-Cache", xc, sizeof xc);
    hf_resp_free(&r);
    assert_int_equal(rc, 0); /* the zoom is chosen so that nothing is clustered */
    assert_int_equal(sc, 0);
    if (*path) assert_int_equal(sh, 0); /* the city-wide clusters are not shown to a scope */
    long n = 0;
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        idset want = sl_set_filter(&root[l], (gw_layer)l, path);
        assert_true(sl_set_equal(&got[l], &want, url));
        n += (long)got[l].n;
        sl_set_free(&want), sl_set_free(&root[l]), sl_set_free(&got[l]);
    }
    return n;
}

static void check_tiles(void)
{
    static const char *const layers[] = {"grids",       "police_rooms",     "cameras",
                                         "teams",       "incidents",        "camera_views",
                                         "blind_spots", "hotspot_clusters", "city"};
    double lon, lat;
    sl_path_centre(sl_lv_path[sl_n_levels - 1], &lon,
                   &lat); /* the smallest scope: tiles cut its edge */
    for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++) {
        int camv = strcmp(layers[k], "camera_views") == 0;
        int sparse = strcmp(layers[k], "police_rooms") == 0 || strcmp(layers[k], "teams") == 0;
        uint32_t zs[2] = {camv ? 15 : sparse ? 9 : 11, camv ? 16 : sparse ? 10 : 13};
        for (int zi = 0; zi < 2; zi++) {
            gw_tile_id t;
            assert_int_equal(gw_tile_from_lonlat(sl_tctx, lon, lat, zs[zi], &t), GW_OK);
            char route[96];
            snprintf(route, sizeof route, "tile %s z%u", layers[k], zs[zi]);
            for (int lv = 0; lv < sl_n_levels; lv++)
                sl_cell(route, lv, "same %ld", tile_vs_root(layers[k], t, lv, sl_lv_path[lv]));
        }
    }
}

/* The cache key holds the scope: one tile by a scoped token, by another scope, then unscoped,
 * then the first again, each as its own scope sees it. */
static void check_tile_cache(void)
{
    double lon, lat; /* between the smallest scope's centre and the other scope's incident */
    sl_path_centre(sl_lv_path[sl_n_levels - 1], &lon, &lat);
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(sl_tctx, (lon + sl_other_lon) / 2,
                                         (lat + sl_other_lat) / 2, 11, &t),
                     GW_OK);
    long a = tile_vs_root("city", t, sl_n_levels - 1, sl_lv_path[sl_n_levels - 1]);
    long b = tile_vs_root("city", t, -1, sl_other_path);
    long c = tile_vs_root("city", t, 0, "");
    long d = tile_vs_root("city", t, sl_n_levels - 1, sl_lv_path[sl_n_levels - 1]);
    assert_int_equal(a, d);
    assert_true(c > a && c > b && a > 0 && b > 0); /* a tile across both scopes' edges */
    printf(
        "tile cache (%s): city z11 scoped %ld, other scope (%s) %ld, unscoped %ld, scoped again %ld\n",
        sl_lv_path[sl_n_levels - 1], a, sl_other_path, b, c, d);
}

/* ---- heat map tiles ------------------------------------------------------------------------- */

/* 1 when every incident in tile t widened by 40 % on each side lies in path, and some do. */
static int tile_inside(gw_tile_id t, const char *path)
{
    gw_bbox b = gw_tile_bounds_lonlat(t);
    double mx = (b.maxx - b.minx) * 0.4, my = (b.maxy - b.miny) * 0.4;
    size_t n = 0;
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS]; i++) {
        const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
        if (f->lon < b.minx - mx || f->lon > b.maxx + mx || f->lat < b.miny - my ||
            f->lat > b.maxy + my)
            continue;
        if (!sl_in_path(path, f->path)) return 0;
        n++;
    }
    return n > 0;
}

static int same_body(const hf_resp *a, const hf_resp *b)
{
    return a->status == b->status && a->body.len == b->body.len &&
           memcmp(a->body.data, b->body.data, a->body.len) == 0;
}

/* A tile wholly inside the scope (with its blur margin): the scoped PNG is the unscoped one; a
 * tile where the scope has no incident: the PNG of a tile without any incident. */
static void check_heat(void)
{
    char url[128];
    hf_resp blank = sl_get("/tiles/heatmap/13/4096/4096.png", 0); /* lon 0, lat 0: no data */
    assert_true(blank.status == 200 || blank.status == 204);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        int inside = 0, empty = 0;
        for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS] && !inside; i += 7) {
            const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
            gw_tile_id t;
            if (!sl_in_path(sl_lv_path[lv], f->path) || f->path[0] == '\x01') continue;
            assert_int_equal(gw_tile_from_lonlat(sl_tctx, f->lon, f->lat, 13, &t), GW_OK);
            if (!tile_inside(t, sl_lv_path[lv])) continue;
            snprintf(url, sizeof url, "/tiles/heatmap/13/%u/%u.png", t.x, t.y);
            hf_resp r = sl_get(url, 0), s2 = sl_get(url, lv);
            assert_int_equal(r.status, 200);
            assert_false(same_body(&r, &blank)); /* it shows something */
            assert_true(same_body(&r, &s2));
            hf_resp_free(&r), hf_resp_free(&s2);
            inside = 1;
        }
        if (lv) { /* the incident farthest from the scope's centre, outside it */
            double clon, clat, far = -1, flon = 0, flat = 0;
            sl_path_centre(sl_lv_path[lv], &clon, &clat);
            for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS]; i++) {
                const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
                double d = (f->lon - clon) * (f->lon - clon) + (f->lat - clat) * (f->lat - clat);
                if (!sl_in_path(sl_lv_path[lv], f->path) && d > far)
                    far = d, flon = f->lon, flat = f->lat;
            }
            gw_tile_id t;
            /* a scope holding every incident (the one prefecture) has no outside to check */
            if (far >= 0) {
                assert_int_equal(gw_tile_from_lonlat(sl_tctx, flon, flat, 13, &t), GW_OK);
                snprintf(url, sizeof url, "/tiles/heatmap/13/%u/%u.png", t.x, t.y);
                hf_resp r = sl_get(url, 0), s2 = sl_get(url, lv);
                assert_false(same_body(&r, &blank)); /* unscoped: the incident shows */
                assert_true(same_body(&s2, &blank)); /* scoped: transparent */
                hf_resp_free(&r), hf_resp_free(&s2);
            }
            empty = 1;
        }
        sl_cell("heatmap_tile", lv,
                inside && empty ? "inside same, outside empty"
                : inside        ? "inside same"
                                : "outside empty",
                0);
        assert_true(inside || empty);
    }
    hf_resp_free(&blank);
}

/* ---- dispatch and coverage ------------------------------------------------------------------ */

/* A point in the path (its first incident's place) and one outside it. */
static int points(const char *path, double *in_lon, double *in_lat, double *out_lon,
                  double *out_lat)
{
    int hi = 0, ho = 0;
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_CAMERAS] && !(hi && ho); i++) {
        const feat *f = &sl_feats[GW_LAYER_CAMERAS][i];
        int in = sl_in_path(path, f->path) && f->path[0] != '\x01';
        if (in && !hi) *in_lon = f->lon, *in_lat = f->lat, hi = 1;
        if (!in && !ho && f->path[0] != '\x01') *out_lon = f->lon, *out_lat = f->lat, ho = 1;
    }
    assert_true(hi);
    if (!ho) *out_lon = *in_lon, *out_lat = *in_lat; /* the root: nothing lies outside */
    return ho;
}

/* /dispatch/locate and /dispatch/cameras at a point: in the scope, the root's rooms and cameras
 * filtered; outside, 403. */
static void check_at_point(const char *route, const char *fmt, const char *key, gw_layer l)
{
    for (int lv = 0; lv < sl_n_levels; lv++) {
        double ilon, ilat, olon, olat;
        int has_out = points(sl_lv_path[lv], &ilon, &ilat, &olon, &olat);
        char url[256];
        snprintf(url, sizeof url, fmt, ilon, ilat);
        hf_resp r = sl_get(url, 0);
        json_t *jr = hf_json(&r, 200, 0, url);
        r = sl_get(url, lv);
        json_t *js = hf_json(&r, 200, 0, url);
        idset all = sl_json_ids(jr, key), got = sl_json_ids(js, key);
        idset want = sl_set_filter(&all, l, sl_lv_path[lv]);
        assert_true(sl_set_equal(&got, &want, url));
        if (l == GW_LAYER_CAMERAS && strstr(route, "locate")) { /* its rooms too */
            idset ra = sl_json_ids(jr, "police_rooms_nearest"),
                  rg = sl_json_ids(js, "police_rooms_nearest");
            for (size_t i = 0; i < rg.n; i++) { /* every room shown lies in the scope */
                const feat *f = sl_find_feat(GW_LAYER_POLICE_ROOMS, rg.v[i]);
                assert_true(f && sl_in_path(sl_lv_path[lv], f->path));
            }
            sl_set_free(&ra), sl_set_free(&rg);
        }
        long n = (long)got.n;
        sl_set_free(&all), sl_set_free(&got), sl_set_free(&want);
        json_decref(jr), json_decref(js);
        if (lv && has_out) {
            snprintf(url, sizeof url, fmt, olon, olat);
            r = sl_get(url, lv);
            assert_int_equal(r.status, 403);
            hf_resp_free(&r);
        }
        sl_cell(route, lv, lv && has_out ? "same %ld, out 403" : "same %ld", n);
    }
}

/* /dispatch/nearest: the scope's teams only, in the root's order. */
static void check_nearest(void)
{
    for (int lv = 0; lv < sl_n_levels; lv++) {
        double ilon, ilat, olon, olat;
        points(sl_lv_path[lv], &ilon, &ilat, &olon, &olat);
        char url[256];
        snprintf(url, sizeof url,
                 "/dispatch/nearest?lon=%.7f&lat=%.7f&k=256&status=any"
                 "&include_stale=1",
                 ilon, ilat);
        hf_resp r = sl_get(url, 0);
        json_t *jr = hf_json(&r, 200, 0, url);
        snprintf(url, sizeof url,
                 "/dispatch/nearest?lon=%.7f&lat=%.7f&k=5&status=any"
                 "&include_stale=1",
                 ilon, ilat);
        r = sl_get(url, lv);
        json_t *js = hf_json(&r, 200, 0, url);
        json_t *ra = json_object_get(jr, "teams"), *sa = json_object_get(js, "teams");
        size_t k = 0;
        for (size_t i = 0; i < json_array_size(ra) && k < 5; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(ra, i), "id"));
            const feat *f = sl_find_feat(GW_LAYER_TEAMS, id);
            if (!f || !sl_in_path(sl_lv_path[lv], f->path)) continue;
            assert_string_equal(id,
                                json_string_value(json_object_get(json_array_get(sa, k), "id")));
            k++;
        }
        assert_int_equal(json_array_size(sa), k);
        sl_cell("dispatch_nearest", lv, "same %ld", (long)k);
        json_decref(jr), json_decref(js);
    }
}

/* /analysis/coverage/{grid}: in 200, out 404. */
static void check_coverage_grid(void)
{
    for (int lv = 0; lv < sl_n_levels; lv++) {
        const feat *in = NULL, *out = NULL;
        for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS]; i++) {
            const feat *f = &sl_feats[GW_LAYER_GRIDS][i];
            if (sl_in_path(sl_lv_path[lv], f->path)) in = in ? in : f;
            else out = out ? out : f;
        }
        char url[256];
        snprintf(url, sizeof url, "/analysis/coverage/%s", in->id);
        hf_resp r = sl_get(url, lv);
        assert_int_equal(r.status, 200);
        hf_resp_free(&r);
        if (out) {
            snprintf(url, sizeof url, "/analysis/coverage/%s", out->id);
            r = sl_get(url, lv);
            assert_int_equal(r.status, 404);
            hf_resp_free(&r);
        }
        sl_cell("coverage_grid", lv, out ? "in 200, out 404" : "in 200", 0);
    }
}

/* ---- writes and events ---------------------------------------------------------------------- */

static char posted[2][64]; /* the incidents written in and outside the scope */

static long post_incident(int lv, double lon, double lat, char *id, size_t cap)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,"
             "%.7f]},\"properties\":{\"category\":\"theft\",\"severity\":2,\"occurred_at\":"
             "\"2026-01-01T10:00:00Z\"}}",
             lon, lat);
    hf_resp r = hf_request("POST", "/collections/incidents/items", sl_lv_tok[lv], body,
                           strlen(body), "application/geo+json", NULL);
    long st = r.status;
    json_t *j = json_loads(r.body.data, 0, NULL);
    if (id) snprintf(id, cap, "%s", json_string_value(json_object_get(j, "id")) ?: "");
    if (st != 201 && st != 403) fprintf(stderr, "POST: %ld %s\n", st, r.body.data);
    json_decref(j);
    hf_resp_free(&r);
    return st;
}

static void check_writes_and_events(void)
{
    int lv = sl_n_levels - 1;
    double ilon, ilat, olon, olat;
    points(sl_lv_path[lv], &ilon, &ilat, &olon, &olat);
    /* the seq before: events after it are replayed below */
    hf_resp r = sl_get("/collections/grids/items?limit=1", 0);
    hf_resp_free(&r);
    long long seq0 = 0;
    {
        char id[64];
        assert_int_equal(post_incident(0, olon, olat, id, sizeof id), 201); /* root: anywhere */
        snprintf(posted[1], sizeof posted[1], "%s", id);
        char url[128];
        snprintf(url, sizeof url, "/collections/incidents/items/%s", id);
        hf_resp h = sl_get(url, 0);
        hf_resp_free(&h);
    }
    /* a scoped write: inside 201, outside 403 and nothing written */
    assert_int_equal(post_incident(lv, ilon, ilat, posted[0], sizeof posted[0]), 201);
    assert_int_equal(post_incident(lv, olon, olat, NULL, 0), 403);
    char url[256], body[256];
    /* moving an own incident out: 403, and it stays */
    snprintf(url, sizeof url, "/collections/incidents/items/%s", posted[0]);
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}",
             olon, olat);
    r = hf_request("PATCH", url, sl_lv_tok[lv], body, strlen(body), "application/merge-patch+json",
                   NULL);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body.data, sl_lv_path[lv]));
    hf_resp_free(&r);
    r = sl_get(url, lv);
    assert_int_equal(r.status, 200); /* still there, still in scope */
    hf_resp_free(&r);
    snprintf(body, sizeof body, "{\"properties\":{\"severity\":3}}");
    r = hf_request("PATCH", url, sl_lv_tok[lv], body, strlen(body), "application/merge-patch+json",
                   NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    /* someone else's incident outside: 403 for PATCH and DELETE */
    snprintf(url, sizeof url, "/collections/incidents/items/%s", posted[1]);
    r = hf_request("PATCH", url, sl_lv_tok[lv], body, strlen(body), "application/merge-patch+json",
                   NULL);
    assert_int_equal(r.status, 403);
    hf_resp_free(&r);
    r = hf_request("DELETE", url, sl_lv_tok[lv], NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 403);
    hf_resp_free(&r);
    r = sl_get(url, 0);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    sl_cell("writes (POST/PATCH/DELETE)", lv, "in ok, out 403", 0);
    /* events since before these writes: the scoped stream has the own incident only */
    for (int k = 0; k < sl_n_levels; k += sl_n_levels - 1) {
        snprintf(url, sizeof url, "/events?last_event_id=%lld", seq0);
        long saved = hf_timeout_s;
        hf_timeout_s = 2;
        r = sl_get(url, k);
        hf_timeout_s = saved;
        int has_in = strstr(r.body.data, posted[0]) != NULL,
            has_out = strstr(r.body.data, posted[1]) != NULL;
        assert_true(has_in);
        assert_int_equal(has_out, k == 0);
        sl_cell("events", k, k ? "own only" : "all", 0);
        hf_resp_free(&r);
        if (k == 0 && sl_n_levels == 1) break;
    }
}

/* ---- the route table ------------------------------------------------------------------------ */

static int done_kind[8];
enum { K_ITEMS, K_ITEM, K_TILES, K_NEAREST, K_COVG, K_EVENTS };

static void check_route(const gw_route *rt)
{
    const char *p = rt->pattern;
    char route[96];
    snprintf(route, sizeof route, "%s", rt->name);
    gw_scope_rule rule = gw_app_scope_rule(rt->name);
    if (rule == GW_SCOPE_REFUSE) { /* any parameters do: the hook answers before the handler */
        char url[256];
        size_t n = 0;
        for (const char *c = p; *c && n + 2 < sizeof url; c++) {
            if (*c == '{') {
                c = strchr(c, '}');
                n += (size_t)snprintf(url + n, sizeof url - n, "1");
            } else url[n++] = *c;
        }
        url[n] = '\0';
        snprintf(route, sizeof route, "%s", p);
        sl_check_refused(route, url);
        return;
    }
    static const char *const open_urls[][2] = {
        {"/", "/"},
        {"/conformance", "/conformance"},
        {"/collections/{layer}/queryables", "/collections/incidents/queryables"},
        {"/openapi.json", "/openapi.json"},
        {"/healthz", "/healthz"},
        {"/metrics", "/metrics"},
        {"/wall", "/wall"},
        {"/web", "/web"},
        {"/wall/{file}", "/wall/index.html"},
        {"/web/{file}", "/web/index.html"},
        {"/wall/{dir}/{file}", "/wall/js/app.js"},
        {"/web/{dir}/{file}", "/web/js/app.js"},
        {"/tiles/{file}", "/tiles/grids.json"},
        {"/styles/{file}", "/styles/city.json"},
        {"/tiles/heatmap/legend.json", "/tiles/heatmap/legend.json"},
        {"/tiles/roads/{z}/{x}/{y}", "/tiles/roads/12/3368/1618.mvt"}, /* roads: public */
        {"/fonts/{fontstack}/{range}", "/fonts/Noto%20Sans%20CJK%20SC%20Regular/0-255.pbf"},
        {"/sprite.json", "/sprite.json"},
        {"/sprite.png", "/sprite.png"},
        {"/sprite@2x.json", "/sprite@2x.json"},
        {"/sprite@2x.png", "/sprite@2x.png"},
    };
    for (size_t i = 0; i < sizeof open_urls / sizeof open_urls[0]; i++)
        if (strcmp(p, open_urls[i][0]) == 0) {
            assert_int_equal(rule, GW_SCOPE_OPEN);
            sl_check_open(p, open_urls[i][1]);
            return;
        }
    if (strcmp(p, "/collections") == 0) {
        sl_check_list("collections", "/collections", "collections", GW_LAYER_COUNT, NULL);
    } else if (strcmp(p, "/collections/{layer}") == 0) {
        sl_check_open(p, "/collections/incidents"); /* extents stay the city's (docs/scoping.md) */
    } else if (strcmp(p, "/collections/{layer}/items") == 0) {
        sl_check_items(), done_kind[K_ITEMS] = 1;
    } else if (strcmp(p, "/collections/{layer}/items/{id}") == 0) {
        sl_check_item(), done_kind[K_ITEM] = 1;
    } else if (strcmp(p, "/tiles/{layer}/{z}/{x}/{y}") == 0) {
        check_tiles(), check_tile_cache(), done_kind[K_TILES] = 1;
    } else if (strcmp(p, "/tiles/heatmap/{z}/{x}/{y}") == 0) {
        check_heat();
    } else if (strcmp(p, "/analysis/hotspots") == 0) {
        sl_check_list("analysis_hotspots", "/analysis/hotspots", "results", GW_LAYER_GRIDS,
                      "grids");
        sl_check_list("analysis_hotspots method=gistar", "/analysis/hotspots?method=gistar",
                      "results", GW_LAYER_GRIDS, "grids");
        sl_check_hotspot_forms();
    } else if (strcmp(p, "/analysis/hotspots/clusters") == 0) {
        sl_check_clusters();
    } else if (strcmp(p, "/analysis/hotspots/evaluate") == 0) {
        sl_check_evaluate();
    } else if (strcmp(p, "/analysis/kde") == 0) {
        sl_check_kde();
    } else if (strcmp(p, "/analysis/coverage") == 0) {
        sl_check_list("coverage", "/analysis/coverage", "grids", GW_LAYER_GRIDS, "count");
    } else if (strcmp(p, "/analysis/coverage/{grid}") == 0) {
        check_coverage_grid(), done_kind[K_COVG] = 1;
    } else if (strcmp(p, "/dispatch/cameras") == 0) {
        check_at_point("dispatch_cameras", "/dispatch/cameras?lon=%.7f&lat=%.7f&limit=1000",
                       "features", GW_LAYER_CAMERAS);
    } else if (strcmp(p, "/dispatch/locate") == 0) {
        check_at_point("dispatch_locate", "/dispatch/locate?lon=%.7f&lat=%.7f&cameras=200",
                       "cameras", GW_LAYER_CAMERAS);
    } else if (strcmp(p, "/dispatch/nearest") == 0) {
        check_nearest(), done_kind[K_NEAREST] = 1;
    } else if (strcmp(p, "/jurisdictions") == 0) {
        sl_check_juris();
    } else if (strcmp(p, "/incidents/{id}/transitions") == 0) {
        sl_check_transitions();
    } else if (strcmp(p, "/analysis/response") == 0) {
        sl_check_response();
    } else if (strcmp(p, "/incidents/overdue") == 0) {
        sl_check_overdue();
    } else if (strcmp(p, "/analysis/isochrones") == 0) {
        sl_check_isochrones();
    } else if (strcmp(p, "/tiles/isochrones/{z}/{x}/{y}") == 0) {
        sl_check_isochrones_tile();
    } else if (strncmp(p, "/plan/", 6) == 0) {
        sl_check_plan(p);
    } else if (strcmp(p, "/events") == 0) {
        done_kind[K_EVENTS] = 1; /* a stream: checked with the writes (check_writes_and_events) */
    } else {
        fail_msg("GET %s: the leak test does not know how to call this route (%s); teach it "
                 "(tests/http/test_scope_leak.c) and classify the route (api/routes/app.c)",
                 p, rule == GW_SCOPE_OPEN ? "open" : "filtered");
    }
}

static void test_every_get_route(void **state)
{
    (void)state;
    size_t n_get = 0;
    for (size_t i = 0; gw_server_route(srv, i); i++) {
        const gw_route *rt = gw_server_route(srv, i);
        if (strcmp(rt->method, "GET") != 0) continue;
        check_route(rt);
        n_get++;
    }
    assert_true(n_get > 30);
    /* the scope module's grid paths are the test's own */
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS]; i++) {
        char p[GW_JURISDICTION_MAX];
        int level = gw_scope_grid_path(app->live, sl_feats[GW_LAYER_GRIDS][i].id, p, sizeof p);
        assert_string_equal(p, sl_feats[GW_LAYER_GRIDS][i].path);
        assert_true(level >= 2);
    }
    char none[8];
    assert_int_equal(gw_scope_grid_path(app->live, "no such grid", none, sizeof none), -1);
    assert_true(done_kind[K_ITEMS] && done_kind[K_ITEM] && done_kind[K_TILES] &&
                done_kind[K_NEAREST] && done_kind[K_COVG] && done_kind[K_EVENTS]);
    check_writes_and_events();
    sl_check_plan_writes();
    sl_check_plan_publish(); /* last: it publishes a new grid version */
    sl_print_table();
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&sl_tctx), GW_OK);
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("scope_leak.sqlite"));
    gw_store *st = hf_city(sl_tctx, db_path, 0.01, 18);
    sl_load_expectation(st);
    /* the levels: the prefixes of one grid's path (every field the grids carry) */
    /* a grid whose village is smaller than its township and whose township smaller than its
     * county, so each level's answer differs from the one above */
    const feat *g0 = &sl_feats[GW_LAYER_GRIDS][0];
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS]; i++) {
        const char *p = sl_feats[GW_LAYER_GRIDS][i].path;
        const char *last = strrchr(p, '/');
        if (!last) continue;
        char up[GW_JURISDICTION_MAX];
        snprintf(up, sizeof up, "%.*s", (int)(last - p), p);
        size_t same = 0, above = 0;
        for (size_t j = 0; j < sl_n_feats[GW_LAYER_GRIDS]; j++) {
            same += strcmp(sl_feats[GW_LAYER_GRIDS][j].path, p) == 0;
            above += sl_in_path(up, sl_feats[GW_LAYER_GRIDS][j].path);
        }
        if (above > same) {
            g0 = &sl_feats[GW_LAYER_GRIDS][i];
            break;
        }
    }
    static const char *const names[] = {"prefecture", "county", "township", "village"};
    int first = gw_layer_field_index(GW_LAYER_GRIDS, "prefecture") >= 0 ? 0 : 1;
    snprintf(sl_lv_name[0], sizeof sl_lv_name[0], "root");
    sl_n_levels = 1;
    for (const char *c = g0->path;; c++)
        if (*c == '/' || *c == '\0') {
            snprintf(sl_lv_path[sl_n_levels], sizeof sl_lv_path[0], "%.*s", (int)(c - g0->path),
                     g0->path);
            snprintf(sl_lv_name[sl_n_levels], sizeof sl_lv_name[0], "%s",
                     names[first + sl_n_levels - 1]);
            sl_n_levels++;
            if (!*c || sl_n_levels == MAXL) break;
        }
    assert_true(sl_n_levels >= 3); /* county and township at least */
    /* another scope of the first level, for the tile cache: the one with the incident nearest
     * to the smallest scope's centre, so that the tile there holds some of both */
    double clon, clat, best = 1e300;
    sl_path_centre(sl_lv_path[sl_n_levels - 1], &clon, &clat);
    /* the first level with a sibling (one prefecture: its counties) */
    for (int k = 1; k < sl_n_levels && !sl_other_path[0]; k++)
        for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS]; i++) {
            const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
            double d = (f->lon - clon) * (f->lon - clon) + (f->lat - clat) * (f->lat - clat);
            if (f->path[0] == '\x01' || sl_in_path(sl_lv_path[k], f->path) || d >= best) continue;
            best = d, sl_other_lon = f->lon, sl_other_lat = f->lat;
            size_t len = 0; /* f's path cut to k parts */
            for (int part = 0; part < k; part++) {
                len += strcspn(f->path + len, "/");
                if (part + 1 < k && f->path[len] == '/') len++;
            }
            snprintf(sl_other_path, sizeof sl_other_path, "%.*s", (int)len, f->path);
        }
    assert_true(sl_other_path[0]);
    for (int lv = 0; lv < sl_n_levels; lv++)
        assert_int_equal(gw_auth_token_create(st, GW_ROLE_ADMIN, sl_lv_name[lv], sl_lv_path[lv],
                                              sl_lv_tok[lv], NULL),
                         GW_OK);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_ADMIN, "other", sl_other_path, sl_other_tok,
                                          NULL),
                     GW_OK);
    /* a path that names nothing is refused at create, naming the part */
    char bad[GW_JURISDICTION_MAX + 16], tok[GW_TOKEN_LEN + 1];
    snprintf(bad, sizeof bad, "%s/no such place", sl_lv_path[1]);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_VIEWER, "bad", bad, tok, NULL),
                     GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(sl_tctx), "'no such place'"));
    snprintf(bad, sizeof bad, "%s/", sl_lv_path[1]);
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_VIEWER, "bad", bad, tok, NULL), GW_ERR_ARG);
    sl_flow_setup(st);
    gw_store_close(st);
    gw_server_opts o = {.db_path = db_path, .quiet = 1, .threads = 4};
    assert_int_equal(hf_app_start(sl_tctx, NULL, &o, &app, &srv), GW_OK);
    GDALAllRegister();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_model_release(sl_tctx, sl_snap);
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        for (size_t i = 0; i < sl_n_feats[l]; i++)
            free(sl_feats[l][i].id), free(sl_feats[l][i].path);
        free(sl_feats[l]);
    }
    gw_ctx_destroy(sl_tctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_get_route)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
