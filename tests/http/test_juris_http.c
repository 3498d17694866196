/* test_juris_http.c — GET /jurisdictions over a generated city: every listed jurisdiction's
 * grids and population agree with a recount from the model's grid fields, the filters (level,
 * parent) select what they say, bad parameters are 400/404 problems, and a jurisdiction import
 * written beside the server shows in the listing once the live model has it. */
#include "http_fixture.h"

#include "gridwatch/juris.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char db_path[512];

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("juris_http.db"));
    gw_store_close(hf_city(tctx, db_path, 0.02, 3));
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static json_t *get(const char *url, long status)
{
    hf_resp r = hf_request("GET", url, NULL, NULL, 0, NULL, NULL);
    return hf_json(&r, status, 0, url);
}

/* The recount: for each prefix of each grid's fields (joined here, not by geo/juris), the
 * number of grids and their population, as a JSON object path -> [grids, population]. */
static json_t *recount(void)
{
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    static const char *const f[4] = {"prefecture", "county", "township", "village"};
    int pop = gw_layer_field_index(GW_LAYER_GRIDS, "population");
    json_t *out = json_object();
    for (size_t r = 0; r < gw_layer_data_count(d); r++) {
        char path[512] = "";
        for (int k = 0; k < 4; k++) {
            const char *s = gw_layer_data_text(d, r, gw_layer_field_index(GW_LAYER_GRIDS, f[k]));
            if (!s || !*s) continue;
            if (*path) strcat(path, "/");
            strcat(path, s);
            json_t *e = json_object_get(out, path);
            if (!e) json_object_set_new(out, path, e = json_pack("[ii]", 0, 0));
            gw_value v = gw_layer_data_value(d, r, pop);
            json_array_set_new(e, 0, json_integer(json_integer_value(json_array_get(e, 0)) + 1));
            json_array_set_new(e, 1,
                               json_integer(json_integer_value(json_array_get(e, 1)) +
                                            (v.kind == GW_VAL_INT ? v.i : 0)));
        }
    }
    gw_model_release(tctx, snap);
    return out;
}

static void test_list_matches_recount(void **state)
{
    (void)state;
    json_t *doc = get("/jurisdictions", 200), *want = recount();
    json_t *arr = json_object_get(doc, "jurisdictions");
    assert_int_equal(json_array_size(arr), json_object_size(want));
    assert_true(json_object_size(want) > 20);
    assert_int_equal(json_integer_value(json_object_get(doc, "unassigned_grids")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(doc, "metric_crs")), "EPSG:"));
    size_t i, levels[5] = {0};
    json_t *j;
    double area1 = 0;
    json_array_foreach (arr, i, j) {
        const char *path = json_string_value(json_object_get(j, "path"));
        json_t *e = json_object_get(want, path);
        if (!e) fail_msg("listed %s, which no grid has", path);
        assert_int_equal(json_integer_value(json_object_get(j, "grids")),
                         json_integer_value(json_array_get(e, 0)));
        assert_int_equal(json_integer_value(json_object_get(j, "population")),
                         json_integer_value(json_array_get(e, 1)));
        int level = (int)json_integer_value(json_object_get(j, "level"));
        assert_true(level >= 1 && level <= 4);
        levels[level]++;
        const char *parent = json_string_value(json_object_get(j, "parent"));
        const char *name = json_string_value(json_object_get(j, "name"));
        char joined[600];
        snprintf(joined, sizeof joined, "%s%s%s", parent, *parent ? "/" : "", name);
        assert_string_equal(joined, path);
        if (level > 1) assert_non_null(json_object_get(want, parent));
        assert_true(json_real_value(json_object_get(j, "area_km2")) > 0);
        if (level == 1) area1 += json_real_value(json_object_get(j, "area_km2"));
    }
    assert_int_equal(levels[1], 1); /* one prefecture: 菏泽市 */
    assert_true(levels[4] > levels[3] && levels[3] > levels[2]);
    /* the city's area: the grids tile it, so the prefecture's area is the region's (~2 %) */
    assert_true(area1 > 0);
    json_decref(doc);

    /* ?level=4: only villages, as many as the recount has 4-part paths */
    doc = get("/jurisdictions?level=4", 200);
    arr = json_object_get(doc, "jurisdictions");
    assert_int_equal(json_array_size(arr), levels[4]);
    json_array_foreach (arr, i, j)
        assert_int_equal(json_integer_value(json_object_get(j, "level")), 4);
    /* ?parent=<a township>: its villages, whose grids add up to the township's */
    const char *town = json_string_value(json_object_get(json_array_get(arr, 0), "parent"));
    char url[1024];
    size_t u = (size_t)snprintf(url, sizeof url, "/jurisdictions?parent=");
    for (const unsigned char *c = (const unsigned char *)town; *c && u + 4 < sizeof url; c++)
        u += (size_t)snprintf(url + u, sizeof url - u, "%%%02X", *c); /* every byte escaped */
    json_t *sub = get(url, 200);
    json_int_t sum = 0;
    json_array_foreach (json_object_get(sub, "jurisdictions"), i, j) {
        assert_string_equal(json_string_value(json_object_get(j, "parent")), town);
        sum += json_integer_value(json_object_get(j, "grids"));
    }
    assert_true(i > 0);
    assert_int_equal(sum, json_integer_value(json_array_get(json_object_get(want, town), 0)));
    json_decref(sub);
    json_decref(doc);
    json_decref(want);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    static const char *const bad[] = {"/jurisdictions?level=0", "/jurisdictions?level=5",
                                      "/jurisdictions?level=x", "/jurisdictions?level="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hf_resp r = hf_request("GET", bad[i], NULL, NULL, 0, NULL, NULL);
        assert_string_equal(r.ctype, "application/problem+json");
        json_t *p = hf_json(&r, 400, 0, bad[i]);
        assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "level"));
        json_decref(p);
    }
    hf_resp r = hf_request("GET", "/jurisdictions?parent=nowhere", NULL, NULL, 0, NULL, NULL);
    json_t *p = hf_json(&r, 404, 0, "unknown parent");
    assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "nowhere"));
    json_decref(p);
}

static json_int_t grids_of(const char *path)
{
    json_t *doc = get("/jurisdictions", 200);
    size_t i;
    json_t *j;
    json_int_t n = -1;
    json_array_foreach (json_object_get(doc, "jurisdictions"), i, j)
        if (strcmp(json_string_value(json_object_get(j, "path")), path) == 0)
            n = json_integer_value(json_object_get(j, "grids"));
    json_decref(doc);
    return n;
}

static void test_import_seen_by_server(void **state)
{
    (void)state;
    /* two grids moved into a new village of the first grid's township, from another connection */
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    char csv[1024], path[512], id0[64], id1[64];
    snprintf(id0, sizeof id0, "%s", gw_layer_data_id(d, 0));
    snprintf(id1, sizeof id1, "%s", gw_layer_data_id(d, 1));
    gw_juris_grid_path(d, 0, path, sizeof path, NULL);
    gw_model_release(tctx, snap);
    *strrchr(path, '/') = '\0'; /* the township */
    snprintf(csv, sizeof csv, "grid_id,village\n%s,测试新村\n%s,测试新村\n", id0, id1);
    strcat(path, "/测试新村");
    assert_int_equal(grids_of(path), -1);
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, 0, &s), GW_OK);
    size_t n = 0;
    gw_status st = gw_juris_import_csv(s, gw_test_write("move.csv", csv), "test", &n, NULL);
    if (st) fail_msg("import: %s", gw_ctx_errmsg(tctx));
    gw_store_close(s);
    assert_int_equal(n, 2);
    json_int_t got = -1;
    for (int i = 0; i < 500 && got != 2; i++) {
        got = grids_of(path);
        if (got != 2) usleep(10000);
    }
    assert_int_equal(got, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_matches_recount),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_import_seen_by_server),
    };
    return cmocka_run_group_tests_name("juris_http", tests, setup, teardown);
}
