/* plan_http.c — the planner's HTTP routes (/plan/…), a thin layer over geo/plan/ (the
 * `gridwatch plan` command is api/cli/cmd_plan.c): JSON in, JSON out, engine statuses mapped
 * to problem+json, the token name passed to the engine for the audit log.
 *
 * Writes use a read-write connection per worker thread (the server's own is query_only), opened
 * on the thread's first write and closed when the thread ends, as api/ogc_write.c does.
 *
 * POST /plan/drafts/{id}/import takes a layout file as the body (its type from Content-Type or
 * ?format=; ?map= maps fields as `gridwatch import --map`), stores it in a private temporary
 * file and imports it into the draft; the body limit is the server's --max-body.  GET /plan/drafts/{id}/validation/tiles/{z}/{x}/{y}.mvt
 * serves the validation report's problems as the MVT layer `plan_validation` (properties
 * issue, grids, area_m2); the report is computed once per draft state (edit count and time,
 * grids' change-log seq) and kept for the next tiles. */
#include "plan_http.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/mvt.h"
#include "gridwatch/plan.h"
#include "gridwatch/tile.h"
#include "http_util.h"
#include "plan_scope.h"
#include "problem.h"

#include "gridwatch/store_changes.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- request pieces ------------------------------------------------------------------------ */

static int fail(gw_req *req, gw_store *s, gw_status st)
{
    gw_req_fail(req, gw_store_ctx(s), st, NULL);
    return 0;
}

/* A numeric path capture; -1 with a 400 answered when it is not an integer. */
static int64_t path_int(gw_req *req, const char *name)
{
    int64_t v = 0;
    const char *t = gw_req_param(req, name);
    if (!t || gw_parse_int64(t, &v) != 0 || v < 1) {
        gw_req_problem(req, 400, NULL, "'%s' in the path must be a positive integer, not '%s'",
                       name, t ? t : "");
        return -1;
    }
    return v;
}

/* Answer a JSON text the engine produced (freed here). */
static int respond_text(gw_req *req, unsigned status, char *text)
{
    gw_req_respond(req, status, "application/json", text, strlen(text));
    free(text);
    return 0;
}

static json_t *draft_json(const gw_plan_draft *d)
{
    return json_pack("{sI ss sI ss ss ss sI sI ss so?}", "id", (json_int_t)d->id, "name", d->name,
                     "base_version", (json_int_t)d->base_version, "created_by", d->created_by,
                     "created_at", d->created_at, "updated_at", d->updated_at, "edits",
                     (json_int_t)d->edits, "changed", (json_int_t)d->changed, "status", d->status,
                     "published_version",
                     d->published_version ? json_integer(d->published_version) : NULL);
}

/* Wait until the live model has seen seq (publish/rollback), so the next read sees it. */
static void settle(gw_req *req, int64_t seq)
{
    gw_live *live = gw_req_live(req);
    if (!live || seq <= 0) return;
    gw_live_kick(live);
    gw_live_wait(live, seq, 5000);
}

/* ---- handlers ------------------------------------------------------------------------------ */

static int h_create(gw_req *req)
{
    gw_store *s = gw_req_write_store(req);
    if (!s) return 0;
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    json_error_t je;
    json_t *doc = json_loadb(body ? body : "", len, 0, &je);
    const char *name = json_string_value(json_object_get(doc, "name"));
    if (!name) {
        json_decref(doc);
        gw_req_problem(req, 400, NULL, "expected a JSON object {\"name\": \"…\"}%s%s",
                       doc ? "" : ": ", doc ? "" : je.text);
        return 0;
    }
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    int64_t id = 0;
    gw_status st = gw_plan_draft_create(s, name, who, &id);
    json_decref(doc);
    if (st) return fail(req, s, st);
    gw_plan_draft d;
    if ((st = gw_plan_draft_get(s, id, &d))) return fail(req, s, st);
    char loc[64];
    snprintf(loc, sizeof loc, "/plan/drafts/%lld", (long long)id);
    gw_req_add_header(req, "Location", loc);
    gw_req_respond_json(req, 201, draft_json(&d));
    return 0;
}

static int h_list(gw_req *req)
{
    gw_store *s = gw_req_store(req);
    if (!s) return 0;
    gw_plan_draft *d = NULL;
    size_t n = 0;
    gw_scope *sc = NULL;
    int whole = 1;
    if (gw_plan_scope(req, &sc, &whole)) return 0;
    gw_status st = gw_plan_draft_list(s, &d, &n);
    if (st) {
        gw_scope_release(sc);
        return fail(req, s, st);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) /* a scoped planner: the drafts wholly in its jurisdiction */
        if (whole || gw_plan_draft_within(sc, s, d[i].id) == 1)
            json_array_append_new(arr, draft_json(&d[i]));
    gw_ctx_clear_error(gw_store_ctx(s));
    gw_scope_release(sc);
    free(d);
    gw_req_respond_json(req, 200, json_pack("{so}", "drafts", arr));
    return 0;
}

static int h_get(gw_req *req)
{
    gw_store *s = gw_req_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return fail(req, s, st);
    gw_scope *sc = NULL;
    if (gw_plan_draft_scope(req, s, id, 0, &sc)) return 0;
    gw_scope_release(sc);
    gw_req_respond_json(req, 200, draft_json(&d));
    return 0;
}

static int h_delete(gw_req *req)
{
    gw_store *s = gw_req_write_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    gw_scope *sc = NULL;
    if (gw_plan_draft_scope(req, s, id, 1, &sc)) return 0;
    gw_scope_release(sc);
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    gw_status st = gw_plan_draft_delete(s, id, who);
    if (st) return fail(req, s, st);
    gw_req_respond(req, 204, "application/json", "", 0);
    return 0;
}

static int h_diff(gw_req *req)
{
    gw_store *s = gw_req_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    char *js = NULL;
    gw_status st = gw_plan_draft_diff(s, id, &js);
    if (st) return fail(req, s, st);
    gw_scope *sc = NULL; /* a draft wholly in the jurisdiction: its whole diff is the scope's */
    if (gw_plan_draft_scope(req, s, id, 0, &sc)) {
        free(js);
        return 0;
    }
    gw_scope_release(sc);
    return respond_text(req, 200, js);
}

static int h_edit(gw_req *req)
{
    gw_store *s = gw_req_write_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    char who[128], *js = NULL;
    gw_auth_request_who(req, who, sizeof who);
    gw_scope *sc = NULL, *mine = NULL;
    int whole = 1;
    if (gw_plan_draft_scope(req, s, id, 1, &mine) || gw_plan_scope(req, &sc, &whole)) {
        gw_scope_release(mine);
        return 0;
    }
    gw_scope_release(mine);
    /* a scoped planner (the whole city's too): the draft as the edit leaves it must still lie
     * wholly in its jurisdiction (checked inside the edit's transaction: a refused edit writes
     * nothing) */
    gw_plan_within w = {sc, 0};
    gw_status st = gw_plan_edit_checked(s, id, body ? body : "", len, who,
                                        sc ? gw_plan_check_within : NULL, &w, &js);
    gw_scope_release(sc);
    if (st && w.refused) {
        gw_req_scope_refuse(req, "a grid this edit changes (or its new place)");
        return 0;
    }
    return st ? fail(req, s, st) : respond_text(req, 200, js);
}

/* Validation thresholds from the query; -1 with a 400 answered for a bad number. */
static int validate_opts(gw_req *req, gw_plan_validate_opts *o)
{
    static const char *keys[3] = {"tol", "min_area", "max_area"};
    double *dst[3] = {&o->tol_m2, &o->min_area_m2, &o->max_area_m2};
    memset(o, 0, sizeof *o);
    for (int i = 0; i < 3; i++) {
        const char *v = gw_req_query(req, keys[i]);
        if (v && (gw_parse_double(v, dst[i]) != 0 || *dst[i] < 0)) {
            gw_req_problem(req, 400, NULL, "%s must be a non-negative number of m², not '%s'",
                           keys[i], v);
            return -1;
        }
    }
    return 0;
}

static int report(gw_req *req, gw_store *s, gw_status st, gw_plan_report *r)
{
    if (st) return fail(req, s, st);
    gw_req_respond(req, 200, "application/geo+json", r->geojson, strlen(r->geojson));
    gw_plan_report_free(r);
    return 0;
}

static int h_validate_draft(gw_req *req)
{
    if (gw_plan_whole_city_only(
            req,
            "a validation report covers the whole layout (gaps, overlaps and grids outside, across every border)"))
        return 0;
    gw_store *s = gw_req_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    gw_plan_validate_opts o;
    if (id < 0 || validate_opts(req, &o)) return 0;
    gw_plan_report r = {0};
    return report(req, s, gw_plan_validate_draft(s, id, &o, &r), &r);
}

static int h_validate_version(gw_req *req)
{
    if (gw_plan_whole_city_only(
            req,
            "a validation report covers the whole layout (gaps, overlaps and grids outside, across every border)"))
        return 0;
    gw_store *s = gw_req_store(req);
    int64_t v = s ? path_int(req, "n") : -1;
    gw_plan_validate_opts o;
    if (v < 0 || validate_opts(req, &o)) return 0;
    gw_plan_report r = {0};
    return report(req, s, gw_plan_validate_version(s, v, &o, &r), &r);
}

static int h_balance(gw_req *req)
{
    if (gw_plan_whole_city_only(req, "the balance compares every grid of the city")) return 0;
    gw_store *s = gw_req_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    char *js = NULL;
    gw_status st = gw_plan_balance(s, id, &js);
    return st ? fail(req, s, st) : respond_text(req, 200, js);
}

static int h_versions(gw_req *req)
{
    if (gw_plan_whole_city_only(req, "the versions list every publish of the city's layout"))
        return 0;
    gw_store *s = gw_req_store(req);
    if (!s) return 0;
    char *js = NULL;
    gw_status st = gw_plan_versions(s, &js);
    return st ? fail(req, s, st) : respond_text(req, 200, js);
}

static int h_publish(gw_req *req)
{
    gw_store *s = gw_req_write_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    const char *f = gw_req_query(req, "force");
    int force = f && (strcmp(f, "true") == 0 || strcmp(f, "1") == 0);
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    int64_t v = 0, seq = 0;
    gw_scope *sc = NULL;
    int whole = 1;
    if (gw_plan_scope(req, &sc, &whole)) return 0;
    /* a scoped planner (the whole city's too): every grid the draft changes in its
     * jurisdiction, checked under the publish's write lock */
    gw_plan_within w = {sc, 0};
    gw_status st = gw_plan_publish_checked(s, id, who, force, sc ? gw_plan_check_within : NULL, &w,
                                           &v, &seq);
    gw_scope_release(sc);
    if (st && w.refused) {
        char what[96];
        snprintf(what, sizeof what, "draft %lld (a grid it changes)", (long long)id);
        gw_req_scope_refuse(req, what);
        return 0;
    }
    if (st) return fail(req, s, st);
    settle(req, seq);
    gw_req_respond_json(req, 200,
                        json_pack("{sI sI sI}", "draft", (json_int_t)id, "version", (json_int_t)v,
                                  "seq", (json_int_t)seq));
    return 0;
}

static int h_rollback(gw_req *req)
{
    gw_store *s = gw_req_write_store(req);
    int64_t n = s ? path_int(req, "n") : -1;
    if (n < 0) return 0;
    if (*gw_auth_request_jurisdiction(req)) {
        gw_req_problem(req, 403, NULL,
                       "a rollback is not available to accounts scoped to a jurisdiction (this "
                       "token is scoped to '%s'): it republishes a whole old layout, whose grids "
                       "the jurisdiction may not hold",
                       gw_auth_request_jurisdiction(req));
        return 0;
    }
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    int64_t v = 0, seq = 0;
    gw_status st = gw_plan_rollback(s, n, who, &v, &seq);
    if (st) return fail(req, s, st);
    settle(req, seq);
    gw_req_respond_json(req, 200,
                        json_pack("{sI sI sI}", "rolled_back_to", (json_int_t)n, "version",
                                  (json_int_t)v, "seq", (json_int_t)seq));
    return 0;
}

/* ---- layout import ------------------------------------------------------------------------- */

/* The file extension GDAL should see for an uploaded layout: from ?format= or Content-Type. */
static const char *layout_ext(gw_req *req)
{
    static const struct {
        const char *name, *ext;
    } fmts[] = {{"geojson", ".geojson"}, {"json", ".geojson"}, {"gpkg", ".gpkg"},
                {"geopackage", ".gpkg"}, {"zip", ".zip"},      {"shp", ".zip"},
                {"shapefile", ".zip"},   {"dxf", ".dxf"}};
    static const struct {
        const char *type, *ext;
    } types[] = {{"application/geo+json", ".geojson"},
                 {"application/json", ".geojson"},
                 {"application/geopackage+sqlite3", ".gpkg"},
                 {"application/zip", ".zip"},
                 {"application/x-zip-compressed", ".zip"},
                 {"image/vnd.dxf", ".dxf"},
                 {"application/dxf", ".dxf"}};
    const char *f = gw_req_query(req, "format");
    if (f) {
        for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
            if (strcasecmp(f, fmts[i].name) == 0) return fmts[i].ext;
        return NULL;
    }
    const char *ct = gw_req_header(req, "Content-Type");
    size_t n = ct ? strcspn(ct, "; ") : 0;
    for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == n && strncasecmp(ct, types[i].type, n) == 0)
            return types[i].ext;
    return NULL;
}

/* The engine's message with the temporary file's path replaced by "the uploaded file". */
static void upload_problem(gw_req *req, unsigned status, gw_store *s, const char *tmp)
{
    const char *m = gw_ctx_errmsg(gw_store_ctx(s));
    gw_buf b = {0};
    size_t tl = strlen(tmp);
    for (const char *p = m; *p;) {
        const char *hit = strstr(p, tmp);
        if (!hit) {
            gw_buf_add(&b, p, strlen(p));
            break;
        }
        gw_buf_add(&b, p, (size_t)(hit - p));
        gw_buf_add(&b, "the uploaded file", 17);
        p = hit + tl;
    }
    gw_buf_add(&b, "", 0);
    gw_req_problem(req, status, NULL, "layout import refused: %s", b.data ? b.data : m);
    gw_buf_free(&b);
}

static int h_import(gw_req *req)
{
    if (gw_plan_whole_city_only(req, "an import replaces the draft's whole grid set")) return 0;
    gw_store *s = gw_req_write_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    gw_plan_draft d; /* first, so that a 404 below can only mean the draft */
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return fail(req, s, st);
    const char *ext = layout_ext(req);
    if (!ext) {
        gw_req_problem(req, 415, NULL,
                       "send the layout as application/geo+json, "
                       "application/geopackage+sqlite3, application/zip (a zipped Shapefile) or "
                       "image/vnd.dxf, or name it with ?format=geojson|gpkg|zip|dxf");
        return 0;
    }
    size_t len = 0;
    const char *body = gw_req_body(req, &len);
    if (!body || len == 0) {
        gw_req_problem(req, 400, NULL, "the request body is empty: send the layout file");
        return 0;
    }
    /* a private temporary file (mode 0600), removed before answering */
    const char *td = getenv("TMPDIR");
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s/gw-layout-XXXXXX%s", td && *td ? td : P_tmpdir, ext);
    int fd = mkstemps(tmp, (int)strlen(ext));
    if (fd < 0) {
        gw_req_problem(req, 503, NULL, "cannot store the upload: %s", strerror(errno));
        return 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t k = write(fd, body + done, len - done);
        if (k <= 0) break;
        done += (size_t)k;
    }
    int wrote = close(fd) == 0 && done == len;
    if (!wrote) {
        unlink(tmp);
        gw_req_problem(req, 503, NULL, "cannot store the upload");
        return 0;
    }
    char who[128];
    gw_auth_request_who(req, who, sizeof who);
    size_t n = 0;
    st = gw_plan_draft_import_upload(s, id, tmp, gw_req_query(req, "map"), who, &n);
    if (st) {
        /* the file's problems (format, a missing field, geometry, CRS) are the client's: 400 */
        unsigned code = st == GW_ERR_CONFLICT ? 409
                        : st == GW_ERR_NOMEM  ? 503
                        : st == GW_ERR_DB     ? 500
                                              : 400;
        upload_problem(req, code, s, tmp);
        unlink(tmp);
        return 0;
    }
    unlink(tmp);
    gw_plan_report r = {0};
    if ((st = gw_plan_validate_draft(s, id, NULL, &r))) return fail(req, s, st);
    json_t *rep = json_loads(r.geojson, 0, NULL);
    json_t *doc = json_pack("{sI sI sO}", "draft", (json_int_t)id, "grids", (json_int_t)n,
                            "validation", json_object_get(rep, "summary"));
    json_decref(rep);
    gw_plan_report_free(&r);
    gw_req_respond_json(req, 200, doc);
    return 0;
}

/* ---- validation as a tile layer ------------------------------------------------------------ */

/* The issues of a draft's validation report in EPSG:3857, kept per draft state (the key names
 * the database, the draft, its edit count and time and the grids' last change) so that tiles
 * of one state share one validation. */
typedef struct vissue {
    GEOSGeometry *g;
    gw_bbox box;
    char kind[16], grids[200];
    double area;
} vissue;

typedef struct vcache {
    char key[1400];
    vissue *v;
    size_t n;
    unsigned used;
} vcache;

#define VCACHE 4
static vcache vcaches[VCACHE];
static unsigned vtick;
static pthread_mutex_t vlock = PTHREAD_MUTEX_INITIALIZER;

static int to_merc(double *x, double *y, void *user)
{
    (void)user;
    gw_tile_lonlat_to_merc(*x, *y, x, y);
    return 1;
}

static void vcache_clear(GEOSContextHandle_t h, vcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].g) GEOSGeom_destroy_r(h, c->v[i].g);
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* Fill c from the validation report's GeoJSON. */
static gw_status vcache_fill(gw_ctx *ctx, vcache *c, const char *geojson)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    json_t *doc = json_loads(geojson, 0, NULL);
    json_t *fs = json_object_get(doc, "features");
    GEOSGeoJSONReader *rd = GEOSGeoJSONReader_create_r(h);
    c->v = calloc(json_array_size(fs) + 1, sizeof *c->v);
    if (!doc || !rd || !c->v) {
        json_decref(doc);
        if (rd) GEOSGeoJSONReader_destroy_r(h, rd);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    size_t i;
    json_t *f;
    json_array_foreach (fs, i, f) {
        json_t *pr = json_object_get(f, "properties"), *geom = json_object_get(f, "geometry");
        if (!json_is_object(geom)) continue;
        char *t = json_dumps(geom, JSON_COMPACT);
        GEOSGeometry *ll = t ? GEOSGeoJSONReader_readGeometry_r(h, rd, t) : NULL;
        free(t);
        GEOSGeometry *m = ll ? GEOSGeom_transformXY_r(h, ll, to_merc, NULL) : NULL;
        if (ll) GEOSGeom_destroy_r(h, ll);
        if (!m) continue;
        vissue *v = &c->v[c->n++];
        v->g = m;
        GEOSGeom_getExtent_r(h, m, &v->box.minx, &v->box.miny, &v->box.maxx, &v->box.maxy);
        snprintf(v->kind, sizeof v->kind, "%s", json_string_value(json_object_get(pr, "issue")));
        v->area = json_number_value(json_object_get(pr, "area_m2"));
        json_t *gs = json_object_get(pr, "grids");
        const char *one = json_string_value(json_object_get(pr, "grid"));
        if (one) snprintf(v->grids, sizeof v->grids, "%s", one);
        size_t k;
        json_t *g;
        json_array_foreach (gs, k, g) {
            size_t l = strlen(v->grids);
            snprintf(v->grids + l, sizeof v->grids - l, "%s%s", l ? "," : "", json_string_value(g));
        }
    }
    GEOSGeoJSONReader_destroy_r(h, rd);
    json_decref(doc);
    return GW_OK;
}

static int h_validation_tile(gw_req *req)
{
    if (gw_plan_whole_city_only(
            req,
            "a validation report covers the whole layout (gaps, overlaps and grids outside, across every border)"))
        return 0;
    gw_store *s = gw_req_store(req);
    gw_ctx *ctx = s ? gw_req_ctx(req) : NULL;
    int64_t id = ctx ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    const char *y = gw_req_param(req, "y");
    size_t yl = strlen(y);
    char zxy[128];
    gw_tile_id t;
    int n = yl > 4 && strcmp(y + yl - 4, ".mvt") == 0
                ? snprintf(zxy, sizeof zxy, "%s/%s/%.*s", gw_req_param(req, "z"),
                           gw_req_param(req, "x"), (int)(yl - 4), y)
                : -1;
    if (n <= 0 || (size_t)n >= sizeof zxy || gw_tile_parse(ctx, zxy, (size_t)n, &t) != GW_OK) {
        gw_req_problem(req, 404, NULL,
                       "no tile '%s/%s/%s': expected {z}/{x}/{y}.mvt inside the "
                       "pyramid",
                       gw_req_param(req, "z"), gw_req_param(req, "x"), y);
        return 0;
    }
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return fail(req, s, st);
    int64_t seq = 0;
    if (gw_store_changes_last(s, "grids", &seq)) gw_ctx_clear_error(ctx);
    char key[1400];
    snprintf(key, sizeof key, "%s|%lld|%s|%lld|%s|%lld", gw_store_path(s), (long long)id,
             d.created_at, (long long)d.edits, d.updated_at, (long long)seq);
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    gw_mvt *mvt = NULL;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    pthread_mutex_lock(&vlock); /* held while validating: tiles of one state wait for it */
    vcache *c = NULL, *old = &vcaches[0];
    for (int i = 0; i < VCACHE; i++) {
        if (strcmp(vcaches[i].key, key) == 0) c = &vcaches[i];
        if (vcaches[i].used < old->used) old = &vcaches[i];
    }
    if (!c) {
        gw_plan_report r = {0};
        st = gw_plan_validate_draft(s, id, NULL, &r);
        c = old;
        vcache_clear(h, c);
        if (!st) st = vcache_fill(ctx, c, r.geojson);
        if (!st) snprintf(c->key, sizeof c->key, "%s", key);
        else vcache_clear(h, c);
        gw_plan_report_free(&r);
    }
    c->used = ++vtick;
    if (!st) st = gw_mvt_create(ctx, t, NULL, &mvt);
    if (!st) st = gw_mvt_add_layer(mvt, "plan_validation", 0);
    gw_bbox tb = gw_tile_bounds_buffered(t, 4096, 64);
    for (size_t i = 0; !st && i < c->n; i++) {
        const vissue *v = &c->v[i];
        if (v->box.minx > tb.maxx || v->box.maxx < tb.minx || v->box.miny > tb.maxy ||
            v->box.maxy < tb.miny)
            continue;
        gw_mvt_prop pr[3] = {{"issue", {.type = GW_MVT_STRING, .u.s = v->kind}},
                             {"grids",
                              {.type = GW_MVT_STRING, .u.s = v->grids[0] ? v->grids : NULL}},
                             {"area_m2", {.type = GW_MVT_DOUBLE, .u.d = v->area}}};
        st = gw_mvt_add_feature(mvt, i + 1, true, v->g, pr, 3, NULL);
    }
    if (!st) st = gw_mvt_finish(mvt, &bytes, &len);
    pthread_mutex_unlock(&vlock);
    if (st) {
        gw_mvt_destroy(mvt);
        return fail(req, s, st);
    }
    gw_req_add_header(req, "Cache-Control", "no-cache");
    if (len == 0) gw_req_respond(req, 204, NULL, "", 0);
    else gw_req_respond(req, 200, "application/vnd.mapbox-vector-tile", (const char *)bytes, len);
    gw_mvt_destroy(mvt);
    return 0;
}

/* POST /plan/drafts/{id}/suggest?target=incidents|population&max_cv=0.5&max_edits=50: a NEW
 * draft edited toward an even workload (geo/plan_suggest.c).  The issue writes the form as a
 * GET; it is served as POST only, because it creates a draft and edits it. */
static int h_suggest(gw_req *req)
{
    if (gw_plan_whole_city_only(req, "a suggestion reworks grids anywhere in the draft")) return 0;
    gw_store *s = gw_req_write_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    gw_plan_suggest_opts o = {.target = "incidents", .max_cv = 0.5, .max_edits = 50};
    const char *t = gw_req_query(req, "target"), *cv = gw_req_query(req, "max_cv"),
               *me = gw_req_query(req, "max_edits"), *mc = gw_req_query(req, "min_compactness");
    int64_t edits = 0;
    if (t) o.target = t;
    if (strcmp(o.target, "incidents") != 0 && strcmp(o.target, "population") != 0)
        return gw_req_problem(req, 400, NULL, "target must be incidents or population, not '%s'",
                              o.target),
               0;
    if (cv && (gw_parse_double(cv, &o.max_cv) != 0 || !(o.max_cv >= 0)))
        return gw_req_problem(req, 400, NULL, "max_cv must be a number >= 0, not '%s'", cv), 0;
    if (me && (gw_parse_int64(me, &edits) != 0 || edits < 1 || edits > 100000))
        return gw_req_problem(req, 400, NULL,
                              "max_edits must be an integer 1 to 100000, not "
                              "'%s'",
                              me),
               0;
    if (me) o.max_edits = (int)edits;
    if (mc && (gw_parse_double(mc, &o.min_compactness) != 0 || !(o.min_compactness >= 0) ||
               o.min_compactness >= 1))
        return gw_req_problem(req, 400, NULL,
                              "min_compactness must be a number in [0, 1), not "
                              "'%s'",
                              mc),
               0;
    char who[128], *js = NULL;
    gw_auth_request_who(req, who, sizeof who);
    o.who = who;
    gw_status st = gw_plan_suggest(s, id, &o, &js);
    if (st) return fail(req, s, st);
    json_t *doc = json_loads(js, 0, NULL);
    char loc[64];
    snprintf(loc, sizeof loc, "/plan/drafts/%lld",
             (long long)json_integer_value(json_object_get(doc, "draft")));
    json_decref(doc);
    gw_req_add_header(req, "Location", loc);
    return respond_text(req, 201, js);
}

/* GET /plan/drafts/{id}/grids?bbox=…&changed=true: the draft's effective grids for the page's
 * planner mode (GeoJSON, "changed" marks the draft's own grids). */
static int h_draft_grids(gw_req *req)
{
    gw_store *s = gw_req_store(req);
    int64_t id = s ? path_int(req, "id") : -1;
    if (id < 0) return 0;
    gw_bbox bb;
    char why[160];
    const char *b = gw_req_query(req, "bbox"), *c = gw_req_query(req, "changed");
    if (b && gw_parse_bbox(b, &bb, why, sizeof why)) {
        gw_req_problem(req, 400, NULL, "parameter 'bbox': %s", why);
        return 0;
    }
    if (c && strcmp(c, "true") != 0 && strcmp(c, "false") != 0 && strcmp(c, "1") != 0 &&
        strcmp(c, "0") != 0) {
        gw_req_problem(req, 400, NULL, "parameter 'changed' must be true or false, not '%s'", c);
        return 0;
    }
    char *js = NULL;
    gw_status st = gw_plan_draft_grids(s, id, b ? &bb : NULL, c && (c[0] == 't' || c[0] == '1'),
                                       &js);
    if (st) return fail(req, s, st);
    gw_scope *sc = NULL; /* a scoped planner: the draft's grids in its jurisdiction */
    if (gw_plan_draft_scope(req, s, id, 0, &sc)) {
        free(js);
        return 0;
    }
    if (sc) {
        char *f = gw_plan_grids_within(sc, js);
        gw_scope_release(sc);
        free(js);
        if (!f) {
            gw_req_problem(req, 503, NULL, "out of memory filtering the draft's grids");
            return 0;
        }
        js = f;
    }
    gw_req_respond(req, 200, "application/geo+json", js, strlen(js));
    free(js);
    return 0;
}

static const gw_route routes[] = {
    {"POST", "/plan/drafts", h_create, GW_ROLE_PLANNER, "plan_draft_create"},
    {"GET", "/plan/drafts", h_list, GW_ROLE_VIEWER, "plan_drafts"},
    {"GET", "/plan/drafts/{id}", h_get, GW_ROLE_VIEWER, "plan_draft"},
    {"DELETE", "/plan/drafts/{id}", h_delete, GW_ROLE_PLANNER, "plan_draft_delete"},
    {"GET", "/plan/drafts/{id}/diff", h_diff, GW_ROLE_VIEWER, "plan_diff"},
    {"POST", "/plan/drafts/{id}/edits", h_edit, GW_ROLE_PLANNER, "plan_edit"},
    {"GET", "/plan/drafts/{id}/validation", h_validate_draft, GW_ROLE_VIEWER, "plan_validation"},
    {"GET", "/plan/drafts/{id}/validation/tiles/{z}/{x}/{y}", h_validation_tile, GW_ROLE_VIEWER,
     "plan_validation_tile"},
    {"POST", "/plan/drafts/{id}/import", h_import, GW_ROLE_PLANNER, "plan_import"},
    {"GET", "/plan/drafts/{id}/balance", h_balance, GW_ROLE_VIEWER, "plan_balance"},
    {"GET", "/plan/drafts/{id}/grids", h_draft_grids, GW_ROLE_VIEWER, "plan_draft_grids"},
    {"POST", "/plan/drafts/{id}/publish", h_publish, GW_ROLE_PLANNER, "plan_publish"},
    {"GET", "/plan/versions", h_versions, GW_ROLE_VIEWER, "plan_versions"},
    {"GET", "/plan/versions/{n}/validation", h_validate_version, GW_ROLE_VIEWER,
     "plan_version_validation"},
    {"POST", "/plan/versions/{n}/rollback", h_rollback, GW_ROLE_PLANNER, "plan_rollback"},
    {"POST", "/plan/drafts/{id}/suggest", h_suggest, GW_ROLE_PLANNER, "plan_suggest"},
};

const gw_route *gw_plan_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
