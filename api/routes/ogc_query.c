/* ogc_query.c — OGC API – Features Part 3 on the items route: `filter` in CQL2 text
 * (filter-lang cql2-text, or cql-text as GDAL 3.6's OAPIF driver names it; filter-crs CRS84 or
 * EPSG:4326), parsed by geo/core's CQL2 parser against the collection's fields and evaluated by
 * the store as SQL; `sortby` (+a,-b) and `properties` (a,b); and the queryables document those
 * names come from.  Every refusal is a 400 that names the parameter, the place in the filter
 * and what would be accepted. */
#include "ogc_query.h"

#include "http_util.h"
#include "ogc.h"
#include "problem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ogc_query_conf[] = {
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/property-selection",
    NULL};

/* A process-wide count, as the server's own request counters: one server per process. */
static unsigned long long filters_total;

unsigned long long ogc_query_filters_total(void)
{
    return __atomic_load_n(&filters_total, __ATOMIC_RELAXED);
}

int ogc_query_arg(ogc_query *x, const char *key, const char *val)
{
    const char **slot = strcmp(key, "filter") == 0        ? &x->filter
                        : strcmp(key, "filter-lang") == 0 ? &x->lang
                        : strcmp(key, "filter-crs") == 0  ? &x->crs
                        : strcmp(key, "sortby") == 0      ? &x->sortby
                        : strcmp(key, "properties") == 0  ? &x->props
                                                          : NULL;
    if (slot) *slot = val;
    return slot != NULL;
}

/* The next comma-separated item of *s (blanks trimmed) into item; 0 at the end. */
static int item(const char **s, char *out, size_t cap)
{
    const char *c = *s;
    if (!c || !*c) return 0;
    size_t n = strcspn(c, ",");
    *s = c[n] ? c + n + 1 : c + n;
    while (n && (*c == ' ' || *c == '\t')) c++, n--;
    while (n && (c[n - 1] == ' ' || c[n - 1] == '\t')) n--;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), c);
    return 1;
}

static int parse_filter(gw_req *req, ogc_query *x, gw_layer layer, gw_feature_filter *f)
{
    if (x->lang && strcmp(x->lang, "cql2-text") && strcmp(x->lang, "cql-text")) {
        gw_req_problem(req, 400, NULL,
                       "parameter 'filter-lang': '%s' is not offered; use cql2-text (the default)",
                       x->lang);
        return -1;
    }
    gw_cql2_opts o = {0};
    if (x->crs) {
        static const char *const lonlat[] = {GW_OGC_CRS84, "CRS84", "OGC:CRS84",
                                             "http://www.opengis.net/def/crs/EPSG/0/4326#lonlat"};
        int ok = 0;
        for (size_t i = 0; i < sizeof lonlat / sizeof lonlat[0]; i++)
            ok |= !strcmp(x->crs, lonlat[i]);
        if (!strcmp(x->crs, "http://www.opengis.net/def/crs/EPSG/0/4326") ||
            !strcmp(x->crs, "EPSG:4326"))
            ok = 1, o.swap_xy = 1;
        if (!ok) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'filter-crs': '%s' is not offered; use " GW_OGC_CRS84
                           " (the default) or http://www.opengis.net/def/crs/EPSG/0/4326",
                           x->crs);
            return -1;
        }
    }
    gw_ctx *ctx = gw_req_ctx(req);
    int pos = -1;
    gw_status st = gw_cql2_parse(ctx, layer, x->filter, &o, &x->cql, &pos);
    if (st == GW_ERR_NOMEM) {
        gw_req_problem(req, 500, NULL, "out of memory reading the filter");
        return -1;
    }
    if (st) {
        size_t n = strlen(x->filter);
        int at = pos < 0 ? 0 : pos > (int)n ? (int)n : pos;
        gw_req_problem(req, 400, NULL, "parameter 'filter': %s (near \"%.24s\")",
                       gw_ctx_errmsg(ctx), x->filter + at);
        gw_ctx_clear_error(ctx);
        return -1;
    }
    f->cql = x->cql;
    __atomic_fetch_add(&filters_total, 1, __ATOMIC_RELAXED);
    return 0;
}

static int parse_sortby(gw_req *req, ogc_query *x, gw_layer layer, gw_feature_filter *f)
{
    const char *s = x->sortby;
    char it[128], names[512];
    f->nsort = 0;
    while (item(&s, it, sizeof it)) {
        const char *name = it;
        int desc = 0;
        if (*name == '+' || *name == '-') desc = *name++ == '-';
        size_t n = strlen(name);
        if (n > 4 && strcasecmp(name + n - 4, ":asc") == 0) it[strlen(it) - 4] = 0;
        else if (n > 5 && strcasecmp(name + n - 5, ":desc") == 0) it[strlen(it) - 5] = 0, desc = 1;
        int fi = gw_layer_field_index(layer, name);
        if (fi < 0) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'sortby': unknown property '%s'; sortables of %s: %s", name,
                           gw_layer_name(layer), gw_cql2_queryables(layer, names, sizeof names));
            return -1;
        }
        if (f->nsort >= GW_FEATURE_MAX_SORT) {
            gw_req_problem(req, 400, NULL, "parameter 'sortby': at most %d properties",
                           GW_FEATURE_MAX_SORT);
            return -1;
        }
        f->sort_field[f->nsort] = fi, f->sort_desc[f->nsort] = desc, f->nsort++;
    }
    if (f->nsort == 0) {
        gw_req_problem(req, 400, NULL,
                       "parameter 'sortby': name at least one property (+name or -name)");
        return -1;
    }
    return 0;
}

static int parse_props(gw_req *req, ogc_query *x, gw_layer layer)
{
    const char *s = x->props;
    char it[128], names[512];
    x->mask = 0;
    while (item(&s, it, sizeof it)) {
        int fi = gw_layer_field_index(layer, it);
        if (fi < 0 || fi >= 32) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'properties': unknown property '%s'; properties of %s: %s",
                           it, gw_layer_name(layer),
                           gw_cql2_queryables(layer, names, sizeof names));
            return -1;
        }
        x->mask |= 1u << fi;
    }
    return 0;
}

int ogc_query_apply(gw_req *req, ogc_query *x, gw_layer layer, gw_feature_filter *f)
{
    x->mask = ~0u;
    if (x->filter && parse_filter(req, x, layer, f)) return -1;
    if (x->sortby && parse_sortby(req, x, layer, f)) return -1;
    if (x->props && parse_props(req, x, layer)) return -1;
    return 0;
}

void ogc_query_free(ogc_query *x)
{
    gw_cql2_free(x->cql);
    x->cql = NULL;
}

void ogc_query_params(json_t *ps, gw_layer layer)
{
    static const char *const ex[GW_LAYER_COUNT] = {"population > 1000", "name LIKE '%'",
                                                   "status = 'online' AND fov >= 60",
                                                   "members >= 2", "severity >= 3"};
    size_t nf;
    const gw_field *fl = gw_layer_fields(layer, &nf);
    json_array_append_new(
        ps,
        json_pack("{s:s,s:s,s:s,s:b,s:{s:s},s:s}", "name", "filter", "in", "query", "description",
                  "A CQL2 text filter (OGC API - Features Part 3): comparisons, AND/OR/NOT, IS "
                  "NULL, LIKE, BETWEEN, IN, S_INTERSECTS and the other spatial functions on WKT "
                  "or BBOX literals, T_BEFORE/T_AFTER/T_DURING/T_INTERSECTS on the time field; "
                  "the names are the queryables'.",
                  "required", 0, "schema", "type", "string", "example", ex[layer]));
    json_array_append_new(
        ps, json_pack("{s:s,s:s,s:s,s:b,s:{s:s,s:[s,s],s:s}}", "name", "filter-lang", "in", "query",
                      "description",
                      "The filter's language: cql2-text (cql-text: the same, GDAL's name)",
                      "required", 0, "schema", "type", "string", "enum", "cql2-text", "cql-text",
                      "default", "cql2-text"));
    json_array_append_new(ps, json_pack("{s:s,s:s,s:s,s:b,s:{s:s,s:s,s:[s,s],s:s}}", "name",
                                        "filter-crs", "in", "query", "description",
                                        "The CRS of the filter's geometry literals", "required", 0,
                                        "schema", "type", "string", "format", "uri", "enum",
                                        GW_OGC_CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326",
                                        "default", GW_OGC_CRS84));
    json_array_append_new(
        ps, json_pack("{s:s,s:s,s:s,s:b,s:s,s:b,s:{s:s,s:{s:s}},s:[s]}", "name", "sortby", "in",
                      "query", "description",
                      "Sort by these properties: +name ascending (the default), -name descending; "
                      "ties in storage order",
                      "required", 0, "style", "form", "explode", 0, "schema", "type", "array",
                      "items", "type", "string", "example", "-id"));
    json_array_append_new(ps,
                          json_pack("{s:s,s:s,s:s,s:b,s:s,s:b,s:{s:s,s:{s:s}},s:[s]}", "name",
                                    "properties", "in", "query", "description",
                                    "Only these properties in each feature", "required", 0, "style",
                                    "form", "explode", 0, "schema", "type", "array", "items",
                                    "type", "string", "example", nf > 1 ? fl[1].name : "id"));
}

int ogc_h_queryables(gw_req *req)
{
    gw_layer layer;
    const char *name = gw_req_param(req, "layer"), *fq = gw_req_query(req, "f");
    if (!name || gw_layer_from_name(name, &layer) != GW_OK) {
        gw_req_problem(
            req, 404, NULL,
            "no collection '%s'; collections: grids, police_rooms, cameras, teams, incidents",
            name ? name : "");
        return 0;
    }
    if (fq && strcmp(fq, "json") && strcmp(fq, "application/schema+json")) {
        gw_req_problem(req, 400, NULL, "parameter 'f': format '%s' is not offered; use f=json", fq);
        return 0;
    }
    char id[512];
    snprintf(id, sizeof id, "%s/collections/%s/queryables", gw_req_base_url(req), name);
    json_t *props = json_object();
    json_object_set_new(props, "geometry",
                        json_pack("{s:s,s:s}", "title", "the feature's geometry (lon/lat)",
                                  "format",
                                  gw_layer_is_point(layer) ? "geometry-point"
                                                           : "geometry-multipolygon"));
    size_t nf;
    const gw_field *fl = gw_layer_fields(layer, &nf);
    const char *const *statuses = gw_layer_statuses(layer);
    for (size_t i = 0; i < nf; i++) {
        json_t *p = json_pack("{s:s}", "title", fl[i].name);
        switch (fl[i].type) {
        case GW_FT_INT: json_object_set_new(p, "type", json_string("integer")); break;
        case GW_FT_REAL: json_object_set_new(p, "type", json_string("number")); break;
        case GW_FT_TIME:
            json_object_set_new(p, "type", json_string("string"));
            json_object_set_new(p, "format", json_string("date-time"));
            break;
        default: json_object_set_new(p, "type", json_string("string")); break;
        }
        if (statuses && strcmp(fl[i].name, "status") == 0) {
            json_t *e = json_array();
            for (size_t k = 0; statuses[k]; k++) json_array_append_new(e, json_string(statuses[k]));
            json_object_set_new(p, "enum", e);
        }
        json_object_set_new(props, fl[i].name, p);
    }
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:o,s:b}", "$schema",
                            "https://json-schema.org/draft/2019-09/schema", "$id", id, "type",
                            "object", "title", name, "properties", props, "additionalProperties",
                            0);
    gw_req_respond_json_as(req, 200, doc, "application/schema+json");
    return 0;
}
