/* io_rows.c — import rows: the CRS of the source, coordinate checks, the grid and police room of
 * an incident, points and (multi-part) polygons into the inserter, final checks. */
#include "io_internal.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* ---- CRS --------------------------------------------------------------------------------- */

gw_status io_setup_crs(imp *m)
{
    if (m->o.srs && *m->o.srs) {
        gw_crs c;
        gw_status st = gw_crs_parse(m->ctx, m->o.srs, &c);
        if (st) return st;
        if (c.kind == GW_CRS_EPSG && c.epsg == 4326) return GW_OK;
        if (gw_crs_area_of_use(m->ctx, c, &m->aou) && m->aou.minx <= m->aou.maxx) {
            m->have_aou = 1; /* 2 degrees of slack: data a little past a zone's edge is fine */
            m->aou.minx -= 2, m->aou.miny -= 2, m->aou.maxx += 2, m->aou.maxy += 2;
        }
        return gw_crs_transform_create(m->ctx, c, (gw_crs){GW_CRS_EPSG, 4326}, &m->gtr);
    }
    OGRSpatialReferenceH s = OGR_L_GetSpatialRef(m->lyr);
    if (!s) {
        m->no_srs = 1;
        if (m->is_shp)
            gw_ctx_warn(
                m->ctx,
                "%s: no .prj beside the shapefile; assuming EPSG:4326 lon/lat (give --srs if it is not)",
                m->path);
        return GW_OK;
    }
    OGRSpatialReferenceH from = OSRClone(s), wgs = OSRNewSpatialReference(NULL);
    gw_status st = GW_OK;
    OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER);
    if (!wgs || OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE) {
        st = gw_ctx_error(m->ctx, GW_ERR_CRS, "cannot build EPSG:4326: %s", io_gdal_msg());
    } else {
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        const char *same[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES",
                              "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", NULL};
        if (!OSRIsSameEx(from, wgs, same)) {
            m->oct = OCTNewCoordinateTransformation(from, wgs);
            if (!m->oct) {
                const char *nm = OSRGetName(from);
                st = gw_ctx_error(m->ctx, GW_ERR_CRS,
                                  "%s: cannot transform from %s to EPSG:4326: %s (give --srs)",
                                  m->path, nm ? nm : "its CRS", io_gdal_msg());
            }
        }
    }
    OSRRelease(from);
    if (wgs) OSRRelease(wgs);
    return st;
}

/* Data given in --srs must land where that CRS is used: lon/lat numbers read as metres of a
 * projected CRS (--srs EPSG:2385 on (115.6, 35.2)) land near its false origin, on the equator. */
static gw_status check_aou(imp *m, double ox, double oy, double x0, double y0, double x1, double y1)
{
    const gw_bbox *a = &m->aou;
    if (!m->have_aou || (x0 >= a->minx && x1 <= a->maxx && y0 >= a->miny && y1 <= a->maxy))
        return GW_OK;
    int ll = fabs(ox) <= 180 && fabs(oy) <= 90;
    return gw_ctx_error_at(
        m->ctx, GW_ERR_CRS, (long)m->row,
        "%s row %lld (id '%s'): (%.9g, %.9g) in --srs %s lands at lon %.6f, lat %.6f, outside the "
        "area where %s is used (lon %.2f to %.2f, lat %.2f to %.2f, with 2 degrees of slack): "
        "the data is in another CRS%s",
        m->path, (long long)m->row, io_row_id(m), ox, oy, m->o.srs, x0, y0, m->o.srs, a->minx + 2,
        a->maxx - 2, a->miny + 2, a->maxy - 2,
        ll ? " (these numbers look like lon/lat: leave --srs out, or give EPSG:4326)" : "");
}

/* Check a coordinate box (a point has x0 == x1).  GW_OK with *defer set when the row is skipped
 * (skip_bad_rows) or held as a swapped-looking point (refused at the end with a count). */
static gw_status check_coords(imp *m, double x0, double y0, double x1, double y1, int *defer)
{
    *defer = 0;
    if (isfinite(x0) && isfinite(y0) && isfinite(x1) && isfinite(y1) && x0 >= -180 && x1 <= 180 &&
        y0 >= -90 && y1 <= 90)
        return GW_OK;
    double ax = fmax(fabs(x0), fabs(x1)), ay = fmax(fabs(y0), fabs(y1));
    if (m->no_srs && (ax > 360 || ay > 360))
        return gw_ctx_error_at(
            m->ctx, GW_ERR_CRS, (long)m->row,
            "%s row %lld (id '%s'): coordinates (%.3f, %.3f) are not lon/lat and the file has %s: "
            "give --srs (e.g. EPSG:3435, EPSG:4547)",
            m->path, (long long)m->row, io_row_id(m), x0, y0, m->is_shp ? "no .prj" : "no CRS");
    if (ax <= 90 && ay <= 180) {
        if (m->rep.swapped++ == 0) {
            m->first_swap_row = m->row;
            m->swx = x0;
            m->swy = y0;
            snprintf(m->swid, sizeof m->swid, "%s", io_row_id(m));
        }
        *defer = 1;
        return GW_OK;
    }
    if (m->o.skip_bad_rows) {
        m->rep.skipped++;
        *defer = 1;
        return GW_OK;
    }
    return gw_ctx_error_at(
        m->ctx, GW_ERR_RANGE, (long)m->row,
        "%s row %lld (id '%s'): coordinates out of range (lon %.9g, lat %.9g): lon must be within "
        "[-180, 180] and lat within [-90, 90]",
        m->path, (long long)m->row, io_row_id(m), x0, y0);
}

static gw_status bad_geom(imp *m, const char *what, int *defer)
{
    *defer = 0;
    if (m->o.skip_bad_rows) {
        m->rep.skipped++;
        *defer = 1;
        return GW_OK;
    }
    return gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s",
                           m->path, (long long)m->row, io_row_id(m), what);
}

/* ---- incidents: grid of a point ---------------------------------------------------------- */

static void cand_cb(void *item, void *user)
{
    imp *m = user;
    if (m->ncand == m->capcand) {
        size_t cap = m->capcand ? m->capcand * 2 : 16;
        gridref **n = realloc(m->cand, cap * sizeof *n);
        if (!n) return;
        m->cand = n;
        m->capcand = cap;
    }
    m->cand[m->ncand++] = item;
}

gw_status io_load_grids(imp *m)
{
    gw_cursor *cur = NULL;
    gw_status st = gw_store_cursor_create(m->store, GW_LAYER_GRIDS, &cur);
    if (st) return st;
    size_t cap = 0;
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        if (!r.wkb || r.values[0].kind != GW_VAL_TEXT) continue;
        if (m->ngr == cap) {
            cap = cap ? cap * 2 : 256;
            gridref *n = realloc(m->gr, cap * sizeof *n);
            if (!n) {
                gw_cursor_destroy(cur);
                return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory loading grids");
            }
            m->gr = n;
        }
        gridref *g = &m->gr[m->ngr];
        g->g = GEOSWKBReader_read_r(m->h, m->rd, r.wkb, r.wkb_len);
        if (!g->g) continue;
        g->id = strdup(r.values[0].s);
        g->pg = GEOSPrepare_r(m->h, g->g);
        m->ngr++;
    }
    gw_cursor_destroy(cur);
    if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(m->ctx);
    if (m->ngr == 0) return GW_OK;
    m->tree = GEOSSTRtree_create_r(m->h, 10);
    for (size_t i = 0; i < m->ngr; i++) GEOSSTRtree_insert_r(m->h, m->tree, m->gr[i].g, &m->gr[i]);
    return GW_OK;
}

/* Police rooms for resolving an incident's responsible room (the nearest one). */
gw_status io_load_rooms(imp *m)
{
    gw_cursor *cur = NULL;
    gw_status st = gw_store_cursor_create(m->store, GW_LAYER_POLICE_ROOMS, &cur);
    if (st) return st;
    size_t cap = 0;
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        if (!r.wkb || r.wkb_len < 21 || r.values[0].kind != GW_VAL_TEXT) continue;
        if (m->nroom == cap) {
            cap = cap ? cap * 2 : 64;
            char **ni = realloc(m->room_id, cap * sizeof *ni);
            if (ni) m->room_id = ni;
            double *nx = realloc(m->room_x, cap * sizeof *nx);
            if (nx) m->room_x = nx;
            double *ny = realloc(m->room_y, cap * sizeof *ny);
            if (ny) m->room_y = ny;
            if (!ni || !nx || !ny) {
                gw_cursor_destroy(cur);
                return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory loading police rooms");
            }
        }
        GEOSGeometry *g = GEOSWKBReader_read_r(m->h, m->rd, r.wkb, r.wkb_len);
        double x, y;
        int ok = g && GEOSGeomGetX_r(m->h, g, &x) == 1 && GEOSGeomGetY_r(m->h, g, &y) == 1;
        GEOSGeom_destroy_r(m->h, g);
        if (!ok) continue;
        m->room_id[m->nroom] = strdup(r.values[0].s);
        m->room_x[m->nroom] = x, m->room_y[m->nroom] = y;
        m->nroom++;
    }
    gw_cursor_destroy(cur);
    if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(m->ctx);
    m->room_cos = m->nroom ? cos(m->room_y[0] * M_PI / 180) : 1;
    return GW_OK;
}

/* The nearest police room to (lon, lat): a linear scan over the rooms (about a thousand in a
 * prefecture) on an equirectangular approximation, exact enough to rank rooms within a city. */
static const char *room_of(const imp *m, double x, double y)
{
    const char *best = NULL;
    double bd = HUGE_VAL;
    for (size_t i = 0; i < m->nroom; i++) {
        double dx = (m->room_x[i] - x) * m->room_cos, dy = m->room_y[i] - y, d = dx * dx + dy * dy;
        if (d < bd) bd = d, best = m->room_id[i];
    }
    return best;
}

/* The grid containing (x, y), lowest id on shared edges; NULL outside every grid. */
static const char *grid_of(imp *m, double x, double y)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(m->h, x, y);
    if (!pt) return NULL;
    m->ncand = 0;
    GEOSSTRtree_query_r(m->h, m->tree, pt, cand_cb, m);
    const char *best = NULL;
    for (size_t i = 0; i < m->ncand; i++)
        if ((!best || strcmp(m->cand[i]->id, best) < 0) &&
            GEOSPreparedIntersects_r(m->h, m->cand[i]->pg, pt) == 1)
            best = m->cand[i]->id;
    GEOSGeom_destroy_r(m->h, pt);
    return best;
}

/* ---- rows -------------------------------------------------------------------------------- */

static gw_status add_point(imp *m, OGRGeometryH g)
{
    int defer;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1) {
        g = OGR_G_GetGeometryRef(g, 0);
        t = wkbFlatten(OGR_G_GetGeometryType(g));
    }
    if (t != wkbPoint) {
        char what[160];
        snprintf(what, sizeof what, "%s takes Point geometries, got %s", gw_layer_name(m->layer),
                 OGR_G_GetGeometryName(g));
        gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s", m->path,
                        (long long)m->row, io_row_id(m), what);
        return GW_ERR_GEOMETRY;
    }
    if (OGR_G_IsEmpty(g)) {
        gw_status st = bad_geom(m, "empty geometry", &defer);
        return st;
    }
    double x = OGR_G_GetX(g, 0), y = OGR_G_GetY(g, 0);
    if (m->oct && !OCTTransform(m->oct, 1, &x, &y, NULL))
        return gw_ctx_error_at(m->ctx, GW_ERR_CRS, (long)m->row,
                               "%s row %lld (id '%s'): cannot transform (%.9g, %.9g) to EPSG:4326",
                               m->path, (long long)m->row, io_row_id(m), x, y);
    double ox = x, oy = y;
    if (m->gtr && gw_crs_transform_points(m->gtr, &x, &y, 1) != GW_OK)
        return gw_ctx_errcode(m->ctx);
    gw_status st = check_aou(m, ox, oy, x, y, x, y);
    if (st) return st;
    st = check_coords(m, x, y, x, y, &defer);
    if (st || defer) return st;
    m->npts++;
    if (fabs(y) > 80 && fabs(x) <= 80) m->polar++;
    if (m->have_ext) {
        if (x >= m->gext.minx && x <= m->gext.maxx && y >= m->gext.miny && y <= m->gext.maxy)
            m->in_ext++;
        if (y >= m->gext.minx && y <= m->gext.maxx && x >= m->gext.miny && x <= m->gext.maxy)
            m->swap_in_ext++;
    }
    if (m->rep.swapped) return GW_OK; /* refused at the end: keep counting, write nothing */
    if (m->layer == GW_LAYER_INCIDENTS && m->tree) {
        int gi = gw_layer_field_index(m->layer, "grid");
        if (gi >= 0 && m->vals[gi].kind == GW_VAL_NULL) {
            const char *gid = grid_of(m, x, y);
            if (gid) m->vals[gi] = (gw_value){GW_VAL_TEXT, gid, 0, 0};
        }
    }
    if (m->layer == GW_LAYER_INCIDENTS && m->nroom) {
        int ri = gw_layer_field_index(m->layer, "police_room");
        if (ri >= 0 && m->vals[ri].kind == GW_VAL_NULL)
            m->vals[ri] = (gw_value){GW_VAL_TEXT, room_of(m, x, y), 0, 0};
    }
    gw_feature feat = {m->vals, NULL, 0, x, y};
    st = gw_inserter_add(m->ins, &feat);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", gw_ctx_errmsg(m->ctx));
        if (st == GW_ERR_CONFLICT)
            return gw_ctx_error_at(m->ctx, st, (long)m->row,
                                   "%s row %lld: duplicate id '%s' in %s (ids must be unique; "
                                   "use --replace to reload the layer) [%s]",
                                   m->path, (long long)m->row, io_row_id(m),
                                   gw_layer_name(m->layer), why);
        return gw_ctx_error_at(m->ctx, st, (long)m->row, "%s row %lld (id '%s'): %s", m->path,
                               (long long)m->row, io_row_id(m), why);
    }
    io_grow_bbox(m, x, y, x, y);
    m->rep.imported++;
    return GW_OK;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Index of the pending grid with this id, creating it (values copied) when new. */
static gw_status pending_grid(imp *m, pgrid **out)
{
    if (m->npg * 2 >= m->hcap) {
        size_t cap = m->hcap ? m->hcap * 2 : 1024;
        int32_t *h = malloc(cap * sizeof *h);
        if (!h) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < cap; i++) h[i] = -1;
        for (size_t i = 0; i < m->npg; i++) {
            size_t k = hash_str(m->pg[i].vals[0].s) & (cap - 1);
            while (h[k] >= 0) k = (k + 1) & (cap - 1);
            h[k] = (int32_t)i;
        }
        free(m->hash);
        m->hash = h;
        m->hcap = cap;
    }
    const char *id = m->vals[0].s;
    size_t k = hash_str(id) & (m->hcap - 1);
    while (m->hash[k] >= 0) {
        if (strcmp(m->pg[m->hash[k]].vals[0].s, id) == 0) {
            *out = &m->pg[m->hash[k]];
            return GW_OK;
        }
        k = (k + 1) & (m->hcap - 1);
    }
    if (m->npg == m->cappg) {
        size_t cap = m->cappg ? m->cappg * 2 : 256;
        pgrid *n = realloc(m->pg, cap * sizeof *n);
        if (!n) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        m->pg = n;
        m->cappg = cap;
    }
    pgrid *p = &m->pg[m->npg];
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < m->nf; i++) {
        p->vals[i] = m->vals[i];
        if (m->vals[i].kind == GW_VAL_TEXT) {
            p->text[i] = strdup(m->vals[i].s);
            p->vals[i].s = p->text[i];
            if (!p->text[i]) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    m->hash[k] = (int32_t)m->npg++;
    *out = p;
    return GW_OK;
}

static void pgrid_free(GEOSContextHandle_t h, pgrid *p)
{
    for (size_t i = 0; i < MAXF; i++) free(p->text[i]);
    for (int i = 0; i < p->nparts; i++) GEOSGeom_destroy_r(h, p->parts[i]);
    free(p->parts);
}

/* The polygonal parts of a repaired geometry (MakeValid may return lines and points too). */
static GEOSGeometry *polygonal_parts(GEOSContextHandle_t h, GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON) return g;
    int n = GEOSGetNumGeometries_r(h, g), k = 0;
    GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    for (int i = 0; parts && i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        int pt = GEOSGeomTypeId_r(h, p);
        if (pt == GEOS_POLYGON || pt == GEOS_MULTIPOLYGON) parts[k++] = GEOSGeom_clone_r(h, p);
    }
    GEOSGeom_destroy_r(h, g);
    GEOSGeometry *out = NULL;
    if (parts && k == 1) out = parts[0];
    else if (parts && k > 1) {
        GEOSGeometry *c = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts,
                                                      (unsigned)k);
        out = c ? GEOSUnaryUnion_r(h, c) : NULL;
        GEOSGeom_destroy_r(h, c);
    }
    free(parts);
    return out;
}

static gw_status add_polygon(imp *m, OGRFeatureH f, OGRGeometryH g)
{
    int defer;
    OGRGeometryH own = NULL;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t != wkbPolygon && t != wkbMultiPolygon) { /* curves, collections, closed CAD polylines */
        char orig[64];
        snprintf(orig, sizeof orig, "%s", OGRGeometryTypeToName(OGR_G_GetGeometryType(g)));
        own = OGR_F_StealGeometry(f);
        own = (t == wkbLineString || t == wkbCircularString || t == wkbCompoundCurve)
                  ? OGR_G_ForceToPolygon(own)
                  : OGR_G_ForceToMultiPolygon(own);
        g = own;
        t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (t != wkbPolygon && t != wkbMultiPolygon) {
            char what[160];
            snprintf(what, sizeof what, "grids take Polygon or MultiPolygon geometries, got %s",
                     orig);
            if (own) OGR_G_DestroyGeometry(own);
            gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s",
                            m->path, (long long)m->row, io_row_id(m), what);
            return GW_ERR_GEOMETRY;
        }
    }
    gw_status st = GW_OK;
    GEOSGeometry *gg = NULL;
    if (OGR_G_IsEmpty(g)) {
        st = bad_geom(m, "empty geometry", &defer);
        goto done;
    }
    OGR_G_FlattenTo2D(g);
    if (m->oct && OGR_G_Transform(g, m->oct) != OGRERR_NONE) {
        st = gw_ctx_error_at(m->ctx, GW_ERR_CRS, (long)m->row,
                             "%s row %lld (id '%s'): cannot transform to EPSG:4326: %s", m->path,
                             (long long)m->row, io_row_id(m), io_gdal_msg());
        goto done;
    }
    size_t need = OGR_G_WkbSizeEx(g);
    if (need > m->wkbcap) {
        unsigned char *n = realloc(m->wkb, need);
        if (!n) {
            st = gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
        m->wkb = n;
        m->wkbcap = need;
    }
    OGR_G_ExportToIsoWkb(g, wkbNDR, m->wkb);
    gg = GEOSWKBReader_read_r(m->h, m->rd, m->wkb, need);
    if (!gg) {
        st = gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row,
                             "%s row %lld (id '%s'): unreadable geometry: %s", m->path,
                             (long long)m->row, io_row_id(m), gw_ctx_geos_errmsg(m->ctx));
        goto done;
    }
    char label[512];
    snprintf(label, sizeof label, "%s row %lld (id '%s')", m->path, (long long)m->row,
             io_row_id(m));
    if ((st = gw_geom_check(m->ctx, label, gg, 0))) goto done; /* before the costly checks */
    double ox = 0, oy = 0;
    GEOSGeom_getXMin_r(m->h, gg, &ox);
    GEOSGeom_getYMin_r(m->h, gg, &oy);
    if (m->gtr) {
        GEOSGeometry *tg = gw_crs_transform_geom(m->gtr, gg);
        GEOSGeom_destroy_r(m->h, gg);
        gg = tg;
        if (!gg) {
            st = gw_ctx_errcode(m->ctx) ? gw_ctx_errcode(m->ctx) : GW_ERR_CRS;
            goto done;
        }
    }
    double x0, y0, x1, y1;
    GEOSGeom_getXMin_r(m->h, gg, &x0);
    GEOSGeom_getYMin_r(m->h, gg, &y0);
    GEOSGeom_getXMax_r(m->h, gg, &x1);
    GEOSGeom_getYMax_r(m->h, gg, &y1);
    if ((st = check_aou(m, ox, oy, x0, y0, x1, y1))) goto done;
    st = check_coords(m, x0, y0, x1, y1, &defer);
    if (st || defer) goto done;
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    char valid = GEOSisValidDetail_r(m->h, gg, 0, &reason, &loc);
    if (valid != 1) {
        char why[256];
        double lx = NAN, ly = NAN;
        if (loc) {
            GEOSGeomGetX_r(m->h, loc, &lx);
            GEOSGeomGetY_r(m->h, loc, &ly);
        }
        snprintf(why, sizeof why, "%s", reason ? reason : gw_ctx_geos_errmsg(m->ctx));
        if (reason) GEOSFree_r(m->h, reason);
        if (loc) GEOSGeom_destroy_r(m->h, loc);
        if (!m->o.make_valid) {
            st = gw_ctx_error_at(
                m->ctx, GW_ERR_GEOMETRY, (long)m->row,
                "%s row %lld (id '%s'): invalid polygon: %s at or near (%.9g %.9g) (--make-valid repairs it)",
                m->path, (long long)m->row, io_row_id(m), why, lx, ly);
            goto done;
        }
        GEOSGeometry *fixed = GEOSMakeValid_r(m->h, gg);
        fixed = fixed ? polygonal_parts(m->h, fixed) : NULL;
        if (!fixed || GEOSisEmpty_r(m->h, fixed) == 1) {
            if (fixed) GEOSGeom_destroy_r(m->h, fixed);
            st = gw_ctx_error_at(
                m->ctx, GW_ERR_GEOMETRY, (long)m->row,
                "%s row %lld (id '%s'): invalid polygon (%s at or near (%.9g %.9g)) has no area left once repaired",
                m->path, (long long)m->row, io_row_id(m), why, lx, ly);
            goto done;
        }
        GEOSGeom_destroy_r(m->h, gg);
        gg = fixed;
        m->rep.repaired++;
    }
    pgrid *p = NULL;
    if ((st = pending_grid(m, &p)) != GW_OK) goto done;
    if (p->nparts == p->cap) {
        int cap = p->cap ? p->cap * 2 : 1;
        GEOSGeometry **n = realloc(p->parts, (size_t)cap * sizeof *n);
        if (!n) {
            st = gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
        p->parts = n;
        p->cap = cap;
    }
    p->parts[p->nparts++] = gg;
    gg = NULL;
    io_grow_bbox(m, x0, y0, x1, y1);
done:
    if (gg) GEOSGeom_destroy_r(m->h, gg);
    if (own) OGR_G_DestroyGeometry(own);
    return st;
}

/* Write the pending grids, merging features that share an id into one (multi)polygon. */
static gw_status flush_grids(imp *m)
{
    char merged[512];
    size_t len = 0;
    int nmerged = 0;
    merged[0] = '\0';
    for (size_t i = 0; i < m->npg; i++) {
        pgrid *p = &m->pg[i];
        GEOSGeometry *g = p->parts[0];
        if (p->nparts > 1) {
            GEOSGeometry *c = GEOSGeom_createCollection_r(m->h, GEOS_GEOMETRYCOLLECTION, p->parts,
                                                          (unsigned)p->nparts);
            if (!c)
                return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY,
                                    "grid '%s': cannot collect its parts: %s", p->vals[0].s,
                                    gw_ctx_geos_errmsg(m->ctx));
            p->nparts = 0; /* the collection owns them now */
            g = GEOSUnaryUnion_r(m->h, c);
            GEOSGeom_destroy_r(m->h, c);
            if (g) g = polygonal_parts(m->h, g);
            if (!g)
                return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY,
                                    "grid '%s': cannot merge its parts: %s", p->vals[0].s,
                                    gw_ctx_geos_errmsg(m->ctx));
            p->parts[0] = g;
            p->nparts = 1;
            if (nmerged++ < 10 && len + 1 < sizeof merged)
                len += (size_t)snprintf(merged + len, sizeof merged - len, "%s'%s'",
                                        len ? ", " : "", p->vals[0].s);
        }
        size_t wlen = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(m->h, m->wr, g, &wlen);
        if (!wkb)
            return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "grid '%s': cannot encode: %s",
                                p->vals[0].s, gw_ctx_geos_errmsg(m->ctx));
        gw_feature feat = {p->vals, wkb, wlen, 0, 0};
        gw_status st = gw_inserter_add(m->ins, &feat);
        GEOSFree_r(m->h, wkb);
        if (st) {
            char why[512];
            snprintf(why, sizeof why, "%s", gw_ctx_errmsg(m->ctx));
            if (st == GW_ERR_CONFLICT)
                return gw_ctx_error(
                    m->ctx, st,
                    "%s: grid id '%s' already exists (use --replace to reload the layer) [%s]",
                    m->path, p->vals[0].s, why);
            return gw_ctx_error(m->ctx, st, "%s: grid '%s': %s", m->path, p->vals[0].s, why);
        }
        m->rep.imported++;
    }
    m->rep.merged = m->rep.read - m->rep.skipped - (int64_t)m->npg;
    if (nmerged)
        gw_ctx_warn(
            m->ctx,
            "%s: %lld features share an id with another and were merged into %d multipart grid%s: %s%s",
            m->path, (long long)m->rep.merged, nmerged, nmerged > 1 ? "s" : "", merged,
            nmerged > 10 ? ", …" : "");
    return GW_OK;
}

static gw_status finish_checks(imp *m)
{
    const char *hint = "swap the coordinates (CSV: --lon/--lat) or fix the file";
    if (m->rep.swapped)
        return gw_ctx_error_at(
            m->ctx, GW_ERR_RANGE, (long)m->first_swap_row,
            "%s: %lld point%s look like lat/lon swapped (first: row %lld, id '%s': lon %.9g, lat %.9g is "
            "out of range, lon %.9g, lat %.9g would not be): %s",
            m->path, (long long)m->rep.swapped, m->rep.swapped > 1 ? "s" : "",
            (long long)m->first_swap_row, m->swid, m->swx, m->swy, m->swy, m->swx, hint);
    if (m->npts > 0 && m->polar == m->npts) {
        m->rep.swapped = m->npts;
        return gw_ctx_error(m->ctx, GW_ERR_RANGE,
                            "%s: all %lld points lie beyond 80° latitude and would not if swapped: "
                            "looks like lat/lon swapped; %s",
                            m->path, (long long)m->npts, hint);
    }
    if (m->have_ext && m->npts >= 3 && m->in_ext == 0 && m->swap_in_ext * 10 >= m->npts * 9) {
        m->rep.swapped = m->swap_in_ext;
        return gw_ctx_error(m->ctx, GW_ERR_RANGE,
                            "%s: no point falls in the grids' extent but %lld of %lld would if "
                            "swapped: looks like lat/lon swapped; %s",
                            m->path, (long long)m->swap_in_ext, (long long)m->npts, hint);
    }
    return GW_OK;
}

void io_imp_free(imp *m)
{
    for (size_t i = 0; i < MAXF; i++) free(m->tbuf[i]);
    for (size_t i = 0; i < m->npg; i++) pgrid_free(m->h, &m->pg[i]);
    free(m->pg);
    free(m->hash);
    if (m->tree) GEOSSTRtree_destroy_r(m->h, m->tree);
    for (size_t i = 0; i < m->ngr; i++) {
        GEOSPreparedGeom_destroy_r(m->h, m->gr[i].pg);
        GEOSGeom_destroy_r(m->h, m->gr[i].g);
        free(m->gr[i].id);
    }
    free(m->gr);
    for (size_t i = 0; i < m->nroom; i++) free(m->room_id[i]);
    free(m->room_id), free(m->room_x), free(m->room_y);
    free(m->cand);
    free(m->wkb);
    if (m->rd) GEOSWKBReader_destroy_r(m->h, m->rd);
    if (m->wr) GEOSWKBWriter_destroy_r(m->h, m->wr);
    if (m->oct) OCTDestroyCoordinateTransformation(m->oct);
    gw_crs_transform_destroy(m->gtr);
    gw_inserter_destroy(m->ins);
    if (m->ds) GDALClose(m->ds);
}

gw_status io_import_rows(imp *m)
{
    gw_status st;
    GIntBig total = OGR_L_GetFeatureCount(m->lyr, 0);
    OGR_L_ResetReading(m->lyr);
    CPLErrorReset();
    for (;;) {
        OGRFeatureH f = OGR_L_GetNextFeature(m->lyr);
        if (CPLGetLastErrorType() == CE_Failure) {
            if (f) OGR_F_Destroy(f);
            return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)(m->row + 1),
                                   "%s: cannot read row %lld: %s", m->path, (long long)(m->row + 1),
                                   io_gdal_msg());
        }
        if (!f) break;
        m->row++;
        m->rep.read++;
        st = io_read_values(m, f);
        int defer = 0;
        OGRGeometryH g = st ? NULL : OGR_F_GetGeometryRef(f);
        if (st == GW_OK && !g) st = bad_geom(m, "no geometry", &defer);
        else if (st == GW_OK)
            st = m->layer == GW_LAYER_GRIDS ? add_polygon(m, f, g) : add_point(m, g);
        OGR_F_Destroy(f);
        if (st) return st;
        if (m->row % PROGRESS_EVERY == 0)
            gw_ctx_progress(m->ctx, "import", (double)m->row, total > 0 ? (double)total : 0);
    }
    if ((st = finish_checks(m)) != GW_OK) return st;
    if (m->layer == GW_LAYER_GRIDS && (st = flush_grids(m)) != GW_OK) return st;
    gw_ctx_progress(m->ctx, "import", (double)m->row, (double)m->row);
    return GW_OK;
}

/* Import a file into a layer (see io.h).  Decisions:
 *  - ids: `id` must map (--map id=<field>, or a field named id); `--map id=FID` numbers the features
 *    with their OGR FID.  A layer with no id mapping is refused, listing the fields.
 *  - merged counts the extra features folded into a multipart grid (read = imported + merged + skipped).
 *  - cameras: azimuth 0, fov 360 (a dome), range 50 m and status "online" when the source lacks them.
 *  - incidents: `grid`, when not given, is the grid containing the point (lowest id on a shared edge),
 *    NULL outside every grid.
 *  - times: text without an offset is read in opts->tz; integer fields are Unix seconds. */
