/* common.h — the status convention and per-thread context shared by every gridwatch module.
 *
 * Every fallible call returns gw_status (GW_OK == 0); results come back through out-parameters
 * and the readable message lives on the gw_ctx passed first (gw_ctx_errmsg()).  One gw_ctx per
 * thread: it owns that thread's GEOS handle and PROJ context.  Nothing here aborts on bad input. */
#ifndef GRIDWATCH_COMMON_H
#define GRIDWATCH_COMMON_H

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>
#include <proj.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gw_status {
    GW_OK = 0,
    GW_ERR_NOMEM,       /* allocation failed */
    GW_ERR_ARG,         /* the caller passed something unusable (NULL, bad option) */
    GW_ERR_IO,          /* a file could not be opened, read or written */
    GW_ERR_FORMAT,      /* input could not be parsed (truncated JSON, broken CSV, bad UTF-8) */
    GW_ERR_GEOMETRY,    /* a geometry is invalid or of the wrong type */
    GW_ERR_RANGE,       /* a value is out of range (coordinates, severity, tile z/x/y) */
    GW_ERR_CRS,         /* unknown CRS or a failed transformation */
    GW_ERR_DB,          /* SQLite / SpatiaLite failure */
    GW_ERR_NOT_FOUND,   /* no such layer, feature, file layer or field */
    GW_ERR_CONFLICT,    /* duplicate id, stale state, lost race */
    GW_ERR_SCHEMA,      /* not a gridwatch database, or one newer than this build */
    GW_ERR_UNSUPPORTED, /* a format or operation this build does not do */
    GW_ERR_INTERNAL,    /* a broken invariant: a bug */
    GW_STATUS_COUNT
} gw_status;

/* Name of a status ("GW_ERR_RANGE"); never NULL. */
const char *gw_status_str(gw_status st);

typedef struct gw_ctx gw_ctx;

/* Progress callback: `what` names the phase, done/total in any unit (total 0 = unknown). */
typedef void (*gw_progress_fn)(void *user, const char *what, double done, double total);
/* Warning callback: a non-fatal message a person should see (merged ids, swapped axes …). */
typedef void (*gw_warn_fn)(void *user, const char *msg);

/* Create a context for the calling thread.  Caller frees with gw_ctx_destroy(). */
gw_status gw_ctx_create(gw_ctx **out);
/* Destroy a context; accepts NULL. */
void gw_ctx_destroy(gw_ctx *ctx);

/* Borrowed handles owned by the context; valid until gw_ctx_destroy(). */
GEOSContextHandle_t gw_ctx_geos(gw_ctx *ctx);
PJ_CONTEXT *gw_ctx_proj(gw_ctx *ctx);
/* A PROJ operation from EPSG:src to EPSG:dst with lon/lat (east/north) axis order, as a new PJ
 * the caller destroys with proj_destroy().  The context keeps the first one it builds for each
 * pair and hands out clones: PROJ takes 60–200 ms to find an operation in its database, a clone
 * ~40 µs, and every request-scoped transform (plan routes, imports, CRS output) asks again.
 * NULL on failure, with PROJ's errno left on gw_ctx_proj(ctx). */
PJ *gw_ctx_proj_op(gw_ctx *ctx, int src, int dst);

/* The message of the last error recorded on the context ("" when none). */
const char *gw_ctx_errmsg(const gw_ctx *ctx);
/* Status of the last error recorded (GW_OK when none). */
gw_status gw_ctx_errcode(const gw_ctx *ctx);
/* Byte offset (or row number for files) of the last parse error, -1 when not applicable. */
long gw_ctx_erroffset(const gw_ctx *ctx);
/* The last message GEOS reported on this context's handle ("" when none). */
const char *gw_ctx_geos_errmsg(const gw_ctx *ctx);

/* Record an error and return `st`, so that callers can write `return gw_ctx_error(ctx, …)`.
 * Recording GW_OK clears the error. */
gw_status gw_ctx_error(gw_ctx *ctx, gw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As gw_ctx_error(), with the byte offset / row of a parse error. */
gw_status gw_ctx_error_at(gw_ctx *ctx, gw_status st, long offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void gw_ctx_clear_error(gw_ctx *ctx);

void gw_ctx_set_progress(gw_ctx *ctx, gw_progress_fn fn, void *user);
void gw_ctx_set_warn(gw_ctx *ctx, gw_warn_fn fn, void *user);
/* Report progress / a warning through the callbacks (progress: a no-op when none is set; a
 * warning without a callback goes to stderr). */
void gw_ctx_progress(gw_ctx *ctx, const char *what, double done, double total);
void gw_ctx_warn(gw_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A plain bounding box: lon/lat or metric, as the function using it says. */
typedef struct gw_bbox {
    double minx, miny, maxx, maxy;
} gw_bbox;

#ifdef __cplusplus
}
#endif
#endif
