/* pg_coverage.c — the PostgreSQL engine's coverage and coverage_run tables (ops_coverage.h;
 * the contract is include/gridwatch/store_coverage.h, the reference sqlite_coverage.c).
 *
 * blind_spots is a geometry(MultiPolygon, 4326) column here (a BLOB of WKB on SQLite): the
 * interface's ISO WKB goes in through ST_GeomFromWKB as a binary parameter and comes back with
 * ST_AsBinary, so QGIS and the tile servers can draw the stored blind spots.  Rows are read in
 * grid order by bytes (COLLATE "C"), as SQLite orders text. */
#include "ops_coverage.h"
#include "pg_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_status need_table(gw_store *s)
{
    if (s->schema_version >= 4) return GW_OK;
    return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND,
                        "coverage: %s has no coverage table (schema %d); "
                        "open it read-write with this build to add it",
                        s->path, s->schema_version);
}

static gw_status write_run(gw_store *s, const gw_store_coverage_run *run)
{
    char seq[24], srid[24], from[24], to[24], mb[32], rd[32];
    pg_i64(seq, run->seq), pg_i64(srid, run->metric_srid);
    pg_i64(from, run->window_from), pg_i64(to, run->window_to);
    pg_f64(mb, run->min_blind_m2), pg_f64(rd, run->room_dist_m);
    const char *v[] = {seq, srid, run->has_window ? from : NULL, run->has_window ? to : NULL,
                       mb,  rd};
    return pg_exec(s,
                   "INSERT INTO coverage_run (id, seq, metric_srid, computed_at, window_from, "
                   "window_to, min_blind_m2, room_dist_m) VALUES (1, $1, $2, "
                   "date_trunc('second', now()), $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET "
                   "seq = excluded.seq, metric_srid = excluded.metric_srid, computed_at = "
                   "excluded.computed_at, window_from = excluded.window_from, window_to = "
                   "excluded.window_to, min_blind_m2 = excluded.min_blind_m2, room_dist_m = "
                   "excluded.room_dist_m",
                   6, v, "cannot write the coverage run row");
}

static const char insert_sql[] =
    "INSERT INTO coverage (grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, seen, "
    "incident_share, room_m2, room_reach, blind_m2, blind_parts, blind_spots) VALUES ($1, $2, $3, "
    "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ST_Multi(ST_GeomFromWKB($14::bytea, 4326))) "
    "ON CONFLICT (grid) DO UPDATE SET seq = excluded.seq, grid_m2 = excluded.grid_m2, "
    "covered_m2 = excluded.covered_m2, ratio = excluded.ratio, cameras = excluded.cameras, "
    "incidents = excluded.incidents, seen = excluded.seen, incident_share = "
    "excluded.incident_share, room_m2 = excluded.room_m2, room_reach = excluded.room_reach, "
    "blind_m2 = excluded.blind_m2, blind_parts = excluded.blind_parts, blind_spots = "
    "excluded.blind_spots";

static gw_status write_row(gw_store *s, const gw_store_coverage_row *r)
{
    char seq[24], cam[24], inc[24], seen[24], parts[24];
    char d[7][32];
    pg_i64(seq, r->seq), pg_i64(cam, r->cameras), pg_i64(inc, r->incidents);
    pg_i64(seen, r->seen), pg_i64(parts, r->blind_parts);
    pg_f64(d[0], r->grid_m2), pg_f64(d[1], r->covered_m2), pg_f64(d[2], r->ratio);
    pg_f64(d[3], r->incident_share), pg_f64(d[4], r->room_m2), pg_f64(d[5], r->room_reach);
    pg_f64(d[6], r->blind_m2);
    int blind = r->blind && r->blind_len > 0;
    const char *v[] = {r->grid,
                       seq,
                       d[0],
                       d[1],
                       d[2],
                       cam,
                       inc,
                       seen,
                       isnan(r->incident_share) ? NULL : d[3],
                       d[4],
                       d[5],
                       d[6],
                       parts,
                       blind ? (const char *)r->blind : NULL};
    int lens[14] = {0};
    lens[13] = blind ? (int)r->blind_len : 0;
    gw_status st;
    PQclear(pg_run(s, insert_sql, 14, v, lens, "cannot write a coverage row", &st));
    return st;
}

static gw_status pg_coverage_write(gw_store *s, int replace_all, gw_store_coverage_src src,
                                   void *user, const gw_store_coverage_run *run)
{
    gw_status st = need_table(s);
    if (st) return st;
    if ((st = pg_write_begin(s))) return st;
    if (replace_all)
        st = pg_exec(s, "DELETE FROM coverage", 0, NULL, "cannot clear the coverage table");
    gw_store_coverage_row r;
    while (!st && src(user, &r)) st = write_row(s, &r);
    if (!st && run) st = write_run(s, run);
    return pg_write_end(s, st);
}

static gw_status pg_coverage_run_get(gw_store *s, gw_store_coverage_run *run)
{
    gw_status st = need_table(s);
    if (st) return st;
    PGresult *r = pg_run(s,
                         "SELECT seq, metric_srid, window_from, window_to, min_blind_m2, "
                         "room_dist_m FROM coverage_run WHERE id = 1",
                         0, NULL, NULL, "cannot read coverage_run", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) {
        *run = (gw_store_coverage_run){
            .seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10),
            .metric_srid = atoi(PQgetvalue(r, 0, 1)),
            .has_window = !PQgetisnull(r, 0, 2),
            .window_from = strtoll(PQgetvalue(r, 0, 2), NULL, 10),
            .window_to = strtoll(PQgetvalue(r, 0, 3), NULL, 10),
            .min_blind_m2 = strtod(PQgetvalue(r, 0, 4), NULL),
            .room_dist_m = strtod(PQgetvalue(r, 0, 5), NULL),
        };
    } else {
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "coverage: no stored run in %s", s->path);
    }
    PQclear(r);
    return st;
}

static double col_f64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

static int32_t col_i32(const PGresult *r, int row, int col)
{
    return (int32_t)strtol(PQgetvalue(r, row, col), NULL, 10);
}

static gw_status pg_coverage_read(gw_store *s, const char *grid, int with_blind,
                                  gw_store_coverage_fn fn, void *user, size_t *n)
{
    if (n) *n = 0;
    gw_status st = need_table(s);
    if (st) return st;
    const char *v[] = {grid};
    /* the whole result at once: fn may use the store between rows */
    PGresult *r = pg_run(s,
                         with_blind
                             ? "SELECT grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, "
                               "seen, incident_share, room_m2, room_reach, blind_m2, blind_parts, "
                               "ST_AsBinary(blind_spots) FROM coverage WHERE $1::text IS NULL OR "
                               "grid = $1 ORDER BY grid COLLATE \"C\""
                             : "SELECT grid, seq, grid_m2, covered_m2, ratio, cameras, incidents, "
                               "seen, incident_share, room_m2, room_reach, blind_m2, blind_parts, "
                               "NULL FROM coverage WHERE $1::text IS NULL OR grid = $1 ORDER BY "
                               "grid COLLATE \"C\"",
                         1, v, NULL, "cannot read the coverage table", &st);
    if (!r) return st;
    size_t k = 0;
    for (int i = 0; !st && i < PQntuples(r); i++) {
        gw_store_coverage_row row = {
            .grid = PQgetvalue(r, i, 0),
            .seq = strtoll(PQgetvalue(r, i, 1), NULL, 10),
            .grid_m2 = col_f64(r, i, 2),
            .covered_m2 = col_f64(r, i, 3),
            .ratio = col_f64(r, i, 4),
            .cameras = col_i32(r, i, 5),
            .incidents = col_i32(r, i, 6),
            .seen = col_i32(r, i, 7),
            .incident_share = col_f64(r, i, 8),
            .room_m2 = col_f64(r, i, 9),
            .room_reach = col_f64(r, i, 10),
            .blind_m2 = col_f64(r, i, 11),
            .blind_parts = col_i32(r, i, 12),
        };
        unsigned char *wkb = NULL;
        if (!PQgetisnull(r, i, 13)) {
            wkb = pg_unhex(PQgetvalue(r, i, 13), &row.blind_len);
            if (!wkb) {
                st = gw_ctx_error(s->ctx, GW_ERR_NOMEM,
                                  "coverage: cannot decode the blind spots of grid '%s'", row.grid);
                break;
            }
            row.blind = wkb;
        }
        k++;
        int stop = fn(user, &row);
        free(wkb);
        if (stop) break;
    }
    PQclear(r);
    if (n) *n = k;
    return st;
}

const struct gw_store_coverage_ops st_pg_coverage_ops = {
    .write = pg_coverage_write,
    .run_get = pg_coverage_run_get,
    .read = pg_coverage_read,
};
