/* openapi_ops.h — what /openapi.json says about each route that the route table cannot: the
 * served path (with its extension), operationId, summary, parameters with examples, the success
 * status and content type.  One entry per route, keyed by "METHOD pattern"; a route without an
 * entry is listed as undocumented and the openapi test fails on it (tests/http/test_openapi.c). */
#ifndef GW_OPENAPI_OPS_H
#define GW_OPENAPI_OPS_H

#include <stddef.h>

#define OA_MAX_PARAMS 20

/* One operation.  A parameter is a spec string, "NAME IN TYPE EXAMPLE DESCRIPTION…":
 *   IN       path, query, or query! (a required query parameter)
 *   TYPE     string, integer, integer:MIN:MAX, number, boolean, enum:a|b|c, or tile_layer
 *            (the served tile layers)
 *   EXAMPLE  the value a client sends (no spaces), "-" for none
 * or "@NAME", a reference to #/components/parameters/NAME (bbox, datetime, limit, crs, bbox-crs,
 * f, offset).  On the routes under /collections/{layer}, "{layer}" is expanded per collection
 * and op_id takes the collection's name in CamelCase through its "%s". */
typedef struct oa_op {
    const char *route;        /* "GET /tiles/{layer}/{z}/{x}/{y}": the route's method and pattern */
    const char *path;         /* the path as served ("…/{y}.mvt"); NULL: the pattern */
    const char *op_id;        /* operationId */
    const char *tag;          /* its tag (one of the document's tags) */
    const char *summary;      /* one line */
    int status;               /* the success status */
    const char *type;         /* its content type; NULL for an empty answer (204) */
    const char *schema;       /* the success body: #/components/schemas/<schema>; or its shape,
                           "{a$,b#,c[],d{},e}" (an object that holds a string a, an integer b, an
                           array c, an object d and e) or "[{…}]" (an array of such); or NULL */
    const char *body;         /* the request body's content type, or NULL for none */
    const char *body_example; /* a JSON example of the request body, or NULL */
    const char *params[OA_MAX_PARAMS];
} oa_op;

/* The entry of a route ("GET", "/tiles/{file}"), or NULL when it has none. */
const oa_op *oa_op_find(const char *method, const char *pattern);
/* The i-th entry, NULL past the end (tests walk them all). */
const oa_op *oa_op_at(size_t i);

#endif
