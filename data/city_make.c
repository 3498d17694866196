/* city_make.c — the synthetic city's features: towns, grids (Voronoi cells clipped to counties),
 * police rooms, teams, cameras and a year of incidents with planted hot spots. */
#include "city_internal.h"

#include <cpl_error.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const syll[] = {"安", "兴", "丰", "和", "平", "新", "庄", "集", "店", "桥",
                                   "李", "王", "张", "刘", "陈", "黄", "楼", "河", "营", "寨",
                                   "屯", "堌", "沙", "马", "吕", "高", "孙", "胡", "潘", "大",
                                   "南", "北", "东", "西", "龙", "凤", "梁", "郭", "田", "杨"};
static const char *const surnames[] = {"李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "磊", "强", "军", "洋",   "勇",
                                    "艳", "杰", "涛", "明", "超", "霞", "平", "刚", "桂英", "建华"};
static const char *const roads[] = {"人民路", "中华路", "和平路", "解放路", "长江路",
                                    "黄河路", "牡丹路", "建设路", "青年路", "府前街"};
const char *const city_cat_names[NCAT] = {"theft",     "dispute", "traffic", "fraud", "burglary",
                                          "vandalism", "assault", "drugs",   "other"};
static const double cat_w[NCAT] = {28, 18, 16, 12, 8, 7, 6, 3, 2};
static const char *const cat_desc[NCAT] = {"财物被盗", "邻里纠纷", "交通事故",
                                           "电信诈骗", "入室盗窃", "故意损毁财物",
                                           "殴打他人", "涉毒线索", "其他警情"};
static const double hour_w[24] = {2,   1.5, 1, .8,  .7,  .8,  1.2, 2,   3,   3.5, 3.8, 4,
                                  4.2, 4,   4, 4.2, 4.6, 5.2, 6,   6.4, 6.2, 5.4, 4.2, 3};
static const double sev_w[5] = {40, 28, 18, 9, 5};

/* ---- towns: county seats plus townships ---- */
static void town_name(rng *r, char *buf, size_t cap)
{
    double u = rng_u(r);
    snprintf(buf, cap, "%s%s%s", syll[rng_int(r, N(syll))], syll[rng_int(r, N(syll))],
             u < 0.6   ? "镇"
             : u < 0.9 ? "乡"
                       : "街道");
}

gw_status city_make_towns(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 2);
    long per = lround(15 * sqrt(scale));
    per = per < 2 ? 2 : per > 30 ? 30 : per;
    if (!(c->towns = calloc((size_t)c->ncty * (per + 1), sizeof *c->towns))) return city_nomem(c);
    for (int k = 0; k < c->ncty; k++) {
        county *ct = &c->cty[k];
        ct->town0 = c->ntown;
        double dmin = 0.4 * sqrt(ct->area / (per + 1));
        for (int i = 0; i <= per; i++) {
            town *t = &c->towns[c->ntown];
            t->county = k;
            if (i == 0) {
                city_inner_point(c, ct->g, &ct->sh, &t->x, &t->y);
                t->w = 6 * rng_uni(&r, 0.8, 1.2), t->sigma = rng_uni(&r, 2200, 3200);
                snprintf(t->name, sizeof t->name, "城关街道");
            } else {
                for (int a = 0; a < 200; a++) {
                    city_sample_in(c, &ct->sh, &r, c->towns[ct->town0].x, c->towns[ct->town0].y,
                                   &t->x, &t->y);
                    int ok = 1;
                    for (int j = ct->town0; ok && j < c->ntown; j++)
                        ok = hypot(t->x - c->towns[j].x, t->y - c->towns[j].y) >= dmin;
                    if (ok) break;
                }
                t->w = exp(0.5 * rng_normal(&r)), t->sigma = rng_uni(&r, 700, 1500);
                for (int a = 0, dup = 1; dup; a++) {
                    town_name(&r, t->name, sizeof t->name);
                    dup = 0;
                    for (int j = ct->town0; !dup && j < c->ntown; j++)
                        dup = !strcmp(t->name, c->towns[j].name);
                    if (dup && a > 20) snprintf(t->name, sizeof t->name, "第%d乡", i), dup = 0;
                }
            }
            c->wsum += t->w;
            c->ntown++;
        }
        ct->ntown = c->ntown - ct->town0;
    }
    return GW_OK;
}

/* People per m2 (relative): 15 % rural, 85 % in towns on a kernel narrower than the grid seeds',
 * so that town grids are both smaller and more populous than rural ones. */
static double pop_density(const city *c, double x, double y)
{
    double d = 0.15 / c->region_area;
    for (int i = 0; i < c->ntown; i++) {
        const town *t = &c->towns[i];
        double r2 = (x - t->x) * (x - t->x) + (y - t->y) * (y - t->y),
               s2 = 0.5 * t->sigma * t->sigma;
        if (r2 < 30 * s2) d += 0.85 * t->w / c->wsum * exp(-r2 / (2 * s2)) / (2 * M_PI * s2);
    }
    return d;
}

/* ---- grids: Voronoi cells of seeds (denser in towns) clipped to each county ---- */
static gw_status grids_of_county(city *c, int k, int nseed, rng *r)
{
    county *ct = &c->cty[k];
    GEOSGeometry **pts = malloc((size_t)nseed * sizeof *pts), *mp = NULL, *env = NULL, *vor = NULL;
    const GEOSPreparedGeometry *pc = GEOSPrepare_r(c->h, ct->g);
    gw_status st = pts && pc ? GW_OK : city_nomem(c);
    double tw[64];
    for (int i = 0; i < ct->ntown && i < 64; i++) tw[i] = c->towns[ct->town0 + i].w;
    for (int i = 0; !st && i < nseed; i++) {
        double x = 0, y = 0;
        int ok = 0, near_town = rng_u(r) < 0.6;
        for (int a = 0; near_town && !ok && a < 30; a++) {
            const town
                *t = &c->towns[ct->town0 + weights_pick(r, tw, ct->ntown < 64 ? ct->ntown : 64)];
            x = t->x + t->sigma * rng_normal(r), y = t->y + t->sigma * rng_normal(r);
            ok = city_shape_contains(&c->rs, &ct->sh, x, y);
        }
        if (!ok)
            city_sample_in(c, &ct->sh, r, c->towns[ct->town0].x, c->towns[ct->town0].y, &x, &y);
        if (!(pts[i] = GEOSGeom_createPointFromXY_r(c->h, x, y))) {
            for (int j = 0; j < i; j++) GEOSGeom_destroy_r(c->h, pts[j]);
            st = city_geos_fail(c, "creating a seed");
        }
    }
    if (!st && !(mp = GEOSGeom_createCollection_r(c->h, GEOS_MULTIPOINT, pts, (unsigned)nseed)))
        st = city_geos_fail(c, "collecting seeds");
    if (!st)
        env = GEOSGeom_createRectangle_r(c->h, ct->sh.bb.minx - 2000, ct->sh.bb.miny - 2000,
                                         ct->sh.bb.maxx + 2000, ct->sh.bb.maxy + 2000);
    if (!st && !(vor = GEOSVoronoiDiagram_r(c->h, mp, env, 0.0, 0)))
        st = city_geos_fail(c, "Voronoi diagram");
    int ncell = st ? 0 : GEOSGetNumGeometries_r(c->h, vor);
    for (int j = 0; !st && j < ncell; j++) {
        const GEOSGeometry *cell = GEOSGetGeometryN_r(c->h, vor, j);
        GEOSGeometry *g = GEOSPreparedContains_r(c->h, pc, cell) == 1
                              ? GEOSGeom_clone_r(c->h, cell)
                              : city_polygonal(c->h, GEOSIntersection_r(c->h, cell, ct->g));
        if (!g) continue; /* a cell that only touches the county */
        grid *gr = &c->grids[c->ngrid++];
        memset(gr, 0, sizeof *gr);
        gr->g = g;
        gr->county = k;
        GEOSArea_r(c->h, g, &gr->area);
        if ((st = city_shape_from(c, g, &gr->sh))) break;
        city_inner_point(c, g, &gr->sh, &gr->cx, &gr->cy);
        double best = INFINITY;
        for (int t = ct->town0; t < ct->town0 + ct->ntown; t++) {
            double d = hypot(gr->cx - c->towns[t].x, gr->cy - c->towns[t].y);
            if (d < best) best = d, gr->town = t;
        }
        gr->praw = pop_density(c, gr->cx, gr->cy) * gr->area * exp(0.25 * rng_normal(r));
    }
    if (pc) GEOSPreparedGeom_destroy_r(c->h, pc);
    if (mp) GEOSGeom_destroy_r(c->h, mp);
    if (env) GEOSGeom_destroy_r(c->h, env);
    if (vor) GEOSGeom_destroy_r(c->h, vor);
    free(pts);
    return st;
}

static int grid_cmp(const void *a, const void *b)
{
    const grid *x = a, *y = b;
    if (x->county != y->county) return x->county - y->county;
    if (x->town != y->town) return x->town - y->town;
    if (x->cy != y->cy) return x->cy > y->cy ? -1 : 1;
    if (x->cx != y->cx) return x->cx < y->cx ? -1 : 1;
    return x->order - y->order;
}

gw_status city_make_grids(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 3);
    long total = lround(CITY_GRIDS * scale);
    if (total < c->ncty) total = c->ncty;
    if (!(c->grids = calloc((size_t)total, sizeof *c->grids))) return city_nomem(c);
    int *ns = calloc((size_t)c->ncty, sizeof *ns);
    double *rem = calloc((size_t)c->ncty, sizeof *rem);
    if (!ns || !rem) return free(ns), free(rem), city_nomem(c);
    long given_n = 0; /* seeds per county by area, largest remainder, at least one */
    for (int k = 0; k < c->ncty; k++) {
        double q = (double)(total - c->ncty) * c->cty[k].area / c->region_area;
        ns[k] = 1 + (int)floor(q), rem[k] = q - floor(q), given_n += ns[k];
    }
    while (given_n < total) {
        int best = 0;
        for (int k = 1; k < c->ncty; k++)
            if (rem[k] > rem[best]) best = k;
        ns[best]++, rem[best] = -1, given_n++;
    }
    gw_status st = GW_OK;
    for (int k = 0; !st && k < c->ncty; k++) {
        st = grids_of_county(c, k, ns[k], &r);
        city_progress(c, "grids", c->ngrid, (double)total * 2);
    }
    free(ns);
    free(rem);
    if (st) return st;
    for (int i = 0; i < c->ngrid; i++) c->grids[i].order = i;
    qsort(c->grids, (size_t)c->ngrid, sizeof *c->grids, grid_cmp);
    /* the shapes index the ringset and moved with their grids; ids count within a township */
    double praw = 0, target = CITY_POPULATION * scale;
    for (int i = 0; i < c->ngrid; i++) praw += c->grids[i].praw;
    if (!(c->popcum = malloc((size_t)c->ngrid * sizeof *c->popcum))) return city_nomem(c);
    int idx = 0;
    for (int i = 0; i < c->ngrid; i++) {
        grid *g = &c->grids[i];
        idx = i > 0 && g->town == c->grids[i - 1].town ? idx + 1 : 1;
        snprintf(g->id, sizeof g->id, "%.4s%s-%03d-%04d", c->pfx, c->cty[g->county].code,
                 g->town - c->cty[g->county].town0 + 1, idx);
        snprintf(g->name, sizeof g->name, "%s第%03d网格", c->towns[g->town].name, idx);
        g->pop = llround(g->praw / praw * target);
        if (g->pop < 20) g->pop = 20;
        c->popcum[i] = (i ? c->popcum[i - 1] : 0) + (double)g->pop;
    }
    /* bucket index over grid bboxes, about one grid per cell */
    c->mbb = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < c->ngrid; i++) {
        gw_bbox b = c->grids[i].sh.bb;
        c->mbb.minx = fmin(c->mbb.minx, b.minx), c->mbb.miny = fmin(c->mbb.miny, b.miny);
        c->mbb.maxx = fmax(c->mbb.maxx, b.maxx), c->mbb.maxy = fmax(c->mbb.maxy, b.maxy);
    }
    c->cell = sqrt(c->region_area / c->ngrid);
    c->bx = (int)((c->mbb.maxx - c->mbb.minx) / c->cell) + 1;
    c->by = (int)((c->mbb.maxy - c->mbb.miny) / c->cell) + 1;
    while ((double)c->bx * c->by > 4e6) c->cell *= 2, c->bx = c->bx / 2 + 1, c->by = c->by / 2 + 1;
    size_t nb = (size_t)c->bx * c->by, nitems = 0;
    if (!(c->bstart = calloc(nb + 1, sizeof *c->bstart))) return city_nomem(c);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < c->ngrid; i++) {
            gw_bbox b = c->grids[i].sh.bb;
            int x0 = (int)((b.minx - c->mbb.minx) / c->cell),
                x1 = (int)((b.maxx - c->mbb.minx) / c->cell);
            int y0 = (int)((b.miny - c->mbb.miny) / c->cell),
                y1 = (int)((b.maxy - c->mbb.miny) / c->cell);
            for (int y = y0; y <= y1 && y < c->by; y++)
                for (int x = x0; x <= x1 && x < c->bx; x++) {
                    size_t bi = (size_t)y * c->bx + x;
                    if (pass == 0) c->bstart[bi + 1]++, nitems++;
                    else c->bitems[c->bstart[bi]++] = (uint32_t)i;
                }
        }
        if (pass == 0) {
            for (size_t b = 0; b < nb; b++) c->bstart[b + 1] += c->bstart[b];
            if (!(c->bitems = malloc((nitems ? nitems : 1) * sizeof *c->bitems)))
                return city_nomem(c);
        } else { /* fill advanced each start to the next bucket's start: shift back */
            for (size_t b = nb; b > 0; b--) c->bstart[b] = c->bstart[b - 1];
            c->bstart[0] = 0;
        }
    }
    return GW_OK;
}

typedef struct node_q {
    city *c;
    int self;
    GEOSGeometry **hits;
    int n, cap;
} node_q;

static void node_cb(void *item, void *user)
{
    node_q *q = user;
    int j = (int)(intptr_t)item;
    if (j == q->self || q->c->grids[j].county == q->c->grids[q->self].county) return;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        GEOSGeometry **nh = realloc(q->hits, (size_t)q->cap * sizeof *nh);
        if (!nh) return;
        q->hits = nh;
    }
    q->hits[q->n++] = GEOSGeom_clone_r(q->c->h, q->c->grids[j].g);
}

/* Within a county the Voronoi cells share every vertex, but across a county border one grid's
 * edge may run past several neighbours' corners (a T-junction).  A straight metric edge is not
 * straight in lon/lat, so transforming vertices alone would open slivers there (~1 m wide per
 * 10 km of edge).  Snapping each border grid to its other-county neighbours inserts their
 * vertices into its edges, so both sides carry the same vertices and stay exact in lon/lat. */
gw_status city_node_grids(city *c)
{
    GEOSSTRtree *tree = GEOSSTRtree_create_r(c->h, 10);
    if (!tree) return city_nomem(c);
    for (int i = 0; i < c->ngrid; i++)
        GEOSSTRtree_insert_r(c->h, tree, c->grids[i].g, (void *)(intptr_t)i);
    node_q q = {c, 0, NULL, 0, 0};
    gw_status st = GW_OK;
    for (int i = 0; !st && i < c->ngrid; i++) {
        q.self = i, q.n = 0;
        GEOSSTRtree_query_r(c->h, tree, c->grids[i].g, node_cb, &q);
        if (q.n == 0) {
            c->grids[i].noded = GEOSGeom_clone_r(c->h, c->grids[i].g);
        } else {
            GEOSGeometry *ref = GEOSGeom_createCollection_r(c->h, GEOS_GEOMETRYCOLLECTION, q.hits,
                                                            (unsigned)q.n);
            c->grids[i].noded = ref ? GEOSSnap_r(c->h, c->grids[i].g, ref, 1e-3) : NULL;
            GEOSGeom_destroy_r(c->h, ref);
        }
        if (!c->grids[i].noded) st = city_geos_fail(c, "noding grids along county borders");
    }
    free(q.hits);
    GEOSSTRtree_destroy_r(c->h, tree);
    return st;
}

gw_status city_insert_grids(city *c)
{
    rng r;
    rng_init(&r, c->seed, 4);
    gw_inserter *ins = NULL;
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(c->h);
    gw_status st = w ? gw_store_inserter_create(c->store, GW_LAYER_GRIDS, &ins) : city_nomem(c);
    if (w) GEOSWKBWriter_setOutputDimension_r(c->h, w, 2);
    c->llbb = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; !st && i < c->ngrid; i++) {
        grid *g = &c->grids[i];
        GEOSGeometry *ll = g->noded ? gw_crs_transform_geom(c->to_ll, g->noded) : NULL;
        if (!ll) {
            st = gw_ctx_errcode(c->ctx) ? gw_ctx_errcode(c->ctx)
                                        : city_geos_fail(c, "transforming a grid");
            break;
        }
        double v[4];
        GEOSGeom_getXMin_r(c->h, ll, &v[0]), GEOSGeom_getYMin_r(c->h, ll, &v[1]);
        GEOSGeom_getXMax_r(c->h, ll, &v[2]), GEOSGeom_getYMax_r(c->h, ll, &v[3]);
        c->llbb.minx = fmin(c->llbb.minx, v[0]), c->llbb.miny = fmin(c->llbb.miny, v[1]);
        c->llbb.maxx = fmax(c->llbb.maxx, v[2]), c->llbb.maxy = fmax(c->llbb.maxy, v[3]);
        size_t len = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(c->h, w, ll, &len);
        GEOSGeom_destroy_r(c->h, ll);
        if (!wkb) {
            st = city_geos_fail(c, "writing grid WKB");
            break;
        }
        char worker[32], phone[16];
        snprintf(worker, sizeof worker, "%s%s", surnames[rng_int(&r, N(surnames))],
                 given[rng_int(&r, N(given))]);
        snprintf(phone, sizeof phone, "1%d%09d", 3 + 2 * rng_int(&r, 4) % 7,
                 rng_int(&r, 1000000000));
        int64_t hh = llround((double)g->pop / 2.8 * rng_uni(&r, 0.9, 1.1));
        gw_value vals[10] = {{GW_VAL_TEXT, g->id, 0, 0},
                             {GW_VAL_TEXT, g->name, 0, 0},
                             {GW_VAL_TEXT, c->towns[g->town].name, 0, 0},
                             {GW_VAL_TEXT, c->cty[g->county].name, 0, 0},
                             {GW_VAL_INT, NULL, g->pop, 0},
                             {GW_VAL_INT, NULL, hh < 1 ? 1 : hh, 0},
                             {GW_VAL_TEXT, worker, 0, 0},
                             {GW_VAL_TEXT, phone, 0, 0},
                             {GW_VAL_TEXT, c->prefecture, 0, 0},
                             {GW_VAL_TEXT, g->village, 0, 0}};
        gw_feature f = {vals, wkb, len, 0, 0};
        st = gw_inserter_add(ins, &f);
        GEOSFree_r(c->h, wkb);
        if ((i & 1023) == 0) city_progress(c, "grids", c->ngrid + i, c->ngrid * 2.0);
    }
    gw_inserter_destroy(ins);
    if (w) GEOSWKBWriter_destroy_r(c->h, w);
    return st;
}

/* Uniform point in a grid picked by population. */
static int sample_pop(const city *c, rng *r, double *x, double *y)
{
    int g = (int)cum_pick(c->popcum, (size_t)c->ngrid, rng_u(r));
    city_sample_in(c, &c->grids[g].sh, r, c->grids[g].cx, c->grids[g].cy, x, y);
    return g;
}

/* Transform the batch c->cx/cy[0..n) to lon/lat in place. */
static gw_status to_lonlat(city *c, size_t n)
{
    return gw_crs_transform_points(c->to_ll, c->cx, c->cy, n);
}

/* Index of the police room nearest to a metric point: the incident's responsible room.  A
 * linear scan (1,150 rooms at scale 1 cost about a second over 1 M incidents, next to the
 * minutes SQLite spends writing them). */
static int nearest_room(const city *c, double x, double y)
{
    int best = 0;
    double bd = HUGE_VAL;
    for (int i = 0; i < c->nroom; i++) {
        double dx = c->rooms[i].x - x, dy = c->rooms[i].y - y, d = dx * dx + dy * dy;
        if (d < bd) bd = d, best = i;
    }
    return best;
}

gw_status city_make_rooms_teams(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 5);
    long n = lround(CITY_ROOMS * scale), nt = lround(CITY_TEAMS * scale);
    n = n < 1 ? 1 : n, nt = nt < 1 ? 1 : nt;
    int *per_town = calloc((size_t)c->ntown, sizeof *per_town);
    c->rooms = calloc((size_t)n, sizeof *c->rooms);
    if (!per_town || !c->rooms) return free(per_town), city_nomem(c);
    gw_inserter *ins = NULL;
    gw_status st = gw_store_inserter_create(c->store, GW_LAYER_POLICE_ROOMS, &ins);
    for (long base = 0; !st && base < n; base += CHUNK) {
        size_t m = (size_t)(n - base < CHUNK ? n - base : CHUNK);
        for (size_t i = 0; i < m; i++) {
            room *rm = &c->rooms[base + i];
            rm->town = c->grids[sample_pop(c, &r, &rm->x, &rm->y)].town;
            int k = ++per_town[rm->town];
            if (k == 1) snprintf(rm->name, sizeof rm->name, "%s警务室", c->towns[rm->town].name);
            else snprintf(rm->name, sizeof rm->name, "%s第%d警务室", c->towns[rm->town].name, k);
            c->cx[i] = rm->x, c->cy[i] = rm->y;
        }
        if ((st = to_lonlat(c, m))) break;
        for (size_t i = 0; !st && i < m; i++) {
            room *rm = &c->rooms[base + i];
            char id[40], phone[24], addr[160];
            snprintf(id, sizeof id, "%.4sPR%04ld", c->pfx, base + (long)i + 1);
            snprintf(phone, sizeof phone, "0530-%07d", 5000000 + rng_int(&r, 4000000));
            snprintf(addr, sizeof addr, "%s%s%s%d号", c->cty[c->towns[rm->town].county].name,
                     c->towns[rm->town].name, roads[rng_int(&r, N(roads))], 1 + rng_int(&r, 300));
            gw_value v[4] = {{GW_VAL_TEXT, id, 0, 0},
                             {GW_VAL_TEXT, rm->name, 0, 0},
                             {GW_VAL_TEXT, phone, 0, 0},
                             {GW_VAL_TEXT, addr, 0, 0}};
            gw_feature f = {v, NULL, 0, c->cx[i], c->cy[i]};
            st = gw_inserter_add(ins, &f);
        }
    }
    gw_inserter_destroy(ins);
    free(per_town);
    c->nroom = (int)n;
    ins = NULL;
    if (!st) st = gw_store_inserter_create(c->store, GW_LAYER_TEAMS, &ins);
    int64_t end = c->year + YEAR_S;
    uint8_t stat[CHUNK];
    for (long base = 0; !st && base < nt; base += CHUNK) {
        size_t m = (size_t)(nt - base < CHUNK ? nt - base : CHUNK);
        for (size_t i = 0; i < m; i++) {
            const room *rm = &c->rooms[(base + (long)i) % n];
            double x = rm->x, y = rm->y;
            for (int a = 0; a < 20; a++) {
                x = rm->x + 800 * rng_normal(&r), y = rm->y + 800 * rng_normal(&r);
                if (city_locate(c, x, y) >= 0) break;
                x = rm->x, y = rm->y;
            }
            double u = rng_u(&r);
            stat[i] = u < 0.70 ? 0 : u < 0.95 ? 1 : 2;
            c->cx[i] = x, c->cy[i] = y;
        }
        if ((st = to_lonlat(c, m))) break;
        for (size_t i = 0; !st && i < m; i++) {
            long k = base + (long)i;
            char id[40], name[96];
            static const char *const ts[3] = {"available", "busy", "offline"};
            snprintf(id, sizeof id, "%.4sT%05ld", c->pfx, k + 1);
            snprintf(name, sizeof name, "%s巡逻%ld组", c->rooms[k % n].name, k / n + 1);
            gw_value v[5] = {{GW_VAL_TEXT, id, 0, 0},
                             {GW_VAL_TEXT, name, 0, 0},
                             {GW_VAL_TEXT, ts[stat[i]], 0, 0},
                             {GW_VAL_INT, NULL, 2 + rng_int(&r, 4), 0},
                             {GW_VAL_INT, NULL, end - 1 - rng_int(&r, 1800), 0}};
            gw_feature f = {v, NULL, 0, c->cx[i], c->cy[i]};
            st = gw_inserter_add(ins, &f);
        }
    }
    gw_inserter_destroy(ins);
    return st;
}

/* Cameras: half in towns, a third along roads (seat-township and seat-seat segments), the rest
 * by population. */
gw_status city_make_cameras(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 6);
    long n = lround(CITY_CAMERAS * scale);
    n = n < 1 ? 1 : n;
    size_t nseg = 0;
    double *seg = malloc(((size_t)c->ntown + 2 * (size_t)c->ncty) * 4 * sizeof *seg);
    double *cum = malloc(((size_t)c->ntown + 2 * (size_t)c->ncty) * sizeof *cum);
    double *tcum = malloc((size_t)c->ntown * sizeof *tcum);
    struct cam {
        double az, fov, range, height;
        int32_t grid;
        uint8_t online;
    } *cams = malloc(CHUNK * sizeof *cams);
    gw_inserter *ins = NULL;
    gw_status st = seg && cum && tcum && cams
                       ? gw_store_inserter_create(c->store, GW_LAYER_CAMERAS, &ins)
                       : city_nomem(c);
    for (int k = 0; !st && k < c->ncty; k++) {
        const town *s = &c->towns[c->cty[k].town0];
        for (int t = 1; t < c->cty[k].ntown; t++) {
            const town *b = s + t;
            double *q = seg + 4 * nseg;
            q[0] = s->x, q[1] = s->y, q[2] = b->x, q[3] = b->y;
            cum[nseg] = (nseg ? cum[nseg - 1] : 0) + hypot(q[2] - q[0], q[3] - q[1]) + 1, nseg++;
        }
        int b1 = -1, b2 = -1; /* roads to the two nearest other seats */
        double d1 = INFINITY, d2 = INFINITY;
        for (int j = 0; j < c->ncty; j++) {
            const town *o = &c->towns[c->cty[j].town0];
            double d = hypot(o->x - s->x, o->y - s->y);
            if (j == k) continue;
            if (d < d1) b2 = b1, d2 = d1, b1 = j, d1 = d;
            else if (d < d2) b2 = j, d2 = d;
        }
        for (int rep = 0; rep < 2; rep++) {
            int best = rep ? b2 : b1;
            if (best < 0) continue;
            double *q = seg + 4 * nseg;
            q[0] = s->x, q[1] = s->y, q[2] = c->towns[c->cty[best].town0].x,
            q[3] = c->towns[c->cty[best].town0].y;
            cum[nseg] = (nseg ? cum[nseg - 1] : 0) + hypot(q[2] - q[0], q[3] - q[1]) + 1, nseg++;
        }
    }
    for (int t = 0; !st && t < c->ntown; t++) tcum[t] = (t ? tcum[t - 1] : 0) + c->towns[t].w;
    for (long base = 0; !st && base < n; base += CHUNK) {
        size_t m = (size_t)(n - base < CHUNK ? n - base : CHUNK);
        for (size_t i = 0; i < m; i++) {
            double x = 0, y = 0, u = rng_u(&r);
            int g = -1;
            for (int a = 0; g < 0 && a < 20; a++) {
                if (u < 0.5) {
                    const town *t = &c->towns[cum_pick(tcum, (size_t)c->ntown, rng_u(&r))];
                    x = t->x + 0.6 * t->sigma * rng_normal(&r),
                    y = t->y + 0.6 * t->sigma * rng_normal(&r);
                } else if (u < 0.85 && nseg) {
                    const double *q = seg + 4 * cum_pick(cum, nseg, rng_u(&r));
                    double f = rng_u(&r), len = hypot(q[2] - q[0], q[3] - q[1]) + 1e-9,
                           off = 20 * rng_normal(&r);
                    x = q[0] + f * (q[2] - q[0]) - off * (q[3] - q[1]) / len;
                    y = q[1] + f * (q[3] - q[1]) + off * (q[2] - q[0]) / len;
                } else break;
                g = city_locate(c, x, y);
            }
            if (g < 0) g = sample_pop(c, &r, &x, &y);
            struct cam *cm = &cams[i];
            cm->grid = g;
            cm->az = rint(rng_uni(&r, 0, 3600)) / 10;
            cm->fov = rng_u(&r) < 0.1 ? 360.0 : rint(rng_uni(&r, 40, 120));
            cm->range = rint(rng_uni(&r, 20, 150));
            cm->height = rint(rng_uni(&r, 30, 120)) / 10;
            cm->online = rng_u(&r) < 0.95;
            c->cx[i] = x, c->cy[i] = y;
        }
        if ((st = to_lonlat(c, m))) break;
        for (size_t i = 0; !st && i < m; i++) {
            char id[48], name[80];
            snprintf(id, sizeof id, "%.4sC%06ld", c->pfx, base + (long)i + 1);
            snprintf(name, sizeof name, "%s监控%06ld", c->towns[c->grids[cams[i].grid].town].name,
                     base + (long)i + 1);
            gw_value v[7] = {{GW_VAL_TEXT, id, 0, 0},
                             {GW_VAL_TEXT, name, 0, 0},
                             {GW_VAL_REAL, NULL, 0, cams[i].az},
                             {GW_VAL_REAL, NULL, 0, cams[i].fov},
                             {GW_VAL_REAL, NULL, 0, cams[i].range},
                             {GW_VAL_REAL, NULL, 0, cams[i].height},
                             {GW_VAL_TEXT, cams[i].online ? "online" : "offline", 0, 0}};
            gw_feature f = {v, NULL, 0, c->cx[i], c->cy[i]};
            st = gw_inserter_add(ins, &f);
        }
        city_progress(c, "cameras", (double)(base + (long)m), (double)n);
    }
    gw_inserter_destroy(ins);
    free(seg), free(cum), free(tcum), free(cams);
    return st;
}

/* ---- incidents: population background plus compact hotspots with time profiles ---- */
static int inc_cmp(const void *a, const void *b)
{
    const incident *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The planted hotspots: lround(40 sqrt(scale)), at least 6, centred by population, σ 60–250 m,
 * every profile at least once (cyclic from a random offset, then shuffled), sizes ~10x apart. */
static gw_status plant_hotspots(city *c, rng *r, long n, double scale)
{
    static const double hot_cat_w[NCAT] = {4, 1, 0, 1, 3, 1, 2, 2, 0};
    long nh = lround(40 * sqrt(scale));
    nh = nh < 6 ? 6 : nh;
    if (!(c->hs = calloc((size_t)nh, sizeof *c->hs))) return city_nomem(c);
    c->nhs = (int)nh;
    int off = rng_int(r, CITY_NPROFILE);
    for (int i = 0; i < c->nhs; i++) c->hs[i].profile = (i + off) % CITY_NPROFILE;
    for (int i = c->nhs - 1; i > 0; i--) {
        int j = rng_int(r, i + 1), p = c->hs[i].profile;
        c->hs[i].profile = c->hs[j].profile, c->hs[j].profile = p;
    }
    for (int i = 0; i < c->nhs; i++) {
        hotspot *h = &c->hs[i];
        sample_pop(c, r, &h->x, &h->y);
        h->sigma = rng_uni(r, 60, 250);
        city_profile_draw(h, h->profile, r);
        h->cat = weights_pick(r, hot_cat_w, NCAT);
        h->w = rng_uni(r, 0.3, 3);
    }
    long nhot = lround(0.25 * (double)n);
    city_hotspot_quota(c->hs, c->nhs, nhot, 20);
    return GW_OK;
}

gw_status city_make_incidents(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 7);
    long n = lround(CITY_INCIDENTS * scale);
    n = n < 1 ? 1 : n;
    c->nincidents = n;
    double hcw[24];
    incident *inc = malloc((size_t)n * sizeof *inc);
    if (!inc) return city_nomem(c);
    gw_status st = plant_hotspots(c, &r, n, scale);
    if (st) return free(inc), st;
    for (int k = 0; k < 24; k++) hcw[k] = (k ? hcw[k - 1] : 0) + hour_w[k];
    int64_t end = c->year + YEAR_S;
    int hi = 0; /* the first incidents are the hotspots' quotas, in hotspot order */
    long left = c->hs[0].want;
    for (long i = 0; i < n; i++) {
        incident *e = &inc[i];
        double d;
        int cat = weights_pick(&r, cat_w, NCAT), g = -1;
        while (hi < c->nhs && left == 0) left = ++hi < c->nhs ? c->hs[hi].want : 0;
        hotspot *h = hi < c->nhs ? &c->hs[hi] : NULL;
        if (h) {
            double lo, up;
            left--;
            city_profile_window(h, &lo, &up);
            do d = rng_uni(&r, lo, up);
            while (rng_u(&r) >= city_profile_f(h, d));
            for (int a = 0; g < 0 && a < 50; a++) {
                e->x = h->x + h->sigma * rng_normal(&r), e->y = h->y + h->sigma * rng_normal(&r);
                g = city_locate(c, e->x, e->y);
            }
            if (rng_u(&r) < 0.6) cat = h->cat;
            if (g < 0) h = NULL; /* relocated by population below: background, not counted */
        } else {
            do d = rng_uni(&r, 0, 365);
            while (rng_u(&r) * 1.15 >= 1 + 0.15 * sin(2 * M_PI * (d - 100) / 365));
        }
        if (g < 0) g = sample_pop(c, &r, &e->x, &e->y);
        int hour = (int)cum_pick(hcw, 24, rng_u(&r)), day = (int)d;
        e->t = c->year + (int64_t)(day > 364 ? 364 : day) * 86400 + hour * 3600 + rng_int(&r, 3600);
        if (h) h->n++, h->monthly[(e->t - c->year) * 12 / YEAR_S]++;
        e->seq = (uint32_t)i, e->grid = g, e->cat = (uint8_t)cat;
        int sev = weights_pick(&r, sev_w, 5) + 1 + (cat == 6 || cat == 7);
        e->sev = (uint8_t)(sev > 5 ? 5 : sev);
        double age = (double)(end - e->t) / 86400, u = rng_u(&r);
        e->st = u < exp(-age / 7) ? (age < 2 && rng_u(&r) < 0.4 ? 1 : 0) : 2;
    }
    qsort(inc, (size_t)n, sizeof *inc, inc_cmp);
    static const char *const sts[3] = {"open", "dispatched", "closed"};
    gw_inserter *ins = NULL;
    st = gw_store_inserter_create(c->store, GW_LAYER_INCIDENTS, &ins);
    for (long base = 0; !st && base < n; base += CHUNK) {
        size_t m = (size_t)(n - base < CHUNK ? n - base : CHUNK);
        for (size_t i = 0; i < m; i++) c->cx[i] = inc[base + i].x, c->cy[i] = inc[base + i].y;
        if ((st = to_lonlat(c, m))) break;
        for (size_t i = 0; !st && i < m; i++) {
            const incident *e = &inc[base + i];
            char id[40];
            snprintf(id, sizeof id, "%.4sI%07ld", c->pfx, base + (long)i + 1);
            char room_id[40];
            snprintf(room_id, sizeof room_id, "%.4sPR%04d", c->pfx,
                     nearest_room(c, e->x, e->y) + 1);
            gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0},
                             {GW_VAL_INT, NULL, e->t, 0},
                             {GW_VAL_TEXT, city_cat_names[e->cat], 0, 0},
                             {GW_VAL_INT, NULL, e->sev, 0},
                             {GW_VAL_TEXT, sts[e->st], 0, 0},
                             {GW_VAL_TEXT, cat_desc[e->cat], 0, 0},
                             {GW_VAL_TEXT, c->grids[e->grid].id, 0, 0},
                             {GW_VAL_TEXT, room_id, 0, 0}};
            gw_feature f = {v, NULL, 0, c->cx[i], c->cy[i]};
            st = gw_inserter_add(ins, &f);
        }
        city_progress(c, "incidents", (double)(base + (long)m), (double)n);
    }
    gw_inserter_destroy(ins);
    free(inc);
    return st;
}
