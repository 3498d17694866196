/* test_pgstore.c — the PostgreSQL/PostGIS engine's core on a real server (ctest entry
 * pgstore_pg; GW_TEST_STORE names the server): open/create and refusing what is not a gridwatch
 * database, values that need escaping and times through COPY and back, a Polygon grid stored as
 * a MultiPolygon, a duplicate id failing the whole load and nothing kept, the write lock
 * serialising two connections, the change log's seqs and the notification waking a waiter on
 * another connection, read-only connections refusing writes, and PostGIS reading what we wrote. */
#include "testutil.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gridwatch/store.h"
#include "gridwatch/store_changes.h"

static gw_ctx *ctx;

static gw_value T(const char *s) { return (gw_value){GW_VAL_TEXT, s, 0, 0}; }
static gw_value I(int64_t i) { return (gw_value){GW_VAL_INT, NULL, i, 0}; }
static gw_value R(double d) { return (gw_value){GW_VAL_REAL, NULL, 0, d}; }
static const gw_value NUL = {GW_VAL_NULL, NULL, 0, 0};

static gw_store *fresh(const char *name, const char **url)
{
    *url = gw_test_db(name);
    gw_store *s = NULL;
    gw_status st = gw_store_open(ctx, *url, GW_STORE_CREATE, &s);
    if (st) fprintf(stderr, "open %s: %s\n", *url, gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    return s;
}

/* One value of a SQL query on the database, by libpq directly: an independent reading. */
static void sql_text(const char *url, const char *sql, char *out, size_t cap)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fprintf(stderr, "%s", PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_true(PQntuples(r) >= 1);
    snprintf(out, cap, "%s", PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}

static void test_open_refuses(void **state)
{
    (void)state;
    gw_store *s = NULL;
    /* an empty database without CREATE, and a foreign one */
    const char *url = gw_test_db("empty");
    assert_int_equal(gw_store_open(ctx, url, GW_STORE_CREATE, &s), GW_OK);
    gw_store_close(s);
    const char *foreign = gw_test_db("foreign");
    assert_int_equal(gw_store_open(ctx, foreign, GW_STORE_CREATE | GW_STORE_READONLY, &s),
                     GW_ERR_ARG);
    char admin[600], sql[700];
    snprintf(admin, sizeof admin, "%spostgres", getenv("GW_TEST_STORE"));
    PGconn *c = PQconnectdb(admin);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", strrchr(foreign, '/') + 1);
    PQclear(PQexec(c, sql));
    PQfinish(c);
    c = PQconnectdb(foreign);
    PQclear(PQexec(c, "CREATE TABLE orders (id int)"));
    PQfinish(c);
    assert_int_equal(gw_store_open(ctx, foreign, GW_STORE_CREATE, &s), GW_ERR_SCHEMA);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "not a gridwatch database"));
    /* no server there: an I/O error naming the location, without its password */
    assert_int_equal(gw_store_open(ctx,
                                   "postgresql://gw:secret@127.0.0.1:1/nothing?connect_timeout=2",
                                   0, &s),
                     GW_ERR_IO);
    assert_null(strstr(gw_ctx_errmsg(ctx), "secret"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "gw@127.0.0.1:1/nothing"));
}

static void test_values_round_trip(void **state)
{
    (void)state;
    const char *url;
    gw_store *s = fresh("values", &url);
    const char *nasty = "tab\there, newline\nthere, back\\slash, 引号\"'; \\N";
    gw_value inc[8] = {T("a\tb"), I(1735689600), T(nasty), I(5), NUL, T("\\."), T("G1"), NUL};
    gw_value cam[7] = {T("C1"), T("cam"), R(359.999999999), R(0.1), R(1e-7), NUL, T("online")};
    gw_feature fi = {.values = inc, .x = 115.5, .y = 35.25};
    gw_feature fc = {.values = cam, .x = -0.000001, .y = 89.999};
    /* a Polygon grid, little-endian WKB */
    unsigned char poly[93] = {1, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0};
    double ring[10] = {115, 35, 115.01, 35, 115.01, 35.01, 115, 35.01, 115, 35};
    memcpy(poly + 13, ring, sizeof ring);
    gw_value grid[10] = {T("G1"), T("网格一"), NUL, NUL, I(1200), NUL, NUL, NUL, NUL, NUL};
    gw_feature fg = {.values = grid, .wkb = poly, .wkb_len = sizeof poly};
    gw_inserter *a = NULL, *b = NULL, *g = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &a), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_CAMERAS, &b), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &g), GW_OK);
    assert_int_equal(gw_inserter_add(a, &fi), GW_OK);
    assert_int_equal(gw_inserter_add(b, &fc), GW_OK);
    assert_int_equal(gw_inserter_add(g, &fg), GW_OK);
    /* a wrong kind and a point off the globe are refused at add, the rest stays */
    gw_value bad[8] = {T("x"), T("not a time"), NUL, NUL, NUL, NUL, NUL, NUL};
    gw_feature fb = {.values = bad, .x = 1, .y = 1};
    assert_int_equal(gw_inserter_add(a, &fb), GW_ERR_ARG);
    inc[0] = T("far");
    gw_feature ff = {.values = inc, .x = 200, .y = 1};
    assert_int_equal(gw_inserter_add(a, &ff), GW_ERR_RANGE);
    int64_t n = 0;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK); /* flushes the COPY */
    assert_int_equal(n, 1);
    gw_inserter_destroy(a), gw_inserter_destroy(b), gw_inserter_destroy(g);
    assert_int_equal(gw_store_commit(s), GW_OK);

    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
    assert_string_equal(row.values[0].s, "a\tb");
    assert_int_equal(row.values[1].i, 1735689600);
    assert_string_equal(row.values[2].s, nasty);
    assert_int_equal(row.values[4].kind, GW_VAL_NULL);
    assert_string_equal(row.values[5].s, "\\.");
    assert_int_equal(row.wkb_len, 21);
    double xy[2];
    memcpy(xy, row.wkb + 5, 16);
    assert_true(xy[0] == 115.5 && xy[1] == 35.25);
    assert_int_equal(gw_cursor_next(cur, &row), GW_ERR_NOT_FOUND);
    gw_cursor_destroy(cur);
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_CAMERAS, &cur), GW_OK);
    assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
    assert_true(row.values[2].d == 359.999999999 && row.values[4].d == 1e-7);
    gw_cursor_destroy(cur);
    char v[256];
    sql_text(url, "SELECT gw_iso(occurred_at) FROM incidents", v, sizeof v);
    assert_string_equal(v, "2025-01-01T00:00:00Z");
    sql_text(
        url,
        "SELECT GeometryType(geom) || ' ' || ST_SRID(geom) || ' ' || ST_IsValid(geom) FROM grids",
        v, sizeof v);
    assert_string_equal(v, "MULTIPOLYGON 4326 true");
    sql_text(url, "SELECT name FROM grids", v, sizeof v);
    assert_string_equal(v, "网格一");
    gw_bbox e;
    assert_int_equal(gw_store_extent(s, GW_LAYER_GRIDS, &e), GW_OK);
    assert_true(e.minx == 115 && e.maxy == 35.01);
    gw_store_close(s);
}

static void test_failed_load_keeps_nothing(void **state)
{
    (void)state;
    const char *url;
    gw_store *s = fresh("dup", &url);
    gw_value v[8] = {T("same"), NUL, NUL, NUL, NUL, NUL, NUL, NUL};
    gw_feature f = {.values = v, .x = 115, .y = 35};
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK); /* buffered: the server sees it later */
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "same"));
    gw_store_rollback(s);
    int64_t n = -1;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 0);
    gw_store_close(s);
}

typedef struct waiter {
    const char *url;
    int64_t after;
    gw_status st;
    double ms;
    volatile int opened; /* set just before the wait starts */
} waiter;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static void *wait_main(void *arg)
{
    waiter *w = arg;
    gw_ctx *c = NULL;
    gw_store *s = NULL;
    gw_ctx_create(&c);
    if (gw_store_open(c, w->url, GW_STORE_READONLY, &s) == GW_OK) {
        double t0 = now_ms();
        __atomic_store_n(&w->opened, 1, __ATOMIC_RELEASE);
        w->st = gw_store_changes_wait(s, w->after, 5000);
        w->ms = now_ms() - t0;
    }
    gw_store_close(s);
    gw_ctx_destroy(c);
    return NULL;
}

static void test_changes_and_lock(void **state)
{
    (void)state;
    const char *url;
    gw_store *s = fresh("log", &url), *t = NULL;
    assert_int_equal(gw_store_open(ctx, url, 0, &t), GW_OK);
    int64_t a = 0, b = 0, last = 0;
    assert_int_equal(gw_store_log_change(s, GW_LAYER_TEAMS, "update", "T1", NULL, &a), GW_OK);
    gw_bbox box = {1, 2, 3, 4};
    assert_int_equal(gw_store_log_change(s, GW_LAYER_TEAMS, "update", "T2", &box, &b), GW_OK);
    assert_true(b > a);
    assert_int_equal(gw_store_last_seq(t, &last), GW_OK);
    assert_int_equal(last, b);
    /* nothing new: the wait times out; a write on another connection wakes it at once */
    assert_int_equal(gw_store_changes_wait(t, b, 50), GW_ERR_NOT_FOUND);
    waiter w = {.url = url, .after = b, .st = -1};
    pthread_t th;
    pthread_create(&th, NULL, wait_main, &w);
    for (int i = 0; i < 1000 && !__atomic_load_n(&w.opened, __ATOMIC_ACQUIRE); i++) usleep(10000);
    usleep(300000); /* the waiter is blocked by now: only the notification can wake it */
    assert_int_equal(gw_store_log_change(s, GW_LAYER_TEAMS, "update", "T3", NULL, NULL), GW_OK);
    pthread_join(th, NULL);
    assert_int_equal(w.st, GW_OK);
    assert_true(w.ms >= 200 && w.ms < 2000);
    /* the write lock: t cannot begin while s holds a write transaction */
    assert_int_equal(gw_store_begin(s), GW_OK);
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQexec(c, "SET lock_timeout = 200");
    PQclear(r);
    r = PQexec(c, "SELECT pg_advisory_xact_lock(1735551332)"); /* PG_WRITE_LOCK, "grid" */
    assert_int_not_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
    gw_store_rollback(s);
    /* read-only refuses writes */
    gw_store *ro = NULL;
    assert_int_equal(gw_store_open(ctx, url, GW_STORE_READONLY, &ro), GW_OK);
    assert_int_not_equal(gw_store_meta_set(ro, "k", "v"), GW_OK);
    gw_store_close(ro);
    gw_store_close(t);
    gw_store_close(s);
}

int main(int argc, char **argv)
{
    const char *group = gw_test_group(argc, argv);
    if (*group) return gw_test_bad_group(group);
    if (!gw_test_on_postgres()) {
        printf(
            "skipped: GW_TEST_STORE names no PostgreSQL server (this test runs as pgstore_pg)\n");
        return GW_TEST_SKIPPED;
    }
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_refuses),
        cmocka_unit_test(test_values_round_trip),
        cmocka_unit_test(test_failed_load_keeps_nothing),
        cmocka_unit_test(test_changes_and_lock),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
