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

/* A route a scoped planner may use only when its scope holds the whole city (unscoped tokens
 * too): 0 to go on, -1 after answering 403 saying `why` it covers the whole layout. */
int gw_plan_whole_city_only(gw_req *req, const char *why);
/* A draft route: 0 to go on with *out (NULL: unscoped or a whole-city scope; else the scope for
 * the handler to filter with and release); -1 after answering: the draft's own error (404 for
 * an unknown draft), 404 for a read of a draft not wholly in the jurisdiction (as if it did not
 * exist), 403 naming the jurisdiction for a write (write = 1). */
int gw_plan_draft_scope(gw_req *req, gw_store *s, int64_t id, int write, gw_scope **out);

/* Answer 403: the plan route is not available to this scoped token (its scope does not hold the
 * whole city). */
void gw_plan_scope_refuse(gw_req *req, const char *why);

#endif
