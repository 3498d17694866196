/* cache.h — the one HTTP caching rule every route uses: validators (ETag, If-None-Match → 304),
 * Cache-Control and Vary, and whether the client takes gzip.  Routes with cacheable answers
 * (tiles, heat map tiles, the wall's files) call gw_req_cache_check before building a body. */
#ifndef GW_CACHE_H
#define GW_CACHE_H

#include "server.h"

#include <stddef.h>

/* 1 when the request's If-None-Match names `etag` ("*", a list, or W/"…" forms), else 0. */
int gw_etag_matches(const char *if_none_match, const char *etag);
/* 1 when the client accepts a gzip coding (present and not q=0). */
int gw_req_accepts_gzip(gw_req *req);
/* Add ETag, Cache-Control (e.g. "public, max-age=60"; NULL: none) and, when `vary_encoding`,
 * Vary: Accept-Encoding; then, when the request's If-None-Match matches, answer 304 and return
 * 1 (the caller is done); otherwise return 0 (the caller answers). */
int gw_req_cache_check(gw_req *req, const char *etag, const char *cache_control, int vary_encoding);
/* gzip `len` bytes of `data` into a malloc'd buffer (caller frees); NULL on failure. */
unsigned char *gw_gzip(const void *data, size_t len, size_t *out_len);

#endif
