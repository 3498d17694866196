/* road_snap.c — the nearest road to a point (road.h): a uniform grid over the arcs' segments
 * (each segment listed in every cell its box touches), searched ring by ring outwards until
 * no unvisited cell can hold anything nearer.  Chosen over a GEOS STRtree because a query then
 * needs no GEOS handle, no allocation and no callback, and the cells are one CSR block. */
#include "road_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS (1 << 22) /* the grid grows its cell rather than past this many cells */

static void cell_range(const gw_road_graph *g, double minx, double miny, double maxx, double maxy,
                       int *x0, int *y0, int *x1, int *y1)
{
    *x0 = (int)floor((minx - g->gx) / g->cell), *x1 = (int)floor((maxx - g->gx) / g->cell);
    *y0 = (int)floor((miny - g->gy) / g->cell), *y1 = (int)floor((maxy - g->gy) / g->cell);
    if (*x0 < 0) *x0 = 0;
    if (*y0 < 0) *y0 = 0;
    if (*x1 >= g->ncx) *x1 = g->ncx - 1;
    if (*y1 >= g->ncy) *y1 = g->ncy - 1;
}

gw_status road_snap_index(gw_ctx *ctx, gw_road_graph *g, double cell_m)
{
    if (!g->narcs) return GW_OK;
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < g->npts; i++) {
        minx = fmin(minx, g->xy[2 * i]), maxx = fmax(maxx, g->xy[2 * i]);
        miny = fmin(miny, g->xy[2 * i + 1]), maxy = fmax(maxy, g->xy[2 * i + 1]);
    }
    g->cell = cell_m;
    while (((maxx - minx) / g->cell + 1) * ((maxy - miny) / g->cell + 1) > MAX_CELLS) g->cell *= 2;
    g->gx = minx, g->gy = miny;
    g->ncx = (int)((maxx - minx) / g->cell) + 1, g->ncy = (int)((maxy - miny) / g->cell) + 1;
    size_t cells = (size_t)g->ncx * (size_t)g->ncy;
    g->cell_off = calloc(cells + 1, sizeof *g->cell_off);
    if (!g->cell_off) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    for (int pass = 0; pass < 2; pass++) { /* count, then fill */
        uint32_t *fill = NULL;
        if (pass == 1) {
            for (size_t c = 0; c < cells; c++) g->cell_off[c + 1] += g->cell_off[c];
            g->seg = malloc((g->cell_off[cells] + 1) * sizeof *g->seg);
            fill = malloc(cells * sizeof *fill);
            if (!g->seg || !fill) {
                free(fill);
                return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            }
            memcpy(fill, g->cell_off, cells * sizeof *fill);
        }
        for (size_t a = 0; a < g->narcs; a++) {
            const road_arc *r = &g->arcs[a];
            for (uint32_t k = r->pt; k + 1 < r->pt + r->npts; k++) {
                const double *p = g->xy + 2 * k;
                int x0, y0, x1, y1;
                cell_range(g, fmin(p[0], p[2]), fmin(p[1], p[3]), fmax(p[0], p[2]),
                           fmax(p[1], p[3]), &x0, &y0, &x1, &y1);
                for (int cy = y0; cy <= y1; cy++)
                    for (int cx = x0; cx <= x1; cx++) {
                        size_t c = (size_t)cy * (size_t)g->ncx + (size_t)cx;
                        if (pass == 0) g->cell_off[c + 1]++;
                        else g->seg[fill[c]++] = (uint64_t)a << 32 | k;
                    }
            }
        }
        free(fill);
    }
    return GW_OK;
}

/* Squared distance from (x, y) to segment p..q, and the parameter t of the nearest point. */
static double seg_d2(double x, double y, const double *p, double *t)
{
    double dx = p[2] - p[0], dy = p[3] - p[1], l2 = dx * dx + dy * dy;
    double u = l2 > 0 ? ((x - p[0]) * dx + (y - p[1]) * dy) / l2 : 0;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    *t = u;
    double ex = p[0] + u * dx - x, ey = p[1] + u * dy - y;
    return ex * ex + ey * ey;
}

gw_status gw_road_snap_point(const gw_road_graph *g, double x, double y, double max_m,
                             gw_road_snap *out)
{
    if (!g || !out || !g->narcs || !isfinite(x) || !isfinite(y)) return GW_ERR_NOT_FOUND;
    int cx = (int)floor((x - g->gx) / g->cell), cy = (int)floor((y - g->gy) / g->cell);
    cx = cx < 0 ? 0 : cx >= g->ncx ? g->ncx - 1 : cx;
    cy = cy < 0 ? 0 : cy >= g->ncy ? g->ncy - 1 : cy;
    double best = INFINITY, bt = 0;
    uint64_t bseg = 0;
    int maxr = g->ncx > g->ncy ? g->ncx : g->ncy;
    for (int r = 0; r <= maxr; r++) {
        for (int yy = cy - r; yy <= cy + r; yy++) {
            if (yy < 0 || yy >= g->ncy) continue;
            int step = (yy == cy - r || yy == cy + r) ? 1 : 2 * r;
            for (int xx = cx - r; xx <= cx + r; xx += step ? step : 1) {
                if (xx < 0 || xx >= g->ncx) continue;
                size_t c = (size_t)yy * (size_t)g->ncx + (size_t)xx;
                for (uint32_t i = g->cell_off[c]; i < g->cell_off[c + 1]; i++) {
                    uint64_t sg = g->seg[i];
                    double t, d2 = seg_d2(x, y, g->xy + 2 * (uint32_t)sg, &t);
                    /* ties: the lower arc, then the lower segment */
                    if (d2 < best || (d2 == best && sg < bseg)) best = d2, bt = t, bseg = sg;
                }
                if (r == 0) break;
            }
        }
        double reach = (double)r * g->cell; /* nothing unvisited is nearer than this */
        if (best <= reach * reach) break;
        if (max_m > 0 && reach > max_m) break;
    }
    if (!isfinite(best) || (max_m > 0 && best > max_m * max_m)) return GW_ERR_NOT_FOUND;
    uint32_t arc = (uint32_t)(bseg >> 32), k = (uint32_t)bseg;
    const road_arc *a = &g->arcs[arc];
    double along = 0;
    for (uint32_t j = a->pt; j < k; j++)
        along += hypot(g->xy[2 * j + 2] - g->xy[2 * j], g->xy[2 * j + 3] - g->xy[2 * j + 1]);
    const double *p = g->xy + 2 * k;
    double sl = hypot(p[2] - p[0], p[3] - p[1]);
    along += bt * sl;
    double frac = a->len_m > 0 ? along / a->len_m : 0;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    out->arc = arc;
    out->frac = frac;
    out->dist_m = sqrt(best);
    out->x = p[0] + bt * (p[2] - p[0]), out->y = p[1] + bt * (p[3] - p[1]);
    out->to_s = a->fwd ? (1 - frac) * a->time_s : -1;
    out->from_s = a->bwd ? frac * a->time_s : -1;
    out->len_to_m = (1 - frac) * a->len_m;
    out->len_from_m = frac * a->len_m;
    return GW_OK;
}
