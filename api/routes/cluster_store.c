/* cluster_store.c — the default cluster scan's result in the store's meta table (see
 * cluster_store.h): a binary image of gw_cluster_result (native byte order, checked by a magic
 * number), base64 in a TEXT value. */
#include "cluster_store.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_NAME "cluster_scan_key"
#define VAL_NAME "cluster_scan"
#define MAGIC UINT64_C(0x31534c4357470a01) /* format 1; reads back wrong on another byte order */

/* ---- the key ---------------------------------------------------------------------------------- */

static void make_key(const gw_model_snapshot *snap, int srid, size_t len, char *buf, size_t cap)
{
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    snprintf(buf, cap,
             "gridwatch %s; grids %" PRId64 "/%zu; incidents %" PRId64 "/%zu; srid %d; %zu",
             GW_VERSION, g ? gw_layer_data_seq(g) : -1, g ? gw_layer_data_count(g) : 0,
             inc ? gw_layer_data_seq(inc) : -1, inc ? gw_layer_data_count(inc) : 0, srid, len);
}

/* ---- the image -------------------------------------------------------------------------------- */

typedef struct img {
    uint8_t *p;
    size_t n, cap;
    int oom;
} img;

static void put(img *b, const void *v, size_t len)
{
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + len) nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = nc;
    }
    if (len) memcpy(b->p + b->n, v, len);
    b->n += len;
}

static void put_u64(img *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_i64(img *b, int64_t v) { put(b, &v, sizeof v); }
static void put_dbl(img *b, double v) { put(b, &v, sizeof v); }

static void image(img *b, const gw_cluster_result *r)
{
    const char *why = r->scale_reason ? r->scale_reason : "";
    put_u64(b, MAGIC);
    put_u64(b, r->n), put_u64(b, r->grid_count);
    put_i64(b, r->steps), put_i64(b, r->replications), put_i64(b, r->population);
    put_i64(b, r->metric_srid), put_i64(b, r->from), put_i64(b, r->to);
    put_dbl(b, r->cell), put_dbl(b, r->max_radius), put_dbl(b, r->bandwidth);
    put_dbl(b, r->incidents), put_dbl(b, r->seconds);
    put_u64(b, strlen(why)), put(b, why, strlen(why));
    size_t steps = r->steps > 0 ? (size_t)r->steps : 0;
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        put_i64(b, c->rank), put_i64(b, c->trend), put_i64(b, c->recent);
        const double d[] = {c->x,
                            c->y,
                            c->lon,
                            c->lat,
                            c->radius,
                            c->incidents,
                            c->expected,
                            c->rr,
                            c->llr,
                            c->p,
                            c->trend_z,
                            c->recent_p,
                            c->recent_incidents,
                            c->recent_expected};
        put(b, d, sizeof d);
        put_u64(b, c->series ? 1 : 0);
        if (c->series) put(b, c->series, steps * sizeof *c->series);
        put_u64(b, c->n_grids), put(b, c->grids, c->n_grids * sizeof *c->grids);
    }
    put(b, r->grid_clusters, r->grid_count * sizeof *r->grid_clusters);
    put(b, r->grid_max_rr, r->grid_count * sizeof *r->grid_max_rr);
}

typedef struct rd {
    const uint8_t *p;
    size_t n, at;
    int bad;
} rd;

static void get(rd *s, void *v, size_t len)
{
    if (s->bad || len > s->n - s->at) {
        s->bad = 1;
        memset(v, 0, len);
        return;
    }
    memcpy(v, s->p + s->at, len);
    s->at += len;
}

static uint64_t get_u64(rd *s)
{
    uint64_t v;
    get(s, &v, sizeof v);
    return v;
}

static int64_t get_i64(rd *s)
{
    int64_t v;
    get(s, &v, sizeof v);
    return v;
}

static double get_dbl(rd *s)
{
    double v;
    get(s, &v, sizeof v);
    return v;
}

/* scale_reason is static text in a scan's result: the texts read back live as long as the
 * process (few distinct ones: one per way the scale is chosen). */
static const char *keep_reason(const char *s, size_t len)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char *kept[8];
    const char *out = "";
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 8; i++) {
        if (kept[i] && strlen(kept[i]) == len && memcmp(kept[i], s, len) == 0) {
            out = kept[i];
            break;
        }
        if (!kept[i] && (kept[i] = malloc(len + 1))) {
            memcpy(kept[i], s, len), kept[i][len] = '\0';
            out = kept[i];
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return out;
}

/* The result of an image (NULL when it is malformed or memory runs out). */
static gw_cluster_result *unimage(const uint8_t *p, size_t n)
{
    rd s = {p, n, 0, 0};
    if (get_u64(&s) != MAGIC) return NULL;
    gw_cluster_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    uint64_t nc = get_u64(&s), ng = get_u64(&s);
    r->steps = (int)get_i64(&s), r->replications = (int)get_i64(&s);
    r->population = (int)get_i64(&s), r->metric_srid = (int)get_i64(&s);
    r->from = get_i64(&s), r->to = get_i64(&s);
    r->cell = get_dbl(&s), r->max_radius = get_dbl(&s), r->bandwidth = get_dbl(&s);
    r->incidents = get_dbl(&s), r->seconds = get_dbl(&s);
    uint64_t wl = get_u64(&s);
    if (s.bad || wl > n - s.at || nc > n || ng > n || r->steps < 0 || r->steps > 100000)
        return gw_cluster_result_destroy(r), NULL;
    r->scale_reason = keep_reason((const char *)p + s.at, (size_t)wl);
    s.at += (size_t)wl;
    size_t steps = (size_t)r->steps;
    r->c = calloc(nc ? nc : 1, sizeof *r->c);
    r->grid_clusters = malloc((ng ? ng : 1) * sizeof *r->grid_clusters);
    r->grid_max_rr = malloc((ng ? ng : 1) * sizeof *r->grid_max_rr);
    if (!r->c || !r->grid_clusters || !r->grid_max_rr) return gw_cluster_result_destroy(r), NULL;
    for (size_t i = 0; i < nc && !s.bad; i++) {
        gw_cluster *c = &r->c[i];
        r->n = i + 1;
        c->rank = (int)get_i64(&s), c->trend = (gw_cluster_trend)get_i64(&s);
        c->recent = (int)get_i64(&s);
        double d[14];
        get(&s, d, sizeof d);
        c->x = d[0], c->y = d[1], c->lon = d[2], c->lat = d[3], c->radius = d[4];
        c->incidents = d[5], c->expected = d[6], c->rr = d[7], c->llr = d[8], c->p = d[9];
        c->trend_z = d[10], c->recent_p = d[11], c->recent_incidents = d[12];
        c->recent_expected = d[13];
        if (get_u64(&s)) {
            if (!(c->series = malloc((steps ? steps : 1) * sizeof *c->series))) s.bad = 1;
            else get(&s, c->series, steps * sizeof *c->series);
        }
        uint64_t k = get_u64(&s);
        if (s.bad || k > n) break;
        c->n_grids = (size_t)k;
        if (!(c->grids = malloc((k ? k : 1) * sizeof *c->grids))) s.bad = 1;
        else get(&s, c->grids, c->n_grids * sizeof *c->grids);
    }
    r->grid_count = (size_t)ng;
    get(&s, r->grid_clusters, r->grid_count * sizeof *r->grid_clusters);
    get(&s, r->grid_max_rr, r->grid_count * sizeof *r->grid_max_rr);
    if (s.bad || s.at != n) return gw_cluster_result_destroy(r), NULL;
    return r;
}

/* ---- base64 ------------------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *enc64(const uint8_t *p, size_t n)
{
    char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *q++ = b64[v >> 18], *q++ = b64[(v >> 12) & 63];
        *q++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *q++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *q = '\0';
    return o;
}

/* Decoded bytes of s into a new buffer (*n its length), NULL when s is not base64. */
static uint8_t *dec64(const char *s, size_t len, size_t *n)
{
    int8_t val[256];
    memset(val, -1, sizeof val);
    for (int i = 0; i < 64; i++) val[(uint8_t)b64[i]] = (int8_t)i;
    if (len % 4) return NULL;
    uint8_t *o = malloc(len / 4 * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; o && i < len; i += 4) {
        int a = val[(uint8_t)s[i]], b = val[(uint8_t)s[i + 1]];
        int c = s[i + 2] == '=' ? 0 : val[(uint8_t)s[i + 2]];
        int d = s[i + 3] == '=' ? 0 : val[(uint8_t)s[i + 3]];
        if (a < 0 || b < 0 || c < 0 || d < 0) return free(o), NULL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        o[k++] = (uint8_t)(v >> 16);
        if (s[i + 2] != '=') o[k++] = (uint8_t)(v >> 8);
        if (s[i + 3] != '=') o[k++] = (uint8_t)v;
    }
    *n = k;
    return o;
}

/* ---- public ---------------------------------------------------------------------------------- */

/* cq_store_load's reads, inside the read transaction it opens. */
static gw_status load_locked(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                             gw_cluster_result **out)
{
    char have[512], want[512];
    if (gw_store_meta_get(store, KEY_NAME, have, sizeof have) != GW_OK)
        return gw_ctx_clear_error(gw_store_ctx(store)), GW_ERR_NOT_FOUND;
    size_t len = 0;
    const char *semi = strrchr(have, ';');
    if (!semi || sscanf(semi + 1, "%zu", &len) != 1 || len == 0 || len > ((size_t)1 << 31))
        return GW_ERR_NOT_FOUND;
    size_t elen = (len + 2) / 3 * 4;
    make_key(snap, srid, len, want, sizeof want);
    if (strcmp(have, want) != 0) return GW_ERR_NOT_FOUND; /* another version of the data */
    char *text = malloc(elen + 1);
    if (!text) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory reading the cluster scan");
    gw_status st = gw_store_meta_get(store, VAL_NAME, text, elen + 1);
    uint8_t *bin = NULL;
    size_t n = 0;
    if (!st && strlen(text) == elen) bin = dec64(text, elen, &n);
    free(text);
    if (st || !bin || n != len) {
        free(bin);
        gw_ctx_clear_error(gw_store_ctx(store));
        return GW_ERR_NOT_FOUND; /* malformed: scan (and keep the scan's) */
    }
    *out = unimage(bin, n);
    free(bin);
    return *out ? GW_OK : GW_ERR_NOT_FOUND;
}

gw_status cq_store_load(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        gw_cluster_result **out)
{
    *out = NULL;
    /* key and value from one snapshot: another process may replace both in between */
    if (gw_store_read_begin(store) != GW_OK)
        return gw_ctx_clear_error(gw_store_ctx(store)), GW_ERR_NOT_FOUND;
    gw_status st = load_locked(ctx, store, snap, srid, out);
    gw_store_read_end(store);
    return st;
}

gw_status cq_store_save(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        const gw_cluster_result *r)
{
    img b = {0};
    image(&b, r);
    char *text = b.oom ? NULL : enc64(b.p, b.n);
    char key[512];
    make_key(snap, srid, b.n, key, sizeof key);
    free(b.p);
    if (!text) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory keeping the cluster scan");
    gw_status st = gw_store_begin(store);
    if (!st) st = gw_store_meta_set(store, KEY_NAME, key);
    if (!st) st = gw_store_meta_set(store, VAL_NAME, text);
    if (!st) st = gw_store_commit(store);
    if (st) {
        gw_store_rollback(store);
        if (gw_store_ctx(store) != ctx)
            gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(gw_store_ctx(store)));
    }
    free(text);
    return st;
}
