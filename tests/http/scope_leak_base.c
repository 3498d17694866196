/* scope_leak_base.c — the scope leak test's shared half (scope_leak.h): the expectation from
 * the test's own model, id sets, requests per level, the result table and the checks of open,
 * refused and listing routes. */
#include "testutil.h"

#include "scope_leak.h"

#include "gridwatch/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gw_ctx *sl_tctx;

int sl_n_levels; /* level 0 is the root */
char sl_lv_path[MAXL][GW_JURISDICTION_MAX], sl_lv_name[MAXL][16], sl_lv_tok[MAXL][GW_TOKEN_LEN + 1];
char sl_other_path[GW_JURISDICTION_MAX], sl_other_tok[GW_TOKEN_LEN + 1];
double sl_other_lon, sl_other_lat; /* an incident of the other scope near the smallest one */

/* ---- the expectation: every feature's path, from the test's own model ---------------------- */

feat *sl_feats[GW_LAYER_COUNT];
gw_model_snapshot *sl_snap;
size_t sl_n_feats[GW_LAYER_COUNT];

int sl_in_path(const char *scope, const char *path)
{
    size_t n = strlen(scope);
    return !n || (strncmp(scope, path, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

static int cmp_feat(const void *a, const void *b)
{
    return strcmp(((const feat *)a)->id, ((const feat *)b)->id);
}

const feat *sl_find_feat(gw_layer l, const char *id)
{
    feat key = {.id = (char *)id};
    return bsearch(&key, sl_feats[l], sl_n_feats[l], sizeof key, cmp_feat);
}

static void grid_path(const gw_layer_data *g, size_t row, char *buf, size_t cap)
{
    static const char *const lf[] = {"prefecture", "county", "township", "village"};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++) {
        int f = gw_layer_field_index(GW_LAYER_GRIDS, lf[i]);
        const char *v = f >= 0 ? gw_layer_data_text(g, row, f) : NULL;
        if (v && *v) len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "/" : "", v);
    }
}

void sl_load_expectation(gw_store *st)
{
    gw_model *m = NULL;
    assert_int_equal(gw_model_open(sl_tctx, st, &m), GW_OK);
    gw_model_snapshot *s = gw_model_acquire(m);
    const gw_layer_data *g = gw_snapshot_layer(s, GW_LAYER_GRIDS);
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        const gw_layer_data *d = gw_snapshot_layer(s, (gw_layer)l);
        size_t n = gw_layer_data_count(d);
        sl_feats[l] = calloc(n + 1, sizeof *sl_feats[l]);
        sl_n_feats[l] = n;
        for (size_t r = 0; r < n; r++) {
            char p[GW_JURISDICTION_MAX] = "";
            ptrdiff_t gr = (ptrdiff_t)r;
            if (l != GW_LAYER_GRIDS) {
                const double *x = gw_layer_data_x(d, GW_MODEL_METRIC),
                             *y = gw_layer_data_y(d, GW_MODEL_METRIC);
                assert_int_equal(gw_layer_data_grid_at(sl_tctx, g, x[r], y[r], &gr), GW_OK);
                sl_feats[l][r].lon = gw_layer_data_x(d, GW_MODEL_LONLAT)[r];
                sl_feats[l][r].lat = gw_layer_data_y(d, GW_MODEL_LONLAT)[r];
            }
            if (gr >= 0) grid_path(g, (size_t)gr, p, sizeof p);
            else snprintf(p, sizeof p, "\x01outside"); /* in no grid: only the root sees it */
            sl_feats[l][r].id = strdup(gw_layer_data_id(d, r));
            sl_feats[l][r].path = strdup(p);
        }
        qsort(sl_feats[l], n, sizeof *sl_feats[l], cmp_feat);
    }
    sl_snap = s; /* kept: snapshots outlive their model */
    gw_model_close(m);
}

/* Lon/lat centre of the grids of a path (their features' envelope: grids have no lon/lat here,
 * so the points of the path stand in). */
void sl_path_centre(const char *path, double *lon, double *lat)
{
    double sx = 0, sy = 0;
    size_t n = 0;
    for (size_t i = 0; i < sl_n_feats[GW_LAYER_INCIDENTS]; i++) {
        const feat *f = &sl_feats[GW_LAYER_INCIDENTS][i];
        if (sl_in_path(path, f->path) && f->path[0] != '\x01') sx += f->lon, sy += f->lat, n++;
    }
    assert_true(n > 0);
    *lon = sx / (double)n, *lat = sy / (double)n;
}

/* ---- sets of ids ---------------------------------------------------------------------------- */

void sl_set_add(idset *s, const char *id)
{
    if (s->n == s->cap) s->v = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 64) * sizeof *s->v);
    s->v[s->n++] = strdup(id);
}
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}
void sl_set_sort(idset *s)
{
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_str);
}
int sl_set_has(const idset *s, const char *id)
{
    return s->n && bsearch(&id, s->v, s->n, sizeof *s->v, cmp_str) != NULL;
}
void sl_set_free(idset *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}
/* The ids of `all` whose feature of layer l lies in path. */
idset sl_set_filter(const idset *all, gw_layer l, const char *path)
{
    idset r = {0};
    for (size_t i = 0; i < all->n; i++) {
        const feat *f = l < GW_LAYER_COUNT ? sl_find_feat(l, all->v[i]) : NULL;
        if (l == GW_LAYER_COUNT) { /* not features (the collections): all of them */
            sl_set_add(&r, all->v[i]);
            continue;
        }
        if (!*path || (f && sl_in_path(path, f->path))) sl_set_add(&r, all->v[i]);
    }
    sl_set_sort(&r);
    return r;
}
int sl_set_equal(const idset *a, const idset *b, const char *what)
{
    int ok = a->n == b->n;
    for (size_t i = 0; ok && i < a->n; i++) ok = strcmp(a->v[i], b->v[i]) == 0;
    if (!ok) {
        fprintf(stderr, "LEAK/MISMATCH %s: scoped %zu ids, expected %zu\n", what, a->n, b->n);
        for (size_t i = 0; i < a->n; i++)
            if (!sl_set_has(b, a->v[i])) fprintf(stderr, "  extra %s\n", a->v[i]);
        for (size_t i = 0; i < b->n; i++)
            if (!sl_set_has(a, b->v[i])) fprintf(stderr, "  missing %s\n", b->v[i]);
    }
    return ok;
}

/* ---- requests ------------------------------------------------------------------------------- */

hf_resp sl_get(const char *url, int lv)
{
    return hf_request("GET", url, lv >= 0 ? sl_lv_tok[lv] : sl_other_tok, NULL, 0, NULL, NULL);
}

/* ids of a JSON array of objects with "id" (at `key` of the document, "" = the document). */
idset sl_json_ids(json_t *doc, const char *key)
{
    idset s = {0};
    json_t *a = *key ? json_object_get(doc, key) : doc, *it;
    size_t i;
    json_array_foreach (a, i, it) {
        json_t *id = json_object_get(it, "id");
        if (json_is_string(id)) sl_set_add(&s, json_string_value(id));
    }
    sl_set_sort(&s);
    return s;
}

/* The result table: one row per route variant, one sl_cell per level. */
#define MAXROWS 96
static char tab_route[MAXROWS][96], tab_cell[MAXROWS][MAXL][32];
static int n_rows;
static int row_for(const char *route)
{
    for (int i = 0; i < n_rows; i++)
        if (strcmp(tab_route[i], route) == 0) return i;
    assert_true(n_rows < MAXROWS);
    snprintf(tab_route[n_rows], sizeof tab_route[0], "%s", route);
    return n_rows++;
}
void sl_cell(const char *route, int lv, const char *fmt, long n)
{
    snprintf(tab_cell[row_for(route)][lv], sizeof tab_cell[0][0], fmt, n);
}

/* ---- checks per kind of route --------------------------------------------------------------- */

/* A route that refuses scoped tokens: 403 for each scoped level, anything but 403 for root. */
void sl_check_refused(const char *route, const char *url)
{
    for (int lv = 0; lv < sl_n_levels; lv++) {
        hf_resp r = sl_get(url, lv);
        if (lv == 0) assert_true(r.status != 403 && r.status != 401);
        else {
            if (r.status != 403) fprintf(stderr, "%s %s: %ld\n", route, url, r.status);
            assert_int_equal(r.status, 403);
            assert_non_null(strstr(r.body.data, "not available to accounts scoped"));
        }
        sl_cell(route, lv, lv ? "refused" : "%ld", lv ? 0 : r.status);
        hf_resp_free(&r);
    }
}

/* A route whose answer says nothing about features: the same status for every level. */
void sl_check_open(const char *route, const char *url)
{
    long want = -1;
    for (int lv = 0; lv < sl_n_levels; lv++) {
        hf_resp r = sl_get(url, lv);
        if (want < 0) want = r.status;
        assert_int_equal(r.status, want);
        assert_true(r.status < 400);
        sl_cell(route, lv, "open %ld", r.status);
        hf_resp_free(&r);
    }
}

/* A JSON list of features: the scoped ids == the root's filtered by the path. */
void sl_check_list(const char *route, const char *url, const char *key, gw_layer l,
                   const char *matched_key)
{
    idset root = {0};
    for (int lv = 0; lv < sl_n_levels; lv++) {
        hf_resp r = sl_get(url, lv);
        json_t *j = hf_json(&r, 200, 0, url);
        assert_non_null(j);
        idset got = sl_json_ids(j, key);
        if (lv == 0) root = got;
        idset want = sl_set_filter(&root, l, sl_lv_path[lv]);
        assert_true(sl_set_equal(&got, &want, url));
        if (matched_key)
            assert_int_equal(json_integer_value(json_object_get(j, matched_key)), want.n);
        sl_cell(route, lv, "same %ld", (long)got.n);
        if (lv) sl_set_free(&got);
        sl_set_free(&want);
        json_decref(j);
    }
    sl_set_free(&root);
}

void sl_check_items(void)
{
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        char url[256], route[96];
        snprintf(url, sizeof url, "/collections/%s/items?limit=10000", gw_layer_name(l));
        snprintf(route, sizeof route, "items %s", gw_layer_name(l));
        sl_check_list(route, url, "features", (gw_layer)l, "numberMatched");
        /* the root's own answer holds every feature */
        hf_resp r = sl_get(url, 0);
        json_t *j = hf_json(&r, 200, 0, url);
        assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), sl_n_feats[l]);
        json_decref(j);
        /* with a bbox over the middle of the township's area: still the filtered root */
        double lon, lat;
        sl_path_centre(sl_lv_path[sl_n_levels > 2 ? 2 : 1], &lon, &lat);
        snprintf(url, sizeof url, "/collections/%s/items?limit=10000&bbox=%.5f,%.5f,%.5f,%.5f",
                 gw_layer_name(l), lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1);
        snprintf(route, sizeof route, "items %s bbox", gw_layer_name(l));
        sl_check_list(route, url, "features", (gw_layer)l, "numberMatched");
    }
}

/* /collections/{layer}/items/{id}: a feature in the scope 200, one outside 404. */
void sl_check_item(void)
{
    for (int l = 0; l < GW_LAYER_COUNT; l++)
        for (int lv = 0; lv < sl_n_levels; lv++) {
            const feat *in = NULL, *out = NULL;
            for (size_t i = 0; i < sl_n_feats[l]; i++) {
                const feat *f = &sl_feats[l][i];
                if (sl_in_path(sl_lv_path[lv], f->path)) in = in ? in : f;
                else out = out ? out : f;
            }
            char url[256], route[96];
            snprintf(route, sizeof route, "item %s", gw_layer_name(l));
            int n = 0;
            if (in) {
                snprintf(url, sizeof url, "/collections/%s/items/%s", gw_layer_name(l), in->id);
                hf_resp r = sl_get(url, lv);
                assert_int_equal(r.status, 200);
                hf_resp_free(&r);
                n++;
            }
            if (out) {
                snprintf(url, sizeof url, "/collections/%s/items/%s", gw_layer_name(l), out->id);
                hf_resp r = sl_get(url, lv);
                assert_int_equal(r.status, 404);
                hf_resp_free(&r);
            }
            sl_cell(route, lv, out ? "in 200, out 404" : "in 200", n);
        }
}

void sl_print_table(void)
{
    printf("\n%-44s", "route");
    for (int lv = 0; lv < sl_n_levels; lv++) printf(" | %-26s", sl_lv_name[lv]);
    printf("\n");
    for (int i = 0; i < n_rows; i++) {
        printf("%-44s", tab_route[i]);
        for (int lv = 0; lv < sl_n_levels; lv++)
            printf(" | %-26s", tab_cell[i][lv][0] ? tab_cell[i][lv] : "-");
        printf("\n");
    }
    printf("levels:");
    for (int lv = 0; lv < sl_n_levels; lv++) printf(" %s='%s'", sl_lv_name[lv], sl_lv_path[lv]);
    printf("\n\n");
}
