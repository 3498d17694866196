/* scope_leak_flow.c — the scope leak test's checks of the issue 18 routes: GET /jurisdictions
 * (the root's list filtered by the scope), an incident's transitions (in 200, out 404), the
 * overdue list and /analysis/response (the root's answer filtered by the scope).  Incidents get
 * a transition each across every scope first, so the lists hold something to leak. */
#include "gridwatch/store_flow.h"
#include "scope_leak.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Give 'assign' 1 s after 'accept', so accepted incidents turn overdue quickly. */
void sl_flow_setup(gw_store *st)
{
    assert_int_equal(gw_store_flow_deadline_set(st, "", 0, "assign", 1), GW_OK);
}

/* The root accepts every 37th incident (spread over all scopes); wait until they are overdue. */
static void make_flow(void)
{
    static int done;
    if (done) return;
    done = 1;
    int n = 0;
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS]; i += 37) {
        const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
        if (f->path[0] == '\x01') continue;
        char url[512];
        snprintf(url, sizeof url, "/incidents/%s/transitions", f->id);
        static const char body[] = "{\"action\":\"accept\",\"note\":\"leak test\"}";
        hf_resp r = hf_request("POST", url, sl_lv_tok[0], body, sizeof body - 1, "application/json",
                               NULL);
        json_decref(hf_json(&r, 201, 0, url));
        n++;
    }
    assert_true(n > 20);
    sleep(2);
}

/* An array's members' string `key`, as a sorted set. */
static idset strings_at(json_t *doc, const char *arr, const char *key)
{
    idset s = {0};
    json_t *it;
    size_t i;
    json_array_foreach (json_object_get(doc, arr), i, it) {
        json_t *v = json_object_get(it, key);
        if (json_is_string(v)) sl_set_add(&s, json_string_value(v));
    }
    sl_set_sort(&s);
    return s;
}

void sl_check_juris(void)
{
    hf_resp r = sl_get("/jurisdictions", 0);
    json_t *jr = hf_json(&r, 200, 0, "/jurisdictions");
    idset all = strings_at(jr, "jurisdictions", "path");
    assert_true(all.n > 3);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        r = sl_get("/jurisdictions", lv);
        json_t *js = hf_json(&r, 200, 0, "/jurisdictions");
        idset got = strings_at(js, "jurisdictions", "path"), want = {0};
        for (size_t i = 0; i < all.n; i++)
            if (sl_in_path(sl_lv_path[lv], all.v[i])) sl_set_add(&want, all.v[i]);
        sl_set_sort(&want);
        assert_true(sl_set_equal(&got, &want, "/jurisdictions"));
        assert_true(lv == 0 || json_integer_value(json_object_get(js, "unassigned_grids")) == 0);
        sl_cell("jurisdictions", lv, "same %ld", (long)got.n);
        sl_set_free(&got), sl_set_free(&want);
        json_decref(js);
    }
    sl_set_free(&all);
    json_decref(jr);
}

void sl_check_transitions(void)
{
    make_flow();
    for (int lv = 0; lv < sl_n_levels; lv++) {
        int in = 0, out = 0;
        for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS] && !(in && out); i += 37) {
            const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
            if (f->path[0] == '\x01') continue;
            int inside = sl_in_path(sl_lv_path[lv], f->path);
            if ((inside && in) || (!inside && out)) continue;
            char url[512];
            snprintf(url, sizeof url, "/incidents/%s/transitions", f->id);
            hf_resp r = sl_get(url, lv);
            assert_int_equal(r.status, inside ? 200 : 404);
            if (inside) assert_non_null(strstr(r.body.data, "leak test"));
            else assert_null(strstr(r.body.data, "leak test"));
            hf_resp_free(&r);
            in |= inside, out |= !inside;
        }
        assert_true(in);
        sl_cell("incident_transitions", lv, out ? "in 200, out 404" : "in 200", 0);
    }
}

/* GET url for each level: the ids in array `arr` are the root's filtered to the scope. */
static void check_filtered(const char *route, const char *url, const char *arr, const char *key,
                           gw_layer layer)
{
    make_flow();
    hf_resp r = sl_get(url, 0);
    json_t *jr = hf_json(&r, 200, 0, url);
    idset all = strings_at(jr, arr, key);
    assert_true(all.n > 0);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        r = sl_get(url, lv);
        json_t *js = hf_json(&r, 200, 0, url);
        idset got = strings_at(js, arr, key);
        idset want = sl_set_filter(&all, layer, sl_lv_path[lv]);
        if (!sl_set_equal(&got, &want, url)) {
            fprintf(stderr, "level %d (%s), root list %zu\n", lv, sl_lv_path[lv], all.n);
            for (size_t i = 0; i < got.n && i < 3; i++) {
                const feat *f = sl_find_feat(layer, got.v[i]);
                fprintf(stderr, "  %s: test path %s, in root list %d\n", got.v[i],
                        f ? f->path : "?", sl_set_has(&all, got.v[i]));
            }
            fail();
        }
        sl_cell(route, lv, "same %ld", (long)got.n);
        sl_set_free(&got), sl_set_free(&want);
        json_decref(js);
    }
    sl_set_free(&all);
    json_decref(jr);
}

void sl_check_overdue(void)
{
    check_filtered("incidents_overdue", "/incidents/overdue?limit=10000", "incidents", "id",
                   GW_LAYER_INCIDENTS);
}

/* /analysis/response: its grids are the root's in the scope, and so are its jurisdictions
 * (paths: the root's within the scope); a grid's figures are the root's. */
void sl_check_response(void)
{
    check_filtered("analysis_response grids", "/analysis/response", "grids", "id", GW_LAYER_GRIDS);
    hf_resp r = sl_get("/analysis/response", 0);
    json_t *jr = hf_json(&r, 200, 0, "/analysis/response");
    idset all = strings_at(jr, "jurisdictions", "path");
    for (int lv = 0; lv < sl_n_levels; lv++) {
        r = sl_get("/analysis/response", lv);
        json_t *js = hf_json(&r, 200, 0, "/analysis/response");
        idset got = strings_at(js, "jurisdictions", "path"), want = {0};
        for (size_t i = 0; i < all.n; i++)
            if (sl_in_path(sl_lv_path[lv], all.v[i])) sl_set_add(&want, all.v[i]);
        sl_set_sort(&want);
        assert_true(sl_set_equal(&got, &want, "/analysis/response jurisdictions"));
        /* the scope's own figures are the root's row for that path */
        json_t *it;
        size_t i;
        json_array_foreach (json_object_get(jr, "jurisdictions"), i, it)
            if (lv && strcmp(json_string_value(json_object_get(it, "path")), sl_lv_path[lv]) == 0)
                assert_int_equal(json_integer_value(json_object_get(it, "incidents")),
                                 json_integer_value(
                                     json_object_get(json_object_get(js, "total"), "incidents")));
        sl_cell("analysis_response jurisdictions", lv, "same %ld", (long)got.n);
        sl_set_free(&got), sl_set_free(&want);
        json_decref(js);
    }
    sl_set_free(&all);
    json_decref(jr);
}
