/* hotspot.c — counts and rates of incidents per grid and the Getis-Ord Gi* hot spot analysis.
 *
 * Gi* follows spdep::localG with include.self() and binary weights to the last bit of the
 * formula (population variance, n − 1 in the variance term), so that a planner can check any
 * figure against R.  Classes come from two-sided p-values, BH-adjusted unless told otherwise. */
#include "gridwatch/hotspot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_OCCURRED = 1, F_CATEGORY = 2, F_SEVERITY = 3, F_GRID = 6 }; /* incident fields */
enum { F_POPULATION = 4 };                                             /* grid fields */

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
    if (m < 2) return gw_ctx_error(ctx, GW_ERR_RANGE, "gistar: needs at least 2 units with a value (have %zu)", m);
    double mean = sum / (double)m, ss = 0;
    for (size_t i = 0; i < n; i++)
        if (!valid || valid[i]) ss += (x[i] - mean) * (x[i] - mean);
    double s = sqrt(ss / (double)m);
    if (!(s > 0)) return gw_ctx_error(ctx, GW_ERR_RANGE, "gistar: all %zu values are equal (%g); no hot spots can be told apart", m, mean);
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
    "not_significant", "hot_99", "hot_95", "hot_90", "cold_99",
    "cold_95", "cold_90", "no_neighbours", "no_value",
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
    return gw_ctx_error(ctx, GW_ERR_ARG, "value '%s': use count, per_km2 or per_10k", text ? text : "");
}

const char *gw_hotspot_value_name(gw_hotspot_value v)
{
    return (unsigned)v < 3 ? value_names[v] : "unknown";
}

/* ---- incidents to grids, filters and counts --------------------------------------------- */

gw_status gw_hotspot_incident_grids(gw_ctx *ctx, const gw_layer_data *grids,
                                    const gw_layer_data *incidents, int32_t *rows)
{
    if (!grids || !incidents || gw_layer_data_layer(grids) != GW_LAYER_GRIDS ||
        gw_layer_data_layer(incidents) != GW_LAYER_INCIDENTS)
        return gw_ctx_error(ctx, GW_ERR_ARG, "hotspots need the grids and incidents layers");
    size_t n = gw_layer_data_count(incidents);
    const double *x = gw_layer_data_x(incidents, GW_MODEL_METRIC);
    const double *y = gw_layer_data_y(incidents, GW_MODEL_METRIC);
    for (size_t r = 0; r < n; r++) {
        const char *g = gw_layer_data_text(incidents, r, F_GRID);
        ptrdiff_t row = g ? gw_layer_data_find(grids, g) : -1;
        if (row < 0) { /* no grid recorded, or one of an older version: locate the point */
            gw_status st = gw_layer_data_grid_at(ctx, grids, x[r], y[r], &row);
            if (st) return st;
        }
        rows[r] = (int32_t)row;
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

int gw_incident_filter_match(const gw_layer_data *incidents, size_t row, const gw_incident_filter *f)
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

gw_status gw_hotspot_counts(gw_ctx *ctx, const gw_layer_data *grids,
                            const gw_layer_data *incidents, const int32_t *inc_grid,
                            const gw_incident_filter *f, double *counts)
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

static gw_status result_alloc(gw_ctx *ctx, size_t n, gw_hotspot_result **out)
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

gw_status gw_hotspot_gistar(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                            const int32_t *inc_grid, const gw_hotspot_opts *opts,
                            gw_hotspot_result **out)
{
    *out = NULL;
    gw_hotspot_opts dflt = {0};
    if (!opts) opts = &dflt;
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!grids || !inc || !w) return gw_ctx_error(ctx, GW_ERR_ARG, "hotspots: no grids/incidents or weights");
    size_t n = gw_layer_data_count(grids);
    if (gw_weights_count(w) != n)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "hotspots: the weights cover %zu grids, the model has %zu (grids changed; rebuild the weights)",
                            gw_weights_count(w), n);
    double t0 = now_s();
    gw_hotspot_result *r = NULL;
    gw_status st = result_alloc(ctx, n, &r);
    if (st) return st;
    uint8_t *valid = calloc(n ? n : 1, 1);
    if (!valid) {
        gw_hotspot_result_destroy(r);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    st = gw_hotspot_counts(ctx, grids, inc, inc_grid, &opts->filter, r->count);
    const int64_t *pop = gw_layer_data_ints(grids, F_POPULATION);
    const uint8_t *popn = gw_layer_data_nulls(grids, F_POPULATION);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < n && !st; i++) {
        valid[i] = 1;
        r->value[i] = r->count[i];
        if (opts->value == GW_HV_PER_KM2) {
            double a = 0;
            if (!GEOSArea_r(h, gw_layer_data_geom(grids, i, GW_MODEL_METRIC), &a) || !(a > 0))
                valid[i] = 0;
            else
                r->value[i] = r->count[i] / (a / 1e6);
        } else if (opts->value == GW_HV_PER_10K) {
            if (!pop || (popn && popn[i]) || pop[i] <= 0)
                valid[i] = 0;
            else
                r->value[i] = r->count[i] / (double)pop[i] * 1e4;
        }
        if (!valid[i]) r->value[i] = NAN;
    }
    if (!st) st = gw_gistar(ctx, w, r->value, valid, n, r->z);
    for (size_t i = 0; i < n && !st; i++) r->p[i] = gw_pvalue_two_sided(r->z[i]);
    if (!st) st = gw_fdr_bh(ctx, r->p, n, r->q);
    for (size_t i = 0; i < n && !st; i++) {
        gw_hotspot_class c = !valid[i] ? GW_HS_NO_VALUE
                                       : gw_hotspot_classify(r->z[i], opts->no_fdr ? r->p[i] : r->q[i]);
        r->cls[i] = (uint8_t)c;
        if (c >= GW_HS_HOT_99 && c <= GW_HS_HOT_90) r->n_hot++;
        else if (c >= GW_HS_COLD_99 && c <= GW_HS_COLD_90) r->n_cold++;
        else if (c == GW_HS_NO_NEIGHBOURS) r->n_no_neighbours++;
        else if (c == GW_HS_NO_VALUE) r->n_no_value++;
    }
    free(valid);
    if (st) {
        gw_hotspot_result_destroy(r);
        return st;
    }
    r->seconds = now_s() - t0;
    *out = r;
    return GW_OK;
}
