/* store_edit.h — single-feature writes of the feature API and their lookups: insert, update and
 * delete one row (grids: of the published version), a feature's box, the grid at a point and
 * the police rooms in a box (to resolve an incident's grid and room).  The checks and the
 * change-log row are geo/edit/'s. */
#ifndef GRIDWATCH_STORE_EDIT_H
#define GRIDWATCH_STORE_EDIT_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One row to write. */
typedef struct gw_store_edit_row {
    const char *label; /* for messages ("feature 2 (id 'G7')") */
    const char *id;
    const gw_value *values;     /* gw_layer_fields() order; [0] is the id (id above wins);
                                   * time fields as ISO 8601 text */
    const unsigned char *given; /* update: the fields to set (NULL: all of them) */
    int has_geom;               /* a geometry to write (update: else keep the stored one) */
    const unsigned char *wkb;   /* grids: (Multi)Polygon as WKB, EPSG:4326 */
    size_t wkb_len;
    double x, y; /* point layers: lon, lat */
} gw_store_edit_row;

/* Insert the row.  GW_ERR_CONFLICT for an id that exists, GW_ERR_RANGE for a value a column
 * constraint refuses, GW_ERR_GEOMETRY for a geometry the store refuses. */
gw_status gw_store_edit_insert(gw_store *s, gw_layer layer, int64_t grid_version,
                               const gw_store_edit_row *r);
/* Update the stored row of r->id with the given fields (and geometry); errors as insert. */
gw_status gw_store_edit_update(gw_store *s, gw_layer layer, int64_t grid_version,
                               const gw_store_edit_row *r);
/* Delete the row of id (nothing when there is none). */
gw_status gw_store_edit_delete(gw_store *s, gw_layer layer, int64_t grid_version, const char *id);
/* Whether a row with id exists (*found) and its box in lon/lat. */
gw_status gw_store_edit_lookup(gw_store *s, gw_layer layer, int64_t grid_version, const char *id,
                               int *found, gw_bbox *box);
/* The id of the grid (of grid_version) holding the point, the lowest id when several do, into
 * out[cap] ("" when none). */
gw_status gw_store_edit_grid_at(gw_store *s, int64_t grid_version, double lon, double lat,
                                char *out, size_t cap);
/* Called per police room in a box (id borrowed for the call); return nonzero to stop. */
typedef int (*gw_store_room_fn)(void *user, const char *id, double lon, double lat);
/* The police rooms whose point lies in box (lon/lat), to fn. */
gw_status gw_store_edit_rooms_in(gw_store *s, const gw_bbox *box, gw_store_room_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
