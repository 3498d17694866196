/* plan.c — grid planning drafts and versions: copy-on-write drafts over a published grid
 * version, publish (a new version in one transaction, incidents re-resolved where grids
 * changed), rollback (a byte-for-byte copy of an earlier version as the next one), diff, list,
 * import of a whole layout, and the grid-set loaders plan_edit.c and plan_validate.c share. */
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
        return gw_ctx_error(p->ctx, GW_ERR_INTERNAL, "plan: grids have %zu fields, expected %d",
                            nf, PL_NF);
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
        gw_status st = gw_ctx_error(p->ctx, GW_ERR_GEOMETRY, "grid '%s': stored geometry cannot "
                                    "be read", g->text[0] ? g->text[0] : "?");
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
    gw_status st = gw_store_plan_draft_grids(p->s, draft, GW_STORE_PLAN_BASE | GW_STORE_PLAN_OWN |
                                             GW_STORE_PLAN_BY_ID, NULL, pl_set_add, &c, base);
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
    if (!name || !*name || strlen(name) >= sizeof ((gw_plan_draft *)0)->name) {
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

static char *dump(json_t *doc)
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
    if (!(*json = dump(doc))) return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* ---- publish, rollback --------------------------------------------------------------------- */

/* An incident resolver over the grids of one version near the changed area. */
typedef struct resolver {
    pl *p;
    GEOSSTRtree *tree;
    pl_set set;
    const GEOSPreparedGeometry **prep;
    const GEOSGeometry *pt;
    const char *best;
} resolver;

static void resolve_cb(void *item, void *user)
{
    resolver *r = user;
    size_t i = (size_t)(uintptr_t)item - 1;
    const char *id = r->set.g[i].text[0];
    if (r->best && strcmp(id, r->best) >= 0) return;
    if (GEOSPreparedIntersects_r(r->p->h, r->prep[i], r->pt) == 1) r->best = id;
}

typedef struct boxes {
    gw_ctx *ctx;
    gw_bbox *b, all;
    size_t n, cap;
} boxes;

static gw_status box_add(void *user, const gw_bbox *b)
{
    boxes *x = user;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        gw_bbox *nb = realloc(x->b, cap * sizeof *nb);
        if (!nb) return gw_ctx_error(x->ctx, GW_ERR_NOMEM, "out of memory");
        x->b = nb, x->cap = cap;
    }
    x->b[x->n++] = *b;
    x->all.minx = fmin(x->all.minx, b->minx), x->all.miny = fmin(x->all.miny, b->miny);
    x->all.maxx = fmax(x->all.maxx, b->maxx), x->all.maxy = fmax(x->all.maxy, b->maxy);
    return GW_OK;
}

/* The grid an incident at (x, y) falls in under the new version (the lowest id among the grids
 * intersecting it), for gw_store_plan_incidents_regrid. */
static gw_status resolve_point(void *user, double x, double y, const char *old, const char **grid)
{
    resolver *r = user;
    (void)old;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(r->p->h, x, y);
    if (!pt) return pl_geos_fail(r->p, "making a point");
    r->pt = pt, r->best = NULL;
    GEOSSTRtree_query_r(r->p->h, r->tree, pt, resolve_cb, r);
    GEOSGeom_destroy_r(r->p->h, pt);
    r->pt = NULL;
    *grid = r->best;
    return GW_OK;
}

/* Re-resolve incidents.grid wherever the grids of `newv` differ from those of `oldv`, the same
 * way incident writes resolve it (the lowest id among grids intersecting the point).  *box
 * receives the lon/lat box of the changes; *n the incidents whose grid changed. */
static gw_status reresolve(pl *p, int64_t oldv, int64_t newv, gw_bbox *box, int64_t *n)
{
    *n = 0;
    boxes bx = {p->ctx, NULL, {INFINITY, INFINITY, -INFINITY, -INFINITY}, 0, 0};
    gw_status st = gw_store_plan_version_diff(p->s, oldv, newv, box_add, &bx);
    *box = bx.all;
    if (st || bx.n == 0) {
        free(bx.b);
        return st;
    }
    /* The new version's grids near the changes, with prepared geometries and an STRtree. */
    resolver r = {p, NULL, {0}, NULL, NULL, NULL};
    pl_set_ctx sc = {p, &r.set};
    if ((st = gw_store_plan_version_grids(p->s, newv, box, pl_set_add, &sc))) {
        pl_set_free(p, &r.set);
        free(bx.b);
        return st;
    }
    r.tree = GEOSSTRtree_create_r(p->h, 10);
    r.prep = calloc(r.set.n ? r.set.n : 1, sizeof *r.prep);
    if (!r.tree || !r.prep) st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < r.set.n; i++) {
        r.prep[i] = GEOSPrepare_r(p->h, r.set.g[i].g);
        if (!r.prep[i]) st = pl_geos_fail(p, "preparing a grid");
        else GEOSSTRtree_insert_r(p->h, r.tree, r.set.g[i].g, (void *)(uintptr_t)(i + 1));
    }
    if (!st) st = gw_store_plan_incidents_regrid(p->s, bx.b, bx.n, resolve_point, &r, n);
    for (size_t i = 0; r.prep && i < r.set.n; i++)
        if (r.prep[i]) GEOSPreparedGeom_destroy_r(p->h, r.prep[i]);
    free(r.prep);
    if (r.tree) GEOSSTRtree_destroy_r(p->h, r.tree);
    pl_set_free(p, &r.set);
    free(bx.b);
    return st;
}

/* The second half of publish and rollback: the rows of `newv` are in; make it current, mark the
 * old one archived, re-resolve incidents, log and audit. */
static gw_status make_current(pl *p, int64_t oldv, int64_t newv, const char *who,
                              const char *action, const char *what, int64_t *seq)
{
    char detail[512];
    gw_status st = gw_store_plan_version_publish(p->s, newv);
    gw_bbox box;
    int64_t moved = 0, s1 = 0;
    if (!st) st = reresolve(p, oldv, newv, &box, &moved);
    if (!st) st = gw_store_log_change(p->s, GW_LAYER_GRIDS, "publish", NULL, NULL, &s1);
    if (!st && moved > 0)
        st = gw_store_log_change(p->s, GW_LAYER_INCIDENTS, "update", NULL, &box, &s1);
    snprintf(detail, sizeof detail, "{\"version\":%lld,\"previous\":%lld,%s,"
             "\"incidents_reassigned\":%lld}", (long long)newv, (long long)oldv, what,
             (long long)moved);
    if (!st) st = gw_store_audit(p->s, who, action, detail);
    if (!st && seq) *seq = s1;
    return st;
}

gw_status gw_plan_publish(gw_store *s, int64_t draft, const char *who, int force,
                          int64_t *version, int64_t *seq)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, draft, &d);
    if (st) return st;
    pl p;
    if ((st = pl_open(s, &p))) return st;
    if ((st = gw_store_begin(s))) {
        pl_close(&p);
        return st;
    }
    int64_t cur = 0, newv = 0;
    st = gw_store_grid_version(s, &cur);
    if (!st) st = gw_plan_draft_get(s, draft, &d); /* again, under the write lock */
    if (!st && strcmp(d.status, "open") != 0)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "draft %lld was already published as version "
                          "%lld", (long long)draft, (long long)d.published_version);
    if (!st && d.base_version != cur)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "draft %lld is based on grid version %lld but "
                          "version %lld has been published since; make a new draft",
                          (long long)draft, (long long)d.base_version, (long long)cur);
    if (!st && !force) {
        /* Refuse a draft that tiles worse than its base: data imported with slivers (or the
         * synthetic city, built in metric and stored in lon/lat) can still be improved. */
        gw_plan_report rep = {0}, br = {0};
        st = gw_plan_validate_draft(s, draft, NULL, &rep);
        if (!st && !rep.tiles) st = gw_plan_validate_version(s, cur, NULL, &br);
        double tol = 1e-3 + 1e-9 * br.union_m2;
        if (!st && !rep.tiles &&
            (rep.invalid > br.invalid || rep.outside_m2 > br.outside_m2 + tol ||
             rep.overlap_m2 > br.overlap_m2 + tol || rep.gap_m2 > br.gap_m2 + tol))
            st = gw_ctx_error(p.ctx, GW_ERR_GEOMETRY, "draft %lld does not tile the jurisdiction "
                              "(%zu invalid, %zu overlaps %.3f m², %zu gaps %.3f m², %zu outside; "
                              "version %lld has %zu, %.3f m², %.3f m²): see its validation report",
                              (long long)draft, rep.invalid, rep.overlaps, rep.overlap_m2, rep.gaps,
                              rep.gap_m2, rep.outside, (long long)cur, br.overlaps, br.overlap_m2,
                              br.gap_m2);
        gw_plan_report_free(&rep);
        gw_plan_report_free(&br);
    }
    if (!st) st = gw_store_plan_version_add(s, d.name, who, &newv);
    if (!st) st = gw_store_plan_version_fill(s, newv, cur, draft);
    if (!st) st = gw_store_plan_draft_published(s, draft, newv);
    char what[160];
    snprintf(what, sizeof what, "\"draft\":%lld,\"changed\":%lld", (long long)draft,
             (long long)d.changed);
    if (!st) st = make_current(&p, cur, newv, who, "plan.publish", what, seq);
    if (!st) st = gw_store_commit(s);
    if (st) gw_store_rollback(s);
    else if (version) *version = newv;
    pl_close(&p);
    return st;
}

gw_status gw_plan_rollback(gw_store *s, int64_t version, const char *who, int64_t *new_version,
                           int64_t *seq)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    if ((st = gw_store_begin(s))) {
        pl_close(&p);
        return st;
    }
    int64_t cur = 0, newv = 0;
    int n = 0;
    st = gw_store_grid_version(s, &cur);
    if (!st) st = gw_store_plan_version_exists(s, version, &n);
    if (!st && n == 0)
        st = gw_ctx_error(p.ctx, GW_ERR_NOT_FOUND, "no grid version %lld", (long long)version);
    if (!st && version == cur)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "grid version %lld is already the published "
                          "one", (long long)version);
    char name[64];
    snprintf(name, sizeof name, "rollback to version %lld", (long long)version);
    if (!st) st = gw_store_plan_version_add(s, name, who, &newv);
    if (!st) st = gw_store_plan_version_fill(s, newv, version, 0);
    char what[64];
    snprintf(what, sizeof what, "\"rollback_to\":%lld", (long long)version);
    if (!st) st = make_current(&p, cur, newv, who, "plan.rollback", what, seq);
    if (!st) st = gw_store_commit(s);
    if (st) gw_store_rollback(s);
    else if (new_version) *new_version = newv;
    pl_close(&p);
    return st;
}

static gw_status version_row(void *user, const gw_store_plan_version *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(v->version));
    const char *keys[] = {"name", "status", "created_at", "created_by", "published_at"};
    const char *vals[] = {v->name, v->status, v->created_at, v->created_by, v->published_at};
    for (int k = 0; k < 5; k++)
        json_object_set_new(o, keys[k], vals[k] ? json_string(vals[k]) : json_null());
    json_object_set_new(o, "grids", json_integer(v->grids));
    json_object_set_new(o, "current", json_boolean(v->current));
    json_array_append_new(user, o);
    return GW_OK;
}

gw_status gw_plan_versions(gw_store *s, char **json)
{
    json_t *arr = json_array();
    gw_status st = gw_store_plan_versions(s, version_row, arr);
    if (st) {
        json_decref(arr);
        return st;
    }
    if (!(*json = dump(arr))) return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* ---- import of a whole layout -------------------------------------------------------------- */

static int ends_with(const char *s, const char *ext)
{
    size_t n = strlen(s), e = strlen(ext);
    return n > e && strcasecmp(s + n - e, ext) == 0;
}

/* Copy one member of an archive (a /vsizip/ path) to a local file. */
static int vsi_copy(const char *from, const char *to)
{
    VSILFILE *in = VSIFOpenL(from, "rb");
    FILE *out = in ? fopen(to, "wb") : NULL;
    int ok = in && out;
    char buf[65536];
    size_t k;
    while (ok && (k = VSIFReadL(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, k, out) == k;
    if (out && fclose(out) != 0) ok = 0;
    if (in) VSIFCloseL(in);
    return ok;
}

/* A zipped layout: unpack the first vector dataset in the archive (a Shapefile with its
 * sidecar files, else a GeoPackage, GeoJSON or DXF; at any depth) into the private directory
 * dir (made here), and put the path to read into out.  0 when there is none. */
static int unzip_layout(const char *zip, char *dir, size_t dcap, char *out, size_t ocap)
{
    static const char *const kinds[] = {".shp", ".gpkg", ".geojson", ".json", ".dxf"};
    char vsi[4200];
    snprintf(vsi, sizeof vsi, "/vsizip/%s", zip);
    char **names = VSIReadDirRecursive(vsi);
    const char *pick = NULL;
    for (size_t k = 0; !pick && k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; names && names[i] && !pick; i++)
            if (ends_with(names[i], kinds[k]) && !strstr(names[i], "__MACOSX")) pick = names[i];
    int ok = 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dcap, "%s/gw-layout-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (pick && mkdtemp(dir)) {
        ok = 1;
        size_t stem = strlen(pick) - (ends_with(pick, ".shp") ? 4 : strlen(pick));
        for (int i = 0; ok && names[i]; i++) {
            /* the picked file, and for a Shapefile every member with its stem (.shx, .dbf …) */
            if (strcmp(names[i], pick) != 0 &&
                !(stem > 0 && strncmp(names[i], pick, stem) == 0 && names[i][stem] == '.'))
                continue;
            const char *base = strrchr(names[i], '/');
            base = base ? base + 1 : names[i];
            char from[8600], to[4400];
            snprintf(from, sizeof from, "%s/%s", vsi, names[i]);
            snprintf(to, sizeof to, "%s/%s", dir, base);
            ok = vsi_copy(from, to);
            if (strcmp(names[i], pick) == 0) snprintf(out, ocap, "%s", to);
        }
    } else {
        dir[0] = '\0';
    }
    CSLDestroy(names);
    return ok;
}

static void remove_dir(const char *dir)
{
    char **names = dir[0] ? VSIReadDir(dir) : NULL;
    for (int i = 0; names && names[i]; i++) {
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    CSLDestroy(names);
    if (dir[0]) rmdir(dir);
}

/* The scratch store's grids, one by one, for gw_store_plan_draft_replace. */
typedef struct cursor_src {
    gw_ctx *ctx;
    gw_cursor *cur;
} cursor_src;

static gw_status next_row(void *user, gw_store_plan_grid *g)
{
    cursor_src *c = user;
    gw_row row;
    gw_status st = gw_cursor_next(c->cur, &row);
    if (st == GW_ERR_NOT_FOUND) gw_ctx_clear_error(c->ctx);
    if (st) return st;
    g->values = row.values;
    g->wkb = row.wkb;
    g->wkb_len = row.wkb_len;
    g->own = 1;
    return GW_OK;
}

gw_status gw_plan_draft_import(gw_store *s, int64_t draft, const char *path, const char *who,
                               size_t *n)
{
    return gw_plan_draft_import_mapped(s, draft, path, NULL, who, n);
}

gw_status gw_plan_draft_import_mapped(gw_store *s, int64_t draft, const char *path,
                                      const char *map, const char *who, size_t *n)
{
    gw_ctx *ctx = gw_store_ctx(s);
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, draft, &d);
    if (st) return st;
    if (strcmp(d.status, "open") != 0)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "draft %lld is published", (long long)draft);
    /* A .zip is unpacked first (io.c reads plain files). */
    char zdir[4200] = "", inner[4400] = "";
    if (ends_with(path, ".zip")) {
        if (!unzip_layout(path, zdir, sizeof zdir, inner, sizeof inner)) {
            remove_dir(zdir);
            return gw_ctx_error(ctx, GW_ERR_FORMAT, "%s: no readable Shapefile, GeoPackage, "
                                "GeoJSON or DXF inside the archive", path);
        }
        path = inner;
    }
    /* io.c does the reading (formats, field mapping, CRS, checks) into a scratch store, named
     * per process and call so that imports running at once do not meet. */
    static atomic_uint calls;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.plan-import-%ld-%u.sqlite", gw_store_path(s), (long)getpid(),
             atomic_fetch_add(&calls, 1));
    gw_store *t = NULL;
    if ((st = gw_store_open(ctx, tmp, GW_STORE_CREATE, &t))) {
        remove_dir(zdir);
        return st;
    }
    gw_import_opts io = {.map = map};
    /* grids drawn in CAD are closed polylines: read them as polygons (this thread only) */
    int dxf = ends_with(path, ".dxf");
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", "TRUE");
    st = gw_io_import(ctx, t, GW_LAYER_GRIDS, path, &io, NULL);
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", NULL);
    remove_dir(zdir);
    if (!st && !(st = gw_store_begin(s))) {
        /* Base grids not in the file are deletes; the file's grids are upserts. */
        cursor_src cs = {ctx, NULL};
        size_t k = 0;
        st = gw_store_cursor_create(t, GW_LAYER_GRIDS, &cs.cur);
        if (!st) st = gw_store_plan_draft_replace(s, draft, d.base_version, next_row, &cs, &k);
        gw_cursor_destroy(cs.cur);
        char detail[256];
        if (!st) st = gw_store_plan_draft_touch(s, draft);
        snprintf(detail, sizeof detail, "{\"draft\":%lld,\"grids\":%zu}", (long long)draft, k);
        if (!st) st = gw_store_audit(s, who, "plan.draft.import", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (n) *n = k;
    }
    gw_store_close(t);
    char side[4200];
    unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp), unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp), unlink(side);
    return st;
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
        json_object_set_new(props, fl[i].name, g->null[i] ? json_null()
                                               : fl[i].type == GW_FT_INT ? json_integer(g->num[i])
                                                                         : json_string(g->text[i]));
    json_object_set_new(props, "changed", json_boolean(changed));
    json_object_set_new(props, "area_m2", json_real(pl_area_m2(p, g->g)));
    char *pt = json_dumps(props, JSON_COMPACT), *id = json_dumps(json_object_get(props, "id"),
                                                                  JSON_ENCODE_ANY);
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
        fprintf(m.f, "{\"type\":\"FeatureCollection\",\"draft\":%lld,\"base_version\":%lld,"
                "\"features\":[", (long long)draft, (long long)base);
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
