/* ogc_query.h — the items parameters of OGC API – Features Part 3 and its neighbours, read for
 * ogc.c: filter (CQL2 text, filter-lang, filter-crs), sortby and properties; and the
 * /collections/{layer}/queryables document (JSON Schema) they are checked against. */
#ifndef GW_OGC_QUERY_H
#define GW_OGC_QUERY_H

#include "server.h"

#include <jansson.h>

#include "gridwatch/cql2.h"
#include "gridwatch/store_features.h"

#include <stdint.h>

/* What an items request asked for beyond Part 1; zero-initialise. */
typedef struct ogc_query {
    const char *filter, *lang, *crs, *sortby, *props; /* the raw values (the request's) */
    gw_cql2 *cql;                                     /* parsed by ogc_query_apply */
    uint32_t mask; /* properties: bit i set = field i is written (all when no `properties`) */
} ogc_query;

/* 1 when key is filter, filter-lang, filter-crs, sortby or properties (its value kept in x),
 * else 0. */
int ogc_query_arg(ogc_query *x, const char *key, const char *val);
/* Check and parse what ogc_query_arg kept for `layer` into f (cql, sort) and x->mask; -1 when a
 * 400 problem was answered.  Call ogc_query_free after, whatever it returned. */
int ogc_query_apply(gw_req *req, ogc_query *x, gw_layer layer, gw_feature_filter *f);
void ogc_query_free(ogc_query *x);
/* Items requests whose filter was accepted since the process started (for /metrics). */
unsigned long long ogc_query_filters_total(void);
/* The conformance classes these parameters and the queryables implement (NULL-terminated). */
extern const char *const ogc_query_conf[];
/* GET /collections/{layer}/queryables: the layer's fields and geometry as a JSON Schema
 * (application/schema+json). */
int ogc_h_queryables(gw_req *req);
/* The OpenAPI parameters filter, filter-lang, filter-crs, sortby and properties of the items of
 * `layer`, appended to the array ps (ogc_openapi.c), with examples valid on that layer. */
void ogc_query_params(json_t *ps, gw_layer layer);
/* The rel of the collection's link to its queryables. */
#define OGC_REL_QUERYABLES "http://www.opengis.net/def/rel/ogc/1.0/queryables"

#endif
