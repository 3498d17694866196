/* test_openapi.c — /openapi.json against the server's own route table: every route the server
 * matches is documented (no operation marked undocumented, every "METHOD pattern" of the table
 * named by an operation's x-gridwatch-route) and nothing is documented that is not served (every
 * operation names a route, every entry of openapi_ops.c is a route); operationIds are unique;
 * the tile paths carry their extensions; and the security stated is what the server enforces,
 * with and without anonymous reads.  The walk with real requests is tests/peers/openapi_walk.mjs. */
#include "http_fixture.h"

#include "openapi_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *tctx;
static char db_path[512];

typedef struct served {
    gw_app *app;
    gw_server *srv;
    json_t *doc;
} served;
static served secured; /* without anonymous reads: the first two tests read its document */
static served start(int anonymous_read);
static void stop(served *s);

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("openapi.db"));
    gw_store_close(hf_city(tctx, db_path, 0.01, 7));
    secured = start(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop(&secured);
    gw_ctx_destroy(tctx);
    return 0;
}

static served start(int anonymous_read)
{
    served s = {0};
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path,
                        .port = 0,
                        .anonymous_read = anonymous_read,
                        .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &s.app, &s.srv), GW_OK);
    hf_resp r = hf_request("GET", "/openapi.json", NULL, NULL, 0, NULL, NULL);
    assert_string_equal(r.ctype, "application/vnd.oai.openapi+json;version=3.0");
    s.doc = hf_json(&r, 200, 0, "/openapi.json");
    assert_non_null(s.doc);
    return s;
}

static void stop(served *s)
{
    json_decref(s->doc);
    hf_app_stop(s->app, s->srv);
}

/* Route table and document name the same routes, each documented. */
static void test_routes_match_document(void **state)
{
    (void)state;
    served s = secured;
    json_t *seen = json_object(), *ids = json_object(), *paths = json_object_get(s.doc, "paths");
    const char *path, *m;
    json_t *item, *o;
    int bad = 0;
    json_object_foreach (paths, path, item) {
        json_object_foreach (item, m, o) {
            const char *id = json_string_value(json_object_get(o, "operationId"));
            if (json_object_get(o, "x-gridwatch-undocumented")) {
                fprintf(stderr,
                        "undocumented route: %s %s (%s): add it to api/routes/openapi_ops.c\n", m,
                        path, id);
                bad++;
            }
            if (!id || json_object_get(ids, id)) {
                fprintf(stderr, "operationId %s of %s %s missing or not unique\n", id, m, path);
                bad++;
            } else {
                json_object_set_new(ids, id, json_true());
            }
            const char *route = json_string_value(json_object_get(o, "x-gridwatch-route"));
            if (route) json_object_set_new(seen, route, json_true());
            else if (!json_object_get(o, "x-gridwatch-undocumented")) bad++;
        }
    }
    const gw_route *r;
    size_t n = 0;
    for (size_t i = 0; (r = gw_server_route(s.srv, i)) != NULL; i++, n++) {
        char key[300];
        snprintf(key, sizeof key, "%s %s", r->method, r->pattern);
        if (!oa_op_find(r->method, r->pattern)) {
            fprintf(stderr, "route %s has no entry in api/routes/openapi_ops.c\n", key);
            bad++;
        } else if (!json_object_get(seen, key)) {
            fprintf(stderr, "route %s is not in /openapi.json\n", key);
            bad++;
        }
    }
    assert_true(n > 50);
    const oa_op *d;
    for (size_t i = 0; (d = oa_op_at(i)) != NULL; i++) {
        /* every parameter spec well formed (a malformed one would be left out of the document) */
        for (int k = 0; k < OA_MAX_PARAMS && d->params[k]; k++) {
            char name[64], in[16], type[256], ex[128];
            if (d->params[k][0] == '@') continue;
            if (sscanf(d->params[k], "%63s %15s %255s %127s", name, in, type, ex) != 4 ||
                (strcmp(in, "path") && strcmp(in, "query") && strcmp(in, "query!"))) {
                fprintf(stderr, "%s: parameter spec '%s' is malformed (openapi_ops.h)\n", d->route,
                        d->params[k]);
                bad++;
            }
        }
        int served_route = 0;
        for (size_t k = 0; (r = gw_server_route(s.srv, k)) != NULL; k++)
            if (oa_op_find(r->method, r->pattern) == d) served_route = 1;
        if (!served_route) {
            fprintf(stderr, "openapi_ops.c documents %s, which the server does not serve\n",
                    d->route);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    json_decref(seen);
    json_decref(ids);
}

/* The paths as served (with their extensions), the tile layers as an enum, OGC's bbox. */
static void test_paths_and_parameters(void **state)
{
    (void)state;
    served s = secured;
    json_t *paths = json_object_get(s.doc, "paths");
    json_t *tile = json_object_get(json_object_get(paths, "/tiles/{layer}/{z}/{x}/{y}.mvt"), "get");
    assert_non_null(tile);
    assert_non_null(json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(tile, "responses"), "200"),
                                        "content"),
                        "application/vnd.mapbox-vector-tile"),
        "schema"));
    json_t *layer = json_array_get(json_object_get(tile, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(layer, "name")), "layer");
    char all[512] = "";
    json_t *e = json_object_get(json_object_get(layer, "schema"), "enum");
    for (size_t i = 0; i < json_array_size(e); i++) {
        strcat(all, json_string_value(json_array_get(e, i)));
        strcat(all, ",");
    }
    assert_non_null(strstr(all, "camera_views,"));
    assert_non_null(strstr(all, "blind_spots,"));
    assert_non_null(strstr(all, "city,"));
    json_t *heat = json_object_get(json_object_get(paths, "/tiles/heatmap/{z}/{x}/{y}.png"), "get");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(json_object_get(heat, "responses"), "200"),
                                        "content"),
                        "image/png"));
    json_t *tj = json_object_get(json_object_get(paths, "/tiles/{layer}.json"), "get");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(json_object_get(tj, "responses"), "200"),
                                        "content"),
                        "application/json"));
    assert_null(json_object_get(paths, "/tiles/{layer}/{z}/{x}/{y}"));
    assert_null(json_object_get(paths, "/tiles/{file}"));
    json_t *bbox = json_object_get(json_object_get(json_object_get(s.doc, "components"),
                                                   "parameters"),
                                   "bbox");
    assert_string_equal(json_string_value(json_object_get(bbox, "style")), "form");
    assert_true(json_is_false(json_object_get(bbox, "explode")));
    /* every {name} of every path is a path parameter of each of its operations */
    const char *path, *m;
    json_t *item, *o;
    json_object_foreach (paths, path, item) {
        json_object_foreach (item, m, o) {
            size_t want = 0, have = 0;
            for (const char *c = strchr(path, '{'); c; c = strchr(c + 1, '{')) want++;
            json_t *ps = json_object_get(o, "parameters");
            for (size_t i = 0; i < json_array_size(ps); i++) {
                json_t *p = json_array_get(ps, i);
                const char *in = json_string_value(json_object_get(p, "in"));
                if (!in || strcmp(in, "path") != 0) continue;
                char t[80];
                snprintf(t, sizeof t, "{%s}", json_string_value(json_object_get(p, "name")));
                assert_non_null(strstr(path, t));
                assert_non_null(json_object_get(p, "example"));
                have++;
            }
            if (want != have) fprintf(stderr, "%s %s: %zu path parameters\n", m, path, have);
            assert_int_equal(have, want);
        }
    }
}

/* The security of `method path` in the document: "none", "optional" or "bearer". */
static const char *security(json_t *doc, const char *path, const char *method)
{
    json_t *o = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
    assert_non_null(o);
    json_t *sec = json_object_get(o, "security");
    assert_non_null(sec);
    if (json_array_size(sec) == 0) return "none";
    if (json_array_size(sec) == 2 && json_object_size(json_array_get(sec, 0)) == 0)
        return "optional";
    assert_non_null(json_object_get(json_array_get(sec, 0), "bearer"));
    return "bearer";
}

/* What the document says is what the server does: reads need a token unless the server runs
 * --anonymous-read, writes always do, the landing page never. */
static void test_security_as_started(void **state)
{
    (void)state;
    for (int anon = 0; anon <= 1; anon++) {
        served s = anon ? start(1) : secured;
        snprintf(hf_base, sizeof hf_base, "http://127.0.0.1:%u", (unsigned)gw_server_port(s.srv));
        assert_string_equal(security(s.doc, "/collections/grids/items", "get"),
                            anon ? "optional" : "bearer");
        assert_string_equal(security(s.doc, "/tiles/{layer}/{z}/{x}/{y}.mvt", "get"),
                            anon ? "optional" : "bearer");
        assert_string_equal(security(s.doc, "/collections/incidents/items", "post"), "bearer");
        assert_string_equal(security(s.doc, "/", "get"), "none");
        assert_string_equal(security(s.doc, "/healthz", "get"), "none");
        hf_resp r = hf_request("GET", "/collections/grids/items?limit=1", NULL, NULL, 0, NULL,
                               NULL);
        assert_int_equal(r.status, anon ? 200 : 401);
        hf_resp_free(&r);
        r = hf_request("POST", "/collections/incidents/items", NULL, "{}", 2,
                       "application/geo+json", NULL);
        assert_int_equal(r.status, 401);
        assert_string_equal(r.ctype, "application/problem+json");
        hf_resp_free(&r);
        if (anon) stop(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_match_document),
        cmocka_unit_test(test_paths_and_parameters),
        cmocka_unit_test(test_security_as_started),
    };
    return cmocka_run_group_tests_name("openapi", tests, setup, teardown);
}
