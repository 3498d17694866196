/* emerging.c — emerging hot spot analysis (ArcGIS Pro's Emerging Hot Spot Analysis): a grid ×
 * time-step cube of incidents, space-time Gi* per bin, a Mann-Kendall trend per grid and the 17
 * categories, so a command centre sees which hot spots are new, growing, steady or fading. */
#include "gridwatch/emerging.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_OCCURRED = 1 };   /* incident field */
enum { F_POPULATION = 4 }; /* grid field */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- Mann-Kendall ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

gw_mann_kendall gw_mann_kendall_test(const double *x, size_t n, double *scratch)
{
    gw_mann_kendall r = {0, 0, 0, NAN, NAN};
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) scratch[m++] = x[i];
    r.n = m;
    double s = 0;
    for (size_t i = 0; i + 1 < m; i++)
        for (size_t j = i + 1; j < m; j++)
            s += (scratch[j] > scratch[i]) - (scratch[j] < scratch[i]);
    qsort(scratch, m, sizeof *scratch, cmp_double); /* order no longer needed: tie groups */
    double dm = (double)m, ties = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && scratch[j] == scratch[i]) j++;
        double t = (double)(j - i);
        ties += t * (t - 1) * (2 * t + 5);
        i = j;
    }
    r.s = s;
    r.var = (dm * (dm - 1) * (2 * dm + 5) - ties) / 18;
    if (!(r.var > 0)) return r;
    r.z = s > 0 ? (s - 1) / sqrt(r.var) : s < 0 ? (s + 1) / sqrt(r.var) : 0;
    r.p = gw_pvalue_two_sided(r.z);
    return r;
}

/* ---- categories ----------------------------------------------------------------------------- */

static const char *const cat_names[GW_EHS_CATEGORY_COUNT] = {
    "no_pattern",
    "new_hot_spot",
    "consecutive_hot_spot",
    "intensifying_hot_spot",
    "persistent_hot_spot",
    "diminishing_hot_spot",
    "sporadic_hot_spot",
    "oscillating_hot_spot",
    "historical_hot_spot",
    "new_cold_spot",
    "consecutive_cold_spot",
    "intensifying_cold_spot",
    "persistent_cold_spot",
    "diminishing_cold_spot",
    "sporadic_cold_spot",
    "oscillating_cold_spot",
    "historical_cold_spot",
    "no_value",
};

const char *gw_ehs_category_name(gw_ehs_category c)
{
    return (unsigned)c < GW_EHS_CATEGORY_COUNT ? cat_names[c] : "unknown";
}

/* Offsets from the hot (or cold) base category. */
enum {
    C_NEW = 0,
    C_CONSECUTIVE,
    C_INTENSIFYING,
    C_PERSISTENT,
    C_DIMINISHING,
    C_SPORADIC,
    C_OSCILLATING,
    C_HISTORICAL
};

gw_ehs_category gw_ehs_classify(const int8_t *sig, size_t steps, double trend_z, double trend_p,
                                double alpha)
{
    if (!sig || steps == 0) return GW_EHS_NO_PATTERN;
    size_t hot = 0, cold = 0;
    for (size_t t = 0; t < steps; t++) hot += sig[t] > 0, cold += sig[t] < 0;
    int last = sig[steps - 1];
    int trend = !isnan(trend_p) && trend_p <= alpha && trend_z != 0 ? (trend_z > 0 ? 1 : -1) : 0;
    if (last != 0) {
        /* the final step's sign: hot rules on (same, other) = (hot, cold) or (cold, hot) */
        size_t same = last > 0 ? hot : cold, other = last > 0 ? cold : hot;
        int base = last > 0 ? GW_EHS_NEW_HOT : GW_EHS_NEW_COLD;
        if (10 * same >= 9 * steps) {
            /* a hot spot intensifies as its z rises, a cold spot as its z falls */
            int off = trend == 0 ? C_PERSISTENT : trend == last ? C_INTENSIFYING : C_DIMINISHING;
            return (gw_ehs_category)(base + off);
        }
        if (other > 0) return (gw_ehs_category)(base + C_OSCILLATING);
        if (same == 1) return (gw_ehs_category)(base + C_NEW);
        size_t run = 0;
        while (run < steps && sig[steps - 1 - run] == last) run++;
        if (run == same) return (gw_ehs_category)(base + C_CONSECUTIVE); /* no earlier ones */
        return (gw_ehs_category)(base + C_SPORADIC);
    }
    if (10 * hot >= 9 * steps) return GW_EHS_HISTORICAL_HOT;
    if (10 * cold >= 9 * steps) return GW_EHS_HISTORICAL_COLD;
    return GW_EHS_NO_PATTERN;
}

/* ---- space-time Gi* ------------------------------------------------------------------------- */

gw_status gw_gistar_spacetime(gw_ctx *ctx, const gw_weights *w, const double *x,
                              const uint8_t *valid, size_t n, size_t steps, int k, double *z)
{
    if (!w || !x || !z) return gw_ctx_error(ctx, GW_ERR_ARG, "space-time gistar: NULL argument");
    if (gw_weights_count(w) != n)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "space-time gistar: %zu grids for weights over %zu units", n,
                            gw_weights_count(w));
    if (k < 0) k = 0;
    size_t m = 0;
    double sum = 0;
    for (size_t t = 0; t < steps; t++)
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i]) continue;
            double v = x[t * n + i];
            if (!isfinite(v))
                return gw_ctx_error(
                    ctx, GW_ERR_RANGE,
                    "space-time gistar: value of unit %zu in step %zu is not finite", i, t);
            sum += v, m++;
        }
    if (m < 2)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "space-time gistar: needs at least 2 bins with a value (have %zu)", m);
    double dm = (double)m, mean = sum / dm, ss = 0;
    for (size_t t = 0; t < steps; t++)
        for (size_t i = 0; i < n; i++)
            if (!valid || valid[i]) ss += (x[t * n + i] - mean) * (x[t * n + i] - mean);
    double s = sqrt(ss / dm);
    if (!(s > 0))
        return gw_ctx_error(
            ctx, GW_ERR_RANGE,
            "space-time gistar: all %zu bins hold the same value (%g); no hot spots can be told apart",
            m, mean);
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i]) {
            for (size_t t = 0; t < steps; t++) z[t * n + i] = NAN;
            continue;
        }
        size_t kn;
        const uint32_t *nb = gw_weights_neighbours(w, i, &kn);
        double per_step = 1; /* the unit and its valid neighbours */
        for (size_t q = 0; q < kn; q++) per_step += !valid || valid[nb[q]];
        for (size_t t = 0; t < steps; t++) {
            size_t t0 = t >= (size_t)k ? t - (size_t)k : 0;
            double lag = 0;
            for (size_t u = t0; u <= t; u++) {
                const double *row = x + u * n;
                lag += row[i];
                for (size_t q = 0; q < kn; q++)
                    if (!valid || valid[nb[q]]) lag += row[nb[q]];
            }
            double wi = per_step * (double)(t - t0 + 1);
            double var = (dm * wi - wi * wi) / (dm - 1); /* binary weights: S1 = W */
            z[t * n + i] = wi < 2 || !(var > 0) ? NAN : (lag - mean * wi) / (s * sqrt(var));
        }
    }
    return GW_OK;
}

/* ---- the analysis ----------------------------------------------------------------------------- */

void gw_emerging_result_destroy(gw_emerging_result *r)
{
    if (!r) return;
    free(r->count), free(r->z), free(r->p), free(r->sig);
    free(r->trend_s), free(r->trend_z), free(r->trend_p);
    free(r->hot_steps), free(r->cold_steps), free(r->category);
    free(r);
}

static gw_status result_alloc(gw_ctx *ctx, size_t n, size_t steps, gw_emerging_result **out)
{
    gw_emerging_result *r = calloc(1, sizeof *r);
    size_t nb = n && steps ? n * steps : 1, ng = n ? n : 1;
    if (r) {
        r->n = n, r->steps = steps;
        r->count = calloc(nb, sizeof *r->count);
        r->z = malloc(nb * sizeof *r->z);
        r->p = malloc(nb * sizeof *r->p);
        r->sig = calloc(nb, sizeof *r->sig);
        r->trend_s = malloc(ng * sizeof *r->trend_s);
        r->trend_z = malloc(ng * sizeof *r->trend_z);
        r->trend_p = malloc(ng * sizeof *r->trend_p);
        r->hot_steps = calloc(ng, sizeof *r->hot_steps);
        r->cold_steps = calloc(ng, sizeof *r->cold_steps);
        r->category = calloc(ng, sizeof *r->category);
    }
    if (!r || !r->count || !r->z || !r->p || !r->sig || !r->trend_s || !r->trend_z || !r->trend_p ||
        !r->hot_steps || !r->cold_steps || !r->category) {
        gw_emerging_result_destroy(r);
        return gw_ctx_error(ctx, GW_ERR_NOMEM,
                            "out of memory (emerging hot spots: %zu grids x %zu steps)", n, steps);
    }
    *out = r;
    return GW_OK;
}

/* Per-grid divisor of the count (1, km², residents / 10,000); 0 marks a grid without value. */
static void divisors(gw_ctx *ctx, const gw_layer_data *grids, gw_hotspot_value v, double *div)
{
    size_t n = gw_layer_data_count(grids);
    const int64_t *pop = gw_layer_data_ints(grids, F_POPULATION);
    const uint8_t *popn = gw_layer_data_nulls(grids, F_POPULATION);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < n; i++) {
        div[i] = 1;
        if (v == GW_HV_PER_KM2) {
            double a = 0;
            div[i] = GEOSArea_r(h, gw_layer_data_geom(grids, i, GW_MODEL_METRIC), &a) && a > 0
                         ? a / 1e6
                         : 0;
        } else if (v == GW_HV_PER_10K) {
            div[i] = pop && !(popn && popn[i]) && pop[i] > 0 ? (double)pop[i] / 1e4 : 0;
        }
    }
}

/* The cube's extent from the filter and the filtered incidents' times. */
static gw_status cube_extent(gw_ctx *ctx, const gw_layer_data *inc, const int32_t *ig,
                             const gw_emerging_opts *o, int64_t step, int64_t *start, size_t *steps)
{
    const int64_t *t = gw_layer_data_ints(inc, F_OCCURRED);
    const uint8_t *tn = gw_layer_data_nulls(inc, F_OCCURRED);
    size_t ni = gw_layer_data_count(inc);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t r = 0; t && r < ni; r++) {
        if (ig[r] < 0 || (tn && tn[r]) || !gw_incident_filter_match(inc, r, &o->filter)) continue;
        lo = t[r] < lo ? t[r] : lo;
        hi = t[r] > hi ? t[r] : hi;
    }
    if (!o->filter.has_from && lo == INT64_MAX)
        return gw_ctx_error(
            ctx, GW_ERR_RANGE,
            "emerging hot spots: no incident with a time in any grid passes the filter");
    int64_t end = o->filter.has_to ? o->filter.to + 1 : hi + 1;
    int64_t from = o->filter.has_from ? o->filter.from : lo;
    if (end <= from)
        return gw_ctx_error(
            ctx, GW_ERR_RANGE,
            "emerging hot spots: the time window is empty (it ends before it starts)");
    int64_t span = end - from, full = span / step, rem = span % step;
    int64_t ns = full +
                 (2 * rem >= step); /* a leading partial step of at least half a step counts */
    if (ns < GW_EHS_MIN_STEPS)
        return gw_ctx_error(
            ctx, GW_ERR_RANGE,
            "emerging hot spots: %lld time steps of %lld s in the window (%.1f days); a trend needs at least %d: "
            "widen --from/--to or use a shorter --step",
            (long long)ns, (long long)step, (double)span / 86400, GW_EHS_MIN_STEPS);
    *steps = (size_t)ns;
    *start = end - ns * step;
    return GW_OK;
}

gw_status gw_emerging(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                      const int32_t *inc_grid, const gw_emerging_opts *opts,
                      gw_emerging_result **out)
{
    *out = NULL;
    gw_emerging_opts o = {0};
    if (opts) o = *opts;
    int64_t step = o.step > 0 ? o.step : 7 * 86400;
    int k = o.time_neighbours == 0 ? 1 : o.time_neighbours < 0 ? 0 : o.time_neighbours;
    double alpha = o.alpha > 0 ? o.alpha : 0.10;
    const gw_layer_data *grids = snap ? gw_snapshot_layer(snap, GW_LAYER_GRIDS) : NULL;
    const gw_layer_data *inc = snap ? gw_snapshot_layer(snap, GW_LAYER_INCIDENTS) : NULL;
    if (!grids || !inc || !w)
        return gw_ctx_error(ctx, GW_ERR_ARG, "emerging hot spots: no grids/incidents or weights");
    size_t n = gw_layer_data_count(grids), ni = gw_layer_data_count(inc);
    if (gw_weights_count(w) != n)
        return gw_ctx_error(
            ctx, GW_ERR_CONFLICT,
            "emerging hot spots: the weights cover %zu grids, the model has %zu (grids changed; rebuild the weights)",
            gw_weights_count(w), n);
    if (!gw_layer_data_ints(inc, F_OCCURRED))
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "emerging hot spots: the incidents layer has no 'occurred' times");
    double t0 = now_s();
    int32_t *own = NULL;
    if (!inc_grid) {
        own = malloc((ni ? ni : 1) * sizeof *own);
        if (!own) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (%zu incidents)", ni);
        gw_status st = gw_hotspot_incident_grids(ctx, grids, inc, own);
        if (st) return free(own), st;
        inc_grid = own;
    }
    int64_t start = 0;
    size_t steps = 0;
    gw_emerging_result *r = NULL;
    gw_status st = cube_extent(ctx, inc, inc_grid, &o, step, &start, &steps);
    if (!st) st = result_alloc(ctx, n, steps, &r);
    double *div = NULL, *series = NULL, *x = NULL;
    uint8_t *valid = NULL;
    int8_t *sig = NULL;
    if (!st) {
        div = malloc((n ? n : 1) * sizeof *div);
        valid = malloc(n ? n : 1);
        series = malloc(2 * steps * sizeof *series);
        sig = malloc(steps);
        x = malloc((n && steps ? n * steps : 1) * sizeof *x);
        if (!div || !valid || !series || !sig || !x)
            st = gw_ctx_error(ctx, GW_ERR_NOMEM,
                              "out of memory (emerging hot spots: %zu grids x %zu steps)", n,
                              steps);
    }
    if (!st) {
        r->start = start, r->step = step;
        const int64_t *t = gw_layer_data_ints(inc, F_OCCURRED);
        const uint8_t *tn = gw_layer_data_nulls(inc, F_OCCURRED);
        int64_t end = start + (int64_t)steps * step;
        for (size_t e = 0; e < ni; e++) {
            if (!gw_incident_filter_match(inc, e, &o.filter)) continue;
            int32_t g = inc_grid[e];
            if (g < 0 || (size_t)g >= n || (tn && tn[e]) || t[e] < start || t[e] >= end) {
                r->left_out++;
                continue;
            }
            r->count[(size_t)((t[e] - start) / step) * n + (size_t)g] += 1;
            r->incidents++;
        }
        divisors(ctx, grids, o.value, div);
        for (size_t i = 0; i < n; i++) valid[i] = div[i] > 0;
        /* the analysed value: z is computed on count/div, r->count keeps the counts */
        for (size_t b = 0; b < n * steps; b++) {
            size_t i = b % n;
            x[b] = valid[i] ? r->count[b] / div[i] : 0;
        }
        st = gw_gistar_spacetime(ctx, w, x, valid, n, steps, k, r->z);
    }
    if (!st) {
        double *raw = o.no_fdr ? r->p : x; /* x is free again */
        for (size_t b = 0; b < n * steps; b++) raw[b] = gw_pvalue_two_sided(r->z[b]);
        if (!o.no_fdr) st = gw_fdr_bh(ctx, raw, n * steps, r->p); /* BH over the whole cube */
    }
    for (size_t i = 0; i < n && !st; i++) {
        for (size_t t = 0; t < steps; t++) {
            size_t b = t * n + i;
            int8_t s = !isnan(r->p[b]) && r->p[b] <= alpha && r->z[b] != 0 ? (r->z[b] > 0 ? 1 : -1)
                                                                           : 0;
            r->sig[b] = s;
            r->hot_steps[i] += s > 0, r->cold_steps[i] += s < 0;
            series[t] = r->z[b];
        }
        gw_mann_kendall mk = gw_mann_kendall_test(series, steps, series + steps);
        r->trend_s[i] = mk.s, r->trend_z[i] = mk.z, r->trend_p[i] = mk.p;
        gw_ehs_category c = GW_EHS_NO_VALUE;
        if (valid[i]) {
            for (size_t t = 0; t < steps; t++) sig[t] = r->sig[t * n + i];
            c = gw_ehs_classify(sig, steps, mk.z, mk.p, alpha);
        }
        r->category[i] = (uint8_t)c;
        r->n_category[c]++;
    }
    free(own), free(div), free(valid), free(series), free(sig), free(x);
    if (st) {
        gw_emerging_result_destroy(r);
        return st;
    }
    r->seconds = now_s() - t0;
    *out = r;
    return GW_OK;
}
