/* sqlite_coverage.c — the SQLite engine's coverage and coverage_run tables (store_coverage.h). */
#include "ops_coverage.h"
#include "store_internal.h"

#include <math.h>

static gw_status need_table(gw_store *s)
{
    if (s->schema_version >= 4) return GW_OK;
    return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND,
                        "coverage: %s has no coverage table (schema %d); "
                        "open it read-write with this build to add it",
                        s->path, s->schema_version);
}

static void bind_real(sqlite3_stmt *q, int i, double v)
{
    if (isnan(v)) sqlite3_bind_null(q, i);
    else sqlite3_bind_double(q, i, v);
}

static gw_status write_run(gw_store *s, const gw_store_coverage_run *run)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(
        s,
        "INSERT OR REPLACE INTO coverage_run (id, seq, metric_srid, "
        "computed_at, window_from, window_to, min_blind_m2, room_dist_m) VALUES "
        "(1, ?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?3, ?4, ?5, ?6)",
        0, &q, "cannot prepare the coverage run row");
    if (st) return st;
    sqlite3_bind_int64(q, 1, run->seq);
    sqlite3_bind_int(q, 2, run->metric_srid);
    if (run->has_window)
        sqlite3_bind_int64(q, 3, run->window_from), sqlite3_bind_int64(q, 4, run->window_to);
    sqlite3_bind_double(q, 5, run->min_blind_m2);
    sqlite3_bind_double(q, 6, run->room_dist_m);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write the coverage run row");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_coverage_write(gw_store *s, int replace_all, gw_store_coverage_src src, void *user,
                            const gw_store_coverage_run *run)
{
    gw_status st = need_table(s);
    if (st) return st;
    if (replace_all && (st = st_exec(s, "DELETE FROM coverage", "cannot clear the coverage table")))
        return st;
    sqlite3_stmt *q = NULL;
    st = st_prepare(
        s,
        "INSERT OR REPLACE INTO coverage (grid, seq, grid_m2, covered_m2, ratio, cameras, "
        "incidents, seen, incident_share, room_m2, room_reach, blind_m2, blind_parts, "
        "blind_spots) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        0, &q, "cannot prepare the coverage insert");
    gw_store_coverage_row r;
    while (!st && src(user, &r)) {
        sqlite3_bind_text(q, 1, r.grid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, r.seq);
        sqlite3_bind_double(q, 3, r.grid_m2);
        sqlite3_bind_double(q, 4, r.covered_m2);
        sqlite3_bind_double(q, 5, r.ratio);
        sqlite3_bind_int(q, 6, r.cameras);
        sqlite3_bind_int(q, 7, r.incidents);
        sqlite3_bind_int(q, 8, r.seen);
        bind_real(q, 9, r.incident_share);
        sqlite3_bind_double(q, 10, r.room_m2);
        sqlite3_bind_double(q, 11, r.room_reach);
        sqlite3_bind_double(q, 12, r.blind_m2);
        sqlite3_bind_int(q, 13, r.blind_parts);
        if (r.blind) sqlite3_bind_blob(q, 14, r.blind, (int)r.blind_len, SQLITE_STATIC);
        else sqlite3_bind_null(q, 14);
        if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write a coverage row");
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (!st && run) st = write_run(s, run);
    return st;
}

gw_status sq_coverage_run_get(gw_store *s, gw_store_coverage_run *run)
{
    gw_status st = need_table(s);
    if (st) return st;
    sqlite3_stmt *q = NULL;
    st = st_prepare(s,
                    "SELECT seq, metric_srid, window_from, window_to, min_blind_m2, room_dist_m "
                    "FROM coverage_run WHERE id = 1",
                    0, &q, "cannot read coverage_run");
    if (st) return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        run->seq = sqlite3_column_int64(q, 0);
        run->metric_srid = sqlite3_column_int(q, 1);
        run->has_window = sqlite3_column_type(q, 2) != SQLITE_NULL;
        run->window_from = sqlite3_column_int64(q, 2);
        run->window_to = sqlite3_column_int64(q, 3);
        run->min_blind_m2 = sqlite3_column_double(q, 4);
        run->room_dist_m = sqlite3_column_double(q, 5);
    } else if (rc == SQLITE_DONE) {
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "coverage: no stored run in %s", s->path);
    } else {
        st = st_fail(s, "cannot read coverage_run");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_coverage_read(gw_store *s, const char *grid, int with_blind, gw_store_coverage_fn fn,
                           void *user, size_t *n)
{
    if (n) *n = 0;
    gw_status st = need_table(s);
    if (st) return st;
    sqlite3_stmt *q = NULL;
    st = st_prepare(s,
                    with_blind
                        ? "SELECT grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, seen, "
                          "incident_share, room_m2, room_reach, blind_m2, blind_parts, blind_spots "
                          "FROM coverage WHERE ?1 IS NULL OR grid = ?1 ORDER BY grid"
                        : "SELECT grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, seen, "
                          "incident_share, room_m2, room_reach, blind_m2, blind_parts, NULL "
                          "FROM coverage WHERE ?1 IS NULL OR grid = ?1 ORDER BY grid",
                    0, &q, "cannot read the coverage table");
    if (st) return st;
    if (grid) sqlite3_bind_text(q, 1, grid, -1, SQLITE_STATIC);
    size_t k = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_coverage_row r = {
            .grid = (const char *)sqlite3_column_text(q, 0),
            .seq = sqlite3_column_int64(q, 1),
            .grid_m2 = sqlite3_column_double(q, 2),
            .covered_m2 = sqlite3_column_double(q, 3),
            .ratio = sqlite3_column_double(q, 4),
            .cameras = sqlite3_column_int(q, 5),
            .incidents = sqlite3_column_int(q, 6),
            .seen = sqlite3_column_int(q, 7),
            .incident_share = sqlite3_column_type(q, 8) == SQLITE_NULL
                                  ? NAN
                                  : sqlite3_column_double(q, 8),
            .room_m2 = sqlite3_column_double(q, 9),
            .room_reach = sqlite3_column_double(q, 10),
            .blind_m2 = sqlite3_column_double(q, 11),
            .blind_parts = sqlite3_column_int(q, 12),
        };
        r.blind_len = (size_t)sqlite3_column_bytes(q, 13);
        r.blind = r.blind_len ? sqlite3_column_blob(q, 13) : NULL;
        k++;
        if (fn(user, &r)) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot read the coverage table");
    sqlite3_finalize(q);
    if (n) *n = k;
    return st;
}
