/* io_export.c — export of a layer through GDAL/OGR (driver from the extension or --format; a
 * failed export leaves no file), in a chosen CRS (PROJ, or GCJ-02/BD-09 through geo/crs) and, for
 * Shapefile and CSV, a chosen encoding. */
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

/* ---- export ------------------------------------------------------------------------------ */

static const char *driver_for(const char *path, const char *format)
{
    if (format && *format) return format;
    if (io_has_ext(path, ".geojson") || io_has_ext(path, ".json")) return "GeoJSON";
    if (io_has_ext(path, ".gpkg")) return "GPKG";
    if (io_has_ext(path, ".shp")) return "ESRI Shapefile";
    if (io_has_ext(path, ".csv")) return "CSV";
    if (io_has_ext(path, ".kml")) return "KML";
    if (io_has_ext(path, ".dxf")) return "DXF";
    return NULL;
}

/* The target CRS: *tr NULL for EPSG:4326; srs receives its OGR definition (NULL for GCJ-02 and
 * BD-09, which no CRS definition describes). */
static gw_status export_crs(gw_ctx *ctx, const char *text, const char *path, gw_crs *c,
                            gw_crs_transform **tr, OGRSpatialReferenceH *srs)
{
    *tr = NULL;
    *c = (gw_crs){GW_CRS_EPSG, 4326};
    if (text && *text) {
        gw_status st = gw_crs_parse(ctx, text, c);
        if (st) return gw_ctx_error(ctx, st, "export %s: --srs: %s", path, gw_ctx_errmsg(ctx));
    }
    *srs = NULL;
    if (c->kind == GW_CRS_EPSG) {
        *srs = OSRNewSpatialReference(NULL);
        if (!*srs || OSRImportFromEPSG(*srs, c->epsg) != OGRERR_NONE)
            return gw_ctx_error(ctx, GW_ERR_CRS, "export %s: GDAL cannot build EPSG:%d: %s", path,
                                c->epsg, io_gdal_msg());
        OSRSetAxisMappingStrategy(*srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    if (c->kind == GW_CRS_EPSG && c->epsg == 4326) return GW_OK;
    return gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326}, *c, tr);
}

/* A stored lon/lat geometry (WKB) in the target CRS, as OGR geometry. */
static OGRGeometryH to_target(gw_ctx *ctx, gw_crs_transform *tr, const unsigned char *wkb,
                              size_t len)
{
    OGRGeometryH g = NULL;
    if (!tr) return OGR_G_CreateFromWkbEx(wkb, NULL, &g, len) == OGRERR_NONE ? g : NULL;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSGeometry *a = GEOSGeomFromWKB_buf_r(h, wkb, len),
                 *b = a ? gw_crs_transform_geom(tr, a) : NULL;
    size_t n = 0;
    unsigned char *out = b ? GEOSGeomToWKB_buf_r(h, b, &n) : NULL;
    if (out && OGR_G_CreateFromWkbEx(out, NULL, &g, n) != OGRERR_NONE) g = NULL;
    GEOSFree_r(h, out);
    if (b) GEOSGeom_destroy_r(h, b);
    if (a) GEOSGeom_destroy_r(h, a);
    return g;
}

static void remove_output(GDALDriverH drv, const char *path)
{
    VSIStatBufL sb;
    if (VSIStatL(path, &sb) != 0) return;
    if (GDALDeleteDataset(drv, path) != CE_None) VSIUnlink(path);
    CPLErrorReset();
}

gw_status gw_io_export(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const char *format, int64_t *n)
{
    gw_export_opts o = {.format = format};
    return gw_io_export_with(ctx, store, layer, path, &o, n);
}

/* What an export writes, decided once from the driver and the options. */
typedef struct xp {
    const char *path, *enc; /* enc: NULL for UTF-8 */
    int shp, gpkg, csv, json, kml, dxf, dt_native, is_point, legacy;
} xp;

/* Options that do not fit the format: refused before any file is touched. */
static gw_status check_options(gw_ctx *ctx, const xp *x, gw_crs crs, const gw_crs_transform *tr,
                               const char *dname)
{
    if (x->enc && !x->shp && !x->csv)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "export %s: --encoding %s: %s files are UTF-8 by their specification; "
                            "an encoding can be chosen for Shapefile and CSV only",
                            x->path, x->enc, dname);
    if (x->enc) {
        gw_status st = io_encoding_check_name(ctx, x->enc);
        if (st) return st;
        char *probe = io_encode_value("a", x->enc); /* the other way round too: UTF-8 into it */
        if (!probe)
            return gw_ctx_error(ctx, GW_ERR_ARG, "export %s: iconv cannot write %s", x->path,
                                x->enc);
        free(probe);
    }
    if (!tr || !((x->json && !x->legacy) || x->kml)) return GW_OK;
    char cn[32];
    gw_crs_format(crs, cn, sizeof cn);
    return gw_ctx_error(ctx, GW_ERR_ARG,
                        x->json ? "export %s: --srs %s: GeoJSON (RFC 7946) is lon/lat WGS84 "
                                  "(EPSG:4326) only; write .gpkg, .shp, .csv or .dxf in %s, or "
                                  "give --legacy-geojson for a GeoJSON 2008 file"
                                : "export %s: --srs %s: KML is lon/lat WGS84 (EPSG:4326) by its "
                                  "specification; write .gpkg, .shp, .csv or .dxf in %s",
                        x->path, cn, cn);
}

static gw_status create_fields(gw_ctx *ctx, const xp *x, OGRLayerH lyr, const gw_field *fields,
                               size_t nf)
{
    for (size_t i = 0; i < nf && !x->dxf; i++) { /* DXF has a fixed schema (Layer, Text …) */
        OGRFieldType t = fields[i].type == GW_FT_INT                    ? OFTInteger64
                         : fields[i].type == GW_FT_REAL                 ? OFTReal
                         : fields[i].type == GW_FT_TIME && x->dt_native ? OFTDateTime
                                                                        : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, t);
        if (x->shp && t == OFTString) OGR_Fld_SetWidth(fd, 254);
        OGRErr e = OGR_L_CreateField(lyr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE)
            return gw_ctx_error(ctx, GW_ERR_IO, "cannot create field %s in %s: %s", fields[i].name,
                                x->path, io_gdal_msg());
    }
    return GW_OK;
}

/* One row's values into feat (fields in canonical order). */
static gw_status set_values(gw_ctx *ctx, const xp *x, OGRFeatureH feat, const gw_field *fields,
                            size_t nf, const gw_row *r, const char *rid)
{
    for (size_t i = 0; i < nf && !x->dxf; i++) {
        const gw_value *v = &r->values[i];
        int fi = (int)i;
        if (v->kind == GW_VAL_NULL) OGR_F_SetFieldNull(feat, fi);
        else if (fields[i].type == GW_FT_TIME && v->kind == GW_VAL_INT) {
            if (x->dt_native) {
                time_t tt = (time_t)v->i;
                struct tm tm;
                gmtime_r(&tt, &tm);
                OGR_F_SetFieldDateTimeEx(feat, fi, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                         tm.tm_hour, tm.tm_min, (float)tm.tm_sec, 100);
            } else {
                char b[32];
                gw_time_format(v->i, b, sizeof b);
                OGR_F_SetFieldString(feat, fi, b);
            }
        } else if (v->kind == GW_VAL_TEXT) {
            if (x->enc && v->s) { /* a character the encoding lacks is refused, not written '?' */
                char *e = io_encode_value(v->s, x->enc);
                if (!e)
                    return gw_ctx_error(ctx, GW_ERR_FORMAT,
                                        "export %s: '%s' field %s: '%s' has a character %s "
                                        "cannot write (GB18030 writes every character; UTF-8 "
                                        "too)",
                                        x->path, rid, fields[i].name, v->s, x->enc);
                free(e);
            }
            OGR_F_SetFieldString(feat, fi, v->s ? v->s : "");
        } else if (v->kind == GW_VAL_INT) OGR_F_SetFieldInteger64(feat, fi, v->i);
        else OGR_F_SetFieldDouble(feat, fi, v->d);
    }
    return GW_OK;
}

/* One row's geometry in the target CRS and the shape the format wants; *g NULL for none. */
static gw_status make_geom(gw_ctx *ctx, const xp *x, gw_crs_transform *tr, OGRwkbGeometryType gt,
                           const gw_row *r, const char *rid, OGRGeometryH *out)
{
    *out = NULL;
    if (!r->wkb || !r->wkb_len) return GW_OK;
    OGRGeometryH g = to_target(ctx, tr, r->wkb, r->wkb_len);
    if (!g)
        return gw_ctx_error(ctx, tr ? GW_ERR_CRS : GW_ERR_INTERNAL,
                            "export %s: the geometry of '%s' %s", x->path, rid,
                            tr ? "does not transform to --srs" : "is unreadable");
    if (!x->is_point && gt == wkbMultiPolygon) g = OGR_G_ForceToMultiPolygon(g);
    if (!x->is_point && x->dxf) { /* outlines: closed polylines a CAD user can snap to */
        OGRGeometryH b = OGR_G_Boundary(g);
        OGR_G_DestroyGeometry(g);
        g = b ? OGR_G_ForceToMultiLineString(b) : NULL;
    }
    *out = g;
    return GW_OK;
}

/* Export a layer (see io.h).  Times are written as DateTime (UTC) in GeoJSON and GeoPackage and
 * as ISO 8601 "…Z" text in the other formats. */
gw_status gw_io_export_with(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                            const gw_export_opts *opts, int64_t *n)
{
    if (n) *n = 0;
    if (!ctx) return GW_ERR_ARG;
    if (!store || !path || !gw_layer_name(layer))
        return gw_ctx_error(ctx, GW_ERR_ARG, "export: no store, file or layer");
    gw_export_opts o = opts ? *opts : (gw_export_opts){0};
    const char *dname = driver_for(path, o.format);
    if (!dname)
        return gw_ctx_error(ctx, GW_ERR_UNSUPPORTED,
                            "export %s: unknown format: the file name ends in none of .geojson, "
                            ".json, .gpkg, .shp, .csv, .kml or .dxf (or name the GDAL driver "
                            "with --format)",
                            path);
    xp x = {.path = path,
            .enc = o.encoding && *o.encoding && !io_is_utf8_name(o.encoding) ? o.encoding : NULL,
            .shp = strcmp(dname, "ESRI Shapefile") == 0,
            .gpkg = strcmp(dname, "GPKG") == 0,
            .csv = strcmp(dname, "CSV") == 0,
            .json = strcmp(dname, "GeoJSON") == 0,
            .kml = strcmp(dname, "KML") == 0 || strcmp(dname, "LIBKML") == 0,
            .dxf = strcmp(dname, "DXF") == 0,
            .is_point = gw_layer_is_point(layer),
            .legacy = o.legacy_geojson};
    x.dt_native = x.gpkg || x.json;
    io_gdal_enter();
    gw_status st = GW_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    OGRFeatureH feat = NULL;
    gw_cursor *cur = NULL;
    gw_crs_transform *tr = NULL;
    gw_crs crs;
    int64_t count = 0;
    GDALDriverH drv = GDALGetDriverByName(dname);
    if (!drv) {
        st = gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "export %s: GDAL has no driver '%s'", path,
                          dname);
        goto out;
    }
    if ((st = export_crs(ctx, o.srs, path, &crs, &tr, &srs)) != GW_OK) goto out;
    if ((st = check_options(ctx, &x, crs, tr, dname)) != GW_OK) goto out;
    remove_output(drv, path);
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create %s: %s", path, io_gdal_msg());
        goto out;
    }
    int geographic = crs.kind != GW_CRS_EPSG || gw_crs_is_geographic(ctx, crs);
    char shp_enc[96], json_prec[48];
    snprintf(shp_enc, sizeof shp_enc, "ENCODING=%s", x.enc ? x.enc : "UTF-8");
    snprintf(json_prec, sizeof json_prec, "COORDINATE_PRECISION=%d", geographic ? 7 : 3);
    const char *lco_json[] = {"RFC7946=YES", "WRITE_NAME=NO", NULL};
    const char *lco_legacy[] = {json_prec, NULL};
    const char *lco_shp[] = {shp_enc, "RESIZE=YES", NULL};
    const char *lco_csv[] = {x.is_point ? "GEOMETRY=AS_XY" : "GEOMETRY=AS_WKT", NULL};
    char **lco = (char **)(x.shp    ? lco_shp
                           : x.csv  ? lco_csv
                           : x.json ? (x.legacy ? lco_legacy : lco_json)
                                    : NULL);
    char lname[256];
    if (x.shp) {
        const char *b = strrchr(path, '/');
        snprintf(lname, sizeof lname, "%s", b ? b + 1 : path);
        char *dot = strrchr(lname, '.');
        if (dot) *dot = '\0';
    } else {
        snprintf(lname, sizeof lname, "%s", gw_layer_name(layer));
    }
    OGRwkbGeometryType gt = x.is_point          ? wkbPoint
                            : x.dxf             ? wkbMultiLineString
                            : (x.shp || x.gpkg) ? wkbMultiPolygon
                                                : wkbUnknown;
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, lname, srs, gt, lco);
    if (!lyr) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create layer %s in %s: %s", lname, path,
                          io_gdal_msg());
        goto out;
    }
    size_t nf;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    if ((st = create_fields(ctx, &x, lyr, fields, nf)) != GW_OK) goto out;
    feat = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
    int li = x.dxf ? OGR_F_GetFieldIndex(feat, "Layer") : -1;
    if ((st = gw_store_cursor_create(store, layer, &cur)) != GW_OK) goto out;
    if (x.gpkg) GDALDatasetStartTransaction(ds, FALSE);
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        const char *rid = r.values[0].kind == GW_VAL_TEXT && r.values[0].s ? r.values[0].s : "?";
        OGRGeometryH g = NULL;
        if ((st = set_values(ctx, &x, feat, fields, nf, &r, rid)) != GW_OK ||
            (st = make_geom(ctx, &x, tr, gt, &r, rid, &g)) != GW_OK)
            goto out;
        if (li >= 0) OGR_F_SetFieldString(feat, li, gw_layer_name(layer));
        OGR_F_SetGeometryDirectly(feat, g);
        OGR_F_SetFID(feat, OGRNullFID);
        if (OGR_L_CreateFeature(lyr, feat) != OGRERR_NONE) {
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: cannot write '%s': %s", path, rid,
                              io_gdal_msg());
            goto out;
        }
        count++;
    }
    if (st != GW_ERR_NOT_FOUND) goto out;
    st = GW_OK;
    gw_ctx_clear_error(ctx);
    if (x.gpkg && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: commit failed: %s", path, io_gdal_msg());
out:
    gw_cursor_destroy(cur);
    gw_crs_transform_destroy(tr);
    if (feat) OGR_F_Destroy(feat);
    if (srs) OSRRelease(srs);
    if (ds) {
        CPLErrorReset();
        GDALClose(ds);
        if (!st && CPLGetLastErrorType() == CE_Failure)
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: %s", path, io_gdal_msg());
    }
    if (!st && x.csv && x.enc) st = io_encode_file(ctx, path, x.enc);
    if (st && drv) remove_output(drv, path);
    if (!st && n) *n = count;
    io_gdal_leave();
    return st;
}
