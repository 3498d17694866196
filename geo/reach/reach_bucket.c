/* reach_bucket.c — the reached pieces of a band in a bucket grid (cells of a fixed size, each
 * listing the pieces whose envelope meets it): what lets a grid, or a cell of an isochrone,
 * buffer only the pieces near it. */
#include "reach_internal.h"

#include <math.h>
#include <stdlib.h>

void rc_bucket_free(rc_bucket *b)
{
    rc_pieces_free(&b->p);
    free(b->off), free(b->item);
}

static void cell_range(const rc_bucket *b, double lo, double hi, int axis, int *c0, int *c1)
{
    double o = axis ? b->y0 : b->x0;
    int n = axis ? b->ny : b->nx;
    *c0 = (int)floor((lo - o) / b->cell), *c1 = (int)floor((hi - o) / b->cell);
    if (*c0 < 0) *c0 = 0;
    if (*c1 > n - 1) *c1 = n - 1;
}

static void piece_env(const rc_pieces *p, size_t k, gw_bbox *e)
{
    *e = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t j = p->off[k]; j < p->off[k + 1]; j++) {
        double x = p->xy[2 * j], y = p->xy[2 * j + 1];
        if (x < e->minx) e->minx = x;
        if (x > e->maxx) e->maxx = x;
        if (y < e->miny) e->miny = y;
        if (y > e->maxy) e->maxy = y;
    }
}

/* Index b->p's pieces by the cells their envelope covers (two passes: count, fill). */
int rc_bucket_index(rc_bucket *b, double cell)
{
    const rc_pieces *p = &b->p;
    gw_bbox all = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t j = 0; j < p->npts; j++) {
        double x = p->xy[2 * j], y = p->xy[2 * j + 1];
        all.minx = fmin(all.minx, x), all.maxx = fmax(all.maxx, x);
        all.miny = fmin(all.miny, y), all.maxy = fmax(all.maxy, y);
    }
    if (!p->n) return 0;
    b->cell = cell, b->x0 = all.minx, b->y0 = all.miny;
    b->nx = (int)((all.maxx - all.minx) / b->cell) + 1,
    b->ny = (int)((all.maxy - all.miny) / b->cell) + 1;
    size_t nc = (size_t)b->nx * (size_t)b->ny;
    if (!(b->off = calloc(nc + 1, sizeof *b->off))) return -1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < p->n; k++) {
            gw_bbox e;
            piece_env(p, k, &e);
            int x0, x1, y0, y1;
            cell_range(b, e.minx, e.maxx, 0, &x0, &x1);
            cell_range(b, e.miny, e.maxy, 1, &y0, &y1);
            for (int cy = y0; cy <= y1; cy++)
                for (int cx = x0; cx <= x1; cx++) {
                    size_t c = (size_t)cy * (size_t)b->nx + (size_t)cx;
                    if (pass == 0) b->off[c + 1]++;
                    else b->item[b->off[c]++] = k;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < nc; c++) b->off[c + 1] += b->off[c];
            if (!(b->item = malloc((b->off[nc] + 1) * sizeof *b->item))) return -1;
        } else {
            for (size_t c = nc; c > 0; c--) b->off[c] = b->off[c - 1];
            b->off[0] = 0;
        }
    }
    return 0;
}

/* The pieces of b near box (deduplicated with stamp/mark) into *which. */
size_t rc_bucket_near(const rc_bucket *b, const gw_bbox *box, uint32_t *stamp, uint32_t mark,
                      size_t **which, size_t *cap)
{
    if (!b->p.n) return 0;
    int x0, x1, y0, y1;
    cell_range(b, box->minx, box->maxx, 0, &x0, &x1);
    cell_range(b, box->miny, box->maxy, 1, &y0, &y1);
    size_t m = 0;
    for (int cy = y0; cy <= y1; cy++)
        for (int cx = x0; cx <= x1; cx++) {
            size_t c = (size_t)cy * (size_t)b->nx + (size_t)cx;
            for (size_t j = b->off[c]; j < b->off[c + 1]; j++) {
                size_t k = b->item[j];
                if (stamp[k] == mark) continue;
                stamp[k] = mark;
                if (m == *cap) {
                    size_t c2 = *cap ? 2 * *cap : 256;
                    size_t *q = realloc(*which, c2 * sizeof *q);
                    if (!q) return (size_t)-1;
                    *which = q, *cap = c2;
                }
                (*which)[m++] = k;
            }
        }
    return m;
}
