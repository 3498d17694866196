/* server.h — the gridwatch HTTP server: libmicrohttpd with a thread pool, a route table, one
 * store connection per worker thread, problem+json errors, CORS, metrics and request logs.
 *
 * Handlers get a gw_req and answer through one of the gw_req_respond_* calls; the server adds
 * CORS headers, queues and destroys the response, logs and counts it.  Writes and auth plug in
 * through gw_server_opts.routes (extra routes, matched before the built-in read routes) and
 * gw_server_opts.auth (called for every route whose role is above GW_ROLE_ANON). */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include "gridwatch/common.h"
#include "gridwatch/store.h"
#include "i18n.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gw_server gw_server;
typedef struct gw_req gw_req;
typedef struct json_t json_t;

/* Roles, weakest first.  A route names the least role it needs. */
typedef enum gw_role {
    GW_ROLE_ANON = 0, /* no token needed (healthz, metrics, landing, openapi) */
    GW_ROLE_VIEWER,   /* reads; open to anonymous callers when the server runs --anonymous-read */
    GW_ROLE_DISPATCHER,
    GW_ROLE_PLANNER,
    GW_ROLE_ADMIN
} gw_role;

/* A route handler.  It must answer through a gw_req_respond_* call (a handler that returns
 * without one gets a 500 problem).  Return value is ignored today (0). */
typedef int (*gw_route_fn)(gw_req *req);

/* A route: method ("GET" also answers HEAD), a path pattern whose "{name}" segments capture
 * one path segment each (read with gw_req_param), the least role, and a short metrics label. */
typedef struct gw_route {
    const char *method;
    const char *pattern;
    gw_route_fn fn;
    gw_role role;
    const char *name;
} gw_route;

/* Auth hook: decide whether the request may use a route needing `need`.  Return 0 to allow, or
 * 401/403 after filling why[cap]; the server answers with that problem (and WWW-Authenticate on
 * 401).  NULL hook: every request is allowed (no auth module linked). */
typedef int (*gw_auth_fn)(void *user, gw_req *req, gw_role need, char *why, size_t cap);

struct gw_buf; /* http_util.h */

typedef struct gw_server_opts {
    const char *db_path;    /* required: an existing gridwatch database */
    const char *bind;       /* IPv4 address; NULL = 127.0.0.1 */
    uint16_t port;          /* 0 = ephemeral (read it back with gw_server_port) */
    int threads;            /* worker threads; 0 = 8.  Writes in progress (POST, PUT, PATCH,
                               DELETE — each may wait up to GW_STORE_WRITE_WAIT_MS for another
                               writer) are limited to threads - 2 (from 4 threads on) so reads
                               and /healthz always find a worker; past that a write is 503 with
                               Retry-After */
    const char *public_url; /* "https://gw.example.org": the base of every link and Location,
                               whatever Host says.  NULL: links use the Host header, which must
                               then name localhost or one of this machine's IP addresses (421
                               otherwise), so a forged Host is never reflected */
    int anonymous_read;     /* reads (GW_ROLE_VIEWER routes) need no token */
    size_t max_body;        /* request body limit in bytes; 0 = 8 MiB */
    unsigned timeout_s;     /* idle connection timeout; 0 = 30 s */
    unsigned max_conn;      /* connection limit; 0 = 1024 */
    int quiet;              /* no request log lines on stderr */
    int auth_fail_max;      /* refused bearer tokens per client address and minute before 429;
                               0 = 20 */
    const gw_route *routes; /* the routes (the app gives them all), matched first; may be NULL */
    size_t n_routes;
    gw_auth_fn auth;
    void *auth_user;
    void *app; /* shared state for handlers (a gw_live, see live.h); read with gw_req_app */
    /* More metric families for /metrics (the app's caches, event streams, model): appended
     * in the Prometheus text format after the server's own; may be NULL */
    void (*metrics)(void *user, gw_ctx *ctx, struct gw_buf *out);
    void *metrics_user;
} gw_server_opts;

/* Open the database once (migrating it if needed) and start listening.  Errors on the ctx
 * (GW_ERR_IO for a bind failure, store errors as gw_store_open gives them).
 * Caller stops and frees with gw_server_destroy(). */
gw_status gw_server_create(gw_ctx *ctx, const gw_server_opts *opts, gw_server **out);
/* The port actually bound. */
uint16_t gw_server_port(const gw_server *srv);
/* Stop accepting, let in-flight requests finish (up to a few seconds), stop the workers and
 * close every database connection.  Accepts NULL. */
void gw_server_destroy(gw_server *srv);

/* ---- for handlers ---------------------------------------------------------------------- */

/* A "{name}" capture of the matched pattern (percent-decoded), or NULL. */
const char *gw_req_param(const gw_req *req, const char *name);
/* A query argument (decoded), or NULL when absent. */
const char *gw_req_query(gw_req *req, const char *name);
/* Call fn for each query argument; stops and returns the first nonzero fn result. */
int gw_req_query_each(gw_req *req, int (*fn)(void *user, const char *key, const char *value),
                      void *user);
/* A request header, or NULL. */
const char *gw_req_header(gw_req *req, const char *name);
const char *gw_req_method(const gw_req *req);
const char *gw_req_path(const gw_req *req);
/* The request body (NUL-terminated; len may be 0).  Borrowed until the request ends. */
const char *gw_req_body(const gw_req *req, size_t *len);
/* "http://host:port" as the client addressed us (Host header). */
const char *gw_req_base_url(gw_req *req);
/* This worker thread's context and read connection, opened on first use.  The connection is
 * query_only: open a separate one for writes.  NULL (and a 503 answered) when it cannot open. */
gw_ctx *gw_req_ctx(gw_req *req);
/* This worker thread's read-write connection to the served database, opened on first use and
 * closed when the thread ends; NULL with a 503 problem already answered when it cannot open.
 * SQLite's busy timeout serialises writers across threads. */
gw_store *gw_req_write_store(gw_req *req);
gw_store *gw_req_store(gw_req *req);
gw_server *gw_req_server(gw_req *req);
/* The opts.app pointer the server was created with (NULL when none). */
void *gw_req_app(gw_req *req);
/* The i-th route the server matches (the given routes, then /healthz and /metrics), NULL past
 * the end: what /openapi.json lists. */
const gw_route *gw_server_route(const gw_server *srv, size_t i);
/* The highest role this server answers without a token: GW_ROLE_ANON, GW_ROLE_VIEWER when it
 * runs with anonymous_read, GW_ROLE_ADMIN when it has no auth hook (what /openapi.json states). */
gw_role gw_server_open_role(const gw_server *srv);
/* The route that answers the request (NULL before one matched). */
const gw_route *gw_req_route(const gw_req *req);
/* What the auth module learnt about the request's bearer token, kept for the request's life so
 * that its handlers do not ask the database again (zeroed when the request starts). */
#define GW_JURISDICTION_MAX 256
typedef struct gw_req_auth {
    int resolved;    /* 0 until the auth module filled the rest */
    int rc;          /* 0 (a valid token), 401 or 503 */
    const char *why; /* static text: why rc is not 0 */
    gw_role role;
    char jurisdiction[GW_JURISDICTION_MAX]; /* the token's path, "" when unscoped */
} gw_req_auth;
gw_req_auth *gw_req_auth_memo(gw_req *req);
/* The database path the server serves. */
const char *gw_server_db_path(const gw_server *srv);

/* Add a header to the response about to be sent (copied). */
void gw_req_add_header(gw_req *req, const char *name, const char *value);
/* Answer with a copy of `body`. */
void gw_req_respond(gw_req *req, unsigned status, const char *content_type, const char *body,
                    size_t len);
/* Answer with `body` (malloc'd, len bytes), which the answer takes over: freed once sent, or at
 * once when the answer cannot be made (a 500 is then answered).  No copy of a large page. */
void gw_req_respond_take(gw_req *req, unsigned status, const char *content_type, char *body,
                         size_t len);
/* Answer with `body` (len bytes) without copying it: the caller keeps it valid until
 * release(cls) is called, once the answer is sent or dropped (at once when the answer cannot be
 * made; a 500 is then answered).  For bytes shared by many answers, e.g. a cached tile held by
 * a reference that release drops. */
void gw_req_respond_shared(gw_req *req, unsigned status, const char *content_type, const void *body,
                           size_t len, void (*release)(void *cls), void *cls);
/* Answer with a JSON document (serialised compactly; `doc` is decref'd). */
void gw_req_respond_json(gw_req *req, unsigned status, json_t *doc);
/* The same with another JSON content type ("application/geo+json"). */
void gw_req_respond_json_as(gw_req *req, unsigned status, json_t *doc, const char *ctype);
/* Answer with application/problem+json (RFC 9457): type "about:blank" with the status's title
 * when `title` is NULL, and the detail formatted from fmt. */
void gw_req_problem(gw_req *req, unsigned status, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The language the request's Accept-Language asks for (i18n.h): gw_req_problem writes title and
 * detail in it, with Content-Language and Vary: Accept-Language. */
gw_lang gw_req_lang(gw_req *req);
/* Answer with a streamed body: reader(cls, buf, max) returns bytes written (> 0), 0 at the end,
 * -1 on an error (the connection is then closed), or GW_STREAM_WAIT when it has nothing to send
 * yet: the connection is then suspended (no thread is held) until gw_stream_wake() on the
 * returned handle, after which the reader is called again.  free_fn(cls) runs when the response
 * is destroyed (on a worker thread), also when the client went away early; the handle is valid
 * until free_fn has returned.  When the server stops, every stream ends (suspended ones are
 * resumed first).  Returns NULL when the response could not be made (a 500 is answered). */
typedef long (*gw_stream_fn)(void *cls, char *buf, size_t max);
typedef struct gw_stream gw_stream;
#define GW_STREAM_WAIT (-2L)
gw_stream *gw_req_respond_stream(gw_req *req, unsigned status, const char *content_type,
                                 gw_stream_fn reader, void *cls, void (*free_fn)(void *cls));
/* Wake a stream whose reader returned (or is about to return) GW_STREAM_WAIT.  Thread-safe. */
void gw_stream_wake(gw_stream *s);

#endif
