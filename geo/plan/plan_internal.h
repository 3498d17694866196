/* plan_internal.h — what geo/plan.c, geo/plan_edit.c and geo/plan_validate.c share: a working
 * context (GEOS readers/writers, the metric transform) and a loaded grid set (a version or a
 * draft's effective grids).  Not installed; nothing outside the plan module includes it. */
#ifndef GW_PLAN_INTERNAL_H
#define GW_PLAN_INTERNAL_H

#include "gridwatch/crs.h"
#include "gridwatch/plan.h"
#include "gridwatch/store_plan.h"

#include <jansson.h>

#define PL_NF                                                                                      \
    10 /* grid fields (layer.c): id, name, township, county, population, households,
                 * worker, phone, prefecture, village */

/* One grid: field values (text owned, NULL for SQL NULL; ints with a null flag), geometry in
 * EPSG:4326. */
typedef struct pl_grid {
    char *text[PL_NF];
    int64_t num[PL_NF];
    unsigned char null[PL_NF];
    GEOSGeometry *g;
} pl_grid;

typedef struct pl_set {
    pl_grid *g;
    size_t n, cap;
} pl_set;

typedef struct pl {
    gw_store *s;
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    GEOSWKBReader *rd;
    GEOSWKBWriter *wr;
    gw_crs_transform *to_m; /* 4326 -> metric */
    int srid;
} pl;

/* The road reach of layouts (plan_reach.c): g is NULL when the store has no roads. */
typedef struct pl_reach {
    struct gw_road_graph *g;
    double *base, *draft; /* GW_REACH_GRID_BANDS shares per grid of the last layouts */
    json_t *base_ids;     /* grid id -> row of the base layout */
} pl_reach;
gw_status pl_reach_open(pl *p, pl_reach *r);
void pl_reach_close(pl_reach *r);
/* The shares of every grid of set (borrowed from r; NULL without roads): the base layout
 * (is_base) is computed whole; a draft's grids not in `changed` take the base's figures. */
gw_status pl_reach_layout(pl *p, pl_reach *r, const pl_set *set, int is_base, json_t *changed,
                          const double *room_xy, size_t nroom, const double **out);

/* Open/close a working context on a store (metric transform from the store's metric SRID, or
 * the one chosen for the grids' centre). */
gw_status pl_open(gw_store *s, pl *p);
void pl_close(pl *p);

gw_status pl_geos_fail(pl *p, const char *what);

/* Load every grid of a version / of a draft (base minus deletes plus upserts), in id order. */
gw_status pl_load_version(pl *p, int64_t version, pl_set *out);
gw_status pl_load_draft(pl *p, int64_t draft, pl_set *out, int64_t *base);
void pl_set_free(pl *p, pl_set *set);
/* Copy one grid row the store gave (fields and WKB) into *g (text copied, geometry read). */
gw_status pl_read_row(pl *p, const gw_store_plan_grid *r, pl_grid *g);
/* The fields of g as store values into v[PL_NF] (text borrowed from g). */
void pl_grid_values(const pl_grid *g, gw_value *v);
/* Grid `id` as draft `draft` sees it: its own row, else the base version's; GW_ERR_NOT_FOUND
 * when the draft removed it or neither has it.  Caller clears g with pl_grid_clear(). */
gw_status pl_draft_grid(pl *p, int64_t draft, int64_t base, const char *id, pl_grid *g);
void pl_grid_clear(pl *p, pl_grid *g);

/* The stored jurisdiction outline (EPSG:4326) or NULL when none is recorded. */
gw_status pl_jurisdiction(pl *p, GEOSGeometry **out);
/* Area of a lon/lat (multi)polygon on the WGS84 ellipsoid, additive over exact tilings (m²). */
double pl_area_m2(pl *p, const GEOSGeometry *g);
/* Union of a set of geometries (borrowed), new geometry. */
GEOSGeometry *pl_union(pl *p, GEOSGeometry *const *g, size_t n);
/* Append one grid row the store gave to a set (a gw_store_plan_grid_fn; user is a pl_set_ctx). */
typedef struct pl_set_ctx {
    pl *p;
    pl_set *set;
} pl_set_ctx;
gw_status pl_set_add(void *user, const gw_store_plan_grid *r);
/* Copy a draft as the store gives it into the plan module's public struct. */
void pl_draft_copy(gw_plan_draft *out, const gw_store_plan_draft *d);
/* A JSON document as compact text (the document is released); NULL when out of memory. */
char *pl_dump(json_t *doc);

#endif
