/* app.c — wires the feature modules into one service: creates the live model, each module's
 * state and listeners, and concatenates their routes (writes first, then tiles, analysis,
 * dispatch, events, then the OGC API reads); the server's ops routes come after these. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clusters_http.h"
#include "coverage_http.h"
#include "hotspot_http.h"
#include "juris_http.h"
#include "response_http.h"
#include "dispatch_http.h"
#include "reach_http.h"
#include "roads_http.h"
#include "events.h"
#include "flow_http.h"
#include "ogc.h"
#include "ogc_write.h"
#include "plan_http.h"
#include "labels_http.h"
#include "web_http.h"
#include "tiles_http.h"

/* How each route treats a token scoped to a jurisdiction (docs/scoping.md keeps the table with
 * the reasons).  A route missing here is refused to scoped tokens: a new route cannot leak
 * before someone decides how it is scoped. */
static const struct {
    const char *name;
    gw_scope_rule rule;
} scope_rules[] = {
    /* the answer tells nothing about features */
    {"landing", GW_SCOPE_OPEN},
    {"conformance", GW_SCOPE_OPEN},
    {"queryables", GW_SCOPE_OPEN}, /* a collection's field names and types (its schema) */
    {"openapi", GW_SCOPE_OPEN},
    {"wall", GW_SCOPE_OPEN},
    {"wall_file", GW_SCOPE_OPEN},
    {"glyphs", GW_SCOPE_OPEN},
    {"sprite", GW_SCOPE_OPEN},
    {"style", GW_SCOPE_OPEN},
    {"tilejson", GW_SCOPE_OPEN},
    {"heatmap_legend", GW_SCOPE_OPEN},
    {"healthz", GW_SCOPE_OPEN},
    {"metrics", GW_SCOPE_OPEN},
    /* restricted by their handlers */
    {"collections", GW_SCOPE_FILTERS},
    {"collection", GW_SCOPE_FILTERS},
    {"items", GW_SCOPE_FILTERS},
    {"item", GW_SCOPE_FILTERS},
    {"items_create", GW_SCOPE_FILTERS},
    {"item_replace", GW_SCOPE_FILTERS},
    {"item_patch", GW_SCOPE_FILTERS},
    {"item_delete", GW_SCOPE_FILTERS},
    {"tile", GW_SCOPE_FILTERS},
    {"heatmap_tile", GW_SCOPE_FILTERS},
    {"events", GW_SCOPE_FILTERS},
    {"dispatch_locate", GW_SCOPE_FILTERS},
    {"dispatch_nearest", GW_SCOPE_FILTERS},
    {"dispatch_cameras", GW_SCOPE_FILTERS},
    {"dispatch_positions", GW_SCOPE_FILTERS},
    {"dispatch_assign", GW_SCOPE_FILTERS},
    {"dispatch_release", GW_SCOPE_FILTERS},
    {"coverage", GW_SCOPE_FILTERS},
    {"analysis_hotspots", GW_SCOPE_FILTERS},
    {"analysis_hotspots_evaluate", GW_SCOPE_FILTERS},
    {"analysis_hotspots_clusters", GW_SCOPE_FILTERS},
    {"analysis_kde", GW_SCOPE_FILTERS},
    {"coverage_grid", GW_SCOPE_FILTERS},
    {"jurisdictions", GW_SCOPE_FILTERS},
    {"incident_transitions", GW_SCOPE_FILTERS},
    {"incident_transition", GW_SCOPE_FILTERS},
    {"incidents_overdue", GW_SCOPE_FILTERS},
    {"analysis_response", GW_SCOPE_FILTERS},
    {"isochrones", GW_SCOPE_FILTERS},
    {"isochrones_tile", GW_SCOPE_FILTERS},
    {"roads_tile", GW_SCOPE_OPEN}, /* public infrastructure, the same for every token */
    /* planning (plan_scope.h): drafts wholly in the jurisdiction; whole-layout routes only for a
     * scope that holds the whole city; rollback refused by its handler */
    {"plan_draft_create", GW_SCOPE_FILTERS},
    {"plan_drafts", GW_SCOPE_FILTERS},
    {"plan_draft", GW_SCOPE_FILTERS},
    {"plan_draft_delete", GW_SCOPE_FILTERS},
    {"plan_diff", GW_SCOPE_FILTERS},
    {"plan_edit", GW_SCOPE_FILTERS},
    {"plan_validation", GW_SCOPE_FILTERS},
    {"plan_validation_tile", GW_SCOPE_FILTERS},
    {"plan_import", GW_SCOPE_FILTERS},
    {"plan_balance", GW_SCOPE_FILTERS},
    {"plan_draft_grids", GW_SCOPE_FILTERS},
    {"plan_publish", GW_SCOPE_FILTERS},
    {"plan_versions", GW_SCOPE_FILTERS},
    {"plan_version_validation", GW_SCOPE_FILTERS},
    {"plan_rollback", GW_SCOPE_FILTERS},
    {"plan_suggest", GW_SCOPE_FILTERS},
};

static gw_scope_rule scope_rule(const char *name)
{
    for (size_t i = 0; name && i < sizeof scope_rules / sizeof scope_rules[0]; i++)
        if (strcmp(scope_rules[i].name, name) == 0) return scope_rules[i].rule;
    return GW_SCOPE_REFUSE;
}

static const gw_auth_conf auth_conf = {.scope_rule = scope_rule};

gw_scope_rule gw_app_scope_rule(const char *route_name) { return scope_rule(route_name); }

static gw_status add_routes(gw_ctx *ctx, gw_app *app, const gw_route *r, size_t n)
{
    if (!r || !n) return GW_OK;
    gw_route *nr = realloc(app->routes, (app->n_routes + n) * sizeof *nr);
    if (!nr) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    memcpy(nr + app->n_routes, r, n * sizeof *r);
    app->routes = nr;
    app->n_routes += n;
    return GW_OK;
}

/* The model layers the tile parts p read (tile layers 0-4 are gw_layers; the analysis adds the
 * grids and incidents).  Coverage reads the cameras and police rooms only to compute: with
 * `coverage_inputs` 0 they are left out, and the coverage module must find its rows stored. */
static unsigned tile_model_layers(uint32_t p, int coverage_inputs)
{
    unsigned m = p & ((1u << GW_LAYER_COUNT) - 1);
    if (p & (1u << GW_TL_CAMERA_VIEWS)) m |= 1u << GW_LAYER_CAMERAS;
    if (p & (1u << GW_TL_GRIDS | 1u << GW_TL_HOTSPOT_CLUSTERS))
        m |= 1u << GW_LAYER_GRIDS | 1u << GW_LAYER_INCIDENTS;
    if (p & (1u << GW_TL_BLIND_SPOTS)) m |= 1u << GW_LAYER_GRIDS, coverage_inputs = 1;
    if (coverage_inputs && (p & (1u << GW_TL_GRIDS | 1u << GW_TL_BLIND_SPOTS)))
        m |= 1u << GW_LAYER_CAMERAS | 1u << GW_LAYER_POLICE_ROOMS;
    if (p & (1u << GW_TL_GRIDS)) m |= 1u << GW_LAYER_POLICE_ROOMS; /* the road reach's sources */
    return m;
}

/* The app of opts->tile_parts (see app.h): a frozen model of the layers those parts read, the
 * tiles and the modules whose fields they draw, created as gw_app_create does (the same tiles,
 * so `gridwatch tiles` writes the server's).  GW_ERR_NOT_FOUND when the model was left without
 * the coverage inputs and the stored coverage rows are not current. */
static gw_status create_for_tiles(gw_ctx *ctx, gw_app *app, const char *db_path,
                                  const gw_app_opts *opts, int coverage_inputs)
{
    uint32_t p = opts->tile_parts, grids = p & (1u << GW_TL_GRIDS);
    gw_status st = gw_live_create_frozen(ctx, db_path, tile_model_layers(p, coverage_inputs),
                                         &app->live);
    if (!st && grids) { /* Gi* and the response figures */
        gw_hotspots *hs = NULL;
        st = gw_hotspots_create(ctx, app->live, opts->tile_cache_bytes / 4, &hs);
        app->modules[GW_APP_HOTSPOTS] = hs;
    }
    if (!st && (grids || (p & (1u << GW_TL_HOTSPOT_CLUSTERS)))) {
        gw_clusters_http *cl = NULL;
        st = gw_clusters_http_create(ctx, app->live, &cl);
        app->modules[GW_APP_CLUSTERS] = cl;
    }
    if (!st)
        st = gw_tiles_create_live(ctx, app->live, opts->tile_cache_bytes, (gw_tiles **)&app->tiles);
    if (!st && (grids || (p & (1u << GW_TL_BLIND_SPOTS)))) {
        gw_coverage_http *cov = NULL;
        st = gw_coverage_http_create_for_tiles(ctx, app->live, db_path,
                                               (p & (1u << GW_TL_BLIND_SPOTS)) != 0, &cov);
        app->modules[GW_APP_COVERAGE] = cov;
    }
    if (!st && grids) { /* the grids' road reach shares (reach_3m/5m/10m), as the server has */
        gw_roads_http *rh = NULL;
        st = gw_roads_http_create(ctx, app->live, &rh);
        app->modules[GW_APP_ROADS] = rh;
        gw_reach_http *rc = NULL;
        if (!st) st = gw_reach_http_create_for_tiles(ctx, app->live, rh, &rc);
        app->modules[GW_APP_REACH] = rc;
    }
    if (!st)
        st = gw_tiles_attach(ctx, app->tiles, app->modules[GW_APP_COVERAGE],
                             app->modules[GW_APP_HOTSPOTS]);
    if (!st) gw_tiles_attach_clusters(app->tiles, app->modules[GW_APP_CLUSTERS]);
    if (!st && app->modules[GW_APP_REACH])
        gw_tiles_attach_reach(app->tiles, app->modules[GW_APP_REACH]);
    return st;
}

gw_status gw_app_create(gw_ctx *ctx, const char *db_path, const gw_app_opts *opts, gw_app **out)
{
    gw_app_opts dflt = {0};
    if (!opts) opts = &dflt;
    *out = NULL;
    gw_app *app = calloc(1, sizeof *app);
    if (!app) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (opts->tile_parts) { /* gridwatch tiles; the coverage inputs only when it must compute */
        gw_status st = create_for_tiles(ctx, app, db_path, opts, 0);
        if (st == GW_ERR_NOT_FOUND) {
            gw_app_destroy(app);
            if (!(app = calloc(1, sizeof *app)))
                return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            gw_ctx_clear_error(ctx);
            st = create_for_tiles(ctx, app, db_path, opts, 1);
        }
        if (st) gw_app_destroy(app);
        else *out = app;
        return st;
    }
    gw_status st = gw_live_create(ctx, db_path, opts->poll_ms, &app->live);
    size_t n = 0;
    const gw_route *r = NULL;
    if (!st) {
        r = gw_write_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* the map wall page and its static files */
        r = gw_web_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* the map styles' glyphs and sprite */
        r = gw_labels_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* hot spots (before the vector tiles: /tiles/heatmap/{z}/{x}/{y}.png must match first);
              * cached weights and heat map tiles follow changes through a listener */
        gw_hotspots *hs = NULL;
        /* heat map PNGs get a quarter of the vector tiles' budget: one --tile-cache-mb sizes both */
        st = gw_hotspots_create(ctx, app->live, opts->tile_cache_bytes / 4, &hs);
        app->modules[GW_APP_HOTSPOTS] = hs;
    }
    if (!st) { /* hot spot clusters: cached scans kept current by a listener and a worker */
        gw_clusters_http *cl = NULL;
        st = gw_clusters_http_create(ctx, app->live, &cl);
        app->modules[GW_APP_CLUSTERS] = cl;
    }
    if (!st) { /* /analysis/hotspots/clusters before /analysis/hotspots */
        r = gw_clusters_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) {
        r = gw_hotspots_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* /tiles/isochrones/… and /tiles/roads/… must match before /tiles/{layer}/… */
        r = gw_reach_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) {
        r = gw_roads_tile_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st)
        st = gw_tiles_create_live(ctx, app->live, opts->tile_cache_bytes, (gw_tiles **)&app->tiles);
    if (!st) {
        r = gw_tiles_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* dispatch: its team table follows the model through a listener */
        gw_dispatch *disp = NULL;
        st = gw_dispatch_http_create(ctx, app->live, 0, &disp);
        app->modules[GW_APP_DISPATCH] = disp;
    }
    if (!st) { /* the road network: the graph follows the road layer through a listener */
        gw_roads_http *rh = NULL;
        st = gw_roads_http_create(ctx, app->live, &rh);
        app->modules[GW_APP_ROADS] = rh;
    }
    if (!st) { /* response-time areas: grid shares computed per roads/rooms/grids version */
        gw_reach_http *rc = NULL;
        st = gw_reach_http_create(ctx, app->live, app->modules[GW_APP_ROADS], &rc);
        app->modules[GW_APP_REACH] = rc;
    }
    if (!st) {
        r = gw_dispatch_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* coverage: computed at start, kept current by a listener */
        gw_coverage_http *cov = NULL;
        st = gw_coverage_http_create(ctx, app->live, db_path, &cov);
        app->modules[GW_APP_COVERAGE] = cov;
    }
    if (!st) {
        r = gw_coverage_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) /* the tiles carry coverage and hot spot fields and the blind spots */
        st = gw_tiles_attach(ctx, app->tiles, app->modules[GW_APP_COVERAGE],
                             app->modules[GW_APP_HOTSPOTS]);
    if (!st) /* and the hot spot clusters (a layer of their own and two grid fields) */
        gw_tiles_attach_clusters(app->tiles, app->modules[GW_APP_CLUSTERS]);
    if (!st) /* and the road reach of the grids */
        gw_tiles_attach_reach(app->tiles, app->modules[GW_APP_REACH]);
    if (!st) { /* grid planning: drafts, edits, validation, publish/rollback (no state) */
        r = gw_plan_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* the incident flow: transitions, history, overdue (no state) */
        r = gw_flow_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* response figures per grid and jurisdiction from the audit trail (no state) */
        r = gw_response_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* the jurisdiction hierarchy of the published grids (no state) */
        r = gw_juris_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* live events: a listener feeds the SSE subscribers */
        gw_events *ev = NULL;
        st = gw_events_create(ctx, app->live, &ev);
        app->modules[GW_APP_EVENTS] = ev;
        if (!st) gw_events_set_teams(ev, app->modules[GW_APP_DISPATCH]);
    }
    if (!st) {
        r = gw_events_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (!st) { /* the OGC API reads last: the server's ops routes (healthz, metrics) follow */
        r = gw_ogc_routes(&n);
        st = add_routes(ctx, app, r, n);
    }
    if (st) {
        gw_app_destroy(app);
        return st;
    }
    *out = app;
    return GW_OK;
}

void gw_app_configure(gw_app *app, gw_server_opts *o)
{
    o->routes = app->routes;
    o->n_routes = app->n_routes;
    o->auth = gw_auth_hook;
    o->auth_user = (void *)&auth_conf;
    o->app = app;
    o->metrics = gw_app_metrics;
    o->metrics_user = app;
}

void gw_app_destroy(gw_app *app)
{
    if (!app) return;
    /* The coverage background thread reads the live model: it stops before the model goes. */
    gw_coverage_http_stop(app->modules[GW_APP_COVERAGE]);
    gw_tiles_stop(app->tiles); /* its hot spot worker too */
    gw_clusters_http_stop(app->modules[GW_APP_CLUSTERS]);
    gw_reach_http_stop(app->modules[GW_APP_REACH]);
    /* The sync thread stops first: its listeners use the modules' state. */
    gw_live_destroy(app->live);
    gw_tiles_destroy(app->tiles);
    gw_hotspots_destroy(app->modules[GW_APP_HOTSPOTS]);
    gw_clusters_http_destroy(app->modules[GW_APP_CLUSTERS]);
    gw_events_destroy(app->modules[GW_APP_EVENTS]); /* before the team index its events read */
    gw_dispatch_destroy(app->modules[GW_APP_DISPATCH]);
    gw_reach_http_destroy(app->modules[GW_APP_REACH]);
    gw_roads_http_destroy(app->modules[GW_APP_ROADS]);
    gw_coverage_http_destroy(app->modules[GW_APP_COVERAGE]);
    free(app->routes);
    free(app);
}

gw_live *gw_req_live(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    return app ? app->live : NULL;
}
