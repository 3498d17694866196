/* io_export.c — export of a layer through GDAL/OGR (driver from the extension or --format; a
 * failed export leaves no file). */
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
    return NULL;
}

static void remove_output(GDALDriverH drv, const char *path)
{
    VSIStatBufL sb;
    if (VSIStatL(path, &sb) != 0) return;
    if (GDALDeleteDataset(drv, path) != CE_None) VSIUnlink(path);
    CPLErrorReset();
}

/* Export a layer (see io.h).  Times are written as DateTime (UTC) in GeoJSON and GeoPackage and
 * as ISO 8601 "…Z" text in Shapefile and CSV; coordinates keep full precision (EPSG:4326). */
gw_status gw_io_export(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const char *format, int64_t *n)
{
    if (n) *n = 0;
    if (!ctx) return GW_ERR_ARG;
    if (!store || !path || !gw_layer_name(layer))
        return gw_ctx_error(ctx, GW_ERR_ARG, "export: no store, file or layer");
    const char *dname = driver_for(path, format);
    if (!dname)
        return gw_ctx_error(
            ctx, GW_ERR_UNSUPPORTED,
            "export %s: unknown format (use .geojson, .gpkg, .shp or .csv, or name the driver)",
            path);
    io_gdal_enter();
    gw_status st = GW_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    OGRFeatureH feat = NULL;
    gw_cursor *cur = NULL;
    int64_t count = 0;
    GDALDriverH drv = GDALGetDriverByName(dname);
    if (!drv) {
        st = gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "export %s: GDAL has no driver '%s'", path,
                          dname);
        goto out;
    }
    int shp = strcmp(dname, "ESRI Shapefile") == 0, gpkg = strcmp(dname, "GPKG") == 0,
        csv = strcmp(dname, "CSV") == 0;
    int dt_native = gpkg || strcmp(dname, "GeoJSON") == 0;
    int is_point = gw_layer_is_point(layer);
    remove_output(drv, path);
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create %s: %s", path, io_gdal_msg());
        goto out;
    }
    srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    const char *lco_json[] = {"COORDINATE_PRECISION=15", NULL};
    const char *lco_shp[] = {"ENCODING=UTF-8", "RESIZE=YES", NULL};
    const char *lco_csv[] = {is_point ? "GEOMETRY=AS_XY" : "GEOMETRY=AS_WKT", NULL};
    char **lco = (char **)(shp ? lco_shp : csv ? lco_csv : gpkg ? NULL : lco_json);
    char lname[256];
    if (shp) {
        const char *b = strrchr(path, '/');
        snprintf(lname, sizeof lname, "%s", b ? b + 1 : path);
        char *dot = strrchr(lname, '.');
        if (dot) *dot = '\0';
    } else {
        snprintf(lname, sizeof lname, "%s", gw_layer_name(layer));
    }
    OGRwkbGeometryType gt = is_point ? wkbPoint : (shp || gpkg) ? wkbMultiPolygon : wkbUnknown;
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, lname, srs, gt, lco);
    if (!lyr) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create layer %s in %s: %s", lname, path,
                          io_gdal_msg());
        goto out;
    }
    size_t nf;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    for (size_t i = 0; i < nf; i++) {
        OGRFieldType t = fields[i].type == GW_FT_INT                 ? OFTInteger64
                         : fields[i].type == GW_FT_REAL              ? OFTReal
                         : fields[i].type == GW_FT_TIME && dt_native ? OFTDateTime
                                                                     : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, t);
        if (shp && t == OFTString) OGR_Fld_SetWidth(fd, 254);
        OGRErr e = OGR_L_CreateField(lyr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create field %s in %s: %s", fields[i].name,
                              path, io_gdal_msg());
            goto out;
        }
    }
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    feat = OGR_F_Create(defn);
    if ((st = gw_store_cursor_create(store, layer, &cur)) != GW_OK) goto out;
    if (gpkg) GDALDatasetStartTransaction(ds, FALSE);
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        for (size_t i = 0; i < nf; i++) {
            const gw_value *v = &r.values[i];
            int fi = (int)i; /* fields were created in canonical order */
            if (v->kind == GW_VAL_NULL) OGR_F_SetFieldNull(feat, fi);
            else if (fields[i].type == GW_FT_TIME && v->kind == GW_VAL_INT) {
                if (dt_native) {
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
            } else if (v->kind == GW_VAL_TEXT) OGR_F_SetFieldString(feat, fi, v->s ? v->s : "");
            else if (v->kind == GW_VAL_INT) OGR_F_SetFieldInteger64(feat, fi, v->i);
            else OGR_F_SetFieldDouble(feat, fi, v->d);
        }
        OGRGeometryH g = NULL;
        if (r.wkb && r.wkb_len) {
            if (OGR_G_CreateFromWkbEx(r.wkb, NULL, &g, r.wkb_len) != OGRERR_NONE) {
                st = gw_ctx_error(ctx, GW_ERR_INTERNAL,
                                  "export %s: unreadable stored geometry of '%s'", path,
                                  r.values[0].kind == GW_VAL_TEXT ? r.values[0].s : "?");
                goto out;
            }
            if (!is_point && gt == wkbMultiPolygon) g = OGR_G_ForceToMultiPolygon(g);
        }
        OGR_F_SetGeometryDirectly(feat, g);
        OGR_F_SetFID(feat, OGRNullFID);
        if (OGR_L_CreateFeature(lyr, feat) != OGRERR_NONE) {
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: cannot write '%s': %s", path,
                              r.values[0].kind == GW_VAL_TEXT ? r.values[0].s : "?", io_gdal_msg());
            goto out;
        }
        count++;
    }
    if (st != GW_ERR_NOT_FOUND) goto out;
    st = GW_OK;
    gw_ctx_clear_error(ctx);
    if (gpkg && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: commit failed: %s", path, io_gdal_msg());
out:
    gw_cursor_destroy(cur);
    if (feat) OGR_F_Destroy(feat);
    if (srs) OSRRelease(srs);
    if (ds) {
        CPLErrorReset();
        GDALClose(ds);
        if (!st && CPLGetLastErrorType() == CE_Failure)
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: %s", path, io_gdal_msg());
    }
    if (st && drv) remove_output(drv, path);
    if (!st && n) *n = count;
    io_gdal_leave();
    return st;
}
