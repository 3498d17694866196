/* sqlite_edit.c — the SQLite engine's single-feature writes and lookups (store_edit.h). */
#include "ops_edit.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static gw_status edit_fail(gw_store *s, gw_layer layer, const char *what)
{
    return gw_ctx_error(s->ctx, GW_ERR_DB, "%s %s: %s (database %s)", gw_layer_name(layer), what,
                        sqlite3_errmsg(s->db), s->path);
}

static size_t add(char *buf, size_t used, size_t cap, const char *fmt, const char *a)
{
    if (used < cap) used += (size_t)snprintf(buf + used, cap - used, fmt, a);
    return used;
}

/* Bind values (param i+1 = field i), the geometry (nf+1, nf+2), the grid version (nf+3). */
static void bind_all(sqlite3_stmt *q, size_t nf, gw_layer layer, int64_t gv,
                     const gw_store_edit_row *r)
{
    for (size_t i = 0; i < nf; i++) {
        const gw_value *v = &r->values[i];
        int p = (int)i + 1;
        if (i == 0) sqlite3_bind_text(q, p, r->id, -1, SQLITE_STATIC);
        else if (v->kind == GW_VAL_TEXT) sqlite3_bind_text(q, p, v->s, -1, SQLITE_STATIC);
        else if (v->kind == GW_VAL_INT) sqlite3_bind_int64(q, p, v->i);
        else if (v->kind == GW_VAL_REAL) sqlite3_bind_double(q, p, v->d);
        else sqlite3_bind_null(q, p);
    }
    int gp = (int)nf + 1;
    if (r->has_geom && layer == GW_LAYER_GRIDS) {
        sqlite3_bind_blob(q, gp, r->wkb, (int)r->wkb_len, SQLITE_STATIC);
    } else if (r->has_geom) {
        sqlite3_bind_double(q, gp, r->x);
        sqlite3_bind_double(q, gp + 1, r->y);
    }
    sqlite3_bind_int64(q, gp + 2, gv);
}

static gw_status run(gw_store *s, gw_layer layer, int64_t gv, const gw_store_edit_row *r,
                     const char *sql)
{
    size_t nf;
    gw_layer_fields(layer, &nf);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return edit_fail(s, layer, "write");
    bind_all(q, nf, layer, gv, r);
    gw_status st = GW_OK;
    if (sqlite3_step(q) != SQLITE_DONE) {
        switch (sqlite3_extended_errcode(s->db)) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            st = gw_ctx_error(s->ctx, GW_ERR_CONFLICT, "%s: id '%s' exists already", r->label,
                              r->id);
            break;
        case SQLITE_CONSTRAINT_CHECK:
            st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s: a value is out of range (%s)", r->label,
                              sqlite3_errmsg(s->db));
            break;
        case SQLITE_CONSTRAINT_NOTNULL:
        case SQLITE_CONSTRAINT_TRIGGER:
            st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s: the geometry was refused (%s)",
                              r->label, sqlite3_errmsg(s->db));
            break;
        default: st = edit_fail(s, layer, "write");
        }
    }
    sqlite3_finalize(q);
    return st;
}

/* The SQL of the geometry parameter(s): WKB for grids, x and y for points. */
static void geom_expr(gw_layer layer, size_t nf, char *buf, size_t cap)
{
    if (layer == GW_LAYER_GRIDS)
        snprintf(buf, cap, "CastToMultiPolygon(CastToXY(GeomFromWKB(?%zu, 4326)))", nf + 1);
    else snprintf(buf, cap, "MakePoint(?%zu, ?%zu, 4326)", nf + 1, nf + 2);
}

gw_status sq_edit_insert(gw_store *s, gw_layer layer, int64_t grid_version,
                         const gw_store_edit_row *r)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    size_t nf;
    const gw_field *f = gw_layer_fields(layer, &nf);
    char sql[2048], p[32];
    size_t u = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (", gw_layer_name(layer));
    for (size_t i = 0; i < nf; i++)
        u = add(sql, u, sizeof sql, i ? ", \"%s\"" : "\"%s\"", f[i].name);
    u = add(sql, u, sizeof sql, "%s, geom) VALUES (", layer == GW_LAYER_GRIDS ? ", version" : "");
    for (size_t i = 0; i < nf; i++) {
        snprintf(p, sizeof p, "%s?%zu", i ? ", " : "", i + 1);
        u = add(sql, u, sizeof sql, "%s", p);
    }
    if (layer == GW_LAYER_GRIDS) {
        snprintf(p, sizeof p, ", ?%zu, ", nf + 3);
        u = add(sql, u, sizeof sql, "%s", p);
    } else {
        u = add(sql, u, sizeof sql, "%s", ", ");
    }
    char g[128];
    geom_expr(layer, nf, g, sizeof g);
    add(sql, u, sizeof sql, "%s)", g);
    return run(s, layer, grid_version, r, sql);
}

gw_status sq_edit_update(gw_store *s, gw_layer layer, int64_t grid_version,
                         const gw_store_edit_row *r)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    size_t nf;
    const gw_field *f = gw_layer_fields(layer, &nf);
    char sql[2048], p[64];
    size_t u = (size_t)snprintf(sql, sizeof sql, "UPDATE \"%s\" SET \"id\" = ?1",
                                gw_layer_name(layer));
    for (size_t i = 1; i < nf; i++) {
        if (r->given && !r->given[i]) continue;
        snprintf(p, sizeof p, ", \"%s\" = ?%zu", f[i].name, i + 1);
        u = add(sql, u, sizeof sql, "%s", p);
    }
    if (r->has_geom) {
        char g[128];
        geom_expr(layer, nf, g, sizeof g);
        u = add(sql, u, sizeof sql, ", geom = %s", g);
    }
    snprintf(p, sizeof p, " WHERE id = ?1%s", layer == GW_LAYER_GRIDS ? " AND version = ?" : "");
    u = add(sql, u, sizeof sql, "%s", p);
    if (layer == GW_LAYER_GRIDS) {
        snprintf(p, sizeof p, "%zu", nf + 3);
        add(sql, u, sizeof sql, "%s", p);
    }
    return run(s, layer, grid_version, r, sql);
}

gw_status sq_edit_delete(gw_store *s, gw_layer layer, int64_t grid_version, const char *id)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE id = ?1%s", gw_layer_name(layer),
             layer == GW_LAYER_GRIDS ? " AND version = ?2" : "");
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return edit_fail(s, layer, "delete");
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (layer == GW_LAYER_GRIDS) sqlite3_bind_int64(q, 2, grid_version);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? GW_OK : edit_fail(s, layer, "delete");
}

gw_status sq_edit_lookup(gw_store *s, gw_layer layer, int64_t grid_version, const char *id,
                         int *found, gw_bbox *box)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) "
             "FROM \"%s\" WHERE id = ?1%s",
             gw_layer_name(layer), layer == GW_LAYER_GRIDS ? " AND version = ?2" : "");
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return edit_fail(s, layer, "lookup");
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    if (layer == GW_LAYER_GRIDS) sqlite3_bind_int64(q, 2, grid_version);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (*found)
        *box = (gw_bbox){sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                         sqlite3_column_double(q, 2), sqlite3_column_double(q, 3)};
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GW_OK : edit_fail(s, layer, "lookup");
}

gw_status sq_edit_grid_at(gw_store *s, int64_t grid_version, double lon, double lat, char *out,
                          size_t cap)
{
    static const char sql[] =
        "SELECT id FROM grids WHERE version = ?3 AND ST_Intersects(geom, MakePoint(?1, ?2, 4326)) "
        "AND fid IN (SELECT rowid FROM SpatialIndex WHERE f_table_name = 'grids' AND "
        "f_geometry_column = 'geom' AND search_frame = MakePoint(?1, ?2, 4326)) ORDER BY id LIMIT 1";
    sqlite3_stmt *q;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return edit_fail(s, GW_LAYER_INCIDENTS, "grid lookup");
    sqlite3_bind_double(q, 1, lon);
    sqlite3_bind_double(q, 2, lat);
    sqlite3_bind_int64(q, 3, grid_version);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GW_OK
                                                 : edit_fail(s, GW_LAYER_INCIDENTS, "grid lookup");
}

gw_status sq_edit_rooms_in(gw_store *s, const gw_bbox *box, gw_store_room_fn fn, void *user)
{
    static const char sql[] =
        "SELECT id, X(geom), Y(geom) FROM police_rooms WHERE fid IN (SELECT rowid FROM SpatialIndex "
        "WHERE f_table_name = 'police_rooms' AND f_geometry_column = 'geom' AND "
        "search_frame = BuildMbr(?1, ?2, ?3, ?4, 4326))";
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return edit_fail(s, GW_LAYER_POLICE_ROOMS, "police room lookup");
    sqlite3_bind_double(q, 1, box->minx);
    sqlite3_bind_double(q, 2, box->miny);
    sqlite3_bind_double(q, 3, box->maxx);
    sqlite3_bind_double(q, 4, box->maxy);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        if (id && fn(user, id, sqlite3_column_double(q, 1), sqlite3_column_double(q, 2))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? GW_OK : edit_fail(s, GW_LAYER_POLICE_ROOMS, "police room lookup");
}
