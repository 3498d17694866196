/* ogc.c — OGC API – Features, read side: landing page, conformance, collections, items (bbox,
 * datetime, property filters, paging, Part 2 crs/bbox-crs, Part 3 filter/sortby/properties in
 * ogc_query.c) and single items, read through the
 * store's feature queries (store_features.h) as RFC 7946 GeoJSON, each page built in memory
 * inside one short read transaction before it is answered.  /openapi.json is built from the
 * same tables in ogc_openapi.c. */
#include "ogc.h"
#include "flow_http.h"
#include "ogc_html.h"
#include "ogc_internal.h"
#include "ogc_query.h"

#include "app.h"
#include "auth.h"
#include "coverage_http.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/store_changes.h"
#include "gridwatch/store_features.h"
#include "http_util.h"
#include "problem.h"
#include "scope_http.h"
#include "web_http.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const conf_classes[] = {
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html", /* ogc_html.c */
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
};

const crs_opt ogc_crs_opts[] = {
    {GW_OGC_CRS84, {GW_CRS_EPSG, 4326}, 0, 7},
    {"http://www.opengis.net/def/crs/EPSG/0/4326", {GW_CRS_EPSG, 4326}, 1, 7},
    {"http://www.opengis.net/def/crs/EPSG/0/4490", {GW_CRS_EPSG, 4490}, 1, 7},
    {"http://www.opengis.net/def/crs/EPSG/0/3857", {GW_CRS_EPSG, 3857}, 0, 3},
    {GW_OGC_CRS_GCJ02, {GW_CRS_GCJ02, 0}, 0, 7},
};
const size_t ogc_n_crs = sizeof ogc_crs_opts / sizeof ogc_crs_opts[0];

static const crs_opt *find_crs(const char *s)
{
    static const char *const alias[][2] = {
        {"CRS84", GW_OGC_CRS84},
        {"OGC:CRS84", GW_OGC_CRS84},
        {"[OGC:CRS84]", GW_OGC_CRS84},
        {"EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326"},
        {"EPSG:4490", "http://www.opengis.net/def/crs/EPSG/0/4490"},
        {"EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/3857"},
        {"GCJ-02", GW_OGC_CRS_GCJ02},
        {"gcj02", GW_OGC_CRS_GCJ02},
        {"GCJ02", GW_OGC_CRS_GCJ02},
        {"https://www.opengis.net/def/crs/OGC/1.3/CRS84", GW_OGC_CRS84},
    };
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(s, alias[i][0]) == 0) s = alias[i][1];
    for (size_t i = 0; i < N_CRS; i++)
        if (strcmp(s, crs_opts[i].uri) == 0) return &crs_opts[i];
    return NULL;
}

static const char crs_list_text[] =
    "CRS84 (http://www.opengis.net/def/crs/OGC/1.3/CRS84), http://www.opengis.net/def/crs/EPSG/0/4326, "
    ".../4490, .../3857, GCJ-02 (" GW_OGC_CRS_GCJ02 ")";

static json_t *link(const char *href, const char *rel, const char *type, const char *title)
{
    json_t *l = json_pack("{s:s,s:s}", "href", href, "rel", rel);
    if (type) json_object_set_new(l, "type", json_string(type));
    if (title) json_object_set_new(l, "title", json_string(title));
    return l;
}

/* f=json|html and Accept (ogc_html.c): 1 when a 400 or 406 was answered */
static int bad_f(gw_req *req) { return ogc_bad_format(req); }

static int h_landing(gw_req *req)
{
    /* A browser asking for HTML (and no explicit f=) gets the map wall page; JSON clients
     * (GDAL, QGIS, curl, ?f=json) get this document. */
    const char *accept = gw_req_header(req, "Accept");
    if (!gw_req_query(req, "f") && accept && strstr(accept, "text/html") && gw_web_available()) {
        gw_req_add_header(req, "Vary", "Accept");
        gw_req_add_header(req, "Location", "/wall/");
        gw_req_respond(req, 303, "text/plain; charset=utf-8", "the map page is at /wall/\n", 26);
        return 0;
    }
    if (bad_f(req)) return 0;
    const char *base = gw_req_base_url(req);
    char u[4][512];
    snprintf(u[0], sizeof u[0], "%s/", base);
    snprintf(u[1], sizeof u[1], "%s/openapi.json", base);
    snprintf(u[2], sizeof u[2], "%s/conformance", base);
    snprintf(u[3], sizeof u[3], "%s/collections", base);
    json_t *doc = json_pack(
        "{s:s,s:s,s:[o,o,o,o]}", "title", "gridwatch", "description",
        "Grid mapping and hotspot service: grids, police rooms, cameras, teams and incidents as OGC API - Features",
        "links", link(u[0], "self", "application/json", "this document"),
        link(u[1], "service-desc", "application/vnd.oai.openapi+json;version=3.0",
             "the API definition"),
        link(u[2], "conformance", "application/json", "conformance classes"),
        link(u[3], "data", "application/json", "the collections"));
    ogc_answer_doc(req, OGC_PAGE_LANDING, doc);
    return 0;
}

static int h_conformance(gw_req *req)
{
    if (bad_f(req)) return 0;
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof conf_classes / sizeof conf_classes[0]; i++)
        json_array_append_new(a, json_string(conf_classes[i]));
    for (size_t i = 0; ogc_query_conf[i]; i++)
        json_array_append_new(a, json_string(ogc_query_conf[i]));
    ogc_answer_doc(req, OGC_PAGE_CONFORMANCE, json_pack("{s:o}", "conformsTo", a));
    return 0;
}

static json_t *collection_json(gw_req *req, gw_store *st, gw_layer layer)
{
    const char *base = gw_req_base_url(req);
    const char *name = gw_layer_name(layer);
    char self[512], items[512], qa[512];
    snprintf(self, sizeof self, "%s/collections/%s", base, name);
    snprintf(items, sizeof items, "%s/collections/%s/items", base, name);
    snprintf(qa, sizeof qa, "%s/collections/%s/queryables", base, name);
    json_t *c = json_pack("{s:s,s:s,s:s}", "id", name, "title", name, "itemType", "feature");
    json_t *extent = json_object();
    gw_bbox bb;
    if (gw_store_features_extent(st, layer, &bb) == GW_OK)
        json_object_set_new(extent, "spatial",
                            json_pack("{s:[[f,f,f,f]],s:s}", "bbox", bb.minx, bb.miny, bb.maxx,
                                      bb.maxy, "crs", GW_OGC_CRS84));
    gw_ctx_clear_error(gw_store_ctx(st));
    char t_lo[40], t_hi[40];
    if (gw_store_features_time_extent(st, layer, t_lo, t_hi, sizeof t_lo) == GW_OK)
        json_object_set_new(extent, "temporal",
                            json_pack("{s:[[s,s]],s:s}", "interval", t_lo, t_hi, "trs",
                                      "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"));
    gw_ctx_clear_error(gw_store_ctx(st));
    json_object_set_new(c, "extent", extent);
    json_t *crs = json_array();
    for (size_t i = 0; i < N_CRS; i++) json_array_append_new(crs, json_string(crs_opts[i].uri));
    json_object_set_new(c, "crs", crs);
    json_object_set_new(c, "storageCrs", json_string(GW_OGC_CRS84));
    json_object_set_new(c, "links",
                        json_pack("[o,o,o]", link(self, "self", "application/json", NULL),
                                  link(items, "items", "application/geo+json", "the features"),
                                  link(qa, OGC_REL_QUERYABLES, "application/schema+json",
                                       "what filter, sortby and properties may name")));
    return c;
}

static int h_collections(gw_req *req)
{
    if (bad_f(req)) return 0;
    gw_store *st = gw_req_store(req);
    if (!st) return 0;
    char self[512];
    snprintf(self, sizeof self, "%s/collections", gw_req_base_url(req));
    json_t *a = json_array();
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        json_array_append_new(a, collection_json(req, st, (gw_layer)l));
    json_t *crs = json_array();
    for (size_t i = 0; i < N_CRS; i++) json_array_append_new(crs, json_string(crs_opts[i].uri));
    ogc_answer_doc(req, OGC_PAGE_COLLECTIONS,
                   json_pack("{s:[o],s:o,s:o}", "links",
                             link(self, "self", "application/json", NULL), "collections", a, "crs",
                             crs));
    return 0;
}

static int layer_param(gw_req *req, gw_layer *layer)
{
    const char *name = gw_req_param(req, "layer");
    if (!name || gw_layer_from_name(name, layer) != GW_OK) {
        gw_req_problem(
            req, 404, NULL,
            "no collection '%s'; collections: grids, police_rooms, cameras, teams, incidents",
            name ? name : "");
        return -1;
    }
    return 0;
}

static int h_collection(gw_req *req)
{
    gw_layer layer;
    if (bad_f(req) || layer_param(req, &layer)) return 0;
    gw_store *st = gw_req_store(req);
    if (!st) return 0;
    ogc_answer_doc(req, OGC_PAGE_COLLECTION, collection_json(req, st, layer));
    return 0;
}

/* ---- items ------------------------------------------------------------------------------ */

#define MAX_PROPS 8
typedef struct items_q {
    gw_req *req;
    gw_layer layer;
    int64_t limit, offset;
    int has_bbox;
    gw_bbox bbox; /* lon/lat */
    const char *bbox_text, *bbox_crs_text;
    int has_time;
    gw_time_filter tf;
    const crs_opt *crs, *bbox_crs;
    gw_feature_filter f; /* the store's filter, filled as the parameters are read */
    int bad;             /* a problem was answered */
    ogc_query x;         /* filter, sortby, properties (ogc_query.c) */
} items_q;

static int items_arg(void *user, const char *key, const char *val)
{
    items_q *q = user;
    gw_req *req = q->req;
    char why[256];
    if (strcmp(key, "limit") == 0) {
        if (gw_parse_int64(val, &q->limit) || q->limit < 1 || q->limit > LIMIT_MAX) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'limit': '%s' must be an integer from 1 to %d", val,
                           LIMIT_MAX);
            return 1;
        }
    } else if (strcmp(key, "offset") == 0) {
        if (gw_parse_int64(val, &q->offset) || q->offset < 0) {
            gw_req_problem(req, 400, NULL, "parameter 'offset': '%s' must be an integer >= 0", val);
            return 1;
        }
    } else if (strcmp(key, "bbox") == 0) {
        if (gw_parse_bbox(val, &q->bbox, why, sizeof why)) {
            gw_req_problem(req, 400, NULL, "parameter 'bbox': %s", why);
            return 1;
        }
        q->has_bbox = 1;
        q->bbox_text = val;
    } else if (strcmp(key, "datetime") == 0) {
        if (gw_parse_datetime(gw_req_ctx(req), val, &q->tf, why, sizeof why)) {
            gw_req_problem(req, 400, NULL, "parameter 'datetime': %s", why);
            return 1;
        }
        if (!gw_layer_time_field(q->layer)) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'datetime': collection '%s' has no time field",
                           gw_layer_name(q->layer));
            return 1;
        }
        q->has_time = 1;
    } else if (strcmp(key, "crs") == 0 || strcmp(key, "bbox-crs") == 0) {
        const crs_opt *c = find_crs(val);
        if (!c) {
            gw_req_problem(req, 400, NULL, "parameter '%s': '%s' is not offered; use one of %s",
                           key, val, crs_list_text);
            return 1;
        }
        if (key[0] == 'c') q->crs = c;
        else q->bbox_crs = c;
    } else if (strcmp(key, "f") == 0) {
        /* checked by bad_f */
    } else if (ogc_query_arg(&q->x, key, val)) {
        /* read by ogc_query_apply once every parameter is known */
    } else {
        int fi = gw_layer_field_index(q->layer, key);
        size_t nf;
        const gw_field *f = gw_layer_fields(q->layer, &nf);
        if (fi <= 0 || f[fi].type == GW_FT_TIME || f[fi].type == GW_FT_REAL) {
            gw_buf b = {0};
            for (size_t i = 1; i < nf; i++)
                if (f[i].type == GW_FT_TEXT || f[i].type == GW_FT_INT)
                    gw_buf_printf(&b, "%s%s", b.len ? ", " : "", f[i].name);
            gw_req_problem(
                req, 400, NULL,
                "unknown query parameter '%s'; items of '%s' take bbox, bbox-crs, limit, offset, datetime, crs, f, filter, filter-lang, filter-crs, sortby, properties and the properties %s",
                key, gw_layer_name(q->layer), b.data ? b.data : "(none)");
            gw_buf_free(&b);
            return 1;
        }
        gw_feature_filter *ff = &q->f;
        if (ff->nprops >= MAX_PROPS) {
            gw_req_problem(req, 400, NULL, "too many property filters (at most %d)", MAX_PROPS);
            return 1;
        }
        if (f[fi].type == GW_FT_INT && gw_parse_int64(val, &ff->prop_int[ff->nprops])) {
            gw_req_problem(req, 400, NULL, "parameter '%s': '%s' is not an integer", key, val);
            return 1;
        }
        ff->prop_field[ff->nprops] = fi;
        ff->prop_text[ff->nprops] = val;
        ff->nprops++;
    }
    return 0;
}

/* Bring the bbox into lon/lat when bbox-crs says otherwise; checks ranges. */
static int bbox_to_lonlat(items_q *q, gw_ctx *ctx)
{
    const crs_opt *c = q->bbox_crs ? q->bbox_crs : &crs_opts[0];
    gw_bbox b = q->bbox;
    if (c->swap) b = (gw_bbox){b.miny, b.minx, b.maxy, b.maxx};
    double lim_x = 180, lim_y = 90;
    if (c->crs.kind == GW_CRS_EPSG && c->crs.epsg == 3857) lim_x = lim_y = 20037508.3428;
    if (b.minx < -lim_x || b.maxx > lim_x || b.miny < -lim_y || b.maxy > lim_y) {
        gw_req_problem(q->req, 400, NULL, "parameter 'bbox': '%s' lies outside the range of %s",
                       q->bbox_text, c->uri);
        return -1;
    }
    if (c->crs.kind == GW_CRS_EPSG && c->crs.epsg == 4326) {
        q->bbox = b;
        return 0;
    }
    gw_crs_transform *tr = NULL;
    enum { K = 16 };
    double xs[4 * K], ys[4 * K];
    for (int i = 0; i < K; i++) { /* densified edges: the envelope of the transformed outline */
        double t = (double)i / K;
        xs[i] = b.minx + t * (b.maxx - b.minx), ys[i] = b.miny;
        xs[K + i] = b.maxx, ys[K + i] = b.miny + t * (b.maxy - b.miny);
        xs[2 * K + i] = b.maxx - t * (b.maxx - b.minx), ys[2 * K + i] = b.maxy;
        xs[3 * K + i] = b.minx, ys[3 * K + i] = b.maxy - t * (b.maxy - b.miny);
    }
    if (gw_crs_transform_create(ctx, c->crs, (gw_crs){GW_CRS_EPSG, 4326}, &tr) != GW_OK ||
        gw_crs_transform_points(tr, xs, ys, 4 * K) != GW_OK) {
        gw_req_problem(q->req, 400, NULL, "parameter 'bbox': cannot transform '%s' from %s: %s",
                       q->bbox_text, c->uri, gw_ctx_errmsg(ctx));
        gw_crs_transform_destroy(tr);
        return -1;
    }
    gw_crs_transform_destroy(tr);
    q->bbox = (gw_bbox){xs[0], ys[0], xs[0], ys[0]};
    for (int i = 1; i < 4 * K; i++) {
        if (xs[i] < q->bbox.minx) q->bbox.minx = xs[i];
        if (xs[i] > q->bbox.maxx) q->bbox.maxx = xs[i];
        if (ys[i] < q->bbox.miny) q->bbox.miny = ys[i];
        if (ys[i] > q->bbox.maxy) q->bbox.maxy = ys[i];
    }
    return 0;
}

/* The store's filter for the parsed query. */
static void items_filter(items_q *q)
{
    q->f.layer = q->layer;
    q->f.has_bbox = q->has_bbox;
    q->f.bbox = q->bbox;
    q->f.has_lo = q->has_time && q->tf.has_lo;
    q->f.has_hi = q->has_time && q->tf.has_hi;
    q->f.lo = q->tf.lo;
    q->f.hi = q->tf.hi;
}

/* A grid's coverage figures (coverage_http.h) as properties, when cov (the module's state,
 * NULL when its result is not current) has the grid. */
static void put_coverage(gw_buf *b, void *cov, const char *grid_id)
{
    gw_coverage_row r;
    if (!cov || !grid_id || gw_coverage_get(cov, grid_id, &r, NULL) != GW_OK) return;
    gw_buf_str(b, ",\"coverage_ratio\":");
    gw_buf_num(b, r.ratio, 9);
    gw_buf_str(b, ",\"covered_m2\":");
    gw_buf_num(b, r.covered_m2, 3);
    gw_buf_printf(b, ",\"cameras\":%d,\"room_reach\":", r.cameras);
    gw_buf_num(b, r.room_reach, 9);
}

/* The coverage state to read grid figures from: the app's module when its result was computed
 * on the live model's current grids, cameras and police rooms, else NULL. */
static void *coverage_of(gw_req *req, gw_layer layer)
{
    gw_app *app = gw_req_app(req);
    void *cov = app && layer == GW_LAYER_GRIDS ? app->modules[GW_APP_COVERAGE] : NULL;
    if (!cov || !app->live) return NULL;
    gw_model_snapshot *s = gw_model_acquire(gw_live_model(app->live));
    int ok = gw_coverage_http_current(cov, s);
    gw_model_release(gw_req_ctx(req), s);
    return ok ? cov : NULL;
}

/* One feature as GeoJSON from a store row (values as stored), the properties whose bit is set
 * in mask (all: ~0u, with a grid's coverage figures).  cov: see coverage_of. */
static void put_feature_sel(gw_layer layer, const gw_row *row, gw_geojson_writer *w, gw_buf *b,
                            void *cov, uint32_t mask)
{
    size_t nf;
    const gw_field *f = gw_layer_fields(layer, &nf);
    const gw_value *v = row->values;
    gw_buf_str(b, "{\"type\":\"Feature\",\"id\":");
    gw_buf_json_str(b, v[0].kind == GW_VAL_NULL ? "" : v[0].s);
    gw_buf_str(b, ",\"geometry\":");
    if (gw_geojson_write(w, row->wkb, row->wkb_len, b)) gw_buf_str(b, "null");
    gw_buf_str(b, ",\"properties\":{");
    for (size_t i = 1, k = 0; i < nf; i++) {
        if (i < 32 && !(mask >> i & 1)) continue;
        if (k++) gw_buf_add(b, ",", 1);
        gw_buf_json_str(b, f[i].name);
        gw_buf_add(b, ":", 1);
        switch (v[i].kind) {
        case GW_VAL_NULL: gw_buf_str(b, "null"); break;
        case GW_VAL_INT: gw_buf_printf(b, "%lld", (long long)v[i].i); break;
        case GW_VAL_REAL: gw_buf_num(b, v[i].d, 9); break;
        default: gw_buf_json_str(b, v[i].s); break;
        }
    }
    if (cov && mask == ~0u) put_coverage(b, cov, v[0].kind == GW_VAL_TEXT ? v[0].s : NULL);
    gw_buf_str(b, "}}");
}

void gw_ogc_put_feature(gw_layer layer, const gw_row *row, gw_geojson_writer *w, gw_buf *b,
                        void *cov)
{
    put_feature_sel(layer, row, w, b, cov, ~0u);
}

static int query_copy(void *user, const char *key, const char *val)
{
    gw_buf *b = user;
    if (strcmp(key, "offset") == 0) return 0;
    gw_buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1);
    gw_buf_url(b, key);
    gw_buf_add(b, "=", 1);
    gw_buf_url(b, val);
    return 0;
}

static void put_link(gw_req *req, gw_buf *b, const char *rel, int64_t offset, int first)
{
    gw_buf url = {0};
    gw_buf_printf(&url, "%s%s", gw_req_base_url(req), gw_req_path(req));
    gw_req_query_each(req, query_copy, &url);
    if (offset > 0)
        gw_buf_printf(&url, "%coffset=%lld", url.data && strchr(url.data, '?') ? '&' : '?',
                      (long long)offset);
    gw_buf_printf(b,
                  "%s{\"rel\":\"%s\",\"type\":\"application/geo+json\",\"href\":", first ? "" : ",",
                  rel);
    gw_buf_json_str(b, url.data ? url.data : "");
    gw_buf_str(b, "}");
    gw_buf_free(&url);
}

/* Set up the output transform for q->crs; -1 when a problem was answered. */
static int output_crs(gw_req *req, const crs_opt *c, gw_ctx *ctx, gw_geojson_writer *w,
                      gw_crs_transform **tr)
{
    w->swap_xy = c->swap;
    w->prec = c->prec;
    *tr = NULL;
    if (!(c->crs.kind == GW_CRS_EPSG && c->crs.epsg == 4326) &&
        gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326}, c->crs, tr) != GW_OK) {
        gw_req_problem(req, 500, NULL, "cannot set up output CRS %s: %s", c->uri,
                       gw_ctx_errmsg(ctx));
        return -1;
    }
    w->tr = *tr;
    char hdr[256];
    snprintf(hdr, sizeof hdr, "<%s>", c->uri);
    gw_req_add_header(req, "Content-Crs", hdr);
    return 0;
}

/* The head of an items page: type, counts, time stamp, self/next/prev links, up to the
 * opening of "features". */
static void put_collection_head(gw_req *req, gw_buf *b, const items_q *q, int64_t matched,
                                int64_t returned)
{
    char ts[32];
    gw_time_format((int64_t)time(NULL), ts, sizeof ts);
    gw_buf_printf(b,
                  "{\"type\":\"FeatureCollection\",\"numberMatched\":%lld,"
                  "\"numberReturned\":%lld,\"timeStamp\":\"%s\",\"links\":[",
                  (long long)matched, (long long)returned, ts);
    put_link(req, b, "self", q->offset, 1);
    ogc_put_html_link(req, b);
    if (q->offset + returned < matched) put_link(req, b, "next", q->offset + q->limit, 0);
    if (q->offset > 0) put_link(req, b, "prev", q->offset > q->limit ? q->offset - q->limit : 0, 0);
    gw_buf_str(b, "],\"features\":[");
}

/* The page from the live model where it holds the layer as the store has it: numberMatched and
 * the page's ids from gw_layer_data_select, the rows themselves read by id from the store (so
 * the values are the stored ones).  Inside the caller's read transaction: 1 with *matched and
 * byid filled (ids point into snap, which the caller holds), 0 when the store must answer (a
 * filter the model cannot answer exactly, or a change to the layer after the snapshot). */
static int model_page(gw_store *st, gw_model_snapshot *snap, const items_q *q, int64_t *matched,
                      gw_feature_filter *byid, const char **ids, size_t *rows)
{
    const gw_layer_data *L = snap ? gw_snapshot_layer(snap, q->layer) : NULL;
    gw_ctx *ctx = gw_store_ctx(st);
    int any = 1;
    if (!L || !gw_layer_is_point(q->layer) || q->f.has_lo || q->f.has_hi || q->f.cql || q->f.nsort)
        return 0; /* a CQL2 filter and a sort order are the store's (SQL) */
    if (gw_store_changes_after(st, gw_layer_name(q->layer), gw_snapshot_seq(snap), &any) || any) {
        gw_ctx_clear_error(ctx);
        return 0;
    }
    size_t n = 0;
    if (gw_layer_data_select(ctx, L, &q->f, q->offset, q->limit, rows, &n, matched)) {
        gw_ctx_clear_error(ctx);
        return 0;
    }
    for (size_t i = 0; i < n; i++) ids[i] = gw_layer_data_id(L, rows[i]);
    *byid = (gw_feature_filter){.layer = q->layer, .ids = ids, .n_ids = n};
    return 1;
}

/* One items page into b: header, links, features, tail.  The count and the page are read in
 * one read transaction that ends before the answer is handed to the server, so a client that
 * reads slowly holds memory, not a snapshot of the worker's connection (issue 15, defect 3:
 * a stalled reader of a streamed page froze the worker's view, token revocation included).
 * Point layers are counted and paged from the live model when it is current (model_page). */
static gw_status items_page(gw_req *req, gw_store *st, const items_q *q, gw_geojson_writer *w,
                            void *cov, gw_buf *b)
{
    gw_app *app = gw_req_app(req);
    int point = gw_layer_is_point(q->layer) && app && app->live;
    gw_model_snapshot *snap = point ? gw_model_acquire(gw_live_model(app->live)) : NULL;
    const char **ids = point ? malloc((size_t)q->limit * sizeof *ids) : NULL;
    size_t *rows = point ? malloc((size_t)q->limit * sizeof *rows) : NULL;
    gw_status rc = gw_store_read_begin(st);
    if (rc) {
        free(ids), free(rows);
        gw_model_release(gw_req_ctx(req), snap);
        return rc;
    }
    int64_t matched = 0;
    gw_feature_reader *rd = NULL;
    gw_feature_filter byid;
    int fast = ids && rows && model_page(st, snap, q, &matched, &byid, ids, rows);
    if (!fast) rc = gw_store_features_count(st, &q->f, &matched);
    if (!rc && (!fast || byid.n_ids > 0))
        rc = fast ? gw_store_features_open(st, &byid, 0, 0, &rd)
                  : gw_store_features_open(st, &q->f, q->limit, q->offset, &rd);
    if (!rc) {
        int64_t returned = matched - q->offset;
        if (returned < 0) returned = 0;
        if (returned > q->limit) returned = q->limit;
        put_collection_head(req, b, q, matched, returned);
    }
    gw_row row;
    for (int n = 0; !rc && rd && !b->oom && !(rc = gw_store_features_next(st, rd, &row)); n++) {
        if (n) gw_buf_add(b, ",", 1);
        put_feature_sel(q->layer, &row, w, b, cov, q->x.mask);
    }
    if (!rc && !rd) gw_buf_str(b, "]}\n"); /* an empty page from the model */
    if (rd && rc == GW_ERR_NOT_FOUND) {    /* the end of the page */
        rc = GW_OK;
        gw_buf_str(b, "]}\n");
    }
    gw_store_features_close(st, rd);
    gw_store_read_end(st);
    free(ids), free(rows);
    gw_model_release(gw_req_ctx(req), snap);
    if (!rc && b->oom) rc = gw_ctx_error(gw_store_ctx(st), GW_ERR_NOMEM, "out of memory");
    return rc;
}

/* items_page for a token scoped to a jurisdiction: the store's filter narrowed to the scope's
 * envelope, then every row of it read and kept when it lies in the scope, so numberMatched,
 * offset and the links count only what the token may see. */
static gw_status items_page_scoped(gw_req *req, gw_store *st, items_q *q, const gw_scope *sc,
                                   gw_geojson_writer *w, void *cov, gw_buf *b)
{
    gw_bbox env;
    int empty = !gw_scope_bbox(sc, &env, NULL);
    if (!empty && q->f.has_bbox) {
        gw_bbox u = q->f.bbox;
        env = (gw_bbox){u.minx > env.minx ? u.minx : env.minx,
                        u.miny > env.miny ? u.miny : env.miny,
                        u.maxx < env.maxx ? u.maxx : env.maxx,
                        u.maxy < env.maxy ? u.maxy : env.maxy};
        empty = env.minx > env.maxx || env.miny > env.maxy;
    }
    q->f.has_bbox = 1;
    q->f.bbox = env;
    gw_status rc = gw_store_read_begin(st);
    if (rc) return rc;
    gw_feature_reader *rd = NULL;
    if (!empty) rc = gw_store_features_open(st, &q->f, 0, 0, &rd);
    gw_buf feats = {0};
    int64_t matched = 0, returned = 0;
    gw_row row;
    while (!rc && rd && !feats.oom && !(rc = gw_store_features_next(st, rd, &row))) {
        const char *id = row.values[0].kind == GW_VAL_TEXT ? row.values[0].s : NULL;
        if (!gw_req_scope_store_row(req, sc, q->layer, id, row.wkb, row.wkb_len)) continue;
        if (matched++ < q->offset || returned >= q->limit) continue;
        if (returned++) gw_buf_add(&feats, ",", 1);
        put_feature_sel(q->layer, &row, w, &feats, cov, q->x.mask);
    }
    if (rc == GW_ERR_NOT_FOUND) rc = GW_OK;
    gw_store_features_close(st, rd);
    gw_store_read_end(st);
    if (!rc) {
        put_collection_head(req, b, q, matched, returned);
        if (feats.len) gw_buf_add(b, feats.data, feats.len);
        gw_buf_str(b, "]}\n");
    }
    if (!rc && (b->oom || feats.oom))
        rc = gw_ctx_error(gw_store_ctx(st), GW_ERR_NOMEM, "out of memory");
    gw_buf_free(&feats);
    return rc;
}

static int h_items(gw_req *req)
{
    items_q q = {.req = req, .limit = LIMIT_DEFAULT};
    gw_store *st = NULL;
    if (bad_f(req) || layer_param(req, &q.layer) || !(st = gw_req_store(req))) return 0;
    gw_ctx *ctx = gw_store_ctx(st);
    if (gw_req_query_each(req, items_arg, &q) || (q.has_bbox && bbox_to_lonlat(&q, ctx))) return 0;
    if (ogc_query_apply(req, &q.x, q.layer, &q.f)) {
        ogc_query_free(&q.x);
        return 0;
    }
    items_filter(&q);
    gw_geojson_writer w = {0};
    gw_crs_transform *tr = NULL;
    gw_buf b = {0};
    gw_scope *sc = NULL;
    if (output_crs(req, q.crs ? q.crs : &crs_opts[0], ctx, &w, &tr) ||
        gw_req_scope_live(req, &sc)) {
        gw_geojson_writer_free(&w);
        gw_crs_transform_destroy(tr);
        ogc_query_free(&q.x);
        return 0;
    }
    gw_status rc = sc ? items_page_scoped(req, st, &q, sc, &w, coverage_of(req, q.layer), &b)
                      : items_page(req, st, &q, &w, coverage_of(req, q.layer), &b);
    gw_scope_release(sc);
    gw_geojson_writer_free(&w);
    gw_crs_transform_destroy(tr);
    ogc_query_free(&q.x);
    if (rc) {
        gw_req_fail(req, ctx, rc, "query failed: %s", gw_ctx_errmsg(ctx));
        gw_buf_free(&b);
        return 0;
    }
    size_t len;
    char *body = gw_buf_take(&b, &len);
    ogc_answer_geojson(req, OGC_PAGE_ITEMS, body, len, "application/geo+json");
    return 0;
}

static int h_item(gw_req *req)
{
    gw_layer layer;
    if (bad_f(req) || layer_param(req, &layer)) return 0;
    const crs_opt *c = &crs_opts[0];
    const char *crs = gw_req_query(req, "crs");
    if (crs && !(c = find_crs(crs))) {
        gw_req_problem(req, 400, NULL, "parameter 'crs': '%s' is not offered; use one of %s", crs,
                       crs_list_text);
        return 0;
    }
    gw_store *st = gw_req_store(req);
    if (!st) return 0;
    const char *id = gw_req_param(req, "id");
    gw_feature_filter f = {.layer = layer, .ids = &id, .n_ids = 1};
    gw_feature_reader *rd = NULL;
    gw_row row;
    gw_scope *sc = NULL;
    if (gw_req_scope_live(req, &sc)) return 0;
    gw_status rc = gw_store_features_open(st, &f, 0, 0, &rd);
    if (!rc) rc = gw_store_features_next(st, rd, &row);
    /* outside the token's jurisdiction: as if it did not exist */
    if (!rc && sc && !gw_req_scope_store_row(req, sc, layer, id, row.wkb, row.wkb_len))
        rc = GW_ERR_NOT_FOUND;
    gw_scope_release(sc);
    if (rc) {
        if (rc == GW_ERR_NOT_FOUND)
            gw_req_problem(req, 404, NULL, "no feature '%s' in collection '%s'", id,
                           gw_layer_name(layer));
        else
            gw_req_fail(req, gw_store_ctx(st), rc, "query failed: %s",
                        gw_ctx_errmsg(gw_store_ctx(st)));
        gw_store_features_close(st, rd);
        return 0;
    }
    gw_geojson_writer w = {0};
    gw_crs_transform *tr = NULL;
    gw_buf b = {0};
    if (output_crs(req, c, gw_store_ctx(st), &w, &tr) == 0) {
        gw_ogc_put_feature(layer, &row, &w, &b, coverage_of(req, layer));
        b.len--;                 /* reopen the feature object for its links */
        gw_buf flow_links = {0}; /* an incident: its flow state and history (flow_http.c) */
        if (layer == GW_LAYER_INCIDENTS) gw_flow_item_extra(req, st, id, &b, &flow_links);
        gw_buf_str(&b, ",\"links\":[");
        gw_buf url = {0};
        gw_buf_printf(&url, "%s%s", gw_req_base_url(req), gw_req_path(req));
        gw_buf_str(&b, "{\"rel\":\"self\",\"type\":\"application/geo+json\",\"href\":");
        gw_buf_json_str(&b, url.data ? url.data : "");
        gw_buf_reset(&url);
        gw_buf_printf(&url, "%s/collections/%s", gw_req_base_url(req), gw_layer_name(layer));
        gw_buf_str(&b, "},{\"rel\":\"collection\",\"type\":\"application/json\",\"href\":");
        gw_buf_json_str(&b, url.data ? url.data : "");
        gw_buf_str(&b, "}");
        ogc_put_html_link(req, &b);
        if (flow_links.len) gw_buf_add(&b, flow_links.data, flow_links.len);
        gw_buf_str(&b, "]}");
        gw_buf_free(&url);
        gw_buf_free(&flow_links);
        size_t len;
        char *body = b.oom ? NULL : gw_buf_take(&b, &len);
        if (!body) gw_req_problem(req, 500, NULL, "out of memory");
        else ogc_answer_geojson(req, OGC_PAGE_ITEM, body, len, "application/geo+json");
    }
    gw_buf_free(&b);
    gw_geojson_writer_free(&w);
    gw_crs_transform_destroy(tr);
    gw_store_features_close(st, rd);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/", h_landing, GW_ROLE_ANON, "landing"},
    {"GET", "/conformance", h_conformance, GW_ROLE_ANON, "conformance"},
    {"GET", "/openapi.json", ogc_h_openapi, GW_ROLE_ANON, "openapi"},
    {"GET", "/collections", h_collections, GW_ROLE_VIEWER, "collections"},
    {"GET", "/collections/{layer}", h_collection, GW_ROLE_VIEWER, "collection"},
    {"GET", "/collections/{layer}/items", h_items, GW_ROLE_VIEWER, "items"},
    {"GET", "/collections/{layer}/queryables", ogc_h_queryables, GW_ROLE_VIEWER, "queryables"},
    {"GET", "/collections/{layer}/items/{id}", h_item, GW_ROLE_VIEWER, "item"},
};

const gw_route *gw_ogc_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
