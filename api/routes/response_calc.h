/* response_calc.h — the response figures of a window's incidents (issue 18 item 4), shared by
 * GET /analysis/response and the resp_* fields of the grid tiles so that both say the same: each
 * incident of the window placed in its grid (the hot spot module's cached incident grids where the
 * caller has them), its milestones from one pass over the audit trail (geo/flow/flow_stats.c),
 * and the sums per grid.  Definitions: docs/incident-flow.md, "Response figures". */
#ifndef GW_RESPONSE_CALC_H
#define GW_RESPONSE_CALC_H

#include "gridwatch/flow_stats.h"
#include "gridwatch/model.h"
#include "scope.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gw_response_opts {
    int has_from, has_to; /* the window on occurred_at: [from, to) */
    int64_t from, to;
    int64_t now;             /* overdue is judged at this time (Unix seconds) */
    const gw_scope *scope;   /* only incidents in its grids (NULL: every grid) */
    const int32_t *inc_grid; /* grid row of each incident row of snap (gw_hotspots_incident_grids,
                                -1 for none); NULL: each incident is located here */
} gw_response_opts;

typedef struct gw_response_set {
    size_t n;               /* incidents kept (in the window, in a grid of the scope) */
    gw_flow_ms *ms;         /* their milestones */
    ptrdiff_t *grid_of;     /* their grid rows */
    size_t ng;              /* rows of the snapshot's grids layer */
    char **gpath;           /* per grid row: its jurisdiction path when it holds a kept
                               incident, else NULL */
    gw_flow_response *grid; /* per grid row: its figures (all zero without incidents) */
} gw_response_set;

/* Compute the set for snap (held by the caller) with the audit trail and deadlines of store.
 * *out is overwritten; free it with gw_response_set_free (also after an error).  Errors:
 * GW_ERR_NOMEM, a store error. */
gw_status gw_response_compute(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap,
                              const gw_response_opts *o, gw_response_set *out);
/* Accepts a zeroed or partly filled set. */
void gw_response_set_free(gw_response_set *s);

#endif
