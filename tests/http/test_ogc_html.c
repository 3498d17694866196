/* test_ogc_html.c — the OGC API – Features read routes as HTML and JSON over real sockets
 * (api/routes/ogc_html.c, api/http/negotiate.c): f=json|html and Accept negotiation (q-values,
 * a browser's Accept, 406), Vary, the HTML alternates in the JSON links, each route's HTML page
 * (title, breadcrumbs, links, paging keeping the query) checked well-formed by a real parser
 * (tests/http/check_html.py: Python's html.parser with a strict element stack, and xmllint
 * --html), hostile property values (markup, quotes, broken UTF-8) escaped, strong ETags with
 * 304 that change after an edit through the API, and gzip inflated back to the plain body. */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "negotiate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_server_opts opts;
static const char *db;
static char admin[GW_TOKEN_LEN + 1];

/* the hostile incident: markup, quotes, an ampersand, broken UTF-8 and a control character */
#define HOSTILE_ID "H<1>\"&'"
#define HOSTILE_DESC "<script>alert('x')</script> \"q\" & <b>b</b> \xff\xfe bad \xe4\xb8 \x01 end"
#define HOSTILE_BBOX "99.9,19.9,100.1,20.1"

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_db("ogc_html.sqlite");
    gw_store *s = hf_city(tctx, db, 0.005, 7);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins = NULL;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    gw_value v[8] = {{GW_VAL_TEXT, HOSTILE_ID, 0, 0},
                     {GW_VAL_INT, NULL, 1735689600, 0},
                     {GW_VAL_TEXT, "theft", 0, 0},
                     {GW_VAL_INT, NULL, 3, 0},
                     {GW_VAL_TEXT, "open", 0, 0},
                     {GW_VAL_TEXT, HOSTILE_DESC, 0, 0},
                     {GW_VAL_TEXT, "</td></tr></table>", 0, 0}};
    gw_feature f = {v, NULL, 0, 100.0, 20.0};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_log_change(s, GW_LAYER_INCIDENTS, "import", NULL, NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "html-admin", NULL, admin, NULL),
                     GW_OK);
    gw_store_close(s);
    assert_int_equal(hf_app_serve(tctx, db, 1, &opts, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* GET url with up to three extra header lines (NULL-ended). */
static hf_resp get(const char *url, const char *h1, const char *h2, const char *h3)
{
    const char *extra[4] = {h1, h2, h3, NULL};
    return hf_request("GET", url, NULL, NULL, 0, NULL, extra);
}

static int has(const hf_resp *r, const char *needle)
{
    return r->body.data && strstr(r->body.data, needle) != NULL;
}

/* The page is well-formed HTML (tests/http/check_html.py). */
static void well_formed(const hf_resp *r, const char *what)
{
    const char *path = gw_test_path("page.html");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(r->body.data ? r->body.data : "", 1, r->body.len, f);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/http/check_html.py %s", GW_SOURCE_DIR, path);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "%s: not well-formed (see above)\n", what);
    assert_int_equal(rc, 0);
}

/* ---- the parsers, directly ---------------------------------------------------------------- */

static void test_accept_parsers(void **state)
{
    (void)state;
    static const char *const o[] = {"application/json", "application/geo+json", "text/html"};
    assert_int_equal(gw_accept_pick(NULL, o, 3), 0);
    assert_int_equal(gw_accept_pick("", o, 3), 0);
    assert_int_equal(gw_accept_pick(" , ", o, 3), 0);
    assert_int_equal(gw_accept_pick("*/*", o, 3), 0);
    assert_int_equal(gw_accept_pick("text/html", o, 3), 2);
    assert_int_equal(gw_accept_pick("TEXT/HTML", o, 3), 2);
    assert_int_equal(gw_accept_pick("application/geo+json", o, 3), 1);
    assert_int_equal(gw_accept_pick("text/html,application/xhtml+xml,application/xml;q=0.9,"
                                    "image/avif,image/webp,*/*;q=0.8",
                                    o, 3),
                     2);
    assert_int_equal(gw_accept_pick("application/json;q=0.5, text/html;q=0.9", o, 3), 2);
    assert_int_equal(gw_accept_pick("application/json;q=0.9, text/html;q=0.5", o, 3), 0);
    assert_int_equal(gw_accept_pick("text/html;q=0, */*", o, 3), 0);
    assert_int_equal(gw_accept_pick("text/html;level=1;q=0.7, application/*;q=0.6", o, 3), 2);
    assert_int_equal(gw_accept_pick("*/*;q=0.1, application/json;q=0", o, 3), 1);
    assert_int_equal(gw_accept_pick("application/xml", o, 3), -1);
    assert_int_equal(gw_accept_pick("*/*;q=0", o, 3), -1);
    assert_int_equal(gw_accept_pick("text/*", o, 3), 2);
    assert_int_equal(gw_accept_pick("*", o, 3), 0);
    assert_int_equal(gw_accept_pick("text/html;q=0.001", o, 3), 2);
    assert_int_equal(gw_accept_pick("text/html;q=x", o, 3), 2); /* malformed q: 1 */
    assert_int_equal(gw_accept_pick("text/htmlx", o, 3), -1);
    assert_int_equal(gw_accept_gzip(NULL), 0);
    assert_int_equal(gw_accept_gzip(""), 0);
    assert_int_equal(gw_accept_gzip("gzip"), 1);
    assert_int_equal(gw_accept_gzip("deflate, gzip;q=1.0, br"), 1);
    assert_int_equal(gw_accept_gzip("gzip;q=0"), 0);
    assert_int_equal(gw_accept_gzip("gzip ; q=0.000"), 0);
    assert_int_equal(gw_accept_gzip("x-gzip"), 1);
    assert_int_equal(gw_accept_gzip("*"), 1);
    assert_int_equal(gw_accept_gzip("*, gzip;q=0"), 0);
    assert_int_equal(gw_accept_gzip("br, identity"), 0);
    assert_int_equal(gw_accept_gzip("gzipx"), 0);
}

static void test_html_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain 文字", "plain 文字"},
        {"<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
        {"a \"q\" & b", "a &quot;q&quot; &amp; b"},
        {"bad \xff\xfe end", "bad \xef\xbf\xbd\xef\xbf\xbd end"},
        {"cut \xe4\xb8", "cut \xef\xbf\xbd\xef\xbf\xbd"},
        {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
        {"surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"ctl \x01\x7f\t\n", "ctl \xef\xbf\xbd\xef\xbf\xbd\t\n"},
        {"c1 \xc2\x85", "c1 \xef\xbf\xbd"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_buf b = {0};
        gw_buf_html(&b, cases[i].in);
        assert_string_equal(b.data ? b.data : "", cases[i].out);
        gw_buf_free(&b);
    }
    gw_buf b = {0};
    gw_buf_html_n(&b, "a\0b", 3); /* an embedded NUL */
    assert_string_equal(b.data, "a\xef\xbf\xbd"
                                "b");
    gw_buf_free(&b);
}

/* ---- negotiation over HTTP ---------------------------------------------------------------- */

static void expect(const char *url, const char *accept, long status, const char *ctype_prefix,
                   const char *vary)
{
    char h[512];
    snprintf(h, sizeof h, "Accept: %s", accept);
    hf_resp r = get(url, accept ? h : NULL, NULL, NULL);
    if (r.status != status || strncmp(r.ctype, ctype_prefix, strlen(ctype_prefix)) != 0)
        fprintf(stderr, "%s [Accept: %s] -> %ld %s\n", url, accept ? accept : "(none)", r.status,
                r.ctype);
    assert_int_equal(r.status, status);
    assert_memory_equal(r.ctype, ctype_prefix, strlen(ctype_prefix));
    if (vary) {
        char v[256];
        assert_non_null(hf_header(&r, "Vary", v, sizeof v));
        assert_non_null(strstr(v, vary));
    }
    hf_resp_free(&r);
}

static void test_negotiation(void **state)
{
    (void)state;
    const char *browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                          "image/webp,image/apng,*/*;q=0.8";
    const char *items = "/collections/incidents/items?limit=2";
    expect(items, NULL, 200, "application/geo+json", "Accept");
    expect(items, "*/*", 200, "application/geo+json", "Accept");
    expect(items, "application/json", 200, "application/geo+json", "Accept");
    expect(items, "application/geo+json", 200, "application/geo+json", "Accept");
    expect(items, "text/html", 200, "text/html; charset=utf-8", "Accept");
    expect(items, browser, 200, "text/html", "Accept, Accept-Encoding");
    expect(items, "application/json;q=0.4, text/html;q=0.6", 200, "text/html", NULL);
    expect(items, "application/json;q=0.6, text/html;q=0.4", 200, "application/geo+json", NULL);
    expect(items, "text/html;q=0, */*;q=0.1", 200, "application/geo+json", NULL);
    expect(items, "application/xml", 406, "application/problem+json", "Accept");
    expect(items, "image/png, text/plain;q=0.5", 406, "application/problem+json", NULL);
    /* f wins over Accept, and then the answer does not vary by Accept */
    hf_resp r = get("/collections/incidents/items?limit=2&f=json", "Accept: text/html", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "application/geo+json");
    char v[256];
    assert_non_null(hf_header(&r, "Vary", v, sizeof v));
    assert_null(strstr(v, "Accept,"));
    hf_resp_free(&r);
    expect("/collections/incidents/items?limit=2&f=html", "application/json", 200, "text/html",
           NULL);
    expect("/collections/incidents/items?f=xml", NULL, 400, "application/problem+json", NULL);
    /* every route */
    const char *routes[] = {"/conformance", "/collections", "/collections/grids",
                            "/collections/grids/items?limit=1", NULL};
    for (int i = 0; routes[i]; i++) {
        expect(routes[i], "text/html", 200, "text/html", "Accept");
        expect(routes[i], "application/json", 200, "application/", "Accept");
        expect(routes[i], "application/xml", 406, "application/problem+json", NULL);
    }
    /* the landing page: a browser is sent to the wall, f=html gets the page */
    expect("/", "application/json", 200, "application/json", "Accept");
    expect("/?f=html", browser, 200, "text/html", NULL);
}

/* ---- the pages -------------------------------------------------------------------------- */

/* The JSON representation lists the HTML one: a link rel=alternate, type text/html. */
static void json_lists_html(const char *url)
{
    hf_resp r = get(url, "Accept: application/json", NULL, NULL);
    json_t *j = hf_json(&r, 200, 0, url);
    assert_non_null(j);
    size_t i;
    json_t *l;
    int found = 0;
    json_array_foreach (json_object_get(j, "links"), i, l) {
        const char *t = json_string_value(json_object_get(l, "type"));
        const char *h = json_string_value(json_object_get(l, "href"));
        if (t && !strcmp(t, "text/html") && h && strstr(h, "f=html")) found = 1;
    }
    if (!found) fprintf(stderr, "%s: no text/html link\n", url);
    assert_true(found);
    json_decref(j);
}

static hf_resp page(const char *url, const char *title)
{
    hf_resp r = get(url, NULL, NULL, NULL);
    if (r.status != 200) fprintf(stderr, "%s -> %ld %s\n", url, r.status, r.body.data);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/html; charset=utf-8");
    char t[256];
    snprintf(t, sizeof t, "<title>%s</title>", title);
    if (!has(&r, t)) fprintf(stderr, "%s: no %s\n", url, t);
    assert_true(has(&r, t));
    assert_true(has(&r, "<html lang=\"en\">"));
    assert_true(has(&r, "<meta charset=\"utf-8\">"));
    assert_true(has(&r, "rel=\"alternate\" type=\"application/json\""));
    assert_true(has(&r, "aria-label=\"breadcrumb\""));
    assert_true(has(&r, "lang=\"zh-CN\""));
    well_formed(&r, url);
    return r;
}

static void test_pages(void **state)
{
    (void)state;
    hf_resp r = page("/?f=html", "gridwatch");
    assert_true(has(&r, "/collections?f=html"));
    hf_resp_free(&r);
    r = page("/conformance?f=html", "Conformance - gridwatch");
    assert_true(has(&r, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"));
    hf_resp_free(&r);
    r = page("/collections?f=html", "Collections - gridwatch");
    assert_true(has(&r, "/collections/police_rooms?f=html"));
    assert_true(has(&r, "/collections/incidents/items?f=html"));
    hf_resp_free(&r);
    r = page("/collections/teams?f=html", "teams - gridwatch");
    assert_true(has(&r, "巡逻队"));
    assert_true(has(&r, "/collections/teams/items?f=html"));
    hf_resp_free(&r);
    /* items: the table, the map's data, paging that keeps the query */
    r = page("/collections/incidents/items?limit=3&category=theft&offset=3&f=html",
             "incidents: items - gridwatch");
    assert_true(has(&r, "<table class=\"items\">"));
    assert_true(has(&r, "<th>category</th>"));
    assert_true(has(&r, "id=\"map\""));
    assert_true(has(&r, "<script type=\"application/geo+json\" id=\"gw-data\">"));
    assert_true(has(&r, "/wall/ogc/ogc.js"));
    assert_true(has(&r, "rel=\"next\" href=\"") && has(&r, "limit=3&amp;category=theft&amp;"
                                                           "offset=6&amp;f=html\""));
    assert_true(has(&r, "limit=3&amp;category=theft&amp;offset=0&amp;f=html\""));
    assert_true(has(&r, "/collections/incidents/items/"));
    hf_resp_free(&r);
    /* an item */
    json_t *fc = NULL;
    hf_resp jr = get("/collections/teams/items?limit=1", NULL, NULL, NULL);
    fc = hf_json(&jr, 200, 0, "teams");
    const char *id = json_string_value(
        json_object_get(json_array_get(json_object_get(fc, "features"), 0), "id"));
    assert_non_null(id);
    char url[256], title[256];
    snprintf(url, sizeof url, "/collections/teams/items/%s?f=html", id);
    snprintf(title, sizeof title, "%s - gridwatch", id);
    r = page(url, title);
    assert_true(has(&r, "<table class=\"props\">"));
    assert_true(has(&r, "id=\"gw-data\""));
    assert_true(has(&r, "/collections/teams/items?f=html"));
    hf_resp_free(&r);
    /* the JSON alternates of every route */
    json_lists_html("/");
    json_lists_html("/conformance");
    json_lists_html("/collections");
    json_lists_html("/collections/grids");
    json_lists_html("/collections/grids/items?limit=1");
    snprintf(url, sizeof url, "/collections/teams/items/%s", id);
    json_lists_html(url);
    json_decref(fc);
    /* each collection in /collections lists its HTML page and its items' */
    jr = get("/collections", NULL, NULL, NULL);
    json_t *cs = hf_json(&jr, 200, 0, "collections");
    json_t *c0 = json_array_get(json_object_get(cs, "collections"), 0);
    char *dump = json_dumps(json_object_get(c0, "links"), 0);
    assert_non_null(strstr(dump, "\"text/html\""));
    free(dump);
    json_decref(cs);
}

static void test_hostile_values(void **state)
{
    (void)state;
    hf_resp r = get("/collections/incidents/items?bbox=" HOSTILE_BBOX "&f=html", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    well_formed(&r, "the hostile items page");
    assert_false(has(&r, "<script>alert"));
    assert_false(has(&r, "<b>b</b>"));
    assert_true(has(&r, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;q&quot; &amp; "));
    assert_true(has(&r, "\xef\xbf\xbd")); /* the broken bytes */
    assert_true(has(&r, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"));
    assert_true(has(&r, "H&lt;1&gt;&quot;&amp;&#39;"));
    /* the map's data block: no markup can end it early */
    int closes = 0;
    for (const char *p = r.body.data; (p = strstr(p, "</script")) != NULL; p++) closes++;
    assert_int_equal(closes, 2); /* the module's and the data block's own */
    assert_true(has(&r, "\\u003cscript>alert"));
    hf_resp_free(&r);
    /* the item page of the hostile id (percent-encoded in the path) */
    r = get("/collections/incidents/items/H%3C1%3E%22%26'?f=html", NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    well_formed(&r, "the hostile item page");
    assert_false(has(&r, "<script>alert"));
    assert_true(has(&r, "<title>H&lt;1&gt;&quot;&amp;&#39; - gridwatch</title>"));
    assert_true(has(&r, "/items/H%3C1%3E%22%26%27?f=json\"")); /* links encode the path again */
    hf_resp_free(&r);
}

/* ---- ETag, 304, gzip ---------------------------------------------------------------------- */

static void etag_of(const hf_resp *r, char *out, size_t cap)
{
    assert_non_null(hf_header(r, "ETag", out, cap));
    assert_int_equal(out[0], '"'); /* strong */
}

static void test_etag(void **state)
{
    (void)state;
    const char *url = "/collections/incidents/items?limit=5";
    char e1[64], e2[64], e3[64], eh[64], inm[128];
    hf_resp r = get(url, NULL, NULL, NULL);
    assert_int_equal(r.status, 200);
    etag_of(&r, e1, sizeof e1);
    json_t *fc = json_loads(r.body.data, 0, NULL);
    char id[64];
    snprintf(id, sizeof id, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(fc, "features"), 0), "id")));
    json_decref(fc);
    hf_resp_free(&r);
    sleep(1); /* a new timeStamp: not a change of the page */
    r = get(url, NULL, NULL, NULL);
    etag_of(&r, e2, sizeof e2);
    assert_string_equal(e1, e2);
    hf_resp_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", e1);
    r = get(url, inm, NULL, NULL);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body.len, 0);
    hf_resp_free(&r);
    /* the HTML representation has its own tag, as stable */
    r = get(url, "Accept: text/html", NULL, NULL);
    etag_of(&r, eh, sizeof eh);
    assert_string_not_equal(eh, e1);
    hf_resp_free(&r);
    sleep(1);
    char hinm[128];
    snprintf(hinm, sizeof hinm, "If-None-Match: %s", eh);
    r = get(url, "Accept: text/html", hinm, NULL);
    assert_int_equal(r.status, 304);
    hf_resp_free(&r);
    r = get(url, "Accept: text/html", inm, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    /* the single item and the collection pages too */
    char item[128], ie[64], iinm[128];
    snprintf(item, sizeof item, "/collections/incidents/items/%s", id);
    r = get(item, NULL, NULL, NULL);
    etag_of(&r, ie, sizeof ie);
    hf_resp_free(&r);
    snprintf(iinm, sizeof iinm, "If-None-Match: %s", ie);
    r = get(item, iinm, NULL, NULL);
    assert_int_equal(r.status, 304);
    hf_resp_free(&r);
    r = get("/collections", NULL, NULL, NULL);
    char ce[64], cinm[128];
    etag_of(&r, ce, sizeof ce);
    hf_resp_free(&r);
    snprintf(cinm, sizeof cinm, "If-None-Match: W/%s, \"other\"", ce);
    r = get("/collections", cinm, NULL, NULL);
    assert_int_equal(r.status, 304);
    hf_resp_free(&r);
    /* an edit through the API: the page and the item change, and so do their tags */
    const char *patch = "{\"properties\":{\"description\":\"changed by test_ogc_html\"}}";
    r = hf_request("PATCH", item, admin, patch, strlen(patch), "application/merge-patch+json",
                   NULL);
    if (r.status != 200) fprintf(stderr, "PATCH %s -> %ld %s\n", item, r.status, r.body.data);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    r = get(url, inm, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(has(&r, "changed by test_ogc_html"));
    etag_of(&r, e3, sizeof e3);
    assert_string_not_equal(e3, e1);
    hf_resp_free(&r);
    r = get(item, iinm, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
}

/* inflate a gzip body */
static char *gunzip(const gw_buf *in, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    size_t cap = in->len * 20 + 1024;
    char *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)in->data;
    zs.avail_in = (uInt)in->len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    inflateEnd(&zs);
    return out;
}

/* the timeStamp value of an items page masked, so two answers compare */
static void mask_ts(char *s, size_t n)
{
    char *t = memmem(s, n, "\"timeStamp\":\"", 13);
    if (t)
        for (t += 13; *t && *t != '"'; t++) *t = 'X';
}

static void test_gzip(void **state)
{
    (void)state;
    const char *urls[] = {"/collections/grids/items?limit=50", "/collections",
                          "/collections/grids/items?limit=20&f=html", NULL};
    for (int i = 0; urls[i]; i++) {
        hf_resp plain = get(urls[i], NULL, NULL, NULL);
        hf_resp gz = get(urls[i], "Accept-Encoding: gzip", NULL, NULL);
        assert_int_equal(plain.status, 200);
        assert_int_equal(gz.status, 200);
        char h[128], tp[64], tg[64];
        assert_null(hf_header(&plain, "Content-Encoding", h, sizeof h));
        assert_non_null(hf_header(&gz, "Content-Encoding", h, sizeof h));
        assert_string_equal(h, "gzip");
        assert_non_null(hf_header(&gz, "Vary", h, sizeof h));
        assert_non_null(strstr(h, "Accept-Encoding"));
        etag_of(&plain, tp, sizeof tp);
        etag_of(&gz, tg, sizeof tg);
        assert_string_not_equal(tp, tg); /* each coding its own strong tag */
        size_t n;
        char *body = gunzip(&gz.body, &n);
        assert_true(gz.body.len < n);
        mask_ts(body, n);
        mask_ts(plain.body.data, plain.body.len);
        assert_int_equal(n, plain.body.len);
        assert_memory_equal(body, plain.body.data, n);
        free(body);
        /* the gzip'd tag revalidates */
        char inm[128];
        snprintf(inm, sizeof inm, "If-None-Match: %s", tg);
        hf_resp nm = get(urls[i], inm, "Accept-Encoding: gzip", NULL);
        assert_int_equal(nm.status, 304);
        hf_resp_free(&nm);
        hf_resp_free(&plain);
        hf_resp_free(&gz);
    }
    hf_resp r = get("/collections", "Accept-Encoding: gzip;q=0, br", NULL, NULL);
    char h[64];
    assert_null(hf_header(&r, "Content-Encoding", h, sizeof h));
    hf_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_parsers), cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_negotiation),    cmocka_unit_test(test_pages),
        cmocka_unit_test(test_hostile_values), cmocka_unit_test(test_etag),
        cmocka_unit_test(test_gzip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
