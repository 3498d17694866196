/* plan_validate.c — the validation report of a grid layout (draft or version) and its workload
 * balance.  GEOS 3.11 has no coverage validator, so the report is built here: validity per
 * grid, overlaps from STRtree candidate pairs and a relate pattern (interiors meet in 2D), gaps
 * as the jurisdiction minus the union, pieces outside it, multi-part grids, slivers and
 * oversize grids.  Overlay runs on the stored lon/lat; every area is measured in metric. */
#include "gridwatch/coverage.h"
#include "gridwatch/store_changes.h"
#include "gridwatch/store_coverage.h"
#include "plan_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VAL_GRID_DEG 1e-9 /* ≈ 0.1 mm: the grid of the snap-rounded gap/outside overlay */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void gw_plan_report_free(gw_plan_report *r)
{
    if (!r) return;
    free(r->geojson);
    memset(r, 0, sizeof *r);
}

typedef struct vctx {
    pl *p;
    GEOSGeoJSONWriter *gw;
    json_t *features;
    gw_plan_validate_opts o;
    gw_plan_report *r;
} vctx;

/* Append an issue feature (geometry borrowed, lon/lat); props is stolen. */
static gw_status issue(vctx *v, const char *kind, const GEOSGeometry *g, json_t *props)
{
    json_object_set_new(props, "issue", json_string(kind));
    json_t *geom = json_null();
    if (g) {
        char *t = GEOSGeoJSONWriter_writeGeometry_r(v->p->h, v->gw, g, -1);
        if (t) {
            json_t *j = json_loads(t, 0, NULL);
            if (j) geom = j;
            GEOSFree_r(v->p->h, t);
        }
    }
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string("Feature"));
    json_object_set_new(f, "geometry", geom);
    json_object_set_new(f, "properties", props);
    if (json_array_append_new(v->features, f))
        return gw_ctx_error(v->p->ctx, GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* Pieces of a difference over the tolerance, reported as `kind`; returns count and area. */
static gw_status pieces(vctx *v, const GEOSGeometry *d, const char *kind, size_t *n, double *total)
{
    int k = GEOSGetNumGeometries_r(v->p->h, d);
    gw_status st = GW_OK;
    for (int i = 0; !st && i < k; i++) {
        const GEOSGeometry *g = GEOSGetGeometryN_r(v->p->h, d, i);
        int t = GEOSGeomTypeId_r(v->p->h, g);
        if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
            st = pieces(v, g, kind, n, total);
            continue;
        }
        if (t != GEOS_POLYGON) continue;
        double a = pl_area_m2(v->p, g);
        if (a <= v->o.tol_m2) continue;
        (*n)++;
        *total += a;
        json_t *pr = json_object();
        json_object_set_new(pr, "area_m2", json_real(a));
        st = issue(v, kind, g, pr);
    }
    return st;
}

typedef struct pairq {
    size_t self;
    size_t *cand;
    size_t n, cap;
    int oom;
} pairq;

static void pair_cb(void *item, void *user)
{
    pairq *q = user;
    size_t j = (size_t)(uintptr_t)item - 1;
    if (j <= q->self) return;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 32;
        size_t *c = realloc(q->cand, cap * sizeof *c);
        if (!c) {
            q->oom = 1;
            return;
        }
        q->cand = c, q->cap = cap;
    }
    q->cand[q->n++] = j;
}

/* Per grid: validity, parts, area.  Valid grids go into valid[] (and *nv), ok[i] and the tree. */
static gw_status check_grids(vctx *v, const pl_set *set, unsigned char *ok, GEOSGeometry **valid,
                             size_t *nv, GEOSSTRtree *tree)
{
    pl *p = v->p;
    gw_plan_report *r = v->r;
    GEOSContextHandle_t h = p->h;
    gw_status st = GW_OK;
    for (size_t i = 0; !st && i < set->n; i++) {
        const pl_grid *g = &set->g[i];
        const char *id = g->text[0];
        char *why = NULL;
        GEOSGeometry *loc = NULL;
        char vres = GEOSisValidDetail_r(h, g->g, 0, &why, &loc);
        if (vres != 1) {
            r->invalid++;
            json_t *pr = json_object();
            json_object_set_new(pr, "grid", json_string(id));
            json_object_set_new(pr, "reason", json_string(why ? why : "GEOS failed"));
            st = issue(v, "invalid", loc, pr);
            GEOSFree_r(h, why);
            if (loc) GEOSGeom_destroy_r(h, loc);
            continue;
        }
        ok[i] = 1;
        valid[(*nv)++] = g->g;
        GEOSSTRtree_insert_r(h, tree, g->g, (void *)(uintptr_t)(i + 1));
        int np = GEOSGeomTypeId_r(h, g->g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g->g);
        if (np > 1) {
            r->multipart++;
            json_t *pr = json_object();
            json_object_set_new(pr, "grid", json_string(id));
            json_object_set_new(pr, "parts", json_integer(np));
            if ((st = issue(v, "multipart", g->g, pr))) break;
        }
        double a = pl_area_m2(p, g->g);
        r->grids_m2 += a;
        if (a < v->o.min_area_m2 || (v->o.max_area_m2 > 0 && a > v->o.max_area_m2)) {
            int small = a < v->o.min_area_m2;
            small ? r->slivers++ : r->oversize++;
            json_t *pr = json_object();
            json_object_set_new(pr, "grid", json_string(id));
            json_object_set_new(pr, "area_m2", json_real(a));
            json_object_set_new(pr, "limit_m2",
                                json_real(small ? v->o.min_area_m2 : v->o.max_area_m2));
            if ((st = issue(v, small ? "sliver" : "oversize", g->g, pr))) break;
        }
    }
    return st;
}

/* Overlaps: candidate pairs from the STRtree, interiors meeting in 2D, area over the tolerance. */
static gw_status check_overlaps(vctx *v, const pl_set *set, const unsigned char *ok,
                                GEOSSTRtree *tree)
{
    pl *p = v->p;
    GEOSContextHandle_t h = p->h;
    gw_status st = GW_OK;
    pairq q = {0};
    for (size_t i = 0; !st && i < set->n; i++) {
        if (!ok[i]) continue;
        q.self = i, q.n = 0;
        GEOSSTRtree_query_r(h, tree, set->g[i].g, pair_cb, &q);
        if (q.oom) st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t c = 0; !st && c < q.n; c++) {
            const GEOSGeometry *a = set->g[i].g, *b = set->g[q.cand[c]].g;
            char rel = GEOSRelatePattern_r(h, a, b, "2********");
            if (rel == 2) {
                st = pl_geos_fail(p, "relate");
                break;
            }
            if (rel != 1) continue;
            GEOSGeometry *x = GEOSIntersection_r(h, a, b);
            if (!x) {
                st = pl_geos_fail(p, "overlap intersection");
                break;
            }
            double area = pl_area_m2(p, x);
            if (area > v->o.tol_m2) {
                v->r->overlaps++;
                v->r->overlap_m2 += area;
                json_t *pr = json_object();
                json_object_set_new(pr, "grids",
                                    json_pack("[ss]", set->g[i].text[0],
                                              set->g[q.cand[c]].text[0]));
                json_object_set_new(pr, "area_m2", json_real(area));
                st = issue(v, "overlap", x, pr);
            }
            GEOSGeom_destroy_r(h, x);
        }
    }
    free(q.cand);
    return st;
}

/* The holes of a union as one MultiPolygon; NULL when out of memory. */
static GEOSGeometry *union_holes(GEOSContextHandle_t h, const GEOSGeometry *u)
{
    int k = GEOSGetNumGeometries_r(h, u);
    size_t nh = 0, ch = 16;
    GEOSGeometry **holes = malloc(ch * sizeof *holes);
    for (int i = 0; holes && i < k; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(h, u, i);
        int nr = GEOSGetNumInteriorRings_r(h, poly);
        for (int j = 0; j < nr; j++) {
            if (nh == ch) {
                GEOSGeometry **nh2 = realloc(holes, (ch *= 2) * sizeof *holes);
                if (!nh2) break;
                holes = nh2;
            }
            GEOSGeometry *ring = GEOSGeom_clone_r(h, GEOSGetInteriorRingN_r(h, poly, j));
            holes[nh] = ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
            if (holes[nh]) nh++;
        }
    }
    GEOSGeometry *gap = holes
                            ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, holes, (unsigned)nh)
                            : NULL;
    free(holes);
    return gap;
}

/* Gaps and outside pieces of the union u against the jurisdiction J (or u's holes without one). */
static gw_status check_cover(vctx *v, const GEOSGeometry *u, const GEOSGeometry *J)
{
    pl *p = v->p;
    gw_plan_report *r = v->r;
    GEOSContextHandle_t h = p->h;
    gw_status st = GW_OK;
    r->union_m2 = pl_area_m2(p, u);
    GEOSGeometry *gap = NULL, *out = NULL;
    if (J) {
        r->jurisdiction_m2 = pl_area_m2(p, J);
        /* Snap-rounded to VAL_GRID_DEG: an edit's cut leaves new vertices on the outline off its
         * straight edges by rounding (~1e-12°), thin triangles of up to 1e-3 m² along a long
         * edge that are not gaps; snap-rounding both sides to the same 0.1 mm grid closes them
         * and keeps every real gap wider than that. */
        gap = GEOSDifferencePrec_r(h, J, u, VAL_GRID_DEG);
        out = GEOSDifferencePrec_r(h, u, J, VAL_GRID_DEG);
        if (!gap || !out) st = pl_geos_fail(p, "difference with the jurisdiction");
    } else if (!(gap = union_holes(h, u))) {
        st = pl_geos_fail(p, "collecting the union's holes");
    }
    if (!st && gap) st = pieces(v, gap, "gap", &r->gaps, &r->gap_m2);
    if (!st && out) st = pieces(v, out, "outside", &r->outside, &r->outside_m2);
    if (gap) GEOSGeom_destroy_r(h, gap);
    if (out) GEOSGeom_destroy_r(h, out);
    return st;
}

/* The report's GeoJSON: the issues found as features and the summary (takes v->features). */
static gw_status report_json(vctx *v)
{
    gw_plan_report *r = v->r;
    json_t *sum = json_pack("{sI sI sI sI sI sI sI sI sf sf sf sf sf sf sb sf}", "grids",
                            (json_int_t)r->grids, "invalid", (json_int_t)r->invalid, "overlaps",
                            (json_int_t)r->overlaps, "gaps", (json_int_t)r->gaps, "outside",
                            (json_int_t)r->outside, "multipart", (json_int_t)r->multipart,
                            "slivers", (json_int_t)r->slivers, "oversize", (json_int_t)r->oversize,
                            "overlap_m2", r->overlap_m2, "gap_m2", r->gap_m2, "outside_m2",
                            r->outside_m2, "grids_m2", r->grids_m2, "union_m2", r->union_m2,
                            "jurisdiction_m2", r->jurisdiction_m2, "tiles", r->tiles, "seconds",
                            r->seconds);
    json_t *doc = json_pack("{ss so so}", "type", "FeatureCollection", "features", v->features,
                            "summary", sum);
    v->features = NULL;
    gw_status st = GW_OK;
    if (!doc || !(r->geojson = json_dumps(doc, JSON_COMPACT)))
        st = gw_ctx_error(v->p->ctx, GW_ERR_NOMEM, "out of memory");
    json_decref(doc);
    return st;
}

static gw_status validate(pl *p, const pl_set *set, const GEOSGeometry *J,
                          const gw_plan_validate_opts *opts, gw_plan_report *r)
{
    double t0 = now_s();
    memset(r, 0, sizeof *r);
    vctx v = {p, GEOSGeoJSONWriter_create_r(p->h), json_array(), {1e-6, 1000.0, 0}, r};
    if (opts && opts->tol_m2 > 0) v.o.tol_m2 = opts->tol_m2;
    if (opts && opts->min_area_m2 > 0) v.o.min_area_m2 = opts->min_area_m2;
    if (opts && opts->max_area_m2 > 0) v.o.max_area_m2 = opts->max_area_m2;
    GEOSContextHandle_t h = p->h;
    r->grids = set->n;
    unsigned char *ok = calloc(set->n + 1, 1);
    GEOSGeometry **valid = calloc(set->n + 1, sizeof *valid);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    gw_status st = v.gw && ok && valid && tree
                       ? GW_OK
                       : gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    size_t nv = 0;
    if (!st) st = check_grids(&v, set, ok, valid, &nv, tree);
    if (!st) st = check_overlaps(&v, set, ok, tree);
    GEOSGeometry *u = NULL;
    if (!st && nv > 0 && !(u = pl_union(p, valid, nv))) st = pl_geos_fail(p, "union of the grids");
    if (!st && u) st = check_cover(&v, u, J);
    if (u) GEOSGeom_destroy_r(h, u);
    if (tree) GEOSSTRtree_destroy_r(h, tree);
    free(valid);
    free(ok);
    if (v.gw) GEOSGeoJSONWriter_destroy_r(h, v.gw);
    r->tiles = !r->invalid && !r->overlaps && !r->gaps && !r->outside;
    r->seconds = now_s() - t0;
    if (!st) st = report_json(&v);
    json_decref(v.features);
    if (st) gw_plan_report_free(r);
    return st;
}

gw_status gw_plan_validate_draft(gw_store *s, int64_t draft, const gw_plan_validate_opts *opts,
                                 gw_plan_report *out)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    pl_set set;
    GEOSGeometry *J = NULL;
    if (!(st = pl_load_draft(&p, draft, &set, NULL))) {
        st = pl_jurisdiction(&p, &J);
        if (!st) st = validate(&p, &set, J, opts, out);
        if (J) GEOSGeom_destroy_r(p.h, J);
        pl_set_free(&p, &set);
    }
    pl_close(&p);
    return st;
}

gw_status gw_plan_validate_version(gw_store *s, int64_t version, const gw_plan_validate_opts *opts,
                                   gw_plan_report *out)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    int n = 0;
    st = gw_store_plan_version_exists(s, version, &n);
    if (!st && n == 0)
        st = gw_ctx_error(p.ctx, GW_ERR_NOT_FOUND, "no grid version %lld", (long long)version);
    pl_set set;
    GEOSGeometry *J = NULL;
    if (!st && !(st = pl_load_version(&p, version, &set))) {
        st = pl_jurisdiction(&p, &J);
        if (!st) st = validate(&p, &set, J, opts, out);
        if (J) GEOSGeom_destroy_r(p.h, J);
        pl_set_free(&p, &set);
    }
    pl_close(&p);
    return st;
}

/* ---- workload and balance ------------------------------------------------------------------ */

enum { M_AREA, M_POP, M_HH, M_INC, M_COMPACT, M_COVER, M_ROOM, M_R3, M_R5, M_R10, M_COUNT };
static const char *const mnames[M_COUNT] = {"area_km2",        "population",  "households",
                                            "incidents",       "compactness", "camera_coverage",
                                            "room_distance_m", "reach_3m",    "reach_5m",
                                            "reach_10m"};

/* Cameras with a view and police rooms, in metric, for the coverage and distance measures. */
typedef struct bal {
    size_t ncam, nroom;
    double *cam;  /* x, y, azimuth, fov, range per camera, sorted by x */
    double *room; /* x, y per room */
    double max_range;
    json_t *cover;   /* grid id -> ratio, for grids whose geometry is the base's */
    size_t computed; /* grids whose coverage was computed here (not from the coverage table) */
} bal;

static int cmp_cam(const void *a, const void *b)
{
    const double *p = a, *q = b;
    return p[0] < q[0] ? -1 : p[0] > q[0];
}

/* Load the cameras that have a view (the coverage module's rule: not "offline", range > 0,
 * fov > 0 with NULL = 360, azimuth NULL = 0) and the police rooms, transformed to metric. */
typedef struct sites {
    gw_ctx *ctx;
    int w; /* values kept per site: 5 for cameras, 2 for rooms */
    double *v;
    size_t n, cap;
} sites;

static gw_status site_add(void *user, const gw_store_plan_site *site)
{
    sites *a = user;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        double *nv = realloc(a->v, cap * a->w * sizeof *nv);
        if (!nv) return gw_ctx_error(a->ctx, GW_ERR_NOMEM, "out of memory");
        a->v = nv, a->cap = cap;
    }
    double all[5] = {site->x, site->y, site->azimuth, site->fov, site->range};
    memcpy(a->v + a->n * a->w, all, a->w * sizeof *all);
    a->n++;
    return GW_OK;
}

/* Cameras (x, y, azimuth, fov, range; lon/lat): the true azimuth and ground range turned into
 * the metric CRS's, as the model does for the coverage module (gw_layer_data_view_factors). */
static gw_status true_views(pl *p, double *v, size_t n)
{
    gw_crs_factors *f = NULL;
    gw_status st = gw_crs_factors_create(p->ctx, (gw_crs){GW_CRS_EPSG, p->srid}, &f);
    for (size_t i = 0; !st && i < n; i++) {
        double conv, k;
        st = gw_crs_factors_at(f, v[i * 5], v[i * 5 + 1], &conv, &k);
        v[i * 5 + 2] -= conv, v[i * 5 + 4] *= k;
    }
    gw_crs_factors_destroy(f);
    return st;
}

static gw_status bal_load(pl *p, bal *b)
{
    for (int k = 0; k < 2; k++) {
        int w = k == 0 ? 5 : 2;
        sites a = {p->ctx, w, NULL, 0, 0};
        gw_status st = k == 0 ? gw_store_plan_cameras(p->s, site_add, &a)
                              : gw_store_plan_rooms(p->s, site_add, &a);
        if (st) {
            free(a.v);
            return st;
        }
        double *v = a.v;
        size_t n = a.n;
        /* to metric, through x/y arrays */
        double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
        st = x && y ? GW_OK : gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < n; i++) x[i] = v[i * w], y[i] = v[i * w + 1];
        if (!st && n && k == 0) st = true_views(p, v, n);
        if (!st && n) st = gw_crs_transform_points(p->to_m, x, y, n);
        for (size_t i = 0; !st && i < n; i++) v[i * w] = x[i], v[i * w + 1] = y[i];
        free(x);
        free(y);
        if (st) {
            free(v);
            return st;
        }
        if (k == 0) {
            if (n > 1) qsort(v, n, 5 * sizeof *v, cmp_cam);
            for (size_t i = 0; i < n; i++) b->max_range = fmax(b->max_range, v[i * 5 + 4]);
            b->cam = v, b->ncam = n;
        } else {
            b->room = v, b->nroom = n;
        }
    }
    return GW_OK;
}

/* Seed b->cover from the coverage module's stored rows when they are current for the base
 * version: the base is the published version and no grid or camera change was logged after
 * the coverage run.  Otherwise every grid is computed here. */
static int cover_row(void *user, const gw_store_coverage_row *row)
{
    json_object_set_new(user, row->grid, json_real(row->ratio));
    return 0;
}

static void bal_stored(pl *p, bal *b, int64_t base)
{
    int64_t cur = 0, grids = 0, cams = 0;
    gw_store_coverage_run run;
    if (gw_store_grid_version(p->s, &cur) || cur != base || gw_store_coverage_run_get(p->s, &run) ||
        gw_store_changes_last(p->s, "grids", &grids) ||
        gw_store_changes_last(p->s, "cameras", &cams) || run.seq < grids || run.seq < cams) {
        gw_ctx_clear_error(p->ctx);
        return;
    }
    if (gw_store_coverage_read(p->s, NULL, 0, cover_row, b->cover, NULL))
        gw_ctx_clear_error(p->ctx);
}

/* Share of metric grid gm covered by the union of the camera views (the coverage module's
 * definition: views as gw_coverage_sector builds them, clipped to the grid's envelope). */
static gw_status cover_ratio(pl *p, const bal *b, const GEOSGeometry *gm, double *ratio)
{
    GEOSContextHandle_t h = p->h;
    double x0, y0, x1, y1, ga = 0;
    *ratio = 0;
    if (!GEOSGeom_getExtent_r(h, gm, &x0, &y0, &x1, &y1) || !GEOSArea_r(h, gm, &ga))
        return pl_geos_fail(p, "grid extent");
    if (!(ga > 0) || b->ncam == 0) return GW_OK;
    size_t lo = 0, hi = b->ncam;
    while (lo < hi) { /* first camera with x >= x0 - max_range */
        size_t m = (lo + hi) / 2;
        if (b->cam[m * 5] < x0 - b->max_range) lo = m + 1;
        else hi = m;
    }
    GEOSGeometry **v = NULL;
    size_t nv = 0, cv = 0;
    gw_status st = GW_OK;
    double xy[2 * 184];
    for (size_t i = lo; !st && i < b->ncam && b->cam[i * 5] <= x1 + b->max_range; i++) {
        const double *c = b->cam + i * 5;
        double rg = c[4];
        if (c[0] + rg < x0 || c[0] - rg > x1 || c[1] + rg < y0 || c[1] - rg > y1) continue;
        size_t n = gw_coverage_sector(c[0], c[1], c[2], c[3], rg, xy, 184);
        if (n < 4) continue;
        GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
        GEOSGeometry *ring = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
        GEOSGeometry *poly = ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
        GEOSGeometry *clip = poly ? GEOSClipByRect_r(h, poly, x0, y0, x1, y1) : NULL;
        if (poly) GEOSGeom_destroy_r(h, poly);
        if (!clip) {
            st = pl_geos_fail(p, "building a camera view");
            break;
        }
        if (GEOSisEmpty_r(h, clip)) {
            GEOSGeom_destroy_r(h, clip);
            continue;
        }
        if (nv == cv) {
            cv = cv ? cv * 2 : 64;
            GEOSGeometry **nvv = realloc(v, cv * sizeof *nvv);
            if (!nvv) {
                GEOSGeom_destroy_r(h, clip);
                st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            v = nvv;
        }
        v[nv++] = clip;
    }
    GEOSGeometry *coll = !st && nv ? GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, v,
                                                                 (unsigned)nv)
                                   : NULL;
    if (coll) nv = 0; /* the collection owns them */
    for (size_t i = 0; i < nv; i++) GEOSGeom_destroy_r(h, v[i]);
    free(v);
    if (st || !coll) return st;
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    GEOSGeom_destroy_r(h, coll);
    GEOSGeometry *in = u ? GEOSIntersection_r(h, gm, u) : NULL;
    if (u) GEOSGeom_destroy_r(h, u);
    if (!in) return pl_geos_fail(p, "coverage of a grid");
    double ca = 0;
    GEOSArea_r(h, in, &ca);
    GEOSGeom_destroy_r(h, in);
    *ratio = fmin(1.0, ca / ga);
    return GW_OK;
}

/* Metres from the centroid of metric grid gm to the nearest police room (-1 when none). */
static double room_distance(pl *p, const bal *b, const GEOSGeometry *gm)
{
    GEOSGeometry *c = GEOSGetCentroid_r(p->h, gm);
    double x = 0, y = 0, best = -1;
    if (!c || !GEOSGeomGetX_r(p->h, c, &x) || !GEOSGeomGetY_r(p->h, c, &y)) {
        if (c) GEOSGeom_destroy_r(p->h, c);
        return -1;
    }
    GEOSGeom_destroy_r(p->h, c);
    for (size_t i = 0; i < b->nroom; i++) {
        double d = hypot(b->room[2 * i] - x, b->room[2 * i + 1] - y);
        if (best < 0 || d < best) best = d;
    }
    return best;
}

typedef struct counts {
    json_t *by_grid; /* id -> {category: n} */
} counts;

static gw_status count_row(void *user, const char *grid, const char *category, int64_t n)
{
    json_t *by = user, *o = json_object_get(by, grid);
    if (!o) json_object_set_new(by, grid, o = json_object());
    json_object_set_new(o, category ? category : "", json_integer(n));
    return GW_OK;
}

/* Incidents in the window per grid and category, from the incidents' resolved grid. */
static gw_status base_counts(pl *p, const char *from, json_t *by)
{
    return gw_store_plan_incident_counts(p->s, from, 1, count_row, by);
}

typedef struct pip_ctx {
    pl *p;
    const GEOSPreparedGeometry *pg;
    json_t *o;
} pip_ctx;

static gw_status pip_row(void *user, double x, double y, const char *c)
{
    pip_ctx *k = user;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(k->p->h, x, y);
    if (pt && GEOSPreparedIntersects_r(k->p->h, k->pg, pt) == 1)
        json_object_set_new(k->o, c,
                            json_integer(json_integer_value(json_object_get(k->o, c)) + 1));
    if (pt) GEOSGeom_destroy_r(k->p->h, pt);
    return GW_OK;
}

/* Incidents in the window inside one grid geometry (point in polygon over the R*Tree). */
static gw_status grid_counts(pl *p, gw_store_plan_incidents *it, const GEOSGeometry *g, json_t *o)
{
    double x0, y0, x1, y1;
    if (!GEOSGeom_getExtent_r(p->h, g, &x0, &y0, &x1, &y1)) return pl_geos_fail(p, "extent");
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(p->h, g);
    if (!pg) return pl_geos_fail(p, "prepare");
    pip_ctx k = {p, pg, o};
    gw_bbox box = {x0, y0, x1, y1};
    gw_status st = gw_store_plan_incidents_in(p->s, it, &box, pip_row, &k);
    GEOSPreparedGeom_destroy_r(p->h, pg);
    return st;
}

/* reach: the road reach shares of the set's grids (3 per grid; NULL without roads). */
static json_t *layout(pl *p, const pl_set *set, json_t *by, gw_store_plan_incidents *pip,
                      json_t *changed, bal *b, const double *reach, gw_status *st)
{
    json_t *grids = json_array(), *spread = json_object();
    double *m = calloc(set->n * M_COUNT + 1, sizeof *m);
    if (!m) *st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !*st && i < set->n; i++) {
        const pl_grid *g = &set->g[i];
        GEOSGeometry *gm = gw_crs_transform_geom(p->to_m, g->g);
        double a = 0, per = 0, cover = 0, room = -1;
        int own_geom = changed && json_object_get(changed, g->text[0]);
        json_t *known = own_geom ? NULL : json_object_get(b->cover, g->text[0]);
        if (!gm) {
            *st = pl_geos_fail(p, "transforming a grid to metric");
            break;
        }
        GEOSLength_r(p->h, gm, &per);
        if (known) {
            cover = json_real_value(known);
        } else {
            *st = cover_ratio(p, b, gm, &cover);
            b->computed++;
            if (!own_geom) json_object_set_new(b->cover, g->text[0], json_real(cover));
        }
        room = room_distance(p, b, gm);
        GEOSGeom_destroy_r(p->h, gm);
        a = pl_area_m2(p, g->g);
        json_t *cat = json_object_get(by, g->text[0]);
        json_t *own = NULL;
        if (changed && json_object_get(changed, g->text[0])) {
            own = json_object();
            if (grid_counts(p, pip, g->g, own)) gw_ctx_clear_error(p->ctx);
            cat = own;
        }
        double inc = 0;
        const char *k;
        json_t *v;
        json_object_foreach (cat, k, v) inc += (double)json_integer_value(v);
        double *r = m + i * M_COUNT;
        r[M_AREA] = a / 1e6;
        r[M_POP] = g->null[4] ? 0 : (double)g->num[4];
        r[M_HH] = g->null[5] ? 0 : (double)g->num[5];
        r[M_INC] = inc;
        r[M_COMPACT] = per > 0 ? 4 * M_PI * a / (per * per) : 0;
        r[M_COVER] = cover;
        r[M_ROOM] = room < 0 ? 0 : room;
        json_t *o = json_pack("{ss sf sI sI sI so sf sf so}", "id", g->text[0], "area_km2",
                              r[M_AREA], "population", (json_int_t)r[M_POP], "households",
                              (json_int_t)r[M_HH], "incidents", (json_int_t)inc,
                              "incidents_by_category", cat ? json_incref(cat) : json_object(),
                              "compactness", r[M_COMPACT], "camera_coverage", r[M_COVER],
                              "room_distance_m", room < 0 ? json_null() : json_real(room));
        json_decref(own);
        for (int rk = 0; rk < 3; rk++) { /* road reach: null without roads (reach.h) */
            double rv = reach ? reach[i * 3 + rk] : NAN;
            r[M_R3 + rk] = isnan(rv) ? 0 : rv;
            json_object_set_new(o, mnames[M_R3 + rk], isnan(rv) ? json_null() : json_real(rv));
        }
        json_array_append_new(grids, o);
    }
    for (int k = 0; !*st && m && k < (reach ? M_COUNT : M_R3); k++) {
        double sum = 0, sq = 0, mx = 0;
        for (size_t i = 0; i < set->n; i++) {
            double x = m[i * M_COUNT + k];
            sum += x, sq += x * x, mx = fmax(mx, x);
        }
        double n = (double)(set->n ? set->n : 1), mean = sum / n;
        double var = fmax(0, sq / n - mean * mean);
        json_object_set_new(spread, mnames[k],
                            json_pack("{sf sf sf}", "mean", mean, "cv",
                                      mean > 0 ? sqrt(var) / mean : 0, "max_over_mean",
                                      mean > 0 ? mx / mean : 0));
    }
    free(m);
    if (*st) {
        json_decref(grids);
        json_decref(spread);
        return NULL;
    }
    return json_pack("{sI so so}", "count", (json_int_t)set->n, "spread", spread, "grids", grids);
}

static gw_status changed_row(void *user, const char *id, int deleted, int in_base)
{
    (void)deleted, (void)in_base;
    json_object_set_new(user, id, json_true());
    return GW_OK;
}

gw_status gw_plan_balance(gw_store *s, int64_t draft, char **json)
{
    *json = NULL;
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    pl_set ds = {0}, bs = {0};
    int64_t base = 0;
    char from[32] = "", to[32] = "";
    gw_store_plan_incidents *q = NULL;
    json_t *by = json_object(), *changed = json_object(), *doc = NULL;
    if (!(st = pl_load_draft(&p, draft, &ds, &base))) st = pl_load_version(&p, base, &bs);
    if (!st && gw_store_plan_incident_window(s, from, to, sizeof from))
        gw_ctx_clear_error(p.ctx); /* no window: every incident counts */
    if (!st) st = base_counts(&p, from, by);
    if (!st && gw_store_plan_draft_changes(s, draft, base, changed_row, changed))
        gw_ctx_clear_error(p.ctx);
    if (!st) st = gw_store_plan_incidents_open(s, from, &q);
    bal b = {0};
    b.cover = json_object();
    pl_reach rr = {0};
    const double *rb = NULL, *rd = NULL;
    if (!st) st = bal_load(&p, &b);
    if (!st) st = pl_reach_open(&p, &rr);
    if (!st) st = pl_reach_layout(&p, &rr, &bs, 1, NULL, b.room, b.nroom, &rb);
    if (!st) st = pl_reach_layout(&p, &rr, &ds, 0, changed, b.room, b.nroom, &rd);
    if (!st) {
        bal_stored(&p, &b, base);
        size_t stored = json_object_size(b.cover);
        /* the base first: the draft's untouched grids reuse its coverage figures */
        json_t *bl = layout(&p, &bs, by, q, NULL, &b, rb, &st);
        json_t *dl = st ? NULL : layout(&p, &ds, by, q, changed, &b, rd, &st);
        if (!st)
            doc = json_pack("{sI sI s{ss ss} s{ss sI sI} so so}", "draft", (json_int_t)draft,
                            "base_version", (json_int_t)base, "window", "from", from, "to", to,
                            "camera_coverage", "source",
                            stored ? "coverage table + computed" : "computed", "stored",
                            (json_int_t)stored, "computed", (json_int_t)b.computed, "draft_layout",
                            dl, "base_layout", bl);
        else json_decref(bl), json_decref(dl);
        if (!st && (!doc || !(*json = json_dumps(doc, JSON_COMPACT))))
            st = gw_ctx_error(p.ctx, GW_ERR_NOMEM, "out of memory");
    }
    pl_reach_close(&rr);
    free(b.cam);
    free(b.room);
    json_decref(b.cover);
    gw_store_plan_incidents_close(s, q);
    json_decref(doc);
    json_decref(by);
    json_decref(changed);
    pl_set_free(&p, &ds);
    pl_set_free(&p, &bs);
    pl_close(&p);
    return st;
}
