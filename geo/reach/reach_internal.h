/* reach_internal.h — what the files of geo/reach share: the reached pieces of the roads within
 * a band (reach_pieces.c builds them from node times and the sources' own arcs) and their
 * buffer into an area. */
#ifndef GW_REACH_INTERNAL_H
#define GW_REACH_INTERNAL_H

#include "gridwatch/reach.h"

#include <stddef.h>
#include <stdint.h>

/* The precision grid the buffers are made on (metres). */
#define RC_GRID_M 0.01

/* Polylines in the graph's metric CRS: piece k is points off[k] .. off[k + 1]. */
typedef struct rc_pieces {
    double *xy;
    size_t npts, cap;
    size_t *off; /* n + 1 entries once n > 0 */
    size_t n, offcap;
    double len_m; /* total length */
    int oom;
} rc_pieces;

void rc_pieces_free(rc_pieces *p);

/* The options with their defaults filled in. */
gw_reach_opts rc_opts(const gw_reach_opts *o);

/* The pieces of every arc of g reached within max_s seconds, given each node's time
 * (INFINITY when not reached) and the sources snapped onto arcs (each at time 0).  Appends to
 * p; returns 0, or -1 when out of memory. */
int rc_pieces_build(const gw_road_graph *g, const double *node_t, const gw_road_snap *src,
                    size_t nsrc, double max_s, rc_pieces *p);

/* The buffer of width w around pieces [0, n) of p, or only their segments meeting box when box
 * is not NULL (runs of consecutive such segments; `which` lists the piece indices to look at,
 * NULL = all).  Returns a new geometry (an empty polygon when nothing), NULL when GEOS fails. */
GEOSGeometry *rc_buffer(GEOSContextHandle_t h, const rc_pieces *p, const size_t *which, size_t n,
                        const gw_bbox *box, double w, int quad_segs);

/* The pieces of one band in a bucket grid: cell c lists item[off[c] .. off[c + 1]). */
typedef struct rc_bucket {
    rc_pieces p;
    double cell, x0, y0;
    int nx, ny;
    size_t *off, *item;
} rc_bucket;
/* Index b->p's pieces in cells of `cell` metres; 0, or -1 when out of memory. */
int rc_bucket_index(rc_bucket *b, double cell);
void rc_bucket_free(rc_bucket *b);
/* The pieces near box (each once: stamp[piece] == mark marks one seen) into *which (grown);
 * their number, or (size_t)-1 when out of memory. */
size_t rc_bucket_near(const rc_bucket *b, const gw_bbox *box, uint32_t *stamp, uint32_t mark,
                      size_t **which, size_t *cap);
#endif
