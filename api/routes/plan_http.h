/* plan_http.h — grid planning over HTTP (/plan/…) and `gridwatch plan`: drafts, edits,
 * validation, balance, versions, publish and rollback, over geo/plan*.c (include/gridwatch/plan.h).
 *
 * In the app (app.h): no module state; add gw_plan_routes() to the routes.  Writes need a
 * planner (or admin) token; the token's name is what the audit log records as "who".  After a
 * publish or rollback the handler waits (up to 5 s) until the live model has the new version,
 * so the next request already sees it. */
#ifndef GW_PLAN_HTTP_H
#define GW_PLAN_HTTP_H

#include "server.h"

/* POST /plan/drafts {"name"} → 201 {"id",…}; GET /plan/drafts; GET/DELETE /plan/drafts/{id};
 * GET /plan/drafts/{id}/diff; POST /plan/drafts/{id}/edits (an edit, see gw_plan_edit);
 * GET /plan/drafts/{id}/validation[?min_area=&max_area=&tol=]; GET /plan/drafts/{id}/balance;
 * POST /plan/drafts/{id}/publish[?force=true]; GET /plan/versions;
 * GET /plan/versions/{n}/validation; POST /plan/versions/{n}/rollback.  Static storage. */
const gw_route *gw_plan_routes(size_t *n);

#endif
