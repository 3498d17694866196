/* tile.h — XYZ tile math on the spherical Web Mercator pyramid (EPSG:3857), z 0–22.
 *
 * Pure functions on plain values: z/x/y parsing for HTTP routes (GW_ERR_ARG = malformed -> 400,
 * GW_ERR_RANGE = well-formed but outside the pyramid -> 404), tile bounds in metres and lon/lat,
 * lon/lat -> tile, and the metres-per-tile-unit size the MVT encoder clips and simplifies with. */
#ifndef GRIDWATCH_TILE_H
#define GRIDWATCH_TILE_H

#include "gridwatch/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_TILE_MAX_ZOOM 22
#define GW_TILE_EXTENT 4096 /* MVT tile units across one tile */
#define GW_TILE_BUFFER 64   /* default buffer, in tile units, around a tile */
/* Half the width of the Web Mercator square: pi * 6378137 m. */
#define GW_MERC_MAX 20037508.342789244
/* Latitude where the Web Mercator square ends (atan(sinh(pi)) in degrees). */
#define GW_MERC_MAX_LAT 85.0511287798066

/* A tile: XYZ order, y counted from the top (north) row. */
typedef struct gw_tile_id {
    uint32_t z, x, y;
} gw_tile_id;

/* Parse "z/x/y" (exactly len bytes of s; no ".mvt" suffix, no sign, no spaces, decimal digits
 * only, at most 10 digits each).  Errors: GW_ERR_ARG for anything malformed (empty piece,
 * non-digit, sign, trailing junk, a number above 4294967295); GW_ERR_RANGE for z > 22 or
 * x/y >= 2^z.  On error *out is zeroed and the message names the offending piece. */
gw_status gw_tile_parse(gw_ctx *ctx, const char *s, size_t len, gw_tile_id *out);

/* GW_OK when t lies in the pyramid, else GW_ERR_RANGE with a message. */
gw_status gw_tile_check(gw_ctx *ctx, gw_tile_id t);

/* Bounds of a tile in EPSG:3857 metres (minx, miny = south-west corner).  t must be valid. */
gw_bbox gw_tile_bounds(gw_tile_id t);
/* Bounds expanded on every side by `buffer` tile units of a tile `extent` units wide
 * (gw_tile_bounds_buffered(t, 4096, 64) is the clip box of a tile with the default buffer). */
gw_bbox gw_tile_bounds_buffered(gw_tile_id t, uint32_t extent, uint32_t buffer);
/* Bounds of a tile in degrees (lon/lat, EPSG:4326 axis order lon-first). */
gw_bbox gw_tile_bounds_lonlat(gw_tile_id t);

/* Metres covered by one tile unit at zoom z for a tile `extent` units wide
 * (extent 256 gives the classic metres-per-pixel at the equator). */
double gw_tile_unit_size(uint32_t z, uint32_t extent);

/* The tile at zoom z containing (lon, lat).  Latitudes beyond +-85.0511 clamp to the edge row;
 * lon 180 falls in the last column.  GW_ERR_RANGE for z > 22 or non-finite / |lon| > 180 /
 * |lat| > 90 input. */
gw_status gw_tile_from_lonlat(gw_ctx *ctx, double lon, double lat, uint32_t z, gw_tile_id *out);
/* The tile at zoom z containing the 3857 point (mx, my); clamps to the pyramid edge.
 * GW_ERR_RANGE for z > 22 or non-finite input. */
gw_status gw_tile_from_merc(gw_ctx *ctx, double mx, double my, uint32_t z, gw_tile_id *out);

/* Spherical Web Mercator conversions (the EPSG:3857 formulas; no PROJ needed). */
void gw_tile_lonlat_to_merc(double lon, double lat, double *mx, double *my);
void gw_tile_merc_to_lonlat(double mx, double my, double *lon, double *lat);

#ifdef __cplusplus
}
#endif
#endif
