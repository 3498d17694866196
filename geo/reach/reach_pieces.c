/* reach_pieces.c — the reached parts of the roads within a band, and their buffer: the one
 * construction behind every response-time area (reach.h says what it is and its tolerance).
 * The isochrone of a point (reach_iso.c) and the grid shares from the police rooms
 * (reach_grids.c) differ only in where the node times come from. */
#include "reach_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gw_reach_opts rc_opts(const gw_reach_opts *o)
{
    gw_reach_opts r = o ? *o : (gw_reach_opts){0};
    if (!(r.width_m > 0)) r.width_m = 100;
    if (!(r.max_snap_m > 0)) r.max_snap_m = 1000;
    if (r.quad_segs <= 0) r.quad_segs = 8;
    return r;
}

void rc_pieces_free(rc_pieces *p)
{
    if (!p) return;
    free(p->xy), free(p->off);
    memset(p, 0, sizeof *p);
}

static void put_pt(rc_pieces *p, double x, double y)
{
    if (p->oom) return;
    if (p->npts == p->cap) {
        size_t c = p->cap ? 2 * p->cap : 1024;
        double *q = realloc(p->xy, 2 * c * sizeof *q);
        if (!q) {
            p->oom = 1;
            return;
        }
        p->xy = q, p->cap = c;
    }
    p->xy[2 * p->npts] = x, p->xy[2 * p->npts + 1] = y, p->npts++;
}

static void end_piece(rc_pieces *p)
{
    if (p->oom) return;
    if (p->n + 2 > p->offcap) {
        size_t c = p->offcap ? 2 * p->offcap : 1024;
        size_t *q = realloc(p->off, c * sizeof *q);
        if (!q) {
            p->oom = 1;
            return;
        }
        p->off = q, p->offcap = c;
    }
    if (p->n == 0) p->off[0] = 0;
    p->off[++p->n] = p->npts;
}

/* Append the stretch of the arc's polyline from fraction f0 to f1 of its planar length. */
static void add_sub(rc_pieces *p, const gw_road_arc *a, double f0, double f1)
{
    const double *xy = a->xy;
    double total = 0;
    for (size_t k = 0; k + 1 < a->npts; k++)
        total += hypot(xy[2 * k + 2] - xy[2 * k], xy[2 * k + 3] - xy[2 * k + 1]);
    double s0 = f0 * total, s1 = f1 * total, acc = 0;
    if (!(s1 > s0)) return;
    size_t start = p->npts;
    for (size_t k = 0; k + 1 < a->npts; k++) {
        double x0 = xy[2 * k], y0 = xy[2 * k + 1], x1 = xy[2 * k + 2], y1 = xy[2 * k + 3];
        double d = hypot(x1 - x0, y1 - y0), e = acc + d;
        if (e >= s0 && acc <= s1 && d > 0) {
            if (p->npts == start) {
                double t = (s0 - acc) / d;
                put_pt(p, x0 + t * (x1 - x0), y0 + t * (y1 - y0));
            }
            if (e <= s1) put_pt(p, x1, y1);
            else {
                double t = (s1 - acc) / d;
                put_pt(p, x0 + t * (x1 - x0), y0 + t * (y1 - y0));
                break;
            }
        }
        acc = e;
    }
    if (p->npts - start >= 2) {
        p->len_m += (f1 - f0) * a->length_m;
        end_piece(p);
    } else p->npts = start;
}

typedef struct ivl {
    double a, b;
} ivl;

static int ivl_cmp(const void *x, const void *y)
{
    const ivl *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

/* The share of an edge of time `time` driven in `left` seconds (1 when all of it). */
static double part(double left, double time)
{
    if (!(left > 0)) return 0;
    if (!(time > 0) || left >= time) return 1;
    return left / time;
}

int rc_pieces_build(const gw_road_graph *g, const double *node_t, const gw_road_snap *src,
                    size_t nsrc, double max_s, rc_pieces *p)
{
    size_t na = gw_road_graph_arcs(g);
    /* the sources by arc: a sorted list of (arc, source) */
    size_t *order = NULL;
    if (nsrc) {
        order = malloc(nsrc * sizeof *order);
        if (!order) return -1;
        for (size_t i = 0; i < nsrc; i++) order[i] = i;
        /* insertion by arc: few sources per call in practice; rooms are a few thousand */
        for (size_t i = 1; i < nsrc; i++) {
            size_t v = order[i], j = i;
            while (j > 0 && src[order[j - 1]].arc > src[v].arc) order[j] = order[j - 1], j--;
            order[j] = v;
        }
    }
    size_t si = 0;
    ivl iv[64];
    for (size_t i = 0; i < na && !p->oom; i++) {
        gw_road_arc a;
        if (gw_road_graph_arc(g, i, &a)) break;
        size_t k = 0;
        double tf = node_t[a.from], tt = node_t[a.to];
        if (a.fwd && tf < max_s) iv[k++] = (ivl){0, part(max_s - tf, a.time_s)};
        if (a.bwd && tt < max_s) iv[k++] = (ivl){1 - part(max_s - tt, a.time_s), 1};
        while (si < nsrc && src[order[si]].arc < i) si++;
        for (; si < nsrc && src[order[si]].arc == i; si++) {
            const gw_road_snap *s = &src[order[si]];
            if (k + 2 > sizeof iv / sizeof iv[0]) continue; /* more sources on one arc than fit */
            if (s->to_s >= 0)
                iv[k++] = (ivl){s->frac, s->frac + (1 - s->frac) * part(max_s, s->to_s)};
            if (s->from_s >= 0)
                iv[k++] = (ivl){s->frac - s->frac * part(max_s, s->from_s), s->frac};
        }
        if (!k) continue;
        qsort(iv, k, sizeof iv[0], ivl_cmp);
        double a0 = iv[0].a, b0 = iv[0].b;
        for (size_t j = 1; j <= k; j++) {
            if (j < k && iv[j].a <= b0) {
                if (iv[j].b > b0) b0 = iv[j].b;
                continue;
            }
            add_sub(p, &a, fmax(0, a0), fmin(1, b0));
            if (j < k) a0 = iv[j].a, b0 = iv[j].b;
        }
    }
    free(order);
    return p->oom ? -1 : 0;
}

static int seg_meets(const double *q, const gw_bbox *b)
{
    double x0 = fmin(q[0], q[2]), x1 = fmax(q[0], q[2]), y0 = fmin(q[1], q[3]),
           y1 = fmax(q[1], q[3]);
    return x1 >= b->minx && x0 <= b->maxx && y1 >= b->miny && y0 <= b->maxy;
}

static GEOSGeometry *line_of(GEOSContextHandle_t h, const double *xy, size_t n)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
    return cs ? GEOSGeom_createLineString_r(h, cs) : NULL;
}

GEOSGeometry *rc_buffer(GEOSContextHandle_t h, const rc_pieces *p, const size_t *which, size_t n,
                        const gw_bbox *box, double w, int quad_segs)
{
    size_t cap = 64, m = 0;
    GEOSGeometry **ls = malloc(cap * sizeof *ls);
    if (!ls) return NULL;
    int fail = 0;
    for (size_t i = 0; i < n && !fail; i++) {
        size_t k = which ? which[i] : i, a = p->off[k], b = p->off[k + 1];
        size_t run = a;
        for (size_t j = a; j < b; j++) {
            /* segment j..j+1 of the piece; a run ends at a segment outside the box */
            int in = j + 1 < b && (!box || seg_meets(p->xy + 2 * j, box));
            if (in) continue;
            if (j > run) {
                if (m == cap) {
                    GEOSGeometry **q = realloc(ls, 2 * cap * sizeof *q);
                    if (!q) {
                        fail = 1;
                        break;
                    }
                    ls = q, cap *= 2;
                }
                if (!(ls[m] = line_of(h, p->xy + 2 * run, j - run + 1))) {
                    fail = 1;
                    break;
                }
                m++;
            }
            run = j + 1;
        }
    }
    GEOSGeometry *out = NULL;
    if (!fail && m == 0) out = GEOSGeom_createEmptyPolygon_r(h);
    else if (!fail) {
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, ls, (unsigned)m);
        /* on a 1 cm grid the buffer nodes its curves by snap-rounding at once: three times
         * faster than the floating noder, which fails on the many touching caps and retries */
        GEOSGeometry *fixed = coll ? GEOSGeom_setPrecision_r(h, coll, RC_GRID_M, 0) : NULL;
        if (coll) {
            m = 0; /* owned by the collection */
            out = fixed ? GEOSBuffer_r(h, fixed, w, quad_segs) : NULL;
            GEOSGeom_destroy_r(h, coll);
        }
        if (fixed) GEOSGeom_destroy_r(h, fixed);
    }
    for (size_t i = 0; i < m; i++) GEOSGeom_destroy_r(h, ls[i]);
    free(ls);
    return out;
}
