/* test_hotspot_inc.c — the grid tiles' Gi* fields after incident writes over HTTP follow the
 * incremental path (gw_hotspots_default_stats) and equal, field for field, the tiles of a fresh
 * server started on the same database, whose first run recomputes everything. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "hotspot_http.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"
#include "tiles_http.h"

#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long the tile fields may take to catch up: the first cluster scan runs with them, and under
 * ThreadSanitizer it takes tens of seconds (CI's TSan run of hotspot_inc timed out at 30 s). */
#define WAIT_MS 600000 /* a watchdog, not a timing: TSan on a loaded machine is slow */

static char db_path[1024], admin_auth[GW_TOKEN_LEN + 32];
static gw_ctx *tctx;

typedef struct gfeat {
    char id[40], cls[24];
    double z, p;
    long long bin, count;
    int has_z, has_bin;
} gfeat;

#define MAXG 4000
typedef struct gtile {
    int n;
    gfeat f[MAXG];
} gtile;

static gtile before_t[3], fresh_t[3];

/* GET a grids tile and decode its features' Gi* fields with GDAL's MVT driver. */
static void fetch(gw_tile_id t, gtile *out)
{
    char path[128], file[64];
    snprintf(path, sizeof path, "/tiles/grids/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = hf_request("GET", path, NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    snprintf(file, sizeof file, "inc-%u-%u-%u.pbf", t.z, t.x, t.y);
    GDALDatasetH ds = hf_mvt_open(&r, t.z, t.x, t.y, file);
    hf_resp_free(&r);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "grids");
    assert_non_null(l);
    out->n = 0;
    OGRFeatureH ft;
    while ((ft = OGR_L_GetNextFeature(l)) != NULL && out->n < MAXG) {
        gfeat *e = &out->f[out->n++];
        memset(e, 0, sizeof *e);
        int i;
#define SET(name) (i = OGR_F_GetFieldIndex(ft, name)) >= 0 && OGR_F_IsFieldSetAndNotNull(ft, i)
        if (SET("id")) snprintf(e->id, sizeof e->id, "%s", OGR_F_GetFieldAsString(ft, i));
        if (SET("gi_class")) snprintf(e->cls, sizeof e->cls, "%s", OGR_F_GetFieldAsString(ft, i));
        if (SET("gi_z")) e->has_z = 1, e->z = OGR_F_GetFieldAsDouble(ft, i);
        if (SET("gi_p")) e->p = OGR_F_GetFieldAsDouble(ft, i);
        if (SET("gi_bin")) e->has_bin = 1, e->bin = OGR_F_GetFieldAsInteger64(ft, i);
        if (SET("gi_count")) e->count = OGR_F_GetFieldAsInteger64(ft, i);
#undef SET
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
}

static int64_t write_req(const char *method, const char *path, const char *body, long want)
{
    const char *extra[] = {admin_auth, NULL};
    hf_resp w = hf_request(method, path, NULL, body, body ? strlen(body) : 0,
                           body ? "application/geo+json" : NULL, extra);
    if (w.status != want)
        fprintf(stderr, "%s %s -> %ld: %s\n", method, path, w.status, w.body.data);
    assert_int_equal(w.status, want);
    char h[64];
    hf_header(&w, "Gridwatch-Change-Seq", h, sizeof h);
    int64_t seq = strtoll(h, NULL, 10);
    hf_resp_free(&w);
    return seq;
}

static void start(gw_app **app, gw_server **srv)
{
    gw_app_opts ao = {.poll_ms = 20};
    gw_server_opts o = {.db_path = db_path, .threads = 2, .anonymous_read = 1, .quiet = 1};
    assert_int_equal(hf_app_start(tctx, &ao, &o, app, srv), GW_OK);
    assert_true(gw_tiles_fields_wait((*app)->tiles, WAIT_MS));
}

/* Inserts (single and a collection), a move and a delete over HTTP: each one's fields arrive
 * by the incremental path; the tiles then equal a fresh server's. */
static void test_incremental_equals_fresh(void **state)
{
    (void)state;
    gw_app *app = NULL;
    gw_server *srv = NULL;
    start(&app, &srv);
    gw_hotspots *hs = app->modules[GW_APP_HOTSPOTS];
    gw_hotspot_state_stats s0 = gw_hotspots_default_stats(hs);
    assert_int_equal(s0.full, 1);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(app->live));
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    double lon = gw_layer_data_x(inc, GW_MODEL_LONLAT)[5],
           lat = gw_layer_data_y(inc, GW_MODEL_LONLAT)[5];
    char victim[40], path[128], body[1024];
    snprintf(victim, sizeof victim, "%s", gw_layer_data_id(inc, 9));
    gw_model_release(tctx, snap);
    const char *feat =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]},"
        "\"properties\":{\"category\":\"theft\",\"severity\":2,"
        "\"occurred_at\":\"2025-03-01T10:00:00+08:00\"}}";
    int64_t seq = 0;
    for (int k = 0; k < 4; k++) {
        if (k == 0) snprintf(body, sizeof body, feat, lon, lat);
        if (k == 1) {
            char a[400], b[400];
            snprintf(a, sizeof a, feat, lon + 0.001, lat);
            snprintf(b, sizeof b, feat, lon, lat + 0.001);
            snprintf(body, sizeof body, "{\"type\":\"FeatureCollection\",\"features\":[%s,%s]}", a,
                     b);
        }
        if (k == 2) {
            snprintf(body, sizeof body,
                     "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}",
                     lon + 0.0005, lat - 0.0005);
            snprintf(path, sizeof path, "/collections/incidents/items/%s", victim);
            seq = write_req("PATCH", path, body, 200);
        } else if (k == 3) {
            seq = write_req("DELETE", path, NULL, 204);
        } else {
            seq = write_req("POST", "/collections/incidents/items", body, 201);
        }
        assert_true(seq > 0);
        assert_int_equal(gw_live_wait(app->live, seq, 10000), 1);
        assert_true(gw_tiles_fields_wait(app->tiles, WAIT_MS));
    }
    gw_hotspot_state_stats s1 = gw_hotspots_default_stats(hs);
    print_message("default runs: full %llu, incremental %llu (last: %zu rows, %.4f s)\n",
                  (unsigned long long)s1.full, (unsigned long long)s1.incremental, s1.last_changed,
                  s1.last_seconds);
    assert_int_equal(s1.full, 1);
    assert_true(s1.incremental >= 1);
    gw_tile_id t[3];
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 12, &t[0]), GW_OK);
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 9, &t[1]), GW_OK);
    assert_int_equal(gw_tile_from_lonlat(tctx, lon, lat, 7, &t[2]), GW_OK);
    for (int k = 0; k < 3; k++) fetch(t[k], &before_t[k]);
    hf_app_stop(app, srv);

    start(&app, &srv); /* a fresh server: its first run is the full one */
    gw_hotspot_state_stats s2 = gw_hotspots_default_stats(app->modules[GW_APP_HOTSPOTS]);
    assert_int_equal(s2.full, 1);
    assert_int_equal(s2.incremental, 0);
    int nz = 0;
    for (int k = 0; k < 3; k++) {
        fetch(t[k], &fresh_t[k]);
        assert_int_equal(before_t[k].n, fresh_t[k].n);
        assert_true(fresh_t[k].n > 0);
        for (int i = 0; i < fresh_t[k].n; i++) {
            const gfeat *a = &before_t[k].f[i], *b = &fresh_t[k].f[i];
            assert_string_equal(a->id, b->id);
            assert_string_equal(a->cls, b->cls);
            assert_int_equal(a->has_z, b->has_z);
            assert_true(a->z == b->z && a->p == b->p);
            assert_int_equal(a->has_bin, b->has_bin);
            assert_int_equal(a->bin, b->bin);
            assert_int_equal(a->count, b->count);
            nz += a->has_z && a->z != 0;
        }
    }
    assert_true(nz > 0);
    hf_app_stop(app, srv);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("hs_inc.sqlite"));
    gw_store *st = hf_city(tctx, db_path, 0.01, 13);
    char tok[GW_TOKEN_LEN + 1];
    assert_int_equal(gw_auth_token_create(st, GW_ROLE_ADMIN, "inc-admin", NULL, tok, NULL), GW_OK);
    snprintf(admin_auth, sizeof admin_auth, "Authorization: Bearer %s", tok);
    gw_store_close(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(tctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_incremental_equals_fresh)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
