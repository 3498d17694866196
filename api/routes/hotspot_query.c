/* hotspot_query.c — the hot spot options shared by HTTP and the CLI (hotspot_query.h): parsing
 * (weights, value, time window, category, severity, FDR, kde, evaluation, LISA, emerging), the
 * runs of each method and the CSV/JSON writers of their results. */
#include "hotspot_query.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridwatch/crs.h"

void hs_query_init(hs_query *q)
{
    memset(q, 0, sizeof *q);
    snprintf(q->weights, sizeof q->weights, "queen");
    q->wo = (gw_weights_opts){.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    q->ho.value = GW_HV_PER_KM2; /* the best PAI on the synthetic city: docs/hotspots.md */
    q->ko.cell = 100;
}

/* One option (key without dashes); 0 = taken, -1 = error on ctx, 1 = unknown key. */
int hs_query_set(gw_ctx *ctx, hs_query *q, const char *key, const char *val, const char *tz)
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
            gw_ctx_error(ctx, GW_ERR_ARG,
                         "format '%s': use csv or json (hotspots), tiff or contours (kde)", val);
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
                gw_ctx_error(ctx, GW_ERR_ARG, "levels '%s': comma-separated densities per km²",
                             val);
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
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': a period FROM/TO (ISO 8601, inclusive)", key,
                         val);
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
            gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': %s", key, val,
                         key[0] == 'p' ? "1 to 99999" : "a whole number >= 0");
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
            gw_ctx_error(ctx, GW_ERR_ARG,
                         "%s '%s': previous time steps in each bin's neighbourhood, 0 to 52", key,
                         val);
            return -1;
        }
        q->time_neighbours = v ? (int)v : -1; /* gw_emerging_opts: 0 = default 1, < 0 = none */
    } else if (strcmp(key, "top") == 0) {
        double v = strtod(val, &end);
        if (end == val || *end || !(v > 0 && v < 1)) {
            gw_ctx_error(ctx, GW_ERR_ARG,
                         "top '%s': the share of KDE cells to flag, between 0 and 1 (e.g. 0.05)",
                         val);
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
    } else return 1;
    return 0;
}

static void num_or_null(gw_buf *b, double v, int prec, int csv)
{
    if (isfinite(v)) gw_buf_num(b, v, prec);
    else if (!csv) gw_buf_str(b, "null");
}

/* The result as CSV (id,count,value,z,p,class) or JSON into b. */
void hs_write_result(gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                     const hs_query *q, const gw_weights *w, double wsec, int64_t seq,
                     const gw_scope *sc)
{
    if (q->csv) {
        gw_buf_str(b, "id,count,value,z,p,class\n");
        for (size_t i = 0; i < r->n; i++) {
            if (!gw_scope_has_grid_row(sc, i)) continue;
            const char *id = gw_layer_data_id(g, i);
            if (strpbrk(id, ",\"\r\n")) { /* RFC 4180 quoting */
                gw_buf_add(b, "\"", 1);
                for (const char *c = id; *c; c++)
                    gw_buf_add(b, c, *c == '"' ? 0 : 1), gw_buf_str(b, *c == '"' ? "\"\"" : "");
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
    /* a jurisdiction (sc not the root): its grids' rows, and the counts of those */
    size_t n = r->n, hot = r->n_hot, cold = r->n_cold, nn = r->n_no_neighbours, nv = r->n_no_value;
    if (!gw_scope_is_root(sc)) {
        n = hot = cold = nn = nv = 0;
        for (size_t i = 0; i < r->n; i++) {
            if (!gw_scope_has_grid_row(sc, i)) continue;
            gw_hotspot_class c = r->cls[i];
            n++;
            hot += c >= GW_HS_HOT_99 && c <= GW_HS_HOT_90;
            cold += c >= GW_HS_COLD_99 && c <= GW_HS_COLD_90;
            nn += c == GW_HS_NO_NEIGHBOURS;
            nv += c == GW_HS_NO_VALUE;
        }
    }
    gw_buf_str(b, "{\"method\":\"gistar\",\"weights\":");
    gw_buf_json_str(b, q->weights);
    gw_buf_printf(b, ",\"value\":\"%s\",\"fdr\":%s,\"seq\":%lld,\"grids\":%zu,\"links\":",
                  gw_hotspot_value_name(q->ho.value), q->ho.no_fdr ? "false" : "true",
                  (long long)seq, n);
    if (gw_scope_is_root(sc)) gw_buf_printf(b, "%zu", gw_weights_links(w));
    else gw_buf_str(b, "null"); /* the city's links: not a jurisdiction's figure */
    gw_buf_printf(b,
                  ",\"hot\":%zu,\"cold\":%zu,\"no_neighbours\":%zu,\"no_value\":%zu,"
                  "\"weights_seconds\":%.4f,\"seconds\":%.4f,\"results\":[",
                  hot, cold, nn, nv, wsec, r->seconds);
    for (size_t i = 0, k = 0; i < r->n; i++) {
        if (!gw_scope_has_grid_row(sc, i)) continue;
        gw_buf_str(b, k++ ? ",{\"id\":" : "{\"id\":");
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
gw_status hs_run_lisa(gw_ctx *ctx, gw_buf *b, const gw_layer_data *g, const gw_hotspot_result *r,
                      const hs_query *q, const gw_weights *w, const gw_scope *sc)
{
    size_t n = r->n;
    double *I = malloc((n ? n : 1) * sizeof *I), *p = malloc((n ? n : 1) * sizeof *p);
    uint8_t *valid = calloc(n ? n : 1, 1), *quad = calloc(n ? n : 1, 1),
            *cls = calloc(n ? n : 1, 1);
    gw_status st = !I || !p || !valid || !quad || !cls
                       ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory")
                       : GW_OK;
    for (size_t i = 0; i < n && !st; i++) valid[i] = !isnan(r->value[i]);
    if (!st) st = gw_lisa(ctx, w, r->value, valid, n, &q->lo, I, p, quad, cls);
    static const char *const qn[5] = {"", "HH", "LH", "LL", "HL"};
    size_t counts[GW_LISA_CLASS_COUNT] = {0}, shown = 0;
    for (size_t i = 0; i < n && !st; i++)
        if (gw_scope_has_grid_row(sc, i)) counts[cls[i]]++, shown++;
    if (!st && q->csv) gw_buf_str(b, "id,count,value,I,p,quadrant,class\n");
    if (!st && !q->csv) {
        gw_buf_str(b, "{\"method\":\"lisa\",\"weights\":");
        gw_buf_json_str(b, q->weights);
        gw_buf_printf(
            b,
            ",\"value\":\"%s\",\"permutations\":%d,\"seed\":%llu,\"grids\":%zu,\"HH\":%zu,\"LL\":%zu,"
            "\"HL\":%zu,\"LH\":%zu,\"results\":[",
            gw_hotspot_value_name(q->ho.value), q->lo.permutations ? q->lo.permutations : 999,
            (unsigned long long)q->lo.seed, shown, counts[GW_LISA_HH], counts[GW_LISA_LL],
            counts[GW_LISA_HL], counts[GW_LISA_LH]);
    }
    for (size_t i = 0, k = 0; i < n && !st; i++) {
        if (!gw_scope_has_grid_row(sc, i))
            continue; /* a jurisdiction: its rows, as computed city-wide */
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
        gw_buf_str(b, k++ ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(b, gw_layer_data_id(g, i));
        gw_buf_printf(b, ",\"count\":%.0f,\"value\":", r->count[i]);
        num_or_null(b, r->value[i], 10, 0);
        gw_buf_str(b, ",\"I\":");
        num_or_null(b, I[i], 12, 0);
        gw_buf_str(b, ",\"p\":");
        num_or_null(b, p[i], 6, 0);
        gw_buf_printf(b, ",\"quadrant\":%s%s%s,\"class\":\"%s\"}", quad[i] ? "\"" : "null",
                      qn[quad[i]], quad[i] ? "\"" : "", gw_lisa_class_name(cls[i]));
    }
    if (!st && !q->csv) gw_buf_str(b, "]}\n");
    free(I), free(p), free(valid), free(quad), free(cls);
    return st;
}

/* Emerging hot spots over the same filter and value: CSV id,category,trend_z,trend_p,hot_steps,
 * cold_steps or JSON (per grid also the incidents and the final step's z). */
gw_status hs_run_emerging(gw_ctx *ctx, gw_buf *b, gw_model_snapshot *snap, const gw_layer_data *g,
                          const gw_weights *w, const int32_t *ig, const hs_query *q,
                          const gw_scope *sc, gw_emerging_result **out)
{
    gw_emerging_opts eo = {.filter = q->ho.filter,
                           .value = q->ho.value,
                           .step = q->step,
                           .time_neighbours = q->time_neighbours,
                           .no_fdr = q->ho.no_fdr};
    gw_status st = gw_emerging(ctx, snap, w, ig, &eo, out);
    if (st) return st;
    const gw_emerging_result *r = *out;
    size_t n = r->n, last = (r->steps - 1) * n;
    /* a jurisdiction: its grids' rows (computed city-wide) and the figures of those */
    size_t shown = n, incidents = r->incidents, cats[GW_EHS_CATEGORY_COUNT];
    memcpy(cats, r->n_category, sizeof cats);
    if (!gw_scope_is_root(sc)) {
        shown = incidents = 0;
        memset(cats, 0, sizeof cats);
        for (size_t i = 0; i < n; i++) {
            if (!gw_scope_has_grid_row(sc, i)) continue;
            shown++, cats[r->category[i]]++;
            for (size_t t = 0; t < r->steps; t++) incidents += (size_t)r->count[t * n + i];
        }
    }
    if (q->csv) gw_buf_str(b, "id,category,trend_z,trend_p,hot_steps,cold_steps\n");
    else {
        gw_buf_str(b, "{\"method\":\"emerging\",\"weights\":");
        gw_buf_json_str(b, q->weights);
        gw_buf_printf(
            b,
            ",\"value\":\"%s\",\"fdr\":%s,\"step_seconds\":%lld,\"steps\":%zu,\"start\":%lld,"
            "\"time_neighbours\":%d,\"grids\":%zu,\"incidents\":%zu,\"left_out\":",
            gw_hotspot_value_name(q->ho.value), q->ho.no_fdr ? "false" : "true", (long long)r->step,
            r->steps, (long long)r->start,
            q->time_neighbours < 0 ? 0
            : q->time_neighbours   ? q->time_neighbours
                                   : 1,
            shown, incidents);
        /* the incidents in no grid are the city's figure, not a jurisdiction's */
        if (gw_scope_is_root(sc)) gw_buf_printf(b, "%zu", r->left_out);
        else gw_buf_str(b, "null");
        gw_buf_printf(b, ",\"seconds\":%.4f,\"categories\":{", r->seconds);
        for (int c = 0; c < GW_EHS_CATEGORY_COUNT; c++)
            gw_buf_printf(b, "%s\"%s\":%zu", c ? "," : "", gw_ehs_category_name((gw_ehs_category)c),
                          cats[c]);
        gw_buf_str(b, "},\"results\":[");
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        if (!gw_scope_has_grid_row(sc, i)) continue;
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
        gw_buf_str(b, k++ ? ",{\"id\":" : "{\"id\":");
        gw_buf_json_str(b, gw_layer_data_id(g, i));
        gw_buf_printf(b, ",\"category\":\"%s\",\"trend_z\":", name);
        num_or_null(b, r->trend_z[i], 8, 0);
        gw_buf_str(b, ",\"trend_p\":");
        num_or_null(b, r->trend_p[i], 8, 0);
        gw_buf_printf(b, ",\"hot_steps\":%u,\"cold_steps\":%u,\"count\":%.0f,\"final_z\":",
                      r->hot_steps[i], r->cold_steps[i], cnt);
        num_or_null(b, r->z[last + i], 8, 0);
        gw_buf_str(b, "}");
    }
    if (!q->csv) gw_buf_str(b, "]}\n");
    return b->oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory writing %zu grids", n) : GW_OK;
}

/* lon/lat bbox → metric extent (corners and edge midpoints). */
gw_status hs_bbox_to_metric(gw_ctx *ctx, int srid, const gw_bbox *ll, gw_bbox *out)
{
    gw_crs_transform *tr = NULL;
    gw_status st = gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326},
                                           (gw_crs){GW_CRS_EPSG, srid}, &tr);
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
void hs_default_levels(const gw_raster *r, hs_query *q)
{
    if (q->n_levels) return;
    float peak = 0;
    for (size_t k = 0; k < r->nx * r->ny; k++) peak = r->v[k] > peak ? r->v[k] : peak;
    for (int k = 1; k <= 5; k++) q->levels[q->n_levels++] = peak * k / 6.0;
}

gw_status hs_run_evaluate(gw_ctx *ctx, gw_model_snapshot *snap, const gw_weights *w,
                          const int32_t *ig, hs_query *q, const uint8_t *grid_in, gw_pai_row *rows)
{
    if (!q->has_train || !q->has_test)
        return gw_ctx_error(
            ctx, GW_ERR_ARG,
            "evaluation needs a training and a test period (train=FROM/TO, test=FROM/TO)");
    gw_pai_opts po = {.train = q->train,
                      .test = q->test,
                      .no_fdr = q->ho.no_fdr,
                      .top = q->top,
                      .cell = q->ko.cell,
                      .bandwidth = q->ko.bandwidth,
                      .grid_in = grid_in};
    po.train.category = po.test.category = q->ho.filter.category;
    po.train.severity_min = po.test.severity_min = q->ho.filter.severity_min;
    po.train.severity_max = po.test.severity_max = q->ho.filter.severity_max;
    return gw_hotspot_evaluate(ctx, snap, w, ig, &po, rows);
}

void hs_write_pai(gw_buf *b, const gw_pai_row *rows, const hs_query *q, int json)
{
    if (!json) {
        gw_buf_str(
            b, "method  value    flagged at        grids/cells  area %   test incidents %   PAI\n");
        for (int k = 0; k < GW_PAI_ROWS; k++) {
            const gw_pai_row *r = &rows[k];
            char lvl[32];
            if (strcmp(r->method, "kde") == 0)
                snprintf(lvl, sizeof lvl, "top %.4g %%", r->level * 100);
            else snprintf(lvl, sizeof lvl, "hot >= %.0f %%", r->level * 100);
            gw_buf_printf(b, "%-7s %-8s %-17s %11zu  %6.2f   %16.2f   %6.2f\n", r->method,
                          strcmp(r->method, "kde") ? gw_hotspot_value_name(r->value) : "-", lvl,
                          r->flagged, r->area_share * 100, r->hit_share * 100, r->pai);
        }
        return;
    }
    gw_buf_str(b, "{\"weights\":");
    gw_buf_json_str(b, q->weights);
    gw_buf_printf(b, ",\"fdr\":%s,\"train\":[%lld,%lld],\"test\":[%lld,%lld],\"rows\":[",
                  q->ho.no_fdr ? "false" : "true", (long long)q->train.from, (long long)q->train.to,
                  (long long)q->test.from, (long long)q->test.to);
    for (int k = 0; k < GW_PAI_ROWS; k++) {
        const gw_pai_row *r = &rows[k];
        gw_buf_printf(b, "%s{\"method\":\"%s\",", k ? "," : "", r->method);
        if (strcmp(r->method, "kde") == 0) gw_buf_printf(b, "\"top\":%.6g", r->level);
        else
            gw_buf_printf(b, "\"value\":\"%s\",\"confidence\":%.2f",
                          gw_hotspot_value_name(r->value), r->level);
        gw_buf_printf(
            b,
            ",\"flagged\":%zu,\"test_hits\":%zu,\"test_total\":%zu,\"train_total\":%zu,\"area_share\":",
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
