/* response_http.c — GET /analysis/response (response_http.h): the incidents of a window in the
 * token's jurisdiction, each placed in the published grid containing it (the rule of every
 * scoped route), their milestones from one pass over the audit trail (geo/flow/flow_stats.c),
 * and the sums per grid and per jurisdiction (every prefix of the grids' paths). */
#include "response_http.h"

#include "app.h"
#include "gridwatch/flow_stats.h"
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

/* The caller's incidents: index by model row, -1 for rows left out. */
typedef struct find_ctx {
    const gw_layer_data *inc;
    const ptrdiff_t *index;
} find_ctx;

static ptrdiff_t find_inc(void *user, const char *id)
{
    find_ctx *f = user;
    ptrdiff_t row = gw_layer_data_find(f->inc, id);
    return row < 0 ? -1 : f->index[row];
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
    const gw_layer_data *I = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    const gw_layer_data *G = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t ni = I ? gw_layer_data_count(I) : 0, ng = G ? gw_layer_data_count(G) : 0;
    int f_time = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    int f_cat = gw_layer_field_index(GW_LAYER_INCIDENTS, "category");
    int f_status = gw_layer_field_index(GW_LAYER_INCIDENTS, "status");
    const int64_t *occ = ni ? gw_layer_data_ints(I, f_time) : NULL;
    const uint8_t *occ_null = ni ? gw_layer_data_nulls(I, f_time) : NULL;
    ptrdiff_t *index = malloc((ni ? ni : 1) * sizeof *index);
    ptrdiff_t *grid_of = malloc((ni ? ni : 1) * sizeof *grid_of); /* by kept incident */
    gw_flow_inc *inc = malloc((ni ? ni : 1) * sizeof *inc);
    char **gpath = calloc(ng ? ng : 1, sizeof *gpath);
    void *hold = NULL; /* the grid of every incident, cached per incidents and grids version */
    const int32_t *ig = ni ? gw_scope_point_grids(ctx, G, I, &hold) : NULL;
    gw_status st = index && grid_of && inc && gpath && (ig || !ni) ? GW_OK : GW_ERR_NOMEM;
    size_t n = 0;
    for (size_t r = 0; !st && r < ni; r++) {
        index[r] = -1;
        if (!occ || occ_null[r]) continue; /* no report time: nothing to time from */
        if ((has_from && occ[r] < from) || (has_to && occ[r] >= to)) continue;
        ptrdiff_t g = ig[r];
        if (g < 0 || !gw_scope_has_grid_row(sc, (size_t)g)) continue;
        if (!gpath[g]) {
            char p[GW_JURISDICTION_MAX];
            gw_scope_row_path(G, (size_t)g, p, sizeof p);
            if (!(gpath[g] = strdup(p))) st = GW_ERR_NOMEM;
        }
        inc[n] = (gw_flow_inc){.category = gw_layer_data_text(I, r, f_cat),
                               .status = gw_layer_data_text(I, r, f_status),
                               .reported = occ[r],
                               .max_level = gw_flow_max_level(gpath[g] ? gpath[g] : "")};
        grid_of[n] = g;
        index[r] = (ptrdiff_t)n++;
    }
    gw_flow_ms *ms = st ? NULL : malloc((n ? n : 1) * sizeof *ms);
    if (!st && !ms) st = GW_ERR_NOMEM;
    gw_flow_deadline *over = NULL;
    size_t n_over = 0;
    int64_t now = (int64_t)time(NULL);
    find_ctx fc = {I, index};
    if (!st) st = gw_flow_deadlines_load(store, &over, &n_over);
    if (!st) st = gw_flow_milestones(store, inc, n, find_inc, &fc, over, n_over, now, ms);
    /* the jurisdictions: every prefix of every kept grid's path */
    char **paths = NULL;
    size_t np = 0, capp = 0;
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
    np = u;
    /* groups: grids (by row), then jurisdictions (ng + path index), then the total */
    size_t n_groups = ng + np + 1;
    gw_flow_response *out = st ? NULL : calloc(n_groups, sizeof *out);
    ptrdiff_t *grp = st ? NULL : malloc((n ? n : 1) * sizeof *grp);
    if (!st && (!out || !grp)) st = GW_ERR_NOMEM;
    json_t *doc = NULL;
    if (!st) {
        /* sums per grid, then per jurisdiction level by level, then the total */
        for (size_t i = 0; i < n; i++) grp[i] = grid_of[i];
        st = gw_flow_response_sum(ms, grp, n, ng, out);
        json_t *jur = json_array();
        for (int level = 1; !st && level <= 4; level++) {
            gw_flow_response *part = calloc(np ? np : 1, sizeof *part);
            if (!part) {
                st = GW_ERR_NOMEM;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                char buf[GW_JURISDICTION_MAX];
                grp[i] = path_prefix(gpath[grid_of[i]], level, buf, sizeof buf)
                             ? path_index(paths, np, buf)
                             : -1;
            }
            st = gw_flow_response_sum(ms, grp, n, np, part);
            for (size_t j = 0; !st && j < np; j++)
                if (gw_flow_path_level(paths[j]) == level &&
                    gw_scope_path_contains(gw_scope_path(sc), paths[j]))
                    json_array_append_new(jur,
                                          figures(&part[j], json_pack("{s:s,s:i}", "path", paths[j],
                                                                      "level", level)));
            free(part);
        }
        for (size_t i = 0; i < n; i++) grp[i] = 0;
        gw_flow_response total;
        if (!st) st = gw_flow_response_sum(ms, grp, n, 1, &total);
        json_t *grids = with_grids ? json_array() : json_null();
        for (size_t g = 0; !st && with_grids && g < ng; g++)
            if (gpath[g])
                json_array_append_new(grids, figures(&out[g], json_pack("{s:s,s:s}", "id",
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
    for (size_t g = 0; gpath && g < ng; g++) free(gpath[g]);
    free(paths), free(gpath), free(index), free(grid_of), free(inc), free(ms), free(over);
    free(out), free(grp);
    gw_scope_point_grids_release(hold);
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
