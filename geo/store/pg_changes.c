/* pg_changes.c — the PostgreSQL engine's 'changes' topic (ops_changes.h; the contract is
 * include/gridwatch/store_changes.h): the change log read back in seq order.  Outside a
 * transaction each read is its own statement, so no snapshot is held between polls, as with
 * SQLite's reset statement. */
#include "ops_changes.h"
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>

static gw_status pg_changes_read(gw_store *s, int64_t after, int64_t before, int max,
                                 gw_store_change_fn fn, void *user, size_t *n)
{
    if (n) *n = 0;
    if (!fn || max <= 0) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no callback or no room");
    char a[24], m[24], b[24];
    pg_i64(a, after), pg_i64(m, max), pg_i64(b, before);
    const char *v[] = {a, m, b};
    gw_status st;
    PGresult *r = pg_run(s,
                         before > 0 ? "SELECT seq, layer, op, feature_id, minx, miny, maxx, maxy "
                                      "FROM changelog WHERE seq > $1::bigint AND seq < "
                                      "$3::bigint ORDER BY seq LIMIT $2::bigint"
                                    : "SELECT seq, layer, op, feature_id, minx, miny, maxx, maxy "
                                      "FROM changelog WHERE seq > $1::bigint ORDER BY seq LIMIT "
                                      "$2::bigint",
                         before > 0 ? 3 : 2, v, NULL, "cannot read the change log", &st);
    if (!r) return st;
    size_t k = 0;
    for (int i = 0, rows = PQntuples(r); i < rows; i++) {
        gw_store_change c = {
            .seq = strtoll(PQgetvalue(r, i, 0), NULL, 10),
            .layer = PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
            .op = PQgetisnull(r, i, 2) ? "" : PQgetvalue(r, i, 2),
            .feature_id = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
        };
        if (!PQgetisnull(r, i, 4)) {
            c.has_bbox = 1;
            c.bbox = (gw_bbox){strtod(PQgetvalue(r, i, 4), NULL), strtod(PQgetvalue(r, i, 5), NULL),
                               strtod(PQgetvalue(r, i, 6), NULL),
                               strtod(PQgetvalue(r, i, 7), NULL)};
        }
        k++;
        if (fn(user, &c)) break;
    }
    PQclear(r);
    if (n) *n = k;
    return GW_OK;
}

static gw_status pg_changes_last(gw_store *s, const char *layer, int64_t *seq)
{
    if (!layer || !seq) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no layer");
    const char *v[] = {layer};
    *seq = 0;
    gw_status st;
    PGresult *r = pg_run(s, "SELECT COALESCE(max(seq), 0) FROM changelog WHERE layer = $1", 1, v,
                         NULL, "cannot read the change log", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return GW_OK;
}

static gw_status pg_changes_after(gw_store *s, const char *layer, int64_t after, int *any)
{
    if (!layer || !any) return gw_ctx_error(s->ctx, GW_ERR_ARG, "changes: no layer");
    char a[32];
    snprintf(a, sizeof a, "%lld", (long long)after);
    const char *v[] = {a, layer};
    *any = 0;
    gw_status st;
    PGresult *r = pg_run(s, "SELECT 1 FROM changelog WHERE seq > $1::bigint AND layer = $2 LIMIT 1",
                         2, v, NULL, "cannot read the change log", &st);
    if (!r) return st;
    *any = PQntuples(r) > 0;
    PQclear(r);
    return GW_OK;
}

const struct gw_store_changes_ops st_pg_changes_ops = {
    .read = pg_changes_read,
    .wait = pg_changes_wait, /* pg_listen.c */
    .last = pg_changes_last,
    .after = pg_changes_after,
};
