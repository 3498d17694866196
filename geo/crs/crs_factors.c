/* crs_factors.c — map-projection factors of a projected CRS at a lon/lat point (PROJ's
 * proj_factors: meridian convergence and point scale), and the geodesic azimuth between two
 * points (GeographicLib's inverse problem, as PROJ ships it in <geodesic.h>).  What turns a
 * true bearing and a ground distance into a bearing and a length in the metric CRS. */
#include "gridwatch/crs.h"

#include <geodesic.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_crs_factors {
    gw_ctx *ctx;
    PJ *pj; /* the bare projection: radians in, metres out, easting/northing */
};

/* The one step of a conversion's PROJ pipeline that projects (not an axis swap or a unit
 * conversion), copied into buf; 0 when there is not exactly one.  proj_factors needs that bare
 * step: on the pipeline it answers for the axis-swapped, degree-scaled operation (a
 * convergence of 179.95° at 121.4E in EPSG:4549), and on the CRS itself PROJ 9.1 fails
 * (errno 2050, 6 ms a call). */
static int bare_step(const char *def, char *buf, size_t cap)
{
    int found = 0;
    const char *p = def;
    if (strncmp(p, "+proj=pipeline", 14) != 0) {
        if (strlen(p) + 1 > cap) return 0;
        memcpy(buf, p, strlen(p) + 1);
        return 1;
    }
    while ((p = strstr(p, "+step ")) != NULL) {
        p += 6;
        const char *e = strstr(p, " +step ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strncmp(p, "+proj=axisswap", 14) == 0 || strncmp(p, "+proj=unitconvert", 17) == 0)
            continue;
        if (found || n + 1 > cap || memmem(p, n, "+inv", 4)) return 0;
        memcpy(buf, p, n);
        buf[n] = '\0';
        found = 1;
    }
    return found;
}

gw_status gw_crs_factors_create(gw_ctx *ctx, gw_crs crs, gw_crs_factors **out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_crs_factors_create: out is NULL");
    *out = NULL;
    if (crs.kind != GW_CRS_EPSG)
        return gw_ctx_error(ctx, GW_ERR_CRS, "projection factors need an EPSG projected CRS");
    PJ_CONTEXT *pc = gw_ctx_proj(ctx);
    char def[32], step[1024];
    snprintf(def, sizeof def, "EPSG:%d", crs.epsg);
    PJ *c = proj_create(pc, def);
    PJ *conv = c && proj_get_type(c) == PJ_TYPE_PROJECTED_CRS ? proj_crs_get_coordoperation(pc, c)
                                                              : NULL;
    const char *s = conv ? proj_as_proj_string(pc, conv, PJ_PROJ_5, NULL) : NULL;
    PJ *pj = s && bare_step(s, step, sizeof step) ? proj_create(pc, step) : NULL;
    if (conv) proj_destroy(conv);
    if (c) proj_destroy(c);
    if (!pj)
        return gw_ctx_error(ctx, GW_ERR_CRS, "EPSG:%d: no projection to take factors of", crs.epsg);
    gw_crs_factors *f = calloc(1, sizeof *f);
    if (!f) {
        proj_destroy(pj);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    f->ctx = ctx, f->pj = pj;
    *out = f;
    return GW_OK;
}

void gw_crs_factors_destroy(gw_crs_factors *f)
{
    if (!f) return;
    proj_destroy(f->pj);
    free(f);
}

gw_status gw_crs_factors_at(gw_crs_factors *f, double lon, double lat, double *convergence,
                            double *scale)
{
    *convergence = 0, *scale = 1;
    if (!isfinite(lon) || !isfinite(lat) || fabs(lat) > 90)
        return gw_ctx_error(f->ctx, GW_ERR_RANGE, "projection factors: (%g, %g) is not a lon/lat",
                            lon, lat);
    proj_errno_reset(f->pj);
    PJ_FACTORS pf = proj_factors(f->pj, proj_coord(proj_torad(lon), proj_torad(lat), 0, 0));
    if (proj_errno(f->pj) || !isfinite(pf.meridian_convergence) || !(pf.parallel_scale > 0))
        return gw_ctx_error(f->ctx, GW_ERR_CRS, "projection factors at (%g, %g): %s", lon, lat,
                            proj_context_errno_string(gw_ctx_proj(f->ctx), proj_errno(f->pj)));
    /* The metric CRSs are conformal: meridional and parallel scale agree; their mean is the
     * scale of a length in any direction to first order. */
    *convergence = proj_todeg(pf.meridian_convergence);
    *scale = (pf.meridional_scale + pf.parallel_scale) / 2;
    return GW_OK;
}

/* ---- geodesic azimuth ------------------------------------------------------------------------ */

static struct geod_geodesic wgs84; /* written once under pthread_once, then read-only */
static pthread_once_t wgs84_once = PTHREAD_ONCE_INIT;

static void wgs84_init(void) { geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563); }

double gw_geodesic_azimuth(double lon1, double lat1, double lon2, double lat2)
{
    pthread_once(&wgs84_once, wgs84_init);
    if (lon1 == lon2 && lat1 == lat2) return 0;
    double s12 = NAN, azi1 = NAN, azi2 = NAN;
    geod_inverse(&wgs84, lat1, lon1, lat2, lon2, &s12, &azi1, &azi2);
    if (!isfinite(azi1)) return NAN;
    double a = fmod(azi1 + 360.0, 360.0);
    return a >= 360.0 ? 0 : a;
}
