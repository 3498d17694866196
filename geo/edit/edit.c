/* edit.c — single-feature writes (insert / replace / patch / delete) from GeoJSON, the engine
 * behind the HTTP write routes.  Each call is one transaction; every changed feature is logged.
 *
 * The geometry checks mirror geo/io.c's import checks (type per layer, coordinate range with a
 * lat/lon swap hint, GEOS validity with reason and location); io.c keeps them static, so small
 * equivalents live here.  Incident grid and police-room resolution is in edit_resolve.c. */
#include "edit_internal.h"
#include "gridwatch/geojson.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- setup --------------------------------------------------------------------------------- */

void gw_edit_result_free(gw_edit_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->ids[i]);
    free(r->ids);
    r->ids = NULL;
    r->n = 0;
}

static gw_status ed_init(ed *e, gw_store *s, gw_layer layer, const gw_edit_opts *o,
                         gw_edit_result *res)
{
    memset(e, 0, sizeof *e);
    if (!s || !res) return GW_ERR_ARG;
    memset(res, 0, sizeof *res);
    e->s = s;
    e->ctx = gw_store_ctx(s);
    e->h = gw_ctx_geos(e->ctx);
    e->res = res;
    e->layer = layer;
    e->lname = gw_layer_name(layer);
    if (!e->lname) return gw_ctx_error(e->ctx, GW_ERR_NOT_FOUND, "no such layer (%d)", (int)layer);
    e->f = gw_layer_fields(layer, &e->nf);
    if (e->nf > MAX_FIELDS) return gw_ctx_error(e->ctx, GW_ERR_INTERNAL, "too many fields");
    e->crs = o ? o->crs : (gw_crs){GW_CRS_EPSG, 4326};
    if (e->crs.kind == GW_CRS_EPSG && e->crs.epsg == 0) e->crs.epsg = 4326;
    e->latlon = o ? o->axis_latlon : 0;
    e->layout = o ? o->layout : 0;
    e->check = o ? o->check : NULL;
    e->check_user = o ? o->check_user : NULL;
    e->ix_grid = layer == GW_LAYER_INCIDENTS ? gw_layer_field_index(layer, "grid") : -1;
    e->ix_room = layer == GW_LAYER_INCIDENTS ? gw_layer_field_index(layer, "police_room") : -1;
    e->ix_auto = layer == GW_LAYER_TEAMS       ? gw_layer_field_index(layer, "updated_at")
                 : layer == GW_LAYER_INCIDENTS ? gw_layer_field_index(layer, "occurred_at")
                                               : -1;
    if (!(e->crs.kind == GW_CRS_EPSG && e->crs.epsg == 4326)) {
        gw_status st = gw_crs_transform_create(e->ctx, e->crs, (gw_crs){GW_CRS_EPSG, 4326}, &e->tr);
        if (st) return st;
    }
    e->rd = GEOSGeoJSONReader_create_r(e->h);
    e->wr = GEOSWKBWriter_create_r(e->h);
    if (!e->rd || !e->wr) return gw_ctx_error(e->ctx, GW_ERR_NOMEM, "out of memory");
    GEOSWKBWriter_setOutputDimension_r(e->h, e->wr, 2);
    char buf[32];
    e->gv = 1;
    if (layer == GW_LAYER_GRIDS || layer == GW_LAYER_INCIDENTS) {
        gw_status st = gw_store_meta_get(s, "grid_version", buf, sizeof buf);
        if (st == GW_OK) e->gv = atoll(buf) > 0 ? atoll(buf) : 1;
        else if (st != GW_ERR_NOT_FOUND) return st;
        gw_ctx_clear_error(e->ctx);
    }
    return GW_OK;
}

static void ed_free(ed *e)
{
    if (e->rd) GEOSGeoJSONReader_destroy_r(e->h, e->rd);
    if (e->wr) GEOSWKBWriter_destroy_r(e->h, e->wr);
    gw_crs_transform_destroy(e->tr);
}

static void feat_free(ed *e, feat *ft)
{
    if (ft->geom) GEOSGeom_destroy_r(e->h, ft->geom);
    ft->geom = NULL;
}

static void set_label(ed *e, feat *ft, int k)
{
    if (e->batch && ft->id)
        snprintf(ft->label, sizeof ft->label, "%s feature %d (id '%s')", e->lname, k + 1, ft->id);
    else if (e->batch) snprintf(ft->label, sizeof ft->label, "%s feature %d", e->lname, k + 1);
    else if (ft->id) snprintf(ft->label, sizeof ft->label, "%s '%s'", e->lname, ft->id);
    else snprintf(ft->label, sizeof ft->label, "%s feature", e->lname);
}

static gw_status load_json(ed *e, const char *text, size_t len, json_t **out)
{
    json_error_t err;
    *out = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES, &err);
    if (!*out)
        return gw_ctx_error_at(e->ctx, GW_ERR_FORMAT, (long)err.position,
                               "malformed JSON at line %d, column %d (byte %d): %s", err.line,
                               err.column, err.position, err.text);
    if (!json_is_object(*out)) {
        const char *kind = json_is_array(*out) ? "an array" : "a plain value";
        json_decref(*out);
        *out = NULL;
        return gw_ctx_error_at(e->ctx, GW_ERR_FORMAT, 0,
                               "expected a GeoJSON Feature or FeatureCollection object, got %s",
                               kind);
    }
    return GW_OK;
}

/* ---- properties ---------------------------------------------------------------------------- */

/* Range rules beyond the type (they mirror the schema's CHECK constraints). */
static gw_status check_range(ed *e, feat *ft, size_t i)
{
    const char *n = e->f[i].name;
    const gw_value *v = &ft->v[i];
    double d = v->kind == GW_VAL_INT ? (double)v->i : v->d;
    const char *why = NULL;
    if (v->kind == GW_VAL_NULL) return GW_OK;
    if (v->kind == GW_VAL_TEXT && gw_layer_juris_level(e->layer, n) && gw_juris_name_problem(v->s))
        return gw_ctx_error(e->ctx, GW_ERR_RANGE, "%s: property %s is '%.60s'; %s", ft->label, n,
                            v->s, gw_juris_name_problem(v->s));
    if (e->layer == GW_LAYER_INCIDENTS && strcmp(n, "severity") == 0 && (d < 1 || d > 5))
        why = "must be 1 to 5";
    else if (e->layer == GW_LAYER_CAMERAS && strcmp(n, "fov") == 0 && (d < 0 || d > 360))
        why = "must be 0 to 360 degrees";
    else if (e->layer == GW_LAYER_CAMERAS && strcmp(n, "azimuth") == 0 && (d < -360 || d > 360))
        why = "must be -360 to 360 degrees";
    else if ((strcmp(n, "range") == 0 || strcmp(n, "members") == 0 ||
              strcmp(n, "population") == 0 || strcmp(n, "households") == 0) &&
             d < 0)
        why = "must not be negative";
    else if (e->layer == GW_LAYER_CAMERAS && strcmp(n, "range") == 0 && d > GW_CAMERA_MAX_RANGE_M)
        why = "must be at most " GW_STR(GW_CAMERA_MAX_RANGE_M) " m (no camera of a street network "
                                                               "sees farther)";
    else if (strcmp(n, "status") == 0 && v->kind == GW_VAL_TEXT) {
        const char *const *ok = gw_layer_statuses(e->layer);
        size_t k = 0;
        while (ok && ok[k] && strcmp(ok[k], v->s) != 0) k++;
        if (ok && !ok[k]) {
            char list[128] = "";
            for (size_t j = 0; ok[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         j ? (ok[j + 1] ? ", " : " or ") : "", ok[j]);
            return gw_ctx_error(e->ctx, GW_ERR_RANGE,
                                "%s: property status is '%.60s'; it must be %s", ft->label, v->s,
                                list);
        }
    }
    if (why)
        return gw_ctx_error(e->ctx, GW_ERR_RANGE, "%s: property %s is %.15g; it %s", ft->label, n,
                            d, why);
    return GW_OK;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static gw_status set_value(ed *e, feat *ft, size_t i, json_t *j)
{
    gw_value *v = &ft->v[i];
    const gw_field *f = &e->f[i];
    *v = (gw_value){0};
    ft->given[i] = 1;
    if (json_is_null(j)) return GW_OK;
    const char *want = NULL;
    switch (f->type) {
    case GW_FT_TEXT:
        if (json_is_string(j)) *v = (gw_value){GW_VAL_TEXT, json_string_value(j), 0, 0};
        else want = "text (a JSON string)";
        break;
    case GW_FT_INT:
        if (json_is_integer(j)) {
            *v = (gw_value){GW_VAL_INT, NULL, json_integer_value(j), 0};
        } else if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)) &&
                   fabs(json_real_value(j)) < 9e15) {
            *v = (gw_value){GW_VAL_INT, NULL, (int64_t)json_real_value(j), 0};
        } else {
            want = "an integer";
        }
        break;
    case GW_FT_REAL:
        if (json_is_number(j)) *v = (gw_value){GW_VAL_REAL, NULL, 0, json_number_value(j)};
        else want = "a number";
        break;
    case GW_FT_TIME: {
        int64_t t;
        if (!json_is_string(j)) {
            want = "an ISO 8601 time string";
            break;
        }
        if (gw_time_parse(e->ctx, json_string_value(j), "UTC", &t) != GW_OK)
            return gw_ctx_error(e->ctx, GW_ERR_FORMAT,
                                "%s: property %s is '%s', not an ISO 8601 "
                                "time (e.g. 2025-01-01T13:05:00Z)",
                                ft->label, f->name, json_string_value(j));
        if (gw_time_check(e->ctx, f->name, t) != GW_OK)
            return gw_ctx_error(e->ctx, GW_ERR_RANGE,
                                "%s: property %s is '%s', outside the years 1900–2100 a "
                                "stored time must lie in",
                                ft->label, f->name, json_string_value(j));
        gw_time_format(t, ft->tbuf[i], sizeof ft->tbuf[i]);
        *v = (gw_value){GW_VAL_TEXT, ft->tbuf[i], 0, 0};
        break;
    }
    }
    if (want)
        return gw_ctx_error(e->ctx, GW_ERR_ARG, "%s: property %s must be %s or null, got %s",
                            ft->label, f->name, want, json_kind(j));
    return check_range(e, ft, i);
}

/* The id of a feature: "id" member and/or properties.id (string or integer). */
static gw_status read_id(ed *e, feat *ft, json_t *jf, json_t *props, int k)
{
    json_t *c[2] = {json_object_get(jf, "id"), props ? json_object_get(props, "id") : NULL};
    char tmp[ID_MAX];
    for (int i = 0; i < 2; i++) {
        json_t *j = c[i];
        if (!j || json_is_null(j)) continue;
        const char *s;
        if (json_is_string(j)) {
            s = json_string_value(j);
        } else if (json_is_integer(j)) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(j));
            s = tmp;
        } else {
            set_label(e, ft, k);
            return gw_ctx_error(e->ctx, GW_ERR_ARG, "%s: %s must be a string or an integer, got %s",
                                ft->label, i ? "properties.id" : "the feature id", json_kind(j));
        }
        if (!*s || strlen(s) >= ID_MAX) {
            set_label(e, ft, k);
            return gw_ctx_error(e->ctx, GW_ERR_ARG, "%s: the id must be 1 to %d bytes", ft->label,
                                ID_MAX - 1);
        }
        if (ft->id && strcmp(ft->id, s) != 0) {
            set_label(e, ft, k);
            return gw_ctx_error(e->ctx, GW_ERR_ARG,
                                "%s: properties.id '%s' contradicts the "
                                "feature id",
                                ft->label, s);
        }
        if (!ft->id) {
            snprintf(ft->idbuf, sizeof ft->idbuf, "%s", s);
            ft->id = ft->idbuf;
        }
    }
    set_label(e, ft, k);
    return GW_OK;
}

static gw_status read_props(ed *e, feat *ft, json_t *props)
{
    if (!props || json_is_null(props)) return GW_OK;
    if (!json_is_object(props))
        return gw_ctx_error(e->ctx, GW_ERR_ARG, "%s: properties must be an object, got %s",
                            ft->label, json_kind(props));
    char unknown[512] = "";
    size_t ul = 0;
    int nun = 0;
    const char *key;
    json_t *val;
    json_object_foreach (props, key, val) {
        if (strcmp(key, "id") == 0) continue;
        int i = gw_layer_field_index(e->layer, key);
        if (i < 0) {
            if (ul < sizeof unknown)
                ul += (size_t)snprintf(unknown + ul, sizeof unknown - ul, "%s'%s'", nun ? ", " : "",
                                       key);
            nun++;
            continue;
        }
        gw_status st = set_value(e, ft, (size_t)i, val);
        if (st) return st;
    }
    if (nun) {
        char known[512] = "";
        size_t kl = 0;
        for (size_t i = 1; i < e->nf && kl < sizeof known; i++)
            kl += (size_t)snprintf(known + kl, sizeof known - kl, "%s%s", i > 1 ? ", " : "",
                                   e->f[i].name);
        return gw_ctx_error(e->ctx, GW_ERR_ARG, "%s: unknown propert%s %s (the %s layer has: %s)",
                            ft->label, nun > 1 ? "ies" : "y", unknown, e->lname, known);
    }
    return GW_OK;
}

/* ---- geometry ------------------------------------------------------------------------------ */

static int swap_cb(double *x, double *y, void *user)
{
    double t = *x;
    *x = *y;
    *y = t;
    return 1;
}

static gw_status check_coords(ed *e, feat *ft)
{
    const gw_bbox *b = &ft->box;
    if (isfinite(b->minx) && isfinite(b->miny) && isfinite(b->maxx) && isfinite(b->maxy) &&
        b->minx >= -180 && b->maxx <= 180 && b->miny >= -90 && b->maxy <= 90)
        return GW_OK;
    double ax = fmax(fabs(b->minx), fabs(b->maxx)), ay = fmax(fabs(b->miny), fabs(b->maxy));
    const char *hint = "";
    if (ax <= 90 && ay <= 180)
        hint = e->latlon ? "; it looks like lon/lat order, but this CRS takes [lat, lon]"
                         : "; it looks like lat/lon order: GeoJSON takes [lon, lat]";
    else if (ax > 360 || ay > 360)
        hint =
            "; projected coordinates? give the CRS (crs=http://www.opengis.net/def/crs/EPSG/0/3857 "
            "or a Content-Crs header)";
    double x = !(b->minx >= -180) ? b->minx : b->maxx, y = !(b->miny >= -90) ? b->miny : b->maxy;
    return gw_ctx_error(e->ctx, GW_ERR_RANGE,
                        "%s: coordinates out of range (lon %.9g, lat %.9g "
                        "in EPSG:4326): lon must be within [-180, 180] and lat within [-90, 90]%s",
                        ft->label, x, y, hint);
}

static gw_status read_geom(ed *e, feat *ft, json_t *jf)
{
    json_t *g = json_object_get(jf, "geometry");
    ft->geom_member = g != NULL;
    if (!g || json_is_null(g)) return GW_OK;
    if (!json_is_object(g))
        return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY,
                            "%s: geometry must be a GeoJSON geometry "
                            "object, got %s",
                            ft->label, json_kind(g));
    const char *want = e->layer == GW_LAYER_GRIDS ? "Polygon or MultiPolygon" : "Point";
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type ||
        (e->layer == GW_LAYER_GRIDS ? strcmp(type, "Polygon") && strcmp(type, "MultiPolygon")
                                    : strcmp(type, "Point")))
        return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: the %s layer takes %s geometries, got %s",
                            ft->label, e->lname, want, type ? type : "a geometry without a type");
    GEOSGeometry *gg = NULL;
    const char *why = NULL;
    gw_status rst = gw_geojson_geometry_read(e->ctx, e->rd, g, &gg, &why);
    if (rst == GW_ERR_NOMEM) return gw_ctx_error(e->ctx, GW_ERR_NOMEM, "out of memory");
    if (rst)
        return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: unreadable %s geometry: %s", ft->label,
                            type, why);
    ft->geom = gg;
    gw_status st = gw_geom_check(e->ctx, ft->label, gg, 0);
    if (st) return st;
    if (GEOSisEmpty_r(e->h, gg) != 0)
        return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: empty %s geometry", ft->label, type);
    if (e->latlon) {
        GEOSGeometry *t = GEOSGeom_transformXY_r(e->h, gg, swap_cb, NULL);
        if (!t)
            return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: %s", ft->label,
                                gw_ctx_geos_errmsg(e->ctx));
        GEOSGeom_destroy_r(e->h, gg);
        ft->geom = gg = t;
    }
    if (e->tr) {
        GEOSGeometry *t = gw_crs_transform_geom(e->tr, gg);
        if (!t) {
            gw_status code = gw_ctx_errcode(e->ctx) ? gw_ctx_errcode(e->ctx) : GW_ERR_CRS;
            char msg[512];
            snprintf(msg, sizeof msg, "%s", gw_ctx_errmsg(e->ctx));
            return gw_ctx_error(e->ctx, code, "%s: cannot convert the geometry to EPSG:4326: %s",
                                ft->label, msg);
        }
        GEOSGeom_destroy_r(e->h, gg);
        ft->geom = gg = t;
    }
    GEOSGeom_getXMin_r(e->h, gg, &ft->box.minx);
    GEOSGeom_getYMin_r(e->h, gg, &ft->box.miny);
    GEOSGeom_getXMax_r(e->h, gg, &ft->box.maxx);
    GEOSGeom_getYMax_r(e->h, gg, &ft->box.maxy);
    st = check_coords(e, ft);
    if (st || e->layer != GW_LAYER_GRIDS) return st;
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    if (GEOSisValidDetail_r(e->h, gg, 0, &reason, &loc) != 1) {
        double lx = NAN, ly = NAN;
        if (loc) {
            GEOSGeomGetX_r(e->h, loc, &lx);
            GEOSGeomGetY_r(e->h, loc, &ly);
            GEOSGeom_destroy_r(e->h, loc);
        }
        st = gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: invalid polygon: %s at or near (%.9g %.9g)",
                          ft->label, reason ? reason : gw_ctx_geos_errmsg(e->ctx), lx, ly);
        if (reason) GEOSFree_r(e->h, reason);
    }
    return st;
}

/* Parse one feature of the input. */
static gw_status read_feature(ed *e, feat *ft, json_t *jf, int k, enum mode mode)
{
    memset(ft, 0, sizeof *ft);
    if (!json_is_object(jf)) {
        set_label(e, ft, k);
        return gw_ctx_error(e->ctx, GW_ERR_FORMAT, "%s: expected a GeoJSON Feature object, got %s",
                            ft->label, json_kind(jf));
    }
    json_t *props = json_object_get(jf, "properties");
    gw_status st = read_id(e, ft, jf, json_is_object(props) ? props : NULL, k);
    if (st) return st;
    const char *type = json_string_value(json_object_get(jf, "type"));
    if (json_object_get(jf, "type") && (!type || strcmp(type, "Feature") != 0))
        return gw_ctx_error(e->ctx, GW_ERR_FORMAT, "%s: expected a GeoJSON Feature, got type '%s'",
                            ft->label, type ? type : "(not a string)");
    if ((st = read_props(e, ft, props))) return st;
    if ((st = read_geom(e, ft, jf))) return st;
    if (!ft->geom && (mode != M_PATCH || ft->geom_member))
        return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: a %s geometry is required", ft->label,
                            e->layer == GW_LAYER_GRIDS ? "Polygon or MultiPolygon" : "Point");
    return GW_OK;
}

/* ---- SQL ----------------------------------------------------------------------------------- */

/* Look up a feature: *found, and its bbox. */
static gw_status lookup(ed *e, const char *id, int *found, gw_bbox *box)
{
    return gw_store_edit_lookup(e->s, e->layer, e->gv, id, found, box);
}

/* The store's row for ft: the values, the geometry (WKB for grids, owned by *wkb). */
static gw_status store_row(ed *e, feat *ft, const unsigned char *given, gw_store_edit_row *r,
                           unsigned char **wkb)
{
    *r = (gw_store_edit_row){.label = ft->label, .id = ft->id, .values = ft->v, .given = given};
    *wkb = NULL;
    if (!ft->geom) return GW_OK;
    r->has_geom = 1;
    if (e->layer == GW_LAYER_GRIDS) {
        *wkb = GEOSWKBWriter_write_r(e->h, e->wr, ft->geom, &r->wkb_len);
        if (!*wkb)
            return gw_ctx_error(e->ctx, GW_ERR_GEOMETRY, "%s: %s", ft->label,
                                gw_ctx_geos_errmsg(e->ctx));
        r->wkb = *wkb;
    } else {
        GEOSGeomGetX_r(e->h, ft->geom, &r->x);
        GEOSGeomGetY_r(e->h, ft->geom, &r->y);
    }
    return GW_OK;
}

static gw_status do_insert(ed *e, feat *ft)
{
    gw_store_edit_row r;
    unsigned char *wkb;
    gw_status st = store_row(e, ft, NULL, &r, &wkb);
    if (!st) st = gw_store_edit_insert(e->s, e->layer, e->gv, &r);
    if (wkb) GEOSFree_r(e->h, wkb);
    return st;
}

/* UPDATE the given columns (all of them for a replace) and the geometry when one was given. */
static gw_status do_update(ed *e, feat *ft, int all)
{
    gw_store_edit_row r;
    unsigned char *wkb;
    gw_status st = store_row(e, ft, all ? NULL : ft->given, &r, &wkb);
    if (!st) st = gw_store_edit_update(e->s, e->layer, e->gv, &r);
    if (wkb) GEOSFree_r(e->h, wkb);
    return st;
}

static gw_status do_delete(ed *e, const char *id)
{
    return gw_store_edit_delete(e->s, e->layer, e->gv, id);
}

static gw_status push_id(ed *e, const char *id)
{
    char **n = realloc(e->res->ids, (e->res->n + 1) * sizeof *n);
    if (!n) return gw_ctx_error(e->ctx, GW_ERR_NOMEM, "out of memory");
    e->res->ids = n;
    if (!(n[e->res->n] = strdup(id))) return gw_ctx_error(e->ctx, GW_ERR_NOMEM, "out of memory");
    e->res->n++;
    return GW_OK;
}

static gw_status log_change(ed *e, const char *op, const char *id, const gw_bbox *a, int has_a,
                            const gw_bbox *b, int has_b)
{
    gw_bbox box = has_a ? *a : *b;
    if (has_a && has_b)
        box = (gw_bbox){fmin(a->minx, b->minx), fmin(a->miny, b->miny), fmax(a->maxx, b->maxx),
                        fmax(a->maxy, b->maxy)};
    gw_status st = gw_store_log_change(e->s, e->layer, op, id, has_a || has_b ? &box : NULL,
                                       &e->res->seq);
    return st ? st : push_id(e, id);
}

/* A random UUID (version 4) as the id of a feature inserted without one. */
static gw_status new_id(ed *e, feat *ft)
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return gw_ctx_error(e->ctx, GW_ERR_IO, "getrandom failed: cannot generate an id");
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    size_t u = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) ft->idbuf[u++] = '-';
        u += (size_t)snprintf(ft->idbuf + u, sizeof ft->idbuf - u, "%02x", r[i]);
    }
    ft->id = ft->idbuf;
    return GW_OK;
}

/* Fill the automatic time (teams.updated_at on every write, incidents.occurred_at on insert). */
static void auto_time(ed *e, feat *ft, enum mode mode)
{
    if (e->ix_auto < 0 || ft->given[e->ix_auto]) return;
    if (e->layer == GW_LAYER_INCIDENTS && mode != M_INSERT) return;
    gw_time_format((int64_t)time(NULL), ft->tbuf[e->ix_auto], sizeof ft->tbuf[e->ix_auto]);
    ft->v[e->ix_auto] = (gw_value){GW_VAL_TEXT, ft->tbuf[e->ix_auto], 0, 0};
    ft->given[e->ix_auto] = 1;
}

/* ---- the operations ------------------------------------------------------------------------ */

/* Grid boundaries are the layout: adding, reshaping or removing one here would bypass the
 * planning rules (the grids must tile the area without overlaps or gaps, and each published
 * version is a whole layout).  They change in a plan draft; here only a grid's properties. */
static gw_status layout_rule(ed *e, const char *label, const char *what)
{
    return gw_ctx_error(e->ctx, GW_ERR_CONFLICT,
                        "%s: %s would change the grid layout outside planning; grid boundaries "
                        "are redrawn in a plan draft (POST /plan/drafts or gridwatch plan: edit, "
                        "validate, publish), which keeps the grids tiling the area; a PATCH "
                        "without a geometry may change a grid's properties",
                        label, what);
}

static gw_status insert_one(ed *e, json_t *jf, int k)
{
    feat ft;
    gw_status st = read_feature(e, &ft, jf, k, M_INSERT);
    if (!st && e->layer == GW_LAYER_GRIDS && !e->layout)
        st = layout_rule(e, ft.label, "adding a grid");
    int found = 0;
    gw_bbox old;
    if (!st && !ft.id && !(st = new_id(e, &ft))) set_label(e, &ft, k);
    if (!st) st = lookup(e, ft.id, &found, &old);
    if (!st && found)
        st = gw_ctx_error(e->ctx, GW_ERR_CONFLICT,
                          "%s: id '%s' exists already (use PUT or PATCH "
                          "to change it)",
                          ft.label, ft.id);
    auto_time(e, &ft, M_INSERT);
    if (!st) st = edit_resolve_incident(e, &ft);
    if (!st) st = do_insert(e, &ft);
    if (!st) st = log_change(e, "insert", ft.id, NULL, 0, &ft.box, 1);
    feat_free(e, &ft);
    return st;
}

static gw_status finish(ed *e, gw_status st)
{
    for (size_t i = 0; !st && e->check && i < e->res->n; i++)
        if (e->check(e->check_user, e->s, e->layer, e->res->ids[i]))
            st = gw_ctx_error(e->ctx, GW_ERR_CONFLICT, "%s '%s': refused by the caller's check",
                              e->lname, e->res->ids[i]);
    if (!st) st = gw_store_commit(e->s);
    if (st) {
        gw_store_rollback(e->s);
        gw_edit_result_free(e->res);
        e->res->seq = 0;
    }
    ed_free(e);
    return st;
}

gw_status gw_edit_insert(gw_store *store, gw_layer layer, const char *json, size_t len,
                         const gw_edit_opts *opts, gw_edit_result *out)
{
    ed e;
    json_t *doc = NULL;
    gw_status st = ed_init(&e, store, layer, opts, out);
    if (!st) st = load_json(&e, json, len, &doc);
    if (st) {
        ed_free(&e);
        return st;
    }
    if ((st = gw_store_begin(store))) {
        json_decref(doc);
        ed_free(&e);
        return st;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type && strcmp(type, "FeatureCollection") == 0) {
        json_t *fs = json_object_get(doc, "features");
        e.batch = 1;
        if (!json_is_array(fs))
            st = gw_ctx_error(e.ctx, GW_ERR_FORMAT,
                              "a FeatureCollection needs a \"features\" array");
        else if (json_array_size(fs) == 0)
            st = gw_ctx_error(e.ctx, GW_ERR_ARG, "the FeatureCollection has no features");
        for (size_t i = 0; !st && i < json_array_size(fs); i++)
            st = insert_one(&e, json_array_get(fs, i), (int)i);
    } else {
        st = insert_one(&e, doc, 0);
    }
    json_decref(doc);
    return finish(&e, st);
}

/* Replace (all = 1) or patch (all = 0) one feature. */
static gw_status change(gw_store *store, gw_layer layer, const char *id, const char *json,
                        size_t len, const gw_edit_opts *opts, gw_edit_result *out, enum mode mode)
{
    ed e;
    json_t *doc = NULL;
    feat ft;
    memset(&ft, 0, sizeof ft);
    gw_status st = ed_init(&e, store, layer, opts, out);
    if (!st && (!id || !*id)) st = gw_ctx_error(e.ctx, GW_ERR_ARG, "no feature id given");
    if (!st) st = load_json(&e, json, len, &doc);
    if (!st) {
        const char *type = json_string_value(json_object_get(doc, "type"));
        if (type && strcmp(type, "FeatureCollection") == 0)
            st = gw_ctx_error(e.ctx, GW_ERR_ARG,
                              "%s '%s': expected one Feature, got a "
                              "FeatureCollection (POST to the items to add several)",
                              e.lname, id);
    }
    if (!st) st = read_feature(&e, &ft, doc, 0, mode);
    if (!st && layer == GW_LAYER_GRIDS && ft.geom_member && !e.layout)
        st = layout_rule(&e, e.lname, "a new boundary");
    if (!st && ft.id && strcmp(ft.id, id) != 0)
        st = gw_ctx_error(e.ctx, GW_ERR_ARG,
                          "%s: the body's id '%s' differs from the id in the "
                          "path ('%s'); ids cannot be changed",
                          e.lname, ft.id, id);
    if (!st) {
        snprintf(ft.idbuf, sizeof ft.idbuf, "%s", id);
        ft.id = ft.idbuf;
        set_label(&e, &ft, 0);
    }
    if (st) {
        feat_free(&e, &ft);
        json_decref(doc);
        ed_free(&e);
        return st;
    }
    int found = 0;
    gw_bbox old;
    st = gw_store_begin(store);
    if (!st) st = lookup(&e, id, &found, &old);
    if (!st && !found)
        st = gw_ctx_error(e.ctx, GW_ERR_NOT_FOUND, "%s: no feature with id '%s'%s", e.lname, id,
                          layer == GW_LAYER_GRIDS ? " in the published grid version" : "");
    auto_time(&e, &ft, mode);
    if (!st) st = edit_resolve_incident(&e, &ft);
    if (!st) st = do_update(&e, &ft, mode == M_REPLACE);
    if (!st) st = log_change(&e, "update", id, &old, 1, &ft.box, ft.geom != NULL);
    feat_free(&e, &ft);
    json_decref(doc);
    return finish(&e, st);
}

gw_status gw_edit_replace(gw_store *store, gw_layer layer, const char *id, const char *json,
                          size_t len, const gw_edit_opts *opts, gw_edit_result *out)
{
    return change(store, layer, id, json, len, opts, out, M_REPLACE);
}

gw_status gw_edit_patch(gw_store *store, gw_layer layer, const char *id, const char *json,
                        size_t len, const gw_edit_opts *opts, gw_edit_result *out)
{
    return change(store, layer, id, json, len, opts, out, M_PATCH);
}

gw_status gw_edit_delete(gw_store *store, gw_layer layer, const char *id, const gw_edit_opts *opts,
                         gw_edit_result *out)
{
    ed e;
    gw_status st = ed_init(&e, store, layer, opts, out);
    if (!st && (!id || !*id)) st = gw_ctx_error(e.ctx, GW_ERR_ARG, "no feature id given");
    if (st) {
        ed_free(&e);
        return st;
    }
    int found = 0;
    gw_bbox old;
    st = gw_store_begin(store);
    if (!st) st = lookup(&e, id, &found, &old);
    if (!st && !found)
        st = gw_ctx_error(e.ctx, GW_ERR_NOT_FOUND, "%s: no feature with id '%s'%s", e.lname, id,
                          layer == GW_LAYER_GRIDS ? " in the published grid version" : "");
    if (!st && layer == GW_LAYER_GRIDS && !e.layout)
        st = layout_rule(&e, e.lname, "removing a grid");
    if (!st) st = do_delete(&e, id);
    if (!st) st = log_change(&e, "delete", id, &old, 1, NULL, 0);
    return finish(&e, st);
}
