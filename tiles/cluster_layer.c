/* cluster_layer.c — the hotspot_clusters tile layer: the server's hot spot clusters (circles
 * already projected to Web Mercator by the supplier, see gw_tile_extras) near a tile, one
 * polygon each with its rank as feature id and the figures the wall labels and colours. */
#include "layers_internal.h"

size_t tl_cluster_props(const char **names, const char **types, size_t cap)
{
    static const char *const cn[] = {"rank", "incidents", "expected", "relative_risk",
                                     "p",    "trend",     "recent"};
    size_t k = 0;
    for (size_t i = 0; i < sizeof cn / sizeof cn[0] && k < cap; i++, k++)
        names[k] = cn[i], types[k] = i == 5 ? "String" : i == 6 ? "Boolean" : "Number";
    return k;
}

gw_status tl_render_clusters(gw_ctx *ctx, gw_mvt *mvt, const char *name, const gw_tile_extras *ex,
                             gw_bbox box)
{
    if (!ex || !ex->n_clusters) return GW_OK; /* no analysis: no layer */
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_status st = gw_mvt_add_layer(mvt, name, 0);
    for (size_t i = 0; i < ex->n_clusters && !st; i++) {
        const gw_tile_cluster *c = &ex->clusters[i];
        if (c->n < 4 || c->env.minx > box.maxx || c->env.maxx < box.minx ||
            c->env.miny > box.maxy || c->env.maxy < box.miny)
            continue;
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)c->n, 2);
        for (size_t k = 0; cs && k < c->n; k++)
            if (!GEOSCoordSeq_setXY_r(h, cs, (unsigned)k, c->ring[2 * k], c->ring[2 * k + 1])) {
                GEOSCoordSeq_destroy_r(h, cs);
                cs = NULL;
            }
        GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
        GEOSGeometry *poly = ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
        if (!poly) {
            if (ring) GEOSGeom_destroy_r(h, ring);
            else if (cs) GEOSCoordSeq_destroy_r(h, cs);
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "hotspot cluster %d: no polygon", c->rank);
        }
        gw_mvt_prop p[7] = {{"rank", {.type = GW_MVT_INT, .u.i = c->rank}},
                            {"incidents", {.type = GW_MVT_DOUBLE, .u.d = c->incidents}},
                            {"expected", {.type = GW_MVT_DOUBLE, .u.d = c->expected}},
                            {"relative_risk", {.type = GW_MVT_DOUBLE, .u.d = c->relative_risk}},
                            {"p", {.type = GW_MVT_DOUBLE, .u.d = c->p}},
                            {"trend", {.type = GW_MVT_STRING, .u.s = c->trend ? c->trend : ""}},
                            {"recent", {.type = GW_MVT_BOOL, .u.b = c->recent}}};
        st = gw_mvt_add_feature(mvt, (uint64_t)c->rank, true, poly, p, 7, NULL);
        GEOSGeom_destroy_r(h, poly);
    }
    return st;
}
