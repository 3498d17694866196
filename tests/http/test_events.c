/* test_events.c — GET /events over real sockets with the full app: an incident POSTed through
 * /collections/incidents/items reaches a subscriber within a second; a reconnect with
 * Last-Event-ID gets exactly the missed events (from memory, and from the changelog table for
 * ids older than the server); team moves coalesced to one a second with the newest delivered;
 * type and bbox filters; 200 concurrent subscribers on one curl multi handle all get one POSTed
 * incident while an API request still answers; the server stops with 100 subscribers waiting. */
#include "testutil.h"

#include "app.h"
#include "auth.h"
#include "gridwatch/city.h"
#include "gridwatch/store.h"
#include "http_fixture.h"
#include "http_util.h"
#include "server.h"

#include <curl/curl.h>
#include <math.h>
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
static char tok[GW_TOKEN_LEN + 1];
static int64_t seq_before_server;
static char team_id[64];
static double team_lon, team_lat;

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
    snprintf(c->url, sizeof c->url, "%s/events%s", hf_base, query ? query : "");
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
    char body[512];
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[115.48,35.24]},\"properties\":{\"category\":\"theft\"}}",
             id);
    hf_resp r = hf_request("POST", "/collections/incidents/items", tok, body, strlen(body),
                           "application/geo+json", NULL);
    assert_int_equal(r.status, 201);
    const char *p = strcasestr(r.hdrs.data, "Gridwatch-Change-Seq: ");
    assert_non_null(p);
    int64_t seq = strtoll(p + 22, NULL, 10);
    hf_resp_free(&r);
    return seq;
}

/* A simple request (20 s at most); returns the HTTP status, the body into *out (may be NULL;
 * gw_buf_free it). */
static long http(const char *method, const char *path, const char *body, gw_buf *out)
{
    hf_resp r = hf_request(method, path, tok, body, body ? strlen(body) : 0, "application/json",
                           NULL);
    gw_buf_free(&r.hdrs);
    if (out) *out = r.body;
    else gw_buf_free(&r.body);
    return r.status;
}

/* Report one position of the test team; returns the change seq. */
static int64_t post_position(double lon, double lat, int64_t at)
{
    char body[256];
    snprintf(body, sizeof body, "[{\"id\":\"%s\",\"lon\":%.7f,\"lat\":%.7f,\"at\":%lld}]", team_id,
             lon, lat, (long long)at);
    gw_buf out = {0};
    assert_int_equal(http("POST", "/dispatch/positions", body, &out), 200);
    const char *p = strstr(out.data, "\"seq\":");
    assert_non_null(p);
    int64_t seq = strtoll(p + 6, NULL, 10);
    gw_buf_free(&out);
    assert_true(seq > 0);
    return seq;
}

/* ---- many subscribers on one curl multi handle, driven by one thread ------------------------ */

typedef struct fan {
    int n;
    CURLM *m;
    CURL **h;
    gw_buf *text;
    double *got; /* receipt time of `want`, 0 = not yet */
    int *started, *done;
    char want[64];
    pthread_t th;
    pthread_mutex_t lock;
    int stop;
} fan;

typedef struct fan_sub {
    fan *f;
    int i;
} fan_sub;

static double now_s(void);

static size_t fan_data(char *p, size_t sz, size_t nm, void *u)
{
    fan_sub *fs = u;
    fan *f = fs->f;
    pthread_mutex_lock(&f->lock);
    gw_buf *b = &f->text[fs->i];
    gw_buf_add(b, p, sz * nm);
    if (!f->started[fs->i] && strstr(b->data, "gridwatch events")) f->started[fs->i] = 1;
    if (f->want[0] && !f->got[fs->i] && strstr(b->data, f->want)) f->got[fs->i] = now_s();
    pthread_mutex_unlock(&f->lock);
    return sz * nm;
}

static void *fan_main(void *arg)
{
    fan *f = arg;
    int running = 1;
    while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE) && running) {
        curl_multi_perform(f->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(f->m, &left)))
            if (msg->msg == CURLMSG_DONE)
                for (int i = 0; i < f->n; i++)
                    if (f->h[i] == msg->easy_handle) {
                        pthread_mutex_lock(&f->lock);
                        f->done[i] = 1;
                        pthread_mutex_unlock(&f->lock);
                    }
        curl_multi_poll(f->m, NULL, 0, 20, NULL);
    }
    return NULL;
}

static fan *fan_start(int n)
{
    fan *f = calloc(1, sizeof *f);
    f->n = n;
    f->m = curl_multi_init();
    f->h = calloc((size_t)n, sizeof *f->h);
    f->text = calloc((size_t)n, sizeof *f->text);
    f->got = calloc((size_t)n, sizeof *f->got);
    f->started = calloc((size_t)n, sizeof *f->started);
    f->done = calloc((size_t)n, sizeof *f->done);
    fan_sub *fs = calloc((size_t)n, sizeof *fs);
    pthread_mutex_init(&f->lock, NULL);
    char url[256];
    snprintf(url, sizeof url, "%s/events?types=incident", hf_base);
    curl_multi_setopt(f->m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    for (int i = 0; i < n; i++) {
        fs[i] = (fan_sub){f, i};
        f->h[i] = curl_easy_init();
        curl_easy_setopt(f->h[i], CURLOPT_URL, url);
        curl_easy_setopt(f->h[i], CURLOPT_WRITEFUNCTION, fan_data);
        curl_easy_setopt(f->h[i], CURLOPT_WRITEDATA, &fs[i]);
        curl_easy_setopt(f->h[i], CURLOPT_PRIVATE, &fs[i]);
        curl_multi_add_handle(f->m, f->h[i]);
    }
    pthread_create(&f->th, NULL, fan_main, f);
    return f;
}

/* Count of subscribers with flag set in arr (started, got, done). */
static int fan_count(fan *f, const void *arr, int is_double)
{
    int c = 0;
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < f->n; i++)
        c += is_double ? ((const double *)arr)[i] > 0 : ((const int *)arr)[i] != 0;
    pthread_mutex_unlock(&f->lock);
    return c;
}

/* Wait up to ms until `count` of arr reach n; returns the count reached. */
static int fan_wait(fan *f, const void *arr, int is_double, int ms)
{
    int c = 0;
    for (int i = 0; i <= ms / 10 && (c = fan_count(f, arr, is_double)) < f->n; i++) usleep(10000);
    return c;
}

static void fan_stop(fan *f)
{
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    pthread_join(f->th, NULL);
    fan_sub *fs = NULL;
    for (int i = 0; i < f->n; i++) {
        if (!fs) curl_easy_getinfo(f->h[i], CURLINFO_PRIVATE, (char **)&fs);
        curl_multi_remove_handle(f->m, f->h[i]);
        curl_easy_cleanup(f->h[i]);
        gw_buf_free(&f->text[i]);
    }
    curl_multi_cleanup(f->m);
    pthread_mutex_destroy(&f->lock);
    free(fs);
    free(f->h), free(f->text), free(f->got), free(f->started), free(f->done);
    free(f);
}

static int setup(void **state)
{
    (void)state;
    tctx = gw_test_ctx();
    snprintf(db_path, sizeof db_path, "%s", gw_test_db("events.sqlite"));
    gw_store *s = hf_city(tctx, db_path, 0.005, 3);
    assert_int_equal(gw_auth_token_create(s, GW_ROLE_DISPATCHER, "disp", NULL, tok, NULL), GW_OK);
    assert_int_equal(gw_store_last_seq(s, &seq_before_server), GW_OK);
    /* the first team (in id order) and its position, through the store on either engine */
    gw_cursor *cur = NULL;
    gw_row row;
    assert_int_equal(gw_store_cursor_create(s, GW_LAYER_TEAMS, &cur), GW_OK);
    assert_int_equal(gw_cursor_next(cur, &row), GW_OK);
    assert_true(row.wkb && row.wkb_len >= 21 && row.wkb[0] == 1);
    snprintf(team_id, sizeof team_id, "%s", row.values[0].s);
    memcpy(&team_lon, row.wkb + 5, 8), memcpy(&team_lat, row.wkb + 13, 8);
    gw_cursor_destroy(cur);
    gw_store_close(s);
    gw_app_opts ao = {.poll_ms = 50};
    gw_server_opts o = {
        .db_path = db_path, .port = 0, .anonymous_read = 1, .quiet = 1, .threads = 2};
    assert_int_equal(hf_app_start(tctx, &ao, &o, &app, &srv), GW_OK);
    hf_timeout_s = 20;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* the server must stop with subscribers waiting, and end every stream */
    client *waiting = sub_start(NULL, NULL);
    fan *f = fan_start(100);
    assert_true(sub_wait(waiting, "gridwatch events", 2000));
    assert_int_equal(fan_wait(f, f->started, 0, 10000), 100);
    double t0 = now_s();
    gw_server_destroy(srv);
    double dt = now_s() - t0;
    print_message("server stop with 101 subscribers: %.0f ms\n", dt * 1000);
    assert_int_equal(fan_wait(f, f->done, 0, 5000), 100);
    fan_stop(f);
    sub_stop(waiting);
    hf_app_stop(app, NULL); /* the server is already gone */
    gw_ctx_destroy(tctx);
    return 0;
}

static double now_s(void)
{
    /* (declared above for the fan helpers) */
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

/* Defect 10 of issue 15: a Last-Event-ID beyond the newest event (another or a restored
 * database) waited for a seq that never came, and the subscriber received nothing.  It now
 * starts from now. */
static void test_last_event_id_beyond_newest_starts_now(void **state)
{
    (void)state;
    client *c = sub_start(NULL, "9000000000");
    assert_true(sub_wait(c, "gridwatch events", 2000));
    int64_t seq = post_incident("EVFAR");
    char want[64];
    snprintf(want, sizeof want, "id: %lld\nevent: incident.created", (long long)seq);
    assert_true(sub_wait(c, want, 2000));
    sub_stop(c);
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

/* Thirty positions of one team within about half a second: the subscriber gets at most one
 * move of it a second, and the last one it gets is the newest. */
static void test_moves_coalesced_newest_arrives(void **state)
{
    (void)state;
    client *c = sub_start("?types=team.moved", NULL);
    assert_true(sub_wait(c, "gridwatch events", 2000));
    int64_t at = (int64_t)time(NULL) + 100, last = 0, first = 0;
    double t0 = now_s();
    for (int i = 0; i < 30; i++) {
        last = post_position(team_lon + 0.0001 * i, team_lat, at + i);
        if (!first) first = last;
        usleep(15000);
    }
    double posted = now_s() - t0;
    char want[64];
    snprintf(want, sizeof want, "id: %lld\n", (long long)last);
    assert_true(sub_wait(c, want, 3000));
    double span = now_s() - t0;
    usleep(1200000); /* nothing else may follow */
    int64_t ids[64];
    size_t n = sub_ids(c, ids, 64);
    print_message(
        "30 moves posted in %.0f ms: %zu team.moved events in %.0f ms (first id %lld, last %lld)\n",
        posted * 1000, n, span * 1000, (long long)ids[0], (long long)ids[n ? n - 1 : 0]);
    assert_true(n >= 1);
    assert_true((double)n <= span + 1.0); /* at most one a second (the first goes out at once) */
    assert_int_equal(ids[n - 1], last);
    assert_int_equal(ids[0], first);
    sub_stop(c);
}

/* The event's data line for change `seq` (its "data: " text up to the line end) into buf. */
static int sub_data(client *c, int64_t seq, char *buf, size_t cap)
{
    char want[64];
    snprintf(want, sizeof want, "id: %lld\n", (long long)seq);
    int ok = 0;
    pthread_mutex_lock(&c->lock);
    const char *p = c->text.data ? strstr(c->text.data, want) : NULL;
    if (p && (p = strstr(p, "data: "))) {
        size_t n = strcspn(p + 6, "\n");
        snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p + 6);
        ok = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* A team's event says where the team now is and its status, so a wall draws it without asking:
 * the position is the one just reported, not the middle of the move's bbox. */
static void test_move_event_carries_position(void **state)
{
    (void)state;
    client *c = sub_start("?types=team.moved", NULL);
    assert_true(sub_wait(c, "gridwatch events", 2000));
    double lon = team_lon + 0.0123457, lat = team_lat - 0.0065432;
    int64_t seq = post_position(lon, lat, (int64_t)time(NULL) + 200);
    char want[64], data[1024];
    snprintf(want, sizeof want, "id: %lld\n", (long long)seq);
    assert_true(sub_wait(c, want, 3000));
    usleep(20000);
    assert_true(sub_data(c, seq, data, sizeof data));
    const char *pl = strstr(data, "\"lon\":"), *pt = strstr(data, "\"lat\":"),
               *ps = strstr(data, "\"status\":\"");
    assert_non_null(pl), assert_non_null(pt), assert_non_null(ps);
    assert_true(fabs(strtod(pl + 6, NULL) - lon) < 2e-7);
    assert_true(fabs(strtod(pt + 6, NULL) - lat) < 2e-7);
    assert_true(strncmp(ps + 10, "available\"", 10) == 0 || strncmp(ps + 10, "busy\"", 5) == 0 ||
                strncmp(ps + 10, "offline\"", 8) == 0);
    /* the bbox spans the old and the new place; the position is the new one, not its middle */
    assert_non_null(strstr(data, "\"bbox\":["));
    sub_stop(c);
    team_lon = lon, team_lat = lat;

    client *inc = sub_start("?types=incident", NULL);
    assert_true(sub_wait(inc, "gridwatch events", 2000));
    int64_t iseq = post_incident("EVPOS1");
    snprintf(want, sizeof want, "id: %lld\n", (long long)iseq);
    assert_true(sub_wait(inc, want, 3000));
    usleep(20000);
    assert_true(sub_data(inc, iseq, data, sizeof data));
    assert_null(strstr(data, "\"status\""));
    sub_stop(inc);
}

/* types: a type or its prefix; bbox: events whose bbox misses it are left out. */
static void test_type_and_bbox_filters(void **state)
{
    (void)state;
    client *all = sub_start("?types=incident", NULL);
    client *exact = sub_start("?types=team.moved,incident.created", NULL);
    client *other = sub_start("?types=incident.deleted", NULL);
    client *near = sub_start("?bbox=115.4,35.2,115.5,35.3", NULL);
    client *far = sub_start("?bbox=100,20,101,21", NULL);
    client *bad = sub_start("?bbox=1,2,3", NULL);
    client *list[] = {all, exact, other, near, far};
    for (int i = 0; i < 5; i++) assert_true(sub_wait(list[i], "gridwatch events", 2000));
    int64_t seq = post_incident("EVF1");
    char want[64];
    snprintf(want, sizeof want, "id: %lld\n", (long long)seq);
    assert_true(sub_wait(all, want, 2000));
    assert_true(sub_wait(exact, want, 2000));
    assert_true(sub_wait(near, want, 2000));
    assert_false(sub_wait(other, "incident", 300));
    assert_false(sub_wait(far, "incident", 10));
    assert_true(sub_wait(bad, "bbox", 2000)); /* a 400 problem naming the parameter */
    /* a move far from the near box reaches the unfiltered-by-type far-box subscriber only if it
     * crosses its box: it does not */
    int64_t mseq = post_position(team_lon, team_lat + 0.001, (int64_t)time(NULL) + 250);
    snprintf(want, sizeof want, "id: %lld\n", (long long)mseq);
    assert_true(sub_wait(exact, want, 3000));
    assert_false(sub_wait(far, want, 10));
    assert_false(sub_wait(all, want, 10));
    for (int i = 0; i < 5; i++) sub_stop(list[i]);
    sub_stop(bad);
}

/* 200 subscribers on one curl multi handle: one incident POSTed once reaches all of them, and a
 * normal API request answers meanwhile (its latency is printed, not asserted). */
static void test_200_subscribers(void **state)
{
    (void)state;
    fan *f = fan_start(200);
    double t0 = now_s();
    assert_int_equal(fan_wait(f, f->started, 0, 20000), 200);
    print_message("200 subscribers connected in %.0f ms\n", (now_s() - t0) * 1000);
    pthread_mutex_lock(&f->lock);
    snprintf(f->want, sizeof f->want, "\"id\":\"EV200\"");
    pthread_mutex_unlock(&f->lock);
    t0 = now_s();
    post_incident("EV200");
    assert_int_equal(fan_wait(f, f->got, 1, 10000), 200);
    double worst = 0;
    for (int i = 0; i < 200; i++)
        if (f->got[i] - t0 > worst) worst = f->got[i] - t0;
    char path[128];
    snprintf(path, sizeof path, "/dispatch/nearest?lon=%.6f&lat=%.6f&k=5", team_lon, team_lat);
    double q0 = now_s();
    assert_int_equal(http("GET", path, NULL, NULL), 200);
    double q = now_s() - q0;
    q0 = now_s();
    assert_int_equal(http("GET", "/collections/teams/items?limit=10", NULL, NULL), 200);
    print_message(
        "200 subscribers: incident POST to the last receipt %.0f ms; with them connected, "
        "GET /dispatch/nearest answered in %.1f ms, /collections/teams/items in %.1f ms\n",
        worst * 1000, q * 1000, (now_s() - q0) * 1000);
    fan_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_reaches_subscriber),
        cmocka_unit_test(test_resume_gets_exactly_the_missed),
        cmocka_unit_test(test_last_event_id_beyond_newest_starts_now),
        cmocka_unit_test(test_moves_coalesced_newest_arrives),
        cmocka_unit_test(test_move_event_carries_position),
        cmocka_unit_test(test_type_and_bbox_filters),
        cmocka_unit_test(test_200_subscribers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
