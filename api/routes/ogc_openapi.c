/* ogc_openapi.c — /openapi.json: the OpenAPI 3.0 document of the server's routes, with the
 * OGC API – Features parameters (limit, bbox, datetime, crs) from the same tables ogc.c uses. */
#include "ogc.h"
#include "ogc_internal.h"

#include "app.h"
#include "coverage_http.h"
#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/store_features.h"
#include "http_util.h"
#include "problem.h"
#include "web_http.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- OpenAPI ---------------------------------------------------------------------------- */

static json_t *param(const char *name, const char *in, const char *desc, json_t *schema)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:o}", "name", name, "in", in, "description", desc,
                     "required", strcmp(in, "path") == 0, "schema", schema);
}

static json_t *op(const char *summary, const char *type, json_t *params)
{
    json_t *o = json_pack("{s:s,s:{s:{s:s,s:{s:{s:{s:s}}}},s:{s:s,s:{s:{s:{s:s}}}}}}", "summary",
                          summary, "responses", "200", "description", "OK", "content", type,
                          "schema", "type", "object", "default", "description",
                          "an RFC 9457 problem", "content", "application/problem+json", "schema",
                          "type", "object");
    if (params) json_object_set_new(o, "parameters", params);
    return o;
}

static const char *const role_names[] = {"anonymous", "viewer", "dispatcher", "planner", "admin"};

/* Every other route the server matches (writes, tiles, analysis, dispatch, plan, events), from
 * the server's own table so the document cannot drift from what is served: "{layer}" is expanded
 * per collection, other "{name}" segments become path parameters, the least role is stated. */
static void add_routes(json_t *paths, const gw_server *srv)
{
    const gw_route *r;
    for (size_t i = 0; (r = gw_server_route(srv, i)) != NULL; i++) {
        int per_layer = strstr(r->pattern, "{layer}") != NULL;
        for (int l = 0; l < (per_layer ? GW_LAYER_COUNT : 1); l++) {
            char path[256], m[16];
            size_t k = 0;
            json_t *ps = json_array();
            for (const char *c = r->pattern; *c && k + 1 < sizeof path;) {
                const char *e = *c == '{' ? strchr(c, '}') : NULL;
                if (!e) {
                    path[k++] = *c++;
                    continue;
                }
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(e - c - 1), c + 1);
                const char *sub = per_layer && strcmp(name, "layer") == 0
                                      ? gw_layer_name((gw_layer)l)
                                      : NULL;
                if (per_layer && strcmp(name, "id") == 0)
                    snprintf(name, sizeof name, "featureId"); /* OGC's name */
                k += (size_t)snprintf(path + k, sizeof path - k, sub ? "%s" : "{%s}",
                                      sub ? sub : name);
                if (!sub)
                    json_array_append_new(ps, param(name, "path", name,
                                                    json_pack("{s:s}", "type", "string")));
                c = e + 1;
            }
            path[k < sizeof path ? k : sizeof path - 1] = 0;
            for (k = 0; r->method[k] && k + 1 < sizeof m; k++)
                m[k] = (char)tolower((unsigned char)r->method[k]);
            m[k] = 0;
            json_t *item = json_object_get(paths, path);
            if (!item) json_object_set_new(paths, path, item = json_object());
            if (json_object_get(item, m)) {
                json_decref(ps);
                continue;
            }
            const char *type = strstr(path, ".png")      ? "image/png"
                               : strstr(path, "/events") ? "text/event-stream"
                               : strstr(path, "/tiles/") && !strstr(path, ".json")
                                   ? "application/vnd.mapbox-vector-tile"
                                   : "application/json";
            json_t *o = op(r->name, type, json_array_size(ps) ? ps : NULL);
            if (!json_array_size(ps)) json_decref(ps);
            char d[96];
            snprintf(d, sizeof d, "least role: %s",
                     role_names[r->role <= GW_ROLE_ADMIN ? r->role : GW_ROLE_ADMIN]);
            json_object_set_new(o, "description", json_string(d));
            if (r->role > GW_ROLE_ANON)
                json_object_set_new(o, "security", json_pack("[{s:[]}]", "bearer"));
            json_object_set_new(item, m, o);
        }
    }
}

int ogc_h_openapi(gw_req *req)
{
    json_t *paths = json_object();
    json_object_set_new(paths, "/",
                        json_pack("{s:o}", "get", op("Landing page", "application/json", NULL)));
    json_object_set_new(paths, "/conformance",
                        json_pack("{s:o}", "get",
                                  op("Conformance classes", "application/json", NULL)));
    json_object_set_new(paths, "/collections",
                        json_pack("{s:o}", "get", op("The collections", "application/json", NULL)));
    json_object_set_new(paths, "/openapi.json",
                        json_pack("{s:o}", "get",
                                  op("This document",
                                     "application/vnd.oai.openapi+json;version=3.0", NULL)));
    json_object_set_new(paths, "/healthz",
                        json_pack("{s:o}", "get",
                                  op("Liveness and database check", "application/json", NULL)));
    json_object_set_new(paths, "/metrics",
                        json_pack("{s:o}", "get", op("Prometheus metrics", "text/plain", NULL)));
    json_t *crs_enum = json_array();
    for (size_t i = 0; i < N_CRS; i++)
        json_array_append_new(crs_enum, json_string(crs_opts[i].uri));
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        const char *name = gw_layer_name((gw_layer)l);
        char p[128];
        snprintf(p, sizeof p, "/collections/%s", name);
        json_object_set_new(paths, p,
                            json_pack("{s:o}", "get",
                                      op("Collection metadata", "application/json", NULL)));
        json_t *ps = json_array();
        json_array_append_new(ps, param("bbox", "query",
                                        "minx,miny,maxx,maxy in bbox-crs (default CRS84)",
                                        json_pack("{s:s,s:{s:s},s:i,s:i}", "type", "array", "items",
                                                  "type", "number", "minItems", 4, "maxItems", 6)));
        json_array_append_new(ps,
                              param("bbox-crs", "query", "CRS of bbox",
                                    json_pack("{s:s,s:O}", "type", "string", "enum", crs_enum)));
        json_array_append_new(ps,
                              param("crs", "query", "output CRS; GCJ-02 is " GW_OGC_CRS_GCJ02,
                                    json_pack("{s:s,s:O}", "type", "string", "enum", crs_enum)));
        json_array_append_new(ps,
                              param("limit", "query", "page size",
                                    json_pack("{s:s,s:i,s:i,s:i}", "type", "integer", "minimum", 1,
                                              "maximum", LIMIT_MAX, "default", LIMIT_DEFAULT)));
        json_array_append_new(ps, param("offset", "query", "features to skip",
                                        json_pack("{s:s,s:i,s:i}", "type", "integer", "minimum", 0,
                                                  "default", 0)));
        if (gw_layer_time_field((gw_layer)l))
            json_array_append_new(ps, param("datetime", "query",
                                            "RFC 3339 instant or interval (a/b, ../b, a/..)",
                                            json_pack("{s:s}", "type", "string")));
        size_t nf;
        const gw_field *f = gw_layer_fields((gw_layer)l, &nf);
        for (size_t i = 1; i < nf; i++)
            if (f[i].type == GW_FT_TEXT || f[i].type == GW_FT_INT)
                json_array_append_new(ps, param(f[i].name, "query", "equals",
                                                json_pack("{s:s}", "type",
                                                          f[i].type == GW_FT_INT ? "integer"
                                                                                 : "string")));
        snprintf(p, sizeof p, "/collections/%s/items", name);
        json_object_set_new(paths, p,
                            json_pack("{s:o}", "get",
                                      op("Features (streamed GeoJSON)", "application/geo+json",
                                         ps)));
        snprintf(p, sizeof p, "/collections/%s/items/{featureId}", name);
        json_object_set_new(paths, p,
                            json_pack("{s:o}", "get",
                                      op("One feature", "application/geo+json",
                                         json_pack("[o,o]",
                                                   param("featureId", "path", "the feature's id",
                                                         json_pack("{s:s}", "type", "string")),
                                                   param("crs", "query", "output CRS",
                                                         json_pack("{s:s,s:O}", "type", "string",
                                                                   "enum", crs_enum))))));
    }
    json_decref(crs_enum);
    add_routes(paths, gw_req_server(req));
    json_t *doc = json_pack(
        "{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:{s:{s:{s:s,s:s}}}}", "openapi", "3.0.3", "info",
        "title", "gridwatch", "version", "0.1.0", "description",
        "OGC API - Features (Part 1 Core, GeoJSON, OAS 3.0; Part 2 CRS). GCJ-02 output: crs=" GW_OGC_CRS_GCJ02
        " or crs=GCJ-02.",
        "servers", "url", gw_req_base_url(req), "paths", paths, "components", "securitySchemes",
        "bearer", "type", "http", "scheme", "bearer");
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!s) {
        gw_req_problem(req, 500, NULL, "could not build the API document");
        return 0;
    }
    gw_req_respond(req, 200, "application/vnd.oai.openapi+json;version=3.0", s, strlen(s));
    free(s);
    return 0;
}
