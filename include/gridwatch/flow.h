/* flow.h — the closed-loop incident flow (issue 18, docs/incident-flow.md): the state machine as
 * a data table, the jurisdiction rules (who may act on an incident handled at which level), the
 * level moves of escalate / hand_down / return, the deadlines of the next expected action, and
 * gw_flow_transition, which checks and records one transition in one store transaction.
 *
 * Jurisdictions are PATHS: the non-empty names of prefecture, county, township and village
 * joined by "/" ("Heze/Mudan/Dongcheng/Village 3"); the level of a path is its number of parts
 * (1 prefecture .. 4 village); "" is the root (level 0, sees everything).  The flow never
 * computes a path itself: the caller passes the actor's path and resolves the incident's grid
 * to a path (gw_flow_path_fn), so the rules are tested without HTTP or a model. */
#ifndef GRIDWATCH_FLOW_H
#define GRIDWATCH_FLOW_H

#include "gridwatch/common.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_flow_state {
    GW_FS_REPORTED = 0,
    GW_FS_ACCEPTED,
    GW_FS_ASSIGNED,
    GW_FS_ON_SCENE,
    GW_FS_RESOLVED,
    GW_FS_CLOSED,
    GW_FS_RETURNED,  /* sent back to the previous level */
    GW_FS_REOPENED,  /* closed (or resolved) and taken up again */
    GW_FS_ESCALATED, /* passed to the level above, waiting for it */
    GW_FS_COUNT
} gw_flow_state;

typedef enum gw_flow_action {
    GW_FA_ACCEPT = 0,
    GW_FA_ASSIGN, /* to a team id or a department name */
    GW_FA_ARRIVE, /* the team is on scene */
    GW_FA_RESOLVE,
    GW_FA_CLOSE,
    GW_FA_RETURN, /* back to the previous level */
    GW_FA_REOPEN,
    GW_FA_ESCALATE,  /* level h -> h-1 */
    GW_FA_HAND_DOWN, /* level h -> h+1 */
    GW_FA_COUNT
} gw_flow_action;

/* Roles of a rule's who-may mask (the API's roles that may transition). */
enum { GW_FLOW_DISPATCHER = 1u, GW_FLOW_ADMIN = 2u };

/* One row of the state machine: from --action--> to, by the roles in `who`. */
typedef struct gw_flow_rule {
    gw_flow_state from;
    gw_flow_action action;
    gw_flow_state to;
    unsigned who;
} gw_flow_rule;

/* The state machine (a const table; docs/incident-flow.md quotes it).  *n receives its size. */
const gw_flow_rule *gw_flow_rules(size_t *n);
/* "reported", … / "accept", … (NULL for an out-of-range value). */
const char *gw_flow_state_name(gw_flow_state s);
const char *gw_flow_action_name(gw_flow_action a);
/* Parse a name; 0 on success, -1 for an unknown one. */
int gw_flow_state_parse(const char *name, gw_flow_state *out);
int gw_flow_action_parse(const char *name, gw_flow_action *out);

/* The state `action` leads to from `from`: 0 with *to set, or -1 with why[cap] saying which
 * actions the state allows ("an incident in state 'closed' can only be: reopen"). */
int gw_flow_next(gw_flow_state from, gw_flow_action action, gw_flow_state *to, char *why,
                 size_t cap);

/* The roles (GW_FLOW_* mask) the rule for (from, action) names; 0 when there is no rule. */
unsigned gw_flow_who(gw_flow_state from, gw_flow_action action);

/* Number of parts of a path ("" -> 0). */
int gw_flow_path_level(const char *path);
/* 1 when path `inner` lies within `outer` (outer "" contains everything; equal paths; or inner
 * starts with outer + "/"). */
int gw_flow_path_within(const char *inner, const char *outer);
/* The part of `path` at `level` (1-based) into buf[cap]; 0, or -1 when the path is shallower. */
int gw_flow_path_part(const char *path, int level, char *buf, size_t cap);

/* Whether an actor with jurisdiction actor_path may act on an incident whose grid path is
 * incident_path and which is handled at `level`: 0, or -1 with why[cap] naming the
 * jurisdictions (outside the actor's jurisdiction, or handled above the actor's level). */
int gw_flow_permit(const char *actor_path, const char *incident_path, int level, char *why,
                   size_t cap);
/* The handling level after `action` (escalate h-1, hand_down h+1, return prev_level, others h):
 * 0 with *to set, or -1 with why[cap].  Refused: escalate at level 1, or by an actor above the
 * incident's level (0 < actor level < h: the incident is not theirs to pass up; the root may);
 * hand_down past max_level (the grid path's depth); hand_down to a named child (`to_name`, may
 * be NULL) that is not the incident's part of incident_path at h+1; return without a previous
 * level. */
int gw_flow_level_after(gw_flow_action action, int level, int prev_level, int actor_level,
                        int max_level, const char *incident_path, const char *to_name, int *to,
                        char *why, size_t cap);
/* The deepest level of an incident path: its number of parts, 4 when it has none. */
int gw_flow_max_level(const char *incident_path);

/* ---- deadlines ---- */

/* The action a state waits for (GW_FA_COUNT for none: closed). */
gw_flow_action gw_flow_expected(gw_flow_state s);

/* Deadline overrides (store table flow_deadlines): category "" = any, level 0 = any. */
typedef struct gw_flow_deadline {
    char category[64];
    int level;
    gw_flow_action action;
    int64_t seconds;
} gw_flow_deadline;

/* Seconds allowed for `action` of an incident of `category` at `level`: the most specific
 * override (category and level, then category, then level, then any), else the built-in
 * default (accept 15 min, assign 15 min, arrive 30 min, resolve 4 h, close 72 h). */
int64_t gw_flow_deadline_seconds(const gw_flow_deadline *over, size_t n, const char *category,
                                 int level, gw_flow_action action);
/* The deadline (Unix seconds) of an incident that entered `state` at `since`; 0 when the state
 * waits for nothing. */
int64_t gw_flow_deadline_of(const gw_flow_deadline *over, size_t n, const char *category, int level,
                            gw_flow_state state, int64_t since);
/* Load the overrides of the store; *out (free()) and *n.  Unknown action names are skipped. */
gw_status gw_flow_deadlines_load(gw_store *store, gw_flow_deadline **out, size_t *n);

/* ---- one transition ---- */

/* Resolve a grid id to its jurisdiction path into buf[cap] ("" when unknown); return 0. */
typedef int (*gw_flow_path_fn)(void *user, const char *grid, char *buf, size_t cap);

typedef struct gw_flow_request {
    const char *incident;
    gw_flow_action action;
    const char *actor;      /* token name or role, for the audit trail */
    const char *actor_path; /* the actor's jurisdiction ("" or NULL = root) */
    const char *note;       /* required for return, reopen and escalate */
    const char *team;       /* assign: a team id, or */
    const char *department; /* assign: a department name */
    const char *to;         /* hand_down: the child jurisdiction's name (optional) */
    unsigned who;           /* the actor's role as GW_FLOW_* (0 = not checked: the CLI) */
    int64_t now;            /* Unix seconds (0 = the clock) */
    gw_flow_path_fn path_of;
    void *path_user;
} gw_flow_request;

/* Why a transition was not made (an HTTP status follows from it). */
typedef enum gw_flow_refusal {
    GW_FLOW_DONE = 0,
    GW_FLOW_BAD,         /* missing note / assignee, bad child name: 400 */
    GW_FLOW_FORBIDDEN,   /* outside the actor's jurisdiction or level: 403 */
    GW_FLOW_NO_INCIDENT, /* 404 */
    GW_FLOW_REFUSED,     /* the state machine or a level bound refuses: 409 */
} gw_flow_refusal;

typedef struct gw_flow_outcome {
    gw_flow_refusal refusal;
    char why[512];
    gw_flow_state from, to;
    int from_level, to_level;
    char incident_path[512];
    char deadline[32]; /* ISO 8601 UTC of the next expected action ("" when none) */
    int64_t seq;       /* the transition's seq in incident_transitions */
    int64_t
        change_seq; /* its change-log row (layer incidents, op "flow:<action>:<state>:<level>") */
} gw_flow_outcome;

/* Check and record one transition in one transaction of its own: read the incident's flow row
 * (an incident without one is 'reported' at gw_flow_max_level of its path), check the actor's
 * jurisdiction, the state machine (and the rule's roles) and the level bounds, append the transition, write the flow
 * row (with the deadline of the next expected action) and the incident's status, and log a
 * change.  GW_OK with out->refusal GW_FLOW_DONE when recorded, or another refusal (nothing
 * written) with out->why; an error status for a store failure (nothing written). */
gw_status gw_flow_transition(gw_store *store, const gw_flow_request *req, gw_flow_outcome *out);

#ifdef __cplusplus
}
#endif
#endif
