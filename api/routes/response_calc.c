/* response_calc.c — the incidents of a window placed in their grids, their milestones and the
 * sums per grid (response_calc.h). */
#include "response_calc.h"

#include "gridwatch/layer.h"

#include <stdlib.h>
#include <string.h>

/* The caller's incidents: index by model row, -1 for rows left out. */
typedef struct find_ctx {
    const gw_layer_data *inc;
    const ptrdiff_t *index;
} find_ctx;

static ptrdiff_t find_inc(void *user, const char *id)
{
    find_ctx *f = user;
    ptrdiff_t row = gw_layer_data_find(f->inc, id);
    return row < 0 ? -1 : f->index[row];
}

void gw_response_set_free(gw_response_set *s)
{
    if (!s) return;
    for (size_t g = 0; s->gpath && g < s->ng; g++) free(s->gpath[g]);
    free(s->gpath), free(s->ms), free(s->grid_of), free(s->grid);
    memset(s, 0, sizeof *s);
}

gw_status gw_response_compute(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap,
                              const gw_response_opts *o, gw_response_set *out)
{
    memset(out, 0, sizeof *out);
    const gw_layer_data *I = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t ni = I ? gw_layer_data_count(I) : 0, ng = G ? gw_layer_data_count(G) : 0;
    int f_time = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    int f_cat = gw_layer_field_index(GW_LAYER_INCIDENTS, "category");
    int f_status = gw_layer_field_index(GW_LAYER_INCIDENTS, "status");
    const int64_t *occ = ni ? gw_layer_data_ints(I, f_time) : NULL;
    const uint8_t *occ_null = ni ? gw_layer_data_nulls(I, f_time) : NULL;
    const double *x = ni ? gw_layer_data_x(I, GW_MODEL_METRIC) : NULL;
    const double *y = ni ? gw_layer_data_y(I, GW_MODEL_METRIC) : NULL;
    ptrdiff_t *index = malloc((ni ? ni : 1) * sizeof *index);
    gw_flow_inc *inc = malloc((ni ? ni : 1) * sizeof *inc);
    out->ng = ng;
    out->grid_of = malloc((ni ? ni : 1) * sizeof *out->grid_of);
    out->gpath = calloc(ng ? ng : 1, sizeof *out->gpath);
    out->grid = calloc(ng ? ng : 1, sizeof *out->grid);
    gw_status st = index && inc && out->grid_of && out->gpath && out->grid ? GW_OK : GW_ERR_NOMEM;
    size_t n = 0;
    for (size_t r = 0; !st && r < ni; r++) {
        index[r] = -1;
        if (!occ || (occ_null && occ_null[r])) continue; /* no report time: nothing to time */
        if ((o->has_from && occ[r] < o->from) || (o->has_to && occ[r] >= o->to)) continue;
        ptrdiff_t g = -1;
        if (o->inc_grid) g = o->inc_grid[r];
        else if (gw_layer_data_grid_at(ctx, G, x[r], y[r], &g)) gw_ctx_clear_error(ctx), g = -1;
        if (g < 0 || (size_t)g >= ng || (o->scope && !gw_scope_has_grid_row(o->scope, (size_t)g)))
            continue;
        if (!out->gpath[g]) {
            char p[GW_JURISDICTION_MAX];
            gw_scope_row_path(G, (size_t)g, p, sizeof p);
            if (!(out->gpath[g] = strdup(p))) st = GW_ERR_NOMEM;
        }
        inc[n] = (gw_flow_inc){.category = gw_layer_data_text(I, r, f_cat),
                               .status = gw_layer_data_text(I, r, f_status),
                               .reported = occ[r],
                               .max_level = gw_flow_max_level(out->gpath[g] ? out->gpath[g] : "")};
        out->grid_of[n] = g;
        index[r] = (ptrdiff_t)n++;
    }
    out->n = n;
    if (!st && !(out->ms = malloc((n ? n : 1) * sizeof *out->ms))) st = GW_ERR_NOMEM;
    gw_flow_deadline *over = NULL;
    size_t n_over = 0;
    find_ctx fc = {I, index};
    if (!st) st = gw_flow_deadlines_load(store, &over, &n_over);
    if (!st) st = gw_flow_milestones(store, inc, n, find_inc, &fc, over, n_over, o->now, out->ms);
    if (!st) st = gw_flow_response_sum(out->ms, out->grid_of, n, ng, out->grid);
    free(over), free(index), free(inc);
    if (st == GW_ERR_NOMEM) gw_ctx_error(ctx, st, "out of memory");
    return st;
}
