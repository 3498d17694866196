/* bench_dispatch.c — the dispatch engine's figures for bench_dispatch.sh (issue 7): position-update
 * throughput with readers running nearest queries meanwhile, nearest-k latency over random points,
 * bulk positions over HTTP, and SSE fan-out (POST to receipt) at many subscribers.
 *
 * Usage:
 *   bench_dispatch positions DB [batches=20] [batch=1000] [readers=1]
 *       engine: gw_dispatch_positions in batches (random moves of random teams); `readers`
 *       threads query nearest-5 in a loop meanwhile (their latency shows whether they wait)
 *   bench_dispatch nearest DB [points=100000] [k=5]
 *       engine: gw_dispatch_to_metric + gw_dispatch_nearest at random points in the teams' bbox
 *       (any status, stale included: the same question PostGIS KNN answers); prints the bbox
 *   bench_dispatch http-positions DB URL TOKEN [seconds=10] [batch=1000]
 *       POST /dispatch/positions batches back to back for `seconds`
 *   bench_dispatch sse URL TOKEN [subscribers=200] [rounds=5]
 *       subscribers on one curl multi handle; each round POSTs one incident and times every
 *       subscriber's receipt of it; median and p99 over all receipts */
#include "gridwatch/dispatch.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "gridwatch/store.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds of the calling thread: a figure that depends less on how busy the machine is. */
static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static int fail(gw_ctx *ctx, const char *what)
{
    fprintf(stderr, "bench_dispatch: %s: %s\n", what, ctx ? gw_ctx_errmsg(ctx) : "");
    return 1;
}

/* ---- the engine ---------------------------------------------------------------------------- */

typedef struct engine {
    gw_ctx *ctx;
    gw_store *store;
    gw_model *model;
    gw_dispatch *d;
    size_t n;
    char **ids;
    double *lon, *lat, minx, miny, maxx, maxy;
    int64_t t0;
} engine;

static int engine_open(engine *e, const char *path, int rw)
{
    memset(e, 0, sizeof *e);
    if (gw_ctx_create(&e->ctx) != GW_OK) return 1;
    if (gw_store_open(e->ctx, path, rw ? 0 : GW_STORE_READONLY, &e->store))
        return fail(e->ctx, path);
    if (gw_model_open(e->ctx, e->store, &e->model)) return fail(e->ctx, "model");
    if (gw_dispatch_create(e->ctx, e->model, NULL, &e->d)) return fail(e->ctx, "dispatch");
    gw_model_snapshot *s = gw_model_acquire(e->model);
    const gw_layer_data *T = gw_snapshot_layer(s, GW_LAYER_TEAMS);
    e->n = T ? gw_layer_data_count(T) : 0;
    e->ids = calloc(e->n + 1, sizeof *e->ids);
    e->lon = calloc(e->n + 1, sizeof *e->lon), e->lat = calloc(e->n + 1, sizeof *e->lat);
    const double *x = T ? gw_layer_data_x(T, GW_MODEL_LONLAT) : NULL,
                 *y = T ? gw_layer_data_y(T, GW_MODEL_LONLAT) : NULL;
    e->minx = e->miny = INFINITY, e->maxx = e->maxy = -INFINITY;
    const int64_t *up = T ? gw_layer_data_ints(T,
                                               gw_layer_field_index(GW_LAYER_TEAMS, "updated_at"))
                          : NULL;
    for (size_t r = 0; r < e->n; r++) {
        e->ids[r] = strdup(gw_layer_data_id(T, r));
        e->lon[r] = x[r], e->lat[r] = y[r];
        e->minx = fmin(e->minx, x[r]), e->maxx = fmax(e->maxx, x[r]);
        e->miny = fmin(e->miny, y[r]), e->maxy = fmax(e->maxy, y[r]);
        if (up && up[r] > e->t0) e->t0 = up[r];
    }
    if (e->t0 < (int64_t)time(NULL)) e->t0 = (int64_t)time(NULL);
    gw_model_release(e->ctx, s);
    if (!e->n) return fail(e->ctx, "the store has no teams");
    return 0;
}

static void engine_close(engine *e)
{
    for (size_t i = 0; i < e->n; i++) free(e->ids[i]);
    free(e->ids), free(e->lon), free(e->lat);
    gw_dispatch_destroy(e->d);
    gw_model_close(e->model);
    gw_store_close(e->store);
    gw_ctx_destroy(e->ctx);
}

typedef struct reader {
    engine *e;
    pthread_t th;
    int stop;
    double *lat_us;
    size_t n, cap;
    gw_ctx *ctx;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    uint64_t s = 0x1234567 + (uint64_t)(uintptr_t)r;
    gw_nearest_opts o = {.k = 5, .status_mask = ~0u, .include_stale = 1};
    gw_team_hit hits[5];
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double u = (double)(s >> 11) / 9007199254740992.0,
               v = (double)((s >> 3) & 0xffffff) / 16777216.0;
        double x = r->e->minx + u * (r->e->maxx - r->e->minx),
               y = r->e->miny + v * (r->e->maxy - r->e->miny);
        size_t n;
        double t = now();
        if (gw_dispatch_to_metric(r->ctx, r->e->d, x, y, &x, &y) ||
            gw_dispatch_nearest(r->ctx, r->e->d, x, y, &o, hits, &n, NULL))
            break;
        if (r->n < r->cap) r->lat_us[r->n++] = (now() - t) * 1e6;
        struct timespec pause = {0, 200000}; /* ~5,000 queries/s per reader, not a busy loop */
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static int cmd_positions(int argc, char **argv)
{
    engine e;
    if (argc < 3 || engine_open(&e, argv[2], 1)) return 1;
    int batches = argc > 3 ? atoi(argv[3]) : 20, batch = argc > 4 ? atoi(argv[4]) : 1000;
    int nr = argc > 5 ? atoi(argv[5]) : 1;
    gw_team_position *p = calloc((size_t)batch, sizeof *p);
    reader rd[8];
    if (nr > 8) nr = 8;
    for (int i = 0; i < nr; i++) {
        rd[i] = (reader){.e = &e, .cap = 4000000};
        rd[i].lat_us = malloc(rd[i].cap * sizeof(double));
        gw_ctx_create(&rd[i].ctx);
        pthread_create(&rd[i].th, NULL, reader_main, &rd[i]);
    }
    double *bt = malloc((size_t)batches * sizeof *bt);
    double t0 = now(), cpu0 = thread_cpu();
    size_t applied = 0;
    for (int b = 0; b < batches; b++) {
        int64_t at = e.t0 + 3600 +
                     ((int64_t)time(NULL) - e.t0 > 0 ? (int64_t)time(NULL) - e.t0 : 0);
        for (int i = 0; i < batch; i++) {
            size_t r = (size_t)(urand() * (double)e.n) % e.n;
            e.lon[r] += (urand() - 0.5) * 0.002, e.lat[r] += (urand() - 0.5) * 0.002;
            p[i] = (gw_team_position){e.ids[r], e.lon[r], e.lat[r], at};
        }
        uint8_t oc[65536];
        double t = now();
        if (gw_dispatch_positions(e.d, e.store, p, (size_t)batch, batch <= 65536 ? oc : NULL, NULL))
            return fail(e.ctx, "positions");
        bt[b] = now() - t;
        for (int i = 0; i < batch && batch <= 65536; i++) applied += oc[i] == GW_POS_APPLIED;
    }
    double wall = now() - t0, cpu = thread_cpu() - cpu0;
    size_t nq = 0;
    for (int i = 0; i < nr; i++) {
        __atomic_store_n(&rd[i].stop, 1, __ATOMIC_RELEASE);
        pthread_join(rd[i].th, NULL);
        nq += rd[i].n;
    }
    double *all = malloc((nq + 1) * sizeof *all);
    size_t m = 0;
    for (int i = 0; i < nr; i++) {
        memcpy(all + m, rd[i].lat_us, rd[i].n * sizeof *all);
        m += rd[i].n;
        free(rd[i].lat_us);
        gw_ctx_destroy(rd[i].ctx);
    }
    qsort(all, m, sizeof *all, cmp_d);
    qsort(bt, (size_t)batches, sizeof *bt, cmp_d);
    printf(
        "positions: %zu teams, %d batches x %d, %zu applied in %.3f s = %.0f updates/s "
        "(batch median %.1f ms); writer thread CPU %.1f us per update = %.0f updates per CPU-second\n",
        e.n, batches, batch, applied, wall, (double)batches * batch / wall,
        pct(bt, (size_t)batches, 0.5) * 1e3, cpu * 1e6 / ((double)batches * batch),
        (double)batches * batch / cpu);
    if (nr)
        printf(
            "readers during the writes: %d threads, %zu nearest-5 queries, p50 %.1f us, p99 %.1f us, "
            "max %.1f us\n",
            nr, m, pct(all, m, 0.5), pct(all, m, 0.99), m ? all[m - 1] : 0);
    printf(
        "RESULT positions_per_s %.0f\nRESULT positions_per_cpu_s %.0f\nRESULT reader_p99_us %.1f\n",
        (double)batches * batch / wall, (double)batches * batch / cpu, pct(all, m, 0.99));
    free(all), free(bt), free(p);
    engine_close(&e);
    return 0;
}

static int cmd_nearest(int argc, char **argv)
{
    engine e;
    if (argc < 3 || engine_open(&e, argv[2], 0)) return 1;
    size_t np = argc > 3 ? (size_t)atol(argv[3]) : 100000;
    size_t k = argc > 4 ? (size_t)atol(argv[4]) : 5;
    if (k > 256) k = 256;
    double *lat_us = malloc(np * sizeof *lat_us);
    gw_team_hit hits[256];
    gw_nearest_opts o = {.k = k, .status_mask = ~0u, .include_stale = 1};
    double sum = 0, t0 = now();
    for (size_t i = 0; i < np; i++) {
        double x = e.minx + urand() * (e.maxx - e.minx), y = e.miny + urand() * (e.maxy - e.miny);
        size_t n;
        double t = now();
        if (gw_dispatch_to_metric(e.ctx, e.d, x, y, &x, &y) ||
            gw_dispatch_nearest(e.ctx, e.d, x, y, &o, hits, &n, NULL) || n != k)
            return fail(e.ctx, "nearest");
        lat_us[i] = (now() - t) * 1e6;
        sum += lat_us[i];
    }
    double wall = now() - t0;
    qsort(lat_us, np, sizeof *lat_us, cmp_d);
    printf(
        "nearest-%zu (engine, one thread): %zu teams, %zu random points in [%.4f %.4f %.4f %.4f]: "
        "mean %.2f us, p50 %.2f us, p99 %.2f us (%.0f queries/s, projection included)\n",
        k, e.n, np, e.minx, e.miny, e.maxx, e.maxy, sum / (double)np, pct(lat_us, np, 0.5),
        pct(lat_us, np, 0.99), (double)np / wall);
    printf(
        "RESULT bbox %.6f %.6f %.6f %.6f\nRESULT nearest_mean_us %.3f\nRESULT nearest_p50_us %.3f\n"
        "RESULT nearest_p99_us %.3f\n",
        e.minx, e.miny, e.maxx, e.maxy, sum / (double)np, pct(lat_us, np, 0.5),
        pct(lat_us, np, 0.99));
    free(lat_us);
    engine_close(&e);
    return 0;
}

/* ---- over HTTP ----------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static size_t sbuf_add(char *data, size_t sz, size_t nm, void *u)
{
    sbuf *b = u;
    size_t n = sz * nm;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 4096) + n;
        char *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np, b->cap = nc;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

static long post(CURL *h, const char *url, const char *tok, const char *body, const char *ctype,
                 sbuf *out)
{
    char auth[256], ct[96];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, ct);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sbuf_add);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    long code = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    else fprintf(stderr, "bench_dispatch: %s: %s\n", url, curl_easy_strerror(rc));
    curl_slist_free_all(hd);
    return code;
}

static int cmd_http_positions(int argc, char **argv)
{
    engine e;
    if (argc < 5 || engine_open(&e, argv[2], 0)) return 1;
    double secs = argc > 5 ? atof(argv[5]) : 10;
    int batch = argc > 6 ? atoi(argv[6]) : 1000;
    char url[512];
    snprintf(url, sizeof url, "%s/dispatch/positions", argv[3]);
    CURL *h = curl_easy_init();
    sbuf body = {0}, out = {0};
    size_t sent = 0, applied = 0;
    double t0 = now();
    while (now() - t0 < secs) {
        /* later than anything stored, and than an earlier run's reports (same team, same DB) */
        int64_t at = e.t0 + 3600 +
                     ((int64_t)time(NULL) - e.t0 > 0 ? (int64_t)time(NULL) - e.t0 : 0);
        body.n = 0;
        sbuf_add("[", 1, 1, &body);
        for (int i = 0; i < batch; i++) {
            size_t r = (size_t)(urand() * (double)e.n) % e.n;
            e.lon[r] += (urand() - 0.5) * 0.002, e.lat[r] += (urand() - 0.5) * 0.002;
            char one[160];
            int l = snprintf(one, sizeof one,
                             "%s{\"id\":\"%s\",\"lon\":%.7f,\"lat\":%.7f,\"at\":%lld}",
                             i ? "," : "", e.ids[r], e.lon[r], e.lat[r], (long long)at);
            sbuf_add(one, 1, (size_t)l, &body);
        }
        sbuf_add("]", 1, 1, &body);
        out.n = 0;
        long code = post(h, url, argv[4], body.p, "application/json", &out);
        if (code != 200) {
            fprintf(stderr, "bench_dispatch: POST %s: HTTP %ld %.300s\n", url, code,
                    out.p ? out.p : "");
            return 1;
        }
        const char *a = strstr(out.p, "\"applied\":");
        applied += a ? (size_t)atol(a + 10) : 0;
        sent += (size_t)batch;
    }
    double wall = now() - t0;
    printf(
        "http positions: %zu sent, %zu applied in %.2f s = %.0f updates/s (batches of %d, one client)\n",
        sent, applied, wall, (double)sent / wall, batch);
    printf("RESULT http_positions_per_s %.0f\n", (double)sent / wall);
    free(body.p), free(out.p);
    curl_easy_cleanup(h);
    engine_close(&e);
    return 0;
}

/* ---- SSE fan-out --------------------------------------------------------------------------- */

typedef struct ssub {
    sbuf text;
    double got; /* receipt time of the awaited event, 0 = not yet */
    int started;
} ssub;

static const char *want_id; /* the "id":"..." text the round waits for */

static size_t ssub_data(char *data, size_t sz, size_t nm, void *u)
{
    ssub *s = u;
    size_t n = sbuf_add(data, sz, nm, &s->text);
    if (!s->started && strstr(s->text.p, "gridwatch events")) s->started = 1;
    if (want_id && !s->got && strstr(s->text.p, want_id)) s->got = now();
    if (s->text.n > 65536 && !want_id) s->text.n = 0, s->text.p[0] = 0;
    return n;
}

typedef struct poster {
    const char *url, *tok;
    char id[32];
    double t0;
    long code;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    char url[512], body[512];
    snprintf(url, sizeof url, "%s/collections/incidents/items", p->url);
    snprintf(body, sizeof body,
             "{\"type\":\"Feature\",\"id\":\"%s\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[115.48,35.24]},\"properties\":{\"category\":\"theft\"}}",
             p->id);
    CURL *h = curl_easy_init();
    sbuf out = {0};
    p->t0 = now();
    p->code = post(h, url, p->tok, body, "application/geo+json", &out);
    curl_easy_cleanup(h);
    free(out.p);
    return NULL;
}

static int cmd_sse(int argc, char **argv)
{
    if (argc < 4) return 2;
    int n = argc > 4 ? atoi(argv[4]) : 200, rounds = argc > 5 ? atoi(argv[5]) : 5;
    char url[512];
    snprintf(url, sizeof url, "%s/events?types=incident", argv[2]);
    CURLM *m = curl_multi_init();
    ssub *subs = calloc((size_t)n, sizeof *subs);
    CURL **hs = calloc((size_t)n, sizeof *hs);
    for (int i = 0; i < n; i++) {
        hs[i] = curl_easy_init();
        curl_easy_setopt(hs[i], CURLOPT_URL, url);
        curl_easy_setopt(hs[i], CURLOPT_WRITEFUNCTION, ssub_data);
        curl_easy_setopt(hs[i], CURLOPT_WRITEDATA, &subs[i]);
        curl_multi_add_handle(m, hs[i]);
    }
    int running = 0, started = 0;
    double t0 = now();
    while (started < n && now() - t0 < 30) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 50, NULL);
        started = 0;
        for (int i = 0; i < n; i++) started += subs[i].started;
    }
    printf("sse: %d of %d subscribers connected in %.2f s\n", started, n, now() - t0);
    double *lat = calloc((size_t)(n * rounds) + 1, sizeof *lat);
    size_t nl = 0;
    int missing = 0;
    char want[64];
    for (int r = 0; r < rounds; r++) {
        poster p = {.url = argv[2], .tok = argv[3]};
        snprintf(p.id, sizeof p.id, "SSEB%lld_%d", (long long)time(NULL), r);
        snprintf(want, sizeof want, "\"id\":\"%s\"", p.id);
        for (int i = 0; i < n; i++) subs[i].got = 0, subs[i].text.n = 0;
        want_id = want;
        pthread_t th;
        pthread_create(&th, NULL, poster_main, &p);
        double ts = now();
        int got = 0;
        while (got < n && now() - ts < 10) {
            curl_multi_perform(m, &running);
            curl_multi_poll(m, NULL, 0, 5, NULL);
            got = 0;
            for (int i = 0; i < n; i++) got += subs[i].got > 0;
        }
        pthread_join(th, NULL);
        if (p.code != 201) fprintf(stderr, "bench_dispatch: POST incident: HTTP %ld\n", p.code);
        for (int i = 0; i < n; i++) {
            if (subs[i].got > 0) lat[nl++] = (subs[i].got - p.t0) * 1e3;
            else missing++;
        }
        want_id = NULL;
    }
    qsort(lat, nl, sizeof *lat, cmp_d);
    printf(
        "sse fan-out: %d subscribers x %d incidents: POST to receipt median %.1f ms, p99 %.1f ms, max %.1f ms; "
        "%d receipts missing\n",
        n, rounds, pct(lat, nl, 0.5), pct(lat, nl, 0.99), nl ? lat[nl - 1] : 0, missing);
    printf("RESULT sse_p50_ms %.2f\nRESULT sse_p99_ms %.2f\nRESULT sse_missing %d\n",
           pct(lat, nl, 0.5), pct(lat, nl, 0.99), missing);
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(m, hs[i]);
        curl_easy_cleanup(hs[i]);
        free(subs[i].text.p);
    }
    curl_multi_cleanup(m);
    free(hs), free(subs), free(lat);
    return missing ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 2;
    if (strcmp(cmd, "positions") == 0) rc = cmd_positions(argc, argv);
    else if (strcmp(cmd, "nearest") == 0) rc = cmd_nearest(argc, argv);
    else if (strcmp(cmd, "http-positions") == 0) rc = cmd_http_positions(argc, argv);
    else if (strcmp(cmd, "sse") == 0) rc = cmd_sse(argc, argv);
    if (rc == 2)
        fprintf(
            stderr,
            "usage: bench_dispatch positions DB [batches batch readers] | nearest DB [points k] | "
            "http-positions DB URL TOKEN [seconds batch] | sse URL TOKEN [subscribers rounds]\n");
    curl_global_cleanup();
    return rc;
}
