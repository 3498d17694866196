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
    case GW_ERR_ARG: return N_("Bad Request");
    case GW_ERR_FORMAT: return N_("Malformed Input");
    case GW_ERR_UNSUPPORTED: return N_("Not Supported");
    case GW_ERR_GEOMETRY: return N_("Invalid Geometry");
    case GW_ERR_RANGE: return N_("Value Out Of Range");
    case GW_ERR_CRS: return N_("Coordinate Transformation Failed");
    case GW_ERR_NOT_FOUND: return N_("Not Found");
    case GW_ERR_CONFLICT: return N_("Conflict");
    case GW_ERR_DB: return N_("Database Unavailable");
    case GW_ERR_NOMEM: return N_("Service Unavailable");
    case GW_ERR_SCHEMA: return N_("Database Not Usable");
    default: return N_("Internal Server Error");
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
    /* the detail in the request's language (i18n.h): the format, or the context's message,
     * looked up in the catalogue; gw_req_problem translates the title */
    gw_lang lang = gw_req_lang(req);
    char detail[1024];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        gw_tr_vformat(lang, ctx, detail, sizeof detail, fmt, ap);
        va_end(ap);
    } else if (ctx && *gw_ctx_errmsg(ctx)) {
        gw_tr_ctx_msg(lang, ctx, detail, sizeof detail);
    } else {
        snprintf(detail, sizeof detail, "%s", gw_status_str(st));
    }
    if (st == GW_ERR_DB || st == GW_ERR_SCHEMA) strip_db_path(detail);
    unsigned code = gw_http_status(st);
    if (code == 503) gw_req_add_header(req, "Retry-After", "1");
    gw_req_problem(req, code, gw_http_title(st), "%s", detail);
}
