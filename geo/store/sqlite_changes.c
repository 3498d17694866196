/* sqlite_changes.c — the SQLite engine's change-log reads (store_changes.h). */
#include "ops_changes.h"
#include "store_internal.h"

gw_status sq_changes_read(gw_store *s, int64_t after, int64_t before, int max,
                          gw_store_change_fn fn, void *user, size_t *n)
{
    if (n) *n = 0;
    if (!fn || max <= 0) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no callback or no room");
    sqlite3_stmt *q;
    gw_status st = before > 0
                       ? st_cached(
                             s, ST_CHANGES_UNTIL,
                             "SELECT seq, layer, op, feature_id, minx, miny, maxx, maxy "
                             "FROM changelog WHERE seq > ?1 AND seq < ?3 ORDER BY seq LIMIT ?2",
                             &q)
                       : st_cached(s, ST_CHANGES,
                                   "SELECT seq, layer, op, feature_id, minx, miny, maxx, maxy "
                                   "FROM changelog WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                                   &q);
    if (st) return st;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_int(q, 2, max);
    if (before > 0) sqlite3_bind_int64(q, 3, before);
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_change c = {0};
        c.seq = sqlite3_column_int64(q, 0);
        c.layer = (const char *)sqlite3_column_text(q, 1);
        c.op = (const char *)sqlite3_column_text(q, 2);
        if (!c.op) c.op = "";
        c.feature_id = (const char *)sqlite3_column_text(q, 3);
        if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
            c.has_bbox = 1;
            c.bbox = (gw_bbox){sqlite3_column_double(q, 4), sqlite3_column_double(q, 5),
                               sqlite3_column_double(q, 6), sqlite3_column_double(q, 7)};
        }
        k++;
        if (fn(user, &c)) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot read the change log");
    sqlite3_reset(q); /* ends the read: no snapshot is held between calls */
    if (n) *n = k;
    return st;
}

gw_status sq_changes_last(gw_store *s, const char *layer, int64_t *seq)
{
    if (!layer || !seq) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no layer");
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s, "SELECT COALESCE(max(seq), 0) FROM changelog WHERE layer = ?1", 0,
                              &q, "cannot read the change log");
    if (st) return st;
    sqlite3_bind_text(q, 1, layer, -1, SQLITE_STATIC);
    *seq = 0;
    if (sqlite3_step(q) == SQLITE_ROW) *seq = sqlite3_column_int64(q, 0);
    else st = st_fail(s, "cannot read the change log");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_changes_after(gw_store *s, const char *layer, int64_t after, int *any)
{
    if (!layer || !any) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no layer");
    sqlite3_stmt *q = NULL;
    gw_status st = st_cached(s, ST_CHANGES_AFTER,
                             "SELECT 1 FROM changelog WHERE seq > ?1 AND layer = ?2 LIMIT 1", &q);
    if (st) return st;
    sqlite3_bind_int64(q, 1, after);
    sqlite3_bind_text(q, 2, layer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    *any = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot read the change log");
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return st;
}

gw_status sq_changes_wait(gw_store *s, int64_t after, unsigned timeout_ms)
{
    (void)after, (void)timeout_ms;
    return gw_ctx_error(s->ctx, GW_ERR_UNSUPPORTED,
                        "SQLite sends no change notification; poll the change log (%s)", s->path);
}
