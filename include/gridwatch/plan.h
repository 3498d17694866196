/* plan.h — grid planning: drafts of the grid set, edits that keep the tiling whole, validation,
 * workload balance, publishing a draft as a new grid version and rolling back.
 *
 * A draft is a copy-on-write overlay over the published version it was created from: it stores
 * only the grids it changed (upserts) or removed (deletes).  Publishing writes the draft's whole
 * grid set as a new row set of the grids table with the next version number, points meta
 * 'grid_version' at it, re-resolves incidents' `grid` where grids changed, logs the changes and
 * audits, in one transaction.  Rollback to version n publishes a copy of n's rows (byte for
 * byte) as a new version, so versions only ever go up and history stays append-only.
 *
 * Topology (splitting, merging, the overlay in validation) runs on the stored EPSG:4326
 * coordinates, so that boundaries an edit does not touch keep their exact vertices (a
 * round trip through the metric CRS would move them by ~1e-9 m and open slivers against the
 * neighbours); areas, lengths and tolerances are measured in the dataset's metric CRS.
 *
 * Every function takes a read-write store with no open transaction (except the read-only
 * queries: list, get, diff, validate, balance, versions) and puts its message on
 * gw_store_ctx(store).  `who` is the person or token name recorded in the audit log. */
#ifndef GRIDWATCH_PLAN_H
#define GRIDWATCH_PLAN_H

#include "gridwatch/common.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_plan_draft {
    int64_t id;
    char name[128];
    int64_t base_version; /* the published version the draft overlays */
    char created_by[128];
    char created_at[32];
    char updated_at[32];
    int64_t edits;             /* edits applied */
    int64_t changed;           /* grids upserted or deleted relative to the base */
    char status[16];           /* "open" or "published" */
    int64_t published_version; /* 0 unless published */
} gw_plan_draft;

/* Create an empty draft over the current published version; *id receives its id.  Records the
 * jurisdiction outline (the union of the published grids) the first time.  Audited. */
gw_status gw_plan_draft_create(gw_store *store, const char *name, const char *who, int64_t *id);
/* Every draft, newest first.  Caller frees *out with free(). */
gw_status gw_plan_draft_list(gw_store *store, gw_plan_draft **out, size_t *n);
/* One draft; GW_ERR_NOT_FOUND when there is none with this id. */
gw_status gw_plan_draft_get(gw_store *store, int64_t id, gw_plan_draft *out);
/* Delete a draft and its changes.  Audited. */
gw_status gw_plan_draft_delete(gw_store *store, int64_t id, const char *who);
/* The draft against its base as JSON text {"draft":…,"base_version":…,"added":[ids],
 * "changed":[ids],"deleted":[ids]}.  Caller frees *json with free(). */
gw_status gw_plan_draft_diff(gw_store *store, int64_t id, char **json);

/* Apply one edit to a draft (one transaction; concurrent edits on a draft are serialised by
 * the write lock).  The edit is JSON:
 *   {"op":"split","grid":ID,"line":LineString[,"new_id":ID]}  — the grid falls in exactly two;
 *       the piece on the larger side keeps the id, population and households split by area
 *   {"op":"merge","grids":[A,B,…]}  — adjacent grids into A (population and households summed)
 *   {"op":"move_boundary","grids":[A,B],"line":LineString}  — the line becomes A and B's new
 *       shared boundary; it must cross their union from one side to the other
 *   {"op":"reassign","from":A,"to":B,"area":Polygon}  — the part of A inside the area joins B
 *   {"op":"attributes","grid":ID,"properties":{…}}  — grid fields other than id
 * Geometries are GeoJSON in EPSG:4326.  An edit that would break the tiling (a line that does
 * not cut, grids that are not neighbours, a grid left empty or in several parts) is refused
 * with GW_ERR_GEOMETRY and the reason; GW_ERR_NOT_FOUND for an unknown draft or grid,
 * GW_ERR_FORMAT / GW_ERR_ARG for a malformed edit, GW_ERR_CONFLICT for a published draft.
 * Where a line crosses a boundary shared with a grid outside the edit, that grid receives the
 * crossing point as a vertex too (so both sides stay identical) and is listed as changed.
 * *result (may be NULL) receives JSON {"op":…,"changed":[ids],"deleted":[ids],"edits":n};
 * caller frees it with free().  Audited. */
gw_status gw_plan_edit(gw_store *store, int64_t draft, const char *json, size_t len,
                       const char *who, char **result);

/* A caller's check of a draft inside a write's transaction (the draft as the write leaves it, read
 * through `store`): nonzero refuses the write, which is rolled back and returns GW_ERR_CONFLICT
 * "refused by the caller's check" (the caller, knowing why, answers for it).  The server keeps
 * a scoped planner's edits and publishes inside its jurisdiction so. */
typedef int (*gw_plan_check_fn)(void *user, gw_store *store, int64_t draft);
/* gw_plan_edit with `check` (may be NULL) called after the edit is applied, before the commit. */
gw_status gw_plan_edit_checked(gw_store *store, int64_t draft, const char *json, size_t len,
                               const char *who, gw_plan_check_fn check, void *check_user,
                               char **result);

/* Replace a draft's whole grid set by a layout from a GIS file (any GDAL vector source, fields
 * mapped by canonical names), e.g. a new layout drawn elsewhere: validation then says what is
 * wrong with it.  *n receives the grids read.  Audited. */
gw_status gw_plan_draft_import(gw_store *store, int64_t draft, const char *path, const char *who,
                               size_t *n);
/* The same with a field mapping "id=EntityHandle,name=Text,…" (canonical=source, as `gridwatch
 * import --map`; NULL = by name) — a DXF has no attribute fields, so it needs one (id=FID
 * numbers the features).  A .zip is unpacked (the first Shapefile, GeoPackage, GeoJSON or DXF
 * in it); a DXF's closed polylines are read as polygons. */
gw_status gw_plan_draft_import_mapped(gw_store *store, int64_t draft, const char *path,
                                      const char *map, const char *who, size_t *n);
/* The same for a file a client uploaded: it is data, not instructions, so it is opened only
 * with gw_io_upload_drivers (no VRT, no SQL, no reference to another file). */
gw_status gw_plan_draft_import_upload(gw_store *store, int64_t draft, const char *path,
                                      const char *map, const char *who, size_t *n);

/* Publish a draft as the next grid version (see the top of this file).  GW_ERR_CONFLICT when
 * the draft is already published or another version was published since the draft was made;
 * GW_ERR_GEOMETRY when the draft does not validate and tiles worse than the published version
 * (more invalid grids, or more overlap, gap or outside area; force = 1 publishes anyway).
 * *version (may be NULL) receives the new version, *seq (may be NULL) the change-log seq. */
gw_status gw_plan_publish(gw_store *store, int64_t draft, const char *who, int force,
                          int64_t *version, int64_t *seq);
/* gw_plan_publish with `check` (may be NULL) called under the write lock on the draft about to
 * be published, before anything is written. */
gw_status gw_plan_publish_checked(gw_store *store, int64_t draft, const char *who, int force,
                                  gw_plan_check_fn check, void *check_user, int64_t *version,
                                  int64_t *seq);
/* Publish a copy of version `version` as the next version.  Same outputs as publish. */
gw_status gw_plan_rollback(gw_store *store, int64_t version, const char *who, int64_t *new_version,
                           int64_t *seq);
/* The versions as JSON text [{"version":…,"name":…,"status":…,"created_at":…,"created_by":…,
 * "published_at":…,"grids":n,"current":bool},…].  Caller frees *json with free(). */
gw_status gw_plan_versions(gw_store *store, char **json);

/* Validation thresholds (metric).  Zero fields take the defaults. */
typedef struct gw_plan_validate_opts {
    double tol_m2;      /* overlaps/gaps/outside pieces at or under this are ignored; 1e-6 */
    double min_area_m2; /* slivers: grids under this; 1000 m² */
    double max_area_m2; /* oversize: grids over this; 0 = no limit */
} gw_plan_validate_opts;

/* A validation report.  Free with gw_plan_report_free(). */
typedef struct gw_plan_report {
    size_t grids;
    size_t invalid, overlaps, gaps, outside, multipart, slivers, oversize;
    double overlap_m2, gap_m2, outside_m2; /* totals */
    double grids_m2, union_m2, jurisdiction_m2;
    int tiles; /* 1 when there are no invalid grids, overlaps, gaps or outside pieces */
    double seconds;
    char *geojson; /* FeatureCollection: one feature per issue (properties.issue = "invalid",
                      "overlap", "gap", "outside", "multipart", "sliver", "oversize"), lon/lat;
                      members "summary" with the counts above */
} gw_plan_report;
void gw_plan_report_free(gw_plan_report *r);

/* Validate a draft / a published (or archived) version.  opts may be NULL.  Gaps and pieces
 * outside are the jurisdiction minus the union and back, snap-rounded to a 1e-9° (≈ 0.1 mm)
 * grid: rounding-level offsets of a cut's new vertices along the outline are not gaps. */
gw_status gw_plan_validate_draft(gw_store *store, int64_t draft, const gw_plan_validate_opts *opts,
                                 gw_plan_report *out);
gw_status gw_plan_validate_version(gw_store *store, int64_t version,
                                   const gw_plan_validate_opts *opts, gw_plan_report *out);

/* Workload and balance of a draft beside its base version, as JSON text:
 * {"draft":id,"base_version":n,"window":{"from","to"},"camera_coverage":{"source","stored",
 * "computed"},"draft_layout":{"count","grids":[{id, area_km2, population, households,
 * incidents, incidents_by_category, compactness, camera_coverage, room_distance_m, reach_3m,
 * reach_5m, reach_10m}],
 * "spread":{"<measure>":{"mean","cv","max_over_mean"}}},"base_layout":{…the same…}}.
 * Compactness is Polsby–Popper 4πA/P² in the metric CRS.
 * Incidents are counted per grid of the layout (point in polygon) over the last 365 days of the
 * incidents layer.
 * camera_coverage is the coverage module's ratio (coverage.h): area(grid ∩ ⋃ views) /
 * area(grid) in metric, views from gw_coverage_sector for the cameras that have one.  For
 * the base's grids it is read from the stored coverage table when that is current (the base
 * is the published version and no grid or camera change was logged after the coverage run),
 * otherwise computed here; the draft's changed grids are always computed, its untouched ones
 * share the base's figure.  room_distance_m is metres from the grid's metric centroid to the
 * nearest police room (null when there is none).  reach_3m, reach_5m, reach_10m are the
 * shares of the grid a police room reaches by road within 3, 5, 10 minutes (reach.h; the road
 * graph built from the store's roads; null, and left out of the spread, when it has none).
 * cv is the population standard deviation over the mean.  Caller frees *json with free(). */
gw_status gw_plan_balance(gw_store *store, int64_t draft, char **json);

/* ---- layout suggestion (geo/plan_suggest.c) ---------------------------------------------- */

/* What a suggestion evens out and when it stops.  target is "incidents" (incidents of the
 * balance window per grid) or "population".  Stops when the target's coefficient of variation
 * is at or under max_cv (>= 0), when no edit lowers it, or after max_edits edits (1..100000).
 * min_compactness is the Polsby–Popper floor for merged grids and split pieces (0 = 0.2). */
typedef struct gw_plan_suggest_opts {
    const char *target;
    double max_cv;
    int max_edits;
    double min_compactness;
    const char *who; /* for the audit log */
} gw_plan_suggest_opts;

/* Make a NEW draft "<name> – suggestion" from `draft` (which is left unchanged) and edit it
 * through gw_plan_edit() (every edit keeps the tiling whole and is audited): split the heaviest
 * grids, merge the lightest with neighbours, until the spread is reached.  *json_out receives
 * {"draft":new,"base_draft":draft,"target":…,"max_cv":…,"cv_before":…,"cv_after":…,
 * "grids_before":n,"grids_after":n,"stopped":"target"|"no edit helps"|"max_edits",
 * "seconds":…,"edits":[{"op":"split","grid":…,"into":[…],"loads":[…],"line":LineString,
 * "reason":…},{"op":"merge","grids":[…],"into":…,"load":…,"reason":…},…]} — the edits in the
 * order made, enough to replay them on a copy of `draft`; caller frees it with free().
 * GW_ERR_ARG for an unknown target, GW_ERR_RANGE for max_cv / max_edits out of range,
 * GW_ERR_NOT_FOUND for an unknown draft, GW_ERR_CONFLICT when the draft is not based on the
 * published version.  On a failure after the new draft was made, it is deleted again.
 * Long: each edit is one gw_plan_edit() transaction (~0.15 s CPU on the scale-1 city). */
gw_status gw_plan_suggest(gw_store *store, int64_t draft, const gw_plan_suggest_opts *opts,
                          char **json_out);

/* A draft's effective grids (the base version's, overlaid by the draft's own rows) as GeoJSON
 * text for a map: {"type":"FeatureCollection","draft":id,"base_version":n,"features":[…],
 * "numberReturned":k}, each feature with id, the grid fields, "changed" (true for grids the
 * draft edited or added) and "area_m2" (ellipsoidal), in id order, lon/lat.  bbox (may be NULL:
 * all grids) keeps the grids that intersect it; changed_only = 1 keeps only the draft's own
 * grids.  GW_ERR_NOT_FOUND for an unknown draft.  Caller frees *json with free(). */
gw_status gw_plan_draft_grids(gw_store *store, int64_t draft, const gw_bbox *bbox, int changed_only,
                              char **json);

#ifdef __cplusplus
}
#endif
#endif
