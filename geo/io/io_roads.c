/* io_roads.c — `gridwatch import DB roads FILE` (io.h, gw_io_import_roads): street centre
 * lines into the road layer (store_roads.h) in one transaction.  OpenStreetMap PBF/XML through
 * GDAL's OSM driver (its `lines` layer: `highway` for the class, vehicles' classes only,
 * `oneway`, `junction`, `maxspeed` from other_tags, geo/road/road_tags.c), or any line layer
 * (Shapefile, GeoPackage, GeoJSON) with a field map: --map id=…,name=…,class=…,oneway=…,speed=…
 * (oneway values yes/no/1/0/-1/true/false/reverse and the F/T/B of Geofabrik's shapefiles).
 * MultiLineStrings become one road per part ("id#2" …).  The roads import lives apart from
 * io.c because roads are not one of the five feature layers. */
#include "io_internal.h"

#include "gridwatch/road.h"
#include "gridwatch/store_roads.h"

#include <inttypes.h>

#define BATCH 2000
enum { F_ID, F_NAME, F_CLASS, F_ONEWAY, F_SPEED, F_COUNT };
static const char *const canon[F_COUNT] = {"id", "name", "class", "oneway", "speed"};

typedef struct rimp {
    gw_ctx *ctx;
    gw_store *store;
    const gw_import_opts *o;
    GDALDatasetH ds;
    OGRLayerH lyr;
    int osm;
    int src[F_COUNT], tags;
    OGRCoordinateTransformationH oct;
    int gcj, bd;
    gw_store_road *rows;
    unsigned char **wkbs;
    char **texts; /* 3 per row: id, name, class */
    size_t n;
    gw_bbox box;
    int have_box;
    gw_import_report *rep;
} rimp;

static gw_status flush(rimp *m)
{
    gw_status st = m->n ? gw_store_roads_insert(m->store, m->rows, m->n) : GW_OK;
    for (size_t i = 0; i < m->n; i++) {
        free(m->wkbs[i]);
        free(m->texts[3 * i]), free(m->texts[3 * i + 1]), free(m->texts[3 * i + 2]);
    }
    if (!st) m->rep->imported += (int64_t)m->n;
    m->n = 0;
    return st;
}

static int field_of(OGRFeatureDefnH d, const char *name)
{
    return name ? OGR_FD_GetFieldIndex(d, name) : -1;
}

static gw_status map_fields(rimp *m)
{
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(m->lyr);
    for (int f = 0; f < F_COUNT; f++) m->src[f] = -1;
    if (m->osm) {
        m->src[F_ID] = field_of(d, "osm_id");
        m->src[F_NAME] = field_of(d, "name");
        m->src[F_CLASS] = field_of(d, "highway");
        m->tags = field_of(d, "other_tags");
        if (m->src[F_CLASS] < 0)
            return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "%s: the OSM lines have no highway field",
                                m->o->source_layer ? m->o->source_layer : "lines");
    } else { /* same-named fields map by themselves; "fclass", "maxspeed" as Geofabrik names */
        m->tags = -1;
        for (int f = 0; f < F_COUNT; f++) m->src[f] = field_of(d, canon[f]);
        if (m->src[F_CLASS] < 0) m->src[F_CLASS] = field_of(d, "fclass");
        if (m->src[F_CLASS] < 0) m->src[F_CLASS] = field_of(d, "highway");
        if (m->src[F_SPEED] < 0) m->src[F_SPEED] = field_of(d, "maxspeed");
        if (m->src[F_ID] < 0) m->src[F_ID] = field_of(d, "osm_id");
    }
    if (m->o->map && *m->o->map) {
        char *copy = strdup(m->o->map), *save = NULL;
        if (!copy) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        gw_status st = GW_OK;
        for (char *tok = strtok_r(copy, ",", &save); tok && !st; tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            int f = -1;
            if (eq) *eq = 0;
            for (int k = 0; eq && k < F_COUNT; k++)
                if (strcmp(tok, canon[k]) == 0) f = k;
            if (!eq || f < 0)
                st = gw_ctx_error(m->ctx, GW_ERR_ARG,
                                  "--map: '%s' is not one of id, name, class, oneway, speed = a "
                                  "source field",
                                  tok);
            else if ((m->src[f] = field_of(d, eq + 1)) < 0)
                st = gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                                  "--map %s=%s: the layer has no field '%s'", tok, eq + 1, eq + 1);
        }
        free(copy);
        if (st) return st;
    }
    return GW_OK;
}

/* The direction a line's oneway text says, or 2 when it says nothing we know. */
static int oneway_of(const char *v)
{
    if (!v || !*v) return 0;
    if (!strcmp(v, "F") || !strcmp(v, "FT")) return 1;
    if (!strcmp(v, "T") || !strcmp(v, "TF")) return -1;
    if (!strcmp(v, "B")) return 0;
    int w = gw_road_parse_oneway(v, NULL);
    if (w || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0")) return w;
    return 2;
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

/* Add one LineString part (GDAL geometry) as a road. */
static gw_status add_part(rimp *m, OGRGeometryH part, const char *id, const char *name,
                          const char *cls, int oneway, double kmh, int64_t row)
{
    int np = OGR_G_GetPointCount(part);
    if (np < 2) {
        m->rep->skipped++;
        return GW_OK;
    }
    size_t len = 9 + 16 * (size_t)np;
    unsigned char *w = malloc(len);
    if (!w) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
    w[0] = 1;
    uint32_t t = 2, n = (uint32_t)np;
    memcpy(w + 1, &t, 4), memcpy(w + 5, &n, 4);
    for (int i = 0; i < np; i++) {
        double x = OGR_G_GetX(part, i), y = OGR_G_GetY(part, i);
        if (m->gcj) gw_gcj02_to_wgs84(x, y, &x, &y);
        if (m->bd) gw_bd09_to_wgs84(x, y, &x, &y);
        if (!(x >= -180 && x <= 180 && y >= -90 && y <= 90)) {
            free(w);
            return gw_ctx_error(m->ctx, GW_ERR_RANGE,
                                "row %" PRId64 " (road %s): point %d (%g, %g) is outside lon/lat "
                                "range (is the CRS right? --srs)",
                                row, id, i, x, y);
        }
        memcpy(w + 9 + 16 * i, &x, 8), memcpy(w + 17 + 16 * i, &y, 8);
        if (!m->have_box) m->box = (gw_bbox){x, y, x, y}, m->have_box = 1;
        m->box.minx = fmin(m->box.minx, x), m->box.maxx = fmax(m->box.maxx, x);
        m->box.miny = fmin(m->box.miny, y), m->box.maxy = fmax(m->box.maxy, y);
    }
    size_t k = m->n++;
    m->wkbs[k] = w;
    m->texts[3 * k] = strdup(id);
    m->texts[3 * k + 1] = dup_or_null(name);
    m->texts[3 * k + 2] = strdup(cls);
    if (!m->texts[3 * k] || !m->texts[3 * k + 2])
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
    m->rows[k] = (gw_store_road){.id = m->texts[3 * k],
                                 .name = m->texts[3 * k + 1],
                                 .cls = m->texts[3 * k + 2],
                                 .oneway = oneway,
                                 .speed_kmh = kmh,
                                 .wkb = w,
                                 .wkb_len = len};
    return m->n == BATCH ? flush(m) : GW_OK;
}

static gw_status one_feature(rimp *m, OGRFeatureH f, int64_t row)
{
    m->rep->read++;
    const char *cls = m->src[F_CLASS] >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->src[F_CLASS])
                          ? OGR_F_GetFieldAsString(f, m->src[F_CLASS])
                          : NULL;
    if (m->osm && (!cls || !gw_road_class_drivable(cls))) return GW_OK; /* not a road for cars */
    if (!cls || !*cls) cls = "road";
    char idbuf[64], tag[64], jn[64];
    const char *id = m->src[F_ID] >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->src[F_ID])
                         ? OGR_F_GetFieldAsString(f, m->src[F_ID])
                         : NULL;
    if (!id || !*id) {
        snprintf(idbuf, sizeof idbuf, "%" PRId64, (int64_t)OGR_F_GetFID(f));
        id = idbuf;
    }
    const char *name = m->src[F_NAME] >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->src[F_NAME])
                           ? OGR_F_GetFieldAsString(f, m->src[F_NAME])
                           : NULL;
    int oneway = 0;
    double kmh = 0;
    if (m->osm) {
        const char *tags = m->tags >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->tags)
                               ? OGR_F_GetFieldAsString(f, m->tags)
                               : NULL;
        int has_ow = gw_road_tag(tags, "oneway", tag, sizeof tag);
        int has_jn = gw_road_tag(tags, "junction", jn, sizeof jn);
        oneway = gw_road_parse_oneway(has_ow ? tag : NULL, has_jn ? jn : NULL);
        if (gw_road_tag(tags, "maxspeed", tag, sizeof tag) &&
            gw_road_parse_maxspeed(tag, &kmh) != GW_OK)
            kmh = 0; /* an unreadable limit: the class's speed */
    } else {
        if (m->src[F_ONEWAY] >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->src[F_ONEWAY])) {
            const char *v = OGR_F_GetFieldAsString(f, m->src[F_ONEWAY]);
            oneway = oneway_of(v);
            if (oneway == 2)
                return gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                                    "row %" PRId64 " (road %s): oneway '%s' is none of yes, no, "
                                    "1, 0, -1, true, false, reverse, F, T, B",
                                    row, id, v);
        }
        if (m->src[F_SPEED] >= 0 && OGR_F_IsFieldSetAndNotNull(f, m->src[F_SPEED])) {
            const char *v = OGR_F_GetFieldAsString(f, m->src[F_SPEED]);
            if (strcmp(v, "0") != 0 && gw_road_parse_maxspeed(v, &kmh) != GW_OK)
                return gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                                    "row %" PRId64 " (road %s): speed '%s' is not a speed "
                                    "(\"50\", \"30 mph\", \"none\")",
                                    row, id, v);
        }
    }
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g || OGR_G_IsEmpty(g)) {
        if (m->o->skip_bad_rows) return m->rep->skipped++, GW_OK;
        return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "row %" PRId64 " (road %s): no geometry", row,
                            id);
    }
    OGRGeometryH tg = OGR_G_Clone(g);
    if (m->oct && OGR_G_Transform(tg, m->oct) != OGRERR_NONE) {
        OGR_G_DestroyGeometry(tg);
        return gw_ctx_error(m->ctx, GW_ERR_CRS, "row %" PRId64 " (road %s): cannot reproject", row,
                            id);
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(tg));
    gw_status st = GW_OK;
    if (t == wkbLineString) {
        st = add_part(m, tg, id, name, cls, oneway, kmh, row);
    } else if (t == wkbMultiLineString) {
        int parts = OGR_G_GetGeometryCount(tg);
        for (int i = 0; !st && i < parts; i++) {
            char pid[96];
            if (i) snprintf(pid, sizeof pid, "%s#%d", id, i + 1);
            st = add_part(m, OGR_G_GetGeometryRef(tg, i), i ? pid : id, name, cls, oneway, kmh,
                          row);
        }
    } else if (m->o->skip_bad_rows) {
        m->rep->skipped++;
    } else {
        st = gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "row %" PRId64 " (road %s): a %s, not a line",
                          row, id, OGRGeometryTypeToName(t));
    }
    OGR_G_DestroyGeometry(tg);
    return st;
}

static gw_status open_source(rimp *m, const char *path)
{
    m->ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, m->o->drivers, NULL, NULL);
    if (!m->ds)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s is not a readable vector file: %s", path,
                            io_gdal_msg());
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(m->ds));
    m->osm = drv && strcmp(drv, "OSM") == 0;
    const char *want = m->o->source_layer ? m->o->source_layer : m->osm ? "lines" : NULL;
    m->lyr = want ? GDALDatasetGetLayerByName(m->ds, want) : GDALDatasetGetLayer(m->ds, 0);
    if (!m->lyr)
        return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "%s has no layer '%s'", path,
                            want ? want : "(none)");
    OGRSpatialReferenceH from = NULL;
    if (m->o->srs && *m->o->srs) {
        gw_crs c;
        gw_status st = gw_crs_parse(m->ctx, m->o->srs, &c);
        if (st) return st;
        m->gcj = c.kind == GW_CRS_GCJ02, m->bd = c.kind == GW_CRS_BD09;
        if (c.kind == GW_CRS_EPSG && c.epsg != 4326) {
            from = OSRNewSpatialReference(NULL);
            OSRImportFromEPSG(from, c.epsg);
        }
    } else {
        OGRSpatialReferenceH ls = OGR_L_GetSpatialRef(m->lyr);
        if (ls) from = OSRClone(ls);
    }
    if (from) {
        OGRSpatialReferenceH to = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(to, 4326);
        OSRSetAxisMappingStrategy(to, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(from, to)) m->oct = OCTNewCoordinateTransformation(from, to);
        OSRDestroySpatialReference(from);
        OSRDestroySpatialReference(to);
    }
    return GW_OK;
}

gw_status gw_io_import_roads(gw_ctx *ctx, gw_store *store, const char *path,
                             const gw_import_opts *opts, gw_import_report *report)
{
    gw_import_report rep0 = {0};
    gw_import_opts o0 = {0};
    rimp m = {.ctx = ctx, .store = store, .o = opts ? opts : &o0, .rep = report ? report : &rep0};
    *m.rep = (gw_import_report){0};
    if (!store || !path) return gw_ctx_error(ctx, GW_ERR_ARG, "roads import: no store or file");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    m.rows = calloc(BATCH, sizeof *m.rows);
    m.wkbs = calloc(BATCH, sizeof *m.wkbs);
    m.texts = calloc(3 * BATCH, sizeof *m.texts);
    gw_status st = m.rows && m.wkbs && m.texts ? GW_OK
                                               : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    io_gdal_enter();
    if (!st) st = open_source(&m, path);
    if (!st) st = map_fields(&m);
    int in_tx = 0;
    if (!st && !(st = gw_store_begin(store))) in_tx = 1;
    int64_t cleared = 0;
    if (!st && m.o->replace) st = gw_store_roads_clear(store, &cleared);
    if (!st) {
        OGR_L_ResetReading(m.lyr);
        OGRFeatureH f;
        int64_t row = 0;
        while (!st && (f = OGR_L_GetNextFeature(m.lyr)) != NULL) {
            st = one_feature(&m, f, ++row);
            OGR_F_Destroy(f);
            if (row % PROGRESS_EVERY == 0) gw_ctx_progress(ctx, "roads", (double)row, 0);
        }
    }
    if (!st) st = flush(&m);
    if (!st && m.rep->imported == 0 && !cleared)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "%s has no roads for vehicles (%s)", path,
                          m.osm ? "no line with a drivable highway tag" : "no line features");
    if (!st)
        st = gw_store_roads_log(store, m.o->replace ? "roads.replace" : "roads.import",
                                m.have_box ? &m.box : NULL, NULL);
    if (!st && in_tx) st = gw_store_commit(store);
    if (st && in_tx) gw_store_rollback(store);
    for (size_t i = 0; i < m.n; i++) {
        free(m.wkbs[i]);
        free(m.texts[3 * i]), free(m.texts[3 * i + 1]), free(m.texts[3 * i + 2]);
    }
    free(m.rows), free(m.wkbs), free(m.texts);
    if (m.oct) OCTDestroyCoordinateTransformation(m.oct);
    if (m.ds) GDALClose(m.ds);
    io_gdal_leave();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    m.rep->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (st) m.rep->imported = 0;
    return st;
}
