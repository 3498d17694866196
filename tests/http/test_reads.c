/* test_reads.c — regression tests for issue 15's defect 3: a client that asks for a big items
 * page and stops reading must not freeze what its worker thread sees.  One worker thread, so
 * every stalled reader is on the worker that answers the checks; readers are raw sockets with
 * a tiny receive buffer that send the request and never read. */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "pg_internal.h"
#include "store_sqlite.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static gw_server_opts opts;
static const char *db;
static char admin[GW_TOKEN_LEN + 1], viewer[GW_TOKEN_LEN + 1];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_db("reads.sqlite");
    gw_store *s = hf_city(tctx, db, 0.01, 7); /* 10,000 incidents */
    /* Incidents with a 600-byte description: the 10,000-item page (~9 MB) is more than the
     * kernel's socket buffers on loopback take (tcp_wmem's 4 MiB), so the answer stalls in the
     * server as it would behind a slow network. */
    if (gw_test_on_postgres()) { /* 600 hex digits per row, each row its own */
        PGresult *r = PQexec(PG(s)->conn, "UPDATE incidents SET description = upper(left((SELECT "
                                          "string_agg(md5(random()::text || fid || g), '') FROM "
                                          "generate_series(1, 19) g), 600))");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
    } else {
        assert_int_equal(sqlite3_exec(st_sqlite_db(s),
                                      "UPDATE incidents SET description = hex(randomblob(300))",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    }
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "reads-admin", NULL, admin, NULL),
                     GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_VIEWER, "reads-viewer", NULL, viewer, NULL),
                     GW_OK);
    gw_store_close(s);
    memset(&opts, 0, sizeof opts);
    opts.db_path = db;
    opts.threads = 1; /* every connection on the one worker */
    opts.quiet = 1;
    assert_int_equal(hf_app_start(tctx, NULL, &opts, &app, &srv), GW_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hf_app_stop(app, srv);
    gw_ctx_destroy(tctx);
    return 0;
}

/* A client that asks for `path` and never reads: a 4 KiB receive buffer, so the answer stalls
 * in the server after a few kilobytes.  Returns the socket. */
static int stalled_reader(const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(gw_server_port(srv))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n", path,
                     admin);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    return fd;
}

static long get_status(const char *path, const char *token)
{
    hf_resp r = hf_request("GET", path, token, NULL, 0, NULL, NULL);
    long st = r.status;
    hf_resp_free(&r);
    return st;
}

static long long healthz_seq(void)
{
    hf_resp r = hf_request("GET", "/healthz", NULL, NULL, 0, NULL, NULL);
    json_t *j = hf_json(&r, 200, 0, "healthz");
    long long seq = json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    return seq;
}

/* Defect 3: four stalled readers of a 10,000-item page held a read transaction on the worker's
 * connection for the idle timeout (30 s): a new incident was 404, /healthz's seq stood still and
 * a revoked token was still accepted on that worker. */
static void test_stalled_readers_do_not_freeze_the_worker(void **state)
{
    (void)state;
    assert_int_equal(get_status("/collections/incidents/items?limit=1", viewer), 200);
    int fds[4];
    for (int i = 0; i < 4; i++) fds[i] = stalled_reader("/collections/incidents/items?limit=10000");
    struct timespec pause = {0, 300 * 1000 * 1000}; /* the worker has begun every answer */
    nanosleep(&pause, NULL);
    long long seq0 = healthz_seq();

    const char *body = "{\"type\":\"Feature\",\"id\":\"READS-1\",\"geometry\":{\"type\":\"Point\","
                       "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\","
                       "\"severity\":2,\"occurred_at\":\"2025-06-01T08:00:00Z\"}}";
    hf_resp r = hf_request("POST", "/collections/incidents/items", admin, body, strlen(body),
                           "application/json", NULL);
    assert_int_equal(r.status, 201);
    hf_resp_free(&r);
    assert_int_equal(get_status("/collections/incidents/items/READS-1", admin), 200);
    assert_true(healthz_seq() > seq0);

    gw_store *s = NULL; /* the path 'gridwatch token revoke' takes */
    assert_int_equal(gw_store_open(tctx, db, 0, &s), GW_OK);
    int n = 0;
    assert_int_equal(gw_auth_token_revoke(s, "reads-viewer", &n), GW_OK);
    assert_int_equal(n, 1);
    gw_store_close(s);
    assert_int_equal(get_status("/collections/incidents/items?limit=1", viewer), 401);

    for (int i = 0; i < 4; i++) close(fds[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stalled_readers_do_not_freeze_the_worker),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
