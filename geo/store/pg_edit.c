/* pg_edit.c — the PostgreSQL engine's single-feature writes and lookups (ops_edit.h; the
 * contract is include/gridwatch/store_edit.h, the reference sqlite_edit.c).
 *
 * Each write runs under pg_write_begin: a savepoint inside the caller's transaction, so a
 * refused row (a duplicate id, a value a CHECK refuses) leaves the transaction usable as a
 * failed statement does on SQLite, or a transaction of its own holding the write lock.
 * Values go as text parameters (PostgreSQL types them from the columns; times are ISO 8601
 * text into timestamptz), grid geometry as binary WKB through ST_GeomFromWKB. */
#include "ops_edit.h"
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 16 /* parameters of one statement: a layer's fields, the geometry, the version */

/* The parameters of one statement, numbered as they are added. */
typedef struct params {
    int n;
    const char *v[MAXP];
    int len[MAXP];
    char buf[MAXP][32];
} params;

/* Add a text parameter (NULL: SQL NULL); returns its number ($n). */
static int add_text(params *p, const char *v)
{
    p->v[p->n] = v, p->len[p->n] = 0;
    return ++p->n;
}

static int add_i64(params *p, int64_t v)
{
    pg_i64(p->buf[p->n], v);
    return add_text(p, p->buf[p->n]);
}

static int add_f64(params *p, double v)
{
    pg_f64(p->buf[p->n], v);
    return add_text(p, p->buf[p->n]);
}

/* Field i of the row as a parameter (field 0 is the id: r->id wins). */
static int add_value(params *p, const gw_field *f, const gw_store_edit_row *r, size_t i)
{
    const gw_value *v = &r->values[i];
    if (i == 0) return add_text(p, r->id);
    switch (v->kind) {
    case GW_VAL_TEXT: return add_text(p, v->s);
    case GW_VAL_INT:
        if (f[i].type == GW_FT_TIME) {
            pg_time(p->buf[p->n], v->i);
            return add_text(p, p->buf[p->n]);
        }
        return add_i64(p, v->i);
    case GW_VAL_REAL: return add_f64(p, v->d);
    default: return add_text(p, NULL);
    }
}

/* The geometry's SQL with its parameter(s) added: WKB for grids (a MultiPolygon, 2-D), a
 * point from x and y for the point layers. */
static void add_geom(params *p, gw_layer layer, const gw_store_edit_row *r, char *out, size_t cap)
{
    if (layer == GW_LAYER_GRIDS) {
        p->v[p->n] = (const char *)r->wkb, p->len[p->n] = (int)r->wkb_len;
        int k = ++p->n;
        snprintf(out, cap, "ST_Multi(ST_Force2D(ST_GeomFromWKB($%d::bytea, 4326)))", k);
    } else {
        int kx = add_f64(p, r->x), ky = add_f64(p, r->y);
        snprintf(out, cap, "ST_SetSRID(ST_MakePoint($%d::float8, $%d::float8), 4326)", kx, ky);
    }
}

static size_t add(char *buf, size_t used, size_t cap, const char *fmt, const char *a)
{
    if (used < cap) used += (size_t)snprintf(buf + used, cap - used, fmt, a);
    return used;
}

/* Run a write of row r; a refusal becomes the status the SQLite engine gives for it. */
static gw_status run(gw_store *s, gw_layer layer, const gw_store_edit_row *r, const char *sql,
                     const params *p)
{
    gw_status st = pg_write_begin(s);
    if (st) return st;
    int fmts[MAXP];
    for (int i = 0; i < p->n; i++) fmts[i] = p->len[i] > 0;
    PGresult *res = PQexecParams(PG(s)->conn, sql, p->n, NULL, p->v, p->len, fmts, 0);
    ExecStatusType t = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg) msg = PQerrorMessage(PG(s)->conn);
        if (!state) state = "";
        if (strcmp(state, "23505") == 0)
            st = gw_ctx_error(s->ctx, GW_ERR_CONFLICT, "%s: id '%s' exists already", r->label,
                              r->id);
        else if (strcmp(state, "23514") == 0)
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s: a value is out of range (%s)", r->label,
                              msg);
        else if (strcmp(state, "23502") == 0 || strcmp(state, "22023") == 0 ||
                 strcmp(state, "XX000") == 0)
            st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s: the geometry was refused (%s)",
                              r->label, msg);
        else if (strncmp(state, "22", 2) == 0)
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s: a value is out of range (%s)", r->label,
                              msg);
        else {
            char what[96];
            snprintf(what, sizeof what, "%s write", gw_layer_name(layer));
            st = pg_fail(s, res, what);
        }
    }
    PQclear(res);
    return pg_write_end(s, st);
}

static gw_status check_row(gw_store *s, gw_layer layer, const gw_store_edit_row *r, size_t nf)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    if (!r || !r->id || !r->values)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s write: no row", gw_layer_name(layer));
    if (nf + 3 > MAXP)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s write: too many fields", gw_layer_name(layer));
    if (r->has_geom && layer == GW_LAYER_GRIDS && (!r->wkb || !r->wkb_len))
        return gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s: the geometry was refused (no WKB)",
                            r->label);
    return GW_OK;
}

static gw_status pg_edit_insert(gw_store *s, gw_layer layer, int64_t grid_version,
                                const gw_store_edit_row *r)
{
    size_t nf = 0;
    const gw_field *f = gw_layer_fields(layer, &nf);
    gw_status st = check_row(s, layer, r, nf);
    if (st) return st;
    if (!r->has_geom)
        return gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s: the geometry was refused (none given)",
                            r->label);
    params p = {0};
    char sql[2048], ph[16], g[128];
    size_t u = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (", gw_layer_name(layer));
    for (size_t i = 0; i < nf; i++)
        u = add(sql, u, sizeof sql, i ? ", \"%s\"" : "\"%s\"", f[i].name);
    u = add(sql, u, sizeof sql, "%s, geom) VALUES (", layer == GW_LAYER_GRIDS ? ", version" : "");
    for (size_t i = 0; i < nf; i++) {
        snprintf(ph, sizeof ph, "%s$%d", i ? ", " : "", add_value(&p, f, r, i));
        u = add(sql, u, sizeof sql, "%s", ph);
    }
    if (layer == GW_LAYER_GRIDS) {
        snprintf(ph, sizeof ph, ", $%d", add_i64(&p, grid_version));
        u = add(sql, u, sizeof sql, "%s", ph);
    }
    add_geom(&p, layer, r, g, sizeof g);
    add(sql, u, sizeof sql, ", %s)", g);
    return run(s, layer, r, sql, &p);
}

static gw_status pg_edit_update(gw_store *s, gw_layer layer, int64_t grid_version,
                                const gw_store_edit_row *r)
{
    size_t nf = 0;
    const gw_field *f = gw_layer_fields(layer, &nf);
    gw_status st = check_row(s, layer, r, nf);
    if (st) return st;
    params p = {0};
    char sql[2048], ph[96], g[128];
    int kid = add_text(&p, r->id);
    size_t u = (size_t)snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"id\" = $%d",
                                gw_layer_name(layer), kid);
    for (size_t i = 1; i < nf; i++) {
        if (r->given && !r->given[i]) continue;
        snprintf(ph, sizeof ph, ", \"%s\" = $%d", f[i].name, add_value(&p, f, r, i));
        u = add(sql, u, sizeof sql, "%s", ph);
    }
    if (r->has_geom) {
        add_geom(&p, layer, r, g, sizeof g);
        u = add(sql, u, sizeof sql, ", geom = %s", g);
    }
    snprintf(ph, sizeof ph, " WHERE id = $%d", kid);
    u = add(sql, u, sizeof sql, "%s", ph);
    if (layer == GW_LAYER_GRIDS) {
        snprintf(ph, sizeof ph, " AND version = $%d", add_i64(&p, grid_version));
        add(sql, u, sizeof sql, "%s", ph);
    }
    return run(s, layer, r, sql, &p);
}

static gw_status pg_edit_delete(gw_store *s, gw_layer layer, int64_t grid_version, const char *id)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    char sql[256], gv[24], what[64];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE id = $1%s", gw_layer_name(layer),
             layer == GW_LAYER_GRIDS ? " AND version = $2" : "");
    snprintf(what, sizeof what, "%s delete", gw_layer_name(layer));
    pg_i64(gv, grid_version);
    const char *v[] = {id, gv};
    gw_status st = pg_write_begin(s);
    if (!st) st = pg_exec(s, sql, layer == GW_LAYER_GRIDS ? 2 : 1, v, what);
    return pg_write_end(s, st);
}

static gw_status pg_edit_lookup(gw_store *s, gw_layer layer, int64_t grid_version, const char *id,
                                int *found, gw_bbox *box)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    char sql[256], gv[24], what[64];
    snprintf(sql, sizeof sql,
             "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
             "FROM \"%s\" WHERE id = $1%s",
             gw_layer_name(layer), layer == GW_LAYER_GRIDS ? " AND version = $2" : "");
    snprintf(what, sizeof what, "%s lookup", gw_layer_name(layer));
    pg_i64(gv, grid_version);
    const char *v[] = {id, gv};
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *res = pg_run(s, sql, layer == GW_LAYER_GRIDS ? 2 : 1, v, NULL, what, &st);
    if (!res) return st;
    *found = PQntuples(res) > 0;
    if (*found)
        *box = (gw_bbox){strtod(PQgetvalue(res, 0, 0), NULL), strtod(PQgetvalue(res, 0, 1), NULL),
                         strtod(PQgetvalue(res, 0, 2), NULL), strtod(PQgetvalue(res, 0, 3), NULL)};
    PQclear(res);
    return GW_OK;
}

static gw_status pg_edit_grid_at(gw_store *s, int64_t grid_version, double lon, double lat,
                                 char *out, size_t cap)
{
    char x[32], y[32], gv[24];
    pg_f64(x, lon), pg_f64(y, lat), pg_i64(gv, grid_version);
    const char *v[] = {x, y, gv};
    out[0] = '\0';
    gw_status st;
    /* COLLATE "C": the lowest id in byte order, as SQLite compares text */
    PGresult *res = pg_run(s,
                           "SELECT id FROM grids WHERE version = $3 AND ST_Intersects(geom, "
                           "ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326)) "
                           "ORDER BY id COLLATE \"C\" LIMIT 1",
                           3, v, NULL, "incidents grid lookup", &st);
    if (!res) return st;
    if (PQntuples(res) > 0) snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return GW_OK;
}

static gw_status pg_edit_rooms_in(gw_store *s, const gw_bbox *box, gw_store_room_fn fn, void *user)
{
    char b[4][32];
    pg_f64(b[0], box->minx), pg_f64(b[1], box->miny), pg_f64(b[2], box->maxx),
        pg_f64(b[3], box->maxy);
    const char *v[] = {b[0], b[1], b[2], b[3]};
    gw_status st;
    PGresult *res = pg_run(s,
                           "SELECT id, ST_X(geom), ST_Y(geom) FROM police_rooms WHERE geom && "
                           "ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326) "
                           "ORDER BY fid",
                           4, v, NULL, "police_rooms police room lookup", &st);
    if (!res) return st;
    for (int i = 0; i < PQntuples(res); i++)
        if (fn(user, PQgetvalue(res, i, 0), strtod(PQgetvalue(res, i, 1), NULL),
               strtod(PQgetvalue(res, i, 2), NULL)))
            break;
    PQclear(res);
    return GW_OK;
}

const struct gw_store_edit_ops st_pg_edit_ops = {
    .insert = pg_edit_insert,
    .update = pg_edit_update,
    .delete = pg_edit_delete,
    .lookup = pg_edit_lookup,
    .grid_at = pg_edit_grid_at,
    .rooms_in = pg_edit_rooms_in,
};
