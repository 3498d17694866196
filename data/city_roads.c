/* city_roads.c — the synthetic city's road network (issue 20, docs/roads.md): a lattice of
 * county roads (every 12 units), township roads (every 3) and, inside towns, streets (every
 * unit), the unit 250 m / sqrt(scale) so the scale-1 city has a six-figure edge count and the
 * small ones stay small; a few rivers running north–south that cut every road crossing them
 * but at bridges (county roads always, a third of the township roads); every fourth street
 * one-way, alternating direction.  Lines run along lattice rows and columns through every
 * lattice point, so crossings are shared vertices (the routing graph's nodes).  Own RNG
 * stream (9); deterministic by seed. */
#include "city_internal.h"

#include "gridwatch/store_roads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RIVERS 4
#define BATCH 1024

typedef struct river {
    double x, amp, len, phase;
} river;

typedef struct rnet {
    city *c;
    double u, x0, y0;
    int nx, ny;
    river rv[MAX_RIVERS];
    int nrv;
    uint64_t bridge_seed;
    /* the line being built, metric */
    double *lx, *ly;
    size_t n, cap;
    /* the batch to insert */
    gw_store_road rows[BATCH];
    unsigned char *wkb[BATCH];
    char ids[BATCH][48], names[BATCH][64];
    size_t nb;
    long count;
    gw_bbox box;
} rnet;

static double river_x(const river *r, double y)
{
    return r->x + r->amp * sin(y / r->len + r->phase);
}

/* 1 when the bridge of road line `line` (row or column index, dir 0/1) over river k stands. */
static int bridged(const rnet *n, int cls, int dir, int line, int k)
{
    if (cls == 2) return 1; /* county roads */
    if (cls == 0) return 0; /* streets */
    uint64_t h = n->bridge_seed ^ ((uint64_t)line * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)k << 40) ^
                 ((uint64_t)dir << 50);
    h ^= h >> 31, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 29;
    return h % 3 == 0;
}

/* Does segment (xa, ya)-(xb, yb) of a road line cross a river without a bridge? */
static int blocked(const rnet *n, int cls, int dir, int line, double xa, double ya, double xb,
                   double yb)
{
    for (int k = 0; k < n->nrv; k++) {
        double sa = xa - river_x(&n->rv[k], ya), sb = xb - river_x(&n->rv[k], yb);
        if ((sa < 0) != (sb < 0) && !bridged(n, cls, dir, line, k)) return 1;
    }
    return 0;
}

static int in_town(const city *c, double x, double y)
{
    for (int t = 0; t < c->ntown; t++) {
        double dx = x - c->towns[t].x, dy = y - c->towns[t].y, r = 1.6 * c->towns[t].sigma;
        if (dx * dx + dy * dy <= r * r) return 1;
    }
    return 0;
}

static gw_status flush_batch(rnet *n)
{
    gw_status st = n->nb ? gw_store_roads_insert(n->c->store, n->rows, n->nb) : GW_OK;
    for (size_t i = 0; i < n->nb; i++) free(n->wkb[i]);
    n->nb = 0;
    return st;
}

static const char *const cls_name[3] = {"street", "township", "county"};

/* The line built so far becomes a road. */
static gw_status emit(rnet *n, int cls, int dir, int line, int oneway)
{
    if (n->n < 2) {
        n->n = 0;
        return GW_OK;
    }
    city *c = n->c;
    size_t m = n->n;
    n->n = 0;
    if (gw_crs_transform_points(c->to_ll, n->lx, n->ly, m))
        return gw_ctx_error(c->ctx, GW_ERR_CRS, "city: cannot project a road");
    size_t len = 9 + 16 * m;
    unsigned char *w = malloc(len);
    if (!w) return gw_ctx_error(c->ctx, GW_ERR_NOMEM, "city: out of memory");
    w[0] = 1;
    uint32_t t = 2, np = (uint32_t)m;
    memcpy(w + 1, &t, 4), memcpy(w + 5, &np, 4);
    for (size_t i = 0; i < m; i++) {
        memcpy(w + 9 + 16 * i, &n->lx[i], 8), memcpy(w + 17 + 16 * i, &n->ly[i], 8);
        n->box.minx = fmin(n->box.minx, n->lx[i]), n->box.maxx = fmax(n->box.maxx, n->lx[i]);
        n->box.miny = fmin(n->box.miny, n->ly[i]), n->box.maxy = fmax(n->box.maxy, n->ly[i]);
    }
    size_t k = n->nb++;
    snprintf(n->ids[k], sizeof n->ids[k], "%sR%06ld", c->pfx, ++n->count);
    snprintf(n->names[k], sizeof n->names[k], "%s%s %c%d", c->pfx,
             cls == 2   ? "县道"
             : cls == 1 ? "乡道"
                        : "街",
             dir ? 'N' : 'E', line);
    n->wkb[k] = w;
    n->rows[k] = (gw_store_road){.id = n->ids[k],
                                 .name = n->names[k],
                                 .cls = cls_name[cls],
                                 .oneway = oneway,
                                 .speed_kmh = NAN,
                                 .wkb = w,
                                 .wkb_len = len};
    return n->nb == BATCH ? flush_batch(n) : GW_OK;
}

static gw_status add_point(rnet *n, double x, double y)
{
    if (n->n == n->cap) {
        size_t c = n->cap ? 2 * n->cap : 256;
        double *a = realloc(n->lx, c * sizeof *a),
               *b = a ? (n->lx = a, realloc(n->ly, c * sizeof *b)) : NULL;
        if (!b) return gw_ctx_error(n->c->ctx, GW_ERR_NOMEM, "city: out of memory");
        n->ly = b, n->cap = c;
    }
    n->lx[n->n] = x, n->ly[n->n] = y, n->n++;
    return GW_OK;
}

/* One lattice row (dir 0, west → east) or column (dir 1, south → north) number `line`. */
static gw_status walk(rnet *n, int dir, int line)
{
    int cls = line % 12 == 0 ? 2 : line % 3 == 0 ? 1 : 0;
    int oneway = cls == 0 && line % 4 == 1 ? ((line / 4) % 2 ? -1 : 1) : 0;
    int steps = dir ? n->ny : n->nx;
    gw_status st = GW_OK;
    for (int i = 0; !st && i < steps; i++) {
        double xa = dir ? n->x0 + line * n->u : n->x0 + i * n->u;
        double ya = dir ? n->y0 + i * n->u : n->y0 + line * n->u;
        double xb = dir ? xa : xa + n->u, yb = dir ? ya + n->u : ya;
        double mx = (xa + xb) / 2, my = (ya + yb) / 2;
        int keep = city_locate(n->c, mx, my) >= 0 && (cls > 0 || in_town(n->c, mx, my)) &&
                   !blocked(n, cls, dir, line, xa, ya, xb, yb);
        if (!keep) {
            st = emit(n, cls, dir, line, oneway);
            continue;
        }
        if (n->n == 0) st = add_point(n, xa, ya);
        if (!st) st = add_point(n, xb, yb);
    }
    return st ? st : emit(n, cls, dir, line, oneway);
}

gw_status city_make_roads(city *c, double scale)
{
    rng r;
    rng_init(&r, c->seed, 9);
    rnet *n = calloc(1, sizeof *n);
    if (!n) return gw_ctx_error(c->ctx, GW_ERR_NOMEM, "city: out of memory");
    n->c = c;
    n->u = 250.0 / sqrt(scale);
    n->x0 = c->mbb.minx, n->y0 = c->mbb.miny;
    n->nx = (int)((c->mbb.maxx - c->mbb.minx) / n->u) + 1;
    n->ny = (int)((c->mbb.maxy - c->mbb.miny) / n->u) + 1;
    n->box = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    n->bridge_seed = rng_next(&r);
    n->nrv = 2 + rng_int(&r, MAX_RIVERS - 1);
    double wx = c->mbb.maxx - c->mbb.minx;
    for (int k = 0; k < n->nrv; k++)
        n->rv[k] = (river){c->mbb.minx + wx * (k + 0.5 + rng_uni(&r, -0.3, 0.3)) / n->nrv,
                           rng_uni(&r, 0.5, 2.0) * n->u * 4, rng_uni(&r, 3, 9) * n->u * 4,
                           rng_uni(&r, 0, 2 * M_PI)};
    gw_status st = GW_OK;
    for (int j = 0; !st && j <= n->ny; j++) st = walk(n, 0, j);
    for (int i = 0; !st && i <= n->nx; i++) st = walk(n, 1, i);
    if (!st) st = flush_batch(n);
    if (!st && n->count)
        st = gw_store_roads_log(c->store, "roads.import",
                                n->box.minx <= n->box.maxx ? &n->box : NULL, NULL);
    for (size_t i = 0; i < n->nb; i++) free(n->wkb[i]);
    free(n->lx), free(n->ly);
    free(n);
    city_progress(c, "roads", 1, 1);
    return st;
}
