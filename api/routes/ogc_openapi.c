/* ogc_openapi.c — /openapi.json: the OpenAPI 3.0 document of the server as started, built from
 * its own route table (every route it matches, in match order) and the table of what each route
 * takes and answers (openapi_ops.c); OGC API – Features' own parameter definitions (bbox,
 * datetime, limit, crs, bbox-crs, featureId) and the security the server enforces: bearer
 * tokens, with reads open only when it runs --anonymous-read.  docs/openapi.md. */
#include "ogc.h"
#include "ogc_html.h"
#include "ogc_internal.h"
#include "ogc_query.h"
#include "openapi_ops.h"

#include "gridwatch/layer.h"
#include "gridwatch/tilelayers.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"anonymous", "viewer", "dispatcher", "planner", "admin"};

/* A feature id of the generated test city per collection: the items/{featureId} examples, which
 * tests/peers/openapi_walk.mjs calls (gen-city --scale 0.01 --seed 7). */
static const char *const feature_examples[GW_LAYER_COUNT] = {"371702-001-0001", "PR0001", "C000001",
                                                             "T00001", "I0000001"};

/* The request bodies of the per-collection writes: a new feature (POST, and PUT on the example
 * id) and a merge patch.  Grids change only through planning: their writes answer 409. */
static const char *const feature_bodies[GW_LAYER_COUNT] = {
    "{'type':'Feature','geometry':{'type':'Polygon','coordinates':[[[116.9,36.9],[116.91,36.9],"
    "[116.91,36.91],[116.9,36.91],[116.9,36.9]]]},'properties':{'name':'example grid'}}",
    "{'type':'Feature','geometry':{'type':'Point','coordinates':[115.52,35.22]},'properties':"
    "{'name':'example room','phone':'0530-0000000','address':'1 Example Road'}}",
    "{'type':'Feature','geometry':{'type':'Point','coordinates':[115.51,35.64]},'properties':"
    "{'name':'example camera','azimuth':90,'fov':60,'range':80,'height':8,'status':'online'}}",
    "{'type':'Feature','geometry':{'type':'Point','coordinates':[115.52,35.21]},'properties':"
    "{'name':'example team','status':'available','members':2}}",
    "{'type':'Feature','geometry':{'type':'Point','coordinates':[115.52,35.22]},'properties':"
    "{'occurred_at':'2025-06-01T08:00:00Z','category':'theft','severity':2}}"};
static const char *const patch_bodies[GW_LAYER_COUNT] = {"{'properties':{'worker':'example'}}",
                                                         "{'properties':{'phone':'0530-0000001'}}",
                                                         "{'properties':{'status':'offline'}}",
                                                         "{'properties':{'members':4}}",
                                                         "{'properties':{'severity':3}}"};

/* JSON written with single quotes (the document's fixed parts read better without escapes):
 * every ' becomes ", so the text holds no apostrophe. */
static json_t *sq_json(const char *text)
{
    size_t n = strlen(text);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i <= n; i++) s[i] = text[i] == '\'' ? '"' : text[i];
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    return j;
}

/* ---- components ------------------------------------------------------------------------- */

static const char schemas_text[] =
    "{'Problem':{'type':'object','description':'RFC 9457 problem details',"
    "'required':['type','title','status'],'properties':{'type':{'type':'string'},"
    "'title':{'type':'string'},'status':{'type':'integer'},'detail':{'type':'string'},"
    "'instance':{'type':'string'}}},"
    "'Link':{'type':'object','required':['href','rel'],'properties':{'href':{'type':'string'},"
    "'rel':{'type':'string'},'type':{'type':'string'},'title':{'type':'string'}}},"
    "'LandingPage':{'type':'object','required':['links'],'properties':{'title':{'type':'string'},"
    "'description':{'type':'string'},'links':{'type':'array','items':{'$ref':'#/components/schemas/Link'}}}},"
    "'Conformance':{'type':'object','required':['conformsTo'],'properties':{'conformsTo':"
    "{'type':'array','items':{'type':'string'}}}},"
    "'Collection':{'type':'object','required':['id','links'],'properties':{'id':{'type':'string'},"
    "'title':{'type':'string'},'description':{'type':'string'},'links':{'type':'array','items':"
    "{'$ref':'#/components/schemas/Link'}},'extent':{'type':'object'},'itemType':{'type':'string'},"
    "'crs':{'type':'array','items':{'type':'string'}},'storageCrs':{'type':'string'}}},"
    "'Collections':{'type':'object','required':['links','collections'],'properties':{'links':"
    "{'type':'array','items':{'$ref':'#/components/schemas/Link'}},'collections':{'type':'array',"
    "'items':{'$ref':'#/components/schemas/Collection'}}}},"
    "'Feature':{'type':'object','required':['type','geometry','properties'],'properties':{"
    "'type':{'type':'string','enum':['Feature']},'id':{'oneOf':[{'type':'string'},{'type':'integer'}]},"
    "'geometry':{'type':'object','nullable':true},'properties':{'type':'object','nullable':true},"
    "'links':{'type':'array','items':{'$ref':'#/components/schemas/Link'}}}},"
    "'FeatureCollection':{'type':'object','required':['type','features'],'properties':{"
    "'type':{'type':'string','enum':['FeatureCollection']},'features':{'type':'array','items':"
    "{'$ref':'#/components/schemas/Feature'}},'links':{'type':'array','items':"
    "{'$ref':'#/components/schemas/Link'}},'numberMatched':{'type':'integer','minimum':0},"
    "'numberReturned':{'type':'integer','minimum':0},'timeStamp':{'type':'string'}}},"
    "'TileJSON':{'type':'object','required':['tilejson','tiles'],'properties':{"
    "'tilejson':{'type':'string'},'tiles':{'type':'array','items':{'type':'string'}},"
    "'name':{'type':'string'},'minzoom':{'type':'integer'},'maxzoom':{'type':'integer'},"
    "'bounds':{'type':'array','items':{'type':'number'}},'center':{'type':'array','items':"
    "{'type':'number'}},'vector_layers':{'type':'array','items':{'type':'object'}}}}}";

/* OGC API – Features Part 1 (bbox, datetime, limit, featureId) and Part 2 (crs, bbox-crs) as
 * their own OpenAPI fragments define them; f and offset are gridwatch's. */
static const char params_text[] =
    "{'bbox':{'name':'bbox','in':'query','required':false,'style':'form','explode':false,"
    "'description':'Only features whose geometry intersects the box: lower left corner, upper "
    "right corner (minx,miny,maxx,maxy, or with min and max heights), in CRS84 unless bbox-crs "
    "says otherwise.','schema':{'type':'array','oneOf':[{'minItems':4,'maxItems':4},"
    "{'minItems':6,'maxItems':6}],'items':{'type':'number'}},'example':[115.3,35.1,115.6,35.4]},"
    "'datetime':{'name':'datetime','in':'query','required':false,'style':'form','explode':false,"
    "'description':'An RFC 3339 instant or a closed or half-open interval (a/b, ../b, a/..).',"
    "'schema':{'type':'string'},'example':'2024-01-01T00:00:00Z/..'},"
    "'limit':{'name':'limit','in':'query','required':false,'style':'form','explode':false,"
    "'description':'The most features on one page.','schema':{'type':'integer','minimum':1,"
    "'maximum':%d,'default':%d},'example':10},"
    "'offset':{'name':'offset','in':'query','required':false,'description':'Features to skip "
    "(the next link carries it).','schema':{'type':'integer','minimum':0,'default':0},'example':0},"
    "'f':{'name':'f','in':'query','required':false,'description':'The answer format: JSON or an "
    "HTML page; without it the Accept header decides (JSON unless text/html is preferred).',"
    "'schema':{'type':'string','enum':['json','geojson','application/json','application/geo+json',"
    "'html','text/html']},"
    "'example':'json'}}";

static json_t *crs_param(const char *name, const char *desc)
{
    json_t *e = json_array();
    for (size_t i = 0; i < N_CRS; i++) json_array_append_new(e, json_string(crs_opts[i].uri));
    json_array_append_new(e, json_string("GCJ-02"));
    return json_pack("{s:s,s:s,s:b,s:s,s:b,s:s,s:{s:s,s:s,s:o},s:s}", "name", name, "in", "query",
                     "required", 0, "style", "form", "explode", 0, "description", desc, "schema",
                     "type", "string", "format", "uri", "enum", e, "example", crs_opts[0].uri);
}

static json_t *problem_response(const char *desc)
{
    return json_pack("{s:s,s:{s:{s:{s:s}}}}", "description", desc, "content",
                     "application/problem+json", "schema", "$ref", "#/components/schemas/Problem");
}

static json_t *components(void)
{
    char *pt = malloc(sizeof params_text + 32);
    if (!pt) return NULL;
    snprintf(pt, sizeof params_text + 32, params_text, LIMIT_MAX, LIMIT_DEFAULT);
    json_t *params = sq_json(pt);
    free(pt);
    json_t *schemas = sq_json(schemas_text);
    if (!params || !schemas) {
        json_decref(params);
        json_decref(schemas);
        return NULL;
    }
    json_object_set_new(params, "crs",
                        crs_param("crs", "The CRS of the answer's coordinates (OGC API - Features "
                                         "Part 2); GCJ-02 is " GW_OGC_CRS_GCJ02 "."));
    json_object_set_new(params, "bbox-crs", crs_param("bbox-crs", "The CRS of bbox."));
    json_t *resp = json_object();
    json_object_set_new(resp, "BadRequest",
                        problem_response("A parameter or the body is not valid."));
    json_object_set_new(resp, "Unauthorized",
                        problem_response("No bearer token, or one that is not valid (the answer "
                                         "carries WWW-Authenticate)."));
    json_object_set_new(resp, "Forbidden",
                        problem_response("The token's role or jurisdiction may not do this."));
    json_object_set_new(resp, "NotFound", problem_response("No such resource."));
    json_object_set_new(resp, "Conflict",
                        problem_response("The change conflicts with the data's state (e.g. grid "
                                         "boundaries change only through a plan draft; a stale "
                                         "draft; an assigned team)."));
    json_object_set_new(resp, "ServerError",
                        problem_response("The server could not answer (503: try again after "
                                         "Retry-After)."));
    return json_pack("{s:o,s:o,s:o,s:{s:{s:s,s:s,s:s}}}", "schemas", schemas, "parameters", params,
                     "responses", resp, "securitySchemes", "bearer", "type", "http", "scheme",
                     "bearer", "description",
                     "A token from 'gridwatch token create' or 'gridwatch accounts import'");
}

/* ---- one parameter from its spec (openapi_ops.h) ---------------------------------------- */

static json_t *typed_example(const char *type, const char *ex)
{
    if (strcmp(ex, "-") == 0) return NULL;
    if (strcmp(type, "integer") == 0) return json_integer(strtoll(ex, NULL, 10));
    if (strcmp(type, "number") == 0) return json_real(strtod(ex, NULL));
    if (strcmp(type, "boolean") == 0) return json_boolean(strcmp(ex, "true") == 0);
    if (!strchr(ex, '+')) return json_string(ex);
    /* a string example with spaces (a font name) is written with '+' for them: specs split on
     * spaces */
    char sp[128];
    snprintf(sp, sizeof sp, "%s", ex);
    for (char *c = sp; *c; c++)
        if (*c == '+') *c = ' ';
    return json_string(sp);
}

static json_t *schema_of(const char *type)
{
    if (strncmp(type, "integer:", 8) == 0) {
        long long lo = 0, hi = 0;
        sscanf(type + 8, "%lld:%lld", &lo, &hi);
        return json_pack("{s:s,s:I,s:I}", "type", "integer", "minimum", (json_int_t)lo, "maximum",
                         (json_int_t)hi);
    }
    if (strncmp(type, "enum:", 5) == 0) {
        json_t *e = json_array();
        for (const char *c = type + 5; *c;) {
            size_t n = strcspn(c, "|");
            json_array_append_new(e, json_stringn(c, n));
            c += n + (c[n] == '|');
        }
        return json_pack("{s:s,s:o}", "type", "string", "enum", e);
    }
    if (strcmp(type, "tile_layer") == 0) {
        json_t *e = json_array();
        const char *n;
        for (int l = 0; (n = gw_tile_layer_name((gw_tile_layer)l)) != NULL; l++)
            json_array_append_new(e, json_string(n));
        return json_pack("{s:s,s:o}", "type", "string", "enum", e);
    }
    return json_pack("{s:s}", "type", type);
}

static json_t *param(const char *spec)
{
    if (spec[0] == '@') {
        char ref[96];
        snprintf(ref, sizeof ref, "#/components/parameters/%s", spec + 1);
        return json_pack("{s:s}", "$ref", ref);
    }
    char name[64], in[16], type[256], ex[128];
    int off = 0;
    if (sscanf(spec, "%63s %15s %255s %127s %n", name, in, type, ex, &off) != 4) return NULL;
    int path = strcmp(in, "path") == 0, required = path || strcmp(in, "query!") == 0;
    json_t *p = json_pack("{s:s,s:s,s:s,s:b,s:o}", "name", name, "in", path ? "path" : "query",
                          "description", spec + off, "required", required, "schema",
                          schema_of(type));
    const char *etype = strncmp(type, "integer", 7) == 0                              ? "integer"
                        : strcmp(type, "number") == 0 || strcmp(type, "boolean") == 0 ? type
                                                                                      : "string";
    json_t *e = typed_example(etype, ex);
    if (e) json_object_set_new(p, "example", e);
    return p;
}

/* The parameters of GET /collections/{layer}/items: OGC's, then one equality filter per text
 * or integer property. */
static void items_params(json_t *ps, gw_layer l)
{
    static const char *const refs[] = {"@bbox", "@bbox-crs", "@crs", "@limit", "@offset", "@f"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        json_array_append_new(ps, param(refs[i]));
    if (gw_layer_time_field(l)) json_array_append_new(ps, param("@datetime"));
    ogc_query_params(ps, l);
    size_t nf;
    const gw_field *f = gw_layer_fields(l, &nf);
    for (size_t i = 1; i < nf; i++)
        if (f[i].type == GW_FT_TEXT || f[i].type == GW_FT_INT)
            json_array_append_new(ps, json_pack("{s:s,s:s,s:s,s:b,s:{s:s}}", "name", f[i].name,
                                                "in", "query", "description",
                                                "only features whose property equals this",
                                                "required", 0, "schema", "type",
                                                f[i].type == GW_FT_INT ? "integer" : "string"));
}

/* ---- one operation ---------------------------------------------------------------------- */

typedef struct oa_ctx {
    gw_role open_role; /* the highest role this server answers without a token */
} oa_ctx;

static void set_security(json_t *o, const oa_ctx *c, gw_role need)
{
    char d[200];
    int open = need <= c->open_role, optional = open && need > GW_ROLE_ANON;
    snprintf(d, sizeof d, "Least role: %s%s.", role_names[need <= GW_ROLE_ADMIN ? need : 4],
             need == GW_ROLE_ANON ? " (no token)"
             : c->open_role == GW_ROLE_ADMIN
                 ? "; this server has no authentication: no token is needed"
             : optional ? "; this server answers it without a token (--anonymous-read), a "
                          "token scoped to a jurisdiction narrows the answer"
                        : "");
    json_object_set_new(o, "description", json_string(d));
    if (need == GW_ROLE_ANON || (open && c->open_role == GW_ROLE_ADMIN)) {
        json_object_set_new(o, "security", json_array());
        return;
    }
    json_object_set_new(o, "security",
                        optional ? json_pack("[{},{s:[]}]", "bearer")
                                 : json_pack("[{s:[]}]", "bearer"));
    json_t *r = json_object_get(o, "responses");
    if (!optional)
        json_object_set_new(r, "401",
                            json_pack("{s:s}", "$ref", "#/components/responses/Unauthorized"));
    json_object_set_new(r, "403", json_pack("{s:s}", "$ref", "#/components/responses/Forbidden"));
}

/* A body's shape from its short form (openapi_ops.h): "{a$,b#,c[],d{},e}" is an object that
 * must hold a (string), b (integer), c (array), d (object) and e (any); "[…]" an array of it. */
static json_t *shape_schema(const char *shape)
{
    if (shape[0] == '[') {
        json_t *items = shape[1] == '{' ? shape_schema(shape + 1) : json_object();
        return json_pack("{s:s,s:o}", "type", "array", "items", items);
    }
    json_t *req = json_array(), *props = json_object();
    for (const char *c = shape + 1; *c && *c != '}';) {
        size_t n = strcspn(c, ",}$#[{");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)n, c);
        c += n;
        const char *type = *c == '$'   ? "string"
                           : *c == '#' ? "integer"
                           : *c == '[' ? "array"
                           : *c == '{' ? "object"
                                       : NULL;
        if (type) c += *c == '[' || *c == '{' ? 2 : 1;
        json_array_append_new(req, json_string(name));
        json_object_set_new(props, name, type ? json_pack("{s:s}", "type", type) : json_object());
        if (*c == ',') c++;
    }
    return json_pack("{s:s,s:o,s:o}", "type", "object", "required", req, "properties", props);
}

/* The operation of route r (layer l for the per-collection routes, else -1). */
static json_t *operation(const oa_ctx *c, const gw_route *r, const oa_op *d, int l,
                         const char *path)
{
    char id[128];
    if (!d) { /* undocumented: still listed, and tests/http/test_openapi.c fails on it */
        snprintf(id, sizeof id, "undocumented_%s_%s", r->method, r->name ? r->name : "route");
        json_t *o = json_pack("{s:s,s:s,s:b,s:{s:{s:s}}}", "operationId", id, "summary",
                              "undocumented route", "x-gridwatch-undocumented", 1, "responses",
                              "default", "description", "whatever it answers");
        return o;
    }
    char cc[64] = "";
    if (l >= 0) { /* police_rooms -> PoliceRooms */
        size_t k = 0;
        for (const char *s = gw_layer_name((gw_layer)l); *s && k + 1 < sizeof cc; s++)
            if (*s != '_')
                cc[k++] = (char)(s == gw_layer_name((gw_layer)l) || s[-1] == '_'
                                     ? toupper((unsigned char)*s)
                                     : *s);
        cc[k] = 0;
    }
    snprintf(id, sizeof id, d->op_id, cc);
    json_t *ok = json_pack("{s:s}", "description", d->summary);
    if (d->type) {
        json_t *schema = json_object();
        if (d->schema && (d->schema[0] == '{' || d->schema[0] == '[')) {
            json_decref(schema);
            schema = shape_schema(d->schema);
        } else if (d->schema) {
            char ref[96];
            snprintf(ref, sizeof ref, "#/components/schemas/%s", d->schema);
            json_object_set_new(schema, "$ref", json_string(ref));
        } else if (strstr(d->type, "json")) {
            json_object_set_new(schema, "type", json_string("object"));
        } else {
            json_object_set_new(schema, "type", json_string("string"));
            if (!strstr(d->type, "text/"))
                json_object_set_new(schema, "format", json_string("binary"));
        }
        json_object_set_new(ok, "content", json_pack("{s:{s:o}}", d->type, "schema", schema));
    }
    char st[8];
    snprintf(st, sizeof st, "%d", d->status);
    json_t *resp = json_pack("{s:o,s:{s:s},s:{s:s}}", st, ok, "400", "$ref",
                             "#/components/responses/BadRequest", "5XX", "$ref",
                             "#/components/responses/ServerError");
    if (d->type && strcmp(d->type, "application/vnd.mapbox-vector-tile") == 0)
        json_object_set_new(resp, "204",
                            json_pack("{s:s}", "description", "An empty tile (no features)"));
    for (int i = 0; i < OA_MAX_PARAMS && d->params[i]; i++) /* f=html: ogc_html.c */
        if (!strcmp(d->params[i], "@f") || !strcmp(d->params[i], "@items")) {
            ogc_openapi_html(ok, resp);
            break;
        }
    if (strchr(path, '{'))
        json_object_set_new(resp, "404",
                            json_pack("{s:s}", "$ref", "#/components/responses/NotFound"));
    char route[300];
    snprintf(route, sizeof route, "%s %s", r->method, r->pattern);
    json_t *o = json_pack("{s:s,s:s,s:[s],s:o,s:s}", "operationId", id, "summary", d->summary,
                          "tags", d->tag, "responses", resp, "x-gridwatch-route", route);
    json_t *ps = json_array();
    for (int i = 0; i < OA_MAX_PARAMS && d->params[i]; i++) {
        if (strcmp(d->params[i], "@items") == 0) {
            items_params(ps, (gw_layer)l);
        } else if (strcmp(d->params[i], "@featureId") == 0) {
            json_array_append_new(ps,
                                  json_pack("{s:s,s:s,s:s,s:b,s:{s:s},s:s}", "name", "featureId",
                                            "in", "path", "description", "the feature's id",
                                            "required", 1, "schema", "type", "string", "example",
                                            feature_examples[l >= 0 ? l : 0]));
        } else {
            json_t *p = param(d->params[i]);
            if (p) json_array_append_new(ps, p);
        }
    }
    if (json_array_size(ps)) json_object_set_new(o, "parameters", ps);
    else json_decref(ps);
    if (d->body) {
        json_t *media = json_pack("{s:{s:s}}", "schema", "type", "object");
        json_t *ex = d->body_example                   ? json_loads(d->body_example, 0, NULL)
                     : l < 0                           ? NULL
                     : strcmp(r->method, "PATCH") == 0 ? sq_json(patch_bodies[l])
                                                       : sq_json(feature_bodies[l]);
        if (ex) json_object_set_new(media, "example", ex);
        json_object_set_new(o, "requestBody",
                            json_pack("{s:b,s:{s:o}}", "required", 1, "content", d->body, media));
    }
    if (strcmp(r->method, "GET") != 0)
        json_object_set_new(resp, "409",
                            json_pack("{s:s}", "$ref", "#/components/responses/Conflict"));
    set_security(o, c, r->role);
    return o;
}

/* The documented path of r: the entry's path, or the pattern with {layer} as collection l and
 * {id} as {featureId} (OGC's name) under /collections. */
static void doc_path(const gw_route *r, const oa_op *d, int l, char *out, size_t cap)
{
    const char *src = d && d->path ? d->path : r->pattern;
    size_t k = 0;
    for (const char *c = src; *c && k + 1 < cap;) {
        if (l >= 0 && strncmp(c, "{layer}", 7) == 0) {
            k += (size_t)snprintf(out + k, cap - k, "%s", gw_layer_name((gw_layer)l));
            c += 7;
        } else if (l >= 0 && strncmp(c, "{id}", 4) == 0) {
            k += (size_t)snprintf(out + k, cap - k, "{featureId}");
            c += 4;
        } else {
            out[k++] = *c++;
        }
        if (k >= cap) k = cap - 1;
    }
    out[k] = 0;
}

static void add_routes(json_t *paths, const gw_server *srv, const oa_ctx *c)
{
    const gw_route *r;
    for (size_t i = 0; (r = gw_server_route(srv, i)) != NULL; i++) {
        const oa_op *d = oa_op_find(r->method, r->pattern);
        int per_layer = strncmp(r->pattern, "/collections/{layer}", 20) == 0;
        for (int l = per_layer ? 0 : -1; l < (per_layer ? GW_LAYER_COUNT : 0); l++) {
            char path[256], m[16];
            size_t k;
            doc_path(r, d, l, path, sizeof path);
            for (k = 0; r->method[k] && k + 1 < sizeof m; k++)
                m[k] = (char)tolower((unsigned char)r->method[k]);
            m[k] = 0;
            json_t *item = json_object_get(paths, path);
            if (!item) json_object_set_new(paths, path, item = json_object());
            if (!json_object_get(item, m))
                json_object_set_new(item, m, operation(c, r, d, l, path));
        }
    }
}

static const char tags_text[] =
    "[{'name':'Features','description':'OGC API - Features: the layers as collections of GeoJSON "
    "features (Part 1 Core, Part 2 CRS) and their writes'},"
    "{'name':'Tiles','description':'Vector tiles, TileJSON, the MapLibre style and the heat map'},"
    "{'name':'Analysis','description':'Hot spots, density, coverage, response figures, jurisdictions'},"
    "{'name':'Dispatch','description':'Locate a point, nearest teams, team positions and assignments'},"
    "{'name':'Incidents','description':'The incident flow: transitions and deadlines'},"
    "{'name':'Planning','description':'Drafts of the grid layout, validation, publish and rollback'},"
    "{'name':'Events','description':'Live changes as server-sent events'},"
    "{'name':'Wall','description':'The map wall page and its files'},"
    "{'name':'Operations','description':'Health, metrics and this document'}]";

int ogc_h_openapi(gw_req *req)
{
    const gw_server *srv = gw_req_server(req);
    oa_ctx c = {.open_role = gw_server_open_role(srv)};
    json_t *paths = json_object();
    add_routes(paths, srv, &c);
    json_t *comp = components(), *tags = sq_json(tags_text);
    json_t *doc =
        comp && tags
            ? json_pack(
                  "{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:o,s:o,s:[{s:[]}]}", "openapi", "3.0.3",
                  "info", "title", "gridwatch", "version", "0.1.0", "description",
                  "Grid mapping, camera coverage, hot spots and patrol dispatch. OGC API - Features "
                  "(Part 1 Core, GeoJSON, OAS 3.0; Part 2 CRS), vector tiles, analysis, dispatch, "
                  "planning and live events. This document describes this server as started: its "
                  "routes, and which of them need a bearer token.",
                  "servers", "url", gw_req_base_url(req), "tags", tags, "paths", paths,
                  "components", comp, "security", "bearer")
            : NULL;
    if (!doc) {
        if (!comp || !tags) json_decref(paths);
        json_decref(comp);
        json_decref(tags);
        gw_req_problem(req, 500, NULL, "could not build the API document");
        return 0;
    }
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
