/* sqlite_insert.c — the SQLite engine's bulk inserter.
 *
 * Bulk loads: while a gw_inserter is alive, this connection's triggers are off (SpatiaLite keeps
 * its R*Tree with per-row triggers costing ~20 µs a row).  The inserter writes its rows' index
 * entries at commit (or at its destroy) and, loading into an empty point layer, builds that
 * layer's secondary indexes then too.  So: destroy inserters before running other geometry SQL
 * on the same connection; queries in the loading transaction do not see the new index entries. */
#include "sqlite_bulk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bulk insert --------------------------------------------------------------------------- */

/* Column list "id", "name", … of a layer into buf. */
void st_column_list(const gw_field *f, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s\"%s\"", i ? ", " : "", f[i].name);
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* The SpatiaLite BLOB of a 2D point (60 bytes, host byte order, as gaiaMakePoint writes it):
 * 0x00, endian, srid i32, mbr 4×f64, 0x7C, class i32 (1 = POINT), x, y, 0xFE. */
static void point_blob(unsigned char *b, double x, double y, int32_t srid)
{
    const int32_t cls = 1;
    b[0] = 0x00;
    b[1] = host_is_le() ? 0x01 : 0x00;
    memcpy(b + 2, &srid, 4);
    memcpy(b + 6, &x, 8);
    memcpy(b + 14, &y, 8);
    memcpy(b + 22, &x, 8);
    memcpy(b + 30, &y, 8);
    b[38] = 0x7C;
    memcpy(b + 39, &cls, 4);
    memcpy(b + 43, &x, 8);
    memcpy(b + 51, &y, 8);
    b[59] = 0xFE;
}

static uint32_t wkb_u32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static double wkb_f64(const unsigned char *p, int le)
{
    unsigned char t[8];
    int swap = le != host_is_le();
    for (int i = 0; i < 8; i++) t[i] = swap ? p[7 - i] : p[i];
    double d;
    memcpy(&d, t, 8);
    return d;
}

/* Base geometry type of an ISO/OGC/EWKB header (1 Point … 7 Collection); 0 when unreadable.
 * *hdr receives the header length (5, or 9 with an EWKB SRID). */
static unsigned wkb_type(const unsigned char *w, size_t len, size_t *hdr)
{
    if (!w || len < 5 || w[0] > 1) return 0;
    uint32_t t = wkb_u32(w + 1, w[0]);
    *hdr = 5;
    if (t & 0x20000000u) *hdr = 9;
    t &= 0x0fffffffu;
    return t % 1000;
}

gw_status sq_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "gw_store_inserter_create: no output");
    *out = NULL;
    gw_inserter *ins = calloc(1, sizeof *ins);
    if (!ins) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    ins->store = s;
    ins->layer = layer;
    ins->fields = gw_layer_fields(layer, &ins->nf);
    if (ins->nf > GW_MAX_FIELDS) {
        free(ins);
        return gw_ctx_error(s->ctx, GW_ERR_INTERNAL, "layer %s has too many fields",
                            gw_layer_name(layer));
    }
    if (layer == GW_LAYER_GRIDS && (st = st_grid_version(s, &ins->grid_version))) {
        free(ins);
        return st;
    }
    char cols[512], params[256], sql[1024];
    st_column_list(ins->fields, ins->nf, cols, sizeof cols);
    size_t used = 0;
    for (size_t i = 0; i < ins->nf; i++)
        used += (size_t)snprintf(params + used, sizeof params - used, "%s?%zu", i ? ", " : "",
                                 i + 1);
    if (layer == GW_LAYER_GRIDS)
        snprintf(sql, sizeof sql,
                 "INSERT INTO grids (%s, version, geom) VALUES (%s, ?%zu, "
                 "CastToMultiPolygon(CastToXY(GeomFromWKB(?%zu, 4326))))",
                 cols, params, ins->nf + 1, ins->nf + 2);
    else
        snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (%s, geom) VALUES (%s, ?%zu)",
                 gw_layer_name(layer), cols, params, ins->nf + 1);
    /* Statements are compiled after the triggers are off, so they carry no trigger code. */
    if (s->bulk++ == 0) st_set_triggers(s, 0);
    st_defer_indexes(ins);
    st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &ins->st, "cannot prepare the insert");
    ins->next = s->inserters;
    s->inserters = ins;
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO \"idx_%s_geom\" (pkid, xmin, xmax, ymin, "
             "ymax) VALUES (?1, ?2, ?3, ?4, ?5)",
             gw_layer_name(layer));
    if (!st)
        st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &ins->rtree,
                        "cannot prepare the "
                        "spatial index insert");
    if (!st && layer == GW_LAYER_GRIDS)
        st = st_prepare(s,
                        "SELECT MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM "
                        "grids WHERE fid = ?1",
                        SQLITE_PREPARE_PERSISTENT, &ins->mbr,
                        "cannot "
                        "prepare the insert");
    if (st) {
        gw_inserter_destroy(ins);
        return st;
    }
    *out = ins;
    return GW_OK;
}

static gw_status bind_values(gw_inserter *ins, const gw_value *v, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    for (size_t i = 0; i < ins->nf; i++) {
        int col = (int)i + 1, ok = 1;
        const gw_field *f = &ins->fields[i];
        if (v[i].kind == GW_VAL_NULL) {
            sqlite3_bind_null(ins->st, col);
            continue;
        }
        switch (f->type) {
        case GW_FT_TEXT:
            if ((ok = v[i].kind == GW_VAL_TEXT && v[i].s))
                sqlite3_bind_text(ins->st, col, v[i].s, -1, SQLITE_STATIC);
            break;
        case GW_FT_INT:
            if ((ok = v[i].kind == GW_VAL_INT)) sqlite3_bind_int64(ins->st, col, v[i].i);
            break;
        case GW_FT_REAL:
            if (v[i].kind == GW_VAL_REAL && !isfinite(v[i].d))
                return gw_ctx_error(ctx, GW_ERR_RANGE, "%s '%s': field %s is not a finite number",
                                    layer, id, f->name);
            if (v[i].kind == GW_VAL_REAL) sqlite3_bind_double(ins->st, col, v[i].d);
            else if (v[i].kind == GW_VAL_INT) sqlite3_bind_double(ins->st, col, (double)v[i].i);
            else ok = 0;
            break;
        case GW_FT_TIME:
            if ((ok = v[i].kind == GW_VAL_INT)) {
                gw_time_format(v[i].i, ins->timebuf[i], sizeof ins->timebuf[i]);
                sqlite3_bind_text(ins->st, col, ins->timebuf[i], -1, SQLITE_STATIC);
            }
            break;
        }
        if (!ok) return st_kind_error(ctx, ins->layer, id, f, &v[i]);
    }
    return GW_OK;
}

static gw_status bind_geometry(gw_inserter *ins, const gw_feature *f, const char *id)
{
    gw_ctx *ctx = ins->store->ctx;
    const char *layer = gw_layer_name(ins->layer);
    int col = (int)ins->nf + 1;
    size_t hdr = 0;
    if (ins->layer == GW_LAYER_GRIDS) {
        unsigned t = wkb_type(f->wkb, f->wkb_len, &hdr);
        if (!f->wkb) return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grids '%s': no geometry", id);
        if (t != 3 && t != 6)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "grids '%s': geometry is WKB type %u, "
                                "expected Polygon (3) or MultiPolygon (6)",
                                id, t);
        sqlite3_bind_int64(ins->st, col, ins->grid_version);
        sqlite3_bind_blob(ins->st, col + 1, f->wkb, (int)f->wkb_len, SQLITE_STATIC);
        return GW_OK;
    }
    double x = f->x, y = f->y;
    if (f->wkb) {
        unsigned t = wkb_type(f->wkb, f->wkb_len, &hdr);
        if (t != 1 || f->wkb_len < hdr + 16)
            return gw_ctx_error(ctx, GW_ERR_GEOMETRY,
                                "%s '%s': geometry is WKB type %u (%zu "
                                "bytes), expected a Point",
                                layer, id, t, f->wkb_len);
        x = wkb_f64(f->wkb + hdr, f->wkb[0]);
        y = wkb_f64(f->wkb + hdr + 8, f->wkb[0]);
    }
    if (!isfinite(x) || !isfinite(y))
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s '%s': empty or non-finite point", layer, id);
    if (x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "%s '%s': point (%.8g, %.8g) is outside lon/lat "
                            "range (not EPSG:4326?)",
                            layer, id, x, y);
    ins->px = x;
    ins->py = y;
    point_blob(ins->point, x, y, 4326);
    sqlite3_bind_blob(ins->st, col, ins->point, POINT_BLOB_LEN, SQLITE_STATIC);
    return GW_OK;
}

gw_status sq_inserter_add(gw_inserter *ins, const gw_feature *f)
{
    if (!ins) return GW_ERR_ARG;
    gw_store *s = ins->store;
    const char *layer = gw_layer_name(ins->layer);
    if (!f || !f->values) return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s: no feature values", layer);
    const gw_value *v = f->values;
    if (v[0].kind != GW_VAL_TEXT || !v[0].s || !v[0].s[0])
        return gw_ctx_error(s->ctx, GW_ERR_ARG,
                            "%s: a feature without an id (field id must be "
                            "non-empty text, got %s)",
                            layer, st_kind_name(v[0].kind));
    const char *id = v[0].s;
    gw_status st = bind_values(ins, v, id);
    if (!st) st = bind_geometry(ins, f, id);
    if (st) return st;
    int rc = sqlite3_step(ins->st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(ins->st);
        rt_entry e = {sqlite3_last_insert_rowid(s->db), {0}};
        double box[4] = {ins->px, ins->px, ins->py, ins->py};
        rc = SQLITE_DONE;
        if (ins->mbr) {
            sqlite3_bind_int64(ins->mbr, 1, e.id);
            rc = sqlite3_step(ins->mbr) == SQLITE_ROW ? SQLITE_DONE : SQLITE_ERROR;
            for (int k = 0; k < 4; k++) box[k] = sqlite3_column_double(ins->mbr, k);
            sqlite3_reset(ins->mbr);
        }
        if (rc == SQLITE_DONE && !sqlite3_get_autocommit(s->db)) {
            /* In a transaction: collect, the index is written at commit (see flush_pending). */
            if (ins->npend == ins->cap) {
                size_t cap = ins->cap ? ins->cap * 2 : 1024;
                rt_entry *p = realloc(ins->pend, cap * sizeof *p);
                if (!p) rc = SQLITE_NOMEM;
                else ins->pend = p, ins->cap = cap;
            }
            e.b[0] = st_f32_down(box[0]);
            e.b[1] = st_f32_up(box[1]);
            e.b[2] = st_f32_down(box[2]);
            e.b[3] = st_f32_up(box[3]);
            if (rc == SQLITE_DONE) ins->pend[ins->npend++] = e;
        } else if (rc == SQLITE_DONE) {
            /* Autocommit: the row is already visible to others, so is its index entry. */
            sqlite3_bind_int64(ins->rtree, 1, e.id);
            for (int k = 0; k < 4; k++) sqlite3_bind_double(ins->rtree, k + 2, box[k]);
            rc = sqlite3_step(ins->rtree);
            sqlite3_reset(ins->rtree);
        }
        if (rc == SQLITE_DONE) {
            ins->added++;
            return GW_OK;
        }
        /* Keep row and index in step: take the row back out (no trigger runs for this). */
        st = gw_ctx_error(s->ctx, rc == SQLITE_NOMEM ? GW_ERR_NOMEM : GW_ERR_DB,
                          "%s '%s': "
                          "spatial index insert failed: %s (database %s)",
                          layer, id, rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db),
                          s->path);
        int64_t fid = e.id;
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE fid = %lld", layer, (long long)fid);
        sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return st;
    }
    int ext = sqlite3_extended_errcode(s->db);
    switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        st = gw_ctx_error(s->ctx, GW_ERR_CONFLICT, "%s: duplicate id '%s'", layer, id);
        break;
    case SQLITE_CONSTRAINT_NOTNULL:
        st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY,
                          "%s '%s': the geometry could not be read "
                          "(%s)",
                          layer, id, sqlite3_errmsg(s->db));
        break;
    case SQLITE_CONSTRAINT_TRIGGER:
        st = gw_ctx_error(s->ctx, GW_ERR_GEOMETRY, "%s '%s': %s", layer, id, sqlite3_errmsg(s->db));
        break;
    case SQLITE_CONSTRAINT_CHECK:
        st = gw_ctx_error(s->ctx, GW_ERR_RANGE, "%s '%s': a value is out of range (%s)", layer, id,
                          sqlite3_errmsg(s->db));
        break;
    default:
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "%s '%s': insert failed: %s (database %s)", layer, id,
                          sqlite3_errmsg(s->db), s->path);
    }
    sqlite3_reset(ins->st);
    return st;
}

void sq_inserter_destroy(gw_inserter *ins)
{
    if (!ins) return;
    gw_store *s = ins->store;
    /* A failed index write cannot be returned from here: it fails the next commit instead. */
    if (st_flush_pending(ins) != GW_OK && !s->deferred) s->deferred = gw_ctx_errcode(s->ctx);
    for (gw_inserter **p = &s->inserters; *p; p = &(*p)->next) {
        if (*p == ins) {
            *p = ins->next;
            break;
        }
    }
    sqlite3_finalize(ins->st);
    sqlite3_finalize(ins->rtree);
    sqlite3_finalize(ins->mbr);
    if (ins->added) st_touch_layer_time(s, ins->layer, "last_insert");
    if (--s->bulk == 0) st_set_triggers(s, 1);
    free(ins->pend);
    free(ins->reindex);
    free(ins);
}
