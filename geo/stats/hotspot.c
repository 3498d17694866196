/* hotspot.c — counts and rates of incidents per grid and the Getis-Ord Gi* hot spot analysis.
 *
 * Gi* follows spdep::localG with include.self() and binary weights to the last bit of the
 * formula (population variance, n − 1 in the variance term), so that a planner can check any
 * figure against R.  Classes come from two-sided p-values, BH-adjusted unless told otherwise. */
#include "gridwatch/hotspot.h"
#include "gridwatch/kde.h"
#include "stats_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_OCCURRED = 1, F_CATEGORY = 2, F_SEVERITY = 3, F_GRID = 6 }; /* incident fields */
enum { F_POPULATION = 4 };                                           /* grid fields */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

gw_status gw_gistar(gw_ctx *ctx, const gw_weights *w, const double *x, const uint8_t *valid,
                    size_t n, double *z)
{
    if (!w || !x || !z) return gw_ctx_error(ctx, GW_ERR_ARG, "gistar: NULL argument");
    if (gw_weights_count(w) != n)
        return gw_ctx_error(ctx, GW_ERR_ARG, "gistar: %zu values for weights over %zu units", n,
                            gw_weights_count(w));
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!valid || valid[i]) {
            if (!isfinite(x[i]))
                return gw_ctx_error(ctx, GW_ERR_RANGE, "gistar: value %zu is not finite", i);
            sum += x[i];
            m++;
        }
    if (m < 2)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "gistar: needs at least 2 units with a value (have %zu)", m);
    double mean = sum / (double)m, ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!valid || valid[i]) ss += (x[i] - mean) * (x[i] - mean);
    double s = sqrt(ss / (double)m);
    if (!(s > 0))
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "gistar: all %zu values are equal (%g); no hot spots can be told apart",
                            m, mean);
    double dm = (double)m;
    for (size_t i = 0; i < n; i++) {
        z[i] = NAN;
        if (valid && !valid[i]) continue;
        size_t k;
        const uint32_t *nb = gw_weights_neighbours(w, i, &k);
        double lag = x[i], wi = 1;
        for (size_t q = 0; q < k; q++)
            if (!valid || valid[nb[q]]) lag += x[nb[q]], wi += 1;
        if (wi < 2) continue; /* no neighbour */
        /* binary weights: S1_i = Σ w² = W_i */
        double var = (dm * wi - wi * wi) / (dm - 1);
        if (!(var > 0)) continue;
        z[i] = (lag - mean * wi) / (s * sqrt(var));
    }
    return GW_OK;
}

double gw_pvalue_two_sided(double z)
{
    if (isnan(z)) return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}

typedef struct pv {
    double p;
    size_t i;
} pv;

static int cmp_pv(const void *a, const void *b)
{
    const pv *x = a, *y = b;
    if (x->p < y->p) return -1;
    if (x->p > y->p) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

gw_status gw_fdr_bh(gw_ctx *ctx, const double *p, size_t n, double *q)
{
    pv *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (FDR over %zu values)", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        q[i] = NAN;
        if (!isnan(p[i])) v[m++] = (pv){p[i], i};
    }
    qsort(v, m, sizeof *v, cmp_pv);
    /* q_(k) = min over j >= k of m p_(j) / j, capped at 1 (as R p.adjust "BH") */
    double run = 1;
    for (size_t k = m; k-- > 0;) {
        double a = (double)m * v[k].p / (double)(k + 1);
        if (a < run) run = a;
        q[v[k].i] = run;
    }
    free(v);
    return GW_OK;
}

static const char *const class_names[GW_HS_CLASS_COUNT] = {
    "not_significant", "hot_99",  "hot_95",        "hot_90",   "cold_99",
    "cold_95",         "cold_90", "no_neighbours", "no_value",
};

const char *gw_hotspot_class_name(gw_hotspot_class c)
{
    return (unsigned)c < GW_HS_CLASS_COUNT ? class_names[c] : "unknown";
}

gw_hotspot_class gw_hotspot_classify(double z, double p)
{
    if (isnan(z) || isnan(p)) return GW_HS_NO_NEIGHBOURS;
    int lvl = p <= 0.01 ? 0 : p <= 0.05 ? 1 : p <= 0.10 ? 2 : -1;
    if (lvl < 0 || z == 0) return GW_HS_NOT_SIGNIFICANT;
    return (gw_hotspot_class)((z > 0 ? GW_HS_HOT_99 : GW_HS_COLD_99) + lvl);
}

static const char *const value_names[] = {"count", "per_km2", "per_10k"};

gw_status gw_hotspot_value_parse(gw_ctx *ctx, const char *text, gw_hotspot_value *out)
{
    for (int i = 0; i < 3; i++)
        if (text && strcmp(text, value_names[i]) == 0) {
            *out = (gw_hotspot_value)i;
            return GW_OK;
        }
    return gw_ctx_error(ctx, GW_ERR_ARG, "value '%s': use count, per_km2 or per_10k",
                        text ? text : "");
}

const char *gw_hotspot_value_name(gw_hotspot_value v)
{
    return (unsigned)v < 3 ? value_names[v] : "unknown";
}

/* ---- incidents to grids, filters and counts --------------------------------------------- */

gw_status stats_incident_grid(gw_ctx *ctx, const gw_layer_data *grids,
                              const gw_layer_data *incidents, size_t r, int32_t *out)
{
    const char *g = gw_layer_data_text(incidents, r, F_GRID);
    ptrdiff_t row = g ? gw_layer_data_find(grids, g) : -1;
    if (row < 0) { /* no grid recorded, or one of an older version: locate the point */
        gw_status st = gw_layer_data_grid_at(ctx, grids,
                                             gw_layer_data_x(incidents, GW_MODEL_METRIC)[r],
                                             gw_layer_data_y(incidents, GW_MODEL_METRIC)[r], &row);
        if (st) return st;
    }
    *out = (int32_t)row;
    return GW_OK;
}

gw_status gw_hotspot_incident_grids(gw_ctx *ctx, const gw_layer_data *grids,
                                    const gw_layer_data *incidents, int32_t *rows)
{
    if (!grids || !incidents || gw_layer_data_layer(grids) != GW_LAYER_GRIDS ||
        gw_layer_data_layer(incidents) != GW_LAYER_INCIDENTS)
        return gw_ctx_error(ctx, GW_ERR_ARG, "hotspots need the grids and incidents layers");
    size_t n = gw_layer_data_count(incidents);
    for (size_t r = 0; r < n; r++) {
        gw_status st = stats_incident_grid(ctx, grids, incidents, r, &rows[r]);
        if (st) return st;
    }
    return GW_OK;
}

static int category_in(const char *cat, const char *list)
{
    if (!cat) return 0;
    size_t cl = strlen(cat);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == cl && memcmp(s, cat, len) == 0) return 1;
        if (!e) break;
        s = e + 1;
    }
    return 0;
}

int gw_incident_filter_match(const gw_layer_data *incidents, size_t row,
                             const gw_incident_filter *f)
{
    if (!f) return 1;
    if (f->has_from || f->has_to) {
        const int64_t *t = gw_layer_data_ints(incidents, F_OCCURRED);
        const uint8_t *tn = gw_layer_data_nulls(incidents, F_OCCURRED);
        if (!t || (tn && tn[row])) return 0;
        if (f->has_from && t[row] < f->from) return 0;
        if (f->has_to && t[row] > f->to) return 0;
    }
    if (f->severity_min > 0 || f->severity_max > 0) {
        const int64_t *s = gw_layer_data_ints(incidents, F_SEVERITY);
        const uint8_t *sn = gw_layer_data_nulls(incidents, F_SEVERITY);
        if (!s || (sn && sn[row])) return 0;
        if (f->severity_min > 0 && s[row] < f->severity_min) return 0;
        if (f->severity_max > 0 && s[row] > f->severity_max) return 0;
    }
    if (f->category && *f->category &&
        !category_in(gw_layer_data_text(incidents, row, F_CATEGORY), f->category))
        return 0;
    return 1;
}

gw_status gw_hotspot_counts(gw_ctx *ctx, const gw_layer_data *grids, const gw_layer_data *incidents,
                            const int32_t *inc_grid, const gw_incident_filter *f, double *counts)
{
    size_t ng = gw_layer_data_count(grids), ni = gw_layer_data_count(incidents);
    int32_t *own = NULL;
    if (!inc_grid) {
        own = malloc((ni ? ni : 1) * sizeof *own);
        if (!own) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (%zu incidents)", ni);
        gw_status st = gw_hotspot_incident_grids(ctx, grids, incidents, own);
        if (st) {
            free(own);
            return st;
        }
        inc_grid = own;
    }
    memset(counts, 0, ng * sizeof *counts);
    for (size_t r = 0; r < ni; r++) {
        int32_t g = inc_grid[r];
        if (g < 0 || (size_t)g >= ng) continue;
        if (gw_incident_filter_match(incidents, r, f)) counts[g] += 1;
    }
    free(own);
    return GW_OK;
}

/* ---- the analysis ----------------------------------------------------------------------- */

void gw_hotspot_result_destroy(gw_hotspot_result *r)
{
    if (!r) return;
    free(r->count);
    free(r->value);
    free(r->z);
    free(r->p);
    free(r->q);
    free(r->cls);
    free(r);
}

gw_status stats_weights_check(gw_ctx *ctx, const gw_weights *w, size_t n)
{
    if (gw_weights_count(w) == n) return GW_OK;
    return gw_ctx_error(
        ctx, GW_ERR_CONFLICT,
        "hotspots: the weights cover %zu grids, the model has %zu (grids changed; rebuild the weights)",
        gw_weights_count(w), n);
}

gw_status stats_result_alloc(gw_ctx *ctx, size_t n, gw_hotspot_result **out)
{
    gw_hotspot_result *r = calloc(1, sizeof *r);
    size_t m = n ? n : 1;
    if (r) {
        r->n = n;
        r->count = malloc(m * sizeof(double));
        r->value = malloc(m * sizeof(double));
        r->z = malloc(m * sizeof(double));
        r->p = malloc(m * sizeof(double));
        r->q = malloc(m * sizeof(double));
        r->cls = calloc(m, 1);
    }
    if (!r || !r->count || !r->value || !r->z || !r->p || !r->q || !r->cls) {
        gw_hotspot_result_destroy(r);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (hotspots over %zu grids)", n);
    }
    *out = r;
    return GW_OK;
}

gw_status stats_hotspot_finish(gw_ctx *ctx, const gw_layer_data *grids, const gw_weights *w,
                               const gw_hotspot_opts *opts, gw_hotspot_result *r)
{
    size_t n = r->n;
    uint8_t *valid = calloc(n ? n : 1, 1);
    if (!valid) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    r->n_hot = r->n_cold = r->n_no_neighbours = r->n_no_value = 0;
    const int64_t *pop = gw_layer_data_ints(grids, F_POPULATION);
    const uint8_t *popn = gw_layer_data_nulls(grids, F_POPULATION);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < n; i++) {
        valid[i] = 1;
        r->value[i] = r->count[i];
        if (opts->value == GW_HV_PER_KM2) {
            double a = 0;
            if (!GEOSArea_r(h, gw_layer_data_geom(grids, i, GW_MODEL_METRIC), &a) || !(a > 0))
                valid[i] = 0;
            else r->value[i] = r->count[i] / (a / 1e6);
        } else if (opts->value == GW_HV_PER_10K) {
            if (!pop || (popn && popn[i]) || pop[i] <= 0) valid[i] = 0;
            else r->value[i] = r->count[i] / (double)pop[i] * 1e4;
        }
        if (!valid[i]) r->value[i] = NAN;
    }
    gw_status st = gw_gistar(ctx, w, r->value, valid, n, r->z);
    for (size_t i = 0; i < n && !st; i++) r->p[i] = gw_pvalue_two_sided(r->z[i]);
    if (!st) st = gw_fdr_bh(ctx, r->p, n, r->q);
    for (size_t i = 0; i < n && !st; i++) {
        gw_hotspot_class c = !valid[i]
                                 ? GW_HS_NO_VALUE
                                 : gw_hotspot_classify(r->z[i], opts->no_fdr ? r->p[i] : r->q[i]);
        r->cls[i] = (uint8_t)c;
        if (c >= GW_HS_HOT_99 && c <= GW_HS_HOT_90) r->n_hot++;
        else if (c >= GW_HS_COLD_99 && c <= GW_HS_COLD_90) r->n_cold++;
        else if (c == GW_HS_NO_NEIGHBOURS) r->n_no_neighbours++;
        else if (c == GW_HS_NO_VALUE) r->n_no_value++;
    }
    free(valid);
    return st;
}

gw_status gw_hotspot_gistar(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                            const int32_t *inc_grid, const gw_hotspot_opts *opts,
                            gw_hotspot_result **out)
{
    *out = NULL;
    gw_hotspot_opts dflt = {0};
    if (!opts) opts = &dflt;
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!grids || !inc || !w)
        return gw_ctx_error(ctx, GW_ERR_ARG, "hotspots: no grids/incidents or weights");
    size_t n = gw_layer_data_count(grids);
    if (stats_weights_check(ctx, w, n)) return GW_ERR_CONFLICT;
    double t0 = now_s();
    gw_hotspot_result *r = NULL;
    gw_status st = stats_result_alloc(ctx, n, &r);
    if (st) return st;
    st = gw_hotspot_counts(ctx, grids, inc, inc_grid, &opts->filter, r->count);
    if (!st) st = stats_hotspot_finish(ctx, grids, w, opts, r);
    if (st) {
        gw_hotspot_result_destroy(r);
        return st;
    }
    r->seconds = now_s() - t0;
    *out = r;
    return GW_OK;
}

/* ---- evaluation: PAI -------------------------------------------------------------------- */

double gw_pai(double hits_in, double hits_total, double area_in, double area_total)
{
    if (!(hits_total > 0) || !(area_in > 0) || !(area_total > 0)) return NAN;
    return (hits_in / hits_total) / (area_in / area_total);
}

typedef struct vi {
    float v;
    size_t i;
} vi;

static int cmp_vi_desc(const void *a, const void *b)
{
    const vi *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The top-share KDE row: cells of a train-period raster whose centre lies in a grid. */
static gw_status eval_kde(gw_ctx *ctx, const gw_layer_data *grids, const gw_layer_data *inc,
                          const int32_t *ig, const gw_pai_opts *o, gw_pai_row *row)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t ng = gw_layer_data_count(grids), ni = gw_layer_data_count(inc);
    gw_kde_opts ko = {.cell = o->cell > 0 ? o->cell : 100,
                      .bandwidth = o->bandwidth,
                      .has_bbox = 1,
                      .bbox = {INFINITY, INFINITY, -INFINITY, -INFINITY}};
    for (size_t i = 0; i < ng; i++) {
        const GEOSGeometry *g = gw_layer_data_geom(grids, i, GW_MODEL_METRIC);
        double a, b, c, d;
        if (!GEOSGeom_getXMin_r(h, g, &a) || !GEOSGeom_getYMin_r(h, g, &b) ||
            !GEOSGeom_getXMax_r(h, g, &c) || !GEOSGeom_getYMax_r(h, g, &d))
            continue;
        ko.bbox.minx = fmin(ko.bbox.minx, a), ko.bbox.miny = fmin(ko.bbox.miny, b);
        ko.bbox.maxx = fmax(ko.bbox.maxx, c), ko.bbox.maxy = fmax(ko.bbox.maxy, d);
    }
    const double *x = gw_layer_data_x(inc, GW_MODEL_METRIC),
                 *y = gw_layer_data_y(inc, GW_MODEL_METRIC);
    double *px = malloc((ni ? ni : 1) * sizeof *px), *py = malloc((ni ? ni : 1) * sizeof *py);
    if (!px || !py) {
        free(px), free(py);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (evaluation over %zu incidents)", ni);
    }
    size_t m = 0, m_in = 0; /* trained on every incident; m_in: those in scored grids */
    for (size_t r = 0; r < ni; r++)
        if (ig[r] >= 0 && gw_incident_filter_match(inc, r, &o->train)) {
            px[m] = x[r], py[m++] = y[r];
            m_in += !o->grid_in || o->grid_in[ig[r]];
        }
    gw_raster *ras = NULL;
    gw_status st = gw_kde_points(ctx, px, py, m, &ko, &ras);
    free(px), free(py);
    if (st) return st;
    size_t nc = ras->nx * ras->ny, nin = 0;
    vi *cells = malloc((nc ? nc : 1) * sizeof *cells);
    uint8_t *flag = calloc(nc ? nc : 1, 1);
    if (!cells || !flag) {
        free(cells), free(flag), gw_raster_destroy(ras);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (%zu KDE cells)", nc);
    }
    for (size_t k = 0; k < nc && !st; k++) {
        double cx = ras->x0 + ((double)(k % ras->nx) + 0.5) * ras->cell;
        double cy = ras->y1 - ((double)(k / ras->nx) + 0.5) * ras->cell;
        ptrdiff_t g = -1;
        st = gw_layer_data_grid_at(ctx, grids, cx, cy, &g);
        if (g >= 0 && (!o->grid_in || o->grid_in[g])) cells[nin++] = (vi){ras->v[k], k};
    }
    double top = o->top > 0 ? o->top : 0.05;
    size_t kf = (size_t)ceil(top * (double)nin);
    if (!st) {
        qsort(cells, nin, sizeof *cells, cmp_vi_desc);
        for (size_t k = 0; k < kf && k < nin; k++) flag[cells[k].i] = 1;
        size_t hits = 0, tot = 0;
        for (size_t r = 0; r < ni; r++) {
            if (ig[r] < 0 || !gw_incident_filter_match(inc, r, &o->test)) continue;
            if (o->grid_in && !o->grid_in[ig[r]]) continue; /* scored on the chosen grids only */
            tot++;
            double fx = (x[r] - ras->x0) / ras->cell, fy = (ras->y1 - y[r]) / ras->cell;
            if (fx < 0 || fy < 0 || fx >= (double)ras->nx || fy >= (double)ras->ny) continue;
            hits += flag[(size_t)fy * ras->nx + (size_t)fx];
        }
        snprintf(row->method, sizeof row->method, "kde");
        row->level = top, row->flagged = kf;
        row->test_hits = hits, row->test_total = tot, row->train_total = m_in;
        row->area_share = nin ? (double)kf / (double)nin : NAN;
        row->hit_share = tot ? (double)hits / (double)tot : NAN;
        row->pai = gw_pai((double)hits, (double)tot, (double)kf, (double)nin);
    }
    free(cells), free(flag), gw_raster_destroy(ras);
    return st;
}

gw_status gw_hotspot_evaluate(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                              const int32_t *inc_grid, const gw_pai_opts *opts, gw_pai_row *rows)
{
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!grids || !inc || !w || !opts)
        return gw_ctx_error(ctx, GW_ERR_ARG, "evaluate: no grids/incidents, weights or options");
    size_t ng = gw_layer_data_count(grids), ni = gw_layer_data_count(inc);
    for (int k = 0; k < GW_PAI_ROWS; k++)
        rows[k] = (gw_pai_row){.area_share = NAN, .hit_share = NAN, .pai = NAN};
    int32_t *own = NULL;
    double *area = malloc((ng ? ng : 1) * sizeof *area), *tc = malloc((ng ? ng : 1) * sizeof *tc);
    if (!inc_grid) own = malloc((ni ? ni : 1) * sizeof *own);
    gw_status st = !area || !tc || (!inc_grid && !own)
                       ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (evaluation)")
                       : GW_OK;
    if (!st && own) st = gw_hotspot_incident_grids(ctx, grids, inc, own), inc_grid = own;
    if (!st) st = gw_hotspot_counts(ctx, grids, inc, inc_grid, &opts->test, tc);
    double atot = 0, ttot = 0;
    for (size_t i = 0; i < ng && !st; i++) {
        if (!GEOSArea_r(gw_ctx_geos(ctx), gw_layer_data_geom(grids, i, GW_MODEL_METRIC), &area[i]))
            area[i] = 0;
        if (opts->grid_in && !opts->grid_in[i]) area[i] = 0, tc[i] = 0; /* not scored */
        atot += area[i], ttot += tc[i];
    }
    static const double levels[3] = {0.99, 0.95, 0.90};
    for (int v = 0; v < 3 && !st; v++) {
        gw_hotspot_opts ho = {.filter = opts->train,
                              .value = (gw_hotspot_value)v,
                              .no_fdr = opts->no_fdr};
        gw_hotspot_result *r = NULL;
        gw_status gs = gw_hotspot_gistar(ctx, snap, w, inc_grid, &ho, &r);
        if (gs == GW_ERR_NOMEM) st = gs;
        double train = 0;
        for (size_t i = 0; r && i < ng; i++)
            if (!opts->grid_in || opts->grid_in[i]) train += r->count[i];
        for (int l = 0; l < 3; l++) {
            gw_pai_row *row = &rows[v * 3 + l];
            snprintf(row->method, sizeof row->method, "gistar");
            row->value = (gw_hotspot_value)v, row->level = levels[l];
            row->test_total = (size_t)ttot, row->train_total = (size_t)train;
            if (!r) continue; /* the statistic could not run (e.g. no populations): NaN */
            double hits = 0, ain = 0;
            for (size_t i = 0; i < ng; i++)
                if (r->cls[i] >= GW_HS_HOT_99 && r->cls[i] <= GW_HS_HOT_99 + l &&
                    (!opts->grid_in || opts->grid_in[i]))
                    hits += tc[i], ain += area[i], row->flagged++;
            row->test_hits = (size_t)hits;
            row->area_share = atot > 0 ? ain / atot : NAN;
            row->hit_share = ttot > 0 ? hits / ttot : NAN;
            row->pai = gw_pai(hits, ttot, ain, atot);
        }
        gw_hotspot_result_destroy(r);
    }
    if (!st) st = eval_kde(ctx, grids, inc, inc_grid, opts, &rows[9]);
    free(own), free(area), free(tc);
    return st;
}
