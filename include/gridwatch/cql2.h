/* cql2.h — OGC CQL2 text (OGC API – Features Part 3 filters) parsed and type-checked against a
 * layer's fields into a small tree the store turns into SQL (store_features.h's filter carries
 * it).  Basic CQL2, advanced comparisons (LIKE, BETWEEN, IN), spatial functions (S_INTERSECTS …
 * on WKT or BBOX literals) and temporal functions on instants (T_BEFORE … with TIMESTAMP, DATE
 * and INTERVAL), the latter lowered at parse time to comparisons of the layer's time field. */
#ifndef GRIDWATCH_CQL2_H
#define GRIDWATCH_CQL2_H

#include "gridwatch/layer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most nodes one filter may have: a filter is a URL parameter, not a program. */
#define GW_CQL2_MAX_NODES 512
/* The deepest nesting of parentheses and NOTs. */
#define GW_CQL2_MAX_DEPTH 64

typedef enum gw_cql2_kind {
    GW_CQL2_AND = 0, /* a AND b */
    GW_CQL2_OR,      /* a OR b */
    GW_CQL2_NOT,     /* NOT a */
    GW_CQL2_CONST,   /* TRUE or FALSE (num.i) */
    GW_CQL2_CMP,     /* a op b: scalars (cmp) */
    GW_CQL2_LIKE,    /* a LIKE b: a text property, a string pattern (% and _, \ escapes) */
    GW_CQL2_BETWEEN, /* a BETWEEN b AND c */
    GW_CQL2_IN,      /* a IN (list…): the list is the chain of `next` from b */
    GW_CQL2_ISNULL,  /* a IS NULL (a property or the geometry) */
    GW_CQL2_SPATIAL, /* sfn(geometry, literal in wkb) */
    GW_CQL2_PROP,    /* a scalar: the property field (index in gw_layer_fields) */
    GW_CQL2_GEOM,    /* the geometry property */
    GW_CQL2_LIT      /* a scalar literal: type, and text / num */
} gw_cql2_kind;

typedef enum gw_cql2_cmp {
    GW_CQL2_EQ = 0,
    GW_CQL2_NE,
    GW_CQL2_LT,
    GW_CQL2_GT,
    GW_CQL2_LE,
    GW_CQL2_GE
} gw_cql2_cmp;

/* The spatial relations, as their SQL/MM names (ST_Intersects …). */
typedef enum gw_cql2_sfn {
    GW_CQL2_S_INTERSECTS = 0,
    GW_CQL2_S_DISJOINT,
    GW_CQL2_S_WITHIN,
    GW_CQL2_S_CONTAINS,
    GW_CQL2_S_EQUALS,
    GW_CQL2_S_TOUCHES,
    GW_CQL2_S_CROSSES,
    GW_CQL2_S_OVERLAPS
} gw_cql2_sfn;

/* The type of a scalar: a property's field type, or a literal's. */
typedef enum gw_cql2_type {
    GW_CQL2_T_TEXT = 0,
    GW_CQL2_T_INT,
    GW_CQL2_T_REAL,
    GW_CQL2_T_TIME, /* Unix seconds in num.i */
    GW_CQL2_T_BOOL
} gw_cql2_type;

typedef struct gw_cql2_node {
    gw_cql2_kind kind;
    int a, b, c, next; /* child nodes by index, -1 when none */
    int field;         /* PROP: index in gw_layer_fields() */
    gw_cql2_cmp cmp;   /* CMP */
    gw_cql2_sfn sfn;   /* SPATIAL */
    gw_cql2_type type; /* PROP, LIT: the scalar's type */
    int neg;           /* LIKE, BETWEEN, IN, ISNULL: NOT LIKE, NOT BETWEEN, NOT IN, IS NOT NULL */
    const char *text;  /* LIT text (owned by the filter); LIKE: in b */
    struct {
        int64_t i;
        double d;
    } num;                    /* LIT numbers: INT in i (and d), REAL in d, TIME in i, BOOL in i */
    const unsigned char *wkb; /* SPATIAL: the literal as ISO WKB, lon/lat */
    size_t wkb_len;
    gw_bbox env; /* SPATIAL: the literal's envelope (for the spatial index) */
} gw_cql2_node;

/* A parsed filter: nodes[root] is the predicate. */
typedef struct gw_cql2 {
    gw_layer layer;
    int root, n;
    gw_cql2_node *nodes;
} gw_cql2;

/* Options of gw_cql2_parse. */
typedef struct gw_cql2_opts {
    int swap_xy; /* the literals' coordinates are lat/lon (filter-crs EPSG:4326) */
} gw_cql2_opts;

/* Parse CQL2 text for `layer`: property names (plain or double-quoted) must be the layer's
 * fields or "geometry"; literals must fit the property they meet.  On success *out is the tree
 * (caller frees with gw_cql2_free).  GW_ERR_FORMAT for a syntax error, GW_ERR_ARG for a property
 * the layer does not have or a type that does not fit, GW_ERR_RANGE for too many nodes or too
 * deep a nesting; the message on ctx says what and where ("at 12: ..."), with the offset (0-based
 * byte) also in *err_pos when err_pos is not NULL (-1 on success). */
gw_status gw_cql2_parse(gw_ctx *ctx, gw_layer layer, const char *text, const gw_cql2_opts *opts,
                        gw_cql2 **out, int *err_pos);
/* Free a filter (accepts NULL). */
void gw_cql2_free(gw_cql2 *f);
/* The CQL2 text of a filter, normalised (fully parenthesised, literals as CQL2 writes them),
 * into buf; returns the length it needed (as snprintf).  For logs and tests: parsing it gives
 * the same tree. */
size_t gw_cql2_format(const gw_cql2 *f, char *buf, size_t cap);
/* The queryables of a layer in one line ("id, name, …, geometry") into buf, for messages;
 * returns buf. */
const char *gw_cql2_queryables(gw_layer layer, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
