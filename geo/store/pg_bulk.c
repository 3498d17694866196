/* pg_bulk.c — the PostgreSQL engine's bulk inserter and layer cursor.
 *
 * The inserter checks each feature as the SQLite one does, then buffers it as a line of COPY's
 * text format (geometry as hex EWKB with SRID 4326); the buffer goes to the server with one
 * `COPY … FROM STDIN` when it passes 4 MB, before any other statement that reads the layers
 * (count, extent, clear, commit), and at destroy.  Each COPY is a whole command, so several
 * live inserters on one connection do not interleave.  A constraint the server finds (a
 * duplicate id) fails that COPY — and the transaction — and comes back from the add, flush or
 * commit that sent it, with PostgreSQL's detail naming the row.
 *
 * The cursor streams its query in libpq's single-row mode: one row in memory at a time. */
#include "pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_BYTES ((size_t)4 << 20)
#define MAX_FIELDS 16

typedef struct pg_inserter {
    gw_store *store; /* first, as every engine's inserter (store.c finds the table through it) */
    struct pg_inserter *next;
    gw_layer layer;
    const gw_field *fields;
    size_t nf;
    int64_t grid_version;
    pg_buf buf;
    char copy_sql[512];
} pg_inserter;

typedef struct pg_cursor {
    gw_store *store;
    gw_layer layer;
    int active; /* the query is still sending rows */
    PGresult *row;
    unsigned char *wkb;
    gw_value vals[MAX_FIELDS];
} pg_cursor;

/* ---- inserter -------------------------------------------------------------------------------- */

static gw_status flush(pg_inserter *ins)
{
    gw_store *s = ins->store;
    pg_state *p = PG(s);
    if (!ins->buf.n) return GW_OK;
    if (ins->buf.oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory buffering rows");
    PGresult *r = PQexec(p->conn, ins->copy_sql);
    gw_status st = GW_OK;
    if (PQresultStatus(r) != PGRES_COPY_IN) st = pg_fail(s, r, "cannot start COPY");
    PQclear(r);
    if (!st && (PQputCopyData(p->conn, ins->buf.p, (int)ins->buf.n) != 1 ||
                PQputCopyEnd(p->conn, NULL) != 1))
        st = pg_fail(s, NULL, "cannot send rows");
    while (!st && (r = PQgetResult(p->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            st = pg_fail(s, r,
                         ins->layer == GW_LAYER_GRIDS ? "cannot load grids" : "cannot load rows");
        PQclear(r);
    }
    while (st && (r = PQgetResult(p->conn)) != NULL) PQclear(r);
    ins->buf.n = 0;
    if (st) {
        p->deferred = st;
        snprintf(p->deferred_msg, sizeof p->deferred_msg, "%s", gw_ctx_errmsg(s->ctx));
    }
    return st;
}

gw_status pg_flush_all(gw_store *s)
{
    pg_state *p = PG(s);
    for (pg_inserter *i = p->inserters; i; i = i->next) {
        gw_status st = flush(i);
        if (st) return st;
    }
    return GW_OK;
}

gw_status pg_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out)
{
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_inserter_create: no output");
    *out = NULL;
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    if (PG(s)->in_tx != 1)
        return gw_ctx_error(s->ctx, GW_ERR_ARG,
                            "a bulk insert needs a write transaction (gw_store_begin) on %s",
                            s->path);
    pg_inserter *ins = calloc(1, sizeof *ins);
    if (!ins) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    ins->store = s, ins->layer = layer;
    ins->fields = gw_layer_fields(layer, &ins->nf);
    gw_status st = layer == GW_LAYER_GRIDS ? pg_grid_version(s, &ins->grid_version) : GW_OK;
    if (st) {
        free(ins);
        return st;
    }
    size_t k = (size_t)snprintf(ins->copy_sql, sizeof ins->copy_sql, "COPY %s (",
                                gw_layer_name(layer));
    for (size_t i = 0; i < ins->nf && k < sizeof ins->copy_sql; i++)
        k += (size_t)snprintf(ins->copy_sql + k, sizeof ins->copy_sql - k, "\"%s\", ",
                              ins->fields[i].name);
    if (k < sizeof ins->copy_sql)
        snprintf(ins->copy_sql + k, sizeof ins->copy_sql - k, "%sgeom) FROM STDIN",
                 layer == GW_LAYER_GRIDS ? "version, " : "");
    ins->next = PG(s)->inserters;
    PG(s)->inserters = ins;
    *out = (gw_inserter *)ins;
    return GW_OK;
}

static gw_status put_values(pg_inserter *ins, const gw_value *v, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    pg_buf *b = &ins->buf;
    for (size_t i = 0; i < ins->nf; i++) {
        const gw_field *f = &ins->fields[i];
        char num[32];
        int ok = 1;
        if (v[i].kind == GW_VAL_NULL) {
            pg_buf_add(b, "\\N\t", 3);
            continue;
        }
        switch (f->type) {
        case GW_FT_TEXT:
            if ((ok = v[i].kind == GW_VAL_TEXT && v[i].s)) pg_buf_copy_text(b, v[i].s);
            break;
        case GW_FT_INT:
            if ((ok = v[i].kind == GW_VAL_INT))
                pg_i64(num, v[i].i), pg_buf_add(b, num, strlen(num));
            break;
        case GW_FT_REAL:
            if ((v[i].kind == GW_VAL_REAL && !isfinite(v[i].d)))
                return gw_ctx_error(ctx, GW_ERR_RANGE, "%s '%s': field %s is not a finite number",
                                    layer, id, f->name);
            if (v[i].kind == GW_VAL_REAL) pg_f64(num, v[i].d);
            else if (v[i].kind == GW_VAL_INT) pg_f64(num, (double)v[i].i);
            else ok = 0;
            if (ok) pg_buf_add(b, num, strlen(num));
            break;
        case GW_FT_TIME:
            if ((ok = v[i].kind == GW_VAL_INT))
                pg_time(num, v[i].i), pg_buf_add(b, num, strlen(num));
            break;
        }
        if (!ok) return st_kind_error(ctx, ins->layer, id, f, &v[i]);
        pg_buf_add(b, "\t", 1);
    }
    return GW_OK;
}

static uint32_t rd_u32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static double rd_f64(const unsigned char *p, int le)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = le ? p[i] : p[7 - i];
    double d;
    memcpy(&d, b, 8);
    return d;
}

static gw_status put_geometry(pg_inserter *ins, const gw_feature *f, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    pg_buf *b = &ins->buf;
    int le = f->wkb && f->wkb_len >= 5 ? f->wkb[0] == 1 : 1;
    unsigned t = f->wkb && f->wkb_len >= 5 && f->wkb[0] <= 1 ? rd_u32(f->wkb + 1, le) : 0;
    if (ins->layer == GW_LAYER_GRIDS) {
        if (!f->wkb) return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grids '%s': no geometry", id);
        if (t != 3 && t != 6)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "grids '%s': geometry is WKB type %u, expected Polygon (3) or "
                                "MultiPolygon (6)",
                                id, t);
        char num[24];
        pg_i64(num, ins->grid_version);
        pg_buf_add(b, num, strlen(num));
        pg_buf_add(b, "\t", 1);
        if (t == 6) {
            pg_hex_ewkb(f->wkb, f->wkb_len, b);
        } else { /* a Polygon as a MultiPolygon of one, the column's type */
            unsigned char *m = malloc(f->wkb_len + 9);
            if (!m) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
            m[0] = 1, m[1] = 6, m[2] = m[3] = m[4] = 0, m[5] = 1, m[6] = m[7] = m[8] = 0;
            memcpy(m + 9, f->wkb, f->wkb_len);
            pg_hex_ewkb(m, f->wkb_len + 9, b);
            free(m);
        }
        pg_buf_add(b, "\n", 1);
        return GW_OK;
    }
    double x = f->x, y = f->y;
    if (f->wkb) {
        if (t != 1 || f->wkb_len < 21)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "%s '%s': geometry is WKB type %u (%zu bytes), expected a Point",
                                layer, id, t, f->wkb_len);
        x = rd_f64(f->wkb + 5, le), y = rd_f64(f->wkb + 13, le);
    }
    if (!isfinite(x) || !isfinite(y))
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s '%s': empty or non-finite point", layer, id);
    if (x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "%s '%s': point (%.8g, %.8g) is outside lon/lat range (not "
                            "EPSG:4326?)",
                            layer, id, x, y);
    unsigned char w[21] = {1, 1, 0, 0, 0};
    memcpy(w + 5, &x, 8), memcpy(w + 13, &y, 8); /* little-endian hosts (x86-64, arm64) */
    pg_hex_ewkb(w, sizeof w, b);
    pg_buf_add(b, "\n", 1);
    return GW_OK;
}

gw_status pg_inserter_add(gw_inserter *gi, const gw_feature *f)
{
    pg_inserter *ins = (pg_inserter *)gi;
    gw_store *s = ins->store;
    if (!f || !f->values) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_inserter_add: no feature");
    const char *id = f->values[0].kind == GW_VAL_TEXT && f->values[0].s ? f->values[0].s : "";
    if (!*id)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s: a feature without an id",
                            gw_layer_name(ins->layer));
    size_t mark = ins->buf.n;
    gw_status st = put_values(ins, f->values, id);
    if (!st) st = put_geometry(ins, f, id);
    if (st) {
        ins->buf.n = mark; /* the row is not sent */
        if (ins->buf.p) ins->buf.p[mark] = '\0';
        return st;
    }
    return ins->buf.n >= FLUSH_BYTES ? flush(ins) : GW_OK;
}

void pg_inserter_destroy(gw_inserter *gi)
{
    pg_inserter *ins = (pg_inserter *)gi;
    if (!ins) return;
    pg_state *p = PG(ins->store);
    if (p->in_tx == 1) flush(ins); /* a failure is kept as deferred: commit reports it */
    for (pg_inserter **pp = (pg_inserter **)&p->inserters; *pp; pp = &(*pp)->next)
        if (*pp == ins) {
            *pp = ins->next;
            break;
        }
    free(ins->buf.p);
    free(ins);
}

/* ---- cursor ---------------------------------------------------------------------------------- */

void pg_row_select(gw_layer layer, char *buf, size_t cap)
{
    size_t nf = 0, k = (size_t)snprintf(buf, cap, "fid");
    const gw_field *f = gw_layer_fields(layer, &nf);
    for (size_t i = 0; i < nf && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k,
                              f[i].type == GW_FT_TIME ? ", extract(epoch FROM \"%s\")::bigint"
                                                      : ", \"%s\"",
                              f[i].name);
    if (k < cap) snprintf(buf + k, cap - k, ", ST_AsBinary(geom)");
}

gw_status pg_decode_row(gw_store *s, const PGresult *res, int r, int col0, gw_layer layer,
                        gw_value *vals, gw_row *row, unsigned char **wkb)
{
    size_t nf = 0;
    const gw_field *f = gw_layer_fields(layer, &nf);
    row->fid = strtoll(PQgetvalue(res, r, col0), NULL, 10);
    for (size_t i = 0; i < nf; i++) {
        int c = col0 + 1 + (int)i;
        gw_value *v = &vals[i];
        *v = (gw_value){0};
        if (PQgetisnull(res, r, c)) continue;
        const char *t = PQgetvalue(res, r, c);
        switch (f[i].type) {
        case GW_FT_TEXT: v->kind = GW_VAL_TEXT, v->s = t; break;
        case GW_FT_INT:
        case GW_FT_TIME: v->kind = GW_VAL_INT, v->i = strtoll(t, NULL, 10); break;
        case GW_FT_REAL: v->kind = GW_VAL_REAL, v->d = strtod(t, NULL); break;
        }
    }
    row->values = vals;
    int gc = col0 + 1 + (int)nf;
    *wkb = PQgetisnull(res, r, gc) ? NULL : pg_unhex(PQgetvalue(res, r, gc), &row->wkb_len);
    if (!*wkb) row->wkb_len = 0;
    row->wkb = *wkb;
    if (!PQgetisnull(res, r, gc) && !*wkb)
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "%s row %lld: cannot read its geometry",
                            gw_layer_name(layer), (long long)row->fid);
    return GW_OK;
}

gw_status pg_cursor_create(gw_store *s, gw_layer layer, const char *from_id, const char *to_id,
                           gw_cursor **out)
{
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_cursor_create: no output");
    *out = NULL;
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    gw_status st = pg_flush_all(s);
    if (st) return st;
    pg_cursor *cur = calloc(1, sizeof *cur);
    if (!cur) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    cur->store = s, cur->layer = layer;
    char sel[700], sql[1000], range[80];
    pg_row_select(layer, sel, sizeof sel);
    int64_t gv = 0;
    if (layer == GW_LAYER_GRIDS && (st = pg_grid_version(s, &gv))) {
        free(cur);
        return st;
    }
    /* the range's bounds as parameters $1 (from) and $2 (to), in the order given */
    const char *vals[2];
    int nv = 0;
    if (from_id) vals[nv++] = from_id;
    if (to_id) vals[nv++] = to_id;
    snprintf(range, sizeof range, "%s%s%s", from_id ? " AND id >= $1" : "",
             to_id ? (from_id ? " AND id < $2" : " AND id < $1") : "", "");
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql, "SELECT %s FROM grids WHERE version = %lld%s ORDER BY id", sel,
                 (long long)gv, range);
    else
        snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE true%s ORDER BY id", sel,
                 gw_layer_name(layer), range);
    if (!PQsendQueryParams(PG(s)->conn, sql, nv, NULL, vals, NULL, NULL, 0) ||
        !PQsetSingleRowMode(PG(s)->conn)) {
        st = pg_fail(s, NULL, "cannot read the layer");
        PGresult *r;
        while ((r = PQgetResult(PG(s)->conn)) != NULL) PQclear(r);
        free(cur);
        return st;
    }
    cur->active = 1;
    *out = (gw_cursor *)cur;
    return GW_OK;
}

/* Read the rest of the query's results (the connection is usable again). */
static void drain(pg_cursor *cur)
{
    PGresult *r;
    while (cur->active && (r = PQgetResult(PG(cur->store)->conn)) != NULL) PQclear(r);
    cur->active = 0;
}

gw_status pg_cursor_next(gw_cursor *gc, gw_row *row)
{
    pg_cursor *cur = (pg_cursor *)gc;
    if (!cur || !row) return GW_ERR_ARG;
    PQclear(cur->row), cur->row = NULL;
    free(cur->wkb), cur->wkb = NULL;
    if (!cur->active) return GW_ERR_NOT_FOUND;
    PGresult *r = PQgetResult(PG(cur->store)->conn);
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_TUPLES_OK;
    if (t == PGRES_SINGLE_TUPLE) {
        cur->row = r;
        return pg_decode_row(cur->store, r, 0, 0, cur->layer, cur->vals, row, &cur->wkb);
    }
    gw_status st = t == PGRES_TUPLES_OK ? GW_ERR_NOT_FOUND
                                        : pg_fail(cur->store, r, "cannot read the next row");
    PQclear(r);
    drain(cur);
    return st;
}

void pg_cursor_destroy(gw_cursor *gc)
{
    pg_cursor *cur = (pg_cursor *)gc;
    if (!cur) return;
    PQclear(cur->row);
    free(cur->wkb);
    /* outside a transaction a cancel ends the query early; inside one it would abort the
     * transaction, so the rest is read and dropped */
    if (cur->active && !PG(cur->store)->in_tx) PQrequestCancel(PG(cur->store)->conn);
    drain(cur);
    free(cur);
}
