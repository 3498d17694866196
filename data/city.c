/* city.c — the synthetic city: a deterministic Heze-like prefecture (grids, police rooms, teams,
 * cameras and a year of incidents) so that the demo, the tests and the benchmarks share one
 * realistic, reproducible dataset.  Built in the metric CRS of the region's centre, stored in
 * EPSG:4326 in one transaction.  Counts are round(N * scale), at least 1 (grids: one per county).
 * A province (opts->prefectures > 1) is that many such prefectures generated one after another
 * into the same transaction, each on a lattice cell in the metric CRS of its own centre. */
#include "city_internal.h"

#include <errno.h>
#include <jansson.h>
#include <unistd.h>

const char *const city_county_names[9] = {"牡丹区", "巨野县", "郓城县", "鄄城县", "东明县",
                                          "定陶区", "曹县",   "单县",   "成武县"};
const char *const city_county_codes[9] = {"371702", "371724", "371725", "371726", "371728",
                                          "371703", "371721", "371722", "371723"};

#include <cpl_error.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

gw_status city_geos_fail(city *c, const char *what)
{
    return gw_ctx_error(c->ctx, GW_ERR_GEOMETRY, "city: %s failed: %s", what,
                        gw_ctx_geos_errmsg(c->ctx));
}
int city_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 256;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* ---- shapes: rings of a polygonal geometry copied out for fast point-in-polygon ---- */
static gw_status ring_add(city *c, const GEOSGeometry *ring, shape *s)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(c->h, ring);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(c->h, seq, &n)) return city_geos_fail(c, "reading a ring");
    ringset *rs = &c->rs;
    size_t capp = rs->capp, capr = rs->capr;
    if (city_grow((void **)&rs->x, &capp, rs->np + n, sizeof(double)) ||
        city_grow((void **)&rs->y, &rs->capp, rs->np + n, sizeof(double)) ||
        city_grow((void **)&rs->r0, &capr, rs->nr + 1, sizeof(uint32_t)) ||
        city_grow((void **)&rs->rn, &rs->capr, rs->nr + 1, sizeof(uint32_t)))
        return city_nomem(c);
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(c->h, seq, i, &x, &y);
        rs->x[rs->np + i] = x;
        rs->y[rs->np + i] = y;
        if (x < s->bb.minx) s->bb.minx = x;
        if (x > s->bb.maxx) s->bb.maxx = x;
        if (y < s->bb.miny) s->bb.miny = y;
        if (y > s->bb.maxy) s->bb.maxy = y;
    }
    rs->r0[rs->nr] = (uint32_t)rs->np;
    rs->rn[rs->nr++] = n;
    rs->np += n;
    s->nring++;
    return GW_OK;
}

gw_status city_shape_from(city *c, const GEOSGeometry *g, shape *s)
{
    s->ring = (uint32_t)c->rs.nr;
    s->nring = 0;
    s->bb = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    int np = GEOSGeomTypeId_r(c->h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(c->h, g);
    for (int p = 0; p < np; p++) {
        const GEOSGeometry *poly = GEOSGeomTypeId_r(c->h, g) == GEOS_POLYGON
                                       ? g
                                       : GEOSGetGeometryN_r(c->h, g, p);
        gw_status st = ring_add(c, GEOSGetExteriorRing_r(c->h, poly), s);
        int nh = GEOSGetNumInteriorRings_r(c->h, poly);
        for (int k = 0; st == GW_OK && k < nh; k++)
            st = ring_add(c, GEOSGetInteriorRingN_r(c->h, poly, k), s);
        if (st) return st;
    }
    return GW_OK;
}

/* Even-odd rule over all rings: right for polygons with holes and for multipolygons. */
int city_shape_contains(const ringset *rs, const shape *s, double px, double py)
{
    if (px < s->bb.minx || px > s->bb.maxx || py < s->bb.miny || py > s->bb.maxy) return 0;
    int in = 0;
    for (uint32_t r = s->ring; r < s->ring + s->nring; r++) {
        const double *x = rs->x + rs->r0[r], *y = rs->y + rs->r0[r];
        uint32_t n = rs->rn[r];
        for (uint32_t i = 0, j = n - 1; i < n; j = i++)
            if (((y[i] > py) != (y[j] > py)) &&
                px < (x[j] - x[i]) * (py - y[i]) / (y[j] - y[i]) + x[i])
                in = !in;
    }
    return in;
}

/* The polygonal parts of g (consumed) as a Polygon or MultiPolygon, or NULL when there are none. */
GEOSGeometry *city_polygonal(GEOSContextHandle_t h, GEOSGeometry *g)
{
    if (!g) return NULL;
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON) {
        if (!GEOSisEmpty_r(h, g)) return g;
        GEOSGeom_destroy_r(h, g);
        return NULL;
    }
    GEOSGeometry *parts[256], *out = NULL;
    unsigned int n = 0;
    int ng = t == GEOS_GEOMETRYCOLLECTION ? GEOSGetNumGeometries_r(h, g) : 0;
    for (int i = 0; i < ng; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        int pt = GEOSGeomTypeId_r(h, p);
        int k = pt == GEOS_POLYGON ? 1 : pt == GEOS_MULTIPOLYGON ? GEOSGetNumGeometries_r(h, p) : 0;
        for (int j = 0; j < k && n < N(parts); j++) {
            const GEOSGeometry *q = pt == GEOS_POLYGON ? p : GEOSGetGeometryN_r(h, p, j);
            if (!GEOSisEmpty_r(h, q)) parts[n++] = GEOSGeom_clone_r(h, q);
        }
    }
    GEOSGeom_destroy_r(h, g);
    if (n == 1) out = parts[0];
    else if (n > 1) out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, n);
    return out;
}

void city_inner_point(city *c, const GEOSGeometry *g, const shape *s, double *x, double *y)
{
    GEOSGeometry *p = GEOSGetCentroid_r(c->h, g);
    if (p && GEOSGeomGetX_r(c->h, p, x) && GEOSGeomGetY_r(c->h, p, y) &&
        city_shape_contains(&c->rs, s, *x, *y)) {
        GEOSGeom_destroy_r(c->h, p);
        return;
    }
    if (p) GEOSGeom_destroy_r(c->h, p);
    p = GEOSPointOnSurface_r(c->h, g);
    if (!p || !GEOSGeomGetX_r(c->h, p, x) || !GEOSGeomGetY_r(c->h, p, y)) {
        *x = (s->bb.minx + s->bb.maxx) / 2;
        *y = (s->bb.miny + s->bb.maxy) / 2;
    }
    if (p) GEOSGeom_destroy_r(c->h, p);
}

/* Uniform point inside a shape by rejection in its bbox; falls back to (fx, fy). */
void city_sample_in(const city *c, const shape *s, rng *r, double fx, double fy, double *x,
                    double *y)
{
    for (int k = 0; k < 1000; k++) {
        *x = rng_uni(r, s->bb.minx, s->bb.maxx);
        *y = rng_uni(r, s->bb.miny, s->bb.maxy);
        if (city_shape_contains(&c->rs, s, *x, *y)) return;
    }
    *x = fx;
    *y = fy;
}

/* The grid containing (x, y), or -1 outside the region. */
int city_locate(const city *c, double x, double y)
{
    int ix = (int)floor((x - c->mbb.minx) / c->cell), iy = (int)floor((y - c->mbb.miny) / c->cell);
    if (ix < 0 || iy < 0 || ix >= c->bx || iy >= c->by) return -1;
    size_t b = (size_t)iy * c->bx + ix;
    for (uint32_t k = c->bstart[b]; k < c->bstart[b + 1]; k++)
        if (city_shape_contains(&c->rs, &c->grids[c->bitems[k]].sh, x, y)) return (int)c->bitems[k];
    return -1;
}

/* ---- region: counties in the metric CRS ---- */
static gw_status make_transforms(city *c, double lon, double lat)
{
    c->srid = gw_crs_metric_for(lon, lat);
    gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, c->srid};
    gw_status st = gw_crs_transform_create(c->ctx, ll, m, &c->to_m);
    if (st == GW_OK) st = gw_crs_transform_create(c->ctx, m, ll, &c->to_ll);
    return st;
}

static gw_status region_builtin(city *c)
{
    double cx = c->placed ? c->clon : CITY_LON, cy = c->placed ? c->clat : CITY_LAT;
    gw_status st = make_transforms(c, cx, cy);
    if (st == GW_OK) st = gw_crs_transform_points(c->to_m, &cx, &cy, 1);
    if (st) return st;
    rng r;
    rng_init(&r, c->o->seed, 1);
    enum { M = 120 };
    double amp[7] = {0}, ph[7] = {0}, px[M + 1], py[M + 1], area = 0;
    for (int j = 2; j < 7; j++)
        amp[j] = rng_uni(&r, 0.03, 0.10) / sqrt(j), ph[j] = rng_uni(&r, 0, 2 * M_PI);
#define RAD(th)                                                                                    \
    (1 + amp[2] * cos(2 * (th) + ph[2]) + amp[3] * cos(3 * (th) + ph[3]) +                         \
     amp[4] * cos(4 * (th) + ph[4]) + amp[5] * cos(5 * (th) + ph[5]) +                             \
     amp[6] * cos(6 * (th) + ph[6]))
    for (int k = 0; k < M; k++) {
        double th = 2 * M_PI * k / M, rr = RAD(th) + rng_uni(&r, -0.015, 0.015);
        px[k] = 60000 * rr * cos(th);
        py[k] = 50000 * rr * sin(th);
    }
    for (int k = 0; k < M; k++) area += px[k] * py[(k + 1) % M] - px[(k + 1) % M] * py[k];
    double f = sqrt(CITY_M2 / (area / 2));
    for (int k = 0; k < M; k++) px[k] = cx + f * px[k], py[k] = cy + f * py[k];
    px[M] = px[0], py[M] = py[0];
    GEOSGeometry *region = NULL, *pts[9], *mp = NULL, *vor = NULL;
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromArrays_r(c->h, px, py, NULL, NULL, M + 1);
    GEOSGeometry *ring = seq ? GEOSGeom_createLinearRing_r(c->h, seq) : NULL;
    region = ring ? GEOSGeom_createPolygon_r(c->h, ring, NULL, 0) : NULL;
    for (int i = 0; i < 9; i++) {
        double a = 2 * M_PI * (i - 1) / 8 + rng_uni(&r, -0.25, 0.25), k = i ? 0.58 * f * RAD(a) : 0;
        pts[i] = GEOSGeom_createPointFromXY_r(c->h, cx + k * 60000 * cos(a),
                                              cy + k * 50000 * sin(a));
    }
#undef RAD
    mp = GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOINT, pts, 9);
    vor = region && mp ? GEOSVoronoiDiagram_r(c->h, mp, region, 0.0, 0) : NULL;
    if (!vor) st = city_geos_fail(c, "building the built-in region");
    c->cty = calloc(9, sizeof *c->cty);
    if (!st && !c->cty) st = city_nomem(c);
    if (c->cty) c->ncty = 9;
    for (int j = 0; !st && j < GEOSGetNumGeometries_r(c->h, vor); j++) {
        const GEOSGeometry *cell = GEOSGetGeometryN_r(c->h, vor, j);
        for (int i = 0; i < 9; i++) {
            if (GEOSIntersects_r(c->h, cell, GEOSGetGeometryN_r(c->h, mp, i)) != 1 || c->cty[i].g)
                continue;
            c->cty[i].g = city_polygonal(c->h, GEOSIntersection_r(c->h, cell, region));
            snprintf(c->cty[i].name, sizeof c->cty[i].name, "%s", city_county_names[i]);
            snprintf(c->cty[i].code, sizeof c->cty[i].code, "%s", city_county_codes[i]);
            break;
        }
    }
    for (int i = 0; !st && i < 9; i++)
        if (!c->cty[i].g) st = city_geos_fail(c, "clipping a built-in county");
    if (region) GEOSGeom_destroy_r(c->h, region);
    if (mp) GEOSGeom_destroy_r(c->h, mp);
    if (vor) GEOSGeom_destroy_r(c->h, vor);
    return st;
}

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_register(void) { GDALAllRegister(); }

/* Read the counties (one per polygon feature) in lon/lat; sets c->cty/ncty. */
static gw_status region_read(city *c, const char *path)
{
    pthread_once(&gdal_once, gdal_register);
    CPLErrorReset();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return gw_ctx_error(c->ctx, GW_ERR_IO, "city: cannot open region file %s: %s", path,
                            CPLGetLastErrorMsg());
    gw_status st = GW_OK;
    OGRLayerH lyr = GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    OGRSpatialReferenceH src = NULL, wgs = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    GEOSWKBReader *rd = GEOSWKBReader_create_r(c->h);
    unsigned char *buf = NULL;
    size_t cap = 0, ccap = 0;
    if (!lyr)
        st = gw_ctx_error(c->ctx, GW_ERR_NOT_FOUND, "city: region file %s has no layer", path);
    if (!st && OGR_L_GetSpatialRef(lyr)) {
        src = OSRClone(OGR_L_GetSpatialRef(lyr));
        OSRImportFromEPSG(wgs, 4326);
        OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(src, wgs) && !(ct = OCTNewCoordinateTransformation(src, wgs)))
            st = gw_ctx_error(c->ctx, GW_ERR_CRS,
                              "city: region file %s: no transformation to EPSG:4326", path);
    }
    OGRFeatureH f;
    if (!st) OGR_L_ResetReading(lyr);
    while (!st && (f = OGR_L_GetNextFeature(lyr))) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGRwkbGeometryType t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (t != wkbPolygon && t != wkbMultiPolygon) {
            gw_ctx_warn(c->ctx, "city: region file %s: feature %lld is not a polygon; skipped",
                        path, (long long)OGR_F_GetFID(f));
            OGR_F_Destroy(f);
            continue;
        }
        if (ct && OGR_G_Transform(g, ct) != OGRERR_NONE)
            st = gw_ctx_error(c->ctx, GW_ERR_CRS,
                              "city: region file %s: feature %lld does not "
                              "transform to EPSG:4326",
                              path, (long long)OGR_F_GetFID(f));
        size_t n = st ? 0 : (size_t)OGR_G_WkbSize(g);
        if (!st && (city_grow((void **)&buf, &cap, n, 1) ||
                    city_grow((void **)&c->cty, &ccap, (size_t)c->ncty + 1, sizeof *c->cty)))
            st = city_nomem(c);
        if (!st) {
            county *k = &c->cty[c->ncty];
            memset(k, 0, sizeof *k);
            OGR_G_ExportToIsoWkb(g, wkbNDR, buf);
            if (!(k->g = GEOSWKBReader_read_r(c->h, rd, buf, n)))
                st = city_geos_fail(c, "reading a region polygon");
            int fi = OGR_F_GetFieldIndex(f, "name"), ci = OGR_F_GetFieldIndex(f, "adcode");
            const char *nm = fi >= 0 && OGR_F_IsFieldSetAndNotNull(f, fi)
                                 ? OGR_F_GetFieldAsString(f, fi)
                                 : "";
            const char *cd = ci >= 0 && OGR_F_IsFieldSetAndNotNull(f, ci)
                                 ? OGR_F_GetFieldAsString(f, ci)
                                 : "";
            if (*nm) snprintf(k->name, sizeof k->name, "%s", nm);
            else snprintf(k->name, sizeof k->name, "县%02d", c->ncty + 1);
            if (*cd) snprintf(k->code, sizeof k->code, "%s", cd);
            else snprintf(k->code, sizeof k->code, "3717%02d", c->ncty + 1);
            for (int i = 0; i < c->ncty; i++) /* ids must stay unique */
                if (!strcmp(c->cty[i].code, k->code))
                    snprintf(k->code, sizeof k->code, "3717%02d", c->ncty + 1);
            c->ncty++;
        }
        OGR_F_Destroy(f);
    }
    if (!st && c->ncty == 0)
        st = gw_ctx_error(c->ctx, GW_ERR_GEOMETRY, "city: region file %s has no polygon features",
                          path);
    free(buf);
    GEOSWKBReader_destroy_r(c->h, rd);
    if (ct) OCTDestroyCoordinateTransformation(ct);
    if (src) OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(wgs);
    GDALClose(ds);
    return st;
}

typedef struct shift {
    double dx, dy;
} shift;
static int shift_xy(double *x, double *y, void *user)
{
    const shift *d = user;
    *x += d->dx, *y += d->dy;
    return 1;
}

/* A province's prefecture from an outline file: the lon/lat counties, centred on (lon0, lat0),
 * moved to (c->clon, c->clat) keeping their shape in metres.  Each county goes to the metric CRS
 * of the file's centre, is translated there by the offset between the two centres (each in its
 * own CRS), and comes back to lon/lat through the metric CRS of the new centre; the caller
 * transforms the result to that CRS, where it is the file's shape translated. */
static gw_status region_move(city *c, double lon0, double lat0)
{
    gw_crs_transform *home_m = c->to_m, *home_ll = c->to_ll;
    c->to_m = c->to_ll = NULL;
    double x0 = lon0, y0 = lat0, x1 = c->clon, y1 = c->clat;
    gw_status st = gw_crs_transform_points(home_m, &x0, &y0, 1);
    if (!st) st = make_transforms(c, c->clon, c->clat);
    if (!st) st = gw_crs_transform_points(c->to_m, &x1, &y1, 1);
    shift d = {x1 - x0, y1 - y0};
    for (int i = 0; !st && i < c->ncty; i++) {
        GEOSGeometry *m = gw_crs_transform_geom(home_m, c->cty[i].g);
        GEOSGeometry *t = m ? GEOSGeom_transformXY_r(c->h, m, shift_xy, &d) : NULL;
        GEOSGeometry *ll = t ? gw_crs_transform_geom(c->to_ll, t) : NULL;
        if (m) GEOSGeom_destroy_r(c->h, m);
        if (t) GEOSGeom_destroy_r(c->h, t);
        if (!ll) {
            st = gw_ctx_errcode(c->ctx) ? gw_ctx_errcode(c->ctx)
                                        : city_geos_fail(c, "moving a county");
            break;
        }
        GEOSGeom_destroy_r(c->h, c->cty[i].g);
        c->cty[i].g = ll;
    }
    gw_crs_transform_destroy(home_m);
    gw_crs_transform_destroy(home_ll);
    return st;
}

/* Transform the lon/lat counties to metric and make them disjoint (each minus those before it). */
static gw_status region_file(city *c, const char *path)
{
    gw_status st = region_read(c, path);
    if (st) return st;
    gw_bbox bb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < c->ncty; i++) {
        double v[4];
        GEOSGeom_getXMin_r(c->h, c->cty[i].g, &v[0]), GEOSGeom_getYMin_r(c->h, c->cty[i].g, &v[1]);
        GEOSGeom_getXMax_r(c->h, c->cty[i].g, &v[2]), GEOSGeom_getYMax_r(c->h, c->cty[i].g, &v[3]);
        bb.minx = fmin(bb.minx, v[0]), bb.miny = fmin(bb.miny, v[1]);
        bb.maxx = fmax(bb.maxx, v[2]), bb.maxy = fmax(bb.maxy, v[3]);
    }
    if (!(bb.minx >= -180 && bb.maxx <= 180 && bb.miny >= -90 && bb.maxy <= 90))
        return gw_ctx_error(c->ctx, GW_ERR_CRS,
                            "city: region file %s is not in lon/lat (extent %g,%g,%g,%g)", path,
                            bb.minx, bb.miny, bb.maxx, bb.maxy);
    c->rlon = (bb.minx + bb.maxx) / 2, c->rlat = (bb.miny + bb.maxy) / 2;
    if ((st = make_transforms(c, c->rlon, c->rlat))) return st;
    if (c->placed && (st = region_move(c, c->rlon, c->rlat))) return st;
    GEOSGeometry *acc = NULL;
    for (int i = 0; !st && i < c->ncty; i++) {
        GEOSGeometry *m = gw_crs_transform_geom(c->to_m, c->cty[i].g);
        if (!m) {
            st = gw_ctx_errcode(c->ctx) ? gw_ctx_errcode(c->ctx)
                                        : city_geos_fail(c, "transforming a county");
            break;
        }
        GEOSGeom_destroy_r(c->h, c->cty[i].g);
        c->cty[i].g = m;
        if (GEOSisValid_r(c->h, m) != 1) {
            gw_ctx_warn(c->ctx, "city: region file %s: county %s is not valid; repaired", path,
                        c->cty[i].name);
            c->cty[i].g = city_polygonal(c->h, GEOSMakeValid_r(c->h, m));
            GEOSGeom_destroy_r(c->h, m);
            if (!c->cty[i].g) {
                st = city_geos_fail(c, "repairing a county");
                break;
            }
        }
        GEOSGeometry *self = c->cty[i].g;
        if (acc) {
            c->cty[i].g = city_polygonal(c->h, GEOSDifference_r(c->h, self, acc));
            GEOSGeometry *u = GEOSUnion_r(c->h, acc, self);
            GEOSGeom_destroy_r(c->h, acc);
            GEOSGeom_destroy_r(c->h, self);
            if (!(acc = u)) st = city_geos_fail(c, "uniting counties");
        } else if (!(acc = GEOSGeom_clone_r(c->h, self)))
            st = city_geos_fail(c, "cloning a county");
    }
    if (acc) GEOSGeom_destroy_r(c->h, acc);
    int k = 0; /* drop counties swallowed by earlier ones */
    for (int i = 0; i < c->ncty; i++) {
        if (c->cty[i].g) c->cty[k++] = c->cty[i];
        else
            gw_ctx_warn(c->ctx, "city: region file %s: county %s lies inside earlier ones; skipped",
                        path, c->cty[i].name);
    }
    c->ncty = k;
    return st;
}

/* ---- driver ---- */
static void city_free(city *c)
{
    for (int i = 0; i < c->ncty; i++)
        if (c->cty[i].g) GEOSGeom_destroy_r(c->h, c->cty[i].g);
    for (int i = 0; i < c->ngrid; i++) {
        if (c->grids[i].g) GEOSGeom_destroy_r(c->h, c->grids[i].g);
        if (c->grids[i].noded) GEOSGeom_destroy_r(c->h, c->grids[i].noded);
    }
    free(c->cty), free(c->towns), free(c->grids), free(c->popcum), free(c->rooms), free(c->hs);
    free(c->rs.x), free(c->rs.y), free(c->rs.r0), free(c->rs.rn), free(c->bstart), free(c->bitems);
    gw_crs_transform_destroy(c->to_m);
    gw_crs_transform_destroy(c->to_ll);
}

/* The region (built-in or from the file) in the metric CRS; sets c->rlon/rlat, its reference
 * centre in lon/lat (where a province's lattice places it). */
static gw_status region(city *c)
{
    c->rlon = CITY_LON, c->rlat = CITY_LAT;
    return c->o->region ? region_file(c, c->o->region) : region_builtin(c);
}

/* The prefecture every grid names: the built-in region's city, or the outline file's name
 * ("shandong_west.gpkg" -> "shandong_west"); in a province prefixed with its number. */
static void prefecture_name(city *c)
{
    char base[48] = "菏泽市";
    if (c->o->region) {
        const char *b = strrchr(c->o->region, '/');
        b = b ? b + 1 : c->o->region;
        size_t n = strcspn(b, ".");
        if (n >= sizeof base) n = sizeof base - 1;
        if (n > 0) memcpy(base, b, n), base[n] = '\0';
    }
    if (*c->pfx) snprintf(c->prefecture, sizeof c->prefecture, "%.3s %s", c->pfx, base);
    else snprintf(c->prefecture, sizeof c->prefecture, "%s", base);
}

/* One prefecture: its region and features, inserted into the open transaction. */
static gw_status build(city *c, double scale)
{
    gw_status st = region(c);
    prefecture_name(c);
    for (int k = 0; !st && k < c->ncty; k++) {
        char *nm = c->cty[k].name; /* the prefecture where a user looks: county "P03 牡丹区" */
        size_t len = strlen(nm);
        if (*c->pfx && len + 4 < sizeof c->cty[k].name) {
            memmove(nm + 4, nm, len + 1);
            memcpy(nm, c->pfx, 3);
            nm[3] = ' ';
        }
        GEOSArea_r(c->h, c->cty[k].g, &c->cty[k].area);
        c->region_area += c->cty[k].area;
        st = city_shape_from(c, c->cty[k].g, &c->cty[k].sh);
    }
    if (!st && !(c->region_area > 0))
        st = gw_ctx_error(c->ctx, GW_ERR_GEOMETRY, "city: the region has no area");
    if (!st) st = city_make_towns(c, scale);
    if (!st) st = city_make_grids(c, scale);
    if (!st) st = city_make_villages(c);
    if (!st) st = city_node_grids(c);
    if (!st) st = city_insert_grids(c);
    if (!st) st = city_make_rooms_teams(c, scale);
    if (!st) st = city_make_cameras(c, scale);
    if (!st) st = city_make_incidents(c, scale);
    if (!st) st = city_make_roads(c, scale);
    return st;
}

void city_progress(const city *c, const char *what, double done, double total)
{
    char buf[48];
    if (*c->pfx) snprintf(buf, sizeof buf, "%.3s %s", c->pfx, what), what = buf;
    gw_ctx_progress(c->ctx, what, done, total);
}

/* ---- a province: prefectures on a lattice ---- */
#define PROVINCE_GAP 10000.0 /* m between the outlines' bounding boxes on the lattice */

typedef struct province {
    int n, cols, rows;
    int srid;                       /* the metric CRS of the lattice's centre: the store's */
    gw_crs_transform *to_m, *to_ll; /* lon/lat <-> that CRS */
    double x0, y0, sx, sy;          /* reference centre there; lattice spacing, m */
} province;

static uint64_t prefecture_seed(uint64_t seed, int p)
{
    if (p == 0) return seed;
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)p);
    return splitmix(&x);
}

/* Build the outline once in the CRS of its own centre and lay out a near-square lattice of its
 * bounding box (plus PROVINCE_GAP) centred there: prefecture p sits in row p / cols (north
 * first), column p % cols.  Each prefecture is later built in the metric CRS of its own centre,
 * so the outer ones keep their shape (a single CRS would stretch them by up to ~0.2 % and turn
 * them by up to ~3 degrees 350 km from its central meridian); the gap absorbs the small turn
 * between neighbours' CRSs. */
static gw_status province_layout(gw_ctx *ctx, const gw_city_opts *o, int n, province *pv)
{
    city *c = calloc(1, sizeof *c);
    if (!c) return gw_ctx_error(ctx, GW_ERR_NOMEM, "city: out of memory");
    c->ctx = ctx, c->h = gw_ctx_geos(ctx), c->o = o, c->seed = o->seed;
    gw_status st = region(c);
    gw_bbox bb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; !st && i < c->ncty; i++) {
        double v[4];
        GEOSGeom_getXMin_r(c->h, c->cty[i].g, &v[0]), GEOSGeom_getYMin_r(c->h, c->cty[i].g, &v[1]);
        GEOSGeom_getXMax_r(c->h, c->cty[i].g, &v[2]), GEOSGeom_getYMax_r(c->h, c->cty[i].g, &v[3]);
        bb.minx = fmin(bb.minx, v[0]), bb.miny = fmin(bb.miny, v[1]);
        bb.maxx = fmax(bb.maxx, v[2]), bb.maxy = fmax(bb.maxy, v[3]);
    }
    pv->n = n;
    pv->cols = (int)ceil(sqrt((double)n));
    pv->rows = (n + pv->cols - 1) / pv->cols;
    pv->x0 = c->rlon, pv->y0 = c->rlat;
    if (!st) st = gw_crs_transform_points(c->to_m, &pv->x0, &pv->y0, 1);
    pv->sx = bb.maxx - bb.minx + PROVINCE_GAP, pv->sy = bb.maxy - bb.miny + PROVINCE_GAP;
    if (!st) {
        pv->srid = c->srid, pv->to_m = c->to_m, pv->to_ll = c->to_ll;
        c->to_m = c->to_ll = NULL;
    }
    city_free(c);
    free(c);
    return st;
}

/* Prefecture p's centre in lon/lat. */
static gw_status province_centre(const province *pv, int p, double *lon, double *lat)
{
    int col = p % pv->cols, row = p / pv->cols;
    *lon = pv->x0 + (col - (pv->cols - 1) / 2.0) * pv->sx;
    *lat = pv->y0 + ((pv->rows - 1) / 2.0 - row) * pv->sy;
    return gw_crs_transform_points(pv->to_ll, lon, lat, 1);
}

/* Everything but the transaction: the prefectures one at a time (each freed before the next, so
 * memory stays that of one prefecture), then the metadata and the change log. */
static gw_status generate(gw_ctx *ctx, gw_store *store, const gw_city_opts *o, city_truth *truth,
                          gw_city_report *rep)
{
    int n = o->prefectures > 1 ? o->prefectures : 1;
    province pv = {0};
    gw_status st = n > 1 ? province_layout(ctx, o, n, &pv) : GW_OK;
    /* A province loads its point layers through several inserters in turn.  One inserter more
     * per layer, opened while the layer is empty and kept to the end, lets SQLite drop the
     * layer's secondary indexes once and build them once at the end (the later inserters find
     * the layer no longer empty and would keep them up to date row by row). */
    gw_inserter *hold[GW_LAYER_COUNT] = {0};
    for (int l = 0; !st && n > 1 && l < GW_LAYER_COUNT; l++)
        if (l != GW_LAYER_GRIDS) st = gw_store_inserter_create(store, (gw_layer)l, &hold[l]);
    gw_bbox llbb = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    int srid = 0;
    for (int p = 0; !st && p < n; p++) {
        city *c = calloc(1, sizeof *c);
        if (!c) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "city: out of memory");
            break;
        }
        c->ctx = ctx, c->h = gw_ctx_geos(ctx), c->store = store, c->o = o;
        c->seed = prefecture_seed(o->seed, p);
        c->year = o->year ? o->year : DEFAULT_YEAR;
        if (n > 1) {
            snprintf(c->pfx, sizeof c->pfx, "P%02d-", p + 1);
            c->placed = 1;
            st = province_centre(&pv, p, &c->clon, &c->clat);
        }
        if (!st) st = build(c, o->scale);
        if (!st) srid = n > 1 ? pv.srid : c->srid;
        truth->srid = srid, truth->prefectures = n;
        if (!st && o->truth)
            st = city_truth_add(c, truth, n > 1 && c->srid != pv.srid ? pv.to_m : NULL);
        if (!st) {
            rep->grids += c->ngrid, rep->police_rooms += c->nroom;
            long nt = lround(CITY_TEAMS * o->scale), nc = lround(CITY_CAMERAS * o->scale);
            rep->teams += nt < 1 ? 1 : nt, rep->cameras += nc < 1 ? 1 : nc;
            rep->incidents += c->nincidents;
            rep->region_km2 += c->region_area / 1e6;
            llbb.minx = fmin(llbb.minx, c->llbb.minx), llbb.miny = fmin(llbb.miny, c->llbb.miny);
            llbb.maxx = fmax(llbb.maxx, c->llbb.maxx), llbb.maxy = fmax(llbb.maxy, c->llbb.maxy);
        }
        city_free(c);
        free(c);
    }
    for (int l = 0; l < GW_LAYER_COUNT; l++) gw_inserter_destroy(hold[l]);
    gw_crs_transform_destroy(pv.to_m);
    gw_crs_transform_destroy(pv.to_ll);
    char buf[64];
    if (!st) st = gw_store_set_metric_srid(store, srid);
    if (!st) st = gw_store_meta_set(store, "name", n > 1 ? "Synthetic province" : "Synthetic Heze");
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
    if (!st) st = gw_store_meta_set(store, "city_seed", buf);
    snprintf(buf, sizeof buf, "%g", o->scale);
    if (!st) st = gw_store_meta_set(store, "city_scale", buf);
    if (!st) st = gw_store_meta_set(store, "city_region", o->region ? o->region : "built-in");
    snprintf(buf, sizeof buf, "%d", n);
    if (!st && n > 1) st = gw_store_meta_set(store, "city_prefectures", buf);
    for (int l = 0; !st && l < GW_LAYER_COUNT; l++)
        st = gw_store_log_change(store, (gw_layer)l, "import", NULL, &llbb, NULL);
    return st;
}

gw_status gw_city_generate(gw_ctx *ctx, gw_store *store, const gw_city_opts *opts,
                           gw_city_report *report)
{
    if (!ctx) return GW_ERR_ARG;
    if (!store || !opts)
        return gw_ctx_error(ctx, GW_ERR_ARG, "city: store and options are required");
    if (!(opts->scale > 0 && opts->scale <= 4))
        return gw_ctx_error(ctx, GW_ERR_ARG, "city: scale %g is out of range (0, 4]", opts->scale);
    if (opts->prefectures < 0 || opts->prefectures > GW_CITY_MAX_PREFECTURES)
        return gw_ctx_error(ctx, GW_ERR_ARG, "city: prefectures %d is out of range [1, %d]",
                            opts->prefectures, GW_CITY_MAX_PREFECTURES);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gw_status st = gw_store_begin(store);
    if (st) return st;
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        int64_t n = 0;
        if ((st = gw_store_count(store, (gw_layer)l, &n)) == GW_OK && n > 0)
            st = gw_ctx_error(ctx, GW_ERR_CONFLICT,
                              "city: the store already holds %lld %s; use an empty store",
                              (long long)n, gw_layer_name((gw_layer)l));
        if (st) {
            gw_store_rollback(store);
            return st;
        }
    }
    gw_city_report rep = {0};
    city_truth truth = {0};
    st = generate(ctx, store, opts, &truth, &rep);
    char *tmp = NULL; /* the truth, written before the commit, in place only after it */
    if (!st && opts->truth)
        st = city_truth_write(ctx, opts, opts->year ? opts->year : DEFAULT_YEAR, &truth,
                              opts->truth, &tmp);
    json_decref(truth.feats);
    if (!st) st = gw_store_commit(store);
    if (st) gw_store_rollback(store);
    if (tmp && !st && rename(tmp, opts->truth) != 0)
        st = gw_ctx_error(ctx, GW_ERR_IO,
                          "city: the city was committed but its truth file %s could not be put "
                          "in place: %s",
                          opts->truth, strerror(errno));
    if (tmp && st) unlink(tmp);
    free(tmp);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!st && report) {
        rep.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        *report = rep;
    }
    return st;
}
