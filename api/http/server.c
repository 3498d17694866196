/* server.c — the HTTP server core: libmicrohttpd daemon (thread pool + epoll), per-request
 * state in *req_cls, body limit, route table with roles, problem+json errors, CORS, one JSON
 * log line per request, Prometheus metrics, per-thread store connections and clean shutdown.
 * Feature routes live in ogc.c; writes and auth plug in through gw_server_opts. */
#include "server.h"

#include "http_util.h"

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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAPS 4
#define MAX_HDRS 8

/* Statuses counted one by one in /metrics; anything else is counted as "other". */
static const unsigned counted_status[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                          406, 409, 413, 415, 422, 500, 503, 0};
#define N_STATUS (sizeof counted_status / sizeof counted_status[0])
static const double buckets_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof buckets_s / sizeof buckets_s[0])

typedef struct stream_wrap stream_wrap;

typedef struct tstate {
    gw_ctx *ctx;
    gw_store *store;
    int failed;
    struct tstate *next;
} tstate;

typedef struct route_stats {
    uint64_t by_status[N_STATUS];
    uint64_t hist[N_BUCKETS + 1];
    uint64_t sum_us, count;
} route_stats;

struct gw_server {
    struct MHD_Daemon *d;
    gw_server_opts o;
    char *db_path, *bind;
    uint16_t port;
    const gw_route **routes; /* extra routes, then built-in ones */
    size_t n_routes;
    route_stats *stats; /* n_routes + 1 (the last is "unmatched") */
    pthread_key_t key;
    pthread_mutex_t lock;
    tstate *threads;
    long open_conns, in_flight;
    pthread_mutex_t stream_lock; /* streams, their suspended/woken flags, stopping */
    stream_wrap *streams;
    int stopping;
};

struct gw_req {
    gw_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char *path;
    struct timespec t0;
    gw_buf body;
    int too_large, done;
    const gw_route *route;
    int route_ix;
    char caps[MAX_CAPS][2][256];
    int n_caps;
    char *base_url;
    char *hdrs[MAX_HDRS][2];
    int n_hdrs;
    struct MHD_Response *resp;
    unsigned status;
    uint64_t bytes;
    stream_wrap *stream;
};

struct stream_wrap {
    gw_req *req; /* NULL once the request completed */
    gw_stream_fn reader;
    void *cls;
    void (*free_fn)(void *);
    gw_server *srv;
    struct MHD_Connection *conn;
    int suspended, woken;          /* under srv->stream_lock */
    stream_wrap *prev, *next;      /* srv->streams */
};

static void add_u64(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static uint64_t get_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static const char *status_title(unsigned s)
{
    switch (s) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 503: return "Service Unavailable";
    default: return s >= 500 ? "Internal Server Error" : "Error";
    }
}

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
const char *gw_server_db_path(const gw_server *srv) { return srv->db_path; }
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
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    set_response(req, status, r, content_type, len);
}

void gw_req_respond_json(gw_req *req, unsigned status, json_t *doc)
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
    set_response(req, status, r, "application/json", len);
}

void gw_req_problem(gw_req *req, unsigned status, const char *title, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    gw_buf b = {0};
    gw_buf_printf(&b, "{\"type\":\"about:blank\",\"title\":");
    gw_buf_json_str(&b, title ? title : status_title(status));
    gw_buf_printf(&b, ",\"status\":%u,\"detail\":", status);
    gw_buf_json_str(&b, detail);
    gw_buf_str(&b, ",\"instance\":");
    gw_buf_json_str(&b, req->path ? req->path : "");
    gw_buf_str(&b, "}");
    size_t len;
    char *s = gw_buf_take(&b, &len);
    struct MHD_Response *r =
        s ? MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE) : NULL;
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
static void stream_wake_locked(stream_wrap *w)
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
    stream_wake_locked(w);
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

/* ---- ops routes ------------------------------------------------------------------------- */

static int h_healthz(gw_req *req)
{
    gw_store *st = gw_req_store(req);
    if (!st) return 0;
    int64_t seq = 0;
    if (gw_store_last_seq(st, &seq) != GW_OK) {
        gw_req_problem(req, 503, NULL, "database check failed: %s",
                       gw_ctx_errmsg(gw_store_ctx(st)));
        return 0;
    }
    char body[128];
    int n = snprintf(body, sizeof body, "{\"status\":\"ok\",\"database\":\"ok\",\"seq\":%lld}",
                     (long long)seq);
    gw_req_respond(req, 200, "application/json", body, (size_t)n);
    return 0;
}

static long long file_size(const char *path, const char *suffix)
{
    char p[4096];
    snprintf(p, sizeof p, "%s%s", path, suffix);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

static int h_metrics(gw_req *req)
{
    gw_server *srv = req->srv;
    gw_buf b = {0};
    gw_buf_str(&b, "# HELP gridwatch_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE gridwatch_http_requests_total counter\n");
    for (size_t i = 0; i <= srv->n_routes; i++) {
        const char *name = i < srv->n_routes ? srv->routes[i]->name : "unmatched";
        for (size_t s = 0; s < N_STATUS; s++) {
            uint64_t v = get_u64(&srv->stats[i].by_status[s]);
            if (!v) continue;
            if (counted_status[s])
                gw_buf_printf(&b, "gridwatch_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                              name, counted_status[s], (unsigned long long)v);
            else
                gw_buf_printf(&b, "gridwatch_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                              name, (unsigned long long)v);
        }
    }
    gw_buf_str(&b, "# HELP gridwatch_http_request_duration_seconds Request latency by route.\n"
                   "# TYPE gridwatch_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= srv->n_routes; i++) {
        const char *name = i < srv->n_routes ? srv->routes[i]->name : "unmatched";
        uint64_t cum = 0;
        uint64_t count = get_u64(&srv->stats[i].count);
        if (!count) continue;
        for (size_t k = 0; k < N_BUCKETS; k++) {
            cum += get_u64(&srv->stats[i].hist[k]);
            gw_buf_printf(&b, "gridwatch_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                          name, buckets_s[k], (unsigned long long)cum);
        }
        gw_buf_printf(&b, "gridwatch_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                          "gridwatch_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                          "gridwatch_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                      name, (unsigned long long)count, name,
                      (double)get_u64(&srv->stats[i].sum_us) / 1e6, name,
                      (unsigned long long)count);
    }
    int64_t seq = 0;
    gw_store *st = gw_req_store(req);
    if (!st) {
        gw_buf_free(&b);
        return 0;
    }
    gw_store_last_seq(st, &seq);
    gw_buf_printf(&b,
                  "# HELP gridwatch_http_open_connections Open HTTP connections.\n"
                  "# TYPE gridwatch_http_open_connections gauge\n"
                  "gridwatch_http_open_connections %ld\n"
                  "# HELP gridwatch_http_requests_in_flight Requests being answered.\n"
                  "# TYPE gridwatch_http_requests_in_flight gauge\n"
                  "gridwatch_http_requests_in_flight %ld\n"
                  "# HELP gridwatch_db_size_bytes Database file size (main file + WAL).\n"
                  "# TYPE gridwatch_db_size_bytes gauge\n"
                  "gridwatch_db_size_bytes %lld\n"
                  "# HELP gridwatch_changelog_seq Highest change-log sequence number.\n"
                  "# TYPE gridwatch_changelog_seq gauge\n"
                  "gridwatch_changelog_seq %lld\n",
                  __atomic_load_n(&srv->open_conns, __ATOMIC_RELAXED),
                  __atomic_load_n(&srv->in_flight, __ATOMIC_RELAXED),
                  file_size(srv->db_path, "") + file_size(srv->db_path, "-wal"), (long long)seq);
    if (b.oom) {
        gw_buf_free(&b);
        gw_req_problem(req, 500, NULL, "out of memory building metrics");
        return 0;
    }
    gw_req_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    gw_buf_free(&b);
    return 0;
}

static const gw_route ops_routes[] = {
    {"GET", "/healthz", h_healthz, GW_ROLE_ANON, "healthz"},
    {"GET", "/metrics", h_metrics, GW_ROLE_ANON, "metrics"},
};

/* ---- routing ---------------------------------------------------------------------------- */

/* Match `path` against `pattern`; fills the captures of req on success. */
static int match(gw_req *req, const char *pattern, const char *path)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = strchr(s, '/');
            size_t vlen = seg_end ? (size_t)(seg_end - s) : strlen(s);
            size_t nlen = (size_t)(close - p - 1);
            if (!close || vlen == 0 || n >= MAX_CAPS || vlen >= sizeof req->caps[0][1] ||
                nlen >= sizeof req->caps[0][0])
                return 0;
            memcpy(req->caps[n][0], p + 1, nlen);
            req->caps[n][0][nlen] = '\0';
            memcpy(req->caps[n][1], s, vlen);
            req->caps[n][1][vlen] = '\0';
            n++;
            p = close + 1;
            s += vlen;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    if (*p || *s) return 0;
    req->n_caps = n;
    return 1;
}

static void finish(gw_req *req, struct MHD_Response *r, const char *allow)
{
    (void)r;
    if (!req->resp) gw_req_problem(req, 500, NULL, "the handler gave no answer (a bug)");
    if (!req->resp) return;
    MHD_add_response_header(req->resp, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(req->resp, "Access-Control-Expose-Headers",
                            "Content-Crs, Location, Link");
    if (allow) MHD_add_response_header(req->resp, "Allow", allow);
    for (int i = 0; i < req->n_hdrs; i++)
        MHD_add_response_header(req->resp, req->hdrs[i][0], req->hdrs[i][1]);
}

static void dispatch(gw_req *req)
{
    gw_server *srv = req->srv;
    char allow[128] = "";
    const gw_route *hit = NULL;
    int is_head = strcmp(req->method, "HEAD") == 0;
    req->route_ix = (int)srv->n_routes;
    if (req->too_large) {
        gw_req_problem(req, 413, NULL, "request body exceeds the limit of %zu bytes (--max-body)",
                       srv->o.max_body);
        finish(req, NULL, NULL);
        return;
    }
    /* the path without a trailing slash ("/collections/" is "/collections") */
    size_t pl = strlen(req->path);
    while (pl > 1 && req->path[pl - 1] == '/') req->path[--pl] = '\0';
    for (size_t i = 0; i < srv->n_routes; i++) {
        const gw_route *r = srv->routes[i];
        if (!match(req, r->pattern, req->path)) continue;
        if (req->route_ix == (int)srv->n_routes) req->route_ix = (int)i;
        if (!strstr(allow, r->method)) {
            if (*allow) strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
            strncat(allow, r->method, sizeof allow - strlen(allow) - 1);
            if (strcmp(r->method, "GET") == 0)
                strncat(allow, ", HEAD", sizeof allow - strlen(allow) - 1);
        }
        if (!hit && (strcmp(r->method, req->method) == 0 ||
                     (is_head && strcmp(r->method, "GET") == 0))) {
            hit = r;
            req->route_ix = (int)i;
        }
    }
    if (!*allow) {
        gw_req_problem(req, 404, NULL, "no resource at '%s'; the routes are listed at /openapi.json",
                       req->path);
        finish(req, NULL, NULL);
        return;
    }
    strncat(allow, ", OPTIONS", sizeof allow - strlen(allow) - 1);
    if (strcmp(req->method, "OPTIONS") == 0) {
        gw_req_respond(req, 204, NULL, "", 0);
        gw_req_add_header(req, "Access-Control-Allow-Methods", allow);
        gw_req_add_header(req, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, Accept, If-Match, If-None-Match");
        gw_req_add_header(req, "Access-Control-Max-Age", "86400");
        finish(req, NULL, allow);
        return;
    }
    if (!hit) {
        gw_req_problem(req, 405, NULL, "method %s is not allowed on '%s'; allowed: %s",
                       req->method, req->path, allow);
        finish(req, NULL, allow);
        return;
    }
    /* re-match to set the captures of the route that answers */
    match(req, hit->pattern, req->path);
    req->route = hit;
    int anon_ok = hit->role == GW_ROLE_ANON || (hit->role == GW_ROLE_VIEWER && srv->o.anonymous_read);
    if (!anon_ok && srv->o.auth) {
        char why[256] = "";
        int rc = srv->o.auth(srv->o.auth_user, req, hit->role, why, sizeof why);
        if (rc == 401 || rc == 403) {
            gw_req_problem(req, (unsigned)rc, NULL, "%s",
                           *why ? why : (rc == 401 ? "a bearer token is required" : "your role may not do this"));
            if (rc == 401) gw_req_add_header(req, "WWW-Authenticate", "Bearer realm=\"gridwatch\"");
            finish(req, NULL, NULL);
            return;
        }
    }
    hit->fn(req);
    finish(req, NULL, NULL);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    gw_server *srv = cls;
    gw_req *req = *req_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req) return MHD_NO;
        req->srv = srv;
        req->conn = conn;
        req->method = method;
        req->path = strdup(url && *url ? url : "/");
        req->route_ix = -1;
        clock_gettime(CLOCK_MONOTONIC, &req->t0);
        *req_cls = req;
        __atomic_fetch_add(&srv->in_flight, 1, __ATOMIC_RELAXED);
        if (!req->path) return MHD_NO;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t n;
        if (cl && gw_parse_int64(cl, &n) == 0 && n > (int64_t)srv->o.max_body) {
            req->too_large = 1; /* answer now: do not read a body we will refuse */
            goto answer;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_large && req->body.len + *upload_data_size <= srv->o.max_body)
            gw_buf_add(&req->body, upload_data, *upload_data_size);
        else
            req->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
answer:
    if (req->done) return MHD_YES;
    req->done = 1;
    dispatch(req);
    if (!req->resp) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, req->status, req->resp);
    MHD_destroy_response(req->resp);
    req->resp = NULL;
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_server *srv = cls;
    gw_req *req = *req_cls;
    if (!req) return;
    *req_cls = NULL;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (long long)(t1.tv_sec - req->t0.tv_sec) * 1000000LL +
                   (t1.tv_nsec - req->t0.tv_nsec) / 1000;
    unsigned status = req->status ? req->status : 500;
    int ri = req->route_ix >= 0 ? req->route_ix : (int)srv->n_routes;
    route_stats *rs = &srv->stats[ri];
    size_t si = N_STATUS - 1;
    for (size_t i = 0; i + 1 < N_STATUS; i++)
        if (counted_status[i] == status) si = i;
    add_u64(&rs->by_status[si], 1);
    size_t bi = N_BUCKETS;
    for (size_t i = 0; i < N_BUCKETS; i++)
        if ((double)us / 1e6 <= buckets_s[i]) {
            bi = i;
            break;
        }
    add_u64(&rs->hist[bi], 1);
    add_u64(&rs->sum_us, (uint64_t)(us > 0 ? us : 0));
    add_u64(&rs->count, 1);
    if (!srv->o.quiet) {
        gw_buf b = {0};
        char ts[32];
        gw_time_format((int64_t)time(NULL), ts, sizeof ts);
        gw_buf_printf(&b, "{\"ts\":\"%s\",\"method\":", ts);
        gw_buf_json_str(&b, req->method ? req->method : "");
        gw_buf_str(&b, ",\"path\":");
        gw_buf_json_str(&b, req->path ? req->path : "");
        gw_buf_printf(&b, ",\"status\":%u,\"bytes\":%llu,\"us\":%lld%s}\n", status,
                      (unsigned long long)req->bytes, us,
                      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : ",\"aborted\":true");
        if (b.data) fputs(b.data, stderr);
        gw_buf_free(&b);
    }
    if (req->stream) req->stream->req = NULL;
    if (req->resp) MHD_destroy_response(req->resp);
    for (int i = 0; i < req->n_hdrs; i++) {
        free(req->hdrs[i][0]);
        free(req->hdrs[i][1]);
    }
    gw_buf_free(&req->body);
    free(req->base_url);
    free(req->path);
    free(req);
    __atomic_fetch_sub(&srv->in_flight, 1, __ATOMIC_RELAXED);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    gw_server *srv = cls;
    __atomic_fetch_add(&srv->open_conns, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1,
                       __ATOMIC_RELAXED);
}

/* ---- life cycle ------------------------------------------------------------------------- */

gw_status gw_server_create(gw_ctx *ctx, const gw_server_opts *opts, gw_server **out)
{
    *out = NULL;
    if (!opts || !opts->db_path) return gw_ctx_error(ctx, GW_ERR_ARG, "no database path given");
    if (access(opts->db_path, F_OK) != 0)
        return gw_ctx_error(ctx, GW_ERR_IO, "database '%s' does not exist", opts->db_path);
    gw_store *st = NULL;
    gw_status s = gw_store_open(ctx, opts->db_path, 0, &st); /* migrates once, up front */
    gw_store_close(st);
    if (s != GW_OK) return s;

    gw_server *srv = calloc(1, sizeof *srv);
    if (!srv) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    srv->o = *opts;
    if (!srv->o.threads) srv->o.threads = 2;
    if (!srv->o.max_body) srv->o.max_body = 8u << 20;
    if (!srv->o.timeout_s) srv->o.timeout_s = 30;
    if (!srv->o.max_conn) srv->o.max_conn = 1024;
    srv->db_path = strdup(opts->db_path);
    srv->bind = strdup(opts->bind ? opts->bind : "127.0.0.1");
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->stream_lock, NULL);
    pthread_key_create(&srv->key, NULL);
    size_t n_ops = sizeof ops_routes / sizeof ops_routes[0];
    srv->n_routes = opts->n_routes + n_ops;
    srv->routes = calloc(srv->n_routes, sizeof *srv->routes);
    srv->stats = calloc(srv->n_routes + 1, sizeof *srv->stats);
    if (!srv->db_path || !srv->bind || !srv->routes || !srv->stats) {
        gw_server_destroy(srv);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < opts->n_routes; i++) srv->routes[k++] = &opts->routes[i];
    for (size_t i = 0; i < n_ops; i++) srv->routes[k++] = &ops_routes[i];

    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (strchr(srv->bind, ':')) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons(opts->port);
        if (inet_pton(AF_INET6, srv->bind, &sa6.sin6_addr) != 1) goto bad_addr;
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons(opts->port);
        if (inet_pton(AF_INET, srv->bind, &sa4.sin_addr) != 1) goto bad_addr;
        sa = (struct sockaddr *)&sa4;
    }
    srv->d = MHD_start_daemon(
        flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->o.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        srv->o.timeout_s, MHD_OPTION_CONNECTION_LIMIT, srv->o.max_conn,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_END);
    if (!srv->d) {
        s = gw_ctx_error(ctx, GW_ERR_IO, "cannot listen on %s:%u (address in use or not local?)",
                         srv->bind, (unsigned)opts->port);
        gw_server_destroy(srv);
        return s;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : opts->port;
    *out = srv;
    return GW_OK;
bad_addr:
    s = gw_ctx_error(ctx, GW_ERR_ARG, "--bind '%s' is not an IP address", srv->bind);
    gw_server_destroy(srv);
    return s;
}

void gw_server_destroy(gw_server *srv)
{
    if (!srv) return;
    if (srv->d) {
        MHD_socket ls = MHD_quiesce_daemon(srv->d); /* stop accepting; in-flight go on */
        if (ls != MHD_INVALID_SOCKET) close(ls);
        pthread_mutex_lock(&srv->stream_lock); /* end every stream (resume the suspended) */
        __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
        for (stream_wrap *w = srv->streams; w; w = w->next) stream_wake_locked(w);
        pthread_mutex_unlock(&srv->stream_lock);
        for (int i = 0; i < 500 && __atomic_load_n(&srv->in_flight, __ATOMIC_RELAXED) > 0; i++)
            usleep(10000);
        MHD_stop_daemon(srv->d);
    }
    for (tstate *ts = srv->threads, *next; ts; ts = next) {
        next = ts->next;
        gw_store_close(ts->store);
        gw_ctx_destroy(ts->ctx);
        free(ts);
    }
    pthread_key_delete(srv->key);
    pthread_mutex_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->stream_lock);
    free(srv->routes);
    free(srv->stats);
    free(srv->db_path);
    free(srv->bind);
    free(srv);
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
