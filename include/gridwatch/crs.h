/* crs.h — coordinate reference systems: PROJ for EPSG systems, hand-coded GCJ-02 / BD-09.
 *
 * Data is stored in EPSG:4326, computed in a per-dataset metric CRS (a CGCS2000 3-degree
 * Gauss–Krüger zone inside China, UTM elsewhere) and tiled in EPSG:3857.  GCJ-02 and BD-09 are
 * the obfuscated offsets of Chinese web maps; they have no EPSG code and no PROJ definition, so
 * they are implemented here (the published forward formula, the inverse by iteration).
 * Coordinates are always passed in x = easting/longitude, y = northing/latitude order. */
#ifndef GRIDWATCH_CRS_H
#define GRIDWATCH_CRS_H

#include "gridwatch/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_crs_kind {
    GW_CRS_EPSG = 0, /* an EPSG code (4326, 4490, 4491–4554, 3857, 326xx …) */
    GW_CRS_GCJ02,    /* GCJ-02 lon/lat ("Mars" coordinates of Amap, Tencent, Google China) */
    GW_CRS_BD09      /* BD-09 lon/lat (Baidu) */
} gw_crs_kind;

typedef struct gw_crs {
    gw_crs_kind kind;
    int epsg; /* for GW_CRS_EPSG */
} gw_crs;

/* Parse "EPSG:4326", "4326", "CRS84", "OGC:CRS84", "http://www.opengis.net/def/crs/EPSG/0/4490",
 * "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "gcj02"/"GCJ-02", "bd09"/"BD-09".
 * GW_ERR_CRS (with a message naming the text) for anything else or an EPSG code PROJ does not know. */
gw_status gw_crs_parse(gw_ctx *ctx, const char *text, gw_crs *out);
/* Format as "EPSG:4326", "GCJ-02" or "BD-09" into buf. */
void gw_crs_format(gw_crs crs, char *buf, size_t cap);
/* 1 when the CRS is geographic (degrees) — 4326, 4490, GCJ-02, BD-09. */
int gw_crs_is_geographic(gw_ctx *ctx, gw_crs crs);

/* The metric CRS for a dataset centred at (lon, lat): the CGCS2000 3-degree Gauss–Krüger zone
 * (EPSG:4534–4554, central meridian nearest the centre) inside China's extent, else the WGS84
 * UTM zone (EPSG:326xx north / 327xx south). */
int gw_crs_metric_for(double lon, double lat);

/* The area of use PROJ's database gives for an EPSG CRS, in lon/lat (west may exceed east
 * across the antimeridian); 1 when known, 0 otherwise (GCJ-02, BD-09, an unknown code). */
int gw_crs_area_of_use(gw_ctx *ctx, gw_crs crs, gw_bbox *out);

/* A transformation between two CRSs.  Caller frees with gw_crs_transform_destroy().
 * Bound to the ctx it was created with (one thread). */
typedef struct gw_crs_transform gw_crs_transform;
gw_status gw_crs_transform_create(gw_ctx *ctx, gw_crs from, gw_crs to, gw_crs_transform **out);
void gw_crs_transform_destroy(gw_crs_transform *tr);
/* Transform n points in place.  GW_ERR_CRS if any point fails (then the arrays are unspecified). */
gw_status gw_crs_transform_points(gw_crs_transform *tr, double *x, double *y, size_t n);
/* As gw_crs_transform_points, and each point must transform back to where it was (within
 * 1e-7 of its magnitude): a point outside the area where the source CRS is defined (web
 * Mercator y = 1e15 lands on the pole, x = 1e15 wraps around the earth) is GW_ERR_RANGE
 * instead of a silently wrong place.  For the few points of a query, not for bulk data. */
gw_status gw_crs_transform_points_checked(gw_crs_transform *tr, double *x, double *y, size_t n);
/* Transform a GEOS geometry; returns a new geometry (caller frees with GEOSGeom_destroy_r), or
 * NULL with the error on the ctx. */
GEOSGeometry *gw_crs_transform_geom(gw_crs_transform *tr, const GEOSGeometry *g);

/* GCJ-02 and BD-09 conversions of one lon/lat point.  Points outside China are returned
 * unchanged by the GCJ-02 functions (as the published formula does).  The inverses iterate
 * until the round trip is within 1e-9 degrees (well under 0.01 m). */
void gw_gcj02_from_wgs84(double lon, double lat, double *olon, double *olat);
void gw_gcj02_to_wgs84(double lon, double lat, double *olon, double *olat);
void gw_bd09_from_gcj02(double lon, double lat, double *olon, double *olat);
void gw_bd09_to_gcj02(double lon, double lat, double *olon, double *olat);
void gw_bd09_from_wgs84(double lon, double lat, double *olon, double *olat);
void gw_bd09_to_wgs84(double lon, double lat, double *olon, double *olat);

/* Geodesic (WGS84 ellipsoid) distance in metres between two lon/lat points. */
double gw_geodesic_distance(double lon1, double lat1, double lon2, double lat2);

/* Geodesic (WGS84 ellipsoid) azimuth in degrees [0, 360), clockwise from true north, at
 * (lon1, lat1) towards (lon2, lat2) (GeographicLib's inverse problem); 0 for the same point,
 * NAN for coordinates that are not lon/lat. */
double gw_geodesic_azimuth(double lon1, double lat1, double lon2, double lat2);

/* Map-projection factors of a projected CRS (PROJ's proj_factors on its projection).  Bound
 * to the ctx it was created with (one thread).  Caller frees with gw_crs_factors_destroy().
 * GW_ERR_CRS for a CRS that is not a projected EPSG CRS with one projection step. */
typedef struct gw_crs_factors gw_crs_factors;
gw_status gw_crs_factors_create(gw_ctx *ctx, gw_crs crs, gw_crs_factors **out);
void gw_crs_factors_destroy(gw_crs_factors *f);
/* At lon/lat (degrees): the meridian convergence in degrees, the angle from true north to grid
 * north measured clockwise at that point — true bearing = grid bearing + convergence, so a
 * true azimuth is drawn at grid bearing (azimuth - convergence); positive east of the central
 * meridian in the northern hemisphere — and the point scale factor (projected length of a
 * short ground length / that length; the CRS is conformal).  On error *convergence = 0,
 * *scale = 1 and GW_ERR_RANGE (not a lon/lat) or GW_ERR_CRS. */
gw_status gw_crs_factors_at(gw_crs_factors *f, double lon, double lat, double *convergence,
                            double *scale);

#ifdef __cplusplus
}
#endif
#endif
