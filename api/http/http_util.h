/* http_util.h — small pieces the HTTP side shares: a growable text buffer, JSON and URL
 * escaping, fast fixed-precision numbers, query-value parsers, and an ISO WKB to GeoJSON writer
 * (right-hand-rule rings, optional CRS transform) that works into a caller buffer without
 * allocating per feature.  Internal to api/; nothing here knows libmicrohttpd. */
#ifndef GW_HTTP_UTIL_H
#define GW_HTTP_UTIL_H

#include "gridwatch/common.h"
#include "gridwatch/crs.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer, always NUL-terminated when len > 0.  Zero-initialise ({0}); free the
 * storage with gw_buf_free().  On allocation failure `oom` is set and further appends are no-ops. */
typedef struct gw_buf {
    char *data;
    size_t len, cap;
    int oom;
} gw_buf;

void gw_buf_free(gw_buf *b);
void gw_buf_reset(gw_buf *b);
void gw_buf_add(gw_buf *b, const char *s, size_t n);
void gw_buf_str(gw_buf *b, const char *s);
void gw_buf_printf(gw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void gw_buf_json_str(gw_buf *b, const char *s);
/* The length of the valid UTF-8 character at p (1–4), 0 when the bytes there are not one. */
size_t gw_utf8_seq(const unsigned char *p);
/* Append s percent-encoded for a URL query value (RFC 3986 unreserved kept). */
void gw_buf_url(gw_buf *b, const char *s);
/* Append a number with at most `prec` decimals, trailing zeros dropped ("115.4800001", "12"). */
void gw_buf_num(gw_buf *b, double v, int prec);
/* Take the storage out of the buffer (caller frees with free()); the buffer is left empty. */
char *gw_buf_take(gw_buf *b, size_t *len);

/* Seconds on the monotonic clock (for durations). */
double gw_mono_s(void);

/* Strict number parsers for query values: the whole text must be a number. 0 on success. */
int gw_parse_double(const char *s, double *out);
int gw_parse_int64(const char *s, int64_t *out);

/* Parse a bbox "minx,miny,maxx,maxy" (or 6 numbers: minx,miny,minz,maxx,maxy,maxz).
 * Returns 0, or -1 with a reason in why[cap]. */
int gw_parse_bbox(const char *s, gw_bbox *out, char *why, size_t cap);

/* An OGC datetime filter: an instant or an interval with optional open ends ("..", ""). */
typedef struct gw_time_filter {
    int has_lo, has_hi; /* an open end has its flag 0 */
    int64_t lo, hi;     /* Unix seconds, inclusive */
} gw_time_filter;
/* Parse "2025-01-01T00:00:00Z", "a/b", "../b", "a/..", "a/".  Returns 0, or -1 with a reason. */
int gw_parse_datetime(gw_ctx *ctx, const char *s, gw_time_filter *out, char *why, size_t cap);

/* Writes ISO WKB (or SpatiaLite's little-endian WKB from AsBinary) as a GeoJSON geometry
 * object.  Coordinates are transformed by `tr` when not NULL, written in (y, x) order when
 * `swap_xy` (EPSG:4326/4490 axis order), with `prec` decimals; polygon exterior rings are made
 * counter-clockwise and holes clockwise (RFC 7946 right-hand rule).  Reuses `scratch` for the
 * coordinates, so after warm-up it does not allocate.  Returns 0, or -1 for malformed WKB or a
 * failed transform (nothing sensible was appended then). */
typedef struct gw_geojson_writer {
    gw_crs_transform *tr; /* borrowed; NULL = lon/lat as stored */
    int swap_xy;
    int prec;
    double *xs, *ys; /* scratch, grown as needed; freed by gw_geojson_writer_free() */
    size_t cap;
} gw_geojson_writer;
int gw_geojson_write(gw_geojson_writer *w, const unsigned char *wkb, size_t len, gw_buf *out);
void gw_geojson_writer_free(gw_geojson_writer *w);

#endif
