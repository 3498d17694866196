/* store_dispatch.h — patrol teams' live state at rest: batches of positions (with their change
 * -log rows and spatial index kept in the same transaction), status, and assignments of teams
 * to incidents.  The dispatch index and its rules are geo/dispatch/. */
#ifndef GRIDWATCH_STORE_DISPATCH_H
#define GRIDWATCH_STORE_DISPATCH_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One reported position.  prev_*: where the team was (NAN when unknown), for the change's bbox. */
typedef struct gw_store_move {
    const char *id;
    double lon, lat;
    int64_t at; /* Unix seconds */
    double prev_lon, prev_lat;
} gw_store_move;

enum { GW_STORE_MOVE_APPLIED = 0, GW_STORE_MOVE_OLDER, GW_STORE_MOVE_UNKNOWN };

/* Write a batch of positions in one transaction of its own: each team's point and time when `at`
 * is not older than the stored one (outcome[i] APPLIED, else OLDER, or UNKNOWN for no such team),
 * the spatial index, and one change-log row per applied move, whose seq goes to seq[i] (0 for
 * the others).  Nothing is written when any step fails. */
gw_status gw_store_dispatch_positions(gw_store *s, const gw_store_move *moves, size_t n,
                                      uint8_t *outcome, int64_t *seq);
/* The team's stored status text into status[cap]; GW_ERR_NOT_FOUND (no message) without one. */
gw_status gw_store_dispatch_team_status(gw_store *s, const char *team, char *status, size_t cap);
/* Inside the caller's transaction: make an available team busy (*changed = 1) or leave it
 * (*changed = 0). */
gw_status gw_store_dispatch_take(gw_store *s, const char *team, int *changed);
/* Inside the caller's transaction: make the team available. */
gw_status gw_store_dispatch_free(gw_store *s, const char *team);
/* 1 in *exists when an incident with this id is stored. */
gw_status gw_store_dispatch_incident_exists(gw_store *s, const char *incident, int *exists);
/* Inside the caller's transaction: record an assignment of team to incident at `at` by `by`. */
gw_status gw_store_dispatch_assign(gw_store *s, const char *incident, const char *team,
                                   const char *at, const char *by);
/* Inside the caller's transaction: close the team's open assignment (to `incident`, or any when
 * NULL) at `at` by `by`; *closed receives how many were closed. */
gw_status gw_store_dispatch_release(gw_store *s, const char *team, const char *incident,
                                    const char *at, const char *by, int *closed);

#ifdef __cplusplus
}
#endif
#endif
