/* ogc_html.h — the OGC API – Features read routes in two representations: which one a request
 * asks for (f=json|html, else the Accept header), the HTML pages (landing, conformance,
 * collections, collection, items, item: server-rendered, escaped, bilingual headings,
 * breadcrumbs, a small MapLibre map from the wall's own files), the HTML alternates in the JSON
 * links, and the answer itself with ETag/304 and gzip (negotiate.h). */
#ifndef GRIDWATCH_OGC_HTML_H
#define GRIDWATCH_OGC_HTML_H

#include "http_util.h"
#include "server.h"

#include <jansson.h>

typedef enum ogc_fmt { OGC_FMT_NONE = 0, OGC_FMT_JSON, OGC_FMT_HTML } ogc_fmt;

typedef enum ogc_page {
    OGC_PAGE_LANDING,
    OGC_PAGE_CONFORMANCE,
    OGC_PAGE_COLLECTIONS,
    OGC_PAGE_COLLECTION,
    OGC_PAGE_ITEMS,
    OGC_PAGE_ITEM
} ogc_page;

/* The representation the request asks for without answering: f= first (json, geojson,
 * application/json, application/geo+json; html, text/html), else Accept (gw_accept_pick over
 * the JSON types and text/html).  OGC_FMT_NONE when f names another format or Accept takes
 * none of them. */
ogc_fmt ogc_format_of(gw_req *req);
/* The same, answering 400 (an unknown f) or 406 (an unacceptable Accept) with a problem and
 * returning 1 then; 0 when the request may go on. */
int ogc_bad_format(gw_req *req);

/* Answer a JSON document page (landing, conformance, collections, collection) in the
 * negotiated representation: JSON with the HTML alternates added to its links, or the HTML
 * page made from it.  doc is decref'd. */
void ogc_answer_doc(gw_req *req, ogc_page page, json_t *doc);
/* Answer an items page or an item (GeoJSON text `body` of len bytes, malloc'd and taken over)
 * in the negotiated representation: as it is (content type `ctype`), or the HTML page made from
 * it (the table, paging, links and a map over the features). */
void ogc_answer_geojson(gw_req *req, ogc_page page, char *body, size_t len, const char *ctype);

/* Append ,{"rel":"alternate","type":"text/html","href":…} (this request's URL with f=html) to
 * a JSON links array being written. */
void ogc_put_html_link(gw_req *req, gw_buf *b);

/* This request's URL (base and path) with its query but f and, when skip_offset, offset left
 * out; then f=`f` (none when NULL) and offset=`offset` (none when < 0) appended. */
void ogc_self_url(gw_req *req, const char *f, int skip_offset, long long offset, gw_buf *out);

/* The OpenAPI document's part (ogc_openapi.c): a text/html body beside the JSON one in the
 * success response `ok`, its ETag header, and 304 and 406 in the operation's responses. */
void ogc_openapi_html(json_t *ok, json_t *responses);

#endif
