/* scope_leak_analysis.c — the scope leak test's checks of the analysis routes a scoped token
 * gets filtered: LISA and emerging hot spots (the root's rows filtered to the scope's grids),
 * scan clusters (the root's clusters touching a grid of the scope, each listing only those grids),
 * the PAI evaluation (scored on the scope's test-period incidents, counted here from the root's
 * items and the test's own model) and the KDE raster (the root's raster over the same bbox, cells
 * whose centre lies in no grid of the scope set to 0, decided by the test's own model). */
#include "scope_leak.h"

#include "gridwatch/model.h"

#include <gdal.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* LISA and emerging: the scoped rows are the root's filtered, `grids` counts them. */
void sl_check_hotspot_forms(void)
{
    sl_check_list("analysis_hotspots method=lisa", "/analysis/hotspots?method=lisa&permutations=99",
                  "results", GW_LAYER_GRIDS, "grids");
    /* emerging needs at least a few time steps: weekly over the generated year */
    hf_resp r = sl_get("/analysis/hotspots?method=emerging&step=week", 0);
    if (r.status == 200) {
        hf_resp_free(&r);
        sl_check_list("analysis_hotspots method=emerging",
                      "/analysis/hotspots?method=emerging&step=week", "results", GW_LAYER_GRIDS,
                      "grids");
        for (int lv = 1; lv < sl_n_levels; lv++) { /* the city's left-out count is not shown */
            r = sl_get("/analysis/hotspots?method=emerging&step=week", lv);
            json_t *j = hf_json(&r, 200, 0, "emerging");
            assert_true(json_is_null(json_object_get(j, "left_out")));
            json_decref(j);
        }
    } else {
        fprintf(stderr, "emerging: %ld %s\n", r.status, r.body.data);
        hf_resp_free(&r);
        fail_msg("emerging hot spots did not run on the test city");
    }
}

/* The grid ids of a cluster feature, as a set. */
static idset cluster_grids(json_t *f)
{
    idset s = {0};
    json_t *g;
    size_t i;
    json_array_foreach (json_object_get(json_object_get(f, "properties"), "grids"), i, g)
        sl_set_add(&s, json_string_value(g));
    sl_set_sort(&s);
    return s;
}

void sl_check_clusters(void)
{
    const char *url = "/analysis/hotspots/clusters?replications=19&seed=7";
    hf_resp r = sl_get(url, 0);
    json_t *root = hf_json(&r, 200, 0, url);
    json_t *rf = json_object_get(root, "features");
    assert_true(json_array_size(rf) > 0);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        r = sl_get(url, lv);
        json_t *js = hf_json(&r, 200, 0, url);
        json_t *sf = json_object_get(js, "features");
        size_t want = 0, k = 0;
        json_t *f;
        size_t i;
        json_array_foreach (rf, i, f) {
            idset all = cluster_grids(f),
                  mine = sl_set_filter(&all, GW_LAYER_GRIDS, sl_lv_path[lv]);
            if (mine.n) { /* kept, in rank order, with its grids in the scope only */
                want++;
                json_t *g = json_array_get(sf, k++);
                assert_non_null(g);
                assert_int_equal(json_integer_value(json_object_get(g, "id")),
                                 json_integer_value(json_object_get(f, "id")));
                idset got = cluster_grids(g);
                assert_true(sl_set_equal(&got, &mine, "cluster grids"));
                sl_set_free(&got);
            }
            sl_set_free(&all), sl_set_free(&mine);
        }
        assert_int_equal(json_array_size(sf), want);
        assert_int_equal(json_integer_value(json_object_get(js, "clusters")), want);
        if (lv) assert_true(json_is_null(json_object_get(js, "incidents")));
        sl_cell("analysis_hotspots_clusters", lv, "same %ld", (long)want);
        json_decref(js);
    }
    json_decref(root);
}

#define TRAIN "2025-01-01T00:00:00Z/2025-06-30T23:59:59Z"
#define TEST "2025-07-01T00:00:00Z/2025-12-31T23:59:59Z"

/* Evaluate: every row's test_total is the number of the scope's test-period incidents in a
 * grid (the root's items of that period, placed by the test's model); the whole-city scope
 * gets the root's answer. */
void sl_check_evaluate(void)
{
    hf_resp r = sl_get("/collections/incidents/items?limit=10000&datetime=" TEST, 0);
    json_t *items = hf_json(&r, 200, 0, "items of the test period");
    idset test = sl_json_ids(items, "features");
    json_decref(items);
    assert_true(test.n > 0);
    const char *url = "/analysis/hotspots/evaluate?train=" TRAIN "&test=" TEST;
    r = sl_get(url, 0);
    json_t *root = hf_json(&r, 200, 0, url);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        size_t want = 0;
        for (size_t i = 0; i < test.n; i++) {
            const feat *f = sl_find_feat(GW_LAYER_INCIDENTS, test.v[i]);
            want += f && f->path[0] != '\x01' && sl_in_path(sl_lv_path[lv], f->path);
        }
        r = sl_get(url, lv);
        json_t *js = hf_json(&r, 200, 0, url);
        json_t *rows = json_object_get(js, "rows"), *row;
        size_t i;
        assert_int_equal(json_array_size(rows), 10);
        json_array_foreach (rows, i, row) {
            assert_int_equal(json_integer_value(json_object_get(row, "test_total")), want);
            assert_true(json_integer_value(json_object_get(row, "test_hits")) <= (json_int_t)want);
        }
        if (lv == 0 || want == test.n) /* the whole city: the root's own answer */
            assert_true(json_equal(json_object_get(js, "rows"), json_object_get(root, "rows")));
        sl_cell("analysis_hotspots_evaluate", lv, "scored on own %ld", (long)want);
        json_decref(js);
    }
    json_decref(root);
    sl_set_free(&test);
}

/* The band of a GeoTIFF body, with its geotransform. */
static float *tiff_band(const hf_resp *r, int *nx, int *ny, double gt[6])
{
    assert_int_equal(r->status, 200);
    char path[64];
    static int seq;
    snprintf(path, sizeof path, "/vsimem/sl_kde_%d.tif", seq++);
    VSILFILE *f = VSIFileFromMemBuffer(path, (GByte *)r->body.data, r->body.len, FALSE);
    VSIFCloseL(f);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    assert_non_null(ds);
    *nx = GDALGetRasterXSize(ds), *ny = GDALGetRasterYSize(ds);
    assert_int_equal(GDALGetGeoTransform(ds, gt), CE_None);
    float *v = malloc((size_t)*nx * (size_t)*ny * sizeof *v);
    assert_int_equal(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, *nx, *ny, v, *nx, *ny,
                                  GDT_Float32, 0, 0),
                     CE_None);
    GDALClose(ds);
    VSIUnlink(path);
    return v;
}

/* KDE over a bbox across the smallest scope's edge: each level's cell is the root's where the
 * cell's centre lies in a grid of the scope (the test's model), else 0. */
void sl_check_kde(void)
{
    double lon, lat;
    sl_path_centre(sl_lv_path[sl_n_levels - 1], &lon, &lat);
    char url[256];
    snprintf(url, sizeof url, "/analysis/kde?cell=250&bandwidth=1500&bbox=%.5f,%.5f,%.5f,%.5f",
             lon - 0.06, lat - 0.06, lon + 0.06, lat + 0.06);
    hf_resp r = sl_get(url, 0);
    int nx, ny;
    double gt[6];
    float *root = tiff_band(&r, &nx, &ny, gt);
    hf_resp_free(&r);
    const gw_layer_data *g = gw_snapshot_layer(sl_snap, GW_LAYER_GRIDS);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        r = sl_get(url, lv);
        int sx, sy;
        double sg[6];
        float *v = tiff_band(&r, &sx, &sy, sg);
        hf_resp_free(&r);
        assert_int_equal(sx, nx), assert_int_equal(sy, ny);
        for (int k = 0; k < 6; k++) assert_true(fabs(sg[k] - gt[k]) < 1e-6);
        long in = 0, out = 0;
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                double cx = gt[0] + (x + 0.5) * gt[1], cy = gt[3] + (y + 0.5) * gt[5];
                ptrdiff_t gr = -1;
                assert_int_equal(gw_layer_data_grid_at(sl_tctx, g, cx, cy, &gr), GW_OK);
                const feat *f = gr >= 0
                                    ? sl_find_feat(GW_LAYER_GRIDS, gw_layer_data_id(g, (size_t)gr))
                                    : NULL;
                int inside = f && sl_in_path(sl_lv_path[lv], f->path);
                if (lv == 0) inside = 1; /* the root masks nothing */
                float want = inside ? root[(size_t)y * (size_t)nx + (size_t)x] : 0.0f;
                assert_true(v[(size_t)y * (size_t)nx + (size_t)x] == want);
                in += inside && want > 0, out += !inside;
            }
        assert_true(in > 0);
        sl_cell("analysis_kde", lv, out ? "same inside, 0 outside" : "same", 0);
        free(v);
    }
    free(root);
}
