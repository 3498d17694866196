/* layer.c — the table of layers and canonical fields, and the time helpers every layer uses.
 *
 * Field names are those of the product brief; imports map source fields onto them. */
#include "gridwatch/layer.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const gw_field grid_fields[] = {
    {"id", GW_FT_TEXT},
    {"name", GW_FT_TEXT},
    {"township", GW_FT_TEXT},
    {"county", GW_FT_TEXT},
    {"population", GW_FT_INT},
    {"households", GW_FT_INT},
    {"worker", GW_FT_TEXT},
    {"phone", GW_FT_TEXT},
    /* Appended (schema 7) rather than beside county/township: code that reads grid rows by
     * position (the plan room, tile field lists) keeps its indices. */
    {"prefecture", GW_FT_TEXT},
    {"village", GW_FT_TEXT},
};
static const gw_field room_fields[] = {
    {"id", GW_FT_TEXT},
    {"name", GW_FT_TEXT},
    {"phone", GW_FT_TEXT},
    {"address", GW_FT_TEXT},
};
static const gw_field camera_fields[] = {
    {"id", GW_FT_TEXT},    {"name", GW_FT_TEXT},   {"azimuth", GW_FT_REAL}, {"fov", GW_FT_REAL},
    {"range", GW_FT_REAL}, {"height", GW_FT_REAL}, {"status", GW_FT_TEXT},
};
static const gw_field team_fields[] = {
    {"id", GW_FT_TEXT},     {"name", GW_FT_TEXT},       {"status", GW_FT_TEXT},
    {"members", GW_FT_INT}, {"updated_at", GW_FT_TIME},
};
static const gw_field incident_fields[] = {
    {"id", GW_FT_TEXT},      {"occurred_at", GW_FT_TIME}, {"category", GW_FT_TEXT},
    {"severity", GW_FT_INT}, {"status", GW_FT_TEXT},      {"description", GW_FT_TEXT},
    {"grid", GW_FT_TEXT},    {"police_room", GW_FT_TEXT},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct {
    const char *name;
    const gw_field *fields;
    size_t n;
} layers[GW_LAYER_COUNT] = {
    {"grids", grid_fields, N(grid_fields)},
    {"police_rooms", room_fields, N(room_fields)},
    {"cameras", camera_fields, N(camera_fields)},
    {"teams", team_fields, N(team_fields)},
    {"incidents", incident_fields, N(incident_fields)},
};

const char *gw_layer_name(gw_layer layer)
{
    if ((int)layer < 0 || layer >= GW_LAYER_COUNT) return NULL;
    return layers[layer].name;
}

gw_status gw_layer_from_name(const char *name, gw_layer *out)
{
    if (!name || !out) return GW_ERR_ARG;
    for (int i = 0; i < GW_LAYER_COUNT; i++) {
        if (strcmp(name, layers[i].name) == 0) {
            *out = (gw_layer)i;
            return GW_OK;
        }
    }
    return GW_ERR_NOT_FOUND;
}

int gw_layer_is_point(gw_layer layer) { return layer != GW_LAYER_GRIDS; }

const gw_field *gw_layer_fields(gw_layer layer, size_t *n)
{
    if ((int)layer < 0 || layer >= GW_LAYER_COUNT) {
        if (n) *n = 0;
        return NULL;
    }
    if (n) *n = layers[layer].n;
    return layers[layer].fields;
}

int gw_layer_field_index(gw_layer layer, const char *name)
{
    size_t n;
    const gw_field *f = gw_layer_fields(layer, &n);
    for (size_t i = 0; f && name && i < n; i++)
        if (strcmp(f[i].name, name) == 0) return (int)i;
    return -1;
}

static const char *const juris_fields[5] = {"prefecture", "county", "township", "village", NULL};

const char *gw_juris_field(int level)
{
    return level >= 1 && level <= 4 ? juris_fields[level - 1] : NULL;
}

int gw_layer_juris_level(gw_layer layer, const char *field)
{
    if (layer != GW_LAYER_GRIDS || !field) return 0;
    for (int i = 0; juris_fields[i]; i++)
        if (strcmp(juris_fields[i], field) == 0) return i + 1;
    return 0;
}

const char *gw_juris_name_problem(const char *name)
{
    if (name && strchr(name, '/'))
        return "a jurisdiction name cannot contain '/', which separates the levels of a "
               "jurisdiction path (prefecture/county/township/village)";
    return NULL;
}

const char *gw_layer_time_field(gw_layer layer)
{
    size_t n;
    const gw_field *f = gw_layer_fields(layer, &n);
    for (size_t i = 0; f && i < n; i++)
        if (f[i].type == GW_FT_TIME) return f[i].name;
    return NULL;
}

void gw_time_format(int64_t unix_s, char *buf, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int mo)
{
    static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo == 2 ? 28 + leap : n[mo - 1];
}

int gw_time_from_civil(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 24 || mi < 0 ||
        mi > 59 || s < 0 || s > 60 || (h == 24 && (mi || s)))
        return -1;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

/* Parse "+08:00", "-0500", "+08", "Z" at s; returns chars consumed (0 = none) and the offset. */
static int parse_offset(const char *s, long *off_s)
{
    if (*s == 'Z' || *s == 'z') {
        *off_s = 0;
        return 1;
    }
    if (*s != '+' && *s != '-') return 0;
    int sign = *s == '-' ? -1 : 1;
    const char *p = s + 1;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1])) return 0;
    long h = (p[0] - '0') * 10 + (p[1] - '0'), m = 0;
    p += 2;
    if (*p == ':') p++;
    if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
    }
    if (h > 14 || m > 59) return 0;
    *off_s = sign * (h * 3600 + m * 60);
    return (int)(p - s);
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* Local wall time in an IANA zone to UTC.  TZ is process-global, so this holds a lock. */
static gw_status local_to_utc(gw_ctx *ctx, const char *zone, int64_t wall, int64_t *out)
{
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
    if (strstr(zone, "..") || access(path, R_OK) != 0)
        return gw_ctx_error(
            ctx, GW_ERR_ARG,
            "unknown time zone '%s' (use an IANA name such as Asia/Shanghai, or an offset such as +08:00)",
            zone);
    time_t t = (time_t)wall;
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_isdst = -1;
    pthread_mutex_lock(&tz_lock);
    char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", zone, 1);
    tzset();
    time_t r = mktime(&tm);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    pthread_mutex_unlock(&tz_lock);
    *out = (int64_t)r;
    return GW_OK;
}

const char *const *gw_layer_statuses(gw_layer layer)
{
    static const char *const cams[] = {"online", "offline", "maintenance", NULL};
    static const char *const teams[] = {"available", "busy", "offline", NULL};
    /* open/dispatched/closed, and the incident flow's states (geo/flow, which sets status) */
    static const char *const incs[] = {"open",     "dispatched", "closed",    "reported",
                                       "accepted", "assigned",   "on_scene",  "resolved",
                                       "returned", "reopened",   "escalated", NULL};
    switch (layer) {
    case GW_LAYER_CAMERAS: return cams;
    case GW_LAYER_TEAMS: return teams;
    case GW_LAYER_INCIDENTS: return incs;
    default: return NULL;
    }
}

gw_status gw_time_check(gw_ctx *ctx, const char *what, int64_t unix_s)
{
    if (unix_s >= GW_TIME_MIN_S && unix_s <= GW_TIME_MAX_S) return GW_OK;
    return gw_ctx_error(ctx, GW_ERR_RANGE,
                        "%s: %lld s since 1970 is outside the years 1900–2100 a stored time "
                        "must lie in",
                        what ? what : "time", (long long)unix_s);
}

gw_status gw_time_parse(gw_ctx *ctx, const char *text, const char *default_tz, int64_t *unix_s)
{
    if (!text || !unix_s) return gw_ctx_error(ctx, GW_ERR_ARG, "no time given");
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    if (sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) goto bad;
    p += n;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        int n2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n2) != 2 || n2 != 5) goto bad;
        p += 1 + n2;
        if (*p == ':') {
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2])) goto bad;
            s = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                while (isdigit((unsigned char)*p)) p++;
            }
        }
    }
    int64_t wall;
    if (gw_time_from_civil(y, mo, d, h, mi, s, &wall))
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "'%s' names a date or time that does not exist "
                            "(%04d-%02d-%02d %02d:%02d:%02d)",
                            text, y, mo, d, h, mi, s);
    long off = 0;
    int used = parse_offset(p, &off);
    if (used) {
        p += used;
        while (isspace((unsigned char)*p)) p++;
        if (*p) goto bad;
        *unix_s = wall - off;
        return GW_OK;
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) goto bad;
    if (!default_tz || !*default_tz || strcmp(default_tz, "UTC") == 0 ||
        strcmp(default_tz, "Z") == 0) {
        *unix_s = wall;
        return GW_OK;
    }
    used = parse_offset(default_tz, &off);
    if (used && default_tz[used] == '\0') {
        *unix_s = wall - off;
        return GW_OK;
    }
    return local_to_utc(ctx, default_tz, wall, unix_s);
bad:
    return gw_ctx_error(
        ctx, GW_ERR_FORMAT,
        "'%s' is not an ISO 8601 time (expected e.g. 2018-01-01T13:05:00Z or 2018-01-01 13:05:00)",
        text);
}

gw_status gw_geom_check(gw_ctx *ctx, const char *what, const GEOSGeometry *g, int lonlat)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    int parts = GEOSGetNumGeometries_r(h, g), n = GEOSGetNumCoordinates_r(h, g);
    if (parts < 0 || n < 0)
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s: %s", what, gw_ctx_geos_errmsg(ctx));
    if (n > GW_GEOM_MAX_VERTICES)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "%s: %d vertices; a geometry may have at most " GW_STR(
                                GW_GEOM_MAX_VERTICES) " (simplify it first)",
                            what, n);
    if (parts > GW_GEOM_MAX_PARTS)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "%s: %d parts; a geometry may have at most " GW_STR(
                                GW_GEOM_MAX_PARTS) " (is it the right layer?)",
                            what, parts);
    double x0, y0, x1, y1;
    if (!lonlat || GEOSisEmpty_r(h, g) == 1) return GW_OK;
    if (!GEOSGeom_getXMin_r(h, g, &x0) || !GEOSGeom_getYMin_r(h, g, &y0) ||
        !GEOSGeom_getXMax_r(h, g, &x1) || !GEOSGeom_getYMax_r(h, g, &y1))
        return gw_ctx_error(ctx, GW_ERR_GEOMETRY, "%s: %s", what, gw_ctx_geos_errmsg(ctx));
    if (!(x0 >= -180 && x1 <= 180 && y0 >= -90 && y1 <= 90)) /* NaN fails too */
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "%s: coordinates out of range (lon %.9g to %.9g, lat %.9g to %.9g in "
                            "EPSG:4326): lon must be within [-180, 180] and lat within [-90, 90]",
                            what, x0, x1, y0, y1);
    return GW_OK;
}

int gw_juris_contains(const char *scope, const char *path)
{
    if (!scope || !*scope) return 1;
    if (!path) return 0;
    size_t n = strlen(scope);
    return strncmp(path, scope, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
