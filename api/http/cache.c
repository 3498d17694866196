/* cache.c — validators, Cache-Control and gzip for cacheable answers (cache.h). */
#include "cache.h"
#include "negotiate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int gw_etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag || !*etag) return 0;
    if (strcmp(inm, "*") == 0) return 1;
    return strstr(inm, etag) != NULL; /* also W/"…" and lists */
}

int gw_req_accepts_gzip(gw_req *req)
{
    return gw_accept_gzip(gw_req_header(req, "Accept-Encoding")); /* negotiate.c */
}

int gw_req_cache_check(gw_req *req, const char *etag, const char *cache_control, int vary_encoding)
{
    if (etag) gw_req_add_header(req, "ETag", etag);
    if (cache_control) gw_req_add_header(req, "Cache-Control", cache_control);
    if (vary_encoding) gw_req_add_header(req, "Vary", "Accept-Encoding");
    if (!gw_etag_matches(gw_req_header(req, "If-None-Match"), etag)) return 0;
    gw_req_respond(req, 304, NULL, "", 0);
    return 1;
}

unsigned char *gw_gzip(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    uLong cap = deflateBound(&zs, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}
