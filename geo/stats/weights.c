/* weights.c — spatial weights for the hotspot statistics: which grids are neighbours.
 *
 * Contiguity (queen/rook) from the metric polygons through the model's STRtree, distance bands
 * and k nearest neighbours on centroids through a bucket grid.  The result is a compact CSR
 * list (binary weights), built once per grid version and shared read-only by every request. */
#include "gridwatch/hotspot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_weights {
    size_t n;
    size_t *off;   /* n + 1 */
    uint32_t *idx; /* off[n] */
    gw_weights_opts opts;
};

/* A growable list of directed pairs. */
typedef struct pairs {
    uint32_t *a, *b;
    size_t len, cap;
    int oom;
} pairs;

static void pairs_add(pairs *p, uint32_t a, uint32_t b)
{
    if (p->oom) return;
    if (p->len == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 1024;
        uint32_t *na = realloc(p->a, nc * sizeof *na);
        if (!na) {
            p->oom = 1;
            return;
        }
        p->a = na;
        uint32_t *nb = realloc(p->b, nc * sizeof *nb);
        if (!nb) {
            p->oom = 1;
            return;
        }
        p->b = nb;
        p->cap = nc;
    }
    p->a[p->len] = a;
    p->b[p->len++] = b;
}

static void pairs_free(pairs *p)
{
    free(p->a);
    free(p->b);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* CSR from directed pairs: counting sort by source, sort and dedupe each list, drop self. */
static gw_status weights_from_pairs(gw_ctx *ctx, size_t n, const pairs *p,
                                    const gw_weights_opts *opts, gw_weights **out)
{
    gw_weights *w = calloc(1, sizeof *w);
    if (!w) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights");
    w->n = n;
    w->opts = *opts;
    w->off = calloc(n + 1, sizeof *w->off);
    w->idx = malloc((p->len ? p->len : 1) * sizeof *w->idx);
    if (!w->off || !w->idx) {
        gw_weights_destroy(w);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights (%zu links)",
                            p->len);
    }
    for (size_t k = 0; k < p->len; k++) w->off[p->a[k] + 1]++;
    for (size_t i = 0; i < n; i++) w->off[i + 1] += w->off[i];
    size_t *fill = malloc((n + 1) * sizeof *fill);
    if (!fill) {
        gw_weights_destroy(w);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights");
    }
    memcpy(fill, w->off, (n + 1) * sizeof *fill);
    for (size_t k = 0; k < p->len; k++) w->idx[fill[p->a[k]]++] = p->b[k];
    /* sort, dedupe and compact */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t s = w->off[i], e = w->off[i + 1];
        qsort(w->idx + s, e - s, sizeof *w->idx, cmp_u32);
        w->off[i] = o;
        for (size_t k = s; k < e; k++) {
            uint32_t j = w->idx[k];
            if (j == i || (o > w->off[i] && w->idx[o - 1] == j)) continue;
            w->idx[o++] = j;
        }
    }
    w->off[n] = o;
    free(fill);
    *out = w;
    return GW_OK;
}

void gw_weights_destroy(gw_weights *w)
{
    if (!w) return;
    free(w->off);
    free(w->idx);
    free(w);
}

size_t gw_weights_count(const gw_weights *w) { return w ? w->n : 0; }
size_t gw_weights_links(const gw_weights *w) { return w ? w->off[w->n] : 0; }
gw_weights_opts gw_weights_get_opts(const gw_weights *w) { return w->opts; }

const uint32_t *gw_weights_neighbours(const gw_weights *w, size_t i, size_t *n)
{
    if (!w || i >= w->n) {
        *n = 0;
        return NULL;
    }
    *n = w->off[i + 1] - w->off[i];
    return w->idx + w->off[i];
}

gw_status gw_weights_from_lists(gw_ctx *ctx, size_t n, const size_t *off, const uint32_t *idx,
                                gw_weights **out)
{
    *out = NULL;
    if (n > UINT32_MAX || !off) return gw_ctx_error(ctx, GW_ERR_ARG, "weights: bad lists");
    pairs p = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            if (idx[k] >= n) {
                pairs_free(&p);
                return gw_ctx_error(ctx, GW_ERR_RANGE,
                                    "weights: neighbour %u of unit %zu is out of range (n = %zu)",
                                    idx[k], i, n);
            }
            pairs_add(&p, (uint32_t)i, idx[k]);
        }
    gw_weights_opts o = {.kind = GW_WEIGHTS_QUEEN};
    gw_status st = p.oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights")
                         : weights_from_pairs(ctx, n, &p, &o, out);
    pairs_free(&p);
    return st;
}

gw_status gw_weights_parse(gw_ctx *ctx, const char *text, gw_weights_opts *out)
{
    gw_weights_opts o = {.kind = GW_WEIGHTS_QUEEN, .snap = 0.01};
    if (!text)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "weights: missing (use queen, rook, distance:M or knn:K)");
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    char *rest = strchr(buf, ',');
    if (rest) *rest++ = '\0';
    char *arg = strchr(buf, ':');
    if (arg) *arg++ = '\0';
    char *end = NULL;
    if (strcmp(buf, "queen") == 0 && !arg) o.kind = GW_WEIGHTS_QUEEN;
    else if (strcmp(buf, "rook") == 0 && !arg) o.kind = GW_WEIGHTS_ROOK;
    else if (strcmp(buf, "distance") == 0 && arg) {
        o.kind = GW_WEIGHTS_DISTANCE;
        o.distance = strtod(arg, &end);
        if (end == arg || *end || !(o.distance > 0) || !isfinite(o.distance))
            return gw_ctx_error(ctx, GW_ERR_ARG,
                                "weights '%s': the band must be a positive number of metres", text);
    } else if (strcmp(buf, "knn") == 0 && arg) {
        o.kind = GW_WEIGHTS_KNN;
        long k = strtol(arg, &end, 10);
        if (end == arg || *end || k < 1 || k > 1000)
            return gw_ctx_error(ctx, GW_ERR_ARG,
                                "weights '%s': k must be an integer from 1 to 1000", text);
        o.k = (int)k;
    } else
        return gw_ctx_error(ctx, GW_ERR_ARG, "weights '%s': use queen, rook, distance:M or knn:K",
                            text);
    if (rest) {
        if (strncmp(rest, "snap:", 5) != 0 || o.kind > GW_WEIGHTS_ROOK)
            return gw_ctx_error(ctx, GW_ERR_ARG, "weights '%s': only queen/rook take ',snap:M'",
                                text);
        o.snap = strtod(rest + 5, &end);
        if (end == rest + 5 || *end || !(o.snap >= 0) || !isfinite(o.snap))
            return gw_ctx_error(ctx, GW_ERR_ARG, "weights '%s': snap must be metres >= 0", text);
    }
    *out = o;
    return GW_OK;
}

/* ---- points: a bucket grid for distance bands and kNN ---------------------------------- */

typedef struct bucket_grid {
    double x0, y0, cell;
    long nx, ny;
    size_t *start; /* nx*ny + 1 */
    uint32_t *items;
} bucket_grid;

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

static int bucket_build(bucket_grid *g, const double *x, const double *y, size_t n, double cell)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        minx = fmin(minx, x[i]), maxx = fmax(maxx, x[i]);
        miny = fmin(miny, y[i]), maxy = fmax(maxy, y[i]);
    }
    double ext = fmax(maxx - minx, maxy - miny);
    if (!(cell > 0) || !isfinite(cell)) cell = ext > 0 ? ext : 1;
    if (ext / cell > 4096) cell = ext / 4096; /* cap the table size */
    if (!(cell > 0)) cell = 1;
    g->x0 = minx, g->y0 = miny, g->cell = cell;
    g->nx = (long)((maxx - minx) / cell) + 1;
    g->ny = (long)((maxy - miny) / cell) + 1;
    size_t nc = (size_t)g->nx * (size_t)g->ny;
    g->start = calloc(nc + 1, sizeof *g->start);
    g->items = malloc((n ? n : 1) * sizeof *g->items);
    size_t *fill = malloc((nc + 1) * sizeof *fill);
    if (!g->start || !g->items || !fill) {
        free(fill);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        long cx = clampl((long)((x[i] - minx) / cell), 0, g->nx - 1);
        long cy = clampl((long)((y[i] - miny) / cell), 0, g->ny - 1);
        g->start[(size_t)cy * (size_t)g->nx + (size_t)cx + 1]++;
    }
    for (size_t c = 0; c < nc; c++) g->start[c + 1] += g->start[c];
    memcpy(fill, g->start, (nc + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        long cx = clampl((long)((x[i] - minx) / cell), 0, g->nx - 1);
        long cy = clampl((long)((y[i] - miny) / cell), 0, g->ny - 1);
        g->items[fill[(size_t)cy * (size_t)g->nx + (size_t)cx]++] = (uint32_t)i;
    }
    free(fill);
    return 0;
}

static void bucket_free(bucket_grid *g)
{
    free(g->start);
    free(g->items);
}

static void points_band(const bucket_grid *g, const double *x, const double *y, size_t n, double d,
                        pairs *p)
{
    long r = (long)ceil(d / g->cell);
    double d2 = d * d;
    for (size_t i = 0; i < n; i++) {
        long cx = clampl((long)((x[i] - g->x0) / g->cell), 0, g->nx - 1);
        long cy = clampl((long)((y[i] - g->y0) / g->cell), 0, g->ny - 1);
        for (long yy = clampl(cy - r, 0, g->ny - 1); yy <= clampl(cy + r, 0, g->ny - 1); yy++)
            for (long xx = clampl(cx - r, 0, g->nx - 1); xx <= clampl(cx + r, 0, g->nx - 1); xx++) {
                size_t c = (size_t)yy * (size_t)g->nx + (size_t)xx;
                for (size_t k = g->start[c]; k < g->start[c + 1]; k++) {
                    uint32_t j = g->items[k];
                    double dx = x[j] - x[i], dy = y[j] - y[i];
                    if (j != i && dx * dx + dy * dy <= d2) pairs_add(p, (uint32_t)i, j);
                }
            }
    }
}

/* k nearest by rings of buckets; best[]/bestd[] are caller scratch of k entries. */
static void points_knn(const bucket_grid *g, const double *x, const double *y, size_t n, int k,
                       uint32_t *best, double *bestd, pairs *p)
{
    for (size_t i = 0; i < n; i++) {
        long cx = clampl((long)((x[i] - g->x0) / g->cell), 0, g->nx - 1);
        long cy = clampl((long)((y[i] - g->y0) / g->cell), 0, g->ny - 1);
        int found = 0;
        long maxr = g->nx > g->ny ? g->nx : g->ny;
        for (long r = 0; r <= maxr; r++) {
            for (long yy = cy - r; yy <= cy + r; yy++) {
                if (yy < 0 || yy >= g->ny) continue;
                long step = (yy == cy - r || yy == cy + r) ? 1 : 2 * r;
                for (long xx = cx - r; xx <= cx + r; xx += step ? step : 1) {
                    if (xx < 0 || xx >= g->nx) continue;
                    size_t c = (size_t)yy * (size_t)g->nx + (size_t)xx;
                    for (size_t q = g->start[c]; q < g->start[c + 1]; q++) {
                        uint32_t j = g->items[q];
                        if (j == i) continue;
                        double dx = x[j] - x[i], dy = y[j] - y[i], dd = dx * dx + dy * dy;
                        if (found == k &&
                            !(dd < bestd[k - 1] || (dd == bestd[k - 1] && j < best[k - 1])))
                            continue;
                        int pos = found < k ? found++ : k - 1;
                        while (pos > 0 && (bestd[pos - 1] > dd ||
                                           (bestd[pos - 1] == dd && best[pos - 1] > j))) {
                            bestd[pos] = bestd[pos - 1];
                            best[pos] = best[pos - 1];
                            pos--;
                        }
                        bestd[pos] = dd;
                        best[pos] = j;
                    }
                    if (r == 0) break;
                }
            }
            double reach = (double)r * g->cell;
            if (found == k && bestd[k - 1] <= reach * reach) break;
        }
        for (int q = 0; q < found; q++) pairs_add(p, (uint32_t)i, best[q]);
    }
}

gw_status gw_weights_from_points(gw_ctx *ctx, const double *x, const double *y, size_t n,
                                 const gw_weights_opts *opts, gw_weights **out)
{
    *out = NULL;
    if (!opts || (opts->kind != GW_WEIGHTS_DISTANCE && opts->kind != GW_WEIGHTS_KNN))
        return gw_ctx_error(ctx, GW_ERR_ARG, "weights between points need distance:M or knn:K");
    if (n > UINT32_MAX) return gw_ctx_error(ctx, GW_ERR_RANGE, "weights: too many units (%zu)", n);
    if (opts->kind == GW_WEIGHTS_DISTANCE && !(opts->distance > 0))
        return gw_ctx_error(ctx, GW_ERR_ARG, "weights: the distance band must be > 0 m");
    if (opts->kind == GW_WEIGHTS_KNN && (opts->k < 1 || (size_t)opts->k >= n))
        return gw_ctx_error(ctx, GW_ERR_ARG, "weights: knn:%d needs 1 <= k < the %zu units",
                            opts->k, n);
    bucket_grid g = {0};
    double cell = opts->kind == GW_WEIGHTS_DISTANCE ? opts->distance : 0;
    if (opts->kind == GW_WEIGHTS_KNN) {
        double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            minx = fmin(minx, x[i]), maxx = fmax(maxx, x[i]);
            miny = fmin(miny, y[i]), maxy = fmax(maxy, y[i]);
        }
        double area = fmax((maxx - minx) * (maxy - miny), 1e-12);
        cell = sqrt(area / (double)n * (opts->k + 1));
    }
    pairs p = {0};
    uint32_t *best = NULL;
    double *bestd = NULL;
    gw_status st = GW_OK;
    if (bucket_build(&g, x, y, n, cell)) {
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the point index");
        goto done;
    }
    if (opts->kind == GW_WEIGHTS_DISTANCE) {
        points_band(&g, x, y, n, opts->distance, &p);
    } else {
        best = malloc((size_t)opts->k * sizeof *best);
        bestd = malloc((size_t)opts->k * sizeof *bestd);
        if (!best || !bestd) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
        points_knn(&g, x, y, n, opts->k, best, bestd, &p);
    }
    st = p.oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights")
               : weights_from_pairs(ctx, n, &p, opts, out);
done:
    free(best);
    free(bestd);
    bucket_free(&g);
    pairs_free(&p);
    return st;
}

/* ---- grids: contiguity through the STRtree, or centroid weights ------------------------ */

typedef struct cand {
    size_t self;
    uint32_t *rows;
    size_t len, cap;
    int oom;
} cand;

static void cand_cb(void *item, void *user)
{
    cand *c = user;
    size_t j = gw_model_tree_row(item);
    if (j <= c->self || c->oom) return; /* each unordered pair once */
    if (c->len == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        uint32_t *nr = realloc(c->rows, nc * sizeof *nr);
        if (!nr) {
            c->oom = 1;
            return;
        }
        c->rows = nr;
        c->cap = nc;
    }
    c->rows[c->len++] = (uint32_t)j;
}

static gw_status grids_contiguity(gw_ctx *ctx, const gw_layer_data *grids,
                                  const gw_weights_opts *opts, pairs *p)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t n = gw_layer_data_count(grids);
    GEOSSTRtree *tree = gw_layer_data_tree(grids);
    int rook = opts->kind == GW_WEIGHTS_ROOK;
    double snap = opts->snap > 0 ? opts->snap : 0;
    GEOSGeometry **bnd = rook ? calloc(n ? n : 1, sizeof *bnd) : NULL;
    cand c = {0};
    gw_status st = GW_OK;
    if (rook && !bnd) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        const GEOSGeometry *gi = gw_layer_data_geom(grids, i, GW_MODEL_METRIC);
        double x0, y0, x1, y1;
        if (!gi || !GEOSGeom_getExtent_r(h, gi, &x0, &y0, &x1, &y1)) continue;
        GEOSGeometry *env = GEOSGeom_createRectangle_r(h, x0 - snap, y0 - snap, x1 + snap,
                                                       y1 + snap);
        if (!env) {
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "weights: GEOS failed on grid %s: %s",
                              gw_layer_data_id(grids, i), gw_ctx_geos_errmsg(ctx));
            break;
        }
        c.self = i;
        c.len = 0;
        GEOSSTRtree_query_r(h, tree, env, cand_cb, &c);
        GEOSGeom_destroy_r(h, env);
        if (c.oom) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < c.len && !st; k++) {
            size_t j = c.rows[k];
            const GEOSGeometry *gj = gw_layer_data_geom(grids, j, GW_MODEL_METRIC);
            char near = snap > 0 ? GEOSDistanceWithin_r(h, gi, gj, snap)
                                 : GEOSIntersects_r(h, gi, gj);
            if (near == 2) {
                st = gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                  "weights: GEOS failed comparing grids %s and %s: %s",
                                  gw_layer_data_id(grids, i), gw_layer_data_id(grids, j),
                                  gw_ctx_geos_errmsg(ctx));
                break;
            }
            if (!near) continue;
            if (rook) {
                /* a shared stretch of boundary longer than the tolerance */
                if (!bnd[i]) bnd[i] = GEOSBoundary_r(h, gi);
                if (!bnd[j]) bnd[j] = GEOSBoundary_r(h, gj);
                if (!bnd[i] || !bnd[j]) {
                    st = gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                      "weights: no boundary for grid %s or %s",
                                      gw_layer_data_id(grids, i), gw_layer_data_id(grids, j));
                    break;
                }
                GEOSGeometry *sj = snap > 0 ? GEOSSnap_r(h, bnd[j], bnd[i], snap) : NULL;
                GEOSGeometry *in = GEOSIntersection_r(h, bnd[i], sj ? sj : bnd[j]);
                double len = 0;
                if (in) GEOSLength_r(h, in, &len);
                GEOSGeom_destroy_r(h, in);
                GEOSGeom_destroy_r(h, sj);
                if (!(len > snap)) continue;
            }
            pairs_add(p, (uint32_t)i, (uint32_t)j);
            pairs_add(p, (uint32_t)j, (uint32_t)i);
        }
        if (rook && bnd[i]) { /* rows below i are done with */
            GEOSGeom_destroy_r(h, bnd[i]);
            bnd[i] = NULL;
        }
        if ((i & 1023) == 0) gw_ctx_progress(ctx, "weights", (double)i, (double)n);
    }
    if (bnd)
        for (size_t i = 0; i < n; i++) GEOSGeom_destroy_r(h, bnd[i]);
    free(bnd);
    free(c.rows);
    if (!st && p->oom) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building weights");
    return st;
}

gw_status gw_weights_from_grids(gw_ctx *ctx, const gw_layer_data *grids,
                                const gw_weights_opts *opts, gw_weights **out)
{
    *out = NULL;
    if (!grids || !opts || gw_layer_data_layer(grids) != GW_LAYER_GRIDS)
        return gw_ctx_error(ctx, GW_ERR_ARG, "weights need the grids layer");
    size_t n = gw_layer_data_count(grids);
    if (n > UINT32_MAX) return gw_ctx_error(ctx, GW_ERR_RANGE, "weights: too many grids (%zu)", n);
    if (opts->kind == GW_WEIGHTS_QUEEN || opts->kind == GW_WEIGHTS_ROOK) {
        pairs p = {0};
        gw_status st = grids_contiguity(ctx, grids, opts, &p);
        if (!st) st = weights_from_pairs(ctx, n, &p, opts, out);
        pairs_free(&p);
        return st;
    }
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    gw_status st = GW_OK;
    if (!x || !y) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    for (size_t i = 0; i < n && !st; i++) {
        GEOSGeometry *c = GEOSGetCentroid_r(h, gw_layer_data_geom(grids, i, GW_MODEL_METRIC));
        if (!c || !GEOSGeomGetX_r(h, c, &x[i]) || !GEOSGeomGetY_r(h, c, &y[i]))
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "weights: no centroid for grid %s: %s",
                              gw_layer_data_id(grids, i), gw_ctx_geos_errmsg(ctx));
        GEOSGeom_destroy_r(h, c);
    }
    if (!st) st = gw_weights_from_points(ctx, x, y, n, opts, out);
    free(x);
    free(y);
    return st;
}
