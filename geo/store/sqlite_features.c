/* sqlite_features.c — the SQLite engine's feature reads (store_features.h): filtered pages over
 * SpatiaLite's R*Tree, given ids, counts and extents. */
#include "cql2_sql.h"
#include "ops_features.h"
#include "sqlite_bulk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_feature_reader {
    gw_store *store; /* first, as every engine object (sqlite_bulk.h) */
    const gw_feature_filter *f;
    sqlite3_stmt *st;
    const gw_field *fields;
    size_t nf, next_id;
    gw_value vals[GW_MAX_FIELDS];
};

/* Append to sql[cap] at *len; returns 0, -1 when it does not fit. */
static int cat(char *sql, size_t cap, size_t *len, const char *fmt, const char *a)
{
    int n = snprintf(sql + *len, cap - *len, fmt, a);
    if (n < 0 || (size_t)n >= cap - *len) return -1;
    *len += (size_t)n;
    return 0;
}

/* Bind a CQL2 filter's parameters from k on. */
static void bind_cql(sqlite3_stmt *q, const st_cql_sql *c, int *k)
{
    for (int i = 0; i < c->np; i++) {
        const st_cql_param *p = &c->p[i];
        switch (p->kind) {
        case ST_CQL_INT: sqlite3_bind_int64(q, (*k)++, p->i); break;
        case ST_CQL_REAL: sqlite3_bind_double(q, (*k)++, p->d); break;
        case ST_CQL_BLOB: sqlite3_bind_blob(q, (*k)++, p->blob, (int)p->n, SQLITE_TRANSIENT); break;
        default: sqlite3_bind_text(q, (*k)++, p->s, -1, SQLITE_TRANSIENT); break;
        }
    }
}

/* "SELECT <what> FROM layer WHERE …<order><tail>" for the filter, prepared and bound (the
 * bound parameters come first; the tail's own follow).  order: with_order set, the filter's
 * sort order. */
static gw_status prepare_filter(gw_store *s, const gw_feature_filter *f, const char *what,
                                int with_order, const char *tail, sqlite3_stmt **out,
                                int *next_param)
{
    const char *name = gw_layer_name(f->layer);
    size_t nf, len = 0;
    const gw_field *fl = gw_layer_fields(f->layer, &nf);
    const char *tf = gw_layer_time_field(f->layer);
    char sql[4096];
    int grids = f->layer == GW_LAYER_GRIDS, bad = 0;
    bad |= cat(sql, sizeof sql, &len, "SELECT %s", what);
    bad |= cat(sql, sizeof sql, &len, " FROM \"%s\" WHERE 1", name);
    if (grids) bad |= cat(sql, sizeof sql, &len, "%s", " AND version = ?");
    if (f->has_bbox) {
        bad |= cat(sql, sizeof sql, &len,
                   " AND fid IN (SELECT pkid FROM \"idx_%s_geom\" WHERE "
                   "xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)",
                   name);
        bad |= cat(sql, sizeof sql, &len, "%s",
                   grids ? " AND Intersects(geom, BuildMbr(?, ?, ?, ?, 4326))"
                         : " AND X(geom) BETWEEN ? AND ? AND Y(geom) BETWEEN ? AND ?");
    }
    if (tf && f->has_lo) bad |= cat(sql, sizeof sql, &len, " AND %s >= ?", tf);
    if (tf && f->has_hi) bad |= cat(sql, sizeof sql, &len, " AND %s <= ?", tf);
    for (int i = 0; i < f->nprops && i < GW_FEATURE_MAX_PROPS; i++)
        bad |= cat(sql, sizeof sql, &len, " AND \"%s\" = ?", fl[f->prop_field[i]].name);
    if (bad) return gw_ctx_error(s->ctx, GW_ERR_ARG, "feature query too long");
    st_cql_sql c = {0};
    gw_status st = f->cql ? st_cql_where(s->ctx, f->cql, &c) : GW_OK;
    if (st) return st;
    char order[600] = "";
    if (with_order) st_cql_order(f, 0, order, sizeof order);
    size_t full = len + c.len + strlen(order) + strlen(tail) + 16;
    char *text = malloc(full);
    if (!text) {
        st_cql_sql_free(&c);
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    }
    snprintf(text, full, "%s%s%s%s%s", sql, c.sql ? " AND " : "", c.sql ? c.sql : "", order, tail);
    st = st_prepare(s, text, 0, out, "query failed");
    free(text);
    if (st) {
        st_cql_sql_free(&c);
        return st;
    }
    int k = 1;
    sqlite3_stmt *q = *out;
    if (grids) {
        int64_t gv = 1;
        if ((st = st_grid_version(s, &gv))) {
            st_cql_sql_free(&c);
            return st;
        }
        sqlite3_bind_int64(q, k++, gv);
    }
    if (f->has_bbox) {
        const gw_bbox *b = &f->bbox;
        sqlite3_bind_double(q, k++, b->maxx), sqlite3_bind_double(q, k++, b->minx);
        sqlite3_bind_double(q, k++, b->maxy), sqlite3_bind_double(q, k++, b->miny);
        if (grids) {
            sqlite3_bind_double(q, k++, b->minx), sqlite3_bind_double(q, k++, b->miny);
            sqlite3_bind_double(q, k++, b->maxx), sqlite3_bind_double(q, k++, b->maxy);
        } else {
            sqlite3_bind_double(q, k++, b->minx), sqlite3_bind_double(q, k++, b->maxx);
            sqlite3_bind_double(q, k++, b->miny), sqlite3_bind_double(q, k++, b->maxy);
        }
    }
    char ts[32];
    if (tf && f->has_lo) {
        gw_time_format(f->lo, ts, sizeof ts);
        sqlite3_bind_text(q, k++, ts, -1, SQLITE_TRANSIENT);
    }
    if (tf && f->has_hi) {
        gw_time_format(f->hi, ts, sizeof ts);
        sqlite3_bind_text(q, k++, ts, -1, SQLITE_TRANSIENT);
    }
    for (int i = 0; i < f->nprops && i < GW_FEATURE_MAX_PROPS; i++) {
        if (fl[f->prop_field[i]].type == GW_FT_INT) sqlite3_bind_int64(q, k++, f->prop_int[i]);
        else sqlite3_bind_text(q, k++, f->prop_text[i], -1, SQLITE_STATIC);
    }
    bind_cql(q, &c, &k);
    st_cql_sql_free(&c);
    if (next_param) *next_param = k;
    return GW_OK;
}

static gw_status check_filter(gw_store *s, const gw_feature_filter *f)
{
    if (!f) return gw_ctx_error(s->ctx, GW_ERR_ARG, "features: no filter");
    gw_status st = st_check_layer(s, f->layer);
    if (st) return st;
    size_t nf;
    gw_layer_fields(f->layer, &nf);
    if (f->nprops < 0 || f->nprops > GW_FEATURE_MAX_PROPS)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "too many property filters (at most %d)",
                            GW_FEATURE_MAX_PROPS);
    for (int i = 0; i < f->nprops; i++)
        if (f->prop_field[i] < 0 || (size_t)f->prop_field[i] >= nf)
            return gw_ctx_error(s->ctx, GW_ERR_ARG, "no field %d in %s", f->prop_field[i],
                                gw_layer_name(f->layer));
    if ((f->cql && f->cql->layer != f->layer) || f->nsort < 0 || f->nsort > GW_FEATURE_MAX_SORT)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "features: a filter or sort of another layer");
    return GW_OK;
}

gw_status sq_features_count(gw_store *s, const gw_feature_filter *f, int64_t *n)
{
    gw_status st = check_filter(s, f);
    if (st) return st;
    sqlite3_stmt *q = NULL;
    if ((st = prepare_filter(s, f, "count(*)", 0, "", &q, NULL))) {
        sqlite3_finalize(q);
        return st;
    }
    *n = 0;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *n = sqlite3_column_int64(q, 0);
    else st = st_fail(s, "cannot count features");
    sqlite3_finalize(q);
    return st;
}

/* "id", …, AsBinary(geom) of a layer into buf. */
static void columns(gw_layer layer, char *buf, size_t cap)
{
    size_t nf, len;
    const gw_field *fl = gw_layer_fields(layer, &nf);
    st_column_list(fl, nf, buf, cap);
    len = strlen(buf);
    snprintf(buf + len, cap - len, ", AsBinary(geom)");
}

gw_status sq_features_open(gw_store *s, const gw_feature_filter *f, int64_t limit, int64_t offset,
                           gw_feature_reader **out)
{
    gw_status st = check_filter(s, f);
    if (st) return st;
    *out = NULL;
    gw_feature_reader *r = calloc(1, sizeof *r);
    if (!r) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    r->store = s;
    r->f = f;
    r->fields = gw_layer_fields(f->layer, &r->nf);
    char cols[600], sql[800];
    columns(f->layer, cols, sizeof cols);
    if (f->n_ids > 0) {
        snprintf(sql, sizeof sql, "SELECT %s FROM \"%s\" WHERE id = ?1%s", cols,
                 gw_layer_name(f->layer), f->layer == GW_LAYER_GRIDS ? " AND version = ?2" : "");
        st = st_prepare(s, sql, 0, &r->st, "query failed");
        int64_t gv = 1;
        if (!st && f->layer == GW_LAYER_GRIDS && !(st = st_grid_version(s, &gv)))
            sqlite3_bind_int64(r->st, 2, gv);
    } else {
        int k = 0;
        st = prepare_filter(s, f, cols, 1, " LIMIT ? OFFSET ?", &r->st, &k);
        if (!st) {
            sqlite3_bind_int64(r->st, k, limit > 0 ? limit : -1);
            sqlite3_bind_int64(r->st, k + 1, offset > 0 ? offset : 0);
        }
    }
    if (st) {
        sqlite3_finalize(r->st);
        free(r);
        return st;
    }
    *out = r;
    return GW_OK;
}

/* Step to the next row of the reader's statement: 1 with a row, 0 at the end, -1 on error. */
static int step(gw_feature_reader *r)
{
    const gw_feature_filter *f = r->f;
    if (f->n_ids == 0) {
        int rc = sqlite3_step(r->st);
        return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    }
    while (r->next_id < f->n_ids) {
        sqlite3_reset(r->st);
        sqlite3_bind_text(r->st, 1, f->ids[r->next_id++], -1, SQLITE_STATIC);
        int rc = sqlite3_step(r->st);
        if (rc == SQLITE_ROW) return 1;
        if (rc != SQLITE_DONE) return -1;
    }
    return 0;
}

gw_status sq_features_next(gw_store *s, gw_feature_reader *r, gw_row *row)
{
    if (!r || !row) return GW_ERR_ARG;
    int got = step(r);
    if (got < 0) return st_fail(s, "cannot read the next feature");
    if (got == 0) return GW_ERR_NOT_FOUND;
    for (size_t i = 0; i < r->nf && i < GW_MAX_FIELDS; i++) {
        gw_value *v = &r->vals[i];
        *v = (gw_value){0};
        int t = sqlite3_column_type(r->st, (int)i);
        if (t == SQLITE_NULL) continue;
        if (r->fields[i].type == GW_FT_INT && t == SQLITE_INTEGER)
            *v = (gw_value){GW_VAL_INT, NULL, sqlite3_column_int64(r->st, (int)i), 0};
        else if (r->fields[i].type == GW_FT_REAL && (t == SQLITE_FLOAT || t == SQLITE_INTEGER))
            *v = (gw_value){GW_VAL_REAL, NULL, 0, sqlite3_column_double(r->st, (int)i)};
        else *v = (gw_value){GW_VAL_TEXT, (const char *)sqlite3_column_text(r->st, (int)i), 0, 0};
    }
    int g = (int)r->nf;
    row->fid = 0;
    row->values = r->vals;
    row->wkb = sqlite3_column_blob(r->st, g);
    row->wkb_len = (size_t)sqlite3_column_bytes(r->st, g);
    return GW_OK;
}

gw_status sq_features_close(gw_store *s, gw_feature_reader *r)
{
    (void)s;
    if (!r) return GW_OK;
    sqlite3_finalize(r->st);
    free(r);
    return GW_OK;
}

/* Extent of a point layer from the root node of its SpatiaLite R*Tree: O(1) where a scan of
 * a million rows takes a second.  The node is 2 bytes depth, 2 bytes cell count, then cells of
 * an 8-byte rowid and four big-endian float32 (xmin, xmax, ymin, ymax), rounded outward by
 * SQLite, so the box covers the data.  -1 when unavailable (the caller scans instead); grids
 * hold every version in one tree, so they are always scanned. */
static int rtree_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    if (layer == GW_LAYER_GRIDS) return -1;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT data FROM \"idx_%s_geom_node\" WHERE nodeno = 1",
             gw_layer_name(layer));
    sqlite3_stmt *q;
    int rc = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char *d = sqlite3_column_blob(q, 0);
        size_t len = (size_t)sqlite3_column_bytes(q, 0);
        unsigned n = len >= 4 ? (unsigned)d[2] << 8 | d[3] : 0;
        if (n > 0 && 4 + (size_t)n * 24 <= len) {
            double v[4], acc[4] = {1e300, -1e300, 1e300, -1e300};
            for (unsigned c = 0; c < n; c++) {
                for (int k = 0; k < 4; k++) {
                    const unsigned char *p = d + 4 + c * 24 + 8 + k * 4;
                    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                                 p[3];
                    float fv;
                    memcpy(&fv, &u, 4);
                    v[k] = fv;
                }
                if (v[0] < acc[0]) acc[0] = v[0];
                if (v[1] > acc[1]) acc[1] = v[1];
                if (v[2] < acc[2]) acc[2] = v[2];
                if (v[3] > acc[3]) acc[3] = v[3];
            }
            *out = (gw_bbox){acc[0], acc[2], acc[1], acc[3]};
            rc = 0;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

gw_status sq_features_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    if (rtree_extent(s, layer, out) == 0) return GW_OK;
    return sq_extent(s, layer, out);
}

gw_status sq_features_time_extent(gw_store *s, gw_layer layer, char *lo, char *hi, size_t cap)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    const char *tf = gw_layer_time_field(layer);
    if (!tf) return GW_ERR_NOT_FOUND;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT min(%s), max(%s) FROM \"%s\"", tf, tf, gw_layer_name(layer));
    sqlite3_stmt *q;
    if ((st = st_prepare(s, sql, 0, &q, "cannot read the time extent"))) return st;
    st = GW_ERR_NOT_FOUND;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_TEXT) {
        snprintf(lo, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(hi, cap, "%s", (const char *)sqlite3_column_text(q, 1));
        st = GW_OK;
    }
    sqlite3_finalize(q);
    return st;
}

/* One row of a one-row query into cols (up to 4 columns as int64, or -1 as found flag). */
static int one_row(gw_store *s, const char *sql, sqlite3_stmt **q)
{
    if (st_prepare(s, sql, 0, q, sql)) return 0;
    return sqlite3_step(*q) == SQLITE_ROW;
}

gw_status sq_features_summary(gw_store *s, int metric_srid, gw_store_summary *out)
{
    memset(out, 0, sizeof *out);
    out->area_km2 = NAN;
    int64_t gv = 1;
    gw_status st = st_grid_version(s, &gv);
    if (st) return st;
    char sql[320];
    sqlite3_stmt *q = NULL;
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(SUM(population),0), COALESCE(SUM(households),0), "
             "COUNT(DISTINCT county), COUNT(DISTINCT township) FROM grids WHERE version = %lld",
             (long long)gv);
    if (one_row(s, sql, &q)) {
        out->population = sqlite3_column_int64(q, 0), out->households = sqlite3_column_int64(q, 1);
        out->counties = sqlite3_column_int64(q, 2), out->townships = sqlite3_column_int64(q, 3);
    }
    sqlite3_finalize(q), q = NULL;
    if (metric_srid > 0) {
        snprintf(sql, sizeof sql,
                 "SELECT SUM(Area(Transform(geom, %d))) FROM grids WHERE version = "
                 "%lld",
                 metric_srid, (long long)gv);
        if (one_row(s, sql, &q)) out->area_km2 = sqlite3_column_double(q, 0) / 1e6;
        sqlite3_finalize(q), q = NULL;
    }
    if (one_row(s, "SELECT COUNT(*) FROM cameras WHERE fov >= 360", &q))
        out->domes = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q), q = NULL;
    if (one_row(s, "SELECT MIN(occurred_at), MAX(occurred_at), SUM(grid IS NULL) FROM incidents",
                &q) &&
        sqlite3_column_type(q, 0) != SQLITE_NULL) {
        out->has_incidents = 1;
        snprintf(out->first_incident, sizeof out->first_incident, "%s", sqlite3_column_text(q, 0));
        snprintf(out->last_incident, sizeof out->last_incident, "%s", sqlite3_column_text(q, 1));
        out->outside_grids = sqlite3_column_int64(q, 2);
    }
    sqlite3_finalize(q);
    gw_ctx_clear_error(s->ctx);
    return GW_OK;
}

gw_status sq_features_groups(gw_store *s, gw_layer layer, const char *field, int limit,
                             gw_store_group_fn fn, void *user)
{
    gw_status st = st_check_layer(s, layer);
    if (st) return st;
    int fi = field ? gw_layer_field_index(layer, field) : -1;
    size_t nf;
    const gw_field *f = gw_layer_fields(layer, &nf);
    if (fi < 0 || f[fi].type != GW_FT_TEXT)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s has no text field '%s'", gw_layer_name(layer),
                            field ? field : "");
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT \"%s\", COUNT(*) FROM \"%s\" GROUP BY 1 ORDER BY 2 DESC LIMIT %d", f[fi].name,
             gw_layer_name(layer), limit > 0 ? limit : -1);
    sqlite3_stmt *q = NULL;
    if ((st = st_prepare(s, sql, 0, &q, "cannot count groups"))) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (fn(user, (const char *)sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1))) break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot count groups");
    sqlite3_finalize(q);
    return st;
}
