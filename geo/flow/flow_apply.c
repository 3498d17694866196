/* flow_apply.c — one incident transition in one store transaction (gw_flow_transition, flow.h)
 * and the deadline overrides read from the store: read the current row under the write lock,
 * check jurisdiction, state machine and level bounds (flow.c), then append the transition,
 * write the row and the incident's status and log the change, or write nothing. */
#include "gridwatch/flow.h"
#include "gridwatch/layer.h"
#include "gridwatch/store_flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct dl_acc {
    gw_flow_deadline *v;
    size_t n, cap;
    int oom;
} dl_acc;

static int dl_one(void *user, const char *category, int level, const char *action, int64_t seconds)
{
    dl_acc *a = user;
    gw_flow_action act;
    if (gw_flow_action_parse(action, &act)) return 0;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        gw_flow_deadline *p = realloc(a->v, nc * sizeof *p);
        if (!p) {
            a->oom = 1;
            return 1;
        }
        a->v = p, a->cap = nc;
    }
    gw_flow_deadline *d = &a->v[a->n++];
    snprintf(d->category, sizeof d->category, "%s", category ? category : "");
    d->level = level, d->action = act, d->seconds = seconds;
    return 0;
}

gw_status gw_flow_deadlines_load(gw_store *store, gw_flow_deadline **out, size_t *n)
{
    dl_acc a = {0};
    *out = NULL, *n = 0;
    gw_status st = gw_store_flow_deadlines(store, dl_one, &a);
    if (!st && a.oom) st = gw_ctx_error(gw_store_ctx(store), GW_ERR_NOMEM, "out of memory");
    if (st) {
        free(a.v);
        return st;
    }
    *out = a.v, *n = a.n;
    return GW_OK;
}

static gw_status refuse(gw_flow_outcome *out, gw_flow_refusal r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gw_status refuse(gw_flow_outcome *out, gw_flow_refusal r, const char *fmt, ...)
{
    out->refusal = r;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->why, sizeof out->why, fmt, ap);
        va_end(ap);
    }
    return GW_OK;
}

/* The checks that need no stored state: a note where required, an assignee for assign. */
static int check_request(const gw_flow_request *r, gw_flow_outcome *out)
{
    gw_flow_action a = r->action;
    if (!r->incident || !*r->incident) return refuse(out, GW_FLOW_BAD, "no incident id"), -1;
    if ((int)a < 0 || a >= GW_FA_COUNT) return refuse(out, GW_FLOW_BAD, "unknown action"), -1;
    if ((a == GW_FA_RETURN || a == GW_FA_REOPEN || a == GW_FA_ESCALATE) &&
        (!r->note || !*r->note)) {
        refuse(out, GW_FLOW_BAD, "'%s' needs a note saying why", gw_flow_action_name(a));
        return -1;
    }
    int team = r->team && *r->team, dept = r->department && *r->department;
    if (a == GW_FA_ASSIGN && team == dept) {
        refuse(out, GW_FLOW_BAD, "'assign' needs either a team or a department%s",
               team ? ", not both" : "");
        return -1;
    }
    return 0;
}

/* The checks against the stored row and the transition's effects, under the write lock. */
static gw_status decide(gw_store *s, const gw_flow_request *r, const gw_flow_deadline *dl,
                        size_t ndl, int64_t now, gw_flow_outcome *out)
{
    gw_store_flow_cur cur;
    gw_status st = gw_store_flow_get(s, r->incident, &cur);
    if (st == GW_ERR_NOT_FOUND) {
        gw_ctx_clear_error(gw_store_ctx(s));
        return refuse(out, GW_FLOW_NO_INCIDENT, "no incident has the id '%s'", r->incident);
    }
    if (st) return st;
    char *path = out->incident_path;
    path[0] = 0;
    if (cur.grid[0] && r->path_of)
        r->path_of(r->path_user, cur.grid, path, sizeof out->incident_path);
    int max_level = gw_flow_max_level(path);
    gw_flow_state from = GW_FS_REPORTED;
    if (cur.has_row && gw_flow_state_parse(cur.state, &from))
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_INTERNAL,
                            "incident '%s' has an unknown flow state '%s'", r->incident, cur.state);
    int level = cur.has_row ? cur.level : max_level;
    out->from = out->to = from;
    out->from_level = out->to_level = level;
    const char *actor_path = r->actor_path ? r->actor_path : "";
    if (gw_flow_permit(actor_path, path, level, out->why, sizeof out->why))
        return refuse(out, GW_FLOW_FORBIDDEN, NULL);
    gw_flow_state to;
    if (gw_flow_next(from, r->action, &to, out->why, sizeof out->why))
        return refuse(out, GW_FLOW_REFUSED, NULL);
    if (r->who && !(gw_flow_who(from, r->action) & r->who))
        return refuse(out, GW_FLOW_FORBIDDEN,
                      "this account's role may not '%s' an incident in state '%s'",
                      gw_flow_action_name(r->action), gw_flow_state_name(from));
    char part[256];
    if (r->action == GW_FA_HAND_DOWN && r->to && *r->to && level < max_level &&
        gw_flow_path_part(path, level + 1, part, sizeof part) == 0 && strcmp(part, r->to) != 0)
        return refuse(out, GW_FLOW_BAD, "the incident lies in '%s' below '%s', not in '%s'", part,
                      level > 0 ? path : "", r->to);
    int to_level;
    if (gw_flow_level_after(r->action, level, cur.prev_level, gw_flow_path_level(actor_path),
                            max_level, path, r->to, &to_level, out->why, sizeof out->why))
        return refuse(out, GW_FLOW_REFUSED, NULL);
    out->to = to, out->to_level = to_level;

    char at[32], deadline[32] = "", assignee[300] = "";
    gw_time_format(now, at, sizeof at);
    int64_t due = gw_flow_deadline_of(dl, ndl, cur.category, to_level, to, now);
    if (due) gw_time_format(due, deadline, sizeof deadline);
    snprintf(out->deadline, sizeof out->deadline, "%s", deadline);
    gw_store_flow_set set = {
        .state = gw_flow_state_name(to),
        .level = to_level,
        .prev_level = to_level != level ? level : cur.prev_level,
        .assignee_kind = cur.assignee_kind[0] ? cur.assignee_kind : NULL,
        .assignee = cur.assignee[0] ? cur.assignee : NULL,
        .deadline = deadline[0] ? deadline : NULL,
    };
    if (to_level != level) set.assignee_kind = set.assignee = NULL; /* a new level assigns anew */
    if (r->action == GW_FA_ASSIGN) {
        int team = r->team && *r->team;
        set.assignee_kind = team ? "team" : "department";
        set.assignee = team ? r->team : r->department;
        snprintf(assignee, sizeof assignee, "%s:%s", set.assignee_kind, set.assignee);
    } else if (r->action == GW_FA_HAND_DOWN && r->to && *r->to) {
        snprintf(assignee, sizeof assignee, "jurisdiction:%s", r->to);
    }
    gw_store_flow_step step = {
        .incident = r->incident,
        .at = at,
        .actor = r->actor && *r->actor ? r->actor : "anonymous",
        .actor_jurisdiction = actor_path,
        .action = gw_flow_action_name(r->action),
        .from_state = gw_flow_state_name(from),
        .to_state = set.state,
        .from_level = level,
        .to_level = to_level,
        .assignee = assignee[0] ? assignee : NULL,
        .note = r->note && *r->note ? r->note : NULL,
    };
    st = gw_store_flow_put(s, &step, &set, &out->seq);
    char op[64];
    snprintf(op, sizeof op, "flow:%s:%s:%d", step.action, set.state, to_level);
    if (!st)
        st = gw_store_log_change(s, GW_LAYER_INCIDENTS, op, r->incident, NULL, &out->change_seq);
    return st;
}

gw_status gw_flow_transition(gw_store *store, const gw_flow_request *req, gw_flow_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (!store || !req) return GW_ERR_ARG;
    if (check_request(req, out)) return GW_OK;
    int64_t now = req->now ? req->now : (int64_t)time(NULL);
    gw_flow_deadline *dl = NULL;
    size_t ndl = 0;
    gw_status st = gw_flow_deadlines_load(store, &dl, &ndl);
    if (!st) st = gw_store_begin(store);
    if (st) {
        free(dl);
        return st;
    }
    st = decide(store, req, dl, ndl, now, out);
    free(dl);
    if (!st && out->refusal == GW_FLOW_DONE) st = gw_store_commit(store);
    else gw_store_rollback(store);
    if (st) out->seq = out->change_seq = 0;
    return st;
}
