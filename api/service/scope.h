/* scope.h — jurisdictions (issue 18, docs/scoping.md): which published grids a token scoped to a
 * jurisdiction path may see, and the lookups the routes need to keep every answer inside it.
 *
 * A grid's path is the non-empty values of its prefecture, county, township and village fields,
 * in that order, joined by "/" (fields the grids layer does not have are skipped).  A path P
 * contains a grid when the grid's path equals P or starts with P + "/"; "" (the root) contains
 * every grid.  A point feature (camera, police room, team, incident) lies in a scope when the
 * published grid containing its point does (gw_layer_data_grid_at: the lowest row wins on a
 * shared edge); a point in no grid lies in no scope but the root's.
 *
 * A gw_scope is built once per (grids layer version, path) and shared: a small cache keeps the
 * last few, so the many accounts of one township share one object.  Everything here is
 * thread-safe; a scope is immutable once built. */
#ifndef GW_SCOPE_H
#define GW_SCOPE_H

#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "live.h"
#include "server.h"

#include <stddef.h>

typedef struct gw_scope gw_scope;

/* The most parts a path has (prefecture, county, township, village). */
#define GW_SCOPE_LEVELS 4

/* The scope of `path` ("" or NULL: the root) over the published grids of `snap` (held by the
 * caller).  *out is a counted reference: release it with gw_scope_release().  A path no grid
 * lies in gives an empty scope (it sees nothing), not an error.  GW_ERR_NOMEM on failure. */
gw_status gw_scope_get(gw_ctx *ctx, const gw_model_snapshot *snap, const char *path,
                       gw_scope **out);
/* Accepts NULL. */
void gw_scope_release(gw_scope *sc);

/* The scope's path ("" for the root). */
const char *gw_scope_path(const gw_scope *sc);
/* 1 for the root scope (sees everything; a NULL scope counts as the root too). */
int gw_scope_is_root(const gw_scope *sc);
/* How many published grids it contains. */
size_t gw_scope_grid_count(const gw_scope *sc);
/* 1 when the grid of this row of the scope's grids layer lies in it. */
int gw_scope_has_grid_row(const gw_scope *sc, size_t row);
/* 1 when the published grid with this id lies in it (0 for an unknown id, unless root). */
int gw_scope_has_grid_id(const gw_scope *sc, const char *grid_id);
/* 1 when the metric point (x, y) lies in a grid of the scope. */
int gw_scope_has_point(gw_ctx *ctx, const gw_scope *sc, double x, double y);
/* 1 when row `row` of a layer of the same snapshot lies in the scope: grids by membership,
 * point layers by the grid containing their metric point (from gw_scope_point_grids' cache
 * when a whole-layer pass has built it for this layer version, else located now). */
int gw_scope_has_row(gw_ctx *ctx, const gw_scope *sc, const gw_layer_data *d, size_t row);
/* The row of `grids` containing each row of point layer d (-1: in none; the lowest row wins on
 * a shared edge, gw_layer_data_grid_at), built once per (d, grids) version pair and shared (a
 * few pairs are kept): the first call pays one locator pass over d, later ones nothing until
 * either layer changes.  *hold must be released with gw_scope_point_grids_release() once the
 * array is no longer read.  NULL (and *hold NULL) when out of memory. */
const int32_t *gw_scope_point_grids(gw_ctx *ctx, const gw_layer_data *grids, const gw_layer_data *d,
                                    void **hold);
void gw_scope_point_grids_release(void *hold);
/* The envelope of the scope's grids in lon/lat and in the metric CRS; 0 when it has none. */
int gw_scope_bbox(const gw_scope *sc, gw_bbox *lonlat, gw_bbox *metric);

/* The path of a grid row of a grids layer into buf[cap] (see above); returns its level (the
 * number of parts, 0 when the grid has none of the fields). */
int gw_scope_row_path(const gw_layer_data *grids, size_t row, char *buf, size_t cap);
/* The path of the published grid `grid` (an id) of the live model into buf[cap]: its level, or
 * -1 (buf "") when no published grid has that id. */
int gw_scope_grid_path(gw_live *live, const char *grid, char *buf, size_t cap);
/* 1 when jurisdiction `outer` contains path `inner` ("" contains everything). */
int gw_scope_path_contains(const char *outer, const char *inner);

/* Check a jurisdiction path for a token: GW_ERR_ARG for one with an empty part, a trailing "/"
 * or more than GW_SCOPE_LEVELS parts, GW_ERR_NOT_FOUND when no grid of the published version
 * lies in it (the message names the first part that matched nothing and what exists there).
 * Reads the store (its own read). */
gw_status gw_scope_path_check(gw_store *store, const char *path);

#endif
