/* sqlite_flow.c — the SQLite engine's incident flow tables (store_flow.h): the current row with
 * the incident's grid and category, a transition written with its row and the incident's
 * status, the history, the overdue rows and the deadline overrides. */
#include "ops_flow.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

static void col_copy(sqlite3_stmt *q, int c, char *buf, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(q, c);
    snprintf(buf, cap, "%s", t ? t : "");
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v) sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, i);
}

static void bind_level(sqlite3_stmt *q, int i, int v)
{
    if (v > 0) sqlite3_bind_int(q, i, v);
    else sqlite3_bind_null(q, i);
}

/* Columns 0..9 of the flow-row selects below into *out. */
#define FLOW_COLS                                                                                  \
    "i.id, f.incident IS NOT NULL, f.state, f.level, f.prev_level, f.assignee_kind, f.assignee, "  \
    "f.deadline, f.updated_at, i.grid, i.category, i.occurred_at"

static void read_cur(sqlite3_stmt *q, gw_store_flow_cur *out)
{
    memset(out, 0, sizeof *out);
    col_copy(q, 0, out->incident, sizeof out->incident);
    out->has_row = sqlite3_column_int(q, 1);
    col_copy(q, 2, out->state, sizeof out->state);
    out->level = sqlite3_column_int(q, 3);
    out->prev_level = sqlite3_column_int(q, 4);
    col_copy(q, 5, out->assignee_kind, sizeof out->assignee_kind);
    col_copy(q, 6, out->assignee, sizeof out->assignee);
    col_copy(q, 7, out->deadline, sizeof out->deadline);
    col_copy(q, 8, out->updated_at, sizeof out->updated_at);
    col_copy(q, 9, out->grid, sizeof out->grid);
    col_copy(q, 10, out->category, sizeof out->category);
    col_copy(q, 11, out->occurred_at, sizeof out->occurred_at);
}

gw_status sq_flow_get(gw_store *s, const char *incident, gw_store_flow_cur *out)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s,
                              "SELECT " FLOW_COLS " FROM incidents i LEFT JOIN incident_flow f "
                              "ON f.incident = i.id WHERE i.id = ?1",
                              0, &q, "cannot read an incident's flow");
    if (st) return st;
    sqlite3_bind_text(q, 1, incident, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) read_cur(q, out);
    else st = rc == SQLITE_DONE ? GW_ERR_NOT_FOUND : st_fail(s, "cannot read an incident's flow");
    sqlite3_finalize(q);
    return st;
}

static gw_status step_done(gw_store *s, sqlite3_stmt *q, const char *what)
{
    int rc = sqlite3_step(q);
    gw_status st = rc == SQLITE_DONE || rc == SQLITE_ROW ? GW_OK : st_fail(s, what);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_flow_put(gw_store *s, const gw_store_flow_step *t, const gw_store_flow_set *set,
                      int64_t *seq)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s,
                              "INSERT INTO incident_transitions (incident, at, actor, "
                              "actor_jurisdiction, action, from_state, to_state, from_level, "
                              "to_level, assignee, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                              "?9, ?10, ?11)",
                              0, &q, "cannot record a transition");
    if (st) return st;
    const char *v[] = {t->incident, t->at,         t->actor,   t->actor_jurisdiction,
                       t->action,   t->from_state, t->to_state};
    for (int i = 0; i < 7; i++) bind_text(q, i + 1, v[i]);
    sqlite3_bind_int(q, 8, t->from_level);
    sqlite3_bind_int(q, 9, t->to_level);
    bind_text(q, 10, t->assignee);
    bind_text(q, 11, t->note);
    if ((st = step_done(s, q, "cannot record a transition"))) return st;
    if (seq) *seq = sqlite3_last_insert_rowid(s->db);
    st = st_prepare(s,
                    "INSERT OR REPLACE INTO incident_flow (incident, state, level, prev_level, "
                    "assignee_kind, assignee, deadline, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                    "?6, ?7, ?8)",
                    0, &q, "cannot write an incident's flow");
    if (st) return st;
    bind_text(q, 1, t->incident);
    bind_text(q, 2, set->state);
    sqlite3_bind_int(q, 3, set->level);
    bind_level(q, 4, set->prev_level);
    bind_text(q, 5, set->assignee_kind);
    bind_text(q, 6, set->assignee);
    bind_text(q, 7, set->deadline);
    bind_text(q, 8, t->at);
    if ((st = step_done(s, q, "cannot write an incident's flow"))) return st;
    st = st_prepare(s, "UPDATE incidents SET status = ?2 WHERE id = ?1", 0, &q,
                    "cannot set an incident's status");
    if (st) return st;
    bind_text(q, 1, t->incident);
    bind_text(q, 2, set->state);
    return step_done(s, q, "cannot set an incident's status");
}

gw_status sq_flow_history(gw_store *s, const char *incident, gw_store_flow_step_fn fn, void *user)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(
        s,
        "SELECT seq, incident, at, actor, actor_jurisdiction, action, "
        "from_state, to_state, from_level, to_level, assignee, note FROM "
        "incident_transitions WHERE ?1 IS NULL OR incident = ?1 ORDER BY incident, seq",
        0, &q, "cannot read an incident's transitions");
    if (st) return st;
    bind_text(q, 1, incident);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
#define T(c) ((const char *)sqlite3_column_text(q, c))
        gw_store_flow_step t = {
            .incident = T(1),
            .at = T(2),
            .actor = T(3),
            .actor_jurisdiction = T(4),
            .action = T(5),
            .from_state = T(6),
            .to_state = T(7),
            .from_level = sqlite3_column_int(q, 8),
            .to_level = sqlite3_column_int(q, 9),
            .assignee = T(10),
            .note = T(11),
        };
#undef T
        if (fn(user, sqlite3_column_int64(q, 0), &t)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) st = st_fail(s, "cannot read an incident's transitions");
    sqlite3_finalize(q);
    return st;
}

/* The rows of one overdue select to fn; 1 in *stopped when fn asked to stop. */
static gw_status overdue_rows(gw_store *s, const char *sql, const char *now, int max,
                              gw_store_flow_row_fn fn, void *user, int *stopped)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read the overdue incidents");
    if (st) return st;
    sqlite3_bind_text(q, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, max > 0 ? max : -1);
    int rc;
    gw_store_flow_cur r;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        read_cur(q, &r);
        if (fn(user, &r)) {
            rc = SQLITE_DONE, *stopped = 1;
            break;
        }
    }
    if (rc != SQLITE_DONE) st = st_fail(s, "cannot read the overdue incidents");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_flow_overdue(gw_store *s, const char *now, int max, gw_store_flow_row_fn fn,
                          void *user)
{
    int stopped = 0;
    gw_status st = overdue_rows(
        s,
        "SELECT " FLOW_COLS " FROM incident_flow f JOIN incidents i ON i.id = f.incident WHERE "
        "f.deadline IS NOT NULL AND f.deadline < ?1 AND f.state <> 'closed' ORDER BY f.deadline, "
        "f.incident LIMIT ?2",
        now, max, fn, user, &stopped);
    if (!st && !stopped) /* never transitioned: reported at occurred_at and still waiting */
        st = overdue_rows(s,
                          "SELECT " FLOW_COLS " FROM incidents i LEFT JOIN incident_flow f ON "
                          "f.incident = i.id WHERE f.incident IS NULL AND i.occurred_at IS NOT "
                          "NULL AND i.occurred_at < ?1 ORDER BY i.occurred_at, i.id LIMIT ?2",
                          now, max, fn, user, &stopped);
    return st;
}

gw_status sq_flow_deadlines(gw_store *s, gw_store_flow_deadline_fn fn, void *user)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s, "SELECT category, level, action, seconds FROM flow_deadlines", 0,
                              &q, "cannot read the flow deadlines");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(q, 0);
        const char *a = (const char *)sqlite3_column_text(q, 2);
        if (fn(user, c ? c : "", sqlite3_column_int(q, 1), a ? a : "",
               sqlite3_column_int64(q, 3))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) st = st_fail(s, "cannot read the flow deadlines");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_flow_deadline_set(gw_store *s, const char *category, int level, const char *action,
                               int64_t seconds)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s,
                              "INSERT OR REPLACE INTO flow_deadlines (category, level, action, "
                              "seconds) VALUES (?1, ?2, ?3, ?4)",
                              0, &q, "cannot write a flow deadline");
    if (st) return st;
    sqlite3_bind_text(q, 1, category ? category : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, level);
    sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, seconds);
    return step_done(s, q, "cannot write a flow deadline");
}
