/* pg_copy.c — the PostgreSQL engine's copy topic (gridwatch/store_copy.h): whole tables as
 * neutral rows.
 *
 * Reading streams `SELECT … ORDER BY <key>` in libpq's single-row mode, instants printed with
 * gw_iso(), geometry with ST_AsBinary and bytea decoded from its hex text.  Writing is one
 * `COPY <table> (…) FROM STDIN` per table in text format (geometry as hex EWKB with SRID 4326,
 * bytea as \\x hex), sent in 1 MB pieces; identity values are written as given (COPY writes
 * even GENERATED ALWAYS columns), and finish moves the identity's sequence past the largest
 * copied value and the source's counter with setval, so new rows continue above them, then
 * ANALYZEs the table.  meta is written key by key (upserts), without 'schema_version', which
 * this engine keeps for itself. */
#include "ops_copy.h"
#include "pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEND_BYTES ((size_t)1 << 20)

typedef struct pg_cwriter {
    gw_store *store; /* first, as every engine object */
    const gw_copy_table *t;
    int is_meta, in_copy;
    gw_status failed;
    int64_t rows;
    pg_buf buf;
} pg_cwriter;

static gw_status pg_copy_finish(gw_store *s, gw_copy_writer *gw, int64_t counter);

static gw_status find(gw_store *s, const char *table, const gw_copy_table **t)
{
    *t = gw_copy_table_find(table);
    if (!*t)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy: no table '%s' in gridwatch's schema",
                            table ? table : "(null)");
    return GW_OK;
}

/* The rows a copy reads: meta without this engine's own keys. */
static const char *row_filter(const gw_copy_table *t)
{
    return strcmp(t->name, "meta") == 0 ? " WHERE key <> 'schema_version'" : "";
}

/* 1 for a column of type geometry(MultiPolygon, 4326): a Polygon goes in as a MultiPolygon. */
static int multipolygon_column(const gw_copy_table *t, const gw_copy_column *c)
{
    return c->type == GW_COPY_GEOM &&
           (strcmp(t->name, "grids") == 0 || strcmp(t->name, "coverage") == 0 ||
            strcmp(t->name, "plan_draft_grids") == 0);
}

static gw_status pg_copy_count(gw_store *s, const char *table, int64_t *n)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!n) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy count: no output");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"%s", t->name, row_filter(t));
    return pg_query_int(s, sql, 0, NULL, n, NULL);
}

/* One row of a single-row result into v (blobs malloc'ed into bufs). */
static gw_status decode(gw_store *s, const gw_copy_table *t, PGresult *r, gw_copy_value *v,
                        unsigned char **bufs)
{
    for (size_t i = 0; i < t->ncols; i++) {
        int c = (int)i;
        v[i] = (gw_copy_value){.null = PQgetisnull(r, 0, c)};
        if (v[i].null) continue;
        const char *x = PQgetvalue(r, 0, c);
        switch (t->cols[i].type) {
        case GW_COPY_INT: v[i].i = strtoll(x, NULL, 10); break;
        case GW_COPY_REAL: v[i].d = strtod(x, NULL); break;
        case GW_COPY_TEXT:
        case GW_COPY_TIME: v[i].s = x; break;
        case GW_COPY_BLOB:
        case GW_COPY_GEOM:
            bufs[i] = pg_unhex(x, &v[i].len);
            if (!bufs[i])
                return gw_ctx_error(s->ctx, GW_ERR_DB, "%s: cannot read column %s (database %s)",
                                    t->name, t->cols[i].name, s->path);
            v[i].b = bufs[i];
            break;
        }
    }
    return GW_OK;
}

static gw_status pg_copy_read(gw_store *s, const char *table, gw_copy_row_fn fn, void *user)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!fn) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy read: no callback");
    if ((st = pg_flush_all(s))) return st;
    char sql[1400];
    size_t k = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (size_t i = 0; i < t->ncols && k < sizeof sql; i++) {
        gw_copy_type ty = t->cols[i].type;
        k += (size_t)snprintf(sql + k, sizeof sql - k,
                              ty == GW_COPY_TIME   ? "%sgw_iso(\"%s\")"
                              : ty == GW_COPY_GEOM ? "%sST_AsBinary(\"%s\")"
                                                   : "%s\"%s\"",
                              i ? ", " : "", t->cols[i].name);
    }
    if (k < sizeof sql)
        snprintf(sql + k, sizeof sql - k, " FROM \"%s\"%s ORDER BY %s", t->name, row_filter(t),
                 t->order);
    PGconn *conn = PG(s)->conn;
    if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQsetSingleRowMode(conn)) {
        st = pg_fail(s, NULL, "cannot read the table for the copy");
        PGresult *r;
        while ((r = PQgetResult(conn)) != NULL) PQclear(r);
        return st;
    }
    gw_copy_value v[GW_COPY_MAX_COLS];
    unsigned char *bufs[GW_COPY_MAX_COLS] = {0};
    int stopped = 0;
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_SINGLE_TUPLE && !st && !stopped) {
            st = decode(s, t, r, v, bufs);
            if (!st && fn(user, v)) stopped = 1; /* the rest is read and dropped */
            for (size_t i = 0; i < t->ncols; i++) free(bufs[i]), bufs[i] = NULL;
        } else if (rs != PGRES_SINGLE_TUPLE && rs != PGRES_TUPLES_OK && !st) {
            st = pg_fail(s, r, "cannot read the table for the copy");
        }
        PQclear(r);
    }
    return st ? st : stopped ? GW_ERR_INTERNAL : GW_OK;
}

static gw_status pg_copy_counter(gw_store *s, const char *table, int64_t *value)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    *value = 0;
    if (!t->counter) return GW_OK;
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT GREATEST(COALESCE((SELECT max(\"%s\") FROM \"%s\"), 0), "
             "COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass), 0))",
             t->counter, t->name);
    const char *v[] = {t->name, t->counter};
    return pg_query_int(s, sql, 2, v, value, NULL);
}

static gw_status pg_copy_writer(gw_store *s, const char *table, gw_copy_writer **out)
{
    const gw_copy_table *t;
    gw_status st = find(s, table, &t);
    if (st) return st;
    if (!out) return gw_ctx_error(s->ctx, GW_ERR_ARG, "copy writer: no output");
    *out = NULL;
    if (PG(s)->in_tx != 1)
        return gw_ctx_error(s->ctx, GW_ERR_ARG,
                            "a copy needs a write transaction (gw_store_begin) on %s", s->path);
    if ((st = pg_flush_all(s))) return st;
    pg_cwriter *w = calloc(1, sizeof *w);
    if (!w) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    w->store = s, w->t = t;
    w->is_meta = strcmp(t->name, "meta") == 0;
    *out = (gw_copy_writer *)w;
    if (w->is_meta) return GW_OK;
    char sql[700];
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", t->name); /* the initial grid version */
    st = pg_exec(s, sql, 0, NULL, "cannot empty the table for the copy");
    size_t k = (size_t)snprintf(sql, sizeof sql, "COPY \"%s\" (", t->name);
    for (size_t i = 0; i < t->ncols && k < sizeof sql; i++)
        k += (size_t)snprintf(sql + k, sizeof sql - k, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    if (k < sizeof sql) snprintf(sql + k, sizeof sql - k, ") FROM STDIN");
    if (!st) {
        PGresult *r = PQexec(PG(s)->conn, sql);
        if (PQresultStatus(r) == PGRES_COPY_IN) w->in_copy = 1;
        else st = pg_fail(s, r, "cannot start the copy");
        PQclear(r);
    }
    if (st) {
        w->failed = st;
        pg_copy_finish(s, (gw_copy_writer *)w, 0);
        *out = NULL;
    }
    return st;
}

static gw_status put_meta(gw_store *s, const gw_copy_value *row)
{
    if (row[0].null || !row[0].s)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "meta: a row without a key");
    if (strcmp(row[0].s, "schema_version") == 0) return GW_OK;
    const char *v[] = {row[0].s, row[1].null ? NULL : row[1].s};
    return pg_exec(s,
                   "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET "
                   "value = excluded.value",
                   2, v, "cannot copy meta");
}

/* A geometry as hex EWKB into b (a Polygon as a MultiPolygon of one for multi columns). */
static int put_geom(pg_buf *b, const gw_copy_value *v, int multi)
{
    const unsigned char *w = v->b;
    if (!w || v->len < 5 || w[0] > 1) return -1;
    uint32_t type = w[0] ? (uint32_t)w[1] : (uint32_t)w[4]; /* low byte: 2-D types only */
    if (!multi || type != 3) return pg_hex_ewkb(w, v->len, b);
    unsigned char *m = malloc(v->len + 9);
    if (!m) return -1;
    m[0] = 1, m[1] = 6, m[2] = m[3] = m[4] = 0, m[5] = 1, m[6] = m[7] = m[8] = 0;
    memcpy(m + 9, w, v->len);
    int rc = pg_hex_ewkb(m, v->len + 9, b);
    free(m);
    return rc;
}

/* Send the buffered lines of the open COPY. */
static gw_status send_rows(pg_cwriter *w)
{
    gw_store *s = w->store;
    if (w->buf.oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory buffering rows");
    if (w->buf.n && PQputCopyData(PG(s)->conn, w->buf.p, (int)w->buf.n) != 1)
        return pg_fail(s, NULL, "cannot send rows");
    w->buf.n = 0;
    return GW_OK;
}

static gw_status pg_copy_put(gw_store *s, gw_copy_writer *gw, const gw_copy_value *row)
{
    pg_cwriter *w = (pg_cwriter *)gw;
    if (!w || !row) return GW_ERR_ARG;
    if (w->failed) return w->failed;
    const gw_copy_table *t = w->t;
    if (w->is_meta) {
        gw_status st = put_meta(s, row);
        if (st) w->failed = st;
        else w->rows++;
        return st;
    }
    pg_buf *b = &w->buf;
    for (size_t i = 0; i < t->ncols; i++) {
        const gw_copy_value *v = &row[i];
        char num[32];
        if (i) pg_buf_add(b, "\t", 1);
        if (v->null) {
            pg_buf_add(b, "\\N", 2);
            continue;
        }
        switch (t->cols[i].type) {
        case GW_COPY_INT: pg_i64(num, v->i), pg_buf_add(b, num, strlen(num)); break;
        case GW_COPY_REAL:
            if (!isfinite(v->d))
                return w->failed = gw_ctx_error(s->ctx, GW_ERR_ARG,
                                                "copy: %s row %lld: %s is not a finite number",
                                                t->name, (long long)(w->rows + 1), t->cols[i].name);
            pg_f64(num, v->d), pg_buf_add(b, num, strlen(num));
            break;
        case GW_COPY_TEXT:
        case GW_COPY_TIME: pg_buf_copy_text(b, v->s ? v->s : ""); break;
        case GW_COPY_BLOB:
            pg_buf_add(b, "\\\\x", 3);
            pg_buf_hex(b, v->b, v->len);
            break;
        case GW_COPY_GEOM:
            if (put_geom(b, v, multipolygon_column(t, &t->cols[i])))
                return w->failed = gw_ctx_error(s->ctx, GW_ERR_ARG,
                                                "copy: %s row %lld: %s is not WKB", t->name,
                                                (long long)(w->rows + 1), t->cols[i].name);
            break;
        }
    }
    pg_buf_add(b, "\n", 1);
    w->rows++;
    if (b->n >= SEND_BYTES && (w->failed = send_rows(w))) return w->failed;
    return GW_OK;
}

/* pg_fail on one line: the server's CONTEXT ("COPY incidents, line 7, column occurred_at")
 * names the row, after a "; " instead of a newline. */
static gw_status copy_fail(gw_store *s, const PGresult *r, const char *what)
{
    gw_status st = pg_fail(s, r, what);
    char m[1024];
    size_t k = 0;
    for (const char *p = gw_ctx_errmsg(s->ctx); *p && k + 3 < sizeof m; p++) {
        if (*p != '\n') m[k++] = *p;
        else if (p[1]) m[k++] = ';', m[k++] = ' ';
        if (*p == '\n')
            while (p[1] == ' ' || (p[1] && strncmp(p + 1, "CONTEXT:", 8) == 0))
                p += p[1] == ' ' ? 1 : 8;
    }
    m[k] = '\0';
    return gw_ctx_error(s->ctx, st, "%s", m);
}

/* End the COPY: sent whole, or (after a failure) abandoned; the server's verdict. */
static gw_status end_copy(pg_cwriter *w)
{
    gw_store *s = w->store;
    PGconn *conn = PG(s)->conn;
    gw_status st = w->failed ? w->failed : send_rows(w);
    if (PQputCopyEnd(conn, st ? "gridwatch copy abandoned" : NULL) != 1 && !st)
        st = pg_fail(s, NULL, "cannot finish the copy");
    char what[96];
    snprintf(what, sizeof what, "cannot copy %s", w->t->name);
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !st) st = copy_fail(s, r, what);
        PQclear(r);
    }
    w->in_copy = 0;
    return st;
}

static gw_status pg_copy_finish(gw_store *s, gw_copy_writer *gw, int64_t counter)
{
    pg_cwriter *w = (pg_cwriter *)gw;
    if (!w) return GW_ERR_ARG;
    gw_status st = w->in_copy ? end_copy(w) : w->failed;
    const gw_copy_table *t = w->t;
    if (!st && t->counter) {
        char sql[480], num[24];
        pg_i64(num, counter);
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(m, $3::bigint, 1), "
                 "GREATEST(m, $3::bigint) > 0) FROM (SELECT COALESCE(max(\"%s\"), 0) AS m FROM "
                 "\"%s\") x",
                 t->counter, t->name);
        const char *v[] = {t->name, t->counter, num};
        st = pg_exec(s, sql, 3, v, "cannot move the table's counter past the copied rows");
    }
    if (!st && w->rows && !w->is_meta) {
        char sql[96];
        snprintf(sql, sizeof sql, "ANALYZE \"%s\"", t->name);
        st = pg_exec(s, sql, 0, NULL, "cannot analyze the copied table");
    }
    free(w->buf.p);
    free(w);
    return st;
}

const struct gw_store_copy_ops st_pg_copy_ops = {
    .count = pg_copy_count,
    .read = pg_copy_read,
    .counter = pg_copy_counter,
    .writer = pg_copy_writer,
    .put = pg_copy_put,
    .finish = pg_copy_finish,
};
