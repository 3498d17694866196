/* bench_positions.c — the driver of bench_positions.sh (issue 19 item 5a): team positions
 * written in batches by several connections at once, to gridwatch over HTTP or to PostGIS
 * directly, with the same batches (distinct random teams per batch, sorted by id, random moves
 * of ~100 m), so the two figures can be set side by side in one run.
 *
 * Usage:
 *   bench_positions http DB URL TOKEN [seconds=10] [batch=100] [connections=4]
 *       POST /dispatch/positions, one thread and one keep-alive connection per connection
 *   bench_positions pg DB CONNINFO TABLE [seconds=10] [batch=100] [connections=4]
 *       one UPDATE … FROM (VALUES …) per batch on TABLE (id, geom 4326, updated_at timestamptz)
 *       through libpq, one connection per thread (autocommit: one transaction per batch)
 * DB is the gridwatch database the team ids and starting points are read from.  Each prints
 * positions/s, the batches' p50/p95 latency, and RESULT lines for the script. */
#include "gridwatch/layer.h"
#include "gridwatch/store.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_sz(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* The teams: ids in id order (so sorted row numbers give batches sorted by id) and points. */
static size_t n_teams;
static char **ids;
static double *lon0, *lat0;

static int load_teams(const char *path)
{
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    gw_cursor *cur = NULL;
    if (gw_ctx_create(&ctx) || gw_store_open(ctx, path, GW_STORE_READONLY, &s) ||
        gw_store_cursor_create(s, GW_LAYER_TEAMS, &cur)) {
        fprintf(stderr, "bench_positions: %s: %s\n", path, ctx ? gw_ctx_errmsg(ctx) : "");
        return 1;
    }
    size_t cap = 0;
    gw_row row;
    while (gw_cursor_next(cur, &row) == GW_OK) {
        if (!row.wkb || row.wkb_len < 21 || row.values[0].kind != GW_VAL_TEXT) continue;
        if (n_teams == cap) {
            cap = cap ? cap * 2 : 4096;
            ids = realloc(ids, cap * sizeof *ids);
            lon0 = realloc(lon0, cap * sizeof *lon0), lat0 = realloc(lat0, cap * sizeof *lat0);
        }
        ids[n_teams] = strdup(row.values[0].s);
        memcpy(&lon0[n_teams], row.wkb + 5, 8), memcpy(&lat0[n_teams], row.wkb + 13, 8);
        n_teams++;
    }
    gw_cursor_destroy(cur);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    if (n_teams < 2) {
        fprintf(stderr, "bench_positions: %s has no teams\n", path);
        return 1;
    }
    return 0;
}

typedef struct worker {
    pthread_t th;
    int idx;
    const char *target, *token, *table; /* URL or conninfo */
    int pg, batch;
    double secs;
    uint64_t rng;
    double *lat; /* seconds per batch */
    size_t n, cap, sent, applied;
    int failed;
} worker;

static double urand(worker *w)
{
    w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
    return (double)(w->rng >> 11) / 9007199254740992.0;
}

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static size_t sbuf_add(const char *data, size_t sz, size_t nm, void *u)
{
    sbuf *b = u;
    size_t n = sz * nm;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->cap ? b->cap * 2 : 8192) + n;
        char *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np, b->cap = nc;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

/* `batch` distinct random teams in id order (a partial shuffle of a private permutation). */
static void pick(worker *w, size_t *perm, size_t *rows)
{
    for (int i = 0; i < w->batch; i++) {
        size_t j = (size_t)i + (size_t)(urand(w) * (double)(n_teams - (size_t)i));
        if (j >= n_teams) j = n_teams - 1;
        size_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
        rows[i] = perm[i];
    }
    qsort(rows, (size_t)w->batch, sizeof *rows, cmp_sz);
}

static void *run(void *arg)
{
    worker *w = arg;
    size_t *perm = malloc(n_teams * sizeof *perm), *rows = malloc((size_t)w->batch * sizeof *rows);
    for (size_t i = 0; i < n_teams; i++) perm[i] = i;
    CURL *h = NULL;
    struct curl_slist *hd = NULL;
    PGconn *pc = NULL;
    char url[512];
    if (w->pg) {
        pc = PQconnectdb(w->target);
        if (PQstatus(pc) != CONNECTION_OK) {
            fprintf(stderr, "bench_positions: %s\n", PQerrorMessage(pc));
            w->failed = 1;
        }
    } else {
        char auth[256];
        snprintf(url, sizeof url, "%s/dispatch/positions", w->target);
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", w->token);
        hd = curl_slist_append(curl_slist_append(NULL, auth), "Content-Type: application/json");
        h = curl_easy_init();
    }
    sbuf body = {0}, out = {0};
    double t0 = now();
    while (!w->failed && now() - t0 < w->secs) {
        /* a time no earlier than any run's before (same DB), within the server's skew window */
        long long at = (long long)time(NULL) + 200;
        pick(w, perm, rows);
        body.n = 0;
        if (w->pg) {
            /* lock the rows in id order first (one implicit transaction for both statements):
             * an UPDATE … FROM locks in its join's order, and concurrent batches deadlock */
            char head[200];
            int l = snprintf(head, sizeof head,
                             "SELECT count(*) FROM (SELECT 1 FROM %s WHERE id IN (", w->table);
            sbuf_add(head, 1, (size_t)l, &body);
            for (int i = 0; i < w->batch; i++) {
                sbuf_add(i ? ",'" : "'", 1, i ? 2 : 1, &body);
                sbuf_add(ids[rows[i]], 1, strlen(ids[rows[i]]), &body);
                sbuf_add("'", 1, 1, &body);
            }
            l = snprintf(head, sizeof head,
                         ") ORDER BY id FOR UPDATE) s; UPDATE %s t SET geom = "
                         "ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326), updated_at = "
                         "to_timestamp(v.at) FROM (VALUES ",
                         w->table);
            sbuf_add(head, 1, (size_t)l, &body);
        } else {
            sbuf_add("{\"positions\":[", 1, 14, &body);
        }
        for (int i = 0; i < w->batch; i++) {
            size_t r = rows[i];
            double lon = lon0[r] + (urand(w) - 0.5) * 0.002,
                   lat = lat0[r] + (urand(w) - 0.5) * 0.002;
            char one[200];
            int l = w->pg ? snprintf(one, sizeof one,
                                     "%s('%s',%.7f::float8,%.7f::float8,%lld::float8)",
                                     i ? "," : "", ids[r], lon, lat, at)
                          : snprintf(one, sizeof one,
                                     "%s{\"id\":\"%s\",\"lon\":%.7f,\"lat\":%.7f,\"at\":%lld}",
                                     i ? "," : "", ids[r], lon, lat, at);
            sbuf_add(one, 1, (size_t)l, &body);
        }
        static const char tail[] = ") AS v(id, lon, lat, at) WHERE t.id = v.id AND "
                                   "(t.updated_at IS NULL OR t.updated_at <= to_timestamp(v.at))";
        if (w->pg) sbuf_add(tail, 1, sizeof tail - 1, &body);
        else sbuf_add("]}", 1, 2, &body);
        double t = now();
        if (w->pg) {
            PGresult *r = PQexec(pc, body.p);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                fprintf(stderr, "bench_positions: %s\n", PQerrorMessage(pc));
                w->failed = 1;
            } else {
                w->applied += (size_t)atol(PQcmdTuples(r));
            }
            PQclear(r);
        } else {
            out.n = 0;
            curl_easy_setopt(h, CURLOPT_URL, url);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.p);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body.n);
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sbuf_add);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
            long code = 0;
            if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (code != 200) {
                fprintf(stderr, "bench_positions: POST: HTTP %ld %.300s\n", code,
                        out.p ? out.p : "");
                w->failed = 1;
            } else {
                const char *a = strstr(out.p, "\"applied\":");
                w->applied += a ? (size_t)atol(a + 10) : 0;
            }
        }
        if (w->failed) break;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        }
        w->lat[w->n++] = now() - t;
        w->sent += (size_t)w->batch;
    }
    free(body.p), free(out.p), free(perm), free(rows);
    if (h) curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    if (pc) PQfinish(pc);
    return NULL;
}

int main(int argc, char **argv)
{
    int pg = argc > 1 && strcmp(argv[1], "pg") == 0;
    if (argc < 5 || (!pg && strcmp(argv[1], "http") != 0)) {
        fprintf(stderr,
                "usage: bench_positions http DB URL TOKEN [seconds batch connections]\n"
                "       bench_positions pg DB CONNINFO TABLE [seconds batch connections]\n");
        return 2;
    }
    double secs = argc > 5 ? atof(argv[5]) : 10;
    int batch = argc > 6 ? atoi(argv[6]) : 100, nc = argc > 7 ? atoi(argv[7]) : 4;
    if (nc < 1) nc = 1;
    if (nc > 64) nc = 64;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (load_teams(argv[2])) return 1;
    if (batch < 1) batch = 1;
    if ((size_t)batch > n_teams) batch = (int)n_teams;
    worker *w = calloc((size_t)nc, sizeof *w);
    double t0 = now();
    for (int i = 0; i < nc; i++) {
        w[i] = (worker){.idx = i,
                        .target = argv[3],
                        .token = argv[4],
                        .table = argv[4],
                        .pg = pg,
                        .batch = batch,
                        .secs = secs,
                        .rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1) + (uint64_t)time(NULL)};
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    size_t sent = 0, applied = 0, nb = 0;
    int failed = 0;
    for (int i = 0; i < nc; i++) {
        pthread_join(w[i].th, NULL);
        sent += w[i].sent, applied += w[i].applied, nb += w[i].n, failed |= w[i].failed;
    }
    double wall = now() - t0;
    double *all = malloc((nb + 1) * sizeof *all);
    size_t m = 0;
    for (int i = 0; i < nc; i++) {
        memcpy(all + m, w[i].lat, w[i].n * sizeof *all);
        m += w[i].n;
        free(w[i].lat);
    }
    qsort(all, m, sizeof *all, cmp_d);
    const char *who = pg ? "pg" : "http";
    printf("%s positions: %zu sent, %zu applied in %.2f s = %.0f positions/s (%zu batches of %d, "
           "%d connections); batch p50 %.2f ms, p95 %.2f ms\n",
           who, sent, applied, wall, (double)sent / wall, m, batch, nc, pct(all, m, 0.5) * 1e3,
           pct(all, m, 0.95) * 1e3);
    printf("RESULT %s_positions_per_s %.0f\nRESULT %s_applied %zu\nRESULT %s_sent %zu\n"
           "RESULT %s_p50_ms %.2f\nRESULT %s_p95_ms %.2f\n",
           who, (double)sent / wall, who, applied, who, sent, who, pct(all, m, 0.5) * 1e3, who,
           pct(all, m, 0.95) * 1e3);
    free(all), free(w);
    for (size_t i = 0; i < n_teams; i++) free(ids[i]);
    free(ids), free(lon0), free(lat0);
    curl_global_cleanup();
    return failed;
}
