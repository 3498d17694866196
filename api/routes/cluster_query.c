/* cluster_query.c — hot spot cluster options, copies and answers (cluster_query.h): what the
 * route and the CLI share, so both take the same options and write the same figures. */
#include "cluster_query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridwatch/layer.h"

/* A number in [lo, hi] (lo excluded when open_lo). */
static int num_in(gw_ctx *ctx, const char *key, const char *val, double lo, double hi, int open_lo,
                  const char *what, double *out)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end || !isfinite(v) || v < lo || (open_lo && v == lo) || v > hi) {
        gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': %s", key, val, what);
        return -1;
    }
    *out = v;
    return 0;
}

int cq_set(gw_ctx *ctx, gw_cluster_opts *o, hs_query *q, const char *key, const char *val,
           const char *tz)
{
    char k[32];
    size_t n = strlen(key);
    if (n >= sizeof k) return 1;
    for (size_t i = 0; i <= n; i++) k[i] = key[i] == '-' ? '_' : key[i];
    double v;
    if (strcmp(k, "cell") == 0) {
        if (num_in(ctx, key, val, 10, 5000, 0, "lattice cell in metres, 10 to 5000", &v)) return -1;
        o->cell = v;
    } else if (strcmp(k, "max_radius") == 0) {
        if (num_in(ctx, key, val, 0, 20000, 1, "largest cluster radius in metres, up to 20000", &v))
            return -1;
        o->max_radius = v;
    } else if (strcmp(k, "bandwidth") == 0) {
        if (num_in(ctx, key, val, 0, 50000, 1, "background bandwidth in metres, up to 50000", &v))
            return -1;
        o->bandwidth = v;
    } else if (strcmp(k, "min_rr") == 0) {
        if (num_in(ctx, key, val, 1, 1000, 0, "smallest relative risk, 1 to 1000", &v)) return -1;
        o->min_rr = v;
    } else if (strcmp(k, "alpha") == 0) {
        if (num_in(ctx, key, val, 0, 0.5, 1, "p-value threshold, above 0 and up to 0.5", &v))
            return -1;
        o->alpha = v;
    } else if (strcmp(k, "replications") == 0 || strcmp(k, "steps") == 0 ||
               strcmp(k, "recent_days") == 0 || strcmp(k, "seed") == 0) {
        char *end;
        long long x = strtoll(val, &end, 10);
        int rep = k[0] == 'r' && k[2] == 'p', steps = k[0] == 's' && k[1] == 't',
            seed = k[0] == 's' && k[1] == 'e';
        long long lo = rep     ? 1
                       : steps ? 2
                               : 0,
                  hi = rep     ? 9999
                       : steps ? 256
                       : seed  ? INT64_MAX
                               : 3650;
        if (!seed && strcmp(k, "recent_days") == 0 && strcmp(val, "off") == 0) {
            o->recent_days = -1;
            return 0;
        }
        if (end == val || *end || x < lo || x > hi) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': %s", key, val,
                         rep     ? "Monte-Carlo replications, 1 to 9999"
                         : steps ? "time slices for the trend, 2 to 256"
                         : seed  ? "a whole number >= 0"
                                 : "days of the recent window, 1 to 3650 (0 or off: no test)");
            return -1;
        }
        if (rep) o->replications = (int)x;
        else if (steps) o->steps = (int)x;
        else if (seed) o->seed = (uint64_t)x;
        else o->recent_days = x ? (int)x : -1;
    } else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0 || strcmp(k, "category") == 0 ||
               strcmp(k, "severity_min") == 0 || strcmp(k, "severity_max") == 0) {
        if (hs_query_set(ctx, q, k, val, tz)) return -1;
        o->filter = q->ho.filter;
    } else {
        return 1;
    }
    return 0;
}

int cq_same_opts(const gw_cluster_opts *a, const gw_cluster_opts *b)
{
    const gw_incident_filter *f = &a->filter, *g = &b->filter;
    int cat = (!f->category && !g->category) ||
              (f->category && g->category && strcmp(f->category, g->category) == 0);
    return cat && f->has_from == g->has_from && f->has_to == g->has_to &&
           (!f->has_from || f->from == g->from) && (!f->has_to || f->to == g->to) &&
           f->severity_min == g->severity_min && f->severity_max == g->severity_max &&
           a->cell == b->cell && a->max_radius == b->max_radius && a->bandwidth == b->bandwidth &&
           a->min_rr == b->min_rr && a->alpha == b->alpha && a->replications == b->replications &&
           a->seed == b->seed && a->steps == b->steps && a->recent_days == b->recent_days &&
           a->max_clusters == b->max_clusters && a->metric_srid == b->metric_srid;
}

gw_cluster_result *cq_result_clone(const gw_cluster_result *r)
{
    gw_cluster_result *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *r;
    c->c = NULL, c->n = 0, c->grid_clusters = NULL, c->grid_max_rr = NULL;
    size_t steps = r->steps > 0 ? (size_t)r->steps : 1, g = r->grid_count ? r->grid_count : 1;
    c->c = calloc(r->n ? r->n : 1, sizeof *c->c);
    c->grid_clusters = malloc(g * sizeof *c->grid_clusters);
    c->grid_max_rr = malloc(g * sizeof *c->grid_max_rr);
    if (!c->c || !c->grid_clusters || !c->grid_max_rr) goto oom;
    if (r->grid_count) {
        memcpy(c->grid_clusters, r->grid_clusters, r->grid_count * sizeof *c->grid_clusters);
        memcpy(c->grid_max_rr, r->grid_max_rr, r->grid_count * sizeof *c->grid_max_rr);
    }
    for (size_t i = 0; i < r->n; i++) {
        gw_cluster *d = &c->c[i];
        *d = r->c[i];
        d->series = malloc(steps * sizeof *d->series);
        d->grids = malloc((d->n_grids ? d->n_grids : 1) * sizeof *d->grids);
        c->n = i + 1;
        if (!d->series || !d->grids) goto oom;
        if (r->c[i].series) memcpy(d->series, r->c[i].series, (size_t)r->steps * sizeof *d->series);
        if (d->n_grids) memcpy(d->grids, r->c[i].grids, d->n_grids * sizeof *d->grids);
    }
    return c;
oom:
    gw_cluster_result_destroy(c);
    return NULL;
}

static void num(gw_buf *b, double v, int prec)
{
    if (isfinite(v)) gw_buf_num(b, v, prec);
    else gw_buf_str(b, "null");
}

/* v rounded to `dec` decimals, written as JSON (null when not finite). */
static void fixed(gw_buf *b, double v, int dec)
{
    if (isfinite(v)) gw_buf_printf(b, "%.*f", dec, v);
    else gw_buf_str(b, "null");
}

/* 1 when cluster c touches a grid of the scope (every cluster for the root). */
static int cluster_in(const gw_cluster *c, const gw_layer_data *grids, const gw_scope *sc)
{
    if (gw_scope_is_root(sc)) return 1;
    size_t ng = grids ? gw_layer_data_count(grids) : 0;
    for (size_t m = 0; m < c->n_grids; m++)
        if (c->grids[m] >= 0 && (size_t)c->grids[m] < ng &&
            gw_scope_has_grid_row(sc, (size_t)c->grids[m]))
            return 1;
    return 0;
}

void cq_write_geojson(gw_ctx *ctx, gw_buf *b, const gw_cluster_result *r,
                      const gw_layer_data *grids, int segments, const char *extra,
                      const gw_scope *sc)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) kept += cluster_in(&r->c[i], grids, sc);
    char from[32], to[32];
    gw_time_format(r->from, from, sizeof from);
    gw_time_format(r->to, to, sizeof to);
    gw_buf_printf(b, "{\"type\":\"FeatureCollection\",\"method\":\"clusters\",\"cell_m\":");
    num(b, r->cell, 6);
    gw_buf_str(b, ",\"max_radius_m\":");
    num(b, r->max_radius, 6);
    gw_buf_str(b, ",\"bandwidth_m\":");
    num(b, r->bandwidth, 6);
    gw_buf_str(b, ",\"scale_reason\":");
    gw_buf_json_str(b, r->scale_reason ? r->scale_reason : "");
    gw_buf_printf(b, ",\"replications\":%d,\"steps\":%d,\"incidents\":", r->replications, r->steps);
    if (gw_scope_is_root(sc)) gw_buf_printf(b, "%.0f,", r->incidents);
    else gw_buf_str(b, "null,"); /* the city's count, not a jurisdiction's */
    gw_buf_printf(b, "\"window\":{\"from\":\"%s\",\"to\":\"%s\"},\"clusters\":%zu,\"seconds\":%.4f",
                  from, to, kept, r->seconds);
    if (extra && *extra) gw_buf_printf(b, ",%s", extra);
    gw_buf_str(b, ",\"features\":[");
    size_t pts = (size_t)segments + 1, nr = r->n ? r->n : 1;
    double *xs = malloc(nr * pts * 2 * sizeof *xs); /* every ring, lon/lat: xs then ys */
    double *ys = xs ? xs + nr * pts : NULL;
    int rings_ok = xs && gw_cluster_rings(ctx, r, segments, xs, ys) == GW_OK;
    if (!rings_ok) gw_ctx_clear_error(ctx);
    for (size_t i = 0, written = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        if (!cluster_in(c, grids, sc)) continue; /* touches none of the jurisdiction's grids */
        gw_buf_printf(b, "%s{\"type\":\"Feature\",\"id\":%d,\"geometry\":", written++ ? "," : "",
                      c->rank);
        if (rings_ok) {
            gw_buf_str(b, "{\"type\":\"Polygon\",\"coordinates\":[[");
            for (size_t k = 0; k < pts; k++)
                gw_buf_printf(b, "%s[%.7f,%.7f]", k ? "," : "", xs[i * pts + k], ys[i * pts + k]);
            gw_buf_str(b, "]]}");
        } else {
            gw_buf_str(b, "null");
        }
        gw_buf_printf(b, ",\"properties\":{\"rank\":%d,\"centre\":[", c->rank);
        fixed(b, c->lon, 7);
        gw_buf_str(b, ",");
        fixed(b, c->lat, 7);
        gw_buf_str(b, "],\"radius_m\":");
        fixed(b, c->radius, 1);
        gw_buf_printf(b, ",\"incidents\":%.0f,\"expected\":", c->incidents);
        fixed(b, c->expected, 1);
        gw_buf_str(b, ",\"relative_risk\":");
        fixed(b, c->rr, 2);
        gw_buf_str(b, ",\"llr\":");
        fixed(b, c->llr, 3);
        gw_buf_str(b, ",\"p\":");
        num(b, c->p, 6);
        gw_buf_printf(b, ",\"trend\":\"%s\",\"trend_z\":", gw_cluster_trend_name(c->trend));
        fixed(b, c->trend_z, 3);
        gw_buf_printf(b, ",\"recent\":%s,\"recent_p\":", c->recent ? "true" : "false");
        num(b, c->recent_p, 6);
        gw_buf_str(b, ",\"series\":[");
        for (int t = 0; c->series && t < r->steps; t++)
            gw_buf_printf(b, "%s%.0f", t ? "," : "", c->series[t]);
        gw_buf_str(b, "],\"grids\":[");
        size_t ng = grids ? gw_layer_data_count(grids) : 0;
        for (size_t m = 0, k = 0; m < c->n_grids; m++) {
            if (c->grids[m] < 0 || (size_t)c->grids[m] >= ng) continue;
            if (!gw_scope_has_grid_row(sc, (size_t)c->grids[m])) continue;
            gw_buf_str(b, k++ ? "," : "");
            gw_buf_json_str(b, gw_layer_data_id(grids, (size_t)c->grids[m]));
        }
        gw_buf_str(b, "]}}");
    }
    free(xs);
    gw_buf_str(b, "]}\n");
}

void cq_write_table(gw_buf *b, const gw_cluster_result *r)
{
    char from[32], to[32];
    gw_time_format(r->from, from, sizeof from);
    gw_time_format(r->to, to, sizeof to);
    gw_buf_printf(b,
                  "hot spot clusters: %zu of %.0f incidents, %s .. %s; cell %.0f m, max radius "
                  "%.0f m, background %.0f m (%s); %d replications\n",
                  r->n, r->incidents, from, to, r->cell, r->max_radius, r->bandwidth,
                  r->scale_reason ? r->scale_reason : "", r->replications);
    gw_buf_str(b, "rank         lon        lat  radius m  incidents  expected      RR        p  "
                  "trend         recent  grids\n");
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        gw_buf_printf(b,
                      "%4d  %10.5f %10.5f  %8.0f  %9.0f  %8.1f  %6.2f  %7.4f  %-12s  %-6s  %5zu\n",
                      c->rank, c->lon, c->lat, c->radius, c->incidents, c->expected, c->rr, c->p,
                      gw_cluster_trend_name(c->trend), c->recent ? "yes" : "no", c->n_grids);
    }
}
