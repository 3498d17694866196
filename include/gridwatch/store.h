/* store.h — the durable store: one SpatiaLite file holding the five layers, grid versions,
 * the audit log and the monotonic change log.
 *
 * All geometry on disk is EPSG:4326 (lon/lat).  Writes happen inside explicit transactions
 * (gw_store_begin / gw_store_commit / gw_store_rollback): a failed import or request rolls back
 * and leaves the file as it was.  The file is in WAL mode, so readers on other connections keep
 * reading while one writer commits.  One gw_store per thread (it wraps one SQLite connection). */
#ifndef GRIDWATCH_STORE_H
#define GRIDWATCH_STORE_H

#include "gridwatch/common.h"
#include "gridwatch/layer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_store gw_store;

/* Schema version this build writes; older files are migrated on open (unless read-only). */
#define GW_SCHEMA_VERSION 10

enum {
    GW_STORE_CREATE = 1,     /* create and initialise the file if it does not exist */
    GW_STORE_READONLY = 2,   /* open read-only (no migration; GW_ERR_SCHEMA if one is due) */
    GW_STORE_QUERY_ONLY = 4, /* migrate if due, then refuse every write on this connection */
    /* a connection that only writes team positions batches (gw_store_dispatch_positions): on
     * SQLite its statements stay prepared, SpatiaLite's per-row triggers stay off and WAL
     * checkpoints run on a thread of its own; the other engine ignores it */
    GW_STORE_POSITIONS_WRITER = 8
};

/* 1 when location names a PostgreSQL database ("postgresql://…" or "postgres://…", libpq's
 * connection URIs), which gw_store_open opens with the PostgreSQL/PostGIS engine; any other
 * location is a SpatiaLite file. */
int gw_store_is_postgres(const char *location);

/* Open (and with GW_STORE_CREATE create) a gridwatch database.  Runs pending migrations in one
 * transaction.  GW_ERR_SCHEMA for a file that is not a gridwatch database or is newer than this
 * build; GW_ERR_IO when the file cannot be opened.  Caller frees with gw_store_close(). */
gw_status gw_store_open(gw_ctx *ctx, const char *path, int flags, gw_store **out);
/* Close; rolls back an open transaction.  Accepts NULL. */
void gw_store_close(gw_store *store);

/* The context the store was opened with (borrowed). */
gw_ctx *gw_store_ctx(gw_store *store);
/* The file path (borrowed). */
const char *gw_store_path(const gw_store *store);
/* Schema version of the open file. */
int gw_store_schema_version(const gw_store *store);
/* The libraries of this build's store engine as they report themselves at run time, one line
 * each ("SpatiaLite 5.0.1\nSQLite 3.40.1\n"), into buf (truncated to cap, always terminated);
 * for `gridwatch --version`.  Needs no open store. */
void gw_store_engine_versions(char *buf, size_t cap);

/* How long a write waits for another writer (a `gridwatch import`, another server's write) to
 * release the database before giving up with GW_ERR_DB: 30 s, the patience of an HTTP client. */
#define GW_STORE_WRITE_WAIT_MS 30000

/* Transactions.  begin starts an IMMEDIATE transaction (the write lock is taken up front). */
gw_status gw_store_begin(gw_store *store);
gw_status gw_store_commit(gw_store *store);
/* Roll back; safe to call when no transaction is open.  Keeps the error already on the ctx. */
void gw_store_rollback(gw_store *store);

/* A read transaction: every read between begin and end sees one committed state (a snapshot),
 * whatever other connections commit meanwhile.  GW_ERR_CONFLICT inside a write transaction. */
gw_status gw_store_read_begin(gw_store *store);
/* End the read transaction (accepts a store without one). */
void gw_store_read_end(gw_store *store);
/* 1 while a transaction (read or write) is open on this store. */
int gw_store_in_transaction(gw_store *store);

/* The published grid-set version (meta 'grid_version'; 1 when absent). */
gw_status gw_store_grid_version(gw_store *store, int64_t *version);

/* The meta table: small key/value settings ("metric_srid", "name", "grid_version", …). */
gw_status gw_store_meta_get(gw_store *store, const char *key, char *buf, size_t cap);
gw_status gw_store_meta_set(gw_store *store, const char *key, const char *value);

/* The dataset's metric CRS (EPSG code), recorded at init/import from the data's centre;
 * 0 when not yet chosen. */
gw_status gw_store_metric_srid(gw_store *store, int *srid);
gw_status gw_store_set_metric_srid(gw_store *store, int srid);

/* Number of rows in a layer (grids: of the current published version). */
gw_status gw_store_count(gw_store *store, gw_layer layer, int64_t *n);
/* Extent of a layer in lon/lat; GW_ERR_NOT_FOUND when the layer is empty. */
gw_status gw_store_extent(gw_store *store, gw_layer layer, gw_bbox *out);
/* Delete every row of a layer (inside the caller's transaction), logging one change. */
gw_status gw_store_clear(gw_store *store, gw_layer layer);

/* A feature to insert: values in gw_layer_fields() order (n values, n = field count), the
 * geometry as ISO WKB in EPSG:4326 (Polygon or MultiPolygon for grids, Point otherwise), or,
 * when wkb is NULL on a point layer, the point (x = lon, y = lat). */
typedef struct gw_feature {
    const gw_value *values;
    const unsigned char *wkb;
    size_t wkb_len;
    double x, y;
} gw_feature;

/* A prepared bulk inserter for one layer; use inside gw_store_begin()/commit().
 * Caller frees with gw_inserter_destroy(). */
typedef struct gw_inserter gw_inserter;
gw_status gw_store_inserter_create(gw_store *store, gw_layer layer, gw_inserter **out);
/* Insert one feature.  GW_ERR_CONFLICT for a duplicate id, GW_ERR_ARG for a wrong value kind.
 * Does not write the change log: the caller logs one change per import (gw_store_log_change). */
gw_status gw_inserter_add(gw_inserter *ins, const gw_feature *f);
void gw_inserter_destroy(gw_inserter *ins);

/* A cursor over a layer's rows in id order.  Caller frees with gw_cursor_destroy(). */
typedef struct gw_cursor gw_cursor;
gw_status gw_store_cursor_create(gw_store *store, gw_layer layer, gw_cursor **out);
/* The same over the rows with from_id <= id < to_id (NULL: unbounded), ids compared as the
 * engine orders them: a layer read in parts on parallel connections (the model's load). */
gw_status gw_store_cursor_create_range(gw_store *store, gw_layer layer, const char *from_id,
                                       const char *to_id, gw_cursor **out);
/* The id of row k (0-based) in id order into buf; GW_ERR_NOT_FOUND past the end, GW_ERR_RANGE
 * when buf is too small. */
gw_status gw_store_nth_id(gw_store *store, gw_layer layer, int64_t k, char *buf, size_t cap);
/* Advance: GW_OK with a row, GW_ERR_NOT_FOUND at the end.  The view's values and wkb are
 * borrowed and valid until the next call. */
typedef struct gw_row {
    int64_t fid;              /* SQLite rowid */
    const gw_value *values;   /* gw_layer_fields() order */
    const unsigned char *wkb; /* ISO WKB, EPSG:4326 */
    size_t wkb_len;
} gw_row;
gw_status gw_cursor_next(gw_cursor *cur, gw_row *row);
void gw_cursor_destroy(gw_cursor *cur);

/* Change log: append one change (op "insert", "update", "delete", "import", "clear", …) with an
 * optional feature id and lon/lat bbox; *seq receives the new sequence number (may be NULL). */
gw_status gw_store_log_change(gw_store *store, gw_layer layer, const char *op,
                              const char *feature_id, const gw_bbox *bbox, int64_t *seq);
/* Highest sequence number in the change log (0 when empty). */
gw_status gw_store_last_seq(gw_store *store, int64_t *seq);
/* Audit log: who did what (planners' history). */
gw_status gw_store_audit(gw_store *store, const char *who, const char *action, const char *detail);

#ifdef __cplusplus
}
#endif
#endif
