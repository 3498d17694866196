/* test_items_cql2.c — CQL2 filter, sortby and properties on the items route, against a running
 * server over the whole app, on SpatiaLite (items_cql2) and PostgreSQL (items_cql2_pg): every
 * filtered answer is checked against the same collection read unfiltered over HTTP and filtered
 * here in C (the predicate written out by hand, the point-in-polygon by ray casting), ids and
 * order included; pages of a filter (numberMatched = the count); a token scoped to a county
 * sees the filter applied to its own view; and each refusal is a 400 that says why. */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/layer.h"
#include "http_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_server_opts opts;
static const char *db;
static char admin[GW_TOKEN_LEN + 1], scoped[GW_TOKEN_LEN + 1];

typedef int (*pred_fn)(json_t *feature);

static json_t *prop(json_t *f, const char *k)
{
    return json_object_get(json_object_get(f, "properties"), k);
}
static const char *str(json_t *f, const char *k) { return json_string_value(prop(f, k)); }
static long long num(json_t *f, const char *k) { return (long long)json_integer_value(prop(f, k)); }
static double lon(json_t *f)
{
    return json_number_value(
        json_array_get(json_object_get(json_object_get(f, "geometry"), "coordinates"), 0));
}
static double lat(json_t *f)
{
    return json_number_value(
        json_array_get(json_object_get(json_object_get(f, "geometry"), "coordinates"), 1));
}
static int teq(json_t *f, const char *k, const char *v)
{
    return str(f, k) && strcmp(str(f, k), v) == 0;
}

static char *esc(const char *v) /* percent-encode for a query string */
{
    static char out[4][2048];
    static int k;
    char *o = out[k++ % 4];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p && n + 4 < sizeof out[0]; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_.-~", *p))
            o[n++] = (char)*p;
        else n += (size_t)snprintf(o + n, sizeof out[0] - n, "%%%02X", *p);
    o[n] = 0;
    return o;
}

static json_t *get_json(const char *path, const char *token, long want)
{
    hf_resp r = hf_request("GET", path, token, NULL, 0, NULL, NULL);
    json_t *j = hf_json(&r, want, 0, path);
    assert_non_null(j);
    return j;
}

/* Every feature of a collection as the token sees it, in storage order (one page). */
static json_t *all(const char *layer, const char *token)
{
    char path[128];
    snprintf(path, sizeof path, "/collections/%s/items?limit=10000", layer);
    json_t *j = get_json(path, token, 200);
    assert_true(json_integer_value(json_object_get(j, "numberMatched")) ==
                (json_int_t)json_array_size(json_object_get(j, "features")));
    return j;
}

/* The filtered page (filter, extra parameters, offset, limit) against the unfiltered features
 * passing pred: numberMatched and the ids in order. */
static size_t check(const char *layer, json_t *every, const char *filter, const char *extra,
                    pred_fn pred, size_t offset, size_t limit, const char *token)
{
    json_t *feats = json_object_get(every, "features"), *f;
    size_t i, nw = 0;
    const char **want = malloc((json_array_size(feats) + 1) * sizeof *want);
    json_array_foreach (feats, i, f)
        if (pred(f)) want[nw++] = json_string_value(json_object_get(f, "id"));
    char path[4096];
    snprintf(path, sizeof path, "/collections/%s/items?filter=%s&limit=%zu&offset=%zu%s", layer,
             esc(filter), limit, offset, extra ? extra : "");
    json_t *j = get_json(path, token, 200);
    json_t *got = json_object_get(j, "features");
    size_t expect = offset >= nw ? 0 : nw - offset < limit ? nw - offset : limit;
    if ((size_t)json_integer_value(json_object_get(j, "numberMatched")) != nw ||
        json_array_size(got) != expect)
        fail_msg("%s: numberMatched %lld, %zu features; want %zu and %zu", filter,
                 (long long)json_integer_value(json_object_get(j, "numberMatched")),
                 json_array_size(got), nw, expect);
    json_array_foreach (got, i, f) {
        const char *id = json_string_value(json_object_get(f, "id"));
        if (strcmp(id, want[offset + i]) != 0)
            fail_msg("%s: feature %zu is %s, want %s", filter, offset + i, id, want[offset + i]);
    }
    json_decref(j);
    free(want);
    return nw;
}

/* ---- the predicates, written out ------------------------------------------------------------ */

static double bx0, by0, bx1, by1; /* a box around a stored incident */
static double tri[3][2];          /* a triangle around another */
static int in_box(json_t *f)
{
    return lon(f) >= bx0 && lon(f) <= bx1 && lat(f) >= by0 && lat(f) <= by1;
}
static int in_tri(json_t *f)
{
    double x = lon(f), y = lat(f);
    int c = 0;
    for (int i = 0, j = 2; i < 3; j = i++)
        if ((tri[i][1] > y) != (tri[j][1] > y) &&
            x < (tri[j][0] - tri[i][0]) * (y - tri[i][1]) / (tri[j][1] - tri[i][1]) + tri[i][0])
            c = !c;
    return c;
}
static int p1(json_t *f) { return num(f, "severity") >= 4 && teq(f, "category", "theft"); }
static int p2(json_t *f) { return !teq(f, "status", "closed") || num(f, "severity") < 2; }
static int p3(json_t *f) { return str(f, "category") && strncmp(str(f, "category"), "th", 2) == 0; }
static int p_none(json_t *f)
{
    (void)f;
    return 0;
}
static int p4(json_t *f) { return num(f, "severity") >= 2 && num(f, "severity") <= 3; }
static int p5(json_t *f)
{
    return (teq(f, "category", "theft") || teq(f, "category", "dispute")) &&
           num(f, "severity") != 3;
}
static int p6(json_t *f)
{
    return prop(f, "police_room") == NULL || json_is_null(prop(f, "police_room"));
}
static int p7(json_t *f)
{
    const char *t = str(f, "occurred_at");
    return t && strcmp(t, "2025-03-01T00:00:00Z") >= 0 && strcmp(t, "2025-04-01T00:00:00Z") < 0;
}
static int p8(json_t *f)
{
    const char *t = str(f, "occurred_at");
    return t && strcmp(t, "2025-06-01T00:00:00Z") > 0 && strcmp(t, "2025-06-15T00:00:00Z") < 0;
}
static int p9(json_t *f) { return !in_box(f); }
static int p10(json_t *f) { return in_tri(f) && num(f, "severity") > 1; }
static int p11(json_t *f)
{
    const char *c = str(f, "category");
    return c && !strstr(c, "a") && c[0] && c[1] == 'r';
}
static int p12(json_t *f) { return !(num(f, "severity") < 3 && teq(f, "status", "closed")); }

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_db("items_cql2.sqlite");
    gw_store *s = hf_city(tctx, db, 0.01, 11);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "cql2-admin", NULL, admin, NULL),
                     GW_OK);
    gw_store_close(s);
    assert_int_equal(hf_app_serve(tctx, db, 0, &opts, &app, &srv), GW_OK);
    /* a viewer scoped to the first county */
    json_t *j = get_json("/jurisdictions?level=2", admin, 200);
    const char *county = json_string_value(
        json_object_get(json_array_get(json_object_get(j, "jurisdictions"), 0), "path"));
    assert_non_null(county);
    assert_int_equal(gw_store_open(tctx, db, 0, &s), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_VIEWER, "cql2-county", county, scoped, NULL),
                     GW_OK);
    gw_store_close(s);
    json_decref(j);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

static void test_filters_match_the_unfiltered_read(void **state)
{
    (void)state;
    json_t *every = all("incidents", admin);
    size_t n = json_array_size(json_object_get(every, "features"));
    assert_true(n > 5000);
    json_t *a = json_array_get(json_object_get(every, "features"), n / 3);
    json_t *b = json_array_get(json_object_get(every, "features"), 2 * n / 3);
    /* a just inside two edges: the answer's coordinates are rounded to 1e-7, the stored ones
     * are not, so no edge lies on a coordinate read here */
    bx0 = lon(a) - 0.04, by0 = lat(a) - 3.3e-6, bx1 = lon(a) + 3.3e-6, by1 = lat(a) + 0.03;
    tri[0][0] = lon(b) - 0.08, tri[0][1] = lat(b) - 0.05;
    tri[1][0] = lon(b) + 0.08, tri[1][1] = lat(b) - 0.05;
    tri[2][0] = lon(b), tri[2][1] = lat(b) + 0.07;
    char f[1024];
    assert_true(check("incidents", every, "severity >= 4 AND category = 'theft'", NULL, p1, 0,
                      10000, admin) > 0);
    assert_true(check("incidents", every, "status <> 'closed' OR severity < 2", NULL, p2, 0, 10000,
                      admin) > 0);
    assert_true(check("incidents", every, "category LIKE 'th%'", NULL, p3, 0, 10000, admin) > 0);
    check("incidents", every, "category LIKE 'TH%'", NULL, p_none, 0, 10000,
          admin); /* case matters */
    check("incidents", every, "category LIKE '_r%' AND category NOT LIKE '%a%'", NULL, p11, 0,
          10000, admin);
    assert_true(check("incidents", every, "severity BETWEEN 2 AND 3", NULL, p4, 0, 10000, admin) >
                0);
    check("incidents", every, "category IN ('theft', 'dispute') AND NOT (severity = 3)", NULL, p5,
          0, 10000, admin);
    check("incidents", every, "police_room IS NULL", NULL, p6, 0, 10000, admin);
    check("incidents", every, "NOT (severity < 3 AND status = 'closed')", NULL, p12, 0, 10000,
          admin);
    assert_true(
        check(
            "incidents", every,
            "occurred_at >= TIMESTAMP('2025-03-01T08:00:00+08:00') AND occurred_at < DATE('2025-04-01')",
            NULL, p7, 0, 10000, admin) > 0);
    assert_true(
        check("incidents", every,
              "T_DURING(occurred_at, INTERVAL('2025-06-01T00:00:00Z', '2025-06-15T00:00:00Z'))",
              NULL, p8, 0, 10000, admin) > 0);
    snprintf(f, sizeof f, "S_INTERSECTS(geometry, BBOX(%.17g, %.17g, %.17g, %.17g))", bx0, by0, bx1,
             by1);
    assert_true(check("incidents", every, f, NULL, in_box, 0, 10000, admin) > 0);
    snprintf(f, sizeof f, "S_DISJOINT(geometry, BBOX(%.17g, %.17g, %.17g, %.17g))", bx0, by0, bx1,
             by1);
    check("incidents", every, f, NULL, p9, 0, 10000, admin);
    /* filter-crs EPSG:4326: the same box written lat/lon */
    snprintf(f, sizeof f, "S_INTERSECTS(geometry, BBOX(%.17g, %.17g, %.17g, %.17g))", by0, bx0, by1,
             bx1);
    check("incidents", every, f,
          "&filter-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F4326", in_box, 0,
          10000, admin);
    snprintf(
        f, sizeof f,
        "S_WITHIN(geometry, POLYGON((%.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g))) AND severity > 1",
        tri[0][0], tri[0][1], tri[1][0], tri[1][1], tri[2][0], tri[2][1], tri[0][0], tri[0][1]);
    assert_true(check("incidents", every, f, NULL, p10, 0, 10000, admin) > 0);
    /* pages of a filter: numberMatched stays the count, each page the next ids */
    size_t total = check("incidents", every, "status <> 'closed' OR severity < 2", NULL, p2, 0, 100,
                         admin);
    check("incidents", every, "status <> 'closed' OR severity < 2", NULL, p2, 100, 100, admin);
    check("incidents", every, "status <> 'closed' OR severity < 2", NULL, p2, total - 7, 100,
          admin);
    check("incidents", every, "status <> 'closed' OR severity < 2", "&bbox=0,0,1,1", p_none, 0, 10,
          admin);
    json_decref(every);
}

/* The grids: the grid an incident names contains the incident's point. */
static void test_grids_contain_their_incidents(void **state)
{
    (void)state;
    json_t *inc = get_json("/collections/incidents/items?limit=50&filter=grid%20IS%20NOT%20NULL",
                           admin, 200);
    json_t *f;
    size_t i, n = 0;
    json_array_foreach (json_object_get(inc, "features"), i, f) {
        if (i % 10) continue;
        char q[512], path[1024];
        snprintf(q, sizeof q, "S_CONTAINS(geometry, POINT(%.17g %.17g))", lon(f), lat(f));
        snprintf(path, sizeof path, "/collections/grids/items?filter=%s&properties=name", esc(q));
        json_t *g = get_json(path, admin, 200);
        json_t *gf = json_object_get(g, "features");
        int found = 0;
        for (size_t k = 0; k < json_array_size(gf); k++)
            found |= strcmp(json_string_value(json_object_get(json_array_get(gf, k), "id")),
                            str(f, "grid")) == 0;
        assert_true(found);
        assert_int_equal(json_object_size(json_object_get(json_array_get(gf, 0), "properties")), 1);
        json_decref(g);
        n++;
    }
    assert_true(n >= 3);
    json_decref(inc);
}

static int cmp_sev_time(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    if (num(a, "severity") != num(b, "severity"))
        return num(a, "severity") > num(b, "severity") ? -1 : 1;
    int c = strcmp(str(a, "occurred_at"), str(b, "occurred_at"));
    if (c) return c;
    return json_integer_value(json_object_get(a, "_n")) <
                   json_integer_value(json_object_get(b, "_n"))
               ? -1
               : 1;
}

static void test_sortby_and_properties(void **state)
{
    (void)state;
    json_t *every = all("incidents", admin), *f;
    json_t *feats = json_object_get(every, "features");
    size_t i, nw = 0, n = json_array_size(feats);
    json_t **sel = malloc(n * sizeof *sel);
    json_array_foreach (feats, i, f) {
        json_object_set_new(f, "_n", json_integer((json_int_t)i)); /* storage order: ties */
        if (teq(f, "category", "theft")) sel[nw++] = f;
    }
    qsort(sel, nw, sizeof *sel, cmp_sev_time);
    for (size_t off = 0; off < nw; off += 97) {
        char path[512];
        snprintf(
            path, sizeof path,
            "/collections/incidents/items?filter=%s&sortby=-severity,%%2Boccurred_at&limit=97&offset=%zu"
            "&properties=severity,occurred_at",
            esc("category = 'theft'"), off);
        json_t *j = get_json(path, admin, 200);
        json_t *got = json_object_get(j, "features");
        assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), nw);
        json_array_foreach (got, i, f) {
            assert_string_equal(json_string_value(json_object_get(f, "id")),
                                json_string_value(json_object_get(sel[off + i], "id")));
            assert_int_equal(json_object_size(json_object_get(f, "properties")), 2);
            assert_non_null(prop(f, "severity"));
            assert_non_null(prop(f, "occurred_at"));
        }
        json_decref(j);
        if (off > 400) break;
    }
    /* a text sort is byte order, ties in storage order */
    json_t *j = get_json(
        "/collections/incidents/items?sortby=category&limit=10000&properties=category", admin, 200);
    json_t *got = json_object_get(j, "features");
    assert_int_equal(json_array_size(got), n);
    for (i = 1; i < n; i++) {
        json_t *a = json_array_get(got, i - 1), *b = json_array_get(got, i);
        assert_true(strcmp(str(a, "category"), str(b, "category")) <= 0);
    }
    json_decref(j);
    free(sel);
    json_decref(every);
}

/* A token scoped to a county: the filter applies to what it sees. */
static void test_scoped_token_sees_its_view_filtered(void **state)
{
    (void)state;
    json_t *mine = all("incidents", scoped), *every = all("incidents", admin);
    size_t n = json_array_size(json_object_get(mine, "features"));
    assert_true(n > 0 && n < json_array_size(json_object_get(every, "features")));
    assert_true(check("incidents", mine, "severity >= 4 AND category = 'theft'", NULL, p1, 0, 10000,
                      scoped) > 0);
    check("incidents", mine, "status <> 'closed' OR severity < 2", NULL, p2, 3, 20, scoped);
    json_decref(mine);
    json_decref(every);
}

static void refused(const char *path, const char *has)
{
    hf_resp r = hf_request("GET", path, admin, NULL, 0, NULL, NULL);
    if (r.status != 400 || !strstr(r.body.data, has))
        fail_msg("%s: %ld %s; want 400 with '%s'", path, r.status, r.body.data, has);
    assert_string_equal(r.ctype, "application/problem+json");
    hf_resp_free(&r);
}

static void test_refusals_and_queryables(void **state)
{
    (void)state;
    refused("/collections/incidents/items?filter=sevrity%3D3",
            "at 0: unknown property 'sevrity'; queryables of incidents: id, occurred_at");
    refused("/collections/incidents/items?filter=severity%20%3E%3E%203",
            "at 10: expected a property or a literal");
    refused("/collections/incidents/items?filter=severity%3D3&filter-lang=cql2-json",
            "use cql2-text");
    refused("/collections/incidents/items?filter=severity%3D3&filter-crs=EPSG%3A3857",
            "parameter 'filter-crs'");
    refused("/collections/incidents/items?sortby=-nope",
            "parameter 'sortby': unknown property 'nope'");
    refused("/collections/incidents/items?properties=severity,nope",
            "parameter 'properties': unknown property 'nope'");
    refused("/collections/cameras/items?filter=occurred_at%3E%272025-01-01%27",
            "queryables of cameras");
    hf_resp r = hf_request("GET", "/collections/incidents/queryables", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "application/schema+json");
    json_t *q = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    assert_string_equal(json_string_value(json_object_get(q, "type")), "object");
    assert_non_null(
        strstr(json_string_value(json_object_get(q, "$id")), "/collections/incidents/queryables"));
    json_t *p = json_object_get(q, "properties");
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(p, "geometry"), "format")),
                        "geometry-point");
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(p, "occurred_at"), "format")),
                        "date-time");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "severity"), "type")),
                        "integer");
    json_decref(q);
    /* the collection links it; the conformance declares the classes */
    json_t *c = get_json("/collections/grids", admin, 200), *l;
    size_t i;
    int linked = 0;
    json_array_foreach (json_object_get(c, "links"), i, l)
        linked |= strcmp(json_string_value(json_object_get(l, "rel")),
                         "http://www.opengis.net/def/rel/ogc/1.0/queryables") == 0;
    assert_true(linked);
    json_decref(c);
    c = get_json("/conformance", admin, 200);
    char *s = json_dumps(c, 0);
    assert_non_null(strstr(s, "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"));
    assert_non_null(
        strstr(s, "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter"));
    assert_null(strstr(s, "temporal-functions")); /* a subset only: not declared */
    free(s);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters_match_the_unfiltered_read),
        cmocka_unit_test(test_grids_contain_their_incidents),
        cmocka_unit_test(test_sortby_and_properties),
        cmocka_unit_test(test_scoped_token_sees_its_view_filtered),
        cmocka_unit_test(test_refusals_and_queryables),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
