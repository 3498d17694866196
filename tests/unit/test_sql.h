/* test_sql.h — for tests that check what a store wrote by reading its tables directly, on
 * either engine: one query's first value as an integer, a double or text.  SQLite is read
 * through the store's own connection (store_sqlite.h); PostgreSQL through a connection of its
 * own to the store's URL (an independent reading of committed rows).  Each helper takes the
 * SQLite statement and, where the dialects differ, the PostgreSQL one (NULL: the same text).
 * Static inline functions: include it in one test file. */
#ifndef GW_TEST_SQL_H
#define GW_TEST_SQL_H

#include "store_sqlite.h"
#include "testutil.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGconn *tsql_conn;
static char tsql_url[512];

static inline void tsql_close(void)
{
    if (tsql_conn) PQfinish(tsql_conn);
    tsql_conn = NULL;
}

static inline PGconn *tsql_pg(gw_store *s)
{
    const char *url = gw_store_path(s);
    if (tsql_conn && strcmp(url, tsql_url) == 0) return tsql_conn;
    if (!tsql_url[0]) atexit(tsql_close);
    tsql_close();
    snprintf(tsql_url, sizeof tsql_url, "%s", url);
    tsql_conn = PQconnectdb(url);
    if (PQstatus(tsql_conn) != CONNECTION_OK) fail_msg("cannot connect to %s", url);
    return tsql_conn;
}

/* Run sql (SQLite) or pg (PostgreSQL; NULL: sql); the first value as text into a static buffer,
 * "NULL" for NULL.  A statement without rows gives "" (tsql_exec). */
static inline const char *tsql_text(gw_store *s, const char *sql, const char *pg)
{
    static char buf[1024];
    buf[0] = '\0';
    if (gw_test_on_postgres()) {
        PGresult *r = PQexec(tsql_pg(s), pg ? pg : sql);
        ExecStatusType t = PQresultStatus(r);
        if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK)
            fail_msg("%s: %s", pg ? pg : sql, PQresultErrorMessage(r));
        if (t == PGRES_TUPLES_OK) {
            if (PQntuples(r) < 1) fail_msg("%s: no row", pg ? pg : sql);
            snprintf(buf, sizeof buf, "%s", PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
        }
        PQclear(r);
        return buf;
    }
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st_sqlite_db(s), sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(st_sqlite_db(s)));
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(buf, sizeof buf, "%s", t ? t : "NULL");
    } else if (rc != SQLITE_DONE || sqlite3_column_count(q) > 0) {
        fail_msg("%s: %s", sql, rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(st_sqlite_db(s)));
    }
    sqlite3_finalize(q);
    return buf;
}

/* A statement whose result is not needed (a DELETE planting a state). */
static inline void tsql_exec(gw_store *s, const char *sql, const char *pg)
{
    tsql_text(s, sql, pg);
}

/* The first value as an integer ('t'/'f' of a PostgreSQL boolean as 1/0). */
static inline int64_t tsql_int(gw_store *s, const char *sql, const char *pg)
{
    const char *t = tsql_text(s, sql, pg);
    if (strcmp(t, "t") == 0) return 1;
    if (strcmp(t, "f") == 0) return 0;
    return strtoll(t, NULL, 10);
}

/* The first value as a double, exactly (PostgreSQL prints float8 so that it reads back to the
 * same double; SQLite's text of a REAL would round, so its value is read as a double). */
static inline double tsql_real(gw_store *s, const char *sql, const char *pg)
{
    if (gw_test_on_postgres()) return strtod(tsql_text(s, sql, pg), NULL);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st_sqlite_db(s), sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(st_sqlite_db(s)));
    if (sqlite3_step(q) != SQLITE_ROW) fail_msg("%s: no row", sql);
    double v = sqlite3_column_double(q, 0);
    sqlite3_finalize(q);
    return v;
}

#endif
