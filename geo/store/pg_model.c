/* pg_model.c — the PostgreSQL engine's 'model' topic (ops_model.h; the contract is
 * include/gridwatch/store_model.h): the current rows of changed ids, fetched a few hundred
 * ids per statement (unnest … WITH ORDINALITY keeps the callers' order and shows a gone id as
 * a row without fid), and the count of rows past a fid.  Grids are those of the published
 * version, as the cursor gives them. */
#include "ops_model.h"
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_BATCH 500
#define MODEL_MAX_FIELDS 16

static gw_status pg_model_rows(gw_store *s, gw_layer layer, char *const *ids, size_t n,
                               gw_store_model_row_fn fn, void *user)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    size_t nf;
    gw_layer_fields(layer, &nf);
    if (nf > MODEL_MAX_FIELDS) return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "too many fields");
    gw_status st = pg_flush_all(s);
    int64_t gv = 0;
    if (!st && layer == GW_LAYER_GRIDS) st = pg_grid_version(s, &gv);
    if (st) return st;
    char sel[700], sql[1100], ver[64] = "";
    pg_row_select(layer, sel, sizeof sel);
    if (layer == GW_LAYER_GRIDS) snprintf(ver, sizeof ver, " AND version = %lld", (long long)gv);
    snprintf(sql, sizeof sql,
             "SELECT i.n, %s FROM unnest($1::text[]) WITH ORDINALITY AS i(want, n) LEFT JOIN "
             "\"%s\" ON id = i.want%s ORDER BY i.n",
             sel, gw_layer_name(layer), ver);
    gw_value vals[MODEL_MAX_FIELDS];
    int stop = 0;
    for (size_t at = 0; !st && !stop && at < n; at += MODEL_BATCH) {
        size_t k = n - at < MODEL_BATCH ? n - at : MODEL_BATCH;
        pg_buf arr = {0};
        pg_buf_text_array(&arr, (const char *const *)(ids + at), k);
        if (arr.oom) {
            free(arr.p);
            return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
        }
        const char *v[] = {arr.p};
        PGresult *r = pg_run(s, sql, 1, v, NULL, "cannot read changed rows", &st);
        free(arr.p);
        for (int i = 0, rows = r ? PQntuples(r) : 0; !st && !stop && i < rows; i++) {
            size_t idx = at + (size_t)strtoll(PQgetvalue(r, i, 0), NULL, 10) - 1;
            if (PQgetisnull(r, i, 1)) {
                stop = fn(user, idx, NULL);
                continue;
            }
            gw_row row;
            unsigned char *wkb = NULL;
            st = pg_decode_row(s, r, i, 1, layer, vals, &row, &wkb);
            if (!st) stop = fn(user, idx, &row);
            free(wkb);
        }
        PQclear(r);
    }
    return st;
}

static gw_status pg_model_count_after(gw_store *s, gw_layer layer, int64_t fid, int64_t *n)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    gw_status st = pg_flush_all(s);
    int64_t gv = 0;
    if (!st && layer == GW_LAYER_GRIDS) st = pg_grid_version(s, &gv);
    if (st) return st;
    char sql[200], f[24];
    pg_i64(f, fid);
    const char *v[] = {f};
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM grids WHERE fid > $1::bigint AND version = %lld",
                 (long long)gv);
    else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE fid > $1::bigint",
                 gw_layer_name(layer));
    *n = 0;
    return pg_query_int(s, sql, 1, v, n, NULL);
}

const struct gw_store_model_ops st_pg_model_ops = {
    .rows = pg_model_rows,
    .count_after = pg_model_count_after,
};
