/* scope_http.c — the routes' side of jurisdictions (scope_http.h): a request's scope over a
 * snapshot, tile row filters, lon/lat and store-row membership, and the 403 for writes. */
#include "scope_http.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/dispatch.h"
#include "gridwatch/store_features.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int gw_req_scope(gw_req *req, const gw_model_snapshot *snap, gw_scope **out)
{
    *out = NULL;
    const char *jur = gw_auth_request_jurisdiction(req);
    if (!jur || !*jur) return 0;
    gw_ctx *ctx = gw_req_ctx(req);
    if (!ctx) return -1;
    if (gw_scope_get(ctx, snap, jur, out) != GW_OK) {
        gw_req_problem(req, 500, NULL, "cannot build the scope of jurisdiction '%s': %s", jur,
                       gw_ctx_errmsg(ctx));
        return -1;
    }
    return 0;
}

int gw_scope_keep_row(void *user, const gw_layer_data *d, size_t row)
{
    const gw_scope_keep_ctx *k = user;
    return gw_scope_has_row(k->ctx, k->scope, d, row);
}

int gw_req_scope_lonlat(gw_req *req, const gw_scope *sc, double lon, double lat)
{
    if (gw_scope_is_root(sc)) return 1;
    gw_app *app = gw_req_app(req);
    gw_dispatch *d = app ? app->modules[GW_APP_DISPATCH] : NULL;
    gw_ctx *ctx = gw_req_ctx(req);
    double x, y;
    if (!d || !ctx || gw_dispatch_to_metric(ctx, d, lon, lat, &x, &y) != GW_OK) {
        if (ctx) gw_ctx_clear_error(ctx);
        return 0;
    }
    return gw_scope_has_point(ctx, sc, x, y);
}

/* x, y of a 2D ISO WKB point (either byte order); 0 when it is none. */
static int wkb_point(const unsigned char *w, size_t n, double *x, double *y)
{
    if (!w || n < 21) return 0;
    int le = w[0] == 1;
    uint32_t type = le ? (uint32_t)w[1] | (uint32_t)w[2] << 8 | (uint32_t)w[3] << 16 |
                             (uint32_t)w[4] << 24
                       : (uint32_t)w[4] | (uint32_t)w[3] << 8 | (uint32_t)w[2] << 16 |
                             (uint32_t)w[1] << 24;
    if (type % 1000 != 1) return 0;
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = w[5 + (le ? i : 7 - i)];
        b[8 + i] = w[13 + (le ? i : 7 - i)];
    }
    uint16_t probe = 1;
    if (*(unsigned char *)&probe == 0) /* a big-endian host: the bytes the other way round */
        for (int i = 0; i < 8; i++) {
            unsigned char t = b[i];
            b[i] = b[7 - i], b[7 - i] = t;
            t = b[8 + i], b[8 + i] = b[15 - i], b[15 - i] = t;
        }
    memcpy(x, b, 8);
    memcpy(y, b + 8, 8);
    return 1;
}

int gw_req_scope_store_row(gw_req *req, const gw_scope *sc, gw_layer layer, const char *id,
                           const unsigned char *wkb, size_t wkb_len)
{
    if (gw_scope_is_root(sc)) return 1;
    if (layer == GW_LAYER_GRIDS) return gw_scope_has_grid_id(sc, id);
    double lon, lat;
    return wkb_point(wkb, wkb_len, &lon, &lat) && gw_req_scope_lonlat(req, sc, lon, lat);
}

void gw_req_scope_refuse(gw_req *req, const char *what)
{
    gw_req_problem(req, 403, NULL,
                   "%s lies outside this token's jurisdiction '%s'; a token scoped to a "
                   "jurisdiction reads and writes only what lies in it",
                   what, gw_auth_request_jurisdiction(req));
}

void gw_req_scope_refuse_point(gw_req *req, double lon, double lat)
{
    char what[128];
    snprintf(what, sizeof what, "the point (lon %g, lat %g)", lon, lat);
    gw_req_scope_refuse(req, what);
}

int gw_req_scope_live(gw_req *req, gw_scope **sc)
{
    *sc = NULL;
    if (!*gw_auth_request_jurisdiction(req)) return 0;
    gw_live *live = gw_req_live(req);
    if (!live) {
        gw_req_problem(req, 403, NULL, "not available to accounts scoped to a jurisdiction");
        return -1;
    }
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    int rc = gw_req_scope(req, snap, sc);
    gw_model_release(gw_req_ctx(req), snap);
    return rc;
}

int gw_req_scope_stored(gw_req *req, const gw_scope *sc, gw_store *store, gw_layer layer,
                        const char *id)
{
    gw_feature_filter f = {.layer = layer, .ids = &id, .n_ids = 1};
    gw_feature_reader *rd = NULL;
    gw_row row;
    int in = -1;
    if (gw_store_features_open(store, &f, 0, 0, &rd) == GW_OK &&
        gw_store_features_next(store, rd, &row) == GW_OK)
        in = gw_req_scope_store_row(req, sc, layer, id, row.wkb, row.wkb_len);
    gw_store_features_close(store, rd);
    gw_ctx_clear_error(gw_store_ctx(store));
    return in;
}
