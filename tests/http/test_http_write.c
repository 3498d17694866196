/* test_http_write.c — OGC API writes and bearer-token auth over real sockets: a server on an
 * ephemeral loopback port with the write routes and the auth hook (gw_api_plugins), a real
 * client (libcurl).  The auth matrix role x layer x method, write round trips read back through
 * GET, bulk rollback, problem+json on every error class, and the token CLI. */
#include "testutil.h"

#include "auth.h"
#include "commands.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "http_util.h"
#include "ogc.h"
#include "ogc_write.h"
#include "server.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)

static char db_path[1024];
static gw_server *srv;
static gw_ctx *tctx;
enum { T_NONE, T_REVOKED, T_VIEWER, T_DISPATCHER, T_PLANNER, T_ADMIN, T_COUNT };
static char tok[T_COUNT][GW_TOKEN_LEN + 1];
static const char *tok_name[T_COUNT] = {"none",       "revoked", "viewer",
                                        "dispatcher", "planner", "admin"};

/* ---- data -------------------------------------------------------------------------------- */

static size_t poly_wkb(unsigned char *w, const double *xy, uint32_t n)
{
    size_t k = 0;
    uint32_t t = 3, r = 1;
    w[k++] = 1;
    memcpy(w + k, &t, 4), k += 4;
    memcpy(w + k, &r, 4), k += 4;
    memcpy(w + k, &n, 4), k += 4;
    memcpy(w + k, xy, 16 * n), k += 16 * n;
    return k;
}

/* Grids G1 [115.4,115.6]x[35.2,35.3], G2 [115.6,115.7]x[35.2,35.3]; police rooms P0..P2;
 * one feature "X" in every layer (target of the denied writes); tokens of every role. */
static void make_db(void)
{
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("write.sqlite"));
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    double g1[] = {115.4, 35.2, 115.6, 35.2, 115.6, 35.3, 115.4, 35.3, 115.4, 35.2};
    double g2[] = {115.6, 35.2, 115.7, 35.2, 115.7, 35.3, 115.6, 35.3, 115.6, 35.2};
    double gx[] = {115.8, 35.2, 115.9, 35.2, 115.9, 35.3, 115.8, 35.3, 115.8, 35.2};
    unsigned char wkb[256];
    const char *gid[] = {"G1", "G2", "X"};
    double *gxy[] = {g1, g2, gx};
    for (int g = 0; g < 3; g++) {
        gw_value v[10] = {{GW_VAL_TEXT, gid[g], 0, 0}};
        gw_feature f = {v, wkb, poly_wkb(wkb, gxy[g], 5), 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    for (int l = GW_LAYER_POLICE_ROOMS; l < GW_LAYER_COUNT; l++) {
        assert_int_equal(gw_store_inserter_create(s, (gw_layer)l, &ins), GW_OK);
        for (int i = 0; i < (l == GW_LAYER_POLICE_ROOMS ? 4 : 1); i++) {
            char id[16];
            snprintf(id, sizeof id, "P%d", i);
            int last = l != GW_LAYER_POLICE_ROOMS || i == 3;
            gw_value v[16];
            memset(v, 0, sizeof v);
            v[0] = (gw_value){GW_VAL_TEXT, last ? "X" : id, 0, 0};
            gw_feature f = {v, NULL, 0, last ? 115.85 : 115.50 + i * 0.01, 35.25};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
        }
        gw_inserter_destroy(ins);
    }
    assert_int_equal(gw_store_commit(s), GW_OK);
    for (int t = T_REVOKED; t < T_COUNT; t++) {
        gw_role role = GW_ROLE_VIEWER;
        if (t != T_REVOKED) assert_int_equal(gw_role_parse(tok_name[t], &role), 0);
        assert_int_equal(gw_auth_token_create(s, role, tok_name[t], NULL, tok[t], NULL), GW_OK);
        assert_int_equal(strlen(tok[t]), GW_TOKEN_LEN);
    }
    int n = 0;
    assert_int_equal(gw_auth_token_revoke(s, "revoked", &n), GW_OK);
    assert_int_equal(n, 1);
    gw_store_close(s);
}

/* ---- client ------------------------------------------------------------------------------ */

/* A request with the token of role `t` (T_NONE: no Authorization) and a JSON body (or NULL);
 * ctype NULL = application/geo+json; extra: one more header line or NULL. */
static hf_resp req(const char *method, const char *url, int t, const char *body, const char *ctype,
                   const char *extra)
{
    const char *more[2] = {extra, NULL};
    return hf_request(method, url, t != T_NONE ? tok[t] : NULL, body, body ? strlen(body) : 0,
                      body ? (ctype ? ctype : "application/geo+json") : NULL, more);
}

/* A response header's value (case-insensitive name) into a static buffer, or NULL. */
static const char *header(const hf_resp *r, const char *name)
{
    static char val[1024];
    return hf_header(r, name, val, sizeof val);
}

/* A problem+json answer with this status whose detail mentions `needle`. */
static void expect_problem(hf_resp r, long status, const char *needle)
{
    if (r.status != status || !strstr(r.body.data, needle))
        fprintf(stderr, "want %ld with '%s', got %ld: %s\n", status, needle, r.status, r.body.data);
    assert_int_equal(r.status, status);
    assert_string_equal(r.ctype, "application/problem+json");
    json_t *j = json_loads(r.body.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_non_null(json_string_value(json_object_get(j, "title")));
    const char *d = json_string_value(json_object_get(j, "detail"));
    assert_non_null(d);
    assert_non_null(strstr(d, needle));
    json_decref(j);
    hf_resp_free(&r);
}

static json_t *get_json(const char *url, long want)
{
    hf_resp r = req("GET", url, T_VIEWER, NULL, NULL, NULL);
    json_t *j = hf_json(&r, want, 0, url);
    assert_non_null(j);
    return j;
}

static int64_t matched(const char *layer)
{
    char url[128];
    snprintf(url, sizeof url, "/collections/%s/items?limit=1", layer);
    json_t *j = get_json(url, 200);
    int64_t n = json_integer_value(json_object_get(j, "numberMatched"));
    json_decref(j);
    return n;
}

static const char *prop(json_t *feature, const char *name)
{
    return json_string_value(json_object_get(json_object_get(feature, "properties"), name));
}

/* A text property every layer has. */
static const char *tprop(gw_layer l) { return l == GW_LAYER_INCIDENTS ? "description" : "name"; }

/* A valid feature of a layer, id given (or none when NULL), at offset k. */
static void feature(gw_layer l, const char *id, int k, char *buf, size_t cap)
{
    char idm[96] = "";
    if (id) snprintf(idm, sizeof idm, "\"id\":\"%s\",", id);
    if (l == GW_LAYER_GRIDS)
        snprintf(buf, cap,
                 "{\"type\":\"Feature\",%s\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                 "[[[116.0,35.%d],[116.1,35.%d],[116.1,35.%d],[116.0,35.%d],[116.0,35.%d]]]},"
                 "\"properties\":{\"%s\":\"n%d\"}}",
                 idm, k, k, k + 1, k + 1, k, tprop(l), k);
    else
        snprintf(buf, cap,
                 "{\"type\":\"Feature\",%s\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                 "[115.6%d,35.25]},\"properties\":{\"%s\":\"n%d\"}}",
                 idm, k, tprop(l), k);
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static int setup(void **state)
{
    tctx = gw_test_ctx();
    make_db();
    gw_server_opts o = {.db_path = db_path,
                        .port = 0,
                        .threads = 2,
                        .quiet = 1,
                        .max_body = MAX_BODY,
                        .auth_fail_max = 100000}; /* the auth matrix presents many refused tokens */
    gw_api_plugins(&o);
    assert_int_equal(hf_server_start(tctx, &o, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    hf_server_stop(srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static int may(int t, gw_layer l)
{
    if (t == T_ADMIN) return 1;
    if (t == T_DISPATCHER) return l == GW_LAYER_INCIDENTS || l == GW_LAYER_TEAMS;
    if (t == T_PLANNER)
        return l == GW_LAYER_GRIDS || l == GW_LAYER_POLICE_ROOMS || l == GW_LAYER_CAMERAS;
    return 0;
}

static void test_auth_matrix(void **state)
{
    int checked = 0;
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        const char *ln = gw_layer_name((gw_layer)l);
        for (int t = 0; t < T_COUNT; t++) {
            int ok = may(t, (gw_layer)l);
            char id[64], body[512], url[256], item[256], patch[128];
            snprintf(patch, sizeof patch, "{\"properties\":{\"%s\":\"patched\"}}",
                     tprop((gw_layer)l));
            snprintf(id, sizeof id, "m-%s", tok_name[t]);
            snprintf(url, sizeof url, "/collections/%s/items", ln);
            /* grid boundaries change only in plan drafts: a grid's writer may patch its
             * properties (of the existing X), adding, reshaping or removing one is 409 */
            int grid = l == GW_LAYER_GRIDS;
            snprintf(item, sizeof item, "/collections/%s/items/%s", ln, ok && !grid ? id : "X");
            feature((gw_layer)l, id, 1, body, sizeof body);
            const char *methods[] = {"POST", "PUT", "PATCH", "DELETE"};
            long want_ok[] = {grid ? 409 : 201, grid ? 409 : 200, 200, grid ? 409 : 204};
            for (int m = 0; m < 4; m++) {
                const char *b = m == 3 ? NULL : m == 2 ? patch : body;
                if (m == 1) feature((gw_layer)l, NULL, 2, body, sizeof body);
                hf_resp r = req(methods[m], m == 0 ? url : item, t, b, NULL, NULL);
                long want = t <= T_REVOKED ? 401 : ok ? want_ok[m] : 403;
                if (r.status != want)
                    fprintf(stderr, "%s %s as %s: %ld, want %ld: %s\n", methods[m], m ? item : url,
                            tok_name[t], r.status, want, r.body.data);
                assert_int_equal(r.status, want);
                if (want == 401) {
                    assert_non_null(header(&r, "WWW-Authenticate"));
                    assert_non_null(strstr(header(&r, "WWW-Authenticate"), "Bearer"));
                }
                if (want >= 400) assert_string_equal(r.ctype, "application/problem+json");
                hf_resp_free(&r);
                checked++;
            }
        }
        /* the denied writes left "X" as it was */
        char url[128];
        snprintf(url, sizeof url, "/collections/%s/items/X", ln);
        json_t *j = get_json(url, 200);
        if (l == GW_LAYER_GRIDS) /* patched by the planner and the admin, and not removed */
            assert_string_equal(prop(j, tprop((gw_layer)l)), "patched");
        else assert_null(prop(j, tprop((gw_layer)l)));
        json_decref(j);
    }
    assert_int_equal(checked, GW_LAYER_COUNT * T_COUNT * 4);
}

static void test_reads_need_a_token(void **state)
{
    hf_resp r = req("GET", "/collections/incidents/items", T_NONE, NULL, NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_non_null(header(&r, "WWW-Authenticate"));
    hf_resp_free(&r);
    r = req("GET", "/collections/incidents/items", T_REVOKED, NULL, NULL, NULL);
    expect_problem(r, 401, "unknown or revoked");
    r = req("GET", "/collections/incidents/items", T_NONE, NULL, NULL,
            "Authorization: Basic dXNlcjpwYXNz");
    expect_problem(r, 401, "Bearer scheme");
    for (int t = T_VIEWER; t < T_COUNT; t++) {
        r = req("GET", "/collections/incidents/items/X", t, NULL, NULL, NULL);
        assert_int_equal(r.status, 200);
        hf_resp_free(&r);
    }
    /* the ops routes stay open */
    r = req("GET", "/healthz", T_NONE, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
}

static void test_round_trip(void **state)
{
    /* POST: 201, Location, the stored feature with its grid resolved */
    const char *post =
        "{\"type\":\"Feature\",\"id\":\"INC 1+a\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
        "[115.65,35.25]},\"properties\":{\"category\":\"theft\",\"severity\":2,"
        "\"occurred_at\":\"2025-03-01T10:00:00+08:00\"}}";
    hf_resp r = req("POST", "/collections/incidents/items", T_DISPATCHER, post, NULL, NULL);
    if (r.status != 201) fprintf(stderr, "%s\n", r.body.data);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.ctype, "application/geo+json");
    const char *loc = header(&r, "Location");
    assert_non_null(loc);
    char location[512];
    snprintf(location, sizeof location, "%s", loc);
    assert_non_null(strstr(location, "/collections/incidents/items/INC%201%2Ba"));
    assert_non_null(header(&r, "Gridwatch-Change-Seq"));
    json_t *j = json_loads(r.body.data, 0, NULL);
    assert_string_equal(prop(j, "grid"), "G2");
    json_decref(j);
    hf_resp_free(&r);
    /* GET it back */
    j = get_json(location, 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "INC 1+a");
    assert_string_equal(prop(j, "grid"), "G2");
    assert_string_equal(prop(j, "category"), "theft");
    assert_string_equal(prop(j, "occurred_at"), "2025-03-01T02:00:00Z");
    json_t *c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    assert_true(fabs(json_number_value(json_array_get(c, 0)) - 115.65) < 1e-7);
    json_decref(j);
    /* PUT moves it into G1 and drops the category */
    const char *put =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.45,35.21]},"
        "\"properties\":{\"severity\":4}}";
    r = req("PUT", location, T_DISPATCHER, put, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    j = get_json(location, 200);
    assert_string_equal(prop(j, "grid"), "G1");
    assert_null(prop(j, "category"));
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(j, "properties"), "severity")),
                     4);
    json_decref(j);
    /* PATCH (merge patch) sets the status, keeps the rest; input in EPSG:3857 moves the point */
    r = req("PATCH", location, T_DISPATCHER, "{\"properties\":{\"status\":\"closed\"}}",
            "application/merge-patch+json", NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    char url[600];
    snprintf(url, sizeof url, "%s?crs=http://www.opengis.net/def/crs/EPSG/0/3857", location);
    r = req("PATCH", url, T_DISPATCHER,
            "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[12873665.0,4198234.0]}}", NULL,
            NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    j = get_json(location, 200);
    assert_string_equal(prop(j, "status"), "closed");
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(j, "properties"), "severity")),
                     4);
    c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    double lon = json_number_value(json_array_get(c, 0));
    assert_true(lon > 115.64 && lon < 115.66); /* 12873665 m east is lon ~115.646 */
    assert_string_equal(prop(j, "grid"), "G2");
    json_decref(j);
    /* Content-Crs header: GCJ-02 */
    r = req("PATCH", location, T_DISPATCHER,
            "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.25]}}", NULL,
            "Content-Crs: <" GW_OGC_CRS_GCJ02 ">");
    assert_int_equal(r.status, 200);
    j = json_loads(r.body.data, 0, NULL);
    c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    double glon = json_number_value(json_array_get(c, 0));
    assert_true(fabs(glon - 115.5) > 1e-4 && fabs(glon - 115.5) < 0.01); /* shifted back to WGS84 */
    json_decref(j);
    hf_resp_free(&r);
    /* DELETE, then 404 */
    r = req("DELETE", location, T_DISPATCHER, NULL, NULL, NULL);
    assert_int_equal(r.status, 204);
    hf_resp_free(&r);
    j = get_json(location, 404);
    json_decref(j);
}

static void test_bulk(void **state)
{
    int64_t n0 = matched("teams");
    char f1[512], f2[512], body[2048];
    feature(GW_LAYER_TEAMS, "B1", 1, f1, sizeof f1);
    feature(GW_LAYER_TEAMS, "B2", 2, f2, sizeof f2);
    snprintf(body, sizeof body,
             "{\"type\":\"FeatureCollection\",\"features\":[%s,%s,{\"type\":\"Feature\","
             "\"id\":\"B3\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.6,35.2]},"
             "\"properties\":{\"status\":\"lost\"}}]}",
             f1, f2);
    expect_problem(req("POST", "/collections/teams/items", T_DISPATCHER, body, NULL, NULL), 422,
                   "teams feature 3 (id 'B3')");
    assert_int_equal(matched("teams"), n0);
    snprintf(body, sizeof body, "{\"type\":\"FeatureCollection\",\"features\":[%s,%s]}", f1, f2);
    hf_resp r = req("POST", "/collections/teams/items", T_DISPATCHER, body, NULL, NULL);
    assert_int_equal(r.status, 201);
    assert_non_null(strstr(header(&r, "Location"), "/collections/teams/items/B1"));
    json_t *j = json_loads(r.body.data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
    assert_int_equal(json_array_size(json_object_get(j, "features")), 2);
    json_decref(j);
    hf_resp_free(&r);
    assert_int_equal(matched("teams"), n0 + 2);
}

static void test_errors(void **state)
{
    const char *u = "/collections/incidents/items";
    expect_problem(req("POST", u, T_ADMIN, "{\"type\":\"Feature\",\"geometry\":", NULL, NULL), 400,
                   "byte");
    expect_problem(
        req("POST", "/collections/grids/items", T_ADMIN,
            "{\"type\":\"Feature\",\"id\":\"bow\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
            "[[[115,35],[116,36],[116,35],[115,36],[115,35]]]}}",
            NULL, NULL),
        422, "Self-intersection at or near (115.5 35.5)");
    expect_problem(req("POST", u, T_ADMIN,
                       "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                       "[[[115,35],[116,36],[116,35],[115,35]]]}}",
                       NULL, NULL),
                   422, "takes Point geometries");
    expect_problem(req("POST", u, T_ADMIN,
                       "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                       "[35.2,115.6]}}",
                       NULL, NULL),
                   422, "lat/lon order");
    expect_problem(req("POST", u, T_ADMIN,
                       "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                       "[115.6,35.2]},\"properties\":{\"colour\":\"red\"}}",
                       NULL, NULL),
                   400, "unknown property 'colour'");
    expect_problem(req("POST", "/collections/roads/items", T_ADMIN, "{}", NULL, NULL), 404,
                   "no collection 'roads'");
    expect_problem(req("PUT", "/collections/incidents/items/nope", T_ADMIN,
                       "{\"type\":\"Feature\",\"geometry\":"
                       "{\"type\":\"Point\",\"coordinates\":[115.6,35.2]}}",
                       NULL, NULL),
                   404, "'nope'");
    expect_problem(req("PATCH", "/collections/incidents/items/nope", T_ADMIN, "{}", NULL, NULL),
                   404, "'nope'");
    expect_problem(req("DELETE", "/collections/incidents/items/nope", T_ADMIN, NULL, NULL, NULL),
                   404, "'nope'");
    expect_problem(req("POST", u, T_ADMIN,
                       "{\"type\":\"Feature\",\"id\":\"X\",\"geometry\":{\"type\":\"Point\","
                       "\"coordinates\":[115.6,35.2]}}",
                       NULL, NULL),
                   409, "'X' exists already");
    expect_problem(req("POST", u, T_ADMIN, "id=1", "application/x-www-form-urlencoded", NULL), 415,
                   "Content-Type");
    expect_problem(req("POST", u, T_ADMIN, "{}", NULL, "Content-Crs: <urn:ogc:def:crs:EPSG::2000>"),
                   400, "Content-Crs");
    expect_problem(req("POST", "/collections/incidents/items?crs=EPSG:9999", T_ADMIN, "{}", NULL,
                       NULL),
                   400, "parameter 'crs'");
    /* too large: the server core refuses it before the handler runs */
    size_t big = MAX_BODY + 1024;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    huge[0] = '{';
    huge[big - 1] = '}';
    hf_resp r = req("POST", u, T_ADMIN, huge, NULL, NULL);
    assert_int_equal(r.status, 413);
    hf_resp_free(&r);
    free(huge);
    /* nothing of that changed the layer: the three seeded features and no more */
    assert_int_equal(matched("incidents"), 1);
    /* the server is still answering */
    r = req("GET", "/healthz", T_NONE, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
}

/* Run gw_cmd_token with stdout captured into out[cap]; returns the exit code. */
static int run_token(char *out, size_t cap, int argc, char **argv)
{
    const char *path = gw_test_path("token.out");
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fd, 1);
    close(fd);
    int rc = gw_cmd_token(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f) fclose(f);
    return rc;
}

static void test_token_cli(void **state)
{
    char out[8192];
    char *create[] = {"token",      "create", db_path,    "--role",
                      "dispatcher", "--name", "cli-made", NULL};
    assert_int_equal(run_token(out, sizeof out, 7, create), 0);
    assert_int_equal(strlen(out), GW_TOKEN_LEN + 1); /* the token and a newline, nothing else */
    assert_memory_equal(out, "gw_", 3);
    char t[GW_TOKEN_LEN + 1];
    memcpy(t, out, GW_TOKEN_LEN);
    t[GW_TOKEN_LEN] = '\0';
    /* it works */
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", t);
    char body[512];
    feature(GW_LAYER_TEAMS, "cli-team", 3, body, sizeof body);
    hf_resp r = req("POST", "/collections/teams/items", T_NONE, body, NULL, auth);
    assert_int_equal(r.status, 201);
    hf_resp_free(&r);
    /* list: the name and role, never the token or its hash */
    char *list[] = {"token", "list", db_path, NULL};
    assert_int_equal(run_token(out, sizeof out, 3, list), 0);
    assert_non_null(strstr(out, "cli-made"));
    assert_non_null(strstr(out, "dispatcher"));
    assert_null(strstr(out, t + 3));
    assert_null(strstr(out, "gw_"));
    /* revoke by name, then 401 */
    char *revoke[] = {"token", "revoke", db_path, "cli-made", NULL};
    assert_int_equal(run_token(out, sizeof out, 4, revoke), 0);
    r = req("POST", "/collections/teams/items", T_NONE, body, NULL, auth);
    assert_int_equal(r.status, 401);
    hf_resp_free(&r);
    assert_int_equal(run_token(out, sizeof out, 4, revoke),
                     3); /* nothing active left by that name */
    /* usage errors and help */
    char *norole[] = {"token", "create", db_path, NULL};
    assert_int_equal(run_token(out, sizeof out, 3, norole), 2);
    char *badrole[] = {"token", "create", db_path, "--role", "king", NULL};
    assert_int_equal(run_token(out, sizeof out, 5, badrole), 2);
    char *badsub[] = {"token", "mint", db_path, NULL};
    assert_int_equal(run_token(out, sizeof out, 3, badsub), 2);
    char *help[] = {"token", "create", "--help", NULL};
    assert_int_equal(run_token(out, sizeof out, 3, help), 0);
    assert_non_null(strstr(out, "usage: gridwatch token"));
    char *nodb[] = {"token", "list", "/nonexistent/x.db", NULL};
    assert_int_equal(run_token(out, sizeof out, 3, nodb), 1);
}

/* /openapi.json lists the write routes from the server's own table: methods, the least role,
 * bearer security, and a path parameter for every "{name}" of every path. */
static void test_openapi_lists_writes(void **state)
{
    (void)state;
    json_t *j = get_json("/openapi.json", 200), *paths = json_object_get(j, "paths");
    json_t *post = json_object_get(json_object_get(paths, "/collections/incidents/items"), "post");
    assert_non_null(post);
    assert_non_null(json_object_get(post, "security"));
    assert_non_null(strstr(json_string_value(json_object_get(post, "description")), "dispatcher"));
    json_t *patch = json_object_get(json_object_get(paths,
                                                    "/collections/cameras/items/{featureId}"),
                                    "patch");
    assert_non_null(patch);
    assert_null(
        json_object_get(paths, "/collections/cameras/items/{id}")); /* one template per path */
    assert_null(json_object_get(paths, "/collections/{layer}/items"));
    const char *path;
    json_t *item;
    json_object_foreach (paths, path, item) {
        const char *m;
        json_t *o;
        json_object_foreach (item, m, o) {
            size_t want = 0, have = 0;
            for (const char *c = strchr(path, '{'); c; c = strchr(c + 1, '{')) want++;
            json_t *ps = json_object_get(o, "parameters");
            for (size_t i = 0; i < json_array_size(ps); i++) {
                json_t *p = json_array_get(ps, i);
                const char *in = json_string_value(json_object_get(p, "in"));
                if (!in || strcmp(in, "path") != 0) continue; /* a $ref: a query parameter */
                char t[80];
                snprintf(t, sizeof t, "{%s}", json_string_value(json_object_get(p, "name")));
                assert_non_null(strstr(path, t));
                have++;
            }
            if (want != have)
                fprintf(stderr, "%s %s: %zu path parameters, %zu in the template\n", m, path, have,
                        want);
            assert_int_equal(have, want);
        }
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_matrix),
        cmocka_unit_test(test_reads_need_a_token),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_token_cli),
        cmocka_unit_test(test_openapi_lists_writes),
    };
    return cmocka_run_group_tests_name("http_write", tests, setup, teardown);
}
