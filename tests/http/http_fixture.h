/* http_fixture.h — what every HTTP test shares: a gridwatch server (optionally over the whole
 * app) on an ephemeral loopback port, a generated test city, and one libcurl request helper
 * with the answer's status, Content-Type, headers and body.  Test code, hence `hf_`, not `gw_`.
 * The helpers assert with cmocka: call them from inside a test or a group setup. */
#ifndef HF_HTTP_FIXTURE_H
#define HF_HTTP_FIXTURE_H

#include "testutil.h"

#include "app.h"
#include "gridwatch/store.h"
#include "http_util.h"
#include "server.h"

#include <jansson.h>

/* "http://127.0.0.1:<port>" of the server last started; relative URLs are resolved on it. */
extern char hf_base[64];
/* A whole-request time limit in seconds for hf_request; 0 (the default): none. */
extern long hf_timeout_s;

/* A new store at `path` holding a generated city of this scale and seed; the caller adds what
 * else it needs (tokens, rows) and closes it with gw_store_close. */
gw_store *hf_city(gw_ctx *ctx, const char *path, double scale, uint64_t seed);

/* curl_global_init, gw_server_create(ctx, o) and hf_base; a failure's message goes to stderr.
 * Without an app in o, the server gets o's routes followed by the OGC API read routes. */
gw_status hf_server_start(gw_ctx *ctx, const gw_server_opts *o, gw_server **srv);
/* gw_server_destroy and curl_global_cleanup. */
void hf_server_stop(gw_server *srv);
/* The whole app over o->db_path (ao NULL: defaults), its routes put in `o`, then its server. */
gw_status hf_app_start(gw_ctx *ctx, const gw_app_opts *ao, gw_server_opts *o, gw_app **app,
                       gw_server **srv);
/* hf_app_start with the tests' usual server: *o (kept by the caller: the server reads it) set
 * to db, two threads, quiet, anonymous reads when asked, the app's default options. */
gw_status hf_app_serve(gw_ctx *ctx, const char *db, int anonymous_read, gw_server_opts *o,
                       gw_app **app, gw_server **srv);
/* The server, then the app (either may be NULL), then curl_global_cleanup. */
void hf_app_stop(gw_app *app, gw_server *srv);

typedef struct hf_resp {
    int curl; /* curl_easy_perform's CURLcode: CURLE_OK (0) when an answer came */
    long status;
    char ctype[128]; /* Content-Type, "" when none */
    gw_buf body;     /* always NUL-terminated, "" when empty */
    gw_buf hdrs;     /* the raw header lines */
} hf_resp;

/* One request.  url: absolute or a path on hf_base; token: a bearer token or NULL; body of
 * body_len bytes or NULL; ctype: the Content-Type header's value or NULL for none; extra: a
 * NULL-terminated list of more header lines or NULL.  HEAD asks for no body. */
hf_resp hf_request(const char *method, const char *url, const char *token, const void *body,
                   size_t body_len, const char *ctype, const char *const *extra);
void hf_resp_free(hf_resp *r);
/* A response header's value (case-insensitive name, first occurrence) copied into buf; buf is
 * "" and the result NULL when absent. */
const char *hf_header(const hf_resp *r, const char *name, char *buf, size_t cap);
/* Asserts r->status == want (printing the body when not), parses the body with json_loads
 * flags and frees r; the JSON, or NULL when the body is not JSON. */
json_t *hf_json(hf_resp *r, long want, size_t flags, const char *what);
/* The body of a tile response (the MVT of tile z/x/y) opened with GDAL's MVT driver: written to
 * `name` in the test's scratch directory first.  A GDALDatasetH (close with GDALClose), NULL when
 * GDAL cannot read it.  The caller has called GDALAllRegister(). */
void *hf_mvt_open(const hf_resp *r, unsigned z, unsigned x, unsigned y, const char *name);

#endif
