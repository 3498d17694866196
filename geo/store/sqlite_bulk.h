/* sqlite_bulk.h — inside the store room: the SQLite engine's inserter and cursor, and the bulk
 * spatial-index writer they share (sqlite_rtree.c, sqlite_insert.c, sqlite_cursor.c,
 * sqlite_core.c).  Every engine's gw_inserter and gw_cursor begin with the owning gw_store, so
 * the engine-neutral functions of store.c find the engine's table through it. */
#ifndef GW_SQLITE_BULK_H
#define GW_SQLITE_BULK_H

#include "store_internal.h"

#define GW_MAX_FIELDS 16
#define POINT_BLOB_LEN 60

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
    /* Point layers select the SpatiaLite blob itself: a plain XY point becomes this WKB here,
     * anything else goes through AsBinary on `conv` (prepared when first needed). */
    int raw;
    unsigned char wkb[21];
    sqlite3_stmt *conv;
};

/* The SQLite engine's core functions (the table in sqlite_backend.c). */
void sq_close(gw_store *s);
gw_status sq_begin(gw_store *s);
gw_status sq_commit(gw_store *s);
void sq_rollback(gw_store *s);
gw_status sq_read_begin(gw_store *s);
void sq_read_end(gw_store *s);
int sq_in_transaction(gw_store *s);
gw_status sq_meta_get(gw_store *s, const char *key, char *buf, size_t cap);
gw_status sq_meta_set(gw_store *s, const char *key, const char *value);
gw_status sq_count(gw_store *s, gw_layer layer, int64_t *n);
gw_status sq_extent(gw_store *s, gw_layer layer, gw_bbox *out);
gw_status sq_clear(gw_store *s, gw_layer layer);
gw_status sq_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out);
gw_status sq_inserter_add(gw_inserter *ins, const gw_feature *f);
void sq_inserter_destroy(gw_inserter *ins);
gw_status sq_cursor_create(gw_store *s, gw_layer layer, const char *from_id, const char *to_id,
                           gw_cursor **out);
gw_status sq_nth_id(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap);
gw_status sq_cursor_next(gw_cursor *cur, gw_row *row);
void sq_cursor_destroy(gw_cursor *cur);
gw_status sq_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                        const gw_bbox *bbox, int64_t *seq);
gw_status sq_last_seq(gw_store *s, int64_t *seq);
gw_status sq_audit(gw_store *s, const char *who, const char *action, const char *detail);

/* One row of q ("fid, <fields>…, AsBinary(geom)") decoded as the cursor gives it: values into
 * vals (the layer's field count of them), times as Unix seconds. */
gw_status st_decode_row(gw_store *s, sqlite3_stmt *q, gw_layer layer, gw_value *vals, gw_row *row);
/* Column list "id", "name", … of a layer into buf. */
void st_column_list(const gw_field *f, size_t n, char *buf, size_t cap);
/* Prepare "<select> FROM <layer> [WHERE version = current]<suffix>"; caller steps, finalizes. */
gw_status st_layer_query(gw_store *s, gw_layer layer, const char *select, const char *suffix,
                         sqlite3_stmt **q);
/* A double rounded down / up to float32 (R*Tree boxes are float32, rounded outward). */
float st_f32_down(double d);
float st_f32_up(double d);

/* The SQLite engine's open (store.c picks the engine). */
gw_status st_sqlite_open(gw_ctx *ctx, const char *path, int flags, gw_store **out);

/* Record in geometry_columns_time what the bypassed triggers would have (best effort). */
void st_touch_layer_time(gw_store *s, gw_layer layer, const char *column);
/* Rebuild a layer's R*Tree: keep = 1 adds `add` to the existing entries, 0 replaces them. */
gw_status st_rtree_rebuild(gw_store *s, gw_layer layer, rt_entry *add, size_t n, int keep);
/* Write one inserter's pending index entries and deferred indexes. */
gw_status st_flush_pending(gw_inserter *ins);
/* Drop an empty point layer's secondary indexes for the load; rebuilt at flush. */
void st_defer_indexes(gw_inserter *ins);
/* Flush every live inserter of the store (before commit and clear). */
gw_status st_flush_all(gw_store *s);

#endif
