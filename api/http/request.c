/* request.c — the request API handlers use (server.h): parameters, headers, the per-thread store
 * connections, answers (bodies, JSON, problem+json, streams). */
#include "server_internal.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- request accessors ------------------------------------------------------------------ */

const char *gw_req_param(const gw_req *req, const char *name)
{
    for (int i = 0; i < req->n_caps; i++)
        if (strcmp(req->caps[i][0], name) == 0) return req->caps[i][1];
    return NULL;
}

const char *gw_req_query(gw_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct qeach {
    int (*fn)(void *, const char *, const char *);
    void *user;
    int rc;
} qeach;

static enum MHD_Result qeach_it(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    qeach *q = cls;
    q->rc = q->fn(q->user, key, value ? value : "");
    return q->rc ? MHD_NO : MHD_YES;
}

int gw_req_query_each(gw_req *req, int (*fn)(void *, const char *, const char *), void *user)
{
    qeach q = {fn, user, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, qeach_it, &q);
    return q.rc;
}

const char *gw_req_header(gw_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
const char *gw_req_method(const gw_req *req) { return req->method; }
const char *gw_req_path(const gw_req *req) { return req->path; }
gw_server *gw_req_server(gw_req *req) { return req->srv; }
void *gw_req_app(gw_req *req) { return req->srv->o.app; }
const gw_route *gw_req_route(const gw_req *req) { return req->route; }
gw_req_auth *gw_req_auth_memo(gw_req *req) { return &req->auth; }
const char *gw_server_db_path(const gw_server *srv) { return srv->db_path; }
gw_role gw_server_open_role(const gw_server *srv)
{
    if (!srv->o.auth) return GW_ROLE_ADMIN;
    return srv->o.anonymous_read ? GW_ROLE_VIEWER : GW_ROLE_ANON;
}
const gw_route *gw_server_route(const gw_server *srv, size_t i)
{
    return i < srv->n_routes ? srv->routes[i] : NULL;
}
uint16_t gw_server_port(const gw_server *srv) { return srv ? srv->port : 0; }

const char *gw_req_body(const gw_req *req, size_t *len)
{
    if (len) *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

const char *gw_req_base_url(gw_req *req)
{
    if (req->base_url) return req->base_url;
    const char *host = gw_req_header(req, "Host");
    const char *proto = gw_req_header(req, "X-Forwarded-Proto");
    gw_buf b = {0};
    if (req->srv->o.public_url) { /* configured: Host is never reflected */
        gw_buf_str(&b, req->srv->o.public_url);
        while (b.len > 0 && b.data[b.len - 1] == '/') b.data[--b.len] = '\0';
        req->base_url = gw_buf_take(&b, NULL);
        return req->base_url ? req->base_url : "";
    }
    gw_buf_str(&b, proto && strcmp(proto, "https") == 0 ? "https://" : "http://");
    if (host && *host && !strpbrk(host, " \"<>\\")) gw_buf_str(&b, host);
    else gw_buf_printf(&b, "%s:%u", req->srv->bind, (unsigned)req->srv->port);
    req->base_url = gw_buf_take(&b, NULL);
    return req->base_url ? req->base_url : "";
}

static tstate *thread_state(gw_server *srv)
{
    tstate *ts = pthread_getspecific(srv->key);
    if (ts) return ts;
    ts = calloc(1, sizeof *ts);
    if (!ts) return NULL;
    if (gw_ctx_create(&ts->ctx) != GW_OK) {
        free(ts);
        return NULL;
    }
    pthread_mutex_lock(&srv->lock);
    ts->next = srv->threads;
    srv->threads = ts;
    pthread_mutex_unlock(&srv->lock);
    pthread_setspecific(srv->key, ts);
    return ts;
}

gw_ctx *gw_req_ctx(gw_req *req)
{
    tstate *ts = thread_state(req->srv);
    if (!ts) gw_req_problem(req, 503, NULL, "out of memory creating a worker context");
    return ts ? ts->ctx : NULL;
}

gw_store *gw_req_store(gw_req *req)
{
    tstate *ts = thread_state(req->srv);
    if (!ts) {
        gw_req_problem(req, 503, NULL, "out of memory creating a worker context");
        return NULL;
    }
    if (!ts->store) gw_store_open(ts->ctx, req->srv->db_path, GW_STORE_QUERY_ONLY, &ts->store);
    if (!ts->store)
        gw_req_problem(req, 503, NULL, "database '%s' cannot be opened: %s", req->srv->db_path,
                       gw_ctx_errmsg(ts->ctx));
    return ts->store;
}

/* ---- responses -------------------------------------------------------------------------- */

void gw_req_add_header(gw_req *req, const char *name, const char *value)
{
    if (req->n_hdrs >= MAX_HDRS) return;
    req->hdrs[req->n_hdrs][0] = strdup(name);
    req->hdrs[req->n_hdrs][1] = strdup(value);
    req->n_hdrs++;
}

static void set_response(gw_req *req, unsigned status, struct MHD_Response *r,
                         const char *content_type, uint64_t bytes)
{
    if (req->resp) MHD_destroy_response(req->resp);
    req->resp = r;
    req->status = r ? status : 500;
    req->bytes = bytes;
    if (r && content_type) MHD_add_response_header(r, "Content-Type", content_type);
}

void gw_req_respond(gw_req *req, unsigned status, const char *content_type, const char *body,
                    size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    set_response(req, status, r, content_type, len);
}

void gw_req_respond_take(gw_req *req, unsigned status, const char *content_type, char *body,
                         size_t len)
{
    struct MHD_Response *r = body
                                 ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                                 : NULL;
    if (!r) {
        free(body);
        gw_req_problem(req, 500, NULL, "could not make the response");
        return;
    }
    set_response(req, status, r, content_type, len);
}

void gw_req_respond_shared(gw_req *req, unsigned status, const char *content_type, const void *body,
                           size_t len, void (*release)(void *cls), void *cls)
{
    /* MHD_RESPMEM_PERSISTENT semantics with a callback when MHD lets go of the response */
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *)(uintptr_t)body, release, cls);
    if (!r) {
        if (release) release(cls);
        gw_req_problem(req, 500, NULL, "could not make the response");
        return;
    }
    set_response(req, status, r, content_type, len);
}

void gw_req_respond_json(gw_req *req, unsigned status, json_t *doc)
{
    gw_req_respond_json_as(req, status, doc, "application/json");
}

void gw_req_respond_json_as(gw_req *req, unsigned status, json_t *doc, const char *ctype)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s) {
        gw_req_problem(req, 500, NULL, "could not serialise the response");
        return;
    }
    size_t len = strlen(s);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
    if (!r) free(s);
    set_response(req, status, r, ctype, len);
}

gw_lang gw_req_lang(gw_req *req)
{
    return req && req->conn ? gw_lang_from_accept(gw_req_header(req, "Accept-Language"))
                            : GW_LANG_EN;
}

/* Add the header unless the answer has it already (a second problem on the same request). */
static void add_header_once(gw_req *req, const char *name, const char *value)
{
    for (int i = 0; i < req->n_hdrs; i++)
        if (!strcasecmp(req->hdrs[i][0], name) && !strcmp(req->hdrs[i][1], value)) return;
    gw_req_add_header(req, name, value);
}

void gw_req_problem(gw_req *req, unsigned status, const char *title, const char *fmt, ...)
{
    /* Title and detail in the language Accept-Language asks for (i18n.h); an argument that is
     * this thread's context message is translated too.  type, status and instance stay. */
    gw_lang lang = gw_req_lang(req);
    tstate *ts = req->srv ? pthread_getspecific(req->srv->key) : NULL;
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    gw_tr_vformat(lang, ts ? ts->ctx : NULL, detail, sizeof detail, fmt, ap);
    va_end(ap);
    add_header_once(req, "Vary", "Accept-Language");
    if (lang != GW_LANG_EN) add_header_once(req, "Content-Language", gw_lang_tag(lang));
    gw_buf b = {0};
    gw_buf_printf(&b, "{\"type\":\"about:blank\",\"title\":");
    gw_buf_json_str(&b, gw_tr(lang, title ? title : srv_status_title(status)));
    gw_buf_printf(&b, ",\"status\":%u,\"detail\":", status);
    gw_buf_json_str(&b, detail);
    gw_buf_str(&b, ",\"instance\":");
    gw_buf_json_str(&b, req->path ? req->path : "");
    gw_buf_str(&b, "}");
    size_t len;
    char *s = gw_buf_take(&b, &len);
    struct MHD_Response *r = s ? MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE)
                               : NULL;
    if (!r) free(s);
    set_response(req, status, r, "application/problem+json", len);
}

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_wrap *w = cls;
    gw_server *srv = w->srv;
    if (__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE)) return MHD_CONTENT_READER_END_OF_STREAM;
    long n = w->reader(w->cls, buf, max);
    if (n > 0) {
        if (w->req) w->req->bytes += (uint64_t)n;
        return (ssize_t)n;
    }
    if (n == GW_STREAM_WAIT) {
        /* Suspend unless a wake came in meanwhile (then MHD calls again at once).  The server
         * wakes every stream before it stops: MHD must not stop with suspended connections. */
        pthread_mutex_lock(&srv->stream_lock);
        if (!w->woken && !srv->stopping) {
            w->suspended = 1;
            MHD_suspend_connection(w->conn);
        }
        w->woken = 0;
        pthread_mutex_unlock(&srv->stream_lock);
        return 0;
    }
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* Resume (or mark woken); with srv->stream_lock held. */
void srv_stream_wake_locked(stream_wrap *w)
{
    if (w->suspended) {
        w->suspended = 0;
        MHD_resume_connection(w->conn);
    } else {
        w->woken = 1;
    }
}

void gw_stream_wake(gw_stream *s)
{
    stream_wrap *w = (stream_wrap *)s;
    if (!w) return;
    pthread_mutex_lock(&w->srv->stream_lock);
    srv_stream_wake_locked(w);
    pthread_mutex_unlock(&w->srv->stream_lock);
}

static void stream_free(void *cls)
{
    stream_wrap *w = cls;
    if (w->req) w->req->stream = NULL;
    if (w->free_fn) w->free_fn(w->cls); /* first: after it, nobody calls gw_stream_wake(w) */
    pthread_mutex_lock(&w->srv->stream_lock);
    if (w->prev) w->prev->next = w->next;
    else w->srv->streams = w->next;
    if (w->next) w->next->prev = w->prev;
    pthread_mutex_unlock(&w->srv->stream_lock);
    free(w);
}

gw_stream *gw_req_respond_stream(gw_req *req, unsigned status, const char *content_type,
                                 gw_stream_fn reader, void *cls, void (*free_fn)(void *cls))
{
    stream_wrap *w = calloc(1, sizeof *w);
    struct MHD_Response *r = NULL;
    if (w) {
        *w = (stream_wrap){req, reader, cls, free_fn, req->srv, req->conn, 0, 0, NULL, NULL};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_cb, w,
                                              stream_free);
    }
    if (!r) {
        if (free_fn) free_fn(cls);
        free(w);
        gw_req_problem(req, 500, NULL, "could not create a streamed response");
        return NULL;
    }
    pthread_mutex_lock(&req->srv->stream_lock);
    w->next = req->srv->streams;
    if (w->next) w->next->prev = w;
    req->srv->streams = w;
    pthread_mutex_unlock(&req->srv->stream_lock);
    if (req->stream) req->stream->req = NULL;
    req->stream = w;
    set_response(req, status, r, content_type, 0);
    return (gw_stream *)w;
}

/* ---- the write connection of this thread (one per worker, opened on first write) ---- */

typedef struct wconn {
    gw_ctx *ctx;
    gw_store *store;
} wconn;

static pthread_key_t wkey;
static pthread_once_t wonce = PTHREAD_ONCE_INIT;

static void wconn_free(void *p)
{
    wconn *w = p;
    if (!w) return;
    gw_store_close(w->store);
    gw_ctx_destroy(w->ctx);
    free(w);
}

static void wkey_init(void) { pthread_key_create(&wkey, wconn_free); }

gw_store *gw_req_write_store(gw_req *req)
{
    pthread_once(&wonce, wkey_init);
    const char *path = gw_server_db_path(gw_req_server(req));
    wconn *w = pthread_getspecific(wkey);
    if (w && w->store && strcmp(gw_store_path(w->store), path) != 0) { /* another server */
        gw_store_close(w->store);
        w->store = NULL;
    }
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w || gw_ctx_create(&w->ctx) != GW_OK) {
            free(w);
            gw_req_problem(req, 503, NULL, "out of memory opening a write connection");
            return NULL;
        }
        pthread_setspecific(wkey, w);
    }
    if (!w->store && gw_store_open(w->ctx, path, 0, &w->store) != GW_OK) {
        gw_req_problem(req, 503, NULL, "database '%s' cannot be opened for writing: %s", path,
                       gw_ctx_errmsg(w->ctx));
        return NULL;
    }
    return w->store;
}
