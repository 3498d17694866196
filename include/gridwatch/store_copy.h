/* store_copy.h — a whole gridwatch database as engine-neutral rows, for `gridwatch copy`
 * (SpatiaLite <-> PostgreSQL/PostGIS, issue 17).  Every table of the schema is listed below in
 * dependency order with its columns; an engine streams a table's rows as plain values and
 * writes them back keeping every id, fid and seq, so a copied change log keeps its sequence
 * numbers (an SSE client's Last-Event-ID means the same change on either engine).
 *
 * Values: NULL, integer, real, text or bytes.  The neutral form of
 *   - an instant (GW_COPY_TIME) is ISO 8601 UTC text as the SQLite schema stores it,
 *     "2018-01-01T13:05:00Z" (PostgreSQL prints its timestamptz so with gw_iso());
 *   - a geometry (GW_COPY_GEOM) is ISO WKB in EPSG:4326 (bytes);
 *   - a hash (GW_COPY_BLOB) is its bytes.
 * The meta table travels without the keys an engine keeps for itself (PostgreSQL's
 * 'schema_version'): those are neither read nor written. */
#ifndef GRIDWATCH_STORE_COPY_H
#define GRIDWATCH_STORE_COPY_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_copy_type {
    GW_COPY_INT,  /* integer (i) */
    GW_COPY_REAL, /* double (d) */
    GW_COPY_TEXT, /* UTF-8 text (s) */
    GW_COPY_TIME, /* an instant: ISO 8601 UTC text (s) */
    GW_COPY_BLOB, /* bytes (b, len) */
    GW_COPY_GEOM  /* ISO WKB, EPSG:4326 (b, len) */
} gw_copy_type;

typedef struct gw_copy_column {
    const char *name;
    gw_copy_type type;
} gw_copy_column;

#define GW_COPY_MAX_COLS 16

typedef struct gw_copy_table {
    const char *name;
    const gw_copy_column *cols;
    size_t ncols;
    const char *order;   /* the key the rows are read in order of ("fid", "draft_id, id") */
    const char *counter; /* the identity column whose counter continues above the copied
                          * values on the destination, or NULL */
} gw_copy_table;

/* Every table of the schema, parents before children (grid_versions before grids and
 * plan_drafts, plan_drafts before plan_draft_grids); *n receives how many. */
const gw_copy_table *gw_copy_tables(size_t *n);
/* The table of that name, or NULL. */
const gw_copy_table *gw_copy_table_find(const char *name);

/* One value of a row, read as the column's type says (null = 1 for NULL). */
typedef struct gw_copy_value {
    int null;
    int64_t i;
    double d;
    const char *s; /* TEXT, TIME: NUL-terminated */
    const unsigned char *b;
    size_t len; /* BLOB, GEOM */
} gw_copy_value;
/* A row to the reader's callback, in the table's column order (borrowed for the call);
 * return non-zero to stop (the read then ends with GW_ERR_INTERNAL). */
typedef int (*gw_copy_row_fn)(void *user, const gw_copy_value *row);

/* Rows in a table (meta: those a read gives). */
gw_status gw_store_copy_count(gw_store *s, const char *table, int64_t *n);
/* Every row of a table, in the order of its key, to fn.  Use inside gw_store_read_begin() so
 * the tables are one snapshot. */
gw_status gw_store_copy_read(gw_store *s, const char *table, gw_copy_row_fn fn, void *user);
/* The highest value the table's counter has handed out (the change log's seq survives its
 * deleted rows); 0 for a table without a counter or one never used. */
gw_status gw_store_copy_counter(gw_store *s, const char *table, int64_t *value);

/* A bulk writer for one table, inside the caller's write transaction on an empty database:
 * it empties the table first (meta excepted: its rows are replaced key by key), takes the
 * values as given (ids, fids, seqs included) and at finish brings the table's indexes (the
 * R*Tree of a SpatiaLite layer, statistics) and counter up to date.  One writer at a time on
 * a store, and no other statement on the store while it is open. */
typedef struct gw_copy_writer gw_copy_writer;
gw_status gw_store_copy_writer(gw_store *s, const char *table, gw_copy_writer **out);
/* Add one row (the table's column order).  GW_ERR_ARG for a value the column cannot hold;
 * the server may report a refused row only at finish. */
gw_status gw_store_copy_put(gw_store *s, gw_copy_writer *w, const gw_copy_value *row);
/* Send what is buffered, update the indexes, move the counter past both the written values
 * and `counter` (from gw_store_copy_counter on the source), and free w.  After a failed put
 * call it anyway: it frees w and returns that failure (the caller rolls back). */
gw_status gw_store_copy_finish(gw_store *s, gw_copy_writer *w, int64_t counter);

/* What gw_copy_database did: rows per table in gw_copy_tables() order. */
typedef struct gw_copy_report {
    int64_t rows[32];
    int64_t total;
    int64_t last_seq; /* the change log's seq on both sides */
    double seconds;
} gw_copy_report;

/* Copy every table of src into dst in one write transaction on dst (a failure rolls it back
 * and leaves dst as it was), reading src in one read transaction.  dst must be empty: no row
 * in any table but meta and the initial grid version, else GW_ERR_CONFLICT naming the table.
 * Checks after each table that dst holds as many rows as were read.  Progress is reported on
 * dst's context as "copy" (rows done of all rows). */
gw_status gw_copy_database(gw_store *src, gw_store *dst, gw_copy_report *rep);

#ifdef __cplusplus
}
#endif
#endif
