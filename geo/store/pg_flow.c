/* pg_flow.c — the PostgreSQL engine's incident flow tables (ops_flow.h; the contract is
 * include/gridwatch/store_flow.h): times as timestamptz printed back as the SQLite schema
 * stores them (gw_iso), a transition's three writes under one savepoint (pg_write_begin). */
#include "ops_flow.h"
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOW_COLS                                                                                  \
    "i.id, f.incident IS NOT NULL, f.state, f.level, f.prev_level, f.assignee_kind, f.assignee, "  \
    "gw_iso(f.deadline), gw_iso(f.updated_at), i.grid, i.category, gw_iso(i.occurred_at)"

static void col_copy(const PGresult *r, int i, int c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", PQgetisnull(r, i, c) ? "" : PQgetvalue(r, i, c));
}

static void read_cur(const PGresult *r, int i, gw_store_flow_cur *out)
{
    memset(out, 0, sizeof *out);
    col_copy(r, i, 0, out->incident, sizeof out->incident);
    out->has_row = strcmp(PQgetvalue(r, i, 1), "t") == 0;
    col_copy(r, i, 2, out->state, sizeof out->state);
    out->level = atoi(PQgetvalue(r, i, 3));
    out->prev_level = atoi(PQgetvalue(r, i, 4));
    col_copy(r, i, 5, out->assignee_kind, sizeof out->assignee_kind);
    col_copy(r, i, 6, out->assignee, sizeof out->assignee);
    col_copy(r, i, 7, out->deadline, sizeof out->deadline);
    col_copy(r, i, 8, out->updated_at, sizeof out->updated_at);
    col_copy(r, i, 9, out->grid, sizeof out->grid);
    col_copy(r, i, 10, out->category, sizeof out->category);
    col_copy(r, i, 11, out->occurred_at, sizeof out->occurred_at);
}

/* Run sql in libpq's single-row mode and give each row to row(user, result) (row 0 of it): one
 * row in memory at a time, however many the query returns.  A nonzero return stops: the rest is
 * cancelled (outside a transaction) or read and dropped.  *stopped (may be NULL) says so. */
static gw_status pg_stream(gw_store *s, const char *sql, int n, const char *const *v,
                           int (*row)(void *user, const PGresult *r), void *user, const char *what,
                           int *stopped)
{
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGconn *c = PG(s)->conn;
    if (!PQsendQueryParams(c, sql, n, NULL, v, NULL, NULL, 0) || !PQsetSingleRowMode(c)) {
        st = pg_fail(s, NULL, what);
        PGresult *r;
        while ((r = PQgetResult(c)) != NULL) PQclear(r);
        return st;
    }
    int stop = 0;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_SINGLE_TUPLE && !stop && !st) {
            if (row(user, r)) {
                stop = 1;
                if (!PG(s)->in_tx) PQrequestCancel(c);
            }
        } else if (t != PGRES_SINGLE_TUPLE && t != PGRES_TUPLES_OK && !stop && !st) {
            st = pg_fail(s, r, what);
        }
        PQclear(r);
    }
    if (stopped) *stopped = stop;
    return st;
}

static gw_status pg_flow_get(gw_store *s, const char *incident, gw_store_flow_cur *out)
{
    const char *v[] = {incident};
    gw_status st;
    PGresult *r = pg_run(s,
                         "SELECT " FLOW_COLS " FROM incidents i LEFT JOIN incident_flow f ON "
                         "f.incident = i.id WHERE i.id = $1",
                         1, v, NULL, "cannot read an incident's flow", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) read_cur(r, 0, out);
    else st = GW_ERR_NOT_FOUND;
    PQclear(r);
    return st;
}

static gw_status pg_flow_put(gw_store *s, const gw_store_flow_step *t, const gw_store_flow_set *set,
                             int64_t *seq)
{
    char fl[24], tl[24], lv[24], pl[24];
    pg_i64(fl, t->from_level), pg_i64(tl, t->to_level), pg_i64(lv, set->level);
    pg_i64(pl, set->prev_level);
    gw_status st = pg_write_begin(s);
    if (st) return st;
    const char *a[] = {t->incident, t->at,         t->actor,    t->actor_jurisdiction,
                       t->action,   t->from_state, t->to_state, fl,
                       tl,          t->assignee,   t->note};
    PGresult *r = pg_run(s,
                         "INSERT INTO incident_transitions (incident, at, actor, "
                         "actor_jurisdiction, action, from_state, to_state, from_level, to_level, "
                         "assignee, note) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, "
                         "$8::integer, $9::integer, $10, $11) RETURNING seq",
                         11, a, NULL, "cannot record a transition", &st);
    if (r && seq && PQntuples(r) > 0) *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    const char *b[] = {
        t->incident,   set->state,    lv,   set->prev_level > 0 ? pl : NULL, set->assignee_kind,
        set->assignee, set->deadline, t->at};
    if (!st)
        st = pg_exec(s,
                     "INSERT INTO incident_flow (incident, state, level, prev_level, "
                     "assignee_kind, assignee, deadline, updated_at) VALUES ($1, $2, "
                     "$3::integer, $4::integer, $5, $6, $7::timestamptz, $8::timestamptz) ON "
                     "CONFLICT (incident) DO UPDATE SET state = EXCLUDED.state, level = "
                     "EXCLUDED.level, prev_level = EXCLUDED.prev_level, assignee_kind = "
                     "EXCLUDED.assignee_kind, assignee = EXCLUDED.assignee, deadline = "
                     "EXCLUDED.deadline, updated_at = EXCLUDED.updated_at",
                     8, b, "cannot write an incident's flow");
    const char *c[] = {t->incident, set->state};
    if (!st)
        st = pg_exec(s, "UPDATE incidents SET status = $2 WHERE id = $1", 2, c,
                     "cannot set an incident's status");
    return pg_write_end(s, st);
}

typedef struct step_user {
    gw_store_flow_step_fn fn;
    void *user;
} step_user;

static int history_row(void *user, const PGresult *r)
{
    step_user *u = user;
#define COL(c) (PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c))
    gw_store_flow_step t = {
        .incident = COL(1),
        .at = COL(2),
        .actor = COL(3),
        .actor_jurisdiction = COL(4),
        .action = COL(5),
        .from_state = COL(6),
        .to_state = COL(7),
        .from_level = atoi(PQgetvalue(r, 0, 8)),
        .to_level = atoi(PQgetvalue(r, 0, 9)),
        .assignee = COL(10),
        .note = COL(11),
    };
#undef COL
    return u->fn(u->user, strtoll(PQgetvalue(r, 0, 0), NULL, 10), &t);
}

/* Streamed: the whole audit trail (incident NULL) never sits in memory at once. */
static gw_status pg_flow_history(gw_store *s, const char *incident, gw_store_flow_step_fn fn,
                                 void *user)
{
    const char *v[] = {incident};
    step_user u = {fn, user};
    return pg_stream(s,
                     "SELECT seq, incident, gw_iso(at), actor, actor_jurisdiction, action, "
                     "from_state, to_state, from_level, to_level, assignee, note FROM "
                     "incident_transitions WHERE $1::text IS NULL OR incident = $1 ORDER BY "
                     "incident, seq",
                     1, v, history_row, &u, "cannot read an incident's transitions", NULL);
}

typedef struct row_user {
    gw_store_flow_row_fn fn;
    void *user;
} row_user;

static int overdue_row(void *user, const PGresult *r)
{
    row_user *u = user;
    gw_store_flow_cur c;
    read_cur(r, 0, &c);
    return u->fn(u->user, &c);
}

static gw_status pg_flow_overdue(gw_store *s, const char *now, int max, gw_store_flow_row_fn fn,
                                 void *user)
{
    char lim[24];
    pg_i64(lim, max > 0 ? max : 0);
    const char *v[] = {now, max > 0 ? lim : NULL};
    row_user u = {fn, user};
    int stopped = 0;
    gw_status st = pg_stream(s,
                             "SELECT " FLOW_COLS " FROM incident_flow f JOIN incidents i ON i.id = "
                             "f.incident WHERE f.deadline IS NOT NULL AND f.deadline < "
                             "$1::timestamptz AND f.state <> 'closed' ORDER BY f.deadline, "
                             "f.incident LIMIT $2::bigint",
                             2, v, overdue_row, &u, "cannot read the overdue incidents", &stopped);
    if (!st && !stopped) /* never transitioned: reported at occurred_at and still waiting */
        st = pg_stream(s,
                       "SELECT " FLOW_COLS " FROM incidents i LEFT JOIN incident_flow f ON "
                       "f.incident = i.id WHERE f.incident IS NULL AND i.occurred_at IS NOT NULL "
                       "AND i.occurred_at < $1::timestamptz ORDER BY i.occurred_at, i.id LIMIT "
                       "$2::bigint",
                       2, v, overdue_row, &u, "cannot read the overdue incidents", &stopped);
    return st;
}

static gw_status pg_flow_deadlines(gw_store *s, gw_store_flow_deadline_fn fn, void *user)
{
    gw_status st;
    PGresult *r = pg_run(s, "SELECT category, level, action, seconds FROM flow_deadlines", 0, NULL,
                         NULL, "cannot read the flow deadlines", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r); i++)
        if (fn(user, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 1)), PQgetvalue(r, i, 2),
               strtoll(PQgetvalue(r, i, 3), NULL, 10)))
            break;
    PQclear(r);
    return GW_OK;
}

static gw_status pg_flow_deadline_set(gw_store *s, const char *category, int level,
                                      const char *action, int64_t seconds)
{
    char lv[24], sec[24];
    pg_i64(lv, level), pg_i64(sec, seconds);
    const char *v[] = {category ? category : "", lv, action, sec};
    gw_status st = pg_write_begin(s);
    if (st) return st;
    st = pg_exec(s,
                 "INSERT INTO flow_deadlines (category, level, action, seconds) VALUES ($1, "
                 "$2::integer, $3, $4::bigint) ON CONFLICT (category, level, action) DO UPDATE "
                 "SET seconds = EXCLUDED.seconds",
                 4, v, "cannot write a flow deadline");
    return pg_write_end(s, st);
}

const struct gw_store_flow_ops st_pg_flow_ops = {
    .get = pg_flow_get,
    .put = pg_flow_put,
    .history = pg_flow_history,
    .overdue = pg_flow_overdue,
    .deadlines = pg_flow_deadlines,
    .deadline_set = pg_flow_deadline_set,
};
