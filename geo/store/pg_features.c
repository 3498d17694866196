/* pg_features.c — the PostgreSQL engine's 'features' topic (ops_features.h; the contract is
 * include/gridwatch/store_features.h): the feature API's filtered pages, given ids, counts,
 * extents and the figures of `gridwatch stats`, with the semantics of sqlite_features.c.
 *
 * A bbox is the GiST index's `geom && envelope` plus the SQLite engine's exact predicate
 * (grids: they intersect the box; points: x and y within it, edges included).  A time window
 * compares timestamptz values; property filters compare as SQLite does (a real field equals a
 * text that reads as that number; a time field its stored ISO text).  Pages are in fid order
 * (SQLite's rowid order), so limit/offset paging gives the same rows on both engines.  A page
 * is read whole (one result) and handed out row by row, so the connection is free between
 * rows; times come back as their ISO 8601 text, as SQLite stores them. */
#include "cql2_sql.h"
#include "ops_features.h"
#include "pg_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEAT_MAX_FIELDS 16
#define FEAT_MAX_PARAMS 40 /* of the filter's own numbers; a CQL2 filter's are apart */

struct gw_feature_reader {
    gw_store *store; /* first, as every engine object */
    const gw_feature_filter *f;
    PGresult *res;
    int next, rows;
    const gw_field *fields;
    size_t nf;
    unsigned char *wkb;
    gw_value vals[FEAT_MAX_FIELDS];
};

/* A statement under construction: its text and its text parameters (numbers written into
 * num; a CQL2 filter's own in cql).  Free with qb_free. */
typedef struct qb {
    char *sql;
    size_t len, cap;
    int bad, n, capv, nnum;
    const char **vals;
    char num[FEAT_MAX_PARAMS][32];
    st_cql_sql cql;
} qb;

static void qb_free(qb *q)
{
    free(q->sql);
    free(q->vals);
    st_cql_sql_free(&q->cql);
}

static void add_text(qb *q, const char *t, size_t n)
{
    if (q->bad) return;
    if (q->len + n + 1 > q->cap) {
        size_t cap = (q->cap ? q->cap * 2 : 4096) + n;
        char *m = realloc(q->sql, cap);
        if (!m) {
            q->bad = 1;
            return;
        }
        q->sql = m, q->cap = cap;
    }
    memcpy(q->sql + q->len, t, n);
    q->len += n;
    q->sql[q->len] = 0;
}

static void add(qb *q, const char *fmt, const char *a)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, fmt, a);
    if (n < 0 || (size_t)n >= sizeof buf) q->bad = 1;
    else add_text(q, buf, (size_t)n);
}

/* A new parameter: its text (borrowed), its number ("$k"). */
static int param(qb *q, const char *text)
{
    if (q->n == q->capv) {
        int cap = q->capv ? q->capv * 2 : 32;
        const char **m = realloc(q->vals, (size_t)cap * sizeof *m);
        if (!m) return q->bad = 1, 0;
        q->vals = m, q->capv = cap;
    }
    q->vals[q->n] = text;
    return ++q->n;
}

static char *num_slot(qb *q)
{
    if (q->nnum >= FEAT_MAX_PARAMS) return q->bad = 1, NULL;
    return q->num[q->nnum++];
}

static int param_f64(qb *q, double v)
{
    char *b = num_slot(q);
    if (!b) return 0;
    pg_f64(b, v);
    return param(q, b);
}

static int param_i64(qb *q, int64_t v)
{
    char *b = num_slot(q);
    if (!b) return 0;
    pg_i64(b, v);
    return param(q, b);
}

static int param_time(qb *q, int64_t t)
{
    char *b = num_slot(q);
    if (!b) return 0;
    pg_time(b, t);
    return param(q, b);
}

/* Append fmt with every "%d" given the same parameter number k (up to four uses). */
static void addp(qb *q, const char *fmt, int k)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, fmt, k, k, k, k);
    if (n < 0 || (size_t)n >= sizeof buf) q->bad = 1;
    else add_text(q, buf, (size_t)n);
}

/* The CQL2 filter of f, if any, as " AND (…)" with its parameters after those so far. */
static gw_status add_cql(gw_store *s, const gw_feature_filter *f, qb *q)
{
    if (!f->cql) return GW_OK;
    q->cql.pg = 1, q->cql.first = q->n + 1;
    gw_status st = st_cql_where(s->ctx, f->cql, &q->cql);
    if (st) return st;
    add_text(q, " AND ", 5);
    add_text(q, q->cql.sql, q->cql.len);
    for (int i = 0; i < q->cql.np; i++) param(q, q->cql.p[i].s);
    return GW_OK;
}

/* A text that SQLite's REAL affinity turns into a number: a decimal literal, blanks around. */
static int real_text(const char *t, double *v)
{
    if (!t) return 0;
    for (const char *p = t; *p; p++)
        if (strchr("xXnNiI", *p)) return 0; /* hex, nan, inf: not SQL literals */
    char *end;
    *v = strtod(t, &end);
    if (end == t) return 0;
    while (isspace((unsigned char)*end)) end++;
    return *end == '\0' && isfinite(*v);
}

/* "SELECT <what> FROM layer WHERE …<tail>" for the filter into q (its parameters first). */
static gw_status build_filter(gw_store *s, const gw_feature_filter *f, const char *what, qb *q)
{
    const char *name = gw_layer_name(f->layer);
    size_t nf;
    const gw_field *fl = gw_layer_fields(f->layer, &nf);
    const char *tf = gw_layer_time_field(f->layer);
    int grids = f->layer == GW_LAYER_GRIDS;
    add(q, "SELECT %s", what);
    add(q, " FROM \"%s\" WHERE true", name);
    if (grids) {
        int64_t gv = 1;
        gw_status st = pg_grid_version(s, &gv);
        if (st) return st;
        addp(q, " AND version = $%d::bigint", param_i64(q, gv));
    }
    if (f->has_bbox) {
        const gw_bbox *b = &f->bbox;
        int x0 = param_f64(q, b->minx), y0 = param_f64(q, b->miny);
        int x1 = param_f64(q, b->maxx), y1 = param_f64(q, b->maxy);
        char env[200];
        snprintf(env, sizeof env,
                 "ST_MakeEnvelope($%d::float8, $%d::float8, $%d::float8, $%d::float8, 4326)", x0,
                 y0, x1, y1);
        add(q, " AND geom && %s", env);
        if (grids) add(q, " AND ST_Intersects(geom, %s)", env);
        else {
            char pts[200];
            snprintf(pts, sizeof pts,
                     " AND ST_X(geom) BETWEEN $%d::float8 AND $%d::float8 AND ST_Y(geom) BETWEEN "
                     "$%d::float8 AND $%d::float8",
                     x0, x1, y0, y1);
            add(q, "%s", pts);
        }
    }
    if (tf && f->has_lo) {
        add(q, " AND \"%s\"", tf);
        addp(q, " >= $%d::timestamptz", param_time(q, f->lo));
    }
    if (tf && f->has_hi) {
        add(q, " AND \"%s\"", tf);
        addp(q, " <= $%d::timestamptz", param_time(q, f->hi));
    }
    for (int i = 0; i < f->nprops && i < GW_FEATURE_MAX_PROPS; i++) {
        const gw_field *fd = &fl[f->prop_field[i]];
        double d;
        switch (fd->type) {
        case GW_FT_INT:
            add(q, " AND \"%s\"", fd->name);
            addp(q, " = $%d::bigint", param_i64(q, f->prop_int[i]));
            break;
        case GW_FT_REAL:
            if (real_text(f->prop_text[i], &d)) {
                add(q, " AND \"%s\"", fd->name);
                addp(q, " = $%d::float8", param_f64(q, d));
            } else {
                add(q, "%s", " AND false"); /* a number never equals other text */
            }
            break;
        case GW_FT_TIME:
            add(q, " AND gw_iso(\"%s\")", fd->name);
            addp(q, " = $%d", param(q, f->prop_text[i]));
            break;
        default:
            add(q, " AND \"%s\"", fd->name);
            addp(q, " = $%d", param(q, f->prop_text[i]));
            break;
        }
    }
    gw_status st = add_cql(s, f, q);
    if (st) return st;
    if (q->bad)
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory building the feature query");
    return GW_OK;
}

static gw_status check_filter(gw_store *s, const gw_feature_filter *f)
{
    if (!f) return gw_ctx_error(s->ctx, GW_ERR_ARG, "features: no filter");
    if (!gw_layer_name(f->layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)f->layer);
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
    return pg_flush_all(s);
}

static gw_status pg_features_count(gw_store *s, const gw_feature_filter *f, int64_t *n)
{
    gw_status st = check_filter(s, f);
    if (st) return st;
    qb q = {0};
    *n = 0;
    if ((st = build_filter(s, f, "count(*)", &q))) {
        qb_free(&q);
        return st;
    }
    PGresult *r = pg_run(s, q.sql, q.n, q.vals, NULL, "cannot count features", &st);
    if (r && PQntuples(r) > 0) *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    qb_free(&q);
    return st;
}

/* "id", …, gw_iso("time"), …, ST_AsBinary(geom) of a layer into buf. */
static void columns(gw_layer layer, char *buf, size_t cap)
{
    size_t nf, k = 0;
    const gw_field *fl = gw_layer_fields(layer, &nf);
    buf[0] = '\0';
    for (size_t i = 0; i < nf && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k,
                              fl[i].type == GW_FT_TIME ? "gw_iso(\"%s\"), " : "\"%s\", ",
                              fl[i].name);
    if (k < cap) snprintf(buf + k, cap - k, "ST_AsBinary(geom)");
}

static gw_status pg_features_open(gw_store *s, const gw_feature_filter *f, int64_t limit,
                                  int64_t offset, gw_feature_reader **out)
{
    gw_status st = check_filter(s, f);
    if (st) return st;
    *out = NULL;
    char cols[700];
    columns(f->layer, cols, sizeof cols);
    qb q = {0};
    pg_buf ids = {0};
    if (f->n_ids > 0) {
        pg_buf_text_array(&ids, f->ids, f->n_ids);
        if (ids.oom) {
            free(ids.p);
            return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
        }
        add(&q, "SELECT %s", cols);
        add(&q, " FROM unnest($1::text[]) WITH ORDINALITY AS i(want, n) JOIN \"%s\" ON id = i.want",
            gw_layer_name(f->layer));
        param(&q, ids.p);
        if (f->layer == GW_LAYER_GRIDS) {
            int64_t gv = 1;
            if (!(st = pg_grid_version(s, &gv)))
                addp(&q, " AND version = $%d::bigint", param_i64(&q, gv));
        }
        add(&q, "%s", " ORDER BY i.n");
    } else {
        st = build_filter(s, f, cols, &q);
        if (!st) {
            char order[600];
            st_cql_order(f, 1, order, sizeof order);
            add(&q, "%s", order);
            addp(&q, " LIMIT $%d::bigint", limit > 0 ? param_i64(&q, limit) : param(&q, NULL));
            addp(&q, " OFFSET $%d::bigint", param_i64(&q, offset > 0 ? offset : 0));
        }
    }
    if (!st && q.bad)
        st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory building the feature query");
    PGresult *r = st ? NULL : pg_run(s, q.sql, q.n, q.vals, NULL, "query failed", &st);
    free(ids.p);
    qb_free(&q);
    if (!r) return st;
    gw_feature_reader *rd = calloc(1, sizeof *rd);
    if (!rd) {
        PQclear(r);
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    }
    rd->store = s, rd->f = f, rd->res = r, rd->rows = PQntuples(r);
    rd->fields = gw_layer_fields(f->layer, &rd->nf);
    *out = rd;
    return GW_OK;
}

static gw_status pg_features_next(gw_store *s, gw_feature_reader *rd, gw_row *row)
{
    if (!rd || !row) return GW_ERR_ARG;
    free(rd->wkb), rd->wkb = NULL;
    if (rd->next >= rd->rows) return GW_ERR_NOT_FOUND;
    int i = rd->next++;
    PGresult *r = rd->res;
    for (size_t c = 0; c < rd->nf && c < FEAT_MAX_FIELDS; c++) {
        gw_value *v = &rd->vals[c];
        *v = (gw_value){0};
        if (PQgetisnull(r, i, (int)c)) continue;
        const char *t = PQgetvalue(r, i, (int)c);
        if (rd->fields[c].type == GW_FT_INT)
            *v = (gw_value){.kind = GW_VAL_INT, .i = strtoll(t, NULL, 10)};
        else if (rd->fields[c].type == GW_FT_REAL)
            *v = (gw_value){.kind = GW_VAL_REAL, .d = strtod(t, NULL)};
        else *v = (gw_value){.kind = GW_VAL_TEXT, .s = t};
    }
    int g = (int)rd->nf;
    row->fid = 0;
    row->values = rd->vals;
    row->wkb = NULL, row->wkb_len = 0;
    if (!PQgetisnull(r, i, g)) {
        rd->wkb = pg_unhex(PQgetvalue(r, i, g), &row->wkb_len);
        if (!rd->wkb) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "cannot read a feature's geometry");
        row->wkb = rd->wkb;
    }
    return GW_OK;
}

static gw_status pg_features_close(gw_store *s, gw_feature_reader *rd)
{
    (void)s;
    if (!rd) return GW_OK;
    PQclear(rd->res);
    free(rd->wkb);
    free(rd);
    return GW_OK;
}

/* A double rounded down / up to float32, as the SQLite engine's R*Tree boxes are. */
static double f32_down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

static double f32_up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

/* The extent by scan; a point layer's rounded outward to float32 as SQLite reads it from its
 * R*Tree root, so both engines answer /collections alike (grids are exact on both). */
static gw_status pg_features_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    gw_status st = pg_extent(s, layer, out);
    if (!st && layer != GW_LAYER_GRIDS)
        *out = (gw_bbox){f32_down(out->minx), f32_down(out->miny), f32_up(out->maxx),
                         f32_up(out->maxy)};
    return st;
}

static gw_status pg_features_time_extent(gw_store *s, gw_layer layer, char *lo, char *hi,
                                         size_t cap)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    const char *tf = gw_layer_time_field(layer);
    if (!tf) return GW_ERR_NOT_FOUND;
    gw_status st = pg_flush_all(s);
    if (st) return st;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT gw_iso(min(\"%s\")), gw_iso(max(\"%s\")) FROM \"%s\"", tf, tf,
             gw_layer_name(layer));
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, "cannot read the time extent", &st);
    if (!r) return st;
    st = GW_ERR_NOT_FOUND;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        snprintf(lo, cap, "%s", PQgetvalue(r, 0, 0));
        snprintf(hi, cap, "%s", PQgetvalue(r, 0, 1));
        st = GW_OK;
    }
    PQclear(r);
    return st;
}

/* A one-row query; its result when it gave a row (caller PQclear()s), else NULL. */
static PGresult *one_row(gw_store *s, const char *sql)
{
    gw_status st;
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, sql, &st);
    if (r && PQntuples(r) == 0) PQclear(r), r = NULL;
    return r;
}

static int64_t col_i64(PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? 0 : strtoll(PQgetvalue(r, 0, c), NULL, 10);
}

static gw_status pg_features_summary(gw_store *s, int metric_srid, gw_store_summary *out)
{
    memset(out, 0, sizeof *out);
    out->area_km2 = NAN;
    int64_t gv = 1;
    gw_status st = pg_flush_all(s);
    if (!st) st = pg_grid_version(s, &gv);
    if (st) return st;
    char sql[320];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(SUM(population),0), COALESCE(SUM(households),0), "
             "COUNT(DISTINCT county), COUNT(DISTINCT township) FROM grids WHERE version = %lld",
             (long long)gv);
    PGresult *r = one_row(s, sql);
    if (r) {
        out->population = col_i64(r, 0), out->households = col_i64(r, 1);
        out->counties = col_i64(r, 2), out->townships = col_i64(r, 3);
    }
    PQclear(r);
    if (metric_srid > 0) {
        snprintf(sql, sizeof sql,
                 "SELECT SUM(ST_Area(ST_Transform(geom, %d))) FROM grids WHERE version = %lld",
                 metric_srid, (long long)gv);
        if ((r = one_row(s, sql)))
            out->area_km2 = PQgetisnull(r, 0, 0) ? 0.0 : strtod(PQgetvalue(r, 0, 0), NULL) / 1e6;
        PQclear(r);
    }
    if ((r = one_row(s, "SELECT COUNT(*) FROM cameras WHERE fov >= 360")))
        out->domes = col_i64(r, 0);
    PQclear(r);
    r = one_row(s, "SELECT gw_iso(MIN(occurred_at)), gw_iso(MAX(occurred_at)), COUNT(*) FILTER "
                   "(WHERE grid IS NULL) FROM incidents");
    if (r && !PQgetisnull(r, 0, 0)) {
        out->has_incidents = 1;
        snprintf(out->first_incident, sizeof out->first_incident, "%s", PQgetvalue(r, 0, 0));
        snprintf(out->last_incident, sizeof out->last_incident, "%s", PQgetvalue(r, 0, 1));
        out->outside_grids = col_i64(r, 2);
    }
    PQclear(r);
    gw_ctx_clear_error(s->ctx);
    return GW_OK;
}

static gw_status pg_features_groups(gw_store *s, gw_layer layer, const char *field, int limit,
                                    gw_store_group_fn fn, void *user)
{
    if (!gw_layer_name(layer))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "no such layer (%d)", (int)layer);
    int fi = field ? gw_layer_field_index(layer, field) : -1;
    size_t nf;
    const gw_field *f = gw_layer_fields(layer, &nf);
    if (fi < 0 || f[fi].type != GW_FT_TEXT)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "%s has no text field '%s'", gw_layer_name(layer),
                            field ? field : "");
    gw_status st = pg_flush_all(s);
    if (st) return st;
    char sql[300], lim[24] = "ALL", col[80];
    snprintf(col, sizeof col, "\"%s\" COLLATE \"C\"", f[fi].name);
    if (limit > 0) snprintf(lim, sizeof lim, "%d", limit);
    /* ties in byte order of the key, NULL first, as SQLite's sorted GROUP BY leaves them */
    snprintf(sql, sizeof sql,
             "SELECT %s, COUNT(*) FROM \"%s\" GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST "
             "LIMIT %s",
             col, gw_layer_name(layer), lim);
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, "cannot count groups", &st);
    if (!r) return st;
    for (int i = 0, rows = PQntuples(r); i < rows; i++)
        if (fn(user, PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0),
               strtoll(PQgetvalue(r, i, 1), NULL, 10)))
            break;
    PQclear(r);
    return GW_OK;
}

const struct gw_store_features_ops st_pg_features_ops = {
    .count = pg_features_count,
    .open = pg_features_open,
    .next = pg_features_next,
    .close = pg_features_close,
    .extent = pg_features_extent,
    .time_extent = pg_features_time_extent,
    .summary = pg_features_summary,
    .groups = pg_features_groups,
};
