/* cluster_lattice.c — the lattice under the cluster scan: the study-area raster (which grid
 * holds each cell's centre), the background (Gaussian-smoothed counts over the smoothed study
 * area) and the scale of analysis from incremental spatial autocorrelation of the excess
 * (see clusters.h and cluster_internal.h). */
#include "cluster_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define POP_RATE_BW 2000.0 /* metres: the smoothing of incidents per resident */

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Even-odd fill of one polygon (all its rings) into the raster: cells whose centre is inside
 * get grid id `row`. */
static int fill_polygon(GEOSContextHandle_t h, const GEOSGeometry *poly, cl_lattice *L, int32_t row,
                        double **xs, size_t *cap)
{
    double minx, miny, maxx, maxy;
    if (!GEOSGeom_getXMin_r(h, poly, &minx) || !GEOSGeom_getYMin_r(h, poly, &miny) ||
        !GEOSGeom_getXMax_r(h, poly, &maxx) || !GEOSGeom_getYMax_r(h, poly, &maxy))
        return 0;
    long j0 = (long)floor((miny - L->y0) / L->cell - 0.5),
         j1 = (long)ceil((maxy - L->y0) / L->cell);
    if (j0 < 0) j0 = 0;
    if (j1 >= (long)L->ny) j1 = (long)L->ny - 1;
    int nr = GEOSGetNumInteriorRings_r(h, poly);
    for (long j = j0; j <= j1; j++) {
        double yc = L->y0 + ((double)j + 0.5) * L->cell;
        size_t n = 0;
        for (int r = -1; r < nr; r++) {
            const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, poly)
                                             : GEOSGetInteriorRingN_r(h, poly, r);
            const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
            unsigned m = 0;
            if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &m) || m < 2) continue;
            double px, py;
            GEOSCoordSeq_getXY_r(h, cs, 0, &px, &py);
            for (unsigned k = 1; k < m; k++) {
                double qx, qy;
                GEOSCoordSeq_getXY_r(h, cs, k, &qx, &qy);
                if ((py <= yc) != (qy <= yc)) {
                    if (n == *cap) {
                        size_t nc = *cap ? 2 * *cap : 64;
                        double *g = realloc(*xs, nc * sizeof *g);
                        if (!g) return -1;
                        *xs = g, *cap = nc;
                    }
                    (*xs)[n++] = px + (yc - py) * (qx - px) / (qy - py);
                }
                px = qx, py = qy;
            }
        }
        if (n > 1) qsort(*xs, n, sizeof **xs, dcmp);
        for (size_t k = 0; k + 1 < n; k += 2) {
            long i0 = (long)ceil(((*xs)[k] - L->x0) / L->cell - 0.5),
                 i1 = (long)ceil(((*xs)[k + 1] - L->x0) / L->cell - 0.5) - 1;
            if (i0 < 0) i0 = 0;
            if (i1 >= (long)L->nx) i1 = (long)L->nx - 1;
            for (long i = i0; i <= i1; i++) L->grid[(size_t)j * L->nx + (size_t)i] = row;
        }
    }
    return 0;
}

gw_status cl_lattice_make(gw_ctx *ctx, const gw_layer_data *grids, double cell, cl_lattice *L)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t ng = gw_layer_data_count(grids);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t r = 0; r < ng; r++) {
        const GEOSGeometry *g = gw_layer_data_geom(grids, r, GW_MODEL_METRIC);
        double a, b, c, d;
        if (!g || GEOSisEmpty_r(h, g) == 1 || !GEOSGeom_getXMin_r(h, g, &a) ||
            !GEOSGeom_getYMin_r(h, g, &b) || !GEOSGeom_getXMax_r(h, g, &c) ||
            !GEOSGeom_getYMax_r(h, g, &d))
            continue;
        minx = fmin(minx, a), miny = fmin(miny, b), maxx = fmax(maxx, c), maxy = fmax(maxy, d);
    }
    if (!(maxx > minx) || !(maxy > miny))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "clusters: the grids cover no area");
    memset(L, 0, sizeof *L);
    L->cell = cell;
    L->nx = (size_t)ceil((maxx - minx) / cell) + 1, L->ny = (size_t)ceil((maxy - miny) / cell) + 1;
    if ((double)L->nx * (double)L->ny > 4e7)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "clusters: %zu × %zu cells of %g m is too fine for this area; choose a "
                            "larger cell",
                            L->nx, L->ny, cell);
    L->x0 = minx - 0.5 * cell, L->y0 = miny - 0.5 * cell;
    size_t N = L->nx * L->ny;
    L->grid = malloc(N * sizeof *L->grid);
    L->in = calloc(N, 1);
    L->count = calloc(N, sizeof *L->count);
    L->expected = calloc(N, sizeof *L->expected);
    if (!L->grid || !L->in || !L->count || !L->expected) {
        cl_lattice_free(L);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (%zu lattice cells)", N);
    }
    for (size_t k = 0; k < N; k++) L->grid[k] = -1;
    double *xs = NULL;
    size_t cap = 0;
    for (size_t r = 0; r < ng; r++) {
        const GEOSGeometry *g = gw_layer_data_geom(grids, r, GW_MODEL_METRIC);
        if (!g) continue;
        int np = GEOSGetNumGeometries_r(h, g);
        for (int p = 0; p < np; p++) {
            const GEOSGeometry *poly = GEOSGetGeometryN_r(h, g, p);
            if (poly && GEOSGeomTypeId_r(h, poly) == GEOS_POLYGON &&
                fill_polygon(h, poly, L, (int32_t)r, &xs, &cap)) {
                free(xs), cl_lattice_free(L);
                return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (lattice fill)");
            }
        }
    }
    free(xs);
    for (size_t k = 0; k < N; k++) L->in[k] = L->grid[k] >= 0;
    return GW_OK;
}

void cl_lattice_free(cl_lattice *L)
{
    free(L->grid), free(L->in), free(L->count), free(L->expected);
    memset(L, 0, sizeof *L);
}

long cl_lattice_cell_of(const cl_lattice *L, double x, double y)
{
    double fi = floor((x - L->x0) / L->cell), fj = floor((y - L->y0) / L->cell);
    if (!(fi >= 0) || !(fj >= 0) || fi >= (double)L->nx || fj >= (double)L->ny) return -1;
    return (long)fj * (long)L->nx + (long)fi;
}

/* One box pass of radius r (cells beyond the lattice count as 0) along rows, or along columns
 * a whole row at a time (cache-friendly: a running sum per column). */
static void box_pass(const double *src, double *dst, size_t nx, size_t ny, long r, int along_x)
{
    if (along_x) {
        for (size_t l = 0; l < ny; l++) {
            const double *s = src + l * nx;
            double *d = dst + l * nx, acc = 0;
            for (long i = 0; i < r && i < (long)nx; i++) acc += s[i];
            for (long i = 0; i < (long)nx; i++) {
                if (i + r < (long)nx) acc += s[i + r];
                if (i - r - 1 >= 0) acc -= s[i - r - 1];
                d[i] = acc;
            }
        }
        return;
    }
    double *acc = dst; /* row j of dst is the running sum after rows [j - r, j + r] */
    memset(acc, 0, nx * sizeof *acc);
    for (long j = 0; j < r && j < (long)ny; j++)
        for (size_t i = 0; i < nx; i++) acc[i] += src[(size_t)j * nx + i];
    for (long j = 0; j < (long)ny; j++) {
        double *d = dst + (size_t)j * nx;
        const double *prev = j ? dst + (size_t)(j - 1) * nx : NULL;
        const double *add = j + r < (long)ny ? src + (size_t)(j + r) * nx : NULL,
                     *sub = j - r - 1 >= 0 ? src + (size_t)(j - r - 1) * nx : NULL;
        for (size_t i = 0; i < nx; i++) {
            double v = (prev ? prev[i] : acc[i]) + (add ? add[i] : 0) - (sub ? sub[i] : 0);
            d[i] = v;
        }
    }
}

/* A Gaussian of sigma cells as three box passes per axis (each box of width w adds (w² − 1)/12
 * to the variance), in O(cells) whatever sigma; src is kept, tmp is scratch. */
static void gauss(const double *src, double *dst, double *tmp, size_t nx, size_t ny, double sigma)
{
    long r = lround((sqrt(4 * sigma * sigma + 1) - 1) / 2);
    if (r < 1) r = 1;
    box_pass(src, tmp, nx, ny, r, 1);
    box_pass(tmp, dst, nx, ny, r, 1);
    box_pass(dst, tmp, nx, ny, r, 1);
    box_pass(tmp, dst, nx, ny, r, 0);
    box_pass(dst, tmp, nx, ny, r, 0);
    box_pass(tmp, dst, nx, ny, r, 0);
}

gw_status cl_background(gw_ctx *ctx, cl_lattice *L, double bandwidth, const double *pop)
{
    size_t N = L->nx * L->ny;
    double *a = calloc(N, sizeof *a), *b = malloc(N * sizeof *b), *m = calloc(N, sizeof *m),
           *t = malloc(N * sizeof *t);
    if (!a || !b || !m || !t) {
        free(a), free(b), free(m), free(t);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (background of %zu cells)", N);
    }
    for (size_t k = 0; k < N; k++) a[k] = L->in[k];
    gauss(L->count, b, t, L->nx, L->ny, bandwidth / L->cell); /* smoothed counts */
    gauss(a, m, t, L->nx, L->ny, bandwidth / L->cell);        /* smoothed study area */
    double E = 0;
    for (size_t k = 0; k < N; k++) {
        L->expected[k] = L->in[k] && m[k] > 0 ? b[k] / m[k] : 0;
        E += L->expected[k];
    }
    if (pop) { /* residents × incidents per resident, both smoothed over POP_RATE_BW */
        gauss(L->count, b, t, L->nx, L->ny, POP_RATE_BW / L->cell);
        gauss(pop, m, t, L->nx, L->ny, POP_RATE_BW / L->cell);
        for (size_t k = 0; k < N; k++)
            if (L->in[k] && pop[k] > 0 && m[k] > 0 && pop[k] * b[k] / m[k] > L->expected[k])
                L->expected[k] = pop[k] * b[k] / m[k];
        E = 0;
        for (size_t k = 0; k < N; k++) E += L->expected[k];
    }
    double C = 0, floor_e = E > 0 ? 1e-3 * E / (double)N : 1e-9;
    E = 0;
    for (size_t k = 0; k < N; k++)
        if (L->in[k]) {
            if (L->expected[k] < floor_e) L->expected[k] = floor_e;
            E += L->expected[k], C += L->count[k];
        }
    if (E > 0)
        for (size_t k = 0; k < N; k++) L->expected[k] *= C / E;
    free(a), free(b), free(m), free(t);
    return GW_OK;
}

/* One thread's share of the incremental spatial autocorrelation: focal rows [j0, j1). */
typedef struct isa_job {
    const cl_lattice *L;
    const double *res, *inq;
    const int *odi, *odj;
    const long *loff;
    const uint32_t *oband;
    size_t no, nband, j0, j1;
    long R;
    double *cross, *W, *S2; /* out: nband each, malloc'ed together (NULL: out of memory) */
} isa_job;

static void *isa_rows(void *arg)
{
    isa_job *J = arg;
    const cl_lattice *L = J->L;
    size_t nb = J->nband;
    double *acc = calloc(5 * nb, sizeof *acc);
    if (!acc) return NULL;
    double *sum_b = acc + 3 * nb, *cnt_b = acc + 4 * nb;
    for (size_t cj = J->j0; cj < J->j1; cj++)
        for (size_t ci = 0; ci < L->nx; ci++) {
            size_t k = cj * L->nx + ci;
            if (!L->in[k]) continue;
            int inner = (long)ci >= J->R && (long)cj >= J->R && (long)ci + J->R < (long)L->nx &&
                        (long)cj + J->R < (long)L->ny;
            memset(sum_b, 0, 2 * nb * sizeof *sum_b);
            if (inner)
                for (size_t o = 0; o < J->no; o++) {
                    long q = (long)k + J->loff[o];
                    sum_b[J->oband[o]] += J->res[q], cnt_b[J->oband[o]] += J->inq[q];
                }
            else
                for (size_t o = 0; o < J->no; o++) {
                    long i = (long)ci + J->odi[o], j = (long)cj + J->odj[o];
                    if (i < 0 || j < 0 || i >= (long)L->nx || j >= (long)L->ny) continue;
                    size_t q = (size_t)j * L->nx + (size_t)i;
                    sum_b[J->oband[o]] += J->res[q], cnt_b[J->oband[o]] += J->inq[q];
                }
            double sacc = 0, cacc = 0, zk = J->res[k];
            for (size_t b = 0; b < nb; b++) {
                sacc += sum_b[b], cacc += cnt_b[b];
                acc[b] += zk * sacc, acc[nb + b] += cacc, acc[2 * nb + b] += 4 * cacc * cacc;
            }
        }
    J->cross = acc, J->W = acc + nb, J->S2 = acc + 2 * nb;
    return NULL;
}

/* The offsets of the neighbourhood of radius R cells (self excluded) with their distance band:
 * every distinct distance up to R is a band, its squared distance in cells d2s[band]. */
typedef struct isa_offsets {
    int *odi, *odj;
    uint32_t *oband;
    long *d2s;
    size_t no, nband;
} isa_offsets;

static void isa_offsets_free(isa_offsets *o)
{
    free(o->odi), free(o->odj), free(o->oband), free(o->d2s);
}

static int isa_offsets_make(isa_offsets *o, int R)
{
    long R2 = (long)R * R;
    size_t cap = (size_t)(2 * R + 1) * (size_t)(2 * R + 1);
    *o = (isa_offsets){malloc(cap * sizeof *o->odi),
                       malloc(cap * sizeof *o->odj),
                       malloc(cap * sizeof *o->oband),
                       malloc((size_t)(R2 + 1) * sizeof *o->d2s),
                       0,
                       0};
    uint32_t *band_of = malloc((size_t)(R2 + 1) * sizeof *band_of);
    uint8_t *seen = calloc((size_t)R2 + 1, 1);
    if (!o->odi || !o->odj || !o->oband || !o->d2s || !band_of || !seen) {
        free(band_of), free(seen), isa_offsets_free(o);
        return -1;
    }
    for (int dj = -R; dj <= R; dj++)
        for (int di = -R; di <= R; di++) {
            long q2 = (long)di * di + (long)dj * dj;
            if (q2 > 0 && q2 <= R2) seen[q2] = 1;
        }
    for (long q = 1; q <= R2; q++)
        if (seen[q]) band_of[q] = (uint32_t)o->nband, o->d2s[o->nband++] = q;
    for (int dj = -R; dj <= R; dj++)
        for (int di = -R; di <= R; di++) {
            long q2 = (long)di * di + (long)dj * dj;
            if (q2 > 0 && q2 <= R2)
                o->odi[o->no] = di, o->odj[o->no] = dj, o->oband[o->no++] = band_of[q2];
        }
    free(band_of), free(seen);
    return 0;
}

/* Moran's I z per band from the sums; the first peak above 1.96 (else the largest z) as a
 * distance in metres; zs/ds as cl_isa_radius's. */
static double isa_peak(const cl_lattice *L, const isa_offsets *of, double n, double m2,
                       const double *cross, const double *W, const double *S2, double *zs,
                       double *ds, const size_t *nb)
{
    double prev = -INFINITY, zmax = -INFINITY, dmax = 2 * L->cell, first = NAN;
    for (size_t b = 0; b < of->nband; b++) { /* every band, for zs and ds */
        double I = n / W[b] * cross[b] / m2, EI = -1 / (n - 1), S1 = 2 * W[b];
        double var = (n * n * S1 - n * S2[b] + 3 * W[b] * W[b]) / (W[b] * W[b] * (n * n - 1)) -
                     EI * EI;
        double z = var > 0 ? (I - EI) / sqrt(var) : NAN, d = L->cell * sqrt((double)of->d2s[b]);
        if (zs && nb && b < *nb) zs[b] = z, ds[b] = d;
        if (z > zmax) zmax = z, dmax = d;
        if (isnan(first) && b > 0 && prev > z && prev > 1.96)
            first = L->cell * sqrt((double)of->d2s[b - 1]);
        prev = z;
    }
    return isnan(first) ? dmax : first;
}

double cl_isa_radius(const cl_lattice *L, double max_d, double *zs, double *ds, size_t *nb)
{
    int R = (int)floor(max_d / L->cell + 1e-9);
    double best_d = 2 * L->cell; /* the fallback */
    isa_offsets of = {0};
    if (R < 1 || isa_offsets_make(&of, R)) goto out;
    size_t N = L->nx * L->ny, no = of.no, nband = of.nband;
    double n = 0, mean = 0, m2 = 0;
    for (size_t k = 0; k < N; k++)
        if (L->in[k]) n += 1, mean += L->count[k] - L->expected[k];
    mean /= n > 0 ? n : 1;
    for (size_t k = 0; k < N; k++)
        if (L->in[k]) {
            double z = L->count[k] - L->expected[k] - mean;
            m2 += z * z;
        }
    double *cross = calloc(nband, sizeof *cross), *W = calloc(nband, sizeof *W),
           *S2 = calloc(nband, sizeof *S2);
    if (!cross || !W || !S2 || n < 3 || !(m2 > 0)) {
        free(cross), free(W), free(S2);
        goto out;
    }
    double *res = malloc(N * sizeof *res), *inq = malloc(N * sizeof *inq);
    long *loff = malloc((no ? no : 1) * sizeof *loff);
    if (!res || !inq || !loff) {
        free(res), free(inq), free(loff), free(cross), free(W), free(S2);
        goto out;
    }
    for (size_t k = 0; k < N; k++) /* residuals and the area as numbers: no branch per pair */
        res[k] = L->in[k] ? L->count[k] - L->expected[k] - mean : 0, inq[k] = L->in[k];
    for (size_t o = 0; o < no; o++) loff[o] = (long)of.odj[o] * (long)L->nx + of.odi[o];
    isa_job jobs[2];
    pthread_t th;
    for (int t = 0; t < 2; t++)
        jobs[t] = (isa_job){.L = L,
                            .res = res,
                            .inq = inq,
                            .odi = of.odi,
                            .odj = of.odj,
                            .loff = loff,
                            .oband = of.oband,
                            .no = no,
                            .nband = nband,
                            .R = R,
                            .j0 = t == 0 ? 0 : L->ny / 2,
                            .j1 = t == 0 ? L->ny / 2 : L->ny};
    int started = pthread_create(&th, NULL, isa_rows, &jobs[1]) == 0;
    isa_rows(&jobs[0]);
    if (started) pthread_join(th, NULL);
    else isa_rows(&jobs[1]);
    int failed = 0;
    for (int t = 0; t < 2; t++) {
        failed |= !jobs[t].cross;
        for (size_t b = 0; jobs[t].cross && b < nband; b++)
            cross[b] += jobs[t].cross[b], W[b] += jobs[t].W[b], S2[b] += jobs[t].S2[b];
        free(jobs[t].cross);
    }
    free(res), free(inq), free(loff);
    if (!failed) best_d = isa_peak(L, &of, n, m2, cross, W, S2, zs, ds, nb);
    free(cross), free(W), free(S2);
out:
    if (nb) *nb = of.nband;
    isa_offsets_free(&of);
    return best_d;
}

double *cl_population(const cl_lattice *L, const gw_layer_data *grids)
{
    enum { F_POPULATION = 4 }; /* grid field */
    const int64_t *pop = gw_layer_data_ints(grids, F_POPULATION);
    const uint8_t *nul = gw_layer_data_nulls(grids, F_POPULATION);
    size_t ng = gw_layer_data_count(grids), N = L->nx * L->ny, any = 0;
    if (!pop) return NULL;
    for (size_t g = 0; g < ng; g++) any += (!nul || !nul[g]) && pop[g] > 0;
    if (!any) return NULL;
    double *cells = calloc(ng ? ng : 1, sizeof *cells), *out = calloc(N, sizeof *out);
    if (!cells || !out) return free(cells), free(out), NULL;
    for (size_t k = 0; k < N; k++)
        if (L->grid[k] >= 0) cells[L->grid[k]] += 1;
    for (size_t k = 0; k < N; k++) {
        int32_t g = L->grid[k];
        if (g >= 0 && (!nul || !nul[g]) && pop[g] > 0) out[k] = (double)pop[g] / cells[g];
    }
    free(cells);
    return out;
}
