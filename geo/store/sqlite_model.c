/* sqlite_model.c — the SQLite engine's reads for the model's incremental refresh
 * (store_model.h). */
#include "ops_model.h"
#include "sqlite_bulk.h"

#include <stdio.h>

gw_status sq_model_rows(gw_store *s, gw_layer layer, char *const *ids, size_t n,
                        gw_store_model_row_fn fn, void *user)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    size_t nf;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    if (nf > GW_MAX_FIELDS) return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "too many fields");
    char cols[512], sql[800];
    st_column_list(fields, nf, cols, sizeof cols);
    snprintf(sql, sizeof sql, "SELECT fid, %s, AsBinary(geom) FROM \"%s\" WHERE id = ?1", cols,
             gw_layer_name(layer));
    sqlite3_stmt *q = NULL;
    if ((st = st_prepare(s, sql, 0, &q, "cannot read changed rows"))) return st;
    gw_value vals[GW_MAX_FIELDS];
    for (size_t i = 0; !st && i < n; i++) {
        sqlite3_bind_text(q, 1, ids[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            gw_row row;
            st = st_decode_row(s, q, layer, vals, &row);
            if (!st && fn(user, i, &row)) break;
        } else if (rc == SQLITE_DONE) {
            if (fn(user, i, NULL)) break;
        } else {
            st = st_fail(s, "cannot read changed rows");
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_model_count_after(gw_store *s, gw_layer layer, int64_t fid, int64_t *n)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE fid > ?1", gw_layer_name(layer));
    sqlite3_stmt *q = NULL;
    if ((st = st_prepare(s, sql, 0, &q, "cannot count new rows"))) return st;
    sqlite3_bind_int64(q, 1, fid);
    if (sqlite3_step(q) == SQLITE_ROW) *n = sqlite3_column_int64(q, 0);
    else st = st_fail(s, "cannot count new rows");
    sqlite3_finalize(q);
    return st;
}
