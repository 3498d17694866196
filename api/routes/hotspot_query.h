/* hotspot_query.h — the hot spot options shared by the routes (hotspot_http.c) and the CLI
 * (api/cli/cmd_hotspots.c): one option parser, the runs of each method on a model snapshot and
 * the writers of their CSV/JSON answers (hotspot_query.c).  Internal to api/ (hs_ prefix). */
#ifndef GW_HOTSPOT_QUERY_H
#define GW_HOTSPOT_QUERY_H

#include "http_util.h"

#include "gridwatch/emerging.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/kde.h"
#include "gridwatch/lisa.h"
#include "scope.h"

typedef struct hs_query {
    char weights[64];
    gw_weights_opts wo;
    gw_hotspot_opts ho;
    char category[256];
    int csv;
    /* kde */
    gw_kde_opts ko;
    int contours, has_ll_bbox;
    gw_bbox ll_bbox;
    double levels[32];
    size_t n_levels;
    /* evaluation */
    gw_incident_filter train, test;
    int has_train, has_test;
    double top;
    /* local Moran's I */
    int lisa;
    gw_lisa_opts lo;
    /* emerging hot spots */
    int emerging;
    int64_t step;
    int time_neighbours;
} hs_query;

void hs_query_init(hs_query *q);
int hs_query_set(gw_ctx *ctx, hs_query *q, const char *key, const char *val, const char *tz);
/* The Gi* result as JSON or CSV; sc (may be NULL: every grid) keeps the rows of a
 * jurisdiction's grids (a scope built on g) and counts only those. */
void hs_write_result(gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                     const hs_query *q, const gw_weights *w, double wsec, int64_t seq,
                     const gw_scope *sc);
/* LISA and emerging hot spots written as CSV or JSON; sc (NULL: every grid) keeps the rows of a
 * jurisdiction's grids as computed over the whole city, and the counts of those. */
gw_status hs_run_lisa(gw_ctx *ctx, gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                      const hs_query *q, const gw_weights *w, const gw_scope *sc);
gw_status hs_run_emerging(gw_ctx *ctx, gw_buf *b, gw_model_snapshot *snap, const gw_layer_data *g,
                          const gw_weights *w, const int32_t *ig, const hs_query *q,
                          const gw_scope *sc, gw_emerging_result **out);
gw_status hs_bbox_to_metric(gw_ctx *ctx, int srid, const gw_bbox *ll, gw_bbox *out);
void hs_default_levels(const gw_raster *r, hs_query *q);
/* The PAI evaluation; grid_in (NULL: every grid) scores only the grids whose byte is non-zero
 * (gw_pai_opts.grid_in). */
gw_status hs_run_evaluate(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                          const int32_t *ig, hs_query *q, const uint8_t *grid_in, gw_pai_row *rows);
void hs_write_pai(gw_buf *b, const gw_pai_row *rows, const hs_query *q, int json);

#endif
