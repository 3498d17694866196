/* server_internal.h — inside api/http: the server and request structs that server.c and
 * request.c share (srv_ prefix). */
#ifndef GW_SERVER_INTERNAL_H
#define GW_SERVER_INTERNAL_H

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

/* Statuses counted one by one in /metrics (anything else is "other") and latency buckets. */
static const unsigned counted_status[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                          406, 409, 413, 415, 422, 500, 503, 0};
#define N_STATUS (sizeof counted_status / sizeof counted_status[0])
static const double buckets_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof buckets_s / sizeof buckets_s[0])

typedef struct stream_wrap stream_wrap;

/* Failed authentications per client address (authlimit.c). */
#define SRV_FAIL_SLOTS 256
#define SRV_FAIL_MAX 20
#define SRV_FAIL_WINDOW_S 60
typedef struct srv_fail {
    char ip[48];
    time_t start;
    int n;
} srv_fail;

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
    long open_conns, in_flight, writers;
    pthread_mutex_t fail_lock;
    srv_fail fails[SRV_FAIL_SLOTS];
    char local_ips[32][48]; /* this machine's interface addresses (inet_ntop text), for Host */
    int n_local_ips;
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
    gw_req_auth auth; /* the auth module's memo (gw_req_auth_memo) */
};

struct stream_wrap {
    gw_req *req; /* NULL once the request completed */
    gw_stream_fn reader;
    void *cls;
    void (*free_fn)(void *);
    gw_server *srv;
    struct MHD_Connection *conn;
    int suspended, woken;     /* under srv->stream_lock */
    stream_wrap *prev, *next; /* srv->streams */
};

const char *srv_status_title(unsigned s);
void srv_stream_wake_locked(stream_wrap *w);

/* The client's address as text ("?" when unknown). */
void srv_client_ip(struct MHD_Connection *conn, char *buf, size_t cap);
/* Seconds the address must still wait after too many failed authentications; 0 when free. */
int srv_auth_blocked(gw_server *srv, const char *ip);
/* Count one failed authentication (a bearer token given and refused) of the address. */
void srv_auth_failed(gw_server *srv, const char *ip);

/* The standard Prometheus process metrics (metrics_proc.c). */
void srv_metrics_process(gw_buf *b);

#endif
