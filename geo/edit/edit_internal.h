/* edit_internal.h — what edit.c (parsing, checks, the write operations) and edit_resolve.c (an
 * incident's grid and police room) share: one write's working state and one parsed feature. */
#ifndef GRIDWATCH_EDIT_INTERNAL_H
#define GRIDWATCH_EDIT_INTERNAL_H

#include "gridwatch/edit.h"
#include "gridwatch/store_edit.h"

#define MAX_FIELDS 16
#define ID_MAX 256

enum mode { M_INSERT, M_REPLACE, M_PATCH };

typedef struct feat {
    const char *id;
    char idbuf[ID_MAX];
    gw_value v[MAX_FIELDS]; /* bind-ready: time fields already formatted as ISO text */
    unsigned char given[MAX_FIELDS];
    char tbuf[MAX_FIELDS][32];
    char gridbuf[ID_MAX], roombuf[ID_MAX];
    GEOSGeometry *geom; /* EPSG:4326 */
    int geom_member;    /* "geometry" present in the input (possibly null) */
    gw_bbox box;
    char label[ID_MAX + 96];
} feat;

typedef struct ed {
    gw_store *s;
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    gw_layer layer;
    const char *lname;
    const gw_field *f;
    size_t nf;
    gw_crs crs;
    int latlon, batch, layout;
    gw_crs_transform *tr;
    GEOSGeoJSONReader *rd;
    GEOSWKBWriter *wr;
    int64_t gv; /* published grid version */
    int ix_grid, ix_room, ix_auto;
    gw_edit_result *res;
    int (*check)(void *user, gw_store *store, gw_layer layer, const char *id);
    void *check_user;
} ed;

/* An incident's grid and police room: a named one must exist; a missing one is found from the
 * point (the grid containing it, the nearest room). */
gw_status edit_resolve_incident(ed *e, feat *ft);

#endif
