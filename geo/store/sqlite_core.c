/* sqlite_core.c — the SQLite engine's core table (ops_core.h): transactions, meta, counts,
 * extent, clear, the change log and the audit log. */
#include "sqlite_bulk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- transactions -------------------------------------------------------------------------- */

gw_status sq_begin(gw_store *s)
{
    if (!s) return GW_ERR_ARG;
    if (!sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "a transaction is already open on %s", s->path);
    s->deferred = GW_OK;
    int queued = st_wlock_take(s) == 0;
    if (queued && sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
        return GW_OK;
    st_wlock_drop(s);
    if (!queued || (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_BUSY)
        return gw_ctx_error(s->ctx, GW_ERR_DB,
                            "another writer (a gridwatch import?) held the database for more "
                            "than %d s; try again (database %s)",
                            GW_STORE_WRITE_WAIT_MS / 1000, s->path);
    return gw_ctx_error(s->ctx, GW_ERR_DB, "cannot begin a write transaction: %s (database %s)",
                        sqlite3_errmsg(s->db), s->path);
}

gw_status sq_commit(gw_store *s)
{
    if (!s) return GW_ERR_ARG;
    if (sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "commit without an open transaction on %s",
                            s->path);
    if (s->deferred)
        return gw_ctx_error(s->ctx, s->deferred,
                            "cannot commit: an earlier spatial index update "
                            "failed in this transaction; roll back (database %s)",
                            s->path);
    gw_status st = st_flush_all(s);
    if (st) return st;
    st = st_exec(s, "COMMIT", "cannot commit");
    st_wlock_drop(s);
    return st;
}

void sq_rollback(gw_store *s)
{
    if (!s || !s->db) return;
    for (gw_inserter *i = s->inserters; i; i = i->next) {
        i->npend = 0;
        free(i->reindex); /* the rollback restores the dropped indexes */
        i->reindex = NULL;
    }
    s->deferred = GW_OK;
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    st_wlock_drop(s);
}

gw_status sq_read_begin(gw_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_CONFLICT,
                            "a transaction is already open on %s; read "
                            "only committed data, after gw_store_commit()",
                            s->path);
    return st_exec(s, "BEGIN", "cannot start a read transaction");
}

void sq_read_end(gw_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

int sq_in_transaction(gw_store *s) { return !sqlite3_get_autocommit(s->db); }

/* ---- meta ---------------------------------------------------------------------------------- */

gw_status sq_meta_get(gw_store *s, const char *key, char *buf, size_t cap)
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
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "meta '%s' is %zu bytes, buffer holds %zu", key,
                              len, cap - 1);
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

gw_status sq_meta_set(gw_store *s, const char *key, const char *value)
{
    if (!s) return GW_ERR_ARG;
    if (!key || !*key) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_meta_set: no key");
    sqlite3_stmt *q;
    gw_status st = st_cached(s, ST_META_SET,
                             "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             &q);
    if (st) return st;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (value) sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write meta");
    sqlite3_reset(q);
    return st;
}

/* The published grid-set version (meta 'grid_version'; 1 when absent). */
gw_status st_grid_version(gw_store *s, int64_t *v)
{
    int found;
    gw_status st = st_query_int(
        s, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'grid_version'", v, &found);
    if (!st && (!found || *v < 1)) *v = 1;
    return st;
}

/* ---- counts, extent, clear ----------------------------------------------------------------- */

/* Run "<select> FROM <layer> [WHERE version = current]" prepared; caller steps and finalizes. */
gw_status st_layer_query(gw_store *s, gw_layer layer, const char *select, const char *suffix,
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

gw_status sq_count(gw_store *s, gw_layer layer, int64_t *n)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!n) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_count: no output");
    sqlite3_stmt *q;
    if ((st = st_layer_query(s, layer, "SELECT count(*)", "", &q))) return st;
    if (sqlite3_step(q) == SQLITE_ROW) *n = sqlite3_column_int64(q, 0);
    else st = st_fail(s, "cannot count rows");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_extent: no output");
    sqlite3_stmt *q;
    st = st_layer_query(s, layer,
                        "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), "
                        "max(MbrMaxX(geom)), max(MbrMaxY(geom))",
                        "", &q);
    if (st) return st;
    if (sqlite3_step(q) != SQLITE_ROW) st = st_fail(s, "cannot compute the extent");
    else if (sqlite3_column_type(q, 0) == SQLITE_NULL)
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "layer %s is empty", gw_layer_name(layer));
    else
        *out = (gw_bbox){sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                         sqlite3_column_double(q, 2), sqlite3_column_double(q, 3)};
    sqlite3_finalize(q);
    return st;
}

gw_status sq_clear(gw_store *s, gw_layer layer)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    gw_bbox box;
    int have_box = 0;
    st = gw_store_extent(s, layer, &box);
    if (st == GW_OK) have_box = 1;
    else if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(s->ctx);
    if ((st = st_flush_all(s))) return st;
    /* A savepoint makes the delete and its change-log row atomic even outside a transaction.
     * The R*Tree is emptied in one statement: the per-row triggers take minutes on 1 M rows. */
    if ((st = st_exec(s, "SAVEPOINT gw_clear", "cannot clear"))) return st;
    int was = st_set_triggers(s, 0);
    char sql[256];
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql,
                 "DELETE FROM idx_grids_geom WHERE pkid IN (SELECT fid FROM grids "
                 "WHERE version = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                 "'grid_version'))");
    if (layer == GW_LAYER_GRIDS) st = st_exec(s, sql, "cannot clear the spatial index");
    else st = st_rtree_rebuild(s, layer, NULL, 0, 0); /* an empty tree, without per-row deletes */
    sqlite3_stmt *q;
    if (!st && !(st = st_layer_query(s, layer, "DELETE", "", &q))) {
        if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot clear the layer");
        sqlite3_finalize(q);
    }
    if (!st) st_touch_layer_time(s, layer, "last_delete");
    st_set_triggers(s, was);
    if (!st) st = gw_store_log_change(s, layer, "clear", NULL, have_box ? &box : NULL, NULL);
    if (st) {
        sqlite3_exec(s->db, "ROLLBACK TO gw_clear; RELEASE gw_clear", NULL, NULL, NULL);
        return st;
    }
    return st_exec(s, "RELEASE gw_clear", "cannot clear");
}

/* ---- change log and audit ------------------------------------------------------------------ */

gw_status sq_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                        const gw_bbox *bbox, int64_t *seq)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!op || !*op) return gw_ctx_error(s->ctx, GW_ERR_ARG, "change log: no operation given");
    sqlite3_stmt *q;
    st = st_cached(s, ST_LOG,
                   "INSERT INTO changelog (at, layer, op, feature_id, minx, miny, maxx, "
                   "maxy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                   &q);
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
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot append to the change log");
    else if (seq) *seq = sqlite3_last_insert_rowid(s->db);
    sqlite3_reset(q);
    return st;
}

gw_status sq_last_seq(gw_store *s, int64_t *seq)
{
    if (!s || !seq) return GW_ERR_ARG;
    /* sqlite_sequence keeps the high-water mark even if old log rows are pruned. */
    return st_query_int(s,
                        "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = "
                        "'changelog'), 0), COALESCE((SELECT max(seq) FROM changelog), 0))",
                        seq, NULL);
}

gw_status sq_audit(gw_store *s, const char *who, const char *action, const char *detail)
{
    if (!s) return GW_ERR_ARG;
    if (!action || !*action) return gw_ctx_error(s->ctx, GW_ERR_ARG, "audit: no action given");
    sqlite3_stmt *q;
    gw_status st = st_cached(s, ST_AUDIT,
                             "INSERT INTO audit_log (at, who, action, detail) "
                             "VALUES (?1, ?2, ?3, ?4)",
                             &q);
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
