/* crs.c — CRS parsing, the per-dataset metric CRS, and transformations between any two CRSs.
 *
 * EPSG systems go through PROJ (axis order normalised so x = lon/easting always); GCJ-02 and
 * BD-09 have no PROJ definition, so their published formulas live here and are chained with
 * PROJ through WGS84 (a GCJ-02 -> EPSG:3857 transform is GCJ->WGS84, then PROJ 4326->3857). */
#include "gridwatch/crs.h"

#include <ctype.h>
#include <geodesic.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------------------------
 * Parsing and formatting
 * ------------------------------------------------------------------------------------------- */

/* Copy text without surrounding whitespace into buf; 0 when it does not fit. */
static int trim_copy(const char *text, char *buf, size_t cap)
{
    while (*text && isspace((unsigned char)*text)) text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1])) len--;
    if (len + 1 > cap) return 0;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return 1;
}

/* A non-empty run of at most 9 decimal digits and nothing else. */
static int parse_code(const char *s, int *code)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9) return 0;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0) return 0;
    *code = (int)v;
    return 1;
}

/* Strip a case-insensitive prefix; returns the rest or NULL. */
static const char *after_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncasecmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int is_crs84(const char *s)
{
    static const char *const forms[] = {
        "CRS84",
        "OGC:CRS84",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/OGC/0/CRS84",
        "https://www.opengis.net/def/crs/OGC/0/CRS84",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (strcasecmp(s, forms[i]) == 0) return 1;
    return 0;
}

/* The PJ_TYPE of an EPSG CRS, or PJ_TYPE_UNKNOWN when PROJ does not know the code. */
static PJ_TYPE epsg_type(PJ_CONTEXT *pc, int code)
{
    char def[32];
    snprintf(def, sizeof def, "EPSG:%d", code);
    PJ *pj = proj_create(pc, def);
    if (!pj) return PJ_TYPE_UNKNOWN;
    PJ_TYPE t = proj_is_crs(pj) ? proj_get_type(pj) : PJ_TYPE_UNKNOWN;
    proj_destroy(pj);
    return t;
}

static int is_horizontal_type(PJ_TYPE t)
{
    return t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS ||
           t == PJ_TYPE_PROJECTED_CRS;
}

gw_status gw_crs_parse(gw_ctx *ctx, const char *text, gw_crs *out)
{
    if (!text || !out)
        return gw_ctx_error(ctx, GW_ERR_ARG, "gw_crs_parse: %s is NULL", text ? "out" : "text");
    char s[128];
    if (!trim_copy(text, s, sizeof s))
        return gw_ctx_error(ctx, GW_ERR_CRS, "unknown CRS \"%.60s...\" (text too long)", text);

    if (strcasecmp(s, "gcj02") == 0 || strcasecmp(s, "gcj-02") == 0 ||
        strcasecmp(s, "gcj_02") == 0) {
        *out = (gw_crs){GW_CRS_GCJ02, 0};
        return GW_OK;
    }
    if (strcasecmp(s, "bd09") == 0 || strcasecmp(s, "bd-09") == 0 || strcasecmp(s, "bd_09") == 0 ||
        strcasecmp(s, "bd09ll") == 0) {
        *out = (gw_crs){GW_CRS_BD09, 0};
        return GW_OK;
    }
    if (is_crs84(s)) {
        *out = (gw_crs){GW_CRS_EPSG, 4326};
        return GW_OK;
    }

    static const char *const prefixes[] = {
        "EPSG:",
        "urn:ogc:def:crs:EPSG::",
        "http://www.opengis.net/def/crs/EPSG/0/",
        "https://www.opengis.net/def/crs/EPSG/0/",
        "", /* a bare code */
    };
    int code = 0;
    int matched = 0;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0] && !matched; i++) {
        const char *rest = after_prefix(s, prefixes[i]);
        if (rest && parse_code(rest, &code)) matched = 1;
    }
    if (!matched)
        return gw_ctx_error(ctx, GW_ERR_CRS,
                            "unknown CRS \"%s\" (expected EPSG:<code>, a bare EPSG code, CRS84, "
                            "an opengis.net CRS URI, GCJ-02 or BD-09)",
                            s);
    if (!ctx) return GW_ERR_ARG;
    PJ_TYPE t = epsg_type(gw_ctx_proj(ctx), code);
    if (t == PJ_TYPE_UNKNOWN)
        return gw_ctx_error(ctx, GW_ERR_CRS, "unknown CRS \"%s\": PROJ has no CRS EPSG:%d", s,
                            code);
    if (!is_horizontal_type(t))
        return gw_ctx_error(ctx, GW_ERR_CRS,
                            "CRS \"%s\" (EPSG:%d) is not a geographic or projected 2D CRS", s,
                            code);
    *out = (gw_crs){GW_CRS_EPSG, code};
    return GW_OK;
}

void gw_crs_format(gw_crs crs, char *buf, size_t cap)
{
    if (!buf || cap == 0) return;
    switch (crs.kind) {
    case GW_CRS_GCJ02: snprintf(buf, cap, "GCJ-02"); break;
    case GW_CRS_BD09: snprintf(buf, cap, "BD-09"); break;
    default: snprintf(buf, cap, "EPSG:%d", crs.epsg); break;
    }
}

int gw_crs_is_geographic(gw_ctx *ctx, gw_crs crs)
{
    if (crs.kind != GW_CRS_EPSG) return 1;
    if (crs.epsg == 4326 || crs.epsg == 4490) return 1;
    if (crs.epsg == 3857 || (crs.epsg >= 4491 && crs.epsg <= 4554) ||
        (crs.epsg > 32600 && crs.epsg <= 32660) || (crs.epsg > 32700 && crs.epsg <= 32760))
        return 0;
    if (!ctx) return 0;
    PJ_TYPE t = epsg_type(gw_ctx_proj(ctx), crs.epsg);
    return t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
}

/* ---------------------------------------------------------------------------------------------
 * The metric CRS
 * ------------------------------------------------------------------------------------------- */

/* EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E", each next code 3 degrees further east
 * up to EPSG:4554 = CM 135E (checked against PROJ's definitions in test_crs.c). */
#define GK_FIRST_CODE 4534
#define GK_FIRST_CM 75
#define GK_LAST_CM 135

int gw_crs_metric_for(double lon, double lat)
{
    if (!isfinite(lon) || !isfinite(lat)) return 0;
    if (lon >= 73.0 && lon <= 135.5 && lat >= 18.0 && lat <= 53.6) {
        int cm = (int)lround(lon / 3.0) * 3;
        if (cm < GK_FIRST_CM) cm = GK_FIRST_CM;
        if (cm > GK_LAST_CM) cm = GK_LAST_CM;
        return GK_FIRST_CODE + (cm - GK_FIRST_CM) / 3;
    }
    double l = lon; /* into [-180, 180], keeping 180 itself in zone 60 */
    if (l < -180.0 || l > 180.0) l = remainder(l, 360.0);
    int zone = (int)floor((l + 180.0) / 6.0) + 1;
    if (zone > 60) zone = 60;
    if (zone < 1) zone = 1;
    return (lat >= 0 ? 32600 : 32700) + zone;
}

/* ---------------------------------------------------------------------------------------------
 * GCJ-02 and BD-09 (the published public formulas)
 * ------------------------------------------------------------------------------------------- */

#define GCJ_A 6378245.0               /* Krasovsky 1940 semi-major axis */
#define GCJ_EE 0.00669342162296594323 /* Krasovsky 1940 first eccentricity squared */
#define BD_X_PI (M_PI * 3000.0 / 180.0)
#define INVERSE_TOL 1e-9 /* degrees, as crs.h promises; the returned point is one step better */
#define INVERSE_MAX_ITER 50

static int out_of_china(double lon, double lat)
{
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}

/* The two published offset polynomials (in metres on the Krasovsky ellipsoid, before scaling);
 * their common first harmonic term is computed once. */
static void gcj_offsets(double x, double y, double *dlon, double *dlat)
{
    double common = (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += common;
    r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
    *dlat = r;
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += common;
    r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
    *dlon = r;
}

void gw_gcj02_from_wgs84(double lon, double lat, double *olon, double *olat)
{
    if (out_of_china(lon, lat)) {
        *olon = lon;
        *olat = lat;
        return;
    }
    double dlon, dlat;
    gcj_offsets(lon - 105.0, lat - 35.0, &dlon, &dlat);
    double radlat = lat / 180.0 * M_PI;
    double magic = sin(radlat);
    magic = 1.0 - GCJ_EE * magic * magic;
    double sqrtmagic = sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtmagic) * M_PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtmagic * cos(radlat) * M_PI);
    *olon = lon + dlon;
    *olat = lat + dlat;
}

void gw_gcj02_to_wgs84(double lon, double lat, double *olon, double *olat)
{
    /* Fixed-point iteration w <- w + (target - gcj(w)): the offset changes by under 1e-2 of a
     * degree per degree, so each step gains more than two digits. */
    double wlon = lon, wlat = lat;
    for (int i = 0; i < INVERSE_MAX_ITER; i++) {
        double glon, glat;
        gw_gcj02_from_wgs84(wlon, wlat, &glon, &glat);
        double elon = lon - glon, elat = lat - glat;
        wlon += elon;
        wlat += elat;
        if (!(fabs(elon) > INVERSE_TOL || fabs(elat) > INVERSE_TOL)) break; /* also stops on NaN */
    }
    *olon = wlon;
    *olat = wlat;
}

void gw_bd09_from_gcj02(double lon, double lat, double *olon, double *olat)
{
    double z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * BD_X_PI);
    double theta = atan2(lat, lon) + 0.000003 * cos(lon * BD_X_PI);
    *olon = z * cos(theta) + 0.0065;
    *olat = z * sin(theta) + 0.006;
}

void gw_bd09_to_gcj02(double lon, double lat, double *olon, double *olat)
{
    /* Start from the published approximate inverse, then refine as for GCJ-02. */
    double x = lon - 0.0065, y = lat - 0.006;
    double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
    double theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
    double glon = z * cos(theta), glat = z * sin(theta);
    for (int i = 0; i < INVERSE_MAX_ITER; i++) {
        double blon, blat;
        gw_bd09_from_gcj02(glon, glat, &blon, &blat);
        double elon = lon - blon, elat = lat - blat;
        glon += elon;
        glat += elat;
        if (!(fabs(elon) > INVERSE_TOL || fabs(elat) > INVERSE_TOL)) break;
    }
    *olon = glon;
    *olat = glat;
}

void gw_bd09_from_wgs84(double lon, double lat, double *olon, double *olat)
{
    double glon, glat;
    gw_gcj02_from_wgs84(lon, lat, &glon, &glat);
    gw_bd09_from_gcj02(glon, glat, olon, olat);
}

void gw_bd09_to_wgs84(double lon, double lat, double *olon, double *olat)
{
    double glon, glat;
    gw_bd09_to_gcj02(lon, lat, &glon, &glat);
    gw_gcj02_to_wgs84(glon, glat, olon, olat);
}

/* ---------------------------------------------------------------------------------------------
 * Transformations
 * ------------------------------------------------------------------------------------------- */

/* A transformation is up to three steps: a hand-coded step into WGS84 (or straight between
 * GCJ-02 and BD-09), a PROJ step between EPSG systems, a hand-coded step out of WGS84. */
typedef enum step {
    STEP_NONE = 0,
    STEP_GCJ_TO_WGS,
    STEP_BD_TO_WGS,
    STEP_GCJ_TO_BD,
    STEP_BD_TO_GCJ,
    STEP_WGS_TO_GCJ,
    STEP_WGS_TO_BD,
} step;

struct gw_crs_transform {
    gw_ctx *ctx;
    step pre, post;
    PJ *pj; /* NULL when no PROJ step is needed */
    char from_name[24], to_name[24];
};

static void apply_step(step s, double *x, double *y)
{
    switch (s) {
    case STEP_NONE: break;
    case STEP_GCJ_TO_WGS: gw_gcj02_to_wgs84(*x, *y, x, y); break;
    case STEP_BD_TO_WGS: gw_bd09_to_wgs84(*x, *y, x, y); break;
    case STEP_GCJ_TO_BD: gw_bd09_from_gcj02(*x, *y, x, y); break;
    case STEP_BD_TO_GCJ: gw_bd09_to_gcj02(*x, *y, x, y); break;
    case STEP_WGS_TO_GCJ: gw_gcj02_from_wgs84(*x, *y, x, y); break;
    case STEP_WGS_TO_BD: gw_bd09_from_wgs84(*x, *y, x, y); break;
    }
}

gw_status gw_crs_transform_create(gw_ctx *ctx, gw_crs from, gw_crs to, gw_crs_transform **out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_crs_transform_create: out is NULL");
    *out = NULL;
    if (!ctx) return GW_ERR_ARG;
    gw_crs_transform *tr = calloc(1, sizeof *tr);
    if (!tr) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory creating a CRS transform");
    tr->ctx = ctx;
    gw_crs_format(from, tr->from_name, sizeof tr->from_name);
    gw_crs_format(to, tr->to_name, sizeof tr->to_name);

    /* The EPSG systems at either end of the PROJ step; GCJ-02 and BD-09 sit on WGS84. */
    int src = from.kind == GW_CRS_EPSG ? from.epsg : 4326;
    int dst = to.kind == GW_CRS_EPSG ? to.epsg : 4326;
    if (from.kind != GW_CRS_EPSG && to.kind != GW_CRS_EPSG) {
        if (from.kind == GW_CRS_GCJ02 && to.kind == GW_CRS_BD09) tr->pre = STEP_GCJ_TO_BD;
        if (from.kind == GW_CRS_BD09 && to.kind == GW_CRS_GCJ02) tr->pre = STEP_BD_TO_GCJ;
    } else {
        if (from.kind == GW_CRS_GCJ02) tr->pre = STEP_GCJ_TO_WGS;
        if (from.kind == GW_CRS_BD09) tr->pre = STEP_BD_TO_WGS;
        if (to.kind == GW_CRS_GCJ02) tr->post = STEP_WGS_TO_GCJ;
        if (to.kind == GW_CRS_BD09) tr->post = STEP_WGS_TO_BD;
    }
    if ((from.kind != GW_CRS_EPSG && from.kind != GW_CRS_GCJ02 && from.kind != GW_CRS_BD09) ||
        (to.kind != GW_CRS_EPSG && to.kind != GW_CRS_GCJ02 && to.kind != GW_CRS_BD09)) {
        free(tr);
        return gw_ctx_error(ctx, GW_ERR_ARG, "unknown CRS kind in a transform (%d -> %d)",
                            (int)from.kind, (int)to.kind);
    }

    if (src != dst) {
        PJ_CONTEXT *pc = gw_ctx_proj(ctx);
        if (!(tr->pj = gw_ctx_proj_op(ctx, src, dst))) {
            int e = proj_context_errno(pc);
            gw_ctx_error(ctx, GW_ERR_CRS, "no transformation from %s to %s: %s", tr->from_name,
                         tr->to_name, e ? proj_context_errno_string(pc, e) : "unknown CRS");
            free(tr);
            return GW_ERR_CRS;
        }
    }
    *out = tr;
    return GW_OK;
}

void gw_crs_transform_destroy(gw_crs_transform *tr)
{
    if (!tr) return;
    if (tr->pj) proj_destroy(tr->pj);
    free(tr);
}

/* The PROJ error of the last call on tr->pj, or a generic reason. */
static const char *pj_reason(gw_crs_transform *tr)
{
    if (!tr->pj) return "the coordinate is not a finite number";
    int e = proj_errno(tr->pj);
    if (!e) e = proj_context_errno(gw_ctx_proj(tr->ctx));
    return e ? proj_context_errno_string(gw_ctx_proj(tr->ctx), e)
             : "the coordinate is outside the domain of the projection";
}

#define CHUNK 256

gw_status gw_crs_transform_points(gw_crs_transform *tr, double *x, double *y, size_t n)
{
    if (!tr) return GW_ERR_ARG;
    if (n == 0) return GW_OK;
    if (!x || !y) return gw_ctx_error(tr->ctx, GW_ERR_ARG, "gw_crs_transform_points: NULL array");
    /* Work in chunks so the original coordinates of a failed point can be named cheaply. */
    double ox[CHUNK], oy[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        size_t m = n - base < CHUNK ? n - base : CHUNK;
        double *cx = x + base, *cy = y + base;
        memcpy(ox, cx, m * sizeof *cx);
        memcpy(oy, cy, m * sizeof *cy);
        if (tr->pre != STEP_NONE)
            for (size_t i = 0; i < m; i++) apply_step(tr->pre, &cx[i], &cy[i]);
        if (tr->pj) {
            proj_errno_reset(tr->pj);
            proj_trans_generic(tr->pj, PJ_FWD, cx, sizeof *cx, m, cy, sizeof *cy, m, NULL, 0, 0,
                               NULL, 0, 0);
        }
        if (tr->post != STEP_NONE)
            for (size_t i = 0; i < m; i++) apply_step(tr->post, &cx[i], &cy[i]);
        for (size_t i = 0; i < m; i++) {
            if (isfinite(cx[i]) && isfinite(cy[i])) continue; /* PROJ marks failures HUGE_VAL */
            return gw_ctx_error(tr->ctx, GW_ERR_CRS,
                                "point %zu (%.9g, %.9g) could not be transformed from %s to %s: %s",
                                base + i, ox[i], oy[i], tr->from_name, tr->to_name, pj_reason(tr));
        }
    }
    return GW_OK;
}

int gw_crs_area_of_use(gw_ctx *ctx, gw_crs crs, gw_bbox *out)
{
    if (crs.kind != GW_CRS_EPSG || crs.epsg <= 0) return 0;
    char code[16];
    snprintf(code, sizeof code, "%d", crs.epsg);
    PJ_CONTEXT *pc = gw_ctx_proj(ctx);
    PJ *pj = proj_create_from_database(pc, "EPSG", code, PJ_CATEGORY_CRS, 0, NULL);
    double w, s, e, n;
    int ok = pj && proj_get_area_of_use(pc, pj, &w, &s, &e, &n, NULL) && w > -1000 && s > -1000;
    if (pj) proj_destroy(pj);
    if (ok) *out = (gw_bbox){w, s, e, n};
    return ok;
}

gw_status gw_crs_transform_points_checked(gw_crs_transform *tr, double *x, double *y, size_t n)
{
    if (!tr) return GW_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        double ox = x[i], oy = y[i], sx = ox, sy = oy;
        apply_step(tr->pre, &sx, &sy);
        gw_status st = gw_crs_transform_points(tr, &x[i], &y[i], 1);
        if (st || !tr->pj) {
            if (st) return st;
            continue;
        }
        PJ_COORD c = proj_coord(sx, sy, 0, 0);
        c = proj_trans(tr->pj, PJ_FWD, c);
        c = proj_trans(tr->pj, PJ_INV, c);
        double bx = c.xy.x, by = c.xy.y;
        if (!(fabs(bx - sx) <= 1e-7 * fmax(1, fabs(sx))) ||
            !(fabs(by - sy) <= 1e-7 * fmax(1, fabs(sy))))
            return gw_ctx_error(tr->ctx, GW_ERR_RANGE,
                                "point (%.9g, %.9g) lies outside the area where %s is defined: "
                                "it lands at (%.9g, %.9g) in %s, which is (%.9g, %.9g) in %s",
                                ox, oy, tr->from_name, x[i], y[i], tr->to_name, bx, by,
                                tr->from_name);
    }
    return GW_OK;
}

typedef struct geom_job {
    gw_crs_transform *tr;
    int failed;
    double fx, fy;
} geom_job;

static int transform_xy(double *x, double *y, void *user)
{
    geom_job *job = user;
    gw_crs_transform *tr = job->tr;
    double ix = *x, iy = *y;
    apply_step(tr->pre, x, y);
    if (tr->pj) {
        proj_errno_reset(tr->pj);
        PJ_COORD c = proj_trans(tr->pj, PJ_FWD, proj_coord(*x, *y, 0, 0));
        *x = c.xy.x;
        *y = c.xy.y;
    }
    apply_step(tr->post, x, y);
    if (isfinite(*x) && isfinite(*y)) return 1;
    job->failed = 1;
    job->fx = ix;
    job->fy = iy;
    return 0;
}

GEOSGeometry *gw_crs_transform_geom(gw_crs_transform *tr, const GEOSGeometry *g)
{
    if (!tr) return NULL;
    if (!g) {
        gw_ctx_error(tr->ctx, GW_ERR_ARG, "gw_crs_transform_geom: geometry is NULL");
        return NULL;
    }
    geom_job job = {tr, 0, 0, 0};
    GEOSGeometry *res = GEOSGeom_transformXY_r(gw_ctx_geos(tr->ctx), g, transform_xy, &job);
    if (res) return res;
    if (job.failed)
        gw_ctx_error(tr->ctx, GW_ERR_CRS,
                     "vertex (%.9g, %.9g) could not be transformed from %s "
                     "to %s: %s",
                     job.fx, job.fy, tr->from_name, tr->to_name, pj_reason(tr));
    else
        gw_ctx_error(tr->ctx, GW_ERR_GEOMETRY,
                     "GEOS could not transform a geometry from %s to "
                     "%s: %s",
                     tr->from_name, tr->to_name, gw_ctx_geos_errmsg(tr->ctx));
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Geodesic distance
 * ------------------------------------------------------------------------------------------- */

static struct geod_geodesic wgs84_geod; /* written once under pthread_once, then read-only */
static pthread_once_t wgs84_once = PTHREAD_ONCE_INIT;

static void wgs84_init(void) { geod_init(&wgs84_geod, 6378137.0, 1.0 / 298.257223563); }

double gw_geodesic_distance(double lon1, double lat1, double lon2, double lat2)
{
    pthread_once(&wgs84_once, wgs84_init);
    double s12 = NAN;
    geod_inverse(&wgs84_geod, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
    return s12;
}
