/* test_plan_random.c — grid planning under stress: random edit sequences (split, merge,
 * reassign, boundary moves) on the synthetic city keep the draft tiling its region and publish
 * cleanly; concurrent edits of one draft from two connections are serialised, none lost. */
#include "plan_fixture.h"

#include "gridwatch/city.h"
#include "gridwatch/plan.h"
#include "store_sqlite.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random edits on the synthetic city ---------------------------------------------------- */

typedef struct lcg {
    uint64_t s;
} lcg;
static double rnd(lcg *r)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(r->s >> 11) / 9007199254740992.0;
}

/* Apply `steps` random edits (split, merge, reassign, move_boundary in turn) to draft d, seeded
 * by seed; done[kind] counts the edits applied.  Returns the edits tried. */
static int random_edits(gw_store *s, int64_t d, uint64_t seed, int steps, int done[4])
{
    sqlite3_stmt *q;
    lcg rg = {seed};
    int tried = 0;
    for (int step = 0; step < steps; step++) {
        /* two grids the draft has not touched, in a seeded order; ids and centres from SQL */
        char ids[2][64] = {"", ""};
        double cx = 0, cy = 0, w = 0;
        int64_t mult = 1 + (int64_t)(rnd(&rg) * 1000000);
        if (gw_test_on_postgres()) {
            char a[24], b[24];
            snprintf(a, sizeof a, "%lld", (long long)d);
            snprintf(b, sizeof b, "%lld", (long long)mult);
            const char *p[] = {a, b};
            PGresult *r = pg_q(s,
                               "SELECT id, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)), "
                               "ST_XMax(geom) - ST_XMin(geom) FROM grids WHERE version = 1 AND id "
                               "NOT IN (SELECT id FROM plan_draft_grids WHERE draft_id = "
                               "$1::bigint) ORDER BY (fid * $2::bigint) % 1000003, fid LIMIT 2",
                               2, p);
            for (int k = 0; k < 2 && k < PQntuples(r); k++) {
                snprintf(ids[k], 64, "%s", PQgetvalue(r, k, 0));
                if (k == 0)
                    cx = strtod(PQgetvalue(r, k, 1), NULL), cy = strtod(PQgetvalue(r, k, 2), NULL),
                    w = strtod(PQgetvalue(r, k, 3), NULL);
            }
            PQclear(r);
        } else {
            assert_int_equal(
                sqlite3_prepare_v2(
                    st_sqlite_db(s),
                    "SELECT id, X(Centroid(geom)), Y(Centroid(geom)), MbrMaxX(geom) - "
                    "MbrMinX(geom) FROM grids WHERE version = 1 AND id NOT IN (SELECT id FROM "
                    "plan_draft_grids WHERE draft_id = ?1) ORDER BY (fid * ?2) % 1000003, fid "
                    "LIMIT 2",
                    -1, &q, NULL),
                SQLITE_OK);
            sqlite3_bind_int64(q, 1, d);
            sqlite3_bind_int64(q, 2, mult);
            for (int k = 0; k < 2 && sqlite3_step(q) == SQLITE_ROW; k++) {
                snprintf(ids[k], 64, "%s", (const char *)sqlite3_column_text(q, 0));
                if (k == 0)
                    cx = sqlite3_column_double(q, 1), cy = sqlite3_column_double(q, 2),
                    w = sqlite3_column_double(q, 3);
            }
            sqlite3_finalize(q);
        }
        if (!ids[0][0]) break;
        char js[1024];
        int kind = step % 4;
        double ang = rnd(&rg) * M_PI, dx = cos(ang) * w * 2, dy = sin(ang) * w * 2;
        /* an off-centre point, so cuts do not all run through centroids */
        double ox = (rnd(&rg) - 0.5) * w * 0.4, oy = (rnd(&rg) - 0.5) * w * 0.4;
        if (kind == 0) {
            snprintf(js, sizeof js,
                     "{\"op\":\"split\",\"grid\":\"%s\",\"line\":{\"type\":"
                     "\"LineString\",\"coordinates\":[[%.9f,%.9f],[%.9f,%.9f]]}}",
                     ids[0], cx + ox - dx, cy + oy - dy, cx + ox + dx, cy + oy + dy);
        } else {
            /* a neighbour of ids[0]: the grid just past its edge in a random direction */
            char nb[64] = "";
            for (int t = 0; t < 8 && !nb[0]; t++) {
                double a2 = rnd(&rg) * 2 * M_PI;
                if (gw_test_on_postgres()) {
                    char c[5][32], a[24];
                    snprintf(c[0], 32, "%.17g", cx), snprintf(c[1], 32, "%.17g", cy);
                    snprintf(c[2], 32, "%.17g", cx + cos(a2) * w);
                    snprintf(c[3], 32, "%.17g", cy + sin(a2) * w);
                    snprintf(a, sizeof a, "%lld", (long long)d);
                    const char *p[] = {c[0], c[1], ids[0], c[2], c[3], a};
                    PGresult *r = pg_q(
                        s,
                        "SELECT id FROM grids WHERE version = 1 AND id <> $3 AND ST_Intersects("
                        "geom, ST_SetSRID(ST_MakeLine(ST_MakePoint($1::float8, $2::float8), "
                        "ST_MakePoint($4::float8, $5::float8)), 4326)) AND id NOT IN (SELECT id "
                        "FROM plan_draft_grids WHERE draft_id = $6::bigint) ORDER BY id COLLATE "
                        "\"C\" LIMIT 1",
                        6, p);
                    if (PQntuples(r)) snprintf(nb, sizeof nb, "%s", PQgetvalue(r, 0, 0));
                    PQclear(r);
                    continue;
                }
                assert_int_equal(
                    sqlite3_prepare_v2(
                        st_sqlite_db(s),
                        "SELECT id FROM grids WHERE version = 1 AND id <> ?3 AND ST_Intersects(geom, "
                        "MakeLine(MakePoint(?1, ?2), MakePoint(?4, ?5))) AND id NOT IN (SELECT id FROM "
                        "plan_draft_grids WHERE draft_id = ?6) LIMIT 1",
                        -1, &q, NULL),
                    SQLITE_OK);
                sqlite3_bind_double(q, 1, cx), sqlite3_bind_double(q, 2, cy);
                sqlite3_bind_text(q, 3, ids[0], -1, SQLITE_STATIC);
                sqlite3_bind_double(q, 4, cx + cos(a2) * w),
                    sqlite3_bind_double(q, 5, cy + sin(a2) * w);
                sqlite3_bind_int64(q, 6, d);
                if (sqlite3_step(q) == SQLITE_ROW)
                    snprintf(nb, sizeof nb, "%s", (const char *)sqlite3_column_text(q, 0));
                sqlite3_finalize(q);
            }
            if (!nb[0]) continue;
            if (kind == 1)
                snprintf(js, sizeof js, "{\"op\":\"merge\",\"grids\":[\"%s\",\"%s\"]}", ids[0], nb);
            else if (kind == 2) /* reassign a box around the centre of ids[0] to the neighbour */
                snprintf(js, sizeof js,
                         "{\"op\":\"reassign\",\"from\":\"%s\",\"to\":\"%s\","
                         "\"area\":{\"type\":\"Polygon\",\"coordinates\":[[[%.9f,%.9f],[%.9f,%.9f],"
                         "[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f]]]}}",
                         ids[0], nb, cx, cy - w, cx + 2 * w, cy - w, cx + 2 * w, cy + w, cx, cy + w,
                         cx, cy - w);
            else /* a new shared boundary through the centre of ids[0] */
                snprintf(js, sizeof js,
                         "{\"op\":\"move_boundary\",\"grids\":[\"%s\",\"%s\"],"
                         "\"line\":{\"type\":\"LineString\",\"coordinates\":[[%.9f,%.9f],"
                         "[%.9f,%.9f]]}}",
                         ids[0], nb, cx + ox - dx, cy + oy - dy, cx + ox + dx, cy + oy + dy);
        }
        tried++;
        gw_status st = gw_plan_edit(s, d, js, strlen(js), "random", NULL);
        if (st == GW_OK) done[kind]++;
        else if (st != GW_ERR_GEOMETRY) fail_msg("%s: %s", js, gw_ctx_errmsg(ctx));
    }
    return tried;
}

/* The bar: after random edit sequences the draft still tiles the region — no overlap,
 * gap or piece outside above 1e-6 m² (in total, every piece counted: tol 1e-12 m²), and the
 * union's area equals the jurisdiction's (to 1e-3 m² of 1.2e10 m²: the sums of ~130 grid
 * areas themselves carry ~1e-5 m² of rounding). */
static void test_random_edits_keep_tiling(void **state)
{
    const char *path = gw_test_db("city.sqlite");
    remove(path);
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts o = {.scale = 0.01, .seed = 7};
    gw_city_report rep;
    assert_int_equal(gw_city_generate(ctx, s, &o, &rep), GW_OK);
    const gw_plan_validate_opts fine = {1e-12, 0, 0};
    static const uint64_t seeds[] = {42, 7, 2024, 99991};
    int64_t d = 0;
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "random %llu", (unsigned long long)seeds[k]);
        assert_int_equal(gw_plan_draft_create(s, name, "tester", &d), GW_OK);
        gw_plan_report r0 = {0}, r = {0};
        assert_int_equal(gw_plan_validate_draft(s, d, &fine, &r0), GW_OK);
        assert_true(r0.tiles);
        int done[4] = {0};
        int tried = random_edits(s, d, seeds[k], 60, done);
        assert_true(done[0] >= 5);
        assert_true(done[1] + done[2] + done[3] >= 10);
        assert_int_equal(gw_plan_validate_draft(s, d, &fine, &r), GW_OK);
        if (!r.tiles || r.invalid || r.overlap_m2 > 1e-6 || r.gap_m2 > 1e-6 ||
            r.outside_m2 > 1e-6 || fabs(r.union_m2 - r.jurisdiction_m2) > 1e-3)
            fail_msg("seed %llu, after %d edits: %zu invalid, %zu overlaps %.3g m², %zu gaps %.3g "
                     "m², %zu outside %.3g m², union - jurisdiction %.3g m²",
                     (unsigned long long)seeds[k], tried, r.invalid, r.overlaps, r.overlap_m2,
                     r.gaps, r.gap_m2, r.outside, r.outside_m2, r.union_m2 - r.jurisdiction_m2);
        assert_true(fabs(r.grids_m2 - r.union_m2) <= 1e-3);
        print_message("seed %llu: %d split, %d merge, %d reassign, %d move of %d; %zu grids, "
                      "validation %.3f s\n",
                      (unsigned long long)seeds[k], done[0], done[1], done[2], done[3], tried,
                      r.grids, r.seconds);
        gw_plan_report_free(&r);
        gw_plan_report_free(&r0);
    }
    assert_int_equal(gw_plan_publish(s, d, "t", 0, NULL, NULL), GW_OK);
    /* no incident points at a grid the new version does not have */
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents WHERE grid IS NOT NULL AND grid NOT "
                              "IN (SELECT id FROM grids WHERE version = 2)"),
                     0);
    gw_store_close(s);
}

/* ---- concurrency --------------------------------------------------------------------------- */

typedef struct worker {
    const char *path;
    int64_t draft;
    const char *grid;
    int n, failed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    gw_ctx *c = NULL;
    gw_store *s = NULL;
    if (gw_ctx_create(&c) || gw_store_open(c, w->path, 0, &s)) {
        w->failed = -1;
        gw_ctx_destroy(c);
        return NULL;
    }
    for (int i = 0; i < w->n; i++) {
        char js[200];
        snprintf(js, sizeof js,
                 "{\"op\":\"attributes\",\"grid\":\"%s\",\"properties\":"
                 "{\"households\":%d}}",
                 w->grid, i + 1);
        if (gw_plan_edit(s, w->draft, js, strlen(js), w->grid, NULL) != GW_OK) w->failed++;
    }
    gw_store_close(s);
    gw_ctx_destroy(c);
    return NULL;
}

static void test_concurrent_edits_serialised(void **state)
{
    gw_store *s = make_db("concurrent.sqlite");
    int64_t d = 0;
    assert_int_equal(gw_plan_draft_create(s, "busy", "tester", &d), GW_OK);
    worker w[2] = {{gw_store_path(s), d, "A", 25, 0}, {gw_store_path(s), d, "B", 25, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, &w[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    assert_int_equal(w[0].failed, 0);
    assert_int_equal(w[1].failed, 0);
    gw_plan_draft info;
    assert_int_equal(gw_plan_draft_get(s, d, &info), GW_OK);
    assert_int_equal(info.edits, 50);
    assert_int_equal(q_int(s, "SELECT count(*) FROM audit_log WHERE action = 'plan.edit'"), 50);
    assert_int_equal(q_int(s, "SELECT sum(households) FROM plan_draft_grids WHERE id IN ('A','B')"),
                     50);
    gw_store_close(s);
}

static int setup(void **state)
{
    ctx = gw_test_ctx();
    return 0;
}

static int teardown(void **state)
{
    gw_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_edits_keep_tiling),
        cmocka_unit_test(test_concurrent_edits_serialised),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
