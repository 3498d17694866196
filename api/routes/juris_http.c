/* juris_http.c — GET /jurisdictions: the prefecture/county/township/village hierarchy of the
 * published grids with grid counts, population and area, built from the live model's snapshot
 * (geo/juris) once per grids layer version and shared by the requests until the grids change.
 * A token scoped to a jurisdiction lists it and those below it, and "scope" tells it its own
 * path, level and lon/lat envelope (where the map wall opens). */
#include "juris_http.h"
#include "app.h"
#include "auth.h"
#include "gridwatch/flow.h"
#include "gridwatch/juris.h"
#include "problem.h"
#include "scope.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *juris_json(const gw_juris *j)
{
    return json_pack("{s:s,s:i,s:s,s:s,s:I,s:I,s:f}", "path", j->path, "level", j->level, "name",
                     j->name, "parent", j->parent, "grids", (json_int_t)j->grids, "population",
                     (json_int_t)j->population, "area_km2", round(j->area_km2 * 1e4) / 1e4);
}

/* The list of one grids layer version (reference-counted; the cache holds one). */
typedef struct jl_entry {
    const gw_layer_data *grids; /* compared, never read: with its seq it names the version */
    int64_t gseq;
    int srid;
    gw_juris_list list;
    int refs; /* under jl_lock */
} jl_entry;

static pthread_mutex_t jl_lock = PTHREAD_MUTEX_INITIALIZER;
static jl_entry *jl_cur;

static void jl_unref(jl_entry *e)
{
    if (e && --e->refs == 0) {
        gw_juris_list_free(&e->list);
        free(e);
    }
}

static void jl_release(jl_entry *e)
{
    pthread_mutex_lock(&jl_lock);
    jl_unref(e);
    pthread_mutex_unlock(&jl_lock);
}

/* The list of the snapshot's grids (cached per grids version) into *out; release it with
 * jl_release. */
static gw_status jl_get(gw_ctx *ctx, const gw_model_snapshot *snap, int srid, jl_entry **out)
{
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    int64_t gseq = g ? gw_layer_data_seq(g) : 0;
    pthread_mutex_lock(&jl_lock);
    jl_entry *e = jl_cur;
    if (e && e->grids == g && e->gseq == gseq && e->srid == srid) e->refs++;
    else e = NULL;
    pthread_mutex_unlock(&jl_lock);
    if (e) {
        *out = e;
        return GW_OK;
    }
    if (!(e = calloc(1, sizeof *e))) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    gw_status st = gw_juris_list_build(ctx, snap, srid, &e->list);
    if (st) {
        gw_juris_list_free(&e->list);
        free(e);
        return st;
    }
    e->grids = g, e->gseq = gseq, e->srid = srid, e->refs = 2; /* the cache's and the caller's */
    pthread_mutex_lock(&jl_lock);
    jl_unref(jl_cur);
    jl_cur = e;
    pthread_mutex_unlock(&jl_lock);
    *out = e;
    return GW_OK;
}

static int h_list(gw_req *req)
{
    gw_ctx *ctx = gw_req_ctx(req);
    const char *lv = gw_req_query(req, "level"), *parent = gw_req_query(req, "parent");
    int level = 0;
    if (lv) {
        char *end = NULL;
        long l = strtol(lv, &end, 10);
        if (!*lv || *end || l < 1 || l > 4) {
            gw_req_problem(req, 400, NULL,
                           "parameter 'level' must be 1 (prefecture), 2 (county), 3 (township) "
                           "or 4 (village); got '%.40s'",
                           lv);
            return 0;
        }
        level = (int)l;
    }
    const char *scope = gw_auth_request_jurisdiction(req);
    gw_model *m = gw_live_model(gw_req_live(req));
    gw_model_snapshot *snap = gw_model_acquire(m);
    jl_entry *e = NULL;
    gw_status st = jl_get(ctx, snap, gw_model_metric_srid(m), &e);
    int64_t seq = gw_snapshot_seq(snap);
    /* the token's own jurisdiction and its lon/lat envelope: where the wall opens */
    gw_scope *sc = NULL;
    gw_bbox env = {0};
    int has_env = 0;
    if (!st && (st = gw_scope_get(ctx, snap, scope, &sc)) == GW_OK)
        has_env = gw_scope_bbox(sc, &env, NULL);
    gw_scope_release(sc);
    gw_model_release(ctx, snap);
    if (st) {
        jl_release(e); /* NULL when the list failed */
        gw_req_fail(req, ctx, st, NULL);
        return 0;
    }
    const gw_juris_list list = e->list;
    int known = !parent || !*parent;
    json_t *arr = json_array();
    for (size_t i = 0; i < list.n; i++) {
        if (!known && strcmp(list.items[i].path, parent) == 0 &&
            gw_juris_contains(scope, list.items[i].path))
            known = 1;
        /* a scoped account lists its own jurisdiction and those below it */
        if (gw_juris_match(&list.items[i], level, parent) &&
            gw_juris_contains(scope, list.items[i].path))
            json_array_append_new(arr, juris_json(&list.items[i]));
    }
    if (!known) {
        json_decref(arr);
        jl_release(e);
        gw_req_problem(req, 404, NULL,
                       "no jurisdiction '%.200s' among the published grids (paths are "
                       "prefecture/county/township/village, see GET /jurisdictions)",
                       parent);
        return 0;
    }
    char crs[32];
    snprintf(crs, sizeof crs, "EPSG:%d", list.metric_srid);
    json_t *bbox = has_env ? json_pack("[f,f,f,f]", env.minx, env.miny, env.maxx, env.maxy)
                           : json_null();
    json_t *doc = json_pack("{s:o,s:{s:s,s:i,s:o},s:s,s:s,s:I,s:I}", "jurisdictions", arr, "scope",
                            "path", scope, "level", gw_flow_path_level(scope), "bbox", bbox,
                            "metric_crs", crs, "area",
                            "planar area of the grids in the metric CRS, km²", "unassigned_grids",
                            (json_int_t)(*scope ? 0 : list.unassigned), "seq", (json_int_t)seq);
    jl_release(e);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/jurisdictions", h_list, GW_ROLE_VIEWER, "jurisdictions"},
};

const gw_route *gw_juris_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
