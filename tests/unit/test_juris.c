/* test_juris.c — jurisdictions as data (geo/juris, geo/edit/edit_juris.c): the hierarchy listed
 * from six hand-made grids (counts, parents, population, areas), paths and containment, the CSV
 * import (a good file changes the fields, bad files change nothing), '/' refused on edits, and a
 * plan publish that moves a grid to another village changing the listing. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/juris.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/plan.h"
#include "gridwatch/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

#define P "菏泽市"
#define MD "牡丹区"
#define JY "巨野县"
#define CG "城关街道"
#define ST "沙土镇"

/* Six 0.01° squares in a row from (115.00, 35.00): G1..G6.  Parts and population: */
static const struct {
    const char *id, *part[4];
    int64_t pop; /* -1 = NULL */
} grids[6] = {
    {"G1", {P, MD, CG, "和平社区"}, 100}, {"G2", {P, MD, CG, "和平社区"}, 200},
    {"G3", {P, MD, CG, "光明社区"}, 300}, {"G4", {P, MD, ST, "王庄村"}, 400},
    {"G5", {P, JY, NULL, NULL}, -1},      {"G6", {NULL, NULL, NULL, NULL}, 50},
};

/* Area of one 0.01° square at 35° N on the sphere of radius 6371 km, km²: an independent
 * estimate of what the metric CRS measures (within 1 %). */
static double square_km2(void)
{
    double r = 6371.0, d = 0.01 * M_PI / 180;
    return r * r * d * (sin(35.01 * M_PI / 180) - sin(35.00 * M_PI / 180));
}

static size_t square_wkb(unsigned char *w, double x0, double y0)
{
    double xy[10] = {x0, y0, x0 + 0.01, y0, x0 + 0.01, y0 + 0.01, x0, y0 + 0.01, x0, y0};
    size_t n = 0;
    uint32_t t = 3, r = 1, np = 5;
    w[n++] = 1;
    memcpy(w + n, &t, 4), n += 4;
    memcpy(w + n, &r, 4), n += 4;
    memcpy(w + n, &np, 4), n += 4;
    memcpy(w + n, xy, 80), n += 80;
    return n;
}

static gw_store *make_db(const char *name)
{
    gw_store *s = NULL;
    const char *path = gw_test_db(name);
    remove(path);
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(115.03, 35.005)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    for (int k = 0; k < 6; k++) {
        gw_value v[16] = {{GW_VAL_TEXT, grids[k].id, 0, 0}};
        for (int p = 0; p < 4; p++) {
            int fi = gw_layer_field_index(GW_LAYER_GRIDS, gw_juris_field(p + 1));
            assert_true(fi > 0);
            if (grids[k].part[p]) v[fi] = (gw_value){GW_VAL_TEXT, grids[k].part[p], 0, 0};
        }
        if (grids[k].pop >= 0)
            v[gw_layer_field_index(GW_LAYER_GRIDS, "population")] = (gw_value){GW_VAL_INT, NULL,
                                                                               grids[k].pop, 0};
        unsigned char w[256];
        gw_feature f = {v, w, square_wkb(w, 115.00 + 0.01 * k, 35.00), 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_GRIDS, "import", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

static void build(gw_model *m, gw_juris_list *l)
{
    gw_model_snapshot *snap = gw_model_acquire(m);
    assert_int_equal(gw_juris_list_build(ctx, snap, gw_model_metric_srid(m), l), GW_OK);
    gw_model_release(ctx, snap);
}

static const gw_juris *find(const gw_juris_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].path, path) == 0) return &l->items[i];
    return NULL;
}

static void expect(const gw_juris_list *l, const char *path, int level, const char *name,
                   const char *parent, int64_t n, int64_t pop)
{
    const gw_juris *j = find(l, path);
    if (!j) fail_msg("no jurisdiction %s", path);
    assert_int_equal(j->level, level);
    assert_string_equal(j->name, name);
    assert_string_equal(j->parent, parent);
    assert_int_equal(j->grids, n);
    assert_int_equal(j->population, pop);
    double want = square_km2() * (double)n;
    if (fabs(j->area_km2 - want) > 0.01 * want)
        fail_msg("%s: area %.5f km², expected about %.5f", path, j->area_km2, want);
}

static void test_paths_and_contains(void **state)
{
    (void)state;
    assert_true(gw_juris_contains("", "a/b"));
    assert_true(gw_juris_contains(NULL, "a"));
    assert_true(gw_juris_contains("a/b", "a/b"));
    assert_true(gw_juris_contains("a/b", "a/b/c"));
    assert_false(gw_juris_contains("a/b", "a/bc"));
    assert_false(gw_juris_contains("a/b", "a"));
    assert_false(gw_juris_contains("a/b/c", "a/b"));
    assert_null(gw_juris_name_problem("和平社区"));
    assert_null(gw_juris_name_problem(NULL));
    assert_non_null(gw_juris_name_problem("a/b"));
    assert_int_equal(gw_layer_juris_level(GW_LAYER_GRIDS, "prefecture"), 1);
    assert_int_equal(gw_layer_juris_level(GW_LAYER_GRIDS, "village"), 4);
    assert_int_equal(gw_layer_juris_level(GW_LAYER_GRIDS, "name"), 0);
    assert_int_equal(gw_layer_juris_level(GW_LAYER_INCIDENTS, "county"), 0);
    assert_string_equal(gw_juris_field(1), "prefecture");
    assert_string_equal(gw_juris_field(4), "village");
    assert_null(gw_juris_field(0));
    assert_null(gw_juris_field(5));
}

static void test_listing(void **state)
{
    (void)state;
    gw_store *s = make_db("list.db");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    gw_model_snapshot *snap = gw_model_acquire(m);
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    char buf[256];
    int lv = -1;
    ptrdiff_t r5 = gw_layer_data_find(d, "G5"), r1 = gw_layer_data_find(d, "G1");
    gw_juris_grid_path(d, (size_t)r5, buf, sizeof buf, &lv);
    assert_string_equal(buf, P "/" JY);
    assert_int_equal(lv, 2);
    size_t full = gw_juris_grid_path(d, (size_t)r1, buf, 8, &lv); /* truncated, terminated */
    assert_int_equal(full, strlen(P "/" MD "/" CG "/和平社区"));
    assert_int_equal(strlen(buf), 7);
    assert_int_equal(lv, 4);
    gw_model_release(ctx, snap);

    gw_juris_list l;
    build(m, &l);
    assert_int_equal(l.n, 8);
    assert_int_equal(l.unassigned, 1); /* G6 */
    assert_int_equal(l.metric_srid, gw_model_metric_srid(m));
    expect(&l, P, 1, P, "", 5, 1000);
    expect(&l, P "/" JY, 2, JY, P, 1, 0);
    expect(&l, P "/" MD, 2, MD, P, 4, 1000);
    expect(&l, P "/" MD "/" CG, 3, CG, P "/" MD, 3, 600);
    expect(&l, P "/" MD "/" CG "/和平社区", 4, "和平社区", P "/" MD "/" CG, 2, 300);
    expect(&l, P "/" MD "/" CG "/光明社区", 4, "光明社区", P "/" MD "/" CG, 1, 300);
    expect(&l, P "/" MD "/" ST, 3, ST, P "/" MD, 1, 400);
    expect(&l, P "/" MD "/" ST "/王庄村", 4, "王庄村", P "/" MD "/" ST, 1, 400);
    for (size_t i = 1; i < l.n; i++) /* by path, bytewise */
        assert_true(strcmp(l.items[i - 1].path, l.items[i].path) < 0);
    size_t lv4 = 0, under_md = 0, top = 0;
    for (size_t i = 0; i < l.n; i++) {
        lv4 += gw_juris_match(&l.items[i], 4, NULL);
        under_md += gw_juris_match(&l.items[i], 0, P "/" MD);
        top += gw_juris_match(&l.items[i], 0, "");
    }
    assert_int_equal(lv4, 3);
    assert_int_equal(under_md, 2);
    assert_int_equal(top, 1);
    gw_juris_list_free(&l);
    gw_juris_list_free(&l); /* twice is harmless */
    gw_model_close(m);
    gw_store_close(s);
}

static int64_t last_seq(gw_store *s)
{
    int64_t q = -1;
    assert_int_equal(gw_store_last_seq(s, &q), GW_OK);
    return q;
}

static void test_import_csv(void **state)
{
    (void)state;
    gw_store *s = make_db("import.db");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    int64_t seq0 = last_seq(s);
    gw_juris_list l;

    /* bad: two unknown ids among good rows — refused whole, named, nothing written */
    const char *bad = gw_test_write("bad.csv", "grid_id,prefecture,county,township,village\n"
                                               "G6," P "," JY ",田庄镇,田庄村\n"
                                               "NOPE1," P "," JY ",田庄镇,田庄村\n"
                                               "G1,,,,\n"
                                               "NOPE2,x,y,z,w\n");
    size_t n = 99;
    assert_int_equal(gw_juris_import_csv(s, bad, "t", &n, NULL), GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "2 grid ids"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'NOPE1', 'NOPE2'"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "nothing was changed"));
    assert_int_equal(n, 0);
    /* bad: a name with '/', a duplicate id, a file without grid_id, an unclosed quote */
    const char *slash = gw_test_write("slash.csv", "grid_id,village\nG6,a/b\n");
    assert_int_equal(gw_juris_import_csv(s, slash, "t", NULL, NULL), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'/'"));
    const char *dup = gw_test_write("dup.csv", "grid_id,village\nG6,x\nG6,y\n");
    assert_int_equal(gw_juris_import_csv(s, dup, "t", NULL, NULL), GW_ERR_ARG);
    const char *noid = gw_test_write("noid.csv", "grid,village\nG6,x\n");
    assert_int_equal(gw_juris_import_csv(s, noid, "t", NULL, NULL), GW_ERR_FORMAT);
    const char *quote = gw_test_write("quote.csv", "grid_id,village\nG6,\"x\n");
    assert_int_equal(gw_juris_import_csv(s, quote, "t", NULL, NULL), GW_ERR_FORMAT);
    assert_int_equal(last_seq(s), seq0);
    assert_int_equal(gw_model_refresh(ctx, m, s, NULL), GW_OK);
    build(m, &l);
    assert_int_equal(l.n, 8);
    assert_int_equal(l.unassigned, 1);
    gw_juris_list_free(&l);

    /* good: G6 gets a whole path (quoted, BOM, CRLF), G1 only its village (other columns kept
     * because the second file names only grid_id and village) */
    const char *good = gw_test_write("good.csv", "\xEF\xBB\xBFgrid_id,prefecture,county,township,"
                                                 "village\r\n"
                                                 "\"G6\"," P "," JY ",\"田庄镇\",田庄村\r\n\r\n");
    assert_int_equal(gw_juris_import_csv(s, good, "t", &n, NULL), GW_OK);
    assert_int_equal(n, 1);
    const char *vil = gw_test_write("vil.csv", "id,village\nG1,光明社区\n");
    int64_t seq = 0;
    assert_int_equal(gw_juris_import_csv(s, vil, "t", &n, &seq), GW_OK);
    assert_true(seq > seq0);
    assert_int_equal(gw_model_refresh(ctx, m, s, NULL), GW_OK);
    build(m, &l);
    assert_int_equal(l.unassigned, 0);
    expect(&l, P, 1, P, "", 6, 1050);
    expect(&l, P "/" JY, 2, JY, P, 2, 50);
    expect(&l, P "/" JY "/田庄镇/田庄村", 4, "田庄村", P "/" JY "/田庄镇", 1, 50);
    expect(&l, P "/" MD "/" CG "/和平社区", 4, "和平社区", P "/" MD "/" CG, 1, 200);
    expect(&l, P "/" MD "/" CG "/光明社区", 4, "光明社区", P "/" MD "/" CG, 2, 400);
    gw_juris_list_free(&l);

    /* an empty cell clears the field: G5 loses its county and becomes level 1 */
    const char *clear = gw_test_write("clear.csv", "grid_id,county\nG5,\n");
    assert_int_equal(gw_juris_import_csv(s, clear, "t", &n, NULL), GW_OK);
    assert_int_equal(gw_model_refresh(ctx, m, s, NULL), GW_OK);
    build(m, &l);
    expect(&l, P "/" JY, 2, JY, P, 1, 50);
    gw_juris_list_free(&l);
    gw_model_close(m);
    gw_store_close(s);
}

static void test_edit_refuses_slash(void **state)
{
    (void)state;
    gw_store *s = make_db("slash.db");
    gw_edit_result r = {0};
    const char *patch = "{\"type\":\"Feature\",\"properties\":{\"township\":\"东城/西城\"}}";
    assert_int_equal(gw_edit_patch(s, GW_LAYER_GRIDS, "G1", patch, strlen(patch), NULL, &r),
                     GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'/'"));
    const char *ok = "{\"type\":\"Feature\",\"properties\":{\"village\":\"新村\"}}";
    assert_int_equal(gw_edit_patch(s, GW_LAYER_GRIDS, "G1", ok, strlen(ok), NULL, &r), GW_OK);
    gw_edit_result_free(&r);
    gw_store_close(s);
}

static void test_plan_publish_moves_village(void **state)
{
    (void)state;
    gw_store *s = make_db("plan.db");
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "move G3", "tester", &d), GW_OK);
    const char
        *bad = "{\"op\":\"attributes\",\"grid\":\"G3\",\"properties\":{\"village\":\"a/b\"}}";
    char *res = NULL;
    assert_int_equal(gw_plan_edit(s, d, bad, strlen(bad), "tester", &res), GW_ERR_RANGE);
    free(res), res = NULL;
    /* G3 from 光明社区 to 和平社区; G4 to another township and village */
    const char
        *e1 = "{\"op\":\"attributes\",\"grid\":\"G3\",\"properties\":{\"village\":\"和平社区\"}}";
    assert_int_equal(gw_plan_edit(s, d, e1, strlen(e1), "tester", &res), GW_OK);
    free(res), res = NULL;
    const char *e2 = "{\"op\":\"attributes\",\"grid\":\"G4\",\"properties\":{\"township\":\"" CG
                     "\",\"village\":\"新建社区\"}}";
    assert_int_equal(gw_plan_edit(s, d, e2, strlen(e2), "tester", &res), GW_OK);
    free(res);
    gw_juris_list l;
    build(m, &l); /* a draft changes nothing published */
    expect(&l, P "/" MD "/" CG "/光明社区", 4, "光明社区", P "/" MD "/" CG, 1, 300);
    gw_juris_list_free(&l);
    int64_t v = 0;
    assert_int_equal(gw_plan_publish(s, d, "tester", 0, &v, NULL), GW_OK);
    assert_int_equal(v, 2);
    assert_int_equal(gw_model_refresh(ctx, m, s, NULL), GW_OK);
    build(m, &l);
    assert_null(find(&l, P "/" MD "/" CG "/光明社区"));
    assert_null(find(&l, P "/" MD "/" ST));
    expect(&l, P "/" MD "/" CG "/和平社区", 4, "和平社区", P "/" MD "/" CG, 3, 600);
    expect(&l, P "/" MD "/" CG "/新建社区", 4, "新建社区", P "/" MD "/" CG, 1, 400);
    expect(&l, P "/" MD "/" CG, 3, CG, P "/" MD, 4, 1000);
    assert_int_equal(l.n, 6);
    gw_juris_list_free(&l);
    gw_model_close(m);
    gw_store_close(s);
}

int main(void)
{
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_and_contains),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_import_csv),
        cmocka_unit_test(test_edit_refuses_slash),
        cmocka_unit_test(test_plan_publish_moves_village),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
