/* sqlite_dispatch.c — the SQLite engine's team positions, status and assignments
 * (store_dispatch.h). */
#include "ops_dispatch.h"
#include "sqlite_bulk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Change-log rows of one positions batch, LOG_CHUNK to a statement (multi-row INSERT: one
 * statement step instead of one per report; the full chunk's statement is kept).  Rows are
 * appended in report order while this connection holds the write lock, so AUTOINCREMENT gives
 * them consecutive seqs. */
#define LOG_CHUNK 64

static gw_status log_moves(gw_store *s, const gw_store_move *p, size_t n, const uint8_t *oc,
                           int64_t *sq)
{
    sqlite3_stmt *full = NULL, *part = NULL;
    char sql[128 + LOG_CHUNK * 40], at[32];
    gw_time_format((int64_t)time(NULL), at, sizeof at);
    size_t idx[LOG_CHUNK], m = 0, done = 0, total = 0;
    gw_status st = GW_OK;
    for (size_t i = 0; i < n; i++) total += oc[i] == GW_STORE_MOVE_APPLIED;
    for (size_t i = 0; !st && i < n; i++) {
        if (oc[i] != GW_STORE_MOVE_APPLIED) continue;
        idx[m++] = i;
        if (m < LOG_CHUNK && done + m < total) continue;
        if (m < LOG_CHUNK || !s->stmt[ST_POS_LOG]) { /* the SQL, unless the kept one serves */
            size_t len = (size_t)snprintf(sql, sizeof sql,
                                          "INSERT INTO changelog (at, layer, op, "
                                          "feature_id, minx, miny, maxx, maxy) VALUES ");
            for (size_t r = 0; r < m; r++)
                len += (size_t)snprintf(sql + len, sizeof sql - len,
                                        "%s(?1,'teams','move',?,?,?,?,?)", r ? "," : "");
        }
        sqlite3_stmt *q;
        if (m == LOG_CHUNK) {
            st = st_cached(s, ST_POS_LOG, sql, &full);
            q = full;
        } else {
            st = st_prepare(s, sql, 0, &part, "cannot prepare the change-log rows");
            q = part;
        }
        if (st) break;
        sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
        for (size_t r = 0; r < m; r++) {
            const gw_store_move *mv = &p[idx[r]];
            gw_bbox b = {mv->lon, mv->lat, mv->lon, mv->lat};
            if (!isnan(mv->prev_lon)) { /* the old point too */
                b.minx = fmin(b.minx, mv->prev_lon), b.maxx = fmax(b.maxx, mv->prev_lon);
                b.miny = fmin(b.miny, mv->prev_lat), b.maxy = fmax(b.maxy, mv->prev_lat);
            }
            int c = 2 + 5 * (int)r;
            sqlite3_bind_text(q, c, mv->id, -1, SQLITE_STATIC);
            sqlite3_bind_double(q, c + 1, b.minx), sqlite3_bind_double(q, c + 2, b.miny);
            sqlite3_bind_double(q, c + 3, b.maxx), sqlite3_bind_double(q, c + 4, b.maxy);
        }
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (q == part) sqlite3_finalize(part), part = NULL;
        if (rc != SQLITE_DONE) {
            st = st_fail(s, "cannot append to the change log");
            break;
        }
        int64_t last = sqlite3_last_insert_rowid(s->db);
        for (size_t r = 0; r < m; r++) sq[idx[r]] = last - (int64_t)(m - 1 - r);
        done += m, m = 0;
    }
    sqlite3_finalize(part);
    return st;
}

void st_point_blob(double x, double y, int srid, unsigned char out[ST_POINT_BLOB])
{
    const uint16_t probe = 1;
    int32_t sr = srid, cls = 1; /* POINT */
    double mbr[4] = {x, y, x, y}, xy[2] = {x, y};
    out[0] = 0x00;
    out[1] = *(const unsigned char *)&probe ? 0x01 : 0x00; /* this host's byte order */
    memcpy(out + 2, &sr, 4);
    memcpy(out + 6, mbr, sizeof mbr);
    out[38] = 0x7C;
    memcpy(out + 39, &cls, 4);
    memcpy(out + 43, xy, sizeof xy);
    out[59] = 0xFE;
}

typedef struct move_stmts {
    sqlite3_stmt *find, *up, *rtree;
} move_stmts;

/* One position: read the team's row by id, decide here whether the report is newer, then write
 * the point (a SpatiaLite blob built in C, the bytes MakePoint makes) and time by fid and put
 * its R*Tree entry in place (INSERT OR REPLACE: the R*Tree deletes the old entry of the pkid). */
static gw_status move_one(gw_store *s, move_stmts *q, const gw_store_move *m, uint8_t *oc)
{
    char at[32];
    gw_time_format(m->at, at, sizeof at);
    sqlite3_bind_text(q->find, 1, m->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q->find);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q->find);
        if (rc != SQLITE_DONE) return st_fail(s, "cannot read a team");
        *oc = GW_STORE_MOVE_UNKNOWN;
        return GW_OK;
    }
    int64_t fid = sqlite3_column_int64(q->find, 0);
    const char *was = (const char *)sqlite3_column_text(q->find, 1);
    int newer = !was || strcmp(was, at) <= 0; /* SQL's text order (BINARY) */
    sqlite3_reset(q->find);
    if (!newer) {
        *oc = GW_STORE_MOVE_OLDER;
        return GW_OK;
    }
    unsigned char blob[ST_POINT_BLOB];
    st_point_blob(m->lon, m->lat, 4326, blob);
    sqlite3_bind_int64(q->up, 1, fid);
    sqlite3_bind_blob(q->up, 2, blob, sizeof blob, SQLITE_STATIC);
    sqlite3_bind_text(q->up, 3, at, -1, SQLITE_STATIC);
    rc = sqlite3_step(q->up);
    sqlite3_reset(q->up);
    if (rc != SQLITE_DONE) return st_fail(s, "cannot update a team position");
    *oc = GW_STORE_MOVE_APPLIED;
    sqlite3_bind_int64(q->rtree, 1, fid);
    sqlite3_bind_double(q->rtree, 2, m->lon);
    sqlite3_bind_double(q->rtree, 3, m->lat);
    rc = sqlite3_step(q->rtree);
    sqlite3_reset(q->rtree);
    return rc == SQLITE_DONE ? GW_OK : st_fail(s, "cannot update the teams spatial index");
}

/* SpatiaLite's per-row triggers cost most of an update (RTreeAlign compiles an INSERT on every
 * call; the constraint trigger scans geometry_columns): they are off on this connection for the
 * batch (for good on a positions writer), which keeps what they keep itself — the idx_teams_geom
 * R*Tree row of each moved team and geometry_columns_time once.  The geometry is always a POINT
 * of SRID 4326, so the constraint holds by construction.  The statements are kept on the
 * connection; switching the triggers expires them, and SQLite compiles them again (without
 * trigger code) on their next step. */
gw_status sq_dispatch_positions(gw_store *s, const gw_store_move *moves, size_t n, uint8_t *outcome,
                                int64_t *seq)
{
    for (size_t i = 0; i < n; i++) seq[i] = 0;
    if (!n) return GW_OK;
    int trig = s->pos_writer ? 0 : st_set_triggers(s, 0);
    move_stmts q = {0};
    gw_status st = st_cached(s, ST_POS_FIND, "SELECT fid, updated_at FROM teams WHERE id = ?1",
                             &q.find);
    if (!st)
        st = st_cached(s, ST_POS_UPDATE,
                       "UPDATE teams SET geom = ?2, updated_at = ?3 WHERE fid = ?1", &q.up);
    if (!st)
        st = st_cached(s, ST_POS_RTREE,
                       "INSERT OR REPLACE INTO idx_teams_geom (pkid, xmin, xmax, ymin, ymax) "
                       "VALUES (?1, ?2, ?2, ?3, ?3)",
                       &q.rtree);
    if (!st) st = gw_store_begin(s);
    int began = !st;
    size_t applied = 0;
    for (size_t i = 0; !st && i < n; i++) {
        st = move_one(s, &q, &moves[i], &outcome[i]);
        applied += !st && outcome[i] == GW_STORE_MOVE_APPLIED;
    }
    if (!st && applied) st = log_moves(s, moves, n, outcome, seq);
    if (!st && applied) {
        sqlite3_stmt *t = NULL;
        if (!st_cached(s, ST_POS_TOUCH,
                       "UPDATE geometry_columns_time SET last_update = strftime("
                       "'%Y-%m-%dT%H:%M:%fZ', 'now') WHERE f_table_name = 'teams' AND "
                       "f_geometry_column = 'geom'",
                       &t)) { /* best effort, as st_touch_layer_time */
            sqlite3_step(t);
            sqlite3_reset(t);
        } else {
            gw_ctx_clear_error(s->ctx);
        }
    }
    if (!st) st = gw_store_commit(s);
    if (st && began) gw_store_rollback(s);
    if (trig) st_set_triggers(s, 1);
    return st;
}

/* Run one statement with up to four text parameters (NULL binds NULL); *changes (may be NULL)
 * receives the rows changed, or 1 when a read-only statement returned a row. */
static gw_status exec4(gw_store *s, const char *sql, const char *a, const char *b, const char *c,
                       const char *e, int *changes)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot prepare a dispatch statement");
    if (st) return st;
    const char *v[4] = {a, b, c, e};
    for (int i = 0; i < 4; i++)
        if (v[i]) sqlite3_bind_text(q, i + 1, v[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) st = st_fail(s, "dispatch write failed");
    if (changes) *changes = sqlite3_stmt_readonly(q) ? rc == SQLITE_ROW : sqlite3_changes(s->db);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_dispatch_team_status(gw_store *s, const char *team, char *status, size_t cap)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s, "SELECT status FROM teams WHERE id = ?1", 0, &q,
                              "cannot read a team");
    if (st) return st;
    sqlite3_bind_text(q, 1, team, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(status, cap, "%s", t ? t : "");
    } else {
        st = rc == SQLITE_DONE ? GW_ERR_NOT_FOUND : st_fail(s, "cannot read a team");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_dispatch_take(gw_store *s, const char *team, int *changed)
{
    return exec4(s, "UPDATE teams SET status = 'busy' WHERE id = ?1 AND status = 'available'", team,
                 NULL, NULL, NULL, changed);
}

gw_status sq_dispatch_free(gw_store *s, const char *team)
{
    return exec4(s, "UPDATE teams SET status = 'available' WHERE id = ?1", team, NULL, NULL, NULL,
                 NULL);
}

gw_status sq_dispatch_incident_exists(gw_store *s, const char *incident, int *exists)
{
    return exec4(s, "SELECT 1 FROM incidents WHERE id = ?1", incident, NULL, NULL, NULL, exists);
}

gw_status sq_dispatch_assign(gw_store *s, const char *incident, const char *team, const char *at,
                             const char *by)
{
    return exec4(s,
                 "INSERT INTO assignments (incident, team, assigned_at, assigned_by) VALUES (?1, "
                 "?2, ?3, ?4)",
                 incident, team, at, by, NULL);
}

gw_status sq_dispatch_release(gw_store *s, const char *team, const char *incident, const char *at,
                              const char *by, int *closed)
{
    return exec4(s,
                 "UPDATE assignments SET released_at = ?2, released_by = ?4 WHERE team = ?1 AND "
                 "(?3 IS NULL OR incident = ?3) AND released_at IS NULL",
                 team, at, incident, by, closed);
}
