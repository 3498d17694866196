/* problem.h — the one rule from a gw_status to an HTTP answer, for every route.
 *
 *   gw_status            HTTP  why
 *   GW_ERR_ARG           400   a parameter or body field the caller got wrong
 *   GW_ERR_FORMAT        400   a body or parameter that does not parse (JSON, CSV, UTF-8 …)
 *   GW_ERR_UNSUPPORTED   400   a format, CRS or option this server does not offer
 *   GW_ERR_GEOMETRY      422   well-formed, but the geometry is invalid or of the wrong type
 *   GW_ERR_RANGE         422   well-formed, but a value is outside its domain
 *   GW_ERR_CRS           422   well-formed, but the coordinates cannot be transformed
 *   GW_ERR_NOT_FOUND     404   no such feature, draft, grid, layer or tile
 *   GW_ERR_CONFLICT      409   duplicate id, stale version, a lost race
 *   GW_ERR_DB            503   the database is busy or failing: retry (Retry-After: 1)
 *   GW_ERR_NOMEM         503   out of memory: retry (Retry-After: 1)
 *   GW_ERR_SCHEMA        503   the database is not usable by this build
 *   GW_ERR_IO            500   a server-side file could not be read or written
 *   GW_ERR_INTERNAL      500   a bug
 *
 * The one exception is documented where it is made: a tile address outside the pyramid
 * (GW_ERR_RANGE from gw_tile_parse) is 404, because that tile does not exist (tiles routes).
 * docs/http-errors.md holds the same table for API users. */
#ifndef GW_PROBLEM_H
#define GW_PROBLEM_H

#include "server.h"

/* The HTTP status for a gw_status (GW_OK: 200). */
unsigned gw_http_status(gw_status st);
/* The problem title for a gw_status ("Invalid Geometry", "Conflict" …). */
const char *gw_http_title(gw_status st);
/* Answer the request with the problem for `st`: the mapped status and title, the detail
 * formatted from fmt (or, with fmt NULL, the context's message), Retry-After on 503.  A database
 * failure's detail does not name the server's file path. */
void gw_req_fail(gw_req *req, gw_ctx *ctx, gw_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
