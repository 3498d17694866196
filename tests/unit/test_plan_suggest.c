/* test_plan_suggest.c — layout suggestions (geo/plan_suggest.c) on a hand-made 3×3 tiling where
 * the centre grid holds most incidents: the suggestion splits it and merges light neighbours
 * until the CV is under the target, the new draft still tiles, its edit list replays to the
 * same layout with every merge between grids sharing a boundary (and a township), the base
 * draft is left as it was; population by area; bad options and a stale draft refused. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/plan.h"
#include "gridwatch/store.h"
#include "store_sqlite.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

typedef struct lcg {
    uint64_t s;
} lcg;

static double rnd(lcg *r)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(r->s >> 11) / 9007199254740992.0;
}

/* 3×3 tiling of 0.01° squares from (115.00, 35.00): grid "Grc" at row r (north) and column c
 * (east).  All in township T1 but G22 (T2).  Incidents: `centre` in G11 and `others` in every
 * other grid, at seeded random spots; population `pop_centre` in G11 and 100 elsewhere. */
static gw_store *make_db(const char *name, int centre, int others, int64_t pop_centre)
{
    gw_store *s = NULL;
    const char *path = gw_test_db(name);
    remove(path);
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(115.015, 35.015)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    for (int k = 0; k < 9; k++) {
        int r = k / 3, c = k % 3;
        /* one value per grid line, so neighbours share their edges bit for bit */
        static const double xs[4] = {115.00, 115.01, 115.02, 115.03};
        static const double ys[4] = {35.00, 35.01, 35.02, 35.03};
        double x0 = xs[c], x1 = xs[c + 1], y0 = ys[r], y1 = ys[r + 1];
        double xy[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
        unsigned char w[128];
        size_t n = 0;
        uint32_t t = 3, rings = 1, np = 5;
        w[n++] = 1;
        memcpy(w + n, &t, 4), n += 4;
        memcpy(w + n, &rings, 4), n += 4;
        memcpy(w + n, &np, 4), n += 4;
        memcpy(w + n, xy, 80), n += 80;
        char id[32];
        snprintf(id, sizeof id, "G%d%d", r, c);
        gw_value v[10] = {{GW_VAL_TEXT, id, 0, 0}};
        v[2] = (gw_value){GW_VAL_TEXT, k == 8 ? "T2" : "T1", 0, 0};
        v[4] = (gw_value){GW_VAL_INT, NULL, k == 4 ? pop_centre : 100, 0};
        v[5] = (gw_value){GW_VAL_INT, NULL, 40, 0};
        gw_feature f = {v, w, n, 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    lcg rg = {11};
    int seq = 0;
    for (int k = 0; k < 9; k++) {
        int r = k / 3, c = k % 3, m = k == 4 ? centre : others;
        char gid[32];
        snprintf(gid, sizeof gid, "G%d%d", r, c);
        for (int i = 0; i < m; i++) {
            char id[16];
            snprintf(id, sizeof id, "I%d", ++seq);
            gw_value v[9] = {{GW_VAL_TEXT, id, 0, 0}};
            v[1] = (gw_value){GW_VAL_INT, NULL, 1735689600 + seq, 0};
            v[2] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
            v[6] = (gw_value){GW_VAL_TEXT, gid, 0, 0};
            double x = 115.00 + 0.01 * c + 0.0002 + 0.0096 * rnd(&rg);
            double y = 35.00 + 0.01 * r + 0.0002 + 0.0096 * rnd(&rg);
            gw_feature f = {v, NULL, 0, x, y};
            assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
        }
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

static json_t *suggest(gw_store *s, int64_t d, const char *target, double max_cv, int max_edits,
                       gw_status want)
{
    gw_plan_suggest_opts o = {.target = target,
                              .max_cv = max_cv,
                              .max_edits = max_edits,
                              .who = "tester"};
    char *js = NULL;
    gw_status st = gw_plan_suggest(s, d, &o, &js);
    if (st != want) fail_msg("suggest %s: %s (%s)", target, gw_status_str(st), gw_ctx_errmsg(ctx));
    if (st) {
        assert_null(js);
        return NULL;
    }
    json_t *doc = json_loads(js, 0, NULL);
    free(js);
    assert_non_null(doc);
    return doc;
}

/* The balance JSON of a draft; its spread of `measure` into *cv, *count grids. */
static char *balance(gw_store *s, int64_t d, const char *measure, double *cv, int64_t *count)
{
    char *js = NULL;
    assert_int_equal(gw_plan_balance(s, d, &js), GW_OK);
    json_t *doc = json_loads(js, 0, NULL);
    json_t *lay = json_object_get(doc, "draft_layout");
    if (cv)
        *cv = json_real_value(
            json_object_get(json_object_get(json_object_get(lay, "spread"), measure), "cv"));
    if (count) *count = json_integer_value(json_object_get(lay, "count"));
    json_decref(doc);
    return js;
}

static void assert_tiles(gw_store *s, int64_t d)
{
    gw_plan_report r = {0};
    assert_int_equal(gw_plan_validate_draft(s, d, NULL, &r), GW_OK);
    if (!r.tiles) fail_msg("draft %lld does not tile: %s", (long long)d, r.geojson);
    assert_int_equal(r.overlaps + r.gaps + r.invalid + r.outside + r.multipart, 0);
    assert_true(r.overlap_m2 <= 1e-6 && r.gap_m2 <= 1e-6);
    assert_true(fabs(r.grids_m2 - r.jurisdiction_m2) <= 1e-6 * r.jurisdiction_m2);
    gw_plan_report_free(&r);
}

/* A connection of our own to the PostgreSQL database of s (kept for the next call). */
static PGconn *pg_conn(gw_store *s)
{
    static PGconn *c;
    static char url[600];
    if (c && strcmp(url, gw_store_path(s)) == 0) return c;
    PQfinish(c);
    snprintf(url, sizeof url, "%s", gw_store_path(s));
    c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
    return c;
}

/* Run pg with n text parameters on the PostgreSQL database of s; the caller PQclear()s. */
static PGresult *pg_q(gw_store *s, const char *pg, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg_conn(s), pg, n, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", pg, PQresultErrorMessage(r));
    return r;
}

/* A grid of draft d (its own row, else the base version's) as GEOS geometry and its township. */
static GEOSGeometry *draft_grid(gw_store *s, int64_t d, const char *id, char *town, size_t cap)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    GEOSGeometry *g = NULL;
    if (gw_test_on_postgres()) { /* the geometry as WKT text */
        char a[24];
        snprintf(a, sizeof a, "%lld", (long long)d);
        const char *p[] = {a, id};
        PGresult *r = pg_q(s,
                           "SELECT ST_AsText(geom, 17), township FROM plan_draft_grids WHERE "
                           "draft_id = $1::bigint AND id = $2 AND op = 'upsert' UNION ALL SELECT "
                           "ST_AsText(geom, 17), township FROM grids WHERE version = 1 AND id = $2 "
                           "AND NOT EXISTS (SELECT 1 FROM plan_draft_grids WHERE draft_id = "
                           "$1::bigint AND id = $2)",
                           2, p);
        assert_true(PQntuples(r) > 0);
        GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
        g = GEOSWKTReader_read_r(h, rd, PQgetvalue(r, 0, 0));
        snprintf(town, cap, "%s", PQgetvalue(r, 0, 1));
        GEOSWKTReader_destroy_r(h, rd);
        PQclear(r);
        assert_non_null(g);
        return g;
    }
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(
            st_sqlite_db(s),
            "SELECT geom, township FROM "
            "plan_draft_grids WHERE draft_id = ?1 AND id = ?2 AND op = 'upsert' UNION ALL SELECT "
            "AsBinary(geom), township FROM grids WHERE version = 1 AND id = ?2 AND NOT EXISTS "
            "(SELECT 1 FROM plan_draft_grids WHERE draft_id = ?1 AND id = ?2)",
            -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(q, 1, d);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    g = GEOSWKBReader_read_r(h, rd, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
    snprintf(town, cap, "%s",
             sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1) : "");
    GEOSWKBReader_destroy_r(h, rd);
    sqlite3_finalize(q);
    assert_non_null(g);
    return g;
}

static void do_edit(gw_store *s, int64_t d, json_t *edit)
{
    char *js = json_dumps(edit, JSON_COMPACT);
    gw_status st = gw_plan_edit(s, d, js, strlen(js), "replay", NULL);
    if (st) fail_msg("replay %s: %s", js, gw_ctx_errmsg(ctx));
    free(js);
}

/* Replay a suggestion's edit list on a fresh draft: every merge joins two grids that share a
 * boundary of positive length and a township; the result has the suggestion's balance. */
static void replay(gw_store *s, json_t *doc, int64_t *out_draft, int *merges)
{
    int64_t r = 0;
    assert_int_equal(gw_plan_draft_create(s, "replay", "tester", &r), GW_OK);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    size_t i;
    json_t *e;
    *merges = 0;
    json_array_foreach (json_object_get(doc, "edits"), i, e) {
        const char *op = json_string_value(json_object_get(e, "op"));
        if (strcmp(op, "split") == 0) {
            json_t *ed = json_pack("{ss sO sO}", "op", "split", "grid", json_object_get(e, "grid"),
                                   "line", json_object_get(e, "line"));
            do_edit(s, r, ed);
            json_decref(ed);
            continue;
        }
        assert_string_equal(op, "merge");
        json_t *ids = json_object_get(e, "grids");
        char ta[32], tb[32];
        GEOSGeometry *a = draft_grid(s, r, json_string_value(json_array_get(ids, 0)), ta, 32);
        GEOSGeometry *b = draft_grid(s, r, json_string_value(json_array_get(ids, 1)), tb, 32);
        assert_int_equal(GEOSRelatePattern_r(h, a, b, "****1****"), 1); /* a shared boundary */
        assert_int_equal(GEOSRelatePattern_r(h, a, b, "2********"), 0); /* and no overlap */
        assert_string_equal(ta, tb);
        GEOSGeom_destroy_r(h, a);
        GEOSGeom_destroy_r(h, b);
        json_t *ed = json_pack("{ss sO}", "op", "merge", "grids", ids);
        do_edit(s, r, ed);
        json_decref(ed);
        (*merges)++;
    }
    *out_draft = r;
}

static void test_incidents_split_and_merge(void **state)
{
    (void)state;
    gw_store *s = make_db("suggest.sqlite", 200, 10, 100);
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "spring", "tester", &d), GW_OK);
    gw_plan_draft before;
    assert_int_equal(gw_plan_draft_get(s, d, &before), GW_OK);
    double cv0 = 0;
    int64_t n0 = 0;
    char *bal0 = balance(s, d, "incidents", &cv0, &n0);
    assert_true(cv0 > 1.0);

    json_t *doc = suggest(s, d, "incidents", 0.5, 50, GW_OK);
    int64_t nd = json_integer_value(json_object_get(doc, "draft"));
    assert_true(nd > d);
    assert_int_equal(json_integer_value(json_object_get(doc, "base_draft")), d);
    assert_string_equal(json_string_value(json_object_get(doc, "stopped")), "target");
    double cvb = json_real_value(json_object_get(doc, "cv_before"));
    double cva = json_real_value(json_object_get(doc, "cv_after"));
    assert_true(fabs(cvb - cv0) < 1e-9);
    assert_true(cva <= 0.5);
    /* the heaviest grid is split first, and the reason says why */
    json_t *first = json_array_get(json_object_get(doc, "edits"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "op")), "split");
    assert_string_equal(json_string_value(json_object_get(first, "grid")), "G11");
    assert_non_null(strstr(json_string_value(json_object_get(first, "reason")), "heaviest: 200"));

    /* the draft's balance agrees, and it still tiles the jurisdiction */
    double cv1 = 0;
    int64_t n1 = 0;
    free(balance(s, nd, "incidents", &cv1, &n1));
    if (fabs(cv1 - cva) >= 1e-9) {
        char *bj = balance(s, nd, "incidents", NULL, NULL);
        fprintf(stderr, "balance cv %.12f, suggest cv_after %.12f\n%s\n", cv1, cva, bj);
        char *dj = json_dumps(doc, 0);
        fprintf(stderr, "%s\n", dj);
        free(dj);
        free(bj);
    }
    assert_true(fabs(cv1 - cva) < 1e-9);
    assert_int_equal(n1, json_integer_value(json_object_get(doc, "grids_after")));
    assert_tiles(s, nd);
    gw_plan_draft g;
    assert_int_equal(gw_plan_draft_get(s, nd, &g), GW_OK);
    assert_string_equal(g.name, "spring \xe2\x80\x93 suggestion");
    assert_int_equal(g.edits, (int64_t)json_array_size(json_object_get(doc, "edits")));

    /* the edit list explains the draft: replayed, it gives the same layout */
    int64_t r = 0;
    int merges = 0;
    replay(s, doc, &r, &merges);
    assert_true(merges >= 1);
    double cvr = 0;
    int64_t nr = 0;
    free(balance(s, r, "incidents", &cvr, &nr));
    assert_int_equal(nr, n1);
    assert_true(fabs(cvr - cv1) < 1e-9);

    /* the base draft is unchanged */
    gw_plan_draft after;
    assert_int_equal(gw_plan_draft_get(s, d, &after), GW_OK);
    assert_int_equal(after.edits, before.edits);
    assert_int_equal(after.changed, before.changed);
    char *bal1 = balance(s, d, "incidents", NULL, NULL);
    assert_string_equal(bal0, bal1);
    free(bal0);
    free(bal1);

    /* audited: the suggestion and each of its edits */
    static const char audited[] = "SELECT (SELECT count(*) FROM audit_log WHERE action = "
                                  "'plan.suggest'), (SELECT count(*) FROM audit_log WHERE action "
                                  "= 'plan.edit' AND who = 'tester')";
    int64_t n_suggest = 0, n_edit = 0;
    if (gw_test_on_postgres()) {
        PGresult *res = pg_q(s, audited, 0, NULL);
        n_suggest = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        n_edit = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
    } else {
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), audited, -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        n_suggest = sqlite3_column_int64(q, 0), n_edit = sqlite3_column_int64(q, 1);
        sqlite3_finalize(q);
    }
    assert_int_equal(n_suggest, 1);
    assert_int_equal(n_edit, (int64_t)json_array_size(json_object_get(doc, "edits")));

    /* a suggestion of a suggestion starts from its layout */
    json_t *again = suggest(s, nd, "incidents", 0.5, 50, GW_OK);
    assert_true(fabs(json_real_value(json_object_get(again, "cv_before")) - cva) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(again, "edits")), 0);
    json_decref(again);
    json_decref(doc);
    gw_store_close(s);
}

static void test_population_by_area(void **state)
{
    (void)state;
    gw_store *s = make_db("suggest_pop.sqlite", 5, 5, 3000);
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "people", "tester", &d), GW_OK);
    json_t *doc = suggest(s, d, "population", 0.5, 50, GW_OK);
    int64_t nd = json_integer_value(json_object_get(doc, "draft"));
    double cvb = json_real_value(json_object_get(doc, "cv_before"));
    double cva = json_real_value(json_object_get(doc, "cv_after"));
    assert_true(cva < cvb);
    assert_true(cva <= 0.5);
    json_t *first = json_array_get(json_object_get(doc, "edits"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "grid")), "G11");
    /* split by area: the two halves hold 1500 people each */
    json_t *loads = json_object_get(first, "loads");
    assert_true(fabs(json_real_value(json_array_get(loads, 0)) - 1500) <= 1);
    assert_true(fabs(json_real_value(json_array_get(loads, 1)) - 1500) <= 1);
    /* nobody is lost: the population total is kept */
    char *js = balance(s, nd, "population", NULL, NULL);
    json_t *b = json_loads(js, 0, NULL);
    free(js);
    json_t *lay = json_object_get(b, "draft_layout");
    double mean = json_real_value(
        json_object_get(json_object_get(json_object_get(lay, "spread"), "population"), "mean"));
    double count = (double)json_integer_value(json_object_get(lay, "count"));
    assert_true(fabs(mean * count - 3800) < 1e-6);
    json_decref(b);
    assert_tiles(s, nd);
    json_decref(doc);
    gw_store_close(s);
}

static int64_t drafts(gw_store *s)
{
    gw_plan_draft *l = NULL;
    size_t n = 0;
    assert_int_equal(gw_plan_draft_list(s, &l, &n), GW_OK);
    free(l);
    return (int64_t)n;
}

static void test_refusals(void **state)
{
    (void)state;
    gw_store *s = make_db("suggest_bad.sqlite", 50, 1, 100);
    int64_t d = 0, e = 0;
    assert_int_equal(gw_plan_draft_create(s, "old", "tester", &d), GW_OK);
    int64_t n = drafts(s);
    suggest(s, d, "bogus", 0.5, 50, GW_ERR_ARG);
    suggest(s, d, NULL, 0.5, 50, GW_ERR_ARG);
    suggest(s, d, "incidents", -1, 50, GW_ERR_RANGE);
    suggest(s, d, "incidents", NAN, 50, GW_ERR_RANGE);
    suggest(s, d, "incidents", 0.5, 0, GW_ERR_RANGE);
    suggest(s, 999, "incidents", 0.5, 50, GW_ERR_NOT_FOUND);
    assert_int_equal(drafts(s), n);
    /* max_edits is a hard limit */
    json_t *one = suggest(s, d, "incidents", 0, 1, GW_OK);
    assert_int_equal(json_array_size(json_object_get(one, "edits")), 1);
    assert_string_equal(json_string_value(json_object_get(one, "stopped")), "max_edits");
    json_decref(one);
    n = drafts(s);
    /* a draft made before another version was published: refused, nothing left behind */
    assert_int_equal(gw_plan_draft_create(s, "new", "tester", &e), GW_OK);
    const char *m = "{\"op\":\"merge\",\"grids\":[\"G00\",\"G01\"]}";
    assert_int_equal(gw_plan_edit(s, e, m, strlen(m), "tester", NULL), GW_OK);
    assert_int_equal(gw_plan_publish(s, e, "tester", 0, NULL, NULL), GW_OK);
    suggest(s, d, "incidents", 0.5, 50, GW_ERR_CONFLICT);
    assert_int_equal(drafts(s), n + 1);
    gw_store_close(s);
}

int main(void)
{
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incidents_split_and_merge),
        cmocka_unit_test(test_population_by_area),
        cmocka_unit_test(test_refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
