/* coverage_area.c — the area of grid ∩ ⋃ views without building the union: Green's theorem on
 * the boundary of the covered region.  That boundary is made of the pieces of each view's
 * boundary inside the grid and outside every other view, and the pieces of the grid's
 * boundary inside some view; area = Σ over those pieces, each oriented with the region on its
 * left, of (x1 y2 - x2 y1) / 2.  Every edge is split where it meets another polygon's edges
 * (found through a bucket grid over the grid's envelope), and each piece is classified by its
 * midpoint: views are sector fans (apex + arc chords, gw_coverage_sector), so "inside a view"
 * is a constant-time test.  Coincident pieces (two views with a common edge, a view edge on
 * the grid's edge) follow one rule: a piece on another polygon's boundary with the regions on
 * opposite sides is inside the union (dropped); with the regions on the same side it counts
 * once, for the lowest-numbered view, and a view's piece wins over the grid's.  Points within
 * EPS of a boundary are on it.  Error: a piece is misclassified only when it lies within EPS
 * of another boundary without being on it, so the area is exact up to rounding and
 * EPS x (boundary length inside the grid): below 1e-6 m² for the grids of the synthetic city
 * (tests/unit/test_coverage_area.c checks every grid against GEOS's union). */
#include "coverage_work.h"

#define EPS 1e-7 /* metres: "on a boundary" */
/* metres: a point this far from the grid's boundary is inside or outside beyond rounding */
#define INSIDE_MARGIN 1e-6
/* fmin/fmax are library calls without -ffinite-math-only: plain comparisons instead */
#define MIN2(a, b) ((a) < (b) ? (a) : (b))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))

enum { OUT = 0, IN = 1, ON = 2 };

/* One polygon's boundary edge, with the region on its left after multiplying by `s`. */
typedef struct aedge {
    double x1, y1, x2, y2;
    double tol; /* EPS as a fraction of the edge's length */
    int poly;   /* view index, or -1 - ring for the grid */
} aedge;

typedef struct aview {
    double x, y, start, f, r, step; /* metric apex, start bearing, width, radius, chord step */
    int n, disc;
    double s;   /* +1 when the ring is counter-clockwise */
    double ri2; /* squared distance of the chords from the apex, less a margin: inside the
                    wedge and nearer than this is inside the view */
    double u0x, u0y, u1x, u1y; /* unit directions of the two radii (sectors) */
    size_t v0;                 /* first vertex in the vertex buffer */
    size_t nv;                 /* ring vertices (closed) */
    gw_bbox env;               /* of the ring */
} aview;

struct covw_area {
    aview *v;
    size_t nv, capv;
    double *xy; /* view rings */
    size_t nxy, capxy;
    aedge *e;
    size_t ne, cape;
    double *gs; /* per grid ring: orientation factor */
    size_t ngr, capgr;
    size_t nge;   /* the grid's edges: e[0 .. nge) (covw_area_set_grid) */
    gw_bbox genv; /* their envelope */
    int convex;   /* one ring, convex (every turn the same way) */
    /* bucket grid over the grid's envelope: cell lists of edges and of views */
    int nx, ny;
    double cx, cy, x0, y0;
    size_t *ecell, *eidx, *vcell, *vidx; /* CSR: cell start offsets, entries */
    size_t cape_idx, capv_idx, capcells, capvcells;
    double *t; /* split parameters of one edge */
    size_t capt;
    /* per edge: first cell (i0, j0) of its box; near a grid edge (view edges: classify each
     * piece against the grid, else once per edge) */
    int *crng; /* i0, j0, i1, j1 */
    uint8_t *neargrid;
    size_t capcr, capng;
    /* split parameters of every edge, (edge, t) pairs then grouped by edge (CSR) */
    struct split {
        size_t e;
        double t;
    } * sp;
    size_t nsp, capsp;
    size_t *spstart;
    double *spt;
    size_t capspstart, capspt;
};

int covw_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return 0;
    *p = q, *cap = nc;
    return 1;
}

covw_area *covw_area_create(void) { return calloc(1, sizeof(covw_area)); }

void covw_area_destroy(covw_area *a)
{
    if (!a) return;
    free(a->v), free(a->xy), free(a->e), free(a->gs), free(a->ecell), free(a->eidx), free(a->vcell),
        free(a->vidx), free(a->t);
    free(a->crng), free(a->neargrid), free(a->sp), free(a->spstart), free(a->spt);
    free(a);
}

void covw_area_reset(covw_area *a) { a->nv = 0, a->nxy = 0, a->ne = a->nge; }

static double ring_signed(const double *xy, size_t n)
{
    double s = 0;
    for (size_t k = 0; k + 1 < n; k++)
        s += (xy[2 * k] - xy[0]) * (xy[2 * k + 3] - xy[1]) -
             (xy[2 * k + 2] - xy[0]) * (xy[2 * k + 1] - xy[1]);
    return s / 2;
}

int covw_area_add_view(covw_area *a, double x, double y, double az, double f, double r,
                       const double *ring, size_t nring)
{
    if (!covw_grow((void **)&a->v, &a->capv, a->nv + 1, sizeof *a->v) ||
        !covw_grow((void **)&a->xy, &a->capxy, a->nxy + 2 * SECTOR_CAP, sizeof *a->xy))
        return 0;
    double *xy = a->xy + a->nxy;
    size_t n = ring ? nring : gw_coverage_sector(x, y, az, f, r, xy, SECTOR_CAP);
    if (ring) memcpy(xy, ring, 2 * n * sizeof *xy);
    if (!n) return 1;
    aview *v = &a->v[a->nv++];
    v->disc = f >= 360;
    v->f = v->disc ? 360 : f;
    v->n = (int)ceil(v->f / STEP_DEG);
    v->step = v->f / v->n;
    v->start = az - v->f / 2, v->x = x, v->y = y, v->r = r;
    v->v0 = a->nxy / 2, v->nv = n;
    v->s = ring_signed(xy, n) > 0 ? 1 : -1;
    double ri = r * cos(v->step * (M_PI / 360)) - 4 * EPS;
    v->ri2 = ri > 0 ? ri * ri : 0;
    double t0 = v->start * (M_PI / 180), t1 = (v->start + v->f) * (M_PI / 180);
    v->u0x = sin(t0), v->u0y = cos(t0), v->u1x = sin(t1), v->u1y = cos(t1);
    v->env = (gw_bbox){xy[0], xy[1], xy[0], xy[1]};
    for (size_t k = 1; k < n; k++) {
        if (xy[2 * k] < v->env.minx) v->env.minx = xy[2 * k];
        if (xy[2 * k] > v->env.maxx) v->env.maxx = xy[2 * k];
        if (xy[2 * k + 1] < v->env.miny) v->env.miny = xy[2 * k + 1];
        if (xy[2 * k + 1] > v->env.maxy) v->env.maxy = xy[2 * k + 1];
    }
    a->nxy += 2 * n;
    return 1;
}

/* Where point (px, py) lies against segment (x1, y1)-(x2, y2): ON within EPS, else the side
 * (*side > 0: left). */
static int seg_on(double x1, double y1, double x2, double y2, double px, double py, double *side)
{
    double ex = x2 - x1, ey = y2 - y1, l2 = ex * ex + ey * ey;
    double cr = ex * (py - y1) - ey * (px - x1);
    *side = cr;
    if (l2 == 0) return 0;
    if (cr * cr > EPS * EPS * l2) return 0;
    double t = (ex * (px - x1) + ey * (py - y1)) / l2, tol = EPS / sqrt(l2);
    return t >= -tol && t <= 1 + tol;
}

/* Point m against view v: OUT, IN, or ON with the boundary's direction (region on the left)
 * in (*dx, *dy). */
static int view_class(const covw_area *a, const aview *v, double mx, double my, double *dx,
                      double *dy)
{
    double px = mx - v->x, py = my - v->y, d2 = px * px + py * py;
    double rr = v->r + EPS;
    if (d2 > rr * rr) return OUT;
    /* Clearly inside: nearer than every chord and clearly inside the wedge (a disc, or a
     * sector of at most 180 degrees: clockwise of the first radius, anticlockwise of the
     * second, by more than 2 EPS). */
    if (d2 < v->ri2 && d2 > 16 * EPS * EPS) {
        if (v->disc) return IN;
        if (v->f <= 180) {
            /* the cross products are the distances from the radii's lines */
            if (px * v->u0y - py * v->u0x > 2 * EPS && v->u1x * py - v->u1y * px > 2 * EPS)
                return IN;
        }
    }
    const double *xy = a->xy + 2 * v->v0;
    double side;
    if (d2 <= EPS * EPS) {
        if (v->disc) return IN;
        *dx = v->s * (xy[2] - xy[0]), *dy = v->s * (xy[3] - xy[1]); /* the apex: a vertex */
        return ON;
    }
    double u = fmod(atan2(px, py) * (180.0 / M_PI) - v->start, 360.0);
    if (u < 0) u += 360;
    if (!v->disc) {
        /* The two radii: apex -> first arc vertex, last arc vertex -> apex. */
        size_t last = v->nv - 2;
        if (seg_on(xy[0], xy[1], xy[2], xy[3], mx, my, &side)) {
            *dx = v->s * (xy[2] - xy[0]), *dy = v->s * (xy[3] - xy[1]);
            return ON;
        }
        if (seg_on(xy[2 * last], xy[2 * last + 1], xy[0], xy[1], mx, my, &side)) {
            *dx = v->s * (xy[0] - xy[2 * last]), *dy = v->s * (xy[1] - xy[2 * last + 1]);
            return ON;
        }
        if (u > v->f) return OUT;
    }
    int i = (int)(u / v->step);
    if (i >= v->n) i = v->n - 1;
    /* Chord of fan triangle i (ring vertices k, k + 1; after the apex for a sector), or of a
     * neighbour when m sits near the radius between them. */
    int lo = v->disc ? 0 : 1, hi = v->disc ? v->n - 1 : v->n, k = i + lo;
    for (int d = 0; d < 3; d++) {
        int kk = k + (d == 0 ? 0 : d == 1 ? -1 : 1);
        if (v->disc) kk = (kk + v->n) % v->n;
        else if (kk < lo || kk > hi) continue;
        if (seg_on(xy[2 * kk], xy[2 * kk + 1], xy[2 * kk + 2], xy[2 * kk + 3], mx, my, &side)) {
            *dx = v->s * (xy[2 * kk + 2] - xy[2 * kk]);
            *dy = v->s * (xy[2 * kk + 3] - xy[2 * kk + 1]);
            return ON;
        }
    }
    seg_on(xy[2 * k], xy[2 * k + 1], xy[2 * k + 2], xy[2 * k + 3], mx, my, &side);
    /* inside the fan triangle when on the apex's side of its chord */
    return side * v->s > 0 ? IN : OUT;
}

/* Point m against the grid (its edges a->e[0 .. nge)): OUT, IN or ON with direction. */
static int grid_class(const covw_area *a, size_t nge, double mx, double my, double *dx, double *dy)
{
    int wn = 0;
    for (size_t k = 0; k < nge; k++) {
        const aedge *e = &a->e[k];
        double side;
        if (seg_on(e->x1, e->y1, e->x2, e->y2, mx, my, &side)) {
            double s = a->gs[(size_t)(-e->poly - 1)];
            *dx = s * (e->x2 - e->x1), *dy = s * (e->y2 - e->y1);
            return ON;
        }
        if (e->y1 <= my) {
            if (e->y2 > my && side > 0) wn++;
        } else if (e->y2 <= my && side < 0) {
            wn--;
        }
    }
    return wn ? IN : OUT;
}

static int add_split(covw_area *a, size_t e, double t)
{
    if (!(t > 0 && t < 1)) return 1;
    if (!covw_grow((void **)&a->sp, &a->capsp, a->nsp + 1, sizeof *a->sp)) return 0;
    a->sp[a->nsp++] = (struct split){e, t};
    return 1;
}

/* Record where edges kp and kq split each other (each pair is met once): a crossing splits
 * both at the one intersection point (its parameter on each); collinear overlapping edges
 * split each other at the other's endpoints. */
static int split_pair(covw_area *a, size_t kp, size_t kq)
{
    const aedge *p = &a->e[kp], *q = &a->e[kq];
    double rx = p->x2 - p->x1, ry = p->y2 - p->y1, sx = q->x2 - q->x1, sy = q->y2 - q->y1;
    double den = rx * sy - ry * sx, l2 = rx * rx + ry * ry, sl2 = sx * sx + sy * sy;
    double qpx = q->x1 - p->x1, qpy = q->y1 - p->y1;
    if (den * den <= 1e-24 * l2 * sl2) {
        /* parallel: when collinear, the other's endpoints on each split it */
        double cr = rx * qpy - ry * qpx;
        if (cr * cr <= EPS * EPS * l2 &&
            (!add_split(a, kp, (rx * qpx + ry * qpy) / l2) ||
             !add_split(a, kp, (rx * (q->x2 - p->x1) + ry * (q->y2 - p->y1)) / l2)))
            return 0;
        double pqx = -qpx, pqy = -qpy, cr2 = sx * pqy - sy * pqx;
        if (cr2 * cr2 <= EPS * EPS * sl2 &&
            (!add_split(a, kq, (sx * pqx + sy * pqy) / sl2) ||
             !add_split(a, kq, (sx * (p->x2 - q->x1) + sy * (p->y2 - q->y1)) / sl2)))
            return 0;
        return 1;
    }
    double tt = (qpx * sy - qpy * sx) / den, uu = (qpx * ry - qpy * rx) / den;
    if (tt < -p->tol || tt > 1 + p->tol || uu < -q->tol || uu > 1 + q->tol) return 1;
    return add_split(a, kp, tt) && add_split(a, kq, uu);
}

/* Cell of coordinate v along an axis of n cells from v0 by c (clamped; no floor() call). */
static inline int cell_at(double v, double v0, double c, int n)
{
    double f = (v - v0) / c;
    if (!(f > 0)) return 0;
    return f >= n ? n - 1 : (int)f;
}

static void cells_of(const covw_area *a, const gw_bbox *b, int *i0, int *j0, int *i1, int *j1)
{
    *i0 = cell_at(b->minx, a->x0, a->cx, a->nx), *i1 = cell_at(b->maxx, a->x0, a->cx, a->nx);
    *j0 = cell_at(b->miny, a->y0, a->cy, a->ny), *j1 = cell_at(b->maxy, a->y0, a->cy, a->ny);
}

/* Counting sort of items into the cells their boxes cover (CSR: start[c] .. start[c + 1]). */
static int bucket(covw_area *a, size_t nitems, gw_bbox (*box)(const covw_area *, size_t),
                  const int *rng, size_t **start, size_t **idx, size_t *capidx)
{
    size_t nc = (size_t)a->nx * a->ny;
    size_t *st = *start;
    memset(st, 0, (nc + 1) * sizeof *st);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < nitems; k++) {
            int i0, j0, i1, j1;
            if (rng) {
                i0 = rng[4 * k], j0 = rng[4 * k + 1], i1 = rng[4 * k + 2], j1 = rng[4 * k + 3];
            } else {
                gw_bbox b = box(a, k);
                cells_of(a, &b, &i0, &j0, &i1, &j1);
            }
            for (int j = j0; j <= j1; j++)
                for (int i = i0; i <= i1; i++) {
                    size_t c = (size_t)j * a->nx + i;
                    if (pass == 0) st[c + 1]++;
                    else (*idx)[st[c]++] = k;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < nc; c++) st[c + 1] += st[c];
            if (!covw_grow((void **)idx, capidx, st[nc] + 1, sizeof **idx)) return 0;
        }
    }
    for (size_t c = nc; c > 0; c--) st[c] = st[c - 1];
    st[0] = 0;
    return 1;
}

static gw_bbox edge_box(const covw_area *a, size_t k)
{
    const aedge *e = &a->e[k];
    return (gw_bbox){MIN2(e->x1, e->x2) - EPS, MIN2(e->y1, e->y2) - EPS, MAX2(e->x1, e->x2) + EPS,
                     MAX2(e->y1, e->y2) + EPS};
}

static gw_bbox view_box(const covw_area *a, size_t k)
{
    gw_bbox b = a->v[k].env;
    b.minx -= EPS, b.miny -= EPS, b.maxx += EPS, b.maxy += EPS;
    return b;
}

static int add_edge(covw_area *a, double x1, double y1, double x2, double y2, int poly)
{
    if (x1 == x2 && y1 == y2) return 1;
    if (!covw_grow((void **)&a->e, &a->cape, a->ne + 1, sizeof *a->e)) return 0;
    double dx = x2 - x1, dy = y2 - y1;
    a->e[a->ne++] = (aedge){x1, y1, x2, y2, EPS / sqrt(dx * dx + dy * dy), poly};
    return 1;
}

/* The grid's rings as edges (poly = -1 - ring, orientation factor in gs[ring]). */
static int grid_edges(covw_area *a, GEOSContextHandle_t h, const GEOSGeometry *g)
{
    int np = GEOSGetNumGeometries_r(h, g);
    for (int p = 0; p < np; p++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(h, g, p);
        if (GEOSGeomTypeId_r(h, poly) != GEOS_POLYGON) continue; /* a clip's stray line */
        int nh = GEOSGetNumInteriorRings_r(h, poly);
        for (int r = -1; r < nh; r++) {
            const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, poly)
                                             : GEOSGetInteriorRingN_r(h, poly, r);
            const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
            unsigned n = 0;
            if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) return 0;
            if (n < 4) continue;
            if (!covw_grow((void **)&a->gs, &a->capgr, a->ngr + 1, sizeof *a->gs)) return 0;
            size_t e0 = a->ne, ri = a->ngr++;
            double px = 0, py = 0, s = 0, x0 = 0, y0 = 0;
            for (unsigned k = 0; k < n; k++) {
                double x, y;
                GEOSCoordSeq_getXY_r(h, cs, k, &x, &y);
                if (k == 0) x0 = x, y0 = y;
                else {
                    s += (px - x0) * (y - y0) - (x - x0) * (py - y0);
                    if (!add_edge(a, px, py, x, y, -1 - (int)ri)) return 0;
                }
                px = x, py = y;
            }
            /* exterior: region on the left when counter-clockwise; holes the other way */
            a->gs[ri] = (s > 0) == (r < 0) ? 1 : -1;
            (void)e0;
        }
    }
    return 1;
}

int covw_area_set_grid(covw_area *a, GEOSContextHandle_t h, const GEOSGeometry *grid)
{
    a->nv = 0, a->nxy = 0, a->ne = 0, a->ngr = 0, a->nge = 0;
    if (!grid_edges(a, h, grid)) return 0;
    a->nge = a->ne;
    a->genv = (gw_bbox){1, 1, 0, 0};
    for (size_t k = 0; k < a->nge; k++) {
        const aedge *e = &a->e[k];
        if (k == 0) a->genv = (gw_bbox){e->x1, e->y1, e->x1, e->y1};
        a->genv.minx = MIN2(a->genv.minx, MIN2(e->x1, e->x2));
        a->genv.maxx = MAX2(a->genv.maxx, MAX2(e->x1, e->x2));
        a->genv.miny = MIN2(a->genv.miny, MIN2(e->y1, e->y2));
        a->genv.maxy = MAX2(a->genv.maxy, MAX2(e->y1, e->y2));
    }
    a->convex = a->ngr == 1 && a->nge >= 3;
    for (size_t k = 0; a->convex && k < a->nge; k++) {
        const aedge *e = &a->e[k], *f = &a->e[(k + 1) % a->nge];
        double t = (e->x2 - e->x1) * (f->y2 - f->y1) - (e->y2 - e->y1) * (f->x2 - f->x1);
        if (t * a->gs[0] < 0) a->convex = 0; /* a right turn of a ring with the grid on its left */
    }
    return 1;
}

/* Largest signed distance (left positive) of points xy[0 .. n) from the line through edge
 * (x1, y1)-(x2, y2). */
static double max_left(double x1, double y1, double x2, double y2, const double *xy, size_t n)
{
    double ex = x2 - x1, ey = y2 - y1, l = sqrt(ex * ex + ey * ey), m = -INFINITY;
    if (!(l > 0)) return INFINITY;
    for (size_t k = 0; k < n; k++) {
        double d = ex * (xy[2 * k + 1] - y1) - ey * (xy[2 * k] - x1);
        if (d > m) m = d;
    }
    return m / l;
}

int covw_area_grid_meets(const covw_area *a, const double *xy, size_t n, double fov)
{
    if (!a->convex || !(fov <= 180 || fov >= 360) || n < 4) return -1;
    int undecided = 0;
    /* separating lines through the grid's edges (grid on the left when gs > 0) */
    for (size_t k = 0; k < a->nge; k++) {
        const aedge *e = &a->e[k];
        double m = a->gs[0] > 0 ? max_left(e->x1, e->y1, e->x2, e->y2, xy, n - 1)
                                : max_left(e->x2, e->y2, e->x1, e->y1, xy, n - 1);
        /* all the view's vertices on the outer side: m <= 0 means the view lies outside */
        if (m <= -INSIDE_MARGIN) return 0;
        if (m <= INSIDE_MARGIN) undecided = 1;
    }
    /* and through the view's edges, with the grid's vertices (the rings' first points) */
    double s = ring_signed(xy, n) > 0 ? 1 : -1, gv[2 * 64];
    size_t ng = a->nge < 64 ? a->nge : 0;
    if (!ng) return -1;
    for (size_t k = 0; k < ng; k++) gv[2 * k] = a->e[k].x1, gv[2 * k + 1] = a->e[k].y1;
    for (size_t k = 0; k + 1 < n; k++) {
        double x1 = xy[2 * k], y1 = xy[2 * k + 1], x2 = xy[2 * k + 2], y2 = xy[2 * k + 3];
        if (x1 == x2 && y1 == y2) continue;
        double m = s > 0 ? max_left(x1, y1, x2, y2, gv, ng) : max_left(x2, y2, x1, y1, gv, ng);
        if (m <= -INSIDE_MARGIN) return 0;
        if (m <= INSIDE_MARGIN) undecided = 1;
    }
    /* convex polygons with no separating line among their edges' lines overlap */
    return undecided ? -1 : 1;
}

int covw_area_grid_contains(const covw_area *a, double x, double y)
{
    const gw_bbox *b = &a->genv; /* outside the envelope (or on it): not clearly inside */
    if (!(x > b->minx && x < b->maxx && y > b->miny && y < b->maxy)) return 0;
    int wn = 0;
    for (size_t k = 0; k < a->nge; k++) {
        const aedge *e = &a->e[k];
        double ex = e->x2 - e->x1, ey = e->y2 - e->y1, l2 = ex * ex + ey * ey;
        double cr = ex * (y - e->y1) - ey * (x - e->x1);
        /* within INSIDE_MARGIN of the edge's segment: not clearly inside */
        double t = l2 > 0 ? (ex * (x - e->x1) + ey * (y - e->y1)) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double dx = x - (e->x1 + ex * t), dy = y - (e->y1 + ey * t);
        if (dx * dx + dy * dy <= INSIDE_MARGIN * INSIDE_MARGIN) return 0;
        if (e->y1 <= y) {
            if (e->y2 > y && cr > 0) wn++;
        } else if (e->y2 <= y && cr < 0) {
            wn--;
        }
    }
    return wn != 0;
}

int covw_area_compute(covw_area *a, const gw_bbox *genv, double *area)
{
    *area = 0;
    a->ne = a->nge;
    if (!a->nv) return 1;
    size_t nge = a->nge;
    /* view edges that reach the grid's envelope (the rest bound nothing inside the grid) */
    for (size_t i = 0; i < a->nv; i++) {
        const double *xy = a->xy + 2 * a->v[i].v0;
        for (size_t k = 0; k + 1 < a->v[i].nv; k++) {
            double x1 = xy[2 * k], y1 = xy[2 * k + 1], x2 = xy[2 * k + 2], y2 = xy[2 * k + 3];
            if (MAX2(x1, x2) < genv->minx - EPS || MIN2(x1, x2) > genv->maxx + EPS ||
                MAX2(y1, y2) < genv->miny - EPS || MIN2(y1, y2) > genv->maxy + EPS)
                continue;
            if (!add_edge(a, x1, y1, x2, y2, (int)i)) return 0;
        }
    }
    /* bucket grid: about 2 edges per cell along each axis */
    double w = genv->maxx - genv->minx, ht = genv->maxy - genv->miny;
    /* (2 and 8 edges per cell were 1.3x and 4x slower at scale 1: long edges span more cells) */
    int side = (int)ceil(sqrt((double)a->ne / 2.0));
    if (side < 1) side = 1;
    if (side > 256) side = 256;
    a->nx = a->ny = side;
    a->x0 = genv->minx, a->y0 = genv->miny;
    a->cx = w > 0 ? w / side : 1, a->cy = ht > 0 ? ht / side : 1;
    size_t nc = (size_t)side * side;
    if (!covw_grow((void **)&a->ecell, &a->capcells, nc + 1, sizeof *a->ecell) ||
        !covw_grow((void **)&a->vcell, &a->capvcells, nc + 1, sizeof *a->vcell))
        return 0;
    if (!covw_grow((void **)&a->crng, &a->capcr, 4 * a->ne + 4, sizeof *a->crng) ||
        !covw_grow((void **)&a->neargrid, &a->capng, a->ne + 1, 1) ||
        !covw_grow((void **)&a->spstart, &a->capspstart, a->ne + 2, sizeof *a->spstart))
        return 0;
    int *cr = a->crng;
    for (size_t k = 0; k < a->ne; k++) { /* each edge's cells, once */
        gw_bbox b = edge_box(a, k);
        cells_of(a, &b, &cr[4 * k], &cr[4 * k + 1], &cr[4 * k + 2], &cr[4 * k + 3]);
        a->neargrid[k] = 0;
    }
    if (!bucket(a, a->ne, edge_box, cr, &a->ecell, &a->eidx, &a->cape_idx) ||
        !bucket(a, a->nv, view_box, NULL, &a->vcell, &a->vidx, &a->capv_idx))
        return 0;
    /* Every pair of edges whose boxes meet, once: in the first cell both boxes cover. */
    a->nsp = 0;
    for (int j = 0; j < a->ny; j++)
        for (int i = 0; i < a->nx; i++) {
            size_t c = (size_t)j * a->nx + i;
            for (size_t m1 = a->ecell[c]; m1 < a->ecell[c + 1]; m1++) {
                size_t kp = a->eidx[m1];
                const aedge *p = &a->e[kp];
                gw_bbox b = edge_box(a, kp);
                for (size_t m2 = m1 + 1; m2 < a->ecell[c + 1]; m2++) {
                    size_t kq = a->eidx[m2];
                    const aedge *q = &a->e[kq];
                    if (q->poly == p->poly) continue;
                    if (MAX2(cr[4 * kp], cr[4 * kq]) != i ||
                        MAX2(cr[4 * kp + 1], cr[4 * kq + 1]) != j)
                        continue;
                    if (MAX2(q->x1, q->x2) < b.minx || MIN2(q->x1, q->x2) > b.maxx ||
                        MAX2(q->y1, q->y2) < b.miny || MIN2(q->y1, q->y2) > b.maxy)
                        continue;
                    /* a view edge near the grid's boundary: its pieces are classified against
                     * the grid one by one (else once: the class cannot change along it) */
                    if (p->poly < 0 && q->poly >= 0) a->neargrid[kq] = 1;
                    if (q->poly < 0 && p->poly >= 0) a->neargrid[kp] = 1;
                    if (!split_pair(a, kp, kq)) return 0;
                }
            }
        }
    /* the split parameters grouped by edge (counting sort) */
    if (!covw_grow((void **)&a->spt, &a->capspt, a->nsp + 1, sizeof *a->spt)) return 0;
    size_t *sst = a->spstart;
    memset(sst, 0, (a->ne + 2) * sizeof *sst);
    for (size_t m = 0; m < a->nsp; m++) sst[a->sp[m].e + 2]++;
    for (size_t k = 0; k < a->ne; k++) sst[k + 2] += sst[k + 1];
    for (size_t m = 0; m < a->nsp; m++) a->spt[sst[a->sp[m].e + 1]++] = a->sp[m].t;
    double sum = 0;
    for (size_t k = 0; k < a->ne; k++) {
        const aedge *p = &a->e[k];
        double *T = a->spt + sst[k];
        size_t nt = sst[k + 1] - sst[k];
        for (size_t m = 1; m < nt; m++) { /* few values: insertion sort */
            double tv = T[m];
            size_t q = m;
            while (q > 0 && T[q - 1] > tv) T[q] = T[q - 1], q--;
            T[q] = tv;
        }
        int gcl = -1; /* the edge's class against the grid, when the same along it */
        double s = p->poly < 0 ? a->gs[(size_t)(-p->poly - 1)] : a->v[p->poly].s;
        double ex = p->x2 - p->x1, ey = p->y2 - p->y1, dpx = s * ex, dpy = s * ey;
        double t0 = 0;
        for (size_t m = 0; m <= nt; m++) {
            double t1 = m == nt ? 1 : T[m];
            if (t1 <= t0) continue;
            double ax = p->x1 + ex * t0, ay = p->y1 + ey * t0;
            double bx = m == nt ? p->x2 : p->x1 + ex * t1, by = m == nt ? p->y2 : p->y1 + ey * t1;
            double mx = (ax + bx) / 2, my = (ay + by) / 2;
            t0 = t1;
            int keep, covered = 0;
            double dx = 0, dy = 0;
            int ci = cell_at(mx, a->x0, a->cx, a->nx), cj = cell_at(my, a->y0, a->cy, a->ny);
            size_t c = (size_t)cj * a->nx + ci;
            for (size_t q = a->vcell[c]; q < a->vcell[c + 1] && !covered; q++) {
                size_t j = a->vidx[q];
                if ((int)j == p->poly) continue;
                const gw_bbox *ve = &a->v[j].env;
                if (mx < ve->minx - EPS || mx > ve->maxx + EPS || my < ve->miny - EPS ||
                    my > ve->maxy + EPS)
                    continue;
                int cl = view_class(a, &a->v[j], mx, my, &dx, &dy);
                if (cl == IN) covered = 1;
                else if (cl == ON && p->poly >= 0) {
                    double dot = dx * dpx + dy * dpy;
                    covered = dot < 0 || (int)j < p->poly;
                }
            }
            keep = p->poly >= 0 ? !covered : covered;
            if (keep && p->poly >= 0) { /* a view's piece: only inside the grid */
                int g = gcl;
                if (g < 0) g = grid_class(a, nge, mx, my, &dx, &dy);
                if (!a->neargrid[k]) gcl = g; /* never ON: no grid edge within EPS */
                if (g == OUT || (g == ON && dx * dpx + dy * dpy < 0)) keep = 0;
            }
            /* about the envelope's corner: the terms stay small (no cancellation of 1e12s) */
            if (keep) sum += s * ((ax - a->x0) * (by - a->y0) - (bx - a->x0) * (ay - a->y0));
        }
    }
    *area = sum / 2;
    return 1;
}
