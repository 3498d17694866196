/* store_changes.h — reading the change log: the rows after a seq, for the live model's sync
 * thread, the SSE poller and Last-Event-ID replay.  (Writing it is gw_store_log_change in
 * store.h, inside the writer's transaction.) */
#ifndef GRIDWATCH_STORE_CHANGES_H
#define GRIDWATCH_STORE_CHANGES_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One change-log row as read back.  Strings are borrowed for the callback only. */
typedef struct gw_store_change {
    int64_t seq;
    const char *layer;      /* the table the change was logged for ("grids" …, or another) */
    const char *op;         /* "insert", "update", "delete", "import", "clear", … ("" if none) */
    const char *feature_id; /* NULL for bulk changes */
    int has_bbox;
    gw_bbox bbox; /* lon/lat, old and new geometry together */
} gw_store_change;

/* Called for each row in seq order; return nonzero to stop early. */
typedef int (*gw_store_change_fn)(void *user, const gw_store_change *c);

/* The rows with after < seq < before (before <= 0: no upper bound), in seq order, at most `max`
 * of them, each given to fn.  *n (may be NULL) receives how many were given.  The statement is
 * kept by the store for the next call (a poller calls this every few ms). */
gw_status gw_store_changes_read(gw_store *s, int64_t after, int64_t before, int max,
                                gw_store_change_fn fn, void *user, size_t *n);

/* Wait, at most timeout_ms, until a change after `after` may be in the log: GW_OK when one is
 * or may be (read it with gw_store_changes_read), GW_ERR_NOT_FOUND when the time passed
 * without one.  PostgreSQL: the connection LISTENs to the notification every logged change
 * sends, so a write by any server on the database wakes the waiter at once; GW_ERR_DB when the
 * connection is lost (it is re-established by a later call).  SQLite has no notification:
 * GW_ERR_UNSUPPORTED, and the caller polls gw_store_last_seq instead. */
gw_status gw_store_changes_wait(gw_store *s, int64_t after, unsigned timeout_ms);

/* The highest seq of a change logged for `layer` (a table name such as "grids"); 0 when none. */
gw_status gw_store_changes_last(gw_store *s, const char *layer, int64_t *seq);

/* *any = 1 when a change for `layer` was logged after seq `after`, else 0.  It reads only the
 * rows after `after` (the primary key's range), so it is cheap when `after` is recent: a reader
 * holding a snapshot of seq `after` asks, inside its read transaction, whether the layer it
 * answers from is still the store's. */
gw_status gw_store_changes_after(gw_store *s, const char *layer, int64_t after, int *any);

#ifdef __cplusplus
}
#endif
#endif
