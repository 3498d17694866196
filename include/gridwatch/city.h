/* city.h — the synthetic city: a deterministic Heze-like prefecture for the demo, the tests
 * and the benchmarks.
 *
 * At scale 1: 12,864 grids tiling an irregular region without gaps or overlaps (denser in
 * towns), 250,000 cameras, 1,150 police rooms, 6,136 teams and 1,000,000 incidents over one
 * year, with hotspots that appear, grow and fade.  Counts scale linearly with `scale`.  The same
 * seed and scale give the same city, byte for byte in its values. */
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
} gw_city_opts;

typedef struct gw_city_report {
    int64_t grids, police_rooms, cameras, teams, incidents;
    double region_km2;
    double seconds;
} gw_city_report;

/* Generate the city into an empty store (GW_ERR_CONFLICT when its layers are not empty), in one
 * transaction, and record the metric CRS.  Reports progress through the ctx. */
gw_status gw_city_generate(gw_ctx *ctx, gw_store *store, const gw_city_opts *opts,
                           gw_city_report *report);

#ifdef __cplusplus
}
#endif
#endif
