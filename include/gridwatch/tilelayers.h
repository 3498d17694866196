/* tilelayers.h — what goes into a vector tile: the tile layers (the five data layers, the
 * camera view sectors, the coverage blind spots, and the composite "city"), attribute/time
 * filters, incident clustering at low zoom, the analysis fields the server lays on the grids
 * (coverage, Gi* hot spots), and rendering one tile from an in-memory model snapshot with the
 * MVT encoder.
 *
 * Used by the HTTP tile routes and by the offline MBTiles renderer; knows nothing about HTTP.
 * A gw_tile_source keeps per-snapshot lookup structures (Web Mercator envelopes of the grids, a
 * Mercator -> metric affine map with a proven error bound for the point indexes, extents) so a
 * tile touches only the features near it. */
#ifndef GRIDWATCH_TILELAYERS_H
#define GRIDWATCH_TILELAYERS_H

#include "gridwatch/common.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Tile layers: the first five equal gw_layer. */
typedef enum gw_tile_layer {
    GW_TL_GRIDS = GW_LAYER_GRIDS,
    GW_TL_POLICE_ROOMS = GW_LAYER_POLICE_ROOMS,
    GW_TL_CAMERAS = GW_LAYER_CAMERAS,
    GW_TL_TEAMS = GW_LAYER_TEAMS,
    GW_TL_INCIDENTS = GW_LAYER_INCIDENTS,
    GW_TL_CAMERA_VIEWS,     /* camera view sectors (polygons), from GW_TL_VIEWS_MINZOOM */
    GW_TL_BLIND_SPOTS,      /* coverage blind spots per grid (polygons), from GW_TL_BLIND_MINZOOM;
                         * drawn only when the render gets a blind-spot supplier (gw_tile_extras) */
    GW_TL_HOTSPOT_CLUSTERS, /* hot spot clusters (circles as polygons, clusters.h), drawn only
                             * when the render gets them (gw_tile_extras) */
    GW_TL_CITY,             /* composite: every layer above in one tile */
    GW_TL_COUNT
} gw_tile_layer;

#define GW_TL_VIEWS_MINZOOM 15
#define GW_TL_BLIND_MINZOOM 13
/* Grid features carry their text fields and the detailed analysis fields from this zoom on;
 * below it only id, coverage_ratio (to 0.01) and gi_bin; police rooms below it only id and
 * name, teams only id and status (a z8 tile holds thousands of them: docs/benchmarks.md). */
#define GW_TL_GRID_DETAIL_MINZOOM 10
/* A composite tile (city) has its cameras layer from this zoom on (the wall and the style draw
 * cameras from 13) and its incidents from GW_TL_CITY_INCIDENTS_MINZOOM (the wall and the style
 * take incidents from the incidents layer, filtered by time); the layers alone have cluster
 * points below.  Both cut the z8 city tile under 500 KB (docs/benchmarks.md). */
#define GW_TL_CITY_CAMERAS_MINZOOM 13
#define GW_TL_CITY_INCIDENTS_MINZOOM 10
/* A point layer with more points than this inside a tile is drawn there as cluster points
 * (incidents counted per category, cameras and teams per status). */
#define GW_TL_CLUSTER_MAX 4000
/* Mask of the encoded layers (GW_TL_GRIDS .. GW_TL_HOTSPOT_CLUSTERS). */
#define GW_TL_ALL_PARTS 0xffu

/* "grids" … "incidents", "camera_views", "blind_spots", "hotspot_clusters", "city"; NULL when
 * out of range. */
const char *gw_tile_layer_name(gw_tile_layer l);
/* GW_ERR_NOT_FOUND (with a message listing the layers) for an unknown name. */
gw_status gw_tile_layer_from_name(gw_ctx *ctx, const char *name, gw_tile_layer *out);
/* The encoded layers a tile layer is made of (1u << part): city = GW_TL_ALL_PARTS. */
uint32_t gw_tile_layer_parts(gw_tile_layer l);
/* Least zoom at which the layer has features (15 for camera_views, 13 for blind_spots, else 0). */
uint32_t gw_tile_layer_minzoom(gw_tile_layer l);
/* The same inside a composite (city) tile: GW_TL_CITY_CAMERAS_MINZOOM for cameras,
 * GW_TL_CITY_INCIDENTS_MINZOOM for incidents, else gw_tile_layer_minzoom(l). */
uint32_t gw_tile_layer_city_minzoom(gw_tile_layer l);

/* The properties a part's features carry, for TileJSON vector_layers: names[i] with TileJSON
 * types[i] ("String", "Number", "Boolean").  Returns the count (at most cap filled).  The grids'
 * analysis fields are listed although a tile has them only when the server supplies them. */
size_t gw_tile_layer_props(gw_tile_layer part, const char **names, const char **types, size_t cap);

/* Filters of a tile request: property equality (same names as the items API: the text and
 * integer fields of a layer) and a datetime window on the layer's time field (occurred_at,
 * updated_at).  In a composite tile each condition applies to the layers having that field;
 * camera_views take the cameras' fields.  Zero-initialise. */
#define GW_TILE_MAX_FILTERS 8
typedef struct gw_tile_filter {
    bool has_lo, has_hi;
    int64_t lo, hi; /* Unix seconds, inclusive */
    int n;
    struct {
        char name[32];
        char value[128];
    } prop[GW_TILE_MAX_FILTERS];
} gw_tile_filter;

/* Add `name=value` to f for a tile of the given parts.  Errors: GW_ERR_NOT_FOUND (no layer of
 * `parts` has a text/integer field `name`; the message lists the accepted names),
 * GW_ERR_FORMAT (an integer field and value not an integer), GW_ERR_RANGE (too many filters or
 * a value longer than 127 bytes). */
gw_status gw_tile_filter_add(gw_ctx *ctx, gw_tile_filter *f, uint32_t parts, const char *name,
                             const char *value);
/* The normalised filter as text, the cache key part: conditions sorted, "" for none
 * ("category=theft&datetime=1735689600/..&status=open").  Truncated to cap-1 bytes. */
void gw_tile_filter_key(const gw_tile_filter *f, char *buf, size_t cap);

typedef struct gw_tile_source gw_tile_source;

/* Create the per-snapshot lookup cache shared by all threads.  Caller frees with
 * gw_tile_source_destroy().  GW_ERR_NOMEM. */
gw_status gw_tile_source_create(gw_ctx *ctx, gw_tile_source **out);
/* Accepts NULL. */
void gw_tile_source_destroy(gw_tile_source *src);
/* Cluster points of unfiltered tiles come from a per-layer aggregate index (built on first
 * use, then derived from the previous one by the rows that changed; it holds the snapshot it
 * counts until the next version replaces it) when on (the default), else from a scan of the
 * tile's points, as filtered tiles always do.  Both give the same bytes. */
void gw_tile_source_set_aggregates(gw_tile_source *src, bool on);
/* How a layer's aggregate index was made so far: builds from scratch, updates from the
 * previous version, and the time of the last of either (ms). */
typedef struct gw_tile_agg_stats {
    uint64_t builds, updates;
    double last_ms;
} gw_tile_agg_stats;
void gw_tile_source_stats(gw_tile_source *src, gw_layer layer, gw_tile_agg_stats *out);

/* Analysis fields of the grids, one entry per row of a snapshot's grids layer, encoded on the
 * grid features as given (the supplier rounds them).  A group whose arrays are NULL is left
 * out; a NaN (or gi_bin GW_TILE_NO_BIN) leaves that one property out. */
#define GW_TILE_NO_BIN INT8_MIN
typedef struct gw_tile_grid_fields {
    int64_t grids_seq; /* gw_layer_data_seq of the grids layer the rows are for */
    size_t n;          /* its row count */
    /* coverage (coverage.h): coverage_ratio, covered_m2, cameras, room_reach */
    const double *coverage_ratio, *covered_m2, *room_reach;
    const int32_t *cameras;
    /* Gi* hot spots (hotspot.h): gi_z, gi_p (two-sided p, the "p" of /analysis/hotspots; the
     * class uses the FDR-adjusted q), gi_bin -3..3 (cold 99 % .. hot 99 %), gi_class
     * (gw_hotspot_class, as its name), gi_count (incidents counted) */
    const double *gi_z, *gi_p;
    const int8_t *gi_bin;
    const uint8_t *gi_class;
    const int32_t *gi_count;
    /* hot spot clusters (clusters.h): clusters (how many clusters touch the grid) and
     * cluster_rr (the highest relative risk among them; NaN where none) */
    const int32_t *clusters;
    const double *cluster_rr;
    /* response figures of all time (flow_stats.h; GET /analysis/response per grid), encoded from
     * GW_TL_GRID_DETAIL_MINZOOM on grids with incidents: resp_incidents, resp_open (not
     * closed), resp_overdue, resp_overdue_share, resp_escalation_rate and the median / p90
     * seconds from the report to accept, arrive and close (NaN: none reached) */
    const int32_t *resp_incidents, *resp_open, *resp_overdue;
    const double *resp_overdue_share, *resp_escalation_rate;
    const double *resp_accept_p50, *resp_accept_p90, *resp_arrive_p50, *resp_close_p50,
        *resp_close_p90;
    /* road reach (reach.h): reach_3m, reach_5m, reach_10m, the share of the grid a police room
     * reaches by road within 3, 5, 10 minutes (to 0.001), from GW_TL_GRID_DETAIL_MINZOOM */
    const double *reach_3m, *reach_5m, *reach_10m;
} gw_tile_grid_fields;

/* One grid's blind spots for the blind_spots layer: the grid's fid and id, the blind area in
 * m² (metric CRS) and the geometry in EPSG:3857 (borrowed for the call).  Nonzero stops. */
typedef int (*gw_tile_blind_cb)(void *user, int64_t fid, const char *grid_id, double blind_m2,
                                const GEOSGeometry *g);
/* A blind-spot supplier: calls cb for every grid with blind spots whose envelope meets bbox
 * (EPSG:3857). */
typedef gw_status (*gw_tile_blind_fn)(void *state, gw_ctx *ctx, const gw_bbox *bbox,
                                      gw_tile_blind_cb cb, void *user);

/* One hot spot cluster of the hotspot_clusters layer: its circle as a closed ring of n
 * positions in EPSG:3857 (ring[2k], ring[2k+1]), its Mercator envelope and the properties the
 * layer carries (rank is the feature id; the supplier rounds the numbers). */
typedef struct gw_tile_cluster {
    int rank;
    double incidents, expected, relative_risk, p;
    const char *trend;
    bool recent;
    const double *ring;
    size_t n;
    gw_bbox env;
} gw_tile_cluster;

/* What the server adds to the model's data (each may be NULL / absent). */
/* A row predicate over a layer of the snapshot being rendered: 1 to draw the row. */
typedef int (*gw_tile_keep_fn)(void *user, const gw_layer_data *d, size_t row);
typedef struct gw_tile_extras {
    const gw_tile_grid_fields *grid; /* used when grids_seq and n match the snapshot's grids */
    gw_tile_blind_fn blind;
    void *blind_state;
    const gw_tile_cluster *clusters; /* the hotspot_clusters layer (n_clusters, by rank) */
    size_t n_clusters;
    /* When set, only rows it keeps are drawn (a jurisdiction: the server's scope), in every
     * layer and in the incident clusters, blind spots through their grid; the city-wide
     * hotspot_clusters layer is then left out. */
    gw_tile_keep_fn keep;
    void *keep_user;
} gw_tile_extras;

/* Render tile t of the given parts from `snap` into `mvt` (reset to t first).  *bytes is owned
 * by the encoder (valid until its next reset); an empty tile has *len 0.  Incident points are
 * aggregated into cluster points (properties cluster=true, count, count_<category>; no feature
 * id) when more than GW_TL_CLUSTER_MAX fall inside the tile; camera views are drawn from
 * GW_TL_VIEWS_MINZOOM.  Feature ids are the store's rowids (fid); the text id is the property
 * "id".  Thread-safe (one mvt per thread).  Errors: GW_ERR_GEOMETRY, GW_ERR_NOMEM. */
gw_status gw_tile_render(gw_ctx *ctx, gw_tile_source *src, gw_mvt *mvt,
                         const gw_model_snapshot *snap, uint32_t parts, gw_tile_id t,
                         const gw_tile_filter *f, const uint8_t **bytes, size_t *len);
/* gw_tile_render with the server's extras (ex may be NULL): analysis fields on the grids and
 * the blind_spots layer (properties grid, blind_m2; feature id the grid's fid; a filter on
 * grid fields applies to it through the grid id). */
gw_status gw_tile_render_ex(gw_ctx *ctx, gw_tile_source *src, gw_mvt *mvt,
                            const gw_model_snapshot *snap, uint32_t parts, gw_tile_id t,
                            const gw_tile_filter *f, const gw_tile_extras *ex,
                            const uint8_t **bytes, size_t *len);

/* Lon/lat extent of the given parts in `snap`; GW_ERR_NOT_FOUND when they are all empty. */
gw_status gw_tile_extent(gw_ctx *ctx, gw_tile_source *src, const gw_model_snapshot *snap,
                         uint32_t parts, gw_bbox *out);

/* Largest camera view radius of `snap` in EPSG:3857 metres (range / cos(lat)), 0 when there
 * are no cameras: how far a camera change reaches into the camera_views tiles. */
double gw_tile_views_reach(gw_ctx *ctx, gw_tile_source *src, const gw_model_snapshot *snap);

#ifdef __cplusplus
}
#endif
#endif
