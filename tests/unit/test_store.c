/* test_store.c — the durable store: open/create/migrate, refusing foreign files, WAL, inserts and
 * cursors for every layer, transactions and isolation, the change log, extent, clear, meta.
 * With GW_TEST_STORE set (ctest store_pg) the engine-neutral tests run on PostgreSQL; what checks
 * SQLite's own files, pragmas and R*Trees stays on SQLite. */
#include "testutil.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridwatch/store.h"
#include "pg_internal.h"
#include "store_sqlite.h"

static gw_ctx *ctx;

static int setup(void **state)
{
    (void)state;
    ctx = gw_test_ctx();
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(ctx);
    return 0;
}

/* A fresh store in a new file named after the test. */
static gw_store *fresh(const char *name)
{
    gw_store *s = NULL;
    gw_status st = gw_store_open(ctx, gw_test_db(name), GW_STORE_CREATE, &s);
    if (st) fprintf(stderr, "open %s: %s\n", name, gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    assert_non_null(s);
    return s;
}

static int64_t sql_int(gw_store *s, const char *sql)
{
    if (gw_test_on_postgres()) {
        PGresult *r = PQexec(PG(s)->conn, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_true(PQntuples(r) > 0);
        int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
    }
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* A statement on the store's own connection, either engine. */
static void sql_exec(gw_store *s, const char *sql)
{
    if (gw_test_on_postgres()) {
        PGresult *r = PQexec(PG(s)->conn, sql);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
    } else {
        assert_int_equal(sqlite3_exec(st_sqlite_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
    }
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* SQLite's own consistency check of a layer's R*Tree ("ok" when sound). */
static void assert_rtree_ok(gw_store *s, const char *layer)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT rtreecheck('idx_%s_geom')", layer);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
}

/* Rows found through the spatial index in a box must equal a plain scan of the table. */
static void assert_index_matches(gw_store *s, const char *layer, double x0, double y0, double x1,
                                 double y1)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM %s WHERE ROWID IN (SELECT ROWID FROM "
             "SpatialIndex WHERE f_table_name = '%s' AND search_frame = BuildMbr(%.17g, %.17g, "
             "%.17g, %.17g)) AND MbrIntersects(geom, BuildMbr(%.17g, %.17g, %.17g, %.17g))) - "
             "(SELECT count(*) FROM %s WHERE MbrIntersects(geom, BuildMbr(%.17g, %.17g, %.17g, "
             "%.17g)))",
             layer, layer, x0, y0, x1, y1, x0, y0, x1, y1, layer, x0, y0, x1, y1);
    assert_int_equal(sql_int(s, sql), 0);
}

static gw_value T(const char *s) { return (gw_value){GW_VAL_TEXT, s, 0, 0}; }
static gw_value I(int64_t i) { return (gw_value){GW_VAL_INT, NULL, i, 0}; }
static gw_value R(double d) { return (gw_value){GW_VAL_REAL, NULL, 0, d}; }
static const gw_value NUL = {GW_VAL_NULL, NULL, 0, 0};

/* All-NULL values for a layer (whatever its field count), then set by field name. */
static void nulls(gw_layer layer, gw_value *v)
{
    size_t nf;
    gw_layer_fields(layer, &nf);
    assert_true(nf <= 16);
    for (size_t i = 0; i < nf; i++) v[i] = NUL;
}

static void set(gw_layer layer, gw_value *v, const char *field, gw_value val)
{
    int i = gw_layer_field_index(layer, field);
    assert_true(i >= 0);
    v[i] = val;
}

/* Insert one incident at (x, y) with the given id. */
static gw_status add_incident(gw_inserter *ins, const char *id, double x, double y)
{
    gw_value v[16];
    nulls(GW_LAYER_INCIDENTS, v);
    set(GW_LAYER_INCIDENTS, v, "id", T(id));
    set(GW_LAYER_INCIDENTS, v, "occurred_at", I(1514764800));
    set(GW_LAYER_INCIDENTS, v, "category", T("THEFT"));
    set(GW_LAYER_INCIDENTS, v, "severity", I(3));
    set(GW_LAYER_INCIDENTS, v, "status", T("open"));
    gw_feature f = {v, NULL, 0, x, y};
    return gw_inserter_add(ins, &f);
}

/* A little-endian WKB polygon: the square [x0,x0+d]×[y0,y0+d]. */
static size_t square_wkb(unsigned char *b, double x0, double y0, double d)
{
    const double pts[10] = {x0, y0, x0 + d, y0, x0 + d, y0 + d, x0, y0 + d, x0, y0};
    const uint32_t type = 3, rings = 1, npts = 5;
    b[0] = 1;
    memcpy(b + 1, &type, 4);
    memcpy(b + 5, &rings, 4);
    memcpy(b + 9, &npts, 4);
    memcpy(b + 13, pts, sizeof pts);
    return 13 + sizeof pts;
}

static uint32_t wkb_type_le(const unsigned char *w)
{
    uint32_t t;
    memcpy(&t, w + 1, 4);
    return t;
}

static void test_create_open_reopen(void **state)
{
    (void)state;
    gw_store *s = NULL;
    const char *path = gw_test_path("create.db");
    assert_int_equal(gw_store_open(ctx, path, 0, &s), GW_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "gridwatch init"));
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_READONLY, &s), GW_ERR_IO);

    s = fresh("create.db");
    assert_int_equal(gw_store_schema_version(s), GW_SCHEMA_VERSION);
    assert_string_equal(gw_store_path(s), path);
    assert_ptr_equal(gw_store_ctx(s), ctx);
    assert_int_equal(sql_int(s, "PRAGMA user_version"), GW_SCHEMA_VERSION);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM geometry_columns"), 5);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM geometry_columns WHERE srid = 4326 AND "
                                "spatial_index_enabled = 1"),
                     5);
    assert_int_equal(sql_int(s, "SELECT geometry_type FROM geometry_columns WHERE "
                                "f_table_name = 'grids'"),
                     6);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM grid_versions WHERE version = 1 AND "
                                "status = 'published'"),
                     1);
    char buf[64];
    assert_int_equal(gw_store_meta_get(s, "grid_version", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "1");
    gw_store_close(s);

    s = NULL;
    assert_int_equal(gw_store_open(ctx, path, 0, &s), GW_OK);
    assert_int_equal(gw_store_schema_version(s), GW_SCHEMA_VERSION);
    gw_store_close(s);
    s = NULL;
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_READONLY, &s), GW_OK);
    assert_int_equal(gw_store_meta_set(s, "x", "y"), GW_ERR_DB);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "readonly"));
    gw_store_close(s);
    gw_store_close(NULL);
}

static void test_migration_idempotent(void **state)
{
    (void)state;
    gw_store *s = fresh("idem.db");
    char path[600];
    snprintf(path, sizeof path, "%s", gw_store_path(s));
    const char *objs = gw_test_on_postgres() ? "SELECT count(*) FROM pg_class WHERE relnamespace = "
                                               "'public'::regnamespace"
                                             : "SELECT count(*) FROM sqlite_master";
    int64_t objects = sql_int(s, objs);
    assert_int_equal(gw_store_meta_set(s, "created_at", "marker"), GW_OK);
    gw_store_close(s);
    s = NULL;
    /* GW_STORE_CREATE on an existing file must not re-initialise it. */
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(sql_int(s, objs), objects);
    char buf[32];
    assert_int_equal(gw_store_meta_get(s, "created_at", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "marker");
    gw_store_close(s);
}

static void test_refuses_future_version(void **state)
{
    (void)state;
    gw_store *s = fresh("future.db");
    gw_store_close(s);
    raw_exec(gw_test_path("future.db"), "PRAGMA user_version = 99");
    s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_path("future.db"), 0, &s), GW_ERR_SCHEMA);
    assert_null(s);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "newer"));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "99"));
}

static void test_refuses_foreign_sqlite(void **state)
{
    (void)state;
    const char *path = gw_test_path("foreign.db");
    raw_exec(path, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_ERR_SCHEMA);
    assert_null(s);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "not a gridwatch database"));
    /* The foreign file was left as it was: not switched to WAL, no tables added. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "delete");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_refuses_text_file(void **state)
{
    (void)state;
    const char *path = gw_test_write("notes.txt", "id,name\n1,this is a CSV file, not a database, "
                                                  "and it is long enough to look like a header\n");
    gw_store *s = NULL;
    gw_status st = gw_store_open(ctx, path, 0, &s);
    assert_true(st == GW_ERR_SCHEMA || st == GW_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "not a SQLite database"));
    /* An empty file is a valid but uninitialised SQLite file: refused without CREATE. */
    path = gw_test_write("empty.db", "");
    assert_int_equal(gw_store_open(ctx, path, 0, &s), GW_ERR_SCHEMA);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "gridwatch init"));
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    gw_store_close(s);
}

static void test_connection_settings(void **state)
{
    (void)state;
    gw_store *s = fresh("wal.db");
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), "PRAGMA journal_mode", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(sql_int(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(sql_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_true(sql_int(s, "PRAGMA busy_timeout") >= 1000);
    /* begin takes the write lock up front; a second begin is a caller error. */
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_ERR_ARG);
    gw_store_rollback(s);
    gw_store_rollback(s); /* safe without a transaction */
    assert_int_equal(gw_store_commit(s), GW_ERR_ARG);
    gw_store_close(s);
}

/* Insert two features per layer (one all-NULL but id) and read them back in id order. */
static void test_roundtrip_every_layer(void **state)
{
    (void)state;
    gw_store *s = fresh("roundtrip.db");
    unsigned char wkb[128];
    size_t wkb_len = square_wkb(wkb, 115.0, 35.0, 0.01);
    /* A big-endian ISO WKB point (116.25, 39.5). */
    unsigned char pt_be[21] = {0, 0, 0, 0, 1};
    const double px = 116.25, py = 39.5;
    for (int i = 0; i < 8; i++) {
        pt_be[5 + i] = ((const unsigned char *)&px)[7 - i];
        pt_be[13 + i] = ((const unsigned char *)&py)[7 - i];
    }
    assert_int_equal(gw_store_begin(s), GW_OK);
    for (int L = 0; L < GW_LAYER_COUNT; L++) {
        size_t nf;
        const gw_field *fields = gw_layer_fields((gw_layer)L, &nf);
        gw_value full[16], empty[16];
        for (size_t i = 0; i < nf; i++) {
            empty[i] = NUL;
            switch (fields[i].type) {
            case GW_FT_TEXT: full[i] = T(fields[i].name); break;
            case GW_FT_INT: full[i] = I(i + 1); break;
            case GW_FT_REAL: full[i] = R(10.5 + (double)i); break;
            case GW_FT_TIME: full[i] = I(1530403199); break; /* 2018-06-30T23:59:59Z */
            }
        }
        full[0] = T("b-2");
        empty[0] = T("a-1");
        if (L == GW_LAYER_TEAMS) full[2] = T("available");
        gw_inserter *ins = NULL;
        assert_int_equal(gw_store_inserter_create(s, (gw_layer)L, &ins), GW_OK);
        gw_feature f1 = {full, wkb, wkb_len, 0, 0}, f2 = {empty, wkb, wkb_len, 0, 0};
        if (L != GW_LAYER_GRIDS) {
            f1 = (gw_feature){full, NULL, 0, 115.5, 35.25};
            f2 = (gw_feature){empty, pt_be, sizeof pt_be, 0, 0};
        }
        assert_int_equal(gw_inserter_add(ins, &f1), GW_OK);
        assert_int_equal(gw_inserter_add(ins, &f2), GW_OK);
        gw_inserter_destroy(ins);

        gw_cursor *cur = NULL;
        gw_row row;
        assert_int_equal(gw_store_cursor_create(s, (gw_layer)L, &cur), GW_OK);
        assert_int_equal(gw_cursor_next(cur, &row), GW_OK); /* "a-1" first: id order */
        assert_string_equal(row.values[0].s, "a-1");
        for (size_t i = 1; i < nf; i++) assert_int_equal(row.values[i].kind, GW_VAL_NULL);
        assert_true(row.wkb_len >= 21);
        if (L != GW_LAYER_GRIDS) {
            double x, y;
            assert_int_equal(row.wkb[0], 1);
            assert_int_equal(wkb_type_le(row.wkb), 1);
            memcpy(&x, row.wkb + 5, 8);
            memcpy(&y, row.wkb + 13, 8);
            assert_true(x == px && y == py);
        }
        assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
        assert_string_equal(row.values[0].s, "b-2");
        assert_true(row.fid > 0);
        for (size_t i = 1; i < nf; i++) {
            switch (fields[i].type) {
            case GW_FT_TEXT:
                assert_int_equal(row.values[i].kind, GW_VAL_TEXT);
                assert_string_equal(row.values[i].s, full[i].s);
                break;
            case GW_FT_INT:
            case GW_FT_TIME:
                assert_int_equal(row.values[i].kind, GW_VAL_INT);
                assert_int_equal(row.values[i].i, full[i].i);
                break;
            case GW_FT_REAL:
                assert_int_equal(row.values[i].kind, GW_VAL_REAL);
                assert_true(row.values[i].d == full[i].d);
                break;
            }
        }
        if (L == GW_LAYER_GRIDS) {
            assert_int_equal(wkb_type_le(row.wkb), 6); /* stored as MULTIPOLYGON */
        } else {
            double x;
            memcpy(&x, row.wkb + 5, 8);
            assert_true(x == 115.5);
        }
        assert_int_equal(gw_cursor_next(cur, &row), GW_ERR_NOT_FOUND);
        gw_cursor_destroy(cur);
        int64_t n = 0;
        assert_int_equal(gw_store_count(s, (gw_layer)L, &n), GW_OK);
        assert_int_equal(n, 2);
    }
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM grids WHERE version = 1"), 2);
    if (gw_test_on_postgres()) { /* an instant, printed as SQLite stores it; the same point */
        assert_int_equal(sql_int(s, "SELECT count(*) FROM incidents WHERE id = 'b-2' AND "
                                    "gw_iso(occurred_at) = '2018-06-30T23:59:59Z' AND "
                                    "ST_Equals(geom, ST_Point(115.5, 35.25, 4326)) AND "
                                    "ST_IsValid(geom)"),
                         1);
        gw_store_close(s);
        return;
    }
    /* TIME is stored as ISO 8601 UTC text; the point BLOB equals SpatiaLite's own MakePoint. */
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(st_sqlite_db(s),
                           "SELECT occurred_at, geom = MakePoint("
                           "115.5, 35.25, 4326), ST_IsValid(geom) FROM incidents WHERE id = 'b-2'",
                           -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "2018-06-30T23:59:59Z");
    assert_int_equal(sqlite3_column_int(q, 1), 1);
    assert_int_equal(sqlite3_column_int(q, 2), 1);
    sqlite3_finalize(q);
    /* The spatial index was filled by SpatiaLite's triggers. */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM incidents WHERE ROWID IN (SELECT ROWID "
                                "FROM SpatialIndex WHERE f_table_name = 'incidents' AND "
                                "search_frame = BuildMbr(115.4, 35.2, 115.6, 35.3))"),
                     1);
    for (int L = 0; L < GW_LAYER_COUNT; L++) assert_rtree_ok(s, gw_layer_name((gw_layer)L));
    /* A point blob the cursor does not decode itself (big-endian, as another tool may write
     * it) is read through SpatiaLite: the same point. */
    unsigned char be[ST_POINT_BLOB];
    st_point_blob(px, py, 4326, be);
    be[1] = 0x00;
    static const int at[] = {2, 6, 14, 22, 30, 39, 43, 51}, width[] = {4, 8, 8, 8, 8, 4, 8, 8};
    for (int k = 0; k < 8; k++) /* srid, mbr, class, x, y byte-swapped in place */
        for (int i = 0; i < width[k] / 2; i++) {
            unsigned char t = be[at[k] + i];
            be[at[k] + i] = be[at[k] + width[k] - 1 - i], be[at[k] + width[k] - 1 - i] = t;
        }
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s),
                                        "UPDATE incidents SET geom = ?1 WHERE id = 'b-2'", -1, &q,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(q, 1, be, sizeof be, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    assert_int_equal(sql_int(s, "SELECT X(geom) = 116.25 AND Y(geom) = 39.5 FROM incidents "
                                "WHERE id = 'b-2'"),
                     1);
    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_INCIDENTS, &cur), GW_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
        double x, y;
        assert_int_equal(row.wkb_len, 21);
        memcpy(&x, row.wkb + 5, 8);
        memcpy(&y, row.wkb + 13, 8);
        assert_true(x == px && y == py); /* a-1 decoded here, b-2 through AsBinary */
    }
    gw_cursor_destroy(cur);
    gw_store_close(s);
}

/* The spatial index through all its write paths: bulk build at commit, a few rows into a big
 * index, autocommit rows, SQL deletes by SpatiaLite's triggers, a rebuild that keeps entries. */
static void test_spatial_index_paths(void **state)
{
    (void)state;
    gw_store *s = fresh("rtree.db");
    gw_inserter *ins = NULL;
    char id[32];
    unsigned seed = 7;
    const char *nidx = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                       "'incidents'";
    int64_t indexes = sql_int(s, nidx);
    assert_true(indexes >= 4);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    for (int i = 0; i < 6000; i++) {
        seed = seed * 1103515245u + 12345u;
        double x = 115.0 + (seed >> 8) % 100000 / 1e5, y = 35.0 + (seed >> 4) % 77777 / 1e5;
        snprintf(id, sizeof id, "b%05d", i);
        assert_int_equal(add_incident(ins, id, x, y), GW_OK);
    }
    /* Loading into an empty layer: secondary indexes are put off until the commit. */
    assert_true(sql_int(s, nidx) < indexes);
    /* Not yet in the index inside the transaction; the commit writes it. */
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(sql_int(s, nidx), indexes); /* secondary indexes built at commit */
    assert_int_equal(sql_int(s, "SELECT count(*) FROM incidents INDEXED BY incidents_category "
                                "WHERE category = 'THEFT'"),
                     6000);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM pragma_integrity_check WHERE "
                                "integrity_check <> 'ok'"),
                     0);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"), 6000);
    assert_rtree_ok(s, "incidents");
    assert_true(sql_int(s, "SELECT count(*) FROM idx_incidents_geom_node") > 100);
    assert_index_matches(s, "incidents", 115.2, 35.1, 115.45, 35.3);
    /* A few rows into the big index: written one by one. */
    assert_int_equal(gw_store_begin(s), GW_OK);
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "few%d", i);
        assert_int_equal(add_incident(ins, id, 115.3 + i * 0.01, 35.2), GW_OK);
    }
    assert_int_equal(gw_store_commit(s), GW_OK);
    /* Autocommit rows go straight in. */
    assert_int_equal(add_incident(ins, "auto", 115.33, 35.21), GW_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"), 6006);
    gw_inserter_destroy(ins);
    assert_rtree_ok(s, "incidents");
    /* SpatiaLite's triggers are back on once no inserter is alive: SQL deletes keep the index. */
    assert_int_equal(sqlite3_exec(st_sqlite_db(s), "DELETE FROM incidents WHERE id LIKE 'b0%'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"),
                     sql_int(s, "SELECT count(*) FROM incidents"));
    assert_rtree_ok(s, "incidents");
    /* A batch as big as the index: rebuilt, keeping the old entries. */
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof id, "r%05d", i);
        assert_int_equal(add_incident(ins, id, 115.0 + i * 1e-4, 35.5 - i * 1e-4), GW_OK);
    }
    gw_inserter_destroy(ins); /* destroy before commit writes the index too */
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"),
                     sql_int(s, "SELECT count(*) FROM incidents"));
    assert_rtree_ok(s, "incidents");
    assert_index_matches(s, "incidents", 115.1, 35.2, 115.6, 35.45);
    /* Rolled back rows leave nothing in the index. */
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(add_incident(ins, "gone", 115.5, 35.5), GW_OK);
    gw_store_rollback(s);
    gw_inserter_destroy(ins);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"),
                     sql_int(s, "SELECT count(*) FROM incidents"));
    assert_rtree_ok(s, "incidents");
    gw_store_close(s);
}

static void test_bad_values(void **state)
{
    (void)state;
    gw_store *s = fresh("badvalues.db");
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    const gw_layer IN = GW_LAYER_INCIDENTS;
    gw_value v[16];
    nulls(IN, v);
    set(IN, v, "id", T("x1"));
    set(IN, v, "occurred_at", I(0));
    set(IN, v, "severity", T("high"));
    gw_feature f = {v, NULL, 0, 116.0, 39.0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_ARG);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "severity"));
    set(IN, v, "severity", I(9)); /* the CHECK constraint: severity 1..5 */
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_RANGE);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "x1"));
    set(IN, v, "severity", I(5));
    set(IN, v, "occurred_at", T("2018-01-01"));
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_ARG);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "occurred_at"));
    set(IN, v, "occurred_at", I(0));
    f.x = 500.0;
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_RANGE);
    unsigned char poly[128];
    size_t plen = square_wkb(poly, 1, 1, 1);
    f = (gw_feature){v, poly, plen, 0, 0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_GEOMETRY);
    set(IN, v, "id", NUL);
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_ARG);
    gw_inserter_destroy(ins);
    /* A grid given a point, and a truncated polygon. */
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    gw_value g[16];
    nulls(GW_LAYER_GRIDS, g);
    set(GW_LAYER_GRIDS, g, "id", T("g1"));
    unsigned char pt[21] = {1, 1, 0, 0, 0};
    f = (gw_feature){g, pt, sizeof pt, 0, 0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_GEOMETRY);
    f = (gw_feature){g, poly, plen - 20, 0, 0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_GEOMETRY);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "g1"));
    int64_t n = -1;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 0);
    gw_inserter_destroy(ins);
    gw_inserter_destroy(NULL);
    gw_store_close(s);
}

static void test_failed_insert_rolls_back(void **state)
{
    (void)state;
    gw_store *s = fresh("rollback.db");
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(add_incident(ins, "keep", 116, 39), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);

    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(add_incident(ins, "n1", 116.1, 39.1), GW_OK);
    assert_int_equal(add_incident(ins, "n2", 116.2, 39.2), GW_OK);
    assert_int_equal(add_incident(ins, "n1", 116.3, 39.3), GW_ERR_CONFLICT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "'n1'"));
    assert_int_equal(add_incident(ins, "keep", 116.3, 39.3), GW_ERR_CONFLICT);
    gw_inserter_destroy(ins);
    gw_store_rollback(s);
    assert_int_equal(gw_ctx_errcode(ctx), GW_ERR_CONFLICT); /* rollback keeps the error */
    int64_t n = 0;
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"), 1);
    assert_rtree_ok(s, "incidents");
    /* A load into an empty layer that is rolled back leaves its indexes in place. */
    const char *nidx = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                       "'teams'";
    int64_t indexes = sql_int(s, nidx);
    assert_true(indexes >= 2);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_TEAMS, &ins), GW_OK);
    gw_value v[16];
    nulls(GW_LAYER_TEAMS, v);
    set(GW_LAYER_TEAMS, v, "id", T("t1"));
    gw_feature f = {v, NULL, 0, 116, 39};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_store_rollback(s);
    gw_inserter_destroy(ins);
    assert_int_equal(sql_int(s, nidx), indexes);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM teams"), 0);
    gw_store_close(s);
}

static void test_reader_sees_committed_data(void **state)
{
    (void)state;
    gw_store *w = fresh("isolation.db"), *r = NULL;
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(w, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(add_incident(ins, "c1", 116, 39), GW_OK); /* autocommit */
    assert_int_equal(gw_store_open(ctx, gw_store_path(w), 0, &r), GW_OK);

    assert_int_equal(gw_store_begin(w), GW_OK);
    assert_int_equal(add_incident(ins, "c2", 116, 39), GW_OK);
    assert_int_equal(gw_store_meta_set(w, "name", "uncommitted"), GW_OK);
    int64_t n = 0;
    assert_int_equal(gw_store_count(w, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 2);
    /* The reader is not blocked and sees the last committed state. */
    assert_int_equal(gw_store_count(r, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 1);
    char buf[32];
    assert_int_equal(gw_store_meta_get(r, "name", buf, sizeof buf), GW_ERR_NOT_FOUND);
    /* A second writer cannot begin while the first holds the lock (after the busy timeout it
     * would fail); we only check that the reader's read-only work succeeded. */
    assert_int_equal(gw_store_commit(w), GW_OK);
    assert_int_equal(gw_store_count(r, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(gw_store_meta_get(r, "name", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "uncommitted");
    gw_inserter_destroy(ins);
    gw_store_close(r);
    gw_store_close(w);
}

static void test_change_log(void **state)
{
    (void)state;
    gw_store *s = fresh("changelog.db");
    int64_t last = -1, seq = 0;
    assert_int_equal(gw_store_last_seq(s, &last), GW_OK);
    assert_int_equal(last, 0);
    gw_bbox box = {116, 39, 116.5, 39.5};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "insert", "i1",
                                             i % 2 ? &box : NULL, &seq),
                         GW_OK);
        assert_true(seq > last);
        last = seq;
    }
    assert_int_equal(gw_store_last_seq(s, &seq), GW_OK);
    assert_int_equal(seq, last);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_TEAMS, "", NULL, NULL, NULL), GW_ERR_ARG);
    assert_int_equal(gw_store_log_change(s, (gw_layer)42, "insert", NULL, NULL, NULL), GW_ERR_ARG);
    /* Pruning the log does not move the sequence back. */
    sql_exec(s, "DELETE FROM changelog");
    assert_int_equal(gw_store_last_seq(s, &seq), GW_OK);
    assert_int_equal(seq, last);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_GRIDS, "update", NULL, &box, &seq), GW_OK);
    assert_true(seq > last);
    assert_int_equal(gw_store_audit(s, "planner1", "publish", "version 2"), GW_OK);
    assert_int_equal(gw_store_audit(s, NULL, NULL, NULL), GW_ERR_ARG);
    assert_int_equal(sql_int(s, gw_test_on_postgres()
                                    ? "SELECT count(*) FROM audit_log WHERE who = 'planner1' AND "
                                      "action = 'publish' AND gw_iso(at) LIKE '20%Z'"
                                    : "SELECT count(*) FROM audit_log WHERE who = 'planner1' AND "
                                      "action = 'publish' AND at LIKE '20%Z'"),
                     1);
    gw_store_close(s);
}

static void test_extent_and_clear(void **state)
{
    (void)state;
    gw_store *s = fresh("extent.db");
    gw_bbox b;
    assert_int_equal(gw_store_extent(s, GW_LAYER_INCIDENTS, &b), GW_ERR_NOT_FOUND);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    assert_int_equal(add_incident(ins, "e1", 116.25, 39.5), GW_OK);
    assert_int_equal(add_incident(ins, "e2", -87.75, -41.125), GW_OK);
    assert_int_equal(add_incident(ins, "e3", 0, 0), GW_OK);
    gw_inserter_destroy(ins);
    unsigned char wkb[128];
    size_t len = square_wkb(wkb, 10, 20, 2);
    gw_value g[16];
    nulls(GW_LAYER_GRIDS, g);
    set(GW_LAYER_GRIDS, g, "id", T("g1"));
    gw_feature f = {g, wkb, len, 0, 0};
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);

    assert_int_equal(gw_store_extent(s, GW_LAYER_INCIDENTS, &b), GW_OK);
    assert_true(b.minx == -87.75 && b.miny == -41.125 && b.maxx == 116.25 && b.maxy == 39.5);
    assert_int_equal(gw_store_extent(s, GW_LAYER_GRIDS, &b), GW_OK);
    assert_true(b.minx == 10 && b.miny == 20 && b.maxx == 12 && b.maxy == 22);
    assert_int_equal(gw_store_extent(s, GW_LAYER_CAMERAS, &b), GW_ERR_NOT_FOUND);

    int64_t before = 0, after = 0, n = -1;
    assert_int_equal(gw_store_last_seq(s, &before), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_clear(s, GW_LAYER_INCIDENTS), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(gw_store_count(s, GW_LAYER_INCIDENTS, &n), GW_OK);
    assert_int_equal(n, 0);
    if (!gw_test_on_postgres()) {
        assert_int_equal(sql_int(s, "SELECT count(*) FROM idx_incidents_geom"), 0);
        assert_rtree_ok(s, "incidents");
    }
    assert_int_equal(gw_store_last_seq(s, &after), GW_OK);
    assert_int_equal(after, before + 1);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM changelog WHERE op = 'clear' AND layer = "
                                "'incidents' AND minx = -87.75 AND maxy = 39.5"),
                     1);
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 1);
    /* Clearing outside a transaction is atomic too, and an empty layer logs a NULL bbox. */
    assert_int_equal(gw_store_clear(s, GW_LAYER_CAMERAS), GW_OK);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM changelog WHERE op = 'clear' AND layer = "
                                "'cameras' AND minx IS NULL"),
                     1);
    gw_store_close(s);
}

/* grids: count, cursor and extent see the published version only; inserts go into it. */
static void test_grid_versions(void **state)
{
    (void)state;
    gw_store *s = fresh("versions.db");
    unsigned char wkb[128];
    size_t len = square_wkb(wkb, 1, 1, 1);
    gw_value g[16];
    nulls(GW_LAYER_GRIDS, g);
    set(GW_LAYER_GRIDS, g, "id", T("g1"));
    set(GW_LAYER_GRIDS, g, "name", T("one"));
    set(GW_LAYER_GRIDS, g, "population", I(100));
    set(GW_LAYER_GRIDS, g, "households", I(40));
    gw_feature f = {g, wkb, len, 0, 0};
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_ERR_CONFLICT);
    gw_inserter_destroy(ins);
    sql_exec(s, "INSERT INTO grid_versions (version, status, created_at) VALUES (2, 'published', "
                "'2024-01-01T00:00:00Z')");
    assert_int_equal(gw_store_meta_set(s, "grid_version", "2"), GW_OK);
    int64_t n = -1;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK); /* same id, new version: allowed */
    set(GW_LAYER_GRIDS, g, "id", T("g2"));
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    assert_int_equal(n, 2);
    gw_cursor *cur = NULL;
    gw_row row;
    int rows = 0;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_GRIDS, &cur), GW_OK);
    while (gw_cursor_next(cur, &row) == GW_OK) rows++;
    gw_cursor_destroy(cur);
    assert_int_equal(rows, 2);
    assert_int_equal(sql_int(s, "SELECT count(*) FROM grids"), 3);
    gw_store_close(s);
}

static void test_meta(void **state)
{
    (void)state;
    gw_store *s = fresh("meta.db");
    char buf[16];
    assert_int_equal(gw_store_meta_get(s, "nope", buf, sizeof buf), GW_ERR_NOT_FOUND);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "nope"));
    assert_int_equal(gw_store_meta_set(s, "name", "Heze"), GW_OK);
    assert_int_equal(gw_store_meta_get(s, "name", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "Heze");
    assert_int_equal(gw_store_meta_set(s, "name", "Chicago"), GW_OK);
    assert_int_equal(gw_store_meta_get(s, "name", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "Chicago");
    assert_int_equal(gw_store_meta_get(s, "name", buf, 4), GW_ERR_RANGE);
    assert_int_equal(gw_store_meta_set(s, "empty", NULL), GW_OK);
    assert_int_equal(gw_store_meta_get(s, "empty", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "");
    int srid = -1;
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_int_equal(srid, 0);
    assert_int_equal(gw_store_set_metric_srid(s, 4527), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, -3), GW_ERR_RANGE);
    char path[600];
    snprintf(path, sizeof path, "%s", gw_store_path(s));
    gw_store_close(s);
    s = NULL;
    assert_int_equal(gw_store_open(ctx, path, 0, &s), GW_OK);
    assert_int_equal(gw_store_metric_srid(s, &srid), GW_OK);
    assert_int_equal(srid, 4527);
    assert_int_equal(gw_store_meta_get(s, "metric_srid", buf, sizeof buf), GW_OK);
    assert_string_equal(buf, "4527");
    gw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open_reopen),
        cmocka_unit_test(test_migration_idempotent),
        cmocka_unit_test(test_refuses_future_version),
        cmocka_unit_test(test_refuses_foreign_sqlite),
        cmocka_unit_test(test_refuses_text_file),
        cmocka_unit_test(test_connection_settings),
        cmocka_unit_test(test_roundtrip_every_layer),
        cmocka_unit_test(test_spatial_index_paths),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_failed_insert_rolls_back),
        cmocka_unit_test(test_reader_sees_committed_data),
        cmocka_unit_test(test_change_log),
        cmocka_unit_test(test_extent_and_clear),
        cmocka_unit_test(test_grid_versions),
        cmocka_unit_test(test_meta),
    };
    /* on PostgreSQL: the tests that read nothing of SQLite's own (files, pragmas, R*Trees).
     * Not (yet) test_reader_sees_committed_data and test_grid_versions: the PostgreSQL inserter
     * needs a write transaction and reports a duplicate id when its COPY is sent, not at add. */
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test(test_migration_idempotent),
        cmocka_unit_test(test_roundtrip_every_layer),
        cmocka_unit_test(test_change_log),
        cmocka_unit_test(test_extent_and_clear),
        cmocka_unit_test(test_meta),
    };
    if (gw_test_on_postgres())
        return cmocka_run_group_tests_name("store_pg", pg_tests, setup, teardown);
    return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
