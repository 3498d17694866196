/* flow_http.c — the incident flow's routes (flow_http.h): a transition checked and recorded by
 * geo/flow in one transaction, the history, the overdue list, and the flow member of an
 * incident's OGC item.  The actor's jurisdiction is its token's (auth.h); an incident's is that
 * of the published grid containing it (scope.h), as on every scoped route. */
#include "flow_http.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/flow.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store_flow.h"
#include "problem.h"
#include "scope_http.h"
#include "gridwatch/dispatch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OVERDUE_MAX 10000

/* The jurisdiction path of the request's token ("" = root, unscoped). */
static const char *actor_path(gw_req *req) { return gw_auth_request_jurisdiction(req); }

/* The jurisdiction path of an incident, by the rule every scoped route uses (docs/scoping.md):
 * the published grid containing its point in the live model; an incident the model does not
 * hold yet falls back to its stored `grid` field.  "" when neither names a published grid. */
static void incident_path(gw_req *req, const char *incident, const char *grid, char *buf,
                          size_t cap)
{
    buf[0] = 0;
    gw_live *live = gw_req_live(req);
    gw_ctx *ctx = gw_req_ctx(req);
    if (!live || !ctx) return;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    const gw_layer_data *I = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    ptrdiff_t row = I && G && incident ? gw_layer_data_find(I, incident) : -1, g = -1;
    if (row >= 0) {
        const double *x = gw_layer_data_x(I, GW_MODEL_METRIC),
                     *y = gw_layer_data_y(I, GW_MODEL_METRIC);
        if (gw_layer_data_grid_at(ctx, G, x[row], y[row], &g)) g = -1, gw_ctx_clear_error(ctx);
        if (g >= 0) gw_scope_row_path(G, (size_t)g, buf, cap);
    }
    gw_model_release(ctx, snap);
    if (row < 0 && grid && *grid) gw_scope_grid_path(live, grid, buf, cap);
}

typedef struct path_user {
    gw_req *req;
    const char *incident;
} path_user;

static int path_cb(void *user, const char *grid, char *buf, size_t cap)
{
    path_user *u = user;
    incident_path(u->req, u->incident, grid, buf, cap);
    return 0;
}

/* A problem document with extension members (ext, taken over; may be NULL). */
static void problem_ext(gw_req *req, unsigned status, const char *title, const char *detail,
                        json_t *ext)
{
    json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", "about:blank", "title", title, "status",
                          (int)status, "detail", detail, "instance", gw_req_path(req));
    if (ext) json_object_update(p, ext), json_decref(ext);
    char *txt = json_dumps(p, JSON_COMPACT);
    gw_req_respond(req, status, "application/problem+json", txt ? txt : "{}",
                   txt ? strlen(txt) : 2);
    free(txt);
    json_decref(p);
}

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* ---- POST /incidents/{id}/transitions ---- */

/* A string member of the body: 0 with *out (NULL when absent or null), -1 with a 400 answered
 * for another type. */
static int body_str(gw_req *req, json_t *doc, const char *key, const char **out)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    gw_req_problem(req, 400, NULL, "'%s' must be a string", key);
    return -1;
}

static json_t *allowed_actions(gw_flow_state s)
{
    json_t *a = json_array();
    size_t n = 0;
    const gw_flow_rule *r = gw_flow_rules(&n);
    for (size_t i = 0; i < n; i++)
        if (r[i].from == s) json_array_append_new(a, json_string(gw_flow_action_name(r[i].action)));
    return a;
}

/* A scoped account assigns only its own teams ("unless it escalates": the level above, whose
 * jurisdiction holds both, assigns the neighbour's team).  0 when `team` is one of the scope's
 * teams by its current place in the dispatch table (or the token is unscoped); else -1 after
 * answering 403 naming the jurisdiction. */
static int check_team(gw_req *req, const char *team)
{
    if (!team || !*actor_path(req)) return 0;
    gw_app *app = gw_req_app(req);
    gw_dispatch *d = app ? app->modules[GW_APP_DISPATCH] : NULL;
    gw_ctx *ctx = gw_req_ctx(req);
    gw_scope *sc = NULL;
    if (gw_req_scope_live(req, &sc)) return -1;
    gw_team_hit h;
    int in = d && ctx && gw_dispatch_team(ctx, d, team, 0, &h) == GW_OK &&
             gw_req_scope_lonlat(req, sc, h.lon, h.lat);
    if (ctx) gw_ctx_clear_error(ctx);
    gw_scope_release(sc);
    if (in) return 0;
    char what[160];
    snprintf(what, sizeof what, "team '%.100s' (where the dispatch table has it)", team);
    gw_req_scope_refuse(req, what);
    return -1;
}

static int h_transition(gw_req *req)
{
    if (gw_auth_require_write(req, GW_LAYER_INCIDENTS)) return 0;
    const char *id = gw_req_param(req, "id");
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    json_error_t e;
    json_t *doc = len ? json_loadb(body, len, 0, &e) : NULL;
    if (!doc || !json_is_object(doc)) {
        gw_req_problem(req, 400, NULL,
                       "the body must be a JSON object {\"action\": …, \"note\": …}%s%s",
                       doc   ? ""
                       : len ? ": "
                             : " (it is empty)",
                       doc || !len ? "" : e.text);
        json_decref(doc);
        return 0;
    }
    const char *action = NULL, *note = NULL, *team = NULL, *dept = NULL, *to = NULL;
    if (body_str(req, doc, "action", &action) || body_str(req, doc, "note", &note) ||
        body_str(req, doc, "team", &team) || body_str(req, doc, "department", &dept) ||
        body_str(req, doc, "to", &to)) {
        json_decref(doc);
        return 0;
    }
    gw_flow_action act;
    if (!action || gw_flow_action_parse(action, &act)) {
        gw_req_problem(req, 400, NULL,
                       "'action' must be one of accept, assign, arrive, resolve, close, return, "
                       "reopen, escalate, hand_down (got %s%s%s)",
                       action ? "'" : "", action ? action : "none", action ? "'" : "");
        json_decref(doc);
        return 0;
    }
    if (act == GW_FA_ASSIGN && check_team(req, team)) {
        json_decref(doc);
        return 0;
    }
    gw_store *s = gw_req_write_store(req);
    if (!s) {
        json_decref(doc);
        return 0;
    }
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    path_user pu = {req, id};
    gw_flow_request r = {
        .incident = id,
        .action = act,
        .actor = who,
        .actor_path = actor_path(req),
        .note = note,
        .team = team,
        .department = dept,
        .to = to,
        .who = gw_auth_request_role(req) == GW_ROLE_ADMIN ? GW_FLOW_ADMIN : GW_FLOW_DISPATCHER,
        .path_of = path_cb,
        .path_user = &pu,
    };
    gw_flow_outcome o;
    gw_status st = gw_flow_transition(s, &r, &o);
    if (st) {
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
    } else if (o.refusal == GW_FLOW_BAD) {
        gw_req_problem(req, 400, NULL, "%s", o.why);
    } else if (o.refusal == GW_FLOW_NO_INCIDENT) {
        gw_req_problem(req, 404, NULL, "%s", o.why);
    } else if (o.refusal == GW_FLOW_FORBIDDEN) {
        problem_ext(req, 403, "Forbidden", o.why,
                    json_pack("{s:s,s:s}", "jurisdiction", o.incident_path, "actor_jurisdiction",
                              r.actor_path));
    } else if (o.refusal == GW_FLOW_REFUSED) {
        problem_ext(req, 409, "Conflict", o.why,
                    json_pack("{s:s,s:i,s:o}", "state", gw_flow_state_name(o.from), "level",
                              o.from_level, "allowed", allowed_actions(o.from)));
    } else {
        gw_live_kick(gw_req_live(req));
        char sq[32];
        snprintf(sq, sizeof sq, "%lld", (long long)o.change_seq);
        gw_req_add_header(req, "Gridwatch-Change-Seq", sq);
        gw_req_respond_json(req, 201,
                            json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:o,s:s,s:I,s:I}", "incident", id,
                                      "action", gw_flow_action_name(act), "from_state",
                                      gw_flow_state_name(o.from), "from_level", o.from_level,
                                      "state", gw_flow_state_name(o.to), "level", o.to_level,
                                      "deadline", text_or_null(o.deadline[0] ? o.deadline : NULL),
                                      "jurisdiction", o.incident_path, "seq", (json_int_t)o.seq,
                                      "change_seq", (json_int_t)o.change_seq));
    }
    json_decref(doc);
    return 0;
}

/* ---- GET /incidents/{id}/transitions ---- */

static int add_step(void *user, int64_t seq, const gw_store_flow_step *t)
{
    json_t *a = user;
    json_array_append_new(a, json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:o,s:o}", "seq",
                                       (json_int_t)seq, "at", text_or_null(t->at), "actor",
                                       text_or_null(t->actor), "actor_jurisdiction",
                                       text_or_null(t->actor_jurisdiction), "action",
                                       text_or_null(t->action), "from_state",
                                       text_or_null(t->from_state), "to_state",
                                       text_or_null(t->to_state), "from_level", t->from_level,
                                       "to_level", t->to_level, "assignee",
                                       text_or_null(t->assignee), "note", text_or_null(t->note)));
    return 0;
}

/* The incident's current flow row, or a 404 answered (also for one outside the actor's
 * jurisdiction, which must not learn it exists); 0 or -1. */
static int read_current(gw_req *req, gw_store *s, const char *id, gw_store_flow_cur *cur,
                        char *path, size_t cap)
{
    gw_status st = gw_store_flow_get(s, id, cur);
    if (!st) incident_path(req, id, cur->grid, path, cap);
    if (st == GW_ERR_NOT_FOUND || (!st && !gw_flow_path_within(path, actor_path(req)))) {
        gw_ctx_clear_error(gw_store_ctx(s));
        gw_req_problem(req, 404, NULL, "no incident has the id '%s'", id);
        return -1;
    }
    if (st) {
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
        return -1;
    }
    if (!cur->has_row) { /* reported at the deepest level of its grid */
        snprintf(cur->state, sizeof cur->state, "%s", gw_flow_state_name(GW_FS_REPORTED));
        cur->level = gw_flow_max_level(path);
    }
    return 0;
}

static int h_history(gw_req *req)
{
    const char *id = gw_req_param(req, "id");
    gw_store *s = gw_req_store(req);
    if (!s) return 0;
    gw_store_flow_cur cur;
    char path[512];
    if (read_current(req, s, id, &cur, path, sizeof path)) return 0;
    json_t *a = json_array();
    gw_status st = gw_store_flow_history(s, id, add_step, a);
    if (st) {
        json_decref(a);
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
        return 0;
    }
    gw_buf self = {0};
    gw_buf_printf(&self, "%s%s", gw_req_base_url(req), gw_req_path(req));
    gw_req_respond_json(req, 200,
                        json_pack("{s:s,s:s,s:i,s:o,s:s,s:o,s:[{s:s,s:s,s:s}]}", "incident", id,
                                  "state", cur.state, "level", cur.level, "deadline",
                                  text_or_null(cur.deadline[0] ? cur.deadline : NULL),
                                  "jurisdiction", path, "transitions", a, "links", "rel", "self",
                                  "type", "application/json", "href", self.data ? self.data : ""));
    gw_buf_free(&self);
    return 0;
}

/* ---- GET /incidents/overdue ---- */

typedef struct overdue_acc {
    gw_req *req;
    const char *scope, *actor;
    int64_t now;
    json_t *items;
    gw_flow_deadline *over; /* the deadline overrides, for incidents never transitioned */
    size_t n_over;
} overdue_acc;

static int add_overdue(void *user, const gw_store_flow_cur *r)
{
    overdue_acc *a = user;
    char path[512];
    incident_path(a->req, r->incident, r->grid, path, sizeof path);
    if (!gw_flow_path_within(path, a->scope) || !gw_flow_path_within(path, a->actor)) return 0;
    gw_flow_state s = GW_FS_REPORTED;
    int level = r->level;
    int64_t due = 0;
    gw_ctx *ctx = gw_req_ctx(a->req);
    char deadline[32];
    snprintf(deadline, sizeof deadline, "%s", r->deadline);
    if (!r->has_row) { /* never transitioned: reported at occurred_at, waiting for accept */
        int64_t since = 0;
        if (!ctx || gw_time_parse(ctx, r->occurred_at, NULL, &since)) {
            if (ctx) gw_ctx_clear_error(ctx);
            return 0;
        }
        level = gw_flow_max_level(path);
        due = gw_flow_deadline_of(a->over, a->n_over, r->category, level, GW_FS_REPORTED, since);
        if (!due || due >= a->now) return 0;
        gw_time_format(due, deadline, sizeof deadline);
    } else {
        gw_flow_state_parse(r->state, &s);
        if (ctx && gw_time_parse(ctx, r->deadline, NULL, &due)) gw_ctx_clear_error(ctx);
    }
    gw_flow_action next = gw_flow_expected(s);
    json_array_append_new(a->items,
                          json_pack("{s:s,s:s,s:i,s:s,s:I,s:o,s:s,s:s,s:o}", "id", r->incident,
                                    "state", r->has_row ? r->state : gw_flow_state_name(s), "level",
                                    level, "deadline", deadline, "overdue_s",
                                    (json_int_t)(due ? a->now - due : 0), "expected_action",
                                    text_or_null(gw_flow_action_name(next)), "grid", r->grid,
                                    "jurisdiction", path, "assignee",
                                    r->assignee[0] ? json_pack("{s:s,s:s}", "kind",
                                                               r->assignee_kind, "id", r->assignee)
                                                   : json_null()));
    return 0;
}

/* Most overdue first (ties: id). */
static int cmp_overdue(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    json_int_t x = json_integer_value(json_object_get(a, "overdue_s")),
               y = json_integer_value(json_object_get(b, "overdue_s"));
    if (x != y) return x > y ? -1 : 1;
    return strcmp(json_string_value(json_object_get(a, "id")),
                  json_string_value(json_object_get(b, "id")));
}

/* The items sorted and cut to `limit`. */
static json_t *sorted_overdue(json_t *items, size_t limit)
{
    size_t n = json_array_size(items);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    json_t *out = json_array();
    if (!v) return items;
    for (size_t i = 0; i < n; i++) v[i] = json_array_get(items, i);
    qsort(v, n, sizeof *v, cmp_overdue);
    for (size_t i = 0; i < n && i < limit; i++) json_array_append(out, v[i]);
    free(v);
    json_decref(items);
    return out;
}

static int h_overdue(gw_req *req)
{
    const char *scope = gw_req_query(req, "jurisdiction"), *lim = gw_req_query(req, "limit");
    int64_t limit = 1000;
    if (lim && (gw_parse_int64(lim, &limit) || limit < 1 || limit > OVERDUE_MAX)) {
        gw_req_problem(req, 400, NULL, "parameter 'limit' must be an integer 1..%d (got '%s')",
                       OVERDUE_MAX, lim);
        return 0;
    }
    if (scope &&
        (scope[0] == '/' || strstr(scope, "//") || (*scope && scope[strlen(scope) - 1] == '/'))) {
        gw_req_problem(req, 400, NULL,
                       "parameter 'jurisdiction' must be a path such as 'Heze/Mudan' (got '%s')",
                       scope);
        return 0;
    }
    gw_store *s = gw_req_store(req);
    if (!s) return 0;
    overdue_acc a = {.req = req,
                     .scope = scope ? scope : "",
                     .actor = actor_path(req),
                     .now = (int64_t)time(NULL),
                     .items = json_array()};
    char now[32];
    gw_time_format(a.now, now, sizeof now);
    /* rows outside the scope are skipped after the read, and the incidents never transitioned
     * get their deadline here: read them all, then sort and cut */
    gw_status st = gw_flow_deadlines_load(s, &a.over, &a.n_over);
    if (!st) st = gw_store_flow_overdue(s, now, 0, add_overdue, &a);
    free(a.over);
    if (st) {
        json_decref(a.items);
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
        return 0;
    }
    a.items = sorted_overdue(a.items, (size_t)limit);
    gw_req_respond_json(req, 200,
                        json_pack("{s:s,s:s,s:I,s:o}", "now", now, "jurisdiction", a.scope, "count",
                                  (json_int_t)json_array_size(a.items), "incidents", a.items));
    return 0;
}

/* ---- the OGC item ---- */

void gw_flow_item_extra(gw_req *req, gw_store *st, const char *id, gw_buf *feature, gw_buf *links)
{
    gw_store_flow_cur cur;
    if (gw_store_flow_get(st, id, &cur)) {
        gw_ctx_clear_error(gw_store_ctx(st));
        return;
    }
    char path[512];
    incident_path(req, id, cur.grid, path, sizeof path);
    if (!cur.has_row) {
        snprintf(cur.state, sizeof cur.state, "%s", gw_flow_state_name(GW_FS_REPORTED));
        cur.level = gw_flow_max_level(path);
    }
    gw_buf_str(feature, ",\"flow\":{\"state\":");
    gw_buf_json_str(feature, cur.state);
    gw_buf_printf(feature, ",\"level\":%d,\"deadline\":", cur.level);
    if (cur.deadline[0]) gw_buf_json_str(feature, cur.deadline);
    else gw_buf_str(feature, "null");
    gw_buf_str(feature, ",\"jurisdiction\":");
    gw_buf_json_str(feature, path);
    gw_buf_str(feature, "}");
    gw_buf url = {0};
    gw_buf_printf(&url, "%s/incidents/", gw_req_base_url(req));
    gw_buf_url(&url, id);
    gw_buf_str(&url, "/transitions");
    gw_buf_str(links, ",{\"rel\":\"history\",\"type\":\"application/json\",\"href\":");
    gw_buf_json_str(links, url.data ? url.data : "");
    gw_buf_str(links, "}");
    gw_buf_free(&url);
}

static const gw_route routes[] = {
    {"GET", "/incidents/overdue", h_overdue, GW_ROLE_VIEWER, "incidents_overdue"},
    {"GET", "/incidents/{id}/transitions", h_history, GW_ROLE_VIEWER, "incident_transitions"},
    {"POST", "/incidents/{id}/transitions", h_transition, GW_ROLE_DISPATCHER,
     "incident_transition"},
};

const gw_route *gw_flow_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
