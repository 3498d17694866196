/* scope_leak_plan.c — the scope leak test's checks of the planning routes (plan_scope.h): the
 * root makes draft IN (an attribute edit of a grid of the smallest scope) and draft OUT (of a grid
 * outside the first scoped level below the whole city); a scope sees the drafts wholly in it
 * (list, draft, diff: the root's answer; grids: the root's filtered by path) and 404 for the
 * others; whole-layout routes (validation, tiles, balance, versions) answer a scope holding the
 * whole city as the root and 403 to smaller ones; edits outside are 403 and write nothing, its
 * own are 200; a publish of a draft reaching outside is 403.  The whole-city scope's publish is
 * checked at the very end (sl_check_plan_publish), after every other route. */
#include "scope_leak.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static long draft_in = -1, draft_out = -1;
static const feat *grid_in, *grid_out;
static int whole_level; /* the deepest level whose scope is the whole city (0: the root) */

static long post(int lv, const char *url, const char *body, json_t **out)
{
    hf_resp r = hf_request("POST", url, sl_lv_tok[lv], body, strlen(body), "application/json",
                           NULL);
    long st = r.status;
    if (out) *out = json_loads(r.body.data ? r.body.data : "", 0, NULL);
    if (st >= 400 && st != 403) fprintf(stderr, "POST %s: %ld %s\n", url, st, r.body.data);
    hf_resp_free(&r);
    return st;
}

static long make_draft(const char *name, const feat *g)
{
    json_t *j = NULL;
    char body[256], url[64];
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    assert_int_equal(post(0, "/plan/drafts", body, &j), 201);
    long id = (long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    snprintf(url, sizeof url, "/plan/drafts/%ld/edits", id);
    snprintf(body, sizeof body,
             "{\"op\":\"attributes\",\"grid\":\"%s\",\"properties\":{\"name\":\"leak test\"}}",
             g->id);
    assert_int_equal(post(0, url, body, NULL), 200);
    return id;
}

static void setup_plan(void)
{
    if (draft_in > 0) return;
    size_t whole_n = 0;
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS]; i++) {
        const feat *f = &sl_feats[GW_LAYER_GRIDS][i];
        if (!grid_in && sl_in_path(sl_lv_path[sl_n_levels - 1], f->path)) grid_in = f;
    }
    for (int lv = 1; lv < sl_n_levels; lv++) { /* the levels whose scope holds every grid */
        whole_n = 0;
        for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS]; i++)
            whole_n += sl_in_path(sl_lv_path[lv], sl_feats[GW_LAYER_GRIDS][i].path);
        if (whole_n == sl_n_feats[GW_LAYER_GRIDS]) whole_level = lv;
    }
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_GRIDS] && !grid_out; i++)
        if (!sl_in_path(sl_lv_path[whole_level + 1], sl_feats[GW_LAYER_GRIDS][i].path))
            grid_out = &sl_feats[GW_LAYER_GRIDS][i];
    assert_non_null(grid_in), assert_non_null(grid_out);
    draft_in = make_draft("leak in", grid_in);
    draft_out = make_draft("leak out", grid_out);
}

/* 1 when level lv sees draft `id` (the root and whole-city scopes see every draft). */
static int sees(int lv, long id) { return lv <= whole_level || id == draft_in; }

static idset draft_ids(json_t *doc)
{
    idset s = {0};
    json_t *d;
    size_t i;
    json_array_foreach (json_object_get(doc, "drafts"), i, d) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(json_object_get(d, "id")));
        sl_set_add(&s, b);
    }
    sl_set_sort(&s);
    return s;
}

void sl_check_plan(const char *pattern)
{
    setup_plan();
    char url[160];
    long ids[2] = {draft_in, draft_out};
    if (strcmp(pattern, "/plan/drafts") == 0) {
        hf_resp r = sl_get("/plan/drafts", 0);
        json_t *root = hf_json(&r, 200, 0, "drafts");
        idset all = draft_ids(root);
        json_decref(root);
        for (int lv = 0; lv < sl_n_levels; lv++) {
            r = sl_get("/plan/drafts", lv);
            json_t *j = hf_json(&r, 200, 0, "drafts");
            idset got = draft_ids(j), want = {0};
            for (size_t i = 0; i < all.n; i++)
                if (sees(lv, atol(all.v[i])) || lv <= whole_level) sl_set_add(&want, all.v[i]);
            sl_set_sort(&want);
            assert_true(sl_set_equal(&got, &want, "/plan/drafts"));
            sl_cell("plan_drafts", lv, "same %ld", (long)got.n);
            sl_set_free(&got), sl_set_free(&want);
            json_decref(j);
        }
        sl_set_free(&all);
        return;
    }
    if (strncmp(pattern, "/plan/drafts/{id}", 17) == 0 &&
        (pattern[17] == '\0' || strcmp(pattern + 17, "/diff") == 0 ||
         strcmp(pattern + 17, "/grids") == 0)) {
        const char *tail = pattern + 17;
        for (int lv = 0; lv < sl_n_levels; lv++) {
            int in_ok = 0, out_404 = 0;
            for (int k = 0; k < 2; k++) {
                snprintf(url, sizeof url, "/plan/drafts/%ld%s", ids[k], tail);
                hf_resp r0 = sl_get(url, 0), r = sl_get(url, lv);
                assert_int_equal(r0.status, 200);
                if (!sees(lv, ids[k])) {
                    assert_int_equal(r.status, 404);
                    assert_null(strstr(r.body.data, grid_out->id));
                    out_404 = 1;
                } else if (strcmp(tail, "/grids") == 0) { /* the root's filtered by path */
                    json_t *a = json_loads(r0.body.data, 0, NULL),
                           *b = json_loads(r.body.data, 0, NULL);
                    idset all = sl_json_ids(a, "features"), got = sl_json_ids(b, "features");
                    idset want = sl_set_filter(&all, GW_LAYER_GRIDS, sl_lv_path[lv]);
                    assert_true(sl_set_equal(&got, &want, url));
                    sl_set_free(&all), sl_set_free(&got), sl_set_free(&want);
                    json_decref(a), json_decref(b);
                    in_ok = 1;
                } else { /* the draft and its diff: the root's answer */
                    assert_int_equal(r.status, 200);
                    assert_string_equal(r.body.data, r0.body.data);
                    in_ok = 1;
                }
                hf_resp_free(&r0), hf_resp_free(&r);
            }
            char route[64];
            snprintf(route, sizeof route, "plan_draft%s", tail);
            sl_cell(route, lv, in_ok && out_404 ? "own same, other 404" : "same", 0);
        }
        return;
    }
    /* whole-layout routes: the root's status for a whole-city scope, 403 below */
    snprintf(url, sizeof url, "%s", pattern);
    char *p = strstr(url, "{id}");
    if (p)
        snprintf(p, sizeof url - (size_t)(p - url), "%ld%s", draft_in, strstr(pattern, "{id}") + 4);
    if ((p = strstr(url, "{n}")))
        snprintf(p, sizeof url - (size_t)(p - url), "1%s", strstr(pattern, "{n}") + 3);
    if ((p = strstr(url, "{z}/{x}/{y}")))
        snprintf(p, sizeof url - (size_t)(p - url), "12/3370/1640.mvt");
    long want = -1;
    for (int lv = 0; lv < sl_n_levels; lv++) {
        hf_resp r = sl_get(url, lv);
        if (lv == 0) want = r.status;
        if (lv <= whole_level) assert_int_equal(r.status, want);
        else {
            assert_int_equal(r.status, 403);
            assert_non_null(strstr(r.body.data, "not available to accounts scoped"));
        }
        sl_cell(pattern, lv, lv <= whole_level ? "as root %ld" : "refused", r.status);
        hf_resp_free(&r);
    }
}

/* Writes: the smallest scope edits its own grid (200), not one outside (403, nothing written),
 * and cannot publish the draft reaching outside. */
void sl_check_plan_writes(void)
{
    setup_plan();
    int lv = sl_n_levels - 1;
    char url[96], body[256];
    snprintf(url, sizeof url, "/plan/drafts/%ld/edits", draft_in);
    snprintf(body, sizeof body,
             "{\"op\":\"attributes\",\"grid\":\"%s\",\"properties\":{\"name\":\"outside\"}}",
             grid_out->id);
    snprintf(url, sizeof url, "/plan/drafts/%ld/diff", draft_in);
    hf_resp r = sl_get(url, 0);
    char *before = strdup(r.body.data);
    hf_resp_free(&r);
    snprintf(url, sizeof url, "/plan/drafts/%ld/edits", draft_in);
    assert_int_equal(post(lv, url, body, NULL), 403);
    snprintf(url, sizeof url, "/plan/drafts/%ld/diff", draft_in);
    r = sl_get(url, 0);
    assert_string_equal(r.body.data, before); /* the refused edit wrote nothing */
    hf_resp_free(&r);
    free(before);
    snprintf(url, sizeof url, "/plan/drafts/%ld/edits", draft_in);
    snprintf(body, sizeof body,
             "{\"op\":\"attributes\",\"grid\":\"%s\",\"properties\":{\"name\":\"own\"}}",
             grid_in->id);
    assert_int_equal(post(lv, url, body, NULL), 200);
    snprintf(url, sizeof url, "/plan/drafts/%ld/publish", draft_out);
    assert_int_equal(post(lv, url, "", NULL), 403);
    snprintf(url, sizeof url, "/plan/versions/1/rollback");
    assert_int_equal(post(lv, url, "", NULL), 403);
    sl_cell("plan writes (edit, publish)", lv, "own 200, outside 403", 0);
}

/* Last: the whole-city scope publishes the draft (a one-prefecture city's prefecture plans). */
void sl_check_plan_publish(void)
{
    setup_plan();
    char url[96];
    snprintf(url, sizeof url, "/plan/drafts/%ld/publish", draft_in);
    json_t *j = NULL;
    assert_int_equal(post(whole_level, url, "", &j), 200);
    assert_true(json_integer_value(json_object_get(j, "version")) >= 2);
    json_decref(j);
    sl_cell("plan publish", whole_level, "200", 0);
}
