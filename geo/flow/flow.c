/* flow.c — the incident flow's pure rules (flow.h): the state machine table, names, the
 * jurisdiction permission, the level moves and the deadlines.  No store, no clock: every input
 * is a parameter, so tests/unit/test_flow.c walks the whole matrix. */
#include "gridwatch/flow.h"

#include "gridwatch/layer.h"

#include <stdio.h>
#include <string.h>

#define BOTH (GW_FLOW_DISPATCHER | GW_FLOW_ADMIN)

/* The state machine.  docs/incident-flow.md quotes this table: change both together. */
static const gw_flow_rule rules[] = {
    {GW_FS_REPORTED, GW_FA_ACCEPT, GW_FS_ACCEPTED, BOTH},
    {GW_FS_REPORTED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_ACCEPTED, GW_FA_ASSIGN, GW_FS_ASSIGNED, BOTH},
    {GW_FS_ACCEPTED, GW_FA_RESOLVE, GW_FS_RESOLVED, BOTH},
    {GW_FS_ACCEPTED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_ACCEPTED, GW_FA_HAND_DOWN, GW_FS_ACCEPTED, BOTH},
    {GW_FS_ACCEPTED, GW_FA_RETURN, GW_FS_RETURNED, BOTH},
    {GW_FS_ASSIGNED, GW_FA_ARRIVE, GW_FS_ON_SCENE, BOTH},
    {GW_FS_ASSIGNED, GW_FA_ASSIGN, GW_FS_ASSIGNED, BOTH},
    {GW_FS_ASSIGNED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_ASSIGNED, GW_FA_RETURN, GW_FS_RETURNED, BOTH},
    {GW_FS_ON_SCENE, GW_FA_RESOLVE, GW_FS_RESOLVED, BOTH},
    {GW_FS_ON_SCENE, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_RESOLVED, GW_FA_CLOSE, GW_FS_CLOSED, BOTH},
    {GW_FS_RESOLVED, GW_FA_REOPEN, GW_FS_REOPENED, BOTH},
    {GW_FS_CLOSED, GW_FA_REOPEN, GW_FS_REOPENED, BOTH},
    {GW_FS_RETURNED, GW_FA_ACCEPT, GW_FS_ACCEPTED, BOTH},
    {GW_FS_RETURNED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_RETURNED, GW_FA_HAND_DOWN, GW_FS_ACCEPTED, BOTH},
    {GW_FS_REOPENED, GW_FA_ACCEPT, GW_FS_ACCEPTED, BOTH},
    {GW_FS_REOPENED, GW_FA_ASSIGN, GW_FS_ASSIGNED, BOTH},
    {GW_FS_REOPENED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_REOPENED, GW_FA_HAND_DOWN, GW_FS_ACCEPTED, BOTH},
    {GW_FS_ESCALATED, GW_FA_ACCEPT, GW_FS_ACCEPTED, BOTH},
    {GW_FS_ESCALATED, GW_FA_ASSIGN, GW_FS_ASSIGNED, BOTH},
    {GW_FS_ESCALATED, GW_FA_ESCALATE, GW_FS_ESCALATED, BOTH},
    {GW_FS_ESCALATED, GW_FA_HAND_DOWN, GW_FS_ACCEPTED, BOTH},
    {GW_FS_ESCALATED, GW_FA_RETURN, GW_FS_RETURNED, BOTH},
};

static const char *const state_names[GW_FS_COUNT] = {
    "reported", "accepted", "assigned", "on_scene",  "resolved",
    "closed",   "returned", "reopened", "escalated",
};
static const char *const action_names[GW_FA_COUNT] = {
    "accept", "assign", "arrive", "resolve", "close", "return", "reopen", "escalate", "hand_down",
};

const gw_flow_rule *gw_flow_rules(size_t *n)
{
    if (n) *n = sizeof rules / sizeof rules[0];
    return rules;
}

const char *gw_flow_state_name(gw_flow_state s)
{
    return (int)s >= 0 && s < GW_FS_COUNT ? state_names[s] : NULL;
}

const char *gw_flow_action_name(gw_flow_action a)
{
    return (int)a >= 0 && a < GW_FA_COUNT ? action_names[a] : NULL;
}

int gw_flow_state_parse(const char *name, gw_flow_state *out)
{
    for (int i = 0; name && i < GW_FS_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (gw_flow_state)i;
            return 0;
        }
    return -1;
}

int gw_flow_action_parse(const char *name, gw_flow_action *out)
{
    for (int i = 0; name && i < GW_FA_COUNT; i++)
        if (strcmp(name, action_names[i]) == 0) {
            *out = (gw_flow_action)i;
            return 0;
        }
    return -1;
}

int gw_flow_next(gw_flow_state from, gw_flow_action action, gw_flow_state *to, char *why,
                 size_t cap)
{
    size_t n = sizeof rules / sizeof rules[0];
    for (size_t i = 0; i < n; i++)
        if (rules[i].from == from && rules[i].action == action) {
            *to = rules[i].to;
            return 0;
        }
    if (why && cap) {
        const char *sn = gw_flow_state_name(from), *an = gw_flow_action_name(action);
        int len = snprintf(why, cap,
                           "an incident in state '%s' cannot be '%s'; allowed: ", sn ? sn : "?",
                           an ? an : "?");
        int any = 0;
        for (size_t i = 0; i < n && len > 0 && (size_t)len < cap; i++)
            if (rules[i].from == from)
                len += snprintf(why + len, cap - (size_t)len, "%s%s", any++ ? ", " : "",
                                action_names[rules[i].action]);
        if (!any && len > 0 && (size_t)len < cap) snprintf(why + len, cap - (size_t)len, "none");
    }
    return -1;
}

unsigned gw_flow_who(gw_flow_state from, gw_flow_action action)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].from == from && rules[i].action == action) return rules[i].who;
    return 0;
}

/* ---- paths ---- */

int gw_flow_path_level(const char *path)
{
    if (!path || !*path) return 0;
    int n = 1;
    for (const char *p = path; *p; p++) n += *p == '/';
    return n;
}

int gw_flow_path_within(const char *inner, const char *outer)
{
    return gw_juris_contains(outer, inner);
}

int gw_flow_path_part(const char *path, int level, char *buf, size_t cap)
{
    if (cap) buf[0] = 0;
    if (!path || level < 1) return -1;
    const char *p = path;
    for (int i = 1; i < level; i++) {
        p = strchr(p, '/');
        if (!p) return -1;
        p++;
    }
    if (!*p && level > gw_flow_path_level(path)) return -1;
    size_t len = strcspn(p, "/");
    snprintf(buf, cap, "%.*s", (int)len, p);
    return 0;
}

int gw_flow_max_level(const char *incident_path)
{
    int d = gw_flow_path_level(incident_path);
    return d > 0 ? (d > 4 ? 4 : d) : 4;
}

static const char *const level_names[] = {"root", "prefecture", "county", "township", "village"};

static const char *level_name(int level)
{
    return level >= 0 && level <= 4 ? level_names[level] : "level";
}

/* The jurisdiction an incident's level names: its path cut to `level` parts, into buf. */
static const char *path_at(const char *path, int level, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", path ? path : "");
    int parts = 0;
    for (char *p = buf; *p; p++)
        if (*p == '/' && ++parts == level) {
            *p = 0;
            break;
        }
    if (level <= 0) buf[0] = 0;
    return buf;
}

int gw_flow_permit(const char *actor_path, const char *incident_path, int level, char *why,
                   size_t cap)
{
    const char *a = actor_path ? actor_path : "";
    const char *g = incident_path ? incident_path : "";
    int al = gw_flow_path_level(a);
    if (!gw_flow_path_within(g, a)) {
        snprintf(why, cap,
                 "the incident lies in '%s', outside the jurisdiction '%s' of this account", g, a);
        return -1;
    }
    if (level < al) {
        char at[512];
        snprintf(why, cap,
                 "the incident is handled at level %d (%s '%s'), above this account's level %d "
                 "(%s '%s')",
                 level, level_name(level), path_at(g, level, at, sizeof at), al, level_name(al), a);
        return -1;
    }
    return 0;
}

int gw_flow_level_after(gw_flow_action action, int level, int prev_level, int actor_level,
                        int max_level, const char *incident_path, const char *to_name, int *to,
                        char *why, size_t cap)
{
    *to = level;
    switch (action) {
    case GW_FA_ESCALATE:
        if (level <= 1) {
            snprintf(why, cap,
                     "the incident is handled at level 1 (prefecture): there is no "
                     "level above to escalate to");
            return -1;
        }
        if (actor_level > 0 && actor_level < level) {
            snprintf(why, cap,
                     "this account (level %d, %s) is above the incident's level %d (%s): escalate "
                     "is for the level handling it; accept or hand it down instead",
                     actor_level, level_name(actor_level), level, level_name(level));
            return -1;
        }
        *to = level - 1;
        return 0;
    case GW_FA_HAND_DOWN: {
        if (level >= max_level) {
            snprintf(why, cap,
                     "the incident is handled at level %d (%s), the deepest its grid's "
                     "jurisdiction '%s' has: there is no level below to hand it down to",
                     level, level_name(level), incident_path ? incident_path : "");
            return -1;
        }
        char part[256];
        if (to_name && *to_name &&
            gw_flow_path_part(incident_path, level + 1, part, sizeof part) == 0 &&
            strcmp(part, to_name) != 0) {
            snprintf(why, cap, "the incident lies in %s '%s', not in '%s'", level_name(level + 1),
                     part, to_name);
            return -1;
        }
        *to = level + 1;
        return 0;
    }
    case GW_FA_RETURN:
        if (prev_level < 1 || prev_level == level) {
            snprintf(why, cap,
                     "the incident has not moved between levels: there is no previous level to "
                     "return it to");
            return -1;
        }
        *to = prev_level;
        return 0;
    default: return 0;
    }
}

/* ---- deadlines ---- */

gw_flow_action gw_flow_expected(gw_flow_state s)
{
    switch (s) {
    case GW_FS_REPORTED:
    case GW_FS_RETURNED:
    case GW_FS_ESCALATED: return GW_FA_ACCEPT;
    case GW_FS_ACCEPTED:
    case GW_FS_REOPENED: return GW_FA_ASSIGN;
    case GW_FS_ASSIGNED: return GW_FA_ARRIVE;
    case GW_FS_ON_SCENE: return GW_FA_RESOLVE;
    case GW_FS_RESOLVED: return GW_FA_CLOSE;
    default: return GW_FA_COUNT;
    }
}

static int64_t default_seconds(gw_flow_action a)
{
    switch (a) {
    case GW_FA_ACCEPT: return 15 * 60;
    case GW_FA_ASSIGN: return 15 * 60;
    case GW_FA_ARRIVE: return 30 * 60;
    case GW_FA_RESOLVE: return 4 * 3600;
    case GW_FA_CLOSE: return 72 * 3600;
    default: return 0;
    }
}

int64_t gw_flow_deadline_seconds(const gw_flow_deadline *over, size_t n, const char *category,
                                 int level, gw_flow_action action)
{
    const char *cat = category ? category : "";
    int best = -1;
    int64_t secs = default_seconds(action);
    for (size_t i = 0; i < n; i++) {
        const gw_flow_deadline *d = &over[i];
        if (d->action != action) continue;
        int cat_ok = !d->category[0] || strcmp(d->category, cat) == 0;
        int lvl_ok = d->level == 0 || d->level == level;
        if (!cat_ok || !lvl_ok) continue;
        int rank = (d->category[0] ? 2 : 0) + (d->level ? 1 : 0);
        if (rank > best) best = rank, secs = d->seconds;
    }
    return secs;
}

int64_t gw_flow_deadline_of(const gw_flow_deadline *over, size_t n, const char *category, int level,
                            gw_flow_state state, int64_t since)
{
    gw_flow_action a = gw_flow_expected(state);
    if (a == GW_FA_COUNT) return 0;
    return since + gw_flow_deadline_seconds(over, n, category, level, a);
}
