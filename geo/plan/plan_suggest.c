/* plan_suggest.c — a suggested grid layout: a new draft copied from a given one and edited
 * toward an even workload, every edit through gw_plan_edit() so that it keeps the tiling whole,
 * is refused where the engine refuses it, and is audited like a planner's own edit.
 *
 * The heuristic is greedy, one edit per round, until the target's coefficient of variation
 * (CV = sd/mean over the grids, as gw_plan_balance reports it) is at or under max_cv, no
 * candidate edit lowers it, or max_edits edits were made.  Each round looks at two candidates
 * and applies the one that lowers CV² the most (both changes are exact in n, Σx, Σx²):
 *  - split the heaviest grid by a straight line perpendicular to its principal axis.  For
 *    incidents the axis is that of the largest spread of its incidents (their covariance) and
 *    the line goes through their centroid or one of a few quantiles of their projections on
 *    the axis (0.35 … 0.65); the two halves' loads are counted exactly (a point's side of a
 *    straight line is its side of the cut, the pieces being the grid on each side), and the
 *    offset that balances them best wins.  For population there are no points: population per
 *    grid is one number, and a split apportions it by area (gw_plan_edit does so), so the
 *    axis is the geometry's long axis (second moments of its area) and the line halves the
 *    area (bisection), i.e. the assumption is that people are spread evenly over the grid.
 *    Offsets whose pieces are not two single polygons, or have a piece under 1000 m² (the
 *    validation's sliver size) or under the compactness floor, are skipped; then the other
 *    axis is tried.
 *  - merge the lightest grid with its lightest neighbour: a grid sharing a boundary of
 *    positive length with it (DE-9IM boundary ∩ boundary of dimension 1), of the same
 *    township and village when both carry one, when the merged load stays below the mean and the merged
 *    grid's Polsby–Popper compactness 4πA/P² stays at or over the floor (0.2 by default).
 * A candidate the engine refuses is skipped (marked, and the next one tried).  Incident loads
 * are those of gw_plan_balance: the incidents of the last 365 days by their resolved grid for
 * grids the draft did not change, point in polygon for grids it changed.
 *
 * Lines are built in a local equirectangular frame (x = Δlon·k_x, y = Δlat·k_y), an affine map
 * of lon/lat: a straight line there is straight in the stored EPSG:4326 too, so the side tests
 * done in the frame are the side tests of the cut the engine makes. */
#include "plan_suggest.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- grids and loads ----------------------------------------------------------------------- */

static void grid_free(sg *S, sg_grid *g)
{
    free(g->id);
    free(g->township);
    free(g->village);
    if (g->g) GEOSGeom_destroy_r(S->p.h, g->g);
    memset(g, 0, sizeof *g);
}

static void sg_free(sg *S)
{
    for (size_t i = 0; i < S->n; i++) grid_free(S, &S->g[i]);
    free(S->g);
    S->g = NULL, S->n = S->cap = 0;
    gw_store_plan_incidents_close(S->s, S->pts);
    S->pts = NULL;
}

/* Take over a loaded grid's id, township, village and geometry into *out (the pl_grid loses them). */
static gw_status adopt(sg *S, pl_grid *src, sg_grid *out)
{
    memset(out, 0, sizeof *out);
    out->id = src->text[0], src->text[0] = NULL;
    out->township = src->text[2], src->text[2] = NULL;
    int vi = gw_layer_field_index(GW_LAYER_GRIDS, "village");
    if (vi > 0 && vi < PL_NF) out->village = src->text[vi], src->text[vi] = NULL;
    out->g = src->g, src->g = NULL;
    out->alive = 1;
    out->load = S->incidents ? 0 : (src->null[4] ? 0 : (double)src->num[4]);
    if (!GEOSGeom_getExtent_r(S->p.h, out->g, &out->x0, &out->y0, &out->x1, &out->y1))
        return pl_geos_fail(&S->p, "grid extent");
    return GW_OK;
}

static sg_grid *push(sg *S)
{
    if (S->n == S->cap) {
        size_t cap = S->cap ? S->cap * 2 : 256;
        sg_grid *ng = realloc(S->g, cap * sizeof *ng);
        if (!ng) return NULL;
        S->g = ng, S->cap = cap;
    }
    memset(&S->g[S->n], 0, sizeof S->g[0]);
    return &S->g[S->n++];
}

static sg_grid *find(sg *S, const char *id)
{
    for (size_t i = 0; i < S->n; i++)
        if (S->g[i].alive && strcmp(S->g[i].id, id) == 0) return &S->g[i];
    return NULL;
}

/* Keeping the incidents of a box that lie inside a prepared grid (grid_points). */
typedef struct pts_ctx {
    sg *S;
    const GEOSPreparedGeometry *pg;
    pts *out;
} pts_ctx;

static gw_status pts_add(void *user, double x, double y, const char *category)
{
    pts_ctx *c = user;
    sg *S = c->S;
    pts *out = c->out;
    (void)category;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(S->p.h, x, y);
    if (!pt) return pl_geos_fail(&S->p, "making a point");
    gw_status st = GW_OK;
    if (GEOSPreparedIntersects_r(S->p.h, c->pg, pt) == 1) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 256;
            double *nxy = realloc(out->xy, cap * 2 * sizeof *nxy);
            if (!nxy) st = gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
            else out->xy = nxy, out->cap = cap;
        }
        if (!st) out->xy[2 * out->n] = x, out->xy[2 * out->n + 1] = y, out->n++;
    }
    GEOSGeom_destroy_r(S->p.h, pt);
    return st;
}

/* The incidents of the window inside grid geometry g (point in polygon over the R*Tree). */
static gw_status grid_points(sg *S, const GEOSGeometry *g, pts *out)
{
    out->n = 0;
    double x0, y0, x1, y1;
    if (!GEOSGeom_getExtent_r(S->p.h, g, &x0, &y0, &x1, &y1)) return pl_geos_fail(&S->p, "extent");
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(S->p.h, g);
    if (!pg) return pl_geos_fail(&S->p, "prepare");
    pts_ctx c = {S, pg, out};
    gw_bbox box = {x0, y0, x1, y1};
    gw_status st = gw_store_plan_incidents_in(S->s, S->pts, &box, pts_add, &c);
    GEOSPreparedGeom_destroy_r(S->p.h, pg);
    return st;
}

/* How many of the points lie in g. */
static gw_status count_in(sg *S, const GEOSGeometry *g, const pts *P, double *n)
{
    *n = 0;
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(S->p.h, g);
    if (!pg) return pl_geos_fail(&S->p, "prepare");
    for (size_t i = 0; i < P->n; i++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(S->p.h, P->xy[2 * i], P->xy[2 * i + 1]);
        if (!pt) {
            GEOSPreparedGeom_destroy_r(S->p.h, pg);
            return pl_geos_fail(&S->p, "making a point");
        }
        if (GEOSPreparedIntersects_r(S->p.h, pg, pt) == 1) (*n)++;
        GEOSGeom_destroy_r(S->p.h, pt);
    }
    GEOSPreparedGeom_destroy_r(S->p.h, pg);
    return GW_OK;
}

typedef struct id_ix {
    const char *id;
    size_t i;
} id_ix;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const id_ix *)a)->id, ((const id_ix *)b)->id);
}

/* An unchanged grid's load: its incidents by their resolved grid (load_state). */
typedef struct count_ctx {
    sg *S;
    id_ix *ix;
} count_ctx;

static gw_status count_add(void *user, const char *grid, const char *category, int64_t n)
{
    count_ctx *c = user;
    (void)category;
    id_ix key = {grid, 0};
    id_ix *hit = grid ? bsearch(&key, c->ix, c->S->n, sizeof *c->ix, cmp_id) : NULL;
    if (hit) c->S->g[hit->i].load = (double)n;
    return GW_OK;
}

/* A changed grid's load: the window's incidents inside it (load_state). */
typedef struct changed_ctx {
    sg *S;
    pts *P;
} changed_ctx;

static gw_status changed_load(void *user, const char *id, int deleted, int in_base)
{
    changed_ctx *c = user;
    (void)in_base;
    sg_grid *g = deleted ? NULL : find(c->S, id);
    if (!g) return GW_OK;
    gw_status st = grid_points(c->S, g->g, c->P);
    if (!st) g->load = (double)c->P->n;
    return st;
}

/* Load the draft's grids and their loads as gw_plan_balance counts them. */
static gw_status load_state(sg *S, int64_t draft)
{
    pl_set set;
    gw_status st = pl_load_draft(&S->p, draft, &set, NULL);
    if (st) return st;
    S->g = calloc(set.n + 1, sizeof *S->g);
    S->cap = set.n + 1;
    if (!S->g) st = gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < set.n; i++)
        if (!(st = adopt(S, &set.g[i], &S->g[i]))) S->n++;
    pl_set_free(&S->p, &set);
    if (st || !S->incidents) return st;

    /* the window: the last 365 days of the incidents layer */
    char to[32];
    if ((st = gw_store_plan_incident_window(S->s, S->from, to, sizeof S->from))) return st;
    if ((st = gw_store_plan_incidents_open(S->s, S->from, &S->pts))) return st;

    /* unchanged grids: by the incidents' resolved grid */
    count_ctx cc = {S, malloc((S->n + 1) * sizeof *cc.ix)};
    if (!cc.ix) return gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < S->n; i++) cc.ix[i] = (id_ix){S->g[i].id, i};
    qsort(cc.ix, S->n, sizeof *cc.ix, cmp_id);
    st = gw_store_plan_incident_counts(S->s, S->from, 0, count_add, &cc);
    free(cc.ix);
    if (st) return st;

    /* grids the draft changed: point in polygon */
    pts P = {0};
    changed_ctx ch = {S, &P};
    st = gw_store_plan_draft_changes(S->s, draft, 0, changed_load, &ch);
    free(P.xy);
    return st;
}

/* n, Σx, Σx² over the live grids. */
static void moments(const sg *S, double *n, double *sum, double *sq)
{
    *n = *sum = *sq = 0;
    for (size_t i = 0; i < S->n; i++)
        if (S->g[i].alive) *n += 1, *sum += S->g[i].load, *sq += S->g[i].load * S->g[i].load;
}

/* CV as gw_plan_balance computes it. */
static double cv_of(double n, double sum, double sq)
{
    if (n <= 0) return 0;
    double mean = sum / n, var = fmax(0, sq / n - mean * mean);
    return mean > 0 ? sqrt(var) / mean : 0;
}

/* 1 + CV² = n Σx² / (Σx)², the quantity each edit is scored by. */
static double spread(double n, double sum, double sq) { return sum > 0 ? n * sq / (sum * sum) : 0; }

/* ---- candidates ---------------------------------------------------------------------------- */

static int near_box(const sg_grid *a, const sg_grid *b)
{
    return a->x0 <= b->x1 && b->x0 <= a->x1 && a->y0 <= b->y1 && b->y0 <= a->y1;
}

/* The lightest grid's lightest neighbour to merge with (see the file header); *j = SIZE_MAX
 * when grid i has none. */
static gw_status plan_merge(sg *S, size_t i, double mean, size_t *j)
{
    *j = SIZE_MAX;
    sg_grid *a = &S->g[i];
    size_t *cand = NULL, nc = 0, cc = 0;
    gw_status st = GW_OK;
    for (size_t k = 0; k < S->n; k++) {
        sg_grid *b = &S->g[k];
        if (k == i || !b->alive || !near_box(a, b)) continue;
        if (a->township && b->township && strcmp(a->township, b->township) != 0) continue;
        if (a->village && b->village && strcmp(a->village, b->village) != 0) continue;
        if (a->load + b->load >= mean) continue;
        char rel = GEOSRelatePattern_r(S->p.h, a->g, b->g, "****1****");
        if (rel == 2) return pl_geos_fail(&S->p, "relate");
        if (rel != 1) continue;
        if (nc == cc) {
            size_t *n2 = realloc(cand, (cc = cc ? cc * 2 : 16) * sizeof *n2);
            if (!n2) {
                free(cand);
                return gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
            }
            cand = n2;
        }
        cand[nc++] = k;
    }
    /* lightest first (ties: id order, so runs repeat) */
    for (size_t x = 1; x < nc; x++)
        for (size_t y = x; y > 0; y--) {
            sg_grid *p = &S->g[cand[y - 1]], *q = &S->g[cand[y]];
            if (p->load < q->load || (p->load == q->load && strcmp(p->id, q->id) <= 0)) break;
            size_t t = cand[y - 1];
            cand[y - 1] = cand[y], cand[y] = t;
        }
    for (size_t x = 0; !st && x < nc && *j == SIZE_MAX; x++) {
        GEOSGeometry *two[2] = {a->g, S->g[cand[x]].g};
        GEOSGeometry *u = pl_union(&S->p, two, 2);
        if (!u) {
            st = pl_geos_fail(&S->p, "merge (union)");
            break;
        }
        const GEOSGeometry *one = sgs_single(S, u);
        if (one && sgs_compactness(S, one, NULL) >= S->floor_pp) *j = cand[x];
        GEOSGeom_destroy_r(S->p.h, u);
    }
    free(cand);
    return st;
}

/* ---- applying edits ------------------------------------------------------------------------ */

/* Read grid `id` of the new draft into slot g (replacing what it held). */
static gw_status reload(sg *S, const char *id, sg_grid *g)
{
    /* every grid an edit returns has a row of its own in the draft: no base version needed */
    pl_grid row;
    gw_status st = pl_draft_grid(&S->p, S->draft, 0, id, &row);
    if (st) return st;
    double load = g->load;
    grid_free(S, g);
    st = adopt(S, &row, g);
    if (S->incidents) g->load = load;
    pl_grid_clear(&S->p, &row);
    return st;
}

/* Clear the merge marks of grids near a changed area: they may have new neighbours. */
static void touch(sg *S, const sg_grid *c)
{
    for (size_t k = 0; k < S->n; k++)
        if (S->g[k].alive && near_box(&S->g[k], c)) S->g[k].nomerge = 0;
}

/* Run one edit through the engine.  *refused = 1 (and GW_OK) when the engine refused it. */
static gw_status run_edit(sg *S, json_t *edit, json_t **res, int *refused)
{
    *res = NULL, *refused = 0;
    char *text = json_dumps(edit, JSON_COMPACT);
    if (!text) return gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    char *out = NULL;
    gw_status st = gw_plan_edit(S->s, S->draft, text, strlen(text), S->who, &out);
    free(text);
    if (st == GW_ERR_GEOMETRY || st == GW_ERR_ARG) {
        gw_ctx_clear_error(S->p.ctx);
        *refused = 1;
        return GW_OK;
    }
    if (st) return st;
    *res = json_loads(out, 0, NULL);
    free(out);
    return *res ? GW_OK
                : gw_ctx_error(S->p.ctx, GW_ERR_INTERNAL, "suggest: unreadable edit result");
}

static const char *unit(const sg *S) { return S->incidents ? "incidents" : "people"; }

static gw_status apply_split(sg *S, size_t i, const split_plan *sp, const pts *P, double mean,
                             json_t *log, int *refused)
{
    sg_grid *g = &S->g[i];
    char *gid = strdup(g->id);
    if (!gid) return gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    json_t *edit = json_pack("{ss ss s{ss s[[ff][ff]]}}", "op", "split", "grid", gid, "line",
                             "type", "LineString", "coordinates", sp->ax, sp->ay, sp->bx, sp->by);
    json_t *res = NULL;
    gw_status st = edit ? run_edit(S, edit, &res, refused)
                        : gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    json_decref(edit);
    double before = g->load;
    json_t *into = json_array();
    size_t k;
    json_t *v;
    json_array_foreach (st || *refused ? NULL : json_object_get(res, "changed"), k, v) {
        const char *id = json_string_value(v);
        sg_grid *t = find(S, id);
        /* The two pieces are the split grid and the new one; other grids in "changed" are
         * neighbours that only received the cut's vertices: new geometry, same load. */
        int piece = !t || strcmp(id, gid) == 0;
        if (!t) {
            if (!(t = push(S))) {
                st = gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            g = &S->g[i]; /* push may have moved the array */
        }
        if ((st = reload(S, id, t))) break;
        if (piece && S->incidents && (st = count_in(S, t->g, P, &t->load))) break;
        touch(S, t);
        if (piece) json_array_append_new(into, json_string(id));
    }
    if (!st && !*refused) {
        char why[200];
        snprintf(why, sizeof why, "heaviest: %.0f %s vs mean %.0f", before, unit(S), mean);
        json_t *loads = json_array();
        for (size_t x = 0; x < json_array_size(into); x++) {
            sg_grid *t = find(S, json_string_value(json_array_get(into, x)));
            json_array_append_new(loads, json_real(t ? round(t->load) : 0));
        }
        json_array_append_new(log, json_pack("{ss ss sO so ss s{ss s[[ff][ff]]}}", "op", "split",
                                             "grid", gid, "into", into, "loads", loads, "reason",
                                             why, "line", "type", "LineString", "coordinates",
                                             sp->ax, sp->ay, sp->bx, sp->by));
    }
    json_decref(into);
    json_decref(res);
    free(gid);
    return st;
}

static gw_status apply_merge(sg *S, size_t i, size_t j, double mean, json_t *log, int *refused)
{
    json_t *edit = json_pack("{ss s[ss]}", "op", "merge", "grids", S->g[i].id, S->g[j].id);
    json_t *res = NULL;
    gw_status st = edit ? run_edit(S, edit, &res, refused)
                        : gw_ctx_error(S->p.ctx, GW_ERR_NOMEM, "out of memory");
    json_decref(edit);
    if (st || *refused) return st;
    double la = S->g[i].load, lb = S->g[j].load;
    char why[240];
    snprintf(why, sizeof why,
             "lightest: %.0f %s, merged with its lightest neighbour (%.0f) into "
             "%.0f vs mean %.0f",
             la, unit(S), lb, la + lb, mean);
    json_array_append_new(log, json_pack("{ss s[ss] ss sf ss}", "op", "merge", "grids", S->g[i].id,
                                         S->g[j].id, "into", S->g[i].id, "load", round(la + lb),
                                         "reason", why));
    S->g[j].alive = 0;
    st = reload(S, S->g[i].id, &S->g[i]);
    if (!st && S->incidents) S->g[i].load = la + lb;
    if (!st) touch(S, &S->g[i]);
    json_decref(res);
    return st;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static gw_status suggest(sg *S, double max_cv, int max_edits, json_t *log, const char **stopped)
{
    pts P = {0};
    gw_status st = GW_OK;
    int made = 0;
    *stopped = "max_edits";
    while (!st && made < max_edits) {
        double n, sum, sq;
        moments(S, &n, &sum, &sq);
        if (cv_of(n, sum, sq) <= max_cv) {
            *stopped = "target";
            break;
        }
        double mean = sum / n, F = spread(n, sum, sq), Fs = INFINITY, Fm = INFINITY;
        /* the split candidate: the heaviest grid that can be split */
        size_t si = SIZE_MAX;
        split_plan sp = {0};
        for (int t = 0; !st && t < SG_TRIES; t++) {
            size_t h = SIZE_MAX;
            for (size_t k = 0; k < S->n; k++)
                if (S->g[k].alive && !S->g[k].nosplit && S->g[k].load > 0 &&
                    (h == SIZE_MAX || S->g[k].load > S->g[h].load))
                    h = k;
            if (h == SIZE_MAX || S->g[h].load <= mean) break;
            if (S->incidents) st = grid_points(S, S->g[h].g, &P);
            if (!st) st = sgs_plan_split(S, &S->g[h], &P, &sp);
            if (st) break;
            if (!sp.ok) {
                S->g[h].nosplit = 1;
                continue;
            }
            double L = S->g[h].load, s2 = sum - L + sp.l1 + sp.l2;
            Fs = spread(n + 1, s2, sq - L * L + sp.l1 * sp.l1 + sp.l2 * sp.l2);
            si = h;
            break;
        }
        /* the merge candidate: the lightest grid with a neighbour to merge with */
        size_t mi = SIZE_MAX, mj = SIZE_MAX;
        for (int t = 0; !st && t < SG_TRIES; t++) {
            size_t l = SIZE_MAX;
            for (size_t k = 0; k < S->n; k++)
                if (S->g[k].alive && !S->g[k].nomerge &&
                    (l == SIZE_MAX || S->g[k].load < S->g[l].load))
                    l = k;
            if (l == SIZE_MAX || S->g[l].load >= mean) break;
            if ((st = plan_merge(S, l, mean, &mj))) break;
            if (mj == SIZE_MAX) {
                S->g[l].nomerge = 1;
                continue;
            }
            double a = S->g[l].load, b = S->g[mj].load;
            Fm = spread(n - 1, sum, sq + 2 * a * b);
            mi = l;
            break;
        }
        if (st) break;
        int do_split = si != SIZE_MAX && Fs < F * (1 - 1e-12) && Fs <= Fm;
        int do_merge = !do_split && mi != SIZE_MAX && Fm < F * (1 - 1e-12);
        if (!do_split && !do_merge) {
            *stopped = "no edit helps";
            break;
        }
        int refused = 0;
        if (do_split) {
            st = apply_split(S, si, &sp, &P, mean, log, &refused);
            if (!st && refused) S->g[si].nosplit = 1;
        } else {
            st = apply_merge(S, mi, mj, mean, log, &refused);
            if (!st && refused) S->g[mi].nomerge = 1;
        }
        if (!st && !refused) made++;
    }
    if (!st && made >= max_edits) {
        double n, sum, sq;
        moments(S, &n, &sum, &sq);
        if (cv_of(n, sum, sq) <= max_cv) *stopped = "target";
    }
    free(P.xy);
    return st;
}

/* ---- the new draft ------------------------------------------------------------------------- */

/* "<name> – suggestion", the name cut at a UTF-8 boundary to fit. */
static void suggestion_name(const char *name, char *out, size_t cap)
{
    static const char suffix[] = " \xe2\x80\x93 suggestion";
    size_t keep = strlen(name), room = cap - sizeof suffix;
    if (keep > room) {
        keep = room;
        while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80) keep--;
    }
    snprintf(out, cap, "%.*s%s", (int)keep, name, suffix);
}

/* Copy the base draft's changed rows into the new draft, under the write lock. */
static gw_status copy_rows(sg *S, const gw_plan_draft *base)
{
    gw_status st = gw_store_begin(S->s);
    if (st) return st;
    gw_plan_draft nd;
    if (!(st = gw_plan_draft_get(S->s, S->draft, &nd)) && nd.base_version != base->base_version)
        st = gw_ctx_error(S->p.ctx, GW_ERR_CONFLICT,
                          "draft %lld is based on grid version %lld "
                          "but version %lld is published; make a new draft",
                          (long long)base->id, (long long)base->base_version,
                          (long long)nd.base_version);
    if (!st) st = gw_store_plan_draft_copy(S->s, S->draft, base->id);
    if (!st) st = gw_store_commit(S->s);
    if (st) gw_store_rollback(S->s);
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

gw_status gw_plan_suggest(gw_store *s, int64_t draft, const gw_plan_suggest_opts *opts,
                          char **json_out)
{
    if (json_out) *json_out = NULL;
    if (!s || !opts || !json_out) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    double t0 = now_s();
    const char *target = opts->target ? opts->target : "";
    if (strcmp(target, "incidents") != 0 && strcmp(target, "population") != 0)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "suggest: target must be incidents or population, "
                            "not '%s'",
                            target);
    if (!(opts->max_cv >= 0) || !isfinite(opts->max_cv))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "suggest: max_cv must be a number >= 0");
    if (opts->max_edits < 1 || opts->max_edits > SG_MAX_EDITS)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "suggest: max_edits must be 1 to %d", SG_MAX_EDITS);
    if (!(opts->min_compactness >= 0 && opts->min_compactness < 1))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "suggest: min_compactness must be in [0, 1)");
    gw_plan_draft base;
    gw_status st = gw_plan_draft_get(s, draft, &base);
    if (st) return st;
    sg S = {.s = s, .incidents = target[0] == 'i', .who = opts->who ? opts->who : "gridwatch"};
    S.floor_pp = opts->min_compactness > 0 ? opts->min_compactness : SG_COMPACT_FLOOR;
    if ((st = pl_open(s, &S.p))) return st;
    int64_t cur = 0;
    st = gw_store_grid_version(s, &cur);
    if (!st && base.base_version != cur)
        st = gw_ctx_error(ctx, GW_ERR_CONFLICT,
                          "draft %lld is based on grid version %lld but "
                          "version %lld is published; make a new draft",
                          (long long)draft, (long long)base.base_version, (long long)cur);
    char name[sizeof base.name];
    suggestion_name(base.name, name, sizeof name);
    if (!st) st = gw_plan_draft_create(s, name, S.who, &S.draft);
    int made = !st;
    if (!st) st = copy_rows(&S, &base);
    if (!st) st = load_state(&S, S.draft);
    double n0 = 0, s0 = 0, q0 = 0, n1 = 0, s1 = 0, q1 = 0;
    json_t *log = json_array();
    const char *stopped = "";
    if (!st) {
        moments(&S, &n0, &s0, &q0);
        st = suggest(&S, opts->max_cv, opts->max_edits, log, &stopped);
    }
    json_t *doc = NULL;
    if (!st) {
        moments(&S, &n1, &s1, &q1);
        doc = json_pack("{sI sI ss sf sf sf sI sI ss sf sO}", "draft", (json_int_t)S.draft,
                        "base_draft", (json_int_t)draft, "target", target, "max_cv", opts->max_cv,
                        "cv_before", cv_of(n0, s0, q0), "cv_after", cv_of(n1, s1, q1),
                        "grids_before", (json_int_t)n0, "grids_after", (json_int_t)n1, "stopped",
                        stopped, "seconds", now_s() - t0, "edits", log);
        char detail[400];
        snprintf(detail, sizeof detail,
                 "{\"draft\":%lld,\"base_draft\":%lld,\"target\":\"%s\","
                 "\"cv_before\":%.6f,\"cv_after\":%.6f,\"edits\":%zu,\"stopped\":\"%s\"}",
                 (long long)S.draft, (long long)draft, target, cv_of(n0, s0, q0), cv_of(n1, s1, q1),
                 json_array_size(log), stopped);
        if (!doc) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        if (!st && !(st = gw_store_begin(s))) {
            st = gw_store_audit(s, S.who, "plan.suggest", detail);
            if (!st) st = gw_store_commit(s);
            if (st) gw_store_rollback(s);
        }
        if (!st && !(*json_out = json_dumps(doc, JSON_COMPACT)))
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    json_decref(doc);
    json_decref(log);
    sg_free(&S);
    pl_close(&S.p);
    if (st && made && S.draft > 0) {
        /* keep the first failure's message, drop the half-made suggestion */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", gw_ctx_errmsg(ctx));
        gw_plan_draft_delete(s, S.draft, S.who);
        gw_ctx_error(ctx, st, "%s", msg);
    }
    return st;
}
