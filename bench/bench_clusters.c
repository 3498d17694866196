/* bench_clusters.c — how well each hot spot method finds the places where incidents really
 * concentrate (issue 16, docs/hotspots.md "Which method finds the planted hot spots").
 *
 * Usage: bench_clusters DB [--truth FILE] [--train FROM/TO --test FROM/TO] [--tz TZ] [--quick]
 *
 * Every method's answer is drawn on one 100-m scoring raster over the grids and cut into
 * connected regions (8-neighbour), so grids, lattice cells, KDE cells and circles are judged
 * alike:
 *  - recall: planted hot spots whose centre lies in a reported region (--truth);
 *  - precision: reported regions with a planted centre inside or within 300 m (--truth);
 *  - trend: recalled hot spots whose region's trend class is the planted profile's (clusters);
 *  - area %, and on the next period (--test, incidents of that window): PAI = hit share / area
 *    share, PEI = PAI / the PAI of the same area's best 100-m cells for the test incidents.
 * Methods: the clusters (clusters.h); whole-grid Gi* on count, per km² and per 10,000 residents
 * (hot at 95 %, FDR, queen); Gi* on the clusters' lattice with a distance band of the clusters'
 * max radius (hot at 95 %, FDR); KDE top 5 % of 100-m cells (ArcGIS default radius). */
#include "gridwatch/clusters.h"
#include "gridwatch/kde.h"
#include "gridwatch/store.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCORE_CELL 100.0
#define NEAR_M 300.0

typedef struct planted {
    double x, y;
    char trend[16], id[16];
} planted;

typedef struct board { /* the scoring raster */
    size_t nx, ny;
    double x0, y0;
    int32_t *grid; /* grid row of each cell centre, -1 outside */
    size_t in_cells;
    double *test; /* test incidents per cell */
    double test_n;
} board;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int die(gw_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_clusters: %s: %s\n", what, ctx ? gw_ctx_errmsg(ctx) : "");
    exit(1);
}

static planted *read_truth(const char *path, size_t *n)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) fprintf(stderr, "bench_clusters: %s: %s\n", path, err.text), exit(1);
    json_t *fs = json_object_get(j, "features");
    *n = json_array_size(fs);
    planted *p = calloc(*n ? *n : 1, sizeof *p);
    for (size_t i = 0; i < *n; i++) {
        json_t *pr = json_object_get(json_array_get(fs, i), "properties");
        p[i].x = json_number_value(json_object_get(pr, "x"));
        p[i].y = json_number_value(json_object_get(pr, "y"));
        snprintf(p[i].trend, sizeof p[i].trend, "%s",
                 json_string_value(json_object_get(pr, "trend")) ?: "");
        snprintf(p[i].id, sizeof p[i].id, "%s", json_string_value(json_object_get(pr, "id")) ?: "");
    }
    json_decref(j);
    return p;
}

static int parse_window(gw_ctx *ctx, const char *text, const char *tz, int64_t *a, int64_t *b)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (!slash) return -1;
    *slash = 0;
    return gw_time_parse(ctx, buf, tz, a) || gw_time_parse(ctx, slash + 1, tz, b);
}

static void board_make(gw_ctx *ctx, const gw_layer_data *grids, board *B)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t r = 0; r < gw_layer_data_count(grids); r++) {
        const GEOSGeometry *g = gw_layer_data_geom(grids, r, GW_MODEL_METRIC);
        double a, b, c, d;
        if (!g || !GEOSGeom_getXMin_r(h, g, &a) || !GEOSGeom_getYMin_r(h, g, &b) ||
            !GEOSGeom_getXMax_r(h, g, &c) || !GEOSGeom_getYMax_r(h, g, &d))
            continue;
        minx = fmin(minx, a), miny = fmin(miny, b), maxx = fmax(maxx, c), maxy = fmax(maxy, d);
    }
    B->x0 = minx, B->y0 = miny;
    B->nx = (size_t)ceil((maxx - minx) / SCORE_CELL),
    B->ny = (size_t)ceil((maxy - miny) / SCORE_CELL);
    size_t N = B->nx * B->ny;
    B->grid = malloc(N * sizeof *B->grid), B->test = calloc(N, sizeof *B->test);
    for (size_t k = 0; k < N; k++) {
        ptrdiff_t row = -1;
        double x = B->x0 + ((double)(k % B->nx) + 0.5) * SCORE_CELL,
               y = B->y0 + ((double)(k / B->nx) + 0.5) * SCORE_CELL;
        if (gw_layer_data_grid_at(ctx, grids, x, y, &row) != GW_OK) row = -1;
        B->grid[k] = (int32_t)row;
        B->in_cells += row >= 0;
    }
}

static long board_cell(const board *B, double x, double y)
{
    double i = floor((x - B->x0) / SCORE_CELL), j = floor((y - B->y0) / SCORE_CELL);
    if (!(i >= 0) || !(j >= 0) || i >= (double)B->nx || j >= (double)B->ny) return -1;
    return (long)j * (long)B->nx + (long)i;
}

/* A method's answer: flag[k] = 1 on reported cells; trend[k] a label index or -1. */
typedef struct answer {
    uint8_t *flag;
    int8_t *trend;
    const char *name;
    double seconds;
} answer;

static int dcmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static void score(const board *B, const answer *A, const planted *P, size_t np)
{
    size_t N = B->nx * B->ny, *stack = malloc(N * sizeof *stack);
    int32_t *comp = malloc(N * sizeof *comp);
    size_t ncomp = 0, flagged = 0;
    double hits = 0;
    for (size_t k = 0; k < N; k++) comp[k] = -1;
    for (size_t k = 0; k < N; k++) {
        if (!A->flag[k] || B->grid[k] < 0) continue;
        flagged++, hits += B->test[k];
        if (comp[k] >= 0) continue;
        size_t sp = 0;
        stack[sp++] = k, comp[k] = (int32_t)ncomp;
        while (sp) {
            size_t q = stack[--sp];
            long qi = (long)(q % B->nx), qj = (long)(q / B->nx);
            for (long dj = -1; dj <= 1; dj++)
                for (long di = -1; di <= 1; di++) {
                    long i = qi + di, j = qj + dj;
                    if (i < 0 || j < 0 || i >= (long)B->nx || j >= (long)B->ny) continue;
                    size_t m = (size_t)j * B->nx + (size_t)i;
                    if (A->flag[m] && B->grid[m] >= 0 && comp[m] < 0)
                        comp[m] = (int32_t)ncomp, stack[sp++] = m;
                }
        }
        ncomp++;
    }
    uint8_t *good = calloc(ncomp ? ncomp : 1, 1);
    size_t recalled = 0, trend_ok = 0, trend_n = 0;
    static const char *const tn[GW_CT_COUNT] = {"new", "intensifying", "persistent", "diminishing",
                                                "sporadic"};
    long R = (long)ceil(NEAR_M / SCORE_CELL);
    for (size_t p = 0; p < np; p++) {
        long k = board_cell(B, P[p].x, P[p].y);
        if (k >= 0 && comp[k] >= 0) {
            recalled++;
            if (A->trend) {
                trend_n++;
                int t = A->trend[k];
                trend_ok += t >= 0 && strcmp(tn[t], P[p].trend) == 0;
            }
        }
        long ci = k >= 0 ? k % (long)B->nx : 0, cj = k >= 0 ? k / (long)B->nx : 0;
        for (long dj = -R; k >= 0 && dj <= R; dj++)
            for (long di = -R; di <= R; di++) {
                long i = ci + di, j = cj + dj;
                if (i < 0 || j < 0 || i >= (long)B->nx || j >= (long)B->ny) continue;
                double dx = B->x0 + ((double)i + 0.5) * SCORE_CELL - P[p].x,
                       dy = B->y0 + ((double)j + 0.5) * SCORE_CELL - P[p].y;
                int32_t c = comp[(size_t)j * B->nx + (size_t)i];
                if (c >= 0 && hypot(dx, dy) <= NEAR_M + SCORE_CELL * M_SQRT1_2) good[c] = 1;
            }
    }
    size_t ngood = 0;
    for (size_t c = 0; c < ncomp; c++) ngood += good[c];
    double area = (double)flagged / (double)B->in_cells, pai = NAN, pei = NAN;
    if (B->test_n > 0 && flagged > 0) {
        pai = (hits / B->test_n) / area;
        double *v = malloc(N * sizeof *v);
        size_t m = 0;
        for (size_t k = 0; k < N; k++)
            if (B->grid[k] >= 0) v[m++] = B->test[k];
        qsort(v, m, sizeof *v, dcmp_desc);
        double best = 0;
        for (size_t k = 0; k < flagged && k < m; k++) best += v[k];
        pei = best > 0 ? hits / best : NAN;
        free(v);
    }
    printf("| %-22s | %7zu | %6.2f | ", A->name, ncomp, 100 * area);
    if (np)
        printf("%5.1f %% | %5.1f %% | ", 100.0 * (double)recalled / (double)np,
               ncomp ? 100.0 * (double)ngood / (double)ncomp : 0.0);
    else printf("   –    |    –    | ");
    if (np && A->trend)
        printf("%5.1f %% | ", trend_n ? 100.0 * (double)trend_ok / (double)trend_n : 0.0);
    else printf("   –    | ");
    printf("%6.2f | %5.3f | %6.2f |\n", pai, pei, A->seconds);
    fflush(stdout);
    free(stack), free(comp), free(good);
}

static answer answer_new(const board *B, const char *name)
{
    answer a = {.flag = calloc(B->nx * B->ny, 1), .name = name};
    return a;
}

static void answer_free(answer *a) { free(a->flag), free(a->trend); }

static void run_clusters(gw_ctx *ctx, gw_model *m, gw_model_snapshot *s, const board *B,
                         const gw_incident_filter *f, const planted *P, size_t np,
                         gw_cluster_result **keep, answer *a)
{
    gw_cluster_opts o = {.filter = *f, .metric_srid = gw_model_metric_srid(m)};
    /* the analysis' options, for experiments: GW_CL_CELL, _RADIUS, _BANDWIDTH, _MIN_RR */
    if (getenv("GW_CL_CELL")) o.cell = atof(getenv("GW_CL_CELL"));
    if (getenv("GW_CL_RADIUS")) o.max_radius = atof(getenv("GW_CL_RADIUS"));
    if (getenv("GW_CL_BANDWIDTH")) o.bandwidth = atof(getenv("GW_CL_BANDWIDTH"));
    if (getenv("GW_CL_MIN_RR")) o.min_rr = atof(getenv("GW_CL_MIN_RR"));
    if (getenv("GW_CL_NO_POPULATION")) o.no_population = 1;
    gw_cluster_result *r = NULL;
    double t0 = now();
    if (gw_clusters_find(ctx, s, NULL, &o, &r)) die(ctx, "clusters");
    a->seconds = now() - t0;
    a->trend = malloc(B->nx * B->ny);
    memset(a->trend, -1, B->nx * B->ny);
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        if (getenv("GW_BENCH_VERBOSE")) {
            double best = INFINITY;
            const planted *near = NULL;
            for (size_t p = 0; p < np; p++)
                if (hypot(P[p].x - c->x, P[p].y - c->y) < best)
                    best = hypot(P[p].x - c->x, P[p].y - c->y), near = &P[p];
            fprintf(
                stderr,
                "  #%d r %.0f c %.0f e %.1f rr %.2f llr %.1f p %.3f %s | nearest %s %.0f m %s\n",
                c->rank, c->radius, c->incidents, c->expected, c->rr, c->llr, c->p,
                gw_cluster_trend_name(c->trend), near ? near->id : "-", best,
                near ? near->trend : "");
        }
        long R = (long)ceil(c->radius / SCORE_CELL) + 1, k = board_cell(B, c->x, c->y);
        long ci = k >= 0 ? k % (long)B->nx : (long)floor((c->x - B->x0) / SCORE_CELL),
             cj = k >= 0 ? k / (long)B->nx : (long)floor((c->y - B->y0) / SCORE_CELL);
        for (long j = cj - R; j <= cj + R; j++)
            for (long ii = ci - R; ii <= ci + R; ii++) {
                if (ii < 0 || j < 0 || ii >= (long)B->nx || j >= (long)B->ny) continue;
                double dx = B->x0 + ((double)ii + 0.5) * SCORE_CELL - c->x,
                       dy = B->y0 + ((double)j + 0.5) * SCORE_CELL - c->y;
                /* the zone's cells, at least the scoring cell of the centre */
                if (hypot(dx, dy) > c->radius + 0.5 * r->cell &&
                    (long)((size_t)j * B->nx + (size_t)ii) != k)
                    continue;
                size_t q = (size_t)j * B->nx + (size_t)ii;
                a->flag[q] = 1, a->trend[q] = (int8_t)c->trend;
            }
    }
    fprintf(stderr, "clusters: %zu, cell %.0f m, max radius %.0f m, bandwidth %.0f m, %.2f s\n",
            r->n, r->cell, r->max_radius, r->bandwidth, r->seconds);
    *keep = r;
}

static int run_grid_gistar(gw_ctx *ctx, gw_model_snapshot *s, const board *B,
                           const gw_incident_filter *f, gw_hotspot_value v, answer *a)
{
    const gw_layer_data *grids = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    gw_weights_opts wo = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    gw_weights *w = NULL;
    gw_hotspot_result *r = NULL;
    double t0 = now();
    if (gw_weights_from_grids(ctx, grids, &wo, &w)) die(ctx, "weights");
    gw_hotspot_opts ho = {.filter = *f, .value = v};
    if (gw_hotspot_gistar(ctx, s, w, NULL, &ho, &r)) { /* per 10k without residents */
        printf("| %-22s | %s |\n", a->name, gw_ctx_errmsg(ctx));
        gw_weights_destroy(w);
        return -1;
    }
    a->seconds = now() - t0;
    for (size_t k = 0; k < B->nx * B->ny; k++)
        if (B->grid[k] >= 0)
            a->flag[k] = r->cls[B->grid[k]] == GW_HS_HOT_99 || r->cls[B->grid[k]] == GW_HS_HOT_95;
    gw_hotspot_result_destroy(r);
    gw_weights_destroy(w);
    return 0;
}

static void run_lattice_gistar(gw_ctx *ctx, gw_model_snapshot *s, const board *B,
                               const gw_incident_filter *f, const gw_cluster_result *cr, answer *a)
{
    double t0 = now(), cell = cr->cell;
    size_t nx = (size_t)ceil((double)B->nx * SCORE_CELL / cell),
           ny = (size_t)ceil((double)B->ny * SCORE_CELL / cell);
    size_t N = nx * ny, n = 0;
    long *unit = malloc(N * sizeof *unit);
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *cnt = calloc(N, sizeof *cnt);
    for (size_t k = 0; k < N; k++) {
        double cx = B->x0 + ((double)(k % nx) + 0.5) * cell,
               cy = B->y0 + ((double)(k / nx) + 0.5) * cell;
        long b = board_cell(B, cx, cy);
        unit[k] = b >= 0 && B->grid[b] >= 0 ? (long)n : -1;
        if (unit[k] >= 0) x[n] = cx, y[n] = cy, n++;
    }
    const gw_layer_data *inc = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
    const double *ix = gw_layer_data_x(inc, GW_MODEL_METRIC),
                 *iy = gw_layer_data_y(inc, GW_MODEL_METRIC);
    for (size_t r = 0; r < gw_layer_data_count(inc); r++) {
        if (!gw_incident_filter_match(inc, r, f)) continue;
        double i = floor((ix[r] - B->x0) / cell), j = floor((iy[r] - B->y0) / cell);
        if (!(i >= 0) || !(j >= 0) || i >= (double)nx || j >= (double)ny) continue;
        long u = unit[(size_t)j * nx + (size_t)i];
        if (u >= 0) cnt[u] += 1;
    }
    gw_weights_opts wo = {.kind = GW_WEIGHTS_DISTANCE, .distance = cr->max_radius};
    gw_weights *w = NULL;
    double *z = malloc(n * sizeof *z), *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    if (gw_weights_from_points(ctx, x, y, n, &wo, &w)) die(ctx, "lattice weights");
    if (gw_gistar(ctx, w, cnt, NULL, n, z)) die(ctx, "lattice gistar");
    for (size_t i = 0; i < n; i++) p[i] = gw_pvalue_two_sided(z[i]);
    if (gw_fdr_bh(ctx, p, n, q)) die(ctx, "fdr");
    a->seconds = now() - t0;
    for (size_t k = 0; k < B->nx * B->ny; k++) {
        if (B->grid[k] < 0) continue;
        double cx = B->x0 + ((double)(k % B->nx) + 0.5) * SCORE_CELL,
               cy = B->y0 + ((double)(k / B->nx) + 0.5) * SCORE_CELL;
        size_t i = (size_t)((cx - B->x0) / cell), j = (size_t)((cy - B->y0) / cell);
        long u = i < nx && j < ny ? unit[j * nx + i] : -1;
        a->flag[k] = u >= 0 && z[u] > 0 && q[u] <= 0.05;
    }
    gw_weights_destroy(w);
    free(unit), free(x), free(y), free(cnt), free(z), free(p), free(q);
}

static void run_kde(gw_ctx *ctx, gw_model_snapshot *s, const board *B, const gw_incident_filter *f,
                    answer *a)
{
    gw_kde_opts ko = {.cell = SCORE_CELL,
                      .has_bbox = 1,
                      .bbox = {B->x0, B->y0, B->x0 + (double)B->nx * SCORE_CELL,
                               B->y0 + (double)B->ny * SCORE_CELL}};
    gw_raster *r = NULL;
    double t0 = now();
    if (gw_kde_incidents(ctx, s, f, &ko, &r)) die(ctx, "kde");
    a->seconds = now() - t0;
    size_t N = B->nx * B->ny, m = 0;
    double *v = malloc(N * sizeof *v), *d = malloc(N * sizeof *d);
    for (size_t k = 0; k < N; k++) {
        double cx = B->x0 + ((double)(k % B->nx) + 0.5) * SCORE_CELL,
               cy = B->y0 + ((double)(k / B->nx) + 0.5) * SCORE_CELL;
        double fi = floor((cx - r->x0) / r->cell), fj = floor((r->y1 - cy) / r->cell);
        d[k] = fi >= 0 && fj >= 0 && fi < (double)r->nx && fj < (double)r->ny
                   ? r->v[(size_t)fj * r->nx + (size_t)fi]
                   : 0;
        if (B->grid[k] >= 0) v[m++] = d[k];
    }
    qsort(v, m, sizeof *v, dcmp_desc);
    double thr = m ? v[(size_t)(0.05 * (double)m)] : 0;
    for (size_t k = 0; k < N; k++) a->flag[k] = B->grid[k] >= 0 && d[k] > thr;
    free(v), free(d);
    gw_raster_destroy(r);
}

int main(int argc, char **argv)
{
    const char *db = NULL, *truth = NULL, *train = NULL, *test = NULL, *tz = "+08:00";
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--truth") && i + 1 < argc) truth = argv[++i];
        else if (!strcmp(argv[i], "--train") && i + 1 < argc) train = argv[++i];
        else if (!strcmp(argv[i], "--test") && i + 1 < argc) test = argv[++i];
        else if (!strcmp(argv[i], "--tz") && i + 1 < argc) tz = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") || db) {
            printf("usage: bench_clusters DB [--truth FILE] [--train FROM/TO --test FROM/TO] "
                   "[--tz TZ] [--quick]\n");
            return strcmp(argv[i], "--help") && strcmp(argv[i], "-h") ? 2 : 0;
        } else db = argv[i];
    }
    if (!db) return fprintf(stderr, "usage: bench_clusters DB [options] (--help)\n"), 2;
    gw_ctx *ctx = NULL;
    gw_store *store = NULL;
    gw_model *m = NULL;
    if (gw_ctx_create(&ctx)) return 1;
    if (gw_store_open(ctx, db, 0, &store) || gw_model_open(ctx, store, &m)) die(ctx, db);
    gw_model_snapshot *s = gw_model_acquire(m);
    gw_incident_filter ftrain = {0}, ftest = {0};
    if (train && parse_window(ctx, train, tz, &ftrain.from, &ftrain.to)) die(ctx, "--train");
    if (test && parse_window(ctx, test, tz, &ftest.from, &ftest.to)) die(ctx, "--test");
    ftrain.has_from = ftrain.has_to = train != NULL;
    ftest.has_from = ftest.has_to = test != NULL;
    size_t np = 0;
    planted *P = truth ? read_truth(truth, &np) : NULL;
    board B = {0};
    board_make(ctx, gw_snapshot_layer(s, GW_LAYER_GRIDS), &B);
    if (test) {
        const gw_layer_data *inc = gw_snapshot_layer(s, GW_LAYER_INCIDENTS);
        const double *ix = gw_layer_data_x(inc, GW_MODEL_METRIC),
                     *iy = gw_layer_data_y(inc, GW_MODEL_METRIC);
        for (size_t r = 0; r < gw_layer_data_count(inc); r++) {
            long k = gw_incident_filter_match(inc, r, &ftest) ? board_cell(&B, ix[r], iy[r]) : -1;
            if (k >= 0 && B.grid[k] >= 0) B.test[k] += 1, B.test_n += 1;
        }
    }
    printf("%s: %zu planted hot spots, %.0f test incidents, scoring raster %zu × %zu of %.0f m\n\n",
           db, np, B.test_n, B.nx, B.ny, SCORE_CELL);
    printf(
        "| method                 | regions | area %% | recall  | precis. | trend   |    PAI |   PEI | time s |\n");
    printf(
        "|------------------------|--------:|-------:|--------:|--------:|--------:|-------:|------:|-------:|\n");
    gw_cluster_result *cr = NULL;
    answer a = answer_new(&B, "clusters (scan)");
    run_clusters(ctx, m, s, &B, &ftrain, P, np, &cr, &a);
    score(&B, &a, P, np);
    answer_free(&a);
    static const char *const gname[3] = {"grid Gi* count", "grid Gi* per km2", "grid Gi* per 10k"};
    for (int v = 0; v < 3; v++) {
        a = answer_new(&B, gname[v]);
        if (run_grid_gistar(ctx, s, &B, &ftrain, (gw_hotspot_value)v, &a) == 0)
            score(&B, &a, P, np);
        answer_free(&a);
    }
    if (!quick) {
        a = answer_new(&B, "lattice Gi*");
        run_lattice_gistar(ctx, s, &B, &ftrain, cr, &a);
        score(&B, &a, P, np);
        answer_free(&a);
    }
    a = answer_new(&B, "KDE top 5 %");
    run_kde(ctx, s, &B, &ftrain, &a);
    score(&B, &a, P, np);
    answer_free(&a);
    gw_cluster_result_destroy(cr);
    free(P), free(B.grid), free(B.test);
    gw_model_release(ctx, s);
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}
