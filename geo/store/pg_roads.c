/* pg_roads.c — the PostgreSQL engine's road layer (store_roads.h): inserts in batches of rows
 * passed as arrays (one statement per batch, the lines as hex WKB), reads in fid-ordered pages
 * so a large network never sits in one result. */
#include "ops_roads.h"
#include "pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000
#define PAGE 5000

gw_status pg_roads_insert(gw_store *s, const gw_store_road *roads, size_t n)
{
    if (n && !roads) return gw_ctx_error(s->ctx, GW_ERR_ARG, "roads insert: no roads");
    gw_status st = GW_OK;
    for (size_t i = 0; !st && i < n; i++) st = st_road_check(s, &roads[i]);
    for (size_t at = 0; !st && at < n; at += BATCH) {
        size_t m = n - at < BATCH ? n - at : BATCH;
        const char **ids = calloc(m, sizeof *ids), **names = calloc(m, sizeof *names),
                   **cls = calloc(m, sizeof *cls);
        pg_buf a[6] = {{0}};
        if (!ids || !names || !cls) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < m; i++) {
            const gw_store_road *r = &roads[at + i];
            ids[i] = r->id, names[i] = r->name ? r->name : "", cls[i] = r->cls;
            char num[40];
            snprintf(num, sizeof num, "%s%d", i ? "," : "{", r->oneway);
            pg_buf_add(&a[3], num, strlen(num));
            if (r->speed_kmh > 0) {
                char f[32];
                pg_f64(f, r->speed_kmh);
                snprintf(num, sizeof num, "%s%s", i ? "," : "{", f);
            } else {
                snprintf(num, sizeof num, "%sNULL", i ? "," : "{");
            }
            pg_buf_add(&a[4], num, strlen(num));
            pg_buf_add(&a[5], i ? ",\"" : "{\"", 2);
            pg_buf_hex(&a[5], r->wkb, r->wkb_len);
            pg_buf_add(&a[5], "\"", 1);
        }
        if (!st) {
            pg_buf_text_array(&a[0], ids, m);
            pg_buf_text_array(&a[1], names, m);
            pg_buf_text_array(&a[2], cls, m);
            for (int k = 3; k < 6; k++) pg_buf_add(&a[k], "}", 2); /* with the terminating NUL */
            for (int k = 0; k < 3; k++) pg_buf_add(&a[k], "", 1);
            int oom = 0;
            for (int k = 0; k < 6; k++) oom |= a[k].oom;
            if (oom) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
        }
        if (!st) {
            const char *v[] = {a[0].p, a[1].p, a[2].p, a[3].p, a[4].p, a[5].p};
            st = pg_exec(s,
                         "INSERT INTO roads (id, name, class, oneway, speed_kmh, geom) "
                         "SELECT i, NULLIF(n, ''), c, o, sp, ST_GeomFromWKB(decode(g, 'hex'), "
                         "4326) FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
                         "$5::float8[], $6::text[]) AS u(i, n, c, o, sp, g)",
                         6, v, "cannot insert the roads");
        }
        for (int k = 0; k < 6; k++) free(a[k].p);
        free(ids), free(names), free(cls);
    }
    return st;
}

gw_status pg_roads_clear(gw_store *s, int64_t *n)
{
    gw_status st;
    PGresult *r = pg_run(s, "DELETE FROM roads", 0, NULL, NULL, "cannot delete the roads", &st);
    if (!r) return st;
    if (n) *n = atoll(PQcmdTuples(r));
    PQclear(r);
    return GW_OK;
}

gw_status pg_roads_log(gw_store *s, const char *op, const gw_bbox *bbox, int64_t *seq)
{
    if (!op || !*op) return gw_ctx_error(s->ctx, GW_ERR_ARG, "change log: no operation given");
    char b[4][32];
    if (bbox)
        pg_f64(b[0], bbox->minx), pg_f64(b[1], bbox->miny), pg_f64(b[2], bbox->maxx),
            pg_f64(b[3], bbox->maxy);
    const char *v[] = {op, bbox ? b[0] : NULL, bbox ? b[1] : NULL, bbox ? b[2] : NULL,
                       bbox ? b[3] : NULL};
    int64_t got = 0;
    gw_status st = pg_query_int(s,
                                "WITH c AS (INSERT INTO changelog (at, layer, op, minx, miny, "
                                "maxx, maxy) VALUES (date_trunc('second', now()), 'roads', $1, "
                                "$2, $3, $4, $5) RETURNING seq) SELECT seq, "
                                "pg_notify('gw_changes', seq::text) FROM c",
                                5, v, &got, NULL);
    if (!st && seq) *seq = got;
    return st;
}

gw_status pg_roads_read(gw_store *s, gw_store_road_fn fn, void *user)
{
    if (!fn) return gw_ctx_error(s->ctx, GW_ERR_ARG, "roads read: no callback");
    int64_t after = 0;
    for (;;) {
        char a[24], lim[24];
        pg_i64(a, after);
        pg_i64(lim, PAGE);
        const char *v[] = {a, lim};
        gw_status st;
        PGresult *r = pg_run(s,
                             "SELECT fid, id, name, class, oneway, speed_kmh, ST_AsBinary(geom) "
                             "FROM roads WHERE fid > $1 ORDER BY fid LIMIT $2",
                             2, v, NULL, "cannot read the roads", &st);
        if (!r) return st;
        int rows = PQntuples(r), stop = 0;
        for (int i = 0; i < rows && !stop; i++) {
            size_t len = 0;
            unsigned char *wkb = pg_unhex(PQgetvalue(r, i, 6), &len);
            if (!wkb) {
                PQclear(r);
                return gw_ctx_error(s->ctx, GW_ERR_DB, "roads: unreadable geometry");
            }
            gw_store_road rd = {.fid = atoll(PQgetvalue(r, i, 0)),
                                .id = PQgetvalue(r, i, 1),
                                .name = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2),
                                .cls = PQgetvalue(r, i, 3),
                                .oneway = atoi(PQgetvalue(r, i, 4)),
                                .speed_kmh = PQgetisnull(r, i, 5) ? NAN : atof(PQgetvalue(r, i, 5)),
                                .wkb = wkb,
                                .wkb_len = len};
            after = rd.fid;
            stop = fn(user, &rd);
            free(wkb);
        }
        PQclear(r);
        if (stop || rows < PAGE) return GW_OK;
    }
}

gw_status pg_roads_count(gw_store *s, int64_t *n)
{
    if (!n) return GW_ERR_ARG;
    return pg_query_int(s, "SELECT count(*) FROM roads", 0, NULL, n, NULL);
}

const struct gw_store_roads_ops st_pg_roads_ops = {
    .insert = pg_roads_insert,
    .clear = pg_roads_clear,
    .log = pg_roads_log,
    .read = pg_roads_read,
    .count = pg_roads_count,
};
