/* test_tile_aggs.c — tiles/point_agg.c: the cluster points of dense tiles from the aggregate
 * index (gw_tile_source_set_aggregates on) against the plain scan of the tile's points (off),
 * byte for byte, on a generated city and after each kind of feature change refreshed into the
 * model; the cluster counts against the incidents of the tile counted from their lon/lat (the
 * tile read back with GDAL's MVT driver, an independent decoder). */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/edit.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/tilelayers.h"

#include <gdal.h>
#include <ogr_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEG (M_PI / 180)

static gw_ctx *ctx;
static gw_mvt *mvt;

static gw_tile_id tile_of(double lon, double lat, uint32_t z)
{
    double n = (double)(1u << z), r = lat * DEG;
    return (gw_tile_id){z, (uint32_t)floor((lon + 180) / 360 * n),
                        (uint32_t)floor((1 - log(tan(r) + 1 / cos(r)) / M_PI) / 2 * n)};
}

static int has(OGRFeatureH f, const char *name)
{
    int i = OGR_F_GetFieldIndex(f, name);
    return i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i);
}
static int64_t num_i(OGRFeatureH f, const char *name)
{
    if (!has(f, name)) fail_msg("property %s missing", name);
    return OGR_F_GetFieldAsInteger64(f, OGR_F_GetFieldIndex(f, name));
}

/* Tile t's bytes opened with GDAL; caller closes with GDALClose(). */
static GDALDatasetH open_tile(const uint8_t *bytes, size_t len, gw_tile_id t)
{
    static int n;
    char name[64], oz[32], ox[32], oy[32];
    snprintf(name, sizeof name, "agg%d.pbf", n++);
    const char *path = gw_test_path(name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
    snprintf(oz, sizeof oz, "Z=%u", t.z), snprintf(ox, sizeof ox, "X=%u", t.x),
        snprintf(oy, sizeof oy, "Y=%u", t.y);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {oz, ox, oy, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    return ds;
}

/* One tile's bytes from src (copied: the encoder reuses its buffer). */
static uint8_t *tile_bytes(gw_tile_source *s, gw_model_snapshot *sn, gw_tile_id t, size_t *len)
{
    const uint8_t *b = NULL;
    assert_int_equal(gw_tile_render(ctx, s, mvt, sn, gw_tile_layer_parts(GW_TL_INCIDENTS), t, NULL,
                                    &b, len),
                     GW_OK);
    uint8_t *c = malloc(*len ? *len : 1);
    assert_non_null(c);
    memcpy(c, b, *len);
    return c;
}

/* Cluster tiles from the aggregate index are the tiles of the plain scan, byte for byte, on a
 * generated city and after an insert (one without a category), a move, a category change and
 * a delete, each refreshed into the model (patched) and taken into the index by an update,
 * not a rebuild; and the cluster counts add up to the incidents inside the tile, counted here
 * from their lon/lat. */
static void test_cluster_aggregates(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("aggs"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.02, .seed = 11};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *sn = gw_model_acquire(m);
    gw_tile_source *on = NULL, *off = NULL;
    assert_int_equal(gw_tile_source_create(ctx, &on), GW_OK);
    assert_int_equal(gw_tile_source_create(ctx, &off), GW_OK);
    gw_tile_source_set_aggregates(off, false);
    const gw_layer_data *inc = gw_snapshot_layer(sn, GW_LAYER_INCIDENTS);
    size_t ni = gw_layer_data_count(inc);
    assert_true(ni > 3 * GW_TL_CLUSTER_MAX);
    double clon = 0, clat = 0;
    for (size_t r = 0; r < ni; r++)
        clon += gw_layer_data_x(inc, GW_MODEL_LONLAT)[r],
            clat += gw_layer_data_y(inc, GW_MODEL_LONLAT)[r];
    clon /= (double)ni, clat /= (double)ni;
    char a[32], b[32], json[512];
    snprintf(a, sizeof a, "%s", gw_layer_data_id(inc, 5));
    snprintf(b, sizeof b, "%s", gw_layer_data_id(inc, 17));
    int clustered = 0;
    for (int step = 0; step < 5; step++) {
        if (step > 0) {
            gw_edit_result er = {0};
            if (step == 1) { /* an insert without a category, near the centre */
                snprintf(
                    json, sizeof json,
                    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                    "\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]},"
                    "\"properties\":{\"severity\":2,\"occurred_at\":\"2025-03-01T10:00:00Z\"}}]}",
                    clon + 0.001, clat - 0.001);
                assert_int_equal(gw_edit_insert(s, GW_LAYER_INCIDENTS, json, strlen(json), NULL,
                                                &er),
                                 GW_OK);
            } else if (step == 2) { /* a move */
                snprintf(json, sizeof json,
                         "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}}", clon,
                         clat);
                assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, a, json, strlen(json), NULL,
                                               &er),
                                 GW_OK);
            } else if (step == 3) { /* a category change */
                snprintf(json, sizeof json, "{\"properties\":{\"category\":\"zz_new\"}}");
                assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, b, json, strlen(json), NULL,
                                               &er),
                                 GW_OK);
            } else {
                assert_int_equal(gw_edit_delete(s, GW_LAYER_INCIDENTS, a, NULL, &er), GW_OK);
            }
            gw_edit_result_free(&er);
            gw_model_refresh_info info;
            assert_int_equal(gw_model_refresh_ex(ctx, m, s, &info), GW_OK);
            assert_true(info.patched & 1u << GW_LAYER_INCIDENTS);
            gw_model_release(ctx, sn);
            sn = gw_model_acquire(m);
            inc = gw_snapshot_layer(sn, GW_LAYER_INCIDENTS);
            ni = gw_layer_data_count(inc);
        }
        for (uint32_t z = 6; z <= 14; z++) {
            gw_tile_id t = tile_of(clon, clat, z);
            size_t la = 0, lb = 0;
            uint8_t *ta = tile_bytes(on, sn, t, &la), *tb = tile_bytes(off, sn, t, &lb);
            assert_int_equal(la, lb);
            assert_memory_equal(ta, tb, la);
            int64_t inside = 0, want_other = 0; /* the incidents in t, from lon/lat */
            int fc = gw_layer_field_index(GW_LAYER_INCIDENTS, "category");
            for (size_t r = 0; r < ni; r++) {
                gw_tile_id u = tile_of(gw_layer_data_x(inc, GW_MODEL_LONLAT)[r],
                                       gw_layer_data_y(inc, GW_MODEL_LONLAT)[r], z);
                if (u.x != t.x || u.y != t.y) continue;
                inside++;
                const char *c = gw_layer_data_text(inc, r, fc);
                want_other += !c || strcmp(c, "other") == 0; /* both count as count_other */
            }
            GDALDatasetH ds = NULL;
            free(tb);
            if (inside > GW_TL_CLUSTER_MAX) {
                ds = open_tile(ta, la, t);
                OGRLayerH l = GDALDatasetGetLayerByName(ds, "incidents");
                OGRFeatureH f;
                int64_t total = 0, other = 0;
                OGR_L_ResetReading(l);
                while ((f = OGR_L_GetNextFeature(l)) != NULL) {
                    assert_int_equal(num_i(f, "cluster"), 1);
                    total += num_i(f, "count");
                    if (has(f, "count_other")) other += num_i(f, "count_other");
                    OGR_F_Destroy(f);
                }
                assert_int_equal(total, inside);
                assert_int_equal(other, want_other);
                clustered++;
                GDALClose(ds);
            }
            free(ta);
        }
    }
    print_message("%d cluster tiles compared\n", clustered);
    assert_true(clustered >= 5 * 3);
    gw_tile_agg_stats as;
    gw_tile_source_stats(on, GW_LAYER_INCIDENTS, &as);
    assert_int_equal(as.builds, 1);
    assert_int_equal(as.updates, 4);
    gw_tile_source_stats(off, GW_LAYER_INCIDENTS, &as);
    assert_int_equal(as.builds + as.updates, 0);
    gw_tile_source_destroy(on);
    gw_tile_source_destroy(off);
    gw_model_release(ctx, sn);
    gw_model_close(m);
    gw_store_close(s);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    ctx = gw_test_ctx();
    return ctx && gw_mvt_create(ctx, (gw_tile_id){0, 0, 0}, NULL, &mvt) == GW_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_mvt_destroy(mvt);
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cluster_aggregates)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
