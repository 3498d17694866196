/* city_internal.h — the synthetic city's state, random streams and shapes, shared by city.c,
 * city_make.c and city_truth.c (city_ prefix; not installed). */
#ifndef GW_CITY_INTERNAL_H
#define GW_CITY_INTERNAL_H

#include "gridwatch/city.h"
#include "gridwatch/crs.h"

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

#define CITY_GRIDS 12864.0
#define CITY_ROOMS 1150.0
#define CITY_TEAMS 6136.0
#define CITY_CAMERAS 250000.0
#define CITY_INCIDENTS 1000000.0
#define CITY_POPULATION 10000000.0
#define CITY_M2 12.2e9  /* built-in region area, about Heze's 12,200 km2 */
#define CITY_LON 115.48 /* the built-in region's centre */
#define CITY_LAT 35.24
#define DEFAULT_YEAR 1735660800LL /* 2025-01-01T00:00+08:00 */
#define YEAR_S (365LL * 86400)
#define CHUNK 8192 /* points transformed and inserted per batch */

/* ---- deterministic RNG: xoshiro256** seeded by splitmix64, one stream per phase ---- */
typedef struct rng {
    uint64_t s[4];
} rng;

static inline uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline void rng_init(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return res;
}
static inline double rng_u(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static inline double rng_uni(rng *r, double a, double b) { return a + (b - a) * rng_u(r); }
static inline int rng_int(rng *r, int n) { return (int)(rng_u(r) * n); }
static inline double rng_normal(rng *r)
{
    double u = 1.0 - rng_u(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * rng_u(r));
}
/* Index into cumulative weights cum[0..n-1] (cum[n-1] = total) for u in [0,1). */
static inline size_t cum_pick(const double *cum, size_t n, double u)
{
    double v = u * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > v) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}
static inline int weights_pick(rng *r, const double *w, int n)
{
    double tot = 0;
    for (int i = 0; i < n; i++) tot += w[i];
    double v = rng_u(r) * tot;
    for (int i = 0; i < n; i++)
        if ((v -= w[i]) < 0) return i;
    return n - 1;
}

/* ---- the city being built ---- */
typedef struct ringset { /* every ring's vertices, for allocation-free point-in-polygon tests */
    double *x, *y;
    size_t np, capp;
    uint32_t *r0, *rn;
    size_t nr, capr;
} ringset;
typedef struct shape {
    uint32_t ring, nring;
    gw_bbox bb;
} shape;
typedef struct county {
    char name[64], code[24];
    GEOSGeometry *g;
    shape sh;
    double area;
    int town0, ntown;
} county;
typedef struct town {
    double x, y, w, sigma;
    int county;
    char name[32];
} town;
typedef struct grid {
    GEOSGeometry *g;
    GEOSGeometry *noded; /* g with its neighbours' vertices on its edges (see city_node_grids) */
    shape sh;
    double cx, cy, area, praw;
    int county, town, order;
    int64_t pop;
    char id[64], name[80];
    char village[48]; /* the village or community (city_make_villages) */
} grid;
typedef struct room {
    double x, y;
    int town;
    char name[64];
} room;
/* The time profiles of planted hotspots (docs/hotspots.md, "Ground truth of the synthetic city"). */
enum {
    CITY_STABLE,
    CITY_EMERGING,
    CITY_FADING,
    CITY_GROWING,
    CITY_SEASONAL,
    CITY_BURST,
    CITY_NPROFILE
};
typedef struct hotspot {
    double x, y, sigma; /* metric centre and Gaussian spread, m */
    double a, b;        /* profile days: onset (emerging); fade from a to b; burst over [a, b] */
    double w;           /* relative size */
    int cat, profile;
    long want;        /* incidents planned */
    long n;           /* incidents generated inside the region */
    long monthly[12]; /* of those, per twelfth of the year */
} hotspot;
typedef struct incident {
    double x, y;
    int64_t t;
    uint32_t seq;
    int32_t grid;
    uint8_t cat, sev, st;
} incident;

typedef struct city {
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    gw_store *store;
    const gw_city_opts *o;
    uint64_t seed; /* this prefecture's seed (every stream but the outline's, which is o->seed) */
    char pfx[16];  /* id prefix of a province's prefecture, "P03-"; "" for a single prefecture */
    char prefecture[64]; /* every grid's prefecture: "菏泽市", "P03 菏泽市" in a province */
    int placed; /* a province's prefecture: centred on (clon, clat) in its own metric CRS */
    double clon, clat;
    double rlon, rlat; /* the region's reference centre: where it was built, or the file's */
    int64_t year;
    int srid;
    gw_crs_transform *to_m, *to_ll;
    county *cty;
    int ncty;
    town *towns;
    int ntown;
    grid *grids;
    int ngrid;
    double *popcum, wsum;
    room *rooms;
    int nroom;
    hotspot *hs; /* the planted hotspots, for the ground truth */
    int nhs;
    long nincidents;
    ringset rs;
    double region_area;
    gw_bbox mbb, llbb;
    double cell; /* bucket index over grid bboxes: cell size, dims, CSR lists */
    int bx, by;
    uint32_t *bstart, *bitems;
    double cx[CHUNK], cy[CHUNK]; /* point batch being transformed */
} city;

gw_status city_geos_fail(city *c, const char *what);
int city_grow(void **p, size_t *cap, size_t need, size_t elem);
gw_status city_shape_from(city *c, const GEOSGeometry *g, shape *s);
int city_shape_contains(const ringset *rs, const shape *s, double px, double py);
GEOSGeometry *city_polygonal(GEOSContextHandle_t h, GEOSGeometry *g);
void city_inner_point(city *c, const GEOSGeometry *g, const shape *s, double *x, double *y);
void city_sample_in(const city *c, const shape *s, rng *r, double fx, double fy, double *x,
                    double *y);
int city_locate(const city *c, double x, double y);
gw_status city_make_towns(city *c, double scale);
gw_status city_make_grids(city *c, double scale);
/* Group each township's grids into villages (rural townships) or communities (街道) of about
 * 4-8 neighbouring grids, named per township; fills grid.village.  Own RNG stream (8). */
gw_status city_make_villages(city *c);
gw_status city_node_grids(city *c);
gw_status city_insert_grids(city *c);
gw_status city_make_rooms_teams(city *c, double scale);
gw_status city_make_cameras(city *c, double scale);
gw_status city_make_incidents(city *c, double scale);
/* The road network (city_roads.c): lattice roads, town streets, rivers with bridges. */
gw_status city_make_roads(city *c, double scale);

/* Progress of a phase, labelled with the prefecture in a province ("P03 grids"). */
void city_progress(const city *c, const char *what, double done, double total);

/* Hotspot time profiles (city_truth.c): draw a profile's parameters; its intensity in [0, 1] at
 * day d of the year; the window [*lo, *hi) outside which it is 0; names and expected trends. */
void city_profile_draw(hotspot *h, int profile, rng *r);
double city_profile_f(const hotspot *h, double d);
void city_profile_window(const hotspot *h, double *lo, double *hi);
const char *city_profile_name(int profile);
const char *city_profile_trend(int profile);
/* Split nhot incidents over the hotspots by weight, at least `least` each (largest remainder). */
void city_hotspot_quota(hotspot *hs, int nh, long nhot, long least);
/* The ground truth, gathered prefecture by prefecture: the hotspot features (ids prefixed with
 * the prefecture's), their metric x/y in the store's metric CRS `srid` (to_store, when a
 * prefecture was built in another CRS), and the incident totals. */
typedef struct city_truth {
    struct json_t *feats;
    int srid, prefectures;
    long nincidents, nhot;
} city_truth;
gw_status city_truth_add(city *c, city_truth *t, gw_crs_transform *to_store);
/* Write the gathered truth to a new temporary file beside `path`; *tmp receives its name (caller
 * frees, renames or unlinks it).  GW_ERR_IO or GW_ERR_NOMEM on failure (no file left). */
gw_status city_truth_write(gw_ctx *ctx, const gw_city_opts *o, int64_t year, city_truth *t,
                           const char *path, char **tmp);

#define NCAT 9
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Incident categories, in the order of the generator's weights. */
extern const char *const city_cat_names[NCAT];
/* The built-in region's counties (names and codes), in county order. */
extern const char *const city_county_names[9];
extern const char *const city_county_codes[9];

static inline gw_status city_nomem(city *c)
{
    return gw_ctx_error(c->ctx, GW_ERR_NOMEM, "city: out of memory");
}

#endif
