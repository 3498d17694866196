/* http_fixture.c — the HTTP tests' shared server fixture and libcurl client (http_fixture.h). */
#include "http_fixture.h"
#include "ogc.h"

#include "gridwatch/city.h"

#include <gdal.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

char hf_base[64];
long hf_timeout_s;

gw_store *hf_city(gw_ctx *ctx, const char *path, double scale, uint64_t seed)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = scale, .seed = seed};
    gw_status st = gw_city_generate(ctx, s, &co, NULL);
    if (st) fprintf(stderr, "city: %s\n", gw_ctx_errmsg(ctx));
    assert_int_equal(st, GW_OK);
    return s;
}

gw_status hf_server_start(gw_ctx *ctx, const gw_server_opts *o, gw_server **srv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* A server without the app: the test's own routes, then the OGC API reads, as the app
     * orders them.  The table must outlive the server: one per process is enough here. */
    static gw_route table[256];
    gw_server_opts bare = *o;
    if (!o->app) {
        size_t n_ogc, k = 0;
        const gw_route *ogc = gw_ogc_routes(&n_ogc);
        for (size_t i = 0; i < o->n_routes && k < 256; i++) table[k++] = o->routes[i];
        for (size_t i = 0; i < n_ogc && k < 256; i++) table[k++] = ogc[i];
        bare.routes = table;
        bare.n_routes = k;
    }
    gw_status st = gw_server_create(ctx, &bare, srv);
    if (st) {
        fprintf(stderr, "server: %s\n", gw_ctx_errmsg(ctx));
        return st;
    }
    snprintf(hf_base, sizeof hf_base, "http://127.0.0.1:%u", (unsigned)gw_server_port(*srv));
    return GW_OK;
}

void hf_server_stop(gw_server *srv)
{
    gw_server_destroy(srv);
    curl_global_cleanup();
}

gw_status hf_app_start(gw_ctx *ctx, const gw_app_opts *ao, gw_server_opts *o, gw_app **app,
                       gw_server **srv)
{
    gw_status st = gw_app_create(ctx, o->db_path, ao, app);
    if (st) {
        fprintf(stderr, "app: %s\n", gw_ctx_errmsg(ctx));
        return st;
    }
    gw_app_configure(*app, o);
    return hf_server_start(ctx, o, srv);
}

gw_status hf_app_serve(gw_ctx *ctx, const char *db, int anonymous_read, gw_server_opts *o,
                       gw_app **app, gw_server **srv)
{
    memset(o, 0, sizeof *o);
    o->db_path = db;
    o->threads = 2;
    o->quiet = 1;
    o->anonymous_read = anonymous_read;
    return hf_app_start(ctx, NULL, o, app, srv);
}

void hf_app_stop(gw_app *app, gw_server *srv)
{
    if (srv) gw_server_destroy(srv);
    gw_app_destroy(app);
    curl_global_cleanup();
}

static size_t on_bytes(char *p, size_t sz, size_t n, void *u)
{
    gw_buf_add(u, p, sz * n);
    return sz * n;
}

hf_resp hf_request(const char *method, const char *url, const char *token, const void *body,
                   size_t body_len, const char *ctype, const char *const *extra)
{
    hf_resp r;
    memset(&r, 0, sizeof r);
    char full[2048], line[256];
    snprintf(full, sizeof full, "%s%s", strncmp(url, "http", 4) ? hf_base : "", url);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (hf_timeout_s > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, hf_timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_bytes);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.hdrs);
    struct curl_slist *h = NULL;
    if (token) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
    }
    if (ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    }
    for (size_t i = 0; extra && extra[i]; i++) h = curl_slist_append(h, extra[i]);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    r.curl = (int)rc;
    if (rc != CURLE_OK) fprintf(stderr, "curl %s %s: %s\n", method, full, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r.ctype, sizeof r.ctype, "%s", ct ? ct : "");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!r.body.data) gw_buf_add(&r.body, "", 0);
    if (!r.hdrs.data) gw_buf_add(&r.hdrs, "", 0);
    return r;
}

void hf_resp_free(hf_resp *r)
{
    gw_buf_free(&r->body);
    gw_buf_free(&r->hdrs);
}

const char *hf_header(const hf_resp *r, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = r->hdrs.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ') p++;
            snprintf(buf, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
            return buf;
        }
    }
    return NULL;
}

json_t *hf_json(hf_resp *r, long want, size_t flags, const char *what)
{
    if (r->status != want)
        fprintf(stderr, "%s -> %ld (want %ld): %.300s\n", what, r->status, want, r->body.data);
    assert_int_equal(r->status, want);
    json_t *j = json_loads(r->body.data, flags, NULL);
    hf_resp_free(r);
    return j;
}

void *hf_mvt_open(const hf_resp *r, unsigned z, unsigned x, unsigned y, const char *name)
{
    const char *fp = gw_test_path(name);
    FILE *f = fopen(fp, "wb");
    if (!f) return NULL;
    size_t n = fwrite(r->body.data, 1, r->body.len, f);
    if (fclose(f) != 0 || n != r->body.len) return NULL;
    char ox[32], oy[32], oz[32];
    snprintf(ox, sizeof ox, "X=%u", x), snprintf(oy, sizeof oy, "Y=%u", y);
    snprintf(oz, sizeof oz, "Z=%u", z);
    const char *drivers[] = {"MVT", NULL}, *opts[] = {ox, oy, oz, NULL};
    return GDALOpenEx(fp, GDAL_OF_VECTOR, drivers, opts, NULL);
}
