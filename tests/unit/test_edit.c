/* test_edit.c — the single-feature write engine (geo/edit.c): insert / replace / patch / delete
 * per layer, incident grid and police-room resolution, every error class, batch rollback, the
 * change log, and input CRSs.  Each test works on its own small database built here. */
#include "testutil.h"

#include "gridwatch/crs.h"
#include "gridwatch/edit.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "gridwatch/store_edit.h"
#include "test_sql.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

static size_t poly_wkb(unsigned char *w, const double *xy, uint32_t n)
{
    size_t k = 0;
    uint32_t t = 3, r = 1;
    w[k++] = 1;
    memcpy(w + k, &t, 4), k += 4;
    memcpy(w + k, &r, 4), k += 4;
    memcpy(w + k, &n, 4), k += 4;
    memcpy(w + k, xy, 16 * n), k += 16 * n;
    return k;
}

/* Grids G1 [115.4,115.6]x[35.2,35.3] and G2 [115.6,115.7]x[35.2,35.3]; police rooms P0..P2 at
 * (115.50/115.51/115.52, 35.25). */
static gw_store *make_db(const char *name)
{
    gw_store *s = NULL;
    const char *path = gw_test_db(name);
    if (!gw_test_on_postgres()) remove(path);
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    double g1[] = {115.4, 35.2, 115.6, 35.2, 115.6, 35.3, 115.4, 35.3, 115.4, 35.2};
    double g2[] = {115.6, 35.2, 115.7, 35.2, 115.7, 35.3, 115.6, 35.3, 115.6, 35.2};
    unsigned char wkb[256];
    for (int g = 0; g < 2; g++) {
        gw_value v[10] = {{GW_VAL_TEXT, g ? "G2" : "G1", 0, 0}};
        gw_feature f = {v, wkb, poly_wkb(wkb, g ? g2 : g1, 5), 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_POLICE_ROOMS, &ins), GW_OK);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%d", i);
        gw_value v[4] = {{GW_VAL_TEXT, id, 0, 0}};
        gw_feature f = {v, NULL, 0, 115.50 + i * 0.01, 35.25};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

/* Reading the tables directly on either engine (test_sql.h); q_* for statements both dialects
 * share, tsql_* with the PostgreSQL text where they differ. */
static int64_t q_int(gw_store *s, const char *sql) { return tsql_int(s, sql, NULL); }
static const char *q_text(gw_store *s, const char *sql) { return tsql_text(s, sql, NULL); }
static double q_real(gw_store *s, const char *sql) { return tsql_real(s, sql, NULL); }

static gw_status ins(gw_store *s, gw_layer l, const char *json, gw_edit_result *r)
{
    return gw_edit_insert(s, l, json, strlen(json), NULL, r);
}

/* The status and that the ctx message contains `needle`. */
static void expect_err(gw_status got, gw_status want, const char *needle)
{
    if (got != want || !strstr(gw_ctx_errmsg(ctx), needle))
        fprintf(stderr, "got %s '%s', want %s with '%s'\n", gw_status_str(got), gw_ctx_errmsg(ctx),
                gw_status_str(want), needle);
    assert_int_equal(got, want);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), needle));
}

static void test_incident_insert_resolves_grid(void **state)
{
    gw_store *s = make_db("ins.db");
    gw_edit_result r = {0};
    int64_t seq0;
    assert_int_equal(gw_store_last_seq(s, &seq0), GW_OK);
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS,
                         "{\"type\":\"Feature\",\"id\":\"I1\",\"geometry\":{\"type\":\"Point\","
                         "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\","
                         "\"severity\":3,\"occurred_at\":\"2025-01-02 08:00:00+08:00\"}}",
                         &r),
                     GW_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ids[0], "I1");
    assert_int_equal(r.seq, seq0 + 1);
    assert_string_equal(q_text(s, "SELECT grid FROM incidents WHERE id='I1'"), "G2");
    assert_string_equal(tsql_text(s, "SELECT occurred_at FROM incidents WHERE id='I1'",
                                  "SELECT gw_iso(occurred_at) FROM incidents WHERE id='I1'"),
                        "2025-01-02T00:00:00Z");
    assert_int_equal(q_int(s, "SELECT severity FROM incidents WHERE id='I1'"), 3);
    assert_true(fabs(tsql_real(s, "SELECT X(geom) FROM incidents WHERE id='I1'",
                               "SELECT ST_X(geom) FROM incidents WHERE id='I1'") -
                     115.65) < 1e-12);
    /* the change log row: op, id, bbox */
    assert_string_equal(q_text(s, "SELECT op || ' ' || layer || ' ' || feature_id FROM changelog "
                                  "ORDER BY seq DESC LIMIT 1"),
                        "insert incidents I1");
    assert_true(fabs(q_real(s, "SELECT minx FROM changelog ORDER BY seq DESC LIMIT 1") - 115.65) <
                1e-12);
    gw_edit_result_free(&r);
    /* an explicit grid is kept when it exists (G2, though the point lies in G1), refused when it
     * names no grid; outside every grid the grid stays null; no id -> a UUID */
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS,
                         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                         "[115.45,35.25]},\"properties\":{\"grid\":\"MANUAL\"}}",
                         &r),
                     GW_ERR_RANGE);
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS,
                         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
                         "[115.45,35.25]},\"properties\":{\"grid\":\"G2\"}}",
                         &r),
                     GW_OK);
    assert_int_equal(strlen(r.ids[0]), 36);
    assert_int_equal(r.ids[0][14], '4');
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT grid FROM incidents WHERE id='%s'", r.ids[0]);
    assert_string_equal(q_text(s, sql), "G2");
    /* occurred_at defaults to now on insert */
    snprintf(sql, sizeof sql, "SELECT occurred_at IS NOT NULL FROM incidents WHERE id='%s'",
             r.ids[0]);
    assert_int_equal(q_int(s, sql), 1);
    gw_edit_result_free(&r);
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS,
                         "{\"type\":\"Feature\",\"id\":5,\"geometry\":{\"type\":"
                         "\"Point\",\"coordinates\":[116.5,35.25]},\"properties\":null}",
                         &r),
                     GW_OK);
    assert_string_equal(r.ids[0], "5");
    assert_string_equal(q_text(s, "SELECT coalesce(grid, 'none') FROM incidents WHERE id='5'"),
                        "none");
    gw_edit_result_free(&r);
    gw_store_close(s);
}

static void test_nearest_police_room(void **state)
{
    gw_store *s = make_db("room.db");
    char id[64];
    assert_int_equal(gw_edit_nearest_police_room(s, 115.512, 35.26, id, sizeof id), GW_OK);
    assert_string_equal(id, "P1");
    assert_int_equal(gw_edit_nearest_police_room(s, 115.0, 35.25, id, sizeof id), GW_OK);
    assert_string_equal(id, "P0");
    /* far away: the search frame has to grow many times */
    assert_int_equal(gw_edit_nearest_police_room(s, 100.0, 10.0, id, sizeof id), GW_OK);
    assert_string_equal(id, "P0");
    assert_int_equal(gw_edit_nearest_police_room(s, 130.0, 35.25, id, sizeof id), GW_OK);
    assert_string_equal(id, "P2");
    /* incidents get it too once the layer has the police_room field */
    int ix = gw_layer_field_index(GW_LAYER_INCIDENTS, "police_room");
    if (ix >= 0) {
        gw_edit_result r = {0};
        assert_int_equal(ins(s, GW_LAYER_INCIDENTS,
                             "{\"type\":\"Feature\",\"id\":\"R\",\"geometry\":"
                             "{\"type\":\"Point\",\"coordinates\":[115.519,35.2]}}",
                             &r),
                         GW_OK);
        assert_string_equal(q_text(s, "SELECT police_room FROM incidents WHERE id='R'"), "P2");
        gw_edit_result_free(&r);
    }
    tsql_exec(s, "DELETE FROM police_rooms", NULL);
    expect_err(gw_edit_nearest_police_room(s, 115.5, 35.25, id, sizeof id), GW_ERR_NOT_FOUND,
               "no police rooms");
    gw_store_close(s);
}

static void test_replace_patch_delete(void **state)
{
    gw_store *s = make_db("rpd.db");
    gw_edit_result r = {0};
    assert_int_equal(
        ins(s, GW_LAYER_INCIDENTS,
            "{\"type\":\"Feature\",\"id\":\"I1\",\"geometry\":{\"type\":"
            "\"Point\",\"coordinates\":[115.5,35.25]},\"properties\":{\"category\":\"theft\","
            "\"severity\":2,\"status\":\"open\"}}",
            &r),
        GW_OK);
    gw_edit_result_free(&r);
    /* PUT: moves the point (grid re-resolved), properties not given become null */
    const char *put =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.65,35.22]},"
        "\"properties\":{\"category\":\"fraud\"}}";
    assert_int_equal(gw_edit_replace(s, GW_LAYER_INCIDENTS, "I1", put, strlen(put), NULL, &r),
                     GW_OK);
    int64_t seq_put = r.seq;
    gw_edit_result_free(&r);
    assert_string_equal(
        q_text(s, "SELECT category || ' ' || grid || ' ' || coalesce(status, '-') FROM incidents "
                  "WHERE id='I1'"),
        "fraud G2 -");
    assert_string_equal(
        q_text(s, "SELECT op FROM changelog WHERE seq = (SELECT max(seq) FROM changelog)"),
        "update");
    /* the update's bbox covers the old and the new point */
    assert_true(fabs(q_real(s, "SELECT minx FROM changelog ORDER BY seq DESC LIMIT 1") - 115.5) <
                1e-12);
    assert_true(fabs(q_real(s, "SELECT maxx FROM changelog ORDER BY seq DESC LIMIT 1") - 115.65) <
                1e-12);
    /* PATCH: merge semantics; null clears; no geometry keeps the point */
    const char *patch = "{\"properties\":{\"status\":\"closed\",\"category\":null,\"severity\":5}}";
    assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, "I1", patch, strlen(patch), NULL, &r),
                     GW_OK);
    assert_int_equal(r.seq, seq_put + 1);
    gw_edit_result_free(&r);
    assert_string_equal(
        q_text(s,
               "SELECT coalesce(category, '-') || ' ' || status || ' ' || severity || ' ' || grid "
               "FROM incidents WHERE id='I1'"),
        "- closed 5 G2");
    /* PATCH with a geometry re-resolves the grid */
    patch = "{\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.45,35.22]}}";
    assert_int_equal(gw_edit_patch(s, GW_LAYER_INCIDENTS, "I1", patch, strlen(patch), NULL, &r),
                     GW_OK);
    gw_edit_result_free(&r);
    assert_string_equal(q_text(s, "SELECT grid || ' ' || status FROM incidents WHERE id='I1'"),
                        "G1 closed");
    /* DELETE */
    assert_int_equal(gw_edit_delete(s, GW_LAYER_INCIDENTS, "I1", NULL, &r), GW_OK);
    assert_string_equal(r.ids[0], "I1");
    gw_edit_result_free(&r);
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents"), 0);
    assert_string_equal(
        q_text(s, "SELECT op || ' ' || feature_id FROM changelog ORDER BY seq DESC LIMIT 1"),
        "delete I1");
    expect_err(gw_edit_delete(s, GW_LAYER_INCIDENTS, "I1", NULL, &r), GW_ERR_NOT_FOUND, "'I1'");
    expect_err(gw_edit_patch(s, GW_LAYER_INCIDENTS, "nope", patch, strlen(patch), NULL, &r),
               GW_ERR_NOT_FOUND, "no feature with id 'nope'");
    expect_err(gw_edit_replace(s, GW_LAYER_INCIDENTS, "nope", put, strlen(put), NULL, &r),
               GW_ERR_NOT_FOUND, "nope");
    gw_store_close(s);
}

static void test_other_layers(void **state)
{
    gw_store *s = make_db("layers.db");
    gw_edit_result r = {0};
    /* teams: updated_at set automatically, status checked */
    assert_int_equal(
        ins(s, GW_LAYER_TEAMS,
            "{\"type\":\"Feature\",\"id\":\"T1\",\"geometry\":{\"type\":\"Point\","
            "\"coordinates\":[115.5,35.2]},\"properties\":{\"status\":\"busy\",\"members\":4}}",
            &r),
        GW_OK);
    gw_edit_result_free(&r);
    assert_int_equal(
        tsql_int(s, "SELECT updated_at LIKE '20__-__-__T__:__:__Z' FROM teams WHERE id='T1'",
                 "SELECT gw_iso(updated_at) LIKE '20__-__-__T__:__:__Z' FROM teams WHERE id='T1'"),
        1);
    expect_err(ins(s, GW_LAYER_TEAMS,
                   "{\"type\":\"Feature\",\"id\":\"T2\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[115.5,35.2]},\"properties\":{\"status\":\"asleep\"}}",
                   &r),
               GW_ERR_RANGE, "asleep");
    /* cameras: reals, fov range */
    assert_int_equal(
        ins(s, GW_LAYER_CAMERAS,
            "{\"type\":\"Feature\",\"id\":\"C1\",\"geometry\":{\"type\":\"Point\","
            "\"coordinates\":[115.5,35.2]},\"properties\":{\"azimuth\":90,\"fov\":60.5,\"range\":80}}",
            &r),
        GW_OK);
    gw_edit_result_free(&r);
    assert_true(fabs(q_real(s, "SELECT fov FROM cameras WHERE id='C1'") - 60.5) < 1e-12);
    expect_err(ins(s, GW_LAYER_CAMERAS,
                   "{\"type\":\"Feature\",\"id\":\"C2\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[115.5,35.2]},\"properties\":{\"fov\":400}}",
                   &r),
               GW_ERR_RANGE, "fov");
    /* police rooms */
    assert_int_equal(
        ins(s, GW_LAYER_POLICE_ROOMS,
            "{\"type\":\"Feature\",\"id\":\"P9\",\"geometry\":{\"type\":"
            "\"Point\",\"coordinates\":[115.5,35.2]},\"properties\":{\"name\":\"Room 9\"}}",
            &r),
        GW_OK);
    gw_edit_result_free(&r);
    /* grids: boundaries belong to planning: adding, reshaping and removing are refused (the
     * layout would stop tiling); a patch of properties is a plain edit */
    int64_t n;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n), GW_OK);
    expect_err(ins(s, GW_LAYER_GRIDS,
                   "{\"type\":\"Feature\",\"id\":\"G3\",\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[[[115.7,35.2],[115.8,35.2],[115.8,35.3],[115.7,35.3],"
                   "[115.7,35.2]]]},\"properties\":{\"name\":\"three\"}}",
                   &r),
               GW_ERR_CONFLICT, "plan draft");
    const char *put =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[115.7,35.2],"
        "[115.9,35.2],[115.9,35.3],[115.7,35.3],[115.7,35.2]]]]},\"properties\":{\"name\":\"wider\"}}";
    expect_err(gw_edit_replace(s, GW_LAYER_GRIDS, "G1", put, strlen(put), NULL, &r),
               GW_ERR_CONFLICT, "outside planning");
    expect_err(gw_edit_patch(s, GW_LAYER_GRIDS, "G1", put, strlen(put), NULL, &r), GW_ERR_CONFLICT,
               "outside planning");
    expect_err(gw_edit_delete(s, GW_LAYER_GRIDS, "G1", NULL, &r), GW_ERR_CONFLICT,
               "removing a grid");
    const char *props = "{\"properties\":{\"name\":\"renamed\",\"population\":1200}}";
    assert_int_equal(gw_edit_patch(s, GW_LAYER_GRIDS, "G1", props, strlen(props), NULL, &r), GW_OK);
    gw_edit_result_free(&r);
    assert_string_equal(q_text(s, "SELECT name FROM grids WHERE id='G1'"), "renamed");
    int64_t n2;
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n2), GW_OK);
    assert_int_equal(n2, n);
    /* a caller that owns the layout (a loader, a test) may still write boundaries */
    gw_edit_opts lo = {.layout = 1};
    assert_int_equal(gw_edit_replace(s, GW_LAYER_GRIDS, "G1", put, strlen(put), &lo, &r), GW_OK);
    gw_edit_result_free(&r);
    assert_true(fabs(tsql_real(s, "SELECT MbrMaxX(geom) FROM grids WHERE id='G1'",
                               "SELECT ST_XMax(geom) FROM grids WHERE id='G1'") -
                     115.9) < 1e-12);
    /* and remove one: what a layout owner adds it can take away again (the fuzz target does) */
    expect_err(gw_edit_delete(s, GW_LAYER_GRIDS, "G1", NULL, &r), GW_ERR_CONFLICT,
               "removing a grid");
    assert_int_equal(gw_edit_delete(s, GW_LAYER_GRIDS, "G1", &lo, &r), GW_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ids[0], "G1");
    gw_edit_result_free(&r);
    assert_int_equal(gw_store_count(s, GW_LAYER_GRIDS, &n2), GW_OK);
    assert_int_equal(n2, n - 1);
    gw_store_close(s);
}

static void test_errors(void **state)
{
    gw_store *s = make_db("err.db");
    gw_edit_result r = {0};
    const char
        *bad = "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},,}";
    expect_err(ins(s, GW_LAYER_INCIDENTS, bad, &r), GW_ERR_FORMAT, "malformed JSON");
    assert_true(gw_ctx_erroffset(ctx) > 50);
    expect_err(ins(s, GW_LAYER_INCIDENTS, "[1,2]", &r), GW_ERR_FORMAT, "array");
    /* a self-intersecting polygon: GEOS reason and location */
    expect_err(ins(s, GW_LAYER_GRIDS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[[[115,35],[116,36],[116,35],[115,36],[115,35]]]}}",
                   &r),
               GW_ERR_GEOMETRY, "Self-intersection at or near (115.5 35.5)");
    /* an empty position: GEOS 3.11's GeoJSON reader crashed on it (fuzz_plan_edit) */
    expect_err(ins(s, GW_LAYER_GRIDS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[[[115,35],[],[116,36],[115,35]]]}}",
                   &r),
               GW_ERR_GEOMETRY, "a position is an empty array");
    /* wrong type per layer, missing and empty geometry, unreadable geometry */
    expect_err(ins(s, GW_LAYER_GRIDS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[115,35]}}",
                   &r),
               GW_ERR_GEOMETRY, "takes Polygon or MultiPolygon geometries, got Point");
    expect_err(ins(s, GW_LAYER_INCIDENTS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"LineString\","
                   "\"coordinates\":[[115,35],[116,35]]}}",
                   &r),
               GW_ERR_GEOMETRY, "got LineString");
    expect_err(ins(s, GW_LAYER_INCIDENTS, "{\"type\":\"Feature\",\"id\":\"B\",\"properties\":{}}",
                   &r),
               GW_ERR_GEOMETRY, "geometry is required");
    expect_err(ins(s, GW_LAYER_INCIDENTS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":\"x\"}}",
                   &r),
               GW_ERR_GEOMETRY, "unreadable Point");
    /* coordinates out of range, with the lat/lon hint */
    expect_err(ins(s, GW_LAYER_INCIDENTS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[35.25,115.5]}}",
                   &r),
               GW_ERR_RANGE, "lat/lon order");
    expect_err(ins(s, GW_LAYER_INCIDENTS,
                   "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[12900000,4200000]}}",
                   &r),
               GW_ERR_RANGE, "projected");
    /* properties: unknown (named), wrong type, out of range, bad time */
    const char *pt =
        "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.2]},"
        "\"properties\":";
    char buf[512];
    snprintf(buf, sizeof buf, "%s{\"colour\":\"red\",\"category\":\"x\",\"speed\":3}}", pt);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_ARG,
               "unknown properties 'colour', 'speed'");
    snprintf(buf, sizeof buf, "%s{\"severity\":\"high\"}}", pt);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_ARG,
               "property severity must be an integer");
    snprintf(buf, sizeof buf, "%s{\"severity\":9}}", pt);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_RANGE, "severity is 9");
    snprintf(buf, sizeof buf, "%s{\"occurred_at\":\"yesterday\"}}", pt);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_FORMAT, "yesterday");
    snprintf(buf, sizeof buf, "%s{\"id\":\"C\"}}", pt);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_ARG, "contradicts");
    /* conflict on a second insert of the same id */
    snprintf(buf, sizeof buf, "%s{}}", pt);
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_OK);
    gw_edit_result_free(&r);
    expect_err(ins(s, GW_LAYER_INCIDENTS, buf, &r), GW_ERR_CONFLICT, "id 'B' exists already");
    /* PUT with a different id in the body; PATCH cannot drop the geometry */
    expect_err(gw_edit_replace(s, GW_LAYER_INCIDENTS, "Z", buf, strlen(buf), NULL, &r), GW_ERR_ARG,
               "differs");
    const char *nog = "{\"geometry\":null}";
    expect_err(gw_edit_patch(s, GW_LAYER_INCIDENTS, "B", nog, strlen(nog), NULL, &r),
               GW_ERR_GEOMETRY, "required");
    /* nothing half-written: one incident, and the failed calls left no change-log rows */
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(
        q_int(s, "SELECT count(*) FROM changelog WHERE op IN ('insert','update','delete')"), 1);
    assert_null(r.ids);
    gw_store_close(s);
}

static void test_batch(void **state)
{
    gw_store *s = make_db("batch.db");
    gw_edit_result r = {0};
    int64_t seq0;
    assert_int_equal(gw_store_last_seq(s, &seq0), GW_OK);
    const char *bad =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"id\":\"A\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.25]}},"
        "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.6,35.25]}},"
        "{\"type\":\"Feature\",\"id\":\"C\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.6,95]}}]}";
    expect_err(ins(s, GW_LAYER_INCIDENTS, bad, &r), GW_ERR_RANGE, "incidents feature 3 (id 'C')");
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents"), 0);
    int64_t seq1;
    assert_int_equal(gw_store_last_seq(s, &seq1), GW_OK);
    /* no change-log row; on PostgreSQL the identity's sequence is not transactional, so the
     * rolled-back rows leave a gap in seq (readers take "after seq N", gaps are harmless) */
    if (!gw_test_on_postgres()) assert_int_equal(seq1, seq0);
    assert_int_equal(q_int(s, "SELECT count(*) FROM changelog WHERE op <> 'clear' AND layer = "
                              "'incidents'"),
                     0);
    /* a duplicate inside the batch is a conflict, also rolled back */
    const char *dup =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"id\":\"A\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.25]}},"
        "{\"type\":\"Feature\",\"id\":\"A\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.6,35.25]}}]}";
    expect_err(ins(s, GW_LAYER_INCIDENTS, dup, &r), GW_ERR_CONFLICT, "feature 2");
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents"), 0);
    const char *good =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"id\":\"A\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.5,35.25]}},"
        "{\"type\":\"Feature\",\"id\":\"B\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.65,35.25]}},"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.6,35.21]}}]}";
    int64_t seq2; /* seq0 on SQLite; past the rolled-back rows' seqs on PostgreSQL */
    assert_int_equal(gw_store_last_seq(s, &seq2), GW_OK);
    assert_int_equal(ins(s, GW_LAYER_INCIDENTS, good, &r), GW_OK);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.ids[1], "B");
    assert_int_equal(r.seq, seq2 + 3);
    gw_edit_result_free(&r);
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents"), 3);
    assert_int_equal(
        q_int(s, "SELECT count(*) FROM changelog WHERE op = 'insert' AND layer = 'incidents'"), 3);
    /* the third lies on the G1/G2 border: the smaller id wins, deterministically */
    assert_string_equal(
        tsql_text(s,
                  "SELECT group_concat(grid, ',') FROM (SELECT grid FROM incidents ORDER BY fid)",
                  "SELECT string_agg(grid, ',' ORDER BY fid) FROM incidents"),
        "G1,G2,G1");
    expect_err(ins(s, GW_LAYER_INCIDENTS, "{\"type\":\"FeatureCollection\",\"features\":[]}", &r),
               GW_ERR_ARG, "no features");
    gw_store_close(s);
}

/* The store's single-feature writes on their own (store_edit.h), on either engine: a refused
 * row comes back as the status geo/edit/ maps to HTTP (a duplicate id GW_ERR_CONFLICT, a value
 * a CHECK refuses GW_ERR_RANGE, a geometry the column refuses GW_ERR_GEOMETRY) and leaves the
 * caller's transaction usable; update writes only the given fields; lookup and delete. */
static void test_store_writes(void **state)
{
    (void)state;
    gw_store *s = make_db("store.db");
    size_t nf;
    gw_layer_fields(GW_LAYER_INCIDENTS, &nf);
    gw_value v[16] = {{GW_VAL_TEXT, "S1", 0, 0}};
    int sev = gw_layer_field_index(GW_LAYER_INCIDENTS, "severity");
    int cat = gw_layer_field_index(GW_LAYER_INCIDENTS, "category");
    int occ = gw_layer_field_index(GW_LAYER_INCIDENTS, "occurred_at");
    v[sev] = (gw_value){GW_VAL_INT, NULL, 2, 0};
    v[cat] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
    v[occ] = (gw_value){GW_VAL_TEXT, "2025-01-02T00:00:00Z", 0, 0};
    gw_store_edit_row r = {
        .label = "incident 'S1'", .id = "S1", .values = v, .has_geom = 1, .x = 115.5, .y = 35.25};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_edit_insert(s, GW_LAYER_INCIDENTS, 1, &r), GW_OK);
    expect_err(gw_store_edit_insert(s, GW_LAYER_INCIDENTS, 1, &r), GW_ERR_CONFLICT,
               "incident 'S1': id 'S1' exists already");
    gw_store_edit_row r2 = r;
    r2.id = r2.label = "S2";
    v[sev].i = 9;
    expect_err(gw_store_edit_insert(s, GW_LAYER_INCIDENTS, 1, &r2), GW_ERR_RANGE,
               "a value is out of range");
    v[sev].i = 4;
    assert_int_equal(gw_store_edit_insert(s, GW_LAYER_INCIDENTS, 1, &r2), GW_OK); /* still usable */
    /* a point is no grid geometry */
    unsigned char pt[21] = {1, 1, 0, 0, 0};
    double xy[2] = {115.5, 35.25};
    memcpy(pt + 5, xy, sizeof xy);
    gw_value gv[16] = {{GW_VAL_TEXT, "G9", 0, 0}};
    gw_store_edit_row g = {.label = "grid 'G9'",
                           .id = "G9",
                           .values = gv,
                           .has_geom = 1,
                           .wkb = pt,
                           .wkb_len = sizeof pt};
    expect_err(gw_store_edit_insert(s, GW_LAYER_GRIDS, 1, &g), GW_ERR_GEOMETRY,
               "the geometry was refused");
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM incidents WHERE id IN ('S1', 'S2')"), 2);
    assert_int_equal(q_int(s, "SELECT severity FROM incidents WHERE id = 'S2'"), 4);
    /* update: the given fields only (category), the geometry kept; outside a transaction */
    unsigned char given[16] = {0};
    given[cat] = 1;
    v[cat].s = "fraud", v[sev].i = 1;
    r2.given = given, r2.has_geom = 0;
    assert_int_equal(gw_store_edit_update(s, GW_LAYER_INCIDENTS, 1, &r2), GW_OK);
    assert_string_equal(q_text(s,
                               "SELECT category || ' ' || severity FROM incidents WHERE id = 'S2'"),
                        "fraud 4");
    int found = 0;
    gw_bbox box;
    assert_int_equal(gw_store_edit_lookup(s, GW_LAYER_INCIDENTS, 1, "S2", &found, &box), GW_OK);
    assert_int_equal(found, 1);
    assert_true(box.minx == 115.5 && box.maxx == 115.5 && box.miny == 35.25 && box.maxy == 35.25);
    assert_int_equal(gw_store_edit_lookup(s, GW_LAYER_GRIDS, 1, "G1", &found, &box), GW_OK);
    assert_true(found && box.minx == 115.4 && box.miny == 35.2 && box.maxx == 115.6 &&
                box.maxy == 35.3);
    assert_int_equal(gw_store_edit_lookup(s, GW_LAYER_GRIDS, 2, "G1", &found, &box), GW_OK);
    assert_int_equal(found, 0);
    char id[32];
    assert_int_equal(gw_store_edit_grid_at(s, 1, 115.6, 35.25, id, sizeof id), GW_OK);
    assert_string_equal(id, "G1"); /* on the border: the lowest id */
    assert_int_equal(gw_store_edit_grid_at(s, 1, 120, 35.25, id, sizeof id), GW_OK);
    assert_string_equal(id, "");
    assert_int_equal(gw_store_edit_delete(s, GW_LAYER_INCIDENTS, 1, "S2"), GW_OK);
    assert_int_equal(gw_store_edit_delete(s, GW_LAYER_INCIDENTS, 1, "S2"), GW_OK);
    assert_int_equal(gw_store_edit_lookup(s, GW_LAYER_INCIDENTS, 1, "S2", &found, &box), GW_OK);
    assert_int_equal(found, 0);
    gw_store_close(s);
}

static void test_input_crs(void **state)
{
    gw_store *s = make_db("crs.db");
    gw_edit_result r = {0};
    /* EPSG:3857 input of (115.5, 35.25) */
    double x = 115.5, y = 35.25;
    gw_crs_transform *tr;
    assert_int_equal(gw_crs_transform_create(ctx, (gw_crs){GW_CRS_EPSG, 4326},
                                             (gw_crs){GW_CRS_EPSG, 3857}, &tr),
                     GW_OK);
    assert_int_equal(gw_crs_transform_points(tr, &x, &y, 1), GW_OK);
    gw_crs_transform_destroy(tr);
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"type\":\"Feature\",\"id\":\"M\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
             "[%.4f,%.4f]}}",
             x, y);
    gw_edit_opts o = {.crs = {GW_CRS_EPSG, 3857}};
    assert_int_equal(gw_edit_insert(s, GW_LAYER_INCIDENTS, buf, strlen(buf), &o, &r), GW_OK);
    gw_edit_result_free(&r);
    assert_true(fabs(tsql_real(s, "SELECT X(geom) FROM incidents WHERE id='M'",
                               "SELECT ST_X(geom) FROM incidents WHERE id='M'") -
                     115.5) < 1e-7);
    assert_true(fabs(tsql_real(s, "SELECT Y(geom) FROM incidents WHERE id='M'",
                               "SELECT ST_Y(geom) FROM incidents WHERE id='M'") -
                     35.25) < 1e-7);
    /* GCJ-02 input: stored as the WGS84 point whose GCJ-02 is the input */
    double gx, gy;
    gw_gcj02_from_wgs84(115.5, 35.26, &gx, &gy);
    snprintf(buf, sizeof buf,
             "{\"type\":\"Feature\",\"id\":\"G\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
             "[%.10f,%.10f]}}",
             gx, gy);
    o = (gw_edit_opts){.crs = {GW_CRS_GCJ02, 0}};
    assert_int_equal(gw_edit_insert(s, GW_LAYER_INCIDENTS, buf, strlen(buf), &o, &r), GW_OK);
    gw_edit_result_free(&r);
    assert_true(fabs(tsql_real(s, "SELECT X(geom) FROM incidents WHERE id='G'",
                               "SELECT ST_X(geom) FROM incidents WHERE id='G'") -
                     115.5) < 1e-7);
    assert_true(fabs(tsql_real(s, "SELECT Y(geom) FROM incidents WHERE id='G'",
                               "SELECT ST_Y(geom) FROM incidents WHERE id='G'") -
                     35.26) < 1e-7);
    /* EPSG:4490 in lat/lon axis order (the OGC URI) */
    o = (gw_edit_opts){.crs = {GW_CRS_EPSG, 4490}, .axis_latlon = 1};
    const char *ll =
        "{\"type\":\"Feature\",\"id\":\"L\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.27,115.51]}}";
    assert_int_equal(gw_edit_insert(s, GW_LAYER_INCIDENTS, ll, strlen(ll), &o, &r), GW_OK);
    gw_edit_result_free(&r);
    assert_true(fabs(tsql_real(s, "SELECT X(geom) FROM incidents WHERE id='L'",
                               "SELECT ST_X(geom) FROM incidents WHERE id='L'") -
                     115.51) < 1e-6);
    assert_string_equal(q_text(s, "SELECT grid FROM incidents WHERE id='L'"), "G1");
    gw_store_close(s);
}

int main(void)
{
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_insert_resolves_grid),
        cmocka_unit_test(test_nearest_police_room),
        cmocka_unit_test(test_replace_patch_delete),
        cmocka_unit_test(test_other_layers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_input_crs),
        cmocka_unit_test(test_store_writes),
    };
    int rc = cmocka_run_group_tests_name("edit", tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
