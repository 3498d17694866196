/* store_roads.h — the road layer at rest (issue 20, docs/roads.md): street centre lines with
 * their class, direction and speed, which geo/road builds its routing graph from.  Roads are
 * not one of the five feature layers (layer.h): they have their own table and their own
 * change-log rows (layer "roads", ops "roads.import", "roads.clear", "roads.insert"), which the
 * road network watches to rebuild its graph. */
#ifndef GRIDWATCH_STORE_ROADS_H
#define GRIDWATCH_STORE_ROADS_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One road as written and read.  Strings are borrowed (for the call, or the callback).
 * oneway: 0 both ways, 1 along the geometry's direction, -1 against it.  speed_kmh: > 0, or
 * NAN/0 for the class's default.  wkb: ISO WKB LineString (2-D) in EPSG:4326. */
typedef struct gw_store_road {
    int64_t fid; /* read: the row's fid; ignored on insert */
    const char *id, *name, *cls;
    int oneway;
    double speed_kmh;
    const unsigned char *wkb;
    size_t wkb_len;
} gw_store_road;

/* Called for each road in fid order; return nonzero to stop early. */
typedef int (*gw_store_road_fn)(void *user, const gw_store_road *r);

/* Inside the caller's transaction: insert n roads.  GW_ERR_CONFLICT for an id already stored,
 * GW_ERR_ARG for a bad value (oneway outside -1..1, speed outside (0, 300], no class, a
 * geometry that is not a LineString).  Logs nothing: the caller logs one change. */
gw_status gw_store_roads_insert(gw_store *s, const gw_store_road *roads, size_t n);
/* Inside the caller's transaction: delete every road; *n (may be NULL) receives how many. */
gw_status gw_store_roads_clear(gw_store *s, int64_t *n);
/* Inside the caller's transaction: one change-log row for layer "roads" with op (e.g.
 * "roads.import") and an optional lon/lat bbox; *seq (may be NULL) receives its seq. */
gw_status gw_store_roads_log(gw_store *s, const char *op, const gw_bbox *bbox, int64_t *seq);
/* Every road in fid order, each given to fn.  Run it inside a read transaction to see one
 * state together with gw_store_changes_last(s, "roads"). */
gw_status gw_store_roads_read(gw_store *s, gw_store_road_fn fn, void *user);
/* Number of roads. */
gw_status gw_store_roads_count(gw_store *s, int64_t *n);

#ifdef __cplusplus
}
#endif
#endif
