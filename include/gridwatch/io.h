/* io.h — import and export of layers through GDAL/OGR.
 *
 * Import reads any vector format GDAL reads (GeoJSON, GeoPackage, Shapefile, KML, CSV with
 * lon/lat columns, DXF), maps source fields onto the canonical ones, reprojects to EPSG:4326
 * (including GCJ-02 / BD-09), checks every geometry, and writes the layer in one transaction:
 * any refused row leaves the database exactly as it was.  Export writes GeoJSON (RFC 7946),
 * GeoPackage, Shapefile, CSV, KML or DXF, in any CRS import reads, Shapefile/CSV in any encoding. */
#ifndef GRIDWATCH_IO_H
#define GRIDWATCH_IO_H

#include "gridwatch/common.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_import_opts {
    const char *source_layer; /* layer inside the file; NULL = the first (the only) one */
    const char *
        srs; /* source CRS overriding the file's ("gcj02", "EPSG:4490" …); NULL = the file's, else EPSG:4326 */
    const char *
        map; /* "id=beat_num,name=NAME,…": canonical=source pairs; same-named fields map by themselves */
    const char *tz;        /* zone for times without an offset ("America/Chicago", "+08:00", "UTC");
                       NULL: the database's default zone (meta 'default_tz', set by gridwatch
                       init --tz), else such a time is refused (GW_ERR_FORMAT naming the row) */
    const char *lon_field; /* CSV: longitude column (default: 经度, longitude/long/lon/lng/x) */
    const char *lat_field; /* CSV: latitude column (default: 纬度, latitude/lat/y) */
    int make_valid;        /* repair invalid polygons with GEOSMakeValid instead of refusing them */
    int replace;           /* empty the layer first (in the same transaction) */
    int skip_bad_rows; /* skip rows with no/out-of-range geometry, counting them, instead of failing */
    /* The encoding of the file's text ("GB18030", "GBK", "Big5", "UTF-8"; any iconv name; an
     * unknown one is GW_ERR_ARG), converted to UTF-8 (a Shapefile through the driver's ENCODING
     * open option, over its .cpg; a CSV through iconv).  Bytes that do not decode, or a file that
     * is valid non-ASCII UTF-8 given another encoding, are GW_ERR_FORMAT naming the row.
     * NULL: a Shapefile with a .cpg (or a language driver id other than Latin-1) is read as it
     * says; a Shapefile without and a CSV are read as UTF-8 when their bytes are, else as
     * GB18030 (a superset of GBK), reported in gw_import_report.encoding_note; other formats'
     * text must be UTF-8. */
    const char *encoding;
    /* GDAL drivers the file may be opened with, NULL-terminated; NULL = every vector driver (a
     * local file the operator chose).  Uploads pass gw_io_upload_drivers. */
    const char *const *drivers;
} gw_import_opts;

/* The drivers an uploaded file may be read with: data formats only (GeoJSON, GeoPackage,
 * Shapefile, DXF, KML, CSV).  Formats that are instructions — VRT (which reads other files and
 * runs SQL), OGR SQLite/ SQL dialects, network and /vsi* indirections — are not among them. */
extern const char *const gw_io_upload_drivers[];

typedef struct gw_import_report {
    int64_t read;     /* source features read */
    int64_t imported; /* rows written */
    int64_t merged;   /* features merged into a multipart grid because they shared an id */
    int64_t repaired; /* polygons repaired (make_valid) */
    int64_t skipped;  /* rows skipped (skip_bad_rows) */
    int64_t swapped;  /* points that look like lat/lon swapped (reported, and refused) */
    double seconds;
    char encoding[32];       /* the encoding the text was read in when not plain UTF-8/ASCII */
    char encoding_note[200]; /* why, as one sentence for the user ("" when nothing to say) */
    char tz[64];             /* the zone applied to times without an offset ("" none) */
    int tz_from_db;          /* 1 when tz is the database's default zone (init --tz) */
    int64_t local_times;     /* times read without an offset, in tz */
} gw_import_report;

/* Import a file into a layer.  On any error nothing is written and the ctx carries one message
 * naming the row and the reason (GW_ERR_IO, GW_ERR_FORMAT, GW_ERR_NOT_FOUND for a missing layer
 * or field, GW_ERR_GEOMETRY with the GEOS reason and location, GW_ERR_RANGE for coordinates out
 * of range, GW_ERR_CRS, GW_ERR_CONFLICT for a duplicate id on a point layer).  report may be NULL. */
gw_status gw_io_import(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const gw_import_opts *opts, gw_import_report *report);

/* Import street centre lines into the road layer (store_roads.h, docs/roads.md) in one
 * transaction: OpenStreetMap PBF/XML (GDAL's OSM driver, its `lines` layer: the drivable
 * `highway` classes, `oneway`, `junction=roundabout`, `maxspeed` from other_tags) or any line
 * layer with opts->map naming id, name, class, oneway, speed fields.  opts->source_layer,
 * srs, map, replace and skip_bad_rows apply as for gw_io_import; one change-log row (layer
 * "roads").  Errors as gw_io_import's; GW_ERR_NOT_FOUND when the file holds no road. */
gw_status gw_io_import_roads(gw_ctx *ctx, gw_store *store, const char *path,
                             const gw_import_opts *opts, gw_import_report *report);

/* Export a layer with the defaults (EPSG:4326, UTF-8): gw_io_export_with with only a format. */
gw_status gw_io_export(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const char *format, int64_t *n);

typedef struct gw_export_opts {
    /* a GDAL driver name ("GeoJSON", "GPKG", "ESRI Shapefile", "CSV", "KML", "DXF") or NULL to
     * choose by the file's extension (.geojson/.json, .gpkg, .shp, .csv, .kml, .dxf) */
    const char *format;
    /* target CRS, as import's --srs reads it ("EPSG:4547", "4490", "gcj02", "bd09"); NULL =
     * EPSG:4326.  GCJ-02/BD-09 files carry no CRS (none describes them).  GeoJSON (RFC 7946) and
     * KML are lon/lat WGS84 by their specifications: another srs is GW_ERR_ARG (GeoJSON: unless
     * legacy_geojson) */
    const char *srs;
    /* text encoding of a Shapefile (written in its .cpg) or CSV: "UTF-8" (NULL), "GBK",
     * "GB18030", any iconv name.  A value with a character the encoding lacks is GW_ERR_FORMAT
     * naming the feature; other formats are UTF-8 by specification (GW_ERR_ARG) */
    const char *encoding;
    /* GeoJSON 2008 (a "crs" member, any srs) instead of RFC 7946 */
    int legacy_geojson;
} gw_export_opts;

/* Export a layer.  GeoJSON is RFC 7946 (no "crs" member, coordinates to 7 decimals, polygons
 * wound right-hand); DXF gets polygon outlines (closed polylines) and no attributes.  An
 * existing file is replaced; a failed export leaves none.  *n receives the feature count
 * written (may be NULL).  GW_ERR_UNSUPPORTED for an unknown extension or format. */
gw_status gw_io_export_with(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                            const gw_export_opts *opts, int64_t *n);

#ifdef __cplusplus
}
#endif
#endif
