/* test_positions_writer.c — the store's positions writer (GW_STORE_POSITIONS_WRITER, the
 * connection the dispatcher's group commit writes through): every batch it commits is read back
 * from another connection (point, time, change log), its WAL checkpoints on a thread of their
 * own lose no commit (the positions hold after the writer closes and the file is opened again),
 * the R*Tree it keeps by hand stays exact, and on SQLite the point blobs it builds in C are the
 * bytes SpatiaLite's MakePoint makes. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/store_dispatch.h"
#include "store_sqlite.h"
#include "test_sql.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static gw_ctx *ctx;
static gw_store *store;
static char (*ids)[32];
static size_t nteams;

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    assert_int_equal(gw_store_open(ctx, gw_test_db("poswriter.sqlite"), GW_STORE_CREATE, &store),
                     GW_OK);
    gw_city_opts o = {.scale = 0.03, .seed = 11};
    assert_int_equal(gw_city_generate(ctx, store, &o, NULL), GW_OK);
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(ctx, store, &m), GW_OK);
    gw_model_snapshot *s = gw_model_acquire(m);
    const gw_layer_data *T = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    nteams = gw_layer_data_count(T);
    ids = calloc(nteams, sizeof *ids);
    for (size_t r = 0; r < nteams; r++)
        snprintf(ids[r], sizeof ids[r], "%s", gw_layer_data_id(T, r));
    gw_model_release(ctx, s);
    gw_model_close(m);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(ids);
    gw_store_close(store);
    tsql_close();
    gw_ctx_destroy(ctx);
    return 0;
}

static void wait_checkpoint(gw_store *w)
{
    for (int i = 0; i < 6000 && st_sqlite_checkpoints(w) < 1; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(st_sqlite_checkpoints(w) >= 1);
}

/* One team's stored point and time equal to what was written. */
static void check_team(gw_store *s, const char *id, double lon, double lat, int64_t at)
{
    char a[200], b[200], want[32];
    snprintf(a, sizeof a, "SELECT X(geom) FROM teams WHERE id = '%s'", id);
    snprintf(b, sizeof b, "SELECT ST_X(geom) FROM teams WHERE id = '%s'", id);
    assert_true(tsql_real(s, a, b) == lon);
    snprintf(a, sizeof a, "SELECT Y(geom) FROM teams WHERE id = '%s'", id);
    snprintf(b, sizeof b, "SELECT ST_Y(geom) FROM teams WHERE id = '%s'", id);
    assert_true(tsql_real(s, a, b) == lat);
    snprintf(a, sizeof a, "SELECT updated_at FROM teams WHERE id = '%s'", id);
    snprintf(b, sizeof b,
             "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
             "FROM teams WHERE id = '%s'",
             id);
    gw_time_format(at, want, sizeof want);
    assert_string_equal(tsql_text(s, a, b), want);
}

/* Many batches through a positions writer: each read back at once from the test's connection,
 * one change-log row per move, the R*Tree exact, WAL checkpoints run off the committing thread
 * (SQLite), and after the writer closes every team's last position is in the file. */
static void test_writer_batches_checkpoints_lose_nothing(void **state)
{
    (void)state;
    gw_ctx *wc = NULL;
    gw_store *w = NULL;
    assert_int_equal(gw_ctx_create(&wc), GW_OK);
    assert_int_equal(gw_store_open(wc, gw_store_path(store), GW_STORE_POSITIONS_WRITER, &w), GW_OK);
    enum { ROUNDS = 400, BATCH = 40 };
    assert_true(nteams >= BATCH);
    double *lon = calloc(nteams, sizeof *lon), *lat = calloc(nteams, sizeof *lat);
    int64_t *at = calloc(nteams, sizeof *at);
    int64_t seq0 = 0, t0 = (int64_t)time(NULL) + 100000; /* newer than anything stored */
    assert_int_equal(gw_store_last_seq(store, &seq0), GW_OK);
    size_t moved = 0;
    for (int r = 0; r < ROUNDS; r++) {
        gw_store_move mv[BATCH];
        uint8_t oc[BATCH];
        int64_t sq[BATCH];
        size_t first = (size_t)(urand() * (double)nteams) % nteams;
        for (int i = 0; i < BATCH; i++) {
            size_t k = (first + (size_t)i * 7) % nteams; /* distinct when nteams > 7 * BATCH */
            mv[i] = (gw_store_move){ids[k], 115.0 + urand(), 34.5 + urand(), t0 + r, NAN, NAN};
        }
        assert_int_equal(gw_store_dispatch_positions(w, mv, BATCH, oc, sq), GW_OK);
        for (int i = 0; i < BATCH; i++) {
            if (oc[i] != GW_STORE_MOVE_APPLIED) continue; /* a team reported twice: older */
            size_t k = (first + (size_t)i * 7) % nteams;
            lon[k] = mv[i].lon, lat[k] = mv[i].lat, at[k] = mv[i].at;
            assert_true(sq[i] > seq0);
            moved++;
        }
        check_team(store, mv[r % BATCH].id, lon[(first + (size_t)(r % BATCH) * 7) % nteams],
                   lat[(first + (size_t)(r % BATCH) * 7) % nteams], t0 + r);
    }
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM changelog WHERE seq > %lld AND op = 'move'",
             (long long)seq0);
    assert_int_equal(tsql_int(store, sql, sql), (int64_t)moved);
    if (!gw_test_on_postgres()) wait_checkpoint(w);
    gw_store_close(w);
    gw_ctx_destroy(wc);
    /* a connection opened afresh: every team's last position */
    gw_store *again = NULL;
    assert_int_equal(gw_store_open(ctx, gw_store_path(store), 0, &again), GW_OK);
    for (size_t k = 0; k < nteams; k++)
        if (at[k]) check_team(again, ids[k], lon[k], lat[k], at[k]);
    if (!gw_test_on_postgres()) {
        sqlite3 *db = st_sqlite_db(again);
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT rtreecheck('idx_teams_geom')", -1, &q,
                                            NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
        sqlite3_finalize(q);
        /* each moved team is found through the R*Tree at its new place */
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT count(*) FROM teams WHERE id = ?1 AND fid IN "
                                            "(SELECT pkid FROM idx_teams_geom WHERE xmin <= ?2 AND "
                                            "xmax >= ?2 AND ymin <= ?3 AND ymax >= ?3)",
                                            -1, &q, NULL),
                         SQLITE_OK);
        for (size_t k = 0; k < nteams; k++) {
            if (!at[k]) continue;
            sqlite3_bind_text(q, 1, ids[k], -1, SQLITE_STATIC);
            sqlite3_bind_double(q, 2, lon[k]), sqlite3_bind_double(q, 3, lat[k]);
            assert_int_equal(sqlite3_step(q), SQLITE_ROW);
            assert_int_equal(sqlite3_column_int(q, 0), 1);
            sqlite3_reset(q);
        }
        sqlite3_finalize(q);
        /* SpatiaLite's triggers are on for the other connections */
        int trig = -1;
        sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &trig);
        assert_int_equal(trig, 1);
    }
    gw_store_close(again);
    free(lon), free(lat), free(at);
}

/* SQLite: the point blobs the writer builds in C are byte for byte MakePoint's, extremes too. */
static void test_point_blob_is_makepoint(void **state)
{
    (void)state;
    if (gw_test_on_postgres()) skip();
    static const double pts[][2] = {
        {-180, -90},      {180, 90}, {0, 0}, {-0.0, 12.5}, {115.123456789, 34.987654321},
        {1e-300, -1e-300}};
    enum { N = sizeof pts / sizeof pts[0] };
    gw_ctx *wc = NULL;
    gw_store *w = NULL;
    assert_int_equal(gw_ctx_create(&wc), GW_OK);
    assert_int_equal(gw_store_open(wc, gw_store_path(store), GW_STORE_POSITIONS_WRITER, &w), GW_OK);
    gw_store_move mv[N];
    uint8_t oc[N];
    int64_t sq[N];
    for (int i = 0; i < N; i++)
        mv[i] = (gw_store_move){ids[i], pts[i][0], pts[i][1], (int64_t)time(NULL), NAN, NAN};
    assert_int_equal(gw_store_dispatch_positions(w, mv, N, oc, sq), GW_OK);
    gw_store_close(w);
    gw_ctx_destroy(wc);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(store),
                                        "SELECT hex(geom), hex(MakePoint(?2, ?3, 4326)) FROM "
                                        "teams WHERE id = ?1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(oc[i], GW_STORE_MOVE_APPLIED);
        sqlite3_bind_text(q, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_double(q, 2, pts[i][0]), sqlite3_bind_double(q, 3, pts[i][1]);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0),
                            (const char *)sqlite3_column_text(q, 1));
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_blob_is_makepoint),
        cmocka_unit_test(test_writer_batches_checkpoints_lose_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
