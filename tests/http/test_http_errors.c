/* test_http_errors.c — the same bad input gets the same HTTP status on every route that takes
 * it (api/http/problem.h is the one map).  Walks every route of a running server (the whole
 * app over a small generated city, an admin token) with each class of bad input:
 * malformed JSON bodies (400), invalid geometry (422), body values out of range (422),
 * query parameters out of range (400), a malformed
 * bbox (400), an unknown id (404), a tile outside the pyramid (404), an unknown CRS (400),
 * a malformed number (400); and checks that every error is problem+json with that status in
 * its body. */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/city.h"
#include "http_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char admin[GW_TOKEN_LEN + 1];
static char draft_path[64]; /* "/plan/drafts/<id>/edits" */
static long long draft_id;

/* One request and its expected status; the answer must be problem+json naming that status. */
typedef struct probe {
    const char *method, *path, *body;
} probe;

static int check(const char *cls, const probe *p, long want)
{
    size_t n = p->body ? strlen(p->body) : 0;
    hf_resp r = hf_request(p->method, p->path, admin, p->body, n,
                           p->body ? "application/json" : NULL, NULL);
    int ok = r.curl == 0 && r.status == want;
    if (ok && strncmp(r.ctype, "application/problem+json", 24) != 0) ok = 0;
    if (ok) {
        json_t *doc = json_loads(r.body.data, 0, NULL);
        ok = doc && json_integer_value(json_object_get(doc, "status")) == want;
        json_decref(doc);
    }
    if (!ok)
        fprintf(stderr, "%s: %s %s -> %ld (%s), want %ld: %.300s\n", cls, p->method, p->path,
                r.status, r.ctype, want, r.body.data ? r.body.data : "");
    hf_resp_free(&r);
    return ok;
}

static void walk(const char *cls, const probe *ps, size_t n, long want)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += !check(cls, &ps[i], want);
    assert_int_equal(bad, 0);
}

#define WALK(cls, arr, want) walk(cls, arr, sizeof arr / sizeof arr[0], want)

static void test_malformed_json(void **state)
{
    (void)state;
    const char *b = "{\"type\":\"Feature\",";
    probe ps[] = {
        {"POST", "/collections/incidents/items", b},
        {"PUT", "/collections/incidents/items/I0000001", b},
        {"PATCH", "/collections/incidents/items/I0000001", b},
        {"POST", "/dispatch/positions", b},
        {"POST", "/dispatch/assign", b},
        {"POST", "/dispatch/release", b},
        {"POST", "/plan/drafts", b},
        {"POST", draft_path, b},
    };
    WALK("malformed JSON", ps, 400);
}

static void test_invalid_geometry(void **state)
{
    (void)state;
    /* a self-intersecting "bow tie" polygon */
    const char *grid =
        "{\"type\":\"Feature\",\"id\":\"BAD1\",\"properties\":{\"name\":\"x\"},\"geometry\":"
        "{\"type\":\"Polygon\",\"coordinates\":[[[115.40,35.20],[115.41,35.21],[115.41,35.20],"
        "[115.40,35.21],[115.40,35.20]]]}}";
    /* a split whose line misses the grid altogether */
    const char *edit = "{\"op\":\"split\",\"grid\":\"371702-001-0001\",\"line\":{\"type\":"
                       "\"LineString\",\"coordinates\":[[100.0,10.0],[100.1,10.1]]}}";
    probe ps[] = {
        {"POST", "/collections/grids/items", grid},
        {"PUT", "/collections/grids/items/BAD1", grid},
        {"POST", draft_path, edit},
    };
    WALK("invalid geometry", ps, 422);
}

static void test_out_of_range(void **state)
{
    (void)state;
    probe ps[] = {
        {"POST", "/collections/incidents/items",
         "{\"type\":\"Feature\",\"properties\":{\"category\":\"theft\",\"severity\":1},"
         "\"geometry\":{\"type\":\"Point\",\"coordinates\":[200,35.2]}}"},
        {"POST", "/dispatch/positions", "[{\"id\":\"T00001\",\"lon\":200,\"lat\":35.2}]"},
    };
    WALK("body value out of range", ps, 422);
}

/* A query parameter out of its range is a bad request, like a malformed one. */
static void test_param_out_of_range(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/dispatch/nearest?lon=200&lat=35.2", NULL},
        {"GET", "/dispatch/locate?lon=200&lat=35.2", NULL},
        {"GET", "/dispatch/cameras?lon=200&lat=35.2", NULL},
        {"GET", "/collections/incidents/items?bbox=200,35,201,36", NULL},
        {"GET", "/collections/incidents/items?limit=0", NULL},
    };
    WALK("parameter out of range", ps, 400);
}

static void test_bad_bbox(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/collections/incidents/items?bbox=1,2,3", NULL},
        {"GET", "/collections/grids/items?bbox=a,b,c,d", NULL},
        {"GET", "/analysis/hotspots?bbox=1,2,3", NULL},
        {"GET", "/events?bbox=1,2,3", NULL},
    };
    WALK("malformed bbox", ps, 400);
}

static void test_unknown_id(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/collections/incidents/items/NOPE", NULL},
        {"GET", "/collections/nope/items", NULL},
        {"GET", "/collections/nope", NULL},
        {"PATCH", "/collections/incidents/items/NOPE", "{\"properties\":{\"severity\":2}}"},
        {"DELETE", "/collections/incidents/items/NOPE", NULL},
        {"GET", "/analysis/coverage/NOPE", NULL},
        {"GET", "/plan/drafts/999999", NULL},
        {"GET", "/plan/drafts/999999/validation", NULL},
        {"GET", "/plan/drafts/999999/balance", NULL},
        {"POST", "/plan/drafts/999999/publish", NULL},
        {"POST", "/dispatch/assign", "{\"team\":\"NOPE\",\"incident\":\"NOPE\"}"},
        {"GET", "/tiles/nope/1/0/0.mvt", NULL},
    };
    WALK("unknown id", ps, 404);
}

static void test_tile_outside_pyramid(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/tiles/grids/3/8/0.mvt", NULL},
        {"GET", "/tiles/city/23/0/0.mvt", NULL},
        {"GET", "/tiles/heatmap/3/0/8.png", NULL},
        {"GET", NULL, NULL},
    };
    char vt[96];
    snprintf(vt, sizeof vt, "/plan/drafts/%lld/validation/tiles/3/9/0.mvt", draft_id);
    ps[3].path = vt;
    WALK("tile outside the pyramid", ps, 404);
}

static void test_unknown_crs(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/collections/incidents/items?crs=EPSG:99999", NULL},
        {"GET", "/collections/incidents/items?bbox=1,2,3,4&bbox-crs=urn:nope", NULL},
        {"GET", "/dispatch/nearest?lon=115.5&lat=35.2&crs=EPSG:99999", NULL},
    };
    WALK("unknown CRS", ps, 400);
}

static void test_bad_number(void **state)
{
    (void)state;
    probe ps[] = {
        {"GET", "/collections/incidents/items?limit=abc", NULL},
        {"GET", "/dispatch/nearest?lon=abc&lat=35.2", NULL},
        {"GET", "/dispatch/locate?lon=115.5&lat=x", NULL},
        {"GET", "/analysis/kde?bandwidth=abc", NULL},
    };
    WALK("malformed number", ps, 400);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    const char *path = gw_test_path("errors.sqlite");
    gw_store *s = hf_city(tctx, path, 0.01, 7);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "walker", NULL, admin, NULL), GW_OK);
    gw_store_close(s);
    static gw_server_opts o;
    memset(&o, 0, sizeof o);
    o.db_path = path;
    o.port = 0;
    assert_int_equal(hf_app_start(tctx, NULL, &o, &app, &srv), GW_OK);
    hf_resp r = hf_request("POST", "/plan/drafts", admin, "{\"name\":\"walk\"}", 15,
                           "application/json", NULL);
    json_t *d = hf_json(&r, 201, 0, "create draft");
    assert_non_null(d);
    draft_id = (long long)json_integer_value(json_object_get(d, "id"));
    snprintf(draft_path, sizeof draft_path, "/plan/drafts/%lld/edits", draft_id);
    json_decref(d);
    /* Coverage is computed in the background after start: wait for it, so /analysis/coverage
     * answers about its input, not 503 "being computed". */
    for (int i = 0; i < 600; i++) {
        hf_resp c = hf_request("GET", "/analysis/coverage", admin, NULL, 0, NULL, NULL);
        long st = c.status;
        hf_resp_free(&c);
        if (st != 503) break;
        usleep(100 * 1000);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_invalid_geometry),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_param_out_of_range),
        cmocka_unit_test(test_bad_bbox),
        cmocka_unit_test(test_unknown_id),
        cmocka_unit_test(test_tile_outside_pyramid),
        cmocka_unit_test(test_unknown_crs),
        cmocka_unit_test(test_bad_number),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
