/* test_dispatch_http.c — the /dispatch routes over real sockets with the full app on a small
 * synthetic city: locate agrees with what the edit engine records for an incident at the same
 * spot, nearest after fresh positions, auth on writes, out-of-order positions, the bulk
 * position rate, and the assignment race (8 clients, one winner, 20 rounds). */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/city.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char tok_disp[GW_TOKEN_LEN + 1], tok_view[GW_TOKEN_LEN + 1];
static gw_bbox ext; /* teams' lon/lat extent */

static hf_resp req(const char *method, const char *url, const char *tok, const char *body)
{
    return hf_request(method, url, tok, body, body ? strlen(body) : 0,
                      body ? "application/json" : NULL, NULL);
}

static json_t *req_json(const char *method, const char *url, const char *tok, const char *body,
                        long want)
{
    hf_resp r = req(method, url, tok, body);
    json_t *j = hf_json(&r, want, 0, url);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("dispatch.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.02, 11);
    assert_int_equal(gw_store_extent(s, GW_LAYER_TEAMS, &ext), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "disp", NULL, tok_disp, NULL),
                     GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_VIEWER, "view", NULL, tok_view, NULL), GW_OK);
    gw_store_close(s);
    gw_server_opts o = {
        .db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .threads = 2};
    assert_int_equal(hf_app_start(tctx, NULL, &o, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* Locate answers the grid and police room the edit engine records for an incident there. */
static void test_locate_agrees_with_incident_resolution(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < 12; i++) {
        double lon = ext.minx + (ext.maxx - ext.minx) * (0.1 + 0.07 * i);
        double lat = ext.miny + (ext.maxy - ext.miny) * (0.9 - 0.065 * i);
        char url[256], body[512];
        snprintf(url, sizeof url, "/dispatch/locate?lon=%.7f&lat=%.7f", lon, lat);
        json_t *loc = req_json("GET", url, NULL, NULL, 200);
        snprintf(body, sizeof body,
                 "{\"type\":\"Feature\",\"id\":\"LOC%d\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[%.7f,%.7f]},\"properties\":{\"category\":\"test\"}}",
                 i, lon, lat);
        hf_resp r = req("POST", "/collections/incidents/items", tok_disp, body);
        assert_int_equal(r.status, 201);
        json_t *f = json_loads(r.body.data, 0, NULL);
        hf_resp_free(&r);
        json_t *props = json_object_get(f, "properties");
        json_t *grid = json_object_get(loc, "grid");
        const char *g_inc = json_string_value(json_object_get(props, "grid"));
        if (json_is_null(grid)) {
            assert_null(g_inc);
        } else {
            assert_non_null(g_inc);
            assert_string_equal(json_string_value(json_object_get(grid, "id")), g_inc);
            checked++;
        }
        json_t *room = json_object_get(loc, "police_room");
        assert_string_equal(json_string_value(json_object_get(room, "id")),
                            json_string_value(json_object_get(props, "police_room")));
        assert_true(json_real_value(json_object_get(room, "distance_m")) >= 0);
        assert_int_equal(json_array_size(json_object_get(loc, "police_rooms_nearest")), 3);
        assert_true(json_is_array(json_object_get(loc, "cameras")));
        assert_non_null(strstr(json_string_value(json_object_get(loc, "metric_crs")), "EPSG:"));
        json_decref(f);
        json_decref(loc);
    }
    assert_true(checked >= 6);
    hf_resp r = req("GET", "/dispatch/locate?lon=abc&lat=35", NULL, NULL);
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);
    r = req("GET", "/dispatch/locate?lon=35&lat=135", NULL, NULL);
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);
}

/* The first n team ids of the city ("T00001" …). */
static void team_id(int k, char *buf, size_t cap) { snprintf(buf, cap, "T%05d", k + 1); }

static void test_positions_then_nearest(void **state)
{
    (void)state;
    double lon0 = (ext.minx + ext.maxx) / 2, lat0 = (ext.miny + ext.maxy) / 2;
    int64_t now = (int64_t)time(NULL);
    gw_buf b = {0};
    gw_buf_str(&b, "[");
    for (int k = 0; k < 40; k++) { /* 40 teams on a ring around the centre, 100 m .. 4 km */
        char id[16];
        team_id(k, id, sizeof id);
        double r = 100.0 * (k + 1), a = k * 0.7;
        gw_buf_printf(&b, "%s{\"id\":\"%s\",\"lon\":%.7f,\"lat\":%.7f,\"at\":%lld}", k ? "," : "",
                      id, lon0 + r * sin(a) / (111320 * cos(lat0 * M_PI / 180)),
                      lat0 + r * cos(a) / 111320, (long long)now);
    }
    gw_buf_str(&b, "]");
    hf_resp r = req("POST", "/dispatch/positions", NULL, b.data);
    assert_int_equal(r.status, 401);
    hf_resp_free(&r);
    r = req("POST", "/dispatch/positions", tok_view, b.data);
    assert_int_equal(r.status, 403);
    hf_resp_free(&r);
    json_t *j = req_json("POST", "/dispatch/positions", tok_disp, b.data, 200);
    gw_buf_free(&b);
    assert_int_equal(json_integer_value(json_object_get(j, "applied")), 40);
    json_decref(j);
    /* out of order: an older report for T00001 is ignored, the unknown id is named */
    char body[512];
    snprintf(body, sizeof body,
             "{\"positions\":[{\"id\":\"T00001\",\"lon\":%.6f,\"lat\":%.6f,\"at\":%lld},"
             "{\"id\":\"nobody\",\"lon\":%.6f,\"lat\":%.6f}]}",
             ext.minx, ext.miny, (long long)(now - 60), lon0, lat0);
    j = req_json("POST", "/dispatch/positions", tok_disp, body, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "applied")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "ignored_older")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown")), 1);
    json_decref(j);
    r = req("POST", "/dispatch/positions", tok_disp, "[{\"id\":\"T00001\",\"lon\":\"x\"}]");
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);

    char url[256];
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&k=5", lon0, lat0);
    j = req_json("GET", url, NULL, NULL, 200);
    json_t *teams = json_object_get(j, "teams");
    assert_int_equal(json_array_size(teams), 5);
    double prev = -1;
    for (size_t i = 0; i < 5; i++) {
        json_t *t = json_array_get(teams, i);
        double d = json_real_value(json_object_get(t, "distance_m"));
        assert_true(d >= prev);
        prev = d;
        assert_string_equal(json_string_value(json_object_get(t, "status")), "available");
        assert_false(json_is_true(json_object_get(t, "stale")));
        assert_true(json_integer_value(json_object_get(t, "age_s")) < 120);
        assert_true(d < 4100);
        assert_true(json_object_get(t, "eta_s") != NULL);
    }
    assert_non_null(
        strstr(json_string_value(json_object_get(j, "distance")), "planar metres in EPSG:"));
    json_decref(j);
    /* status filters and limits */
    snprintf(url, sizeof url,
             "/dispatch/nearest?lon=%.7f&lat=%.7f&k=50&status=busy,offline&max_m=4100", lon0, lat0);
    j = req_json("GET", url, NULL, NULL, 200);
    teams = json_object_get(j, "teams");
    for (size_t i = 0; i < json_array_size(teams); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(teams, i), "status"));
        assert_true(strcmp(s, "busy") == 0 || strcmp(s, "offline") == 0);
    }
    json_decref(j);
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&status=asleep", lon0, lat0);
    r = req("GET", url, NULL, NULL);
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&k=0", lon0, lat0);
    r = req("GET", url, NULL, NULL);
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);
}

/* Bulk positions: 10 requests of 1,000 reports each, timed. */
static void test_positions_rate(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int total = 0;
    for (int batch = 0; batch < 10; batch++) {
        gw_buf b = {0};
        gw_buf_str(&b, "[");
        for (int k = 0; k < 1000; k++) {
            char id[16];
            team_id(k % 120, id, sizeof id);
            gw_buf_printf(&b, "%s{\"id\":\"%s\",\"lon\":%.7f,\"lat\":%.7f,\"at\":%lld}",
                          k ? "," : "", id,
                          ext.minx + (ext.maxx - ext.minx) * ((k * 37 + batch) % 1000) / 1000.0,
                          ext.miny + (ext.maxy - ext.miny) * ((k * 91 + batch) % 1000) / 1000.0,
                          (long long)(now + 1 + batch));
        }
        gw_buf_str(&b, "]");
        json_t *j = req_json("POST", "/dispatch/positions", tok_disp, b.data, 200);
        total += (int)json_integer_value(json_object_get(j, "applied"));
        json_decref(j);
        gw_buf_free(&b);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message(
        "positions: %d applied in %.3f s = %.0f updates/s (batches of 1000, one client)\n", total,
        s, total / s);
    assert_int_equal(total, 10000);
}

typedef struct racer {
    const char *body;
    long status;
    char team_status[16];
} racer;

static void *race_main(void *arg)
{
    racer *r = arg;
    hf_resp x = req("POST", "/dispatch/assign", tok_disp, r->body);
    r->status = x.status;
    json_t *j = json_loads(x.body.data, 0, NULL);
    const char *s = json_string_value(json_object_get(json_object_get(j, "team"), "status"));
    snprintf(r->team_status, sizeof r->team_status, "%s", s ? s : "");
    json_decref(j);
    hf_resp_free(&x);
    return NULL;
}

static void test_assign_race(void **state)
{
    (void)state;
    /* an available team */
    char url[256];
    snprintf(url, sizeof url, "/dispatch/nearest?lon=%.7f&lat=%.7f&k=1&include_stale=1",
             (ext.minx + ext.maxx) / 2, (ext.miny + ext.maxy) / 2);
    json_t *j = req_json("GET", url, NULL, NULL, 200);
    char team[32];
    snprintf(team, sizeof team, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(j, "teams"), 0), "id")));
    json_decref(j);
    char body[128];
    snprintf(body, sizeof body, "{\"incident\":\"I0000001\",\"team\":\"%s\"}", team);
    for (int round = 0; round < 20; round++) {
        racer r[8];
        pthread_t th[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (racer){body, 0, ""};
            pthread_create(&th[i], NULL, race_main, &r[i]);
        }
        int ok = 0, conflict = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].status == 200;
            if (r[i].status == 409) {
                conflict++;
                assert_string_equal(r[i].team_status, "busy");
            }
        }
        assert_int_equal(ok, 1);
        assert_int_equal(conflict, 7);
        char rel[96];
        snprintf(rel, sizeof rel, "{\"team\":\"%s\"}", team);
        json_t *x = req_json("POST", "/dispatch/release", tok_disp, rel, 200);
        assert_string_equal(json_string_value(
                                json_object_get(json_object_get(x, "team"), "status")),
                            "available");
        json_decref(x);
    }
    hf_resp r = req("POST", "/dispatch/release", tok_disp,
                    "{\"team\":\"T00002\",\"incident\":\"none\"}");
    assert_int_equal(r.status, 409);
    hf_resp_free(&r);
    r = req("POST", "/dispatch/assign", tok_disp,
            "{\"team\":\"nobody\",\"incident\":\"I0000001\"}");
    assert_int_equal(r.status, 404);
    hf_resp_free(&r);
    r = req("POST", "/dispatch/assign", tok_view, body);
    assert_int_equal(r.status, 403);
    hf_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locate_agrees_with_incident_resolution),
        cmocka_unit_test(test_positions_then_nearest),
        cmocka_unit_test(test_positions_rate),
        cmocka_unit_test(test_assign_race),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
