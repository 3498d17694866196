/* road_internal.h — the routing graph's layout, shared by the files of geo/road: road_graph.c
 * builds it, road_snap.c indexes and snaps onto its arcs, road_search.c searches it,
 * road_net.c swaps graphs of a store.  Arrays are CSR-style (offsets + entries) so a graph is
 * a few large blocks, read-only after the build. */
#ifndef GW_ROAD_INTERNAL_H
#define GW_ROAD_INTERNAL_H

#include "gridwatch/crs.h"
#include "gridwatch/road.h"

#include <pthread.h>
#include <stdint.h>

typedef struct road_arc {
    uint32_t from, to;
    uint32_t pt;   /* first point in the graph's point arrays */
    uint32_t npts; /* >= 2 */
    double len_m, time_s;
    uint8_t fwd, bwd;
    int64_t fid;
    uint32_t line; /* the road it was cut from: its name and class in the graph's line arrays */
} road_arc;

/* One directed edge: from → to over arc `arc`, along its points (dir 1) or against them. */
typedef struct road_edge {
    uint32_t from, to, arc;
    uint8_t dir;
    double time_s, len_m;
} road_edge;

struct gw_road_graph {
    int srid;
    int64_t seq;
    double vmax; /* m/s */
    size_t nnodes, narcs, nedges, npts;
    double *node_xy; /* 2 per node */
    road_arc *arcs;
    char **line_name, **line_cls; /* per road read (NULL name: none), for drawing */
    size_t nlines;
    double *lonlat, *xy; /* 2 per point */
    road_edge *edges;
    uint32_t *out_off, *out_e; /* out_e[out_off[v] .. out_off[v+1]): edges leaving v */
    uint32_t *in_off, *in_e;   /* edges entering v */
    /* the snapping grid: ncx * ncy cells of cell metres from (gx, gy); cell c holds the
     * segments seg[cell_off[c] .. cell_off[c+1]), each (arc << 0 | segment index) packed */
    double gx, gy, cell;
    int ncx, ncy;
    uint32_t *cell_off;
    uint64_t *seg; /* arc in the high 32 bits, the segment's first point (global) in the low */
    /* lon/lat → metric for queries: one transform behind a mutex, on the graph's own ctx */
    pthread_mutex_t tr_lock;
    gw_ctx *tr_ctx;
    gw_crs_transform *tr;
};

/* Build the snapping grid of g (road_snap.c). */
gw_status road_snap_index(gw_ctx *ctx, gw_road_graph *g, double cell_m);

#endif
