/* test_city_villages.c — the synthetic city's jurisdictions (data/city_village.c): every grid has
 * the prefecture and a village; a village's grids lie in one township and are contiguous (joined
 * through shared edges, checked on the stored polygons); most villages hold 4-8 grids; the same
 * seed gives the same villages; a province names each grid's prefecture by its number. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/juris.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

static gw_store *generate(const char *name, double scale, uint64_t seed, int prefectures)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path(name), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts o = {.scale = scale, .seed = seed, .prefectures = prefectures};
    gw_status st = gw_city_generate(ctx, s, &o, NULL);
    if (st) fail_msg("gw_city_generate: %s", gw_ctx_errmsg(ctx));
    return s;
}

static int field(const char *name)
{
    int f = gw_layer_field_index(GW_LAYER_GRIDS, name);
    assert_true(f >= 0);
    return f;
}

/* "id=path;" for every grid, in id order (the model's). */
static char *village_list(gw_model *m)
{
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(d), cap = n * 160 + 1, len = 0;
    char *out = malloc(cap), path[256];
    out[0] = '\0';
    for (size_t r = 0; r < n; r++) {
        gw_juris_grid_path(d, r, path, sizeof path, NULL);
        len += (size_t)snprintf(out + len, cap - len, "%s=%s;", gw_layer_data_id(d, r), path);
        assert_true(len < cap);
    }
    gw_model_release(ctx, snap);
    return out;
}

typedef struct vill {
    const char *path;
    size_t row;
} vill;

static int vill_cmp(const void *a, const void *b)
{
    const vill *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Whether rows[0..n) form one piece through boundaries sharing a line (metric geometries). */
static int contiguous(const gw_layer_data *d, const vill *v, size_t n)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    unsigned char *seen = calloc(n, 1);
    size_t *stack = malloc(n * sizeof *stack), top = 0, reached = 1;
    seen[0] = 1, stack[top++] = 0;
    while (top) {
        size_t i = stack[--top];
        const GEOSGeometry *gi = gw_layer_data_geom(d, v[i].row, GW_MODEL_METRIC);
        for (size_t j = 0; j < n; j++) {
            if (seen[j]) continue;
            const GEOSGeometry *gj = gw_layer_data_geom(d, v[j].row, GW_MODEL_METRIC);
            if (GEOSRelatePattern_r(h, gi, gj, "****1****") == 1)
                seen[j] = 1, stack[top++] = j, reached++;
        }
    }
    free(seen);
    free(stack);
    return reached == n;
}

static void test_villages(void **state)
{
    (void)state;
    gw_store *s = generate("villages.db", 0.05, 11, 0);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = gw_layer_data_count(d);
    assert_true(n > 500);
    int fp = field("prefecture"), fc = field("county"), ft = field("township"),
        fv = field("village");
    vill *v = calloc(n, sizeof *v);
    char(*paths)[256] = calloc(n, sizeof *paths);
    for (size_t r = 0; r < n; r++) {
        assert_string_equal(gw_layer_data_text(d, r, fp), "菏泽市");
        assert_non_null(gw_layer_data_text(d, r, fc));
        const char *t = gw_layer_data_text(d, r, ft), *vn = gw_layer_data_text(d, r, fv);
        assert_non_null(t);
        if (!vn || !*vn) fail_msg("grid %s has no village", gw_layer_data_id(d, r));
        /* a community in a 街道, a village (村) elsewhere */
        const char *want = strstr(t, "街道") ? "社区" : "村";
        if (strcmp(vn + strlen(vn) - strlen(want), want) != 0)
            fail_msg("grid %s: village '%s' of township '%s' should end in %s",
                     gw_layer_data_id(d, r), vn, t, want);
        int lv = 0;
        gw_juris_grid_path(d, r, paths[r], sizeof paths[r], &lv);
        assert_int_equal(lv, 4);
        v[r] = (vill){paths[r], r};
    }
    /* group by the whole path: a village is named within its township, so the same path is one
     * township's village; each must be one contiguous piece */
    qsort(v, n, sizeof *v, vill_cmp);
    size_t groups = 0, typical = 0, biggest = 0, broken = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (i + k < n && strcmp(v[i].path, v[i + k].path) == 0) k++;
        for (size_t j = 1; j < k; j++) /* one township */
            assert_string_equal(gw_layer_data_text(d, v[i + j].row, ft),
                                gw_layer_data_text(d, v[i].row, ft));
        if (!contiguous(d, &v[i], k)) {
            fprintf(stderr, "village %s (%zu grids) is not contiguous\n", v[i].path, k);
            broken++;
        }
        groups++;
        typical += k >= 4 && k <= 8;
        biggest = k > biggest ? k : biggest;
        i += k;
    }
    assert_int_equal(broken, 0);
    /* 4-8 grids for most; a pocket joins a neighbour (up to 8 + 3), an island stays small */
    if (typical * 10 < groups * 8)
        fail_msg("only %zu of %zu villages have 4-8 grids", typical, groups);
    assert_true(biggest <= 11);
    assert_true(groups * 4 <= n && groups * 9 >= n);
    free(v);
    free(paths);
    gw_model_release(ctx, snap);
    char *a = village_list(m);
    gw_model_close(m);
    gw_store_close(s);

    /* the same seed, the same villages; another seed, others */
    gw_store *s2 = generate("villages2.db", 0.05, 11, 0),
             *s3 = generate("villages3.db", 0.05, 12, 0);
    gw_model *m2 = NULL, *m3 = NULL;
    assert_int_equal(gw_model_open(ctx, s2, &m2), GW_OK);
    assert_int_equal(gw_model_open(ctx, s3, &m3), GW_OK);
    char *b = village_list(m2), *c = village_list(m3);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    free(a), free(b), free(c);
    gw_model_close(m2), gw_model_close(m3);
    gw_store_close(s2), gw_store_close(s3);
}

static void test_province_prefectures(void **state)
{
    (void)state;
    gw_store *s = generate("province.db", 0.01, 5, 2);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    int fp = field("prefecture"), seen[3] = {0};
    for (size_t r = 0; r < gw_layer_data_count(d); r++) {
        const char *id = gw_layer_data_id(d, r), *p = gw_layer_data_text(d, r, fp);
        char want[32];
        snprintf(want, sizeof want, "%.3s 菏泽市", id); /* "P02-…" -> "P02 菏泽市" */
        assert_string_equal(p, want);
        seen[id[2] - '0']++;
        assert_non_null(gw_layer_data_text(d, r, field("village")));
    }
    assert_true(seen[1] > 0 && seen[2] > 0);
    gw_juris_list l;
    assert_int_equal(gw_juris_list_build(ctx, snap, gw_model_metric_srid(m), &l), GW_OK);
    size_t top = 0;
    for (size_t i = 0; i < l.n; i++) top += l.items[i].level == 1;
    assert_int_equal(top, 2);
    assert_int_equal(l.unassigned, 0);
    gw_juris_list_free(&l);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(s);
}

int main(void)
{
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_villages),
        cmocka_unit_test(test_province_prefectures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
