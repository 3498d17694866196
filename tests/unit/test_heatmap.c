/* test_heatmap.c — heat map tiles: one incident integrates to 1 over the tile and peaks where
 * the product quartic kernel says, filters change the density, the PNG decodes (libpng) with
 * transparency away from incidents and colour at a cluster, tiles outside the pyramid are
 * refused, the legend is ordered and matches the colour function. */
#include "testutil.h"

#include "gridwatch/heatmap.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#define MM 20037508.342789244
static gw_ctx *ctx;
static gw_store *store;
static gw_model *model;
static double c_lon, c_lat; /* centre of tile 14/tx/ty */
static unsigned tx, ty;

static void tile_centre(unsigned z, unsigned x, unsigned y, double *lon, double *lat)
{
    double size = 2 * MM / (double)(1u << z);
    double mx = -MM + (x + 0.5) * size, my = MM - (y + 0.5) * size;
    *lon = mx / 6378137.0 * 180 / M_PI;
    *lat = atan(sinh(my / 6378137.0)) * 180 / M_PI;
}

static void add(gw_inserter *ins, const char *id, double lon, double lat, const char *cat)
{
    gw_value v[8] = {{GW_VAL_TEXT, id, 0, 0}};
    v[1] = (gw_value){GW_VAL_INT, NULL, 1735689600, 0};
    v[2] = (gw_value){GW_VAL_TEXT, cat, 0, 0};
    v[3] = (gw_value){GW_VAL_INT, NULL, 3, 0};
    gw_feature f = {v, NULL, 0, lon, lat};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
}

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    /* tile 14 containing (115.2, 35.2) */
    double mx = 115.2 * M_PI / 180 * 6378137.0,
           my = log(tan(M_PI / 4 + 35.2 * M_PI / 360)) * 6378137.0;
    double size = 2 * MM / 16384;
    tx = (unsigned)((mx + MM) / size), ty = (unsigned)((MM - my) / size);
    tile_centre(14, tx, ty, &c_lon, &c_lat);
    if (gw_store_open(ctx, gw_test_path("heat.sqlite"), GW_STORE_CREATE, &store)) return -1;
    gw_store_begin(store);
    gw_inserter *ins = NULL;
    gw_store_inserter_create(store, GW_LAYER_INCIDENTS, &ins);
    add(ins, "ONE", c_lon, c_lat, "fire");
    char id[32];
    for (int i = 0; i < 40; i++) { /* a cluster 30 km west, and its tile-8 neighbourhood */
        snprintf(id, sizeof id, "C%d", i);
        add(ins, id, 114.9 + 0.0004 * (i % 7), 35.2 + 0.0004 * (i / 7),
            i % 2 ? "theft" : "assault");
    }
    gw_inserter_destroy(ins);
    if (gw_store_commit(store)) return -1;
    return gw_model_open(ctx, store, &model) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_model_close(model);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return 0;
}

/* One incident at the centre of a z14 tile: the density sums to one incident and peaks at
 * (15/16)² / r² (product kernel at its centre, r = 100 m here). */
static void test_single_incident(void **state)
{
    (void)state;
    double r = gw_heatmap_bandwidth(14, c_lat);
    assert_true(fabs(r - 100) < 1e-9); /* 12 px at z14 is ~94 m at 35°: clamped to 100 m */
    assert_true(fabs(gw_heatmap_bandwidth(10, c_lat) -
                     12 * 2 * MM / 1024 / 256 * cos(c_lat * M_PI / 180)) < 1e-6);
    assert_true(gw_heatmap_bandwidth(2, 0) == GW_HEATMAP_MAX_BW);
    gw_model_snapshot *s = gw_model_acquire(model);
    float *d = malloc(256 * 256 * sizeof *d);
    size_t np = 0;
    assert_int_equal(gw_heatmap_density(ctx, s, 14, tx, ty, NULL, d, &np), GW_OK);
    assert_int_equal(np, 1);
    double size = 2 * MM / 16384 / 256, sum = 0, peak = 0;
    for (int row = 0; row < 256; row++) {
        double my = MM - ty * (2 * MM / 16384) - (row + 0.5) * size;
        double g = size * cos(atan(sinh(my / 6378137.0)));
        for (int c = 0; c < 256; c++)
            sum += d[row * 256 + c] * g * g / 1e6, peak = fmax(peak, d[row * 256 + c]);
    }
    assert_true(fabs(sum - 1) < 1e-3);
    double want = 225.0 / 256 / (r * r) * 1e6;
    assert_true(fabs(peak - want) < 0.05 * want);
    assert_true(d[0] == 0 && d[255 * 256 + 255] == 0);
    /* the category filter keeps it or drops it */
    gw_heatmap_opts o = {.filter = {.category = "theft"}};
    assert_int_equal(gw_heatmap_density(ctx, s, 14, tx, ty, &o, d, &np), GW_OK);
    assert_int_equal(np, 0);
    for (int k = 0; k < 256 * 256; k++) assert_true(d[k] == 0);
    free(d);
    gw_model_release(ctx, s);
}

/* Wide tiles go through the coarse grid at high zoom: still one incident in total. */
static void test_high_zoom_coarse(void **state)
{
    (void)state;
    gw_model_snapshot *s = gw_model_acquire(model);
    float *d = malloc(256 * 256 * sizeof *d);
    unsigned z = 18, x = tx * 16 + 8, y = ty * 16 + 8; /* the incident sits at this tile's corner */
    size_t np = 0;
    assert_int_equal(gw_heatmap_density(ctx, s, z, x, y, NULL, d, &np), GW_OK);
    assert_int_equal(np, 1);
    /* the corner pixel nearest the incident is near the peak, the far corner lower */
    assert_true(d[0] > d[255 * 256 + 255]);
    assert_true(d[0] > 0);
    free(d);
    gw_model_release(ctx, s);
}

static void test_png(void **state)
{
    (void)state;
    gw_model_snapshot *s = gw_model_acquire(model);
    /* z12 tile of the cluster */
    double mx = 114.9012 * M_PI / 180 * 6378137.0,
           my = log(tan(M_PI / 4 + 35.2004 * M_PI / 360)) * 6378137.0;
    double size = 2 * MM / 4096;
    unsigned x = (unsigned)((mx + MM) / size), y = (unsigned)((MM - my) / size);
    int px = (int)((mx + MM - x * size) / size * 256),
        py = (int)((MM - my - y * size) / size * 256);
    unsigned char *png = NULL;
    size_t len = 0;
    gw_heatmap_opts o = {0};
    assert_int_equal(gw_heatmap_tile_png(ctx, s, 12, x, y, &o, &png, &len), GW_OK);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&im, png, len));
    assert_int_equal(im.width, 256);
    assert_int_equal(im.height, 256);
    im.format = PNG_FORMAT_RGBA;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(im));
    assert_true(png_image_finish_read(&im, NULL, buf, 0, NULL));
    int far = (py < 128 ? 250 : 5) * 256 + (px < 128 ? 250 : 5);
    assert_int_equal(buf[4 * far + 3], 0);
    assert_true(buf[4 * (py * 256 + px) + 3] > 100);
    /* the pixel's colour is the ramp's colour of its density */
    float *d = malloc(256 * 256 * sizeof *d);
    assert_int_equal(gw_heatmap_density(ctx, s, 12, x, y, &o, d, NULL), GW_OK);
    uint8_t want[4];
    gw_heatmap_colour(&o, d[py * 256 + px], want);
    assert_memory_equal(buf + 4 * (py * 256 + px), want, 4);
    free(d);
    free(buf);
    /* another filter, other bytes */
    gw_heatmap_opts o2 = {.filter = {.category = "theft"}};
    unsigned char *png2 = NULL;
    size_t len2 = 0;
    assert_int_equal(gw_heatmap_tile_png(ctx, s, 12, x, y, &o2, &png2, &len2), GW_OK);
    assert_true(len2 != len || memcmp(png, png2, len) != 0);
    free(png);
    free(png2);
    assert_int_equal(gw_heatmap_tile_png(ctx, s, 23, 0, 0, &o, &png, &len), GW_ERR_RANGE);
    assert_int_equal(gw_heatmap_tile_png(ctx, s, 3, 8, 0, &o, &png, &len), GW_ERR_RANGE);
    assert_null(png);
    gw_model_release(ctx, s);
}

static void test_legend(void **state)
{
    (void)state;
    gw_heatmap_opts o = {.min = 2, .max = 2000};
    char *js = NULL;
    assert_int_equal(gw_heatmap_legend_json(ctx, &o, &js), GW_OK);
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    json_t *stops = json_object_get(j, "stops");
    assert_int_equal(json_array_size(stops), 9);
    double prev = 0;
    for (size_t i = 0; i < 9; i++) {
        json_t *st = json_array_get(stops, i);
        double d = json_number_value(json_object_get(st, "density"));
        assert_true(d > prev);
        prev = d;
        uint8_t c[4];
        gw_heatmap_colour(&o, d * (1 + 1e-9), c);
        char hex[8];
        snprintf(hex, sizeof hex, "#%02x%02x%02x", c[0], c[1], c[2]);
        assert_string_equal(hex, json_string_value(json_object_get(st, "color")));
    }
    assert_true(fabs(prev - 2000) < 1e-6);
    uint8_t c[4];
    gw_heatmap_colour(&o, 1.9, c);
    assert_int_equal(c[3], 0);
    json_decref(j);
    free(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_incident),
        cmocka_unit_test(test_high_zoom_coarse),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_legend),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
