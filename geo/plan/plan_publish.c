/* plan_publish.c — publish a draft as the next grid version (one transaction; incidents
 * re-resolved where grids changed), roll back to an earlier version (a copy of it as the next
 * one), and the version list. */
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
    snprintf(detail, sizeof detail,
             "{\"version\":%lld,\"previous\":%lld,%s,"
             "\"incidents_reassigned\":%lld}",
             (long long)newv, (long long)oldv, what, (long long)moved);
    if (!st) st = gw_store_audit(p->s, who, action, detail);
    if (!st && seq) *seq = s1;
    return st;
}

gw_status gw_plan_publish(gw_store *s, int64_t draft, const char *who, int force, int64_t *version,
                          int64_t *seq)
{
    return gw_plan_publish_checked(s, draft, who, force, NULL, NULL, version, seq);
}

gw_status gw_plan_publish_checked(gw_store *s, int64_t draft, const char *who, int force,
                                  gw_plan_check_fn check, void *check_user, int64_t *version,
                                  int64_t *seq)
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
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT,
                          "draft %lld was already published as version "
                          "%lld",
                          (long long)draft, (long long)d.published_version);
    if (!st && d.base_version != cur)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT,
                          "draft %lld is based on grid version %lld but "
                          "version %lld has been published since; make a new draft",
                          (long long)draft, (long long)d.base_version, (long long)cur);
    if (!st && check && check(check_user, s, draft)) /* the caller's refusal, under the lock */
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "refused by the caller's check");
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
            st = gw_ctx_error(p.ctx, GW_ERR_GEOMETRY,
                              "draft %lld does not tile the jurisdiction "
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
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT,
                          "grid version %lld is already the published "
                          "one",
                          (long long)version);
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
    if (!(*json = pl_dump(arr)))
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}
