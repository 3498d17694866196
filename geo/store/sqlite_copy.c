/* sqlite_copy.c — the SQLite engine's copy topic (gridwatch/store_copy.h): whole tables as
 * neutral rows, read in key order and written back with their ids.
 *
 * Geometry: the five layers keep SpatiaLite blobs (read with AsBinary, written with
 * GeomFromWKB); coverage.blind_spots, plan_draft_grids.geom and plan_jurisdiction.geom are ISO
 * WKB already and pass as they are.  Instants are ISO text on disk, the neutral form.
 *
 * A layer is written as the bulk inserter writes one (sqlite_insert.c): this connection's
 * triggers are off while its writer lives (SpatiaLite's per-row R*Tree triggers), and finish
 * packs the layer's R*Tree from every row's MBR in one rebuild (sqlite_rtree.c).  The change
 * log's AUTOINCREMENT counter (sqlite_sequence) is raised to the source's at finish.  Every
 * table's secondary indexes are dropped for the load and built once at finish. */
#include "ops_copy.h"
#include "sqlite_bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sq_cwriter {
    gw_store *store; /* first, as every engine object */
    const gw_copy_table *t;
    sqlite3_stmt *ins;
    gw_layer layer;
    int is_layer, is_meta, triggers_off;
    gw_status failed;
    int64_t rows;
    char *reindex; /* the table's CREATE INDEX statements, run again at finish */
} sq_cwriter;

static gw_status find(gw_store *s, const char *table, const gw_copy_table **t)
{
    *t = gw_copy_table_find(table);
    if (!*t)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy: no table '%s' in gridwatch's schema",
                            table ? table : "(null)");
    return GW_OK;
}

/* 1 when the table is one of the five layers (its geom column holds SpatiaLite blobs). */
static int layer_of(const gw_copy_table *t, gw_layer *layer)
{
    return gw_layer_from_name(t->name, layer) == GW_OK;
}

gw_status sq_copy_count(gw_store *s, const char *table, int64_t *n)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!n) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy count: no output");
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
    return st_query_int(s, sql, n, NULL);
}

gw_status sq_copy_read(gw_store *s, const char *table, gw_copy_row_fn fn, void *user)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!fn) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy read: no callback");
    gw_layer layer;
    int spatialite = layer_of(t, &layer);
    char sql[1024];
    size_t k = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (size_t i = 0; i < t->ncols && k < sizeof sql; i++)
        k += (size_t)snprintf(sql + k, sizeof sql - k,
                              spatialite && t->cols[i].type == GW_COPY_GEOM ? "%sAsBinary(\"%s\")"
                                                                            : "%s\"%s\"",
                              i ? ", " : "", t->cols[i].name);
    if (k < sizeof sql)
        snprintf(sql + k, sizeof sql - k, " FROM \"%s\" ORDER BY %s", t->name, t->order);
    sqlite3_stmt *q;
    if ((st = st_prepare(s, sql, 0, &q, "cannot read the table for the copy"))) return st;
    gw_copy_value v[GW_COPY_MAX_COLS];
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (size_t i = 0; i < t->ncols; i++) {
            int c = (int)i;
            v[i] = (gw_copy_value){.null = sqlite3_column_type(q, c) == SQLITE_NULL};
            if (v[i].null) continue;
            switch (t->cols[i].type) {
            case GW_COPY_INT: v[i].i = sqlite3_column_int64(q, c); break;
            case GW_COPY_REAL: v[i].d = sqlite3_column_double(q, c); break;
            case GW_COPY_TEXT:
            case GW_COPY_TIME: v[i].s = (const char *)sqlite3_column_text(q, c); break;
            case GW_COPY_BLOB:
            case GW_COPY_GEOM:
                v[i].b = sqlite3_column_blob(q, c);
                v[i].len = (size_t)sqlite3_column_bytes(q, c);
                if (!v[i].b) v[i].b = (const unsigned char *)"";
                break;
            }
        }
        if (fn(user, v)) {
            sqlite3_finalize(q);
            return GW_ERR_INTERNAL; /* stopped by the caller, whose error stands */
        }
    }
    if (rc != SQLITE_DONE) st = st_fail(s, "cannot read the table for the copy");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_copy_counter(gw_store *s, const char *table, int64_t *value)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    *value = 0;
    if (!t->counter) return GW_OK;
    char sql[256];
    if (strcmp(t->name, "changelog") == 0) /* AUTOINCREMENT: survives deleted rows */
        snprintf(sql, sizeof sql,
                 "SELECT max(COALESCE((SELECT max(seq) FROM changelog), 0), COALESCE((SELECT seq "
                 "FROM sqlite_sequence WHERE name = 'changelog'), 0))");
    else
        snprintf(sql, sizeof sql, "SELECT COALESCE(max(\"%s\"), 0) FROM \"%s\"", t->counter,
                 t->name);
    return st_query_int(s, sql, value, NULL);
}

/* Drop the table's secondary indexes for the load and keep their definitions to build them at
 * finish: CREATE INDEX sorts once, where row-by-row inserts into four text indexes cost about
 * twice the load (sqlite_rtree.c does the same for the bulk inserter).  The UNIQUE and PRIMARY
 * KEY indexes stay.  Transactional DDL: a rollback brings them back. */
static gw_status defer_indexes(gw_store *s, sq_cwriter *w)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "SELECT group_concat(sql, '; '), group_concat('DROP INDEX \"' || "
                              "name || '\"', '; ') FROM sqlite_master WHERE type = 'index' AND "
                              "tbl_name = ?1 AND sql IS NOT NULL",
                              0, &q, "cannot list the table's indexes");
    if (st) return st;
    sqlite3_bind_text(q, 1, w->t->name, -1, SQLITE_STATIC);
    char *drop = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        w->reindex = strdup((const char *)sqlite3_column_text(q, 0));
        drop = strdup((const char *)sqlite3_column_text(q, 1));
        if (!w->reindex || !drop) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    }
    sqlite3_finalize(q); /* before the DROPs: a live statement on the schema would block them */
    if (!st && drop) st = st_exec(s, drop, "cannot set the table's indexes aside for the copy");
    free(drop);
    return st;
}

gw_status sq_copy_writer(gw_store *s, const char *table, gw_copy_writer **out)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy writer: no output");
    *out = NULL;
    if (sqlite3_get_autocommit(s->db))
        return gw_ctx_error(s->ctx, GW_ERR_ARG,
                            "a copy needs a write transaction (gw_store_begin) on %s", s->path);
    sq_cwriter *w = calloc(1, sizeof *w);
    if (!w) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    w->store = s, w->t = t;
    w->is_layer = layer_of(t, &w->layer);
    w->is_meta = strcmp(t->name, "meta") == 0;
    char sql[1200];
    if (!w->is_meta) {
        /* empty already but for the initial grid version; a layer's R*Tree is rebuilt at finish */
        int was = st_set_triggers(s, 0);
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", t->name);
        st = st_exec(s, sql, "cannot empty the table for the copy");
        st_set_triggers(s, was);
        if (!st) st = defer_indexes(s, w);
    }
    if (!st && w->is_layer && s->bulk++ == 0) st_set_triggers(s, 0);
    w->triggers_off = !st && w->is_layer;
    size_t k = (size_t)snprintf(sql, sizeof sql, "INSERT %sINTO \"%s\" (",
                                w->is_meta ? "OR REPLACE " : "", t->name);
    for (size_t i = 0; i < t->ncols && k < sizeof sql; i++)
        k += (size_t)snprintf(sql + k, sizeof sql - k, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    k += (size_t)snprintf(sql + k, k < sizeof sql ? sizeof sql - k : 0, ") VALUES (");
    for (size_t i = 0; i < t->ncols && k < sizeof sql; i++) {
        const char *fmt = "%s?%zu";
        if (w->is_layer && t->cols[i].type == GW_COPY_GEOM)
            fmt = w->layer == GW_LAYER_GRIDS ? "%sCastToMultiPolygon(GeomFromWKB(?%zu, 4326))"
                                             : "%sGeomFromWKB(?%zu, 4326)";
        k += (size_t)snprintf(sql + k, sizeof sql - k, fmt, i ? ", " : "", i + 1);
    }
    if (k < sizeof sql) snprintf(sql + k, sizeof sql - k, ")");
    /* compiled after the triggers are off, so it carries no trigger code */
    if (!st) st = st_prepare(s, sql, SQLITE_PREPARE_PERSISTENT, &w->ins, "cannot prepare the copy");
    if (st) {
        w->failed = st;
        sq_copy_finish(s, (gw_copy_writer *)w, 0);
        return st;
    }
    *out = (gw_copy_writer *)w;
    return GW_OK;
}

/* The WKB geometry type (1 Point … 6 MultiPolygon), 0 when unreadable. */
static unsigned wkb_kind(const unsigned char *b, size_t len)
{
    if (!b || len < 5 || b[0] > 1) return 0;
    uint32_t t = b[0] ? (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 |
                            (uint32_t)b[4] << 24
                      : (uint32_t)b[4] | (uint32_t)b[3] << 8 | (uint32_t)b[2] << 16 |
                            (uint32_t)b[1] << 24;
    return (t & 0x0fffffffu) % 1000;
}

gw_status sq_copy_put(gw_store *s, gw_copy_writer *gw, const gw_copy_value *row)
{
    sq_cwriter *w = (sq_cwriter *)gw;
    if (!w || !row) return GW_ERR_ARG;
    if (w->failed) return w->failed;
    const gw_copy_table *t = w->t;
    /* the engine's own meta keys stay the destination's */
    if (w->is_meta && !row[0].null && row[0].s && strcmp(row[0].s, "schema_version") == 0)
        return GW_OK;
    sqlite3_stmt *q = w->ins;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    for (size_t i = 0; i < t->ncols; i++) {
        int c = (int)i + 1;
        const gw_copy_value *v = &row[i];
        if (v->null) continue;
        switch (t->cols[i].type) {
        case GW_COPY_INT: sqlite3_bind_int64(q, c, v->i); break;
        case GW_COPY_REAL: sqlite3_bind_double(q, c, v->d); break;
        case GW_COPY_TEXT:
        case GW_COPY_TIME: sqlite3_bind_text(q, c, v->s ? v->s : "", -1, SQLITE_STATIC); break;
        case GW_COPY_GEOM:
            if (w->is_layer) {
                unsigned k = wkb_kind(v->b, v->len);
                if (w->layer == GW_LAYER_GRIDS ? (k != 3 && k != 6) : k != 1)
                    return w->failed = gw_ctx_error(
                               s->ctx, GW_ERR_ARG,
                               "copy: %s row %lld has a geometry of WKB type %u, not a %s", t->name,
                               (long long)row[0].i, k,
                               w->layer == GW_LAYER_GRIDS ? "(Multi)Polygon" : "Point");
            }
            /* fall through */
        case GW_COPY_BLOB: sqlite3_bind_blob(q, c, v->b, (int)v->len, SQLITE_STATIC); break;
        }
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) {
        w->rows++;
        return GW_OK;
    }
    int ext = sqlite3_extended_errcode(s->db);
    gw_status st = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                       ? GW_ERR_CONFLICT
                   : (ext & 0xff) == SQLITE_CONSTRAINT ? GW_ERR_ARG
                                                       : GW_ERR_DB;
    return w->failed = gw_ctx_error(s->ctx, st, "cannot copy row %lld of %s: %s (database %s)",
                                    (long long)(w->rows + 1), t->name, sqlite3_errmsg(s->db),
                                    s->path);
}

/* The layer's R*Tree packed from every row's MBR (the rows were written with triggers off). */
static gw_status rebuild_rtree(gw_store *s, gw_layer layer, int64_t rows)
{
    if (rows == 0) return GW_OK;
    rt_entry *e = malloc((size_t)rows * sizeof *e);
    if (!e)
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory indexing %lld rows",
                            (long long)rows);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT fid, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM \"%s\"",
             gw_layer_name(layer));
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read the boxes for the spatial index");
    size_t n = 0;
    while (!st && n < (size_t)rows && sqlite3_step(q) == SQLITE_ROW) {
        e[n].id = sqlite3_column_int64(q, 0);
        e[n].b[0] = st_f32_down(sqlite3_column_double(q, 1));
        e[n].b[1] = st_f32_up(sqlite3_column_double(q, 2));
        e[n].b[2] = st_f32_down(sqlite3_column_double(q, 3));
        e[n].b[3] = st_f32_up(sqlite3_column_double(q, 4));
        n++;
    }
    if (!st) sqlite3_finalize(q);
    if (!st) st = st_rtree_rebuild(s, layer, e, n, 0);
    free(e);
    return st;
}

gw_status sq_copy_finish(gw_store *s, gw_copy_writer *gw, int64_t counter)
{
    sq_cwriter *w = (sq_cwriter *)gw;
    if (!w) return GW_ERR_ARG;
    gw_status st = w->failed;
    sqlite3_finalize(w->ins);
    if (w->triggers_off && --s->bulk == 0) st_set_triggers(s, 1);
    if (!st && w->reindex) st = st_exec(s, w->reindex, "cannot build the table's indexes");
    if (!st && w->is_layer) st = rebuild_rtree(s, w->layer, w->rows);
    if (!st && w->is_layer && w->rows) st_touch_layer_time(s, w->layer, "last_insert");
    if (!st && strcmp(w->t->name, "changelog") == 0 && counter > 0) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "UPDATE sqlite_sequence SET seq = max(seq, %lld) WHERE name = 'changelog'; "
                 "INSERT INTO sqlite_sequence (name, seq) SELECT 'changelog', %lld WHERE NOT "
                 "EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changelog')",
                 (long long)counter, (long long)counter);
        st = st_exec(s, sql, "cannot set the change log's counter");
    }
    free(w->reindex);
    free(w);
    return st;
}
