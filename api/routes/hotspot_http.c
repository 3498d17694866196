/* hotspot_http.c — hot spots over HTTP and on the command line: parses the shared options
 * (weights, value, time window, category, severity, FDR), runs geo/hotspot.c and geo/kde.c on
 * the live model and writes CSV, JSON, GeoTIFF or contours.  Spatial weights are cached per grid
 * version (a queen build on 12,864 grids takes about a second) and dropped when grids change. */
#include "hotspot_http.h"
#include "heatmap_http.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli_util.h"
#include "gridwatch/crs.h"
#include "gridwatch/emerging.h"
#include "gridwatch/hotspot.h"
#include "gridwatch/kde.h"
#include "gridwatch/lisa.h"
#include "http_util.h"
#include "problem.h"

/* ---- module state: cached weights and incident grids --------------------------------------- */

typedef struct wentry {
    gw_weights_opts o;
    int64_t gseq;
    size_t n;
    gw_weights *w;
    int refs; /* the cache holds one */
    double seconds;
} wentry;

typedef struct ientry {
    int64_t iseq, gseq;
    size_t n;
    int32_t *rows;
    int refs;
} ientry;

enum { W_SLOTS = 4 };

struct gw_hotspots {
    gw_live *live;
    pthread_mutex_t mu;
    wentry *w[W_SLOTS];
    ientry *inc;
    gw_heat *heat; /* heat map tile cache (heatmap_http.c) */
};

gw_heat *gw_hotspots_heat(gw_hotspots *hs)
{
    return hs ? hs->heat : NULL;
}

static void wentry_unref(wentry *e)
{
    if (e && --e->refs == 0) {
        gw_weights_destroy(e->w);
        free(e);
    }
}

static void ientry_unref(ientry *e)
{
    if (e && --e->refs == 0) {
        free(e->rows);
        free(e);
    }
}

static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n, gw_model_snapshot *snap)
{
    gw_hotspots *hs = user;
    int grids = 0, inc = 0;
    for (size_t i = 0; i < n; i++) {
        grids |= ch[i].layer == GW_LAYER_GRIDS || ch[i].layer == GW_LAYER_COUNT;
        inc |= ch[i].layer == GW_LAYER_INCIDENTS || ch[i].layer == GW_LAYER_COUNT;
    }
    pthread_mutex_lock(&hs->mu);
    if (grids)
        for (int k = 0; k < W_SLOTS; k++) {
            wentry_unref(hs->w[k]);
            hs->w[k] = NULL;
        }
    if (grids || inc) {
        ientry_unref(hs->inc);
        hs->inc = NULL;
    }
    pthread_mutex_unlock(&hs->mu);
    if (inc) gw_heat_changes(hs->heat, ch, n);
}

gw_status gw_hotspots_create(gw_ctx *ctx, gw_live *live, size_t heat_budget, gw_hotspots **out)
{
    *out = NULL;
    gw_hotspots *hs = calloc(1, sizeof *hs);
    if (!hs) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&hs->mu, NULL);
    hs->live = live;
    gw_status st = gw_heat_create(ctx, heat_budget, &hs->heat);
    if (!st && live) st = gw_live_listen(live, on_changes, hs);
    if (st) {
        gw_hotspots_destroy(hs);
        return st;
    }
    *out = hs;
    return GW_OK;
}

void gw_hotspots_destroy(gw_hotspots *hs)
{
    if (!hs) return;
    for (int k = 0; k < W_SLOTS; k++) wentry_unref(hs->w[k]);
    ientry_unref(hs->inc);
    gw_heat_destroy(hs->heat);
    pthread_mutex_destroy(&hs->mu);
    free(hs);
}

static int same_opts(const gw_weights_opts *a, const gw_weights_opts *b)
{
    return a->kind == b->kind && a->snap == b->snap && a->distance == b->distance && a->k == b->k;
}

/* Weights for the grids of `g` (cached); release with wentry_unref under the lock. */
static gw_status get_weights(gw_hotspots *hs, gw_ctx *ctx, const gw_layer_data *g,
                             const gw_weights_opts *o, wentry **out)
{
    int64_t gseq = gw_layer_data_seq(g);
    size_t n = gw_layer_data_count(g);
    pthread_mutex_lock(&hs->mu);
    for (int k = 0; k < W_SLOTS; k++) {
        wentry *e = hs->w[k];
        if (e && e->gseq == gseq && e->n == n && same_opts(&e->o, o)) {
            e->refs++;
            pthread_mutex_unlock(&hs->mu);
            *out = e;
            return GW_OK;
        }
    }
    pthread_mutex_unlock(&hs->mu);
    wentry *e = calloc(1, sizeof *e);
    if (!e) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    double t0 = gw_mono_s();
    gw_status st = gw_weights_from_grids(ctx, g, o, &e->w);
    if (st) {
        free(e);
        return st;
    }
    e->seconds = gw_mono_s() - t0;
    e->o = *o, e->gseq = gseq, e->n = n, e->refs = 2; /* the cache's and the caller's */
    pthread_mutex_lock(&hs->mu);
    wentry_unref(hs->w[W_SLOTS - 1]);
    memmove(hs->w + 1, hs->w, (W_SLOTS - 1) * sizeof *hs->w);
    hs->w[0] = e;
    pthread_mutex_unlock(&hs->mu);
    *out = e;
    return GW_OK;
}

static gw_status get_inc(gw_hotspots *hs, gw_ctx *ctx, const gw_layer_data *g,
                         const gw_layer_data *inc, ientry **out)
{
    int64_t gseq = gw_layer_data_seq(g), iseq = gw_layer_data_seq(inc);
    size_t n = gw_layer_data_count(inc);
    pthread_mutex_lock(&hs->mu);
    ientry *e = hs->inc;
    if (e && e->gseq == gseq && e->iseq == iseq && e->n == n) {
        e->refs++;
        pthread_mutex_unlock(&hs->mu);
        *out = e;
        return GW_OK;
    }
    pthread_mutex_unlock(&hs->mu);
    e = calloc(1, sizeof *e);
    if (e) e->rows = malloc((n ? n : 1) * sizeof *e->rows);
    if (!e || !e->rows) {
        free(e);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    gw_status st = gw_hotspot_incident_grids(ctx, g, inc, e->rows);
    if (st) {
        free(e->rows);
        free(e);
        return st;
    }
    e->gseq = gseq, e->iseq = iseq, e->n = n, e->refs = 2;
    pthread_mutex_lock(&hs->mu);
    ientry_unref(hs->inc);
    hs->inc = e;
    pthread_mutex_unlock(&hs->mu);
    *out = e;
    return GW_OK;
}

static void release(gw_hotspots *hs, wentry *w, ientry *i)
{
    pthread_mutex_lock(&hs->mu);
    wentry_unref(w);
    ientry_unref(i);
    pthread_mutex_unlock(&hs->mu);
}

/* ---- options shared by the CLI and HTTP ----------------------------------------------------- */

typedef struct hs_query {
    char weights[64];
    gw_weights_opts wo;
    gw_hotspot_opts ho;
    char category[256];
    int csv;
    /* kde */
    gw_kde_opts ko;
    int contours, has_ll_bbox;
    gw_bbox ll_bbox;
    double levels[32];
    size_t n_levels;
    /* evaluation */
    gw_incident_filter train, test;
    int has_train, has_test;
    double top;
    /* local Moran's I */
    int lisa;
    gw_lisa_opts lo;
    /* emerging hot spots */
    int emerging;
    int64_t step;
    int time_neighbours;
} hs_query;

static void query_init(hs_query *q)
{
    memset(q, 0, sizeof *q);
    snprintf(q->weights, sizeof q->weights, "queen");
    q->wo = (gw_weights_opts){.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    q->ho.value = GW_HV_PER_KM2; /* the best PAI on the synthetic city: docs/hotspots.md */
    q->ko.cell = 100;
}

/* One option (key without dashes); 0 = taken, -1 = error on ctx, 1 = unknown key. */
static int query_set(gw_ctx *ctx, hs_query *q, const char *key, const char *val, const char *tz)
{
    char *end;
    if (strcmp(key, "weights") == 0) {
        if (gw_weights_parse(ctx, val, &q->wo)) return -1;
        snprintf(q->weights, sizeof q->weights, "%s", val);
    } else if (strcmp(key, "value") == 0) {
        if (gw_hotspot_value_parse(ctx, val, &q->ho.value)) return -1;
    } else if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
        int64_t t;
        if (gw_time_parse(ctx, val, tz, &t)) return -1;
        if (key[0] == 'f') q->ho.filter.has_from = 1, q->ho.filter.from = t;
        else q->ho.filter.has_to = 1, q->ho.filter.to = t;
    } else if (strcmp(key, "category") == 0) {
        snprintf(q->category, sizeof q->category, "%s", val);
        q->ho.filter.category = q->category;
    } else if (strcmp(key, "severity_min") == 0 || strcmp(key, "severity-min") == 0 ||
               strcmp(key, "severity_max") == 0 || strcmp(key, "severity-max") == 0) {
        long v = strtol(val, &end, 10);
        if (end == val || *end || v < 1 || v > 5) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': severity is 1 to 5", key, val);
            return -1;
        }
        if (strstr(key, "min")) q->ho.filter.severity_min = (int)v;
        else q->ho.filter.severity_max = (int)v;
    } else if (strcmp(key, "fdr") == 0) {
        if (strcmp(val, "true") && strcmp(val, "false")) {
            gw_ctx_error(ctx, GW_ERR_ARG, "fdr '%s': use true or false", val);
            return -1;
        }
        q->ho.no_fdr = strcmp(val, "false") == 0;
    } else if (strcmp(key, "format") == 0) {
        if (strcmp(val, "csv") == 0) q->csv = 1;
        else if (strcmp(val, "json") == 0) q->csv = 0;
        else if (strcmp(val, "tiff") == 0 || strcmp(val, "geotiff") == 0) q->contours = 0;
        else if (strcmp(val, "contours") == 0 || strcmp(val, "geojson") == 0) q->contours = 1;
        else {
            gw_ctx_error(ctx, GW_ERR_ARG, "format '%s': use csv or json (hotspots), tiff or contours (kde)", val);
            return -1;
        }
    } else if (strcmp(key, "cell") == 0 || strcmp(key, "bandwidth") == 0) {
        double v = strtod(val, &end);
        if (end == val || *end || !(v >= 0) || !isfinite(v) || (key[0] == 'c' && !(v > 0))) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': metres, a positive number", key, val);
            return -1;
        }
        if (key[0] == 'c') q->ko.cell = v;
        else q->ko.bandwidth = v;
    } else if (strcmp(key, "levels") == 0) {
        q->n_levels = 0;
        for (const char *s = val; *s && q->n_levels < 32;) {
            double v = strtod(s, &end);
            if (end == s || (*end && *end != ',')) {
                gw_ctx_error(ctx, GW_ERR_ARG, "levels '%s': comma-separated densities per km²", val);
                return -1;
            }
            q->levels[q->n_levels++] = v;
            s = *end ? end + 1 : end;
        }
    } else if (strcmp(key, "train") == 0 || strcmp(key, "test") == 0) {
        const char *slash = strchr(val, '/');
        char a[64], b[64];
        int64_t t0, t1;
        if (!slash || (size_t)(slash - val) >= sizeof a || strlen(slash + 1) >= sizeof b) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': a period FROM/TO (ISO 8601, inclusive)", key, val);
            return -1;
        }
        snprintf(a, sizeof a, "%.*s", (int)(slash - val), val);
        snprintf(b, sizeof b, "%s", slash + 1);
        if (gw_time_parse(ctx, a, tz, &t0) || gw_time_parse(ctx, b, tz, &t1)) return -1;
        if (t1 < t0) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': the period ends before it starts", key, val);
            return -1;
        }
        gw_incident_filter *f = key[1] == 'r' ? &q->train : &q->test;
        f->has_from = f->has_to = 1, f->from = t0, f->to = t1;
        *(key[1] == 'r' ? &q->has_train : &q->has_test) = 1;
    } else if (strcmp(key, "permutations") == 0 || strcmp(key, "seed") == 0) {
        long long v = strtoll(val, &end, 10);
        if (end == val || *end || v < 0 || (key[0] == 'p' && (v < 1 || v > 99999))) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': %s", key, val, key[0] == 'p' ? "1 to 99999" : "a whole number >= 0");
            return -1;
        }
        if (key[0] == 'p') q->lo.permutations = (int)v;
        else q->lo.seed = (uint64_t)v;
    } else if (strcmp(key, "step") == 0) {
        if (strcmp(val, "week") == 0) q->step = 7 * 86400;
        else if (strcmp(val, "day") == 0) q->step = 86400;
        else {
            gw_ctx_error(ctx, GW_ERR_ARG, "step '%s': use week or day", val);
            return -1;
        }
    } else if (strcmp(key, "time_neighbours") == 0 || strcmp(key, "time-neighbours") == 0) {
        long v = strtol(val, &end, 10);
        if (end == val || *end || v < 0 || v > 52) {
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': previous time steps in each bin's neighbourhood, 0 to 52", key, val);
            return -1;
        }
        q->time_neighbours = v ? (int)v : -1; /* gw_emerging_opts: 0 = default 1, < 0 = none */
    } else if (strcmp(key, "top") == 0) {
        double v = strtod(val, &end);
        if (end == val || *end || !(v > 0 && v < 1)) {
            gw_ctx_error(ctx, GW_ERR_ARG, "top '%s': the share of KDE cells to flag, between 0 and 1 (e.g. 0.05)", val);
            return -1;
        }
        q->top = v;
    } else if (strcmp(key, "bbox") == 0) {
        char why[200];
        if (gw_parse_bbox(val, &q->ll_bbox, why, sizeof why)) {
            gw_ctx_error(ctx, GW_ERR_ARG, "bbox: %s", why);
            return -1;
        }
        q->has_ll_bbox = 1;
    } else
        return 1;
    return 0;
}

static void num_or_null(gw_buf *b, double v, int prec, int csv)
{
    if (isfinite(v)) gw_buf_num(b, v, prec);
    else if (!csv) gw_buf_str(b, "null");
}

/* The result as CSV (id,count,value,z,p,class) or JSON into b. */
static void write_result(gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                         const hs_query *q, const gw_weights *w, double wsec, int64_t seq)
{
    if (q->csv) {
        gw_buf_str(b, "id,count,value,z,p,class\n");
        for (size_t i = 0; i < r->n; i++) {
            const char *id = gw_layer_data_id(g, i);
            if (strpbrk(id, ",\"\r\n")) { /* RFC 4180 quoting */
                gw_buf_add(b, "\"", 1);
                for (const char *c = id; *c; c++) gw_buf_add(b, c, *c == '"' ? 0 : 1), gw_buf_str(b, *c == '"' ? "\"\"" : "");
                gw_buf_add(b, "\"", 1);
            } else {
                gw_buf_str(b, id);
            }
            gw_buf_printf(b, ",%.0f,", r->count[i]);
            num_or_null(b, r->value[i], 10, 1);
            gw_buf_add(b, ",", 1);
            num_or_null(b, r->z[i], 12, 1);
            gw_buf_add(b, ",", 1);
            num_or_null(b, r->p[i], 12, 1);
            gw_buf_printf(b, ",%s\n", gw_hotspot_class_name(r->cls[i]));
        }
        return;
    }
    gw_buf_str(b, "{\"method\":\"gistar\",\"weights\":");
    gw_buf_json_str(b, q->weights);
    gw_buf_printf(b, ",\"value\":\"%s\",\"fdr\":%s,\"seq\":%lld,\"grids\":%zu,\"links\":%zu,"
                     "\"hot\":%zu,\"cold\":%zu,\"no_neighbours\":%zu,\"no_value\":%zu,"
                     "\"weights_seconds\":%.4f,\"seconds\":%.4f,\"results\":[",
                  gw_hotspot_value_name(q->ho.value), q->ho.no_fdr ? "false" : "true", (long long)seq, r->n,
                  gw_weights_links(w), r->n_hot, r->n_cold, r->n_no_neighbours, r->n_no_value, wsec, r->seconds);
    for (size_t i = 0; i < r->n; i++) {
        gw_buf_str(b, i ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(b, gw_layer_data_id(g, i));
        gw_buf_printf(b, ",\"count\":%.0f,\"value\":", r->count[i]);
        num_or_null(b, r->value[i], 10, 0);
        gw_buf_str(b, ",\"z\":");
        num_or_null(b, r->z[i], 12, 0);
        gw_buf_str(b, ",\"p\":");
        num_or_null(b, r->p[i], 12, 0);
        gw_buf_str(b, ",\"q\":");
        num_or_null(b, r->q[i], 12, 0);
        gw_buf_printf(b, ",\"class\":\"%s\"}", gw_hotspot_class_name(r->cls[i]));
    }
    gw_buf_str(b, "]}\n");
}

/* Local Moran's I over the values of a Gi* run (same counts, rates and left-out grids), written
 * as CSV (id,count,value,I,p,quadrant,class) or JSON. */
static gw_status run_lisa(gw_ctx *ctx, gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                          const hs_query *q, const gw_weights *w)
{
    size_t n = r->n;
    double *I = malloc((n ? n : 1) * sizeof *I), *p = malloc((n ? n : 1) * sizeof *p);
    uint8_t *valid = calloc(n ? n : 1, 1), *quad = calloc(n ? n : 1, 1), *cls = calloc(n ? n : 1, 1);
    gw_status st = !I || !p || !valid || !quad || !cls ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory") : GW_OK;
    for (size_t i = 0; i < n && !st; i++) valid[i] = !isnan(r->value[i]);
    if (!st) st = gw_lisa(ctx, w, r->value, valid, n, &q->lo, I, p, quad, cls);
    static const char *const qn[5] = {"", "HH", "LH", "LL", "HL"};
    size_t counts[GW_LISA_CLASS_COUNT] = {0};
    for (size_t i = 0; i < n && !st; i++) counts[cls[i]]++;
    if (!st && q->csv) gw_buf_str(b, "id,count,value,I,p,quadrant,class\n");
    if (!st && !q->csv) {
        gw_buf_str(b, "{\"method\":\"lisa\",\"weights\":");
        gw_buf_json_str(b, q->weights);
        gw_buf_printf(b, ",\"value\":\"%s\",\"permutations\":%d,\"seed\":%llu,\"grids\":%zu,\"HH\":%zu,\"LL\":%zu,"
                         "\"HL\":%zu,\"LH\":%zu,\"results\":[",
                      gw_hotspot_value_name(q->ho.value), q->lo.permutations ? q->lo.permutations : 999,
                      (unsigned long long)q->lo.seed, n, counts[GW_LISA_HH], counts[GW_LISA_LL], counts[GW_LISA_HL],
                      counts[GW_LISA_LH]);
    }
    for (size_t i = 0; i < n && !st; i++) {
        if (q->csv) {
            gw_buf_printf(b, "%s,%.0f,", gw_layer_data_id(g, i), r->count[i]);
            num_or_null(b, r->value[i], 10, 1);
            gw_buf_add(b, ",", 1);
            num_or_null(b, I[i], 12, 1);
            gw_buf_add(b, ",", 1);
            num_or_null(b, p[i], 6, 1);
            gw_buf_printf(b, ",%s,%s\n", qn[quad[i]], gw_lisa_class_name(cls[i]));
            continue;
        }
        gw_buf_str(b, i ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(b, gw_layer_data_id(g, i));
        gw_buf_printf(b, ",\"count\":%.0f,\"value\":", r->count[i]);
        num_or_null(b, r->value[i], 10, 0);
        gw_buf_str(b, ",\"I\":");
        num_or_null(b, I[i], 12, 0);
        gw_buf_str(b, ",\"p\":");
        num_or_null(b, p[i], 6, 0);
        gw_buf_printf(b, ",\"quadrant\":%s%s%s,\"class\":\"%s\"}", quad[i] ? "\"" : "null", qn[quad[i]],
                      quad[i] ? "\"" : "", gw_lisa_class_name(cls[i]));
    }
    if (!st && !q->csv) gw_buf_str(b, "]}\n");
    free(I), free(p), free(valid), free(quad), free(cls);
    return st;
}

/* Emerging hot spots over the same filter and value: CSV id,category,trend_z,trend_p,hot_steps,
 * cold_steps or JSON (per grid also the incidents and the final step's z). */
static gw_status run_emerging(gw_ctx *ctx, gw_buf *b, gw_model_snapshot *snap, const gw_layer_data *g,
                              const gw_weights *w, const int32_t *ig, const hs_query *q, gw_emerging_result **out)
{
    gw_emerging_opts eo = {.filter = q->ho.filter, .value = q->ho.value, .step = q->step,
                           .time_neighbours = q->time_neighbours, .no_fdr = q->ho.no_fdr};
    gw_status st = gw_emerging(ctx, snap, w, ig, &eo, out);
    if (st) return st;
    const gw_emerging_result *r = *out;
    size_t n = r->n, last = (r->steps - 1) * n;
    if (q->csv) gw_buf_str(b, "id,category,trend_z,trend_p,hot_steps,cold_steps\n");
    else {
        gw_buf_str(b, "{\"method\":\"emerging\",\"weights\":");
        gw_buf_json_str(b, q->weights);
        gw_buf_printf(b, ",\"value\":\"%s\",\"fdr\":%s,\"step_seconds\":%lld,\"steps\":%zu,\"start\":%lld,"
                         "\"time_neighbours\":%d,\"grids\":%zu,\"incidents\":%zu,\"left_out\":%zu,\"seconds\":%.4f,"
                         "\"categories\":{",
                      gw_hotspot_value_name(q->ho.value), q->ho.no_fdr ? "false" : "true", (long long)r->step, r->steps,
                      (long long)r->start, q->time_neighbours < 0 ? 0 : q->time_neighbours ? q->time_neighbours : 1, n,
                      r->incidents, r->left_out, r->seconds);
        for (int c = 0; c < GW_EHS_CATEGORY_COUNT; c++)
            gw_buf_printf(b, "%s\"%s\":%zu", c ? "," : "", gw_ehs_category_name((gw_ehs_category)c), r->n_category[c]);
        gw_buf_str(b, "},\"results\":[");
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = gw_ehs_category_name((gw_ehs_category)r->category[i]);
        if (q->csv) {
            gw_buf_printf(b, "%s,%s,", gw_layer_data_id(g, i), name);
            num_or_null(b, r->trend_z[i], 8, 1);
            gw_buf_add(b, ",", 1);
            num_or_null(b, r->trend_p[i], 8, 1);
            gw_buf_printf(b, ",%u,%u\n", r->hot_steps[i], r->cold_steps[i]);
            continue;
        }
        double cnt = 0;
        for (size_t t = 0; t < r->steps; t++) cnt += r->count[t * n + i];
        gw_buf_str(b, i ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(b, gw_layer_data_id(g, i));
        gw_buf_printf(b, ",\"category\":\"%s\",\"trend_z\":", name);
        num_or_null(b, r->trend_z[i], 8, 0);
        gw_buf_str(b, ",\"trend_p\":");
        num_or_null(b, r->trend_p[i], 8, 0);
        gw_buf_printf(b, ",\"hot_steps\":%u,\"cold_steps\":%u,\"count\":%.0f,\"final_z\":", r->hot_steps[i],
                      r->cold_steps[i], cnt);
        num_or_null(b, r->z[last + i], 8, 0);
        gw_buf_str(b, "}");
    }
    if (!q->csv) gw_buf_str(b, "]}\n");
    return b->oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory writing %zu grids", n) : GW_OK;
}

/* lon/lat bbox → metric extent (corners and edge midpoints). */
static gw_status bbox_to_metric(gw_ctx *ctx, int srid, const gw_bbox *ll, gw_bbox *out)
{
    gw_crs_transform *tr = NULL;
    gw_status st = gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326}, (gw_crs){GW_CRS_EPSG, srid}, &tr);
    if (st) return st;
    double mx = (ll->minx + ll->maxx) / 2, my = (ll->miny + ll->maxy) / 2;
    double x[8] = {ll->minx, ll->maxx, ll->minx, ll->maxx, mx, mx, ll->minx, ll->maxx};
    double y[8] = {ll->miny, ll->miny, ll->maxy, ll->maxy, ll->miny, ll->maxy, my, my};
    st = gw_crs_transform_points(tr, x, y, 8);
    gw_crs_transform_destroy(tr);
    if (st) return st;
    *out = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < 8; i++) {
        out->minx = fmin(out->minx, x[i]), out->maxx = fmax(out->maxx, x[i]);
        out->miny = fmin(out->miny, y[i]), out->maxy = fmax(out->maxy, y[i]);
    }
    return GW_OK;
}

/* Default contour levels: 1/6 … 5/6 of the peak density. */
static void default_levels(const gw_raster *r, hs_query *q)
{
    if (q->n_levels) return;
    float peak = 0;
    for (size_t k = 0; k < r->nx * r->ny; k++) peak = r->v[k] > peak ? r->v[k] : peak;
    for (int k = 1; k <= 5; k++) q->levels[q->n_levels++] = peak * k / 6.0;
}

gw_status gw_hotspots_default(gw_hotspots *hs, gw_ctx *ctx, gw_model_snapshot *snap, gw_hotspot_result **out)
{
    *out = NULL;
    if (!hs) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "the hotspot module is not running");
    hs_query q;
    query_init(&q); /* the defaults of GET /analysis/hotspots */
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    wentry *we = NULL;
    ientry *ie = NULL;
    gw_status st = get_weights(hs, ctx, g, &q.wo, &we);
    if (!st) st = get_inc(hs, ctx, g, inc, &ie);
    if (!st) st = gw_hotspot_gistar(ctx, snap, we->w, ie->rows, &q.ho, out);
    release(hs, we, ie);
    return st;
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct hargs {
    gw_req *req;
    gw_ctx *ctx;
    hs_query *q;
} hargs;

static int http_arg(void *user, const char *key, const char *val)
{
    hargs *a = user;
    if (strcmp(key, "datetime") == 0) {
        gw_time_filter tf;
        char why[200];
        if (gw_parse_datetime(a->ctx, val, &tf, why, sizeof why)) {
            gw_req_problem(a->req, 400, NULL, "parameter 'datetime': %s", why);
            return 1;
        }
        a->q->ho.filter.has_from = tf.has_lo, a->q->ho.filter.from = tf.lo;
        a->q->ho.filter.has_to = tf.has_hi, a->q->ho.filter.to = tf.hi;
        return 0;
    }
    if (strcmp(key, "method") == 0 && strcmp(val, "gistar") != 0 && strcmp(val, "lisa") != 0 &&
        strcmp(val, "emerging") != 0) {
        gw_req_problem(a->req, 400, NULL, "parameter 'method': '%s' is not available; use gistar, lisa or emerging (kde: /analysis/kde)", val);
        return 1;
    }
    if (strcmp(key, "method") == 0) a->q->lisa = strcmp(val, "lisa") == 0, a->q->emerging = strcmp(val, "emerging") == 0;
    if (strcmp(key, "method") == 0 || strcmp(key, "f") == 0) return 0;
    int rc = query_set(a->ctx, a->q, key, val, NULL);
    if (rc < 0) gw_req_problem(a->req, 400, NULL, "parameter '%s': %s", key, gw_ctx_errmsg(a->ctx));
    if (rc > 0) gw_req_problem(a->req, 400, NULL, "unknown parameter '%s'", key);
    return rc != 0;
}

static gw_hotspots *state(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_hotspots *hs = app ? app->modules[GW_APP_HOTSPOTS] : NULL;
    if (!hs) gw_req_problem(req, 503, NULL, "the hotspot module is not running in this server");
    return hs;
}

static int h_hotspots(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(hs->live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    wentry *we = NULL;
    ientry *ie = NULL;
    gw_hotspot_result *r = NULL;
    gw_emerging_result *er = NULL;
    gw_status st = get_weights(hs, ctx, g, &q.wo, &we);
    if (!st) st = get_inc(hs, ctx, g, inc, &ie);
    gw_buf b = {0};
    if (!st && q.emerging) st = run_emerging(ctx, &b, snap, g, we->w, ie->rows, &q, &er);
    else if (!st) st = gw_hotspot_gistar(ctx, snap, we->w, ie->rows, &q.ho, &r);
    if (!st && q.lisa) st = run_lisa(ctx, &b, g, r, &q, we->w);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        if (!q.lisa && !q.emerging) write_result(&b, g, r, &q, we->w, we->seconds, gw_snapshot_seq(snap));
        if (b.oom) gw_req_problem(req, 503, NULL, "out of memory writing %zu grids", gw_layer_data_count(g));
        else gw_req_respond(req, 200, q.csv ? "text/csv; charset=utf-8" : "application/json", b.data, b.len);
    }
    gw_buf_free(&b);
    gw_hotspot_result_destroy(r);
    gw_emerging_result_destroy(er);
    release(hs, we, ie);
    gw_model_release(ctx, snap);
    return 0;
}

static int h_kde(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model *m = gw_live_model(hs->live);
    int srid = gw_model_metric_srid(m);
    q.ko.max_cells = 4000000; /* ~16 MB of float per request */
    if (q.has_ll_bbox && bbox_to_metric(ctx, srid, &q.ll_bbox, &q.ko.bbox)) {
        gw_req_problem(req, 400, NULL, "parameter 'bbox': %s", gw_ctx_errmsg(ctx));
        return 0;
    }
    q.ko.has_bbox = q.has_ll_bbox;
    gw_model_snapshot *snap = gw_model_acquire(m);
    gw_raster *r = NULL;
    gw_status st = gw_kde_incidents(ctx, snap, &q.ho.filter, &q.ko, &r);
    gw_model_release(ctx, snap);
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!st && q.contours) {
        default_levels(r, &q);
        char *json = NULL;
        st = gw_raster_contours_geojson(ctx, r, srid, q.levels, q.n_levels, &json, &len);
        buf = (unsigned char *)json;
    } else if (!st) {
        st = gw_raster_to_geotiff(ctx, r, srid, &buf, &len);
    }
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        char h[64];
        snprintf(h, sizeof h, "%.3f", r->bandwidth);
        gw_req_add_header(req, "X-Bandwidth-Metres", h);
        snprintf(h, sizeof h, "%zu", r->n_points);
        gw_req_add_header(req, "X-Incidents", h);
        gw_req_respond(req, 200, q.contours ? "application/geo+json" : "image/tiff", (const char *)buf, len);
    }
    free(buf);
    gw_raster_destroy(r);
    return 0;
}

/* ---- evaluation (PAI) ----------------------------------------------------------------------- */

static gw_status run_evaluate(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w, const int32_t *ig,
                              hs_query *q, gw_pai_row *rows)
{
    if (!q->has_train || !q->has_test)
        return gw_ctx_error(ctx, GW_ERR_ARG, "evaluation needs a training and a test period (train=FROM/TO, test=FROM/TO)");
    gw_pai_opts po = {.train = q->train, .test = q->test, .no_fdr = q->ho.no_fdr, .top = q->top,
                      .cell = q->ko.cell, .bandwidth = q->ko.bandwidth};
    po.train.category = po.test.category = q->ho.filter.category;
    po.train.severity_min = po.test.severity_min = q->ho.filter.severity_min;
    po.train.severity_max = po.test.severity_max = q->ho.filter.severity_max;
    return gw_hotspot_evaluate(ctx, snap, w, ig, &po, rows);
}

static void write_pai(gw_buf *b, const gw_pai_row *rows, const hs_query *q, int json)
{
    if (!json) {
        gw_buf_str(b, "method  value    flagged at        grids/cells  area %   test incidents %   PAI\n");
        for (int k = 0; k < GW_PAI_ROWS; k++) {
            const gw_pai_row *r = &rows[k];
            char lvl[32];
            if (strcmp(r->method, "kde") == 0) snprintf(lvl, sizeof lvl, "top %.4g %%", r->level * 100);
            else snprintf(lvl, sizeof lvl, "hot >= %.0f %%", r->level * 100);
            gw_buf_printf(b, "%-7s %-8s %-17s %11zu  %6.2f   %16.2f   %6.2f\n", r->method,
                          strcmp(r->method, "kde") ? gw_hotspot_value_name(r->value) : "-", lvl, r->flagged,
                          r->area_share * 100, r->hit_share * 100, r->pai);
        }
        return;
    }
    gw_buf_str(b, "{\"weights\":");
    gw_buf_json_str(b, q->weights);
    gw_buf_printf(b, ",\"fdr\":%s,\"train\":[%lld,%lld],\"test\":[%lld,%lld],\"rows\":[", q->ho.no_fdr ? "false" : "true",
                  (long long)q->train.from, (long long)q->train.to, (long long)q->test.from, (long long)q->test.to);
    for (int k = 0; k < GW_PAI_ROWS; k++) {
        const gw_pai_row *r = &rows[k];
        gw_buf_printf(b, "%s{\"method\":\"%s\",", k ? "," : "", r->method);
        if (strcmp(r->method, "kde") == 0) gw_buf_printf(b, "\"top\":%.6g", r->level);
        else gw_buf_printf(b, "\"value\":\"%s\",\"confidence\":%.2f", gw_hotspot_value_name(r->value), r->level);
        gw_buf_printf(b, ",\"flagged\":%zu,\"test_hits\":%zu,\"test_total\":%zu,\"train_total\":%zu,\"area_share\":",
                      r->flagged, r->test_hits, r->test_total, r->train_total);
        num_or_null(b, r->area_share, 8, 0);
        gw_buf_str(b, ",\"hit_share\":");
        num_or_null(b, r->hit_share, 8, 0);
        gw_buf_str(b, ",\"pai\":");
        num_or_null(b, r->pai, 8, 0);
        gw_buf_str(b, "}");
    }
    gw_buf_str(b, "]}\n");
}

static int h_evaluate(gw_req *req)
{
    gw_hotspots *hs = state(req);
    gw_ctx *ctx = hs ? gw_req_ctx(req) : NULL;
    if (!ctx) return 0;
    hs_query q;
    query_init(&q);
    hargs a = {req, ctx, &q};
    if (gw_req_query_each(req, http_arg, &a)) return 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(hs->live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    wentry *we = NULL;
    ientry *ie = NULL;
    gw_pai_row rows[GW_PAI_ROWS];
    gw_status st = get_weights(hs, ctx, g, &q.wo, &we);
    if (!st) st = get_inc(hs, ctx, g, gw_snapshot_layer(snap, GW_LAYER_INCIDENTS), &ie);
    if (!st) st = run_evaluate(ctx, snap, we->w, ie->rows, &q, rows);
    if (st) {
        gw_req_fail(req, ctx, st, NULL);
    } else {
        gw_buf b = {0};
        write_pai(&b, rows, &q, 1);
        gw_req_respond(req, 200, "application/json", b.data, b.len);
        gw_buf_free(&b);
    }
    release(hs, we, ie);
    gw_model_release(ctx, snap);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/hotspots/evaluate", h_evaluate, GW_ROLE_VIEWER, "analysis_hotspots_evaluate"},
    {"GET", "/analysis/hotspots", h_hotspots, GW_ROLE_VIEWER, "analysis_hotspots"},
    {"GET", "/analysis/kde", h_kde, GW_ROLE_VIEWER, "analysis_kde"},
    {"GET", "/tiles/heatmap/legend.json", gw_heat_legend_handler, GW_ROLE_VIEWER, "heatmap_legend"},
    {"GET", "/tiles/heatmap/{z}/{x}/{y}", gw_heat_tile_handler, GW_ROLE_VIEWER, "heatmap_tile"},
};

const gw_route *gw_hotspots_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}

/* ---- CLI ------------------------------------------------------------------------------------- */

static const char usage[] =
    "usage: gridwatch hotspots DB [options]\n"
    "\n"
    "Getis-Ord Gi* hot spots per grid (as R spdep::localG with self-included binary weights,\n"
    "two-sided p, Benjamini-Hochberg classes), or a kernel density raster.\n"
    "\n"
    "  --method gistar|lisa|kde|emerging\n"
    "                            statistic (default gistar); lisa: Local Moran's I, CSV\n"
    "                            id,count,value,I,p,quadrant,class (--permutations 999 --seed 0);\n"
    "                            emerging: ArcGIS's emerging hot spot categories per grid, CSV\n"
    "                            id,category,trend_z,trend_p,hot_steps,cold_steps\n"
    "  --step week|day           emerging: time step of the space-time cube (default week)\n"
    "  --time-neighbours K       emerging: previous steps in each bin's neighbourhood (default 1)\n"
    "  --weights W               queen | rook (',snap:M' tolerance, default 0.01 m) | distance:M | knn:K\n"
    "  --value V                 per_km2 (default) | count | per_10k (per 10,000 residents)\n"
    "  --from T --to T           time window (ISO 8601, inclusive); --tz ZONE for times without offset\n"
    "  --category C[,C…]         incident categories\n"
    "  --severity-min N --severity-max N\n"
    "  --no-fdr                  classes from raw p-values instead of BH-adjusted ones\n"
    "  --format csv|json         gistar output (default csv: id,count,value,z,p,class)\n"
    "  --out FILE                write there instead of stdout (kde: a GeoTIFF, required)\n"
    "  --neighbours FILE         also write the weights as CSV pairs id,neighbour (for R cross-checks)\n"
    "  --cell M --bandwidth M    kde cell size (default 100 m) and radius (default: ArcGIS rule)\n"
    "  --evaluate --train FROM/TO --test FROM/TO [--top 0.05]\n"
    "                            Prediction Accuracy Index of Gi* hot grids (each value, 99/95/90 %)\n"
    "                            and of the top share of KDE cells, trained on one period, scored on\n"
    "                            the next (table; --format json for JSON)\n";

static gw_status write_neighbours(gw_ctx *ctx, const char *path, const gw_layer_data *g, const gw_weights *w)
{
    FILE *f = fopen(path, "w");
    if (!f) return gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", path);
    fputs("id,neighbour\n", f);
    for (size_t i = 0; i < gw_weights_count(w); i++) {
        size_t k;
        const uint32_t *nb = gw_weights_neighbours(w, i, &k);
        for (size_t j = 0; j < k; j++) fprintf(f, "%s,%s\n", gw_layer_data_id(g, i), gw_layer_data_id(g, nb[j]));
    }
    return fclose(f) ? gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", path) : GW_OK;
}

int gw_cli_hotspots(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *nbout = NULL, *tz = NULL, *method = "gistar";
    hs_query q;
    query_init(&q);
    q.csv = 1;
    int evaluate = 0, json_fmt = 0;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return fputs("gridwatch hotspots: out of memory\n", stderr), GW_EXIT_RUNTIME;
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, NULL);
    for (int i = 1; i < argc; i++) /* --tz first: it applies to --from/--to wherever they are */
        if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc) tz = argv[i + 1];
    int rc = GW_EXIT_OK;
    for (int i = 1; i < argc && rc == GW_EXIT_OK; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            gw_ctx_destroy(ctx);
            return GW_EXIT_OK;
        }
        if (strcmp(a, "--no-fdr") == 0) q.ho.no_fdr = 1;
        else if (strcmp(a, "--evaluate") == 0) evaluate = 1;
        else if (strcmp(a, "--format") == 0 && v && strcmp(v, "json") == 0) json_fmt = 1, q.csv = 0, i++;
        else if (strcmp(a, "--method") == 0 && v) method = v, i++;
        else if (strcmp(a, "--out") == 0 && v) out = v, i++;
        else if (strcmp(a, "--neighbours") == 0 && v) nbout = v, i++;
        else if (strcmp(a, "--tz") == 0 && v) i++;
        else if (strncmp(a, "--", 2) == 0 && v) {
            int r = query_set(ctx, &q, a + 2, v, tz);
            if (r < 0) rc = gw_cli_usage_error("hotspots", "%s: %s", a, gw_ctx_errmsg(ctx));
            else if (r > 0) rc = gw_cli_usage_error("hotspots", "unknown option '%s' (see --help)", a);
            i++;
        } else if (a[0] == '-') rc = gw_cli_usage_error("hotspots", "unknown or incomplete option '%s' (see --help)", a);
        else if (!db) db = a;
        else rc = gw_cli_usage_error("hotspots", "unexpected argument '%s' (see --help)", a);
    }
    int kde = strcmp(method, "kde") == 0;
    q.lisa = strcmp(method, "lisa") == 0;
    q.emerging = strcmp(method, "emerging") == 0;
    if (!rc && !db) rc = gw_cli_usage_error("hotspots", "expected DB (see --help)");
    if (!rc && !kde && !q.lisa && !q.emerging && strcmp(method, "gistar") != 0)
        rc = gw_cli_usage_error("hotspots", "--method '%s' is not available; use gistar, lisa, kde or emerging", method);
    if (!rc && evaluate && (!q.has_train || !q.has_test))
        rc = gw_cli_usage_error("hotspots", "--evaluate needs --train FROM/TO and --test FROM/TO");
    if (!rc && kde && !out) rc = gw_cli_usage_error("hotspots", "--method kde needs --out FILE.tif");
    if (rc) {
        gw_ctx_destroy(ctx);
        return rc;
    }
    gw_store *store = NULL;
    gw_model *m = NULL;
    gw_model_snapshot *snap = NULL;
    gw_weights *w = NULL;
    gw_hotspot_result *r = NULL;
    gw_emerging_result *er = NULL;
    gw_raster *ras = NULL;
    gw_buf b = {0};
    unsigned char *tif = NULL;
    size_t len = 0;
    double t0 = gw_mono_s(), tw = 0;
    gw_status st = gw_store_open(ctx, db, GW_STORE_READONLY, &store);
    if (!st) st = gw_model_open(ctx, store, &m);
    if (!st) {
        snap = gw_model_acquire(m);
        double t1 = gw_mono_s();
        if (evaluate) {
            gw_pai_row rows[GW_PAI_ROWS];
            const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
            st = gw_weights_from_grids(ctx, g, &q.wo, &w);
            if (!st) st = run_evaluate(ctx, snap, w, NULL, &q, rows);
            if (!st) write_pai(&b, rows, &q, json_fmt);
            kde = 0;
        } else if (kde) {
            if (q.has_ll_bbox) st = bbox_to_metric(ctx, gw_model_metric_srid(m), &q.ll_bbox, &q.ko.bbox);
            q.ko.has_bbox = q.has_ll_bbox;
            if (!st) st = gw_kde_incidents(ctx, snap, &q.ho.filter, &q.ko, &ras);
            if (!st) st = gw_raster_to_geotiff(ctx, ras, gw_model_metric_srid(m), &tif, &len);
        } else {
            const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
            st = gw_weights_from_grids(ctx, g, &q.wo, &w);
            tw = gw_mono_s() - t1;
            if (!st && nbout) st = write_neighbours(ctx, nbout, g, w);
            if (!st && q.emerging) {
                st = run_emerging(ctx, &b, snap, g, w, NULL, &q, &er);
            } else if (!st) {
                st = gw_hotspot_gistar(ctx, snap, w, NULL, &q.ho, &r);
                if (!st && q.lisa) st = run_lisa(ctx, &b, g, r, &q, w);
                else if (!st) write_result(&b, g, r, &q, w, tw, gw_snapshot_seq(snap));
            }
            if (!st && b.oom) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    if (!st) {
        FILE *f = out ? fopen(out, "wb") : stdout;
        const void *data = kde ? (const void *)tif : (const void *)b.data;
        size_t n = kde ? len : b.len;
        if (!f || fwrite(data, 1, n, f) != n || (out && fclose(f)))
            st = gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", out ? out : "stdout");
    }
    if (st) {
        rc = gw_cli_fail("hotspots", ctx, st);
    } else if (evaluate) {
        fprintf(stderr, "evaluate: %.2f s\n", gw_mono_s() - t0);
    } else if (er) {
        fprintf(stderr, "emerging: %zu grids x %zu steps of %lld s from %lld, %zu incidents (%zu left out), weights %.3f s, "
                        "statistics %.3f s (total %.2f s)\n",
                er->n, er->steps, (long long)er->step, (long long)er->start, er->incidents, er->left_out, tw, er->seconds,
                gw_mono_s() - t0);
        for (int c = 0; c < GW_EHS_CATEGORY_COUNT; c++)
            if (er->n_category[c]) fprintf(stderr, "  %-24s %zu\n", gw_ehs_category_name((gw_ehs_category)c), er->n_category[c]);
    } else if (kde) {
        fprintf(stderr, "kde: %zu incidents, bandwidth %.1f m, %zu x %zu cells of %g m, %.3f s (total %.2f s)\n",
                ras->n_points, ras->bandwidth, ras->nx, ras->ny, ras->cell, ras->seconds, gw_mono_s() - t0);
    } else {
        fprintf(stderr, "gistar: %zu grids, %zu links, %zu hot, %zu cold, %zu without neighbours, %zu without value; "
                        "weights %.3f s, statistic %.3f s (total %.2f s)\n",
                r->n, gw_weights_links(w), r->n_hot, r->n_cold, r->n_no_neighbours, r->n_no_value, tw, r->seconds,
                gw_mono_s() - t0);
    }
    free(tif);
    gw_buf_free(&b);
    gw_raster_destroy(ras);
    gw_hotspot_result_destroy(r);
    gw_emerging_result_destroy(er);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}
