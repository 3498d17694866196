/* test_locks.c — regression tests for issue 15's defects 7 and 12, against the whole app on
 * loopback: a write waiting for another writer (a CLI import holds the lock) must not hold the
 * workers that reads and /healthz need, must wait longer than SQLite's old 5 s timeout rather
 * than answer 503, and past the write limit gets 503 with Retry-After at once; the Host header
 * is never reflected into links unless it names this machine, and --public-url wins over it;
 * a client presenting refused tokens is limited (429). */
#include "testutil.h"

#include "auth.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "store_sqlite.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static gw_ctx *tctx;
static const char *db;
static char admin[GW_TOKEN_LEN + 1];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gw_ctx_create(&tctx), GW_OK);
    db = gw_test_path("locks.sqlite");
    gw_store *s = hf_city(tctx, db, 0.01, 7);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_ADMIN, "locks", NULL, admin, NULL), GW_OK);
    gw_store_close(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_ctx_destroy(tctx);
    return 0;
}

static void start(int threads, const char *public_url, gw_app **app, gw_server **srv)
{
    static gw_server_opts o;
    memset(&o, 0, sizeof o);
    o.db_path = db, o.threads = threads, o.public_url = public_url, o.quiet = 1;
    o.auth_fail_max = 3;
    assert_int_equal(hf_app_start(tctx, NULL, &o, app, srv), GW_OK);
}

typedef struct writer {
    pthread_t t;
    int n;
    long status;
    char retry_after[16];
    int done; /* atomic */
} writer;

static void *write_one(void *arg)
{
    writer *w = arg;
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"id\":\"LOCK-%d\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\"}}",
             w->n);
    hf_resp r = hf_request("POST", "/collections/incidents/items", admin, body, strlen(body),
                           "application/geo+json", NULL);
    w->status = r.status;
    hf_header(&r, "Retry-After", w->retry_after, sizeof w->retry_after);
    hf_resp_free(&r);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int finished(const writer *ws, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += __atomic_load_n(&ws[i].done, __ATOMIC_ACQUIRE);
    return k;
}

/* Another process's write transaction (what `gridwatch import` holds while it loads). */
static sqlite3 *hold_write_lock(void)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 60000); /* the app's own start-up writes (coverage) come first */
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return h;
}

static void release(sqlite3 *h)
{
    assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* Defect 7: with the lock held elsewhere, two waiting writers held both workers for SQLite's
 * 5 s busy timeout (/healthz took 4.5 s) and then answered 503. */
static void test_waiting_writers_leave_workers_for_reads(void **state)
{
    (void)state;
    gw_app *app;
    gw_server *srv;
    start(0, NULL, &app, &srv); /* the default thread count */
    sqlite3 *h = hold_write_lock();
    writer ws[3] = {{.n = 1}, {.n = 2}, {.n = 3}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&ws[i].t, NULL, write_one, &ws[i]), 0);
    usleep(500 * 1000);
    /* reads and /healthz answer while all three writers still wait */
    hf_resp r = hf_request("GET", "/healthz", NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    r = hf_request("GET", "/collections/incidents/items?limit=5", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    for (int i = 0; i < 3; i++)
        if (__atomic_load_n(&ws[i].done, __ATOMIC_ACQUIRE))
            fprintf(stderr, "writer %d answered %ld early\n", i, ws[i].status);
    assert_int_equal(finished(ws, 3), 0);
    /* the lock clears after 6 s, longer than the old 5 s timeout: every write still lands */
    sleep(6);
    for (int i = 0; i < 3; i++) assert_int_equal(finished(ws, 3), 0);
    release(h);
    for (int i = 0; i < 3; i++) {
        pthread_join(ws[i].t, NULL);
        if (ws[i].status != 201) fprintf(stderr, "writer %d: %ld\n", i, ws[i].status);
        assert_int_equal(ws[i].status, 201);
    }
    r = hf_request("GET", "/collections/incidents/items/LOCK-3", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    hf_app_stop(app, srv);
}

/* More writers than workers: with 4 threads and 6 writers waiting for the lock, /healthz still
 * answers, an answer given while the lock is held can only be a refusal past the write limit
 * (threads - 2: 503 with Retry-After), and every write let in lands once the lock clears.
 * (How many are refused depends on how the workers accepted the connections: a worker may
 * accept several at once and then take them in turn.) */
static void test_many_waiting_writers(void **state)
{
    (void)state;
    gw_app *app;
    gw_server *srv;
    start(4, NULL, &app, &srv);
    sqlite3 *h = hold_write_lock();
    enum { N = 6 };
    writer ws[N];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < N; i++) {
        ws[i].n = 11 + i;
        assert_int_equal(pthread_create(&ws[i].t, NULL, write_one, &ws[i]), 0);
    }
    usleep(1500 * 1000);
    hf_resp r = hf_request("GET", "/healthz", NULL, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    int early[N];
    for (int i = 0; i < N; i++) early[i] = __atomic_load_n(&ws[i].done, __ATOMIC_ACQUIRE);
    release(h);
    int ok = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(ws[i].t, NULL);
        if (early[i]) { /* answered while the lock was held: only a refusal can be */
            assert_int_equal(ws[i].status, 503);
            assert_string_equal(ws[i].retry_after, "1");
            refused++;
        } else if (ws[i].status == 201) {
            ok++;
        } else {
            assert_int_equal(ws[i].status, 503);
            assert_string_equal(ws[i].retry_after, "1");
            refused++;
        }
    }
    fprintf(stderr, "write limit: %d of %d writes landed, %d refused with Retry-After\n", ok, N,
            refused);
    assert_true(ok >= 2);
    assert_int_equal(ok + refused, N);
    hf_app_stop(app, srv);
}

static char *self_link(const char *host)
{
    const char *extra[] = {host, NULL};
    hf_resp r = hf_request("GET", "/collections", admin, NULL, 0, NULL, host ? extra : NULL);
    char *href = NULL;
    if (r.status == 200) {
        json_t *j = json_loads(r.body.data, 0, NULL), *l;
        size_t i;
        json_array_foreach (json_object_get(j, "links"), i, l)
            if (!href && strcmp(json_string_value(json_object_get(l, "rel")), "self") == 0)
                href = strdup(json_string_value(json_object_get(l, "href")));
        json_decref(j);
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "status %ld", r.status);
        href = strdup(buf);
    }
    hf_resp_free(&r);
    return href;
}

/* Defect 12: the Host header was reflected into links and Location. */
static void test_forged_host_not_reflected(void **state)
{
    (void)state;
    gw_app *app;
    gw_server *srv;
    start(2, NULL, &app, &srv);
    char *h = self_link("Host: evil.example");
    assert_string_equal(h, "status 421");
    free(h);
    char host[64], want[96];
    snprintf(host, sizeof host, "Host: localhost:%u", (unsigned)gw_server_port(srv));
    snprintf(want, sizeof want, "http://localhost:%u/collections", (unsigned)gw_server_port(srv));
    h = self_link(host);
    assert_non_null(strstr(h, want));
    free(h);
    h = self_link(NULL); /* curl's own Host: 127.0.0.1:port */
    assert_non_null(strstr(h, "http://127.0.0.1:"));
    free(h);
    hf_app_stop(app, srv);
    /* with a public URL every link and Location is built on it, whatever Host says */
    start(2, "https://gw.example.org/", &app, &srv);
    h = self_link("Host: evil.example");
    assert_string_equal(h, "https://gw.example.org/collections");
    free(h);
    const char *extra[] = {"Host: evil.example", NULL};
    const char *body = "{\"type\":\"Feature\",\"id\":\"HOST-1\",\"geometry\":{\"type\":\"Point\","
                       "\"coordinates\":[115.65,35.25]},\"properties\":{\"category\":\"theft\"}}";
    hf_resp r = hf_request("POST", "/collections/incidents/items", admin, body, strlen(body),
                           "application/geo+json", extra);
    assert_int_equal(r.status, 201);
    char loc[256];
    assert_non_null(hf_header(&r, "Location", loc, sizeof loc));
    assert_string_equal(loc, "https://gw.example.org/collections/incidents/items/HOST-1");
    hf_resp_free(&r);
    hf_app_stop(app, srv);
}

/* Failed authentications are limited per client address: after 3 refused tokens within a
 * minute the address gets 429 with Retry-After, even for a good token, until the window ends;
 * requests without a token (anonymous routes) are not counted. */
static void test_failed_auth_rate_limited(void **state)
{
    (void)state;
    gw_app *app;
    gw_server *srv;
    start(2, NULL, &app, &srv);
    const char *bad = "gw_0000000000000000000000000000000000000000000000000000000000000000";
    for (int i = 0; i < 5; i++) { /* no token: 401, not counted */
        hf_resp r = hf_request("GET", "/collections/incidents/items?limit=1", NULL, NULL, 0, NULL,
                               NULL);
        assert_int_equal(r.status, 401);
        hf_resp_free(&r);
    }
    for (int i = 0; i < 3; i++) {
        hf_resp r = hf_request("GET", "/collections/incidents/items?limit=1", bad, NULL, 0, NULL,
                               NULL);
        assert_int_equal(r.status, 401);
        hf_resp_free(&r);
    }
    hf_resp r = hf_request("GET", "/collections/incidents/items?limit=1", bad, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 429);
    char ra[16];
    assert_non_null(hf_header(&r, "Retry-After", ra, sizeof ra));
    assert_true(atoi(ra) >= 1 && atoi(ra) <= 60);
    assert_string_equal(r.ctype, "application/problem+json");
    hf_resp_free(&r);
    r = hf_request("GET", "/collections/incidents/items?limit=1", admin, NULL, 0, NULL, NULL);
    assert_int_equal(r.status, 429);
    hf_resp_free(&r);
    r = hf_request("GET", "/healthz", NULL, NULL, 0, NULL, NULL); /* anonymous: unaffected */
    assert_int_equal(r.status, 200);
    hf_resp_free(&r);
    hf_app_stop(app, srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_writers_leave_workers_for_reads),
        cmocka_unit_test(test_many_waiting_writers),
        cmocka_unit_test(test_forged_host_not_reflected),
        cmocka_unit_test(test_failed_auth_rate_limited),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
