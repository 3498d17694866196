/* clusters.c — hot spot clusters of incidents (see clusters.h): the lattice, the scale of
 * analysis, the background, the scan, then each cluster's grids, time series and trend. */
#include "cluster_internal.h"
#include "gridwatch/crs.h"
#include "gridwatch/emerging.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_OCCURRED = 1 }; /* incident field */

/* GW_CLUSTERS_TRACE=1 prints each phase's time to stderr. */
#define TRACE(what)                                                                                \
    do {                                                                                           \
        if (trace) fprintf(stderr, "clusters: %-24s %.3f s\n", what, now_s() - t0);                \
    } while (0)

static const char *const trend_names[GW_CT_COUNT] = {"new", "intensifying", "persistent",
                                                     "diminishing", "sporadic"};

const char *gw_cluster_trend_name(gw_cluster_trend t)
{
    return (unsigned)t < GW_CT_COUNT ? trend_names[t] : "unknown";
}

/* One-sided Poisson upper tail P(X >= c | mean e), by the series of the lower terms. */
static double poisson_upper(double c, double e)
{
    if (c <= 0) return 1;
    if (e <= 0) return 0;
    double k = floor(c) - 1, term = exp(-e), sum = term;
    if (term == 0) { /* large e: the normal approximation with continuity correction */
        double z = (c - 0.5 - e) / sqrt(e);
        return 0.5 * erfc(z / M_SQRT2);
    }
    for (double i = 1; i <= k; i++) term *= e / i, sum += term;
    return sum >= 1 ? 0 : 1 - sum;
}

gw_cluster_trend gw_cluster_trend_classify(const double *counts, const double *expected,
                                           size_t steps, double alpha, double *mk_z)
{
    if (mk_z) *mk_z = NAN;
    if (steps == 0) return GW_CT_SPORADIC;
    size_t hot = 0, first = steps;
    for (size_t t = 0; t < steps; t++)
        if (counts[t] >= 1.5 * expected[t] && poisson_upper(counts[t], expected[t]) <= 0.05) {
            hot++;
            if (first == steps) first = t;
        }
    int hot_end = steps && counts[steps - 1] >= 1.5 * expected[steps - 1] &&
                  poisson_upper(counts[steps - 1], expected[steps - 1]) <= 0.05;
    double scratch[512];
    gw_mann_kendall mk = {.z = NAN, .p = NAN};
    if (steps <= 256) mk = gw_mann_kendall_test(counts, steps, scratch);
    if (mk_z) *mk_z = mk.z;
    int up = mk.p <= alpha && mk.z > 0, down = mk.p <= alpha && mk.z < 0;
    if (hot_end && 3 * first >= 2 * steps) return GW_CT_NEW;
    if (up && hot_end) return GW_CT_INTENSIFYING;
    if (down) return GW_CT_DIMINISHING;
    if (5 * hot >= 4 * steps) return GW_CT_PERSISTENT;
    return GW_CT_SPORADIC;
}

void gw_cluster_result_destroy(gw_cluster_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->c[i].series), free(r->c[i].grids);
    free(r->c), free(r->grid_clusters), free(r->grid_max_rr);
    free(r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The filtered incidents inside the grids: metric positions and times. */
typedef struct pts {
    double *x, *y;
    int64_t *t;
    size_t n;
} pts;

static gw_status collect(gw_ctx *ctx, const gw_layer_data *inc, const int32_t *inc_grid,
                         const gw_incident_filter *f, pts *P)
{
    size_t ni = gw_layer_data_count(inc);
    const double *x = gw_layer_data_x(inc, GW_MODEL_METRIC),
                 *y = gw_layer_data_y(inc, GW_MODEL_METRIC);
    const int64_t *t = gw_layer_data_ints(inc, F_OCCURRED);
    const uint8_t *tn = gw_layer_data_nulls(inc, F_OCCURRED);
    memset(P, 0, sizeof *P);
    P->x = malloc((ni ? ni : 1) * sizeof *P->x), P->y = malloc((ni ? ni : 1) * sizeof *P->y);
    P->t = malloc((ni ? ni : 1) * sizeof *P->t);
    if (!P->x || !P->y || !P->t)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (clusters of %zu incidents)", ni);
    for (size_t r = 0; r < ni; r++) {
        if (inc_grid[r] < 0 || !x || !isfinite(x[r]) || !isfinite(y[r]) || !t || (tn && tn[r]))
            continue;
        if (!gw_incident_filter_match(inc, r, f)) continue;
        P->x[P->n] = x[r], P->y[P->n] = y[r], P->t[P->n] = t[r], P->n++;
    }
    return GW_OK;
}

static void pts_free(pts *P) { free(P->x), free(P->y), free(P->t); }

/* The cells of a zone (centre cell k, radius r) in visit order; returns their count. */
static size_t zone_cells(const cl_lattice *L, size_t k, double r, long *out, size_t cap)
{
    long R = (long)floor(r / L->cell + 1e-9), ci = (long)(k % L->nx), cj = (long)(k / L->nx);
    double r2 = (r / L->cell) * (r / L->cell) + 1e-9;
    size_t n = 0;
    for (long dj = -R; dj <= R; dj++)
        for (long di = -R; di <= R; di++) {
            long i = ci + di, j = cj + dj;
            if ((double)(di * di + dj * dj) > r2 || i < 0 || j < 0 || i >= (long)L->nx ||
                j >= (long)L->ny || n >= cap)
                continue;
            out[n++] = j * (long)L->nx + i;
        }
    return n;
}

static gw_status fill_clusters(gw_ctx *ctx, const cl_lattice *L, const gw_scan_zone *z, size_t nz,
                               const pts *P, const long *cell_of, size_t ngrids,
                               const gw_cluster_opts *o, double alpha, gw_cluster_result *r)
{
    size_t N = L->nx * L->ny, steps = (size_t)r->steps;
    r->c = calloc(nz ? nz : 1, sizeof *r->c);
    int32_t *label = malloc(N * sizeof *label);
    long *cells = malloc(N < 1u << 20 ? N * sizeof *cells : (1u << 20) * sizeof *cells);
    double *tot_t = calloc(steps, sizeof *tot_t);
    r->grid_clusters = calloc(ngrids ? ngrids : 1, sizeof *r->grid_clusters);
    r->grid_max_rr = calloc(ngrids ? ngrids : 1, sizeof *r->grid_max_rr);
    r->grid_count = ngrids;
    if (!r->c || !label || !cells || !tot_t || !r->grid_clusters || !r->grid_max_rr) {
        free(label), free(cells), free(tot_t);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (clusters)");
    }
    for (size_t k = 0; k < N; k++) label[k] = -1;
    size_t cap = N < 1u << 20 ? N : 1u << 20;
    double C = r->incidents;
    for (size_t i = 0; i < nz && r->n < (o->max_clusters ? o->max_clusters : 500); i++) {
        const gw_scan_zone *s = &z[i];
        double rr = C - s->c > 0 && C - s->e > 0 ? (s->c / s->e) / ((C - s->c) / (C - s->e))
                                                 : INFINITY;
        if (!(s->p <= alpha)) continue;
        gw_cluster *c = &r->c[r->n];
        c->rank = (int)r->n + 1;
        c->x = L->x0 + ((double)(s->centre % L->nx) + 0.5) * L->cell;
        c->y = L->y0 + ((double)(s->centre / L->nx) + 0.5) * L->cell;
        c->lon = c->lat = NAN;
        c->radius = s->radius, c->incidents = s->c, c->expected = s->e, c->rr = rr;
        c->llr = s->llr, c->p = s->p, c->recent_p = NAN;
        c->series = calloc(steps ? steps : 1, sizeof *c->series);
        size_t nc = zone_cells(L, s->centre, s->radius, cells, cap);
        c->grids = malloc((nc ? nc : 1) * sizeof *c->grids);
        r->n++;
        if (!c->series || !c->grids) {
            free(label), free(cells), free(tot_t);
            return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (clusters)");
        }
        for (size_t q = 0; q < nc; q++) {
            label[cells[q]] = (int32_t)(r->n - 1);
            int32_t g = L->grid[cells[q]];
            if (g < 0) continue;
            size_t m = 0;
            while (m < c->n_grids && c->grids[m] != g) m++;
            if (m == c->n_grids) c->grids[c->n_grids++] = g;
        }
        for (size_t m = 0; m < c->n_grids; m++) {
            int32_t g = c->grids[m];
            r->grid_clusters[g]++;
            if (rr > r->grid_max_rr[g]) r->grid_max_rr[g] = rr;
        }
    }
    double span = (double)(r->to - r->from + 1);
    for (size_t i = 0; i < P->n; i++) {
        double f = ((double)(P->t[i] - r->from)) / span;
        size_t st = f < 0 ? 0 : f >= 1 ? steps - 1 : (size_t)(f * (double)steps);
        tot_t[st] += 1;
        if (cell_of[i] >= 0 && label[cell_of[i]] >= 0) r->c[label[cell_of[i]]].series[st] += 1;
    }
    double ex[256];
    for (size_t i = 0; i < r->n; i++) {
        gw_cluster *c = &r->c[i];
        for (size_t t = 0; t < steps && t < 256; t++)
            ex[t] = c->expected * tot_t[t] / (C > 0 ? C : 1);
        c->trend = gw_cluster_trend_classify(c->series, ex, steps, 0.05, &c->trend_z);
    }
    free(label), free(cells), free(tot_t);
    return GW_OK;
}

static void lonlat(gw_ctx *ctx, gw_cluster_result *r, int srid)
{
    gw_crs_transform *tr = NULL;
    if (srid <= 0 || gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, srid},
                                             (gw_crs){GW_CRS_EPSG, 4326}, &tr) != GW_OK) {
        gw_ctx_clear_error(ctx);
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        double x = r->c[i].x, y = r->c[i].y;
        if (gw_crs_transform_points(tr, &x, &y, 1) == GW_OK) r->c[i].lon = x, r->c[i].lat = y;
    }
    gw_ctx_clear_error(ctx);
    gw_crs_transform_destroy(tr);
}

/* The options' ranges. */
static gw_status check_opts(gw_ctx *ctx, const gw_cluster_opts *o)
{
    if (o->cell < 0 || o->max_radius < 0 || o->bandwidth < 0 || o->min_rr < 0 || o->alpha < 0 ||
        o->alpha >= 1 || o->replications < 0 || o->steps < 0 || o->steps > 256 || o->threads < 0)
        return gw_ctx_error(ctx, GW_ERR_ARG, "clusters: an option is out of range");
    if ((o->cell && (o->cell < 10 || o->cell > 5000)) || o->max_radius > 20000 ||
        o->bandwidth > 50000 || o->replications > 9999)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "clusters: cell %g m (10–5,000), max_radius %g m (<= 20 km), "
                            "bandwidth %g m (<= 50 km), replications %d (<= 9,999)",
                            o->cell, o->max_radius, o->bandwidth, o->replications);
    return GW_OK;
}

/* The result's time span: the filter's ends, else the incidents' first and last times. */
static void time_span(gw_cluster_result *r, const pts *P, const gw_incident_filter *f)
{
    r->from = f->has_from ? f->from : INT64_MAX;
    r->to = f->has_to ? f->to : INT64_MIN;
    for (size_t i = 0; i < P->n; i++) {
        if (!f->has_from && P->t[i] < r->from) r->from = P->t[i];
        if (!f->has_to && P->t[i] > r->to) r->to = P->t[i];
    }
    if (P->n == 0) r->from = r->to = 0;
}

/* The lattice L of *cell metres with the incidents counted (cell_of: each incident's cell).
 * Unless the cell, radius and bandwidth are all given, the scale comes from the first peak
 * *dstar of Moran's I z of the excess over a wide background (incremental spatial
 * autocorrelation) on a 100-m lattice, and the lattice is made again at the cell it implies;
 * *pop is the population surface of the last lattice made (or NULL). */
static gw_status choose_scale(gw_ctx *ctx, const gw_layer_data *grids, const pts *P,
                              const gw_cluster_opts *o, long *cell_of, cl_lattice *L, double **pop,
                              double *cell, double *dstar)
{
    int trace = getenv("GW_CLUSTERS_TRACE") != NULL;
    gw_status st;
    for (int pass = 0; pass < 2; pass++) {
        if ((st = cl_lattice_make(ctx, grids, *cell, L))) return st;
        for (size_t i = 0; i < P->n; i++) {
            cell_of[i] = cl_lattice_cell_of(L, P->x[i], P->y[i]);
            if (cell_of[i] >= 0) L->count[cell_of[i]] += 1, L->in[cell_of[i]] = 1;
        }
        if (pass == 1 || (o->max_radius && o->bandwidth && o->cell)) break;
        free(*pop);
        *pop = o->no_population ? NULL : cl_population(L, grids);
        if ((st = cl_background(ctx, L, 1000, *pop))) return st;
        double zs[64], ds[64];
        size_t nb = 64;
        *dstar = cl_isa_radius(L, 800, zs, ds, &nb);
        if (trace)
            for (size_t b = 0; b < nb && b < 64; b++)
                fprintf(stderr, "isa %.0f m z %.2f\n", ds[b], zs[b]);
        double want = o->cell ? o->cell : fmin(300, fmax(100, 25 * round(*dstar / 1.5 / 25)));
        if (want == *cell) break;
        cl_lattice_free(L);
        free(*pop), *pop = NULL;
        *cell = want;
    }
    return GW_OK;
}

gw_status gw_clusters_find(gw_ctx *ctx, gw_model_snapshot *snap, const int32_t *inc_grid,
                           const gw_cluster_opts *opts, gw_cluster_result **out)
{
    *out = NULL;
    gw_cluster_opts o = opts ? *opts : (gw_cluster_opts){0};
    double t0 = now_s();
    int trace = getenv("GW_CLUSTERS_TRACE") != NULL;
    gw_status st = check_opts(ctx, &o);
    if (st) return st;
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!grids || !inc || gw_layer_data_count(grids) == 0)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "clusters: no grids");
    size_t ni = gw_layer_data_count(inc);
    int32_t *own = NULL;
    if (!inc_grid) {
        if (!(own = malloc((ni ? ni : 1) * sizeof *own)))
            return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        st = gw_hotspot_incident_grids(ctx, grids, inc, own);
        if (st) return free(own), st;
        inc_grid = own;
    }
    pts P;
    st = collect(ctx, inc, inc_grid, &o.filter, &P);
    free(own);
    if (st) return pts_free(&P), st;
    gw_cluster_result *r = calloc(1, sizeof *r);
    if (!r) return pts_free(&P), gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    r->metric_srid = o.metric_srid;
    r->incidents = (double)P.n;
    r->replications = o.replications ? o.replications : 99;
    r->steps = o.steps ? o.steps : 12;
    time_span(r, &P, &o.filter);
    /* The scale: the first peak d* of Moran's I z of the excess over a wide background
     * (incremental spatial autocorrelation) on a 100-m lattice, or on the given cell. */
    double cell = o.cell ? o.cell : 100, radius = o.max_radius, bw = o.bandwidth, dstar = NAN;
    cl_lattice L = {0};
    double *pop = NULL;
    long *cell_of = malloc((P.n ? P.n : 1) * sizeof *cell_of);
    if (!cell_of) {
        pts_free(&P), free(r);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    if ((st = choose_scale(ctx, grids, &P, &o, cell_of, &L, &pop, &cell, &dstar))) goto fail;
    TRACE("lattice");
    if (!radius) radius = fmin(1500, fmax(2 * cell, 2 * dstar));
    if (!bw) bw = fmax(cell, isnan(dstar) ? radius / 2 : dstar);
    r->cell = cell;
    r->scale_reason = o.cell && o.max_radius && o.bandwidth
                          ? "given"
                          : "from the first peak D of incremental spatial autocorrelation of "
                            "the excess: cell 2D/3 (100-300 m), max radius 2D, bandwidth D";
    r->max_radius = radius, r->bandwidth = bw;
    if (!pop && !o.no_population) pop = cl_population(&L, grids);
    r->population = pop != NULL;
    if ((st = cl_background(ctx, &L, bw, pop))) goto fail;
    gw_lattice lat = {.nx = L.nx,
                      .ny = L.ny,
                      .x0 = L.x0,
                      .y0 = L.y0,
                      .cell = L.cell,
                      .in = L.in,
                      .count = L.count,
                      .expected = L.expected};
    gw_scan_opts so = {.max_radius = radius,
                       .replications = r->replications,
                       .seed = o.seed ? o.seed : 1,
                       .threads = o.threads ? o.threads : 2,
                       .max_zones = 4 * (o.max_clusters ? o.max_clusters : 500),
                       .min_rr = o.min_rr ? o.min_rr : 1.75};
    gw_scan_zone *z = NULL;
    size_t nz = 0;
    TRACE("background");
    if ((st = gw_scan_lattice(ctx, &lat, &so, &z, &nz, NULL))) goto fail;
    TRACE("scan");
    st = fill_clusters(ctx, &L, z, nz, &P, cell_of, gw_layer_data_count(grids), &o,
                       o.alpha ? o.alpha : 0.05, r);
    free(z);
    if (st) goto fail;
    if (o.recent_days >= 0 && (st = cl_recent_scan(ctx, &L, cell_of, P.t, P.n, r->to,
                                                   o.recent_days ? o.recent_days : 30, &o, r)))
        goto fail;
    lonlat(ctx, r, o.metric_srid);
    TRACE("trends, space-time scan");
    r->seconds = now_s() - t0;
    free(cell_of), free(pop), cl_lattice_free(&L), pts_free(&P);
    *out = r;
    return GW_OK;
fail:
    free(cell_of), free(pop), cl_lattice_free(&L), pts_free(&P);
    gw_cluster_result_destroy(r);
    return st;
}

size_t gw_cluster_result_add_incident(gw_cluster_result *r, double x, double y)
{
    if (!r) return 0;
    size_t changed = 0;
    double C = r->incidents + 1;
    for (size_t i = 0; i < r->n; i++) {
        gw_cluster *c = &r->c[i];
        c->expected *= C / (r->incidents > 0 ? r->incidents : 1);
        if (hypot(x - c->x, y - c->y) <= c->radius) {
            c->incidents += 1, changed++;
            if (r->steps > 0) c->series[r->steps - 1] += 1;
        }
        c->rr = C - c->incidents > 0 && C - c->expected > 0
                    ? (c->incidents / c->expected) / ((C - c->incidents) / (C - c->expected))
                    : INFINITY;
        c->llr = gw_scan_llr(c->incidents, c->expected, C);
    }
    r->incidents = C;
    /* every cluster's RR moved (the expected counts were rescaled): the grids' highest RR too */
    for (size_t i = 0; r->grid_max_rr && i < r->n; i++)
        for (size_t m = 0; m < r->c[i].n_grids; m++)
            if ((size_t)r->c[i].grids[m] < r->grid_count) r->grid_max_rr[r->c[i].grids[m]] = 0;
    for (size_t i = 0; r->grid_max_rr && i < r->n; i++)
        for (size_t m = 0; m < r->c[i].n_grids; m++) {
            size_t g = (size_t)r->c[i].grids[m];
            if (g < r->grid_count && r->c[i].rr > r->grid_max_rr[g]) r->grid_max_rr[g] = r->c[i].rr;
        }
    return changed;
}

/* Closed circle of `segments` vertices around c, metric. */
static void ring_points(const gw_cluster *c, int segments, double *xs, double *ys)
{
    for (int k = 0; k < segments; k++) {
        double a = 2 * M_PI * k / segments;
        xs[k] = c->x + c->radius * cos(a), ys[k] = c->y + c->radius * sin(a);
    }
    xs[segments] = xs[0], ys[segments] = ys[0];
}

/* n metric positions of EPSG:srid to lon/lat in place, through one transformation. */
static gw_status to_lonlat(gw_ctx *ctx, int srid, double *xs, double *ys, size_t n)
{
    gw_crs_transform *tr = NULL;
    gw_status st = gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, srid},
                                           (gw_crs){GW_CRS_EPSG, 4326}, &tr);
    if (st) return st;
    st = gw_crs_transform_points(tr, xs, ys, n);
    gw_crs_transform_destroy(tr);
    return st;
}

gw_status gw_cluster_ring(gw_ctx *ctx, const gw_cluster_result *r, const gw_cluster *c,
                          int segments, double *xs, double *ys)
{
    if (segments < 8 || !r || !c)
        return gw_ctx_error(ctx, GW_ERR_ARG, "cluster ring: bad arguments");
    ring_points(c, segments, xs, ys);
    return to_lonlat(ctx, r->metric_srid, xs, ys, (size_t)segments + 1);
}

gw_status gw_cluster_rings(gw_ctx *ctx, const gw_cluster_result *r, int segments, double *xs,
                           double *ys)
{
    if (segments < 8 || !r) return gw_ctx_error(ctx, GW_ERR_ARG, "cluster rings: bad arguments");
    size_t per = (size_t)segments + 1;
    for (size_t i = 0; i < r->n; i++) ring_points(&r->c[i], segments, xs + i * per, ys + i * per);
    return r->n ? to_lonlat(ctx, r->metric_srid, xs, ys, r->n * per) : GW_OK;
}
