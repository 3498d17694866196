/* roads_tile.c — GET /tiles/roads/{z}/{x}/{y}.mvt: the road layer as a vector tile layer
 * "roads" (name, class, oneway, road) drawn from the live routing graph, so the wall can draw and
 * label the streets its ETAs run on without a base map from the Internet.  Major classes from
 * z8, the rest from z12 (ROAD_MINZOOM); roads are public infrastructure, not features of a
 * jurisdiction, so every token sees the same tile (docs/scoping.md). */
#include "roads_http.h"
#include "tiles_http.h"

#include "app.h"
#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"
#include "problem.h"

#include <stdlib.h>
#include <string.h>

#define ROAD_MINZOOM 12 /* every class; the major ones earlier (min_zoom) */

/* The lowest zoom a road of class cls is drawn at (OpenStreetMap's classes and the generator's
 * county and township roads; a bridge is drawn with the township roads it joins). */
static unsigned min_zoom(const char *cls)
{
    static const struct {
        const char *cls;
        unsigned z;
    } t[] = {{"motorway", 8},   {"trunk", 8},     {"primary", 8},   {"county", 9},
             {"secondary", 10}, {"tertiary", 11}, {"township", 11}, {"bridge", 11}};
    for (size_t i = 0; cls && i < sizeof t / sizeof t[0]; i++)
        if (strncmp(cls, t[i].cls, strlen(t[i].cls)) == 0) return t[i].z; /* and its _link */
    return ROAD_MINZOOM;
}

/* The arc as a 3857 line string, or NULL (out of memory). */
static GEOSGeometry *arc_line(GEOSContextHandle_t h, const gw_road_arc *a, double *buf)
{
    for (size_t k = 0; k < a->npts; k++)
        gw_tile_lonlat_to_merc(a->lonlat[2 * k], a->lonlat[2 * k + 1], &buf[2 * k],
                               &buf[2 * k + 1]);
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, buf, (unsigned)a->npts, 0, 0);
    return cs ? GEOSGeom_createLineString_r(h, cs) : NULL;
}

static gw_status add_roads(gw_ctx *ctx, const gw_road_graph *g, gw_tile_id t, gw_mvt *mvt)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_bbox m = gw_tile_bounds(t); /* in 3857; a 1/16 buffer so lines cross the edge cleanly */
    double pad = (m.maxx - m.minx) / 16, w, s, e, n;
    gw_tile_merc_to_lonlat(m.minx - pad, m.miny - pad, &w, &s);
    gw_tile_merc_to_lonlat(m.maxx + pad, m.maxy + pad, &e, &n);
    gw_status st = gw_mvt_add_layer(mvt, "roads", 4096);
    double *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; !st && i < gw_road_graph_arcs(g); i++) {
        gw_road_arc a;
        if (gw_road_graph_arc(g, i, &a) || t.z < min_zoom(a.cls)) continue;
        double x0 = 180, x1 = -180, y0 = 90, y1 = -90;
        for (size_t k = 0; k < a.npts; k++) {
            double x = a.lonlat[2 * k], y = a.lonlat[2 * k + 1];
            x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
        }
        if (x1 < w || x0 > e || y1 < s || y0 > n) continue;
        if (a.npts * 2 > cap) {
            double *nb = realloc(buf, a.npts * 2 * sizeof *nb);
            if (!nb) {
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            buf = nb, cap = a.npts * 2;
        }
        GEOSGeometry *line = arc_line(h, &a, buf);
        if (!line) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            break;
        }
        /* the feature id is the arc's (unique in the layer, as MVT asks); "road" is the road
         * row the arc was cut from, shared by its arcs */
        gw_mvt_prop p[4] = {{"class", {.type = GW_MVT_STRING, .u.s = a.cls ? a.cls : ""}},
                            {"oneway", {.type = GW_MVT_INT, .u.i = a.fwd && a.bwd ? 0 : 1}},
                            {"road", {.type = GW_MVT_INT, .u.i = a.road_fid}},
                            {"name", {.type = GW_MVT_STRING, .u.s = a.name}}};
        st = gw_mvt_add_feature(mvt, (uint64_t)i + 1, true, line, p, a.name ? 4 : 3, NULL);
        GEOSGeom_destroy_r(h, line);
    }
    free(buf);
    return st;
}

static int h_roads_tile(gw_req *req)
{
    gw_ctx *ctx = gw_req_ctx(req);
    gw_road_net *net = gw_req_roads(req);
    if (!ctx || !net) {
        gw_req_problem(req, 503, NULL, "the road network is not running");
        return 0;
    }
    gw_tile_id t;
    if (gw_tiles_req_tile(req, ctx, &t)) return 0;
    const gw_road_graph *g = gw_road_net_acquire(net);
    gw_mvt *mvt = NULL;
    gw_status st = gw_mvt_create(ctx, t, NULL, &mvt);
    if (!st) st = add_roads(ctx, g, t, mvt);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (!st) st = gw_mvt_finish(mvt, &bytes, &len);
    gw_road_net_release(net, g);
    if (!st) {
        gw_req_add_header(req, "Cache-Control", "public, max-age=300");
        gw_req_respond(req, 200, "application/vnd.mapbox-vector-tile", (const char *)bytes, len);
    } else gw_req_fail(req, ctx, st, "roads tile");
    gw_mvt_destroy(mvt);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/tiles/roads/{z}/{x}/{y}", h_roads_tile, GW_ROLE_VIEWER, "roads_tile"},
};

const gw_route *gw_roads_tile_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
