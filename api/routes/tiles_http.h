/* tiles_http.h — the vector tile routes: /tiles/{layer}/{z}/{x}/{y}.mvt, TileJSON 3.0.0 at
 * /tiles/{layer}.json, the MapLibre style /styles/city.json; the tile state they share (model,
 * tile cache, lookup source) kept in step with the change log; and `gridwatch tiles` (MBTiles).
 *
 * In the app (app.h): app->tiles = gw_tiles_create_live(ctx, app->live, bytes, …) before the
 * sync thread sees changes, add gw_tiles_routes() to app->routes; the handlers find the state
 * through gw_req_app(req)->tiles; gw_tiles_destroy() after the server AND after gw_live_destroy()
 * (the live sync thread calls the listener until it stops; the model is only borrowed).
 * Standalone (tests, tools): gw_tiles_create() loads its own model and follows the change log
 * per request; gw_tiles_install() makes it the state of servers without an app. */
#ifndef GW_TILES_HTTP_H
#define GW_TILES_HTTP_H

#include "gridwatch/model.h"
#include "gridwatch/tilecache.h"
#include "gridwatch/tilelayers.h"
#include "live.h"
#include "server.h"

typedef struct gw_tiles gw_tiles;

/* Tile state over the app's live model: registers a listener on `live` that drops exactly the
 * cached tiles each batch of changes touches (call before the server starts).  Caller frees
 * with gw_tiles_destroy() after the server is destroyed and after gw_live_destroy() stopped
 * the sync thread. */
gw_status gw_tiles_create_live(gw_ctx *ctx, gw_live *live, size_t cache_bytes, gw_tiles **out);

/* Lay the analysis on the live tiles: coverage fields on the grids and the blind_spots layer
 * from `coverage` (a gw_coverage_http, may be NULL), default Gi* hot spot fields from
 * `hotspots` (a gw_hotspots, may be NULL); see tile_fields.h.  Call once, after those modules
 * are created and before the server starts; gw_tiles_stop() before gw_live_destroy(). */
gw_status gw_tiles_attach(gw_ctx *ctx, gw_tiles *t, void *coverage, void *hotspots);
/* Lay the hot spot clusters on them too: the hotspot_clusters layer and the grids' clusters and
 * cluster_rr fields from `clusters` (a gw_clusters_http, may be NULL; clusters_http.h).  After
 * gw_tiles_attach.  Accepts NULL t. */
void gw_tiles_attach_clusters(gw_tiles *t, void *clusters);
/* The road reach fields of the grids (a gw_reach_http, reach_http.h). */
void gw_tiles_attach_reach(gw_tiles *t, void *reach);
/* Stop the analysis worker (it reads the live model).  Accepts NULL. */
void gw_tiles_stop(gw_tiles *t);
/* Wait until the hot spot fields have caught up with the changes the live model announced
 * (or timeout_ms passed); 1 when they have (also when nothing is attached).  For tests. */
int gw_tiles_fields_wait(gw_tiles *t, unsigned timeout_ms);

/* Load the model of db_path (a few seconds at scale 1) and create a tile cache of cache_bytes
 * (0 = 256 MiB).  Caller frees with gw_tiles_destroy() after the server is destroyed. */
gw_status gw_tiles_create(gw_ctx *ctx, const char *db_path, size_t cache_bytes, gw_tiles **out);
/* Accepts NULL. */
void gw_tiles_destroy(gw_tiles *t);
/* The vector tile cache's counters (for /metrics); zeros for NULL. */
gw_tile_cache_stats gw_tiles_cache_stats(gw_tiles *t);
/* Make `t` the state the tile handlers use (NULL: they answer 503).  Call before the server
 * starts and after it stopped; one tile state per process. */
void gw_tiles_install(gw_tiles *t);

/* Bring the model up to the store's change log and drop the cached tiles the new changes
 * touch.  The handlers call it on every request (one indexed SQL read when nothing changed);
 * exposed for writers that want it done right after their commit.  `store` is any connection
 * of the caller's thread (not inside a write transaction).  Returns tiles dropped. */
size_t gw_tiles_sync(gw_tiles *t, gw_store *store);

/* Render tile `tid` of `parts` from snapshot `s` exactly as GET /tiles/{layer}/{z}/{x}/{y}.mvt
 * does: the analysis fields and layers attached with gw_tiles_attach (coverage and Gi* fields
 * on the grids, blind_spots, hotspot_clusters), filter f (may be NULL), and only the rows
 * `keep` keeps when it is not NULL (a scoped token).  The tile route and `gridwatch tiles`
 * (the offline pyramid) both render through here, so an MBTiles tile is the server's tile.
 * *bytes is owned by mvt (valid until its next reset); *len 0 for an empty tile.  *version
 * (may be NULL) receives the tile's data version (gw_tile_fields_acquire).  Thread-safe with
 * one mvt and one ctx per thread.  Errors as gw_tile_render_ex. */
/* The tile of a /…/{z}/{x}/{y}.mvt request (y may end in .mvt or .pbf) into *out: 0, or -1
 * after answering the problem (404 for another extension or a tile outside the zoom's range,
 * 400 for a malformed number). */
int gw_tiles_req_tile(gw_req *req, gw_ctx *ctx, gw_tile_id *out);

gw_status gw_tiles_render(gw_tiles *t, gw_ctx *ctx, const gw_model_snapshot *s, uint32_t parts,
                          gw_tile_id tid, const gw_tile_filter *f, gw_tile_keep_fn keep,
                          void *keep_user, gw_mvt *mvt, const uint8_t **bytes, size_t *len,
                          int64_t *version);
/* The lookup source and the model the tiles are rendered from (borrowed; NULL for NULL t). */
gw_tile_source *gw_tiles_source(gw_tiles *t);
gw_model *gw_tiles_model(gw_tiles *t);

/* The routes (static storage; *n receives the count): GET /tiles/{layer}/{z}/{x}/{y}.mvt,
 * GET /tiles/{layer}.json, GET /styles/city.json; role viewer. */
const gw_route *gw_tiles_routes(size_t *n);

#endif
