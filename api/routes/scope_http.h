/* scope_http.h — the routes' side of jurisdictions (docs/scoping.md): the scope of a request's
 * token over a snapshot, the tile row filter it gives, points given in lon/lat, and the 403 a
 * write outside the jurisdiction gets.  The scope itself is api/service/scope.h. */
#ifndef GW_SCOPE_HTTP_H
#define GW_SCOPE_HTTP_H

#include "scope.h"
#include "server.h"

/* The scope of the request's token over `snap` into *out: NULL when the token is unscoped (or
 * there is none), else a reference the caller releases with gw_scope_release().  Returns 0, or
 * -1 after answering a 500 (out of memory). */
int gw_req_scope(gw_req *req, const gw_model_snapshot *snap, gw_scope **out);

/* gw_req_scope over the live model's current snapshot (NULL: unscoped).  A scoped request on
 * a server without a live model is refused (403): there is nothing to scope with. */
int gw_req_scope_live(gw_req *req, gw_scope **out);
/* 1 when the store row of `id` in `layer`, read on `store` (any connection, inside its
 * transaction if one is open), lies in the scope; 0 when it does not, -1 when there is no such
 * row (or it cannot be read). */
int gw_req_scope_stored(gw_req *req, const gw_scope *sc, gw_store *store, gw_layer layer,
                        const char *id);

/* A gw_tile_keep_fn (tilelayers.h) over a gw_scope_keep_ctx. */
typedef struct gw_scope_keep_ctx {
    gw_ctx *ctx;
    const gw_scope *scope;
} gw_scope_keep_ctx;
int gw_scope_keep_row(void *user, const gw_layer_data *d, size_t row);

/* 1 when lon/lat (EPSG:4326) lies in the scope (1 for a NULL scope).  The projection is the
 * dispatch module's (thread-safe); a point that cannot be projected lies in no scope. */
int gw_req_scope_lonlat(gw_req *req, const gw_scope *sc, double lon, double lat);
/* 1 when a store row (its ISO WKB, lon/lat) lies in the scope: a grid by its id, a point by its
 * coordinates; 1 for a NULL scope. */
int gw_req_scope_store_row(gw_req *req, const gw_scope *sc, gw_layer layer, const char *id,
                           const unsigned char *wkb, size_t wkb_len);

/* Answer 403: `what` (e.g. "incident 'I-1'") lies outside the token's jurisdiction. */
void gw_req_scope_refuse(gw_req *req, const char *what);
/* The same for a point given in lon/lat: "the point (lon …, lat …) lies outside …". */
void gw_req_scope_refuse_point(gw_req *req, double lon, double lat);

#endif
