/* road_graph.c — building the routing graph from the road layer (road.h): lines read through
 * the store, projected to the metric CRS, cut into arcs at the vertices lines share, and the
 * arcs' directed edges in both CSR adjacencies (out for forward searches, in for the backward
 * searches dispatch runs).  Nodes are found by the exact lon/lat of vertices, as OpenStreetMap
 * ways share their node and the generator writes shared points bit for bit. */
#include "road_internal.h"

#include "gridwatch/store_changes.h"
#include "gridwatch/store_roads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the lines as read --------------------------------------------------------------------- */

typedef struct rline {
    int64_t fid;
    size_t pt, npts;
    int oneway;
    double kmh;
    char *name, *cls; /* owned until moved into the graph; name NULL when none */
} rline;

typedef struct reader {
    gw_ctx *ctx;
    const char *speeds;
    rline *lines;
    size_t n, cap;
    double *ll; /* lon/lat pairs of every line */
    size_t npts, capp;
    gw_status st;
} reader;

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

static uint32_t rd32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static double rdf(const unsigned char *p, int swap)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if (swap) v = __builtin_bswap64(v);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static int on_road(void *user, const gw_store_road *r)
{
    reader *rd = user;
    const unsigned char *w = r->wkb;
    int swap = w && r->wkb_len >= 9 && w[0] == 0; /* big-endian WKB on a little-endian host */
    if (!w || r->wkb_len < 9 || rd32(w + 1, swap) != 2) {
        rd->st = gw_ctx_error(rd->ctx, GW_ERR_GEOMETRY, "road %s: not a LineString", r->id);
        return 1;
    }
    size_t n = rd32(w + 5, swap);
    if (n > (r->wkb_len - 9) / 16) {
        rd->st = gw_ctx_error(rd->ctx, GW_ERR_GEOMETRY, "road %s: truncated geometry", r->id);
        return 1;
    }
    if (grow((void **)&rd->lines, &rd->cap, rd->n + 1, sizeof *rd->lines) ||
        grow((void **)&rd->ll, &rd->capp, 2 * (rd->npts + n), 2 * sizeof(double))) {
        rd->st = gw_ctx_error(rd->ctx, GW_ERR_NOMEM, "out of memory reading the roads");
        return 1;
    }
    size_t first = rd->npts, k = 0;
    for (size_t i = 0; i < n; i++) {
        double x = rdf(w + 9 + 16 * i, swap), y = rdf(w + 17 + 16 * i, swap);
        if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
            rd->st = gw_ctx_error(rd->ctx, GW_ERR_RANGE, "road %s: point %zu is outside lon/lat",
                                  r->id, i);
            return 1;
        }
        double *q = rd->ll + 2 * (first + k);
        if (k && q[-2] == x && q[-1] == y) continue; /* repeated point */
        q[0] = x, q[1] = y, k++;
    }
    if (k < 2) return 0; /* a line of one point drives nowhere */
    double kmh = r->speed_kmh > 0 ? r->speed_kmh : gw_road_default_speed(r->cls, rd->speeds);
    rline L = {r->fid,
               first,
               k,
               r->oneway,
               kmh,
               r->name && *r->name ? strdup(r->name) : NULL,
               strdup(r->cls ? r->cls : "")};
    if ((r->name && *r->name && !L.name) || !L.cls) {
        free(L.name), free(L.cls);
        rd->st = gw_ctx_error(rd->ctx, GW_ERR_NOMEM, "out of memory reading the roads");
        return 1;
    }
    rd->lines[rd->n++] = L;
    rd->npts += k;
    return 0;
}

/* ---- vertex hash: exact lon/lat → count, then node id --------------------------------------- */

typedef struct vhash {
    uint64_t *kx, *ky;
    uint32_t *count, *node; /* node UINT32_MAX until assigned */
    size_t cap;
} vhash;

static uint64_t bits(double d)
{
    if (d == 0) d = 0; /* -0 and 0 are one place */
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static size_t vh_slot(const vhash *h, double x, double y)
{
    uint64_t a = bits(x), b = bits(y);
    uint64_t k = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6));
    k ^= k >> 29;
    size_t i = (size_t)(k & (h->cap - 1));
    while (h->count[i] && (h->kx[i] != a || h->ky[i] != b)) i = (i + 1) & (h->cap - 1);
    if (!h->count[i]) h->kx[i] = a, h->ky[i] = b;
    return i;
}

/* ---- build ------------------------------------------------------------------------------------ */

static void graph_free(gw_road_graph *g)
{
    if (!g) return;
    free(g->node_xy), free(g->arcs), free(g->lonlat), free(g->xy), free(g->edges);
    free(g->out_off), free(g->out_e), free(g->in_off), free(g->in_e);
    free(g->cell_off), free(g->seg);
    for (size_t i = 0; i < g->nlines; i++) free(g->line_name[i]), free(g->line_cls[i]);
    free(g->line_name), free(g->line_cls);
    if (g->tr) gw_crs_transform_destroy(g->tr);
    if (g->tr_ctx) gw_ctx_destroy(g->tr_ctx);
    pthread_mutex_destroy(&g->tr_lock);
    free(g);
}

void gw_road_graph_destroy(gw_road_graph *g) { graph_free(g); }

static gw_status pick_srid(gw_ctx *ctx, gw_store *store, const gw_road_graph_opts *o,
                           const reader *rd, int *srid)
{
    *srid = o && o->metric_srid > 0 ? o->metric_srid : 0;
    if (!*srid) {
        gw_status st = gw_store_metric_srid(store, srid);
        if (st) return st;
    }
    if (!*srid && rd->npts) { /* the centre of the lines' box */
        double minx = 180, maxx = -180, miny = 90, maxy = -90;
        for (size_t i = 0; i < rd->npts; i++) {
            double x = rd->ll[2 * i], y = rd->ll[2 * i + 1];
            minx = fmin(minx, x), maxx = fmax(maxx, x), miny = fmin(miny, y), maxy = fmax(maxy, y);
        }
        *srid = gw_crs_metric_for((minx + maxx) / 2, (miny + maxy) / 2);
    }
    if (!*srid) *srid = 32650; /* an empty layer: any metric CRS will do */
    (void)ctx;
    return GW_OK;
}

/* Cut the lines into arcs at the node vertices and fill g's points and arcs. */
static gw_status cut_arcs(gw_ctx *ctx, gw_road_graph *g, const reader *rd, vhash *h,
                          const double *mxy)
{
    size_t cap_arcs = 0, cap_pts = 0;
    for (size_t li = 0; li < rd->n; li++) {
        const rline *L = &rd->lines[li];
        size_t start = 0;
        for (size_t j = 1; j < L->npts; j++) {
            const double *p = rd->ll + 2 * (L->pt + j);
            size_t slot = vh_slot(h, p[0], p[1]);
            if (j + 1 < L->npts && h->count[slot] < 2) continue;
            /* an arc from point start to point j of the line */
            size_t m = j - start + 1;
            if (grow((void **)&g->arcs, &cap_arcs, g->narcs + 1, sizeof *g->arcs) ||
                grow((void **)&g->lonlat, &cap_pts, g->npts + m, 2 * sizeof(double)))
                return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the road graph");
            road_arc *a = &g->arcs[g->narcs];
            const double *s = rd->ll + 2 * (L->pt + start);
            a->from = h->node[vh_slot(h, s[0], s[1])];
            a->to = h->node[slot];
            a->pt = (uint32_t)g->npts, a->npts = (uint32_t)m;
            a->fid = L->fid;
            a->line = (uint32_t)li;
            memcpy(g->lonlat + 2 * g->npts, s, m * 2 * sizeof(double));
            double len = 0;
            for (size_t k = L->pt + start; k < L->pt + j; k++)
                len += hypot(mxy[2 * k + 2] - mxy[2 * k], mxy[2 * k + 3] - mxy[2 * k + 1]);
            a->len_m = len;
            a->time_s = len / (L->kmh / 3.6);
            a->fwd = L->oneway >= 0, a->bwd = L->oneway <= 0;
            g->npts += m;
            if (len > 0) g->narcs++; /* a zero-length piece joins nothing */
            else g->npts -= m;
            start = j;
        }
    }
    return GW_OK;
}

static gw_status make_edges(gw_ctx *ctx, gw_road_graph *g)
{
    size_t ne = 0;
    for (size_t i = 0; i < g->narcs; i++) ne += g->arcs[i].fwd + g->arcs[i].bwd;
    g->edges = malloc((ne ? ne : 1) * sizeof *g->edges);
    g->out_off = calloc(g->nnodes + 1, sizeof *g->out_off);
    g->in_off = calloc(g->nnodes + 1, sizeof *g->in_off);
    g->out_e = malloc((ne ? ne : 1) * sizeof *g->out_e);
    g->in_e = malloc((ne ? ne : 1) * sizeof *g->in_e);
    if (!g->edges || !g->out_off || !g->in_off || !g->out_e || !g->in_e)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the road graph");
    for (size_t i = 0; i < g->narcs; i++) {
        const road_arc *a = &g->arcs[i];
        if (a->time_s > 0 && a->len_m / a->time_s > g->vmax) g->vmax = a->len_m / a->time_s;
        if (a->fwd)
            g->edges[g->nedges++] = (road_edge){a->from, a->to,     (uint32_t)i,
                                                1,       a->time_s, a->len_m};
        if (a->bwd)
            g->edges[g->nedges++] = (road_edge){a->to, a->from,   (uint32_t)i,
                                                0,     a->time_s, a->len_m};
    }
    for (size_t e = 0; e < ne; e++)
        g->out_off[g->edges[e].from + 1]++, g->in_off[g->edges[e].to + 1]++;
    for (size_t v = 0; v < g->nnodes; v++)
        g->out_off[v + 1] += g->out_off[v], g->in_off[v + 1] += g->in_off[v];
    uint32_t *fo = malloc((g->nnodes + 1) * sizeof *fo), *fi = malloc((g->nnodes + 1) * sizeof *fi);
    if (!fo || !fi) {
        free(fo), free(fi);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the road graph");
    }
    memcpy(fo, g->out_off, (g->nnodes + 1) * sizeof *fo);
    memcpy(fi, g->in_off, (g->nnodes + 1) * sizeof *fi);
    for (size_t e = 0; e < ne; e++) {
        g->out_e[fo[g->edges[e].from]++] = (uint32_t)e;
        g->in_e[fi[g->edges[e].to]++] = (uint32_t)e;
    }
    free(fo), free(fi);
    return GW_OK;
}

/* Move the roads' names and classes into g (arcs refer to them by line index). */
static gw_status keep_labels(gw_ctx *ctx, gw_road_graph *g, reader *rd)
{
    size_t n = rd->n ? rd->n : 1;
    if (!(g->line_name = calloc(n, sizeof *g->line_name)) ||
        !(g->line_cls = calloc(n, sizeof *g->line_cls)))
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the road graph");
    for (size_t i = 0; i < rd->n; i++) {
        g->line_name[i] = rd->lines[i].name, g->line_cls[i] = rd->lines[i].cls;
        rd->lines[i].name = rd->lines[i].cls = NULL;
    }
    g->nlines = rd->n;
    return GW_OK;
}

gw_status gw_road_graph_build(gw_ctx *ctx, gw_store *store, const gw_road_graph_opts *opts,
                              gw_road_graph **out)
{
    *out = NULL;
    if (!store) return gw_ctx_error(ctx, GW_ERR_ARG, "road graph: no store");
    if (opts && opts->speeds) {
        gw_status st = gw_road_speeds_check(ctx, opts->speeds);
        if (st) return st;
    }
    gw_road_graph *g = calloc(1, sizeof *g);
    if (!g) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&g->tr_lock, NULL);
    reader rd = {.ctx = ctx, .speeds = opts ? opts->speeds : NULL};
    int own_tx = !gw_store_in_transaction(store);
    gw_status st = own_tx ? gw_store_read_begin(store) : GW_OK;
    if (!st) st = gw_store_changes_last(store, "roads", &g->seq);
    if (!st) st = gw_store_roads_read(store, on_road, &rd);
    if (!st) st = rd.st;
    if (!st) st = pick_srid(ctx, store, opts, &rd, &g->srid);
    if (own_tx) gw_store_read_end(store);
    double *mxy = NULL;
    vhash h = {0};
    if (!st && !(gw_ctx_create(&g->tr_ctx) == GW_OK &&
                 gw_crs_transform_create(g->tr_ctx, (gw_crs){GW_CRS_EPSG, 4326},
                                         (gw_crs){GW_CRS_EPSG, g->srid}, &g->tr) == GW_OK))
        st = gw_ctx_error(ctx, GW_ERR_CRS, "road graph: no transform to EPSG:%d", g->srid);
    if (!st && rd.npts) { /* every point to the metric CRS */
        mxy = malloc(rd.npts * 2 * sizeof *mxy);
        double *ys = malloc(rd.npts * sizeof *ys);
        if (!mxy || !ys) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < rd.npts; i++) mxy[i] = rd.ll[2 * i], ys[i] = rd.ll[2 * i + 1];
        if (!st && gw_crs_transform_points(g->tr, mxy, ys, rd.npts))
            st = gw_ctx_error(ctx, GW_ERR_CRS, "road graph: cannot project the roads to EPSG:%d",
                              g->srid);
        for (size_t i = rd.npts; !st && i-- > 0;) /* interleave, from the end */
            mxy[2 * i + 1] = ys[i], mxy[2 * i] = mxy[i];
        free(ys);
    }
    if (!st && rd.npts) { /* count each vertex; ends count twice so they are nodes */
        h.cap = 16;
        while (h.cap < rd.npts * 2) h.cap *= 2;
        h.kx = malloc(h.cap * 8), h.ky = malloc(h.cap * 8);
        h.count = calloc(h.cap, 4), h.node = malloc(h.cap * 4);
        if (!h.kx || !h.ky || !h.count || !h.node)
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        else memset(h.node, 0xff, h.cap * 4);
        for (size_t li = 0; !st && li < rd.n; li++) {
            const rline *L = &rd.lines[li];
            for (size_t j = 0; j < L->npts; j++) {
                const double *p = rd.ll + 2 * (L->pt + j);
                size_t s = vh_slot(&h, p[0], p[1]);
                h.count[s] += (j == 0 || j + 1 == L->npts) ? 2 : 1;
            }
        }
        /* node ids in order of first appearance, and their metric positions */
        size_t capn = 0;
        for (size_t li = 0; !st && li < rd.n; li++) {
            const rline *L = &rd.lines[li];
            for (size_t j = 0; j < L->npts; j++) {
                size_t k = L->pt + j;
                size_t s = vh_slot(&h, rd.ll[2 * k], rd.ll[2 * k + 1]);
                if (h.count[s] < 2 || h.node[s] != UINT32_MAX) continue;
                if (grow((void **)&g->node_xy, &capn, g->nnodes + 1, 2 * sizeof(double))) {
                    st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
                    break;
                }
                g->node_xy[2 * g->nnodes] = mxy[2 * k],
                               g->node_xy[2 * g->nnodes + 1] = mxy[2 * k + 1];
                h.node[s] = (uint32_t)g->nnodes++;
            }
        }
    }
    if (!st && rd.npts) st = cut_arcs(ctx, g, &rd, &h, mxy);
    if (!st && g->npts) { /* the arcs' metric points */
        g->xy = malloc(g->npts * 2 * sizeof *g->xy);
        if (!g->xy) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        double *ys = st ? NULL : malloc(g->npts * sizeof *ys);
        if (!st && !ys) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < g->npts; i++)
            g->xy[i] = g->lonlat[2 * i], ys[i] = g->lonlat[2 * i + 1];
        if (!st && gw_crs_transform_points(g->tr, g->xy, ys, g->npts))
            st = gw_ctx_error(ctx, GW_ERR_CRS, "road graph: cannot project the roads");
        for (size_t i = g->npts; !st && i-- > 0;) g->xy[2 * i + 1] = ys[i], g->xy[2 * i] = g->xy[i];
        free(ys);
    }
    if (!st) st = make_edges(ctx, g);
    if (!st) st = road_snap_index(ctx, g, opts && opts->snap_cell_m > 0 ? opts->snap_cell_m : 250);
    free(mxy), free(h.kx), free(h.ky), free(h.count), free(h.node);
    if (!st) st = keep_labels(ctx, g, &rd);
    for (size_t i = 0; i < rd.n; i++) free(rd.lines[i].name), free(rd.lines[i].cls);
    free(rd.lines), free(rd.ll);
    if (st) {
        graph_free(g);
        return st;
    }
    *out = g;
    return GW_OK;
}

/* ---- accessors ---------------------------------------------------------------------------------- */

size_t gw_road_graph_nodes(const gw_road_graph *g) { return g ? g->nnodes : 0; }
size_t gw_road_graph_arcs(const gw_road_graph *g) { return g ? g->narcs : 0; }
size_t gw_road_graph_edges(const gw_road_graph *g) { return g ? g->nedges : 0; }
int gw_road_graph_srid(const gw_road_graph *g) { return g ? g->srid : 0; }
double gw_road_graph_max_speed(const gw_road_graph *g) { return g ? g->vmax : 0; }
int64_t gw_road_graph_seq(const gw_road_graph *g) { return g ? g->seq : 0; }

size_t gw_road_graph_bytes(const gw_road_graph *g)
{
    if (!g) return 0;
    size_t cells = (size_t)g->ncx * (size_t)g->ncy;
    return sizeof *g + g->nnodes * (16 + 16) + g->narcs * sizeof(road_arc) + g->npts * 32 +
           g->nedges * (sizeof(road_edge) + 8) + (cells + 1) * 4 +
           (cells ? g->cell_off[cells] : 0) * 8;
}

gw_status gw_road_graph_arc(const gw_road_graph *g, size_t i, gw_road_arc *out)
{
    if (!g || i >= g->narcs || !out) return GW_ERR_RANGE;
    const road_arc *a = &g->arcs[i];
    *out = (gw_road_arc){a->from,
                         a->to,
                         a->len_m,
                         a->time_s,
                         a->fwd,
                         a->bwd,
                         a->fid,
                         g->lonlat + 2 * a->pt,
                         g->xy + 2 * a->pt,
                         a->npts,
                         a->line < g->nlines ? g->line_name[a->line] : NULL,
                         a->line < g->nlines ? g->line_cls[a->line] : NULL};
    return GW_OK;
}

void gw_road_graph_node_xy(const gw_road_graph *g, uint32_t node, double *x, double *y)
{
    *x = node < g->nnodes ? g->node_xy[2 * node] : NAN;
    *y = node < g->nnodes ? g->node_xy[2 * node + 1] : NAN;
}

gw_status gw_road_graph_to_metric(gw_ctx *ctx, const gw_road_graph *g, double lon, double lat,
                                  double *x, double *y)
{
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return gw_ctx_error(ctx, GW_ERR_RANGE, "point (lon %g, lat %g) is outside lon/lat range",
                            lon, lat);
    gw_road_graph *m = (gw_road_graph *)g; /* the mutex and transform only */
    pthread_mutex_lock(&m->tr_lock);
    double px = lon, py = lat;
    gw_status st = gw_crs_transform_points(m->tr, &px, &py, 1);
    pthread_mutex_unlock(&m->tr_lock);
    if (st)
        return gw_ctx_error(ctx, GW_ERR_CRS, "cannot project (%g, %g) to EPSG:%d", lon, lat,
                            g->srid);
    *x = px, *y = py;
    return GW_OK;
}
