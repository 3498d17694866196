/* ogc_html.c — the OGC API – Features read routes as HTML as well as JSON (ogc_html.h), as
 * pygeoapi, pg_featureserv and GeoServer serve them: f=json|html or the Accept header picks the
 * representation; the HTML page is made from the very JSON the route built (so paging, scope
 * and filters are the JSON's), every value escaped (gw_buf_html), with breadcrumbs, links to
 * the JSON alternates, and for items a table, paging and a small map drawn by web/ogc/ogc.js
 * with the wall's own MapLibre (no CDN).  The page holds no inline script: the map's data is a
 * JSON data block (type="application/geo+json", not executed) that the module reads. */
#include "ogc_html.h"

#include "gridwatch/layer.h"
#include "negotiate.h"
#include "ogc_internal.h"
#include "web_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the media types offered, JSON first: a client that takes anything gets JSON */
static const char *const offers[] = {"application/json", "application/geo+json", "text/html"};

ogc_fmt ogc_format_of(gw_req *req)
{
    const char *f = gw_req_query(req, "f");
    if (f) {
        if (!strcmp(f, "json") || !strcmp(f, "geojson") || !strcmp(f, "application/json") ||
            !strcmp(f, "application/geo+json"))
            return OGC_FMT_JSON;
        if (!strcmp(f, "html") || !strcmp(f, "text/html")) return OGC_FMT_HTML;
        return OGC_FMT_NONE;
    }
    int i = gw_accept_pick(gw_req_header(req, "Accept"), offers, 3);
    return i < 0 ? OGC_FMT_NONE : i == 2 ? OGC_FMT_HTML : OGC_FMT_JSON;
}

int ogc_bad_format(gw_req *req)
{
    if (ogc_format_of(req) != OGC_FMT_NONE) return 0;
    const char *f = gw_req_query(req, "f");
    if (f) {
        gw_req_problem(req, 400, NULL,
                       "parameter 'f': format '%s' is not offered; use f=json or f=html", f);
        return 1;
    }
    gw_req_add_header(req, "Vary", "Accept");
    gw_req_problem(req, 406, NULL,
                   "Accept '%s' takes none of application/json, application/geo+json and "
                   "text/html; send one of them or use f=json or f=html",
                   gw_req_header(req, "Accept"));
    return 1;
}

/* ---- URLs ------------------------------------------------------------------------------- */

typedef struct url_q {
    gw_buf *out;
    int skip_offset;
} url_q;

static void url_sep(gw_buf *b) { gw_buf_add(b, b->data && strchr(b->data, '?') ? "&" : "?", 1); }

static int url_arg(void *user, const char *key, const char *val)
{
    url_q *u = user;
    if (!strcmp(key, "f") || (u->skip_offset && !strcmp(key, "offset"))) return 0;
    url_sep(u->out);
    gw_buf_url(u->out, key);
    gw_buf_add(u->out, "=", 1);
    gw_buf_url(u->out, val);
    return 0;
}

void ogc_self_url(gw_req *req, const char *f, int skip_offset, long long offset, gw_buf *out)
{
    gw_buf_str(out, gw_req_base_url(req));
    /* the (decoded) path percent-encoded again, segment by segment: "INC 1+a" as INC%201%2Ba */
    for (const char *seg = gw_req_path(req); *seg == '/';) {
        const char *end = strchr(seg + 1, '/');
        size_t n = end ? (size_t)(end - seg - 1) : strlen(seg + 1);
        gw_buf one = {0};
        gw_buf_add(&one, seg + 1, n);
        gw_buf_add(out, "/", 1);
        gw_buf_url(out, one.data ? one.data : "");
        gw_buf_free(&one);
        if (!end) break;
        seg = end;
    }
    url_q u = {out, skip_offset};
    gw_req_query_each(req, url_arg, &u);
    if (offset >= 0) {
        url_sep(out);
        gw_buf_printf(out, "offset=%lld", offset);
    }
    if (f) {
        url_sep(out);
        gw_buf_printf(out, "f=%s", f);
    }
}

void ogc_put_html_link(gw_req *req, gw_buf *b)
{
    gw_buf u = {0};
    ogc_self_url(req, "html", 0, -1, &u);
    gw_buf_str(b, ",{\"rel\":\"alternate\",\"type\":\"text/html\",\"title\":\"this page as HTML\","
                  "\"href\":");
    gw_buf_json_str(b, u.data ? u.data : "");
    gw_buf_str(b, "}");
    gw_buf_free(&u);
}

/* href with ?f=html or &f=html appended */
static json_t *html_link(const char *href, const char *rel, const char *title)
{
    gw_buf u = {0};
    gw_buf_printf(&u, "%s%sf=html", href, strchr(href, '?') ? "&" : "?");
    json_t *l = json_pack("{s:s,s:s,s:s,s:s}", "href", u.data ? u.data : href, "rel", rel, "type",
                          "text/html", "title", title);
    gw_buf_free(&u);
    return l;
}

/* The href of the first link of `links` with rel (and type, when not NULL). */
static const char *link_href(json_t *links, const char *rel, const char *type)
{
    size_t i;
    json_t *l;
    json_array_foreach (links, i, l) {
        const char *r = json_string_value(json_object_get(l, "rel"));
        const char *t = json_string_value(json_object_get(l, "type"));
        if (r && !strcmp(r, rel) && (!type || (t && !strcmp(t, type))))
            return json_string_value(json_object_get(l, "href"));
    }
    return NULL;
}

/* Add the HTML alternates of a collection object (self and items as HTML). */
static void collection_alternates(json_t *c)
{
    json_t *links = json_object_get(c, "links");
    const char *self = link_href(links, "self", NULL), *items = link_href(links, "items", NULL);
    if (self) json_array_append_new(links, html_link(self, "alternate", "this collection as HTML"));
    if (items) json_array_append_new(links, html_link(items, "items", "the features as HTML"));
}

/* ---- the page's frame ------------------------------------------------------------------- */

static const char *const layer_zh[GW_LAYER_COUNT] = {"网格", "派出所/警务室", "摄像头", "巡逻队",
                                                     "警情"};

static const char *zh_of(const char *layer)
{
    gw_layer l;
    return layer && gw_layer_from_name(layer, &l) == GW_OK && (int)l < GW_LAYER_COUNT ? layer_zh[l]
                                                                                      : NULL;
}

typedef struct crumb {
    const char *href; /* a path under the base (f=html is added), NULL for the current page */
    const char *en, *zh;
} crumb;

/* <!doctype html> … <main>: title, stylesheets, the map module when `map` and the wall's files
 * are there, the header, the breadcrumbs, the JSON alternate, the h1. */
static void page_open(gw_req *req, gw_buf *b, const char *en, const char *zh, const crumb *cr,
                      size_t ncr, int map)
{
    const char *base = gw_req_base_url(req);
    gw_buf alt = {0};
    ogc_self_url(req, "json", 0, -1, &alt);
    gw_buf_str(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>");
    gw_buf_html(b, en);
    gw_buf_str(b, strcmp(en, "gridwatch") ? " - gridwatch</title>\n" : "</title>\n");
    gw_buf_str(b, "<link rel=\"alternate\" type=\"application/json\" href=\"");
    gw_buf_html(b, alt.data);
    gw_buf_str(b, "\">\n<link rel=\"icon\" href=\"data:,\">\n");
    int web = gw_web_available();
    if (web) {
        gw_buf_str(b, "<link rel=\"stylesheet\" href=\"");
        gw_buf_html(b, base);
        gw_buf_str(b, "/wall/ogc/ogc.css\">\n");
    }
    if (web && map) {
        gw_buf_str(b, "<link rel=\"stylesheet\" href=\"");
        gw_buf_html(b, base);
        gw_buf_str(b, "/wall/vendor/maplibre-gl.css\">\n<script type=\"module\" src=\"");
        gw_buf_html(b, base);
        gw_buf_str(b, "/wall/ogc/ogc.js\"></script>\n");
    }
    gw_buf_str(b, "</head>\n<body>\n<header class=\"top\"><a href=\"");
    gw_buf_html(b, base);
    gw_buf_str(b, "/?f=html\">gridwatch</a> <span lang=\"zh-CN\">网格监控</span> "
                  "<span class=\"api\">OGC API - Features</span>");
    if (web) {
        gw_buf_str(b, " <a class=\"wall\" href=\"");
        gw_buf_html(b, base);
        gw_buf_str(b, "/wall/\">Map wall <span lang=\"zh-CN\">指挥大屏</span></a>");
    }
    gw_buf_str(b, "</header>\n<nav aria-label=\"breadcrumb\"><ol class=\"crumbs\">");
    for (size_t i = 0; i < ncr; i++) {
        gw_buf_str(b, "<li>");
        if (cr[i].href) {
            gw_buf_str(b, "<a href=\"");
            gw_buf_html(b, base);
            gw_buf_html(b, cr[i].href);
            gw_buf_str(b, strchr(cr[i].href, '?') ? "&amp;f=html\">" : "?f=html\">");
        } else {
            gw_buf_str(b, "<span aria-current=\"page\">");
        }
        gw_buf_html(b, cr[i].en);
        if (cr[i].zh) {
            gw_buf_str(b, " <span lang=\"zh-CN\">");
            gw_buf_html(b, cr[i].zh);
            gw_buf_str(b, "</span>");
        }
        gw_buf_str(b, cr[i].href ? "</a></li>" : "</span></li>");
    }
    gw_buf_str(b, "</ol></nav>\n<main>\n<p class=\"alt\"><a rel=\"alternate\" "
                  "type=\"application/json\" href=\"");
    gw_buf_html(b, alt.data);
    gw_buf_str(b, "\">JSON</a></p>\n<h1>");
    gw_buf_html(b, en);
    if (zh) {
        gw_buf_str(b, " <span lang=\"zh-CN\">");
        gw_buf_html(b, zh);
        gw_buf_str(b, "</span>");
    }
    gw_buf_str(b, "</h1>\n");
    gw_buf_free(&alt);
}

static void page_close(gw_buf *b) { gw_buf_str(b, "</main>\n</body>\n</html>\n"); }

/* A JSON value as table text: strings as they are, numbers and the rest as JSON. */
static void put_value(gw_buf *b, json_t *v)
{
    if (json_is_string(v)) {
        gw_buf_html_n(b, json_string_value(v), json_string_length(v));
    } else if (!json_is_null(v) && v) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(12));
        gw_buf_html(b, s);
        free(s);
    }
}

/* <a href="href">text</a>, both escaped; href NULL: the text alone. */
static void put_a(gw_buf *b, const char *href, const char *text)
{
    if (href) {
        gw_buf_str(b, "<a href=\"");
        gw_buf_html(b, href);
        gw_buf_str(b, "\">");
    }
    gw_buf_html(b, text);
    if (href) gw_buf_str(b, "</a>");
}

/* A list of a document's links: title (or rel), then rel and type. */
static void put_links(gw_buf *b, json_t *links)
{
    size_t i;
    json_t *l;
    if (!json_array_size(links)) return;
    gw_buf_str(b, "<h2>Links <span lang=\"zh-CN\">链接</span></h2>\n<ul class=\"links\">\n");
    json_array_foreach (links, i, l) {
        const char *t = json_string_value(json_object_get(l, "title"));
        const char *rel = json_string_value(json_object_get(l, "rel"));
        const char *type = json_string_value(json_object_get(l, "type"));
        gw_buf_str(b, "<li>");
        put_a(b, json_string_value(json_object_get(l, "href")), t ? t : rel ? rel : "link");
        gw_buf_str(b, " <small>");
        gw_buf_html(b, rel);
        if (type) {
            gw_buf_str(b, " · ");
            gw_buf_html(b, type);
        }
        gw_buf_str(b, "</small></li>\n");
    }
    gw_buf_str(b, "</ul>\n");
}

/* ---- the document pages ----------------------------------------------------------------- */

static void html_landing(gw_req *req, gw_buf *b, json_t *doc)
{
    static const crumb cr[] = {{NULL, "Home", "首页"}};
    page_open(req, b, "gridwatch", NULL, cr, 1, 0);
    gw_buf_str(b, "<p>");
    gw_buf_html(b, json_string_value(json_object_get(doc, "description")));
    gw_buf_str(b, "</p>\n<ul class=\"cards\">\n<li><a href=\"");
    gw_buf_html(b, gw_req_base_url(req));
    gw_buf_str(b, "/collections?f=html\">Collections <span lang=\"zh-CN\">图层</span></a></li>\n"
                  "<li><a href=\"");
    gw_buf_html(b, gw_req_base_url(req));
    gw_buf_str(b, "/conformance?f=html\">Conformance <span lang=\"zh-CN\">符合性声明</span></a>"
                  "</li>\n<li><a href=\"");
    gw_buf_html(b, gw_req_base_url(req));
    gw_buf_str(b, "/openapi.json\">API definition (OpenAPI 3.0) <span lang=\"zh-CN\">接口定义"
                  "</span></a></li>\n</ul>\n");
    put_links(b, json_object_get(doc, "links"));
    page_close(b);
}

static void html_conformance(gw_req *req, gw_buf *b, json_t *doc)
{
    static const crumb cr[] = {{"/", "Home", "首页"}, {NULL, "Conformance", "符合性声明"}};
    page_open(req, b, "Conformance", "符合性声明", cr, 2, 0);
    gw_buf_str(b, "<ul class=\"conformance\">\n");
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(doc, "conformsTo"), i, c) {
        gw_buf_str(b, "<li>");
        put_a(b, json_string_value(c), json_string_value(c));
        gw_buf_str(b, "</li>\n");
    }
    gw_buf_str(b, "</ul>\n");
    page_close(b);
}

/* The spatial and temporal extent of a collection as text. */
static void put_extent(gw_buf *b, json_t *c)
{
    json_t *bb = json_array_get(
        json_object_get(json_object_get(json_object_get(c, "extent"), "spatial"), "bbox"), 0);
    json_t *iv = json_array_get(
        json_object_get(json_object_get(json_object_get(c, "extent"), "temporal"), "interval"), 0);
    if (json_array_size(bb) == 4) {
        for (size_t i = 0; i < 4; i++) {
            if (i) gw_buf_str(b, ", ");
            gw_buf_num(b, json_number_value(json_array_get(bb, i)), 5);
        }
    }
    if (json_array_size(iv) == 2) {
        gw_buf_str(b, json_array_size(bb) == 4 ? "<br>" : "");
        put_value(b, json_array_get(iv, 0));
        gw_buf_str(b, " – ");
        put_value(b, json_array_get(iv, 1));
    }
}

static void html_collections(gw_req *req, gw_buf *b, json_t *doc)
{
    static const crumb cr[] = {{"/", "Home", "首页"}, {NULL, "Collections", "图层"}};
    page_open(req, b, "Collections", "图层", cr, 2, 0);
    gw_buf_str(b, "<table class=\"props\">\n<thead><tr><th>Collection <span lang=\"zh-CN\">图层"
                  "</span></th><th>Extent <span lang=\"zh-CN\">范围</span></th><th>Items "
                  "<span lang=\"zh-CN\">要素</span></th></tr></thead>\n<tbody>\n");
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(doc, "collections"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *links = json_object_get(c, "links");
        gw_buf_str(b, "<tr><td>");
        put_a(b, link_href(links, "alternate", "text/html"), id);
        const char *zh = zh_of(id);
        if (zh) {
            gw_buf_str(b, " <span lang=\"zh-CN\">");
            gw_buf_html(b, zh);
            gw_buf_str(b, "</span>");
        }
        gw_buf_str(b, "</td><td>");
        put_extent(b, c);
        gw_buf_str(b, "</td><td>");
        put_a(b, link_href(links, "items", "text/html"), "items");
        gw_buf_str(b, "</td></tr>\n");
    }
    gw_buf_str(b, "</tbody>\n</table>\n");
    page_close(b);
}

static void html_collection(gw_req *req, gw_buf *b, json_t *c)
{
    const char *id = json_string_value(json_object_get(c, "id"));
    crumb cr[] = {{"/", "Home", "首页"}, {"/collections", "Collections", "图层"}, {NULL, id, NULL}};
    page_open(req, b, id ? id : "collection", zh_of(id), cr, 3, 0);
    json_t *links = json_object_get(c, "links");
    gw_buf_str(b, "<dl class=\"meta\">\n<dt>Items <span lang=\"zh-CN\">要素</span></dt><dd>");
    put_a(b, link_href(links, "items", "text/html"), "browse the features");
    gw_buf_str(b, " · ");
    put_a(b, link_href(links, "items", "application/geo+json"), "GeoJSON");
    gw_buf_str(b, "</dd>\n<dt>Item type</dt><dd>");
    put_value(b, json_object_get(c, "itemType"));
    gw_buf_str(b, "</dd>\n<dt>Extent <span lang=\"zh-CN\">范围</span></dt><dd>");
    put_extent(b, c);
    gw_buf_str(b, "</dd>\n<dt>Storage CRS</dt><dd>");
    put_value(b, json_object_get(c, "storageCrs"));
    gw_buf_str(b, "</dd>\n<dt>CRS offered</dt><dd><ul>");
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(c, "crs"), i, v) {
        gw_buf_str(b, "<li>");
        put_value(b, v);
        gw_buf_str(b, "</li>");
    }
    gw_buf_str(b, "</ul></dd>\n</dl>\n");
    put_links(b, links);
    page_close(b);
}

/* Send the page built in b (freed here): 500 when it ran out of memory. */
static void send_html(gw_req *req, gw_buf *b, int vary)
{
    size_t len;
    char *s = b->oom ? NULL : gw_buf_take(b, &len);
    gw_buf_free(b);
    if (!s) {
        gw_req_problem(req, 500, NULL, "out of memory");
        return;
    }
    gw_req_respond_negotiated(req, "text/html; charset=utf-8", s, len, vary);
}

void ogc_answer_doc(gw_req *req, ogc_page page, json_t *doc)
{
    if (!doc) {
        gw_req_problem(req, 500, NULL, "could not build the document");
        return;
    }
    int vary = gw_req_query(req, "f") == NULL;
    gw_buf b = {0};
    /* each collection's links gain its page and its items as HTML, in either format */
    if (page == OGC_PAGE_COLLECTIONS) {
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(doc, "collections"), i, c) collection_alternates(c);
    } else if (page == OGC_PAGE_COLLECTION) {
        collection_alternates(doc);
    }
    if (ogc_format_of(req) == OGC_FMT_HTML) {
        switch (page) {
        case OGC_PAGE_LANDING: html_landing(req, &b, doc); break;
        case OGC_PAGE_CONFORMANCE: html_conformance(req, &b, doc); break;
        case OGC_PAGE_COLLECTIONS: html_collections(req, &b, doc); break;
        default: html_collection(req, &b, doc); break;
        }
        json_decref(doc);
        send_html(req, &b, vary);
        return;
    }
    /* JSON: the HTML alternates in the links */
    json_t *links = json_object_get(doc, "links");
    if (!links) json_object_set_new(doc, "links", links = json_array());
    gw_buf self = {0};
    ogc_self_url(req, NULL, 0, -1, &self);
    if (page == OGC_PAGE_CONFORMANCE)
        json_array_append_new(links, json_pack("{s:s,s:s,s:s}", "href", self.data ? self.data : "",
                                               "rel", "self", "type", "application/json"));
    gw_buf_free(&self);
    gw_buf u = {0};
    ogc_self_url(req, "html", 0, -1, &u);
    json_array_append_new(links, json_pack("{s:s,s:s,s:s,s:s}", "href", u.data ? u.data : "", "rel",
                                           "alternate", "type", "text/html", "title",
                                           "this document as HTML"));
    gw_buf_free(&u);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!s) {
        gw_req_problem(req, 500, NULL, "could not serialise the response");
        return;
    }
    gw_req_respond_negotiated(req, "application/json", s, strlen(s), vary);
}

/* ---- items and item ------------------------------------------------------------------------ */

/* The GeoJSON as a data block for the map: '<' written as \u003c, so that no "</script" or
 * "<!--" can appear inside the element (JSON allows the escape in strings, the only place a '<'
 * can be). */
static void put_data_block(gw_buf *b, const char *geojson, size_t len)
{
    gw_buf_str(b, "<script type=\"application/geo+json\" id=\"gw-data\">");
    const char *run = geojson, *end = geojson + len;
    for (const char *p = geojson; p < end; p++)
        if (*p == '<') {
            gw_buf_add(b, run, (size_t)(p - run));
            gw_buf_str(b, "\\u003c");
            run = p + 1;
        }
    gw_buf_add(b, run, (size_t)(end - run));
    gw_buf_str(b, "</script>\n");
}

/* 1 when the features are in CRS84 (no crs, or a CRS84 one): only then is the map drawn. */
static int crs84(gw_req *req)
{
    const char *c = gw_req_query(req, "crs");
    return !c || strstr(c, "CRS84") != NULL;
}

static void put_map(gw_req *req, gw_buf *b, const char *body, size_t len, const char *label)
{
    if (!gw_web_available() || !crs84(req)) return;
    gw_buf_str(b, "<div id=\"map\" class=\"map\" role=\"img\" aria-label=\"");
    gw_buf_html(b, label);
    /* the grids from our own vector tiles as the background, when a page may fetch them
     * without a token (a browser sends none) */
    if (gw_server_open_role(gw_req_server(req)) >= GW_ROLE_VIEWER) {
        gw_buf_str(b, "\" data-grids=\"");
        gw_buf_html(b, gw_req_base_url(req));
        gw_buf_str(b, "/tiles/grids/{z}/{x}/{y}.mvt");
    }
    gw_buf_str(b, "\"></div>\n");
    put_data_block(b, body, len);
}

static void html_items(gw_req *req, gw_buf *b, json_t *fc, const char *body, size_t len)
{
    const char *layer = gw_req_param(req, "layer");
    char coll[256];
    snprintf(coll, sizeof coll, "/collections/%s", layer ? layer : "");
    crumb cr[] = {{"/", "Home", "首页"},
                  {"/collections", "Collections", "图层"},
                  {coll, layer, zh_of(layer)},
                  {NULL, "Items", "要素"}};
    char title[300];
    snprintf(title, sizeof title, "%s: items", layer ? layer : "");
    page_open(req, b, title, zh_of(layer), cr, 4, 1);
    json_int_t matched = json_integer_value(json_object_get(fc, "numberMatched"));
    json_int_t returned = json_integer_value(json_object_get(fc, "numberReturned"));
    int64_t offset = 0, limit = LIMIT_DEFAULT;
    const char *o = gw_req_query(req, "offset"), *l = gw_req_query(req, "limit");
    if (o) gw_parse_int64(o, &offset);
    if (l) gw_parse_int64(l, &limit);
    gw_buf_printf(
        b, "<p class=\"count\">%lld–%lld of %lld <span lang=\"zh-CN\">共 %lld 条</span></p>\n",
        returned ? (long long)offset + 1 : 0LL, (long long)(offset + returned), (long long)matched,
        (long long)matched);
    put_map(req, b, body, len, "the features of this page on a map");
    /* columns: the union of the features' property names, in the order first seen */
    json_t *cols = json_array(), *seen = json_object(), *feats = json_object_get(fc, "features");
    size_t i, j;
    json_t *f, *v;
    const char *k;
    json_array_foreach (feats, i, f) {
        json_object_foreach (json_object_get(f, "properties"), k, v) {
            if (json_object_get(seen, k)) continue;
            json_object_set_new(seen, k, json_true());
            json_array_append_new(cols, json_string(k));
        }
    }
    gw_buf_str(b, "<table class=\"items\">\n<thead><tr><th>id</th>");
    json_array_foreach (cols, j, v) {
        gw_buf_str(b, "<th>");
        put_value(b, v);
        gw_buf_str(b, "</th>");
    }
    gw_buf_str(b, "</tr></thead>\n<tbody>\n");
    json_array_foreach (feats, i, f) {
        json_t *id = json_object_get(f, "id"), *props = json_object_get(f, "properties");
        gw_buf href = {0};
        gw_buf_printf(&href, "%s/collections/", gw_req_base_url(req));
        gw_buf_url(&href, layer ? layer : "");
        gw_buf_str(&href, "/items/");
        gw_buf_url(&href, json_is_string(id) ? json_string_value(id) : "");
        gw_buf_str(&href, "?f=html");
        gw_buf_str(b, "<tr><td>");
        put_a(b, href.data, json_is_string(id) ? json_string_value(id) : "");
        gw_buf_str(b, "</td>");
        gw_buf_free(&href);
        json_array_foreach (cols, j, v) {
            gw_buf_str(b, "<td>");
            put_value(b, json_object_get(props, json_string_value(v)));
            gw_buf_str(b, "</td>");
        }
        gw_buf_str(b, "</tr>\n");
    }
    gw_buf_str(b, "</tbody>\n</table>\n<nav class=\"paging\" aria-label=\"pages\">");
    if (offset > 0) {
        gw_buf u = {0};
        ogc_self_url(req, "html", 1, offset > limit ? offset - limit : 0, &u);
        gw_buf_str(b, "<a rel=\"prev\" href=\"");
        gw_buf_html(b, u.data);
        gw_buf_str(b, "\">← Previous <span lang=\"zh-CN\">上一页</span></a> ");
        gw_buf_free(&u);
    }
    if (offset + returned < matched) {
        gw_buf u = {0};
        ogc_self_url(req, "html", 1, offset + limit, &u);
        gw_buf_str(b, "<a rel=\"next\" href=\"");
        gw_buf_html(b, u.data);
        gw_buf_str(b, "\">Next <span lang=\"zh-CN\">下一页</span> →</a>");
        gw_buf_free(&u);
    }
    gw_buf_str(b, "</nav>\n");
    json_decref(cols);
    json_decref(seen);
    page_close(b);
}

static void html_item(gw_req *req, gw_buf *b, json_t *feat, const char *body, size_t len)
{
    const char *layer = gw_req_param(req, "layer");
    const char *id = json_string_value(json_object_get(feat, "id"));
    char coll[256], items[300];
    snprintf(coll, sizeof coll, "/collections/%s", layer ? layer : "");
    snprintf(items, sizeof items, "%s/items", coll);
    crumb cr[] = {{"/", "Home", "首页"},
                  {"/collections", "Collections", "图层"},
                  {coll, layer, zh_of(layer)},
                  {items, "Items", "要素"},
                  {NULL, id ? id : "", NULL}};
    page_open(req, b, id ? id : "feature", zh_of(layer), cr, 5, 1);
    put_map(req, b, body, len, "this feature on a map");
    gw_buf_str(b, "<table class=\"props\">\n<thead><tr><th>Property <span lang=\"zh-CN\">属性"
                  "</span></th><th>Value <span lang=\"zh-CN\">值</span></th></tr></thead>\n"
                  "<tbody>\n");
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get(feat, "properties"), k, v) {
        gw_buf_str(b, "<tr><th scope=\"row\">");
        gw_buf_html(b, k);
        gw_buf_str(b, "</th><td>");
        put_value(b, v);
        gw_buf_str(b, "</td></tr>\n");
    }
    /* what else the feature carries (an incident's flow) */
    json_object_foreach (feat, k, v) {
        if (!strcmp(k, "type") || !strcmp(k, "id") || !strcmp(k, "geometry") ||
            !strcmp(k, "properties") || !strcmp(k, "links"))
            continue;
        gw_buf_str(b, "<tr><th scope=\"row\">");
        gw_buf_html(b, k);
        gw_buf_str(b, "</th><td>");
        put_value(b, v);
        gw_buf_str(b, "</td></tr>\n");
    }
    gw_buf_str(b, "</tbody>\n</table>\n");
    put_links(b, json_object_get(feat, "links"));
    page_close(b);
}

void ogc_answer_geojson(gw_req *req, ogc_page page, char *body, size_t len, const char *ctype)
{
    int vary = gw_req_query(req, "f") == NULL;
    if (ogc_format_of(req) != OGC_FMT_HTML) {
        gw_req_respond_negotiated(req, ctype, body, len, vary);
        return;
    }
    json_error_t err;
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL, &err);
    if (!doc) {
        free(body);
        gw_req_problem(req, 500, NULL, "could not read back the page: %s", err.text);
        return;
    }
    gw_buf b = {0};
    if (page == OGC_PAGE_ITEMS) html_items(req, &b, doc, body, len);
    else html_item(req, &b, doc, body, len);
    json_decref(doc);
    free(body);
    /* a different Content-Crs than the map's does not concern the HTML */
    send_html(req, &b, vary);
}

void ogc_openapi_html(json_t *ok, json_t *responses)
{
    json_t *content = json_object_get(ok, "content");
    if (content)
        json_object_set_new(content, "text/html",
                            json_pack("{s:{s:s}}", "schema", "type", "string"));
    json_object_set_new(ok, "headers",
                        json_pack("{s:{s:s,s:{s:s}}}", "ETag", "description",
                                  "a strong validator of the body (If-None-Match gives 304)",
                                  "schema", "type", "string"));
    json_object_set_new(responses, "304",
                        json_pack("{s:s}", "description", "Not modified (If-None-Match)"));
    json_object_set_new(responses, "406",
                        json_pack("{s:s,s:{s:{s:{s:s}}}}", "description",
                                  "Accept takes neither JSON nor HTML", "content",
                                  "application/problem+json", "schema", "$ref",
                                  "#/components/schemas/Problem"));
}
