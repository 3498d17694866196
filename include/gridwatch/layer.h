/* layer.h — the five layers of the data model and their canonical fields.
 *
 * One table describes every layer, so that the store, import/export, the model and the HTTP
 * API agree on names and types without repeating them.  Field 0 of every layer is "id". */
#ifndef GRIDWATCH_LAYER_H
#define GRIDWATCH_LAYER_H

#include "gridwatch/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_layer {
    GW_LAYER_GRIDS = 0,
    GW_LAYER_POLICE_ROOMS,
    GW_LAYER_CAMERAS,
    GW_LAYER_TEAMS,
    GW_LAYER_INCIDENTS,
    GW_LAYER_COUNT
} gw_layer;

typedef enum gw_ftype {
    GW_FT_TEXT = 0,
    GW_FT_INT,  /* 64-bit integer */
    GW_FT_REAL, /* double */
    GW_FT_TIME /* an instant: carried as int64 Unix seconds (UTC), stored as ISO 8601 "…Z" text */
} gw_ftype;

typedef struct gw_field {
    const char *name;
    gw_ftype type;
} gw_field;

/* A field value.  kind GW_VAL_NULL means SQL NULL; text is borrowed (not copied by callers that
 * only read it).  GW_FT_TIME fields use kind GW_VAL_INT with Unix seconds. */
typedef enum gw_val_kind { GW_VAL_NULL = 0, GW_VAL_TEXT, GW_VAL_INT, GW_VAL_REAL } gw_val_kind;
typedef struct gw_value {
    gw_val_kind kind;
    const char *s;
    int64_t i;
    double d;
} gw_value;

/* "grids", "police_rooms", "cameras", "teams", "incidents"; NULL for an out-of-range layer. */
const char *gw_layer_name(gw_layer layer);
/* Parse a layer name; GW_ERR_NOT_FOUND for an unknown one. */
gw_status gw_layer_from_name(const char *name, gw_layer *out);
/* 1 for point layers (everything but grids). */
int gw_layer_is_point(gw_layer layer);
/* The canonical fields of a layer, in storage order; *n receives their count.  Static storage. */
const gw_field *gw_layer_fields(gw_layer layer, size_t *n);
/* The layer's time field ("occurred_at" for incidents, "updated_at" for teams), or NULL. */
const char *gw_layer_time_field(gw_layer layer);
/* Index of a field by name in gw_layer_fields(), or -1. */
int gw_layer_field_index(gw_layer layer, const char *name);

/* The jurisdiction level a grids field names: 1 prefecture, 2 county, 3 township, 4 village;
 * 0 for any other field or layer.  A grid's jurisdiction path is the non-empty values of these
 * fields in level order joined by "/" (include/gridwatch/juris.h). */
int gw_layer_juris_level(gw_layer layer, const char *field);
/* The name of the grids field of jurisdiction level 1..4 (prefecture, county, township,
 * village); NULL for any other level. */
const char *gw_juris_field(int level);
/* NULL when `name` may name a jurisdiction part, else why not (static text): "/" separates the
 * levels of a path, so no part may contain it.  NULL and "" are acceptable (no part). */
const char *gw_juris_name_problem(const char *name);
/* Whether jurisdiction `scope` contains `path`: scope "" (or NULL) contains everything, else
 * path equals scope or starts with scope + "/". */
int gw_juris_contains(const char *scope, const char *path);

/* The one calendar routine: Unix seconds of a UTC civil time (proleptic Gregorian) into *out.
 * Returns 0, or -1 (and *out untouched) for a date or time that does not exist: month 1–12, a
 * day the month has (30 February is refused, 29 February only in leap years), hour 0–24 (24
 * only as 24:00:00), minute 0–59, second 0–60. */
int gw_time_from_civil(int y, int mo, int d, int h, int mi, int s, int64_t *out);
/* Format Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void gw_time_format(int64_t unix_s, char *buf, size_t cap);
/* Parse ISO 8601 / RFC 3339 ("2018-01-01T13:05:00Z", "+08:00" offsets, a space for the T,
 * date only, fractional seconds ignored).  A time with no offset is read in `default_tz`
 * ("UTC" when NULL; an IANA zone such as "America/Chicago" or "Asia/Shanghai", or "+08:00").
 * GW_ERR_FORMAT when unparseable, GW_ERR_ARG for an unknown zone. */
gw_status gw_time_parse(gw_ctx *ctx, const char *text, const char *default_tz, int64_t *unix_s);

/* The window a stored time must lie in: years 1900–2100 (UTC).  A time outside it cannot be a
 * record of this service (year 0, year 10000, a mistyped epoch) and every write refuses it, so
 * every stored time formats back to an ISO 8601 text the readers accept. */
#define GW_TIME_MIN_S (-2208988800LL) /* 1900-01-01T00:00:00Z */
#define GW_TIME_MAX_S 4133980799LL    /* 2100-12-31T23:59:59Z */
/* GW_OK when unix_s lies in the window; else GW_ERR_RANGE naming `what` (a field) and the window. */
gw_status gw_time_check(gw_ctx *ctx, const char *what, int64_t unix_s);

/* The farthest a camera may see (its "range", metres); a larger value is refused on write. */
#define GW_CAMERA_MAX_RANGE_M 5000
#define GW_STR_(x) #x
#define GW_STR(x) GW_STR_(x)
/* The size a stored polygon may have: a management grid's boundary is a few hundred vertices
 * (Chicago's largest police beat has 1,185, Heze's city outline 894); 200,000 vertices or 20,000 parts is an
 * attack or a wrong layer, and its validation alone would hold a worker for seconds. */
#define GW_GEOM_MAX_VERTICES 50000
#define GW_GEOM_MAX_PARTS 1000
/* GW_OK when g is within GW_GEOM_MAX_VERTICES and GW_GEOM_MAX_PARTS and, with lonlat set, all
 * its coordinates are lon/lat (|lon| <= 180, |lat| <= 90); else GW_ERR_RANGE naming `what`. */
gw_status gw_geom_check(gw_ctx *ctx, const char *what, const GEOSGeometry *g, int lonlat);

/* The values a layer's "status" field may take, NULL-terminated; NULL for a layer whose status
 * is free text (grids: published/draft versions live elsewhere).  Cameras: online, offline,
 * maintenance; teams: available, busy, offline; incidents: open, dispatched, closed. */
const char *const *gw_layer_statuses(gw_layer layer);

#ifdef __cplusplus
}
#endif
#endif
