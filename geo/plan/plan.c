/* plan.c — grid planning drafts and versions: copy-on-write drafts over a published grid
 * version, publish (a new version in one transaction, incidents re-resolved where grids
 * changed, in plan_publish.c), rollback, diff, list, import of a whole layout (plan_import.c),
 * and the grid-set loaders plan_edit.c and plan_validate.c share. */
#include "gridwatch/io.h"
#include "plan_internal.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- working context ----------------------------------------------------------------------- */

gw_status pl_geos_fail(pl *p, const char *what)
{
    const char *m = gw_ctx_geos_errmsg(p->ctx);
    return gw_ctx_error(p->ctx, GW_ERR_GEOMETRY, "%s failed%s%s", what, *m ? ": " : "", m);
}

gw_status pl_open(gw_store *s, pl *p)
{
    memset(p, 0, sizeof *p);
    if (!s) return GW_ERR_ARG;
    p->s = s;
    p->ctx = gw_store_ctx(s);
    p->h = gw_ctx_geos(p->ctx);
    p->rd = GEOSWKBReader_create_r(p->h);
    p->wr = GEOSWKBWriter_create_r(p->h);
    if (!p->rd || !p->wr) {
        pl_close(p);
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    }
    GEOSWKBWriter_setOutputDimension_r(p->h, p->wr, 2);
    size_t nf;
    gw_layer_fields(GW_LAYER_GRIDS, &nf);
    if (nf != PL_NF) {
        pl_close(p);
        return gw_ctx_error(p->ctx, GW_ERR_INTERNAL, "plan: grids have %zu fields, expected %d", nf,
                            PL_NF);
    }
    gw_status st = gw_store_metric_srid(s, &p->srid);
    if (!st && p->srid <= 0) {
        gw_bbox b;
        st = gw_store_extent(s, GW_LAYER_GRIDS, &b);
        if (st == GW_ERR_NOT_FOUND) {
            gw_ctx_clear_error(p->ctx);
            b = (gw_bbox){0, 0, 0, 0};
            st = GW_OK;
        }
        if (!st) p->srid = gw_crs_metric_for((b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2);
    }
    if (!st) {
        gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, p->srid};
        st = gw_crs_transform_create(p->ctx, ll, m, &p->to_m);
    }
    if (st) pl_close(p);
    return st;
}

void pl_close(pl *p)
{
    if (!p || !p->h) return;
    if (p->rd) GEOSWKBReader_destroy_r(p->h, p->rd);
    if (p->wr) GEOSWKBWriter_destroy_r(p->h, p->wr);
    gw_crs_transform_destroy(p->to_m);
    memset(p, 0, sizeof *p);
}

/* Area on the WGS84 ellipsoid of a polygon whose edges are straight in lon/lat:
 * A = -∮ G(φ) dλ with G(φ) = ∫ M(φ)N(φ)cos φ dφ from the ring's first latitude (Green's theorem),
 * each edge by 2-point Gauss–Legendre, G by 3-point Gauss–Legendre.  Unlike the area after a
 * vertex-wise transform to the metric CRS (where a straight lon/lat edge becomes a chord and
 * the area depends on how many vertices lie along it), this integral is additive: pieces that
 * tile a polygon exactly in lon/lat sum to its area, so tolerances can be tight. */
static double ell_f(double phi)
{
    static const double a = 6378137.0, f = 1 / 298.257223563;
    const double e2 = f * (2 - f), s = sin(phi), w = 1 - e2 * s * s;
    return a * a * (1 - e2) * cos(phi) / (w * w);
}

static double ell_g(double phi0, double phi)
{
    static const double x[3] = {-0.7745966692414834, 0, 0.7745966692414834};
    static const double wt[3] = {5.0 / 9, 8.0 / 9, 5.0 / 9};
    double h = (phi - phi0) / 2, m = (phi + phi0) / 2, sum = 0;
    for (int i = 0; i < 3; i++) sum += wt[i] * ell_f(m + h * x[i]);
    return sum * h;
}

static double ring_area(GEOSContextHandle_t h, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4) return 0;
    const double d2r = M_PI / 180, t1 = 0.5 - 0.5 / sqrt(3.0), t2 = 0.5 + 0.5 / sqrt(3.0);
    double x0, y0, sum = 0, phi0;
    GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
    phi0 = y0 * d2r;
    for (unsigned i = 1; i < n; i++) {
        double x1, y1;
        GEOSCoordSeq_getXY_r(h, cs, i, &x1, &y1);
        double dl = (x1 - x0) * d2r, pa = y0 * d2r, dp = (y1 - y0) * d2r;
        if (dl != 0) sum -= dl * (ell_g(phi0, pa + t1 * dp) + ell_g(phi0, pa + t2 * dp)) / 2;
        x0 = x1, y0 = y1;
    }
    return fabs(sum);
}

double pl_area_m2(pl *p, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(p->h, g);
    if (t == GEOS_POLYGON) {
        double a = ring_area(p->h, GEOSGetExteriorRing_r(p->h, g));
        int nh = GEOSGetNumInteriorRings_r(p->h, g);
        for (int i = 0; i < nh; i++) a -= ring_area(p->h, GEOSGetInteriorRingN_r(p->h, g, i));
        return a;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        double a = 0;
        int n = GEOSGetNumGeometries_r(p->h, g);
        for (int i = 0; i < n; i++) a += pl_area_m2(p, GEOSGetGeometryN_r(p->h, g, i));
        return a;
    }
    return 0;
}

GEOSGeometry *pl_union(pl *p, GEOSGeometry *const *g, size_t n)
{
    GEOSGeometry **cl = malloc((n ? n : 1) * sizeof *cl);
    if (!cl) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i] && (cl[k] = GEOSGeom_clone_r(p->h, g[i]))) k++;
    GEOSGeometry *c = GEOSGeom_createCollection_r(p->h, GEOS_GEOMETRYCOLLECTION, cl, (unsigned)k);
    free(cl);
    if (!c) return NULL;
    GEOSGeometry *u = GEOSUnaryUnion_r(p->h, c);
    GEOSGeom_destroy_r(p->h, c);
    return u;
}

/* ---- grid sets ----------------------------------------------------------------------------- */

void pl_grid_clear(pl *p, pl_grid *g)
{
    for (int i = 0; i < PL_NF; i++) free(g->text[i]);
    if (g->g) GEOSGeom_destroy_r(p->h, g->g);
    memset(g, 0, sizeof *g);
}

void pl_set_free(pl *p, pl_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) pl_grid_clear(p, &set->g[i]);
    free(set->g);
    memset(set, 0, sizeof *set);
}

gw_status pl_read_row(pl *p, const gw_store_plan_grid *r, pl_grid *g)
{
    memset(g, 0, sizeof *g);
    for (int i = 0; i < PL_NF; i++) {
        const gw_value *v = &r->values[i];
        g->null[i] = v->kind == GW_VAL_NULL;
        if (v->kind == GW_VAL_INT) {
            g->num[i] = v->i;
        } else if (v->kind == GW_VAL_TEXT && !(g->text[i] = strdup(v->s ? v->s : ""))) {
            pl_grid_clear(p, g);
            return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    if (r->wkb && r->wkb_len > 0) g->g = GEOSWKBReader_read_r(p->h, p->rd, r->wkb, r->wkb_len);
    if (!g->g) {
        gw_status st = gw_ctx_error(p->ctx, GW_ERR_GEOMETRY,
                                    "grid '%s': stored geometry cannot "
                                    "be read",
                                    g->text[0] ? g->text[0] : "?");
        pl_grid_clear(p, g);
        return st;
    }
    return GW_OK;
}

void pl_grid_values(const pl_grid *g, gw_value *v)
{
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, NULL);
    for (int i = 0; i < PL_NF; i++) {
        memset(&v[i], 0, sizeof v[i]);
        if (g->null[i]) v[i].kind = GW_VAL_NULL;
        else if (f[i].type == GW_FT_INT) v[i].kind = GW_VAL_INT, v[i].i = g->num[i];
        else v[i].kind = GW_VAL_TEXT, v[i].s = g->text[i];
    }
}

gw_status pl_set_add(void *user, const gw_store_plan_grid *r)
{
    pl_set_ctx *c = user;
    pl_set *out = c->set;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 256;
        pl_grid *ng = realloc(out->g, cap * sizeof *ng);
        if (!ng) return gw_ctx_error(c->p->ctx, GW_ERR_NOMEM, "out of memory");
        out->g = ng, out->cap = cap;
    }
    gw_status st = pl_read_row(c->p, r, &out->g[out->n]);
    if (!st) out->n++;
    return st;
}

typedef struct one_grid {
    pl *p;
    pl_grid *g;
} one_grid;

static gw_status grid_one(void *user, const gw_store_plan_grid *r)
{
    one_grid *o = user;
    return pl_read_row(o->p, r, o->g);
}

gw_status pl_draft_grid(pl *p, int64_t draft, int64_t base, const char *id, pl_grid *g)
{
    one_grid o = {p, g};
    return gw_store_plan_grid_get(p->s, draft, base, id, grid_one, &o);
}

gw_status pl_load_version(pl *p, int64_t version, pl_set *out)
{
    memset(out, 0, sizeof *out);
    pl_set_ctx c = {p, out};
    gw_status st = gw_store_plan_version_grids(p->s, version, NULL, pl_set_add, &c);
    if (st) pl_set_free(p, out);
    return st;
}

gw_status pl_load_draft(pl *p, int64_t draft, pl_set *out, int64_t *base)
{
    memset(out, 0, sizeof *out);
    pl_set_ctx c = {p, out};
    gw_status st = gw_store_plan_draft_grids(p->s, draft,
                                             GW_STORE_PLAN_BASE | GW_STORE_PLAN_OWN |
                                                 GW_STORE_PLAN_BY_ID,
                                             NULL, pl_set_add, &c, base);
    if (st) pl_set_free(p, out);
    return st;
}

gw_status pl_jurisdiction(pl *p, GEOSGeometry **out)
{
    *out = NULL;
    unsigned char *wkb = NULL;
    size_t len = 0;
    gw_status st = gw_store_plan_jurisdiction_get(p->s, &wkb, &len);
    if (st || !wkb) return st;
    *out = GEOSWKBReader_read_r(p->h, p->rd, wkb, len);
    free(wkb);
    return *out ? GW_OK : pl_geos_fail(p, "reading the jurisdiction outline");
}

/* Record the union of the published grids as the jurisdiction when none is recorded yet. */
static gw_status ensure_jurisdiction(pl *p, int64_t version)
{
    int have = 0;
    gw_status st = gw_store_plan_jurisdiction_exists(p->s, &have);
    if (st || have) return st;
    pl_set set;
    if ((st = pl_load_version(p, version, &set))) return st;
    if (set.n == 0) {
        pl_set_free(p, &set);
        return GW_OK;
    }
    GEOSGeometry **gs = malloc(set.n * sizeof *gs);
    if (!gs) {
        pl_set_free(p, &set);
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < set.n; i++) gs[i] = set.g[i].g;
    GEOSGeometry *u = pl_union(p, gs, set.n);
    free(gs);
    pl_set_free(p, &set);
    if (!u) return pl_geos_fail(p, "union of the published grids (jurisdiction)");
    size_t len = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(p->h, p->wr, u, &len);
    GEOSGeom_destroy_r(p->h, u);
    if (!wkb) return pl_geos_fail(p, "writing the jurisdiction");
    char src[64];
    snprintf(src, sizeof src, "union of grid version %lld", (long long)version);
    st = gw_store_plan_jurisdiction_set(p->s, wkb, len, src);
    GEOSFree_r(p->h, wkb);
    return st;
}

/* ---- drafts -------------------------------------------------------------------------------- */

static void audit_detail(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void audit_detail(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

gw_status gw_plan_draft_create(gw_store *s, const char *name, const char *who, int64_t *id)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    if (!name || !*name || strlen(name) >= sizeof((gw_plan_draft *)0)->name) {
        pl_close(&p);
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_ARG, "a draft needs a name of 1 to 127 bytes");
    }
    int64_t v = 0;
    if (!(st = gw_store_begin(s))) {
        char detail[256];
        int64_t nid = 0;
        if (!(st = gw_store_grid_version(s, &v)))
            st = gw_store_plan_draft_create(s, name, who, v, &nid);
        if (!st) st = ensure_jurisdiction(&p, v);
        audit_detail(detail, sizeof detail, "{\"draft\":%lld,\"base_version\":%lld}",
                     (long long)nid, (long long)v);
        if (!st) st = gw_store_audit(s, who, "plan.draft.create", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (id) *id = nid;
    }
    pl_close(&p);
    return st;
}

void pl_draft_copy(gw_plan_draft *out, const gw_store_plan_draft *d)
{
    memset(out, 0, sizeof *out);
    out->id = d->id;
    snprintf(out->name, sizeof out->name, "%s", d->name);
    out->base_version = d->base_version;
    snprintf(out->created_by, sizeof out->created_by, "%s", d->created_by);
    snprintf(out->created_at, sizeof out->created_at, "%s", d->created_at);
    snprintf(out->updated_at, sizeof out->updated_at, "%s", d->updated_at);
    out->edits = d->edits;
    out->changed = d->changed;
    snprintf(out->status, sizeof out->status, "%s", d->status);
    out->published_version = d->published_version;
}

typedef struct draft_arr {
    gw_ctx *ctx;
    gw_plan_draft *d;
    size_t n, cap;
} draft_arr;

static gw_status draft_add(void *user, const gw_store_plan_draft *d)
{
    draft_arr *a = user;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        gw_plan_draft *nd = realloc(a->d, cap * sizeof *nd);
        if (!nd) return gw_ctx_error(a->ctx, GW_ERR_NOMEM, "out of memory");
        a->d = nd, a->cap = cap;
    }
    pl_draft_copy(&a->d[a->n++], d);
    return GW_OK;
}

gw_status gw_plan_draft_list(gw_store *s, gw_plan_draft **out, size_t *n)
{
    if (!s || !out || !n) return GW_ERR_ARG;
    *out = NULL, *n = 0;
    draft_arr a = {gw_store_ctx(s), NULL, 0, 0};
    gw_status st = gw_store_plan_draft_list(s, draft_add, &a);
    if (st) {
        free(a.d);
        return st;
    }
    *out = a.d, *n = a.n;
    return GW_OK;
}

gw_status gw_plan_draft_get(gw_store *s, int64_t id, gw_plan_draft *out)
{
    if (!s || !out) return GW_ERR_ARG;
    gw_store_plan_draft d;
    gw_status st = gw_store_plan_draft_get(s, id, &d);
    if (!st) pl_draft_copy(out, &d);
    return st;
}

gw_status gw_plan_draft_delete(gw_store *s, int64_t id, const char *who)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return st;
    if (!(st = gw_store_begin(s))) {
        char detail[256];
        st = gw_store_plan_draft_delete(s, id);
        audit_detail(detail, sizeof detail, "{\"draft\":%lld,\"changed\":%lld}", (long long)id,
                     (long long)d.changed);
        if (!st) st = gw_store_audit(s, who, "plan.draft.delete", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
    }
    return st;
}

char *pl_dump(json_t *doc)
{
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

/* One of the draft's rows into the added / changed / deleted lists. */
static gw_status diff_row(void *user, const char *id, int deleted, int in_base)
{
    json_t **lists = user;
    json_array_append_new(lists[deleted ? 2 : in_base ? 1 : 0], json_string(id));
    return GW_OK;
}

gw_status gw_plan_draft_diff(gw_store *s, int64_t id, char **json)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return st;
    json_t *doc = json_object(), *lists[3] = {json_array(), json_array(), json_array()};
    json_object_set_new(doc, "draft", json_integer(id));
    json_object_set_new(doc, "base_version", json_integer(d.base_version));
    st = gw_store_plan_draft_changes(s, id, d.base_version, diff_row, lists);
    json_t *add = lists[0], *chg = lists[1], *del = lists[2];
    if (st) {
        json_decref(add), json_decref(chg), json_decref(del), json_decref(doc);
        return st;
    }
    json_object_set_new(doc, "added", add);
    json_object_set_new(doc, "changed", chg);
    json_object_set_new(doc, "deleted", del);
    json_object_set_new(doc, "edits", json_integer(d.edits));
    if (!(*json = pl_dump(doc)))
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* ---- a draft's grids for a map ------------------------------------------------------------- */

/* One grid as a GeoJSON Feature into f (id, every grid field, changed, area_m2). */
static void write_feature(pl *p, GEOSGeoJSONWriter *gw, const pl_grid *g, int changed, int first,
                          FILE *f)
{
    size_t nf;
    const gw_field *fl = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    json_t *props = json_object();
    for (size_t i = 0; i < nf && i < PL_NF; i++)
        json_object_set_new(props, fl[i].name,
                            g->null[i]                ? json_null()
                            : fl[i].type == GW_FT_INT ? json_integer(g->num[i])
                                                      : json_string(g->text[i]));
    json_object_set_new(props, "changed", json_boolean(changed));
    json_object_set_new(props, "area_m2", json_real(pl_area_m2(p, g->g)));
    char *pt = json_dumps(props, JSON_COMPACT),
         *id = json_dumps(json_object_get(props, "id"), JSON_ENCODE_ANY);
    char *gt = GEOSGeoJSONWriter_writeGeometry_r(p->h, gw, g->g, -1);
    fprintf(f, "%s{\"type\":\"Feature\",\"id\":%s,\"geometry\":%s,\"properties\":%s}",
            first ? "" : ",", id ? id : "null", gt ? gt : "null", pt ? pt : "{}");
    free(pt);
    free(id);
    if (gt) GEOSFree_r(p->h, gt);
    json_decref(props);
}

/* pl_open without the metric transform, which this route does not use: creating it (PROJ) took
 * 0.7–1.0 s a call on the loaded 2-core box, and the page asks for the draft's grids on every
 * pan. */
static gw_status open_light(gw_store *s, pl *p)
{
    memset(p, 0, sizeof *p);
    if (!s) return GW_ERR_ARG;
    p->s = s, p->ctx = gw_store_ctx(s), p->h = gw_ctx_geos(p->ctx);
    if (!(p->rd = GEOSWKBReader_create_r(p->h)))
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* The map route's writer: each grid the bbox keeps as a Feature. */
typedef struct map_out {
    pl *p;
    GEOSGeoJSONWriter *gw;
    const GEOSPreparedGeometry *prep;
    FILE *f;
    size_t k;
} map_out;

static gw_status map_grid(void *user, const gw_store_plan_grid *r)
{
    map_out *m = user;
    pl_grid g;
    gw_status st = pl_read_row(m->p, r, &g);
    if (st) return st;
    char hit = m->prep ? GEOSPreparedIntersects_r(m->p->h, m->prep, g.g) : 1;
    if (hit == 2) st = pl_geos_fail(m->p, "bbox test");
    else if (hit) write_feature(m->p, m->gw, &g, r->own, m->k++ == 0, m->f);
    pl_grid_clear(m->p, &g);
    return st;
}

gw_status gw_plan_draft_grids(gw_store *s, int64_t draft, const gw_bbox *bbox, int changed_only,
                              char **json)
{
    *json = NULL;
    pl p;
    gw_status st = open_light(s, &p);
    if (st) return st;
    int64_t base = 0;
    /* the draft's base first (GW_ERR_NOT_FOUND for an unknown draft), then the grids */
    st = gw_store_plan_draft_grids(s, draft, 0, NULL, NULL, NULL, &base);
    GEOSGeometry *rect = NULL;
    map_out m = {&p, GEOSGeoJSONWriter_create_r(p.h), NULL, NULL, 0};
    if (!st && bbox) {
        rect = GEOSGeom_createRectangle_r(p.h, bbox->minx, bbox->miny, bbox->maxx, bbox->maxy);
        m.prep = rect ? GEOSPrepare_r(p.h, rect) : NULL;
        if (!m.prep) st = pl_geos_fail(&p, "the bbox rectangle");
    }
    char *text = NULL;
    size_t len = 0;
    if (!st && (!m.gw || !(m.f = open_memstream(&text, &len))))
        st = gw_ctx_error(p.ctx, GW_ERR_NOMEM, "out of memory");
    if (!st) {
        fprintf(m.f,
                "{\"type\":\"FeatureCollection\",\"draft\":%lld,\"base_version\":%lld,"
                "\"features\":[",
                (long long)draft, (long long)base);
        /* base grids the draft did not touch (near bbox, by the spatial index), then its own */
        unsigned parts = GW_STORE_PLAN_OWN | GW_STORE_PLAN_BY_ID |
                         (changed_only ? 0 : GW_STORE_PLAN_BASE);
        st = gw_store_plan_draft_grids(s, draft, parts, bbox, map_grid, &m, NULL);
        fprintf(m.f, "],\"numberReturned\":%zu}", m.k);
    }
    if (m.f && fclose(m.f) != 0 && !st) st = gw_ctx_error(p.ctx, GW_ERR_NOMEM, "out of memory");
    if (st) free(text);
    else *json = text;
    if (m.prep) GEOSPreparedGeom_destroy_r(p.h, m.prep);
    if (rect) GEOSGeom_destroy_r(p.h, rect);
    if (m.gw) GEOSGeoJSONWriter_destroy_r(p.h, m.gw);
    pl_close(&p);
    return st;
}
