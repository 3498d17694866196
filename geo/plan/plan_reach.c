/* plan_reach.c — the road reach of a layout for the balance table (gw_plan_balance): per grid,
 * the share a police room reaches by road within 3, 5 and 10 minutes (reach.h), on the road
 * graph built from the store in the plan's metric CRS.  The base layout is computed whole; a
 * draft's untouched grids take the base's figures, its changed grids are computed. */
#include "plan_internal.h"

#include "gridwatch/reach.h"
#include "gridwatch/road.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_status pl_reach_open(pl *p, pl_reach *r)
{
    memset(r, 0, sizeof *r);
    gw_road_graph_opts o = {.metric_srid = p->srid};
    gw_status st = gw_road_graph_build(p->ctx, p->s, &o, &r->g);
    if (st) return st;
    if (!gw_road_graph_nodes(r->g)) { /* no roads: no reach figures */
        gw_road_graph_destroy(r->g);
        r->g = NULL;
    }
    return GW_OK;
}

void pl_reach_close(pl_reach *r)
{
    gw_road_graph_destroy(r->g);
    free(r->base), free(r->draft);
    json_decref(r->base_ids);
    memset(r, 0, sizeof *r);
}

/* Shares of the grids of `set` listed in idx[0..m) into out (GW_REACH_GRID_BANDS per entry). */
static gw_status some(pl *p, pl_reach *r, const pl_set *set, const size_t *idx, size_t m,
                      const double *room_xy, size_t nroom, double *out)
{
    GEOSGeometry **gm = calloc(m + 1, sizeof *gm);
    if (!gm) return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    gw_status st = GW_OK;
    for (size_t i = 0; i < m && !st; i++)
        if (!(gm[i] = gw_crs_transform_geom(p->to_m, set->g[idx[i]].g)))
            st = pl_geos_fail(p, "reach");
    if (!st)
        st = gw_reach_shares(p->ctx, r->g, room_xy, nroom, (const GEOSGeometry *const *)gm, m, NULL,
                             2, out);
    for (size_t i = 0; i < m; i++)
        if (gm[i]) GEOSGeom_destroy_r(p->h, gm[i]);
    free(gm);
    return st;
}

gw_status pl_reach_layout(pl *p, pl_reach *r, const pl_set *set, int is_base, json_t *changed,
                          const double *room_xy, size_t nroom, const double **out)
{
    *out = NULL;
    if (!r->g) return GW_OK;
    size_t n = set->n, m = 0;
    double *sh = malloc((n * GW_REACH_GRID_BANDS + 1) * sizeof *sh);
    size_t *idx = malloc((n + 1) * sizeof *idx);
    if (!sh || !idx) {
        free(sh), free(idx);
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        /* an untouched grid of a draft: the base's figure, found by id */
        json_t *k = is_base || !r->base_ids || json_object_get(changed, set->g[i].text[0])
                        ? NULL
                        : json_object_get(r->base_ids, set->g[i].text[0]);
        ptrdiff_t b = k ? (ptrdiff_t)json_integer_value(k) : -1;
        if (b >= 0)
            memcpy(sh + i * GW_REACH_GRID_BANDS, r->base + (size_t)b * GW_REACH_GRID_BANDS,
                   GW_REACH_GRID_BANDS * sizeof *sh);
        else idx[m++] = i;
    }
    double *tmp = malloc((m * GW_REACH_GRID_BANDS + 1) * sizeof *tmp);
    gw_status st = tmp ? some(p, r, set, idx, m, room_xy, nroom, tmp)
                       : gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < m; i++)
        memcpy(sh + idx[i] * GW_REACH_GRID_BANDS, tmp + i * GW_REACH_GRID_BANDS,
               GW_REACH_GRID_BANDS * sizeof *sh);
    free(tmp), free(idx);
    if (st) {
        free(sh);
        return st;
    }
    if (is_base) { /* kept for the draft's untouched grids */
        free(r->base), json_decref(r->base_ids);
        r->base = sh, r->base_ids = json_object();
        for (size_t i = 0; i < n; i++)
            json_object_set_new(r->base_ids, set->g[i].text[0], json_integer((json_int_t)i));
    } else free(r->draft), r->draft = sh;
    *out = sh;
    return GW_OK;
}
