/* pg_core.c — the PostgreSQL engine's core table (ops_core.h): transactions under the write
 * lock, meta, counts, extent, clear, the change log (with a NOTIFY per change, so replicas wake
 * at once) and the audit log. */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- transactions -------------------------------------------------------------------------- */

gw_status pg_begin(gw_store *s)
{
    pg_state *p = PG(s);
    if (p->in_tx)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "a transaction is already open on %s", s->path);
    if (p->ro) return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s is open read-only: no writes", s->path);
    p->deferred = GW_OK;
    char lock[24];
    pg_i64(lock, PG_WRITE_LOCK);
    const char *v[] = {lock};
    gw_status st = pg_exec(s, "BEGIN", 0, NULL, "cannot begin a write transaction");
    if (!st) {
        p->in_tx = 1;
        /* waits for another server's write as SQLite's busy timeout does */
        char sql[96];
        snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = %d", GW_STORE_WRITE_WAIT_MS);
        st = pg_exec(s, sql, 0, NULL, "cannot begin a write transaction");
        if (!st)
            st = pg_exec(s, "SELECT pg_advisory_xact_lock($1::bigint)", 1, v,
                         "cannot take the write lock");
        if (st) pg_rollback(s);
    }
    return st;
}

gw_status pg_commit(gw_store *s)
{
    pg_state *p = PG(s);
    if (p->in_tx != 1)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "commit without an open transaction on %s",
                            s->path);
    gw_status st = p->deferred ? gw_ctx_error(s->ctx, p->deferred,
                                              "cannot commit: an earlier bulk load failed in "
                                              "this transaction; roll back (%s)",
                                              p->deferred_msg)
                               : pg_flush_all(s);
    if (st) return st;
    st = pg_exec(s, "COMMIT", 0, NULL, "cannot commit");
    p->in_tx = 0; /* a failed COMMIT ends the transaction too */
    return st;
}

void pg_rollback(gw_store *s)
{
    pg_state *p = s ? PG(s) : NULL;
    if (!p || !p->conn) return;
    p->deferred = GW_OK;
    if (p->in_tx || PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        PQclear(PQexec(p->conn, "ROLLBACK"));
    p->in_tx = 0;
    p->nsp = 0;
}

gw_status pg_read_begin(gw_store *s)
{
    pg_state *p = PG(s);
    if (p->in_tx)
        return gw_ctx_error(s->ctx, GW_ERR_CONFLICT,
                            "a transaction is already open on %s; read only committed data, "
                            "after gw_store_commit()",
                            s->path);
    gw_status st = pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
                           "cannot start a read transaction");
    if (!st) p->in_tx = 2;
    return st;
}

void pg_read_end(gw_store *s)
{
    pg_state *p = PG(s);
    if (p->in_tx != 2) return;
    PQclear(PQexec(p->conn, "COMMIT"));
    p->in_tx = 0;
}

int pg_in_transaction(gw_store *s) { return PG(s)->in_tx != 0; }

/* ---- meta ---------------------------------------------------------------------------------- */

gw_status pg_meta_get(gw_store *s, const char *key, char *buf, size_t cap)
{
    if (!key || !buf || cap == 0)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_meta_get: no key or buffer");
    const char *v[] = {key};
    gw_status st;
    PGresult *r = pg_run(s, "SELECT value FROM meta WHERE key = $1", 1, v, NULL, "cannot read meta",
                         &st);
    if (!r) return st;
    if (PQntuples(r) == 0) {
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no meta key '%s' in %s", key, s->path);
    } else {
        size_t len = PQgetisnull(r, 0, 0) ? 0 : (size_t)PQgetlength(r, 0, 0);
        if (len >= cap)
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "meta '%s' is %zu bytes, buffer holds %zu", key,
                              len, cap - 1);
        else {
            memcpy(buf, PQgetvalue(r, 0, 0), len);
            buf[len] = '\0';
        }
    }
    PQclear(r);
    return st;
}

gw_status pg_meta_set(gw_store *s, const char *key, const char *value)
{
    if (!key || !*key) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_meta_set: no key");
    const char *v[] = {key, value};
    gw_status st = pg_write_begin(s);
    if (!st)
        st = pg_exec(s,
                     "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value",
                     2, v, "cannot write meta");
    return pg_write_end(s, st);
}

gw_status pg_grid_version(gw_store *s, int64_t *v)
{
    int found;
    gw_status st = pg_query_int(s, "SELECT value::bigint FROM meta WHERE key = 'grid_version'", 0,
                                NULL, v, &found);
    if (!st && (!found || *v < 1)) *v = 1;
    return st;
}

/* ---- counts, extent, clear ----------------------------------------------------------------- */

/* "<select> FROM <layer> [WHERE version = <current>]" into sql. */
static gw_status layer_sql(gw_store *s, gw_layer layer, const char *select, char *sql, size_t cap)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    int64_t gv = 0;
    if (layer == GW_LAYER_GRIDS) {
        gw_status st = pg_grid_version(s, &gv);
        if (st) return st;
        snprintf(sql, cap, "%s FROM grids WHERE version = %lld", select, (long long)gv);
    } else {
        snprintf(sql, cap, "%s FROM %s", select, gw_layer_name(layer));
    }
    return GW_OK;
}

gw_status pg_count(gw_store *s, gw_layer layer, int64_t *n)
{
    if (!n) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_count: no output");
    char sql[256];
    gw_status st = pg_flush_all(s);
    if (!st) st = layer_sql(s, layer, "SELECT count(*)", sql, sizeof sql);
    return st ? st : pg_query_int(s, sql, 0, NULL, n, NULL);
}

gw_status pg_nth_id(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap)
{
    if (!buf || !cap || k < 0)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_nth_id: bad argument");
    char sql[256], off[32];
    snprintf(off, sizeof off, "%lld", (long long)k);
    gw_status st = pg_flush_all(s);
    if (!st) st = layer_sql(s, layer, "SELECT id", sql, sizeof sql);
    if (st) return st;
    strncat(sql, " ORDER BY id LIMIT 1 OFFSET $1", sizeof sql - strlen(sql) - 1);
    const char *v[] = {off};
    PGresult *r = pg_run(s, sql, 1, v, NULL, "cannot read an id", &st);
    if (!r) return st;
    if (PQntuples(r) == 0) st = GW_ERR_NOT_FOUND;
    else if ((size_t)PQgetlength(r, 0, 0) >= cap)
        st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s row %lld: id longer than %zu bytes",
                          gw_layer_name(layer), (long long)k, cap - 1);
    else memcpy(buf, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0) + 1);
    PQclear(r);
    return st;
}

gw_status pg_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_extent: no output");
    char sql[320];
    gw_status st = pg_flush_all(s);
    if (!st)
        st = layer_sql(s, layer,
                       "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                       "ST_Extent(geom)::box2d AS e",
                       sql, sizeof sql);
    if (st) return st;
    strncat(sql, ") x", sizeof sql - strlen(sql) - 1);
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, "cannot compute the extent", &st);
    if (!r) return st;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0))
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "layer %s is empty", gw_layer_name(layer));
    else
        *out = (gw_bbox){strtod(PQgetvalue(r, 0, 0), NULL), strtod(PQgetvalue(r, 0, 1), NULL),
                         strtod(PQgetvalue(r, 0, 2), NULL), strtod(PQgetvalue(r, 0, 3), NULL)};
    PQclear(r);
    return st;
}

gw_status pg_clear(gw_store *s, gw_layer layer)
{
    gw_bbox box;
    int have_box = 0;
    gw_status st = pg_extent(s, layer, &box);
    if (st == GW_OK) have_box = 1;
    else if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(s->ctx);
    char sql[256];
    if ((st = pg_write_begin(s))) return st;
    st = layer_sql(s, layer, "DELETE", sql, sizeof sql);
    if (!st) st = pg_exec(s, sql, 0, NULL, "cannot clear the layer");
    if (!st) st = pg_log_change(s, layer, "clear", NULL, have_box ? &box : NULL, NULL);
    return pg_write_end(s, st);
}

/* ---- change log and audit ------------------------------------------------------------------ */

gw_status pg_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                        const gw_bbox *bbox, int64_t *seq)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    if (!op || !*op) return gw_ctx_error(s->ctx, GW_ERR_ARG, "change log: no operation given");
    char b[4][32];
    if (bbox)
        pg_f64(b[0], bbox->minx), pg_f64(b[1], bbox->miny), pg_f64(b[2], bbox->maxx),
            pg_f64(b[3], bbox->maxy);
    const char *v[] = {gw_layer_name(layer), op,
                       feature_id,           bbox ? b[0] : NULL,
                       bbox ? b[1] : NULL,   bbox ? b[2] : NULL,
                       bbox ? b[3] : NULL};
    gw_status st = pg_write_begin(s);
    int64_t got = 0;
    if (!st)
        st = pg_query_int(s,
                          "WITH c AS (INSERT INTO changelog (at, layer, op, feature_id, minx, "
                          "miny, maxx, maxy) VALUES (date_trunc('second', now()), $1, $2, $3, $4, "
                          "$5, $6, $7) RETURNING seq) SELECT seq, pg_notify('gw_changes', "
                          "seq::text) FROM c",
                          7, v, &got, NULL);
    st = pg_write_end(s, st);
    if (!st && seq) *seq = got;
    return st;
}

gw_status pg_last_seq(gw_store *s, int64_t *seq)
{
    if (!seq) return GW_ERR_ARG;
    /* the identity's high-water mark survives deleted log rows, as sqlite_sequence does */
    return pg_query_int(s,
                        "SELECT GREATEST(COALESCE((SELECT max(seq) FROM changelog), 0), "
                        "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "
                        "changelog_seq_seq))",
                        0, NULL, seq, NULL);
}

gw_status pg_audit(gw_store *s, const char *who, const char *action, const char *detail)
{
    if (!action || !*action) return gw_ctx_error(s->ctx, GW_ERR_ARG, "audit: no action given");
    const char *v[] = {who, action, detail};
    gw_status st = pg_write_begin(s);
    if (!st)
        st = pg_exec(s,
                     "INSERT INTO audit_log (at, who, action, detail) VALUES "
                     "(date_trunc('second', now()), $1, $2, $3)",
                     3, v, "cannot append to the audit log");
    return pg_write_end(s, st);
}

void pg_close(gw_store *s)
{
    if (!s) return;
    pg_state *p = PG(s);
    if (p) {
        if (p->conn) {
            pg_rollback(s);
            PQfinish(p->conn);
        }
        free(p);
    }
    free(s->path);
    free(s);
}
