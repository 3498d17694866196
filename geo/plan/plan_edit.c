/* plan_edit.c — edits of a planning draft that keep the tiling whole: split by a line, merge
 * neighbours, move a shared boundary, reassign an area, change attributes.
 *
 * Every geometric edit cuts the union of the grids it touches into faces with one noded
 * linework (the union's boundary plus the planner's line) and hands the faces out again, so the
 * new grids share exactly the same vertices along the cut and together cover exactly what the
 * old ones covered; untouched boundaries keep their stored EPSG:4326 vertices bit for bit.
 * Where a cut crosses a boundary the edited grids share with a grid outside the edit, the
 * crossing (a computed, rounded point) is inserted into that neighbour too (pe_share_pass, plan_share.c), so
 * both sides keep identical vertices: the neighbour is then listed as changed. */
#include "plan_edit.h"
#include "gridwatch/geojson.h"
#include "gridwatch/geojson.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PIECE_M2 1.0 /* a cut leaving a piece under this is refused as a slip of the pen */

/* ---- the draft's grids --------------------------------------------------------------------- */

static gw_status get_grid(ectx *e, const char *id, pl_grid *g)
{
    return pl_draft_grid(&e->p, e->draft, e->base, id, g);
}

/* *exists = 1 when `id` names a grid of the draft. */
static gw_status grid_exists(ectx *e, const char *id, int *exists)
{
    return gw_store_plan_grid_exists(e->p.s, e->draft, e->base, id, exists);
}

gw_status pe_put_grid(ectx *e, const pl_grid *g)
{
    gw_value vals[PL_NF];
    pl_grid_values(g, vals);
    size_t len = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(e->p.h, e->p.wr, g->g, &len);
    if (!wkb) return pl_geos_fail(&e->p, "writing a grid");
    gw_store_plan_grid row = {vals, wkb, len, 1};
    gw_status st = gw_store_plan_grid_put(e->p.s, e->draft, &row);
    GEOSFree_r(e->p.h, wkb);
    if (!st && !e->sharing) {
        if (e->nw == e->cw) {
            size_t cap = e->cw ? e->cw * 2 : 8;
            GEOSGeometry **nw = realloc(e->written, cap * sizeof *nw);
            if (!nw) return gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
            e->written = nw, e->cw = cap;
        }
        if (!(e->written[e->nw] = GEOSGeom_clone_r(e->p.h, g->g)))
            return pl_geos_fail(&e->p, "keeping a written grid");
        e->nw++;
    }
    json_t *ids = e->changed;
    size_t k;
    json_t *v;
    json_array_foreach (ids, k, v)
        if (strcmp(json_string_value(v), g->text[0]) == 0) return st;
    json_array_append_new(ids, json_string(g->text[0]));
    return st;
}

static gw_status del_grid(ectx *e, const char *id)
{
    gw_status st = gw_store_plan_grid_remove(e->p.s, e->draft, e->base, id);
    if (st) return st;
    json_array_append_new(e->deleted, json_string(id));
    return st;
}

/* ---- geometry ------------------------------------------------------------------------------ */

/* A GeoJSON geometry member of the edit, checked for its type family (1 = lines, 2 = areas). */
static gw_status read_geom(ectx *e, json_t *edit, const char *member, int family,
                           GEOSGeometry **out)
{
    *out = NULL;
    json_t *j = json_object_get(edit, member);
    if (!json_is_object(j))
        return gw_ctx_error(e->p.ctx, GW_ERR_ARG, "edit: '%s' must be a GeoJSON %s", member,
                            family == 1 ? "LineString" : "Polygon");
    GEOSGeometry *g = NULL;
    const char *unreadable = NULL;
    gw_status rst = gw_geojson_geometry_read(e->p.ctx, NULL, j, &g, &unreadable);
    if (rst == GW_ERR_NOMEM) return gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
    if (rst)
        return gw_ctx_error(e->p.ctx, GW_ERR_FORMAT,
                            "edit: '%s' is not a readable GeoJSON geometry: %s", member,
                            unreadable);
    char what[64];
    snprintf(what, sizeof what, "edit: '%s'", member);
    gw_status cst = gw_geom_check(e->p.ctx, what, g, 1); /* finite lon/lat, bounded size */
    if (cst) {
        GEOSGeom_destroy_r(e->p.h, g);
        return cst;
    }
    int t = GEOSGeomTypeId_r(e->p.h, g);
    int ok = family == 1 ? (t == GEOS_LINESTRING || t == GEOS_MULTILINESTRING)
                         : (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON);
    if (!ok || GEOSisEmpty_r(e->p.h, g)) {
        GEOSGeom_destroy_r(e->p.h, g);
        return gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY, "edit: '%s' must be a non-empty %s", member,
                            family == 1 ? "LineString or MultiLineString"
                                        : "Polygon or MultiPolygon");
    }
    if (family == 2 && GEOSisValid_r(e->p.h, g) != 1) {
        char *why = NULL;
        GEOSGeometry *loc = NULL;
        GEOSisValidDetail_r(e->p.h, g, 0, &why, &loc);
        gw_status st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                                    "edit: '%s' is not a valid polygon: "
                                    "%s",
                                    member, why ? why : "invalid");
        GEOSFree_r(e->p.h, why);
        if (loc) GEOSGeom_destroy_r(e->p.h, loc);
        GEOSGeom_destroy_r(e->p.h, g);
        return st;
    }
    *out = g;
    return GW_OK;
}

typedef struct faces {
    GEOSGeometry **f;
    size_t n;
} faces;

static void faces_free(ectx *e, faces *fs)
{
    for (size_t i = 0; i < fs->n; i++) GEOSGeom_destroy_r(e->p.h, fs->f[i]);
    free(fs->f);
    fs->f = NULL, fs->n = 0;
}

/* The faces of area U cut by `lines`: polygonize the union of U's boundary and the lines (one
 * noding, so neighbouring faces share their vertices exactly) and keep the faces inside U. */
static gw_status cut(ectx *e, const GEOSGeometry *U, const GEOSGeometry *lines, faces *out)
{
    GEOSContextHandle_t h = e->p.h;
    out->f = NULL, out->n = 0;
    GEOSGeometry *parts[2] = {GEOSBoundary_r(h, U), GEOSGeom_clone_r(h, lines)};
    if (!parts[0] || !parts[1]) {
        if (parts[0]) GEOSGeom_destroy_r(h, parts[0]);
        if (parts[1]) GEOSGeom_destroy_r(h, parts[1]);
        return pl_geos_fail(&e->p, "cutting (boundary)");
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, 2);
    GEOSGeometry *noded = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
    if (coll) GEOSGeom_destroy_r(h, coll);
    if (!noded) return pl_geos_fail(&e->p, "cutting (noding)");
    const GEOSGeometry *in[1] = {noded};
    GEOSGeometry *polys = GEOSPolygonize_r(h, in, 1);
    GEOSGeom_destroy_r(h, noded);
    if (!polys) return pl_geos_fail(&e->p, "cutting (polygonize)");
    const GEOSPreparedGeometry *pu = GEOSPrepare_r(h, U);
    int n = GEOSGetNumGeometries_r(h, polys);
    out->f = calloc(n > 0 ? (size_t)n : 1, sizeof *out->f);
    gw_status st = pu && out->f ? GW_OK : gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        const GEOSGeometry *f = GEOSGetGeometryN_r(h, polys, i);
        GEOSGeometry *pt = GEOSPointOnSurface_r(h, f);
        if (!pt) {
            st = pl_geos_fail(&e->p, "cutting (inside test)");
            break;
        }
        if (GEOSPreparedContains_r(h, pu, pt) == 1) out->f[out->n++] = GEOSGeom_clone_r(h, f);
        GEOSGeom_destroy_r(h, pt);
    }
    if (pu) GEOSPreparedGeom_destroy_r(h, pu);
    GEOSGeom_destroy_r(h, polys);
    if (st) faces_free(e, out);
    return st;
}

/* Number of polygons of a (multi)polygon. */
static int parts(ectx *e, const GEOSGeometry *g)
{
    return GEOSGeomTypeId_r(e->p.h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(e->p.h, g);
}

/* g as a single Polygon (taking ownership): a one-part MultiPolygon is unwrapped. */
static GEOSGeometry *as_polygon(ectx *e, GEOSGeometry *g)
{
    if (!g || GEOSGeomTypeId_r(e->p.h, g) == GEOS_POLYGON) return g;
    if (GEOSGetNumGeometries_r(e->p.h, g) != 1) return g;
    GEOSGeometry *one = GEOSGeom_clone_r(e->p.h, GEOSGetGeometryN_r(e->p.h, g, 0));
    GEOSGeom_destroy_r(e->p.h, g);
    return one;
}

/* Check a grid's new shape: valid, one part, not a crumb. */
static gw_status check_shape(ectx *e, const char *id, const GEOSGeometry *g)
{
    if (!g || GEOSisEmpty_r(e->p.h, g))
        return gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY, "refused: grid '%s' would be left empty",
                            id);
    int np = parts(e, g);
    if (np != 1)
        return gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                            "refused: grid '%s' would fall into %d "
                            "separate parts",
                            id, np);
    if (GEOSisValid_r(e->p.h, g) != 1) {
        char *why = NULL;
        GEOSGeometry *loc = NULL;
        GEOSisValidDetail_r(e->p.h, g, 0, &why, &loc);
        gw_status st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                                    "refused: grid '%s' would be an "
                                    "invalid polygon (%s)",
                                    id, why ? why : "?");
        GEOSFree_r(e->p.h, why);
        if (loc) GEOSGeom_destroy_r(e->p.h, loc);
        return st;
    }
    double a = pl_area_m2(&e->p, g);
    if (a < MIN_PIECE_M2)
        return gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY, "refused: grid '%s' would keep only %.3g m²",
                            id, a);
    return GW_OK;
}

static GEOSGeometry *union_of(ectx *e, GEOSGeometry *const *g, size_t n)
{
    return as_polygon(e, pl_union(&e->p, g, n));
}

/* ---- the edits ----------------------------------------------------------------------------- */

static gw_status ed_split(ectx *e, json_t *edit)
{
    const char *id = json_string_value(json_object_get(edit, "grid"));
    const char *nid = json_string_value(json_object_get(edit, "new_id"));
    if (!id) return gw_ctx_error(e->p.ctx, GW_ERR_ARG, "split: 'grid' must be a grid id");
    GEOSGeometry *line = NULL;
    pl_grid g = {0};
    faces fs = {0};
    gw_status st = read_geom(e, edit, "line", 1, &line);
    if (!st) st = get_grid(e, id, &g);
    if (!st) st = cut(e, g.g, line, &fs);
    if (!st && fs.n < 2)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: the line does not cut grid '%s' "
                          "in two; it must cross the grid from one side of its boundary to "
                          "another",
                          id);
    if (!st && fs.n > 2)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: the line cuts grid '%s' into %zu "
                          "pieces; a split makes exactly two (draw a line that crosses it once)",
                          id, fs.n);
    char gen[300];
    if (!st && !nid) {
        for (int k = 2; k < 1000; k++) {
            snprintf(gen, sizeof gen, "%s-%d", id, k);
            int ex = 0;
            if ((st = grid_exists(e, gen, &ex)) || !ex) break;
        }
        nid = gen;
    } else if (!st) {
        int ex = 0;
        if (!(st = grid_exists(e, nid, &ex)) && ex)
            st = gw_ctx_error(e->p.ctx, GW_ERR_CONFLICT,
                              "split: new_id '%s' is already a grid "
                              "of draft %lld",
                              nid, (long long)e->draft);
    }
    if (!st) {
        double a0 = pl_area_m2(&e->p, fs.f[0]), a1 = pl_area_m2(&e->p, fs.f[1]);
        int big = a0 >= a1 ? 0 : 1;
        double share = (big ? a0 : a1) / (a0 + a1);
        if ((st = check_shape(e, id, fs.f[big])) || (st = check_shape(e, nid, fs.f[1 - big]))) {
            /* message set */
        } else {
            pl_grid piece = g;
            /* the new piece: the same attributes but the id, its share of the counts */
            for (int i = 0; i < PL_NF; i++) piece.text[i] = g.text[i];
            piece.text[0] = (char *)nid;
            piece.g = fs.f[1 - big];
            for (int i = 4; i <= 5; i++) {
                if (g.null[i]) continue;
                piece.num[i] = llround((double)g.num[i] * share);
                g.num[i] -= piece.num[i];
            }
            GEOSGeometry *old = g.g;
            g.g = fs.f[big];
            st = pe_put_grid(e, &g);
            if (!st) st = pe_put_grid(e, &piece);
            g.g = old;
        }
    }
    faces_free(e, &fs);
    pl_grid_clear(&e->p, &g);
    if (line) GEOSGeom_destroy_r(e->p.h, line);
    return st;
}

static gw_status ed_merge(ectx *e, json_t *edit)
{
    json_t *ids = json_object_get(edit, "grids");
    size_t n = json_array_size(ids);
    if (n < 2)
        return gw_ctx_error(e->p.ctx, GW_ERR_ARG, "merge: 'grids' must list two or more ids");
    pl_grid *g = calloc(n, sizeof *g);
    GEOSGeometry **gs = calloc(n, sizeof *gs);
    gw_status st = g && gs ? GW_OK : gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        if (!id) st = gw_ctx_error(e->p.ctx, GW_ERR_ARG, "merge: grids[%zu] is not an id", i);
        for (size_t j = 0; !st && j < i; j++)
            if (strcmp(g[j].text[0], id) == 0)
                st = gw_ctx_error(e->p.ctx, GW_ERR_ARG, "merge: grid '%s' is listed twice", id);
        if (!st) st = get_grid(e, id, &g[i]);
        if (!st) gs[i] = g[i].g;
    }
    GEOSGeometry *u = st ? NULL : union_of(e, gs, n);
    if (!st && !u) st = pl_geos_fail(&e->p, "merge (union)");
    if (!st && parts(e, u) != 1)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: grids '%s' … '%s' do not form "
                          "one area: the merged grid would fall into %d parts (merge only "
                          "neighbours sharing a boundary)",
                          g[0].text[0], g[n - 1].text[0], parts(e, u));
    if (!st) st = check_shape(e, g[0].text[0], u);
    if (!st) {
        for (size_t i = 1; i < n; i++)
            for (int k = 4; k <= 5; k++) {
                if (g[i].null[k]) continue;
                if (g[0].null[k]) g[0].null[k] = 0, g[0].num[k] = 0;
                g[0].num[k] += g[i].num[k];
            }
        GEOSGeometry *old = g[0].g;
        g[0].g = u;
        st = pe_put_grid(e, &g[0]);
        g[0].g = old;
        for (size_t i = 1; !st && i < n; i++) st = del_grid(e, g[i].text[0]);
    }
    if (u) GEOSGeom_destroy_r(e->p.h, u);
    for (size_t i = 0; g && i < n; i++) pl_grid_clear(&e->p, &g[i]);
    free(g);
    free(gs);
    return st;
}

/* Hand the faces of A ∪ B out to A and B: each face goes to the grid it overlapped more. */
static gw_status regroup(ectx *e, const faces *fs, const GEOSGeometry *a, const GEOSGeometry *b,
                         GEOSGeometry **na, GEOSGeometry **nb)
{
    GEOSGeometry **sa = calloc(fs->n, sizeof *sa), **sb = calloc(fs->n, sizeof *sb);
    size_t ka = 0, kb = 0;
    gw_status st = sa && sb ? GW_OK : gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < fs->n; i++) {
        GEOSGeometry *ia = GEOSIntersection_r(e->p.h, fs->f[i], a);
        double aa = 0, ab = 0, fa = 0;
        if (!ia) {
            st = pl_geos_fail(&e->p, "assigning a face");
            break;
        }
        GEOSArea_r(e->p.h, ia, &aa);
        GEOSArea_r(e->p.h, fs->f[i], &fa);
        GEOSGeom_destroy_r(e->p.h, ia);
        ab = fa - aa; /* the faces cover A ∪ B exactly */
        (void)b;
        if (aa >= ab) sa[ka++] = fs->f[i];
        else sb[kb++] = fs->f[i];
    }
    *na = *nb = NULL;
    if (!st && ka) *na = union_of(e, sa, ka);
    if (!st && kb) *nb = union_of(e, sb, kb);
    free(sa);
    free(sb);
    return st;
}

static gw_status two_ids(ectx *e, json_t *edit, const char *ka, const char *kb, const char **a,
                         const char **b)
{
    if (kb) {
        *a = json_string_value(json_object_get(edit, ka));
        *b = json_string_value(json_object_get(edit, kb));
    } else {
        json_t *arr = json_object_get(edit, ka);
        *a = json_array_size(arr) == 2 ? json_string_value(json_array_get(arr, 0)) : NULL;
        *b = json_array_size(arr) == 2 ? json_string_value(json_array_get(arr, 1)) : NULL;
    }
    if (!*a || !*b)
        return gw_ctx_error(e->p.ctx, GW_ERR_ARG,
                            kb ? "edit: '%s' and '%s' must be grid ids"
                               : "edit: '%s' must list exactly two grid ids%s",
                            ka, kb ? kb : "");
    if (strcmp(*a, *b) == 0)
        return gw_ctx_error(e->p.ctx, GW_ERR_ARG, "edit: the two grids are the same ('%s')", *a);
    return GW_OK;
}

static gw_status ed_move(ectx *e, json_t *edit)
{
    const char *ida, *idb;
    gw_status st = two_ids(e, edit, "grids", NULL, &ida, &idb);
    if (st) return st;
    GEOSGeometry *line = NULL, *u = NULL, *na = NULL, *nb = NULL;
    pl_grid a = {0}, b = {0};
    faces fs = {0};
    if (!(st = read_geom(e, edit, "line", 1, &line)) && !(st = get_grid(e, ida, &a)) &&
        !(st = get_grid(e, idb, &b))) {
        GEOSGeometry *two[2] = {a.g, b.g};
        if (!(u = union_of(e, two, 2))) st = pl_geos_fail(&e->p, "move_boundary (union)");
        else if (parts(e, u) != 1)
            st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                              "refused: grids '%s' and '%s' are not "
                              "neighbours (they share no boundary)",
                              ida, idb);
    }
    if (!st) st = cut(e, u, line, &fs);
    if (!st && fs.n < 2)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: the new boundary does not divide "
                          "grids '%s' and '%s'; it must run across their joint area from one "
                          "point of its outline to another",
                          ida, idb);
    if (!st) st = regroup(e, &fs, a.g, b.g, &na, &nb);
    if (!st) st = check_shape(e, ida, na);
    if (!st) st = check_shape(e, idb, nb);
    if (!st) {
        GEOSGeometry *oa = a.g, *ob = b.g;
        a.g = na, b.g = nb;
        st = pe_put_grid(e, &a);
        if (!st) st = pe_put_grid(e, &b);
        a.g = oa, b.g = ob;
    }
    faces_free(e, &fs);
    GEOSGeometry *all[] = {line, u, na, nb};
    for (int i = 0; i < 4; i++)
        if (all[i]) GEOSGeom_destroy_r(e->p.h, all[i]);
    pl_grid_clear(&e->p, &a);
    pl_grid_clear(&e->p, &b);
    return st;
}

static gw_status ed_reassign(ectx *e, json_t *edit)
{
    const char *ida, *idb;
    gw_status st = two_ids(e, edit, "from", "to", &ida, &idb);
    if (st) return st;
    GEOSGeometry *area = NULL, *ring = NULL, *na = NULL, *piece = NULL, *nb = NULL;
    pl_grid a = {0}, b = {0};
    faces fs = {0};
    GEOSGeometry **in = NULL, **out = NULL;
    size_t ki = 0, ko = 0;
    if (!(st = read_geom(e, edit, "area", 2, &area)) && !(st = get_grid(e, ida, &a)) &&
        !(st = get_grid(e, idb, &b))) {
        if (!(ring = GEOSBoundary_r(e->p.h, area))) st = pl_geos_fail(&e->p, "reassign (outline)");
    }
    if (!st) st = cut(e, a.g, ring, &fs);
    if (!st) {
        in = calloc(fs.n + 1, sizeof *in), out = calloc(fs.n + 1, sizeof *out);
        const GEOSPreparedGeometry *pa = GEOSPrepare_r(e->p.h, area);
        if (!in || !out || !pa) st = gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < fs.n; i++) {
            GEOSGeometry *pt = GEOSPointOnSurface_r(e->p.h, fs.f[i]);
            if (!pt) {
                st = pl_geos_fail(&e->p, "reassign (inside test)");
                break;
            }
            if (GEOSPreparedContains_r(e->p.h, pa, pt) == 1) in[ki++] = fs.f[i];
            else out[ko++] = fs.f[i];
            GEOSGeom_destroy_r(e->p.h, pt);
        }
        if (pa) GEOSPreparedGeom_destroy_r(e->p.h, pa);
    }
    if (!st && ki == 0)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: the area does not overlap grid "
                          "'%s'",
                          ida);
    if (!st && ko == 0)
        st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                          "refused: the area covers all of grid '%s'; "
                          "use merge to join it to '%s'",
                          ida, idb);
    if (!st && !((na = union_of(e, out, ko)) && (piece = union_of(e, in, ki))))
        st = pl_geos_fail(&e->p, "reassign (union)");
    if (!st) {
        /* the piece's new vertices on the edge it shares with B go into B first, so the union
         * below merges identical segments instead of nearly identical ones */
        vlist v = {0};
        if (pe_vl_add(e->p.h, &v, piece)) st = pl_geos_fail(&e->p, "reassign (vertices)");
        pe_vl_sort(&v);
        GEOSGeometry *b2 = st ? NULL : pe_with_vertices(e, b.g, &v, &st);
        if (b2) GEOSGeom_destroy_r(e->p.h, b.g), b.g = b2;
        free(v.xy);
    }
    if (!st) {
        GEOSGeometry *two[2] = {b.g, piece};
        if (!(nb = union_of(e, two, 2))) st = pl_geos_fail(&e->p, "reassign (union)");
        else if (parts(e, nb) != 1)
            st = gw_ctx_error(e->p.ctx, GW_ERR_GEOMETRY,
                              "refused: the part of the area inside "
                              "'%s' does not border '%s'",
                              ida, idb);
    }
    if (!st) st = check_shape(e, ida, na);
    if (!st) st = check_shape(e, idb, nb);
    if (!st) {
        GEOSGeometry *oa = a.g, *ob = b.g;
        a.g = na, b.g = nb;
        st = pe_put_grid(e, &a);
        if (!st) st = pe_put_grid(e, &b);
        a.g = oa, b.g = ob;
    }
    free(in);
    free(out);
    faces_free(e, &fs);
    GEOSGeometry *all[] = {area, ring, na, piece, nb};
    for (int i = 0; i < 5; i++)
        if (all[i]) GEOSGeom_destroy_r(e->p.h, all[i]);
    pl_grid_clear(&e->p, &a);
    pl_grid_clear(&e->p, &b);
    return st;
}

static gw_status ed_attributes(ectx *e, json_t *edit)
{
    const char *id = json_string_value(json_object_get(edit, "grid"));
    json_t *props = json_object_get(edit, "properties");
    if (!id || !json_is_object(props))
        return gw_ctx_error(e->p.ctx, GW_ERR_ARG,
                            "attributes: 'grid' (an id) and 'properties' "
                            "(an object) are required");
    pl_grid g = {0};
    gw_status st = get_grid(e, id, &g);
    const char *k;
    json_t *v;
    json_object_foreach (props, k, v) {
        if (st) break;
        int i = gw_layer_field_index(GW_LAYER_GRIDS, k);
        if (i <= 0) {
            st = gw_ctx_error(e->p.ctx, GW_ERR_ARG,
                              i == 0 ? "attributes: the id cannot be changed "
                                       "(split or merge instead)"
                                     : "attributes: grids have no field '%s'",
                              k);
            break;
        }
        const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, NULL);
        free(g.text[i]);
        g.text[i] = NULL;
        g.null[i] = json_is_null(v);
        if (g.null[i]) continue;
        if (f[i].type == GW_FT_INT && json_is_integer(v)) {
            g.num[i] = json_integer_value(v);
            if (g.num[i] < 0)
                st = gw_ctx_error(e->p.ctx, GW_ERR_RANGE, "attributes: %s must not be negative", k);
        } else if (f[i].type == GW_FT_TEXT && json_is_string(v)) {
            const char *why = gw_layer_juris_level(GW_LAYER_GRIDS, k)
                                  ? gw_juris_name_problem(json_string_value(v))
                                  : NULL;
            if (why)
                st = gw_ctx_error(e->p.ctx, GW_ERR_RANGE, "attributes: %s '%.60s': %s", k,
                                  json_string_value(v), why);
            else if (!(g.text[i] = strdup(json_string_value(v))))
                st = gw_ctx_error(e->p.ctx, GW_ERR_NOMEM, "out of memory");
        } else {
            st = gw_ctx_error(e->p.ctx, GW_ERR_ARG, "attributes: %s expects %s", k,
                              f[i].type == GW_FT_INT ? "an integer" : "a string");
        }
    }
    if (!st) st = pe_put_grid(e, &g);
    pl_grid_clear(&e->p, &g);
    return st;
}

gw_status gw_plan_edit(gw_store *s, int64_t draft, const char *json, size_t len, const char *who,
                       char **result)
{
    return gw_plan_edit_checked(s, draft, json, len, who, NULL, NULL, result);
}

gw_status gw_plan_edit_checked(gw_store *s, int64_t draft, const char *json, size_t len,
                               const char *who, gw_plan_check_fn check, void *check_user,
                               char **result)
{
    if (result) *result = NULL;
    if (!s || !json) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    json_error_t jerr;
    json_t *edit = json_loadb(json, len, 0, &jerr);
    if (!edit)
        return gw_ctx_error_at(ctx, GW_ERR_FORMAT, jerr.position,
                               "edit: malformed JSON at line %d, column %d (byte %d): %s",
                               jerr.line, jerr.column, jerr.position, jerr.text);
    const char *op = json_string_value(json_object_get(edit, "op"));
    static const struct {
        const char *name;
        gw_status (*fn)(ectx *, json_t *);
    } ops[] = {{"split", ed_split},
               {"merge", ed_merge},
               {"move_boundary", ed_move},
               {"reassign", ed_reassign},
               {"attributes", ed_attributes}};
    size_t k = 0;
    while (op && k < sizeof ops / sizeof ops[0] && strcmp(ops[k].name, op) != 0) k++;
    if (!op || k == sizeof ops / sizeof ops[0]) {
        gw_status st = gw_ctx_error(ctx, GW_ERR_ARG,
                                    "edit: 'op' must be split, merge, "
                                    "move_boundary, reassign or attributes%s%s",
                                    op ? ", not " : "", op ? op : "");
        json_decref(edit);
        return st;
    }
    ectx e = {.draft = draft};
    gw_status st = pl_open(s, &e.p);
    if (st) {
        json_decref(edit);
        return st;
    }
    e.changed = json_array();
    e.deleted = json_array();
    if (!(st = gw_store_begin(s))) {
        gw_plan_draft d;
        int64_t edits = 0;
        st = gw_plan_draft_get(s, draft, &d);
        if (!st && strcmp(d.status, "open") != 0)
            st = gw_ctx_error(ctx, GW_ERR_CONFLICT,
                              "draft %lld is already published (version "
                              "%lld); make a new draft",
                              (long long)draft, (long long)d.published_version);
        e.base = d.base_version;
        if (!st) st = ops[k].fn(&e, edit);
        if (!st && ops[k].fn != ed_attributes) st = pe_share_pass(&e);
        if (!st && check && check(check_user, s, draft)) /* the caller's refusal */
            st = gw_ctx_error(ctx, GW_ERR_CONFLICT, "refused by the caller's check");
        if (!st && !(st = gw_store_plan_draft_touch(s, draft))) edits = d.edits + 1;
        json_t *res = json_object();
        json_object_set_new(res, "op", json_string(op));
        json_object_set_new(res, "draft", json_integer(draft));
        json_object_set(res, "changed", e.changed);
        json_object_set(res, "deleted", e.deleted);
        json_object_set_new(res, "edits", json_integer(edits));
        json_object_set(res, "edit", edit);
        char *detail = json_dumps(res, JSON_COMPACT);
        if (!st) st = gw_store_audit(s, who, "plan.edit", detail);
        free(detail);
        json_object_del(res, "edit");
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (result && !(*result = json_dumps(res, JSON_COMPACT)))
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        json_decref(res);
    }
    for (size_t i = 0; i < e.nw; i++) GEOSGeom_destroy_r(e.p.h, e.written[i]);
    free(e.written);
    json_decref(e.changed);
    json_decref(e.deleted);
    json_decref(edit);
    pl_close(&e.p);
    return st;
}
