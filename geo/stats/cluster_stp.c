/* cluster_stp.c — the space-time permutation scan statistic (Kulldorff et al. 2005) for
 * clusters new in the last days of the window, prospective as SaTScan's daily surveillance:
 * cylinders are the circular zones of the spatial scan by the last `days` days; a zone's
 * expected recent count is its all-time count × (recent total / total), so no population or
 * background is needed; replicas permute the times (the recent incidents are a random subset
 * of all incidents of the same size).  The zones are centred in the spatial clusters' circles:
 * the test asks which of the clusters are new lately, and its replicas scan the same zones.
 * Clusters whose circle meets a significant cylinder are marked recent. */
#include "cluster_internal.h"

#include <math.h>
#include <stdlib.h>

gw_status cl_recent_scan(gw_ctx *ctx, const cl_lattice *L, const long *cell_of, const int64_t *t,
                         size_t n, int64_t to, int days, const gw_cluster_opts *o,
                         gw_cluster_result *r)
{
    size_t N = L->nx * L->ny;
    int64_t from = to - (int64_t)days * 86400 + 1;
    double *rc = calloc(N, sizeof *rc), *ex = calloc(N, sizeof *ex);
    uint32_t *pool = malloc((n ? n : 1) * sizeof *pool);
    if (!rc || !ex || !pool) {
        free(rc), free(ex), free(pool);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (space-time scan)");
    }
    uint8_t *centres = calloc(N, 1);
    if (!centres) {
        free(rc), free(ex), free(pool);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (space-time scan)");
    }
    for (size_t c = 0; c < r->n; c++) { /* the cells of every cluster's circle */
        const gw_cluster *q = &r->c[c];
        long R = (long)ceil(q->radius / L->cell) + 1;
        long ci = (long)floor((q->x - L->x0) / L->cell), cj = (long)floor((q->y - L->y0) / L->cell);
        for (long j = cj - R; j <= cj + R; j++)
            for (long i = ci - R; i <= ci + R; i++) {
                if (i < 0 || j < 0 || i >= (long)L->nx || j >= (long)L->ny) continue;
                double dx = L->x0 + ((double)i + 0.5) * L->cell - q->x,
                       dy = L->y0 + ((double)j + 0.5) * L->cell - q->y;
                if (hypot(dx, dy) <= q->radius + 1e-6) centres[(size_t)j * L->nx + (size_t)i] = 1;
            }
    }
    size_t np = 0;
    double C = 0, CT = 0;
    for (size_t i = 0; i < n; i++) {
        if (cell_of[i] < 0) continue;
        pool[np++] = (uint32_t)cell_of[i], C += 1;
        if (t[i] >= from) rc[cell_of[i]] += 1, CT += 1;
    }
    gw_status st = GW_OK;
    if (CT > 0 && CT < C && r->n > 0) {
        for (size_t k = 0; k < N; k++) ex[k] = L->count[k] * CT / C;
        gw_lattice lat = {.nx = L->nx,
                          .ny = L->ny,
                          .x0 = L->x0,
                          .y0 = L->y0,
                          .cell = L->cell,
                          .in = L->in,
                          .count = rc,
                          .expected = ex};
        gw_scan_opts so = {.max_radius = r->max_radius,
                           .replications = r->replications,
                           .seed = (o->seed ? o->seed : 1) ^ 0x5eedull,
                           .threads = o->threads,
                           .max_zones = 200,
                           .min_cases = 3,
                           .min_rr = 1.5,
                           .pool = pool,
                           .pool_n = np,
                           .centres = centres};
        gw_scan_zone *z = NULL;
        size_t nz = 0;
        double alpha = o->alpha ? o->alpha : 0.05;
        if ((st = gw_scan_lattice(ctx, &lat, &so, &z, &nz, NULL)) == GW_OK) {
            for (size_t i = 0; i < nz; i++) {
                if (!(z[i].p <= alpha)) continue;
                double zx = L->x0 + ((double)(z[i].centre % L->nx) + 0.5) * L->cell,
                       zy = L->y0 + ((double)(z[i].centre / L->nx) + 0.5) * L->cell;
                for (size_t k = 0; k < r->n; k++) {
                    gw_cluster *c = &r->c[k];
                    if (hypot(zx - c->x, zy - c->y) > c->radius + z[i].radius) continue;
                    if (!c->recent || z[i].p < c->recent_p)
                        c->recent = 1, c->recent_p = z[i].p, c->recent_incidents = z[i].c,
                        c->recent_expected = z[i].e;
                }
            }
        }
        free(z);
    }
    free(rc), free(ex), free(pool), free(centres);
    return st;
}
