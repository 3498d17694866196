/* sqlite_open.c — the SQLite engine's connection: open (identify the file, WAL, migrations in
 * one transaction), close, and the helpers every sqlite_*.c file shares (store_internal.h).
 *
 * Every SQLite/SpatiaLite failure is turned into a gw_status by st_fail and nowhere else.
 * On-disk identity: PRAGMA application_id == GW_APP_ID marks a gridwatch file and
 * PRAGMA user_version holds its schema version (meta 'format' = 'gridwatch' is informative only).
 * Migrations are data/schema/NNN_name.sql, compiled in by data/embed_sql.cmake; a SELECT in a
 * migration that returns 0 (AddGeometryColumn, CreateSpatialIndex …) counts as a failure. */
#include "sqlite_bulk.h"
#include "store_sqlite.h"

#include <pthread.h>
#include <spatialite.h> /* after sqlite3.h, which it needs */
#include <sys/stat.h>
#include <time.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "gwdb": written to the SQLite header by the first migration transaction. */
#define GW_APP_ID 0x67776462

struct gw_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct gw_migration st_migrations[];
extern const size_t st_migration_count;

/* ---- the SQLite boundary ------------------------------------------------------------------- */

gw_status st_fail(gw_store *s, const char *what)
{
    return gw_ctx_error(s->ctx, GW_ERR_DB, "%s: %s (database %s)", what, sqlite3_errmsg(s->db),
                        s->path);
}

gw_status st_exec(gw_store *s, const char *sql, const char *what)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) == SQLITE_OK) return GW_OK;
    gw_status st = gw_ctx_error(s->ctx, GW_ERR_DB, "%s: %s (database %s)", what,
                                err ? err : sqlite3_errmsg(s->db), s->path);
    sqlite3_free(err);
    return st;
}

gw_status st_prepare(gw_store *s, const char *sql, unsigned flags, sqlite3_stmt **out,
                     const char *what)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, flags, out, NULL) == SQLITE_OK) return GW_OK;
    *out = NULL;
    return st_fail(s, what);
}

/* A statement kept for the life of the store (reset before use). */
gw_status st_cached(gw_store *s, int slot, const char *sql, sqlite3_stmt **out)
{
    if (!s->stmt[slot]) {
        gw_status st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &s->stmt[slot], sql);
        if (st) return st;
    }
    sqlite3_reset(s->stmt[slot]);
    sqlite3_clear_bindings(s->stmt[slot]);
    *out = s->stmt[slot];
    return GW_OK;
}

/* Run a one-row, one-integer query; *found = 0 when it returns no row or NULL. */
gw_status st_query_int(gw_store *s, const char *sql, int64_t *out, int *found)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, sql);
    if (st) return st;
    int rc = sqlite3_step(q);
    *out = 0;
    if (found) *found = 0;
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
            *out = sqlite3_column_int64(q, 0);
            if (found) *found = 1;
        }
    } else if (rc != SQLITE_DONE) {
        st = st_fail(s, sql);
    }
    sqlite3_finalize(q);
    return st;
}

void st_now_iso(char *buf, size_t cap) { gw_time_format((int64_t)time(NULL), buf, cap); }

gw_status st_check_layer(gw_store *s, gw_layer layer)
{
    if (!s) return GW_ERR_ARG;
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    return GW_OK;
}

/* Switch this connection's triggers on or off; returns the previous state (1 = on).
 * SpatiaLite keeps the spatial index by per-row triggers (~10 µs of SQL each); bulk paths turn
 * them off and maintain the R*Tree and geometry_columns_time themselves. */
int st_set_triggers(gw_store *s, int on)
{
    int was = 1;
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &was);
    if (was != on) sqlite3_db_config(s->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, NULL);
    return was;
}

/* Record in geometry_columns_time what the bypassed triggers would have (best effort). */
void st_touch_layer_time(gw_store *s, gw_layer layer, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE geometry_columns_time SET %s = strftime('%%Y-%%m-%%dT%%H:%%M:"
             "%%fZ', 'now') WHERE f_table_name = '%s' AND f_geometry_column = 'geom'",
             column, gw_layer_name(layer));
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* ---- open, migrate, close ------------------------------------------------------------------ */

static pthread_once_t splite_once = PTHREAD_ONCE_INIT;
static void splite_init_once(void) { spatialite_initialize(); }

/* Rows of a migration's SELECTs: a lone 0 (AddGeometryColumn failed …) aborts the migration. */
static int migration_row(void *user, int ncol, char **vals, char **names)
{
    if (ncol == 1 && vals[0] && strcmp(vals[0], "0") == 0) {
        snprintf(user, 256, "%s returned 0", names[0]);
        return 1;
    }
    return 0;
}

/* Read application_id, user_version and the number of tables. */
static gw_status read_identity(gw_store *s, int64_t *app, int64_t *ver, int64_t *tables)
{
    gw_status st = st_query_int(s, "PRAGMA application_id", app, NULL);
    if (!st) st = st_query_int(s, "PRAGMA user_version", ver, NULL);
    if (!st)
        st = st_query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", tables,
                          NULL);
    return st;
}

/* Classify an opened file: 0 = gridwatch, 1 = empty (needs init); errors for anything else. */
static gw_status classify(gw_store *s, int64_t app, int64_t ver, int64_t tables, int *empty)
{
    *empty = 0;
    if (app == GW_APP_ID) {
        if (ver > GW_SCHEMA_VERSION)
            return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                                "database %s has schema version %lld, newer than this build "
                                "(%d); upgrade gridwatch to open it",
                                s->path, (long long)ver, GW_SCHEMA_VERSION);
        if (ver < 1)
            return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                                "database %s is marked as gridwatch but has no schema version "
                                "(a damaged or half-written file)",
                                s->path);
        return GW_OK;
    }
    if (app != 0)
        return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                            "%s is a SQLite database of another application (application_id "
                            "0x%08llx), not a gridwatch database",
                            s->path, (unsigned long long)app);
    if (tables > 0 || ver != 0)
        return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                            "%s is a SQLite database with %lld table(s) but no gridwatch marker; "
                            "not a gridwatch database (use a new file and run gridwatch init)",
                            s->path, (long long)tables);
    *empty = 1;
    return GW_OK;
}

/* Bring the file to GW_SCHEMA_VERSION in one IMMEDIATE transaction. */
static gw_status migrate(gw_store *s)
{
    int top = 0;
    for (size_t i = 0; i < st_migration_count; i++)
        if (st_migrations[i].version == GW_SCHEMA_VERSION) top = 1;
    if (!top)
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL,
                            "this build has no migration for schema "
                            "version %d (data/schema/%03d_*.sql)",
                            GW_SCHEMA_VERSION, GW_SCHEMA_VERSION);
    gw_status st = st_exec(s, "BEGIN IMMEDIATE", "cannot start the migration transaction");
    if (st) return st;
    int64_t app, ver, tables;
    int empty;
    /* Re-read under the write lock: another process may have initialised the file meanwhile. */
    st = read_identity(s, &app, &ver, &tables);
    if (!st) st = classify(s, app, ver, tables, &empty);
    if (!st && empty) {
        int64_t ok = 0;
        /* No argument: run inside our transaction (the (1) form would BEGIN its own). */
        st = st_query_int(s, "SELECT InitSpatialMetadata()", &ok, NULL);
        if (!st && ok != 1)
            st = gw_ctx_error(s->ctx, GW_ERR_DB, "InitSpatialMetadata() failed on %s", s->path);
        ver = 0;
    }
    for (size_t i = 0; !st && i < st_migration_count; i++) {
        const struct gw_migration *m = &st_migrations[i];
        if (i > 0 && m->version <= st_migrations[i - 1].version) {
            st = gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "migrations out of order at %s", m->name);
            break;
        }
        if (m->version <= ver || m->version > GW_SCHEMA_VERSION) continue;
        char why[256] = "";
        char *err = NULL;
        if (sqlite3_exec(s->db, m->sql, migration_row, why, &err) != SQLITE_OK)
            st = gw_ctx_error(s->ctx, GW_ERR_DB, "migration %s failed on %s: %s", m->name, s->path,
                              why[0] ? why
                              : err  ? err
                                     : sqlite3_errmsg(s->db));
        sqlite3_free(err);
    }
    if (!st) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
                 GW_SCHEMA_VERSION, GW_APP_ID);
        st = st_exec(s, sql, "cannot stamp the schema version");
    }
    if (!st) st = st_exec(s, "COMMIT", "cannot commit the migration");
    if (st) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return st;
    }
    s->schema_version = GW_SCHEMA_VERSION;
    return GW_OK;
}

void gw_store_engine_versions(char *buf, size_t cap)
{
    if (cap)
        snprintf(buf, cap, "SpatiaLite %s\nSQLite %s\n", spatialite_version(),
                 sqlite3_libversion());
}

/* Identify the file before changing anything in it (WAL would rewrite a foreign header),
 * then switch a writable connection to WAL and set the connection options; *ver receives the
 * file's schema version. */
static gw_status sq_prepare_file(gw_store *s, const char *path, int flags, int64_t *ver_out)
{
    gw_ctx *ctx = s->ctx;
    int ro = s->readonly;
    int64_t app = 0, ver = 0, tables = 0;
    int empty = 0;
    gw_status st = GW_OK;
    int rc = sqlite3_exec(s->db, "PRAGMA application_id", NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA,
                          "%s is not a SQLite database (%s); not a gridwatch "
                          "database",
                          path, sqlite3_errmsg(s->db));
    else if (rc != SQLITE_OK)
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot read database %s: %s", path,
                          sqlite3_errmsg(s->db));
    if (!st) st = read_identity(s, &app, &ver, &tables);
    if (!st) st = classify(s, app, ver, tables, &empty);
    if (!st && empty && !(flags & GW_STORE_CREATE))
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA,
                          "database %s is empty, not initialised (run "
                          "gridwatch init)",
                          path);
    if (!st && ro && ver < GW_SCHEMA_VERSION)
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA,
                          "database %s has schema version %lld and needs a "
                          "migration to %d; open it read-write once",
                          path, (long long)ver, GW_SCHEMA_VERSION);
    if (!st && !ro) {
        int64_t dummy;
        sqlite3_stmt *q;
        st = st_prepare(s, "PRAGMA journal_mode = WAL", 0, &q, "cannot switch to WAL");
        if (!st) {
            if (sqlite3_step(q) != SQLITE_ROW) st = st_fail(s, "cannot switch to WAL");
            else if (sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "wal") != 0)
                st = gw_ctx_error(ctx, GW_ERR_DB,
                                  "database %s cannot use WAL mode (journal "
                                  "mode stays '%s')",
                                  path, sqlite3_column_text(q, 0));
            sqlite3_finalize(q);
        }
        if (!st) st = st_query_int(s, "PRAGMA synchronous = NORMAL", &dummy, NULL);
    }
    if (!st)
        st = st_exec(
            s, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
            "cannot set connection options");
    *ver_out = ver;
    return st;
}

gw_status st_sqlite_open(gw_ctx *ctx, const char *path, int flags, gw_store **out)
{
    if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_store_open: no output pointer");
    *out = NULL;
    if (!path || !*path) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_store_open: no database path");
    int ro = (flags & GW_STORE_READONLY) != 0;
    if (ro && (flags & GW_STORE_CREATE))
        return gw_ctx_error(ctx, GW_ERR_ARG, "cannot create %s read-only", path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || !(flags & GW_STORE_CREATE))
            return gw_ctx_error(ctx, GW_ERR_IO, "no such database %s: %s (run gridwatch init)",
                                path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        return gw_ctx_error(ctx, GW_ERR_IO, "%s is a directory, not a database file", path);
    }

    gw_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory opening %s", path);
    }
    s->ctx = ctx;
    s->be = &st_sqlite_backend;
    s->readonly = ro;
    int oflags = ro ? SQLITE_OPEN_READONLY
                    : SQLITE_OPEN_READWRITE | ((flags & GW_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        gw_status st = gw_ctx_error(ctx, GW_ERR_IO, "cannot open database %s: %s", path,
                                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sq_close(s);
        return st;
    }
    sqlite3_extended_result_codes(s->db, 1);
    pthread_once(&splite_once, splite_init_once);
    s->splite = spatialite_alloc_connection();
    if (!s->splite) {
        sq_close(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "cannot allocate the SpatiaLite cache for %s", path);
    }
    spatialite_init_ex(s->db, s->splite, 0);
    spatialite_set_silent_mode(s->splite);
    /* after SpatiaLite's init, which sets its own 5 s busy timeout on the connection */
    sqlite3_busy_timeout(s->db, GW_STORE_WRITE_WAIT_MS);

    int64_t ver = 0;
    gw_status st = sq_prepare_file(s, path, flags, &ver);
    s->schema_version = (int)ver;
    if (!st && !ro && ver < GW_SCHEMA_VERSION) st = migrate(s);
    if (!st && (flags & GW_STORE_QUERY_ONLY))
        st = st_exec(s, "PRAGMA query_only = 1", "cannot make the connection query-only");
    if (!st && !ro && (flags & GW_STORE_POSITIONS_WRITER)) {
        s->pos_writer = 1;
        st_set_triggers(s, 0); /* for good: sq_dispatch_positions keeps what they keep */
        st = st_ckpt_start(s);
    }
    if (st) {
        sq_close(s);
        return st;
    }
    *out = s;
    return GW_OK;
}

void sq_close(gw_store *s)
{
    if (!s) return;
    st_ckpt_stop(s);
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        st_wlock_drop(s);
        if (sqlite3_close(s->db) != SQLITE_OK) {
            /* An inserter or cursor is still alive: a caller bug.  Defer the close and keep the
             * SpatiaLite cache alive for the zombie connection rather than free it under it. */
            sqlite3_close_v2(s->db);
            s->splite = NULL;
        }
    }
    if (s->splite) spatialite_cleanup_ex(s->splite);
    free(s->path);
    free(s);
}

/* store_sqlite.h: for tests only. */
sqlite3 *st_sqlite_db(gw_store *s) { return s ? s->db : NULL; }
