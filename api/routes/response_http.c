/* response_http.c — GET /analysis/response (response_http.h): the incidents of a window in the
 * token's jurisdiction with their milestones and figures per grid (response_calc.c, shared with
 * the grid tiles' resp_* fields), and the sums per jurisdiction (every prefix of the grids'
 * paths) and in total. */
#include "response_http.h"

#include "app.h"
#include "gridwatch/flow_stats.h"
#include "hotspot_http.h"
#include "response_calc.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "problem.h"
#include "scope_http.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const mark_names[GW_FM_COUNT] = {"time_to_accept_s", "time_to_assign_s",
                                                    "time_to_arrive_s", "time_to_close_s"};

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *figures(const gw_flow_response *r, json_t *o)
{
    json_object_set_new(o, "incidents", json_integer(r->incidents));
    json_t *bs = json_object();
    for (int s = 0; s < GW_FS_COUNT; s++)
        json_object_set_new(bs, gw_flow_state_name((gw_flow_state)s), json_integer(r->by_state[s]));
    json_object_set_new(o, "by_state", bs);
    for (int k = 0; k < GW_FM_COUNT; k++)
        json_object_set_new(o, mark_names[k],
                            json_pack("{s:I,s:o,s:o}", "n", (json_int_t)r->reached[k], "median",
                                      num_or_null(r->median_s[k]), "p90",
                                      num_or_null(r->p90_s[k])));
    json_object_set_new(o, "overdue", json_integer(r->overdue));
    json_object_set_new(o, "overdue_share", num_or_null(r->overdue_share));
    json_object_set_new(o, "escalated", json_integer(r->escalated));
    json_object_set_new(o, "escalation_rate", num_or_null(r->escalation_rate));
    return o;
}

/* Sorted unique jurisdiction paths (every prefix of the kept grids' paths). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ptrdiff_t path_index(char **paths, size_t n, const char *p)
{
    char **hit = bsearch(&p, paths, n, sizeof *paths, cmp_str);
    return hit ? hit - paths : -1;
}

/* The first `level` parts of path into buf: 1, or 0 when the path has fewer parts. */
static int path_prefix(const char *path, int level, char *buf, size_t cap)
{
    size_t len = 0;
    for (int parts = 1;; len++) {
        if (path[len] == '\0') {
            if (parts < level) return 0;
            break;
        }
        if (path[len] == '/' && parts++ == level) break;
    }
    snprintf(buf, cap, "%.*s", (int)len, path);
    return 1;
}

static int parse_window(gw_req *req, gw_ctx *ctx, const char *name, int64_t *t, int *has)
{
    const char *v = gw_req_query(req, name);
    *has = 0;
    if (!v) return 0;
    if (gw_time_parse(ctx, v, gw_req_query(req, "tz"), t)) {
        gw_req_problem(req, 400, NULL, "parameter '%s': %s", name, gw_ctx_errmsg(ctx));
        gw_ctx_clear_error(ctx);
        return -1;
    }
    *has = 1;
    return 0;
}

/* Every prefix of every kept grid's path (gpath[g] NULL: not kept), sorted and unique, into a
 * malloc'ed array of malloc'ed strings. */
static gw_status collect_paths(char *const *gpath, size_t ng, char ***out, size_t *nout)
{
    char **paths = NULL;
    size_t np = 0, capp = 0;
    gw_status st = GW_OK;
    for (size_t g = 0; !st && g < ng; g++) {
        if (!gpath[g]) continue;
        for (const char *c = gpath[g];; c++) {
            if (*c != '/' && *c) continue;
            if (np == capp) {
                size_t nc = capp ? 2 * capp : 64;
                char **pp = realloc(paths, nc * sizeof *pp);
                if (!pp) {
                    st = GW_ERR_NOMEM;
                    break;
                }
                paths = pp, capp = nc;
            }
            if (!(paths[np] = strndup(gpath[g], (size_t)(c - gpath[g])))) {
                st = GW_ERR_NOMEM;
                break;
            }
            np++;
            if (!*c) break;
        }
    }
    if (np) qsort(paths, np, sizeof *paths, cmp_str);
    size_t u = 0; /* unique */
    for (size_t i = 0; i < np; i++) {
        if (u && strcmp(paths[u - 1], paths[i]) == 0) free(paths[i]);
        else paths[u++] = paths[i];
    }
    *out = paths, *nout = u;
    return st;
}

/* The figures of every jurisdiction within the scope, level by level, appended to jur; grp is
 * scratch of rs->n. */
static gw_status jurisdictions(const gw_response_set *rs, const gw_scope *sc, char **paths,
                               size_t np, ptrdiff_t *grp, json_t *jur)
{
    gw_status st = GW_OK;
    for (int level = 1; !st && level <= 4; level++) {
        gw_flow_response *part = calloc(np ? np : 1, sizeof *part);
        if (!part) return GW_ERR_NOMEM;
        for (size_t i = 0; i < rs->n; i++) {
            char buf[GW_JURISDICTION_MAX];
            grp[i] = path_prefix(rs->gpath[rs->grid_of[i]], level, buf, sizeof buf)
                         ? path_index(paths, np, buf)
                         : -1;
        }
        st = gw_flow_response_sum(rs->ms, grp, rs->n, np, part);
        for (size_t j = 0; !st && j < np; j++)
            if (gw_flow_path_level(paths[j]) == level &&
                gw_scope_path_contains(gw_scope_path(sc), paths[j]))
                json_array_append_new(jur, figures(&part[j], json_pack("{s:s,s:i}", "path",
                                                                       paths[j], "level", level)));
        free(part);
    }
    return st;
}

static int h_response(gw_req *req)
{
    gw_ctx *ctx = gw_req_ctx(req);
    gw_store *store = gw_req_store(req);
    if (!ctx || !store) return 0;
    int64_t from = 0, to = 0;
    int has_from, has_to;
    if (parse_window(req, ctx, "from", &from, &has_from) ||
        parse_window(req, ctx, "to", &to, &has_to))
        return 0;
    if (has_from && has_to && to <= from) {
        gw_req_problem(req, 400, NULL, "the window is empty: 'to' must be after 'from'");
        return 0;
    }
    const char *gq = gw_req_query(req, "grids");
    if (gq && strcmp(gq, "true") && strcmp(gq, "false")) {
        gw_req_problem(req, 400, NULL, "parameter 'grids' must be true or false (got '%.20s')", gq);
        return 0;
    }
    int with_grids = !gq || strcmp(gq, "true") == 0;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(gw_req_live(req)));
    gw_scope *sc = NULL;
    if (gw_req_scope(req, snap, &sc)) {
        gw_model_release(ctx, snap);
        return 0;
    }
    /* the incidents placed by the hot spot module's cached incident grids (the grid tiles'
     * resp_* fields use the same, so both say the same) */
    gw_app *app = gw_req_app(req);
    gw_hotspots *hs = app ? app->modules[GW_APP_HOTSPOTS] : NULL;
    const int32_t *inc_grid = NULL;
    void *hold = NULL;
    if (hs && gw_hotspots_incident_grids(hs, ctx, snap, &inc_grid, &hold))
        gw_ctx_clear_error(ctx), inc_grid = NULL; /* located one by one instead */
    int64_t now = (int64_t)time(NULL);
    gw_response_opts ro = {.has_from = has_from,
                           .has_to = has_to,
                           .from = from,
                           .to = to,
                           .now = now,
                           .scope = sc,
                           .inc_grid = inc_grid};
    gw_response_set rs;
    gw_status st = gw_response_compute(ctx, store, snap, &ro, &rs);
    gw_hotspots_incident_grids_release(hs, hold);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t ng = rs.ng, n = rs.n;
    char **gpath = rs.gpath;
    const gw_flow_ms *ms = rs.ms;
    /* the jurisdictions: every prefix of every kept grid's path */
    char **paths = NULL;
    size_t np = 0;
    if (!st) st = collect_paths(gpath, ng, &paths, &np);
    ptrdiff_t *grp = st ? NULL : malloc((n ? n : 1) * sizeof *grp);
    if (!st && !grp) st = GW_ERR_NOMEM;
    json_t *doc = NULL;
    if (!st) {
        /* per jurisdiction level by level, then the total (per grid: rs.grid) */
        json_t *jur = json_array();
        st = jurisdictions(&rs, sc, paths, np, grp, jur);
        for (size_t i = 0; i < n; i++) grp[i] = 0;
        gw_flow_response total;
        if (!st) st = gw_flow_response_sum(ms, grp, n, 1, &total);
        json_t *grids = with_grids ? json_array() : json_null();
        for (size_t g = 0; !st && with_grids && g < ng; g++)
            if (gpath[g])
                json_array_append_new(grids, figures(&rs.grid[g], json_pack("{s:s,s:s}", "id",
                                                                            gw_layer_data_id(G, g),
                                                                            "path", gpath[g])));
        char tf[32], tt[32], tn[32];
        gw_time_format(from, tf, sizeof tf), gw_time_format(to, tt, sizeof tt);
        gw_time_format(now, tn, sizeof tn);
        if (!st)
            doc = json_pack("{s:{s:o,s:o},s:s,s:s,s:o,s:o,s:o,s:I}", "window", "from",
                            has_from ? json_string(tf) : json_null(), "to",
                            has_to ? json_string(tt) : json_null(), "now", tn, "jurisdiction",
                            gw_scope_path(sc), "total", figures(&total, json_object()),
                            "jurisdictions", jur, "grids", grids, "seq",
                            (json_int_t)gw_snapshot_seq(snap));
        else json_decref(jur), json_decref(grids);
    }
    for (size_t i = 0; i < np; i++) free(paths[i]);
    free(paths), free(grp);
    gw_response_set_free(&rs);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    if (st) gw_req_fail(req, ctx, st, "cannot compute the response figures");
    else gw_req_respond_json(req, 200, doc);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/analysis/response", h_response, GW_ROLE_VIEWER, "analysis_response"},
};

const gw_route *gw_response_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
