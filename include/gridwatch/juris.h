/* juris.h — jurisdictions as data: the prefecture -> county -> township -> village hierarchy
 * derived from the published grids' fields, listed with counts, population and area, and the
 * import of a grid -> jurisdiction table (CSV) onto the published grids.
 *
 * A grid's jurisdiction PATH is the non-empty values of its prefecture, county, township and
 * village fields, in that order, joined by "/" ("菏泽市/牡丹区/城关街道/和平社区"); its level is
 * the number of parts (1 prefecture … 4 village).  A jurisdiction is every distinct path prefix
 * of the grids' paths.  "" is the root (everything).  Fields are looked up by name, so a layer
 * without some of them just has shorter paths. */
#ifndef GRIDWATCH_JURIS_H
#define GRIDWATCH_JURIS_H

#include "gridwatch/common.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One jurisdiction of a listing. */
typedef struct gw_juris {
    char *path;         /* owned by the list */
    const char *name;   /* its last part (points into path) */
    char *parent;       /* the path one level up; "" for a level-1 jurisdiction */
    int level;          /* 1 prefecture, 2 county, 3 township, 4 village (parts in path) */
    int64_t grids;      /* published grids it contains */
    int64_t population; /* sum of their population (NULL counts 0) */
    double area_km2;    /* sum of their areas, planar in the model's metric CRS */
} gw_juris;

typedef struct gw_juris_list {
    gw_juris *items; /* by path, bytewise */
    size_t n;
    int metric_srid;    /* the CRS the areas were measured in */
    int64_t unassigned; /* grids with no jurisdiction field set (no path) */
} gw_juris_list;

/* Every jurisdiction of the published grids of a snapshot, by path; metric_srid is the
 * model's (gw_model_metric_srid), recorded in the list.  Free with gw_juris_list_free (also
 * after an error).  GW_ERR_NOMEM, GW_ERR_GEOMETRY when an area cannot be measured. */
gw_status gw_juris_list_build(gw_ctx *ctx, const gw_model_snapshot *snap, int metric_srid,
                              gw_juris_list *out);
void gw_juris_list_free(gw_juris_list *list);

/* Whether a listed jurisdiction passes a filter: level 0 = any, parent NULL = any (else its
 * parent path must equal it; "" selects the level-1 ones). */
int gw_juris_match(const gw_juris *j, int level, const char *parent);

/* The path of grid `row` of a grids layer into buf (cap bytes, truncated and NUL-terminated);
 * returns the path's full length (>= cap means truncated) and its level in *level (may be NULL;
 * 0 for a grid without any part). */
size_t gw_juris_grid_path(const gw_layer_data *grids, size_t row, char *buf, size_t cap,
                          int *level);

/* Import a CSV of grid_id, prefecture, county, township, village (a header row naming those
 * columns, in any order; "id" is taken for grid_id; a column left out keeps that field as it
 * is, an empty cell clears it; UTF-8, optional BOM, quoted fields as RFC 4180, blank lines
 * skipped) onto the published grids: one transaction through gw_edit_grid_jurisdictions
 * (grids not listed keep theirs).  Refused whole, nothing changed: unknown grid ids (the first few named),
 * a part containing "/", a duplicate id, a malformed file (GW_ERR_FORMAT with the line).
 * *n (may be NULL) receives the grids written; *seq (may be NULL) the last change's number. */
gw_status gw_juris_import_csv(gw_store *store, const char *path, const char *who, size_t *n,
                              int64_t *seq);

#ifdef __cplusplus
}
#endif
#endif
