/* scope_leak.h — what the two files of the scope leak test share (test_scope_leak.c: the
 * route table walk, tiles, heat maps, dispatch, writes and events; scope_leak_base.c: the
 * expectation from the test's own model, id sets, requests per level, the result table and the
 * checks of open, refused and listing routes).  Test code: `sl_`, not `gw_`. */
#ifndef SL_SCOPE_LEAK_H
#define SL_SCOPE_LEAK_H

#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"

#include <jansson.h>

#define MAXL 5 /* root + up to four levels */
extern gw_ctx *sl_tctx;
extern int sl_n_levels; /* level 0 is the root */
extern char sl_lv_path[MAXL][GW_JURISDICTION_MAX], sl_lv_name[MAXL][16],
    sl_lv_tok[MAXL][GW_TOKEN_LEN + 1];
extern char sl_other_path[GW_JURISDICTION_MAX], sl_other_tok[GW_TOKEN_LEN + 1];
extern double sl_other_lon, sl_other_lat; /* an incident of the other scope near the smallest */

/* Every feature with the path of the grid it lies in ("\x01outside" when in none), by id. */
typedef struct feat {
    char *id, *path;
    double lon, lat;
} feat;
extern feat *sl_feats[GW_LAYER_COUNT];
/* The snapshot of the test's own model the expectation was computed on (kept for the KDE
 * check's point-in-grid; released at teardown). */
extern gw_model_snapshot *sl_snap;
extern size_t sl_n_feats[GW_LAYER_COUNT];
int sl_in_path(const char *scope, const char *path);
const feat *sl_find_feat(gw_layer l, const char *id);
/* Fill sl_feats from a model of the store (the grid containing each point, the grid's fields). */
void sl_load_expectation(gw_store *st);
/* The mean place of the path's incidents. */
void sl_path_centre(const char *path, double *lon, double *lat);

/* Sorted sets of ids. */
typedef struct idset {
    char **v;
    size_t n, cap;
} idset;
void sl_set_add(idset *s, const char *id);
void sl_set_sort(idset *s);
int sl_set_has(const idset *s, const char *id);
void sl_set_free(idset *s);
/* The ids of `all` whose feature of layer l lies in path (all of them for GW_LAYER_COUNT). */
idset sl_set_filter(const idset *all, gw_layer l, const char *path);
/* 1 when equal; else 0 and the differences on stderr. */
int sl_set_equal(const idset *a, const idset *b, const char *what);

/* GET url with the token of level lv (-1: the other scope's). */
hf_resp sl_get(const char *url, int lv);
/* The "id"s of a JSON array of objects (at `key` of doc, "" = doc itself). */
idset sl_json_ids(json_t *doc, const char *key);
/* One cell of the result table (route x level); fmt takes n. */
void sl_cell(const char *route, int lv, const char *fmt, long n);
void sl_print_table(void);

/* The checks: 403 for every scoped level; the same status for all; a JSON list whose scoped ids
 * are the root's filtered (and matched_key, when given, their count); items of every layer
 * (with and without a bbox); single items in 200, out 404. */
void sl_check_refused(const char *route, const char *url);
void sl_check_open(const char *route, const char *url);
void sl_check_list(const char *route, const char *url, const char *key, gw_layer l,
                   const char *matched_key);
void sl_check_items(void);
void sl_check_item(void);

/* scope_leak_flow.c: the issue 18 routes (jurisdictions, transitions, overdue). */
void sl_flow_setup(gw_store *st);
void sl_check_juris(void);
void sl_check_transitions(void);
void sl_check_overdue(void);
void sl_check_response(void);

/* scope_leak_analysis.c: LISA/emerging, clusters, evaluation and KDE. */
void sl_check_hotspot_forms(void);
void sl_check_clusters(void);
void sl_check_evaluate(void);
void sl_check_kde(void);

/* scope_leak_reach.c: isochrones from a room, a team or a point, and their tile layer. */
void sl_check_isochrones(void);
void sl_check_isochrones_tile(void);

/* scope_leak_plan.c: the planning routes (a GET route pattern), the writes, and last the
 * whole-city scope's publish. */
void sl_check_plan(const char *pattern);
void sl_check_plan_writes(void);
void sl_check_plan_publish(void);

#endif
