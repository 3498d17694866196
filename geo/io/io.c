/* io.c — import and export of layers through GDAL/OGR (the contract is include/gridwatch/io.h).
 *
 * Import is where customers' files meet the data model: every field, coordinate and geometry is
 * checked here, one transaction per file, so that a bad row names itself and changes nothing. */
#include "io_internal.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <iconv.h>
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

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }

/* GDAL's error stack is per thread: quiet it for our calls, read messages back ourselves. */
void io_gdal_enter(void)
{
    pthread_once(&gdal_once, gdal_init);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
}
void io_gdal_leave(void) { CPLPopErrorHandler(); }
const char *io_gdal_msg(void)
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

int io_has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

void io_grow_bbox(imp *m, double x0, double y0, double x1, double y1)
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

const char *io_row_id(const imp *m)
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

const char *const gw_io_upload_drivers[] = {"GeoJSON", "GeoJSONSeq", "GPKG", "ESRI Shapefile",
                                            "DXF",     "KML",        "CSV",  NULL};

/* Columns of a CSV header line matching one of the comma-separated names (case-insensitive,
 * quotes and spaces trimmed); their names go to buf.  GDAL 3.6's CSV driver dereferences NULL
 * reading a file in which two columns match X_POSSIBLE_NAMES (or Y_…) with
 * KEEP_GEOM_COLUMNS=NO ("longitude" and "lon"; "lon" twice), so such a file is refused first. */
static int csv_matches(const char *header, const char *names, char *buf, size_t cap)
{
    int n = 0;
    buf[0] = '\0';
    for (const char *p = header; *p;) {
        size_t len = strcspn(p, ",;\t\r\n");
        const char *a = p, *b = p + len;
        while (a < b && (*a == ' ' || *a == '"')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '"')) b--;
        for (const char *q = names; *q && b > a;) {
            size_t ql = strcspn(q, ",");
            if (ql == (size_t)(b - a) && strncasecmp(q, a, ql) == 0) {
                size_t used = strlen(buf);
                snprintf(buf + used, cap - used, "%s%.*s", n ? ", " : "", (int)ql, a);
                n++;
                break;
            }
            q += ql + (q[ql] == ',');
        }
        if (p[len] == '\0' || p[len] == '\r' || p[len] == '\n') break;
        p += len + 1;
    }
    return n;
}

static gw_status csv_check_header(imp *m, const char *xnames, const char *ynames)
{
    FILE *f = fopen(m->open_path ? m->open_path : m->path, "rb");
    if (!f) return GW_OK; /* GDAL says why */
    char line[8192], got[512];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *h = strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
    const char *names[2] = {xnames + strlen("X_POSSIBLE_NAMES="),
                            ynames + strlen("Y_POSSIBLE_NAMES=")};
    for (int k = 0; k < 2; k++)
        if (csv_matches(h, names[k], got, sizeof got) > 1)
            return gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                                "%s has several %s columns (%s): name the one to use with %s",
                                m->path, k ? "latitude" : "longitude", got, k ? "--lat" : "--lon");
    return GW_OK;
}

/* The column names GDAL looks for when the import names none (matched without regard to case;
 * a CSV from a Chinese spreadsheet says 经度/纬度). */
#define CSV_LON_NAMES "经度,longitude,long,lon,lng,x"
#define CSV_LAT_NAMES "纬度,latitude,lat,y"

static gw_status open_source(imp *m)
{
    struct stat sb;
    if (stat(m->path, &sb) != 0)
        return gw_ctx_error(m->ctx, GW_ERR_IO, "cannot open %s: %s", m->path, strerror(errno));
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s is empty (0 bytes): nothing to import",
                            m->path);
    char xo[256], yo[256];
    snprintf(xo, sizeof xo, "X_POSSIBLE_NAMES=%s", m->o.lon_field ? m->o.lon_field : CSV_LON_NAMES);
    snprintf(yo, sizeof yo, "Y_POSSIBLE_NAMES=%s", m->o.lat_field ? m->o.lat_field : CSV_LAT_NAMES);
    const char *csv_oo[] = {xo, yo, "KEEP_GEOM_COLUMNS=NO", "EMPTY_STRING_AS_NULL=YES", NULL};
    int csv = io_has_ext(m->path, ".csv") || io_has_ext(m->path, ".tsv") ||
              io_has_ext(m->path, ".txt");
    if (m->o.drivers && strncmp(m->path, "/vsi", 4) == 0)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "an upload is read from a plain file only");
    char shp_enc[96] = "";
    const char *shp_oo[] = {shp_enc, NULL};
    if (csv && S_ISREG(sb.st_mode)) {
        gw_status st = io_csv_encoding(m);
        if (!st) st = csv_check_header(m, xo, yo);
        if (st) return st;
    } else if (S_ISREG(sb.st_mode)) {
        gw_status st = io_shp_encoding(m, shp_enc, sizeof shp_enc);
        if (st) return st;
    }
    /* what the steps above did not decode is recoded value by value (strictly) */
    m->recode_values = m->o.encoding && !csv && !shp_enc[0];
    m->ds = GDALOpenEx(m->open_path ? m->open_path : m->path, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                       m->o.drivers,
                       csv          ? csv_oo
                       : shp_enc[0] ? shp_oo
                                    : NULL,
                       NULL);
    if (!m->ds && m->o.drivers)
        /* GDAL's message could quote what it read; the upload's format is what matters */
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT,
                            "%s is not a GeoJSON, GeoPackage, Shapefile (zipped), DXF, KML or CSV "
                            "file",
                            m->path);
    if (!m->ds)
        return gw_ctx_error(m->ctx, GW_ERR_FORMAT, "%s is not a readable vector file: %s", m->path,
                            io_gdal_msg());
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
            return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "%s has no layer '%s' (layers: %s)",
                                m->path, m->o.source_layer, names);
    } else {
        m->lyr = GDALDatasetGetLayer(m->ds, 0);
        if (nl > 1)
            gw_ctx_warn(
                m->ctx,
                "%s has %d layers (%s); importing the first, '%s' (choose with --source-layer)",
                m->path, nl, names, OGR_L_GetName(m->lyr));
    }
    m->defn = OGR_L_GetLayerDefn(m->lyr);
    if (OGR_FD_GetGeomFieldCount(m->defn) == 0) {
        char f[512];
        list_fields(m->defn, f, sizeof f);
        if (csv)
            return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                                "%s: no longitude/latitude columns found (looked for %s and %s, "
                                "in any case; the header has: %s): name them with --lon COLUMN "
                                "--lat COLUMN",
                                m->path, m->o.lon_field ? m->o.lon_field : CSV_LON_NAMES,
                                m->o.lat_field ? m->o.lat_field : CSV_LAT_NAMES, f);
        return gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND, "%s layer '%s' has no geometry (fields: %s)",
                            m->path, OGR_L_GetName(m->lyr), f);
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

/* Other names the grids' jurisdiction fields go by in source data (Chinese and English); an
 * alias maps only a field that no source field names exactly, and only a source field nothing
 * else took.  First listed, first tried. */
static const struct {
    const char *canon, *alias;
} grid_aliases[] = {
    {"prefecture", "州"},     {"prefecture", "市"},     {"prefecture", "地市"},
    {"prefecture", "地级市"}, {"prefecture", "city"},   {"county", "区县"},
    {"county", "县"},         {"county", "区"},         {"township", "乡镇"},
    {"township", "街道"},     {"township", "乡镇街道"}, {"village", "村"},
    {"village", "社区"},      {"village", "村/社区"},   {"village", "村居"},
    {"village", "community"},
};

static void map_aliases(imp *m, int nsrc)
{
    if (m->layer != GW_LAYER_GRIDS) return;
    for (size_t a = 0; a < sizeof grid_aliases / sizeof grid_aliases[0]; a++) {
        int ci = gw_layer_field_index(m->layer, grid_aliases[a].canon);
        if (ci < 0 || m->src[ci] != -1) continue;
        for (int j = 0; j < nsrc; j++) {
            if (strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, j)),
                           grid_aliases[a].alias) != 0)
                continue;
            int taken = 0;
            for (size_t i = 0; i < m->nf && !taken; i++) taken = m->src[i] == j;
            if (!taken) m->src[ci] = j;
            break;
        }
    }
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
            for (char *e = src + strlen(src) - 1; e >= src && isspace((unsigned char)*e); e--)
                *e = '\0';
            int ci = gw_layer_field_index(m->layer, canon);
            if (ci < 0) {
                char cf[256];
                size_t len = 0;
                for (size_t i = 0; i < m->nf; i++)
                    len += (size_t)snprintf(cf + len, sizeof cf - len, "%s%s", i ? ", " : "",
                                            m->fields[i].name);
                gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                             "--map: '%s' is not a field of %s (fields: %s)", canon,
                             gw_layer_name(m->layer), cf);
                free(copy);
                return GW_ERR_NOT_FOUND;
            }
            int si = OGR_FD_GetFieldIndex(m->defn, src);
            if (si < 0 && strcasecmp(src, "FID") == 0) si = FID_SOURCE;
            if (si == -1) {
                gw_ctx_error(m->ctx, GW_ERR_NOT_FOUND,
                             "--map %s=%s: %s has no field '%s' (fields: %s)", canon, src, m->path,
                             src, avail);
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
            if (src_matches(m, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, j)),
                            m->fields[i].name)) {
                m->src[i] = j;
                break;
            }
    }
    map_aliases(m, nsrc);
    if (m->src[0] == -1)
        return gw_ctx_error(
            m->ctx, GW_ERR_NOT_FOUND,
            "%s has no field 'id': map one with --map id=<field> (fields: %s), or id=FID to number "
            "the features",
            m->path, avail);
    for (size_t i = 0; i < m->nf; i++)
        m->stype[i] = m->src[i] >= 0 ? OGR_Fld_GetType(OGR_FD_GetFieldDefn(m->defn, m->src[i]))
                                     : OFTString;
    /* Drivers that can (CSV, GPKG, Shapefile) then skip the columns nobody asked for. */
    char **ignored = NULL;
    for (int j = 0; j < nsrc; j++) {
        int used = 0;
        for (size_t i = 0; i < m->nf && !used; i++) used = m->src[i] == j;
        if (!used)
            ignored = CSLAddString(ignored, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, j)));
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

static int dig2(const char *p)
{
    return isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])
               ? (p[0] - '0') * 10 + (p[1] - '0')
               : -1;
}

/* The common ISO 8601 forms without sscanf: "YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|±HH[[:]MM]]".
 * Returns 1 with the wall time (and the offset when the text has one), 0 to let gw_time_parse
 * handle (and word the error for) anything else. */
static int fast_iso(const char *s, int64_t *wall, int *has_off, long *off)
{
    while (*s == ' ') s++;
    /* y2 only after y1: dig2(s + 2) would read past the end of a one-character text */
    int y1 = dig2(s), y2 = y1 < 0 ? -1 : dig2(s + 2), mo, d, h = 0, mi = 0, sec = 0;
    if (y1 < 0 || y2 < 0 || s[4] != '-' || (mo = dig2(s + 5)) < 0 || s[7] != '-' ||
        (d = dig2(s + 8)) < 0)
        return 0;
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
    if (gw_time_from_civil(y1 * 100 + y2, mo, d, h, mi, sec, wall))
        return 0; /* gw_time_parse says why */
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
static gw_status parse_time_raw(imp *m, const char *s, int64_t *out)
{
    int64_t wall;
    int has_off;
    long off;
    if (!fast_iso(s, &wall, &has_off, &off)) {
        int64_t a, b; /* offset-less when two zones read it differently */
        if (gw_time_parse(m->ctx, s, "+00:00", &a) == GW_OK &&
            gw_time_parse(m->ctx, s, "+01:00", &b) == GW_OK && a != b) {
            if (!m->o.tz) return GW_ERR_ARG;
            m->rep.local_times++;
        }
        return gw_time_parse(m->ctx, s, m->o.tz, out);
    }
    if (has_off) {
        *out = wall - off;
        return GW_OK;
    }
    if (!m->o.tz) return GW_ERR_ARG; /* no offset and no zone given: refused, not guessed */
    m->rep.local_times++;
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
    return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)m->row,
                           "%s row %lld (id '%s'): field %s (source '%s'): '%s' is not %s", m->path,
                           (long long)m->row, i ? io_row_id(m) : "?", m->fields[i].name,
                           OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, m->src[i])), text, what);
}

/* A time of the file, refused outside the years a stored time must lie in (gw_time_check),
 * and refused without a UTC offset unless the import names the zone (--tz): 8 hours either
 * way is not a default to take silently. */
static gw_status parse_time(imp *m, size_t i, const char *s, int64_t *out)
{
    gw_status st = parse_time_raw(m, s, out);
    if (st == GW_ERR_ARG && !m->o.tz)
        return bad_value(m, i, s,
                         "a time with a UTC offset, and neither the import nor the database names "
                         "a zone: give --tz with the zone the file's times are in (e.g. --tz "
                         "Asia/Shanghai, --tz America/Chicago, --tz +08:00 or --tz UTC), or set "
                         "the database's default once with gridwatch init DB --tz ZONE");
    if (!st) st = gw_time_check(m->ctx, NULL, *out);
    return st ? bad_value(m, i, s,
                          "an ISO 8601 time of a real day in the years 1900–2100 (e.g. "
                          "2018-01-01T13:05:00+08:00)")
              : GW_OK;
}

/* A text field: recoded when --encoding names what no driver option did, UTF-8 checked, and a
 * jurisdiction name without '/'.  Strings are the feature's own storage; other types share one
 * scratch buffer per field, so they are copied. */
static gw_status read_text(imp *m, size_t i, const char *s, OGRFieldType t)
{
    gw_value *v = &m->vals[i];
    if (m->recode_values) {
        int na = 0;
        if (!io_is_utf8_name(m->o.encoding) &&
            io_utf8_check((const unsigned char *)s, strlen(s), &na) == strlen(s) && na)
            return bad_value(m, i, s,
                             "text in the encoding --encoding names: it is UTF-8 (leave "
                             "--encoding out)");
        char *u = io_recode_value(s, m->o.encoding);
        if (!u) return bad_value(m, i, "(bytes that do not decode)", m->o.encoding);
        s = keep_text(m, i, u);
        free(u);
        if (!s) return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
    }
    if (!CPLIsUTF8(s, -1))
        return bad_value(m, i, "(bytes that are not UTF-8)",
                         "UTF-8 text: the file is in another encoding; name it with --encoding "
                         "(GB18030 for GBK/GB2312 files, Big5, ISO-8859-1)");
    if (!m->recode_values && t != OFTString && !(s = keep_text(m, i, s)))
        return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
    if (*s) {
        v->kind = GW_VAL_TEXT;
        v->s = s;
    }
    if (*s && gw_layer_juris_level(m->layer, m->fields[i].name) && gw_juris_name_problem(s))
        return bad_value(m, i, s,
                         "a jurisdiction name: '/' separates the levels of a jurisdiction path "
                         "(prefecture/county/township/village), so a name cannot contain it");
    return GW_OK;
}

gw_status io_read_values(imp *m, OGRFeatureH f)
{
    for (size_t i = 0; i < m->nf; i++) {
        gw_value *v = &m->vals[i];
        *v = (gw_value){GW_VAL_NULL, NULL, 0, 0};
        int si = m->src[i];
        if (si == FID_SOURCE) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)OGR_F_GetFID(f));
            v->kind = GW_VAL_TEXT;
            if (!(v->s = keep_text(m, i, b)))
                return gw_ctx_error(m->ctx, GW_ERR_NOMEM, "out of memory");
            continue;
        }
        if (si < 0 || !OGR_F_IsFieldSetAndNotNull(f, si)) continue;
        OGRFieldType t = m->stype[i];
        int numeric = t == OFTInteger || t == OFTInteger64 || t == OFTReal;
        switch (m->fields[i].type) {
        case GW_FT_TEXT: {
            gw_status st = read_text(m, i, OGR_F_GetFieldAsString(f, si), t);
            if (st) return st;
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
                int n = snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, hh, mi,
                                 (int)sec);
                if (tzf == 100) {
                    snprintf(b + n, sizeof b - (size_t)n, "Z");
                } else if (tzf > 1) {
                    int off = (tzf - 100) * 15;
                    snprintf(b + n, sizeof b - (size_t)n, "%c%02d:%02d", off < 0 ? '-' : '+',
                             abs(off) / 60, abs(off) % 60);
                }
                gw_status st = parse_time(m, i, b, &v->i);
                if (st) return st;
                v->kind = GW_VAL_INT;
            } else {
                const char *s = OGR_F_GetFieldAsString(f, si);
                if (blank(s)) break;
                gw_status st = parse_time(m, i, s, &v->i);
                if (st) return st;
                v->kind = GW_VAL_INT;
            }
            break;
        }
    }
    if (m->vals[0].kind != GW_VAL_TEXT)
        return gw_ctx_error_at(m->ctx, GW_ERR_FORMAT, (long)m->row,
                               "%s row %lld: empty id (source field '%s')", m->path,
                               (long long)m->row,
                               m->src[0] >= 0
                                   ? OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(m->defn, m->src[0]))
                                   : "FID");
    if (m->layer == GW_LAYER_CAMERAS) {
        static const struct {
            const char *name;
            double d;
        } dflt[] = {{"azimuth", CAM_DEFAULT_AZIMUTH},
                    {"fov", CAM_DEFAULT_FOV},
                    {"range", CAM_DEFAULT_RANGE}};
        for (size_t k = 0; k < 3; k++) {
            int fi = gw_layer_field_index(m->layer, dflt[k].name);
            if (fi >= 0 && m->vals[fi].kind == GW_VAL_NULL)
                m->vals[fi] = (gw_value){GW_VAL_REAL, NULL, 0, dflt[k].d};
        }
        int si = gw_layer_field_index(m->layer, "status");
        if (si >= 0 && m->vals[si].kind == GW_VAL_NULL)
            m->vals[si] = (gw_value){GW_VAL_TEXT, CAM_DEFAULT_STATUS, 0, 0};
    }
    return GW_OK;
}

gw_status gw_io_import(gw_ctx *ctx, gw_store *store, gw_layer layer, const char *path,
                       const gw_import_opts *opts, gw_import_report *report)
{
    if (report) memset(report, 0, sizeof *report);
    if (!ctx) return GW_ERR_ARG;
    if (!store || !path || !gw_layer_name(layer))
        return gw_ctx_error(ctx, GW_ERR_ARG, "import: no store, file or layer");
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
    io_gdal_enter();
    int in_tx = 0;
    gw_status st = GW_OK;
    if (m->o.encoding && !*m->o.encoding) m->o.encoding = NULL;
    if (m->o.encoding) /* an unknown name is refused up front, not met row by row */
        st = io_encoding_check_name(ctx, m->o.encoding);
    if (!st && (!m->o.tz || !*m->o.tz)) { /* the database's default zone (init --tz) */
        if (gw_store_meta_get(store, "default_tz", m->dbtz, sizeof m->dbtz) == GW_OK &&
            m->dbtz[0]) {
            m->o.tz = m->dbtz;
            m->rep.tz_from_db = 1;
        } else {
            m->o.tz = NULL;
        }
        gw_ctx_clear_error(ctx);
    }
    if (!st && m->o.tz) snprintf(m->rep.tz, sizeof m->rep.tz, "%s", m->o.tz);
    if (!st) st = open_source(m);
    if (!st) st = map_fields(m);
    if (!st) st = io_setup_crs(m);
    if (!st && m->o.tz && *m->o.tz) {
        int64_t probe;
        st = gw_time_parse(ctx, "2000-01-01T00:00:00", m->o.tz,
                           &probe); /* refuses an unknown zone */
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
    if (!st && layer == GW_LAYER_INCIDENTS) st = io_load_grids(m);
    if (!st && layer == GW_LAYER_INCIDENTS) st = io_load_rooms(m);
    if (!st && layer != GW_LAYER_GRIDS) {
        if (gw_store_extent(store, GW_LAYER_GRIDS, &m->gext) == GW_OK) m->have_ext = 1;
        gw_ctx_clear_error(ctx);
    }
    if (!st) st = gw_store_inserter_create(store, layer, &m->ins);
    if (!st) st = io_import_rows(m);
    gw_inserter_destroy(m->ins);
    m->ins = NULL;
    if (!st)
        st = gw_store_log_change(store, layer, "import", NULL, m->have_bbox ? &m->bbox : NULL,
                                 NULL);
    if (!st && m->have_bbox) {
        int srid = 0;
        st = gw_store_metric_srid(store, &srid);
        if (!st && srid == 0)
            st = gw_store_set_metric_srid(store,
                                          gw_crs_metric_for((m->bbox.minx + m->bbox.maxx) / 2,
                                                            (m->bbox.miny + m->bbox.maxy) / 2));
    }
    if (!st) {
        st = gw_store_commit(store);
        if (!st) in_tx = 0;
    }
    if (in_tx) gw_store_rollback(store);
    m->rep.seconds = now_s() - t0;
    if (report) *report = m->rep;
    io_imp_free(m);
    io_tmp_cleanup(m);
    free(m->open_path);
    free(m);
    io_gdal_leave();
    return st;
}
