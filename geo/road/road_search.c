/* road_search.c — travel-time searches on the routing graph (road.h): Dijkstra with a binary
 * heap (lazy deletion) over the in-edges, from the destination backwards, with the sources
 * hung on the nodes their snapped positions drive to, stopping when the k-th source settles;
 * the same search forwards or backwards to every node within a time (isochrones); and the
 * route of a settled source read back from the predecessor edges.  Decision 0007 says why this
 * and not A*, bidirectional search or contraction hierarchies. */
#include "road_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INIT_FROM -2 /* the node is the destination arc's `from` end */
#define INIT_TO -3   /* … its `to` end */

typedef struct hitem {
    double key;
    uint32_t item; /* node, or nnodes + source index */
} hitem;

typedef struct att {
    int32_t next;
    uint32_t src;
    double cost, len;
    uint8_t side; /* 1: the source drives to its arc's `to` node, 0: to its `from` node */
} att;

struct gw_road_search {
    const gw_road_graph *g;
    gw_ctx *ctx;
    double *dist, *len;
    int32_t *pred;
    uint32_t *stamp, *done, *astamp, cur;
    int32_t *ahead;
    hitem *heap;
    size_t nheap, capheap;
    att *atts;
    size_t natts, capatts;
    /* per source of the last nearest search */
    double *sbest, *slen;
    int64_t *svia; /* node, or -1 direct */
    uint8_t *sside, *sdone;
    uint32_t *sarc; /* the sources' arcs and fractions, for their routes */
    double *sfrac;
    size_t nsrc, capsrc;
    gw_road_snap dest, srcs1;
};

gw_status gw_road_search_create(gw_ctx *ctx, const gw_road_graph *g, gw_road_search **out)
{
    *out = NULL;
    if (!g) return gw_ctx_error(ctx, GW_ERR_ARG, "road search: no graph");
    gw_road_search *s = calloc(1, sizeof *s);
    size_t n = g->nnodes ? g->nnodes : 1;
    if (s) {
        s->g = g, s->ctx = ctx;
        s->dist = malloc(n * sizeof *s->dist), s->len = malloc(n * sizeof *s->len);
        s->pred = malloc(n * sizeof *s->pred), s->ahead = malloc(n * sizeof *s->ahead);
        s->stamp = calloc(n, sizeof *s->stamp), s->done = calloc(n, sizeof *s->done);
        s->astamp = calloc(n, sizeof *s->astamp);
    }
    if (!s || !s->dist || !s->len || !s->pred || !s->ahead || !s->stamp || !s->done || !s->astamp) {
        gw_road_search_destroy(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory for a road search");
    }
    *out = s;
    return GW_OK;
}

void gw_road_search_destroy(gw_road_search *s)
{
    if (!s) return;
    free(s->dist), free(s->len), free(s->pred), free(s->ahead), free(s->stamp), free(s->done);
    free(s->astamp), free(s->heap), free(s->atts), free(s->sbest), free(s->slen), free(s->svia);
    free(s->sside), free(s->sdone), free(s->sarc), free(s->sfrac);
    free(s);
}

/* ---- heap -------------------------------------------------------------------------------- */

static int less(const hitem *a, const hitem *b)
{
    return a->key < b->key || (a->key == b->key && a->item < b->item);
}

static int push(gw_road_search *s, double key, uint32_t item)
{
    if (s->nheap == s->capheap) {
        size_t c = s->capheap ? s->capheap * 2 : 1024;
        hitem *h = realloc(s->heap, c * sizeof *h);
        if (!h) return -1;
        s->heap = h, s->capheap = c;
    }
    size_t i = s->nheap++;
    hitem it = {key, item};
    while (i && less(&it, &s->heap[(i - 1) / 2]))
        s->heap[i] = s->heap[(i - 1) / 2], i = (i - 1) / 2;
    s->heap[i] = it;
    return 0;
}

static hitem pop(gw_road_search *s)
{
    hitem top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c], i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* ---- labels -------------------------------------------------------------------------------- */

static void begin(gw_road_search *s)
{
    if (++s->cur == 0) { /* the stamps wrapped: clear them once every 4 billion searches */
        memset(s->stamp, 0, s->g->nnodes * sizeof *s->stamp);
        memset(s->done, 0, s->g->nnodes * sizeof *s->done);
        memset(s->astamp, 0, s->g->nnodes * sizeof *s->astamp);
        s->cur = 1;
    }
    s->nheap = 0, s->natts = 0;
}

static double label(const gw_road_search *s, uint32_t v)
{
    return s->stamp[v] == s->cur ? s->dist[v] : INFINITY;
}

static int relax(gw_road_search *s, uint32_t v, double d, double l, int32_t pred)
{
    if (d >= label(s, v)) return 0;
    s->stamp[v] = s->cur, s->dist[v] = d, s->len[v] = l, s->pred[v] = pred;
    return push(s, d, v);
}

/* Seed the labels of the destination's arc ends: what it costs from each end to reach dest
 * (backward = 1, the dispatch direction) or from dest to each end (backward = 0). */
static int seed(gw_road_search *s, const gw_road_snap *p, int backward)
{
    const road_arc *a = &s->g->arcs[p->arc];
    double tf = p->frac * a->time_s, tt = (1 - p->frac) * a->time_s;
    double lf = p->frac * a->len_m, lt = (1 - p->frac) * a->len_m;
    int rc = 0;
    if (backward) { /* from → dest is forward along the arc; to → dest backward */
        if (a->fwd) rc |= relax(s, a->from, tf, lf, INIT_FROM);
        if (a->bwd) rc |= relax(s, a->to, tt, lt, INIT_TO);
    } else {
        if (a->bwd) rc |= relax(s, a->from, tf, lf, INIT_FROM);
        if (a->fwd) rc |= relax(s, a->to, tt, lt, INIT_TO);
    }
    return rc;
}

static int grow_sources(gw_road_search *s, size_t n)
{
    if (n <= s->capsrc && 2 * n <= s->capatts) return 0;
    size_t c = n < 64 ? 64 : n;
    double *b = realloc(s->sbest, c * sizeof *b);
    if (b) s->sbest = b;
    double *l = realloc(s->slen, c * sizeof *l);
    if (l) s->slen = l;
    int64_t *v = realloc(s->svia, c * sizeof *v);
    if (v) s->svia = v;
    uint8_t *sd = realloc(s->sside, c), *dn = sd ? (s->sside = sd, realloc(s->sdone, c)) : NULL;
    if (dn) s->sdone = dn;
    att *at = realloc(s->atts, 2 * c * sizeof *at);
    if (at) s->atts = at;
    uint32_t *sa = realloc(s->sarc, c * sizeof *sa);
    if (sa) s->sarc = sa;
    double *sf = realloc(s->sfrac, c * sizeof *sf);
    if (sf) s->sfrac = sf;
    if (!b || !l || !v || !sd || !dn || !at || !sa || !sf) return -1;
    s->capsrc = c, s->capatts = 2 * c;
    return 0;
}

static void attach(gw_road_search *s, uint32_t node, uint32_t src, double cost, double len,
                   int side)
{
    if (s->astamp[node] != s->cur) s->astamp[node] = s->cur, s->ahead[node] = -1;
    att *a = &s->atts[s->natts];
    *a = (att){s->ahead[node], src, cost, len, (uint8_t)side};
    s->ahead[node] = (int32_t)s->natts++;
}

static int offer(gw_road_search *s, uint32_t i, double eta, double len, int64_t via, int side)
{
    if (s->sdone[i] || eta >= s->sbest[i]) return 0;
    s->sbest[i] = eta, s->slen[i] = len, s->svia[i] = via, s->sside[i] = (uint8_t)side;
    return push(s, eta, (uint32_t)s->g->nnodes + i);
}

gw_status gw_road_nearest(gw_road_search *s, const gw_road_snap *dest, const gw_road_snap *src,
                          size_t nsrc, size_t k, gw_road_eta *out, size_t *n)
{
    if (!s || !dest || (nsrc && !src) || !n) return GW_ERR_ARG;
    const gw_road_graph *g = s->g;
    *n = 0;
    if (dest->arc >= g->narcs) return gw_ctx_error(s->ctx, GW_ERR_ARG, "road search: bad snap");
    for (size_t i = 0; i < nsrc; i++)
        if (src[i].arc >= g->narcs)
            return gw_ctx_error(s->ctx, GW_ERR_ARG, "road search: bad snap");
    if (nsrc > UINT32_MAX - g->nnodes) return gw_ctx_error(s->ctx, GW_ERR_ARG, "too many sources");
    if (grow_sources(s, nsrc)) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    if (k == 0 || k > nsrc) k = nsrc;
    begin(s);
    s->dest = *dest, s->nsrc = nsrc;
    int oom = 0;
    const road_arc *da = &g->arcs[dest->arc];
    for (size_t i = 0; i < nsrc; i++) {
        const gw_road_snap *p = &src[i];
        const road_arc *a = &g->arcs[p->arc];
        s->sbest[i] = INFINITY, s->sdone[i] = 0, s->sarc[i] = p->arc, s->sfrac[i] = p->frac;
        if (a->fwd)
            attach(s, a->to, (uint32_t)i, (1 - p->frac) * a->time_s, (1 - p->frac) * a->len_m, 1);
        if (a->bwd) attach(s, a->from, (uint32_t)i, p->frac * a->time_s, p->frac * a->len_m, 0);
        if (p->arc == dest->arc) { /* on the destination's own arc: straight there? */
            if (da->fwd && p->frac <= dest->frac)
                oom |= offer(s, (uint32_t)i, (dest->frac - p->frac) * da->time_s,
                             (dest->frac - p->frac) * da->len_m, -1, 1);
            if (da->bwd && p->frac >= dest->frac)
                oom |= offer(s, (uint32_t)i, (p->frac - dest->frac) * da->time_s,
                             (p->frac - dest->frac) * da->len_m, -1, 0);
        }
    }
    oom |= seed(s, dest, 1);
    size_t got = 0;
    while (!oom && s->nheap && got < k) {
        hitem h = pop(s);
        if (h.item >= g->nnodes) { /* a source settles */
            uint32_t i = h.item - (uint32_t)g->nnodes;
            if (s->sdone[i] || h.key > s->sbest[i]) continue;
            s->sdone[i] = 1;
            if (out) out[got] = (gw_road_eta){i, s->sbest[i], s->slen[i]};
            got++;
            continue;
        }
        uint32_t v = h.item;
        if (s->done[v] == s->cur || h.key > s->dist[v]) continue;
        s->done[v] = s->cur;
        double dv = s->dist[v], lv = s->len[v];
        if (s->astamp[v] == s->cur)
            for (int32_t a = s->ahead[v]; a >= 0; a = s->atts[a].next)
                oom |= offer(s, s->atts[a].src, dv + s->atts[a].cost, lv + s->atts[a].len, v,
                             s->atts[a].side);
        for (uint32_t j = g->in_off[v]; j < g->in_off[v + 1]; j++) {
            const road_edge *e = &g->edges[g->in_e[j]];
            oom |= relax(s, e->from, dv + e->time_s, lv + e->len_m, (int32_t)g->in_e[j]);
        }
    }
    *n = got;
    if (oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory in a road search");
    return GW_OK;
}

gw_status gw_road_eta_between(gw_road_search *s, const gw_road_snap *from, const gw_road_snap *to,
                              double *eta_s, double *route_m)
{
    if (!s || !from || !to) return GW_ERR_ARG;
    s->srcs1 = *from;
    gw_road_eta e;
    size_t n = 0;
    gw_status st = gw_road_nearest(s, to, &s->srcs1, 1, 1, &e, &n);
    if (st) return st;
    if (eta_s) *eta_s = n ? e.eta_s : INFINITY;
    if (route_m) *route_m = n ? e.route_m : INFINITY;
    return GW_OK;
}

gw_status gw_road_times(gw_road_search *s, const gw_road_snap *from, int backward, double max_s)
{
    if (!s || !from || from->arc >= s->g->narcs) return GW_ERR_ARG;
    const gw_road_graph *g = s->g;
    begin(s);
    s->nsrc = 0;
    int oom = seed(s, from, backward);
    while (!oom && s->nheap) {
        hitem h = pop(s);
        uint32_t v = h.item;
        if (s->done[v] == s->cur || h.key > s->dist[v]) continue;
        if (max_s > 0 && h.key > max_s) break;
        s->done[v] = s->cur;
        const uint32_t *off = backward ? g->in_off : g->out_off,
                       *es = backward ? g->in_e : g->out_e;
        for (uint32_t j = off[v]; j < off[v + 1]; j++) {
            const road_edge *e = &g->edges[es[j]];
            oom |= relax(s, backward ? e->from : e->to, s->dist[v] + e->time_s,
                         s->len[v] + e->len_m, (int32_t)es[j]);
        }
    }
    if (oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory in a road search");
    return GW_OK;
}

double gw_road_search_node_time(const gw_road_search *s, uint32_t node)
{
    if (!s || node >= s->g->nnodes || s->stamp[node] != s->cur || s->done[node] != s->cur)
        return INFINITY;
    return s->dist[node];
}

/* ---- routes -------------------------------------------------------------------------------- */

typedef struct pts {
    double *p;
    size_t n, cap;
    int oom;
} pts;

static void put(pts *r, double lon, double lat)
{
    if (r->n && r->p[2 * r->n - 2] == lon && r->p[2 * r->n - 1] == lat) return;
    if (r->n == r->cap) {
        size_t c = r->cap ? r->cap * 2 : 64;
        double *q = realloc(r->p, c * 2 * sizeof *q);
        if (!q) {
            r->oom = 1;
            return;
        }
        r->p = q, r->cap = c;
    }
    r->p[2 * r->n] = lon, r->p[2 * r->n + 1] = lat, r->n++;
}

/* The lon/lat of the point at distance `at` metres along arc a (clamped), from its start. */
static void point_at(const gw_road_graph *g, const road_arc *a, double at, double *lon, double *lat)
{
    double acc = 0;
    for (uint32_t k = a->pt; k + 1 < a->pt + a->npts; k++) {
        const double *m = g->xy + 2 * k, *l = g->lonlat + 2 * k;
        double sl = hypot(m[2] - m[0], m[3] - m[1]);
        if (acc + sl >= at || k + 2 == a->pt + a->npts) {
            double t = sl > 0 ? (at - acc) / sl : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            *lon = l[0] + t * (l[2] - l[0]), *lat = l[1] + t * (l[3] - l[1]);
            return;
        }
        acc += sl;
    }
    *lon = g->lonlat[2 * a->pt], *lat = g->lonlat[2 * a->pt + 1];
}

/* The part of arc a between fractions f0 and f1, in that order (either way along it). */
static void part(const gw_road_graph *g, const road_arc *a, double f0, double f1, pts *r)
{
    double p0 = f0 * a->len_m, p1 = f1 * a->len_m, lon, lat;
    point_at(g, a, p0, &lon, &lat);
    put(r, lon, lat);
    double acc = 0;
    size_t first = a->pt, last = a->pt + a->npts - 1;
    double *cum = NULL, stackcum[64];
    cum = a->npts <= 64 ? stackcum : malloc(a->npts * sizeof *cum);
    if (!cum) {
        r->oom = 1;
        return;
    }
    for (size_t k = first; k <= last; k++) {
        if (k > first)
            acc += hypot(g->xy[2 * k] - g->xy[2 * k - 2], g->xy[2 * k + 1] - g->xy[2 * k - 1]);
        cum[k - first] = acc;
    }
    if (p0 <= p1) {
        for (size_t k = first; k <= last; k++)
            if (cum[k - first] > p0 && cum[k - first] < p1)
                put(r, g->lonlat[2 * k], g->lonlat[2 * k + 1]);
    } else {
        for (size_t k = last + 1; k-- > first;)
            if (cum[k - first] < p0 && cum[k - first] > p1)
                put(r, g->lonlat[2 * k], g->lonlat[2 * k + 1]);
    }
    if (cum != stackcum) free(cum);
    point_at(g, a, p1, &lon, &lat);
    put(r, lon, lat);
}

gw_status gw_road_route(gw_road_search *s, size_t i, double **coords, size_t *npts)
{
    if (!s || !coords || !npts) return GW_ERR_ARG;
    *coords = NULL, *npts = 0;
    if (i >= s->nsrc || !s->sdone[i]) return GW_ERR_NOT_FOUND;
    const gw_road_graph *g = s->g;
    const gw_road_snap *d = &s->dest;
    pts r = {0};
    if (s->svia[i] < 0) {
        part(g, &g->arcs[d->arc], s->sfrac[i], d->frac, &r);
    } else {
        part(g, &g->arcs[s->sarc[i]], s->sfrac[i], s->sside[i] ? 1 : 0, &r);
        uint32_t v = (uint32_t)s->svia[i];
        size_t guard = 0;
        while (s->pred[v] >= 0 && guard++ <= g->nnodes) {
            const road_edge *e = &g->edges[s->pred[v]];
            part(g, &g->arcs[e->arc], e->dir ? 0 : 1, e->dir ? 1 : 0, &r);
            v = e->to;
        }
        part(g, &g->arcs[d->arc], s->pred[v] == INIT_FROM ? 0 : 1, d->frac, &r);
    }
    if (r.oom) {
        free(r.p);
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory for a route");
    }
    *coords = r.p, *npts = r.n;
    return GW_OK;
}
