/* layers.c — building one vector tile from a model snapshot: which features of which layers,
 * with which properties (and the server's analysis fields on the grids), filtered how, and
 * incidents aggregated into cluster points where a tile would hold too many.  The HTTP routes
 * and the MBTiles renderer share it; the blind_spots layer is tiles/blind_layer.c, the
 * hotspot_clusters layer tiles/cluster_layer.c.
 *
 * Point lookups use the model's metric point index through an affine Mercator -> metric map
 * fitted per snapshot, widened by the largest residual over all points (so no point is missed);
 * the exact test is then made on the Mercator coordinates.  The attribute filters are
 * tiles/layers_filter.c. */
#include "gridwatch/tilelayers.h"

#include "gridwatch/hotspot.h"
#include "layers_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tl_names[GW_TL_COUNT] = {"grids",       "police_rooms",     "cameras",
                                                  "teams",       "incidents",        "camera_views",
                                                  "blind_spots", "hotspot_clusters", "city"};

const char *gw_tile_layer_name(gw_tile_layer l)
{
    return (int)l >= 0 && l < GW_TL_COUNT ? tl_names[l] : NULL;
}

gw_status gw_tile_layer_from_name(gw_ctx *ctx, const char *name, gw_tile_layer *out)
{
    for (int i = 0; name && i < GW_TL_COUNT; i++)
        if (strcmp(name, tl_names[i]) == 0) {
            *out = (gw_tile_layer)i;
            return GW_OK;
        }
    return gw_ctx_error(
        ctx, GW_ERR_NOT_FOUND,
        "no tile layer '%s'; layers: grids, police_rooms, cameras, teams, incidents, camera_views, "
        "blind_spots, hotspot_clusters, city",
        name ? name : "");
}

uint32_t gw_tile_layer_parts(gw_tile_layer l)
{
    if (l == GW_TL_CITY) return GW_TL_ALL_PARTS;
    return (int)l >= 0 && l < GW_TL_CITY ? 1u << l : 0;
}

uint32_t gw_tile_layer_city_minzoom(gw_tile_layer l)
{
    return l == GW_TL_CAMERAS     ? GW_TL_CITY_CAMERAS_MINZOOM
           : l == GW_TL_INCIDENTS ? GW_TL_CITY_INCIDENTS_MINZOOM
                                  : gw_tile_layer_minzoom(l);
}

uint32_t gw_tile_layer_minzoom(gw_tile_layer l)
{
    return l == GW_TL_CAMERA_VIEWS  ? GW_TL_VIEWS_MINZOOM
           : l == GW_TL_BLIND_SPOTS ? GW_TL_BLIND_MINZOOM
                                    : 0;
}

/* The data layer a part reads (camera_views read cameras, blind_spots and hotspot_clusters
 * the grids' analysis). */
gw_layer tl_part_layer(int part)
{
    return part == GW_TL_CAMERA_VIEWS                                    ? GW_LAYER_CAMERAS
           : part == GW_TL_BLIND_SPOTS || part == GW_TL_HOTSPOT_CLUSTERS ? GW_LAYER_GRIDS
                                                                         : (gw_layer)part;
}

/* Field indexes (gw_layer_fields order) a part's features carry. */
#define GRIDS_LOW (-1) /* row_props: the grids below GW_TL_GRID_DETAIL_MINZOOM (id only) */
#define ROOMS_LOW (-2) /* the police rooms below it: id, name */
#define TEAMS_LOW (-3) /* the teams below it: id, status */
static size_t part_fields(int part, int *out)
{
    /* grids: id, name, township, county, population, prefecture, village (layer.c order);
     * below zoom 10 the id alone (and the analysis fields), to keep a z8 tile small */
    static const int grids[] = {0, 1, 2, 3, 4, 8, 9}, grids_low[] = {0};
    static const int rooms_low[] = {0, 1}, teams_low[] = {0, 2};
    static const int views[] = {0, 2, 3, 4, 6};
    static const int incidents[] = {0, 1, 2, 3, 4, 6}; /* description left out: long free text */
    const int *src;
    size_t n;
    if (part == GW_TL_GRIDS) src = grids, n = 7;
    else if (part == GRIDS_LOW) src = grids_low, n = 1;
    else if (part == ROOMS_LOW) src = rooms_low, n = 2;
    else if (part == TEAMS_LOW) src = teams_low, n = 2;
    else if (part == GW_TL_CAMERA_VIEWS) src = views, n = 5;
    else if (part == GW_TL_INCIDENTS) src = incidents, n = 6;
    else {
        gw_layer_fields((gw_layer)part, &n);
        for (size_t i = 0; i < n; i++) out[i] = (int)i;
        return n;
    }
    memcpy(out, src, n * sizeof *src);
    return n;
}

/* The field set of part's point features at zoom z. */
static int zoom_part(int part, uint32_t z)
{
    if (z >= GW_TL_GRID_DETAIL_MINZOOM) return part;
    return part == GW_TL_POLICE_ROOMS ? ROOMS_LOW : part == GW_TL_TEAMS ? TEAMS_LOW : part;
}

size_t gw_tile_layer_props(gw_tile_layer part, const char **names, const char **types, size_t cap)
{
    if ((int)part < 0 || part >= GW_TL_CITY) return 0;
    int fi[16];
    size_t n = part_fields(part, fi), k = 0;
    const gw_field *f = gw_layer_fields(tl_part_layer(part), NULL);
    for (size_t i = 0; i < n && k < cap; i++, k++) {
        names[k] = f[fi[i]].name;
        types[k] = f[fi[i]].type == GW_FT_TEXT ? "String" : "Number";
    }
    if (part == GW_TL_BLIND_SPOTS) {
        k = 0;
        if (k < cap) names[k] = "grid", types[k++] = "String";
        if (k < cap) names[k] = "blind_m2", types[k++] = "Number";
    } else if (part == GW_TL_HOTSPOT_CLUSTERS) {
        k = tl_cluster_props(names, types, cap);
    } else if (part == GW_TL_GRIDS) {
        static const char *const an[] = {"coverage_ratio",
                                         "covered_m2",
                                         "cameras",
                                         "room_reach",
                                         "gi_z",
                                         "gi_p",
                                         "gi_bin",
                                         "gi_class",
                                         "gi_count",
                                         "clusters",
                                         "cluster_rr",
                                         "resp_incidents",
                                         "resp_open",
                                         "resp_overdue",
                                         "resp_overdue_share",
                                         "resp_escalation_rate",
                                         "resp_accept_p50_s",
                                         "resp_accept_p90_s",
                                         "resp_arrive_p50_s",
                                         "resp_close_p50_s",
                                         "resp_close_p90_s",
                                         "reach_3m",
                                         "reach_5m",
                                         "reach_10m"};
        for (size_t i = 0; i < sizeof an / sizeof an[0] && k < cap; i++, k++)
            names[k] = an[i], types[k] = i == 7 ? "String" : "Number";
    } else if (part != GW_TL_CAMERA_VIEWS) {
        if (k < cap) names[k] = "cluster", types[k++] = "Boolean";
        if (k < cap) names[k] = "count", types[k++] = "Number";
    }
    return k;
}

/* ---- per-snapshot lookup structures ------------------------------------------------------ */

typedef struct lidx {
    int refs;
    const gw_layer_data *d;
    int64_t seq;
    size_t count;
    int has_affine;
    double a[6];   /* metric x = a0 + a1 mx + a2 my; metric y = a3 + a4 mx + a5 my */
    double ex, ey; /* largest residual of the map over all points, metres */
    double reach;  /* cameras: largest range / cos(lat), Mercator metres */
    double *env;   /* grids: minx, miny, maxx, maxy per row (Mercator) */
    int has_ext;
    gw_bbox ext; /* lon/lat */
} lidx;

struct gw_tile_source {
    pthread_mutex_t lock;
    lidx *slot[GW_LAYER_COUNT];
    tl_agg_slot agg[GW_LAYER_COUNT]; /* cluster aggregates of the point layers */
    int no_agg;                      /* clusters from scans only (tests, benchmarks) */
};

gw_status gw_tile_source_create(gw_ctx *ctx, gw_tile_source **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&(*out)->lock, NULL);
    for (int i = 0; i < GW_LAYER_COUNT; i++) pthread_mutex_init(&(*out)->agg[i].lock, NULL);
    return GW_OK;
}

void gw_tile_source_set_aggregates(gw_tile_source *src, bool on)
{
    if (src) __atomic_store_n(&src->no_agg, !on, __ATOMIC_RELAXED);
}

void gw_tile_source_stats(gw_tile_source *src, gw_layer layer, gw_tile_agg_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!src || (int)layer < 0 || layer >= GW_LAYER_COUNT) return;
    tl_agg_slot *s = &src->agg[layer];
    pthread_mutex_lock(&s->lock);
    out->builds = s->builds, out->updates = s->updates, out->last_ms = s->last_ms;
    pthread_mutex_unlock(&s->lock);
}

static void lidx_release(lidx *x)
{
    if (x && __atomic_sub_fetch(&x->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(x->env);
        free(x);
    }
}

void gw_tile_source_destroy(gw_tile_source *src)
{
    if (!src) return;
    gw_ctx *ctx = NULL; /* the aggregates hold snapshots, released with a context */
    gw_ctx_create(&ctx);
    for (int i = 0; i < GW_LAYER_COUNT; i++) {
        lidx_release(src->slot[i]);
        tl_agg_release(ctx, src->agg[i].agg);
        pthread_mutex_destroy(&src->agg[i].lock);
    }
    gw_ctx_destroy(ctx);
    pthread_mutex_destroy(&src->lock);
    free(src);
}

/* Least-squares affine Mercator -> metric over a sample, then its worst residual over all. */
static void fit_affine(lidx *x)
{
    const gw_layer_data *d = x->d;
    size_t n = x->count;
    const double *mx = gw_layer_data_x(d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(d, GW_MODEL_MERCATOR);
    const double *ux = gw_layer_data_x(d, GW_MODEL_METRIC),
                 *uy = gw_layer_data_y(d, GW_MODEL_METRIC);
    if (n < 3 || !mx || !ux) return;
    size_t step = n > 4096 ? n / 4096 : 1, m = 0;
    double cx = 0, cy = 0, cu = 0, cv = 0;
    for (size_t i = 0; i < n; i += step, m++) cx += mx[i], cy += my[i], cu += ux[i], cv += uy[i];
    cx /= (double)m, cy /= (double)m, cu /= (double)m, cv /= (double)m;
    double sxx = 0, sxy = 0, syy = 0, sxu = 0, syu = 0, sxv = 0, syv = 0;
    for (size_t i = 0; i < n; i += step) {
        double px = mx[i] - cx, py = my[i] - cy, pu = ux[i] - cu, pv = uy[i] - cv;
        sxx += px * px, sxy += px * py, syy += py * py;
        sxu += px * pu, syu += py * pu, sxv += px * pv, syv += py * pv;
    }
    double det = sxx * syy - sxy * sxy;
    if (!(fabs(det) > 1e-9 * (sxx * syy + 1e-300))) return; /* collinear: scan instead */
    double a1 = (sxu * syy - syu * sxy) / det, a2 = (syu * sxx - sxu * sxy) / det;
    double a4 = (sxv * syy - syv * sxy) / det, a5 = (syv * sxx - sxv * sxy) / det;
    x->a[1] = a1, x->a[2] = a2, x->a[0] = cu - a1 * cx - a2 * cy;
    x->a[4] = a4, x->a[5] = a5, x->a[3] = cv - a4 * cx - a5 * cy;
    double ex = 0, ey = 0;
    for (size_t i = 0; i < n; i++) {
        double du = fabs(x->a[0] + a1 * mx[i] + a2 * my[i] - ux[i]);
        double dv = fabs(x->a[3] + a4 * mx[i] + a5 * my[i] - uy[i]);
        if (du > ex) ex = du;
        if (dv > ey) ey = dv;
    }
    if (!isfinite(ex) || !isfinite(ey)) return;
    x->ex = ex * 1.001 + 1.0, x->ey = ey * 1.001 + 1.0;
    x->has_affine = 1;
}

static gw_status lidx_build(gw_ctx *ctx, const gw_layer_data *d, lidx **out)
{
    lidx *x = calloc(1, sizeof *x);
    if (!x) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing a tile layer");
    x->refs = 1;
    x->d = d;
    x->seq = gw_layer_data_seq(d);
    x->count = gw_layer_data_count(d);
    gw_layer layer = gw_layer_data_layer(d);
    gw_bbox e = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    if (layer == GW_LAYER_GRIDS) {
        GEOSContextHandle_t h = gw_ctx_geos(ctx);
        x->env = malloc((x->count ? x->count : 1) * 4 * sizeof *x->env);
        if (!x->env) {
            free(x);
            return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing the grids");
        }
        for (size_t r = 0; r < x->count; r++) {
            double *v = x->env + 4 * r;
            const GEOSGeometry *g = gw_layer_data_geom(d, r, GW_MODEL_MERCATOR);
            const GEOSGeometry *gl = gw_layer_data_geom(d, r, GW_MODEL_LONLAT);
            double a, b, c2, d2;
            if (!g || !GEOSGeom_getXMin_r(h, g, &v[0]) || !GEOSGeom_getYMin_r(h, g, &v[1]) ||
                !GEOSGeom_getXMax_r(h, g, &v[2]) || !GEOSGeom_getYMax_r(h, g, &v[3])) {
                v[0] = v[1] = INFINITY, v[2] = v[3] = -INFINITY; /* never intersects */
                continue;
            }
            if (gl && GEOSGeom_getXMin_r(h, gl, &a) && GEOSGeom_getYMin_r(h, gl, &b) &&
                GEOSGeom_getXMax_r(h, gl, &c2) && GEOSGeom_getYMax_r(h, gl, &d2)) {
                e.minx = fmin(e.minx, a), e.miny = fmin(e.miny, b);
                e.maxx = fmax(e.maxx, c2), e.maxy = fmax(e.maxy, d2);
            }
        }
    } else {
        const double *lx = gw_layer_data_x(d, GW_MODEL_LONLAT),
                     *ly = gw_layer_data_y(d, GW_MODEL_LONLAT);
        for (size_t r = 0; lx && r < x->count; r++) {
            e.minx = fmin(e.minx, lx[r]), e.miny = fmin(e.miny, ly[r]);
            e.maxx = fmax(e.maxx, lx[r]), e.maxy = fmax(e.maxy, ly[r]);
        }
        fit_affine(x);
        if (layer == GW_LAYER_CAMERAS && lx) {
            int fr = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
            const double *rg = gw_layer_data_reals(d, fr);
            const uint8_t *nl = gw_layer_data_nulls(d, fr);
            for (size_t r = 0; rg && r < x->count; r++) {
                if (nl && nl[r]) continue;
                double reach = rg[r] / cos(ly[r] * M_PI / 180);
                if (reach > x->reach) x->reach = reach;
            }
        }
    }
    if (e.minx <= e.maxx) x->has_ext = 1, x->ext = e;
    *out = x;
    return GW_OK;
}

/* The lookup structure of d, built on first use; release with lidx_release(). */
static gw_status lidx_get(gw_ctx *ctx, gw_tile_source *src, const gw_layer_data *d, lidx **out)
{
    gw_layer layer = gw_layer_data_layer(d);
    pthread_mutex_lock(&src->lock);
    lidx *x = src->slot[layer];
    if (x && x->d == d && x->seq == gw_layer_data_seq(d) && x->count == gw_layer_data_count(d)) {
        __atomic_fetch_add(&x->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&src->lock);
        *out = x;
        return GW_OK;
    }
    pthread_mutex_unlock(&src->lock);
    gw_status st = lidx_build(ctx, d, &x);
    if (st) return st;
    pthread_mutex_lock(&src->lock);
    lidx *old = src->slot[layer];
    src->slot[layer] = x;
    x->refs++; /* one for the slot, one for the caller */
    pthread_mutex_unlock(&src->lock);
    lidx_release(old);
    *out = x;
    return GW_OK;
}

/* ---- point collection -------------------------------------------------------------------- */

typedef struct rows {
    size_t *v;
    size_t n, cap;
    int oom;
} rows;

typedef struct visit {
    const tl_cfilt *cf;
    const double *mx, *my;
    gw_bbox box;
    rows *out;
} visit;

static int visit_row(void *user, size_t r)
{
    visit *v = user;
    double x = v->mx[r], y = v->my[r];
    if (x < v->box.minx || x > v->box.maxx || y < v->box.miny || y > v->box.maxy) return 0;
    if (!tl_cfilt_pass(v->cf, r)) return 0;
    rows *o = v->out;
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 1024;
        size_t *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv) {
            o->oom = 1;
            return 1;
        }
        o->v = nv, o->cap = nc;
    }
    o->v[o->n++] = r;
    return 0;
}

/* Rows of point layer x whose Mercator point lies in box (inclusive) and pass cf, in row order
 * for the scan and in index order otherwise. */
static gw_status collect_points(gw_ctx *ctx, const lidx *x, const tl_cfilt *cf, gw_bbox box,
                                rows *out)
{
    out->n = 0;
    visit v = {cf, gw_layer_data_x(x->d, GW_MODEL_MERCATOR),
               gw_layer_data_y(x->d, GW_MODEL_MERCATOR), box, out};
    if (!v.mx) return GW_OK;
    if (x->has_affine) {
        double cx[4] = {box.minx, box.maxx, box.maxx, box.minx},
               cy[4] = {box.miny, box.miny, box.maxy, box.maxy};
        gw_bbox m = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (int i = 0; i < 4; i++) {
            double u = x->a[0] + x->a[1] * cx[i] + x->a[2] * cy[i];
            double w = x->a[3] + x->a[4] * cx[i] + x->a[5] * cy[i];
            m.minx = fmin(m.minx, u), m.maxx = fmax(m.maxx, u), m.miny = fmin(m.miny, w),
            m.maxy = fmax(m.maxy, w);
        }
        m.minx -= x->ex, m.maxx += x->ex, m.miny -= x->ey, m.maxy += x->ey;
        gw_layer_data_query_points(x->d, &m, visit_row, &v);
    } else {
        for (size_t r = 0; r < x->count && !out->oom; r++) visit_row(&v, r);
    }
    if (out->oom) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory collecting tile points");
    return GW_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- encoding ---------------------------------------------------------------------------- */

/* Properties of row r of a part (keys borrowed from the layer table). */
static size_t row_props(const gw_layer_data *d, int part, size_t r, gw_mvt_prop *p)
{
    int fi[16];
    size_t n = part_fields(part, fi), k = 0;
    const gw_field *f = gw_layer_fields(gw_layer_data_layer(d), NULL);
    for (size_t i = 0; i < n; i++) {
        gw_value v = gw_layer_data_value(d, r, fi[i]);
        if (v.kind == GW_VAL_NULL) continue;
        p[k].key = f[fi[i]].name;
        if (v.kind == GW_VAL_TEXT) p[k].value = (gw_mvt_value){.type = GW_MVT_STRING, .u.s = v.s};
        else if (v.kind == GW_VAL_INT) p[k].value = (gw_mvt_value){.type = GW_MVT_INT, .u.i = v.i};
        else p[k].value = (gw_mvt_value){.type = GW_MVT_DOUBLE, .u.d = v.d};
        k++;
    }
    return k;
}

/* The server's analysis fields of grid row r into p (from index k); returns the new count. */
static size_t grid_extra_props(const gw_tile_grid_fields *g, size_t r, int detail, gw_mvt_prop *p,
                               size_t k)
{
#define DBL(key, arr)                                                                              \
    if ((arr) && !isnan((arr)[r])) p[k++] = (gw_mvt_prop)                                          \
        {                                                                                          \
            key, { .type = GW_MVT_DOUBLE, .u.d = (arr)[r] }                                        \
        }
#define INT(key, arr)                                                                              \
    if (arr) p[k++] = (gw_mvt_prop)                                                                \
        {                                                                                          \
            key, { .type = GW_MVT_INT, .u.i = (arr)[r] }                                           \
        }
    if (!detail && g->coverage_ratio && !isnan(g->coverage_ratio[r])) /* to 0.01: ~10 KB at z8 */
        p[k++] = (gw_mvt_prop){"coverage_ratio",
                               {.type = GW_MVT_DOUBLE,
                                .u.d = round(g->coverage_ratio[r] * 100) / 100}};
    else DBL("coverage_ratio", g->coverage_ratio);
    if (g->gi_bin && g->gi_bin[r] != GW_TILE_NO_BIN)
        p[k++] = (gw_mvt_prop){"gi_bin", {.type = GW_MVT_INT, .u.i = g->gi_bin[r]}};
    if (!detail) return k; /* each property costs 2-3 bytes a grid: ~20 KB in a z8 tile */
    DBL("covered_m2", g->covered_m2);
    INT("cameras", g->cameras);
    DBL("room_reach", g->room_reach);
    DBL("reach_3m", g->reach_3m);
    DBL("reach_5m", g->reach_5m);
    DBL("reach_10m", g->reach_10m);
    DBL("gi_z", g->gi_z);
    DBL("gi_p", g->gi_p);
    if (g->gi_class)
        p[k++] = (gw_mvt_prop){"gi_class",
                               {.type = GW_MVT_STRING,
                                .u.s = gw_hotspot_class_name((gw_hotspot_class)g->gi_class[r])}};
    INT("gi_count", g->gi_count);
    INT("clusters", g->clusters);
    DBL("cluster_rr", g->cluster_rr);
    if (g->resp_incidents && g->resp_incidents[r] > 0) { /* grids without incidents: none */
        INT("resp_incidents", g->resp_incidents);
        INT("resp_open", g->resp_open);
        INT("resp_overdue", g->resp_overdue);
        DBL("resp_overdue_share", g->resp_overdue_share);
        DBL("resp_escalation_rate", g->resp_escalation_rate);
        DBL("resp_accept_p50_s", g->resp_accept_p50);
        DBL("resp_accept_p90_s", g->resp_accept_p90);
        DBL("resp_arrive_p50_s", g->resp_arrive_p50);
        DBL("resp_close_p50_s", g->resp_close_p50);
        DBL("resp_close_p90_s", g->resp_close_p90);
    }
#undef DBL
#undef INT
    return k;
}

static gw_status render_grids(gw_ctx *ctx, gw_mvt *mvt, const lidx *x, const tl_cfilt *cf,
                              gw_bbox box, uint32_t z, const gw_tile_grid_fields *g)
{
    gw_status st = GW_OK;
    gw_mvt_prop p[48];
    int detail = z >= GW_TL_GRID_DETAIL_MINZOOM;
    if (g && (g->grids_seq != gw_layer_data_seq(x->d) || g->n != x->count))
        g = NULL; /* another version */
    for (size_t r = 0; r < x->count && !st; r++) {
        const double *e = x->env + 4 * r;
        if (e[0] > box.maxx || e[2] < box.minx || e[1] > box.maxy || e[3] < box.miny) continue;
        if (!tl_cfilt_pass(cf, r)) continue;
        size_t np = row_props(x->d, detail ? GW_TL_GRIDS : GRIDS_LOW, r, p);
        if (g) np = grid_extra_props(g, r, detail, p, np);
        st = gw_mvt_add_feature(mvt, (uint64_t)gw_layer_data_fid(x->d, r), true,
                                gw_layer_data_geom(x->d, r, GW_MODEL_MERCATOR), p, np, NULL);
    }
    return st;
}

static gw_status render_points(gw_ctx *ctx, gw_mvt *mvt, const lidx *x, int part, const rows *rs)
{
    const double *mx = gw_layer_data_x(x->d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(x->d, GW_MODEL_MERCATOR);
    gw_mvt_prop p[16];
    gw_status st = GW_OK;
    for (size_t i = 0; i < rs->n && !st; i++) {
        size_t r = rs->v[i];
        size_t np = row_props(x->d, part, r, p);
        st = gw_mvt_add_point(mvt, (uint64_t)gw_layer_data_fid(x->d, r), true, mx[r], my[r], p, np,
                              NULL);
    }
    return st;
}

/* The field a part's cluster points count by (count_<value>), or NULL. */
static const char *cluster_field(int part)
{
    return part == GW_TL_INCIDENTS                        ? "category"
           : part == GW_TL_CAMERAS || part == GW_TL_TEAMS ? "status"
                                                          : NULL;
}

/* Points of tile t aggregated on a cells x cells grid: one point per non-empty cell at the
 * mean position, with count and count_<value of cluster_field()> (tiles/point_agg.c), from the
 * layer's aggregate index when given, else from the rows rs (all in t). */
static gw_status render_clusters(gw_ctx *ctx, gw_mvt *mvt, const gw_layer_data *d, int part,
                                 const tl_agg *ag, const rows *rs, size_t n, gw_tile_id t)
{
    int cells = n > 200000 ? 64 : 128;
    const char *cfield = cluster_field(part);
    int fcat = cfield ? gw_layer_field_index(gw_layer_data_layer(d), cfield) : -1;
    tl_cellsum cs;
    gw_status st = ag ? tl_agg_cells(ctx, ag, t, cells, &cs)
                      : tl_scan_cells(ctx, d, fcat, rs->v, rs->n, t, cells, &cs);
    if (!st) st = tl_cellsum_emit(ctx, mvt, &cs, fcat >= 0);
    tl_cellsum_free(&cs);
    return st;
}

/* View sectors of the cameras near the tile, built in Mercator: the radius is the range scaled
 * by 1 / cos(lat), the arc drawn in ~1 degree steps clockwise from north. */
static gw_status render_views(gw_ctx *ctx, gw_mvt *mvt, const lidx *x, const tl_cfilt *cf,
                              gw_bbox box, rows *rs)
{
    gw_bbox q = {box.minx - x->reach, box.miny - x->reach, box.maxx + x->reach,
                 box.maxy + x->reach};
    gw_status st = collect_points(ctx, x, cf, q, rs);
    if (st) return st;
    if (rs->n > 1) qsort(rs->v, rs->n, sizeof *rs->v, cmp_size);
    const gw_layer_data *d = x->d;
    const double *mx = gw_layer_data_x(d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(d, GW_MODEL_MERCATOR);
    const double *lat = gw_layer_data_y(d, GW_MODEL_LONLAT);
    int faz = gw_layer_field_index(GW_LAYER_CAMERAS, "azimuth"),
        ffov = gw_layer_field_index(GW_LAYER_CAMERAS, "fov");
    int frg = gw_layer_field_index(GW_LAYER_CAMERAS, "range");
    const double *az = gw_layer_data_reals(d, faz), *fov = gw_layer_data_reals(d, ffov),
                 *rg = gw_layer_data_reals(d, frg);
    const uint8_t *naz = gw_layer_data_nulls(d, faz), *nfov = gw_layer_data_nulls(d, ffov),
                  *nrg = gw_layer_data_nulls(d, frg);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    double buf[2 * 364];
    gw_mvt_prop p[16];
    for (size_t i = 0; i < rs->n && !st; i++) {
        size_t r = rs->v[i];
        if ((nrg && nrg[r]) || !(rg[r] > 0)) continue;
        double R = rg[r] / cos(lat[r] * M_PI / 180);
        if (mx[r] + R < box.minx || mx[r] - R > box.maxx || my[r] + R < box.miny ||
            my[r] - R > box.maxy)
            continue;
        double f = (nfov && nfov[r]) ? 360 : fov[r], a = (naz && naz[r]) ? 0 : az[r];
        int k = 0;
        if (!(f > 0) || f >= 360) {
            for (int s = 0; s < 360; s++) {
                double t = s * M_PI / 180;
                buf[2 * k] = mx[r] + R * sin(t), buf[2 * k + 1] = my[r] + R * cos(t), k++;
            }
        } else {
            int steps = (int)ceil(f);
            buf[2 * k] = mx[r], buf[2 * k + 1] = my[r], k++;
            for (int s = 0; s <= steps; s++) {
                double t = (a - f / 2 + f * s / steps) * M_PI / 180;
                buf[2 * k] = mx[r] + R * sin(t), buf[2 * k + 1] = my[r] + R * cos(t), k++;
            }
        }
        buf[2 * k] = buf[0], buf[2 * k + 1] = buf[1], k++;
        GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, buf, (unsigned)k, 0, 0);
        GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
        GEOSGeometry *poly = ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
        if (!poly) {
            if (ring) GEOSGeom_destroy_r(h, ring);
            else if (cs) GEOSCoordSeq_destroy_r(h, cs);
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "camera %s: cannot build its view sector: %s",
                                gw_layer_data_id(d, r), gw_ctx_geos_errmsg(ctx));
        }
        size_t np = row_props(d, GW_TL_CAMERA_VIEWS, r, p);
        st = gw_mvt_add_feature(mvt, (uint64_t)gw_layer_data_fid(d, r), true, poly, p, np, NULL);
        GEOSGeom_destroy_r(h, poly);
    }
    return st;
}

gw_status gw_tile_render(gw_ctx *ctx, gw_tile_source *src, gw_mvt *mvt,
                         const gw_model_snapshot *snap, uint32_t parts, gw_tile_id t,
                         const gw_tile_filter *f, const uint8_t **bytes, size_t *len)
{
    return gw_tile_render_ex(ctx, src, mvt, snap, parts, t, f, NULL, bytes, len);
}

gw_status gw_tile_render_ex(gw_ctx *ctx, gw_tile_source *src, gw_mvt *mvt,
                            const gw_model_snapshot *snap, uint32_t parts, gw_tile_id t,
                            const gw_tile_filter *f, const gw_tile_extras *ex,
                            const uint8_t **bytes, size_t *len)
{
    gw_status st = gw_mvt_reset(mvt, t);
    if (st) return st;
    static const int order[] = {GW_TL_GRIDS,        GW_TL_BLIND_SPOTS,  GW_TL_HOTSPOT_CLUSTERS,
                                GW_TL_CAMERA_VIEWS, GW_TL_POLICE_ROOMS, GW_TL_CAMERAS,
                                GW_TL_TEAMS,        GW_TL_INCIDENTS};
    gw_bbox tb = gw_tile_bounds(t), bb = gw_tile_bounds_buffered(t, GW_TILE_EXTENT, GW_TILE_BUFFER);
    rows rs = {0};
    for (size_t i = 0; i < sizeof order / sizeof order[0] && !st; i++) {
        int part = order[i];
        if (!(parts & (1u << part))) continue;
        if (part == GW_TL_CAMERA_VIEWS && t.z < GW_TL_VIEWS_MINZOOM) continue;
        if (parts != 1u << part && t.z < gw_tile_layer_city_minzoom((gw_tile_layer)part))
            continue; /* composite tiles: cameras and incidents where the styles use them */
        if (part == GW_TL_BLIND_SPOTS && (t.z < GW_TL_BLIND_MINZOOM || !ex || !ex->blind)) continue;
        if (part == GW_TL_HOTSPOT_CLUSTERS) { /* the server's analysis, not the snapshot's rows */
            if (ex && ex->keep) continue;     /* city-wide figures: not for a jurisdiction */
            st = tl_render_clusters(ctx, mvt, tl_names[part], ex, bb);
            continue;
        }
        const gw_layer_data *d = gw_snapshot_layer(snap, tl_part_layer(part));
        if (!d || !gw_layer_data_count(d)) continue;
        tl_cfilt cf;
        tl_cfilt_init(&cf, d, f);
        if (ex) cf.keep = ex->keep, cf.keep_user = ex->keep_user;
        if (part == GW_TL_BLIND_SPOTS) { /* no lookup structure: the supplier finds the grids */
            st = gw_mvt_add_layer(mvt, tl_names[part], 0);
            if (!st) st = tl_render_blind(ctx, mvt, ex, &cf, bb);
            continue;
        }
        lidx *x = NULL;
        if ((st = lidx_get(ctx, src, d, &x))) break;
        st = gw_mvt_add_layer(mvt, tl_names[part], 0);
        if (!st && part == GW_TL_GRIDS) {
            st = render_grids(ctx, mvt, x, &cf, bb, t.z, ex ? ex->grid : NULL);
        } else if (!st && part == GW_TL_CAMERA_VIEWS) {
            st = render_views(ctx, mvt, x, &cf, bb, &rs);
        } else if (!st) {
            /* dense tiles: clusters, from the aggregate index when nothing is filtered */
            size_t n = 0;
            tl_agg *ag = NULL;
            int plain = !cf.n && !cf.has_lo && !cf.has_hi && !cf.keep;
            const char *cfield = cluster_field(part);
            if (x->count > GW_TL_CLUSTER_MAX && plain &&
                !__atomic_load_n(&src->no_agg, __ATOMIC_RELAXED))
                st = tl_agg_get(ctx, &src->agg[tl_part_layer(part)], snap, tl_part_layer(part),
                                cfield ? gw_layer_field_index(tl_part_layer(part), cfield) : -1,
                                &ag);
            if (!st && ag) {
                n = tl_agg_tile_count(ag, t);
            } else if (!st && x->count > GW_TL_CLUSTER_MAX) {
                double e = 1.0; /* metres: the fixed-point tile test decides */
                gw_bbox tw = {tb.minx - e, tb.miny - e, tb.maxx + e, tb.maxy + e};
                st = collect_points(ctx, x, &cf, tw, &rs);
                n = rs.n = tl_keep_in_tile(x->d, rs.v, rs.n, t);
            }
            if (!st && n > GW_TL_CLUSTER_MAX) {
                st = render_clusters(ctx, mvt, x->d, part, ag, &rs, n, t);
            } else if (!st) {
                st = collect_points(ctx, x, &cf, bb, &rs);
                if (rs.n > 1)
                    qsort(rs.v, rs.n, sizeof *rs.v, cmp_size); /* stable tile bytes: row order */
                if (!st) st = render_points(ctx, mvt, x, zoom_part(part, t.z), &rs);
            }
            tl_agg_release(ctx, ag);
        }
        lidx_release(x);
    }
    free(rs.v);
    if (!st) st = gw_mvt_finish(mvt, bytes, len);
    return st;
}

gw_status gw_tile_extent(gw_ctx *ctx, gw_tile_source *src, const gw_model_snapshot *snap,
                         uint32_t parts, gw_bbox *out)
{
    gw_bbox e = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int p = 0; p < GW_TL_CITY; p++) {
        if (!(parts & (1u << p))) continue;
        const gw_layer_data *d = gw_snapshot_layer(snap, tl_part_layer(p));
        if (!d || !gw_layer_data_count(d)) continue;
        lidx *x = NULL;
        gw_status st = lidx_get(ctx, src, d, &x);
        if (st) return st;
        if (x->has_ext) {
            e.minx = fmin(e.minx, x->ext.minx), e.miny = fmin(e.miny, x->ext.miny);
            e.maxx = fmax(e.maxx, x->ext.maxx), e.maxy = fmax(e.maxy, x->ext.maxy);
        }
        lidx_release(x);
    }
    if (!(e.minx <= e.maxx))
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "the layers hold no features");
    *out = e;
    return GW_OK;
}

double gw_tile_views_reach(gw_ctx *ctx, gw_tile_source *src, const gw_model_snapshot *snap)
{
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_CAMERAS);
    lidx *x = NULL;
    if (!d || !gw_layer_data_count(d) || lidx_get(ctx, src, d, &x)) return 0;
    double r = x->reach;
    lidx_release(x);
    return r;
}
