/* io.c — import and export of layers through GDAL/OGR (the contract is include/gridwatch/io.h).
 *
 * Import is where customers' files meet the data model: every field, coordinate and geometry is
 * checked here, one transaction per file, so that a bad row names itself and changes nothing. */
#include "gridwatch/io.h"

#include "gridwatch/crs.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define MAXF 16           /* more than any layer's field count */
#define PROGRESS_EVERY 4096
#define FID_SOURCE (-2)   /* --map id=FID: the OGR feature id */
#define TZ_SLOTS 8192     /* cached local hours (about a year) */

/* Camera defaults for sources that lack them (Baltimore CCTV): a dome that sees 50 m around. */
#define CAM_DEFAULT_AZIMUTH 0.0
#define CAM_DEFAULT_FOV 360.0
#define CAM_DEFAULT_RANGE 50.0
#define CAM_DEFAULT_STATUS "online"

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }

/* GDAL's error stack is per thread: quiet it for our calls, read messages back ourselves. */
static void gdal_enter(void)
{
    pthread_once(&gdal_once, gdal_init);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
}
static void gdal_leave(void) { CPLPopErrorHandler(); }
static const char *gdal_msg(void)
{
    const char *m = CPLGetLastErrorMsg();
    return m && *m ? m : "no detail from GDAL";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* ---- import state ------------------------------------------------------------------------ */

typedef struct pgrid { /* a grid waiting for its other parts (features sharing its id) */
    char *text[MAXF];
    gw_value vals[MAXF];
    GEOSGeometry **parts;
    int nparts, cap;
} pgrid;

typedef struct gridref { /* a current grid, for resolving incidents' grid */
    char *id;
    GEOSGeometry *g;
    const GEOSPreparedGeometry *pg;
} gridref;

typedef struct imp {
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    gw_store *store;
    gw_layer layer;
    gw_import_opts o;
    const char *path;
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureDefnH defn;
    int is_shp;
    const gw_field *fields;
    size_t nf;
    int src[MAXF];
    OGRFieldType stype[MAXF];
    gw_value vals[MAXF];
    char *tbuf[MAXF];
    size_t tcap[MAXF];
    /* CRS */
    int no_srs;
    OGRCoordinateTransformationH oct;
    gw_crs_transform *gtr;
    /* geometry */
    unsigned char *wkb;
    size_t wkbcap;
    GEOSWKBReader *rd;
    GEOSWKBWriter *wr;
    /* times in an IANA zone: UTC offset cached per local hour */
    int tz_iana;
    long tz_fixed; /* seconds east of UTC when opts->tz is UTC or an offset */
    int64_t tzc_key[TZ_SLOTS], tzc_off[TZ_SLOTS];
    /* pending grids, by id (open addressing) */
    pgrid *pg;
    size_t npg, cappg;
    int32_t *hash;
    size_t hcap;
    /* current grids for incidents */
    gridref *gr;
    size_t ngr;
    char **room_id; /* police rooms, for an incident's nearest room (lon/lat, x scaled by cos lat) */
    double *room_x, *room_y, room_cos;
    size_t nroom;
    GEOSSTRtree *tree;
    gridref **cand;
    size_t ncand, capcand;
    /* swapped lat/lon detection */
    int64_t npts, polar, in_ext, swap_in_ext, first_swap_row;
    double swx, swy;
    char swid[64];
    int have_ext;
    gw_bbox gext;
    gw_inserter *ins;
    gw_bbox bbox;
    int have_bbox;
    int64_t row;
    gw_import_report rep;
} imp;

static void grow_bbox(imp *m, double x0, double y0, double x1, double y1)
{
    if (!m->have_bbox) {
        m->bbox = (gw_bbox){x0, y0, x1, y1};
        m->have_bbox = 1;
        return;
    }
    if (x0 < m->bbox.minx) m->bbox.minx = x0;
    if (y0 < m->bbox.miny) m->bbox.miny = y0;
    if (x1 > m->bbox.maxx) m->bbox.maxx = x1;
    if (y1 > m->bbox.maxy) m->bbox.maxy = y1;
}

static const char *row_id(const imp *m)
{
    return m->vals[0].kind == GW_VAL_TEXT && m->vals[0].s ? m->vals[0].s : "?";
}

/* "a, b, c" of the source layer's fields, for messages. */
static void list_fields(OGRFeatureDefnH defn, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    int n = OGR_FD_GetFieldCount(defn);
    for (int i = 0; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                                OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
    if (n == 0) snprintf(buf, cap, "none");
}

/* ---- opening the source ------------------------------------------------------------------ */

static gw_status open_source(imp *m)
{
    struct stat sb;
    if (stat(m->path, &sb) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot open %s: %s", m->path, strerror(errno));
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s is empty (0 bytes): nothing to import", m->path);
    char xo[256], yo[256];
    snprintf(xo, sizeof xo, "X_POSSIBLE_NAMES=%s", m->o.lon_field ? m->o.lon_field : "longitude,lon,lng,x");
    snprintf(yo, sizeof yo, "Y_POSSIBLE_NAMES=%s", m->o.lat_field ? m->o.lat_field : "latitude,lat,y");
    const char *csv_oo[] = {xo, yo, "KEEP_GEOM_COLUMNS=NO", "EMPTY_STRING_AS_NULL=YES", NULL};
    int csv = has_ext(m->path, ".csv") || has_ext(m->path, ".tsv") || has_ext(m->path, ".txt");
    m->ds = GDALOpenEx(m->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, csv ? csv_oo : NULL, NULL);
    if (!m->ds)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s is not a readable vector file: %s", m->path, gdal_msg());
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(m->ds));
    m->is_shp = drv && strcmp(drv, "ESRI Shapefile") == 0;
    int nl = GDALDatasetGetLayerCount(m->ds);
    char names[512];
    size_t len = 0;
    names[0] = '\0';
    for (int i = 0; i < nl && len + 1 < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "",
                                OGR_L_GetName(GDALDatasetGetLayer(m->ds, i)));
    if (nl == 0) return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s has no vector layer", m->path);
    if (m->o.source_layer && *m->o.source_layer) {
        m->lyr = GDALDatasetGetLayerByName(m->ds, m->o.source_layer);
        if (!m->lyr)
            return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "%s has no layer '%s' (layers: %s)", m->path,
                                m->o.source_layer, names);
    } else {
        m->lyr = GDALDatasetGetLayer(m->ds, 0);
        if (nl > 1)
            gw_ctx_warn(m->ctx, "%s has %d layers (%s); importing the first, '%s' (choose with --source-layer)",
                        m->path, nl, names, OGR_L_GetName(m->lyr));
    }
    m->defn = OGR_L_GetLayerDefn(m->lyr);
    if (OGR_FD_GetGeomFieldCount(m->defn) == 0) {
        char f[512];
        list_fields(m->defn, f, sizeof f);
        return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                            "%s layer '%s' has no geometry (for CSV: no lon/lat columns found; columns: %s; "
                            "name them with --lon-field/--lat-field)", m->path, OGR_L_GetName(m->lyr), f);
    }
    return GW_OK;
}

/* ---- field map --------------------------------------------------------------------------- */

static int src_matches(const imp *m, const char *src, const char *canon)
{
    if (strcasecmp(src, canon) == 0) return 1;
    /* Shapefiles cut names to 10 characters ("descriptio"): let our own exports map back. */
    return m->is_shp && strlen(src) == 10 && strncasecmp(src, canon, 10) == 0;
}

static gw_status map_fields(imp *m)
{
    char avail[1024];
    list_fields(m->defn, avail, sizeof avail);
    for (size_t i = 0; i < MAXF; i++) m->src[i] = -1;
    if (m->o.map && *m->o.map) {
        char *copy = strdup(m->o.map), *save = NULL;
        if (!copy) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*tok)) tok++;
            char *eq = strchr(tok, '=');
            if (!*tok) continue;
            if (!eq) {
                gw_ctx_error(m->ctx, GW_ERR_ARG, "--map: '%s' is not canonical=source", tok);
                free(copy);
                return GW_ERR_ARG;
            }
            *eq = '\0';
            char *canon = tok, *src = eq + 1;
            for (char *e = eq - 1; e >= canon && isspace((unsigned char)*e); e--) *e = '\0';
            while (isspace((unsigned char)*src)) src++;
            for (char *e = src + strlen(src) - 1; e >= src && isspace((unsigned char)*e); e--) *e = '\0';
            int ci = gw_layer_field_index(m->layer, canon);
            if (ci < 0) {
                char cf[256];
                size_t len = 0;
                for (size_t i = 0; i < m->nf; i++)
                    len += (size_t)snprintf(cf + len, sizeof cf - len, "%s%s", i ? ", " : "", m->fields[i].name);
                gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "--map: '%s' is not a field of %s (fields: %s)", canon,
                             gw_layer_name(m->layer), cf);
                free(copy);
                return GW_ERR_NOT_FOUND;
            }
            int si = OGR_FD_GetFieldIndex(m->defn, src);
            if (si < 0 && strcasecmp(src, "FID") == 0) si = FID_SOURCE;
            if (si == -1) {
                gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "--map %s=%s: %s has no field '%s' (fields: %s)", canon, src,
                             m->path, src, avail);
                free(copy);
                return GW_ERR_NOT_FOUND;
            }
            m->src[ci] = si;
        }
        free(copy);
    }
    int nsrc = OGR_FD_GetFieldCount(m->defn);
    for (size_t i = 0; i < m->nf; i++) {
        if (m->src[i] != -1) continue;
        for (int j = 0; j < nsrc; j++)
            if (src_matches(m, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, j)), m->fields[i].name)) {
                m->src[i] = j;
                break;
            }
    }
    if (m->src[0] == -1)
        return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                            "%s has no field 'id': map one with --map id=<field> (fields: %s), or id=FID to number "
                            "the features", m->path, avail);
    for (size_t i = 0; i < m->nf; i++)
        m->stype[i] = m->src[i] >= 0 ? OGR_Fld_GetType(OGR_FD_GetFieldDefn(m->defn, m->src[i])) : OFTString;
    /* Drivers that can (CSV, GPKG, Shapefile) then skip the columns nobody asked for. */
    char **ignored = NULL;
    for (int j = 0; j < nsrc; j++) {
        int used = 0;
        for (size_t i = 0; i < m->nf && !used; i++) used = m->src[i] == j;
        if (!used) ignored = CSLAddString(ignored, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, j)));
    }
    if (ignored) OGR_L_SetIgnoredFields(m->lyr, (const char **)ignored);
    CSLDestroy(ignored);
    return GW_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

static const char *keep_text(imp *m, size_t i, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > m->tcap[i]) {
        size_t cap = n < 64 ? 64 : n * 2;
        char *nb = realloc(m->tbuf[i], cap);
        if (!nb) return NULL;
        m->tbuf[i] = nb;
        m->tcap[i] = cap;
    }
    memcpy(m->tbuf[i], s, n);
    return m->tbuf[i];
}

static int blank(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    return *s == '\0';
}

static int parse_real(const char *s, double *out)
{
    char *e;
    errno = 0;
    double d = strtod(s, &e);
    if (e == s || errno == ERANGE || !isfinite(d)) return -1;
    while (isspace((unsigned char)*e)) e++;
    if (*e) return -1;
    *out = d;
    return 0;
}

static int parse_int(const char *s, int64_t *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    while (isspace((unsigned char)*e)) e++;
    if (e != s && !*e && errno == 0) {
        *out = v;
        return 0;
    }
    double d;
    if (parse_real(s, &d) == 0 && d == floor(d) && fabs(d) < 9e15) {
        *out = (int64_t)d;
        return 0;
    }
    return -1;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (as in layer.c). */
static int64_t days_from_civil(int64_t y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int dig2(const char *p) { return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1; }

/* The common ISO 8601 forms without sscanf: "YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|±HH[[:]MM]]".
 * Returns 1 with the wall time (and the offset when the text has one), 0 to let gw_time_parse
 * handle (and word the error for) anything else. */
static int fast_iso(const char *s, int64_t *wall, int *has_off, long *off)
{
    while (*s == ' ') s++;
    int y1 = dig2(s), y2 = dig2(s + 2), mo, d, h = 0, mi = 0, sec = 0;
    if (y1 < 0 || y2 < 0 || s[4] != '-' || (mo = dig2(s + 5)) < 0 || s[7] != '-' || (d = dig2(s + 8)) < 0) return 0;
    const char *p = s + 10;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        if ((h = dig2(p + 1)) < 0 || p[3] != ':' || (mi = dig2(p + 4)) < 0) return 0;
        p += 6;
        if (*p == ':') {
            if ((sec = dig2(p + 1)) < 0) return 0;
            p += 3;
            if (*p == '.' || *p == ',')
                for (p++; isdigit((unsigned char)*p); p++) {}
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60) return 0;
    *wall = days_from_civil(y1 * 100 + y2, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    *has_off = 0;
    if (*p == 'Z' || *p == 'z') {
        *has_off = 1;
        *off = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh = dig2(p + 1), om = 0;
        if (oh < 0 || oh > 14) return 0;
        p += 3;
        if (*p == ':') p++;
        if (isdigit((unsigned char)*p)) {
            if ((om = dig2(p)) < 0 || om > 59) return 0;
            p += 2;
        }
        *has_off = 1;
        *off = sign * (oh * 3600L + om * 60L);
    }
    while (*p == ' ') p++;
    return *p == '\0';
}

/* Text time to Unix seconds.  For an IANA zone the local-to-UTC offset is cached per local hour,
 * because gw_time_parse re-reads the zone for every call (DST changes fall on whole hours). */
static gw_status parse_time(imp *m, const char *s, int64_t *out)
{
    int64_t wall;
    int has_off;
    long off;
    if (!fast_iso(s, &wall, &has_off, &off)) return gw_time_parse(m->ctx, s, m->o.tz, out);
    if (has_off) {
        *out = wall - off;
        return GW_OK;
    }
    if (!m->tz_iana) {
        *out = wall - m->tz_fixed;
        return GW_OK;
    }
    int64_t hour = wall >= 0 ? wall / 3600 : -((-wall + 3599) / 3600);
    unsigned slot = (unsigned)(hour & (TZ_SLOTS - 1));
    if (m->tzc_key[slot] != hour) {
        char buf[32];
        int64_t u;
        gw_time_format(hour * 3600, buf, sizeof buf);
        buf[strlen(buf) - 1] = '\0'; /* drop the Z: a wall time in the zone */
        gw_status st = gw_time_parse(m->ctx, buf, m->o.tz, &u);
        if (st) return st;
        m->tzc_key[slot] = hour;
        m->tzc_off[slot] = hour * 3600 - u;
    }
    *out = wall - m->tzc_off[slot];
    return GW_OK;
}

static gw_status bad_value(imp *m, size_t i, const char *text, const char *what)
{
    return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)m->row, "%s row %lld (id '%s'): field %s (source '%s'): '%s' is not %s",
                           m->path, (long long)m->row, i ? row_id(m) : "?", m->fields[i].name,
                           OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, m->src[i])), text, what);
}

static gw_status read_values(imp *m, OGRFeatureH f)
{
    for (size_t i = 0; i < m->nf; i++) {
        gw_value *v = &m->vals[i];
        *v = (gw_value){GW_VAL_NULL, NULL, 0, 0};
        int si = m->src[i];
        if (si == FID_SOURCE) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)OGR_F_GetFID(f));
            v->kind = GW_VAL_TEXT;
            if (!(v->s = keep_text(m, i, b))) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            continue;
        }
        if (si < 0 || !OGR_F_IsFieldSetAndNotNull(f, si)) continue;
        OGRFieldType t = m->stype[i];
        int numeric = t == OFTInteger || t == OFTInteger64 || t == OFTReal;
        switch (m->fields[i].type) {
        case GW_FT_TEXT: {
            const char *s = OGR_F_GetFieldAsString(f, si);
            /* strings are the feature's own storage; other types share one scratch buffer */
            if (t != OFTString && !(s = keep_text(m, i, s))) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            if (*s) {
                v->kind = GW_VAL_TEXT;
                v->s = s;
            }
            break;
        }
        case GW_FT_INT:
            if (t == OFTInteger || t == OFTInteger64) {
                v->kind = GW_VAL_INT;
                v->i = OGR_F_GetFieldAsInteger64(f, si);
            } else {
                const char *s = OGR_F_GetFieldAsString(f, si);
                if (blank(s)) break;
                if (parse_int(s, &v->i) != 0) return bad_value(m, i, s, "an integer");
                v->kind = GW_VAL_INT;
            }
            break;
        case GW_FT_REAL:
            if (numeric) {
                v->kind = GW_VAL_REAL;
                v->d = OGR_F_GetFieldAsDouble(f, si);
            } else {
                const char *s = OGR_F_GetFieldAsString(f, si);
                if (blank(s)) break;
                if (parse_real(s, &v->d) != 0) return bad_value(m, i, s, "a number");
                v->kind = GW_VAL_REAL;
            }
            break;
        case GW_FT_TIME:
            if (t == OFTInteger || t == OFTInteger64) { /* integers are Unix seconds */
                v->kind = GW_VAL_INT;
                v->i = OGR_F_GetFieldAsInteger64(f, si);
            } else if (t == OFTDateTime || t == OFTDate) {
                int y, mo, d, hh, mi, tzf;
                float sec;
                char b[48];
                OGR_F_GetFieldAsDateTimeEx(f, si, &y, &mo, &d, &hh, &mi, &sec, &tzf);
                int n = snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, hh, mi, (int)sec);
                if (tzf == 100) {
                    snprintf(b + n, sizeof b - (size_t)n, "Z");
                } else if (tzf > 1) {
                    int off = (tzf - 100) * 15;
                    snprintf(b + n, sizeof b - (size_t)n, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
                }
                if (parse_time(m, b, &v->i) != GW_OK) return bad_value(m, i, b, "a time");
                v->kind = GW_VAL_INT;
            } else {
                const char *s = OGR_F_GetFieldAsString(f, si);
                if (blank(s)) break;
                if (parse_time(m, s, &v->i) != GW_OK)
                    return bad_value(m, i, s, "an ISO 8601 time (e.g. 2018-01-01T13:05:00, with --tz for the zone)");
                v->kind = GW_VAL_INT;
            }
            break;
        }
    }
    if (m->vals[0].kind != GW_VAL_TEXT)
        return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)m->row, "%s row %lld: empty id (source field '%s')",
                               m->path, (long long)m->row,
                               m->src[0] >= 0 ? OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, m->src[0])) : "FID");
    if (m->layer == GW_LAYER_CAMERAS) {
        static const struct { const char *name; double d; } dflt[] = {
            {"azimuth", CAM_DEFAULT_AZIMUTH}, {"fov", CAM_DEFAULT_FOV}, {"range", CAM_DEFAULT_RANGE}};
        for (size_t k = 0; k < 3; k++) {
            int fi = gw_layer_field_index(m->layer, dflt[k].name);
            if (fi >= 0 && m->vals[fi].kind == GW_VAL_NULL) m->vals[fi] = (gw_value){GW_VAL_REAL, NULL, 0, dflt[k].d};
        }
        int si = gw_layer_field_index(m->layer, "status");
        if (si >= 0 && m->vals[si].kind == GW_VAL_NULL) m->vals[si] = (gw_value){GW_VAL_TEXT, CAM_DEFAULT_STATUS, 0, 0};
    }
    return GW_OK;
}

/* ---- CRS --------------------------------------------------------------------------------- */

static gw_status setup_crs(imp *m)
{
    if (m->o.srs && *m->o.srs) {
        gw_crs c;
        gw_status st = gw_crs_parse(m->ctx, m->o.srs, &c);
        if (st) return st;
        if (c.kind == GW_CRS_EPSG && c.epsg == 4326) return GW_OK;
        return gw_crs_transform_create(m->ctx, c, (gw_crs){GW_CRS_EPSG, 4326}, &m->gtr);
    }
    OGRSpatialReferenceH s = OGR_L_GetSpatialRef(m->lyr);
    if (!s) {
        m->no_srs = 1;
        if (m->is_shp)
            gw_ctx_warn(m->ctx, "%s: no .prj beside the shapefile; assuming EPSG:4326 lon/lat (give --srs if it is not)", m->path);
        return GW_OK;
    }
    OGRSpatialReferenceH from = OSRClone(s), wgs = OSRNewSpatialReference(NULL);
    gw_status st = GW_OK;
    OSRSetAxisMappingStrategy(from, OAMS_TRADITIONAL_GIS_ORDER);
    if (!wgs || OSRImportFromEPSG(wgs, 4326) != OGRERR_NONE) {
        st = gw_ctx_error(m->ctx, GW_ERR_CRS, "cannot build EPSG:4326: %s", gdal_msg());
    } else {
        OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
        const char *same[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", NULL};
        if (!OSRIsSameEx(from, wgs, same)) {
            m->oct = OCTNewCoordinateTransformation(from, wgs);
            if (!m->oct) {
                const char *nm = OSRGetName(from);
                st = gw_ctx_error(m->ctx, GW_ERR_CRS, "%s: cannot transform from %s to EPSG:4326: %s (give --srs)", m->path,
                                  nm ? nm : "its CRS", gdal_msg());
            }
        }
    }
    OSRRelease(from);
    if (wgs) OSRRelease(wgs);
    return st;
}

/* Check a coordinate box (a point has x0 == x1).  GW_OK with *defer set when the row is skipped
 * (skip_bad_rows) or held as a swapped-looking point (refused at the end with a count). */
static gw_status check_coords(imp *m, double x0, double y0, double x1, double y1, int *defer)
{
    *defer = 0;
    if (isfinite(x0) && isfinite(y0) && isfinite(x1) && isfinite(y1) && x0 >= -180 && x1 <= 180 && y0 >= -90 &&
        y1 <= 90)
        return GW_OK;
    double ax = fmax(fabs(x0), fabs(x1)), ay = fmax(fabs(y0), fabs(y1));
    if (m->no_srs && (ax > 360 || ay > 360))
        return gw_ctx_error_at(m->ctx, GW_ERR_CRS, (long)m->row,
                               "%s row %lld (id '%s'): coordinates (%.3f, %.3f) are not lon/lat and the file has %s: "
                               "give --srs (e.g. EPSG:3435, EPSG:4547)", m->path, (long long)m->row, row_id(m), x0, y0,
                               m->is_shp ? "no .prj" : "no CRS");
    if (ax <= 90 && ay <= 180) {
        if (m->rep.swapped++ == 0) {
            m->first_swap_row = m->row;
            m->swx = x0;
            m->swy = y0;
            snprintf(m->swid, sizeof m->swid, "%s", row_id(m));
        }
        *defer = 1;
        return GW_OK;
    }
    if (m->o.skip_bad_rows) {
        m->rep.skipped++;
        *defer = 1;
        return GW_OK;
    }
    return gw_ctx_error_at(m->ctx, GW_ERR_RANGE, (long)m->row,
                           "%s row %lld (id '%s'): coordinates out of range (lon %.9g, lat %.9g): lon must be within "
                           "[-180, 180] and lat within [-90, 90]", m->path, (long long)m->row, row_id(m), x0, y0);
}

static gw_status bad_geom(imp *m, const char *what, int *defer)
{
    *defer = 0;
    if (m->o.skip_bad_rows) {
        m->rep.skipped++;
        *defer = 1;
        return GW_OK;
    }
    return gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s", m->path,
                           (long long)m->row, row_id(m), what);
}

/* ---- incidents: grid of a point ---------------------------------------------------------- */

static void cand_cb(void *item, void *user)
{
    imp *m = user;
    if (m->ncand == m->capcand) {
        size_t cap = m->capcand ? m->capcand * 2 : 16;
        gridref **n = realloc(m->cand, cap * sizeof *n);
        if (!n) return;
        m->cand = n;
        m->capcand = cap;
    }
    m->cand[m->ncand++] = item;
}

static gw_status load_grids(imp *m)
{
    gw_cursor *cur = NULL;
    gw_status st = gw_store_cursor_create(m->store, GW_LAYER_GRIDS, &cur);
    if (st) return st;
    size_t cap = 0;
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        if (!r.wkb || r.values[0].kind != GW_VAL_TEXT) continue;
        if (m->ngr == cap) {
            cap = cap ? cap * 2 : 256;
            gridref *n = realloc(m->gr, cap * sizeof *n);
            if (!n) {
                gw_cursor_destroy(cur);
                return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory loading grids");
            }
            m->gr = n;
        }
        gridref *g = &m->gr[m->ngr];
        g->g = GEOSWKBReader_read_r(m->h, m->rd, r.wkb, r.wkb_len);
        if (!g->g) continue;
        g->id = strdup(r.values[0].s);
        g->pg = GEOSPrepare_r(m->h, g->g);
        m->ngr++;
    }
    gw_cursor_destroy(cur);
    if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(m->ctx);
    if (m->ngr == 0) return GW_OK;
    m->tree = GEOSSTRtree_create_r(m->h, 10);
    for (size_t i = 0; i < m->ngr; i++) GEOSSTRtree_insert_r(m->h, m->tree, m->gr[i].g, &m->gr[i]);
    return GW_OK;
}

/* Police rooms for resolving an incident's responsible room (the nearest one). */
static gw_status load_rooms(imp *m)
{
    gw_cursor *cur = NULL;
    gw_status st = gw_store_cursor_create(m->store, GW_LAYER_POLICE_ROOMS, &cur);
    if (st) return st;
    size_t cap = 0;
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        if (!r.wkb || r.wkb_len < 21 || r.values[0].kind != GW_VAL_TEXT) continue;
        if (m->nroom == cap) {
            cap = cap ? cap * 2 : 64;
            char **ni = realloc(m->room_id, cap * sizeof *ni);
            if (ni) m->room_id = ni;
            double *nx = realloc(m->room_x, cap * sizeof *nx);
            if (nx) m->room_x = nx;
            double *ny = realloc(m->room_y, cap * sizeof *ny);
            if (ny) m->room_y = ny;
            if (!ni || !nx || !ny) {
                gw_cursor_destroy(cur);
                return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory loading police rooms");
            }
        }
        GEOSGeometry *g = GEOSWKBReader_read_r(m->h, m->rd, r.wkb, r.wkb_len);
        double x, y;
        int ok = g && GEOSGeomGetX_r(m->h, g, &x) == 1 && GEOSGeomGetY_r(m->h, g, &y) == 1;
        GEOSGeom_destroy_r(m->h, g);
        if (!ok) continue;
        m->room_id[m->nroom] = strdup(r.values[0].s);
        m->room_x[m->nroom] = x, m->room_y[m->nroom] = y;
        m->nroom++;
    }
    gw_cursor_destroy(cur);
    if (st != GW_ERR_NOT_FOUND) return st;
    gw_ctx_clear_error(m->ctx);
    m->room_cos = m->nroom ? cos(m->room_y[0] * M_PI / 180) : 1;
    return GW_OK;
}

/* The nearest police room to (lon, lat): a linear scan over the rooms (about a thousand in a
 * prefecture) on an equirectangular approximation, exact enough to rank rooms within a city. */
static const char *room_of(const imp *m, double x, double y)
{
    const char *best = NULL;
    double bd = HUGE_VAL;
    for (size_t i = 0; i < m->nroom; i++) {
        double dx = (m->room_x[i] - x) * m->room_cos, dy = m->room_y[i] - y, d = dx * dx + dy * dy;
        if (d < bd) bd = d, best = m->room_id[i];
    }
    return best;
}

/* The grid containing (x, y), lowest id on shared edges; NULL outside every grid. */
static const char *grid_of(imp *m, double x, double y)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(m->h, x, y);
    if (!pt) return NULL;
    m->ncand = 0;
    GEOSSTRtree_query_r(m->h, m->tree, pt, cand_cb, m);
    const char *best = NULL;
    for (size_t i = 0; i < m->ncand; i++)
        if ((!best || strcmp(m->cand[i]->id, best) < 0) && GEOSPreparedIntersects_r(m->h, m->cand[i]->pg, pt) == 1)
            best = m->cand[i]->id;
    GEOSGeom_destroy_r(m->h, pt);
    return best;
}

/* ---- rows -------------------------------------------------------------------------------- */

static gw_status add_point(imp *m, OGRGeometryH g)
{
    int defer;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1) {
        g = OGR_G_GetGeometryRef(g, 0);
        t = wkbFlatten(OGR_G_GetGeometryType(g));
    }
    if (t != wkbPoint) {
        char what[160];
        snprintf(what, sizeof what, "%s takes Point geometries, got %s", gw_layer_name(m->layer), OGR_G_GetGeometryName(g));
        gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s", m->path,
                        (long long)m->row, row_id(m), what);
        return GW_ERR_GEOMETRY;
    }
    if (OGR_G_IsEmpty(g)) {
        gw_status st = bad_geom(m, "empty geometry", &defer);
        return st;
    }
    double x = OGR_G_GetX(g, 0), y = OGR_G_GetY(g, 0);
    if (m->oct && !OCTTransform(m->oct, 1, &x, &y, NULL))
        return gw_ctx_error_at(m->ctx, GW_ERR_CRS, (long)m->row, "%s row %lld (id '%s'): cannot transform (%.9g, %.9g) to EPSG:4326",
                               m->path, (long long)m->row, row_id(m), x, y);
    if (m->gtr && gw_crs_transform_points(m->gtr, &x, &y, 1) != GW_OK) return gw_ctx_errcode(m->ctx);
    gw_status st = check_coords(m, x, y, x, y, &defer);
    if (st || defer) return st;
    m->npts++;
    if (fabs(y) > 80 && fabs(x) <= 80) m->polar++;
    if (m->have_ext) {
        if (x >= m->gext.minx && x <= m->gext.maxx && y >= m->gext.miny && y <= m->gext.maxy) m->in_ext++;
        if (y >= m->gext.minx && y <= m->gext.maxx && x >= m->gext.miny && x <= m->gext.maxy) m->swap_in_ext++;
    }
    if (m->rep.swapped) return GW_OK; /* refused at the end: keep counting, write nothing */
    if (m->layer == GW_LAYER_INCIDENTS && m->tree) {
        int gi = gw_layer_field_index(m->layer, "grid");
        if (gi >= 0 && m->vals[gi].kind == GW_VAL_NULL) {
            const char *gid = grid_of(m, x, y);
            if (gid) m->vals[gi] = (gw_value){GW_VAL_TEXT, gid, 0, 0};
        }
    }
    if (m->layer == GW_LAYER_INCIDENTS && m->nroom) {
        int ri = gw_layer_field_index(m->layer, "police_room");
        if (ri >= 0 && m->vals[ri].kind == GW_VAL_NULL) m->vals[ri] = (gw_value){GW_VAL_TEXT, room_of(m, x, y), 0, 0};
    }
    gw_feature feat = {m->vals, NULL, 0, x, y};
    st = gw_inserter_add(m->ins, &feat);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", gw_ctx_errmsg(m->ctx));
        if (st == GW_ERR_CONFLICT)
            return gw_ctx_error_at(m->ctx, st, (long)m->row, "%s row %lld: duplicate id '%s' in %s (ids must be unique; "
                                   "use --replace to reload the layer) [%s]", m->path, (long long)m->row, row_id(m),
                                   gw_layer_name(m->layer), why);
        return gw_ctx_error_at(m->ctx, st, (long)m->row, "%s row %lld (id '%s'): %s", m->path, (long long)m->row,
                               row_id(m), why);
    }
    grow_bbox(m, x, y, x, y);
    m->rep.imported++;
    return GW_OK;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Index of the pending grid with this id, creating it (values copied) when new. */
static gw_status pending_grid(imp *m, pgrid **out)
{
    if (m->npg * 2 >= m->hcap) {
        size_t cap = m->hcap ? m->hcap * 2 : 1024;
        int32_t *h = malloc(cap * sizeof *h);
        if (!h) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < cap; i++) h[i] = -1;
        for (size_t i = 0; i < m->npg; i++) {
            size_t k = hash_str(m->pg[i].vals[0].s) & (cap - 1);
            while (h[k] >= 0) k = (k + 1) & (cap - 1);
            h[k] = (int32_t)i;
        }
        free(m->hash);
        m->hash = h;
        m->hcap = cap;
    }
    const char *id = m->vals[0].s;
    size_t k = hash_str(id) & (m->hcap - 1);
    while (m->hash[k] >= 0) {
        if (strcmp(m->pg[m->hash[k]].vals[0].s, id) == 0) {
            *out = &m->pg[m->hash[k]];
            return GW_OK;
        }
        k = (k + 1) & (m->hcap - 1);
    }
    if (m->npg == m->cappg) {
        size_t cap = m->cappg ? m->cappg * 2 : 256;
        pgrid *n = realloc(m->pg, cap * sizeof *n);
        if (!n) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        m->pg = n;
        m->cappg = cap;
    }
    pgrid *p = &m->pg[m->npg];
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < m->nf; i++) {
        p->vals[i] = m->vals[i];
        if (m->vals[i].kind == GW_VAL_TEXT) {
            p->text[i] = strdup(m->vals[i].s);
            p->vals[i].s = p->text[i];
            if (!p->text[i]) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    m->hash[k] = (int32_t)m->npg++;
    *out = p;
    return GW_OK;
}

static void pgrid_free(GEOSContextHandle_t h, pgrid *p)
{
    for (size_t i = 0; i < MAXF; i++) free(p->text[i]);
    for (int i = 0; i < p->nparts; i++) GEOSGeom_destroy_r(h, p->parts[i]);
    free(p->parts);
}

/* The polygonal parts of a repaired geometry (MakeValid may return lines and points too). */
static GEOSGeometry *polygonal_parts(GEOSContextHandle_t h, GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON) return g;
    int n = GEOSGetNumGeometries_r(h, g), k = 0;
    GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    for (int i = 0; parts && i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        int pt = GEOSGeomTypeId_r(h, p);
        if (pt == GEOS_POLYGON || pt == GEOS_MULTIPOLYGON) parts[k++] = GEOSGeom_clone_r(h, p);
    }
    GEOSGeom_destroy_r(h, g);
    GEOSGeometry *out = NULL;
    if (parts && k == 1) out = parts[0];
    else if (parts && k > 1) {
        GEOSGeometry *c = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)k);
        out = c ? GEOSUnaryUnion_r(h, c) : NULL;
        GEOSGeom_destroy_r(h, c);
    }
    free(parts);
    return out;
}

static gw_status add_polygon(imp *m, OGRFeatureH f, OGRGeometryH g)
{
    int defer;
    OGRGeometryH own = NULL;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t != wkbPolygon && t != wkbMultiPolygon) { /* curves, collections, closed CAD polylines */
        char orig[64];
        snprintf(orig, sizeof orig, "%s", OGRGeometryTypeToName(OGR_G_GetGeometryType(g)));
        own = OGR_F_StealGeometry(f);
        own = (t == wkbLineString || t == wkbCircularString || t == wkbCompoundCurve) ? OGR_G_ForceToPolygon(own)
                                                                                     : OGR_G_ForceToMultiPolygon(own);
        g = own;
        t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        if (t != wkbPolygon && t != wkbMultiPolygon) {
            char what[160];
            snprintf(what, sizeof what, "grids take Polygon or MultiPolygon geometries, got %s", orig);
            if (own) OGR_G_DestroyGeometry(own);
            gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): %s", m->path,
                            (long long)m->row, row_id(m), what);
            return GW_ERR_GEOMETRY;
        }
    }
    gw_status st = GW_OK;
    GEOSGeometry *gg = NULL;
    if (OGR_G_IsEmpty(g)) {
        st = bad_geom(m, "empty geometry", &defer);
        goto done;
    }
    OGR_G_FlattenTo2D(g);
    if (m->oct && OGR_G_Transform(g, m->oct) != OGRERR_NONE) {
        st = gw_ctx_error_at(m->ctx, GW_ERR_CRS, (long)m->row, "%s row %lld (id '%s'): cannot transform to EPSG:4326: %s",
                             m->path, (long long)m->row, row_id(m), gdal_msg());
        goto done;
    }
    size_t need = OGR_G_WkbSizeEx(g);
    if (need > m->wkbcap) {
        unsigned char *n = realloc(m->wkb, need);
        if (!n) {
            st = gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
        m->wkb = n;
        m->wkbcap = need;
    }
    OGR_G_ExportToIsoWkb(g, wkbNDR, m->wkb);
    gg = GEOSWKBReader_read_r(m->h, m->rd, m->wkb, need);
    if (!gg) {
        st = gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row, "%s row %lld (id '%s'): unreadable geometry: %s",
                             m->path, (long long)m->row, row_id(m), gw_ctx_geos_errmsg(m->ctx));
        goto done;
    }
    if (m->gtr) {
        GEOSGeometry *tg = gw_crs_transform_geom(m->gtr, gg);
        GEOSGeom_destroy_r(m->h, gg);
        gg = tg;
        if (!gg) {
            st = gw_ctx_errcode(m->ctx) ? gw_ctx_errcode(m->ctx) : GW_ERR_CRS;
            goto done;
        }
    }
    double x0, y0, x1, y1;
    GEOSGeom_getXMin_r(m->h, gg, &x0);
    GEOSGeom_getYMin_r(m->h, gg, &y0);
    GEOSGeom_getXMax_r(m->h, gg, &x1);
    GEOSGeom_getYMax_r(m->h, gg, &y1);
    st = check_coords(m, x0, y0, x1, y1, &defer);
    if (st || defer) goto done;
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    char valid = GEOSisValidDetail_r(m->h, gg, 0, &reason, &loc);
    if (valid != 1) {
        char why[256];
        double lx = NAN, ly = NAN;
        if (loc) {
            GEOSGeomGetX_r(m->h, loc, &lx);
            GEOSGeomGetY_r(m->h, loc, &ly);
        }
        snprintf(why, sizeof why, "%s", reason ? reason : gw_ctx_geos_errmsg(m->ctx));
        if (reason) GEOSFree_r(m->h, reason);
        if (loc) GEOSGeom_destroy_r(m->h, loc);
        if (!m->o.make_valid) {
            st = gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row,
                                 "%s row %lld (id '%s'): invalid polygon: %s at or near (%.9g %.9g) (--make-valid repairs it)",
                                 m->path, (long long)m->row, row_id(m), why, lx, ly);
            goto done;
        }
        GEOSGeometry *fixed = GEOSMakeValid_r(m->h, gg);
        fixed = fixed ? polygonal_parts(m->h, fixed) : NULL;
        if (!fixed || GEOSisEmpty_r(m->h, fixed) == 1) {
            if (fixed) GEOSGeom_destroy_r(m->h, fixed);
            st = gw_ctx_error_at(m->ctx, GW_ERR_GEOMETRY, (long)m->row,
                                 "%s row %lld (id '%s'): invalid polygon (%s at or near (%.9g %.9g)) has no area left once repaired",
                                 m->path, (long long)m->row, row_id(m), why, lx, ly);
            goto done;
        }
        GEOSGeom_destroy_r(m->h, gg);
        gg = fixed;
        m->rep.repaired++;
    }
    pgrid *p = NULL;
    if ((st = pending_grid(m, &p)) != GW_OK) goto done;
    if (p->nparts == p->cap) {
        int cap = p->cap ? p->cap * 2 : 1;
        GEOSGeometry **n = realloc(p->parts, (size_t)cap * sizeof *n);
        if (!n) {
            st = gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            goto done;
        }
        p->parts = n;
        p->cap = cap;
    }
    p->parts[p->nparts++] = gg;
    gg = NULL;
    grow_bbox(m, x0, y0, x1, y1);
done:
    if (gg) GEOSGeom_destroy_r(m->h, gg);
    if (own) OGR_G_DestroyGeometry(own);
    return st;
}

/* Write the pending grids, merging features that share an id into one (multi)polygon. */
static gw_status flush_grids(imp *m)
{
    char merged[512];
    size_t len = 0;
    int nmerged = 0;
    merged[0] = '\0';
    for (size_t i = 0; i < m->npg; i++) {
        pgrid *p = &m->pg[i];
        GEOSGeometry *g = p->parts[0];
        if (p->nparts > 1) {
            GEOSGeometry *c = GEOSGeom_createCollection_r(m->h, GEOS_GEOMETRYCOLLECTION, p->parts, (unsigned)p->nparts);
            if (!c) return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "grid '%s': cannot collect its parts: %s", p->vals[0].s,
                                        gw_ctx_geos_errmsg(m->ctx));
            p->nparts = 0; /* the collection owns them now */
            g = GEOSUnaryUnion_r(m->h, c);
            GEOSGeom_destroy_r(m->h, c);
            if (g) g = polygonal_parts(m->h, g);
            if (!g) return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "grid '%s': cannot merge its parts: %s", p->vals[0].s,
                                        gw_ctx_geos_errmsg(m->ctx));
            p->parts[0] = g;
            p->nparts = 1;
            if (nmerged++ < 10 && len + 1 < sizeof merged)
                len += (size_t)snprintf(merged + len, sizeof merged - len, "%s'%s'", len ? ", " : "", p->vals[0].s);
        }
        size_t wlen = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(m->h, m->wr, g, &wlen);
        if (!wkb) return gw_ctx_error(m->ctx, GW_ERR_GEOMETRY, "grid '%s': cannot encode: %s", p->vals[0].s, gw_ctx_geos_errmsg(m->ctx));
        gw_feature feat = {p->vals, wkb, wlen, 0, 0};
        gw_status st = gw_inserter_add(m->ins, &feat);
        GEOSFree_r(m->h, wkb);
        if (st) {
            char why[512];
            snprintf(why, sizeof why, "%s", gw_ctx_errmsg(m->ctx));
            if (st == GW_ERR_CONFLICT)
                return gw_ctx_error(m->ctx, st, "%s: grid id '%s' already exists (use --replace to reload the layer) [%s]",
                                    m->path, p->vals[0].s, why);
            return gw_ctx_error(m->ctx, st, "%s: grid '%s': %s", m->path, p->vals[0].s, why);
        }
        m->rep.imported++;
    }
    m->rep.merged = m->rep.read - m->rep.skipped - (int64_t)m->npg;
    if (nmerged)
        gw_ctx_warn(m->ctx, "%s: %lld features share an id with another and were merged into %d multipart grid%s: %s%s",
                    m->path, (long long)m->rep.merged, nmerged, nmerged > 1 ? "s" : "", merged, nmerged > 10 ? ", …" : "");
    return GW_OK;
}

static gw_status finish_checks(imp *m)
{
    const char *hint = "swap the coordinates (CSV: --lon-field/--lat-field) or fix the file";
    if (m->rep.swapped)
        return gw_ctx_error_at(m->ctx, GW_ERR_RANGE, (long)m->first_swap_row,
                               "%s: %lld point%s look like lat/lon swapped (first: row %lld, id '%s': lon %.9g, lat %.9g is "
                               "out of range, lon %.9g, lat %.9g would not be): %s", m->path, (long long)m->rep.swapped,
                               m->rep.swapped > 1 ? "s" : "", (long long)m->first_swap_row, m->swid, m->swx, m->swy,
                               m->swy, m->swx, hint);
    if (m->npts > 0 && m->polar == m->npts) {
        m->rep.swapped = m->npts;
        return gw_ctx_error(m->ctx, GW_ERR_RANGE, "%s: all %lld points lie beyond 80° latitude and would not if swapped: "
                            "looks like lat/lon swapped; %s", m->path, (long long)m->npts, hint);
    }
    if (m->have_ext && m->npts >= 3 && m->in_ext == 0 && m->swap_in_ext * 10 >= m->npts * 9) {
        m->rep.swapped = m->swap_in_ext;
        return gw_ctx_error(m->ctx, GW_ERR_RANGE, "%s: no point falls in the grids' extent but %lld of %lld would if "
                            "swapped: looks like lat/lon swapped; %s", m->path, (long long)m->swap_in_ext,
                            (long long)m->npts, hint);
    }
    return GW_OK;
}

static void imp_free(imp *m)
{
    for (size_t i = 0; i < MAXF; i++) free(m->tbuf[i]);
    for (size_t i = 0; i < m->npg; i++) pgrid_free(m->h, &m->pg[i]);
    free(m->pg);
    free(m->hash);
    if (m->tree) GEOSSTRtree_destroy_r(m->h, m->tree);
    for (size_t i = 0; i < m->ngr; i++) {
        GEOSPreparedGeom_destroy_r(m->h, m->gr[i].pg);
        GEOSGeom_destroy_r(m->h, m->gr[i].g);
        free(m->gr[i].id);
    }
    free(m->gr);
    for (size_t i = 0; i < m->nroom; i++) free(m->room_id[i]);
    free(m->room_id), free(m->room_x), free(m->room_y);
    free(m->cand);
    free(m->wkb);
    if (m->rd) GEOSWKBReader_destroy_r(m->h, m->rd);
    if (m->wr) GEOSWKBWriter_destroy_r(m->h, m->wr);
    if (m->oct) OCTDestroyCoordinateTransformation(m->oct);
    gw_crs_transform_destroy(m->gtr);
    gw_inserter_destroy(m->ins);
    if (m->ds) GDALClose(m->ds);
}

static gw_status import_rows(imp *m)
{
    gw_status st;
    GIntBig total = OGR_L_GetFeatureCount(m->lyr, 0);
    OGR_L_ResetReading(m->lyr);
    CPLErrorReset();
    for (;;) {
        OGRFeatureH f = OGR_L_GetNextFeature(m->lyr);
        if (CPLGetLastErrorType() == CE_Failure) {
            if (f) OGR_F_Destroy(f);
            return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)(m->row + 1), "%s: cannot read row %lld: %s", m->path,
                                   (long long)(m->row + 1), gdal_msg());
        }
        if (!f) break;
        m->row++;
        m->rep.read++;
        st = read_values(m, f);
        int defer = 0;
        OGRGeometryH g = st ? NULL : OGR_F_GetGeometryRef(f);
        if (st == GW_OK && !g) st = bad_geom(m, "no geometry", &defer);
        else if (st == GW_OK) st = m->layer == GW_LAYER_GRIDS ? add_polygon(m, f, g) : add_point(m, g);
        OGR_F_Destroy(f);
        if (st) return st;
        if (m->row % PROGRESS_EVERY == 0) gw_ctx_progress(m->ctx, "import", (double)m->row, total > 0 ? (double)total : 0);
    }
    if ((st = finish_checks(m)) != GW_OK) return st;
    if (m->layer == GW_LAYER_GRIDS && (st = flush_grids(m)) != GW_OK) return st;
    gw_ctx_progress(m->ctx, "import", (double)m->row, (double)m->row);
    return GW_OK;
}

/* Import a file into a layer (see io.h).  Decisions:
 *  - ids: `id` must map (--map id=<field>, or a field named id); `--map id=FID` numbers the features
 *    with their OGR FID.  A layer with no id mapping is refused, listing the fields.
 *  - merged counts the extra features folded into a multipart grid (read = imported + merged + skipped).
 *  - cameras: azimuth 0, fov 360 (a dome), range 50 m and status "online" when the source lacks them.
 *  - incidents: `grid`, when not given, is the grid containing the point (lowest id on a shared edge),
 *    NULL outside every grid.
 *  - times: text without an offset is read in opts->tz; integer fields are Unix seconds. */
gw_status gw_io_import(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const gw_import_opts *opts, gw_import_report *report)
{
    if (report) memset(report, 0, sizeof *report);
    if (!ctx) return GW_ERR_ARG;
    if (!store || !path || !gw_layer_name(layer)) return gw_ctx_error(ctx, GW_ERR_ARG, "import: no store, file or layer");
    double t0 = now_s();
    imp *m = calloc(1, sizeof *m);
    if (!m) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    m->ctx = ctx;
    m->h = gw_ctx_geos(ctx);
    m->store = store;
    m->layer = layer;
    m->path = path;
    if (opts) m->o = *opts;
    m->fields = gw_layer_fields(layer, &m->nf);
    for (size_t i = 0; i < TZ_SLOTS; i++) m->tzc_key[i] = INT64_MIN;
    gw_ctx_clear_error(ctx);
    gdal_enter();
    int in_tx = 0;
    gw_status st = open_source(m);
    if (!st) st = map_fields(m);
    if (!st) st = setup_crs(m);
    if (!st && m->o.tz && *m->o.tz) {
        int64_t probe;
        st = gw_time_parse(ctx, "2000-01-01T00:00:00", m->o.tz, &probe); /* refuses an unknown zone */
        const char *z = m->o.tz;
        m->tz_iana = strcmp(z, "UTC") && strcmp(z, "Z") && *z != '+' && *z != '-';
        if (!st && !m->tz_iana) m->tz_fixed = (long)(946684800 - probe);
    }
    if (!st) {
        m->rd = GEOSWKBReader_create_r(m->h);
        m->wr = GEOSWKBWriter_create_r(m->h);
        if (!m->rd || !m->wr) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        else {
            GEOSWKBWriter_setOutputDimension_r(m->h, m->wr, 2);
            GEOSWKBWriter_setFlavor_r(m->h, m->wr, GEOS_WKB_ISO);
        }
    }
    if (!st && (st = gw_store_begin(store)) == GW_OK) in_tx = 1;
    if (!st && m->o.replace) st = gw_store_clear(store, layer);
    if (!st && layer == GW_LAYER_INCIDENTS) st = load_grids(m);
    if (!st && layer == GW_LAYER_INCIDENTS) st = load_rooms(m);
    if (!st && layer != GW_LAYER_GRIDS) {
        if (gw_store_extent(store, GW_LAYER_GRIDS, &m->gext) == GW_OK) m->have_ext = 1;
        gw_ctx_clear_error(ctx);
    }
    if (!st) st = gw_store_inserter_create(store, layer, &m->ins);
    if (!st) st = import_rows(m);
    gw_inserter_destroy(m->ins);
    m->ins = NULL;
    if (!st) st = gw_store_log_change(store, layer, "import", NULL, m->have_bbox ? &m->bbox : NULL, NULL);
    if (!st && m->have_bbox) {
        int srid = 0;
        st = gw_store_metric_srid(store, &srid);
        if (!st && srid == 0)
            st = gw_store_set_metric_srid(store, gw_crs_metric_for((m->bbox.minx + m->bbox.maxx) / 2,
                                                                   (m->bbox.miny + m->bbox.maxy) / 2));
    }
    if (!st) {
        st = gw_store_commit(store);
        if (!st) in_tx = 0;
    }
    if (in_tx) gw_store_rollback(store);
    m->rep.seconds = now_s() - t0;
    if (report) *report = m->rep;
    imp_free(m);
    free(m);
    gdal_leave();
    return st;
}

/* ---- export ------------------------------------------------------------------------------ */

static const char *driver_for(const char *path, const char *format)
{
    if (format && *format) return format;
    if (has_ext(path, ".geojson") || has_ext(path, ".json")) return "GeoJSON";
    if (has_ext(path, ".gpkg")) return "GPKG";
    if (has_ext(path, ".shp")) return "ESRI Shapefile";
    if (has_ext(path, ".csv")) return "CSV";
    return NULL;
}

static void remove_output(GDALDriverH drv, const char *path)
{
    VSIStatBufL sb;
    if (VSIStatL(path, &sb) != 0) return;
    if (GDALDeleteDataset(drv, path) != CE_None) VSIUnlink(path);
    CPLErrorReset();
}

/* Export a layer (see io.h).  Times are written as DateTime (UTC) in GeoJSON and GeoPackage and
 * as ISO 8601 "…Z" text in Shapefile and CSV; coordinates keep full precision (EPSG:4326). */
gw_status gw_io_export(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const char *format, int64_t *n)
{
    if (n) *n = 0;
    if (!ctx) return GW_ERR_ARG;
    if (!store || !path || !gw_layer_name(layer)) return gw_ctx_error(ctx, GW_ERR_ARG, "export: no store, file or layer");
    const char *dname = driver_for(path, format);
    if (!dname)
        return gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "export %s: unknown format (use .geojson, .gpkg, .shp or .csv, or name the driver)", path);
    gdal_enter();
    gw_status st = GW_OK;
    GDALDatasetH ds = NULL;
    OGRSpatialReferenceH srs = NULL;
    OGRFeatureH feat = NULL;
    gw_cursor *cur = NULL;
    int64_t count = 0;
    GDALDriverH drv = GDALGetDriverByName(dname);
    if (!drv) {
        st = gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "export %s: GDAL has no driver '%s'", path, dname);
        goto out;
    }
    int shp = strcmp(dname, "ESRI Shapefile") == 0, gpkg = strcmp(dname, "GPKG") == 0, csv = strcmp(dname, "CSV") == 0;
    int dt_native = gpkg || strcmp(dname, "GeoJSON") == 0;
    int is_point = gw_layer_is_point(layer);
    remove_output(drv, path);
    ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create %s: %s", path, gdal_msg());
        goto out;
    }
    srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4326);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    const char *lco_json[] = {"COORDINATE_PRECISION=15", NULL};
    const char *lco_shp[] = {"ENCODING=UTF-8", "RESIZE=YES", NULL};
    const char *lco_csv[] = {is_point ? "GEOMETRY=AS_XY" : "GEOMETRY=AS_WKT", NULL};
    char **lco = (char **)(shp ? lco_shp : csv ? lco_csv : gpkg ? NULL : lco_json);
    char lname[256];
    if (shp) {
        const char *b = strrchr(path, '/');
        snprintf(lname, sizeof lname, "%s", b ? b + 1 : path);
        char *dot = strrchr(lname, '.');
        if (dot) *dot = '\0';
    } else {
        snprintf(lname, sizeof lname, "%s", gw_layer_name(layer));
    }
    OGRwkbGeometryType gt = is_point ? wkbPoint : (shp || gpkg) ? wkbMultiPolygon : wkbUnknown;
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, lname, srs, gt, lco);
    if (!lyr) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create layer %s in %s: %s", lname, path, gdal_msg());
        goto out;
    }
    size_t nf;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    for (size_t i = 0; i < nf; i++) {
        OGRFieldType t = fields[i].type == GW_FT_INT    ? OFTInteger64
                         : fields[i].type == GW_FT_REAL ? OFTReal
                         : fields[i].type == GW_FT_TIME && dt_native ? OFTDateTime
                                                                      : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, t);
        if (shp && t == OFTString) OGR_Fld_SetWidth(fd, 254);
        OGRErr e = OGR_L_CreateField(lyr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create field %s in %s: %s", fields[i].name, path, gdal_msg());
            goto out;
        }
    }
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    feat = OGR_F_Create(defn);
    if ((st = gw_store_cursor_create(store, layer, &cur)) != GW_OK) goto out;
    if (gpkg) GDALDatasetStartTransaction(ds, FALSE);
    gw_row r;
    while ((st = gw_cursor_next(cur, &r)) == GW_OK) {
        for (size_t i = 0; i < nf; i++) {
            const gw_value *v = &r.values[i];
            int fi = (int)i; /* fields were created in canonical order */
            if (v->kind == GW_VAL_NULL) OGR_F_SetFieldNull(feat, fi);
            else if (fields[i].type == GW_FT_TIME && v->kind == GW_VAL_INT) {
                if (dt_native) {
                    time_t tt = (time_t)v->i;
                    struct tm tm;
                    gmtime_r(&tt, &tm);
                    OGR_F_SetFieldDateTimeEx(feat, fi, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                             tm.tm_min, (float)tm.tm_sec, 100);
                } else {
                    char b[32];
                    gw_time_format(v->i, b, sizeof b);
                    OGR_F_SetFieldString(feat, fi, b);
                }
            } else if (v->kind == GW_VAL_TEXT) OGR_F_SetFieldString(feat, fi, v->s ? v->s : "");
            else if (v->kind == GW_VAL_INT) OGR_F_SetFieldInteger64(feat, fi, v->i);
            else OGR_F_SetFieldDouble(feat, fi, v->d);
        }
        OGRGeometryH g = NULL;
        if (r.wkb && r.wkb_len) {
            if (OGR_G_CreateFromWkbEx(r.wkb, NULL, &g, r.wkb_len) != OGRERR_NONE) {
                st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "export %s: unreadable stored geometry of '%s'", path,
                                  r.values[0].kind == GW_VAL_TEXT ? r.values[0].s : "?");
                goto out;
            }
            if (!is_point && gt == wkbMultiPolygon) g = OGR_G_ForceToMultiPolygon(g);
        }
        OGR_F_SetGeometryDirectly(feat, g);
        OGR_F_SetFID(feat, OGRNullFID);
        if (OGR_L_CreateFeature(lyr, feat) != OGRERR_NONE) {
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: cannot write '%s': %s", path,
                              r.values[0].kind == GW_VAL_TEXT ? r.values[0].s : "?", gdal_msg());
            goto out;
        }
        count++;
    }
    if (st != GW_ERR_NOT_FOUND) goto out;
    st = GW_OK;
    gw_ctx_clear_error(ctx);
    if (gpkg && GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: commit failed: %s", path, gdal_msg());
out:
    gw_cursor_destroy(cur);
    if (feat) OGR_F_Destroy(feat);
    if (srs) OSRRelease(srs);
    if (ds) {
        CPLErrorReset();
        GDALClose(ds);
        if (!st && CPLGetLastErrorType() == CE_Failure)
            st = gw_ctx_error(ctx, GW_ERR_IO, "export %s: %s", path, gdal_msg());
    }
    if (st && drv) remove_output(drv, path);
    if (!st && n) *n = count;
    gdal_leave();
    return st;
}
