/* test_events.c — GET /events over real sockets with the full app: an incident POSTed through
 * /collections/incidents/items reaches a subscriber within a second; a reconnect with
 * Last-Event-ID gets exactly the missed events (from memory, and from the changelog table for
 * ids older than the server); type filters; the server stops cleanly with subscribers waiting. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/city.h"
#include "gridwatch/store.h"
#include "http_util.h"
#include "server.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char db_path[1024];
static gw_ctx *tctx;
static gw_app *app;
static gw_server *srv;
static char base[64];
static char tok[GW_TOKEN_LEN + 1];
static int64_t seq_before_server;

/* ---- an SSE client on its own thread --------------------------------------------------- */

typedef struct client {
    char url[512], last_id[32];
    pthread_t th;
    pthread_mutex_t lock;
    gw_buf text;
    int stop;
} client;

static size_t on_data(char *p, size_t sz, size_t n, void *u)
{
    client *c = u;
    pthread_mutex_lock(&c->lock);
    gw_buf_add(&c->text, p, sz * n);
    pthread_mutex_unlock(&c->lock);
    return sz * n;
}

static int on_progress(void *u, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y)
{
    client *c = u;
    return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

static void *client_main(void *arg)
{
    client *c = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hd = NULL;
    char lh[64];
    if (c->last_id[0]) {
        snprintf(lh, sizeof lh, "Last-Event-ID: %s", c->last_id);
        hd = curl_slist_append(hd, lh);
    }
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_perform(h);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

static client *sub_start(const char *query, const char *last_id)
{
    client *c = calloc(1, sizeof *c);
    snprintf(c->url, sizeof c->url, "%s/events%s", base, query ? query : "");
    snprintf(c->last_id, sizeof c->last_id, "%s", last_id ? last_id : "");
    pthread_mutex_init(&c->lock, NULL);
    pthread_create(&c->th, NULL, client_main, c);
    return c;
}

/* Wait up to ms for `needle` in the stream; 1 when seen. */
static int sub_wait(client *c, const char *needle, int ms)
{
    for (int i = 0; i <= ms / 5; i++) {
        pthread_mutex_lock(&c->lock);
        int hit = c->text.data && strstr(c->text.data, needle);
        pthread_mutex_unlock(&c->lock);
        if (hit) return 1;
        usleep(5000);
    }
    return 0;
}

static void sub_stop(client *c)
{
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    pthread_join(c->th, NULL);
    gw_buf_free(&c->text);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The ids ("id: N" lines) seen so far, in order, into ids[cap]; returns the count. */
static size_t sub_ids(client *c, int64_t *ids, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&c->lock);
    for (const char *p = c->text.data; p && (p = strstr(p, "id: ")) && n < cap; p += 4)
        if (p == c->text.data || p[-1] == '\n') ids[n++] = strtoll(p + 4, NULL, 10);
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* POST an incident; returns its change seq. */
static int64_t post_incident(const char *id)
{
    char body[512], url[256], hdr[128];
    snprintf(url, sizeof url, "%s/collections/incidents/items", base);
    snprintf(body, sizeof body, "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[115.48,35.24]},\"properties\":{\"category\":\"theft\"}}", id);
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", tok);
    gw_buf hb = {0}, bb = {0};
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, hdr);
    hd = curl_slist_append(hd, "Content-Type: application/geo+json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    client hc = {0}, bc = {0};
    pthread_mutex_init(&hc.lock, NULL), pthread_mutex_init(&bc.lock, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hc);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bc);
    curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    assert_int_equal(status, 201);
    const char *p = strcasestr(hc.text.data, "Gridwatch-Change-Seq: ");
    assert_non_null(p);
    int64_t seq = strtoll(p + 22, NULL, 10);
    gw_buf_free(&hc.text), gw_buf_free(&bc.text), gw_buf_free(&hb), gw_buf_free(&bb);
    pthread_mutex_destroy(&hc.lock), pthread_mutex_destroy(&bc.lock);
    return seq;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_path("events.sqlite"));
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(tctx, db_path, GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.005, .seed = 3};
    assert_int_equal(gw_city_generate(tctx, s, &co, NULL), GW_OK);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "disp", tok, NULL), GW_OK);
    assert_int_equal(gw_store_last_seq(s, &seq_before_server), GW_OK);
    gw_store_close(s);
    gw_app_opts ao = {.poll_ms = 50};
    assert_int_equal(gw_app_create(tctx, db_path, &ao, &app), GW_OK);
    gw_server_opts o = {.db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .threads = 2};
    gw_app_configure(app, &o);
    assert_int_equal(gw_server_create(tctx, &o, &srv), GW_OK);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)gw_server_port(srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    client *waiting = sub_start(NULL, NULL); /* the server must stop with a subscriber waiting */
    assert_true(sub_wait(waiting, "gridwatch events", 2000));
    gw_server_destroy(srv);
    sub_stop(waiting);
    gw_app_destroy(app);
    gw_ctx_destroy(tctx);
    curl_global_cleanup();
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void test_incident_reaches_subscriber(void **state)
{
    (void)state;
    client *c = sub_start(NULL, NULL);
    client *teams_only = sub_start("?types=team", NULL);
    assert_true(sub_wait(c, "gridwatch events", 2000));
    assert_true(sub_wait(teams_only, "gridwatch events", 2000));
    double t0 = now_s();
    int64_t seq = post_incident("EV1");
    char want[64];
    snprintf(want, sizeof want, "id: %lld\nevent: incident.created", (long long)seq);
    assert_true(sub_wait(c, want, 1000));
    double dt = now_s() - t0;
    print_message("incident POST to SSE receipt: %.1f ms\n", dt * 1000);
    assert_true(dt < 1.0);
    assert_true(sub_wait(c, "\"id\":\"EV1\"", 100));
    assert_false(sub_wait(teams_only, "incident.created", 200));
    sub_stop(c);
    sub_stop(teams_only);
}

static void test_resume_gets_exactly_the_missed(void **state)
{
    (void)state;
    client *c = sub_start(NULL, NULL);
    assert_true(sub_wait(c, "gridwatch events", 2000));
    int64_t s1 = post_incident("EV2");
    char want[32];
    snprintf(want, sizeof want, "id: %lld\n", (long long)s1);
    assert_true(sub_wait(c, want, 2000));
    sub_stop(c); /* disconnected: three incidents are missed */
    int64_t missed[3];
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "EV3_%d", i);
        missed[i] = post_incident(id);
    }
    char last[32];
    snprintf(last, sizeof last, "%lld", (long long)s1);
    c = sub_start(NULL, last);
    snprintf(want, sizeof want, "id: %lld\n", (long long)missed[2]);
    assert_true(sub_wait(c, want, 2000));
    usleep(300000);
    int64_t ids[16];
    size_t n = sub_ids(c, ids, 16);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(ids[i], missed[i]);
    sub_stop(c);
    /* from the table: every change since the city import, then the live ones, no duplicates */
    c = sub_start(NULL, "0");
    snprintf(want, sizeof want, "id: %lld\n", (long long)missed[2]);
    assert_true(sub_wait(c, want, 2000));
    usleep(200000);
    int64_t all[4096];
    n = sub_ids(c, all, 4096);
    assert_true(n >= 5);
    assert_int_equal(all[0], 1);
    assert_true(seq_before_server >= 1);
    for (size_t i = 1; i < n; i++) assert_true(all[i] > all[i - 1]);
    assert_int_equal(all[n - 1], missed[2]);
    sub_stop(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_reaches_subscriber),
        cmocka_unit_test(test_resume_gets_exactly_the_missed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
