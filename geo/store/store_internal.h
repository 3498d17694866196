/* store_internal.h — inside the store room only: the SQLite store's state and the helpers every
 * sqlite_*.c file of the room shares (one error convention: a failed statement becomes GW_ERR_DB
 * with SQLite's message and the file's path, through st_fail).  Nothing outside geo/store/ may
 * include this file or sqlite3.h; the rest of gridwatch reaches the store through the
 * gridwatch/store*.h headers, which a second engine (backend.h) implements too. */
#ifndef GW_STORE_INTERNAL_H
#define GW_STORE_INTERNAL_H

#include "gridwatch/store.h"
#include "backend.h"

#include <sqlite3.h>

/* Statements cached for the life of a connection (st_cached slots). */
enum {
    ST_META_GET,
    ST_META_SET,
    ST_LOG,
    ST_AUDIT,
    ST_CHANGES,
    ST_CHANGES_UNTIL,
    ST_CHANGES_AFTER,
    ST_POS_FIND,   /* sqlite_dispatch.c: a team's fid and time by id */
    ST_POS_UPDATE, /* its point and time by fid */
    ST_POS_RTREE,  /* its R*Tree entry */
    ST_POS_LOG,    /* a full chunk of change-log rows */
    ST_POS_TOUCH,  /* geometry_columns_time */
    ST_COUNT
};

struct gw_store {
    const gw_store_backend *be; /* the engine behind this store (backend.h) */
    gw_ctx *ctx;
    sqlite3 *db;
    void *splite; /* SpatiaLite per-connection cache */
    char *path;
    int schema_version;
    int readonly;
    int bulk; /* live inserters: while > 0 SpatiaLite's per-row triggers are switched off */
    gw_inserter *inserters;
    gw_status deferred; /* an error found where it could not be returned (inserter destroy) */
    sqlite3_stmt *stmt[ST_COUNT];
    void *pg;       /* the PostgreSQL engine's state (pg_internal.h); NULL for SQLite */
    void *wlock;    /* this file's queue of the process's writers (sqlite_wlock.c) */
    int wlock_held; /* this store holds its turn (between BEGIN IMMEDIATE and the end) */
    int pos_writer; /* opened with GW_STORE_POSITIONS_WRITER: SpatiaLite's triggers stay off */
    void *ckpt;     /* its checkpointer (sqlite_ckpt.c), NULL otherwise */
};

/* Wait for this process's turn to write the store's file (sqlite_wlock.c): 0, or -1 after
 * GW_STORE_WRITE_WAIT_MS.  st_wlock_drop gives the turn back once no transaction is open
 * (a no-op otherwise, and when the store holds none). */
int st_wlock_take(gw_store *s);
void st_wlock_drop(gw_store *s);
/* The same turn for a connection outside a gw_store (the checkpointer): the file's queue (NULL
 * for none), take (0, or -1 after GW_STORE_WRITE_WAIT_MS; 0 for NULL) and give back. */
void *st_wlock_file(const char *path);
int st_wlock_file_take(void *wl);
void st_wlock_file_drop(void *wl);

/* A failed SQLite call as GW_ERR_DB: "<what>: <sqlite message> (database <path>)". */
gw_status st_fail(gw_store *s, const char *what);
/* Run SQL without results (several statements allowed). */
gw_status st_exec(gw_store *s, const char *sql, const char *what);
/* Bind a box as four doubles at ?first … ?first+3 (minx, miny, maxx, maxy). */
void st_bind_bbox(sqlite3_stmt *q, int first, const gw_bbox *b);
/* Prepare one statement (flags: SQLITE_PREPARE_*); *out NULL on failure. */
gw_status st_prepare(gw_store *s, const char *sql, unsigned flags, sqlite3_stmt **out,
                     const char *what);
/* A statement kept for the life of the store in slot `slot` (reset and unbound before use). */
gw_status st_cached(gw_store *s, int slot, const char *sql, sqlite3_stmt **out);
/* A one-row, one-integer query; *found = 0 when it returns no row or NULL (found may be NULL). */
gw_status st_query_int(gw_store *s, const char *sql, int64_t *out, int *found);
/* The published grid-set version (meta 'grid_version'; 1 when absent). */
gw_status st_grid_version(gw_store *s, int64_t *v);
/* Now as an ISO 8601 UTC text. */
void st_now_iso(char *buf, size_t cap);
/* GW_ERR_ARG unless layer names one of ours. */
gw_status st_check_layer(gw_store *s, gw_layer layer);
/* Engine-neutral (store.c): a value kind's name, and the one refusal of a value whose kind
 * does not fit its field ("incidents 'I1': field severity expects an integer, got a text
 * value"), as GW_ERR_ARG — both engines' inserters say it alike. */
const char *st_kind_name(gw_val_kind k);
gw_status st_kind_error(gw_ctx *ctx, gw_layer layer, const char *id, const gw_field *f,
                        const gw_value *v);
/* Switch this connection's triggers on or off; returns the previous state (1 = on). */
int st_set_triggers(gw_store *s, int on);

/* The checkpointer of a positions writer (sqlite_ckpt.c): the connection's WAL hook asks a
 * thread of its own, on a connection of its own, for a PASSIVE checkpoint once the WAL holds
 * ST_CKPT_FRAMES frames, instead of the committing thread running it while every other writer
 * waits.  start returns GW_OK or the error; stop runs a last checkpoint and joins the thread. */
#define ST_CKPT_FRAMES 1000

/* The SpatiaLite BLOB of POINT(x y) with this SRID: the 60 bytes MakePoint(x, y, srid) makes
 * (start, byte order, SRID, MBR, class POINT, x, y, end), in this host's byte order. */
#define ST_POINT_BLOB 60
void st_point_blob(double x, double y, int srid, unsigned char out[ST_POINT_BLOB]);
gw_status st_ckpt_start(gw_store *s);
void st_ckpt_stop(gw_store *s);

/* A road's values as both engines accept them (sqlite_roads.c): id, class, oneway -1..1, speed
 * in (0, 300] or unset, a 2-D LineString. */
struct gw_store_road;
gw_status st_road_check(gw_store *s, const struct gw_store_road *r);

#endif
