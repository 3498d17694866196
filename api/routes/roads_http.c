/* roads_http.c — the server's road network (roads_http.h): one gw_road_net over the live
 * database and the listener that refreshes it when a change-log row of the road layer arrives
 * ("roads.*" ops), on the sync thread over the module's own store connection. */
#include "roads_http.h"

#include "app.h"

#include <stdlib.h>
#include <string.h>

struct gw_roads_http {
    gw_road_net *net;
    gw_store *store; /* used on the sync thread only */
};

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    (void)snap;
    gw_roads_http *r = user;
    for (size_t i = 0; i < n; i++)
        if (ch[i].op && strncmp(ch[i].op, "roads.", 6) == 0) {
            if (gw_road_net_refresh(ctx, r->net, r->store, NULL) != GW_OK)
                gw_ctx_warn(ctx, "roads: the graph was not rebuilt: %s", gw_ctx_errmsg(ctx));
            return;
        }
}

gw_status gw_roads_http_create(gw_ctx *ctx, gw_live *live, gw_roads_http **out)
{
    *out = NULL;
    gw_roads_http *r = calloc(1, sizeof *r);
    if (!r) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    gw_status st = gw_store_open(ctx, gw_live_db_path(live), 0, &r->store);
    gw_road_graph_opts o = {.metric_srid = gw_model_metric_srid(gw_live_model(live))};
    if (!st) st = gw_road_net_create(ctx, r->store, &o, &r->net);
    if (!st) st = gw_live_listen(live, on_changes, r);
    if (st) {
        gw_roads_http_destroy(r);
        return st;
    }
    *out = r;
    return GW_OK;
}

void gw_roads_http_destroy(gw_roads_http *r)
{
    if (!r) return;
    gw_road_net_destroy(r->net);
    gw_store_close(r->store);
    free(r);
}

gw_road_net *gw_roads_http_net(gw_roads_http *r) { return r ? r->net : NULL; }

gw_road_net *gw_req_roads(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    return app ? gw_roads_http_net(app->modules[GW_APP_ROADS]) : NULL;
}
