/* plan_scope.c — grid planning for accounts scoped to a jurisdiction (plan_scope.h): a draft is
 * a scoped planner's when every grid it changes lies in the jurisdiction before and after; the
 * draft's grids are shown filtered by their path in the draft. */
#include "plan_scope.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/layer.h"
#include "problem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_plan_scope(gw_req *req, gw_scope **sc, int *whole)
{
    *whole = 1;
    if (gw_req_scope_live(req, sc)) return -1;
    if (!*sc) return 0;
    gw_live *live = gw_req_live(req);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    *whole = gw_scope_grid_count(*sc) == (g ? gw_layer_data_count(g) : 0);
    gw_model_release(gw_req_ctx(req), snap);
    return 0;
}

/* The path of a grid Feature by its properties ("" when it has none of the fields). */
static void feature_path(json_t *f, char *buf, size_t cap)
{
    json_t *props = json_object_get(f, "properties");
    size_t len = 0;
    buf[0] = '\0';
    for (int level = 1; level <= 4; level++) {
        const char *v = json_string_value(json_object_get(props, gw_juris_field(level)));
        if (v && *v && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", v);
    }
}

static int feature_within(const gw_scope *sc, json_t *f)
{
    char p[GW_JURISDICTION_MAX];
    feature_path(f, p, sizeof p);
    return gw_scope_path_contains(gw_scope_path(sc), p);
}

int gw_plan_draft_within(const gw_scope *sc, gw_store *s, int64_t draft)
{
    if (gw_scope_is_root(sc)) return 1;
    char *diff = NULL, *grids = NULL;
    if (gw_plan_draft_diff(s, draft, &diff)) return -1;
    json_t *d = json_loads(diff, 0, NULL);
    free(diff);
    int in = d != NULL;
    static const char *const published[] = {"changed", "deleted"};
    for (int k = 0; k < 2 && in; k++) { /* where they lie now */
        json_t *id;
        size_t i;
        json_array_foreach (json_object_get(d, published[k]), i, id)
            in = in && gw_scope_has_grid_id(sc, json_string_value(id));
    }
    json_decref(d);
    if (!in) return 0;
    if (gw_plan_draft_grids(s, draft, NULL, 1, &grids)) return -1;
    json_t *g = json_loads(grids, 0, NULL); /* where the draft puts the grids it adds or changes */
    free(grids);
    in = g != NULL;
    json_t *f;
    size_t i;
    json_array_foreach (json_object_get(g, "features"), i, f) in = in && feature_within(sc, f);
    json_decref(g);
    return in;
}

int gw_plan_check_within(void *user, gw_store *s, int64_t draft)
{
    gw_plan_within *w = user;
    int in = gw_plan_draft_within(w->sc, s, draft);
    if (in == 1) return 0;
    w->refused = in == 0;
    return 1;
}

char *gw_plan_grids_within(const gw_scope *sc, const char *geojson)
{
    json_t *doc = json_loads(geojson, 0, NULL), *keep = json_array(), *f;
    size_t i;
    json_array_foreach (json_object_get(doc, "features"), i, f)
        if (feature_within(sc, f)) json_array_append(keep, f);
    json_object_set_new(doc, "numberReturned", json_integer((json_int_t)json_array_size(keep)));
    json_object_set_new(doc, "features", keep);
    char *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return out;
}

int gw_plan_whole_city_only(gw_req *req, const char *why)
{
    gw_scope *sc = NULL;
    int whole = 1;
    if (gw_plan_scope(req, &sc, &whole)) return -1;
    gw_scope_release(sc);
    if (whole) return 0;
    gw_plan_scope_refuse(req, why);
    return -1;
}

int gw_plan_draft_scope(gw_req *req, gw_store *s, int64_t id, int write, gw_scope **out)
{
    gw_scope *sc = NULL;
    int whole = 1;
    *out = NULL;
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) {
        gw_req_fail(req, gw_store_ctx(s), st, NULL);
        return -1;
    }
    if (gw_plan_scope(req, &sc, &whole)) return -1;
    if (whole) {
        gw_scope_release(sc);
        return 0;
    }
    int in = gw_plan_draft_within(sc, s, id);
    if (in == 1) {
        *out = sc;
        return 0;
    }
    gw_scope_release(sc);
    if (in < 0) {
        gw_req_fail(req, gw_store_ctx(s), GW_ERR_DB, NULL);
        return -1;
    }
    char what[96];
    snprintf(what, sizeof what, "draft %lld (a grid it changes)", (long long)id);
    if (write) gw_req_scope_refuse(req, what);
    else gw_req_problem(req, 404, NULL, "no draft %lld", (long long)id);
    return -1;
}

void gw_plan_scope_refuse(gw_req *req, const char *why)
{
    gw_req_problem(req, 403, NULL,
                   "this planning route is not available to accounts scoped to a jurisdiction "
                   "smaller than the city (this token is scoped to '%s'): %s",
                   gw_auth_request_jurisdiction(req), why);
}
