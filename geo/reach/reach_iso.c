/* reach_iso.c — the isochrones of one point (a police room, a team, a clicked place): one
 * search up to the longest band, then each band's pieces and their buffer (reach.h). */
#include "reach_internal.h"

#include "gridwatch/crs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct gw_reach_iso {
    size_t n;
    double minutes[GW_REACH_MAX_BANDS], area[GW_REACH_MAX_BANDS], road_m[GW_REACH_MAX_BANDS];
    GEOSGeometry *metric[GW_REACH_MAX_BANDS], *lonlat[GW_REACH_MAX_BANDS];
    double snap_m;
};

void gw_reach_iso_destroy(gw_ctx *ctx, gw_reach_iso *iso)
{
    if (!iso) return;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < iso->n; i++) {
        if (iso->metric[i]) GEOSGeom_destroy_r(h, iso->metric[i]);
        if (iso->lonlat[i]) GEOSGeom_destroy_r(h, iso->lonlat[i]);
    }
    free(iso);
}

size_t gw_reach_iso_bands(const gw_reach_iso *iso) { return iso ? iso->n : 0; }
double gw_reach_iso_minutes(const gw_reach_iso *iso, size_t b)
{
    return iso && b < iso->n ? iso->minutes[b] : NAN;
}
double gw_reach_iso_area(const gw_reach_iso *iso, size_t b)
{
    return iso && b < iso->n ? iso->area[b] : NAN;
}
double gw_reach_iso_road_m(const gw_reach_iso *iso, size_t b)
{
    return iso && b < iso->n ? iso->road_m[b] : NAN;
}
const GEOSGeometry *gw_reach_iso_geom(const gw_reach_iso *iso, size_t b, int lonlat)
{
    if (!iso || b >= iso->n) return NULL;
    return lonlat ? iso->lonlat[b] : iso->metric[b];
}
double gw_reach_iso_snap_m(const gw_reach_iso *iso) { return iso ? iso->snap_m : -1; }

static gw_status check_bands(gw_ctx *ctx, const double *minutes, size_t n, double *tmax)
{
    if (!minutes || n == 0 || n > GW_REACH_MAX_BANDS)
        return gw_ctx_error(ctx, GW_ERR_ARG, "isochrones take 1 to %d bands", GW_REACH_MAX_BANDS);
    *tmax = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(minutes[i] > 0 && minutes[i] <= GW_REACH_MAX_MINUTES))
            return gw_ctx_error(ctx, GW_ERR_ARG, "a band of %g minutes: bands are in (0, %g]",
                                minutes[i], GW_REACH_MAX_MINUTES);
        if (minutes[i] * 60 > *tmax) *tmax = minutes[i] * 60;
    }
    return GW_OK;
}

gw_status gw_reach_isochrone_snapped(gw_ctx *ctx, const gw_road_graph *g, gw_road_search *s,
                                     const gw_road_snap *snap, const double *minutes, size_t n,
                                     const gw_reach_opts *opts, gw_reach_iso **out)
{
    *out = NULL;
    double tmax = 0;
    gw_status st = check_bands(ctx, minutes, n, &tmax);
    if (st) return st;
    if (!g || !s) return gw_ctx_error(ctx, GW_ERR_ARG, "no graph or no search");
    gw_reach_opts o = rc_opts(opts);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_reach_iso *iso = calloc(1, sizeof *iso);
    if (!iso) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    iso->n = n, iso->snap_m = snap ? snap->dist_m : -1;
    memcpy(iso->minutes, minutes, n * sizeof *minutes);
    size_t nn = gw_road_graph_nodes(g);
    double *t = NULL;
    gw_crs_transform *tr = NULL;
    if (snap) {
        if ((st = gw_road_times(s, snap, 0, tmax))) goto fail;
        if (!(t = malloc((nn + 1) * sizeof *t))) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t v = 0; v < nn; v++) t[v] = gw_road_search_node_time(s, (uint32_t)v);
    }
    if ((st = gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, gw_road_graph_srid(g)},
                                      (gw_crs){GW_CRS_EPSG, 4326}, &tr)))
        goto fail;
    for (size_t b = 0; b < n && !st; b++) {
        rc_pieces p = {0};
        if (snap && rc_pieces_build(g, t, snap, 1, minutes[b] * 60, &p)) {
            rc_pieces_free(&p);
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building an isochrone");
            break;
        }
        iso->road_m[b] = p.len_m;
        iso->metric[b] = rc_buffer(h, &p, NULL, p.n, NULL, o.width_m, o.quad_segs);
        rc_pieces_free(&p);
        if (!iso->metric[b] || !GEOSArea_r(h, iso->metric[b], &iso->area[b])) {
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "buffering an isochrone: %s",
                              gw_ctx_geos_errmsg(ctx));
            break;
        }
        /* the lon/lat form is for drawing: simplified to 1 m first */
        GEOSGeometry *sm = GEOSTopologyPreserveSimplify_r(h, iso->metric[b], 1.0);
        if (sm) iso->lonlat[b] = gw_crs_transform_geom(tr, sm), GEOSGeom_destroy_r(h, sm);
        if (!iso->lonlat[b]) st = gw_ctx_errcode(ctx) ? gw_ctx_errcode(ctx) : GW_ERR_GEOMETRY;
    }
fail:
    gw_crs_transform_destroy(tr);
    free(t);
    if (st) {
        gw_reach_iso_destroy(ctx, iso);
        return st;
    }
    *out = iso;
    return GW_OK;
}

gw_status gw_reach_isochrone(gw_ctx *ctx, const gw_road_graph *g, gw_road_search *s, double lon,
                             double lat, const double *minutes, size_t n, const gw_reach_opts *opts,
                             gw_reach_iso **out)
{
    *out = NULL;
    double tmax;
    gw_status st = check_bands(ctx, minutes, n, &tmax);
    if (st) return st;
    if (!g || !s) return gw_ctx_error(ctx, GW_ERR_ARG, "no graph or no search");
    gw_reach_opts o = rc_opts(opts);
    gw_road_snap snap;
    int snapped = 0;
    if (gw_road_graph_nodes(g)) {
        double x, y;
        if ((st = gw_road_graph_to_metric(ctx, g, lon, lat, &x, &y))) return st;
        snapped = gw_road_snap_point(g, x, y, o.max_snap_m, &snap) == GW_OK;
    }
    return gw_reach_isochrone_snapped(ctx, g, s, snapped ? &snap : NULL, minutes, n, opts, out);
}
