/* city_village.c — the synthetic city's fourth jurisdiction level: each township's grids grouped
 * into villages (村) or, in a 街道, communities (社区) of about 4-8 neighbouring grids.
 *
 * The grids of a township are one contiguous range of c->grids (sorted by county, township,
 * north to south, west to east).  Neighbours are grids of the township whose boundaries share a
 * line (not just a corner).  A village grows from the first grid not yet taken, adding the free
 * neighbour nearest its seed until it reaches its drawn size (4-8); a group left below 4 because
 * no free neighbour remained joins the smallest adjacent village when it has one.  Deterministic
 * for a seed: the order is the grids' and the sizes and names come from RNG stream 8. */
#include "city_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMIN 4
#define VMAX 8

static const char *const vfirst[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                     "孙", "马", "朱", "胡", "郭", "高", "何", "田", "梁", "潘",
                                     "前", "后", "东", "西", "南", "北", "大", "小", "新", "老"};
static const char *const vlast[] = {"庄", "集", "楼", "屯", "营", "寨", "店", "洼",
                                    "庙", "园", "桥", "口", "堂", "湾", "岗", "铺"};
static const char *const cfirst[] = {"和平", "建设", "人民", "光明", "幸福", "胜利", "花园",
                                     "文化", "牡丹", "青年", "滨河", "振兴", "长江", "中华",
                                     "府前", "解放", "丹阳", "东关", "西关", "南关", "北关"};

typedef struct vw {
    city *c;
    int a, n;  /* the township's grids: c->grids[a .. a+n) */
    int *adj0; /* CSR neighbour lists (indexes within the township) */
    int *adj;
    int *vil;   /* village of each grid, -1 while free */
    int *vsize; /* grids per village */
    int nvil;
} vw;

/* Boundaries sharing a line: the grids are neighbours. */
static int shares_edge(city *c, const GEOSGeometry *x, const GEOSGeometry *y)
{
    return GEOSRelatePattern_r(c->h, x, y, "****1****") == 1;
}

static int bb_meet(const gw_bbox *p, const gw_bbox *q)
{
    return p->minx <= q->maxx && q->minx <= p->maxx && p->miny <= q->maxy && q->miny <= p->maxy;
}

/* Neighbour lists of the township's grids (pairs by bbox, then the boundary test). */
static gw_status neighbours(vw *w)
{
    city *c = w->c;
    int cap = 64, m = 0;
    int *pairs = malloc((size_t)cap * 2 * sizeof *pairs);
    w->adj0 = calloc((size_t)w->n + 1, sizeof *w->adj0);
    if (!pairs || !w->adj0) return free(pairs), city_nomem(c);
    for (int i = 0; i < w->n; i++)
        for (int j = i + 1; j < w->n; j++) {
            grid *x = &c->grids[w->a + i], *y = &c->grids[w->a + j];
            if (!bb_meet(&x->sh.bb, &y->sh.bb) || !shares_edge(c, x->g, y->g)) continue;
            if (m == cap) {
                int *np = realloc(pairs, (size_t)cap * 4 * sizeof *np);
                if (!np) return free(pairs), city_nomem(c);
                pairs = np, cap *= 2;
            }
            pairs[2 * m] = i, pairs[2 * m + 1] = j, m++;
            w->adj0[i + 1]++, w->adj0[j + 1]++;
        }
    for (int i = 0; i < w->n; i++) w->adj0[i + 1] += w->adj0[i];
    w->adj = malloc(((size_t)m * 2 + 1) * sizeof *w->adj);
    int *fill = calloc((size_t)w->n + 1, sizeof *fill);
    if (!w->adj || !fill) return free(pairs), free(fill), city_nomem(c);
    for (int k = 0; k < m; k++) { /* pairs are in (i, j) order: each list comes out ascending */
        int i = pairs[2 * k], j = pairs[2 * k + 1];
        w->adj[w->adj0[i] + fill[i]++] = j;
        w->adj[w->adj0[j] + fill[j]++] = i;
    }
    free(pairs);
    free(fill);
    /* ascending lists: j's entries were added as i rose, i's as j rose; sort to be sure */
    for (int i = 0; i < w->n; i++)
        for (int p = w->adj0[i] + 1; p < w->adj0[i + 1]; p++)
            for (int q = p; q > w->adj0[i] && w->adj[q - 1] > w->adj[q]; q--) {
                int t = w->adj[q];
                w->adj[q] = w->adj[q - 1], w->adj[q - 1] = t;
            }
    return GW_OK;
}

/* Grow village v from seed s to `want` grids; returns its size. */
static int grow(vw *w, int s, int v, int want, int *members)
{
    city *c = w->c;
    const grid *sg = &c->grids[w->a + s];
    int n = 0;
    w->vil[s] = v, members[n++] = s;
    while (n < want) {
        int best = -1;
        double bd = INFINITY;
        for (int k = 0; k < n; k++)
            for (int p = w->adj0[members[k]]; p < w->adj0[members[k] + 1]; p++) {
                int j = w->adj[p];
                if (w->vil[j] >= 0) continue;
                const grid *g = &c->grids[w->a + j];
                double d = hypot(g->cx - sg->cx, g->cy - sg->cy);
                if (d < bd || (d == bd && j < best)) bd = d, best = j;
            }
        if (best < 0) break;
        w->vil[best] = v, members[n++] = best;
    }
    return n;
}

/* A name not yet used in the township: "王庄村" or, in a 街道, "和平社区". */
static void village_name(const town *t, rng *r, char names[][48], int v, char *out)
{
    int street = strstr(t->name, "街道") != NULL;
    for (int a = 0;; a++) {
        if (a > 40) {
            snprintf(out, 48, "第%d%s", v + 1, street ? "社区" : "村");
            return;
        }
        if (street) snprintf(out, 48, "%s社区", cfirst[rng_int(r, N(cfirst))]);
        else
            snprintf(out, 48, "%s%s村", vfirst[rng_int(r, N(vfirst))], vlast[rng_int(r, N(vlast))]);
        int dup = 0;
        for (int k = 0; !dup && k < v; k++) dup = strcmp(names[k], out) == 0;
        if (!dup) return;
    }
}

static gw_status township(city *c, int a, int n, rng *r)
{
    vw w = {.c = c, .a = a, .n = n};
    gw_status st = neighbours(&w);
    int *members = malloc((size_t)n * sizeof *members);
    w.vil = malloc((size_t)n * sizeof *w.vil);
    w.vsize = calloc((size_t)n, sizeof *w.vsize);
    char(*names)[48] = calloc((size_t)n, sizeof *names);
    if (!st && (!members || !w.vil || !w.vsize || !names)) st = city_nomem(c);
    if (!st) {
        for (int i = 0; i < n; i++) w.vil[i] = -1;
        for (int s = 0; s < n; s++) {
            if (w.vil[s] >= 0) continue;
            int want = VMIN + rng_int(r, VMAX - VMIN + 1);
            int got = grow(&w, s, w.nvil, want, members);
            int join = -1; /* a pocket below VMIN joins its smallest adjacent village */
            for (int k = 0; got < VMIN && k < got; k++)
                for (int p = w.adj0[members[k]]; p < w.adj0[members[k] + 1]; p++) {
                    int v = w.vil[w.adj[p]];
                    if (v >= 0 && v != w.nvil && (join < 0 || w.vsize[v] < w.vsize[join])) join = v;
                }
            if (join >= 0) {
                for (int k = 0; k < got; k++) w.vil[members[k]] = join;
                w.vsize[join] += got;
            } else {
                w.vsize[w.nvil++] = got;
            }
        }
        const town *t = &c->towns[c->grids[a].town];
        for (int v = 0; v < w.nvil; v++) village_name(t, r, names, v, names[v]);
        for (int i = 0; i < n; i++)
            snprintf(c->grids[a + i].village, sizeof c->grids[a + i].village, "%s",
                     names[w.vil[i]]);
    }
    free(members);
    free(w.vil);
    free(w.vsize);
    free(names);
    free(w.adj0);
    free(w.adj);
    return st;
}

gw_status city_make_villages(city *c)
{
    rng r;
    rng_init(&r, c->seed, 8);
    gw_status st = GW_OK;
    for (int a = 0; !st && a < c->ngrid;) {
        int b = a + 1;
        while (b < c->ngrid && c->grids[b].town == c->grids[a].town) b++;
        st = township(c, a, b - a, &r);
        a = b;
    }
    return st;
}
