/* edit.h — single-feature writes: insert, replace, patch and delete features of a layer from
 * GeoJSON, with the same geometry checks as import, in one transaction each, every changed
 * feature written to the change log.  The engine side of the HTTP write routes (no HTTP here).
 *
 * Input is GeoJSON text: a Feature, or (insert only) a FeatureCollection written as one
 * transaction — one refused feature and nothing is written.  Properties are the layer's
 * canonical fields (layer.h); an unknown property is refused by name.  Times are ISO 8601
 * strings.  The id comes from the feature's "id" member or properties.id (text or an integer;
 * both present must agree); a feature inserted without one gets a generated UUID (v4).
 * Incidents get their `grid` (the published grid containing the point) and, when the layer has
 * the field, their `police_room` (the nearest police room, geodesic metres) resolved on insert
 * and whenever their point moves, unless the feature gives the value itself.  Grid writes go to
 * the current published grid version.  Times filled in when not given: incidents.occurred_at
 * on insert and teams.updated_at on every write (the time of the write, UTC).
 *
 * Errors (message on gw_store_ctx(store)): GW_ERR_FORMAT malformed JSON or a bad time (with the
 * byte offset, gw_ctx_erroffset), GW_ERR_ARG an unknown property, a property of the wrong JSON
 * type or an id that contradicts the path, GW_ERR_GEOMETRY an unreadable, empty, invalid (GEOS
 * reason and location) or wrong-type geometry, GW_ERR_RANGE coordinates or values out of range
 * (with a lat/lon swap hint), GW_ERR_CRS a failed transformation, GW_ERR_NOT_FOUND no such id
 * (replace, patch, delete), GW_ERR_CONFLICT insert of an existing id, GW_ERR_DB. */
#ifndef GRIDWATCH_EDIT_H
#define GRIDWATCH_EDIT_H

#include "gridwatch/common.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_edit_opts {
    gw_crs crs; /* CRS of the input coordinates; a zeroed struct ({GW_CRS_EPSG, 0}) = EPSG:4326 */
    int axis_latlon; /* coordinates come in (lat, lon) / (northing, easting) order, as OGC API
                        Part 2 means for the EPSG:4326 and EPSG:4490 URIs */
    int layout;      /* 1: the caller owns the grid layout (a loader or test building a city) and
                        may add and reshape grids; 0 (the default, and every OGC write): a grid
                        boundary written here is GW_ERR_CONFLICT, as is every grid delete;
                        boundaries change in a plan draft, which keeps the grids tiling */
    /* When set: called inside the write's transaction, for each feature written (not for a
     * delete) once it is written and before the commit, with the store (the row reads back as
     * written).  Nonzero refuses the write: it is rolled back and the edit returns
     * GW_ERR_CONFLICT with the message "refused by the caller's check" (the caller, knowing
     * why, answers for it).  The server keeps a scoped token's writes in its jurisdiction so. */
    int (*check)(void *user, gw_store *store, gw_layer layer, const char *id);
    void *check_user;
} gw_edit_opts;

/* What a write did.  Zero-initialise; free the contents with gw_edit_result_free(). */
typedef struct gw_edit_result {
    char **ids; /* the ids written, in input order (n of them) */
    size_t n;
    int64_t seq; /* the change-log sequence number of the last change written */
} gw_edit_result;
void gw_edit_result_free(gw_edit_result *r);

/* Insert a Feature or every feature of a FeatureCollection (one transaction).  opts may be NULL
 * (EPSG:4326, lon/lat).  The store must be read-write and have no open transaction. */
gw_status gw_edit_insert(gw_store *store, gw_layer layer, const char *json, size_t len,
                         const gw_edit_opts *opts, gw_edit_result *out);
/* Replace feature `id` (PUT): every property not given becomes null; a geometry is required. */
gw_status gw_edit_replace(gw_store *store, gw_layer layer, const char *id, const char *json,
                          size_t len, const gw_edit_opts *opts, gw_edit_result *out);
/* Merge-patch feature `id` (RFC 7396 on a Feature): given properties are set (null clears
 * one), others kept; a given geometry replaces the old one. */
gw_status gw_edit_patch(gw_store *store, gw_layer layer, const char *id, const char *json,
                        size_t len, const gw_edit_opts *opts, gw_edit_result *out);
/* Delete feature `id`.  opts may be NULL; only opts->layout matters (a grid is deleted only by
 * a caller that owns the layout, as it is added only by one). */
gw_status gw_edit_delete(gw_store *store, gw_layer layer, const char *id, const gw_edit_opts *opts,
                         gw_edit_result *out);

/* One grid's jurisdiction to set: the four parts of grid `id`. */
typedef struct gw_edit_juris {
    const char *id;
    const char *part[4]; /* prefecture, county, township, village; "" clears the field,
                            NULL leaves it as it is */
} gw_edit_juris;

/* Set the prefecture, county, township and village of n published grids in one transaction,
 * each grid's change logged ("update" with its id, so the model, tiles and event streams follow
 * like any PATCH) and one audit row (`who`, "jurisdictions.import", the count).  All or
 * nothing: grid ids not in the published version refuse the whole write (GW_ERR_NOT_FOUND
 * naming how many and the first five), as does a part containing "/" (GW_ERR_RANGE, naming the
 * grid) or an id given twice (GW_ERR_ARG).  out->ids lists the grids written. */
gw_status gw_edit_grid_jurisdictions(gw_store *store, const gw_edit_juris *rows, size_t n,
                                     const char *who, gw_edit_result *out);

/* The id of the police room nearest to (lon, lat) in geodesic metres (ties: the smaller id)
 * into buf; GW_ERR_NOT_FOUND when the layer is empty.  What incident inserts use. */
gw_status gw_edit_nearest_police_room(gw_store *store, double lon, double lat, char *buf,
                                      size_t cap);

#ifdef __cplusplus
}
#endif
#endif
