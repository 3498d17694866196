/* flow_stats.h — what a command center watches (issue 18 item 4): per incident, the milestones of
 * its flow read from the audit trail (when it was accepted, assigned, reached and closed, whether
 * it was escalated, whether its next action is overdue), and their sums per group (a grid, a
 * jurisdiction): counts by state, time to accept / assign / arrive / close (median and p90),
 * overdue share and escalation rate.  docs/incident-flow.md, "Response figures", states the
 * definitions the HTTP route and its test share. */
#ifndef GRIDWATCH_FLOW_STATS_H
#define GRIDWATCH_FLOW_STATS_H

#include "gridwatch/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The milestones the figures time, from the incident's report. */
typedef enum gw_flow_mark {
    GW_FM_ACCEPT = 0, /* first 'accept' */
    GW_FM_ASSIGN,     /* first 'assign' */
    GW_FM_ARRIVE,     /* first 'arrive' */
    GW_FM_CLOSE,      /* first 'close' */
    GW_FM_COUNT
} gw_flow_mark;

/* An incident as the caller knows it (its model row): borrowed strings. */
typedef struct gw_flow_inc {
    const char *category; /* may be NULL */
    const char *status;   /* the incident's status field: its state when it has a flow */
    int64_t reported;     /* Unix seconds: occurred_at (the report time) */
    int max_level;        /* gw_flow_max_level of its grid path: its level before any transition */
} gw_flow_inc;

/* One incident's milestones. */
typedef struct gw_flow_ms {
    gw_flow_state state;    /* after its last transition; without one, 'closed' when its
                                      status says so, else 'reported' */
    int64_t t[GW_FM_COUNT]; /* seconds from the report to the milestone; -1 not reached
                                      (negative differences are 0: a report time after the act) */
    int escalated;          /* at least one 'escalate' */
    int overdue;            /* the deadline of the state's next action is before now */
    int has_flow;           /* at least one transition */
} gw_flow_ms;

/* Find an incident of the caller's by id: its index (0..n-1), or -1 to skip its transitions. */
typedef ptrdiff_t (*gw_flow_find_fn)(void *user, const char *id);

/* Fill ms[0..n-1] for the caller's incidents inc[0..n-1]: one pass over the store's audit trail
 * (gw_store_flow_history with NULL), deadlines from `over` (gw_flow_deadlines_load), overdue
 * judged at `now` (Unix seconds).  An incident without transitions waits for 'accept' from its
 * report at its max_level. */
gw_status gw_flow_milestones(gw_store *store, const gw_flow_inc *inc, size_t n,
                             gw_flow_find_fn find, void *find_user, const gw_flow_deadline *over,
                             size_t n_over, int64_t now, gw_flow_ms *ms);

/* The figures of one group. */
typedef struct gw_flow_response {
    int64_t incidents;
    int64_t by_state[GW_FS_COUNT];
    int64_t reached[GW_FM_COUNT]; /* incidents that reached each milestone */
    double median_s[GW_FM_COUNT]; /* nearest-rank median of the times (NAN when none reached) */
    double p90_s[GW_FM_COUNT];    /* nearest-rank 90th percentile (NAN when none) */
    int64_t overdue, escalated;
    double overdue_share, escalation_rate; /* of `incidents` (NAN when 0) */
} gw_flow_response;

/* Sum incidents into n_groups groups: group[i] in 0..n_groups-1, or -1 to leave incident i out.
 * out[0..n_groups-1] is overwritten. */
gw_status gw_flow_response_sum(const gw_flow_ms *ms, const ptrdiff_t *group, size_t n,
                               size_t n_groups, gw_flow_response *out);

/* The nearest-rank percentile p (0 < p <= 100) of v[0..n-1], which it sorts; NAN when n == 0. */
double gw_flow_percentile(double *v, size_t n, double p);

#ifdef __cplusplus
}
#endif
#endif
