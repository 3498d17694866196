/* test_city_truth.c — the ground truth of the synthetic city's planted hotspots (data/city_truth.c):
 * what the truth file says agrees with the incidents in the store (counts, places within 3σ,
 * months, favourite category), every time profile is there with the shape it promises, the file
 * is the same byte for byte for the same seed, and a failed generation leaves no truth file. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/store.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const profiles[6] = {"stable",  "emerging", "fading",
                                        "growing", "seasonal", "burst"};
static const char *const trends[6] = {"persistent",   "new",      "diminishing",
                                      "intensifying", "sporadic", "sporadic"};
static const char *const cats[9] = {"theft",     "dispute", "traffic", "fraud", "burglary",
                                    "vandalism", "assault", "drugs",   "other"};

typedef struct incidents {
    size_t n;
    double *x, *y; /* metric */
    int64_t *t;
    int *cat;
} incidents;

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Files in the test directory whose name starts with `prefix` (a truth file or its temporary). */
static int files_starting(const char *prefix)
{
    DIR *d = opendir(gw_test_tmpdir());
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static gw_status gen(gw_ctx *ctx, const char *db, double scale, uint64_t seed, const char *truth,
                     gw_store **out)
{
    assert_int_equal(gw_store_open(ctx, gw_test_path(db), GW_STORE_CREATE, out), GW_OK);
    gw_city_opts o = {.scale = scale, .seed = seed, .truth = truth};
    gw_status st = gw_city_generate(ctx, *out, &o, NULL);
    if (st) fprintf(stderr, "gw_city_generate: %s: %s\n", gw_status_str(st), gw_ctx_errmsg(ctx));
    return st;
}

static void load_incidents(gw_ctx *ctx, gw_store *s, incidents *in)
{
    int srid = 0;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    gw_crs_transform *tr = NULL;
    gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, srid};
    assert_int_equal(gw_crs_transform_create(ctx, ll, m, &tr), GW_OK);
    int64_t n = 0;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK);
    in->n = 0;
    in->x = malloc((size_t)n * sizeof *in->x), in->y = malloc((size_t)n * sizeof *in->y);
    in->t = malloc((size_t)n * sizeof *in->t), in->cat = malloc((size_t)n * sizeof *in->cat);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) {
        assert_true(in->n < (size_t)n);
        GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, row.wkb, row.wkb_len);
        assert_non_null(g);
        assert_true(GEOSGeomGetX_r(h, g, &in->x[in->n]) && GEOSGeomGetY_r(h, g, &in->y[in->n]));
        GEOSGeom_destroy_r(h, g);
        in->t[in->n] = row.values[1].i;
        in->cat[in->n] = -1;
        for (int k = 0; k < 9; k++)
            if (strcmp(row.values[2].s, cats[k]) == 0) in->cat[in->n] = k;
        in->n++;
    }
    gw_cursor_destroy(cur);
    GEOSWKBReader_destroy_r(h, rd);
    assert_int_equal(in->n, (size_t)n);
    assert_int_equal(gw_crs_transform_points(tr, in->x, in->y, in->n), GW_OK);
    gw_crs_transform_destroy(tr);
}

static void incidents_free(incidents *in) { free(in->x), free(in->y), free(in->t), free(in->cat); }

static int64_t ival(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}
static double rval(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}
static const char *sval(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* Day of the year (from 0) of an ISO date in the city's +08:00 year. */
static int day_of(const char *date, int64_t y0)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm) - 8 * 3600;
    assert_int_equal((t - y0) % 86400, 0);
    return (int)((t - y0) / 86400);
}

/* The truth of a city against the store it describes. */
static void check_truth(gw_ctx *ctx, gw_store *s, const char *truth, double scale, uint64_t seed)
{
    json_error_t err;
    json_t *root = json_load_file(truth, 0, &err);
    if (!root) fail_msg("%s:%d: %s", truth, err.line, err.text);
    assert_string_equal(sval(root, "type"), "FeatureCollection");
    assert_true(rval(root, "scale") == scale);
    assert_int_equal(ival(root, "seed"), (int64_t)seed);
    assert_string_equal(sval(root, "year_start"), "2025-01-01T00:00:00+08:00");
    assert_string_equal(sval(root, "year_end"), "2026-01-01T00:00:00+08:00");
    const int64_t y0 = ival(root, "year_start_unix"), year = 365LL * 86400;
    assert_int_equal(y0, 1735660800);
    assert_int_equal(ival(root, "year_end_unix"), y0 + year);
    int srid = 0;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_int_equal(ival(root, "metric_srid"), srid);
    int64_t total = ival(root, "incidents"), hot = ival(root, "hotspot_incidents");
    int64_t layer = 0;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &layer), GW_OK);
    assert_int_equal(total, layer);
    assert_int_equal(hot + ival(root, "background_incidents"), layer);
    /* a quarter of the incidents; a few may have left the region and become background */
    assert_true(hot <= lround(0.25 * layer) && hot >= 0.24 * layer);

    json_t *feats = json_object_get(root, "features");
    long nh = lround(40 * sqrt(scale));
    assert_int_equal(json_array_size(feats), nh < 6 ? 6 : nh);
    incidents in;
    load_incidents(ctx, s, &in);
    gw_crs_transform *tr = NULL;
    gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, srid};
    assert_int_equal(gw_crs_transform_create(ctx, ll, m, &tr), GW_OK);
    int seen[6] = {0};
    int64_t sum = 0;
    size_t i;
    json_t *f;
    json_array_foreach (feats, i, f) {
        json_t *p = json_object_get(f, "properties"), *geom = json_object_get(f, "geometry");
        char want_id[24];
        snprintf(want_id, sizeof want_id, "H%02zu", i + 1);
        assert_string_equal(sval(p, "id"), want_id);
        int k = -1;
        for (int j = 0; j < 6; j++)
            if (!strcmp(sval(p, "profile"), profiles[j])) k = j;
        assert_true(k >= 0);
        seen[k]++;
        assert_string_equal(sval(p, "trend"), trends[k]);
        double sigma = rval(p, "sigma_m"), x = rval(p, "x"), y = rval(p, "y");
        assert_true(sigma >= 60 && sigma <= 250);
        /* the point is the centre in lon/lat */
        assert_string_equal(sval(geom, "type"), "Point");
        double lx = json_number_value(json_array_get(json_object_get(geom, "coordinates"), 0)),
               ly = json_number_value(json_array_get(json_object_get(geom, "coordinates"), 1));
        assert_int_equal(gw_crs_transform_points(tr, &lx, &ly, 1), GW_OK);
        assert_true(hypot(lx - x, ly - y) < 0.05);
        int64_t n = ival(p, "incidents");
        assert_true(n >= 20);
        sum += n;
        /* the months add up, and are empty outside the active days */
        json_t *mo = json_object_get(p, "monthly");
        assert_int_equal(json_array_size(mo), 12);
        int64_t mc[12], msum = 0;
        for (int j = 0; j < 12; j++) {
            json_t *v = json_array_get(mo, j);
            assert_true(json_is_integer(v));
            mc[j] = json_integer_value(v), msum += mc[j];
        }
        assert_int_equal(msum, n);
        int d0 = day_of(sval(p, "active_from"), y0), d1 = day_of(sval(p, "active_to"), y0);
        assert_true(0 <= d0 && d0 <= d1 && d1 <= 364);
        int m0 = (int)((int64_t)d0 * 86400 * 12 / year),
            m1 = (int)((((int64_t)d1 + 1) * 86400 - 1) * 12 / year);
        for (int j = 0; j < 12; j++)
            if (j < m0 || j > m1) assert_int_equal(mc[j], 0);
        /* each profile's shape */
        int64_t q1 = mc[0] + mc[1] + mc[2], q4 = mc[9] + mc[10] + mc[11];
        int nonzero = 0, first_nz = -1, last_nz = -1;
        for (int j = 0; j < 12; j++)
            if (mc[j]) nonzero++, last_nz = j, first_nz = first_nz < 0 ? j : first_nz;
        switch (k) {
        case 0: /* stable: all year, no month far above another */
            assert_true(d0 == 0 && d1 == 364);
            if (n >= 240)
                for (int j = 0; j < 12; j++) assert_true(mc[j] > 0 && mc[j] < n / 4);
            break;
        case 1: /* emerging: starts after day 240 (in month 8 at the earliest), still on at the end */
            assert_true(d0 >= 240 && d0 <= 290 && d1 == 364);
            for (int j = 0; j < 7; j++) assert_int_equal(mc[j], 0);
            assert_true(mc[11] > 0);
            break;
        case 2: /* fading: from the start, gone by day 250 */
            assert_true(d0 == 0 && d1 >= 199 && d1 < 250);
            for (int j = 9; j < 12; j++) assert_int_equal(mc[j], 0);
            assert_true(mc[0] > 0);
            break;
        case 3: /* growing */
            assert_true(d0 == 0 && d1 == 364);
            assert_true(q4 > q1);
            break;
        case 4: /* seasonal: a summer peak */
            assert_true(d0 == 0 && d1 == 364);
            assert_true(mc[4] + mc[5] + mc[6] + mc[7] > 4 * (mc[0] + mc[1] + mc[10] + mc[11]));
            break;
        case 5: /* burst: 14–28 days, so at most two consecutive months */
            assert_true(d1 - d0 >= 13 && d1 - d0 <= 28 && d0 >= 60 && d0 <= 280);
            assert_true(nonzero >= 1 && nonzero <= 2 && last_nz - first_nz == nonzero - 1);
            break;
        }
        /* the incidents are there: within 3σ of the centre (98.9 % of a 2-D Gaussian), in the
         * active days; and the favourite category leads within 1σ (60 % of the hotspot's) */
        int64_t near = 0, inside_days = 0, bycat[9] = {0};
        for (size_t e = 0; e < in.n; e++) {
            double d = hypot(in.x[e] - x, in.y[e] - y);
            if (d > 3 * sigma) continue;
            near++;
            int day = (int)((in.t[e] - y0) / 86400);
            inside_days += day >= d0 && day <= d1;
            if (d <= sigma && in.cat[e] >= 0) bycat[in.cat[e]]++;
        }
        print_message("%s %-8s σ %5.1f m: %4lld incidents, %4lld within 3σ (%4lld on active "
                      "days), %s..%s\n",
                      sval(p, "id"), profiles[k], sigma, (long long)n, (long long)near,
                      (long long)inside_days, sval(p, "active_from"), sval(p, "active_to"));
        assert_true(near >= 0.9 * n);
        assert_true(inside_days >= 0.9 * n);
        int best = 0;
        for (int j = 1; j < 9; j++)
            if (bycat[j] > bycat[best]) best = j;
        assert_string_equal(cats[best], sval(p, "category"));
    }
    for (int j = 0; j < 6; j++) assert_true(seen[j] >= 1);
    assert_int_equal(sum, hot);
    gw_crs_transform_destroy(tr);
    incidents_free(&in);
    json_decref(root);
}

static void test_truth_matches_city(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const uint64_t seeds[2] = {7, 3};
    const double scales[2] = {0.02, 0.01};
    for (int r = 0; r < 2; r++) {
        char db[32], truth[512];
        snprintf(db, sizeof db, "truth_%d.db", r);
        snprintf(truth, sizeof truth, "%s/truth_%d.geojson", gw_test_tmpdir(), r);
        gw_store *s = NULL;
        assert_int_equal(gen(ctx, db, scales[r], seeds[r], truth, &s), GW_OK);
        check_truth(ctx, s, truth, scales[r], seeds[r]);
        assert_int_equal(files_starting(strrchr(truth, '/') + 1), 1); /* no temporary left */
        gw_store_close(s);
    }
    gw_ctx_destroy(ctx);
}

static void test_truth_deterministic(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/det_a.geojson", gw_test_tmpdir());
    snprintf(b, sizeof b, "%s/det_b.geojson", gw_test_tmpdir());
    snprintf(c, sizeof c, "%s/det_c.geojson", gw_test_tmpdir());
    gw_store *sa = NULL, *sb = NULL, *sc = NULL;
    assert_int_equal(gen(ctx, "det_a.db", 0.01, 5, a, &sa), GW_OK);
    assert_int_equal(gen(ctx, "det_b.db", 0.01, 5, b, &sb), GW_OK);
    assert_int_equal(gen(ctx, "det_c.db", 0.01, 6, c, &sc), GW_OK);
    size_t la, lb, lc;
    char *ta = slurp(a, &la), *tb = slurp(b, &lb), *tc = slurp(c, &lc);
    assert_true(la > 1000);
    assert_int_equal(la, lb);
    assert_memory_equal(ta, tb, la);
    assert_true(la != lc || memcmp(ta, tc, la) != 0);
    free(ta), free(tb), free(tc);
    gw_store_close(sa), gw_store_close(sb), gw_store_close(sc);
    gw_ctx_destroy(ctx);
}

/* Nothing is written unless the city commits, and a truth that cannot be written undoes the city. */
static void test_truth_failed_generation(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    char truth[512];
    gw_store *s = NULL;
    assert_int_equal(gen(ctx, "fail.db", 0.005, 1, NULL, &s), GW_OK);
    snprintf(truth, sizeof truth, "%s/fail.geojson", gw_test_tmpdir());
    gw_city_opts o = {.scale = 0.005, .seed = 1, .truth = truth};
    assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_ERR_CONFLICT);
    assert_false(file_exists(truth));
    assert_int_equal(files_starting("fail.geojson"), 0);
    gw_store_close(s);
    /* a bad region file */
    assert_int_equal(gw_store_open(ctx, gw_test_path("fail2.db"), GW_STORE_CREATE, &s), GW_OK);
    o.region = "/nonexistent/region.geojson";
    assert_int_not_equal(gw_city_generate(ctx, s, &o, NULL), GW_OK);
    assert_false(file_exists(truth));
    /* a truth path that cannot be written: GW_ERR_IO, and the city is rolled back */
    o.region = NULL;
    o.truth = "/nonexistent/dir/truth.geojson";
    assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_ERR_IO);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "/nonexistent/dir/truth.geojson"));
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        int64_t n = -1;
        assert_int_equal(gw_store_count(s, (gw_layer)l, &n), GW_OK);
        assert_int_equal(n, 0);
    }
    /* and then it works into the same store */
    o.truth = truth;
    assert_int_equal(gw_city_generate(ctx, s, &o, NULL), GW_OK);
    assert_true(file_exists(truth));
    assert_int_equal(files_starting("fail.geojson"), 1);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truth_matches_city),
        cmocka_unit_test(test_truth_deterministic),
        cmocka_unit_test(test_truth_failed_generation),
    };
    const char *group = gw_test_group(argc, argv);
    if (*group) return gw_test_bad_group(group);
    return cmocka_run_group_tests_name("city_truth", tests, NULL, NULL);
}
