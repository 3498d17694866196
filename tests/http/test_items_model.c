/* test_items_model.c — items pages of point layers answered from the live model (issue 19 item
 * 5b) must be the store's answer: numberMatched, numberReturned and the page's ids in storage
 * order, against a brute-force expectation computed here from every stored row (the cursor's
 * WKB points, the filter applied in C: lon and lat inside the box, edges included).  Boxes with
 * an edge exactly on an incident, deep offsets, property filters, teams; and a write read back
 * at once, before the live model has caught up (the page then comes from the store). */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/store_features.h"
#include "http_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_server_opts opts;
static const char *db;
static char admin[GW_TOKEN_LEN + 1];

typedef struct srow {
    char id[32], text[64]; /* text: category (incidents) or status (teams) */
    int64_t fid, ival;     /* ival: severity / members, INT64_MIN when NULL */
    double lon, lat;
} srow;

static srow *rows;
static size_t nrows;

static int cmp_fid(const void *a, const void *b)
{
    const srow *x = a, *y = b;
    return x->fid < y->fid ? -1 : x->fid > y->fid;
}

static double rd_le(const unsigned char *p)
{
    double v;
    memcpy(&v, p, 8);
    return v;
}

/* Every stored row of a layer, in fid order. */
static void load(gw_layer layer)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db, GW_STORE_READONLY, &s), GW_OK);
    gw_cursor *cur = NULL;
    assert_int_equal(gw_store_cursor_create(s, layer, &cur), GW_OK);
    int ft = gw_layer_field_index(layer, layer == GW_LAYER_TEAMS ? "status" : "category");
    int fi = gw_layer_field_index(layer, layer == GW_LAYER_TEAMS ? "members" : "severity");
    free(rows);
    rows = NULL;
    nrows = 0;
    size_t cap = 0;
    gw_row r;
    while (gw_cursor_next(cur, &r) == GW_OK) {
        if (nrows == cap) rows = realloc(rows, (cap = cap ? cap * 2 : 1024) * sizeof *rows);
        srow *o = &rows[nrows++];
        memset(o, 0, sizeof *o);
        snprintf(o->id, sizeof o->id, "%s", r.values[0].s);
        if (r.values[ft].kind == GW_VAL_TEXT)
            snprintf(o->text, sizeof o->text, "%s", r.values[ft].s);
        o->ival = r.values[fi].kind == GW_VAL_INT ? r.values[fi].i : INT64_MIN;
        o->fid = r.fid;
        assert_true(r.wkb_len >= 21 && r.wkb[0] == 1);
        o->lon = rd_le(r.wkb + 5), o->lat = rd_le(r.wkb + 13);
    }
    gw_cursor_destroy(cur);
    gw_store_close(s);
    qsort(rows, nrows, sizeof *rows, cmp_fid);
}

/* The page `path` answers against the expectation: rows in the box (when has_box) whose text
 * field equals text (when not NULL) and int field equals ival (when has_i). */
static void check(const char *path, int has_box, double x0, double y0, double x1, double y1,
                  const char *text, int has_i, int64_t ival, int64_t offset, int64_t limit)
{
    size_t *want = malloc((nrows + 1) * sizeof *want), nw = 0;
    for (size_t i = 0; i < nrows; i++) {
        const srow *o = &rows[i];
        if (has_box && !(o->lon >= x0 && o->lon <= x1 && o->lat >= y0 && o->lat <= y1)) continue;
        if (text && strcmp(o->text, text) != 0) continue;
        if (has_i && o->ival != ival) continue;
        want[nw++] = i;
    }
    hf_resp r = hf_request("GET", path, admin, NULL, 0, NULL, NULL);
    json_t *j = hf_json(&r, 200, 0, path);
    assert_non_null(j);
    json_int_t matched = json_integer_value(json_object_get(j, "numberMatched"));
    json_int_t returned = json_integer_value(json_object_get(j, "numberReturned"));
    json_t *feats = json_object_get(j, "features");
    size_t from = (size_t)offset < nw ? (size_t)offset : nw;
    size_t expect = nw - from < (size_t)limit ? nw - from : (size_t)limit;
    if ((size_t)matched != nw || (size_t)returned != expect || json_array_size(feats) != expect)
        fail_msg("%s: numberMatched %lld (want %zu), numberReturned %lld / %zu features (want %zu)",
                 path, (long long)matched, nw, (long long)returned, json_array_size(feats), expect);
    for (size_t i = 0; i < expect; i++) {
        const srow *o = &rows[want[from + i]];
        json_t *f = json_array_get(feats, i);
        const char *id = json_string_value(json_object_get(f, "id"));
        if (!id || strcmp(id, o->id) != 0)
            fail_msg("%s: feature %zu is '%s', want '%s'", path, i, id ? id : "(none)", o->id);
        json_t *c = json_object_get(json_object_get(f, "geometry"), "coordinates");
        assert_float_equal(json_number_value(json_array_get(c, 0)), o->lon, 1e-7);
        assert_float_equal(json_number_value(json_array_get(c, 1)), o->lat, 1e-7);
    }
    json_decref(j);
    free(want);
}

/* Percent-encode every byte outside [A-Za-z0-9_.-] (category names may be Chinese). */
static const char *url_escape(const char *v)
{
    static char out[256];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p && k + 4 < sizeof out; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '.' || *p == '-')
            out[k++] = (char)*p;
        else k += (size_t)snprintf(out + k, sizeof out - k, "%%%02X", *p);
    }
    out[k] = 0;
    return out;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_db("items_model.sqlite");
    gw_store *s = hf_city(tctx, db, 0.01, 11); /* 10,000 incidents */
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "items-admin", NULL, admin, NULL),
                     GW_OK);
    gw_store_close(s);
    assert_int_equal(hf_app_serve(tctx, db, 0, &opts, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    free(rows);
    return 0;
}

static void test_incident_pages_match_the_store(void **state)
{
    (void)state;
    load(GW_LAYER_INCIDENTS);
    assert_true(nrows > 5000);
    char path[512];
    /* boxes around a stored incident with that incident's coordinates as an edge: the edge is
     * inside (the store's BETWEEN), whichever side it is */
    for (int k = 0; k < 4; k++) {
        const srow *a = &rows[(size_t)(k + 1) * nrows / 6];
        double x0 = k == 0 ? a->lon : a->lon - 0.03, y0 = k == 1 ? a->lat : a->lat - 0.03;
        double x1 = k == 2 ? a->lon : a->lon + 0.03, y1 = k == 3 ? a->lat : a->lat + 0.03;
        int64_t offs[] = {0, 7, 250};
        for (int i = 0; i < 3; i++) {
            snprintf(
                path, sizeof path,
                "/collections/incidents/items?bbox=%.17g,%.17g,%.17g,%.17g&limit=100&offset=%lld",
                x0, y0, x1, y1, (long long)offs[i]);
            check(path, 1, x0, y0, x1, y1, NULL, 0, 0, offs[i], 100);
        }
    }
    /* no box: every incident, a page deep inside and one past the end */
    check("/collections/incidents/items?limit=1000&offset=4321", 0, 0, 0, 0, 0, NULL, 0, 0, 4321,
          1000);
    check("/collections/incidents/items?limit=10&offset=99999", 0, 0, 0, 0, 0, NULL, 0, 0, 99999,
          10);
    /* a box and property filters (text and integer) */
    const srow *a = &rows[nrows / 2];
    snprintf(path, sizeof path,
             "/collections/incidents/items?bbox=%.17g,%.17g,%.17g,%.17g&category=%s&limit=50",
             a->lon - 0.1, a->lat - 0.1, a->lon + 0.1, a->lat + 0.1, url_escape(a->text));
    check(path, 1, a->lon - 0.1, a->lat - 0.1, a->lon + 0.1, a->lat + 0.1, a->text, 0, 0, 0, 50);
    snprintf(path, sizeof path, "/collections/incidents/items?severity=%lld&limit=200&offset=3",
             (long long)a->ival);
    check(path, 0, 0, 0, 0, 0, NULL, 1, a->ival, 3, 200);
    /* a box with nothing in it */
    check("/collections/incidents/items?bbox=10,10,10.1,10.1", 1, 10, 10, 10.1, 10.1, NULL, 0, 0, 0,
          100);
}

static void test_team_pages_match_the_store(void **state)
{
    (void)state;
    load(GW_LAYER_TEAMS);
    assert_true(nrows > 10);
    check("/collections/teams/items?status=available&limit=20&offset=2", 0, 0, 0, 0, 0, "available",
          0, 0, 2, 20);
    const srow *a = &rows[nrows / 3];
    char path[512];
    snprintf(path, sizeof path, "/collections/teams/items?bbox=%.17g,%.17g,%.17g,%.17g&limit=30",
             a->lon, a->lat, a->lon + 0.2, a->lat + 0.2);
    check(path, 1, a->lon, a->lat, a->lon + 0.2, a->lat + 0.2, NULL, 0, 0, 0, 30);
}

/* A write read back at once: whether or not the live model has seen it, the page is the
 * store's (the change-log check sends the page to the store while the model lags). */
static void test_a_new_incident_is_counted_at_once(void **state)
{
    (void)state;
    load(GW_LAYER_INCIDENTS);
    const double lon = rows[nrows / 4].lon, lat = rows[nrows / 4].lat; /* load() reallocates */
    char body[512], path[512];
    double x0 = lon - 0.01, y0 = lat - 0.01, x1 = lon + 0.01, y1 = lat + 0.01;
    snprintf(path, sizeof path,
             "/collections/incidents/items?bbox=%.17g,%.17g,%.17g,%.17g&limit=1000", x0, y0, x1,
             y1);
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"type\":\"Feature\",\"id\":\"IM-%d\",\"geometry\":{\"type\":\"Point\","
                 "\"coordinates\":[%.7f,%.7f]},\"properties\":{\"category\":\"theft\","
                 "\"severity\":2,\"occurred_at\":\"2025-06-01T12:00:00Z\"}}",
                 i, lon + 0.001 * i, lat);
        hf_resp r = hf_request("POST", "/collections/incidents/items", admin, body, strlen(body),
                               "application/geo+json", NULL);
        assert_int_equal(r.status, 201);
        char seq[32];
        assert_non_null(hf_header(&r, "Gridwatch-Change-Seq", seq, sizeof seq));
        hf_resp_free(&r);
        load(GW_LAYER_INCIDENTS);
        check(path, 1, x0, y0, x1, y1, NULL, 0, 0, 0, 1000); /* at once */
        assert_true(gw_live_wait(app->live, strtoll(seq, NULL, 10), 5000));
        check(path, 1, x0, y0, x1, y1, NULL, 0, 0, 0, 1000); /* from the model */
    }
}

/* The model's selection itself, against the same brute force (no HTTP, no store filter). */
static void test_layer_select_counts_and_pages(void **state)
{
    (void)state;
    load(GW_LAYER_INCIDENTS);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *L = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    assert_int_equal(gw_layer_data_count(L), nrows);
    const srow *a = &rows[nrows / 5];
    gw_feature_filter f = {.layer = GW_LAYER_INCIDENTS, .has_bbox = 1};
    f.bbox = (gw_bbox){a->lon, a->lat - 0.05, a->lon + 0.05, a->lat};
    size_t out[64], n = 0, nw = 0;
    int corner = 0;
    int64_t matched = -1;
    assert_int_equal(gw_layer_data_select(tctx, L, &f, 5, 64, out, &n, &matched), GW_OK);
    for (size_t i = 0; i < nrows; i++) {
        const srow *o = &rows[i];
        if (!(o->lon >= f.bbox.minx && o->lon <= f.bbox.maxx && o->lat >= f.bbox.miny &&
              o->lat <= f.bbox.maxy))
            continue;
        if (nw >= 5 && nw - 5 < 64) assert_string_equal(gw_layer_data_id(L, out[nw - 5]), o->id);
        corner |= o == a;
        nw++;
    }
    assert_int_equal(matched, (int64_t)nw);
    assert_true(nw > 5 && corner); /* the incident on the box's corner is in */
    assert_int_equal(n, nw - 5 < 64 ? nw - 5 : 64);
    /* what only the store answers exactly */
    f.has_lo = 1;
    assert_int_equal(gw_layer_data_select(tctx, L, &f, 0, 64, out, &n, &matched),
                     GW_ERR_UNSUPPORTED);
    f.has_lo = 0, f.layer = GW_LAYER_GRIDS;
    assert_int_equal(gw_layer_data_select(tctx, L, &f, 0, 64, out, &n, &matched),
                     GW_ERR_UNSUPPORTED);
    gw_model_release(tctx, snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_pages_match_the_store),
        cmocka_unit_test(test_team_pages_match_the_store),
        cmocka_unit_test(test_layer_select_counts_and_pages),
        cmocka_unit_test(test_a_new_incident_is_counted_at_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
