/* ogc_write.c — OGC API – Features writes (Part 4 style) over geo/edit.c: POST a Feature or a
 * FeatureCollection, PUT, PATCH (merge patch) and DELETE one item, each one transaction, with
 * per-layer write rules (auth.c) and problem+json errors mapped from the engine's statuses.
 *
 * Writes use a read-write connection per worker thread, opened on the thread's first write and
 * closed by a thread-specific destructor when libmicrohttpd's worker ends: the server's own
 * per-thread connection is query_only.  SQLite's busy timeout serialises concurrent writers. */
#include "ogc_write.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/edit.h"
#include "gridwatch/layer.h"
#include "http_util.h"
#include "ogc.h"
#include "problem.h"
#include "scope_http.h"

#include "gridwatch/store_features.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- request pieces ------------------------------------------------------------------------ */

/* The input CRS from ?crs= or the Content-Crs header ("<uri>"); 0, or -1 with a 400 answered. */
static int input_crs(gw_req *req, gw_edit_opts *o)
{
    static const struct {
        const char *name;
        gw_crs crs;
        int latlon;
    } known[] = {
        {GW_OGC_CRS84, {GW_CRS_EPSG, 4326}, 0},
        {"https://www.opengis.net/def/crs/OGC/1.3/CRS84", {GW_CRS_EPSG, 4326}, 0},
        {"CRS84", {GW_CRS_EPSG, 4326}, 0},
        {"OGC:CRS84", {GW_CRS_EPSG, 4326}, 0},
        {"http://www.opengis.net/def/crs/EPSG/0/4326", {GW_CRS_EPSG, 4326}, 1},
        {"EPSG:4326", {GW_CRS_EPSG, 4326}, 1},
        {"http://www.opengis.net/def/crs/EPSG/0/4490", {GW_CRS_EPSG, 4490}, 1},
        {"EPSG:4490", {GW_CRS_EPSG, 4490}, 1},
        {"http://www.opengis.net/def/crs/EPSG/0/3857", {GW_CRS_EPSG, 3857}, 0},
        {"EPSG:3857", {GW_CRS_EPSG, 3857}, 0},
        {GW_OGC_CRS_GCJ02, {GW_CRS_GCJ02, 0}, 0},
        {"GCJ-02", {GW_CRS_GCJ02, 0}, 0},
        {"gcj02", {GW_CRS_GCJ02, 0}, 0},
        {"GCJ02", {GW_CRS_GCJ02, 0}, 0},
    };
    *o = (gw_edit_opts){.crs = {GW_CRS_EPSG, 4326}}; /* never .layout: see gw_edit_opts */
    const char *what = "crs";
    const char *v = gw_req_query(req, "crs");
    if (!v) {
        v = gw_req_header(req, "Content-Crs");
        what = "Content-Crs";
    }
    if (!v) return 0;
    char buf[256];
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>') v++, n -= 2;
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), v);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(buf, known[i].name) == 0) {
            o->crs = known[i].crs;
            o->axis_latlon = known[i].latlon;
            return 0;
        }
    gw_req_problem(req, 400, NULL,
                   "%s '%s' is not a CRS this server takes for input; use "
                   "CRS84 (" GW_OGC_CRS84 "), http://www.opengis.net/def/crs/EPSG/0/4326 (lat/lon "
                   "order), .../4490 (lat/lon), .../3857 or " GW_OGC_CRS_GCJ02,
                   strcmp(what, "crs") == 0 ? "parameter 'crs':" : "header Content-Crs:", buf);
    return -1;
}

/* 0 when the body is JSON by its Content-Type (absent is taken as JSON); else 415 answered. */
static int json_body(gw_req *req)
{
    const char *ct = gw_req_header(req, "Content-Type");
    if (!ct) return 0;
    static const char *const ok[] = {"application/json", "application/geo+json",
                                     "application/merge-patch+json"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(ct, ok[i], n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return 0;
    }
    gw_req_problem(req, 415, NULL,
                   "Content-Type '%s' is not accepted; send GeoJSON as "
                   "application/geo+json or application/json",
                   ct);
    return -1;
}

/* ---- the response: the features as stored -------------------------------------------------- */

/* The written features read back (a Feature for one, else a FeatureCollection); GW_OK or the
 * store's failure. */
static gw_status stored_features(gw_store *s, gw_layer layer, const gw_edit_result *r, gw_buf *b)
{
    gw_feature_filter f = {.layer = layer, .ids = (const char *const *)r->ids, .n_ids = r->n};
    gw_feature_reader *rd = NULL;
    gw_status st = gw_store_features_open(s, &f, 0, 0, &rd);
    if (st) return st;
    gw_geojson_writer w = {.prec = 7};
    if (r->n != 1) gw_buf_str(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    gw_row row;
    for (size_t k = 0; (st = gw_store_features_next(s, rd, &row)) == GW_OK; k++) {
        if (k) gw_buf_add(b, ",", 1);
        gw_ogc_put_feature(layer, &row, &w, b, NULL);
    }
    if (r->n != 1) gw_buf_str(b, "]}");
    gw_store_features_close(s, rd);
    gw_geojson_writer_free(&w);
    if (st == GW_ERR_NOT_FOUND) st = GW_OK;
    return st ? st : b->oom ? GW_ERR_NOMEM : GW_OK;
}

/* ---- handlers ------------------------------------------------------------------------------ */

enum op { OP_POST, OP_PUT, OP_PATCH, OP_DELETE };

/* The edit's check (gw_edit_opts.check) for a scoped token: each feature as written must lie in
 * the jurisdiction; the first that does not is named in `refused`. */
typedef struct scope_check {
    gw_req *req;
    gw_scope *sc;
    char refused[300];
} scope_check;

static int check_in_scope(void *user, gw_store *store, gw_layer layer, const char *id)
{
    scope_check *c = user;
    if (gw_req_scope_stored(c->req, c->sc, store, layer, id) == 1) return 0;
    snprintf(c->refused, sizeof c->refused, "%s '%s' as written", gw_layer_name(layer), id);
    return 1;
}

static int write_item(gw_req *req, enum op op)
{
    gw_layer layer;
    const char *lname = gw_req_param(req, "layer");
    if (!lname || gw_layer_from_name(lname, &layer) != GW_OK) {
        gw_req_problem(req, 404, NULL,
                       "no collection '%s'; collections: grids, police_rooms, "
                       "cameras, teams, incidents",
                       lname ? lname : "");
        return 0;
    }
    if (gw_auth_require_write(req, layer)) return 0;
    gw_edit_opts o;
    if (op != OP_DELETE && (json_body(req) || input_crs(req, &o))) return 0;
    gw_store *s = gw_req_write_store(req);
    if (!s) return 0;
    gw_ctx *ctx = gw_store_ctx(s);
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    const char *id = gw_req_param(req, "id");
    /* A scoped token writes only inside its jurisdiction: the feature as it was (checked
     * here) and as it is written (checked inside the write's transaction) must both lie in it. */
    scope_check chk = {.req = req};
    if (gw_req_scope_live(req, &chk.sc)) return 0;
    if (chk.sc && op != OP_POST && gw_req_scope_stored(req, chk.sc, s, layer, id) == 0) {
        char what[300];
        snprintf(what, sizeof what, "%s '%s'", gw_layer_name(layer), id);
        gw_req_scope_refuse(req, what);
        gw_scope_release(chk.sc);
        return 0;
    }
    if (chk.sc && op != OP_DELETE) o.check = check_in_scope, o.check_user = &chk;
    gw_edit_result r = {0};
    gw_status st;
    switch (op) {
    case OP_POST: st = gw_edit_insert(s, layer, body, len, &o, &r); break;
    case OP_PUT: st = gw_edit_replace(s, layer, id, body, len, &o, &r); break;
    case OP_PATCH: st = gw_edit_patch(s, layer, id, body, len, &o, &r); break;
    default: st = gw_edit_delete(s, layer, id, NULL, &r); break;
    }
    gw_scope_release(chk.sc);
    if (st && chk.refused[0]) {
        gw_ctx_clear_error(ctx);
        gw_req_scope_refuse(req, chk.refused);
        return 0;
    }
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
        return 0;
    }
    /* wake the sync thread now rather than at its next poll: the model, the tiles and the
     * hot spot fields catch up with this write a poll interval (100 ms) sooner */
    gw_live_kick(gw_req_live(req));
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)r.seq);
    if (op == OP_DELETE) {
        gw_req_respond(req, 204, NULL, "", 0);
        gw_req_add_header(req, "Gridwatch-Change-Seq", seq);
        gw_edit_result_free(&r);
        return 0;
    }
    gw_buf b = {0};
    if ((st = stored_features(s, layer, &r, &b))) {
        gw_req_fail(req, ctx, st, "the write succeeded (change %s) but reading it back failed: %s",
                    seq, gw_ctx_errmsg(ctx));
    } else {
        gw_req_respond(req, op == OP_POST ? 201 : 200, "application/geo+json", b.data, b.len);
        gw_req_add_header(req, "Content-Crs", "<" GW_OGC_CRS84 ">");
        gw_req_add_header(req, "Gridwatch-Change-Seq", seq);
        if (op == OP_POST && r.n > 0) {
            gw_buf loc = {0};
            gw_buf_printf(&loc, "%s/collections/%s/items/", gw_req_base_url(req),
                          gw_layer_name(layer));
            gw_buf_url(&loc, r.ids[0]);
            if (loc.data) gw_req_add_header(req, "Location", loc.data);
            gw_buf_free(&loc);
        }
    }
    gw_buf_free(&b);
    gw_edit_result_free(&r);
    return 0;
}

static int h_post(gw_req *req) { return write_item(req, OP_POST); }
static int h_put(gw_req *req) { return write_item(req, OP_PUT); }
static int h_patch(gw_req *req) { return write_item(req, OP_PATCH); }
static int h_delete(gw_req *req) { return write_item(req, OP_DELETE); }

static const gw_route routes[] = {
    {"POST", "/collections/{layer}/items", h_post, GW_ROLE_DISPATCHER, "items_create"},
    {"PUT", "/collections/{layer}/items/{id}", h_put, GW_ROLE_DISPATCHER, "item_replace"},
    {"PATCH", "/collections/{layer}/items/{id}", h_patch, GW_ROLE_DISPATCHER, "item_patch"},
    {"DELETE", "/collections/{layer}/items/{id}", h_delete, GW_ROLE_DISPATCHER, "item_delete"},
};

const gw_route *gw_write_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

void gw_api_plugins(gw_server_opts *o)
{
    o->routes = gw_write_routes(&o->n_routes);
    o->auth = gw_auth_hook;
    o->auth_user = NULL;
}
