/* sqlite_cursor.c — the SQLite engine's layer cursor: rows in id order, values decoded into
 * gw_value (stored ISO 8601 times back to epoch seconds). */
#include "sqlite_bulk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cursor -------------------------------------------------------------------------------- */

gw_status sq_cursor_create(gw_store *s, gw_layer layer, const char *from_id, const char *to_id,
                           gw_cursor **out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_cursor_create: no output");
    *out = NULL;
    gw_cursor *cur = calloc(1, sizeof *cur);
    if (!cur) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    cur->store = s;
    cur->layer = layer;
    cur->fields = gw_layer_fields(layer, &cur->nf);
    if (cur->nf > GW_MAX_FIELDS) {
        free(cur);
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "layer %s has too many fields",
                            gw_layer_name(layer));
    }
    char cols[512], sel[700];
    st_column_list(cur->fields, cur->nf, cols, sizeof cols);
    /* a point's blob is decoded here, not by SpatiaLite (AsBinary parses it into a geometry
     * and writes it out again, two allocations a row: ~15 % of a million incidents' load) */
    cur->raw = gw_layer_is_point(layer);
    snprintf(sel, sizeof sel, "SELECT fid, %s, %s", cols, cur->raw ? "geom" : "AsBinary(geom)");
    /* the range's bounds as ?2 and ?3 (?1 is the grids' version) */
    char where[80];
    const char *glue = layer == GW_LAYER_GRIDS ? " AND" : " WHERE";
    snprintf(where, sizeof where, "%s%s%s%s ORDER BY id", from_id || to_id ? glue : "",
             from_id ? " id >= ?2" : "", from_id && to_id ? " AND" : "", to_id ? " id < ?3" : "");
    if ((st = st_layer_query(s, layer, sel, where, &cur->st))) {
        free(cur);
        return st;
    }
    if (from_id) sqlite3_bind_text(cur->st, 2, from_id, -1, SQLITE_TRANSIENT);
    if (to_id) sqlite3_bind_text(cur->st, 3, to_id, -1, SQLITE_TRANSIENT);
    *out = cur;
    return GW_OK;
}

gw_status sq_nth_id(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!buf || !cap || k < 0)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_nth_id: bad argument");
    sqlite3_stmt *q;
    if ((st = st_layer_query(s, layer, "SELECT id", " ORDER BY id LIMIT 1 OFFSET ?2", &q)))
        return st;
    sqlite3_bind_int64(q, 2, k);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        if (!id || strlen(id) >= cap)
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s row %lld: id longer than %zu bytes",
                              gw_layer_name(layer), (long long)k, cap - 1);
        else memcpy(buf, id, strlen(id) + 1);
    } else if (rc == SQLITE_DONE) {
        st = GW_ERR_NOT_FOUND;
    } else {
        st = st_fail(s, "cannot read an id");
    }
    sqlite3_finalize(q);
    return st;
}

/* The stored form "YYYY-MM-DDTHH:MM:SSZ" without locale or allocation; 0 if not that shape. */
static int parse_stored_time(const char *t, int len, int64_t *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (len != 20) return 0;
    for (int i = 0; i < 20; i++) {
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return 0;
    }
#define D2(p) ((t[p] - '0') * 10 + (t[(p) + 1] - '0'))
    int y = D2(0) * 100 + D2(2), mo = D2(5), d = D2(8), h = D2(11), mi = D2(14), s = D2(17);
#undef D2
    return h < 24 && gw_time_from_civil(y, mo, d, h, mi, s, out) == 0;
}

gw_status st_decode_row(gw_store *s, sqlite3_stmt *q, gw_layer layer, gw_value *vals, gw_row *row)
{
    size_t nf;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    for (size_t i = 0; i < nf; i++) {
        int col = (int)i + 1;
        gw_value *v = &vals[i];
        *v = (gw_value){0};
        if (sqlite3_column_type(q, col) == SQLITE_NULL) continue;
        switch (fields[i].type) {
        case GW_FT_TEXT:
            v->kind = GW_VAL_TEXT;
            v->s = (const char *)sqlite3_column_text(q, col);
            break;
        case GW_FT_INT:
            v->kind = GW_VAL_INT;
            v->i = sqlite3_column_int64(q, col);
            break;
        case GW_FT_REAL:
            v->kind = GW_VAL_REAL;
            v->d = sqlite3_column_double(q, col);
            break;
        case GW_FT_TIME: {
            const char *t = (const char *)sqlite3_column_text(q, col);
            v->kind = GW_VAL_INT;
            if (!parse_stored_time(t, sqlite3_column_bytes(q, col), &v->i) &&
                gw_time_parse(s->ctx, t, "UTC", &v->i) != GW_OK) {
                /* Writes refuse such times (gw_time_check); a row written otherwise (by hand, an
                 * older build) is reported and read with the time unknown, so a start or a
                 * refresh never fails on it. */
                gw_ctx_clear_error(s->ctx);
                gw_ctx_warn(s->ctx,
                            "%s row %lld: field %s holds '%.40s', not an ISO 8601 time; read as "
                            "unknown (null)",
                            gw_layer_name(layer), (long long)sqlite3_column_int64(q, 0),
                            fields[i].name, t ? t : "");
                v->kind = GW_VAL_NULL;
            }
            break;
        }
        }
    }
    /* Text columns are fetched before the blob so that no earlier pointer is invalidated. */
    int gcol = (int)nf + 1;
    row->fid = sqlite3_column_int64(q, 0);
    row->values = vals;
    row->wkb = sqlite3_column_blob(q, gcol);
    row->wkb_len = (size_t)sqlite3_column_bytes(q, gcol);
    return GW_OK;
}

/* x, y of a SpatiaLite blob holding one XY point (0x00, endian, srid, mbr, 0x7C, class 1, x,
 * y, 0xFE: what MakePoint and st_point_blob write); 0 for anything else. */
static int blob_point(const unsigned char *b, size_t n, double *x, double *y)
{
    if (!b || n != ST_POINT_BLOB || b[0] != 0x00 || b[1] != 0x01 || b[38] != 0x7C ||
        b[59] != 0xFE || b[39] != 1 || b[40] || b[41] || b[42])
        return 0; /* little-endian hosts only, as the model's WKB reader */
    memcpy(x, b + 43, 8);
    memcpy(y, b + 51, 8);
    return 1;
}

/* row->wkb (a SpatiaLite blob) as ISO WKB. */
static gw_status blob_to_wkb(gw_cursor *cur, gw_row *row)
{
    double x, y;
    if (!row->wkb) return GW_OK;
    if (blob_point(row->wkb, row->wkb_len, &x, &y)) {
        cur->wkb[0] = 1;
        uint32_t t = 1;
        memcpy(cur->wkb + 1, &t, 4);
        memcpy(cur->wkb + 5, &x, 8);
        memcpy(cur->wkb + 13, &y, 8);
        row->wkb = cur->wkb, row->wkb_len = sizeof cur->wkb;
        return GW_OK;
    }
    gw_store *s = cur->store;
    if (!cur->conv && st_prepare(s, "SELECT AsBinary(?1)", 0, &cur->conv, "AsBinary"))
        return GW_ERR_DB;
    sqlite3_reset(cur->conv);
    sqlite3_bind_blob(cur->conv, 1, row->wkb, (int)row->wkb_len, SQLITE_TRANSIENT);
    if (sqlite3_step(cur->conv) != SQLITE_ROW) return st_fail(s, "cannot convert a geometry");
    row->wkb = sqlite3_column_blob(cur->conv, 0);
    row->wkb_len = (size_t)sqlite3_column_bytes(cur->conv, 0);
    return GW_OK;
}

gw_status sq_cursor_next(gw_cursor *cur, gw_row *row)
{
    if (!cur || !row) return GW_ERR_ARG;
    gw_store *s = cur->store;
    int rc = sqlite3_step(cur->st);
    if (rc == SQLITE_DONE) return GW_ERR_NOT_FOUND;
    if (rc != SQLITE_ROW) return st_fail(s, "cannot read the next row");
    gw_status st = st_decode_row(s, cur->st, cur->layer, cur->vals, row);
    return st || !cur->raw ? st : blob_to_wkb(cur, row);
}

void sq_cursor_destroy(gw_cursor *cur)
{
    if (!cur) return;
    sqlite3_finalize(cur->st);
    sqlite3_finalize(cur->conv);
    free(cur);
}
