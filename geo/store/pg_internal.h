/* pg_internal.h — inside the store room only: the PostgreSQL/PostGIS engine's state and the
 * helpers its pg_*.c files share (decision 0004).  One gw_store is one libpq connection; every
 * statement goes through pg_run, which turns a failure into one gw_status with PostgreSQL's
 * message (a unique or exclusion violation is GW_ERR_CONFLICT, a check or not-null violation
 * or bad input GW_ERR_ARG, a serialisation failure or deadlock GW_ERR_CONFLICT, anything else
 * — a lost connection included — GW_ERR_DB).
 *
 * Parameters are passed as text (NULL = SQL NULL) except where a length is given (binary: WKB
 * into bytea/geometry through ST_GeomFromWKB); results come back as text.  Geometry is read as
 * ST_AsBinary(geom) and decoded from bytea's hex text form with pg_unhex. */
#ifndef GW_PG_INTERNAL_H
#define GW_PG_INTERNAL_H

#include "store_internal.h"

#include <libpq-fe.h>

/* The advisory lock every write transaction takes (pg_begin): gridwatch writes are serialised
 * across all the servers on one database, as SQLite's single writer does on one file, so the
 * change log becomes visible in seq order and read-then-write steps cannot interleave. */
#define PG_WRITE_LOCK 0x67726964 /* "grid" */

typedef struct pg_state {
    PGconn *conn;
    int in_tx;     /* 0 none, 1 write (pg_begin), 2 read (pg_read_begin) */
    int nsp;       /* savepoint depth of pg_write_begin outside a transaction */
    int ro;        /* GW_STORE_READONLY / QUERY_ONLY */
    int inserts;   /* live inserters (buffered COPY) */
    int listening; /* LISTEN gw_changes issued on this connection (pg_listen.c) */
    gw_status deferred;
    char deferred_msg[512]; /* its message, repeated by the commit that refuses */
    void *inserters;        /* pg_inserter list */
} pg_state;

#define PG(s) ((pg_state *)(s)->pg)

/* The engine's open (store.c picks it for postgresql:// and postgres:// locations). */
gw_status pg_open(gw_ctx *ctx, const char *url, int flags, gw_store **out);
extern const gw_store_backend st_pg_backend;
/* The topic tables, one per pg_<topic>.c (backend.h, ops_<topic>.h). */
extern const struct gw_store_changes_ops st_pg_changes_ops;
extern const struct gw_store_tokens_ops st_pg_tokens_ops;
extern const struct gw_store_features_ops st_pg_features_ops;
extern const struct gw_store_coverage_ops st_pg_coverage_ops;
extern const struct gw_store_edit_ops st_pg_edit_ops;
extern const struct gw_store_dispatch_ops st_pg_dispatch_ops;
extern const struct gw_store_model_ops st_pg_model_ops;
extern const struct gw_store_plan_ops st_pg_plan_ops;
extern const struct gw_store_copy_ops st_pg_copy_ops;
extern const struct gw_store_flow_ops st_pg_flow_ops;
extern const struct gw_store_roads_ops st_pg_roads_ops;

/* Run one statement with n text parameters (vals[i] NULL = NULL; lens non-NULL and lens[i] > 0:
 * binary parameter of that length).  Returns the result (PGRES_TUPLES_OK or COMMAND_OK), or
 * NULL with the error on the store's context and *st set.  Caller PQclear()s the result. */
PGresult *pg_run(gw_store *s, const char *sql, int n, const char *const *vals, const int *lens,
                 const char *what, gw_status *st);
/* The session settings of a new or re-established connection (UTC, read-only when asked). */
gw_status pg_session_setup(gw_store *s);
/* pg_run for a statement without results. */
gw_status pg_exec(gw_store *s, const char *sql, int n, const char *const *vals, const char *what);
/* A one-row, one-integer query; *found = 0 for no row or NULL (found may be NULL). */
gw_status pg_query_int(gw_store *s, const char *sql, int n, const char *const *vals, int64_t *out,
                       int *found);
/* The failure of result r (NULL: of the connection) as a gw_status with PostgreSQL's message. */
gw_status pg_fail(gw_store *s, const PGresult *r, const char *what);

/* A write outside the caller's transaction: pg_write_begin takes the write lock in a
 * transaction of its own when none is open (else a savepoint); pg_write_end commits or rolls
 * it back (st != GW_OK) and returns st or the commit's failure. */
gw_status pg_write_begin(gw_store *s);
gw_status pg_write_end(gw_store *s, gw_status st);

/* bytea's text form ("\x0102…") into a malloc'ed buffer; NULL for NULL input or bad hex. */
unsigned char *pg_unhex(const char *text, size_t *len);
/* A growing text buffer (COPY data); oom set when a growth failed. */
typedef struct pg_buf {
    char *p;
    size_t n, cap;
    int oom;
} pg_buf;
void pg_buf_add(pg_buf *b, const char *s, size_t n);
/* n bytes as lowercase hex digits (bytea and EWKB hex forms). */
void pg_buf_hex(pg_buf *b, const unsigned char *p, size_t n);
/* Text for COPY's text format: backslash, tab, newline and carriage return escaped. */
void pg_buf_copy_text(pg_buf *b, const char *s);
/* strings[0..n) as a text[] literal for a $n::text[] parameter: {"a","b"}, backslash and double
 * quote escaped (NULL entries as ""). */
void pg_buf_text_array(pg_buf *b, const char *const *strings, size_t n);
/* ISO WKB (2-D, either byte order) as hex EWKB with SRID 4326 (for COPY), appended to b;
 * 0 on success, -1 when wkb is too short to be WKB. */
int pg_hex_ewkb(const unsigned char *wkb, size_t len, pg_buf *b);
/* Integer parameters as text. */
void pg_i64(char buf[24], int64_t v);
/* A double as text that reads back to the same double ("%.17g"); NaN/inf refused upstream. */
void pg_f64(char buf[32], double v);
/* Unix seconds as the text PostgreSQL reads into timestamptz ("2018-01-01T13:05:00Z"). */
void pg_time(char buf[32], int64_t t);

/* Core (pg_core.c, pg_bulk.c). */
void pg_close(gw_store *s);
gw_status pg_begin(gw_store *s);
gw_status pg_commit(gw_store *s);
void pg_rollback(gw_store *s);
gw_status pg_read_begin(gw_store *s);
void pg_read_end(gw_store *s);
int pg_in_transaction(gw_store *s);
gw_status pg_meta_get(gw_store *s, const char *key, char *buf, size_t cap);
gw_status pg_meta_set(gw_store *s, const char *key, const char *value);
gw_status pg_count(gw_store *s, gw_layer layer, int64_t *n);
gw_status pg_extent(gw_store *s, gw_layer layer, gw_bbox *out);
gw_status pg_clear(gw_store *s, gw_layer layer);
gw_status pg_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out);
gw_status pg_inserter_add(gw_inserter *ins, const gw_feature *f);
void pg_inserter_destroy(gw_inserter *ins);
gw_status pg_cursor_create(gw_store *s, gw_layer layer, const char *from_id, const char *to_id,
                           gw_cursor **out);
gw_status pg_nth_id(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap);
gw_status pg_cursor_next(gw_cursor *cur, gw_row *row);
void pg_cursor_destroy(gw_cursor *cur);
gw_status pg_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                        const gw_bbox *bbox, int64_t *seq);
gw_status pg_last_seq(gw_store *s, int64_t *seq);
gw_status pg_audit(gw_store *s, const char *who, const char *action, const char *detail);
/* changes.wait (pg_listen.c). */
gw_status pg_changes_wait(gw_store *s, int64_t after, unsigned timeout_ms);
/* Flush every live inserter's buffered rows (before commit, clear and reads of the layer). */
gw_status pg_flush_all(gw_store *s);
/* The published grid-set version (meta 'grid_version'; 1 when absent). */
gw_status pg_grid_version(gw_store *s, int64_t *v);
/* The select list of a layer's row as the cursor decodes it, into buf:
 * "fid, id, name, …, gw_iso(occurred_at), …, ST_AsBinary(geom)". */
void pg_row_select(gw_layer layer, char *buf, size_t cap);
/* Decode row `r` of a result selected with pg_row_select (from column `col0`): values into vals
 * (borrowed from res, valid while it lives), times as Unix seconds, the geometry into *wkb
 * (malloc'ed; the caller frees it after use). */
gw_status pg_decode_row(gw_store *s, const PGresult *res, int r, int col0, gw_layer layer,
                        gw_value *vals, gw_row *row, unsigned char **wkb);

#endif
