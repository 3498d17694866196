/* blind_layer.c — the blind_spots tile layer: the coverage module's blind-spot polygons of the
 * grids near a tile (supplied through gw_tile_extras, so tiles/ does not depend on the server),
 * one feature per grid with its id and blind area, filtered like the grids. */
#include "layers_internal.h"

typedef struct blind_visit {
    gw_mvt *mvt;
    const tl_cfilt *cf;
    gw_status st;
} blind_visit;

static int blind_one(void *user, int64_t fid, const char *grid_id, double blind_m2,
                     const GEOSGeometry *g)
{
    blind_visit *v = user;
    if (v->cf->n || v->cf->keep) { /* conditions on grids: through the snapshot's row */
        ptrdiff_t r = grid_id ? gw_layer_data_find(v->cf->d, grid_id) : -1;
        if (r < 0 || !tl_cfilt_pass(v->cf, (size_t)r)) return 0;
    }
    gw_mvt_prop p[2] = {{"grid", {.type = GW_MVT_STRING, .u.s = grid_id}},
                        {"blind_m2", {.type = GW_MVT_DOUBLE, .u.d = blind_m2}}};
    v->st = gw_mvt_add_feature(v->mvt, (uint64_t)fid, fid > 0, g, p, 2, NULL);
    return v->st != GW_OK;
}

gw_status tl_render_blind(gw_ctx *ctx, gw_mvt *mvt, const gw_tile_extras *ex, const tl_cfilt *cf,
                          gw_bbox box)
{
    blind_visit v = {mvt, cf, GW_OK};
    gw_status st = ex->blind(ex->blind_state, ctx, &box, blind_one, &v);
    if (st == GW_ERR_NOT_FOUND) { /* no result yet (first computation): an empty layer */
        gw_ctx_clear_error(ctx);
        st = GW_OK;
    }
    return st ? st : v.st;
}
