/* test_http.c — the HTTP server and OGC API – Features read side, tested over real sockets:
 * a server on an ephemeral loopback port (in-process, and the real `gridwatch serve` binary),
 * a real client (libcurl), data written by the test through gw_store so every count is known.
 * GDAL's OAPIF client (ogrinfo) is the "--ogrinfo" group, ctest entry "http_ogrinfo", skipped
 * (77) where ogrinfo is absent.  The helpers of http_util.c have their own test_http_util.c. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "http_util.h"
#include "ogc.h"
#include "server.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_INC 500
#define T0 1735689600 /* 2025-01-01T00:00:00Z */

static const char *cats[] = {"theft", "assault", "fraud"};
static const char *stats[] = {"open", "closed"};
static double inc_x[N_INC], inc_y[N_INC];
static char db_path[1024];
static gw_server *srv;
static gw_ctx *tctx;

/* ---- data -------------------------------------------------------------------------------- */

static size_t put_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4); /* little-endian host */
    return 4;
}
static size_t put_f64(unsigned char *p, double v)
{
    memcpy(p, &v, 8);
    return 8;
}

/* A polygon WKB (LE) with one ring of n points (closed by the caller). */
static size_t poly_wkb(unsigned char *w, const double *xy, uint32_t n)
{
    size_t k = 0;
    w[k++] = 1;
    k += put_u32(w + k, 3);
    k += put_u32(w + k, 1);
    k += put_u32(w + k, n);
    for (uint32_t i = 0; i < 2 * n; i++) k += put_f64(w + k, xy[i]);
    return k;
}

static void make_db(void)
{
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("http.sqlite"));
    gw_store *st = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_CREATE, &st), GW_OK);
    assert_int_equal(gw_store_begin(st), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(st, GW_LAYER_INCIDENTS, &ins), GW_OK);
    for (int i = 0; i < N_INC; i++) {
        char id[32];
        snprintf(id, sizeof id, "INC-%04d", i);
        inc_x[i] = 115.40 + (i % 25) * 0.008 + (i % 7) * 1e-5;
        inc_y[i] = 35.20 + (i / 25) * 0.005 + (i % 11) * 1e-5;
        gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0},
                         {GW_VAL_INT, NULL, T0 + (int64_t)i * 3600, 0},
                         {GW_VAL_TEXT, cats[i % 3], 0, 0},
                         {GW_VAL_INT, NULL, 1 + i % 5, 0},
                         {GW_VAL_TEXT, stats[i % 2], 0, 0},
                         {GW_VAL_TEXT, "a \"quoted\" description", 0, 0},
                         {GW_VAL_TEXT, "G1", 0, 0}};
        gw_feature f = {v, NULL, 0, inc_x[i], inc_y[i]};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    /* grids: G1 drawn clockwise (the output must make it counter-clockwise), G2 CCW */
    assert_int_equal(gw_store_inserter_create(st, GW_LAYER_GRIDS, &ins), GW_OK);
    double cw[] = {115.4, 35.2, 115.4, 35.3, 115.6, 35.3, 115.6, 35.2, 115.4, 35.2};
    double ccw[] = {115.6, 35.2, 115.7, 35.2, 115.7, 35.3, 115.6, 35.3, 115.6, 35.2};
    unsigned char wkb[256];
    for (int g = 0; g < 2; g++) {
        size_t n = poly_wkb(wkb, g ? ccw : cw, 5);
        gw_value v[10] = {{GW_VAL_TEXT, g ? "G2" : "G1", 0, 0},
                          {GW_VAL_TEXT, "grid", 0, 0},
                          {GW_VAL_TEXT, "Town", 0, 0},
                          {GW_VAL_TEXT, "County", 0, 0},
                          {GW_VAL_INT, NULL, 1000, 0},
                          {GW_VAL_INT, NULL, 300, 0},
                          {GW_VAL_NULL, NULL, 0, 0},
                          {GW_VAL_NULL, NULL, 0, 0}};
        gw_feature f = {v, wkb, n, 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    for (int l = GW_LAYER_POLICE_ROOMS; l <= GW_LAYER_TEAMS; l++) {
        assert_int_equal(gw_store_inserter_create(st, (gw_layer)l, &ins), GW_OK);
        size_t nf;
        gw_layer_fields((gw_layer)l, &nf);
        for (int i = 0; i < 3; i++) {
            char id[16];
            snprintf(id, sizeof id, "P%d", i);
            gw_value v[8];
            memset(v, 0, sizeof v);
            v[0] = (gw_value){GW_VAL_TEXT, id, 0, 0};
            if (l == GW_LAYER_TEAMS) {
                v[2] = (gw_value){GW_VAL_TEXT, "available", 0, 0};
                v[4] = (gw_value){GW_VAL_INT, NULL, T0 + i * 60, 0};
            }
            gw_feature f = {v, NULL, 0, 115.5 + i * 0.01, 35.25};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
        }
        gw_inserter_destroy(ins);
    }
    assert_int_equal(gw_store_log_change(st, GW_LAYER_INCIDENTS, "import", NULL, NULL, NULL),
                     GW_OK);
    assert_int_equal(gw_store_commit(st), GW_OK);
    gw_store_close(st);
}

/* ---- client ------------------------------------------------------------------------------ */

/* Perform a request; url may be absolute or a path on the server.  OPTIONS is a CORS preflight. */
static hf_resp req(const char *method, const char *url, const char *body, size_t body_len)
{
    static const char *const preflight[] = {"Origin: http://example.org",
                                            "Access-Control-Request-Method: GET", NULL};
    return hf_request(method, url, NULL, body, body_len, NULL,
                      strcmp(method, "OPTIONS") == 0 ? preflight : NULL);
}

static json_t *get_json(const char *url, long want_status)
{
    hf_resp r = req("GET", url, NULL, 0);
    json_t *j = hf_json(&r, want_status, 0, url);
    if (!j) fprintf(stderr, "bad JSON from %s\n", url);
    assert_non_null(j);
    return j;
}

static int64_t matched(const char *url)
{
    json_t *j = get_json(url, 200);
    int64_t n = json_integer_value(json_object_get(j, "numberMatched"));
    assert_int_equal(json_array_size(json_object_get(j, "features")),
                     json_integer_value(json_object_get(j, "numberReturned")));
    json_decref(j);
    return n;
}

/* A problem+json answer with this status whose detail mentions `needle`. */
static void expect_problem(const char *method, const char *url, long status, const char *needle)
{
    hf_resp r = req(method, url, NULL, 0);
    if (r.status != status)
        fprintf(stderr, "%s %s -> %ld: %s\n", method, url, r.status, r.body.data);
    assert_int_equal(r.status, status);
    assert_string_equal(r.ctype, "application/problem+json");
    json_t *j = json_loads(r.body.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_non_null(json_string_value(json_object_get(j, "title")));
    const char *d = json_string_value(json_object_get(j, "detail"));
    assert_non_null(d);
    if (!strstr(d, needle)) fprintf(stderr, "detail '%s' lacks '%s'\n", d, needle);
    assert_non_null(strstr(d, needle));
    json_decref(j);
    hf_resp_free(&r);
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static int setup(void **state)
{
    tctx = gw_test_ctx();
    make_db();
    gw_server_opts o = {.db_path = db_path,
                        .port = 0,
                        .threads = 2,
                        .anonymous_read = 1,
                        .quiet = 1,
                        .max_body = 1 << 20};
    assert_int_equal(hf_server_start(tctx, &o, &srv), GW_OK);
    assert_true(gw_server_port(srv) > 0);
    return 0;
}

static int teardown(void **state)
{
    hf_server_stop(srv);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_landing_conformance(void **state)
{
    json_t *j = get_json("/", 200);
    json_t *links = json_object_get(j, "links");
    int seen = 0;
    for (size_t i = 0; i < json_array_size(links); i++) {
        const char *rel = json_string_value(json_object_get(json_array_get(links, i), "rel"));
        const char *href = json_string_value(json_object_get(json_array_get(links, i), "href"));
        if (strcmp(rel, "service-desc") == 0 && strstr(href, "/openapi.json")) seen |= 1;
        if (strcmp(rel, "conformance") == 0 && strstr(href, "/conformance")) seen |= 2;
        if (strcmp(rel, "data") == 0 && strstr(href, "/collections")) seen |= 4;
        if (strcmp(rel, "self") == 0) seen |= 8;
    }
    assert_int_equal(seen, 15);
    json_decref(j);
    j = get_json("/conformance", 200);
    json_t *c = json_object_get(j, "conformsTo");
    assert_int_equal(json_array_size(c), 6 + 10); /* Part 1, 2, HTML (test_ogc_html.c); Part 3
                                                   and neighbours (ogc_query.c) */
    char all[4096] = "";
    for (size_t i = 0; i < json_array_size(c); i++)
        strcat(all, json_string_value(json_array_get(c, i)));
    assert_non_null(strstr(all, "ogcapi-features-1/1.0/conf/core"));
    assert_non_null(strstr(all, "ogcapi-features-1/1.0/conf/geojson"));
    assert_non_null(strstr(all, "ogcapi-features-1/1.0/conf/oas30"));
    assert_non_null(strstr(all, "ogcapi-features-2/1.0/conf/crs"));
    assert_non_null(strstr(all, "ogcapi-features-3/1.0/conf/filter"));
    assert_non_null(strstr(all, "cql2/1.0/conf/advanced-comparison-operators"));
    assert_non_null(strstr(all, "ogcapi-features-1/1.0/conf/html"));
    assert_non_null(strstr(all, "ogcapi-common-1/1.0/conf/html"));
    json_decref(j);
    j = get_json("/openapi.json", 200);
    assert_string_equal(json_string_value(json_object_get(j, "openapi")), "3.0.3");
    json_t *paths = json_object_get(j, "paths");
    assert_non_null(json_object_get(paths, "/collections/incidents/items"));
    assert_non_null(json_object_get(paths, "/collections/grids/items/{featureId}"));
    assert_non_null(json_object_get(paths, "/metrics"));
    json_decref(j);
}

static void test_collections(void **state)
{
    json_t *j = get_json("/collections", 200);
    json_t *cs = json_object_get(j, "collections");
    assert_int_equal(json_array_size(cs), 5);
    json_t *inc = NULL;
    for (size_t i = 0; i < 5; i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(cs, i), "id")), "incidents") ==
            0)
            inc = json_array_get(cs, i);
    assert_non_null(inc);
    assert_string_equal(json_string_value(json_object_get(inc, "storageCrs")), GW_OGC_CRS84);
    json_t *bbox = json_array_get(
        json_object_get(json_object_get(json_object_get(inc, "extent"), "spatial"), "bbox"), 0);
    /* the extent covers the data (it may be float32-rounded outward, from the R*Tree) */
    double ex[4] = {1e9, 1e9, -1e9, -1e9};
    for (int i = 0; i < N_INC; i++) {
        ex[0] = fmin(ex[0], inc_x[i]), ex[1] = fmin(ex[1], inc_y[i]);
        ex[2] = fmax(ex[2], inc_x[i]), ex[3] = fmax(ex[3], inc_y[i]);
    }
    for (int k = 0; k < 4; k++) {
        double v = json_number_value(json_array_get(bbox, (size_t)k));
        assert_true(fabs(v - ex[k]) < 1e-4);
        assert_true(k < 2 ? v <= ex[k] : v >= ex[k]);
    }
    json_t *iv = json_array_get(
        json_object_get(json_object_get(json_object_get(inc, "extent"), "temporal"), "interval"),
        0);
    assert_string_equal(json_string_value(json_array_get(iv, 0)), "2025-01-01T00:00:00Z");
    char last[32];
    gw_time_format(T0 + (N_INC - 1) * 3600, last, sizeof last);
    assert_string_equal(json_string_value(json_array_get(iv, 1)), last);
    assert_true(json_array_size(json_object_get(inc, "crs")) >= 5);
    json_decref(j);
    j = get_json("/collections/grids", 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "grids");
    json_decref(j);
    j = get_json("/collections/teams/", 200); /* trailing slash */
    assert_non_null(json_object_get(json_object_get(j, "extent"), "temporal"));
    json_decref(j);
}

static void test_paging_walks_all(void **state)
{
    static unsigned char seen[N_INC];
    memset(seen, 0, sizeof seen);
    char url[2048] = "/collections/incidents/items?limit=37&status=open";
    int pages = 0, total = 0, prev_seen = 0;
    for (;;) {
        json_t *j = get_json(url, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), N_INC / 2);
        json_t *fs = json_object_get(j, "features");
        for (size_t i = 0; i < json_array_size(fs); i++) {
            int k = atoi(json_string_value(json_object_get(json_array_get(fs, i), "id")) + 4);
            assert_true(k >= 0 && k < N_INC && k % 2 == 0);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
            total++;
        }
        const char *next = NULL;
        json_t *links = json_object_get(j, "links");
        for (size_t i = 0; i < json_array_size(links); i++) {
            const char *rel = json_string_value(json_object_get(json_array_get(links, i), "rel"));
            if (strcmp(rel, "next") == 0)
                next = json_string_value(json_object_get(json_array_get(links, i), "href"));
            if (strcmp(rel, "prev") == 0) prev_seen = 1;
        }
        pages++;
        if (next) {
            assert_non_null(strstr(next, "status=open"));
            assert_non_null(strstr(next, "limit=37"));
            snprintf(url, sizeof url, "%s", next);
        }
        json_decref(j);
        if (!next) break;
        assert_true(pages < 100);
    }
    assert_int_equal(total, N_INC / 2);
    assert_int_equal(pages, (N_INC / 2 + 36) / 37);
    assert_true(prev_seen);
    /* default limit 100; offset past the end returns nothing */
    json_t *j = get_json("/collections/incidents/items", 200);
    assert_int_equal(json_array_size(json_object_get(j, "features")), 100);
    json_decref(j);
    j = get_json("/collections/incidents/items?offset=10000", 200);
    assert_int_equal(json_integer_value(json_object_get(j, "numberReturned")), 0);
    json_decref(j);
}

static void test_filters(void **state)
{
    /* edges between data points, so that a CRS round trip cannot move a point across */
    double minx = 115.4305, miny = 35.2105, maxx = 115.5105, maxy = 35.2605;
    int want = 0;
    for (int i = 0; i < N_INC; i++)
        want += inc_x[i] >= minx && inc_x[i] <= maxx && inc_y[i] >= miny && inc_y[i] <= maxy;
    assert_true(want > 10 && want < N_INC);
    char url[512];
    snprintf(url, sizeof url, "/collections/incidents/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=1", minx,
             miny, maxx, maxy);
    assert_int_equal(matched(url), want);
    /* the same box given in Web Mercator */
    double xs[2] = {minx, maxx}, ys[2] = {miny, maxy};
    gw_crs_transform *tr = NULL;
    assert_int_equal(gw_crs_transform_create(tctx, (gw_crs){GW_CRS_EPSG, 4326},
                                             (gw_crs){GW_CRS_EPSG, 3857}, &tr),
                     GW_OK);
    assert_int_equal(gw_crs_transform_points(tr, xs, ys, 2), GW_OK);
    gw_crs_transform_destroy(tr);
    snprintf(
        url, sizeof url,
        "/collections/incidents/items?bbox=%.4f,%.4f,%.4f,%.4f&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=1",
        xs[0], ys[0], xs[1], ys[1]);
    assert_int_equal(matched(url), want);
    /* EPSG:4326 bbox is lat,lon */
    snprintf(url, sizeof url,
             "/collections/incidents/items?bbox=%.4f,%.4f,%.4f,%.4f&bbox-crs=EPSG:4326&limit=1",
             miny, minx, maxy, maxx);
    assert_int_equal(matched(url), want);
    /* datetime: hours 100..199 inclusive; open ends */
    char a[32], b[32];
    gw_time_format(T0 + 100 * 3600, a, sizeof a);
    gw_time_format(T0 + 199 * 3600, b, sizeof b);
    snprintf(url, sizeof url, "/collections/incidents/items?datetime=%s/%s&limit=1", a, b);
    assert_int_equal(matched(url), 100);
    snprintf(url, sizeof url, "/collections/incidents/items?datetime=../%s&limit=1", b);
    assert_int_equal(matched(url), 200);
    snprintf(url, sizeof url, "/collections/incidents/items?datetime=%s/..&limit=1", a);
    assert_int_equal(matched(url), N_INC - 100);
    snprintf(url, sizeof url, "/collections/incidents/items?datetime=%s&limit=1", a);
    assert_int_equal(matched(url), 1);
    assert_int_equal(
        matched("/collections/incidents/items?datetime=2025-01-01T08:00:00%2B08:00/..&limit=1"),
        N_INC);
    /* properties */
    want = 0;
    for (int i = 0; i < N_INC; i++) want += i % 3 == 0 && 1 + i % 5 == 3 && i % 2 == 0;
    assert_int_equal(
        matched("/collections/incidents/items?category=theft&severity=3&status=open&limit=1"),
        want);
    assert_int_equal(matched("/collections/incidents/items?category=none"), 0);
    assert_int_equal(matched("/collections/grids/items?township=Town"), 2);
    assert_int_equal(
        matched("/collections/teams/items?status=available&datetime=../2025-01-01T00:01:00Z"), 2);
    /* combined bbox + datetime + property, against a count made here */
    want = 0;
    for (int i = 0; i < N_INC; i++)
        want += inc_x[i] >= minx && inc_x[i] <= maxx && inc_y[i] >= miny && inc_y[i] <= maxy &&
                i >= 100 && i % 3 == 1;
    snprintf(
        url, sizeof url,
        "/collections/incidents/items?bbox=%.4f,%.4f,%.4f,%.4f&datetime=%s/..&category=assault&limit=1",
        minx, miny, maxx, maxy, a);
    assert_int_equal(matched(url), want);
    /* a grid bbox: only G2 intersects a box east of 115.65 */
    assert_int_equal(matched("/collections/grids/items?bbox=115.65,35.21,115.69,35.29"), 1);
}

static void test_item_and_crs(void **state)
{
    json_t *j = get_json("/collections/incidents/items/INC-0042", 200);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "INC-0042");
    json_t *p = json_object_get(j, "properties");
    assert_string_equal(json_string_value(json_object_get(p, "description")),
                        "a \"quoted\" description");
    assert_int_equal(json_integer_value(json_object_get(p, "severity")), 1 + 42 % 5);
    json_t *c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    assert_true(fabs(json_number_value(json_array_get(c, 0)) - inc_x[42]) < 1e-7);
    assert_true(fabs(json_number_value(json_array_get(c, 1)) - inc_y[42]) < 1e-7);
    json_decref(j);

    /* 3857 against an independent transform; Content-Crs header */
    hf_resp r = req(
        "GET",
        "/collections/incidents/items/INC-0042?crs=http://www.opengis.net/def/crs/EPSG/0/3857",
        NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(
        strstr(r.hdrs.data, "Content-Crs: <http://www.opengis.net/def/crs/EPSG/0/3857>"));
    j = json_loads(r.body.data, 0, NULL);
    c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    PJ *pj = proj_create_crs_to_crs(NULL, "EPSG:4326", "EPSG:3857", NULL);
    PJ_COORD in = proj_coord(inc_y[42], inc_x[42], 0, 0), out = proj_trans(pj, PJ_FWD, in);
    proj_destroy(pj);
    assert_true(fabs(json_number_value(json_array_get(c, 0)) - out.xy.x) < 0.01);
    assert_true(fabs(json_number_value(json_array_get(c, 1)) - out.xy.y) < 0.01);
    json_decref(j);
    hf_resp_free(&r);

    /* EPSG:4326 is lat,lon */
    j = get_json(
        "/collections/incidents/items/INC-0042?crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        200);
    c = json_object_get(json_object_get(j, "geometry"), "coordinates");
    assert_true(fabs(json_number_value(json_array_get(c, 0)) - inc_y[42]) < 1e-7);
    json_decref(j);

    /* GCJ-02 on the items route */
    j = get_json("/collections/incidents/items?crs=GCJ-02&limit=1", 200);
    c = json_object_get(json_object_get(json_array_get(json_object_get(j, "features"), 0),
                                        "geometry"),
                        "coordinates");
    double gx, gy;
    gw_gcj02_from_wgs84(inc_x[0], inc_y[0], &gx, &gy);
    assert_true(fabs(gx - inc_x[0]) > 1e-4); /* the offset is real inside China */
    assert_true(fabs(json_number_value(json_array_get(c, 0)) - gx) < 2e-7);
    assert_true(fabs(json_number_value(json_array_get(c, 1)) - gy) < 2e-7);
    json_decref(j);
}

/* Signed area of a GeoJSON ring (positive = counter-clockwise). */
static double ring_area(json_t *ring)
{
    double a = 0;
    for (size_t i = 0; i + 1 < json_array_size(ring); i++) {
        json_t *p = json_array_get(ring, i), *q = json_array_get(ring, i + 1);
        a += json_number_value(json_array_get(p, 0)) * json_number_value(json_array_get(q, 1)) -
             json_number_value(json_array_get(q, 0)) * json_number_value(json_array_get(p, 1));
    }
    return a / 2;
}

static void test_right_hand_rule(void **state)
{
    json_t *j = get_json("/collections/grids/items", 200);
    json_t *fs = json_object_get(j, "features");
    assert_int_equal(json_array_size(fs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *g = json_object_get(json_array_get(fs, i), "geometry");
        assert_string_equal(json_string_value(json_object_get(g, "type")), "MultiPolygon");
        json_t *ring = json_array_get(json_array_get(json_object_get(g, "coordinates"), 0), 0);
        assert_int_equal(json_array_size(ring), 5);
        assert_true(ring_area(ring) > 0);
    }
    json_decref(j);
}

static void test_errors(void **state)
{
    expect_problem("GET", "/nowhere", 404, "/nowhere");
    expect_problem("GET", "/collections/roads", 404, "roads");
    expect_problem("GET", "/collections/incidents/items/NOPE", 404, "NOPE");
    expect_problem("GET", "/collections/incidents/items?bbox=1,2,3", 400, "bbox");
    expect_problem("GET", "/collections/incidents/items?bbox=1,x,3,4", 400, "bbox");
    expect_problem("GET", "/collections/incidents/items?bbox=10,0,5,1", 400, "bbox");
    expect_problem("GET", "/collections/incidents/items?bbox=0,0,200,1", 400, "bbox");
    expect_problem("GET", "/collections/incidents/items?limit=0", 400, "limit");
    expect_problem("GET", "/collections/incidents/items?limit=10001", 400, "limit");
    expect_problem("GET", "/collections/incidents/items?limit=ten", 400, "limit");
    expect_problem("GET", "/collections/incidents/items?offset=-1", 400, "offset");
    expect_problem("GET", "/collections/incidents/items?datetime=yesterday", 400, "datetime");
    expect_problem("GET", "/collections/incidents/items?datetime=../..", 400, "datetime");
    expect_problem("GET", "/collections/incidents/items?colour=red", 400, "colour");
    expect_problem("GET", "/collections/incidents/items?severity=high", 400, "severity");
    expect_problem("GET", "/collections/incidents/items?crs=EPSG:2000", 400, "crs");
    expect_problem("GET", "/collections/cameras/items?datetime=2025-01-01T00:00:00Z", 400,
                   "datetime");
    expect_problem("DELETE", "/collections", 405, "DELETE");
    hf_resp r = req("PUT", "/healthz", "x", 1);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.hdrs.data, "Allow: GET, HEAD, OPTIONS"));
    hf_resp_free(&r);
    /* a body over the limit (1 MiB here) */
    size_t big = 2u << 20;
    char *body = malloc(big);
    memset(body, 'x', big);
    r = req("POST", "/collections/incidents/items", body, big);
    free(body);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.ctype, "application/problem+json");
    hf_resp_free(&r);
    /* the server is still fine */
    json_decref(get_json("/healthz", 200));
}

static void test_ops(void **state)
{
    json_t *j = get_json("/healthz", 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_true(json_integer_value(json_object_get(j, "seq")) >= 1);
    json_decref(j);
    hf_resp r = req("OPTIONS", "/collections/incidents/items", NULL, 0);
    assert_int_equal(r.status, 204);
    assert_non_null(strstr(r.hdrs.data, "Access-Control-Allow-Origin: *"));
    assert_non_null(strstr(r.hdrs.data, "Access-Control-Allow-Methods: GET"));
    hf_resp_free(&r);
    r = req("HEAD", "/collections", NULL, 0);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    r = req("GET", "/metrics", NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain"));
    assert_non_null(
        strstr(r.body.data, "gridwatch_http_requests_total{route=\"landing\",status=\"200\"}"));
    assert_non_null(
        strstr(r.body.data, "gridwatch_http_requests_total{route=\"unmatched\",status=\"404\"}"));
    assert_non_null(
        strstr(r.body.data,
               "gridwatch_http_request_duration_seconds_bucket{route=\"items\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body.data, "gridwatch_http_open_connections "));
    assert_non_null(strstr(r.body.data, "gridwatch_changelog_seq 1"));
    assert_non_null(strstr(r.body.data, "gridwatch_db_size_bytes "));
    if (!gw_test_on_postgres()) /* the file's size; a PostgreSQL database has no file here */
        assert_null(strstr(r.body.data, "gridwatch_db_size_bytes 0\n"));
    hf_resp_free(&r);
}

static void test_ogrinfo(void **state)
{
    char cmd[512], line[1024];
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so OAPIF:%s 2>&1", hf_base);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int layers = 0;
    while (fgets(line, sizeof line, p))
        for (int l = 0; l < GW_LAYER_COUNT; l++) {
            char want[64];
            snprintf(want, sizeof want, ": %s", gw_layer_name((gw_layer)l));
            if (strstr(line, want)) layers++;
        }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(layers, 5);
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so OAPIF:%s incidents 2>&1", hf_base);
    p = popen(cmd, "r");
    long count = -1;
    while (fgets(line, sizeof line, p)) {
        char *f = strstr(line, "Feature Count: ");
        if (f) count = atol(f + 15);
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(count, N_INC);
}

/* The real binary: `gridwatch serve DB --port P`, SIGTERM ends it with 0. */
static void test_binary(void **state)
{
    char cmd[2048], line[256] = "";
    snprintf(cmd, sizeof cmd, "%s serve --help 2>&1", GW_BINARY);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int usage = fgets(line, sizeof line, p) && strstr(line, "usage: gridwatch serve");
    pclose(p);
    if (!usage) fail_msg("%s serve --help: want its usage, got '%s'", GW_BINARY, line);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    getsockname(s, (struct sockaddr *)&sa, &sl);
    unsigned port = ntohs(sa.sin_port);
    close(s);
    char portarg[16];
    snprintf(portarg, sizeof portarg, "%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(GW_BINARY, GW_BINARY, "serve", db_path, "--port", portarg, "--anonymous-read",
              (char *)NULL);
        _exit(127);
    }
    char saved[64];
    snprintf(saved, sizeof saved, "%s", hf_base);
    snprintf(hf_base, sizeof hf_base, "http://127.0.0.1:%u", port);
    long st = 0;
    /* up to 30 s: under ASan on a loaded 2-core CI box the binary can take several seconds to start */
    for (int i = 0; i < 600 && st != 200; i++) {
        usleep(50000);
        hf_resp r = req("GET", "/healthz", NULL, 0);
        st = r.status;
        hf_resp_free(&r);
    }
    assert_int_equal(st, 200);
    assert_int_equal(matched("/collections/incidents/items?limit=5"), N_INC);
    snprintf(hf_base, sizeof hf_base, "%s", saved);
    kill(pid, SIGTERM);
    int ws = 0;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    /* usage errors exit 2 */
    snprintf(cmd, sizeof cmd, "%s serve --port nope x.db >/dev/null 2>&1", GW_BINARY);
    int rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 2);
    snprintf(cmd, sizeof cmd, "%s serve /nonexistent/db.sqlite >/dev/null 2>&1", GW_BINARY);
    rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_landing_conformance),
        cmocka_unit_test(test_collections),
        cmocka_unit_test(test_paging_walks_all),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_item_and_crs),
        cmocka_unit_test(test_right_hand_rule),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_binary),
    };
    const struct CMUnitTest ogr[] = {cmocka_unit_test(test_ogrinfo)};
    const char *group = gw_test_group(argc, argv);
    if (!*group) return cmocka_run_group_tests_name("http", tests, setup, teardown);
    if (strcmp(group, "--ogrinfo") != 0) return gw_test_bad_group(group);
    if (!gw_test_need_tool("command -v ogrinfo", "ogrinfo not found (Debian: gdal-bin)"))
        return GW_TEST_SKIPPED;
    return cmocka_run_group_tests_name("http_ogrinfo", ogr, setup, teardown);
}
