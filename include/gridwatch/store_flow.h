/* store_flow.h — the closed-loop incident flow at rest (tables incident_flow, incident_transitions
 * and flow_deadlines, migration 007): an incident's current state and handling level, the audit
 * trail of its transitions, the overdue ones and the deadline overrides.  The state machine, the
 * permission rules and the one-transaction transition are geo/flow/ (gridwatch/flow.h). */
#ifndef GRIDWATCH_STORE_FLOW_H
#define GRIDWATCH_STORE_FLOW_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An incident's flow row with the incident fields the flow needs (copied; text cut to fit). */
typedef struct gw_store_flow_cur {
    char incident[256];
    int has_row;    /* 0: the incident has no flow row yet (state and level below are "", 0) */
    char state[24]; /* "reported", "accepted", … */
    int level;      /* handling level 1..4 */
    int prev_level; /* the level before the last level change (0: none) */
    char assignee_kind[16]; /* "team", "department" or "" */
    char assignee[256];
    char deadline[32];    /* ISO 8601 UTC ("" when none) */
    char updated_at[32];  /* ISO 8601 UTC ("" without a row) */
    char grid[256];       /* the incident's grid field ("" when NULL) */
    char category[128];   /* the incident's category ("" when NULL) */
    char occurred_at[32]; /* the incident's occurred_at, ISO 8601 UTC ("" when NULL): when its
                             clock starts before its first transition */
} gw_store_flow_cur;

/* One transition as written and read back.  Text borrowed (NULL = SQL NULL). */
typedef struct gw_store_flow_step {
    const char *incident;
    const char *at; /* ISO 8601 UTC */
    const char *actor, *actor_jurisdiction;
    const char *action;
    const char *from_state, *to_state;
    int from_level, to_level;
    const char *assignee; /* "team:T7" / "department:Traffic" as recorded, or NULL */
    const char *note;
} gw_store_flow_step;

/* The flow row a transition leaves (written with its step). */
typedef struct gw_store_flow_set {
    const char *state;
    int level, prev_level;                /* prev_level 0 = NULL */
    const char *assignee_kind, *assignee; /* NULL = none */
    const char *deadline;                 /* NULL = none */
} gw_store_flow_set;

/* Read the incident's flow row and grid/category into *out.  GW_ERR_NOT_FOUND (no message) when
 * no incident has this id.  Inside a write transaction it is the state the transition checks. */
gw_status gw_store_flow_get(gw_store *s, const char *incident, gw_store_flow_cur *out);
/* Inside the caller's transaction: append the step to incident_transitions (its seq to *seq, may
 * be NULL), insert or replace the incident's incident_flow row with `set` (updated_at = step
 * at) and set incidents.status to set->state. */
gw_status gw_store_flow_put(gw_store *s, const gw_store_flow_step *step,
                            const gw_store_flow_set *set, int64_t *seq);

/* Called per transition (strings borrowed for the call); return nonzero to stop. */
typedef int (*gw_store_flow_step_fn)(void *user, int64_t seq, const gw_store_flow_step *t);
/* The incident's transitions, oldest first, to fn; incident NULL: every incident's, ordered by
 * incident id (bytewise) then oldest first.  PostgreSQL streams the rows (one in memory at a
 * time): fn must not use the store. */
gw_status gw_store_flow_history(gw_store *s, const char *incident, gw_store_flow_step_fn fn,
                                void *user);

/* Called per flow row (borrowed for the call); return nonzero to stop. */
typedef int (*gw_store_flow_row_fn)(void *user, const gw_store_flow_cur *r);
/* The flow rows whose deadline is before `now` (ISO 8601 UTC) and whose state is not 'closed',
 * earliest deadline first, then (has_row 0, deadline "") every incident that never had a
 * transition and occurred before `now`, earliest occurred_at first: its deadline (the accept
 * deadline from occurred_at, which depends on its category and level) is the caller's to
 * compute.  At most `max` rows of each kind (<= 0: all), to fn.  PostgreSQL streams the rows
 * (one in memory at a time): fn must not use the store. */
gw_status gw_store_flow_overdue(gw_store *s, const char *now, int max, gw_store_flow_row_fn fn,
                                void *user);

/* Called per deadline override row; return nonzero to stop. */
typedef int (*gw_store_flow_deadline_fn)(void *user, const char *category, int level,
                                         const char *action, int64_t seconds);
/* Every flow_deadlines row to fn. */
gw_status gw_store_flow_deadlines(gw_store *s, gw_store_flow_deadline_fn fn, void *user);
/* Insert or replace one deadline override (category "" = any, level 0 = any), in a transaction
 * of its own unless the caller has one. */
gw_status gw_store_flow_deadline_set(gw_store *s, const char *category, int level,
                                     const char *action, int64_t seconds);

#ifdef __cplusplus
}
#endif
#endif
