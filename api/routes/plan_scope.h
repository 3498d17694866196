/* plan_scope.h — grid planning for accounts scoped to a jurisdiction (docs/scoping.md): a
 * scoped planner works on drafts whose changes all lie in its jurisdiction (every grid a draft
 * adds, changes or deletes has its path in the jurisdiction, in the published version and in the
 * draft), and sees the draft's grids of its jurisdiction only.  A scope holding every published
 * grid (the prefecture of a one-prefecture city) plans as an unscoped account does, except that
 * its publishes are still checked. */
#ifndef GW_PLAN_SCOPE_H
#define GW_PLAN_SCOPE_H

#include "gridwatch/plan.h"
#include "scope_http.h"

/* The request's scope for the plan routes: *sc NULL for an unscoped token, else a reference to
 * release with gw_scope_release(); *whole 1 when it holds every published grid (or is NULL).
 * Returns 0, or -1 after answering. */
int gw_plan_scope(gw_req *req, gw_scope **sc, int *whole);
/* 1 when every grid draft `draft` adds, changes or deletes lies in sc (its published path and
 * its path in the draft), read through s (inside the caller's transaction when there is one);
 * 0 when one does not; -1 on a store error (on s's ctx).  1 for a NULL scope. */
int gw_plan_draft_within(const gw_scope *sc, gw_store *s, int64_t draft);

/* A gw_plan_check_fn over a gw_plan_within: refuses (and sets `refused`) a draft that is not
 * wholly within the scope. */
typedef struct gw_plan_within {
    const gw_scope *sc;
    int refused;
} gw_plan_within;
int gw_plan_check_within(void *user, gw_store *s, int64_t draft);

/* The FeatureCollection text of gw_plan_draft_grids with only the features whose path (their
 * prefecture/county/township/village properties) lies in sc; a new text (free()) or NULL when
 * out of memory or unparsable. */
char *gw_plan_grids_within(const gw_scope *sc, const char *geojson);

/* Answer 403: the plan route is not available to this scoped token (its scope does not hold the
 * whole city). */
void gw_plan_scope_refuse(gw_req *req, const char *why);

#endif
