/* road.h — the road network in memory (issue 20, docs/roads.md): the routing graph built from
 * the road layer (store_roads.h), snapping a point onto it, and one-to-many travel-time
 * searches (who reaches this point first).  The engine side of "dispatch by road"; dispatch.h
 * ranks teams with it and the isochrone code builds on the same search.
 *
 * The graph.  Every road line is cut at its vertices shared with another line (or with
 * itself) and at its ends: those points are the nodes, the pieces between them the arcs.  An
 * arc keeps its polyline (lon/lat and metric), its length in metres (planar, in the dataset's
 * metric CRS: the model's gw_model_metric_srid), and a travel time in seconds
 * (length / speed; the road's speed_kmh or the default of its class).  Each arc gives one or
 * two directed edges: forward (along the line as stored) unless oneway is -1, backward unless
 * oneway is 1.  Lines that cross without sharing a vertex (a bridge over a road) do not meet.
 *
 * Snapping.  A point snaps to the nearest arc (planar metric distance; ties to the lower arc
 * index), at the nearest point on it: `frac` of its length from the arc's start node.  From
 * there a vehicle drives forward to the end node in (1 - frac) * time when the forward edge
 * exists, backward to the start node in frac * time when the backward edge exists.
 *
 * Thread safety.  A gw_road_graph is immutable once built: any number of threads may snap and
 * search it at once, each with its own gw_road_search (the per-thread work space).  A
 * gw_road_net holds the current graph of a store and swaps in a new one when the roads
 * change; readers take a reference (gw_road_net_acquire) and keep it as long as they like. */
#ifndef GRIDWATCH_ROAD_H
#define GRIDWATCH_ROAD_H

#include "gridwatch/common.h"
#include "gridwatch/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tags and speeds (road_tags.c; pure functions, no allocation) ------------------------- */

/* The default speed of a road class in km/h: OpenStreetMap `highway` values (motorway 100,
 * trunk 80, primary 60, secondary 50, tertiary 40, unclassified 30, residential 30,
 * living_street 10, service 20, the *_link roads a little slower than their road, track 15;
 * the synthetic city's county 60, township 40, street 30) — the table in docs/roads.md.
 * An unknown class gets 25.  overrides (may be NULL): "class=kmh,class=kmh" to change or add
 * classes; a malformed override list is ignored here (gw_road_speeds_check says why). */
double gw_road_default_speed(const char *cls, const char *overrides);
/* GW_OK when overrides is a well-formed "class=kmh,…" list with speeds in (0, 300], else
 * GW_ERR_ARG with the reason on ctx. */
gw_status gw_road_speeds_check(gw_ctx *ctx, const char *overrides);
/* 1 when an OpenStreetMap highway value is a road for vehicles (motorway … service, the links,
 * track, living_street, road); 0 for footway, path, cycleway, steps, pedestrian, bridleway,
 * construction, proposed, platform, corridor and anything unknown. */
int gw_road_class_drivable(const char *highway);
/* A `maxspeed` value in km/h into *kmh: "50", "50 km/h", "30 mph", "30mph", "10 knots", "none"
 * and "signals"/"variable" give *kmh = 0 (no limit or unknown: use the class's default), a
 * ";"-separated list takes its first value, country codes such as "DE:urban" are unknown
 * (0).  GW_ERR_FORMAT (no message) for text that is none of these, or a speed outside
 * (0, 300]. */
gw_status gw_road_parse_maxspeed(const char *text, double *kmh);
/* The direction of a way from its `oneway` and `junction` tags: 1 for oneway yes/true/1 or a
 * junction=roundabout/circular without an explicit oneway=no, -1 for oneway -1/reverse, 0
 * otherwise (no, false, 0, absent, and anything unknown such as "reversible"). */
int gw_road_parse_oneway(const char *oneway, const char *junction);
/* The value of key in an OGR OSM driver's other_tags text ("\"oneway\"=>\"yes\",
 * \"maxspeed\"=>\"50\"") into buf[cap] (unescaped, truncated to fit); 1 when found, 0 when
 * not or when the text is malformed at or before the key.  No allocation. */
int gw_road_tag(const char *other_tags, const char *key, char *buf, size_t cap);

/* ---- the graph ------------------------------------------------------------------------------ */

typedef struct gw_road_graph gw_road_graph;

typedef struct gw_road_graph_opts {
    int metric_srid;    /* EPSG of the metric CRS; 0 = the store's, or chosen from the data */
    const char *speeds; /* class speed overrides, "class=kmh,…" (NULL = the table) */
    double snap_cell_m; /* cell of the snapping grid; 0 = 250 */
} gw_road_graph_opts;

/* Build the graph from the store's road layer (one read transaction, which it opens unless
 * the caller holds one).  An empty road layer gives an empty graph (0 nodes).  opts may be
 * NULL.  Errors: GW_ERR_DB, GW_ERR_CRS, GW_ERR_GEOMETRY (unreadable line), GW_ERR_NOMEM.
 * Caller frees with gw_road_graph_destroy(). */
gw_status gw_road_graph_build(gw_ctx *ctx, gw_store *store, const gw_road_graph_opts *opts,
                              gw_road_graph **out);
/* Accepts NULL. */
void gw_road_graph_destroy(gw_road_graph *g);

/* Sizes and provenance. */
size_t gw_road_graph_nodes(const gw_road_graph *g);
size_t gw_road_graph_arcs(const gw_road_graph *g);
size_t gw_road_graph_edges(const gw_road_graph *g); /* directed */
int gw_road_graph_srid(const gw_road_graph *g);
/* The change-log seq of the last roads change the graph includes (0 when none). */
int64_t gw_road_graph_seq(const gw_road_graph *g);
/* The fastest speed of any arc in metres per second (0 for an empty graph): travel time over
 * a straight-line distance D is at least D / this, the bound dispatch uses to search only the
 * teams that can still arrive first. */
double gw_road_graph_max_speed(const gw_road_graph *g);
/* Bytes the graph holds (approximate). */
size_t gw_road_graph_bytes(const gw_road_graph *g);

/* One arc, for export (pgRouting cross-checks) and drawing.  Borrowed, valid while g lives. */
typedef struct gw_road_arc {
    uint32_t from, to;       /* node indices at the start and the end of the line */
    double length_m, time_s; /* time_s: one way along the whole arc (both directions alike) */
    int fwd, bwd;            /* 1 when the directed edge from→to (to→from) exists */
    int64_t road_fid;        /* the road row it was cut from */
    const double *lonlat;    /* npts (lon, lat) pairs, from `from` to `to` */
    const double *xy;        /* the same in the metric CRS */
    size_t npts;
    const char *name; /* the road's name (NULL when it has none) */
    const char *cls;  /* its class (e.g. "primary", "residential") */
} gw_road_arc;
/* Arc i (i < gw_road_graph_arcs); GW_ERR_RANGE past the end. */
gw_status gw_road_graph_arc(const gw_road_graph *g, size_t i, gw_road_arc *out);
/* The metric position of node i. */
void gw_road_graph_node_xy(const gw_road_graph *g, uint32_t node, double *x, double *y);

/* Project lon/lat to the graph's metric CRS (thread-safe: the graph keeps a small pool of
 * PROJ transforms).  GW_ERR_CRS when PROJ fails. */
gw_status gw_road_graph_to_metric(gw_ctx *ctx, const gw_road_graph *g, double lon, double lat,
                                  double *x, double *y);

/* ---- snapping -------------------------------------------------------------------------------- */

typedef struct gw_road_snap {
    uint32_t arc;  /* the arc snapped onto */
    double frac;   /* position on it, 0 at its `from` node .. 1 at its `to` node */
    double dist_m; /* from the point to the road (metric planar) */
    double x, y;   /* the snapped point (metric) */
    double to_s;   /* seconds to drive from here to the arc's `to` node; -1 when not allowed */
    double from_s; /* seconds to drive from here to its `from` node; -1 when not allowed */
    double len_to_m, len_from_m; /* metres from here to the `to` / `from` node along the arc */
} gw_road_snap;

/* Snap metric (x, y) to the nearest arc within max_m metres (<= 0 = unlimited).
 * GW_ERR_NOT_FOUND (no message) when no arc is that close or the graph is empty.  Uses the
 * graph's grid of segments; no allocation; thread-safe. */
gw_status gw_road_snap_point(const gw_road_graph *g, double x, double y, double max_m,
                             gw_road_snap *out);

/* ---- searches -------------------------------------------------------------------------------- */

/* A per-thread work space for searches on one graph (labels, heap): O(nodes) memory, reused
 * from search to search (resetting only what the last search touched).  Caller frees with
 * gw_road_search_destroy(). */
typedef struct gw_road_search gw_road_search;
gw_status gw_road_search_create(gw_ctx *ctx, const gw_road_graph *g, gw_road_search **out);
void gw_road_search_destroy(gw_road_search *s);

/* The travel of one source to the destination. */
typedef struct gw_road_eta {
    size_t source;  /* index into the sources given */
    double eta_s;   /* seconds; INFINITY when unreachable */
    double route_m; /* metres along the roads (the snapped ends included) */
} gw_road_eta;

/* Who reaches `dest` first: a Dijkstra search from dest backwards over the directed edges
 * (binary heap), with every source (a snapped position) hung on the nodes it can drive to;
 * it stops when k sources are settled (k = 0: all of them, or all the graph can reach).
 * out[0..*n) receives them in increasing eta (ties: the lower source index); a source on the
 * same arc as dest and before it in an allowed direction drives there directly.  Sources
 * that cannot reach dest are not listed (so *n < k when fewer can).  The snaps must come from
 * the same graph.  The search stays in `s` for gw_road_route until
 * the next search (src need not outlive the call).  No allocation beyond the work space's
 * growth.  GW_ERR_ARG for a snap of another graph. */
gw_status gw_road_nearest(gw_road_search *s, const gw_road_snap *dest, const gw_road_snap *src,
                          size_t nsrc, size_t k, gw_road_eta *out, size_t *n);

/* Travel times from one snapped point to every node (backward = 0: from `from` to the nodes;
 * backward = 1: from the nodes to `from`), up to max_s seconds (<= 0 = unlimited): the
 * search isochrones stand on.  Afterwards gw_road_search_node_time(s, v) reads a node's
 * time (INFINITY when not reached). */
gw_status gw_road_times(gw_road_search *s, const gw_road_snap *from, int backward, double max_s);
double gw_road_search_node_time(const gw_road_search *s, uint32_t node);
/* The travel time (seconds) between two snapped points by road; INFINITY when unreachable.
 * One search from `to` backwards stopping when `from` settles. */
gw_status gw_road_eta_between(gw_road_search *s, const gw_road_snap *from, const gw_road_snap *to,
                              double *eta_s, double *route_m);

/* The route of source `i` of the last gw_road_nearest call (one of the sources it listed) to
 * its destination, as lon/lat points into a malloc'ed array of *npts (lon, lat) pairs.
 * Caller frees *coords with free().  GW_ERR_NOT_FOUND when that source was not settled. */
gw_status gw_road_route(gw_road_search *s, size_t source, double **coords, size_t *npts);

/* ---- the network of a store: the current graph, rebuilt when the roads change ------------- */

typedef struct gw_road_net gw_road_net;

/* Build the graph of `store` (see gw_road_graph_build; opts may be NULL and is copied).
 * Caller frees with gw_road_net_destroy(). */
gw_status gw_road_net_create(gw_ctx *ctx, gw_store *store, const gw_road_graph_opts *opts,
                             gw_road_net **out);
/* Accepts NULL.  Graphs still acquired stay valid until released. */
void gw_road_net_destroy(gw_road_net *net);
/* Rebuild the graph when the store's last "roads" change is newer than the graph's (a
 * rebuild of the whole graph, off to the side, then swapped in).  *rebuilt (may be NULL) is
 * set to 1 when it did.  Call from one thread at a time. */
gw_status gw_road_net_refresh(gw_ctx *ctx, gw_road_net *net, gw_store *store, int *rebuilt);
/* The current graph, with a reference the caller gives back with gw_road_net_release.
 * Never NULL after a successful create.  Thread-safe. */
const gw_road_graph *gw_road_net_acquire(gw_road_net *net);
void gw_road_net_release(gw_road_net *net, const gw_road_graph *g);

#ifdef __cplusplus
}
#endif
#endif
