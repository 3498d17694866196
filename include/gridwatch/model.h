/* model.h — the in-memory model: every layer of a store held in memory for the analysis and
 * tile code, in lon/lat, the dataset's metric CRS and Web Mercator, with spatial indexes.
 *
 * The model is a set of immutable, reference-counted per-layer snapshots (see
 * docs/decisions/0001-model-concurrency.md).  Readers on any thread take a gw_model_snapshot
 * with gw_model_acquire() and read it without locks until gw_model_release(); one writer thread
 * calls gw_model_refresh() after each commit, which builds the touched layers' next versions
 * off to the side (patching point layers for feature-level changes, reloading otherwise) and
 * swaps them in.  A snapshot never changes while it is held. */
#ifndef GRIDWATCH_MODEL_H
#define GRIDWATCH_MODEL_H

#include "gridwatch/common.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_model gw_model;
typedef struct gw_model_snapshot gw_model_snapshot;
typedef struct gw_layer_data gw_layer_data;

/* The three coordinate forms the model keeps for every geometry. */
typedef enum gw_model_crs {
    GW_MODEL_LONLAT = 0, /* EPSG:4326, x = lon, y = lat (as stored) */
    GW_MODEL_METRIC,     /* the dataset's metric CRS (gw_model_metric_srid()) */
    GW_MODEL_MERCATOR,   /* EPSG:3857 */
    GW_MODEL_CRS_COUNT
} gw_model_crs;

/* Load every layer of `store` into memory.  The store must not be inside an open write
 * transaction (GW_ERR_CONFLICT): the model only ever reads committed data.  When the store is
 * a file, the incidents layer is loaded on a second thread over its own read-only connection.
 * The metric CRS is the store's (gw_store_metric_srid), or, when none is recorded, the one
 * gw_crs_metric_for() picks for the centre of the data.  Caller frees with gw_model_close(). */
gw_status gw_model_open(gw_ctx *ctx, gw_store *store, gw_model **out);
/* The same for the layers in `layers` (1u << gw_layer) only: the others are NULL in every
 * snapshot until a refresh finds them changed and loads them whole.  For readers that never
 * touch those layers (`gridwatch tiles` of grids: the cameras, teams and police rooms). */
gw_status gw_model_open_layers(gw_ctx *ctx, gw_store *store, unsigned layers, gw_model **out);
/* Free the model.  Snapshots still held stay valid until released.  Accepts NULL. */
void gw_model_close(gw_model *model);

/* Bring the model up to the store's committed state: reads the change log after the model's
 * sequence number and replaces every layer it names.  A point layer whose new change-log rows
 * all name a feature (feature_id set: insert/update/delete/move/…) and are not too many
 * (at most 5 % of the layer's rows, or 20,000) is patched: its next version is derived from
 * the previous one plus the current store rows of those ids (milliseconds instead of a reload
 * of the whole layer).  Rows without a feature id (import, clear, bulk updates) and any change
 * to the grids reload the layer.  Every change of a layer's rows must be logged with the id of
 * the feature it touches, or as a bulk change.  Call from one writer thread at a time, after
 * gw_store_commit() (GW_ERR_CONFLICT while `store` has an open transaction).  On error the
 * model keeps its previous state.  *reloaded (may be NULL) receives a bit mask of the layers
 * replaced, patched or reloaded (1u << layer). */
gw_status gw_model_refresh(gw_ctx *ctx, gw_model *model, gw_store *store, unsigned *reloaded);

/* What one refresh did (bit masks of 1u << layer). */
typedef struct gw_model_refresh_info {
    unsigned replaced; /* layers with a new version (as gw_model_refresh's *reloaded) */
    unsigned patched;  /* of those, the ones derived from their previous version */
    int64_t seq;       /* the new snapshot's sequence number (0 when nothing changed) */
} gw_model_refresh_info;
/* gw_model_refresh, reporting which layers were patched rather than reloaded. */
gw_status gw_model_refresh_ex(gw_ctx *ctx, gw_model *model, gw_store *store,
                              gw_model_refresh_info *info);

/* EPSG code of the model's metric CRS. */
int gw_model_metric_srid(const gw_model *model);
/* How gw_model_open read the incidents: 0 on the calling thread, 1 on a thread of their own,
 * 2 in two halves by id on two threads (a large layer and two cores). */
int gw_model_incident_parts(const gw_model *model);

/* Take the current snapshot (never NULL, never blocks on a refresh beyond a pointer swap).
 * Caller releases with gw_model_release().  Thread-safe. */
gw_model_snapshot *gw_model_acquire(gw_model *model);
/* Release a snapshot; the last release of a replaced one frees it (GEOS objects are destroyed
 * with ctx's handle, so pass the calling thread's context).  Accepts NULL. */
void gw_model_release(gw_ctx *ctx, gw_model_snapshot *snap);
/* Take one more reference to a snapshot the caller holds (for state that outlives the call it
 * was given in, such as an incremental analysis keeping the version it last saw); released
 * with gw_model_release().  Returns snap.  Thread-safe. */
gw_model_snapshot *gw_snapshot_retain(gw_model_snapshot *snap);
/* The change-log sequence number the snapshot includes everything up to. */
int64_t gw_snapshot_seq(const gw_model_snapshot *snap);
/* The data of one layer (borrowed; valid while the snapshot is held); NULL for a bad layer. */
const gw_layer_data *gw_snapshot_layer(const gw_model_snapshot *snap, gw_layer layer);

/* --- layer data: everything here is read-only and safe to read from many threads --- */

gw_layer gw_layer_data_layer(const gw_layer_data *d);
/* Number of rows (grids: of the current published version), in the store's id order. */
size_t gw_layer_data_count(const gw_layer_data *d);
/* Sequence number of the change log when this layer was read. */
int64_t gw_layer_data_seq(const gw_layer_data *d);
/* Row of a feature id, or -1 when absent.  O(1) (hash table). */
ptrdiff_t gw_layer_data_find(const gw_layer_data *d, const char *id);
/* The feature id of a row (same as field 0); the store's rowid. */
const char *gw_layer_data_id(const gw_layer_data *d, size_t row);
int64_t gw_layer_data_fid(const gw_layer_data *d, size_t row);

/* A field value of a row, field index in gw_layer_fields() order (text borrowed from the
 * layer).  GW_FT_TIME fields come back as GW_VAL_INT Unix seconds.  GW_VAL_NULL for NULL or
 * an out-of-range row/field. */
gw_value gw_layer_data_value(const gw_layer_data *d, size_t row, int field);
/* The text of a GW_FT_TEXT field, NULL when NULL (or not a text field). */
const char *gw_layer_data_text(const gw_layer_data *d, size_t row, int field);
/* Whole columns, for scans: int64 values of a GW_FT_INT/GW_FT_TIME field, double values of a
 * GW_FT_REAL field (NULL when the field has another type); nulls[row] is 1 where the value is
 * NULL (the value slot then holds 0). */
const int64_t *gw_layer_data_ints(const gw_layer_data *d, int field);
const double *gw_layer_data_reals(const gw_layer_data *d, int field);
const uint8_t *gw_layer_data_nulls(const gw_layer_data *d, int field);

/* Point layers: the coordinate arrays (count entries each) in one of the three forms; NULL for
 * the grids layer. */
const double *gw_layer_data_x(const gw_layer_data *d, gw_model_crs crs);
const double *gw_layer_data_y(const gw_layer_data *d, gw_model_crs crs);

/* Cameras: per row, which = 0 the meridian convergence of the metric CRS at the camera in
 * degrees (grid bearing = true bearing - convergence) and which = 1 the point scale factor
 * (metric length = ground length * scale), from PROJ (gw_crs_factors_at): what draws a
 * camera's view, whose azimuth is a true bearing and range a ground distance, in the metric
 * CRS.  NULL for other layers (and for an empty layer). */
const double *gw_layer_data_view_factors(const gw_layer_data *d, int which);

/* Grids: the geometry of a row in one of the three forms (a Polygon or MultiPolygon; NULL for
 * point layers).  Only const GEOS operations may be used on it, from any thread.  The prepared
 * form (metric) has its point locator built at load, so point predicates (contains, covers,
 * intersects with a Point) are safe from many threads; for other prepared predicates prepare
 * your own copy with GEOSPrepare_r in your thread. */
const GEOSGeometry *gw_layer_data_geom(const gw_layer_data *d, size_t row, gw_model_crs crs);
const GEOSPreparedGeometry *gw_layer_data_prepared(const gw_layer_data *d, size_t row);
/* Grids: the STRtree of the metric geometries, already built (so queries only read it).  Its
 * items are rows encoded with gw_model_tree_row().  Query it with GEOSSTRtree_query_r /
 * GEOSSTRtree_nearest_generic_r only; never insert or remove.  NULL for point layers. */
GEOSSTRtree *gw_layer_data_tree(const gw_layer_data *d);
static inline size_t gw_model_tree_row(const void *item) { return (size_t)(uintptr_t)item - 1; }

/* Grids: the row of the grid covering metric point (x, y) (boundary points count; the lowest
 * row wins on a shared edge), or -1 in *row.  Uses the STRtree and the prepared geometries;
 * safe from many threads.  GW_ERR_ARG for a point layer; GW_ERR_GEOMETRY if GEOS fails. */
gw_status gw_layer_data_grid_at(gw_ctx *ctx, const gw_layer_data *d, double x, double y,
                                ptrdiff_t *row);

/* Point layers: visit the rows whose metric point lies inside `bbox` (metric, inclusive) using
 * the layer's packed grid index.  `fn` returns nonzero to stop early.  No allocation. */
typedef int (*gw_model_visit_fn)(void *user, size_t row);
void gw_layer_data_query_points(const gw_layer_data *d, const gw_bbox *bbox, gw_model_visit_fn fn,
                                void *user);
/* Point layers: up to k rows nearest to metric (x, y), nearest first, that pass `accept`
 * (NULL = every row), within max_dist metres (<= 0 = unlimited).  rows/dists have room for
 * k entries (dists may be NULL when k <= 64); *n receives how many were found (distances in
 * metres, ascending).  No allocation. */
typedef int (*gw_model_accept_fn)(void *user, size_t row);
void gw_layer_data_nearest(const gw_layer_data *d, double x, double y, size_t k, double max_dist,
                           gw_model_accept_fn accept, void *user, size_t *rows, double *dists,
                           size_t *n);

/* Point layers: the rows of `next`, a later version of the same layer as `prev` (e.g. of two
 * snapshots), that hold a feature of `prev` unchanged as far as the caller looks — same id and
 * fid, same metric coordinates and equal values of the fields whose bit (1u << field index) is
 * set in `fields` (UINT32_MAX: every field): map[j] is that row of prev, or -1 for a row that is
 * new or changed.  A merge by id (both are in id order), O(rows), no allocation; versions that
 * share their text (a patched layer) compare text by offset.  *changed (may be NULL) receives
 * the rows of next mapped to -1 plus the rows of prev no row maps to.  GW_ERR_RANGE (map then
 * undefined) when that number would exceed `limit` — the caller is better off recomputing from
 * scratch — and GW_ERR_ARG when either is not a point layer or they are of different layers.
 * map has gw_layer_data_count(next) entries. */
gw_status gw_layer_data_match(gw_ctx *ctx, const gw_layer_data *prev, const gw_layer_data *next,
                              uint32_t fields, size_t limit, int32_t *map, size_t *changed);

/* Point layers: when `next` was patched straight from `prev` (a model refresh after a few
 * writes) and no row was added or removed, 1 with rows[0 .. *n) the rows rewritten from the
 * store, ascending — row numbers are the same in both versions and every other row is a copy
 * — if there are at most `cap` of them.  0 otherwise (another lineage, rows added or removed,
 * or more than cap rewritten): the caller compares the layers (gw_layer_data_match).  O(*n). */
int gw_layer_data_rewritten(const gw_layer_data *prev, const gw_layer_data *next, size_t *rows,
                            size_t cap, size_t *n);

/* Point layers: what the store's feature query (store_features.h) would select from this
 * version, without the store.  *matched receives how many rows pass `f` (its bbox as the store
 * tests it: lon and lat within the box, edges included; its property equalities), and
 * rows[0..*n) the layer rows of the page `offset`, `limit` of them in storage (fid) order, as
 * gw_store_features_open orders it; rows has room for `limit` entries (limit <= 0: count
 * only).  O(rows of the layer).  GW_ERR_UNSUPPORTED for what only the store answers exactly:
 * the grids layer, a time window (stored text is compared there), given ids, or a property
 * filter on a field that is neither text nor integer; GW_ERR_NOMEM. */
struct gw_feature_filter;
gw_status gw_layer_data_select(gw_ctx *ctx, const gw_layer_data *d,
                               const struct gw_feature_filter *f, int64_t offset, int64_t limit,
                               size_t *rows, size_t *n, int64_t *matched);

#ifdef __cplusplus
}
#endif
#endif
