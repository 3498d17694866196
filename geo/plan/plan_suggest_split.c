/* plan_suggest_split.c — the geometry of a suggested split: a grid's principal axis (of its
 * incidents or of its area), the half planes perpendicular to it, and the offset whose two
 * pieces balance the load best while staying single, compact and over the sliver size. */
#include "plan_suggest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- geometry ------------------------------------------------------------------------------ */

/* Polsby–Popper 4πA/P² with the area on the ellipsoid and the perimeter in the metric CRS,
 * as gw_plan_balance reports compactness; *area receives A (m²). */
double sgs_compactness(sg *S, const GEOSGeometry *g, double *area)
{
    double a = pl_area_m2(&S->p, g), per = 0;
    GEOSGeometry *gm = gw_crs_transform_geom(S->p.to_m, g);
    if (gm) GEOSLength_r(S->p.h, gm, &per), GEOSGeom_destroy_r(S->p.h, gm);
    if (area) *area = a;
    return per > 0 ? 4 * M_PI * a / (per * per) : 0;
}

/* A single polygon (a Polygon, or a MultiPolygon of one part), else NULL. */
const GEOSGeometry *sgs_single(sg *S, const GEOSGeometry *g)
{
    if (!g || GEOSisEmpty_r(S->p.h, g)) return NULL;
    int t = GEOSGeomTypeId_r(S->p.h, g);
    if (t == GEOS_POLYGON) return g;
    if ((t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) &&
        GEOSGetNumGeometries_r(S->p.h, g) == 1)
        return sgs_single(S, GEOSGetGeometryN_r(S->p.h, g, 0));
    return NULL;
}

/* Area moments of a ring in the frame (signed by orientation): A, ∫x, ∫y, ∫x², ∫y², ∫xy. */
static void ring_moments(sg *S, const frame *f, const GEOSGeometry *ring, double m[6])
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(S->p.h, ring);
    unsigned n = 0;
    memset(m, 0, 6 * sizeof *m);
    if (!cs || !GEOSCoordSeq_getSize_r(S->p.h, cs, &n) || n < 4) return;
    double lon, lat, x0, y0;
    GEOSCoordSeq_getXY_r(S->p.h, cs, 0, &lon, &lat);
    to_frame(f, lon, lat, &x0, &y0);
    for (unsigned i = 1; i < n; i++) {
        double x1, y1;
        GEOSCoordSeq_getXY_r(S->p.h, cs, i, &lon, &lat);
        to_frame(f, lon, lat, &x1, &y1);
        double c = x0 * y1 - x1 * y0;
        m[0] += c / 2;
        m[1] += (x0 + x1) * c / 6;
        m[2] += (y0 + y1) * c / 6;
        m[3] += (x0 * x0 + x0 * x1 + x1 * x1) * c / 12;
        m[4] += (y0 * y0 + y0 * y1 + y1 * y1) * c / 12;
        m[5] += (x0 * y1 + 2 * x0 * y0 + 2 * x1 * y1 + x1 * y0) * c / 24;
        x0 = x1, y0 = y1;
    }
}

/* Centroid and covariance (cxx, cyy, cxy) of a polygon's area in the frame; 0 when degenerate. */
static int area_axis(sg *S, const frame *f, const GEOSGeometry *g, double c[2], double cov[3])
{
    double tot[6] = {0};
    int ng = GEOSGeomTypeId_r(S->p.h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(S->p.h, g);
    for (int k = 0; k < ng; k++) {
        const GEOSGeometry *poly = ng == 1 && GEOSGeomTypeId_r(S->p.h, g) == GEOS_POLYGON
                                       ? g
                                       : GEOSGetGeometryN_r(S->p.h, g, k);
        int nh = GEOSGetNumInteriorRings_r(S->p.h, poly);
        for (int r = -1; r < nh; r++) {
            const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(S->p.h, poly)
                                             : GEOSGetInteriorRingN_r(S->p.h, poly, r);
            double m[6];
            ring_moments(S, f, ring, m);
            /* the shell counts positive, holes negative, whatever their orientation */
            double sgn = (m[0] >= 0 ? 1 : -1) * (r < 0 ? 1 : -1);
            for (int i = 0; i < 6; i++) tot[i] += sgn * m[i];
        }
    }
    if (tot[0] <= 0) return 0;
    c[0] = tot[1] / tot[0], c[1] = tot[2] / tot[0];
    cov[0] = tot[3] / tot[0] - c[0] * c[0];
    cov[1] = tot[4] / tot[0] - c[1] * c[1];
    cov[2] = tot[5] / tot[0] - c[0] * c[1];
    return 1;
}

/* The half-plane {p : (p − c)·u < t} clipped to a square of half-size D, in lon/lat. */
static GEOSGeometry *half_plane(sg *S, const frame *f, const double c[2], const double u[2],
                                double t, double D, double line[4])
{
    double px = c[0] + t * u[0], py = c[1] + t * u[1], vx = -u[1], vy = u[0];
    double fx[5] = {px - D * vx, px + D * vx, px + D * vx - D * u[0], px - D * vx - D * u[0], 0};
    double fy[5] = {py - D * vy, py + D * vy, py + D * vy - D * u[1], py - D * vy - D * u[1], 0};
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(S->p.h, 5, 2);
    if (!cs) return NULL;
    double lon[4], lat[4];
    for (int i = 0; i < 4; i++) from_frame(f, fx[i], fy[i], &lon[i], &lat[i]);
    for (int i = 0; i < 5; i++)
        GEOSCoordSeq_setXY_r(S->p.h, cs, (unsigned)i, lon[i % 4], lat[i % 4]);
    line[0] = lon[0], line[1] = lat[0], line[2] = lon[1], line[3] = lat[1];
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(S->p.h, cs);
    return ring ? GEOSGeom_createPolygon_r(S->p.h, ring, NULL, 0) : NULL;
}

/* Try one offset t along axis u: the two pieces must be single polygons over the sliver size
 * and the compactness floor.  Loads: incidents by their side of the line, population by area.
 * Keeps the better-balanced plan in *best (NULL: only *area_frac, the H side's area share). */
static gw_status try_offset(sg *S, const sg_grid *g, const frame *f, const double c[2],
                            const double u[2], double t, double D, const double *proj, size_t np,
                            split_plan *best, double *area_frac)
{
    double line[4];
    GEOSGeometry *H = half_plane(S, f, c, u, t, D, line);
    if (!H) return pl_geos_fail(&S->p, "split (half plane)");
    GEOSGeometry *a = GEOSIntersection_r(S->p.h, g->g, H), *b = GEOSDifference_r(S->p.h, g->g, H);
    GEOSGeom_destroy_r(S->p.h, H);
    gw_status st = GW_OK;
    if (!a || !b) st = pl_geos_fail(&S->p, "split (pieces)");
    const GEOSGeometry *sa = st ? NULL : sgs_single(S, a), *sb = st ? NULL : sgs_single(S, b);
    double aa = a ? pl_area_m2(&S->p, a) : 0, ab = b ? pl_area_m2(&S->p, b) : 0;
    if (area_frac) *area_frac = aa + ab > 0 ? aa / (aa + ab) : 0;
    if (!st && best && sa && sb && aa >= SG_MIN_PIECE_M2 && ab >= SG_MIN_PIECE_M2) {
        double ppa = sgs_compactness(S, sa, NULL), ppb = sgs_compactness(S, sb, NULL);
        double l1 = 0, l2 = 0;
        if (proj) {
            for (size_t i = 0; i < np; i++) proj[i] < t ? l1++ : l2++;
        } else {
            l1 = g->load * aa / (aa + ab), l2 = g->load - l1;
        }
        double score = fabs(l1 - l2), pp = fmin(ppa, ppb);
        if (ppa >= S->floor_pp && ppb >= S->floor_pp && l1 > 0 && l2 > 0 &&
            (!best->ok || score < best->score - 1e-9 ||
             (fabs(score - best->score) <= 1e-9 && pp > best->pp))) {
            *best = (split_plan){line[0], line[1], line[2], line[3], l1, l2, score, pp, 1};
        }
    }
    if (a) GEOSGeom_destroy_r(S->p.h, a);
    if (b) GEOSGeom_destroy_r(S->p.h, b);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Plan the split of grid g (P: its incidents, for the incidents target). */
gw_status sgs_plan_split(sg *S, const sg_grid *g, const pts *P, split_plan *best)
{
    memset(best, 0, sizeof *best);
    frame f = {(g->x0 + g->x1) / 2, (g->y0 + g->y1) / 2, 0, 0};
    f.kx = 111320.0 * cos(f.lat0 * M_PI / 180);
    f.ky = 110574.0;
    double c[2], cov[3] = {0};
    int have = 0;
    if (S->incidents && P->n >= 2) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (size_t i = 0; i < P->n; i++) {
            double x, y;
            to_frame(&f, P->xy[2 * i], P->xy[2 * i + 1], &x, &y);
            sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        }
        double n = (double)P->n;
        c[0] = sx / n, c[1] = sy / n;
        cov[0] = sxx / n - c[0] * c[0], cov[1] = syy / n - c[1] * c[1];
        cov[2] = sxy / n - c[0] * c[1];
        have = cov[0] + cov[1] > 1e-6; /* all incidents at one spot: no axis from them */
    }
    if (!have && !area_axis(S, &f, g->g, c, cov)) return GW_OK;
    double th = 0.5 * atan2(2 * cov[2], cov[0] - cov[1]);
    double ex, ey, D;
    to_frame(&f, g->x1, g->y1, &ex, &ey);
    D = 4 * hypot(ex, ey) + 1;
    double *proj = S->incidents ? malloc((P->n + 1) * sizeof *proj) : NULL;
    double *sorted = S->incidents ? malloc((P->n + 1) * sizeof *sorted) : NULL;
    if (S->incidents && (!proj || !sorted)) {
        free(proj), free(sorted);
        return gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    }
    gw_status st = GW_OK;
    for (int axis = 0; !st && axis < 2 && !best->ok; axis++) {
        double u[2] = {cos(th + axis * M_PI / 2), sin(th + axis * M_PI / 2)};
        if (S->incidents) {
            for (size_t i = 0; i < P->n; i++) {
                double x, y;
                to_frame(&f, P->xy[2 * i], P->xy[2 * i + 1], &x, &y);
                proj[i] = sorted[i] = (x - c[0]) * u[0] + (y - c[1]) * u[1];
            }
            qsort(sorted, P->n, sizeof *sorted, cmp_double);
            static const double qs[] = {0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65};
            double ts[8];
            int nt = 0;
            ts[nt++] = 0; /* through the load-weighted centroid */
            for (size_t k = 0; k < sizeof qs / sizeof qs[0] && P->n >= 2; k++) {
                size_t i = (size_t)llround(qs[k] * (double)P->n);
                if (i < 1) i = 1;
                if (i > P->n - 1) i = P->n - 1;
                if (sorted[i - 1] < sorted[i]) ts[nt++] = (sorted[i - 1] + sorted[i]) / 2;
            }
            for (int k = 0; !st && k < nt; k++)
                st = try_offset(S, g, &f, c, u, ts[k], D, proj, P->n, best, NULL);
        } else {
            /* population: the offset that halves the area (bisection on the area share) */
            double lo = -D / 4, hi = D / 4, fr = 0;
            for (int it = 0; !st && it < 40; it++) {
                double mid = (lo + hi) / 2;
                st = try_offset(S, g, &f, c, u, mid, D, NULL, 0, NULL, &fr);
                if (fabs(fr - 0.5) < 1e-4) break;
                if (fr < 0.5) lo = mid;
                else hi = mid;
            }
            if (!st) st = try_offset(S, g, &f, c, u, (lo + hi) / 2, D, NULL, 0, best, NULL);
            if (!st) st = try_offset(S, g, &f, c, u, 0, D, NULL, 0, best, NULL);
        }
    }
    free(proj);
    free(sorted);
    return st;
}
