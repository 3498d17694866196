/* tilemath.c — XYZ tile arithmetic on the spherical Web Mercator pyramid.
 *
 * Every tile route starts here: the z/x/y parser decides 400 (malformed) versus 404 (outside
 * the pyramid), and the bounds feed the MVT encoder's clip box and the cache's invalidation. */
#include "gridwatch/tile.h"

#include <math.h>

#define R_EARTH 6378137.0

/* Parse one decimal piece [s, end) into *v; 0 on success, -1 when malformed. */
static int parse_u32(const char *s, const char *end, uint32_t *v)
{
    if (s == end || end - s > 10) return -1;
    uint64_t acc = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        acc = acc * 10 + (uint64_t)(*p - '0');
    }
    if (acc > UINT32_MAX) return -1;
    *v = (uint32_t)acc;
    return 0;
}

gw_status gw_tile_parse(gw_ctx *ctx, const char *s, size_t len, gw_tile_id *out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_tile_parse: out is NULL");
    out->z = out->x = out->y = 0;
    if (!s) return gw_ctx_error(ctx, GW_ERR_ARG, "tile path is NULL");
    const char *end = s + len, *piece = s;
    uint32_t v[3];
    static const char *const names[3] = {"z", "x", "y"};
    for (int i = 0; i < 3; i++) {
        const char *stop = piece;
        while (stop < end && *stop != '/') stop++;
        if (i < 2 && stop == end)
            return gw_ctx_error(ctx, GW_ERR_ARG, "tile path '%.*s' is not z/x/y", (int)len, s);
        if (i == 2 && stop != end)
            return gw_ctx_error(ctx, GW_ERR_ARG, "tile path '%.*s' has junk after y", (int)len, s);
        if (parse_u32(piece, stop, &v[i]) != 0)
            return gw_ctx_error(ctx, GW_ERR_ARG,
                                "tile %s '%.*s' in '%.*s' is not a non-negative integer", names[i],
                                (int)(stop - piece), piece, (int)len, s);
        piece = stop + 1;
    }
    gw_tile_id t = {v[0], v[1], v[2]};
    gw_status st = gw_tile_check(ctx, t);
    if (st != GW_OK) return st;
    *out = t;
    return GW_OK;
}

gw_status gw_tile_check(gw_ctx *ctx, gw_tile_id t)
{
    if (t.z > GW_TILE_MAX_ZOOM)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "tile zoom %u is above the maximum %d", t.z,
                            GW_TILE_MAX_ZOOM);
    uint32_t n = 1u << t.z;
    if (t.x >= n || t.y >= n)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "tile %u/%u/%u is outside the pyramid (x, y < %u)",
                            t.z, t.x, t.y, n);
    return GW_OK;
}

gw_bbox gw_tile_bounds(gw_tile_id t)
{
    double size = 2.0 * GW_MERC_MAX / (double)(1u << t.z);
    gw_bbox b;
    b.minx = -GW_MERC_MAX + size * t.x;
    b.maxx = -GW_MERC_MAX + size * (t.x + 1);
    b.maxy = GW_MERC_MAX - size * t.y;
    b.miny = GW_MERC_MAX - size * (t.y + 1);
    return b;
}

gw_bbox gw_tile_bounds_buffered(gw_tile_id t, uint32_t extent, uint32_t buffer)
{
    gw_bbox b = gw_tile_bounds(t);
    double pad = gw_tile_unit_size(t.z, extent ? extent : GW_TILE_EXTENT) * buffer;
    b.minx -= pad;
    b.miny -= pad;
    b.maxx += pad;
    b.maxy += pad;
    return b;
}

gw_bbox gw_tile_bounds_lonlat(gw_tile_id t)
{
    gw_bbox m = gw_tile_bounds(t), b;
    gw_tile_merc_to_lonlat(m.minx, m.miny, &b.minx, &b.miny);
    gw_tile_merc_to_lonlat(m.maxx, m.maxy, &b.maxx, &b.maxy);
    return b;
}

double gw_tile_unit_size(uint32_t z, uint32_t extent)
{
    if (extent == 0) extent = GW_TILE_EXTENT;
    return 2.0 * GW_MERC_MAX /
           ((double)(1u << (z > GW_TILE_MAX_ZOOM ? GW_TILE_MAX_ZOOM : z)) * (double)extent);
}

void gw_tile_lonlat_to_merc(double lon, double lat, double *mx, double *my)
{
    if (lat > GW_MERC_MAX_LAT) lat = GW_MERC_MAX_LAT;
    if (lat < -GW_MERC_MAX_LAT) lat = -GW_MERC_MAX_LAT;
    *mx = lon * (M_PI / 180.0) * R_EARTH;
    *my = log(tan(M_PI / 4.0 + lat * (M_PI / 360.0))) * R_EARTH;
}

void gw_tile_merc_to_lonlat(double mx, double my, double *lon, double *lat)
{
    *lon = mx / R_EARTH * (180.0 / M_PI);
    *lat = (2.0 * atan(exp(my / R_EARTH)) - M_PI / 2.0) * (180.0 / M_PI);
}

gw_status gw_tile_from_merc(gw_ctx *ctx, double mx, double my, uint32_t z, gw_tile_id *out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_tile_from_merc: out is NULL");
    if (z > GW_TILE_MAX_ZOOM)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "zoom %u is above the maximum %d", z,
                            GW_TILE_MAX_ZOOM);
    if (!isfinite(mx) || !isfinite(my))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "point (%g, %g) is not finite", mx, my);
    uint32_t n = 1u << z;
    double fx = (mx + GW_MERC_MAX) / (2.0 * GW_MERC_MAX) * n;
    double fy = (GW_MERC_MAX - my) / (2.0 * GW_MERC_MAX) * n;
    double cx = floor(fx), cy = floor(fy);
    if (cx < 0) cx = 0;
    if (cy < 0) cy = 0;
    if (cx > n - 1) cx = n - 1;
    if (cy > n - 1) cy = n - 1;
    out->z = z;
    out->x = (uint32_t)cx;
    out->y = (uint32_t)cy;
    return GW_OK;
}

gw_status gw_tile_from_lonlat(gw_ctx *ctx, double lon, double lat, uint32_t z, gw_tile_id *out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_tile_from_lonlat: out is NULL");
    if (!isfinite(lon) || !isfinite(lat) || fabs(lon) > 180.0 || fabs(lat) > 90.0)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "lon/lat (%g, %g) is outside [-180,180]x[-90,90]",
                            lon, lat);
    double mx, my;
    gw_tile_lonlat_to_merc(lon, lat, &mx, &my);
    return gw_tile_from_merc(ctx, mx, my, z, out);
}
