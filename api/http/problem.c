/* problem.c — the one gw_status → HTTP status map and the problem+json answer built on it
 * (the table is in problem.h and docs/http-errors.md). */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

unsigned gw_http_status(gw_status st)
{
    switch (st) {
    case GW_OK: return 200;
    case GW_ERR_ARG:
    case GW_ERR_FORMAT:
    case GW_ERR_UNSUPPORTED: return 400;
    case GW_ERR_GEOMETRY:
    case GW_ERR_RANGE:
    case GW_ERR_CRS: return 422;
    case GW_ERR_NOT_FOUND: return 404;
    case GW_ERR_CONFLICT: return 409;
    case GW_ERR_DB:
    case GW_ERR_NOMEM:
    case GW_ERR_SCHEMA: return 503;
    case GW_ERR_IO:
    case GW_ERR_INTERNAL:
    case GW_STATUS_COUNT: break;
    }
    return 500;
}

const char *gw_http_title(gw_status st)
{
    switch (st) {
    case GW_ERR_ARG: return "Bad Request";
    case GW_ERR_FORMAT: return "Malformed Input";
    case GW_ERR_UNSUPPORTED: return "Not Supported";
    case GW_ERR_GEOMETRY: return "Invalid Geometry";
    case GW_ERR_RANGE: return "Value Out Of Range";
    case GW_ERR_CRS: return "Coordinate Transformation Failed";
    case GW_ERR_NOT_FOUND: return "Not Found";
    case GW_ERR_CONFLICT: return "Conflict";
    case GW_ERR_DB: return "Database Unavailable";
    case GW_ERR_NOMEM: return "Service Unavailable";
    case GW_ERR_SCHEMA: return "Database Not Usable";
    default: return "Internal Server Error";
    }
}

/* Cut " (database /path/to/file)" from a store message: the client has no use for the path. */
static void strip_db_path(char *msg)
{
    char *p = strstr(msg, " (database ");
    if (p && strchr(p, ')')) {
        char *end = strchr(p, ')') + 1;
        memmove(p, end, strlen(end) + 1);
    }
}

void gw_req_fail(gw_req *req, gw_ctx *ctx, gw_status st, const char *fmt, ...)
{
    char detail[1024];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    } else {
        snprintf(detail, sizeof detail, "%s",
                 ctx && *gw_ctx_errmsg(ctx) ? gw_ctx_errmsg(ctx) : gw_status_str(st));
    }
    if (st == GW_ERR_DB || st == GW_ERR_SCHEMA) strip_db_path(detail);
    unsigned code = gw_http_status(st);
    if (code == 503) gw_req_add_header(req, "Retry-After", "1");
    gw_req_problem(req, code, gw_http_title(st), "%s", detail);
}
