/* store.c — the durable store: one SpatiaLite file (WAL) with the five layers, grid versions,
 * the audit log and the change log, behind the contract of include/gridwatch/store.h.
 *
 * Every SQLite/SpatiaLite failure is turned into a gw_status here (db_fail), and nowhere else.
 *
 * On-disk identity: PRAGMA application_id == GW_APP_ID marks a gridwatch file and
 * PRAGMA user_version holds its schema version (meta 'format' = 'gridwatch' is informative only).
 * Migrations are data/schema/NNN_name.sql, compiled in by data/embed_sql.cmake; a SELECT in a
 * migration that returns 0 (AddGeometryColumn, CreateSpatialIndex …) counts as a failure.
 *
 * Bulk loads: while a gw_inserter is alive, this connection's triggers are off (SpatiaLite keeps
 * its R*Tree with per-row triggers costing ~20 µs a row).  The inserter writes its rows' index
 * entries at commit (or at its destroy) and, loading into an empty point layer, builds that
 * layer's secondary indexes then too.  So: destroy inserters before running other geometry SQL
 * on the same connection; queries in the loading transaction do not see the new index entries. */
#include "store_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <spatialite.h> /* after sqlite3.h, which it needs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* "gwdb": written to the SQLite header by the first migration transaction. */
#define GW_APP_ID 0x67776462
#define GW_MAX_FIELDS 16
#define POINT_BLOB_LEN 60

struct gw_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct gw_migration gw_migrations[];
extern const size_t gw_migration_count;



/* One R*Tree cell: a rowid (or child node number) and its box, float32 rounded outward. */
typedef struct rt_entry {
    int64_t id;
    float b[4]; /* xmin, xmax, ymin, ymax: the column order of SpatiaLite's idx_* tables */
} rt_entry;

struct gw_inserter {
    gw_store *store;
    gw_inserter *next; /* the store's list of live inserters */
    gw_layer layer;
    sqlite3_stmt *st;
    sqlite3_stmt *rtree; /* one entry into the layer's spatial index (the R*Tree module) */
    sqlite3_stmt *mbr;   /* grids: the stored row's MBR */
    const gw_field *fields;
    size_t nf;
    int64_t grid_version;
    int64_t added;
    rt_entry *pend; /* index entries of this transaction's rows, written at commit/destroy */
    char *reindex;  /* CREATE INDEX statements to run at commit (see defer_indexes) */
    size_t npend, cap;
    double px, py; /* the point last bound */
    char timebuf[GW_MAX_FIELDS][32];
    unsigned char point[POINT_BLOB_LEN];
};

struct gw_cursor {
    gw_store *store;
    gw_layer layer;
    sqlite3_stmt *st;
    const gw_field *fields;
    size_t nf;
    gw_value vals[GW_MAX_FIELDS];
};

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
static void touch_layer_time(gw_store *s, gw_layer layer, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE geometry_columns_time SET %s = strftime('%%Y-%%m-%%dT%%H:%%M:"
             "%%fZ', 'now') WHERE f_table_name = '%s' AND f_geometry_column = 'geom'", column,
             gw_layer_name(layer));
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
    if (!st) st = st_query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", tables, NULL);
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
                                "(a damaged or half-written file)", s->path);
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
    for (size_t i = 0; i < gw_migration_count; i++)
        if (gw_migrations[i].version == GW_SCHEMA_VERSION) top = 1;
    if (!top)
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "this build has no migration for schema "
                            "version %d (data/schema/%03d_*.sql)", GW_SCHEMA_VERSION,
                            GW_SCHEMA_VERSION);
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
    for (size_t i = 0; !st && i < gw_migration_count; i++) {
        const struct gw_migration *m = &gw_migrations[i];
        if (i > 0 && m->version <= gw_migrations[i - 1].version) {
            st = gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "migrations out of order at %s", m->name);
            break;
        }
        if (m->version <= ver || m->version > GW_SCHEMA_VERSION) continue;
        char why[256] = "";
        char *err = NULL;
        if (sqlite3_exec(s->db, m->sql, migration_row, why, &err) != SQLITE_OK)
            st = gw_ctx_error(s->ctx, GW_ERR_DB, "migration %s failed on %s: %s", m->name, s->path,
                              why[0] ? why : err ? err : sqlite3_errmsg(s->db));
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

gw_status gw_store_open(gw_ctx *ctx, const char *path, int flags, gw_store **out)
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
    s->be = &gw_sqlite_backend;
    s->readonly = ro;
    int oflags = ro ? SQLITE_OPEN_READONLY
                    : SQLITE_OPEN_READWRITE | ((flags & GW_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        gw_status st = gw_ctx_error(ctx, GW_ERR_IO, "cannot open database %s: %s", path,
                                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        gw_store_close(s);
        return st;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 5000);
    pthread_once(&splite_once, splite_init_once);
    s->splite = spatialite_alloc_connection();
    if (!s->splite) {
        gw_store_close(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "cannot allocate the SpatiaLite cache for %s", path);
    }
    spatialite_init_ex(s->db, s->splite, 0);
    spatialite_set_silent_mode(s->splite);

    /* Identify the file before changing anything in it (WAL would rewrite a foreign header). */
    int64_t app = 0, ver = 0, tables = 0;
    int empty = 0;
    gw_status st = GW_OK;
    int rc = sqlite3_exec(s->db, "PRAGMA application_id", NULL, NULL, NULL);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA, "%s is not a SQLite database (%s); not a gridwatch "
                          "database", path, sqlite3_errmsg(s->db));
    else if (rc != SQLITE_OK)
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot read database %s: %s", path,
                          sqlite3_errmsg(s->db));
    if (!st) st = read_identity(s, &app, &ver, &tables);
    if (!st) st = classify(s, app, ver, tables, &empty);
    if (!st && empty && !(flags & GW_STORE_CREATE))
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA, "database %s is empty, not initialised (run "
                          "gridwatch init)", path);
    if (!st && ro && ver < GW_SCHEMA_VERSION)
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA, "database %s has schema version %lld and needs a "
                          "migration to %d; open it read-write once", path, (long long)ver,
                          GW_SCHEMA_VERSION);
    if (!st && !ro) {
        int64_t dummy;
        sqlite3_stmt *q;
        st = st_prepare(s, "PRAGMA journal_mode = WAL", 0, &q, "cannot switch to WAL");
        if (!st) {
            if (sqlite3_step(q) != SQLITE_ROW)
                st = st_fail(s, "cannot switch to WAL");
            else if (sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "wal") != 0)
                st = gw_ctx_error(ctx, GW_ERR_DB, "database %s cannot use WAL mode (journal "
                                  "mode stays '%s')", path, sqlite3_column_text(q, 0));
            sqlite3_finalize(q);
        }
        if (!st) st = st_query_int(s, "PRAGMA synchronous = NORMAL", &dummy, NULL);
    }
    if (!st) st = st_exec(s, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
                       "cannot set connection options");
    s->schema_version = (int)ver;
    if (!st && !ro && ver < GW_SCHEMA_VERSION) st = migrate(s);
    if (st) {
        gw_store_close(s);
        return st;
    }
    *out = s;
    return GW_OK;
}

void gw_store_close(gw_store *s)
{
    if (!s) return;
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
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

sqlite3 *gw_store_db(gw_store *s) { return s ? s->db : NULL; }
gw_ctx *gw_store_ctx(gw_store *s) { return s ? s->ctx : NULL; }
const char *gw_store_path(const gw_store *s) { return s ? s->path : NULL; }
int gw_store_schema_version(const gw_store *s) { return s ? s->schema_version : 0; }

/* ---- the spatial index: R*Tree bulk load ---------------------------------------------------
 * SQLite's R*Tree inserts cost ~20 µs a row (ChooseLeaf, R* reinsert, a node rewrite each), far
 * too slow for a million points.  Inside a transaction the inserter only collects the entries;
 * at commit (or destroy) they are written either one by one (a few rows into a big index) or,
 * usually, by rebuilding the whole tree with Sort-Tile-Recursive packing straight into the
 * shadow tables, in the documented rtree format (ext/rtree/rtree.c): %_node(nodeno, data) with
 * big-endian [depth u16 (root only)][count u16][cells: rowid i64, xmin xmax ymin ymax f32],
 * every node the root's size, root = node 1; %_rowid(rowid, nodeno); %_parent(nodeno, parent).
 * Checked by SQLite's own rtreecheck() in the tests. */

static float f32_down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

static float f32_up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)(v & 0xff);
}

static int cmp_cx(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    float ca = x->b[0] + x->b[1], cb = y->b[0] + y->b[1];
    return (ca > cb) - (ca < cb);
}

static int cmp_cy(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    float ca = x->b[2] + x->b[3], cb = y->b[2] + y->b[3];
    return (ca > cb) - (ca < cb);
}

static int cmp_id(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct rt_writer {
    gw_store *s;
    sqlite3_stmt *node, *rowid, *parent;
    unsigned char *blob;
    int size;       /* bytes per node */
    int64_t *leaf;  /* (rowid, leaf node) pairs, written sorted: appends, not random inserts */
    size_t nleaf;
} rt_writer;

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Write one node and point its cells (rows or child nodes) back at it. */
static gw_status rt_node(rt_writer *w, int64_t no, int depth, const rt_entry *c, size_t n, int leaf)
{
    memset(w->blob, 0, (size_t)w->size);
    put_be(w->blob, no == 1 ? (uint64_t)depth : 0, 2);
    put_be(w->blob + 2, n, 2);
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = w->blob + 4 + 24 * i;
        put_be(p, (uint64_t)c[i].id, 8);
        for (int k = 0; k < 4; k++) {
            uint32_t u;
            memcpy(&u, &c[i].b[k], 4);
            put_be(p + 8 + 4 * k, u, 4);
        }
        if (leaf) {
            w->leaf[2 * w->nleaf] = c[i].id;
            w->leaf[2 * w->nleaf++ + 1] = no;
            continue;
        }
        sqlite3_bind_int64(w->parent, 1, c[i].id);
        sqlite3_bind_int64(w->parent, 2, no);
        int rc = sqlite3_step(w->parent);
        sqlite3_reset(w->parent);
        if (rc != SQLITE_DONE) return st_fail(w->s, "cannot write the spatial index");
    }
    sqlite3_bind_int64(w->node, 1, no);
    sqlite3_bind_blob(w->node, 2, w->blob, w->size, SQLITE_STATIC);
    int rc = sqlite3_step(w->node);
    sqlite3_reset(w->node);
    return rc == SQLITE_DONE ? GW_OK : st_fail(w->s, "cannot write the spatial index");
}

/* Sort-Tile-Recursive packing of n cells (sorted in place), bottom-up, root written as node 1. */
static gw_status rt_pack(rt_writer *w, rt_entry *cells, size_t n)
{
    const size_t M = (size_t)(w->size - 4) / 24;
    rt_entry *cur = cells;
    int64_t next = 2;
    gw_status st = GW_OK;
    for (int level = 0; !st; level++) {
        if (n <= M) {
            st = rt_node(w, 1, level, cur, n, level == 0);
            break;
        }
        size_t P = (n + M - 1) / M, S = (size_t)ceil(sqrt((double)P)), slice = S * M, groups = 0;
        for (size_t a = 0; a < n; a += slice) groups += ((n - a < slice ? n - a : slice) + M - 1) / M;
        rt_entry *up = malloc(groups * sizeof *up);
        if (!up) {
            st = gw_ctx_error(w->s->ctx, GW_ERR_NOMEM, "out of memory building the spatial index");
            break;
        }
        qsort(cur, n, sizeof *cur, cmp_cx);
        size_t g = 0;
        for (size_t a = 0; a < n && !st; a += slice) {
            size_t L = n - a < slice ? n - a : slice, k = (L + M - 1) / M;
            qsort(cur + a, L, sizeof *cur, cmp_cy);
            /* k groups of near-equal size keep every node at least half full. */
            for (size_t j = 0; j < k && !st; j++) {
                const rt_entry *c = cur + a + L * j / k;
                size_t cn = L * (j + 1) / k - L * j / k;
                rt_entry *u = &up[g++];
                u->id = next++;
                u->b[0] = u->b[2] = INFINITY;
                u->b[1] = u->b[3] = -INFINITY;
                for (size_t i = 0; i < cn; i++) {
                    u->b[0] = fminf(u->b[0], c[i].b[0]);
                    u->b[1] = fmaxf(u->b[1], c[i].b[1]);
                    u->b[2] = fminf(u->b[2], c[i].b[2]);
                    u->b[3] = fmaxf(u->b[3], c[i].b[3]);
                }
                st = rt_node(w, u->id, 0, c, cn, level == 0);
            }
        }
        if (cur != cells) free(cur);
        cur = up;
        n = groups;
    }
    if (cur != cells) free(cur);
    return st;
}

/* Rebuild a layer's R*Tree from its current entries (when keep) plus `add` (n of them). */
static gw_status rtree_rebuild(gw_store *s, gw_layer layer, rt_entry *add, size_t n, int keep)
{
    const char *name = gw_layer_name(layer);
    char sql[256];
    int64_t size = 0, have = 0;
    snprintf(sql, sizeof sql, "SELECT length(data) FROM \"idx_%s_geom_node\" WHERE nodeno = 1", name);
    gw_status st = st_query_int(s, sql, &size, NULL);
    if (!st && (size < 4 + 24 * 4 || size > 65536))
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "spatial index idx_%s_geom has a root node of %lld "
                          "bytes; run SELECT RecoverSpatialIndex() on %s", name, (long long)size,
                          s->path);
    if (!st && keep) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"idx_%s_geom_rowid\"", name);
        st = st_query_int(s, sql, &have, NULL);
    }
    if (st) return st;
    rt_entry *all = malloc(((size_t)have + n + 1) * sizeof *all);
    if (!all) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory rebuilding idx_%s_geom", name);
    size_t total = 0;
    if (have > 0) {
        /* Old entries whose rowid comes again in `add` are dropped (the new box wins). */
        qsort(add, n, sizeof *add, cmp_id);
        sqlite3_stmt *q;
        snprintf(sql, sizeof sql, "SELECT pkid, xmin, xmax, ymin, ymax FROM \"idx_%s_geom\"", name);
        st = st_prepare(s, sql, 0, &q, sql);
        while (!st && total < (size_t)have && sqlite3_step(q) == SQLITE_ROW) {
            rt_entry e = {sqlite3_column_int64(q, 0), {0}};
            for (int k = 0; k < 4; k++) e.b[k] = (float)sqlite3_column_double(q, k + 1);
            if (!bsearch(&e, add, n, sizeof *add, cmp_id)) all[total++] = e;
        }
        sqlite3_finalize(q);
    }
    if (n) memcpy(all + total, add, n * sizeof *add);
    total += n;
    rt_writer w = {s, NULL, NULL, NULL, calloc(1, (size_t)size), (int)size,
                   malloc((total + 1) * 2 * sizeof(int64_t)), 0};
    if (!st && (!w.blob || !w.leaf)) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    snprintf(sql, sizeof sql, "DELETE FROM \"idx_%s_geom_node\"; DELETE FROM \"idx_%s_geom_rowid\";"
             " DELETE FROM \"idx_%s_geom_parent\"", name, name, name);
    if (!st) st = st_exec(s, sql, "cannot reset the spatial index");
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_node\" (nodeno, data) VALUES (?1, ?2)", name);
    if (!st) st = st_prepare(s, sql, 0, &w.node, sql);
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_rowid\" (rowid, nodeno) VALUES (?1, ?2)", name);
    if (!st) st = st_prepare(s, sql, 0, &w.rowid, sql);
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_parent\" (nodeno, parentnode) VALUES "
             "(?1, ?2)", name);
    if (!st) st = st_prepare(s, sql, 0, &w.parent, sql);
    if (!st) st = rt_pack(&w, all, total);
    if (!st) qsort(w.leaf, w.nleaf, 2 * sizeof(int64_t), cmp_pair);
    for (size_t i = 0; !st && i < w.nleaf; i++) {
        sqlite3_bind_int64(w.rowid, 1, w.leaf[2 * i]);
        sqlite3_bind_int64(w.rowid, 2, w.leaf[2 * i + 1]);
        if (sqlite3_step(w.rowid) != SQLITE_DONE) st = st_fail(s, "cannot write the spatial index");
        sqlite3_reset(w.rowid);
    }
    free(w.leaf);
    sqlite3_finalize(w.node);
    sqlite3_finalize(w.rowid);
    sqlite3_finalize(w.parent);
    free(w.blob);
    free(all);
    return st;
}

/* Write an inserter's collected index entries: one by one into a big index, else rebuild. */
static gw_status flush_rtree(gw_inserter *ins)
{
    gw_store *s = ins->store;
    size_t n = ins->npend;
    if (!n) return GW_OK;
    ins->npend = 0;
    char sql[128];
    int64_t have = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"idx_%s_geom_rowid\"", gw_layer_name(ins->layer));
    gw_status st = st_query_int(s, sql, &have, NULL);
    if (st) return st;
    if ((uint64_t)have < 8 * (uint64_t)n) return rtree_rebuild(s, ins->layer, ins->pend, n, 1);
    for (size_t i = 0; i < n && !st; i++) {
        sqlite3_bind_int64(ins->rtree, 1, ins->pend[i].id);
        for (int k = 0; k < 4; k++) sqlite3_bind_double(ins->rtree, k + 2, ins->pend[i].b[k]);
        if (sqlite3_step(ins->rtree) != SQLITE_DONE) st = st_fail(s, "cannot update the spatial index");
        sqlite3_reset(ins->rtree);
    }
    return st;
}

/* Everything an inserter put off until commit: index entries, then dropped secondary indexes. */
static gw_status flush_pending(gw_inserter *ins)
{
    gw_status st = flush_rtree(ins);
    char *sql = ins->reindex;
    ins->reindex = NULL;
    if (!st && sql) st = st_exec(ins->store, sql, "cannot rebuild the layer's indexes");
    free(sql);
    return st;
}

/* Loading into an empty point layer inside a transaction: drop its secondary indexes now and
 * build them at commit.  CREATE INDEX sorts once; a million random B-tree inserts into three
 * text indexes cost about twice as much.  The UNIQUE(id) index stays (duplicates are found as
 * they come).  Transactional DDL: a rollback brings the indexes back by itself. */
static void defer_indexes(gw_inserter *ins)
{
    gw_store *s = ins->store;
    if (ins->layer == GW_LAYER_GRIDS || sqlite3_get_autocommit(s->db)) return;
    char sql[256];
    int64_t any = 1;
    snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM \"%s\")", gw_layer_name(ins->layer));
    if (st_query_int(s, sql, &any, NULL) || any) return;
    sqlite3_stmt *q;
    if (st_prepare(s, "SELECT group_concat(sql, '; '), group_concat('DROP INDEX \"' || name || '\"', "
                "'; ') FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT "
                "NULL", 0, &q, "indexes") != GW_OK)
        return;
    sqlite3_bind_text(q, 1, gw_layer_name(ins->layer), -1, SQLITE_STATIC);
    char *create = NULL, *drop = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        create = strdup((const char *)sqlite3_column_text(q, 0));
        drop = sqlite3_mprintf("SAVEPOINT gw_defer; %s; RELEASE gw_defer",
                               (const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q); /* before the DROPs: a live statement on the schema would block them */
    if (create && drop && sqlite3_exec(s->db, drop, NULL, NULL, NULL) == SQLITE_OK) {
        ins->reindex = create;
        create = NULL;
    } else if (create && drop) {
        /* e.g. a statement still reading the table: keep the indexes, load the slow way */
        sqlite3_exec(s->db, "ROLLBACK TO gw_defer; RELEASE gw_defer", NULL, NULL, NULL);
    }
    free(create);
    sqlite3_free(drop);
    gw_ctx_clear_error(s->ctx);
}

static gw_status flush_all(gw_store *s)
{
    gw_status st = GW_OK;
    for (gw_inserter *i = s->inserters; i && !st; i = i->next) st = flush_pending(i);
    return st;
}

/* ---- transactions -------------------------------------------------------------------------- */

gw_status gw_store_begin(gw_store *s)
{
    if (!s) return GW_ERR_ARG;
    if (!sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "a transaction is already open on %s", s->path);
    s->deferred = GW_OK;
    return st_exec(s, "BEGIN IMMEDIATE", "cannot begin a write transaction");
}

gw_status gw_store_commit(gw_store *s)
{
    if (!s) return GW_ERR_ARG;
    if (sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "commit without an open transaction on %s", s->path);
    if (s->deferred)
        return gw_ctx_error(s->ctx, s->deferred, "cannot commit: an earlier spatial index update "
                            "failed in this transaction; roll back (database %s)", s->path);
    gw_status st = flush_all(s);
    if (st) return st;
    return st_exec(s, "COMMIT", "cannot commit");
}

void gw_store_rollback(gw_store *s)
{
    if (!s || !s->db) return;
    for (gw_inserter *i = s->inserters; i; i = i->next) {
        i->npend = 0;
        free(i->reindex); /* the rollback restores the dropped indexes */
        i->reindex = NULL;
    }
    s->deferred = GW_OK;
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- meta ---------------------------------------------------------------------------------- */

gw_status gw_store_meta_get(gw_store *s, const char *key, char *buf, size_t cap)
{
    if (!s) return GW_ERR_ARG;
    if (!key || !buf || cap == 0)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_meta_get: no key or buffer");
    sqlite3_stmt *q;
    gw_status st = st_cached(s, ST_META_GET, "SELECT value FROM meta WHERE key = ?1", &q);
    if (st) return st;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        size_t len = v ? (size_t)sqlite3_column_bytes(q, 0) : 0;
        if (len >= cap)
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "meta '%s' is %zu bytes, buffer holds %zu",
                              key, len, cap - 1);
        else {
            if (len) memcpy(buf, v, len);
            buf[len] = '\0';
        }
    } else if (rc == SQLITE_DONE) {
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no meta key '%s' in %s", key, s->path);
    } else {
        st = st_fail(s, "cannot read meta");
    }
    sqlite3_reset(q);
    return st;
}

gw_status gw_store_meta_set(gw_store *s, const char *key, const char *value)
{
    if (!s) return GW_ERR_ARG;
    if (!key || !*key) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_meta_set: no key");
    sqlite3_stmt *q;
    gw_status st = st_cached(s, ST_META_SET,
                          "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value", &q);
    if (st) return st;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (value) sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write meta");
    sqlite3_reset(q);
    return st;
}

gw_status gw_store_metric_srid(gw_store *s, int *srid)
{
    if (!s || !srid) return GW_ERR_ARG;
    char buf[32];
    *srid = 0;
    gw_status st = gw_store_meta_get(s, "metric_srid", buf, sizeof buf);
    if (st == GW_ERR_NOT_FOUND) {
        gw_ctx_clear_error(s->ctx);
        return GW_OK;
    }
    if (st) return st;
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end || v < 0 || v > 999999)
        return gw_ctx_error(s->ctx, GW_ERR_FORMAT, "meta 'metric_srid' is '%s', not an EPSG code",
                            buf);
    *srid = (int)v;
    return GW_OK;
}

gw_status gw_store_set_metric_srid(gw_store *s, int srid)
{
    if (!s) return GW_ERR_ARG;
    if (srid <= 0 || srid > 999999)
        return gw_ctx_error(s->ctx, GW_ERR_RANGE, "metric SRID %d is not an EPSG code", srid);
    char buf[16];
    snprintf(buf, sizeof buf, "%d", srid);
    return gw_store_meta_set(s, "metric_srid", buf);
}

/* The published grid-set version (meta 'grid_version'; 1 when absent). */
gw_status st_grid_version(gw_store *s, int64_t *v)
{
    int found;
    gw_status st = st_query_int(s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'grid_version'",
                             v, &found);
    if (!st && (!found || *v < 1)) *v = 1;
    return st;
}

/* ---- counts, extent, clear ----------------------------------------------------------------- */

/* Run "<select> FROM <layer> [WHERE version = current]" prepared; caller steps and finalizes. */
static gw_status layer_query(gw_store *s, gw_layer layer, const char *select, const char *suffix,
                             sqlite3_stmt **q)
{
    char sql[1024];
    int64_t gv = 0;
    if (layer == GW_LAYER_GRIDS) {
        gw_status st = st_grid_version(s, &gv);
        if (st) return st;
    }
    snprintf(sql, sizeof sql, "%s FROM \"%s\"%s%s", select, gw_layer_name(layer),
             layer == GW_LAYER_GRIDS ? " WHERE version = ?1" : "", suffix);
    gw_status st = st_prepare(s, sql, 0, q, sql);
    if (!st && layer == GW_LAYER_GRIDS) sqlite3_bind_int64(*q, 1, gv);
    return st;
}

gw_status gw_store_count(gw_store *s, gw_layer layer, int64_t *n)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!n) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_count: no output");
    sqlite3_stmt *q;
    if ((st = layer_query(s, layer, "SELECT count(*)", "", &q))) return st;
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        st = st_fail(s, "cannot count rows");
    sqlite3_finalize(q);
    return st;
}

gw_status gw_store_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_extent: no output");
    sqlite3_stmt *q;
    st = layer_query(s, layer, "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), "
                               "max(MbrMaxX(geom)), max(MbrMaxY(geom))", "", &q);
    if (st) return st;
    if (sqlite3_step(q) != SQLITE_ROW)
        st = st_fail(s, "cannot compute the extent");
    else if (sqlite3_column_type(q, 0) == SQLITE_NULL)
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "layer %s is empty", gw_layer_name(layer));
    else
        *out = (gw_bbox){sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                         sqlite3_column_double(q, 2), sqlite3_column_double(q, 3)};
    sqlite3_finalize(q);
    return st;
}

gw_status gw_store_clear(gw_store *s, gw_layer layer)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    gw_bbox box;
    int have_box = 0;
    st = gw_store_extent(s, layer, &box);
    if (st == GW_OK)
        have_box = 1;
    else if (st != GW_ERR_NOT_FOUND)
        return st;
    gw_ctx_clear_error(s->ctx);
    if ((st = flush_all(s))) return st;
    /* A savepoint makes the delete and its change-log row atomic even outside a transaction.
     * The R*Tree is emptied in one statement: the per-row triggers take minutes on 1 M rows. */
    if ((st = st_exec(s, "SAVEPOINT gw_clear", "cannot clear"))) return st;
    int was = st_set_triggers(s, 0);
    char sql[256];
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql, "DELETE FROM idx_grids_geom WHERE pkid IN (SELECT fid FROM grids "
                 "WHERE version = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                 "'grid_version'))");
    if (layer == GW_LAYER_GRIDS)
        st = st_exec(s, sql, "cannot clear the spatial index");
    else
        st = rtree_rebuild(s, layer, NULL, 0, 0); /* an empty tree, without per-row deletes */
    sqlite3_stmt *q;
    if (!st && !(st = layer_query(s, layer, "DELETE", "", &q))) {
        if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot clear the layer");
        sqlite3_finalize(q);
    }
    if (!st) touch_layer_time(s, layer, "last_delete");
    st_set_triggers(s, was);
    if (!st) st = gw_store_log_change(s, layer, "clear", NULL, have_box ? &box : NULL, NULL);
    if (st) {
        sqlite3_exec(s->db, "ROLLBACK TO gw_clear; RELEASE gw_clear", NULL, NULL, NULL);
        return st;
    }
    return st_exec(s, "RELEASE gw_clear", "cannot clear");
}

/* ---- change log and audit ------------------------------------------------------------------ */

gw_status gw_store_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                              const gw_bbox *bbox, int64_t *seq)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!op || !*op) return gw_ctx_error(s->ctx, GW_ERR_ARG, "change log: no operation given");
    sqlite3_stmt *q;
    st = st_cached(s, ST_LOG, "INSERT INTO changelog (at, layer, op, feature_id, minx, miny, maxx, "
                           "maxy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &q);
    if (st) return st;
    char at[32];
    st_now_iso(at, sizeof at);
    sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, gw_layer_name(layer), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, op, -1, SQLITE_STATIC);
    if (feature_id) sqlite3_bind_text(q, 4, feature_id, -1, SQLITE_STATIC);
    if (bbox) {
        sqlite3_bind_double(q, 5, bbox->minx);
        sqlite3_bind_double(q, 6, bbox->miny);
        sqlite3_bind_double(q, 7, bbox->maxx);
        sqlite3_bind_double(q, 8, bbox->maxy);
    }
    if (sqlite3_step(q) != SQLITE_DONE)
        st = st_fail(s, "cannot append to the change log");
    else if (seq)
        *seq = sqlite3_last_insert_rowid(s->db);
    sqlite3_reset(q);
    return st;
}

gw_status gw_store_last_seq(gw_store *s, int64_t *seq)
{
    if (!s || !seq) return GW_ERR_ARG;
    /* sqlite_sequence keeps the high-water mark even if old log rows are pruned. */
    return st_query_int(s, "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = "
                        "'changelog'), 0), COALESCE((SELECT max(seq) FROM changelog), 0))",
                     seq, NULL);
}

gw_status gw_store_audit(gw_store *s, const char *who, const char *action, const char *detail)
{
    if (!s) return GW_ERR_ARG;
    if (!action || !*action) return gw_ctx_error(s->ctx, GW_ERR_ARG, "audit: no action given");
    sqlite3_stmt *q;
    gw_status st = st_cached(s, ST_AUDIT, "INSERT INTO audit_log (at, who, action, detail) "
                                       "VALUES (?1, ?2, ?3, ?4)", &q);
    if (st) return st;
    char at[32];
    st_now_iso(at, sizeof at);
    sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
    if (who) sqlite3_bind_text(q, 2, who, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
    if (detail) sqlite3_bind_text(q, 4, detail, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot append to the audit log");
    sqlite3_reset(q);
    return st;
}

/* ---- bulk insert --------------------------------------------------------------------------- */

/* Column list "id", "name", … of a layer into buf. */
static void column_list(const gw_field *f, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s\"%s\"", i ? ", " : "", f[i].name);
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* The SpatiaLite BLOB of a 2D point (60 bytes, host byte order, as gaiaMakePoint writes it):
 * 0x00, endian, srid i32, mbr 4×f64, 0x7C, class i32 (1 = POINT), x, y, 0xFE. */
static void point_blob(unsigned char *b, double x, double y, int32_t srid)
{
    const int32_t cls = 1;
    b[0] = 0x00;
    b[1] = host_is_le() ? 0x01 : 0x00;
    memcpy(b + 2, &srid, 4);
    memcpy(b + 6, &x, 8);
    memcpy(b + 14, &y, 8);
    memcpy(b + 22, &x, 8);
    memcpy(b + 30, &y, 8);
    b[38] = 0x7C;
    memcpy(b + 39, &cls, 4);
    memcpy(b + 43, &x, 8);
    memcpy(b + 51, &y, 8);
    b[59] = 0xFE;
}

static uint32_t wkb_u32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static double wkb_f64(const unsigned char *p, int le)
{
    unsigned char t[8];
    int swap = le != host_is_le();
    for (int i = 0; i < 8; i++) t[i] = swap ? p[7 - i] : p[i];
    double d;
    memcpy(&d, t, 8);
    return d;
}

/* Base geometry type of an ISO/OGC/EWKB header (1 Point … 7 Collection); 0 when unreadable.
 * *hdr receives the header length (5, or 9 with an EWKB SRID). */
static unsigned wkb_type(const unsigned char *w, size_t len, size_t *hdr)
{
    if (!w || len < 5 || w[0] > 1) return 0;
    uint32_t t = wkb_u32(w + 1, w[0]);
    *hdr = 5;
    if (t & 0x20000000u) *hdr = 9;
    t &= 0x0fffffffu;
    return t % 1000;
}

gw_status gw_store_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_inserter_create: no output");
    *out = NULL;
    gw_inserter *ins = calloc(1, sizeof *ins);
    if (!ins) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    ins->store = s;
    ins->layer = layer;
    ins->fields = gw_layer_fields(layer, &ins->nf);
    if (ins->nf > GW_MAX_FIELDS) {
        free(ins);
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "layer %s has too many fields",
                            gw_layer_name(layer));
    }
    if (layer == GW_LAYER_GRIDS && (st = st_grid_version(s, &ins->grid_version))) {
        free(ins);
        return st;
    }
    char cols[512], params[256], sql[1024];
    column_list(ins->fields, ins->nf, cols, sizeof cols);
    size_t used = 0;
    for (size_t i = 0; i < ins->nf; i++)
        used += (size_t)snprintf(params + used, sizeof params - used, "%s?%zu", i ? ", " : "", i + 1);
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql, "INSERT INTO grids (%s, version, geom) VALUES (%s, ?%zu, "
                 "CastToMultiPolygon(CastToXY(GeomFromWKB(?%zu, 4326))))",
                 cols, params, ins->nf + 1, ins->nf + 2);
    else
        snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (%s, geom) VALUES (%s, ?%zu)",
                 gw_layer_name(layer), cols, params, ins->nf + 1);
    /* Statements are compiled after the triggers are off, so they carry no trigger code. */
    if (s->bulk++ == 0) st_set_triggers(s, 0);
    defer_indexes(ins);
    st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &ins->st, "cannot prepare the insert");
    ins->next = s->inserters;
    s->inserters = ins;
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO \"idx_%s_geom\" (pkid, xmin, xmax, ymin, "
             "ymax) VALUES (?1, ?2, ?3, ?4, ?5)", gw_layer_name(layer));
    if (!st) st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &ins->rtree, "cannot prepare the "
                          "spatial index insert");
    if (!st && layer == GW_LAYER_GRIDS)
        st = st_prepare(s, "SELECT MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM "
                     "grids WHERE fid = ?1", SQLITE_PREPARE_PERSISTENT, &ins->mbr, "cannot "
                     "prepare the insert");
    if (st) {
        gw_inserter_destroy(ins);
        return st;
    }
    *out = ins;
    return GW_OK;
}

static const char *kind_name(gw_val_kind k)
{
    switch (k) {
    case GW_VAL_NULL: return "null";
    case GW_VAL_TEXT: return "text";
    case GW_VAL_INT: return "integer";
    case GW_VAL_REAL: return "real";
    }
    return "unknown";
}

static gw_status bind_values(gw_inserter *ins, const gw_value *v, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    for (size_t i = 0; i < ins->nf; i++) {
        int col = (int)i + 1, ok = 1;
        const gw_field *f = &ins->fields[i];
        if (v[i].kind == GW_VAL_NULL) {
            sqlite3_bind_null(ins->st, col);
            continue;
        }
        switch (f->type) {
        case GW_FT_TEXT:
            if ((ok = v[i].kind == GW_VAL_TEXT && v[i].s))
                sqlite3_bind_text(ins->st, col, v[i].s, -1, SQLITE_STATIC);
            break;
        case GW_FT_INT:
            if ((ok = v[i].kind == GW_VAL_INT)) sqlite3_bind_int64(ins->st, col, v[i].i);
            break;
        case GW_FT_REAL:
            if (v[i].kind == GW_VAL_REAL && !isfinite(v[i].d))
                return gw_ctx_error(ctx, GW_ERR_RANGE, "%s '%s': field %s is not a finite number",
                                    layer, id, f->name);
            if (v[i].kind == GW_VAL_REAL)
                sqlite3_bind_double(ins->st, col, v[i].d);
            else if (v[i].kind == GW_VAL_INT)
                sqlite3_bind_double(ins->st, col, (double)v[i].i);
            else
                ok = 0;
            break;
        case GW_FT_TIME:
            if ((ok = v[i].kind == GW_VAL_INT)) {
                gw_time_format(v[i].i, ins->timebuf[i], sizeof ins->timebuf[i]);
                sqlite3_bind_text(ins->st, col, ins->timebuf[i], -1, SQLITE_STATIC);
            }
            break;
        }
        if (!ok)
            return gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': field %s expects %s, got a %s value",
                                layer, id, f->name,
                                f->type == GW_FT_TIME ? "a time (integer Unix seconds)"
                                : f->type == GW_FT_TEXT ? "text"
                                : f->type == GW_FT_INT ? "an integer" : "a number",
                                v[i].kind == GW_VAL_TEXT && !v[i].s ? "NULL-text"
                                                                    : kind_name(v[i].kind));
    }
    return GW_OK;
}

static gw_status bind_geometry(gw_inserter *ins, const gw_feature *f, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    int col = (int)ins->nf + 1;
    size_t hdr = 0;
    if (ins->layer == GW_LAYER_GRIDS) {
        unsigned t = wkb_type(f->wkb, f->wkb_len, &hdr);
        if (!f->wkb)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grids '%s': no geometry", id);
        if (t != 3 && t != 6)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grids '%s': geometry is WKB type %u, "
                                "expected Polygon (3) or MultiPolygon (6)", id, t);
        sqlite3_bind_int64(ins->st, col, ins->grid_version);
        sqlite3_bind_blob(ins->st, col + 1, f->wkb, (int)f->wkb_len, SQLITE_STATIC);
        return GW_OK;
    }
    double x = f->x, y = f->y;
    if (f->wkb) {
        unsigned t = wkb_type(f->wkb, f->wkb_len, &hdr);
        if (t != 1 || f->wkb_len < hdr + 16)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s '%s': geometry is WKB type %u (%zu "
                                "bytes), expected a Point", layer, id, t, f->wkb_len);
        x = wkb_f64(f->wkb + hdr, f->wkb[0]);
        y = wkb_f64(f->wkb + hdr + 8, f->wkb[0]);
    }
    if (!isfinite(x) || !isfinite(y))
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s '%s': empty or non-finite point", layer, id);
    if (x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "%s '%s': point (%.8g, %.8g) is outside lon/lat "
                            "range (not EPSG:4326?)", layer, id, x, y);
    ins->px = x;
    ins->py = y;
    point_blob(ins->point, x, y, 4326);
    sqlite3_bind_blob(ins->st, col, ins->point, POINT_BLOB_LEN, SQLITE_STATIC);
    return GW_OK;
}

gw_status gw_inserter_add(gw_inserter *ins, const gw_feature *f)
{
    if (!ins) return GW_ERR_ARG;
    gw_store *s = ins->store;
    const char *layer = gw_layer_name(ins->layer);
    if (!f || !f->values) return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s: no feature values", layer);
    const gw_value *v = f->values;
    if (v[0].kind != GW_VAL_TEXT || !v[0].s || !v[0].s[0])
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s: a feature without an id (field id must be "
                            "non-empty text, got %s)", layer, kind_name(v[0].kind));
    const char *id = v[0].s;
    gw_status st = bind_values(ins, v, id);
    if (!st) st = bind_geometry(ins, f, id);
    if (st) return st;
    int rc = sqlite3_step(ins->st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(ins->st);
        rt_entry e = {sqlite3_last_insert_rowid(s->db), {0}};
        double box[4] = {ins->px, ins->px, ins->py, ins->py};
        rc = SQLITE_DONE;
        if (ins->mbr) {
            sqlite3_bind_int64(ins->mbr, 1, e.id);
            rc = sqlite3_step(ins->mbr) == SQLITE_ROW ? SQLITE_DONE : SQLITE_ERROR;
            for (int k = 0; k < 4; k++) box[k] = sqlite3_column_double(ins->mbr, k);
            sqlite3_reset(ins->mbr);
        }
        if (rc == SQLITE_DONE && !sqlite3_get_autocommit(s->db)) {
            /* In a transaction: collect, the index is written at commit (see flush_pending). */
            if (ins->npend == ins->cap) {
                size_t cap = ins->cap ? ins->cap * 2 : 1024;
                rt_entry *p = realloc(ins->pend, cap * sizeof *p);
                if (!p) rc = SQLITE_NOMEM;
                else ins->pend = p, ins->cap = cap;
            }
            e.b[0] = f32_down(box[0]);
            e.b[1] = f32_up(box[1]);
            e.b[2] = f32_down(box[2]);
            e.b[3] = f32_up(box[3]);
            if (rc == SQLITE_DONE) ins->pend[ins->npend++] = e;
        } else if (rc == SQLITE_DONE) {
            /* Autocommit: the row is already visible to others, so is its index entry. */
            sqlite3_bind_int64(ins->rtree, 1, e.id);
            for (int k = 0; k < 4; k++) sqlite3_bind_double(ins->rtree, k + 2, box[k]);
            rc = sqlite3_step(ins->rtree);
            sqlite3_reset(ins->rtree);
        }
        if (rc == SQLITE_DONE) {
            ins->added++;
            return GW_OK;
        }
        /* Keep row and index in step: take the row back out (no trigger runs for this). */
        st = gw_ctx_error(s->ctx, rc == SQLITE_NOMEM ? GW_ERR_NOMEM : GW_ERR_DB, "%s '%s': "
                          "spatial index insert failed: %s (database %s)", layer, id,
                          rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db), s->path);
        int64_t fid = e.id;
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE fid = %lld", layer, (long long)fid);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return st;
    }
    int ext = sqlite3_extended_errcode(s->db);
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        st = gw_ctx_error(s->ctx, GW_ERR_CONFLICT, "%s: duplicate id '%s'", layer, id);
        break;
    case SQLITE_CONSTRAINT_NOTNULL:
        st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s '%s': the geometry could not be read "
                          "(%s)", layer, id, sqlite3_errmsg(s->db));
        break;
    case SQLITE_CONSTRAINT_TRIGGER:
        st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s '%s': %s", layer, id, sqlite3_errmsg(s->db));
        break;
    case SQLITE_CONSTRAINT_CHECK:
        st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s '%s': a value is out of range (%s)", layer, id,
                          sqlite3_errmsg(s->db));
        break;
    default:
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "%s '%s': insert failed: %s (database %s)", layer, id,
                          sqlite3_errmsg(s->db), s->path);
    }
    sqlite3_reset(ins->st);
    return st;
}

void gw_inserter_destroy(gw_inserter *ins)
{
    if (!ins) return;
    gw_store *s = ins->store;
    /* A failed index write cannot be returned from here: it fails the next commit instead. */
    if (flush_pending(ins) != GW_OK && !s->deferred) s->deferred = gw_ctx_errcode(s->ctx);
    for (gw_inserter **p = &s->inserters; *p; p = &(*p)->next) {
        if (*p == ins) {
            *p = ins->next;
            break;
        }
    }
    sqlite3_finalize(ins->st);
    sqlite3_finalize(ins->rtree);
    sqlite3_finalize(ins->mbr);
    if (ins->added) touch_layer_time(s, ins->layer, "last_insert");
    if (--s->bulk == 0) st_set_triggers(s, 1);
    free(ins->pend);
    free(ins->reindex);
    free(ins);
}

/* ---- cursor -------------------------------------------------------------------------------- */

gw_status gw_store_cursor_create(gw_store *s, gw_layer layer, gw_cursor **out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_cursor_create: no output");
    *out = NULL;
    gw_cursor *cur = calloc(1, sizeof *cur);
    if (!cur) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    cur->store = s;
    cur->layer = layer;
    cur->fields = gw_layer_fields(layer, &cur->nf);
    if (cur->nf > GW_MAX_FIELDS) {
        free(cur);
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "layer %s has too many fields",
                            gw_layer_name(layer));
    }
    char cols[512], sel[700];
    column_list(cur->fields, cur->nf, cols, sizeof cols);
    snprintf(sel, sizeof sel, "SELECT fid, %s, AsBinary(geom)", cols);
    if ((st = layer_query(s, layer, sel, " ORDER BY id", &cur->st))) {
        free(cur);
        return st;
    }
    *out = cur;
    return GW_OK;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The stored form "YYYY-MM-DDTHH:MM:SSZ" without locale or allocation; 0 if not that shape. */
static int parse_stored_time(const char *t, int len, int64_t *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (len != 20) return 0;
    for (int i = 0; i < 20; i++) {
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return 0;
    }
#define D2(p) ((t[p] - '0') * 10 + (t[(p) + 1] - '0'))
    int y = D2(0) * 100 + D2(2), mo = D2(5), d = D2(8), h = D2(11), mi = D2(14), s = D2(17);
#undef D2
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 0;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return 1;
}

gw_status gw_cursor_next(gw_cursor *cur, gw_row *row)
{
    if (!cur || !row) return GW_ERR_ARG;
    gw_store *s = cur->store;
    int rc = sqlite3_step(cur->st);
    if (rc == SQLITE_DONE) return GW_ERR_NOT_FOUND;
    if (rc != SQLITE_ROW) return st_fail(s, "cannot read the next row");
    for (size_t i = 0; i < cur->nf; i++) {
        int col = (int)i + 1;
        gw_value *v = &cur->vals[i];
        *v = (gw_value){0};
        if (sqlite3_column_type(cur->st, col) == SQLITE_NULL) continue;
        switch (cur->fields[i].type) {
        case GW_FT_TEXT:
            v->kind = GW_VAL_TEXT;
            v->s = (const char *)sqlite3_column_text(cur->st, col);
            break;
        case GW_FT_INT:
            v->kind = GW_VAL_INT;
            v->i = sqlite3_column_int64(cur->st, col);
            break;
        case GW_FT_REAL:
            v->kind = GW_VAL_REAL;
            v->d = sqlite3_column_double(cur->st, col);
            break;
        case GW_FT_TIME: {
            const char *t = (const char *)sqlite3_column_text(cur->st, col);
            v->kind = GW_VAL_INT;
            if (!parse_stored_time(t, sqlite3_column_bytes(cur->st, col), &v->i) &&
                gw_time_parse(s->ctx, t, "UTC", &v->i) != GW_OK)
                return gw_ctx_error(s->ctx, GW_ERR_FORMAT, "%s row %lld: field %s holds '%s', "
                                    "not an ISO 8601 time", gw_layer_name(cur->layer),
                                    (long long)sqlite3_column_int64(cur->st, 0),
                                    cur->fields[i].name, t);
            break;
        }
        }
    }
    /* Text columns are fetched before the blob so that no earlier pointer is invalidated. */
    int gcol = (int)cur->nf + 1;
    row->fid = sqlite3_column_int64(cur->st, 0);
    row->values = cur->vals;
    row->wkb = sqlite3_column_blob(cur->st, gcol);
    row->wkb_len = (size_t)sqlite3_column_bytes(cur->st, gcol);
    return GW_OK;
}

void gw_cursor_destroy(gw_cursor *cur)
{
    if (!cur) return;
    sqlite3_finalize(cur->st);
    free(cur);
}
