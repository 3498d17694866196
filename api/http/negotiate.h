/* negotiate.h — HTTP content negotiation and conditional, compressed answers for the routes
 * that offer more than one representation (the OGC API pages: JSON or HTML): the Accept and
 * Accept-Encoding parsers (RFC 9110 §12.5, quality values honoured), an HTML escaper that
 * survives hostile text, a strong content ETag, and one answer call that adds ETag and Vary,
 * answers 304 to a matching If-None-Match and gzips when the client takes it. */
#ifndef GW_NEGOTIATE_H
#define GW_NEGOTIATE_H

#include "http_util.h"
#include "server.h"

#include <stddef.h>
#include <stdint.h>

/* The offer the Accept header `accept` prefers among `offers` (n media types such as
 * "application/json", "text/html"; no parameters): its index, or -1 when the header accepts
 * none of them (406).  Each offer takes the quality of the most specific range that matches it
 * (type/subtype, then type/wildcard, then the full wildcard); the highest quality above 0 wins,
 * ties going to the earlier offer.  A NULL, empty or blank header accepts anything (index 0).
 * Parameters other than q are ignored; a malformed q counts as 1; the header is read to its
 * end whatever its length (bounded by the server's header limit). */
int gw_accept_pick(const char *accept, const char *const *offers, size_t n);

/* 1 when the Accept-Encoding header `ae` takes gzip: "gzip" or "x-gzip" with q > 0, or "*"
 * with q > 0 and gzip not refused by its own entry; 0 otherwise (NULL or empty: identity). */
int gw_accept_gzip(const char *ae);

/* Append s with &, <, >, " and ' as character references, NUL-free and valid UTF-8: each byte
 * that does not start a valid UTF-8 sequence becomes U+FFFD, and C0 controls other than tab,
 * newline and carriage return become U+FFFD too.  NULL appends nothing. */
void gw_buf_html(gw_buf *b, const char *s);
/* The same for the first n bytes of s (embedded NULs become U+FFFD). */
void gw_buf_html_n(gw_buf *b, const char *s, size_t n);

/* A strong ETag (16 hex digits in quotes) of len bytes of body: a 64-bit digest of the bytes
 * with the value of the first `"timeStamp":"…"` member of an OGC items page left out, in JSON
 * or in an HTML page's data block (the moment a page was made is not a change of it).  out
 * must hold 24 bytes. */
void gw_content_etag(const char *body, size_t len, char out[24]);

/* Answer 200 with body (malloc'd, len bytes; taken over and freed whatever happens) as
 * content_type, with a strong content ETag (gw_content_etag; "-gz" appended inside the quotes
 * for the gzip coding), Cache-Control: no-cache, and Vary listing Accept when `vary_accept`
 * and Accept-Encoding always.  An If-None-Match naming either coding's tag, or "*", gets 304
 * with no body.  Bodies of 256 bytes and more are sent gzip'd with Content-Encoding: gzip when
 * Accept-Encoding takes gzip (gw_accept_gzip). */
void gw_req_respond_negotiated(gw_req *req, const char *content_type, char *body, size_t len,
                               int vary_accept);

#endif
