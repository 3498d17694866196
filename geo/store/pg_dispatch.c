/* pg_dispatch.c — the PostgreSQL engine's team positions, status and assignments
 * (ops_dispatch.h; the contract is include/gridwatch/store_dispatch.h, the reference
 * sqlite_dispatch.c).
 *
 * A positions batch is one transaction under the write lock: the moves go to the server as
 * arrays, a run of moves with distinct team ids in one UPDATE … FROM unnest(…) (a team that
 * reports twice in a batch starts a new run, so the later report meets the earlier one as
 * SQLite's row-by-row loop does), then the change-log rows of the applied moves in one INSERT,
 * in report order, each with its NOTIFY.  GiST keeps the spatial index itself.
 *
 * Team assignment is race-safe across servers as on SQLite: the caller's transaction holds the
 * write lock (pg_begin), so take (available → busy) and assign serialise, and the partial
 * unique index assignments_open_team refuses a second open assignment of a team as
 * GW_ERR_CONFLICT should anything slip past. */
#include "ops_dispatch.h"
#include "pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_MAX 512 /* moves per UPDATE statement */

/* ---- array parameters ---------------------------------------------------------------------- */

/* One element of an array literal: "…" with backslash and double quote escaped. */
static void arr_text(pg_buf *b, const char *s)
{
    pg_buf_add(b, b->n > 1 ? ",\"" : "\"", b->n > 1 ? 2 : 1);
    for (const char *c = s; *c; c++) {
        if (*c == '"' || *c == '\\') pg_buf_add(b, "\\", 1);
        pg_buf_add(b, c, 1);
    }
    pg_buf_add(b, "\"", 1);
}

static void arr_f64(pg_buf *b, double v)
{
    char t[32];
    pg_f64(t, v);
    arr_text(b, t);
}

static void arr_open(pg_buf *b) { b->n = 0, pg_buf_add(b, "{", 1); }
static void arr_close(pg_buf *b) { pg_buf_add(b, "}", 1); }

/* ---- positions ----------------------------------------------------------------------------- */

/* Apply moves [i0, i1) (distinct ids): outcome of each. */
static gw_status move_run(gw_store *s, const gw_store_move *m, size_t i0, size_t i1, uint8_t *oc,
                          pg_buf a[4])
{
    for (int k = 0; k < 4; k++) arr_open(&a[k]);
    for (size_t i = i0; i < i1; i++) {
        char at[32];
        pg_time(at, m[i].at);
        arr_text(&a[0], m[i].id), arr_f64(&a[1], m[i].lon), arr_f64(&a[2], m[i].lat);
        arr_text(&a[3], at);
    }
    for (int k = 0; k < 4; k++) arr_close(&a[k]);
    for (int k = 0; k < 4; k++)
        if (a[k].oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory for positions");
    const char *v[] = {a[0].p, a[1].p, a[2].p, a[3].p};
    gw_status st;
    PGresult *r = pg_run(
        s,
        "WITH m AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], "
        "$4::timestamptz[]) WITH ORDINALITY AS m(id, lon, lat, at, i)), "
        "u AS (UPDATE teams t SET geom = ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326), "
        "updated_at = m.at FROM m WHERE t.id = m.id AND (t.updated_at IS NULL OR "
        "t.updated_at <= m.at) RETURNING m.i) "
        "SELECT m.i, u.i IS NOT NULL, EXISTS (SELECT 1 FROM teams t WHERE t.id = m.id) "
        "FROM m LEFT JOIN u ON u.i = m.i ORDER BY m.i",
        4, v, NULL, "cannot update a team position", &st);
    if (!r) return st;
    if ((size_t)PQntuples(r) != i1 - i0)
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "team positions: %d rows for %zu moves (database %s)",
                          PQntuples(r), i1 - i0, s->path);
    for (int k = 0; !st && k < PQntuples(r); k++) {
        size_t i = i0 + (size_t)k;
        oc[i] = PQgetvalue(r, k, 1)[0] == 't'   ? GW_STORE_MOVE_APPLIED
                : PQgetvalue(r, k, 2)[0] == 't' ? GW_STORE_MOVE_OLDER
                                                : GW_STORE_MOVE_UNKNOWN;
    }
    PQclear(r);
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The change-log rows of the applied moves, in report order; their seqs into sq. */
static gw_status log_moves(gw_store *s, const gw_store_move *m, size_t n, const uint8_t *oc,
                           int64_t *sq, pg_buf a[5])
{
    for (int k = 0; k < 5; k++) arr_open(&a[k]);
    size_t applied = 0;
    for (size_t i = 0; i < n; i++) {
        if (oc[i] != GW_STORE_MOVE_APPLIED) continue;
        const gw_store_move *mv = &m[i];
        gw_bbox b = {mv->lon, mv->lat, mv->lon, mv->lat};
        if (!isnan(mv->prev_lon)) { /* the old point too */
            b.minx = fmin(b.minx, mv->prev_lon), b.maxx = fmax(b.maxx, mv->prev_lon);
            b.miny = fmin(b.miny, mv->prev_lat), b.maxy = fmax(b.maxy, mv->prev_lat);
        }
        arr_text(&a[0], mv->id);
        arr_f64(&a[1], b.minx), arr_f64(&a[2], b.miny), arr_f64(&a[3], b.maxx);
        arr_f64(&a[4], b.maxy);
        applied++;
    }
    for (int k = 0; k < 5; k++) arr_close(&a[k]);
    for (int k = 0; k < 5; k++)
        if (a[k].oom) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory for positions");
    const char *v[] = {a[0].p, a[1].p, a[2].p, a[3].p, a[4].p};
    gw_status st;
    /* the rows go in in report order (ORDER BY i), so their seqs ascend in that order */
    PGresult *r = pg_run(
        s,
        "WITH x AS (SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], "
        "$5::float8[]) WITH ORDINALITY AS x(f, a, b, c, d, i)), "
        "c AS (INSERT INTO changelog (at, layer, op, feature_id, minx, miny, maxx, maxy) "
        "SELECT date_trunc('second', now()), 'teams', 'move', f, a, b, c, d FROM x ORDER BY i "
        "RETURNING seq) "
        "SELECT seq, pg_notify('gw_changes', seq::text) FROM c",
        5, v, NULL, "cannot append to the change log", &st);
    if (!r) return st;
    size_t got = (size_t)PQntuples(r);
    int64_t *seqs = got ? malloc(got * sizeof *seqs) : NULL;
    if (got != applied)
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "change log: %zu rows for %zu moves (database %s)",
                          got, applied, s->path);
    else if (got && !seqs) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory for positions");
    for (size_t k = 0; !st && k < got; k++) seqs[k] = strtoll(PQgetvalue(r, (int)k, 0), NULL, 10);
    PQclear(r);
    if (!st) {
        qsort(seqs, got, sizeof *seqs, cmp_i64);
        for (size_t i = 0, k = 0; i < n; i++)
            if (oc[i] == GW_STORE_MOVE_APPLIED) sq[i] = seqs[k++];
    }
    free(seqs);
    return st;
}

/* The end of the run of moves from i0 with distinct ids (at most RUN_MAX). */
static size_t run_end(const gw_store_move *m, size_t i0, size_t n)
{
    size_t i = i0 + 1;
    for (; i < n && i - i0 < RUN_MAX; i++)
        for (size_t j = i0; j < i; j++)
            if (strcmp(m[i].id, m[j].id) == 0) return i;
    return i;
}

static gw_status pg_dispatch_positions(gw_store *s, const gw_store_move *moves, size_t n,
                                       uint8_t *outcome, int64_t *seq)
{
    for (size_t i = 0; i < n; i++) seq[i] = 0;
    if (!n) return GW_OK;
    for (size_t i = 0; i < n; i++)
        if (!moves[i].id)
            return gw_ctx_error(s->ctx, GW_ERR_ARG, "team positions: a move without a team id");
    pg_buf a[5] = {{0}};
    gw_status st = gw_store_begin(s);
    int began = !st;
    size_t applied = 0;
    for (size_t i0 = 0; !st && i0 < n;) {
        size_t i1 = run_end(moves, i0, n);
        st = move_run(s, moves, i0, i1, outcome, a);
        for (size_t i = i0; !st && i < i1; i++) applied += outcome[i] == GW_STORE_MOVE_APPLIED;
        i0 = i1;
    }
    if (!st && applied) st = log_moves(s, moves, n, outcome, seq, a);
    if (!st) st = gw_store_commit(s);
    if (st && began) gw_store_rollback(s);
    if (st)
        for (size_t i = 0; i < n; i++) seq[i] = 0;
    for (int k = 0; k < 5; k++) free(a[k].p);
    return st;
}

/* ---- status and assignments ---------------------------------------------------------------- */

/* A write inside the caller's transaction (a savepoint, so a refused statement leaves it
 * usable as on SQLite); *changes (may be NULL) receives the rows it changed. */
static gw_status write4(gw_store *s, const char *sql, int n, const char *const *v, int *changes,
                        const char *what)
{
    gw_status st = pg_write_begin(s);
    if (st) return st;
    PGresult *r = pg_run(s, sql, n, v, NULL, what, &st);
    if (r && changes) *changes = atoi(PQcmdTuples(r));
    PQclear(r);
    return pg_write_end(s, st);
}

static gw_status pg_dispatch_team_status(gw_store *s, const char *team, char *status, size_t cap)
{
    const char *v[] = {team};
    gw_status st;
    PGresult *r = pg_run(s, "SELECT status FROM teams WHERE id = $1", 1, v, NULL,
                         "cannot read a team", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) snprintf(status, cap, "%s", PQgetvalue(r, 0, 0));
    else st = GW_ERR_NOT_FOUND;
    PQclear(r);
    return st;
}

static gw_status pg_dispatch_take(gw_store *s, const char *team, int *changed)
{
    const char *v[] = {team};
    return write4(s, "UPDATE teams SET status = 'busy' WHERE id = $1 AND status = 'available'", 1,
                  v, changed, "dispatch write failed");
}

static gw_status pg_dispatch_free(gw_store *s, const char *team)
{
    const char *v[] = {team};
    return write4(s, "UPDATE teams SET status = 'available' WHERE id = $1", 1, v, NULL,
                  "dispatch write failed");
}

static gw_status pg_dispatch_incident_exists(gw_store *s, const char *incident, int *exists)
{
    const char *v[] = {incident};
    int64_t one = 0;
    return pg_query_int(s, "SELECT 1 FROM incidents WHERE id = $1", 1, v, &one, exists);
}

static gw_status pg_dispatch_assign(gw_store *s, const char *incident, const char *team,
                                    const char *at, const char *by)
{
    const char *v[] = {incident, team, at, by};
    return write4(s,
                  "INSERT INTO assignments (incident, team, assigned_at, assigned_by) VALUES ($1, "
                  "$2, $3, $4)",
                  4, v, NULL, "dispatch write failed");
}

static gw_status pg_dispatch_release(gw_store *s, const char *team, const char *incident,
                                     const char *at, const char *by, int *closed)
{
    const char *v[] = {team, at, incident, by};
    return write4(s,
                  "UPDATE assignments SET released_at = $2, released_by = $4 WHERE team = $1 AND "
                  "($3::text IS NULL OR incident = $3) AND released_at IS NULL",
                  4, v, closed, "dispatch write failed");
}

const struct gw_store_dispatch_ops st_pg_dispatch_ops = {
    .positions = pg_dispatch_positions,
    .team_status = pg_dispatch_team_status,
    .take = pg_dispatch_take,
    .free = pg_dispatch_free,
    .incident_exists = pg_dispatch_incident_exists,
    .assign = pg_dispatch_assign,
    .release = pg_dispatch_release,
};
