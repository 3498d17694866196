/* server.c — the HTTP server core: libmicrohttpd daemon (thread pool + epoll), per-request
 * state in *req_cls, body limit, route table with roles, problem+json errors, CORS, one JSON
 * log line per request, Prometheus metrics, per-thread store connections and clean shutdown.
 * The request API is request.c; routes and auth plug in through gw_server_opts. */
#include "server_internal.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
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

static void add_u64(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static uint64_t get_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

const char *srv_status_title(unsigned s)
{
    switch (s) {
    case 400: return N_("Bad Request");
    case 401: return N_("Unauthorized");
    case 403: return N_("Forbidden");
    case 404: return N_("Not Found");
    case 405: return N_("Method Not Allowed");
    case 406: return N_("Not Acceptable");
    case 409: return N_("Conflict");
    case 413: return N_("Content Too Large");
    case 415: return N_("Unsupported Media Type");
    case 421: return N_("Misdirected Request");
    case 422: return N_("Unprocessable Content");
    case 429: return N_("Too Many Requests");
    case 503: return N_("Service Unavailable");
    default: return s >= 500 ? N_("Internal Server Error") : N_("Error");
    }
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
                gw_buf_printf(&b,
                              "gridwatch_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                              name, counted_status[s], (unsigned long long)v);
            else
                gw_buf_printf(&b,
                              "gridwatch_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
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
            gw_buf_printf(
                &b, "gridwatch_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                name, buckets_s[k], (unsigned long long)cum);
        }
        gw_buf_printf(
            &b,
            "gridwatch_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
            "gridwatch_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
            "gridwatch_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
            name, (unsigned long long)count, name, (double)get_u64(&srv->stats[i].sum_us) / 1e6,
            name, (unsigned long long)count);
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
    srv_metrics_process(&b);
    if (srv->o.metrics) srv->o.metrics(srv->o.metrics_user, gw_req_ctx(req), &b);
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

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* MHD's %HH decoding, except that %00 becomes DEL (0x7f) instead of ending the C string there
 * ("/items/I1%00junk" must not read as "/items/I1"); check_text then refuses it. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls, (void)conn;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            char c = (char)(hi * 16 + lo);
            *w++ = c ? c : 0x7f;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* 1 when s is UTF-8 without control characters (what a path or a query value may hold). */
static int clean_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        if (*p < 0x20 || *p == 0x7f) return 0;
        size_t n = gw_utf8_seq(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

#define MAX_QUERY_ARGS 100 /* no route takes more than a dozen */

static enum MHD_Result arg_clean(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    int *left = cls;
    if (clean_text(key) && clean_text(value) && --*left > 0) return MHD_YES;
    *left = 0;
    return MHD_NO;
}

/* ---- Host and write admission --------------------------------------------------------- */

/* Without a --public-url the links are built from Host, so Host must name this machine:
 * localhost, a loopback address, the bound address or one of its interfaces' addresses.
 * Any other name (a forged Host would be reflected into links and Location) is refused. */
static int host_allowed(const gw_server *srv, const char *host)
{
    if (srv->o.public_url || !host) return 1; /* HTTP/1.0 without Host: bind:port is used */
    char name[256];
    size_t n = strlen(host);
    if (n == 0 || n >= sizeof name) return 0;
    if (host[0] == '[') { /* [v6]:port */
        const char *end = strchr(host, ']');
        if (!end || (end[1] && end[1] != ':')) return 0;
        snprintf(name, sizeof name, "%.*s", (int)(end - host - 1), host + 1);
    } else {
        const char *colon = strchr(host, ':');
        snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - host) : (int)n, host);
    }
    if (strcasecmp(name, "localhost") == 0) return 1;
    unsigned char bin[16];
    char canon[INET6_ADDRSTRLEN];
    int v6 = strchr(name, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, name, bin) != 1) return 0;
    if (!v6 && bin[0] == 127) return 1;
    inet_ntop(v6 ? AF_INET6 : AF_INET, bin, canon, sizeof canon);
    if (strcmp(canon, "::1") == 0 || strcmp(canon, srv->bind) == 0) return 1;
    for (int i = 0; i < srv->n_local_ips; i++)
        if (strcmp(canon, srv->local_ips[i]) == 0) return 1;
    return 0;
}

static void local_ips(gw_server *srv)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) return;
    for (struct ifaddrs *i = ifa; i && srv->n_local_ips < 32; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        int fam = i->ifa_addr->sa_family;
        const void *a = fam == AF_INET
                            ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                        : fam == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr
                            : NULL;
        if (a && inet_ntop(fam, a, srv->local_ips[srv->n_local_ips], sizeof srv->local_ips[0]))
            srv->n_local_ips++;
    }
    freeifaddrs(ifa);
}

static int is_write(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
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
    int clean = clean_text(req->path) ? MAX_QUERY_ARGS + 1 : 0;
    if (clean) MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, arg_clean, &clean);
    if (!clean) {
        /* refused before any route reads it; the problem body never echoes the bytes */
        free(req->path);
        req->path = strdup("/");
        gw_req_problem(req, 400, NULL,
                       "the path or a query parameter holds a NUL or control character or is "
                       "not UTF-8, or there are more than %d query parameters",
                       MAX_QUERY_ARGS);
        finish(req, NULL, NULL);
        return;
    }
    const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
    if (!host_allowed(srv, host)) {
        gw_req_problem(req, 421, N_("Misdirected Request"),
                       "this server answers for localhost and its own IP addresses; the Host "
                       "header names '%.100s' (start gridwatch serve with --public-url "
                       "https://that.name to serve under a name)",
                       host);
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
        if (!hit &&
            (strcmp(r->method, req->method) == 0 || (is_head && strcmp(r->method, "GET") == 0))) {
            hit = r;
            req->route_ix = (int)i;
        }
    }
    if (!*allow) {
        gw_req_problem(req, 404, NULL,
                       "no resource at '%s'; the routes are listed at /openapi.json", req->path);
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
        gw_req_problem(req, 405, NULL, "method %s is not allowed on '%s'; allowed: %s", req->method,
                       req->path, allow);
        finish(req, NULL, allow);
        return;
    }
    /* re-match to set the captures of the route that answers */
    match(req, hit->pattern, req->path);
    req->route = hit;
    int anon_ok = hit->role == GW_ROLE_ANON ||
                  (hit->role == GW_ROLE_VIEWER && srv->o.anonymous_read);
    if (!anon_ok && srv->o.auth) {
        char why[512] = "", ip[48];
        srv_client_ip(req->conn, ip, sizeof ip);
        int wait = srv_auth_blocked(srv, ip);
        if (wait > 0) {
            char ra[16];
            snprintf(ra, sizeof ra, "%d", wait);
            gw_req_problem(req, 429, N_("Too Many Requests"),
                           "more than %d failed authentications from your address within %d s; "
                           "retry in %d s",
                           srv->o.auth_fail_max, SRV_FAIL_WINDOW_S, wait);
            gw_req_add_header(req, "Retry-After", ra);
            finish(req, NULL, NULL);
            return;
        }
        int rc = srv->o.auth(srv->o.auth_user, req, hit->role, why, sizeof why);
        if (rc == 401 && MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization"))
            srv_auth_failed(srv, ip); /* a token was given and refused */
        if (rc == 401 || rc == 403 || rc == 503) {
            gw_req_problem(req, (unsigned)rc, NULL, "%s",
                           *why ? why
                                : (rc == 401 ? N_("a bearer token is required")
                                             : N_("your role may not do this")));
            if (rc == 401) gw_req_add_header(req, "WWW-Authenticate", "Bearer realm=\"gridwatch\"");
            if (rc == 503) gw_req_add_header(req, "Retry-After", "1");
            finish(req, NULL, NULL);
            return;
        }
    }
    /* A write may wait for the database (another writer, an import): keep two workers for
     * reads and /healthz, answer the excess at once. */
    int w = is_write(req->method);
    long cap = srv->o.threads >= 4 ? srv->o.threads - 2 : srv->o.threads;
    if (w && __atomic_add_fetch(&srv->writers, 1, __ATOMIC_ACQ_REL) > cap) {
        __atomic_sub_fetch(&srv->writers, 1, __ATOMIC_ACQ_REL);
        gw_req_problem(req, 503, NULL,
                       "%ld writes are already in progress or waiting for the database (the "
                       "limit is --threads minus 2, to keep workers for reads); retry",
                       cap);
        gw_req_add_header(req, "Retry-After", "1");
        finish(req, NULL, NULL);
        return;
    }
    hit->fn(req);
    if (w) __atomic_sub_fetch(&srv->writers, 1, __ATOMIC_ACQ_REL);
    finish(req, NULL, NULL);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
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
        else req->too_large = 1;
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
    if (!gw_store_is_postgres(opts->db_path) && access(opts->db_path, F_OK) != 0)
        return gw_ctx_error(ctx, GW_ERR_IO, "database '%s' does not exist", opts->db_path);
    gw_store *st = NULL;
    gw_status s = gw_store_open(ctx, opts->db_path, 0, &st); /* migrates once, up front */
    gw_store_close(st);
    if (s != GW_OK) return s;

    gw_server *srv = calloc(1, sizeof *srv);
    if (!srv) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    srv->o = *opts;
    if (!srv->o.threads) srv->o.threads = 8;
    if (!srv->o.max_body) srv->o.max_body = 8u << 20;
    if (!srv->o.timeout_s) srv->o.timeout_s = 30;
    if (!srv->o.max_conn) srv->o.max_conn = 1024;
    if (!srv->o.auth_fail_max) srv->o.auth_fail_max = SRV_FAIL_MAX;
    srv->db_path = strdup(opts->db_path);
    srv->bind = strdup(opts->bind ? opts->bind : "127.0.0.1");
    local_ips(srv);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->stream_lock, NULL);
    pthread_mutex_init(&srv->fail_lock, NULL);
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
    srv->d = MHD_start_daemon(flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
                              sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->o.threads,
                              MHD_OPTION_CONNECTION_TIMEOUT, srv->o.timeout_s,
                              MHD_OPTION_CONNECTION_LIMIT, srv->o.max_conn,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                              MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                              /* room for a long query string and its headers (MHD's 32 KiB
                               * default closed the connection unanswered at ~460 parameters;
                               * test_hardening sends 460).  Not more: MHD 0.9.75 zeroes the
                               * whole pool between two requests of a connection, and at 256 KiB
                               * that memset was 15 % of the CPU serving cached tiles */
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
                              MHD_OPTION_END);
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
        /* stop accepting; in-flight requests go on.  The listen socket is ours now, but it is
         * closed only after MHD_stop_daemon: a worker thread may still be taking it out of its
         * epoll set, and closing it first made MHD abort ("Failed to remove listen FD from
         * epoll set", seen once in CI's ASan run of test_tiles). */
        MHD_socket ls = MHD_quiesce_daemon(srv->d);
        pthread_mutex_lock(&srv->stream_lock); /* end every stream (resume the suspended) */
        __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
        for (stream_wrap *w = srv->streams; w; w = w->next) srv_stream_wake_locked(w);
        pthread_mutex_unlock(&srv->stream_lock);
        for (int i = 0; i < 500 && __atomic_load_n(&srv->in_flight, __ATOMIC_RELAXED) > 0; i++)
            usleep(10000);
        MHD_stop_daemon(srv->d);
        if (ls != MHD_INVALID_SOCKET) close(ls);
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
    pthread_mutex_destroy(&srv->fail_lock);
    free(srv->routes);
    free(srv->stats);
    free(srv->db_path);
    free(srv->bind);
    free(srv);
}
