/* test_hardening.c — regression tests for issue 15's defects, each named after it, against the
 * whole app on loopback over a small generated city: no accepted write may stop the server from
 * starting again, a stored value that cannot be right is refused with its field and reason, and
 * a row no write could produce (planted by hand) is reported and read, not fatal. */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/city.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "store_sqlite.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_server_opts opts;
static const char *db;
static char admin[GW_TOKEN_LEN + 1];

static long post(const char *path, const char *body, char *msg, size_t cap)
{
    hf_resp r = hf_request("POST", path, admin, body, strlen(body), "application/json", NULL);
    long st = r.status;
    if (msg) snprintf(msg, cap, "%s", r.body.data ? r.body.data : "");
    hf_resp_free(&r);
    return st;
}

static void start(void)
{
    memset(&opts, 0, sizeof opts);
    opts.db_path = db;
    assert_int_equal(hf_app_start(tctx, NULL, &opts, &app, &srv), GW_OK);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_path("hardening.sqlite");
    gw_store *s = hf_city(tctx, db, 0.01, 7);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "hardening", NULL, admin, NULL), GW_OK);
    gw_store_close(s);
    start();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static const char *incident(char *buf, size_t cap, const char *id, const char *at)
{
    snprintf(buf, cap,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\","
             "\"severity\":2,\"occurred_at\":\"%s\"}}",
             id, at);
    return buf;
}

/* Defect 1: year 0, year 1 with an offset (year 0 in UTC) and year 9999 -01:00 (year 10000 in
 * UTC) were stored and then stopped every model refresh and the next start. */
static void test_year0_incident_refused(void **state)
{
    (void)state;
    const char *bad[] = {"0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                         "9999-12-31T23:59:59-01:00", "1899-12-31T23:59:59Z"};
    char body[512], msg[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long st = post("/collections/incidents/items", incident(body, sizeof body, "Y0", bad[i]),
                       msg, sizeof msg);
        if (st != 422) fprintf(stderr, "%s -> %ld %s\n", bad[i], st, msg);
        assert_int_equal(st, 422);
        assert_non_null(strstr(msg, "occurred_at"));
    }
    /* the edges of the window are accepted */
    assert_int_equal(post("/collections/incidents/items",
                          incident(body, sizeof body, "Y1900", "1900-01-01T00:00:00Z"), NULL, 0),
                     201);
    assert_int_equal(post("/collections/incidents/items",
                          incident(body, sizeof body, "Y2100", "2100-12-31T23:59:59Z"), NULL, 0),
                     201);
}

/* Defect 1 (teams): a team's updated_at of year 0. */
static void test_team_updated_at_year0_refused(void **state)
{
    (void)state;
    char msg[1024];
    long st = post("/collections/teams/items",
                   "{\"type\":\"Feature\",\"id\":\"TY0\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[115.65,35.25]},\"properties\":{\"name\":\"y0\","
                   "\"status\":\"available\",\"updated_at\":\"0000-01-01T00:00:00Z\"}}",
                   msg, sizeof msg);
    if (st != 422) fprintf(stderr, "-> %ld %s\n", st, msg);
    assert_int_equal(st, 422);
}

/* Defects 1 and 5: "at" of INT64_MAX was stored as garbage; "at" in 2999 made every later real
 * position look older, so the team never moved or went stale again. */
static void test_position_from_the_future_refused(void **state)
{
    (void)state;
    char msg[1024], body[256];
    long st = post("/dispatch/positions",
                   "[{\"id\":\"T00001\",\"lon\":115.65,\"lat\":35.25,\"at\":9223372036854775807}]",
                   msg, sizeof msg);
    if (st != 422) fprintf(stderr, "INT64_MAX -> %ld %s\n", st, msg);
    assert_int_equal(st, 422);
    st = post("/dispatch/positions",
              "[{\"id\":\"T00001\",\"lon\":115.65,\"lat\":35.25,\"at\":\"2999-01-01T00:00:00Z\"}]",
              msg, sizeof msg);
    if (st != 422) fprintf(stderr, "2999 -> %ld %s\n", st, msg);
    assert_int_equal(st, 422);
    assert_non_null(strstr(msg, "ahead"));
    st = post("/dispatch/positions",
              "[{\"id\":\"T00001\",\"lon\":115.65,\"lat\":35.25,\"at\":-9223372036854775807}]", msg,
              sizeof msg);
    assert_int_equal(st, 422);
    /* a real report now still applies */
    snprintf(body, sizeof body, "[{\"id\":\"T00001\",\"lon\":115.651,\"lat\":35.251,\"at\":%lld}]",
             (long long)time(NULL));
    st = post("/dispatch/positions", body, msg, sizeof msg);
    if (st != 200) fprintf(stderr, "now -> %ld %s\n", st, msg);
    assert_int_equal(st, 200);
    json_t *j = json_loads(msg, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "applied")), 1);
    json_decref(j);
}

/* Item 2: a row no write can produce (planted by hand, as an older build or an operator could)
 * is reported and read with the time unknown; the server starts.  Before, serve exited 1 with
 * "field occurred_at holds '0-01-01T00:00:00Z', not an ISO 8601 time". */
static void test_unreadable_row_does_not_stop_start(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    app = NULL, srv = NULL;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db, 0, &s), GW_OK);
    assert_int_equal(sqlite3_exec(st_sqlite_db(s),
                                  "UPDATE incidents SET occurred_at = '0-01-01T00:00:00Z' WHERE "
                                  "rowid = (SELECT min(rowid) FROM incidents);"
                                  "UPDATE teams SET updated_at = '219250468-1409894225-00T15:30:' "
                                  "WHERE rowid = (SELECT min(rowid) FROM teams)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    gw_store_close(s);
    start();
    hf_resp r = hf_request("GET", "/healthz", NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    /* and the model still follows writes: a new incident is served */
    char body[512];
    assert_int_equal(post("/collections/incidents/items",
                          incident(body, sizeof body, "AFTER", "2025-06-01T08:00:00+08:00"), NULL,
                          0),
                     201);
    r = hf_request("GET", "/collections/incidents/items/AFTER", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
}

/* Defect 2: a planner's layout import opened the body with every GDAL driver, so an OGR VRT
 * read any file the server can (its rows came back in the error) or ran SQL on the server's own
 * database (the token hashes came back).  The upload is now opened with data drivers only. */
static void test_vrt_upload_cannot_read_server_files(void **state)
{
    (void)state;
    char msg[2048], path[96];
    long st = post("/plan/drafts", "{\"name\":\"vrt\"}", msg, sizeof msg);
    assert_int_equal(st, 201);
    json_t *d = json_loads(msg, 0, NULL);
    assert_non_null(d);
    snprintf(path, sizeof path, "/plan/drafts/%lld/import",
             (long long)json_integer_value(json_object_get(d, "id")));
    json_decref(d);
    /* a secret CSV the server can read */
    const char *secret = gw_test_path("secret.csv");
    FILE *f = fopen(secret, "w");
    assert_non_null(f);
    fputs("id,name,wkt\nSECRET-ROW-42,top secret,\"POLYGON((0 0,1 0,1 1,0 0))\"\n", f);
    fclose(f);
    char vrt[2048];
    snprintf(
        vrt, sizeof vrt,
        "<OGRVRTDataSource><OGRVRTLayer name=\"grids\"><SrcDataSource>%s</SrcDataSource>"
        "<SrcLayer>secret</SrcLayer><GeometryField encoding=\"WKT\" field=\"wkt\"/></OGRVRTLayer></OGRVRTDataSource>",
        secret);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "<OGRVRTDataSource><OGRVRTLayer name=\"grids\"><SrcDataSource>%s</SrcDataSource>"
             "<SrcSQL dialect=\"sqlite\">SELECT 'SECRET-' || hex(hash) AS id, name, "
             "'POLYGON((0 0,1 0,1 1,0 0))' AS wkt FROM tokens</SrcSQL>"
             "<GeometryField encoding=\"WKT\" field=\"wkt\"/></OGRVRTLayer></OGRVRTDataSource>",
             db);
    const char *bodies[] = {vrt, sql};
    const char *types[] = {"application/geo+json", "application/xml", "application/zip"};
    for (size_t b = 0; b < 2; b++)
        for (size_t t = 0; t < 3; t++) {
            hf_resp r = hf_request("POST", path, admin, bodies[b], strlen(bodies[b]), types[t],
                                   NULL);
            if (getenv("GW_TEST_VERBOSE") || r.status < 400 || r.status >= 500 ||
                strstr(r.body.data, "SECRET") || strstr(r.body.data, "top secret") ||
                strstr(r.body.data, "admin"))
                fprintf(stderr, "body %zu as %s -> %ld %s\n", b, types[t], r.status, r.body.data);
            assert_true(r.status >= 400 && r.status < 500);
            assert_null(strstr(r.body.data, "SECRET"));
            assert_null(strstr(r.body.data, "top secret"));
            hf_resp_free(&r);
        }
    /* the draft is untouched: no grid of it changed */
    char diff[128];
    snprintf(diff, sizeof diff, "%.*s/diff", (int)(strlen(path) - 7), path);
    hf_resp r = hf_request("GET", diff, admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body.data, "SECRET"));
    hf_resp_free(&r);
}

/* Defect 9: %00 cut the path ("/items/I0000001%00junk" answered I0000001), and invalid UTF-8
 * in an id was echoed raw into problem+json, which was then not JSON. */
static void test_nul_and_bad_utf8_in_path_refused(void **state)
{
    (void)state;
    hf_resp r = hf_request("GET", "/collections/incidents/items/I0000001", admin, NULL, 0, NULL,
                           NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    const char *bad[] = {"/collections/incidents/items/I0000001%00junk",
                         "/wall/index.html%00.png",
                         "/collections/incidents/items/I%FF%FE%C0%AF",
                         "/collections/incidents/items?category=%00theft",
                         "/collections/incidents/items?category=th%E9ft",
                         "/collections/incidents/items/I%0D%0AX-Injected:%201"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = hf_request("GET", bad[i], admin, NULL, 0, NULL, NULL);
        json_error_t e;
        json_t *j = json_loads(r.body.data, 0, &e);
        if (r.status != 400 || !j)
            fprintf(stderr, "%s -> %ld %s (%s)\n", bad[i], r.status, r.body.data, e.text);
        assert_int_equal(r.status, 400);
        assert_non_null(j); /* valid JSON (jansson refuses invalid UTF-8) */
        json_decref(j);
        hf_resp_free(&r);
    }
}

/* Defect 11 (values stored as given): camera status "hacked", incident status "pwned", camera
 * range 1e12 were stored. */
static void test_values_outside_their_domain_refused(void **state)
{
    (void)state;
    char msg[1024];
    struct {
        const char *path, *body, *field;
    } c[] = {
        {"/collections/cameras/items",
         "{\"type\":\"Feature\",\"id\":\"CH1\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
         "[115.65,35.25]},\"properties\":{\"azimuth\":90,\"fov\":60,\"range\":80,\"status\":"
         "\"hacked\"}}",
         "status"},
        {"/collections/cameras/items",
         "{\"type\":\"Feature\",\"id\":\"CH2\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
         "[115.65,35.25]},\"properties\":{\"azimuth\":90,\"fov\":60,\"range\":1e12,\"status\":"
         "\"online\"}}",
         "range"},
        {"/collections/incidents/items",
         "{\"type\":\"Feature\",\"id\":\"IP1\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
         "[115.65,35.25]},\"properties\":{\"category\":\"theft\",\"status\":\"pwned\"}}",
         "status"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        long st = post(c[i].path, c[i].body, msg, sizeof msg);
        if (st != 422) fprintf(stderr, "%s -> %ld %s\n", c[i].body, st, msg);
        assert_int_equal(st, 422);
        assert_non_null(strstr(msg, c[i].field));
    }
    /* the same camera with a status and range in their domain is stored */
    assert_int_equal(post("/collections/cameras/items",
                          "{\"type\":\"Feature\",\"id\":\"CH3\",\"geometry\":{\"type\":"
                          "\"Point\",\"coordinates\":[115.65,35.25]},\"properties\":{\"azimuth\":"
                          "90,\"fov\":60,\"range\":80,\"status\":\"maintenance\"}}",
                          NULL, 0),
                     201);
}

/* Defect 8: about 460 query parameters closed the connection with no answer (MHD's pool was
 * exhausted).  Too many parameters are now a problem+json 400, and a normal query still works. */
static void test_many_query_parameters_answered(void **state)
{
    (void)state;
    gw_buf q = {0};
    gw_buf_str(&q, "/collections/incidents/items?limit=1");
    for (int i = 0; i < 460; i++)
        gw_buf_printf(&q, "&parameter_%d=value_%d_of_a_long_query_string_xxxxxxxxxx", i, i);
    hf_resp r = hf_request("GET", q.data, admin, NULL, 0, NULL, NULL);
    if (r.curl != 0 || r.status != 400)
        fprintf(stderr, "460 params -> curl %d, %ld\n", r.curl, r.status);
    assert_int_equal(r.curl, 0);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.ctype, "application/problem+json");
    hf_resp_free(&r);
    gw_buf_free(&q);
    r = hf_request("GET", "/collections/incidents/items?limit=1&category=theft", admin, NULL, 0,
                   NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
}

/* Defect 7 (message): a malformed geometry's 422 showed the JSON library inside GEOS
 * ("[json.exception.type_error.302] …"); it now says what GeoJSON wants. */
static void test_malformed_geometry_message_is_readable(void **state)
{
    (void)state;
    char msg[1024];
    long st = post("/collections/incidents/items",
                   "{\"type\":\"Feature\",\"id\":\"MG1\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[\"a\",\"b\"]},\"properties\":{\"category\":\"theft\"}}",
                   msg, sizeof msg);
    if (st != 422 || strstr(msg, "json.exception")) fprintf(stderr, "-> %ld %s\n", st, msg);
    assert_int_equal(st, 422);
    assert_null(strstr(msg, "json.exception"));
    assert_non_null(strstr(msg, "coordinates"));
}

/* Defect 11: an incident's grid or police_room naming no such row overrode the spatial lookup
 * and was stored. */
static void test_incident_naming_unknown_grid_refused(void **state)
{
    (void)state;
    char msg[1024];
    const char *props[] = {"\"grid\":\"NO-SUCH-GRID\"", "\"police_room\":\"NO-SUCH-ROOM\""};
    for (size_t i = 0; i < 2; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"type\":\"Feature\",\"id\":\"UG%zu\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\",%s}}",
                 i, props[i]);
        long st = post("/collections/incidents/items", body, msg, sizeof msg);
        if (st != 422) fprintf(stderr, "%s -> %ld %s\n", props[i], st, msg);
        assert_int_equal(st, 422);
        assert_non_null(strstr(msg, "NO-SUCH"));
    }
}

static long request(const char *method, const char *path, const char *body, char *msg, size_t cap)
{
    hf_resp r = hf_request(method, path, admin, body, body ? strlen(body) : 0, "application/json",
                           NULL);
    long st = r.status;
    if (msg) snprintf(msg, cap, "%s", r.body.data ? r.body.data : "");
    hf_resp_free(&r);
    return st;
}

static long grids_matched(void)
{
    hf_resp r = hf_request("GET", "/collections/grids/items?limit=1", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body.data, 0, NULL);
    long n = (long)json_integer_value(json_object_get(j, "numberMatched"));
    json_decref(j);
    hf_resp_free(&r);
    return n;
}

/* Defect 4a: a grid POSTed over OGC on top of another was stored (201) and the published
 * layout no longer tiled; reshaping or removing one bypassed planning the same way. */
static void test_ogc_grid_write_bypassing_planning_refused(void **state)
{
    (void)state;
    hf_resp r = hf_request("GET", "/collections/grids/items?limit=1", admin, NULL, 0, NULL, NULL);
    json_t *j = json_loads(r.body.data, 0, NULL),
           *f = json_array_get(json_object_get(j, "features"), 0);
    char *geom = json_dumps(json_object_get(f, "geometry"), JSON_COMPACT), id[128];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(f, "id")));
    json_decref(j);
    hf_resp_free(&r);
    long n0 = grids_matched();
    size_t cap = strlen(geom) + 256;
    char *body = malloc(cap), msg[2048], path[256];
    snprintf(body, cap, "{\"type\":\"Feature\",\"id\":\"OVER1\",\"geometry\":%s}", geom);
    long st = request("POST", "/collections/grids/items", body, msg, sizeof msg);
    if (st != 409) fprintf(stderr, "POST overlapping grid -> %ld %s\n", st, msg);
    assert_int_equal(st, 409);
    assert_non_null(strstr(msg, "plan draft"));
    snprintf(path, sizeof path, "/collections/grids/items/%s", id);
    snprintf(body, cap, "{\"type\":\"Feature\",\"geometry\":%s}", geom);
    assert_int_equal(request("PUT", path, body, msg, sizeof msg), 409);
    assert_int_equal(request("PATCH", path, body, msg, sizeof msg), 409);
    assert_int_equal(request("DELETE", path, NULL, msg, sizeof msg), 409);
    assert_int_equal(grids_matched(), n0);
    /* a grid's properties are still an OGC edit */
    assert_int_equal(request("PATCH", path, "{\"properties\":{\"worker\":\"Li Ming\"}}", msg,
                             sizeof msg),
                     200);
    free(body);
    free(geom);
}

/* A ring of n vertices (a circle) as GeoJSON coordinates. */
static void ring(char *buf, size_t cap, double cx, double cy, double r, int n)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i <= n && o < cap; i++) {
        double a = 2 * 3.14159265358979 * (i % n) / n;
        o += (size_t)snprintf(buf + o, cap - o, "%s[%.9f,%.9f]", i ? "," : "", cx + r * cos(a),
                              cy + r * sin(a));
    }
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* Defect 4b: a 200,000-vertex polygon and a 20,000-part multipolygon were accepted, and each
 * validation of them then held a worker for 16–19 s. */
static void test_oversized_polygon_refused(void **state)
{
    (void)state;
    size_t cap = 4u << 20;
    char *coords = malloc(cap), *body = malloc(cap + 512), msg[2048], path[96];
    ring(coords, cap, 115.65, 35.25, 0.01, GW_GEOM_MAX_VERTICES + 10);
    snprintf(body, cap + 512,
             "{\"type\":\"Feature\",\"id\":\"HUGE1\",\"geometry\":{\"type\":\"Polygon\","
             "\"coordinates\":[%s]}}",
             coords);
    long st = request("POST", "/collections/grids/items", body, msg, sizeof msg);
    if (st != 422 || !strstr(msg, "vertices")) fprintf(stderr, "-> %ld %.300s\n", st, msg);
    assert_int_equal(st, 422);
    assert_non_null(strstr(msg, "vertices"));
    /* parts: many tiny squares */
    size_t o = (size_t)snprintf(coords, cap, "[");
    for (int i = 0; i < GW_GEOM_MAX_PARTS + 5; i++) {
        double x = 115.5 + (i % 100) * 0.001, y = 35.2 + (i / 100) * 0.001;
        o += (size_t)snprintf(coords + o, cap - o,
                              "%s[[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]]", i ? "," : "",
                              x, y, x + 0.0005, y, x + 0.0005, y + 0.0005, x, y);
    }
    snprintf(coords + o, cap - o, "]");
    snprintf(body, cap + 512,
             "{\"type\":\"Feature\",\"id\":\"HUGE2\",\"geometry\":{\"type\":\"MultiPolygon\","
             "\"coordinates\":%s}}",
             coords);
    st = request("POST", "/collections/grids/items", body, msg, sizeof msg);
    if (st != 422 || !strstr(msg, "parts")) fprintf(stderr, "-> %ld %.300s\n", st, msg);
    assert_int_equal(st, 422);
    assert_non_null(strstr(msg, "parts"));
    /* the same limit on a plan edit's geometry */
    assert_int_equal(request("POST", "/plan/drafts", "{\"name\":\"huge\"}", msg, sizeof msg), 201);
    json_t *d = json_loads(msg, 0, NULL);
    snprintf(path, sizeof path, "/plan/drafts/%lld/edits",
             (long long)json_integer_value(json_object_get(d, "id")));
    json_decref(d);
    hf_resp r = hf_request("GET", "/collections/grids/items?limit=2", admin, NULL, 0, NULL, NULL);
    json_t *j = json_loads(r.body.data, 0, NULL), *fs = json_object_get(j, "features");
    ring(coords, cap, 115.65, 35.25, 0.01, GW_GEOM_MAX_VERTICES + 10);
    snprintf(body, cap + 512,
             "{\"op\":\"reassign\",\"from\":\"%s\",\"to\":\"%s\",\"area\":{\"type\":"
             "\"Polygon\",\"coordinates\":[%s]}}",
             json_string_value(json_object_get(json_array_get(fs, 0), "id")),
             json_string_value(json_object_get(json_array_get(fs, 1), "id")), coords);
    json_decref(j);
    hf_resp_free(&r);
    st = request("POST", path, body, msg, sizeof msg);
    if (st != 422 || !strstr(msg, "vertices")) fprintf(stderr, "edit -> %ld %.300s\n", st, msg);
    assert_int_equal(st, 422);
    assert_non_null(strstr(msg, "vertices"));
    free(coords);
    free(body);
}

/* Defect 11: a plan split along [[1e308,1e308],[-1e308,-1e308]] was accepted (200) and split
 * the grid; /dispatch/nearest in web Mercator at (1e15, 1e15) answered at latitude 90. */
static void test_coordinates_outside_the_earth_refused(void **state)
{
    (void)state;
    char msg[2048], path[96], body[512];
    assert_int_equal(request("POST", "/plan/drafts", "{\"name\":\"far\"}", msg, sizeof msg), 201);
    json_t *d = json_loads(msg, 0, NULL);
    long long draft = (long long)json_integer_value(json_object_get(d, "id"));
    json_decref(d);
    hf_resp r = hf_request("GET", "/collections/grids/items?limit=1", admin, NULL, 0, NULL, NULL);
    json_t *j = json_loads(r.body.data, 0, NULL);
    snprintf(body, sizeof body,
             "{\"op\":\"split\",\"grid\":\"%s\",\"line\":{\"type\":\"LineString\","
             "\"coordinates\":[[1e308,1e308],[-1e308,-1e308]]}}",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(j, "features"), 0), "id")));
    json_decref(j);
    hf_resp_free(&r);
    snprintf(path, sizeof path, "/plan/drafts/%lld/edits", draft);
    long st = request("POST", path, body, msg, sizeof msg);
    if (st != 422) fprintf(stderr, "split -> %ld %s\n", st, msg);
    assert_int_equal(st, 422);
    assert_non_null(strstr(msg, "out of range"));
    snprintf(path, sizeof path, "/plan/drafts/%lld/diff", draft);
    r = hf_request("GET", path, admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    j = json_loads(r.body.data, 0, NULL);
    assert_non_null(json_object_get(j, "changed"));
    assert_int_equal(json_array_size(json_object_get(j, "added")), 0); /* nothing split */
    assert_int_equal(json_array_size(json_object_get(j, "changed")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "edits")), 0);
    json_decref(j);
    hf_resp_free(&r);
    const char *far[] = {"/dispatch/nearest?crs=EPSG:3857&lon=1e15&lat=1e15",
                         "/dispatch/nearest?crs=EPSG:3857&lon=12870000&lat=1e15",
                         "/dispatch/nearest?crs=EPSG:3857&lon=1e15&lat=4200000"};
    for (size_t i = 0; i < 3; i++) {
        st = request("GET", far[i], NULL, msg, sizeof msg);
        if (st != 400) fprintf(stderr, "%s -> %ld %s\n", far[i], st, msg);
        assert_int_equal(st, 400);
        assert_non_null(strstr(msg, "outside the area"));
    }
    /* a point inside web Mercator's area still answers */
    assert_int_equal(request("GET", "/dispatch/nearest?crs=EPSG:3857&lon=12874000&lat=4200000",
                             NULL, msg, sizeof msg),
                     200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_year0_incident_refused),
        cmocka_unit_test(test_team_updated_at_year0_refused),
        cmocka_unit_test(test_position_from_the_future_refused),
        cmocka_unit_test(test_unreadable_row_does_not_stop_start),
        cmocka_unit_test(test_vrt_upload_cannot_read_server_files),
        cmocka_unit_test(test_nul_and_bad_utf8_in_path_refused),
        cmocka_unit_test(test_values_outside_their_domain_refused),
        cmocka_unit_test(test_many_query_parameters_answered),
        cmocka_unit_test(test_malformed_geometry_message_is_readable),
        cmocka_unit_test(test_incident_naming_unknown_grid_refused),
        cmocka_unit_test(test_ogc_grid_write_bypassing_planning_refused),
        cmocka_unit_test(test_oversized_polygon_refused),
        cmocka_unit_test(test_coordinates_outside_the_earth_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
