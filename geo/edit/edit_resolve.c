/* edit_resolve.c — an incident's grid and police room on write: SQL over the spatial indexes
 * through the store (fine for single writes, where the in-memory model would be overkill). */
#include "edit_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- incident resolution ------------------------------------------------------------------- */

static gw_status grid_of(ed *e, double x, double y, char *out, size_t cap)
{
    return gw_store_edit_grid_at(e->s, e->gv, x, y, out, cap);
}

/* The nearest police room found so far. */
typedef struct room_best {
    double x, y, best;
    char *out;
    size_t cap;
} room_best;

static int room_seen(void *user, const char *id, double lon, double lat)
{
    room_best *b = user;
    double d = gw_geodesic_distance(b->x, b->y, lon, lat);
    if (d < b->best || (d == b->best && strcmp(id, b->out) < 0)) {
        b->best = d;
        snprintf(b->out, b->cap, "%s", id);
    }
    return 0;
}

/* The police room nearest to (x, y) in geodesic metres: frames of the spatial index grow until
 * the best candidate is nearer than anything outside the frame can be. */
static gw_status room_of(ed *e, double x, double y, char *out, size_t cap)
{
    out[0] = '\0';
    room_best b = {x, y, INFINITY, out, cap};
    for (double r = 0.02;; r *= 2) {
        gw_bbox box = {x - r, y - r, x + r, y + r};
        gw_status st = gw_store_edit_rooms_in(e->s, &box, room_seen, &b);
        if (st) return st;
        /* Anything outside the frame is at least r degrees away in lat or in lon. */
        double edge = fmin(89.0, fabs(y) + r);
        double reach = 0.99 * r * 110574.0 * fmin(1.0, cos(edge * M_PI / 180.0));
        if (b.best <= reach || r > 360) break;
    }
    return GW_OK;
}

gw_status gw_edit_nearest_police_room(gw_store *store, double lon, double lat, char *buf,
                                      size_t cap)
{
    if (!store || !buf || cap == 0) return GW_ERR_ARG;
    ed e;
    memset(&e, 0, sizeof e);
    e.s = store;
    e.ctx = gw_store_ctx(store);
    e.lname = "police_rooms";
    gw_status st = room_of(&e, lon, lat, buf, cap);
    if (!st && !buf[0])
        st = gw_ctx_error(e.ctx, GW_ERR_NOT_FOUND, "there are no police rooms to choose from");
    return st;
}

gw_status edit_resolve_incident(ed *e, feat *ft)
{
    if (e->layer != GW_LAYER_INCIDENTS || !ft->geom) return GW_OK;
    double x, y;
    GEOSGeomGetX_r(e->h, ft->geom, &x);
    GEOSGeomGetY_r(e->h, ft->geom, &y);
    gw_status st = GW_OK;
    /* A grid or police room the client names must exist: it overrides the spatial lookup, and
     * a name of nothing would file the incident nowhere. */
    const struct {
        int ix;
        gw_layer layer;
        const char *what;
    } refs[] = {{e->ix_grid, GW_LAYER_GRIDS, "grid"},
                {e->ix_room, GW_LAYER_POLICE_ROOMS, "police room"}};
    for (size_t k = 0; !st && k < 2; k++) {
        const gw_value *v = refs[k].ix >= 0 ? &ft->v[refs[k].ix] : NULL;
        if (!v || v->kind != GW_VAL_TEXT) continue;
        int found = 0;
        gw_bbox box;
        st = gw_store_edit_lookup(e->s, refs[k].layer, e->gv, v->s, &found, &box);
        if (!st && !found)
            st = gw_ctx_error(e->ctx, GW_ERR_RANGE,
                              "%s: property %s names no %s '%.60s' (leave it out to have it "
                              "found from the point)",
                              ft->label, e->f[refs[k].ix].name, refs[k].what, v->s);
    }
    if (!st && e->ix_grid >= 0 && ft->v[e->ix_grid].kind == GW_VAL_NULL) {
        st = grid_of(e, x, y, ft->gridbuf, sizeof ft->gridbuf);
        if (!st && ft->gridbuf[0]) ft->v[e->ix_grid] = (gw_value){GW_VAL_TEXT, ft->gridbuf, 0, 0};
        ft->given[e->ix_grid] = 1;
    }
    if (!st && e->ix_room >= 0 && ft->v[e->ix_room].kind == GW_VAL_NULL) {
        st = room_of(e, x, y, ft->roombuf, sizeof ft->roombuf);
        if (!st && ft->roombuf[0]) ft->v[e->ix_room] = (gw_value){GW_VAL_TEXT, ft->roombuf, 0, 0};
        ft->given[e->ix_room] = 1;
    }
    return st;
}
