/* test_plan_http.c — the planner's routes over real sockets with the full app: a draft made,
 * edited (split, move boundary, a refused merge), validated, balanced, published (the grids
 * collection follows, the incident on the moved boundary changes grid), rolled back; roles
 * (401 without a token, 403 for a dispatcher) and the token name in the audit log; layouts
 * imported over HTTP (a GeoPackage with a planted overlap and gap, a zipped Shapefile made here
 * with OGR, a DXF of closed polylines; broken, mistyped, empty and oversized bodies refused) and the validation problems
 * as an MVT layer decoded with GDAL's MVT driver; the draft grids the page's planner mode draws
 * (GET /plan/drafts/{id}/grids); suggestions (POST …/suggest). */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "cli_util.h"
#include "gridwatch/crs.h"
#include "gridwatch/store.h"
#include "gridwatch/tile.h"
#include "http_fixture.h"
#include "http_util.h"
#include "commands.h"
#include "plan_http.h"
#include "server.h"

#include <cpl_vsi.h>
#include <gdal.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
enum { T_NONE, T_DISPATCHER, T_PLANNER, T_COUNT };
static char tok[T_COUNT][GW_TOKEN_LEN + 1];

/* The 2×2 tiling of test_plan.c: A, B, C, D (0.01° squares from 115.00, 35.00) and incident
 * I1 in B near the A|B edge. */
static void make_db(void)
{
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("plan_http.sqlite"));
    remove(db_path);
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(115.01, 35.01)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    const char *ids[4] = {"A", "B", "C", "D"};
    for (int k = 0; k < 4; k++) {
        double x0 = 115.00 + 0.01 * (k % 2), y0 = 35.00 + 0.01 * (k / 2);
        double xy[10] = {x0, y0, x0 + 0.01, y0, x0 + 0.01, y0 + 0.01, x0, y0 + 0.01, x0, y0};
        unsigned char w[128];
        size_t n = 0;
        uint32_t t = 3, r = 1, np = 5;
        w[n++] = 1;
        memcpy(w + n, &t, 4), n += 4;
        memcpy(w + n, &r, 4), n += 4;
        memcpy(w + n, &np, 4), n += 4;
        memcpy(w + n, xy, 80), n += 80;
        gw_value v[10] = {{GW_VAL_TEXT, ids[k], 0, 0}};
        v[4] = (gw_value){GW_VAL_INT, NULL, 100, 0};
        gw_feature f = {v, w, n, 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    gw_value v[9] = {{GW_VAL_TEXT, "I1", 0, 0}};
    v[1] = (gw_value){GW_VAL_INT, NULL, 1735689600, 0};
    v[2] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
    v[6] = (gw_value){GW_VAL_TEXT, "B", 0, 0};
    gw_feature f = {v, NULL, 0, 115.0112, 35.005};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "desk", NULL, tok[T_DISPATCHER],
                                          NULL),
                     GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_PLANNER, "li.planner", NULL, tok[T_PLANNER],
                                          NULL),
                     GW_OK);
    gw_store_close(s);
}

static hf_resp req(const char *method, const char *url, int t, const char *body)
{
    return hf_request(method, url, t != T_NONE ? tok[t] : NULL, body, body ? strlen(body) : 0,
                      body ? "application/json" : NULL, NULL);
}

/* The JSON answer of a request that must have status `want`. */
static json_t *call(const char *method, const char *url, int t, const char *body, long want)
{
    hf_resp r = req(method, url, t, body);
    return hf_json(&r, want, JSON_DECODE_ANY, url);
}

static int64_t grids_matched(void)
{
    json_t *j = call("GET", "/collections/grids/items?limit=1", T_PLANNER, NULL, 200);
    int64_t n = json_integer_value(json_object_get(j, "numberMatched"));
    json_decref(j);
    return n;
}

/* One integer from SQL both engines read alike, on the test's database (-1 for no row). */
static int64_t q_int(const char *sql)
{
    if (gw_test_on_postgres()) {
        PGconn *c = PQconnectdb(db_path);
        if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", db_path, PQerrorMessage(c));
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        int64_t v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                                                          : -1;
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void test_plan_round_trip(void **state)
{
    json_decref(call("POST", "/plan/drafts", T_NONE, "{\"name\":\"x\"}", 401));
    json_decref(call("POST", "/plan/drafts", T_DISPATCHER, "{\"name\":\"x\"}", 403));
    json_decref(call("POST", "/plan/drafts", T_PLANNER, "{\"nom\":\"x\"}", 400));
    json_t *d = call("POST", "/plan/drafts", T_PLANNER, "{\"name\":\"east side\"}", 201);
    int64_t id = json_integer_value(json_object_get(d, "id"));
    assert_true(id > 0);
    assert_string_equal(json_string_value(json_object_get(d, "created_by")), "li.planner");
    json_decref(d);
    char url[256];
    snprintf(url, sizeof url, "/plan/drafts/%lld/edits", (long long)id);
    json_t *e = call("POST", url, T_PLANNER,
                     "{\"op\":\"move_boundary\",\"grids\":[\"A\",\"B\"],"
                     "\"line\":{\"type\":\"LineString\",\"coordinates\":[[115.013,34.999],"
                     "[115.013,35.011]]}}",
                     200);
    /* A, B and D: the new boundary meets the B|D edge, so D takes that vertex too */
    assert_int_equal(json_array_size(json_object_get(e, "changed")), 3);
    json_decref(e);
    json_decref(call("POST", url, T_PLANNER,
                     "{\"op\":\"split\",\"grid\":\"D\",\"line\":{\"type\":"
                     "\"LineString\",\"coordinates\":[[115.009,35.015],[115.021,35.015]]}}",
                     200));
    json_t *p = call("POST", url, T_PLANNER, "{\"op\":\"merge\",\"grids\":[\"B\",\"C\"]}", 422);
    assert_non_null(strstr(json_string_value(json_object_get(p, "detail")), "one area"));
    json_decref(p);
    json_decref(call("POST", url, T_DISPATCHER, "{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}", 403));
    json_decref(call("POST", "/plan/drafts/999/edits", T_PLANNER,
                     "{\"op\":\"merge\",\"grids\":"
                     "[\"A\",\"B\"]}",
                     404));
    json_decref(call("GET", "/plan/drafts/abc", T_PLANNER, NULL, 400));
    snprintf(url, sizeof url, "/plan/drafts/%lld/validation", (long long)id);
    json_t *v = call("GET", url, T_NONE, NULL, 200); /* anonymous reads are open here */
    assert_true(json_is_true(json_object_get(json_object_get(v, "summary"), "tiles")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "summary"), "grids")),
                     5);
    json_decref(v);
    snprintf(url, sizeof url, "/plan/drafts/%lld/diff", (long long)id);
    json_t *df = call("GET", url, T_PLANNER, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(df, "added")), 1);
    assert_int_equal(json_array_size(json_object_get(df, "changed")), 4); /* C took D's cut */
    json_decref(df);
    snprintf(url, sizeof url, "/plan/drafts/%lld/balance", (long long)id);
    json_t *b = call("GET", url, T_PLANNER, NULL, 200);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(b, "draft_layout"), "count")),
                     5);
    assert_non_null(json_object_get(json_object_get(json_object_get(b, "base_layout"), "spread"),
                                    "compactness"));
    json_decref(b);
    json_t *list = call("GET", "/plan/drafts", T_PLANNER, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(list, "drafts")), 1);
    json_decref(list);

    assert_int_equal(grids_matched(), 4);
    snprintf(url, sizeof url, "/plan/drafts/%lld/publish", (long long)id);
    json_decref(call("POST", url, T_DISPATCHER, NULL, 403));
    json_t *pub = call("POST", url, T_PLANNER, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(pub, "version")), 2);
    json_decref(pub);
    assert_int_equal(grids_matched(), 5); /* the live model has the new version already */
    json_decref(call("POST", url, T_PLANNER, NULL, 409));
    json_t *inc = call("GET", "/collections/incidents/items/I1", T_PLANNER, NULL, 200);
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(inc, "properties"), "grid")),
                        "A");
    json_decref(inc);
    json_t *vs = call("GET", "/plan/versions", T_PLANNER, NULL, 200);
    assert_int_equal(json_array_size(vs), 2);
    json_decref(vs);
    json_t *v1 = call("GET", "/plan/versions/1/validation", T_PLANNER, NULL, 200);
    assert_true(json_is_true(json_object_get(json_object_get(v1, "summary"), "tiles")));
    json_decref(v1);
    json_decref(call("GET", "/plan/versions/9/validation", T_PLANNER, NULL, 404));
    json_decref(call("POST", "/plan/versions/1/rollback", T_DISPATCHER, NULL, 403));
    json_t *rb = call("POST", "/plan/versions/1/rollback", T_PLANNER, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(rb, "version")), 3);
    json_decref(rb);
    assert_int_equal(grids_matched(), 4);
    assert_int_equal(q_int("SELECT count(*) FROM audit_log WHERE who = 'li.planner' AND action "
                           "LIKE 'plan.%'"),
                     5); /* create, 2 edits, publish, rollback */
    json_t *d2 = call("POST", "/plan/drafts", T_PLANNER, "{\"name\":\"scratch\"}", 201);
    snprintf(url, sizeof url, "/plan/drafts/%lld",
             (long long)json_integer_value(json_object_get(d2, "id")));
    json_decref(d2);
    hf_resp r = req("DELETE", url, T_PLANNER, NULL);
    assert_int_equal(r.status, 204);
    hf_resp_free(&r);
    json_decref(call("GET", url, T_PLANNER, NULL, 404));
}

/* ---- layout import and the validation tile layer ------------------------------------------- */

/* POST a file body with a Content-Type; the answer. */
static hf_resp post_file(const char *url, const char *ctype, const void *data, size_t len)
{
    return hf_request("POST", url, tok[T_PLANNER], data, len, ctype, NULL);
}

static gw_buf slurp(const char *path)
{
    gw_buf b = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char tmp[8192];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) gw_buf_add(&b, tmp, k);
    fclose(f);
    return b;
}

/* A layout of the four squares written with OGR to `path` (driver `drv`); B reaches 0.002°
 * into D (an overlap of ~0.2 km²) and A stops 0.001° short of B (a gap of ~0.1 km²) when
 * `broken`. */
static void write_layout(const char *drv, const char *path, int broken)
{
    GDALAllRegister();
    GDALDriverH d = GDALGetDriverByName(drv);
    assert_non_null(d);
    GDALDatasetH ds = GDALCreate(d, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    int dxf = strcmp(drv, "DXF") == 0; /* CAD: closed polylines, no attribute fields */
    OGRLayerH l = GDALDatasetCreateLayer(ds, "grids", srs, dxf ? wkbLineString : wkbPolygon, NULL);
    assert_non_null(l);
    if (!dxf) {
        OGRFieldDefnH fd = OGR_Fld_Create("id", OFTString);
        assert_int_equal(OGR_L_CreateField(l, fd, 1), OGRERR_NONE);
        OGR_Fld_Destroy(fd);
        fd = OGR_Fld_Create("population", OFTInteger);
        assert_int_equal(OGR_L_CreateField(l, fd, 1), OGRERR_NONE);
        OGR_Fld_Destroy(fd);
    }
    const char *ids[4] = {"A", "B", "C", "D"};
    for (int k = 0; k < 4; k++) {
        double x0 = 115.00 + 0.01 * (k % 2), y0 = 35.00 + 0.01 * (k / 2), x1 = x0 + 0.01,
               y1 = y0 + 0.01;
        if (broken && k == 0) x1 -= 0.001;
        if (broken && k == 1) y1 += 0.002;
        char wkt[256];
        snprintf(wkt, sizeof wkt, "%s (%s%.4f %.4f,%.4f %.4f,%.4f %.4f,%.4f %.4f,%.4f %.4f%s)",
                 dxf ? "LINESTRING" : "POLYGON", dxf ? "" : "(", x0, y0, x1, y0, x1, y1, x0, y1, x0,
                 y0, dxf ? "" : ")");
        OGRGeometryH g = NULL;
        char *w = wkt;
        assert_int_equal(OGR_G_CreateFromWkt(&w, srs, &g), OGRERR_NONE);
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
        if (!dxf) OGR_F_SetFieldString(f, 0, ids[k]), OGR_F_SetFieldInteger(f, 1, 100 + k);
        OGR_F_SetGeometryDirectly(f, g);
        assert_int_equal(OGR_L_CreateFeature(l, f), OGRERR_NONE);
        OGR_F_Destroy(f);
    }
    OSRDestroySpatialReference(srs);
    GDALClose(ds);
}

/* Zip the files of a Shapefile (dir/grids.*) into zip under the folder "layout/", through
 * GDAL's /vsizip/ writer. */
static void zip_shapefile(const char *dir, const char *zip)
{
    static const char *const ext[] = {"shp", "shx", "dbf", "prj", "cpg"};
    remove(zip);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        char src[1200], dst[1400];
        snprintf(src, sizeof src, "%s/grids.%s", dir, ext[i]);
        FILE *in = fopen(src, "rb");
        if (!in) continue;
        snprintf(dst, sizeof dst, "/vsizip/%s/layout/grids.%s", zip, ext[i]);
        VSILFILE *out = VSIFOpenL(dst, "wb");
        assert_non_null(out);
        char buf[8192];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0)
            assert_int_equal(VSIFWriteL(buf, 1, k, out), k);
        fclose(in);
        VSIFCloseL(out);
    }
}

typedef struct issue_seen {
    int overlap, gap, features;
    char grids[64];
} issue_seen;

/* Decode a plan_validation tile with GDAL's MVT driver. */
static issue_seen decode_issues(const hf_resp *r, int z, int x, int y)
{
    issue_seen s = {0};
    if (r->status == 204) return s;
    assert_int_equal(r->status, 200);
    const char *path = gw_test_path("validation.pbf");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r->body.data, 1, r->body.len, f), r->body.len);
    fclose(f);
    char oz[32], ox[32], oy[32];
    snprintf(oz, sizeof oz, "Z=%d", z), snprintf(ox, sizeof ox, "X=%d", x);
    snprintf(oy, sizeof oy, "Y=%d", y);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, oz, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, drivers, opts, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "plan_validation");
    assert_non_null(l);
    OGRFeatureH ft;
    while ((ft = OGR_L_GetNextFeature(l)) != NULL) {
        s.features++;
        const char *is = OGR_F_GetFieldAsString(ft, OGR_F_GetFieldIndex(ft, "issue"));
        if (strcmp(is, "overlap") == 0) {
            s.overlap++;
            snprintf(s.grids, sizeof s.grids, "%s",
                     OGR_F_GetFieldAsString(ft, OGR_F_GetFieldIndex(ft, "grids")));
            /* the overlap strip lies between 35.01 and 35.012 (the driver gives EPSG:3857) */
            OGREnvelope e;
            OGR_G_GetEnvelope(OGR_F_GetGeometryRef(ft), &e);
            double lon0, lat0, lon1, lat1;
            gw_tile_merc_to_lonlat(e.MinX, e.MinY, &lon0, &lat0);
            gw_tile_merc_to_lonlat(e.MaxX, e.MaxY, &lon1, &lat1);
            if (!(lat0 > 35.0099 && lat1 < 35.0121 && lon0 > 115.0099 && lon1 < 115.0201))
                fail_msg("overlap at %.5f %.5f - %.5f %.5f", lon0, lat0, lon1, lat1);
        }
        if (strcmp(is, "gap") == 0) s.gap++;
        OGR_F_Destroy(ft);
    }
    GDALClose(ds);
    return s;
}

static void test_plan_import(void **state)
{
    json_t *d = call("POST", "/plan/drafts", T_PLANNER, "{\"name\":\"from GIS\"}", 201);
    int64_t id = json_integer_value(json_object_get(d, "id"));
    json_decref(d);
    char url[256], durl[128];
    snprintf(url, sizeof url, "/plan/drafts/%lld/import", (long long)id);
    snprintf(durl, sizeof durl, "/plan/drafts/%lld", (long long)id);

    /* a GeoPackage with a planted overlap (B into D) and gap (A short of B) */
    const char *gpkg = gw_test_path("layout-broken.gpkg");
    remove(gpkg);
    write_layout("GPKG", gpkg, 1);
    gw_buf b = slurp(gpkg);
    hf_resp r = post_file(url, "application/geopackage+sqlite3", b.data, b.len);
    gw_buf_free(&b);
    if (r.status != 200) fail_msg("gpkg import -> %ld: %s", r.status, r.body.data);
    json_t *j = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    json_t *sum = json_object_get(j, "validation");
    assert_int_equal(json_integer_value(json_object_get(j, "grids")), 4);
    assert_false(json_is_true(json_object_get(sum, "tiles")));
    assert_int_equal(json_integer_value(json_object_get(sum, "overlaps")), 1);
    assert_true(json_integer_value(json_object_get(sum, "gaps")) >= 1);
    double ov = json_number_value(json_object_get(sum, "overlap_m2"));
    assert_true(ov > 1.9e5 && ov < 2.1e5); /* 0.01° × 0.002° ≈ 913 m × 222 m */
    json_decref(j);
    json_t *dr = call("GET", durl, T_PLANNER, NULL, 200);
    int64_t edits = json_integer_value(json_object_get(dr, "edits"));
    json_decref(dr);

    /* the problems as a tile layer: z14 tile over the squares' middle */
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(tctx, 115.01, 35.011, 14, &t), GW_OK);
    char turl[256];
    snprintf(turl, sizeof turl, "/plan/drafts/%lld/validation/tiles/%u/%u/%u.mvt", (long long)id,
             t.z, t.x, t.y);
    r = req("GET", turl, T_NONE, NULL);
    issue_seen seen = decode_issues(&r, (int)t.z, (int)t.x, (int)t.y);
    hf_resp_free(&r);
    assert_int_equal(seen.overlap, 1);
    assert_string_equal(seen.grids, "B,D");
    assert_true(seen.gap >= 1);
    /* a far-away tile is empty; a bad tile address is 404 */
    snprintf(turl, sizeof turl, "/plan/drafts/%lld/validation/tiles/14/0/0.mvt", (long long)id);
    r = req("GET", turl, T_NONE, NULL);
    assert_int_equal(r.status, 204);
    hf_resp_free(&r);
    snprintf(turl, sizeof turl, "/plan/drafts/%lld/validation/tiles/2/9/9.mvt", (long long)id);
    json_decref(call("GET", turl, T_NONE, NULL, 404));

    /* a broken file, a wrong type, an empty body, an oversized body: 400/415/400/413, the
     * draft unchanged */
    static const char junk[] = "SQLite format 3\0 this is not a GeoPackage at all";
    r = post_file(url, "application/geopackage+sqlite3", junk, sizeof junk);
    assert_int_equal(r.status, 400);
    j = json_loads(r.body.data, 0, NULL);
    const char *detail = json_string_value(json_object_get(j, "detail"));
    assert_non_null(strstr(detail, "the uploaded file"));
    assert_null(strstr(detail, "gw-layout-")); /* no server path in the message */
    json_decref(j);
    hf_resp_free(&r);
    r = post_file(url, "text/csv", "id,x\n", 5);
    assert_int_equal(r.status, 415);
    hf_resp_free(&r);
    r = post_file(url, "application/zip", "", 0);
    assert_int_equal(r.status, 400);
    hf_resp_free(&r);
    size_t big = (1u << 20) + 1024;
    char *huge = calloc(1, big);
    r = post_file(url, "application/geo+json", huge, big);
    free(huge);
    assert_int_equal(r.status, 413);
    hf_resp_free(&r);
    r = req("POST", url, T_DISPATCHER, "{}");
    assert_int_equal(r.status, 403);
    hf_resp_free(&r);
    r = post_file("/plan/drafts/999/import", "application/geo+json", "{}", 2);
    assert_int_equal(r.status, 404);
    hf_resp_free(&r);
    dr = call("GET", durl, T_PLANNER, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(dr, "edits")), edits);
    json_decref(dr);
    assert_int_equal(q_int("SELECT count(*) FROM plan_draft_grids WHERE draft_id = (SELECT "
                           "max(id) FROM plan_drafts) AND id = 'B' AND op = 'upsert'"),
                     1);

    /* a clean layout as a zipped Shapefile in a folder (?format= names it): it tiles */
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", gw_test_path("layout-shp"));
    char shp[1200];
    snprintf(shp, sizeof shp, "%s/grids.shp", dir);
    mkdir(dir, 0700);
    static const char *const ext[] = {"shp", "shx", "dbf", "prj", "cpg"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        char p[1300];
        snprintf(p, sizeof p, "%s/grids.%s", dir, ext[i]);
        remove(p);
    }
    write_layout("ESRI Shapefile", shp, 0);
    const char *zip = gw_test_path("layout.zip");
    zip_shapefile(dir, zip);
    b = slurp(zip);
    char zurl[300];
    snprintf(zurl, sizeof zurl, "%s?format=shp", url);
    r = post_file(zurl, "application/octet-stream", b.data, b.len);
    gw_buf_free(&b);
    if (r.status != 200) fail_msg("zip import -> %ld: %s", r.status, r.body.data);
    j = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    sum = json_object_get(j, "validation");
    assert_true(json_is_true(json_object_get(sum, "tiles")));
    assert_int_equal(json_integer_value(json_object_get(sum, "grids")), 4);
    json_decref(j);
    /* the tile cache follows the draft: the same tile has no problem left */
    assert_int_equal(gw_tile_from_lonlat(tctx, 115.01, 35.011, 14, &t), GW_OK);
    snprintf(turl, sizeof turl, "/plan/drafts/%lld/validation/tiles/%u/%u/%u.mvt", (long long)id,
             t.z, t.x, t.y);
    r = req("GET", turl, T_NONE, NULL);
    assert_int_equal(r.status, 204);
    hf_resp_free(&r);
    /* a DXF of closed polylines (no fields: ?map=id=FID numbers them) */
    const char *dxfp = gw_test_path("layout.dxf");
    remove(dxfp);
    write_layout("DXF", dxfp, 0);
    b = slurp(dxfp);
    r = post_file(url, "image/vnd.dxf", b.data, b.len);
    assert_int_equal(r.status, 400); /* no id field without a mapping */
    assert_non_null(strstr(r.body.data, "id=FID"));
    hf_resp_free(&r);
    snprintf(zurl, sizeof zurl, "%s?map=id%%3DFID", url);
    r = post_file(zurl, "image/vnd.dxf", b.data, b.len);
    gw_buf_free(&b);
    if (r.status != 200) fail_msg("dxf import -> %ld: %s", r.status, r.body.data);
    j = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    sum = json_object_get(j, "validation");
    assert_true(json_is_true(json_object_get(sum, "tiles")));
    assert_int_equal(json_integer_value(json_object_get(sum, "grids")), 4);
    json_decref(j);
    assert_int_equal(q_int("SELECT count(*) FROM audit_log WHERE action = 'plan.draft.import' AND "
                           "who = 'li.planner'"),
                     3);
    /* the imports' scratch stores are temporary files, not databases left on the server (they
     * were named after this database; other test runs may share the server) */
    if (gw_test_on_postgres())
        assert_int_equal(q_int("SELECT count(*) FROM pg_database WHERE datname LIKE "
                               "current_database() || '.plan-import%'"),
                         0);
}

/* `gridwatch plan` through gw_cmd_plan (the same engine, from the command line). */
static int cli(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[8] = {"plan",     (char *)a0, (char *)db_path, (char *)a1,
                     (char *)a2, (char *)a3, (char *)a4,      NULL};
    int argc = 3;
    while (argc < 7 && argv[argc]) argc++;
    fflush(stdout);
    return gw_cmd_plan(argc, argv);
}

static void test_plan_cli(void **state)
{
    char *help[] = {"plan", "--help"};
    assert_int_equal(gw_cmd_plan(2, help), GW_EXIT_OK);
    assert_int_equal(cli("frobnicate", NULL, NULL, NULL, NULL), GW_EXIT_USAGE);
    assert_int_equal(cli("create", "cli draft", "--by", "cli-user", NULL), GW_EXIT_OK);
    int64_t id = q_int("SELECT max(id) FROM plan_drafts");
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    assert_int_equal(cli("list", NULL, NULL, NULL, NULL), GW_EXIT_OK);
    assert_int_equal(cli("edit", ids, "{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}", NULL, NULL),
                     GW_EXIT_OK);
    assert_int_equal(cli("edit", ids,
                         "{\"op\":\"split\",\"grid\":\"C\",\"line\":{\"type\":"
                         "\"LineString\",\"coordinates\":[[116,36],[116.1,36]]}}",
                         NULL, NULL),
                     GW_EXIT_INPUT); /* the line misses C */
    assert_int_equal(cli("edit", ids, "{\"op\":", NULL, NULL), GW_EXIT_INPUT);
    assert_int_equal(cli("validate", ids, "--summary", NULL, NULL), GW_EXIT_OK);
    assert_int_equal(cli("validate", "--version", "1", "--summary", NULL), GW_EXIT_OK);
    assert_int_equal(cli("diff", ids, NULL, NULL, NULL), GW_EXIT_OK);
    assert_int_equal(cli("publish", "999", NULL, NULL, NULL), GW_EXIT_INPUT);
    assert_int_equal(cli("publish", ids, "--by", "cli-user", NULL), GW_EXIT_OK);
    assert_int_equal(cli("publish", ids, NULL, NULL, NULL), GW_EXIT_CONFLICT);
    assert_int_equal(cli("versions", NULL, NULL, NULL, NULL), GW_EXIT_OK);
    assert_int_equal(q_int("SELECT count(*) FROM grids WHERE version = (SELECT CAST(value AS "
                           "INTEGER) FROM meta WHERE key = 'grid_version')"),
                     3);
    assert_int_equal(q_int("SELECT count(*) FROM audit_log WHERE who = 'cli-user'"), 2);
    assert_int_equal(cli("delete", ids, NULL, NULL, NULL), GW_EXIT_OK);
}

/* POST /plan/drafts/{id}/suggest: a new draft with its edit list, the base draft untouched,
 * the new draft's /balance showing the lower CV; bad parameters 400; `plan suggest`. */
static void test_plan_suggest(void **state)
{
    (void)state;
    json_t *d = call("POST", "/plan/drafts", T_PLANNER, "{\"name\":\"sg\"}", 201);
    int64_t id = json_integer_value(json_object_get(d, "id"));
    json_decref(d);
    char url[256];
    static const char *bad[] = {"target=bogus", "max_cv=-1",    "max_cv=abc",
                                "max_edits=0",  "max_edits=1x", "min_compactness=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "/plan/drafts/%lld/suggest?%s", (long long)id, bad[i]);
        json_t *p = call("POST", url, T_PLANNER, NULL, 400);
        assert_non_null(json_object_get(p, "detail"));
        json_decref(p);
    }
    snprintf(url, sizeof url, "/plan/drafts/%lld/suggest?target=incidents", (long long)id);
    json_decref(call("POST", url, T_DISPATCHER, NULL, 403));
    json_decref(call("GET", url, T_PLANNER, NULL, 405));
    json_decref(call("POST", "/plan/drafts/999/suggest", T_PLANNER, NULL, 404));
    snprintf(url, sizeof url, "/plan/drafts/%lld/suggest?target=incidents&max_cv=0.5&max_edits=50",
             (long long)id);
    hf_resp r = req("POST", url, T_PLANNER, NULL);
    assert_int_equal(r.status, 201);
    json_t *sg = json_loads(r.body.data, 0, NULL);
    hf_resp_free(&r);
    int64_t nd = json_integer_value(json_object_get(sg, "draft"));
    assert_true(nd > id);
    assert_int_equal(json_integer_value(json_object_get(sg, "base_draft")), id);
    assert_string_equal(json_string_value(json_object_get(sg, "target")), "incidents");
    assert_true(json_array_size(json_object_get(sg, "edits")) >= 1);
    assert_string_equal(json_string_value(
                            json_object_get(json_array_get(json_object_get(sg, "edits"), 0), "op")),
                        "merge"); /* one incident in four grids: merges */
    double before = json_real_value(json_object_get(sg, "cv_before"));
    double after = json_real_value(json_object_get(sg, "cv_after"));
    assert_true(after < before);
    json_decref(sg);
    char path[128];
    snprintf(path, sizeof path, "/plan/drafts/%lld/balance", (long long)nd);
    json_t *b = call("GET", path, T_PLANNER, NULL, 200);
    json_t *inc = json_object_get(json_object_get(json_object_get(b, "draft_layout"), "spread"),
                                  "incidents");
    json_t *binc = json_object_get(json_object_get(json_object_get(b, "base_layout"), "spread"),
                                   "incidents");
    assert_true(fabs(json_real_value(json_object_get(inc, "cv")) - after) < 1e-9);
    assert_true(json_real_value(json_object_get(inc, "cv")) <
                json_real_value(json_object_get(binc, "cv")));
    json_decref(b);
    snprintf(path, sizeof path, "/plan/drafts/%lld", (long long)nd);
    json_t *nj = call("GET", path, T_PLANNER, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(nj, "name")),
                        "sg \xe2\x80\x93 suggestion");
    assert_string_equal(json_string_value(json_object_get(nj, "created_by")), "li.planner");
    json_decref(nj);
    snprintf(path, sizeof path, "/plan/drafts/%lld", (long long)id);
    json_t *bj = call("GET", path, T_PLANNER, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(bj, "edits")), 0); /* base untouched */
    assert_int_equal(json_integer_value(json_object_get(bj, "changed")), 0);
    json_decref(bj);
    /* population is even here (100 each): nothing to do, the target is met at once */
    snprintf(url, sizeof url, "/plan/drafts/%lld/suggest?target=population", (long long)id);
    json_t *pop = call("POST", url, T_PLANNER, NULL, 201);
    assert_string_equal(json_string_value(json_object_get(pop, "stopped")), "target");
    assert_int_equal(json_array_size(json_object_get(pop, "edits")), 0);
    json_decref(pop);

    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    char *help[] = {"plan", "suggest", "--help"};
    assert_int_equal(gw_cmd_plan(3, help), GW_EXIT_OK);
    assert_int_equal(cli("suggest", ids, "--target", "bogus", NULL), GW_EXIT_USAGE);
    assert_int_equal(cli("suggest", ids, "--max-cv", "-2", NULL), GW_EXIT_USAGE);
    assert_int_equal(cli("suggest", "abc", NULL, NULL, NULL), GW_EXIT_USAGE);
    assert_int_equal(cli("suggest", "999", NULL, NULL, NULL), GW_EXIT_INPUT);
    int64_t n0 = q_int("SELECT count(*) FROM plan_drafts");
    assert_int_equal(cli("suggest", ids, "--max-cv", "0.5", "--by"), GW_EXIT_USAGE);
    assert_int_equal(cli("suggest", ids, "--target", "incidents", "--max-cv"), GW_EXIT_USAGE);
    assert_int_equal(cli("suggest", ids, "--max-cv", "0.5", NULL), GW_EXIT_OK);
    assert_int_equal(q_int("SELECT count(*) FROM plan_drafts"), n0 + 1);
}

/* Planar area (deg²) and ellipsoidal area_m2 summed over a FeatureCollection's features with
 * changed == want (want < 0: all); *n receives how many were summed. */
static void sum_areas(json_t *fc, int want, double *deg2, double *m2, size_t *n)
{
    GEOSContextHandle_t h = gw_ctx_geos(tctx);
    GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(h);
    *deg2 = *m2 = 0, *n = 0;
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(fc, "features"), i, f) {
        json_t *pr = json_object_get(f, "properties");
        if (want >= 0 && json_is_true(json_object_get(pr, "changed")) != want) continue;
        char *gt = json_dumps(json_object_get(f, "geometry"), 0);
        GEOSGeometry *g = GEOSGeoJSONReader_readGeometry_r(h, rd, gt);
        assert_non_null(g);
        double a = 0;
        assert_int_equal(GEOSArea_r(h, g, &a), 1);
        *deg2 += a, *m2 += json_number_value(json_object_get(pr, "area_m2")), (*n)++;
        GEOSGeom_destroy_r(h, g);
        free(gt);
    }
    GEOSGeoJSONReader_destroy_r(h, rd);
}

/* GET /plan/drafts/{id}/grids: after a split of C (the 0.01° square at 115.00, 35.01, untouched
 * by the tests above) the route returns both pieces with changed:true, their areas sum to C's
 * (planar in degrees from the GeoJSON, which any exact split keeps, and the route's ellipsoidal
 * area_m2), a bbox inside C returns only the pieces, and bad input is refused. */
static void test_plan_draft_grids(void **state)
{
    (void)state;
    json_t *d = call("POST", "/plan/drafts", T_PLANNER, "{\"name\":\"split C\"}", 201);
    int64_t id = json_integer_value(json_object_get(d, "id"));
    json_decref(d);
    char url[256];
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids", (long long)id);
    json_t *before = call("GET", url, T_NONE, NULL, 200);
    size_t n0 = json_array_size(json_object_get(before, "features")), nc = 0;
    assert_true(n0 >= 3);
    double deg2 = 0, m2 = 0, c_deg2 = 0, c_m2 = 0;
    sum_areas(before, 1, &deg2, &m2, &nc);
    assert_int_equal(nc, 0); /* a fresh draft has changed nothing */
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get(before, "features"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "id")), "C") == 0)
            c_m2 = json_number_value(json_object_get(json_object_get(f, "properties"), "area_m2"));
    c_deg2 = 0.01 * 0.01;
    assert_true(c_m2 > 1e6 && c_m2 < 1.2e6); /* ~0.91 km × 1.11 km at 35° N */
    json_decref(before);

    snprintf(url, sizeof url, "/plan/drafts/%lld/edits", (long long)id);
    json_decref(call("POST", url, T_PLANNER,
                     "{\"op\":\"split\",\"grid\":\"C\",\"new_id\":"
                     "\"C2\",\"line\":{\"type\":\"LineString\",\"coordinates\":[[114.999,35.013],"
                     "[115.011,35.013]]}}",
                     200));
    /* a bbox strictly inside C: both pieces and nothing else */
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids?bbox=115.0005,35.0105,115.0095,35.0195",
             (long long)id);
    json_t *in = call("GET", url, T_NONE, NULL, 200);
    json_t *fs = json_object_get(in, "features");
    assert_int_equal(json_array_size(fs), 2);
    assert_int_equal(json_integer_value(json_object_get(in, "numberReturned")), 2);
    const char *a = json_string_value(json_object_get(json_array_get(fs, 0), "id"));
    const char *b = json_string_value(json_object_get(json_array_get(fs, 1), "id"));
    assert_string_equal(a, "C");
    assert_string_equal(b, "C2");
    sum_areas(in, 1, &deg2, &m2, &nc);
    assert_int_equal(nc, 2);
    assert_true(fabs(deg2 - c_deg2) < 1e-12);
    assert_true(fabs(m2 - c_m2) < 1e-6 * c_m2);
    json_decref(in);
    /* changed=true: only the draft's own grids, wherever they are */
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids?changed=true", (long long)id);
    json_t *ch = call("GET", url, T_NONE, NULL, 200);
    /* C, C2, and the neighbour whose shared edge received the cut's vertex (so the two never
     * leave a sliver between them): same area, new vertex */
    json_t *chf = json_object_get(ch, "features");
    assert_int_equal(json_array_size(chf), 3);
    int seen_c = 0, seen_c2 = 0;
    json_array_foreach (chf, i, f) {
        const char *gid = json_string_value(json_object_get(f, "id"));
        seen_c += strcmp(gid, "C") == 0, seen_c2 += strcmp(gid, "C2") == 0;
    }
    assert_true(seen_c == 1 && seen_c2 == 1);
    json_decref(ch);
    /* the whole draft: one grid more than before, three of them changed */
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids", (long long)id);
    json_t *all = call("GET", url, T_NONE, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(all, "features")), n0 + 1);
    sum_areas(all, 1, &deg2, &m2, &nc);
    assert_int_equal(nc, 3);
    json_decref(all);
    /* a bbox far away: nothing */
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids?bbox=100,10,100.1,10.1", (long long)id);
    json_t *none = call("GET", url, T_NONE, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(none, "features")), 0);
    json_decref(none);
    json_decref(call("GET", "/plan/drafts/999/grids", T_NONE, NULL, 404));
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids?bbox=1,2,3", (long long)id);
    json_decref(call("GET", url, T_NONE, NULL, 400));
    snprintf(url, sizeof url, "/plan/drafts/%lld/grids?changed=maybe", (long long)id);
    json_decref(call("GET", url, T_NONE, NULL, 400));
}

static int setup(void **state)
{
    tctx = gw_test_ctx();
    make_db();
    assert_int_equal(gw_app_create(tctx, db_path, NULL, &app), GW_OK);
    gw_server_opts o = {
        .db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .max_body = 1u << 20};
    gw_app_configure(app, &o);
    /* The app lists the plan routes once wired (api/app.c); until then add them here. */
    size_t n = 0, np = 0;
    const gw_route *pr = gw_plan_routes(&np);
    int have = 0;
    for (size_t i = 0; i < o.n_routes; i++)
        if (strcmp(o.routes[i].pattern, "/plan/drafts") == 0) have = 1;
    static gw_route *all;
    if (!have) {
        all = calloc(o.n_routes + np, sizeof *all);
        memcpy(all, pr, np * sizeof *all);
        if (o.n_routes) memcpy(all + np, o.routes, o.n_routes * sizeof *all);
        o.routes = all;
        o.n_routes += np;
    }
    n = o.n_routes;
    assert_true(n >= np);
    assert_int_equal(hf_server_start(tctx, &o, &srv), GW_OK);
    *state = all;
    return 0;
}

static int teardown(void **state)
{
    hf_app_stop(app, srv);
    free(*state);
    gw_ctx_destroy(tctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_round_trip),  cmocka_unit_test(test_plan_cli),
        cmocka_unit_test(test_plan_import),      cmocka_unit_test(test_plan_suggest),
        cmocka_unit_test(test_plan_draft_grids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
