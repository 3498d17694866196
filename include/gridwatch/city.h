/* city.h — the synthetic city: a deterministic Heze-like prefecture for the demo, the tests
 * and the benchmarks.
 *
 * At scale 1: 12,864 grids tiling an irregular region without gaps or overlaps (denser in
 * towns), 250,000 cameras, 1,150 police rooms, 6,136 teams and 1,000,000 incidents over one
 * year, 25 % of them in about 40 compact planted hotspots (σ 60–250 m) with six time profiles:
 * stable, emerging, fading, growing, seasonal, burst.  Counts scale linearly with `scale` (hotspots
 * with its square root).  The same seed and scale give the same city, byte for byte in its values,
 * and the same ground truth of the planted hotspots (docs/hotspots.md).
 *
 * Every grid names its jurisdiction: prefecture (the city, "菏泽市"; with a region file the
 * file's base name; in a province "P03 菏泽市"), county, township, and a village (…村) or, in
 * a 街道, a community (…社区) grouping 4-8 neighbouring grids of its township (a few islands or
 * pockets fall outside that range). */
#ifndef GRIDWATCH_CITY_H
#define GRIDWATCH_CITY_H

#include "gridwatch/common.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_city_opts {
    double scale;       /* 1.0 = Heze-sized; must be > 0 and <= 4 */
    uint64_t seed;      /* RNG seed */
    const char *region; /* optional outline file (any GDAL vector; polygons in EPSG:4326, or
                          * county polygons, which become the top of the grid hierarchy); NULL =
                          * a built-in irregular region around 115.48 E, 35.24 N */
    int64_t year; /* first instant of the incident year, Unix seconds; 0 = 2025-01-01T00:00+08:00 */
    const char *truth; /* optional path of the ground truth of the planted hotspots (GeoJSON,
                        * docs/hotspots.md), written once the city has committed; NULL = none */
    int prefectures;   /* 0 or 1 = one prefecture (the city above); 2..GW_CITY_MAX_PREFECTURES =
                        * a province of that many prefectures, each a copy of the region's
                        * outline with its own contents (seed derived from `seed` and its
                        * number), side by side on a near-square lattice without touching.  Ids
                        * carry the prefecture ("P03-C000001", "P03-371702-001-0001"), as do
                        * the grids' county ("P03 牡丹区") and the truth's hotspot ids. */
} gw_city_opts;

#define GW_CITY_MAX_PREFECTURES 16

typedef struct gw_city_report {
    int64_t grids, police_rooms, cameras, teams, incidents;
    double region_km2;
    double seconds;
} gw_city_report;

/* Generate the city (or province) into an empty store (GW_ERR_CONFLICT when its layers are not empty), in one
 * transaction, and record the metric CRS.  Reports progress through the ctx.  With opts->truth the
 * ground truth goes to a temporary file beside it, renamed to opts->truth only after the commit:
 * a failed generation leaves no truth file (an existing one is left as it was).  GW_ERR_IO when
 * the truth cannot be written; if only the final rename fails the city stays committed. */
gw_status gw_city_generate(gw_ctx *ctx, gw_store *store, const gw_city_opts *opts,
                           gw_city_report *report);

#ifdef __cplusplus
}
#endif
#endif
