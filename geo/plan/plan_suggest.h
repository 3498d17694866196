/* plan_suggest.h — what plan_suggest.c (the greedy loop, loads, candidates) and
 * plan_suggest_split.c (the geometry of a split: axes, half planes, the best offset) share. */
#ifndef GRIDWATCH_PLAN_SUGGEST_H
#define GRIDWATCH_PLAN_SUGGEST_H

#include "plan_internal.h"

#define SG_MIN_PIECE_M2 1000.0 /* a split never leaves a piece validation calls a sliver */
#define SG_COMPACT_FLOOR 0.2   /* default Polsby–Popper floor */
#define SG_TRIES 32            /* candidates looked at per round on each side */
#define SG_MAX_EDITS 100000

typedef struct sg_grid {
    char *id, *township, *village; /* merges stay within one township and village */
    GEOSGeometry *g;               /* lon/lat as stored in the draft */
    double load;
    double x0, y0, x1, y1; /* envelope */
    int alive, nosplit, nomerge;
} sg_grid;

typedef struct sg {
    pl p;
    gw_store *s;
    int incidents;   /* target: 1 incidents, 0 population */
    double floor_pp; /* compactness floor */
    const char *who;
    int64_t draft; /* the new draft */
    sg_grid *g;
    size_t n, cap;
    char from[32];                /* the incident window's start (as gw_plan_balance) */
    gw_store_plan_incidents *pts; /* the window's incidents, by box */
} sg;

typedef struct pts {
    double *xy; /* lon/lat pairs */
    size_t n, cap;
} pts;

/* A planned split: the line (lon/lat) and the loads expected on each side. */
typedef struct split_plan {
    double ax, ay, bx, by;
    double l1, l2;
    double score, pp;
    int ok;
} split_plan;

/* A local equirectangular frame around (lon0, lat0), in metres. */
typedef struct frame {
    double lon0, lat0, kx, ky;
} frame;

static inline void to_frame(const frame *f, double lon, double lat, double *x, double *y)
{
    *x = (lon - f->lon0) * f->kx;
    *y = (lat - f->lat0) * f->ky;
}

static inline void from_frame(const frame *f, double x, double y, double *lon, double *lat)
{
    *lon = f->lon0 + x / f->kx;
    *lat = f->lat0 + y / f->ky;
}

/* Polsby–Popper compactness 4πA/P² of g (its area in m² into *area). */
double sgs_compactness(sg *S, const GEOSGeometry *g, double *area);
/* g itself when it is one polygon, its only polygon when a collection holds one, else NULL. */
const GEOSGeometry *sgs_single(sg *S, const GEOSGeometry *g);
/* The best straight split of grid g (loads from the incidents P, or by area): best->ok is 0
 * when no offset along either axis gives two acceptable pieces. */
gw_status sgs_plan_split(sg *S, const sg_grid *g, const pts *P, split_plan *best);

#endif
